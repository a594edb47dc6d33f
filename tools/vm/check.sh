#!/usr/bin/env bash
# The kernel matrix's checks on the running kernel (natively, or inside a VM
# started by tools/vm/run.sh). Needs the tree built (make all bpf-test-build
# kernels-build); builds nothing, so it runs the same bytes on every kernel.
#   tools/vm/check.sh bpf              tests/bpf: fixture table + differential test
#                                      of each program; the container program
#                                      attached (tcx where the kernel has it,
#                                      and clsact) on lo in a netns behind
#                                      Docker's NAT rules, once in iptables
#                                      and once in nftables (table ip
#                                      docker-dns), answering dig
#                                      (test_bpf_ctr, tests/bpf/ctr_netns.h)
#   tools/vm/check.sh attach TC [GEN]  glued on a veth (native XDP) and on lo;
#                                      TC: the tc hook mode expected on lo
#                                      (tcx or clsact); GEN=generic: also a
#                                      bridge with generic XDP
#   tools/vm/check.sh userspace        (old kernels) glued starts and serves a
#                                      name; the kernel answers too, or glued
#                                      logs one line naming what it lacks
# Last line: "check: N passed, N failed". Everything it creates (netns gkc*,
# gks*, a private mount namespace for the bpffs) is removed on exit.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "  ok   $*"; }
ko() { fail=$((fail + 1)); echo "  FAIL $*"; }
finish() {
	echo "check: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}
[ "$(id -u)" = 0 ] || { ko "needs root"; finish; }
echo "kernel $(uname -r)"

run_bpf() {
	local t out line p f
	for t in build/tests/bpf/test_*; do
		[ -x "$t" ] || { ko "no $t: build first (make bpf-test-build)"; continue; }
		out=$("$t" 2>&1)
		line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' <<<"$out" | tail -n 1)
		if [ -z "$line" ]; then
			tail -n 30 <<<"$out" | sed 's/^/    /'
			ko "${t##*/} crashed"
			continue
		fi
		p=${line%% passed*}
		f=${line##*, }
		f=${f%% failed}
		if [ "$f" -eq 0 ] && [ "$p" -gt 0 ]; then
			ok "${t##*/}: $line"
			grep -E '^bpf: .*verifier processed' <<<"$out" | sed 's/^/    /'
		else
			grep -E '^not ok|^  [^ ]+:[0-9]+: |^bpf: |verifier' <<<"$out" | head -n 40 | sed 's/^/    /'
			ko "${t##*/}: $line"
		fi
	done
}

# --- glued in a network namespace of its own ---------------------------------
S=gks$$ C=gkc$$ W=""
gpid=""
cleanup() {
	[ -n "$gpid" ] && kill "$gpid" 2>/dev/null && wait "$gpid" 2>/dev/null
	ip netns del "$C" 2>/dev/null
	ip netns del "$S" 2>/dev/null
	[ -n "$W" ] && umount "$W/bpf" 2>/dev/null
	[ -n "$W" ] && rm -rf "$W"
}

# kstat FIELD: a kernel counter of the pinned glued_stats, summed over CPUs.
kstat() {
	bpftool -j map dump pinned "$W/bpf/glued/stats" 2>/dev/null |
		jq ".[0].formatted.values | map(.value.$1) | add // 0" 2>/dev/null || echo -1
}

# setup GEN: namespaces, veth gv0 (server, 10.250.0.1) <-> gv1 (client,
# 10.250.0.2) with XDP_PASS on gv1; with GEN=generic a bridge gkbr
# (10.250.1.1) in the server with the port gp0 <-> gp1 (client, 10.250.1.2).
setup() {
	W=$(mktemp -d /tmp/glued-check.XXXXXX)
	mkdir -p "$W/bpf" "$W/state"
	mount -t bpf bpf "$W/bpf" || { ko "mount a bpffs"; return 1; }
	ip netns add "$S" && ip netns add "$C" || { ko "ip netns add"; return 1; }
	ip link add gv0 netns "$S" type veth peer name gv1 netns "$C" || { ko "veth"; return 1; }
	ip -n "$S" addr add 10.250.0.1/24 dev gv0
	ip -n "$C" addr add 10.250.0.2/24 dev gv1
	ip -n "$S" link set gv0 up
	ip -n "$C" link set gv1 up
	ip -n "$S" link set lo up
	ip -n "$C" link set lo up
	ip -n "$C" link set dev gv1 xdpdrv obj build/bpf/xdp_pass.bpf.o sec xdp ||
		{ ko "XDP_PASS on the client's veth"; return 1; }
	if [ "${1:-}" = generic ]; then
		ip -n "$S" link add gkbr type bridge
		ip link add gp0 netns "$S" type veth peer name gp1 netns "$C"
		ip -n "$S" link set gp0 master gkbr
		ip -n "$S" addr add 10.250.1.1/24 dev gkbr
		ip -n "$C" addr add 10.250.1.2/24 dev gp1
		ip -n "$S" link set gkbr up
		ip -n "$S" link set gp0 up
		ip -n "$C" link set gp1 up
	fi
	printf '10.9.8.7 kcheck\n10.9.8.8 kcheck-two\n' >"$W/hosts"
	return 0
}

# start_glued XDP IFACES: glued in $S with its pins on our bpffs.
start_glued() {
	nsenter --net=/run/netns/"$S" env -i PATH="$PATH" \
		GLUED_DNS_BIND=0.0.0.0:53 GLUED_UPSTREAMS=127.0.0.1:9 GLUED_HOSTS_FILE="$W/hosts" \
		GLUED_STATE_DIR="$W/state" GLUED_CTL_SOCKET="$W/ctl.sock" GLUED_BPF_PIN="$W/bpf/glued" \
		GLUED_XDP="$1" GLUED_XDP_IFACES="$2" GLUED_LOG=debug DOCKER_HOST=unix://"$W/no-docker.sock" \
		GLUED_GOSSIP_BIND=127.0.0.1:7947 \
		build/glued >"$W/glued.log" 2>&1 &
	gpid=$!
	local i
	for i in $(seq 1 100); do
		kill -0 "$gpid" 2>/dev/null || break
		if ip netns exec "$C" dig +tries=1 +time=1 @10.250.0.1 kcheck A +short 2>/dev/null |
			grep -qx 10.9.8.7; then
			return 0
		fi
		sleep 0.2
	done
	tail -n 30 "$W/glued.log" | sed 's/^/    /'
	return 1
}

# ask NS SERVER NAME ADDR [dig options]: dig from NS gets ADDR for NAME.
ask() {
	local ns=$1 srv=$2 name=$3 want=$4 got
	shift 4
	got=$(ip netns exec "$ns" dig +tries=1 +time=2 "$@" @"$srv" "$name" A +short 2>&1)
	[ "$got" = "$want" ] || { echo "    dig @$srv $name $*: got '$got', want '$want'"; return 1; }
}

# kernel_answers WHAT NS SERVER: 5 queries through one hook, every one
# answered by the kernel (the answered counter moves by 5).
kernel_answers() {
	local what=$1 ns=$2 srv=$3 before after i
	before=$(kstat answered)
	for i in 1 2 3 4 5; do ask "$ns" "$srv" kcheck 10.9.8.7 || break; done
	after=$(kstat answered)
	if [ $((after - before)) -eq 5 ]; then
		ok "$what: 5 dig answers, kernel counter answered +5"
	else
		ko "$what: kernel counter answered $before -> $after (want +5)"
	fi
}

run_attach() {
	local tc=$1 gen=${2:-} ifaces=gv0 line
	[ "$gen" = generic ] && ifaces=gv0,gkbr
	trap cleanup EXIT
	setup "$gen" || return
	if ! start_glued on "$ifaces"; then
		ko "glued (GLUED_XDP=on) did not start or answer"
		return
	fi
	ok "glued started with GLUED_XDP=on"
	if grep -Eq "fastpath: attached xdp on gv0 \(ifindex [0-9]+, native\)" "$W/glued.log"; then
		ok "hook: native XDP on gv0"
	else
		ko "hook: no native XDP attach line for gv0"
		grep fastpath "$W/glued.log" | sed 's/^/    /'
	fi
	case $tc in
	tcx) line='fastpath: attached tc ingress on lo \(ifindex 1\)' ;;
	clsact) line='fastpath: attached tc ingress on lo \(ifindex 1, clsact\)' ;;
	*) line=unknown ;;
	esac
	if grep -Eq "$line\$" "$W/glued.log"; then
		ok "hook: tc ingress on lo as $tc"
	else
		ko "hook: lo not attached as $tc"
		grep 'fastpath: attached' "$W/glued.log" | sed 's/^/    /'
	fi
	kernel_answers "native XDP (veth)" "$C" 10.250.0.1
	kernel_answers "tc ($tc) on lo" "$S" 127.0.0.1
	if [ "$gen" = generic ]; then
		if grep -Eq "fastpath: attached xdp on gkbr \(ifindex [0-9]+, generic\)" "$W/glued.log"; then
			ok "hook: generic XDP on the bridge gkbr"
		else
			ko "hook: no generic XDP attach line for gkbr"
		fi
		kernel_answers "generic XDP (bridge)" "$C" 10.250.1.1
	fi
	# A name the kernel passes (TCP) still comes from userspace.
	if ask "$C" 10.250.0.1 kcheck-two 10.9.8.8 +tcp; then
		ok "userspace answers over TCP"
	else
		ko "userspace over TCP"
	fi
	# The kernel's decisions are counted where the operator looks.
	# The whole dump first: grep -q stops reading at its match, and with
	# pipefail bpftool's SIGPIPE on the rest would fail the check.
	local dump
	dump=$(bpftool map dump pinned "$W/bpf/glued/stats" 2>&1)
	if grep -q '"answered"' <<<"$dump"; then
		ok "bpftool map dump shows the named counters"
	else
		ko "bpftool map dump of the pinned stats"
	fi
	# The container fast path inside a netns with Docker's NAT, as $tc.
	local t=build/asan/tests/net/test_ctr_netns out
	if [ -x "$t" ]; then
		out=$(CTR_EXPECT_MODE=$tc "$t" 2>&1)
		line=$(grep -E '^[0-9]+ passed, 0 failed$' <<<"$out")
		if [ -n "$line" ]; then
			ok "container netns test as $tc: $line"
		else
			ko "container netns test as $tc"
			grep -v '^libbpf: ' <<<"$out" | tail -n 20 | sed 's/^/    /'
		fi
	else
		ko "no $t: build first (make kernels-build)"
	fi
}

