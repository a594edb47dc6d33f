/* DNS wire format: bounded parsing of queries and building of replies.
 *
 * Everything here reads untrusted bytes: every read is bounded by the
 * message, compression pointers must point strictly backwards and are
 * followed at most DNS_MAX_PTRS times, names are at most 255 bytes in wire
 * form and labels at most 63. No allocation, no I/O.
 */
#ifndef GLUED_CORE_DNS_WIRE_H
#define GLUED_CORE_DNS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "glued/dns.h"
#include "lib/err.h"
#include "lib/wire.h"

/* DNS_HDR_LEN, DNS_LABEL_MAX, DNS_UDP_MIN/MAX, the flag bits, enum
 * dns_type and DNS_CLASS_IN are shared with the BPF program. */
#define DNS_NAME_MAX 255 /* wire form, including the root label */
#define DNS_MAX_PTRS 16	 /* compression pointers followed per name */
#define DNS_TCP_MAX 65535

enum dns_rcode {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
	DNS_RCODE_BADVERS = 16, /* extended: needs OPT */
};

/* A parsed query. Filled by dns_parse_query(); every field is valid when it
 * returns 0, and the header fields (id, flags, counts) are valid as soon as
 * the 12-byte header was read, even if it then fails, so an error reply can
 * be built. */
struct dns_query {
	uint16_t id;
	uint16_t flags; /* as received */
	uint16_t qdcount, ancount, nscount, arcount;
	bool header_ok; /* 12 header bytes were present */

	/* The question name in wire form, uncompressed, case as received. */
	uint8_t qname[DNS_NAME_MAX];
	uint8_t qname_len; /* bytes in qname, including the root label */
	uint8_t labels;	   /* label count, root excluded: 1 = single label */
	uint16_t qtype, qclass;
	uint16_t question_end; /* offset just past QCLASS in the message */
	bool question_ok;      /* qname..qclass above are valid (set even when a
				* later section then fails, for error replies) */

	/* EDNS(0): present only if the query had an OPT record. */
	bool edns;
	uint16_t edns_udp_size; /* as advertised (may be < 512) */
	uint8_t edns_version;
	bool edns_do;	     /* DO bit */
	uint16_t opt_offset; /* where the OPT RR starts in the message */
	uint16_t opt_len;    /* its length in bytes */
};

/* Parse a query message. Returns:
 *   0               a well-formed query (QR=0, QDCOUNT=1, at most one OPT
 *                   with the root owner); check opcode/version yourself
 *   GLUED_ETRUNC    fewer than 12 bytes (no header; drop silently)
 *   GLUED_EFORMERR  anything malformed after the header (answer FORMERR)
 *   GLUED_EPROTO    QR=1: a response; never answered
 * Checks, in order: QR; QDCOUNT == 1 and length <= 65535; the question (name bounded as below,
 * QTYPE, QCLASS present); ANCOUNT == NSCOUNT == 0; ARCOUNT records cannot
 * need more bytes than are left (11 each); every additional record parses
 * (owner name, fixed fields, RDLENGTH within the message); OPT: at most
 * one, root owner, its options' TLVs exactly fill RDLENGTH. Non-OPT
 * additional records are skipped; bytes after the last record are ignored;
 * the Z bit is ignored. The opcode is not checked.
 */
int dns_parse_query(struct dns_query *q, const uint8_t *msg, size_t len) GLUED_MUST_CHECK;

/* The first label of q->qname, lowercased into buf (>= 64 bytes), and its
 * length; for table lookups. */
size_t dns_query_first_label(const struct dns_query *q, char *buf);

/* The UDP payload size the reply to q may use: 512 without EDNS, else the
 * advertised size clamped to [512, DNS_UDP_MAX]. */
uint16_t dns_query_udp_limit(const struct dns_query *q);

/* Parse a name at `off` in msg (compression allowed, bounded) into wire form
 * in out[DNS_NAME_MAX]; sets *name_len and *next (offset after the name in
 * place). 0 or GLUED_EFORMERR / GLUED_ETRUNC. A pointer must point before
 * the start of the run of labels it ends (so every jump goes strictly
 * backwards and loops are impossible), at most DNS_MAX_PTRS per name; it
 * may point into the header. Label types 0x40 and 0x80 are GLUED_EFORMERR,
 * as is a name longer than 255 bytes; running off the end is
 * GLUED_ETRUNC. */
int dns_name_parse(const uint8_t *msg, size_t len, size_t off, uint8_t *out, uint8_t *name_len,
		   size_t *next) GLUED_MUST_CHECK;

/* Wire-form name to lowercase presentation form without the trailing dot
 * ("web", "example.com", "" for the root). out needs DNS_NAME_MAX*4 bytes to
 * hold escapes; non-printable bytes are written as \DDD. */
size_t dns_name_to_text(const uint8_t *name, size_t name_len, char *out, size_t cap);

/* One label's bytes (len of them, any values) as printable ASCII in the
 * same master-file form, case kept: '.' and '\' as \X, bytes outside
 * 0x21..0x7e as \DDD. For showing names that came from outside (gossip,
 * Docker) to people and to JSON: nothing is dropped, nothing reaches a
 * terminal raw. Stops at a whole escape that would not fit; out (cap >= 1)
 * is NUL-terminated; returns the length written. DNS_LABEL_TEXT_MAX holds
 * any label. */
#define DNS_LABEL_TEXT_MAX (DNS_LABEL_MAX * 4 + 1)
size_t dns_label_to_text(const char *label, size_t len, char *out, size_t cap);

/* Case-insensitive equality of two wire-form names. */
bool dns_name_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* --- walking whole messages (the forwarder's upstream answers) --------------- */

/* Skip the name at the cursor, compressed or not; a pointer is not followed
 * (skipping needs only its 2 bytes). Label types 0x40 and 0x80, or more
 * than DNS_NAME_MAX bytes of labels, fail the cursor with GLUED_EMALF;
 * running off the end with GLUED_ETRUNC. */
void dns_skip_name(struct wire *w);

/* What the forwarder needs to know of an answer, from dns_msg_scan(). */
struct dns_msg_info {
	uint16_t flags, an, ns, ar; /* header */
	size_t end;		    /* just past the last record */
	size_t opt_off, opt_len;    /* the OPT record; opt_len 0: none */
	uint16_t ar_before_opt;	    /* additional records before the OPT */
	uint32_t min_ttl;	    /* over answer + authority; UINT32_MAX if none */
	bool has_soa;		    /* an SOA in the authority section */
	uint32_t soa_ttl;	    /* min(TTL, MINIMUM) of the SOAs (RFC 2308) */
};

/* Walk every record of msg[0..len) after the question, which ends at qend
 * (the caller matched it; len >= qend >= DNS_HDR_LEN). TTLs with the high
 * bit set count as 0 (RFC 2181 8). 0, or GLUED_EMALF when a record does not
 * fit or an OPT is not a single additional record with the root owner. */
int dns_msg_scan(const uint8_t *msg, size_t len, size_t qend,
		 struct dns_msg_info *mi) GLUED_MUST_CHECK;

/* Lower every record's TTL (OPT excepted) by age_s, down to 0, in place, in
 * a message whose question is at DNS_HDR_LEN. Meant for messages that
 * dns_msg_scan() accepted; otherwise it stops at the first record that does
 * not fit. */
void dns_msg_age(uint8_t *msg, size_t len, uint32_t age_s);

#endif
