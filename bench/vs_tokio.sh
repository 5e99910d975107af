#!/usr/bin/env bash
# wsrt against Tokio, side by side: bench/sched.c's six shapes (wsrt,
# legacy LIFO mode) and tokio-sched (the same shapes, counts and measuring
# loop on Tokio 1.24, whose LIFO slot is never stealable: there is no
# stealable mode to compare), process by process, rotating which goes
# first, ROUNDS rounds, with 2 workers and with 1.  Then the HTTP server:
# wsrt's http-stall --serve-only against tokio-http (hyper 0.14 on Tokio)
# under the same wrk load, interleaved the same way.
#
# Per shape: both medians (ns/op, the median over rounds of each process's
# median), ratio = Tokio ns/op / wsrt ns/op (the median of the per-round
# ratios; above 1: wsrt faster) and the per-round ratios' spread.  A
# benchmark, not a test: numbers, no verdicts.
#
# With VS_TOKIO_BEFORE=DIR, the build directory of an earlier wsrt (a
# worktree of an older commit, `make` there) runs as a third contestant in
# the same rotation: its ns/op and ratio are printed beside, so what a
# change to the runtime bought is measured in one interleaved run.
#
#   [VS_TOKIO_BEFORE=DIR] bench/vs_tokio.sh BUILD_DIR [ROUNDS] [HTTP_ROUNDS]
set -uo pipefail
build=${1:?usage: bench/vs_tokio.sh BUILD_DIR [ROUNDS] [HTTP_ROUNDS]}
rounds=${2:-${BENCH_ROUNDS:-10}}
http_rounds=${3:-5}
before=${VS_TOKIO_BEFORE:-}
. "$(dirname "$0")/../scripts/lib.sh"
scratch

who=(wsrt tokio)
[ -n "$before" ] && who+=(before)
for b in "$build/bench/sched" "$build/bin/tokio-sched" "$build/bin/http-stall" \
	"$build/bin/tokio-http" ${before:+"$before/bench/sched" "$before/bin/http-stall"}; do
	[ -x "$b" ] || { echo "vs_tokio.sh: $b is not built (make)" >&2; exit 1; }
done

# rotation R: the contestants in round R's order (each goes first in turn).
rotation() {
	local k=$(($1 % ${#who[@]}))
	echo "${who[@]:k}" "${who[@]:0:k}"
}

# rows WHO WORKERS ROUND: one process's rows as "WHO ROUND SHAPE NS".
rows() {
	local out
	case $1 in
	wsrt) out=$("$build/bench/sched" --mode legacy --workers "$2") ;;
	before) out=$("$before/bench/sched" --mode legacy --workers "$2") ;;
	tokio) out=$("$build/bin/tokio-sched" --workers "$2") ;;
	esac || { echo "vs_tokio.sh: $1's benchmark failed" >&2; exit 1; }
	awk -v who="$1" -v r="$3" '!/^#/ && NF >= 3 { print who, r, $1, $3 }' <<<"$out"
}

# table FILE WORKERS: the summary of one worker count's rows.
table() {
	awk -v w="$2" -v rounds="$rounds" -v before="$before" "$AWK_MEDIAN"'
	{ v[$1, $2, $3] = $4; if (!($3 in seen)) { seen[$3] = 1; order[n++] = $3 } }
	END {
		printf "## %d worker%s, legacy LIFO mode, %d rounds (ratio = Tokio / wsrt; above 1: wsrt faster)\n",
			w, w == 1 ? "" : "s", rounds
		printf "# %-18s %10s %10s %7s  %-16s", "shape", "wsrt ns/op", "tokio ns/op", "ratio", "per-round spread"
		if (before != "") printf " %10s %7s", "before", "ratio"
		printf "\n"
		for (i = 0; i < n; i++) {
			s = order[i]; ws = ""; ts = ""; rs = ""; lo = ""; hi = ""; bs = ""; bq = ""
			for (r = 1; r <= rounds; r++) {
				if (!(("wsrt", r, s) in v) || !(("tokio", r, s) in v)) continue
				a = v["wsrt", r, s]; b = v["tokio", r, s]
				ws = ws " " a; ts = ts " " b; q = b / a; rs = rs " " q
				if (lo == "" || q < lo) lo = q
				if (hi == "" || q > hi) hi = q
				if (("before", r, s) in v) {
					bs = bs " " v["before", r, s]; bq = bq " " b / v["before", r, s]
				}
			}
			printf "  %-18s %10.1f %10.1f %7.2f  %-16s", s, median(ws), median(ts), median(rs),
				sprintf("%.2f-%.2f", lo, hi)
			if (before != "") printf " %10.1f %7.2f", median(bs), median(bq)
			printf "\n"
		}
	}' "$1"
}

for w in 2 1; do
	: >"$tmp/rows.$w"
	for ((r = 1; r <= rounds; r++)); do
		for c in $(rotation "$r"); do
			rows "$c" "$w" "$r" >>"$tmp/rows.$w"
		done
	done
	table "$tmp/rows.$w" "$w"
done

# ---- HTTP: http-stall (wsrt) against tokio-http (hyper on Tokio) ----
bench_needs vs_tokio_http wrk
secs=5
http() {
	local who=$1 rps dir=$build
	rm -f "$tmp/srv"
	[ "$who" = before ] && dir=$before
	if [ "$who" = tokio ]; then
		"$build/bin/tokio-http" --workers 2 --duration $((secs + 20)) >"$tmp/srv" 2>&1 &
	else
		"$dir/bin/http-stall" --serve-only --handler-ms 0 --workers 2 --duration $((secs + 20)) \
			>"$tmp/srv" 2>&1 &
	fi
	pid=$!
	served_rps "vs_tokio: $who" "$tmp/srv" "$tmp/srv" 200 "$secs" || return 1
	echo "$who ${rps:-0}"
}
for ((r = 1; r <= http_rounds; r++)); do
	for c in $(rotation "$r"); do http "$c"; done
done >"$tmp/http"
awk -v rounds="$http_rounds" -v secs="$secs" "$AWK_MEDIAN"'
	{ rps[$1] = rps[$1] " " $2 }
	END {
		printf "## HTTP: wrk -t2 -c32 -d%ds, 2 workers, %d rounds interleaved (req/s, medians)\n", secs, rounds
		printf "  http-stall (wsrt)   %10.0f\n  tokio-http (hyper)  %10.0f\n  wsrt / tokio        %10.3f\n",
			median(rps["wsrt"]), median(rps["tokio"]), median(rps["wsrt"]) / median(rps["tokio"])
		if ("before" in rps)
			printf "  http-stall (before) %10.0f\n  before / tokio      %10.3f\n",
				median(rps["before"]), median(rps["before"]) / median(rps["tokio"])
	}' "$tmp/http"
