#!/usr/bin/env bash
# What the unattached USDT probes cost, in instructions: each benchmark's
# --quick run on one worker (fixed work) under callgrind, with the probes
# compiled in (sched) and out (sched-noprobes).  Instruction counts are
# repeatable on this machine where wall-clock time is not; process startup
# (a --list run) is subtracted.
#
#   bench/probe_cost.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: bench/probe_cost.sh BUILD_DIR}

if ! command -v valgrind >/dev/null; then
	echo "# probe cost: valgrind not installed, skipped"
	exit 0
fi

. "$(dirname "$0")/../scripts/lib.sh"

echo "## unattached probe cost in instructions (callgrind, 1 worker, --quick, legacy)"
printf '# %-18s %12s %12s %8s\n' benchmark probes noprobes ratio
base_p=$(irefs "$build/bench/sched" --list)
base_n=$(irefs "$build/bench/sched-noprobes" --list)
for b in $("$build/bench/sched" --list); do
	p=$(irefs "$build/bench/sched" --workers 1 --quick --mode legacy --filter "$b")
	n=$(irefs "$build/bench/sched-noprobes" --workers 1 --quick --mode legacy --filter "$b")
	awk -v b="$b" -v p="$p" -v n="$n" -v bp="$base_p" -v bn="$base_n" \
		'BEGIN { printf "  %-18s %12d %12d %8.3f\n", b, p - bp, n - bn, (p - bp) / (n - bn) }'
done
