#!/usr/bin/env bats
# Three Docker hosts, each with its own dockerd, glued_net subnet and glued,
# on one LAN with routes between their container subnets; the glueds form
# one gossip cluster. h1 and h2 are given no bootstrap peer at all (they find
# each other by the sealed LAN beacon), h3 is given "10.231.0.11" (host, the
# default port). Each test asserts what every host answers, from the client
# machine (and from inside a container), through joins, stops, kills, a
# dead host, a late host, a stranger with another secret, a partition and
# restarts. Timing bounds are generous multiples of docs/protocol.md's.

load lib/load
load lib/cluster

# A member that stops answering is declared dead and its names withdrawn
# within this bound: docs/protocol.md ("Failure detection bound") gives at
# most ~3.4 s for 3 nodes on a lossless LAN (first probe within 3 intervals,
# + 1 interval, + the 1.6 s minimum suspicion, + a gossip round); measured
# 2.3-2.9 s (tools/bench-cluster.sh). The goal is 5 s; the rest is slack for
# a loaded machine and the 20 ms polling.
DEAD_BOUND_S=5
# A new name reaches every host within this (goal: p99 250 ms).
PROPAGATE_S=3

h3_bootstrap() {
	echo "GLUED_BOOTSTRAP_PEERS=$(host_var h1 ip)" >"$E2E_DIR/h3/cluster_env"
}

setup_file() {
	E2E_CLUSTER_ENV_HOOK=h3_bootstrap e2e_setup_cluster
}
teardown_file() { e2e_teardown_all; }
teardown() { e2e_teardown_cluster_test; }

@test "every glued logs its gossip endpoint; h3 authenticates with its bootstrap peer" {
	for h in h1 h2 h3; do
		grep -q "Gossip endpoint created node_id=[0-9a-f]\{64\} addr=0.0.0.0:7947" \
			"$E2E_DIR/$h/glued.log" || fail "$h: no 'Gossip endpoint created' line"
	done
	id1=$(node_id h1)
	[ "$id1" != "$(node_id h2)" ] || fail "h1 and h2 have the same node ID"
	wait_until 5 grep -q "Authenticated with bootstrap peer $id1" "$E2E_DIR/h3/glued.log" ||
		fail "h3 did not log 'Authenticated with bootstrap peer $id1'"
	# The e2e secret is not the default: no warning about it.
	! grep -q "GLUED_CLUSTER_SECRET is the default" "$E2E_DIR/h1/glued.log" ||
		fail "default-secret warning with a secret set"
}

@test "a container on h1 is resolvable on h2 and h3, and from inside a container on h2" {
	ctr_run h1 web1 --network-alias www1
	ip=$(ctr_ip h1 web1)
	expect_dns_all $PROPAGATE_S A web1 "NOERROR $ip"
	expect_dns_all $PROPAGATE_S A www1 "NOERROR $ip"
	ip6=$(ctr_ip6 h1 web1)
	expect_dns_on $PROPAGATE_S h3 AAAA web1 "NOERROR $ip6"
	# Inside a container on h2, Docker's embedded DNS does not know web1 (it
	# lives on h1's engine): only glued on h2, via --dns <gateway>, does.
	ctr_run h2 asker2 --dns "$(host_var h2 gw4)"
	out=$(hdocker h2 exec asker2 nslookup -type=a web1 2>&1) || true
	echo "$out"
	grep -q "^Address: $ip\$" <<<"$out" || fail "nslookup web1 inside a container on h2"
	# and the address is reachable across the hosts (routes between subnets)
	hdocker h2 exec asker2 ping -c 1 -W 2 "$ip" >/dev/null || fail "ping $ip from h2's container"
}

@test "the same alias on two hosts gives both addresses everywhere; one leaves, one stays" {
	ctr_run h1 sa1 --network-alias shared
	ctr_run h2 sa2 --network-alias shared
	ip1=$(ctr_ip h1 sa1)
	ip2=$(ctr_ip h2 sa2)
	want="NOERROR $(printf '%s\n' "$ip1" "$ip2" | sort | tr '\n' ' ' | sed 's/ $//')"
	expect_dns_all $PROPAGATE_S A shared "$want"
	hdocker h2 stop -t 1 sa2 >/dev/null
	expect_dns_all $PROPAGATE_S A shared "NOERROR $ip1"
}

