#!/usr/bin/env bash
# bench/preload_cost.sh BUILD_DIR
#
# What the preload shim costs per call (bench/preload_cost.c: calls on
# paths that never block), in one run, four ways:
#   plain      no shim
#   shim       LD_PRELOAD of the shim, probes not attached
#   rec-k      stallscope record --no-preload: the kernel's futex/epoll
#              tracepoints attached, no shim (root only)
#   rec        stallscope record: the shim with its probes attached, and
#              the same tracepoints (root only)
# Then per call: shim - plain (the shim, unattached) and rec - rec-k (the
# shim's probes attached: a uprobe trap and a ring-buffer record per probe).
# The four are interleaved, BENCH_ROUNDS rounds (default 3); a figure is
# the median of the rounds' medians.  Wall-clock time on a shared VM moves
# by more than the unattached shim costs, so the shim's cost is also given
# in instructions per call (callgrind, if installed), which repeat exactly.
# A benchmark, not a test: numbers, no verdicts; it fails only if a binary
# is missing or fails.
set -euo pipefail
build=${1:?usage: bench/preload_cost.sh BUILD_DIR}
bin=$build/bench/preload-cost
so=$(cd "$build/lib" && pwd)/libstallscope-preload.so
ss=$build/bin/stallscope
rounds=${BENCH_ROUNDS:-3}
case $rounds in
'' | *[!0-9]* | 0) echo "preload_cost.sh: BENCH_ROUNDS must be a positive number, got '$rounds'" >&2; exit 2 ;;
esac
for f in "$bin" "$so"; do
	[ -e "$f" ] || { echo "preload_cost.sh: $f is not built" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=0
[ "$(id -u)" = 0 ] && [ -x "$ss" ] && root=1

: >"$tmp/plain"; : >"$tmp/shim"; : >"$tmp/reck"; : >"$tmp/rec"
for ((i = 1; i <= rounds; i++)); do
	"$bin" >>"$tmp/plain"
	LD_PRELOAD=$so "$bin" >>"$tmp/shim"
	if [ $root = 1 ]; then
		"$ss" record --no-preload -o "$tmp/k.trace" -- "$bin" >>"$tmp/reck" 2>"$tmp/err" ||
			{ cat "$tmp/err" >&2; exit 1; }
		"$ss" record -o "$tmp/r.trace" -- "$bin" >>"$tmp/rec" 2>"$tmp/err" ||
			{ cat "$tmp/err" >&2; exit 1; }
	fi
done

echo "## preload shim: ns per call, median of $rounds rounds ($(grep -m1 '^#' "$tmp/plain" | sed 's/^# preload-cost: //'))"
[ $root = 1 ] || echo "# not root: the recorded columns need BPF, left out"
awk -v root=$root '
	function median(key,    n, i, j, t, v) {
		n = split(vals[key], v, " ")
		for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
		return n ? v[int((n + 1) / 2)] : "nan"
	}
	FNR == 1 { file = FILENAME; sub(/.*\//, "", file) }
	/^#/ { next }
	{ if (!($1 in seen)) { seen[$1] = 1; order[++nops] = $1 } vals[file SUBSEP $1] = vals[file SUBSEP $1] " " $2 }
	END {
		if (root) printf "# %-20s %9s %9s %8s %9s %9s %9s\n", "call", "plain", "shim", "+shim", "rec-k", "rec", "+probes"
		else printf "# %-20s %9s %9s %8s\n", "call", "plain", "shim", "+shim"
		for (i = 1; i <= nops; i++) {
			op = order[i]; p = median("plain" SUBSEP op); s = median("shim" SUBSEP op)
			if (root) {
				k = median("reck" SUBSEP op); r = median("rec" SUBSEP op)
				printf "  %-20s %9.1f %9.1f %8.1f %9.1f %9.1f %9.1f\n", op, p, s, s - p, k, r, r - k
			} else
				printf "  %-20s %9.1f %9.1f %8.1f\n", op, p, s, s - p
		}
	}' "$tmp/plain" "$tmp/shim" "$tmp/reck" "$tmp/rec"

# Instructions per call: the difference between runs of N and 2N calls
# (warm-up + 1 run each), so startup cancels out.
if ! command -v valgrind >/dev/null; then
	echo "# instructions per call: valgrind not installed, skipped"
	exit 0
fi
. "$(dirname "$0")/../scripts/lib.sh"
n=2000
echo "## preload shim: instructions per call (callgrind; user space only)"
printf '# %-20s %9s %9s %8s\n' call plain shim +shim
"$bin" --list | while read -r op divide; do
	calls=$((2 * n / divide))
	p1=$(irefs "$bin" --filter "$op" --runs 1 --iters $n)
	p2=$(irefs "$bin" --filter "$op" --runs 1 --iters $((2 * n)))
	s1=$(LD_PRELOAD=$so irefs "$bin" --filter "$op" --runs 1 --iters $n)
	s2=$(LD_PRELOAD=$so irefs "$bin" --filter "$op" --runs 1 --iters $((2 * n)))
	awk -v op="$op" -v c=$calls -v p1="$p1" -v p2="$p2" -v s1="$s1" -v s2="$s2" 'BEGIN {
		p = (p2 - p1) / c; s = (s2 - s1) / c
		printf "  %-20s %9.1f %9.1f %8.1f\n", op, p, s, s - p }'
done
