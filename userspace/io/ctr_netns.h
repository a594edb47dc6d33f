/* The container fast path's work inside a container's network namespace:
 * one core/ctr_fast job (attach, check, detach) run to its result.
 *
 * The calling thread enters the netns (setns on the SandboxKey file, which
 * needs no ptrace access to the container's processes), reads and sets
 * net.ipv4.conf.lo.{route_localnet,accept_local} over rtnetlink (a socket
 * opened after setns belongs to that netns; /proc/sys may be read-only),
 * attaches glued_ctr_dns to lo egress as a tcx link pinned at
 * <pin>/ctr/<container id>, or as a classic clsact filter where the kernel
 * has no tcx, and goes back to its own netns. It changes nothing else in
 * the container's namespace, and it leaves nothing behind a failed attach
 * (sysctls put back, no pin).
 *
 * Blocking (setns, netlink round trips, bpf()): call it from a helper
 * thread, never from the loop (io/ctr_attach.c). The thread's network
 * namespace is its own (CLONE_NEWNET is per thread): the rest of the
 * process never leaves the host's.
 */
#ifndef GLUED_IO_CTR_NETNS_H
#define GLUED_IO_CTR_NETNS_H

#include "core/config.h"
#include "core/ctr_fast.h"

struct ctr_netns {
	int prog_fd;			   /* glued_ctr_dns */
	int home_fd;			   /* the thread's own netns, to go back to */
	char pin_dir[CONFIG_PATH_MAX + 8]; /* <GLUED_BPF_PIN>/ctr */
};

/* Run job to its result r (r->kind and r->id set from the job). */
void ctr_netns_run(const struct ctr_netns *ns, const struct ctr_job *job, struct ctr_result *r);

/* "<pin_dir>/<id>" */
void ctr_netns_pin_path(const struct ctr_netns *ns, const char *id, char *buf, size_t n);

#endif
