/* libFuzzer target for the hosts(5) parser (GLUED_HOSTS_FILE can come from
 * anywhere). Besides "no crash, no leak, no UB", it checks what the table
 * and the logs rely on: each entry has exactly one address and a distinct
 * owner "hosts:<addr>", 1..32 distinct names that are valid lowercase single
 * labels, every problem has a line number within the input and a
 * NUL-terminated printable reason, and the problem count respects its cap.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/hosts.h"
#include "fuzz.h"

static void check_name(const char *s)
{
	size_t n = strnlen(s, TABLE_NAME_MAX + 1);

	CHECK(n >= 1 && n <= TABLE_NAME_MAX);
	CHECK(s[0] != '-');
	for (size_t i = 0; i < n; i++)
		CHECK((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '_');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hosts_result r;
	size_t lines = 1;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (hosts_parse((const char *)data, size, &r))
		return 0;
	CHECK(r.n_entries <= HOSTS_ENTRIES_MAX);
	CHECK(r.n_problems <= HOSTS_PROBLEMS_MAX);
	CHECK(r.n_problems_dropped == 0 || r.n_problems == HOSTS_PROBLEMS_MAX);
	for (size_t i = 0; i < r.n_entries; i++) {
		static struct table_entry ent;
		const struct table_entry *e = &ent;
		char want[TABLE_OWNER_MAX + 1] = "hosts:";

		hosts_result_entry(&r, i, &ent);
		CHECK(r.addrs[i].n_names == e->n_names);

		CHECK(e->origin == 0);
		CHECK(e->n_addrs == 1);
		CHECK(e->addrs[0].family == AF_INET || e->addrs[0].family == AF_INET6);
		CHECK(!addr_is_any(&e->addrs[0]));
		addr_str(&e->addrs[0], want + 6, sizeof(want) - 6);
		CHECK(!strcmp(e->owner, want));
		CHECK(e->n_names >= 1 && e->n_names <= TABLE_ENTRY_NAMES_MAX);
		for (size_t j = 0; j < e->n_names; j++) {
			check_name(e->names[j]);
			for (size_t k = 0; k < j; k++)
				CHECK(strcmp(e->names[j], e->names[k]) != 0);
		}
		for (size_t k = 0; k < i; k++)
			CHECK(!addr_eq(&r.addrs[k].addr, &e->addrs[0]));
	}
	for (size_t i = 0; i < r.n_problems; i++) {
		const struct hosts_problem *p = &r.problems[i];
		size_t n = strnlen(p->reason, sizeof(p->reason));

		CHECK(n > 0 && n < sizeof(p->reason));
		for (size_t j = 0; j < n; j++)
			CHECK(p->reason[j] >= 0x20 && p->reason[j] < 0x7f);
		CHECK(p->line >= 1 && p->line <= lines);
		CHECK(i == 0 || p->line >= r.problems[i - 1].line);
	}
	hosts_result_free(&r);
	return 0;
}
