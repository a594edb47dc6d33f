# e2e harness, network part: the LAN (a bridge in its own namespace), the
# client namespace ("another machine" that runs dig/kdig) and the upstream
# namespace running dnsmasq as the resolver glued forwards to. Veth pairs are
# created directly inside the namespaces, so no interface ever appears in the
# root namespace. Addressing (all RFC 1918, so glued's default GLUED_ALLOW
# covers the client):
#   LAN 10.231.0.0/24: host N .(10+N), client .100, upstream .53,
#   silent upstream .99 (a static neighbour entry to a MAC nobody owns);
#   the same last byte in fd00:e2e:ff::/64 (ULA, also in the default allow)
#   glued_net on host N: 10.213.N.0/24 (gateway .1), fd00:e2e:N::/64

E2E_LAN_NET=10.231.0
E2E_UPSTREAM_IP=$E2E_LAN_NET.53
E2E_SILENT_IP=$E2E_LAN_NET.99
E2E_CLIENT_IP=$E2E_LAN_NET.100
E2E_LAN_NET6=fd00:e2e:ff:

e2e_ns() { echo "$E2E_PREFIX-$1"; } # namespace name of a role

# lan_create: the LAN namespace with bridge br0.
lan_create() {
	local lan
	lan=$(e2e_ns lan)
	ip netns add "$lan" || return 1
	echo "netns $lan" >>"$E2E_DIR/created"
	ip -n "$lan" link set lo up
	ip -n "$lan" link add br0 type bridge
	ip -n "$lan" link set br0 up
}

# lan_attach NS IP: a veth from the LAN bridge to namespace NS as eth0, with
# IP/24 and the IPv6 address of the same last byte (no DAD: usable at once).
lan_attach() {
	local ns=$1 ip4=$2 lan port
	lan=$(e2e_ns lan)
	port=p${ip4##*.}
	ip -n "$lan" link add "$port" type veth peer name eth0 netns "$ns" || return 1
	ip -n "$lan" link set "$port" master br0 up
	ip -n "$ns" addr add "$ip4/24" dev eth0
	ip -n "$ns" addr add "$E2E_LAN_NET6:${ip4##*.}/64" dev eth0 nodad
	ip -n "$ns" link set eth0 up
	ip -n "$ns" link set lo up
}

# netns_create ROLE: an empty prefixed namespace.
netns_create() {
	local ns
	ns=$(e2e_ns "$1")
	ip netns add "$ns" || return 1
	echo "netns $ns" >>"$E2E_DIR/created"
}

# client_create: the client namespace on the LAN.
client_create() {
	netns_create cli && lan_attach "$(e2e_ns cli)" "$E2E_CLIENT_IP"
}

# cx CMD...: run CMD in the client namespace.
cx() {
	ip netns exec "$(e2e_ns cli)" "$@"
}

# upstream_create: the upstream namespace and its dnsmasq.
upstream_create() {
	netns_create up && lan_attach "$(e2e_ns up)" "$E2E_UPSTREAM_IP" && upstream_start
}

# upstream_start: dnsmasq on $E2E_UPSTREAM_IP:53 with a few fixed records.
#   *.example.test          A 192.0.2.7, AAAA 2001:db8::7 (wildcard)
#   host.example.test       A 192.0.2.10, AAAA 2001:db8::10
#   txt.example.test        TXT "glued-e2e"
upstream_start() {
	local up
	up=$(e2e_ns up)
	e2e_spawn dnsmasq "$E2E_DIR/dnsmasq.log" ip netns exec "$up" \
		dnsmasq --keep-in-foreground --conf-file=/dev/null --pid-file= --user=root \
		--no-resolv --no-hosts --bind-interfaces --listen-address="$E2E_UPSTREAM_IP" \
		--port=53 --log-queries --log-facility=- --cache-size=0 --local-ttl=30 \
		--host-record=host.example.test,192.0.2.10,2001:db8::10 \
		--txt-record=txt.example.test,glued-e2e \
		--address=/example.test/192.0.2.7 --address=/example.test/2001:db8::7
	wait_until 5 upstream_answers || {
		cat "$E2E_DIR/dnsmasq.log" >&2
		return 1
	}
}

upstream_answers() {
	[ "$(cx dig +short +time=1 +tries=1 @"$E2E_UPSTREAM_IP" host.example.test A)" = 192.0.2.10 ]
}

upstream_stop() {
	e2e_kill dnsmasq 5
}
