#!/usr/bin/env bash
# stallscope record with real BPF: the examples recorded and the decoded
# stream checked.  Needs root and BPF, as the project's machines and CI
# have: without them these tests fail, loudly; they never skip.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

ss=$BUILD/bin/stallscope
slow=${TEST_SLOW:-1}
scratch	# $tmp; ends what pids holds

# request: one request to $port on a new connection.
request() {
	exec 3<>"/dev/tcp/127.0.0.1/$port" &&
		printf 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3 &&
		timeout 2 cat <&3 >/dev/null
	exec 3<&- 3>&- 2>/dev/null
}

# requests_while PID MAX: three requests at once to $port every 0.1 s
# while PID (a recorder) runs, at most MAX rounds.  Three at once for a
# server of two workers whose handlers block: the third connection's
# readiness arrives while nobody waits in epoll (the only readiness worth
# a record).  About 90 such records in 3 s here, under ASan too; a
# handful, and once none, while new connections waiting on the ready list
# hid them from the recorder (docs/recording.md).
requests_while() {
	local _ a b
	for _ in $(seq "$2"); do
		kill -0 "$1" 2>/dev/null || break
		request & a=$!
		request & b=$!
		request
		wait "$a" "$b"
		sleep 0.1
	done
}

# dump_ok NAME FILE: dump FILE into FILE.txt; not_ok and return 1 if not.
dump_ok() {
	if ! "$ss" dump "$2" >"$2.txt" 2>"$2.err"; then
		not_ok "$1" "dump failed: $(cat "$2.err")"
		return 1
	fi
}

# check NAME AWK-PROGRAM FILE.txt: the program prints "ok" or a reason.
# Time order, for an awk program over a dump: n records, bad the first
# that goes back 50 ms or more in its stream — a CPU's records, or a
# ring's (cpu -1: a thread's, by the provider of its ring: the shim's
# types are its).
order='
	/^[0-9]/ { n++; split($2, c, "="); k = "cpu " c[2]
		   if (c[2] == 4294967295) { split($3, t, "=")
			   k = "ring " t[2] ($4 ~ /^(start|park_enter|park_exit|futex_wake|thread_name)$/ ? " shim" : "") }
		   if (!bad && $1 + 50000000 < last[k]) bad = k ": " $1 " after " last[k]
		   if ($1 > last[k]) last[k] = $1 }'
check() {
	local name=$1 prog=$2 file=$3 out
	out=$(awk "$prog" "$file" 2>&1)
	if [ "$out" = ok ]; then ok "$name"; else not_ok "$name" "$out"; fi
}

# ---- lifo-stall, legacy ----
if ! WSRT_LIFO_STEALABLE=0 timeout 60 "$ss" record -o "$tmp/legacy.trace" -- \
	"$BUILD/bin/lifo-stall" --block-ms 100 >"$tmp/legacy.out" 2>&1; then
	not_ok record_lifo_stall_legacy "record failed: $(cat "$tmp/legacy.out")"
