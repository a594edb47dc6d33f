#!/usr/bin/env bats
# The names subset against every container engine glued is meant to work
# with, in one cluster: h1 runs Debian 12's Docker 20.10 (API 1.41), h2
# Debian 13's Docker 26.1 (API 1.45, DNSNames), h3 Debian 12's Podman 4.3 and
# h4 Debian 13's Podman 5.4, both through their Docker-compatible socket
# (lib/engine.bash; the trixie engines run from a cached Debian 13 root,
# tools/engine-trixie-root.sh). Each test does the same thing on every host
# and says which engine failed. E2E_ENGINES="docker podman" runs a subset.
# What differs between the engines is in docs/engines.md.

E2E_ENGINES=${E2E_ENGINES:-docker docker26 podman podman5}
E2E_HOST_ENGINES=$E2E_ENGINES
E2E_CLUSTER_HOSTS=$(wc -w <<<"$E2E_ENGINES")
export E2E_HOST_ENGINES E2E_CLUSTER_HOSTS

load lib/load
load lib/cluster

hosts() { seq -f 'h%g' 1 "$E2E_CLUSTER_HOSTS"; }

# Podman answers its containers' DNS with aardvark-dns on each network's
# gateway address, port 53. With glued on 0.0.0.0:53 first, Podman 5.4's
# aardvark-dns cannot bind ("Address already in use") and no container
# starts on any DNS-enabled network (4.3's shares the port). On Podman
# hosts glued therefore listens on the host's own address (docs/engines.md).
podman_bind() {
	local h
	for h in $(hosts); do
		case $(host_engine "$h") in
		podman*) echo "GLUED_DNS_BIND=$(host_var "$h" ip):53" >"$E2E_DIR/$h/cluster_env" ;;
		esac
	done
}
E2E_CLUSTER_ENV_HOOK=podman_bind

setup_file() {
	e2e_setup_cluster || return 1
	local h
	for h in $(hosts); do
		hdocker "$h" network create --subnet "10.214.${h#h}.0/24" side_net >/dev/null || return 1
		echo "# $h: $(host_engine "$h") $(host_engine_version "$h")" >&3
	done
}

teardown_file() { e2e_teardown_all; }
teardown() { e2e_teardown_cluster_test; }

# on HOST CMD...: run CMD, and on failure say which engine it was.
on() {
	local h=$1
	shift
	"$@" || {
		echo "(on $h: $(host_engine "$h"))" >&2
		return 1
	}
}

# par FN: FN hN on every host at once (each engine's work is mostly waiting
# for that engine); fails if any failed, naming the engine. FN chains its
# steps with || return 1: errexit does not reach into the background jobs.
par() {
	local fn=$1 h pids=() rc=0 i=0
	for h in $(hosts); do
		(
			set +e
			trap - ERR
			"$fn" "$h"
		) &
		pids+=($!)
	done
	for h in $(hosts); do
		wait "${pids[i]}" || {
			echo "(on $h: $(host_engine "$h"))" >&2
			rc=1
		}
		i=$((i + 1))
	done
	return $rc
}

@test "each host runs the engine it names, and glued speaks the newest API both know" {
	local h want api
	for h in $(hosts); do
		case $(host_engine "$h") in
		docker) want='^20\.10\..* API 1\.41$' api=1.41 ;;
		docker26) want='^26\.1\..* API 1\.45$' api=1.44 ;;
		podman) want='^4\.3\..* API 1\.41$' api=1.41 ;;
		podman5) want='^5\.4\..* API 1\.41$' api=1.41 ;;
		esac
		assert_match "$(host_engine_version "$h")" "$want" "engine of $h"
		# Docker 26 says 1.45: glued asks for 1.44, the first with DNSNames.
		grep -q "docker: connected to .* (API $api)" "$E2E_DIR/$h/glued.log" ||
			fail "$h: glued did not connect with API $api"
	done
}

run_stop_rm() {
	local h=$1 ip
	ctr_run "$h" "st-$h" --network-alias "st-$h-alias" || return 1
	ip=$(ctr_ip "$h" "st-$h")
	expect_dns_on 5 "$h" A "st-$h" "NOERROR $ip" || return 1
	expect_dns_on 5 "$h" A "st-$h-alias" "NOERROR $ip" || return 1
	expect_dns_on 5 "$h" AAAA "st-$h" "NOERROR $(ctr_ip6 "$h" "st-$h")" || return 1
	hdocker "$h" stop -t 1 "st-$h" >/dev/null || return 1
	expect_dns_on 5 "$h" A "st-$h" NXDOMAIN || return 1
	expect_dns_on 5 "$h" A "st-$h-alias" NXDOMAIN || return 1
	hdocker "$h" start "st-$h" >/dev/null || return 1
	ip=$(ctr_ip "$h" "st-$h")
	expect_dns_on 5 "$h" A "st-$h-alias" "NOERROR $ip" || return 1
	hdocker "$h" rm -f "st-$h" >/dev/null || return 1
	expect_dns_on 5 "$h" A "st-$h" NXDOMAIN || return 1
	expect_dns_on 5 "$h" A "st-$h-alias" NXDOMAIN
}

@test "name and alias appear on run and leave on stop and on rm -f, on every engine" {
	par run_stop_rm
}

rename_one() {
	local h=$1 ip
	ctr_run "$h" "old-$h" || return 1
	ip=$(ctr_ip "$h" "old-$h")
	expect_dns_on 5 "$h" A "old-$h" "NOERROR $ip" || return 1
	hdocker "$h" rename "old-$h" "new-$h" || return 1
	expect_dns_on 5 "$h" A "new-$h" "NOERROR $ip" || return 1
	expect_dns_on 5 "$h" A "old-$h" NXDOMAIN
}

