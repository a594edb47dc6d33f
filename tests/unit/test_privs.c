/* Unit tests of the least-privilege edge: which capabilities are kept for
 * which reason, how a mask reads, that every allowed system call exists on
 * this architecture, and — in forked children, so the test process keeps
 * its rights — that the filter kills a forbidden call (execve), lets an
 * allowed one through, and that a capability drop leaves exactly the mask. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/privs.h"
#include "t.h"

#define BIT(c) (1ULL << (c))

/* Run fn in a child; return its wait status. */
static int in_child(int (*fn)(void))
{
	int st = 0;
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn()); /* _exit: no atexit handlers, no leak check under the filter */
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return st;
}

static int filtered_exec(void)
{
	const char *bad;
	char *argv[] = {"/bin/true", NULL};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || privs_seccomp(false, &bad) != 0)
		return 10;
	execv("/bin/true", argv);
	return 11; /* not reached: the filter kills the process */
}

static int filtered_allowed(void)
{
	const char *bad;
	char buf[8];
	int fds[2];

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || privs_seccomp(false, &bad) != 0)
		return 10;
	if (pipe2(fds, 0) < 0 || write(fds[1], "ok", 2) != 2 || read(fds[0], buf, 2) != 2)
		return 12;
	return buf[0] == 'o' ? 0 : 13;
}

/* setns on this process's own netns: allowed only when asked, and only
 * with CLONE_NEWNET. Returns 0 when the call got through the filter
 * (success, or EPERM without root), 30+ otherwise. */
static int setns_own(int flag)
{
	const char *bad;
	int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || privs_seccomp(true, &bad))
		return 30;
	if (setns(fd, flag) < 0 && errno != EPERM && errno != EINVAL)
		return 31;
	return 0;
}

static int setns_net(void)
{
	return setns_own(CLONE_NEWNET);
}

static int setns_mnt(void)
{
	return setns_own(CLONE_NEWNS);
}

static int setns_denied(void)
{
	const char *bad;
	int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || privs_seccomp(false, &bad))
		return 30;
	(void)setns(fd, CLONE_NEWNET);
	return 32; /* not reached: killed */
}

static int drop_keep_net_admin(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];

	if (privs_drop_caps(BIT(CAP_NET_ADMIN)) != 0)
		return 20;
	if (syscall(SYS_capget, &hdr, d) < 0)
		return 21;
	if (d[0].effective != (uint32_t)BIT(CAP_NET_ADMIN) || d[1].effective || d[1].permitted)
		return 22;
	if (prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 0)
		return 23; /* gone from the bounding set too */
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return 24;
	return 0;
}

