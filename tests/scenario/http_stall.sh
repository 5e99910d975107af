#!/usr/bin/env bash
# The http-stall scenario and the server behind it.
#  1. The scenario in both modes with the defaults (4 workers, 200 ms
#     handler, 4 requests).  Behaviour, not benchmark, so wide margins:
#     legacy: at least 3 of the later requests >= 1.6x the handler (they
#     wait for the driver's owner to finish); eager handoff: all <= 1.4x.
#  2. The server (--serve-only) over plain bash /dev/tcp (and curl if
#     installed): 200 with the right body, 400 for a malformed request,
#     pipelined requests answered in order, peers that reset mid-request
#     or mid-handler don't hurt it, SIGTERM and --duration stop it cleanly.
#  3. Bad arguments exit 2 with one clear line.
# Every wait is bounded; only the server started here is ever signalled.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

bin=$BUILD/bin/http-stall
slow=${TEST_SLOW:-1}
handler=200

# ---- 1. the scenario ----------------------------------------------------------

# A run whose request 0 — which waits for nothing but its own handler —
# took over 1.2x the handler was disturbed from outside (the VM or another
# process starved it), so it says nothing about the runtime: such a run is
# repeated, up to 5 attempts, and the attempts are reported.  With eager
# handoff, so is a run with any request over 1.4x the handler: this VM
# stops vCPUs for 100 ms at times (a sleeping handler then wakes late),
# which only ever makes requests slower — the legacy assertion (requests
# at least 1.6x) needs no repeat, and eager handoff broken fails all 5
# (each of requests 1..3 then takes about 2x).
for mode in 0 1; do
	name=http_stall_$([ $mode = 1 ] && echo eager || echo legacy)
	for attempt in 1 2 3 4 5; do
		out=$(WSRT_EAGER_HANDOFF=$mode timeout $((60 * slow)) "$bin" 2>&1)
		rc=$?
		line=$(grep '^{"scenario":"http-stall"' <<<"$out")
		lat=$(sed -n 's/.*"latencies_ms":\[\([0-9.,]*\)\].*/\1/p' <<<"$line")
		[ $rc -ne 0 ] || [ -z "$lat" ] && break
		first=${lat%%,*}
		worst=$(tr ',' '\n' <<<"$lat" | sort -g | tail -1)
		[ $attempt = 5 ] && break
		if awk -v v="$first" -v h=$handler 'BEGIN { exit !(v > 1.2 * h) }'; then
			echo "# $name: attempt $attempt disturbed (request 0 took $first ms): [$lat]"
		elif [ $mode = 1 ] && awk -v v="$worst" -v h=$handler 'BEGIN { exit !(v > 1.4 * h) }'; then
			echo "# $name: attempt $attempt slow (a request took $worst ms): [$lat]"
		else
			break
		fi
	done
	if [ $rc -ne 0 ] || [ -z "$lat" ]; then
		not_ok "$name" "exit $rc, output: $out"
		continue
	fi
	grep -q "\"eager_handoff\":$([ $mode = 1 ] && echo true || echo false)" <<<"$line" ||
		{ not_ok "$name" "JSON does not report the mode: $line"; continue; }
	grep -q '"workers":4,"requests":4,' <<<"$line" ||
		{ not_ok "$name" "not the default 4 workers, 4 requests: $line"; continue; }
	if [ $mode = 0 ]; then
		# Requests 1..3 wait for request 0's handler, then run their own.
		slow_ones=$(tr ',' '\n' <<<"$lat" | tail -n +2 |
			awk -v h=$handler '$1 >= 1.6 * h { n++ } END { print n + 0 }')
		check_awk "$name" "v >= 3" "$slow_ones" \
			"latencies [$lat] ms: $slow_ones of the later requests >= $((handler * 16 / 10)) ms, want 3 (new connections stuck behind the driver's owner)"
	else
		check_awk "$name" "v <= 1.4 * $handler" "$worst" \
			"latencies [$lat] ms, want all <= $((handler * 14 / 10)) ms (driver handed off)"
	fi
done

# ---- 2. the server --------------------------------------------------------------

scratch

# start_server ARGS...: starts http-stall --serve-only ARGS in the
# background, sets pid and port.  False if no port line comes.
start_server() {
	pid= port=
	"$bin" --serve-only "$@" >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	port=$(listen_port "$tmp/out" "$pid" $((200 * slow)))
}

# exchange REQUEST: sends REQUEST (a printf format) on a new connection and
# prints everything the server sends until it closes (bounded).
exchange() {
	local fd
	exec {fd}<>"/dev/tcp/127.0.0.1/$port" || return 1
	printf "$1" >&$fd
	timeout $((5 * slow)) cat <&$fd
	exec {fd}<&-
}

# reset_after_first REQUEST: sends REQUEST, reads the first 5 bytes of the
# answer and closes with the rest unread, which makes the kernel send a RST
# instead of a FIN.
reset_after_first() {
	local fd x
	exec {fd}<>"/dev/tcp/127.0.0.1/$port" || return 1
	printf "$1" >&$fd
	read -r -N 5 -t $((5 * slow)) x <&$fd
	exec {fd}<&-
	[ "$x" = "HTTP/" ]
}

