/* Who gets a TCP slot, and for how long: the DNS server's connection policy
 * as a pure function over a view of its slots (no sockets, no clock).
 *
 * TCP is where truncated answers go, so one client must not be able to
 * take it away from the others: each source (an IPv4 address, an IPv6 /64,
 * since one host holds a whole /64) has at most per_source connections;
 * when every slot is taken the least recently active idle connection (no
 * reply queued, no query at the forwarder) makes room; a connection lives
 * at most lifetime_ms however active it is, and idle_ms after its last
 * byte.
 */
#ifndef GLUED_CORE_TCP_ADMIT_H
#define GLUED_CORE_TCP_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"

struct tcp_admit_cfg {
	unsigned per_source; /* connections one source may hold */
	uint32_t idle_ms;    /* since the last byte received */
	uint32_t lifetime_ms; /* since accept, whatever the traffic */
};

/* What the policy needs to know of one slot. */
struct tcp_slot_view {
	bool in_use;
	bool busy; /* a reply queued or a query at the forwarder */
	struct glued_addr peer;
	uint64_t last_ms; /* last byte received (accept time before that) */
};

enum tcp_admit {
	TCP_ADMIT_FREE,		 /* *slot is free: use it */
	TCP_ADMIT_EVICT,	 /* close *slot (idle, least recently active), then use it */
	TCP_ADMIT_REJECT_SOURCE, /* this source holds per_source connections already */
	TCP_ADMIT_REJECT_FULL,	 /* every slot is busy */
};

/* The same source for the per-source cap: equal IPv4 addresses, or IPv6
 * addresses in one /64. */
bool tcp_same_source(const struct glued_addr *a, const struct glued_addr *b);

/* Decide for a new connection from `peer` over slots[0..n). */
enum tcp_admit tcp_admit_decide(const struct tcp_admit_cfg *cfg, const struct tcp_slot_view *slots,
				size_t n, const struct glued_addr *peer, size_t *slot);

/* When a connection opened at opened_ms, last active at last_ms, must be
 * closed: the earlier of the idle and the lifetime deadline. */
uint64_t tcp_deadline_ms(const struct tcp_admit_cfg *cfg, uint64_t opened_ms, uint64_t last_ms);

#endif
