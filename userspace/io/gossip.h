/* The gossip edge: the UDP socket on GLUED_GOSSIP_BIND, sealing and opening
 * of every datagram (core/crypto), the LAN multicast beacon, bootstrap peers
 * (host names looked up off the loop by io/resolver), and the timers that
 * drive the protocol core (core/gossip). It turns completions into core
 * calls and core output into sealed sendmsg submissions; it makes no
 * protocol decision and never parses a plaintext byte before it
 * authenticated.
 *
 * The beacon: every BEACON_INTERVAL_MS (and at start) a datagram sealed
 * with kind CRYPTO_KIND_BEACON goes to 239.255.79.47 (IPv4 bind) or
 * ff02::7947 (IPv6 bind) on the gossip port, out of every multicast-capable
 * interface that is up (not loopback, not a Docker bridge or veth). Its
 * plaintext is u8 version (1), then the sender's gossip endpoint (u8 family
 * 0/4/6, 16 address bytes, u16 port; family 0 = "my source address"). A node
 * that hears a beacon from a node ID that is not an alive member contacts
 * it, and a bare node ID in GLUED_BOOTSTRAP_PEERS becomes a bootstrap peer
 * at the address its beacon came from.
 */
#ifndef GLUED_IO_GOSSIP_H
#define GLUED_IO_GOSSIP_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/crypto.h"
#include "core/gossip.h"
#include "core/table.h"
#include "io/loop.h"
#include "io/resolver.h"

#define GOSSIP_EDGE_ERR_LEN 512
#define GOSSIP_BEACON_GROUP4 "239.255.79.47"
#define GOSSIP_BEACON_GROUP6 "ff02::7947"

struct gossip_edge;

/* Counters for the control API and metrics. */
struct gossip_edge_stats {
	uint64_t rx_dgrams, rx_bytes;  /* datagrams received (before opening) */
	uint64_t tx_dgrams, tx_bytes;  /* sealed datagrams handed to the kernel */
	uint64_t rx_auth_failed;       /* did not open: wrong key, tampered */
	uint64_t rx_replayed;	       /* opened but seen before / too old / old epoch */
	uint64_t rx_envelope_bad;      /* short, not ours, another version */
	uint64_t rx_self;	       /* our own datagrams (multicast loop) */
	uint64_t rx_core_rejected;     /* opened but refused by the core */
	uint64_t rx_not_local;	       /* default secret: source not on a connected subnet */
	uint64_t rx_errors, tx_errors; /* socket errors */
	uint64_t tx_queue_full;	       /* sealed datagrams dropped: no send slot */
	uint64_t beacons_sent, beacons_rcvd;
	uint64_t resolve_failures;	/* bootstrap host names that did not resolve */
	struct resolver_stats resolver; /* the lookups of those names (io/resolver) */
	struct crypto_replay_stats replay;
	struct gossip_stats core;
};

/* Load (or create) the identity in cfg->state_dir, derive the cluster key,
 * build the core over table t. NULL with one line in err on failure. */
struct gossip_edge *gossip_edge_new(struct loop *l, const struct glued_config *cfg, struct table *t,
				    char *err, size_t errlen) GLUED_MUST_CHECK_PTR;
/* Bind the socket, join the beacon group, log the endpoint line, contact the
 * bootstrap peers, send the first beacon, arm the timers. 0 or -errno (with
 * one line in err). */
int gossip_edge_start(struct gossip_edge *e, char *err, size_t errlen) GLUED_MUST_CHECK;
/* SIGTERM: announce the leave and send it now (synchronously), before the
 * loop stops. Idempotent. */
void gossip_edge_leave(struct gossip_edge *e);
void gossip_edge_free(struct gossip_edge *e);
/* The ctx to register the core's gossip_on_table_entry with (the core). */
void *gossip_edge_core_observer_ctx(struct gossip_edge *e);
/* The table entry observer (ctx: the edge) that sends a change of this
 * node's records at once instead of at the next round; register it after
 * the core's gossip_on_table_entry, whose state it flushes. */
void gossip_edge_on_table_entry(void *ctx, uint32_t origin, const char *owner);

void gossip_edge_get_stats(const struct gossip_edge *e, struct gossip_edge_stats *st);
/* The core, for read-only queries (gossip_members, gossip_self). */
const struct gossip *gossip_edge_core(const struct gossip_edge *e);
/* This node's ID in hex (64 chars + NUL). */
const char *gossip_edge_node_id(const struct gossip_edge *e);

/* Is the default secret in use (gossip only from directly connected
 * subnets)? How many secrets in the keyring? */
bool gossip_edge_lan_only(const struct gossip_edge *e);
size_t gossip_edge_keys(const struct gossip_edge *e);

/* The address the gossip socket is bound to (GLUED_GOSSIP_BIND). */
const struct glued_endpoint *gossip_edge_bind(const struct gossip_edge *e);

#endif