elif dump_ok record_lifo_stall_legacy "$tmp/legacy.trace"; then
	ok record_lifo_stall_legacy
	t=$tmp/legacy.trace.txt
	# Every poll_start has its poll_end on the same worker, in order.
	check record_poll_start_end_pair_per_worker '
		/ poll_start / { w = $5; if (open[w]) { print "two poll_starts on " w " at " $1; exit } open[w] = $6; n++ }
		/ poll_end / { w = $5; if (open[w] != $6) { print "poll_end " $6 " without its start on " w " at " $1; exit } open[w] = "" }
		END { for (w in open) if (open[w] != "") { print "poll of " open[w] " never ended on " w; exit }
		      print (n >= 2 ? "ok" : "only " n " polls") }' "$t"
	# Task B is notified into A's worker's LIFO slot.
	check record_legacy_has_lifo_notify '
		/ notify / && / dest=lifo / && !/ waker=-1 / { found = 1 }
		END { print (found ? "ok" : "no notify with dest=lifo from a worker") }' "$t"
	# park/unpark alternate per worker.
	check record_park_unpark_pairs '
		/ park worker=[0-9]/ { w = $5; if (parked[w]) { print "park twice on " w " at " $1; exit } parked[w] = 1; n++ }
		/ unpark worker=[0-9]/ { w = $5; if (!parked[w]) { print "unpark without park on " w " at " $1; exit } parked[w] = 0 }
		END { print (n >= 2 ? "ok" : "only " n " parks") }' "$t"
	# Every worker thread (from worker_start) shows up in sched_switch.
	check record_sched_switch_for_every_worker '
		/ worker_start / { split($6, a, "="); workers[a[2]] = 1; nw++ }
		/ sched_switch / { split($5, p, "="); split($6, q, "="); seen[p[2]] = 1; seen[q[2]] = 1 }
		END { if (nw < 2) { print "only " nw " worker_start records"; exit }
		      for (t in workers) if (!seen[t]) { print "no sched_switch for worker tid " t; exit }
		      print "ok" }' "$t"
	# Timestamps go back on one CPU only by a preemption: a program can
	# be preempted between reserving its record and reading the clock
	# (docs/trace-format.md); 50 ms is far beyond one, far below garbage.
	# So do a ring's events (cpu -1: a thread's, by the provider of its
	# ring), drained in claims; between rings, as far as a drain waits.
	check record_timestamps_monotonic_per_cpu "$order"'
		END { print (bad ? bad : n > 0 ? "ok" : "no records") }' "$t"
	check record_trailer_says_exited '
		/^# trailer:/ { if (/stop=exited/ && /status=0/) { print "ok" } else { print "trailer: " $0 }; found = 1 }
		END { if (!found) print "no trailer line" }' "$t"
	if grep -q 'events, 0 lost, [0-9.]* s, recorder CPU [0-9.]* s, written to' "$tmp/legacy.out"; then
		ok record_prints_one_line_summary
	else
		not_ok record_prints_one_line_summary "$(tail -2 "$tmp/legacy.out")"
	fi
	check record_header_knows_the_workers '
		/^# workers:/ { print ($3 == 2 ? "ok" : "header says workers: " $3); found = 1 }
		END { if (!found) print "no workers line" }' "$t"
	perm=$(stat -c %a "$tmp/legacy.trace")
	if [ "$perm" = 600 ]; then ok record_file_mode_0600; else not_ok record_file_mode_0600 "mode $perm"; fi
fi

# ---- a busy start: its events wait for the header in the ring buffer ----
# yield_many writes about a GB a second from its first milliseconds: the
# header goes out once a quarter of the ring buffer waits (long before its
# workers have been named for 50 ms), and everything that waited follows
# it, each CPU's and each ring's in order, then the threads as they were
# at the header (thread_at_attach: the workers, named) — also when the
# recorder cannot keep up for as long as its target runs (a sanitizer's
# build: it once waited for an empty ring buffer, and the target was gone
# by then).  Lost events (a slow host) are counted and shown as lost
# records, and then the polls need not pair up; but not a fifth of them:
# a header waiting for the workers' names (the ring buffer not looked at)
# lost 43 % of this run's events, three runs of three.
if ! timeout 60 "$ss" record -o "$tmp/busy.trace" -- "$BUILD/bench/sched" --workers 2 \
	--filter yield_many --mode stealable --runs 1 --run-ms 20 >"$tmp/busy.out" 2>&1; then
	not_ok record_busy_start_keeps_its_events "record failed: $(tail -3 "$tmp/busy.out")"
