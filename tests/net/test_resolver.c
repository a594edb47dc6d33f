/* Test of io/resolver.c: host names looked up off the loop, under glued's
 * seccomp filter (io/privs.c), against files and name servers this test
 * controls.
 *
 * Everything runs in a child in its own mount and network namespaces: its
 * /etc/hosts and /etc/resolv.conf are files of the test's, bound over the
 * real ones, and its name server is 127.0.0.1:53 of a fresh loopback, first
 * absent (refused at once: "no address"), then a socket that reads and never
 * answers (the lookup hangs until glibc's own timeout, 2 s here). The child
 * installs the filter before the first lookup: a system call of the lookup
 * path that is not on the list kills it, and the parent reports that. The
 * child's pass/fail counts come back through a pipe. Needs root. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/loop.h"
#include "io/privs.h"
#include "io/resolver.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "t.h"

#define GLIBC_TIMEOUT_S 2

struct got {
	int calls;
	uint64_t tag;
	int err;
	struct glued_addr addrs[RESOLVER_ADDRS_MAX];
	size_t n;
};

static void on_answer(void *ctx, uint64_t tag, int err, const struct glued_addr *addrs, size_t n)
{
	struct got *g = ctx;

	g->calls++;
	g->tag = tag;
	g->err = err;
	g->n = n;
	memcpy(g->addrs, addrs, n * sizeof(*addrs));
}

/* Run the loop until g has an answer or ms have passed. */
static void stop_fire(struct loop *l, struct loop_timer *t GLUED_UNUSED,
		      uint64_t now_ms GLUED_UNUSED)
{
	loop_stop(l);
}

struct waiter {
	struct loop_timer tick, guard;
	const struct got *g;
	int want_calls;
	struct resolver *r;
	bool until_idle; /* instead: until no lookup is outstanding */
};

static void tick_fire(struct loop *l, struct loop_timer *t, uint64_t now_ms GLUED_UNUSED)
{
	struct waiter *w = t->ctx;

	if (w->until_idle ? resolver_pending(w->r) == 0 : w->g->calls >= w->want_calls)
		loop_stop(l);
	else
		loop_timer_arm_in(l, t, 5);
}

