/* The sources of local records and of upstreams, wired to their sinks:
 *   hosts file  (file_watch + core/hosts)  → name table (origin 0)
 *   Docker      (io/docker thread)         → name table, allow list
 *   resolv.conf (file_watch + core/resolv) → forwarder upstreams
 * It owns the watchers and the bookkeeping of what it published, so a
 * re-read withdraws what disappeared. It makes no DNS decision.
 */
#ifndef GLUED_IO_SOURCES_H
#define GLUED_IO_SOURCES_H

#include "core/config.h"
#include "core/table.h"
#include "io/dns_server.h"
#include "io/docker.h"
#include "io/forwarder.h"
#include "io/loop.h"

struct sources;

struct sources *sources_new(struct loop *l, const struct glued_config *cfg, struct table *t,
			    struct dns_server *dns, struct forwarder *fwd) GLUED_MUST_CHECK_PTR;
/* Read the hosts file and upstreams now, start the Docker watcher, send
 * the loop probes. 0 or a negative code. */
int sources_start(struct sources *s) GLUED_MUST_CHECK;
/* Re-read the hosts file and resolv.conf now (SIGHUP). */
void sources_reload(struct sources *s);
void sources_free(struct sources *s);
/* The fast path to tell about the watched network (bridge, gateways) and
 * about the table being in sync with Docker; NULL for none. */
struct fastpath;
void sources_set_fastpath(struct sources *s, struct fastpath *fp);

/* For the control API and metrics (loop thread). */
struct sources_docker_state {
	bool started;	     /* the watcher exists */
	bool connected;	     /* last state the watcher reported */
	unsigned api_major, api_minor;
	char reason[160];    /* why not connected ("" when connected or not yet known) */
	uint64_t since_ms;   /* clock_now_ms() of the last state change; 0 = none yet */
	struct docker_sync_stats stats;
	struct docker_network network; /* id "" while the network does not exist */
};
void sources_get_docker(const struct sources *s, struct sources_docker_state *st);
/* The upstreams last handed to the forwarder and where they came from
 * ("GLUED_UPSTREAMS" or a resolv.conf path). Returns how many (<= max). */
size_t sources_get_upstreams(const struct sources *s, struct glued_endpoint *out, size_t max,
			     const char **from);

#endif
