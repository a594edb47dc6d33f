/* The gossip edge's LAN side (see gossip_int.h): the sealed multicast
 * beacon that lets nodes on one segment find each other with nothing
 * configured, and the host's interface prefixes, which bound where gossip is
 * accepted from while the default secret is in use. Decides nothing about
 * membership: a beacon from a node the core does not know becomes a peer to
 * contact, nothing more.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "io/gossip_int.h"
#include "lib/clock.h"
#include "lib/wire.h"

/* --- beacon -------------------------------------------------------------------------------- */

static bool beacon_iface_ok(const struct ifaddrs *ifa)
{
	static const char *const skip[] = {"docker", "br-", "veth", "virbr", "cni", "flannel"};

	if (!(ifa->ifa_flags & IFF_UP) || !(ifa->ifa_flags & IFF_MULTICAST) ||
	    (ifa->ifa_flags & IFF_LOOPBACK))
		return false;
	for (size_t i = 0; i < sizeof(skip) / sizeof(*skip); i++)
		if (strncmp(ifa->ifa_name, skip[i], strlen(skip[i])) == 0)
			return false;
	return true;
}

/* The interfaces beacons go out of (and are listened for on): up, multicast,
 * not loopback or a container bridge, with an address of our family (the
 * bound one, if the bind address is specific). Joins the group on each one
 * new since the last scan (interfaces come and go: a link down and up). */
void edge_beacon_scan(struct gossip_edge *e)
{
	struct ifaddrs *ifas, *ifa;
	int fd = e->brx.fd >= 0 ? e->brx.fd : e->rx.fd;

	if (getifaddrs(&ifas) < 0)
		return;
	e->n_ifs = 0;
	for (ifa = ifas; ifa; ifa = ifa->ifa_next) {
		struct glued_endpoint a;
		int idx;
		bool dup = false;

		if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != e->family ||
		    !beacon_iface_ok(ifa))
			continue;
		if (endpoint_from_sockaddr(&a, ifa->ifa_addr,
					   e->family == AF_INET ? sizeof(struct sockaddr_in)
								: sizeof(struct sockaddr_in6)))
			continue;
		if (!addr_is_any(&e->bind.addr) && !addr_eq(&a.addr, &e->bind.addr))
			continue;
		idx = (int)if_nametoindex(ifa->ifa_name);
		for (size_t i = 0; i < e->n_ifs; i++)
			dup |= e->ifs[i] == idx;
		if (idx <= 0 || dup || e->n_ifs == BEACON_IFS_MAX)
			continue;
		e->ifs[e->n_ifs++] = idx;
		if (e->family == AF_INET) {
			struct ip_mreqn m = {.imr_ifindex = idx};

			memcpy(&m.imr_multiaddr, e->group.b, 4);
			(void)setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m));
		} else {
			struct ipv6_mreq m = {.ipv6mr_interface = (unsigned)idx};

			memcpy(&m.ipv6mr_multiaddr, e->group.b, 16);
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof(m));
		}
	}
	freeifaddrs(ifas);
}

void edge_beacon_send(struct gossip_edge *e)
{
	uint8_t pt[BEACON_LEN];
	struct wire_out w = wire_out_init(pt, sizeof(pt));
	struct glued_endpoint to = {.addr = e->group, .port = e->bind.port};

	wire_put_u8(&w, 1);
	if (addr_is_any(&e->bind.addr)) {
		wire_put_u8(&w, 0);
		wire_put_bytes(&w, (const uint8_t[16]){0}, 16);
	} else {
		wire_put_u8(&w, e->bind.addr.family == AF_INET ? 4 : 6);
		wire_put_bytes(&w, e->bind.addr.b, 16);
	}
	wire_put_u16(&w, e->bind.port);
	edge_beacon_scan(e);
	for (size_t i = 0; i < e->n_ifs; i++) {
		edge_send_sealed(e, &to, CRYPTO_KIND_BEACON, NULL, pt, wire_out_len(&w), e->rx.fd,
				 e->ifs[i]);
		e->st.beacons_sent++;
	}
}

void edge_on_beacon_timer(struct loop *l, struct loop_timer *t, uint64_t now_ms GLUED_UNUSED)
{
	struct gossip_edge *e = t->ctx;

	edge_beacon_send(e);
	if (e->lan_only)
		edge_local_scan(e);
	loop_timer_arm_in(l, t, BEACON_INTERVAL_MS);
}

bool edge_is_alive_member(struct gossip_edge *e, const uint8_t *id)
{
	size_t n = gossip_members(e->core, e->members, GOSSIP_MEMBERS_MAX);

	if (n > GOSSIP_MEMBERS_MAX)
		n = GOSSIP_MEMBERS_MAX;
	for (size_t i = 0; i < n; i++)
		if (memcmp(e->members[i].id, id, GOSSIP_ID_LEN) == 0)
			return e->members[i].state == GOSSIP_ALIVE ||
			       e->members[i].state == GOSSIP_SUSPECT;
	return false;
}

