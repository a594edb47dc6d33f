/* Internals of the gossip edge shared by its two files: io/gossip.c (the
 * socket, sealing and opening, the core's plumbing, bootstrap peers, life
 * cycle) and io/gossip_lan.c (the LAN: the beacon and the host's interface
 * prefixes that the default secret admits). Nothing else includes this.
 */
#ifndef GLUED_IO_GOSSIP_INT_H
#define GLUED_IO_GOSSIP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/gossip_admit.h"
#include "io/gossip.h"
#include "io/identity.h"
#include "io/resolver.h"
#include "lib/log.h"

#define SEALED_MAX (GOSSIP_DGRAM_MAX + CRYPTO_OVERHEAD)
#define RX_BUF 2048    /* larger than any datagram we accept */
#define SEND_SLOTS 256 /* sealed datagrams in flight */
#define OUT_BATCH 16
#define BEACON_INTERVAL_MS 2000
#define BEACON_RECONTACT_MS 10000 /* a beaconing non-member is contacted at most this often */
#define BEACON_PEERS_MAX 256
#define BEACON_IFS_MAX 16
#define BEACON_LEN 20
#define RESOLVE_RETRY_MS 10000
#define RESOLVE_PENDING_MAX 4	/* bootstrap host names looked up at once */
#define RESOLVE_TIMEOUT_MS 5000 /* then the lookup counts as failed, retried later */
#define REPLAY_SENDERS 4096
#define REPLAY_WINDOWS 1024
#define LOCAL_RESCAN_MS 1000 /* a source outside the known subnets rescans at most this often */

struct edge_rx {
	struct gossip_edge *e;
	int fd;
	struct loop_op op;
	struct msghdr msg;
	struct iovec iov;
	struct sockaddr_storage ss;
	uint8_t buf[RX_BUF];
};

struct send_slot {
	struct loop_op op;
	struct gossip_edge *e;
	bool busy;
	struct msghdr msg;
	struct iovec iov;
	struct sockaddr_storage ss;
	union {
		char buf[64];	/* >= CMSG_SPACE(sizeof(struct in6_pktinfo)) = 40 */
		uint64_t align; /* cmsghdr alignment */
	} cmsg;
	uint8_t buf[SEALED_MAX];
};

/* A configured peer still waiting: a host name that did not resolve yet, or
 * a bare node ID waiting for its beacon. */
struct pending_peer {
	struct config_peer p;
	bool has_id;
	uint8_t id[GOSSIP_ID_LEN];
	bool done;
	bool resolving;	     /* a lookup is out (io/resolver) */
	bool failure_logged; /* "cannot resolve" said once */
};

struct beacon_peer {
	uint8_t id[GOSSIP_ID_LEN];
	uint64_t contacted_ms;
};

struct gossip_edge {
	struct loop *loop;
	const struct glued_config *cfg;
	struct table *table;
	struct identity ident;
	/* The keyring, one per GLUED_CLUSTER_SECRET entry: [0] seals, any opens. */
	struct crypto_key keys[CONFIG_SECRETS_MAX];    /* cluster keys: beacons and hellos */
	struct crypto_pairs pairs[CONFIG_SECRETS_MAX]; /* pair keys: to a known node ID */
	size_t n_keys;
	/* The default secret is (one of) the keys: gossip only from here. */
	bool lan_only;
	struct gossip_local local;
	uint64_t local_scanned_ms;
	struct crypto_replay replay; /* of pair-key datagrams only: only the sender moves it */
	uint64_t seq;
	struct gossip *core;

	int family;
	struct glued_endpoint bind;
	struct edge_rx rx;  /* the gossip socket */
	struct edge_rx brx; /* beacon socket when bound to one address, fd -1 otherwise */
	uint8_t pt[RX_BUF]; /* opened plaintext */
	struct send_slot *slots;
	size_t next_slot;
	struct gossip_out out[OUT_BATCH];
	struct gossip_member_info *members; /* GOSSIP_MEMBERS_MAX, for beacon decisions */

	struct loop_timer core_timer, beacon_timer, resolve_timer;
	struct loop_timer kick_timer; /* pump soon: a local record changed */
	struct glued_addr group;
	int ifs[BEACON_IFS_MAX];
	size_t n_ifs;
	struct beacon_peer bpeers[BEACON_PEERS_MAX];
	size_t n_bpeers;
	struct pending_peer pend[CONFIG_PEERS_MAX];
	size_t n_pend;
	struct resolver *res; /* host names, off the loop */
	uint8_t auth_logged[GOSSIP_BOOTSTRAP_MAX]
			   [GOSSIP_ID_LEN]; /* "Authenticated with" said once */
	size_t n_auth_logged;

	struct log_ratelimit drop_rl, tx_rl;
	struct gossip_edge_stats st;
	bool started, left;
};

/* io/gossip.c */
void edge_pump(struct gossip_edge *e);
void edge_send_sealed(struct gossip_edge *e, const struct glued_endpoint *to, uint8_t kind,
		      const uint8_t *to_id, const uint8_t *pt, size_t len, int fd, int ifindex);
int edge_add_peer(struct gossip_edge *e, const struct glued_endpoint *ep, const uint8_t *id,
		  bool bootstrap);
void edge_log_bootstrap_auth(struct gossip_edge *e, const uint8_t *id);
void edge_drop_log(struct gossip_edge *e, const struct glued_endpoint *from, const char *why);
size_t edge_resolve_pending(struct gossip_edge *e);

/* io/gossip_lan.c */
void edge_beacon_scan(struct gossip_edge *e);
void edge_beacon_send(struct gossip_edge *e);
void edge_on_beacon_timer(struct loop *l, struct loop_timer *t, uint64_t now_ms GLUED_UNUSED);
bool edge_is_alive_member(struct gossip_edge *e, const uint8_t *id);
void edge_beacon_recv(struct gossip_edge *e, const struct glued_endpoint *from, const uint8_t *id,
		      const uint8_t *pt, size_t len);
void edge_local_scan(struct gossip_edge *e);
bool edge_source_local(struct gossip_edge *e, const struct glued_addr *a);

#endif