else
	lost=$(sed -n 's/^stallscope: [0-9]* events, \([0-9]*\) lost,.*/\1/p' "$tmp/busy.out")
	out=$("$ss" dump "$tmp/busy.trace" 2>&1 | awk -v lost="${lost:-none}" "$order"'
		/^# workers:/ { hdr = 1 }
		/ poll_start / { ps++ } / poll_end / { pe++ } / lost count=/ { lr++ }
		/ thread_at_attach comm=wsrt-w/ { named++ }
		END { if (lost == "none") print "no summary line"; else if (!hdr) print "no header";
		      else if (n < 100000) print "only " n " records";
		      else if (bad) print bad;
		      else if (named != 2) print named + 0 " thread_at_attach records of workers";
		      else if (lost > 0 && !lr) print lost " lost, no lost record";
		      else if (lost * 4 > n) print lost " lost of " n + lost;
		      else if (lost == 0 && ps != pe) print ps " poll_starts, " pe " poll_ends";
		      else print "ok" }')
	if [ "$out" = ok ]; then ok record_busy_start_keeps_its_events
	else not_ok record_busy_start_keeps_its_events "$out ($(tail -1 "$tmp/busy.out"))"; fi
fi

# ---- lifo-stall, stealable: the LIFO task is stolen ----
if ! timeout 60 "$ss" record -o "$tmp/steal.trace" -- "$BUILD/bin/lifo-stall" --block-ms 100 \
	>"$tmp/steal.out" 2>&1; then
	not_ok record_lifo_stall_stealable "record failed: $(cat "$tmp/steal.out")"
elif dump_ok record_lifo_stall_stealable "$tmp/steal.trace"; then
	# The runtime's probes, and no syscall hooked: the shim's parks
	# stand for them; the rings' drains copy whole where the kernel can.
	check record_header_says_runtime_probes "
		/^# flags:/ { print (\$0 == \"# flags: runtime-probes shim-parks$(ring_pieces)\" ? \"ok\" : \"header flags: \" \$0); exit }" "$tmp/steal.trace.txt"
	check record_stealable_steals_the_lifo_task '
		/ steal / && !/ lifo=0( |$)/ { found = 1 }
		END { print (found ? "ok" : "no steal that took a LIFO task") }' "$tmp/steal.trace.txt"
fi

# ---- --kernel-only ----
if ! WSRT_LIFO_STEALABLE=0 timeout 60 "$ss" record --kernel-only -o "$tmp/k.trace" -- \
	"$BUILD/bin/lifo-stall" --block-ms 50 >"$tmp/k.out" 2>&1; then
	not_ok record_kernel_only "record failed: $(cat "$tmp/k.out")"
elif dump_ok record_kernel_only "$tmp/k.trace"; then
	# No syscall hooked: the waits come from the workers' sleeps
	# (sched_switch), so no epoll_ctl either.
	check record_kernel_only_has_no_runtime_records_but_worker_syscalls '
		/^# flags:/ && !/^# flags: kernel-only sleep-parks$/ { print "header flags: " $0; exit }
		/ (spawn|notify|poll_start|poll_end|park|unpark|steal|worker_start|epoll_ctl) / { print "runtime or syscall record in kernel-only: " $0; exit }
		/ comm comm=wsrt-w/ { workers[$3] = 1 }
		/ futex_enter / && workers[$3] { futex = 1 }
		/ sched_switch / { split($5, p, "="); if (workers["tid=" p[2]]) sw = 1 }
		/ epoll_enter / && workers[$3] { ep = 1 }
		END { if (!futex) print "no futex_enter from a wsrt-w thread"; else if (!sw) print "no sched_switch of a wsrt-w thread"; else if (!ep) print "no epoll_enter from a wsrt-w thread"; else print "ok" }' "$tmp/k.trace.txt"
	# Each wait's enter is the thread's last record before it leaves
	# its CPU asleep, and its exit the first after it comes back (a
	# sched_waking of it is the waker's record, made on another CPU,
	# and may fall in between).  Or, where the switch that brought it
	# back went unseen (flags=0x2: a kernel that runs no tracing
	# programs in some thread's context, as this VM's in its agent's),
	# the exit is made as it next leaves a CPU, timed at its waking:
	# after the sleep, before anything else of its own; and such exits
	# are the few, not the rule.
	grep -E '^[0-9]+ ' "$tmp/k.trace.txt" | sort -n -k1,1 >"$tmp/k.sorted"
	check record_kernel_only_waits_are_the_sleeps '
		function f(name,   i) { for (i = 2; i <= NF; i++) if (index($i, name "=") == 1) return substr($i, length(name) + 2); return "" }
		{ t = f("tid") }
		/ sched_waking / { next }
		/ (futex|epoll)_enter / { if (st[t] != "") { print "enter while " st[t] ": " $0; bad = 1; exit } st[t] = "entered"; n++; next }
		/ (futex|epoll)_exit / && / flags=0x2/ { if (st[t] != "asleep") { print "unseen-switch exit while " (st[t] == "" ? "running" : st[t]) ": " $0; bad = 1; exit } st[t] = ""; x++; u++; next }
		/ (futex|epoll)_exit / { if (st[t] != "woken") { print "exit while " (st[t] == "" ? "running" : st[t]) ": " $0; bad = 1; exit } st[t] = ""; x++; next }
		st[t] == "asleep" && / sched_switch / && f("prev") == t { print "left a CPU asleep, no exit first: " $0; bad = 1; exit }
		st[t] == "entered" { if (!/ sched_switch / || / prev_state=R/) { print "after an enter, not a sleep: " $0; bad = 1; exit } st[t] = "asleep" }
		st[t] == "woken" { print "woken, no exit first: " $0; bad = 1; exit }
		/ sched_switch / { nx = f("next"); if (st[nx] == "asleep") st[nx] = "woken" }
		END { if (!bad) print (n < 4 || x < 4 ? "only " n " enters, " x " exits" : 2 * u > x ? u " of " x " exits without their switch" : "ok") }' "$tmp/k.sorted"
fi

# ---- -p PID: attach to a running server mid-run ----
# record_pid_under_load NAME BASE SECONDS: records $srv for SECONDS into
# $tmp/BASE.trace while requests_while keeps it busy (at most 100 rounds a
# second), dumps it into BASE.trace.txt; not_ok NAME and 1 if either fails.
record_pid_under_load() {
	local rec
	timeout 30 "$ss" record -p "$srv" --duration "$3" -o "$tmp/$2.trace" >"$tmp/$2.out" 2>&1 &
	rec=$!
	pids+=("$rec")
	wait_recording "$tmp/$2.out" "$rec"
	requests_while "$rec" $(($3 * 100))
	if ! wait "$rec"; then
		not_ok "$1" "record failed: $(cat "$tmp/$2.out")"
		return 1
	fi
	dump_ok "$1" "$tmp/$2.trace"
}
"$BUILD/bin/http-stall" --serve-only --workers 2 --handler-ms 10 --duration 20 \
	>"$tmp/srv.out" 2>&1 &
srv=$!
pids+=("$srv")
if ! port=$(listen_port "$tmp/srv.out" "$srv" 200); then
	not_ok record_attach_to_running_pid "server did not start: $(cat "$tmp/srv.out")"
else
	if record_pid_under_load record_attach_to_running_pid p 3; then
		echo "# record_attach_to_running_pid: $(tr '\n' '|' <"$tmp/p.out")"
		check record_attach_to_running_pid '
			/^# pid:/ { pid = $3 }
			/ poll_start / { polls++ } / sched_switch / { sw++ } / sk_data_ready / { rdy++ }
			/ thread_at_attach comm=wsrt-w/ { w++ }
			/^# trailer:/ && !/stop=duration/ { print "trailer: " $0; exit }
			END { if (w < 2) print "workers not named at attach: " w; else if (!polls) print "no runtime probes from the running process";
			      else if (!sw) print "no sched_switch"; else if (!rdy) print "no sk_data_ready for the listening socket"; else print "ok" }' "$tmp/p.trace.txt"
	fi
	# Again: the workers' rings were made under the first recording and
	# never announce themselves again; this one finds them in the
	# process's registry and drains them.
	if record_pid_under_load record_again_finds_the_rings_of_the_first p2 2; then
		check record_again_finds_the_rings_of_the_first '
			/ worker_start / { print "a worker_start from before the recording: " $0; exit }
			/ poll_start / { polls++ }
			/ lost / { lost += substr($5, 7) }
			END { if (!polls) print "no poll from the rings made before (registry not read?)";
			      else if (lost) print lost " lost"; else print "ok" }' "$tmp/p2.trace.txt"
	fi
fi
kill "$srv" 2>/dev/null
wait "$srv" 2>/dev/null

# ---- readiness worth a record, case by case ----
# tests/tools/ready_rule.c: the first readiness since a harvest is
# recorded also while an unharvested item (a socket registered while
# writable, a level-triggered one back after its harvest) is on the
# instance's ready list, or the one recorded last is back there with its
# input taken; not while the one recorded is still there unread, nor
# while a thread sleeps in epoll_wait on the instance; and on a socket
# that only another instance polled when the tracer first looked at it,
# once the target's instance takes it up (at the wait queue's head, and
# with EPOLLEXCLUSIVE at its tail).
if ! timeout 60 "$ss" record -o "$tmp/ready.trace" -- "$BUILD/tests/ready-rule" \
		>"$tmp/ready.out" 2>&1; then
	not_ok record_readiness_first_since_the_harvest "record failed: $(tail -3 "$tmp/ready.out")"
elif dump_ok record_readiness_first_since_the_harvest "$tmp/ready.trace"; then
	cases=$(sed -n '/taken-up-at=/d; s/^ready-rule: //p' "$tmp/ready.out")
	taken_up=$(sed -n 's/^ready-rule: taken-up-at=//p' "$tmp/ready.out")
	check record_readiness_first_since_the_harvest '
		BEGIN { n = split("'"$cases"'", kv, " "); for (i = 1; i <= n; i++) { split(kv[i], p, "="); ino[p[2]] = p[1] } }
		/ sk_data_ready / { split($5, p, "="); if (p[2] in ino) seen[ino[p[2]]]++
				    if ((ino[p[2]] == "G" || ino[p[2]] == "H") && $1 + 0 < '"${taken_up:-0}"')
					early[ino[p[2]]] = 1 }
		END { if (n != 8 || !'"${taken_up:-0}"') { print "ready-rule said: '"$cases"'"; exit }
		      for (c in early) { print c ": recorded before the instance took it up"; exit }
		      for (c in seen) if (seen[c] > 1) { print "case " c " recorded " seen[c] " times"; exit }
		      if (!seen["A"]) print "A: behind an unharvested item, not recorded";
		      else if (seen["B"]) print "B: recorded while the one before was unharvested";
		      else if (!seen["C"]) print "C: after a harvest, not recorded";
		      else if (!seen["D"]) print "D: behind a level-triggered item, not recorded";
		      else if (seen["E"]) print "E: recorded while a thread slept in epoll_wait";
		      else if (!seen["F"]) print "F: behind an item whose readiness was taken, not recorded";
		      else if (!seen["G"]) print "G: after the instance took it up, not recorded";
		      else if (!seen["H"]) print "H: after the instance took it up (EPOLLEXCLUSIVE), not recorded";
		      else print "ok" }' "$tmp/ready.trace.txt"
fi

# ---- ring and kernel records of one thread, in time order ----
# A worker that runs out of work: its park probe and the shim's park_enter
# (both from rings, TSC times converted) come before it goes to sleep in
# the kernel (sched_switch; CLOCK_MONOTONIC), and it is back on a CPU
# before the shim's park_exit: about a microsecond apart here.  With
# --syscalls, the same around the futex tracepoints.  A park_exit with
# no switch back before it is out of order only if the switch back comes
# after it; where the thread instead next leaves a CPU it was never seen
# to come to, that switch went unseen (this VM runs no tracing programs
# in its agent's threads: docs/recording.md) — allowed, if the few.
if ! timeout 120 "$ss" record -o "$tmp/order.trace" -- "$BUILD/bench/sched" \
	--quick --workers 2 --filter ping_pong >"$tmp/order.out" 2>&1; then
	not_ok record_ring_and_kernel_records_in_time_order "record failed: $(tail -3 "$tmp/order.out")"
elif dump_ok record_ring_and_kernel_records_in_time_order "$tmp/order.trace"; then
	grep -v '^#' "$tmp/order.trace.txt" | sort -s -n -k1,1 >"$tmp/order.sorted"
	check record_ring_and_kernel_records_in_time_order '
		{ t = $3 }
		$4 == "futex_enter" { print "a futex tracepoint record without --syscalls: " $0; bad = 1; exit }
		$4 == "park" && / kind=futex/ { state[t] = "park" }
		$4 == "park_enter" && / kind=futex/ { if (state[t] == "park") state[t] = "enter" }
		$4 == "sched_switch" && $7 != "prev_state=R" && state[t] != "" {
			if (state[t] != "enter") { print "sleep of " t " at " $1 " before its park/park_enter: " state[t]; bad = 1; exit }
			state[t] = "asleep"; n++ }
		$4 == "sched_switch" {
			u = "tid=" substr($6, 6); p = "tid=" substr($5, 6)
			if (early[u]) { print "park_exit of " u " at " early[u] ", " $1 - early[u] " ns before it was back on a CPU"; bad = 1; exit }
			if (early[p]) { early[p] = 0; unseen++ }
			if (state[u] == "asleep") state[u] = "back" }
		$4 == "park_exit" && / kind=futex/ && state[t] != "" {
			if (state[t] == "asleep") early[t] = $1
			state[t] = "" }
		END { for (k in early) if (early[k]) unseen++
		      if (!bad) print (n < 2 ? "only " n " sleeps seen between a park and a park_exit" : 2 * unseen >= n ? unseen " of " n " sleeps ended with no switch back seen" : "ok") }' "$tmp/order.sorted"
fi
if ! timeout 120 "$ss" record --syscalls -o "$tmp/order2.trace" -- "$BUILD/bench/sched" \
	--quick --workers 2 --filter ping_pong >"$tmp/order2.out" 2>&1; then
	not_ok record_ring_and_syscall_records_in_time_order "record failed: $(tail -3 "$tmp/order2.out")"
elif dump_ok record_ring_and_syscall_records_in_time_order "$tmp/order2.trace"; then
	grep -v '^#' "$tmp/order2.trace.txt" | sort -s -n -k1,1 >"$tmp/order2.sorted"
	check record_ring_and_syscall_records_in_time_order '
		{ t = $3 }
		$4 == "park" && / kind=futex/ { state[t] = "park" }
		$4 == "park_enter" && / kind=futex/ { if (state[t] == "park") state[t] = "enter" }
		$4 == "futex_enter" && / op=wait/ && state[t] != "" {
			if (state[t] != "enter") { print "futex wait of " t " at " $1 " before its park/park_enter: " state[t]; bad = 1; exit }
			state[t] = "wait"; n++ }
		$4 == "futex_exit" && state[t] == "wait" { state[t] = "back" }
		$4 == "park_exit" && / kind=futex/ && state[t] != "" {
			if (state[t] != "back") { print "park_exit of " t " at " $1 " before its futex returned: " state[t]; bad = 1; exit }
			state[t] = "" }
		END { if (!bad) print (n >= 2 ? "ok" : "only " n " futex waits seen between a park and a park_exit") }' "$tmp/order2.sorted"
fi

# ---- lost events: rings too small for the load ----
# (The scheduler benchmark: a burst of task switches in one process, its
# threads' rings at 4 KiB (128 slots) and the BPF ring buffer at 16 KiB:
# 10,000-18,000 events lost, 1,000-9,000 decoded in plain and ASan runs.
# At 4 KiB as few as 97 were decoded, and none of them a poll once.)
if ! SS_RING_KB=4 timeout 120 "$ss" record --ring-kb 16 -o "$tmp/lost.trace" -- "$BUILD/bench/sched" \
	--quick --workers 2 --filter yield_many >"$tmp/lost.out" 2>&1; then
	not_ok record_counts_lost_events "record failed: $(tail -3 "$tmp/lost.out")"
elif dump_ok record_counts_lost_events "$tmp/lost.trace"; then
	summary=$(sed -n 's/.* \([0-9]*\) lost, .*/\1/p' "$tmp/lost.out" | tail -1)
	check record_counts_lost_events '
		/ lost count=/ { split($5, c, "="); sum += c[2] }
		/^# trailer:/ { for (i = 1; i <= NF; i++) if ($i ~ /^lost=/) { split($i, l, "="); trailer = l[2] } }
		END { if (trailer == "" ) print "no trailer";
		      else if (trailer + 0 == 0) print "nothing lost with 4 KiB rings";
		      else if (sum != trailer) print "lost records sum to " sum ", trailer says " trailer;
		      else if (trailer != '"${summary:-x}"') print "summary says '"${summary:-?}"', trailer " trailer;
		      else print "ok" }' "$tmp/lost.trace.txt"
	# Never a garbage record: every type known, every argument in range.
	check record_lost_events_no_garbage_decoded '
		/^#/ { next }
		/ type=[0-9]/ { print "a record of unknown type: " $0; exit }
		/ (poll_start|poll_end|park|unpark|search_start|search_end) worker=/ {
			split($5, w, "="); if (w[2] != 0 && w[2] != 1 && w[2] != -1) { print "worker out of range: " $0; exit } }
		/ notify / { if ($0 !~ / dest=(lifo|local|inject) /) { print "bad notify: " $0; exit } }
		/ poll_end / { if ($0 !~ / result=(pending|ready|yield)/) { print "bad poll_end: " $0; exit } }
		{ n++ } / poll_start / { polls++ }
		END { print (n > 100 && polls ? "ok" : "only " n " records, " polls + 0 " polls") }' "$tmp/lost.trace.txt"
	# Shown by report ...
	if "$ss" report "$tmp/lost.trace" 2>&1 | grep -q "^  warning: [1-9][0-9]* events were lost"; then
		ok record_lost_events_shown_by_report
	else
		not_ok record_lost_events_shown_by_report "$("$ss" report "$tmp/lost.trace" 2>&1 | head -3)"
	fi
fi

# ---- the target killed mid-record ----
"$ss" record --duration 30 -o "$tmp/kill.trace" -- "$BUILD/bin/lifo-stall" --block-ms 5000 \
	>"$tmp/kill.out" 2>&1 &
rec=$!
pids+=("$rec")
child=""
# (The target execs once the probes are attached: seconds, when an earlier
# recording's are still being detached.)
for _ in $(seq 600); do
	child=$(pgrep -P "$rec" -x lifo-stall)
	[ -n "$child" ] && grep -q '' /proc/"$child"/comm 2>/dev/null && break
	sleep 0.05
done
sleep 0.5	# let it reach its blocking task (not proof of anything: the check is the file)
if [ -z "$child" ]; then
	not_ok record_survives_target_sigkill "target not found"
else
	kill -9 "$child"
	if ! wait "$rec"; then
		not_ok record_survives_target_sigkill "record failed: $(cat "$tmp/kill.out")"
	elif dump_ok record_survives_target_sigkill "$tmp/kill.trace"; then
		check record_survives_target_sigkill '
			/^# trailer:/ { t = 1; if (!/stop=exited/) { print "trailer: " $0; exit } }
			/ poll_start / { p = 1 }
			END { print (t && p ? "ok" : "no trailer or no polls") }' "$tmp/kill.trace.txt"
	fi
fi

# ---- SIGTERM to the recorder; ownership through sudo ----
SUDO_UID=65534 SUDO_GID=65534 "$ss" record --duration 30 -o "$tmp/term.trace" -- \
	"$BUILD/bin/http-stall" --serve-only --workers 2 >"$tmp/term.out" 2>&1 &
rec=$!
pids+=("$rec")
for _ in $(seq 600); do	# (the server starts once the probes are attached)
	grep -q '^listening on' "$tmp/term.out" && break
	sleep 0.05
done
kill -TERM "$rec"
if ! wait "$rec"; then
	not_ok record_stops_cleanly_on_sigterm "record failed: $(cat "$tmp/term.out")"
elif dump_ok record_stops_cleanly_on_sigterm "$tmp/term.trace"; then
	check record_stops_cleanly_on_sigterm '
		/^# trailer:/ { print (/stop=signal/ ? "ok" : "trailer: " $0); found = 1 }
		END { if (!found) print "no trailer" }' "$tmp/term.trace.txt"
	owner=$(stat -c %u:%g "$tmp/term.trace")
	if [ "$owner" = 65534:65534 ]; then ok record_file_owned_by_the_sudo_user; else not_ok record_file_owned_by_the_sudo_user "owner $owner"; fi
fi

# ---- the output file, written safely as root ----
# A symlink at the output path is replaced, its target untouched.
echo precious >"$tmp/precious"
ln -s "$tmp/precious" "$tmp/link.trace"
out=$(WSRT_LIFO_STEALABLE=0 timeout 60 "$ss" record -o "$tmp/link.trace" -- \
	"$BUILD/bin/lifo-stall" --block-ms 20 2>&1); rc=$?
if [ $rc -eq 0 ] && [ "$(cat "$tmp/precious")" = precious ] && [ -f "$tmp/link.trace" ] &&
	[ ! -L "$tmp/link.trace" ] && "$ss" dump "$tmp/link.trace" >/dev/null 2>&1 &&
	[ -z "$(ls "$tmp" | grep partial)" ]; then
	ok record_symlink_at_output_is_replaced_not_followed
else
	not_ok record_symlink_at_output_is_replaced_not_followed "exit $rc: $out; $(ls -l "$tmp")"
fi
# A directory or a device: one line, exit 2, before the target runs.
mkdir "$tmp/outdir"
for o in "$tmp/outdir" /dev/null; do
	out=$("$ss" record -o "$o" -- "$BUILD/bin/lifo-stall" --block-ms 20 2>&1); rc=$?
	if [ $rc -eq 2 ] && [ "$(wc -l <<<"$out")" = 1 ] &&
		grep -q "^stallscope: cannot write $o: " <<<"$out" && [ ! -e "$o.partial" ]; then
		ok "record_refuses_output_${o//\//_}"
	else
		not_ok "record_refuses_output_${o//\//_}" "exit $rc: $out"
	fi
done
# A recorder killed (SIGKILL) mid-recording leaves FILE.partial, never
# FILE, readable up to its last complete record, and said to be partial.
# The file is written in whole 4 KiB blocks (O_DIRECT): the target makes
# that many well within its run (200 requests of 20 ms on two workers,
# ~2 s), and, orphaned, ends by itself.
"$ss" record -o "$tmp/killed.trace" -- "$BUILD/bin/http-stall" --workers 2 \
	--handler-ms 20 --requests 200 --stagger-ms 0 >"$tmp/killed.out" 2>&1 &
rec=$!
pids+=("$rec")
# Until records have reached the file (it is flushed every second).
for _ in $(seq $((200 * slow))); do
	"$ss" dump "$tmp/killed.trace.partial" 2>&1 >/dev/null |
		grep -q 'no trailer after [1-9]' && break
	sleep 0.1
done
kill -KILL "$rec"
wait "$rec" 2>/dev/null
rep=$("$ss" report "$tmp/killed.trace.partial" 2>"$tmp/killed.err"); rc=$?
if [ $rc -eq 0 ] && [ ! -e "$tmp/killed.trace" ] &&
	grep -q '^  partial: the recording was cut off' <<<"$rep" &&
	grep -q "^stallscope: $tmp/killed.trace.partial: partial: no trailer after [1-9][0-9]* records" "$tmp/killed.err"; then
	ok record_killed_leaves_a_readable_partial_file
else
	not_ok record_killed_leaves_a_readable_partial_file "exit $rc: $rep $(cat "$tmp/killed.err"); $(ls "$tmp")"
fi

# ---- errors ----
out=$("$ss" record -p 999999999 -o "$tmp/x" 2>&1); rc=$?
if [ $rc -ne 0 ] && grep -q 'no process with pid 999999999' <<<"$out"; then ok record_rejects_missing_pid; else not_ok record_rejects_missing_pid "exit $rc: $out"; fi
# (An output path nobody can create, and none that may exist already: $tmp
# is root's alone.)
nr=$(mktemp -u /tmp/stallscope-nonroot.XXXXXX)
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$ss" record -o "$nr" -- /bin/true 2>&1); rc=$?
rm -f "$nr"
if [ $rc -ne 0 ] && grep -q 'needs root' <<<"$out"; then ok record_rejects_non_root; else not_ok record_rejects_non_root "exit $rc: $out"; fi
out=$("$ss" record -o "$tmp/true.trace" -- /bin/true 2>&1); rc=$?
if [ $rc -eq 0 ] && [ "$(grep -c 'no wsrt probes' <<<"$out")" = 1 ]; then ok record_binary_without_probes_is_kernel_only; else not_ok record_binary_without_probes_is_kernel_only "exit $rc: $out"; fi
out=$("$ss" record -o "$tmp/x" 2>&1); rc=$?
if [ $rc -eq 2 ]; then ok record_needs_a_target; else not_ok record_needs_a_target "exit $rc: $out"; fi
out=$("$ss" record -o "$tmp/x" -- /nonexistent/cmd 2>&1); rc=$?
if [ $rc -ne 0 ] && grep -q 'command not found' <<<"$out"; then ok record_rejects_missing_command; else not_ok record_rejects_missing_command "exit $rc: $out"; fi