static void run_until(struct loop *l, struct resolver *r, const struct got *g, int calls, bool idle,
		      uint64_t ms)
{
	struct waiter w = {.g = g, .want_calls = calls, .r = r, .until_idle = idle};

	loop_update_now(l);
	loop_timer_init(&w.tick, tick_fire, &w);
	loop_timer_init(&w.guard, stop_fire, NULL);
	loop_timer_arm_in(l, &w.tick, 1);
	loop_timer_arm_in(l, &w.guard, ms);
	T_ASSERT(loop_run(l) == 0, "loop_run");
	loop_timer_disarm(l, &w.tick);
	loop_timer_disarm(l, &w.guard);
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* The child's world: own namespaces, lo up, the two files bound. */
static int set_up_world(char *dir)
{
	char hosts[96], resolv[96];
	struct ifreq ifr = {0};
	int fd;

	if (unshare(CLONE_NEWNS | CLONE_NEWNET) < 0)
		return -1;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -2;
	snprintf(hosts, sizeof(hosts), "%s/hosts", dir);
	snprintf(resolv, sizeof(resolv), "%s/resolv.conf", dir);
	if (write_file(hosts, "127.0.0.1 localhost\n10.9.8.7 resolver-test.example\n"
			      "fd00::7 resolver-six.example\n") ||
	    write_file(resolv, "nameserver 127.0.0.1\noptions timeout:2 attempts:1\n"))
		return -3;
	if (mount(hosts, "/etc/hosts", NULL, MS_BIND, NULL) < 0 ||
	    mount(resolv, "/etc/resolv.conf", NULL, MS_BIND, NULL) < 0)
		return -4;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return -5;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return -6;
	close(fd);
	return 0;
}

/* A name server that hears and never answers. */
static int silent_server(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(53)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return -1;
	return fd;
}

static void cases(struct loop *l)
{
	struct got g = {0};
	struct resolver *r = resolver_new(l, 1, 200, on_answer, &g);
	struct resolver_stats st;
	int silent;

	T_ASSERT(r != NULL, "resolver_new");
	if (!r)
		return;
	T_CASE("a name from /etc/hosts comes back through the loop, with its tag")
	{
		T_EQ_INT(resolver_lookup(r, "resolver-test.example", AF_INET, 42), 0);
		T_EQ_INT(g.calls, 0); /* never from inside resolver_lookup */
		run_until(l, r, &g, 1, false, 3000);
		T_EQ_INT(g.calls, 1);
		T_EQ_INT(g.tag, 42);
		T_EQ_INT(g.err, 0);
		T_EQ_INT(g.n, 1);
		T_ASSERT(g.addrs[0].family == AF_INET && g.addrs[0].b[0] == 10 &&
			     g.addrs[0].b[3] == 7,
			 "10.9.8.7");
	}
	T_CASE("AF_INET6 takes either family; AF_INET only IPv4")
	{
		g.calls = 0;
		T_EQ_INT(resolver_lookup(r, "resolver-six.example", AF_INET6, 6), 0);
		run_until(l, r, &g, 1, false, 3000);
		T_EQ_INT(g.err, 0);
		T_ASSERT(g.n >= 1 && g.addrs[0].family == AF_INET6 && g.addrs[0].b[0] == 0xfd,
			 "fd00::7");
		g.calls = 0;
		T_EQ_INT(resolver_lookup(r, "resolver-six.example", AF_INET, 4), 0);
		run_until(l, r, &g, 1, false, 3000);
		T_EQ_INT(g.err, GLUED_ENOTFOUND);
	}
	T_CASE("a name nobody knows (the name server refuses at once): not found")
	{
		g.calls = 0;
		T_EQ_INT(resolver_lookup(r, "nobody.example", AF_INET, 5), 0);
		run_until(l, r, &g, 1, false, 3000);
		T_EQ_INT(g.calls, 1);
		T_EQ_INT(g.err, GLUED_ENOTFOUND);
	}
	T_CASE("a name longer than a host name is refused before any lookup")
	{
		char big[RESOLVER_HOST_MAX + 1];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		T_EQ_INT(resolver_lookup(r, big, AF_INET, 0), -ENAMETOOLONG);
	}

	silent = silent_server();
	T_ASSERT(silent >= 0, "silent name server on 127.0.0.1:53");
	T_CASE("a silent name server: -ETIMEDOUT after timeout_ms; the slot stays taken, "
	       "so the bound refuses more at once, until glibc gives up")
	{
		g.calls = 0;
		T_EQ_INT(resolver_lookup(r, "hang.example", AF_INET, 9), 0);
		run_until(l, r, &g, 1, false, 1500); /* 200 ms, well before glibc's 2 s */
		T_EQ_INT(g.calls, 1);
		T_EQ_INT(g.tag, 9);
		T_EQ_INT(g.err, -ETIMEDOUT);
		T_EQ_INT(resolver_pending(r), 1);
		T_EQ_INT(resolver_lookup(r, "resolver-test.example", AF_INET, 10), -EBUSY);
		run_until(l, r, &g, 0, true, GLIBC_TIMEOUT_S * 1000 + 3000);
		T_EQ_INT(resolver_pending(r), 0);
		T_EQ_INT(g.calls, 1); /* the abandoned lookup's late answer is dropped */
		T_EQ_INT(resolver_lookup(r, "resolver-test.example", AF_INET, 11), 0);
		run_until(l, r, &g, 2, false, 3000);
		T_EQ_INT(g.tag, 11);
		T_EQ_INT(g.err, 0);
		resolver_get_stats(r, &st);
		T_EQ_INT(st.timed_out, 1);
		T_EQ_INT(st.busy, 1);
		T_EQ_INT(st.resolved, 3);
		T_EQ_INT(st.not_found, 2);
	}
	T_CASE("freed while a lookup hangs: returns without waiting for glibc")
	{
		uint64_t t0;

		T_EQ_INT(resolver_lookup(r, "hang2.example", AF_INET, 12), 0);
		run_until(l, r, &g, 99, false, 100); /* the worker is inside getaddrinfo */
		t0 = clock_now_ms();
		resolver_free(r);
		T_ASSERT(clock_now_ms() - t0 < GLIBC_TIMEOUT_S * 1000 / 2, "free took %llu ms",
			 (unsigned long long)(clock_now_ms() - t0));
	}
	close(silent);
}

static int child(char *dir, int report_fd)
{
	const char *bad = NULL;
	struct loop *l;
	int ret = set_up_world(dir);
	char line[32];

	if (ret) {
		fprintf(stderr, "# world: step %d: %s\n", -ret, strerror(errno));
		return 3;
	}
	l = loop_new(64);
	if (!l)
		return 4;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || privs_seccomp(false, &bad) != 0)
		return 5;
	cases(l);
	snprintf(line, sizeof(line), "%d %d\n", t_passed, t_failed);
	if (write(report_fd, line, strlen(line)) < 0)
		return 6;
	return 0;
}

int main(void)
{
	char dir[] = "/tmp/glued-test-resolver-XXXXXX";
	char buf[32] = {0};
	int pfd[2], st = 0, p = 0, f = 0;
	pid_t pid;

	log_init(LOG_LVL_ERROR, false);
	if (geteuid() != 0) {
		printf("# skipped: needs root (namespaces)\n");
		return t_summary();
	}
	if (!mkdtemp(dir) || pipe(pfd) < 0)
		return 2;
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		_exit(child(dir, pfd[1])); /* _exit: no leak check under the filter */
	}
	close(pfd[1]);
	T_CASE("the lookups ran to the end under the seccomp filter")
	{
		ssize_t n = read(pfd[0], buf, sizeof(buf) - 1);

		T_ASSERT(waitpid(pid, &st, 0) == pid, "waitpid");
		T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0,
			 "child: %s %d (a signal: killed by the filter?)",
			 WIFSIGNALED(st) ? "signal" : "exit",
			 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		T_ASSERT(n > 0 && sscanf(buf, "%d %d", &p, &f) == 2, "the child's counts");
	}
	t_passed += p;
	t_failed += f;
	close(pfd[0]);
	{
		char path[96];

		snprintf(path, sizeof(path), "%s/hosts", dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/resolv.conf", dir);
		unlink(path);
		rmdir(dir);
	}
	return t_summary();
}
