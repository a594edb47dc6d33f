// SPDX-License-Identifier: GPL-2.0
/* The kernel fast path: single-label A/AAAA queries answered from
 * glued_names before they reach a socket. The answer routine is written
 * once: plan() reads Ethernet/IP/UDP in place (data/data_end), copies the
 * DNS message (at most GLUED_QUERY_MAX bytes) into a per-CPU scratch buffer
 * and decides there, counting every decision, without writing a byte of
 * the packet; build() turns the scratch copy into the reply, rewrites the
 * headers in place once the frame has its new length, and stores the DNS
 * bytes back. The XDP and TC entry points differ only in the load/store
 * and resize helpers, how the UDP checksum is finished (TC must respect a
 * partial checksum) and how the reply leaves (XDP_TX / bpf_redirect to the
 * interface it came in on).
 *
 * Why a scratch copy: DNS offsets depend on the label length, and bounds
 * checks on variable packet offsets multiply the verifier's states past
 * its limit (one path per label length times every later loop). Offsets
 * into a map value need only a mask.
 *
 * The rule this file lives by: answer only what userspace/core/dns_answer.c
 * would answer, with the same bytes (tests/bpf holds the two to it), and
 * pass everything else untouched, counted by reason in glued_stats. It never
 * says NXDOMAIN (the map may lag the table by microseconds and a false
 * NXDOMAIN is cached by resolvers), never truncates, never answers a query
 * addressed to a server glued is not. See docs/fastpath.md.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "glued/abi.h"
#include "csum.h"

char LICENSE[] SEC("license") = "GPL";

/* --- maps (layouts in include/glued/abi.h) ----------------------------------------------- */

/* BPF_F_NO_PREALLOC: a replaced element goes back to the allocator instead
 * of becoming the next update's spare at once, which keeps the window in
 * which a reader could see a reused value as small as the kernel allows. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct glued_name_key);
	__type(value, struct glued_name_val);
} glued_names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct glued_local_key);
	__type(value, struct glued_local_val);
} glued_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct glued_bpf_config);
} glued_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct glued_stats);
} glued_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} glued_rot SEC(".maps");

/* The DNS message being answered: private to the program (not ABI). 1024
 * bytes so that any offset masked with SCRATCH_MASK, plus what is read or
 * written there, stays inside. */
