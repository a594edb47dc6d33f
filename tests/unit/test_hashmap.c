/* Unit tests of lib/hashmap: find/insert/remove with chosen hashes, so
 * collisions, probe runs that wrap past the end of the slot array and the
 * backward shift of removal are exercised on purpose; reserve as the only
 * allocation; iteration; and a seeded model check against a plain array. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hashmap.h"
#include "t.h"
#include "trng.h"

struct node {
	uint32_t hash;
	int key;
};

static bool node_eq(const void *node, const void *key)
{
	return ((const struct node *)node)->key == *(const int *)key;
}

static struct node *find(const struct hashmap *m, const struct node *n)
{
	return hashmap_get(m, n->hash, node_eq, &n->key);
}

static void put(struct hashmap *m, struct node *n)
{
	T_ASSERT(hashmap_reserve(m, 1) == 0, "reserve one");
	hashmap_insert(m, n->hash, n);
}

static void del(struct hashmap *m, const struct node *n)
{
	size_t i = hashmap_find(m, n->hash, node_eq, &n->key);

	T_ASSERT(i != HASHMAP_NONE, "node %d present before removal", n->key);
	if (i != HASHMAP_NONE)
		hashmap_remove_at(m, i);
}

static size_t count(const struct hashmap *m)
{
	size_t n = 0;

	for (size_t i = hashmap_next(m, 0); i != HASHMAP_NONE; i = hashmap_next(m, i + 1))
		n++;
	return n;
}

int main(void)
{
	T_CASE("an empty map finds nothing, iterates nothing and frees cleanly")
	{
		struct hashmap m = {0};
		struct node a = {.hash = 7, .key = 1};

		T_ASSERT(find(&m, &a) == NULL, "no node in an empty map");
		T_EQ_INT(hashmap_next(&m, 0), HASHMAP_NONE);
		hashmap_fini(&m);
		hashmap_fini(&m);
		T_EQ_INT(m.cap, 0);
	}

	T_CASE("nodes with one hash are told apart by the key")
	{
		struct hashmap m = {0};
		struct node n[5];

		for (int i = 0; i < 5; i++) {
			n[i] = (struct node){.hash = 42, .key = i};
			put(&m, &n[i]);
		}
		for (int i = 0; i < 5; i++)
			T_ASSERT(find(&m, &n[i]) == &n[i], "node %d found", i);
		struct node other = {.hash = 42, .key = 9};
		T_ASSERT(find(&m, &other) == NULL, "a key not inserted is not found");
		T_EQ_INT(m.n, 5);
		hashmap_fini(&m);
	}

	T_CASE("removal shifts a probe run back, also where it wraps past the end")
	{
		struct hashmap m = {0};
		struct node n[6];

		T_ASSERT(hashmap_reserve(&m, 6) == 0, "reserve six");
		T_EQ_INT(m.cap, 16);
		/* Home slots 14, 14, 15, 15, 0, 1: the run wraps to slots 0..3. */
		const uint32_t homes[6] = {14, 14, 15, 15, 0, 1};
		for (int i = 0; i < 6; i++) {
			n[i] = (struct node){.hash = homes[i] | 0x100u * (i + 1), .key = i};
			hashmap_insert(&m, n[i].hash, &n[i]);
		}
		T_EQ_INT(m.cap, 16); /* no growth inside a reservation */
		del(&m, &n[0]);
		for (int i = 1; i < 6; i++)
			T_ASSERT(find(&m, &n[i]) == &n[i], "node %d found after removing 0", i);
		del(&m, &n[3]);
		for (int i = 1; i < 6; i++)
			if (i != 3)
				T_ASSERT(find(&m, &n[i]) == &n[i], "node %d found after removing 3",
					 i);
		T_ASSERT(find(&m, &n[0]) == NULL && find(&m, &n[3]) == NULL, "removed nodes gone");
		T_EQ_INT(m.n, 4);
		T_EQ_INT(count(&m), 4);
		/* Every node sits in its home slot or after it in one run. */
		for (size_t i = hashmap_next(&m, 0); i != HASHMAP_NONE;
		     i = hashmap_next(&m, i + 1)) {
			size_t home = m.slots[i].hash & (m.cap - 1);

			for (size_t j = home; j != i; j = (j + 1) & (m.cap - 1))
				T_ASSERT(m.slots[j].p, "no hole between home %zu and slot %zu",
					 home, i);
		}
		hashmap_fini(&m);
	}

	T_CASE("reserve grows by powers of two at 3/4 load and keeps every node")
	{
		struct hashmap m = {0};
		static struct node n[100];

		for (int i = 0; i < 100; i++) {
			n[i] = (struct node){.hash = hashmap_mix((uint32_t)i), .key = i};
			put(&m, &n[i]);
			T_ASSERT(m.n * 4 <= m.cap * 3, "load at most 3/4 at %d", i);
			T_ASSERT((m.cap & (m.cap - 1)) == 0, "cap %zu a power of two", m.cap);
		}
		T_EQ_INT(m.cap, 256);
		for (int i = 0; i < 100; i++)
			T_ASSERT(find(&m, &n[i]) == &n[i], "node %d after growth", i);
		T_EQ_INT(count(&m), 100);
		T_ASSERT(hashmap_reserve(&m, SIZE_MAX) == -ENOMEM,
			 "an impossible reservation fails");
		T_EQ_INT(m.cap, 256); /* and leaves the map as it was */
		hashmap_fini(&m);
	}

	T_CASE("replace_at swaps the node in place")
	{
		struct hashmap m = {0};
		struct node a = {.hash = 3, .key = 1}, b = {.hash = 3, .key = 1};

		put(&m, &a);
		hashmap_replace_at(&m, hashmap_find(&m, a.hash, node_eq, &a.key), &b);
		T_ASSERT(find(&m, &a) == &b, "the replacement is found");
		T_EQ_INT(m.n, 1);
		hashmap_fini(&m);
	}

	T_CASE("FNV-1a and the mixer give the published values")
	{
		T_EQ_INT(hashmap_fnv1a(HASHMAP_FNV_BASIS, "", 0), 0x811c9dc5u);
		T_EQ_INT(hashmap_fnv1a(HASHMAP_FNV_BASIS, "a", 1), 0xe40c292cu);
		T_EQ_INT(hashmap_fnv1a(HASHMAP_FNV_BASIS, "foobar", 6), 0xbf9cf968u);
		T_EQ_INT(hashmap_mix(0), 0);
		T_ASSERT(hashmap_mix(1) != hashmap_mix(2), "the mixer separates 1 and 2");
	}

	T_CASE("a seeded mix of inserts and removals agrees with a plain array")
	{
		enum { N = 512 };
		static struct node n[N];
		static bool in[N];
		struct hashmap m = {0};
		uint32_t seed = 0x9e3779b9u;
		size_t live = 0;
		int bad = 0;

		for (int i = 0; i < N; i++)
			/* Few distinct hashes: long runs and many collisions. */
			n[i] = (struct node){.hash = t_xorshift32(&seed) % 61, .key = i};
		for (int step = 0; step < 20000 && !bad; step++) {
			int k = (int)(t_xorshift32(&seed) % N);

			if (in[k]) {
				del(&m, &n[k]);
				in[k] = false;
				live--;
			} else {
				put(&m, &n[k]);
				in[k] = true;
				live++;
			}
			if (step % 97 == 0)
				for (int i = 0; i < N; i++)
					if ((find(&m, &n[i]) != NULL) != in[i]) {
						T_ASSERT(
						    0, "step %d: node %d present=%d, model says %d",
						    step, i, find(&m, &n[i]) != NULL, in[i]);
						bad = 1;
						break;
					}
		}
		T_EQ_INT(m.n, live);
		T_EQ_INT(count(&m), live);
		hashmap_fini(&m);
	}

	return t_summary();
}
