#!/usr/bin/env bash
# stallscope export: Perfetto TrackEvent protobuf and Chrome JSON, as
# Perfetto imports them.
#
# Every exported trace is decoded by protoc against the schema subset
# (../shared/perfetto/perfetto_subset.proto, next to the repository) and
# checked by tests/tools/check_export.py, a model of trace_processor's
# importer and of the UI's track tree (no trace_processor can run here):
# no unknown (numbered) field; the sorter's order (time, then file
# order); incremental state, interning per sequence, MONOTONIC times;
# tracks declared before use, each with one name, and which descriptor
# fields Perfetto honours on which kind of track; per-track slice stacks
# with Perfetto's nesting and overlap rules; flows active only from their
# start to their end in sorted order; counters only on counter tracks;
# for JSON the same, with its time reading (llround(us * 1000)) and its
# sorter.  Anything Perfetto would drop, misplace or count as an import
# error fails.  The JSON of the same trace must hold the same events: per
# thread and lane, slices and instants by category and their begin times
# to the ns, counters, flows, stalls.  And the track tree the UI shows is
# checked name by name: stalls, workers by number, main, counters.
#
#  1. Hand-written event streams (mktrace) exercising what a recording
#     rarely shows at once: steals, displacement, overflow, inject batches,
#     a poll preempted, overlapping stalls on one worker, lost events on
#     two CPUs, a cancelled and a never-polled task, a poll whose end was
#     lost, a name that is not ASCII; workers renumbered; 9000 tasks,
#     which overflow the interning tables (the sequence must be cleared
#     and start over); 2, 4 and 16 workers; a notify applied after the
#     analyzer's reorder window; and random event streams, which must
#     export as validly.
#  2. Real recordings (root and BPF, as record.sh: never skipped):
#     lifo-stall legacy: a stuck_lifo slice of about the 200 ms block on
#     the stalled worker's stall track, the same as `report` says, and the
#     flow from task A's notify (inside A's poll) to task B's poll; a
#     kernel-only recording; and `stallscope demo all`'s exports.
#  3. Bad input and bad options: one line, exit 2, no output file left.
#
# Every run is bounded by timeout.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

ss=$BUILD/bin/stallscope
mktrace=$BUILD/tests/mktrace
repo=$(cd "$(dirname "$0")/../.." && pwd)
check="python3 $repo/tests/tools/check_export.py"
proto_dir=$repo/../shared/perfetto
slow=${TEST_SLOW:-1}
tmp=$(mktemp -d)
# The traces of failed checks are kept here (removed if none failed).
keep=$(mktemp -d /tmp/stallscope-export.XXXXXX)
trap 'rm -rf "$tmp"; rmdir "$keep" 2>/dev/null' EXIT

# kept TRACE: copies TRACE out of tmp; prints where it is now.
kept() {
	cp "$1" "$keep/" 2>/dev/null
	echo "(trace kept: $keep/$(basename "$1"))"
}

# decode PFTRACE: the protoc text next to it (PFTRACE.txt); false and the
# reason in PFTRACE.err if protoc fails.
decode() {
	protoc -I"$proto_dir" --decode=perfetto.protos.Trace perfetto_subset.proto \
		<"$1" >"$1.txt" 2>"$1.err"
}

# both NAME TRACE [ARGS...]: exports TRACE both ways, checks each file and
# that they agree; leaves TRACE.pf.sum (the protobuf's summary, JSON).
both() {
	local name=$1 trace=$2
	shift 2
	local pf=$trace.pf js=$trace.json out
	if ! out=$(timeout $((60 * slow)) "$ss" export "$trace" -o "$pf" "$@" 2>&1); then
		not_ok "${name}_exports" "$out $(kept "$trace")"
		return 1
	fi
	if ! decode "$pf"; then
		not_ok "${name}_protoc_decodes" "$(head -5 "$pf.err") $(kept "$trace")"
		return 1
	fi
	ok "${name}_protoc_decodes"
	if ! $check proto "$pf.txt" >"$pf.sum" 2>"$pf.why"; then
		not_ok "${name}_perfetto_semantics" "$(head -5 "$pf.why" | tr '\n' ';') $(kept "$trace")"
		return 1
	fi
	ok "${name}_perfetto_semantics"
	if ! out=$(timeout $((60 * slow)) "$ss" export "$trace" -o "$js" --format json "$@" 2>&1) ||
		! python3 -m json.tool "$js" >/dev/null 2>"$js.why"; then
		not_ok "${name}_json_parses" "$out $(head -3 "$js.why" 2>/dev/null) $(kept "$trace")"
		return 1
	fi
	ok "${name}_json_parses"
	if ! $check json "$js" >"$js.sum" 2>"$js.why" ||
		! $check compare "$pf.sum" "$js.sum" >/dev/null 2>"$js.why"; then
		not_ok "${name}_json_same_events" "$(head -5 "$js.why" | tr '\n' ';') $(kept "$trace")"
		return 1
	fi
	ok "${name}_json_same_events"
}

# q SUMMARY PYTHON-EXPR: the expression's value, with d the summary.
q() {
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1" 2>&1
}

if [ -r "$proto_dir/perfetto_subset.proto" ]; then
	ok export_schema_found
else
	not_ok export_schema_found "no $proto_dir/perfetto_subset.proto (the repository's parent must hold shared/)"
fi

