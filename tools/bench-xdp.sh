#!/usr/bin/env bash
# glued's kernel fast-path benchmark (issue 3, "Performance"): side by side in
# one run, (1) the per-query cost of the XDP program in BPF_PROG_TEST_RUN
# (`make bench-bpf`, its table included) and (2) load from the project's own
# open-loop sender tools/dnsgun (AF_PACKET with an XDP reply sink; kxdpgun, AF_XDP
# from knot-dnsutils, with BENCH_XDP_GEN=kxdpgun where the kernel accepts its XDP
# program) in a client network namespace over a veth pair against, one
# after another on the same address and port in a server namespace: glued with
# the fast path (native XDP on the server veth), glued userspace-only, unbound,
# dnsmasq, knotd (UDP sockets, and its own XDP mode) and the reflector program
# (bpf/reflector.bpf.c: swaps addresses, sets QR, XDP_TX) and the floor program
# (glued_xdp_floor_grow of the benchmark build: the reflector plus one
# glued_names lookup, on glued's own populated map, plus the frame growth an
# answer needs). It reports replies/s (answers received, not queries sent),
# each XDP program's ns/packet under that load (kernel.bpf_stats_enabled,
# run_time_ns / run_cnt), the goal ratios, and p50/p99 latency at a fixed
# moderate rate measured with dnsperf -v (the generators report no latency).
# A generator or hook the kernel refuses is reported as such; the rest is
# still measured. It prints the environment, versions and every command.
#
# It owns only what it creates: two namespaces with per-run names, the
# processes it starts (recorded by PID, killed by PID), XDP programs on its own
# two veth ends, a bpffs mounted in its temp dir (glued's pins live there, never
# under /sys/fs/bpf) and the temp dir; a trap removes all of them on exit,
# failure or Ctrl-C. Traffic never leaves the namespaces.
#
# Run as root: `make bench-xdp` or tools/bench-xdp.sh. Knobs (environment):
#   BENCH_XDP_GEN=dnsgun         the generator: dnsgun (build/tools/dnsgun) or kxdpgun
#   BENCH_XDP_SECONDS=4          generator run time per measured run
#   BENCH_XDP_QPS=0              offered rate (0: as fast as dnsgun can; kxdpgun: 3000000)
#   BENCH_XDP_ROUNDS=3           rounds, servers interleaved and restarted; best shown
#   BENCH_XDP_LAT_QPS=20000      dnsperf -Q for the latency run (0: no latency runs)
#   BENCH_XDP_LAT_SECONDS=5      dnsperf -l for the latency run (round 1 only)
#   BENCH_XDP_LAT_RT=1           dnsperf and the server under SCHED_FIFO 10 for the
#                                latency run only (other work on a shared machine
#                                otherwise sets the p99); 0: normal scheduling
#   BENCH_XDP_SERVERS="fastpath reflector floor glued-user unbound dnsmasq knot knot-xdp"
#                                (fastpath and reflector back to back: the machine's
#                                load drifts less between them; per-round ratio shown)
#   BENCH_XDP_NAMES=1000
#   BENCH_XDP_PIN=1              kxdpgun/dnsperf on CPU 0, userspace servers on CPU 1
#   BENCH_XDP_SPLIT=0            1: threaded NAPI on the server veth, its kthread on
#                                CPU 1 (XDP work off the generator's core; see docs)
#   BENCH_XDP_BPF=1              0: skip `make bench-bpf` (make bench has just run it)
#   BENCH_XDP_OUT=build/bench-xdp/<date>   raw outputs and summary
#   GLUED=build/glued
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

GEN=${BENCH_XDP_GEN:-dnsgun}
SECS=${BENCH_XDP_SECONDS:-4}
GUN_QPS=${BENCH_XDP_QPS:-$([ "$GEN" = kxdpgun ] && echo 3000000 || echo 0)}
ROUNDS=${BENCH_XDP_ROUNDS:-3}
LAT_QPS=${BENCH_XDP_LAT_QPS:-20000}
LAT_SECS=${BENCH_XDP_LAT_SECONDS:-5}
LAT_RT=${BENCH_XDP_LAT_RT:-1}
SERVERS=${BENCH_XDP_SERVERS:-fastpath reflector floor glued-user unbound dnsmasq knot knot-xdp}
NAMES=${BENCH_XDP_NAMES:-1000}
PIN=${BENCH_XDP_PIN:-1}
SPLIT=${BENCH_XDP_SPLIT:-0}
RUN_BPF=${BENCH_XDP_BPF:-1}
GLUED=${GLUED:-$ROOT/build/glued}
REFLECTOR_SRC=$ROOT/build/bpf/reflector.bpf.o
FLOOR_SRC=$ROOT/build/bpf/glued_dns_bench.bpf.o
DNSGUN=${DNSGUN:-$ROOT/build/tools/dnsgun}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${BENCH_XDP_OUT:-$ROOT/build/bench-xdp/$STAMP}

