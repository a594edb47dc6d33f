/* The gossip core (docs/protocol.md): SWIM membership with Lifeguard,
 * record deltas, push-pull summaries and per-origin syncs over one name
 * table. It owns the remote origins of that table and the protocol state
 * behind them; it never does I/O, never reads a clock or the kernel RNG,
 * never logs, and allocates only when replicated state grows (members,
 * local record index, a full sync's owner set) and at gossip_new.
 */
#include "core/gossip.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/gossip_wire.h"

#define WIN 64		  /* out-of-order record versions tracked above head */
#define BCAST_MAX 256	  /* updates awaiting dissemination */
#define OUTQ_MAX 128	  /* datagrams awaiting gossip_poll_send */
#define EVQ_MAX 256
#define RELAYS_MAX 64	  /* ping-reqs served at once */
#define SYNCS_MAX 32	  /* syncs this node runs at once */
#define SERVES_MAX 32	  /* syncs this node serves at once */
#define TOMBS_MAX 1024	  /* local deletions remembered for incremental syncs */
#define CHUNKS_MAX 8192	  /* chunks of one sync */
#define CONFIRM_MAX 8	  /* distinct suspecters remembered */
#define PP_DGRAMS_MAX 8	  /* datagrams of entries per push-pull answer */
#define PUSH_DGRAMS_MAX 4 /* datagrams per peer per gossip round */
#define LEAVE_DIRECT 16
#define IDX_CAP 2048 /* member index slots (power of two, > 2 * GOSSIP_MEMBERS_MAX) */
#define BCAST_MSG_MAX (GW_MSG_HDR_LEN + GOSSIP_ID_LEN + 8 + GW_RECORD_MAX)

struct window {
	uint64_t bits;	     /* bit i: version head + 1 + i seen */
	uint64_t owner[WIN]; /* its owner's hash */
};

struct member {
	bool used;
	uint8_t state;
	bool bootstrap_authed, need_full;
	uint8_t id[GOSSIP_ID_LEN];
	uint64_t id_hash;
	struct glued_endpoint addr;
	uint64_t epoch;
	uint32_t inc;
	uint64_t state_ms, last_contact_ms, last_told_ms;
	/* suspicion */
	uint64_t susp_start, susp_deadline;
	uint32_t n_confirm;
	uint64_t confirm[CONFIRM_MAX];
	/* records of this origin */
	uint64_t head, known_head, gap_since, sync_floor;
	struct window win;
	uint32_t records;
	int sync; /* slot in g->syncs, or -1 */
	uint64_t next_sync_ms;
	/* rate limit */
	uint64_t rate_start;
	uint32_t rate_n;
};

struct bcast {
	bool used;
	bool is_delta, local; /* local: this node's own change or word about itself */
	uint64_t key; /* member updates: id hash; a newer one replaces an older */
	uint32_t transmits, stamp;
	uint16_t len;
	uint8_t msg[BCAST_MSG_MAX];
};

struct lrec {
	bool used, deleted;
	uint64_t seq, hash;
	char owner[TABLE_OWNER_MAX + 1];
};

struct relay {
	bool used, nacked;
	uint32_t my_seq, their_seq;
	uint8_t requester[GOSSIP_ID_LEN];
	struct glued_endpoint requester_addr;
	uint8_t target[GOSSIP_ID_LEN];
	uint64_t nack_at, expire;
};

struct sync {
	bool used, full, got_last, have_to;
	int slot;
	uint32_t id;
	uint64_t from, to, start;
	uint16_t last;
	uint32_t n_got;
	uint8_t bits[CHUNKS_MAX / 8];
	uint64_t *owners; /* full syncs: owner hashes seen */
	uint32_t n_owners;
};

struct serve {
	bool used, full;
	int slot;
	uint32_t id;
	uint64_t from, to, have;
	size_t cursor;
	uint16_t chunk;
};

struct boot {
	bool used, id_known, authed;
	struct glued_endpoint ep;
	uint8_t id[GOSSIP_ID_LEN];
};

struct probe {
	bool active, acked, ind_sent;
	int slot;
	uint32_t seq, nacks_expected, nacks;
	uint64_t ind_at, end;
};

struct gossip {
	struct gossip_cfg cfg;
	struct gossip_timing tm;
	struct table *t;
	uint64_t rng[2];
	uint64_t self_hash;
	uint32_t inc;
	uint64_t seq; /* record version within cfg.epoch */
	bool left, push_due, announce_head;
	uint32_t awareness;
	uint32_t next_probe_seq, stamp;

	struct member *members; /* GOSSIP_MEMBERS_MAX */
	int16_t idx[IDX_CAP];
	uint32_t n_members;

	struct bcast *bcast; /* BCAST_MAX */
	struct gossip_out *outq;
	size_t out_head, out_n;
	struct gossip_event evq[EVQ_MAX];
	size_t ev_head, ev_n;

	struct lrec *lrecs;
	size_t n_lrecs, cap_lrecs, live_lrecs, tombs;
	uint64_t tomb_floor;

	struct relay relays[RELAYS_MAX];
	struct sync *syncs; /* SYNCS_MAX */
	struct serve serves[SERVES_MAX];
	struct boot boots[GOSSIP_BOOTSTRAP_MAX];
	struct probe probe;
	int *order;
	size_t order_n, order_pos;

	uint64_t next_probe, next_round, next_pp, next_rejoin;
	struct table_entry scratch; /* one entry being built; never on the stack */
	struct gossip_stats st;
};

/* --- small helpers ------------------------------------------------------ */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static uint64_t hash_bytes(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return mix64(h);
}

