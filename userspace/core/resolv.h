/* resolv.conf(5) parsing: the nameserver lines of /etc/resolv.conf turned
 * into upstream endpoints for the forwarder.
 *
 * Only `nameserver ADDR` lines matter; every other keyword (search, domain,
 * options timeout:/attempts:, sortlist) is ignored, as are comments ('#' or
 * ';' at the start of a line). Port is always 53. Scoped IPv6 addresses
 * (fe80::1%eth0) are skipped and counted: an endpoint here has no scope ID,
 * and without one a link-local address cannot be reached. Duplicates are
 * kept once. Pure core: no I/O, no logging, no allocation.
 */
#ifndef GLUED_CORE_RESOLV_H
#define GLUED_CORE_RESOLV_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/addr.h"

#define RESOLV_SERVERS_MAX 8

struct resolv_conf {
	size_t n_servers;
	struct glued_endpoint servers[RESOLV_SERVERS_MAX]; /* in file order, port 53 */
	bool systemd_stub;	     /* names 127.0.0.53: read /run/systemd/resolve/resolv.conf */
	size_t n_skipped;	     /* nameserver lines with a bad or scoped address */
	unsigned first_skipped_line; /* 1-based line of the first of them, 0 if none */
	size_t n_dropped;	     /* valid servers beyond RESOLV_SERVERS_MAX */
};

/* Parse `len` bytes (need not be NUL-terminated). Never fails: a file
 * without usable servers gives n_servers == 0. */
void resolv_parse(const char *text, size_t len, struct resolv_conf *out);

/* True if a is the systemd-resolved stub listener 127.0.0.53. */
bool resolv_is_systemd_stub(const struct glued_addr *a);

#endif
