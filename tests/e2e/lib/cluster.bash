# e2e harness, cluster part: several emulated Docker hosts on the LAN, each
# with its own glued_net subnet (host N: 10.213.N.0/24, fd00:e2e:N::/64, set
# by host_create), routes between the hosts' container subnets over the LAN,
# and glued on every host joined into one gossip cluster. Load it after
# lib/load:  load lib/load; load lib/cluster
#
# Every glued of the cluster gets GLUED_CLUSTER_SECRET=$E2E_SECRET and
# GLUED_TOPIC_ID=$E2E_TOPIC (fresh per file) unless the test overrides them;
# per-host extra settings live in $E2E_DIR/hN/cluster_env (one VAR=VALUE a
# line) so a restart gets them back.

E2E_CLUSTER_HOSTS=${E2E_CLUSTER_HOSTS:-3}

# cluster_engine N: the engine of host N, the Nth word of $E2E_HOST_ENGINES
# (lib/engine.bash; default docker, as for every host before engines).
cluster_engine() {
	local e
	read -r -a e <<<"${E2E_HOST_ENGINES:-}"
	echo "${e[$(($1 - 1))]:-docker}"
}

# cluster_routes N: on every host, a route to every other host's container
# subnets via that host's LAN address; forwarding on, so containers of
# different hosts reach each other with their real addresses.
cluster_routes() {
	local n=$1 i j ns
	for ((i = 1; i <= n; i++)); do
		ns=$(host_var "h$i" ns)
		ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
		for ((j = 1; j <= n; j++)); do
			[ "$i" = "$j" ] && continue
			ip -n "$ns" route replace "$(host_var "h$j" subnet4)" via "$(host_var "h$j" ip)" ||
				return 1
			ip -n "$ns" -6 route replace "$(host_var "h$j" subnet6)" \
				via "$(host_var "h$j" ip6)" || return 1
		done
	done
}

# cluster_env HOST: the glued settings of HOST in the cluster (defaults, then
# the host's own lines).
cluster_env() {
	local h=$1
	echo "GLUED_CLUSTER_SECRET=$E2E_SECRET"
	echo "GLUED_TOPIC_ID=$E2E_TOPIC"
	echo "GLUED_GOSSIP_BIND=0.0.0.0:7947"
	[ -f "$E2E_DIR/$h/cluster_env" ] && cat "$E2E_DIR/$h/cluster_env"
	return 0
}

# cluster_glued_start HOST [VAR=VALUE...]: glued_start with the cluster's
# settings, then the given overrides.
cluster_glued_start() {
	local h=$1 envs
	shift
	mapfile -t envs < <(cluster_env "$h")
	glued_start "$h" "${envs[@]}" "$@"
}

cluster_glued_restart() {
	local h=$1
	shift
	glued_stop "$h" && cluster_glued_start "$h" "$@"
}

# node_id HOST: the node ID glued logged at its last start.
node_id() {
	sed -n 's/.*Gossip endpoint created node_id=\([0-9a-f]\{64\}\) .*/\1/p' \
		"$E2E_DIR/$1/glued.log" | tail -n 1
}

# e2e_setup_cluster: LAN, client, upstream, hosts h1..hN (the first one alone,
# it builds the image; the others in parallel), routes, glued everywhere.
# Extra settings per host can be written to $E2E_DIR/hN/cluster_env by the
# caller's E2E_CLUSTER_ENV_HOOK (a function name) before glued starts.
e2e_setup_cluster() {
	local n=$E2E_CLUSTER_HOSTS i rc=0 pids=()
	e2e_init
	export E2E_SECRET E2E_TOPIC
	E2E_SECRET=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
	E2E_TOPIC=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
	e2e_step lan lan_create &&
		ip -n "$(e2e_ns lan)" link set br0 type bridge mcast_snooping 0 &&
		e2e_step client client_create &&
		e2e_step upstream upstream_create &&
		host_create 1 "$(cluster_engine 1)" || rc=$?
	if [ $rc -eq 0 ]; then
		for ((i = 2; i <= n; i++)); do
			host_create "$i" "$(cluster_engine "$i")" >"$E2E_DIR/h$i.create.log" 2>&1 &
			pids+=($!)
		done
		for i in "${pids[@]}"; do wait "$i" || rc=1; done
		for ((i = 2; i <= n; i++)); do cat "$E2E_DIR/h$i.create.log" >&2; done
	fi
	[ $rc -eq 0 ] && e2e_step routes cluster_routes "$n" || rc=1
	if [ $rc -eq 0 ] && [ -n "${E2E_CLUSTER_ENV_HOOK:-}" ]; then
		"$E2E_CLUSTER_ENV_HOOK" || rc=1
	fi
	for ((i = 1; i <= n && rc == 0; i++)); do
		e2e_step "glued.h$i" cluster_glued_start "h$i" || rc=1
	done
	echo "# $(basename "$BATS_TEST_FILENAME"): setup $(e2e_timings_line)" >&3
	if [ $rc -ne 0 ]; then
		for ((i = 1; i <= n; i++)); do e2e_dump "h$i"; done
		return 1
	fi
}

