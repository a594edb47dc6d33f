/* The ABI between the BPF fast path (bpf/glued_dns.bpf.c) and userspace: the
 * keys and values of every glued_* map, their sizes, the constants and the
 * one function (the name hash that makes glued_names keys) both sides agree
 * on. One definition, included by both; never mirrored by hand.
 *
 * Rules for everything here: <linux/types.h> types only; every hole is an
 * explicit _pad field that userspace always zeroes (hash maps compare raw
 * key bytes); sizes and offsets pinned by _Static_assert; byte order in the
 * name when it is not host order. Changing a layout bumps GLUED_ABI_VERSION,
 * which the program checks against glued_config on every packet (a mismatch
 * passes everything to userspace) and the loader checks at load.
 */
#ifndef GLUED_ABI_H
#define GLUED_ABI_H

#include <linux/types.h>

/* 4: glued_allow values are flags and glued_rrl, glued_rrl_cfg and the
 * rate_limited stat (response rate limiting); glued_ctr_dns and
 * glued_ctr_stats (the in-container block below).
 * 5: the RRL settings are glued_bpf_config.rrl and glued_rrl_cfg is gone:
 * the program reads them from the config it already holds, one map lookup
 * less per rate-limited answer. */
#define GLUED_ABI_VERSION 5

/* A name: one DNS label of 1..63 bytes, lowercase ASCII, zero-padded to
 * GLUED_NAME_LEN so that the key is a C string (bpftool shows it as one)
 * and every byte of the key is defined. */
#define GLUED_NAME_LEN 64
/* Addresses one map value carries per family. A reply with all of them
 * still fits 512 bytes with the longest label and an OPT record
 * (12 + 65 + 4 + 16 * 16 + 11 = 348; 12 + 65 + 4 + 8 * 28 + 11 = 316), so
 * the kernel never has to truncate. Names with more set an overflow flag
 * and are answered by userspace. */
#define GLUED_V4_MAX 16
#define GLUED_V6_MAX 8

/* Map sizes (max_entries): the program declares its maps with these and
 * userspace sizes its mirrors and checks pinned maps against them. */
#define GLUED_NAMES_MAX 65536 /* glued_names: names the kernel can answer */
#define GLUED_ADDRS_MAX 256   /* glued_addrs: local addresses glued serves */
#define GLUED_ALLOW_MAX 256   /* glued_allow: prefixes of GLUED_ALLOW */

/* Limits of the program, exported for tests and docs. */
#define GLUED_QUERY_MAX 512 /* UDP payload of a query the kernel considers */
#define GLUED_IP_TTL 64	    /* TTL / hop limit of replies */

/* --- glued_names: hash, key = struct glued_name_key ------------------------------------- */

/* The key is a 64-bit hash of the name, not the name: the kernel hashes
 * and compares the whole key on every lookup, and with the 64-byte name as
 * key that alone cost ~70 ns per query on the reference machine (8 ns with
 * 8 bytes; docs/fastpath.md). The value carries the name and the program
 * compares all of it, so a collision can only cost speed, never a wrong
 * answer: two names with one hash share one slot, the one written last
 * wins and the other misses to userspace.
 *
 * The hash, over the lowercase name zero-padded to GLUED_NAME_LEN and read
 * as little-endian 64-bit words w[0..(len + 7) / 8):
 *   h = GLUED_NAME_HASH_SEED ^ len; for each word h = glued_name_hash_step(h, w)
 * Each step is a bijection of h ^ w, so names of up to 8 bytes never
 * collide. One definition here for both sides (bpf_names_key() and the
 * program). */
#define GLUED_NAME_HASH_SEED 0x676c7565642e6e73ULL
#define GLUED_NAME_HASH_MUL 0x9e3779b97f4a7c15ULL

static inline __u64 glued_name_hash_step(__u64 h, __u64 w)
{
	h = (h ^ w) * GLUED_NAME_HASH_MUL;
	return h ^ (h >> 32);
}