# Addresses live only inside the two namespaces.
CLI_IP=10.97.0.1
SRV_IP=10.97.0.2
NET=10.97.0.0/24
TTL=5

NS_C=gbxdp-$$-c
NS_S=gbxdp-$$-s
VETH_C=gxc$$
VETH_S=gxs$$
BENCH_TAG=bench-xdp
# say/die, the cleanup trap (also unmounts BPFFS), bg_start/bg_stop/run,
# in_c/in_s, CPU pinning, start_unbound, verify, cpus_stat, record_fail,
# col/ok/ratio, env_common.
# shellcheck source=lib/bench.bash
. "$ROOT/tools/lib/bench.bash"


# --- preflight ----------------------------------------------------------------
[ "$(id -u)" = 0 ] || die "must run as root (namespaces, XDP, BPF_PROG_TEST_RUN)"
export PATH=$PATH:/usr/sbin:/sbin
for c in ip dnsperf dig taskset awk clang ethtool mountpoint bpftool jq sysctl; do
	command -v "$c" >/dev/null 2>&1 || die "missing $c (make deps-test)"
done
case $GEN in
kxdpgun) command -v kxdpgun >/dev/null 2>&1 || die "missing kxdpgun (make deps-test)" ;;
dnsgun) [ -x "$DNSGUN" ] || die "missing $DNSGUN (make bench-xdp builds it)" ;;
*) die "BENCH_XDP_GEN=$GEN: dnsgun or kxdpgun" ;;
esac
# Each XDP program's ns/packet under load: the kernel's per-program run time.
STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo "")
restore_stats() { [ -z "$STATS_WAS" ] || sysctl -qw kernel.bpf_stats_enabled="$STATS_WAS"; }
CLEANUP_HOOK=restore_stats
[ -n "$STATS_WAS" ] && sysctl -qw kernel.bpf_stats_enabled=1 ||
	say "kernel.bpf_stats_enabled cannot be set: no ns/packet figures"
mkdir -p "$OUT"
TMP=$(mktemp -d /tmp/glued-benchxdp.XXXXXX)
chmod 755 "$TMP"
# Private copies: a rebuild during the run must not change what is measured.
GLUED_SRC=$GLUED
GLUED=$(private_copy "$GLUED" glued)
DNSGUN=$(private_copy "$DNSGUN" dnsgun)
# The optional programs stay empty when they were not built.
FLOOR= REFLECTOR=
[ -f "$FLOOR_SRC" ] && FLOOR=$(private_copy "$FLOOR_SRC" floor.bpf.o)
[ -f "$REFLECTOR_SRC" ] && REFLECTOR=$(private_copy "$REFLECTOR_SRC" reflector.bpf.o)
# glued's pins go to a bpffs of our own (GLUED_BPF_PIN), never /sys/fs/bpf/glued.
BPFFS=$TMP/bpffs
mkdir -p "$BPFFS"
mount -t bpf bpf "$BPFFS"
PIN_DIR=$BPFFS/glued

# A one-line XDP_PASS program for the client veth: a frame sent with XDP_TX on
# the server veth reaches the client only if the client end runs an XDP
# program (docs/fastpath-loader.md, "veth and XDP_TX"). kxdpgun brings its own
# and leaves it attached when it exits (it then drops what it does not
# redirect), so this one is put back before dig and dnsperf.
printf '%s\n' '#include <linux/bpf.h>' '#include <bpf/bpf_helpers.h>' \
	'char LICENSE[] SEC("license") = "GPL";' \
	'SEC("xdp") int xdp_pass(struct xdp_md *ctx) { return XDP_PASS; }' >"$TMP/pass.bpf.c"
clang -target bpf -O2 -g -I"/usr/include/$(gcc -dumpmachine)" -c "$TMP/pass.bpf.c" \
	-o "$TMP/pass.bpf.o" || die "cannot compile the XDP_PASS program"

# --- (1) BPF_PROG_TEST_RUN --------------------------------------------------------
BPF_TABLE=$OUT/bpf-bench.txt
if [ "$RUN_BPF" = 1 ]; then
	say "running make bench-bpf (about 50 s)"
	if ! run make --no-print-directory -C "$ROOT" bench-bpf >"$BPF_TABLE" 2>&1; then
		echo "make bench-bpf FAILED (exit status above)" >>"$BPF_TABLE"
	fi
else
	echo "not run here (BENCH_XDP_BPF=0: make bench prints it just before)" >"$BPF_TABLE"
fi

# --- namespaces ---------------------------------------------------------------
ns_pair_up
# The client's stack leaves UDP checksums to "hardware" (CHECKSUM_PARTIAL),
# which a veth never fills in: an XDP program that patches the checksum
# incrementally (the reflector) would send a bad one back. A real NIC receives
# full checksums; make dig and dnsperf send them (kxdpgun always does).
in_c ethtool -K "$VETH_C" tx off >/dev/null
SRV_MAC=$(in_s cat "/sys/class/net/$VETH_S/address")

