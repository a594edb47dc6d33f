/* Gossip records (docs/protocol.md, "Records"): per-origin versions (the
 * contiguous head and the out-of-order window), applying deltas and syncs to
 * the name table, serving syncs, and this node's own records learned from
 * the table's entry observer. Never decides membership.
 */
#include "core/gossip_int.h"

#define SYNC_RTO_MIN_MS 20 /* floor of the adaptive sync timeout */

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

void gsp_withdraw(struct gossip *g, struct member *m)
{
	table_del_origin(g->t, origin_of(g, m));
	m->records = 0;
	m->need_full = true;
	if (m->sync >= 0)
		gsp_sync_free(g, m->sync);
}

/* The origin restarted: everything it said before goes, wholesale. */
void gsp_epoch_advance(struct gossip *g, struct member *m, uint64_t epoch)
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
		gsp_sync_free(g, m->sync);
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

void gsp_note_head(struct member *m, uint64_t head, uint64_t now)
{
	if (head > m->known_head)
		m->known_head = head;
	if ((m->known_head > m->head || m->need_full) && !m->gap_since)
		m->gap_since = now ? now : 1;
}

/* As gsp_note_head; a head we had not heard of is news we pass on (with
 * the full retransmit budget) when we hold the origin's statement of it:
 * whoever missed the origin's last records learns of the gap from it and
 * syncs, however few of the records themselves reached it. (A head heard
 * only in the origin's own header cannot be passed on: nobody would take
 * it unsigned. The origin's own head news, and every relay of it, carry
 * the statement.) */
void gsp_learn_head(struct gossip *g GLUED_UNUSED, struct member *m, uint64_t head, uint64_t now)
{
	gsp_note_head(m, head, now);
}

void gsp_set_alive(struct gossip *g, struct member *m, uint64_t epoch, uint32_t inc, uint64_t now)
{
	bool was_down = !live(m);

	if (epoch > m->epoch)
		gsp_epoch_advance(g, m, epoch);
	if (vcmp(epoch, inc, m->epoch, m->inc) != 0) {
		m->n_confirm = 0; /* accusations were about the version it left behind */
		m->dead_heard = false;
	}
	m->epoch = epoch;
	m->inc = inc;
	if (m->state != GOSSIP_ALIVE) {
		m->state = GOSSIP_ALIVE;
		m->state_ms = now;
		m->n_confirm = 0;
		m->dead_heard = false;
		gsp_count_states(g);
	}
	if (was_down) {
		gsp_probe_enlist(g, (int)(m - g->members));
		event(g, GOSSIP_EV_JOINED, m->id, &m->addr, epoch, inc);
		gsp_note_head(m, 0, now);
	}
}

/* Would a record of version s of m, under a statement of epoch `epoch`,
 * tell us nothing new? */
static bool delta_stale(const struct gossip *g, const struct member *m, uint64_t epoch, uint64_t s)
{
	return epoch == m->epoch &&
	       (s <= m->head || s <= m->sync_floor || (m->sync >= 0 && g->syncs[m->sync].full) ||
		(s <= m->head + WIN && win_has(m, s)));
}

/* One record of a verified DELTA: applied if new, then queued for relay
 * (with the statement, which the queue sends once per datagram). */
