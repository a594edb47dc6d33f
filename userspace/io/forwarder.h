/* Forwarding to upstream resolvers (I/O edge over core/fwd.h).
 *
 * Contract: forwarder_query() takes a query the answerer returned as
 * DNS_ACT_FORWARD; sometime later (answer, cache hit, SERVFAIL after every
 * upstream failed, or REFUSED at once when that client already has its cap
 * of queries waiting) the forwarder calls the reply function once for
 * that client, with the client's own ID and question case, truncated to
 * c->limit. Upstream queries use a fresh random ID and a fresh socket on a
 * random source port; replies must match source address, port, ID and the
 * whole question. Identical concurrent queries share one upstream query.
 * UDP answers with TC=1 are retried over TCP.
 */
#ifndef GLUED_IO_FORWARDER_H
#define GLUED_IO_FORWARDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/dns_wire.h"
#include "core/fwd.h"
#include "io/dns_client.h"
#include "io/loop.h"
#include "lib/addr.h"

#define FWD_UPSTREAMS_MAX 8

struct forwarder;

struct forwarder_cfg {
	size_t cache_max_bytes; /* memory bound of the answer cache */
	uint32_t attempt_ms;	/* per-upstream timeout before failover */
	uint32_t total_ms;	/* give up (SERVFAIL) after this */
	size_t max_inflight;	/* upstream queries in flight */
	uint32_t neg_ttl_max_s; /* cap on a cached negative answer (0: none cached) */
};
void forwarder_cfg_default(struct forwarder_cfg *cfg);

struct forwarder *forwarder_new(struct loop *l, const struct forwarder_cfg *cfg, dns_reply_fn reply,
				void *reply_ctx) GLUED_MUST_CHECK_PTR;
void forwarder_free(struct forwarder *f);

/* Replace the upstream list (config or a re-read resolv.conf; `from` names
 * it in the log). Upstreams equal to one of `self` (glued's own listening
 * endpoints) are skipped and logged; each kept one is logged. Returns how
 * many were kept. */
size_t forwarder_set_upstreams(struct forwarder *f, const struct glued_endpoint *ups, size_t n,
			       const struct glued_endpoint *self, size_t n_self, const char *from);

void forwarder_query(struct forwarder *f, const struct dns_client *c, const struct dns_query *q,
		     const uint8_t *msg, size_t len);

/* Loop detection: send a random probe name to every upstream now. If glued
 * itself later receives a probe (forwarder_is_probe() true), the upstream
 * that was asked is disabled and logged; it is probed again with backoff
 * and enabled (and logged) when it answers a probe itself. Ask
 * forwarder_is_probe() only for queries from allowed clients. */
void forwarder_probe_loops(struct forwarder *f);
bool forwarder_is_probe(struct forwarder *f, const struct dns_query *q);

/* The core's counters (FWD_COUNTERS in core/fwd.h). */
void forwarder_get_stats(const struct forwarder *f, struct fwd_stats *st);

/* The upstreams in use (after the self check), for the control API: the
 * endpoint and whether loop detection disabled it. Returns how many. */
struct forwarder_upstream {
	struct glued_endpoint ep;
	bool disabled;
};
size_t forwarder_get_upstreams(const struct forwarder *f, struct forwarder_upstream *out,
			       size_t max);

#endif
