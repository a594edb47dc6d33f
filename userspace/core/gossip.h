/* The cluster protocol core: SWIM membership with Lifeguard's refinements,
 * record dissemination (deltas piggybacked and pushed), push-pull
 * anti-entropy and per-origin syncs. Sans-IO: plaintext datagrams, the
 * authenticated sender's node ID and `now_ms` in; plaintext datagrams,
 * events, a next deadline and name-table mutations out. docs/protocol.md is
 * the specification this file implements.
 *
 * The core owns the remote origins of the name table it is given: it assigns
 * each remote node an origin index (origin 0 is this node and only the
 * caller writes it) and puts, deletes and withdraws entries of those origins.
 * It learns this node's own changes by observing the table (entries of
 * origin 0), so the caller only writes the table as before.
 *
 * It never does I/O, never reads a clock, never draws kernel randomness,
 * never logs; it allocates when the replicated state grows (a member, a
 * pending sync) and at gossip_new, never to parse or build a datagram.
 * Sealing, opening, replay windows and identity belong to core/crypto and
 * the edge (io/gossip.c); this core sees only plaintext that opened, with
 * the sender ID the envelope proved (gossip_recv) or only claimed
 * (gossip_recv_unverified). What origins say about themselves it checks
 * itself: signed statements (gossip_sign.c), made through the injected
 * signer and verified with the origin's node ID.
 */
#ifndef GLUED_CORE_GOSSIP_H
#define GLUED_CORE_GOSSIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/table.h"
#include "lib/addr.h"
#include "lib/err.h"
#include "lib/rand.h"

#define GOSSIP_ID_LEN 32	/* node ID: the Ed25519 public key */
#define GOSSIP_DGRAM_MAX 1200	/* plaintext bytes per datagram, all headers included */
#define GOSSIP_MEMBERS_MAX 1024 /* members known, self excluded; more are ignored and counted */
#define GOSSIP_ORIGIN_RECORDS_MAX 4096 /* entries one remote origin may hold in the table */
#define GOSSIP_LOCAL_RECORDS_MAX 4096  /* entries of origin 0 that are published */
#define GOSSIP_BOOTSTRAP_MAX 64	       /* peers given with gossip_add_peer(bootstrap) */
#define GOSSIP_PORT_DEFAULT 7947
#define GOSSIP_SEAL_OVERHEAD 96 /* the edge's envelope (CRYPTO_OVERHEAD): bytes on the wire */

/* Timers and knobs. A zero field takes its default (docs/protocol.md,
 * "Timers", says why each default is what it is). */
struct gossip_timing {
	uint32_t probe_interval_ms; /* 400: one probe per interval, round-robin */
	uint32_t probe_timeout_ms;  /* 160: direct ack wait before ping-req */
	uint32_t indirect_checks;   /* 3: members asked to ping-req */
	uint32_t suspicion_mult;    /* 2: min suspicion = mult * max(2, log10 n) * probe_interval */
	uint32_t suspicion_max_mult;	/* 3: max suspicion = this * min */
	uint32_t awareness_max;		/* 8: Lifeguard local health score ceiling */
	uint32_t gossip_interval_ms;	/* 100: piggyback/push round */
	uint32_t gossip_fanout;		/* 3: peers per round and per immediate push */
	uint32_t retransmit_mult;	/* 4: sends per update = mult * ceil(log10(n + 1)) */
	uint32_t relay_transmits;	/* 3: sends per record relayed (head news and
					 * syncs repair what the records miss) */
	uint32_t push_pull_interval_ms; /* 5000: digest exchange with one random member */
	uint32_t gap_ms;		/* 150: a version gap this old triggers a sync */
	uint32_t sync_timeout_ms;	/* 250: ceiling of the adaptive (round-trip) timeout
					 * after which a silent sync is retried */
	uint32_t rejoin_interval_ms;	/* 5000: contact a bootstrap peer / dead member */
	uint32_t dead_reap_ms;		/* 3600000: forget a dead or left member */
	uint32_t rate_per_s;		/* 2000: datagrams accepted per source per second */
	uint32_t sign_interval_ms;	/* 50: at most one batch statement per interval; the
					 * first change after a quiet interval is signed at once */
};

/* Signs with this node's Ed25519 secret key (the key whose public half is
 * cfg.self_id): sig gets the 64-byte signature of msg. Never fails; the core
 * calls it once per statement (a batch of its changes, a refutation, a
 * leave), never per datagram. */
struct gossip_signer {
	void (*sign)(void *ctx, uint8_t sig[64], const uint8_t *msg, size_t len);
	void *ctx;
};

struct gossip_cfg {
	uint8_t self_id[GOSSIP_ID_LEN];
	/* The endpoint peers should use. An unspecified address (0.0.0.0, ::)
	 * means "the address my datagrams come from": peers take the source
	 * they observe. */
	struct glued_endpoint self_addr;
	/* Greater than every epoch this node ID ran with before (a persisted
	 * boot counter, or wall-clock milliseconds at start). Never 0. */
	uint64_t epoch;
	struct gossip_timing timing;
	struct gossip_signer signer; /* required */
};