static void apply_item(struct gossip *g, struct member *m, const struct gw_msg *msg,
		       const struct gw_delta_item *it, uint64_t now)
{
	const struct gw_record *r = &it->rec;
	uint64_t s = r->seq, oh;

	if (s <= m->head || s <= m->sync_floor || (m->sync >= 0 && g->syncs[m->sync].full)) {
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
	g->st.deltas_applied++;
	/* A full queue (a burst larger than it) keeps the head news queued
	 * above, one entry per origin, rather than records that would only
	 * push each other out: whoever hears the news syncs. */
	if (!gsp_bcast_full(g))
		gsp_bcast_delta(g, msg->u.delta.stmt_raw, it->raw, it->raw_len, s);
}

/* Record changes of origin m, relayed by anyone: applied only if its
 * origin signed them (the statement covers each record through its Merkle
 * path). Checked only when the message would tell us something — a record
 * we lack, or a statement newer than the newest of m we hold: the copies
 * that epidemic dissemination delivers many times cost no cryptography. */
void gsp_on_delta(struct gossip *g, const struct gw_msg *msg, uint64_t now)
{
	const struct gw_stmt *st = &msg->u.delta.stmt;
	struct member *m = gsp_member_find(g, st->id);
	uint8_t count = msg->u.delta.count;
	struct gw_delta_item it;
	struct wire w;
	size_t fresh = 0;
	bool newer;

	g->st.deltas_rcvd += count;
	if (!m || !live(m) || st->epoch < m->epoch) {
		g->st.deltas_stale += count;
		return;
	}
	w = wire_init(msg->u.delta.items, msg->u.delta.items_len);
	for (uint8_t i = 0; i < count; i++) {
		if (gw_delta_item_decode(&w, &it))
			return; /* gw_check validated it; cannot happen */
		fresh += !delta_stale(g, m, st->epoch, it.rec.seq);
	}
	newer = gsp_stmt_newer(m, st);
	if (!fresh && !newer) {
		g->st.deltas_stale += count;
		return;
	}
	if (!gsp_delta_ok(g, msg))
		return;
	if (newer) {
		gsp_stmt_keep(m, st, msg->u.delta.stmt_raw);
		gsp_heard_news(g, now);
	}
	if (vcmp(st->epoch, st->incarnation, m->epoch, m->inc) > 0)
		gsp_set_alive(g, m, st->epoch, st->incarnation, now); /* proof of a newer life */
	gsp_learn_head(g, m, st->head, now);
	if (newer && live(m))
		gsp_bcast_head(g, m); /* a newer statement: head news */
	w = wire_init(msg->u.delta.items, msg->u.delta.items_len);
	for (uint8_t i = 0; i < count; i++) {
		if (gw_delta_item_decode(&w, &it))
			return;
		apply_item(g, m, msg, &it, now);
	}
	if (m->known_head <= m->head && !m->need_full)
		m->gap_since = 0;
}

/* --- syncs -------------------------------------------------------------- */

void gsp_sync_free(struct gossip *g, int s)
{
	struct sync *y = &g->syncs[s];

	if (y->slot >= 0 && g->members[y->slot].sync == s)
		g->members[y->slot].sync = -1;
	free(y->owners);
	memset(y, 0, sizeof(*y));
	y->slot = -1;
}

/* RFC 6298 smoothing of one sample (ms) into e (1/8 ms units). */
static void rtt_sample(struct rtt *e, uint64_t ms)
{
	uint32_t r = ms > 60000 ? 60000 * 8 : (uint32_t)ms * 8;

	if (!e->srtt) {
		e->srtt = r ? r : 1;
		e->rttvar = r / 2;
		return;
	}
	e->rttvar = (3 * e->rttvar + (r > e->srtt ? r - e->srtt : e->srtt - r)) / 4;
	e->srtt = (7 * e->srtt + r) / 8;
	if (!e->srtt)
		e->srtt = 1;
}

/* How long a sync to m may stay silent: srtt + 4 rttvar of m (of anyone
 * before m answered one), at least SYNC_RTO_MIN_MS, doubled per attempt in
 * a row that got no answer at all (m may be overloaded or gone), at most
 * sync_timeout_ms (also the value before any sample). */
static uint32_t sync_rto(const struct gossip *g, const struct member *m)
{
	const struct rtt *e = m->rtt.srtt ? &m->rtt : &g->rtt;
	uint64_t rto = g->tm.sync_timeout_ms;

	if (e->srtt) {
		rto = (e->srtt + 4 * (uint64_t)e->rttvar + 7) / 8;
		if (rto < SYNC_RTO_MIN_MS)
			rto = SYNC_RTO_MIN_MS;
		rto <<= m->sync_fails < 8 ? m->sync_fails : 8;
	}
	return rto < g->tm.sync_timeout_ms ? (uint32_t)rto : g->tm.sync_timeout_ms;
}

/* A new sample: syncs still waiting for their first chunk get the new
 * timeout (the first burst of syncs of a node starts before any sample). */
static void rearm_syncs(struct gossip *g)
{
	for (int s = 0; s < SYNCS_MAX; s++) {
		struct sync *y = &g->syncs[s];

		if (y->used && !y->n_got) {
			y->rto = sync_rto(g, &g->members[y->slot]);
			y->deadline = y->start + y->rto;
		}
	}
}

/* A round trip to m: the first chunk of a sync, or the direct ack of a
 * probe (so a node that never synced has an estimate when it first must). */
void gsp_rtt_sample(struct gossip *g, struct member *m, uint64_t ms)
{
	rtt_sample(&m->rtt, ms);
	rtt_sample(&g->rtt, ms);
	rearm_syncs(g);
}

void gsp_sync_start(struct gossip *g, struct member *m, uint64_t now)
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
	/* Full (replace everything) only when we may hold stale records of
	 * this origin: after its death. A fresh origin is synced from 0
	 * incrementally: tombstones included, no table-wide cleanup. */
	y->full = m->need_full;
	y->from = y->full ? 0 : m->head;
	y->have = y->full ? 0 : m->win.bits;
	y->start = now;
	y->rto = sync_rto(g, m);
	y->deadline = now + y->rto;
	m->sync = s;
	g->st.syncs_started++;
	if (!gsp_dg_open(g, &d, &m->addr, m->id))
		return;
	gw_put_sync_req(&d.w, y->id, m->epoch, y->from, y->have, y->full ? GW_SYNC_FULL : 0);
	gsp_dg_close(g, &d, ++g->stamp);
}

