#!/usr/bin/env bash
# stallscope timeline and stallscope demo on real recordings.  Recording
# needs root and BPF, as the project's machines and CI have: without them
# these tests fail, loudly; they never skip.  Every run is bounded.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

ss=$BUILD/bin/stallscope
slow=${TEST_SLOW:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# lanes FILE: the lane lines of a timeline ("wN NAME |...|").
lanes() { grep -E '^w[0-9]+ [^ ]+ +\|.*\|$' "$1"; }
# cells LINE: what is between a lane's bars.
cells() { sed -E 's/^[^|]*\|(.*)\|$/\1/' <<<"$1"; }

# ---- timeline of lifo-stall, legacy ----
trace=$tmp/legacy.trace
if ! WSRT_LIFO_STEALABLE=0 timeout $((60 * slow)) "$ss" record -o "$trace" -- \
	"$BUILD/bin/lifo-stall" >"$tmp/rec.out" 2>&1; then
	not_ok timeline_lifo_legacy_recorded "record failed: $(cat "$tmp/rec.out")"
else
	ok timeline_lifo_legacy_recorded

	"$ss" timeline "$trace" >"$tmp/t.txt" 2>"$tmp/t.err"; rc=$?
	if [ $rc -ne 0 ] || [ -s "$tmp/t.err" ]; then
		not_ok timeline_exits_0 "exit $rc: $(cat "$tmp/t.err")"
	else
		ok timeline_exits_0
		n=$(lanes "$tmp/t.txt" | wc -l)
		if [ "$n" = 2 ] && lanes "$tmp/t.txt" | grep -q '^w0 wsrt-w0 ' &&
			lanes "$tmp/t.txt" | grep -q '^w1 wsrt-w1 '; then
			ok timeline_one_lane_per_worker
		else
			not_ok timeline_one_lane_per_worker "$n lanes: $(cat "$tmp/t.txt")"
		fi
		bad=$(lanes "$tmp/t.txt" | while read -r l; do c=$(cells "$l"); [ ${#c} = 100 ] || echo "${#c}"; done)
		if [ -z "$bad" ]; then ok timeline_default_width_100; else not_ok timeline_default_width_100 "lane widths: $bad"; fi
		if grep -q '^legend: # running' "$tmp/t.txt" && grep -q 'parked on futex' "$tmp/t.txt"; then
			ok timeline_has_legend
		else
			not_ok timeline_has_legend "$(cat "$tmp/t.txt")"
		fi
		if grep -Eq '^ +\^+ .*stuck_lifo task [0-9]+ \(task_b\) [0-9]+ ms on w[01]' "$tmp/t.txt"; then
			ok timeline_marks_stuck_lifo
		else
			not_ok timeline_marks_stuck_lifo "$(cat "$tmp/t.txt")"
		fi
		if grep -q '^detections: 1 stuck_lifo (threshold 10 ms)' "$tmp/t.txt"; then
			ok timeline_summary_line
		else
			not_ok timeline_summary_line "$(tail -1 "$tmp/t.txt")"
		fi
		if grep -q '^ *time (ms)  0 ' "$tmp/t.txt"; then ok timeline_time_axis; else not_ok timeline_time_axis "$(cat "$tmp/t.txt")"; fi
	fi

	"$ss" timeline "$trace" --width 40 >"$tmp/w.txt" 2>&1; rc=$?
	bad=$(lanes "$tmp/w.txt" | while read -r l; do c=$(cells "$l"); [ ${#c} = 40 ] || echo "${#c}"; done)
	n=$(lanes "$tmp/w.txt" | wc -l)
	if [ $rc -eq 0 ] && [ "$n" = 2 ] && [ -z "$bad" ]; then
		ok timeline_width_40
	else
		not_ok timeline_width_40 "exit $rc, $n lanes, widths $bad: $(cat "$tmp/w.txt")"
	fi

	# Inside the stall (task A blocks its worker for 200 ms from where the
	# report puts the stall; a slow build starts it later in the trace):
	# one lane runs all along, the other sleeps, the marker spans it all.
	off=$("$ss" report --json "$trace" | sed -n 's/.*"offset_ms":\([0-9.]*\).*/\1/p' | head -1)
	from=$(awk -v o="${off:-0}" 'BEGIN { printf "%.1f", o + 50 }')
	to=$(awk -v o="${off:-0}" 'BEGIN { printf "%.1f", o + 150 }')
	"$ss" timeline "$trace" --from "$from" --to "$to" --width 50 >"$tmp/n.txt" 2>&1; rc=$?
	running=$(lanes "$tmp/n.txt" | grep -Ec '\|#{50}\|$')
	parked=$(lanes "$tmp/n.txt" | grep -Ec '\|[D.]{50}\|$')
	if [ $rc -eq 0 ] && grep -q "^window $from-$to ms, one column = 2.0 ms" "$tmp/n.txt" &&
		[ "$running" = 1 ] && [ "$parked" = 1 ] &&
		grep -Eq '^ +\^{50}  stuck_lifo' "$tmp/n.txt"; then
		ok timeline_from_to_narrows
	else
		not_ok timeline_from_to_narrows "exit $rc: $(cat "$tmp/n.txt")"
	fi

	out=$("$ss" timeline "$trace" --from 100000 2>&1); rc=$?
	if [ $rc -eq 2 ] && [ "$(wc -l <<<"$out")" = 1 ] && grep -q 'past the trace' <<<"$out"; then
		ok timeline_rejects_window_past_the_end
	else
		not_ok timeline_rejects_window_past_the_end "exit $rc: $out"
	fi

	# Cut mid-record, well inside the file whatever its size.
	head -c $(( $(stat -c %s "$trace") / 2 + 13 )) "$trace" >"$tmp/cut.trace"
	out=$("$ss" timeline "$tmp/cut.trace" 2>&1 >/dev/null); rc=$?
	if [ $rc -eq 0 ] && [ "$(wc -l <<<"$out")" = 1 ] && grep -q "^stallscope: $tmp/cut.trace: partial: no trailer after" <<<"$out"; then
		ok timeline_partial_file_drawn_and_said_so
	else
		not_ok timeline_partial_file_drawn_and_said_so "exit $rc: $out"
	fi
fi

echo 'not a trace' >"$tmp/bad.trace"
out=$("$ss" timeline "$tmp/bad.trace" 2>&1); rc=$?
if [ $rc -eq 2 ] && [ "$(wc -l <<<"$out")" = 1 ] && grep -q "^stallscope: $tmp/bad.trace: " <<<"$out"; then
	ok timeline_bad_file_one_line_exit_2
else
	not_ok timeline_bad_file_one_line_exit_2 "exit $rc: $out"
fi
for args in "" "--width 0" "--width x" "--from 5 --to 5" "--to nan" "--threshold 0" "a b"; do
	name="timeline_rejects_${args// /_}"
	out=$("$ss" timeline $args ${args:+"$tmp/bad.trace"} 2>&1); rc=$?
	if [ $rc -eq 2 ] && [ -n "$out" ]; then ok "${name%_}"; else not_ok "${name%_}" "exit $rc: $out"; fi
done

# ---- a kernel-only trace: workers from their names and behaviour ----
if ! WSRT_LIFO_STEALABLE=0 timeout $((60 * slow)) "$ss" record --kernel-only -o "$tmp/k.trace" -- \
	"$BUILD/bin/lifo-stall" >"$tmp/k.out" 2>&1; then
	not_ok timeline_kernel_only "record failed: $(cat "$tmp/k.out")"
else
	"$ss" timeline "$tmp/k.trace" --width 60 >"$tmp/k.txt" 2>&1; rc=$?
	n=$(lanes "$tmp/k.txt" | wc -l)
	if [ $rc -eq 0 ] && [ "$n" = 2 ] && grep -q 'kernel events only' "$tmp/k.txt" &&
		lanes "$tmp/k.txt" | grep -q '#'; then
		ok timeline_kernel_only
	else
		not_ok timeline_kernel_only "exit $rc, $n lanes: $(cat "$tmp/k.txt")"
	fi
fi
# The shape that recording has only when its worker 1 is given task A
# before it first parks (a race; 4 of 20 recordings): from its first
# switch on, awake, so running in this mode, never a blank (unknown) lane.
g=$(dirname "$0")/../golden/kernel_only_runs_before_first_park.txt
if ! "$BUILD/tests/mktrace" "$g" "$tmp/g.trace" 2>"$tmp/g.err"; then
	not_ok timeline_kernel_only_runs_before_first_park "mktrace: $(cat "$tmp/g.err")"
else
	"$ss" timeline "$tmp/g.trace" --width 60 >"$tmp/g.txt" 2>&1
	w1=$(cells "$(lanes "$tmp/g.txt" | grep '^w1 ')")
	if [ ${#w1} = 60 ] && [ -z "${w1//#/}" ]; then
		ok timeline_kernel_only_runs_before_first_park
	else
		not_ok timeline_kernel_only_runs_before_first_park "worker 1's lane is not all running: $(cat "$tmp/g.txt")"
	fi
fi

# ---- stallscope demo lifo ----
dir=$tmp/demo
timeout $((180 * slow)) "$ss" demo lifo -o "$dir" >"$tmp/demo.txt" 2>"$tmp/demo.err"; rc=$?
if [ $rc -ne 0 ]; then
	not_ok demo_lifo_exits_0 "exit $rc: $(cat "$tmp/demo.err") $(tail -5 "$tmp/demo.txt")"
else
	ok demo_lifo_exits_0
	missing=
	for f in lifo-legacy.trace lifo-fixed.trace; do
		"$ss" dump "$dir/$f" >/dev/null 2>&1 || missing="$missing $f"
	done
	if [ -z "$missing" ]; then ok demo_writes_both_traces; else not_ok demo_writes_both_traces "missing or unreadable:$missing ($(ls "$dir"))"; fi
	# ... and each as a Perfetto trace that protoc decodes, named in the output.
	proto=$(dirname "$0")/../../../shared/perfetto/perfetto_subset.proto
	bad=
	for m in legacy fixed; do
		f=$dir/lifo-$m.pftrace
		grep -q "^perfetto: $f (open it in https://ui.perfetto.dev)$" "$tmp/demo.txt" || bad="$bad $m: not in the output;"
		protoc -I"$(dirname "$proto")" --decode=perfetto.protos.Trace "$proto" <"$f" >"$tmp/pf.txt" 2>"$tmp/pf.err" ||
			bad="$bad $m: $(head -2 "$tmp/pf.err" | tr '\n' ' ');"
	done
	grep -q 'string_value: "stuck_lifo"' <(protoc -I"$(dirname "$proto")" --decode=perfetto.protos.Trace "$proto" <"$dir/lifo-legacy.pftrace" 2>/dev/null) ||
		bad="$bad legacy: no stuck_lifo stall slice;"
	if [ -z "$bad" ]; then ok demo_writes_perfetto_traces; else not_ok demo_writes_perfetto_traces "$bad ($(ls "$dir"))"; fi
	# The legacy run's section, then the fixed run's.
	legacy=$(sed -n '/^-- legacy/,/^-- fixed/p' "$tmp/demo.txt")
	fixed=$(sed -n '/^-- fixed/,/^== conclusion/p' "$tmp/demo.txt")
	if grep -q '^  - stuck_lifo' <<<"$legacy" && grep -q 'measured: task B waited' <<<"$legacy"; then
		ok demo_legacy_shows_stuck_lifo
	else
		not_ok demo_legacy_shows_stuck_lifo "$legacy"
	fi
	if grep -q '^stalls found: none' <<<"$fixed" && ! grep -q stuck_lifo <<<"$fixed"; then
		ok demo_fixed_shows_none
	else
		not_ok demo_fixed_shows_none "$fixed"
	fi
	if grep -q '^lifo-stall  legacy: 1 stall found (stuck_lifo); fixed: none\.' "$tmp/demo.txt" &&
		tail -1 "$tmp/demo.txt" | grep -q "$dir"; then
		ok demo_concludes
	else
		not_ok demo_concludes "$(tail -4 "$tmp/demo.txt")"
	fi
fi
out=$("$ss" demo nope 2>&1); rc=$?
if [ $rc -eq 2 ] && grep -q 'no scenario nope' <<<"$out"; then ok demo_rejects_unknown_scenario; else not_ok demo_rejects_unknown_scenario "exit $rc: $out"; fi
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$ss" demo lifo -o "$tmp/x" 2>&1); rc=$?
if [ $rc -eq 2 ] && grep -q 'needs root' <<<"$out" && [ ! -e "$tmp/x" ]; then
	ok demo_rejects_non_root
else
	not_ok demo_rejects_non_root "exit $rc: $out"
fi
