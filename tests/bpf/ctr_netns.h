/* glued_ctr_dns on a real lo, behind real Docker-style NAT (root; part of
 * test_bpf_ctr, so that the program is verified once per binary). The test
 * process moves into a network namespace of its own (it dies with the
 * process: nothing to clean up) and builds what Docker builds in every
 * container on a user-defined network: iptables NAT rules as Docker 20.10+
 * writes them (OUTPUT: DNAT udp 127.0.0.11:53 -> 127.0.0.11:PORT; POSTROUTING:
 * SNAT the resolver's replies back to :53) and a UDP socket on
 * 127.0.0.11:PORT standing in for dockerd's resolver, which answers every
 * query with 10.99.99.99 and counts them. Then, with
 * net.ipv4.conf.lo.route_localnet=1, the program on lo's egress (tcx where
 * the kernel has it, and clsact on every kernel):
 *
 *   - `dig @127.0.0.11 web` gets the program's answer, from 127.0.0.11:53
 *     (dig refuses a reply from another address or port), and the
 *     stand-in receives nothing; glued_ctr_stats `answered` moves;
 *   - a connected socket (it accepts only 127.0.0.11:53) gets bytes
 *     identical to dns_answer()'s: the reply as the application sees it;
 *   - an unknown name is answered by the stand-in (`miss`);
 *   - past alive_until_ns the stand-in answers everything (`stale`);
 *   - route_localnet reset to 0 while attached: the program still answers
 *     (`answered` moves) and the kernel drops the reply as a martian: the
 *     client gets nothing and the stand-in nothing. Userspace must detect
 *     the reset and detach (issue 12);
 *   - detached, the stand-in answers again.
 *
 * Where the kernel has tcx (6.6+: required there) all of it runs twice,
 * as a tcx link and as a clsact filter; before 6.6 as a clsact filter.
 */
#ifndef GLUED_TESTS_BPF_CTR_NETNS_H
#define GLUED_TESTS_BPF_CTR_NETNS_H

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>

#define TCX_EGRESS_ 47 /* BPF_TCX_EGRESS (6.6 uapi; libbpf 1.1 predates it) */
#define STANDIN_ADDR "10.99.99.99"

/* --- dockerd's stand-in ------------------------------------------------------------------------
 */

static struct standin {
	int fd;
	uint16_t port; /* host order */
	volatile int stop;
	volatile unsigned got;
	pthread_t thr;
} sd;

/* Answer every query: the question, one A record 10.99.99.99, no OPT. */
static void *standin_loop(void *arg)
{
	(void)arg;
	while (!sd.stop) {
		uint8_t q[1500], r[1600];
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		struct pollfd p = {.fd = sd.fd, .events = POLLIN};
		ssize_t n;
		size_t o = 12;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recvfrom(sd.fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
		if (n < 12)
			continue;
		sd.got++;
		while (o < (size_t)n && q[o] && q[o] < 64)
			o += 1u + q[o];
		o += 5; /* root, QTYPE, QCLASS */
		if (o > (size_t)n)
			continue;
		memcpy(r, q, o);
		r[2] = 0x81 | (q[2] & 0x01), r[3] = 0x80; /* QR, RD copied, RA */
		r[6] = 0, r[7] = 1, r[8] = r[9] = r[10] = r[11] = 0;
		memcpy(r + o, "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x05\x00\x04", 12);
		inet_pton(AF_INET, STANDIN_ADDR, r + o + 12);
		sendto(sd.fd, r, o + 16, 0, (struct sockaddr *)&from, fl);
	}
	return NULL;
}

static int standin_start(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof(a);

	inet_pton(AF_INET, "127.0.0.11", &a.sin_addr);
	sd.fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (sd.fd < 0 || bind(sd.fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(sd.fd, (struct sockaddr *)&a, &al))
		return -errno;
	sd.port = ntohs(a.sin_port);
	return pthread_create(&sd.thr, NULL, standin_loop, NULL) ? -1 : 0;
}

static void standin_stop(void)
{
	sd.stop = 1;
	pthread_join(sd.thr, NULL);
	close(sd.fd);
}

/* --- the namespace -----------------------------------------------------------------------------
 */

static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc)
		fprintf(stderr, "  ctr: `%s` exited %d\n", cmd, rc);
	return rc;
}

static int write_sysctl(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f)
		return -errno;
	rc = fputs(val, f) < 0 ? -EIO : 0;
	return fclose(f) ? -errno : rc;
}

#define ROUTE_LOCALNET "/proc/sys/net/ipv4/conf/lo/route_localnet"

/* A fresh namespace with lo up, route_localnet=1, Docker's NAT rules for
 * the stand-in's port. */
