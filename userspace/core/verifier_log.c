/* Reading the verifier's reason out of libbpf's load log (see
 * verifier_log.h). Lines are classified by their shape, never by kernel
 * version: an instruction line ("165: (0f) r2 += r1", state appended after
 * ';' on newer kernels) restarts the message; source lines ("; ..."),
 * register-state lines ("10: R1=..."), precision backtracking
 * ("mark_precise: ...") and the closing statistics are not part of it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/verifier_log.h"

static const char BEGIN_MARK[] = "-- BEGIN PROG LOAD LOG --";
static const char END_MARK[] = "-- END PROG LOAD LOG --";

/* The last occurrence of needle in [p, end), or NULL. */
static const char *find_last(const char *p, const char *end, const char *needle)
{
	size_t n = strlen(needle);
	const char *hit = NULL;

	while ((size_t)(end - p) >= n) {
		const char *q = memchr(p, needle[0], (size_t)(end - p) - n + 1);
		if (!q)
			break;
		if (memcmp(q, needle, n) == 0)
			hit = q;
		p = q + 1;
	}
	return hit;
}

static const char *find_first(const char *p, const char *end, const char *needle)
{
	size_t n = strlen(needle);

	while ((size_t)(end - p) >= n) {
		const char *q = memchr(p, needle[0], (size_t)(end - p) - n + 1);
		if (!q)
			break;
		if (memcmp(q, needle, n) == 0)
			return q;
		p = q + 1;
	}
	return NULL;
}

static bool starts(const char *p, const char *end, const char *prefix)
{
	size_t n = strlen(prefix);

	return (size_t)(end - p) >= n && memcmp(p, prefix, n) == 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* "165: (0f) r2 += r1": digits, ": (". Sets *insn. */
static bool insn_line(const char *p, const char *end, long *insn)
{
	long v = 0;
	const char *q = p;

	while (q < end && is_digit(*q) && v < 100000000)
		v = v * 10 + (*q++ - '0');
	if (q == p || !starts(q, end, ": ("))
		return false;
	*insn = v;
	return true;
}

/* Lines that are the verifier's bookkeeping, not its reason. */
static bool noise_line(const char *p, const char *end)
{
	static const char *const prefixes[] = {
	    ";",	  "mark_precise:", "verification time", "stack depth",
	    "processed ", "func#",	   "Validating ",
	};
	const char *q = p;

	if (p == end)
		return true;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(*prefixes); i++)
		if (starts(p, end, prefixes[i]))
			return true;
	/* "frame1: R1=..." (state in a subprogram) */
	if (starts(p, end, "frame") && end - p > 6 && is_digit(p[5]))
		return true;
	/* "from 12 to 14: R0=..." (a branch taken) */
	if (starts(p, end, "from ") && end - p > 5 && is_digit(p[5]))
		return true;
	/* "10: R1=pkt(...)" or "10:" alone: register state at an instruction */
	while (q < end && is_digit(*q))
		q++;
	return q > p && q < end && *q == ':' && !starts(q, end, ": (");
}

static void msg_append(struct verifier_reason *r, size_t *off, const char *p, const char *end)
{
	size_t room, n = (size_t)(end - p);

	if (*off && *off + 2 < sizeof(r->msg)) {
		memcpy(r->msg + *off, "; ", 2);
		*off += 2;
	}
	room = sizeof(r->msg) - 1 - *off;
	if (n > room)
		n = room;
	for (size_t i = 0; i < n; i++) /* keep the sentence printable */
		r->msg[*off + i] = (p[i] >= 0x20 && p[i] < 0x7f) ? p[i] : '?';
	*off += n;
	r->msg[*off] = 0;
}

static void prog_name(struct verifier_reason *r, const char *line, const char *mark)
{
	const char *q = find_last(line, mark, "prog '"), *e;
	size_t n;

	r->prog[0] = 0;
	if (!q)
		return;
	q += 6;
	e = memchr(q, '\'', (size_t)(mark - q));
	if (!e)
		return;
	n = (size_t)(e - q);
	if (n >= sizeof(r->prog))
		n = sizeof(r->prog) - 1;
	memcpy(r->prog, q, n);
	r->prog[n] = 0;
}

int verifier_log_reason(const char *text, size_t len, struct verifier_reason *r)
{
	const char *end = text + len, *begin, *line, *body, *body_end, *p;
	size_t off = 0;

	memset(r, 0, sizeof(*r));
	r->insn = -1;
	begin = find_last(text, end, BEGIN_MARK);
	if (!begin)
		return GLUED_ENOTFOUND;
	line = begin;
	while (line > text && line[-1] != '\n')
		line--;
	prog_name(r, line, begin);
	body = begin + sizeof(BEGIN_MARK) - 1;
	body_end = find_first(body, end, END_MARK);
	if (!body_end)
		body_end = end; /* cut short: read what is there */
	for (p = body; p < body_end;) {
		const char *nl = memchr(p, '\n', (size_t)(body_end - p));
		const char *le = nl ? nl : body_end;
		const char *s = p, *e = le;
		long insn;

		p = nl ? nl + 1 : body_end;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		if (insn_line(s, e, &insn)) {
			r->insn = insn;
			off = 0;
			r->msg[0] = 0;
			continue;
		}
		if (noise_line(s, e))
			continue;
		msg_append(r, &off, s, e);
	}
	return off ? 0 : GLUED_ENOTFOUND;
}

int verifier_reason_str(const struct verifier_reason *r, char *buf, size_t n)
{
	char at[32] = "";

	if (r->insn >= 0)
		snprintf(at, sizeof(at), " at insn %ld", r->insn);
	return snprintf(buf, n, "the kernel verifier rejected %s%s: %s",
			r->prog[0] ? r->prog : "a program", at, r->msg);
}
