/* The gossip core (docs/protocol.md): the public API, the receive path,
 * timers and datagram output. Membership lives in gossip_member.c, records
 * and syncs in gossip_records.c, the dissemination queue in
 * gossip_bcast.c. Together they own
 * the remote origins of one name table and the protocol state behind them;
 * they never do I/O, never read a clock or the kernel RNG, never log, and
 * allocate only when replicated state grows (members, local record index, a
 * full sync's owner set) and at gossip_new.
 */
#include "core/gossip_int.h"

/* --- output ------------------------------------------------------------- */

bool gsp_dg_open(struct gossip *g, struct dg *d, const struct glued_endpoint *to,
		 const uint8_t *to_id)
{
	struct gw_hdr h = {g->cfg.epoch, g->inc, g->stmt.head};

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
	d->uncharged = false;
	d->cookie = false;
	gw_put_hdr(&d->w, &h);
	return true;
}

/* A PING whose sequence is to's cookie, sealed to to_id: its ACK proves to
 * (gossip_amp.h). Provoked by a datagram from there, it is charged to the
 * address's budget (and always fits: it goes before any answer), at most
 * one per GOSSIP_CHALLENGE_MIN_MS; one per refused sync request, whose
 * requester retries at its round-trip timeout (20 ms on a LAN): each retry
 * is a chance for the proof, not a wait for the gap. On the core's own
 * initiative (its timers have something for that address) it is charged
 * while it fits, else free with a backoff: two nodes that each spent their
 * budget on the other would otherwise wait for each other forever. */
void gsp_challenge(struct gossip *g, const struct glued_endpoint *to, const uint8_t *to_id,
		   enum gsp_why why)
{
	struct glued_endpoint ep = *to;
	uint8_t id[GOSSIP_ID_LEN];
	const struct member *m = gsp_member_find(g, to_id);
	bool provoked = why != GSP_OWN;
	struct dg d;

	if (gossip_amp_validated(&g->amp, &ep))
		return;
	memcpy(id, to_id, GOSSIP_ID_LEN);
	if (!gsp_dg_open(g, &d, &ep, id))
		return;
	d.uncharged = true;
	d.cookie = !provoked;
	gw_put_probe(&d.w, GW_PING, gossip_amp_cookie(&g->amp, &ep, g->now), id, NULL);
	/* (+ a SUSPECT gsp_dg_close may add) */
	if (!gossip_amp_challenge_due(
		&g->amp, &ep, g->now,
		provoked ? wire_out_len(&d.w) + GW_MSG_HDR_LEN + 80 + GOSSIP_SEAL_OVERHEAD : 0,
		provoked ? why == GSP_REFUSED : m && m->sync >= 0 && ep_eq(&m->addr, &ep)))
		return; /* not queued: the slot stays free */
	gsp_dg_close(g, &d, 0);
}

/* Piggyback (stamp != 0) and queue the datagram if it carries anything.
 * A member we gsp_suspect hears it from us first hand, in whatever we send it,
 * so it can gsp_refute long before its suspicion times out. */
void gsp_dg_close(struct gossip *g, struct dg *d, uint32_t stamp)
{
	bool proven;

	if (!d->o)
		return;
	if (g->stamp >= UINT32_MAX - 1)
		g->stamp = 1; /* keep UINT32_MAX free; a wrap at worst re-sends an update */
	if (d->o->to_id_known) {
		struct member *m = gsp_member_find(g, d->o->to_id);
		size_t off = wire_out_len(&d->w);

		if (m && m->state == GOSSIP_SUSPECT) {
			gw_put_member(&d->w, GW_SUSPECT, m->id, m->epoch, m->inc, g->cfg.self_id);
			if (d->w.err)
				gw_rollback(&d->w, off);
		}
	}
	proven = gossip_amp_validated(&g->amp, &d->o->to);
	/* Piggybacked updates go only where they are known to arrive. */
	if (stamp && proven)
		gsp_bcast_fill(g, &d->w, stamp);
	if (!d->w.err && wire_out_len(&d->w) > GW_HDR_LEN &&
	    (d->cookie || (d->uncharged && !gossip_amp_heard(&g->amp, &d->o->to)) ||
	     gossip_amp_may_send(&g->amp, &d->o->to, wire_out_len(&d->w) + GOSSIP_SEAL_OVERHEAD))) {
		d->o->len = wire_out_len(&d->w);
		g->out_n++;
		g->st.tx_dgrams++;
		g->st.tx_bytes += d->o->len;
	}
	if (!proven && d->o->to_id_known)
		gsp_challenge(g, &d->o->to, d->o->to_id, GSP_OWN);
}