client_pass() {	# put the XDP_PASS program (back) on the client veth
	in_c ip link set dev "$VETH_C" xdpdrv off 2>/dev/null || true
	in_c ip link set dev "$VETH_C" xdpdrv obj "$TMP/pass.bpf.o" sec xdp
}
server_xdp() {	# the name of the XDP program on the server veth, or nothing
	in_s ip -d link show dev "$VETH_S" | awk '/prog\/xdp/ { for (i = 1; i < NF; i++)
		if ($i == "name") { print $(i + 1); exit } }'
}
client_pass

# With BENCH_XDP_SPLIT=1 the server veth's NAPI (it exists only while an XDP
# program is attached, so this is redone for every server) runs in kthreads
# pinned to CPU 1 instead of the softirq of the CPU that sent the frame.
split_napi() {
	[ "$SPLIT" = 1 ] && [ -n "$(server_xdp)" ] || return 0
	local p
	in_s sh -c "echo 1 >/sys/class/net/$VETH_S/threaded" || say "cannot make $VETH_S's NAPI threaded"
	for p in $(pgrep "^napi/$VETH_S-" || true); do taskset -p -c 1 "$p" >/dev/null || true; done
}

# --- data ---------------------------------------------------------------------
HOSTS=$TMP/hosts
awk -v n="$NAMES" 'BEGIN { for (i = 0; i < n; i++)
	printf "10.%d.%d.%d name%d\n", 64 + int(i / 62500), int(i / 250) % 250, i % 250 + 1, i }' >"$HOSTS"
awk '{ printf "%.9f %s A\n", rand(), $2 }' "$HOSTS" | sort -k1,1 | cut -d' ' -f2- >"$TMP/q"
LAST=name$((NAMES - 1))
LAST_IP=$(awk -v n="$LAST" '$2 == n { print $1 }' "$HOSTS")
FIRST_IP=$(awk 'NR == 1 { print $1 }' "$HOSTS")
chmod 644 "$HOSTS" "$TMP/q"

# --- servers ------------------------------------------------------------------
# start_<server> <log>: sets BGPID (empty for the reflector: no process).
glued_env() {
	rm -rf "$TMP/glued-state" "$TMP/glued.sock"
	mkdir -p "$TMP/glued-state"
	GENV=(GLUED_DNS_BIND="$SRV_IP:53" GLUED_TTL="$TTL" GLUED_HOSTS_FILE="$HOSTS"
		GLUED_UPSTREAMS=10.97.1.1:53 GLUED_STATE_DIR="$TMP/glued-state"
		GLUED_CTL_SOCKET="$TMP/glued.sock" DOCKER_HOST="unix://$TMP/no-docker.sock"
		GLUED_BPF_PIN="$PIN_DIR" GLUED_LOG=info
		GLUED_RRL_EXEMPT="$NET") # the load generator: never rate limited
}
start_fastpath() {
	glued_env
	bg_start "$1" ip netns exec "$NS_S" "${cpu_server[@]}" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		"${GENV[@]}" GLUED_XDP=auto GLUED_XDP_IFACES="$VETH_S" "$GLUED"
}
start_glued-user() {
	glued_env
	bg_start "$1" ip netns exec "$NS_S" "${cpu_server[@]}" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		"${GENV[@]}" GLUED_XDP=off "$GLUED"
}
start_dnsmasq() {
	bg_start "$1" ip netns exec "$NS_S" "${cpu_server[@]}" dnsmasq -k --conf-file=/dev/null \
		--no-resolv --no-hosts --bind-interfaces --port=53 --user=root --group=root \
		--pid-file= --log-facility=- --listen-address="$SRV_IP" --addn-hosts="$HOSTS" \
		--local-ttl=$TTL
}
# Knot: the root zone holding the same names (single labels, as glued serves
# them), one UDP worker (glued and dnsmasq are single-threaded, unbound gets
# num-threads 1); knot-xdp adds `xdp: listen: <server veth>` (AF_XDP, one
# queue on a veth, so one XDP worker).
knot_conf() {	# <dir> <xdp: 0/1>
	local d=$1
	rm -rf "$d"
	mkdir -p "$d/db"
	{
		printf '$TTL %d\n@ SOA ns. hostmaster. 1 3600 600 86400 %d\n@ NS ns.\nns A %s\n' \
			$TTL $TTL "$SRV_IP"
		awk '{ print $2 " A " $1 }' "$HOSTS"
	} >"$d/root.zone"
	{
		cat <<-CONF
		server:
		    rundir: $d
		    user: root:root
		    listen: $SRV_IP@53
		    udp-workers: 1
		    tcp-workers: 1
		    background-workers: 1
		database:
		    storage: $d/db
		log:
		  - target: stderr
		    any: info
		template:
		  - id: default
		    storage: $d
		    journal-content: none
		    zonefile-sync: -1
		zone:
		  - domain: .
		    file: root.zone
		CONF
		if [ "$2" = 1 ]; then
			printf 'xdp:\n    listen: %s\n    udp: on\n' "$VETH_S"
		fi
	} >"$d/knot.conf"
	cp "$d/knot.conf" "$OUT/knot$([ "$2" = 1 ] && echo -xdp).conf"
}
start_knot() {
	knot_conf "$TMP/knot" 0
	bg_start "$1" ip netns exec "$NS_S" "${cpu_server[@]}" knotd -c "$TMP/knot/knot.conf"
}
start_knot-xdp() {
	knot_conf "$TMP/knot" 1
	bg_start "$1" ip netns exec "$NS_S" "${cpu_server[@]}" knotd -c "$TMP/knot/knot.conf"
}
start_reflector() {
	BGPID=
	if [ -z "$REFLECTOR" ]; then
		echo "$REFLECTOR_SRC is not built (make bpf)" >"$1"
		return 1
	fi
	CMDS+=("ip netns exec $NS_S ip link set dev $VETH_S xdpdrv obj $REFLECTOR sec xdp")
	in_s ip link set dev "$VETH_S" xdpdrv obj "$REFLECTOR" sec xdp >"$1" 2>&1
}