@test "docker stop on one host: the name is gone everywhere" {
	ctr_run h2 gone2 --network-alias gone2-alias
	ip=$(ctr_ip h2 gone2)
	expect_dns_all $PROPAGATE_S A gone2 "NOERROR $ip"
	hdocker h2 stop -t 1 gone2 >/dev/null
	expect_dns_all $PROPAGATE_S A gone2 NXDOMAIN
	expect_dns_all $PROPAGATE_S A gone2-alias NXDOMAIN
}

@test "a kill/restart loop of same-named containers on every host ends correct everywhere" {
	for round in 1 2 3 4; do
		for h in h1 h2 h3; do
			hdocker "$h" rm -f "loop-$h" >/dev/null 2>&1 || true
			ctr_run "$h" "loop-$h" --network-alias loopall
		done
		# rm -f right away on a random host: the last event of a name wins
		h=h$((RANDOM % 3 + 1))
		[ $round -lt 4 ] && hdocker "$h" kill "loop-$h" >/dev/null
	done
	ips=()
	for h in h1 h2 h3; do
		ip=$(ctr_ip "$h" "loop-$h")
		[ -n "$ip" ] || fail "loop-$h has no address"
		ips+=("$ip")
		expect_dns_all $PROPAGATE_S A "loop-$h" "NOERROR $ip"
	done
	want="NOERROR $(printf '%s\n' "${ips[@]}" | sort | tr '\n' ' ' | sed 's/ $//')"
	expect_dns_all $PROPAGATE_S A loopall "$want"
}

@test "a host killed (glued SIGKILL, dockerd stopped): its names leave the others within the bound" {
	ctr_run h3 dead3 --network-alias dead3-alias
	ip=$(ctr_ip h3 dead3)
	expect_dns_all $PROPAGATE_S A dead3 "NOERROR $ip"
	touch "$E2E_DIR/h3/restore_glued"
	glued_stop h3 KILL || true
	host_dockerd_kill h3 KILL
	ms=$(ms_until $DEAD_BOUND_S dns_on h1 A dead3 NXDOMAIN) || fail "h1 still answers dead3 after ${DEAD_BOUND_S}s: $DNS_GOT"
	echo "# dead host's names withdrawn on h1 after $ms ms" >&3
	ms2=$(ms_until 3 dns_on h2 A dead3-alias NXDOMAIN) || fail "h2 still answers dead3-alias: $DNS_GOT"
	echo "# and on h2 $ms2 ms later" >&3
	# h1 and h2 still answer each other
	ctr_run h1 alive1
	expect_dns_on $PROPAGATE_S h2 A alive1 "NOERROR $(ctr_ip h1 alive1)"
}

@test "a host started late learns every name; a restarted host replaces its old records" {
	ctr_run h3 late3
	ip3=$(ctr_ip h3 late3)
	glued_stop h3
	# While h3's glued is away (it left: the others drop its names at once)
	expect_dns_on 5 h1 A late3 NXDOMAIN
	ctr_run h1 late1
	ctr_run h2 late2 --network-alias late-alias
	hdocker h3 stop -t 1 late3 >/dev/null
	ctr_run h3 late3b
	cluster_glued_start h3
	expect_dns_on $PROPAGATE_S h3 A late1 "NOERROR $(ctr_ip h1 late1)"
	expect_dns_on $PROPAGATE_S h3 A late-alias "NOERROR $(ctr_ip h2 late2)"
	expect_dns_all $PROPAGATE_S A late3b "NOERROR $(ctr_ip h3 late3b)"
	expect_dns_all 1 A late3 NXDOMAIN
}

