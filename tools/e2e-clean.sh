#!/usr/bin/env bash
# Remove what an interrupted e2e run (tests/e2e) left behind. Touches only
# things named with the harness's run prefix "ge2e" + 4 hex digits:
#   processes recorded in /tmp/ge2eXXXX/pids (killed by PID, and only if
#   their start time still matches), processes in the cgroups
#   /sys/fs/cgroup/*/ge2eXXXX-*, in a recorded anchor's mount namespace or
#   with /tmp/ge2eXXXX/ on their command line (containerd shims),
#   network namespaces ge2eXXXX-*, those cgroups, and the /tmp/ge2eXXXX
#   directories (with their kept logs).
#   tools/e2e-clean.sh [-n] [PREFIX...]   -n: only print what would go
# Do not run it while an e2e run is in progress: it cannot tell a live run
# from a dead one.
set -uo pipefail

dry=
[ "${1:-}" = -n ] && { dry=1; shift; }
tmp=${E2E_TMP:-/tmp}
re='^ge2e[0-9a-f]{4}$'

say() { echo "e2e-clean: $*"; }
run() { if [ -n "$dry" ]; then say "would: $*"; else "$@"; fi; }

starttime() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	set -- $s
	echo "${20}"
}

prefixes=("$@")
if [ ${#prefixes[@]} -eq 0 ]; then
	mapfile -t prefixes < <({
		ls "$tmp" 2>/dev/null
		ip netns list 2>/dev/null | awk '{print $1}' | sed 's/-.*//'
		find /sys/fs/cgroup/ -mindepth 2 -maxdepth 2 -type d -name 'ge2e*' -printf '%f\n' \
			2>/dev/null | sed 's/-.*//'
	} | grep -E "$re" | sort -u)
fi
[ ${#prefixes[@]} -gt 0 ] || { say "nothing to clean"; exit 0; }

for p in "${prefixes[@]}"; do
	[[ $p =~ $re ]] || { say "skip $p: not a harness prefix"; continue; }
	dir=$tmp/$p
	say "cleaning $p"
	# 1. Processes in the run's host mount namespaces (shims, container
	#    processes), then every recorded process (anchors last: they hold
	#    the mount namespaces and all mounts in them).
	for a in "$dir"/h*/anchor; do
		[ -f "$a" ] || continue
		apid=$(cat "$a")
		mntns=$(readlink "/proc/$apid/ns/mnt" 2>/dev/null) || continue
		for pr in /proc/[0-9]*; do
			pid=${pr#/proc/}
			[ "$pid" = "$apid" ] && continue
			[ "$(readlink "$pr/ns/mnt" 2>/dev/null)" = "$mntns" ] &&
				run kill -KILL "$pid" 2>/dev/null
		done
	done
	# Engines and shims name the run directory on their command line
	# (containerd-shim-runc-v2 ... -address /tmp/ge2eXXXX/h1/ctd.sock).
	for pr in /proc/[0-9]*; do
		tr '\0' ' ' 2>/dev/null <"$pr/cmdline" | grep -q -- "$dir/" || continue
		[ "${pr#/proc/}" = $$ ] && continue
		say "kill $(tr '\0' ' ' 2>/dev/null <"$pr/cmdline" | cut -c1-80) (${pr#/proc/})"
		run kill -KILL "${pr#/proc/}" 2>/dev/null
	done
	for cgp in /sys/fs/cgroup/*/"$p"-*; do
		[ -d "$cgp" ] || continue
		for pid in $(cat "$cgp"/cgroup.procs "$cgp"/*/cgroup.procs 2>/dev/null | sort -u); do
			run kill -KILL "$pid" 2>/dev/null
		done
	done
	if [ -f "$dir/pids" ]; then
		while read -r pid st name; do
			cur=$(starttime "$pid") || continue
			[ "$st" = 0 ] || [ "$cur" = "$st" ] || continue
			say "kill $name ($pid)"
			run kill -KILL "$pid" 2>/dev/null
		done < <(tac "$dir/pids")
	fi
	[ -n "$dry" ] || sleep 0.5
	# 2. Network namespaces.
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$p-"); do
		say "netns $ns"
		run ip netns del "$ns"
	done
	# 3. Cgroups, deepest first.
	find /sys/fs/cgroup/ -mindepth 2 -maxdepth 3 -type d -path "*/$p-*" 2>/dev/null |
		sort -r | while read -r d; do run rmdir "$d" 2>/dev/null || say "cgroup busy: $d"; done
	# 4. Mounts that still name the prefix (none, unless an anchor survived).
	awk -v p="$p" 'index($2, p) {print $2}' /proc/mounts | sort -r | while read -r m; do
		say "umount $m"
		run umount -l "$m"
	done
	# 5. The run directory.
	[ -d "$dir" ] && { say "rm -r $dir"; run rm -rf "$dir"; }
done
