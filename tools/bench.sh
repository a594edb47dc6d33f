#!/usr/bin/env bash
# glued's benchmark (issue 2, "Performance"): dnsperf from a client network
# namespace over a veth pair against glued's userspace path, dnsmasq and
# unbound serving the same names on the same address and port, one after
# another; then glued and dnsmasq forwarding to the same upstream (cache cold
# and warm); then glued's resident memory idle and with 10,000 names.
# It prints the environment, the exact commands and a table of qps, latency,
# losses and the server's CPU use, and keeps raw outputs in BENCH_OUT.
#
# It owns only what it creates: two namespaces with per-run names, the
# processes it starts (recorded by PID, killed by PID) and a temp dir; a trap
# removes all of them on exit, failure or Ctrl-C. Traffic never leaves the
# namespaces. It never touches the host's own network or other processes.
#
# Run as root: `make bench` or tools/bench.sh. Knobs (environment):
#   BENCH_SECONDS=10 BENCH_WARMUP=2     measured / warm-up seconds per run
#   BENCH_ROUNDS=3 BENCH_FWD_ROUNDS=2   rounds (servers interleaved, each restarted);
#                                       the table shows the best round and lists all
#   BENCH_CLIENTS=8 BENCH_THREADS=1     dnsperf -c / -T
#   BENCH_OUTSTANDING=200               dnsperf -q (queries in flight)
#   BENCH_QPS=                          dnsperf -Q (empty: unlimited)
#   BENCH_TIMEOUT=2                     dnsperf -t: a later answer counts as lost
#   BENCH_PIN=1                         client (+ upstream) on CPU 0, server on CPU 1
#   BENCH_UNBOUND_THREADS=1             unbound num-threads
#   BENCH_DNSMASQ_FWD_MAX=1000          dnsmasq --dns-forward-max (its default 150 REFUSEs
#                                       part of a cold run)
#   BENCH_NAMES=1000 BENCH_MEM_NAMES=10000
#   BENCH_COLD_NAMES=200000 BENCH_WARM_NAMES=100
#   BENCH_PARTS="auth fwd mem"          which parts to run
#   BENCH_SERVERS="glued dnsmasq unbound"
#   BENCH_PERF=0                        1: perf record glued (extra 4 s run after round 1)
#   BENCH_STRACE=0                      1: strace -c glued (extra run after round 1)
#   BENCH_OUT=build/bench/<date>        where raw outputs and summary go
#   GLUED=build/glued
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

SECONDS_RUN=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP:-2}
CLIENTS=${BENCH_CLIENTS:-8}
THREADS=${BENCH_THREADS:-1}
OUTSTANDING=${BENCH_OUTSTANDING:-200}
MAXQPS=${BENCH_QPS:-}
TIMEOUT=${BENCH_TIMEOUT:-2}
PIN=${BENCH_PIN:-1}
UNBOUND_THREADS=${BENCH_UNBOUND_THREADS:-1}
DNSMASQ_FWD_MAX=${BENCH_DNSMASQ_FWD_MAX:-1000}
NAMES=${BENCH_NAMES:-1000}
MEM_NAMES=${BENCH_MEM_NAMES:-10000}
COLD_NAMES=${BENCH_COLD_NAMES:-200000}
WARM_NAMES=${BENCH_WARM_NAMES:-100}
ROUNDS=${BENCH_ROUNDS:-3}
FWD_ROUNDS=${BENCH_FWD_ROUNDS:-2}
PARTS=${BENCH_PARTS:-auth fwd mem}
SERVERS=${BENCH_SERVERS:-glued dnsmasq unbound}
PERF=${BENCH_PERF:-0}
STRACE=${BENCH_STRACE:-0}
GLUED=${GLUED:-$ROOT/build/glued}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${BENCH_OUT:-$ROOT/build/bench/$STAMP}

# Addresses live only inside the two namespaces, so fixed values are safe.
CLI_IP=10.99.0.1
SRV_IP=10.99.0.2
UP_IP=10.99.1.1		# the forwarding upstream, on the server namespace's lo
NET=10.99.0.0/24
TTL=5			# the same answer TTL for every server

