/* glued_ctr_dns on a real lo, behind real Docker-style NAT (root; part of
 * test_bpf_ctr, so that the program is verified once per binary). The test
 * process moves into a network namespace of its own (it dies with the
 * process: nothing to clean up) and builds what Docker builds in every
 * container on a user-defined network: the resolver's NAT (DNAT udp
 * 127.0.0.11:53 -> 127.0.0.11:PORT on the way out, SNAT of the resolver's
 * replies back to :53) and a UDP socket on 127.0.0.11:PORT standing in for
 * dockerd's resolver, which answers every query with 10.99.99.99 and counts
 * them. Docker writes that NAT in one of two ways, and each gets a fresh
 * namespace of its own with only its own rules (proven by iptables-save and
 * nft list tables):
 *
 *   - iptables (Docker 20.10+): the chains DOCKER_OUTPUT and
 *     DOCKER_POSTROUTING of the nat table, jumped to from OUTPUT and
 *     POSTROUTING;
 *   - nftables (Docker 28.3+ with its nftables firewall backend):
 *     `table ip docker-dns`, a nat chain on the output hook at dstnat
 *     priority (-100) and one on postrouting at srcnat (100). Without the
 *     nft binary this variant fails and names the package (nftables).
 *
 * Then, with net.ipv4.conf.lo.route_localnet=1, the program on lo's egress
 * (tcx where the kernel has it, and clsact on every kernel):
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
 * Where the kernel has tcx (6.6+: required there) all of it runs twice per
 * NAT backend, as a tcx link and as a clsact filter; before 6.6 as a
 * clsact filter.
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
	uint16_t port; /* host order; 0 while no thread runs */
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

	memset(&sd, 0, sizeof(sd)); /* one stand-in per namespace */
	inet_pton(AF_INET, "127.0.0.11", &a.sin_addr);
	sd.fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (sd.fd < 0 || bind(sd.fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(sd.fd, (struct sockaddr *)&a, &al))
		return -errno;
	if (pthread_create(&sd.thr, NULL, standin_loop, NULL))
		return -1;
	sd.port = ntohs(a.sin_port); /* set: the thread runs */
	return 0;
}

static void standin_stop(void)
{
	sd.stop = 1;
	pthread_join(sd.thr, NULL);
	close(sd.fd);
	sd.port = 0; /* no stand-in any more */
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

/* Docker's two ways to write the resolver's NAT. */
enum nat_backend { NAT_IPTABLES, NAT_NFT };
static const char *const nat_name[] = {"iptables", "nftables"};

/* The whole output of `cmd` (stderr included) in out; its exit status. */
static int capture(const char *cmd, char *out, size_t cap)
{
	char full[512];
	size_t n = 0, r;
	FILE *p;

	snprintf(full, sizeof(full), "%s 2>&1", cmd);
	out[0] = 0;
	p = popen(full, "r");
	if (!p)
		return -1;
	while (n + 1 < cap && (r = fread(out + n, 1, cap - 1 - n, p)) > 0)
		n += r;
	out[n] = 0;
	return pclose(p);
}

static bool have_nft(void)
{
	return system("command -v nft >/dev/null 2>&1") == 0;
}

/* As moby's libnetwork writes them (resolver_unix.go, setupIptablesNAT and
 * setupNftablesNAT), UDP only: glued_ctr_dns never sees TCP. */
static int nat_rules(enum nat_backend nat, uint16_t port)
{
	if (nat == NAT_NFT)
		return sh("nft 'add table ip docker-dns; "
			  "add chain ip docker-dns dns-dnat "
			  "{ type nat hook output priority -100; policy accept; }; "
			  "add rule ip docker-dns dns-dnat ip daddr 127.0.0.11 udp dport 53 "
			  "counter dnat to 127.0.0.11:%u; "
			  "add chain ip docker-dns dns-snat "
			  "{ type nat hook postrouting priority 100; policy accept; }; "
			  "add rule ip docker-dns dns-snat ip saddr 127.0.0.11 udp sport %u "
			  "counter snat to :53'",
			  port, port);
	return sh(
	    "iptables -w -t nat -N DOCKER_OUTPUT && iptables -w -t nat -N DOCKER_POSTROUTING && "
	    "iptables -w -t nat -A OUTPUT -d 127.0.0.11/32 -j DOCKER_OUTPUT && "
	    "iptables -w -t nat -A POSTROUTING -d 127.0.0.11/32 -j DOCKER_POSTROUTING && "
	    "iptables -w -t nat -A DOCKER_OUTPUT -d 127.0.0.11/32 -p udp --dport 53 "
	    "-j DNAT --to-destination 127.0.0.11:%u && "
	    "iptables -w -t nat -A DOCKER_POSTROUTING -s 127.0.0.11/32 -p udp --sport %u "
	    "-j SNAT --to-source :53",
	    port, port);
}

/* Packets the DNAT rule has matched (one per new flow), -1 if unreadable. */
static long long nat_dnat_packets(enum nat_backend nat)
{
	char out[4096], *line, *save = NULL;
	long long n = -1;

	if (nat == NAT_NFT) {
		if (capture("nft list chain ip docker-dns dns-dnat", out, sizeof(out)) == 0 &&
		    (line = strstr(out, "counter packets ")))
			sscanf(line, "counter packets %lld", &n);
		return n;
	}
	/* "    pkts      bytes target ...": the rule's line names DNAT. */
	if (capture("iptables -w -t nat -L DOCKER_OUTPUT -v -x -n", out, sizeof(out)))
		return -1;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strstr(line, " DNAT ") && sscanf(line, "%lld", &n) == 1)
			break;
	return n;
}

