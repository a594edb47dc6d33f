/* The dissemination queue (docs/protocol.md, "Dissemination"): updates
 * waiting to be piggybacked — membership news, head news and records —
 * with their retransmission budgets, what gives way when the queue is full,
 * and how queued updates are packed into a datagram (the records of one
 * statement together, in one DELTA that carries the statement once). It
 * never decides what is news: gossip_member.c and gossip_records.c queue
 * what they accepted.
 */
#include "core/gossip_int.h"

static uint32_t retransmit_limit(const struct gossip *g)
{
	uint32_t n = cluster_size(g) + 1, d = 0;

	for (uint64_t p = 1; p < n; p *= 10)
		d++;
	return g->tm.retransmit_mult * (d ? d : 1);
}

/* Which queued update goes first when the queue is full: relayed records,
 * then relayed membership news (a head announcement stands for any number
 * of records: it is what makes the others sync), our own updates last, so
 * a burst of relayed traffic cannot silence the only source of ours. */
static int bcast_rank(const struct bcast *b)
{
	return b->local ? 2 : b->is_delta ? 0 : 1;
}

/* A free slot, the older update about the same member, or an eviction
 * (lowest rank, then most transmitted). */
static struct bcast *bcast_slot(struct gossip *g, bool is_delta, uint64_t key)
{
	struct bcast *free_b = NULL, *worst = NULL;

	for (size_t i = 0; i < BCAST_MAX; i++) {
		struct bcast *b = &g->bcast[i];

		if (!b->used) {
			if (!free_b)
				free_b = b;
			continue;
		}
		if (!is_delta && !b->is_delta && b->key == key)
			return b; /* a newer update about the same member */
		if (!worst || bcast_rank(b) < bcast_rank(worst) ||
		    (bcast_rank(b) == bcast_rank(worst) && b->transmits > worst->transmits))
			worst = b;
	}
	if (free_b)
		return free_b;
	g->st.delta_queue_dropped++;
	g->n_bcast--;
	return worst;
}

bool gsp_bcast_full(const struct gossip *g)
{
	return g->n_bcast == BCAST_MAX;
}

static void bcast_fill_slot(struct gossip *g, struct bcast *b, bool is_delta, uint64_t key,
			    const uint8_t *a, size_t a_len, const uint8_t *c, size_t c_len)
{
	if (!b->used)
		g->n_bcast++;
	b->used = true;
	b->is_delta = is_delta;
	b->key = key;
	b->seq = 0;
	b->transmits = 0;
	b->stamp = 0;
	b->len = (uint16_t)(a_len + c_len);
	memcpy(b->msg, a, a_len);
	if (c_len)
		memcpy(b->msg + a_len, c, c_len);
}

void gsp_bcast_add(struct gossip *g, uint64_t key, const uint8_t *msg, size_t len)
{
	struct bcast *b;

	if (len > BCAST_MSG_MAX)
		return;
	b = bcast_slot(g, false, key);
	bcast_fill_slot(g, b, false, key, msg, len, NULL, 0);
	b->local = (key | 1) == (g->self_hash | 1);
}

void gsp_bcast_delta(struct gossip *g, const uint8_t *stmt_raw, const uint8_t *item,
		     size_t item_len, uint64_t seq)
{
	uint64_t key = hash_bytes(stmt_raw, GW_STMT_LEN);
	struct bcast *b;

	if (item_len > BCAST_ITEM_MAX)
		return;
	b = bcast_slot(g, true, key);
	bcast_fill_slot(g, b, true, key, stmt_raw, GW_STMT_LEN, item, item_len);
	b->seq = seq;
	b->local = !memcmp(stmt_raw, g->cfg.self_id, GOSSIP_ID_LEN);
}

void gsp_bcast_member(struct gossip *g, uint8_t type, const uint8_t *id, uint64_t epoch,
		      uint32_t inc, const uint8_t *from)
{
	uint8_t buf[128];
	struct wire_out w = wire_out_init(buf, sizeof(buf));

	gw_put_member(&w, type, id, epoch, inc, from);
	if (!w.err)
		gsp_bcast_add(g, hash_bytes(id, GOSSIP_ID_LEN), buf, wire_out_len(&w));
}