static uint64_t rnd(struct gossip *g)
{
	/* xorshift128+, seeded once from the injected RNG */
	uint64_t s1 = g->rng[0], s0 = g->rng[1];

	g->rng[0] = s0;
	s1 ^= s1 << 23;
	g->rng[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
	return g->rng[1] + s0;
}

static uint32_t rnd_below(struct gossip *g, uint32_t n)
{
	return n ? (uint32_t)(rnd(g) % n) : 0;
}

static double lg2(double x)
{
	double r = 0, f = 0.5;

	if (x <= 0)
		return 0;
	while (x >= 2) {
		x /= 2;
		r += 1;
	}
	while (x < 1) {
		x *= 2;
		r -= 1;
	}
	for (int i = 0; i < 24; i++) {
		x *= x;
		if (x >= 2) {
			x /= 2;
			r += f;
		}
		f /= 2;
	}
	return r;
}

static int vcmp(uint64_t e1, uint32_t i1, uint64_t e2, uint32_t i2)
{
	if (e1 != e2)
		return e1 < e2 ? -1 : 1;
	if (i1 != i2)
		return i1 < i2 ? -1 : 1;
	return 0;
}

static bool ep_known(const struct glued_endpoint *e)
{
	return e->addr.family == AF_INET || e->addr.family == AF_INET6;
}

static bool ep_eq(const struct glued_endpoint *a, const struct glued_endpoint *b)
{
	return a->port == b->port && addr_eq(&a->addr, &b->addr);
}

static uint32_t origin_of(const struct gossip *g, const struct member *m)
{
	return (uint32_t)(m - g->members) + 1;
}

static bool live(const struct member *m)
{
	return m->used && (m->state == GOSSIP_ALIVE || m->state == GOSSIP_SUSPECT);
}

static uint32_t cluster_size(const struct gossip *g)
{
	return g->st.members_alive + g->st.members_suspect + 1;
}

static void event(struct gossip *g, enum gossip_event_type type, const uint8_t *id,
		  const struct glued_endpoint *addr, uint64_t epoch, uint32_t inc)
{
	struct gossip_event *ev;

	if (g->ev_n == EVQ_MAX) { /* drop the oldest */
		g->ev_head = (g->ev_head + 1) % EVQ_MAX;
		g->ev_n--;
	}
	ev = &g->evq[(g->ev_head + g->ev_n++) % EVQ_MAX];
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	memcpy(ev->id, id, GOSSIP_ID_LEN);
	if (addr)
		ev->addr = *addr;
	ev->epoch = epoch;
	ev->incarnation = inc;
}

/* --- member index ------------------------------------------------------- */

static struct member *member_find(struct gossip *g, const uint8_t *id)
{
	uint64_t h = hash_bytes(id, GOSSIP_ID_LEN);

	for (size_t i = h & (IDX_CAP - 1);; i = (i + 1) & (IDX_CAP - 1)) {
		struct member *m;

		if (g->idx[i] < 0)
			return NULL;
		m = &g->members[g->idx[i]];
		if (m->id_hash == h && !memcmp(m->id, id, GOSSIP_ID_LEN))
			return m;
	}
}

static void index_rebuild(struct gossip *g)
{
	memset(g->idx, 0xff, sizeof(g->idx));
	for (int s = 0; s < GOSSIP_MEMBERS_MAX; s++) {
		size_t i;

		if (!g->members[s].used)
			continue;
		for (i = g->members[s].id_hash & (IDX_CAP - 1); g->idx[i] >= 0;
		     i = (i + 1) & (IDX_CAP - 1))
			;
		g->idx[i] = (int16_t)s;
	}
}

static void count_states(struct gossip *g)
{
	g->st.members_alive = g->st.members_suspect = g->st.members_dead = 0;
	for (int s = 0; s < GOSSIP_MEMBERS_MAX; s++) {
		struct member *m = &g->members[s];

		if (!m->used)
			continue;
		if (m->state == GOSSIP_ALIVE)
			g->st.members_alive++;
		else if (m->state == GOSSIP_SUSPECT)
			g->st.members_suspect++;
		else
			g->st.members_dead++;
	}
}

static void sync_free(struct gossip *g, int s);

static void member_remove(struct gossip *g, struct member *m)
{
	int slot = (int)(m - g->members);

	table_del_origin(g->t, origin_of(g, m));
	if (m->sync >= 0)
		sync_free(g, m->sync);
	for (int i = 0; i < SERVES_MAX; i++)
		if (g->serves[i].used && g->serves[i].slot == slot)
			g->serves[i].used = false;
	if (g->probe.active && g->probe.slot == slot)
		g->probe.active = false;
	memset(m, 0, sizeof(*m));
	m->sync = -1;
	g->n_members--;
	index_rebuild(g);
	count_states(g);
}

static struct member *member_add(struct gossip *g, const uint8_t *id, uint64_t epoch,
				 uint32_t inc, const struct glued_endpoint *addr, uint64_t now)
{
	struct member *m = NULL, *oldest = NULL;
	size_t i;

	for (int s = 0; s < GOSSIP_MEMBERS_MAX; s++) {
		struct member *c = &g->members[s];

		if (!c->used) {
			m = c;
			break;
		}
		if (!live(c) && (!oldest || c->state_ms < oldest->state_ms))
			oldest = c;
	}
	if (!m && oldest) { /* full: forget the longest-dead member */
		member_remove(g, oldest);
		m = oldest;
	}
	if (!m) {
		g->st.members_full++;
		return NULL;
	}
	memset(m, 0, sizeof(*m));
	m->used = true;
	m->sync = -1;
	memcpy(m->id, id, GOSSIP_ID_LEN);
	m->id_hash = hash_bytes(id, GOSSIP_ID_LEN);
	if (addr)
		m->addr = *addr;
	m->epoch = epoch;
	m->inc = inc;
	m->state = GOSSIP_ALIVE;
	m->state_ms = now;
	for (i = m->id_hash & (IDX_CAP - 1); g->idx[i] >= 0; i = (i + 1) & (IDX_CAP - 1))
		;
	g->idx[i] = (int16_t)(m - g->members);
	g->n_members++;
	g->st.members_alive++;
	event(g, GOSSIP_EV_JOINED, id, &m->addr, epoch, inc);
	return m;
}

/* --- dissemination queue ------------------------------------------------ */

static uint32_t retransmit_limit(const struct gossip *g)
{
	uint32_t n = cluster_size(g) + 1, d = 0;

	for (uint64_t p = 1; p < n; p *= 10)
		d++;
	return g->tm.retransmit_mult * (d ? d : 1);
}

/* A free slot, the older update about the same member, or an eviction:
 * relayed updates go first (most transmitted first), our own changes last,
 * so a burst of relayed traffic cannot silence the only source of ours. */
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
		if (!worst || (worst->local && !b->local) ||
		    (worst->local == b->local && b->transmits > worst->transmits))
			worst = b;
	}
	if (free_b)
		return free_b;
	g->st.delta_queue_dropped++;
	return worst;
}

static void bcast_add(struct gossip *g, bool is_delta, uint64_t key, const uint8_t *msg,
		      size_t len)
{
	struct bcast *b;

	if (len > BCAST_MSG_MAX)
		return;
	b = bcast_slot(g, is_delta, key);
	b->used = true;
	b->is_delta = is_delta;
	b->local = is_delta ? !memcmp(msg + GW_MSG_HDR_LEN, g->cfg.self_id, GOSSIP_ID_LEN)
			    : (key | 1) == (g->self_hash | 1);
	b->key = key;
	b->transmits = 0;
	b->stamp = 0;
	b->len = (uint16_t)len;
	memcpy(b->msg, msg, len);
}

static void bcast_member(struct gossip *g, uint8_t type, const uint8_t *id, uint64_t epoch,
			 uint32_t inc, const struct glued_endpoint *addr, uint64_t head,
			 const uint8_t *from)
{
	uint8_t buf[128];
	struct wire_out w = wire_out_init(buf, sizeof(buf));

	if (type == GW_ALIVE)
		gw_put_alive(&w, id, epoch, inc, addr, head);
	else
		gw_put_member(&w, type, id, epoch, inc, from);
	if (!w.err)
		bcast_add(g, false, hash_bytes(id, GOSSIP_ID_LEN), buf, wire_out_len(&w));
}

static bool bcast_pending(const struct gossip *g, uint32_t stamp)
{
	for (size_t i = 0; i < BCAST_MAX; i++)
		if (g->bcast[i].used && g->bcast[i].stamp != stamp)
			return true;
	return false;
}

/* Append queued updates (fewest transmissions first) that fit. */
static void fill_bcast(struct gossip *g, struct wire_out *w, uint32_t stamp)
{
	uint32_t limit = retransmit_limit(g);

	for (;;) {
		struct bcast *best = NULL;
		size_t room = (size_t)(w->end - w->p);

		for (size_t i = 0; i < BCAST_MAX; i++) {
			struct bcast *b = &g->bcast[i];

			if (b->used && b->stamp != stamp && b->len <= room &&
			    (!best || b->transmits < best->transmits))
				best = b;
		}
		if (!best)
			return;
		wire_put_bytes(w, best->msg, best->len);
		best->stamp = stamp;
		if (best->is_delta)
			g->st.deltas_sent++;
		if (++best->transmits >= limit)
			best->used = false;
	}
}

/* --- output ------------------------------------------------------------- */

struct dg {
	struct gossip_out *o;
	struct wire_out w;
};

static bool dg_open(struct gossip *g, struct dg *d, const struct glued_endpoint *to,
		    const uint8_t *to_id)
{
	struct gw_hdr h = {g->cfg.epoch, g->inc, g->seq};

	if (g->out_n == OUTQ_MAX) {
		g->st.tx_queue_dropped++;
		d->o = NULL;
		return false;
	}
	d->o = &g->outq[(g->out_head + g->out_n) % OUTQ_MAX];
	d->o->to = *to;
	d->o->to_id_known = to_id != NULL;
	if (to_id)
		memcpy(d->o->to_id, to_id, GOSSIP_ID_LEN);
	else
		memset(d->o->to_id, 0, GOSSIP_ID_LEN);
	d->w = wire_out_init(d->o->buf, GOSSIP_DGRAM_MAX);
	gw_put_hdr(&d->w, &h);
	return true;
}

static struct member *member_find(struct gossip *g, const uint8_t *id);

/* Piggyback (stamp != 0) and queue the datagram if it carries anything.
 * A member we suspect hears it from us first hand, in whatever we send it,
 * so it can refute long before its suspicion times out. */
static void dg_close(struct gossip *g, struct dg *d, uint32_t stamp)
{
	if (!d->o)
		return;
	if (g->stamp >= UINT32_MAX - 1)
		g->stamp = 1; /* keep UINT32_MAX free; a wrap at worst re-sends an update */
	if (d->o->to_id_known) {
		struct member *m = member_find(g, d->o->to_id);
		size_t off = wire_out_len(&d->w);

		if (m && m->state == GOSSIP_SUSPECT) {
			gw_put_member(&d->w, GW_SUSPECT, m->id, m->epoch, m->inc, g->cfg.self_id);
			if (d->w.err)
				gw_rollback(&d->w, off);
		}
	}
	if (stamp)
		fill_bcast(g, &d->w, stamp);
	if (d->w.err || wire_out_len(&d->w) <= GW_HDR_LEN)
		return;
	d->o->len = wire_out_len(&d->w);
	g->out_n++;
	g->st.tx_dgrams++;
	g->st.tx_bytes += d->o->len;
}

static void send_probe(struct gossip *g, const struct glued_endpoint *to, const uint8_t *to_id,
		       uint8_t type, uint32_t seq, const uint8_t *target,
		       const struct glued_endpoint *taddr)
{
	struct dg d;

	if (!dg_open(g, &d, to, to_id))
		return;
	gw_put_probe(&d.w, type, seq, target, taddr);
	dg_close(g, &d, ++g->stamp);
}

