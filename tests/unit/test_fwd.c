/* Unit tests of the forwarder core (core/fwd.c): reply matching, coalescing,
 * the cache and its TTL arithmetic, per-client rewriting and truncation,
 * upstream failover and the time budget, loop probes. A fake edge records
 * what the core asks for; time is a plain variable. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "core/fwd.h"
#include "core/fwd_clients.h"
#include "lib/wire.h"
#include "t.h"
#include "trng.h"
#include "tdns.h"

/* --- a fake edge ------------------------------------------------------------ */

#define MAXR 16

struct fake {
	int sends, dones, replies;
	uint32_t slot;
	struct glued_endpoint to;
	bool tcp;
	uint8_t q[512];
	size_t qlen;
	uint64_t deadline;
	int transitions; /* upstream_state calls */
	uint32_t state_i;
	bool state_enabled;
	uint32_t reply_w[MAXR];
	uint8_t reply[MAXR][4096];
	size_t reply_len[MAXR];
};

static void fake_send(void *ctx, uint32_t slot, const struct glued_endpoint *to, bool tcp,
		      const uint8_t *msg, size_t len, uint64_t deadline_ms)
{
	struct fake *fk = ctx;

	fk->sends++;
	fk->slot = slot;
	fk->to = *to;
	fk->tcp = tcp;
	fk->qlen = len < sizeof(fk->q) ? len : sizeof(fk->q);
	memcpy(fk->q, msg, fk->qlen);
	fk->deadline = deadline_ms;
}

static void fake_done(void *ctx, uint32_t slot GLUED_UNUSED)
{
	((struct fake *)ctx)->dones++;
}

static void fake_reply(void *ctx, uint32_t waiter, const uint8_t *msg, size_t len)
{
	struct fake *fk = ctx;
	int i = fk->replies++;

	if (i >= MAXR)
		return;
	fk->reply_w[i] = waiter;
	fk->reply_len[i] = len < sizeof(fk->reply[i]) ? len : sizeof(fk->reply[i]);
	memcpy(fk->reply[i], msg, fk->reply_len[i]);
}

static void fake_upstream_state(void *ctx, uint32_t i, bool enabled)
{
	struct fake *fk = ctx;

	fk->transitions++;
	fk->state_i = i;
	fk->state_enabled = enabled;
}

/* The client most cases ask from; the per-client cases add others. */
static const struct glued_addr cl_a = {.family = AF_INET, .b = {192, 0, 2, 1}};

static uint32_t rng_state = 0x12345678;
static const struct glued_rng test_rng = {.next = t_xorshift32, .ctx = &rng_state};

static struct fwd *mkfwd(struct fake *fk, const struct fwd_cfg *cfg_in, const char *const *ups,
			 size_t n)
{
	struct fwd_io io = {.ctx = fk,
			    .send = fake_send,
			    .done = fake_done,
			    .reply = fake_reply,
			    .upstream_state = fake_upstream_state};
	struct glued_endpoint eps[FWD_MAX_UPSTREAMS];
	struct fwd_cfg cfg;
	struct fwd *f;

	memset(fk, 0, sizeof(*fk));
	if (cfg_in)
		cfg = *cfg_in;
	else
		fwd_cfg_default(&cfg);
	f = fwd_new(&cfg, &io, &test_rng);
	for (size_t i = 0; i < n; i++)
		if (endpoint_parse(&eps[i], ups[i], 53) != 0)
			abort();
	fwd_set_upstreams(f, eps, n);
	return f;
}

static struct glued_endpoint ep(const char *s)
{
	struct glued_endpoint e;

	if (endpoint_parse(&e, s, 53) != 0)
		abort();
	return e;
}

/* --- building queries and answers ------------------------------------------ */

static void mkq(struct dns_query *q, const char *name, uint16_t qtype, uint16_t id, bool edns,
		bool do_bit, uint16_t flags)
{
	memset(q, 0, sizeof(*q));
	q->id = id;
	q->flags = flags;
	q->qdcount = 1;
	q->header_ok = true;
	q->qname_len = t_name_wire(q->qname, name);
	q->labels = 1;
	q->qtype = qtype;
	q->qclass = DNS_CLASS_IN;
	q->edns = edns;
	q->edns_udp_size = edns ? 1232 : 0;
	q->edns_do = do_bit;
}

/* An upstream answer: `n_a` A records (TTL ttl) for the question, optional
 * SOA in authority, optional OPT at the end. */
struct ans {
	uint16_t id, flags, qtype, qclass;
	const char *qname;
	int n_a;
	uint32_t ttl;
	bool soa;
	uint32_t soa_ttl, soa_min;
	bool opt;
	uint8_t qd;
};

