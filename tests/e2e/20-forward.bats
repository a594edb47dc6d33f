#!/usr/bin/env bats
# One Docker host with glued: forwarding to the upstream (dnsmasq in its own
# namespace), the upstream failing, the per-client cap on queries waiting
# upstream, clients outside GLUED_ALLOW (also sending the loop-probe name),
# and hostile bytes at :53. Tests that restart glued with other settings set
# E2E_RESTORE_GLUED so the next test gets the standard glued back.

load lib/load

setup_file() {
	e2e_setup_single_host || return 1
	# A "silent" upstream: the host resolves its address to a MAC nobody
	# owns, so queries leave and nothing, not even an ICMP error, comes back.
	hx h1 ip neigh replace "$E2E_SILENT_IP" lladdr 02:00:5e:00:53:99 dev eth0 nud permanent
}

teardown_file() { e2e_teardown_all; }
teardown() { e2e_teardown_test; }

@test "an FQDN is forwarded to the upstream: A, AAAA, TXT, wildcard, TCP, case echoed" {
	dq host.example.test A
	assert_eq "$(dq_rcode)" NOERROR "rcode"
	assert_eq "$(dq_answers A)" 192.0.2.10 "A host.example.test"
	grep -q "query\[A\] host.example.test from $(host_var h1 ip)\$" "$E2E_DIR/dnsmasq.log" ||
		fail "the upstream did not see the query coming from glued's host"
	dq host.example.test AAAA
	assert_eq "$(dq_answers AAAA)" 2001:db8::10 "AAAA host.example.test"
	dq txt.example.test TXT
	assert_eq "$(dq_rcode)" NOERROR "rcode of TXT"
	assert_eq "$(dq_answers TXT)" '"glued-e2e"' "TXT txt.example.test"
	dq some.where.example.test A
	assert_eq "$(dq_answers A)" 192.0.2.7 "wildcard A"
	dq +tcp host.example.test A
	assert_eq "$(dq_answers A)" 192.0.2.10 "A host.example.test over TCP"
	grep -q '^;; SERVER: .*(TCP)' <<<"$DQ" || fail "dig did not use TCP"
	dq HoSt.ExAmPlE.tEsT A
	assert_eq "$(dq_rcode)" NOERROR "rcode, mixed case"
	assert_eq "$(dq_question)" HoSt.ExAmPlE.tEsT. "question case echoed"
	assert_eq "$(dq_answers A)" 192.0.2.10 "A, mixed case"
}

@test "a container name is never forwarded, whatever the type: MX and TXT are NODATA" {
	# The issue: "single-label container names are never forwarded" (they
	# would leak to the upstream); the name exists, so no records of a type
	# is NOERROR with an empty answer.
	ctr_run h1 fwd1
	ip=$(ctr_ip h1 fwd1)
	expect_dns 5 A fwd1 "NOERROR $ip"
	for type in MX TXT; do
		dq fwd1 "$type"
		assert_eq "$(dq_rcode)" NOERROR "rcode of $type for a container name"
		assert_eq "$(dq_answer_count)" 0 "ANSWER count of $type for a container name"
	done
	! grep -q "\] fwd1 from $(host_var h1 ip)\$" "$E2E_DIR/dnsmasq.log" ||
		fail "a container name was forwarded to the upstream"
}

# servfail_within_5s NAME HOW: an A query for NAME, forwarded to an upstream
# that is HOW (silent, down), is answered SERVFAIL in less than 5 s.
servfail_within_5s() {
	local t0 ms
	t0=$(e2e_now_ms)
	dq +time=10 "$1" A
	ms=$(($(e2e_now_ms) - t0))
	echo "# SERVFAIL for a $2 upstream after $ms ms" >&3
	assert_eq "$(dq_rcode)" SERVFAIL "rcode when the upstream is $2 (after $ms ms)"
	[ "$ms" -lt 5000 ] || fail "SERVFAIL took $ms ms (limit 5000)"
}

