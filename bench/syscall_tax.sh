#!/usr/bin/env bash
# What a recording costs every system call on the machine — the target's
# and every other process's (wrk's, under the HTTP benchmarks): ns per
# getppid(2) in a process that is not the target, three ways, interleaved
# and rotated round by round:
#   plain    nothing attached
#   hooks    two empty tp_btf programs on raw_syscalls sys_enter/sys_exit
#            (bench/syscall_tax.bpf.c): the floor of hooking system calls
#            at all (the kernel's slow path plus two program calls)
#   record   `stallscope record --kernel-only -p` of an idle process: the
#            real programs, which leave at their first test for such a call
# Then the medians and each one's cost over plain.  A benchmark, not a
# test: numbers, no verdicts.
#
#   bench/syscall_tax.sh BUILD_DIR [ROUNDS]
set -uo pipefail
build=${1:?usage: bench/syscall_tax.sh BUILD_DIR [ROUNDS]}
rounds=${2:-${BENCH_ROUNDS:-5}}
case $rounds in
'' | *[!0-9]* | 0) echo "syscall_tax.sh: ROUNDS must be a positive number, got '$rounds'" >&2; exit 2 ;;
esac
. "$(dirname "$0")/../scripts/lib.sh"
bench_needs syscall_tax root
bin=$build/bench/syscall-tax
obj=$build/bench/syscall_tax.bpf.o
ss=$build/bin/stallscope
for f in "$bin" "$obj" "$ss"; do
	[ -e "$f" ] || { echo "syscall_tax.sh: $f is not built (make)" >&2; exit 1; }
done
scratch

# until_says FILE TEXT: wait (10 s at most) for TEXT in FILE.
until_says() {
	local i
	for ((i = 0; i < 200; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "syscall_tax.sh: no '$2' from $1: $(tail -2 "$1")" >&2
	return 1
}

# measure MODE: one loop's ns per call under MODE, appended to $tmp/MODE.
measure() {
	local helper=
	case $1 in
	hooks)
		"$bin" hooks "$obj" >"$tmp/h.out" 2>&1 &
		helper=$! pids=($!)
		until_says "$tmp/h.out" attached || exit 1
		;;
	record)
		"$ss" record --kernel-only -p "$idle" -o "$tmp/t.trace" >/dev/null 2>"$tmp/r.err" &
		helper=$! pids=($!)
		until_says "$tmp/r.err" 'recording pid' || exit 1
		;;
	esac
	"$bin" loop >>"$tmp/$1" || exit 1
	if [ -n "$helper" ]; then
		kill "$helper"
		wait "$helper" 2>/dev/null
	fi
	pids=()
}

sleep 3600 &
idle=$!
pid=$idle
modes=(plain hooks record)
for ((r = 0; r < rounds; r++)); do
	k=$((r % 3))
	for m in "${modes[@]:k}" "${modes[@]:0:k}"; do
		measure "$m"
	done
done

echo "## syscall tax: ns per getppid(2) of a process the recording does not trace ($rounds rounds, interleaved; medians)"
printf '# %-8s %10s %10s   %s\n' mode ns/call over_plain "every round"
for m in "${modes[@]}"; do
	awk -v m="$m" -v base="$(awk "$AWK_MEDIAN"'{ v = v " " $1 } END { print median(v) }' "$tmp/plain")" \
		"$AWK_MEDIAN"'{ v = v " " $1 } END { x = median(v); printf "  %-8s %10.1f %10.1f  %s\n", m, x, x - base, v }' "$tmp/$m"
done
