#!/usr/bin/env bats
# The container fast path (docs/container-fastpath.md): glued puts
# glued_ctr_dns on the lo of every container on glued_net, so a query to
# Docker's 127.0.0.11 is answered in the container's own netns before
# dockerd sees it. Two Docker hosts in one cluster; the containers asking
# run on h1 with --dns <h1's glued_net gateway> (dockerd forwards what it
# does not know to glued). Which path answered is proven by the program's
# own counters (the pinned glued_ctr_stats) and by the container netns's
# UDP InDatagrams: a query the kernel answers delivers one datagram there
# (the reply, to nslookup); one dockerd answers delivers at least two (the
# query to dockerd's socket, the reply), plus glued's reply to dockerd's
# forward. Also: names the program does not know, docker restart, glued
# restart (no query fails), glued killed (dockerd answers after the
# liveness deadline), route_localnet reset by hand, a non-root container
# with no capabilities, and no pin left behind.

# The engines of h1 (the one asking) and h2 (lib/engine.bash): Debian 12's
# Docker 20.10 on both; run as 46-container-docker26.bats (a link to this
# file), h1 runs Debian 13's Docker 26.1. E2E_CTR_ENGINES overrides both.
case $BATS_TEST_FILENAME in
*docker26*) E2E_HOST_ENGINES=${E2E_CTR_ENGINES:-docker26 docker} ;;
*) E2E_HOST_ENGINES=${E2E_CTR_ENGINES:-docker docker} ;;
esac
export E2E_HOST_ENGINES

load lib/load
load lib/cluster
load lib/ctr

E2E_CLUSTER_HOSTS=2
PIN=/sys/fs/bpf/glued
GLUEDCTL=${E2E_GLUEDCTL:-$E2E_TOP/build/gluedctl}
PROPAGATE_S=3
GRACE_S=10 # FP_GRACE_S: the program answers this long after glued's last refresh

both_fastpath() {
	echo "GLUED_XDP=on" >"$E2E_DIR/h1/cluster_env"
	echo "GLUED_XDP=on" >"$E2E_DIR/h2/cluster_env"
}

setup_file() {
	E2E_CLUSTER_ENV_HOOK=both_fastpath e2e_setup_cluster || return 1
	ctr_share_exec_root h1 || return 1
	echo "# h1: $(host_engine h1) $(host_engine_version h1)" >&3
}
teardown_file() { e2e_teardown_all; }
teardown() {
	[ -n "${BATS_TEST_COMPLETED:-}" ] || ctr_dump
	e2e_teardown_cluster_test
}

ctr_dump() {
	{
		echo "-- h1 $PIN/ctr:"
		hx h1 ls -l "$PIN/ctr" 2>&1
		echo "-- h1 gluedctl status:"
		GLUED_CTL_SOCKET="$(host_var h1 dir)/ctl.sock" "$GLUEDCTL" status 2>&1
		echo "-- h1 container counters:"
		hx h1 bpftool -j map dump pinned "$PIN/ctr_stats" 2>&1 |
			jq -c '.[0].formatted.values | map(.value) | reduce .[] as $v ({};
				reduce ($v | keys[]) as $k (.; .[$k] += $v[$k])) | with_entries(select(.value > 0))' 2>&1
		echo "-- h1 glued log (container lines):"
		grep -a 'container' "$E2E_DIR/h1/glued.log" | tail -n 30
	} >&2
}

# cstat FIELD: glued_ctr_stats.FIELD on h1, summed over CPUs.
cstat() {
	hx h1 bpftool -j map dump pinned "$PIN/ctr_stats" |
		jq ".[0].formatted.values | map(.value.$1) | add"
}

sandbox() { hdocker "$1" inspect -f '{{.NetworkSettings.SandboxKey}}' "$2"; }
ctr_id() { hdocker "$1" inspect -f '{{.Id}}' "$2"; }

# in_ctr_ns HOST CTR CMD...: CMD in the container's netns (the host's mounts).
in_ctr_ns() {
	local h=$1 c=$2 sb
	shift 2
	sb=$(sandbox "$h" "$c") || return 1
	hx "$h" nsenter --net="$sb" -- "$@"
}

# udp_in CTR: UDP InDatagrams of h1's container CTR's netns.
udp_in() {
	in_ctr_ns h1 "$1" cat /proc/net/snmp | awk '$1 == "Udp:" && $2 ~ /^[0-9]+$/ {print $2}'
}

localnet() {
	in_ctr_ns h1 "$1" cat /proc/sys/net/ipv4/conf/lo/route_localnet
}