# ---- 1. a hand-written stream ----
cat >"$tmp/mix.txt" <<'EOF'
meta pid 100
meta comm mix
meta workers 2
1000.000 comm tid=100 comm=mix
1000.100 comm tid=101 comm=wsrt-w0
1000.110 worker_start tid=101 worker=0 thread=101
1000.120 comm tid=102 comm=wsrt-w1\xff
1000.130 worker_start tid=102 worker=1 thread=102
# main spawns tasks 1 and 2 into the inject queue, wakes worker 0, sleeps
1000.200 spawn tid=100 task=1 parent=0 poll_fn=0x1000 state=0
1000.210 notify tid=100 task=1 waker=-1 dest=inject displaced=0
1000.220 inject_push tid=100 task=1 count=1 len=1
1000.230 spawn tid=100 task=2 parent=0 poll_fn=0x1000 state=0
1000.240 notify tid=100 task=2 waker=-1 dest=inject displaced=0
1000.250 inject_push tid=100 task=2 count=1 len=2
1000.260 wake_worker tid=100 waker=-1 target=0
1000.270 futex_enter tid=100 uaddr=0x2000 op=wait|private val=1 timeout_ns=-1
# worker 0 takes both: runs 1, queues 2
1000.300 inject_pop tid=101 worker=0 count=2 len=0
1000.310 poll_start tid=101 worker=0 task=1 src=inject
# task 1 wakes task 3 into the LIFO slot, then task 4 displaces it
1000.320 spawn tid=101 task=3 parent=1 poll_fn=0x1100 state=0
1000.330 notify tid=101 task=3 waker=0 dest=lifo displaced=0
1000.340 spawn tid=101 task=4 parent=1 poll_fn=0x1100 state=0
1000.350 notify tid=101 task=4 waker=0 dest=lifo displaced=3
# preempted in the middle of the poll
1000.400 sched_switch tid=101 prev=101 next=0 prev_state=R prev_target=1 next_target=0
1000.500 sched_switch tid=0 prev=0 next=101 prev_state=R prev_target=0 next_target=1
# worker 1 steals tasks 2 and 3 from worker 0, runs them, parks
1000.600 search_start tid=102 worker=1
1000.610 steal tid=102 thief=1 victim=0 count=2 lifo_task=0
1000.620 search_end tid=102 worker=1 found=1
1000.630 poll_start tid=102 worker=1 task=2 src=steal
1000.640 poll_end tid=102 worker=1 task=2 result=ready
1000.650 poll_start tid=102 worker=1 task=3 src=local
1000.660 poll_end tid=102 worker=1 task=3 result=ready
1000.670 search_start tid=102 worker=1
1000.680 search_end tid=102 worker=1 found=0
1000.690 park tid=102 worker=1 kind=futex
# task 1 queues task 5 locally and runs on for 100 ms: task 4 is stuck in
# the LIFO slot (stuck_lifo) while task 5 waits in the queue with worker 1
# parked (runnable_while_parked): two stalls on worker 0 at once
1000.700 spawn tid=101 task=5 parent=1 poll_fn=0x1200 state=0
1000.710 notify tid=101 task=5 waker=0 dest=local displaced=0
1050.000 lost tid=0 cpu=0 count=2
1060.000 lost tid=0 cpu=1 count=5
1100.310 poll_end tid=101 worker=0 task=1 result=ready
1100.320 poll_start tid=101 worker=0 task=4 src=lifo
# task 4's poll_end was lost: the next poll starts right away
1100.330 poll_start tid=101 worker=0 task=5 src=local
# task 5 wakes tasks 8 and 9 locally; the queue overflows into inject
1100.332 notify tid=101 task=8 waker=0 dest=local displaced=0
1100.334 notify tid=101 task=9 waker=0 dest=local displaced=0
1100.336 overflow tid=101 worker=0 count=2
1100.338 inject_push tid=101 task=0 count=2 len=2
1100.340 poll_end tid=101 worker=0 task=5 result=pending
# main: task 6 woken and cancelled before it ran; task 7 never polled
1100.400 futex_exit tid=100 ret=0
1100.410 spawn tid=100 task=6 parent=0 poll_fn=0x1000 state=0
1100.420 notify tid=100 task=6 waker=-1 dest=inject displaced=0
1100.430 task_cancel tid=100 task=6
1100.440 spawn tid=100 task=7 parent=0 poll_fn=0x1000 state=0
1100.450 notify tid=100 task=7 waker=-1 dest=inject displaced=0
1100.460 inject_push tid=100 task=7 count=1 len=3
1100.500 worker_stop tid=101 worker=0 thread=101
1100.510 worker_stop tid=102 worker=1 thread=102
EOF
if ! "$mktrace" "$tmp/mix.txt" "$tmp/mix.trace" >"$tmp/mk.out" 2>&1; then
	not_ok export_mix_made "$(cat "$tmp/mk.out")"