static size_t mkans(uint8_t *buf, size_t cap, const struct ans *a)
{
	struct wire_out w = wire_out_init(buf, cap);
	uint8_t name[256];
	uint8_t nl = t_name_wire(name, a->qname);

	wire_put_u16(&w, a->id);
	wire_put_u16(&w, a->flags ? a->flags : DNS_QR | DNS_RD | DNS_RA);
	wire_put_u16(&w, a->qd == 0xff ? 0 : 1);
	wire_put_u16(&w, (uint16_t)a->n_a);
	wire_put_u16(&w, a->soa ? 1 : 0);
	wire_put_u16(&w, a->opt ? 1 : 0);
	wire_put_bytes(&w, name, nl);
	wire_put_u16(&w, a->qtype ? a->qtype : DNS_TYPE_A);
	wire_put_u16(&w, a->qclass ? a->qclass : DNS_CLASS_IN);
	for (int i = 0; i < a->n_a; i++) {
		wire_put_u16(&w, 0xc00c);
		wire_put_u16(&w, DNS_TYPE_A);
		wire_put_u16(&w, DNS_CLASS_IN);
		wire_put_u32(&w, a->ttl);
		wire_put_u16(&w, 4);
		wire_put_u32(&w, 0x0a000000u + (uint32_t)i + 1);
	}
	if (a->soa) {
		wire_put_u16(&w, 0xc00c);
		wire_put_u16(&w, DNS_TYPE_SOA);
		wire_put_u16(&w, DNS_CLASS_IN);
		wire_put_u32(&w, a->soa_ttl);
		wire_put_u16(&w, 2 + 2 + 20);
		wire_put_u16(&w, 0xc00c); /* mname */
		wire_put_u16(&w, 0xc00c); /* rname */
		wire_put_u32(&w, 1);
		wire_put_u32(&w, 2);
		wire_put_u32(&w, 3);
		wire_put_u32(&w, 4);
		wire_put_u32(&w, a->soa_min);
	}
	if (a->opt) {
		wire_put_u8(&w, 0);
		wire_put_u16(&w, DNS_TYPE_OPT);
		wire_put_u16(&w, 4096);
		wire_put_u32(&w, 0);
		wire_put_u16(&w, 0);
	}
	return w.err ? 0 : wire_out_len(&w);
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The upstream's ID is the first two bytes of what the core sent. */
static uint16_t sent_id(const struct fake *fk)
{
	return rd16(fk->q);
}

/* TTL of the first answer record of a reply whose question is `name`. */
static uint32_t first_ttl(const uint8_t *m, const char *name)
{
	uint8_t tmp[256];
	size_t off = 12 + t_name_wire(tmp, name) + 4;

	return rd32(m + off + 2 + 2 + 2);
}

static const char *const one_up[] = {"10.0.0.1"};
static const char *const three_up[] = {"10.0.0.1", "10.0.0.2:5353", "[fd00::3]:53"};

/* --- cases ----------------------------------------------------------------- */

static void test_matching(void)
{
	static const struct {
		const char *what;
		const char *from;
		int id_delta;
		const char *qname;
		uint16_t qtype, qclass, flags;
		uint8_t qd;
		size_t cut;
		bool accepted;
	} rows[] = {
	    {"wrong source address", "10.0.0.9", 0, "www.example.com", 0, 0, 0, 0, 0, false},
	    {"wrong source port", "10.0.0.1:5353", 0, "www.example.com", 0, 0, 0, 0, 0, false},
	    {"wrong ID", "10.0.0.1", 1, "www.example.com", 0, 0, 0, 0, 0, false},
	    {"different name", "10.0.0.1", 0, "www.example.org", 0, 0, 0, 0, 0, false},
	    {"longer name", "10.0.0.1", 0, "www.example.com.evil", 0, 0, 0, 0, 0, false},
	    {"different type", "10.0.0.1", 0, "www.example.com", DNS_TYPE_AAAA, 0, 0, 0, 0, false},
	    {"different class", "10.0.0.1", 0, "www.example.com", 0, 3, 0, 0, 0, false},
	    {"QR=0 (a query)", "10.0.0.1", 0, "www.example.com", 0, 0, DNS_RD, 0, 0, false},
	    {"no question", "10.0.0.1", 0, "www.example.com", 0, 0, 0, 0xff, 0, false},
	    {"truncated header", "10.0.0.1", 0, "www.example.com", 0, 0, 0, 0, 11, false},
	    {"truncated question", "10.0.0.1", 0, "www.example.com", 0, 0, 0, 0, 20, false},
	    {"name in another case", "10.0.0.1", 0, "WwW.ExAmPlE.CoM", 0, 0, 0, 0, 0, true},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct fake fk;
		struct fwd *f = mkfwd(&fk, NULL, one_up, 1);
		struct dns_query q;
		struct fwd_stats st;
		struct glued_endpoint from = ep(rows[i].from);
		uint8_t buf[512];
		const uint8_t *out;
		size_t len, out_len;
		uint32_t w;
		enum fwd_match m;

		T_CASE(rows[i].what)
		{
			mkq(&q, "www.example.com", DNS_TYPE_A, 0x4242, false, false, DNS_RD);
			T_EQ_INT(fwd_query(f, &q, &cl_a, 512, 1000, &w, &out, &out_len), FWD_WAIT);
			T_EQ_INT(fk.sends, 1);
			len = mkans(buf, sizeof(buf),
				    &(struct ans){.id = (uint16_t)(sent_id(&fk) + rows[i].id_delta),
						  .flags = rows[i].flags,
						  .qname = rows[i].qname,
						  .qtype = rows[i].qtype,
						  .qclass = rows[i].qclass,
						  .qd = rows[i].qd,
						  .n_a = 1,
						  .ttl = 60});
			if (rows[i].cut)
				len = rows[i].cut;
			m = fwd_on_reply(f, fk.slot, &from, buf, len, 1010);
			fwd_get_stats(f, &st);
			T_EQ_INT(m, rows[i].accepted ? FWD_ACCEPTED : FWD_DROPPED);
			T_EQ_INT(st.mismatched, rows[i].accepted ? 0 : 1);
			T_EQ_INT(fk.replies, rows[i].accepted ? 1 : 0);
			if (!rows[i].accepted) {
				/* Still waiting: the right reply is taken afterwards. */
				from = ep("10.0.0.1");
				len = mkans(buf, sizeof(buf),
					    &(struct ans){.id = sent_id(&fk),
							  .qname = "www.example.com",
							  .n_a = 1,
							  .ttl = 60});
				T_EQ_INT(fwd_on_reply(f, fk.slot, &from, buf, len, 1020),
					 FWD_ACCEPTED);
				T_EQ_INT(fk.replies, 1);
			}
			T_EQ_INT(rd16(fk.reply[0]), 0x4242);
			T_EQ_INT(fk.dones, 1);
		}
		fwd_free(f);
	}
}

static void test_upstream_query(void)
{
	struct fake fk;
	struct fwd *f = mkfwd(&fk, NULL, one_up, 1);
	struct dns_query q;
	const uint8_t *out;
	size_t out_len;
	uint32_t w, id1;
	uint8_t want[64];
	uint8_t nl = t_name_wire(want, "www.example.com");

	T_CASE("upstream query: fresh ID, lowercase question, RD, our OPT with DO")
	{
		mkq(&q, "WWW.Example.com", DNS_TYPE_A, 7, true, true, DNS_RD | DNS_CD);
		T_EQ_INT(fwd_query(f, &q, &cl_a, 1232, 0, &w, &out, &out_len), FWD_WAIT);
		T_ASSERT(sent_id(&fk) != 7, "the client's ID is not reused upstream");
		T_EQ_INT(rd16(fk.q + 2), DNS_RD | DNS_CD);
		T_EQ_INT(rd16(fk.q + 4), 1);
		T_EQ_INT(rd16(fk.q + 10), 1);
		T_EQ_MEM(fk.q + 12, want, nl);
		T_EQ_INT(fk.qlen, 12 + nl + 4 + 11);
		T_EQ_INT(rd16(fk.q + 12 + nl + 4 + 1), DNS_TYPE_OPT);
		T_EQ_INT(rd32(fk.q + 12 + nl + 4 + 5), 0x8000);
		T_ASSERT(!fk.tcp, "first attempt over UDP");
		id1 = sent_id(&fk);
		mkq(&q, "other.example.com", DNS_TYPE_A, 7, false, false, DNS_RD);
		T_EQ_INT(fwd_query(f, &q, &cl_a, 512, 0, &w, &out, &out_len), FWD_WAIT);
		T_ASSERT(sent_id(&fk) != id1, "every upstream query gets its own ID");
	}
	fwd_free(f);
}

static void test_coalescing(void)
{
	struct fake fk;
	struct fwd *f = mkfwd(&fk, NULL, one_up, 1);
	struct glued_endpoint from = ep("10.0.0.1");
	struct dns_query q;
	struct fwd_stats st;
	const uint8_t *out;
	size_t out_len, len;
	uint32_t w1, w2, w3, slot1;
	uint8_t buf[512], name[64];
	uint8_t nl;

	T_CASE("identical queries share one upstream query; each gets its own ID and case")
	{
		mkq(&q, "www.example.com", DNS_TYPE_A, 0x1111, false, false, DNS_RD);
		T_EQ_INT(fwd_query(f, &q, &cl_a, 512, 0, &w1, &out, &out_len), FWD_WAIT);
		slot1 = fk.slot;
		mkq(&q, "WWW.EXAMPLE.com", DNS_TYPE_A, 0x2222, true, false, 0);
		T_EQ_INT(fwd_query(f, &q, &cl_a, 1232, 5, &w2, &out, &out_len), FWD_WAIT);
		T_EQ_INT(fk.sends, 1);
		T_ASSERT(w1 != w2, "two waiters");
		fwd_get_stats(f, &st);
		T_EQ_INT(st.coalesced, 1);

		len = mkans(buf, sizeof(buf),
			    &(struct ans){.id = sent_id(&fk),
					  .qname = "www.example.com",
					  .n_a = 2,
					  .ttl = 60,
					  .opt = true});
		T_EQ_INT(fwd_on_reply(f, slot1, &from, buf, len, 20), FWD_ACCEPTED);
		T_EQ_INT(fk.replies, 2);
		T_EQ_INT(fk.reply_w[0], w1);
		T_EQ_INT(fk.reply_w[1], w2);
		/* Client 1: its ID, its case, RD echoed, no OPT (it sent none). */
		T_EQ_INT(rd16(fk.reply[0]), 0x1111);
		T_ASSERT(rd16(fk.reply[0] + 2) & DNS_RD, "RD echoed");
		nl = t_name_wire(name, "www.example.com");
		T_EQ_MEM(fk.reply[0] + 12, name, nl);
		T_EQ_INT(rd16(fk.reply[0] + 6), 2);
		T_EQ_INT(rd16(fk.reply[0] + 10), 0);
		T_EQ_INT(fk.reply_len[0], len - 11);
		/* Client 2: its ID, its case, no RD, one OPT (ours). */
		T_EQ_INT(rd16(fk.reply[1]), 0x2222);
		T_ASSERT(!(rd16(fk.reply[1] + 2) & DNS_RD), "RD not invented");
		t_name_wire(name, "WWW.EXAMPLE.com");
		T_EQ_MEM(fk.reply[1] + 12, name, nl);
		T_EQ_INT(rd16(fk.reply[1] + 10), 1);
		T_EQ_INT(rd16(fk.reply[1] + fk.reply_len[1] - 11 + 3), FWD_EDNS_SIZE);
	}

	T_CASE("queries differing in DO or CD bit or type are not coalesced")
	{
		int before = fk.sends;

		mkq(&q, "x.example.com", DNS_TYPE_A, 1, true, false, DNS_RD);
		T_EQ_INT(fwd_query(f, &q, &cl_a, 1232, 100, &w1, &out, &out_len), FWD_WAIT);
		mkq(&q, "x.example.com", DNS_TYPE_A, 2, true, true, DNS_RD);
		T_EQ_INT(fwd_query(f, &q, &cl_a, 1232, 100, &w2, &out, &out_len), FWD_WAIT);
		mkq(&q, "x.example.com", DNS_TYPE_A, 3, true, false, DNS_RD | DNS_CD);
		T_EQ_INT(fwd_query(f, &q, &cl_a, 1232, 100, &w3, &out, &out_len), FWD_WAIT);
		mkq(&q, "x.example.com", DNS_TYPE_AAAA, 4, true, false, DNS_RD);
		T_EQ_INT(fwd_query(f, &q, &cl_a, 1232, 100, &w3, &out, &out_len), FWD_WAIT);
		T_EQ_INT(fk.sends - before, 4);
	}
	fwd_free(f);
}

/* Ask, answer with `a` at time t; return the number of replies so far. */
static void ask_answer(struct fwd *f, struct fake *fk, const char *name, uint16_t id, struct ans a,
		       uint64_t t)
{
	struct glued_endpoint from = fk->to;
	struct dns_query q;
	const uint8_t *out;
	size_t out_len, len;
	uint8_t buf[2048];
	uint32_t w;

	mkq(&q, name, a.qtype ? a.qtype : DNS_TYPE_A, id, false, false, DNS_RD);
	T_EQ_INT(fwd_query(f, &q, &cl_a, 512, t, &w, &out, &out_len), FWD_WAIT);
	from = fk->to;
	a.id = sent_id(fk);
	a.qname = name;
	len = mkans(buf, sizeof(buf), &a);
	T_EQ_INT(fwd_on_reply(f, fk->slot, &from, buf, len, t), FWD_ACCEPTED);
}

/* FWD_REPLY (cache hit) or FWD_WAIT (a new upstream query) at time t. */
static enum fwd_verdict ask(struct fwd *f, const char *name, uint16_t id, uint64_t t,
			    const uint8_t **out, size_t *out_len)
{
	struct dns_query q;
	uint32_t w;

	mkq(&q, name, DNS_TYPE_A, id, false, false, DNS_RD);
	return fwd_query(f, &q, &cl_a, 512, t, &w, out, out_len);
}

static void test_cache(void)
{
	struct fake fk;
	struct fwd *f = mkfwd(&fk, NULL, one_up, 1);
	const uint8_t *out;
	size_t out_len;
	struct fwd_stats st;
	int sends;

	T_CASE("cache hit: own ID and case, TTLs lowered by the age, no upstream query")
	{
		ask_answer(f, &fk, "www.example.com", 1, (struct ans){.n_a = 1, .ttl = 300}, 1000);
		sends = fk.sends;
		T_EQ_INT(ask(f, "WWW.example.com", 0x7777, 1000 + 10500, &out, &out_len),
			 FWD_REPLY);
		T_EQ_INT(fk.sends, sends);
		T_EQ_INT(rd16(out), 0x7777);
		T_EQ_INT(out[13], 'W');
		T_EQ_INT(rd16(out + 6), 1);
		T_EQ_INT(first_ttl(out, "www.example.com"), 290);
		fwd_get_stats(f, &st);
		T_EQ_INT(st.cache_hits, 1);
		T_EQ_INT(st.cache_entries, 1);
	}
	T_CASE("cache entry expires after its TTL")
	{
		T_EQ_INT(ask(f, "www.example.com", 2, 1000 + 299999, &out, &out_len), FWD_REPLY);
		T_EQ_INT(first_ttl(out, "www.example.com"), 1);
		T_EQ_INT(ask(f, "www.example.com", 3, 1000 + 300000, &out, &out_len), FWD_WAIT);
		T_EQ_INT(fk.sends, sends + 1);
	}
	fwd_free(f);

	f = mkfwd(&fk, NULL, one_up, 1);
	T_CASE("negative answer cached for min(SOA TTL, SOA MINIMUM)")
	{
		ask_answer(f, &fk, "nx.example.com", 1,
			   (struct ans){.flags = DNS_QR | DNS_RA | DNS_RCODE_NXDOMAIN,
					.soa = true,
					.soa_ttl = 600,
					.soa_min = 60},
			   0);
		T_EQ_INT(ask(f, "nx.example.com", 2, 59999, &out, &out_len), FWD_REPLY);
		T_EQ_INT(rd16(out + 2) & DNS_RCODE_MASK, DNS_RCODE_NXDOMAIN);
		T_EQ_INT(rd16(out + 8), 1);
		T_EQ_INT(ask(f, "nx.example.com", 3, 60000, &out, &out_len), FWD_WAIT);
	}
	T_CASE("NODATA with SOA TTL below MINIMUM uses the SOA TTL")
	{
		ask_answer(f, &fk, "nodata.example.com", 1,
			   (struct ans){.soa = true, .soa_ttl = 30, .soa_min = 900}, 0);
		T_EQ_INT(ask(f, "nodata.example.com", 2, 29999, &out, &out_len), FWD_REPLY);
		T_EQ_INT(ask(f, "nodata.example.com", 3, 30000, &out, &out_len), FWD_WAIT);
	}
	T_CASE("negative answer without SOA: the short default (5 s)")
	{
		ask_answer(f, &fk, "nosoa.example.com", 1,
			   (struct ans){.flags = DNS_QR | DNS_RA | DNS_RCODE_NXDOMAIN}, 0);
		T_EQ_INT(ask(f, "nosoa.example.com", 2, 4999, &out, &out_len), FWD_REPLY);
		T_EQ_INT(ask(f, "nosoa.example.com", 3, 5000, &out, &out_len), FWD_WAIT);
	}
	T_CASE("TTL capped at one hour; TTL 0 not cached")
	{
		ask_answer(f, &fk, "long.example.com", 1, (struct ans){.n_a = 1, .ttl = 86400}, 0);
		T_EQ_INT(ask(f, "long.example.com", 2, 3599999, &out, &out_len), FWD_REPLY);
		T_EQ_INT(ask(f, "long.example.com", 3, 3600000, &out, &out_len), FWD_WAIT);
		ask_answer(f, &fk, "zero.example.com", 1, (struct ans){.n_a = 1, .ttl = 0}, 0);
		T_EQ_INT(ask(f, "zero.example.com", 2, 0, &out, &out_len), FWD_WAIT);
	}
	fwd_free(f);

	f = mkfwd(&fk, NULL, (const char *const[]){"10.0.0.1"}, 1);
	T_CASE("SERVFAIL is passed on but not cached")
	{
		ask_answer(f, &fk, "sf.example.com", 1,
			   (struct ans){.flags = DNS_QR | DNS_RA | DNS_RCODE_SERVFAIL}, 0);
		T_EQ_INT(fk.replies, 1);
		T_EQ_INT(rd16(fk.reply[0] + 2) & DNS_RCODE_MASK, DNS_RCODE_SERVFAIL);
		T_EQ_INT(ask(f, "sf.example.com", 2, 10, &out, &out_len), FWD_WAIT);
	}
	fwd_free(f);
}

static void test_lru(void)
{
	struct fwd_cfg cfg;
	struct fake fk;
	struct fwd *f;
	struct fwd_stats st;
	const uint8_t *out;
	size_t out_len;
	size_t one;

	/* What one entry costs, then room for three and a half of them (all
	 * names below have the same length). */
	f = mkfwd(&fk, NULL, one_up, 1);
	ask_answer(f, &fk, "z.example.com", 1, (struct ans){.n_a = 1, .ttl = 600}, 0);
	fwd_get_stats(f, &st);
	one = st.cache_bytes;
	fwd_free(f);
	fwd_cfg_default(&cfg);
	cfg.cache_max_bytes = 3 * one + one / 2;
	f = mkfwd(&fk, &cfg, one_up, 1);
	T_CASE("the byte bound evicts the least recently used entry")
	{
		ask_answer(f, &fk, "a.example.com", 1, (struct ans){.n_a = 1, .ttl = 600}, 0);
		ask_answer(f, &fk, "b.example.com", 1, (struct ans){.n_a = 1, .ttl = 600}, 0);
		ask_answer(f, &fk, "c.example.com", 1, (struct ans){.n_a = 1, .ttl = 600}, 0);
		fwd_get_stats(f, &st);
		T_EQ_INT(st.cache_entries, 3);
		/* Touch a: b is now the least recently used. */
		T_EQ_INT(ask(f, "a.example.com", 2, 1, &out, &out_len), FWD_REPLY);
		ask_answer(f, &fk, "d.example.com", 1, (struct ans){.n_a = 1, .ttl = 600}, 2);
		fwd_get_stats(f, &st);
		T_EQ_INT(st.cache_entries, 3);
		T_ASSERT(st.cache_bytes <= cfg.cache_max_bytes, "%llu bytes",
			 (unsigned long long)st.cache_bytes);
		T_EQ_INT(ask(f, "a.example.com", 3, 3, &out, &out_len), FWD_REPLY);
		T_EQ_INT(ask(f, "c.example.com", 3, 3, &out, &out_len), FWD_REPLY);
		T_EQ_INT(ask(f, "d.example.com", 3, 3, &out, &out_len), FWD_REPLY);
		T_EQ_INT(ask(f, "b.example.com", 3, 3, &out, &out_len), FWD_WAIT);
	}
	fwd_free(f);
}

static void test_truncation(void)
{
	struct fake fk;
	struct fwd *f = mkfwd(&fk, NULL, one_up, 1);
	struct glued_endpoint from = ep("10.0.0.1");
	struct dns_query q;
	const uint8_t *out;
	size_t out_len, len;
	uint32_t w1, w2, w3;
	uint8_t buf[2048], name[64];
	uint8_t nl = t_name_wire(name, "big.example.com");

	T_CASE("an answer larger than a client's limit: TC=1, question, OPT, no records")
	{
		mkq(&q, "big.example.com", DNS_TYPE_A, 1, false, false, DNS_RD);
		T_EQ_INT(fwd_query(f, &q, &cl_a, 512, 0, &w1, &out, &out_len), FWD_WAIT);
		mkq(&q, "big.example.com", DNS_TYPE_A, 2, true, false, DNS_RD);
		T_EQ_INT(fwd_query(f, &q, &cl_a, 1232, 0, &w2, &out, &out_len), FWD_WAIT);
		mkq(&q, "big.example.com", DNS_TYPE_A, 3, false, false, DNS_RD);
		T_EQ_INT(fwd_query(f, &q, &cl_a, DNS_TCP_MAX, 0, &w3, &out, &out_len), FWD_WAIT);
		/* 40 A records: 12 + 21 + 40 * 16 = 673 bytes. */
		len = mkans(
		    buf, sizeof(buf),
		    &(struct ans){
			.id = sent_id(&fk), .qname = "big.example.com", .n_a = 40, .ttl = 60});
		T_EQ_INT(fwd_on_reply(f, fk.slot, &from, buf, len, 1), FWD_ACCEPTED);
		T_EQ_INT(fk.replies, 3);
		/* UDP without EDNS (512): truncated. */
		T_EQ_INT(fk.reply_len[0], 12 + nl + 4);
		T_ASSERT(rd16(fk.reply[0] + 2) & DNS_TC, "TC set");
		T_EQ_INT(rd16(fk.reply[0]), 1);
		T_EQ_INT(rd16(fk.reply[0] + 4), 1);
		T_EQ_INT(rd16(fk.reply[0] + 6), 0);
		T_EQ_INT(rd16(fk.reply[0] + 10), 0);
		/* UDP with EDNS 1232: fits, with our OPT. */
		T_EQ_INT(fk.reply_len[1], len + 11);
		T_ASSERT(!(rd16(fk.reply[1] + 2) & DNS_TC), "TC clear");
		T_EQ_INT(rd16(fk.reply[1] + 6), 40);
		/* TCP: the whole answer. */
		T_EQ_INT(fk.reply_len[2], len);
		T_EQ_INT(rd16(fk.reply[2] + 6), 40);
	}
	T_CASE("a truncated reply keeps the OPT when the client sent one")
	{
		mkq(&q, "big.example.com", DNS_TYPE_A, 9, true, true, DNS_RD);
		q.edns_udp_size = 512;
		/* Cached, but DO differs: a new question; answer it big. */
		T_EQ_INT(fwd_query(f, &q, &cl_a, 512, 10, &w1, &out, &out_len), FWD_WAIT);
		len = mkans(buf, sizeof(buf),
			    &(struct ans){.id = sent_id(&fk),
					  .qname = "big.example.com",
					  .n_a = 40,
					  .ttl = 60,
					  .opt = true});
		T_EQ_INT(fwd_on_reply(f, fk.slot, &from, buf, len, 11), FWD_ACCEPTED);
		T_EQ_INT(fk.reply_len[3], 12 + nl + 4 + 11);
		T_ASSERT(rd16(fk.reply[3] + 2) & DNS_TC, "TC set");
		T_EQ_INT(rd16(fk.reply[3] + 10), 1);
		T_EQ_INT(rd32(fk.reply[3] + 12 + nl + 4 + 5), 0x8000);
	}
	fwd_free(f);
}

static void test_failover(void)
{
	struct fake fk;
	struct fwd *f = mkfwd(&fk, NULL, three_up, 3);
	struct dns_query q;
	struct fwd_stats st;
	const uint8_t *out;
	size_t out_len, len;
	uint32_t w, slot;
	uint8_t buf[512];
	char tmp[ENDPOINT_STRLEN];

	T_CASE("silent upstreams: failover in order every attempt_ms, SERVFAIL at the budget")
	{
		mkq(&q, "slow.example.com", DNS_TYPE_A, 0x5151, true, false, DNS_RD);
		T_EQ_INT(fwd_query(f, &q, &cl_a, 1232, 10000, &w, &out, &out_len), FWD_WAIT);
		slot = fk.slot;
		T_EQ_STR(endpoint_str(&fk.to, tmp, sizeof(tmp)), "10.0.0.1:53");
		T_EQ_INT(fk.deadline, 11000);
		fwd_on_timeout(f, slot, 11000);
		T_EQ_STR(endpoint_str(&fk.to, tmp, sizeof(tmp)), "10.0.0.2:5353");
		T_EQ_INT(fk.deadline, 12000);
		fwd_on_timeout(f, slot, 12000);
		T_EQ_STR(endpoint_str(&fk.to, tmp, sizeof(tmp)), "[fd00::3]:53");
		fwd_on_timeout(f, slot, 13000);
		/* All asked once; the budget allows another round. */
		T_EQ_STR(endpoint_str(&fk.to, tmp, sizeof(tmp)), "10.0.0.1:53");
		T_EQ_INT(fk.deadline, 13500);
		T_EQ_INT(fk.replies, 0);
		fwd_on_timeout(f, slot, 13500);
		T_EQ_INT(fk.sends, 4);
		T_EQ_INT(fk.replies, 1);
		T_EQ_INT(fk.dones, 1);
		T_EQ_INT(rd16(fk.reply[0]), 0x5151);
		T_EQ_INT(rd16(fk.reply[0] + 2) & DNS_RCODE_MASK, DNS_RCODE_SERVFAIL);
		T_ASSERT(rd16(fk.reply[0] + 2) & DNS_QR, "a response");
		T_EQ_INT(rd16(fk.reply[0] + 10), 1); /* OPT echoed */
		fwd_get_stats(f, &st);
		T_EQ_INT(st.timeouts, 4);
		T_EQ_INT(st.servfail, 1);
	}

	T_CASE("REFUSED and SERVFAIL fail over at once; the last one is passed on")
	{
		struct glued_endpoint from;
		uint16_t rcodes[] = {DNS_RCODE_REFUSED, DNS_RCODE_SERVFAIL, DNS_RCODE_REFUSED};

		memset(&fk, 0, sizeof(fk));
		mkq(&q, "bad.example.com", DNS_TYPE_A, 0x6161, false, false, DNS_RD);
		T_EQ_INT(fwd_query(f, &q, &cl_a, 512, 20000, &w, &out, &out_len), FWD_WAIT);
		for (int i = 0; i < 3; i++) {
			from = fk.to;
			len = mkans(buf, sizeof(buf),
				    &(struct ans){.id = sent_id(&fk),
						  .qname = "bad.example.com",
						  .flags = (uint16_t)(DNS_QR | rcodes[i])});
			T_EQ_INT(fwd_on_reply(f, fk.slot, &from, buf, len, 20010 + i),
				 FWD_ACCEPTED);
		}
		T_EQ_INT(fk.sends, 3);
		T_EQ_INT(fk.replies, 1);
		T_EQ_INT(rd16(fk.reply[0] + 2) & DNS_RCODE_MASK, DNS_RCODE_REFUSED);
	}

	T_CASE("an upstream that answered well is asked first next time")
	{
		struct glued_endpoint from;

		memset(&fk, 0, sizeof(fk));
		mkq(&q, "pref.example.com", DNS_TYPE_A, 1, false, false, DNS_RD);
		T_EQ_INT(fwd_query(f, &q, &cl_a, 512, 30000, &w, &out, &out_len), FWD_WAIT);
		fwd_on_error(f, fk.slot, 30001); /* e.g. ICMP port unreachable */
		T_EQ_STR(endpoint_str(&fk.to, tmp, sizeof(tmp)), "10.0.0.2:5353");
		from = fk.to;
		len =
		    mkans(buf, sizeof(buf),
			  &(struct ans){
			      .id = sent_id(&fk), .qname = "pref.example.com", .n_a = 1, .ttl = 5});
		T_EQ_INT(fwd_on_reply(f, fk.slot, &from, buf, len, 30002), FWD_ACCEPTED);
		mkq(&q, "next.example.com", DNS_TYPE_A, 1, false, false, DNS_RD);
		T_EQ_INT(fwd_query(f, &q, &cl_a, 512, 30003, &w, &out, &out_len), FWD_WAIT);
		T_EQ_STR(endpoint_str(&fk.to, tmp, sizeof(tmp)), "10.0.0.2:5353");
	}

	T_CASE("errors from every upstream end at once instead of spinning")
	{
		memset(&fk, 0, sizeof(fk));
		mkq(&q, "err.example.com", DNS_TYPE_A, 1, false, false, DNS_RD);
		T_EQ_INT(fwd_query(f, &q, &cl_a, 512, 40000, &w, &out, &out_len), FWD_WAIT);
		fwd_on_error(f, fk.slot, 40001);
		fwd_on_error(f, fk.slot, 40002);
		fwd_on_error(f, fk.slot, 40003);
		T_EQ_INT(fk.sends, 3);
		T_EQ_INT(fk.replies, 1);
		T_EQ_INT(rd16(fk.reply[0] + 2) & DNS_RCODE_MASK, DNS_RCODE_SERVFAIL);
	}
	fwd_free(f);
}

static void test_tcp_retry(void)
{
	struct fake fk;
	struct fwd *f = mkfwd(&fk, NULL, one_up, 1);
	struct glued_endpoint from = ep("10.0.0.1");
	struct dns_query q;
	struct fwd_stats st;
	const uint8_t *out;
	size_t out_len, len;
	uint32_t w, udp_id;
	uint8_t buf[2048];

	T_CASE("TC=1 from upstream: the same question to the same upstream over TCP")
	{
		mkq(&q, "tc.example.com", DNS_TYPE_A, 0x7171, false, false, DNS_RD);
		T_EQ_INT(fwd_query(f, &q, &cl_a, DNS_TCP_MAX, 0, &w, &out, &out_len), FWD_WAIT);
		udp_id = sent_id(&fk);
		len = mkans(buf, sizeof(buf),
			    &(struct ans){.id = sent_id(&fk),
					  .qname = "tc.example.com",
					  .flags = DNS_QR | DNS_TC});
		T_EQ_INT(fwd_on_reply(f, fk.slot, &from, buf, len, 5), FWD_ACCEPTED);
		T_EQ_INT(fk.sends, 2);
		T_ASSERT(fk.tcp, "second attempt over TCP");
		T_EQ_INT(fk.deadline, 5 + 2000);
		T_EQ_INT(fk.replies, 0);
		/* A late UDP reply with the old ID no longer matches. */
		len = mkans(
		    buf, sizeof(buf),
		    &(struct ans){
			.id = (uint16_t)udp_id, .qname = "tc.example.com", .n_a = 1, .ttl = 60});
		if (udp_id != sent_id(&fk))
			T_EQ_INT(fwd_on_reply(f, fk.slot, &from, buf, len, 6), FWD_DROPPED);
		len =
		    mkans(buf, sizeof(buf),
			  &(struct ans){
			      .id = sent_id(&fk), .qname = "tc.example.com", .n_a = 50, .ttl = 60});
		T_EQ_INT(fwd_on_reply(f, fk.slot, &from, buf, len, 7), FWD_ACCEPTED);
		T_EQ_INT(fk.replies, 1);
		T_EQ_INT(fk.reply_len[0], len);
		T_EQ_INT(rd16(fk.reply[0]), 0x7171);
		fwd_get_stats(f, &st);
		T_EQ_INT(st.tcp_retries, 1);
	}
	fwd_free(f);
}

static void test_self(void)
{
	static const struct {
		const char *up;
		bool self;
	} rows[] = {
	    {"127.0.0.1:53", true}, {"127.0.0.53:53", true}, {"192.168.1.5:53", true},
	    {"0.0.0.0:53", true},   {"[::1]:53", true},	     {"127.0.0.1:5353", false},
	    {"10.9.9.9:53", false}, {"10.0.0.7:5300", true}, {"10.0.0.8:5300", false},
	};
	struct glued_endpoint self[2] = {ep("0.0.0.0:53"), ep("10.0.0.7:5300")};
	struct glued_addr local[1];

	T_CASE("upstreams equal to our own listening endpoints are recognised")
	{
		if (addr_parse(&local[0], "192.168.1.5") != 0)
			abort();
		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			struct glued_endpoint up = ep(rows[i].up);
			T_ASSERT(fwd_upstream_is_self(&up, self, 2, local, 1) == rows[i].self,
				 "%s: want %d", rows[i].up, rows[i].self);
		}
	}
}

