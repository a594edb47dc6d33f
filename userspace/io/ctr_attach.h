/* The container fast path, daemon side: glued_ctr_dns on the lo of every
 * container on the watched network, kept there through the container's and
 * glued's lifecycles (docs/container-fastpath.md).
 *
 * core/ctr_fast decides (attach, check, detach, give up); this file runs
 * its jobs on one helper thread (io/ctr_netns: setns, rtnetlink, tcx or
 * clsact) so the loop never blocks, brings the results back through an
 * eventfd, logs what changed, and arms a timer for the next check. It
 * never decides, and it never touches a container's namespace from the
 * loop thread.
 *
 * The helper thread is started with the first job, which comes after
 * main.c dropped capabilities: it inherits the kept set (CAP_SYS_ADMIN for
 * setns, CAP_NET_ADMIN, CAP_BPF) and nothing more.
 */
#ifndef GLUED_IO_CTR_ATTACH_H
#define GLUED_IO_CTR_ATTACH_H

#include <stdbool.h>

#include "core/config.h"
#include "core/ctr_fast.h"
#include "io/loop.h"
#include "lib/err.h"

struct ctr_attach;

/* prog_fd: glued_ctr_dns, valid until ctr_attach_free (-1 when disabled).
 * enabled false: nothing is attached and every container on the network
 * counts as fallback "off" (why_off says why, for the status). On start
 * the pins under <GLUED_BPF_PIN>/ctr are read (enabled: adopted or swept
 * later; disabled: removed now). NULL with errno set when out of memory
 * or, enabled, without an fd for its own netns or an eventfd. */
struct ctr_attach *ctr_attach_new(struct loop *l, const struct glued_config *cfg, bool enabled,
				  int prog_fd, const char *why_off) GLUED_MUST_CHECK_PTR;
/* Stop the helper thread (it finishes its job) and free everything. Links
 * stay pinned: a restarted glued adopts them. */
void ctr_attach_free(struct ctr_attach *ca);

/* From the Docker watcher (loop thread): id is on the network with this
 * SandboxKey ("" if none); id is gone; the first list is complete. */
void ctr_attach_put(struct ctr_attach *ca, const char *id, const char *sandbox);
void ctr_attach_del(struct ctr_attach *ca, const char *id);
void ctr_attach_synced(struct ctr_attach *ca);

bool ctr_attach_enabled(const struct ctr_attach *ca);
/* "" when enabled, else why not ("GLUED_CONTAINER_FASTPATH=off", ...). */
const char *ctr_attach_why_off(const struct ctr_attach *ca);
void ctr_attach_stats(const struct ctr_attach *ca, struct ctr_fast_stats *st);
void ctr_attach_each(const struct ctr_attach *ca,
		     void (*fn)(void *ctx, const struct ctr_fast_view *v), void *ctx);

/* Remove every pin under <pin_dir>/ctr (tcx links detach with them) and the
 * directory; returns how many. For glued --detach and the fast path off. */
int ctr_attach_remove_pins(const char *pin_dir);

#endif