#define SCRATCH_LEN 1024
#define SCRATCH_MASK 0x1ff
struct scratch {
	__u8 msg[SCRATCH_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} glued_scratch SEC(".maps");

/* --- wire constants ---------------------------------------------------------------------- */

#define ETH_P_8021Q_ 0x8100
#define DNS_HDR 12
#define DNS_QR 0x8000
#define DNS_OPCODE 0x7800
#define DNS_AA 0x0400
#define DNS_RD 0x0100
#define DNS_RA 0x0080
#define DNS_CD 0x0010
#define DNS_TYPE_A 1
#define DNS_TYPE_AAAA 28
#define DNS_TYPE_OPT 41
#define DNS_CLASS_IN 1
#define DNS_UDP_MIN 512
#define DNS_UDP_MAX 1232 /* dns_wire.h DNS_UDP_MAX: the OPT we send advertises it */
#define ANSWER_FIXED 12	 /* c00c, type, class, ttl, rdlength */
#define OPT_RR 11
#define OPT_OPTIONS_MAX 8 /* options walked in a query's OPT; more passes */
#define LABEL_MAX 63

struct vlanhdr {
	__be16 tci, proto;
};

/* What plan() found and build() needs. Offsets are from data. */
struct plan {
	__u32 l3_off;  /* 14, or 18 behind one 802.1Q tag */
	__u32 qend;    /* DNS offset just past QCLASS: label length + 18 */
	__u32 mlen;    /* query length */
	__u32 dns_len; /* reply length */
	__u32 total;   /* frame length of the reply */
	__u64 old_sum; /* TC: sum of the query's DNS bytes */
	const struct glued_name_val *val;
	struct scratch *s;
	__be32 ttl_be;
	__u8 v6;     /* transport */
	__u8 aaaa;   /* QTYPE */
	__u8 n;	     /* answers */
	__u8 start;  /* rotation: first address index */
	__u8 opt;    /* the query had an OPT: answer one */
	__u8 do_bit; /* its DO bit */
};

static __always_inline void count(__u32 stat)
{
	__u32 key = 0;
	__u64 *st = bpf_map_lookup_elem(&glued_stats, &key);

	if (stat >= GLUED_STAT_MAX)
		stat = GLUED_STAT_error;
	if (st)
		st[stat]++; /* per-CPU: no other writer */
}

/* Big-endian 16 bits at m[off]; off is masked so the verifier sees it in
 * the scratch buffer (callers have checked it against the message). */
static __always_inline __u16 rd16(const __u8 *m, __u32 off)
{
	off &= SCRATCH_MASK;
	return (__u16)m[off] << 8 | m[off + 1];
}

static __always_inline void wr16(__u8 *m, __u32 off, __u16 v)
{
	off &= SCRATCH_MASK;
	m[off] = v >> 8;
	m[off + 1] = v & 0xff;
}

/* The hook's helpers; `tc` is a constant after inlining. */
static __always_inline long load_bytes(void *ctx, __u32 off, void *buf, __u32 len, const int tc)
{
	return tc ? bpf_skb_load_bytes(ctx, off, buf, len)
		  : bpf_xdp_load_bytes(ctx, off, buf, len);
}

static __always_inline long store_bytes(void *ctx, __u32 off, void *buf, __u32 len, const int tc)
{
	return tc ? bpf_skb_store_bytes(ctx, off, buf, len, BPF_F_RECOMPUTE_CSUM)
		  : bpf_xdp_store_bytes(ctx, off, buf, len);
}

/* --- decide -------------------------------------------------------------------------------- */

/* The DNS message m[0..mlen) (mlen in [12, GLUED_QUERY_MAX]). Returns a
 * glued_stat: answered or nodata with *p filled, or the reason to pass. */
static __always_inline __u32 plan_dns(const __u8 *m, __u32 mlen, const struct glued_bpf_config *cfg,
				      struct plan *p)
{
	struct glued_name_key key = {};
	const struct glued_name_val *val;
	__u16 flags, qtype, arcount, limit = DNS_UDP_MIN;
	__u32 len, alen, n, q, zero = 0, *rot;
	__u64 bad = 0;

	flags = rd16(m, 2);
	if (flags & DNS_QR)
		return GLUED_STAT_qr_set;
	if (flags & DNS_OPCODE)
		return GLUED_STAT_opcode;
	arcount = rd16(m, 10);
	if (rd16(m, 4) != 1 || rd16(m, 6) || rd16(m, 8) || arcount > 1)
		return GLUED_STAT_counts;