static void test_probe(void)
{
	struct fake fk;
	struct fwd *f = mkfwd(&fk, NULL, (const char *const[]){"10.0.0.1", "10.0.0.2"}, 2);
	struct glued_endpoint from;
	struct dns_query q;
	const uint8_t *out;
	size_t out_len, len;
	uint8_t probe0[256], buf[512];
	uint8_t probe0_len;
	uint32_t w;
	bool dis;
	char tmp[ENDPOINT_STRLEN];

	T_CASE("loop probes: a random TXT name per upstream; hearing it disables that upstream")
	{
		T_EQ_INT(fwd_probe(f, 0), 2);
		T_EQ_INT(fk.sends, 2);
		/* The last send went to upstream 1; its question is the probe. */
		T_EQ_INT(fk.q[12], 32);
		T_EQ_MEM(fk.q + 12 + 33, "\x10glued-loop-probe\0", 18);
		T_EQ_INT(rd16(fk.q + 12 + 51), DNS_TYPE_TXT);
		probe0_len = 51;
		memcpy(probe0, fk.q + 12, probe0_len);
		for (int i = 1; i <= 32; i++)
			if (probe0[i] >= 'a' && probe0[i] <= 'f')
				probe0[i] = (uint8_t)(probe0[i] - 32); /* 0x20 by an upstream */
		T_EQ_INT(fwd_is_probe(f, probe0, probe0_len, 0), 1);
		T_EQ_INT(fk.transitions, 1);
		T_EQ_INT(fk.state_i, 1);
		T_ASSERT(!fk.state_enabled, "reported disabled");
		T_EQ_INT(fwd_is_probe(f, probe0, probe0_len, 0), 1);
		T_EQ_INT(fk.transitions, 1); /* second time: already disabled */
		fwd_upstream(f, 1, &dis);
		T_ASSERT(dis, "upstream 1 disabled");
		fwd_upstream(f, 0, &dis);
		T_ASSERT(!dis, "upstream 0 still enabled");
		probe0[5] ^= 1;
		T_EQ_INT(fwd_is_probe(f, probe0, probe0_len, 0), -1);

		/* The probe's own answer (NXDOMAIN) ends the probe; nothing cached. */
		from = fk.to;
		memcpy(buf, fk.q, 12 + 51 + 4); /* ID and question as sent */
		buf[2] = (DNS_QR | DNS_RA) >> 8;
		buf[3] = DNS_RA | DNS_RCODE_NXDOMAIN;
		buf[11] = 0; /* no OPT */
		len = 12 + 51 + 4;
		T_EQ_INT(fwd_on_reply(f, fk.slot, &from, buf, len, 1), FWD_ACCEPTED);
		T_EQ_INT(fk.replies, 0);
		T_EQ_INT(fk.dones, 1);

		/* Queries avoid the disabled upstream, even after timeouts. */
		mkq(&q, "www.example.com", DNS_TYPE_A, 1, false, false, DNS_RD);
		T_EQ_INT(fwd_query(f, &q, &cl_a, 512, 2, &w, &out, &out_len), FWD_WAIT);
		T_EQ_STR(endpoint_str(&fk.to, tmp, sizeof(tmp)), "10.0.0.1:53");
		fwd_on_timeout(f, fk.slot, 1002);
		T_EQ_STR(endpoint_str(&fk.to, tmp, sizeof(tmp)), "10.0.0.1:53");

		/* The list is re-read: the looping upstream stays disabled. */
		fwd_set_upstreams(f, (struct glued_endpoint[]){ep("10.0.0.2"), ep("10.0.0.3")}, 2);
		fwd_upstream(f, 0, &dis);
		T_ASSERT(dis, "10.0.0.2 still disabled after re-read");
		fwd_upstream(f, 1, &dis);
		T_ASSERT(!dis, "10.0.0.3 enabled");
	}
	fwd_free(f);

	f = mkfwd(&fk, NULL, one_up, 1);
	T_CASE("every upstream disabled: SERVFAIL at once")
	{
		T_EQ_INT(fwd_probe(f, 0), 1);
		memcpy(probe0, fk.q + 12, 51);
		/* Probed again (the list was re-read): the first name, maybe
		 * still going round the loop, is recognised too. */
		T_EQ_INT(fwd_probe(f, 1), 1);
		T_ASSERT(memcmp(probe0, fk.q + 12, 51) != 0, "a new name");
		T_EQ_INT(fwd_is_probe(f, probe0, 51, 1), 0);
		mkq(&q, "www.example.com", DNS_TYPE_A, 0x99, false, false, DNS_RD);
		T_EQ_INT(fwd_query(f, &q, &cl_a, 512, 1, &w, &out, &out_len), FWD_REPLY);
		T_EQ_INT(rd16(out), 0x99);
		T_EQ_INT(rd16(out + 2) & DNS_RCODE_MASK, DNS_RCODE_SERVFAIL);
	}
	fwd_free(f);
}