elif both export_mix "$tmp/mix.trace"; then
	s=$tmp/mix.trace.pf.sum
	v=$(q "$s" "d['per_worker']")
	# Worker 0: polls of tasks 1 (preempted: off-CPU inside), 4 and 5;
	# notifies of 3, 4, 5, 8, 9, the steal from it, and the two tasks
	# never polled.  Worker 1: search, polls of 2 and 3, search, park;
	# the steal.
	check_eq export_mix_slices_per_worker "$v" "{'0': {'instants': 8, 'slices': 4}, '1': {'instants': 1, 'slices': 5}}"
	# The preempted poll: an off-CPU slice nested in task 1's poll.
	v=$(q "$s" "d['events']['worker 0 (101)']")
	if grep -q "'slice:offcpu': 1" <<<"$v" && grep -q "'slice:poll': 3" <<<"$v"; then
		ok export_mix_offcpu_in_poll
	else
		not_ok export_mix_offcpu_in_poll "$v"
	fi
	v=$(q "$s" "sorted((f['from_track'], f['from'], f['to_track'], f['to']) for f in d['flows'])")
	want="[('main (100)', 'notify task 1 -> inject', 'worker 0 (101)', 'task 1'), \
('main (100)', 'notify task 2 -> inject', 'worker 1 (102)', 'task 2'), \
('main (100)', 'notify task 6 -> inject', 'main (100)', 'cancel task 6'), \
('main (100)', 'notify task 7 -> inject', 'main (100)', 'task 7 not polled by the end'), \
('worker 0 (101)', 'notify task 3 -> lifo', 'worker 1 (102)', 'task 3'), \
('worker 0 (101)', 'notify task 4 -> lifo', 'worker 0 (101)', 'task 4'), \
('worker 0 (101)', 'notify task 5 -> local', 'worker 0 (101)', 'task 5'), \
('worker 0 (101)', 'notify task 8 -> local', 'worker 0 (101)', 'task 8 not polled by the end'), \
('worker 0 (101)', 'notify task 9 -> local', 'worker 0 (101)', 'task 9 not polled by the end'), \
('worker 0 (101)', 'stolen by worker 1: 2 tasks', 'worker 1 (102)', 'steal 2 tasks from worker 0')]"
	check_eq export_mix_flows "$v" "$want"
	v=$(q "$s" "[(k, d['counters'].get(k)) for k in ('worker 0 local queue', 'worker 0 LIFO slot', 'worker 1 local queue', 'inject queue')]")
	want="[('worker 0 local queue', [0, 1, 2, 0, 1, 0, 1, 2, 0]), ('worker 0 LIFO slot', [0, 1, 0]), \
('worker 1 local queue', [0, 1, 0]), ('inject queue', [0, 1, 2, 0, 2, 3])]"
	check_eq export_mix_queue_counters "$v" "$want"
	v=$(q "$s" "d['counters'].get('idle workers')")
	# Worker 1 searches, finds, searches, parks, stops.
	check_eq export_mix_idle_counter "$v" "[0, 1, 0, 1, 0, 1, 0]"
	# Two stalls on worker 0 overlap: two lanes.
	v=$(q "$s" "sorted((x['track'], x['name'], round(x['dur_ms'])) for x in d['stalls'])")
	check_eq export_mix_overlapping_stalls_take_lanes "$v" "[('stalls: worker 0', 'stuck_lifo', 100), ('stalls: worker 0 #2', 'runnable_while_parked', 100)]"
	v=$(q "$s" "sorted((k, v) for k, v in d['events'].items() if k.startswith('lost'))")
	check_eq export_mix_lost_ranges "$v" "[('lost events', {'slice:lost': 1}), ('lost events #2', {'slice:lost': 1})]"
	if grep -q 'description: "runtime worker 1, thread wsrt-w1? (tid 102):' "$tmp/mix.trace.pf.txt"; then
		ok export_mix_names_sanitised
	else
		not_ok export_mix_names_sanitised "$(grep description "$tmp/mix.trace.pf.txt")"
	fi
	# The track tree the UI shows: stalls, workers, main, counters.
	want="mix (100)|  stalls|    stalls: worker 0|    stalls: worker 0 #2|    lost events|\
    lost events #2|  worker 0 (101)|  worker 1 (102)|  main (100)|  idle workers|\
  inject queue|  worker 0 LIFO slot|  worker 0 local queue|  worker 1 local queue"
	v=$(q "$s" "'|'.join(d['ui'])")
	check_eq export_mix_perfetto_ui_order "$v" "$want"
	want="mix 100|  stalls: worker 0, lane 3|  stalls: worker 0, lane 4|  lost events, lane 1|\
  lost events, lane 2|  worker 0 101|  worker 1 102|  main 100|  idle workers|  inject queue|\
  worker 0 LIFO slot|  worker 0 local queue|  worker 1 local queue"
	v=$(q "$tmp/mix.trace.json.sum" "'|'.join(d['ui'])")
	check_eq export_mix_json_ui_order "$v" "$want"
fi

# Workers found by name first (the kernel's view, names deliberately
# crossed), then the runtime's probes number them.  A declared track keeps
# its name in Perfetto: each worker number gets a track per thread it was,
# with nothing of the first view left open; in JSON a thread is one track,
# named after the last worker it was.
cat >"$tmp/swap.txt" <<'EOF'
meta pid 100
meta workers 2
1000.000 comm tid=100 comm=swap
1000.100 comm tid=102 comm=wsrt-w0
1000.110 futex_enter tid=102 uaddr=0x2000 op=wait|private val=1 timeout_ns=-1
1000.120 comm tid=101 comm=wsrt-w1
1000.130 futex_enter tid=101 uaddr=0x2000 op=wait|private val=1 timeout_ns=-1
1000.140 futex_exit tid=102 ret=0
1000.150 futex_exit tid=101 ret=0
1000.200 spawn tid=100 task=1 parent=0 poll_fn=0x1000 state=0
1000.210 notify tid=100 task=1 waker=-1 dest=inject displaced=0
1000.300 worker_start tid=102 worker=1 thread=102
1000.310 worker_start tid=101 worker=0 thread=101
1000.320 poll_start tid=102 worker=1 task=1 src=inject
1000.330 poll_end tid=102 worker=1 task=1 result=ready
1000.340 search_start tid=101 worker=0
1000.350 search_end tid=101 worker=0 found=0
EOF
if ! "$mktrace" "$tmp/swap.txt" "$tmp/swap.trace" >"$tmp/mk.out" 2>&1; then
	not_ok export_renumbered_made "$(cat "$tmp/mk.out")"
elif both export_renumbered "$tmp/swap.trace"; then
	v=$(q "$tmp/swap.trace.pf.sum" "'|'.join(d['ui'])")
	check_eq export_renumbered_a_track_per_worker_and_thread "$v" "target (100)|  worker 0 (102)|  worker 0 (101)|  worker 1 (101)|  worker 1 (102)|  main (100)|  idle workers"
	v=$(q "$tmp/swap.trace.json.sum" "'|'.join(d['ui'])")
	check_eq export_renumbered_json_a_thread_per_tid "$v" "target 100|  worker 0 101|  worker 1 102|  main 100|  idle workers"
