/* The name table: the one source of truth for container names.
 *
 * Records are grouped into entries. An entry is everything one origin says
 * about one owner: an origin is a node (0 is this host and only its
 * sources write it; core/gossip gives each remote node an origin index and
 * writes those), an owner is a container ID or a static source such as
 * "hosts:/etc/glued/hosts". An entry carries names and addresses; every name
 * of the entry resolves to every address of the entry. Putting an entry
 * replaces the previous one for the same (origin, owner) wholesale.
 *
 * Names are single DNS labels, 1..63 bytes, stored lowercased; lookups are
 * case-insensitive. Several entries may carry the same name: lookups return
 * the union of their addresses, each address once, in a stable order
 * (the caller rotates).
 *
 * Two kinds of observers are told after each mutation: name observers get
 * every name whose address set may have changed, so a mirror (the BPF map,
 * io/fastpath) can re-read the name and write it whole; entry observers get
 * every (origin, owner) that changed, so a replica (gossip: core/gossip
 * and io/gossip) can publish it. Pure core: no I/O, no logging; allocates
 * only when the table changes, never on lookup.
 */
#ifndef GLUED_CORE_TABLE_H
#define GLUED_CORE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "lib/counter.h"
#include "lib/err.h"

#define TABLE_NAME_MAX 63	 /* one DNS label */
#define TABLE_OWNER_MAX 127	 /* container ID (64 hex) or "hosts:<path>" */
#define TABLE_ENTRY_NAMES_MAX 32 /* names one entry may carry */
#define TABLE_ENTRY_ADDRS_MAX 8	 /* addresses one entry may carry */
#define TABLE_ENTRIES_MAX 65536	 /* entries the table holds; more is GLUED_ELIMIT */

struct table;

struct table_entry {
	uint32_t origin;		 /* 0 = this host */
	char owner[TABLE_OWNER_MAX + 1]; /* NUL-terminated */
	size_t n_names;
	char names[TABLE_ENTRY_NAMES_MAX][TABLE_NAME_MAX + 1]; /* NUL-terminated, any case */
	size_t n_addrs;
	struct glued_addr addrs[TABLE_ENTRY_ADDRS_MAX];
	uint64_t updated_ms; /* caller's clock; shown to operators */
};

/* What a lookup by name sees: read-only views into the table, valid until
 * the next mutation. Addresses of a family are distinct and sorted by their
 * bytes (memcmp of b[]), so every node orders them alike; the caller
 * rotates. */
struct table_answer {
	const struct glued_addr *v4; /* n_v4 addresses, family AF_INET */
	size_t n_v4;
	const struct glued_addr *v6;
	size_t n_v6;
};

typedef void (*table_observer_fn)(void *ctx, const char *name, size_t len);

struct table *table_new(void);
/* The key of the table's index hashes (SipHash-2-4; 16 bytes the caller
 * draws at random: the core takes no randomness of its own). Zero until
 * set, which tests may keep. Only before the first entry: -EBUSY after. */
int table_set_hash_key(struct table *t, const uint8_t key[16]) GLUED_MUST_CHECK;
void table_free(struct table *t);

/* Replace the entry (e->origin, e->owner). Names that are not valid single
 * labels (empty, > 63 bytes, containing '.') are skipped and counted; an
 * entry left with no names or no addresses is a removal. Names are
 * deduplicated case-insensitively and addresses exactly; addresses of a
 * family other than AF_INET/AF_INET6 are ignored. Returns 0, -ENOMEM (the
 * table is unchanged), -EINVAL (n_names/n_addrs above the maxima, owner not
 * NUL-terminated), or GLUED_ELIMIT when the table holds TABLE_ENTRIES_MAX
 * entries. A put equal to the current entry (same names and addresses in
 * the same order) only refreshes updated_ms.
 *
 * Observers: after a put, del or del_origin, each observer is called once
 * for every name whose answer changed (it appeared, vanished, or its set of
 * v4 or v6 addresses changed); these are always names of the old or the new
 * entries. The table is already in its new state during the calls; a
 * vanished name is no longer known. Observers must not mutate the table. */