struct glued_name_key {
	__u64 hash; /* see above; host order */
};

enum glued_name_flags {
	GLUED_NAME_V4_OVERFLOW = 1 << 0, /* more than GLUED_V4_MAX: A goes to userspace */
	GLUED_NAME_V6_OVERFLOW = 1 << 1, /* more than GLUED_V6_MAX: AAAA goes to userspace */
};

/* Everything the kernel answers for one name, written whole by one
 * bpf_map_update_elem() so a reader never sees half an update. `name` is
 * what `bpftool map dump` shows and what the program compares the query
 * with (all GLUED_NAME_LEN bytes). Addresses in network byte order, in the
 * order userspace's table_lookup() returns them (sorted by bytes); the
 * program rotates them exactly as dns_answer() does. Unused slots are
 * zero. n_v4 == n_v6 == 0 is a known name with no address (NODATA for
 * both). Aligned to 8 (the kernel aligns map values to 8; the layout and
 * size do not change): without it clang must assume the byte alignment
 * of the __u8 members and splits every wide load from the value into
 * byte loads (the name comparison alone cost ~17 ns that way). */
struct glued_name_val {
	char name[GLUED_NAME_LEN]; /* lowercase label, NUL-padded; name[63] is always 0 */
	__u8 n_v4;		   /* valid entries in v4[], 0..GLUED_V4_MAX */
	__u8 n_v6;		   /* valid entries in v6[], 0..GLUED_V6_MAX */
	__u8 flags;		   /* enum glued_name_flags */
	__u8 _pad[5];
	__u8 v4[GLUED_V4_MAX][4];
	__u8 v6[GLUED_V6_MAX][16];
} __attribute__((aligned(8)));

/* --- glued_local_addrs: hash, the destinations glued serves ---------------------------- */

/* A query is considered only if its destination address is a key here
 * (and its port is glued_config.port_be). The loader lists every address
 * glued listens on; for a wildcard listener, the addresses of the
 * interfaces the program is attached to — never "any": a query crossing the
 * interface towards another server must pass untouched.
 *
 * An address added is used at once. An address removed stops being
 * answered at the next write of glued_config with a new alive_until_ns
 * (the program keeps a per-CPU cache of the last address it found, valid
 * while alive_until_ns is unchanged and non-zero): the daemon's refresh
 * every second bounds it; write the config right after removing to make
 * it immediate. */
/* Aligned to 4 (size unchanged) so that the program builds it with word
 * stores. */
struct glued_local_key {
	__u8 family; /* 4 or 6 (not AF_*: the same on every side) */
	__u8 _pad[3];
	__u8 addr[16]; /* network order; IPv4 in addr[0..3], the rest zero */
} __attribute__((aligned(4)));

struct glued_local_val {
	__u32 flags; /* reserved, 0 */
};

#define GLUED_FAMILY_V4 4
#define GLUED_FAMILY_V6 6

/* --- glued_allow: LPM trie (source prefix -> __u8 enum glued_allow_flags) ---------------- */

/* Who gets answers at all: GLUED_ALLOW (with the watched subnets), the same
 * list userspace checks, and who is exempt from response rate limiting
 * (GLUED_RRL_EXEMPT with the watched subnets). The program answers only a
 * source whose longest matching prefix carries GLUED_ALLOW_F_ALLOWED; any
 * other query passes up (GLUED_STAT_not_allowed) and userspace refuses it.
 * The daemon writes the union of both lists, each prefix with the flags of
 * every listed prefix that contains it (core/access.h), so the one longest
 * match says everything. An LPM key: prefixlen counts bits from `family`,
 * so 10.0.0.0/8 is {8 + 8, 4, 10}; one trie serves both families. */
enum glued_allow_flags {
	GLUED_ALLOW_F_ALLOWED = 1 << 0,	   /* answers go to this source */
	GLUED_ALLOW_F_RRL_EXEMPT = 1 << 1, /* never rate limited (glued_rrl) */
};

