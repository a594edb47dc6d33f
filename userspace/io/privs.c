/* Least privilege: the capability sets and the seccomp filter (privs.h).
 *
 * Raw capget/capset and prctl rather than libcap: three calls do not earn a
 * dependency. The system call list is the daemon's, measured: what glued,
 * libcurl, libbpf, libmicrohttpd, jansson, libsodium and glibc call once the
 * loop runs (strace -f through the e2e suite), plus the few that error paths
 * reach (abort's tgkill). Nothing that starts programs, changes identity,
 * mounts, loads modules or reads other processes' memory is on it; setns
 * only with CLONE_NEWNET and only when the container fast path is on.
 */
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "io/privs.h"

#define CAP_MAX_KNOWN 63

uint64_t privs_keep_mask(const struct privs_keep *keep)
{
	uint64_t m = 0;

	if (keep->fastpath) {
		m |= 1ULL << CAP_NET_ADMIN;
		if (keep->no_cap_bpf)
			m |= 1ULL << CAP_SYS_ADMIN;
		else
			m |= 1ULL << CAP_BPF | 1ULL << CAP_PERFMON;
		if (keep->containers)
			m |= 1ULL << CAP_SYS_ADMIN;
	}
	if (keep->low_ports)
		m |= 1ULL << CAP_NET_BIND_SERVICE;
	return m;
}

static const char *cap_name(int cap)
{
	switch (cap) {
	case CAP_NET_BIND_SERVICE:
		return "cap_net_bind_service";
	case CAP_NET_ADMIN:
		return "cap_net_admin";
	case CAP_SYS_ADMIN:
		return "cap_sys_admin";
	case CAP_PERFMON:
		return "cap_perfmon";
	case CAP_BPF:
		return "cap_bpf";
	default:
		return NULL;
	}
}

size_t privs_mask_str(uint64_t mask, char *buf, size_t len)
{
	size_t n = 0;
	int w;

	if (len)
		buf[0] = '\0';
	for (int cap = 0; cap <= CAP_MAX_KNOWN; cap++) {
		const char *name;

		if (!(mask & 1ULL << cap))
			continue;
		name = cap_name(cap);
		if (name)
			w = snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "," : "", name);
		else
			w = snprintf(buf + n, n < len ? len - n : 0, "%scap_%d", n ? "," : "", cap);
		n += (size_t)w;
	}
	if (!n)
		n = (size_t)snprintf(buf, len, "none");
	return n;
}

static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v >= 0 && v <= CAP_MAX_KNOWN ? v : CAP_BPF;
}

bool privs_kernel_has_cap_bpf(void)
{
	return last_cap() >= CAP_BPF;
}