# Old kernels: glued must run. Either its fast path answers, or one log
# line says which kernel feature it lacks.
run_userspace() {
	local before after
	trap cleanup EXIT
	setup || return
	if ! start_glued auto gv0; then
		ko "glued did not start or answer from userspace"
		return
	fi
	ok "glued serves kcheck (dig over UDP)"
	if ask "$C" 10.250.0.1 kcheck-two 10.9.8.8 +tcp; then ok "userspace answers over TCP"; else ko "TCP"; fi
	if grep -q 'fastpath: on: ' "$W/glued.log"; then
		kernel_answers "fast path on this kernel (native XDP)" "$C" 10.250.0.1
	elif grep -Eq 'fastpath: off: .*(kernel|verifier|helper|not supported)' "$W/glued.log"; then
		ok "fast path off, said in one line: $(grep -m1 'fastpath: off' "$W/glued.log" | cut -c1-160)"
	else
		ko "fast path neither on nor explained"
		grep fastpath "$W/glued.log" | sed 's/^/    /'
	fi
}

case "${1:-}" in
bpf) run_bpf ;;
attach) run_attach "${2:?tc mode: tcx or clsact}" "${3:-}" ;;
userspace) run_userspace ;;
*) echo "usage: check.sh bpf | attach tcx|clsact [generic] | userspace" >&2; exit 2 ;;
esac
finish