struct glued_allow_key {
	__u32 prefixlen; /* 8 (the family byte) + the address prefix */
	__u8 family;	 /* GLUED_FAMILY_V4 or GLUED_FAMILY_V6 */
	__u8 addr[16];	 /* network order; IPv4 in addr[0..3] */
	__u8 _pad[3];	 /* always zero; never inside a prefix */
};

/* --- glued_rrl: response rate limiting (LRU hash; settings in glued_config) -------------- */

/* A source that is allowed but not exempt spends credit per answer larger
 * than its query (GCRA, the token bucket as one timestamp): per source
 * prefix (address & mask), a response is due `cost_ns` after the last one,
 * and may come up to `burst_ns` early. Over that the query passes up
 * (GLUED_STAT_rate_limited), where userspace's RRL (core/rrl.h) sends,
 * slips or drops the answer. The settings are glued_config[0].rrl, written
 * by the daemon with the rest of the config; cost_ns 0 turns the kernel's
 * limit off. glued_rrl (LRU hash,
 * GLUED_RRL_MAX) holds one struct glued_rrl_bucket per prefix, keyed like
 * glued_addrs; the LRU evicts the least recently used prefix, so a spoofer
 * cycling prefixes costs memory bounded by the map and can only give a
 * prefix a fresh (full) bucket back. */
#define GLUED_RRL_MAX 16384
#define GLUED_RRL_PREFIX6_MAX 56 /* the key holds 7 address bytes */

struct glued_rrl_config {
	__u64 cost_ns;	/* 1e9 / rate: credit one response spends; 0: off */
	__u64 burst_ns; /* credit a prefix can bank: 1 s, `rate` responses */
	__u8 mask6[8];	/* applied to the IPv6 source's first 8 bytes */
	__u8 mask4[4];	/* applied to the IPv4 source */
	__u32 _pad;
};

/* 8 bytes, like glued_names' key: the family, then the first 7 bytes of
 * the masked source (IPv4: 4, the rest zero; IPv6: up to a /56). Every
 * byte defined: the key is built as one word. */
struct glued_rrl_key {
	__u8 family; /* GLUED_FAMILY_V4 / _V6 */
	__u8 addr[7];
};

struct glued_rrl_bucket {
	__u64 tat_ns; /* CLOCK_MONOTONIC when the prefix's credit is full again */
};

/* --- glued_config: array[1] ------------------------------------------------------------ */

enum glued_config_flags {
	GLUED_CFG_ENABLED = 1 << 0, /* clear: the program passes everything */
};

/* Written whole by userspace (array element: not atomic for a reader, so
 * every field must be right on its own at any time). */
struct glued_bpf_config {
	__u32 abi_version; /* GLUED_ABI_VERSION, else everything passes */
	__u32 flags;	   /* enum glued_config_flags */
	/* Dead man's switch: when non-zero and the kernel's CLOCK_MONOTONIC
	 * (bpf_ktime_get_coarse_ns(): the same clock as clock_gettime
	 * (CLOCK_MONOTONIC), read at the last tick, so at most a jiffy behind)
	 * has passed it, everything passes (a datagram to glued's port is
	 * counted `stale`, other traffic by its own reason). The daemon
	 * moves it forward every second; a dead glued's pinned program stops
	 * answering from a map nobody maintains once the grace runs out. */
	__u64 alive_until_ns;
	__u32 ttl_s;	/* TTL of answers (dns_answer_cfg.ttl_s) */
	__be16 port_be; /* UDP port glued serves, network order */
	__u16 _pad0;
	/* Response rate limiting (glued_rrl above), here rather than in a map
	 * of its own: the program holds this value on every packet. All zero
	 * (bpf_config_init()): off. */
	struct glued_rrl_config rrl;
};

/* --- glued_stats: percpu array[1] of struct glued_stats -------------------------------- */

/* Every decision the program takes, one counter each. The X-list makes the
 * enum (used by the program as an index) and the struct (named fields, so
 * bpftool shows names) from one list. */
