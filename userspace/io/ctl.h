/* The control API: HTTP with JSON bodies on a unix socket, for gluedctl and
 * scripts, served on the event loop's own thread (io/http).
 *
 * It reads the daemon's parts (table, DNS server, forwarder, sources, and
 * the kernel fast path and the cluster when they run) through struct
 * ctl_parts and never changes them: every endpoint is a GET. The optional
 * parts are plugged in by pointer (struct ctl_fastpath, struct ctl_gossip),
 * main.c sets them when they started, and the documents say when one is
 * missing ("absent", null). The same parts feed io/metrics, through the same
 * counter snapshot (io/counters). It never decides anything about DNS:
 * /v1/lookup runs the real answerer on a synthetic query.
 *
 *   GET /v1/status           version, node, uptime, Docker, attach points, upstreams
 *   GET /v1/names            every record: name, addresses, origin node, owner, age
 *   GET /v1/peers            cluster members, this node first (none without a cluster)
 *   GET /v1/stats            every counter
 *   GET /v1/lookup?name=N    how N would be answered, and by which path
 */
#ifndef GLUED_IO_CTL_H
#define GLUED_IO_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/table.h"
#include "glued/abi.h"
#include "io/counters.h"
#include "io/dns_server.h"
#include "io/forwarder.h"
#include "io/loop.h"
#include "io/sources.h"
#include "lib/addr.h"
#include "lib/err.h"

/* --- optional parts --------------------------------------------------------------- */

struct ctl_attach {
	char ifname[16]; /* "docker0", "lo", "eth0" */
	char hook[8];	 /* "xdp" or "tc" */
	char mode[16];	 /* "native", "generic", "tcx", "clsact", ... */
	bool adopted;	 /* taken over from the glued that ran before */
};

/* The kernel fast path, as the control API sees it. Every callback runs on
 * the loop thread; ctx is the fast path's own state. */
struct ctl_fastpath {
	void *ctx;
	/* One line for people: "active", "off (GLUED_XDP=off)", "unavailable: why". */
	const char *(*state)(void *ctx);
	/* Per-CPU counters summed, indexed by enum glued_stat. 0 or a negative code. */
	int (*counters)(void *ctx, uint64_t out[GLUED_STAT_MAX]);
	/* Every hook held now, pinned or not; returns how many were written (<= max). */
	size_t (*attach_points)(void *ctx, struct ctl_attach *out, size_t max);
	/* Does the kernel names map hold name[0..len)? 1, 0 or a negative code. */
	int (*map_has)(void *ctx, const char *name, size_t len);
	/* The container fast path (may be NULL): glued_ctr_stats summed (0 or a
	 * negative code); its counters and each container on the network (fn
	 * may be NULL); "" when on, else why not. */
	int (*ctr_counters)(void *ctx, uint64_t out[GLUED_STAT_MAX]);
	void (*containers)(void *ctx, struct ctr_fast_stats *st,
			   void (*fn)(void *fctx, const struct ctr_fast_view *v), void *fctx);
	const char *(*containers_why_off)(void *ctx);
};

struct ctl_member {
	char node_id[CONFIG_NODE_ID_HEX + 1];
	char state[16]; /* "alive", "suspect", "dead", "left" */
	uint64_t incarnation;
	struct glued_endpoint addr;
	uint64_t last_contact_ms; /* clock_now_ms() of the last datagram from it; 0 = never */
	uint32_t origin;	  /* table origin of its records */
	bool self;
};

/* The cluster, as the control API sees it (loop thread). */
struct ctl_gossip {
	void *ctx;
	/* This node's ID (64 hex). */
	const char *(*node_id)(void *ctx);
	/* Members, self included; returns how many were written (<= max). */
	size_t (*members)(void *ctx, struct ctl_member *out, size_t max);
	/* Counters, named; returns how many were written (<= max). */
	size_t (*counters)(void *ctx, struct counter_value *out, size_t max);
	/* Node ID of a table origin (0 is this node), or NULL when unknown. */
	const char *(*origin_node)(void *ctx, uint32_t origin);
};

/* What the control API and metrics read. main.c owns it; fastpath and
 * gossip may be set (or cleared) at any time on the loop thread. */
struct ctl_parts {
	const struct glued_config *cfg;
	const struct table *table;
	struct dns_server *dns;
	struct forwarder *fwd;
	struct sources *sources;
	uint64_t start_ms;		     /* clock_now_ms() at start, for uptime */
	int64_t start_unix_s;		     /* wall clock at start */
	const struct ctl_fastpath *fastpath; /* NULL: no kernel fast path in this build/run */
	const struct ctl_gossip *gossip;     /* NULL: no cluster */
};

/* The fast path loader (io/fastpath.h) seen through struct ctl_fastpath:
 * counters, attach points and kernel-map lookups from its API (nothing is
 * read from the pins). NULL when fp is NULL or on ENOMEM. */
struct fastpath;
struct ctl_fastpath *ctl_fastpath_adapter_new(struct fastpath *fp);
void ctl_fastpath_adapter_free(struct ctl_fastpath *a);
/* The cluster part over the gossip edge (io/gossip.h); NULL when e is NULL. */
struct gossip_edge;
struct ctl_gossip *ctl_gossip_adapter_new(struct gossip_edge *e);
void ctl_gossip_adapter_free(struct ctl_gossip *g);

/* --- the control API ---------------------------------------------------------------- */

struct ctl;

/* Create the socket's parent directory if missing, bind cfg->ctl_socket
 * with mode 0660 and serve it from the loop. A stale socket file is
 * replaced; one a live process answers on is -EADDRINUSE, another kind of
 * file -EEXIST. 0 and *out, or a negative code. */
int ctl_new(struct loop *l, const struct ctl_parts *parts, struct ctl **out) GLUED_MUST_CHECK;
/* Stop serving and unlink the socket. Call after the loop stopped. */
void ctl_free(struct ctl *c);

/* The JSON bodies (malloc'ed, NUL-terminated, no trailing newline), or NULL
 * on allocation failure. They read the live parts, so only the socket
 * reaches them (tests/e2e/60-ops.bats). */
char *ctl_render_status(const struct ctl_parts *p);
char *ctl_render_names(const struct ctl_parts *p);
char *ctl_render_peers(const struct ctl_parts *p);
/* ctl_counters_snapshot() rendered by render: counters_render_json() for
 * /v1/stats, counters_render_prom() for /metrics. The renderers alone are
 * what tests/unit/test_counters.c checks against golden files. */
char *ctl_render_counters(const struct ctl_parts *p,
			  char *(*render)(const struct counters_snapshot *s));
/* *status is 200, or 400 for a name that is not a DNS name. */
char *ctl_render_lookup(const struct ctl_parts *p, const char *name, unsigned *status);

/* Every counter of the parts, read now (loop thread): what /v1/stats and
 * /metrics render. */
void ctl_counters_snapshot(const struct ctl_parts *p, struct counters_snapshot *s);

#endif
