#!/usr/bin/env bash
# Where recording's CPU goes, counted rather than inferred from throughput
# (whose run-to-run spread here, 10-15 %, is wider than --kernel-only's
# whole cost): the machine is sampled (perf record -a, cpu-clock) for
# SECONDS while a workload runs recorded, and each sample is put to one
# part of the tracer or to the workload:
#   producer  the traced threads writing their rings: wsrt's out-of-line
#             emit functions, their call trampoline, the rings' slow paths
#             (the shim's emits are inline in its wrappers: not told apart)
#   bpf       BPF programs, the helpers and kernel code they run (copying
#             rings, the ring buffer, uprobe dispatch), on any thread
#   recorder  stallscope's own threads (the recorder, its writers)
#   workload  everything else: the program, wrk, the kernel for them
# Workloads: the scheduler shapes that make the most events (2 workers,
# stealable), the HTTP server under wrk (as bench/record_http.sh), full
# and --kernel-only, and the same server idle with 8 workers, full.
# Prints each part's share of the machine's CPU (all CPUs: 100 % is
# every CPU busy) and, for the shapes, its CPU time per
# recorded event: share x CPUs x the recording's seconds / its events
# (approximate: the recording's start is in the events' seconds, not in
# the samples).  A cpu-clock sample cannot land in code run with
# interrupts off — sched_switch's and sched_waking's programs — and counts
# after it, in the workload's time: bpf reads low.  So BPF's share is also
# read from the kernel's own count (bpf_stats: kernel.bpf_stats_enabled on
# for the run, put back after; each run then reads the clock twice more,
# which that count includes: it reads a little high).  Needs root and
# perf.  A benchmark: numbers, no verdicts.
#
#   bench/record_cpu.sh BUILD_DIR [SECONDS]
set -uo pipefail
build=${1:?usage: bench/record_cpu.sh BUILD_DIR [SECONDS]}
secs=${2:-2}
ss=$build/bin/stallscope
sched=$build/bench/sched
srv=$build/bin/http-stall
. "$(dirname "$0")/../scripts/lib.sh"
scratch

bench_needs record_cpu root perf wrk bpftool
ncpu=$(nproc)
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
scratch_more() { sysctl -qw kernel.bpf_stats_enabled="$stats_was"; }
sysctl -qw kernel.bpf_stats_enabled=1

# bpf_ns MIN_ID: "id run_time_ns" of each BPF program loaded after MIN_ID.
bpf_ns() {
	bpftool prog show 2>/dev/null | awk -v min="$1" '
		/^[0-9]+:/ { if ($1 + 0 > min) for (i = 1; i < NF; i++) if ($i == "run_time_ns") print $1 + 0, $(i + 1) }'
}
# The newest program's id: the recording's are the ones after it.
last_id() { bpftool prog show 2>/dev/null | awk '/^[0-9]+:/ { id = $1 + 0 } END { print id + 0 }'; }

# classify PERF_DATA: "producer bpf recorder workload" percentages.
classify() {
	perf report -i "$1" --no-children --sort comm,sym -g none --percent-limit 0 \
		--stdio 2>/dev/null | awk '
		/^#/ || !/%/ { next }
		{
			pct = $1; sub("%", "", pct); comm = $2; sym = $NF
			if (comm == "stallscope") part = "recorder"
			else if (sym ~ /_emit_|_ring_call_tramp$|^ss_ring_(flush|make|exit)$/) part = "producer"
			else if (sym ~ /^bpf_|^__bpf_|bpf_prog_|^copy_from_user_nofault$|^__arch_copy_from_user_nofault$|uprobe|^handle_swbp$|^ktime_get_mono_fast_ns$|^htab_|^__htab_|ringbuf/) part = "bpf"
			else part = "workload"
			p[part] += pct
		}
		END { printf "%.1f %.1f %.1f %.1f\n", p["producer"], p["bpf"], p["recorder"], p["workload"] }'
}