NS_C=gbench-$$-c
NS_S=gbench-$$-s
VETH_C=gbc$$
VETH_S=gbs$$
BENCH_TAG=bench
RESULT_COLS=13		# a failure row: key, why, then empty columns up to "rounds"
# say/die, the cleanup trap, bg_start/bg_stop, in_c/in_s, CPU pinning,
# start_unbound, verify, cpus_stat, record_fail, col/ratio, env_common.
# shellcheck source=lib/bench.bash
. "$ROOT/tools/lib/bench.bash"


# --- preflight ----------------------------------------------------------------
[ "$(id -u)" = 0 ] || die "must run as root (network namespaces)"
for c in ip dnsperf dnsmasq unbound dig taskset awk; do
	command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ] || die "missing $c (make deps)"
done
export PATH=$PATH:/usr/sbin:/sbin

mkdir -p "$OUT"
TMP=$(mktemp -d /tmp/glued-bench.XXXXXX)
chmod 755 "$TMP"
# Run a private copy: a rebuild of build/glued during the run must not change
# (or remove) the binary being measured.
GLUED_SRC=$GLUED
GLUED=$(private_copy "$GLUED" glued)

# --- namespaces ---------------------------------------------------------------
ns_pair_up
in_s ip addr add "$UP_IP/32" dev lo
for _ in $(seq 50); do in_c ping -c1 -W1 "$SRV_IP" >/dev/null 2>&1 && break; sleep 0.1; done

# --- data ---------------------------------------------------------------------
# Name i gets 10.64.(i/250).(i%250+1): distinct, never .0 or .255.
gen_hosts() { awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++)
	printf "10.%d.%d.%d name%d\n", 64 + int(i / 62500), int(i / 250) % 250, i % 250 + 1, i }'; }
# "$prefix<i><suffix> A" for i < n, shuffled with a fixed seed.
gen_queries() { awk -v n="$1" -v p="$2" -v s="$3" -v seed="$4" 'BEGIN { srand(seed);
	for (i = 0; i < n; i++) printf "%.9f %s%d%s A\n", rand(), p, i, s }' |
	sort -k1,1 | cut -d' ' -f2-; }

HOSTS=$TMP/hosts
HOSTS_MEM=$TMP/hosts-mem
gen_hosts "$NAMES" >"$HOSTS"
gen_hosts "$MEM_NAMES" >"$HOSTS_MEM"
gen_queries "$NAMES" name "" 1 >"$TMP/q-auth"
gen_queries "$COLD_NAMES" c ".fwd.test" 2 >"$TMP/q-cold"
gen_queries 20000 w ".fwd.test" 3 >"$TMP/q-cold-warmup"
gen_queries "$WARM_NAMES" h ".fwd.test" 4 >"$TMP/q-warm"
chmod 644 "$TMP"/hosts* "$TMP"/q-*

# --- servers ------------------------------------------------------------------
# Each start_* launches one server in the server namespace, logging to $1, and
# sets BGPID. Servers under test get CPU 1, client and upstream CPU 0 (BENCH_PIN).
# GLUED_XDP=off makes glued remove its pins: point it at a directory of its
# own so it can never touch the host's /sys/fs/bpf/glued.
start_glued() {		# <log> <hosts file or ""> <upstream ip:port>
	local envs=(GLUED_DNS_BIND="$SRV_IP:53" GLUED_XDP=off GLUED_TTL="$TTL"
		GLUED_UPSTREAMS="$3" GLUED_STATE_DIR="$TMP/glued-state"
		GLUED_CTL_SOCKET="$TMP/glued.sock" DOCKER_HOST="unix://$TMP/no-docker.sock"
		GLUED_BPF_PIN="$TMP/no-bpf-pins"
		GLUED_RRL_EXEMPT="$NET"
		GLUED_LOG="${BENCH_GLUED_LOG:-info}")
	[ -n "$2" ] && envs+=(GLUED_HOSTS_FILE="$2")
	rm -rf "$TMP/glued-state" "$TMP/glued.sock"
	mkdir -p "$TMP/glued-state"
	# ip netns exec, taskset and env all exec: BGPID is glued's own PID.
	bg_start "$1" ip netns exec "$NS_S" "${cpu_server[@]}" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "${envs[@]}" "$GLUED"
}

