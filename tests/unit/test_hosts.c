/* Unit tests of the hosts(5) parser: good lines, comments, IPv6, names
 * merged per address, a name on two addresses, duplicates, case, skipped
 * multi-label names, bad lines with their line numbers, and the bounds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hosts.h"
#include "t.h"

static int parse(const char *text, struct hosts_result *r)
{
	return hosts_parse(text, strlen(text), r);
}

/* Entry i expanded; a few rotating buffers so two can be compared. */
static const struct table_entry *ENT(const struct hosts_result *r, size_t i)
{
	static struct table_entry buf[4];
	static unsigned n;
	struct table_entry *e = &buf[n++ % 4];

	hosts_result_entry(r, i, e);
	return e;
}

static const struct table_entry *find(const struct hosts_result *r, const char *owner)
{
	for (size_t i = 0; i < r->n_entries; i++)
		if (!strcmp(ENT(r, i)->owner, owner))
			return ENT(r, i);
	return NULL;
}

static bool has_name(const struct table_entry *e, const char *name)
{
	for (size_t i = 0; e && i < e->n_names; i++)
		if (!strcmp(e->names[i], name))
			return true;
	return false;
}

int main(void)
{
	struct hosts_result r;
	const struct table_entry *e;
	char a[ADDR_STRLEN];

	T_CASE("good lines give one entry per address, names lowercased, comments ignored")
	{
		T_EQ_INT(parse("# static records\n"
			       "\n"
			       "10.0.0.20\tNAS backup   # the box in the cupboard\n"
			       "   fd00::20 nas\r\n"
			       "10.0.0.21 printer\n"
			       "#10.0.0.99 hidden\n",
			       &r),
			 0);
		T_EQ_INT(r.n_entries, 3);
		T_EQ_INT(r.n_problems, 0);
		e = find(&r, "hosts:10.0.0.20");
		T_ASSERT(e != NULL, "entry for 10.0.0.20");
		if (e) {
			T_EQ_INT(e->origin, 0);
			T_EQ_INT(e->n_addrs, 1);
			T_EQ_STR(addr_str(&e->addrs[0], a, sizeof(a)), "10.0.0.20");
			T_EQ_INT(e->n_names, 2);
			T_EQ_STR(e->names[0], "nas");
			T_EQ_STR(e->names[1], "backup");
		}
		e = find(&r, "hosts:fd00::20");
		T_ASSERT(e && e->addrs[0].family == AF_INET6 && has_name(e, "nas"), "v6 entry");
		T_ASSERT(!find(&r, "hosts:10.0.0.99"), "commented-out line");
		T_EQ_STR(ENT(&r, 2)->owner, "hosts:10.0.0.21");
		hosts_result_free(&r);
		T_EQ_INT(r.n_entries, 0);
	}

	T_CASE("an address on several lines is one entry; duplicates are kept once")
	{
		T_EQ_INT(parse("10.0.0.1 a b\n10.0.0.2 c\n10.0.0.1 B d a\n", &r), 0);
		T_EQ_INT(r.n_entries, 2);
		e = find(&r, "hosts:10.0.0.1");
		T_ASSERT(e && e->n_names == 3, "a, b, d");
		T_ASSERT(has_name(e, "a") && has_name(e, "b") && has_name(e, "d"), "names");
		T_EQ_INT(r.n_problems, 0);
		hosts_result_free(&r);
	}

	T_CASE("a name on two lines with two addresses is in both entries")
	{
		T_EQ_INT(parse("10.0.0.1 web\n10.0.0.2 web\nfd00::1 web\n", &r), 0);
		T_EQ_INT(r.n_entries, 3);
		for (size_t i = 0; i < r.n_entries; i++)
			T_ASSERT(has_name(ENT(&r, i), "web"), "entry %zu", i);
		hosts_result_free(&r);
	}

	T_CASE("the same IPv6 address written two ways is one entry")
	{
		T_EQ_INT(parse("fd00:0:0::1 a\nFD00::1 b\n", &r), 0);
		T_EQ_INT(r.n_entries, 1);
		T_EQ_STR(ENT(&r, 0)->owner, "hosts:fd00::1");
		T_EQ_INT(ENT(&r, 0)->n_names, 2);
		hosts_result_free(&r);
	}

	T_CASE("bad lines are reported with their line numbers and skipped")
	{
		T_EQ_INT(parse("10.0.0.1 good\n"				 /* 1 */
			       "10.0.0.300 bad-addr\n"				 /* 2 */
			       "10.0.0.2\n"					 /* 3 */
			       "10.0.0.3   # only a comment\n"			 /* 4 */
			       "fe80::1%eth0 scoped\n"				 /* 5 */
			       "0.0.0.0 blocked\n"				 /* 6 */
			       "10.0.0.4 ok sub.domain.example bad*name -dash\n" /* 7 */
			       "nas 10.0.0.5\n"					 /* 8 */
			       "10.0.0.6 ok2", /* 9: no final newline */
			       &r),
			 0);
		T_EQ_INT(r.n_entries, 3);
		T_ASSERT(has_name(find(&r, "hosts:10.0.0.4"), "ok"), "good name kept on line 7");
		T_ASSERT(has_name(find(&r, "hosts:10.0.0.6"), "ok2"), "last line without newline");
		T_EQ_INT(r.n_problems, 9);
		if (r.n_problems == 9) {
			T_EQ_INT(r.problems[0].line, 2);
			T_EQ_STR(r.problems[0].reason, "bad address \"10.0.0.300\"");
			T_EQ_INT(r.problems[1].line, 3);
			T_EQ_STR(r.problems[1].reason, "no name after address 10.0.0.2");
			T_EQ_INT(r.problems[2].line, 4);
			T_EQ_STR(r.problems[2].reason, "no name after address 10.0.0.3");
			T_EQ_INT(r.problems[3].line, 5);
			T_EQ_STR(r.problems[3].reason,
				 "scoped address \"fe80::1%eth0\" not supported");
			T_EQ_INT(r.problems[4].line, 6);
			T_EQ_STR(r.problems[4].reason, "unspecified address 0.0.0.0 skipped");
			T_EQ_INT(r.problems[5].line, 7);
			T_EQ_STR(r.problems[5].reason,
				 "multi-label name \"sub.domain.example\" skipped: "
				 "only single labels are published");
			T_EQ_INT(r.problems[6].line, 7);
			T_EQ_STR(r.problems[6].reason, "invalid name \"bad*name\" skipped");
			T_EQ_INT(r.problems[7].line, 7);
			T_EQ_STR(r.problems[7].reason, "invalid name \"-dash\" skipped");
			T_EQ_INT(r.problems[8].line, 8);
			T_EQ_STR(r.problems[8].reason, "bad address \"nas\"");
		}
		hosts_result_free(&r);
	}

	T_CASE("a name that is not an address in the address column is a bad address")
	{
		T_EQ_INT(parse("nas 10.0.0.5\n", &r), 0);
		T_EQ_INT(r.n_entries, 0);
		T_EQ_INT(r.n_problems, 1);
		T_EQ_STR(r.problems[0].reason, "bad address \"nas\"");
		hosts_result_free(&r);
	}

	T_CASE("a line of only multi-label names gives no entry")
	{
		T_EQ_INT(parse("127.0.0.1 localhost.localdomain\n", &r), 0);
		T_EQ_INT(r.n_entries, 0);
		T_EQ_INT(r.n_problems, 1);
		hosts_result_free(&r);
	}

	T_CASE("names of 63 bytes are kept, 64 refused; binary garbage is shown safely")
	{
		char text[256];
		snprintf(text, sizeof(text), "10.0.0.1 %063d\n10.0.0.2 %064d\n10.0.0.3 a\x01\xff\n",
			 0, 0);
		T_EQ_INT(parse(text, &r), 0);
		T_EQ_INT(r.n_entries, 1);
		T_EQ_INT(strlen(ENT(&r, 0)->names[0]), 63);
		T_EQ_INT(r.n_problems, 2);
		T_EQ_INT(r.problems[1].line, 3);
		T_EQ_STR(r.problems[1].reason, "invalid name \"a??\" skipped");
		hosts_result_free(&r);
	}

	T_CASE("names beyond 32 per address are reported, not dropped silently")
	{
		char text[1024];
		size_t o = (size_t)snprintf(text, sizeof(text), "10.0.0.1");
		for (int i = 0; i < 34; i++)
			o += (size_t)snprintf(text + o, sizeof(text) - o, " n%d", i);
		T_EQ_INT(parse(text, &r), 0);
		T_EQ_INT(ENT(&r, 0)->n_names, TABLE_ENTRY_NAMES_MAX);
		T_EQ_INT(r.n_problems, 2);
		T_EQ_STR(r.problems[0].reason, "too many names for 10.0.0.1 (max 32): n32 skipped");
		hosts_result_free(&r);
	}

	T_CASE("problems beyond the cap are counted")
	{
		char *text = malloc(100 * 16);
		size_t o = 0;
		for (int i = 0; i < 100; i++)
			o += (size_t)sprintf(text + o, "bad%d x\n", i);
		T_EQ_INT(hosts_parse(text, o, &r), 0);
		T_EQ_INT(r.n_problems, HOSTS_PROBLEMS_MAX);
		T_EQ_INT(r.n_problems_dropped, 100 - HOSTS_PROBLEMS_MAX);
		T_EQ_INT(r.problems[HOSTS_PROBLEMS_MAX - 1].line, HOSTS_PROBLEMS_MAX);
		hosts_result_free(&r);
		free(text);
	}

	T_CASE("addresses beyond HOSTS_ENTRIES_MAX are reported")
	{
		size_t cap = (HOSTS_ENTRIES_MAX + 2) * 24, o = 0;
		char *text = malloc(cap);
		for (int i = 0; i < HOSTS_ENTRIES_MAX + 2; i++)
			o += (size_t)snprintf(text + o, cap - o, "10.%d.%d.%d h%d\n", i >> 16,
					      (i >> 8) & 255, i & 255, i);
		T_EQ_INT(hosts_parse(text, o, &r), 0);
		T_EQ_INT(r.n_entries, HOSTS_ENTRIES_MAX);
		T_EQ_INT(r.n_problems, 2);
		T_EQ_STR(r.problems[0].reason, "too many addresses (max 65536): 10.1.0.0 skipped");
		hosts_result_free(&r);
		free(text);
	}

	T_CASE("empty input and a NUL byte in a line")
	{
		T_EQ_INT(hosts_parse("", 0, &r), 0);
		T_EQ_INT(r.n_entries + r.n_problems, 0);
		hosts_result_free(&r);
		T_EQ_INT(hosts_parse("10.0.0.1\0 x\n10.0.0.2 y\n", 22, &r), 0);
		T_EQ_INT(r.n_entries, 1);
		T_EQ_INT(r.n_problems, 1);
		T_EQ_INT(r.problems[0].line, 1);
		hosts_result_free(&r);
	}

	return t_summary();
}