#define GLUED_STATS(X)                                                                             \
	X(answered)	    /* NOERROR with addresses, sent back */                                \
	X(nodata)	    /* NOERROR, no answer (known name, other family), sent back */        \
	X(disabled)	    /* config missing, wrong ABI version or not enabled */                \
	X(stale)	    /* to glued's port, but alive_until_ns has passed */                 \
	X(not_ip)	    /* not IPv4/IPv6 (after at most one 802.1Q tag), or runt frame */     \
	X(not_udp)	    /* IP but not UDP (TCP/53 lands here) */                              \
	X(ip_options)	    /* IPv4 IHL != 5, or an IPv6 extension header */                      \
	X(fragment)	    /* IPv4 fragment */                                                   \
	X(bad_ip)	    /* IPv4 header checksum or lengths inconsistent */                    \
	X(not_port)	    /* UDP destination port is not glued's */                             \
	X(not_ours)	    /* destination address glued does not serve */                        \
	X(truncated)	    /* headers or DNS message cut short by the frame */                   \
	X(malformed)	    /* UDP length, zero IPv6 checksum, DNS header < 12 bytes */           \
	X(qr_set)	    /* a response */                                                      \
	X(opcode)	    /* opcode != QUERY */                                                 \
	X(counts)	    /* QDCOUNT != 1, ANCOUNT/NSCOUNT != 0 or ARCOUNT > 1 */               \
	X(not_single_label) /* root name or more than one label */                                \
	X(compression)	    /* compression pointer in the question */                             \
	X(label_too_long)   /* label length byte 64..191 (extended/reserved types) */            \
	X(label_bad)	    /* label holds a NUL byte: no table name can match */                \
	X(class)	    /* QCLASS != IN */                                                    \
	X(type)		    /* QTYPE not A or AAAA */                                             \
	X(edns_unsupported) /* ARCOUNT 1 but not a plain OPT we can echo (see docs) */            \
	X(miss)		    /* name not in glued_names: userspace says NXDOMAIN */               \
	X(not_allowed)	    /* known name, but the source is outside GLUED_ALLOW: userspace refuses */\
	X(rate_limited)	    /* answer > query, prefix over GLUED_RRL_RATE: userspace decides */   \
	X(overflow)	    /* the name has more addresses than the map value holds */            \
	X(too_big)	    /* query > GLUED_QUERY_MAX or reply > client's UDP limit */           \
	X(resize_failed)    /* adjust_tail / change_tail refused */                               \
	X(error)	    /* a bounds check failed after resizing (dropped; not expected) */

#define GLUED_STAT_ENUM_(n) GLUED_STAT_##n,
enum glued_stat { GLUED_STATS(GLUED_STAT_ENUM_) GLUED_STAT_MAX };
#undef GLUED_STAT_ENUM_

#define GLUED_STAT_FIELD_(n) __u64 n;
struct glued_stats {
	GLUED_STATS(GLUED_STAT_FIELD_)
};
#undef GLUED_STAT_FIELD_

/* --- in-container: glued_ctr_dns, glued_ctr_stats ------------------------------------- */

/* The third entry point of the object, a sched_cls program for the lo of a
 * container's network namespace (egress): it answers queries to Docker's
 * embedded resolver address from the same glued_names, glued_config and
 * glued_rot as the host's hooks, on any UDP port (Docker's DNAT has
 * already replaced 53 by its resolver's port), IPv4 only, without
 * glued_addrs, port_be or glued_allow. Its decisions go to their own
 * percpu array[1] of the same struct glued_stats, so that the operator and
 * the tests can tell which hook answered. In it, `not_ours` counts what
 * is not IPv4 to 127.0.0.11 (IPv6 included: Docker's resolver is IPv4
 * only), and `stale` a query to 127.0.0.11 past alive_until_ns;
 * `not_port` and `not_allowed` never move. The names are ABI: the loader
 * finds the program and the map by them. */