	/* The question: one label, then the root, QTYPE, QCLASS. */
	if (mlen < DNS_HDR + 1)
		return GLUED_STAT_truncated;
	len = m[DNS_HDR];
	if (len == 0)
		return GLUED_STAT_not_single_label;
	if ((len & 0xc0) == 0xc0)
		return GLUED_STAT_compression;
	if (len > LABEL_MAX)
		return GLUED_STAT_label_too_long;
	if (DNS_HDR + 1 + len + 5 > mlen)
		return GLUED_STAT_truncated;
	/* Lowercase into the zero-padded key, eight bytes at a time (SWAR):
	 * branch-free, because a branch on the length would split its range
	 * and the verifier would walk the rest once per length. Bytes past
	 * the label are masked to zero in the key and to non-zero for the
	 * NUL test. Little-endian: byte k of a word is bits 8k..8k+7. */
	for (__u32 w = 0; w < GLUED_NAME_LEN / 8; w++) {
		__u64 x = *(const __u64 *)(m + DNS_HDR + 1 + w * 8);
		__s64 t = (__s64)len - (__s64)(w * 8);
		__u64 mask, h, up;

		t &= ~(t >> 63);		   /* max(t, 0) */
		t = 8 + ((t - 8) & ((t - 8) >> 63)); /* min(t, 8) */
		mask = ((1ULL << (4 * t)) << (4 * t)) - 1;
		h = x & 0x7f7f7f7f7f7f7f7fULL;
		up = ~x & ((h + 0x3f3f3f3f3f3f3f3fULL) ^ (h + 0x2525252525252525ULL)) &
		     0x8080808080808080ULL; /* ASCII and 'A' <= b <= 'Z' */
		*(__u64 *)&key.name[w * 8] = (x | up >> 2) & mask;
		x |= ~mask;
		bad |= (x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL;
	}
	if (bad)
		return GLUED_STAT_label_bad; /* no table name holds a NUL */
	q = DNS_HDR + 1 + len;
	if (m[q] != 0)
		return (m[q] & 0xc0) == 0xc0 ? GLUED_STAT_compression
					     : GLUED_STAT_not_single_label;
	qtype = rd16(m, q + 1);
	if (rd16(m, q + 3) != DNS_CLASS_IN)
		return GLUED_STAT_class;
	if (qtype != DNS_TYPE_A && qtype != DNS_TYPE_AAAA)
		return GLUED_STAT_type;
	p->qend = q + 5;

	/* ARCOUNT 1: a plain OPT (root owner, version 0, options whose TLVs
	 * fill RDLENGTH exactly, none echoed: dns_answer() echoes none);
	 * anything else is userspace's. */
	p->opt = 0;
	p->do_bit = 0;
	if (arcount) {
		__u32 o = p->qend, rdlen, off = 0;

		if (o + OPT_RR > mlen)
			return GLUED_STAT_malformed;
		if (m[o] != 0 || rd16(m, o + 1) != DNS_TYPE_OPT || m[o + 6] != 0)
			return GLUED_STAT_edns_unsupported;
		rdlen = rd16(m, o + 9);
		if (o + OPT_RR + rdlen > mlen)
			return GLUED_STAT_malformed;
		for (__u32 i = 0; i < OPT_OPTIONS_MAX; i++) {
			if (off >= rdlen)
				break;
			if (off + 4 > rdlen)
				return GLUED_STAT_malformed;
			off += 4 + rd16(m, o + OPT_RR + off + 2);
		}
		if (off != rdlen)
			return off > rdlen ? GLUED_STAT_malformed : GLUED_STAT_edns_unsupported;
		limit = rd16(m, o + 3);
		limit = limit < DNS_UDP_MIN ? DNS_UDP_MIN : limit > DNS_UDP_MAX ? DNS_UDP_MAX : limit;
		p->opt = 1;
		p->do_bit = m[o + 7] & 0x80 ? 1 : 0;
	}

	val = bpf_map_lookup_elem(&glued_names, &key);
	if (!val)
		return GLUED_STAT_miss;
	p->aaaa = qtype == DNS_TYPE_AAAA;
	if (p->aaaa) {
		n = val->n_v6;
		alen = 16;
		if ((val->flags & GLUED_NAME_V6_OVERFLOW) || n > GLUED_V6_MAX)
			return GLUED_STAT_overflow;
	} else {
		n = val->n_v4;
		alen = 4;
		if ((val->flags & GLUED_NAME_V4_OVERFLOW) || n > GLUED_V4_MAX)
			return GLUED_STAT_overflow;
	}
	p->dns_len = p->qend + n * (ANSWER_FIXED + alen) + (p->opt ? OPT_RR : 0);
	if (p->dns_len > limit)
		return GLUED_STAT_too_big; /* userspace sends TC=1 */
	p->val = val;
	p->n = (__u8)n;
	p->ttl_be = bpf_htonl(cfg->ttl_s);
	p->start = 0;
	rot = bpf_map_lookup_elem(&glued_rot, &zero);
	if (rot) {
		if (n)
			p->start = (__u8)(*rot % n);
		*rot += 1;
	}
	return n ? GLUED_STAT_answered : GLUED_STAT_nodata;
}

/* Ethernet, IP, UDP in place, then the DNS message into scratch and
 * plan_dns(). */
static __always_inline __u32 plan(void *ctx, const void *data, const void *data_end,
				  struct plan *p, const int tc)
{
	const struct ethhdr *eth = data;
	const struct glued_bpf_config *cfg;
	struct glued_local_key lk = {};
	const struct udphdr *udp;
	__u32 zero = 0, ulen, mlen, stat;
	__u16 proto;

