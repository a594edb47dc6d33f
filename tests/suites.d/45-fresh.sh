#!/usr/bin/env bash
# A fresh machine works the first time (issue 10): the committed tree
# (`git archive HEAD`) is built in a freshly debootstrapped Debian 12 root
# (--variant=minbase) with exactly the README's build command, after an
# `apt-get update` with this machine's apt sources, as a new user would:
#   apt-get install -y make && make
# The FIRST make must succeed. Then: build/glued --help runs in the root;
# `make` installed no package of the test set; `make test` asks for the test
# set and `make deps-test` installs it (no suite is run in the root).
#
# Everything runs in a private mount and pid namespace: the root is a tmpfs
# there, so it, its mounts and any process started in it end with the
# namespace (nothing to clean up by hand, even after a kill). Services are
# kept from starting by a policy-rc.d, as in Debian's own images. Cached
# outside the clone under $GLUED_FRESH_CACHE (default
# /var/cache/glued-test/fresh; rm -rf it to start over): the pristine base
# tarball, debootstrap's .debs, apt's downloaded .debs and package lists.
# GLUED_FRESH_REV=<commit> builds that commit instead of HEAD (to show that
# the suite fails on a tree with the bug, e.g. the parent of the fix).
# Last line: "fresh: N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${GLUED_FRESH_CACHE:-/var/cache/glued-test/fresh}
BASE=$CACHE/bookworm-minbase.tar
REV=${GLUED_FRESH_REV:-HEAD}
logdir=$top/build/test-logs
pass=0 fail=0