static void test_pool_exhaustion(void)
{
	struct fwd_cfg cfg;
	struct fake fk;
	struct fwd *f;
	struct dns_query q;
	const uint8_t *out;
	size_t out_len;
	uint32_t w;
	char name[32];

	fwd_cfg_default(&cfg);
	cfg.max_inflight = 2;
	f = mkfwd(&fk, &cfg, one_up, 1);
	T_CASE("more questions than slots: the extra one gets SERVFAIL, nothing leaks")
	{
		for (int i = 0; i < 3; i++) {
			snprintf(name, sizeof(name), "n%d.example.com", i);
			mkq(&q, name, DNS_TYPE_A, (uint16_t)i, false, false, DNS_RD);
			T_EQ_INT(fwd_query(f, &q, &cl_a, 512, 0, &w, &out, &out_len),
				 i < 2 ? FWD_WAIT : FWD_REPLY);
		}
		T_EQ_INT(rd16(out + 2) & DNS_RCODE_MASK, DNS_RCODE_SERVFAIL);
	}
	fwd_free(f);
}

/* The hash the cache used before it was keyed: FNV-1a over the lowercase
 * wire name, DO/CD bits, type and class. Anyone could compute it. */
static uint32_t fnv_key(const uint8_t *name, size_t len, uint16_t qtype)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ name[i]) * 16777619u;
	h = (h ^ 0) * 16777619u;
	h = (h ^ qtype) * 16777619u;
	return (h ^ DNS_CLASS_IN) * 16777619u;
}

