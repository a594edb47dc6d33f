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

#endif
