#!/usr/bin/env bash
# The preload shim through the recorder, with real BPF: `stallscope record
# -- CMD` preloads the shim and attaches to its probes, and the decoded
# trace shows what each thread parked on.
#  1. the Rust program (std only): the shim's start, the workers named
#     tokio-runtime-w, futex parks on the job queue, epoll parks on the
#     thread that waits for I/O and only there, futex wakes with counts,
#     enter/exit pairs per thread;
#  2. the transparency program: cond and sem parks, timeouts decoded from
#     the caller's timespec (read by BPF, not by the shim), errors as
#     -errno, names of other threads; same output as without recording;
#  3. faults show in the trace: start says which, park_exit which fired;
#  4. --no-preload: no shim records; -p PID: the shim of a running
#     process is found in its mappings.
# Needs root and BPF, as the project's machines and CI have: without them
# these tests fail, loudly; they never skip.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

ss=$BUILD/bin/stallscope
slow=${TEST_SLOW:-1}
scratch	# $tmp; ends the server left in $pid
preload_setup	# $so, $tdir

# record NAME TRACE CMD...: records CMD (its stdout into TRACE.out) and
# dumps the trace into TRACE.txt; not_ok NAME and false if either fails.
record() {
	local name=$1 trace=$2
	shift 2
	if ! timeout $((120 * slow)) "$ss" record -o "$trace" -- "$@" >"$trace.out" 2>"$trace.err"; then
		not_ok "$name" "record failed: $(tail -5 "$trace.err")"
		return 1
	fi
	if ! "$ss" dump "$trace" >"$trace.txt" 2>"$trace.dumperr"; then
		not_ok "$name" "dump failed: $(cat "$trace.dumperr")"
		return 1
	fi
}

# check NAME AWK-PROGRAM FILE: the program prints "ok" or a reason.
check() {
	local name=$1 prog=$2 file=$3 out
	out=$(awk "$prog" "$file" 2>&1)
	if [ "$out" = ok ]; then ok "$name"; else not_ok "$name" "$out"; fi
}

# check_in_time NAME AWK-PROGRAM FILE: the same over FILE's records in
# time order.
check_in_time() {
	grep -v '^#' "$3" | sort -s -n -k1,1 >"$3.sorted"
	check "$1" "$2" "$3.sorted"
}

# Every park_enter is followed, on its thread, by its park_exit (same
# kind, object, op) before the next park_enter — in time: a file holds a
# thread's ring events in the order their drains submitted them, and two
# drains of one ring (its half-full flush, the periodic pull) may submit
# out of order; check_in_time sorts the records by time first (stably).
pairs='
	/ park_enter / { t = $3; if (open[t] != "") { print "two park_enters on " t " at " $1; exit }
			 open[t] = $5 " " $6 " " $7; n++ }
	/ park_exit / { t = $3; if (open[t] != $5 " " $6 " " $7) { print "park_exit without its enter on " t " at " $1 ": " $0; exit }
			open[t] = "" }
	END { print (n >= 10 ? "ok" : "only " n " parks") }'

# ---- 1. the Rust program ----------------------------------------------------------------

