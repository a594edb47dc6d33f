// SPDX-License-Identifier: GPL-2.0
/* The floor for the fast path's cost: an XDP program that turns any UDP
 * datagram over IPv4 or IPv6 into a "reply" with the least work a reply
 * needs (bpf/reflect.h) and sends it back with XDP_TX. It answers nothing
 * correctly and is only ever loaded by the benchmark (tools/bpf-bench.c)
 * and the e2e load tests; never by glued.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "reflect.h"

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int glued_xdp_reflect(struct xdp_md *ctx)
{
	__u8 *dns;

	return reflect(ctx, &dns);
}