	cfg = bpf_map_lookup_elem(&glued_config, &zero);
	if (!cfg || cfg->abi_version != GLUED_ABI_VERSION || !(cfg->flags & GLUED_CFG_ENABLED))
		return GLUED_STAT_disabled;
	if ((const void *)(eth + 1) > data_end)
		return GLUED_STAT_not_ip;
	proto = eth->h_proto;
	p->l3_off = sizeof(*eth);
	if (proto == bpf_htons(ETH_P_8021Q_)) {
		const struct vlanhdr *vh = (const void *)(eth + 1);

		if ((const void *)(vh + 1) > data_end)
			return GLUED_STAT_truncated;
		proto = vh->proto;
		p->l3_off += sizeof(*vh);
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		const struct iphdr *ip = data + p->l3_off;
		__u32 tot;

		if ((const void *)(ip + 1) > data_end)
			return GLUED_STAT_truncated;
		if (ip->version != 4)
			return GLUED_STAT_bad_ip;
		if (ip->ihl != 5)
			return GLUED_STAT_ip_options;
		if (ip->frag_off & bpf_htons(0x3fff)) /* MF or an offset */
			return GLUED_STAT_fragment;
		if (ip->protocol != IPPROTO_UDP)
			return GLUED_STAT_not_udp;
		tot = bpf_ntohs(ip->tot_len);
		if (tot < sizeof(*ip) + sizeof(*udp) ||
		    csum_fold(csum_ip4_sum((const __u32 *)ip)) != 0xffff)
			return GLUED_STAT_bad_ip;
		if ((const void *)ip + tot > data_end)
			return GLUED_STAT_truncated;
		udp = (const void *)(ip + 1);
		if ((const void *)(udp + 1) > data_end)
			return GLUED_STAT_truncated;
		if (udp->dest != cfg->port_be)
			return GLUED_STAT_not_port;
		ulen = bpf_ntohs(udp->len);
		if (ulen < sizeof(*udp) || ulen > tot - sizeof(*ip))
			return GLUED_STAT_malformed;
		lk.family = GLUED_FAMILY_V4;
		__builtin_memcpy(lk.addr, &ip->daddr, 4);
		p->v6 = 0;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		const struct ipv6hdr *ip6 = data + p->l3_off;
		__u32 plen;

		if ((const void *)(ip6 + 1) > data_end)
			return GLUED_STAT_truncated;
		if (ip6->version != 6)
			return GLUED_STAT_bad_ip;
		switch (ip6->nexthdr) {
		case IPPROTO_UDP:
			break;
		case IPPROTO_FRAGMENT:
			return GLUED_STAT_fragment;
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case IPPROTO_AH:
		case IPPROTO_ESP:
		case 135: /* mobility */
		case 139: /* HIP */
		case 140: /* shim6 */
		case 253:
		case 254:
			return GLUED_STAT_ip_options;
		default:
			return GLUED_STAT_not_udp;
		}
		plen = bpf_ntohs(ip6->payload_len);
		if ((const void *)(ip6 + 1) + plen > data_end)
			return GLUED_STAT_truncated;
		udp = (const void *)(ip6 + 1);
		if ((const void *)(udp + 1) > data_end)
			return GLUED_STAT_truncated;
		if (udp->dest != cfg->port_be)
			return GLUED_STAT_not_port;
		ulen = bpf_ntohs(udp->len);
		if (ulen < sizeof(*udp) || ulen > plen || udp->check == 0)
			return GLUED_STAT_malformed;
		lk.family = GLUED_FAMILY_V6;
		__builtin_memcpy(lk.addr, &ip6->daddr, 16);
		p->v6 = 1;
	} else {
		return GLUED_STAT_not_ip;
	}