void gsp_send_probe(struct gossip *g, const struct glued_endpoint *to, const uint8_t *to_id,
		    uint8_t type, uint32_t seq, const uint8_t *target,
		    const struct glued_endpoint *taddr)
{
	struct dg d;

	if (!gsp_dg_open(g, &d, to, to_id))
		return;
	d.uncharged = type == GW_PING || type == GW_PING_REQ;
	gw_put_probe(&d.w, type, seq, target, taddr);
	gsp_dg_close(g, &d, ++g->stamp);
}

static void send_join(struct gossip *g, const struct glued_endpoint *to, const uint8_t *id)
{
	struct dg d;

	if (!gsp_dg_open(g, &d, to, id))
		return;
	d.uncharged = true; /* our own contact: a bootstrap or beaconing peer, a rejoin */
	gw_put_probe(&d.w, GW_PING, ++g->next_probe_seq, id, NULL);
	gw_put_alive(&d.w, &g->stmt, NULL);
	gsp_put_summary(g, &d.w, 0);
	gsp_dg_close(g, &d, ++g->stamp);
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
		 * push-pull. */
		g->announce_head = false;
		gsp_bcast_head(g, NULL);
	}
	if (!gsp_bcast_pending(g, UINT32_MAX)) /* stamps never reach it: "anything queued" */
		return;
	n = gsp_pick_random(g, -1, peers, g->tm.gossip_fanout < 16 ? g->tm.gossip_fanout : 16);
	for (size_t i = 0; i < n; i++) {
		struct member *m = &g->members[peers[i]];
		uint32_t stamp = ++g->stamp;

		for (int k = 0; k < PUSH_DGRAMS_MAX && gsp_bcast_pending(g, stamp); k++) {
			struct dg d;

			if (!gsp_dg_open(g, &d, &m->addr, m->id))
				return;
			gsp_dg_close(g, &d, stamp);
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
			gsp_set_dead(g, m, GOSSIP_DEAD, now);
			gsp_bcast_member(g, GW_DEAD, m->id, m->epoch, m->inc, g->cfg.self_id);
			continue;
		}
		if (!live(m)) {
			if (now - m->state_ms > g->tm.dead_reap_ms)
				gsp_member_remove(g, m);
			continue;
		}
		if (gsp_sync_due(g, m, now))
			gsp_sync_start(g, m, now);
		else if (m->gap_since && m->known_head <= m->head && !m->need_full)
			m->gap_since = 0;
	}
}

/* A statement that was news to us (a member's new head, life or leave).
 * Epidemic dissemination misses a few (node, statement) pairs in a large
 * burst: those nodes would wait for a push-pull, one every
 * push_pull_interval_ms. So one more push-pull comes PP_QUIET_MS after
 * the news stops (each piece of news moves it on): by then the peer most
 * likely knows every statement of the burst, and the summaries (of
 * statements, gsp_put_summary) differ only where one side missed one. */
