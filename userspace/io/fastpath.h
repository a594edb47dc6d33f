/* The kernel fast path, daemon side: loads the BPF answer program
 * (bpf/glued_dns.bpf.c, embedded as a libbpf skeleton), pins its maps and
 * links under GLUED_BPF_PIN, keeps glued_names an exact mirror of the name
 * table, keeps glued_addrs equal to the addresses glued serves on the hooked
 * interfaces, attaches and follows the hooks (TC ingress on the watched
 * network's bridge and on lo, native XDP on GLUED_XDP_IFACES), and hands
 * the hooks over to a restarted glued with bpf_link_update. Readers (the
 * control API, gluedctl through it) ask it what it holds: they never parse
 * the pins. It makes no DNS
 * decision (the program and core/dns_answer do) and never blocks the loop
 * for long: every call is a handful of bpf() syscalls.
 *
 * Lifetime of what it creates: links and maps stay pinned when glued exits
 * (SIGTERM, SIGINT, SIGKILL alike), so the kernel keeps answering known
 * names while glued restarts; fastpath_remove_pins() (glued --detach, or
 * GLUED_XDP=off at start) is the explicit removal. docs/fastpath-loader.md
 * explains why.
 */
#ifndef GLUED_IO_FASTPATH_H
#define GLUED_IO_FASTPATH_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "glued/abi.h"
#include "core/config.h"
#include "core/docker_json.h"
#include "core/table.h"
#include "io/loop.h"
#include "lib/err.h"

struct fastpath;

/* Allocation only; nothing touches the kernel yet. cfg and t must outlive
 * the fast path. NULL on ENOMEM. */
struct fastpath *fastpath_new(struct loop *l, const struct glued_config *cfg,
			      struct table *t) GLUED_MUST_CHECK_PTR;

/* Act on cfg->xdp (and start the container fast path, io/ctr_attach.h,
 * enabled where the fast path is active and GLUED_CONTAINER_FASTPATH=auto):
 *   off:  remove a previous glued's links and pins (fastpath_remove_pins),
 *         return 0;
 *   auto: mount bpffs if needed, load (adopting pinned maps), update pinned
 *         links, attach lo and GLUED_XDP_IFACES; on any failure log why
 *         once (a verifier rejection: its reason, and the whole log in
 *         GLUED_STATE_DIR/verifier.log), leave the fast path inactive and
 *         return 0 (userspace serves everything);
 *   on:   the same, but a failure is returned (the caller exits).
 * Call after the DNS server listens, after fastpath_on_table_change is
 * registered as a table observer, and before the sources fill the table. */
int fastpath_start(struct fastpath *fp) GLUED_MUST_CHECK;

/* The table observer that keeps glued_names a mirror of the table
 * (table_observer_fn; ctx is the struct fastpath). A no-op while the fast
 * path is inactive. main.c registers it. */
void fastpath_on_table_change(void *ctx, const char *name, size_t len);

/* The watched network changed (DOCKER_UPDATE_NETWORK): follow its bridge
 * (attach, re-attach on a new ifindex, detach when net->bridge is "") and
 * its gateway addresses. NULL fp or an inactive fast path: no-op. */
void fastpath_set_network(struct fastpath *fp, const struct docker_network *net);

/* The table now holds what the sources say (Docker listed and connected):
 * reconcile glued_names with it (delete keys the table lacks, write every
 * name that differs). Also run once by a timer if this never comes. NULL
 * fp or inactive: no-op. */
void fastpath_table_synced(struct fastpath *fp);
/* Who gets answers and who is never rate limited (GLUED_ALLOW and
 * GLUED_RRL_EXEMPT, each with the watched subnets, as the DNS server has
 * them): glued_allow is rewritten to exactly their merged prefixes and
 * flags (core/access.h); the kernel's rate goes with glued_config, written
 * every tick. Until the first call the map is empty or a predecessor's,
 * and a query from a source it does not hold passes up to userspace,
 * which checks for itself. */
void fastpath_set_allow(struct fastpath *fp, const struct glued_cidr *allow, size_t n,
			const struct glued_cidr *exempt, size_t n_exempt);

bool fastpath_active(const struct fastpath *fp);
/* Why the fast path is inactive ("GLUED_XDP=off", "no rights to load BPF
 * programs (...)", ...); "" when active. */
const char *fastpath_why(const struct fastpath *fp);

/* The program's per-CPU counters summed over CPUs. -ENODEV when inactive. */
int fastpath_stats(const struct fastpath *fp, struct glued_stats *out) GLUED_MUST_CHECK;
/* One hook glued holds, whatever its kind and mode. */
struct fastpath_attach {
	char ifname[IF_NAMESIZE];
	unsigned ifindex;
	const char *hook; /* "tc" (ingress) or "xdp" */
	const char *mode; /* tc: "tcx" or "clsact"; xdp: "native" or "generic" */
	bool adopted;	  /* taken over from the glued that ran before (pinned link) */
};

/* Every hook held now: tcx links, clsact filters, XDP links, adopted or
 * attached by this process; returns how many were written (<= max). 0 when
 * inactive. Static strings: valid for the process's life. */
size_t fastpath_attach_points(const struct fastpath *fp, struct fastpath_attach *out, size_t max);

/* Does the kernel's glued_names hold name[0..len)? 1, 0, -ENODEV when
 * inactive, or another negative code. */
int fastpath_map_has(const struct fastpath *fp, const char *name, size_t len) GLUED_MUST_CHECK;

/* The same from the pinned map under pin_dir (another process, gluedctl). */
int fastpath_pinned_stats(const char *pin_dir, struct glued_stats *out) GLUED_MUST_CHECK;

/* The container fast path (io/ctr_attach.h, docs/container-fastpath.md),
 * fed by the Docker watcher: id is on the watched network with this
 * SandboxKey ("" if none); id is gone; the first list is complete (pins
 * of containers it did not name are swept). NULL fp: no-op. */
struct ctr_fast_stats;
struct ctr_fast_view;
void fastpath_container_put(struct fastpath *fp, const char *id, const char *sandbox);
void fastpath_container_del(struct fastpath *fp, const char *id);
void fastpath_containers_synced(struct fastpath *fp);
/* Is glued_ctr_dns being attached in containers? (The capabilities and the
 * seccomp filter depend on it: setns needs CAP_SYS_ADMIN.) */
bool fastpath_containers_on(const struct fastpath *fp);
/* "" when on, else why not. */
const char *fastpath_containers_why_off(const struct fastpath *fp);
/* The container fast path's counters, and each container on the network
 * (fn may be NULL). */
void fastpath_containers(const struct fastpath *fp, struct ctr_fast_stats *st,
			 void (*fn)(void *ctx, const struct ctr_fast_view *v), void *ctx);
/* glued_ctr_stats summed over CPUs. -ENODEV when inactive. */
int fastpath_ctr_stats(const struct fastpath *fp, struct glued_stats *out) GLUED_MUST_CHECK;

/* Stop refreshing and close every fd. Links and maps stay pinned and
 * attached; the program stops answering by itself once the liveness
 * deadline written last passes (docs/fastpath-loader.md). */
void fastpath_free(struct fastpath *fp);

/* Remove every glued link and pin under pin_dir (links are detached when
 * their pin goes), classic clsact filters a fallback attach left, and the
 * directory. Returns the number of objects removed (0: nothing was there)
 * or a negative code; logs what it removed. */
int fastpath_remove_pins(const char *pin_dir) GLUED_MUST_CHECK;

#endif
