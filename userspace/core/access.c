/* The access policy (allow list and RRL exemption) as one lookup; see
 * access.h. Built rarely (at start and when the watched subnets change),
 * looked up per query: the build may be quadratic in the prefixes (at most
 * 256), the lookup is a binary search and touches no other memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/access.h"

static unsigned bits_of(int family)
{
	return family == AF_INET ? 32 : 128;
}

/* The prefix with its host bits cleared. */
static struct glued_cidr cidr_clean(const struct glued_cidr *c)
{
	struct glued_cidr o = *c;
	unsigned bits = bits_of(c->addr.family), full, rem;

	if (o.prefix > bits)
		o.prefix = (uint8_t)bits;
	full = o.prefix / 8;
	rem = o.prefix % 8;
	if (rem)
		o.addr.b[full] &= (uint8_t)(0xff << (8 - rem));
	memset(o.addr.b + full + (rem ? 1 : 0), 0, sizeof(o.addr.b) - full - (rem ? 1 : 0));
	return o;
}

static bool cidr_same(const struct glued_cidr *x, const struct glued_cidr *y)
{
	return x->prefix == y->prefix && x->addr.family == y->addr.family &&
	       memcmp(x->addr.b, y->addr.b, sizeof(x->addr.b)) == 0;
}

/* x contains all of y. */
static bool cidr_covers(const struct glued_cidr *x, const struct glued_cidr *y)
{
	return x->addr.family == y->addr.family && x->prefix <= y->prefix &&
	       cidr_contains(x, &y->addr);
}

static int rule_add(struct access *a, const struct glued_cidr *c, uint8_t flags)
{
	struct glued_cidr k;

	if (c->addr.family != AF_INET && c->addr.family != AF_INET6)
		return 0;
	k = cidr_clean(c);
	for (size_t i = 0; i < a->n_rules; i++)
		if (cidr_same(&a->rules[i].cidr, &k))
			return 0;
	if (a->n_rules == ACCESS_RULES_MAX)
		return -E2BIG;
	a->rules[a->n_rules].cidr = k;
	a->rules[a->n_rules++].flags = flags; /* the union is taken below */
	return 0;
}

static unsigned __int128 addr_u128(const struct glued_addr *x)
{
	unsigned __int128 v = 0;

	for (unsigned i = 0; i < bits_of(x->family) / 8; i++)
		v = v << 8 | x->b[i];
	return v;
}

/* First and last address of a prefix, as numbers. */
static void cidr_span(const struct glued_cidr *c, unsigned __int128 *lo, unsigned __int128 *hi)
{
	unsigned host = bits_of(c->addr.family) - c->prefix;
	unsigned __int128 ones = host ? (((unsigned __int128)1 << (host - 1)) << 1) - 1 : 0;

	*lo = addr_u128(&c->addr);
	*hi = *lo | ones;
}

static int u128_cmp(const void *x, const void *y)
{
	unsigned __int128 a, b;

	memcpy(&a, x, sizeof(a));
	memcpy(&b, y, sizeof(b));
	return a < b ? -1 : a > b;
}

/* Cut one family into ranges at every prefix's first address and at the
 * address after its last; each range takes the union of the flags of the
 * rules containing it. Returns the number of ranges. */
static size_t cut(const struct access *a, int family, unsigned __int128 *starts, uint8_t *flags)
{
	unsigned __int128 max = family == AF_INET ? 0xffffffffu : ~(unsigned __int128)0;
	size_t n = 0, m = 0;

	starts[n++] = 0;
	for (size_t i = 0; i < a->n_rules; i++) {
		unsigned __int128 lo, hi;

		if (a->rules[i].cidr.addr.family != family)
			continue;
		cidr_span(&a->rules[i].cidr, &lo, &hi);
		starts[n++] = lo;
		if (hi != max)
			starts[n++] = hi + 1;
	}
	qsort(starts, n, sizeof(*starts), u128_cmp);
	for (size_t i = 0; i < n; i++) {
		uint8_t f = 0;

		if (m && starts[m - 1] == starts[i])
			continue;
		for (size_t j = 0; j < a->n_rules; j++) {
			unsigned __int128 lo, hi;

			if (a->rules[j].cidr.addr.family != family)
				continue;
			cidr_span(&a->rules[j].cidr, &lo, &hi);
			if (lo <= starts[i] && starts[i] <= hi)
				f |= a->rules[j].flags;
		}
		/* Neighbours with the same flags are one range. */
		if (m && flags[m - 1] == f)
			continue;
		starts[m] = starts[i];
		flags[m++] = f;
	}
	return m;
}

int access_build(struct access *a, const struct glued_cidr *allow, size_t n_allow,
		 const struct glued_cidr *exempt, size_t n_exempt)
{
	unsigned __int128 starts[2 * ACCESS_RULES_MAX + 1];
	uint8_t flags[2 * ACCESS_RULES_MAX + 1];
	int err = 0;

	memset(a, 0, sizeof(*a));
	for (size_t i = 0; i < n_allow && !err; i++)
		err = rule_add(a, &allow[i], 0);
	for (size_t i = 0; i < n_exempt && !err; i++)
		err = rule_add(a, &exempt[i], 0);
	if (err) {
		memset(a, 0, sizeof(*a));
		a->n4 = a->n6 = 1; /* one range, the whole family, no flags */
		return err;
	}
	/* Each rule: the flags of every listed prefix containing it. */
	for (size_t i = 0; i < a->n_rules; i++) {
		const struct glued_cidr *r = &a->rules[i].cidr;

		for (size_t j = 0; j < n_allow; j++)
			if (cidr_covers(&allow[j], r))
				a->rules[i].flags |= GLUED_ALLOW_F_ALLOWED;
		for (size_t j = 0; j < n_exempt; j++)
			if (cidr_covers(&exempt[j], r))
				a->rules[i].flags |= GLUED_ALLOW_F_RRL_EXEMPT;
	}
	a->n4 = cut(a, AF_INET, starts, flags);
	for (size_t i = 0; i < a->n4; i++)
		a->r4[i] = (struct access_range4){.lo = (uint32_t)starts[i], .flags = flags[i]};
	a->n6 = cut(a, AF_INET6, starts, flags);
	for (size_t i = 0; i < a->n6; i++)
		a->r6[i] = (struct access_range6){.lo = starts[i], .flags = flags[i]};
	return 0;
}

uint8_t access_lookup(const struct access *a, const struct glued_addr *src)
{
	size_t lo = 0, hi;

	/* The last range whose start is <= the address: ranges[0] starts at
	 * 0, so there is one whenever the family has ranges. */
	if (src->family == AF_INET) {
		uint32_t x = (uint32_t)src->b[0] << 24 | (uint32_t)src->b[1] << 16 |
			     (uint32_t)src->b[2] << 8 | src->b[3];

		if (!a->n4)
			return 0;
		hi = a->n4;
		while (hi - lo > 1) {
			size_t mid = lo + (hi - lo) / 2;

			if (a->r4[mid].lo <= x)
				lo = mid;
			else
				hi = mid;
		}
		return a->r4[lo].flags;
	}
	if (src->family == AF_INET6) {
		unsigned __int128 x = addr_u128(src);

		if (!a->n6)
			return 0;
		hi = a->n6;
		while (hi - lo > 1) {
			size_t mid = lo + (hi - lo) / 2;

			if (a->r6[mid].lo <= x)
				lo = mid;
			else
				hi = mid;
		}
		return a->r6[lo].flags;
	}
	return 0;
}

const struct access_rule *access_rules(const struct access *a, size_t *n)
{
	*n = a->n_rules;
	return a->rules;
}
