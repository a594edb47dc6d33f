/* Internal to the gossip core (gossip.c, gossip_bcast.c, gossip_member.c,
 * gossip_records.c, gossip_sign.c): the state of one node and the helpers
 * its parts share. Nothing outside these files includes it; the contract
 * is core/gossip.h.
 */
#ifndef GLUED_CORE_GOSSIP_INT_H
#define GLUED_CORE_GOSSIP_INT_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/gossip.h"
#include "core/gossip_amp.h"
#include "core/gossip_wire.h"

#define WIN 64	      /* out-of-order record versions tracked above head */
#define BCAST_MAX 256 /* updates awaiting dissemination */
#define OUTQ_MAX 128  /* datagrams awaiting gossip_poll_send */
#define EVQ_MAX 256
#define RELAYS_MAX 64	  /* ping-reqs served at once */
#define SYNCS_MAX 64	  /* syncs this node runs at once */
#define SERVES_MAX 32	  /* syncs this node serves at once */
#define TOMBS_MAX 1024	  /* local deletions remembered for incremental syncs */
#define CHUNKS_MAX 8192	  /* chunks of one sync */
#define CONFIRM_MAX 8	  /* distinct suspecters remembered */
#define SOON_MAX 8	  /* suspects heard of, to probe next */
#define PP_DGRAMS_MAX 12  /* datagrams of entries per push-pull answer: a bucket of 64 */
#define PUSH_DGRAMS_MAX 4 /* datagrams per peer per gossip round */
#define LEAVE_DIRECT 16
#define PP_QUIET_MS 500 /* gsp_heard_news */
#define IDX_CAP 2048	/* member index slots (power of two, > 2 * GOSSIP_MEMBERS_MAX) */
/* a queued record: path length, path, record (gw_put_delta_item) */
#define BCAST_ITEM_MAX (1 + GW_PATH_MAX * GW_HASH_LEN + GW_RECORD_MAX)
/* a queued update: a membership message, or a statement and one record */
#define BCAST_MSG_MAX (GW_STMT_LEN + BCAST_ITEM_MAX)
#define VCACHE 1024 /* verified statements remembered (direct-mapped) */

_Static_assert(GW_HDR_LEN + GW_DELTA_FIXED + BCAST_ITEM_MAX <= GOSSIP_DGRAM_MAX,
	       "a DELTA of any one record fits a datagram");

struct window {
	uint64_t bits;	     /* bit i: version head + 1 + i seen */
	uint64_t owner[WIN]; /* its owner's hash */
};

/* Round-trip estimate (RFC 6298 smoothing), in 1/8 ms; srtt 0 = no sample. */
struct rtt {
	uint32_t srtt, rttvar;
};

struct member {
	bool used;
	uint8_t state;
	bool bootstrap_authed, need_full;
	bool probe_soon; /* accused, not probed by us since (probe_soon) */
	uint8_t id[GOSSIP_ID_LEN];
	uint64_t id_hash;
	struct glued_endpoint addr;
	uint64_t epoch;
	uint32_t inc;
	uint64_t state_ms, last_contact_ms, last_told_ms;
	/* its newest statement we verified (has_stmt): what we relay about it */
	bool has_stmt;
	uint8_t stmt_raw[GW_STMT_LEN];
	struct gw_stmt stmt;
	/* suspicion */
	uint64_t susp_start, susp_deadline;
	uint32_t n_confirm; /* accusers of its current version (ourselves included) */
	uint64_t confirm[CONFIRM_MAX];
	bool dead_heard; /* one of them said DEAD: its suspicion timer ran out */
	/* records of this origin */
	uint64_t head, known_head, gap_since, sync_floor;
	struct window win;
	uint32_t records;
	int sync; /* slot in g->syncs, or -1 */
	uint64_t next_sync_ms;
	struct rtt rtt;	     /* round trips to it (syncs, direct probes) */
	uint32_t sync_fails; /* sync attempts in a row without an answer */
	/* what syncs may send it again (gsp_on_sync_req) */
	int64_t serve_tokens;
	uint64_t serve_ms, served_to;
	/* rate limit */
	uint64_t rate_start;
	uint32_t rate_n;
};

