/* hosts(5) parsing: the bytes of GLUED_HOSTS_FILE turned into name table
 * entries this node publishes, plus a list of the lines it had to skip.
 *
 * One entry per distinct address, owner "hosts:<address>", origin 0, every
 * name written for that address on any line (lowercased, each once). A name
 * on two lines with two addresses is in two entries, so it resolves to both.
 * Only single-label names are published; multi-label names, bad addresses,
 * lines without names and invalid names are reported with their line number
 * and skipped. Pure core: no I/O, no logging. It allocates (it runs on file
 * reload, never per packet); hosts_result_free releases everything.
 */
#ifndef GLUED_CORE_HOSTS_H
#define GLUED_CORE_HOSTS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/table.h"
#include "lib/err.h"

#define HOSTS_ENTRIES_MAX 65536 /* distinct addresses (the table's entry bound) */
#define HOSTS_PROBLEMS_MAX 64  /* problems kept in detail; the rest are counted */
#define HOSTS_REASON_LEN 112

struct hosts_problem {
	unsigned line; /* 1-based */
	char reason[HOSTS_REASON_LEN];
};

/* The result is kept compact (a hosts file may hold tens of thousands of
 * addresses; a struct table_entry is ~2 KB): one small record per address
 * and one per name, the names of an address chained in file order.
 * hosts_result_entry() expands one address into a table entry on demand. */
struct hosts_addr {
	struct glued_addr addr;
	uint32_t first_name; /* index into names[], chained by next */
	uint32_t last_name;
	uint32_t n_names;
};

struct hosts_name {
	char name[TABLE_NAME_MAX + 1]; /* lowercase, NUL-terminated */
	uint32_t next;		       /* next name of the same address, or UINT32_MAX */
};

struct hosts_result {
	struct hosts_addr *addrs; /* n_entries, in order of first appearance */
	size_t n_entries;
	struct hosts_name *names;
	size_t n_names;
	struct hosts_problem *problems; /* n_problems, in line order */
	size_t n_problems;
	size_t n_problems_dropped; /* problems beyond HOSTS_PROBLEMS_MAX */
	/* private to the parser: address → index + 1, open addressing */
	uint32_t *index;
	size_t index_cap, cap_addrs, cap_names;
};

/* Parse `len` bytes (need not be NUL-terminated). Problems in the text are
 * never an error: they land in out->problems. Returns 0 or -ENOMEM (then
 * *out holds nothing). Free with hosts_result_free either way. */
int hosts_parse(const char *text, size_t len, struct hosts_result *out) GLUED_MUST_CHECK;
void hosts_result_free(struct hosts_result *r);

/* True if the result has an entry for address a. */
bool hosts_result_has(const struct hosts_result *r, const struct glued_addr *a);

/* Entry i (< r->n_entries) as a table entry: origin 0, owner
 * "hosts:<address>", the address, its names in file order. */
void hosts_result_entry(const struct hosts_result *r, size_t i, struct table_entry *e);

#endif
