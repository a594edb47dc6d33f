/* Unit tests of the DNS wire codec: a catalogue of malformed and
 * well-formed queries, each with its expected outcome, and the name
 * helpers. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/dns_wire.h"
#include "t.h"

/* Header with ID 0x1234. */
#define HDR(fhi, flo, qd, an, ns, ar) 0x12, 0x34, fhi, flo, 0, qd, 0, an, 0, ns, 0, ar
#define Q_WEB 3, 'w', 'e', 'b', 0, 0, 1, 0, 1 /* web. A IN, 9 bytes */
#define OPT(shi, slo, ver, flags_hi) 0, 0, 41, shi, slo, 0, ver, flags_hi, 0, 0, 0

struct wcase {
	const char *what;
	uint8_t msg[96];
	size_t len;
	int want;
};

#define C(what_, want_, ...)                                                                       \
	{                                                                                          \
		.what = what_, .msg = {__VA_ARGS__}, .len = sizeof((uint8_t[]){__VA_ARGS__}),      \
		.want = want_                                                                      \
	}

static const struct wcase catalogue[] = {
    /* well-formed */
    C("plain A query", 0, HDR(0x01, 0x00, 1, 0, 0, 0), Q_WEB),
    C("EDNS query", 0, HDR(0x01, 0x00, 1, 0, 0, 1), Q_WEB, OPT(0x04, 0xd0, 0, 0x80)),
    C("EDNS version 1 parses (the answerer says BADVERS)", 0, HDR(0x01, 0x00, 1, 0, 0, 1), Q_WEB,
      OPT(0x10, 0x00, 1, 0)),
    C("Z bit set is ignored", 0, HDR(0x01, 0x40, 1, 0, 0, 0), Q_WEB),
    C("other opcodes parse (the answerer says NOTIMP)", 0, HDR(0x28, 0x00, 1, 0, 0, 0), Q_WEB),
    C("trailing bytes are ignored", 0, HDR(0x00, 0x00, 1, 0, 0, 0), Q_WEB, 1, 2, 3),
    C("mixed case multi-label name", 0, HDR(0x00, 0x00, 1, 0, 0, 0), 3, 'W', 'w', 'W', 7, 'e', 'X',
      'a', 'm', 'p', 'l', 'e', 3, 'c', 'O', 'm', 0, 0, 28, 0, 1),
    C("root name", 0, HDR(0x00, 0x00, 1, 0, 0, 0), 0, 0, 2, 0, 1),
    C("question name is a pointer into the header (to QDCOUNT's 00)", 0,
      HDR(0x00, 0x00, 1, 0, 0, 0), 0xc0, 4, 0, 1, 0, 1),
    C("pointer into the header reads labels there", 0, HDR(0x01, 0x00, 1, 0, 0, 0), 0xc0, 2, 0, 1,
      0, 1),
    C("OPT owner may be a pointer to a root label", 0, HDR(0x00, 0x00, 1, 0, 0, 1), Q_WEB, 0xc0, 16,
      0, 41, 2, 0, 0, 0, 0, 0, 0, 0),
    C("non-OPT additional records are skipped", 0, HDR(0x00, 0x00, 1, 0, 0, 2), Q_WEB, 0xc0, 12, 0,
      99, 0, 1, 0, 0, 0, 0, 0, 3, 1, 2, 3, OPT(0x02, 0x00, 0, 0)),
    C("OPT with a well-formed option (cookie)", 0, HDR(0x00, 0x00, 1, 0, 0, 1), Q_WEB, 0, 0, 41,
      0x04, 0xd0, 0, 0, 0, 0, 0, 12, 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8),
    /* the header */
    C("QR=1 is a response", GLUED_EPROTO, HDR(0x81, 0x00, 1, 0, 0, 0), Q_WEB),
    C("QR=1 even with garbage after", GLUED_EPROTO, HDR(0x80, 0x00, 0, 9, 9, 9)),
    C("QDCOUNT 0", GLUED_EFORMERR, HDR(0x01, 0x00, 0, 0, 0, 0), Q_WEB),
    C("QDCOUNT 2", GLUED_EFORMERR, HDR(0x01, 0x00, 2, 0, 0, 0), Q_WEB, Q_WEB),
    C("ANCOUNT 1 in a query", GLUED_EFORMERR, HDR(0x01, 0x00, 1, 1, 0, 0), Q_WEB, 0xc0, 12, 0, 1, 0,
      1, 0, 0, 0, 5, 0, 4, 1, 2, 3, 4),
    C("NSCOUNT 1 in a query", GLUED_EFORMERR, HDR(0x01, 0x00, 1, 0, 1, 0), Q_WEB),
    C("ARCOUNT larger than the packet", GLUED_EFORMERR, 0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0xff,
      0xff, Q_WEB, OPT(0x04, 0xd0, 0, 0)),
    C("ARCOUNT 2 with one record", GLUED_EFORMERR, HDR(0x00, 0x00, 1, 0, 0, 2), Q_WEB,
      OPT(0x04, 0xd0, 0, 0)),
    /* the question */
    C("no question at all", GLUED_EFORMERR, HDR(0x01, 0x00, 1, 0, 0, 0)),
    C("question name cut", GLUED_EFORMERR, HDR(0x01, 0x00, 1, 0, 0, 0), 3, 'w', 'e'),
    C("question name without its root", GLUED_EFORMERR, HDR(0x01, 0x00, 1, 0, 0, 0), 3, 'w', 'e',
      'b'),
    C("QTYPE cut", GLUED_EFORMERR, HDR(0x01, 0x00, 1, 0, 0, 0), 3, 'w', 'e', 'b', 0, 0),
    C("QCLASS cut", GLUED_EFORMERR, HDR(0x01, 0x00, 1, 0, 0, 0), 3, 'w', 'e', 'b', 0, 0, 1, 0),
    C("pointer to itself", GLUED_EFORMERR, HDR(0x01, 0x00, 1, 0, 0, 0), 0xc0, 12, 0, 1, 0, 1),
    C("forward pointer", GLUED_EFORMERR, HDR(0x01, 0x00, 1, 0, 0, 0), 0xc0, 18, 0, 1, 0, 1, 0),
    C("pointer loop: label then pointer back to it", GLUED_EFORMERR, HDR(0x01, 0x00, 1, 0, 0, 0), 1,
      'a', 0xc0, 12, 0, 1, 0, 1),
    C("pointer cut after its first byte", GLUED_EFORMERR, HDR(0x01, 0x00, 1, 0, 0, 0), 0xc0),
    C("label type 0x40", GLUED_EFORMERR, HDR(0x01, 0x00, 1, 0, 0, 0), 0x41, 'a', 0, 0, 1, 0, 1),
    C("label type 0x80", GLUED_EFORMERR, HDR(0x01, 0x00, 1, 0, 0, 0), 0x81, 'a', 0, 0, 1, 0, 1),
    C("label of 64 bytes (its length byte is 0x40)", GLUED_EFORMERR, HDR(0x01, 0x00, 1, 0, 0, 0),
      64, 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
      'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
      'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
      'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 0, 0, 1, 0, 1),
    /* the additional section */
    C("two OPT records", GLUED_EFORMERR, HDR(0x01, 0x00, 1, 0, 0, 2), Q_WEB, OPT(0x04, 0xd0, 0, 0),
      OPT(0x04, 0xd0, 0, 0)),
    C("OPT with a non-root owner", GLUED_EFORMERR, HDR(0x01, 0x00, 1, 0, 0, 1), Q_WEB, 0xc0, 12, 0,
      41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0),
    C("OPT RDLENGTH past the end", GLUED_EFORMERR, HDR(0x01, 0x00, 1, 0, 0, 1), Q_WEB, 0, 0, 41,
      0x04, 0xd0, 0, 0, 0, 0, 0, 4, 0, 10),
    C("OPT option longer than RDATA", GLUED_EFORMERR, HDR(0x01, 0x00, 1, 0, 0, 1), Q_WEB, 0, 0, 41,
      0x04, 0xd0, 0, 0, 0, 0, 0, 6, 0, 10, 0, 9, 1, 2),
    C("OPT RDATA with a stray byte", GLUED_EFORMERR, HDR(0x01, 0x00, 1, 0, 0, 1), Q_WEB, 0, 0, 41,
      0x04, 0xd0, 0, 0, 0, 0, 0, 5, 0, 10, 0, 0, 7),
    C("additional record cut in its fixed fields", GLUED_EFORMERR, HDR(0x01, 0x00, 1, 0, 0, 1),
      Q_WEB, 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0),
    C("additional record with a forward pointer", GLUED_EFORMERR, HDR(0x01, 0x00, 1, 0, 0, 1),
      Q_WEB, 0xc0, 40, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0),
};

static void catalogue_cases(void)
{
	for (size_t i = 0; i < sizeof(catalogue) / sizeof(catalogue[0]); i++) {
		const struct wcase *c = &catalogue[i];
		struct dns_query q;

		T_CASE(c->what)
		{
			int rc = dns_parse_query(&q, c->msg, c->len);

			T_ASSERT(rc == c->want, "%s: got %d (%s), want %d (%s)", c->what, rc,
				 glued_strerror(rc), c->want, glued_strerror(c->want));
			T_ASSERT(q.header_ok, "header was complete");
			T_EQ_INT(q.id, 0x1234);
		}
	}
}

/* --- builder for the larger inputs -------------------------------------------- */

struct buf {
	uint8_t b[70000];
	size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void put8(struct buf *b, uint8_t v)
{
	b->b[b->n++] = v;
}

static void put16(struct buf *b, uint16_t v)
{
	put8(b, (uint8_t)(v >> 8));
	put8(b, (uint8_t)v);
}

static void hdr(struct buf *b, uint16_t flags, uint16_t qd, uint16_t ar)
{
	b->n = 0;
	put16(b, 0x1234);
	put16(b, flags);
	put16(b, qd);
	put16(b, 0);
	put16(b, 0);
	put16(b, ar);
}

/* Labels of the given lengths, then root. */
static void name_of(struct buf *b, const size_t *lens, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		put8(b, (uint8_t)lens[i]);
		for (size_t k = 0; k < lens[i]; k++)
			put8(b, (uint8_t)('a' + k % 26));
	}
	put8(b, 0);
}

static int parse(struct buf *b, struct dns_query *q)
{
	return dns_parse_query(q, b->b, b->n);
}

/* An additional RR of type 99 whose RDATA is a chain of n pointers, each to
 * the one before, the first to the root at offset `root`; then an OPT whose
 * owner is a pointer to the last: n + 1 pointers in all. */
static int pointer_chain(size_t n)
{
	struct buf b;
	struct dns_query q;
	size_t first;

	hdr(&b, 0, 1, 2);
	put(&b, (uint8_t[]){Q_WEB}, 9);
	put8(&b, 0);
	put16(&b, 99);
	put16(&b, 1);
	put16(&b, 0);
	put16(&b, 0);
	put16(&b, (uint16_t)(2 * n));
	first = b.n;
	for (size_t i = 0; i < n; i++)
		put16(&b, (uint16_t)(0xc000 | (i ? first + 2 * (i - 1) : 16)));
	put16(&b, (uint16_t)(0xc000 | (first + 2 * (n - 1))));
	put16(&b, DNS_TYPE_OPT);
	put16(&b, 1232);
	put16(&b, 0);
	put16(&b, 0);
	put16(&b, 0);
	return dns_parse_query(&q, b.b, b.n) ? -1 : (int)q.edns;
}

static void builder_cases(void)
{
	struct buf b;
	struct dns_query q;

	T_CASE("truncated headers of 0..11 bytes are GLUED_ETRUNC without a header")
	{
		uint8_t m[12] = {0x12, 0x34, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0};

		for (size_t n = 0; n < 12; n++) {
			T_EQ_INT(dns_parse_query(&q, m, n), GLUED_ETRUNC);
			T_ASSERT(!q.header_ok, "no header at %zu bytes", n);
		}
		T_EQ_INT(dns_parse_query(&q, m, 12), GLUED_EFORMERR); /* no question */
		T_ASSERT(q.header_ok, "header at 12 bytes");
		T_ASSERT(!q.question_ok, "no question");
	}
	T_CASE("a name of exactly 255 bytes parses; 256 is FORMERR")
	{
		size_t ok[] = {63, 63, 63, 61}, over[] = {63, 63, 63, 62};

		hdr(&b, 0, 1, 0);
		name_of(&b, ok, 4);
		put16(&b, 1);
		put16(&b, 1);
		T_EQ_INT(parse(&b, &q), 0);
		T_EQ_INT(q.qname_len, 255);
		T_EQ_INT(q.labels, 4);
		hdr(&b, 0, 1, 0);
		name_of(&b, over, 4);
		put16(&b, 1);
		put16(&b, 1);
		T_EQ_INT(parse(&b, &q), GLUED_EFORMERR);
	}
	T_CASE("a name longer than 255 through pointers is FORMERR")
	{
		/* additional owner: 2 labels of 63 then a pointer to a 2x63 name */
		size_t two[] = {63, 63};

		hdr(&b, 0, 1, 1);
		name_of(&b, two, 2); /* 129 bytes at 12 */
		put16(&b, 1);
		put16(&b, 1);
		for (int i = 0; i < 2; i++) {
			put8(&b, 63);
			for (int k = 0; k < 63; k++)
				put8(&b, 'x');
		}
		put16(&b, 0xc000 | 12);
		put16(&b, 99);
		put16(&b, 1);
		put16(&b, 0);
		put16(&b, 0);
		put16(&b, 0);
		T_EQ_INT(parse(&b, &q), GLUED_EFORMERR);
	}
	T_CASE("DNS_MAX_PTRS pointers in one name are followed; one more is FORMERR")
	{
		T_EQ_INT(pointer_chain(DNS_MAX_PTRS - 1), 1);
		T_EQ_INT(pointer_chain(DNS_MAX_PTRS), -1);
	}
	T_CASE("a message longer than 65535 bytes is FORMERR")
	{
		hdr(&b, 0, 1, 0);
		put(&b, (uint8_t[]){Q_WEB}, 9);
		b.n = 65536;
		T_EQ_INT(parse(&b, &q), GLUED_EFORMERR);
		b.n = 65535;
		T_EQ_INT(parse(&b, &q), 0);
	}
}

static void field_cases(void)
{
	struct dns_query q;
	char label[64];

	T_CASE("fields of an EDNS query")
	{
		const uint8_t m[] = {HDR(0x01, 0x10, 1, 0, 0, 1), 3, 'W', 'e', 'B', 0, 0, 28, 0, 1,
				     OPT(0x10, 0x00, 0, 0x80)};
		T_EQ_INT(dns_parse_query(&q, m, sizeof(m)), 0);
		T_EQ_INT(q.flags, 0x0110);
		T_EQ_INT(q.qdcount, 1);
		T_EQ_INT(q.arcount, 1);
		T_EQ_INT(q.qname_len, 5);
		T_EQ_MEM(q.qname, "\3WeB", 5);
		T_EQ_INT(q.labels, 1);
		T_EQ_INT(q.qtype, DNS_TYPE_AAAA);
		T_EQ_INT(q.qclass, DNS_CLASS_IN);
		T_EQ_INT(q.question_end, 21);
		T_ASSERT(q.question_ok, "question ok");
		T_ASSERT(q.edns, "edns");
		T_EQ_INT(q.edns_udp_size, 4096);
		T_EQ_INT(q.edns_version, 0);
		T_ASSERT(q.edns_do, "DO");
		T_EQ_INT(q.opt_offset, 21);
		T_EQ_INT(q.opt_len, 11);
		T_EQ_INT(dns_query_udp_limit(&q), DNS_UDP_MAX);
		T_EQ_INT(dns_query_first_label(&q, label), 3);
		T_EQ_STR(label, "web");
	}
	T_CASE("EDNS version and DO=0 are recorded")
	{
		const uint8_t m[] = {HDR(0x01, 0x00, 1, 0, 0, 1), Q_WEB, OPT(0x01, 0x00, 1, 0)};
		T_EQ_INT(dns_parse_query(&q, m, sizeof(m)), 0);
		T_EQ_INT(q.edns_version, 1);
		T_ASSERT(!q.edns_do, "no DO");
		T_EQ_INT(q.edns_udp_size, 256);
		T_EQ_INT(dns_query_udp_limit(&q), DNS_UDP_MIN); /* below 512: 512 */
	}
	T_CASE("UDP limit: 512 without EDNS, the advertised size within [512, 1232]")
	{
		const uint8_t m[] = {HDR(0x01, 0x00, 1, 0, 0, 0), Q_WEB};
		const uint8_t e[] = {HDR(0x01, 0x00, 1, 0, 0, 1), Q_WEB, OPT(0x03, 0xe8, 0, 0)};
		T_EQ_INT(dns_parse_query(&q, m, sizeof(m)), 0);
		T_ASSERT(!q.edns, "no edns");
		T_EQ_INT(dns_query_udp_limit(&q), 512);
		T_EQ_INT(dns_parse_query(&q, e, sizeof(e)), 0);
		T_EQ_INT(dns_query_udp_limit(&q), 1000);
	}
	T_CASE("a FORMERR after the question keeps the question for the error reply")
	{
		const uint8_t m[] = {HDR(0x01, 0x00, 1, 0, 0, 2), Q_WEB, OPT(0x04, 0xd0, 0, 0),
				     OPT(0x04, 0xd0, 0, 0)};
		T_EQ_INT(dns_parse_query(&q, m, sizeof(m)), GLUED_EFORMERR);
		T_ASSERT(q.question_ok, "question kept");
		T_EQ_INT(q.qtype, 1);
		T_EQ_INT(q.question_end, 21);
	}
	T_CASE("compression in an additional owner: next offset after the pointer")
	{
		const uint8_t m[] = {HDR(0, 0, 1, 0, 0, 0),
				     3,
				     'w',
				     'w',
				     'w',
				     3,
				     'f',
				     'o',
				     'o',
				     0,
				     0,
				     1,
				     0,
				     1,
				     1,
				     'x',
				     0xc0,
				     16};
		uint8_t out[DNS_NAME_MAX], n;
		size_t next;
		char text[DNS_NAME_MAX * 4];

		T_EQ_INT(dns_name_parse(m, sizeof(m), 25, out, &n, &next), 0);
		T_EQ_INT(n, 7);
		T_EQ_MEM(out, "\1x\3foo", 7);
		T_EQ_INT(next, sizeof(m));
		T_EQ_INT(dns_name_to_text(out, n, text, sizeof(text)), 5);
		T_EQ_STR(text, "x.foo");
		T_EQ_INT(dns_name_parse(m, sizeof(m) - 1, 25, out, &n, &next), GLUED_ETRUNC);
		T_EQ_INT(dns_name_parse(m, sizeof(m), sizeof(m), out, &n, &next), GLUED_ETRUNC);
	}
	T_CASE("name to text: lowercase, escapes, root")
	{
		char text[DNS_NAME_MAX * 4];
		T_EQ_INT(dns_name_to_text((const uint8_t *)"\3WeB\0", 5, text, sizeof(text)), 3);
		T_EQ_STR(text, "web");
		T_EQ_INT(dns_name_to_text((const uint8_t *)"\0", 1, text, sizeof(text)), 0);
		T_EQ_STR(text, "");
		dns_name_to_text((const uint8_t *)"\4a.\\\x01\3com\0", 10, text, sizeof(text));
		T_EQ_STR(text, "a\\.\\\\\\001.com");
		T_EQ_INT(dns_name_to_text((const uint8_t *)"\3abc\0", 5, text, 3), 2);
		T_EQ_STR(text, "ab");
	}
	T_CASE("name equality ignores ASCII case only")
	{
		T_ASSERT(dns_name_eq((const uint8_t *)"\3WeB\0", 5, (const uint8_t *)"\3wEb\0", 5),
			 "case-insensitive");
		T_ASSERT(!dns_name_eq((const uint8_t *)"\3web\0", 5, (const uint8_t *)"\3wec\0", 5),
			 "different");
		T_ASSERT(!dns_name_eq((const uint8_t *)"\3web\0", 5, (const uint8_t *)"\2we\0", 4),
			 "lengths");
	}
}

/* dns_skip_name: where the cursor ends, or how it fails. */
static const struct skip_case {
	const char *what;
	const char *bytes;
	size_t len, start;
	int err;    /* 0, GLUED_EMALF or GLUED_ETRUNC */
	size_t end; /* offset after the name when err is 0 */
} skip_catalogue[] = {
    {"skip: a plain name ends after its root label", "\3web\0\x7f", 6, 0, 0, 5},
    {"skip: the root name is one byte", "\0", 1, 0, 0, 1},
    {"skip: a pointer is two bytes and is not followed", "\3web\xc0\x50\x7f", 7, 0, 0, 6},
    {"skip: a pointer cut after its first byte is GLUED_ETRUNC", "\3web\xc0", 5, 0, GLUED_ETRUNC,
     0},
    {"skip: a label running off the end is GLUED_ETRUNC", "\5web", 4, 0, GLUED_ETRUNC, 0},
    {"skip: labels without the root label are GLUED_ETRUNC", "\3web", 4, 0, GLUED_ETRUNC, 0},
    {"skip: label type 0x40 is GLUED_EMALF",
     "\x41"
     "a\0",
     3, 0, GLUED_EMALF, 0},
    {"skip: label type 0x80 is GLUED_EMALF",
     "\x81"
     "a\0",
     3, 0, GLUED_EMALF, 0},
    {"skip: starting past the end is GLUED_ETRUNC", "\0", 1, 1, GLUED_ETRUNC, 0},
};

static void skip_cases(void)
{
	uint8_t big[300];
	struct wire w;

	for (size_t i = 0; i < sizeof(skip_catalogue) / sizeof(skip_catalogue[0]); i++) {
		const struct skip_case *c = &skip_catalogue[i];

		T_CASE(c->what)
		{
			w = wire_init((const uint8_t *)c->bytes, c->len);
			wire_seek(&w, c->start);
			dns_skip_name(&w);
			T_EQ_INT(w.err, c->err);
			if (!c->err)
				T_EQ_INT(wire_offset(&w), c->end);
		}
	}
	/* Labels 63, 63, 63, 62: 255 bytes of labels, the most it takes (the
	 * root label is not counted: the forwarder's bound since it began). */
	memset(big, 'a', sizeof(big));
	for (size_t i = 0; i < 4; i++)
		big[i * 64] = 63;
	big[192] = 62;
	big[255] = 0;
	T_CASE("skip: 255 bytes of labels end after the root label, at byte 256")
	{
		w = wire_init(big, sizeof(big));
		dns_skip_name(&w);
		T_EQ_INT(w.err, 0);
		T_EQ_INT(wire_offset(&w), 256);
	}
	big[192] = 63; /* 256 bytes of labels */
	big[255] = 'a';
	big[256] = 0;
	T_CASE("skip: 256 bytes of labels is GLUED_EMALF")
	{
		w = wire_init(big, sizeof(big));
		dns_skip_name(&w);
		T_EQ_INT(w.err, GLUED_EMALF);
	}
}

/* An answer: A web. 300 s; SOA in authority (TTL 100, MINIMUM 50); OPT
 * with DO (its TTL field 0x00008000) last; room for a second OPT. */
/* clang-format off */
static const uint8_t scan_msg[] = {
	0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 1, 0, 1,		/* header: 1 each */
	3, 'w', 'e', 'b', 0, 0, 1, 0, 1,			/* question, ends at 21 */
	0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 10, 0, 0, 1,	/* A, 300 s */
	0, 0, 6, 0, 1, 0, 0, 0, 100, 0, 22,			/* SOA at 37, 100 s: */
	0, 0, 0, 0, 0, 1,					/* root, root, serial */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 50,	/* ..., MINIMUM 50 */
	0, 0, 41, 4, 0xd0, 0, 0, 0x80, 0, 0, 0,			/* OPT at 70, DO */
	0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0,			/* a second OPT at 81 */
};
/* clang-format on */

static void msg_cases(void)
{
	struct dns_msg_info mi;
	uint8_t m[sizeof(scan_msg)];

	T_CASE("scan: TTLs, the SOA's negative TTL, where the OPT is, where the records end")
	{
		T_EQ_INT(dns_msg_scan(scan_msg, 81, 21, &mi), 0);
		T_EQ_INT(mi.an, 1);
		T_EQ_INT(mi.min_ttl, 100);
		T_ASSERT(mi.has_soa, "an SOA");
		T_EQ_INT(mi.soa_ttl, 50);
		T_EQ_INT(mi.opt_off, 70);
		T_EQ_INT(mi.opt_len, 11);
		T_EQ_INT(mi.ar_before_opt, 0);
		T_EQ_INT(mi.end, 81);
	}
	T_CASE("scan: a record cut short or a second OPT is GLUED_EMALF")
	{
		T_EQ_INT(dns_msg_scan(scan_msg, 80, 21, &mi), GLUED_EMALF);
		memcpy(m, scan_msg, sizeof(m));
		m[11] = 2; /* ARCOUNT 2: both OPTs */
		T_EQ_INT(dns_msg_scan(m, sizeof(m), 21, &mi), GLUED_EMALF);
	}
	T_CASE("age: every TTL lowered, down to 0, the OPT's flags untouched")
	{
		memcpy(m, scan_msg, sizeof(m));
		dns_msg_age(m, 81, 120);
		T_EQ_INT(m[27] << 24 | m[28] << 16 | m[29] << 8 | m[30], 180);
		T_EQ_INT(m[42] << 24 | m[43] << 16 | m[44] << 8 | m[45], 0);
		T_EQ_MEM(m + 70, scan_msg + 70, 11);
	}
}

/* Names from outside shown to people: every byte kept, none raw. */
static void label_text_cases(void)
{
	static const struct {
		const char *what, *in;
		size_t len, cap;
		const char *want;
	} rows[] = {
	    {"plain name", "web", 3, 0, "web"},
	    {"case kept", "WeB", 3, 0, "WeB"},
	    {"Latin-1 byte (not UTF-8)", "caf\xe9", 4, 0, "caf\\233"},
	    {"UTF-8 bytes escaped too", "caf\xc3\xa9", 5, 0, "caf\\195\\169"},
	    {"terminal escape cannot reach a terminal", "\x1b[31mred", 8, 0, "\\027[31mred"},
	    {"dot and backslash as \\X", "a.b\\c", 5, 0, "a\\.b\\\\c"},
	    {"space, DEL, 0xff", " \x7f\xff", 3, 0, "\\032\\127\\255"},
	    {"NUL inside the label", "a\0b", 3, 0, "a\\000b"},
	    {"an escape that does not fit is left out whole", "caf\xe9", 4, 6, "caf"},
	    {"empty", "", 0, 0, ""},
	};
	char text[DNS_LABEL_TEXT_MAX], big[DNS_LABEL_MAX];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		T_CASE(rows[i].what)
		{
			size_t cap = rows[i].cap ? rows[i].cap : sizeof(text);

			T_EQ_INT(dns_label_to_text(rows[i].in, rows[i].len, text, cap),
				 strlen(rows[i].want));
			T_EQ_STR(text, rows[i].want);
		}
	}
	T_CASE("the longest label of the worst bytes fits DNS_LABEL_TEXT_MAX")
	{
		memset(big, 0xff, sizeof(big));
		T_EQ_INT(dns_label_to_text(big, sizeof(big), text, sizeof(text)),
			 4 * DNS_LABEL_MAX);
		T_EQ_INT(text[4 * DNS_LABEL_MAX], '\0');
	}
}

int main(void)
{
	skip_cases();
	msg_cases();
	catalogue_cases();
	builder_cases();
	field_cases();
	label_text_cases();
	return t_summary();
}
