# Debian 12 roots made with debootstrap from the mirror apt already uses:
# shared by the image test (70-image.bats) and the fresh-machine suite
# (tests/suites.d/45-fresh.sh). Needs root and debootstrap; sourced, not run.

# The first URI of the Debian (not security) archive apt is configured with.
debian_mirror() {
	local m
	m=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' |
		grep -v security | head -n 1)
	[ -n "$m" ] || m=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' |
		grep -v security | head -n 1)
	echo "${m:-http://deb.debian.org/debian}"
}

# debian_minbase_tar TAR CACHE LOG [PACKAGES]: TAR, made once, a minbase
# bookworm (plus the comma-separated PACKAGES) with no apt lists and no
# .debs. debootstrap keeps its .debs in CACHE/debs and builds in
# TAR.root; its output goes to LOG, whose last lines go to stderr when it
# fails.
debian_minbase_tar() {
	local tar=$1 cache=$2 log=$3 pkgs=${4:-} root=$1.root
	[ -s "$tar" ] && return 0
	mkdir -p "$cache/debs"
	rm -rf "$root"
	debootstrap --variant=minbase --cache-dir="$cache/debs" ${pkgs:+--include="$pkgs"} \
		bookworm "$root" "$(debian_mirror)" >"$log" 2>&1 || {
		tail -n 20 "$log" | sed 's/^/    /' >&2
		rm -rf "$root"
		return 1
	}
	rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
	tar -C "$root" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
	rm -rf "$root"
}
