/* Unit tests of the answer rules: one table of queries against a fixed
 * name table, each with the action, RCODE, flags, counts and answers it
 * must get; then exact bytes, truncation, PTR, errors and
 * dns_build_rcode(). */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/dns_answer.h"
#include "t.h"
#include "tdns.h"

/* The case tables give qspec fields positionally and leave the EDNS ones
 * out when the query has none. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

/* --- building queries ---------------------------------------------------------- */

struct qspec {
	const char *name; /* presentation form, "." for the root */
	uint16_t qtype, qclass;
	uint16_t flags;
	uint16_t edns; /* advertised size; 0 = no OPT */
	uint8_t version;
	bool dnssec_ok;
};

static size_t build_query(uint8_t *m, uint16_t id, const struct qspec *s)
{
	size_t n = t_query(m, id, s->flags, s->edns ? 1 : 0, s->name, s->qtype, s->qclass);

	if (s->edns) {
		uint8_t opt[11] = {0,
				   0,
				   41,
				   (uint8_t)(s->edns >> 8),
				   (uint8_t)s->edns,
				   0,
				   s->version,
				   s->dnssec_ok ? 0x80 : 0,
				   0,
				   0,
				   0};
		memcpy(m + n, opt, 11);
		n += 11;
	}
	return n;
}

/* --- reading replies ------------------------------------------------------------ */

struct parsed {
	uint16_t id, flags, qd, an, ns, ar;
	uint8_t qname[DNS_NAME_MAX], qname_len;
	uint16_t qtype, qclass;
	char answers[4096]; /* "10.0.0.1,10.0.0.2" or "ptr:web" */
	uint32_t ttl;	    /* of the last answer */
	bool opt;
	uint16_t opt_class;
	uint32_t opt_ttl;
	uint16_t opt_rdlen;
	unsigned rcode; /* header | extended << 4 */
	bool ok;
};

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) << 16 | rd16(p + 2);
}

static void parse_reply(const uint8_t *m, size_t len, struct parsed *r)
{
	size_t off = 12, o = 0, next;
	uint8_t name[DNS_NAME_MAX], nl;

	memset(r, 0, sizeof(*r));
	if (len < 12)
		return;
	r->id = rd16(m);
	r->flags = rd16(m + 2);
	r->qd = rd16(m + 4);
	r->an = rd16(m + 6);
	r->ns = rd16(m + 8);
	r->ar = rd16(m + 10);
	r->rcode = r->flags & 0xf;
	if (r->qd) {
		if (dns_name_parse(m, len, off, r->qname, &r->qname_len, &next) || next + 4 > len)
			return;
		r->qtype = rd16(m + next);
		r->qclass = rd16(m + next + 2);
		off = next + 4;
	}
	for (unsigned i = 0; i < r->an + r->ar; i++) {
		uint16_t type, rdlen;

		if (dns_name_parse(m, len, off, name, &nl, &next) || next + 10 > len)
			return;
		type = rd16(m + next);
		rdlen = rd16(m + next + 8);
		if (next + 10 + rdlen > len)
			return;
		if (i >= r->an) {
			if (type != DNS_TYPE_OPT || nl != 1)
				return;
			r->opt = true;
			r->opt_class = rd16(m + next + 2);
			r->opt_ttl = rd32(m + next + 4);
			r->opt_rdlen = rdlen;
			r->rcode |= (r->opt_ttl >> 24) << 4;
		} else {
			char ip[64];
			const uint8_t *rd = m + next + 10;

			if (rd16(m + off) != 0xc00c) /* answers point at the question */
				return;
			r->ttl = rd32(m + next + 4);
			if (type == DNS_TYPE_A && rdlen == 4)
				inet_ntop(AF_INET, rd, ip, sizeof(ip));
			else if (type == DNS_TYPE_AAAA && rdlen == 16)
				inet_ntop(AF_INET6, rd, ip, sizeof(ip));
			else if (type == DNS_TYPE_PTR && rdlen == rd[0] + 2u && rd[rdlen - 1] == 0)
				snprintf(ip, sizeof(ip), "ptr:%.*s", rd[0], rd + 1);
			else
				return;
			o += (size_t)snprintf(r->answers + o, sizeof(r->answers) - o, "%s%s",
					      i ? "," : "", ip);
		}
		off = next + 10 + rdlen;
	}
	r->ok = off == len; /* nothing after the last record */
}