# The floor: glued (fast path on) fills its pinned glued_names with the
# names; the benchmark build's programs are loaded reusing that map (the
# map lives on through them), glued and its hooks are removed, and
# glued_xdp_floor_grow goes on the server veth.
start_floor() {
	local i rc=0
	BGPID=
	if [ -z "$FLOOR" ]; then
		echo "$FLOOR_SRC is not built (make bpf)" >"$1"
		return 1
	fi
	start_fastpath "$1" || return 1
	for ((i = 0; i < 100; i++)); do
		[ -e "$PIN_DIR/names" ] && grep -q 'fastpath: names reconciled' "$1" && break
		sleep 0.1
	done
	CMDS+=("bpftool prog loadall $FLOOR $BPFFS/floor map name glued_names pinned $PIN_DIR/names")
	bpftool prog loadall "$FLOOR" "$BPFFS/floor" \
		map name glued_names pinned "$PIN_DIR/names" >>"$1" 2>&1 || rc=$?
	bg_stop "$BGPID"
	BGPID=
	ip netns exec "$NS_S" env -i GLUED_BPF_PIN="$PIN_DIR" "$GLUED" --detach >>"$1" 2>&1
	[ "$rc" = 0 ] || return 1
	CMDS+=("ip netns exec $NS_S bpftool net attach xdpdrv pinned $BPFFS/floor/glued_xdp_floor_grow dev $VETH_S")
	in_s bpftool net attach xdpdrv pinned "$BPFFS/floor/glued_xdp_floor_grow" dev "$VETH_S" >>"$1" 2>&1
}

# Stop one server and leave the server veth and port 53 as they were: glued
# leaves its pinned XDP link attached on exit by design (`glued --detach`
# removes it), knotd leaves its XDP program, the reflector is ours.
stop_server() {	# <pid or ""> <server>
	local prog
	[ -n "$1" ] && bg_stop "$1"
	case $2 in
	fastpath | glued-user)
		run ip netns exec "$NS_S" env -i GLUED_BPF_PIN="$PIN_DIR" "$GLUED" --detach \
			>>"$OUT/detach.log" 2>&1 || say "$2: glued --detach failed (see $OUT/detach.log)"
		;;
	esac
	prog=$(server_xdp)
	if [ -n "$prog" ]; then
		[ "$2" = reflector ] || [ "$2" = floor ] || say "$2: removing XDP program $prog it left on $VETH_S"
		in_s ip link set dev "$VETH_S" xdpdrv off 2>/dev/null ||
			in_s ip link set dev "$VETH_S" xdp off || true
	fi
	[ -z "$(server_xdp)" ] || die "cannot remove the XDP program from $VETH_S"
	[ "$2" = floor ] && rm -rf "$BPFFS/floor"
	port53_wait "$2" u
}
# The kernel fast path's own count of answers (glued_stats, summed over CPUs).
kernel_answered() {
	command -v bpftool >/dev/null && command -v jq >/dev/null || return 0
	bpftool -j map dump pinned "$PIN_DIR/stats" 2>/dev/null |
		jq '[.[].formatted.values[]?.value.answered] | add // 0' 2>/dev/null || true
}

# --- measuring ----------------------------------------------------------------
RESULTS=$OUT/results.tsv
# key status replies/s queries/s sent replies rcodes cpu0 cpu1 load kernel_answered
# rounds fail (aggregate rows) xdp_ns_pkt (bpf_stats of the server veth's XDP program)
printf 'key\tstatus\treplies_ps\tqueries_ps\tsent\treplies\trcodes\tcpu0\tcpu1\tload1\tkernel\trounds\tfail\txdp_ns_pkt\n' >"$RESULTS"
LATF=$OUT/latency.tsv
printf 'server\tstatus\tsent\tanswered\tlost\tp50_us\tp99_us\tp999_us\tmax_us\tavg_us\n' >"$LATF"