static void test_keyed_hash(void)
{
	enum { N = 48, BUCKETS = (4u << 20) / 512 }; /* the default cache's buckets */
	static char names[N][32];
	struct fake fk;
	struct fwd *f;
	struct fwd_stats st;
	uint8_t wire[64];
	int found = 0;

	/* Names an attacker would pick: all in one FNV bucket. */
	for (uint32_t i = 0; found < N && i < 50u * 1000 * 1000; i++) {
		char name[32];
		uint8_t len;

		snprintf(name, sizeof(name), "c%u.example.com", i);
		len = t_name_wire(wire, name);
		if ((fnv_key(wire, len, DNS_TYPE_A) & (BUCKETS - 1)) == 0)
			memcpy(names[found++], name, sizeof(name));
	}
	f = mkfwd(&fk, NULL, one_up, 1);
	T_CASE("cache hash is keyed: names colliding under FNV spread over buckets")
	{
		T_EQ_INT(found, N);
		for (int i = 0; i < N; i++)
			ask_answer(f, &fk, names[i], 1, (struct ans){.n_a = 1, .ttl = 600}, 0);
		fwd_get_stats(f, &st);
		T_EQ_INT(st.cache_entries, N);
		/* FNV would chain all 48 in bucket 0; SipHash under a random
		 * key puts 48 entries in 8192 buckets, rarely two together. */
		T_ASSERT(fwd_cache_longest_chain(f) <= 3, "longest chain %zu",
			 fwd_cache_longest_chain(f));
	}
	fwd_free(f);
}