static void put_summary(struct gossip *g, struct wire_out *w, uint8_t flags);

static void send_join(struct gossip *g, const struct glued_endpoint *to, const uint8_t *id)
{
	struct dg d;

	if (!dg_open(g, &d, to, id))
		return;
	gw_put_probe(&d.w, GW_PING, ++g->next_probe_seq, id, NULL);
	gw_put_alive(&d.w, g->cfg.self_id, g->cfg.epoch, g->inc, &g->cfg.self_addr, g->seq);
	put_summary(g, &d.w, 0);
	dg_close(g, &d, ++g->stamp);
}

/* --- records: window ---------------------------------------------------- */

static bool win_has(const struct member *m, uint64_t seq)
{
	return m->win.bits >> (seq - m->head - 1) & 1;
}

static void win_set(struct member *m, uint64_t seq, uint64_t owner)
{
	m->win.bits |= 1ull << (seq - m->head - 1);
	m->win.owner[seq - m->head - 1] = owner;
}

/* A change to owner newer than seq was already applied out of order. */
static bool win_newer(const struct member *m, uint64_t owner, uint64_t seq)
{
	for (uint64_t b = m->win.bits; b; b &= b - 1) {
		int i = __builtin_ctzll(b);

		if (m->win.owner[i] == owner && m->head + 1 + (uint64_t)i > seq)
			return true;
	}
	return false;
}

/* Move head to new_head (if higher), then over every contiguous version. */
static void win_advance(struct member *m, uint64_t new_head)
{
	while (m->head < new_head) {
		uint64_t k = new_head - m->head;

		if (k >= WIN) {
			m->win.bits = 0;
			m->head = new_head;
			break;
		}
		m->win.bits >>= k;
		memmove(m->win.owner, m->win.owner + k, (WIN - k) * sizeof(uint64_t));
		m->head = new_head;
	}
	while (m->win.bits & 1) {
		m->win.bits >>= 1;
		memmove(m->win.owner, m->win.owner + 1, (WIN - 1) * sizeof(uint64_t));
		m->head++;
	}
	if (m->known_head < m->head)
		m->known_head = m->head;
}

/* --- records: applying -------------------------------------------------- */

static void withdraw(struct gossip *g, struct member *m)
{
	table_del_origin(g->t, origin_of(g, m));
	m->records = 0;
	m->need_full = true;
	if (m->sync >= 0)
		sync_free(g, m->sync);
}

/* The origin restarted: everything it said before goes, wholesale. */
static void epoch_advance(struct gossip *g, struct member *m, uint64_t epoch)
{
	table_del_origin(g->t, origin_of(g, m));
	m->records = 0;
	m->epoch = epoch;
	m->inc = 0;
	m->head = m->known_head = m->sync_floor = 0;
	m->win.bits = 0;
	m->need_full = false;
	m->gap_since = 0;
	if (m->sync >= 0)
		sync_free(g, m->sync);
	g->st.epoch_replaced++;
}

static void apply_record(struct gossip *g, struct member *m, const struct gw_record *r,
			 uint64_t now)
{
	uint32_t origin = origin_of(g, m);
	struct table_entry *e = &g->scratch;
	bool exists;

	gw_record_to_entry(r, origin, now, e);
	exists = table_get(g->t, origin, e->owner) != NULL;
	if (r->deleted) {
		if (exists && table_del(g->t, origin, e->owner) == 0 && m->records)
			m->records--;
		return;
	}
	if (!exists && m->records >= GOSSIP_ORIGIN_RECORDS_MAX) {
		g->st.records_limited++;
		return;
	}
	if (table_put(g->t, e) != 0) {
		g->st.records_limited++;
		return;
	}
	if (!exists)
		m->records++;
}

static void note_head(struct member *m, uint64_t head, uint64_t now)
{
	if (head > m->known_head)
		m->known_head = head;
	if ((m->known_head > m->head || m->need_full) && !m->gap_since)
		m->gap_since = now ? now : 1;
}

static void set_dead(struct gossip *g, struct member *m, uint8_t state, uint64_t now);

static void set_alive(struct gossip *g, struct member *m, uint64_t epoch, uint32_t inc,
		      uint64_t now)
{
	bool was_down = !live(m);

	if (epoch > m->epoch)
		epoch_advance(g, m, epoch);
	m->epoch = epoch;
	m->inc = inc;
	if (m->state != GOSSIP_ALIVE) {
		m->state = GOSSIP_ALIVE;
		m->state_ms = now;
		m->n_confirm = 0;
		count_states(g);
	}
	if (was_down) {
		event(g, GOSSIP_EV_JOINED, m->id, &m->addr, epoch, inc);
		note_head(m, 0, now);
	}
}

static void on_delta(struct gossip *g, const struct gw_msg *msg, uint64_t now)
{
	struct member *m = member_find(g, msg->u.delta.origin);
	const struct gw_record *r = &msg->u.delta.rec;
	uint64_t s = r->seq, oh;

	g->st.deltas_rcvd++;
	if (!m || !live(m) || msg->u.delta.epoch < m->epoch) {
		g->st.deltas_stale++;
		return;
	}
	if (msg->u.delta.epoch > m->epoch)
		set_alive(g, m, msg->u.delta.epoch, 0, now); /* proof of a newer life */
	note_head(m, s, now);
	if (s <= m->head || s <= m->sync_floor ||
	    (m->sync >= 0 && g->syncs[m->sync].full)) {
		g->st.deltas_stale++;
		return;
	}
	if (s > m->head + WIN) {
		g->st.deltas_out_of_window++;
		return;
	}
	if (win_has(m, s)) {
		g->st.deltas_stale++;
		return;
	}
	oh = hash_bytes(r->owner, r->owner_len);
	if (!win_newer(m, oh, s))
		apply_record(g, m, r, now);
	win_set(m, s, oh);
	win_advance(m, m->head);
	if (m->known_head <= m->head && !m->need_full)
		m->gap_since = 0;
	g->st.deltas_applied++;
	bcast_add(g, true, 0, msg->raw, msg->raw_len);
}

/* --- membership --------------------------------------------------------- */

static uint64_t suspicion_timeout(const struct gossip *g, uint32_t confirmations)
{
	uint32_t n = cluster_size(g), k = g->tm.indirect_checks;
	double l = lg2(n) / 3.321928, mn, mx, t;

	/* Floor of 2 (not memberlist's 1): small clusters have no independent
	 * confirmations, and 2 s of refutation chances keep a node behind a 10%
	 * lossy link alive (docs/protocol.md, "Timers"). */
	if (l < 2)
		l = 2;
	mn = g->tm.suspicion_mult * l * g->tm.probe_interval_ms;
	mx = g->tm.suspicion_max_mult * mn;
	if (n < 3 || k > n - 2)
		k = n >= 2 ? n - 2 : 0;
	if (k == 0)
		return (uint64_t)mn;
	t = mx - (mx - mn) * lg2(confirmations + 1) / lg2(k + 1);
	return (uint64_t)(t < mn ? mn : t);
}

static void set_dead(struct gossip *g, struct member *m, uint8_t state, uint64_t now)
{
	bool was_live = live(m);

	m->state = state;
	m->state_ms = now;
	count_states(g);
	if (!was_live)
		return;
	withdraw(g, m);
	if (state == GOSSIP_DEAD)
		g->st.deaths++;
	else
		g->st.leaves++;
	event(g, state == GOSSIP_DEAD ? GOSSIP_EV_DEAD : GOSSIP_EV_LEFT, m->id, &m->addr,
	      m->epoch, m->inc);
}

static void refute(struct gossip *g, uint64_t epoch, uint32_t inc)
{
	if (g->left || epoch != g->cfg.epoch || inc < g->inc)
		return;
	g->inc = inc + 1;
	g->st.refutations++;
	if (g->awareness < g->tm.awareness_max)
		g->awareness++;
	bcast_member(g, GW_ALIVE, g->cfg.self_id, g->cfg.epoch, g->inc, &g->cfg.self_addr,
		     g->seq, NULL);
	g->push_due = true;
	event(g, GOSSIP_EV_REFUTED, g->cfg.self_id, &g->cfg.self_addr, g->cfg.epoch, g->inc);
}