# ctr_state CTR: the state h1's glued reports for CTR ("served", "pending",
# "localnet_reset", ...).
ctr_state() {
	local id
	id=$(ctr_id h1 "$1" | cut -c1-12)
	GLUED_CTL_SOCKET="$(host_var h1 dir)/ctl.sock" "$GLUEDCTL" status --json |
		jq -r --arg id "$id" '.fastpath.containers.list[] | select(.id == $id) | .state'
}
served() { [ "$(ctr_state "$1")" = served ]; }
state_is() { [ "$(ctr_state "$1")" = "$2" ]; }

# loop_done CTR N: the query loop in CTR ran N queries.
loop_done() {
	[ "$(hdocker h1 exec "$1" sh -c 'wc -l </tmp/done' 2>/dev/null || echo 0)" -ge "$2" ]
}

# lookup CTR NAME: the IPv4 address nslookup prints for NAME inside h1's CTR,
# asking 127.0.0.11 (what the container's resolv.conf names; said outright
# because this harness's chrooted Docker 26 hands containers the host's
# resolv.conf instead of its own, though it sets up 127.0.0.11 all the same).
lookup() {
	hdocker h1 exec "$1" nslookup -type=a "$2" 127.0.0.11 2>/dev/null |
		awk '/^Name:/ {n = 1} n && /^Address: / {print $2; exit}'
}

# asker NAME [docker run options]: a container on h1 asking through dockerd,
# which forwards to h1's glued; waits until glued serves it in-container.
asker() {
	local n=$1
	shift
	ctr_run h1 "$n" --dns "$(host_var h1 gw4)" "$@"
	wait_until 10 served "$n" || fail "$n: not served in-container: $(ctr_state "$n")"
}

# remote NAME: a container on h2, known on h1 (by gossip) within PROPAGATE_S;
# its address in $rip.
remote() {
	ctr_run h2 "$1"
	rip=$(ctr_ip h2 "$1")
	expect_dns_on $PROPAGATE_S h1 A "$1" "NOERROR $rip"
}

@test "a container resolves a name of another host in its own netns: dockerd sees nothing" {
	remote far1
	asker ask1
	[ "$(localnet ask1)" = 1 ] || fail "route_localnet not set in ask1's netns"
	a0=$(cstat answered)
	u0=$(udp_in ask1)
	for i in 1 2 3 4 5; do
		got=$(lookup ask1 far1)
		[ "$got" = "$rip" ] || fail "nslookup far1 #$i: '$got', want $rip"
	done
	a1=$(cstat answered)
	u1=$(udp_in ask1)
	echo "glued_ctr_stats answered $a0 -> $a1; ask1 netns Udp InDatagrams $u0 -> $u1"
	[ $((a1 - a0)) -eq 5 ] || fail "the program answered $((a1 - a0)) of 5"
	# one datagram per query: nslookup's reply; dockerd's socket got none
	[ $((u1 - u0)) -eq 5 ] || fail "$((u1 - u0)) UDP datagrams delivered in ask1's netns, want 5"
	id=$(ctr_id h1 ask1)
	hx h1 test -e "$PIN/ctr/$id" || fail "no pin $PIN/ctr/$id"
	out=$(GLUED_CTL_SOCKET="$(host_var h1 dir)/ctl.sock" "$GLUEDCTL" status)
	echo "$out"
	grep -Eq '^ *containers +on: [1-9][0-9]* served in-container, 0 fell back' <<<"$out" ||
		fail "gluedctl status: no containers row with ask1 served"
}

@test "dockerd answers what the program does not know (a container on a second network), and when it answers, dockerd's socket sees the query" {
	remote far2
	hdocker h1 network create --driver bridge --subnet 10.214.9.0/24 side_net >/dev/null
	ctr_run h1 other2 --network side_net
	oip=$(ctr_ip h1 other2 side_net)
	asker ask2
	hdocker h1 network connect side_net ask2
	p0=$(cstat miss)
	u0=$(udp_in ask2)
	got=$(lookup ask2 other2)
	u1=$(udp_in ask2)
	hdocker h1 rm -f other2 >/dev/null
	hdocker h1 network disconnect side_net ask2 >/dev/null 2>&1 || true
	hdocker h1 network rm side_net >/dev/null 2>&1 || true
	[ "$got" = "$oip" ] || fail "other2 through dockerd: '$got', want $oip"
	[ "$(cstat miss)" -gt "$p0" ] || fail "the program did not pass other2 on as a miss"
	[ $((u1 - u0)) -ge 2 ] || fail "dockerd answered: $((u1 - u0)) datagrams, want >= 2"
	[ "$(lookup ask2 far2)" = "$rip" ] || fail "far2 still answered"
}