#define GLUED_CTR_PROG_NAME "glued_ctr_dns"
#define GLUED_CTR_STATS_NAME "glued_ctr_stats"
#define GLUED_CTR_RESOLVER_V4 0x7f00000bU /* 127.0.0.11, host order */

/* --- glued_rot: percpu array[1] of __u32 ----------------------------------------------- */

/* The rotation counter: a reply with n addresses starts at address
 * rot % n (dns_answer()'s `rot`); the program reads it, then stores
 * rot + 1, on every answered or NODATA reply. */

/* --- layout pins ----------------------------------------------------------------------- */

#define GLUED_ABI_ASSERT_(c) _Static_assert(c, #c)
GLUED_ABI_ASSERT_(sizeof(struct glued_name_key) == 8);
GLUED_ABI_ASSERT_(sizeof(struct glued_name_val) ==
		  GLUED_NAME_LEN + 8 + 4 * GLUED_V4_MAX + 16 * GLUED_V6_MAX);
GLUED_ABI_ASSERT_(__builtin_offsetof(struct glued_name_val, n_v4) == GLUED_NAME_LEN);
GLUED_ABI_ASSERT_(__builtin_offsetof(struct glued_name_val, flags) == GLUED_NAME_LEN + 2);
GLUED_ABI_ASSERT_(__builtin_offsetof(struct glued_name_val, v4) == GLUED_NAME_LEN + 8);
GLUED_ABI_ASSERT_(__builtin_offsetof(struct glued_name_val, v6) ==
		  GLUED_NAME_LEN + 8 + 4 * GLUED_V4_MAX);
GLUED_ABI_ASSERT_(sizeof(struct glued_local_key) == 20);
GLUED_ABI_ASSERT_(__builtin_offsetof(struct glued_local_key, addr) == 4);
GLUED_ABI_ASSERT_(sizeof(struct glued_local_val) == 4);
GLUED_ABI_ASSERT_(sizeof(struct glued_allow_key) == 24);
GLUED_ABI_ASSERT_(__builtin_offsetof(struct glued_allow_key, family) == 4);
GLUED_ABI_ASSERT_(sizeof(struct glued_rrl_config) == 32);
GLUED_ABI_ASSERT_(__builtin_offsetof(struct glued_rrl_config, mask6) == 16);
GLUED_ABI_ASSERT_(__builtin_offsetof(struct glued_rrl_config, mask4) == 24);
GLUED_ABI_ASSERT_(sizeof(struct glued_rrl_key) == 8);
GLUED_ABI_ASSERT_(sizeof(struct glued_rrl_bucket) == 8);
GLUED_ABI_ASSERT_(sizeof(struct glued_bpf_config) == 24 + sizeof(struct glued_rrl_config));
GLUED_ABI_ASSERT_(__builtin_offsetof(struct glued_bpf_config, flags) == 4);
GLUED_ABI_ASSERT_(__builtin_offsetof(struct glued_bpf_config, alive_until_ns) == 8);
GLUED_ABI_ASSERT_(__builtin_offsetof(struct glued_bpf_config, ttl_s) == 16);
GLUED_ABI_ASSERT_(__builtin_offsetof(struct glued_bpf_config, port_be) == 20);
GLUED_ABI_ASSERT_(__builtin_offsetof(struct glued_bpf_config, rrl) == 24);
GLUED_ABI_ASSERT_(sizeof(struct glued_stats) == GLUED_STAT_MAX * sizeof(__u64));
/* The program masks its offsets into a query with GLUED_QUERY_MAX - 1. */
GLUED_ABI_ASSERT_((GLUED_QUERY_MAX & (GLUED_QUERY_MAX - 1)) == 0);
GLUED_ABI_ASSERT_(__builtin_offsetof(struct glued_stats, error) ==
		  GLUED_STAT_error * sizeof(__u64));
#undef GLUED_ABI_ASSERT_

#endif
