#!/usr/bin/env bash
# make install / make uninstall, from the build under test ($BUILD, and
# the sanitizer run.sh was given, told by SAN_CFLAGS), into a temporary
# DESTDIR:
#  - install builds nothing and puts every file where it belongs
#    (libwsrt.so.VERSION with its soname and dev links, wsrt.pc);
#  - a C program compiles and links against the installed libwsrt through
#    pkg-config, shared and static, and runs;
#  - with the source and build tree made unreachable (a private mount
#    namespace, an empty tmpfs over it), the installed stallscope records
#    the installed lifo-stall (legacy) with the installed shim, finds the
#    stuck_lifo, and runs `demo lifo`;
#  - uninstall removes what install wrote and nothing else;
#  - PREFIX and LIBDIR move what they should (and the shim and examples
#    stay where stallscope looks: BIN/../lib, BIN/../libexec/stallscope).
# Recording needs root and BPF, as the project's machines and CI have:
# without them these tests fail, loudly; they never skip.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
slow=${TEST_SLOW:-1}
tmp=$(mktemp -d)
chmod 755 "$tmp"	# the examples run as root, the demo's files too
trap 'rm -rf "$tmp"' EXIT

case ${SAN_CFLAGS:-} in
*address*) san=asan ;;
*thread*) san=tsan ;;
*) san= ;;
esac
build=$(realpath -m --relative-to="$root" "$BUILD")
dest=$tmp/dest
p=$dest/usr/local

# mk TARGET VARS...: make in the source tree, as a user would run it (not
# as part of an outer make: none of its flags or jobserver).
mk() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u DESTDIR -u PREFIX \
		timeout $((300 * slow)) make -C "$root" --no-print-directory \
		BUILD="$build" SAN="$san" "$@"
}

# hidden CMD...: CMD where the source and build tree is an empty
# directory (exit 97 if it is not), from /.
hidden() {
	unshare -m --propagation private bash -c '
		mount -t tmpfs -o size=1m stallscope-hidden "$1" || exit 98
		[ ! -e "$1/Makefile" ] || exit 97
		shift
		cd / && exec "$@"' hidden "$root" "$@"
}

case $tmp in
"$root"/*)
	not_ok install_tree_outside_the_source "the temporary directory $tmp is inside $root (TMPDIR)"
	exit 0
	;;
esac

# ---- a change of flags compiles again (one object, in a build of its own) ----
# `make` then `make WERROR=1` in one tree must compile again with -Werror
# (it did not, and CI found a warning that the developer's run never
# compiled), and back; a sanitizer compiles again.  SAN and WERROR are
# given each time: make exports its command line's variables, so `make
# check WERROR=1` puts WERROR=1 in this script's environment.
fb=$tmp/flags-build
compiled() { mk BUILD="$fb" SAN= WERROR= "$@" "$fb/common/opts.o" 2>&1 | grep -cE '^  (CC|CCLD) '; }
got="$(compiled) $(compiled) $(compiled WERROR=1) $(compiled WERROR=1) $(compiled) $(compiled SAN=asan)"
if [ "$got" = "1 0 1 0 1 1" ]; then
	ok make_compiles_again_when_the_flags_change
else
	not_ok make_compiles_again_when_the_flags_change "objects compiled by plain, plain, WERROR=1, WERROR=1, plain, SAN=asan: $got, want 1 0 1 0 1 1"
fi

# ---- install: nothing rebuilt, every file in place ----
out=$(mk DESTDIR="$dest" install 2>&1)
rc=$?
if [ $rc -ne 0 ]; then
	not_ok install_runs "make install: exit $rc: $(tail -5 <<<"$out")"
	exit 0
fi
ok install_runs
built=$(grep -E '^  (CC|CCLD|LD|AR|BPF|SKEL|BTF|FUZZ|RUSTC) ' <<<"$out")
if [ -z "$built" ]; then ok install_builds_nothing; else not_ok install_builds_nothing "it built: $(tr '\n' '|' <<<"$built")"; fi

version=$(sed -n 's/^#define SS_VERSION "\(.*\)"/\1/p' "$root/userspace/cli.h")
want="bin/stallscope lib/libstallscope-preload.so lib/libwsrt.a lib/libwsrt.so.$version
include/wsrt.h lib/pkgconfig/wsrt.pc libexec/stallscope/lifo-stall libexec/stallscope/http-stall"
for m in "$root"/man/*.1; do want+=" share/man/man1/${m##*/}"; done
missing=""
for f in $want; do [ -f "$p/$f" ] || missing+=" $f"; done
for x in bin/stallscope libexec/stallscope/lifo-stall libexec/stallscope/http-stall; do
	[ -x "$p/$x" ] || missing+=" $x(not executable)"
