#!/usr/bin/env bats
# One Docker host with glued: container names and aliases as glued answers
# them, from the client namespace (another machine on the LAN), from the host
# itself and from inside containers. Each test asserts the DNS reply itself:
# rcode, flags, records. Names are unique per test; teardown removes the
# test's containers.

load lib/load

setup_file() {
	e2e_setup_single_host || return 1
	# A second network: containers there are not published, and a container
	# there asks glued through Docker's embedded DNS (--dns gateway).
	hdocker h1 network create --subnet 10.214.1.0/24 side_net >/dev/null
}

teardown_file() { e2e_teardown_all; }
teardown() { e2e_teardown_test; }

@test "name and alias appear on docker run (TTL 5) and leave on docker stop" {
	ctr_run h1 web1 --network-alias www1
	ip=$(ctr_ip h1 web1)
	expect_dns 5 A web1 "NOERROR $ip"
	assert_eq "$(dq_ttls)" 5 "TTL of a container answer (GLUED_TTL default)"
	assert_eq "$(dq_answer_count)" 1 "ANSWER count"
	dq_has_flag qr || fail "QR not set"
	expect_dns 5 A www1 "NOERROR $ip"
	hdocker h1 stop -t 2 web1 >/dev/null
	expect_dns 5 A web1 NXDOMAIN
	expect_dns 5 A www1 NXDOMAIN
	# Started again it comes back, with whatever address it got this time.
	hdocker h1 start web1 >/dev/null
	ip=$(ctr_ip h1 web1)
	expect_dns 5 A web1 "NOERROR $ip"
	expect_dns 5 A www1 "NOERROR $ip"
}

@test "name and alias leave on docker kill" {
	ctr_run h1 kill1 --network-alias kill1-alias
	ip=$(ctr_ip h1 kill1)
	expect_dns 5 A kill1 "NOERROR $ip"
	expect_dns 5 A kill1-alias "NOERROR $ip"
	hdocker h1 kill kill1 >/dev/null
	expect_dns 5 A kill1 NXDOMAIN
	expect_dns 5 A kill1-alias NXDOMAIN
}

@test "name and alias leave on docker rm -f" {
	ctr_run h1 rm1 --network-alias rm1-alias
	ip=$(ctr_ip h1 rm1)
	ip6=$(ctr_ip6 h1 rm1)
	expect_dns 5 A rm1 "NOERROR $ip"
	expect_dns 5 AAAA rm1 "NOERROR $ip6"
	hdocker h1 rm -f rm1 >/dev/null
	expect_dns 5 A rm1 NXDOMAIN
	expect_dns 5 AAAA rm1 NXDOMAIN
	expect_dns 5 A rm1-alias NXDOMAIN
}

@test "docker network disconnect withdraws a container that keeps running elsewhere" {
	ctr_run h1 disc1 --network-alias disc1-alias
	hdocker h1 network connect side_net disc1
	ip=$(ctr_ip h1 disc1)
	expect_dns 5 A disc1 "NOERROR $ip"
	expect_dns 5 A disc1-alias "NOERROR $ip"
	hdocker h1 network disconnect glued_net disc1
	expect_dns 5 A disc1 NXDOMAIN
	expect_dns 5 A disc1-alias NXDOMAIN
	assert_eq "$(hdocker h1 inspect -f '{{.State.Running}}' disc1)" true "disc1 still running"
}

@test "two containers sharing an alias: both addresses in one answer, order rotating" {
	ctr_run h1 pair1 --network-alias shared
	ctr_run h1 pair2 --network-alias shared
	ip1=$(ctr_ip h1 pair1)
	ip2=$(ctr_ip h1 pair2)
	want=$(printf '%s\n' "$ip1" "$ip2" | sort | tr '\n' ' ')
	expect_dns 5 A shared "NOERROR ${want% }"
	firsts=()
	for i in 1 2 3 4 5 6; do
		dq shared A
		assert_eq "$(dq_answers A | sort | tr '\n' ' ')" "$want" "query $i: both addresses"
		firsts+=("$(dq_answers A | head -n 1)")
	done
	distinct=$(printf '%s\n' "${firsts[@]}" | sort -u | wc -l)
	assert_eq "$distinct" 2 "distinct first addresses over 6 queries (${firsts[*]})"
}

@test "docker network connect of a running container publishes its glued_net address only" {
	ctr_run h1 late1 --network side_net
	side_ip=$(ctr_ip h1 late1 side_net)
	dq late1 A
	assert_eq "$(dq_rcode)" NXDOMAIN "a container only on side_net is not published"
	hdocker h1 network connect --alias late1-alias glued_net late1
	ip=$(ctr_ip h1 late1)
	[ "$ip" != "$side_ip" ]
	expect_dns 5 A late1 "NOERROR $ip"
	expect_dns 5 A late1-alias "NOERROR $ip"
}