	if (!bpf_map_lookup_elem(&glued_addrs, &lk))
		return GLUED_STAT_not_ours;
	mlen = ulen - sizeof(*udp);
	if (mlen > GLUED_QUERY_MAX)
		return GLUED_STAT_too_big;
	if (mlen < DNS_HDR)
		return GLUED_STAT_malformed;
	p->s = bpf_map_lookup_elem(&glued_scratch, &zero);
	if (!p->s)
		return GLUED_STAT_error;
	if (load_bytes(ctx, (__u32)((const void *)(udp + 1) - data), p->s->msg, mlen, tc))
		return GLUED_STAT_truncated;
	p->mlen = mlen;
	stat = plan_dns(p->s->msg, mlen, cfg, p);
	if (stat != GLUED_STAT_answered && stat != GLUED_STAT_nodata)
		return stat;
	p->total = (__u32)((const void *)(udp + 1) - data) + p->dns_len;
	if (tc)
		p->old_sum = csum_buf(p->s->msg, mlen);
	return stat;
}

/* --- reply ----------------------------------------------------------------------------------- */

/* idx + 1, wrapping to 0 at n; branch-free (see build_dns()), no division. */
static __always_inline __u32 next_idx(__u32 idx, __u32 n)
{
	__u32 ge;

	idx += 1;
	ge = ((idx - n) >> 31) ^ 1; /* idx >= n; both are < 2^31 */
	return idx - (n & -ge);
}

/* Answers and OPT into scratch after the question; the header too.
 * verifier: every slot is written, used or not (slots past n hold junk
 * that is never stored: the reply is dns_len bytes and the OPT lands on
 * its own offset). An early exit at k == n split n's range at each step
 * and multiplied the states of everything after past the limit. */
static __always_inline void build_dns(const struct plan *p)
{
	__u8 *m = p->s->msg, *a;
	__u32 o = p->qend & 0x7f, n = p->n, idx = p->start;
	__u16 flags = rd16(m, 2);

	wr16(m, 2, DNS_QR | DNS_AA | DNS_RA | (flags & (DNS_RD | DNS_CD)));
	wr16(m, 6, n);
	wr16(m, 8, 0);
	wr16(m, 10, p->opt);
	if (p->aaaa) {
		for (__u32 k = 0; k < GLUED_V6_MAX; k++) {
			a = m + o;
			a[0] = 0xc0;
			a[1] = DNS_HDR;
			a[2] = 0;
			a[3] = DNS_TYPE_AAAA;
			a[4] = 0;
			a[5] = DNS_CLASS_IN;
			__builtin_memcpy(a + 6, &p->ttl_be, 4);
			a[10] = 0;
			a[11] = 16;
			__builtin_memcpy(a + ANSWER_FIXED, p->val->v6[idx & (GLUED_V6_MAX - 1)], 16);
			o += ANSWER_FIXED + 16;
			idx = next_idx(idx, n);
		}
	} else {
		for (__u32 k = 0; k < GLUED_V4_MAX; k++) {
			a = m + o;
			a[0] = 0xc0;
			a[1] = DNS_HDR;
			a[2] = 0;
			a[3] = DNS_TYPE_A;
			a[4] = 0;
			a[5] = DNS_CLASS_IN;
			__builtin_memcpy(a + 6, &p->ttl_be, 4);
			a[10] = 0;
			a[11] = 4;
			__builtin_memcpy(a + ANSWER_FIXED, p->val->v4[idx & (GLUED_V4_MAX - 1)], 4);
			o += ANSWER_FIXED + 4;
			idx = next_idx(idx, n);
		}
	}
	if (p->opt) {
		a = m + ((p->dns_len - OPT_RR) & SCRATCH_MASK);
		a[0] = 0;
		a[1] = 0;
		a[2] = DNS_TYPE_OPT;
		a[3] = DNS_UDP_MAX >> 8;
		a[4] = DNS_UDP_MAX & 0xff;
		a[5] = 0; /* extended RCODE */
		a[6] = 0; /* version */
		a[7] = p->do_bit ? 0x80 : 0;
		a[8] = 0;
		a[9] = 0; /* RDLENGTH */
		a[10] = 0;
	}
}

/* Rewrite the resized frame's headers in place and store the DNS reply.
 * Returns the pseudo-header sum plus the UDP header sum (the check field
 * as found: XDP zeroes it first, TC leaves the query's), or CSUM_BAD if a
 * bounds check fails (not expected: the frame has exactly p->total bytes). */
static __always_inline __u64 build(void *ctx, void *data, void *data_end, const struct plan *p,
				   const int tc)
{
	struct ethhdr *eth = data;
	struct udphdr *udp;
	__u8 mac[ETH_ALEN];
	__u32 l3_off = p->l3_off, dlen = p->dns_len, ulen = sizeof(*udp) + dlen;
	__u64 sum;

	if ((void *)(eth + 1) > data_end || (l3_off != 14 && l3_off != 18))
		return CSUM_BAD;
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);

