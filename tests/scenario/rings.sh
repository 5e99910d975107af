#!/usr/bin/env bash
# The event rings at their edges, recorded for real (root, BPF):
#  - a traced wsrt process that forks and execs while its workers run:
#    the child never takes the parent's rings for its own, the parent's
#    events go on, nothing is lost; the same with the drains copying in
#    pieces (a kernel without the dynptr copies);
#  - one that exits (exit()) while its workers write their rings: the
#    recording ends cleanly, with what was drained, never a garbage record;
#  - the main thread's last events before exit(): drained by ring_exit;
#  - one killed by a signal in the middle of its work: the rings are
#    drained as its threads take the signal;
#  - the shim's rings in programs that are not wsrt: Rust (std only) and
#    Python threads, their parks recorded through the rings.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

ss=$BUILD/bin/stallscope
edges=$BUILD/tests/ring-edges
slow=${TEST_SLOW:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# check NAME AWK-PROGRAM FILE: the program prints "ok" or a reason.
check() {
	local out
	out=$(awk "$2" "$3" 2>&1)
	if [ "$out" = ok ]; then ok "$1"; else not_ok "$1" "$out"; fi
}

# record_dump NAME TRACE CMD...: records CMD into TRACE and dumps it into
# TRACE.txt; not_ok NAME and false if either fails.
record_dump() {
	local name=$1 trace=$2
	shift 2
	if ! timeout $((120 * slow)) "$ss" record -o "$trace" -- "$@" >"$trace.out" 2>&1; then
		not_ok "$name" "record failed: $(tail -3 "$trace.out")"
		return 1
	fi
	if ! "$ss" dump "$trace" >"$trace.txt" 2>"$trace.err"; then
		not_ok "$name" "dump failed: $(cat "$trace.err")"
		return 1
	fi
}

# ---- fork and exec ----
if record_dump rings_fork_exec "$tmp/fork.trace" "$edges" fork-exec; then
	check rings_fork_exec '
		/^# pid:/ { pid = $3 }
		/^# trailer:/ { if ($0 !~ /lost=0 / || $0 !~ /stop=exited/) { print "trailer: " $0; exit } t = 1 }
		/ type=[0-9]/ { print "unknown record: " $0; exit }
		/ poll_end / { polls++ }
		/ worker_stop / { stops++ }
		END { if (!t) print "no trailer"; else if (polls < 1000) print "only " polls " polls";
		      else if (stops != 2) print stops " worker_stop records, want 2"; else print "ok" }' "$tmp/fork.trace.txt"
	if grep -q "^ring-edges: forked, exec'd" "$tmp/fork.trace.out"; then
		ok rings_fork_exec_target_unharmed
	else
		not_ok rings_fork_exec_target_unharmed "$(cat "$tmp/fork.trace.out")"
	fi
fi

# ---- the drains' other way: without the kernel's dynptr copies ----
# A kernel before 6.16 has no copy of user memory into a reservation of
# any size: the drains copy a claim in pieces of 2^k slots instead
# (bpf/ring_drain.bpf.h).  STALLSCOPE_RING_COPY=pieces takes that way
# here: the same busy recording, nothing lost, every slot decoded.
if STALLSCOPE_RING_COPY=pieces record_dump rings_copied_in_pieces "$tmp/pieces.trace" "$edges" fork-exec; then
	check rings_copied_in_pieces '
		/^# trailer:/ { if ($0 !~ /lost=0 / || $0 !~ /stop=exited/) { print "trailer: " $0; exit } t = 1 }
		/ type=[0-9]/ { print "unknown record: " $0; exit }
		/ poll_end / { polls++ }
		END { if (!t) print "no trailer"; else if (polls < 1000) print "only " polls " polls"; else print "ok" }' "$tmp/pieces.trace.txt"
	# The way was taken (the header says so), and not in the default
	# recording where the kernel copies whole.
	if grep -q '^# flags: .* ring-pieces' "$tmp/pieces.trace.txt" &&
		{ [ -n "$(ring_pieces)" ] || ! grep -q '^# flags: .* ring-pieces' "$tmp/fork.trace.txt"; }; then
		ok rings_header_says_how_the_drains_copied
	else
		not_ok rings_header_says_how_the_drains_copied "$(grep -h '^# flags' "$tmp/pieces.trace.txt" "$tmp/fork.trace.txt")"
	fi
fi

# ---- exit while the rings are being written and drained ----
if record_dump rings_exit_while_busy "$tmp/exit.trace" "$edges" exit-busy; then
	check rings_exit_while_busy '
		/^# trailer:/ { if ($0 !~ /stop=exited/ || $0 !~ /status=0$/) { print "trailer: " $0; exit } t = 1 }
		/ type=[0-9]/ { print "unknown record: " $0; exit }
		/ (poll_start|poll_end) worker=/ { split($5, w, "="); if (w[2] != 0 && w[2] != 1) { print "worker out of range: " $0; exit } polls++ }
		END { if (!t) print "no trailer"; else if (polls < 1000) print "only " polls " polls"; else print "ok" }' "$tmp/exit.trace.txt"
fi

# ---- the main thread's last events, drained at exit() ----
# lifo-stall's main thread wakes from block_on, stops the workers (a
# futex wake) and exits a moment later: no pull comes in between, no
# thread exit retires its ring.  The shim's ring_exit (its destructor)
# drains every ring then, so each of its parks ends in the trace.
if record_dump rings_exit_drains_the_main_threads_last_events "$tmp/main.trace" "$BUILD/bin/lifo-stall"; then
	check rings_exit_drains_the_main_threads_last_events '
		/^# pid:/ { pid = "tid=" $3 }
		$3 == pid && $4 == "park_enter" { enter++ }
		$3 == pid && $4 == "park_exit" { exit_++ }
		END { if (!enter) print "no park of the main thread";
		      else if (enter != exit_) print enter " parks of the main thread, " exit_ " ends (its last events lost at exit?)";
		      else print "ok" }' "$tmp/main.trace.txt"
fi

# ---- death by a signal: no ring_retire, no exit syscall ----
# The task's 100th poll sends the process SIGTERM, microseconds after its
# poll_start went into the ring: every poll_start must be in the trace
# (without the drain at signal delivery, most runs kept none of them).
if record_dump rings_die_by_signal "$tmp/sig.trace" "$edges" die-by-signal; then
	check rings_die_by_signal_drains_the_rings '
		/^# trailer:/ { if ($0 !~ /stop=exited/ || $0 !~ /status=15$/) { print "trailer: " $0; exit } t = 1 }
		/ poll_start / { n++ }
		END { if (!t) print "no trailer"; else if (n != 100) print n + 0 " poll_start records, want 100"; else print "ok" }' "$tmp/sig.trace.txt"
fi

# ---- the shim's rings in programs that are not wsrt ----
# Rust: std's Condvar and park through syscall(SYS_futex), an epoll thread.
# Nothing may be lost; if anything is, the failure says where (the
# `lost` records: tid 0 on a CPU is the BPF ring buffer's, another tid a
# thread's ring) — seen once, 98 of 44 k events in an ASan run of CI, in
# none of 57 runs since.
if record_dump rings_shim_in_rust "$tmp/rust.trace" "$BUILD/tests/preload/rust-parks"; then
	check rings_shim_in_rust '
		/ park_enter kind=futex / { fe++ } / park_exit kind=futex / { fx++ }
		/ park_enter kind=epoll / { ee++ }
		/ thread_name comm=tokio-runtime-w/ { names++ }
		/ lost count=/ && nl < 4 { lost = lost " | " $0; nl++ }
		/^# trailer:/ && !/lost=0 / { print "trailer: " $0 lost; bad = 1; exit }
		END { if (bad) exit; if (fe < 10 || fx < 10) print "futex parks: " fe " enter, " fx " exit";
		      else if (!ee) print "no epoll park"; else if (!names) print "no thread_name";
		      else print "ok" }' "$tmp/rust.trace.txt"
fi
# Python: threads waiting on locks and conditions (glibc's sem and condvar
# waits, timed), from the distribution's interpreter.
cat >"$tmp/threads.py" <<'EOF'
import threading
cond = threading.Condition()
items = []
def consumer():
    for _ in range(200):
        with cond:
            while not items:
                cond.wait(timeout=5)
            items.pop()
ts = [threading.Thread(target=consumer) for _ in range(2)]
for t in ts:
    t.start()
for i in range(400):
    with cond:
        items.append(i)
        cond.notify()
for t in ts:
    t.join()
print("python-threads: done")
EOF
if record_dump rings_shim_in_python "$tmp/py.trace" /usr/bin/python3 "$tmp/threads.py"; then
	check rings_shim_in_python '
		/ park_enter kind=(sem|cond|futex) / { n++; tids[$3] = 1 }
		/^# trailer:/ && !/lost=0 / { print "trailer: " $0; exit }
		END { k = 0; for (t in tids) k++
		      if (n < 5) print "only " n " parks"; else if (k < 2) print "parks from " k " threads"; else print "ok" }' "$tmp/py.trace.txt"
fi
