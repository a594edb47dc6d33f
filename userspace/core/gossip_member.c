/* Gossip membership (docs/protocol.md, "Membership"): the member index,
 * states and versions, SWIM probes with indirect probes and Lifeguard's
 * suspicion and local health, refutation, and push-pull summaries. Never
 * touches record versions except through gossip_records.c's entry points.
 */
#include "core/gossip_int.h"

/* --- member index ------------------------------------------------------- */

struct member *gsp_member_find(struct gossip *g, const uint8_t *id)
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

void gsp_count_states(struct gossip *g)
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

void gsp_member_remove(struct gossip *g, struct member *m)
{
	int slot = (int)(m - g->members);

	table_del_origin(g->t, origin_of(g, m));
	if (m->sync >= 0)
		gsp_sync_free(g, m->sync);
	for (int i = 0; i < SERVES_MAX; i++)
		if (g->serves[i].used && g->serves[i].slot == slot)
			g->serves[i].used = false;
	if (g->probe.active && g->probe.slot == slot)
		g->probe.active = false;
	memset(m, 0, sizeof(*m));
	m->sync = -1;
	g->n_members--;
	index_rebuild(g);
	gsp_count_states(g);
}

struct member *gsp_member_add(struct gossip *g, const uint8_t *id, uint64_t epoch, uint32_t inc,
			      const struct glued_endpoint *addr, uint64_t now)
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
		gsp_member_remove(g, oldest);
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
	gsp_probe_enlist(g, (int)(m - g->members));
	event(g, GOSSIP_EV_JOINED, id, &m->addr, epoch, inc);
	return m;
}

/* --- membership --------------------------------------------------------- */

