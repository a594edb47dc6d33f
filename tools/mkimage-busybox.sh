#!/usr/bin/env bash
# Build a minimal busybox image from Debian's busybox-static for the e2e tests.
#   tools/mkimage-busybox.sh -o FILE.tar      write the root file system as a tar
#   tools/mkimage-busybox.sh [TAG]            import it with `docker import` (the
#                                             docker CLI honours DOCKER_HOST)
# The image holds /bin/busybox, one symlink per applet, and the empty
# directories Docker bind-mounts into (/etc, /proc, /sys, /dev, /tmp).
set -euo pipefail

out= tag=glued-e2e-busybox:latest
while [ $# -gt 0 ]; do
	case $1 in
	-o) out=$2; shift 2 ;;
	-h|--help) sed -n '2,7p' "$0"; exit 0 ;;
	*) tag=$1; shift ;;
	esac
done

# The image has no libc: the busybox must be the static one.
bb=$(command -v busybox || true)
if [ -z "$bb" ] || ldd "$bb" >/dev/null 2>&1; then
	echo "mkimage-busybox: no static busybox (apt-get install busybox-static)" >&2
	exit 1
fi

root=$(mktemp -d "${TMPDIR:-/tmp}/mkimage-busybox.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,etc,proc,sys,dev,tmp,root}
chmod 1777 "$root/tmp"
cp "$bb" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
	[ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"

if [ -n "$out" ]; then
	tar -C "$root" -cf "$out" .
else
	tar -C "$root" -c . | docker import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' - "$tag" >/dev/null
	echo "$tag"
fi
