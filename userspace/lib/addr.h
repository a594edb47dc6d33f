/* Addresses, endpoints and CIDR prefixes, with parsing and formatting.
 *
 * Pure: no I/O, no allocation. struct glued_addr holds an IPv4 or IPv6
 * address in network byte order; unused bytes are always zero so two equal
 * addresses compare equal with memcmp.
 */
#ifndef GLUED_LIB_ADDR_H
#define GLUED_LIB_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/err.h"

struct glued_addr {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t _pad[3];
	uint8_t b[16]; /* IPv4 in b[0..3], rest zero */
};

struct glued_endpoint {
	struct glued_addr addr;
	uint16_t port; /* host order */
};

struct glued_cidr {
	struct glued_addr addr;
	uint8_t prefix; /* 0..32 or 0..128 */
};

#define ADDR_STRLEN 46	/* INET6_ADDRSTRLEN */
#define ENDPOINT_STRLEN 56 /* "[v6]:65535" */

/* "10.0.0.1", "fd00::1". 0 or GLUED_EMALF. */
int addr_parse(struct glued_addr *a, const char *s) GLUED_MUST_CHECK;
/* "ip", "ip:port", "[v6]:port", "v6" (no port). A missing port gives
 * default_port. Errors: GLUED_EMALF (bad address), GLUED_ELIMIT (port out of
 * range). */
int endpoint_parse(struct glued_endpoint *e, const char *s, uint16_t default_port) GLUED_MUST_CHECK;
/* "10.0.0.0/8", "fd00::/8", bare address = host prefix. */
int cidr_parse(struct glued_cidr *c, const char *s) GLUED_MUST_CHECK;

bool addr_eq(const struct glued_addr *a, const struct glued_addr *b);
bool addr_is_any(const struct glued_addr *a);
bool addr_is_loopback(const struct glued_addr *a);
bool cidr_contains(const struct glued_cidr *c, const struct glued_addr *a);

/* Text forms into caller buffers (ADDR_STRLEN / ENDPOINT_STRLEN). */
const char *addr_str(const struct glued_addr *a, char *buf, size_t len);
const char *endpoint_str(const struct glued_endpoint *e, char *buf, size_t len);

/* Conversions to and from sockaddr (v4-mapped v6 is unmapped to v4). */
socklen_t endpoint_to_sockaddr(const struct glued_endpoint *e, struct sockaddr_storage *ss);
int endpoint_from_sockaddr(struct glued_endpoint *e, const struct sockaddr *sa, socklen_t len);

#endif
