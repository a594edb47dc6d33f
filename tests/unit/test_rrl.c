/* Unit tests of response rate limiting (core/rrl.h): the rate and its
 * burst, slip every Nth limited response, prefixes aggregating sources,
 * time going forward (and back), the bounded table and its eviction, and
 * the slip form of a response. Time is passed in: nothing here sleeps. */
#include "core/dns_answer.h"
#include "core/rrl.h"
#include "t.h"

static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static struct glued_addr A(const char *s) {
	struct glued_addr a;

	if (addr_parse(&a, s) != 0)
		abort();
	return a;
}

/* Verdicts for n responses to src at now_ms, counted by kind. */
static void
burst(struct rrl *r, const char *src, uint64_t now_ms, unsigned n, unsigned out[3])
{
	struct glued_addr a = A(src);

	out[0] = out[1] = out[2] = 0;
	for (unsigned i = 0; i < n; i++)
		out[rrl_account(r, &a, now_ms)]++;
}

int main(void)
{
	struct rrl_cfg cfg = {.rate = 10, .slip = 2, .prefix4 = 24, .prefix6 = 56, .slots = 64};
	unsigned v[3];
	struct rrl *r;

	T_CASE("a quiet prefix has `rate` responses banked, then every 2nd limited one slips")
	{
		r = rrl_new(&cfg, key);
		burst(r, "192.0.2.1", 1000, 30, v);
		T_EQ_INT(v[RRL_SEND], 10);
		T_EQ_INT(v[RRL_SLIP], 10);
		T_EQ_INT(v[RRL_DROP], 10);
		rrl_free(r);
	}
	T_CASE("the rate refills the bucket: one response per 1/rate s, a full second banks `rate`")
	{
		r = rrl_new(&cfg, key);
		burst(r, "192.0.2.1", 1000, 10, v);
		T_EQ_INT(v[RRL_SEND], 10);
		burst(r, "192.0.2.1", 1000, 1, v);
		T_EQ_INT(v[RRL_SEND], 0);
		burst(r, "192.0.2.1", 1100, 2, v); /* 100 ms: one more */
		T_EQ_INT(v[RRL_SEND], 1);
		burst(r, "192.0.2.1", 1200, 1, v);
		T_EQ_INT(v[RRL_SEND], 1);
		burst(r, "192.0.2.1", 60000, 50, v); /* long quiet: `rate`, not more */
		T_EQ_INT(v[RRL_SEND], 10);
		rrl_free(r);
	}
	T_CASE("a steady rate at the limit is never limited, 2x the limit half of the time")
	{
		struct glued_addr a = A("192.0.2.7");
		unsigned sent = 0;

		r = rrl_new(&cfg, key);
		for (uint64_t t = 0; t < 10000; t += 100)
			sent += rrl_account(r, &a, t) == RRL_SEND;
		T_EQ_INT(sent, 100);
		sent = 0;
		for (uint64_t t = 20000; t < 30000; t += 50)
			sent += rrl_account(r, &a, t) == RRL_SEND;
		T_ASSERT(sent >= 100 && sent <= 111, "10 s at 20/s: 100 plus the banked 10, got %u",
			 sent);
		rrl_free(r);
	}
	T_CASE("sources in one /24 (and one IPv6 /56) share a bucket; the next prefix does not")
	{
		r = rrl_new(&cfg, key);
		burst(r, "192.0.2.1", 1000, 5, v);
		burst(r, "192.0.2.200", 1000, 10, v);
		T_EQ_INT(v[RRL_SEND], 5);
		burst(r, "192.0.3.1", 1000, 10, v);
		T_EQ_INT(v[RRL_SEND], 10);
		burst(r, "2001:db8:0:100::1", 1000, 6, v);
		burst(r, "2001:db8:0:1ff:ffff::9", 1000, 10, v);
		T_EQ_INT(v[RRL_SEND], 4);
		burst(r, "2001:db8:0:200::1", 1000, 10, v);
		T_EQ_INT(v[RRL_SEND], 10);
		rrl_free(r);
	}
	T_CASE("slip 1 slips every limited response, slip 0 none, slip 3 every third")
	{
		/* {slip, queries in the burst, slipped, dropped} */
		static const struct {
			uint32_t slip;
			unsigned n, slipped, dropped;
		} rows[] = {{1, 20, 10, 0}, {0, 20, 0, 10}, {3, 19, 3, 6}};
		struct rrl_cfg c = cfg;

		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			c.slip = rows[i].slip;
			r = rrl_new(&c, key);
			burst(r, "198.51.100.1", 0, rows[i].n, v);
			T_EQ_INT(v[RRL_SLIP], rows[i].slipped);
			T_EQ_INT(v[RRL_DROP], rows[i].dropped);
			rrl_free(r);
		}
	}
	T_CASE("rate 0 is off: everything is sent")
	{
		struct rrl_cfg c = cfg;

		c.rate = 0;
		r = rrl_new(&c, key);
		burst(r, "198.51.100.1", 0, 1000, v);
		T_EQ_INT(v[RRL_SEND], 1000);
		rrl_free(r);
	}
	T_CASE("time going back counts as no time passed; going forward refills")
	{
		r = rrl_new(&cfg, key);
		burst(r, "203.0.113.5", 50000, 10, v);
		burst(r, "203.0.113.5", 10000, 5, v); /* the clock "went back" 40 s */
		T_EQ_INT(v[RRL_SEND], 0);
		burst(r, "203.0.113.5", 50500, 10, v);
		T_EQ_INT(v[RRL_SEND], 5);
		rrl_free(r);
	}
	T_CASE("the table is bounded: a flood of prefixes evicts, a victim active in its set stays")
	{
		struct glued_addr victim = A("10.9.9.9");
		char s[32];
		unsigned sent = 0;

		r = rrl_new(&cfg, key); /* 64 buckets */
		for (unsigned i = 0; i < 10; i++)
			(void)rrl_account(r, &victim, 1000);
		/* 1000 other prefixes, the victim asking between them. */
		for (unsigned i = 0; i < 1000; i++) {
			struct glued_addr a;

			snprintf(s, sizeof(s), "172.%u.%u.1", 16 + i / 256, i % 256);
			a = A(s);
			(void)rrl_account(r, &a, 1000);
			if (i % 8 == 0)
				sent += rrl_account(r, &victim, 1000) == RRL_SEND;
		}
		T_ASSERT(rrl_evictions(r) > 900, "evictions %llu",
			 (unsigned long long)rrl_evictions(r));
		T_ASSERT(sent <= 10, "the victim's bucket kept (got %u more in the flood)", sent);
		rrl_free(r);
	}
	T_CASE("a bad configuration is refused")
	{
		struct rrl_cfg c = cfg;

		c.slots = 48;
		T_ASSERT(rrl_new(&c, key) == NULL, "slots not a power of two");
		c = cfg;
		c.prefix4 = 33;
		T_ASSERT(rrl_new(&c, key) == NULL, "prefix4 33");
		c = cfg;
		c.rate = RRL_RATE_MAX + 1;
		T_ASSERT(rrl_new(&c, key) == NULL, "rate too high");
	}
	T_CASE("the slip form: header with TC, question, OPT kept; answers gone")
	{
		/* web A, EDNS: an answer with one A record and an OPT. */
		static const uint8_t resp[] = {
		    0x12, 0x34, 0x85, 0x80, 0,	  1, 0, 1, 0, 0, 0, 1,		    /* header */
		    3,	  'W',	'e',  'b',  0,	  0, 1, 0, 1,			    /* question */
		    0xc0, 0x0c, 0,    1,    0,	  1, 0, 0, 0, 5, 0, 4, 10, 0, 0, 2, /* A */
		    0,	  0,	0x29, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};		    /* OPT */
		static const uint8_t want[] = {0x12, 0x34, 0x87, 0x80, 0,   1, 0, 0, 0, 0, 0,
					       1,    3,	   'W',	 'e',  'b', 0, 0, 1, 0, 1, 0,
					       0,    0x29, 0x04, 0xd0, 0,   0, 0, 0, 0, 0};
		uint8_t m[sizeof(resp)];
		size_t n;

		memcpy(m, resp, sizeof(m));
		n = rrl_slip(m, sizeof(m));
		T_EQ_INT(n, sizeof(want));
		T_EQ_MEM(m, want, sizeof(want));
		/* Without the OPT: header and question only. */
		memcpy(m, resp, sizeof(m));
		m[11] = 0;
		n = rrl_slip(m, sizeof(resp) - 11);
		T_EQ_INT(n, 21);
		T_EQ_INT(m[11], 0);
		T_EQ_INT(m[2] & 0x02, 0x02);
	}
	T_CASE("the slip form of broken bytes: nothing (0), never a read past the end")
	{
		uint8_t m[16] = {0, 0, 0x80, 0, 0, 2};
		uint8_t cut[14] = {0, 0, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 'a'};

		T_EQ_INT(rrl_slip(m, 11), 0);		 /* no header */
		T_EQ_INT(rrl_slip(m, sizeof(m)), 0);	 /* QDCOUNT 2 */
		T_EQ_INT(rrl_slip(cut, sizeof(cut)), 0); /* the question runs off */
	}
	T_CASE("the slip form of dns_answer()'s own reply is no larger than the query")
	{
		static const uint8_t query[] = {0xab, 0xcd, 0x01, 0x00, 0,   1, 0, 0, 0, 0, 0,
						1,    3,    'w',  'e',	'b', 0, 0, 1, 0, 1, 0,
						0,    0x29, 0x10, 0,	0,   0, 0, 0, 0, 0};
		struct dns_answer_cfg acfg = {.ttl_s = 5};
		struct dns_answer_stats st = {0};
		struct table *t = table_new();
		static struct table_entry e;
		struct dns_query q;
		uint8_t out[1232];
		size_t len = 0, n;

		T_ASSERT(t != NULL, "table");
		strcpy(e.owner, "c1");
		e.n_names = 1;
		strcpy(e.names[0], "web");
		e.n_addrs = 8;
		for (unsigned i = 0; i < 8; i++) {
			char s[16];

			snprintf(s, sizeof(s), "10.0.0.%u", i + 1);
			e.addrs[i] = A(s);
		}
		T_ASSERT(table_put(t, &e) == 0, "put");
		T_EQ_INT(dns_answer(&acfg, t, query, sizeof(query), 0, 0, &q, out, sizeof(out),
				    &len, &st),
			 DNS_ACT_REPLY);
		T_ASSERT(len > sizeof(query), "the answer amplifies (%zu > %zu)", len,
			 sizeof(query));
		n = rrl_slip(out, len);
		T_EQ_INT(n, sizeof(query));
		T_EQ_INT(out[2] & 0x02, 0x02);
		table_free(t);
	}
	return t_summary();
}