/* --- the table ---------------------------------------------------------------------- */

static struct table *tbl;
static const struct dns_answer_cfg cfg = {.ttl_s = 5};
static struct dns_answer_stats st;

static void put_entry(const char *owner, const char *const *names, const char *const *addrs)
{
	struct table_entry e = {.origin = 0};

	snprintf(e.owner, sizeof(e.owner), "%s", owner);
	for (; *names; names++)
		snprintf(e.names[e.n_names++], sizeof(e.names[0]), "%s", *names);
	for (; *addrs; addrs++)
		if (addr_parse(&e.addrs[e.n_addrs++], *addrs))
			abort();
	if (table_put(tbl, &e))
		abort();
}

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

static void fill_table(void)
{
	tbl = table_new();
	put_entry("c1", L("web", "front"), L("10.0.0.2", "10.0.0.1", "fd00::1"));
	put_entry("c2", L("web"), L("10.0.0.3", "10.0.0.2"));
	put_entry("c3", L("db"), L("10.0.0.9"));
	put_entry("c4", L("v6only"), L("fd00::6"));
	/* big: 40 IPv4 addresses; big6: 48 IPv6 addresses */
	for (int i = 0; i < 6; i++) {
		char owner[16], a[8][48];
		const char *v4[9] = {0}, *v6[9] = {0};

		for (int k = 0; k < 8; k++) {
			snprintf(a[k], sizeof(a[k]), "10.1.%d.%d", i, k);
			v4[k] = a[k];
		}
		snprintf(owner, sizeof(owner), "big%d", i);
		if (i < 5)
			put_entry(owner, L("big"), v4);
		for (int k = 0; k < 8; k++) {
			snprintf(a[k], sizeof(a[k]), "fd00:1::%d:%d", i, k);
			v6[k] = a[k];
		}
		snprintf(owner, sizeof(owner), "bigsix%d", i);
		put_entry(owner, L("big6"), v6);
	}
}

/* --- the rules, as a table ---------------------------------------------------------- */

enum { NONE = -1 };

struct acase {
	const char *what;
	struct qspec q;
	size_t limit;
	uint32_t rot;
	enum dns_action act;
	int rcode; /* full RCODE (extended included) */
	int an;	   /* ANCOUNT */
	bool tc;
	const char *answers; /* NULL: do not check */
};

#define A_ DNS_TYPE_A
#define AAAA_ DNS_TYPE_AAAA
#define IN_ DNS_CLASS_IN
#define RD_ DNS_RD