@test "rename re-publishes under the new name and drops the old, on every engine" {
	par rename_one
}

connect_disconnect() {
	local h=$1 ip
	ctr_run "$h" "nc-$h" --network side_net || return 1
	dns_on "$h" A "nc-$h" NXDOMAIN || return 1
	hdocker "$h" network connect --alias "nc-$h-alias" glued_net "nc-$h" || return 1
	ip=$(ctr_ip "$h" "nc-$h")
	expect_dns_on 5 "$h" A "nc-$h" "NOERROR $ip" || return 1
	expect_dns_on 5 "$h" A "nc-$h-alias" "NOERROR $ip" || return 1
	# Within 5 s, so well before the 30 s resync: the event did it.
	hdocker "$h" network disconnect glued_net "nc-$h" || return 1
	expect_dns_on 5 "$h" A "nc-$h" NXDOMAIN || return 1
	expect_dns_on 5 "$h" A "nc-$h-alias" NXDOMAIN || return 1
	assert_eq "$(hdocker "$h" inspect -f '{{.State.Running}}' "nc-$h")" true \
		"nc-$h still running on side_net"
}

@test "network disconnect withdraws and connect publishes, on every engine" {
	par connect_disconnect
	# No watchdog tear-down: every change came from the event stream.
	for h in $(hosts); do
		! grep -q "did not report" "$E2E_DIR/$h/glued.log" ||
			fail "$h ($(host_engine "$h")): the resync found changes the stream missed"
	done
}

cross_run() { ctr_run "$1" "x-$1" --network-alias "x-$1-alias"; }
cross_check() {
	local h=$1 ip
	ip=$(ctr_ip "$h" "x-$h")
	expect_dns_all 10 A "x-$h" "NOERROR $ip" || return 1
	expect_dns_all 5 A "x-$h-alias" "NOERROR $ip"
}
cross_rm() {
	hdocker "$1" rm -f "x-$1" >/dev/null || return 1
	expect_dns_all 10 A "x-$1" NXDOMAIN
}

@test "cross-host: each engine's containers are answered by every other host" {
	local last=h$E2E_CLUSTER_HOSTS
	par cross_run
	par cross_check
	# And containers reach each other across hosts by those addresses.
	hdocker h1 exec x-h1 ping -c 1 -W 2 "$(ctr_ip "$last" "x-$last")" >/dev/null ||
		fail "x-h1 cannot reach x-$last on $(host_engine "$last")"
	par cross_rm
}

# After an engine restart: every running container on glued_net is answered
# with the address the engine reports, every name in "$@" that no longer
# runs is NXDOMAIN.
answers_match_engine() {
	local h=$1 name ip
	shift
	while read -r name; do
		ip=$(ctr_ip "$h" "$name")
		dns_on "$h" A "$name" "NOERROR $ip" || return 1
	done < <(hdocker "$h" ps --filter network=glued_net --format '{{.Names}}')
	for name in "$@"; do
		hdocker "$h" ps --filter network=glued_net --format '{{.Names}}' | grep -qx "$name" &&
			continue
		dns_on "$h" A "$name" NXDOMAIN || return 1
	done
}

engine_restart() {
	local h=$1 ip t0
	ctr_run "$h" "keep-$h" || return 1
	ip=$(ctr_ip "$h" "keep-$h")
	expect_dns_on 5 "$h" A "keep-$h" "NOERROR $ip" || return 1
	host_engine_kill "$h" KILL
	! host_engine_ready "$h" || fail "$h: the engine answers after SIGKILL" || return 1
	dns_on "$h" A "keep-$h" "NOERROR $ip" || fail "keep-$h while the engine is down" ||
		return 1
	t0=$(e2e_now_ms)
	host_engine_start "$h" || return 1
	ctr_run "$h" "after-$h" || return 1
	ip=$(ctr_ip "$h" "after-$h")
	expect_dns_on 15 "$h" A "after-$h" "NOERROR $ip" || return 1
	echo "# $h ($(host_engine "$h")): a container run after the restart answered" \
		"$(($(e2e_now_ms) - t0)) ms after the engine's start" >&3
	wait_until 10 answers_match_engine "$h" "keep-$h" ||
		fail "answers do not match the engine's list" || return 1
	glued_alive "$h" || fail "$h: glued exited"
}

@test "engine killed and restarted: glued keeps answering, reconnects, matches the engine" {
	par engine_restart
}

podman_socket() {
	local h=$1 ip envs
	[[ $(host_engine "$h") == podman* ]] || return 0
	touch "$E2E_DIR/$h/restore_glued"
	# Where podman.socket puts it (the host's /run is its own tmpfs, so
	# there is no /var/run/docker.sock).
	hx "$h" sh -c "mkdir -p /run/podman && ln -sf '$E2E_DIR/$h/docker.sock' /run/podman/podman.sock" ||
		return 1
	glued_stop "$h" || return 1
	mapfile -t envs < <(cluster_env "$h")
	glued_start "$h" "${envs[@]}" -DOCKER_HOST || return 1
	wait_until 5 grep -q "docker: connected to /run/podman/podman.sock" "$E2E_DIR/$h/glued.log" ||
		fail "$h: glued did not connect to Podman's socket" || return 1
	ctr_run "$h" "ps-$h" || return 1
	ip=$(ctr_ip "$h" "ps-$h")
	expect_dns_on 5 "$h" A "ps-$h" "NOERROR $ip" || return 1
	hx "$h" rm -f /run/podman/podman.sock
}

@test "Podman: without DOCKER_HOST glued finds /run/podman/podman.sock when no Docker socket" {
	[[ " $E2E_ENGINES " == *" podman"* ]] || skip "no Podman host in E2E_ENGINES"
	par podman_socket
}
