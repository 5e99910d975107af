#!/usr/bin/env bash
# The analyzer (stallscope report / check / timeline), three ways:
#
#  1. Golden event streams, tests/golden/*.txt: each is made into a real
#     trace file by mktrace (tests/tools/mktrace.c), analyzed with
#     `report --json`, and checked against its own expectation lines; one
#     ok / not ok per file.  The expectation lines (the analyzer's JSON
#     keys, docs/analyzer.md):
#
#       # expect: detections=1               how many detections in all
#       # expect: detections=1 kind=stuck_lifo task=2 duration_ms=200±10
#                     how many detections match every NAME OP VALUE after it
#       # expect: delay lifo_pinned>=190ms     delay_by_cause.lifo_pinned
#       # expect: lost_events=3                any top-level key
#       # expect(--threshold 5): detections=2  the same, with report options
#       # check: 1                             `stallscope check` exits 1
#       # check(--max-stall 5): 1              ... with these options
#
#     OP is = != >= <= > <; VALUE a number (ns-valued keys take ns, us,
#     ms or s suffixes; V±T or V+-T is a tolerance), true/false, or a
#     string (NAME!= with nothing after it: not empty).  duration_ms is
#     duration_ns in ms.  Every file is also checked for the JSON's shape
#     and key order, `events` equal to its record count, `duration_ns` to
#     its span, a human report, and check's one line per stall.
#  2. Bad input: report, check and timeline on a truncated, an
#     interrupted, a corrupted, an empty and a missing file exit 2 with
#     exactly one line on stderr and nothing on stdout.
#  3. Real recordings (root and BPF, as record.sh: never skipped): the
#     two scenarios legacy vs fixed, with probes and --kernel-only, and no
#     false positives from the scheduler benchmarks and a server under wrk.
#     The trace of a failed check is kept (its path is in the message).
#
# Every run is bounded by timeout; only processes started here are
# signalled.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

ss=$BUILD/bin/stallscope
mktrace=$BUILD/tests/mktrace
golden=$(cd "$(dirname "$0")/../golden" && pwd)
slow=${TEST_SLOW:-1}
# The traces of failed checks are kept here (removed if none failed).
keep=$(mktemp -d /tmp/stallscope-analyze.XXXXXX)
scratch_more() { rmdir "$keep" 2>/dev/null; }
scratch	# $tmp; ends what pids holds

# keep_trace FILE: copies FILE (and its FILE.out, .json) out of tmp and
# prints the kept trace's path.
keep_trace() {
	local f
	for f in "$1" "$1.out" "$1.json"; do
		[ -e "$f" ] && cp "$f" "$keep/"
	done
	echo "$keep/$(basename "$1")"
}

# ---- the JSON checker -----------------------------------------------------------
# tests/tools/check_report.py (python3, as export.sh's checker): the
# report's shape, then the expectation lines; or how many detections last
# at least MS ms.
report_check="python3 $(cd "$(dirname "$0")/../tools" && pwd)/check_report.py"

# json_eval JSON-FILE EXPECT-FILE: "ok" or the reasons, one per line.
json_eval() { $report_check eval "$2" <"$1"; }

# ---- 1. golden event streams --------------------------------------------------------

if [ ! -x "$mktrace" ]; then
	not_ok analyze_golden "no $mktrace (make builds it)"