	if (!p->v6) {
		struct iphdr *ip = data + l3_off;
		__be32 t;

		if ((void *)(ip + 1) > data_end)
			return CSUM_BAD;
		t = ip->saddr;
		ip->saddr = ip->daddr;
		ip->daddr = t;
		ip->tot_len = bpf_htons(sizeof(*ip) + ulen);
		ip->frag_off = 0;
		ip->ttl = GLUED_IP_TTL;
		ip->check = 0;
		ip->check = (__u16)~csum_fold(csum_ip4_sum((const __u32 *)ip));
		sum = csum_pseudo4(ip->saddr, ip->daddr, ulen);
		udp = (void *)(ip + 1);
	} else {
		struct ipv6hdr *ip6 = data + l3_off;
		struct in6_addr t;

		if ((void *)(ip6 + 1) > data_end)
			return CSUM_BAD;
		t = ip6->saddr;
		ip6->saddr = ip6->daddr;
		ip6->daddr = t;
		ip6->payload_len = bpf_htons(ulen);
		ip6->hop_limit = GLUED_IP_TTL;
		sum = csum_pseudo6(ip6->saddr.in6_u.u6_addr32, ip6->daddr.in6_u.u6_addr32, ulen);
		udp = (void *)(ip6 + 1);
	}
	if ((void *)(udp + 1) > data_end)
		return CSUM_BAD;
	{
		__be16 t = udp->source;

		udp->source = udp->dest;
		udp->dest = t;
	}
	udp->len = bpf_htons(ulen);
	if (!tc)
		udp->check = 0;
	sum += (__u64)((__u32 *)udp)[0] + ((__u32 *)udp)[1];
	if (dlen < DNS_HDR || dlen > GLUED_QUERY_MAX) /* verifier: a non-zero, bounded size */
		return CSUM_BAD;
	if (store_bytes(ctx, (__u32)((void *)(udp + 1) - data), p->s->msg, dlen, tc))
		return CSUM_BAD;
	return sum;
}

static __always_inline __u16 *udp_check(void *data, void *data_end, const struct plan *p)
{
	__u32 off = p->l3_off + (p->v6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr));
	struct udphdr *udp;

	if (off > 18 + sizeof(struct ipv6hdr))
		return NULL;
	udp = data + off;
	if ((void *)(udp + 1) > data_end)
		return NULL;
	return &udp->check;
}

/* --- entry points ------------------------------------------------------------------------- */

