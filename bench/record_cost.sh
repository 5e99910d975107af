#!/usr/bin/env bash
# What recording costs the traced program, on the scheduler benchmarks
# (2 workers, stealable mode), plain and recorded alternately for ROUNDS
# rounds (default 3; the medians of the rounds):
#  - throughput: the benchmark's own median ns/op, recorded vs not
#    (ratio = recorded / plain);
#  - per event: the extra ns per op divided by the events recorded per op
#    (events, lost ones included, over the ops the benchmark reports).
# Needs root (BPF).  A benchmark, not a test: numbers, no verdicts.
#
#   bench/record_cost.sh BUILD_DIR [ROUNDS]
set -euo pipefail
build=${1:?usage: bench/record_cost.sh BUILD_DIR [ROUNDS]}
ss=$build/bin/stallscope
sched=$build/bench/sched
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ "$(id -u)" != 0 ]; then
	echo "# record_cost: needs root (BPF), skipped"
	exit 0
fi

rounds=${2:-${BENCH_ROUNDS:-3}}
# The benchmark's median ns/op and its parks per iteration.
median_ns() { awk '!/^#/ && NF >= 3 { print $3; exit }'; }
parks() { awk '!/^#/ && NF >= 6 { print $6; exit }'; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "## recording cost (stallscope record vs not; 2 workers, stealable; $rounds rounds, interleaved)"
echo "# ratio: recorded / plain ns per op (medians of the rounds of the benchmark's medians);"
echo "# ns/event: (recorded - plain ns/op) / (events the recording counted per op);"
echo "# parks: per iteration, plain and recorded (a benchmark that parks less while"
echo "# recorded runs faster than plain: its ns/event is then not a cost)"
printf '# %-18s %10s %10s %8s %10s %10s %11s\n' benchmark plain_ns rec_ns ratio events/op ns/event parks
for b in spawn_many_local yield_many ping_pong chained_spawn short_handler; do
	args=(--workers 2 --mode stealable --filter "$b")
	P= R= PP= RP= E=0 L=0 O=0
	for ((i = 0; i < rounds; i++)); do
		"$sched" "${args[@]}" >"$tmp/plain"
		P="$P $(median_ns <"$tmp/plain")" PP="$PP $(parks <"$tmp/plain")"
		"$ss" record -o "$tmp/r.trace" -- "$sched" "${args[@]}" >"$tmp/out" 2>"$tmp/sum"
		R="$R $(median_ns <"$tmp/out")" RP="$RP $(parks <"$tmp/out")"
		O=$((O + $(sed -n 's/^# total_ops //p' "$tmp/out")))
		read -r e l < <(sed -n 's/^stallscope: \([0-9]*\) events, \([0-9]*\) lost.*/\1 \2/p' "$tmp/sum")
		E=$((E + e)) L=$((L + l))
	done
	awk -v b="$b" -v p="$(echo $P | median)" -v r="$(echo $R | median)" -v ops="$O" \
		-v e="$E" -v l="$L" -v pp="$(echo $PP | median)" -v rp="$(echo $RP | median)" '
		BEGIN { epo = (e + l) / ops
			printf "  %-18s %10.1f %10.1f %8.2f %10.2f %10.0f %5.1f %5.1f%s\n", b, p, r, r / p, epo,
				(r - p) / epo, pp, rp, (l > 0 ? "  (" l " lost of " e + l ")" : "") }'
done
