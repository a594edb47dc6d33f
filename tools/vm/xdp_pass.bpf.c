// SPDX-License-Identifier: GPL-2.0
/* XDP_PASS on the client's end of the check's veth pair (tools/vm/check.sh):
 * a frame sent back with XDP_TX reaches a veth peer only through the peer's
 * XDP receive ring, which exists only while the peer runs an XDP program. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int glued_check_pass(struct xdp_md *ctx __attribute__((unused)))
{
	return XDP_PASS;
}
