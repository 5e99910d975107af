#!/usr/bin/env bash
# `stallscope record` on the Tokio example (release and fat-LTO builds)
# finds Tokio's own task entry points by itself; their uprobes record each
# task made
# runnable (notify) and each poll (start, end) as the trace's runtime
# records, marked as Tokio's (flags=0x1), with the task's header address as
# its id on both sides.  The stall shows in them: task B notified by A's
# worker thread is next polled on that same thread, after A's poll ended,
# >= 0.8x the block later; with the yield control, within 0.1x.  A
# stripped copy gets one line (Tokio's version, from its data, and what is
# recorded instead); a C program and --no-tokio, none of Tokio's records.
# Needs root and BPF; never skips.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

ss=$BUILD/bin/stallscope
slow=${TEST_SLOW:-1}
block=100
scratch

# b_wait DUMP A_TID: "WAIT_MS POLL_TID": from the first Tokio notify on
# A_TID (task A making B runnable) to B's next poll_start, and its thread.
b_wait() {
	awk -v a="$2" '
	/ flags=0x1$/ && $4 == "notify" && $3 == "tid=" a && !task {
		task = $5; t0 = $1; next
	}
	task && $4 == "poll_start" && $6 == task {
		sub("tid=", "", $3); printf "%.3f %s\n", ($1 - t0) / 1e6, $3; exit
	}' "$1"
}

# rec NAME BIN ARGS...: records one run; sets line (the
# example's JSON), dump (a file), out (record's stderr).  False on failure.
rec() {
	local name=$1 bin=$2
	shift 2
	if ! timeout $((60 * slow)) "$ss" record -o "$tmp/$name.trace" -- "$bin" \
		--block-ms $block "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"; then
		not_ok "$name" "record failed: $(tail -5 "$tmp/$name.err" | tr '\n' '|')"
		return 1
	fi
	line=$(grep '^{"scenario":"tokio-lifo"' "$tmp/$name.out")
	"$ss" dump "$tmp/$name.trace" >"$tmp/$name.dump" 2>&1
	return 0
}

for build in "" -lto; do
	bin=$BUILD/bin/tokio-lifo$build
	tag=tokio_record${build/-/_}
	for variant in wake spawn; do
		name=${tag}_${variant}_stall_seen
		rec "$name" "$bin" --variant $variant || continue
		if ! grep -q "^stallscope: Tokio 1\.[0-9.]*: [0-9]* raw::poll, [0-9]* raw::schedule and 1 schedule_task sites in " "$tmp/$name.err" ||
			grep -q 'no wsrt probes' "$tmp/$name.err"; then
			not_ok "$name" "no sites said: $(cat "$tmp/$name.err")"
			continue
		fi
		a=$(json_num a_tid "$line")
		read -r ms tid <<<"$(b_wait "$tmp/$name.dump" "$a")"
		if [ -z "${ms:-}" ]; then
			not_ok "$name" "no Tokio notify on A's thread $a followed by B's poll: $(grep -c 'flags=0x1' "$tmp/$name.dump") Tokio records"
		elif [ "$tid" != "$a" ]; then
			not_ok "$name" "B polled on $tid, not A's thread $a (after $ms ms)"
		else
			check_awk "$name" "v >= 0.8 * $block" "$ms" \
				"B polled $ms ms after A's notify, want >= $((block * 8 / 10)) ms"
		fi
	done
	name=${tag}_yield_control_seen
	if rec "$name" "$bin" --control yield; then
		a=$(json_num a_tid "$line")
		read -r ms tid <<<"$(b_wait "$tmp/$name.dump" "$a")"
		check_awk "$name" "v <= 0.1 * $block" "${ms:-999999}" \
			"B polled ${ms:-never} ms after A's notify, want <= $((block / 10)) ms"
	fi
done

# Polls nest (each worker thread runs inside its launch's poll, a
# blocking-pool task's): every Tokio poll_end closes the innermost poll
# open on its thread, the same task, and every poll is closed by the end.
name=tokio_record_polls_paired
v=$(awk '/ flags=0x1$/ && ($4 == "poll_start" || $4 == "poll_end") {
		if ($4 == "poll_start") { st[$3, ++d[$3]] = $6; n++ }
		else if (d[$3] < 1 || st[$3, d[$3]--] != $6) bad++
	} END { for (t in d) open += d[t]; print n + 0, bad + 0, open + 0 }' \
	"$tmp/${tag}_yield_control_seen.dump" 2>/dev/null)