/* ALIVE or LEFT with the origin's own statement, relayed unchanged; the
 * address hint is where we reach it (used by receivers that have none). */
static void bcast_stmt(struct gossip *g, const struct member *m, uint64_t key)
{
	uint8_t buf[GW_MSG_HDR_LEN + GW_STMT_LEN + GW_ENDPOINT_LEN];
	struct wire_out w = wire_out_init(buf, sizeof(buf));
	const struct gw_stmt *st = m ? &m->stmt : &g->stmt;

	if (m && !m->has_stmt)
		return; /* nothing it signed to relay: it speaks for itself */
	if (st->flags & GW_STMT_LEFT)
		gw_put_left(&w, st);
	else
		gw_put_alive(&w, st, m ? &m->addr : NULL);
	if (!w.err)
		gsp_bcast_add(g, key, buf, wire_out_len(&w));
}

void gsp_bcast_stmt(struct gossip *g, const struct member *m)
{
	bcast_stmt(g, m, m ? m->id_hash : g->self_hash);
}

/* Head news about m (or about us, m NULL): its newest statement, keyed
 * apart from membership news about the same member so neither replaces
 * the other. */
void gsp_bcast_head(struct gossip *g, const struct member *m)
{
	bcast_stmt(g, m, (m ? m->id_hash : g->self_hash) ^ 1);
}

bool gsp_bcast_pending(const struct gossip *g, uint32_t stamp)
{
	for (size_t i = 0; i < BCAST_MAX; i++)
		if (g->bcast[i].used && g->bcast[i].stamp != stamp)
			return true;
	return false;
}

/* Bytes an update takes in a datagram: a record alone needs a DELTA of its
 * own (statement included); one that joins its statement's DELTA needs
 * only its item. */
static size_t bcast_wire_len(const struct bcast *b)
{
	return b->is_delta ? GW_DELTA_FIXED + b->len - GW_STMT_LEN : b->len;
}

/* One transmission of b; spent updates leave the queue. */
static void bcast_sent(struct gossip *g, struct bcast *b, uint32_t stamp, uint32_t full,
		       uint32_t relayed)
{
	b->stamp = stamp;
	if (b->is_delta)
		g->st.deltas_sent++;
	if (++b->transmits >= (b->is_delta && !b->local ? relayed : full)) {
		b->used = false;
		g->n_bcast--;
	}
}

static int cmp_transmits(const void *a, const void *b)
{
	const struct bcast *x = *(struct bcast *const *)a, *y = *(struct bcast *const *)b;

	return x->transmits < y->transmits ? -1 : x->transmits > y->transmits;
}