DNSMASQ_COMMON=(-k --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces --port=53
	--user=root --group=root --pid-file= --log-facility=-)

start_dnsmasq_auth() {	# <log>
	bg_start "$1" ip netns exec "$NS_S" "${cpu_server[@]}" dnsmasq "${DNSMASQ_COMMON[@]}" \
		--listen-address="$SRV_IP" --addn-hosts="$HOSTS" --local-ttl=$TTL
}

start_dnsmasq_fwd() {	# <log>
	bg_start "$1" ip netns exec "$NS_S" "${cpu_server[@]}" dnsmasq "${DNSMASQ_COMMON[@]}" \
		--listen-address="$SRV_IP" --server="$UP_IP" --cache-size=10000 ${DNSMASQ_FWD_MAX:+--dns-forward-max=$DNSMASQ_FWD_MAX}
}

# The upstream: any name under fwd.test answers 192.0.2.1 with TTL 300, so a
# forwarder may cache it; it shares CPU 0 with dnsperf.
start_upstream() {	# <log>
	bg_start "$1" ip netns exec "$NS_S" "${cpu_client[@]}" dnsmasq "${DNSMASQ_COMMON[@]}" \
		--listen-address="$UP_IP" --address=/fwd.test/192.0.2.1 --local-ttl=300 \
		--cache-size=0
}



# Sockets can outlive their process for a moment (io_uring tears a ring down
# asynchronously, holding its files), so wait until nothing holds the port
# before the next server binds it; record how long that took.
stop_server() {		# <pid> <name>: sets STOP_RC
	bg_stop "$1"
	port53_wait "$2" ut
}


cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'; }
CLK_TCK=$(getconf CLK_TCK)

# Queries the upstream has answered so far (dnsmasq logs its counters on
# SIGUSR1), or nothing when no upstream runs.
UPSTREAM_PID="" UPSTREAM_LOG=""
upstream_count() {
	[ -n "$UPSTREAM_PID" ] || return 0
	local n i
	n=$(grep -c 'queries answered locally' "$UPSTREAM_LOG" || true)
	kill -USR1 "$UPSTREAM_PID" 2>/dev/null || return 0
	for ((i = 0; i < 40; i++)); do
		[ "$(grep -c 'queries answered locally' "$UPSTREAM_LOG" || true)" -gt "$n" ] && break
		sleep 0.05
	done
	grep -o 'queries answered locally [0-9]*' "$UPSTREAM_LOG" | tail -1 | awk '{ print $4 }'
}

# --- dnsperf ------------------------------------------------------------------
RESULTS=$OUT/results.tsv
printf 'key\tstatus\tqps\tlat_ms\tsd_ms\tsent\tlost\trcodes\tresp_bytes\tcpu_pct\tcpu_us_per_q\tload1\trounds\tcpu0_busy\tcpu1_busy\tupstream_queries\n' >"$RESULTS"


# dnsperf_run <out file> <query file> <seconds> [extra dnsperf args]: sets DP_RC
dnsperf_run() {
	local out=$1 q=$2 secs=$3
	shift 3
	local args=(-s "$SRV_IP" -d "$q" -l "$secs" -c "$CLIENTS" -T "$THREADS" -q "$OUTSTANDING"
		-t "$TIMEOUT" "$@")
	[ -n "$MAXQPS" ] && args+=(-Q "$MAXQPS")
	DP_RC=0
	bg_start "$out" ip netns exec "$NS_C" "${cpu_client[@]}" dnsperf "${args[@]}"
	wait "$BGPID" || DP_RC=$?
	forget_pid "$BGPID"
}

