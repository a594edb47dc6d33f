/* The reflector's work, shared by bpf/reflector.bpf.c (the floor the fast
 * path is measured against) and the floor programs of the benchmark build
 * (bpf/glued_dns_bench.bpf.c): turn a UDP datagram over IPv4 or IPv6 into
 * a "reply" with the least work a reply needs (swap MACs, addresses and
 * ports, set the DNS QR bit, patch the UDP checksum for it). It answers
 * nothing correctly; glued never loads it. Returns XDP_TX with *dns at
 * the DNS message (its first 4 bytes checked against data_end), or
 * XDP_PASS.
 */
#ifndef GLUED_BPF_REFLECT_H
#define GLUED_BPF_REFLECT_H

static __always_inline int reflect(struct xdp_md *ctx, __u8 **dns)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct udphdr *udp;
	__u8 mac[ETH_ALEN];
	__be16 *flags, old, port;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		__be32 a;

		if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_UDP || ip->ihl != 5)
			return XDP_PASS;
		a = ip->saddr;
		ip->saddr = ip->daddr;
		ip->daddr = a;
		udp = (void *)(ip + 1);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		struct in6_addr a;

		if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_UDP)
			return XDP_PASS;
		a = ip6->saddr;
		ip6->saddr = ip6->daddr;
		ip6->daddr = a;
		udp = (void *)(ip6 + 1);
	} else {
		return XDP_PASS;
	}
	flags = (void *)(udp + 1) + 2;
	if ((void *)(flags + 1) > data_end)
		return XDP_PASS;
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	port = udp->source;
	udp->source = udp->dest;
	udp->dest = port;
	old = *flags;
	*flags |= bpf_htons(0x8000);
	if (udp->check) { /* RFC 1624 incremental update */
		__u32 s = (__u16)~udp->check + (__u32)(__u16)~old + *flags;

		s = (s & 0xffff) + (s >> 16);
		s = (s & 0xffff) + (s >> 16);
		udp->check = (__u16)~s ? (__u16)~s : 0xffff;
	}
	*dns = (__u8 *)(udp + 1);
	return XDP_TX;
}

#endif