@test "docker rename re-publishes under the new name and drops the old" {
	ctr_run h1 old1
	ip=$(ctr_ip h1 old1)
	expect_dns 5 A old1 "NOERROR $ip"
	hdocker h1 rename old1 new1
	expect_dns 5 A new1 "NOERROR $ip"
	expect_dns 5 A old1 NXDOMAIN
}

@test "AAAA: a container with IPv6 gets its v6 address; A and AAAA do not mix" {
	ctr_run h1 dual1
	ip=$(ctr_ip h1 dual1)
	ip6=$(ctr_ip6 h1 dual1)
	[ -n "$ip6" ]
	expect_dns 5 AAAA dual1 "NOERROR $ip6"
	assert_eq "$(dq_answers A)" "" "no A records in an AAAA answer"
	dns_is A dual1 "NOERROR $ip" || fail "A dual1: $DNS_GOT"
	assert_eq "$(dq_answers AAAA)" "" "no AAAA records in an A answer"
}

@test "AAAA for a container with only IPv4 is NODATA (NOERROR, no answer), not NXDOMAIN" {
	# glued_net has IPv6, so watch an IPv4-only network for this test.
	E2E_RESTORE_GLUED=1
	hdocker h1 network create --subnet 10.215.1.0/24 v4_net >/dev/null
	ctr_run h1 only4 --network v4_net
	ctr_run h1 notwatched
	ip=$(ctr_ip h1 only4 v4_net)
	glued_restart h1 GLUED_NETWORK_NAME=v4_net
	expect_dns 10 A only4 "NOERROR $ip"
	dq only4 AAAA
	assert_eq "$(dq_rcode)" NOERROR "rcode of AAAA for an IPv4-only name"
	assert_eq "$(dq_answer_count)" 0 "ANSWER count of AAAA for an IPv4-only name"
	dq ONLY4 AAAA
	assert_eq "$(dq_rcode)" NOERROR "rcode of AAAA, other case"
	# Only the configured network is watched.
	dq notwatched A
	assert_eq "$(dq_rcode)" NXDOMAIN "a container on glued_net while watching v4_net"
	ctr_rm_all h1
	hdocker h1 network rm v4_net >/dev/null
}

@test "the question's case is echoed in question and answer (0x20)" {
	ctr_run h1 case1
	ip=$(ctr_ip h1 case1)
	expect_dns 5 A case1 "NOERROR $ip"
	for q in CaSe1 CASE1 cAsE1; do
		dq "$q" A
		assert_eq "$(dq_rcode)" NOERROR "rcode for $q"
		assert_eq "$(dq_question)" "$q." "question as echoed"
		assert_eq "$(dq_answer_owners)" "$q." "answer owner name"
		assert_eq "$(dq_answers A)" "$ip" "address for $q"
	done
	# The same with kdig, an independent parser.
	out=$(cx kdig @"$(host_var h1 ip)" +time=2 +retry=0 +noidn CaSe1 A)
	echo "$out"
	grep -qE '^;; ->>HEADER<<- opcode: QUERY; status: NOERROR' <<<"$out"
	grep -qE '^;; QUESTION SECTION:' <<<"$out"
	grep -qE '^;; CaSe1\.[[:space:]]+IN[[:space:]]+A$' <<<"$out"
	grep -qE "^CaSe1\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+A[[:space:]]+$ip\$" <<<"$out"
}

@test "EDNS: OPT in the reply to an EDNS query, none without EDNS; version 1 gets BADVERS" {
	ctr_run h1 edns1
	ip=$(ctr_ip h1 edns1)
	expect_dns 5 A edns1 "NOERROR $ip"
	dq edns1 A
	dq_has_opt || fail "no OPT record in the reply to an EDNS query"
	grep -qE '^; EDNS: version: 0, flags:.*; udp: [0-9]+' <<<"$DQ" || fail "OPT not EDNS version 0"
	dq +noedns edns1 A
	assert_eq "$(dq_rcode)" NOERROR "rcode without EDNS"
	assert_eq "$(dq_answers A)" "$ip" "address without EDNS"
	! dq_has_opt || fail "OPT record in the reply to a query without EDNS"
	# RFC 6891 6.1.3: an unsupported version gets BADVERS, with an OPT.
	dq +edns=1 +noednsnegotiation edns1 A
	assert_eq "$(dq_rcode)" BADVERS "rcode for EDNS version 1"
	dq_has_opt || fail "no OPT record in the BADVERS reply"
}