# measure <key> <round> <server pid> <query file> <warm-up query file> [extra
# dnsperf args]: warm-up, then the measured run; appends row "<key>#<round>".
measure() {
	local key=$1 r=$2 pid=$3 q=$4 warmq=$5
	shift 5
	local f=$OUT/${key//\//-}.r$r c0 c1 t0 t1 s0 s1 u0 u1
	if [ "$WARMUP" != 0 ]; then
		dnsperf_run "$f.warmup.txt" "$warmq" "$WARMUP"
	fi
	if ! kill -0 "$pid" 2>/dev/null; then
		record_fail "$key#$r" "server DIED during the warm-up (see $f.warmup.txt and the server log)"
		return 1
	fi
	c0=$(cpu_ticks "$pid")
	s0=$(cpus_stat)
	u0=$(upstream_count)
	t0=$(date +%s.%N)
	dnsperf_run "$f.txt" "$q" "$SECONDS_RUN" "$@"
	t1=$(date +%s.%N)
	c1=$(cpu_ticks "$pid")
	s1=$(cpus_stat)
	u1=$(upstream_count)
	if ! kill -0 "$pid" 2>/dev/null; then
		record_fail "$key#$r" "server DIED during the measured run (see $f.txt and the server log)"
		return 1
	fi
	if [ "$DP_RC" != 0 ]; then
		record_fail "$key#$r" "dnsperf exited $DP_RC (see $f.txt)"
		return 1
	fi
	awk -v key="$key#$r" -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v hz="$CLK_TCK" \
		-v load="$(cut -d' ' -f1 /proc/loadavg)" -v s0="$s0" -v s1="$s1" \
		-v up="$([ -n "$u0" ] && [ -n "$u1" ] && echo $((u1 - u0)))" '
		/Queries sent:/ { sent = $3 }
		/Queries lost:/ { lost = $3 }
		/Response codes:/ { sub(/.*Response codes: */, ""); rc = $0 }
		/Average packet size:/ { resp = $NF }
		/Queries per second:/ { qps = $4 }
		/Average Latency/ { lat = $4 * 1000 }
		/Latency StdDev/ { sd = $4 * 1000 }
		/Run time/ { rt = $4 }
		END {
			gsub(/\t/, " ", rc)
			# CPU is sampled around the whole dnsperf process, which may
			# wait for timeouts after the run; divide by the run time.
			cpu_s = (c1 - c0) / hz
			if (rt <= 0) rt = t1 - t0
			cpu = (rt > 0) ? cpu_s / rt * 100 : 0
			us = (sent > lost) ? cpu_s * 1e6 / (sent - lost) : 0
			# Busy share of CPU 0 and CPU 1 over the whole dnsperf process
			# (cpus_stat: busy idle steal per CPU; steal is not busy).
			n0 = split(s0, a, " "); split(s1, b, " ")
			for (i = 1; i <= n0; i++) d[i] = b[i] - a[i]
			t0 = d[1] + d[2] + d[3]; t1 = d[4] + d[5] + d[6]
			busy0 = (t0 > 0) ? 100 * d[1] / t0 : 0
			busy1 = (t1 > 0) ? 100 * d[4] / t1 : 0
			printf "%s\tok\t%.0f\t%.3f\t%.3f\t%d\t%d\t%s\t%s\t%.0f\t%.1f\t%s\t\t%.0f\t%.0f\t%s\n",
				key, qps, lat, sd, sent, lost, rc, resp, cpu, us, load, busy0, busy1, up
		}' "$f.txt" >>"$RESULTS"
	say "$key round $r: $(tail -1 "$RESULTS" | cut -f3) qps, server cpu $(tail -1 "$RESULTS" | cut -f10)%"
}

# aggregate <key>: one row "<key>" from its rounds: the best round's figures
# and every round's qps; a round that failed makes the whole row a failure.
aggregate() {
	awk -F'\t' -v OFS='\t' -v k="$1" '
		index($1, k "#") == 1 {
			n++
			if ($2 != "ok") {
				if (fail == "") fail = "round " substr($1, length(k) + 2) ": " $2
				next
			}
			list = list (list == "" ? "" : " ") $3
			if (best == "" || $3 + 0 > best + 0) { best = $3; row = $0 }
		}
		END {
			if (n == 0) exit
			if (fail != "") {
				printf "%s\t%s%s\t\t\t\t\t\t\t\t\t\t\t%s\n", k, fail,
					(row != "" ? " (other rounds: " list " qps)" : ""), list
				exit
			}
			$0 = row; $1 = k; $13 = list; print
		}' "$RESULTS" >"$RESULTS.tmp"
	cat "$RESULTS.tmp" >>"$RESULTS"
	rm -f "$RESULTS.tmp"
}

# Optional: profile glued in an extra, unmeasured run (perf and strace slow it).
profile_glued() {	# <key> <pid> <query file>
	local key=$1 pid=$2 q=$3 f=$OUT/${1//\//-} spid
	if [ "$PERF" = 1 ] && command -v perf >/dev/null; then
		bg_start "$f.perf.log" perf record -F 999 -g -p "$pid" -o "$f.perf.data" -- sleep 4
		spid=$BGPID
		dnsperf_run "$f.perf-dnsperf.txt" "$q" 4
		wait "$spid" || true
		forget_pid "$spid"
		{
			perf report -i "$f.perf.data" --stdio --no-children -g none --sort dso
			perf report -i "$f.perf.data" --stdio --no-children -g none --sort dso,sym \
				--percent-limit 0.5
		} 2>/dev/null | grep -v '^#' | grep -v '^$' >"$f.perf.txt" || true
		say "$key: perf profile in $f.perf.txt"
	fi
	if [ "$STRACE" = 1 ] && command -v strace >/dev/null; then
		bg_start "$f.strace.txt" timeout -s INT 3 strace -c -f -p "$pid"
		spid=$BGPID
		dnsperf_run "$f.strace-dnsperf.txt" "$q" 4
		wait "$spid" || true
		forget_pid "$spid"
		say "$key: syscall counts in $f.strace.txt"
	fi
}

vm_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }
mem_of() { echo "$(vm_kb "$1" VmRSS) $(vm_kb "$1" VmHWM) $(vm_kb "$1" RssAnon) $(vm_kb "$1" RssFile)"; }
oneline() { tail -n "$2" "$1" 2>/dev/null | tr '\n\t' '  ' | cut -c1-300; }

glued_ok() {	# <key>: glued is built, else the row says so
	[ -x "$GLUED" ] && return 0
	record_fail "$1" "NOT RUN: $GLUED_SRC is not built"
	return 1
}
want() { [[ " $SERVERS " == *" $1 "* ]]; }

# --- part 1: authoritative-style, the same names from every server --------------
LOAD_RSS=
part_auth() {
	local r s key pid log last=$((NAMES - 1)) last_ip servers=()
	last_ip=$(awk -v n="name$last" '$2 == n { print $1 }' "$HOSTS")
	for s in $SERVERS; do
		if [ "$s" = glued ] && ! glued_ok auth/glued; then continue; fi
		servers+=("$s")
	done
	for ((r = 1; r <= ROUNDS; r++)); do
		for s in "${servers[@]}"; do
			key=auth/$s
			log=$OUT/auth-$s.r$r.log
			case $s in
			glued) start_glued "$log" "$HOSTS" "$UP_IP:53" ;;
			dnsmasq) start_dnsmasq_auth "$log" ;;
			unbound) start_unbound "$log" ;;
			*) record_fail "$key#$r" "unknown server"; continue ;;
			esac
			pid=$BGPID
			say "$key round $r: started (pid $pid), verifying"
			if ! verify "$pid" "$NS_C" "$SRV_IP" name0 "$(ans_re 10.64.0.1)" ||
				! verify "$pid" "$NS_C" "$SRV_IP" "name$last" "$(ans_re "$last_ip")"; then
				printf '%s\n' "$VLAST" >"$log.verify"
				record_fail "$key#$r" "FAILED TO START/ANSWER: $(oneline "$log" 2) [dig: $(oneline "$log.verify" 4)]"
				stop_server "$pid" "$s"
				continue
			fi
			if measure "$key" "$r" "$pid" "$TMP/q-auth" "$TMP/q-auth" && [ "$s" = glued ]; then
				LOAD_RSS=$(mem_of "$pid")
				[ "$r" = 1 ] && profile_glued "$key" "$pid" "$TMP/q-auth"
			fi
			stop_server "$pid" "$s"
			if [ "$s" = glued ] && [ "$STOP_RC" != 0 ] && [ "$STOP_RC" != 143 ]; then
				say "$key round $r: glued exited with status $STOP_RC on SIGTERM"
			fi
		done
	done
	for s in "${servers[@]}"; do aggregate "auth/$s"; done
	return 0
}

