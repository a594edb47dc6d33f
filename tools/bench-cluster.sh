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
# Time zero is the moment `docker run -d` (or `docker rm -f`) returns: the
# engine has started (removed) the container and emitted its events; what
# follows is glued's part: the Docker event, the local table, gossip to h3,
# h3's table. For a dead host it is the SIGKILL of glued: what follows is
# failure detection (docs/protocol.md, "Failure detection bound").
# Polling is a dig every ~15 ms from the client machine, so the figures
# carry about that much resolution.
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

cleanup() { e2e_teardown_all >/dev/null 2>&1 || true; }
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
# until_both T0 NAME RCODE: poll h1 and h3 in turn until both say RCODE;
# sets T1 and T3 (ms since T0), fails after 10 s.
until_both() {
	local t0=$1 name=$2 want=$3 now
	T1= T3=
	while [ -z "$T1" ] || [ -z "$T3" ]; do
		[ -z "$T3" ] && [ "$(q h3 "$name")" = "$want" ] && T3=$(($(e2e_now_ms) - t0))
		[ -z "$T1" ] && [ "$(q h1 "$name")" = "$want" ] && T1=$(($(e2e_now_ms) - t0))
		now=$(e2e_now_ms)
		[ $((now - t0)) -lt 10000 ] || return 1
	done
}

prop=() local1=() rem=() fails=0
for ((i = 1; i <= COUNT; i++)); do
	name=bench$i
	ctr_run h1 "$name" || { fails=$((fails + 1)); continue; }
	t0=$(e2e_now_ms)
	if until_both "$t0" "$name" NOERROR; then
		prop+=("$T3")
		local1+=("$T1")
	else
		fails=$((fails + 1))
	fi
	hdocker h1 rm -f "$name" >/dev/null
	t0=$(e2e_now_ms)
	if until_both "$t0" "$name" NXDOMAIN; then
		rem+=("$T3")
	else
		fails=$((fails + 1))
	fi
done

# until_gone T0 NAME HOST HOST: poll both hosts until each says NXDOMAIN for
# NAME; sets TA and TB (ms since T0), fails after 15 s.
until_gone() {
	local t0=$1 name=$2 a=$3 b=$4
	TA='' TB=''
	while [ -z "$TA" ] || [ -z "$TB" ]; do
		[ -z "$TA" ] && [ "$(q "$a" "$name")" = NXDOMAIN ] && TA=$(($(e2e_now_ms) - t0))
		[ -z "$TB" ] && [ "$(q "$b" "$name")" = NXDOMAIN ] && TB=$(($(e2e_now_ms) - t0))
		[ $(($(e2e_now_ms) - t0)) -lt 15000 ] || return 1
	done
}

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
	t0=$(e2e_now_ms)
	glued_stop "$v" KILL >/dev/null 2>&1
	host_dockerd_kill "$v" KILL >/dev/null 2>&1 & # polling starts meanwhile
	kpid=$!
	if until_gone "$t0" "$name" "${others[@]}"; then
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
