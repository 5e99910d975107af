#!/usr/bin/env bash
# Runs every test: the unit-test binaries (each test forked, with a
# timeout) and the scenario scripts.  Every test prints "ok - name" or
# "not ok - name: why"; the last line is "N passed, N failed".
#
#   tests/run.sh BUILD_DIR [asan|tsan]
set -uo pipefail

build=${1:?usage: tests/run.sh BUILD_DIR [asan|tsan]}
san=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
export BUILD=$build

# Scenario scripts that compile code link it the same way.
export SAN_CFLAGS=""
case $san in
asan)
	SAN_CFLAGS="-fsanitize=address,undefined"
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	export TEST_SLOW=3
	;;
tsan)
	SAN_CFLAGS="-fsanitize=thread"
	export TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1"
	export TEST_SLOW=10
	;;
esac

log=$(mktemp)
trap 'rm -f "$log"' EXIT

for t in "$build"/tests/test_*; do
	[ -x "$t" ] || continue
	"$t" 2>&1 | grep -v -E '^[0-9]+ passed, [0-9]+ failed$' | tee -a "$log"
done
for s in "$here"/scenario/*.sh; do
	bash "$s" 2>&1 | tee -a "$log"
done
# The fuzz targets are built with their own sanitizers: the plain run
# smoke-fuzzes them (FUZZ_SECONDS each, default 10).
if [ -z "$san" ]; then
	"$here/fuzz/run.sh" "$build" 2>&1 | tee -a "$log"
fi

passed=$(grep -c '^ok - ' "$log")
failed=$(grep -c '^not ok - ' "$log")
if [ "$passed" -eq 0 ]; then
	echo "not ok - run.sh: no test ran"
	failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
