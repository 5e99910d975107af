#!/usr/bin/env bash
# The man pages (man/*.1) against the binary they describe:
#  - stallscope(1) and one stallscope-CMD(1) per command `stallscope
#    --help` lists, each named in stallscope(1);
#  - per page, the options its OPTIONS section lists are exactly those
#    `stallscope [CMD] --help` lists (long and short forms), its SYNOPSIS
#    uses no other, and every long option the command's option table
#    accepts (its source, preprocessed: common/opts.h's entries) is on the
#    page, but for the hidden ones below;
#  - every page renders without a warning, by groff and by man.
# Each failure names the page and the options in one but not the other.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
ss=$BUILD/bin/stallscope
man=$root/man

# Options a command accepts but neither --help nor its page shows, each
# with its reason.
#   record --ring-kb: test-only, a tiny ring buffer to force lost events
#   (tests/scenario/record.sh).
hidden_record="--ring-kb"
# Every command takes -h/--help; its usage text need not name itself
# (the pages do).  stallscope's own --help does, and is compared whole.
self_help="-h --help"

# Where each command's option table is: command, file ("-": none).
tables="record cmds/record.c
report cmds/report.c
check cmds/check.c
timeline cmds/timeline.c
live cmds/live.c
watch cmds/watch.c
export cmds/export.c
demo cmds/demo.c
dump -"

# options: the options (-x, --long-name) named in standard input, one a
# line, sorted.  An option starts a word: "wsrt-w*" or "-- CMD" is none.
options() {
	grep -oE '(^|[][ ,"|(/])--?[A-Za-z][A-Za-z0-9-]*' | sed -E 's/^[^-]+//' |
		grep -E '^(-[A-Za-z]|--[A-Za-z][A-Za-z0-9-]+)$' | sort -u
}

# section PAGE NAME: the lines of that section of a page, roff escapes for
# fonts and minus signs undone.
section() {
	awk -v want="$2" '/^\.SH / { on = ($0 == ".SH " want || $0 == ".SH \"" want "\"") ; next } on' "$1" |
		sed -E 's/\\f[BIRP]//g; s/\\-/-/g'
}

# page_options PAGE: what its OPTIONS section lists (the tags of .TP).
page_options() {
	section "$1" OPTIONS | awk 'tp { print; tp = 0 } /^\.TP/ { tp = 1 }' | options
}

# minus A B: the lines of A not in B (both as words).
minus() {
	comm -23 <(tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -u) <(tr ' ' '\n' <<<"$2" | sed '/^$/d' | sort -u) | tr '\n' ' ' | sed 's/ $//'
}

# ---- the pages there are ----
cmds=$("$ss" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }')
if [ -z "$cmds" ]; then
	not_ok man_pages_for_every_command "no commands in stallscope --help"
	exit 0
fi
missing="" unnamed=""
for c in $cmds; do
	[ -f "$man/stallscope-$c.1" ] || missing+=" stallscope-$c.1"
	grep -q "^\.BR stallscope\\\\-$c (1)" "$man/stallscope.1" 2>/dev/null || unnamed+=" $c"
done
[ -f "$man/stallscope.1" ] || missing+=" stallscope.1"
extra=""
for p in "$man"/stallscope-*.1; do
	c=${p##*/stallscope-}
	c=${c%.1}
	grep -qx "$c" <<<"$cmds" || extra+=" ${p##*/}"
done
if [ -z "$missing$extra$unnamed" ]; then
	ok man_pages_for_every_command
else
	not_ok man_pages_for_every_command "missing:${missing:- none}; for no command:${extra:- none}; not in stallscope(1)'s SEE ALSO:${unnamed:- none}"
fi

# ---- options: page vs --help vs the getopt table ----
for c in "" $cmds; do
	page=$man/stallscope${c:+-$c}.1
	name=man_options_match_help_${c:-stallscope}
	[ -f "$page" ] || { not_ok "$name" "no page ${page##*/}"; continue; }
	# shellcheck disable=SC2086
	help=$("$ss" $c --help 2>&1)
	rc=$?
	if [ $rc -ne 0 ]; then
		not_ok "$name" "stallscope $c --help: exit $rc: $help"
		continue
	fi
	on_page=$(page_options "$page" | tr '\n' ' ')
	in_help=$(options <<<"$help" | tr '\n' ' ')
	if [ -n "$c" ]; then
		on_page=$(minus "$on_page" "$self_help")
		in_help=$(minus "$in_help" "$self_help")
	fi
	why=""
	only=$(minus "$on_page" "$in_help")
	[ -z "$only" ] || why+="on the page, not in --help: $only; "
	only=$(minus "$in_help" "$on_page")
	[ -z "$only" ] || why+="in --help, not on the page: $only; "
	in_synopsis=$(section "$page" SYNOPSIS | options | tr '\n' ' ')
	only=$(minus "$in_synopsis" "$(page_options "$page" | tr '\n' ' ')")
	[ -z "$only" ] || why+="in SYNOPSIS, not in OPTIONS: $only; "
	if [ -n "$c" ]; then
		read -r _ file < <(grep "^$c " <<<"$tables")
		if [ -z "${file:-}" ]; then
			why+="no option table listed for $c in man.sh; "
		elif [ "$file" != - ]; then
			# The entries' names once the macros are expanded: .name = ("x").
			accepted=$(cc -E -P -I"$root" -I"$root/userspace" -I"$root/viz" "$root/$file" |
				grep -oE '\.name = \("[a-z0-9-]+"\)' | sed -E 's/.*\("(.*)"\)/--\1/' |
				sort -u | tr '\n' ' ')
			if [ -z "$accepted" ]; then
				why+="no option table in $file; "
			else
				hidden_var=hidden_$c
				only=$(minus "$(minus "$accepted" "${!hidden_var:-}")" "$on_page $self_help")
				[ -z "$only" ] || why+="accepted ($file), not on the page: $only; "
			fi
		fi
	fi
	if [ -z "$why" ]; then ok "$name"; else not_ok "$name" "${page##*/}: ${why%; }"; fi
done

# ---- every page renders without a warning ----
for p in "$man"/*.1; do
	name=man_renders_without_warnings_$(basename "$p" .1)
	g=$(timeout 30 groff -ww -man -z "$p" 2>&1)
	grc=$?
	m=$(MANWIDTH=80 timeout 30 man --warnings -E UTF-8 -l "$p" 2>&1 >/dev/null)
	mrc=$?
	if [ $grc -eq 0 ] && [ -z "$g" ] && [ $mrc -eq 0 ] && [ -z "$m" ]; then
		ok "$name"
	else
		not_ok "$name" "groff -ww: exit $grc: $g; man --warnings: exit $mrc: $m"
	fi
done