fi

# A worker thread that parks before it is named or probed (a sanitizer's
# thread start-up handshake does): with the runtime's probes attached
# (flags runtime-probes) it is never taken for a worker by its parking, so
# no track of a worker it is not; without the flag it is, for a while.
early() {	# FLAGS
	cat <<EOF
meta pid 100
meta comm early
meta workers 2
meta flags $1
1000.000 comm tid=100 comm=early
1000.050 futex_enter tid=102 uaddr=0x2000 op=wait|private val=1 timeout_ns=-1
1000.060 futex_exit tid=102 ret=0
1000.100 comm tid=101 comm=wsrt-w0
1000.110 worker_start tid=101 worker=0 thread=101
1000.120 comm tid=102 comm=wsrt-w1
1000.130 worker_start tid=102 worker=1 thread=102
1000.200 spawn tid=100 task=1 parent=0 poll_fn=0x1000 state=0
1000.210 notify tid=100 task=1 waker=-1 dest=inject displaced=0
1000.320 poll_start tid=102 worker=1 task=1 src=inject
1000.330 poll_end tid=102 worker=1 task=1 result=ready
1000.340 search_start tid=101 worker=0
1000.350 search_end tid=101 worker=0 found=0
EOF
}
for f in runtime-probes none; do
	early $f >"$tmp/early-$f.txt"
	if ! "$mktrace" "$tmp/early-$f.txt" "$tmp/early-$f.trace" >"$tmp/mk.out" 2>&1; then
		not_ok "export_early_park_${f}_made" "$(cat "$tmp/mk.out")"
		continue
	fi
	both "export_early_park_$f" "$tmp/early-$f.trace" || continue
	v=$(q "$tmp/early-$f.trace.pf.sum" "'|'.join(d['ui'])")
	if [ $f = none ]; then
		want="early (100)|  worker 0 (102)|  worker 0 (101)|  worker 1 (102)|  main (100)|  idle workers"
	else
		want="early (100)|  worker 0 (101)|  worker 1 (102)|  main (100)|  idle workers"
	fi
	check_eq "export_early_park_${f}_tracks" "$v" "$want"
done

# A trace recorded --no-readiness: the target's description says that
# no idle_but_parked can be found in it (one without the flag does not).
early "runtime-probes no-readiness" >"$tmp/noready.txt"
if ! "$mktrace" "$tmp/noready.txt" "$tmp/noready.trace" >"$tmp/mk.out" 2>&1 ||
	! "$ss" export "$tmp/noready.trace" -o "$tmp/noready.pf" >"$tmp/mk.out" 2>&1 ||
	! decode "$tmp/noready.pf"; then
	not_ok export_no_readiness_said "$(cat "$tmp/mk.out" "$tmp/noready.pf.err" 2>/dev/null)"
elif grep -q 'description: "the traced process, pid 100, readiness not recorded (--no-readiness: no idle_but_parked stall can be found in this trace)' "$tmp/noready.pf.txt" &&
	! grep -q 'readiness not recorded' "$tmp/early-runtime-probes.trace.pf.txt"; then
	ok export_no_readiness_said
else
	not_ok export_no_readiness_said "$(grep 'description: "the traced' "$tmp/noready.pf.txt" "$tmp/early-runtime-probes.trace.pf.txt")"
fi

