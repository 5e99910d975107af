#!/usr/bin/env bash
# What recording costs a loaded HTTP server: wrk (2 threads, 32
# connections) against `http-stall --serve-only --handler-ms 0 --workers 2`
# on loopback, plain, recorded by `stallscope record` (rings, shim,
# kernel; no syscall hooked), the same with --syscalls (the futex, epoll
# and exit syscalls hooked too, as before the shim's parks stood for
# them), the same with --no-readiness (no sk_data_ready, the program that
# runs for every packet of the machine), recorded with --kernel-only,
# and watched by `stallscope watch`
# (the same recording into memory, analyzed as it goes, metrics served),
# interleaved round by round
# (the order rotates each round) on the same 2 cores as wrk.  Prints each
# round, then per mode the median requests/s, its ratio to plain's median,
# the median and range of its ratio to the plain run of the same round
# (paired: the host's speed drifts over minutes), the events and
# losses of the recordings, and the median CPU the tracer's own process
# (record's, watch's: not the server's, nor BPF's in the server's
# threads) took while wrk ran.  The rounds spread by 10-15 % here, more
# than --kernel-only's whole cost: bench/record_cpu.sh counts all of the
# tracer's CPU.
# Needs root (BPF).  A benchmark, not a test: numbers, no verdicts.
#
#   bench/record_http.sh BUILD_DIR [ROUNDS] [SECONDS]
set -uo pipefail
build=${1:?usage: bench/record_http.sh BUILD_DIR [ROUNDS] [SECONDS]}
rounds=${2:-${BENCH_ROUNDS:-5}}
secs=${3:-5}
ss=$build/bin/stallscope
srv=$build/bin/http-stall
. "$(dirname "$0")/../scripts/lib.sh"
scratch

bench_needs record_http root wrk

# run MODE: one server (plain or under record), one wrk run; prints
# "MODE RPS EVENTS LOST ROUND CPU".
run() {
	local mode=$1
	rm -f "$tmp/out" "$tmp/err"
	case $mode in
	plain) "$srv" --serve-only --handler-ms 0 --workers 2 --duration $((secs + 20)) >"$tmp/out" 2>"$tmp/err" & ;;
	full) "$ss" record -o "$tmp/t.trace" -- "$srv" --serve-only --handler-ms 0 --workers 2 \
		--duration $((secs + 20)) >"$tmp/out" 2>"$tmp/err" & ;;
	syscalls) "$ss" record --syscalls -o "$tmp/t.trace" -- "$srv" --serve-only --handler-ms 0 --workers 2 \
		--duration $((secs + 20)) >"$tmp/out" 2>"$tmp/err" & ;;
	noready) "$ss" record --no-readiness -o "$tmp/t.trace" -- "$srv" --serve-only --handler-ms 0 \
		--workers 2 --duration $((secs + 20)) >"$tmp/out" 2>"$tmp/err" & ;;
	kernel) "$ss" record --kernel-only -o "$tmp/t.trace" -- "$srv" --serve-only --handler-ms 0 \
		--workers 2 --duration $((secs + 20)) >"$tmp/out" 2>"$tmp/err" & ;;
	watch) mkdir -p "$tmp/snaps"
		"$ss" watch --out "$tmp/snaps" --listen 0 -- "$srv" --serve-only --handler-ms 0 \
		--workers 2 --duration $((secs + 20)) >"$tmp/out" 2>"$tmp/err" & ;;
	esac
	pid=$!
	# 0.5 s: the recorder's first pull and header.
	served_rps "record_http: $mode" "$tmp/out" "$tmp/err" 300 "$secs" 0.5 || return 1
	ev=$(sed -n -e 's/^stallscope: \([0-9]*\) events, \([0-9]*\) lost.*/\1 \2/p' \
		-e 's/^stallscope: watched .*; \([0-9]*\) events, \([0-9]*\) lost$/\1 \2/p' "$tmp/err")
	echo "$mode ${rps:-0} ${ev:-- -} $round ${served_cpu:--}"
}

echo "## HTTP throughput recorded vs plain (wrk -t2 -c32 -d${secs}s, http-stall --serve-only --handler-ms 0 --workers 2; $rounds rounds, interleaved)"
modes=(plain full syscalls noready kernel watch)
for ((round = 0; round < rounds; round++)); do
	for ((k = 0; k < ${#modes[@]}; k++)); do
		run "${modes[(round + k) % ${#modes[@]}]}"
	done
done | tee "$tmp/rounds" | sed 's/^/# round: /'
awk "$AWK_MEDIAN"'
	{ rps[$1] = rps[$1] " " $2; if ($3 != "-") { ev[$1] += $3; lost[$1] += $4; n[$1]++ }
	  if ($6 != "-" && $6 != "") cpu[$1] = cpu[$1] " " $6
	  in_round[$5, $1] = $2; rounds = $5 + 1 > rounds ? $5 + 1 : rounds }
	END {
		p = median(rps["plain"])
		printf "# %-8s %12s %8s %8s %15s %14s %10s %8s\n", "mode", "req/s", "ratio", "paired",
			"paired range", "events/run", "lost", "cpu_s"
		printf "  %-8s %12.0f %8.3f %8s %15s %14s %10s %8s\n", "plain", p, 1, "-", "-", "-", "-", "-"
		nm = split("full syscalls noready kernel watch", m, " ")
		for (i = 1; i <= nm; i++) {
			# Each round against its own plain run: the host drifts
			# over minutes, less within one round.
			pr = ""; lo = 1e9; hi = 0
			for (r = 0; r < rounds; r++)
				if (in_round[r, "plain"] > 0 && in_round[r, m[i]] > 0) {
					q = in_round[r, m[i]] / in_round[r, "plain"]
					pr = pr " " q; lo = q < lo ? q : lo; hi = q > hi ? q : hi
				}
			printf "  %-8s %12.0f %8.3f %8.3f %7.3f-%-7.3f %14.0f %10d %8.2f\n", m[i], median(rps[m[i]]),
				median(rps[m[i]]) / p, median(pr), lo, hi,
				n[m[i]] ? ev[m[i]] / n[m[i]] : 0, lost[m[i]], median(cpu[m[i]])
		}
		printf "# ratio: medians over medians; paired: the median of each round'"'"'s mode / its plain; cpu_s: the tracer'"'"'s own while wrk ran\n"
		printf "# watch / full (watch'"'"'s own cost over recording to a file): %.3f\n",
			median(rps["watch"]) / median(rps["full"])
	}' "$tmp/rounds"
