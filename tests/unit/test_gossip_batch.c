/* Batches on the wire (docs/protocol.md, "Signed statements", version 3):
 * a DELTA carries one statement and any records of its batch, each with
 * its Merkle path. A receiver applies all of them or none, verifies the
 * statement once, and spends nothing on copies it already holds; a sender
 * puts the records of one statement in one DELTA per datagram.
 *
 * The receiver is a real core; the origins are key pairs, their batches
 * built here from the specification (leaf = BLAKE2b-128('L' || record),
 * node = BLAKE2b-128('N' || left || right), an odd last node promoted), so
 * the core's tree is checked against an independent one.
 */
#include <sodium.h>
#include <stdio.h>
#include <sys/socket.h>

#include "core/crypto.h"
#include "core/gossip.h"
#include "core/gossip_wire.h"
#include "core/table.h"
#include "t.h"

#define BMAX 8

struct peer {
	uint8_t id[GOSSIP_ID_LEN];
	uint8_t sk[CRYPTO_SK_LEN];
	struct glued_endpoint ep;
};

/* One signed batch of n records of an origin. */
struct batch {
	size_t n;
	uint8_t rec[BMAX][128];
	size_t rec_len[BMAX];
	uint8_t path[BMAX][GW_PATH_MAX][GW_HASH_LEN];
	uint8_t n_path[BMAX];
	uint8_t stmt_raw[GW_STMT_LEN];
};

static struct peer px, py, pr;
static uint64_t now = 1000;

static uint32_t rng_next(void *ctx)
{
	uint32_t *s = ctx;

	*s = *s * 1103515245u + 12345u;
	return *s;
}

static void sign(void *ctx, uint8_t sig[64], const uint8_t *msg, size_t len)
{
	const struct peer *p = ctx;

	crypto_sign_stmt(sig, msg, len, p->sk);
}

static void peer_init(struct peer *p, uint8_t seed_byte, uint8_t last)
{
	uint8_t seed[32];

	memset(seed, seed_byte, sizeof(seed));
	crypto_sign_seed_keypair(p->id, p->sk, seed);
	memset(&p->ep, 0, sizeof(p->ep));
	p->ep.addr.family = AF_INET;
	p->ep.addr.b[0] = 10;
	p->ep.addr.b[3] = last;
	p->ep.port = 7947;
}

static struct gossip *core_new(struct table **t, struct peer *self, uint32_t *seed)
{
	struct gossip_cfg cfg = {0};
	struct gossip *g;

	*t = table_new();
	memcpy(cfg.self_id, self->id, GOSSIP_ID_LEN);
	cfg.self_addr = self->ep;
	cfg.epoch = 1;
	cfg.signer = (struct gossip_signer){sign, self};
	g = gossip_new(&cfg, *t, (struct glued_rng){rng_next, seed});
	if (!g || table_observe_entries(*t, gossip_on_table_entry, g))
		abort();
	return g;
}

static void entry_of(struct table_entry *e, const char *tag, size_t i)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->owner, sizeof(e->owner), "%s-owner-%zu", tag, i);
	e->n_names = 1;
	snprintf(e->names[0], sizeof(e->names[0]), "%s%zu", tag, i);
	e->n_addrs = 1;
	e->addrs[0].family = AF_INET;
	e->addrs[0].b[0] = 172;
	e->addrs[0].b[3] = (uint8_t)(i + 1);
}

