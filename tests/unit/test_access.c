/* Unit tests of the access policy (core/access.h): allowed and RRL-exempt
 * flags per source from the two prefix lists, longest match against the
 * merged rules the kernel's trie gets (the two views must agree), the
 * bounds, and the lookup's cost against the linear scan it replaced. */
#include <errno.h>
#include <time.h>

#include "core/access.h"
#include "t.h"

static struct glued_cidr C(const char *s) {
	struct glued_cidr c;

	if (cidr_parse(&c, s) != 0)
		abort();
	return c;
}

static struct glued_addr
A(const char *s) {
	struct glued_addr a;

	if (addr_parse(&a, s) != 0)
		abort();
	return a;
}

/* What the kernel's LPM trie answers for src given the merged rules. */
static uint8_t
lpm(const struct access *ac, const struct glued_addr *src)
{
	size_t n, best = SIZE_MAX;
	const struct access_rule *r = access_rules(ac, &n);

	for (size_t i = 0; i < n; i++)
		if (cidr_contains(&r[i].cidr, src) &&
		    (best == SIZE_MAX || r[i].cidr.prefix > r[best].cidr.prefix))
			best = i;
	return best == SIZE_MAX ? 0 : r[best].flags;
}

static struct access ac; /* large: not on the stack */

int main(void)
{
	const uint8_t A_ = GLUED_ALLOW_F_ALLOWED, X_ = GLUED_ALLOW_F_RRL_EXEMPT;

	T_CASE("the defaults: loopback allowed and exempt, private ranges allowed, others nothing")
	{
		struct glued_cidr allow[] = {C("127.0.0.0/8"),	  C("::1/128"),
					     C("10.0.0.0/8"),	  C("172.16.0.0/12"),
					     C("192.168.0.0/16"), C("fc00::/7")};
		struct glued_cidr exempt[] = {C("127.0.0.0/8"), C("::1/128"), C("172.18.0.0/16")};
		/* {source, flags}: the table's edges, the exempt watched subnet */
		const struct {
			const char *src;
			uint8_t flags;
		} want[] = {
		    {"127.255.255.255", A_ | X_},
		    {"::1", A_ | X_},
		    {"::2", 0},
		    {"172.18.0.5", A_ | X_},
		    {"172.19.0.5", A_},
		    {"172.32.0.1", 0},
		    {"203.0.113.9", 0},
		    {"fd12::1", A_},
		    {"255.255.255.255", 0},
		    {"0.0.0.0", 0},
		};

		T_EQ_INT(access_build(&ac, allow, 6, exempt, 3), 0);
		T_EQ_INT(access_lookup(&ac, &(struct glued_addr){0}), 0);
		T_EQ_INT(access_lookup(&ac, &(struct glued_addr){.family = AF_INET}), 0);
		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			struct glued_addr a = A(want[i].src);

			T_ASSERT(access_lookup(&ac, &a) == want[i].flags, "%s: flags %u, want %u",
				 want[i].src, access_lookup(&ac, &a), want[i].flags);
		}
	}
	T_CASE("exempt but not allowed stays refused; the whole space can be listed")
	{
		struct glued_cidr allow[] = {C("0.0.0.0/0")};
		struct glued_cidr exempt[] = {C("::/0"), C("10.1.2.3/32")};
		struct glued_addr a = A("198.51.100.1");

		T_EQ_INT(access_build(&ac, allow, 1, exempt, 2), 0);
		T_EQ_INT(access_lookup(&ac, &a), A_);
		a = A("10.1.2.3");
		T_EQ_INT(access_lookup(&ac, &a), A_ | X_);
		a = A("10.1.2.4");
		T_EQ_INT(access_lookup(&ac, &a), A_);
		a = A("2001:db8::1");
		T_EQ_INT(access_lookup(&ac, &a), X_);
	}
	T_CASE("the merged rules' longest match gives the same flags as the lookup (random lists)")
	{
		uint64_t s = 0x9e3779b97f4a7c15ULL;
		unsigned bad = 0;

		for (unsigned round = 0; round < 50; round++) {
			struct glued_cidr allow[40], exempt[20];

			for (unsigned i = 0; i < 60; i++) {
				struct glued_cidr *c = i < 40 ? &allow[i] : &exempt[i - 40];

				s = s * 6364136223846793005ULL + 1442695040888963407ULL;
				memset(c, 0, sizeof(*c));
				c->addr.family = (s >> 60) & 1 ? AF_INET6 : AF_INET;
				/* Few distinct high bytes, so prefixes nest. */
				c->addr.b[0] = (uint8_t)(10 + ((s >> 8) & 3));
				c->addr.b[1] = (uint8_t)((s >> 16) & 7);
				c->addr.b[2] = (uint8_t)(s >> 24);
				c->prefix =
				    (uint8_t)((s >> 32) % (c->addr.family == AF_INET ? 33 : 129));
			}
			T_EQ_INT(access_build(&ac, allow, 40, exempt, 20), 0);
			for (unsigned k = 0; k < 2000; k++) {
				struct glued_addr a = {0};

				s = s * 6364136223846793005ULL + 1442695040888963407ULL;
				a.family = (s >> 60) & 1 ? AF_INET6 : AF_INET;
				a.b[0] = (uint8_t)(10 + ((s >> 8) & 3));
				a.b[1] = (uint8_t)((s >> 16) & 7);
				a.b[2] = (uint8_t)(s >> 24);
				a.b[3] = (uint8_t)(s >> 40);
				bad += access_lookup(&ac, &a) != lpm(&ac, &a);
			}
		}
		T_EQ_INT(bad, 0);
	}
	T_CASE("more distinct prefixes than the trie holds: -E2BIG, nobody allowed")
	{
		static struct glued_cidr many[ACCESS_RULES_MAX + 1];
		struct glued_addr a = A("10.0.0.1");

		for (unsigned i = 0; i <= ACCESS_RULES_MAX; i++) {
			char b[32];

			snprintf(b, sizeof(b), "10.%u.%u.0/24", i / 256, i % 256);
			many[i] = C(b);
		}
		T_EQ_INT(access_build(&ac, many, ACCESS_RULES_MAX, NULL, 0), 0);
		T_EQ_INT(access_lookup(&ac, &a), A_);
		T_EQ_INT(access_build(&ac, many, ACCESS_RULES_MAX + 1, NULL, 0), -E2BIG);
		T_EQ_INT(access_lookup(&ac, &a), 0);
		/* A prefix listed twice, or with host bits, counts once. */
		many[1] = C("10.0.0.77/24");
		T_EQ_INT(access_build(&ac, many, ACCESS_RULES_MAX + 1, NULL, 0), 0);
	}
	T_CASE("the cost: a lookup at 128 prefixes against the linear scan (printed, not asserted)")
	{
		static struct glued_cidr list[128];
		struct glued_addr a = A("203.0.113.9");
		struct timespec t0, t1, t2;
		volatile unsigned hits = 0;
		const unsigned iters = 200000;

		for (unsigned i = 0; i < 128; i++) {
			char b[48];

			if (i % 2)
				snprintf(b, sizeof(b), "10.%u.0.0/16", i);
			else
				snprintf(b, sizeof(b), "fd00:%x::/32", i);
			list[i] = C(b);
		}
		T_EQ_INT(access_build(&ac, list, 128, NULL, 0), 0);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (unsigned i = 0; i < iters; i++) {
			a.b[3] = (uint8_t)i;
			hits += access_lookup(&ac, &a);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		for (unsigned i = 0; i < iters; i++) {
			a.b[3] = (uint8_t)i;
			for (unsigned k = 0; k < 128; k++)
				if (cidr_contains(&list[k], &a)) {
					hits++;
					break;
				}
		}
		clock_gettime(CLOCK_MONOTONIC, &t2);
		printf(
		    "access: 128 prefixes, a refused source: lookup %.1f ns, linear scan %.1f ns "
		    "(this build)\n",
		    ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / iters,
		    ((t2.tv_sec - t1.tv_sec) * 1e9 + (t2.tv_nsec - t1.tv_nsec)) / iters);
		T_EQ_INT(hits, 0);
	}
	return t_summary();
}
