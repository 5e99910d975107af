#!/usr/bin/env bash
# How long recording keeps the user waiting beyond the traced program, for
# one or more builds, interleaved round by round (so machine noise hits
# every build alike):
#  - record: wall time of `stallscope record -o T -- lifo-stall` minus the
#    wall time of the same build's lifo-stall run alone just before it
#    (attach + load before, drain + detach + unload after);
#  - after exit: from the target's exit (its last thread_exit record, put
#    on the realtime clock through the trace header's two start times) to
#    record returning;
#  - attach: from starting `stallscope record -p PID` (PID: the build's
#    http-stall --serve-only, started for the round) to its "recording
#    pid" line on stderr.
# Medians of ROUNDS (default 5), with every value.  Needs root (BPF).  A
# benchmark, not a test: numbers, no verdicts.
#
#   bench/record_latency.sh [-n ROUNDS] BUILD_DIR...
set -euo pipefail
rounds=5
if [ "${1:-}" = -n ]; then
	rounds=$2
	shift 2
fi
[ $# -ge 1 ] || { echo "usage: bench/record_latency.sh [-n ROUNDS] BUILD_DIR..." >&2; exit 2; }
tmp=$(mktemp -d)
srv=""
trap '[ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$tmp"' EXIT

if [ "$(id -u)" != 0 ]; then
	echo "# record_latency: needs root (BPF), skipped"
	exit 0
fi

now() { echo "${EPOCHREALTIME/./}"; }	# µs, no fork

for ((r = 1; r <= rounds; r++)); do
	for b in "$@"; do
		key=$(echo "$b" | tr '/' '_')
		t0=$(now)
		"$b/bin/lifo-stall" >/dev/null
		t1=$(now)
		"$b/bin/stallscope" record -o "$tmp/t.trace" -- "$b/bin/lifo-stall" >/dev/null 2>&1
		t2=$(now)
		echo "$(( (t2 - t1) - (t1 - t0) ))" >>"$tmp/$key.record"
		"$b/bin/stallscope" dump "$tmp/t.trace" >"$tmp/t.txt"
		start=$(sed -n 's/^# start: \([0-9]*\) ns, \(.*\)$/\1 \2/p' "$tmp/t.txt")
		start_real=$(date -d "${start#* }" +%s%N)
		exit_mono=$(awk '/ thread_exit / { t = $1 } END { print t }' "$tmp/t.txt")
		echo "$(( t2 - (start_real + exit_mono - ${start%% *}) / 1000 ))" >>"$tmp/$key.after"

		"$b/bin/http-stall" --serve-only --workers 2 >/dev/null 2>&1 &
		srv=$!
		sleep 0.3	# let it start its workers (not a measurement)
		t0=$(now)
		t1=$("$b/bin/stallscope" record -p "$srv" --duration 0.2 -o "$tmp/p.trace" 2>&1 >/dev/null |
			while IFS= read -r line; do
				case $line in *"recording pid"*) now ;; esac
			done)
		echo "$(( ${t1:-0} - t0 ))" >>"$tmp/$key.attach"
		kill "$srv"
		wait "$srv" 2>/dev/null || true
		srv=""
	done
done

med() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
all() { tr '\n' ' ' <"$1"; }
echo "## record latency ($rounds rounds, interleaved; medians, then every value)"
printf '# %-28s %14s %14s %14s\n' build record_extra_ms after_exit_ms attach_ms
for b in "$@"; do
	key=$(echo "$b" | tr '/' '_')
	printf '  %-28s %14.1f %14.1f %14.1f\n' "$b" "$(med "$tmp/$key.record" | awk '{ print $1 / 1000 }')" \
		"$(med "$tmp/$key.after" | awk '{ print $1 / 1000 }')" \
		"$(med "$tmp/$key.attach" | awk '{ print $1 / 1000 }')"
	echo "#   record extra µs: $(all "$tmp/$key.record")"
	echo "#   after exit µs:   $(all "$tmp/$key.after")"
	echo "#   attach µs:       $(all "$tmp/$key.attach")"
done
