# Shell helpers that the benchmarks (bench/*.sh) and the scenario tests
# (tests/scenario/lib.sh) share.  Source it; bash only.

# listen_port OUT PID TRIES: the port http-stall --serve-only listens on,
# from the "listening on 127.0.0.1:PORT" line it writes to OUT, looked for
# every 50 ms, at most TRIES times, while PID (the server, or what runs
# it) lives.  Prints it; false if none came.
listen_port() {
	local out=$1 pid=$2 tries=$3 port i
	for ((i = 0; i < tries; i++)); do
		port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$out" 2>/dev/null)
		if [ -n "$port" ]; then
			echo "$port"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# scratch: a temporary directory in $tmp, removed at exit, after the
# processes the script started are ended: the one in $pid if it left one
# there (it empties pid once it has waited for it; SIGTERM) and those in
# the array pids (SIGKILL).  Only those.  A script with more to undo at
# exit defines scratch_more, which runs first.
scratch() {
	tmp=$(mktemp -d)
	pid=
	pids=()
	trap scratch_end EXIT
}
scratch_end() {
	local p
	declare -F scratch_more >/dev/null && scratch_more
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$tmp"
}

# wrk_rps PORT SECS: requests/s of `wrk -t2 -c32` for SECS seconds
# against 127.0.0.1:PORT (the benches' HTTP load), or nothing if wrk
# failed or hung (20 s past SECS).
wrk_rps() {
	timeout $(($2 + 20)) wrk -t2 -c32 -d"$2s" "http://127.0.0.1:$1/" 2>&1 |
		sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p'
}

# cpu_ticks PID: the process's own user+system CPU, in clock ticks.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null
}

# served_rps WHAT OUT ERR TRIES SECS [SETTLE]: wrk_rps against the server
# started in the background as $pid, once it listens (its line in OUT,
# looked for TRIES times) and SETTLE more seconds have passed, into rps;
# then the server is ended (SIGTERM), waited for, and pid emptied; the
# CPU $pid itself (not its children) took while wrk ran, seconds, into
# served_cpu.  False,
# with "# WHAT: the server did not start: ERR's last lines" on stderr, if
# it never listened.  Not in $(...): it waits for its caller's child.
served_rps() {
	local what=$1 out=$2 err=$3 tries=$4 secs=$5 settle=${6:-0} port
	rps=
	if ! port=$(listen_port "$out" "$pid" "$tries"); then
		echo "# $what: the server did not start: $(tail -5 "$err")" >&2
		kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=
		return 1
	fi
	[ "$settle" = 0 ] || sleep "$settle"
	served_cpu=$(cpu_ticks "$pid")
	rps=$(wrk_rps "$port" "$secs")
	served_cpu=$(awk -v a="$served_cpu" -v b="$(cpu_ticks "$pid")" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { if (a != "" && b != "") printf "%.2f", (b - a) / hz }')
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=
}

# bench_needs NAME [root] [COMMAND...]: a benchmark's prerequisites; when
# one is missing, says "# NAME: ..., skipped" and exits 0 (a benchmark
# skips; a test never does).
bench_needs() {
	local name=$1 c
	shift
	for c in "$@"; do
		if [ "$c" = root ]; then
			[ "$(id -u)" = 0 ] && continue
			echo "# $name: needs root (BPF), skipped"
		else
			command -v "$c" >/dev/null && continue
			echo "# $name: $c not installed, skipped"
		fi
		exit 0
	done
}

# irefs CMD [ARGS...]: the instructions CMD runs in user space
# (callgrind's "Collected" count).
irefs() {
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 |
		sed -n 's/.*Collected : //p'
}

# AWK_MEDIAN: an awk function for the benches' summaries, median(list):
# the median of a space-separated list of numbers, 0 if it is empty
# (insertion sort: mawk has no asort).  Put it before an awk program:
#   awk "$AWK_MEDIAN"' END { print median(v) }'
AWK_MEDIAN='function median(list,   a, k, i, j, t) {
	k = split(list, a, " ")
	if (!k) return 0
	for (i = 2; i <= k; i++) {
		t = a[i] + 0
		for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]
		a[j + 1] = t
	}
	return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}'