static void test_negative_cap(void)
{
	struct fwd_cfg cfg;
	struct fake fk;
	struct fwd *f;
	const uint8_t *out;
	size_t out_len;

	static const struct {
		const char *what, *name;
		uint16_t rcode;
		uint32_t soa_ttl, soa_min, cap_s, lives_s;
	} rows[] = {
	    {"NXDOMAIN, SOA says 1 h: cached 300 s", "nx1.example.com", DNS_RCODE_NXDOMAIN, 3600,
	     3600, 0, 300},
	    {"NODATA, SOA says 1 day: cached 300 s", "nd1.example.com", DNS_RCODE_NOERROR, 86400,
	     86400, 0, 300},
	    {"NXDOMAIN below the cap keeps its own TTL", "nx2.example.com", DNS_RCODE_NXDOMAIN, 120,
	     120, 0, 120},
	    {"the cap is the configured one", "nx3.example.com", DNS_RCODE_NXDOMAIN, 3600, 3600, 30,
	     30},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fwd_cfg_default(&cfg);
		if (rows[i].cap_s)
			cfg.neg_ttl_max_s = rows[i].cap_s;
		f = mkfwd(&fk, &cfg, one_up, 1);
		T_CASE(rows[i].what)
		{
			ask_answer(
			    f, &fk, rows[i].name, 1,
			    (struct ans){.flags = (uint16_t)(DNS_QR | DNS_RA | rows[i].rcode),
					 .soa = true,
					 .soa_ttl = rows[i].soa_ttl,
					 .soa_min = rows[i].soa_min},
			    0);
			T_EQ_INT(
			    ask(f, rows[i].name, 2, rows[i].lives_s * 1000 - 1, &out, &out_len),
			    FWD_REPLY);
			T_EQ_INT(rd16(out + 2) & DNS_RCODE_MASK, rows[i].rcode);
			T_EQ_INT(ask(f, rows[i].name, 3, rows[i].lives_s * 1000, &out, &out_len),
				 FWD_WAIT);
		}
		fwd_free(f);
	}
	T_CASE("the default negative cap is 300 s")
	{
		fwd_cfg_default(&cfg);
		T_EQ_INT(cfg.neg_ttl_max_s, 300);
	}
}