ok_body='ok worker=[0-9]+ handler_ms=50'
get_close='GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'

if ! start_server --handler-ms 50 --duration $((30 * slow)); then
	not_ok http_stall_serve_starts "no port line: $(cat "$tmp/out" "$tmp/err")"
	exit 0
fi
ok http_stall_serve_starts

if command -v curl >/dev/null; then
	out=$(curl -sS -m $((5 * slow)) -w '\n%{http_code}' "http://127.0.0.1:$port/" 2>&1)
	via=curl
else
	out=$(exchange "$get_close" | tr -d '\r')
	out="$(sed '1,/^$/d' <<<"$out")"$'\n'"$(head -1 <<<"$out" | cut -d' ' -f2)"
	via=dev_tcp
fi
if grep -Eqx "$ok_body" <<<"$(head -1 <<<"$out")" && [ "$(tail -1 <<<"$out")" = 200 ]; then
	ok http_stall_serve_get_200_$via
else
	not_ok http_stall_serve_get_200_$via "want '$ok_body' and 200, got: $out"
fi

out=$(exchange 'GET / HTTP/1.1\r\nHost : t\r\n\r\n' | tr -d '\r')
if [ "$(head -1 <<<"$out")" = "HTTP/1.1 400 Bad Request" ] && grep -qx 'Connection: close' <<<"$out"; then
	ok http_stall_serve_malformed_400
else
	not_ok http_stall_serve_malformed_400 "got: $out"
fi

# Two requests in one write: two 200s, in order — the second one asked to
# close, so only the second answer says Connection: close.
out=$(exchange "GET /1 HTTP/1.1\r\nHost: t\r\n\r\n$get_close" | tr -d '\r')
order=$(awk '/^HTTP\/1\.1 / { n++; s[n] = $2 } /^Connection: close$/ { c[n] = 1 }
	/^ok worker=/ { b[n] = 1 }
	END { for (i = 1; i <= n; i++) printf "%s%s%s ", s[i], c[i] ? "+close" : "", b[i] ? "+body" : "" }' <<<"$out")
if [ "$order" = "200+body 200+close+body " ]; then
	ok http_stall_serve_pipelined_in_order
else
	not_ok http_stall_serve_pipelined_in_order "got '$order' from: $out"
fi

# A peer that sends a request and a half, then resets: the server's read
# fails with ECONNRESET.  One that resets while its second request's
# handler runs: the server's write fails.  Either way it serves on.
if reset_after_first 'GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHo' &&
	reset_after_first 'GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\n\r\n'; then
	out=$(exchange "$get_close" | tr -d '\r')
	if [ "$(head -1 <<<"$out")" = "HTTP/1.1 200 OK" ] && grep -Eqx "$ok_body" <<<"$out"; then
		ok http_stall_serve_survives_reset
	else
		not_ok http_stall_serve_survives_reset "after the resets got: $out"
	fi
else
	not_ok http_stall_serve_survives_reset "no first response before the reset"
fi

# SIGTERM: a clean shutdown (every connection state freed; under ASan the
# leak check runs too), exit 0.
kill -TERM "$pid"
for ((i = 0; i < 200 * slow; i++)); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.05
done
if kill -0 "$pid" 2>/dev/null; then
	not_ok http_stall_serve_sigterm "still running 10 s after SIGTERM"
else
	wait "$pid"
	rc=$?
	if [ $rc -eq 0 ] && grep -q '^served [0-9]* requests' "$tmp/out"; then
		ok http_stall_serve_sigterm
	else
		not_ok http_stall_serve_sigterm "exit $rc: $(cat "$tmp/out" "$tmp/err")"
	fi
fi
pid=

out=$(timeout $((30 * slow)) "$bin" --serve-only --duration 1 2>&1)
rc=$?
if [ $rc -eq 0 ] && grep -q '^served 0 requests' <<<"$out"; then
	ok http_stall_serve_duration
else
	not_ok http_stall_serve_duration "exit $rc: $out"
fi

# ---- 3. bad arguments -------------------------------------------------------------

for args in "--workers 0" "--handler-ms x" "--port 70000" "--requests 0" \
	"--duration 5" "--stagger-ms" "--nope" "extra"; do
	name="http_stall_rejects_${args// /_}"
	out=$(timeout 10 "$bin" $args 2>&1)
	rc=$?
	if [ $rc -eq 2 ] && [ "$(wc -l <<<"$out")" = 1 ] && grep -q '^http-stall: ' <<<"$out"; then
		ok "$name"
	else
		not_ok "$name" "exit $rc, want 2 and one line: $out"
	fi
done
out=$(WSRT_EAGER_HANDOFF=maybe timeout 10 "$bin" 2>&1)
rc=$?
if [ $rc -eq 2 ] && grep -q WSRT_EAGER_HANDOFF <<<"$out"; then ok http_stall_rejects_bad_env; else not_ok http_stall_rejects_bad_env "exit $rc: $out"; fi