static int netns_setup(void)
{
	if (unshare(CLONE_NEWNET))
		return -errno;
	if (sh("ip link set lo up"))
		return -1;
	if (write_sysctl(ROUTE_LOCALNET, "1"))
		return -1;
	if (standin_start())
		return -1;
	/* As Docker writes them (libnetwork, resolver_unix.go). */
	return sh(
	    "iptables -w -t nat -N DOCKER_OUTPUT && iptables -w -t nat -N DOCKER_POSTROUTING && "
	    "iptables -w -t nat -A OUTPUT -d 127.0.0.11/32 -j DOCKER_OUTPUT && "
	    "iptables -w -t nat -A POSTROUTING -d 127.0.0.11/32 -j DOCKER_POSTROUTING && "
	    "iptables -w -t nat -A DOCKER_OUTPUT -d 127.0.0.11/32 -p udp --dport 53 "
	    "-j DNAT --to-destination 127.0.0.11:%u && "
	    "iptables -w -t nat -A DOCKER_POSTROUTING -s 127.0.0.11/32 -p udp --sport %u "
	    "-j SNAT --to-source :53",
	    sd.port, sd.port);
}

/* --- attach ------------------------------------------------------------------------------------
 */

enum tc_mode { TC_TCX, TC_CLSACT };
static const char *const tc_mode_name[] = {"tcx", "clsact"};

/* Attach on lo's egress; returns the link fd (tcx), 0 (clsact) or -errno. */
static int ctr_attach(enum tc_mode mode)
{
	int pfd = bpf_program__fd(skel->progs.glued_ctr_dns);

	if (mode == TC_TCX) {
		int fd = bpf_link_create(pfd, 1, TCX_EGRESS_, NULL);

		return fd < 0 ? -errno : fd;
	}
	{
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = 1, .attach_point = BPF_TC_EGRESS);
		LIBBPF_OPTS(bpf_tc_opts, o, .handle = 1, .priority = 1, .prog_fd = pfd);
		int err = bpf_tc_hook_create(&hook);

		if (err && err != -EEXIST)
			return err;
		return bpf_tc_attach(&hook, &o);
	}
}

static void ctr_detach(enum tc_mode mode, int fd)
{
	if (mode == TC_TCX) {
		close(fd);
	} else {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = 1, .attach_point = BPF_TC_EGRESS);

		bpf_tc_hook_destroy(&hook);
	}
}

/* --- asking ------------------------------------------------------------------------------------
 */

/* dig's one answer line (+short), "" when it got none. */
static void dig(const char *name, char *out, size_t cap)
{
	char cmd[256];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "dig +tries=1 +time=2 +short @127.0.0.11 %s A 2>&1", name);
	out[0] = 0;
	p = popen(cmd, "r");
	if (!p)
		return;
	if (!fgets(out, (int)cap, p))
		out[0] = 0;
	out[strcspn(out, "\n")] = 0;
	pclose(p);
}

/* The counter `stat` of glued_ctr_stats. */
static uint64_t ctr_stat(enum glued_stat stat)
{
	uint64_t v[GLUED_STAT_MAX];

	read_stats(skel->maps.glued_ctr_stats, v);
	return v[stat];
}

/* One query from a socket connected to 127.0.0.11:53 (the kernel delivers
 * it only what comes from there); the reply's length, 0 if none within
 * wait_ms. */
static size_t ask_connected(const uint8_t *q, size_t qlen, uint8_t *r, size_t cap, int wait_ms)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(53)};
	struct timeval tv = {.tv_sec = wait_ms / 1000, .tv_usec = (wait_ms % 1000) * 1000};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	ssize_t n = -1;

	inet_pton(AF_INET, "127.0.0.11", &a.sin_addr);
	if (fd >= 0 && !setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) &&
	    !connect(fd, (struct sockaddr *)&a, sizeof(a)) && send(fd, q, qlen, 0) == (ssize_t)qlen)
		n = recv(fd, r, cap, 0);
	if (fd >= 0)
		close(fd);
	return n > 0 ? (size_t)n : 0;
}

/* --- the cases ---------------------------------------------------------------------------------
 */

