// SPDX-License-Identifier: GPL-2.0
/* Benchmark build of the fast path, never loaded by glued: the whole of
 * glued_dns.bpf.c plus two programs that let BPF_PROG_TEST_RUN time the
 * answer with repeat = N on warm caches (tools/bpf-bench.c).
 * BPF_PROG_TEST_RUN does not restore the frame between repeats, and the
 * answer rewrites it into a reply; so glued_xdp_bench first puts the query
 * back (length and bytes, from glued_benchq) and then runs exactly what
 * glued_xdp_dns runs, and glued_xdp_restore only puts the query back.
 * The answer's cost is the difference of the two.
 */
#include "glued_dns.bpf.c"

struct bench_q {
	__u32 len;
	__u8 frame[256];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_q);
} glued_benchq SEC(".maps");

static __always_inline int restore(struct xdp_md *ctx)
{
	__u32 zero = 0, len;
	struct bench_q *q = bpf_map_lookup_elem(&glued_benchq, &zero);
	long cur = (long)ctx->data_end - (long)ctx->data;

	if (!q)
		return -1;
	len = q->len & (sizeof(q->frame) - 1); /* verifier: a bounded size */
	if (len < 14)
		return -1;
	/* Always one resize call (0 when the length is right), so that
	 * restore-only and restore-then-answer pay for the same calls. */
	if (bpf_xdp_adjust_tail(ctx, (int)len - (int)cur))
		return -1;
	return bpf_xdp_store_bytes(ctx, 0, q->frame, len) ? -1 : 0;
}

SEC("xdp")
int glued_xdp_bench(struct xdp_md *ctx)
{
	if (restore(ctx))
		return XDP_ABORTED;
	return xdp_dns(ctx);
}

SEC("xdp")
int glued_xdp_restore(struct xdp_md *ctx)
{
	if (restore(ctx))
		return XDP_ABORTED;
	return XDP_PASS;
}