/* One queued update. A membership message is kept as it goes on the wire;
 * a record as its statement (GW_STMT_LEN bytes) followed by the encoded
 * item (path and record): records of one statement leave together, in one
 * DELTA per datagram (fill_bcast). */
struct bcast {
	bool used;
	bool is_delta, local; /* local: this node's own change or word about itself */
	uint64_t key;	      /* member updates: id hash; a newer one replaces an older;
				 records: hash of the statement (records group by it) */
	uint64_t seq;	      /* records: the version (items go out in version order) */
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
	uint64_t have;	   /* versions above `from` we held when we asked */
	uint64_t deadline; /* no new chunk by then: timed out (idle, not total) */
	uint32_t rto;	   /* ms the deadline moves on with every new chunk */
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
	uint64_t free_above; /* records above it are new to the requester: not charged */
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
	uint64_t sent, ind_at, end;
};

/* A local change awaiting its statement (gossip_sign.c). */
struct pend {
	uint16_t len;
	uint8_t rec[GW_RECORD_MAX]; /* the encoded record: a Merkle leaf */
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
	/* our newest statement, and the changes since it (g->seq is always
	 * stmt.head + n_pend) */
	struct gw_stmt stmt;
	uint8_t stmt_raw[GW_STMT_LEN];
	struct pend *pend; /* GW_BATCH_MAX */
	size_t n_pend;
	uint64_t next_sign, next_refute, next_accusation_relay;
	bool refute_due;
	uint64_t unv_rate_start; /* unverified datagrams: one rate budget */
	uint32_t unv_rate_n;
	uint8_t (*vcache)[GW_HASH_LEN]; /* VCACHE hashes of verified statements */
	uint32_t awareness;
	uint32_t next_probe_seq, stamp;
	int sync_cursor; /* where gsp_sync_next looks first */
	struct rtt rtt;	 /* round trips to anyone: the prior for a member without */

	struct member *members; /* GOSSIP_MEMBERS_MAX */
	int16_t idx[IDX_CAP];
	uint32_t n_members;

	struct bcast *bcast; /* BCAST_MAX */
	size_t n_bcast;	     /* slots in use */
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
	int soon[SOON_MAX]; /* slots of members others suspect: probed first */
	size_t soon_n;

	uint64_t next_probe, next_round, next_pp, next_rejoin;
	/* an extra push-pull PP_QUIET_MS after the last statement that was
	 * news to us (0: none due): gsp_heard_news */
	uint64_t pp_news;
	uint64_t now;		    /* of the call in progress (challenges need it) */
	struct gossip_amp amp;	    /* what may go to an address (gossip_amp.h) */
	struct table_entry scratch; /* one entry being built; never on the stack */
	struct gossip_stats st;
};

struct dg {
	struct gossip_out *o;
	struct wire_out w;
	/* What the core sends on its own, bounded by its timers and never by
	 * what it receives (probes, joins, the leave, challenges): not charged
	 * to the destination's amplification budget while nothing came from
	 * there (an address only heard of; gsp_dg_close). Everything else to
	 * an address that has not proven it receives there is charged, and
	 * dropped over budget. */
	bool uncharged;
	bool cookie; /* a challenge on the core's own initiative: never charged */
};

/* --- small helpers ------------------------------------------------------ */

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static inline uint64_t hash_bytes(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return mix64(h);
}

