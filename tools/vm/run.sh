#!/usr/bin/env bash
# Run one command on a Debian distribution kernel under QEMU (TCG) and bring
# back its output and exit status. The guest sees this machine's root file
# system read-only over 9p with a tmpfs overlay (so the tree, its build/ and
# every tool are at the same paths), the kernel's own modules, and nothing
# else; what the command writes is lost with the VM, except in $VM_OUT.
#   tools/vm/run.sh SUITE COMMAND...    (SUITE: bookworm, trixie, bullseye)
# Exit status: the command's; 125 when the VM could not run it (no kernel,
# no QEMU, boot failure, timeout), with one line saying why.
# Env: VM_TIMEOUT (s, default 300), VM_MEM (MiB, default 1024), VM_OUT (a
# host directory shared read-write at the same path in the guest), VM_KEEP=1
# (keep the run's directory in /tmp: console, cmd, output).
# /dev/kvm here is kvm_pvm, which cannot boot stock kernels: TCG only.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
suite=${1:?usage: run.sh SUITE COMMAND...}
shift
[ $# -gt 0 ] || { echo "usage: run.sh SUITE COMMAND..." >&2; exit 2; }
fail() { echo "vm: $suite: $*" >&2; exit 125; }

command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 not installed (tools/deps.sh)"
command -v busybox >/dev/null || fail "busybox not installed (busybox-static)"
kroot=$("$here/kernel-fetch.sh" "$suite") || fail "no kernel (see the line above)"
vmlinuz=$(ls "$kroot"/boot/vmlinuz-* | head -n 1)
kver=${vmlinuz##*/vmlinuz-}
mods=$kroot/lib/modules/$kver
[ -d "$mods" ] || mods=$kroot/usr/lib/modules/$kver
[ -f "$mods/modules.dep" ] || fail "no modules.dep in $mods"

# --- initramfs: busybox + the modules needed to reach the 9p root ----------
# The kernel cache is shared by every clone on the machine, whose init may
# differ: the image is named by what builds it (this script and the init),
# not dated, and written under a name of its own before the rename, so two
# runs building at once neither collide nor boot each other's init.
key=$(cat "$here/run.sh" "$here/initramfs-init" | sha256sum | cut -c1-16)
initrd=${kroot%/root}/initrd-$key.img
if [ ! -s "$initrd" ]; then
	ir=$(mktemp -d)
	trap 'rm -rf "$ir"' EXIT
	mkdir -p "$ir"/{bin,dev,proc,sys,mnt/lower,mnt/upper,mnt/root,modules}
	cp "$(command -v busybox)" "$ir/bin/busybox"
	# Resolve dependencies through modules.dep; a name not listed is built in.
	order=()
	add_mod() {
		local name=$1 line path dep
		line=$(grep -E "/${name//_/[-_]}\.ko(\.xz|\.zst)?:" "$mods/modules.dep" | head -n 1)
		[ -n "$line" ] || return 0
		path=${line%%:*}
		for dep in ${line#*:}; do
			dep=${dep##*/}
			add_mod "${dep%%.ko*}"
		done
		case " ${order[*]-} " in *" $path "*) ;; *) order+=("$path") ;; esac
	}
	for m in virtio_pci 9pnet_virtio 9p overlay; do add_mod "$m"; done
	: >"$ir/modules/order"
	for p in "${order[@]}"; do
		f=${p##*/}
		case $f in
		*.xz) xz -dc "$mods/$p" >"$ir/modules/${f%.xz}" ;;
		*.zst) zstd -qdc "$mods/$p" >"$ir/modules/${f%.zst}" ;;
		*) cp "$mods/$p" "$ir/modules/$f" ;;
		esac
		echo "${f%.xz}" | sed 's/\.zst$//' >>"$ir/modules/order"
	done
	cp "$here/initramfs-init" "$ir/init"
	chmod +x "$ir/init"
	tmp=$(mktemp "$initrd.XXXXXX") || fail "cannot write in ${kroot%/root}"
	chmod 644 "$tmp"
	(cd "$ir" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$tmp" &&
		mv "$tmp" "$initrd" || { rm -f "$tmp"; fail "cannot build the initramfs"; }
	rm -rf "$ir"
	trap - EXIT
fi

# --- run --------------------------------------------------------------------
work=$(mktemp -d /tmp/glued-vm.XXXXXX)
[ -n "${VM_KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
# The command runs where run.sh was started (the same path in the guest).
printf 'cd %q || exit 125\n' "$PWD" >"$work/cmd"
printf '%q ' "$@" >>"$work/cmd"
echo >>"$work/cmd"
echo "$mods" >"$work/modules"
share=(-virtfs "local,path=$work,mount_tag=result,security_model=none")
if [ -n "${VM_OUT:-}" ]; then
	mkdir -p "$VM_OUT"
	echo "$VM_OUT" >"$work/out"
	share+=(-virtfs "local,path=$VM_OUT,mount_tag=out,security_model=none")
fi
cd /
timeout "${VM_TIMEOUT:-300}" qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m "${VM_MEM:-1024}" \
	-nodefaults -no-reboot -display none -serial "file:$work/console" \
	-kernel "$vmlinuz" -initrd "$initrd" \
	-append "console=ttyS0 quiet loglevel=3 panic=-1 no_timer_check rdinit=/init" \
	-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
	"${share[@]}"
qrc=$?
if [ -f "$work/output" ]; then cat "$work/output"; fi
if [ ! -f "$work/rc" ]; then
	tail -n 30 "$work/console" >&2 2>/dev/null
	[ $qrc -eq 124 ] && fail "$kver: timed out after ${VM_TIMEOUT:-300}s"
	fail "$kver: the command did not finish (qemu exit $qrc; console above)"
fi
exit "$(cat "$work/rc")"
