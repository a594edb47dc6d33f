/* A Byzantine member for the simulator: a node that holds the cluster key
 * (it runs a real core, so it is a member like any other) and, besides,
 * forges what the envelope lets a key holder forge. Datagrams it seals
 * under its own pair keys name it as the sender; HELLOs (cluster key only)
 * may name anyone. Inside them it claims what it likes about other origins:
 * deltas and statements with inflated epochs, incarnations and versions,
 * signed with its own key or with garbage, genuine statements it captured
 * with their records or fields changed, accusations at and above the
 * accused's version, old datagrams replayed as itself or in their sender's
 * name, and floods of sync requests. The invariants it must not break are
 * checked in checks.c (S.byz): no honest record changed or removed, no
 * honest node ever dead, honest traffic within the scale goal.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/crypto.h"
#include "core/gossip_wire.h"
#include "sim.h"

#define CAPTURED 64

static struct {
	uint8_t buf[GOSSIP_DGRAM_MAX];
	uint16_t len;
	int from;
} cap[CAPTURED];
static size_t n_cap, cap_next;

void byz_reset(void)
{
	n_cap = cap_next = 0;
}

/* Everything delivered to the Byzantine node is material for replays. */
void byz_capture(const struct ev *e)
{
	memcpy(cap[cap_next].buf, e->buf, e->len);
	cap[cap_next].len = e->len;
	cap[cap_next].from = e->from;
	cap_next = (cap_next + 1) % CAPTURED;
	if (n_cap < CAPTURED)
		n_cap++;
}

/* Queue a datagram from node b to node to: as b itself (its pair key) or,
 * unverified, in the name of as (a HELLO under the cluster key). */
static void inject(int b, int to, const uint8_t *buf, size_t len, int as)
{
	struct ev *e;

	if (len <= GW_HDR_LEN || len > GOSSIP_DGRAM_MAX)
		return;
	e = calloc(1, sizeof(*e));
	e->kind = EV_PKT;
	e->at = S.now + S.net.delay_ms + rnd_below(S.net.jitter_ms + 1);
	e->node = to;
	e->from = b;
	e->from_ep = S.nodes[b].ep;
	e->len = (uint16_t)len;
	e->buf = malloc(len);
	memcpy(e->buf, buf, len);
	if (as >= 0) {
		e->unverified = true;
		e->as_id = S.nodes[as].id;
	}
	S.byz_injected++;
	push(e);
}

static int honest(int b)
{
	int y;

	do
		y = (int)rnd_below((uint32_t)S.n);
	while (y == b);
	return y;
}

static uint64_t big(uint64_t real)
{
	switch (rnd_below(3)) {
	case 0:
		return UINT64_MAX;
	case 1:
		return real + 1 + rnd_below(1000);
	default:
		return real;
	}
}

/* A statement in y's name that y never signed: inflated, signed with the
 * Byzantine key or with garbage. */
static void forge_stmt(int b, int y, struct gw_stmt *st, uint64_t prev, uint64_t head,
		       const uint8_t root[GW_HASH_LEN])
{
	uint8_t msg[GW_STMT_MSG_LEN];
	uint64_t e, seq;
	uint32_t inc;

	gossip_self(S.nodes[y].g, &e, &seq, &inc);
	memset(st, 0, sizeof(*st));
	memcpy(st->id, S.nodes[y].id, GOSSIP_ID_LEN);
	st->epoch = big(e);
	st->incarnation = rnd_below(2) ? UINT32_MAX : inc + (uint32_t)rnd_below(3);
	st->addr = S.nodes[b].ep; /* "y lives at the attacker's address" */
	st->prev = prev;
	st->head = head;
	memcpy(st->root, root, GW_HASH_LEN);
	if (rnd_below(2)) {
		size_t len = gw_stmt_signed_msg(st, msg);

		crypto_sign_stmt(st->sig, msg, len, S.nodes[b].sk); /* the wrong key */
	} else {
		for (int i = 0; i < GW_SIG_LEN; i++)
			st->sig[i] = (uint8_t)rnd64();
	}
}

/* A record for y's slot k at version v (the address encodes it). */
static size_t forge_record(uint8_t *out, size_t cap_len, int y, int k, uint64_t seq, bool deleted)
{
	static struct table_entry te;
	struct wire_out w = wire_out_init(out, cap_len);

	memset(&te, 0, sizeof(te));
	owner_of(te.owner, y, k);
	te.n_names = 2;
	snprintf(te.names[0], sizeof(te.names[0]), "web-%d-%d", y, k);
	snprintf(te.names[1], sizeof(te.names[1]), "evil");
	te.n_addrs = 1;
	te.addrs[0].family = AF_INET;
	te.addrs[0].b[0] = 172;
	te.addrs[0].b[1] = te.addrs[0].b[2] = te.addrs[0].b[3] = 0xee;
	gw_put_record(&w, seq, te.owner, deleted ? NULL : &te);
	return w.err ? 0 : wire_out_len(&w);
}