static void suspect(struct gossip *g, struct member *m, uint64_t epoch, uint32_t inc,
		    const uint8_t *from, uint64_t now)
{
	uint64_t fh = hash_bytes(from, GOSSIP_ID_LEN);

	if (m->state == GOSSIP_SUSPECT && vcmp(epoch, inc, m->epoch, m->inc) == 0) {
		/* an independent confirmation shortens the timeout (Lifeguard) */
		for (uint32_t i = 0; i < m->n_confirm; i++)
			if (m->confirm[i] == fh)
				return;
		if (m->n_confirm == CONFIRM_MAX)
			return;
		m->confirm[m->n_confirm++] = fh;
		m->susp_deadline = m->susp_start + suspicion_timeout(g, m->n_confirm - 1);
		bcast_member(g, GW_SUSPECT, m->id, epoch, inc, NULL, 0, from);
		return;
	}
	if (m->state == GOSSIP_SUSPECT && vcmp(epoch, inc, m->epoch, m->inc) < 0)
		return;
	if (epoch > m->epoch)
		epoch_advance(g, m, epoch);
	m->epoch = epoch;
	m->inc = inc;
	m->state = GOSSIP_SUSPECT;
	m->state_ms = now;
	m->susp_start = now;
	m->n_confirm = 1;
	m->confirm[0] = fh;
	m->susp_deadline = now + suspicion_timeout(g, 0);
	count_states(g);
	g->st.suspicions++;
	event(g, GOSSIP_EV_SUSPECT, m->id, &m->addr, epoch, inc);
	bcast_member(g, GW_SUSPECT, m->id, epoch, inc, NULL, 0, from);
}

static void on_member(struct gossip *g, const struct gw_msg *msg, const struct member *sender,
		      const struct glued_endpoint *from, uint64_t now)
{
	const uint8_t *id = msg->u.member.id;
	uint64_t e = msg->u.member.epoch;
	uint32_t inc = msg->u.member.incarnation;
	struct member *m;
	int c;

	if (!memcmp(id, g->cfg.self_id, GOSSIP_ID_LEN)) {
		if (msg->type != GW_ALIVE)
			refute(g, e, inc);
		return;
	}
	m = member_find(g, id);
	if (!m) {
		struct glued_endpoint a = msg->u.member.addr;

		if (msg->type != GW_ALIVE)
			return;
		if (sender && !memcmp(id, sender->id, GOSSIP_ID_LEN) && !ep_known(&a))
			a = *from;
		m = member_add(g, id, e, inc, &a, now);
		if (!m)
			return;
		note_head(m, msg->u.member.head, now);
		bcast_member(g, GW_ALIVE, id, e, inc, &m->addr, msg->u.member.head, NULL);
		return;
	}
	c = vcmp(e, inc, m->epoch, m->inc);
	switch (msg->type) {
	case GW_ALIVE:
		if (c > 0) {
			if (ep_known(&msg->u.member.addr))
				m->addr = msg->u.member.addr;
			set_alive(g, m, e, inc, now);
			bcast_member(g, GW_ALIVE, id, e, inc, &m->addr, msg->u.member.head, NULL);
		}
		if (c == 0 && live(m) && msg->u.member.head > m->known_head)
			bcast_add(g, false, m->id_hash ^ 1, msg->raw, msg->raw_len); /* relay news */
		if (e == m->epoch && live(m))
			note_head(m, msg->u.member.head, now);
		break;
	case GW_SUSPECT:
		if (c >= 0 && live(m))
			suspect(g, m, e, inc, msg->u.member.from, now);
		break;
	case GW_DEAD:
	case GW_LEFT:
		if (c < 0 || (!live(m) && c == 0))
			break;
		if (e > m->epoch)
			epoch_advance(g, m, e);
		m->epoch = e;
		m->inc = inc;
		set_dead(g, m, msg->type == GW_DEAD ? GOSSIP_DEAD : GOSSIP_LEFT, now);
		bcast_member(g, msg->type, id, e, inc, NULL, 0, msg->u.member.from);
		break;
	}
}

/* --- probing ------------------------------------------------------------ */

static int pick_probe_target(struct gossip *g)
{
	for (size_t tries = 0; tries < 2; tries++) {
		while (g->order_pos < g->order_n) {
			int s = g->order[g->order_pos++];
			struct member *m = &g->members[s];

			if (live(m) && ep_known(&m->addr))
				return s;
		}
		/* rebuild a shuffled round-robin order (SWIM's bounded detection time) */
		g->order_n = 0;
		g->order_pos = 0;
		for (int s = 0; s < GOSSIP_MEMBERS_MAX; s++)
			if (live(&g->members[s]))
				g->order[g->order_n++] = s;
		for (size_t i = g->order_n; i > 1; i--) {
			size_t j = rnd_below(g, (uint32_t)i);
			int tmp = g->order[i - 1];

			g->order[i - 1] = g->order[j];
			g->order[j] = tmp;
		}
	}
	return -1;
}

/* Up to k distinct random live members other than `except` into out[]. */
static size_t pick_random(struct gossip *g, int except, int *out, size_t k)
{
	size_t n = 0, seen = 0;

	/* reservoir sampling over live members */
	for (int s = 0; s < GOSSIP_MEMBERS_MAX; s++) {
		struct member *m = &g->members[s];

		if (s == except || !live(m) || !ep_known(&m->addr))
			continue;
		seen++;
		if (n < k)
			out[n++] = s;
		else {
			size_t j = rnd_below(g, (uint32_t)seen);

			if (j < k)
				out[j] = s;
		}
	}
	return n;
}

static uint64_t scaled(const struct gossip *g, uint32_t ms)
{
	return (uint64_t)ms * (g->awareness + 1);
}

static void probe_finish(struct gossip *g, uint64_t now)
{
	struct probe *p = &g->probe;
	struct member *m = &g->members[p->slot];

	p->active = false;
	if (p->acked) {
		if (g->awareness)
			g->awareness--;
		return;
	}
	g->st.probe_failed++;
	/* Lifeguard: missing nacks mean our own links are the problem */
	g->awareness += p->nacks_expected ? p->nacks_expected - p->nacks : 1;
	if (g->awareness > g->tm.awareness_max)
		g->awareness = g->tm.awareness_max;
	if (m->used && m->state == GOSSIP_ALIVE)
		suspect(g, m, m->epoch, m->inc, g->cfg.self_id, now);
}

static void probe_step(struct gossip *g, uint64_t now)
{
	struct probe *p = &g->probe;

	if (p->active && !p->acked && !p->ind_sent && now >= p->ind_at) {
		struct member *t = &g->members[p->slot];
		int relays[8];
		size_t k = pick_random(g, p->slot, relays,
				       g->tm.indirect_checks < 8 ? g->tm.indirect_checks : 8);

		p->ind_sent = true;
		p->nacks_expected = (uint32_t)k;
		for (size_t i = 0; i < k; i++) {
			struct member *r = &g->members[relays[i]];

			send_probe(g, &r->addr, r->id, GW_PING_REQ, p->seq, t->id, &t->addr);
			g->st.ping_reqs_sent++;
		}
	}
	if (p->active && now >= p->end)
		probe_finish(g, now);
	if (!p->active && now >= g->next_probe) {
		int s = pick_probe_target(g);

		g->next_probe = now + scaled(g, g->tm.probe_interval_ms);
		if (s < 0)
			return;
		memset(p, 0, sizeof(*p));
		p->active = true;
		p->slot = s;
		p->seq = ++g->next_probe_seq;
		p->ind_at = now + scaled(g, g->tm.probe_timeout_ms);
		p->end = g->next_probe;
		g->st.probes++;
		send_probe(g, &g->members[s].addr, g->members[s].id, GW_PING, p->seq,
			   g->members[s].id, NULL);
	}
}

static void on_probe(struct gossip *g, const struct gw_msg *msg, struct member *sender,
		     const struct glued_endpoint *from, uint64_t now)
{
	const uint8_t *target = msg->u.probe.target;
	static const uint8_t zero[GOSSIP_ID_LEN];

	switch (msg->type) {
	case GW_PING:
		if (memcmp(target, zero, GOSSIP_ID_LEN) &&
		    memcmp(target, g->cfg.self_id, GOSSIP_ID_LEN))
			return; /* meant for another node (restarted at this address?) */
		send_probe(g, from, sender->id, GW_ACK, msg->u.probe.seq, g->cfg.self_id, NULL);
		return;
	case GW_ACK:
		if (g->probe.active && msg->u.probe.seq == g->probe.seq &&
		    !memcmp(target, g->members[g->probe.slot].id, GOSSIP_ID_LEN)) {
			if (!g->probe.acked)
				g->st.probe_acks++;
			g->probe.acked = true;
			return;
		}
		for (int i = 0; i < RELAYS_MAX; i++) {
			struct relay *r = &g->relays[i];

			if (r->used && r->my_seq == msg->u.probe.seq &&
			    !memcmp(r->target, target, GOSSIP_ID_LEN)) {
				send_probe(g, &r->requester_addr, r->requester, GW_ACK,
					   r->their_seq, r->target, NULL);
				r->used = false;
				return;
			}
		}
		return;
	case GW_NACK:
		if (g->probe.active && msg->u.probe.seq == g->probe.seq) {
			g->probe.nacks++;
			g->st.nacks_rcvd++;
		}
		return;
	case GW_PING_REQ:
		for (int i = 0; i < RELAYS_MAX; i++) {
			struct relay *r = &g->relays[i];

			if (r->used)
				continue;
			r->used = true;
			r->nacked = false;
			r->my_seq = ++g->next_probe_seq;
			r->their_seq = msg->u.probe.seq;
			memcpy(r->requester, sender->id, GOSSIP_ID_LEN);
			r->requester_addr = *from;
			memcpy(r->target, target, GOSSIP_ID_LEN);
			r->nack_at = now + g->tm.probe_timeout_ms;
			r->expire = now + g->tm.probe_interval_ms;
			g->st.ping_reqs_served++;
			send_probe(g, &msg->u.probe.addr, target, GW_PING, r->my_seq, target, NULL);
			return;
		}
		return;
	}
}