@test "bootstrap forms nodeid@host:port and a bare node ID (found by the beacon) authenticate" {
	id1=$(node_id h1)
	touch "$E2E_DIR/h3/restore_glued" "$E2E_DIR/h2/restore_glued"
	cluster_glued_restart h3 GLUED_BOOTSTRAP_PEERS="$id1@$(host_var h1 ip):7947"
	wait_until 5 log_since_start h3 "Authenticated with bootstrap peer $id1" ||
		fail "h3 (nodeid@host:port): no 'Authenticated with bootstrap peer $id1'"
	cluster_glued_restart h2 GLUED_BOOTSTRAP_PEERS="$id1"
	wait_until 8 log_since_start h2 "bootstrap peer $id1 found at $(host_var h1 ip):7947 by its beacon" ||
		fail "h2 (bare node ID): its beacon did not resolve it"
	wait_until 3 log_since_start h2 "Authenticated with bootstrap peer $id1" ||
		fail "h2 (bare node ID): no 'Authenticated with bootstrap peer $id1'"
	ctr_run h1 boot1
	expect_dns_all $PROPAGATE_S A boot1 "NOERROR $(ctr_ip h1 boot1)"
}

@test "a node with another secret learns nothing and disturbs nothing" {
	ctr_run h1 sec1
	ip1=$(ctr_ip h1 sec1)
	expect_dns_all $PROPAGATE_S A sec1 "NOERROR $ip1"
	touch "$E2E_DIR/h3/restore_glued"
	cluster_glued_restart h3 GLUED_CLUSTER_SECRET=not-the-cluster-secret-0123456789
	ctr_run h3 sec3
	sleep 3
	dns_on h3 A sec1 NXDOMAIN || fail "the stranger learned sec1: $DNS_GOT"
	dns_on h1 A sec3 NXDOMAIN || fail "the cluster learned the stranger's sec3: $DNS_GOT"
	dns_on h2 A sec3 NXDOMAIN || fail "h2 learned the stranger's sec3: $DNS_GOT"
	# Its datagrams are dropped and logged, naming the source.
	grep -q "gossip: drop datagram from $(host_var h3 ip):7947: authentication failed" \
		"$E2E_DIR/h1/glued.log" || fail "h1 did not log the stranger's datagrams"
	# The cluster carries on: h1 and h2 still see each other's changes.
	ctr_run h2 sec2
	expect_dns_on $PROPAGATE_S h1 A sec2 "NOERROR $(ctr_ip h2 sec2)"
	dns_on h1 A sec1 "NOERROR $ip1" || fail "h1 lost sec1: $DNS_GOT"
}

# udp_from NS SRC DST PORT HEXBYTES: one datagram from address SRC (an address of
# namespace NS) to DST:PORT.
udp_from() {
	ip netns exec "$1" /usr/bin/python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
s.sendto(bytes.fromhex(sys.argv[4]), (sys.argv[2], int(sys.argv[3])))' "$2" "$3" "$4" "$5"
}

