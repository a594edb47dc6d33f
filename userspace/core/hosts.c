/* hosts(5) parsing into name table entries; see hosts.h. It owns what a
 * hosts line means for glued (which names are published, which lines are
 * skipped and why). It must never read the file, log, or touch the table:
 * the caller puts the entries and logs the problems.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hosts.h"

struct hosts_parser {
	struct hosts_result *out;
	size_t cap_entries;
	unsigned line;
	int err; /* sticky -ENOMEM */
};

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

static void problem(struct hosts_parser *hp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void problem(struct hosts_parser *hp, const char *fmt, ...)
{
	struct hosts_result *r = hp->out;
	struct hosts_problem *pr;
	va_list ap;

	if (r->n_problems == HOSTS_PROBLEMS_MAX) {
		r->n_problems_dropped++;
		return;
	}
	if (!r->problems) {
		r->problems = calloc(HOSTS_PROBLEMS_MAX, sizeof(*r->problems));
		if (!r->problems) {
			hp->err = -ENOMEM;
			return;
		}
	}
	pr = &r->problems[r->n_problems++];
	pr->line = hp->line;
	va_start(ap, fmt);
	vsnprintf(pr->reason, sizeof(pr->reason), fmt, ap);
	va_end(ap);
}

/* Token text for a message: printable ASCII only, so a line of binary
 * garbage still gives a readable one-line log. */
static const char *shown(char *buf, size_t cap, const char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 4 < cap; i++) {
		unsigned char ch = (unsigned char)s[i];
		buf[o++] = ch >= 0x21 && ch < 0x7f ? (char)ch : '?';
	}
	if (n && o + 4 >= cap) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

enum name_kind { NAME_OK, NAME_MULTI, NAME_BAD };

/* A publishable name is one label of letters, digits, '-' and '_', not
 * starting with '-'. A name with a dot is a multi-label name. */
static enum name_kind name_kind(const char *s, size_t n)
{
	bool dot = false;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '.')
			dot = true;
		else if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			   (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return NAME_BAD;
	}
	if (dot)
		return NAME_MULTI;
	if (n == 0 || n > TABLE_NAME_MAX || s[0] == '-')
		return NAME_BAD;
	return NAME_OK;
}

static struct table_entry *entry_for(struct hosts_parser *hp, const struct glued_addr *a)
{
	struct hosts_result *r = hp->out;
	struct table_entry *e;
	char txt[ADDR_STRLEN];

	for (size_t i = 0; i < r->n_entries; i++)
		if (addr_eq(&r->entries[i].addrs[0], a))
			return &r->entries[i];
	if (r->n_entries == HOSTS_ENTRIES_MAX) {
		problem(hp, "too many addresses (max %d): %s skipped", HOSTS_ENTRIES_MAX,
			addr_str(a, txt, sizeof(txt)));
		return NULL;
	}
	if (r->n_entries == hp->cap_entries) {
		size_t cap = hp->cap_entries ? hp->cap_entries * 2 : 16;
		struct table_entry *ne = realloc(r->entries, cap * sizeof(*ne));
		if (!ne) {
			hp->err = -ENOMEM;
			return NULL;
		}
		r->entries = ne;
		hp->cap_entries = cap;
	}
	e = &r->entries[r->n_entries++];
	memset(e, 0, sizeof(*e));
	e->origin = 0;
	snprintf(e->owner, sizeof(e->owner), "hosts:%s", addr_str(a, txt, sizeof(txt)));
	e->n_addrs = 1;
	e->addrs[0] = *a;
	return e;
}

static void add_name(struct hosts_parser *hp, const struct glued_addr *a, const char *s, size_t n)
{
	struct table_entry *e;
	char name[TABLE_NAME_MAX + 1], txt[ADDR_STRLEN];

	for (size_t i = 0; i < n; i++)
		name[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i];
	name[n] = '\0';
	e = entry_for(hp, a);
	if (!e)
		return;
	for (size_t i = 0; i < e->n_names; i++)
		if (!strcmp(e->names[i], name))
			return; /* the same name again for the same address: harmless */
	if (e->n_names == TABLE_ENTRY_NAMES_MAX) {
		problem(hp, "too many names for %s (max %d): %s skipped",
			addr_str(a, txt, sizeof(txt)), TABLE_ENTRY_NAMES_MAX, name);
		return;
	}
	memcpy(e->names[e->n_names++], name, n + 1);
}

static void parse_line(struct hosts_parser *hp, const char *p, const char *end)
{
	const char *tok;
	char buf[64], show[48];
	struct glued_addr a;
	size_t n, names = 0;

	while (p < end && is_space(*p))
		p++;
	if (p == end)
		return; /* blank or comment only */
	tok = p;
	while (p < end && !is_space(*p))
		p++;
	n = (size_t)(p - tok);
	shown(show, sizeof(show), tok, n);
	if (n >= sizeof(buf) || memchr(tok, '\0', n)) {
		problem(hp, "bad address \"%s\"", show);
		return;
	}
	memcpy(buf, tok, n);
	buf[n] = '\0';
	if (addr_parse(&a, buf)) {
		if (strchr(buf, '%'))
			problem(hp, "scoped address \"%s\" not supported", show);
		else
			problem(hp, "bad address \"%s\"", show);
		return;
	}
	if (addr_is_any(&a)) {
		problem(hp, "unspecified address %s skipped", show);
		return;
	}
	for (;;) {
		while (p < end && is_space(*p))
			p++;
		if (p == end)
			break;
		tok = p;
		while (p < end && !is_space(*p))
			p++;
		n = (size_t)(p - tok);
		names++;
		switch (name_kind(tok, n)) {
		case NAME_OK:
			add_name(hp, &a, tok, n);
			break;
		case NAME_MULTI:
			problem(hp,
				"multi-label name \"%s\" skipped: only single labels are published",
				shown(show, sizeof(show), tok, n));
			break;
		case NAME_BAD:
			problem(hp, "invalid name \"%s\" skipped",
				shown(show, sizeof(show), tok, n));
			break;
		}
		if (hp->err)
			return;
	}
	if (names == 0)
		problem(hp, "no name after address %s", buf);
}

int hosts_parse(const char *text, size_t len, struct hosts_result *out)
{
	struct hosts_parser hp = {.out = out};
	const char *p = text, *end = text + len;

	memset(out, 0, sizeof(*out));
	while (p < end && !hp.err) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *hash;

		if (!eol)
			eol = end;
		hash = memchr(p, '#', (size_t)(eol - p)); /* a comment runs to the line's end */
		hp.line++;
		parse_line(&hp, p, hash ? hash : eol);
		p = eol < end ? eol + 1 : end;
	}
	if (hp.err) {
		hosts_result_free(out);
		return hp.err;
	}
	return 0;
}

void hosts_result_free(struct hosts_result *r)
{
	free(r->entries);
	free(r->problems);
	memset(r, 0, sizeof(*r));
}