/* m sent us a PING while our sync from it waits for its first chunk: most
 * likely its challenge (gossip_amp.h), because it refused the request from
 * an address it has not seen proven. The same request again behind the ACK
 * (w) is served as soon as that ACK proves us, a round trip later, where
 * our timeout would retry only after rto and back off. Added only if the
 * datagram still fits our budget towards m; m drops a copy of a request it
 * serves already (same ID). */
void gsp_sync_renew(struct gossip *g, struct member *m, struct wire_out *w, uint64_t now)
{
	struct sync *y = m->sync >= 0 ? &g->syncs[m->sync] : NULL;
	size_t off = wire_out_len(w);

	if (!y || y->n_got)
		return;
	gw_put_sync_req(w, y->id, m->epoch, y->from, y->have, y->full ? GW_SYNC_FULL : 0);
	if (w->err || !gossip_amp_fits(&g->amp, &m->addr, wire_out_len(w) + GOSSIP_SEAL_OVERHEAD)) {
		gw_rollback(w, off);
		return;
	}
	y->start = now;
	y->deadline = now + y->rto;
	g->st.syncs_renewed++;
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

void gsp_on_sync_data(struct gossip *g, const struct gw_msg *msg, struct member *m, uint64_t now)
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
		gsp_set_alive(g, m, msg->u.sync_data.epoch, 0, now); /* frees the sync */
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
		gsp_learn_head(g, m, y->to, now);
	}
	if (!y->n_got) /* each attempt has its own id: the sample is unambiguous (Karn) */
		gsp_rtt_sample(g, m, now - y->start);
	m->sync_fails = 0;
	y->deadline = now + y->rto;
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
					gsp_sync_free(g, m->sync);
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
	/* The origin answered up to `to`. A head above that and above
	 * anything it signed was only ever said in its own datagram headers:
	 * a member announcing records it never serves would be synced every
	 * round. Forget such a head (a real one comes back signed) and sync
	 * again only after gap_ms. */
	if (m->known_head > m->head &&
	    (!m->has_stmt || m->stmt.epoch != m->epoch || m->known_head > m->stmt.head))
		m->known_head = m->has_stmt && m->stmt.epoch == m->epoch && m->stmt.head > m->head
				    ? m->stmt.head
				    : m->head;
	m->gap_since = m->known_head <= m->head ? 0 : now;
	g->st.syncs_completed++;
	gsp_sync_free(g, m->sync);
	gsp_sync_next(g, now);
}

/* Syncs silent past their deadline are retried at once, with a backed-off
 * timeout: what did arrive sits in the window and is not asked for again. */
void gsp_syncs_step(struct gossip *g, uint64_t now)
{
	for (int s = 0; s < SYNCS_MAX; s++) {
		struct sync *y = &g->syncs[s];
		struct member *m;

		if (!y->used || now < y->deadline)
			continue;
		m = &g->members[y->slot];
		g->st.syncs_timed_out++;
		if (!y->n_got && m->sync_fails < UINT32_MAX)
			m->sync_fails++; /* silence backs off; a lost chunk does not */
		m->next_sync_ms = now;
		gsp_sync_free(g, s);
		if (gsp_sync_due(g, m, now))
			gsp_sync_start(g, m, now);
	}
}

uint64_t gsp_syncs_deadline(const struct gossip *g)
{
	uint64_t d = UINT64_MAX;

	for (int s = 0; s < SYNCS_MAX; s++)
		if (g->syncs[s].used && g->syncs[s].deadline < d)
			d = g->syncs[s].deadline;
	return d;
}

bool gsp_sync_due(const struct gossip *g, const struct member *m, uint64_t now)
{
	return m->gap_since && m->sync < 0 && live(m) && now - m->gap_since >= g->tm.gap_ms &&
	       now >= m->next_sync_ms && ep_known(&m->addr) &&
	       (m->known_head > m->head || m->need_full);
}

/* A slot just freed: start the next due sync now rather than at the next
 * round, so a node missing many origins (a late joiner, a burst larger than
 * the dissemination queue) is limited by round trips, not by rounds. */
