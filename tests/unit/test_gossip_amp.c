/* Amplification: the per-address budget and cookie validation
 * (core/gossip_amp.h), then the core under the attack of issue 11: a member
 * sends one datagram (a full-sync request and a summary) with a victim's
 * address as its source to a node holding 200 records. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/crypto.h"
#include "core/gossip.h"
#include "core/gossip_amp.h"
#include "core/gossip_wire.h"
#include "core/table.h"
#include "t.h"
#include "trng.h"

static struct glued_endpoint ep(uint8_t last, uint16_t port)
{
	struct glued_endpoint e = {.addr = {.family = AF_INET, .b = {10, 0, 0, last}},
				   .port = port};

	return e;
}

static void test_budget(void)
{
	static const uint8_t key[GOSSIP_AMP_KEY_LEN] = {7};
	struct gossip_amp a;
	struct glued_endpoint v = ep(9, 7947), w = ep(9, 7948);
	uint32_t c;

	T_EQ_INT(gossip_amp_init(&a, key), 0);
	T_CASE("an address never heard from gets nothing; one heard from gets 3x")
	{
		T_EQ_INT(gossip_amp_may_send(&a, &v, 1), 0);
		gossip_amp_rx(&a, &v, 100);
		T_EQ_INT(gossip_amp_may_send(&a, &v, 200), 1);
		T_EQ_INT(gossip_amp_may_send(&a, &v, 100), 1);
		T_EQ_INT(gossip_amp_may_send(&a, &v, 1), 0); /* 300 of 300 spent */
		T_EQ_INT(a.st.limited_dgrams, 2);
		gossip_amp_rx(&a, &v, 10);
		T_EQ_INT(gossip_amp_may_send(&a, &v, 30), 1);
	}
	T_CASE("the port is part of the address")
	{
		T_EQ_INT(gossip_amp_may_send(&a, &w, 1), 0);
		T_EQ_INT(gossip_amp_validated(&a, &w), 0);
	}
	T_CASE("a cookie echoed from its address proves it; elsewhere, or wrong, it does not")
	{
		c = gossip_amp_cookie(&a, &v, 5000);
		T_ASSERT(c != 0, "cookie 0");
		T_ASSERT(c != gossip_amp_cookie(&a, &w, 5000), "cookies of two addresses equal");
		T_EQ_INT(gossip_amp_echo(&a, &w, c, 5000), 0);
		T_EQ_INT(gossip_amp_echo(&a, &v, c ^ 1, 5000), 0);
		T_EQ_INT(gossip_amp_validated(&a, &v), 0);
		T_EQ_INT(gossip_amp_echo(&a, &v, c, 5000 + GOSSIP_COOKIE_PERIOD_MS), 1);
		T_EQ_INT(gossip_amp_validated(&a, &v), 1);
		T_EQ_INT(gossip_amp_may_send(&a, &v, 100000), 1);
		T_EQ_INT(a.st.validated, 1);
	}
	T_CASE("a cookie expires after two periods; another key makes other cookies")
	{
		struct gossip_amp b;
		static const uint8_t key2[GOSSIP_AMP_KEY_LEN] = {8};

		c = gossip_amp_cookie(&a, &w, 5000);
		T_EQ_INT(gossip_amp_echo(&a, &w, c, 5000 + 2 * GOSSIP_COOKIE_PERIOD_MS), 0);
		T_EQ_INT(gossip_amp_init(&b, key2), 0);
		T_ASSERT(c != gossip_amp_cookie(&b, &w, 5000), "two keys, one cookie");
		gossip_amp_fini(&b);
	}
	T_CASE(
	    "challenges: once a second to an unheard address, none to a proven one, within budget")
	{
		struct glued_endpoint u = ep(77, 1);

		T_EQ_INT(gossip_amp_challenge_due(&a, &w, 10000, 150, false), 1); /* never heard */
		T_EQ_INT(gossip_amp_challenge_due(&a, &w, 10500, 150, false), 0);
		T_EQ_INT(gossip_amp_challenge_due(&a, &w, 11000, 150, false), 1);
		T_EQ_INT(gossip_amp_challenge_due(&a, &v, 11000, 150, false), 0);
		gossip_amp_rx(&a, &u, 100);
		T_EQ_INT(gossip_amp_may_send(&a, &u, 250), 1);
		T_EQ_INT(gossip_amp_challenge_due(&a, &u, 12000, 150, false),
			 0); /* 250 + 150 > 300 */
		gossip_amp_rx(&a, &u, 100);
		T_EQ_INT(gossip_amp_challenge_due(&a, &u, 12000, 150, false),
			 1); /* not recorded before */
	}
	T_CASE("own-initiative challenges: charged while they fit, then free every 4, 8, ... 64 s")
	{
		struct glued_endpoint s = ep(78, 1);
		uint64_t t = 20000;

		/* on the wire: + 28 bytes of IPv4 and UDP headers a datagram */
		gossip_amp_rx(&a, &s, 200); /* budget 3 x 228 = 684 */
		T_EQ_INT(gossip_amp_challenge_due(&a, &s, t, 0, false), 1); /* charged 328 */
		T_EQ_INT(gossip_amp_may_send(&a, &s, 329), 0);		    /* 356 left */
		T_EQ_INT(gossip_amp_challenge_due(&a, &s, t + 1000, 0, false),
			 1); /* charged: 28 left */
		T_EQ_INT(gossip_amp_may_send(&a, &s, 1), 0);
		T_EQ_INT(a.st.free_challenges, 0);
		/* over the budget: the next free one 4 s after the last, then 8, 16, 32, 64, 64 */
		t += 1000;
		for (unsigned k = 0, gap = 4000; k < 6; k++, gap = gap < 64000 ? 2 * gap : gap) {
			T_EQ_INT(gossip_amp_challenge_due(&a, &s, t + gap - 1, 0, false), 0);
			T_EQ_INT(gossip_amp_challenge_due(&a, &s, t + gap, 0, false), 1);
			t += gap;
		}
		T_EQ_INT(a.st.free_challenges, 6);
		/* a provoked one never goes over the budget */
		T_EQ_INT(gossip_amp_challenge_due(&a, &s, t + 100000, 150, false), 0);
		gossip_amp_rx(&a, &s, 50);
		T_EQ_INT(gossip_amp_challenge_due(&a, &s, t + 100000, 150, false), 1);
	}
	T_CASE("a refused request's challenge: one per request, charged, no 250 ms gap")
	{
		struct glued_endpoint r = ep(80, 1);
		uint64_t t = 40000, free0 = a.st.free_challenges;

		/* the caller charges a provoked challenge (gsp_dg_close) */
		gossip_amp_rx(&a, &r, 150); /* 3 x 178 = 534: three of 150 (+ 28) */
		T_EQ_INT(gossip_amp_challenge_due(&a, &r, t, 150, false), 1);
		T_EQ_INT(gossip_amp_may_send(&a, &r, 150), 1);
		T_EQ_INT(gossip_amp_challenge_due(&a, &r, t, 150, true), 0); /* same datagram */
		T_EQ_INT(gossip_amp_challenge_due(&a, &r, t + 20, 150, false), 0);
		T_EQ_INT(gossip_amp_challenge_due(&a, &r, t + 20, 150, true), 1);
		T_EQ_INT(gossip_amp_may_send(&a, &r, 150), 1);
		T_EQ_INT(gossip_amp_challenge_due(&a, &r, t + 40, 150, true), 1);
		T_EQ_INT(gossip_amp_may_send(&a, &r, 150), 1);
		T_EQ_INT(gossip_amp_challenge_due(&a, &r, t + 60, 150, true), 0); /* spent */
		T_EQ_INT(a.st.free_challenges - free0, 0);
	}
	T_CASE("waiting for an answer from there: free challenges after 250, 250, 500 ms, then "
	       "every second, no backoff")
	{
		static const uint64_t at[] = {0, 250, 500, 1000, 2000, 3000, 4000};
		struct glued_endpoint s = ep(79, 1), u = ep(81, 1);
		uint64_t t = 30000, free0 = a.st.free_challenges;

		gossip_amp_rx(&a, &s, 10); /* 3 x 38 = 114: no challenge fits */
		for (size_t k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
			if (k)
				T_EQ_INT(gossip_amp_challenge_due(&a, &s, t + at[k] - 1, 0, true),
					 0);
			T_EQ_INT(gossip_amp_challenge_due(&a, &s, t + at[k], 0, true), 1);
		}
		/* without the wait, the backoff counted from the free ones sent */
		T_EQ_INT(gossip_amp_challenge_due(&a, &s, t + 5000, 0, false), 0);
		T_EQ_INT(a.st.free_challenges - free0, 7);
		/* an address nothing came from: the same, uncounted (not over a budget) */
		for (size_t k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
			if (k)
				T_EQ_INT(gossip_amp_challenge_due(&a, &u, t + at[k] - 1, 0, true),
					 0);
			T_EQ_INT(gossip_amp_challenge_due(&a, &u, t + at[k], 0, true), 1);
		}
		T_EQ_INT(gossip_amp_challenge_due(&a, &u, t + 4500, 0, false), 0);
		T_EQ_INT(gossip_amp_challenge_due(&a, &u, t + 5000, 0, false),
			 1); /* unheard: 1 s */
		T_EQ_INT(a.st.free_challenges - free0, 7);
	}
	gossip_amp_fini(&a);
}

