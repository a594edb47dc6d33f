/* Unit tests of the name table: put/replace/del/del_origin, names shared
 * across entries, NODATA shape, case, invalid names, observers, PTR,
 * limits, memory, and a seeded model check against a naive table. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sanitizer/allocator_interface.h>

#include "core/table.h"
#include "t.h"

static struct glued_addr A(const char *s) {
	struct glued_addr a;

	if (addr_parse(&a, s)) {
		fprintf(stderr, "bad test address %s\n", s);
		abort();
	}
	return a;
}

/* names and addrs as NULL-terminated lists of strings */
static struct table_entry *
mk(uint32_t origin, const char *owner, const char *const *names, const char *const *addrs)
{
	static struct table_entry e;

	memset(&e, 0, sizeof(e));
	e.origin = origin;
	snprintf(e.owner, sizeof(e.owner), "%s", owner);
	for (; names && *names; names++)
		snprintf(e.names[e.n_names++], sizeof(e.names[0]), "%s", *names);
	for (; addrs && *addrs; addrs++)
		e.addrs[e.n_addrs++] = A(*addrs);
	return &e;
}

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Observer that records every name it is told about. */
struct seen {
	char names[256][TABLE_NAME_MAX + 1];
	size_t n;
	bool dup;
};

static void observe(void *ctx, const char *name, size_t len)
{
	struct seen *s = ctx;

	for (size_t i = 0; i < s->n; i++)
		if (strlen(s->names[i]) == len && !memcmp(s->names[i], name, len))
			s->dup = true;
	if (s->n < 256) {
		memcpy(s->names[s->n], name, len);
		s->names[s->n++][len] = '\0';
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* "a,b,c": the sorted set of names seen since the last call. */
static const char *seen_take(struct seen *s)
{
	static char buf[4096];
	size_t o = 0;

	qsort(s->names, s->n, sizeof(s->names[0]), cmp_str);
	buf[0] = '\0';
	for (size_t i = 0; i < s->n; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", i ? "," : "", s->names[i]);
	s->n = 0;
	s->dup = false;
	return buf;
}

/* "v4 list|v6 list" of a name, or "-" if unknown. */
static const char *look(const struct table *t, const char *name)
{
	static char buf[2048];
	struct table_answer ans;
	char ip[ADDR_STRLEN];
	size_t o = 0;

	if (!table_lookup(t, name, strlen(name), &ans))
		return "-";
	buf[0] = '\0';
	for (size_t i = 0; i < ans.n_v4; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", i ? "," : "",
				      addr_str(&ans.v4[i], ip, sizeof(ip)));
	o += (size_t)snprintf(buf + o, sizeof(buf) - o, "|");
	for (size_t i = 0; i < ans.n_v6; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", i ? "," : "",
				      addr_str(&ans.v6[i], ip, sizeof(ip)));
	return buf;
}

static const char *ptr(const struct table *t, const char *ip)
{
	struct glued_addr a = A(ip);
	const char *n = table_lookup_addr(t, &a);

	return n ? n : "-";
}

static void basic_cases(void)
{
	struct table *t = table_new();
	struct seen seen = {0};
	struct table_stats st;

	T_ASSERT(t != NULL, "table_new");
	T_EQ_INT(table_observe(t, observe, &seen), 0);
	{
		/* Every case below runs under a keyed index hash, as glued does. */
		const uint8_t key[16] = {0x5a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xa5};

		T_EQ_INT(table_set_hash_key(t, key), 0);
	}

	T_CASE("put makes every name resolve to every address")
	{
		T_EQ_INT(table_put(t, mk(0, "c1", L("web", "Web-Alias"), L("10.0.0.2", "fd00::2"))),
			 0);
		T_EQ_STR(look(t, "web"), "10.0.0.2|fd00::2");
		T_EQ_STR(look(t, "web-alias"), "10.0.0.2|fd00::2");
		T_EQ_STR(look(t, "db"), "-");
		T_EQ_STR(seen_take(&seen), "web,web-alias");
	}
	T_CASE("the hash key cannot change once the table holds entries")
	{
		const uint8_t other[16] = {1};

		T_EQ_INT(table_set_hash_key(t, other), -EBUSY);
		T_EQ_STR(look(t, "web"), "10.0.0.2|fd00::2");
	}

	T_CASE("lookups ignore case and use exactly len bytes")
	{
		T_EQ_STR(look(t, "WEB"), "10.0.0.2|fd00::2");
		T_EQ_STR(look(t, "wEb-AlIaS"), "10.0.0.2|fd00::2");
		struct table_answer ans;
		T_ASSERT(table_lookup(t, "webXYZ", 3, &ans), "prefix of 3 bytes is web");
		T_ASSERT(!table_lookup(t, "we", 2, &ans), "we is unknown");
		T_ASSERT(!table_lookup(t, "", 0, &ans), "empty is unknown");
	}
	T_CASE("a shared name is the union of its entries, each address once, sorted")
	{
		T_EQ_INT(table_put(t, mk(0, "c2", L("WEB", "db"), L("10.0.0.1", "10.0.0.2"))), 0);
		T_EQ_STR(look(t, "web"), "10.0.0.1,10.0.0.2|fd00::2");
		T_EQ_STR(look(t, "db"), "10.0.0.1,10.0.0.2|");
		T_EQ_STR(seen_take(&seen), "db,web");
		T_EQ_INT(table_put(t, mk(1, "c1", L("web"), L("10.0.0.3"))), 0);
		T_EQ_STR(look(t, "web"), "10.0.0.1,10.0.0.2,10.0.0.3|fd00::2");
		T_EQ_STR(seen_take(&seen), "web");
	}
	T_CASE("a known name without v6 is NODATA-shaped: known, zero v6")
	{
		struct table_answer ans;
		T_ASSERT(table_lookup(t, "db", 2, &ans), "db known");
		T_EQ_INT(ans.n_v4, 2);
		T_EQ_INT(ans.n_v6, 0);
	}
	T_CASE("an identical put changes nothing and tells nobody")
	{
		T_EQ_INT(table_put(t, mk(0, "c2", L("web", "DB"), L("10.0.0.1", "10.0.0.2"))), 0);
		T_EQ_STR(seen_take(&seen), "");
		T_EQ_INT(table_put(t, mk(0, "c2", L("db", "web"), L("10.0.0.2", "10.0.0.1"))), 0);
		T_EQ_STR(seen_take(&seen), "");
	}
	T_CASE("replace: old names are told too, unchanged shared ones are not")
	{
		/* c2 drops db and 10.0.0.1, keeps web with 10.0.0.2 (also in c1) */
		T_EQ_INT(table_put(t, mk(0, "c2", L("web", "cache"), L("10.0.0.2"))), 0);
		T_EQ_STR(look(t, "db"), "-");
		T_EQ_STR(look(t, "cache"), "10.0.0.2|");
		T_EQ_STR(look(t, "web"), "10.0.0.2,10.0.0.3|fd00::2");
		T_EQ_STR(seen_take(&seen), "cache,db,web");
		T_EQ_INT(table_put(t, mk(0, "c2", L("web", "cache"), L("10.0.0.2", "fd00::2"))), 0);
		T_EQ_STR(seen_take(&seen), "cache"); /* web already had both */
		T_ASSERT(!seen.dup, "each name told once");
	}
	T_CASE("table_get returns the stored entry, lowercased")
	{
		const struct table_entry *e = table_get(t, 0, "c2");
		T_ASSERT(e != NULL, "c2 exists");
		if (e) {
			T_EQ_INT(e->n_names, 2);
			T_EQ_STR(e->names[0], "web");
			T_EQ_STR(e->names[1], "cache");
			T_EQ_INT(e->n_addrs, 2);
			T_EQ_STR(e->owner, "c2");
		}
		T_ASSERT(table_get(t, 1, "c2") == NULL, "origin matters");
		T_ASSERT(table_get(t, 0, "c3") == NULL, "unknown owner");
	}
	T_CASE("PTR: first name of the first entry carrying the address")
	{
		T_EQ_STR(ptr(t, "10.0.0.2"), "web"); /* c1 was first */
		T_EQ_STR(ptr(t, "fd00::2"), "web");
		T_EQ_STR(ptr(t, "10.0.0.3"), "web");
		T_EQ_STR(ptr(t, "10.0.0.9"), "-");
		/* replacing c1 keeps its place for the addresses it keeps */
		T_EQ_INT(table_put(t, mk(0, "c1", L("front", "web"), L("10.0.0.2", "fd00::2"))), 0);
		T_EQ_STR(ptr(t, "10.0.0.2"), "front");
		T_EQ_INT(table_del(t, 0, "c1"), 0);
		T_EQ_STR(ptr(t, "10.0.0.2"), "web"); /* now c2's */
		seen_take(&seen);
	}
	T_CASE("del removes an entry; a second del is ENOTFOUND")
	{
		T_EQ_INT(table_del(t, 0, "c2"), 0);
		T_EQ_STR(look(t, "cache"), "-");
		T_EQ_STR(look(t, "web"), "10.0.0.3|");
		T_EQ_STR(seen_take(&seen), "cache,web");
		T_EQ_INT(table_del(t, 0, "c2"), GLUED_ENOTFOUND);
		T_EQ_STR(seen_take(&seen), "");
	}
	T_CASE("invalid names are skipped and counted; no valid name is a removal")
	{
		table_get_stats(t, &st);
		uint64_t skipped = st.skipped_names;
		char long64[65];
		memset(long64, 'a', 64);
		long64[64] = '\0';
		struct table_entry *e = mk(0, "c4", L("a.b", "", "ok", "sp ace"), L("10.0.0.4"));
		memcpy(e->names[e->n_names++], long64, 64); /* not NUL-terminated */
		T_EQ_INT(table_put(t, e), 0);
		T_EQ_STR(look(t, "ok"), "10.0.0.4|");
		T_EQ_STR(look(t, "a.b"), "-");
		table_get_stats(t, &st);
		T_EQ_INT(st.skipped_names - skipped, 4);
		T_EQ_STR(seen_take(&seen), "ok");
		T_EQ_INT(table_put(t, mk(0, "c4", L("a.b"), L("10.0.0.4"))), 0);
		T_EQ_STR(look(t, "ok"), "-");
		T_ASSERT(table_get(t, 0, "c4") == NULL, "removed");
		T_EQ_STR(seen_take(&seen), "ok");
		T_EQ_INT(table_put(t, mk(0, "c4", L("ok"), NULL)), 0);
		T_ASSERT(table_get(t, 0, "c4") == NULL, "no addresses: nothing stored");
	}
	T_CASE("del_origin removes only that origin, each name told once")
	{
		T_EQ_INT(table_put(t, mk(2, "x1", L("a", "b"), L("10.1.0.1"))), 0);
		T_EQ_INT(table_put(t, mk(2, "x2", L("b", "c"), L("10.1.0.2"))), 0);
		T_EQ_INT(table_put(t, mk(3, "y1", L("c"), L("10.1.0.3"))), 0);
		seen_take(&seen);
		T_EQ_INT(table_del_origin(t, 2), 2);
		T_EQ_STR(seen_take(&seen), "a,b,c");
		T_ASSERT(!seen.dup, "each name once");
		T_EQ_STR(look(t, "c"), "10.1.0.3|");
		T_EQ_INT(table_del_origin(t, 2), 0);
	}
	T_CASE("bad arguments are EINVAL and change nothing")
	{
		struct table_entry *e = mk(0, "z", L("zz"), L("10.9.9.9"));
		e->n_names = TABLE_ENTRY_NAMES_MAX + 1;
		T_EQ_INT(table_put(t, e), -EINVAL);
		e = mk(0, "z", L("zz"), L("10.9.9.9"));
		memset(e->owner, 'o', sizeof(e->owner));
		T_EQ_INT(table_put(t, e), -EINVAL);
		T_EQ_STR(look(t, "zz"), "-");
	}
	T_CASE("stats count entries, names and distinct records")
	{
		table_get_stats(t, &st);
		T_EQ_INT(st.entries, 2); /* (1,c1) and (3,y1) */
		T_EQ_INT(st.names, 2);	 /* web, c */
		T_EQ_INT(st.records, 2);
	}
	T_CASE("at most four observers")
	{
		struct seen more = {0};
		T_EQ_INT(table_observe(t, observe, &more), 0);
		T_EQ_INT(table_observe(t, observe, &more), 0);
		T_EQ_INT(table_observe(t, observe, &more), 0);
		T_EQ_INT(table_observe(t, observe, &more), GLUED_ELIMIT);
		T_EQ_INT(table_put(t, mk(0, "q", L("q"), L("10.7.0.1"))), 0);
		T_EQ_INT(more.n, 3);
		T_EQ_STR(seen_take(&seen), "q");
	}
	table_free(t);
}

static int count_names(void *ctx, const char *name GLUED_UNUSED, size_t len GLUED_UNUSED,
		       const struct table_answer *ans GLUED_UNUSED)
{
	(*(size_t *)ctx)++;
	return 0;
}

static int stop_at_two(void *ctx, const struct table_entry *e GLUED_UNUSED)
{
	return ++*(size_t *)ctx == 2 ? 7 : 0;
}

static void limit_and_memory_cases(void)
{
	struct table *t = table_new();
	size_t before = __sanitizer_get_current_allocated_bytes(), used;
	struct table_entry *e;
	int err = 0;

	for (uint32_t i = 0; i < 10000 && !err; i++) {
		char owner[80], name[16], ip[20];

		snprintf(owner, sizeof(owner), "%064x", i);
		snprintf(name, sizeof(name), "name-%u", i);
		snprintf(ip, sizeof(ip), "10.%u.%u.1", i >> 8, i & 0xff);
		err = table_put(t, mk(0, owner, L(name), L(ip)));
	}
	used = __sanitizer_get_current_allocated_bytes() - before;
	T_CASE("10,000 names fit in well under 10 MB")
	{
		T_EQ_INT(err, 0);
		T_ASSERT(used < 4u << 20, "%zu bytes for 10,000 entries", used);
		T_EQ_STR(look(t, "NAME-9999"), "10.39.15.1|");
		T_EQ_STR(ptr(t, "10.39.15.1"), "name-9999");
		size_t n = 0;
		T_EQ_INT(table_foreach_name(t, count_names, &n), 0);
		T_EQ_INT(n, 10000);
		n = 0;
		T_EQ_INT(table_foreach_entry(t, stop_at_two, &n), 7);
		T_EQ_INT(n, 2);
	}
	for (uint32_t i = 10000; i < TABLE_ENTRIES_MAX && !err; i++) {
		char owner[16];

		snprintf(owner, sizeof(owner), "o%u", i);
		err = table_put(t, mk(1, owner, L("many"), L("10.200.0.1")));
	}
	T_CASE("TABLE_ENTRIES_MAX entries, then GLUED_ELIMIT; replacing still works")
	{
		T_EQ_INT(err, 0);
		e = mk(1, "one-too-many", L("x"), L("10.0.0.1"));
		T_EQ_INT(table_put(t, e), GLUED_ELIMIT);
		T_EQ_STR(look(t, "x"), "-");
		T_EQ_INT(table_put(t, mk(0,
					 "00000000000000000000000000000000000000000000000000000"
					 "00000000000",
					 L("renamed"), L("10.0.0.1"))),
			 0);
		T_EQ_STR(look(t, "renamed"), "10.0.0.1|");
		T_EQ_STR(look(t, "name-0"), "-");
		T_EQ_INT(table_del_origin(t, 1), TABLE_ENTRIES_MAX - 10000);
		T_EQ_INT(table_put(t, e), 0);
	}
	table_free(t);
}

/* --- model check -------------------------------------------------------------- */

#define M_ENTRIES 64
#define POOL_NAMES 24
#define POOL_ADDRS 16

struct m_entry {
	bool used;
	uint32_t origin;
	char owner[16];
	size_t n_names, n_addrs;
	char names[TABLE_ENTRY_NAMES_MAX][TABLE_NAME_MAX + 1];
	struct glued_addr addrs[TABLE_ENTRY_ADDRS_MAX];
	uint64_t seq; /* insertion order */
};

static struct m_entry model[M_ENTRIES];
static uint64_t m_seq;
static const char *pool_names[POOL_NAMES] = {
    "a",  "b",	"c",  "web", "db", "cache", "x1", "x2",	  "x3",	 "x4",	 "x5", "x6",
    "x7", "x8", "x9", "y1",  "y2", "y3",    "y4", "bad.", "a b", "zzzz", "q",  "r",
};
static struct glued_addr pool_addrs[POOL_ADDRS];

static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

static int cmp_addr(const void *a, const void *b)
{
	return memcmp(((const struct glued_addr *)a)->b, ((const struct glued_addr *)b)->b, 16);
}

/* Naive answer for a name: "-" or the sorted union. */
static void m_answer(const char *name, char *out, size_t cap)
{
	struct glued_addr v4[512], v6[512];
	size_t n4 = 0, n6 = 0, o = 0;
	bool known = false;
	char ip[ADDR_STRLEN];

	for (size_t i = 0; i < M_ENTRIES; i++) {
		const struct m_entry *e = &model[i];
		bool has = false;

		if (!e->used)
			continue;
		for (size_t k = 0; k < e->n_names; k++)
			has |= !strcmp(e->names[k], name);
		if (!has)
			continue;
		known = true;
		for (size_t j = 0; j < e->n_addrs; j++) {
			struct glued_addr *arr = e->addrs[j].family == AF_INET ? v4 : v6;
			size_t *n = e->addrs[j].family == AF_INET ? &n4 : &n6, k;

			for (k = 0; k < *n && !addr_eq(&arr[k], &e->addrs[j]); k++)
				;
			if (k == *n)
				arr[(*n)++] = e->addrs[j];
		}
	}
	if (!known) {
		snprintf(out, cap, "-");
		return;
	}
	qsort(v4, n4, sizeof(v4[0]), cmp_addr);
	qsort(v6, n6, sizeof(v6[0]), cmp_addr);
	out[0] = '\0';
	for (size_t i = 0; i < n4; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? "," : "",
				      addr_str(&v4[i], ip, sizeof(ip)));
	o += (size_t)snprintf(out + o, cap - o, "|");
	for (size_t i = 0; i < n6; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? "," : "",
				      addr_str(&v6[i], ip, sizeof(ip)));
}

static const char *m_ptr(const struct glued_addr *a)
{
	const struct m_entry *best = NULL;

	for (size_t i = 0; i < M_ENTRIES; i++) {
		const struct m_entry *e = &model[i];

		if (!e->used || (best && best->seq < e->seq))
			continue;
		for (size_t j = 0; j < e->n_addrs; j++)
			if (addr_eq(&e->addrs[j], a))
				best = e;
	}
	return best ? best->names[0] : "-";
}

static struct m_entry *m_find(uint32_t origin, const char *owner)
{
	for (size_t i = 0; i < M_ENTRIES; i++)
		if (model[i].used && model[i].origin == origin && !strcmp(model[i].owner, owner))
			return &model[i];
	return NULL;
}

static void model_check(uint64_t seed, int ops)
{
	struct table *t = table_new();
	struct seen seen = {0};
	char before[POOL_NAMES][512], after[512];
	int failures = 0;

	rng_state = seed;
	memset(model, 0, sizeof(model));
	m_seq = 0;
	for (int i = 0; i < POOL_ADDRS; i++) {
		char s[40];
		if (i % 2)
			snprintf(s, sizeof(s), "fd00::%x", i * 7);
		else
			snprintf(s, sizeof(s), "10.0.%d.%d", i % 3, i * 11);
		pool_addrs[i] = A(s);
	}
	if (table_observe(t, observe, &seen))
		abort();

	for (int op = 0; op < ops && failures < 5; op++) {
		uint32_t origin = rnd(3), kind = rnd(100);
		char owner[16];
		int err;

		snprintf(owner, sizeof(owner), "o%u", rnd(20));
		for (int i = 0; i < POOL_NAMES; i++)
			m_answer(pool_names[i], before[i], sizeof(before[i]));
		if (kind < 70) {
			struct table_entry e = {.origin = origin};
			struct m_entry m = {.origin = origin};
			size_t nn = rnd(5), na = rnd(4);

			snprintf(e.owner, sizeof(e.owner), "%s", owner);
			snprintf(m.owner, sizeof(m.owner), "%s", owner);
			for (size_t i = 0; i < nn; i++) {
				const char *n = pool_names[rnd(POOL_NAMES)];
				size_t k;

				snprintf(e.names[e.n_names], sizeof(e.names[0]), "%s", n);
				if (rnd(2))
					e.names[e.n_names][0] =
					    (char)toupper((unsigned char)e.names[e.n_names][0]);
				e.n_names++;
				if (!table_name_valid(n, strlen(n)))
					continue;
				for (k = 0; k < m.n_names && strcmp(m.names[k], n); k++)
					;
				if (k == m.n_names)
					snprintf(m.names[m.n_names++], sizeof(m.names[0]), "%s", n);
			}
			for (size_t j = 0; j < na; j++) {
				struct glued_addr a = pool_addrs[rnd(POOL_ADDRS)];
				size_t k;

				e.addrs[e.n_addrs++] = a;
				for (k = 0; k < m.n_addrs && !addr_eq(&m.addrs[k], &a); k++)
					;
				if (k == m.n_addrs)
					m.addrs[m.n_addrs++] = a;
			}
			err = table_put(t, &e);
			if (err) {
				T_ASSERT(0, "op %d: put failed %d", op, err);
				failures++;
			}
			struct m_entry *old = m_find(origin, owner);
			if (m.n_names == 0 || m.n_addrs == 0) {
				if (old)
					old->used = false;
			} else if (old) {
				m.seq = old->seq;
				m.used = true;
				*old = m;
			} else {
				size_t i;
				for (i = 0; i < M_ENTRIES && model[i].used; i++)
					;
				m.seq = m_seq++;
				m.used = true;
				model[i] = m; /* 3 origins x 20 owners < 64 */
			}
		} else if (kind < 97) {
			struct m_entry *old = m_find(origin, owner);

			err = table_del(t, origin, owner);
			T_EQ_INT(err, old ? 0 : GLUED_ENOTFOUND);
			if (old)
				old->used = false;
		} else {
			size_t n = 0;

			for (size_t i = 0; i < M_ENTRIES; i++)
				if (model[i].used && model[i].origin == origin) {
					model[i].used = false;
					n++;
				}
			T_EQ_INT(table_del_origin(t, origin), n);
		}

		/* Every name: same answer; told iff changed; PTR agrees. */
		char want_seen[4096] = "";
		size_t o = 0;
		const char *sorted[POOL_NAMES];
		size_t ns = 0;
		for (int i = 0; i < POOL_NAMES; i++) {
			const char *got;

			m_answer(pool_names[i], after, sizeof(after));
			got = look(t, pool_names[i]);
			if (strcmp(got, after)) {
				T_ASSERT(0, "seed %llu op %d: %s = %s, want %s",
					 (unsigned long long)seed, op, pool_names[i], got, after);
				failures++;
			}
			if (strcmp(before[i], after))
				sorted[ns++] = pool_names[i];
		}
		{
			/* sort by string value (a few names: bubble is fine) */
			for (size_t i = 0; i < ns; i++)
				for (size_t j = i + 1; j < ns; j++)
					if (strcmp(sorted[i], sorted[j]) > 0) {
						const char *tmp = sorted[i];
						sorted[i] = sorted[j];
						sorted[j] = tmp;
					}
			for (size_t i = 0; i < ns; i++)
				o += (size_t)snprintf(want_seen + o, sizeof(want_seen) - o, "%s%s",
						      i ? "," : "", sorted[i]);
		}
		bool dup = seen.dup;
		const char *got_seen = seen_take(&seen);
		if (strcmp(got_seen, want_seen) || dup) {
			T_ASSERT(0, "seed %llu op %d: observers told \"%s\", want \"%s\"",
				 (unsigned long long)seed, op, got_seen, want_seen);
			failures++;
		}
		seen.dup = false;
		for (int i = 0; i < POOL_ADDRS; i++) {
			const char *got = table_lookup_addr(t, &pool_addrs[i]);
			const char *want = m_ptr(&pool_addrs[i]);

			if (strcmp(got ? got : "-", want)) {
				T_ASSERT(0, "seed %llu op %d: ptr %d = %s, want %s",
					 (unsigned long long)seed, op, i, got ? got : "-", want);
				failures++;
			}
		}
		struct table_stats st;
		size_t n_entries = 0;
		table_get_stats(t, &st);
		for (size_t i = 0; i < M_ENTRIES; i++)
			n_entries += model[i].used;
		if (st.entries != n_entries) {
			T_ASSERT(0, "op %d: %zu entries, want %zu", op, st.entries, n_entries);
			failures++;
		}
	}
	table_free(t);
}

int main(void)
{
	basic_cases();
	limit_and_memory_cases();
	T_CASE("model check: 3000 random operations agree with a naive table (seed 1)")
	{
		model_check(1, 3000);
	}
	T_CASE("model check: 3000 random operations agree with a naive table (seed 42)")
	{
		model_check(42, 3000);
	}
	return t_summary();
}