@test "upstream silent: SERVFAIL within 5 s, container names still answered" {
	E2E_RESTORE_GLUED=1
	glued_restart h1 GLUED_UPSTREAMS="$E2E_SILENT_IP:53"
	ctr_run h1 still1
	ip=$(ctr_ip h1 still1)
	expect_dns 5 A still1 "NOERROR $ip"
	servfail_within_5s silent1.example.test silent
	dns_is A still1 "NOERROR $ip" || fail "container name while the upstream is silent: $DNS_GOT"
}

@test "per-client cap: 100 queries to a silent upstream, the 65th on REFUSED at once, another client still forwarded" {
	E2E_RESTORE_GLUED=1
	glued_restart h1 GLUED_UPSTREAMS="$E2E_SILENT_IP:53"
	# One socket, 100 distinct names sent back to back (IDs 0..99), then
	# every reply collected for 6 s: "ID RCODE MS" per line.
	py="$E2E_DIR/cap-client.py"
	cat >"$py" <<'PY'
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((sys.argv[1], 53))
t0 = time.monotonic()
for i in range(100):
    name = b"".join(bytes([len(l)]) + l for l in (b"cap%d" % i, b"example", b"test")) + b"\0"
    s.send(struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) + name + struct.pack(">HH", 1, 1))
s.settimeout(0.5)
got = {}
while time.monotonic() - t0 < 6 and len(got) < 100:
    try:
        m = s.recv(4096)
    except socket.timeout:
        continue
    i, flags = struct.unpack(">HH", m[:4])
    got.setdefault(i, (flags & 15, int((time.monotonic() - t0) * 1000)))
for i in sorted(got):
    print(i, got[i][0], got[i][1])
PY
	out="$E2E_DIR/cap-client.out"
	cx python3 "$py" "$(host_var h1 ip)" >"$out" &
	pyjob=$!
	sleep 1
	# Another client (the host itself) while the first is at its cap:
	# forwarded, so it waits for the silent upstream and gets SERVFAIL,
	# not REFUSED.
	dqh h1 @127.0.0.1 +time=10 other.cap.example.test A
	assert_eq "$(dq_rcode)" SERVFAIL "another client's rcode while the first is at its cap"
	wait "$pyjob" || fail "the query script failed"
	cat "$out"
	assert_eq "$(wc -l <"$out")" 100 "replies received"
	assert_eq "$(awk '$1 < 64 && $2 == 2' "$out" | wc -l)" 64 "the first 64: forwarded (SERVFAIL)"
	assert_eq "$(awk '$1 >= 64 && $2 == 5' "$out" | wc -l)" 36 "the 65th on: REFUSED"
	slow=$(awk '$1 >= 64 && $3 > 1000' "$out" | wc -l)
	assert_eq "$slow" 0 "REFUSED replies that took more than 1 s"
	stats=$(GLUED_CTL_SOCKET="$(host_var h1 dir)/ctl.sock" "${E2E_GLUEDCTL:-$E2E_TOP/build/gluedctl}" stats --json)
	assert_eq "$(jq .forwarder.client_limited <<<"$stats")" 36 "client_limited counter"
}

@test "upstream down: SERVFAIL within 5 s, answers again when it is back" {
	upstream_stop
	servfail_within_5s down1.example.test down
	upstream_start
	expect_dns 10 A back1.example.test "NOERROR 192.0.2.7"
}

