/* Amplification limit and address validation for the gossip core (pure).
 *
 * Replies go to the address a datagram came from, and a member of the
 * cluster can put any source address on a datagram it seals. So the core
 * never sends more than GOSSIP_AMP_FACTOR times the bytes it received from
 * an address (counted on the wire: sealed datagram plus IP and UDP
 * headers) to that address until the address has proven that it receives
 * there, and serves syncs (snapshot streams) only to proven addresses.
 *
 * An address proves itself by echoing a cookie: the core sends it a PING
 * whose sequence number is the cookie, a keyed MAC (SipHash-2-4, key drawn
 * at start) of the address and the coarse time (GOSSIP_COOKIE_PERIOD_MS),
 * sealed to the node ID the datagrams from there claim; only that node can
 * open it, and only at that address does it arrive, so an ACK carrying the
 * cookie back proves both. The current and the previous period are
 * accepted, and nothing is stored per challenge. The wire format does not
 * change (the cookie rides in the PING/ACK sequence field).
 *
 * State per address (a set-associative table, GOSSIP_AMP_WAYS ways: a full
 * set evicts an unproven address before a proven one, least recently used
 * first; an evicted or new address starts with nothing received and
 * unproven, so eviction never raises a budget): bytes received, bytes sent
 * while unproven, proven or not, the last challenge.
 */
#ifndef GLUED_CORE_GOSSIP_AMP_H
#define GLUED_CORE_GOSSIP_AMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"

#define GOSSIP_AMP_FACTOR 3
#define GOSSIP_AMP_SLOTS 4096	      /* addresses tracked (power of two) */
#define GOSSIP_AMP_WAYS 8	      /* slots an address may take (one set) */
#define GOSSIP_COOKIE_PERIOD_MS 30000 /* a cookie is good for one to two periods */
/* How often an unproven address may be challenged. A challenge charged to
 * its budget (provoked by a datagram from it, or on the core's own
 * initiative while it fits) is within 3x by construction and may come
 * every GOSSIP_CHALLENGE_MIN_MS: a lost challenge or echo then costs a
 * sync 250 ms, not a second (at 5 % loss about one in ten proofs needs a
 * second try, and a 1000-node burst waits on thousands of them). A free
 * challenge, on the core's own initiative: towards an address nothing came
 * from (a bootstrap peer, a member heard of in a signed statement) once
 * per GOSSIP_CHALLENGE_UNHEARD_MS; towards one that sent something and
 * whose budget the challenge no longer fits only after 4, 8, 16, 32, then
 * every 64 s (GOSSIP_CHALLENGE_FREE_MS << 0..4) since the last one: enough
 * to break two nodes out of budgets spent on each other, too little to
 * amplify (a one-shot spoof costs the victim one such PING 4 s later, if
 * the core still has business there). */
#define GOSSIP_CHALLENGE_MIN_MS 250
#define GOSSIP_CHALLENGE_UNHEARD_MS 1000
#define GOSSIP_CHALLENGE_FREE_MS 4000
#define GOSSIP_CHALLENGE_FREE_SHIFT_MAX 4
/* What a challenge on the core's own initiative is charged when it fits:
 * an upper bound of its sealed size (a PING, and a SUSPECT of the member
 * it cannot reach: < 300 bytes). */
#define GOSSIP_AMP_CHALLENGE_BYTES 300
#define GOSSIP_AMP_KEY_LEN 16

struct gossip_amp_stats {
	uint64_t limited_dgrams,
	    limited_bytes;	  /* not sent: over the budget of an unproven address */
	uint64_t challenges;	  /* cookie PINGs sent */
	uint64_t free_challenges; /* of which over the budget (backing off) */
	uint64_t validated;	  /* addresses that echoed a cookie */
	uint64_t evictions;	  /* an address's state went to another */
};