SEC("xdp")
int glued_xdp_dns(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct plan p;
	__u32 stat = plan(ctx, data, data_end, &p, 0);
	__u64 hdr, dns;
	__u16 *check;

	if (stat != GLUED_STAT_answered && stat != GLUED_STAT_nodata) {
		count(stat);
		return XDP_PASS;
	}
	build_dns(&p);
	if (bpf_xdp_adjust_tail(ctx, (int)p.total - (int)(data_end - data))) {
		count(GLUED_STAT_resize_failed);
		return XDP_PASS;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	hdr = build(ctx, data, data_end, &p, 0);
	dns = csum_buf(p.s->msg, p.dns_len);
	data = (void *)(long)ctx->data; /* store_bytes may move nothing, but re-read */
	data_end = (void *)(long)ctx->data_end;
	check = udp_check(data, data_end, &p);
	if (hdr == CSUM_BAD || dns == CSUM_BAD || !check) {
		count(GLUED_STAT_error);
		return XDP_DROP;
	}
	*check = csum_udp_field((__u64)csum_fold(hdr) + csum_fold(dns));
	count(stat);
	return XDP_TX;
}

/* TC: the query may carry a partial UDP checksum (CHECKSUM_PARTIAL from a
 * container's socket): its field then holds the pseudo-header sum and the
 * device finishes the rest. bpf_l4_csum_replace() knows which case it is,
 * so the reply's checksum is reached by telling it what changed: the
 * segment (ignored for a partial checksum) and the pseudo header (the
 * length; the swapped addresses do not change the sum). An IPv4 query with
 * no checksum (0) gets a full one. */
SEC("tc")
int glued_tc_dns(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct plan p;
	__u32 stat, csum_off, old_ulen, new_ulen;
	__u64 hdr, dns;
	__u16 *check, old_check;

	stat = plan(skb, data, data_end, &p, 1);
	if (stat != GLUED_STAT_answered && stat != GLUED_STAT_nodata) {
		count(stat);
		return TC_ACT_OK;
	}
	build_dns(&p);
	if (bpf_skb_change_tail(skb, p.total, 0)) {
		count(GLUED_STAT_resize_failed);
		return TC_ACT_OK;
	}
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	check = udp_check(data, data_end, &p);
	if (!check)
		goto err;
	old_check = *check;
	hdr = build(skb, data, data_end, &p, 1);
	dns = csum_buf(p.s->msg, p.dns_len);
	if (hdr == CSUM_BAD || dns == CSUM_BAD || p.old_sum == CSUM_BAD)
		goto err;
	csum_off = p.l3_off + (p.v6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr)) +
		   __builtin_offsetof(struct udphdr, check);
	if (!p.v6 && old_check == 0) {
		/* No checksum in the query: write a full one. */
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
		check = udp_check(data, data_end, &p);
		if (!check)
			goto err;
		*check = csum_udp_field((__u64)csum_fold(hdr) + csum_fold(dns));
	} else {
		/* Ports swapped and the check field kept: only the DNS bytes
		 * and the length (in the UDP header and the pseudo header)
		 * changed. */
		old_ulen = sizeof(struct udphdr) + p.mlen;
		new_ulen = sizeof(struct udphdr) + p.dns_len;
		__u32 seg_diff = csum_fold(dns) + (__u16)~csum_fold(p.old_sum) +
				 bpf_htons((__u16)new_ulen) + (__u16)~bpf_htons((__u16)old_ulen);
		__u32 len_diff = bpf_htons((__u16)new_ulen) + (__u16)~bpf_htons((__u16)old_ulen);

		if (bpf_l4_csum_replace(skb, csum_off, 0, seg_diff, BPF_F_MARK_MANGLED_0) ||
		    bpf_l4_csum_replace(skb, csum_off, 0, len_diff,
					BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0))
			goto err;
	}
	count(stat);
	return bpf_redirect(skb->ifindex, 0);
err:
	count(GLUED_STAT_error);
	return TC_ACT_SHOT;
}