/* A fresh namespace with lo up, route_localnet=1, a new stand-in and
 * Docker's NAT rules for its port, written through `nat` only. */
static int netns_setup(enum nat_backend nat)
{
	if (unshare(CLONE_NEWNET))
		return -errno;
	if (sh("ip link set lo up"))
		return -1;
	if (write_sysctl(ROUTE_LOCALNET, "1"))
		return -1;
	if (standin_start())
		return -1;
	return nat_rules(nat, sd.port);
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

/* "netns MODE: WHAT (NAT)": the case names of one attach mode behind one
 * NAT backend. */
static const char *case_name(char *buf, size_t cap, enum tc_mode mode, enum nat_backend nat,
			     const char *what)
{
	snprintf(buf, cap, "netns %s: %s (%s)", tc_mode_name[mode], what, nat_name[nat]);
	return buf;
}

/* Every check through one attach mode behind one NAT backend. */
static void ctr_netns_mode(enum tc_mode mode, enum nat_backend nat)
{
	char desc[200], got[256];
	long long dnat;
	uint64_t before;
	unsigned sgot;
	int fd;

	T_CASE(case_name(desc, sizeof(desc), mode, nat, "attach glued_ctr_dns on lo egress"))
	{
		fd = ctr_attach(mode);
		T_ASSERT(fd >= 0, "attach: %s", strerror(-fd));
	}
	if (fd < 0)
		return;

	T_CASE(case_name(desc, sizeof(desc), mode, nat,
			 "dig @127.0.0.11 web gets the program's answer from :53, dockerd nothing"))
	{
		before = ctr_stat(GLUED_STAT_answered);
		sgot = sd.got;
		dnat = nat_dnat_packets(nat);
		dig("web", got, sizeof(got));
		T_EQ_STR(got, "10.0.0.10");
		T_EQ_INT(ctr_stat(GLUED_STAT_answered) - before, 1);
		T_EQ_INT(sd.got - sgot, 0);
		/* The program saw the query after this backend's DNAT. */
		T_EQ_INT(nat_dnat_packets(nat) - dnat, 1);
	}

	T_CASE(case_name(desc, sizeof(desc), mode, nat,
			 "the application receives dns_answer()'s bytes from 127.0.0.11:53"))
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

	T_CASE(case_name(desc, sizeof(desc), mode, nat,
			 "an unknown name is answered by dockerd (miss)"))
	{
		before = ctr_stat(GLUED_STAT_miss);
		sgot = sd.got;
		dig("nosuchname", got, sizeof(got));
		T_EQ_STR(got, STANDIN_ADDR);
		T_EQ_INT(ctr_stat(GLUED_STAT_miss) - before, 1);
		T_EQ_INT(sd.got - sgot, 1);
	}

	T_CASE(case_name(desc, sizeof(desc), mode, nat,
			 "past alive_until_ns dockerd answers a known name (stale)"))
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

	T_CASE(case_name(desc, sizeof(desc), mode, nat,
			 "route_localnet reset while attached: answered, reply dropped (martian), "
			 "dockerd sees nothing"))
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

	T_CASE(case_name(desc, sizeof(desc), mode, nat, "detached, dockerd answers again"))
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

/* The proof that only `nat` holds Docker's rules in this namespace:
 * iptables-save (through iptables-nft or legacy) and nft
 * list tables (empty, or only iptables-nft's own `table ip nat`). */
static void nat_only(enum nat_backend nat)
{
	char ipt[4096], nft[1024], want[128];

	T_EQ_INT(capture("iptables-save", ipt, sizeof(ipt)), 0);
	if (nat == NAT_IPTABLES) {
		snprintf(want, sizeof(want), "-j DNAT --to-destination 127.0.0.11:%u", sd.port);
		T_ASSERT(strstr(ipt, want), "iptables-save has the DNAT: %s", ipt);
		/* Without nft nothing can have written an nftables table. */
		if (!have_nft())
			return;
		T_EQ_INT(capture("nft list tables", nft, sizeof(nft)), 0);
		T_ASSERT(!strstr(nft, "docker-dns"), "no table ip docker-dns: %s", nft);
		return;
	}
	T_ASSERT(!strstr(ipt, "-A "), "iptables-save has no rule: %s", ipt);
	T_EQ_INT(capture("nft list tables", nft, sizeof(nft)), 0);
	T_EQ_STR(nft, "table ip docker-dns\n");
	snprintf(want, sizeof(want), "dnat to 127.0.0.11:%u", sd.port);
	T_EQ_INT(capture("nft list table ip docker-dns", nft, sizeof(nft)), 0);
	T_ASSERT(strstr(nft, want) && strstr(nft, "snat to :53"), "the DNAT and SNAT: %s", nft);
}

/* Everything in a fresh namespace whose resolver NAT is written by `nat`. */
static void ctr_netns_nat(enum nat_backend nat)
{
	char desc[200], got[256];
	bool tcx, up = false;

	snprintf(desc, sizeof(desc),
		 "netns: namespace, route_localnet=1, Docker's NAT rules, dockerd's stand-in (%s)",
		 nat_name[nat]);
	T_CASE(desc)
	{
		/* make test installs nftables: its absence is a failure. */
		bool nft_ok = nat != NAT_NFT || have_nft();

		T_ASSERT(nft_ok, "no nft binary: install the Debian package nftables "
				 "(tools/deps.sh install test)");
		if (nft_ok) {
			int rc = netns_setup(nat);

			T_EQ_INT(rc, 0);
			up = rc == 0;
		}
	}
	if (!up) {
		if (sd.port)
			standin_stop(); /* the next namespace starts its own */
		return;
	}
	snprintf(desc, sizeof(desc),
		 "netns: Docker's NAT is in %s only (iptables-save, nft list tables)",
		 nat_name[nat]);
	T_CASE(desc)
	{
		nat_only(nat);
	}
	snprintf(desc, sizeof(desc),
		 "netns: without the program, dig @127.0.0.11 reaches the stand-in through the "
		 "DNAT (%s)",
		 nat_name[nat]);
	T_CASE(desc)
	{
		dig("web", got, sizeof(got));
		T_EQ_STR(got, STANDIN_ADDR);
		T_EQ_INT(sd.got, 1);
		T_EQ_INT(nat_dnat_packets(nat), 1);
	}
	/* tcx from 6.6: try it, and require it where the kernel has it. */
	{
		int fd = bpf_link_create(bpf_program__fd(skel->progs.glued_ctr_dns), 1, TCX_EGRESS_,
					 NULL);

		tcx = fd >= 0;
		if (fd >= 0)
			close(fd);
		snprintf(desc, sizeof(desc), "netns: tcx is there on 6.6 and later (%s)",
			 nat_name[nat]);
		T_CASE(desc)
		{
			T_ASSERT(tcx || !kernel_at_least(6, 6), "bpf_link_create(tcx egress): %s",
				 strerror(errno));
		}
	}
	if (tcx)
		ctr_netns_mode(TC_TCX, nat);
	ctr_netns_mode(TC_CLSACT, nat);
	standin_stop();
}

/* Each NAT backend in a namespace of its own: the second unshare leaves
 * the first namespace to die with its stand-in's socket. */
static void ctr_netns_run(void)
{
	ctr_netns_nat(NAT_IPTABLES);
	ctr_netns_nat(NAT_NFT);
}

#endif