@test "TCP: answered over TCP, two queries on one connection" {
	ctr_run h1 tcp1
	ctr_run h1 tcp2
	ip1=$(ctr_ip h1 tcp1)
	ip2=$(ctr_ip h1 tcp2)
	expect_dns 5 A tcp2 "NOERROR $ip2"
	dq +tcp tcp1 A
	assert_eq "$(dq_rcode)" NOERROR "rcode over TCP"
	assert_eq "$(dq_answers A)" "$ip1" "address over TCP"
	grep -q '^;; SERVER: .*(TCP)' <<<"$DQ" || fail "dig did not use TCP"
	dq +tcp +keepopen tcp1 A tcp2 A nosuchname-tcp A
	assert_eq "$(sed -n 's/.*status: \([A-Z]*\),.*/\1/p' <<<"$DQ" | tr '\n' ' ')" \
		"NOERROR NOERROR NXDOMAIN " "rcodes of three queries on one connection"
	grep -qE "^tcp1\.[[:space:]].*A[[:space:]]+$ip1\$" <<<"$DQ" || fail "tcp1 on kept-open connection"
	grep -qE "^tcp2\.[[:space:]].*A[[:space:]]+$ip2\$" <<<"$DQ" || fail "tcp2 on kept-open connection"
}

@test "truncation: 40 containers on one alias, TC=1 over UDP without EDNS, all 40 over TCP" {
	t0=$(e2e_now_ms)
	seq -w 1 40 | xargs -P 6 -I{} env DOCKER_HOST="unix://$E2E_DIR/h1/docker.sock" \
		docker run -d --name many{} --network glued_net --network-alias many \
		"$E2E_IMAGE" sleep 2147483647 >/dev/null
	echo "# 40 containers started in $(($(e2e_now_ms) - t0)) ms" >&3
	want=$(hdocker h1 network inspect glued_net \
		-f '{{range .Containers}}{{.Name}} {{.IPv4Address}}{{println}}{{end}}' |
		awk '$1 ~ /^many/ {sub(/\/.*/, "", $2); print $2}' | sort | tr '\n' ' ')
	assert_eq "$(wc -w <<<"$want")" 40 "containers on glued_net"
	expect_dns 20 A many "NOERROR ${want% }" +tcp
	# Without EDNS a UDP reply is capped at 512 bytes: 40 A records do not fit.
	dq +noedns +ignore many A
	assert_eq "$(dq_rcode)" NOERROR "rcode of the truncated reply"
	dq_has_flag tc || fail "TC not set on a 40-address reply over UDP without EDNS"
	[ "$(dq_msg_size)" -le 512 ] || fail "UDP reply without EDNS larger than 512 bytes"
	# dig retries over TCP on TC=1 and gets everything.
	dq +noedns many A
	grep -q '^;; Truncated, retrying in TCP mode' <<<"$DQ" || fail "dig did not retry over TCP"
	assert_eq "$(dq_answers A | sort | tr '\n' ' ')" "$want" "40 addresses after the TCP retry"
	# With EDNS (dig advertises 1232) the same answer fits in UDP.
	dq many A
	! dq_has_flag tc || fail "TC set although the answer fits the EDNS buffer"
	assert_eq "$(dq_answer_count)" 40 "ANSWER count over UDP with EDNS"
	grep -q '^;; SERVER: .*(UDP)' <<<"$DQ" || fail "EDNS query not answered over UDP"
	# An EDNS client with a 512-byte buffer gets TC=1 too.
	dq +bufsize=512 +ignore many A
	dq_has_flag tc || fail "TC not set with an advertised 512-byte buffer"
}

@test "PTR for a container's IPv4 and IPv6 address names the container" {
	ctr_run h1 ptr1
	ip=$(ctr_ip h1 ptr1)
	ip6=$(ctr_ip6 h1 ptr1)
	expect_dns 5 A ptr1 "NOERROR $ip"
	dq -x "$ip"
	assert_eq "$(dq_rcode)" NOERROR "rcode of PTR for $ip"
	grep -qx 'ptr1\.' < <(dq_answers PTR) || fail "PTR for $ip does not name ptr1: $(dq_answers PTR)"
	dq -x "$ip6"
	assert_eq "$(dq_rcode)" NOERROR "rcode of PTR for $ip6"
	grep -qx 'ptr1\.' < <(dq_answers PTR) || fail "PTR for $ip6 does not name ptr1: $(dq_answers PTR)"
}

