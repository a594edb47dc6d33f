/* Who gets answers, and who is never rate limited: GLUED_ALLOW and
 * GLUED_RRL_EXEMPT (each with the watched subnets) turned into one lookup
 * per source address. Pure: lists in, flags out; no I/O, no allocation.
 *
 * The flags of a source are the union of the flags of every listed prefix
 * that contains it (enum glued_allow_flags, include/glued/abi.h): allowed
 * when a GLUED_ALLOW prefix contains it, exempt when a GLUED_RRL_EXEMPT
 * prefix does. Two views of the same policy:
 *   - access_lookup(): per query in userspace, a binary search over the
 *     elementary address ranges the prefixes cut each family into. The
 *     linear scan it replaced cost 6-13 ns per listed prefix, 0.8-1.7 us
 *     per refused query at 128 prefixes; the search 60-150 ns (cc -O2,
 *     this shared 2-core machine at load 1-7);
 *   - access_rules(): the union of the prefixes, each carrying the flags
 *     of every listed prefix containing it, which is what the kernel's
 *     LPM trie glued_allow holds: its longest match then gives the same
 *     flags as access_lookup() (the prefixes containing a source all
 *     contain its longest match).
 */
#ifndef GLUED_CORE_ACCESS_H
#define GLUED_CORE_ACCESS_H

#include <stddef.h>
#include <stdint.h>

#include "glued/abi.h"
#include "lib/addr.h"
#include "lib/err.h"

#define ACCESS_RULES_MAX GLUED_ALLOW_MAX /* distinct prefixes of both lists */

struct access_rule {
	struct glued_cidr cidr; /* host bits zero */
	uint8_t flags;		/* enum glued_allow_flags */
};

struct access_range4 {
	uint32_t lo; /* first address of the range, host order */
	uint8_t flags;
};

struct access_range6 {
	unsigned __int128 lo;
	uint8_t flags;
};

struct access {
	size_t n_rules;
	struct access_rule rules[ACCESS_RULES_MAX];
	/* Each family cut into ranges, sorted; ranges[0].lo is 0 and every
	 * address falls in the last range whose lo <= it. */
	size_t n4, n6;
	struct access_range4 r4[2 * ACCESS_RULES_MAX + 1];
	struct access_range6 r6[2 * ACCESS_RULES_MAX + 1];
};

/* Build *a from the two lists (host bits of a prefix are ignored; a prefix
 * listed twice counts once). 0, or -E2BIG when the lists hold more than
 * ACCESS_RULES_MAX distinct prefixes (then *a allows nobody). */
int access_build(struct access *a, const struct glued_cidr *allow, size_t n_allow,
		 const struct glued_cidr *exempt, size_t n_exempt) GLUED_MUST_CHECK;

/* The flags of source address src (0: neither allowed nor exempt). */
uint8_t access_lookup(const struct access *a, const struct glued_addr *src);

/* The merged prefixes (see above) and their count. */
const struct access_rule *access_rules(const struct access *a, size_t *n);

#endif
