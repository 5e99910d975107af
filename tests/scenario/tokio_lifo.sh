#!/usr/bin/env bash
# The Tokio example (examples/tokio-lifo, Debian's Tokio 1.24) reproduces
# the stuck-LIFO-task stall in Tokio itself, in its release and fat-LTO
# builds, and its controls do not: behaviour, not benchmark.  A stall
# variant's task B waits >= 0.8x the block time (it sat in the blocked
# worker's LIFO slot); in a control it runs within 0.1x of it.  Three
# runs each in one runtime; the median is judged.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

block=100
slow=${TEST_SLOW:-1}

# median of the runs' wake_to_run_ms in OUT
median_ms() {
	grep '^{"scenario":"tokio-lifo"' <<<"$1" |
		sed -n 's/.*"wake_to_run_ms":\([0-9.]*\).*/\1/p' | sort -g |
		awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

# run NAME BIN WANT ARGS...: WANT is stall or none
run() {
	local name=$1 bin=$2 want=$3 out rc ms
	shift 3
	out=$(timeout $((60 * slow)) "$bin" --block-ms $block --runs 3 "$@" 2>&1)
	rc=$?
	ms=$(median_ms "$out")
	if [ $rc -ne 0 ] || [ -z "$ms" ] || [ "$(grep -c '^{"scenario"' <<<"$out")" != 3 ]; then
		not_ok "$name" "exit $rc, output: $out"
	elif [ "$want" = stall ]; then
		check_awk "$name" "v >= 0.8 * $block" "$ms" \
			"median wake-to-run $ms ms, want >= $((block * 8 / 10)) ms (B stuck in A's LIFO slot)"
	else
		check_awk "$name" "v <= 0.1 * $block" "$ms" \
			"median wake-to-run $ms ms, want <= $((block / 10)) ms (B not held behind A)"
	fi
}

for build in "" -lto; do
	bin=$BUILD/bin/tokio-lifo$build
	for variant in wake spawn; do
		for busy in "" --busy; do
			run "tokio_lifo${build/-/_}_${variant}${busy:+_busy}_stalls" "$bin" stall \
				--variant $variant $busy
		done
		run "tokio_lifo${build/-/_}_${variant}_control_yield" "$bin" none \
			--variant $variant --control yield
		run "tokio_lifo${build/-/_}_${variant}_control_block_in_place" "$bin" none \
			--variant $variant --control block-in-place
	done
	run "tokio_lifo${build/-/_}_wake_control_outside" "$bin" none --control outside
done
bin=$BUILD/bin/tokio-lifo-unstable
run tokio_lifo_unstable_wake_stalls "$bin" stall
for variant in wake spawn; do
	run "tokio_lifo_unstable_${variant}_control_no_lifo" "$bin" none \
		--variant $variant --control no-lifo
done

# The fat-LTO build keeps Tokio's task vtable entry points as symbols, one
# per monomorphization (what stallscope attaches to), but no DWARF.
syms=$(nm -C "$BUILD/bin/tokio-lifo-lto" 2>&1)
npoll=$(grep -c 'tokio::runtime::task::raw::poll$' <<<"$syms")
nsched=$(grep -c 'tokio::runtime::task::raw::schedule$' <<<"$syms")
if [ "$npoll" -ge 2 ] && [ "$nsched" -ge 2 ] && ! grep -q debug_info <<<"$(readelf -S "$BUILD/bin/tokio-lifo-lto")"; then
	ok tokio_lifo_lto_keeps_task_entry_symbols
else
	not_ok tokio_lifo_lto_keeps_task_entry_symbols "raw::poll $npoll, raw::schedule $nsched, or DWARF present"
fi

# Bad arguments: one clear error, exit 2.
for args in "--block-ms x" "--workers 1" "--variant x" "--control x" "--nope" \
	"--variant spawn --control outside" "--block-ms"; do
	name="tokio_lifo_rejects_${args// /_}"
	out=$("$BUILD/bin/tokio-lifo" $args 2>&1)
	rc=$?
	if [ $rc -eq 2 ] && grep -q '^tokio-lifo: ' <<<"$out"; then ok "$name"; else not_ok "$name" "exit $rc: $out"; fi
done
out=$("$BUILD/bin/tokio-lifo" --control no-lifo 2>&1)
rc=$?
if [ $rc -eq 2 ] && grep -q 'tokio_unstable' <<<"$out"; then
	ok tokio_lifo_no_lifo_needs_unstable_build
else
	not_ok tokio_lifo_no_lifo_needs_unstable_build "exit $rc: $out"
fi