/* --- the core under attack ---------------------------------------------- */

struct node {
	struct table *t;
	struct gossip *g;
	uint8_t id[GOSSIP_ID_LEN], sk[CRYPTO_SK_LEN];
	uint32_t rng;
};

static void sign(void *ctx, uint8_t sig[64], const uint8_t *msg, size_t len)
{
	const struct node *x = ctx;

	crypto_sign_stmt(sig, msg, len, x->sk);
}

static void node_start(struct node *x, uint8_t seed_byte, const struct glued_endpoint *self)
{
	uint8_t seed[32];
	struct gossip_cfg cfg = {0};

	memset(seed, seed_byte, sizeof(seed));
	crypto_sign_seed_keypair(x->id, x->sk, seed);
	x->t = table_new();
	memcpy(cfg.self_id, x->id, GOSSIP_ID_LEN);
	cfg.self_addr = *self;
	cfg.epoch = 1;
	x->rng = 0x9e3779b9u ^ seed_byte;
	cfg.signer = (struct gossip_signer){sign, x};
	x->g = gossip_new(&cfg, x->t, (struct glued_rng){t_xorshift32, &x->rng});
	T_ASSERT(x->g && !table_observe_entries(x->t, gossip_on_table_entry, x->g), "start");
}

/* Every datagram g sends now; bytes (sealed) to `to`, and the sequence of
 * the last PING to it. With *cookie set, datagrams holding a PING with that
 * sequence (challenges) are counted in *challenges, not in the result. */
