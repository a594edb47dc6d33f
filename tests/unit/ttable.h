/* Table contents for tests: an entry of one name and its addresses in
 * text, put into a struct table. The data is the test's own, so a bad
 * address or a refused put aborts rather than returning an error. Shared
 * by the unit, loopback, BPF and fuzz tests that fill a table.
 */
#ifndef GLUED_TESTS_TTABLE_H
#define GLUED_TESTS_TTABLE_H

#include <stdio.h>
#include <stdlib.h>

#include "core/table.h"

static inline void t_table_put(struct table *t, const char *owner, const char *name,
			       const char *const *addrs, size_t n)
{
	struct table_entry e = {.origin = 0, .n_names = 1};

	snprintf(e.owner, sizeof(e.owner), "%s", owner);
	snprintf(e.names[0], sizeof(e.names[0]), "%s", name);
	for (size_t i = 0; i < n; i++)
		if (addr_parse(&e.addrs[e.n_addrs++], addrs[i]))
			abort();
	if (table_put(t, &e))
		abort();
}

#endif
