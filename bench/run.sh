#!/usr/bin/env bash
# bench/run.sh BUILD_DIR [sched options...]
#
# Runs BUILD_DIR/bench/sched (probes compiled in, not attached) and
# BUILD_DIR/bench/sched-noprobes (probes compiled out), interleaved one
# benchmark x mode at a time — in alternating order, ABBA — so that drift on
# a noisy machine hits both alike.  The whole pass is repeated
# BENCH_ROUNDS times (default 5), each measurement a fresh process with a
# fresh runtime; a figure below is the median of its rounds' medians (with
# BENCH_ROUNDS=1, just the median that sched printed).  Then prints:
#   1. per benchmark x mode: ns/op with probes, without, and the ratio;
#   2. per benchmark: stealable/legacy ns/op ratio (the cost of the extra
#      wakeups), once from each binary (two estimates: their spread is a
#      feel for the noise);
#   3. if bench/baseline.txt exists, today's numbers next to it.
# Extra options go to both binaries (e.g. --runs 15, --workers 4, --quick).
# Timing differences never fail this script: it is a benchmark, not a test.
# It fails only if a binary is missing, crashes or hangs.  Bash + awk only.
set -euo pipefail

if [ $# -lt 1 ] || [ "${1#-}" != "$1" ]; then
	echo "usage: bench/run.sh BUILD_DIR [sched options, e.g. --runs 15]" >&2
	exit 2
fi
build=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
baseline=$here/baseline.txt
probes=$build/bench/sched
noprobes=$build/bench/sched-noprobes
for b in "$probes" "$noprobes"; do
	if [ ! -x "$b" ]; then
		echo "run.sh: $b is not built (make $b)" >&2
		exit 1
	fi
done

rounds=${BENCH_ROUNDS:-5}
case $rounds in
'' | *[!0-9]* | 0) echo "run.sh: BENCH_ROUNDS must be a positive number, got '$rounds'" >&2; exit 2 ;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The benchmark names (a --filter among the extra options narrows them).
"$probes" "$@" --list >"$tmp/names"
mapfile -t names <"$tmp/names"

# run WHICH BIN NAME MODE: appends NAME's row to $tmp/WHICH.rows and keeps
# the binary's config line.
run() {
	local which=$1 bin=$2 name=$3 mode=$4 rc=0
	shift 4
	"$bin" "$@" --filter "$name" --mode "$mode" >"$tmp/out" || rc=$?
	if [ "$rc" != 0 ]; then
		echo "run.sh: $bin $* --filter $name --mode $mode failed (exit $rc)" >&2
		exit 1
	fi
	grep -m1 '^# sched:' "$tmp/out" >"$tmp/$which.config" || true
	awk -v n="$name" -v m="$mode" '!/^#/ && $1 == n && $2 == m' \
		"$tmp/out" >>"$tmp/$which.rows"
}

: >"$tmp/p.rows"
: >"$tmp/n.rows"
i=0
for ((round = 1; round <= rounds; round++)); do
	for name in "${names[@]}"; do
		for mode in legacy stealable; do
			if [ $((i % 2)) = 0 ]; then
				run p "$probes" "$name" "$mode" "$@"
				run n "$noprobes" "$name" "$mode" "$@"
			else
				run n "$noprobes" "$name" "$mode" "$@"
				run p "$probes" "$name" "$mode" "$@"
			fi
			i=$((i + 1))
		done
	done
done

# "# sched: probes=compiled-in workers=2 runs=7 ..." -> "workers=2 runs=7 ..."
config="$(sed -e 's/^# sched: //' -e 's/probes=[^ ]* *//' "$tmp/p.config") rounds=$rounds"

echo "# wsrt scheduler benchmarks (bench/run.sh; sched vs sched-noprobes, interleaved)"
echo "# config: $config"
echo "# ns/op = median over each process's timed runs, then over the $rounds rounds."
echo "# probes = USDT probes compiled in but not attached; noprobes = compiled out"
echo "# (-DWSRT_NO_PROBES).  wakes/parks = futex wakes / sleeps per iteration"
echo "# (from sched).  Noisy machine: read the ratios with care (bench/README.md)."

# Table 1 and 2 from the two row files.  Row columns (sched.c):
#   benchmark mode median min wakes/iter parks/iter iters op
awk '
function ratio(a, b) { return (b > 0) ? sprintf("%.2f", a / b) : "-" }
function add(arr, key, v) { arr[key] = (key in arr) ? arr[key] " " v : v }
# The median of a space-separated list of numbers (mawk has no asort).
function med(list,   a, n, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) {
		t = a[i] + 0
		for (j = i - 1; j >= 1 && a[j] + 0 > t; j--)
			a[j + 1] = a[j]
		a[j + 1] = t
	}
	return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