static uint64_t suspicion_timeout(const struct gossip *g, uint32_t confirmations)
{
	uint32_t n = cluster_size(g), k = g->tm.indirect_checks;
	double l = lg2(n) / 3.321928, mn, mx, t;

	/* Floor of 2 log-units (not memberlist's 1): at least 1.6 s of
	 * refutation chances once k members confirmed, which keeps a node behind
	 * a 10% lossy link alive (docs/protocol.md, "Timers and defaults"). */
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

void gsp_set_dead(struct gossip *g, struct member *m, uint8_t state, uint64_t now)
{
	bool was_live = live(m);

	m->state = state;
	m->state_ms = now;
	gsp_count_states(g);
	if (!was_live)
		return;
	gsp_withdraw(g, m);
	if (state == GOSSIP_DEAD)
		g->st.deaths++;
	else
		g->st.leaves++;
	event(g, state == GOSSIP_DEAD ? GOSSIP_EV_DEAD : GOSSIP_EV_LEFT, m->id, &m->addr, m->epoch,
	      m->inc);
}

/* Someone says we are suspect or dead at our current version: raise the
 * incarnation and sign it. Claims at any other version are not about us as
 * we are (older: already refuted; newer: nobody holds a version of ours we
 * did not sign, so it is forged, and following it could wrap the
 * incarnation). At most one refutation per probe interval: a member that
 * accuses us in a loop makes us sign and broadcast no faster than that,
 * and a suspicion lasts several intervals, so the delay costs nothing. */
bool gsp_refute(struct gossip *g, uint64_t epoch, uint32_t inc, uint64_t now)
{
	if (g->left || epoch != g->cfg.epoch || inc != g->inc) {
		g->st.claims_refused += !g->left && (epoch != g->cfg.epoch || inc > g->inc);
		return false;
	}
	if (now < g->next_refute) {
		g->refute_due = true;
		return false;
	}
	g->refute_due = false;
	g->next_refute = now + g->tm.probe_interval_ms;
	g->inc = inc + 1;
	g->st.refutations++;
	if (g->awareness < g->tm.awareness_max)
		g->awareness++;
	/* No broadcast: only nodes whose own probe of us failed suspect us,
	 * and each of them probes us again at its next probe, carrying its
	 * suspicion; the header of our answer carries the new incarnation
	 * (and push-pull the signed statement). So an accuser, lying or not,
	 * costs one signature here and a datagram or two, never a
	 * cluster-wide broadcast. */
	gsp_sign_self(g, 0);
	event(g, GOSSIP_EV_REFUTED, g->cfg.self_id, &g->cfg.self_addr, g->cfg.epoch, g->inc);
	return true;
}

/* Someone else suspects m: probe it ourselves next, instead of when the
 * round robin comes to it (up to n probe intervals away). Our failed probe
 * confirms the suspicion within a probe interval of hearing it, so the
 * timeout shrinks to its minimum as soon as k nodes heard; if m is alive,
 * our ping carries the SUSPECT to it and its ack clears our doubt. The
 * probe rate stays one per interval. */
static void probe_soon(struct gossip *g, struct member *m)
{
	int slot = (int)(m - g->members);

	if (g->probe.active && g->probe.slot == slot)
		return;
	/* a full list does not forget it: pick_probe_target looks for the
	 * flag once the list is empty (many deaths at once, at a node whose
	 * own probes Lifeguard has slowed, held a dead member alive for 40 s
	 * when the ninth accused was simply dropped) */
	m->probe_soon = true;
	if (g->soon_n == SOON_MAX)
		return;
	for (size_t i = 0; i < g->soon_n; i++)
		if (g->soon[i] == slot)
			return;
	g->soon[g->soon_n++] = slot;
}

/* Count `from` as an accuser of m (at its current version), once: true if
 * new. Only ourselves or a member we hold live counts: accusers are named
 * by whoever relays, and invented ones must not shorten anything. */
static bool add_accuser(struct gossip *g, struct member *m, const uint8_t *from)
{
	const struct member *c = gsp_member_find(g, from);
	uint64_t fh = hash_bytes(from, GOSSIP_ID_LEN);

	if (memcmp(from, g->cfg.self_id, GOSSIP_ID_LEN) && !(c && live(c) && c != m))
		return false;
	for (uint32_t i = 0; i < m->n_confirm; i++)
		if (m->confirm[i] == fh)
			return false;
	if (m->n_confirm == CONFIRM_MAX)
		return false;
	m->confirm[m->n_confirm++] = fh;
	return true;
}

/* Suspect m (our own probe failed: from is us), or confirm a suspicion we
 * hold (from is another accuser). Accusations heard while m was still
 * alive to us count as confirmations from the start: they are why we
 * probed it first. */
void gsp_suspect(struct gossip *g, struct member *m, uint64_t epoch, uint32_t inc,
		 const uint8_t *from, uint64_t now)
{
	if (vcmp(epoch, inc, m->epoch, m->inc) != 0)
		return; /* only at the version it signed last (gsp_on_member) */
	if (m->state == GOSSIP_SUSPECT) {
		/* an independent confirmation shortens the timeout (Lifeguard) */
		if (!add_accuser(g, m, from))
			return;
		m->susp_deadline = m->susp_start + suspicion_timeout(g, m->n_confirm - 1);
		gsp_bcast_member(g, GW_SUSPECT, m->id, epoch, inc, from);
		return;
	}
	if (memcmp(from, g->cfg.self_id, GOSSIP_ID_LEN))
		return; /* another's word alone: gsp_on_member probes it instead */
	(void)add_accuser(g, m, from);
	probe_soon(g, m); /* again at our next probe: it refutes, or confirms */
	m->state = GOSSIP_SUSPECT;
	m->state_ms = now;
	m->susp_start = now;
	m->susp_deadline = now + suspicion_timeout(g, m->n_confirm - 1);
	if (m->dead_heard && m->susp_deadline > now + 2 * g->tm.probe_interval_ms)
		m->susp_deadline = now + 2 * g->tm.probe_interval_ms; /* as in gsp_on_member */
	gsp_count_states(g);
	g->st.suspicions++;
	event(g, GOSSIP_EV_SUSPECT, m->id, &m->addr, epoch, inc);
	gsp_bcast_member(g, GW_SUSPECT, m->id, epoch, inc, from);
	{
		/* and to the suspect itself, now: it refutes to us directly */
		struct dg d;

		if (ep_known(&m->addr) && gsp_dg_open(g, &d, &m->addr, m->id))
			gsp_dg_close(g, &d, 0); /* carries our SUSPECT about it */
	}
}

/* A signed statement about a member other than us: verified (once: the
 * cache) only when it would tell us something new, then applied. */
static void on_stmt(struct gossip *g, const struct gw_msg *msg, const struct member *sender,
		    const struct glued_endpoint *from, uint64_t now)
{
	const struct gw_stmt *st = &msg->u.member.stmt;
	struct member *m = gsp_member_find(g, st->id);
	bool left = st->flags & GW_STMT_LEFT;
	int c;

	if (m && !gsp_stmt_newer(m, st))
		return; /* nothing new (the usual case): no verification */
	if (m && vcmp(st->epoch, st->incarnation, m->epoch, m->inc) < 0)
		return; /* we know a newer version from its own datagrams */
	if (!gsp_stmt_ok(g, st, msg->u.member.stmt_raw))
		return;
	gsp_heard_news(g, now);
	if (!m) {
		struct glued_endpoint a = st->addr;

		if (left)
			return;
		if (!ep_known(&a))
			a = msg->u.member.addr; /* the relay's hint */
		if (!ep_known(&a) && sender && !memcmp(st->id, sender->id, GOSSIP_ID_LEN))
			a = *from;
		m = gsp_member_add(g, st->id, st->epoch, st->incarnation, &a, now);
		if (!m)
			return;
		gsp_stmt_keep(m, st, msg->u.member.stmt_raw);
		gsp_note_head(m, st->head, now);
		gsp_bcast_stmt(g, m);
		return;
	}
	c = vcmp(st->epoch, st->incarnation, m->epoch, m->inc);
	gsp_stmt_keep(m, st, msg->u.member.stmt_raw);
	if (left) {
		if (c < 0 || (m->state == GOSSIP_LEFT && c == 0))
			return;
		if (st->epoch > m->epoch)
			gsp_epoch_advance(g, m, st->epoch);
		m->epoch = st->epoch;
		m->inc = st->incarnation;
		gsp_set_dead(g, m, GOSSIP_LEFT, now);
		gsp_bcast_stmt(g, m);
		return;
	}
	if (c > 0) {
		/* an address it signed beats what anyone says; a relay's hint
		 * only fills a gap (its own datagrams set it: on_header) */
		if (ep_known(&st->addr))
			m->addr = st->addr;
		else if (!ep_known(&m->addr) && ep_known(&msg->u.member.addr))
			m->addr = msg->u.member.addr;
		gsp_set_alive(g, m, st->epoch, st->incarnation, now);
		gsp_bcast_stmt(g, m);
	} else if (live(m)) {
		/* a newer statement at the same incarnation: head news */
		gsp_bcast_add(g, m->id_hash ^ 1, msg->raw, msg->raw_len);
	}
	if (st->epoch == m->epoch && live(m))
		gsp_note_head(m, st->head, now);
}

void gsp_on_member(struct gossip *g, const struct gw_msg *msg, const struct member *sender,
		   const struct glued_endpoint *from, uint64_t now)
{
	const uint8_t *id = msg->u.member.id;
	uint64_t e = msg->u.member.epoch;
	uint32_t inc = msg->u.member.incarnation;
	struct member *m;
	int c;

	if (!memcmp(id, g->cfg.self_id, GOSSIP_ID_LEN)) {
		struct member *a = sender ? gsp_member_find(g, sender->id) : NULL;
		struct dg d;

		if (msg->type != GW_SUSPECT && msg->type != GW_DEAD)
			return; /* our own statements, or a LEFT we never signed */
		if (!gsp_refute(g, e, inc, now) || !a ||
		    now - a->last_told_ms < g->tm.probe_interval_ms)
			return;
		/* tell the accuser itself at once (it suspects us, or relays
		 * someone who does): our new incarnation in the header, our
		 * statement inside. One datagram per accuser and interval. */
		a->last_told_ms = now;
		if (gsp_dg_open(g, &d, &a->addr, a->id)) {
			gw_put_alive(&d.w, &g->stmt, NULL);
			gsp_dg_close(g, &d, 0);
		}
		return;
	}
	if (msg->type == GW_ALIVE || msg->type == GW_LEFT) {
		on_stmt(g, msg, sender, from, now);
		return;
	}
	if (!sender)
		return; /* accusations count only from a proven sender */
	/* SUSPECT, DEAD: anyone may accuse (SWIM), but only at the version the
	 * member signed last as we hold it: an accusation never moves a
	 * member's epoch or incarnation, so it cannot outlast the refutation */
	m = gsp_member_find(g, id);
	if (!m)
		return;
	c = vcmp(e, inc, m->epoch, m->inc);
	if (c > 0)
		g->st.claims_refused++;
	if (c != 0 || !live(m))
		return;
	/* Someone else's SUSPECT or DEAD is a reason to probe the member
	 * next, and one more confirmation once our own probe failed; never a
	 * suspicion or a death by itself. The member dies here when our own
	 * suspicion timer runs out (housekeeping), which every refutation
	 * stops. So a lying member can neither remove another's records nor
	 * make the cluster broadcast suspicions and refutations: all it buys
	 * is which member we probe next (the probe rate stays one per
	 * interval). An honest death is adopted one probe later (the news of
	 * it makes everyone probe the dead node at once). */
	if (m->state == GOSSIP_SUSPECT) {
		gsp_suspect(g, m, e, inc, msg->u.member.from, now);
		/* someone's timer ran out on what our own probe also saw: ours
		 * ends within two probe intervals, time enough for the probe
		 * that carries our suspicion to it to bring its refutation */
		if (msg->type == GW_DEAD && m->susp_deadline > now + 2 * g->tm.probe_interval_ms)
			m->susp_deadline = now + 2 * g->tm.probe_interval_ms;
	} else if (add_accuser(g, m, msg->u.member.from)) {
		m->dead_heard |= msg->type == GW_DEAD;
		probe_soon(g, m);
		/* pass the news on, so every node probes it soon: at most one
		 * such relay per probe interval, so an accuser in a loop costs
		 * each node a bounded trickle, not a broadcast per accusation */
		if (now >= g->next_accusation_relay) {
			g->next_accusation_relay = now + g->tm.probe_interval_ms;
			gsp_bcast_member(g, msg->type, id, e, inc, msg->u.member.from);
		}
	}
}

/* --- probing ------------------------------------------------------------ */

static int pick_probe_target(struct gossip *g)
{
	while (g->soon_n) {
		int s = g->soon[0];
		struct member *m = &g->members[s];

		memmove(g->soon, g->soon + 1, --g->soon_n * sizeof(g->soon[0]));
		m->probe_soon = false;
		if (live(m) && ep_known(&m->addr))
			return s; /* someone accused it: probe it now */
	}
	for (int s = 0; s < GOSSIP_MEMBERS_MAX; s++) {
		struct member *m = &g->members[s];

		if (m->used && m->probe_soon) {
			m->probe_soon = false;
			if (live(m) && ep_known(&m->addr))
				return s; /* accused while the list was full */
		}
	}
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

/* A member that became live (new, or back from the dead) joins the current
 * probe cycle at a random place in what is left of it, as in memberlist:
 * waiting for the next rebuild would leave it unprobed for up to a whole
 * cycle (n probe intervals: 50 s at 100 nodes), and its death unnoticed by
 * this node as long. */
void gsp_probe_enlist(struct gossip *g, int slot)
{
	size_t left = g->order_n - g->order_pos, at;

	for (size_t i = g->order_pos; i < g->order_n; i++)
		if (g->order[i] == slot)
			return;
	if (g->order_n == GOSSIP_MEMBERS_MAX) {
		/* drop what was probed already; `left` < max: slot is not in it */
		memmove(g->order, g->order + g->order_pos, left * sizeof(*g->order));
		g->order_pos = 0;
		g->order_n = left;
	}
	at = g->order_pos + rnd_below(g, (uint32_t)left + 1);
	memmove(&g->order[at + 1], &g->order[at], (g->order_n - at) * sizeof(*g->order));
	g->order[at] = slot;
	g->order_n++;
}

/* Up to k distinct random live members other than `except` into out[]. */
size_t gsp_pick_random(struct gossip *g, int except, int *out, size_t k)
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
		if (m->state == GOSSIP_ALIVE) {
			m->n_confirm = 0; /* it answered: accusations so far were wrong */
			m->dead_heard = false;
		}
		return;
	}
	g->st.probe_failed++;
	/* Lifeguard: missing nacks mean our own links are the problem */
	g->awareness += p->nacks_expected ? p->nacks_expected - p->nacks : 1;
	if (g->awareness > g->tm.awareness_max)
		g->awareness = g->tm.awareness_max;
	/* On a member already suspect (someone else's word reached us first)
	 * our own failed probe is an independent confirmation: count it and
	 * tell the others, as memberlist does. Without it a small cluster
	 * never confirms anything (the news of a suspicion outruns every
	 * other prober) and each death takes the full suspicion_max. */
	if (live(m))
		gsp_suspect(g, m, m->epoch, m->inc, g->cfg.self_id, now);
}

