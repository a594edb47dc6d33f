#!/usr/bin/env bash
# make demo: a guided three-host glued cluster on this one machine.
#
# Builds three emulated Docker hosts with the e2e harness (tests/e2e/lib:
# a network namespace, a mount namespace, containerd and dockerd each, on
# one LAN), routes their container subnets to each other, runs a few
# containers per host and glued on each, then resolves names on every host
# and across hosts and shows gluedctl peers and names. It stays up until
# Ctrl-C (DEMO_AUTO=1: runs to the end without waiting) and removes
# everything it made on the way out, whatever the exit. Root only.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
export E2E_TOP=$top
lib=$top/tests/e2e/lib
for f in common net host glued dns teardown; do
	# shellcheck source=/dev/null
	source "$lib/$f.bash"
done
GLUEDCTL=$top/build/gluedctl
exec 3>/dev/null # the harness reports to bats' fd 3

bold='' plain=''
if [ -t 1 ]; then
	bold=$(tput bold 2>/dev/null || true)
	plain=$(tput sgr0 2>/dev/null || true)
fi
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$plain"; }
say() { printf '    %s\n' "$*"; }
run() { # show a command, then run it
	printf '    $ %s\n' "$*"
	"$@" 2>&1 | sed 's/^/      /'
}

[ "$(id -u)" = 0 ] || { echo "demo: run as root (namespaces, dockerd)" >&2; exit 1; }
[ -x "$top/build/glued" ] && [ -x "$GLUEDCTL" ] || { echo "demo: run make first" >&2; exit 1; }

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	step "Taking everything down"
	if e2e_teardown_all; then
		say "demo: everything removed (prefix $E2E_PREFIX)"
	else
		say "demo: something was left behind; tools/e2e-clean.sh removes it"
		rc=1
	fi
	exit $rc
}

e2e_init
trap cleanup EXIT
trap 'exit 130' INT TERM

SECRET=demo-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
TOPIC=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
HOSTS=(1 2 3)
declare -A CTRS=([1]="web db" [2]="api cache" [3]="worker")

step "A LAN (10.231.0.0/24), a client machine and an upstream resolver"
lan_create && client_create && upstream_create || exit 1
say "client 10.231.0.100, upstream dnsmasq 10.231.0.53 (host.example.test → 192.0.2.10)"

for n in "${HOSTS[@]}"; do
	step "Docker host h$n: namespaces, containerd, dockerd, network glued_net"
	t0=$(e2e_now_ms)
	host_create "$n" || exit 1
	say "h$n: LAN $(host_var "h$n" ip), glued_net $(host_var "h$n" subnet4) (gateway $(host_var "h$n" gw4)), ready in $(($(e2e_now_ms) - t0)) ms"
done

step "Routing the container subnets between the hosts (what WireGuard or routes do for real)"
for n in "${HOSTS[@]}"; do
	hx "h$n" sysctl -qw net.ipv4.ip_forward=1
	for m in "${HOSTS[@]}"; do
		[ "$n" = "$m" ] && continue
		hx "h$n" ip route add "$(host_var "h$m" subnet4)" via "$(host_var "h$m" ip)"
	done
	say "h$n: $(hx "h$n" ip -4 route show | grep -c via) routes to the other hosts' containers"
done

step "A few containers per host, using glued through --dns <gateway>"
for n in "${HOSTS[@]}"; do
	for c in ${CTRS[$n]}; do
		ctr_run "h$n" "$c" --dns "$(host_var "h$n" gw4)" || exit 1
		say "h$n: $c $(ctr_ip "h$n" "$c")"
	done
done

step "glued on every host (same secret and topic, the others as bootstrap peers)"
for n in "${HOSTS[@]}"; do
	peers=()
	for m in "${HOSTS[@]}"; do [ "$n" = "$m" ] || peers+=("$(host_var "h$m" ip)"); done
	glued_start "h$n" GLUED_LOG=info GLUED_CLUSTER_SECRET="$SECRET" GLUED_TOPIC_ID="$TOPIC" \
		GLUED_BOOTSTRAP_PEERS="$(IFS=,; echo "${peers[*]}")" || exit 1
	say "h$n: glued pid $(glued_pid "h$n"), control socket $(host_var "h$n" dir)/ctl.sock"
done

ctl() { # HOST ARGS...
	local h=$1
	shift
	GLUED_CTL_SOCKET=$(host_var "$h" dir)/ctl.sock "$GLUEDCTL" "$@"
}

step "Each host answers its own containers' names"
for n in "${HOSTS[@]}"; do
	for c in ${CTRS[$n]}; do
		DQ_HOST=h$n wait_until 5 dns_is A "$c" "NOERROR $(ctr_ip "h$n" "$c")" >/dev/null 2>&1 ||
			say "h$n does not answer $c yet"
		run cx dig +short @"$(host_var "h$n" ip)" "$c" A
	done
done

cluster=$(ctl h1 peers --json | jq -r .cluster)
step "Names across hosts: h1's glued asked for h2's and h3's containers"
if [ "$cluster" = true ]; then
	ok=0 total=0
	for n in 2 3; do
		for c in ${CTRS[$n]}; do
			total=$((total + 1))
			if DQ_HOST=h1 wait_until 15 dns_is A "$c" "NOERROR $(ctr_ip "h$n" "$c")" >/dev/null; then
				ok=$((ok + 1))
			fi
			run cx dig +short @"$(host_var h1 ip)" "$c" A
		done
	done
	say "$ok of $total names of other hosts resolved through h1"
	step "From inside a container on h1: web asks for api (on h2) and pings it"
	run hdocker h1 exec web nslookup api
	run hdocker h1 exec web ping -c 1 -W 2 api
	DEMO_CROSS=$ok/$total
else
	say "This build of glued has no gossip edge yet (gluedctl peers: no cluster):"
	say "each host answers only its own names, so h2's api is NXDOMAIN on h1."
	run cx dig +short @"$(host_var h1 ip)" api A
	DQ_HOST=h1 dq api A >/dev/null
	say "h1 says: $(dq_rcode) for api"
	DEMO_CROSS=none
fi

step "gluedctl on h1"
run ctl h1 status
run ctl h1 peers
run ctl h1 names
run ctl h1 lookup api

step "The demo is up: DEMO_CROSS=$DEMO_CROSS"
say "try:  GLUED_CTL_SOCKET=$(host_var h1 dir)/ctl.sock $GLUEDCTL names"
say "      ip netns exec $(e2e_ns cli) dig @$(host_var h2 ip) api"
say "      DOCKER_HOST=unix://$(host_var h1 dir)/docker.sock docker ps"
if [ -n "${DEMO_AUTO:-}" ]; then
	say "DEMO_AUTO is set: stopping now"
	exit 0
fi
say "Ctrl-C stops it and removes everything."
while :; do sleep 3600; done
