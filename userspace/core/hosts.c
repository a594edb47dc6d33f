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

static uint32_t addr_hash(const struct glued_addr *a)
{
	uint32_t h = 2166136261u ^ a->family;

	for (size_t i = 0; i < 16; i++)
		h = (h ^ a->b[i]) * 16777619u;
	return h;
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t ncap;
	void *np;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	np = realloc(*p, ncap * size);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

/* Keep the index at most half full; rebuilt on growth. */
static int index_grow(struct hosts_result *r)
{
	size_t cap = r->index_cap ? r->index_cap * 2 : 256;
	uint32_t *idx;

	if (r->n_entries * 2 < r->index_cap)
		return 0;
	idx = calloc(cap, sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_entries; i++) {
		size_t slot = addr_hash(&r->addrs[i].addr) & (cap - 1);
		while (idx[slot])
			slot = (slot + 1) & (cap - 1);
		idx[slot] = (uint32_t)i + 1;
	}
	free(r->index);
	r->index = idx;
	r->index_cap = cap;
	return 0;
}

static struct hosts_addr *entry_for(struct hosts_parser *hp, const struct glued_addr *a)
{
	struct hosts_result *r = hp->out;
	struct hosts_addr *e;
	char txt[ADDR_STRLEN];
	size_t slot;

	if (r->index_cap) {
		for (slot = addr_hash(a) & (r->index_cap - 1); r->index[slot];
		     slot = (slot + 1) & (r->index_cap - 1))
			if (addr_eq(&r->addrs[r->index[slot] - 1].addr, a))
				return &r->addrs[r->index[slot] - 1];
	}
	if (r->n_entries == HOSTS_ENTRIES_MAX) {
		problem(hp, "too many addresses (max %d): %s skipped", HOSTS_ENTRIES_MAX,
			addr_str(a, txt, sizeof(txt)));
		return NULL;
	}
	if (grow((void **)&r->addrs, &r->cap_addrs, r->n_entries + 1, sizeof(*r->addrs)) ||
	    index_grow(r)) {
		hp->err = -ENOMEM;
		return NULL;
	}
	e = &r->addrs[r->n_entries++];
	memset(e, 0, sizeof(*e));
	e->addr = *a;
	e->first_name = e->last_name = UINT32_MAX;
	for (slot = addr_hash(a) & (r->index_cap - 1); r->index[slot];
	     slot = (slot + 1) & (r->index_cap - 1))
		;
	r->index[slot] = (uint32_t)r->n_entries;
	return e;
}

static void add_name(struct hosts_parser *hp, const struct glued_addr *a, const char *s, size_t n)
{
	struct hosts_result *r = hp->out;
	struct hosts_addr *e;
	struct hosts_name *nm;
	char name[TABLE_NAME_MAX + 1], txt[ADDR_STRLEN];

	for (size_t i = 0; i < n; i++)
		name[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i];
	name[n] = '\0';
	e = entry_for(hp, a);
	if (!e)
		return;
	for (uint32_t i = e->first_name; i != UINT32_MAX; i = r->names[i].next)
		if (!strcmp(r->names[i].name, name))
			return; /* the same name again for the same address: harmless */
	if (e->n_names == TABLE_ENTRY_NAMES_MAX) {
		problem(hp, "too many names for %s (max %d): %s skipped",
			addr_str(a, txt, sizeof(txt)), TABLE_ENTRY_NAMES_MAX, name);
		return;
	}
	if (grow((void **)&r->names, &r->cap_names, r->n_names + 1, sizeof(*r->names))) {
		hp->err = -ENOMEM;
		return;
	}
	nm = &r->names[r->n_names];
	memcpy(nm->name, name, n + 1);
	nm->next = UINT32_MAX;
	if (e->last_name == UINT32_MAX)
		e->first_name = (uint32_t)r->n_names;
	else
		r->names[e->last_name].next = (uint32_t)r->n_names;
	e->last_name = (uint32_t)r->n_names;
	e->n_names++;
	r->n_names++;
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

bool hosts_result_has(const struct hosts_result *r, const struct glued_addr *a)
{
	if (!r->index_cap)
		return false;
	for (size_t slot = addr_hash(a) & (r->index_cap - 1); r->index[slot];
	     slot = (slot + 1) & (r->index_cap - 1))
		if (addr_eq(&r->addrs[r->index[slot] - 1].addr, a))
			return true;
	return false;
}

void hosts_result_entry(const struct hosts_result *r, size_t i, struct table_entry *e)
{
	const struct hosts_addr *a = &r->addrs[i];
	char txt[ADDR_STRLEN];

	memset(e, 0, sizeof(*e));
	snprintf(e->owner, sizeof(e->owner), "hosts:%s", addr_str(&a->addr, txt, sizeof(txt)));
	e->n_addrs = 1;
	e->addrs[0] = a->addr;
	for (uint32_t k = a->first_name; k != UINT32_MAX && e->n_names < TABLE_ENTRY_NAMES_MAX;
	     k = r->names[k].next)
		memcpy(e->names[e->n_names++], r->names[k].name, sizeof(e->names[0]));
}

void hosts_result_free(struct hosts_result *r)
{
	free(r->addrs);
	free(r->names);
	free(r->index);
	free(r->problems);
	memset(r, 0, sizeof(*r));
}