fi
for g in "$golden"/*.txt; do
	[ -x "$mktrace" ] || break
	base=$(basename "$g" .txt)
	name=analyze_golden_$base
	t=$tmp/$base.trace
	why=()
	if ! "$mktrace" "$g" "$t" 2>"$tmp/mk.err"; then
		not_ok "$name" "mktrace: $(cat "$tmp/mk.err")"
		continue
	fi
	# report --json with no options, then with each expect(OPTIONS) set.
	sets=$(sed -n 's/^# expect(\(.*\)): .*/\1/p' "$g" | awk '!seen[$0]++')
	while IFS= read -r opts; do
		label=${opts:-default}
		# shellcheck disable=SC2086
		timeout $((30 * slow)) "$ss" report "$t" --json $opts </dev/null >"$tmp/r.json" 2>"$tmp/r.err"
		rc=$?
		if [ $rc -ne 0 ] || [ "$(wc -l <"$tmp/r.json")" -ne 1 ] || [ -s "$tmp/r.err" ]; then
			why+=("report --json $opts: exit $rc, $(wc -l <"$tmp/r.json") stdout lines, stderr: $(head -3 "$tmp/r.err")")
			continue
		fi
		if [ -z "$opts" ]; then
			sed -n 's/^# expect: //p' "$g" >"$tmp/exp"
			# Generic: every record counted, the span from first to last
			# (ms, or ns in a recording's dump: "# stallscope trace:" first).
			unit=1e6
			head -1 "$g" | grep -q '^# stallscope trace: ' && unit=1
			grep -v -E '^[[:space:]]*(#|meta[[:space:]]|$)' "$g" | awk -v unit=$unit '
				{ n++; t = $1 * unit; if (n == 1 || t < lo) lo = t; if (n == 1 || t > hi) hi = t }
				END { printf "events=%d\nduration_ns=%.0f±1000\n", n, n ? hi - lo : 0 }' >>"$tmp/exp"
		else
			awk -v o="$opts" 'index($0, "# expect(" o "): ") == 1 { print substr($0, length("# expect(" o "): ") + 1) }' "$g" >"$tmp/exp"
		fi
		res=$(json_eval "$tmp/r.json" "$tmp/exp")
		if [ "$res" != ok ]; then
			while IFS= read -r l; do why+=("[$label] $l"); done <<<"$res"
		fi
	done < <(printf '\n'; [ -n "$sets" ] && printf '%s\n' "$sets")

	# check: exit status, and one stdout line per stall when it is 1.
	checks=$(sed -n 's/^# check: \([0-9]\)$/|\1/p; s/^# check(\(.*\)): \([0-9]\)$/\1|\2/p' "$g")
	[ -n "$checks" ] || why+=("no '# check:' line in the golden file")
	while IFS='|' read -r opts want; do
		[ -n "$want" ] || continue
		# shellcheck disable=SC2086
		timeout $((30 * slow)) "$ss" check "$t" $opts </dev/null >"$tmp/c.out" 2>"$tmp/c.err"
		rc=$?
		if [ "$rc" != "$want" ]; then
			why+=("check $opts: exit $rc, want $want; stdout: $(head -5 "$tmp/c.out" | tr '\n' '|') stderr: $(head -3 "$tmp/c.err")")
			continue
		fi
		if [ "$rc" = 1 ]; then
			ms=$(sed -n 's/.*--max-stall[ =]\([0-9.]*\).*/\1/p' <<<"$opts")
			ms=${ms:-10}
			timeout $((30 * slow)) "$ss" report "$t" --json --threshold "$ms" </dev/null >"$tmp/r.json" 2>/dev/null
			n=$($report_check count "$ms" <"$tmp/r.json")
			lines=$(grep -c . "$tmp/c.out")
			[ "$lines" = "$n" ] ||
				why+=("check $opts: $lines stdout lines, want one per stall >= $ms ms: $n (report --threshold $ms); stdout: $(tr '\n' '|' <"$tmp/c.out")")
		fi
	done <<<"$checks"

	# The human report: exit 0 and something to read.
	timeout $((30 * slow)) "$ss" report "$t" >"$tmp/h.out" 2>"$tmp/h.err"
	rc=$?
	if [ $rc -ne 0 ] || [ ! -s "$tmp/h.out" ]; then
		why+=("report (text): exit $rc, $(wc -l <"$tmp/h.out") lines, stderr: $(head -3 "$tmp/h.err")")
	fi

	if [ ${#why[@]} -eq 0 ]; then
		ok "$name"
	else
		reason=$(printf '%s; ' "${why[@]}")
		not_ok "$name" "${reason%; }"
	fi
done

# The timeline draws every golden trace (exit 0, something on stdout).
bad=""
for t in "$tmp"/*.trace; do
	[ -e "$t" ] || continue
	timeout $((30 * slow)) "$ss" timeline "$t" >"$tmp/tl.out" 2>"$tmp/tl.err"
	rc=$?
	if [ $rc -ne 0 ] || [ ! -s "$tmp/tl.out" ]; then
		bad+="$(basename "$t" .trace): exit $rc, $(head -2 "$tmp/tl.err" | tr '\n' ' '); "
	fi
done
if [ -z "$bad" ] && compgen -G "$tmp/*.trace" >/dev/null; then
	ok analyze_timeline_draws_every_golden
else
	not_ok analyze_timeline_draws_every_golden "${bad:-no golden trace was made}"
fi

# ---- 2. bad input ----------------------------------------------------------------------

# Damaged copies of one golden trace: cut inside its header, a record of
# type 0, a bad magic; an empty file and a missing one.  Cut after the
# header (inside a record, or before the trailer: an interrupted
# recording), it is partial: read up to its last complete record, and
# said so.
src=$tmp/bad-src.trace
if "$mktrace" "$golden/stuck_lifo.txt" "$src" 2>/dev/null; then
	size=$(stat -c %s "$src")
	hlen=$(od -An -tu4 -j12 -N4 "$src" | tr -d ' ')
	head -c $((hlen - 10)) "$src" >"$tmp/headcut.trace"
	head -c $((size - 100)) "$src" >"$tmp/truncated.trace"
	head -c $((size - 64)) "$src" >"$tmp/interrupted.trace"
	cp "$src" "$tmp/corrupted.trace"
	printf '\0\0\0\0' | dd of="$tmp/corrupted.trace" bs=1 seek=$((hlen + 3 * 64 + 8)) conv=notrunc status=none
	cp "$src" "$tmp/badmagic.trace"
	printf 'X' | dd of="$tmp/badmagic.trace" bs=1 seek=0 conv=notrunc status=none
	: >"$tmp/empty.trace"
	for kind in headcut corrupted badmagic empty missing; do
		f=$tmp/$kind.trace
		for cmd in "report" "report --json" "check" "timeline"; do
			name="analyze_${cmd// --/_}_rejects_${kind}_file"
			# shellcheck disable=SC2086
			timeout $((30 * slow)) "$ss" $cmd "$f" >"$tmp/b.out" 2>"$tmp/b.err"
			rc=$?
			nerr=$(wc -l <"$tmp/b.err")
			if [ $rc -eq 2 ] && [ "$nerr" -eq 1 ] && [ ! -s "$tmp/b.out" ] &&
				grep -q "^stallscope: $f: ." "$tmp/b.err"; then
				ok "$name"
			else
				not_ok "$name" "exit $rc (want 2), $nerr stderr lines (want 1 'stallscope: $f: ...'): $(head -3 "$tmp/b.err" | tr '\n' '|') stdout: $(head -3 "$tmp/b.out" | tr '\n' '|')"
			fi
		done
	done
	for kind in truncated interrupted; do
		f=$tmp/$kind.trace
		for cmd in "report" "report --json" "check" "timeline"; do
			name="analyze_${cmd// --/_}_reads_${kind}_file_as_partial"
			# shellcheck disable=SC2086
			timeout $((30 * slow)) "$ss" $cmd "$f" >"$tmp/b.out" 2>"$tmp/b.err"
			rc=$?
			nerr=$(wc -l <"$tmp/b.err")
			case $cmd in
			report) said='^  partial: the recording was cut off' ;;
			"report --json") said='"partial":true,' ;;
			check) said='stuck_lifo' ;;
			timeline) said='stuck_lifo' ;;
			esac
			if { [ $rc -eq 0 ] || { [ "$cmd" = check ] && [ $rc -eq 1 ]; }; } &&
				[ "$nerr" -eq 1 ] && grep -Eq -- "$said" "$tmp/b.out" &&
				grep -q "^stallscope: $f: partial: no trailer after [0-9]* records (the file ends at offset [0-9]*)" "$tmp/b.err"; then
				ok "$name"
			else
				not_ok "$name" "exit $rc, $nerr stderr lines (want 1 'stallscope: $f: partial: ...'): $(head -3 "$tmp/b.err" | tr '\n' '|') stdout: $(head -5 "$tmp/b.out" | tr '\n' '|')"
			fi
		done
	done
else
	not_ok analyze_rejects_bad_files "mktrace could not make the source trace"
fi

# ---- 3. real recordings -------------------------------------------------------------------

# record NAME TRACE ENV... -- ARGS...: stallscope record into TRACE,
# bounded; output in TRACE.out.  False (and not ok NAME) if it failed.
record() {
	local name=$1 trace=$2
	shift 2
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	if ! env "${envs[@]}" timeout $((120 * slow)) "$ss" record -o "$trace" "$@" >"$trace.out" 2>&1; then
		not_ok "$name" "record failed: $(tail -3 "$trace.out" | tr '\n' '|')"
		return 1
	fi
}

# expect_trace NAME TRACE EXPECTATION...: report --json on TRACE against
# the expectation lines (the golden syntax).  Keeps the trace on failure.
expect_trace() {
	local name=$1 trace=$2 res
	shift 2
	printf '%s\n' "$@" >"$tmp/e2e.exp"
	if ! timeout $((60 * slow)) "$ss" report "$trace" --json >"$trace.json" 2>"$trace.err"; then
		not_ok "$name" "report failed: $(head -3 "$trace.err" | tr '\n' '|'); trace kept: $(keep_trace "$trace")"
		return 1
	fi
	res=$(json_eval "$trace.json" "$tmp/e2e.exp")
	if [ "$res" = ok ]; then
		ok "$name"
	else
		not_ok "$name" "$(tr '\n' ' ' <<<"$res")(trace kept: $(keep_trace "$trace"))"
		return 1
	fi
}

# expect_check NAME TRACE WANT [OPTS]: stallscope check's exit status.
expect_check() {
	local name=$1 trace=$2 want=$3 rc
	shift 3
	timeout $((60 * slow)) "$ss" check "$trace" "$@" >"$tmp/c.out" 2>"$tmp/c.err"
	rc=$?
	if [ $rc -eq "$want" ]; then
		ok "$name"
	else
		not_ok "$name" "check $*: exit $rc, want $want: $(head -3 "$tmp/c.out" "$tmp/c.err" | tr '\n' '|') (trace kept: $(keep_trace "$trace"))"
	fi
}

# lifo-stall, legacy: B waits behind A's 200 ms block, exactly once.
t=$tmp/lifo-legacy.trace
if record analyze_e2e_lifo_stall_legacy "$t" WSRT_LIFO_STEALABLE=0 -- -- "$BUILD/bin/lifo-stall"; then
	expect_trace analyze_e2e_lifo_stall_legacy "$t" \
		"detections=1" \
		"detections=1 kind=stuck_lifo duration_ms=200±20 blocker_name!= uncertain=false"
	expect_check analyze_e2e_check_lifo_stall_legacy_fails "$t" 1
	expect_check analyze_e2e_check_lifo_stall_legacy_max_stall_300_passes "$t" 0 --max-stall 300
fi

# lifo-stall, stealable: B is stolen at once.
t=$tmp/lifo-stealable.trace
if record analyze_e2e_lifo_stall_stealable "$t" WSRT_LIFO_STEALABLE=1 -- -- "$BUILD/bin/lifo-stall"; then
	expect_trace analyze_e2e_lifo_stall_stealable "$t" "detections=0"
	expect_check analyze_e2e_check_lifo_stall_stealable_passes "$t" 0
fi

# http-stall, legacy and eager, with the probes and --kernel-only.  A run
# whose request 0 (which waits only for its own handler) took over 1.2x
# the handler was disturbed from outside: repeated, up to 3 attempts (as
# tests/scenario/http_stall.sh does).
handler=200

# record_http_stall NAME TRACE ENV... -- ARGS...: record http-stall (its
# default 200 ms handler) into TRACE until request 0 took at most 1.2x
# the handler, up to 3 attempts.  False (and not ok NAME) if recording
# failed or no attempt was undisturbed.
record_http_stall() {
	local name=$1 trace=$2 attempt lat first
	shift 2
	for attempt in 1 2 3; do
		record "$name" "$trace" "$@" || return 1
		lat=$(sed -n 's/.*"latencies_ms":\[\([0-9.,]*\)\].*/\1/p' "$trace.out")
		first=${lat%%,*}
		if [ -n "$first" ] && awk -v v="$first" -v h=$handler 'BEGIN { exit !(v <= 1.2 * h) }'; then
			return 0
		fi
		echo "# $name: attempt $attempt disturbed (latencies [$lat] ms)"
	done
	not_ok "$name" "no undisturbed run in 3 attempts: $(tail -3 "$trace.out" | tr '\n' '|')"
	return 1
}

for kernel in "" --kernel-only; do
	for mode in 0 1; do
		label=$([ $mode = 1 ] && echo eager || echo legacy)${kernel:+_kernel_only}
		name=analyze_e2e_http_stall_$label
		t=$tmp/http-$label.trace
		record_http_stall "$name" "$t" WSRT_EAGER_HANDOFF=$mode -- $kernel -- "$BUILD/bin/http-stall" ||
			continue
		if [ $mode = 0 ]; then
			# The new connections wait for the driver's owner: ~1 handler.
			expect_trace "$name" "$t" \
				"detections>=1 kind=idle_but_parked duration_ms>=120 duration_ms<=260"
		else
			expect_trace "$name" "$t" "detections=0"
		fi
	done
done

# http-stall, legacy, with one more thread asleep for good in an epoll of
# its own (--idle-epoll: a second runtime's idle driver, say): it must
# not hide the runtime's readiness.  The recorder asks each socket's own
# epoll instance whether a thread waits on it —
# the same rule without syscall hooks (the default), with --syscalls and
# with --kernel-only.  (Before, any target thread inside any epoll wait
# hid all readiness: no detection.)
for opt in "" --syscalls --kernel-only; do
	name=analyze_e2e_http_stall_legacy_other_epoll_asleep${opt:+_${opt#--}}
	name=${name//-/_}
	t=$tmp/http-other-epoll${opt}.trace
	record_http_stall "$name" "$t" WSRT_EAGER_HANDOFF=0 -- $opt -- "$BUILD/bin/http-stall" --idle-epoll ||
		continue
	expect_trace "$name" "$t" "detections>=1 kind=idle_but_parked duration_ms>=120 duration_ms<=260"
done

# The same legacy http-stall recorded with --no-readiness: no
# sk_data_ready record (its program not loaded), so no idle_but_parked —
# and the trace, report (text and --json), check and timeline each say
# that it cannot have one, rather than a clean bill.
name=analyze_e2e_http_stall_legacy_no_readiness
t=$tmp/http-no-readiness.trace
if record_http_stall "$name" "$t" WSRT_EAGER_HANDOFF=0 -- --no-readiness -- "$BUILD/bin/http-stall" &&
	expect_trace "$name" "$t" "detections=0 kind=idle_but_parked"; then
	n=$("$ss" dump "$t" 2>/dev/null | grep -c ' sk_data_ready ')
	flags=$("$ss" dump "$t" 2>/dev/null | sed -n 's/^# flags: //p')
	"$ss" report "$t" >"$t.txt" 2>&1
	"$ss" check "$t" >/dev/null 2>"$t.chk"
	"$ss" timeline "$t" 2>&1 | head -1 >"$t.tl"
	if [ "$n" != 0 ] || ! grep -qw no-readiness <<<"$flags" ||
		! grep -q ', readiness not recorded$' "$t.tl" ||
		! grep -q '"readiness":false' "$t.json" ||
		! grep -q '^  readiness: not recorded (--no-readiness): no idle_but_parked' "$t.txt" ||
		! grep -q 'recorded with --no-readiness: idle_but_parked stalls are not checked' "$t.chk"; then
		not_ok "${name}_said" "$n sk_data_ready records; flags '$flags'; report: $(grep readiness "$t.txt"); check: $(cat "$t.chk"); timeline: $(cat "$t.tl") (trace kept: $(keep_trace "$t"))"
	else
		ok "${name}_said"
	fi
fi

# The longest a target thread waited for a CPU once woken, in ms (its
# sched_waking to the sched_switch that runs it, in time order).  On this
# 2-vCPU VM, with a CPU idle, over 5 ms means the host kept a vCPU from
# running: a run disturbed from outside (seen: a TSan run's main thread
# woken while holding TSan's lock, on a CPU 11 ms late).
longest_wakeup_ms() {
	"$ss" dump "$1" 2>/dev/null | grep -E '^[0-9]+ ' | sort -n -k1,1 | awk '
		/ sched_waking / { for (i = 2; i <= NF; i++) if ($i ~ /^tid=/) w[substr($i, 5)] = $1 }
		/ sched_switch / { for (i = 2; i <= NF; i++) if ($i ~ /^next=/) {
			n = substr($i, 6); if (w[n]) { d = $1 - w[n]; if (d > m) m = d; w[n] = 0 } } }
		END { printf "%.1f\n", m / 1e6 }'
}

# No false positives: every scheduler benchmark shape, both LIFO modes.
# A run with a detection whose trace shows a thread kept off the CPUs
# from outside (above) says nothing about the analyzer: it is repeated,
# up to 3 attempts, and reported; the assertion stays zero detections.
name=analyze_e2e_bench_sched_no_detections
t=$tmp/sched.trace
for attempt in 1 2 3; do
	record "$name" "$t" -- -- "$BUILD/bench/sched" --quick --workers 2 || break
	printf 'detections=0\n' >"$tmp/e2e.exp"
	if timeout $((60 * slow)) "$ss" report "$t" --json >"$t.json" 2>"$t.err" &&
		[ "$(json_eval "$t.json" "$tmp/e2e.exp")" = ok ]; then
		ok "$name"
		break
	fi
	wake=$(longest_wakeup_ms "$t")
	if [ $attempt -lt 3 ] && awk -v v="$wake" 'BEGIN { exit !(v >= 5) }'; then
		echo "# $name: attempt $attempt disturbed (a thread woken waited $wake ms for a CPU)"
		continue
	fi
	if awk -v v="$wake" 'BEGIN { exit !(v >= 5) }'; then
		not_ok "$name" "no undisturbed run in 3 attempts (the last: a wakeup waited $wake ms; trace kept: $(keep_trace "$t"))"
	else
		expect_trace "$name" "$t" "detections=0"
	fi
	break
done

# No false positives: a server without blocking handlers under wrk.
# With --handler-ms 0 every poll takes microseconds; a run was stalled
# from outside if one took over 5 ms, or if a detection's worker lost most
# of it to the hypervisor (steal_ns: this shared VM stops vCPUs for ms at a
# time; vcpu_steal records show it).  Such a run says nothing about the
# analyzer and is repeated, up to 8 attempts, and reported.  The assertion
# itself stays: zero detections.  (perf shows where such polls go: a third
# of the server's CPU in recv spinning on the socket's lock — the
# paravirt queued-spinlock slow path, its holder the softirq delivering
# wrk's data on the other vCPU, which the hypervisor preempts.)
name=analyze_e2e_http_server_under_wrk_no_detections
t=$tmp/wrk.trace

# The longest poll_start -> poll_end in a trace, in ms.
longest_poll_ms() {
	"$ss" dump "$1" 2>/dev/null | awk '
		/ poll_start / { st[$5] = $1 }
		/ poll_end / { if (st[$5]) { d = $1 - st[$5]; if (d > m) m = d; st[$5] = 0 } }
		END { printf "%.1f\n", m / 1e6 }'
}

# One recorded run under wrk into $t; 0 if it ran, else not_ok was said.
# Each attempt has its own output file: the background job creates it
# only once it runs, and the previous attempt's port must not be read.
wrk_run() {
	local out=$t.$attempt.out
	: >"$out"
	timeout $((60 * slow)) "$ss" record -o "$t" -- "$BUILD/bin/http-stall" --serve-only \
		--handler-ms 0 --workers 2 --duration 6 >"$out" 2>&1 &
	rec=$!
	pids+=("$rec")
	# (it starts once the probes are attached)
	if ! port=$(listen_port "$out" "$rec" $((600 * slow))); then
		not_ok "$name" "the server did not start: $(tail -3 "$out" | tr '\n' '|')"
		kill "$rec" 2>/dev/null
		return 1
	fi
	timeout 20 wrk -t 1 -c 8 -d 3s "http://127.0.0.1:$port/" >"$tmp/wrk.out" 2>&1
	wrc=$?
	if ! wait "$rec"; then
		not_ok "$name" "record failed: $(tail -3 "$out" | tr '\n' '|')"
		return 1
	fi
	if [ $wrc -ne 0 ] || ! grep -q 'Requests/sec' "$tmp/wrk.out"; then
		not_ok "$name" "wrk failed (exit $wrc): $(tail -3 "$tmp/wrk.out" | tr '\n' '|')"
		return 1
	fi
}

if ! command -v wrk >/dev/null; then
	not_ok "$name" "wrk is not installed (make deps installs it)"
else
	for attempt in 1 2 3 4 5 6 7 8; do
		wrk_run || break
		json=$("$ss" report --json "$t" 2>/dev/null)
		dets=$(grep -o '"kind"' <<<"$json" | wc -l)
		stolen=$(grep -o '"duration_ns":[0-9]*,[^}]*"steal_ns":[0-9]*' <<<"$json" |
			sed 's/"duration_ns":\([0-9]*\),.*"steal_ns":\([0-9]*\)/\1 \2/' |
			awk '2 * $2 >= $1 { n++ } END { print n + 0 }')
		lp=$(longest_poll_ms "$t")
		if [ "$dets" -gt 0 ] && [ $attempt -lt 8 ] &&
			{ [ "$stolen" -gt 0 ] || awk -v v="$lp" 'BEGIN { exit !(v > 5) }'; }; then
			echo "# $name: attempt $attempt disturbed (a poll took $lp ms with --handler-ms 0; $dets detections, $stolen mostly vCPU steal)"
			continue
		fi
		expect_trace "$name" "$t" "detections=0"
		break
	done
fi

# mktrace reads everything dump prints: real recordings, dumped, piped
# into mktrace as they are (header, records, trailer), and dumped again,
# dump the same, byte for byte — the record schema (userspace/schema.c)
# both ways.  But the trailer's records=: it counts the file's 64-byte
# units, and a recording keeps ring events in blocks of 32-byte slots,
# which mktrace writes as one record each.
name=analyze_mktrace_reads_what_dump_prints
bad=""
n=0
for t in "$tmp"/lifo-legacy.trace "$tmp"/http-legacy.trace "$tmp"/http-legacy_kernel_only.trace; do
	[ -s "$t" ] || continue
	n=$((n + 1))
	"$ss" dump "$t" 2>/dev/null | sed 's/^# trailer: records=[0-9]* /# trailer: /' >"$tmp/rt.a"
	if ! "$mktrace" - "$tmp/rt.trace" <"$tmp/rt.a" 2>"$tmp/rt.err"; then
		bad+="$(basename "$t"): $(head -1 "$tmp/rt.err"); "
		continue
	fi
	"$ss" dump "$tmp/rt.trace" 2>/dev/null | sed 's/^# trailer: records=[0-9]* /# trailer: /' >"$tmp/rt.b"
	if ! cmp -s "$tmp/rt.a" "$tmp/rt.b"; then
		bad+="$(basename "$t"): first difference: $(diff "$tmp/rt.a" "$tmp/rt.b" | head -4 | tr '\n' '|'); "
	fi
done
if [ $n -eq 0 ]; then
	not_ok "$name" "no recording to read (the recordings above failed)"
elif [ -n "$bad" ]; then
	not_ok "$name" "$bad"
else
	ok "$name"
fi