ok() { echo "  ok   $*"; pass=$((pass + 1)); }
bad() { echo "  FAIL $*"; fail=$((fail + 1)); }
summary() { echo "fresh: $pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit; }

source "$top/tests/e2e/lib/debian.bash"

# $BASE, made once: a minbase bookworm with no apt lists and no .debs.
base_tar() {
	debian_minbase_tar "$BASE" "$CACHE" "$logdir/fresh-debootstrap.log" 2>&1
}

# in_root CMD: run CMD with bash -c in the root, as root, from /src/glued.
in_root() {
	chroot "$R" /usr/bin/env -i HOME=/root TERM=dumb PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		/bin/bash -c "cd /src/glued && $1"
}

# Each line of stdin with the time it arrived: the logs show where time goes.
stamp() {
	local l
	while IFS= read -r l; do printf '%(%H:%M:%S)T %s\n' -1 "$l"; done
}

# The packages installed in the root, sorted, without architecture.
installed() {
	in_root 'dpkg-query -W -f="\${db:Status-Abbrev} \${Package}\n"' |
		awk '$1 == "ii" { print $2 }' | sed 's/:.*//' | sort
}

# The part that runs inside the private namespaces.
inside() {
	R=$CACHE/root
	mount -t tmpfs -o size=6g fresh-root "$R" || { bad "mount a tmpfs for the root"; summary; }
	tar -C "$R" -xf "$BASE" || { bad "unpack $BASE"; summary; }
	mount -t proc proc "$R/proc"
	mount --bind "$CACHE/archives" "$R/var/cache/apt/archives"
	mount --bind "$CACHE/lists" "$R/var/lib/apt/lists"
	# This machine's apt sources and resolver; no service starts on install.
	rm -f "$R/etc/apt/sources.list"
	cp /etc/apt/sources.list.d/*.sources "$R/etc/apt/sources.list.d/" 2>/dev/null
	[ -f /etc/apt/sources.list ] && cp /etc/apt/sources.list "$R/etc/apt/"
	cp /etc/resolv.conf "$R/etc/resolv.conf"
	printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"
	chmod 0755 "$R/usr/sbin/policy-rc.d"
	# dpkg without fsync (tmpfs anyway), as Debian's container images do.
	echo force-unsafe-io >"$R/etc/dpkg/dpkg.cfg.d/unsafe-io"
	mkdir -p "$R/src/glued"
	git -C "$top" archive "$REV" | tar -C "$R/src/glued" -x || { bad "git archive $REV"; summary; }
	installed >"$R/tmp/before"

	local t0=$SECONDS
	in_root 'export DEBIAN_FRONTEND=noninteractive; apt-get update &&
		apt-get install -y make && make' 2>&1 | stamp >"$logdir/fresh-build.log"
	if [ "${PIPESTATUS[0]}" = 0 ]; then
		ok "apt-get install -y make && make: the first make builds ($((SECONDS - t0)) s)"
	else
		bad "apt-get install -y make && make: the first make failed (build/test-logs/fresh-build.log):"
		tail -n 25 "$logdir/fresh-build.log" | sed 's/^/    /'
		summary
	fi

	local out
	if out=$(in_root 'build/glued --help' 2>&1) && grep -q GLUED_ <<<"$out"; then
		ok "build/glued --help runs in the root"
	else
		bad "build/glued --help in the root: $(head -n 5 <<<"$out")"
	fi

	# Test packages that were not in the base and are installed now.
	local extra
	installed >"$R/tmp/after"
	extra=$(in_root 'tools/deps.sh list test' | grep -vxF -f <(in_root 'tools/deps.sh list build') |
		sort | comm -12 - "$R/tmp/after" | comm -23 - "$R/tmp/before" | tr '\n' ' ')
	if [ -z "$extra" ]; then
		ok "make installed no test package ($(comm -13 "$R/tmp/before" "$R/tmp/after" | wc -l) packages in all)"
	else
		bad "make installed test packages: $extra"
	fi

	# `make test` asks for the test set before it reads anything else ...
	out=$(in_root 'make -n test' 2>&1 | head -n 1)
	if [ "$out" = "tools/deps.sh ensure test" ]; then
		ok "make test installs the test set first"
	else
		bad "make test's first step is '$out', not 'tools/deps.sh ensure test'"
	fi
	# ... and that set installs (the suites themselves are not run here).
	t0=$SECONDS
	in_root 'make deps-test && tools/deps.sh check test &&
		command -v bats dig kdig dockerd unbound >/dev/null' 2>&1 | stamp >"$logdir/fresh-deps-test.log"
	if [ "${PIPESTATUS[0]}" = 0 ]; then
		ok "make deps-test installs the test set ($((SECONDS - t0)) s)"
	else
		bad "make deps-test (build/test-logs/fresh-deps-test.log):"
		tail -n 15 "$logdir/fresh-deps-test.log" | sed 's/^/    /'
	fi
	summary
}

if [ "${1:-}" = --inside ]; then
	inside
fi

mkdir -p "$logdir"
if [ "$(id -u)" != 0 ]; then
	echo "  fresh: needs root (debootstrap, chroot, mounts)"
	echo "fresh: 0 passed, 1 failed"
	exit 1
fi
for c in debootstrap unshare chroot flock git; do
	command -v "$c" >/dev/null || { echo "  fresh: $c missing (make deps-test)"; echo "fresh: 0 passed, 1 failed"; exit 1; }
done
mkdir -p "$CACHE/archives/partial" "$CACHE/lists/partial" "$CACHE/root"
# One run at a time per cache: apt locks the shared archives, and the base is
# made in place.
exec 9>"$CACHE/lock"
flock 9
t0=$SECONDS
if base_tar; then
	ok "a minbase Debian 12 root ($((SECONDS - t0)) s; cached in $BASE)"
else
	bad "debootstrap --variant=minbase bookworm (build/test-logs/fresh-debootstrap.log)"
	summary
fi
# Counts carry over through the summary line of the inner run.
unshare --mount --propagation private --pid --fork "$0" --inside 2>&1 |
	tee "$logdir/fresh-inside.out" | grep --line-buffered -vE '^fresh: [0-9]+ passed'
line=$(grep -E '^fresh: [0-9]+ passed, [0-9]+ failed$' "$logdir/fresh-inside.out" | tail -n 1)
if [ -z "$line" ]; then
	bad "the run in the namespace ended without a summary"
else
	p=${line#fresh: }; p=${p%% passed*}
	f=${line##*, }; f=${f%% failed}
	pass=$((pass + p)); fail=$((fail + f))
fi
summary
