/* The published set of the Docker watcher (see docker_pub.h): a small hash
 * set keyed by container ID. It must stay free of I/O and of any notion of
 * what "published" means: core/docker_sync decides that.
 */
#include "core/docker_pub.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

#define FNV_INIT 1469598103934665603ULL

static size_t hash(const char *id, size_t cap)
{
	return (size_t)fnv(FNV_INIT, (const uint8_t *)id, 16) & (cap - 1);
}

struct docker_pub_slot *docker_pub_find(struct docker_pub *ps, const char *id)
{
	if (!ps->cap)
		return NULL;
	for (size_t i = hash(id, ps->cap);; i = (i + 1) & (ps->cap - 1)) {
		if (!ps->slots[i].id[0])
			return NULL;
		if (strcmp(ps->slots[i].id, id) == 0)
			return &ps->slots[i];
	}
}

static int grow(struct docker_pub *ps)
{
	size_t cap = ps->cap ? ps->cap * 2 : 64;
	struct docker_pub_slot *old = ps->slots, *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t k = 0; k < ps->cap; k++) {
		if (!old[k].id[0])
			continue;
		size_t i = hash(old[k].id, cap);

		while (slots[i].id[0])
			i = (i + 1) & (cap - 1);
		slots[i] = old[k];
	}
	free(old);
	ps->slots = slots;
	ps->cap = cap;
	return 0;
}

struct docker_pub_slot *docker_pub_insert(struct docker_pub *ps, const char *id)
{
	size_t i;

	if ((ps->n + 1) * 4 > ps->cap * 3 && grow(ps))
		return NULL;
	for (i = hash(id, ps->cap); ps->slots[i].id[0]; i = (i + 1) & (ps->cap - 1))
		;
	memset(&ps->slots[i], 0, sizeof(ps->slots[i]));
	strcpy(ps->slots[i].id, id);
	ps->n++;
	return &ps->slots[i];
}

void docker_pub_remove(struct docker_pub *ps, struct docker_pub_slot *p)
{
	size_t mask = ps->cap - 1, i = (size_t)(p - ps->slots), j = i;

	p->id[0] = '\0';
	ps->n--;
	/* Backward shift: move later members of the cluster into the hole when
	 * their home slot does not lie cyclically in (i, j]. */
	for (;;) {
		j = (j + 1) & mask;
		if (!ps->slots[j].id[0])
			return;
		size_t k = hash(ps->slots[j].id, ps->cap);

		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			ps->slots[i] = ps->slots[j];
			ps->slots[j].id[0] = '\0';
			i = j;
		}
	}
}

uint64_t docker_pub_digest(const struct table_entry *e)
{
	uint64_t h = FNV_INIT;
	const uint8_t sep = 0xff;

	for (size_t i = 0; i < e->n_names; i++)
		h = fnv(h, (const uint8_t *)e->names[i], strlen(e->names[i]));
	for (size_t i = 0; i < e->n_addrs; i++) {
		h = fnv(h, &sep, 1);
		h = fnv(h, (const uint8_t *)&e->addrs[i], sizeof(e->addrs[i]));
	}
	return h;
}

void docker_pub_sweep(struct docker_pub *ps, uint32_t gen, void (*fn)(void *ctx, const char *id),
		      void *ctx)
{
	for (size_t i = 0; i < ps->cap;) {
		struct docker_pub_slot *p = &ps->slots[i];
		char id[DOCKER_ID_MAX + 1];

		if (p->id[0] && p->gen != gen) {
			strcpy(id, p->id);
			docker_pub_remove(ps, p);
			fn(ctx, id);
			continue; /* backward shift may have moved another into i */
		}
		i++;
	}
}

void docker_pub_fini(struct docker_pub *ps)
{
	free(ps->slots);
	*ps = (struct docker_pub){0};
}
