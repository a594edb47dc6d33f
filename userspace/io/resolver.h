/* Host names resolved off the event loop: getaddrinfo(3) blocks for as long
 * as the system's resolver takes (seconds against a silent name server), so
 * it runs in one worker thread, and its answers come back through the loop
 * (an eventfd the loop reads) to a callback on the loop's thread.
 *
 * Bounded: at most `max_pending` lookups are outstanding, and a lookup that
 * has not answered within `timeout_ms` is reported with -ETIMEDOUT; its
 * slot stays taken until getaddrinfo returns (the thread
 * cannot be interrupted), so a resolver that hangs for good holds at most
 * max_pending slots and further lookups fail with -EBUSY at once.
 *
 * The worker starts with the first lookup (a configuration of addresses
 * only never has it) and calls only what getaddrinfo calls: the system
 * calls it needs are on io/privs.c's list (the "resolver thread" group).
 */
#ifndef GLUED_IO_RESOLVER_H
#define GLUED_IO_RESOLVER_H

#include <stddef.h>
#include <stdint.h>

#include "io/loop.h"
#include "lib/addr.h"
#include "lib/err.h"

#define RESOLVER_ADDRS_MAX 8
#define RESOLVER_HOST_MAX 256 /* with the NUL */

/* The answer to lookup `tag`, on the loop's thread: err 0 with n >= 1
 * addresses (in getaddrinfo's order), GLUED_ENOTFOUND (no address of the
 * family asked), or -ETIMEDOUT. Called once per accepted lookup, never
 * from inside resolver_lookup() or resolver_free(). */
typedef void (*resolver_fn)(void *ctx, uint64_t tag, int err, const struct glued_addr *addrs,
			    size_t n);

struct resolver_stats {
	uint64_t lookups;   /* accepted */
	uint64_t resolved;  /* answered with addresses */
	uint64_t not_found; /* answered without */
	uint64_t timed_out; /* no answer within timeout_ms */
	uint64_t busy;	    /* refused: max_pending outstanding */
};

struct resolver;

/* NULL on out of memory. No thread yet. */
struct resolver *resolver_new(struct loop *l, unsigned max_pending, uint32_t timeout_ms,
			      resolver_fn fn, void *ctx) GLUED_MUST_CHECK_PTR;

/* Free after the loop has stopped for good. A lookup still running in the
 * worker is abandoned: the thread is detached and frees what it shares
 * when getaddrinfo returns (no callback). */
void resolver_free(struct resolver *r);

/* Look host up for family (AF_INET: IPv4 only; AF_INET6: either). 0 (the
 * callback will come), -EBUSY (max_pending outstanding), -ENAMETOOLONG,
 * or -errno when the worker cannot start. */
int resolver_lookup(struct resolver *r, const char *host, int family,
		    uint64_t tag) GLUED_MUST_CHECK;

/* Lookups outstanding, abandoned ones included. */
size_t resolver_pending(const struct resolver *r);

void resolver_get_stats(const struct resolver *r, struct resolver_stats *st);

#endif
