#!/usr/bin/env bash
# What recording an unmodified Tokio program costs it (docs/tokio.md):
# uprobes on Tokio's own task entry points against the kernel's view
# alone (--no-tokio) and no recording, interleaved round by round (the
# order rotates each round).  Two loads:
#   yields  one task yielding 100000 times on one worker (tokio-lifo
#           --yields): ns per yield (a schedule_task and a raw::poll, with
#           its return, per yield);
#   http    tokio-http (hyper 0.14, 2 workers) under wrk -t2 -c32 for
#           SECONDS on loopback: requests/s.
# Prints each round, then per mode the medians and their ratio to plain.
# Needs root (BPF).  A benchmark, not a test: numbers, no verdicts.
#
#   bench/tokio_cost.sh BUILD_DIR [ROUNDS] [SECONDS]
set -uo pipefail
build=${1:?usage: bench/tokio_cost.sh BUILD_DIR [ROUNDS] [SECONDS]}
rounds=${2:-${BENCH_ROUNDS:-3}}
secs=${3:-5}
ss=$build/bin/stallscope
. "$(dirname "$0")/../scripts/lib.sh"
scratch

bench_needs tokio_cost root wrk

# prefix MODE: the command line before the program for MODE
prefix() {
	case $1 in
	plain) ;;
	tokio) echo "$ss record -o $tmp/t.trace --" ;;
	kernel) echo "$ss record --no-tokio -o $tmp/t.trace --" ;;
	esac
}

# yields MODE: "yields MODE NS_PER_YIELD"
yields() {
	local ns
	ns=$($(prefix "$1") "$build/bin/tokio-lifo" --yields 100000 --workers 1 2>/dev/null |
		sed -n 's/.*"ns_per_yield":\([0-9.]*\).*/\1/p')
	echo "yields $1 ${ns:--}"
}

# http MODE: "http MODE REQ_PER_S"
http() {
	local rps
	rm -f "$tmp/out"
	$(prefix "$1") "$build/bin/tokio-http" --duration $((secs + 20)) >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	served_rps "tokio_cost: $1" "$tmp/out" "$tmp/err" 300 "$secs" 0.5
	echo "http $1 ${rps:--}"
}

modes=(plain tokio kernel)
for ((r = 0; r < rounds; r++)); do
	for ((i = 0; i < 3; i++)); do
		m=${modes[$(((i + r) % 3))]}
		yields "$m"
		http "$m"
	done
done | tee "$tmp/rounds" | sed 's/^/# round: /'
awk "$AWK_MEDIAN"'
	$3 != "-" { v[$1 " " $2] = v[$1 " " $2] " " $3 }
	END {
		py = median(v["yields plain"]); ph = median(v["http plain"])
		printf "# %-8s %14s %14s %12s %10s\n", "mode", "ns/yield", "added ns", "req/s", "ratio"
		split("plain tokio kernel", m, " ")
		for (i = 1; i <= 3; i++) {
			y = median(v["yields " m[i]]); h = median(v["http " m[i]])
			printf "  %-8s %14.0f %14.0f %12.0f %10.3f\n", m[i], y, y - py, h, ph ? h / ph : 0
		}
	}' "$tmp/rounds"
