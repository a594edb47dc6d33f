#!/usr/bin/env bash
# The kernel matrix: the BPF suite and the attach checks (tools/vm/check.sh)
# on this machine's kernel (natively) and on Debian's stock kernels, each
# booted under QEMU (tools/vm/run.sh; kernels cached by
# tools/vm/kernel-fetch.sh under /var/cache/glued-test/kernels).
#   KERNELS   which (default "host bookworm trixie bullseye")
#   KCHECK    all (default): BPF suite + attach; bpf: the BPF suite only
#             (make bpf-check)
# A kernel that cannot be fetched or booted is a failure, never a skip.
# Last line: "kernels: N passed, N failed" (each check counts one).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
logdir=$top/build/test-logs
mkdir -p "$logdir"
pass=0 fail=0
mode=${KCHECK:-all}
kernels=${KERNELS:-host bookworm trixie bullseye}

if [ "$(id -u)" != 0 ]; then
	echo "  kernels: needs root (BPF, netns, QEMU's 9p root)"
	echo "kernels: 0 passed, 1 failed"
	exit 1
fi
if ! make -s all bpf-test-build kernels-build >>"$logdir/kernels.log" 2>&1; then
	echo "  build failed (see $logdir/kernels.log)"
	echo "kernels: 0 passed, 1 failed"
	exit 1
fi

# The checks per kernel: tc hook mode expected on lo (tcx from 6.6, else
# clsact); on 5.10 (bullseye) the BPF suite, and glued must run (see
# check.sh userspace).
host_tc() {
	local v
	v=$(uname -r)
	v=${v%%-*}
	if [ "$(printf '%s\n6.6\n' "$v" | sort -V | head -n 1)" = 6.6 ]; then echo tcx; else echo clsact; fi
}
cmds() { # KERNEL -> the shell command run on it
	local bpf='tools/vm/check.sh bpf'
	if [ "$mode" = bpf ]; then
		echo "$bpf"
		return
	fi
	case $1 in
	host) echo "$bpf; tools/vm/check.sh attach $(host_tc) generic" ;;
	bookworm) echo "$bpf; tools/vm/check.sh attach clsact" ;;
	trixie) echo "$bpf; tools/vm/check.sh attach tcx" ;;
	bullseye) echo "$bpf; tools/vm/check.sh userspace" ;;
	*) return 1 ;;
	esac
}

for k in $kernels; do
	c=$(cmds "$k") || { echo "  $k: unknown kernel (host bookworm trixie bullseye)"; fail=$((fail + 1)); continue; }
	t0=$(date +%s)
	if [ "$k" = host ]; then
		out=$(bash -c "$c" 2>&1)
		rc=$?
	else
		out=$(VM_TIMEOUT=${VM_TIMEOUT:-900} tools/vm/run.sh "$k" bash -c "$c" 2>&1)
		rc=$?
	fi
	dt=$(($(date +%s) - t0))
	{ echo "== $k ($c): exit $rc, ${dt}s"; echo "$out"; } >>"$logdir/kernels.log"
	p=0 f=0
	while read -r line; do
		p=$((p + $(sed -E 's/^check: ([0-9]+) passed.*/\1/' <<<"$line")))
		f=$((f + $(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")))
	done < <(grep -E '^check: [0-9]+ passed, [0-9]+ failed$' <<<"$out")
	# No summary at all, or a VM that did not run the command: one failure.
	if [ $((p + f)) -eq 0 ] || [ "$rc" -eq 125 ]; then
		f=$((f + 1))
	fi
	kv=$(grep -m1 '^kernel ' <<<"$out" | cut -d' ' -f2)
	printf '  %-9s %-26s %3d passed, %d failed  %4ss\n' "$k" "${kv:-?}" "$p" "$f" "$dt"
	if [ $((p + f)) -eq 0 ] || [ "$rc" -eq 125 ]; then
		tail -n 15 <<<"$out" | sed 's/^/    /'
	elif [ "$f" -gt 0 ]; then
		grep -E '^  FAIL|^    ' <<<"$out" | head -n 40 | sed 's/^/    /'
	fi
	pass=$((pass + p))
	fail=$((fail + f))
done
echo "kernels: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
