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

#include <stddef.h>

#include "core/table.h"
#include "lib/err.h"

#define HOSTS_ENTRIES_MAX 4096 /* distinct addresses */
#define HOSTS_PROBLEMS_MAX 64  /* problems kept in detail; the rest are counted */
#define HOSTS_REASON_LEN 112

struct hosts_problem {
	unsigned line; /* 1-based */
	char reason[HOSTS_REASON_LEN];
};

struct hosts_result {
	struct table_entry *entries; /* n_entries, in order of first appearance */
	size_t n_entries;
	struct hosts_problem *problems; /* n_problems, in line order */
	size_t n_problems;
	size_t n_problems_dropped; /* problems beyond HOSTS_PROBLEMS_MAX */
};

/* Parse `len` bytes (need not be NUL-terminated). Problems in the text are
 * never an error: they land in out->problems. Returns 0 or -ENOMEM (then
 * *out holds nothing). Free with hosts_result_free either way. */
int hosts_parse(const char *text, size_t len, struct hosts_result *out) GLUED_MUST_CHECK;
void hosts_result_free(struct hosts_result *r);

#endif