# --- part 2: forwarding to one upstream, cache cold and warm ---------------------
part_fwd() {
	local up r s phase key pid log servers=()
	for s in glued dnsmasq; do
		want "$s" || continue
		if [ "$s" = glued ] && [ ! -x "$GLUED" ]; then
			glued_ok fwd/cold/glued || glued_ok fwd/warm/glued || continue
		fi
		servers+=("$s")
	done
	start_upstream "$OUT/fwd-upstream.log"
	up=$BGPID
	if ! verify "$up" "$NS_S" "$UP_IP" probe.fwd.test "$(ans_re 192.0.2.1)"; then
		record_fail fwd/upstream "UPSTREAM FAILED TO START: $(oneline "$OUT/fwd-upstream.log" 2)"
		stop_server "$up" upstream
		return 0
	fi
	UPSTREAM_PID=$up UPSTREAM_LOG=$OUT/fwd-upstream.log
	for ((r = 1; r <= FWD_ROUNDS; r++)); do
		for phase in cold warm; do
			for s in "${servers[@]}"; do
				key=fwd/$phase/$s
				log=$OUT/fwd-$phase-$s.r$r.log
				if [ "$s" = glued ]; then
					start_glued "$log" "" "$UP_IP:53"
				else
					start_dnsmasq_fwd "$log"
				fi
				pid=$BGPID
				say "$key round $r: started (pid $pid), verifying"
				if ! verify "$pid" "$NS_C" "$SRV_IP" verify.fwd.test "$(ans_re 192.0.2.1)"; then
					printf '%s\n' "$VLAST" >"$log.verify"
					record_fail "$key#$r" "FAILED TO START/FORWARD: $(oneline "$log" 2) [dig: $(oneline "$log.verify" 4)]"
					stop_server "$pid" "$s"
					continue
				fi
				if [ "$phase" = cold ]; then
					# -n 1: one pass over the unique names, so none repeats;
					# the warm-up uses other names.
					measure "$key" "$r" "$pid" "$TMP/q-cold" "$TMP/q-cold-warmup" -n 1 || true
				else
					measure "$key" "$r" "$pid" "$TMP/q-warm" "$TMP/q-warm" || true
				fi
				stop_server "$pid" "$s"
			done
		done
	done
	stop_server "$up" upstream
	UPSTREAM_PID=
	for s in "${servers[@]}"; do
		aggregate "fwd/cold/$s"
		aggregate "fwd/warm/$s"
	done
	return 0
}

