#!/usr/bin/env bash
# Install (or check for) the Debian 12 packages glued's build and tests need.
#   tools/deps.sh check    exit 0 if everything is present, 1 otherwise
#   tools/deps.sh install  apt-get install what is missing
set -euo pipefail

# Build: compilers, BPF toolchain, libraries (through pkg-config).
BUILD_PKGS="make pkg-config clang llvm libclang-rt-14-dev libbpf-dev bpftool linux-libc-dev
  liburing-dev libcurl4-openssl-dev libjansson-dev libsodium-dev libmicrohttpd-dev"
# Tests and benchmarks: bats, DNS clients and servers, Docker, busybox image.
TEST_PKGS="bats dnsutils knot-dnsutils dnsperf dnsmasq-base unbound docker.io containerd
  busybox-static iproute2 jq procps psmisc util-linux iputils-ping ca-certificates tcpdump
  curl debootstrap ethtool python3 systemd knot qemu-system-x86 kmod xz-utils"

check() {
	local p
	for p in libcurl jansson libsodium liburing libbpf; do
		pkg-config --exists "$p" 2>/dev/null || return 1
	done
	for c in clang llvm-strip bpftool bats dig kdig dnsperf dnsmasq unbound dockerd containerd \
		 busybox jq curl debootstrap ethtool python3 systemd-analyze; do
		command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ] || [ -x /bin/"$c" ] || return 1
	done
	return 0
}

install() {
	if [ "$(id -u)" != 0 ]; then
		echo "deps: need root to install packages (apt-get); run: sudo tools/deps.sh install" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	echo "deps: apt-get update" >&2
	apt-get update -qq
	echo "deps: installing $(echo $BUILD_PKGS $TEST_PKGS | wc -w) packages" >&2
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $BUILD_PKGS $TEST_PKGS >/dev/null
	# The Debian packages start services on install where systemd runs; the
	# tests start their own engines, so leave no package-started daemons in
	# the way (only where systemd exists; nothing else is touched).
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		systemctl disable --now unbound dnsmasq knot 2>/dev/null || true
	fi
	check || { echo "deps: still missing something after install" >&2; exit 1; }
	echo "deps: ok" >&2
}

case "${1:-check}" in
check) check ;;
install) install ;;
*) echo "usage: $0 check|install" >&2; exit 2 ;;
esac