/* One row per case reads better than one field per line. */
/* clang-format off */
static const struct acase cases[] = {
	{ "A for a name on two entries: the union, sorted", { "web", A_, IN_, RD_ }, 0, 0,
	  DNS_ACT_REPLY, 0, 3, false, "10.0.0.1,10.0.0.2,10.0.0.3" },
	{ "rotation 1 starts at the second address", { "web", A_, IN_, RD_ }, 0, 1, DNS_ACT_REPLY,
	  0, 3, false, "10.0.0.2,10.0.0.3,10.0.0.1" },
	{ "rotation 5 starts at 5 mod 3 = 2", { "web", A_, IN_, RD_ }, 0, 5, DNS_ACT_REPLY, 0, 3,
	  false, "10.0.0.3,10.0.0.1,10.0.0.2" },
	{ "AAAA for a name with one v6", { "web", AAAA_, IN_, RD_ }, 0, 7, DNS_ACT_REPLY, 0, 1,
	  false, "fd00::1" },
	{ "an alias answers like the name", { "front", A_, IN_, 0 }, 0, 0, DNS_ACT_REPLY, 0, 2,
	  false, "10.0.0.1,10.0.0.2" },
	{ "question case is irrelevant to the lookup", { "WeB", A_, IN_, 0 }, 0, 0, DNS_ACT_REPLY,
	  0, 3, false, "10.0.0.1,10.0.0.2,10.0.0.3" },
	{ "AAAA for a v4-only name is NODATA", { "db", AAAA_, IN_, RD_ }, 0, 0, DNS_ACT_REPLY, 0,
	  0, false, "" },
	{ "A for a v6-only name is NODATA", { "v6only", A_, IN_, RD_ }, 0, 0, DNS_ACT_REPLY, 0, 0,
	  false, "" },
	{ "MX for a known name is NODATA", { "db", DNS_TYPE_MX, IN_, RD_ }, 0, 0, DNS_ACT_REPLY, 0,
	  0, false, "" },
	{ "TXT for a known name is NODATA", { "web", DNS_TYPE_TXT, IN_, RD_ }, 0, 0, DNS_ACT_REPLY,
	  0, 0, false, "" },
	{ "ANY for a known name is NODATA", { "web", DNS_TYPE_ANY, IN_, RD_ }, 0, 0, DNS_ACT_REPLY,
	  0, 0, false, "" },
	{ "A for an unknown single label is NXDOMAIN", { "nosuch", A_, IN_, RD_ }, 0, 0,
	  DNS_ACT_REPLY, DNS_RCODE_NXDOMAIN, 0, false, "" },
	{ "AAAA for an unknown single label is NXDOMAIN", { "nosuch", AAAA_, IN_, RD_ }, 0, 0,
	  DNS_ACT_REPLY, DNS_RCODE_NXDOMAIN, 0, false, "" },
	{ "MX for an unknown single label is forwarded", { "nosuch", DNS_TYPE_MX, IN_, RD_ }, 0, 0,
	  DNS_ACT_FORWARD, NONE, 0, false, NULL },
	{ "a multi-label name is forwarded even if its first label is known",
	  { "web.example.com", A_, IN_, RD_ }, 0, 0, DNS_ACT_FORWARD, NONE, 0, false, NULL },
	{ "the root name is forwarded", { ".", DNS_TYPE_NS, IN_, RD_ }, 0, 0, DNS_ACT_FORWARD,
	  NONE, 0, false, NULL },
	{ "the root name, type A, is forwarded", { ".", A_, IN_, RD_ }, 0, 0, DNS_ACT_FORWARD,
	  NONE, 0, false, NULL },
	{ "class CH is forwarded", { "web", A_, 3, RD_ }, 0, 0, DNS_ACT_FORWARD, NONE, 0, false,
	  NULL },
	{ "PTR for a table IPv4 address", { "9.0.0.10.in-addr.arpa", DNS_TYPE_PTR, IN_, RD_ }, 0,
	  0, DNS_ACT_REPLY, 0, 1, false, "ptr:db" },
	{ "PTR suffix case does not matter", { "9.0.0.10.IN-ADDR.Arpa", DNS_TYPE_PTR, IN_, RD_ },
	  0, 0, DNS_ACT_REPLY, 0, 1, false, "ptr:db" },
	{ "PTR for a table IPv6 address",
	  { "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.D.F.ip6.arpa", DNS_TYPE_PTR,
	    IN_, RD_ },
	  0, 0, DNS_ACT_REPLY, 0, 1, false, "ptr:web" },
	{ "PTR for an address not in the table is forwarded",
	  { "8.0.0.10.in-addr.arpa", DNS_TYPE_PTR, IN_, RD_ }, 0, 0, DNS_ACT_FORWARD, NONE, 0,
	  false, NULL },
	{ "PTR with a leading zero is not ours", { "09.0.0.10.in-addr.arpa", DNS_TYPE_PTR, IN_, 0 },
	  0, 0, DNS_ACT_FORWARD, NONE, 0, false, NULL },
	{ "PTR for a partial reverse name is forwarded", { "0.0.10.in-addr.arpa", DNS_TYPE_PTR,
							  IN_, 0 },
	  0, 0, DNS_ACT_FORWARD, NONE, 0, false, NULL },
	{ "PTR with an octet above 255 is forwarded", { "9.0.0.256.in-addr.arpa", DNS_TYPE_PTR,
						       IN_, 0 },
	  0, 0, DNS_ACT_FORWARD, NONE, 0, false, NULL },
	{ "A for a reverse name is forwarded", { "9.0.0.10.in-addr.arpa", A_, IN_, 0 }, 0, 0,
	  DNS_ACT_FORWARD, NONE, 0, false, NULL },
	{ "40 addresses do not fit 512 bytes: TC=1, no answers", { "big", A_, IN_, RD_ }, 0, 0,
	  DNS_ACT_REPLY, 0, 0, true, "" },
	{ "40 addresses fit an EDNS 1232 buffer", { "big", A_, IN_, RD_, 1232 }, 0, 0,
	  DNS_ACT_REPLY, 0, 40, false, NULL },
	{ "an EDNS size above 1232 is clamped (40 A still fit)", { "big", A_, IN_, RD_, 4096 }, 0,
	  0, DNS_ACT_REPLY, 0, 40, false, NULL },
	{ "an advertised 600 bytes truncates 40 addresses", { "big", A_, IN_, RD_, 600 }, 0, 0,
	  DNS_ACT_REPLY, 0, 0, true, "" },
	{ "an advertised 100 bytes counts as 512", { "big", A_, IN_, RD_, 100 }, 0, 0,
	  DNS_ACT_REPLY, 0, 0, true, "" },
	{ "TCP takes 40 addresses without EDNS", { "big", A_, IN_, RD_ }, DNS_TCP_MAX, 0,
	  DNS_ACT_REPLY, 0, 40, false, NULL },
	{ "48 AAAA exceed 1232 bytes", { "big6", AAAA_, IN_, RD_, 1232 }, 0, 0, DNS_ACT_REPLY, 0, 0,
	  true, "" },
	{ "48 AAAA fit over TCP", { "big6", AAAA_, IN_, RD_, 1232 }, DNS_TCP_MAX, 3, DNS_ACT_REPLY,
	  0, 48, false, NULL },
	{ "opcode STATUS is NOTIMP", { "web", A_, IN_, 2 << DNS_OPCODE_SHIFT }, 0, 0, DNS_ACT_REPLY,
	  DNS_RCODE_NOTIMP, 0, false, "" },
	{ "opcode NOTIFY is NOTIMP", { "web", DNS_TYPE_SOA, IN_, 4 << DNS_OPCODE_SHIFT }, 0, 0,
	  DNS_ACT_REPLY, DNS_RCODE_NOTIMP, 0, false, "" },
	{ "EDNS version 1 is BADVERS", { "web", A_, IN_, RD_, 1232, 1 }, 0, 0, DNS_ACT_REPLY,
	  DNS_RCODE_BADVERS, 0, false, "" },
	{ "QR=1 is dropped", { "web", A_, IN_, DNS_QR }, 0, 0, DNS_ACT_DROP, NONE, 0, false, NULL },
	{ "QR=1 NXDOMAIN-looking response is dropped", { "nosuch", A_, IN_, DNS_QR | 3 }, 0, 0,
	  DNS_ACT_DROP, NONE, 0, false, NULL },
};
/* clang-format on */