# --- part 3: glued's resident memory --------------------------------------------
MEM_IDLE="" MEM_FULL="" MEM_NOTE=""
part_mem() {
	local pid last=$((MEM_NAMES - 1)) last_ip
	local s=glued
	glued_ok mem/glued || return 0
	last_ip=$(awk -v n="name$last" '$2 == n { print $1 }' "$HOSTS_MEM")
	start_glued "$OUT/mem-idle.log" "" "$UP_IP:53"
	pid=$BGPID
	if verify "$pid" "$NS_C" "$SRV_IP" nosuchname 'status: NXDOMAIN'; then
		sleep 1
		MEM_IDLE=$(mem_of "$pid")
	else
		record_fail mem/idle "FAILED TO START/ANSWER: $(oneline "$OUT/mem-idle.log" 2)"
	fi
	stop_server "$pid" "$s"
	start_glued "$OUT/mem-full.log" "$HOSTS_MEM" "$UP_IP:53"
	pid=$BGPID
	if ! verify "$pid" "$NS_C" "$SRV_IP" name0 "$(ans_re 10.64.0.1)"; then
		record_fail mem/full "FAILED TO START/ANSWER: $(oneline "$OUT/mem-full.log" 2)"
	else
		if ! verify "$pid" "$NS_C" "$SRV_IP" "name$last" "$(ans_re "$last_ip")"; then
			MEM_NOTE="name$last NOT answered: glued did not load all $MEM_NAMES names"
			MEM_NOTE+=" (its log: $(grep -m1 -E 'hosts|warn' "$OUT/mem-full.log" |
				sed 's/^[^ ]* //' | cut -c1-160))"
			say "mem: $MEM_NOTE"
		fi
		sleep 1
		MEM_FULL=$(mem_of "$pid")
	fi
	stop_server "$pid" "$s"
	return 0
}

