#!/usr/bin/env bash
# The lifo-stall scenario in both modes, sleeping and spinning.  Behaviour,
# not benchmark: legacy waits >= 0.8x the block time, stealable <= 0.1x.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

block=200
for busy in "" --busy; do
	for mode in 0 1; do
		name="lifo_stall_${mode/0/legacy}${busy:+_busy}"
		name=${name/_1/_stealable}
		out=$(WSRT_LIFO_STEALABLE=$mode timeout 30 \
			"$BUILD/bin/lifo-stall" --block-ms $block $busy 2>&1)
		rc=$?
		line=$(grep '^{"scenario":"lifo-stall"' <<<"$out")
		ms=$(json_num wake_to_run_ms "$line")
		if [ $rc -ne 0 ] || [ -z "$ms" ]; then
			not_ok "$name" "exit $rc, output: $out"
			continue
		fi
		grep -q "\"lifo_stealable\":$([ $mode = 1 ] && echo true || echo false)" <<<"$line" ||
			{ not_ok "$name" "JSON does not report the mode: $line"; continue; }
		if [ $mode = 0 ]; then
			check_awk "$name" "v >= 0.8 * $block" "$ms" \
				"wake-to-run $ms ms, want >= $((block * 8 / 10)) ms (B stuck behind A)"
		else
			check_awk "$name" "v <= 0.1 * $block" "$ms" \
				"wake-to-run $ms ms, want <= $((block / 10)) ms (B stolen)"
		fi
	done
done

# Bad arguments: one clear error, exit 2.
for args in "--block-ms x" "--workers 1" "--nope" "extra"; do
	name="lifo_stall_rejects_${args// /_}"
	out=$("$BUILD/bin/lifo-stall" $args 2>&1)
	rc=$?
	if [ $rc -eq 2 ] && grep -q 'lifo-stall' <<<"$out"; then ok "$name"; else not_ok "$name" "exit $rc: $out"; fi
done
out=$(WSRT_LIFO_STEALABLE=maybe "$BUILD/bin/lifo-stall" 2>&1)
rc=$?
if [ $rc -eq 2 ] && grep -q WSRT_LIFO_STEALABLE <<<"$out"; then ok lifo_stall_rejects_bad_env; else not_ok lifo_stall_rejects_bad_env "exit $rc: $out"; fi