int table_put(struct table *t, const struct table_entry *e) GLUED_MUST_CHECK;
/* Remove one entry; 0 or GLUED_ENOTFOUND. */
int table_del(struct table *t, uint32_t origin, const char *owner);
/* Remove every entry of an origin; returns how many were removed. */
size_t table_del_origin(struct table *t, uint32_t origin);

/* Lookup by name (any case, `len` bytes, no trailing dot). Returns true if
 * the name is known, filling *ans (which may hold zero addresses of a
 * family: NODATA). */
bool table_lookup(const struct table *t, const char *name, size_t len, struct table_answer *ans);
/* Reverse lookup: the first name (lowercase, NUL-terminated) carrying
 * address a, or NULL: of the entries carrying a, the one put first (a
 * replaced entry keeps its place), and its first valid name. Valid until
 * the next mutation. */
const char *table_lookup_addr(const struct table *t, const struct glued_addr *a);

/* Iterate every entry (for snapshots, gluedctl, resync) in insertion order
 * (a replaced entry keeps its place). Stop when fn returns non-zero; returns
 * that value. The entry passed to fn is a copy valid during the call. fn
 * must not mutate the table. */
typedef int (*table_entry_fn)(void *ctx, const struct table_entry *e);
int table_foreach_entry(const struct table *t, table_entry_fn fn, void *ctx);
/* Iterate every known name (lowercase). */
typedef int (*table_name_fn)(void *ctx, const char *name, size_t len,
			     const struct table_answer *ans);
int table_foreach_name(const struct table *t, table_name_fn fn, void *ctx);
/* The entry for (origin, owner), or NULL. Entries are stored compactly, so
 * this is a copy in a buffer the table owns: valid until the next
 * table_get() or mutation. Names in it are lowercase. */
const struct table_entry *table_get(const struct table *t, uint32_t origin, const char *owner);

/* Register an observer (at most 4). */
int table_observe(struct table *t, table_observer_fn fn, void *ctx) GLUED_MUST_CHECK;

/* Entry observers (at most 4), for a replica such as gossip: called after a
 * put that changed an entry (created it, replaced its names or addresses,
 * or emptied it: a put equal to the current entry calls nothing) and after
 * a table_del, with that entry's (origin, owner); after table_del_origin or
 * table_del_origin_except removed anything, once with owner NULL ("entries
 * of this origin went"). The table is already in its new state; observers
 * must not mutate it. */
typedef void (*table_entry_observer_fn)(void *ctx, uint32_t origin, const char *owner);
int table_observe_entries(struct table *t, table_entry_observer_fn fn, void *ctx) GLUED_MUST_CHECK;

/* Remove every entry of an origin for which keep(ctx, owner) returns false
 * (every entry when keep is NULL); returns how many were removed. keep must
 * not mutate the table. */
typedef bool (*table_keep_fn)(void *ctx, const char *owner);
size_t table_del_origin_except(struct table *t, uint32_t origin, table_keep_fn keep, void *ctx);

/* The table's counters (lib/counter.h): field, kind, metric, labels, help.
 * puts counts successful table_put() calls; dels entries removed by del,
 * del_origin or an empty put; skipped_names invalid names table_put()
 * skipped. */
#define TABLE_COUNTERS(X)                                                                          \
	X(entries, gauge, "glued_table_entries", "",                                               \
	  "Entries (one origin, one owner) in the name table.")                                    \
	X(names, gauge, "glued_table_names", "", "Distinct names in the name table.")              \
	X(records, gauge, "glued_table_records", "", "Distinct (name, address) pairs answered.")   \
	X(puts, counter, "glued_table_puts_total", "", "Entries published or replaced.")           \
	X(dels, counter, "glued_table_removals_total", "", "Entries removed.")                     \
	X(skipped_names, counter, "glued_table_skipped_names_total", "",                           \
	  "Invalid names skipped when publishing an entry.")

struct table_stats {
	TABLE_COUNTERS(COUNTER_FIELD)
};
void table_get_stats(const struct table *t, struct table_stats *st);

/* Lowercase `len` bytes of src into dst (ASCII only, as DNS does). */
void table_lower(char *dst, const char *src, size_t len);
/* True if s[0..len) is a valid single label for the table: 1..63 bytes, no
 * '.', no control bytes (< 0x20, 0x7f), no space. */
bool table_name_valid(const char *s, size_t len);

#endif