static enum fwd_verdict ask_from(struct fwd *f, const struct glued_addr *cl, const char *name,
				 uint16_t id, uint64_t t, uint32_t *w, const uint8_t **out,
				 size_t *out_len)
{
	struct dns_query q;

	mkq(&q, name, DNS_TYPE_A, id, false, false, DNS_RD);
	return fwd_query(f, &q, cl, 512, t, w, out, out_len);
}

static void test_client_cap(void)
{
	static const struct glued_addr cl_b = {.family = AF_INET, .b = {192, 0, 2, 2}};
	/* The same 16 bytes as cl_a but another family: another client. */
	static const struct glued_addr cl_a6 = {.family = AF_INET6, .b = {192, 0, 2, 1}};
	struct fwd_cfg cfg;
	struct fake fk;
	struct fwd *f;
	struct fwd_stats st;
	const uint8_t *out;
	size_t out_len, len;
	uint32_t w, slot0, id0;
	uint8_t buf[512];
	char name[32];

	fwd_cfg_default(&cfg);
	cfg.max_per_client = 3;
	f = mkfwd(&fk, &cfg, one_up, 1);
	T_CASE("a client at its cap gets REFUSED; other clients are still forwarded")
	{
		for (int i = 0; i < 3; i++) {
			snprintf(name, sizeof(name), "q%d.example.com", i);
			T_EQ_INT(ask_from(f, &cl_a, name, (uint16_t)i, 0, &w, &out, &out_len),
				 FWD_WAIT);
			if (i == 0) {
				slot0 = fk.slot;
				id0 = sent_id(&fk);
			}
		}
		T_EQ_INT(ask_from(f, &cl_a, "q3.example.com", 0x33, 0, &w, &out, &out_len),
			 FWD_REPLY);
		T_EQ_INT(rd16(out), 0x33);
		T_EQ_INT(rd16(out + 2) & DNS_RCODE_MASK, DNS_RCODE_REFUSED);
		T_ASSERT(rd16(out + 2) & DNS_QR, "a reply");
		/* Joining a query already in flight is waiting too. */
		T_EQ_INT(ask_from(f, &cl_a, "q0.example.com", 0x34, 0, &w, &out, &out_len),
			 FWD_REPLY);
		T_EQ_INT(rd16(out + 2) & DNS_RCODE_MASK, DNS_RCODE_REFUSED);
		T_EQ_INT(fk.sends, 3);
		T_EQ_INT(ask_from(f, &cl_b, "q3.example.com", 0x35, 0, &w, &out, &out_len),
			 FWD_WAIT);
		T_EQ_INT(ask_from(f, &cl_a6, "q4.example.com", 0x36, 0, &w, &out, &out_len),
			 FWD_WAIT);
		T_EQ_INT(fk.sends, 5);
		fwd_get_stats(f, &st);
		T_EQ_INT(st.client_limited, 2);
	}
	T_CASE("an answer frees the client's place; cached answers need none")
	{
		struct glued_endpoint from = ep("10.0.0.1");

		len =
		    mkans(buf, sizeof(buf),
			  &(struct ans){
			      .id = (uint16_t)id0, .qname = "q0.example.com", .n_a = 1, .ttl = 60});
		T_EQ_INT(fwd_on_reply(f, slot0, &from, buf, len, 10), FWD_ACCEPTED);
		T_EQ_INT(ask_from(f, &cl_a, "q5.example.com", 0x37, 10, &w, &out, &out_len),
			 FWD_WAIT);
		T_EQ_INT(ask_from(f, &cl_a, "q6.example.com", 0x38, 10, &w, &out, &out_len),
			 FWD_REPLY);
		T_EQ_INT(rd16(out + 2) & DNS_RCODE_MASK, DNS_RCODE_REFUSED);
		/* At the cap, but q0 is cached: answered. */
		T_EQ_INT(ask_from(f, &cl_a, "q0.example.com", 0x39, 20, &w, &out, &out_len),
			 FWD_REPLY);
		T_EQ_INT(rd16(out + 2) & DNS_RCODE_MASK, DNS_RCODE_NOERROR);
		T_EQ_INT(rd16(out + 6), 1);
	}
	T_CASE("a SERVFAIL after the budget frees the places too")
	{
		int before = fk.replies;

		/* Every slot in flight times out past the 3.5 s budget. */
		for (uint32_t s = 0; s < cfg.max_inflight; s++)
			fwd_on_timeout(f, s, 10000);
		T_EQ_INT(fk.replies - before, 5);
		for (int i = 0; i < 3; i++) {
			snprintf(name, sizeof(name), "r%d.example.com", i);
			T_EQ_INT(ask_from(f, &cl_a, name, (uint16_t)i, 10000, &w, &out, &out_len),
				 FWD_WAIT);
		}
		T_EQ_INT(ask_from(f, &cl_a, "r3.example.com", 9, 10000, &w, &out, &out_len),
			 FWD_REPLY);
	}
	fwd_free(f);

	fwd_cfg_default(&cfg);
	T_CASE("the default cap is 64 per client")
	{
		T_EQ_INT(cfg.max_per_client, 64);
		f = mkfwd(&fk, &cfg, one_up, 1);
		for (int i = 0; i < 100; i++) {
			snprintf(name, sizeof(name), "n%d.example.com", i);
			T_EQ_INT(ask_from(f, &cl_a, name, (uint16_t)i, 0, &w, &out, &out_len),
				 i < 64 ? FWD_WAIT : FWD_REPLY);
		}
		T_EQ_INT(ask_from(f, &cl_b, "n0.example.com", 1, 0, &w, &out, &out_len), FWD_WAIT);
		fwd_get_stats(f, &st);
		T_EQ_INT(st.client_limited, 36);
		fwd_free(f);
	}
}

