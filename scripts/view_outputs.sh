#!/usr/bin/env bash
# Every view's output on a set of traces, into one directory, so that a
# change meant to keep them (a refactor) can be diffed against a build
# from before it:
#
#   scripts/view_outputs.sh BUILD OUTDIR [TRACE...]
#   diff -r OUTDIR_BEFORE OUTDIR_AFTER
#
# The traces: the golden event streams (tests/golden/*.txt, made into
# traces with BUILD's mktrace) and any TRACE given (real recordings, e.g.
# the demo's).  Per trace: report (text, --json, --threshold 1 and 50),
# check, timeline (whole, and its first 5 ms), export (Perfetto and
# JSON), dump; each command's exit status is kept beside its output.
set -uo pipefail
build=${1:?usage: scripts/view_outputs.sh BUILD OUTDIR [TRACE...]}
out=${2:?usage: scripts/view_outputs.sh BUILD OUTDIR [TRACE...]}
shift 2
ss=$build/bin/stallscope
mktrace=$build/tests/mktrace
here=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$ss" ] && [ -x "$mktrace" ] || { echo "view_outputs: build $build first (make)" >&2; exit 2; }
mkdir -p "$out/traces" || exit 2

# Every trace in one place, named by its own name: the outputs quote it.
traces=()
for g in "$here"/tests/golden/*.txt; do
	n=$(basename "$g" .txt).trace
	"$mktrace" "$g" "$out/traces/$n" 2>/dev/null && traces+=("$n")
done
for t in "$@"; do
	cp "$t" "$out/traces/" && traces+=("$(basename "$t")")
done
ss=$(cd "$(dirname "$ss")" && pwd)/stallscope
out=$(cd "$out" && pwd)
cd "$out/traces" || exit 2

run() {	# run NAME CMD...: stdout to NAME, the exit status to NAME.rc
	local name=$1
	shift
	"$@" >"$name" 2>/dev/null
	echo $? >"$name.rc"
}
for t in "${traces[@]}"; do
	b=$out/${t%.trace}
	run "$b.report" "$ss" report "$t"
	run "$b.report.json" "$ss" report --json "$t"
	run "$b.report.t1" "$ss" report --threshold 1 "$t"
	run "$b.report.t50" "$ss" report --threshold 50 "$t"
	run "$b.check" "$ss" check "$t"
	run "$b.timeline" "$ss" timeline "$t"
	run "$b.timeline.5ms" "$ss" timeline --to 5 "$t"
	run "$b.export" "$ss" export "$t" -o "$b.perfetto"
	run "$b.export.json" "$ss" export "$t" --format json -o "$b.json"
	run "$b.dump" "$ss" dump "$t"
done
cd "$out" && rm -rf "$out/traces"
echo "view_outputs: ${#traces[@]} traces into $out"