@test "client outside GLUED_ALLOW: REFUSED for everything (container names, PTR, forwarding), over UDP and TCP" {
	E2E_RESTORE_GLUED=1
	glued_restart h1 GLUED_ALLOW=127.0.0.0/8,10.213.0.0/16
	ctr_run h1 allow1
	ip=$(ctr_ip h1 allow1)
	# The host itself is inside the list: the name is there.
	wait_until 5 eval '[ "$(hx h1 dig +short @127.0.0.1 allow1 A)" = "$ip" ]' ||
		fail "allow1 not answered on the host itself"
	for t in "" +tcp; do
		dq $t allow1 A
		assert_eq "$(dq_rcode)" REFUSED "rcode for a container name from $E2E_CLIENT_IP ($t)"
		assert_eq "$(dq_answer_count)" 0 "no container data in the REFUSED reply ($t)"
	done
	dq -x "$ip"
	assert_eq "$(dq_rcode)" REFUSED "rcode for the container's PTR"
	dq allowed1.example.test A
	assert_eq "$(dq_rcode)" REFUSED "rcode for a forwarded name from $E2E_CLIENT_IP"
	assert_eq "$(dq_answer_count)" 0 "ANSWER count of the REFUSED reply"
	! grep -q 'allowed1.example.test' "$E2E_DIR/dnsmasq.log" || fail "refused query reached the upstream"
	dqh h1 @127.0.0.1 allowed2.example.test A
	assert_eq "$(dq_rcode)" NOERROR "rcode for a forwarded name from 127.0.0.1"
	assert_eq "$(dq_answers A)" 192.0.2.7 "forwarded answer for 127.0.0.1"
}

@test "loop probe name: REFUSED from a client outside GLUED_ALLOW (upstream kept), dropped from the host (upstream disabled once)" {
	E2E_RESTORE_GLUED=1
	probes() { grep -o '[0-9a-f]\{32\}\.glued-loop-probe' "$E2E_DIR/dnsmasq.log" || true; }
	before=$(probes | wc -l)
	glued_restart h1 GLUED_ALLOW=127.0.0.0/8,10.213.0.0/16
	# The probe glued sent its upstream at start, as dnsmasq logged it.
	wait_until 5 test "$(probes | wc -l)" -gt "$before" || fail "no loop probe reached the upstream"
	name=$(probes | tail -1)
	echo "probe name: $name"
	gctl() { GLUED_CTL_SOCKET="$(host_var h1 dir)/ctl.sock" "${E2E_GLUEDCTL:-$E2E_TOP/build/gluedctl}" "$@"; }
	dq "$name" TXT
	assert_eq "$(dq_rcode)" REFUSED "the probe name from $E2E_CLIENT_IP (outside GLUED_ALLOW)"
	assert_eq "$(gctl status --json | jq -r '.upstreams[0].state')" enabled \
		"upstream state after a stranger sent the probe name"
	dqh h1 @127.0.0.1 host.example.test A
	assert_eq "$(dq_answers A)" 192.0.2.10 "still forwarded"
	# The same name from an allowed client is our loop coming back.
	dqh h1 @127.0.0.1 "$name" TXT
	[ "$DQ_RC" -ne 0 ] || fail "the probe name from the host got a reply"
	assert_eq "$(gctl status --json | jq -r '.upstreams[0].state')" disabled \
		"upstream state after the probe came back"
	dqh h1 @127.0.0.1 "$name" TXT
	assert_eq "$(gctl stats --json | jq .forwarder.loops_detected)" 1 "loops_detected"
	assert_eq "$(glued_log h1 | grep -c 'loops back to glued; disabled')" 1 "log lines"
}

@test "RCODEs: NOTIMP for another opcode, FORMERR for a malformed question, silence for QR=1" {
	ctr_run h1 raw1
	ip=$(ctr_ip h1 raw1)
	expect_dns 5 A raw1 "NOERROR $ip"
	# Control: the raw path gets a reply to a well-formed query.
	r=$(udp_raw "$(dns_query_hex abcd 0100 raw1 1)")
	echo "reply to a good query: $r"
	assert_eq "$(reply_id "$r")" abcd "ID of the reply to a good query"
	assert_eq "$(reply_rcode "$r")" 0 "rcode of the reply to a good query"
	# Opcode 2 (STATUS): flags 0x1100.
	r=$(udp_raw "$(dns_query_hex abce 1100 raw1 1)")
	echo "reply to opcode STATUS: $r"
	assert_eq "$(reply_rcode "$r")" 4 "rcode for opcode STATUS (NOTIMP)"
	# A question whose name runs past the end of the packet.
	r=$(udp_raw "abcf0100000100000000000005raw1")
	echo "reply to a cut question: $r"
	assert_eq "$(reply_rcode "$r")" 1 "rcode for a malformed question (FORMERR)"
	# QR=1: a response is never answered (reflection loops).
	r=$(udp_raw "$(dns_query_hex abd0 8100 raw1 1)")
	assert_eq "$r" "" "reply to a packet with QR=1"
}

