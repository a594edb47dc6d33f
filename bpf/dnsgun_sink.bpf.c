// SPDX-License-Identifier: GPL-2.0
/* The load generator's receiving end (tools/dnsgun.c): on the client's veth,
 * count every UDP datagram from port 53 (a reply) and drop it there, so
 * counting replies costs the client no socket and no copy; pass everything
 * else (ARP, neighbour discovery). Its presence also lets the server's
 * XDP_TX on the peer veth deliver (veth needs an XDP program or GRO on the
 * receiving end). Only ever loaded by the benchmark; never by glued.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

enum { SINK_REPLIES, SINK_BYTES, SINK_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SINK_MAX);
	__type(key, __u32);
	__type(value, __u64);
} dnsgun_counts SEC(".maps");

static __always_inline void count(__u32 k, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&dnsgun_counts, &k);

	if (v)
		*v += n;
}

SEC("xdp")
int dnsgun_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct udphdr *udp;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_UDP || ip->ihl != 5)
			return XDP_PASS;
		udp = (void *)(ip + 1);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_UDP)
			return XDP_PASS;
		udp = (void *)(ip6 + 1);
	} else {
		return XDP_PASS;
	}
	if ((void *)(udp + 1) > data_end || udp->source != bpf_htons(53))
		return XDP_PASS;
	count(SINK_REPLIES, 1);
	count(SINK_BYTES, (__u64)(data_end - data));
	return XDP_DROP;
}
