#!/usr/bin/env bash
# stallscope live, driven in tmux: live on lifo-stall (legacy), a replay
# of a recording, the keys, the ways out, the terminal restored after
# each.  Recording needs root and BPF, as the project's machines and CI
# have: without them these tests fail, loudly; they never skip.  Every
# wait is bounded (scaled by TEST_SLOW); tmux runs on a private socket
# whose server is killed at the end.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

ss=$(realpath "$BUILD/bin/stallscope")
lifo=$(realpath "$BUILD/bin/lifo-stall")
slow=${TEST_SLOW:-1}
tmp=$(mktemp -d)
sock=stallscope-live-test-$$
tm() { tmux -L "$sock" "$@"; }
trap 'tm kill-server 2>/dev/null; rm -rf "$tmp"' EXIT
# A session that lives as long as the script: killing a test's session
# must never take the server down while the next one connects to it
# ("server exited unexpectedly").
tm new-session -d -s keep$$ -x 80 -y 10 "sleep $((600 * slow))"

# start NAME CMD...: a 120x30 session running CMD in $tmp; when CMD ends
# the pane says EXIT=status and the terminal's settings, then waits.
start() {
	local name=$1
	shift
	printf '%q ' "$@" >"$tmp/$name.cmd"
	tm new-session -d -s "$name" -x 120 -y 30 -c "$tmp" \
		"cd $tmp; $(cat "$tmp/$name.cmd") 2>$tmp/$name.err; echo EXIT=\$?; stty -a | tr '\n' ' '; echo; sleep 3600"
}
screen() { tm capture-pane -p -t "$1"; }
# wait_for NAME REGEX SECONDS: polls the pane until REGEX (grep -E) shows.
wait_for() {
	local name=$1 re=$2 limit=$(($3 * slow * 10)) i
	for ((i = 0; i < limit; i++)); do
		screen "$name" >"$tmp/$name.screen" 2>/dev/null
		grep -Eq -- "$re" "$tmp/$name.screen" && return 0
		sleep 0.1
	done
	return 1
}
# wait_exit NAME SECONDS: until the command has ended and the shell has
# printed the terminal's settings after it.
# (-J: the long stty line wraps; joined, a word is never split.)
wait_exit() {
	local i
	wait_for "$1" 'EXIT=[0-9]+' "$2" || return 1
	for ((i = 0; i < 100; i++)); do
		tm capture-pane -p -J -t "$1" >"$tmp/$1.screen" 2>/dev/null
		grep -Eq ' -?icanon ' "$tmp/$1.screen" && return 0
		sleep 0.1
	done
	return 1
}
# keys NAME KEY...: sends them, then lets a frame or two pass.
keys() {
	local name=$1
	shift
	tm send-keys -t "$name" "$@"
	sleep 0.4
}
lanes() { grep -E '^w[0-9]+ [^ ]+ +\|.*\|$' "$1"; }
# restored NAME: after the exit, the shell's line settings are back.
restored() {
	grep -q 'EXIT=' "$tmp/$1.screen" && grep -Eq '(^| )icanon( |$)' "$tmp/$1.screen" &&
		grep -Eq '(^| )echo( |$)' "$tmp/$1.screen"
}

# ---- no terminal, bad input: one line, exit 2 ----
out=$("$ss" live -- "$lifo" </dev/null 2>&1 | cat); rc=${PIPESTATUS[0]}
if [ "$rc" = 2 ] && grep -q 'live needs a terminal' <<<"$out" &&
	grep -q 'stallscope record' <<<"$out" && grep -q 'stallscope timeline' <<<"$out"; then
	ok live_without_a_terminal_says_so
else
	not_ok live_without_a_terminal_says_so "exit $rc: $out"
fi
echo 'not a trace' >"$tmp/bad.trace"
out=$("$ss" live "$tmp/bad.trace" 2>&1 </dev/null); rc=$?
if [ $rc = 2 ] && [ "$(wc -l <<<"$out")" = 1 ] && grep -q "^stallscope: $tmp/bad.trace: " <<<"$out"; then
	ok live_bad_file_one_line_exit_2
else
	not_ok live_bad_file_one_line_exit_2 "exit $rc: $out"
