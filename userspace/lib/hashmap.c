/* The open-addressing pointer map (see hashmap.h). Only hashmap_reserve()
 * allocates; everything else works in the slots it reserved. No I/O. */
#include <errno.h>
#include <stdlib.h>

#include "lib/hashmap.h"

void hashmap_fini(struct hashmap *m)
{
	free(m->slots);
	*m = (struct hashmap){0};
}

/* Place p in the first empty slot of its probe run. There is one: the load
 * stays at most 3/4. */
static void put_slot(struct hashmap_slot *slots, size_t cap, uint32_t hash, void *p)
{
	size_t i = hash & (cap - 1);

	while (slots[i].p)
		i = (i + 1) & (cap - 1);
	slots[i] = (struct hashmap_slot){.hash = hash, .p = p};
}

int hashmap_reserve(struct hashmap *m, size_t extra)
{
	size_t want = m->n + extra, cap = m->cap ? m->cap : 16;
	struct hashmap_slot *slots;

	if (want < m->n || want > SIZE_MAX / 4)
		return -ENOMEM;
	if (want * 4 <= m->cap * 3)
		return 0;
	while (want * 4 > cap * 3)
		cap *= 2;
	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].p)
			put_slot(slots, cap, m->slots[i].hash, m->slots[i].p);
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	return 0;
}

void hashmap_insert(struct hashmap *m, uint32_t hash, void *p)
{
	put_slot(m->slots, m->cap, hash, p);
	m->n++;
}

size_t hashmap_find(const struct hashmap *m, uint32_t hash, hashmap_eq_fn eq, const void *key)
{
	if (!m->cap)
		return HASHMAP_NONE;
	for (size_t i = hash & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		const struct hashmap_slot *s = &m->slots[i];

		if (!s->p)
			return HASHMAP_NONE;
		if (s->hash == hash && eq(s->p, key))
			return i;
	}
}

void *hashmap_get(const struct hashmap *m, uint32_t hash, hashmap_eq_fn eq, const void *key)
{
	size_t i = hashmap_find(m, hash, eq, key);

	return i == HASHMAP_NONE ? NULL : m->slots[i].p;
}

void hashmap_remove_at(struct hashmap *m, size_t i)
{
	size_t mask = m->cap - 1, j = i;

	m->slots[i].p = NULL;
	m->n--;
	/* Backward shift: move later members of the probe run into the hole
	 * when their home slot is not cyclically within (i, j]. */
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!m->slots[j].p)
			return;
		home = m->slots[j].hash & mask;
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		m->slots[i] = m->slots[j];
		m->slots[j].p = NULL;
		i = j;
	}
}

size_t hashmap_next(const struct hashmap *m, size_t i)
{
	for (; i < m->cap; i++)
		if (m->slots[i].p)
			return i;
	return HASHMAP_NONE;
}

uint32_t hashmap_fnv1a(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

uint32_t hashmap_mix(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}
