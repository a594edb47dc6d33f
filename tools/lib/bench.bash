# Helpers shared by tools/bench.sh and tools/bench-xdp.sh (sourced, not run).
# Both measure servers in a client and a server network namespace joined by
# a veth pair; these helpers own the processes the script starts (by PID)
# and the namespaces, and tear them down on any exit.
#
# The caller sets, before sourcing: BENCH_TAG (the prefix of its messages),
# NS_C, NS_S (namespace names), PIN (1: pin client/server to CPU 0/1), and
# later TMP, OUT, RESULTS, SRV_IP, NET, TTL, HOSTS, GLUED, GLUED_SRC as the
# helpers below say. Optional: BPFFS (a bpffs mount point the script made,
# unmounted on exit), UNBOUND_THREADS (default 1), RESULT_COLS (columns a
# failure row is padded to, default 2).
# Sourcing installs the EXIT/INT/TERM traps and sets cpu_client/cpu_server.

TMP=${TMP:-}
BPFFS=${BPFFS:-}
PIDS=()
CMDS=()

say() { printf '%s: %s\n' "$BENCH_TAG" "$*" >&2; }
die() { say "$*"; exit 1; }

# --- cleanup: every PID we started, both namespaces, our bpffs, the temp dir ---
cleanup() {
	local rc=$? pid i
	trap - EXIT INT TERM
	# A script's own extra undo step (e.g. a sysctl it changed), first.
	[ -n "${CLEANUP_HOOK:-}" ] && { "$CLEANUP_HOOK" || true; }
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		pid=${PIDS[i]}
		kill -0 "$pid" 2>/dev/null || continue
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	# Deleting the namespaces deletes the veth pair and every XDP program on it.
	ip netns del "$NS_C" 2>/dev/null || true
	ip netns del "$NS_S" 2>/dev/null || true
	if [ -n "$BPFFS" ] && mountpoint -q "$BPFFS"; then
		umount "$BPFFS" 2>/dev/null || umount -l "$BPFFS" || true
	fi
	[ -n "$TMP" ] && rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

# --- processes ------------------------------------------------------------------
# bg_start <log> <cmd...>: start cmd in the background, stdout+stderr to log;
# sets BGPID. The command line is recorded for the report.
bg_start() {
	local log=$1
	shift
	CMDS+=("$*")
	"$@" >"$log" 2>&1 &
	BGPID=$!
	PIDS+=("$BGPID")
}

# forget_pid <pid>: it ended (waited for); cleanup need not stop it.
forget_pid() {
	local p keep=()
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

# bg_stop <pid>: stop one PID we started: TERM, up to 3 s, then KILL; sets
# STOP_RC to its exit status and forgets it.
bg_stop() {
	local pid=$1
	STOP_RC=0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || STOP_RC=$?
	forget_pid "$pid"
}

# run <cmd...>: a foreground command, recorded for the report.
run() {
	CMDS+=("$*")
	"$@"
}

in_c() { ip netns exec "$NS_C" "$@"; }
in_s() { ip netns exec "$NS_S" "$@"; }

# ns_pair_up: NS_C and NS_S joined by the veth pair VETH_C/VETH_S, with
# CLI_IP/24 and SRV_IP/24 on its ends; lo and both ends up.
ns_pair_up() {
	ip netns add "$NS_C"
	ip netns add "$NS_S"
	ip link add "$VETH_C" type veth peer name "$VETH_S"
	ip link set "$VETH_C" netns "$NS_C"
	ip link set "$VETH_S" netns "$NS_S"
	in_c ip link set lo up
	in_s ip link set lo up
	in_c ip addr add "$CLI_IP/24" dev "$VETH_C"
	in_s ip addr add "$SRV_IP/24" dev "$VETH_S"
	in_c ip link set "$VETH_C" up
	in_s ip link set "$VETH_S" up
}

# private_copy <file> <name>: prints the path of a copy of <file> in TMP, or
# <file> itself when there is no such file. A rebuild during the run must
# not change (or remove) what is being measured.
private_copy() {
	if [ -f "$1" ]; then
		cp "$1" "$TMP/$2" && echo "$TMP/$2"
	else
		echo "$1"
	fi
}

# port53_wait <name> <ss protocols: u or ut>: wait up to 5 s until nothing
# in NS_S listens on SRV_IP:53, so the next server can bind it; when that
# took a while, record it in PORT_WAITS for the report.
PORT_WAITS=()
port53_wait() {
	local i
	for ((i = 0; i < 100; i++)); do
		in_s ss "-Hln$2" "( sport = :53 )" 2>/dev/null | grep -qF "$SRV_IP:53" || break
		sleep 0.05
	done
	[ "$i" -gt 0 ] && PORT_WAITS+=("$1: ~$((i * 50)) ms")
	return 0
}

cpu_client=() cpu_server=()
if [ "$PIN" = 1 ] && [ "$(nproc)" -ge 2 ]; then
	cpu_client=(taskset -c 0)
	cpu_server=(taskset -c 1)
fi

# --- servers ----------------------------------------------------------------------
# start_unbound <log>: unbound on SRV_IP:53 in NS_S serving HOSTS ("ip name"
# lines) as single-label A records with TTL, iterator only, nothing else.
start_unbound() {
	local conf=$TMP/unbound.conf
	{
		cat <<-CONF
		server:
		  interface: $SRV_IP
		  port: 53
		  do-ip6: no
		  do-daemonize: no
		  use-syslog: no
		  logfile: ""
		  verbosity: 1
		  chroot: ""
		  username: ""
		  directory: "$TMP"
		  pidfile: ""
		  num-threads: ${UNBOUND_THREADS:-1}
		  access-control: $NET allow
		  module-config: "iterator"
		  local-zone: "." static
		CONF
		awk -v ttl="$TTL" '{ printf "  local-data: \"%s. %d IN A %s\"\n", $2, ttl, $1 }' "$HOSTS"
		printf 'remote-control:\n  control-enable: no\n'
	} >"$conf"
	cp "$conf" "$OUT/unbound.conf"
	bg_start "$1" ip netns exec "$NS_S" "${cpu_server[@]}" unbound -d -c "$conf"
}

# verify <pid or ""> <ns> <server ip> <name> <regex on dig's full output>:
# the server answers within 5 s; the last dig output is in VLAST. Fails at
# once when the process exits.
VLAST=
verify() {
	local pid=$1 ns=$2 ip=$3 name=$4 want=$5
	for _ in $(seq 50); do
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			VLAST="process exited"
			return 1
		fi
		VLAST=$(ip netns exec "$ns" dig +time=1 +tries=1 @"$ip" "$name" A 2>&1 || true)
		grep -qE "$want" <<<"$VLAST" && return 0
		sleep 0.1
	done
	return 1
}
# The regex of an A answer for ip in dig's output.
ans_re() { printf 'IN[[:space:]]+A[[:space:]]+%s' "${1//./\\.}"; }

# "busy idle steal" for CPU 0 and CPU 1, in ticks: busy = user + nice +
# system + irq + softirq, idle = idle + iowait, steal = time the hypervisor
# gave away (guest time is inside user already).
cpus_stat() {
	awk '$1 == "cpu0" || $1 == "cpu1" {
		printf "%d %d %d ", $2 + $3 + $4 + $7 + $8, $5 + $6, $9 }' /proc/stat
}

# --- results: one tab-separated row per key in RESULTS; column 2 is "ok" or why not --
record_fail() {	# <key> <why>
	local pad="" i
	for ((i = 2; i < ${RESULT_COLS:-2}; i++)); do pad+=$'\t'; done
	printf '%s\t%s%s\n' "$1" "$2" "$pad" >>"$RESULTS"
	say "$1: $2"
}
col() { awk -F'\t' -v k="$1" -v c="$2" '$1 == k { v = $c } END { print v }' "$RESULTS"; }
ok() { [ "$(col "$1" 2)" = ok ]; }
# row_failed <width> <label> <key>: for a server that did not run or failed,
# print its row ("not run" or the status) and succeed; for one that ran,
# print nothing and fail (the caller prints the figures).
row_failed() {
	local st
	st=$(col "$3" 2)
	[ "$st" = ok ] && return 1
	printf "  %-${1}s %s\n" "$2" "${st:-not run}"
}
ratio() {	# <key a> <key b> [column, default 3]: a/b, or n/a unless both ran
	local c=${3:-3}
	ok "$1" && ok "$2" || { echo n/a; return; }
	awk -v a="$(col "$1" "$c")" -v b="$(col "$2" "$c")" \
		'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'
}

# --- environment: the lines every report starts with --------------------------------
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
env_common() {
	local rev
	rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
	# The BPF programs are inside glued too (its skeleton).
	git diff --quiet HEAD -- userspace include bpf 2>/dev/null || rev="$rev (+uncommitted changes)"
	echo "date:      $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "kernel:    $(uname -sr)"
	echo "cpu:       $(nproc) x $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
	echo "memory:    $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "load:      at start $LOAD_START, now $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews figures)"
	echo "dnsperf:   $(dnsperf -h 2>&1 | awk '/^Version/ { print $2 }')"
	echo "dnsmasq:   $(dnsmasq --version | awk 'NR == 1 { print $3 }')"
	echo "unbound:   $(unbound -V 2>&1 | awk '/^Version/ { print $2 }')"
	if [ -x "$GLUED" ]; then
		echo "glued:     $("$GLUED" --version 2>&1 | head -1) (copy of $GLUED_SRC), tree at $rev"
	else
		echo "glued:     not built (tree at $rev)"
	fi
}