struct gossip_amp_slot {
	bool used, validated;
	struct glued_endpoint ep;
	uint64_t rx, tx; /* bytes on the wire (sealed), since the slot was taken */
	uint64_t challenged_ms;
	uint8_t free_challenges; /* sent over the budget: the backoff's exponent */
	uint64_t lru;		 /* LRU stamp */
};

struct gossip_amp {
	uint8_t key[GOSSIP_AMP_KEY_LEN];
	struct gossip_amp_slot *slot; /* GOSSIP_AMP_SLOTS */
	uint64_t tick;
	struct gossip_amp_stats st;
};

/* 0 or -ENOMEM. key: the MAC key (random; the simulator's is seeded). */
int gossip_amp_init(struct gossip_amp *a, const uint8_t key[GOSSIP_AMP_KEY_LEN]);
void gossip_amp_fini(struct gossip_amp *a);

/* A datagram of `bytes` (sealed size) came from ep. */
void gossip_amp_rx(struct gossip_amp *a, const struct glued_endpoint *ep, size_t bytes);
/* Has anything come from ep (since its slot was taken)? */
bool gossip_amp_heard(const struct gossip_amp *a, const struct glued_endpoint *ep);
/* Has ep echoed a cookie (since its slot was taken)? */
bool gossip_amp_validated(const struct gossip_amp *a, const struct glued_endpoint *ep);
/* May `bytes` go to ep? True for a proven address, or while the bytes sent
 * to it stay within GOSSIP_AMP_FACTOR x the bytes received (then they are
 * charged); false is counted. */
bool gossip_amp_may_send(struct gossip_amp *a, const struct glued_endpoint *ep, size_t bytes);

/* Would `bytes` fit ep's budget now (always, once proven)? Nothing is
 * charged or counted: for a sender choosing what to add to a datagram. */
bool gossip_amp_fits(const struct gossip_amp *a, const struct glued_endpoint *ep, size_t bytes);

/* The cookie for ep at now_ms (never 0). */
uint32_t gossip_amp_cookie(const struct gossip_amp *a, const struct glued_endpoint *ep,
			   uint64_t now_ms);
/* Should ep be challenged now? Never a proven address. bytes != 0:
 * provoked by a datagram from ep, a challenge of that size that the caller
 * charges; it must fit the budget, and one that does not is not recorded,
 * so the next datagram from ep brings it. bytes == 0: the core's own
 * initiative, charged here (GOSSIP_AMP_CHALLENGE_BYTES) when ep sent
 * something and it fits, else free (see GOSSIP_CHALLENGE_MIN_MS for how
 * often each kind may come). `waiting`: someone waits on the proof. On
 * the core's own initiative, the core itself (its sync from the member at
 * ep): a free challenge, to an address nothing came from or one whose
 * budget it no longer fits, may then come 250, 250 and 500 ms after the
 * last, then every GOSSIP_CHALLENGE_UNHEARD_MS (as to any address nothing
 * came from), without the backoff: two nodes that each wait for the
 * other's records and have not heard each other (or spent their budgets
 * on each other) lost both first challenges in 0.25 % of pairs at 5 %
 * loss, and waited a second (or four) for the next; at 1000 nodes that
 * was hundreds of pairs. Two more PINGs in the first second of a sync is
 * no wider door: whoever can make nodes sync from an address can give
 * that address a PING a second from each anyway. Provoked, the sender (its sync request, refused):
 * one challenge per request, charged like any other, without the GOSSIP_CHALLENGE_MIN_MS gap (but
 * not twice in one millisecond: the request's datagram provoked one already). True = send it
 * (recorded, counted). */
bool gossip_amp_challenge_due(struct gossip_amp *a, const struct glued_endpoint *ep,
			      uint64_t now_ms, size_t bytes, bool waiting);
/* An ACK with sequence `seq` came from ep: if seq is ep's cookie of this
 * period or the previous one, ep is proven. Returns whether it was. */
bool gossip_amp_echo(struct gossip_amp *a, const struct glued_endpoint *ep, uint32_t seq,
		     uint64_t now_ms);

#endif
