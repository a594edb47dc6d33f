/* The set of containers the Docker watcher has published: full ID -> digest
 * of the entry last sent, and the list pass (generation) that last saw it.
 *
 * Pure: no I/O; allocates only when it grows. Open addressing with linear
 * probing and backward-shift deletion, so a removal leaves no tombstones and
 * a slot pointer is valid until the next insert or remove.
 */
#ifndef GLUED_CORE_DOCKER_PUB_H
#define GLUED_CORE_DOCKER_PUB_H

#include <stddef.h>
#include <stdint.h>

#include "core/docker_json.h"
#include "core/table.h"

struct docker_pub_slot {
	char id[DOCKER_ID_MAX + 1]; /* "" = free */
	uint64_t digest;
	uint32_t gen;
};

struct docker_pub {
	struct docker_pub_slot *slots;
	size_t cap, n; /* cap: 0 or a power of two */
};

/* id is always a full container ID (64 hex digits: the hash reads 16). */

/* NULL if id is not in the set. */
struct docker_pub_slot *docker_pub_find(struct docker_pub *ps, const char *id);
/* Add id (not yet in the set) with digest 0 and gen 0. NULL when out of
 * memory (the set is unchanged). */
struct docker_pub_slot *docker_pub_insert(struct docker_pub *ps, const char *id);
void docker_pub_remove(struct docker_pub *ps, struct docker_pub_slot *p);
/* Remove every member whose gen is not gen, calling fn(ctx, id) after each
 * removal (id is a copy). */
void docker_pub_sweep(struct docker_pub *ps, uint32_t gen, void (*fn)(void *ctx, const char *id),
		      void *ctx);
void docker_pub_fini(struct docker_pub *ps);

/* Digest of what a table entry publishes: its names and addresses. */
uint64_t docker_pub_digest(const struct table_entry *e);

#endif
