/* Address parsing and matching; see addr.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"

int addr_parse(struct glued_addr *a, const char *s)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->b) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->b) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	memset(a, 0, sizeof(*a));
	return GLUED_EMALF;
}

static int port_parse(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return GLUED_EMALF;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end != '\0')
		return GLUED_EMALF;
	if (errno == ERANGE || v > 65535)
		return GLUED_ELIMIT;
	*port = (uint16_t)v;
	return 0;
}

int endpoint_parse(struct glued_endpoint *e, const char *s, uint16_t default_port)
{
	char host[ADDR_STRLEN + 1];
	const char *colon;
	size_t n;
	int err;

	memset(e, 0, sizeof(*e));
	e->port = default_port;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close)
			return GLUED_EMALF;
		n = (size_t)(close - s - 1);
		if (n >= sizeof(host))
			return GLUED_EMALF;
		memcpy(host, s + 1, n);
		host[n] = '\0';
		if (addr_parse(&e->addr, host) || e->addr.family != AF_INET6)
			return GLUED_EMALF;
		if (close[1] == '\0')
			return 0;
		if (close[1] != ':')
			return GLUED_EMALF;
		return port_parse(close + 2, &e->port);
	}
	colon = strchr(s, ':');
	if (colon && strchr(colon + 1, ':'))
		return addr_parse(&e->addr, s); /* bare IPv6 */
	n = colon ? (size_t)(colon - s) : strlen(s);
	if (n >= sizeof(host))
		return GLUED_EMALF;
	memcpy(host, s, n);
	host[n] = '\0';
	if (addr_parse(&e->addr, host) || e->addr.family != AF_INET)
		return GLUED_EMALF;
	if (!colon)
		return 0;
	err = port_parse(colon + 1, &e->port);
	return err;
}

int cidr_parse(struct glued_cidr *c, const char *s)
{
	char host[ADDR_STRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long v;
	char *end;
	unsigned max;

	memset(c, 0, sizeof(*c));
	if (n >= sizeof(host))
		return GLUED_EMALF;
	memcpy(host, s, n);
	host[n] = '\0';
	if (addr_parse(&c->addr, host))
		return GLUED_EMALF;
	max = c->addr.family == AF_INET ? 32 : 128;
	if (!slash) {
		c->prefix = (uint8_t)max;
		return 0;
	}
	if (slash[1] < '0' || slash[1] > '9')
		return GLUED_EMALF;
	v = strtoul(slash + 1, &end, 10);
	if (*end != '\0' || v > max)
		return GLUED_EMALF;
	c->prefix = (uint8_t)v;
	return 0;
}

bool addr_eq(const struct glued_addr *a, const struct glued_addr *b)
{
	return a->family == b->family && memcmp(a->b, b->b, 16) == 0;
}

bool addr_is_any(const struct glued_addr *a)
{
	static const uint8_t zero[16];
	return memcmp(a->b, zero, 16) == 0;
}

bool addr_is_loopback(const struct glued_addr *a)
{
	static const uint8_t v6lo[16] = { [15] = 1 };

	if (a->family == AF_INET)
		return a->b[0] == 127;
	return memcmp(a->b, v6lo, 16) == 0;
}

bool cidr_contains(const struct glued_cidr *c, const struct glued_addr *a)
{
	unsigned full, rem;

	if (c->addr.family != a->family)
		return false;
	full = c->prefix / 8;
	rem = c->prefix % 8;
	if (memcmp(c->addr.b, a->b, full) != 0)
		return false;
	if (rem) {
		uint8_t mask = (uint8_t)(0xff << (8 - rem));
		if ((c->addr.b[full] & mask) != (a->b[full] & mask))
			return false;
	}
	return true;
}

const char *addr_str(const struct glued_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family == AF_INET6 ? AF_INET6 : AF_INET, a->b, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

const char *endpoint_str(const struct glued_endpoint *e, char *buf, size_t len)
{
	char a[ADDR_STRLEN];

	addr_str(&e->addr, a, sizeof(a));
	if (e->addr.family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, e->port);
	else
		snprintf(buf, len, "%s:%u", a, e->port);
	return buf;
}

socklen_t endpoint_to_sockaddr(const struct glued_endpoint *e, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (e->addr.family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(e->port);
		memcpy(&sin->sin_addr, e->addr.b, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(e->port);
	memcpy(&sin6->sin6_addr, e->addr.b, 16);
	return sizeof(*sin6);
}

int endpoint_from_sockaddr(struct glued_endpoint *e, const struct sockaddr *sa, socklen_t len)
{
	memset(e, 0, sizeof(*e));
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		e->addr.family = AF_INET;
		memcpy(e->addr.b, &sin->sin_addr, 4);
		e->port = ntohs(sin->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			e->addr.family = AF_INET;
			memcpy(e->addr.b, (const uint8_t *)&sin6->sin6_addr + 12, 4);
		} else {
			e->addr.family = AF_INET6;
			memcpy(e->addr.b, &sin6->sin6_addr, 16);
		}
		e->port = ntohs(sin6->sin6_port);
		return 0;
	}
	return GLUED_EMALF;
}