/* Records prev+1..prev+n of origin p (names tag0, tag1, ...), signed. */
static void batch_make(struct batch *b, const struct peer *p, uint64_t prev, size_t n,
		       const char *tag)
{
	uint8_t lv[GW_PATH_MAX + 1][BMAX][GW_HASH_LEN], msg[GW_STMT_MSG_LEN];
	size_t width[GW_PATH_MAX + 1], levels = 1;
	struct wire_out sw = wire_out_init(b->stmt_raw, GW_STMT_LEN);
	struct table_entry e;
	struct gw_stmt st;

	b->n = n;
	for (size_t i = 0; i < n; i++) {
		struct wire_out w = wire_out_init(b->rec[i], sizeof(b->rec[i]));

		entry_of(&e, tag, i);
		gw_put_record(&w, prev + 1 + i, e.owner, &e);
		b->rec_len[i] = wire_out_len(&w);
		crypto_hash16(lv[0][i], 'L', b->rec[i], b->rec_len[i], NULL, 0);
	}
	width[0] = n;
	for (; width[levels - 1] > 1; levels++) {
		size_t w = width[levels - 1];

		for (size_t i = 0; i < w; i += 2)
			if (i + 1 < w)
				crypto_hash16(lv[levels][i / 2], 'N', lv[levels - 1][i],
					      GW_HASH_LEN, lv[levels - 1][i + 1], GW_HASH_LEN);
			else
				memcpy(lv[levels][i / 2], lv[levels - 1][i], GW_HASH_LEN);
		width[levels] = (w + 1) / 2;
	}
	for (size_t i = 0; i < n; i++) {
		size_t k = i;

		b->n_path[i] = 0;
		for (size_t l = 0; l + 1 < levels; l++, k /= 2)
			if ((k ^ 1) < width[l])
				memcpy(b->path[i][b->n_path[i]++], lv[l][k ^ 1], GW_HASH_LEN);
	}
	memset(&st, 0, sizeof(st));
	memcpy(st.id, p->id, GOSSIP_ID_LEN);
	st.epoch = 1;
	st.addr = p->ep;
	st.prev = prev;
	st.head = prev + n;
	memcpy(st.root, lv[levels - 1][0], GW_HASH_LEN);
	crypto_sign_stmt(st.sig, msg, gw_stmt_signed_msg(&st, msg), p->sk);
	gw_put_stmt(&sw, &st);
}

/* A datagram from `from` (header: epoch 1, head 0) holding one DELTA with
 * stmt_raw and the records recs[] of b, each with the path of paths[]. */
static size_t delta_dgram(uint8_t *buf, const uint8_t *stmt_raw, const struct batch *b,
			  const int *recs, const int *paths, size_t k)
{
	struct wire_out w = wire_out_init(buf, GOSSIP_DGRAM_MAX);
	struct gw_hdr h = {.epoch = 1, .incarnation = 0, .head = 0};
	size_t off;

	gw_put_hdr(&w, &h);
	off = gw_delta_begin(&w, stmt_raw);
	for (size_t i = 0; i < k; i++)
		gw_put_delta_item(&w, &b->path[paths[i]][0][0], b->n_path[paths[i]],
				  b->rec[recs[i]], b->rec_len[recs[i]]);
	gw_delta_end(&w, off, (uint8_t)k);
	return w.err ? 0 : wire_out_len(&w);
}

/* Make p a live member of g: its own datagram (a PING), proven by the
 * envelope. */
static void meet(struct gossip *g, const struct peer *p)
{
	uint8_t buf[128];
	struct wire_out w = wire_out_init(buf, sizeof(buf));
	struct gw_hdr h = {.epoch = 1, .incarnation = 0, .head = 0};

	gw_put_hdr(&w, &h);
	gw_put_probe(&w, GW_PING, 1, NULL, NULL);
	T_EQ_INT(gossip_recv(g, now, &p->ep, p->id, buf, wire_out_len(&w)), 0);
}

static bool resolves(struct table *t, const char *name)
{
	struct table_answer a;

	return table_lookup(t, name, strlen(name), &a) && a.n_v4 > 0;
}

static const struct gossip_member_info *member(struct gossip *g, const struct peer *p)
{
	static struct gossip_member_info info[8];
	size_t n = gossip_members(g, info, 8);

	for (size_t i = 0; i < n && i < 8; i++)
		if (!memcmp(info[i].id, p->id, GOSSIP_ID_LEN))
			return &info[i];
	return NULL;
}

static struct gossip_stats stats(struct gossip *g)
{
	struct gossip_stats st;

	gossip_get_stats(g, &st);
	return st;
}

/* A receiver that knows x and y. */
static struct gossip *receiver(struct table **t, uint32_t *seed)
{
	struct gossip *g = core_new(t, &pr, seed);

	meet(g, &px);
	meet(g, &py);
	return g;
}

/* --- two real cores ------------------------------------------------------ */

/* DELTAs seen on the way between the two cores: messages, records, and
 * statements a datagram carried twice (a DELTA's and an ALIVE's). */
