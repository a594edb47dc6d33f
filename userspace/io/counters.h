/* Every counter of the daemon in one snapshot, and the two renderings of
 * it: the /v1/stats JSON of the control API (gluedctl stats) and the
 * /metrics Prometheus text.
 *
 * The parts declare their counters once, as X-macro lists (lib/counter.h):
 * DNS_SERVER_COUNTERS, FWD_COUNTERS, DOCKER_COUNTERS, TABLE_COUNTERS,
 * CTR_FAST_COUNTERS; the kernel's are GLUED_STATS (glued/abi.h, for the
 * host hooks and, apart, glued_ctr_dns) and the cluster's come named
 * through struct counter_value. Both renderers walk those lists; only the
 * counters with a shape of their own (answers by RCODE, the latency
 * histogram, members by state) have code here.
 *
 * The renderers are pure: a snapshot in, a malloc'ed NUL-terminated string
 * out (NULL when out of memory). Filling the snapshot from the live parts
 * is ctl_counters_snapshot()'s job (io/ctl.h), on the loop thread.
 */
#ifndef GLUED_IO_COUNTERS_H
#define GLUED_IO_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ctr_fast.h"
#include "core/fwd.h"
#include "core/table.h"
#include "glued/abi.h"
#include "io/dns_server.h"
#include "io/docker.h"

#define COUNTERS_NAMED_MAX 128

/* A counter of a part without a fixed struct (the cluster). `name` is
 * snake_case: the JSON key, and glued_gossip_<name>_total in metrics. */
struct counter_value {
	const char *name;
	const char *help;
	uint64_t value;
};

enum counters_member_state {
	COUNTERS_ALIVE,
	COUNTERS_SUSPECT,
	COUNTERS_DEAD,
	COUNTERS_LEFT,
	COUNTERS_MEMBER_STATES,
};

struct counters_snapshot {
	/* build and run */
	const char *version, *git_rev;
	int64_t start_unix_s;
	bool fastpath_active;

	struct dns_server_stats dns; /* the answerer's, the server's, the latency */
	struct fwd_stats fwd;
	uint64_t upstreams, upstreams_disabled;
	struct docker_sync_stats docker;
	struct table_stats table;

	bool have_kernel; /* a fast path whose counters could be read */
	uint64_t kernel[GLUED_STAT_MAX];
	struct ctr_fast_stats containers;    /* the container fast path's decisions */
	bool have_ctr_kernel;		     /* glued_ctr_stats could be read */
	uint64_t ctr_kernel[GLUED_STAT_MAX]; /* glued_ctr_dns's decisions */

	bool have_gossip; /* a cluster */
	size_t n_gossip;
	struct counter_value gossip[COUNTERS_NAMED_MAX];
	uint64_t members[COUNTERS_MEMBER_STATES]; /* self included */
};

/* The /v1/stats document, one line of compact JSON without the newline. */
char *counters_render_json(const struct counters_snapshot *s);
/* The /metrics text (exposition format 0.0.4), ending in a newline. */
char *counters_render_prom(const struct counters_snapshot *s);

/* RCODE number -> "NOERROR", ...; "RCODE<n>" in buf for unnamed ones. */
const char *counters_rcode_name(unsigned rcode, char *buf, size_t len);

#endif
