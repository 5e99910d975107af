#!/usr/bin/env bash
# The USDT probes: every probe declared in runtime/wsrt_probes.h is in the
# binary's notes (readelf -n) under provider wsrt, and documented in
# docs/probes.md with the same argument count.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)

# The runtime's probes, and the rings' three (runtime/ring.c; STAP_PROBE
# without a number: no arguments).
declared=$({ sed -n 's/.*STAP_PROBE\([0-9]\)(wsrt, \([a-z_]*\),.*/\2 \1/p' "$root/runtime/wsrt_probes.h"
	sed -n -e 's/.*STAP_PROBE\([0-9]\)(SS_RING_PROVIDER, \([a-z_]*\),.*/\2 \1/p' \
		-e 's/.*STAP_PROBE(SS_RING_PROVIDER, \([a-z_]*\)).*/\1 0/p' "$root/runtime/ring.c"; } | sort -u)
[ "$(wc -l <<<"$declared")" -ge 20 ] || { not_ok probes_declared "not every probe found in wsrt_probes.h: $declared"; exit 0; }

notes=$(readelf -n "$BUILD/bin/lifo-stall" 2>/dev/null)
in_binary=$(awk '/Provider: wsrt/ { p = 1; next } p && /Name:/ { print $2; p = 0 }' <<<"$notes" | sort -u)
missing=$(comm -23 <(cut -d' ' -f1 <<<"$declared") <(echo "$in_binary"))
if [ -z "$missing" ]; then ok probes_all_in_readelf_notes; else not_ok probes_all_in_readelf_notes "not in readelf -n: $missing"; fi

# Argument counts in the notes match the declaration.
bad=""
while read -r name n; do
	got=$(awk -v want="$name" '/Provider: wsrt/ { p = 1; next }
		p && /Name:/ { cur = $2; p = 0; next }
		cur == want && /Arguments:/ { print NF - 1; exit }' <<<"$notes")
	[ "$got" = "$n" ] || bad="$bad $name($got!=$n)"
done <<<"$declared"
if [ -z "$bad" ]; then ok probes_argument_counts_match; else not_ok probes_argument_counts_match "$bad"; fi

# Every probe has a section in docs/probes.md naming its argument count.
undoc=""
while read -r name n; do
	grep -q "^### \`$name\` ($n arguments\?)" "$root/docs/probes.md" 2>/dev/null || undoc="$undoc $name"
done <<<"$declared"
if [ -z "$undoc" ]; then ok probes_all_documented; else not_ok probes_all_documented "missing or wrong in docs/probes.md:$undoc"; fi