# N workers whose tids run backwards; stuck LIFO tasks on some of them
# (two stalls each: the LIFO task and the one queued behind it).  The UI
# lists the workers, their stall lanes and counters by number.
mkworkers() {	# N STALLS
	awk -v n="$1" -v stalls="$2" 'BEGIN {
	pid = 4000
	print "meta pid " pid; print "meta comm nworkers"; print "meta workers " n
	print "1000.000 comm tid=" pid " comm=nworkers"
	split(stalls, s, ","); for (i in s) stall[s[i]] = 1
	for (w = 0; w < n; w++) {
		tid = pid + n - w; t = 1000 + w * 0.01
		printf "%.3f comm tid=%d comm=wsrt-w%d\n", t, tid, w
		printf "%.3f worker_start tid=%d worker=%d thread=%d\n", t + 0.001, tid, w, tid
		printf "%.3f park tid=%d worker=%d kind=futex\n", t + 0.002, tid, w
	}
	for (w = 0; w < n; w++) {
		tid = pid + n - w; t = 1010 + w * 100
		a = 3 * w + 1; b = a + 1; c = a + 2; e = (w in stall) ? 50 : 0.1
		printf "%.3f notify tid=%d task=%d waker=-1 dest=inject displaced=0\n", t, pid, a
		printf "%.3f inject_push tid=%d task=%d count=1 len=1\n", t + 0.001, pid, a
		printf "%.3f wake_worker tid=%d waker=-1 target=%d\n", t + 0.002, pid, w
		printf "%.3f unpark tid=%d worker=%d kind=futex\n", t + 0.010, tid, w
		printf "%.3f inject_pop tid=%d worker=%d count=1 len=0\n", t + 0.011, tid, w
		printf "%.3f poll_start tid=%d worker=%d task=%d src=inject\n", t + 0.012, tid, w, a
		printf "%.3f notify tid=%d task=%d waker=%d dest=local displaced=0\n", t + 0.013, tid, b, w
		printf "%.3f notify tid=%d task=%d waker=%d dest=lifo displaced=0\n", t + 0.014, tid, c, w
		printf "%.3f poll_end tid=%d worker=%d task=%d result=ready\n", t + 0.015 + e, tid, w, a
		printf "%.3f poll_start tid=%d worker=%d task=%d src=lifo\n", t + 0.016 + e, tid, w, c
		printf "%.3f poll_end tid=%d worker=%d task=%d result=ready\n", t + 0.017 + e, tid, w, c
		printf "%.3f poll_start tid=%d worker=%d task=%d src=local\n", t + 0.018 + e, tid, w, b
		printf "%.3f poll_end tid=%d worker=%d task=%d result=ready\n", t + 0.019 + e, tid, w, b
		printf "%.3f park tid=%d worker=%d kind=futex\n", t + 0.020 + e, tid, w
	}
	for (w = 0; w < n; w++)
		printf "%.3f worker_stop tid=%d worker=%d thread=%d\n", 1010 + n * 100, pid + n - w, w, pid + n - w
	}'
}
# want N STALLS: the track trees the UI must show, Perfetto's line then JSON's.
want_workers() {
	python3 - "$1" "$2" <<'PY'
import sys
n, st = int(sys.argv[1]), sorted(int(x) for x in sys.argv[2].split(','))
pf = ['nworkers (4000)', '  stalls']
js = ['nworkers 4000']
for i, w in enumerate(st):
    pf += ['    stalls: worker %d' % w, '    stalls: worker %d #2' % w]
    js += ['  stalls: worker %d, lane %d' % (w, 2 * i + 1), '  stalls: worker %d, lane %d' % (w, 2 * i + 2)]
pf += ['  worker %d (%d)' % (w, 4000 + n - w) for w in range(n)]
js += ['  worker %d %d' % (w, 4000 + n - w) for w in range(n)]
pf += ['  main (4000)', '  idle workers', '  inject queue']
js += ['  main 4000', '  idle workers', '  inject queue']
d = len(str(n - 1))
for w in range(n):
    pf += ['  worker %d LIFO slot' % w, '  worker %d local queue' % w]
    js += ['  worker %0*d LIFO slot' % (d, w), '  worker %0*d local queue' % (d, w)]
print('|'.join(pf))
print('|'.join(js))
PY
}
for spec in 2:1 4:3,1 16:15,1,10; do
	n=${spec%%:*} st=${spec#*:}
	mkworkers "$n" "$st" >"$tmp/w$n.txt"
	if ! "$mktrace" "$tmp/w$n.txt" "$tmp/w$n.trace" >"$tmp/mk.out" 2>&1; then
		not_ok "export_${n}_workers_made" "$(cat "$tmp/mk.out")"
		continue
	fi
	both "export_${n}_workers" "$tmp/w$n.trace" || continue
	want=$(want_workers "$n" "$st")
	v=$(q "$tmp/w$n.trace.pf.sum" "'|'.join(d['ui'])")
	check_eq "export_${n}_workers_perfetto_ui_in_numeric_order" "$v" "$(sed -n 1p <<<"$want")"
	v=$(q "$tmp/w$n.trace.json.sum" "'|'.join(d['ui'])")
	check_eq "export_${n}_workers_json_ui_in_numeric_order" "$v" "$(sed -n 2p <<<"$want")"
done

# A notify applied after the analyzer's reorder window (2^18 records came
# before it): its instant is drawn at its worker's latest time, later than
# the poll it caused on the other worker.  The poll must not then come
# first in Perfetto's sorted order (it would drop the arrow): the flow is
# there, from worker 0's notify to worker 1's poll.
awk 'BEGIN {
	print "meta pid 300"; print "meta workers 2"
	print "1000.000 worker_start tid=301 worker=0 thread=301"
	print "1000.001 worker_start tid=302 worker=1 thread=302"
	for (i = 1; i <= 10; i++) {
		printf "%.3f poll_start tid=301 worker=0 task=%d src=local\n", 1000 + i * 10, i
		printf "%.3f poll_end tid=301 worker=0 task=%d result=ready\n", 1001 + i * 10, i
	}
	for (i = 0; i < 262144 + 100; i++)
		printf "%.6f comm tid=399 comm=filler\n", 1200 + i * 0.0001
	print "1050.000 notify tid=301 task=99 waker=0 dest=local displaced=0"
	print "1060.000 poll_start tid=302 worker=1 task=99 src=steal"
	print "1060.500 poll_end tid=302 worker=1 task=99 result=ready"
}' >"$tmp/late.txt"
if ! "$mktrace" "$tmp/late.txt" "$tmp/late.trace" >"$tmp/mk.out" 2>&1; then
	not_ok export_late_notify_made "$(cat "$tmp/mk.out")"
elif both export_late_notify "$tmp/late.trace"; then
	v=$(q "$tmp/late.trace.pf.sum" "[(f['from_track'], f['from'], f['to_track'], f['to']) for f in d['flows']]")
	check_eq export_late_notify_keeps_its_flow "$v" "[('worker 0 (301)', 'notify task 99 -> local', 'worker 1 (302)', 'task 99')]"
fi
rm -f "$tmp/late.txt" "$tmp/late.trace"

