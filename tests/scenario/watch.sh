#!/usr/bin/env bash
# stallscope watch with real BPF, real sockets and a real Prometheus: one
# snapshot per stall and none without, the snapshot read like any trace,
# the metrics counted, served, scraped and queried; the bounds (memory,
# --max-snapshots, a signal at any moment); bad options and bad clients.
# Needs root and BPF, as the project's machines and CI have: without
# them these tests fail, loudly; they never skip.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

ss=$BUILD/bin/stallscope
hs=$BUILD/bin/http-stall
slow=${TEST_SLOW:-1}
scratch	# $tmp; ends what pids holds

# stop PID: SIGTERM, then wait for it (at most 30 s times the slow factor).
stop() {
	local i
	kill -TERM "$1" 2>/dev/null
	for ((i = 0; i < 300 * slow; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	wait "$1" 2>/dev/null
}

# wait_line FILE PATTERN PID: until FILE has a line matching PATTERN
# (grep -E) while PID lives; at most 60 s times the slow factor.
wait_line() {
	local i
	for ((i = 0; i < 600 * slow; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || { grep -qE "$2" "$1" 2>/dev/null; return; }
		sleep 0.1
	done
	return 1
}

# metric FILE NAME{LABELS-PART}: the value of the first sample whose line
# starts with NAME and contains the labels part.
metric() {
	awk -v n="$2" -v l="$3" 'index($0, n "{") == 1 && index($0, l) { print $NF; exit }' "$1"
}

# stall_ms REPORT-JSON KIND: the first KIND detection's duration, ms.
stall_ms() {
	tr '{' '\n' <"$1" | awk -v k="\"kind\":\"$2\"" 'index($0, k) {
		if (match($0, /"duration_ns":[0-9]+/)) {
			print substr($0, RSTART + 14, RLENGTH - 14) / 1e6; exit } }'
}

# workers_are PID WHAT: until the worker threads (wsrt-w*) of PID are as
# WHAT says, from /proc, at most 5 s times the slow factor:
#   idle     every one asleep, one of them in epoll_wait (the driver's
#            owner) — what http-stall's own client waits for (wait_idle);
#   handler  one asleep in clock_nanosleep (http-stall's handler).
workers_are() {
	local i t comm st sc all ep hd
	for ((i = 0; i < 500 * slow; i++)); do
		all=1 ep=0 hd=0
		for t in /proc/"$1"/task/*; do
			read -r comm <"$t/comm" 2>/dev/null && [[ $comm == wsrt-w* ]] || continue
			st= sc=
			read -r st <"$t/stat" 2>/dev/null
			read -r sc _ <"$t/syscall" 2>/dev/null
			st=${st##*) }
			[ "${st%% *}" = S ] || all=0
			case $sc in 232 | 281 | 441) ep=1 ;; 230) hd=1 ;; esac
		done
		case $2 in
		idle) [ $all = 1 ] && [ $ep = 1 ] && return 0 ;;
		handler) [ $hd = 1 ] && return 0 ;;
		esac
		sleep 0.01
	done
	echo "# workers_are $1 $2: not within $((5 * slow)) s"
	return 1
}

# warm_stall PORT PID: the stall, as http-stall's own client makes it: a
# request on a new connection, then, once the runtime is idle (every
# worker parked, one in epoll_wait), a second request on that warm
# connection — the worker in epoll_wait takes it into its LIFO slot and
# holds the I/O driver for the 200 ms handler (legacy) — and, once that
# handler runs, three new connections.  Not curl's requests one after
# the other on one connection: a server slowed down answers the next
# from the same poll, on a worker that does not hold the driver (no
# stall, and no detection, seen under ASan).
warm_stall() {
	local port=$1 line len i c cs=()
	exec 7<>"/dev/tcp/127.0.0.1/$port" || return 1
	for i in 1 2; do
		[ $i = 2 ] && workers_are "$2" idle
		printf 'GET /warm/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' $i >&7
		if [ $i = 2 ] && workers_are "$2" handler; then
			for c in 1 2 3; do
				curl -s -m 10 -o /dev/null "http://127.0.0.1:$port/new/$c" &
				cs+=($!)
			done
		fi
		len=0
		while IFS= read -r -t 10 line <&7; do
			line=${line%$'\r'}
			[ -z "$line" ] && break
			case ${line,,} in content-length:*) len=${line#*:}; len=${len// /} ;; esac
		done
		[ "$len" -gt 0 ] && read -r -t 10 -N "$len" line <&7
	done
	exec 7<&- 7>&-
	[ ${#cs[@]} = 0 ] || wait "${cs[@]}"
}

# ---- http-stall, legacy and eager, watched from start to exit ----
# noready: legacy watched --no-readiness, which cannot see its stall, and
# says so (on stderr, and a findable gauge of 0 beside the counter's 0).
for mode in legacy eager noready; do
	d=$tmp/$mode
	mkdir -p "$d"
	eager=$([ $mode = eager ] && echo 1 || echo 0)
	opt=$([ $mode = noready ] && echo --no-readiness)
	# shellcheck disable=SC2086
	WSRT_EAGER_HANDOFF=$eager timeout $((120 * slow)) "$ss" watch --out "$d" --metrics "$d/m.prom" \
		$opt -- "$hs" --workers 4 --requests 4 --handler-ms 200 >"$d/out" 2>"$d/err"
	rc=$?
	snaps=$(find "$d" -name 'stall-*.trace' | wc -l)
	partial=$(find "$d" -name '*.partial' | wc -l)
	stalls=$(metric "$d/m.prom" stallscope_stalls_total 'kind="idle_but_parked"')
	findable=$(for k in stuck_lifo idle_but_parked runnable_while_parked; do
		metric "$d/m.prom" stallscope_stalls_findable "kind=\"$k\""; done | tr '\n' ' ')
	if [ $mode = noready ]; then
		if [ $rc = 0 ] && [ "$snaps" = 0 ] && [ "$stalls" = 0 ] && [ "$findable" = "1 0 1 " ] &&
			grep -q '^stallscope: readiness not recorded (--no-readiness): no idle_but_parked' "$d/err"; then
			ok watch_no_readiness_says_idle_but_parked_cannot_be_found
		else
			not_ok watch_no_readiness_says_idle_but_parked_cannot_be_found \
				"exit $rc, $snaps snapshots, idle_but_parked counter '$stalls', findable '$findable': $(cat "$d/err")"
		fi
		continue
	fi
	if [ "$findable" = "1 1 1 " ]; then
		ok "watch_http_stall_${mode}_every_kind_findable"
	else
		not_ok "watch_http_stall_${mode}_every_kind_findable" "findable '$findable'"
	fi
	if [ $mode = eager ]; then
		if [ $rc = 0 ] && [ "$snaps" = 0 ] && [ "$stalls" = 0 ] && [ "$partial" = 0 ]; then
			ok watch_http_stall_eager_saves_nothing_counts_nothing
		else
			not_ok watch_http_stall_eager_saves_nothing_counts_nothing \
				"exit $rc, $snaps snapshots, idle_but_parked counter '$stalls': $(cat "$d/err")"
		fi
		continue
	fi
	if [ $rc = 0 ] && [ "$snaps" = 1 ] && [ "$stalls" = 1 ] && [ "$partial" = 0 ] &&
		[ "$(metric "$d/m.prom" stallscope_snapshots_total '')" = 1 ]; then
		ok watch_http_stall_legacy_one_snapshot_counted
	else
		not_ok watch_http_stall_legacy_one_snapshot_counted \
			"exit $rc, $snaps snapshots, $partial partial, counter '$stalls': $(cat "$d/err"); the client: $(grep '^request' "$d/out" | tr '\n' '|')"
	fi
	# The snapshot reads like any recording, and finds the same stall as
	# recording an identical run does (the handler sets its length).
	snap=$(find "$d" -name 'stall-*-idle_but_parked.trace' | head -1)
	WSRT_EAGER_HANDOFF=0 timeout $((120 * slow)) "$ss" record -o "$d/full.trace" \
		-- "$hs" --workers 4 --requests 4 --handler-ms 200 >/dev/null 2>"$d/rec.err"
	"$ss" report --json "${snap:-/nonexistent}" >"$d/snap.json" 2>"$d/snap.err"
	"$ss" report --json "$d/full.trace" >"$d/full.json" 2>>"$d/snap.err"
	a=$(stall_ms "$d/snap.json" idle_but_parked)
	b=$(stall_ms "$d/full.json" idle_but_parked)
	check_awk watch_snapshot_finds_the_stall_a_recording_finds \
		'v != "" && split(v, x, " ") == 2 && x[1] >= 0.9 * x[2] && x[1] <= 1.1 * x[2]' "$a $b" \
		"snapshot ${a:-none} ms, recording ${b:-none} ms: $(cat "$d/snap.err")"
	if [ -n "$snap" ] && grep -qE '^stallscope: saved .*stall-[0-9]{8}T[0-9]{6}Z-idle_but_parked\.trace: idle_but_parked of' "$d/err"; then
		ok watch_says_each_snapshot_on_one_line
	else
		not_ok watch_says_each_snapshot_on_one_line "$(cat "$d/err")"
	fi
	if promtool check metrics <"$d/m.prom" >"$d/promtool.out" 2>&1; then
		ok watch_metrics_file_passes_promtool
	else
		not_ok watch_metrics_file_passes_promtool "$(cat "$d/promtool.out")"
	fi
done

# ---- lifo-stall, legacy: the stuck LIFO task ----
d=$tmp/lifo
mkdir -p "$d"
WSRT_LIFO_STEALABLE=0 timeout $((120 * slow)) "$ss" watch --out "$d" -- "$BUILD/bin/lifo-stall" \
	--block-ms 200 >"$d/out" 2>"$d/err"
snap=$(find "$d" -name 'stall-*-stuck_lifo.trace' | head -1)
"$ss" report "${snap:-/nonexistent}" >"$d/report" 2>&1
if grep -qE '^  stuck_lifo at .* for (1[89][0-9]|2[01][0-9])\.[0-9] ms: task [0-9]+ \(task_b\)' "$d/report"; then
	ok watch_lifo_stall_legacy_snapshot_has_the_stuck_lifo
else
	not_ok watch_lifo_stall_legacy_snapshot_has_the_stuck_lifo "$(cat "$d/err" "$d/report")"
fi

# ---- --max-snapshots: the oldest stall-*.trace files go, others stay ----
d=$tmp/max
mkdir -p "$d"
cp "$snap" "$d/stall-20000101T000000Z-stuck_lifo.trace" 2>/dev/null
cp "$snap" "$d/stall-20000101T000001Z-stuck_lifo.trace" 2>/dev/null
cp "$snap" "$d/stall-20000101T000002Z-idle_but_parked.trace" 2>/dev/null
echo keep >"$d/notes.txt"
WSRT_LIFO_STEALABLE=0 timeout $((120 * slow)) "$ss" watch --out "$d" --max-snapshots 2 \
	-- "$BUILD/bin/lifo-stall" --block-ms 100 >"$d/out" 2>"$d/err"
left=$(cd "$d" && ls | grep -v '^out$\|^err$' | tr '\n' ' ')
if [[ $left =~ ^notes\.txt\ stall-20000101T000002Z-idle_but_parked\.trace\ stall-2[0-9]{7}T[0-9]{6}Z-stuck_lifo\.trace\ $ ]] &&
	[ "$(grep -c '^stallscope: removed ' "$d/err")" = 2 ]; then
	ok watch_max_snapshots_removes_the_oldest
else
	not_ok watch_max_snapshots_removes_the_oldest "left: $left; $(cat "$d/err")"
fi

# ---- an unmodified Tokio binary: its stalls counted, every kind findable ----
# tokio-lifo (release) stalls a task in the LIFO slot 150 ms, four times:
# seen through Tokio's own symbols (uprobes, no probes of ours), each a
# stuck_lifo snapshot and a count, and the findable gauges say all three
# kinds can be found (tasks from Tokio's records, readiness recorded).
d=$tmp/tokio
mkdir -p "$d"
timeout $((120 * slow)) "$ss" watch --out "$d" --metrics "$d/m.prom" --max-snapshots 100 \
	-- "$BUILD/bin/tokio-lifo" --runs 4 --block-ms 150 >"$d/out" 2>"$d/err"
rc=$?
snaps=$(find "$d" -name 'stall-*-stuck_lifo.trace' | wc -l)
stalls=$(metric "$d/m.prom" stallscope_stalls_total 'kind="stuck_lifo"')
findable=$(for k in stuck_lifo idle_but_parked runnable_while_parked; do
	metric "$d/m.prom" stallscope_stalls_findable "kind=\"$k\""; done | tr '\n' ' ')
if [ $rc = 0 ] && [ "${stalls:-0}" -ge 3 ] && [ "$snaps" -ge 1 ] && [ "$findable" = "1 1 1 " ] &&
	grep -q '^stallscope: Tokio 1\.' "$d/err"; then
	ok watch_tokio_binary_stuck_lifo_counted_every_kind_findable
else
	not_ok watch_tokio_binary_stuck_lifo_counted_every_kind_findable \
		"exit $rc, $snaps stuck_lifo snapshots, counter '$stalls', findable '$findable': $(cat "$d/err")"
fi
# --no-tokio: the kernel's view, no tasks: the same stalls go uncounted,
# and the gauges say those kinds could not have been found.
d=$tmp/tokio-none
mkdir -p "$d"
timeout $((120 * slow)) "$ss" watch --no-tokio --out "$d" --metrics "$d/m.prom" \
	-- "$BUILD/bin/tokio-lifo" --runs 4 --block-ms 150 >"$d/out" 2>"$d/err"
rc=$?
stalls=$(metric "$d/m.prom" stallscope_stalls_total 'kind="stuck_lifo"')
findable=$(for k in stuck_lifo idle_but_parked runnable_while_parked; do
	metric "$d/m.prom" stallscope_stalls_findable "kind=\"$k\""; done | tr '\n' ' ')
if [ $rc = 0 ] && [ "$stalls" = 0 ] && [ "$findable" = "0 1 0 " ]; then
	ok watch_tokio_binary_no_tokio_says_tasks_cannot_be_found
else
	not_ok watch_tokio_binary_no_tokio_says_tasks_cannot_be_found \
		"exit $rc, stuck_lifo counter '$stalls', findable '$findable': $(cat "$d/err")"
fi

# ---- a signal at any moment: no partial file, every file whole ----
# tokio-lifo stalls 200 ms eight times in 2 s: a signal lands before the
# first stall ends, while a snapshot waits for its second after (not saved,
# said), or after the target's end.
d=$tmp/sig
mkdir -p "$d"
bad=
for delay in 0.3 0.6 1.0 1.5 2.5; do
	"$ss" watch --out "$d" --max-snapshots 100 -- "$BUILD/bin/tokio-lifo" --runs 8 \
		--block-ms 200 >"$d/out" 2>"$d/err.$delay" &
	w=$!
	pids+=("$w")
	sleep "$delay"
	stop "$w"
	rc=$?
	[ $rc = 0 ] || bad="$bad; at ${delay}s exit $rc: $(cat "$d/err.$delay")"
done
for f in "$d"/*.trace; do
	[ -e "$f" ] || continue
	"$ss" dump "$f" >/dev/null 2>"$d/dump.err" || bad="$bad; $f does not read: $(cat "$d/dump.err")"
done
partial=$(find "$d" -name '*.partial')
interrupted=$(cat "$d"/err.* | grep -c 'was not saved: interrupted before its 1.0 s after')
if [ -z "$bad" ] && [ -z "$partial" ] && [ "$interrupted" -ge 1 ]; then
	ok watch_sigterm_at_any_moment_leaves_no_partial_file
else
	not_ok watch_sigterm_at_any_moment_leaves_no_partial_file \
		"partial: $partial, $interrupted interrupted$bad: $(cat "$d"/err.*)"
fi

# ---- attached to a server: Prometheus scrapes it, bad clients don't stop it ----
d=$tmp/prom
mkdir -p "$d/data"
# A port for Prometheus: the kernel picks one, Prometheus binds it (it
# takes no port 0).
pport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
WSRT_EAGER_HANDOFF=0 "$hs" --serve-only --workers 4 --handler-ms 200 --duration $((120 * slow)) \
	>"$d/srv.out" 2>&1 &
spid=$!
pids+=("$spid")
port=$(listen_port "$d/srv.out" "$spid" $((200 * slow)))
"$ss" watch --out "$d" --listen 0 -p "$spid" >"$d/out" 2>"$d/err" &
wpid=$!
pids+=("$wpid")
wait_line "$d/err" '^stallscope: watching ' "$wpid"
mport=$(sed -n 's|^stallscope: metrics at http://127\.0\.0\.1:\([0-9]*\)/metrics$|\1|p' "$d/err")
cat >"$d/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: stallscope
    static_configs:
      - targets: ['127.0.0.1:$mport']
EOF
prometheus --config.file="$d/prometheus.yml" --storage.tsdb.path="$d/data" \
	--web.listen-address="127.0.0.1:$pport" >"$d/prom.log" 2>&1 &
ppid_=$!
pids+=("$ppid_")
# Prometheus up first: its start takes the CPUs for a second or more, and
# the stall below is a matter of timing (seen: the new connections' curl
# started after the handlers were done, no stall, under a loaded run).
for ((i = 0; i < 300 * slow; i++)); do
	curl -s -m 2 -o /dev/null "http://127.0.0.1:$pport/-/ready" && break
	kill -0 "$ppid_" 2>/dev/null || break
	sleep 0.1
done
warm_stall "$port" "$spid"	# waits for the runtime idle, then its handler
# Bad clients: one silent and held open, one flooding, wrong paths and methods.
exec 5<>"/dev/tcp/127.0.0.1/$mport"
head -c 20000 /dev/zero | tr '\0' 'x' | curl -s -m 10 -o /dev/null -w '%{http_code}\n' \
	--data-binary @- "http://127.0.0.1:$mport/$(head -c 9000 /dev/zero | tr '\0' 'a')" >"$d/codes"
curl -s -m 10 -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$mport/" >>"$d/codes"
curl -s -m 10 -o /dev/null -w '%{http_code}\n' -X POST "http://127.0.0.1:$mport/metrics" >>"$d/codes"
printf 'garbage\r\n\r\n' | timeout 10 bash -c "exec 6<>/dev/tcp/127.0.0.1/$mport; cat >&6; head -1 <&6" \
	>"$d/garbage" 2>&1
curl -s -m 10 "http://127.0.0.1:$mport/metrics" >"$d/m1"
for _ in 1 2 3; do curl -s -m 10 -o /dev/null "http://127.0.0.1:$port/"; done
sleep 1
curl -s -m 10 "http://127.0.0.1:$mport/metrics" >"$d/m2"
exec 5<&- 5>&-
e1=$(metric "$d/m1" stallscope_events_total '')
e2=$(metric "$d/m2" stallscope_events_total '')
if [ "$(tr '\n' ' ' <"$d/codes")" = "431 404 405 " ] && grep -q '^HTTP/1.1 400 ' "$d/garbage" &&
	[ -n "$e1" ] && [ -n "$e2" ] && [ "$e2" -gt "$e1" ] && kill -0 "$wpid" 2>/dev/null; then
	ok watch_metrics_endpoint_bad_clients_do_not_stop_it
else
	not_ok watch_metrics_endpoint_bad_clients_do_not_stop_it \
		"codes $(tr '\n' ' ' <"$d/codes"), garbage: $(cat "$d/garbage"), events $e1 -> $e2: $(cat "$d/err")"
fi
# Prometheus's own query API returns the stall count it scraped.
got=
for ((i = 0; i < 600 * slow; i++)); do
	got=$(curl -s -m 5 "http://127.0.0.1:$pport/api/v1/query" \
		--data-urlencode 'query=stallscope_stalls_total{kind="idle_but_parked",comm="http-stall"}' |
		sed -n 's/.*"value":\[[0-9.]*,"\([0-9]*\)"\].*/\1/p')
	[ -n "$got" ] && [ "$got" -ge 1 ] && break
	kill -0 "$ppid_" 2>/dev/null || break
	sleep 0.1
done
# At least the one stall made (a slow build may see it as two).
check_awk watch_prometheus_scrapes_the_stall_count 'v >= 1' "${got:-0}" "got ${got:-none}"
[ "${got:-0}" -ge 1 ] || echo "# prometheus: $(tail -5 "$d/prom.log")"
stop "$ppid_"
stop "$wpid"
stop "$spid"

# ---- memory under load: the window's bound, flat ----
# The process's own memory (RssAnon: the BPF ring buffer it maps is the
# kernel's, and fixed) stays within --max-memory plus a constant: the
# analyzer, buffers, and what a sanitizer adds.
# Under TSan the process's memory is mostly TSan's (shadow for every heap
# address ever touched, which its allocator keeps moving through: 150 to
# 320 MB in 8 s here, while the plain build stays flat at 1 MB): there,
# only the window's own accounting is checked.
case ${SAN_CFLAGS:-} in
*address*) const=96 ; export ASAN_OPTIONS=${ASAN_OPTIONS:-}:quarantine_size_mb=16 ;;
*thread*) const=-1 ;;
*) const=16 ;;
esac
d=$tmp/mem
mkdir -p "$d"
"$hs" --serve-only --workers 2 --handler-ms 0 --duration $((60 * slow)) >"$d/srv.out" 2>&1 &
spid=$!
pids+=("$spid")
port=$(listen_port "$d/srv.out" "$spid" $((200 * slow)))
"$ss" watch --out "$d" --max-memory 4 --keep 60 --metrics "$d/m.prom" -p "$spid" >"$d/out" 2>"$d/err" &
wpid=$!
pids+=("$wpid")
wait_line "$d/err" '^stallscope: watching ' "$wpid"
# Attached to a wsrt server with no request yet (no record of a task):
# its probes are, so every kind can be found from the first metrics on.
for _ in $(seq $((20 * slow))); do
	[ -s "$d/m.prom" ] && break
	sleep 0.5
done
findable=$(for k in stuck_lifo idle_but_parked runnable_while_parked; do
	metric "$d/m.prom" stallscope_stalls_findable "kind=\"$k\""; done | tr '\n' ' ')
if [ "$findable" = "1 1 1 " ]; then
	ok watch_p_idle_wsrt_every_kind_findable
else
	not_ok watch_p_idle_wsrt_every_kind_findable "findable '$findable': $(cat "$d/err")"
fi
timeout 30 wrk -t1 -c8 -d8s "http://127.0.0.1:$port/" >"$d/wrk" 2>&1 &
kpid=$!
rss=()
for _ in $(seq 8); do
	sleep 1
	rss+=("$(awk '/^RssAnon:/ { print $2 }' /proc/$wpid/status 2>/dev/null)")
done
wait $kpid
stop "$wpid"
stop "$spid"
wb=$(metric "$d/m.prom" stallscope_window_bytes '')
we=$(metric "$d/m.prom" stallscope_window_events '')
check_awk watch_memory_stays_within_max_memory_plus_a_constant \
	"split(v, r, \" \") == 8 && ($const < 0 || (r[8] <= (4 + $const) * 1024 && r[8] <= r[4] + 8192)) && \
	 \"$wb\" + 0 <= 4 * 1048576 && \"$wb\" + 0 >= 3 * 1048576 && \"$we\" + 0 > 10000" "${rss[*]}" \
	"RssAnon kB over 8 s: ${rss[*]} (want <= $(((4 + const) * 1024)), flat); window $wb bytes, $we events: $(cat "$d/err")"

# ---- bad input: one line, exit 2 ----
bad=
for args in "--trigger x" "--trigger 0" "--threshold -1" "--keep 0" "--keep x" "--max-memory 0" \
	"--max-memory 9x" "--max-snapshots 0" "--max-snapshots -1" "--listen x" \
	"--listen 1.2.3.4.5:80" "--listen 127.0.0.1:99999" "--out /nonexistent" "--out /etc/passwd" \
	"--metrics="; do
	# shellcheck disable=SC2086
	out=$("$ss" watch $args -- true 2>&1)
	rc=$?
	if [ $rc != 2 ] || [ "$(wc -l <<<"$out")" != 1 ] || [[ $out != stallscope:* ]]; then
		bad="$bad; [$args] exit $rc: $out"
	fi
done
if [ -z "$bad" ]; then ok watch_bad_options_one_line_exit_2; else not_ok watch_bad_options_one_line_exit_2 "${bad#; }"; fi
