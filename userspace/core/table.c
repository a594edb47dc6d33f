/* The name table (see table.h): entries stored compactly, three hash
 * indexes (lib/hashmap.h: entries by (origin, owner), names by lowercase
 * label, addresses for PTR) and, per name, the sorted union of the
 * addresses of every entry carrying it, kept with reference counts so a
 * lookup is one hash probe and no work. A mutation first allocates
 * everything it may need and only then changes the table, so -ENOMEM
 * leaves the table as it was. This file never does I/O, logs, reads a
 * clock or allocates on the lookup paths. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/table.h"
#include <sodium.h>

#include "lib/hashmap.h"

#define TABLE_OBSERVERS_MAX 4

/* --- nodes ---------------------------------------------------------------- */

/* The sorted, distinct addresses of one family for one name, each with the
 * number of entries (carrying the name) that contribute it. One block:
 * cap addresses, then cap counts. */
struct fam {
	struct glued_addr *a;
	uint32_t *rc;
	uint32_t n, cap;
};

struct tname {
	uint32_t hash;
	uint32_t n_entries; /* entries carrying this name; 0 = vanishing */
	struct fam f4, f6;
	struct tname *dirty_next;
	bool dirty;
	uint8_t len;
	char name[]; /* lowercase, NUL-terminated */
};

struct tentry;

struct taddr {
	uint32_t hash;
	uint32_t n, cap;
	struct tentry **entries; /* carrying this address, by seq; [0] = PTR answer */
	struct glued_addr a;
};

union tref {
	struct tname *name;
	struct taddr *addr;
};

struct tentry {
	uint32_t hash;
	uint32_t origin;
	uint64_t updated_ms;
	uint64_t seq;		    /* insertion order; a replacement keeps it */
	struct tentry *prev, *next; /* in seq order */
	uint16_t n_names, n_addrs;
	char *owner;	   /* inside this block, after refs */
	union tref refs[]; /* n_names names, then n_addrs addresses */
};

struct observer {
	table_observer_fn fn;
	void *ctx;
};

struct entry_observer {
	table_entry_observer_fn fn;
	void *ctx;
};

struct table {
	struct hashmap entries, names, addrs;
	struct tentry *head, *tail;
	struct tname *dirty; /* names to tell observers about */
	struct observer obs[TABLE_OBSERVERS_MAX];
	size_t n_obs;
	struct entry_observer eobs[TABLE_OBSERVERS_MAX];
	size_t n_eobs;
	size_t records;
	uint64_t next_seq;
	uint64_t puts, dels, skipped_names;
	struct table_entry *scratch;		     /* table_get()'s copy */
	uint8_t hash_key[crypto_shorthash_KEYBYTES]; /* all zero until set */
};

/* --- hashing ---------------------------------------------------------------- */

static inline uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* The three indexes hash what peers choose (names, owners, addresses all
 * arrive by gossip), so the hash is keyed: SipHash-2-4 (libsodium's
 * crypto_shorthash) under t->hash_key, which glued draws at start
 * (table_set_hash_key()). Without the key nobody can aim names at one
 * bucket chain. */
static uint32_t keyed(const struct table *t, const uint8_t *b, size_t n)
{
	uint8_t out[crypto_shorthash_BYTES];

	crypto_shorthash(out, b, n, t->hash_key);
	return (uint32_t)out[0] | (uint32_t)out[1] << 8 | (uint32_t)out[2] << 16 |
	       (uint32_t)out[3] << 24;
}

/* Hash of a name as if lowercased, so callers need not copy it. */
static uint32_t hash_name(const struct table *t, const char *s, size_t len)
{
	uint8_t low[TABLE_NAME_MAX + 1];

	if (len > TABLE_NAME_MAX)
		len = TABLE_NAME_MAX; /* longer names are never stored */
	for (size_t i = 0; i < len; i++)
		low[i] = lower((uint8_t)s[i]);
	return keyed(t, low, len);
}

