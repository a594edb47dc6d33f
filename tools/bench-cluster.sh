#!/usr/bin/env bash
# Cluster propagation benchmark on the e2e 3-host world (tests/e2e/lib):
# N times, start a container on h1 and measure until glued on h3 answers its
# name (and, for reference, until h1 itself does); then remove it and
# measure until h3 says NXDOMAIN. Prints p50/p99/max of each. Then D dead-
# host rounds: a container on one host (h3, h1, h2 in turn), its glued
# SIGKILLed and its dockerd stopped (the host is gone, nothing says goodbye),
# time until both other hosts say NXDOMAIN for the name; the host comes back
# before the next round. Root only.
#
#   tools/bench-cluster.sh [-n COUNT] [-d DEAD_ROUNDS] [-o RESULT_FILE]
#
# Time zero is the engine's event for the container ("start", "die", with
# their nanosecond timestamps from `docker events`): what follows is
# glued's part: the event stream, the inspect, the local table, gossip to
# h3, h3's table. (Timed from `docker run -d`'s return instead, every answer
# was already there: 0 ms.) For a dead host it is the SIGKILL of glued: what
# follows is failure detection (docs/protocol.md, "Failure detection bound").
# Polling is one tools/dns-until process on the client machine, started
# before the event, asking each host every 2 ms: the figures carry about
# 2 ms of resolution (a dig per poll had ~15-40 ms, its start-up time).
set -u

COUNT=50
DEAD=10
OUT=
while getopts n:d:o: opt; do
	case $opt in
	n) COUNT=$OPTARG ;;
	d) DEAD=$OPTARG ;;
	o) OUT=$OPTARG ;;
	*) echo "usage: $0 [-n COUNT] [-d DEAD_ROUNDS] [-o FILE]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "bench-cluster: needs root" >&2; exit 1; }

TOP=$(cd "$(dirname "$0")/.." && pwd)
export E2E_TOP=$TOP
BATS_TEST_FILENAME=bench-cluster.sh
exec 3>&1
# shellcheck source=/dev/null
source "$TOP/tests/e2e/lib/load.bash"
# shellcheck source=/dev/null
source "$TOP/tests/e2e/lib/cluster.bash"