static size_t drain(struct gossip *g, const struct glued_endpoint *to, size_t *dgrams,
		    uint32_t *ping_seq, const uint32_t *cookie, size_t *challenges)
{
	static struct gossip_out out[16];
	size_t n, bytes = 0;

	*dgrams = 0;
	while ((n = gossip_poll_send(g, out, 16)) > 0)
		for (size_t i = 0; i < n; i++) {
			struct gw_hdr h;
			struct gw_iter it;
			struct gw_msg m;
			size_t unknown;

			bool is_challenge = false;

			if (out[i].to.port != to->port || !addr_eq(&out[i].to.addr, &to->addr))
				continue;
			++*dgrams;
			if (gw_check(out[i].buf, out[i].len, &h, &unknown))
				continue;
			gw_iter_init(&it, out[i].buf, out[i].len);
			while (gw_iter_next(&it, &m))
				if (getenv("AMP_DEBUG"))
					fprintf(stderr, "dgram %zu type %d\n", out[i].len, m.type);
			gw_iter_init(&it, out[i].buf, out[i].len);
			while (gw_iter_next(&it, &m))
				if (m.type == GW_PING) {
					*ping_seq = m.u.probe.seq;
					is_challenge |= cookie && m.u.probe.seq == *cookie;
				}
			if (is_challenge)
				++*challenges;
			else
				bytes += out[i].len + GOSSIP_SEAL_OVERHEAD;
		}
	return bytes;
}

/* The datagram of issue 11: a full-sync request and a summary of nothing. */
static size_t attack(uint8_t *buf, uint64_t epoch)
{
	struct wire_out w = wire_out_init(buf, GOSSIP_DGRAM_MAX);
	struct gw_hdr h = {.epoch = epoch, .incarnation = 0, .head = 0};
	uint64_t zero[GW_BUCKETS] = {0};

	gw_put_hdr(&w, &h);
	gw_put_sync_req(&w, 1, 1, 0, 0, GW_SYNC_FULL);
	gw_put_summary(&w, 0, 1, zero);
	return wire_out_len(&w);
}

/* long_run: follow the spoofed request with 30 s of the core's timers
 * (else 2 s, then the proven case). */