# --- environment ----------------------------------------------------------------
environment() {
	env_common
	echo "knobs:     BENCH_SECONDS=$SECONDS_RUN BENCH_WARMUP=$WARMUP BENCH_ROUNDS=$ROUNDS" \
		"BENCH_FWD_ROUNDS=$FWD_ROUNDS BENCH_CLIENTS=$CLIENTS BENCH_THREADS=$THREADS"
	echo "           BENCH_OUTSTANDING=$OUTSTANDING BENCH_QPS=${MAXQPS:-unlimited} BENCH_PIN=$PIN" \
		"(client+upstream: ${cpu_client[*]:-unpinned}; server: ${cpu_server[*]:-unpinned})" \
		"BENCH_UNBOUND_THREADS=$UNBOUND_THREADS"
	echo "           BENCH_NAMES=$NAMES BENCH_COLD_NAMES=$COLD_NAMES" \
		"BENCH_WARM_NAMES=$WARM_NAMES BENCH_MEM_NAMES=$MEM_NAMES"
	echo "path:      dnsperf in netns $NS_C ($CLI_IP) -> veth -> netns $NS_S ($SRV_IP:53);" \
		"upstream $UP_IP:53 on the server netns' lo"
}

# --- report ---------------------------------------------------------------------

hdr() {
	printf '  %-14s %8s %7s %7s %6s %5s %7s %7s  %-22s %s\n' server "qps" "lat ms" "sd ms" lost \
		cpu "cpu/q" "cpu0/1" "qps of every round" "rcodes (best round)"
}
row() {	# <label> <key>
	row_failed 14 "$1" "$2" && return 0
	printf '  %-14s %8s %7s %7s %6s %4s%% %5sus %3s/%3s  %-22s %s\n' "$1" "$(col "$2" 3)" \
		"$(col "$2" 4)" "$(col "$2" 5)" "$(col "$2" 7)" "$(col "$2" 10)" "$(col "$2" 11)" \
		"$(col "$2" 14)" "$(col "$2" 15)" "$(col "$2" 13)" "$(col "$2" 8)"
}


# "<rss> <hwm> <anon> <file>" in kB -> one line
memline() {
	if [ -z "$1" ]; then echo n/a; return; fi
	awk -v l="$1" 'BEGIN { split(l, v, " ")
		printf "VmRSS %.1f MB (anon %.1f, file %.1f), peak VmHWM %.1f MB",
			v[1] / 1024, v[3] / 1024, v[4] / 1024, v[2] / 1024 }'
}