cleanup() { e2e_teardown_all >/dev/null 2>&1 || true; rm -f "${POLL_OUT:-}"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

e2e_setup_cluster_info() {
	E2E_CLUSTER_ENV_HOOK=bench_env e2e_setup_cluster
}
bench_env() {
	local i
	for i in 1 2 3; do echo "GLUED_LOG=info" >"$E2E_DIR/h$i/cluster_env"; done
	echo "GLUED_BOOTSTRAP_PEERS=$(host_var h1 ip)" >>"$E2E_DIR/h3/cluster_env"
}
e2e_setup_cluster_info || { echo "bench-cluster: setup failed" >&2; exit 1; }

q() { # HOST NAME: the rcode of HOST's answer for NAME A
	cx dig +time=1 +tries=1 @"$(host_var "$1" ip)" "$2" A 2>/dev/null |
		sed -n 's/.*status: \([A-Z]*\),.*/\1/p'
}
now_us() { local t=${EPOCHREALTIME/[.,]/}; echo "$t"; }

# One poller (tools/dns-until, a query every 2 ms to each host) is started
# before the event it times and records when each host first gave the
# wanted answer; time zero is taken when the event's command returns, so
# an answer before that counts as 0 ms.
DNS_UNTIL=$TOP/build/tools/dns-until
[ -x "$DNS_UNTIL" ] || { echo "bench-cluster: $DNS_UNTIL not built (make all)" >&2; exit 1; }
POLL_OUT=$(mktemp /tmp/bench-cluster-poll.XXXXXX)
poll_start() { # TIMEOUT_MS NAME RCODE HOST...
	local t=$1 name=$2 rc=$3 ips=() h
	shift 3
	for h in "$@"; do ips+=("$(host_var "$h" ip)"); done
	cx "$DNS_UNTIL" -t "$t" "$name" "$rc" "${ips[@]}" >"$POLL_OUT" 2>/dev/null &
	POLL_PID=$!
	sleep 0.05 # polling before the event
}
poll_wait() { # T0_US: ms from T0_US to each host's answer into POLL_MS[]
	local t0=$1
	POLL_MS=()
	wait "$POLL_PID" || return 1
	poll_rel "$t0"
}
poll_rel() { # T0_US: POLL_MS[] again, from another time zero
	local t0=$1 ip us ms
	POLL_MS=()
	while read -r ip us; do
		ms=$(((us - t0 + 500) / 1000))
		POLL_MS+=("$((ms < 0 ? 0 : ms))")
	done <"$POLL_OUT"
}
until_both() { # NAME RCODE CMD...: run CMD, wait until h3 and h1 answer RCODE
	local name=$1 want=$2
	shift 2
	poll_start 10000 "$name" "$want" h3 h1
	"$@" >/dev/null || { kill "$POLL_PID" 2>/dev/null; wait "$POLL_PID"; return 2; }
	wait "$POLL_PID"
}
engine_us() { # HOST NAME ACTION SINCE_US: when HOST's engine emitted ACTION for NAME (us)
	local ns
	ns=$(hdocker "$1" events --since "$(($4 / 1000000 - 1))" --until "$(date +%s.%N)" \
		--filter "container=$2" --filter "event=$3" --format '{{.TimeNano}}' | tail -n 1)
	[ -n "$ns" ] && echo $((ns / 1000))
}

# Time zero is the engine's own event: "start" (the container runs) and
# "die" (it stopped; glued withdraws on it), from `docker events`.
prop=() local1=() rem=() fails=0
for ((i = 1; i <= COUNT; i++)); do
	name=bench$i
	since=$(now_us)
	if until_both "$name" NOERROR ctr_run h1 "$name" &&
		t0=$(engine_us h1 "$name" start "$since") && poll_rel "$t0"; then
		prop+=("${POLL_MS[0]}")
		local1+=("${POLL_MS[1]}")
	else
		fails=$((fails + 1))
	fi
	if until_both "$name" NXDOMAIN hdocker h1 rm -f "$name" &&
		t0=$(engine_us h1 "$name" die "$since") && poll_rel "$t0"; then
		rem+=("${POLL_MS[0]}")
	else
		fails=$((fails + 1))
	fi
done

answers() { [ "$(q "$1" "$2")" = NOERROR ]; }
# until_answers NAME HOST...: each HOST answers NAME (NOERROR), within 10 s.
until_answers() {
	local name=$1 h
	shift
	for h in "$@"; do
		wait_until 10 answers "$h" "$name" || return 1
	done
}

# (the loop's stderr is dropped: bash reports every process the harness
# kills as "Killed"; failures are counted and printed below)
dead=() dead_first=() dead_fails=0
for ((i = 1; i <= DEAD; i++)); do
	v=h$(((i + 1) % 3 + 1)) # h3, h1, h2, ...
	others=()
	for h in h1 h2 h3; do [ "$h" = "$v" ] || others+=("$h"); done
	name=deadhost$i
	if ! ctr_run "$v" "$name" || ! until_answers "$name" "${others[@]}"; then
		dead_fails=$((dead_fails + 1))
		continue
	fi
	sleep 2 # every member probes every other again after the last restart
	poll_start 15000 "$name" NXDOMAIN "${others[@]}"
	t0=$(now_us)
	glued_stop "$v" KILL >/dev/null 2>&1
	host_dockerd_kill "$v" KILL >/dev/null 2>&1 &
	kpid=$!
	if poll_wait "$t0"; then
		TA=${POLL_MS[0]} TB=${POLL_MS[1]}
		dead+=("$((TA > TB ? TA : TB))")
		dead_first+=("$((TA < TB ? TA : TB))")
	else
		dead_fails=$((dead_fails + 1))
	fi
	wait "$kpid"
	# the host comes back: dockerd, then glued (a new epoch)
	host_dockerd_start "$v" >/dev/null 2>&1 && hdocker "$v" rm -f "$name" >/dev/null 2>&1
	cluster_glued_start "$v" >/dev/null 2>&1 || dead_fails=$((dead_fails + 1))
done 2>/dev/null

pct() { # LABEL VALUES...: n, p50, p99, max
	local label=$1
	shift
	[ $# -gt 0 ] || { echo "$label: no samples"; return; }
	printf '%s\n' "$@" | sort -n | awk -v l="$label" '{v[NR]=$1} END {
		p50=v[int((NR-1)*0.50)+1]; p99=v[int((NR-1)*0.99)+1];
		printf "%s: n=%d p50=%d ms p99=%d ms max=%d ms\n", l, NR, p50, p99, v[NR] }'
}
{
	echo "# cluster bench: 3 emulated hosts, $COUNT containers, $(date -u +%FT%TZ)"
	pct "propagation h1 start -> h3 answers" "${prop[@]}"
	pct "local h1 start -> h1 answers (Docker event path)" "${local1[@]}"
	pct "removal h1 rm -> h3 NXDOMAIN" "${rem[@]}"
	echo "failures (timeouts > 10 s): $fails"
	if [ "$DEAD" -gt 0 ]; then
		pct "dead host: glued SIGKILL -> both others NXDOMAIN" "${dead[@]}"
		pct "dead host: glued SIGKILL -> the first other NXDOMAIN" "${dead_first[@]}"
		echo "dead-host failures (setup, > 15 s, restart): $dead_fails"
	fi
} | tee ${OUT:+"$OUT"}
[ "$fails" -eq 0 ] && [ "$dead_fails" -eq 0 ]
