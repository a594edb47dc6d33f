#!/usr/bin/env bash
# Which hook should answer containers on the watched network's bridge: TC
# ingress (what glued attaches) or generic XDP (the other hook that sees
# queries entering a bridge, DESIGN.md)? Measured on the e2e single-host
# world (tests/e2e/lib): dnsperf runs inside a container's network
# namespace and asks the bridge's gateway address, the path Docker's
# embedded resolver takes when a container has `--dns <gateway>`. Rows,
# interleaved for ROUNDS rounds:
#   tc        glued's default: tcx ingress on the bridge
#   xdp-gen   GLUED_XDP_IFACES=<bridge>: generic XDP on the bridge (a bridge
#             has no native XDP), which runs before tc and answers first
#   userspace GLUED_XDP=off, for reference
# Each row reports replies/s at full dnsperf load, the kernel's answered
# counter (proof of which path answered) and the machine's CPU time per
# reply (all cores, from /proc/stat: both hooks run in softirq on whichever
# core, and generator and hook share the two cores). Root only.
#
#   tools/bench-bridge.sh [-r ROUNDS] [-l SECONDS]
set -u

ROUNDS=3
LEN=8
while getopts r:l: opt; do
	case $opt in
	r) ROUNDS=$OPTARG ;;
	l) LEN=$OPTARG ;;
	*) echo "usage: $0 [-r ROUNDS] [-l SECONDS]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "bench-bridge: needs root" >&2; exit 1; }
command -v dnsperf >/dev/null || { echo "bench-bridge: needs dnsperf (make deps)" >&2; exit 1; }

TOP=$(cd "$(dirname "$0")/.." && pwd)
export E2E_TOP=$TOP
BATS_TEST_FILENAME=bench-bridge.sh
exec 3>&1
# shellcheck source=/dev/null
source "$TOP/tests/e2e/lib/load.bash"

cleanup() { e2e_teardown_all >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

E2E_NO_GLUED=1 e2e_setup_single_host || { echo "bench-bridge: setup failed" >&2; exit 1; }
PIN=/sys/fs/bpf/glued
hosts=$(host_var h1 dir)/hosts
qfile=$E2E_DIR/queries.txt
: >"$hosts"
: >"$qfile"
for i in $(seq 1 1000); do
	echo "10.77.$((i / 250)).$((i % 250 + 1)) name$i" >>"$hosts"
	echo "name$i A" >>"$qfile"
done
ctr_run h1 gen || { echo "bench-bridge: container" >&2; exit 1; }
cpid=$(hdocker h1 inspect -f '{{.State.Pid}}' gen)
gw=$(host_var h1 gw4)
br="br-$(hdocker h1 network inspect -f '{{.Id}}' glued_net | cut -c1-12)"

kanswered() {
	hx h1 bpftool -j map dump pinned "$PIN/stats" 2>/dev/null |
		jq '.[0].formatted.values | map(.value.answered) | add' 2>/dev/null || echo 0
}
busy_jiffies() { # all cores: user+nice+system+irq+softirq+steal
	awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat
}

start_mode() {
	glued_stop h1 >/dev/null 2>&1 || true
	case $1 in
	tc) glued_start h1 GLUED_XDP=on GLUED_LOG=info GLUED_HOSTS_FILE="$hosts" ;;
	xdp-gen) glued_start h1 GLUED_XDP=on GLUED_LOG=info GLUED_HOSTS_FILE="$hosts" \
		GLUED_XDP_IFACES="$br" ;;
	userspace) glued_start h1 GLUED_XDP=off GLUED_LOG=info GLUED_HOSTS_FILE="$hosts" ;;
	esac
}

declare -A QPS CPU KERN
hz=$(getconf CLK_TCK)
echo "bench-bridge: $ROUNDS rounds of $LEN s, dnsperf in container gen -> $gw ($br), 1000 names"
for ((r = 1; r <= ROUNDS; r++)); do
	for mode in tc xdp-gen userspace; do
		start_mode $mode || { echo "bench-bridge: glued ($mode) did not start" >&2; exit 1; }
		if [ $mode = xdp-gen ] && ! grep -q "attached xdp on $br (ifindex [0-9]*, generic)" \
			"$(host_var h1 dir)/glued.log"; then
			echo "bench-bridge: no generic XDP on $br" >&2
			exit 1
		fi
		nsenter -t "$cpid" -n dnsperf -s "$gw" -d "$qfile" -l 1 -q 200 >/dev/null 2>&1
		k0=$(kanswered) j0=$(busy_jiffies)
		out=$(nsenter -t "$cpid" -n dnsperf -s "$gw" -d "$qfile" -l "$LEN" -c 4 -q 500 2>&1)
		j1=$(busy_jiffies) k1=$(kanswered)
		done_=$(sed -n 's/.*Queries completed: *\([0-9]*\).*/\1/p' <<<"$out")
		qps=$(sed -n 's/.*Queries per second: *\([0-9.]*\).*/\1/p' <<<"$out")
		[ -n "$done_" ] && [ "$done_" -gt 0 ] || { echo "$out" >&2; exit 1; }
		[ $mode = userspace ] && k0=0 k1=0
		cpu_us=$(awk -v j=$((j1 - j0)) -v hz="$hz" -v n="$done_" 'BEGIN{printf "%.2f", j / hz * 1e6 / n}')
		kern=$(awk -v k=$((k1 - k0)) -v n="$done_" 'BEGIN{printf "%.0f%%", 100 * k / n}')
		printf '  round %d %-10s %9.0f replies/s  %6s answered by the kernel  %5s us CPU per reply\n' \
			"$r" "$mode" "$qps" "$kern" "$cpu_us"
		QPS[$mode]+="$qps " CPU[$mode]+="$cpu_us " KERN[$mode]=$kern
	done
done
glued_stop h1 >/dev/null 2>&1
hx h1 env GLUED_BPF_PIN=$PIN "$E2E_GLUED" --detach >/dev/null 2>&1

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
echo "median of $ROUNDS rounds:"
for mode in tc xdp-gen userspace; do
	printf '  %-10s %9.0f replies/s  %5s us CPU per reply  (kernel answered %s)\n' "$mode" \
		"$(median <<<"${QPS[$mode]}")" "$(median <<<"${CPU[$mode]}")" "${KERN[$mode]}"
done
