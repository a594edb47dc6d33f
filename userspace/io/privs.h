/* Least privilege once glued is set up: capabilities, no_new_privs, seccomp.
 *
 * glued starts as root (it binds port 53, loads and attaches BPF programs,
 * may mount a bpffs). After that it needs far less: the fast path keeps
 * following bridges as networks come and go, so CAP_NET_ADMIN + CAP_BPF
 * (+ CAP_PERFMON for the verifier's trusted-loader rules) stay; everything
 * else is dropped from every set, bounding set included. The seccomp filter
 * then allows only the system calls the running daemon makes; anything else
 * (execve, ptrace, mount, module loading, ...) kills the process, so a bug
 * that hands an attacker control flow cannot turn into a root shell.
 *
 * Capabilities are per thread: privs_drop_caps() must run before the first
 * thread is started (threads inherit the caller's sets). The seccomp filter
 * is installed with TSYNC, so it covers threads that already run.
 */
#ifndef GLUED_IO_PRIVS_H
#define GLUED_IO_PRIVS_H

#include <linux/capability.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

/* Headers older than the kernel may lack the 5.8 capabilities; the numbers
 * are ABI. */
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

/* Why each capability is kept, for the log and for `gluedctl status`. */
struct privs_keep {
	bool fastpath;	 /* CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON: re-attach, mirror */
	bool containers; /* CAP_SYS_ADMIN: setns into containers' netns (the
			  * container fast path; they belong to the initial user
			  * namespace, and setns asks for CAP_SYS_ADMIN there) */
	bool low_ports;	 /* CAP_NET_BIND_SERVICE: a bind still to come is < 1024 */
	bool no_cap_bpf; /* the kernel predates CAP_BPF: BPF needs CAP_SYS_ADMIN */
};

/* The capability mask to keep for `keep` (bit n = capability n). Pure. */
uint64_t privs_keep_mask(const struct privs_keep *keep);

/* Render a mask as "cap_bpf,cap_net_admin" (or "none") into buf. Pure. */
size_t privs_mask_str(uint64_t mask, char *buf, size_t len);

/* Whether this kernel knows CAP_BPF (5.8+); before it BPF needs CAP_SYS_ADMIN. */
bool privs_kernel_has_cap_bpf(void);

/* Drop every capability not in `mask` from the effective, permitted,
 * inheritable, ambient and (where CAP_SETPCAP allows) bounding sets, and set
 * no_new_privs. Call before any thread starts. 0 or -errno. */
int privs_drop_caps(uint64_t mask) GLUED_MUST_CHECK;

/* The system calls the filter allows, by name (NULL-terminated). Exposed so
 * a unit test can check that every name exists on this architecture. */
extern const char *const privs_syscalls[];
size_t privs_syscall_count(void);

/* Install the seccomp filter on every thread of the process. 0 or -errno
 * (GLUED_EINVAL with a name in *bad when a listed name does not resolve).
 * allow_setns: also setns(fd, CLONE_NEWNET), and only with that flag (the
 * container fast path's helper thread); any other setns kills. */
int privs_seccomp(bool allow_setns, const char **bad) GLUED_MUST_CHECK;

#endif
