#!/usr/bin/env bash
# Install (or check for) the Debian 12 packages glued needs, in two sets:
# `build` is what building and running glued needs (`make`, `make run`),
# `test` adds what the suites and benchmarks need (`make test`).
#   tools/deps.sh check [build|test]    exit 0 if every package of the set is installed
#   tools/deps.sh install [build|test]  apt-get install the set
#   tools/deps.sh ensure [build|test]   check, and install only if something is missing
#   tools/deps.sh list [build|test]     print the set, one package a line
# The set defaults to `build`. "Installed" is dpkg's word for it, so the
# check is one dpkg-query and knows nothing about commands or pkg-config.
set -euo pipefail

# Build and run: compiler, BPF toolchain (clang -print-multiarch gives the
# <asm/types.h> directory of linux-libc-dev), the libraries through pkg-config.
# packaging/Dockerfile installs the same list in its build stage.
BUILD_PKGS=(
	make
	pkg-config
	clang
	llvm
	bpftool
	linux-libc-dev
	libbpf-dev
	liburing-dev
	libcurl4-openssl-dev
	libjansson-dev
	libsodium-dev
	libmicrohttpd-dev
	libseccomp-dev
)

# Tests and benchmarks only, one package a line (add yours on its own line).
TEST_PKGS=(
	libclang-rt-14-dev
	bats
	dnsutils
	knot-dnsutils
	dnsperf
	dnsmasq-base
	unbound
	knot
	docker.io
	containerd
	busybox-static
	iproute2
	jq
	procps
	psmisc
	util-linux
	iputils-ping
	ca-certificates
	tcpdump
	curl
	debootstrap
	ethtool
	python3
	systemd
	podman
	netavark
	aardvark-dns
	catatonit
	crun
	qemu-system-x86
	kmod
	xz-utils
	nftables
)

pkgs() { # set -> the packages, one a line
	case $1 in
	build) printf '%s\n' "${BUILD_PKGS[@]}" ;;
	test) printf '%s\n' "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}" ;;
	*) echo "deps: unknown set '$1' (build or test)" >&2; exit 2 ;;
	esac
}

missing() { # set -> the packages dpkg does not have installed, one a line
	local -A ok=()
	local p st
	command -v dpkg-query >/dev/null 2>&1 || { pkgs "$1"; return 0; }
	# One query for the whole set; unknown packages only print to stderr.
	while read -r p st; do
		[ "${st:0:2}" = ii ] && ok[${p%%:*}]=1
	done < <(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' $(pkgs "$1") 2>/dev/null || true)
	for p in $(pkgs "$1"); do
		[ -n "${ok[$p]:-}" ] || echo "$p"
	done
}

check() {
	[ -z "$(missing "$1")" ]
}

install() {
	local set=$1 n
	if [ "$(id -u)" != 0 ]; then
		echo "deps: missing $(missing "$set" | tr '\n' ' ')" >&2
		echo "deps: need root to install packages (apt-get); run: sudo tools/deps.sh install $set" >&2
		exit 1
	fi
	command -v apt-get >/dev/null 2>&1 || {
		echo "deps: no apt-get: install by hand: $(pkgs "$set" | tr '\n' ' ')" >&2
		exit 1
	}
	export DEBIAN_FRONTEND=noninteractive
	echo "deps: apt-get update" >&2
	apt-get update -qq
	n=$(pkgs "$set" | wc -l)
	echo "deps: installing the $set set ($n packages and what they depend on)" >&2
	# shellcheck disable=SC2046
	apt-get install -y -qq --no-install-recommends $(pkgs "$set") >/dev/null
	# The Debian packages start services on install where systemd runs; the
	# tests start their own engines, so leave no package-started daemons in
	# the way (only where systemd exists; nothing else is touched).
	if [ "$set" = test ] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		systemctl disable --now unbound dnsmasq knot 2>/dev/null || true
	fi
	if ! check "$set"; then
		echo "deps: still missing after install: $(missing "$set" | tr '\n' ' ')" >&2
		exit 1
	fi
	echo "deps: $set set ok" >&2
}

cmd=${1:-check} set=${2:-build}
pkgs "$set" >/dev/null
case $cmd in
check) check "$set" ;;
install) install "$set" ;;
ensure) check "$set" || install "$set" ;;
list) pkgs "$set" ;;
*) echo "usage: $0 check|install|ensure|list [build|test]" >&2; exit 2 ;;
esac