static void put_forged_delta(int b, int y, struct wire_out *w)
{
	uint8_t rec[512], root[GW_HASH_LEN], raw[GW_STMT_LEN];
	struct wire_out sw = wire_out_init(raw, sizeof(raw));
	struct gw_stmt st;
	uint64_t e, seq, s;
	uint32_t inc;
	size_t len;

	gossip_self(S.nodes[y].g, &e, &seq, &inc);
	s = rnd_below(3) ? seq + 1 : UINT64_MAX - rnd_below(2);
	len =
	    forge_record(rec, sizeof(rec), y, (int)rnd_below((uint32_t)S.k), s, rnd_below(3) == 0);
	if (!len)
		return;
	crypto_hash16(root, 'L', rec, len, NULL, 0); /* a one-leaf batch: the root is the leaf */
	forge_stmt(b, y, &st, s - 1, s, root);
	gw_put_stmt(&sw, &st);
	gw_put_delta(w, raw, NULL, 0, rec, len);
}

static void put_forged_member(int b, int y, struct wire_out *w)
{
	uint8_t root[GW_HASH_LEN] = {0}, from[GOSSIP_ID_LEN];
	struct gw_stmt st;
	uint64_t e, seq;
	uint32_t inc;

	gossip_self(S.nodes[y].g, &e, &seq, &inc);
	for (int i = 0; i < GOSSIP_ID_LEN; i++)
		from[i] = (uint8_t)rnd64(); /* any accuser it likes */
	switch (rnd_below(5)) {
	case 0:
		forge_stmt(b, y, &st, big(seq), big(seq), root);
		if (st.head < st.prev || st.head - st.prev > GW_BATCH_MAX)
			st.prev = st.head;
		gw_put_alive(w, &st, &S.nodes[b].ep);
		break;
	case 1:
		forge_stmt(b, y, &st, seq, seq, root);
		st.flags = GW_STMT_LEFT;
		gw_put_left(w, &st);
		break;
	case 2: /* above the version it signed: must be refused */
		gw_put_member(w, rnd_below(2) ? GW_SUSPECT : GW_DEAD, S.nodes[y].id, big(e),
			      inc + 1 + (uint32_t)rnd_below(UINT32_MAX - inc - 1), from);
		break;
	default: /* at its version: SWIM lets anyone accuse; it must refute in time */
		gw_put_member(w, rnd_below(2) ? GW_SUSPECT : GW_DEAD, S.nodes[y].id, e, inc, from);
		break;
	}
}

/* One forged datagram to node to. */
static void forge_one(int b, int to)
{
	uint8_t buf[GOSSIP_DGRAM_MAX];
	struct wire_out w = wire_out_init(buf, sizeof(buf));
	struct gw_hdr h;
	uint64_t seq;
	int as = -1, y = honest(b);

	gossip_self(S.nodes[b].g, &h.epoch, &seq, &h.incarnation);
	h.head = seq;
	if (rnd_below(4) == 0) {
		/* a HELLO in y's name: inflated header, anything inside */
		as = y;
		gossip_self(S.nodes[y].g, &h.epoch, &seq, &h.incarnation);
		h.epoch = big(h.epoch);
		h.incarnation = UINT32_MAX;
		h.head = big(seq);
	}
	gw_put_hdr(&w, &h);
	for (int m = 1 + (int)rnd_below(4); m > 0; m--) {
		size_t off = wire_out_len(&w);

		if (rnd_below(2))
			put_forged_delta(b, honest(b), &w);
		else
			put_forged_member(b, honest(b), &w);
		if (w.err)
			gw_rollback(&w, off);
	}
	inject(b, to, buf, wire_out_len(&w), as);
}

/* A captured datagram again: verbatim as b's own, in its sender's name
 * (HELLO), or with one byte of a record changed. */
static void replay_one(int b, int to)
{
	size_t i = rnd_below((uint32_t)n_cap), len = cap[i].len;
	uint8_t buf[GOSSIP_DGRAM_MAX];

	if (!n_cap)
		return;
	memcpy(buf, cap[i].buf, len);
	switch (rnd_below(3)) {
	case 0:
		inject(b, to, buf, len, -1);
		break;
	case 1:
		if (cap[i].from != to)
			inject(b, to, buf, len, cap[i].from);
		break;
	default:
		/* tamper with the last byte: a record's address, a path, a hash */
		buf[len - 1] ^= (uint8_t)(1 + rnd_below(255));
		inject(b, to, buf, len, -1);
		break;
	}
}

/* Full sync requests, as fast as the honest origin will take them. */
static void sync_flood(int b, int y)
{
	uint8_t buf[128];
	struct wire_out w = wire_out_init(buf, sizeof(buf));
	struct gw_hdr h;
	uint64_t e, seq;
	uint32_t inc;

	gossip_self(S.nodes[b].g, &h.epoch, &h.head, &h.incarnation);
	gw_put_hdr(&w, &h);
	gossip_self(S.nodes[y].g, &e, &seq, &inc);
	gw_put_sync_req(&w, (uint32_t)rnd64(), e, 0, 0, GW_SYNC_FULL);
	inject(b, y, buf, wire_out_len(&w), -1);
}

/* One step of the attack (every 100 ms of the scenario): forgeries to
 * random honest nodes, replays, and a sync request to each of a few. */
void byz_step(int b)
{
	for (int i = 0; i < 4; i++)
		forge_one(b, honest(b));
	for (int i = 0; i < 2; i++)
		replay_one(b, honest(b));
	for (int i = 0; i < 3; i++)
		sync_flood(b, honest(b));
}