static void relays_step(struct gossip *g, uint64_t now)
{
	for (int i = 0; i < RELAYS_MAX; i++) {
		struct relay *r = &g->relays[i];

		if (!r->used)
			continue;
		if (!r->nacked && now >= r->nack_at) {
			r->nacked = true;
			g->st.nacks_sent++;
			send_probe(g, &r->requester_addr, r->requester, GW_NACK, r->their_seq,
				   r->target, NULL);
		}
		if (now >= r->expire)
			r->used = false;
	}
}

/* --- push-pull summary -------------------------------------------------- */

static uint64_t entry_hash(uint64_t id_hash, uint64_t epoch, uint32_t inc, bool down,
			   uint64_t head)
{
	return mix64(id_hash ^ mix64(epoch * 0x9e3779b97f4a7c15ull + inc) ^
		     (down ? 0x5bd1e995ull : mix64(head + 0x632be59bd9b4e019ull)));
}

static void summary_hashes(const struct gossip *g, uint64_t h[GW_BUCKETS])
{
	memset(h, 0, GW_BUCKETS * sizeof(h[0]));
	h[g->cfg.self_id[0] % GW_BUCKETS] ^=
		entry_hash(g->self_hash, g->cfg.epoch, g->inc, false, g->seq);
	for (int s = 0; s < GOSSIP_MEMBERS_MAX; s++) {
		const struct member *m = &g->members[s];

		if (m->used)
			h[m->id[0] % GW_BUCKETS] ^=
				entry_hash(m->id_hash, m->epoch, m->inc, !live(m), m->head);
	}
}

static void put_summary(struct gossip *g, struct wire_out *w, uint8_t flags)
{
	uint64_t h[GW_BUCKETS];

	summary_hashes(g, h);
	gw_put_summary(w, flags, (uint16_t)g->n_members, h);
}

/* Append our view of one member; false if it did not fit. */
static bool put_entry(struct gossip *g, struct wire_out *w, const struct member *m)
{
	size_t off = wire_out_len(w);

	if (!m)
		gw_put_alive(w, g->cfg.self_id, g->cfg.epoch, g->inc, &g->cfg.self_addr, g->seq);
	else if (live(m))
		gw_put_alive(w, m->id, m->epoch, m->inc, &m->addr, m->head);
	else
		gw_put_member(w, m->state == GOSSIP_DEAD ? GW_DEAD : GW_LEFT, m->id, m->epoch,
			      m->inc, g->cfg.self_id);
	if (w->err) {
		gw_rollback(w, off);
		return false;
	}
	return true;
}

static void on_summary(struct gossip *g, const struct gw_msg *msg, struct member *sender,
		       const struct glued_endpoint *from)
{
	uint64_t mine[GW_BUCKETS];
	uint32_t b0 = rnd_below(g, GW_BUCKETS);
	size_t dgrams = 0;
	struct dg d;

	summary_hashes(g, mine);
	if (!dg_open(g, &d, from, sender->id))
		return;
	if (!(msg->u.summary.flags & GW_SUMMARY_REPLY))
		put_summary(g, &d.w, GW_SUMMARY_REPLY);
	for (uint32_t i = 0; i < GW_BUCKETS; i++) {
		uint32_t b = (b0 + i) % GW_BUCKETS;

		if (mine[b] == msg->u.summary.hash[b])
			continue;
		for (int s = -1; s < GOSSIP_MEMBERS_MAX; s++) {
			const struct member *m = s < 0 ? NULL : &g->members[s];
			const uint8_t *id = m ? m->id : g->cfg.self_id;

			if ((m && !m->used) || id[0] % GW_BUCKETS != b)
				continue;
			if (put_entry(g, &d.w, m))
				continue;
			dg_close(g, &d, 0);
			if (++dgrams == PP_DGRAMS_MAX || !dg_open(g, &d, from, sender->id))
				return;
			if (!put_entry(g, &d.w, m))
				break;
		}
	}
	dg_close(g, &d, 0);
}

/* --- syncs -------------------------------------------------------------- */

static void sync_free(struct gossip *g, int s)
{
	struct sync *y = &g->syncs[s];

	if (y->slot >= 0 && g->members[y->slot].sync == s)
		g->members[y->slot].sync = -1;
	free(y->owners);
	memset(y, 0, sizeof(*y));
	y->slot = -1;
}

static void sync_start(struct gossip *g, struct member *m, uint64_t now)
{
	struct sync *y = NULL;
	struct dg d;
	int s;

	for (s = 0; s < SYNCS_MAX; s++)
		if (!g->syncs[s].used) {
			y = &g->syncs[s];
			break;
		}
	if (!y)
		return;
	y->used = true;
	y->slot = (int)(m - g->members);
	y->id = (uint32_t)rnd(g);
	y->from = m->need_full ? 0 : m->head;
	y->full = y->from == 0;
	y->start = now;
	m->sync = s;
	g->st.syncs_started++;
	if (!dg_open(g, &d, &m->addr, m->id))
		return;
	gw_put_sync_req(&d.w, y->id, m->epoch, y->from, y->full ? 0 : m->win.bits);
	dg_close(g, &d, ++g->stamp);
}

static bool keep_owner(void *ctx, const char *owner)
{
	struct sync *y = ctx;
	uint64_t h = hash_bytes(owner, strlen(owner));

	for (uint32_t i = 0; i < y->n_owners; i++)
		if (y->owners[i] == h)
			return true;
	return false;
}

static void on_sync_data(struct gossip *g, const struct gw_msg *msg, struct member *m,
			 uint64_t now)
{
	struct sync *y;
	struct wire w;
	uint16_t c = msg->u.sync_data.chunk;

	if (m->sync < 0 || !live(m))
		return;
	y = &g->syncs[m->sync];
	if (msg->u.sync_data.id != y->id || msg->u.sync_data.epoch < m->epoch)
		return;
	if (msg->u.sync_data.epoch > m->epoch) {
		set_alive(g, m, msg->u.sync_data.epoch, 0, now); /* frees the sync */
		return;
	}
	if (c >= CHUNKS_MAX || y->bits[c / 8] & (1 << (c % 8)) ||
	    (y->have_to && (msg->u.sync_data.to != y->to ||
			    !!(msg->u.sync_data.flags & GW_SYNC_FULL) != y->full)))
		return;
	if (!y->have_to) {
		/* the origin decides: a request older than its tombstones gets a full one */
		y->full = msg->u.sync_data.flags & GW_SYNC_FULL;
		y->have_to = true;
		y->to = msg->u.sync_data.to;
		if (m->sync_floor < y->to)
			m->sync_floor = y->to;
		note_head(m, y->to, now);
	}
	y->bits[c / 8] |= (uint8_t)(1 << (c % 8));
	y->n_got++;
	if (msg->u.sync_data.flags & GW_SYNC_LAST) {
		y->got_last = true;
		y->last = c;
	}
	w = wire_init(msg->u.sync_data.recs, msg->u.sync_data.recs_len);
	for (uint8_t i = 0; i < msg->u.sync_data.count; i++) {
		struct gw_record r;
		uint64_t oh;

		if (gw_record_decode(&w, &r))
			return; /* gw_check validated it; cannot happen */
		oh = hash_bytes(r.owner, r.owner_len);
		if (y->full) {
			if (!y->owners) {
				y->owners = malloc(GOSSIP_ORIGIN_RECORDS_MAX * sizeof(uint64_t));
				if (!y->owners) {
					sync_free(g, m->sync);
					return;
				}
			}
			if (y->n_owners < GOSSIP_ORIGIN_RECORDS_MAX)
				y->owners[y->n_owners++] = oh;
		} else if (r.seq <= m->head) {
			continue;
		}
		if (r.seq > m->head && r.seq <= m->head + WIN && win_newer(m, oh, r.seq))
			continue;
		apply_record(g, m, &r, now);
		if (r.seq > m->head && r.seq <= m->head + WIN)
			win_set(m, r.seq, oh);
	}
	if (!y->got_last || y->n_got != (uint32_t)y->last + 1)
		return;
	if (y->full) {
		size_t gone = table_del_origin_except(g->t, origin_of(g, m), keep_owner, y);

		m->records = m->records > gone ? m->records - (uint32_t)gone : 0;
		m->need_full = false;
	}
	win_advance(m, y->to);
	if (m->known_head <= m->head)
		m->gap_since = 0;
	g->st.syncs_completed++;
	sync_free(g, m->sync);
}

