#!/usr/bin/env bash
# Fetch one Debian distribution kernel for the kernel matrix, without
# installing it: a private apt state per suite (the host's sources and
# lists are never touched), `apt-get download` of the newest
# linux-image-*-amd64-unsigned of that suite, `dpkg-deb -x` into the cache.
#   tools/vm/kernel-fetch.sh SUITE     (bookworm, trixie, bullseye)
# Prints the extracted root (holding boot/vmlinuz-* and lib|usr/lib/modules)
# on stdout. Cache: $KERNEL_CACHE (default /var/cache/glued-test/kernels),
# outside the clone; a kernel already extracted is reused without network.
# Exits 1 with one clear line when the suite has no such package.
set -euo pipefail
suite=${1:?usage: kernel-fetch.sh SUITE}
cache=${KERNEL_CACHE:-/var/cache/glued-test/kernels}
die() { echo "kernel-fetch: $suite: $*" >&2; exit 1; }

case $suite in
bookworm | trixie | bullseye) ;;
*) die "unknown suite (bookworm, trixie, bullseye)" ;;
esac

# Already extracted: reuse (the matrix must not need the network each run).
if [ -f "$cache/$suite/ok" ]; then
	cat "$cache/$suite/ok"
	exit 0
fi

# The same mirror as the host's own sources (deb822 or one-line format).
mirror=$(sed -nE 's/^URIs:[[:space:]]*(http[^ ]*\/debian)\/?$/\1/p' \
	/etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=$(sed -nE 's/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?(http[^ ]*\/debian)\/?[[:space:]].*/\2/p' \
	/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

apt=$cache/apt/$suite
mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$apt/etc"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" \
	>"$apt/etc/sources.list"
opts=(-o Dir::Etc::sourcelist="$apt/etc/sources.list" -o Dir::Etc::sourceparts=/nonexistent
	-o Dir::State::lists="$apt/lists" -o Dir::Cache::archives="$apt/archives"
	-o Dir::Cache::pkgcache="$apt/pkgcache.bin" -o Dir::Cache::srcpkgcache="$apt/srcpkgcache.bin"
	-o APT::Get::List-Cleanup=0 -o Debug::NoLocking=1 -o APT::Sandbox::User=root -qq)
apt-get "${opts[@]}" update >&2 || die "apt-get update from $mirror failed"

# The newest ABI of this suite: linux-image-6.1.0-50-amd64-unsigned,
# linux-image-6.12.57+deb13-amd64-unsigned (not -cloud, -rt).
pkg=$(apt-cache "${opts[@]}" search --names-only '^linux-image-[0-9][0-9.]*(-[0-9]+|\+deb[0-9]+)-amd64-unsigned$' |
	awk '{print $1}' | sort -V | tail -n 1)
[ -n "$pkg" ] || die "no linux-image-*-amd64-unsigned package on $mirror $suite"

dir=$cache/$suite
rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
(cd "$dir.tmp" && apt-get "${opts[@]}" download "$pkg" >&2) || die "apt-get download $pkg failed"
deb=$(ls "$dir.tmp"/*.deb)
dpkg-deb -x "$deb" "$dir.tmp/root" || die "dpkg-deb -x $deb failed"
rm -f "$deb"
ls "$dir.tmp"/root/boot/vmlinuz-* >/dev/null 2>&1 || die "$pkg has no boot/vmlinuz-*"
# Trixie keeps modules under usr/lib; modules.dep is made at install time.
[ -e "$dir.tmp/root/lib" ] || ln -s usr/lib "$dir.tmp/root/lib"
kver=$(ls "$dir.tmp"/root/boot/vmlinuz-* | head -n 1)
kver=${kver##*/vmlinuz-}
depmod -b "$dir.tmp/root" "$kver" || die "depmod $kver failed"
rm -rf "$dir" && mv "$dir.tmp" "$dir"
echo "$dir/root" >"$dir/ok"
echo "kernel-fetch: $suite: $pkg" >&2
cat "$dir/ok"
