// SPDX-License-Identifier: GPL-2.0
/* The kernel fast path: single-label A/AAAA queries answered from
 * glued_names before they reach a socket. The answer routine is written
 * once, over the packet itself: plan() reads Ethernet/IP/UDP/DNS in place
 * (data/data_end) and decides, counting every decision, without writing a
 * byte; then the answer function of the hook (xdp_answer(), inlined /
 * tc_answer(); see "answering") resizes the frame and
 * write_reply() rewrites the headers and writes the answers after the
 * question, which stays where it is (case echoed for free). The UDP
 * checksum is built from what the program read and wrote, never by a
 * second pass over the bytes. The XDP and TC paths differ only in the
 * resize helper, how the UDP checksum is finished (TC must respect a
 * partial checksum) and how the reply leaves (XDP_TX / bpf_redirect to the
 * interface it came in on). A third entry point, glued_ctr_dns, is the TC
 * path in a container's namespace: plan() in MODE_CTR matches Docker's
 * resolver address instead of glued's, and the reply re-enters lo.
 *
 * Cost is the point of this file (docs/fastpath.md has the figures): one
 * hash lookup with an 8-byte key for the name (the value holds the name,
 * compared word by word), the local-address lookup and the clock skipped
 * by a per-CPU cache, no copy of the message (XDP), one helper call to
 * resize, one checksum fold per checksum.
 *
 * The rule this file lives by: answer only what userspace/core/dns_answer.c
 * would answer, with the same bytes (tests/bpf holds the two to it), and
 * pass everything else untouched, counted by reason in glued_stats. It never
 * says NXDOMAIN (the map may lag the table by microseconds and a false
 * NXDOMAIN is cached by resolvers), never truncates, never answers a query
 * addressed to a server glued is not, and stops answering when glued stops
 * refreshing glued_config.alive_until_ns.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "glued/abi.h"
#include "glued/dns.h"
#include "csum.h"

char LICENSE[] SEC("license") = "GPL";

/* --- maps (layouts in include/glued/abi.h) ----------------------------------------------- */

/* BPF_F_NO_PREALLOC: a replaced element goes back to the allocator instead
 * of becoming the next update's spare at once, which keeps the window in
 * which a reader could see a reused value as small as the kernel allows. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GLUED_NAMES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct glued_name_key);
	__type(value, struct glued_name_val);
} glued_names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GLUED_ADDRS_MAX);
	__type(key, struct glued_local_key);
	__type(value, struct glued_local_val);
} glued_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, GLUED_ALLOW_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct glued_allow_key);
	__type(value, __u8);
} glued_allow SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct glued_bpf_config);
} glued_config SEC(".maps");

/* Response rate limiting (abi.h, "glued_rrl"): one GCRA timestamp per
 * source prefix; the daemon's rate is glued_config's `rrl`. Shared by
 * every CPU, not per-CPU: a spoofed flood spread over the CPUs by RSS must
 * meet one limit, not one per CPU. Racing CPUs may both pass on one credit
 * (the update is a plain store): the limit is exact per CPU and at worst
 * CPUs x rate overall. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, GLUED_RRL_MAX);
	__type(key, struct glued_rrl_key);
	__type(value, struct glued_rrl_bucket);
} glued_rrl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct glued_stats);
} glued_stats SEC(".maps");

/* glued_ctr_dns's decisions (abi.h, "in-container"): the same layout as
 * glued_stats, another instance, so that an answer's hook can be told. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct glued_stats);
} glued_ctr_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} glued_rot SEC(".maps");

/* TC only, private (not ABI): a copy of the query's DNS message, summed
 * for the checksum diff a partial checksum needs (see glued_tc_dns). Sized
 * for csum_buf()'s verifier bound (CSUM_BUF_SPAN + its padding), not for
 * the 512 bytes it holds. */
#define SCRATCH_LEN CSUM_BUF_SPAN
struct scratch {
	__u8 msg[SCRATCH_LEN + CSUM_BUF_PAD];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} glued_scratch SEC(".maps");

/* --- wire constants ---------------------------------------------------------------------- */

#define ETH_P_8021Q_ 0x8100
#define ANSWER_FIXED 12		  /* c00c, type, class, ttl, rdlength */
#define OPT_OPTIONS_MAX 8	  /* options walked in a query's OPT; more passes */
#define DNS_OFF_MAX (18 + 40 + 8) /* VLAN + IPv6 + UDP */
#define DNS_OFF_MASK 0x7f	  /* >= DNS_OFF_MAX, all ones */
_Static_assert(DNS_OFF_MASK >= DNS_OFF_MAX && !(DNS_OFF_MASK & (DNS_OFF_MASK + 1)), "DNS_OFF_MASK");

struct vlanhdr {
	__be16 tci, proto;
};

/* What plan() found and the answer needs. Offsets are from data; DNS
 * offsets from the DNS header. Sums are ones' complement accumulators in
 * the convention of csum.h (native loads from an even offset). The answer
 * trusts none of it (see xdp_answer() and tc_answer()). */
struct plan {
	__u32 l3_off;  /* 14, or 18 behind one 802.1Q tag */
	__u32 dns_off; /* l3_off + IP header + 8 */
	__u32 qend;    /* DNS offset just past QCLASS: label length + 18 */
	__u32 mlen;    /* query length */
	__u32 dns_len; /* reply length */
	__u32 ttl_be;
	__u64 qsum;	/* the question, bytes [12, qend) */
	__u64 hdr_sum;	/* out: pseudo header + UDP header of the reply */
	__u64 dns_sum;	/* out: the reply's DNS message */
	__u32 stat;	/* answered or nodata */
	__u16 flags_be; /* reply flags, network order */
	__u8 v6;	/* transport */
	__u8 aaaa;	/* QTYPE */
	__u8 n;		/* answers */
	__u8 start;	/* rotation: first address index */
	__u8 opt;	/* the query had an OPT: answer one */
	__u8 do_bit;	/* its DO bit */
};