static int cmp_seq(const void *a, const void *b)
{
	const struct bcast *x = *(struct bcast *const *)a, *y = *(struct bcast *const *)b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The head news (gsp_bcast_head) queued for exactly this statement and not
 * in this datagram yet, or NULL. */
static struct bcast *head_news_of(struct gossip *g, const uint8_t *stmt_raw, uint32_t stamp)
{
	uint64_t key = hash_bytes(stmt_raw, GOSSIP_ID_LEN) ^ 1;

	for (size_t i = 0; i < BCAST_MAX; i++) {
		struct bcast *b = &g->bcast[i];

		if (b->used && !b->is_delta && b->key == key && b->stamp != stamp &&
		    b->msg[0] == GW_ALIVE && b->len >= GW_MSG_HDR_LEN + GW_STMT_LEN &&
		    !memcmp(b->msg + GW_MSG_HDR_LEN, stmt_raw, GW_STMT_LEN))
			return b;
	}
	return NULL;
}

/* A record queued under head news b's statement that fits in room: its
 * DELTA carries the news and records besides, for a few bytes less. */
static struct bcast *delta_for_news(struct gossip *g, const struct bcast *b, uint32_t stamp,
				    size_t room)
{
	uint64_t key;

	if (b->is_delta || b->msg[0] != GW_ALIVE || b->len < GW_MSG_HDR_LEN + GW_STMT_LEN ||
	    (b->key ^ 1) != hash_bytes(b->msg + GW_MSG_HDR_LEN, GOSSIP_ID_LEN))
		return NULL;
	key = hash_bytes(b->msg + GW_MSG_HDR_LEN, GW_STMT_LEN);
	for (size_t i = 0; i < BCAST_MAX; i++) {
		struct bcast *d = &g->bcast[i];

		if (d->used && d->is_delta && d->key == key && d->stamp != stamp &&
		    bcast_wire_len(d) <= room &&
		    !memcmp(d->msg, b->msg + GW_MSG_HDR_LEN, GW_STMT_LEN))
			return d;
	}
	return NULL;
}

/* first's DELTA: its statement once, then the other queued records of the
 * same statement that fit (fewest transmissions first), in version order.
 * Records are what a deploy sends: a batch of k changes costs one
 * statement per datagram instead of k. */
static void put_delta_group(struct gossip *g, struct wire_out *w, struct bcast *first,
			    uint32_t stamp, uint32_t full, uint32_t relayed)
{
	struct bcast *cand[BCAST_MAX];
	struct bcast *pick[GW_BATCH_MAX];
	size_t n_cand = 0, n = 0, room = (size_t)(w->end - w->p) - GW_DELTA_FIXED, off;
	struct bcast *news;

	for (size_t i = 0; i < BCAST_MAX; i++) {
		struct bcast *b = &g->bcast[i];

		if (b != first && b->used && b->is_delta && b->stamp != stamp &&
		    b->key == first->key && !memcmp(b->msg, first->msg, GW_STMT_LEN))
			cand[n_cand++] = b;
	}
	qsort(cand, n_cand, sizeof(cand[0]), cmp_transmits);
	pick[n++] = first;
	room -= first->len - GW_STMT_LEN;
	for (size_t i = 0; i < n_cand && n < GW_BATCH_MAX; i++) {
		bool dup = false;

		if (cand[i]->len - GW_STMT_LEN > room)
			continue;
		for (size_t j = 0; j < n && !dup; j++)
			dup = pick[j]->seq == cand[i]->seq; /* queued twice: once is enough */
		if (dup)
			continue;
		pick[n++] = cand[i];
		room -= cand[i]->len - GW_STMT_LEN;
	}
	qsort(pick, n, sizeof(pick[0]), cmp_seq);
	off = gw_delta_begin(w, first->msg);
	for (size_t i = 0; i < n; i++)
		wire_put_bytes(w, pick[i]->msg + GW_STMT_LEN, pick[i]->len - GW_STMT_LEN);
	gw_delta_end(w, off, (uint8_t)n);
	for (size_t i = 0; i < n; i++)
		bcast_sent(g, pick[i], stamp, full, relayed);
	/* The DELTA is head news of its statement too (a receiver learns the
	 * head from it, gsp_on_delta): the same statement as an ALIVE in the
	 * same datagram would say it twice. */
	news = head_news_of(g, first->msg, stamp);
	if (news)
		bcast_sent(g, news, stamp, full, relayed);
}

/* Append queued updates (fewest transmissions first) that fit. Relayed
 * records have a flat budget of retransmit_mult: a push epidemic in which
 * every node sends an update r times reaches all but about e^-r of the
 * nodes, and those learn of the gap from the head news (full budget) and
 * sync; membership news and our own updates have no such second path. */
void gsp_bcast_fill(struct gossip *g, struct wire_out *w, uint32_t stamp)
{
	uint32_t full = retransmit_limit(g), relayed = g->tm.relay_transmits;

	for (;;) {
		struct bcast *best = NULL;
		size_t room = (size_t)(w->end - w->p);

		for (size_t i = 0; i < BCAST_MAX; i++) {
			struct bcast *b = &g->bcast[i];

			if (b->used && b->stamp != stamp && bcast_wire_len(b) <= room &&
			    (!best || b->transmits < best->transmits))
				best = b;
		}
		if (!best)
			return;
		if (!best->is_delta) {
			struct bcast *d = delta_for_news(g, best, stamp, room);

			if (d)
				best = d;
		}
		if (best->is_delta) {
			put_delta_group(g, w, best, stamp, full, relayed);
			continue;
		}
		wire_put_bytes(w, best->msg, best->len);
		bcast_sent(g, best, stamp, full, relayed);
	}
}