done
[ "$(readlink "$p/lib/libwsrt.so.0")" = "libwsrt.so.$version" ] || missing+=" lib/libwsrt.so.0->libwsrt.so.$version"
[ "$(readlink "$p/lib/libwsrt.so")" = libwsrt.so.0 ] || missing+=" lib/libwsrt.so->libwsrt.so.0"
soname=$(readelf -d "$p/lib/libwsrt.so.$version" 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = libwsrt.so.0 ] || missing+=" soname=libwsrt.so.0(is '$soname')"
if [ -z "$missing" ]; then ok install_puts_every_file_in_place; else not_ok install_puts_every_file_in_place "missing or wrong:$missing"; fi

# ---- libwsrt through pkg-config ----
export PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR=$p/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest
flags=$(pkg-config --cflags --libs wsrt 2>&1)
if [ "$(echo $flags)" = "-I$p/include -L$p/lib -lwsrt" ]; then
	ok install_pkg_config_flags
else
	not_ok install_pkg_config_flags "pkg-config --cflags --libs wsrt: $flags"
fi
cat >"$tmp/hello.c" <<'EOF'
#include <stdio.h>
#include <wsrt.h>

static enum wsrt_poll answer(struct wsrt_cx *cx, void *arg)
{
	(void)cx;
	*(int *)arg = 42;
	return WSRT_READY;
}

static enum wsrt_poll join(struct wsrt_cx *cx, void *jh)
{
	return wsrt_join_poll(jh, cx, NULL);
}

int main(void)
{
	struct wsrt_runtime *rt = wsrt_runtime_new(NULL);
	int v = 0;
	struct wsrt_join *jh;

	if (!rt || !(jh = wsrt_spawn(rt, answer, &v, NULL)))
		return 1;
	wsrt_block_on(rt, join, jh);
	wsrt_join_release(jh);
	wsrt_runtime_free(rt);
	printf("answer %d\n", v);
	return v == 42 ? 0 : 1;
}
EOF
# shellcheck disable=SC2086,SC2046
if out=$(gcc -std=gnu11 -Wall -Wextra -Werror ${SAN_CFLAGS:-} "$tmp/hello.c" \
	$(pkg-config --cflags --libs wsrt) -o "$tmp/hello" 2>&1) &&
	readelf -d "$tmp/hello" | grep -q 'NEEDED.*\[libwsrt\.so\.0\]' &&
	out=$(LD_LIBRARY_PATH=$p/lib timeout $((20 * slow)) "$tmp/hello" 2>&1) &&
	[ "$out" = "answer 42" ]; then
	ok install_links_libwsrt_shared_via_pkg_config
else
	not_ok install_links_libwsrt_shared_via_pkg_config "$out $(readelf -d "$tmp/hello" 2>&1 | grep NEEDED | tr '\n' ' ')"
fi
# shellcheck disable=SC2086,SC2046
if out=$(gcc -std=gnu11 -Wall -Wextra -Werror ${SAN_CFLAGS:-} "$tmp/hello.c" \
	$(pkg-config --cflags wsrt) -Wl,-Bstatic $(pkg-config --libs-only-L --libs-only-l wsrt) \
	-Wl,-Bdynamic $(pkg-config --static --libs-only-other wsrt) -o "$tmp/hello-static" 2>&1) &&
	! readelf -d "$tmp/hello-static" | grep -q 'NEEDED.*libwsrt' &&
	out=$(timeout $((20 * slow)) "$tmp/hello-static" 2>&1) && [ "$out" = "answer 42" ]; then
	ok install_links_libwsrt_static_via_pkg_config
else
	not_ok install_links_libwsrt_static_via_pkg_config "$out"
fi
unset PKG_CONFIG_PATH PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR

if MANPATH=$p/share/man man -w stallscope-record >/dev/null 2>&1; then
	ok install_man_finds_the_pages
else
	not_ok install_man_finds_the_pages "MANPATH=$p/share/man man -w stallscope-record: $(MANPATH=$p/share/man man -w stallscope-record 2>&1)"
fi

# ---- record from the installed tree, the build out of reach ----
trace=$tmp/lifo.trace
out=$(WSRT_LIFO_STEALABLE=0 hidden timeout $((120 * slow)) "$p/bin/stallscope" record \
	-o "$trace" -- "$p/libexec/stallscope/lifo-stall" 2>&1)
rc=$?
if [ $rc -ne 0 ]; then
	not_ok install_records_with_the_build_hidden "exit $rc: $(tail -5 <<<"$out")"
