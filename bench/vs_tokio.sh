#!/usr/bin/env bash
# wsrt against Tokio, side by side: bench/sched.c's six shapes (wsrt,
# legacy LIFO mode) and tokio-sched (the same shapes, counts and measuring
# loop on Tokio 1.24, whose LIFO slot is never stealable: there is no
# stealable mode to compare), process by process, alternating which goes
# first, ROUNDS rounds, with 2 workers and with 1.  Then the HTTP server:
# wsrt's http-stall --serve-only against tokio-http (hyper 0.14 on Tokio)
# under the same wrk load, interleaved the same way.
#
# Per shape: both medians (ns/op, the median over rounds of each process's
# median), ratio = Tokio ns/op / wsrt ns/op (the median of the per-round
# ratios; above 1: wsrt faster) and the per-round ratios' spread.  A
# benchmark, not a test: numbers, no verdicts.
#
#   bench/vs_tokio.sh BUILD_DIR [ROUNDS] [HTTP_ROUNDS]
set -uo pipefail
build=${1:?usage: bench/vs_tokio.sh BUILD_DIR [ROUNDS] [HTTP_ROUNDS]}
rounds=${2:-${BENCH_ROUNDS:-10}}
http_rounds=${3:-5}
wsrt=$build/bench/sched
tokio=$build/bin/tokio-sched
. "$(dirname "$0")/../scripts/lib.sh"
scratch

for b in "$wsrt" "$tokio" "$build/bin/http-stall" "$build/bin/tokio-http"; do
	[ -x "$b" ] || { echo "vs_tokio.sh: $b is not built (make)" >&2; exit 1; }
done

# rows WHO WORKERS ROUND: one process's rows as "WHO ROUND SHAPE NS".
rows() {
	local out
	if [ "$1" = wsrt ]; then
		out=$("$wsrt" --mode legacy --workers "$2") || { echo "vs_tokio.sh: sched failed" >&2; exit 1; }
	else
		out=$("$tokio" --workers "$2") || { echo "vs_tokio.sh: tokio-sched failed" >&2; exit 1; }
	fi
	awk -v who="$1" -v r="$3" '!/^#/ && NF >= 3 { print who, r, $1, $3 }' <<<"$out"
}

# table FILE WORKERS: the summary of one worker count's rows.
table() {
	awk -v w="$2" -v rounds="$rounds" "$AWK_MEDIAN"'
	{ v[$1, $2, $3] = $4; if (!($3 in seen)) { seen[$3] = 1; order[n++] = $3 } }
	END {
		printf "## %d worker%s, legacy LIFO mode, %d rounds (ratio = Tokio / wsrt; above 1: wsrt faster)\n",
			w, w == 1 ? "" : "s", rounds
		printf "# %-18s %10s %10s %7s  %s\n", "shape", "wsrt ns/op", "tokio ns/op", "ratio", "per-round spread"
		for (i = 0; i < n; i++) {
			s = order[i]; ws = ""; ts = ""; rs = ""; lo = ""; hi = ""
			for (r = 1; r <= rounds; r++) {
				if (!(("wsrt", r, s) in v) || !(("tokio", r, s) in v)) continue
				a = v["wsrt", r, s]; b = v["tokio", r, s]
				ws = ws " " a; ts = ts " " b; q = b / a; rs = rs " " q
				if (lo == "" || q < lo) lo = q
				if (hi == "" || q > hi) hi = q
			}
			printf "  %-18s %10.1f %10.1f %7.2f  %.2f-%.2f\n", s, median(ws), median(ts), median(rs), lo, hi
		}
	}' "$1"
}

for w in 2 1; do
	: >"$tmp/rows.$w"
	for ((r = 1; r <= rounds; r++)); do
		if [ $((r % 2)) = 1 ]; then
			rows wsrt "$w" "$r" >>"$tmp/rows.$w"
			rows tokio "$w" "$r" >>"$tmp/rows.$w"
		else
			rows tokio "$w" "$r" >>"$tmp/rows.$w"
			rows wsrt "$w" "$r" >>"$tmp/rows.$w"
		fi
	done
	table "$tmp/rows.$w" "$w"
done

# ---- HTTP: http-stall (wsrt) against tokio-http (hyper on Tokio) ----
bench_needs vs_tokio_http wrk
secs=5
http() {
	local who=$1 port rps
	rm -f "$tmp/srv"
	if [ "$who" = wsrt ]; then
		"$build/bin/http-stall" --serve-only --handler-ms 0 --workers 2 --duration $((secs + 20)) \
			>"$tmp/srv" 2>&1 &
	else
		"$build/bin/tokio-http" --workers 2 --duration $((secs + 20)) >"$tmp/srv" 2>&1 &
	fi
	pid=$!
	if ! port=$(listen_port "$tmp/srv" "$pid" 200); then
		echo "# vs_tokio: $who did not start: $(cat "$tmp/srv")" >&2
		kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=
		return 1
	fi
	rps=$(timeout $((secs + 20)) wrk -t2 -c32 -d"${secs}s" "http://127.0.0.1:$port/" 2>&1 |
		sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=
	echo "$who ${rps:-0}"
}
for ((r = 1; r <= http_rounds; r++)); do
	if [ $((r % 2)) = 1 ]; then http wsrt; http tokio; else http tokio; http wsrt; fi
done >"$tmp/http"
awk -v rounds="$http_rounds" -v secs="$secs" "$AWK_MEDIAN"'
	{ rps[$1] = rps[$1] " " $2 }
	END {
		printf "## HTTP: wrk -t2 -c32 -d%ds, 2 workers, %d rounds interleaved (req/s, medians)\n", secs, rounds
		printf "  http-stall (wsrt)   %10.0f\n  tokio-http (hyper)  %10.0f\n  wsrt / tokio        %10.3f\n",
			median(rps["wsrt"]), median(rps["tokio"]), median(rps["wsrt"]) / median(rps["tokio"])
	}' "$tmp/http"
