/* The forwarder's answer cache (private to core/fwd.c): normalised answers
 * by question, bounded by bytes, least recently used evicted first.
 *
 * Sans-IO like its user: time comes in as now_ms; the caller computes the
 * hash (keyed, see fwd.c) and the TTL. Only fwd_cache_put() allocates, and
 * failing to allocate only means not caching.
 */
#ifndef GLUED_CORE_FWD_CACHE_H
#define GLUED_CORE_FWD_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/dns_wire.h"
#include "lib/err.h"

/* What makes two questions the same: lowercase name, type, class, DO, CD. */
struct fwd_key {
	uint8_t name[DNS_NAME_MAX];
	uint8_t name_len;
	uint8_t bits; /* FWD_KEY_DO | FWD_KEY_CD */
	uint16_t qtype, qclass;
};
#define FWD_KEY_DO 0x01
#define FWD_KEY_CD 0x02

struct fwd_centry {
	struct fwd_centry *hnext, *lprev, *lnext;
	uint32_t hash;
	uint8_t name_len, bits; /* the name is msg[12..], lowercase */
	uint16_t qtype, qclass;
	uint64_t stored_ms, expires_ms;
	size_t len;
	uint8_t msg[]; /* the answer without OPT, question lowercased */
};

struct fwd_cache {
	struct fwd_centry **buckets; /* NULL: caching is off */
	uint32_t mask;
	struct fwd_centry *lru_head, *lru_tail; /* head: most recently used */
	size_t max_bytes;
	uint64_t entries, bytes; /* bytes count entry headers too */
};

/* max_bytes 0: a cache that never holds anything. 0 or -ENOMEM. */
int fwd_cache_init(struct fwd_cache *c, size_t max_bytes) GLUED_MUST_CHECK;
void fwd_cache_fini(struct fwd_cache *c);

/* The live entry for k (hash h), now the most recently used; an expired
 * one is removed. NULL if none. Valid until the next put or fini. */
const struct fwd_centry *fwd_cache_get(struct fwd_cache *c, const struct fwd_key *k, uint32_t h,
				       uint64_t now_ms);
/* Store msg[0..len) (whose question at offset 12 is k's name) for ttl_s
 * seconds, replacing any entry for k; ttl_s 0 only removes. Evicts the
 * least recently used entries to stay within max_bytes. */
void fwd_cache_put(struct fwd_cache *c, const struct fwd_key *k, uint32_t h, const uint8_t *msg,
		   size_t len, uint32_t ttl_s, uint64_t now_ms);
/* Entries in the fullest bucket (walks the buckets). */
size_t fwd_cache_chain_max(const struct fwd_cache *c);

#endif