@test "the default secret: two hosts find each other on the LAN; gossip from a routed subnet is dropped" {
	touch "$E2E_DIR/h1/restore_glued" "$E2E_DIR/h2/restore_glued"
	cluster_glued_restart h1 GLUED_CLUSTER_SECRET=default_insecure_secret
	cluster_glued_restart h2 GLUED_CLUSTER_SECRET=default_insecure_secret
	log_since_start h2 "GLUED_CLUSTER_SECRET is the default" || fail "h2: no default-secret warning"
	assert_eq "$(ctl_json h2 status | jq -r .cluster.secret)" default "h2 status cluster.secret"
	assert_eq "$(ctl_json h3 status | jq -r .cluster.secret)" configured "h3 status cluster.secret"
	# Zero config: nothing but the beacon, and the names are shared.
	ctr_run h1 dflt1
	expect_dns_on $PROPAGATE_S h2 A dflt1 "NOERROR $(ctr_ip h1 dflt1)"
	dns_on h3 A dflt1 NXDOMAIN || fail "h3 (a real secret) learned dflt1: $DNS_GOT"
	# h1's container gateway is routed to h2, not directly connected to it: a
	# datagram from there is dropped before it is opened, and counted.
	before=$(gossip_counter h2 not_local)
	lan_before=$(gossip_counter h2 envelope_bad)
	udp_from "$(host_var h1 ns)" "$(host_var h1 gw4)" "$(host_var h2 ip)" 7947 \
		"474c5544$(printf '00%.0s' {1..120})"
	wait_until 3 test "$(gossip_counter h2 not_local)" -eq $((before + 1)) ||
		fail "h2 not_local: $(gossip_counter h2 not_local), want $((before + 1))"
	log_since_start h2 "drop datagram from $(host_var h1 gw4):[0-9]*: not from a directly connected subnet" ||
		fail "h2 did not log the drop"
	assert_eq "$(gossip_counter h2 envelope_bad)" "$lan_before" "h2 envelope_bad (not opened at all)"
	# The same bytes from h1's LAN address (directly connected) reach the opener.
	udp_from "$(host_var h1 ns)" "$(host_var h1 ip)" "$(host_var h2 ip)" 7947 \
		"474c5544$(printf '00%.0s' {1..120})"
	wait_until 3 test "$(gossip_counter h2 envelope_bad)" -eq $((lan_before + 1)) ||
		fail "h2 envelope_bad: $(gossip_counter h2 envelope_bad), want $((lan_before + 1))"
	assert_eq "$(gossip_counter h2 not_local)" $((before + 1)) "h2 not_local after a LAN datagram"
}

@test "a keyring: a node sending with a new secret is heard by one that lists it second" {
	next=rotated-cluster-secret-0123456789abcdef
	touch "$E2E_DIR/h1/restore_glued" "$E2E_DIR/h3/restore_glued"
	cluster_glued_restart h1 GLUED_CLUSTER_SECRET="$E2E_SECRET,$next"
	cluster_glued_restart h3 GLUED_CLUSTER_SECRET="$next,$E2E_SECRET"
	assert_eq "$(ctl_json h3 status | jq -r .cluster.secrets)" 2 "h3 status cluster.secrets"
	ctr_run h3 ring3
	ctr_run h1 ring1
	expect_dns_on $PROPAGATE_S h1 A ring3 "NOERROR $(ctr_ip h3 ring3)"
	expect_dns_on $PROPAGATE_S h3 A ring1 "NOERROR $(ctr_ip h1 ring1)"
}

@test "a partition (h3's LAN link down) and heal: every host converges" {
	ctr_run h1 p1a
	ctr_run h3 p3a
	expect_dns_all $PROPAGATE_S A p3a "NOERROR $(ctr_ip h3 p3a)"
	lan_link h3 down
	# Changes on both sides while they cannot talk.
	ctr_run h1 p1b
	ctr_run h3 p3b
	hdocker h1 stop -t 1 p1a >/dev/null
	sleep 2
	lan_link h3 up
	# Healed: within the rejoin interval plus a sync, both sides agree.
	expect_dns_all 20 A p1b "NOERROR $(ctr_ip h1 p1b)"
	expect_dns_all 20 A p3b "NOERROR $(ctr_ip h3 p3b)"
	expect_dns_all 20 A p3a "NOERROR $(ctr_ip h3 p3a)"
	expect_dns_all 5 A p1a NXDOMAIN
}

@test "glued restarted on one host: the cluster's answers recover, nothing stale is left" {
	ctr_run h2 rs-keep
	ctr_run h2 rs-old
	expect_dns_all $PROPAGATE_S A rs-old "NOERROR $(ctr_ip h2 rs-old)"
	glued_stop h2 KILL || true
	# While it is down its containers change.
	hdocker h2 rm -f rs-old >/dev/null
	ctr_run h2 rs-new
	cluster_glued_start h2
	expect_dns_all $PROPAGATE_S A rs-new "NOERROR $(ctr_ip h2 rs-new)"
	expect_dns_all $PROPAGATE_S A rs-keep "NOERROR $(ctr_ip h2 rs-keep)"
	expect_dns_all $PROPAGATE_S A rs-old NXDOMAIN
}
