/* An open-addressing map of pointers keyed by the caller: linear probing
 * over a power-of-two slot array, load at most 3/4, deletion by backward
 * shift (no tombstones). The map stores (hash, pointer) pairs and never
 * looks inside a node: the caller computes every hash (hashmap_fnv1a() and
 * hashmap_mix() help) and passes an equality function when it searches, so
 * one node type can sit in several maps under different keys. Slots keep
 * the full hash, so a probe compares keys only when the hashes match.
 *
 * Growing is split from inserting: hashmap_reserve() is the only call that
 * allocates, so a caller can reserve for everything it is about to insert
 * and then commit without a failure path. The map owns its slot array, not
 * the nodes. No I/O; allocates only in hashmap_reserve().
 */
#ifndef GLUED_LIB_HASHMAP_H
#define GLUED_LIB_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

#define HASHMAP_NONE SIZE_MAX	      /* "no slot" from find and next */
#define HASHMAP_FNV_BASIS 2166136261u /* starting value of hashmap_fnv1a() */

struct hashmap_slot {
	uint32_t hash;
	void *p; /* NULL = empty */
};

/* Zero-initialised is an empty map. cap is 0 or a power of two; n counts
 * the occupied slots. Read them, do not write them. */
struct hashmap {
	struct hashmap_slot *slots;
	size_t cap, n;
};

/* True if node (a stored pointer) has the key the caller searches for. */
typedef bool (*hashmap_eq_fn)(const void *node, const void *key);

/* Free the slot array (not the nodes); the map is empty and usable again. */
void hashmap_fini(struct hashmap *m);

/* Make room for `extra` more hashmap_insert() calls that cannot fail.
 * Returns 0 or -ENOMEM (the map is unchanged). */
int hashmap_reserve(struct hashmap *m, size_t extra) GLUED_MUST_CHECK;

/* Insert p (not NULL) under hash; only within a reservation. Does not look
 * for an equal key: the caller inserts a key once. */
void hashmap_insert(struct hashmap *m, uint32_t hash, void *p);

/* The slot of the node with this hash for which eq(node, key) holds, or
 * HASHMAP_NONE. The index is valid until the next insert or removal. */
size_t hashmap_find(const struct hashmap *m, uint32_t hash, hashmap_eq_fn eq, const void *key);

/* hashmap_find() returning the node, or NULL. */
void *hashmap_get(const struct hashmap *m, uint32_t hash, hashmap_eq_fn eq, const void *key);

/* Empty slot i (an index from find or next); later members of its probe
 * run move back, so indexes taken before are stale. */
void hashmap_remove_at(struct hashmap *m, size_t i);

/* The first occupied slot at or after i, or HASHMAP_NONE: iterate with
 *	for (size_t i = hashmap_next(m, 0); i != HASHMAP_NONE; i = hashmap_next(m, i + 1))
 * in slot order (no order a caller may rely on), without mutating. */
size_t hashmap_next(const struct hashmap *m, size_t i);

/* The node in occupied slot i. */
static inline void *hashmap_at(const struct hashmap *m, size_t i)
{
	return m->slots[i].p;
}

/* Put p in occupied slot i in place of its node; p must have the same key
 * and hash (a replacement node). */
static inline void hashmap_replace_at(struct hashmap *m, size_t i, void *p)
{
	m->slots[i].p = p;
}

/* FNV-1a over n bytes, continuing from h (HASHMAP_FNV_BASIS to start). */
uint32_t hashmap_fnv1a(uint32_t h, const void *p, size_t n);
/* A finaliser (murmur3's) spreading FNV's bits into the low ones, which
 * pick the slot. */
uint32_t hashmap_mix(uint32_t h);

#endif
