#!/usr/bin/env bash
# A fresh machine, made on purpose instead of hoped for: every prerequisite
# a new Debian machine (or a container) lacks is removed here, in a private
# mount namespace (unshare -m), and stallscope must either work without it
# or say exactly what to do (one line, exit 2).
#
#  - tracefs not mounted (nor debugfs, its older home): record, demo and
#    live record lifo-stall (legacy) and find its stuck_lifo, and leave
#    tracefs unmounted (stallscope needs none of it);
#  - the same with /sys read-only;
#  - root without CAP_SYS_ADMIN, as in a container granted only CAP_BPF and
#    CAP_PERFMON: records;
#  - root without CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN: one line, exit 2;
#  - not root: one line saying to use sudo, exit 2.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

ss=$(realpath "$BUILD/bin/stallscope")
lifo=$(realpath "$BUILD/bin/lifo-stall")
tmp=$(mktemp -d)
chmod 755 "$tmp"
sock=stallscope-fresh-test-$$
tm() { tmux -L "$sock" "$@"; }
trap 'tm kill-server 2>/dev/null; rm -rf "$tmp"' EXIT

# fresh SECONDS CMD...: CMD in a private mount namespace where tracefs
# and debugfs are not mounted (checked there first: exit 97 if they are),
# for at most SECONDS; after CMD, exit 95 if tracefs got mounted.
# $FRESH_SETUP runs before, as root, in that namespace.
fresh() {
	local limit=$1
	shift
	FRESH_SETUP=${FRESH_SETUP:-} timeout "$limit" unshare -m --propagation private bash -c '
		for m in /sys/kernel/debug/tracing /sys/kernel/tracing /sys/kernel/debug; do
			while mountpoint -q "$m"; do umount "$m" || exit 98; done
		done
		! grep -qE " (tracefs|debugfs) " /proc/self/mounts || exit 97
		eval "${FRESH_SETUP:-}" || exit 96
		"$@"
		rc=$?
		! grep -qE " (tracefs|debugfs) " /proc/self/mounts || exit 95
		exit $rc' fresh "$@"
}

# report_finds NAME TRACE: report finds a stuck_lifo.
report_finds() {
	local rep
	rep=$("$ss" report --json "$2" 2>&1)
	if grep -q '"kind":"stuck_lifo"' <<<"$rep"; then
		ok "$1"
	else
		not_ok "$1" "no stuck_lifo in: $rep"
	fi
}

# ---- tracefs not mounted: record records, and mounts nothing ----
out=$(WSRT_LIFO_STEALABLE=0 fresh 120 "$ss" record -o "$tmp/fresh.trace" -- "$lifo" --block-ms 100 2>&1)
rc=$?
if [ $rc -eq 0 ] && ! grep -qi 'tracefs' <<<"$out"; then
	ok fresh_record_without_tracefs
	report_finds fresh_record_finds_stuck_lifo "$tmp/fresh.trace"
else
	not_ok fresh_record_without_tracefs "exit $rc (95: it mounted tracefs): $out"
fi

# ---- the same with /sys read-only ----
out=$(FRESH_SETUP='mount -o remount,bind,ro /sys' WSRT_LIFO_STEALABLE=0 \
	fresh 120 "$ss" record -o "$tmp/ro.trace" -- "$lifo" --block-ms 100 2>&1)
rc=$?
if [ $rc -eq 0 ]; then
	ok fresh_record_read_only_sys
	report_finds fresh_record_read_only_sys_finds_stuck_lifo "$tmp/ro.trace"
else
	not_ok fresh_record_read_only_sys "exit $rc: $out"
fi

# ---- demo from the fresh state ----
out=$(cd "$tmp" && fresh 300 "$ss" demo lifo -o "$tmp/demo" 2>&1)
rc=$?
if [ $rc -eq 0 ] && grep -q 'stuck_lifo' <<<"$out"; then
	ok fresh_demo_lifo
else
	not_ok fresh_demo_lifo "exit $rc: $(tail -20 <<<"$out")"
fi

# ---- live from the fresh state, in a real terminal (tmux) ----
printf '%q ' env WSRT_LIFO_STEALABLE=0 unshare -m --propagation private bash -c '
	for m in /sys/kernel/debug/tracing /sys/kernel/tracing /sys/kernel/debug; do
		while mountpoint -q "$m"; do umount "$m" || exit 98; done
	done
	exec "$@"' fresh "$ss" live -- "$lifo" --block-ms 300 >"$tmp/live.cmd"
tm new-session -d -s live -x 120 -y 30 \
	"$(cat "$tmp/live.cmd") 2>$tmp/live.err; echo EXIT=\$?; sleep 600"
seen=
for ((i = 0; i < 600 * ${TEST_SLOW:-1}; i++)); do
	tm capture-pane -p -t live >"$tmp/live.screen" 2>/dev/null
	if grep -q 'stuck_lifo' "$tmp/live.screen" && grep -q 'target exited' "$tmp/live.screen"; then
		seen=1
		break
	fi
	grep -q 'EXIT=' "$tmp/live.screen" && break
	sleep 0.1
done
tm send-keys -t live q 2>/dev/null
sleep 0.5
tm kill-server 2>/dev/null
if [ -n "$seen" ]; then
	ok fresh_live_shows_the_stall
else
	not_ok fresh_live_shows_the_stall "$(cat "$tmp/live.screen" "$tmp/live.err")"
fi

# ---- root with only CAP_BPF and CAP_PERFMON (a container): records ----
out=$(WSRT_LIFO_STEALABLE=0 fresh 120 setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin -- \
	"$ss" record -o "$tmp/nocap.trace" -- "$lifo" --block-ms 100 2>&1)
rc=$?
if [ $rc -eq 0 ]; then
	ok fresh_record_without_cap_sys_admin
	report_finds fresh_record_without_cap_sys_admin_finds_stuck_lifo "$tmp/nocap.trace"
else
	not_ok fresh_record_without_cap_sys_admin "exit $rc: $out"
fi

# ---- root without the BPF capabilities: one line, exit 2, nothing run ----
out=$(fresh 60 setpriv --bounding-set=-sys_admin,-bpf,-perfmon --inh-caps=-sys_admin,-bpf,-perfmon -- \
	"$ss" record -o "$tmp/nobpf.trace" -- "$lifo" --block-ms 1 2>&1)
rc=$?
if [ $rc -eq 2 ] && [ "$(wc -l <<<"$out")" -eq 1 ] &&
	grep -q '^stallscope: record needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN), which this root process lacks' <<<"$out" &&
	[ ! -e "$tmp/nobpf.trace" ]; then
	ok fresh_no_bpf_capabilities_says_the_fix
else
	not_ok fresh_no_bpf_capabilities_says_the_fix "exit $rc: $out"
fi

# ---- not root (live checks for a terminal first: record and demo) ----
for cmd in "record -o $tmp/user.trace -- $lifo" "demo lifo -o $tmp/user"; do
	name="fresh_not_root_${cmd%% *}"
	out=$(cd "$tmp" && timeout 60 setpriv --reuid=65534 --regid=65534 --clear-groups -- $ss $cmd 2>&1 </dev/null)
	rc=$?
	if [ $rc -eq 2 ] && [ "$(wc -l <<<"$out")" -eq 1 ] &&
		grep -q "^stallscope: ${cmd%% *} needs root to load BPF programs: run it with sudo$" <<<"$out"; then
		ok "$name"
	else
		not_ok "$name" "exit $rc: $out"
	fi
done
