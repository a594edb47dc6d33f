/* Who may talk to the gossip socket at all, decided before a datagram is
 * opened. Pure: the edge feeds it the host's interface prefixes (getifaddrs,
 * rescanned as they change) and asks about each source address.
 *
 * With the public default secret (GLUED_CLUSTER_SECRET unset) the cluster
 * key is known to anyone, so the key cannot tell a neighbour from a stranger
 * on the internet: gossip is then accepted only from directly connected
 * subnets (the prefixes of the host's own interface addresses) and loopback.
 * That keeps the zero-config promise (two hosts on one LAN find each other)
 * and keeps the open cluster to the LAN (docs/security.md, "The default
 * secret").
 */
#ifndef GLUED_CORE_GOSSIP_ADMIT_H
#define GLUED_CORE_GOSSIP_ADMIT_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/addr.h"

#define GOSSIP_LOCAL_MAX 64 /* interface prefixes remembered */

struct gossip_local {
	struct glued_cidr net[GOSSIP_LOCAL_MAX];
	size_t n;
	size_t dropped; /* prefixes beyond GOSSIP_LOCAL_MAX at the last fill */
};

/* Forget every prefix (before a rescan). */
void gossip_local_reset(struct gossip_local *l);
/* Add the subnet of interface address a with prefix length plen (the host
 * bits are cleared; a duplicate is ignored). 0, -EINVAL (family or length
 * out of range) or GLUED_ELIMIT (full: counted in dropped). */
int gossip_local_add(struct gossip_local *l, const struct glued_addr *a, unsigned plen);
/* Is a loopback or inside one of the prefixes? A v4-mapped IPv6 address is
 * looked up as the IPv4 address it carries. */
bool gossip_local_contains(const struct gossip_local *l, const struct glued_addr *a);

#endif