static size_t seen_deltas, seen_records, seen_max_count, seen_twice;
/* records under a statement of `relayed_of` that another node sent */
static const struct peer *relayed_of;
static size_t seen_relayed;

static void note_deltas(const struct peer *from, const uint8_t *buf, size_t len)
{
	const uint8_t *stmts[16];
	struct gw_hdr h;
	struct gw_iter it;
	struct gw_msg m;
	size_t unknown, n = 0;

	if (gw_check(buf, len, &h, &unknown))
		return;
	gw_iter_init(&it, buf, len);
	while (gw_iter_next(&it, &m)) {
		const uint8_t *raw = m.type == GW_DELTA	  ? m.u.delta.stmt_raw
				     : m.type == GW_ALIVE ? m.u.member.stmt_raw
							  : NULL;

		if (m.type == GW_DELTA) {
			seen_deltas++;
			seen_records += m.u.delta.count;
			if (m.u.delta.count > seen_max_count)
				seen_max_count = m.u.delta.count;
			if (relayed_of && from != relayed_of &&
			    !memcmp(m.u.delta.stmt.id, relayed_of->id, GOSSIP_ID_LEN))
				seen_relayed += m.u.delta.count;
		}
		for (size_t i = 0; raw && i < n; i++)
			seen_twice += !memcmp(stmts[i], raw, GW_STMT_LEN);
		if (raw && n < 16)
			stmts[n++] = raw;
	}
}

/* Deliver what a and b (peers pa, pb) send each other, ticking both, for
 * ms milliseconds. */
static void exchange(struct gossip *a, const struct peer *pa, struct gossip *b,
		     const struct peer *pb, uint64_t ms)
{
	static struct gossip_out out[32];
	uint64_t end = now + ms;

	for (; now <= end; now += 5) {
		for (int k = 0; k < 2; k++) {
			struct gossip *g = k ? b : a, *to = k ? a : b;
			const struct peer *from = k ? pb : pa;
			size_t n;

			gossip_tick(g, now);
			while ((n = gossip_poll_send(g, out, 32)))
				for (size_t i = 0; i < n; i++) {
					note_deltas(from, out[i].buf, out[i].len);
					if (out[i].to_id_known)
						(void)gossip_recv(to, now, &from->ep, from->id,
								  out[i].buf, out[i].len);
					else
						(void)gossip_recv_unverified(to, now, &from->ep,
									     from->id, out[i].buf,
									     out[i].len);
				}
		}
	}
}