@test "docker restart: a new netns, served again; the old pin replaced" {
	remote far3
	asker ask3
	sb0=$(sandbox h1 ask3)
	hdocker h1 restart -t 1 ask3 >/dev/null
	wait_until 10 served ask3 || fail "not served after the restart: $(ctr_state ask3)"
	[ "$(localnet ask3)" = 1 ] || fail "route_localnet not set in the new netns"
	a0=$(cstat answered)
	[ "$(lookup ask3 far3)" = "$rip" ] || fail "far3 after the restart"
	[ "$(cstat answered)" -gt "$a0" ] || fail "the program did not answer after the restart"
	echo "netns $sb0 -> $(sandbox h1 ask3)"
}

@test "glued restarted: answers never stop, the pinned link is adopted" {
	remote far4
	asker ask4
	# A query loop in the container through the restart: no failure at all.
	hdocker h1 exec -d ask4 sh -c 'i=0; while [ $i -lt 400 ]; do
		nslookup -type=a far4 127.0.0.11 >/dev/null 2>&1 || echo FAIL >>/tmp/fails
		echo x >>/tmp/done; i=$((i + 1)); usleep 20000; done'
	sleep 1
	touch "$E2E_DIR/h1/restore_glued"
	cluster_glued_restart h1
	wait_until 10 served ask4 || fail "not served after glued's restart: $(ctr_state ask4)"
	wait_until 30 loop_done ask4 400 || true
	n=$(hdocker h1 exec ask4 sh -c 'cat /tmp/done | wc -l')
	f=$(hdocker h1 exec ask4 sh -c 'cat /tmp/fails 2>/dev/null | wc -l')
	echo "$n queries, $f failed"
	[ "$n" -gt 100 ] || fail "the loop ran $n queries"
	[ "$f" -eq 0 ] || fail "$f of $n queries failed across glued's restart"
	log=$(sed -n '/=== .* glued start: /h; //!H; ${x;p}' "$E2E_DIR/h1/glued.log")
	grep -q "container $(ctr_id h1 ask4 | cut -c1-12): answering in its netns (tcx on lo egress, adopted" <<<"$log" ||
		fail "the restarted glued did not adopt ask4's link"
}

@test "glued killed: the program answers until the liveness deadline, then dockerd does" {
	ctr_run h1 near5
	nip=$(ctr_ip h1 near5)
	asker ask5
	a0=$(cstat answered)
	[ "$(lookup ask5 near5)" = "$nip" ] || fail "near5 before the kill"
	[ "$(cstat answered)" -gt "$a0" ] || fail "the program did not answer near5"
	touch "$E2E_DIR/h1/restore_glued"
	glued_stop h1 KILL || true
	s0=$(cstat stale)
	sleep $((GRACE_S + 1))
	a1=$(cstat answered)
	[ "$(lookup ask5 near5)" = "$nip" ] || fail "near5 from dockerd after the deadline"
	[ "$(cstat answered)" -eq "$a1" ] || fail "the program still answers after the deadline"
	[ "$(cstat stale)" -gt "$s0" ] || fail "the program did not count the query as stale"
}

@test "route_localnet reset by hand: glued detaches there and dockerd answers" {
	remote far6
	asker ask6
	in_ctr_ns h1 ask6 sysctl -qw net.ipv4.conf.lo.route_localnet=0
	wait_until 10 state_is ask6 localnet_reset ||
		fail "not reported as localnet_reset: $(ctr_state ask6)"
	grep -q "container $(ctr_id h1 ask6 | cut -c1-12): route_localnet was turned off" \
		"$E2E_DIR/h1/glued.log" || fail "no log line for the reset"
	a0=$(cstat answered)
	[ "$(lookup ask6 far6)" = "$rip" ] || fail "far6 through dockerd after the reset"
	[ "$(cstat answered)" -eq "$a0" ] || fail "the program still answered in ask6"
	hx h1 test ! -e "$PIN/ctr/$(ctr_id h1 ask6)" || fail "ask6's pin is still there"
	[ "$(localnet ask6)" = 0 ] || fail "glued turned route_localnet back on"
}

@test "a non-root container with every capability dropped is served" {
	remote far7
	asker ask7 --user 1000:1000 --cap-drop ALL
	a0=$(cstat answered)
	[ "$(lookup ask7 far7)" = "$rip" ] || fail "far7 in a non-root container"
	[ "$(cstat answered)" -gt "$a0" ] || fail "not answered by the program"
}

@test "removing the container leaves no pin behind" {
	asker ask8
	id=$(ctr_id h1 ask8)
	hx h1 test -e "$PIN/ctr/$id" || fail "no pin for ask8"
	hdocker h1 rm -f ask8 >/dev/null
	wait_until 5 hx h1 test ! -e "$PIN/ctr/$id" || fail "$PIN/ctr/$id still there"
}