# The XDP program on the server veth: "run_time_ns run_cnt" (bpf_stats).
xdp_runtime() {
	local id
	id=$(in_s ip -j -d link show dev "$VETH_S" 2>/dev/null | jq -r '.[0].xdp.prog.id // empty')
	[ -n "$id" ] || return 0
	bpftool -j prog show id "$id" 2>/dev/null | jq -r '"\(.run_time_ns // 0) \(.run_cnt // 0)"'
}

gun() {	# <key> <round> <pid or "">: one generator run, one row "<key>#<round>"
	local key=$1 r=$2 pid=$3 f=$OUT/$1.r$2.$GEN.txt s0 s1 k0 k1 x0 x1 nsp rc=0
	s0=$(cpus_stat)
	[ "$key" = fastpath ] && k0=$(kernel_answered)
	split_napi
	x0=$(xdp_runtime)
	if [ "$GEN" = kxdpgun ]; then
		bg_start "$f" ip netns exec "$NS_C" "${cpu_client[@]}" kxdpgun -t "$SECS" -Q "$GUN_QPS" \
			-F 0 -I "$VETH_C" -R "$SRV_MAC" -i "$TMP/q" "$SRV_IP"
	else
		bg_start "$f" ip netns exec "$NS_C" "${cpu_client[@]}" "$DNSGUN" -i "$VETH_C" \
			-s "$CLI_IP" -d "$SRV_IP" -m "$SRV_MAC" -f "$TMP/q" -t "$SECS" -Q "$GUN_QPS"
	fi
	wait "$BGPID" || rc=$?
	forget_pid "$BGPID"
	x1=$(xdp_runtime)
	s1=$(cpus_stat)
	[ "$key" = fastpath ] && k1=$(kernel_answered)
	nsp=$(awk -v a="$x0" -v b="$x1" 'BEGIN { split(a, x, " "); split(b, y, " ")
		if (y[2] > x[2] && y[1] >= x[1]) printf "%.1f", (y[1] - x[1]) / (y[2] - x[2]) }')
	if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
		record_fail "$key#$r" "server DIED during the run (see $f and the server log)"
		return 1
	fi
	if [ "$rc" != 0 ] || ! grep -qE 'total replies|^dnsgun: sent=' "$f"; then
		record_fail "$key#$r" "$GEN FAILED (exit $rc): $(tail -2 "$f" | tr '\n\t' '  ')"
		return 1
	fi
	awk -v key="$key#$r" -v s0="$s0" -v s1="$s1" -v load="$(cut -d' ' -f1 /proc/loadavg)" \
		-v kern="$([ -n "${k0:-}" ] && [ -n "${k1:-}" ] && echo $((k1 - k0)))" -v nsp="$nsp" '
		/^total queries:/ { sent = $3; qps = $4; gsub(/[(]/, "", qps) }
		/^total replies:/ { rep = $3; rps = $4; gsub(/[(]/, "", rps) }
		/^responded / { c = $2; sub(/:$/, "", c); rc = rc (rc == "" ? "" : " ") c " " $3 }
		/^dnsgun: sent=/ {
			for (i = 2; i <= NF; i++) { split($i, kv, "="); g[kv[1]] = kv[2] }
			sent = g["sent"]; rep = g["replies"]; qps = g["sent_per_s"]; rps = g["replies_per_s"]
			rc = "-"	# the sink counts replies, it does not parse them
		}
		END {
			n0 = split(s0, a, " "); split(s1, b, " ")
			for (i = 1; i <= n0; i++) d[i] = b[i] - a[i]
			t0 = d[1] + d[2] + d[3]; t1 = d[4] + d[5] + d[6]
			busy0 = sprintf("%.0f+%.0f", t0 ? 100 * d[1] / t0 : 0, t0 ? 100 * d[3] / t0 : 0)
			busy1 = sprintf("%.0f+%.0f", t1 ? 100 * d[4] / t1 : 0, t1 ? 100 * d[6] / t1 : 0)
			printf "%s\tok\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t\t\t%s\n", key, rps, qps, sent,
				rep, rc, busy0, busy1, load, kern, nsp
		}' "$f" >>"$RESULTS"
	say "$key round $r: $(tail -1 "$RESULTS" | cut -f3) replies/s" \
		"($(tail -1 "$RESULTS" | cut -f4) queries/s sent)${nsp:+, XDP $nsp ns/packet}"
}

# Latency at a fixed rate: dnsperf -v prints one line per answer with its
# latency; a lost query counts as slower than any answer.
latency() {	# <key> <pid or "">
	local key=$1 pid=$2 f=$OUT/$1.latency.txt rc=0 rt=()
	client_pass
	if [ "$LAT_RT" = 1 ]; then
		rt=(chrt -f 10)
		[ -n "$pid" ] && run chrt -a -f -p 10 "$pid" >/dev/null
	fi
	bg_start "$f" ip netns exec "$NS_C" "${cpu_client[@]}" "${rt[@]}" dnsperf -s "$SRV_IP" \
		-d "$TMP/q" -l "$LAT_SECS" -Q "$LAT_QPS" -c 8 -T 1 -q 500 -t 1 -v
	wait "$BGPID" || rc=$?
	forget_pid "$BGPID"
	if [ "$LAT_RT" = 1 ] && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		chrt -a -o -p 0 "$pid" >/dev/null || true
	fi
	if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
		printf '%s\tserver DIED during the latency run\n' "$key" >>"$LATF"
		return 1
	fi
	if [ "$rc" != 0 ]; then
		printf '%s\tdnsperf FAILED (exit %s)\n' "$key" "$rc" >>"$LATF"
		return 1
	fi
	awk '/^> / { print $NF * 1e6 }' "$f" | sort -n >"$f.sorted"
	awk -v key="$key" -v f="$f.sorted" '
		/Queries sent:/ { sent = $3 }
		/Average Latency/ { avg = $4 * 1e6 }
		END {
			n = 0
			while ((getline v < f) > 0) lat[++n] = v
			lost = sent - n
			if (sent <= 0) { printf "%s\tno queries sent\n", key; exit }
			split("0.5 0.99 0.999", q, " ")
			for (j = 1; j <= 3; j++) {
				i = int(q[j] * sent + 0.999999)
				p[j] = (i <= n && i > 0) ? sprintf("%.0f", lat[i]) : "lost"
			}
			printf "%s\tok\t%d\t%d\t%d\t%s\t%s\t%s\t%.0f\t%.0f\n", key, sent, n, lost,
				p[1], p[2], p[3], lat[n], avg
		}' "$f" >>"$LATF"
	rm -f "$f.sorted"
	say "$key: latency at $LAT_QPS q/s: p99 $(tail -1 "$LATF" | cut -f7) us"
}

run_server() {	# <server> <round>
	local s=$1 r=$2 log=$OUT/$1.r$2.log pid want
	client_pass
	if [[ $s == fastpath || $s == glued-user ]] && [ ! -x "$GLUED" ]; then
		record_fail "$s#$r" "NOT RUN: $GLUED_SRC is not built"
		return 0
	fi
	if ! "start_$s" "$log"; then
		record_fail "$s#$r" "FAILED TO START: $(tail -2 "$log" | tr '\n\t' '  ')"
		stop_server "" "$s"
		return 0
	fi
	pid=$BGPID
	say "$s round $r: started${pid:+ (pid $pid)}, verifying"
	if [ "$s" = reflector ]; then
		want='flags: qr'	# the query sent back, QR set, no answer
	else
		want=$(ans_re "$FIRST_IP")
	fi
	# The floor sends back a grown query that dig cannot parse: its replies
	# are counted by the generator, and its program must be the one attached.
	if [ "$s" = floor ]; then
		if [[ $(server_xdp) != glued_xdp_floor* ]]; then	# names are cut at 15 bytes
			record_fail "$s#$r" "FLOOR NOT ATTACHED: $(tail -2 "$log" | tr '\n\t' '  ')"
			stop_server "$pid" "$s"
			return 0
		fi
	elif ! verify "$pid" "$NS_C" "$SRV_IP" name0 "$want" ||
		{ [ "$s" != reflector ] && ! verify "$pid" "$NS_C" "$SRV_IP" "$LAST" "$(ans_re "$LAST_IP")"; }; then
		printf '%s\n' "$VLAST" >"$log.verify"
		record_fail "$s#$r" "FAILED TO START/ANSWER: $(tail -2 "$log" | tr '\n\t' '  ') [dig: $(tail -4 "$log.verify" | tr '\n\t' '  ')]"
		stop_server "$pid" "$s"
		return 0
	fi
	# The fast path must really be on (GLUED_XDP=auto would fall back quietly)
	# and userspace-only must really be off.
	if [ "$s" = fastpath ] && { ! grep -q 'fastpath: on' "$log" ||
		[ "$(server_xdp)" != glued_xdp_dns ]; }; then
		record_fail "$s#$r" "FAST PATH NOT ON: $(grep -m1 'fastpath' "$log" | cut -c1-200)"
		stop_server "$pid" "$s"
		return 0
	fi
	if [ "$s" = glued-user ] && [ -n "$(server_xdp)" ]; then
		record_fail "$s#$r" "an XDP program is attached with GLUED_XDP=off: $(server_xdp)"
		stop_server "$pid" "$s"
		return 0
	fi
	gun "$s" "$r" "$pid" || true
	if [ "$r" = 1 ] && [ "$LAT_QPS" != 0 ] && [ "$s" != floor ]; then
		latency "$s" "$pid" || true
	fi
	stop_server "$pid" "$s"
}

# aggregate <key>: the best round's row as "<key>", with every round listed.
aggregate() {
	awk -F'\t' -v OFS='\t' -v k="$1" '
		index($1, k "#") == 1 {
			n++
			if ($2 != "ok") { if (fail == "") fail = "round " substr($1, length(k) + 2) ": " $2; next }
			list = list (list == "" ? "" : " ") $3
			if (best == "" || $3 + 0 > best + 0) { best = $3; row = $0 }
		}
		END {
			if (n == 0) exit
			if (row == "") { print k, fail; exit }
			$0 = row; $1 = k; $12 = list; $13 = fail; print
		}' "$RESULTS" >"$RESULTS.tmp"
	cat "$RESULTS.tmp" >>"$RESULTS"
	rm -f "$RESULTS.tmp"
}

# --- environment ----------------------------------------------------------------
environment() {
	env_common
	if [ "$GEN" = kxdpgun ]; then
		echo "generator: $(kxdpgun -V 2>&1 | head -1)"
	else
		echo "generator: tools/dnsgun (AF_PACKET, PACKET_QDISC_BYPASS, sendmmsg; replies counted by its XDP sink)"
	fi
	echo "knotd:     $(knotd -V 2>&1 | head -1)"
	echo "knobs:     BENCH_XDP_SECONDS=$SECS BENCH_XDP_QPS=$GUN_QPS BENCH_XDP_ROUNDS=$ROUNDS" \
		"BENCH_XDP_LAT_QPS=$LAT_QPS BENCH_XDP_LAT_SECONDS=$LAT_SECS BENCH_XDP_LAT_RT=$LAT_RT" \
		"BENCH_XDP_NAMES=$NAMES BENCH_XDP_GEN=$GEN"
	echo "           BENCH_XDP_PIN=$PIN (generator: ${cpu_client[*]:-unpinned};" \
		"userspace servers: ${cpu_server[*]:-unpinned}) BENCH_XDP_SPLIT=$SPLIT" \
		"($([ "$SPLIT" = 1 ] && echo "server veth NAPI threaded on CPU 1" ||
			echo "XDP runs in the softirq of the sending CPU"))"
	echo "path:      $GEN in netns $NS_C ($CLI_IP, $VETH_C) -> veth -> netns $NS_S" \
		"($SRV_IP:53, $VETH_S); $NAMES names name0..$LAST, A, random order"
}