fi
for args in "" "--speed 0 x.trace" "--threshold nan x.trace" "-p 0" "a b"; do
	name="live_rejects_${args// /_}"
	name=${name//./_}
	out=$("$ss" live $args 2>&1 </dev/null); rc=$?
	if [ $rc = 2 ] && [ -n "$out" ]; then ok "${name%_}"; else not_ok "${name%_}" "exit $rc: $out"; fi
done

# ---- live on lifo-stall, legacy: task A blocks its worker 3 s ----
s=lifo$$
start "$s" env WSRT_LIFO_STEALABLE=0 "$ss" live -- "$lifo" --block-ms 3000
if wait_for "$s" '^w[01] wsrt-w[01] +\|.*#' 30 && grep -q ' LIVE$' "$tmp/$s.screen"; then
	ok live_lifo_shows_lanes_while_running
	f=$tmp/$s.screen
	if [ "$(lanes "$f" | wc -l)" = 2 ] && grep -Eq '^events/s [0-9.]+k?M?  events [1-9][0-9]*  lost [0-9]+  wasted [0-9.]+ [mun]?s  stalls [0-9]+  column 10 ms' "$f" &&
		grep -q '^stallscope live - lifo-stall (pid [0-9]*), 2 workers ' "$f" &&
		grep -q '^# running  s searching  D parked on driver  . parked on futex' "$f"; then
		ok live_lifo_header_figures_and_legend
	else
		not_ok live_lifo_header_figures_and_legend "$(cat "$f")"
	fi
else
	not_ok live_lifo_shows_lanes_while_running "$(cat "$tmp/$s.screen") $(cat "$tmp/$s.err" 2>/dev/null)"
fi
if wait_for "$s" 'target exited \(status 0\)' 60; then
	# A capture can fall in the middle of a screen update (the header
	# drawn, the panel not yet): give the panel a moment to explain it.
	wait_for "$s" '^  \+[0-9.]+s  stuck_lifo' 10
	f=$tmp/$s.screen
	# One lane ran task A, the other slept, and the stall is marked under
	# them.  The view ends at the trace's end: the last second, of which
	# the runtime's shutdown can take half under TSan — so 20 columns of
	# each (200 ms of the 3 s), not all of them.
	if grep -Eq '^  \+[0-9.]+s  stuck_lifo task [0-9]+ \(task_b\) [0-9]+ ms on w[01] behind task [0-9]+ \(task_a\)' "$f" &&
		grep -q '  stalls 1  ' "$f" && grep -Eq '^stalls +\|[ ^]*\^{20}' "$f" &&
		lanes "$f" | grep -Eq '\|[^|]*#{20}' && lanes "$f" | grep -Eq '\|[^|]*[.D]{20}'; then
		ok live_lifo_stuck_lifo_entry_after_exit
	else
		not_ok live_lifo_stuck_lifo_entry_after_exit "$(cat "$f")"
	fi
	before=$(cat "$f")
	keys "$s" Space
	screen "$s" >"$f"
	if grep -q 'PAUSED  target exited' "$f"; then ok live_space_pauses; else not_ok live_space_pauses "$(cat "$f")"; fi
	keys "$s" -
	screen "$s" >"$f"
	if grep -q 'column 20 ms' "$f" && [ "$(cat "$f")" != "$before" ]; then ok live_minus_zooms_out; else not_ok live_minus_zooms_out "$(cat "$f")"; fi
	keys "$s" + +
	screen "$s" >"$f"
	if grep -Eq 'column 5(\.0)? ms' "$f"; then ok live_plus_zooms_in; else not_ok live_plus_zooms_in "$(cat "$f")"; fi
	keys "$s" s
	screen "$s" >"$f"
	if grep -Eq '^> \+[0-9.]+s  stuck_lifo' "$f" && grep -q 'LIFO slot' "$f"; then
		ok live_s_selects_and_explains_the_stall
	else
		not_ok live_s_selects_and_explains_the_stall "$(cat "$f")"
	fi
	keys "$s" '?'
	screen "$s" >"$f"
	if grep -q 'stallscope live - keys' "$f"; then ok live_question_mark_shows_help; else not_ok live_question_mark_shows_help "$(cat "$f")"; fi
	keys "$s" Escape
	keys "$s" q
	# Detaching the uprobes at exit waits for an RCU grace period per
	# link: seconds on a VM (the same for record).
	if wait_exit "$s" 60 && grep -q 'EXIT=0' "$tmp/$s.screen" && restored "$s" && ! grep -q 'stallscope live - ' "$tmp/$s.screen"; then
		ok live_q_quits_and_restores_the_terminal
	else
		not_ok live_q_quits_and_restores_the_terminal "$(cat "$tmp/$s.screen")"
	fi
	if grep -q '"wake_to_run_ms"' "$tmp/$s.err" && grep -q 'stallscope: [0-9]* events, 0 lost, 1 stall; detaching the probes$' "$tmp/$s.err"; then
		ok live_shows_the_targets_output_after
	else
		not_ok live_shows_the_targets_output_after "$(cat "$tmp/$s.err")"
	fi
else
	not_ok live_lifo_stuck_lifo_entry_after_exit "never exited: $(cat "$tmp/$s.screen") $(cat "$tmp/$s.err" 2>/dev/null)"
fi
tm kill-session -t "$s" 2>/dev/null

# ---- a worker that never leaves its CPU: seen while it spins ----
# Task A spins 4 s on its worker (--busy): the worker never sleeps, so its
# ring is drained only by the periodic pull; its poll must show as a run
# of '#' while the target still runs.  Once straight away, and once after
# a second with every thread asleep: the recorder then pulls less often
# (up to every 15 ms), and a worker that starts to spin must still show.
# spin_shown NAME SESSION LIFO-ARGS...
spin_shown() {
	local name=$1 s=$2
	shift 2
	start "$s" "$ss" live -- "$lifo" --busy --block-ms 4000 "$@"
	if wait_for "$s" '^w[01] wsrt-w[01] +\|[^|]*#{10}' 20 && grep -q ' LIVE$' "$tmp/$s.screen" &&
		! grep -q 'target exited' "$tmp/$s.screen"; then
		ok "$name"
	else
		not_ok "$name" "$(cat "$tmp/$s.screen")"
	fi
	tm kill-session -t "$s" 2>/dev/null
}
spin_shown live_spinning_worker_shown_before_the_spin_ends busy$$
spin_shown live_spinning_worker_shown_after_an_idle_second idle$$ --idle-ms 1000

# ---- Ctrl-C while the target runs: it is stopped, the terminal restored ----
s=intr$$
start "$s" "$ss" live -- "$lifo" --block-ms 60000
if wait_for "$s" '^w[01] wsrt-w[01] +\|.*#' 30; then
	pid=$(sed -n 's/^stallscope live - lifo-stall (pid \([0-9]*\)).*/\1/p' "$tmp/$s.screen")
	keys "$s" C-c
	if wait_exit "$s" 60 && grep -q 'EXIT=0' "$tmp/$s.screen" && restored "$s" && [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
		ok live_ctrl_c_stops_target_and_restores_the_terminal
	else
		not_ok live_ctrl_c_stops_target_and_restores_the_terminal "pid $pid: $(cat "$tmp/$s.screen")"
	fi
else
	not_ok live_ctrl_c_stops_target_and_restores_the_terminal "no lanes: $(cat "$tmp/$s.screen") $(cat "$tmp/$s.err" 2>/dev/null)"
fi
tm kill-session -t "$s" 2>/dev/null

# ---- errors: the terminal restored, one line, exit 1 ----
s=err$$
start "$s" "$ss" live -- /nonexistent/cmd
if wait_exit "$s" 30 && grep -q 'EXIT=1' "$tmp/$s.screen" && restored "$s" &&
	grep -q '^stallscope: /nonexistent/cmd: command not found$' "$tmp/$s.err"; then
	ok live_error_restores_the_terminal
else
	not_ok live_error_restores_the_terminal "$(cat "$tmp/$s.screen") $(cat "$tmp/$s.err" 2>/dev/null)"
fi
tm kill-session -t "$s" 2>/dev/null
s=false$$
start "$s" "$ss" live -- false
if wait_for "$s" 'target exited \(status 1\)' 30; then ok live_says_the_targets_exit_status; else not_ok live_says_the_targets_exit_status "$(cat "$tmp/$s.screen")"; fi
keys "$s" q
wait_exit "$s" 60
tm kill-session -t "$s" 2>/dev/null

# ---- replay a recording ----
trace=$tmp/legacy.trace
if ! WSRT_LIFO_STEALABLE=0 timeout $((60 * slow)) "$ss" record -o "$trace" -- "$lifo" >"$tmp/rec.out" 2>&1; then
	not_ok live_replay_recorded "record failed: $(cat "$tmp/rec.out")"
else
	s=replay$$
	# A symlink where `w` would write first: skipped, never followed.
	echo precious >"$tmp/precious"
	ln -s "$tmp/precious" "$tmp/stallscope-live-1.trace"
	start "$s" "$ss" live "$trace"
	if wait_for "$s" 'end of recording' $((10 + 2)); then
		f=$tmp/$s.screen
		if grep -q '^stallscope live - lifo-stall (pid [0-9]*), 2 workers ' "$f" &&
			grep -Eq 'REPLAY 1 x  0\.[0-9]/0\.[0-9] s  end of recording' "$f" &&
			[ "$(lanes "$f" | wc -l)" = 2 ] && grep -Eq '^w[01] wsrt-w[01] +\|[^|]*#{15}' "$f" &&
			grep -Eq '^  \+[0-9.]+s  stuck_lifo task [0-9]+ \(task_b\)' "$f" && grep -q '  stalls 1  ' "$f"; then
			ok live_replay_looks_like_live
		else
			not_ok live_replay_looks_like_live "$(cat "$f")"
		fi
		keys "$s" w
		screen "$s" >"$f"
		w=$(sed -n 's/.*w: wrote [0-9]* records .* to \(stallscope-live-[0-9]*\.trace\).*/\1/p' "$f")
		if [ -n "$w" ] && [ "$w" != stallscope-live-1.trace ] &&
			[ "$(cat "$tmp/precious")" = precious ] && [ -L "$tmp/stallscope-live-1.trace" ] &&
			"$ss" report "$tmp/$w" 2>&1 | grep -q 'stuck_lifo'; then
			ok live_w_writes_the_window_as_a_trace
		else
			not_ok live_w_writes_the_window_as_a_trace "file '$w': $(cat "$f")"
		fi
		# Resizing: the lanes follow the new width.
		tm resize-window -t "$s" -x 80 -y 24 2>/dev/null
		sleep 0.5
		screen "$s" >"$f"
		long=$(awk 'length > 80' "$f" | wc -l)
		if [ "$long" = 0 ] && [ "$(lanes "$f" | wc -l)" = 2 ] && lanes "$f" | awk 'length != 80 { exit 1 }'; then
			ok live_resize_redraws
		else
			not_ok live_resize_redraws "$(cat "$f")"
		fi
		keys "$s" q
		if wait_exit "$s" 10 && grep -q 'EXIT=0' "$tmp/$s.screen" && restored "$s"; then ok live_replay_q_restores; else not_ok live_replay_q_restores "$(cat "$tmp/$s.screen")"; fi
	else
		not_ok live_replay_looks_like_live "$(cat "$tmp/$s.screen") $(cat "$tmp/$s.err" 2>/dev/null)"
	fi
	tm kill-session -t "$s" 2>/dev/null

	# Stepped: paused at the start, n moves one column at a time.
	s=step$$
	start "$s" "$ss" live --step "$trace"
	if wait_for "$s" 'PAUSED 1 x  0\.0/' 10; then
		f=$tmp/$s.screen
		first=$(lanes "$f" | tr -d ' |' | tr -d '\n' | wc -c)
		keys "$s" n n n n n n n n n n
		screen "$s" >"$f"
		at=$(grep -Eo 'PAUSED 1 x  [0-9.]+/' "$f")
		# Then on, until the lanes fill (a slow build's workers start
		# later in its trace).
		for i in 1 2 3 4 5 6; do keys "$s" n n n n n n n n n n; done
		screen "$s" >"$f"
		now=$(lanes "$f" | tr -d ' |' | tr -d '\n' | wc -c)
		if [ "$at" = "PAUSED 1 x  0.1/" ] && [ "$now" -gt "$first" ] && grep -q 'wsrt-w[01] *|[^|]*#' "$f"; then
			ok live_step_advances_a_column_per_key
		else
			not_ok live_step_advances_a_column_per_key "at '$at', $first -> $now: $(cat "$f")"
		fi
		keys "$s" '>' Space
		if wait_for "$s" 'REPLAY 2 x .*end of recording' 10; then ok live_replay_speeds_up_and_plays; else not_ok live_replay_speeds_up_and_plays "$(cat "$tmp/$s.screen")"; fi
		keys "$s" q
	else
		not_ok live_step_advances_a_column_per_key "$(cat "$tmp/$s.screen") $(cat "$tmp/$s.err" 2>/dev/null)"
	fi
	tm kill-session -t "$s" 2>/dev/null
fi

# ---- lost events are shown ----
# Rings too small for the load (4 KiB per thread, 4 KiB for BPF): the
# replay's header counts what was lost.
if SS_RING_KB=4 timeout $((120 * slow)) "$ss" record --ring-kb 4 -o "$tmp/lossy.trace" -- \
	"$BUILD/bench/sched" --quick --workers 2 --filter yield_many >"$tmp/lossy.out" 2>&1; then
	s=lossy$$
	start "$s" "$ss" live "$tmp/lossy.trace"
	if wait_for "$s" '  lost [1-9][0-9]*  ' 20; then
		ok live_shows_lost_events
	else
		not_ok live_shows_lost_events "$(cat "$tmp/$s.screen")"
	fi
	tm kill-session -t "$s" 2>/dev/null
else
	not_ok live_shows_lost_events "record failed: $(tail -3 "$tmp/lossy.out")"
fi

# ---- not root ----
s=nonroot$$
start "$s" setpriv --reuid=65534 --regid=65534 --clear-groups "$ss" live -- "$lifo"
if wait_exit "$s" 20 && grep -q 'EXIT=2' "$tmp/$s.screen" && restored "$s" &&
	grep -q 'live needs root' "$tmp/$s.err"; then
	ok live_rejects_non_root
else
	not_ok live_rejects_non_root "$(cat "$tmp/$s.screen") $(cat "$tmp/$s.err" 2>/dev/null)"
fi
tm kill-session -t "$s" 2>/dev/null