@test "garbage and truncated datagrams at :53: glued stays up and keeps answering" {
	ctr_run h1 sturdy1
	ip=$(ctr_ip h1 sturdy1)
	expect_dns 5 A sturdy1 "NOERROR $ip"
	good=$(dns_query_hex 4242 0100 sturdy1 1 opt)
	# Hostile shapes, each sent several times: every prefix of a good query,
	# a compression loop, a forward pointer, a 64-byte label, a 300-byte
	# name, QDCOUNT 0 and 2, counts far beyond the packet, two OPT records,
	# OPT with a non-root owner, EDNS version 1, a lone header, 1 byte.
	hdr() { printf '%s0100%04x%04x%04x%04x' "$@"; } # ID QD AN NS AR
	q=07737475726479310000010001 # sturdy1 A IN
	opt=00002904d0000000000000
	a63=3f$(printf '61%.0s' $(seq 63))
	shapes=(
		"$(hdr 4243 1 0 0 0)c00c00010001"
		"$(hdr 4244 1 0 0 0)c01000010001"
		"$(hdr 4245 1 0 0 0)40$(printf '61%.0s' $(seq 64))0000010001"
		"$(hdr 4246 1 0 0 0)$a63$a63$a63$a63${a63}0000010001"
		"$(hdr 4247 0 0 0 0)$q"
		"$(hdr 4248 2 0 0 0)$q"
		"$(hdr 4249 65535 65535 65535 65535)$q"
		"$(hdr 424a 1 0 0 2)$q$opt$opt"
		"$(hdr 424b 1 0 0 1)${q}016100002904d0000000000000"
		"$(hdr 424c 1 0 0 1)${q}00002904d0000100000000"
		"$(hdr 424d 0 0 0 0)"
		"42"
	)
	cmds=$(mktemp "$E2E_DIR/garbage.XXXXXX")
	{
		echo 'ip=$1'
		echo 'send() { exec 5<>"/dev/udp/$ip/53"; printf "$1" >&5; exec 5>&-; }'
		# 300 random datagrams of 0 to 700 bytes.
		echo 'for i in $(seq 300); do head -c $((RANDOM % 700)) /dev/urandom >"/dev/udp/$ip/53"; done'
		for ((n = 2; n < ${#good}; n += 2)); do
			echo "send '$(sed 's/../\\x&/g' <<<"${good:0:n}")'"
		done
		for s in "${shapes[@]}"; do
			for i in 1 2 3 4 5; do echo "send '$(sed 's/../\\x&/g' <<<"$s")'"; done
		done
		# TCP: garbage, a length prefix promising more than is sent, a bare
		# half message; each connection then closed.
		echo 'for i in $(seq 10); do exec 6<>"/dev/tcp/$ip/53" || break; head -c 100 /dev/urandom >&6; exec 6>&-; done'
		echo 'exec 6<>"/dev/tcp/$ip/53" && printf "\xff\xff\x42\x42" >&6; exec 6>&-'
		echo 'exec 6<>"/dev/tcp/$ip/53" && printf "\x00" >&6; exec 6>&-'
	} >"$cmds"
	npkts=$(grep -c '^send' "$cmds")
	echo "# sending 300 random + $npkts shaped datagrams and 12 TCP connections" >&3
	cx bash "$cmds" "$(host_var h1 ip)" 2>/dev/null || true
	glued_alive h1 || fail "glued died"
	dq sturdy1 A
	assert_eq "$(dq_rcode)" NOERROR "rcode after the garbage"
	assert_eq "$(dq_answers A)" "$ip" "address after the garbage"
	dq +tcp sturdy1 A
	assert_eq "$(dq_answers A)" "$ip" "address over TCP after the garbage"
	dq host.example.test A
	assert_eq "$(dq_answers A)" 192.0.2.10 "forwarded answer after the garbage"
}