/* Private (not ABI): per CPU, the clock as coarse_now() last read it, the
 * XDP path's struct plan (see xdp_answer()), and the last destination
 * found in glued_addrs,
 * as the three words of its struct glued_local_key, and the config's
 * alive_until_ns when it was found. A hit skips the hash lookup (~30 ns of
 * a ~150 ns answer here, with its 20-byte key). It is trusted only while
 * glued_config carries the same non-zero alive_until_ns: the daemon
 * rewrites the config every second, and an address removed from
 * glued_addrs stops being answered at the next config write (write the
 * config after changing glued_addrs to make it at once). No liveness, no
 * cache. */
struct local_cache {
	__u64 stamp;
	__u64 w0, w1, w2;
	__u64 jiffies, now_ns; /* see coarse_now() */
	struct plan plan;      /* XDP: the decision, see xdp_answer() */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct local_cache);
} glued_lcache SEC(".maps");

/* Where a program runs, a compile-time constant of each entry point that
 * the inliner resolves (no branch on it is left in the object): the host's
 * hooks serve glued's own addresses and port; the container's serves
 * Docker's resolver address inside a container (see glued_ctr_dns). */
enum hook_mode {
	MODE_HOST = 0,
	MODE_CTR = 1,
};

/* stats: glued_stats or glued_ctr_stats, one struct glued_stats each. */
static __always_inline void count_in(void *stats, __u32 stat)
{
	__u32 key = 0;
	__u64 *st = bpf_map_lookup_elem(stats, &key);

	if (stat >= GLUED_STAT_MAX)
		stat = GLUED_STAT_error;
	if (st)
		st[stat]++; /* per-CPU: no other writer */
}

#define STATS_OF(mode) ((mode) == MODE_CTR ? (void *)&glued_ctr_stats : (void *)&glued_stats)

static __always_inline void count(__u32 stat)
{
	count_in(&glued_stats, stat);
}

/* CLOCK_MONOTONIC as of the last tick (bpf_ktime_get_coarse_ns()), read
 * at most once per jiffy per CPU: the coarse clock only moves when the
 * tick moves jiffies, and bpf_jiffies64() is one load (the verifier
 * inlines it) where the clock helper is a call (~4 ns here;
 * bpf_ktime_get_ns() ~45). A read that races the tick may keep the
 * previous tick's time for one more jiffy: the value lags
 * CLOCK_MONOTONIC by at most two ticks, which a grace of seconds does
 * not notice. */
static __always_inline __u64 monotonic_ns(void)
{
	/* 5.10 has no coarse clock helper (5.11+): libbpf resolves this test
	 * against the running kernel's BTF at load, and the verifier drops
	 * the branch not taken, so the program loads on both. The fallback
	 * is the same clock, exact, and costs ~40 ns more once per jiffy. */
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_ktime_get_coarse_ns))
		return bpf_ktime_get_coarse_ns();
	return bpf_ktime_get_ns();
}

static __always_inline __u64 coarse_now(struct local_cache *lc)
{
	__u64 j = bpf_jiffies64();

	if (!lc)
		return monotonic_ns();
	if (lc->jiffies != j) {
		lc->now_ns = monotonic_ns();
		lc->jiffies = j;
	}
	return lc->now_ns;
}

/* Big-endian 16 bits at p (bounds checked by the caller). */
static __always_inline __u16 ld16(const __u8 *p)
{
	return bpf_ntohs(*(const __u16 *)p);
}

/* A network-order 16-bit length that is added to a packet pointer.
 * verifier: 6.1 and 6.12 know nothing of a byte swap's result (6.18 bounds
 * it to 0..0xffff) and refuse pointer arithmetic with it; the mask, kept
 * by barrier_var() (clang knows it is a no-op), bounds the register that
 * is added. */
static __always_inline __u32 ntohs_len(__be16 v)
{
	__u32 x = bpf_ntohs(v);

	barrier_var(x);
	return x & 0xffff;
}

/* --- decide -------------------------------------------------------------------------------- */

/* The DNS message at dns, mlen bytes (mlen in [12, GLUED_QUERY_MAX], all
 * before data_end). Returns a glued_stat: answered or nodata with *p
 * filled, or the reason to pass. */