# --- report ---------------------------------------------------------------------
lcol() { awk -F'\t' -v k="$1" -v c="$2" '$1 == k { v = $c } END { print v }' "$LATF"; }

round_ratios() {	# <a> <b>: a/b of each round where both ran
	awk -F'\t' -v a="$1" -v b="$2" -v n="$ROUNDS" '
		$2 == "ok" { v[$1] = $3 }
		END {
			for (r = 1; r <= n; r++) {
				x = v[a "#" r]; y = v[b "#" r]
				out = out (r > 1 ? " " : "") ((x != "" && y > 0) ? sprintf("%.2f", x / y) : "n/a")
			}
			print out
		}' "$RESULTS"
}

report() {
	local s st best="" bestsock="" v bv
	echo "=== glued XDP benchmark ($STAMP) ==="
	environment
	echo
	echo "--- (1) per-query cost in BPF_PROG_TEST_RUN: make bench-bpf ---"
	sed 's/^/  /' "$BPF_TABLE"
	echo
	echo "--- (2) $GEN, $SECS s at $([ "$GUN_QPS" = 0 ] && echo "its full rate" || echo "$GUN_QPS q/s offered")," \
		"best of $ROUNDS rounds (servers interleaved, restarted each round) ---"
	echo "replies/s: answers $GEN received per second; sent/s: queries it managed to send;"
	echo "cpu0/cpu1: busy+steal % of each core during the run (anything included; steal: taken by"
	echo "the hypervisor; this VM's per-CPU accounting is coarse, read it as a hint); kernel: the fast"
	echo "path's own count of answers during the run (glued_stats, all CPUs); reply%: replies/sent;"
	echo "ns/pkt: the server veth's XDP program's run time per packet under this load (bpf_stats)."
	printf '  %-11s %10s %10s %6s %15s %7s  %-22s %-10s %s\n' server replies/s sent/s "reply%" cpu0/cpu1 \
		ns/pkt "replies/s every round" kernel "rcodes (best round)"
	for s in $SERVERS; do
		row_failed 11 "$s" "$s" && continue
		printf '  %-11s %10s %10s %5s%% %7s/%-7s %7s  %-22s %-10s %s\n' "$s" "$(col "$s" 3)" \
			"$(col "$s" 4)" "$(awk -v a="$(col "$s" 6)" -v b="$(col "$s" 5)" \
			'BEGIN { printf "%.0f", (b > 0) ? 100 * a / b : 0 }')" "$(col "$s" 8)" \
			"$(col "$s" 9)" "$(col "$s" 14)" "$(col "$s" 12)" "$(col "$s" 11)" "$(col "$s" 7)"
		[ -n "$(col "$s" 13)" ] && printf '  %-11s   (%s)\n' "" "$(col "$s" 13)"
	done
	for s in glued-user unbound dnsmasq knot knot-xdp; do
		[[ " $SERVERS " == *" $s "* ]] && ok "$s" || continue
		v=$(col "$s" 3)
		if [ -z "$best" ] || [ "$v" -gt "$bv" ]; then best=$s bv=$v; fi
		[ "$s" != knot-xdp ] && { [ -z "$bestsock" ] || [ "$v" -gt "$(col "$bestsock" 3)" ]; } &&
			bestsock=$s
	done
	echo "  fast path / reflector: $(ratio fastpath reflector)  (goal >= 0.80x);" \
		"in each round: $(round_ratios fastpath reflector)"
	[ -n "$(col fastpath 14)" ] && [ -n "$(col floor 14)" ] &&
		echo "  fast path ns/packet / floor's: $(ratio fastpath floor 14)  (goal <= 1.25x;" \
			"$(col fastpath 14) vs $(col floor 14) ns; reflector $(col reflector 14) ns)"
	[ -n "$best" ] &&
		echo "  fast path / best userspace server ($best): $(ratio fastpath "$best")  (goal >= 3.00x)"
	[ -n "$bestsock" ] && [ "$bestsock" != "$best" ] &&
		echo "  fast path / best socket server ($bestsock): $(ratio fastpath "$bestsock")"
	ok fastpath && ok glued-user &&
		echo "  fast path / glued userspace-only: $(ratio fastpath glued-user)"
	if [ "$LAT_QPS" != 0 ]; then
		echo
		echo "--- latency at a fixed $LAT_QPS q/s: dnsperf -Q $LAT_QPS -l $LAT_SECS -c 8 -v (the"
		echo "    generators report no latency)$([ "$LAT_RT" = 1 ] && echo ", dnsperf and the server under SCHED_FIFO 10");"
		echo "    percentiles over queries sent, a lost query counts as the slowest ---"
		printf '  %-11s %8s %8s %6s %9s %9s %9s %9s %9s\n' server sent answered lost \
			"p50 us" "p99 us" "p99.9 us" "max us" "avg us"
		for s in $SERVERS; do
			st=$(lcol "$s" 2)
			if [ -z "$st" ]; then
				printf '  %-11s %s\n' "$s" "not measured$(ok "$s" || echo " (server failed, above)")"
			elif [ "$st" != ok ]; then
				printf '  %-11s %s\n' "$s" "$st"
			else
				printf '  %-11s %8s %8s %6s %9s %9s %9s %9s %9s\n' "$s" "$(lcol "$s" 3)" \
					"$(lcol "$s" 4)" "$(lcol "$s" 5)" "$(lcol "$s" 6)" "$(lcol "$s" 7)" \
					"$(lcol "$s" 8)" "$(lcol "$s" 9)" "$(lcol "$s" 10)"
			fi
		done
		if [ "$(lcol fastpath 2)" = ok ]; then
			local fp worse=() better=()
			fp=$(lcol fastpath 7)
			for s in glued-user unbound dnsmasq knot knot-xdp; do
				[ "$(lcol "$s" 2)" = ok ] || continue
				v=$(lcol "$s" 7)
				if [ "$fp" != lost ] && { [ "$v" = lost ] || [ "$fp" -lt "$v" ]; }; then
					better+=("$s")
				else
					worse+=("$s")
				fi
			done
			echo "  fast path p99 below: ${better[*]:-none}; not below: ${worse[*]:-none}" \
				"(goal: below every userspace server's)"
		fi
	fi
	if [ "${#PORT_WAITS[@]}" -gt 0 ]; then
		echo
		echo "note: port 53 still bound after the server exited (waited): ${PORT_WAITS[*]}"
	fi
	echo
	echo "--- commands (each distinct one once; \$TMP = a per-run temp dir) ---"
	local c
	for c in "${CMDS[@]}"; do printf '  %s\n' "${c//$TMP/\$TMP}"; done | awk '!seen[$0]++'
	echo
	echo "raw outputs: $OUT"
}

# --- main -----------------------------------------------------------------------
say "output in $OUT; servers: $SERVERS"
environment >&2
for ((r = 1; r <= ROUNDS; r++)); do
	for s in $SERVERS; do
		case $s in
		fastpath | glued-user | unbound | dnsmasq | knot | knot-xdp | reflector | floor) run_server "$s" "$r" ;;
		*) record_fail "$s#$r" "unknown server" ;;
		esac
	done
done
for s in $SERVERS; do aggregate "$s"; done
report | tee "$OUT/summary.txt"
