/* The fast path's parts, shared by its files and by nothing else:
 *
 *   fastpath.c         lifecycle, the tick, the public questions (state,
 *                      stats, attach points, map lookups)
 *   fastpath_load.c    bpffs, the skeleton's open/load, the pins, the
 *                      config map, why a load failed, removal of it all
 *   fastpath_hooks.c   where the program is attached: tcx/clsact/XDP,
 *                      adopting a predecessor's links, following interfaces
 *   fastpath_mirror.c  glued_names as a mirror of the table, glued_addrs as
 *                      the addresses glued serves where it is hooked
 *   io/ctr_attach.c    (its own module) glued_ctr_dns inside containers; the
 *                      fast path owns it and hands it the program
 *
 * struct fastpath is the one record of what glued holds in the kernel: every
 * hook it attaches or adopts is in hooks[], whatever its kind, so a reader
 * (fastpath_attach_points) never looks at the pins to find out.
 */
#ifndef GLUED_IO_FASTPATH_INT_H
#define GLUED_IO_FASTPATH_INT_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "io/fastpath.h"
#include "lib/log.h"

struct glued_dns;
struct ctr_attach;

enum fp_hook_kind { HOOK_TC, HOOK_XDP };

/* Debian 12's uapi headers (6.1) predate tcx (6.6); these values are ABI. */
#define FP_TCX_INGRESS 46
#define FP_LINK_TYPE_TCX 11

#define FP_GRACE_S 10 /* the program answers this long after the last refresh */
#define FP_HOOKS_MAX (CONFIG_IFACES_MAX + 8)
#define FP_WHY_LEN 640 /* a verifier's sentence plus the log file's path */

struct fp_hook {
	bool used;
	bool adopted;	/* taken over from a previous glued by bpf_link_update */
	bool unclaimed; /* adopted and not yet matched to a wanted attach point */
	enum fp_hook_kind kind;
	char ifname[IF_NAMESIZE];
	unsigned ifindex;
	int link_fd;	  /* -1: a classic clsact filter (no link to pin) */
	const char *mode; /* "tcx", "clsact", "native", "generic" */
};

struct fastpath {
	struct loop *loop;
	const struct glued_config *cfg;
	struct table *table;

	struct glued_dns *skel;
	bool active;
	bool maps_reused;
	int names_fd, addrs_fd, config_fd, stats_fd, allow_fd, ctr_stats_fd;
	char why[FP_WHY_LEN]; /* why it is inactive */

	struct fp_hook hooks[FP_HOOKS_MAX];
	bool missing_logged[FP_HOOKS_MAX]; /* per wanted slot: "not there" said once */
	bool network_known;
	char bridge[IF_NAMESIZE];
	size_t n_gw;
	struct glued_addr gw[DOCKER_NET_SUBNETS_MAX];
	size_t n_local;

	struct ctr_attach *ctr; /* the container fast path; disabled while inactive */

	struct loop_timer timer;
	unsigned ticks;
	bool synced;
	bool remove_pending; /* a reconcile that deletes is still due (fastpath.c) */
	uint64_t started_ms;
	struct log_ratelimit rl;
	uint64_t map_errors;
};

void fp_why_set(struct fastpath *fp, const char *fmt, ...) GLUED_PRINTF(2, 3);

/* fastpath_load.c */
/* bpffs, open, ABI check, pins, load; fd fields set. On failure fp->why
 * says why (for a verifier rejection: its reason and the file holding the
 * whole log) and the skeleton is gone. */
int fp_load(struct fastpath *fp) GLUED_MUST_CHECK;
void fp_unload(struct fastpath *fp);
/* glued_config[0] with a fresh liveness deadline. 0 or -errno. */
int fp_config_write(struct fastpath *fp) GLUED_MUST_CHECK;
int fp_stats_sum(int fd, struct glued_stats *out) GLUED_MUST_CHECK;
/* The program fd for a hook kind (the skeleton must be loaded). */
int fp_prog_fd(const struct fastpath *fp, enum fp_hook_kind kind);
/* glued_ctr_dns's fd (the skeleton must be loaded). */
int fp_ctr_prog_fd(const struct fastpath *fp);
/* "<dir>/link_tc_<ifname>" / "<dir>/link_xdp_<ifname>" */
void fp_link_pin_path(char *buf, size_t n, const char *dir, enum fp_hook_kind kind,
		      const char *ifname);

/* fastpath_hooks.c */
void fp_adopt_links(struct fastpath *fp);
/* Attach what is wanted, detach what is not, follow re-created devices,
 * then the local addresses. Returns the first attach error. */
int fp_hooks_sync(struct fastpath *fp);
/* Close every link fd (pinned links stay attached) and forget the hooks. */
void fp_hooks_release(struct fastpath *fp);
struct fp_hook *fp_hook_find(struct fastpath *fp, enum fp_hook_kind kind, const char *ifname);
bool fp_listens_loopback(const struct fastpath *fp);
/* Classic clsact filters running glued_tc_dns, on every interface; returns
 * how many were removed. */
int fp_remove_classic_filters(void);

/* fastpath_mirror.c */
void fp_addrs_sync(struct fastpath *fp);
/* Write every name of the table that differs in glued_names; with remove,
 * also delete the keys the table lacks. */
void fp_names_reconcile(struct fastpath *fp, bool remove);

#endif