static void rule_cases(void)
{
	uint8_t m[512], out[65535];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct acase *c = &cases[i];
		struct dns_query q;
		struct parsed r;
		size_t len = build_query(m, (uint16_t)(0x4000 + i), &c->q), out_len = 0;
		enum dns_action act;

		T_CASE(c->what)
		{
			act = dns_answer(&cfg, tbl, m, len, c->limit, c->rot, &q, out, sizeof(out),
					 &out_len, &st);
			T_ASSERT(act == c->act, "%s: action %d, want %d", c->what, act, c->act);
			if (act != DNS_ACT_REPLY || c->act != DNS_ACT_REPLY)
				continue;
			parse_reply(out, out_len, &r);
			T_ASSERT(r.ok, "%s: reply parses back (%zu bytes)", c->what, out_len);
			T_EQ_INT(r.id, 0x4000 + i);
			T_EQ_INT(r.rcode, c->rcode);
			T_ASSERT(r.flags & DNS_QR, "QR");
			T_ASSERT(r.flags & DNS_AA, "AA");
			T_ASSERT(r.flags & DNS_RA, "RA");
			T_EQ_INT(r.flags & DNS_RD, c->q.flags & DNS_RD);
			T_EQ_INT(r.flags & DNS_OPCODE_MASK, c->q.flags & DNS_OPCODE_MASK);
			T_EQ_INT(!!(r.flags & DNS_TC), c->tc);
			T_EQ_INT(r.qd, 1);
			T_EQ_INT(r.an, c->an);
			T_EQ_INT(r.ns, 0);
			T_EQ_INT(r.ar, c->q.edns ? 1 : 0);
			T_EQ_INT(r.opt, c->q.edns != 0);
			T_ASSERT(r.qname_len == q.qname_len &&
				     !memcmp(r.qname, q.qname, q.qname_len),
				 "question echoed byte for byte");
			T_EQ_INT(r.qtype, c->q.qtype);
			T_EQ_INT(r.qclass, c->q.qclass);
			if (c->answers)
				T_EQ_STR(r.answers, c->answers);
			if (r.an)
				T_EQ_INT(r.ttl, 5);
			T_ASSERT(out_len <= (c->limit ? c->limit : dns_query_udp_limit(&q)),
				 "%zu bytes within the limit", out_len);
			if (r.opt) {
				T_EQ_INT(r.opt_class, DNS_UDP_MAX);
				T_EQ_INT(r.opt_rdlen, 0);
				T_EQ_INT((r.opt_ttl >> 16) & 0xff, 0); /* version 0 */
			}
		}
	}
}

