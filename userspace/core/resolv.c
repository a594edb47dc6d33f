/* resolv.conf parsing; see resolv.h. It owns which nameserver lines count.
 * It must never read the file or decide what to do with the stub: the
 * forwarder's loader does both.
 */
#include <string.h>

#include "core/resolv.h"

#define DNS_PORT 53

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

bool resolv_is_systemd_stub(const struct glued_addr *a)
{
	static const uint8_t stub[4] = {127, 0, 0, 53};

	return a->family == AF_INET && memcmp(a->b, stub, 4) == 0;
}

static void add_server(struct resolv_conf *rc, const struct glued_addr *a)
{
	for (size_t i = 0; i < rc->n_servers; i++)
		if (addr_eq(&rc->servers[i].addr, a))
			return;
	if (rc->n_servers == RESOLV_SERVERS_MAX) {
		rc->n_dropped++;
		return;
	}
	rc->servers[rc->n_servers].addr = *a;
	rc->servers[rc->n_servers].port = DNS_PORT;
	rc->n_servers++;
	if (resolv_is_systemd_stub(a))
		rc->systemd_stub = true;
}

static void skipped(struct resolv_conf *rc, unsigned line)
{
	if (!rc->n_skipped++)
		rc->first_skipped_line = line;
}

static void parse_line(struct resolv_conf *rc, const char *p, const char *end, unsigned line)
{
	static const char kw[] = "nameserver";
	const size_t kwlen = sizeof(kw) - 1;
	char buf[ADDR_STRLEN + 1];
	struct glued_addr a;
	const char *tok;
	size_t n;

	while (p < end && is_blank(*p))
		p++;
	/* glibc reads the keyword at the start of the line, then blanks. */
	if ((size_t)(end - p) < kwlen || memcmp(p, kw, kwlen) != 0 ||
	    (p + kwlen < end && !is_blank(p[kwlen])))
		return;
	p += kwlen;
	while (p < end && is_blank(*p))
		p++;
	tok = p;
	while (p < end && !is_blank(*p) && *p != '#' && *p != ';')
		p++;
	n = (size_t)(p - tok);
	if (n == 0 || n >= sizeof(buf) || memchr(tok, '\0', n)) {
		skipped(rc, line);
		return;
	}
	memcpy(buf, tok, n);
	buf[n] = '\0';
	if (addr_parse(&a, buf)) {
		skipped(rc, line); /* includes scoped fe80::1%eth0, see resolv.h */
		return;
	}
	add_server(rc, &a);
}

void resolv_parse(const char *text, size_t len, struct resolv_conf *out)
{
	const char *p = text, *end = text + len;
	unsigned line = 0;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		if (!eol)
			eol = end;
		line++;
		if (*p != '#' && *p != ';')
			parse_line(out, p, eol, line);
		p = eol < end ? eol + 1 : end;
	}
}