# Waits that end without a poll of their own, as the analyzer tells them
# (on_task): a task woken during its own poll that completes in it, and
# (Tokio) a task scheduled and then polled by the main thread's block_on.
# Each flow ends on its instant; the poll slice has its source and result.
cat >"$tmp/unpolled.txt" <<'EOF'
meta pid 100
meta comm unpolled
meta workers 1
1000.000 comm tid=100 comm=unpolled
1000.100 comm tid=101 comm=wsrt-w0
1000.110 worker_start tid=101 worker=0 thread=101
1000.200 spawn tid=100 task=1 parent=0 poll_fn=0x1000 state=0
1000.210 notify tid=100 task=1 waker=-1 dest=inject displaced=0
1000.220 inject_push tid=100 task=1 count=1 len=1
1000.300 inject_pop tid=101 worker=0 count=1 len=0
1000.310 poll_start tid=101 worker=0 task=1 src=inject
1000.320 notify tid=101 task=1 waker=0 dest=local displaced=0
1000.330 poll_end tid=101 worker=0 task=1 result=ready
1000.400 worker_stop tid=101 worker=0 thread=101
EOF
cat >"$tmp/outside.txt" <<'EOF'
meta pid 200
meta comm outside
1000.000 comm tid=200 comm=outside
1000.010 tokio_runtime tid=200 major=1 minor=24 patch=2 poll_sites=12 schedule_sites=1
1000.100 thread_new tid=201 parent=200
1000.110 comm tid=201 comm=tokio-runtime-w
1000.200 notify tid=200 task=7 waker=-1 dest=unknown displaced=0 flags=0x1
1000.300 poll_start tid=200 worker=-1 task=7 src=unknown flags=0x1
1000.310 poll_end tid=200 worker=-1 task=7 result=unknown flags=0x1
EOF
if ! "$mktrace" "$tmp/unpolled.txt" "$tmp/unpolled.trace" >"$tmp/mk.out" 2>&1; then
	not_ok export_unpolled_made "$(cat "$tmp/mk.out")"
elif both export_unpolled "$tmp/unpolled.trace"; then
	v=$(q "$tmp/unpolled.trace.pf.sum" "sorted((f['from_track'], f['from'], f['to_track'], f['to']) for f in d['flows'])")
	check_eq export_unpolled_done_while_queued "$v" \
		"[('main (100)', 'notify task 1 -> inject', 'worker 0 (101)', 'task 1'), ('worker 0 (101)', 'notify task 1 -> local', 'worker 0 (101)', 'task 1 done while queued')]"
	v=$(python3 -c 'import json, sys
args = {}
for e in json.load(open(sys.argv[1]))["traceEvents"]:
    a = e.get("args", {})
    if "source" in a or "result" in a:
        args.update(a)
print(args.get("source"), args.get("result"))' "$tmp/unpolled.trace.json" 2>&1)
	check_eq export_unpolled_poll_source_and_result "$v" "inject ready"
fi
if ! "$mktrace" "$tmp/outside.txt" "$tmp/outside.trace" >"$tmp/mk.out" 2>&1; then
	not_ok export_outside_made "$(cat "$tmp/mk.out")"
elif both export_outside "$tmp/outside.trace"; then
	v=$(q "$tmp/outside.trace.pf.sum" "sorted((f['from_track'], f['from'], f['to_track'], f['to']) for f in d['flows'])")
	check_eq export_outside_polled_outside_the_workers "$v" \
		"[('main (200)', 'notify task 7 -> unknown', 'main (200)', 'task 7 polled outside the workers')]"
fi

# JSON from a pipe (read twice: it is copied first), the same as from the file.
if "$ss" export - -o "$tmp/pipe.json" --format json <"$tmp/mix.trace" 2>/dev/null &&
	cmp -s "$tmp/pipe.json" "$tmp/mix.trace.json"; then
	ok export_json_from_a_pipe
else
	not_ok export_json_from_a_pipe "$(diff "$tmp/pipe.json" "$tmp/mix.trace.json" 2>&1 | head -5)"
fi

# Standard output, and a threshold the stalls are under.
if "$ss" export "$tmp/mix.trace" -o - --threshold 150 2>/dev/null >"$tmp/stdout.pf" &&
	decode "$tmp/stdout.pf" && $check proto "$tmp/stdout.pf.txt" >"$tmp/stdout.sum" 2>&1 &&
	[ "$(q "$tmp/stdout.sum" "len(d['stalls'])")" = 0 ]; then
	ok export_to_stdout_with_threshold
else
	not_ok export_to_stdout_with_threshold "$(cat "$tmp/stdout.sum" "$tmp/stdout.pf.err" 2>/dev/null | head -5)"
fi

# 9000 tasks: more names than the interning tables hold.
awk 'BEGIN {
	print "meta pid 200"; print "meta workers 1"
	print "1000 worker_start tid=201 worker=0 thread=201"
	for (i = 1; i <= 9000; i++) {
		t = 1000 + i * 0.01
		printf "%.3f notify tid=201 task=%d waker=0 dest=local displaced=0\n", t, i
		printf "%.3f poll_start tid=201 worker=0 task=%d src=local\n", t + 0.002, i
		printf "%.3f poll_end tid=201 worker=0 task=%d result=ready\n", t + 0.004, i
	}
}' >"$tmp/many.txt"
if ! "$mktrace" "$tmp/many.txt" "$tmp/many.trace" >"$tmp/mk.out" 2>&1; then
	not_ok export_many_made "$(cat "$tmp/mk.out")"
elif both export_many "$tmp/many.trace"; then
	v=$(q "$tmp/many.trace.pf.sum" "(d['incremental_state_clears'], d['per_worker'], len(d['flows']))")
	check_eq export_many_interning_starts_over "$v" "(3, {'0': {'instants': 9000, 'slices': 9000}}, 9000)"
fi

# Random event streams (tests/tools/random_events.py): whatever the trace
# holds, the export is valid and both formats agree.
bad=
for seed in $(seq 1 12); do
	python3 "$repo/tests/tools/random_events.py" "$seed" >"$tmp/r.txt"
	"$mktrace" "$tmp/r.txt" "$tmp/r$seed.trace" >/dev/null 2>&1 || { bad="$bad $seed(mktrace)"; continue; }
	out=$(both "export_random_$seed" "$tmp/r$seed.trace" | grep '^not ok')
	[ -z "$out" ] || bad="$bad $seed: $out"
