#!/usr/bin/env bash
# Installs the Debian packages the project needs — only those missing, so
# on a ready machine this is a few dpkg-query calls.  Run as root (or via
# sudo) on a fresh Debian 12 machine; every build target runs it first.
set -euo pipefail

PKGS=(
	binutils		# readelf: tests check the USDT notes
	systemtap-sdt-dev	# sys/sdt.h: the runtime's USDT probes
	clang			# fuzz targets (libFuzzer)
	libclang-rt-14-dev	# libFuzzer and clang's sanitizer runtimes
	llvm			# llvm-strip for the BPF object
	bpftool			# vmlinux.h from BTF, BPF skeletons
	libbpf-dev		# loading and attaching the BPF programs
	libelf-dev		# libbpf's and the build-id reader's ELF access
	zlib1g-dev		# libbpf links it
	libdw-dev		# elfutils libdwfl: task names from poll-function addresses
	libiberty-dev		# ... and Rust's symbols demangled (a Tokio task's future)
	curl			# scenario tests fetch from the example server
	wrk			# make bench: HTTP load on loopback
	time			# make bench: the analyzer's peak memory (/usr/bin/time -v)
	rustc			# tests: the shim seen from a Rust program's std parks
	cargo			# the Tokio example (examples/tokio-lifo), built offline
	librust-tokio-dev	# ... against Debian's Tokio 1.24 and its crates
	librust-hyper-dev	# ... and hyper 0.14 (tokio-http, the HTTP-load control)
	protobuf-compiler	# tests: protoc decodes the Perfetto export
	python3			# tests: json.tool checks the Chrome JSON export
	libncurses-dev		# stallscope live
	tmux			# tests: stallscope live in a real terminal
	groff-base		# tests: the man pages render without warnings (groff -ww)
	man-db			# tests: ... and through man --warnings -l
	pkgconf			# tests: the installed wsrt.pc (make install)
	prometheus		# tests: a real Prometheus scrapes stallscope watch
)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages: ${missing[*]}" >&2
	echo "deps: run 'sudo make deps' (or apt-get install ${missing[*]})" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Installing prometheus would start its service (a server on :9090): the
# tests start their own, on loopback, and stop it.  A policy-rc.d that
# refuses starts while apt runs (unless the machine has one), and the
# service left disabled.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if [[ " ${missing[*]} " == *" prometheus "* ]]; then
	deb-systemd-helper disable prometheus.service >/dev/null 2>&1 || true
fi