static __always_inline __u32 plan_dns(const __u8 *dns, const void *data_end,
				      const struct glued_bpf_config *cfg, struct plan *p,
				      __u32 mlen, const struct glued_name_val **valp)
{
	__u64 key[GLUED_NAME_LEN / 8] = {};
	const struct glued_name_val *val;
	const __u64 *nw;
	const __u8 *lab = dns + DNS_HDR_LEN + 1, *q;
	__u32 len, qend, alen, n, dlen, zero = 0, *rot;
	__u16 flags, qtype, arcount, limit = DNS_UDP_MIN;
	__u8 opt = 0, do_bit = 0, aaaa;
	__u64 h, lsum = 0, bad = 0, diff = 0, counts;

	if (dns + DNS_HDR_LEN > (const __u8 *)data_end)
		return GLUED_STAT_truncated; /* verifier: mlen >= 12 says it is there */
	flags = ld16(dns + 2);
	if (flags & (DNS_QR | DNS_OPCODE_MASK))
		return flags & DNS_QR ? GLUED_STAT_qr_set : GLUED_STAT_opcode;
	/* QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT in one little-endian load:
	 * 1, 0, 0 and 0 or 1 read as 0x0100, with ARCOUNT's low byte in
	 * bits 56..63. */
	counts = *(const __u64 *)(dns + 4);
	if ((counts & ~(1ULL << 56)) != 0x0100)
		return GLUED_STAT_counts;
	arcount = (__u16)(counts >> 56);

	/* The question: one label, then the root, QTYPE, QCLASS. */
	if (mlen < DNS_HDR_LEN + 1 || lab > (const __u8 *)data_end)
		return GLUED_STAT_truncated;
	len = dns[DNS_HDR_LEN];
	if (len == 0)
		return GLUED_STAT_not_single_label;
	if ((len & 0xc0) == 0xc0)
		return GLUED_STAT_compression;
	if (len > DNS_LABEL_MAX)
		return GLUED_STAT_label_too_long;
	if (DNS_HDR_LEN + 1 + len + 5 > mlen)
		return GLUED_STAT_truncated;

	/* The label, eight bytes at a time straight from the packet: masked
	 * to the label, lowercased without branches (SWAR), NUL-checked,
	 * hashed (abi.h) and kept for the comparison with the map's name.
	 * Little-endian: byte k of a word is bits 8k..8k+7. A word that
	 * would run past the frame (the label ends within 2 bytes of it:
	 * no OPT, no padding) is fetched with the load helper instead. */
	h = GLUED_NAME_HASH_SEED ^ len;
#pragma unroll
	for (__u32 w = 0; w < GLUED_NAME_LEN / 8; w++) {
		const __u8 *wp = lab + w * 8;
		__u64 x = 0, mask, hi, up, lw;
		__s64 t;

		if (w * 8 >= len)
			break;
		if (wp + 8 <= (const __u8 *)data_end) {
			x = *(const __u64 *)wp;
		} else {
			/* verifier: byte by byte up to the frame's end, no
			 * length-dependent size (a helper's size would make
			 * the length precise, and the walk below would be
			 * repeated per length). Bytes past the label are
			 * masked off below. */
			for (__u32 i = 0; i < 8; i++) {
				if (wp + i + 1 > (const __u8 *)data_end)
					break;
				x |= (__u64)wp[i] << (i * 8);
			}
		}
		t = (__s64)len - (__s64)(w * 8);
		t = 8 + ((t - 8) & ((t - 8) >> 63)); /* min(t, 8); t >= 1 here */
		mask = ((1ULL << (4 * t)) << (4 * t)) - 1;
		lsum += (x & mask & 0xffffffff) + ((x & mask) >> 32);
		hi = x & 0x7f7f7f7f7f7f7f7fULL;
		up = ~x & ((hi + 0x3f3f3f3f3f3f3f3fULL) ^ (hi + 0x2525252525252525ULL)) &
		     0x8080808080808080ULL; /* ASCII and 'A' <= b <= 'Z' */
		lw = (x | up >> 2) & mask;
		key[w] = lw;
		h = glued_name_hash_step(h, lw);
		x |= ~mask;
		bad |= (x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL;
	}
	if (bad)
		return GLUED_STAT_label_bad; /* no table name holds a NUL */
	/* verifier: read the length again. The loop's exits left the first
	 * read with eight different ranges, and everything below would be
	 * walked once per range. */
	len = *(volatile const __u8 *)(dns + DNS_HDR_LEN) & DNS_LABEL_MAX;
	q = lab + len;
	if (q + 5 > (const __u8 *)data_end)
		return GLUED_STAT_truncated; /* verifier: checked against mlen above */
	if (q[0] != 0)
		return (q[0] & 0xc0) == 0xc0 ? GLUED_STAT_compression : GLUED_STAT_not_single_label;
	qtype = ld16(q + 1);
	if (ld16(q + 3) != DNS_CLASS_IN)
		return GLUED_STAT_class;
	if (qtype != DNS_TYPE_A && qtype != DNS_TYPE_AAAA)
		return GLUED_STAT_type;
	qend = DNS_HDR_LEN + 1 + len + 5;
	p->qend = qend;
	/* The question's bytes in the checksum: the length byte (even
	 * offset), the label (read from the odd offset 13: swapped), the
	 * root (0), QTYPE and QCLASS (16-bit values at an odd offset when
	 * the length is odd, so swapped when it is even). */
	p->qsum = len + csum_odd(lsum) +
		  (len & 1 ? qtype + DNS_CLASS_IN : csum_odd(qtype + DNS_CLASS_IN));

	/* ARCOUNT 1: a plain OPT (root owner, version 0, options whose TLVs
	 * fill RDLENGTH exactly, none echoed: dns_answer() echoes none);
	 * anything else is userspace's. */
	if (arcount) {
		const __u8 *o = dns + qend;
		__u32 rdlen, off = 0;

		if (qend + DNS_RR_MIN > mlen || o + DNS_RR_MIN > (const __u8 *)data_end)
			return GLUED_STAT_malformed;
		if (o[0] != 0 || ld16(o + 1) != DNS_TYPE_OPT || o[6] != 0)
			return GLUED_STAT_edns_unsupported;
		rdlen = ld16(o + 9);
		if (qend + DNS_RR_MIN + rdlen > mlen)
			return GLUED_STAT_malformed;
		for (__u32 i = 0; i < OPT_OPTIONS_MAX; i++) {
			const __u8 *x;

			if (off >= rdlen)
				break;
			if (off + 4 > rdlen)
				return GLUED_STAT_malformed;
			x = o + DNS_RR_MIN + (off & (GLUED_QUERY_MAX - 1));
			if (x + 4 > (const __u8 *)data_end)
				return GLUED_STAT_malformed; /* verifier: inside mlen */
			off += 4 + ld16(x + 2);
		}
		if (off != rdlen)
			return off > rdlen ? GLUED_STAT_malformed : GLUED_STAT_edns_unsupported;
		limit = ld16(o + 3);
		limit = limit < DNS_UDP_MIN   ? DNS_UDP_MIN
			: limit > DNS_UDP_MAX ? DNS_UDP_MAX
					      : limit;
		opt = 1;
		do_bit = o[7] >> 7;
	}

	val = bpf_map_lookup_elem(&glued_names, &h);
	if (!val)
		return GLUED_STAT_miss;
	/* The words that hold the label and the byte after it: the value's
	 * name is NUL-padded (abi.h), so equal words up to there make the
	 * names equal, and the words after are zero on both sides. 8-aligned
	 * (abi.h): word loads, not bytes. */
	nw = (const __u64 *)val->name;
#pragma unroll
	for (__u32 w = 0; w < GLUED_NAME_LEN / 8; w++) {
		if (w > len / 8)
			break;
		diff |= nw[w] ^ key[w];
	}
	if (diff)
		return GLUED_STAT_miss; /* another name with the same hash */
	aaaa = qtype == DNS_TYPE_AAAA;
	if (aaaa) {
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
	dlen = qend + n * (ANSWER_FIXED + alen) + (opt ? DNS_RR_MIN : 0);
	if (dlen > limit)
		return GLUED_STAT_too_big; /* userspace sends TC=1 */
	*valp = val;
	p->mlen = mlen;
	p->dns_len = dlen;
	p->opt = opt;
	p->do_bit = do_bit;
	p->aaaa = aaaa;
	p->n = (__u8)n;
	p->ttl_be = bpf_htonl(cfg->ttl_s);
	p->flags_be = bpf_htons(DNS_QR | DNS_AA | DNS_RA | (flags & (DNS_RD | DNS_CD)));
	p->start = 0;
	rot = bpf_map_lookup_elem(&glued_rot, &zero);
	if (rot) {
		if (n > 1) /* a division costs ~5 ns; most names have one address */
			p->start = (__u8)(*rot % n);
		*rot += 1;
	}
	return n ? GLUED_STAT_answered : GLUED_STAT_nodata;
}

/* --- response rate limiting ------------------------------------------------------------- */

/* Is the prefix of this source (allowed, not exempt) over its rate for one
 * more answer larger than the query? GCRA (abi.h): due at max(tat, now) +
 * cost, at most burst early; a prefix not in glued_rrl starts with a full
 * credit. Only then does an answer pay for it. rc: glued_config's `rrl`,
 * already looked up for the packet. */
static __always_inline int rrl_over(const struct glued_allow_key *src, struct local_cache *lc,
				    const struct glued_rrl_config *rc)
{
	struct glued_rrl_bucket *b, nb;
	__u64 key, now, t, a;

	if (!rc->cost_ns)
		return 0;
	/* The key (abi.h) as one little-endian word: the family in byte 0,
	 * the masked prefix in bytes 1..7. */
	__builtin_memcpy(&a, src->addr, sizeof(a));
	if (src->family == GLUED_FAMILY_V4)
		a = (__u32)a & *(const __u32 *)rc->mask4;
	else
		a &= *(const __u64 *)rc->mask6;
	key = src->family | a << 8;
	now = coarse_now(lc);
	b = bpf_map_lookup_elem(&glued_rrl, &key);
	if (!b) {
		nb.tat_ns = now + rc->cost_ns;
		bpf_map_update_elem(&glued_rrl, &key, &nb, BPF_ANY);
		return 0;
	}
	t = b->tat_ns > now ? b->tat_ns : now;
	if (t + rc->cost_ns - now > rc->burst_ns)
		return 1;
	b->tat_ns = t + rc->cost_ns;
	return 0;
}

/* Config, Ethernet, IP, UDP, then plan_dns(). lc: glued_lcache's value
 * (NULL: no cache). mode: a constant (enum hook_mode). MODE_HOST serves
 * glued's port on the addresses in glued_addrs, to sources in glued_allow.
 * MODE_CTR serves IPv4 127.0.0.11 on any port (Docker's DNAT has already
 * replaced 53 with its resolver's port) and consults neither glued_addrs,
 * glued_config.port_be nor glued_allow (docs/fastpath.md, "In-container
 * answers"). Everything else is the same. */
static __always_inline __u32 plan(const void *data, const void *data_end, struct plan *p,
				  struct local_cache *lc, const struct glued_name_val **valp,
				  const int mode)
{
	const struct ethhdr *eth = data;
	const struct glued_bpf_config *cfg;
	const struct udphdr *udp;
	__u32 zero = 0, ulen, mlen, l3_off;
	__u64 w0, w1, w2; /* the glued_local_key of the destination, as words */
	struct glued_allow_key src = {}; /* the source, as glued_allow looks it up */
	__u16 proto;
	__u32 stat;

	cfg = bpf_map_lookup_elem(&glued_config, &zero);
	if (!cfg || cfg->abi_version != GLUED_ABI_VERSION || !(cfg->flags & GLUED_CFG_ENABLED))
		return GLUED_STAT_disabled;
	if ((const void *)(eth + 1) > data_end)
		return GLUED_STAT_not_ip;
	proto = eth->h_proto;
	l3_off = sizeof(*eth);
	if (proto == bpf_htons(ETH_P_8021Q_)) {
		const struct vlanhdr *vh = (const void *)(eth + 1);

		if ((const void *)(vh + 1) > data_end)
			return GLUED_STAT_truncated;
		proto = vh->proto;
		l3_off += sizeof(*vh);
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		const struct iphdr *ip = data + l3_off;
		__u32 tot;

		if ((const void *)(ip + 1) > data_end)
			return GLUED_STAT_truncated;
		if (*(const __u8 *)ip != 0x45) /* version 4, IHL 5: one test */
			return ip->version != 4 ? GLUED_STAT_bad_ip : GLUED_STAT_ip_options;
		if (ip->frag_off & bpf_htons(0x3fff)) /* MF or an offset */
			return GLUED_STAT_fragment;
		if (ip->protocol != IPPROTO_UDP)
			return GLUED_STAT_not_udp;
		tot = ntohs_len(ip->tot_len);
		if (tot < sizeof(*ip) + sizeof(*udp) ||
		    csum_fold(csum_ip4_sum((const __u32 *)ip)) != 0xffff)
			return GLUED_STAT_bad_ip;
		if ((const void *)ip + tot > data_end)
			return GLUED_STAT_truncated;
		udp = (const void *)(ip + 1);
		if ((const void *)(udp + 1) > data_end)
			return GLUED_STAT_truncated;
		if (mode == MODE_CTR) {
			if (ip->daddr != bpf_htonl(GLUED_CTR_RESOLVER_V4))
				return GLUED_STAT_not_ours;
		} else if (udp->dest != cfg->port_be) {
			return GLUED_STAT_not_port;
		}
		ulen = bpf_ntohs(udp->len);
		if (ulen < sizeof(*udp) || ulen > tot - sizeof(*ip))
			return GLUED_STAT_malformed;
		w0 = GLUED_FAMILY_V4 | (__u64)ip->daddr << 32;
		src.prefixlen = 8 + 32;
		src.family = GLUED_FAMILY_V4;
		*(__u32 *)src.addr = ip->saddr;
		w1 = 0;
		w2 = 0;
		p->v6 = 0;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		const struct ipv6hdr *ip6 = data + l3_off;
		__u32 plen;

		if (mode == MODE_CTR)
			return GLUED_STAT_not_ours; /* Docker's resolver is IPv4 only */

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
		plen = ntohs_len(ip6->payload_len);
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
		w0 = GLUED_FAMILY_V6 | (__u64)ip6->daddr.in6_u.u6_addr32[0] << 32;
		w1 = ip6->daddr.in6_u.u6_addr32[1] | (__u64)ip6->daddr.in6_u.u6_addr32[2] << 32;
		w2 = ip6->daddr.in6_u.u6_addr32[3];
		src.prefixlen = 8 + 128;
		src.family = GLUED_FAMILY_V6;
		__builtin_memcpy(src.addr, &ip6->saddr, 16);
		p->v6 = 1;
	} else {
		return GLUED_STAT_not_ip;
	}

	/* Liveness, once the datagram is for glued's port (other traffic
	 * does not pay for the clock). */
	if (cfg->alive_until_ns && coarse_now(lc) > cfg->alive_until_ns)
		return GLUED_STAT_stale;
	if (mode == MODE_HOST && (!lc || !cfg->alive_until_ns || lc->stamp != cfg->alive_until_ns ||
				  lc->w0 != w0 || lc->w1 != w1 || lc->w2 != w2)) {
		struct glued_local_key lk;

		*(__u64 *)&lk = w0;
		*((__u64 *)&lk + 1) = w1;
		*((__u32 *)&lk + 4) = (__u32)w2;
		if (!bpf_map_lookup_elem(&glued_addrs, &lk))
			return GLUED_STAT_not_ours;
		if (lc) {
			lc->stamp = cfg->alive_until_ns;
			lc->w0 = w0;
			lc->w1 = w1;
			lc->w2 = w2;
		}
	}
	mlen = ulen - sizeof(*udp);
	if (mlen > GLUED_QUERY_MAX)
		return GLUED_STAT_too_big;
	if (mlen < DNS_HDR_LEN)
		return GLUED_STAT_malformed;
	p->l3_off = l3_off;
	p->dns_off = (__u32)((const void *)(udp + 1) - data);
	stat = plan_dns((const __u8 *)(udp + 1), data_end, cfg, p, mlen, valp);
	/* Only an answer pays for the allow list: whatever passes up, userspace
	 * checks the same list itself. In a container the source is the
	 * container's own loopback: neither the list nor RRL applies. */
	if (mode == MODE_HOST && stat <= GLUED_STAT_nodata) {
		const __u8 *af = bpf_map_lookup_elem(&glued_allow, &src);

		if (!af || !(*af & GLUED_ALLOW_F_ALLOWED))
			return GLUED_STAT_not_allowed;
		/* RRL: the flags the one lookup gave; an exempt source, or an
		 * answer no larger than its query (NODATA), pays nothing more. */
		if (!(*af & GLUED_ALLOW_F_RRL_EXEMPT) && p->dns_len > p->mlen &&
		    rrl_over(&src, lc, &cfg->rrl))
			return GLUED_STAT_rate_limited;
	}
	return stat;
}

/* --- reply ----------------------------------------------------------------------------------- */

/* idx + 1, wrapping to 0 at n; no division. */
static __always_inline __u32 next_idx(__u32 idx, __u32 n)
{
	__u32 ge;

	idx += 1;
	ge = ((idx - n) >> 31) ^ 1; /* idx >= n; both are < 2^31 */
	return idx - (n & -ge);
}

/* The reply in the resized frame: headers rewritten in place, answers and
 * OPT written after the question (the question stays as received). Sets
 * p->dns_sum to the sum of the new DNS message and p->hdr_sum to the
 * pseudo-header sum plus the UDP header's (its check field as found: XDP
 * zeroes it first, TC leaves the query's). Returns -1 if a bounds check
 * fails (not expected: the frame has exactly the reply's length). */
static __always_inline int write_reply(void *data, void *data_end, struct plan *p,
				       const struct glued_name_val *val, const int tc)
{
	struct ethhdr *eth = data;
	struct udphdr *udp;
	__u8 *dns, *a;
	__u32 l3_off = p->l3_off, dns_off = p->dns_off, dlen = p->dns_len;
	__u32 ulen = sizeof(*udp) + dlen, n = p->n, idx = p->start, rec;
	__u64 sum, tail, head0, ttl = p->ttl_be;
	__u32 head1;

	if ((void *)(eth + 1) > data_end || (l3_off != 14 && l3_off != 18))
		return -1;
	{
		/* MACs: bytes 0..11 as a 64-bit and a 32-bit word. */
		__u64 m0 = *(__u64 *)eth;
		__u32 m1 = *(__u32 *)((__u8 *)eth + 8);

		*(__u32 *)eth = (__u32)(m0 >> 48) | m1 << 16;
		*((__u16 *)eth + 2) = (__u16)(m1 >> 16);
		*((__u16 *)eth + 3) = (__u16)m0;
		*((__u32 *)eth + 2) = (__u32)(m0 >> 16);
	}

	/* Sums from the values in registers, never by reading back what was
	 * just stored: a wide load of bytes just written by narrower stores
	 * cannot be forwarded from the store buffer and stalls. Swapping
	 * addresses and ports does not change a sum. */
	if (!p->v6) {
		struct iphdr *ip = data + l3_off;
		__u32 w0, w1, w4, s0, s1;

		if ((void *)(ip + 1) > data_end)
			return -1;
		w0 = ((__u32 *)ip)[0]; /* version, IHL, TOS, total length */
		w1 = ((__u32 *)ip)[1]; /* ID, fragment field */
		s0 = ip->saddr;
		s1 = ip->daddr;
		ip->saddr = s1;
		ip->daddr = s0;
		w0 = (w0 & 0xffff) | (__u32)bpf_htons(sizeof(*ip) + ulen) << 16;
		w1 &= 0xffff;
		w4 = GLUED_IP_TTL | IPPROTO_UDP << 8; /* TTL, protocol, checksum 0 */
		*(__u32 *)ip = w0;
		*((__u32 *)ip + 1) = w1;
		*((__u16 *)ip + 4) = (__u16)w4;
		ip->check = (__u16)~csum_fold((__u64)w0 + w1 + w4 + s0 + s1);
		sum = csum_pseudo4(s0, s1, ulen);
		udp = (void *)(ip + 1);
	} else {
		struct ipv6hdr *ip6 = data + l3_off;
		__u64 a0, a1, b0, b1;

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		a0 = *(__u64 *)&ip6->saddr;
		a1 = *((__u64 *)&ip6->saddr + 1);
		b0 = *(__u64 *)&ip6->daddr;
		b1 = *((__u64 *)&ip6->daddr + 1);
		*(__u64 *)&ip6->saddr = b0;
		*((__u64 *)&ip6->saddr + 1) = b1;
		*(__u64 *)&ip6->daddr = a0;
		*((__u64 *)&ip6->daddr + 1) = a1;
		ip6->payload_len = bpf_htons(ulen);
		ip6->hop_limit = GLUED_IP_TTL;
		sum = bpf_htons(IPPROTO_UDP) + bpf_htons((__u16)ulen) + (a0 & 0xffffffff) +
		      (a0 >> 32) + (a1 & 0xffffffff) + (a1 >> 32) + (b0 & 0xffffffff) + (b0 >> 32) +
		      (b1 & 0xffffffff) + (b1 >> 32);
		udp = (void *)(ip6 + 1);
	}
	if ((void *)(udp + 1) > data_end)
		return -1;
	{
		__u32 ports = *(__u32 *)udp, ulen_be = bpf_htons(ulen);

		*(__u32 *)udp = ports >> 16 | ports << 16;
		udp->len = (__u16)ulen_be;
		if (!tc)
			udp->check = 0;
		p->hdr_sum = sum + ports + ulen_be + (tc ? udp->check : 0);
	}

	/* DNS header: ID, QDCOUNT, NSCOUNT and ARCOUNT stay what the query
	 * had (1, 0, 1 with an OPT, else 0); flags and ANCOUNT change.
	 * verifier: plan() made dns_off <= DNS_OFF_MAX (66); the mask is on
	 * the register added to data. A range test here would be made on one
	 * copy and the 6.1 verifier would see the add done with another,
	 * reloaded from the stack, unbounded. */
	dns = data + (dns_off & DNS_OFF_MASK);
	if (dns + DNS_HDR_LEN > (__u8 *)data_end)
		return -1;
	{
		__u16 id = *(__u16 *)dns, an_be = bpf_htons((__u16)n);

		*(__u16 *)(dns + 2) = p->flags_be;
		*(__u16 *)(dns + 6) = an_be;
		sum = (__u64)id + p->flags_be + bpf_htons(1) + an_be + bpf_htons(p->opt) + p->qsum;
	}

	/* Answers: c0 0c, TYPE, CLASS IN, TTL, RDLENGTH (12 bytes, stored
	 * as one 8-byte and one 4-byte word), then the address. Every record
	 * has an even length, so answers and OPT share the question end's
	 * parity: summed as if at an even offset, swapped when it is odd. */
	rec = ANSWER_FIXED + (p->aaaa ? 16 : 4);
	head0 = 0x0cc0ULL | (__u64)(p->aaaa ? DNS_TYPE_AAAA : DNS_TYPE_A) << 24 |
		(__u64)DNS_CLASS_IN << 40 | (ttl & 0xffff) << 48;
	head1 = (__u32)(ttl >> 16) | (__u32)(rec - ANSWER_FIXED) << 24;
	tail = (__u64)n * ((head0 & 0xffffffff) + (head0 >> 32) + head1);
	a = dns + (p->qend & 0x7f); /* verifier: qend <= 81 */
	/* verifier: every store of a record goes through the one register
	 * whose range was just tested (barrier_var(a) below). Left alone,
	 * clang may derive a + 8 from another copy of dns + qend, a pointer
	 * with the same unknown offset and another id, which no verifier
	 * knows to be in range. */
	if (p->aaaa) {
		for (__u32 k = 0; k < GLUED_V6_MAX; k++) {
			const __u32 *v = (const __u32 *)val->v6[idx & (GLUED_V6_MAX - 1)];

			if (k >= n)
				break;
			if (a + ANSWER_FIXED + 16 > (__u8 *)data_end)
				return -1;
			barrier_var(a); /* verifier: see above */
			*(__u64 *)a = head0;
			*(__u32 *)(a + 8) = head1;
			*(__u32 *)(a + 12) = v[0];
			*(__u32 *)(a + 16) = v[1];
			*(__u32 *)(a + 20) = v[2];
			*(__u32 *)(a + 24) = v[3];
			tail += (__u64)v[0] + v[1] + v[2] + v[3];
			a += ANSWER_FIXED + 16;
			idx = next_idx(idx, n);
		}
	} else {
		for (__u32 k = 0; k < GLUED_V4_MAX; k++) {
			__u32 v = *(const __u32 *)val->v4[idx & (GLUED_V4_MAX - 1)];

			if (k >= n)
				break;
			if (a + ANSWER_FIXED + 4 > (__u8 *)data_end)
				return -1;
			barrier_var(a); /* verifier: see above */
			*(__u64 *)a = head0;
			*(__u32 *)(a + 8) = head1;
			*(__u32 *)(a + 12) = v;
			tail += v;
			a += ANSWER_FIXED + 4;
			idx = next_idx(idx, n);
		}
	}
	if (p->opt) {
		/* 00, TYPE 41, size 1232, ext. RCODE 0, version 0, DO, RDLENGTH 0 */
		__u64 o0 = 0x00d004290000ULL | (__u64)p->do_bit << 63;

		a = dns + ((dlen - DNS_RR_MIN) & (GLUED_QUERY_MAX - 1));
		if (a + DNS_RR_MIN > (__u8 *)data_end)
			return -1;
		*(__u64 *)a = o0;
		*(__u16 *)(a + 8) = 0;
		a[10] = 0;
		tail += (o0 & 0xffffffff) + (o0 >> 32);
	}
	p->dns_sum = sum + (p->qend & 1 ? csum_odd(tail) : tail);
	return 0;
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

/* --- answering ------------------------------------------------------------------------------ */

/* plan() leaves a few hundred distinct verifier states (transport, VLAN,
 * OPT, option count, ...), and code after it is walked once per state
 * that reaches it: the answer loops walked that often would pass the
 * verifier's limit. So the answer must see a plan it knows nothing about,
 * so that it is walked once, and check every field of *p it uses (it
 * does): in both programs the plan lives in the per-CPU glued_lcache
 * value, and what the verifier reads back from a map value is any number;
 * the answer is inlined. The value is the CPU's own and one program runs
 * at a time on a CPU (softirq, or bottom halves disabled), so nothing
 * changes the plan between plan() and the answer.
 *
 * verifier: TC's answer used to be a global function with its plan on the
 * stack; 5.10 refuses a global function with pointer arguments other
 * than the context ("Arg#1 type PTR ... is not supported yet", 5.12+),
 * and a BPF-to-BPF call costs ~2-8 ns (A/B, docs/fastpath.md). */

static __always_inline int xdp_answer(struct xdp_md *ctx, struct plan *p,
				      const struct glued_name_val *val)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	long cur = data_end - data;
	__u16 *check;

	barrier_var(cur); /* verifier: keep data_end out of the sum below */
	if (bpf_xdp_adjust_tail(ctx, (int)(p->dns_off + p->dns_len) - (int)cur)) {
		count(GLUED_STAT_resize_failed);
		return XDP_PASS;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	check = udp_check(data, data_end, p);
	if (!check || write_reply(data, data_end, p, val, 0)) {
		count(GLUED_STAT_error);
		return XDP_DROP;
	}
	*check = csum_udp_field(p->hdr_sum + p->dns_sum);
	count(p->stat);
	return XDP_TX;
}

/* TC: the query may carry a partial UDP checksum (CHECKSUM_PARTIAL from a
 * container's socket): its field then holds the pseudo-header sum and the
 * device finishes the rest. bpf_l4_csum_replace() knows which case it is,
 * so the reply's checksum is reached by telling it what changed: the
 * segment (ignored for a partial checksum) and the pseudo header (the
 * length; the swapped addresses do not change the sum). The segment's old
 * sum needs the query's bytes, hence the scratch copy (TC only). An IPv4
 * query with no checksum (0) gets a full one. The reply leaves by the
 * interface it came from: out again (MODE_HOST), or, in a container, into
 * its lo's receive path (MODE_CTR, see glued_ctr_dns). */
static __always_inline int tc_answer(struct __sk_buff *skb, struct plan *p,
				     const struct glued_name_val *val, const int mode)
{
	void *data, *data_end;
	struct scratch *s;
	__u32 csum_off, zero = 0, mlen, dlen;
	__u64 old_sum;
	__u16 *check, old_check;

	if (!p || !val)
		return TC_ACT_OK;
	mlen = p->mlen;
	dlen = p->dns_len;
	s = bpf_map_lookup_elem(&glued_scratch, &zero);
	if (!s || mlen > GLUED_QUERY_MAX || mlen < DNS_HDR_LEN || dlen > GLUED_QUERY_MAX)
		goto err;
	/* verifier: the size is bounded in the register passed (1..1024, the
	 * scratch's size; the identity for 12..512): the 6.1 verifier lost the
	 * range test above when clang reloaded mlen from the stack. */
	barrier_var(mlen);
	if (bpf_skb_load_bytes(skb, p->dns_off, s->msg, ((mlen - 1) & (SCRATCH_LEN - 1)) + 1))
		goto err;
	old_sum = csum_buf(s->msg, mlen);
	if (old_sum == CSUM_BAD)
		goto err;
	if (bpf_skb_change_tail(skb, p->dns_off + dlen, 0)) {
		count_in(STATS_OF(mode), GLUED_STAT_resize_failed);
		return TC_ACT_OK;
	}
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	check = udp_check(data, data_end, p);
	if (!check)
		goto err;
	old_check = *check;
	if (write_reply(data, data_end, p, val, 1))
		goto err;
	csum_off = p->l3_off + (p->v6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr)) +
		   __builtin_offsetof(struct udphdr, check);
	/* A CHECKSUM_COMPLETE skb's csum follows the new DNS bytes (no-op
	 * otherwise; growing the frame already demoted such an skb). */
	bpf_csum_update(skb, csum_fold(p->dns_sum) + (__u16)~csum_fold(old_sum));
	if (!p->v6 && old_check == 0) {
		/* No checksum in the query: write a full one. */
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
		check = udp_check(data, data_end, p);
		if (!check)
			goto err;
		*check = csum_udp_field(p->hdr_sum + p->dns_sum);
	} else {
		/* Ports swapped and the check field kept: only the DNS bytes
		 * and the length (in the UDP header and the pseudo header)
		 * changed. */
		__u32 len_diff = bpf_htons((__u16)(sizeof(struct udphdr) + dlen)) +
				 (__u16)~bpf_htons((__u16)(sizeof(struct udphdr) + mlen));
		__u32 seg_diff = csum_fold(p->dns_sum) + (__u16)~csum_fold(old_sum) + len_diff;

		if (bpf_l4_csum_replace(skb, csum_off, 0, seg_diff, BPF_F_MARK_MANGLED_0) ||
		    bpf_l4_csum_replace(skb, csum_off, 0, len_diff,
					BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0))
			goto err;
	}
	count_in(STATS_OF(mode), p->stat);
	return bpf_redirect(skb->ifindex, mode == MODE_CTR ? BPF_F_INGRESS : 0);
err:
	count_in(STATS_OF(mode), GLUED_STAT_error);
	return TC_ACT_SHOT;
}

/* --- entry points ------------------------------------------------------------------------- */

/* The XDP entry, also run by the benchmark build (glued_dns_bench.bpf.c). */
static __always_inline int xdp_dns(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	const struct glued_name_val *val = NULL;
	struct local_cache *lc;
	__u32 zero = 0, stat;

	lc = bpf_map_lookup_elem(&glued_lcache, &zero);
	if (!lc) { /* a per-CPU array always has element 0 */
		count(GLUED_STAT_error);
		return XDP_PASS;
	}
	stat = plan(data, data_end, &lc->plan, lc, &val, MODE_HOST);
	if ((stat != GLUED_STAT_answered && stat != GLUED_STAT_nodata) || !val) {
		count(stat);
		return XDP_PASS;
	}
	lc->plan.stat = stat;
	return xdp_answer(ctx, &lc->plan, val);
}

SEC("xdp")
int glued_xdp_dns(struct xdp_md *ctx)
{
	return xdp_dns(ctx);
}

/* Both TC programs: the same answer, the mode a constant. */
static __always_inline int tc_dns(struct __sk_buff *skb, const int mode)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	const struct glued_name_val *val = NULL;
	struct local_cache *lc;
	__u32 zero = 0, stat;

	/* Direct access sees the linear part only: make a small datagram
	 * linear (never a large one: TC on lo sees TCP's 64k segments). */
	if (skb->len > data_end - data && skb->len <= 2048) {
		if (bpf_skb_pull_data(skb, skb->len)) {
			count_in(STATS_OF(mode), GLUED_STAT_truncated);
			return TC_ACT_OK;
		}
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
	}
	lc = bpf_map_lookup_elem(&glued_lcache, &zero);
	if (!lc) { /* a per-CPU array always has element 0 */
		count_in(STATS_OF(mode), GLUED_STAT_error);
		return TC_ACT_OK;
	}
	stat = plan(data, data_end, &lc->plan, lc, &val, mode);
	if ((stat != GLUED_STAT_answered && stat != GLUED_STAT_nodata) || !val) {
		count_in(STATS_OF(mode), stat);
		return TC_ACT_OK;
	}
	lc->plan.stat = stat;
	return tc_answer(skb, &lc->plan, val, mode);
}

/* glued's own addresses, on lo and where XDP cannot go. */
SEC("tc")
int glued_tc_dns(struct __sk_buff *skb)
{
	return tc_dns(skb, MODE_HOST);
}

/* Inside a container's network namespace, on its lo (egress; ingress
 * works too): a query to Docker's embedded resolver, 127.0.0.11, answered
 * before dockerd sees it. Docker's NAT has already rewritten it (OUTPUT:
 * DNAT 127.0.0.11:53 -> 127.0.0.11:<its port>), so the reply is the exact
 * inverse of the query as seen here, and it re-enters lo's receive path
 * (BPF_F_INGRESS) as a fresh skb: conntrack matches it to Docker's entry
 * and restores port 53, so the application sees 127.0.0.11:53 answer.
 * Needs net.ipv4.conf.lo.route_localnet=1 in that namespace (else the
 * reply to 127.0.0.1 from 127.0.0.11 is dropped as a martian). A name
 * it does not know, and anything it cannot answer exactly, goes on to
 * dockerd untouched. Counted in glued_ctr_stats. docs/fastpath.md,
 * "In-container answers". */
SEC("tc")
int glued_ctr_dns(struct __sk_buff *skb)
{
	return tc_dns(skb, MODE_CTR);
}