/* --- details beyond the table ---------------------------------------------------------- */

/* dns_answer() on the bytes m into out (65535 bytes); a reply is parsed
 * into *r. */
static enum dns_action answer_bytes(const uint8_t *m, size_t len, size_t limit, uint32_t rot,
				    uint8_t *out, size_t *out_len, struct parsed *r)
{
	struct dns_query q;
	enum dns_action act =
	    dns_answer(&cfg, tbl, m, len, limit, rot, &q, out, 65535, out_len, &st);

	if (act == DNS_ACT_REPLY)
		parse_reply(out, *out_len, r);
	return act;
}

/* The query s (ID 0xbeef) through answer_bytes(). */
static enum dns_action run(const struct qspec *s, size_t limit, uint32_t rot, uint8_t *out,
			   size_t *out_len, struct parsed *r)
{
	uint8_t m[512];
	size_t len = build_query(m, 0xbeef, s);

	return answer_bytes(m, len, limit, rot, out, out_len, r);
}

static void detail_cases(void)
{
	static uint8_t out[65535];
	struct parsed r;
	size_t n;

	T_CASE("exact bytes of an A answer with EDNS (the BPF program's reference)")
	{
		const uint8_t want[] = {
		    0xbe, 0xef, 0x85, 0x90, 0,	  1, 0, 1,    0, 0, 0, 1, /* header */
		    2,	  'D',	'b',  0,    0,	  1, 0, 1,		  /* question */
		    0xc0, 0x0c, 0,    1,    0,	  1, 0, 0,    0, 5, 0, 4, 10, 0, 0, 9, /* answer */
		    0,	  0,	41,   0x04, 0xd0, 0, 0, 0x80, 0, 0, 0,		       /* OPT */
		};
		struct qspec s = {"Db", A_, IN_, RD_ | DNS_CD | DNS_Z | DNS_AD, 512, 0, true};

		T_EQ_INT(run(&s, 0, 0, out, &n, &r), DNS_ACT_REPLY);
		T_EQ_INT(n, sizeof(want));
		T_EQ_MEM(out, want, sizeof(want));
	}
	T_CASE("the answer case echo keeps every byte of the question name")
	{
		struct qspec s = {"wEB", A_, IN_, 0};

		T_EQ_INT(run(&s, 0, 0, out, &n, &r), DNS_ACT_REPLY);
		T_EQ_MEM(out + 12, "\3wEB\0", 5);
	}
	T_CASE("truncation keeps the OPT and the question, drops answers")
	{
		struct qspec s = {"big", A_, IN_, RD_, 600, 0, true};

		T_EQ_INT(run(&s, 0, 0, out, &n, &r), DNS_ACT_REPLY);
		T_EQ_INT(n, 12 + 5 + 4 + 11);
		T_ASSERT(r.opt && (r.opt_ttl & 0x8000), "OPT with DO");
	}
	T_CASE("a full A answer at exactly the limit is not truncated")
	{
		struct qspec s = {"big", A_, IN_, RD_, 0};
		size_t full = 12 + 5 + 4 + 40 * 16;

		T_EQ_INT(run(&s, full, 0, out, &n, &r), DNS_ACT_REPLY);
		T_EQ_INT(n, full);
		T_EQ_INT(r.an, 40);
		T_EQ_INT(run(&s, full - 1, 0, out, &n, &r), DNS_ACT_REPLY);
		T_ASSERT(r.flags & DNS_TC, "one byte less truncates");
	}
	T_CASE("rotation walks all 40 addresses in order")
	{
		struct qspec s = {"big", A_, IN_, 0};
		char first[64];

		T_EQ_INT(run(&s, DNS_TCP_MAX, 41, out, &n, &r), DNS_ACT_REPLY);
		/* sorted: 10.1.0.0..7, 10.1.1.0..7, ...; rot 41 % 40 = 1 */
		snprintf(first, sizeof(first), "%.*s", 17, r.answers);
		T_EQ_STR(first, "10.1.0.1,10.1.0.2");
		T_ASSERT(strstr(r.answers, "10.1.4.7,10.1.0.0") != NULL, "wraps: %s", r.answers);
	}
	T_CASE("BADVERS: header RCODE 0, extended RCODE 1 in the OPT, version 0")
	{
		struct qspec s = {"web", A_, IN_, RD_, 1232, 3, true};

		T_EQ_INT(run(&s, 0, 0, out, &n, &r), DNS_ACT_REPLY);
		T_EQ_INT(r.flags & 0xf, 0);
		T_EQ_INT(r.opt_ttl, 1u << 24 | 0x8000);
		T_EQ_INT(r.an, 0);
	}
	T_CASE("FORMERR for QDCOUNT 2: no question in the reply")
	{
		uint8_t m[64];
		struct qspec s = {"web", A_, IN_, RD_};
		size_t len = build_query(m, 0x7777, &s);

		m[5] = 2;
		T_EQ_INT(answer_bytes(m, len, 0, 0, out, &n, &r), DNS_ACT_REPLY);
		T_ASSERT(r.ok, "parses");
		T_EQ_INT(r.rcode, DNS_RCODE_FORMERR);
		T_EQ_INT(r.qd, 0);
		T_EQ_INT(r.id, 0x7777);
		T_EQ_INT(n, 12);
	}
	T_CASE("FORMERR for two OPTs keeps the question, has no OPT")
	{
		uint8_t m[64];
		struct qspec s = {"web", A_, IN_, RD_, 1232};
		size_t len = build_query(m, 0x7778, &s);

		memcpy(m + len, m + len - 11, 11);
		len += 11;
		m[11] = 2;
		T_EQ_INT(answer_bytes(m, len, 0, 0, out, &n, &r), DNS_ACT_REPLY);
		T_ASSERT(r.ok, "parses");
		T_EQ_INT(r.rcode, DNS_RCODE_FORMERR);
		T_EQ_INT(r.qd, 1);
		T_ASSERT(!r.opt, "no OPT");
	}
	T_CASE("FORMERR for a name with a pointer loop")
	{
		uint8_t m[] = {0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0xc0, 12, 0, 1, 0, 1};

		T_EQ_INT(answer_bytes(m, sizeof(m), 0, 0, out, &n, &r), DNS_ACT_REPLY);
		T_EQ_INT(r.rcode, DNS_RCODE_FORMERR);
		T_EQ_INT(r.qd, 0);
	}
	T_CASE("short headers are dropped; a bare header is FORMERR")
	{
		uint8_t m[12] = {0, 9, 1, 0, 0, 1};

		for (size_t len = 0; len < 12; len++)
			T_EQ_INT(answer_bytes(m, len, 0, 0, out, &n, &r), DNS_ACT_DROP);
		T_EQ_INT(answer_bytes(m, 12, 0, 0, out, &n, &r), DNS_ACT_REPLY);
	}
	T_CASE("NOTIMP echoes the opcode and the OPT")
	{
		struct qspec s = {"web", A_, IN_, 5 << DNS_OPCODE_SHIFT, 1232};

		T_EQ_INT(run(&s, 0, 0, out, &n, &r), DNS_ACT_REPLY);
		T_EQ_INT(r.rcode, DNS_RCODE_NOTIMP);
		T_EQ_INT((r.flags & DNS_OPCODE_MASK) >> DNS_OPCODE_SHIFT, 5);
		T_ASSERT(r.opt, "OPT");
	}
	T_CASE("a cap too small for even the truncated reply drops")
	{
		uint8_t m[64], small[20];
		struct dns_query q;
		struct qspec s = {"web", A_, IN_, 0};
		size_t len = build_query(m, 1, &s);

		T_EQ_INT(dns_answer(&cfg, tbl, m, len, 0, 0, &q, small, sizeof(small), &n, &st),
			 DNS_ACT_DROP);
	}
}

