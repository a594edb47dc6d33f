/* The forwarder's answer cache: a chained hash table over an LRU list,
 * bounded by bytes. It owns its entries and nothing else; it never reads a
 * clock or a socket, and never decides a TTL (fwd.c does). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/fwd_cache.h"

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 16;

	while (p < n && p < (1u << 30))
		p <<= 1;
	return p;
}

int fwd_cache_init(struct fwd_cache *c, size_t max_bytes)
{
	uint32_t nb;

	*c = (struct fwd_cache){.max_bytes = max_bytes};
	if (!max_bytes)
		return 0;
	/* About one bucket per 512 bytes of cache: short chains. */
	nb = pow2_at_least((uint32_t)(max_bytes / 512 < (1u << 20) ? max_bytes / 512 : (1u << 20)));
	c->buckets = calloc(nb, sizeof(*c->buckets));
	if (!c->buckets)
		return -ENOMEM;
	c->mask = nb - 1;
	return 0;
}

static bool centry_is(const struct fwd_centry *e, const struct fwd_key *k, uint32_t h)
{
	return e->hash == h && e->name_len == k->name_len && e->bits == k->bits &&
	       e->qtype == k->qtype && e->qclass == k->qclass &&
	       memcmp(e->msg + DNS_HDR_LEN, k->name, k->name_len) == 0;
}

static void lru_unlink(struct fwd_cache *c, struct fwd_centry *e)
{
	if (e->lprev)
		e->lprev->lnext = e->lnext;
	else
		c->lru_head = e->lnext;
	if (e->lnext)
		e->lnext->lprev = e->lprev;
	else
		c->lru_tail = e->lprev;
	e->lprev = e->lnext = NULL;
}

static void lru_push(struct fwd_cache *c, struct fwd_centry *e)
{
	e->lprev = NULL;
	e->lnext = c->lru_head;
	if (c->lru_head)
		c->lru_head->lprev = e;
	c->lru_head = e;
	if (!c->lru_tail)
		c->lru_tail = e;
}

static size_t centry_cost(const struct fwd_centry *e)
{
	return sizeof(*e) + e->len;
}

static void cache_remove(struct fwd_cache *c, struct fwd_centry *e)
{
	struct fwd_centry **pp = &c->buckets[e->hash & c->mask];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(c, e);
	c->entries--;
	c->bytes -= centry_cost(e);
	free(e);
}

static struct fwd_centry *cache_find(struct fwd_cache *c, const struct fwd_key *k, uint32_t h)
{
	struct fwd_centry *e;

	if (!c->buckets)
		return NULL;
	for (e = c->buckets[h & c->mask]; e; e = e->hnext)
		if (centry_is(e, k, h))
			return e;
	return NULL;
}

void fwd_cache_fini(struct fwd_cache *c)
{
	while (c->lru_head)
		cache_remove(c, c->lru_head);
	free(c->buckets);
	c->buckets = NULL;
}

const struct fwd_centry *fwd_cache_get(struct fwd_cache *c, const struct fwd_key *k, uint32_t h,
				       uint64_t now_ms)
{
	struct fwd_centry *e = cache_find(c, k, h);

	if (!e)
		return NULL;
	if (e->expires_ms <= now_ms) {
		cache_remove(c, e);
		return NULL;
	}
	lru_unlink(c, e);
	lru_push(c, e);
	return e;
}

void fwd_cache_put(struct fwd_cache *c, const struct fwd_key *k, uint32_t h, const uint8_t *msg,
		   size_t len, uint32_t ttl_s, uint64_t now_ms)
{
	struct fwd_centry *e = cache_find(c, k, h);
	size_t cost = sizeof(*e) + len;

	if (e)
		cache_remove(c, e);
	if (!c->buckets || ttl_s == 0 || cost > c->max_bytes)
		return;
	while (c->lru_tail && c->bytes + cost > c->max_bytes)
		cache_remove(c, c->lru_tail);
	e = malloc(cost);
	if (!e)
		return; /* not caching is always correct */
	*e = (struct fwd_centry){.hash = h,
				 .name_len = k->name_len,
				 .bits = k->bits,
				 .qtype = k->qtype,
				 .qclass = k->qclass,
				 .stored_ms = now_ms,
				 .expires_ms = now_ms + (uint64_t)ttl_s * 1000,
				 .len = len};
	memcpy(e->msg, msg, len);
	e->hnext = c->buckets[h & c->mask];
	c->buckets[h & c->mask] = e;
	lru_push(c, e);
	c->entries++;
	c->bytes += cost;
}

size_t fwd_cache_chain_max(const struct fwd_cache *c)
{
	size_t longest = 0;

	for (uint32_t i = 0; c->buckets && i <= c->mask; i++) {
		size_t n = 0;
		for (const struct fwd_centry *e = c->buckets[i]; e; e = e->hnext)
			n++;
		if (n > longest)
			longest = n;
	}
	return longest;
}
