#!/usr/bin/env bash
# What analyzing a large trace costs: records the full scheduler benchmark
# (every shape, both LIFO modes, 2 workers: 65 million events in 358 MB on
# 2026-12-04, ring events packed; 13 million in 0.9 GB before the rings)
# once, then times `stallscope report --json` and `stallscope check` on it:
# wall time, events per second, and peak resident memory (the analyzer
# streams, so memory should not grow with the trace).  Peak RSS comes from
# GNU time (`/usr/bin/time -v`, Debian package `time`) when installed, else
# from VmHWM in /proc, sampled until the process exits.
# Needs root for the recording (BPF); with TRACE given, analyzes that
# existing trace instead and needs nothing.  A benchmark, not a test:
# numbers, no verdicts.  Not part of `make check`.
#
#   bench/analyze_bench.sh BUILD_DIR [TRACE]
set -euo pipefail
build=${1:?usage: bench/analyze_bench.sh BUILD_DIR [TRACE]}
trace=${2:-}
ss=$build/bin/stallscope
sched=$build/bench/sched
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ -z "$trace" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "# analyze_bench: recording needs root (BPF); give a TRACE to analyze one, skipped"
		exit 0
	fi
	trace=$tmp/sched.trace
	echo "# recording: stallscope record -- $sched --workers 2"
	"$ss" record -o "$trace" -- "$sched" --workers 2 >"$tmp/rec.out" 2>&1 ||
		{ echo "analyze_bench: record failed:" >&2; tail -5 "$tmp/rec.out" >&2; exit 1; }
	grep '^stallscope: ' "$tmp/rec.out" | tail -1 | sed 's/^/# /'
fi
bytes=$(stat -c %s "$trace")

# measure NAME CMD...: runs CMD (stdout to $tmp/NAME.out), prints
# "wall_s peak_kib" on stdout.  Exit status of CMD in $tmp/NAME.rc.
measure() {
	local name=$1 start end rc hwm=0 h pid
	shift
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f '%e %M' -o "$tmp/$name.time" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" && rc=0 || rc=$?
		echo $rc >"$tmp/$name.rc"
		tail -1 "$tmp/$name.time"
		return
	fi
	start=$(date +%s%N)
	"$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	pid=$!
	# VmHWM is the peak so far: the last value read before exit is a
	# lower bound, close to the peak for a streaming process.
	while kill -0 "$pid" 2>/dev/null; do
		h=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
		[ -n "$h" ] && hwm=$h
		sleep 0.01
	done
	wait "$pid" && rc=0 || rc=$?
	end=$(date +%s%N)
	echo $rc >"$tmp/$name.rc"
	awk -v ns=$((end - start)) -v k="$hwm" 'BEGIN { printf "%.2f %d\n", ns / 1e9, k }'
}

echo "## analyzer cost on one large trace"
printf '# trace: %s, %.1f MB\n' "$trace" "$(awk -v b="$bytes" 'BEGIN { print b / 1e6 }')"
[ -x /usr/bin/time ] && echo "# peak RSS: GNU time (max RSS)" ||
	echo "# peak RSS: VmHWM sampled every 10 ms (install 'time' for exact figures)"
printf '# %-14s %10s %10s %14s %12s %6s\n' command events wall_s events/s peak_MiB exit
for c in "report --json" "check"; do
	name=${c// /_}
	read -r wall kib < <(measure "$name" "$ss" $c "$trace")
	rc=$(cat "$tmp/$name.rc")
	# events as the analyzer counted them (report --json), else the file's
	events=$(sed -n 's/.*"events":\([0-9]*\).*/\1/p' "$tmp/report_--json.out" 2>/dev/null | head -1)
	[ -n "$events" ] || events=$(( (bytes - 64) / 64 ))
	awk -v c="$c" -v e="$events" -v w="$wall" -v k="$kib" -v rc="$rc" 'BEGIN {
		printf "  %-14s %10d %10.2f %14.0f %12.1f %6d\n", c, e, w, (w > 0 ? e / w : 0), k / 1024, rc }'
	if [ "$rc" -gt 1 ]; then
		echo "analyze_bench: stallscope $c failed (exit $rc):" >&2
		head -3 "$tmp/$name.err" >&2
		exit 1
	fi
done
detections=$({ grep -o '"kind":"[a-z_]*"' "$tmp/report_--json.out" || true; } | sed 's/.*:"\(.*\)"/\1/' | sort | uniq -c | awk '{ printf "%s%s %s", sep, $1, $2; sep = ", " }')
echo "# detections in the trace: ${detections:-none}"
# What watch does in its own thread for each event (the window, the
# analyzer as it feeds it), on the same trace's first 4 M events.
echo "## watch's own work an event (bench/watch_replay.c)"
"$build/bench/watch-replay" "$trace" 3