static uint32_t hash_entry(const struct table *t, uint32_t origin, const char *owner, size_t len)
{
	uint8_t b[4 + TABLE_OWNER_MAX];

	if (len > TABLE_OWNER_MAX)
		len = TABLE_OWNER_MAX;
	b[0] = (uint8_t)(origin >> 24);
	b[1] = (uint8_t)(origin >> 16);
	b[2] = (uint8_t)(origin >> 8);
	b[3] = (uint8_t)origin;
	memcpy(b + 4, owner, len);
	return keyed(t, b, 4 + len);
}

static uint32_t hash_addr(const struct table *t, const struct glued_addr *a)
{
	uint8_t b[17];

	b[0] = a->family;
	memcpy(b + 1, a->b, 16);
	return keyed(t, b, sizeof(b));
}

struct name_key {
	const char *s;
	size_t len;
};

static bool name_eq(const void *node, const void *key)
{
	const struct tname *n = node;
	const struct name_key *k = key;

	if (n->len != k->len)
		return false;
	for (size_t i = 0; i < k->len; i++)
		if ((uint8_t)n->name[i] != lower((uint8_t)k->s[i]))
			return false;
	return true;
}

struct entry_key {
	uint32_t origin;
	const char *owner;
};

static bool entry_eq(const void *node, const void *key)
{
	const struct tentry *e = node;
	const struct entry_key *k = key;

	return e->origin == k->origin && strcmp(e->owner, k->owner) == 0;
}

static bool taddr_eq(const void *node, const void *key)
{
	return addr_eq(&((const struct taddr *)node)->a, key);
}

static struct tname *name_find(const struct table *t, const char *s, size_t len, uint32_t hash)
{
	struct name_key k = {s, len};

	return hashmap_get(&t->names, hash, name_eq, &k);
}

static struct taddr *addr_find(const struct table *t, const struct glued_addr *a, uint32_t hash)
{
	return hashmap_get(&t->addrs, hash, taddr_eq, a);
}

static size_t entry_slot(const struct table *t, uint32_t origin, const char *owner)
{
	struct entry_key k = {origin, owner};

	return hashmap_find(&t->entries, hash_entry(t, origin, owner, strlen(owner)), entry_eq, &k);
}

/* --- names and labels ------------------------------------------------------- */

void table_lower(char *dst, const char *src, size_t len)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = (char)lower((uint8_t)src[i]);
}