enum gossip_member_state {
	GOSSIP_ALIVE = 0,
	GOSSIP_SUSPECT = 1,
	GOSSIP_DEAD = 2,
	GOSSIP_LEFT = 3,
};

/* One datagram to send: plaintext, to be sealed by the edge. */
struct gossip_out {
	struct glued_endpoint to;
	bool to_id_known;	      /* false for a bootstrap peer not yet heard from */
	uint8_t to_id[GOSSIP_ID_LEN]; /* valid if to_id_known */
	size_t len;		      /* 1..GOSSIP_DGRAM_MAX */
	uint8_t buf[GOSSIP_DGRAM_MAX];
};

enum gossip_event_type {
	GOSSIP_EV_JOINED = 1,	  /* a member became alive (first time or again) */
	GOSSIP_EV_SUSPECT,	  /* this node suspects or learned a suspicion */
	GOSSIP_EV_DEAD,		  /* declared dead: its records left the table */
	GOSSIP_EV_LEFT,		  /* left gracefully: its records left the table */
	GOSSIP_EV_BOOTSTRAP_AUTH, /* first authenticated datagram from a bootstrap peer */
	GOSSIP_EV_REFUTED,	  /* this node refuted a suspicion about itself */
};

struct gossip_event {
	enum gossip_event_type type;
	uint8_t id[GOSSIP_ID_LEN];
	struct glued_endpoint addr;
	uint64_t epoch;
	uint32_t incarnation;
};

struct gossip_member_info {
	uint8_t id[GOSSIP_ID_LEN];
	struct glued_endpoint addr;
	enum gossip_member_state state;
	uint64_t epoch;
	uint32_t incarnation;
	uint32_t origin;	  /* origin index of its entries in the table */
	uint64_t head;		  /* highest contiguous record version held (within epoch) */
	uint64_t known_head;	  /* highest record version heard of (> head: a sync is due) */
	size_t records;		  /* entries of that origin in the table */
	uint64_t last_contact_ms; /* last datagram from it; 0 = never directly */
};

/* Counters; every drop and every decision has one. */
struct gossip_stats {
	uint64_t rx_dgrams, rx_bytes, tx_dgrams, tx_bytes;
	uint64_t rx_malformed;	  /* codec rejected the datagram */
	uint64_t rx_bad_version;  /* datagram version we do not speak */
	uint64_t rx_unknown_msgs; /* message types skipped */
	uint64_t rx_rate_limited; /* over rate_per_s for the source */
	uint64_t rx_self;	  /* datagrams claiming to be from us */
	uint64_t members_full;	  /* new members ignored: GOSSIP_MEMBERS_MAX */
	uint64_t probes, probe_acks, probe_failed, ping_reqs_sent, ping_reqs_served, nacks_sent,
	    nacks_rcvd;
	uint64_t suspicions, refutations, deaths, leaves, rejoins;
	uint64_t deltas_sent, deltas_rcvd, deltas_applied, deltas_stale, deltas_out_of_window;
	uint64_t delta_queue_dropped; /* updates evicted before their retransmit budget */
	uint64_t push_pulls, syncs_started, syncs_completed, syncs_timed_out, syncs_served,
	    syncs_refused;
	uint64_t epoch_replaced;   /* origins replaced wholesale after a restart */
	uint64_t records_limited;  /* puts refused: GOSSIP_*_RECORDS_MAX or table full */
	uint64_t local_truncated;  /* local entries published with names cut to fit a datagram */
	uint64_t tx_queue_dropped; /* datagrams dropped: out queue full */
	/* statements (docs/protocol.md, "Signed statements") */
	uint64_t stmts_signed;	 /* statements this node signed */
	uint64_t stmts_verified; /* signatures checked (Ed25519 verifications) */
	uint64_t stmts_cached;	 /* statements known verified: no check needed */
	uint64_t stmts_bad;	 /* signature or Merkle path wrong: claim dropped */
	uint64_t claims_refused; /* SUSPECT/DEAD above the version we hold, self claims */
	uint64_t rx_unverified;	 /* datagrams whose sender the envelope did not prove */
	/* amplification (core/gossip_amp.h) */
	uint64_t amp_limited;	      /* datagrams not sent: over an unproven address's budget */
	uint64_t amp_challenges;      /* cookie PINGs sent to unproven addresses */
	uint64_t amp_challenges_free; /* of which free, over the budget (backing off) */
	uint64_t amp_validated;	      /* addresses that echoed a cookie */
	uint64_t syncs_unproven;      /* sync requests from an unproven address: not served */
	uint64_t syncs_renewed;	      /* our sync requests sent again with an ACK */
	uint32_t awareness;	      /* current Lifeguard health score (0 = healthy) */
	uint32_t members_alive, members_suspect, members_dead;
};