/* The query s (ID id), which dns_answer() must hand to the forwarder, then
 * dns_build_rcode(rcode) of it parsed into *r; the reply's length. */
static size_t forwarded_then_rcode(const struct qspec *s, uint16_t id, uint8_t rcode, uint8_t *out,
				   size_t cap, struct parsed *r)
{
	uint8_t m[64];
	struct dns_query q;
	size_t n = 0, len = build_query(m, id, s);

	T_EQ_INT(dns_answer(&cfg, tbl, m, len, 0, 0, &q, out, cap, &n, &st), DNS_ACT_FORWARD);
	T_EQ_INT(dns_build_rcode(&q, rcode, out, cap, &n), 0);
	parse_reply(out, n, r);
	T_ASSERT(r->ok, "parses");
	return n;
}

static void build_rcode_cases(void)
{
	uint8_t m[64], out[512];
	struct dns_query q;
	struct parsed r;
	size_t len, n;

	T_CASE("REFUSED: question and OPT, AA clear, RA and RD set")
	{
		struct qspec s = {"example.com", A_, IN_, RD_, 4096, 0, true};

		n = forwarded_then_rcode(&s, 0x1111, DNS_RCODE_REFUSED, out, sizeof(out), &r);
		T_EQ_INT(r.id, 0x1111);
		T_EQ_INT(r.flags, DNS_QR | DNS_RA | DNS_RD | DNS_RCODE_REFUSED);
		T_EQ_INT(r.qd, 1);
		T_EQ_INT(r.an, 0);
		T_ASSERT(r.opt && r.opt_class == DNS_UDP_MAX && r.opt_ttl == 0x8000, "OPT, DO");
		T_EQ_INT(n, 12 + 13 + 4 + 11);
	}
	T_CASE("SERVFAIL without EDNS: no OPT")
	{
		struct qspec s = {"example.com", DNS_TYPE_MX, IN_, 0};

		forwarded_then_rcode(&s, 0x2222, DNS_RCODE_SERVFAIL, out, sizeof(out), &r);
		T_EQ_INT(r.flags, DNS_QR | DNS_RA | DNS_RCODE_SERVFAIL);
		T_EQ_INT(r.ar, 0);
		T_EQ_INT(r.qtype, DNS_TYPE_MX);
	}
	T_CASE("from a header-only parse the question is omitted")
	{
		uint8_t h[12] = {0x33, 0x33, 0x01, 0x00, 0, 2};

		T_EQ_INT(dns_parse_query(&q, h, 12), GLUED_EFORMERR);
		T_EQ_INT(dns_build_rcode(&q, DNS_RCODE_SERVFAIL, out, sizeof(out), &n), 0);
		T_EQ_INT(n, 12);
		parse_reply(out, n, &r);
		T_EQ_INT(r.qd, 0);
		T_EQ_INT(r.rcode, DNS_RCODE_SERVFAIL);
	}
	T_CASE("no room is GLUED_ESPACE")
	{
		struct qspec s = {"example.com", A_, IN_, 0};

		len = build_query(m, 0x2222, &s);
		T_EQ_INT(dns_parse_query(&q, m, len), 0);
		T_EQ_INT(dns_build_rcode(&q, DNS_RCODE_SERVFAIL, out, 20, &n), GLUED_ESPACE);
	}
	T_CASE("no header is GLUED_EMALF")
	{
		T_EQ_INT(dns_parse_query(&q, m, 5), GLUED_ETRUNC);
		T_EQ_INT(dns_build_rcode(&q, DNS_RCODE_SERVFAIL, out, sizeof(out), &n),
			 GLUED_EMALF);
	}
}