/* Every check through one attach mode. */
static void ctr_netns_mode(enum tc_mode mode)
{
	char desc[160], got[256];
	uint64_t before;
	unsigned sgot;
	int fd;

	snprintf(desc, sizeof(desc), "netns %s: attach glued_ctr_dns on lo egress",
		 tc_mode_name[mode]);
	T_CASE(desc)
	{
		fd = ctr_attach(mode);
		T_ASSERT(fd >= 0, "attach: %s", strerror(-fd));
	}
	if (fd < 0)
		return;

	snprintf(
	    desc, sizeof(desc),
	    "netns %s: dig @127.0.0.11 web gets the program's answer from :53, dockerd nothing",
	    tc_mode_name[mode]);
	T_CASE(desc)
	{
		before = ctr_stat(GLUED_STAT_answered);
		sgot = sd.got;
		dig("web", got, sizeof(got));
		T_EQ_STR(got, "10.0.0.10");
		T_EQ_INT(ctr_stat(GLUED_STAT_answered) - before, 1);
		T_EQ_INT(sd.got - sgot, 0);
	}

	snprintf(desc, sizeof(desc),
		 "netns %s: the application receives dns_answer()'s bytes from 127.0.0.11:53",
		 tc_mode_name[mode]);
	T_CASE(desc)
	{
		static const struct qspec qs[] = {{.name = "DB", .opt = 1, .id = 0x4242},
						  {.name = "db", .qtype = 28},
						  {.name = "v6eight", .qtype = 28}};

		for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
			uint8_t q[512], r[1500];
			size_t ql = q_build(q, &qs[i]), rl;

			set_rot((uint32_t)i + 5);
			sgot = sd.got;
			rl = ask_connected(q, ql, r, sizeof(r), 2000);
			T_ASSERT(rl > 0, "a reply to %s", qs[i].name);
			if (rl)
				T_ASSERT(same_as_userspace(q, ql, (uint32_t)i + 5, r, rl),
					 "reply identical to dns_answer() (%s)", qs[i].name);
			T_EQ_INT(sd.got - sgot, 0);
		}
	}

	snprintf(desc, sizeof(desc), "netns %s: an unknown name is answered by dockerd (miss)",
		 tc_mode_name[mode]);
	T_CASE(desc)
	{
		before = ctr_stat(GLUED_STAT_miss);
		sgot = sd.got;
		dig("nosuchname", got, sizeof(got));
		T_EQ_STR(got, STANDIN_ADDR);
		T_EQ_INT(ctr_stat(GLUED_STAT_miss) - before, 1);
		T_EQ_INT(sd.got - sgot, 1);
	}

	snprintf(desc, sizeof(desc),
		 "netns %s: past alive_until_ns dockerd answers a known name (stale)",
		 tc_mode_name[mode]);
	T_CASE(desc)
	{
		T_EQ_INT(set_config_alive(GLUED_CFG_ENABLED, mono_ns() - 1000000000u), 0);
		before = ctr_stat(GLUED_STAT_stale);
		sgot = sd.got;
		dig("web", got, sizeof(got));
		T_EQ_STR(got, STANDIN_ADDR);
		T_EQ_INT(ctr_stat(GLUED_STAT_stale) - before, 1);
		T_EQ_INT(sd.got - sgot, 1);
		T_EQ_INT(set_config(GLUED_CFG_ENABLED), 0);
	}

	snprintf(
	    desc, sizeof(desc),
	    "netns %s: route_localnet reset while attached: answered, reply dropped (martian), "
	    "dockerd sees nothing",
	    tc_mode_name[mode]);
	T_CASE(desc)
	{
		uint8_t q[512], r[1500];
		size_t ql = q_build(q, &(struct qspec){.name = "web"});

		T_EQ_INT(write_sysctl(ROUTE_LOCALNET, "0"), 0);
		before = ctr_stat(GLUED_STAT_answered);
		sgot = sd.got;
		T_EQ_INT(ask_connected(q, ql, r, sizeof(r), 1000), 0);
		T_EQ_INT(ctr_stat(GLUED_STAT_answered) - before, 1);
		T_EQ_INT(sd.got - sgot, 0);
		T_EQ_INT(write_sysctl(ROUTE_LOCALNET, "1"), 0);
		dig("web", got, sizeof(got));
		T_EQ_STR(got, "10.0.0.10"); /* and back once it is 1 again */
	}

	snprintf(desc, sizeof(desc), "netns %s: detached, dockerd answers again",
		 tc_mode_name[mode]);
	T_CASE(desc)
	{
		ctr_detach(mode, fd);
		sgot = sd.got;
		dig("web", got, sizeof(got));
		T_EQ_STR(got, STANDIN_ADDR);
		T_EQ_INT(sd.got - sgot, 1);
	}
}

/* Kernel release >= maj.min. */
static bool kernel_at_least(int maj, int min)
{
	FILE *f = fopen("/proc/sys/kernel/osrelease", "r");
	int a = 0, b = 0;

	if (!f)
		return false;
	if (fscanf(f, "%d.%d", &a, &b) != 2)
		a = b = 0;
	fclose(f);
	return a > maj || (a == maj && b >= min);
}

static void ctr_netns_run(void)
{
	char got[256];
	bool tcx;

	T_CASE("netns: namespace, route_localnet=1, Docker's NAT rules, dockerd's stand-in")
	{
		T_EQ_INT(netns_setup(), 0);
	}
	if (!sd.port)
		return;
	T_CASE("netns: without the program, dig @127.0.0.11 reaches the stand-in through the DNAT")
	{
		dig("web", got, sizeof(got));
		T_EQ_STR(got, STANDIN_ADDR);
		T_EQ_INT(sd.got, 1);
	}
	/* tcx from 6.6: try it, and require it where the kernel has it. */
	{
		int fd = bpf_link_create(bpf_program__fd(skel->progs.glued_ctr_dns), 1, TCX_EGRESS_,
					 NULL);

		tcx = fd >= 0;
		if (fd >= 0)
			close(fd);
		T_CASE("netns: tcx is there on 6.6 and later")
		{
			T_ASSERT(tcx || !kernel_at_least(6, 6), "bpf_link_create(tcx egress): %s",
				 strerror(errno));
		}
	}
	if (tcx)
		ctr_netns_mode(TC_TCX);
	ctr_netns_mode(TC_CLSACT);
	standin_stop();
}

#endif
