# Helpers for scenario scripts: TAP-like "ok - name" / "not ok - name: why".
# BUILD is exported by tests/run.sh.
: "${BUILD:=build}"
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

ok() { echo "ok - scenario/$1"; }
not_ok() { echo "not ok - scenario/$1: $2"; }

# json_num FIELD LINE: the number after "FIELD": in a one-line JSON object.
json_num() {
	sed -n "s/.*\"$1\":\(-\{0,1\}[0-9.][0-9.]*\).*/\1/p" <<<"$2"
}

# check_eq NAME GOT WANT: passes when GOT is WANT.
check_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "got $2; want $3"
	fi
}

# check NAME CONDITION-AWK-EXPR VALUE: passes when awk finds it true of v.
check_awk() {
	local name=$1 expr=$2 v=$3 why=$4
	if awk -v v="$v" "BEGIN { exit !($expr) }"; then
		ok "$name"
	else
		not_ok "$name" "$why"
	fi
}

# wait_recording OUT PID: until `stallscope record -p` (PID, writing its
# messages to OUT) says it records — attaching may wait seconds for an
# earlier recording's probes to be detached — or has ended; at most 30 s
# (times TEST_SLOW).
wait_recording() {
	local i
	for ((i = 0; i < 300 * ${TEST_SLOW:-1}; i++)); do
		grep -q '^stallscope: recording pid' "$1" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# preload_setup: for the shim's tests, $so (the shim, an absolute path) and
# $tdir (its test programs); ASan told to accept a library preloaded ahead
# of its runtime (the shim chains to ASan's interceptors as to libc's); no
# fault or statistics settings inherited.
preload_setup() {
	so=$(cd "$BUILD/lib" && pwd)/libstallscope-preload.so
	tdir=$BUILD/tests/preload
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
	unset STALLSCOPE_FAULTS STALLSCOPE_SHIM_STATS
}

# ring_pieces: " ring-pieces" if this kernel lacks the dynptr copies of
# user memory (Linux 6.16) that let the rings' drains copy a claim whole,
# so a recording's header flags say it; else nothing.  Asked of the
# kernel's BTF with bpftool, not the way the recorder asks (libbpf).
ring_pieces() {
	local fns
	fns=$(bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null |
		grep -cE "FUNC '(bpf_probe_read_user_dynptr|bpf_copy_from_user_task_dynptr)'")
	[ "$fns" = 2 ] || echo " ring-pieces"
}
