#!/usr/bin/env bash
# Runs every fuzz target for FUZZ_SECONDS (default 10: the smoke run in
# make check; `make fuzz` runs longer) on a scratch copy of its seed
# corpus, so new inputs are not added to the committed seeds.  A crash is
# saved under BUILD/fuzz/ and reported as a failing test.
#
#   tests/fuzz/run.sh BUILD_DIR
set -uo pipefail
build=${1:?usage: tests/fuzz/run.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
secs=${FUZZ_SECONDS:-10}

for fz in "$build"/fuzz/fuzz_*; do
	[ -x "$fz" ] || continue
	name=${fz##*/fuzz_}
	seeds=$here/corpus/$name
	work=$(mktemp -d)
	[ -d "$seeds" ] && cp -r "$seeds"/. "$work"/
	log=$build/fuzz/$name.log
	if "$fz" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
		-artifact_prefix="$build/fuzz/$name-" "$work" >"$log" 2>&1; then
		runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
		echo "ok - fuzz/$name (${runs:-?} runs in ${secs} s)"
	else
		echo "not ok - fuzz/$name: crash or timeout, see $log:"
		grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -5 | sed 's/^/  /'
	fi
	rm -rf "$work"
done