struct gossip;

/* Fill t with the defaults. */
void gossip_timing_defaults(struct gossip_timing *t);

/* A core for this node over table t (which must outlive it). Publishes the
 * origin-0 entries already in the table; the caller registers
 * gossip_on_table_entry as an entry observer of t (ctx: the core) so that
 * later changes are published too. rng seeds the core's own generator
 * once. Returns NULL if out of memory, or if cfg->epoch is 0 or
 * cfg->signer.sign is NULL. */
struct gossip *gossip_new(const struct gossip_cfg *cfg, struct table *t, struct glued_rng rng);
/* The table entry observer (table_entry_observer_fn) that publishes this
 * node's records: origin-0 entries that appeared, changed or went. */
void gossip_on_table_entry(void *ctx, uint32_t origin, const char *owner);
/* Free the core. Entries of remote origins stay in the table (the caller
 * frees the table, or calls gossip_leave first and withdraws nothing). */
void gossip_free(struct gossip *g);

/* A peer to contact: a bootstrap peer (bootstrap = true: retried every
 * rejoin_interval_ms while it is not an alive member, and its first
 * authenticated datagram raises GOSSIP_EV_BOOTSTRAP_AUTH), or one a beacon
 * announced (bootstrap = false: contacted once now). id may be NULL when
 * unknown. Contact is a join: a ping plus a push-pull summary. 0,
 * GLUED_ELIMIT (GOSSIP_BOOTSTRAP_MAX), or -EINVAL (the endpoint has port 0
 * or an unspecified address). */
int gossip_add_peer(struct gossip *g, uint64_t now_ms, const struct glued_endpoint *ep,
		    const uint8_t *id, bool bootstrap) GLUED_MUST_CHECK;

/* One plaintext datagram that opened, from `from`, sent by sender_id (as
 * authenticated by the crypto layer). Returns 0 if processed (possibly
 * partly: unknown message types are skipped), GLUED_EMALF / GLUED_ETRUNC
 * (codec rejected it: nothing of it was applied), GLUED_EBADVERS, GLUED_ELIMIT
 * (source over its rate), or GLUED_EPROTO (sender_id is our own ID). Every
 * case is counted; the edge may log a rate-limited line for non-zero. */
int gossip_recv(struct gossip *g, uint64_t now_ms, const struct glued_endpoint *from,
		const uint8_t sender_id[GOSSIP_ID_LEN], const uint8_t *buf, size_t len);
/* A datagram whose envelope proves membership only (a HELLO, sealed to a
 * peer whose ID the sender did not know): sender_id is a claim. Only what
 * proves itself or costs a bounded reply is used: PING (answered), ALIVE and
 * LEFT (signed statements) and SUMMARY (answered); the header and every
 * other message are ignored. Replies go sealed to sender_id, which only the
 * real owner of that ID can open. Same returns as gossip_recv. */
int gossip_recv_unverified(struct gossip *g, uint64_t now_ms, const struct glued_endpoint *from,
			   const uint8_t sender_id[GOSSIP_ID_LEN], const uint8_t *buf, size_t len);

/* Run timers due at now_ms. Call it when now_ms >= gossip_next_deadline()
 * (calling it earlier or more often is harmless). */
void gossip_tick(struct gossip *g, uint64_t now_ms);
/* Absolute time (same clock as now_ms) of the next timer; UINT64_MAX if
 * none. Valid until the next call into the core. */
uint64_t gossip_next_deadline(const struct gossip *g);

/* Announce a graceful leave (SIGTERM): queues LEFT to the alive members
 * (directly to up to 16, piggybacked to the rest). Afterwards the core
 * answers nothing and sends nothing new; drain gossip_poll_send() once and
 * exit. Idempotent. */
void gossip_leave(struct gossip *g, uint64_t now_ms);

/* Move up to max queued datagrams into out[]; returns how many. Call after
 * every gossip_recv/gossip_tick/gossip_add_peer/gossip_leave until it
 * returns less than max. */
size_t gossip_poll_send(struct gossip *g, struct gossip_out *out, size_t max);
/* Next event for the edge's log, or false. The queue holds 256 events; older
 * ones are dropped first (counted nowhere: logs only). */
bool gossip_poll_event(struct gossip *g, struct gossip_event *ev);

/* Members (self excluded) into out[], up to max; returns the total count
 * (which may exceed max). Order: by slot, stable while members stay. */
size_t gossip_members(const struct gossip *g, struct gossip_member_info *out, size_t max);
void gossip_get_stats(const struct gossip *g, struct gossip_stats *st);
/* This node's current record version (epoch, seq) and incarnation. */
void gossip_self(const struct gossip *g, uint64_t *epoch, uint64_t *seq, uint32_t *incarnation);

const char *gossip_state_str(enum gossip_member_state s);

#endif
