#!/usr/bin/env bash
# What recording costs the traced program, on the scheduler benchmarks
# (2 workers, stealable mode), in one run:
#  - throughput: the benchmark's own median ns/op, recorded vs not
#    (ratio = recorded / plain);
#  - per event: the extra ns per op divided by the events recorded per op
#    (events, lost ones included, over the ops the benchmark reports).
# Needs root (BPF).  A benchmark, not a test: numbers, no verdicts.
#
#   bench/record_cost.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: bench/record_cost.sh BUILD_DIR}
ss=$build/bin/stallscope
sched=$build/bench/sched
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ "$(id -u)" != 0 ]; then
	echo "# record_cost: needs root (BPF), skipped"
	exit 0
fi

median_ns() { awk '!/^#/ && NF >= 3 { print $3; exit }'; }
echo "## recording cost (stallscope record vs not; 2 workers, stealable)"
echo "# ratio: recorded / plain ns per op (the benchmark's medians);"
echo "# ns/event: (recorded - plain ns/op) / (events the recording counted per op)"
printf '# %-18s %10s %10s %8s %10s %10s\n' benchmark plain_ns rec_ns ratio events/op ns/event
for b in spawn_many_local yield_many ping_pong chained_spawn short_handler; do
	args=(--workers 2 --mode stealable --filter "$b")
	plain=$("$sched" "${args[@]}" | median_ns)
	"$ss" record -o "$tmp/r.trace" -- "$sched" "${args[@]}" >"$tmp/out" 2>"$tmp/sum"
	rec=$(median_ns <"$tmp/out")
	ops=$(sed -n 's/^# total_ops //p' "$tmp/out")
	ev=$(sed -n 's/^stallscope: \([0-9]*\) events, \([0-9]*\) lost.*/\1 \2/p' "$tmp/sum")
	awk -v b="$b" -v p="$plain" -v r="$rec" -v ops="$ops" -v ev="$ev" '
		BEGIN { split(ev, e, " "); epo = (e[1] + e[2]) / ops
			printf "  %-18s %10.1f %10.1f %8.2f %10.2f %10.0f%s\n", b, p, r, r / p, epo,
				(r - p) / epo, (e[2] > 0 ? "  (" e[2] " lost)" : "") }'
done