static void on_sync_req(struct gossip *g, const struct gw_msg *msg, struct member *m)
{
	struct serve *v = NULL;
	int slot = (int)(m - g->members);

	for (int i = 0; i < SERVES_MAX; i++)
		if (g->serves[i].used && g->serves[i].slot == slot)
			v = &g->serves[i]; /* a retry replaces the one in progress */
	for (int i = 0; i < SERVES_MAX && !v; i++)
		if (!g->serves[i].used)
			v = &g->serves[i];
	if (!v) {
		g->st.syncs_refused++;
		return;
	}
	memset(v, 0, sizeof(*v));
	v->used = true;
	v->slot = slot;
	v->id = msg->u.sync_req.id;
	v->from = msg->u.sync_req.from;
	v->to = g->seq;
	v->full = v->from == 0 || v->from < g->tomb_floor || v->from > g->seq ||
		  msg->u.sync_req.epoch != g->cfg.epoch;
	v->have = v->full ? 0 : msg->u.sync_req.have;
	if (v->full)
		v->from = 0; /* everything from the start */
	g->st.syncs_served++;
}

/* Encode one local record; false if it did not fit (nothing written). */
static bool put_local(struct gossip *g, struct wire_out *w, const struct lrec *l)
{
	const struct table_entry *e = l->deleted ? NULL : table_get(g->t, 0, l->owner);
	size_t off = wire_out_len(w);

	if (!l->deleted && !e)
		return true; /* the observer will turn it into a tombstone */
	if (e && gw_record_size(e, strlen(l->owner)) > GW_RECORD_MAX) {
		memcpy(&g->scratch, e, sizeof(*e));
		while (g->scratch.n_names > 1 &&
		       gw_record_size(&g->scratch, strlen(l->owner)) > GW_RECORD_MAX)
			g->scratch.n_names--;
		e = &g->scratch;
	}
	gw_put_record(w, l->seq, l->owner, e);
	if (w->err) {
		gw_rollback(w, off);
		return false;
	}
	return true;
}

/* One chunk of a served sync into o; false when the serve is finished. */
static bool serve_chunk(struct gossip *g, struct serve *v, struct gossip_out *o)
{
	struct member *m = &g->members[v->slot];
	struct gw_hdr h = {g->cfg.epoch, g->inc, g->seq};
	struct wire_out w = wire_out_init(o->buf, GOSSIP_DGRAM_MAX);
	size_t off;
	uint8_t count = 0, flags = v->full ? GW_SYNC_FULL : 0;

	if (!live(m) || v->chunk >= CHUNKS_MAX) {
		v->used = false;
		return false;
	}
	gw_put_hdr(&w, &h);
	off = gw_sync_data_begin(&w, v->id, g->cfg.epoch, v->from, v->to, v->chunk);
	for (; v->cursor < g->n_lrecs && count < 255; v->cursor++) {
		const struct lrec *l = &g->lrecs[v->cursor];

		if (!l->used || (v->full ? l->deleted : l->seq <= v->from))
			continue;
		if (!v->full && l->seq - v->from <= 64 && v->have >> (l->seq - v->from - 1) & 1)
			continue; /* the requester holds this very change already */
		if (!put_local(g, &w, l))
			break;
		count++;
	}
	if (v->cursor == g->n_lrecs) {
		flags |= GW_SYNC_LAST;
		v->used = false;
	}
	gw_sync_data_end(&w, off, flags, count);
	o->to = m->addr;
	o->to_id_known = true;
	memcpy(o->to_id, m->id, GOSSIP_ID_LEN);
	o->len = wire_out_len(&w);
	v->chunk++;
	g->st.tx_dgrams++;
	g->st.tx_bytes += o->len;
	return true;
}

/* --- local records (origin 0) ------------------------------------------- */

static struct lrec *lrec_find(struct gossip *g, const char *owner, uint64_t h)
{
	for (size_t i = 0; i < g->n_lrecs; i++)
		if (g->lrecs[i].used && g->lrecs[i].hash == h && !strcmp(g->lrecs[i].owner, owner))
			return &g->lrecs[i];
	return NULL;
}

static struct lrec *lrec_alloc(struct gossip *g)
{
	for (size_t i = 0; i < g->n_lrecs; i++)
		if (!g->lrecs[i].used)
			return &g->lrecs[i];
	if (g->n_lrecs == g->cap_lrecs) {
		size_t cap = g->cap_lrecs ? g->cap_lrecs * 2 : 64;
		struct lrec *n = realloc(g->lrecs, cap * sizeof(*n));

		if (!n)
			return NULL;
		g->lrecs = n;
		g->cap_lrecs = cap;
	}
	return &g->lrecs[g->n_lrecs++];
}

static void publish(struct gossip *g, struct lrec *l)
{
	uint8_t buf[BCAST_MSG_MAX];
	struct wire_out w = wire_out_init(buf, sizeof(buf));
	size_t off = wire_out_len(&w);

	wire_put_u8(&w, GW_DELTA);
	wire_put_u16(&w, 0);
	wire_put_bytes(&w, g->cfg.self_id, GOSSIP_ID_LEN);
	wire_put_u64(&w, g->cfg.epoch);
	if (!put_local(g, &w, l) || w.err)
		return;
	wire_patch_u16(&w, off + 1, (uint16_t)(wire_out_len(&w) - GW_MSG_HDR_LEN));
	bcast_add(g, true, 0, buf, wire_out_len(&w));
}

static void local_delete(struct gossip *g, struct lrec *l)
{
	l->deleted = true;
	l->seq = ++g->seq;
	g->live_lrecs--;
	g->tombs++;
	publish(g, l);
	if (g->tombs > TOMBS_MAX) { /* forget the oldest tombstone; syncs from before go full */
		struct lrec *old = NULL;

		for (size_t i = 0; i < g->n_lrecs; i++)
			if (g->lrecs[i].used && g->lrecs[i].deleted &&
			    (!old || g->lrecs[i].seq < old->seq))
				old = &g->lrecs[i];
		if (g->tomb_floor < old->seq)
			g->tomb_floor = old->seq;
		old->used = false;
		g->tombs--;
	}
}

static void on_entry(void *ctx, uint32_t origin, const char *owner)
{
	struct gossip *g = ctx;
	const struct table_entry *e;
	struct lrec *l;
	uint64_t h;

	if (origin != 0 || g->left)
		return;
	g->push_due = true;
	g->announce_head = true;
	if (!owner) { /* every origin-0 entry may be gone */
		for (size_t i = 0; i < g->n_lrecs; i++) {
			l = &g->lrecs[i];
			if (l->used && !l->deleted && !table_get(g->t, 0, l->owner))
				local_delete(g, l);
		}
		return;
	}
	h = hash_bytes(owner, strlen(owner));
	l = lrec_find(g, owner, h);
	e = table_get(g->t, 0, owner);
	if (!e) {
		if (l && !l->deleted)
			local_delete(g, l);
		return;
	}
	if (!l || l->deleted) {
		if (g->live_lrecs >= GOSSIP_LOCAL_RECORDS_MAX) {
			g->st.records_limited++;
			return;
		}
		if (!l) {
			l = lrec_alloc(g);
			if (!l) {
				g->st.records_limited++;
				return;
			}
			memset(l, 0, sizeof(*l));
			l->used = true;
			l->hash = h;
			strcpy(l->owner, owner);
		} else {
			g->tombs--;
		}
		l->deleted = false;
		g->live_lrecs++;
	}
	if (gw_record_size(e, strlen(owner)) > GW_RECORD_MAX)
		g->st.local_truncated++;
	l->seq = ++g->seq;
	publish(g, l);
}

static int publish_existing(void *ctx, const struct table_entry *e)
{
	if (e->origin == 0)
		on_entry(ctx, 0, e->owner);
	return 0;
}

/* --- timers ------------------------------------------------------------- */