# Per-test teardown for the cluster: dump every host on failure, put back
# what a test stopped (dockerd, glued with the cluster settings, a LAN link),
# remove every container.
e2e_teardown_cluster_test() {
	local n=$E2E_CLUSTER_HOSTS i h
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		touch "$E2E_DIR/failed"
		for ((i = 1; i <= n; i++)); do e2e_dump "h$i"; done
	fi
	# Host by host in parallel: each mostly waits for its own engine. (Only
	# these jobs are waited for: daemons started by this shell are too.)
	local jobs=()
	for ((i = 1; i <= n; i++)); do
		h=h$i
		ip -n "$(e2e_ns lan)" link set "p$((10 + i))" up 2>/dev/null
		{
			host_engine_ready "$h" || host_engine_start "$h" || true
			ctr_rm_all "$h" || true
		} &
		jobs+=($!)
	done
	wait "${jobs[@]}"
	e2e_pid_alive "$(e2e_pid_of dnsmasq)" || upstream_start || true
	for ((i = 1; i <= n; i++)); do
		h=h$i
		if [ -e "$E2E_DIR/$h/restore_glued" ] || ! glued_alive "$h"; then
			rm -f "$E2E_DIR/$h/restore_glued"
			glued_alive "$h" && glued_stop "$h"
			cluster_glued_start "$h" || true
		fi
	done
}

# dns_on HOST TYPE NAME EXPECTED / expect_dns_on TIMEOUT HOST TYPE NAME EXPECTED:
# dns_is / expect_dns asked of HOST's glued (from the client).
dns_on() {
	local DQ_HOST=$1
	shift
	dns_is "$@"
}

expect_dns_on() {
	local t=$1 DQ_HOST=$2
	shift 2
	expect_dns "$t" "$@"
}

# expect_dns_all TIMEOUT TYPE NAME EXPECTED: on every host of the cluster.
expect_dns_all() {
	local t=$1 i
	shift
	for ((i = 1; i <= E2E_CLUSTER_HOSTS; i++)); do
		expect_dns_on "$t" "h$i" "$@" || {
			echo "(on h$i)" >&2
			return 1
		}
	done
}

# ms_until TIMEOUT_S CMD...: poll CMD every 20 ms; prints the milliseconds it
# took, fails after TIMEOUT_S.
ms_until() {
	local t0 deadline
	t0=$(e2e_now_ms)
	deadline=$((t0 + $1 * 1000))
	shift
	while ! "$@"; do
		[ "$(e2e_now_ms)" -lt $deadline ] || return 1
		sleep 0.02
	done
	echo $(($(e2e_now_ms) - t0))
}

# lan_link HOST up|down: the host's port on the LAN bridge (a partition).
lan_link() {
	ip -n "$(e2e_ns lan)" link set "p$(($(host_var "$1" ip | sed 's/.*\.//')))" "$2"
}

# log_since_start HOST PATTERN: PATTERN in HOST's glued log since its last start.
log_since_start() {
	sed -n '/=== .* glued start: /h; //!H; ${x;p}' "$E2E_DIR/$1/glued.log" | grep -q -- "$2"
}

# ctl_json HOST ARGS...: gluedctl --json (E2E_GLUEDCTL, default
# build/gluedctl) against HOST's glued.
ctl_json() {
	local h=$1
	shift
	GLUED_CTL_SOCKET="$E2E_DIR/$h/ctl.sock" "${E2E_GLUEDCTL:-$E2E_TOP/build/gluedctl}" --json "$@"
}

# gossip_counter HOST NAME: a gossip counter of HOST's glued.
gossip_counter() {
	ctl_json "$1" stats | jq -r --arg n "$2" '.gossip[$n]'
}
