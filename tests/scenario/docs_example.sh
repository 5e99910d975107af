#!/usr/bin/env bash
# The C example in docs/runtime.md compiles against libwsrt and runs.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

awk '/^```c$/ { on = 1; next } /^```$/ { on = 0 } on' "$root/docs/runtime.md" >"$tmp/example.c"
if ! out=$(gcc -std=gnu11 -Wall -Wextra -Werror ${SAN_CFLAGS:-} -I"$root/runtime" "$tmp/example.c" \
	"$BUILD/lib/libwsrt.a" -pthread -o "$tmp/example" 2>&1); then
	not_ok docs_runtime_example_compiles "$out"
	exit 0
fi
ok docs_runtime_example_compiles
if timeout 20 "$tmp/example"; then ok docs_runtime_example_runs; else not_ok docs_runtime_example_runs "exit $?"; fi
