/* The forwarder's decisions, without I/O: which upstream to ask, whether a
 * reply is the answer to what we asked, how long an answer may be cached,
 * whether a client may wait on one more upstream question, whether an
 * upstream loops back to us, and what bytes each waiting client receives.
 *
 * Sans-IO contract: the caller hands in queries, upstream datagrams,
 * timeouts and `now_ms`; the core answers through the callbacks of struct
 * fwd_io (send a query to an upstream, forget a slot, reply to a waiting
 * client, an upstream's state changed) and through return values.
 * Randomness (upstream IDs, probe names, the key of its hash tables) comes
 * from the injected struct glued_rng. In-flight state lives in pools sized
 * at fwd_new(); only cache inserts allocate.
 *
 * Slots and waiters are small integers. A slot is one upstream question in
 * flight (possibly shared by many clients); its current attempt goes to one
 * upstream over UDP or TCP. A waiter is one client waiting on a slot; the
 * caller keeps whatever it needs to reach that client under the same
 * index (an array of max_waiters entries).
 */
#ifndef GLUED_CORE_FWD_H
#define GLUED_CORE_FWD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/dns_wire.h"
#include "lib/addr.h"
#include "lib/counter.h"
#include "lib/err.h"
#include "lib/rand.h"

#define FWD_MAX_UPSTREAMS 8
#define FWD_EDNS_SIZE 1232 /* UDP size we advertise upstream and to clients */
#define FWD_MSG_MAX 65535  /* largest DNS message (TCP) */
#define FWD_PROBE_LABEL "glued-loop-probe"

struct fwd_cfg {
	size_t cache_max_bytes;	 /* entries + their bytes; 0 disables the cache */
	uint32_t attempt_ms;	 /* UDP attempt before failover (TCP gets twice this) */
	uint32_t total_ms;	 /* budget per question; then SERVFAIL */
	uint32_t max_inflight;	 /* slots */
	uint32_t max_waiters;	 /* clients waiting, over all slots */
	uint32_t max_per_client; /* waiters one client address may have; 0: no cap */
	uint32_t neg_ttl_s;	 /* negative answer without SOA */
	uint32_t neg_ttl_max_s;	 /* cap on a negative answer's lifetime (SOA minimum) */
	uint32_t max_ttl_s;	 /* cap on any cached lifetime */
};

/* Defaults: 4 MiB cache, 1000 ms per attempt, 3500 ms in all (dig gives up
 * at 5 s), 1024 slots, 4096 waiters, 64 of them per client (docs/forwarding.md
 * says why), 5 s negative TTL without SOA, negative answers capped at 300 s,
 * anything at 1 h. */
void fwd_cfg_default(struct fwd_cfg *cfg);

struct fwd_io {
	void *ctx;
	/* Start a new attempt for `slot`: a fresh socket to `to` (over TCP if
	 * `tcp`), send msg[0..len) (copy it: the buffer is reused), and call
	 * fwd_on_timeout() at deadline_ms unless the slot ends first. Any
	 * previous attempt of the slot is over: close it. */
	void (*send)(void *ctx, uint32_t slot, const struct glued_endpoint *to, bool tcp,
		     const uint8_t *msg, size_t len, uint64_t deadline_ms);
	/* The slot is finished: close its attempt, disarm its timer. */
	void (*done)(void *ctx, uint32_t slot);
	/* Send msg[0..len) to the client registered under `waiter`; the index
	 * is free again when this returns. */
	void (*reply)(void *ctx, uint32_t waiter, const uint8_t *msg, size_t len);
	/* Upstream i was just disabled (its loop probe came back to us) or
	 * enabled again (it answered a later probe and none came back):
	 * called once per transition, for the log. May be NULL. */
	void (*upstream_state)(void *ctx, uint32_t i, bool enabled);
};

/* The forwarder's counters (lib/counter.h): field, kind, metric, labels, help. */
#define FWD_COUNTERS(X)                                                                            \
	X(queries, counter, "glued_forwarder_queries_total", "",                                   \
	  "Queries handed to the forwarder.")                                                      \
	X(cache_hits, counter, "glued_forwarder_cache_hits_total", "",                             \
	  "Forwarded queries answered from the cache.")                                            \
	X(coalesced, counter, "glued_forwarder_coalesced_total", "",                               \
	  "Forwarded queries that joined an identical one in flight.")                             \
	X(upstream_sent, counter, "glued_forwarder_upstream_queries_total", "",                    \
	  "Queries sent to upstreams.")                                                            \
	X(upstream_answers, counter, "glued_forwarder_upstream_answers_total", "",                 \
	  "Answers accepted from upstreams.")                                                      \
	X(timeouts, counter, "glued_forwarder_timeouts_total", "",                                 \
	  "Upstream attempts that timed out.")                                                     \
	X(servfail, counter, "glued_forwarder_servfail_total", "",                                 \
	  "Forwarded queries answered SERVFAIL after every upstream failed.")                      \
	X(tcp_retries, counter, "glued_forwarder_tcp_retries_total", "",                           \
	  "Truncated answers retried over TCP.")                                                   \
	X(mismatched, counter, "glued_forwarder_mismatched_total", "",                             \
	  "Datagrams from upstream sockets that did not match the question.")                      \
	X(cache_entries, gauge, "glued_forwarder_cache_entries", "",                               \
	  "Answers in the forwarder cache.")                                                       \
	X(cache_bytes, gauge, "glued_forwarder_cache_bytes", "",                                   \
	  "Bytes held by the forwarder cache.")                                                    \
	X(bad_answers, counter, "glued_forwarder_bad_answers_total", "",                           \
	  "Upstream answers whose records did not walk cleanly (the next upstream is asked).")     \
	X(errors, counter, "glued_forwarder_errors_total", "",                                     \
	  "Upstream attempts that failed outright (refused, reset, short TCP stream).")            \
	X(loops_detected, counter, "glued_forwarder_loops_detected_total", "",                     \
	  "Upstreams disabled because glued's own loop probe came back through them.")             \
	X(upstreams_restored, counter, "glued_forwarder_upstreams_restored_total", "",             \
	  "Disabled upstreams enabled again after answering a loop probe themselves.")             \
	X(client_limited, counter, "glued_forwarder_client_limited_total", "",                     \
	  "Queries answered REFUSED: their client already had its cap of queries waiting.")