if record preload_record_rust "$tmp/rust.trace" "$tdir/rust-parks"; then
	t=$tmp/rust.trace.txt
	if grep -q '^rust-parks: jobs=20000 ' "$tmp/rust.trace.out"; then ok preload_record_rust_runs
	else not_ok preload_record_rust_runs "output: $(cat "$tmp/rust.trace.out")"; fi
	check preload_record_shim_starts_once '
		/ start / { n++; if ($5 != "spurious_ppm=0" || $6 != "eintr_ppm=0" || $7 != "delay_us=0") { print "faults on: " $0; exit } }
		END { if (n != 1) print n " start records"; else print "ok" }' "$t"
	check preload_record_names_the_tokio_workers '
		/ thread_name comm=tokio-runtime-w / { if ($6 != "thread=" substr($3, 5) || $7 != "result=0") { print "bad: " $0; exit } w++ }
		/ thread_name comm=io-driver / { io++ }
		END { print (w == 4 && io == 1 ? "ok" : w " tokio-runtime-w names, " io " io-driver") }' "$t"
	check preload_record_workers_park_on_futexes '
		/ thread_name comm=tokio-runtime-w / { worker[$3] = 1 }
		/ park_enter kind=futex / && worker[$3] { f++ }
		/ park_exit kind=futex / && worker[$3] && / result=0 / { woke++ }
		/ futex_wake / && / op=wake\|private / && / result=1$/ { wakes++ }
		END { print (f > 0 && woke > 0 && wakes > 0 ? "ok" : f " worker futex parks, " woke " woken, " wakes " wakes that woke one") }' "$t"
	# What tells "parked on the I/O driver" from "parked on a futex":
	# epoll parks, on the driver thread and nowhere else.
	check preload_record_epoll_parks_only_on_the_io_thread '
		/ thread_name comm=io-driver / { io = $3 }
		/ park_enter kind=epoll / { if ($3 != io) { print "epoll park on " $3 ", the driver is " io; exit } e++ }
		/ park_exit kind=epoll / && / result=1 / { got++ }
		END { print (e > 0 && got > 0 ? "ok" : e " epoll parks, " got " with an event") }' "$t"
	check_in_time preload_record_parks_pair_per_thread "$pairs" "$t"
fi

# ---- 2. the transparency program -------------------------------------------------------

"$tdir/transparency" >"$tmp/plain.out" 2>&1
if record preload_record_transparency "$tmp/tp.trace" "$tdir/transparency"; then
	t=$tmp/tp.trace.txt
	if cmp -s "$tmp/plain.out" "$tmp/tp.trace.out"; then ok preload_record_transparency_same_output
	else not_ok preload_record_transparency_same_output "$(diff "$tmp/plain.out" "$tmp/tp.trace.out" | head -20)"; fi
	check preload_record_every_park_kind '
		/ park_enter / { kinds[$5]++ }
		END { all = kinds["kind=epoll"] && kinds["kind=futex"] && kinds["kind=cond"] && kinds["kind=sem"]
		      print (all ? "ok" : "epoll " kinds["kind=epoll"] ", futex " kinds["kind=futex"] ", cond " kinds["kind=cond"] ", sem " kinds["kind=sem"]) }' "$t"
	check preload_record_timeouts_read_by_the_tracer '
		/ park_enter kind=epoll / && / op=pwait2 timeout_ns=15000000$/ { pw = 1 }
		/ park_enter kind=futex / && / op=wait\|private timeout_ns=10000000$/ { fw = 1 }
		/ park_enter kind=futex / && / op=wait_bitset\|private\|abs timeout_ns=[0-9]+$/ { bs = 1 }
		/ park_enter kind=cond / && / op=timedwait\|abs\|realtime timeout_ns=[0-9]+$/ { cw = 1 }
		/ park_enter kind=cond / && / op=timedwait\|abs timeout_ns=[0-9]+$/ { cm = 1 }
		/ park_enter kind=sem / && / op=clockwait\|abs timeout_ns=[0-9]+$/ { sc = 1 }
		END { print (pw && fw && bs && cw && cm && sc ? "ok" : "missing: pwait2 " pw ", futex " fw ", bitset " bs ", cond realtime " cw ", cond monotonic " cm ", sem " sc) }' "$t"
	check preload_record_results_and_errors '
		/ park_exit kind=futex / && / result=-110 / { timedout = 1 }
		/ park_exit kind=epoll / && / result=-4 / { eintr = 1 }
		/ park_exit kind=cond / && / result=-1 / { eperm = 1 }
		/ futex_wake / && / count=2 result=2$/ { two = 1 }
		END { print (timedout && eintr && eperm && two ? "ok" : "ETIMEDOUT " timedout ", EINTR " eintr ", EPERM " eperm ", woke 2 " two) }' "$t"
	check preload_record_names_and_failed_names '
		/ thread_name comm=tp-main / { main = 1 }
		/ thread_name comm=tp-other thread=0 result=0$/ { other = 1 }
		/ thread_name comm= thread=[0-9]+ result=-34$/ { erange = 1 }
		/ thread_name comm=tp-early / { early = 1 }
		END { print (main && other && erange && early ? "ok" : "main " main ", other " other ", ERANGE " erange ", before main " early) }' "$t"
	check_in_time preload_record_transparency_parks_pair "$pairs" "$t"
