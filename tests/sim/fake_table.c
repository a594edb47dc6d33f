/* A lean stand-in for core/table.c, linked (instead of it) only into the
 * bench build of the simulator (glued-sim-bench): 1000 nodes each holding
 * 50 000 remote entries do not fit in memory with the real table's name and
 * address indexes. It keeps what the gossip core and the bench read: which
 * (origin, owner) entries exist, full copies of origin-0 entries, entry
 * observers and the entry count. Owner strings are interned across all
 * tables of the process. Never linked into glued or the correctness runs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/table.h"

struct fent {
	const char *owner; /* interned; NULL = empty slot */
	uint32_t origin, hash;
	struct table_entry *full; /* origin 0 only */
};

struct table {
	struct fent *slots;
	size_t cap, n;
	struct {
		table_entry_observer_fn fn;
		void *ctx;
	} eobs[4];
	size_t n_eobs;
	uint64_t puts, dels;
	struct table_entry scratch;
};

/* --- interned owners ------------------------------------------------------ */

static char **pool;
static size_t pool_cap, pool_n;

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h ? h : 1;
}

static const char *intern(const char *s, uint32_t h)
{
	size_t i;

	if (pool_n * 2 >= pool_cap) {
		size_t cap = pool_cap ? pool_cap * 2 : 1024;
		char **n = calloc(cap, sizeof(*n));

		if (!n)
			abort();
		for (size_t j = 0; j < pool_cap; j++) {
			if (!pool[j])
				continue;
			for (i = hash_str(pool[j]) & (cap - 1); n[i]; i = (i + 1) & (cap - 1))
				;
			n[i] = pool[j];
		}
		free(pool);
		pool = n;
		pool_cap = cap;
	}
	for (i = h & (pool_cap - 1); pool[i]; i = (i + 1) & (pool_cap - 1))
		if (!strcmp(pool[i], s))
			return pool[i];
	pool[i] = strdup(s);
	pool_n++;
	return pool[i];
}

/* --- the table -------------------------------------------------------------- */

struct table *table_new(void)
{
	return calloc(1, sizeof(struct table));
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->cap; i++)
		free(t->slots[i].full);
	free(t->slots);
	free(t);
}

static uint32_t key_hash(uint32_t origin, uint32_t h)
{
	/* murmur3's finaliser: FNV's low bits cluster badly under linear probing */
	uint32_t x = h ^ (origin * 0x9e3779b9u);

	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return x;
}

static struct fent *find(const struct table *t, uint32_t origin, const char *owner, uint32_t h)
{
	if (!t->cap)
		return NULL;
	for (size_t i = key_hash(origin, h) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		struct fent *f = &t->slots[i];

		if (!f->owner)
			return NULL;
		if (f->origin == origin && f->hash == h && !strcmp(f->owner, owner))
			return f;
	}
}

static void place(struct fent *slots, size_t cap, struct fent f)
{
	size_t i;

	for (i = key_hash(f.origin, f.hash) & (cap - 1); slots[i].owner; i = (i + 1) & (cap - 1))
		;
	slots[i] = f;
}

static void grow(struct table *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	struct fent *n = calloc(cap, sizeof(*n));

	if (!n)
		abort();
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].owner)
			place(n, cap, t->slots[i]);
	free(t->slots);
	t->slots = n;
	t->cap = cap;
}

/* Remove slot f, re-placing the run after it (linear probing). */
static void remove_at(struct table *t, struct fent *f)
{
	size_t i = (size_t)(f - t->slots);

	free(f->full);
	memset(f, 0, sizeof(*f));
	t->n--;
	t->dels++;
	for (size_t j = (i + 1) & (t->cap - 1); t->slots[j].owner; j = (j + 1) & (t->cap - 1)) {
		struct fent g = t->slots[j];

		memset(&t->slots[j], 0, sizeof(g));
		place(t->slots, t->cap, g);
	}
}

static void tell(const struct table *t, uint32_t origin, const char *owner)
{
	for (size_t i = 0; i < t->n_eobs; i++)
		t->eobs[i].fn(t->eobs[i].ctx, origin, owner);
}

int table_put(struct table *t, const struct table_entry *e)
{
	uint32_t h = hash_str(e->owner);
	struct fent *f = find(t, e->origin, e->owner, h);

	if (!e->n_names || !e->n_addrs) {
		if (f) {
			remove_at(t, f);
			tell(t, e->origin, e->owner);
		}
		return 0;
	}
	if (!f) {
		struct fent nf = {intern(e->owner, h), e->origin, h, NULL};

		if ((t->n + 1) * 2 > t->cap)
			grow(t);
		place(t->slots, t->cap, nf);
		t->n++;
		f = find(t, e->origin, e->owner, h);
	}
	if (e->origin == 0) {
		if (!f->full && !(f->full = malloc(sizeof(*f->full))))
			return -ENOMEM;
		*f->full = *e;
	}
	t->puts++;
	tell(t, e->origin, e->owner);
	return 0;
}

int table_del(struct table *t, uint32_t origin, const char *owner)
{
	struct fent *f = find(t, origin, owner, hash_str(owner));

	if (!f)
		return GLUED_ENOTFOUND;
	remove_at(t, f);
	tell(t, origin, owner);
	return 0;
}

static size_t del_where(struct table *t, uint32_t origin, table_keep_fn keep, void *ctx)
{
	size_t n = 0;

	for (size_t i = 0; i < t->cap;) {
		struct fent *f = &t->slots[i];

		if (f->owner && f->origin == origin && !(keep && keep(ctx, f->owner))) {
			remove_at(t, f); /* may pull a later entry into slot i: look again */
			n++;
			continue;
		}
		i++;
	}
	if (n)
		tell(t, origin, NULL);
	return n;
}

size_t table_del_origin(struct table *t, uint32_t origin)
{
	return del_where(t, origin, NULL, NULL);
}

size_t table_del_origin_except(struct table *t, uint32_t origin, table_keep_fn keep, void *ctx)
{
	return del_where(t, origin, keep, ctx);
}

const struct table_entry *table_get(const struct table *t, uint32_t origin, const char *owner)
{
	struct fent *f = find(t, origin, owner, hash_str(owner));
	struct table_entry *s = (struct table_entry *)&t->scratch;

	if (!f)
		return NULL;
	if (f->full)
		return f->full;
	memset(s, 0, sizeof(*s)); /* remote content is not kept: existence only */
	s->origin = origin;
	strcpy(s->owner, f->owner);
	return s;
}

int table_foreach_entry(const struct table *t, table_entry_fn fn, void *ctx)
{
	for (size_t i = 0; i < t->cap; i++) {
		const struct fent *f = &t->slots[i];
		int r;

		if (!f->owner)
			continue;
		r = fn(ctx, table_get(t, f->origin, f->owner));
		if (r)
			return r;
	}
	return 0;
}

int table_observe_entries(struct table *t, table_entry_observer_fn fn, void *ctx)
{
	if (t->n_eobs == 4)
		return GLUED_ELIMIT;
	t->eobs[t->n_eobs].fn = fn;
	t->eobs[t->n_eobs++].ctx = ctx;
	return 0;
}

void table_get_stats(const struct table *t, struct table_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->entries = t->n;
	st->puts = t->puts;
	st->dels = t->dels;
}

bool table_name_valid(const char *s, size_t len)
{
	if (len == 0 || len > TABLE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '.' || s[i] == ' ' || (uint8_t)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}