static void stats_cases(void)
{
	struct dns_answer_stats s0 = st;
	uint8_t out[1024];
	struct parsed r;
	size_t n;

	T_CASE("counters follow the decisions")
	{
		run(&(struct qspec){"web", A_, IN_, 0}, 0, 0, out, &n, &r);
		run(&(struct qspec){"db", AAAA_, IN_, 0}, 0, 0, out, &n, &r);
		run(&(struct qspec){"nosuch", A_, IN_, 0}, 0, 0, out, &n, &r);
		run(&(struct qspec){"a.b", A_, IN_, 0}, 0, 0, out, &n, &r);
		run(&(struct qspec){"web", A_, IN_, DNS_QR}, 0, 0, out, &n, &r);
		run(&(struct qspec){"big", A_, IN_, 0}, 0, 0, out, &n, &r);
		run(&(struct qspec){"9.0.0.10.in-addr.arpa", DNS_TYPE_PTR, IN_, 0}, 0, 0, out, &n,
		    &r);
		run(&(struct qspec){"web", A_, IN_, 0, 1232, 1}, 0, 0, out, &n, &r);
		T_EQ_INT(st.queries - s0.queries, 8);
		T_EQ_INT(st.rcode[0] - s0.rcode[0], 4); /* web, db, big, ptr */
		T_EQ_INT(st.rcode[3] - s0.rcode[3], 1);
		T_EQ_INT(st.rcode[16] - s0.rcode[16], 1);
		T_EQ_INT(st.nodata - s0.nodata, 1);
		T_EQ_INT(st.truncated - s0.truncated, 1);
		T_EQ_INT(st.forwarded - s0.forwarded, 1);
		T_EQ_INT(st.dropped - s0.dropped, 1);
		T_EQ_INT(st.ptr - s0.ptr, 1);
	}
}

int main(void)
{
	fill_table();
	rule_cases();
	detail_cases();
	build_rcode_cases();
	stats_cases();
	table_free(tbl);
	return t_summary();
}