# sample PID_TO_WATCH MIN_ID: perf -a for secs into $tmp/perf.data, once
# the recording's programs (loaded after MIN_ID) are in and the workload
# has run a second, and their run time meanwhile as a share of all CPUs
# (into bpfst); false if the workload was gone before.
sample() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ -n "$(bpf_ns "$2")" ] && break
		sleep 0.05
	done
	sleep 1
	kill -0 "$1" 2>/dev/null || return 1
	local t0 t1
	t0=$(date +%s%N)
	bpf_ns "$2" >"$tmp/bpf.a"
	perf record -a -q -F 999 -o "$tmp/perf.data" -- sleep "$secs" >/dev/null 2>&1
	bpf_ns "$2" >"$tmp/bpf.b"
	t1=$(date +%s%N)
	# Over the time between the two counts (perf's start and end
	# included); a program loaded meanwhile counts whole, one unloaded
	# not at all.
	bpfst=$(awk -v ns="$((t1 - t0))" -v n="$ncpu" 'NR == FNR { a[$1] = $2; next }
		{ d += $2 - a[$1] } END { printf "%.1f", d / (ns * n) * 100 }' \
		"$tmp/bpf.a" "$tmp/bpf.b")
}

printf '## where recording spends CPU (perf -a, %s s a workload; %% of all %d CPUs)\n' "$secs" "$ncpu"
printf '# %-22s %9s %7s %9s %9s %9s %14s %12s\n' workload producer bpf bpf_stats recorder workload "events/s" "tracer ns/ev"
for b in yield_many ping_pong chained_spawn spawn_many_local; do
	id0=$(last_id)
	"$ss" record -o "$tmp/t.trace" -- "$sched" --workers 2 --mode stealable --filter "$b" \
		--runs $((10 * secs + 40)) --run-ms 100 >/dev/null 2>"$tmp/err" &
	pid=$!
	sample "$pid" "$id0" || { echo "# $b: ended before it was sampled: $(tail -2 "$tmp/err")"; continue; }
	wait "$pid"
	pid=
	read -r pr bp rc wl < <(classify "$tmp/perf.data")
	read -r ev lost dur < <(sed -n 's/^stallscope: \([0-9]*\) events, \([0-9]*\) lost, \([0-9.]*\) s.*/\1 \2 \3/p' "$tmp/err")
	awk -v b="$b" -v pr="$pr" -v bp="$bp" -v bs="$bpfst" -v rc="$rc" -v wl="$wl" -v ev="${ev:-0}" \
		-v lost="${lost:-0}" -v dur="${dur:-0}" -v n="$ncpu" 'BEGIN {
		rate = dur > 0 ? ev / dur : 0
		printf "  %-22s %8.1f%% %6.1f%% %8.1f%% %8.1f%% %8.1f%% %14.0f", b, pr, bp, bs, rc, wl, rate
		if (rate > 0)
			printf " %4.1f+%.1f+%.1f", pr / 100 * n * 1e9 / rate, bp / 100 * n * 1e9 / rate,
				rc / 100 * n * 1e9 / rate
		printf "%s\n", (lost > 0 ? "  (" lost " lost)" : "")
	}'
done
# The HTTP server under wrk, recorded in full and --kernel-only; then idle,
# 8 workers and no load, recorded in full: what staying attached to a
# quiet service costs (the pull every 5 ms, for threads that do not run).
for mode in full kernel idle; do
	flags=() workers=2
	[ "$mode" = kernel ] && flags=(--kernel-only)
	[ "$mode" = idle ] && workers=8
	id0=$(last_id)
	"$ss" record "${flags[@]}" -o "$tmp/t.trace" -- "$srv" --serve-only --handler-ms 0 \
		--workers "$workers" --duration $((secs + 30)) >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	if ! port=$(listen_port "$tmp/out" "$pid" 300); then
		echo "# http $mode: the server did not start: $(tail -2 "$tmp/err")"
		continue
	fi
	pids=()
	if [ "$mode" = idle ]; then
		echo 0 >"$tmp/rps"
	else
		wrk_rps "$port" $((secs + 3)) >"$tmp/rps" &
		pids=($!)
	fi
	sample "$pid" "$id0"
	[ ${#pids[@]} -gt 0 ] && wait "${pids[0]}"
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	pid=
	read -r pr bp rc wl < <(classify "$tmp/perf.data")
	printf '  %-22s %8.1f%% %6.1f%% %8.1f%% %8.1f%% %8.1f%% %14s  (%s req/s)\n' "http $mode" \
		"$pr" "$bp" "$bpfst" "$rc" "$wl" - "$(cat "$tmp/rps")"
done
echo "# bpf: sampled; bpf_stats: the kernel's count; tracer ns/ev: CPU ns per recorded event, producer+bpf+recorder (sampled)"