done
if [ -z "$bad" ]; then ok export_random_streams_stay_valid; else not_ok export_random_streams_stay_valid "$bad"; fi

# ---- 2. real recordings ----
trace=$tmp/legacy.trace
if ! WSRT_LIFO_STEALABLE=0 timeout $((60 * slow)) "$ss" record -o "$trace" -- \
	"$BUILD/bin/lifo-stall" >"$tmp/rec.out" 2>&1; then
	not_ok export_lifo_legacy_recorded "record failed: $(cat "$tmp/rec.out")"
elif both export_lifo_legacy "$trace"; then
	s=$trace.pf.sum
	rep=$("$ss" report --json "$trace")
	w=$(json_num worker "$rep")
	task=$(json_num task "$rep")
	dur=$(json_num duration_ns "$rep" | tail -1)
	v=$(q "$s" "[(x['track'], x['name'], x['dur_ms'], x['args'].get('task_name')) for x in d['stalls']]")
	got=$(q "$s" "d['stalls'][0]['dur_ms'] if len(d['stalls']) == 1 else -1")
	# About the 200 ms block (wide margins: a shared VM), and exactly the
	# wait the report gives.
	if [ -n "$w" ] && grep -q "^\[('stalls: worker $w', 'stuck_lifo', [0-9.]*, 'task_b')\]$" <<<"$v" &&
		awk -v g="$got" -v r="${dur:-0}" 'BEGIN { exit !(g >= 150 && g <= 2000 && (g - r / 1e6) ^ 2 < 1e-6) }'; then
		ok export_lifo_legacy_stall_slice
	else
		not_ok export_lifo_legacy_stall_slice "report worker=$w duration_ns=$dur; stalls: $v"
	fi
	v=$(q "$s" "[f for f in d['flows'] if f['to'] == 'task $task (task_b)' and f['from'].endswith('(task_b) -> lifo')]")
	if grep -q "'from_within': 'task [0-9]* (task_a)'" <<<"$v" &&
		grep -q "'from_track': 'worker $w (" <<<"$v"; then
		ok export_lifo_legacy_flow_a_notify_to_b_poll
	else
		not_ok export_lifo_legacy_flow_a_notify_to_b_poll "$v; all: $(q "$s" "d['flows']")"
	fi
	v=$(q "$s" "'|'.join(d['ui'])")
	if grep -Eq "^lifo-stall \(([0-9]+)\)\|  stalls\|    stalls: worker [01]\|  worker 0 \([0-9]+\)\|  worker 1 \([0-9]+\)\|  main \(\1\)\|  idle workers\|" <<<"$v"; then
		ok export_lifo_legacy_ui_stalls_workers_main_counters
	else
		not_ok export_lifo_legacy_ui_stalls_workers_main_counters "$v"
	fi
	if grep -q 'primary_trace_clock: BUILTIN_CLOCK_MONOTONIC' "$trace.pf.txt" &&
		grep -q 'timestamp_clock_id: 3' "$trace.pf.txt" &&
		grep -q "timestamp: $("$ss" dump "$trace" | awk '/poll_start/ { print $1; exit }')\$" "$trace.pf.txt"; then
		ok export_lifo_legacy_monotonic_times_as_recorded
	else
		not_ok export_lifo_legacy_monotonic_times_as_recorded "$(head -30 "$trace.pf.txt")"
	fi
fi

if ! WSRT_LIFO_STEALABLE=0 timeout $((60 * slow)) "$ss" record --kernel-only -o "$tmp/k.trace" -- \
	"$BUILD/bin/lifo-stall" >"$tmp/k.out" 2>&1; then
	not_ok export_kernel_only_recorded "record failed: $(cat "$tmp/k.out")"
elif both export_kernel_only "$tmp/k.trace"; then
	v=$(q "$tmp/k.trace.pf.sum" "sorted(d['per_worker'].items())")
	if grep -Eq "^\[\('0', \{'instants': 0, 'slices': [1-9][0-9]*\}\), \('1', \{'instants': 0, 'slices': [1-9][0-9]*\}\)\]$" <<<"$v"; then
		ok export_kernel_only_worker_slices
	else
		not_ok export_kernel_only_worker_slices "$v"
	fi
fi

# `stallscope demo all`: each of its Perfetto files is what `export`
# writes for its trace (so it passes the same checks), and both formats of
# each of its traces pass them.
dir=$tmp/demo
if ! timeout $((300 * slow)) "$ss" demo all -o "$dir" >"$tmp/demo.out" 2>&1; then
	not_ok export_demo_ran "$(tail -5 "$tmp/demo.out")"
