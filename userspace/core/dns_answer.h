/* The answer rules: a query and the name table in, response bytes out.
 *
 * This is the one definition of what glued answers itself; the BPF program
 * implements the subset it can and must produce the same bytes for it (the
 * differential test holds them to that). Pure: no I/O, no allocation.
 *
 * Rules (docs/fastpath.md, "What is answered", lists the subset the kernel
 * answers):
 *   - QR=1 or no complete header: drop, never answer.
 *   - opcode other than QUERY: NOTIMP. Malformed: FORMERR. EDNS version > 0:
 *     BADVERS.
 *   - single-label name known in the table, class IN:
 *       A/AAAA: NOERROR with every address of that family, rotated by `rot`;
 *       no address of that family, or any other type: NOERROR, no answer
 *       (NODATA) — never NXDOMAIN for a known name.
 *   - single-label name unknown, class IN, type A or AAAA: NXDOMAIN.
 *   - PTR for an address in the table (in-addr.arpa / ip6.arpa): answered.
 *   - everything else (multi-label names, other types or classes for
 *     unknown single labels): DNS_ACT_FORWARD; the caller forwards or
 *     refuses it.
 * Replies: same ID, QR=1, opcode, RD and CD copied, AA=1, RA=1; question
 * echoed with the query's case; answers point at the question (0xc00c); an
 * OPT record answered with an OPT (UDP size DNS_UDP_MAX, DO copied) when the
 * query had a valid one. A reply larger than the limit (UDP:
 * dns_query_udp_limit(), TCP: 65535) is sent with TC=1 and no answer
 * records.
 *
 * Order of decisions: no header or QR=1 (dns_parse_query()'s GLUED_ETRUNC
 * and GLUED_EPROTO): drop. Opcode != QUERY: NOTIMP (even when malformed).
 * Malformed: FORMERR. EDNS version > 0: BADVERS. Class != IN: forward.
 * QTYPE PTR for d.c.b.a.in-addr.arpa (4 decimal labels 0..255, no leading
 * zeros) or for 32 single-hex-digit labels under ip6.arpa, whose address
 * table_lookup_addr() knows: one PTR answer; any other reverse name:
 * forward. Root name ("."): forward. More than one label: forward. One
 * label: known -> A/AAAA answered or NODATA, other types NODATA; unknown
 * -> A/AAAA NXDOMAIN, other types forward.
 *
 * Reply bytes, exactly (the BPF program reproduces the A/AAAA ones):
 *   header    ID copied; flags = QR | opcode (copied) | AA | RA |
 *             (query flags & (RD|CD)) | (rcode & 0xf), plus TC when
 *             truncated; Z and AD clear. QDCOUNT 1 (0 when the question did
 *             not parse), ANCOUNT n, NSCOUNT 0, ARCOUNT 1 with an OPT else 0.
 *   question  the query's qname bytes, uncompressed, case as received;
 *             QTYPE; QCLASS.
 *   answer k  (k = 0..n-1) c0 0c, TYPE, 00 01, TTL cfg->ttl_s, RDLENGTH,
 *             RDATA. A/AAAA: the n addresses of the family from
 *             table_lookup() (sorted) starting at index rot % n, wrapping:
 *             answer k is address (rot % n + k) % n. PTR: RDATA is the
 *             first table_lookup_addr() name as one label plus the root.
 *   OPT       when the query had a valid OPT (not on FORMERR): 00, 00 29,
 *             04 d0 (DNS_UDP_MAX), TTL = ext-rcode << 24 (1 for BADVERS,
 *             else 0) | version 0 | DO << 15 copied, RDLENGTH 00 00.
 *   truncated the same header with TC=1 and ANCOUNT 0; question and OPT
 *             kept. Limit: `limit` if non-zero, else dns_query_udp_limit();
 *             never more than cap. When not even this fits: drop.
 * dns_build_rcode() builds the same shape with no answers, AA=0 (it speaks
 * for forwarded names), and an OPT if q->edns.
 */
#ifndef GLUED_CORE_DNS_ANSWER_H
#define GLUED_CORE_DNS_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/dns_wire.h"
#include "core/table.h"

enum dns_action {
	DNS_ACT_DROP = 0, /* say nothing */
	DNS_ACT_REPLY,	  /* out holds the reply */
	DNS_ACT_FORWARD,  /* q is valid; ask the upstreams */
};

struct dns_answer_cfg {
	uint32_t ttl_s; /* TTL of table answers */
};

/* Counters the answerer keeps (the caller owns the struct and exports it). */
struct dns_answer_stats {
	uint64_t queries;
	uint64_t rcode[17]; /* replies by RCODE (0..16) */
	uint64_t nodata;    /* NOERROR with no answer */
	uint64_t truncated; /* TC=1 replies */
	uint64_t forwarded; /* DNS_ACT_FORWARD */
	uint64_t dropped;   /* DNS_ACT_DROP */
	uint64_t ptr;	    /* PTR answered from the table */
};

/* Decide what to do with the message msg[0..len) and, for DNS_ACT_REPLY,
 * write the reply into out (cap bytes; 65535 always suffices), setting
 * *out_len. `limit` is the largest reply the transport takes (UDP: pass 0
 * to use dns_query_udp_limit(); TCP: DNS_TCP_MAX). `rot` rotates address
 * order. *q is filled for the caller (forwarding needs it). Returns the
 * action, never an error code: DNS_ACT_DROP also when cap cannot hold even
 * the truncated reply. Counts every call in *st. */
enum dns_action dns_answer(const struct dns_answer_cfg *cfg, const struct table *t,
			   const uint8_t *msg, size_t len, size_t limit, uint32_t rot,
			   struct dns_query *q, uint8_t *out, size_t cap, size_t *out_len,
			   struct dns_answer_stats *st);

/* A reply to q with only the question (and an OPT if q had one) and the
 * given RCODE: REFUSED, SERVFAIL, FORMERR... Works from a query whose header
 * parsed even if the rest did not (then the question is omitted): q carries
 * everything it needs. Returns 0, GLUED_EMALF when q's
 * header did not parse (q->header_ok false), or GLUED_ESPACE when cap is
 * too small. */
int dns_build_rcode(const struct dns_query *q, uint8_t rcode, uint8_t *out, size_t cap,
		    size_t *out_len) GLUED_MUST_CHECK;

#endif