static void gossip_round(struct gossip *g)
{
	int peers[16];
	size_t n;

	g->push_due = false;
	if (g->announce_head) {
		/* Our head, once per burst of changes: whoever missed the last
		 * delta of the burst learns of the gap now, not at the next
		 * push-pull. Keyed apart from membership updates about us. */
		uint8_t buf[128];
		struct wire_out w = wire_out_init(buf, sizeof(buf));

		g->announce_head = false;
		gw_put_alive(&w, g->cfg.self_id, g->cfg.epoch, g->inc, &g->cfg.self_addr, g->seq);
		if (!w.err)
			bcast_add(g, false, g->self_hash ^ 1, buf, wire_out_len(&w));
	}
	if (!bcast_pending(g, UINT32_MAX)) /* stamps never reach it: "anything queued" */
		return;
	n = pick_random(g, -1, peers, g->tm.gossip_fanout < 16 ? g->tm.gossip_fanout : 16);
	for (size_t i = 0; i < n; i++) {
		struct member *m = &g->members[peers[i]];
		uint32_t stamp = ++g->stamp;

		for (int k = 0; k < PUSH_DGRAMS_MAX && bcast_pending(g, stamp); k++) {
			struct dg d;

			if (!dg_open(g, &d, &m->addr, m->id))
				return;
			dg_close(g, &d, stamp);
		}
	}
}

static void housekeeping(struct gossip *g, uint64_t now)
{
	for (int s = 0; s < GOSSIP_MEMBERS_MAX; s++) {
		struct member *m = &g->members[s];

		if (!m->used)
			continue;
		if (m->state == GOSSIP_SUSPECT && now >= m->susp_deadline) {
			set_dead(g, m, GOSSIP_DEAD, now);
			bcast_member(g, GW_DEAD, m->id, m->epoch, m->inc, NULL, 0, g->cfg.self_id);
			continue;
		}
		if (!live(m)) {
			if (now - m->state_ms > g->tm.dead_reap_ms)
				member_remove(g, m);
			continue;
		}
		if (m->gap_since && m->sync < 0 && now - m->gap_since >= g->tm.gap_ms &&
		    now >= m->next_sync_ms && ep_known(&m->addr)) {
			if (m->known_head > m->head || m->need_full)
				sync_start(g, m, now);
			else
				m->gap_since = 0;
		}
	}
	for (int s = 0; s < SYNCS_MAX; s++) {
		struct sync *y = &g->syncs[s];

		if (y->used && now - y->start >= g->tm.sync_timeout_ms) {
			/* retry at once: what did arrive sits in the window and
			 * is not asked for again */
			g->members[y->slot].next_sync_ms = now;
			g->st.syncs_timed_out++;
			sync_free(g, s);
		}
	}
}

static void rejoin(struct gossip *g)
{
	int dead[8];
	size_t n = 0, seen = 0;

	for (int i = 0; i < GOSSIP_BOOTSTRAP_MAX; i++) {
		struct boot *b = &g->boots[i];
		struct member *m = NULL;
		bool ok = false;

		if (!b->used)
			continue;
		if (b->id_known)
			m = member_find(g, b->id);
		for (int s = 0; !m && s < GOSSIP_MEMBERS_MAX; s++)
			if (live(&g->members[s]) && ep_eq(&g->members[s].addr, &b->ep))
				m = &g->members[s];
		ok = m && live(m);
		if (!ok)
			send_join(g, &b->ep, b->id_known ? b->id : NULL);
	}
	/* one random dead member's last address: healed partitions re-merge */
	for (int s = 0; s < GOSSIP_MEMBERS_MAX; s++) {
		struct member *m = &g->members[s];

		if (!m->used || m->state != GOSSIP_DEAD || !ep_known(&m->addr))
			continue;
		seen++;
		if (n < 1)
			dead[n++] = s;
		else if (rnd_below(g, (uint32_t)seen) == 0)
			dead[0] = s;
	}
	if (n) {
		g->st.rejoins++;
		send_join(g, &g->members[dead[0]].addr, g->members[dead[0]].id);
	}
}

void gossip_tick(struct gossip *g, uint64_t now)
{
	if (g->left)
		return;
	relays_step(g, now);
	probe_step(g, now);
	if (now >= g->next_round) {
		housekeeping(g, now);
		gossip_round(g);
		g->next_round = now + g->tm.gossip_interval_ms;
	} else if (g->push_due) {
		gossip_round(g); /* a change: push it now, not at the next round */
	}
	if (now >= g->next_pp) {
		int peer;

		g->next_pp = now + g->tm.push_pull_interval_ms;
		if (pick_random(g, -1, &peer, 1)) {
			struct dg d;

			g->st.push_pulls++;
			if (dg_open(g, &d, &g->members[peer].addr, g->members[peer].id)) {
				put_summary(g, &d.w, 0);
				dg_close(g, &d, ++g->stamp);
			}
		}
	}
	if (now >= g->next_rejoin) {
		g->next_rejoin = now + g->tm.rejoin_interval_ms;
		rejoin(g);
	}
}

uint64_t gossip_next_deadline(const struct gossip *g)
{
	uint64_t d;

	if (g->left)
		return UINT64_MAX;
	if (g->push_due)
		return 0;
	d = g->next_round;
	if (g->next_probe < d)
		d = g->next_probe;
	if (g->probe.active) {
		if (!g->probe.ind_sent && !g->probe.acked && g->probe.ind_at < d)
			d = g->probe.ind_at;
		if (g->probe.end < d)
			d = g->probe.end;
	}
	if (g->next_pp < d)
		d = g->next_pp;
	if (g->next_rejoin < d)
		d = g->next_rejoin;
	for (int i = 0; i < RELAYS_MAX; i++)
		if (g->relays[i].used && !g->relays[i].nacked && g->relays[i].nack_at < d)
			d = g->relays[i].nack_at;
	return d;
}

/* --- receive ------------------------------------------------------------ */

static struct boot *boot_match(struct gossip *g, const struct glued_endpoint *from,
			       const uint8_t *id)
{
	for (int i = 0; i < GOSSIP_BOOTSTRAP_MAX; i++) {
		struct boot *b = &g->boots[i];

		if (b->used && ((b->id_known && !memcmp(b->id, id, GOSSIP_ID_LEN)) ||
				(!b->id_known && ep_eq(&b->ep, from))))
			return b;
	}
	return NULL;
}

/* The header: a fresh word from the sender about itself. false = drop. */
static bool on_header(struct gossip *g, struct member *m, const struct gw_hdr *h,
		      const struct glued_endpoint *from, uint64_t now)
{
	int c = vcmp(h->epoch, h->incarnation, m->epoch, m->inc);

	if (h->epoch < m->epoch)
		return false; /* from a previous life, delivered late */
	m->addr = *from;
	m->last_contact_ms = now;
	if (c > 0) {
		set_alive(g, m, h->epoch, h->incarnation, now);
		bcast_member(g, GW_ALIVE, m->id, m->epoch, m->inc, &m->addr, h->head, NULL);
	} else if (c == 0 && !live(m) && now - m->last_told_ms >= g->tm.probe_interval_ms) {
		/* it does not know it was declared dead: tell it, so it refutes */
		struct dg d;

		m->last_told_ms = now;
		if (dg_open(g, &d, from, m->id)) {
			gw_put_member(&d.w, m->state == GOSSIP_DEAD ? GW_DEAD : GW_LEFT, m->id,
				      m->epoch, m->inc, g->cfg.self_id);
			dg_close(g, &d, 0);
		}
	}
	if (live(m))
		note_head(m, h->head, now);
	return true;
}

int gossip_recv(struct gossip *g, uint64_t now, const struct glued_endpoint *from,
		const uint8_t sender_id[GOSSIP_ID_LEN], const uint8_t *buf, size_t len)
{
	struct gw_hdr h;
	struct gw_iter it;
	struct gw_msg msg;
	struct member *m;
	struct boot *b;
	size_t unknown;
	int err;

	g->st.rx_dgrams++;
	g->st.rx_bytes += len;
	if (g->left)
		return 0;
	if (!memcmp(sender_id, g->cfg.self_id, GOSSIP_ID_LEN)) {
		g->st.rx_self++;
		return GLUED_EPROTO;
	}
	err = gw_check(buf, len, &h, &unknown);
	g->st.rx_unknown_msgs += unknown;
	if (err == GLUED_EBADVERS) {
		g->st.rx_bad_version++;
		return err;
	}
	if (err) {
		g->st.rx_malformed++;
		return err;
	}
	m = member_find(g, sender_id);
	if (!m) {
		m = member_add(g, sender_id, h.epoch, h.incarnation, from, now);
		if (!m)
			return GLUED_ELIMIT;
		bcast_member(g, GW_ALIVE, m->id, m->epoch, m->inc, from, h.head, NULL);
	}
	if (now - m->rate_start >= 1000) {
		m->rate_start = now;
		m->rate_n = 0;
	}
	if (++m->rate_n > g->tm.rate_per_s) {
		g->st.rx_rate_limited++;
		return GLUED_ELIMIT;
	}
	b = boot_match(g, from, sender_id);
	if (b && !b->authed) {
		b->authed = true;
		event(g, GOSSIP_EV_BOOTSTRAP_AUTH, sender_id, from, h.epoch, h.incarnation);
	}
	if (!on_header(g, m, &h, from, now))
		return 0;
	gw_iter_init(&it, buf, len);
	while (gw_iter_next(&it, &msg)) {
		switch (msg.type) {
		case GW_PING:
		case GW_ACK:
		case GW_NACK:
		case GW_PING_REQ:
			on_probe(g, &msg, m, from, now);
			break;
		case GW_ALIVE:
		case GW_SUSPECT:
		case GW_DEAD:
		case GW_LEFT:
			on_member(g, &msg, m, from, now);
			break;
		case GW_DELTA:
			on_delta(g, &msg, now);
			break;
		case GW_SUMMARY:
			on_summary(g, &msg, m, from);
			break;
		case GW_SYNC_REQ:
			on_sync_req(g, &msg, m);
			break;
		case GW_SYNC_DATA:
			on_sync_data(g, &msg, m, now);
			break;
		}
		if (!m->used)
			break; /* the sender's slot was reused (cannot normally happen) */
	}
	return 0;
}

