#!/usr/bin/env bash
# A Debian 13 (trixie) root file system holding docker.io 26.1, containerd,
# runc and podman 5.4, for the e2e engine matrix (tests/e2e/80-engines.bats,
# docs/engines.md). The machine's own packages stay as they are: the engines
# run from this root with chroot, inside an emulated host's mount namespace
# (tests/e2e/lib/engine.bash).
#
#   tools/engine-trixie-root.sh          print the root's path, building it first
#                                        if it is not cached (about 30-90 s)
#   tools/engine-trixie-root.sh versions print the engines' package versions
#
# Cached under $GLUED_TEST_CACHE/trixie-docker (default /var/cache/glued-test),
# outside the clone. A root is used only once complete (built aside, then
# renamed); concurrent callers wait on a lock instead of building twice.
set -euo pipefail

cache=${GLUED_TEST_CACHE:-/var/cache/glued-test}/trixie-docker
root=$cache/root
mirror=${GLUED_TRIXIE_MIRROR:-http://deb.debian.org/debian}
# nftables: trixie's netavark drives nft.
pkgs=docker.io,containerd,runc,iptables,nftables,podman,netavark,aardvark-dns,catatonit,crun,conmon

versions() {
	chroot "$root" dpkg-query -W -f '${Package} ${Version}\n' docker.io containerd runc podman \
		netavark aardvark-dns crun 2>/dev/null
}

build() {
	local tmp=$cache/root.tmp
	[ "$(id -u)" = 0 ] || {
		echo "engine-trixie-root: need root to debootstrap" >&2
		return 1
	}
	command -v debootstrap >/dev/null || {
		echo "engine-trixie-root: debootstrap not installed (tools/deps.sh install)" >&2
		return 1
	}
	rm -rf "$tmp"
	echo "engine-trixie-root: building $root from $mirror (trixie; cached afterwards)" >&2
	if ! debootstrap --variant=minbase --include="$pkgs" trixie "$tmp" "$mirror" \
		>"$cache/debootstrap.log" 2>&1; then
		echo "engine-trixie-root: debootstrap failed; last lines of $cache/debootstrap.log:" >&2
		tail -n 15 "$cache/debootstrap.log" >&2
		return 1
	fi
	# Nothing installed later may start a service in the root.
	printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
	chmod 755 "$tmp/usr/sbin/policy-rc.d"
	rm -rf "$tmp/var/cache/apt/archives/"*.deb
	echo "$pkgs" >"$tmp/.glued-pkgs"
	rm -rf "$root"
	mv "$tmp" "$root"
}

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
# Built from another package list (an older version of this script): again.
if [ "$(cat "$root/.glued-pkgs" 2>/dev/null)" != "$pkgs" ]; then
	build || exit 1
fi
case ${1:-path} in
path) echo "$root" ;;
versions) versions ;;
*) echo "usage: $0 [path|versions]" >&2; exit 2 ;;
esac