/* The probe the fake saw last, answered by the upstream with `rcode`. */
static enum fwd_match answer_probe(struct fwd *f, struct fake *fk, unsigned rcode, uint64_t t)
{
	uint8_t buf[128];
	size_t len = 12 + 51 + 4;

	memcpy(buf, fk->q, len); /* ID and question as sent */
	buf[2] = (DNS_QR | DNS_RA) >> 8;
	buf[3] = (uint8_t)(DNS_RA | rcode);
	buf[11] = 0; /* no OPT */
	return fwd_on_reply(f, fk->slot, &fk->to, buf, len, t);
}

static bool last_sent_probe(const struct fake *fk)
{
	return fk->qlen >= 12 + 51 + 4 &&
	       memcmp(fk->q + 12 + 33, "\x10glued-loop-probe\0", 18) == 0;
}

static void test_reprobe(void)
{
	static const struct {
		const char *what;
		unsigned rcode;
		bool came_back, enabled;
	} rows[] = {
	    {"disabled upstream answers its new probe NXDOMAIN: enabled again", DNS_RCODE_NXDOMAIN,
	     false, true},
	    {"... answers NOERROR: enabled again", DNS_RCODE_NOERROR, false, true},
	    {"... answers SERVFAIL (it may be waiting on us): stays disabled", DNS_RCODE_SERVFAIL,
	     false, false},
	    {"... answers REFUSED: stays disabled", DNS_RCODE_REFUSED, false, false},
	    {"... answers NXDOMAIN but the probe came back to us first: stays disabled",
	     DNS_RCODE_NXDOMAIN, true, false},
	};
	struct fake fk;
	struct fwd *f;
	struct fwd_stats st;
	const uint8_t *out;
	size_t out_len;
	uint8_t probe[64];
	bool dis;
	uint32_t w;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		f = mkfwd(&fk, NULL, one_up, 1);
		T_CASE(rows[i].what)
		{
			T_EQ_INT(fwd_probe(f, 0), 1);
			memcpy(probe, fk.q + 12, 51);
			T_EQ_INT(fwd_is_probe(f, probe, 51, 10), 0);
			/* Before the first backoff: SERVFAIL, no probe. */
			T_EQ_INT(ask_from(f, &cl_a, "a.example.com", 1, 5009, &w, &out, &out_len),
				 FWD_REPLY);
			T_EQ_INT(fk.sends, 1);
			/* At 5 s: a query brings a new probe. */
			T_EQ_INT(ask_from(f, &cl_a, "a.example.com", 2, 5010, &w, &out, &out_len),
				 FWD_REPLY);
			T_EQ_INT(fk.sends, 2);
			T_ASSERT(last_sent_probe(&fk), "the new send is a probe");
			T_ASSERT(memcmp(probe, fk.q + 12, 51) != 0, "with a new name");
			if (rows[i].came_back)
				T_EQ_INT(fwd_is_probe(f, fk.q + 12, 51, 5011), 0);
			T_EQ_INT(answer_probe(f, &fk, rows[i].rcode, 5020), FWD_ACCEPTED);
			fwd_upstream(f, 0, &dis);
			T_EQ_INT(!dis, rows[i].enabled);
			T_EQ_INT(fk.transitions, rows[i].enabled ? 2 : 1);
			T_EQ_INT(fk.state_enabled, rows[i].enabled);
			fwd_get_stats(f, &st);
			T_EQ_INT(st.loops_detected, 1);
			T_EQ_INT(st.upstreams_restored, rows[i].enabled ? 1 : 0);
			T_EQ_INT(ask_from(f, &cl_a, "b.example.com", 3, 5030, &w, &out, &out_len),
				 rows[i].enabled ? FWD_WAIT : FWD_REPLY);
		}
		fwd_free(f);
	}

	f = mkfwd(&fk, NULL, one_up, 1);
	T_CASE("a still-looping upstream is re-probed after 5, 10, 20 ... s, at most every 300 s")
	{
		static const uint64_t want[] = {5000,	10000,	20000,	40000, 80000,
						160000, 320000, 620000, 920000};
		uint64_t got[16];
		int n = 0;

		T_EQ_INT(fwd_probe(f, 0), 1);
		T_EQ_INT(fwd_is_probe(f, fk.q + 12, 51, 0), 0);
		for (uint64_t t = 1000; t <= 1000000 && n < 16; t += 1000) {
			int before = fk.sends;
			T_EQ_INT(ask_from(f, &cl_a, "a.example.com", 1, t, &w, &out, &out_len),
				 FWD_REPLY);
			if (fk.sends == before)
				continue;
			got[n++] = t;
			/* It comes back: still a loop (no new transition). */
			T_EQ_INT(fwd_is_probe(f, fk.q + 12, 51, t), 0);
		}
		T_EQ_INT(n, (int)(sizeof(want) / sizeof(want[0])));
		for (int k = 0; k < n && k < (int)(sizeof(want) / sizeof(want[0])); k++)
			T_ASSERT(got[k] == want[k], "probe %d at %llu, want %llu", k,
				 (unsigned long long)got[k], (unsigned long long)want[k]);
		T_EQ_INT(fk.transitions, 1);
	}
	fwd_free(f);
}

/* core/fwd_clients on its own: counts by address, entries freed with their
 * last reference and reused, a pool of n never exhausted by n references
 * (even all from different clients, all in one bucket). */
static void test_clients_table(void)
{
	struct fwd_clients c;
	struct glued_addr a[4] = {cl_a, cl_a, cl_a, cl_a};
	uint32_t e[4], again;

	a[1].b[3] = 2;
	a[2].family = AF_INET6; /* same bytes as a[0], another family */
	a[3].b[3] = 3;
	T_CASE("client table: counts per address, freed with the last reference, reused")
	{
		T_EQ_INT(fwd_clients_init(&c, 4), 0);
		/* Every address under one hash: the chains must still tell them apart. */
		for (int i = 0; i < 4; i++)
			e[i] = fwd_clients_ref(&c, &a[i], 7);
		T_ASSERT(e[0] != e[1] && e[0] != e[2] && e[1] != e[2] && e[2] != e[3],
			 "four clients, four entries");
		for (int i = 0; i < 4; i++)
			T_EQ_INT(fwd_clients_waiting(&c, &a[i], 7), 1);
		fwd_clients_unref(&c, e[1]);
		T_EQ_INT(fwd_clients_waiting(&c, &a[1], 7), 0);
		T_EQ_INT(fwd_clients_waiting(&c, &a[0], 7), 1);
		again = fwd_clients_ref(&c, &a[0], 7);
		T_EQ_INT(again, e[0]);
		T_EQ_INT(fwd_clients_waiting(&c, &a[0], 7), 2);
		/* The freed entry serves a newcomer. */
		T_EQ_INT(fwd_clients_ref(&c, &a[1], 9), e[1]);
		T_EQ_INT(fwd_clients_waiting(&c, &a[1], 9), 1);
		T_EQ_INT(fwd_clients_waiting(&c, &a[1], 7), 0); /* another hash, another bucket */
		fwd_clients_fini(&c);
	}
}

int main(void)
{
	test_matching();
	test_upstream_query();
	test_coalescing();
	test_cache();
	test_lru();
	test_truncation();
	test_failover();
	test_tcp_retry();
	test_self();
	test_probe();
	test_pool_exhaustion();
	test_keyed_hash();
	test_negative_cap();
	test_client_cap();
	test_reprobe();
	test_clients_table();
	return t_summary();
}
