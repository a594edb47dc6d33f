// SPDX-License-Identifier: GPL-2.0
/* Benchmark build of the fast path, never loaded by glued: the whole of
 * glued_dns.bpf.c plus programs that let BPF_PROG_TEST_RUN time the
 * answer with repeat = N on warm caches (tools/bpf-bench.c), and the
 * floors it is compared with.
 * BPF_PROG_TEST_RUN does not restore the frame between repeats, and the
 * answer rewrites it into a reply; so glued_xdp_bench first puts the query
 * back (length and bytes, from glued_benchq) and then runs exactly what
 * glued_xdp_dns runs, and glued_xdp_restore only puts the query back.
 * The answer's cost is the difference of the two.
 */
#include "glued_dns.bpf.c"
#include "reflect.h"

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

/* The floor of any program that must consult glued_names: the reflector
 * plus the label hashed as glued_xdp_dns hashes a name of up to 8 bytes
 * (one word) and one lookup, which must hit. Nothing else: no parse, no
 * liveness, no counter. The reflector swaps back and forth, so the frame
 * is a query again after two runs: repeat = N. */
static __always_inline int floor_lookup(struct xdp_md *ctx)
{
	__u8 *dns, *data_end;
	__u64 h, w;
	__u32 len;

	if (reflect(ctx, &dns) != XDP_TX)
		return XDP_PASS;
	data_end = (__u8 *)(long)ctx->data_end;
	if (dns + DNS_HDR_LEN + 1 + 8 > data_end)
		return XDP_PASS;
	len = dns[DNS_HDR_LEN];
	if (len == 0 || len > 8)
		return XDP_PASS;
	w = *(__u64 *)(dns + DNS_HDR_LEN + 1) & (~0ULL >> (64 - 8 * len));
	h = glued_name_hash_step(GLUED_NAME_HASH_SEED ^ len, w);
	return bpf_map_lookup_elem(&glued_names, &h) ? XDP_TX : XDP_PASS;
}

SEC("xdp")
int glued_xdp_floor(struct xdp_md *ctx)
{
	return floor_lookup(ctx);
}

/* The floor of an answer from glued_names: the above, then the frame
 * grown by one A record (16 bytes), as every answer grows it. Calls of
 * one run only (the frame grows every run); glued_xdp_floor_bench times
 * it warm like glued_xdp_bench, minus glued_xdp_restore. */
static __always_inline int floor_grow(struct xdp_md *ctx)
{
	if (floor_lookup(ctx) != XDP_TX)
		return XDP_PASS;
	return bpf_xdp_adjust_tail(ctx, ANSWER_FIXED + 4) ? XDP_PASS : XDP_TX;
}

SEC("xdp")
int glued_xdp_floor_grow(struct xdp_md *ctx)
{
	return floor_grow(ctx);
}

SEC("xdp")
int glued_xdp_floor_bench(struct xdp_md *ctx)
{
	if (restore(ctx))
		return XDP_ABORTED;
	return floor_grow(ctx);
}