void gsp_probe_step(struct gossip *g, uint64_t now)
{
	struct probe *p = &g->probe;

	if (p->active && !p->acked && !p->ind_sent && now >= p->ind_at) {
		struct member *t = &g->members[p->slot];
		int relays[8];
		size_t k = gsp_pick_random(g, p->slot, relays,
					   g->tm.indirect_checks < 8 ? g->tm.indirect_checks : 8);

		p->ind_sent = true;
		p->nacks_expected = (uint32_t)k;
		/* and the target once more directly: at 5 % loss a direct probe
		 * fails 10 % of the time, and each false suspicion costs the
		 * cluster a SUSPECT and a refutation at full budget */
		gsp_send_probe(g, &t->addr, t->id, GW_PING, p->seq, t->id, NULL);
		for (size_t i = 0; i < k; i++) {
			struct member *r = &g->members[relays[i]];

			gsp_send_probe(g, &r->addr, r->id, GW_PING_REQ, p->seq, t->id, &t->addr);
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
		g->members[s].probe_soon = false;
		p->seq = ++g->next_probe_seq;
		p->sent = now;
		p->ind_at = now + scaled(g, g->tm.probe_timeout_ms);
		p->end = g->next_probe;
		g->st.probes++;
		gsp_send_probe(g, &g->members[s].addr, g->members[s].id, GW_PING, p->seq,
			       g->members[s].id, NULL);
	}
}

/* The ACK of sender's PING, and behind it our waiting sync request to
 * sender if the PING may be its challenge (gsp_sync_renew). */
static void send_ack(struct gossip *g, const struct glued_endpoint *from, struct member *sender,
		     uint32_t seq, uint64_t now)
{
	struct dg d;

	if (!gsp_dg_open(g, &d, from, sender->id))
		return;
	gw_put_probe(&d.w, GW_ACK, seq, g->cfg.self_id, NULL);
	if (ep_eq(from, &sender->addr))
		gsp_sync_renew(g, sender, &d.w, now);
	gsp_dg_close(g, &d, ++g->stamp);
}

bool gsp_probe_for_me(const struct gossip *g, const struct gw_msg *msg)
{
	static const uint8_t zero[GOSSIP_ID_LEN];

	return !memcmp(msg->u.probe.target, zero, GOSSIP_ID_LEN) ||
	       !memcmp(msg->u.probe.target, g->cfg.self_id, GOSSIP_ID_LEN);
}

void gsp_on_probe(struct gossip *g, const struct gw_msg *msg, struct member *sender,
		  const struct glued_endpoint *from, uint64_t now)
{
	const uint8_t *target = msg->u.probe.target;

	switch (msg->type) {
	case GW_PING:
		if (!gsp_probe_for_me(g, msg))
			return; /* meant for another node (restarted at this address?) */
		send_ack(g, from, sender, msg->u.probe.seq, now);
		return;
	case GW_ACK:
		if (g->probe.active && msg->u.probe.seq == g->probe.seq &&
		    !memcmp(target, g->members[g->probe.slot].id, GOSSIP_ID_LEN)) {
			if (!g->probe.acked)
				g->st.probe_acks++;
			if (!g->probe.acked && !g->probe.ind_sent &&
			    sender == &g->members[g->probe.slot]) /* direct, first try (Karn) */
				gsp_rtt_sample(g, sender, now - g->probe.sent);
			g->probe.acked = true;
			return;
		}
		for (int i = 0; i < RELAYS_MAX; i++) {
			struct relay *r = &g->relays[i];

			if (r->used && r->my_seq == msg->u.probe.seq &&
			    !memcmp(r->target, target, GOSSIP_ID_LEN)) {
				gsp_send_probe(g, &r->requester_addr, r->requester, GW_ACK,
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
			gsp_send_probe(g, &msg->u.probe.addr, target, GW_PING, r->my_seq, target,
				       NULL);
			return;
		}
		return;
	}
}

void gsp_relays_step(struct gossip *g, uint64_t now)
{
	for (int i = 0; i < RELAYS_MAX; i++) {
		struct relay *r = &g->relays[i];

		if (!r->used)
			continue;
		if (!r->nacked && now >= r->nack_at) {
			r->nacked = true;
			g->st.nacks_sent++;
			gsp_send_probe(g, &r->requester_addr, r->requester, GW_NACK, r->their_seq,
				       r->target, NULL);
		}
		if (now >= r->expire)
			r->used = false;
	}
}

/* --- push-pull summary -------------------------------------------------- */

static uint64_t entry_hash(uint64_t id_hash, uint64_t epoch, uint32_t inc, bool down, uint64_t head)
{
	return mix64(id_hash ^ mix64(epoch * 0x9e3779b97f4a7c15ull + inc) ^
		     (down ? 0x5bd1e995ull : mix64(head + 0x632be59bd9b4e019ull)));
}

/* The head of m's newest statement of its current life we hold (0: none).
 * Summaries compare what each side can pass on, so that a push-pull
 * repairs missed statements, not records a sync is fetching already. */
static uint64_t stmt_head(const struct member *m)
{
	return m->has_stmt && m->stmt.epoch == m->epoch ? m->stmt.head : 0;
}

static void summary_hashes(const struct gossip *g, uint64_t h[GW_BUCKETS])
{
	memset(h, 0, GW_BUCKETS * sizeof(h[0]));
	h[g->cfg.self_id[0] % GW_BUCKETS] ^=
	    entry_hash(g->self_hash, g->cfg.epoch, g->inc, false, g->stmt.head);
	for (int s = 0; s < GOSSIP_MEMBERS_MAX; s++) {
		const struct member *m = &g->members[s];

		if (m->used)
			h[m->id[0] % GW_BUCKETS] ^=
			    entry_hash(m->id_hash, m->epoch, m->inc, !live(m), stmt_head(m));
	}
}

void gsp_put_summary(struct gossip *g, struct wire_out *w, uint8_t flags)
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
		gw_put_alive(w, &g->stmt, NULL);
	else if (m->state == GOSSIP_DEAD)
		gw_put_member(w, GW_DEAD, m->id, m->epoch, m->inc, g->cfg.self_id);
	else if (!m->has_stmt)
		return true; /* nothing signed to pass on: it speaks for itself */
	else if (m->state == GOSSIP_LEFT)
		gw_put_left(w, &m->stmt);
	else
		gw_put_alive(w, &m->stmt, &m->addr);
	if (w->err) {
		gw_rollback(w, off);
		return false;
	}
	return true;
}

void gsp_on_summary(struct gossip *g, const struct gw_msg *msg, const uint8_t *sender_id,
		    const struct glued_endpoint *from)
{
	uint64_t mine[GW_BUCKETS];
	uint32_t b0 = rnd_below(g, GW_BUCKETS), s0 = rnd_below(g, GOSSIP_MEMBERS_MAX);
	size_t dgrams = 0;
	struct dg d;

	summary_hashes(g, mine);
	if (!gsp_dg_open(g, &d, from, sender_id))
		return;
	if (!(msg->u.summary.flags & GW_SUMMARY_REPLY))
		gsp_put_summary(g, &d.w, GW_SUMMARY_REPLY);
	for (uint32_t i = 0; i < GW_BUCKETS; i++) {
		uint32_t b = (b0 + i) % GW_BUCKETS;

		if (mine[b] == msg->u.summary.hash[b])
			continue;
		/* from a random member on: when a bucket holds more than the
		 * answer can carry, the next exchange carries others (a member
		 * late in every peer's slot order was never sent) */
		for (int k = -1; k < GOSSIP_MEMBERS_MAX; k++) {
			const struct member *m =
			    k < 0 ? NULL : &g->members[(s0 + (uint32_t)k) % GOSSIP_MEMBERS_MAX];
			const uint8_t *id = m ? m->id : g->cfg.self_id;

			if ((m && !m->used) || id[0] % GW_BUCKETS != b)
				continue;
			if (put_entry(g, &d.w, m))
				continue;
			gsp_dg_close(g, &d, 0);
			if (++dgrams == PP_DGRAMS_MAX || !gsp_dg_open(g, &d, from, sender_id))
				return;
			if (!put_entry(g, &d.w, m))
				break;
		}
	}
	gsp_dg_close(g, &d, 0);
}