else
	ok install_records_with_the_build_hidden
	rep=$(hidden "$p/bin/stallscope" report --json "$trace" 2>&1)
	if grep -q '"kind":"stuck_lifo"' <<<"$rep"; then
		ok install_report_finds_stuck_lifo
	else
		# What the recording holds, per thread, and what record said:
		# enough to tell a lost ring from a misread one.
		keep=$(mktemp --suffix=.trace /tmp/stallscope-install.XXXXXX)
		cp "$trace" "$keep"
		per=$("$p/bin/stallscope" dump "$trace" 2>&1 |
			awk '/^[0-9]/ { n[$3 " " $4]++ } END { for (k in n) printf "%s:%d ", k, n[k] }')
		not_ok install_report_finds_stuck_lifo "$rep; record said: $(tr '\n' '|' <<<"$out"); per thread: $per; trace kept: $keep"
	fi
	dump=$("$p/bin/stallscope" dump "$trace" 2>&1)
	maps=$(grep '^# mapping: ' <<<"$dump")
	if grep -q " $p/lib/libstallscope-preload.so\$" <<<"$maps" &&
		grep -q " $p/libexec/stallscope/lifo-stall\$" <<<"$maps" &&
		! grep -q " $root/" <<<"$maps" &&
		grep -Eq '^[0-9]+ cpu=[0-9]+ tid=[0-9]+ start spurious_ppm=' <<<"$dump"; then
		ok install_record_used_the_installed_shim
	else
		not_ok install_record_used_the_installed_shim "want the shim's start record and mappings of $p only: $maps"
	fi
fi

# ---- demo lifo from the installed tree, the build out of reach ----
out=$(hidden timeout $((300 * slow)) "$p/bin/stallscope" demo lifo -o "$tmp/demo" 2>&1)
rc=$?
if [ $rc -eq 0 ] && grep -q '^lifo-stall  *legacy: 1 stall found (stuck_lifo); fixed: none' <<<"$out" &&
	[ -s "$tmp/demo/lifo-legacy.trace" ] &&
	"$p/bin/stallscope" dump "$tmp/demo/lifo-legacy.trace" | grep -q "^# mapping: .* $p/libexec/stallscope/lifo-stall\$"; then
	ok install_demo_lifo
else
	not_ok install_demo_lifo "exit $rc: $(tail -8 <<<"$out")"
fi

# ---- uninstall: what install wrote, nothing else ----
mkdir -p "$p/share/doc"
touch "$p/bin/other-tool" "$p/lib/libother.so" "$p/share/doc/keep"
out=$(mk DESTDIR="$dest" uninstall 2>&1)
rc=$?
left=$(cd "$dest" && find . \( -type f -o -type l \) | sort | tr '\n' ' ')
want="./usr/local/bin/other-tool ./usr/local/lib/libother.so ./usr/local/share/doc/keep "
if [ $rc -eq 0 ] && [ "$left" = "$want" ] && [ ! -e "$p/libexec/stallscope" ]; then
	ok uninstall_removes_exactly_what_install_wrote
else
	not_ok uninstall_removes_exactly_what_install_wrote "exit $rc: $out; files left: $left (want $want); libexec/stallscope: $(ls -d "$p/libexec/stallscope" 2>&1)"
fi
rm -rf "$dest"

# ---- PREFIX, LIBDIR ----
dest=$tmp/opt
out=$(mk DESTDIR="$dest" PREFIX=/opt/ss LIBDIR=/opt/ss/lib64 install 2>&1)
rc=$?
q=$dest/opt/ss
pc=$(cat "$q/lib64/pkgconfig/wsrt.pc" 2>&1)
if [ $rc -eq 0 ] && [ -x "$q/bin/stallscope" ] && [ -f "$q/lib/libstallscope-preload.so" ] &&
	[ -x "$q/libexec/stallscope/lifo-stall" ] && [ -f "$q/lib64/libwsrt.so.$version" ] &&
	[ -f "$q/include/wsrt.h" ] && [ -f "$q/share/man/man1/stallscope.1" ] &&
	grep -qx 'prefix=/opt/ss' <<<"$pc" && grep -qx 'libdir=${prefix}/lib64' <<<"$pc"; then
	ok install_prefix_and_libdir
else
	not_ok install_prefix_and_libdir "exit $rc: $(tail -3 <<<"$out"); $(cd "$dest" 2>/dev/null && find . -type f | tr '\n' ' '); wsrt.pc: $pc"
fi
out=$(mk DESTDIR="$dest" PREFIX=/opt/ss LIBDIR=/opt/ss/lib64 uninstall 2>&1)
left=$(cd "$dest" && find . \( -type f -o -type l \) | tr '\n' ' ')
if [ -z "$left" ]; then ok uninstall_prefix_and_libdir; else not_ok uninstall_prefix_and_libdir "left: $left $out"; fi