int privs_drop_caps(uint64_t mask)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];
	int top = last_cap();

	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	/* Only what is held can be kept: the mask narrows, never widens. */
	mask &= (uint64_t)data[1].permitted << 32 | data[0].permitted;

	/* The bounding set first, while CAP_SETPCAP is still effective. Without
	 * it (glued started with reduced rights) the drop below still empties
	 * the permitted set, and no_new_privs keeps execve from refilling it. */
	if (data[0].effective & 1U << CAP_SETPCAP) {
		for (int cap = 0; cap <= top; cap++) {
			if (mask & 1ULL << cap)
				continue;
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
				return -errno;
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;

	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = (uint32_t)mask;
	data[1].effective = data[1].permitted = (uint32_t)(mask >> 32);
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

/* Grouped by reason; order does not matter to the filter. */
const char *const privs_syscalls[] = {
    /* the loop and its completions; the ring exists, so no io_uring_setup */
    "io_uring_enter",
    "io_uring_register",
    /* files: state directory, hosts file, resolv.conf, /proc, bpffs pins */
    "read",
    "write",
    "readv",
    "writev",
    "pread64",
    "pwrite64",
    "preadv",
    "pwritev",
    "close",
    "openat",
    "open",
    "stat",
    "fstat",
    "lstat",
    "newfstatat",
    "statx",
    "lseek",
    "fcntl",
    "ioctl",
    "flock",
    "fsync",
    "fdatasync",
    "ftruncate",
    "rename",
    "renameat",
    "renameat2",
    "unlink",
    "unlinkat",
    "mkdir",
    "mkdirat",
    "rmdir",
    "readlink",
    "readlinkat",
    "access",
    "faccessat",
    "faccessat2",
    "chmod",
    "fchmod",
    "fchmodat",
    "getdents64",
    "getcwd",
    "statfs",
    "fstatfs",
    "umask",
    "inotify_init1",
    "inotify_add_watch",
    "inotify_rm_watch",
    /* memory */
    "mmap",
    "munmap",
    "mprotect",
    "mremap",
    "madvise",
    "brk",
    "membarrier",
    /* threads (the Docker watcher, libcurl) and their synchronisation */
    "clone",
    "clone3",
    "futex",
    "set_robust_list",
    "get_robust_list",
    "rseq",
    "set_tid_address",
    "exit",
    "exit_group",
    "sched_yield",
    "sched_getaffinity",
    "prctl",
    /* identity of this process, signals (signalfd, abort) */
    "gettid",
    "getpid",
    "getppid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "tgkill",
    "tkill",
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "rt_sigtimedwait",
    "sigaltstack",
    "restart_syscall",
    "signalfd4",
    /* time */
    "nanosleep",
    "clock_nanosleep",
    "clock_gettime",
    "clock_getres",
    "gettimeofday",
    "time",
    "timerfd_create",
    "timerfd_settime",
    "timerfd_gettime",
    /* randomness (libsodium, the RNG) */
    "getrandom",
    /* sockets: DNS, upstreams, gossip, the Docker socket, ctl, metrics, netlink */
    "socket",
    "socketpair",
    "connect",
    "bind",
    "listen",
    "accept",
    "accept4",
    "sendto",
    "recvfrom",
    "sendmsg",
    "recvmsg",
    "sendmmsg",
    "recvmmsg",
    "setsockopt",
    "getsockopt",
    "getsockname",
    "getpeername",
    "shutdown",
    /* readiness (libcurl, libmicrohttpd) */
    "poll",
    "ppoll",
    "select",
    "pselect6",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "eventfd",
    "eventfd2",
    "pipe",
    "pipe2",
    "dup",
    "dup2",
    "dup3",
    /* the fast path: maps, links, attach as bridges come and go */
    "bpf",
    /* system facts glibc and libbpf read */
    "uname",
    "sysinfo",
    "prlimit64",
    "getrlimit",
    "setrlimit",
    "getrusage",
    "times",
    /* the resolver thread (io/resolver.c: bootstrap host names, issue 11):
     * getaddrinfo reads /etc/host.conf, nsswitch.conf, resolv.conf and
     * hosts (openat, newfstatat, read, lseek, close), probes nscd's socket
     * (socket, connect), and asks the name servers over UDP (socket,
     * setsockopt, connect, sendto or sendmmsg, poll, recvfrom, ioctl
     * FIONREAD); the thread itself is clone3, mmap, mprotect, futex, rseq,
     * set_robust_list, rt_sigprocmask. Every one is listed above: this group
     * adds nothing, and tests/net/test_resolver.c runs lookups under this
     * filter so that a change to either shows. */
    NULL,
};

size_t privs_syscall_count(void)
{
	size_t n = 0;

	while (privs_syscalls[n])
		n++;
	return n;
}

int privs_seccomp(bool allow_setns, const char **bad)
{
	scmp_filter_ctx ctx;
	int ret = 0;

	*bad = NULL;
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;
	for (size_t i = 0; privs_syscalls[i]; i++) {
		int nr = seccomp_syscall_resolve_name(privs_syscalls[i]);

		if (nr == __NR_SCMP_ERROR) {
			/* Some names exist only on some architectures (open, stat on
			 * x86_64 but not arm64): skip those, they cannot be called. */
			continue;
		}
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (ret < 0) {
			*bad = privs_syscalls[i];
			goto out;
		}
	}
	if (allow_setns) {
		/* the container fast path enters network namespaces, no other */
		struct scmp_arg_cmp net = {.arg = 1, .op = SCMP_CMP_EQ, .datum_a = CLONE_NEWNET};

		ret = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setns), 1, &net);
		if (ret < 0) {
			*bad = "setns";
			goto out;
		}
	}
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (ret < 0)
		goto out;
	ret = seccomp_load(ctx);
out:
	seccomp_release(ctx);
	return ret < 0 ? ret : 0;
}