/* An authenticated beacon: the sender's endpoint, then a contact if it is
 * a bare-ID bootstrap peer or not yet an alive member. */
void edge_beacon_recv(struct gossip_edge *e, const struct glued_endpoint *from, const uint8_t *id,
		      const uint8_t *pt, size_t len)
{
	struct wire w = wire_init(pt, len);
	struct glued_endpoint ep = {0};
	uint64_t now = loop_now_ms(e->loop);
	struct beacon_peer *bp = NULL;
	uint8_t ver, fam;
	char hex[IDENTITY_ID_HEX + 1], s[ENDPOINT_STRLEN];

	ver = wire_u8(&w);
	fam = wire_u8(&w);
	wire_bytes(&w, ep.addr.b, 16);
	ep.port = wire_u16(&w);
	if (w.err || ver != 1 || ep.port == 0 || (fam != 0 && fam != 4 && fam != 6)) {
		e->st.rx_core_rejected++;
		return;
	}
	e->st.beacons_rcvd++;
	if (fam == 0)
		ep.addr = from->addr;
	else
		ep.addr.family = fam == 4 ? AF_INET : AF_INET6;
	if (fam == 4)
		memset(ep.addr.b + 4, 0, 12);

	for (size_t i = 0; i < e->n_pend; i++) {
		struct pending_peer *p = &e->pend[i];

		if (p->done || !p->has_id || p->p.host[0] || memcmp(p->id, id, GOSSIP_ID_LEN) != 0)
			continue;
		p->done = true;
		identity_hex(hex, id);
		log_info("gossip: bootstrap peer %s found at %s by its beacon", hex,
			 endpoint_str(&ep, s, sizeof(s)));
		/* Already a member (it contacted us first): this beacon, which
		 * opened under the cluster key, is the authenticated contact. */
		if (edge_is_alive_member(e, id))
			edge_log_bootstrap_auth(e, id);
		(void)edge_add_peer(e, &ep, id, true);
		return;
	}
	for (size_t i = 0; i < e->n_bpeers; i++)
		if (memcmp(e->bpeers[i].id, id, GOSSIP_ID_LEN) == 0)
			bp = &e->bpeers[i];
	if (!bp) {
		if (e->n_bpeers < BEACON_PEERS_MAX) {
			bp = &e->bpeers[e->n_bpeers++];
		} else { /* the least recently contacted one makes room */
			bp = &e->bpeers[0];
			for (size_t i = 1; i < e->n_bpeers; i++)
				if (e->bpeers[i].contacted_ms < bp->contacted_ms)
					bp = &e->bpeers[i];
		}
		memcpy(bp->id, id, GOSSIP_ID_LEN);
		bp->contacted_ms = 0;
	} else if (now - bp->contacted_ms < BEACON_RECONTACT_MS) {
		return;
	}
	bp->contacted_ms = now;
	if (edge_is_alive_member(e, id))
		return;
	identity_hex(hex, id);
	log_debug("gossip: beacon from %.16s at %s: contacting it", hex,
		  endpoint_str(&ep, s, sizeof(s)));
	(void)edge_add_peer(e, &ep, id, false);
}

/* The host's interface prefixes (every interface, loopback included: a
 * container bridge is directly connected too), for the default-secret
 * filter. Rescanned with every beacon and, at most once per
 * LOCAL_RESCAN_MS, when a datagram comes from outside them (an address
 * just added). */
void edge_local_scan(struct gossip_edge *e)
{
	struct ifaddrs *ifas, *ifa;

	if (getifaddrs(&ifas) < 0)
		return;
	gossip_local_reset(&e->local);
	for (ifa = ifas; ifa; ifa = ifa->ifa_next) {
		struct glued_endpoint a, m;
		socklen_t sl;
		unsigned plen = 0;

		if (!ifa->ifa_addr || !ifa->ifa_netmask || !(ifa->ifa_flags & IFF_UP) ||
		    (ifa->ifa_addr->sa_family != AF_INET && ifa->ifa_addr->sa_family != AF_INET6))
			continue;
		sl = ifa->ifa_addr->sa_family == AF_INET ? sizeof(struct sockaddr_in)
							 : sizeof(struct sockaddr_in6);
		if (endpoint_from_sockaddr(&a, ifa->ifa_addr, sl) ||
		    endpoint_from_sockaddr(&m, ifa->ifa_netmask, sl))
			continue;
		for (size_t i = 0; i < 16; i++)
			plen += (unsigned)__builtin_popcount(m.addr.b[i]);
		(void)gossip_local_add(&e->local, &a.addr, plen);
	}
	freeifaddrs(ifas);
	e->local_scanned_ms = loop_now_ms(e->loop);
}

bool edge_source_local(struct gossip_edge *e, const struct glued_addr *a)
{
	if (gossip_local_contains(&e->local, a))
		return true;
	if (loop_now_ms(e->loop) - e->local_scanned_ms < LOCAL_RESCAN_MS)
		return false;
	edge_local_scan(e);
	return gossip_local_contains(&e->local, a);
}