void gsp_heard_news(struct gossip *g, uint64_t now)
{
	g->pp_news = now + PP_QUIET_MS;
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
			m = gsp_member_find(g, b->id);
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

/* The push-pull peer: a random live member whose address we proved, else
 * any. With an unproven one the exchange is held to 3x what each summary
 * weighs: the two summaries, and none of the entries that repair what one
 * side missed. */
static bool pick_pp_peer(struct gossip *g, int *peer)
{
	uint32_t seen = 0;

	for (int s = 0; s < GOSSIP_MEMBERS_MAX; s++) {
		const struct member *m = &g->members[s];

		if (live(m) && ep_known(&m->addr) && gossip_amp_validated(&g->amp, &m->addr) &&
		    rnd_below(g, ++seen) == 0)
			*peer = s;
	}
	return seen || gsp_pick_random(g, -1, peer, 1);
}

void gossip_tick(struct gossip *g, uint64_t now)
{
	g->now = now;
	if (g->left)
		return;
	if (g->n_pend && now >= g->next_sign) {
		gsp_sign_batch(g);
		g->next_sign = now + g->tm.sign_interval_ms;
	}
	if (g->refute_due && now >= g->next_refute)
		(void)gsp_refute(g, g->cfg.epoch, g->inc, now);
	gsp_relays_step(g, now);
	gsp_probe_step(g, now);
	gsp_syncs_step(g, now);
	if (now >= g->next_round) {
		housekeeping(g, now);
		gossip_round(g);
		g->next_round = now + g->tm.gossip_interval_ms;
	} else if (g->push_due) {
		gossip_round(g); /* a change: push it now, not at the next round */
	}
	if (now >= g->next_pp || (g->pp_news && now >= g->pp_news)) {
		int peer;

		if (now >= g->next_pp)
			g->next_pp = now + g->tm.push_pull_interval_ms;
		g->pp_news = 0;
		if (pick_pp_peer(g, &peer)) {
			struct dg d;

			g->st.push_pulls++;
			if (gsp_dg_open(g, &d, &g->members[peer].addr, g->members[peer].id)) {
				gsp_put_summary(g, &d.w, 0);
				gsp_dg_close(g, &d, ++g->stamp);
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
	if (g->n_pend && g->next_sign < d)
		d = g->next_sign;
	if (g->refute_due && g->next_refute < d)
		d = g->next_refute;
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
	if (g->pp_news && g->pp_news < d)
		d = g->pp_news;
	if (g->next_rejoin < d)
		d = g->next_rejoin;
	for (int i = 0; i < RELAYS_MAX; i++)
		if (g->relays[i].used && !g->relays[i].nacked && g->relays[i].nack_at < d)
			d = g->relays[i].nack_at;
	if (gsp_syncs_deadline(g) < d)
		d = gsp_syncs_deadline(g);
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
		/* its own word (the envelope proved the sender): a new life or
		 * incarnation; relayed as its statement once we hold that */
		gsp_set_alive(g, m, h->epoch, h->incarnation, now);
		if (m->has_stmt && vcmp(m->stmt.epoch, m->stmt.incarnation, m->epoch, m->inc) == 0)
			gsp_bcast_stmt(g, m);
	} else if (c == 0 && m->state == GOSSIP_DEAD &&
		   now - m->last_told_ms >= g->tm.probe_interval_ms) {
		/* it does not know it was declared dead: tell it, so it refutes */
		struct dg d;

		m->last_told_ms = now;
		if (gsp_dg_open(g, &d, from, m->id)) {
			gw_put_member(&d.w, GW_DEAD, m->id, m->epoch, m->inc, g->cfg.self_id);
			gsp_dg_close(g, &d, 0);
		}
	}
	if (live(m))
		gsp_learn_head(g, m, h->head, now);
	return true;
}

/* The sender's rate: false (and counted) if over rate_per_s. */
static bool rate_ok(struct gossip *g, uint64_t *start, uint32_t *n, uint64_t now)
{
	if (now - *start >= 1000) {
		*start = now;
		*n = 0;
	}
	if (++*n > g->tm.rate_per_s) {
		g->st.rx_rate_limited++;
		return false;
	}
	return true;
}

static int check(struct gossip *g, const uint8_t *sender_id, const uint8_t *buf, size_t len,
		 struct gw_hdr *h)
{
	size_t unknown;
	int err;

	g->st.rx_dgrams++;
	g->st.rx_bytes += len;
	if (g->left)
		return 1;
	if (!memcmp(sender_id, g->cfg.self_id, GOSSIP_ID_LEN)) {
		g->st.rx_self++;
		return GLUED_EPROTO;
	}
	err = gw_check(buf, len, h, &unknown);
	g->st.rx_unknown_msgs += unknown;
	if (err == GLUED_EBADVERS)
		g->st.rx_bad_version++;
	else if (err)
		g->st.rx_malformed++;
	return err;
}

/* What came from an address is its budget; an address not proven yet is
 * challenged first, before any answer can spend the budget: tx <= 3 rx held
 * before, so this datagram's 3 x len (> a PING) is free for the challenge. */
static void amp_rx(struct gossip *g, const struct glued_endpoint *from, const uint8_t *sender_id,
		   size_t len)
{
	gossip_amp_rx(&g->amp, from, len + GOSSIP_SEAL_OVERHEAD);
	if (!gossip_amp_validated(&g->amp, from))
		gsp_challenge(g, from, sender_id, GSP_PROVOKED);
}

int gossip_recv(struct gossip *g, uint64_t now, const struct glued_endpoint *from,
		const uint8_t sender_id[GOSSIP_ID_LEN], const uint8_t *buf, size_t len)
{
	struct gw_hdr h;
	struct gw_iter it;
	struct gw_msg msg;
	struct member *m;
	struct boot *b;
	int err;

	g->now = now;
	err = check(g, sender_id, buf, len, &h);
	if (err)
		return err > 0 ? 0 : err;
	amp_rx(g, from, sender_id, len);
	m = gsp_member_find(g, sender_id);
	if (!m) {
		/* its own word: the envelope proved who sent it. Others learn of
		 * it from its signed ALIVE (in every join) */
		m = gsp_member_add(g, sender_id, h.epoch, h.incarnation, from, now);
		if (!m)
			return GLUED_ELIMIT;
	}
	if (!rate_ok(g, &m->rate_start, &m->rate_n, now))
		return GLUED_ELIMIT;
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
		case GW_ACK:
			/* our cookie back: from receives there (gossip_amp.h) */
			if (gossip_amp_echo(&g->amp, from, msg.u.probe.seq, now))
				break;
			gsp_on_probe(g, &msg, m, from, now);
			break;
		case GW_PING:
		case GW_NACK:
		case GW_PING_REQ:
			gsp_on_probe(g, &msg, m, from, now);
			break;
		case GW_ALIVE:
		case GW_SUSPECT:
		case GW_DEAD:
		case GW_LEFT:
			gsp_on_member(g, &msg, m, from, now);
			break;
		case GW_DELTA:
			gsp_on_delta(g, &msg, now);
			break;
		case GW_SUMMARY:
			gsp_on_summary(g, &msg, sender_id, from);
			break;
		case GW_SYNC_REQ:
			gsp_on_sync_req(g, &msg, m, now);
			break;
		case GW_SYNC_DATA:
			gsp_on_sync_data(g, &msg, m, now);
			break;
		}
		if (!m->used)
			break; /* the sender's slot was reused (cannot normally happen) */
	}
	return 0;
}

int gossip_recv_unverified(struct gossip *g, uint64_t now, const struct glued_endpoint *from,
			   const uint8_t sender_id[GOSSIP_ID_LEN], const uint8_t *buf, size_t len)
{
	struct gw_hdr h;
	struct gw_iter it;
	struct gw_msg msg;
	int err;

	g->now = now;
	err = check(g, sender_id, buf, len, &h);
	if (err)
		return err > 0 ? 0 : err;
	amp_rx(g, from, sender_id, len);
	g->st.rx_unverified++;
	/* one budget for all of them: the claimed IDs are anyone's to make */
	if (!rate_ok(g, &g->unv_rate_start, &g->unv_rate_n, now))
		return GLUED_ELIMIT;
	gw_iter_init(&it, buf, len);
	while (gw_iter_next(&it, &msg)) {
		switch (msg.type) {
		case GW_PING:
			if (gsp_probe_for_me(g, &msg))
				gsp_send_probe(g, from, sender_id, GW_ACK, msg.u.probe.seq,
					       g->cfg.self_id, NULL);
			break;
		case GW_ALIVE:
		case GW_LEFT:
			gsp_on_member(g, &msg, NULL, from, now);
			break;
		case GW_SUMMARY:
			gsp_on_summary(g, &msg, sender_id, from);
			break;
		}
	}
	return 0;
}

/* --- API ---------------------------------------------------------------- */

void gossip_timing_defaults(struct gossip_timing *t)
{
	*t = (struct gossip_timing){
	    .probe_interval_ms = 400,
	    .probe_timeout_ms = 160,
	    .indirect_checks = 3,
	    .suspicion_mult = 2,
	    .suspicion_max_mult = 3,
	    .awareness_max = 8,
	    .gossip_interval_ms = 100,
	    .gossip_fanout = 3,
	    .retransmit_mult = 4,
	    .relay_transmits = 3,
	    .push_pull_interval_ms = 5000,
	    .gap_ms = 150,
	    .sync_timeout_ms = 250,
	    .rejoin_interval_ms = 5000,
	    .dead_reap_ms = 3600000,
	    .rate_per_s = 2000,
	    .sign_interval_ms = 50,
	};
}

void gossip_on_table_entry(void *ctx, uint32_t origin, const char *owner)
{
	gsp_on_entry(ctx, origin, owner);
}

struct gossip *gossip_new(const struct gossip_cfg *cfg, struct table *t, struct glued_rng rng)
{
	struct gossip_timing d;
	struct gossip *g;

	if (cfg->epoch == 0 || !cfg->signer.sign)
		return NULL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->cfg = *cfg;
	g->t = t;
	gossip_timing_defaults(&d);
	g->tm = cfg->timing;
#define DEF(f)                                                                                     \
	do {                                                                                       \
		if (!g->tm.f)                                                                      \
			g->tm.f = d.f;                                                             \
	} while (0)
	DEF(probe_interval_ms);
	DEF(probe_timeout_ms);
	DEF(indirect_checks);
	DEF(suspicion_mult);
	DEF(suspicion_max_mult);
	DEF(awareness_max);
	DEF(gossip_interval_ms);
	DEF(gossip_fanout);
	DEF(retransmit_mult);
	DEF(relay_transmits);
	DEF(push_pull_interval_ms);
	DEF(gap_ms);
	DEF(sync_timeout_ms);
	DEF(rejoin_interval_ms);
	DEF(dead_reap_ms);
	DEF(rate_per_s);
	DEF(sign_interval_ms);
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
	if (gsp_sign_init(g))
		goto err_free;
	{
		uint8_t key[GOSSIP_AMP_KEY_LEN];
		uint64_t k0 = rnd(g), k1 = rnd(g);

		memcpy(key, &k0, 8);
		memcpy(key + 8, &k1, 8);
		if (gossip_amp_init(&g->amp, key))
			goto err_free;
	}
	for (int s = 0; s < GOSSIP_MEMBERS_MAX; s++)
		g->members[s].sync = -1;
	for (int s = 0; s < SYNCS_MAX; s++)
		g->syncs[s].slot = -1;
	memset(g->idx, 0xff, sizeof(g->idx));
	table_foreach_entry(t, gsp_publish_existing, g);
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
	gossip_amp_fini(&g->amp);
	gsp_sign_free(g);
	free(g);
}

int gossip_add_peer(struct gossip *g, uint64_t now, const struct glued_endpoint *ep,
		    const uint8_t *id, bool bootstrap)
{
	g->now = now;
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

	g->now = now;
	if (g->left)
		return;
	g->inc++;
	gsp_sign_self(g, GW_STMT_LEFT);
	n = gsp_pick_random(g, -1, peers, LEAVE_DIRECT);
	for (size_t i = 0; i < n; i++) {
		struct member *m = &g->members[peers[i]];
		struct dg d;

		if (!gsp_dg_open(g, &d, &m->addr, m->id))
			break;
		d.uncharged = true;
		gw_put_left(&d.w, &g->stmt);
		gsp_dg_close(g, &d, 0);
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
			if (gsp_serve_chunk(g, &g->serves[i], &out[n]))
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
			i->known_head = m->known_head;
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
	st->amp_limited = g->amp.st.limited_dgrams;
	st->amp_challenges = g->amp.st.challenges;
	st->amp_challenges_free = g->amp.st.free_challenges;
	st->amp_validated = g->amp.st.validated;
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
		return "gsp_suspect";
	case GOSSIP_DEAD:
		return "dead";
	case GOSSIP_LEFT:
		return "left";
	}
	return "?";
}
