#!/usr/bin/env bash
# make demo: the stall scenarios (lifo-stall, http-stall), legacy vs fixed,
# side by side.
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
echo

handler=${DEMO_HANDLER_MS:-200}
run_http() {
	WSRT_EAGER_HANDOFF=$1 "$build/bin/http-stall" --handler-ms "$handler" | tail -1
}
lat() { sed -n 's/.*"latencies_ms":\[\([^]]*\)\].*/\1/p' <<<"$1" | sed 's/,/, /g'; }

echo "http-stall: an HTTP/1.1 server on 4 workers whose handler blocks its"
echo "worker for $handler ms.  After a warm-up request, one request on the warm"
echo "connection, then 20 ms later three on new connections."
echo
legacy=$(run_http 0)
fixed=$(run_http 1)
printf '  %-34s %s ms\n' "legacy (WSRT_EAGER_HANDOFF=0):" "$(lat "$legacy")"
printf '  %-34s %s ms\n' "fixed  (WSRT_EAGER_HANDOFF=1):" "$(lat "$fixed")"
echo
echo "legacy: the worker that held the I/O driver went off to run the first"
echo "        handler; the others slept on their futex and nobody polled epoll,"
echo "        so the new connections waited for it: about 2x the handler."
echo "fixed:  leaving the driver with work to do, the worker first woke a"
echo "        parked one to take it over (Tokio PR 8010): all about 1x."
echo
echo "raw results:"
echo "  $legacy"
echo "  $fixed"
