#!/usr/bin/env bash
# make demo: the stall scenarios, legacy vs fixed, side by side.
# (Until the tracer lands this runs the scenarios untraced and shows what
# each measures; `stallscope demo` will add the traces and detections.)
#
#   scripts/demo.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
block=${DEMO_BLOCK_MS:-200}

json_num() { sed -n "s/.*\"$1\":\(-\{0,1\}[0-9.][0-9.]*\).*/\1/p" <<<"$2"; }

run_lifo() {
	WSRT_LIFO_STEALABLE=$1 "$build/bin/lifo-stall" --block-ms "$block" | tail -1
}

echo "lifo-stall: task A wakes task B over a channel, then blocks its worker"
echo "for $block ms without yielding; 2 workers, the other one idle."
echo
legacy=$(run_lifo 0)
fixed=$(run_lifo 1)
printf '  %-34s B waited %8.3f ms  (B ran on worker %s, A on worker %s)\n' \
	"legacy (WSRT_LIFO_STEALABLE=0):" "$(json_num wake_to_run_ms "$legacy")" \
	"$(json_num b_worker "$legacy")" "$(json_num a_worker "$legacy")"
printf '  %-34s B waited %8.3f ms  (B ran on worker %s, A on worker %s)\n' \
	"fixed  (WSRT_LIFO_STEALABLE=1):" "$(json_num wake_to_run_ms "$fixed")" \
	"$(json_num b_worker "$fixed")" "$(json_num a_worker "$fixed")"
echo
echo "legacy: B sat in A's worker's LIFO slot, which nobody may steal, and a"
echo "        task put in an empty LIFO slot wakes nobody (Tokio < 1.51)."
echo "fixed:  putting B in the slot woke the idle worker, which stole it"
echo "        (Tokio PR 7431)."
echo
echo "raw results:"
echo "  $legacy"
echo "  $fixed"