bool table_name_valid(const char *s, size_t len)
{
	if (len < 1 || len > TABLE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)s[i];

		if (c == '.' || c <= 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

/* --- per-name address sets ------------------------------------------------- */

static int fam_reserve(struct fam *f, size_t want)
{
	size_t cap = f->cap ? f->cap : 1;
	struct glued_addr *a;
	uint32_t *rc;

	if (want <= f->cap)
		return 0;
	while (cap < want)
		cap *= 2;
	a = malloc(cap * (sizeof(*a) + sizeof(*rc)));
	if (!a)
		return -ENOMEM;
	rc = (uint32_t *)(a + cap);
	if (f->n) {
		memcpy(a, f->a, f->n * sizeof(*a));
		memcpy(rc, f->rc, f->n * sizeof(*rc));
	}
	free(f->a);
	f->a = a;
	f->rc = rc;
	f->cap = (uint32_t)cap;
	return 0;
}

/* Index of the first address >= a (by bytes); *found if equal. */
static size_t fam_search(const struct fam *f, const struct glued_addr *a, bool *found)
{
	size_t lo = 0, hi = f->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(f->a[mid].b, a->b, 16);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static struct fam *fam_of(struct tname *n, const struct glued_addr *a)
{
	return a->family == AF_INET ? &n->f4 : &n->f6;
}

static void mark_dirty(struct table *t, struct tname *n)
{
	if (n->dirty)
		return;
	n->dirty = true;
	n->dirty_next = t->dirty;
	t->dirty = n;
}

/* Capacity was reserved: cannot fail. */
static void name_add_addr(struct table *t, struct tname *n, const struct glued_addr *a)
{
	struct fam *f = fam_of(n, a);
	bool found;
	size_t i = fam_search(f, a, &found);

	if (found) {
		f->rc[i]++;
		return;
	}
	memmove(&f->a[i + 1], &f->a[i], (f->n - i) * sizeof(*f->a));
	memmove(&f->rc[i + 1], &f->rc[i], (f->n - i) * sizeof(*f->rc));
	f->a[i] = *a;
	f->rc[i] = 1;
	f->n++;
	t->records++;
	mark_dirty(t, n);
}

static void name_del_addr(struct table *t, struct tname *n, const struct glued_addr *a)
{
	struct fam *f = fam_of(n, a);
	bool found;
	size_t i = fam_search(f, a, &found);

	if (!found || --f->rc[i])
		return;
	memmove(&f->a[i], &f->a[i + 1], (f->n - i - 1) * sizeof(*f->a));
	memmove(&f->rc[i], &f->rc[i + 1], (f->n - i - 1) * sizeof(*f->rc));
	f->n--;
	t->records--;
	mark_dirty(t, n);
}

/* --- lifecycle ---------------------------------------------------------------- */

struct table *table_new(void)
{
	struct table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->scratch = malloc(sizeof(*t->scratch));
	if (!t->scratch) {
		free(t);
		return NULL;
	}
	return t;
}

int table_set_hash_key(struct table *t, const uint8_t key[16])
{
	if (t->entries.n)
		return -EBUSY; /* the indexes hold hashes under the old key */
	memcpy(t->hash_key, key, sizeof(t->hash_key));
	return 0;
}

static void name_free(struct tname *n)
{
	free(n->f4.a);
	free(n->f6.a);
	free(n);
}

static void taddr_free(struct taddr *a)
{
	free(a->entries);
	free(a);
}

void table_free(struct table *t)
{
	struct tentry *e, *next;

	if (!t)
		return;
	for (e = t->head; e; e = next) {
		next = e->next;
		free(e);
	}
	for (size_t i = hashmap_next(&t->names, 0); i != HASHMAP_NONE;
	     i = hashmap_next(&t->names, i + 1))
		name_free(hashmap_at(&t->names, i));
	for (size_t i = hashmap_next(&t->addrs, 0); i != HASHMAP_NONE;
	     i = hashmap_next(&t->addrs, i + 1))
		taddr_free(hashmap_at(&t->addrs, i));
	hashmap_fini(&t->entries);
	hashmap_fini(&t->names);
	hashmap_fini(&t->addrs);
	free(t->scratch);
	free(t);
}

int table_observe(struct table *t, table_observer_fn fn, void *ctx)
{
	if (t->n_obs == TABLE_OBSERVERS_MAX)
		return GLUED_ELIMIT;
	t->obs[t->n_obs++] = (struct observer){fn, ctx};
	return 0;
}

int table_observe_entries(struct table *t, table_entry_observer_fn fn, void *ctx)
{
	if (t->n_eobs == TABLE_OBSERVERS_MAX)
		return GLUED_ELIMIT;
	t->eobs[t->n_eobs++] = (struct entry_observer){fn, ctx};
	return 0;
}

static void tell_entry(const struct table *t, uint32_t origin, const char *owner)
{
	for (size_t i = 0; i < t->n_eobs; i++)
		t->eobs[i].fn(t->eobs[i].ctx, origin, owner);
}

/* --- mutation helpers ------------------------------------------------------ */

/* Take away what entry e contributes, except to the address nodes listed in
 * `keep` (those the replacing entry also carries: the caller swaps the
 * pointer in place so the PTR order holds). */
static void entry_withdraw(struct table *t, struct tentry *e, struct taddr *const *keep,
			   size_t n_keep)
{
	union tref *names = e->refs, *addrs = e->refs + e->n_names;

	for (size_t i = 0; i < e->n_names; i++) {
		struct tname *n = names[i].name;

		for (size_t j = 0; j < e->n_addrs; j++)
			name_del_addr(t, n, &addrs[j].addr->a);
		if (--n->n_entries == 0)
			mark_dirty(t, n);
	}
	for (size_t j = 0; j < e->n_addrs; j++) {
		struct taddr *a = addrs[j].addr;
		size_t k, i;

		for (k = 0; k < n_keep && keep[k] != a; k++)
			;
		if (k < n_keep)
			continue;
		for (i = 0; i < a->n && a->entries[i] != e; i++)
			;
		if (i < a->n) {
			memmove(&a->entries[i], &a->entries[i + 1],
				(a->n - i - 1) * sizeof(*a->entries));
			a->n--;
		}
		if (a->n == 0) {
			hashmap_remove_at(&t->addrs,
					  hashmap_find(&t->addrs, a->hash, taddr_eq, &a->a));
			taddr_free(a);
		}
	}
}

static void entry_unlink(struct table *t, struct tentry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		t->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		t->tail = e->prev;
}

/* Remove e entirely without telling observers yet. */
static void entry_remove(struct table *t, struct tentry *e)
{
	entry_withdraw(t, e, NULL, 0);
	hashmap_remove_at(&t->entries, entry_slot(t, e->origin, e->owner));
	entry_unlink(t, e);
	free(e);
	t->dels++;
}

/* Drop vanished names from the index, tell observers about every dirty
 * name once, then free the vanished ones. */
static void flush_dirty(struct table *t)
{
	struct tname *n, *next;

	for (n = t->dirty; n; n = n->dirty_next) {
		if (n->n_entries == 0) {
			struct name_key k = {n->name, n->len};

			hashmap_remove_at(&t->names, hashmap_find(&t->names, n->hash, name_eq, &k));
		}
	}
	/* Dirty means changed: a name is marked only when its entry count or
	 * an address count crosses zero, and a put adds the new entry before
	 * withdrawing the old one, so nothing crosses zero and back. */
	for (n = t->dirty; n; n = n->dirty_next)
		for (size_t i = 0; i < t->n_obs; i++)
			t->obs[i].fn(t->obs[i].ctx, n->name, n->len);
	for (n = t->dirty; n; n = next) {
		next = n->dirty_next;
		n->dirty = false;
		n->dirty_next = NULL;
		if (n->n_entries == 0)
			name_free(n);
	}
	t->dirty = NULL;
}

/* --- put ------------------------------------------------------------------- */

/* The caller's entry, validated and normalised. */
struct norm {
	size_t n_names, n_addrs;
	uint8_t len[TABLE_ENTRY_NAMES_MAX];
	char names[TABLE_ENTRY_NAMES_MAX][TABLE_NAME_MAX + 1];
	struct glued_addr addrs[TABLE_ENTRY_ADDRS_MAX];
};

static void normalise(struct table *t, const struct table_entry *e, struct norm *nm)
{
	nm->n_names = nm->n_addrs = 0;
	for (size_t i = 0; i < e->n_names; i++) {
		size_t len = strnlen(e->names[i], TABLE_NAME_MAX + 1), k;

		if (!table_name_valid(e->names[i], len)) {
			t->skipped_names++;
			continue;
		}
		table_lower(nm->names[nm->n_names], e->names[i], len);
		nm->names[nm->n_names][len] = '\0';
		for (k = 0; k < nm->n_names; k++)
			if (nm->len[k] == len && !memcmp(nm->names[k], nm->names[nm->n_names], len))
				break;
		if (k == nm->n_names)
			nm->len[nm->n_names++] = (uint8_t)len;
	}
	for (size_t i = 0; i < e->n_addrs; i++) {
		struct glued_addr a = {.family = e->addrs[i].family};
		size_t k;

		if (a.family != AF_INET && a.family != AF_INET6)
			continue;
		memcpy(a.b, e->addrs[i].b, a.family == AF_INET ? 4 : 16);
		for (k = 0; k < nm->n_addrs && !addr_eq(&nm->addrs[k], &a); k++)
			;
		if (k == nm->n_addrs)
			nm->addrs[nm->n_addrs++] = a;
	}
}

static bool same_as(const struct tentry *e, const struct norm *nm)
{
	if (e->n_names != nm->n_names || e->n_addrs != nm->n_addrs)
		return false;
	for (size_t i = 0; i < nm->n_names; i++)
		if (strcmp(e->refs[i].name->name, nm->names[i]))
			return false;
	for (size_t j = 0; j < nm->n_addrs; j++)
		if (!addr_eq(&e->refs[e->n_names + j].addr->a, &nm->addrs[j]))
			return false;
	return true;
}

static struct tname *name_alloc(const char *lname, size_t len, uint32_t hash)
{
	struct tname *n = calloc(1, sizeof(*n) + len + 1);

	if (!n)
		return NULL;
	n->hash = hash;
	n->len = (uint8_t)len;
	memcpy(n->name, lname, len + 1);
	return n;
}

static struct taddr *taddr_alloc(const struct glued_addr *a, uint32_t hash)
{
	struct taddr *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->hash = hash;
	n->a = *a;
	return n;
}

static int taddr_reserve(struct taddr *a, size_t want)
{
	size_t cap = a->cap ? a->cap : 1;
	struct tentry **p;

	if (want <= a->cap)
		return 0;
	while (cap < want)
		cap *= 2;
	p = realloc(a->entries, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	a->entries = p;
	a->cap = (uint32_t)cap;
	return 0;
}

static struct tentry *entry_alloc(const struct table *t, const struct table_entry *e,
				  const struct norm *nm)
{
	size_t n_refs = nm->n_names + nm->n_addrs, olen = strlen(e->owner);
	struct tentry *te = malloc(sizeof(*te) + n_refs * sizeof(union tref) + olen + 1);

	if (!te)
		return NULL;
	memset(te, 0, sizeof(*te));
	te->origin = e->origin;
	te->updated_ms = e->updated_ms;
	te->hash = hash_entry(t, e->origin, e->owner, olen);
	te->n_names = (uint16_t)nm->n_names;
	te->n_addrs = (uint16_t)nm->n_addrs;
	te->owner = (char *)(te->refs + n_refs);
	memcpy(te->owner, e->owner, olen + 1);
	return te;
}

/* Everything a put needs, allocated before anything changes. */
struct plan {
	struct tentry *e;
	struct tname *names[TABLE_ENTRY_NAMES_MAX];
	bool name_new[TABLE_ENTRY_NAMES_MAX];
	struct taddr *addrs[TABLE_ENTRY_ADDRS_MAX];
	bool addr_new[TABLE_ENTRY_ADDRS_MAX];
};

static void plan_undo(struct plan *p, const struct norm *nm)
{
	for (size_t i = 0; i < nm->n_names; i++)
		if (p->name_new[i])
			name_free(p->names[i]);
	for (size_t j = 0; j < nm->n_addrs; j++)
		if (p->addr_new[j])
			taddr_free(p->addrs[j]);
	free(p->e);
}

static int plan_make(struct table *t, const struct table_entry *e, const struct norm *nm,
		     bool replacing, struct plan *p)
{
	size_t n4 = 0, n6 = 0, new_names = 0, new_addrs = 0;

	memset(p, 0, sizeof(*p));
	for (size_t j = 0; j < nm->n_addrs; j++)
		nm->addrs[j].family == AF_INET ? n4++ : n6++;
	p->e = entry_alloc(t, e, nm);
	if (!p->e)
		goto err;
	for (size_t i = 0; i < nm->n_names; i++) {
		uint32_t h = hash_name(t, nm->names[i], nm->len[i]);
		struct tname *n = name_find(t, nm->names[i], nm->len[i], h);

		if (!n) {
			n = name_alloc(nm->names[i], nm->len[i], h);
			if (!n)
				goto err;
			p->name_new[i] = true;
			new_names++;
		}
		p->names[i] = n;
		if (fam_reserve(&n->f4, n->f4.n + n4) || fam_reserve(&n->f6, n->f6.n + n6))
			goto err;
	}
	for (size_t j = 0; j < nm->n_addrs; j++) {
		uint32_t h = hash_addr(t, &nm->addrs[j]);
		struct taddr *a = addr_find(t, &nm->addrs[j], h);

		if (!a) {
			a = taddr_alloc(&nm->addrs[j], h);
			if (!a)
				goto err;
			p->addr_new[j] = true;
			new_addrs++;
		}
		p->addrs[j] = a;
		if (taddr_reserve(a, a->n + 1))
			goto err;
	}
	if (hashmap_reserve(&t->names, new_names) || hashmap_reserve(&t->addrs, new_addrs) ||
	    hashmap_reserve(&t->entries, replacing ? 0 : 1))
		goto err;
	return 0;
err:
	plan_undo(p, nm);
	return -ENOMEM;
}

/* Cannot fail: everything was allocated by plan_make(). */
static void plan_commit(struct table *t, struct plan *p, const struct norm *nm, struct tentry *old)
{
	struct tentry *e = p->e;

	e->seq = old ? old->seq : t->next_seq++;
	for (size_t i = 0; i < nm->n_names; i++) {
		struct tname *n = p->names[i];

		if (p->name_new[i])
			hashmap_insert(&t->names, n->hash, n);
		e->refs[i].name = n;
		if (n->n_entries++ == 0)
			mark_dirty(t, n);
		/* Add before the old entry withdraws, so an address both carry
		 * never drops to zero and the name is not falsely dirty. */
		for (size_t j = 0; j < nm->n_addrs; j++)
			name_add_addr(t, n, &nm->addrs[j]);
	}
	for (size_t j = 0; j < nm->n_addrs; j++) {
		struct taddr *a = p->addrs[j];
		size_t i = a->n;

		if (p->addr_new[j])
			hashmap_insert(&t->addrs, a->hash, a);
		e->refs[nm->n_names + j].addr = a;
		if (old)
			for (i = 0; i < a->n && a->entries[i] != old; i++)
				;
		if (i < a->n) {
			a->entries[i] = e; /* same seq, same place */
			continue;
		}
		for (i = a->n; i > 0 && a->entries[i - 1]->seq > e->seq; i--)
			a->entries[i] = a->entries[i - 1];
		a->entries[i] = e;
		a->n++;
	}
	if (old) {
		size_t slot = entry_slot(t, old->origin, old->owner);

		entry_withdraw(t, old, p->addrs, nm->n_addrs);
		hashmap_replace_at(&t->entries, slot, e);
		e->prev = old->prev;
		e->next = old->next;
		if (e->prev)
			e->prev->next = e;
		else
			t->head = e;
		if (e->next)
			e->next->prev = e;
		else
			t->tail = e;
		free(old);
	} else {
		hashmap_insert(&t->entries, e->hash, e);
		e->prev = t->tail;
		if (t->tail)
			t->tail->next = e;
		else
			t->head = e;
		t->tail = e;
	}
}

int table_put(struct table *t, const struct table_entry *e)
{
	struct tentry *old;
	struct norm nm;
	struct plan p;
	size_t slot;
	int err;

	if (e->n_names > TABLE_ENTRY_NAMES_MAX || e->n_addrs > TABLE_ENTRY_ADDRS_MAX ||
	    strnlen(e->owner, sizeof(e->owner)) == sizeof(e->owner))
		return -EINVAL;
	normalise(t, e, &nm);
	slot = entry_slot(t, e->origin, e->owner);
	old = slot == HASHMAP_NONE ? NULL : hashmap_at(&t->entries, slot);
	if (nm.n_names == 0 || nm.n_addrs == 0) {
		if (old) {
			entry_remove(t, old);
			flush_dirty(t);
			tell_entry(t, e->origin, e->owner);
		}
		t->puts++;
		return 0;
	}
	if (old && same_as(old, &nm)) {
		old->updated_ms = e->updated_ms;
		t->puts++;
		return 0;
	}
	if (!old && t->entries.n >= TABLE_ENTRIES_MAX)
		return GLUED_ELIMIT;
	err = plan_make(t, e, &nm, old != NULL, &p);
	if (err)
		return err;
	plan_commit(t, &p, &nm, old);
	flush_dirty(t);
	t->puts++;
	tell_entry(t, e->origin, e->owner);
	return 0;
}

int table_del(struct table *t, uint32_t origin, const char *owner)
{
	size_t slot = entry_slot(t, origin, owner);

	if (slot == HASHMAP_NONE)
		return GLUED_ENOTFOUND;
	entry_remove(t, hashmap_at(&t->entries, slot));
	flush_dirty(t);
	tell_entry(t, origin, owner);
	return 0;
}

size_t table_del_origin_except(struct table *t, uint32_t origin, table_keep_fn keep, void *ctx)
{
	struct tentry *e, *next;
	size_t n = 0;

	for (e = t->head; e; e = next) {
		next = e->next;
		if (e->origin == origin && !(keep && keep(ctx, e->owner))) {
			entry_remove(t, e);
			n++;
		}
	}
	flush_dirty(t);
	if (n)
		tell_entry(t, origin, NULL);
	return n;
}

size_t table_del_origin(struct table *t, uint32_t origin)
{
	return table_del_origin_except(t, origin, NULL, NULL);
}

/* --- reads ------------------------------------------------------------------- */

static void answer_of(const struct tname *n, struct table_answer *ans)
{
	ans->v4 = n->f4.a;
	ans->n_v4 = n->f4.n;
	ans->v6 = n->f6.a;
	ans->n_v6 = n->f6.n;
}

bool table_lookup(const struct table *t, const char *name, size_t len, struct table_answer *ans)
{
	const struct tname *n;

	if (len == 0 || len > TABLE_NAME_MAX)
		return false;
	n = name_find(t, name, len, hash_name(t, name, len));
	if (!n)
		return false;
	answer_of(n, ans);
	return true;
}

const char *table_lookup_addr(const struct table *t, const struct glued_addr *a)
{
	struct glued_addr k = {.family = a->family};
	const struct taddr *n;

	if (a->family != AF_INET && a->family != AF_INET6)
		return NULL;
	memcpy(k.b, a->b, a->family == AF_INET ? 4 : 16);
	n = addr_find(t, &k, hash_addr(t, &k));
	if (!n || n->n == 0)
		return NULL;
	return n->entries[0]->refs[0].name->name;
}

static void entry_fill(struct table_entry *out, const struct tentry *e)
{
	memset(out, 0, sizeof(*out));
	out->origin = e->origin;
	strcpy(out->owner, e->owner);
	out->n_names = e->n_names;
	for (size_t i = 0; i < e->n_names; i++)
		memcpy(out->names[i], e->refs[i].name->name, e->refs[i].name->len + 1u);
	out->n_addrs = e->n_addrs;
	for (size_t j = 0; j < e->n_addrs; j++)
		out->addrs[j] = e->refs[e->n_names + j].addr->a;
	out->updated_ms = e->updated_ms;
}

const struct table_entry *table_get(const struct table *t, uint32_t origin, const char *owner)
{
	size_t slot = entry_slot(t, origin, owner);

	if (slot == HASHMAP_NONE)
		return NULL;
	entry_fill(t->scratch, hashmap_at(&t->entries, slot));
	return t->scratch;
}

int table_foreach_entry(const struct table *t, table_entry_fn fn, void *ctx)
{
	struct table_entry copy;

	for (const struct tentry *e = t->head; e; e = e->next) {
		int rc;

		entry_fill(&copy, e);
		rc = fn(ctx, &copy);
		if (rc)
			return rc;
	}
	return 0;
}

int table_foreach_name(const struct table *t, table_name_fn fn, void *ctx)
{
	for (size_t i = hashmap_next(&t->names, 0); i != HASHMAP_NONE;
	     i = hashmap_next(&t->names, i + 1)) {
		const struct tname *n = hashmap_at(&t->names, i);
		struct table_answer ans;
		int rc;

		answer_of(n, &ans);
		rc = fn(ctx, n->name, n->len, &ans);
		if (rc)
			return rc;
	}
	return 0;
}

void table_get_stats(const struct table *t, struct table_stats *st)
{
	st->entries = t->entries.n;
	st->names = t->names.n;
	st->records = t->records;
	st->puts = t->puts;
	st->dels = t->dels;
	st->skipped_names = t->skipped_names;
}