FNR == 1 { file++ }
file == 1 { key = $1 " " $2; add(P, key, $3); add(W, key, $5); add(K, key, $6)
	    op[$1] = $8
	    if (!($1 in seen)) { seen[$1] = 1; order[nb++] = $1 } }
file == 2 { add(N, $1 " " $2, $3) }
END {
	for (key in P) { p[key] = med(P[key]); w[key] = med(W[key]); k[key] = med(K[key]) }
	for (key in N) n[key] = med(N[key])
	print ""
	print "## probes vs noprobes (ns/op; ratio = probes / noprobes)"
	printf "%-20s %-10s %10s %10s %7s %11s %11s  %s\n", "# benchmark", "mode",
	       "probes", "noprobes", "ratio", "wakes/iter", "parks/iter", "op"
	for (i = 0; i < nb; i++) {
		b = order[i]
		for (j = 0; j < 2; j++) {
			m = j ? "stealable" : "legacy"; key = b " " m
			if (!(key in p)) continue
			printf "%-20s %-10s %10.1f %10.1f %7s %11.1f %11.1f  %s\n", b, m,
			       p[key], n[key], ratio(p[key], n[key]), w[key], k[key], op[b]
		}
	}
	print ""
	print "## stealable vs legacy (ns/op from sched; ratio = stealable / legacy)"
	print "# ratio_np = the same ratio from sched-noprobes: a second estimate"
	printf "%-20s %10s %10s %7s %8s %12s %12s\n", "# benchmark", "legacy",
	       "stealable", "ratio", "ratio_np", "wakes_legacy", "wakes_steal"
	for (i = 0; i < nb; i++) {
		b = order[i]; l = b " legacy"; s = b " stealable"
		if (!(l in p) || !(s in p)) continue
		printf "%-20s %10.1f %10.1f %7s %8s %12.1f %12.1f\n", b, p[l], p[s],
		       ratio(p[s], p[l]), ratio(n[s], n[l]), w[l], w[s]
	}
}' "$tmp/p.rows" "$tmp/n.rows" | tee "$tmp/today"

[ -f "$baseline" ] || exit 0

# Table 3: against the committed baseline (its "probes vs noprobes" table).
base_config=$(sed -n 's/^# config: //p' "$baseline" | head -n1)
echo ""
echo "## vs baseline (bench/baseline.txt; ratio = today / baseline; never a failure)"
echo "# baseline: $(sed -n 's/^# date: //p' "$baseline" | head -n1)"
if [ "$base_config" != "$config" ]; then
	echo "# NOTE: baseline config '$base_config' differs from today's '$config':"
	echo "# the numbers are not comparable."
fi
awk '
function ratio(a, b) { return (b > 0) ? sprintf("%.2f", a / b) : "-" }
function num(x) { return (x == "") ? "-" : sprintf("%.1f", x) }
FNR == 1 { file++ }
/^## / { sec = $0; next }	# any other section (a later bench) ends these
/^#/ || NF < 4 { next }
sec ~ /^## probes vs noprobes/ {
	key = $1 " " $2
	if (file == 1) { bp[key] = $3; bn[key] = $4 }
	else { tp[key] = $3; tn[key] = $4; order[nk++] = key }
}
sec ~ /^## stealable vs legacy/ {
	if (file == 1) br[$1] = $4; else { tr[$1] = $4; border[nb++] = $1 }
}
END {
	printf "%-20s %-10s %10s %10s %6s %10s %10s %6s\n", "# benchmark", "mode",
	       "base_prb", "probes", "ratio", "base_np", "noprobes", "ratio"
	for (i = 0; i < nk; i++) {
		key = order[i]; split(key, f, " ")
		printf "%-20s %-10s %10s %10s %6s %10s %10s %6s\n", f[1], f[2],
		       num(bp[key]), num(tp[key]), ratio(tp[key], bp[key]),
		       num(bn[key]), num(tn[key]), ratio(tn[key], bn[key])
	}
	print ""
	printf "%-20s %18s %18s\n", "# benchmark", "base_steal/legacy", "steal/legacy"
	for (i = 0; i < nb; i++) {
		b = border[i]
		printf "%-20s %18s %18s\n", b, (b in br) ? br[b] : "-", tr[b]
	}
}' "$baseline" "$tmp/today"