int main(void)
{
	char buf[128];

	T_CASE("fast path on: net_admin, bpf, perfmon; nothing else")
	{
		struct privs_keep k = {.fastpath = true};

		T_ASSERT(privs_keep_mask(&k) ==
			     (BIT(CAP_NET_ADMIN) | BIT(CAP_BPF) | BIT(CAP_PERFMON)),
			 "mask %llx", (unsigned long long)privs_keep_mask(&k));
	}
	T_CASE("container fast path on: sys_admin too (setns); never without the fast path")
	{
		struct privs_keep k = {.fastpath = true, .containers = true};

		T_ASSERT(privs_keep_mask(&k) == (BIT(CAP_NET_ADMIN) | BIT(CAP_BPF) |
						 BIT(CAP_PERFMON) | BIT(CAP_SYS_ADMIN)),
			 "mask %llx", (unsigned long long)privs_keep_mask(&k));
		k.fastpath = false;
		T_ASSERT(privs_keep_mask(&k) == 0, "mask %llx",
			 (unsigned long long)privs_keep_mask(&k));
	}
	T_CASE("seccomp: setns(CLONE_NEWNET) passes only when the container fast path asks")
	{
		int st = in_child(setns_net);

		T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "allowed: status %#x", st);
		st = in_child(setns_mnt);
		T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
			 "setns(CLONE_NEWNS) is killed even then: status %#x", st);
		st = in_child(setns_denied);
		T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
			 "without the container fast path setns is killed: status %#x", st);
	}
	T_CASE("fast path on a kernel without CAP_BPF: sys_admin stands in for bpf and perfmon")
	{
		struct privs_keep k = {.fastpath = true, .no_cap_bpf = true};

		T_ASSERT(privs_keep_mask(&k) == (BIT(CAP_NET_ADMIN) | BIT(CAP_SYS_ADMIN)),
			 "mask %llx", (unsigned long long)privs_keep_mask(&k));
	}
	T_CASE("fast path off, all binds done: no capability at all")
	{
		struct privs_keep k = {.no_cap_bpf = true};

		T_ASSERT(privs_keep_mask(&k) == 0, "mask %llx",
			 (unsigned long long)privs_keep_mask(&k));
		privs_mask_str(0, buf, sizeof(buf));
		T_ASSERT(strcmp(buf, "none") == 0, "'%s'", buf);
	}
	T_CASE("a bind below 1024 still to come keeps net_bind_service only")
	{
		struct privs_keep k = {.low_ports = true};

		T_ASSERT(privs_keep_mask(&k) == BIT(CAP_NET_BIND_SERVICE), "mask %llx",
			 (unsigned long long)privs_keep_mask(&k));
	}
	T_CASE("a mask reads as names in capability order; unknown ones by number")
	{
		privs_mask_str(BIT(CAP_BPF) | BIT(CAP_NET_ADMIN) | BIT(CAP_CHOWN), buf,
			       sizeof(buf));
		T_ASSERT(strcmp(buf, "cap_0,cap_net_admin,cap_bpf") == 0, "'%s'", buf);
		T_ASSERT(privs_mask_str(BIT(CAP_BPF) | BIT(CAP_NET_ADMIN), buf, 8) ==
			     strlen("cap_net_admin,cap_bpf"),
			 "the length it would need is returned");
		T_ASSERT(strlen(buf) == 7, "truncated, terminated: '%s'", buf);
	}
	T_CASE("every allowed system call exists on this architecture; none is listed twice")
	{
		size_t n = privs_syscall_count();

		T_ASSERT(n > 100, "%zu names", n);
		for (size_t i = 0; i < n; i++) {
			T_ASSERT(seccomp_syscall_resolve_name(privs_syscalls[i]) != __NR_SCMP_ERROR,
				 "'%s' does not resolve", privs_syscalls[i]);
			for (size_t j = 0; j < i; j++)
				T_ASSERT(strcmp(privs_syscalls[i], privs_syscalls[j]) != 0,
					 "'%s' twice", privs_syscalls[i]);
		}
	}
	T_CASE("nothing that starts a program, mounts, traces or loads modules is allowed")
	{
		static const char *const never[] = {
		    "execve",	  "execveat",	      "ptrace",	      "mount",
		    "umount2",	  "init_module",      "finit_module", "setns",
		    "unshare",	  "process_vm_readv", "setuid",	      "io_uring_setup",
		    "kexec_load", "chroot",	      "pivot_root",   NULL};

		for (size_t i = 0; never[i]; i++)
			for (size_t j = 0; privs_syscalls[j]; j++)
				T_ASSERT(strcmp(never[i], privs_syscalls[j]) != 0, "'%s' allowed",
					 never[i]);
	}
	T_CASE("under the filter, execve kills the process with SIGSYS")
	{
		int st = in_child(filtered_exec);

		T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "status %#x", st);
	}
	T_CASE("under the filter, allowed calls work")
	{
		int st = in_child(filtered_allowed);

		T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
	}
	T_CASE("a drop leaves exactly the mask, in every set, and sets no_new_privs")
	{
		if (geteuid() != 0) {
			fprintf(stderr, "  (not root: the drop is checked by the e2e suite)\n");
		} else {
			int st = in_child(drop_keep_net_admin);

			T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child exit %d",
				 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		}
	}
	printf("%d passed, %d failed\n", t_passed, t_failed);
	return t_failed != 0;
}