static void test_core(bool long_run)
{
	struct glued_endpoint a_ep = ep(1, 7947), victim = ep(66, 7947);
	struct node a = {0}, x = {0};
	uint8_t buf[GOSSIP_DGRAM_MAX];
	size_t len, in, got, dgrams;
	uint32_t cookie = 0;
	uint64_t now = 1000;
	struct gossip_stats st;

	node_start(&a, 0x21, &a_ep);
	node_start(&x, 0x42, &victim);
	for (int i = 0; i < 200; i++) {
		struct table_entry e = {0};

		snprintf(e.owner, sizeof(e.owner), "owner-%03d-%040d", i, i);
		e.n_names = 1;
		snprintf(e.names[0], sizeof(e.names[0]), "service-%03d", i);
		e.n_addrs = 1;
		e.addrs[0] = (struct glued_addr){.family = AF_INET, .b = {172, 18, 0, (uint8_t)i}};
		T_EQ_INT(table_put(a.t, &e), 0);
	}
	gossip_tick(a.g, now);
	(void)drain(a.g, &victim, &dgrams, &cookie, NULL, NULL);

	T_CASE(long_run
		   ? "issue 11's spoofed request: 30 s of timers after it stay within 3x + two "
		     "free challenges"
		   : "issue 11: a spoofed full-sync request plus summary yields at most 3x to the "
		     "victim, 2 s of timers included")
	{
		len = attack(buf, 1);
		in = len + GOSSIP_SEAL_OVERHEAD;
		T_EQ_INT(gossip_recv(a.g, now, &victim, x.id, buf, len), 0);
		/* the answer: the only PING in it is the challenge (charged) */
		got = drain(a.g, &victim, &dgrams, &cookie, NULL, NULL);
		printf("# attack: %zu bytes in, answer %zu bytes in %zu datagrams (%.2fx)\n", in,
		       got, dgrams, (double)got / (double)in);
		T_ASSERT(got <= GOSSIP_AMP_FACTOR * in, "answer: %zu bytes for %zu in", got, in);
		T_ASSERT(cookie != 0, "no challenge PING to the source");
		/* then the core's timers (it has a member at the victim's address
		 * now): what it sends there is charged to the same budget, its own
		 * challenges once they no longer fit are free but back off (4 s,
		 * then 8, ...): nothing more within 2 s, at most two more in 30 s */
		size_t challenges = 0, all = got, all2 = 0, ch2 = 0;
		for (int t = 0; t < (long_run ? 300 : 20); t++) {
			size_t d2;
			uint32_t probe_seq;

			now += 100;
			gossip_tick(a.g, now);
			got += drain(a.g, &victim, &d2, &probe_seq, &cookie, &challenges);
			dgrams += d2;
			if (t == 19) {
				all2 = got + challenges * GOSSIP_AMP_CHALLENGE_BYTES;
				ch2 = challenges;
			}
		}
		all = got + challenges * GOSSIP_AMP_CHALLENGE_BYTES;
		printf("# 2 s later: at most %zu bytes in all (%.2fx), %zu free challenges", all2,
		       (double)all2 / (double)in, ch2);
		if (long_run)
			printf("; 30 s later: %zu bytes charged (%.2fx), %zu free challenges, %zu "
			       "datagrams, at most %zu bytes in all (%.2fx)",
			       got, (double)got / (double)in, challenges, dgrams, all,
			       (double)all / (double)in);
		printf("\n");
		T_ASSERT(all2 <= GOSSIP_AMP_FACTOR * in, "2 s: %zu bytes for %zu in", all2, in);
		T_ASSERT(got <= GOSSIP_AMP_FACTOR * in, "%zu bytes charged for %zu in", got, in);
		T_ASSERT(challenges <= 2, "%zu free challenges in 30 s", challenges);
		gossip_get_stats(a.g, &st);
		T_EQ_INT(st.syncs_served, 0);
		T_EQ_INT(st.syncs_unproven, 1);
		T_ASSERT(st.amp_limited > 0, "nothing limited: the summary answer fit?");
	}

	if (!long_run)
		T_CASE("the same request from an address that echoed the cookie is served in full")
		{
			struct wire_out w = wire_out_init(buf, GOSSIP_DGRAM_MAX);
			struct gw_hdr h = {.epoch = 1};

			gw_put_hdr(&w, &h);
			gw_put_probe(&w, GW_ACK, cookie, x.id, NULL);
			T_EQ_INT(gossip_recv(a.g, now, &victim, x.id, buf, wire_out_len(&w)), 0);
			gossip_get_stats(a.g, &st);
			T_EQ_INT(st.amp_validated, 1);
			len = attack(buf, 1);
			T_EQ_INT(gossip_recv(a.g, now, &victim, x.id, buf, len), 0);
			got = drain(a.g, &victim, &dgrams, &cookie, NULL, NULL);
			printf("# proven: %zu bytes in %zu datagrams\n", got, dgrams);
			gossip_get_stats(a.g, &st);
			T_EQ_INT(st.syncs_served, 1);
			T_ASSERT(got > 10 * (len + GOSSIP_SEAL_OVERHEAD), "only %zu bytes served",
				 got);
		}
	gossip_free(a.g);
	gossip_free(x.g);
	table_free(a.t);
	table_free(x.t);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_budget();
	test_core(false);
	test_core(true);
	return t_summary();
}
