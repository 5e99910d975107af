#!/usr/bin/env bash
# The record schema (userspace/schema.c), the one table of record types:
#  - `stallscope dump --schema` lists every type bpf/record.h numbers, and
#    docs/trace-format.md has a row for each, with its name and every
#    field as dump prints it;
#  - every type and field round-trips through text: a record with every
#    field set, dumped, read back by mktrace, dumps the same (real
#    recordings do the same in analyze.sh).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
ss=$BUILD/bin/stallscope
mktrace=$BUILD/tests/mktrace
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! "$ss" dump --schema >"$tmp/schema" 2>"$tmp/err" || [ -s "$tmp/err" ]; then
	not_ok schema_dump_lists_it "$(cat "$tmp/err")"
	exit 0
fi

# Every numbered type of record.h (SS_* = N, in the enum of types) but
# none and the ring framing (chunks between BPF and the recorder, blocks
# in a file: containers of records, not records).
want=$(awk '/^enum ss_type/ { on = 1 } on && /^};/ { on = 0 }
	on && match($0, /SS_[A-Z_]+ = [0-9]+/) {
		split(substr($0, RSTART, RLENGTH), p, " = ")
		if (p[1] !~ /_(FIRST|LAST)$/ && p[1] !~ /^SS_(NONE|RING_CHUNK|RING_BLOCK|RING_PACKED|RING_WARM)$/) print p[2] }' \
	"$root/bpf/record.h" | sort -n -u)
got=$(cut -f1 "$tmp/schema" | sort -n -u)
if [ -n "$want" ] && [ "$want" = "$got" ]; then
	ok schema_has_every_record_type
else
	not_ok schema_has_every_record_type "record.h: $(echo $want); schema: $(echo $got)"
fi

# docs/trace-format.md: "| N | `name` | ... `field` ..." for each.
bad=$(awk -F'\t' 'NR == FNR { doc[NR] = $0; nd = NR; next }
	{ row = ""
	  for (i = 1; i <= nd; i++)
		if (index(doc[i], "| " $1 " | `" $2 "` |") == 1) { row = doc[i]; break }
	  if (row == "") { printf "%s (%s): no row; ", $2, $1; next }
	  n = split($4, f, ",")
	  for (k = 1; k <= n; k++)
		if (index(row, "`" f[k] "`") == 0) printf "%s: no `%s`; ", $2, f[k] }' \
	"$root/docs/trace-format.md" "$tmp/schema")
if [ -z "$bad" ]; then
	ok schema_docs_name_every_type_and_field
else
	not_ok schema_docs_name_every_type_and_field "docs/trace-format.md: $bad"
fi

# One record of every type, every field set, through dump and back.
# Values are chosen per field name where the field has names to print.
awk -F'\t' 'BEGIN {
	print "meta pid 100"; print "meta comm schema"; print "meta workers 2" }
	{ line = sprintf("1000.%03d %s tid=101 cpu=1", NR, $2)
	  n = split($4, f, ",")
	  kind = ""
	  for (k = 1; k <= n; k++) {
		v = 7
		if (f[k] == "dest") v = "local"; else if (f[k] == "src") v = "steal"
		else if (f[k] == "result" && $2 ~ /^poll_end$/) v = "yield"
		else if (f[k] == "kind" && $2 ~ /^park_/) { v = "futex"; kind = v }
		else if (f[k] == "kind") v = "driver"
		else if (f[k] == "op" && kind == "futex") v = "wait_bitset|private|abs"
		else if (f[k] == "op" && $2 == "epoll_ctl") v = "mod"
		else if (f[k] == "op") v = "wake|clock_realtime"
		else if (f[k] == "which") v = "pwait2"
		else if (f[k] == "family") v = "inet6"; else if (f[k] == "protocol") v = "udp"
		else if (f[k] == "prev_state") v = "D"
		else if (f[k] == "comm") v = "w\\x01rk\\\\er"
		else if (f[k] == "timeout_ns") v = ($2 == "park_enter" ? 1500000000 : -1)
		else if (f[k] == "faults") v = "spurious|delay"
		else if (f[k] ~ /^(waker|worker|thread|result|exit_code|timeout_us|epfd|fd)$/) v = -1
		line = line " " f[k] "=" v }
	  print line }' "$tmp/schema" >"$tmp/all.txt"
if ! "$mktrace" "$tmp/all.txt" "$tmp/all.trace" 2>"$tmp/mk.err"; then
	not_ok schema_every_type_round_trips "mktrace: $(cat "$tmp/mk.err")"
else
	"$ss" dump "$tmp/all.trace" >"$tmp/a.txt" 2>&1
	if ! "$mktrace" - "$tmp/again.trace" <"$tmp/a.txt" 2>"$tmp/mk.err"; then
		not_ok schema_every_type_round_trips "mktrace of the dump: $(cat "$tmp/mk.err")"
	elif ! cmp -s "$tmp/all.trace" "$tmp/again.trace"; then
		"$ss" dump "$tmp/again.trace" >"$tmp/b.txt" 2>&1
		not_ok schema_every_type_round_trips "$(diff "$tmp/a.txt" "$tmp/b.txt" | head -6 | tr '\n' '|')"
	elif [ "$(grep -c '^[0-9]' "$tmp/a.txt")" -ne "$(wc -l <"$tmp/schema")" ]; then
		not_ok schema_every_type_round_trips "$(grep -c '^[0-9]' "$tmp/a.txt") records dumped, want $(wc -l <"$tmp/schema")"
	else
		ok schema_every_type_round_trips
	fi
fi

# Bad text gets one line naming the line, and exit 2.
printf 'meta pid 1\n1000 notify tid=1 dest=sideways\n' >"$tmp/bad.txt"
out=$("$mktrace" "$tmp/bad.txt" "$tmp/bad.trace" 2>&1)
rc=$?
if [ $rc -eq 2 ] && [ "$(wc -l <<<"$out")" -eq 1 ] && grep -q "bad.txt:2: bad value for dest: 'sideways'" <<<"$out" &&
	[ ! -e "$tmp/bad.trace" ]; then
	ok schema_bad_value_one_line
else
	not_ok schema_bad_value_one_line "exit $rc: $out"
fi