static inline uint64_t rnd(struct gossip *g)
{
	/* xorshift128+, seeded once from the injected RNG */
	uint64_t s1 = g->rng[0], s0 = g->rng[1];

	g->rng[0] = s0;
	s1 ^= s1 << 23;
	g->rng[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
	return g->rng[1] + s0;
}

static inline uint32_t rnd_below(struct gossip *g, uint32_t n)
{
	return n ? (uint32_t)(rnd(g) % n) : 0;
}

static inline double lg2(double x)
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

static inline int vcmp(uint64_t e1, uint32_t i1, uint64_t e2, uint32_t i2)
{
	if (e1 != e2)
		return e1 < e2 ? -1 : 1;
	if (i1 != i2)
		return i1 < i2 ? -1 : 1;
	return 0;
}

static inline bool ep_known(const struct glued_endpoint *e)
{
	return e->addr.family == AF_INET || e->addr.family == AF_INET6;
}

static inline bool ep_eq(const struct glued_endpoint *a, const struct glued_endpoint *b)
{
	return a->port == b->port && addr_eq(&a->addr, &b->addr);
}

static inline uint32_t origin_of(const struct gossip *g, const struct member *m)
{
	return (uint32_t)(m - g->members) + 1;
}

static inline bool live(const struct member *m)
{
	return m->used && (m->state == GOSSIP_ALIVE || m->state == GOSSIP_SUSPECT);
}

static inline uint32_t cluster_size(const struct gossip *g)
{
	return g->st.members_alive + g->st.members_suspect + 1;
}

static inline void event(struct gossip *g, enum gossip_event_type type, const uint8_t *id,
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

/* Shared entry points: output in gossip.c, the dissemination queue in
 * gossip_bcast.c, membership in gossip_member.c, records and syncs in
 * gossip_records.c. */
/* membership news (ALIVE, SUSPECT, DEAD, LEFT), keyed by the member */
void gsp_bcast_add(struct gossip *g, uint64_t key, const uint8_t *msg, size_t len);
/* a record of stmt_raw's batch: the item as gw_put_delta_item encoded it */
void gsp_bcast_delta(struct gossip *g, const uint8_t *stmt_raw, const uint8_t *item,
		     size_t item_len, uint64_t seq);
bool gsp_bcast_full(const struct gossip *g);
/* anything queued not yet in the datagram being built under `stamp` */
bool gsp_bcast_pending(const struct gossip *g, uint32_t stamp);
/* piggyback queued updates (fewest transmissions first) that fit in w */
void gsp_bcast_fill(struct gossip *g, struct wire_out *w, uint32_t stamp);
void gsp_bcast_head(struct gossip *g, const struct member *m);
/* SUSPECT or DEAD, raised by `from` */
void gsp_bcast_member(struct gossip *g, uint8_t type, const uint8_t *id, uint64_t epoch,
		      uint32_t inc, const uint8_t *from);
/* m's statement (m NULL: ours) as ALIVE or LEFT: membership news */
void gsp_bcast_stmt(struct gossip *g, const struct member *m);
bool gsp_dg_open(struct gossip *g, struct dg *d, const struct glued_endpoint *to,
		 const uint8_t *to_id);
void gsp_dg_close(struct gossip *g, struct dg *d, uint32_t stamp);
/* Why a challenge (gsp_challenge). */
enum gsp_why {
	GSP_OWN,      /* the core's own business with that address */
	GSP_PROVOKED, /* a datagram from there */
	GSP_REFUSED,  /* a sync request from there, refused until it is proven */
};
void gsp_challenge(struct gossip *g, const struct glued_endpoint *to, const uint8_t *to_id,
		   enum gsp_why why);
void gsp_send_probe(struct gossip *g, const struct glued_endpoint *to, const uint8_t *to_id,
		    uint8_t type, uint32_t seq, const uint8_t *target,
		    const struct glued_endpoint *taddr);
struct member *gsp_member_find(struct gossip *g, const uint8_t *id);
void gsp_count_states(struct gossip *g);
void gsp_member_remove(struct gossip *g, struct member *m);
struct member *gsp_member_add(struct gossip *g, const uint8_t *id, uint64_t epoch, uint32_t inc,
			      const struct glued_endpoint *addr, uint64_t now);
void gsp_set_dead(struct gossip *g, struct member *m, uint8_t state, uint64_t now);
bool gsp_refute(struct gossip *g, uint64_t epoch, uint32_t inc, uint64_t now);
void gsp_suspect(struct gossip *g, struct member *m, uint64_t epoch, uint32_t inc,
		 const uint8_t *from, uint64_t now);
void gsp_on_member(struct gossip *g, const struct gw_msg *msg, const struct member *sender,
		   const struct glued_endpoint *from, uint64_t now);
size_t gsp_pick_random(struct gossip *g, int except, int *out, size_t k);
void gsp_probe_enlist(struct gossip *g, int slot);
void gsp_probe_step(struct gossip *g, uint64_t now);
void gsp_on_probe(struct gossip *g, const struct gw_msg *msg, struct member *sender,
		  const struct glued_endpoint *from, uint64_t now);
void gsp_relays_step(struct gossip *g, uint64_t now);
void gsp_put_summary(struct gossip *g, struct wire_out *w, uint8_t flags);
void gsp_on_summary(struct gossip *g, const struct gw_msg *msg, const uint8_t *sender_id,
		    const struct glued_endpoint *from);
bool gsp_probe_for_me(const struct gossip *g, const struct gw_msg *msg);
void gsp_withdraw(struct gossip *g, struct member *m);
void gsp_epoch_advance(struct gossip *g, struct member *m, uint64_t epoch);
void gsp_note_head(struct member *m, uint64_t head, uint64_t now);
void gsp_learn_head(struct gossip *g, struct member *m, uint64_t head, uint64_t now);
void gsp_set_alive(struct gossip *g, struct member *m, uint64_t epoch, uint32_t inc, uint64_t now);
void gsp_on_delta(struct gossip *g, const struct gw_msg *msg, uint64_t now);
void gsp_sync_free(struct gossip *g, int s);
void gsp_sync_start(struct gossip *g, struct member *m, uint64_t now);
void gsp_heard_news(struct gossip *g, uint64_t now);
void gsp_sync_renew(struct gossip *g, struct member *m, struct wire_out *w, uint64_t now);
bool gsp_sync_due(const struct gossip *g, const struct member *m, uint64_t now);
void gsp_sync_next(struct gossip *g, uint64_t now);
void gsp_syncs_step(struct gossip *g, uint64_t now);
void gsp_rtt_sample(struct gossip *g, struct member *m, uint64_t ms);
uint64_t gsp_syncs_deadline(const struct gossip *g);
void gsp_on_sync_data(struct gossip *g, const struct gw_msg *msg, struct member *m, uint64_t now);
void gsp_on_sync_req(struct gossip *g, const struct gw_msg *msg, struct member *m, uint64_t now);
bool gsp_serve_chunk(struct gossip *g, struct serve *v, struct gossip_out *o);
void gsp_on_entry(void *ctx, uint32_t origin, const char *owner);
/* gossip_sign.c: statements */
int gsp_sign_init(struct gossip *g) GLUED_MUST_CHECK;
void gsp_sign_free(struct gossip *g);
void gsp_pend_add(struct gossip *g, const uint8_t *rec, size_t len);
void gsp_sign_batch(struct gossip *g);
void gsp_sign_self(struct gossip *g, uint8_t flags);
bool gsp_stmt_ok(struct gossip *g, const struct gw_stmt *st, const uint8_t *raw);
bool gsp_delta_ok(struct gossip *g, const struct gw_msg *msg);
bool gsp_stmt_newer(const struct member *m, const struct gw_stmt *st);
void gsp_stmt_keep(struct member *m, const struct gw_stmt *st, const uint8_t *raw);
int gsp_publish_existing(void *ctx, const struct table_entry *e);

#endif
