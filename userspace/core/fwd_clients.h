/* Per-client accounting for the forwarder's cap (private to core/fwd.c):
 * how many queries each client address has waiting on upstreams.
 *
 * A fixed pool sized at init, one entry per possible waiter (a client
 * with nothing waiting has no entry), so it never allocates after init and
 * never runs out while a waiter is free. The caller computes the hash
 * (keyed: addresses are chosen by clients).
 */
#ifndef GLUED_CORE_FWD_CLIENTS_H
#define GLUED_CORE_FWD_CLIENTS_H

#include <stdint.h>

#include "lib/addr.h"
#include "lib/err.h"

struct fwd_client {
	struct glued_addr addr;
	uint32_t waiting;
	uint32_t hash, hnext; /* chain; free-list link when unused */
};

struct fwd_clients {
	struct fwd_client *e; /* n entries */
	uint32_t n, free, *buckets, mask;
};

/* Room for n clients with something waiting. 0 or -ENOMEM. */
int fwd_clients_init(struct fwd_clients *c, uint32_t n) GLUED_MUST_CHECK;
void fwd_clients_fini(struct fwd_clients *c);
/* Queries the client `a` (hash h) has waiting; 0 if none. */
uint32_t fwd_clients_waiting(const struct fwd_clients *c, const struct glued_addr *a, uint32_t h);
/* One more query waiting for `a`: returns its entry, for unref. The caller
 * holds at most n references in all. */
uint32_t fwd_clients_ref(struct fwd_clients *c, const struct glued_addr *a, uint32_t h);
/* One query of entry i no longer waits; the entry goes with its last. */
void fwd_clients_unref(struct fwd_clients *c, uint32_t i);

#endif