report() {
	local s best="" bestq=0 q
	echo "=== glued benchmark ($STAMP) ==="
	environment
	echo
	echo "qps: best round; lat/sd: dnsperf's average latency and its standard deviation in that"
	echo "round; lost: dnsperf's lost queries; cpu: the server process's CPU (user+sys, one core ="
	echo "100%); cpu/q: its CPU time per answered query (softirq work of the veth is not included);"
	echo "cpu0/1: how busy CPU 0 (dnsperf, upstream) and CPU 1 (server) were (any work; time the hypervisor stole counts as not busy)."
	if [[ " $PARTS " == *" auth "* ]]; then
		echo
		echo "--- authoritative: $NAMES names (name0..name$((NAMES - 1)) A), random order," \
			"${SECONDS_RUN}s after ${WARMUP}s warm-up, $ROUNDS rounds ---"
		hdr
		for s in $SERVERS; do row "$s" "auth/$s"; done
		for s in $SERVERS; do
			[ "$s" = glued ] && continue
			q=$(col "auth/$s" 3)
			if [ "$(col "auth/$s" 2)" = ok ] &&
				awk -v a="$q" -v b="$bestq" 'BEGIN { exit !(a > b) }'; then
				best=$s bestq=$q
			fi
			echo "  glued / $s: $(ratio auth/glued "auth/$s" 3) qps," \
				"$(ratio auth/glued "auth/$s" 11) CPU per query"
		done
		[ -n "$best" ] &&
			echo "  glued / best ($best): $(ratio auth/glued "auth/$best" 3) qps  (goal >= 1.00x)"
	fi
	if [[ " $PARTS " == *" fwd "* ]]; then
		echo
		echo "--- forwarding to one upstream (dnsmasq --address=/fwd.test/, TTL 300), $FWD_ROUNDS rounds;"
		echo "    cold: $COLD_NAMES unique names, one pass (-n 1), fresh server; warm: $WARM_NAMES names repeated ---"
		hdr
		row "glued cold" fwd/cold/glued
		row "dnsmasq cold" fwd/cold/dnsmasq
		row "glued warm" fwd/warm/glued
		row "dnsmasq warm" fwd/warm/dnsmasq
		[ -n "$(col fwd/upstream 2)" ] && echo "  upstream: $(col fwd/upstream 2)"
		echo "  glued / dnsmasq: cold $(ratio fwd/cold/glued fwd/cold/dnsmasq 3) qps," \
			"warm $(ratio fwd/warm/glued fwd/warm/dnsmasq 3) qps"
		local k n
		for k in fwd/cold/glued fwd/cold/dnsmasq fwd/warm/glued fwd/warm/dnsmasq; do
			n=$(col "$k" 16)
			[ -n "$n" ] || continue
			echo "  queries that reached the upstream during $k's best round: $n" \
				"($(awk -v n="$n" -v s="$(col "$k" 6)" 'BEGIN { printf "%.3f", s ? n / s : 0 }')" \
				"per query sent)"
		done
	fi
	if [[ " $PARTS " == *" mem "* ]]; then
		echo
		echo "--- glued resident memory, goal <= 20 MB (file = shared library pages) ---"
		printf '  %-28s %s\n' "idle, no names:" "$(memline "$MEM_IDLE")"
		printf '  %-28s %s\n' "$MEM_NAMES names (hosts file):" "$(memline "$MEM_FULL")"
		[ -n "$MEM_NOTE" ] && echo "    WARNING: $MEM_NOTE"
		[ -n "$LOAD_RSS" ] &&
			printf '  %-28s %s\n' "$NAMES names, after auth run:" "$(memline "$LOAD_RSS")"
		awk -F'\t' '$1 ~ /^mem\// { print "  " $1 ": " $2 }' "$RESULTS"
	fi
	if [ "${#PORT_WAITS[@]}" -gt 0 ]; then
		echo
		echo "note: port 53 was still bound after the server process had exited" \
			"(waited before the next start): ${PORT_WAITS[*]}"
	fi
	echo
	echo "--- commands (each distinct one once; \$TMP = a per-run temp dir) ---"
	local c
	for c in "${CMDS[@]}"; do
		printf '  %s\n' "${c//$TMP/\$TMP}"
	done | awk '!seen[$0]++'
	echo
	echo "raw outputs: $OUT"
}

# --- main -----------------------------------------------------------------------
say "output in $OUT; parts: $PARTS; servers: $SERVERS"
environment >&2
if [[ " $PARTS " == *" auth "* ]]; then part_auth; fi
if [[ " $PARTS " == *" fwd "* ]]; then part_fwd; fi
if [[ " $PARTS " == *" mem "* ]]; then part_mem; fi
report | tee "$OUT/summary.txt"
