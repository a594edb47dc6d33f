/* Per-client waiting counts for the forwarder's cap: a chained hash table
 * over a fixed pool. It knows addresses and counts, nothing of DNS. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/fwd_clients.h"

#define NONE UINT32_MAX

int fwd_clients_init(struct fwd_clients *c, uint32_t n)
{
	uint32_t nb = 16;

	while (nb < 2 * n && nb < (1u << 30))
		nb <<= 1;
	*c = (struct fwd_clients){.n = n, .mask = nb - 1};
	c->e = calloc(n ? n : 1, sizeof(*c->e));
	c->buckets = malloc((size_t)nb * sizeof(*c->buckets));
	if (!c->e || !c->buckets) {
		fwd_clients_fini(c);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < nb; i++)
		c->buckets[i] = NONE;
	for (uint32_t i = 0; i < n; i++)
		c->e[i].hnext = i + 1 < n ? i + 1 : NONE;
	c->free = n ? 0 : NONE;
	return 0;
}

void fwd_clients_fini(struct fwd_clients *c)
{
	free(c->buckets);
	free(c->e);
	c->buckets = NULL;
	c->e = NULL;
}

static bool addr_same(const struct glued_addr *a, const struct glued_addr *b)
{
	return a->family == b->family && memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

static uint32_t find(const struct fwd_clients *c, const struct glued_addr *a, uint32_t h)
{
	for (uint32_t i = c->buckets[h & c->mask]; i != NONE; i = c->e[i].hnext)
		if (c->e[i].hash == h && addr_same(&c->e[i].addr, a))
			return i;
	return NONE;
}

uint32_t fwd_clients_waiting(const struct fwd_clients *c, const struct glued_addr *a, uint32_t h)
{
	uint32_t i = find(c, a, h);

	return i == NONE ? 0 : c->e[i].waiting;
}

uint32_t fwd_clients_ref(struct fwd_clients *c, const struct glued_addr *a, uint32_t h)
{
	uint32_t i = find(c, a, h);
	struct fwd_client *e;

	if (i == NONE) {
		i = c->free; /* never NONE: at most n references */
		e = &c->e[i];
		c->free = e->hnext;
		*e = (struct fwd_client){.addr = *a, .hash = h, .hnext = c->buckets[h & c->mask]};
		c->buckets[h & c->mask] = i;
	}
	c->e[i].waiting++;
	return i;
}

void fwd_clients_unref(struct fwd_clients *c, uint32_t i)
{
	struct fwd_client *e = &c->e[i];
	uint32_t *pp;

	if (--e->waiting > 0)
		return;
	pp = &c->buckets[e->hash & c->mask];
	while (*pp != i)
		pp = &c->e[*pp].hnext;
	*pp = e->hnext;
	e->hnext = c->free;
	c->free = i;
}