/* --- API ---------------------------------------------------------------- */

void gossip_timing_defaults(struct gossip_timing *t)
{
	*t = (struct gossip_timing){
		.probe_interval_ms = 500,
		.probe_timeout_ms = 200,
		.indirect_checks = 3,
		.suspicion_mult = 2,
		.suspicion_max_mult = 4,
		.awareness_max = 8,
		.gossip_interval_ms = 100,
		.gossip_fanout = 3,
		.retransmit_mult = 4,
		.push_pull_interval_ms = 5000,
		.gap_ms = 300,
		.sync_timeout_ms = 500,
		.rejoin_interval_ms = 5000,
		.dead_reap_ms = 3600000,
		.rate_per_s = 2000,
	};
}

struct gossip *gossip_new(const struct gossip_cfg *cfg, struct table *t, struct glued_rng rng)
{
	struct gossip_timing d;
	struct gossip *g;

	if (cfg->epoch == 0)
		return NULL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->cfg = *cfg;
	g->t = t;
	gossip_timing_defaults(&d);
	g->tm = cfg->timing;
#define DEF(f) \
	if (!g->tm.f) \
		g->tm.f = d.f;
	DEF(probe_interval_ms) DEF(probe_timeout_ms) DEF(indirect_checks) DEF(suspicion_mult)
	DEF(suspicion_max_mult) DEF(awareness_max) DEF(gossip_interval_ms) DEF(gossip_fanout)
	DEF(retransmit_mult) DEF(push_pull_interval_ms) DEF(gap_ms) DEF(sync_timeout_ms)
	DEF(rejoin_interval_ms) DEF(dead_reap_ms) DEF(rate_per_s)
#undef DEF
	g->rng[0] = ((uint64_t)rng.next(rng.ctx) << 32 | rng.next(rng.ctx)) | 1;
	g->rng[1] = (uint64_t)rng.next(rng.ctx) << 32 | rng.next(rng.ctx);
	g->self_hash = hash_bytes(cfg->self_id, GOSSIP_ID_LEN);
	g->members = calloc(GOSSIP_MEMBERS_MAX, sizeof(*g->members));
	g->bcast = calloc(BCAST_MAX, sizeof(*g->bcast));
	g->outq = calloc(OUTQ_MAX, sizeof(*g->outq));
	g->syncs = calloc(SYNCS_MAX, sizeof(*g->syncs));
	g->order = calloc(GOSSIP_MEMBERS_MAX, sizeof(*g->order));
	if (!g->members || !g->bcast || !g->outq || !g->syncs || !g->order)
		goto err_free;
	for (int s = 0; s < GOSSIP_MEMBERS_MAX; s++)
		g->members[s].sync = -1;
	for (int s = 0; s < SYNCS_MAX; s++)
		g->syncs[s].slot = -1;
	memset(g->idx, 0xff, sizeof(g->idx));
	if (table_observe_entries(t, on_entry, g))
		goto err_free;
	table_foreach_entry(t, publish_existing, g);
	/* spread the first probes of nodes started together */
	g->next_probe = rnd_below(g, g->tm.probe_interval_ms);
	g->next_pp = rnd_below(g, g->tm.push_pull_interval_ms);
	g->next_rejoin = 0;
	return g;
err_free:
	gossip_free(g);
	return NULL;
}

void gossip_free(struct gossip *g)
{
	if (!g)
		return;
	if (g->syncs)
		for (int s = 0; s < SYNCS_MAX; s++)
			free(g->syncs[s].owners);
	free(g->members);
	free(g->bcast);
	free(g->outq);
	free(g->syncs);
	free(g->order);
	free(g->lrecs);
	free(g);
}

int gossip_add_peer(struct gossip *g, uint64_t now, const struct glued_endpoint *ep,
		    const uint8_t *id, bool bootstrap)
{
	if (!ep_known(ep) || ep->port == 0 || addr_is_any(&ep->addr))
		return -EINVAL;
	if (bootstrap) {
		struct boot *b = NULL;

		for (int i = 0; i < GOSSIP_BOOTSTRAP_MAX && !b; i++)
			if (!g->boots[i].used)
				b = &g->boots[i];
		if (!b)
			return GLUED_ELIMIT;
		memset(b, 0, sizeof(*b));
		b->used = true;
		b->ep = *ep;
		if (id) {
			b->id_known = true;
			memcpy(b->id, id, GOSSIP_ID_LEN);
		}
	}
	if (!g->left)
		send_join(g, ep, id);
	return 0;
}

void gossip_leave(struct gossip *g, uint64_t now)
{
	int peers[LEAVE_DIRECT];
	size_t n;

	if (g->left)
		return;
	g->inc++;
	n = pick_random(g, -1, peers, LEAVE_DIRECT);
	for (size_t i = 0; i < n; i++) {
		struct member *m = &g->members[peers[i]];
		struct dg d;

		if (!dg_open(g, &d, &m->addr, m->id))
			break;
		gw_put_member(&d.w, GW_LEFT, g->cfg.self_id, g->cfg.epoch, g->inc, NULL);
		dg_close(g, &d, 0);
	}
	g->left = true;
}

size_t gossip_poll_send(struct gossip *g, struct gossip_out *out, size_t max)
{
	size_t n = 0;

	while (n < max && g->out_n) {
		out[n++] = g->outq[g->out_head];
		g->out_head = (g->out_head + 1) % OUTQ_MAX;
		g->out_n--;
	}
	/* Served syncs are generated as the edge drains: their size is not
	 * bounded by the out queue. */
	for (int i = 0; i < SERVES_MAX && n < max && !g->left; i++)
		while (n < max && g->serves[i].used)
			if (serve_chunk(g, &g->serves[i], &out[n]))
				n++;
	return n;
}

bool gossip_poll_event(struct gossip *g, struct gossip_event *ev)
{
	if (!g->ev_n)
		return false;
	*ev = g->evq[g->ev_head];
	g->ev_head = (g->ev_head + 1) % EVQ_MAX;
	g->ev_n--;
	return true;
}

size_t gossip_members(const struct gossip *g, struct gossip_member_info *out, size_t max)
{
	size_t n = 0;

	for (int s = 0; s < GOSSIP_MEMBERS_MAX; s++) {
		const struct member *m = &g->members[s];

		if (!m->used)
			continue;
		if (n < max) {
			struct gossip_member_info *i = &out[n];

			memcpy(i->id, m->id, GOSSIP_ID_LEN);
			i->addr = m->addr;
			i->state = m->state;
			i->epoch = m->epoch;
			i->incarnation = m->inc;
			i->origin = origin_of(g, m);
			i->head = m->head;
			i->records = m->records;
			i->last_contact_ms = m->last_contact_ms;
		}
		n++;
	}
	return n;
}

void gossip_get_stats(const struct gossip *g, struct gossip_stats *st)
{
	*st = g->st;
	st->awareness = g->awareness;
}

void gossip_self(const struct gossip *g, uint64_t *epoch, uint64_t *seq, uint32_t *incarnation)
{
	*epoch = g->cfg.epoch;
	*seq = g->seq;
	*incarnation = g->inc;
}

const char *gossip_state_str(enum gossip_member_state s)
{
	switch (s) {
	case GOSSIP_ALIVE:
		return "alive";
	case GOSSIP_SUSPECT:
		return "suspect";
	case GOSSIP_DEAD:
		return "dead";
	case GOSSIP_LEFT:
		return "left";
	}
	return "?";
}