struct fwd_stats {
	FWD_COUNTERS(COUNTER_FIELD)
};

struct fwd;

/* NULL if out of memory. cfg, io and rng are copied. */
struct fwd *fwd_new(const struct fwd_cfg *cfg, const struct fwd_io *io,
		    const struct glued_rng *rng) GLUED_MUST_CHECK_PTR;
void fwd_free(struct fwd *f);

/* Is `up` one of glued's own listening endpoints? Same port and: the same
 * address; or `self` is a wildcard (0.0.0.0 / ::) and `up` is a loopback
 * address, a wildcard, or one of `local` (the host's addresses); or `up`
 * is a wildcard (connecting to it reaches this host). */
bool fwd_upstream_is_self(const struct glued_endpoint *up, const struct glued_endpoint *self,
			  size_t n_self, const struct glued_addr *local, size_t n_local);

/* Replace the upstream list (at most FWD_MAX_UPSTREAMS; the rest are
 * ignored). An endpoint that was disabled (loop) stays disabled, and keeps
 * its probe names and re-probe schedule. Questions in flight carry on and
 * fail over within the new list. Returns how many were taken. */
size_t fwd_set_upstreams(struct fwd *f, const struct glued_endpoint *ups, size_t n);
size_t fwd_upstream_count(const struct fwd *f);
/* Endpoint of upstream i (i < count) and whether it is disabled. */
const struct glued_endpoint *fwd_upstream(const struct fwd *f, size_t i, bool *disabled);

enum fwd_verdict {
	FWD_REPLY, /* *out holds the reply for this client now (cache hit or SERVFAIL) */
	FWD_WAIT,  /* the client waits under *waiter; io->reply() comes later */
};

/* A query the answerer decided to forward, from `client` (its source
 * address: the per-client cap counts by it). `limit` is the largest reply
 * the client takes (>= 512 for UDP, 65535 for TCP). A client that already
 * has max_per_client queries waiting gets REFUSED (counted in
 * client_limited) unless the answer is cached. *out stays valid until the
 * next call into the core. */
enum fwd_verdict fwd_query(struct fwd *f, const struct dns_query *q,
			   const struct glued_addr *client, uint16_t limit, uint64_t now_ms,
			   uint32_t *waiter, const uint8_t **out, size_t *out_len);

enum fwd_match {
	FWD_DROPPED,  /* not the answer to our question (counted); keep waiting */
	FWD_ACCEPTED, /* the slot's answer: delivered, retried over TCP, or failed over */
};

/* A datagram (or TCP message) that arrived on slot's current attempt from
 * `from`. Accepted only if from, ID and the whole question match. */
enum fwd_match fwd_on_reply(struct fwd *f, uint32_t slot, const struct glued_endpoint *from,
			    const uint8_t *msg, size_t len, uint64_t now_ms);
/* The slot's attempt failed outright (refused, reset, short TCP stream). */
void fwd_on_error(struct fwd *f, uint32_t slot, uint64_t now_ms);
/* The slot's deadline passed. */
void fwd_on_timeout(struct fwd *f, uint32_t slot, uint64_t now_ms);

/* Loop detection: send every enabled upstream a TXT query for
 * "<32 hex>.glued-loop-probe." and remember the name. Returns how many were
 * sent.
 *
 * A disabled upstream is probed again, with a fresh name, when a query
 * arrives FWD_REPROBE_MIN_MS after it was disabled, then after twice that,
 * and so on up to FWD_REPROBE_MAX_MS between probes (no query, no need to
 * know). If it answers such a probe with NOERROR or NXDOMAIN and that name
 * has not come back to us, it is enabled again (upstreams_restored). */
#define FWD_REPROBE_MIN_MS 5000u
#define FWD_REPROBE_MAX_MS 300000u
size_t fwd_probe(struct fwd *f, uint64_t now_ms);
/* If qname (wire form) is one of our probe names, disable the upstream it
 * was sent to (loops_detected and io->upstream_state() if it was enabled)
 * and return its index; else -1. The caller must drop the query: that
 * breaks the loop. Ask only for queries from allowed clients. */
int fwd_is_probe(struct fwd *f, const uint8_t *qname, size_t qname_len, uint64_t now_ms);

void fwd_get_stats(const struct fwd *f, struct fwd_stats *st);

/* The longest chain of cache entries sharing one hash bucket (the cost of a
 * lookup in the worst bucket), for tests and diagnostics; walks the cache. */
size_t fwd_cache_longest_chain(const struct fwd *f);

#endif