int main(void)
{
	T_ASSERT(crypto_global_init() == 0, "libsodium");
	peer_init(&px, 0x21, 2);
	peer_init(&py, 0x32, 3);
	peer_init(&pr, 0x43, 1);

	T_CASE("a whole batch in one DELTA: every record applied, the statement verified once")
	{
		static struct batch b;
		uint8_t buf[GOSSIP_DGRAM_MAX];
		int idx[5] = {0, 1, 2, 3, 4};
		struct gossip_stats st0, st;
		struct table *t;
		uint32_t seed = 7;
		struct gossip *g = receiver(&t, &seed);
		size_t len;

		batch_make(&b, &px, 0, 5, "x");
		len = delta_dgram(buf, b.stmt_raw, &b, idx, idx, 5);
		T_ASSERT(len > 0, "fits");
		st0 = stats(g);
		T_EQ_INT(gossip_recv(g, now, &py.ep, py.id, buf, len), 0); /* relayed by y */
		st = stats(g);
		for (int i = 0; i < 5; i++) {
			char name[8];

			snprintf(name, sizeof(name), "x%d", i);
			T_ASSERT(resolves(t, name), "%s applied", name);
		}
		T_EQ_INT(st.stmts_verified - st0.stmts_verified, 1);
		T_EQ_INT(st.deltas_applied - st0.deltas_applied, 5);
		T_EQ_INT(member(g, &px)->head, 5);

		/* the same DELTA again: stale, no hash, no signature */
		st0 = st;
		T_EQ_INT(gossip_recv(g, now, &py.ep, py.id, buf, len), 0);
		st = stats(g);
		T_EQ_INT(st.stmts_verified, st0.stmts_verified);
		T_EQ_INT(st.stmts_cached, st0.stmts_cached);
		T_EQ_INT(st.deltas_stale - st0.deltas_stale, 5);
		gossip_free(g);
		table_free(t);
	}

	T_CASE("a DELTA with a record of its batch missing applies the rest and knows of the gap")
	{
		static struct batch b;
		uint8_t buf[GOSSIP_DGRAM_MAX];
		int some[2] = {0, 2}, rest[1] = {1};
		struct gossip_stats st0, st;
		struct table *t;
		uint32_t seed = 8;
		struct gossip *g = receiver(&t, &seed);
		size_t len;

		batch_make(&b, &px, 0, 3, "x");
		len = delta_dgram(buf, b.stmt_raw, &b, some, some, 2);
		T_EQ_INT(gossip_recv(g, now, &py.ep, py.id, buf, len), 0);
		T_ASSERT(resolves(t, "x0") && resolves(t, "x2"), "the records carried applied");
		T_ASSERT(!resolves(t, "x1"), "the missing one is not invented");
		T_EQ_INT(member(g, &px)->head, 1);
		T_EQ_INT(member(g, &px)->known_head, 3); /* the gap: a sync will ask for it */

		/* the missing record arrives alone: its statement is known verified */
		st0 = stats(g);
		len = delta_dgram(buf, b.stmt_raw, &b, rest, rest, 1);
		T_EQ_INT(gossip_recv(g, now, &py.ep, py.id, buf, len), 0);
		st = stats(g);
		T_ASSERT(resolves(t, "x1"), "applied");
		T_EQ_INT(member(g, &px)->head, 3);
		T_EQ_INT(st.stmts_verified, st0.stmts_verified);
		T_EQ_INT(st.stmts_cached - st0.stmts_cached, 1);
		gossip_free(g);
		table_free(t);
	}

	T_CASE("a record under another origin's statement spoils the whole DELTA")
	{
		static struct batch bx, by;
		uint8_t buf[GOSSIP_DGRAM_MAX];
		struct wire_out w;
		struct gossip_stats st0, st;
		struct table *t;
		uint32_t seed = 9;
		struct gossip *g = receiver(&t, &seed);
		struct gw_hdr h = {.epoch = 1};
		size_t off;

		batch_make(&bx, &px, 0, 2, "x");
		batch_make(&by, &py, 0, 2, "y"); /* same versions, y's records and paths */
		w = wire_out_init(buf, sizeof(buf));
		gw_put_hdr(&w, &h);
		off = gw_delta_begin(&w, bx.stmt_raw);
		gw_put_delta_item(&w, &bx.path[0][0][0], bx.n_path[0], bx.rec[0], bx.rec_len[0]);
		gw_put_delta_item(&w, &by.path[1][0][0], by.n_path[1], by.rec[1], by.rec_len[1]);
		gw_delta_end(&w, off, 2);
		st0 = stats(g);
		T_EQ_INT(gossip_recv(g, now, &py.ep, py.id, buf, wire_out_len(&w)), 0);
		st = stats(g);
		T_ASSERT(!resolves(t, "y1"), "y's record not applied as x's");
		T_ASSERT(!resolves(t, "x0"), "nor x's own record beside it");
		T_EQ_INT(st.stmts_bad - st0.stmts_bad, 1);
		T_EQ_INT(st.stmts_verified, st0.stmts_verified); /* no signature checked */
		T_EQ_INT(member(g, &px)->head, 0);

		/* x's record alone under y's statement */
		{
			int one[1] = {0};
			size_t len = delta_dgram(buf, by.stmt_raw, &bx, one, one, 1);

			st0 = stats(g);
			T_EQ_INT(gossip_recv(g, now, &px.ep, px.id, buf, len), 0);
			st = stats(g);
			T_ASSERT(!resolves(t, "x0"), "not applied as y's");
			T_EQ_INT(st.stmts_bad - st0.stmts_bad, 1);
		}
		gossip_free(g);
		table_free(t);
	}

	T_CASE("reordered paths are refused, the genuine DELTA applied")
	{
		static struct batch b;
		uint8_t buf[GOSSIP_DGRAM_MAX];
		int recs[4] = {0, 1, 2, 3}, swapped[4] = {1, 0, 2, 3};
		struct gossip_stats st0, st;
		struct table *t;
		uint32_t seed = 10;
		struct gossip *g = receiver(&t, &seed);
		size_t len;

		batch_make(&b, &px, 0, 4, "x");
		len = delta_dgram(buf, b.stmt_raw, &b, recs, swapped, 4);
		st0 = stats(g);
		T_EQ_INT(gossip_recv(g, now, &py.ep, py.id, buf, len), 0);
		st = stats(g);
		T_ASSERT(!resolves(t, "x0") && !resolves(t, "x2"), "nothing of it applied");
		T_EQ_INT(st.stmts_bad - st0.stmts_bad, 1);

		/* one record's path with its two hashes in the other order */
		memcpy(b.path[3][0], b.path[2][1], GW_HASH_LEN);
		memcpy(b.path[3][1], b.path[2][0], GW_HASH_LEN);
		len = delta_dgram(buf, b.stmt_raw, &b, recs + 2, recs + 3, 1);
		T_EQ_INT(gossip_recv(g, now, &py.ep, py.id, buf, len), 0);
		T_ASSERT(!resolves(t, "x2"), "not applied");
		T_EQ_INT(stats(g).stmts_bad - st.stmts_bad, 1);

		batch_make(&b, &px, 0, 4, "x");
		len = delta_dgram(buf, b.stmt_raw, &b, recs, recs, 4);
		T_EQ_INT(gossip_recv(g, now, &py.ep, py.id, buf, len), 0);
		T_ASSERT(resolves(t, "x0") && resolves(t, "x3"), "the genuine one applied");
		gossip_free(g);
		table_free(t);
	}

	T_CASE("a changed byte in any record of a batch DELTA spoils all of it")
	{
		static struct batch b;
		uint8_t buf[GOSSIP_DGRAM_MAX];
		int idx[3] = {0, 1, 2};
		struct table *t;
		uint32_t seed = 11;
		struct gossip *g = receiver(&t, &seed);
		size_t len;

		batch_make(&b, &px, 0, 3, "x");
		b.rec[2][b.rec_len[2] - 1] ^= 0x40; /* the last record's address */
		len = delta_dgram(buf, b.stmt_raw, &b, idx, idx, 3);
		T_EQ_INT(gossip_recv(g, now, &py.ep, py.id, buf, len), 0);
		T_ASSERT(!resolves(t, "x0") && !resolves(t, "x1") && !resolves(t, "x2"),
			 "none applied");
		T_EQ_INT(member(g, &px)->known_head, 0); /* its statement is not believed either */
		gossip_free(g);
		table_free(t);
	}

	T_CASE("a batch goes out as one DELTA, and is relayed as one, 3 times")
	{
		struct table *ta, *tb;
		uint32_t sa = 12, sb = 13;
		struct gossip *a = core_new(&ta, &px, &sa), *b = core_new(&tb, &py, &sb);
		struct table_entry e;

		T_EQ_INT(gossip_add_peer(b, now, &px.ep, px.id, true), 0);
		exchange(a, &px, b, &py, 1500); /* members, proven addresses */
		T_ASSERT(member(a, &py) && member(a, &py)->state == GOSSIP_ALIVE, "met");
		for (size_t i = 0; i < 6; i++) {
			entry_of(&e, "a", i);
			T_EQ_INT(table_put(ta, &e), 0);
		}
		seen_deltas = seen_records = seen_max_count = seen_twice = seen_relayed = 0;
		relayed_of = &px;
		exchange(a, &px, b, &py, 1000);
		relayed_of = NULL;
		T_ASSERT(resolves(tb, "a0") && resolves(tb, "a5"), "b holds the batch");
		T_EQ_INT(member(b, &px)->head, 6);
		T_EQ_INT(seen_max_count, 6); /* all six under one statement */
		T_ASSERT(seen_records >= 2 * seen_deltas,
			 "records travel together: %zu records in %zu DELTAs", seen_records,
			 seen_deltas);
		T_EQ_INT(seen_twice, 0); /* the DELTA is the head news: no ALIVE beside it */
		/* b relays each of a's records relay_transmits (3) times, then stops */
		T_EQ_INT(seen_relayed, 6 * 3);
		gossip_free(a);
		gossip_free(b);
		table_free(ta);
		table_free(tb);
	}
	return t_summary();
}