void gsp_sync_next(struct gossip *g, uint64_t now)
{
	for (int i = 0; i < GOSSIP_MEMBERS_MAX; i++) {
		struct member *m = &g->members[g->sync_cursor];

		g->sync_cursor = (g->sync_cursor + 1) % GOSSIP_MEMBERS_MAX;
		if (m->used && gsp_sync_due(g, m, now)) {
			gsp_sync_start(g, m, now);
			return;
		}
	}
}

/* What one requester may be sent again. Records changed since the last
 * sync we completed for it (above m->served_to) are free: that is what an
 * honest node asks for, however busy the burst. Records it was sent before
 * (a full copy after it held us dead, a chunk lost on the way, or a member
 * asking for everything in a loop) come out of a bucket that holds about
 * one full copy of our records and refills at SERVE_RATE bytes/s. */
#define SERVE_RATE 2048

static int64_t serve_burst(const struct gossip *g)
{
	return (int64_t)(g->live_lrecs + g->tombs) * 128 + 2 * GOSSIP_DGRAM_MAX;
}

void gsp_on_sync_req(struct gossip *g, const struct gw_msg *msg, struct member *m, uint64_t now)
{
	struct serve *v = NULL;
	int slot = (int)(m - g->members);
	int64_t burst = serve_burst(g);

	if (!gossip_amp_validated(&g->amp, &m->addr)) {
		/* snapshots only where they are known to arrive: the requester
		 * retries after its timeout, by then (normally) proven */
		g->st.syncs_unproven++;
		gsp_challenge(g, &m->addr, m->id, GSP_REFUSED);
		return;
	}
	if (!m->serve_ms) /* a requester starts with a full bucket */
		m->serve_tokens = burst;
	else
		m->serve_tokens += (int64_t)((now - m->serve_ms) * SERVE_RATE / 1000);
	if (m->serve_tokens > burst)
		m->serve_tokens = burst;
	m->serve_ms = now ? now : 1;
	if (m->serve_tokens <= 0 &&
	    (msg->u.sync_req.from < m->served_to || msg->u.sync_req.flags & GW_SYNC_FULL)) {
		g->st.syncs_refused++;
		return;
	}

	for (int i = 0; i < SERVES_MAX; i++)
		if (g->serves[i].used && g->serves[i].slot == slot)
			v = &g->serves[i]; /* a retry replaces the one in progress */
	if (v && v->id == msg->u.sync_req.id)
		return; /* a copy (gsp_sync_renew): that one is being served */
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
	v->full = msg->u.sync_req.flags & GW_SYNC_FULL || v->from < g->tomb_floor ||
		  v->from > g->seq || msg->u.sync_req.epoch != g->cfg.epoch;
	v->have = v->full ? 0 : msg->u.sync_req.have;
	v->free_above = m->served_to;
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
bool gsp_serve_chunk(struct gossip *g, struct serve *v, struct gossip_out *o)
{
	struct member *m = &g->members[v->slot];
	struct gw_hdr h = {g->cfg.epoch, g->inc, g->stmt.head};
	struct wire_out w = wire_out_init(o->buf, GOSSIP_DGRAM_MAX);
	size_t off, rec_off;
	uint8_t count = 0, flags = v->full ? GW_SYNC_FULL : 0;

	if (!live(m) || v->chunk >= CHUNKS_MAX || m->serve_tokens <= 0 ||
	    !gossip_amp_validated(&g->amp, &m->addr)) {
		v->used = false; /* out of budget: the requester times out, retries later */
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
		rec_off = wire_out_len(&w);
		if (!put_local(g, &w, l))
			break;
		if (l->seq <= v->free_above)
			m->serve_tokens -= (int64_t)(wire_out_len(&w) - rec_off); /* sent before */
		count++;
	}
	if (v->cursor == g->n_lrecs) {
		flags |= GW_SYNC_LAST;
		v->used = false;
		if (m->served_to < v->to)
			m->served_to = v->to;
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

/* A change of ours waits for its statement (gossip_sign.c): the first one
 * after a quiet interval is signed at the next tick, later ones in batches
 * of up to sign_interval_ms. */
static void publish(struct gossip *g, struct lrec *l)
{
	uint8_t buf[GW_RECORD_MAX];
	struct wire_out w = wire_out_init(buf, sizeof(buf));

	if (!put_local(g, &w, l) || w.err)
		return;
	gsp_pend_add(g, buf, wire_out_len(&w));
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

void gsp_on_entry(void *ctx, uint32_t origin, const char *owner)
{
	struct gossip *g = ctx;
	const struct table_entry *e;
	struct lrec *l;
	uint64_t h;

	if (origin != 0 || g->left)
		return;
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

int gsp_publish_existing(void *ctx, const struct table_entry *e)
{
	if (e->origin == 0)
		gsp_on_entry(ctx, 0, e->owner);
	return 0;
}