@test "unknown single label: NXDOMAIN for A and AAAA, never forwarded upstream" {
	dq nosuchcontainer A
	assert_eq "$(dq_rcode)" NXDOMAIN "rcode of A for an unknown single label"
	assert_eq "$(dq_answer_count)" 0 "ANSWER count"
	dq nosuchcontainer AAAA
	assert_eq "$(dq_rcode)" NXDOMAIN "rcode of AAAA for an unknown single label"
	! grep -qi 'nosuchcontainer' "$E2E_DIR/dnsmasq.log" || fail "the single label reached the upstream"
}

@test "GLUED_HOSTS_FILE: static records answered, edits followed, bad lines reported by number" {
	E2E_RESTORE_GLUED=1
	f=$E2E_DIR/h1/hosts
	printf '# static\n192.0.2.50 static1 static1-alias\n2001:db8::50 static1\nnot-an-address bad1\n' >"$f"
	glued_restart h1 GLUED_HOSTS_FILE="$f"
	expect_dns 5 A static1 "NOERROR 192.0.2.50"
	expect_dns 5 AAAA static1 "NOERROR 2001:db8::50"
	expect_dns 5 A StAtIc1-AlIaS "NOERROR 192.0.2.50"
	dq -x 192.0.2.50
	grep -qx 'static1\.' < <(dq_answers PTR) || fail "PTR for a hosts-file address: $(dq_answers PTR)"
	grep -q "hosts: $f:4: .*line skipped" "$E2E_DIR/h1/glued.log" || fail "bad line 4 not reported"
	# Replaced as editors and config tools do (write aside, rename).
	printf '192.0.2.51 static2\n' >"$f.new"
	mv "$f.new" "$f"
	expect_dns 10 A static2 "NOERROR 192.0.2.51"
	expect_dns 5 A static1 NXDOMAIN
}

@test "IPv6 transport: with GLUED_DNS_BIND=[::]:53 glued answers over IPv6, UDP and TCP" {
	E2E_RESTORE_GLUED=1
	ctr_run h1 six1
	ip=$(ctr_ip h1 six1)
	ip6=$(ctr_ip6 h1 six1)
	glued_restart h1 'GLUED_DNS_BIND=[::]:53'
	server=@$(host_var h1 ip6)
	expect_dns 10 AAAA six1 "NOERROR $ip6" "$server"
	grep -q "^;; SERVER: $(host_var h1 ip6)#53" <<<"$DQ" || fail "reply not from the IPv6 address"
	dq "$server" +tcp six1 A
	assert_eq "$(dq_rcode)" NOERROR "rcode over IPv6 TCP"
	assert_eq "$(dq_answers A)" "$ip" "A over IPv6 TCP"
	dq "$server" host.example.test A
	assert_eq "$(dq_answers A)" 192.0.2.10 "forwarded over IPv6 (client in ULA space)"
}

@test "glued on its own host answers on 127.0.0.1" {
	ctr_run h1 local1
	ip=$(ctr_ip h1 local1)
	expect_dns 5 A local1 "NOERROR $ip"
	dqh h1 @127.0.0.1 local1 A
	assert_eq "$(dq_rcode)" NOERROR "rcode via 127.0.0.1"
	assert_eq "$(dq_answers A)" "$ip" "address via 127.0.0.1"
	dqh h1 @127.0.0.1 host.example.test A
	assert_eq "$(dq_rcode)" NOERROR "forwarded name via 127.0.0.1"
	assert_eq "$(dq_answers A)" 192.0.2.10 "forwarded address via 127.0.0.1"
}

@test "nslookup inside containers started with --dns <glued_net gateway> reaches glued" {
	gw=$(host_var h1 gw4)
	ctr_run h1 target1 --network-alias target1-alias
	ip=$(ctr_ip h1 target1)
	expect_dns 5 A target1 "NOERROR $ip"
	# On side_net Docker's embedded DNS does not know target1: only glued does.
	ctr_run h1 asker1 --network side_net --dns "$gw"
	out=$(hdocker h1 exec asker1 nslookup -type=a target1-alias 2>&1) || true
	echo "$out"
	grep -q "^Address: $ip\$" <<<"$out" || fail "nslookup target1-alias from side_net"
	# On glued_net the container's FQDN lookups go through glued to the upstream.
	ctr_run h1 asker2 --dns "$gw"
	out=$(hdocker h1 exec asker2 nslookup -type=a host.example.test 2>&1) || true
	echo "$out"
	grep -q '^Address: 192.0.2.10$' <<<"$out" || fail "nslookup host.example.test from glued_net"
	out=$(hdocker h1 exec asker2 nslookup -type=a target1 2>&1) || true
	echo "$out"
	grep -q "^Address: $ip\$" <<<"$out" || fail "nslookup target1 from glued_net"
}