read -r n bad open <<<"$v"
if [ "${n:-0}" -ge 3 ] && [ "${bad:-1}" = 0 ] && [ "${open:-1}" = 0 ]; then
	ok "$name"
else
	not_ok "$name" "polls $n, mismatched ends $bad, open at the end $open"
fi

# No symbols: one line, and the kernel's view still recorded.  Not Tokio:
# nothing said.  --no-tokio: the line a binary without probes gets.
strip -o "$tmp/tokio-lifo-stripped" "$BUILD/bin/tokio-lifo-lto"
for case in stripped c no_tokio; do
	name=tokio_record_without_symbols_$case
	bin=$tmp/tokio-lifo-stripped opt=
	want="Tokio 1\.[0-9.]*, but stripped (no symbol table, no debug file found), so its task entry points are not found: recording the preload shim's and the kernel's events only"
	# wsrt's lifo-stall: its own probes, and not a word about Tokio
	[ $case = c ] && bin=$BUILD/bin/lifo-stall want=' events, .* lost, '
	[ $case = no_tokio ] && bin=$BUILD/bin/tokio-lifo-lto opt=--no-tokio want='has no wsrt probes: recording'
	if timeout $((60 * slow)) "$ss" record $opt -o "$tmp/$case.trace" -- "$bin" --block-ms 20 \
		>/dev/null 2>"$tmp/$case.err" &&
		[ "$(grep -c "^stallscope: .*$want" "$tmp/$case.err")" = 1 ] &&
		[ "$(grep -vc ' events, .* lost, ' "$tmp/$case.err")" = "$([ $case = c ] && echo 0 || echo 1)" ] &&
		"$ss" report "$tmp/$case.trace" >/dev/null 2>&1 &&
		! grep -q 'flags=0x1$' <<<"$("$ss" dump "$tmp/$case.trace")"; then
		ok "$name"
	else
		not_ok "$name" "$(cat "$tmp/$case.err")"
	fi
done

# Stripped, with a separate debug file (.gnu_debuglink next to it): found
# through elfutils, attached, the stall seen.
name=tokio_record_stripped_with_debug_file
mkdir -p "$tmp/dbg"
lto=$(cd "$BUILD/bin" && pwd)/tokio-lifo-lto
if (cd "$tmp/dbg" && objcopy --only-keep-debug "$lto" t.debug &&
	strip -o t "$lto" && objcopy --add-gnu-debuglink=t.debug t) 2>"$tmp/dbg.err" &&
	rec "$name" "$tmp/dbg/t"; then
	a=$(json_num a_tid "$line")
	read -r ms tid <<<"$(b_wait "$tmp/$name.dump" "$a")"
	if grep -q "^stallscope: Tokio 1\.[0-9.]*: [0-9]* raw::poll, [0-9]* raw::schedule and 1 schedule_task sites in " "$tmp/$name.err" &&
		[ "${tid:-}" = "$a" ]; then
		check_awk "$name" "v >= 0.8 * $block" "${ms:-0}" "B polled ${ms:-never} ms after A's notify"
	else
		not_ok "$name" "$(cat "$tmp/$name.err")"
	fi
else
	not_ok "$name" "$(cat "$tmp/dbg.err")"
fi

# record -p on a Tokio program started earlier: its entry points found
# and attached to the running process; the stalls after attach found.
name=tokio_record_attach_pid
"$BUILD/bin/tokio-lifo" --block-ms $block --runs 30 >"$tmp/p.out" 2>&1 &
pid=$!
sleep 0.5
if ! timeout $((60 * slow)) "$ss" record -p "$pid" --duration 2 -o "$tmp/p.trace" \
	>"$tmp/p.rec" 2>&1; then
	not_ok "$name" "record -p failed: $(tail -3 "$tmp/p.rec" | tr '\n' '|')"
else
	n=$("$ss" report --json "$tmp/p.trace" | grep -o '"kind":"stuck_lifo"' | wc -l)
	if grep -q "^stallscope: Tokio 1\.[0-9.]*: [0-9]* raw::poll, [0-9]* raw::schedule and 1 schedule_task sites" "$tmp/p.rec" &&
		[ "$n" -ge 5 ]; then
		ok "$name"
	else
		not_ok "$name" "$n stuck_lifo in 2 s of 150 ms runs: $(head -3 "$tmp/p.rec" | tr '\n' '|')"
	fi
fi
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
pid=
