#!/usr/bin/env bash
# HTTP throughput of the example server: wrk (2 threads, 32 connections,
# 10 s) against `http-stall --serve-only --handler-ms 0 --workers 2` on
# loopback.  Prints wrk's report, then one summary line with requests/s and
# p99 latency.  WSRT_* variables pass through to the server (e.g.
# WSRT_EAGER_HANDOFF=0).  A benchmark, not a test: it fails only if the
# server is missing, doesn't start, or exits badly, or wrk fails.  Skipped
# (exit 0) when wrk isn't installed (Debian package wrk).
#
#   bench/http_wrk.sh BUILD_DIR
set -uo pipefail

if [ $# -ne 1 ] || [ "${1#-}" != "$1" ]; then
	echo "usage: bench/http_wrk.sh BUILD_DIR" >&2
	exit 2
fi
bin=$1/bin/http-stall
if ! command -v wrk >/dev/null; then
	echo "# http_wrk: wrk not installed, skipped"
	exit 0
fi
if [ ! -x "$bin" ]; then
	echo "http_wrk: $bin is not built (make $bin)" >&2
	exit 1
fi

. "$(dirname "$0")/../scripts/lib.sh"
scratch

# --duration bounds the server even if this script dies.
"$bin" --serve-only --handler-ms 0 --workers 2 --duration 20 >"$tmp/out" 2>"$tmp/err" &
pid=$!
if ! port=$(listen_port "$tmp/out" "$pid" 100); then
	echo "http_wrk: the server did not start: $(cat "$tmp/out" "$tmp/err")" >&2
	exit 1
fi

if ! timeout 30 wrk -t2 -c32 -d10s --latency "http://127.0.0.1:$port/" >"$tmp/wrk" 2>&1; then
	echo "http_wrk: wrk failed: $(cat "$tmp/wrk")" >&2
	exit 1
fi
sed 's/^/# /' "$tmp/wrk"

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
if [ $rc -ne 0 ]; then
	echo "http_wrk: the server exited $rc: $(cat "$tmp/err")" >&2
	exit 1
fi

# wrk prints "Requests/sec: 12345.67" and, with --latency, "99%  1.23ms"
# (unit us, ms or s).
awk -v eager="${WSRT_EAGER_HANDOFF:-1}" '
	/^Requests\/sec:/ { rps = $2 }
	/^ +99%/ {
		v = $2; unit = v; sub(/^[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
		p99 = unit == "us" ? v / 1000 : unit == "s" ? v * 1000 : v
	}
	/Non-2xx|Socket errors/ { errs = errs "; " $0 }
	END {
		if (rps == "" || p99 == "") { print "http_wrk: no Requests/sec or p99 in the wrk output" > "/dev/stderr"; exit 1 }
		printf "http_wrk: 2 workers, handler 0 ms, eager_handoff=%s, wrk -t2 -c32 -d10s: %.0f requests/s, p99 %.2f ms%s\n", eager, rps, p99, errs
	}' "$tmp/wrk"