fi

# ---- 3. faults in the trace ------------------------------------------------------------------

if STALLSCOPE_FAULTS=spurious_wake:0.5,eintr:0.9,delay_us:100,seed:4 \
	record preload_record_faults "$tmp/f.trace" "$tdir/rust-parks"; then
	check preload_record_faults_visible '
		/ start / { if ($5 == "spurious_ppm=500000" && $6 == "eintr_ppm=900000" && $7 == "delay_us=100" && $8 == "seed=4") st = 1 }
		/ park_exit kind=futex / && /faults=(.*\|)?spurious/ { sp++ }
		/ park_exit kind=epoll / && /faults=(.*\|)?eintr/ && / result=-4 / { ei++ }
		/ park_exit / && /faults=(.*\|)?delay/ { de++ }
		END { print (st && sp && ei && de ? "ok" : "start " st ", spurious " sp ", eintr " ei ", delay " de) }' "$tmp/f.trace.txt"
	if cmp -s "$tmp/rust.trace.out" "$tmp/f.trace.out"; then ok preload_record_faults_same_output
	else not_ok preload_record_faults_same_output "$(cat "$tmp/f.trace.out")"; fi
fi

# ---- 4. without the shim; a running process --------------------------------------------------

if timeout $((120 * slow)) "$ss" record --no-preload -o "$tmp/n.trace" -- "$tdir/rust-parks" \
	>/dev/null 2>"$tmp/n.err" && "$ss" dump "$tmp/n.trace" >"$tmp/n.txt"; then
	check preload_record_no_preload_no_shim_records '
		/ (start|park_enter|park_exit|futex_wake|thread_name) / { print "shim record: " $0; exit }
		/ futex_enter / { f++ }
		END { if (f) print "ok"; else print "no futex_enter either" }' "$tmp/n.txt"
else
	not_ok preload_record_no_preload_no_shim_records "$(cat "$tmp/n.err")"
fi

LD_PRELOAD=$so "$BUILD/bin/http-stall" --serve-only --workers 2 --handler-ms 0 --duration $((30 * slow)) \
	>"$tmp/srv.out" 2>&1 &
pid=$!
if ! port=$(listen_port "$tmp/srv.out" "$pid" $((200 * slow))); then
	not_ok preload_record_attach_to_running_shim "server did not start: $(cat "$tmp/srv.out")"
else
	timeout $((30 * slow)) "$ss" record -p "$pid" --duration 3 -o "$tmp/p.trace" >"$tmp/p.out" 2>&1 &
	rec=$!
	wait_recording "$tmp/p.out" "$rec"
	# Requests for as long as it records (--duration 3), at most 300.
	for _ in $(seq 300); do
		kill -0 "$rec" 2>/dev/null || break
		sleep 0.1
		curl -sS -m 2 -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null
	done
	if ! wait "$rec"; then
		not_ok preload_record_attach_to_running_shim "record failed: $(cat "$tmp/p.out")"
	elif ! "$ss" dump "$tmp/p.trace" >"$tmp/p.txt" 2>&1; then
		not_ok preload_record_attach_to_running_shim "dump failed: $(cat "$tmp/p.txt")"
	else
		check preload_record_attach_to_running_shim '
			/ park_enter kind=epoll / { e++ } / park_enter kind=futex / { f++ }
			END { print (e > 0 && f > 0 ? "ok" : e " epoll parks, " f " futex parks") }' "$tmp/p.txt"
	fi
fi
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
pid=