else
	bad= n=0
	for pf in "$dir"/*.pftrace; do
		[ -e "$pf" ] || continue
		n=$((n + 1))
		name=$(basename "$pf" .pftrace)
		cp "$dir/$name.trace" "$tmp/demo-$name.trace"
		out=$(both "export_demo_$name" "$tmp/demo-$name.trace" | grep '^not ok')
		[ -z "$out" ] || bad="$bad $name: $out;"
		cmp -s "$pf" "$tmp/demo-$name.trace.pf" || bad="$bad $name: the demo's file differs from export's;"
	done
	if [ "$n" = 4 ] && [ -z "$bad" ]; then
		ok export_demo_exports_import_cleanly
	else
		not_ok export_demo_exports_import_cleanly "$n files;$bad"
	fi
fi

# ---- 3. bad input, bad options ----
echo 'not a trace' >"$tmp/bad.trace"
out=$("$ss" export "$tmp/bad.trace" -o "$tmp/bad.pf" 2>&1); rc=$?
if [ $rc -eq 2 ] && [ "$(wc -l <<<"$out")" = 1 ] && grep -q "^stallscope: $tmp/bad.trace: " <<<"$out" &&
	[ -z "$(ls "$tmp" | grep '^bad.pf')" ]; then
	ok export_bad_file_one_line_exit_2
else
	not_ok export_bad_file_one_line_exit_2 "exit $rc: $out; $(ls "$tmp")"
fi
if [ -e "$trace" ]; then
	# A record of type 0 in the middle: found after most of the output
	# was written; the old output stays as it was, and no partial file.
	# The type zeroed is a record's or a ring block's own (the file
	# walked: a block's slots and padding follow its 64-byte header),
	# never bytes a block's padding or packing may leave as they were.
	cp "$trace" "$tmp/bad0.trace"
	at=$(python3 - "$trace" <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read()
off = struct.unpack_from('<I', b, 12)[0]
starts = []
while off + 64 <= len(b) and b[off:off + 8] != b'SSTRAILR':
    starts.append(off)
    typ, count = struct.unpack_from('<I', b, off + 8)[0], struct.unpack_from('<I', b, off + 20)[0]
    size = count * 32 if typ == 163 else (4 + struct.unpack_from('<I', b, off + 64)[0] if typ == 166 else 0)
    off += 64 + (size + 63) // 64 * 64
print(starts[len(starts) // 2] if len(starts) > 2 else '')
PY
)
	[ -n "$at" ] && printf '\0\0\0\0' | dd of="$tmp/bad0.trace" bs=1 seek=$((at + 8)) conv=notrunc status=none
	echo old >"$tmp/bad0.pf"
	out=$("$ss" export "$tmp/bad0.trace" -o "$tmp/bad0.pf" --format json 2>&1); rc=$?
	if [ $rc -eq 2 ] && [ "$(wc -l <<<"$out")" = 1 ] &&
		[ -n "$at" ] && grep -q "^stallscope: $tmp/bad0.trace: record at offset $at has type 0" <<<"$out" &&
		[ "$(cat "$tmp/bad0.pf")" = old ] && [ "$(ls "$tmp" | grep -c '^bad0.pf')" = 1 ]; then
		ok export_corrupt_file_keeps_the_old_output
	else
		not_ok export_corrupt_file_keeps_the_old_output "exit $rc: $out; $(ls "$tmp")"
	fi
	# Cut mid-record (a recorder killed): exported up to there, said so.
	head -c $(( $(stat -c %s "$trace") / 2 + 13 )) "$trace" >"$tmp/cut.trace"
	out=$("$ss" export "$tmp/cut.trace" -o "$tmp/cut.json" --format json 2>&1); rc=$?
	if [ $rc -eq 0 ] && grep -q "^stallscope: $tmp/cut.trace: partial: no trailer after" <<<"$out" &&
		python3 -m json.tool "$tmp/cut.json" >/dev/null 2>&1; then
		ok export_partial_file_exports_and_says_so
	else
		not_ok export_partial_file_exports_and_says_so "exit $rc: $out"
	fi
fi
# The output path: a directory or a device is refused before anything is
# read; a symlink there is replaced, never written through.
mkdir -p "$tmp/outdir"
for o in "$tmp/outdir" /dev/null; do
	out=$("$ss" export "$tmp/mix.trace" -o "$o" 2>&1); rc=$?
	if [ $rc -eq 2 ] && [ "$(wc -l <<<"$out")" = 1 ] && grep -q "^stallscope: cannot write $o: " <<<"$out" &&
		[ ! -e "$o.partial" ]; then
		ok "export_refuses_output_${o//\//_}"
	else
		not_ok "export_refuses_output_${o//\//_}" "exit $rc: $out"
	fi
done
echo precious >"$tmp/target"
ln -sf "$tmp/target" "$tmp/link.pf"
out=$("$ss" export "$tmp/mix.trace" -o "$tmp/link.pf" 2>&1); rc=$?
if [ $rc -eq 0 ] && [ "$(cat "$tmp/target")" = precious ] && [ -f "$tmp/link.pf" ] && [ ! -L "$tmp/link.pf" ]; then
	ok export_symlink_at_output_is_replaced_not_followed
else
	not_ok export_symlink_at_output_is_replaced_not_followed "exit $rc: $out; $(ls -l "$tmp")"
fi
out=$("$ss" export "$tmp/missing.trace" -o "$tmp/m.pf" 2>&1); rc=$?
if [ $rc -eq 2 ] && grep -q "^stallscope: $tmp/missing.trace: .*No such file" <<<"$out"; then
	ok export_missing_file_exit_2
else
	not_ok export_missing_file_exit_2 "exit $rc: $out"
fi
out=$("$ss" export "$tmp/mix.trace" -o "$tmp/no/such/dir.pf" 2>&1); rc=$?
if [ $rc -eq 1 ] && grep -q "^stallscope: cannot write $tmp/no/such/dir.pf: " <<<"$out"; then
	ok export_unwritable_output_exit_1
else
	not_ok export_unwritable_output_exit_1 "exit $rc: $out"
fi
for args in "" "MIX" "MIX --format xml -o X" "MIX -o X --threshold 0" "MIX -o X --bogus" "MIX MIX -o X"; do
	name="export_rejects_${args// /_}"
	a=${args//MIX/$tmp/mix.trace}
	a=${a//X/$tmp/x.pf}
	out=$("$ss" export $a 2>&1); rc=$?
	if [ $rc -eq 2 ] && [ -n "$out" ] && [ ! -e "$tmp/x.pf" ]; then ok "${name%_}"; else not_ok "${name%_}" "exit $rc: $out"; fi
done
out=$("$ss" export --help); rc=$?
if [ $rc -eq 0 ] && grep -q '^usage: stallscope export FILE -o OUT' <<<"$out"; then
	ok export_help
else
	not_ok export_help "exit $rc: $out"
fi
