/* io/ctr_netns on the running kernel, in a network namespace shaped like a
 * Docker container's for DNS: lo up, Docker's NAT (OUTPUT DNAT
 * 127.0.0.11:53 -> 127.0.0.11:5300, POSTROUTING SNAT back to :53, made with
 * iptables as dockerd makes it) and a stand-in for dockerd's resolver on
 * 127.0.0.11:5300 that counts what reaches it and answers with RCODE 3.
 * Jobs are run as io/ctr_attach's helper thread runs them; queries are
 * sent from inside the netns to 127.0.0.11:53 as a container's are.
 *
 * Which hook is used depends on the kernel (tcx from 6.6, else clsact);
 * CTR_EXPECT_MODE=tcx|clsact (tools/vm/check.sh sets it per kernel) makes
 * the test insist on one. Needs root (netns, BPF, iptables). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/table.h"
#include "glued_dns.skel.h"
#include "io/bpf_names.h"
#include "io/ctr_netns.h"
#include "t.h"
#include "ttable.h"

#define FAKE_PORT 5300
#define ID "00000000000000000000000000000000000000000000000000000000000000aa"

static struct glued_dns *skel;
static char ns_name[64], ns_path[96];
static atomic_int fake_seen;
static atomic_bool fake_stop;
static int fake_fd = -1;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int enter(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return -errno;
	rc = setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

/* dockerd's stand-in: every datagram counted and answered with RCODE 3. */
static void *fake_main(void *arg)
{
	uint8_t buf[512];

	(void)arg;
	while (!fake_stop) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fake_fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

		if (n < 12)
			continue;
		fake_seen++;
		buf[2] |= 0x80;
		buf[3] = (uint8_t)((buf[3] & 0xf0) | 3);
		(void)sendto(fake_fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
	}
	return NULL;
}

struct ask {
	const char *name;
	int rcode;		    /* -1: no reply */
	char addr[INET_ADDRSTRLEN]; /* the first A, "" if none */
};

/* A query for a->name from inside the netns to 127.0.0.11:53. */
static void *ask_main(void *arg)
{
	struct ask *a = arg;
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(53)};
	struct timeval tv = {.tv_sec = 1};
	uint8_t q[300], r[512];
	size_t n = 0, len = strlen(a->name);
	ssize_t got;
	int fd;

	a->rcode = -1;
	a->addr[0] = 0;
	if (enter(ns_path))
		return NULL;
	inet_pton(AF_INET, "127.0.0.11", &to.sin_addr);
	memcpy(q, "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
	n = 12;
	q[n++] = (uint8_t)len;
	memcpy(q + n, a->name, len);
	n += len;
	memcpy(q + n, "\x00\x00\x01\x00\x01", 5);
	n += 5;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(fd, q, n, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)n &&
	    (got = recv(fd, r, sizeof(r), 0)) >= 12 && r[0] == 0x12 && r[1] == 0x34) {
		a->rcode = r[3] & 0x0f;
		if (r[7] >= 1 && got >= 4)
			inet_ntop(AF_INET, r + got - 4, a->addr, sizeof(a->addr));
	}
	close(fd);
	return NULL;
}

static struct ask ask(const char *name)
{
	struct ask a = {.name = name};
	pthread_t t;

	pthread_create(&t, NULL, ask_main, &a);
	pthread_join(t, NULL);
	return a;
}

/* The resolver's answer to name, once the program is gone from lo: the
 * kernel releases a link whose last reference went a moment later (a
 * deferred put), and meanwhile a reply the program sends is dropped. */
static struct ask ask_resolver(const char *name)
{
	struct ask a = ask(name);

	for (int i = 0; i < 20 && a.rcode != 3; i++) {
		usleep(50000);
		a = ask(name);
	}
	return a;
}

static uint64_t ctr_answered(void)
{
	struct glued_stats st;
	int ncpu = libbpf_num_possible_cpus();
	struct glued_stats *v = calloc((size_t)ncpu, sizeof(*v));
	uint32_t k = 0;
	uint64_t sum = 0;

	if (v && bpf_map_lookup_elem(bpf_map__fd(skel->maps.glued_ctr_stats), &k, v) == 0)
		for (int c = 0; c < ncpu; c++)
			sum += v[c].answered;
	free(v);
	(void)st;
	return sum;
}

static int localnet(void)
{
	char out[16] = "";
	FILE *f;
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "ip netns exec %s cat /proc/sys/net/ipv4/conf/lo/route_localnet",
		 ns_name);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	if (!fgets(out, sizeof(out), f))
		out[0] = 0;
	pclose(f);
	return out[0] ? atoi(out) : -1;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int fill_maps(void)
{
	struct glued_bpf_config c;
	struct table_answer ans;
	struct table *t = table_new();
	struct glued_name_key key;
	struct glued_name_val val;
	uint32_t k = 0;
	int rc = -1;

	if (!t)
		return -1;
	t_table_put(t, "c1", "web", (const char *const[]){"10.0.0.10"}, 1);
	if (!table_lookup(t, "web", 3, &ans))
		goto out;
	if (bpf_names_encode("web", 3, &ans, &key, &val) ||
	    bpf_map_update_elem(bpf_map__fd(skel->maps.glued_names), &key, &val, BPF_ANY))
		goto out;
	bpf_config_init(&c, 5, 53);
	bpf_config_set_alive(&c, mono_ns() + 3600ull * 1000000000u);
	rc = bpf_map_update_elem(bpf_map__fd(skel->maps.glued_config), &k, &c, BPF_ANY);
out:
	table_free(t);
	return rc;
}

/* A private mount namespace with its own bpffs for the pins: nothing of
 * the test's outlives it, whatever /sys/fs/bpf is on this machine. */
static char bpffs[64];

static int private_mounts(void)
{
	snprintf(bpffs, sizeof(bpffs), "/tmp/glued-ctrt-bpf-%d", (int)getpid());
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	if (mkdir(bpffs, 0700) < 0 && errno != EEXIST)
		return -errno;
	return mount("bpf", bpffs, "bpf", 0, "mode=0700") < 0 ? -errno : 0;
}

static int setup(struct ctr_netns *ns)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(FAKE_PORT)};
	struct timeval tv = {.tv_usec = 200000};
	int home;

	snprintf(ns_name, sizeof(ns_name), "glued-ctrt-%d", (int)getpid());
	snprintf(ns_path, sizeof(ns_path), "/run/netns/%s", ns_name);
	if (sh("ip netns add %s && ip -n %s link set lo up", ns_name, ns_name) ||
	    sh("ip netns exec %s iptables -t nat -A OUTPUT -d 127.0.0.11/32 -p udp --dport 53 "
	       "-j DNAT --to-destination 127.0.0.11:%d",
	       ns_name, FAKE_PORT) ||
	    sh("ip netns exec %s iptables -t nat -A POSTROUTING -s 127.0.0.11/32 -p udp "
	       "--sport %d -j SNAT --to-source :53",
	       ns_name, FAKE_PORT)) {
		fprintf(stderr, "# setup: ip netns / iptables failed\n");
		return -1;
	}
	/* the stand-in's socket belongs to the netns it was made in */
	home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0 || enter(ns_path)) {
		fprintf(stderr, "# setup: enter %s: %s\n", ns_path, strerror(errno));
		return -1;
	}
	inet_pton(AF_INET, "127.0.0.11", &a.sin_addr);
	fake_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fake_fd < 0 || bind(fake_fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	setsockopt(fake_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (setns(home, CLONE_NEWNET) < 0)
		return -1;
	close(home);

	skel = glued_dns__open_and_load();
	if (!skel || fill_maps()) {
		fprintf(stderr, "# setup: load glued_dns or fill its maps: %s\n", strerror(errno));
		return -1;
	}
	ns->prog_fd = bpf_program__fd(skel->progs.glued_ctr_dns);
	ns->home_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	snprintf(ns->pin_dir, sizeof(ns->pin_dir), "%s", bpffs);
	return ns->home_fd < 0 ? -1 : 0;
}

static void job(const struct ctr_netns *ns, enum ctr_job_kind kind, enum ctr_mode mode, bool pinned,
		bool restore, struct ctr_result *r)
{
	struct ctr_job j = {.kind = kind,
			    .mode = mode,
			    .pinned = pinned,
			    .restore_localnet = restore,
			    .restore_accept_local = restore};

	snprintf(j.id, sizeof(j.id), "%s", ID);
	snprintf(j.sandbox, sizeof(j.sandbox), "%s", ns_path);
	ctr_netns_run(ns, &j, r);
}

static bool pinned(const struct ctr_netns *ns)
{
	char p[CONFIG_PATH_MAX + 80];

	ctr_netns_pin_path(ns, ID, p, sizeof(p));
	return access(p, F_OK) == 0;
}

int main(void)
{
	struct ctr_netns ns = {.prog_fd = -1, .home_fd = -1};
	struct ctr_result r;
	const char *want = getenv("CTR_EXPECT_MODE");
	enum ctr_mode mode = CTR_MODE_NONE;
	pthread_t fake;
	struct ask a;
	uint64_t n0;
	int seen;
	bool ok = false;

	if (getuid() != 0) {
		T_ASSERT(0, "needs root (netns, BPF, iptables)");
		return t_summary();
	}
	T_CASE("a netns shaped like a container's: lo, Docker's NAT, a resolver on :5300")
	{
		int rc = private_mounts();

		T_ASSERT(rc == 0, "private mount namespace and bpffs: %s", strerror(-rc));
		ok = rc == 0 && setup(&ns) == 0;
		T_ASSERT(ok, "setup: %s", strerror(errno));
	}
	if (!ok)
		goto out;
	pthread_create(&fake, NULL, fake_main, NULL);
	T_CASE("without the program, 127.0.0.11:53 reaches the resolver through the NAT")
	{
		a = ask("web");
		T_ASSERT(a.rcode == 3 && fake_seen == 1, "rcode %d, resolver saw %d", a.rcode,
			 (int)fake_seen);
		T_EQ_INT(localnet(), 0);
	}
	T_CASE("attach: route_localnet set, the program on lo (tcx pinned, or clsact)")
	{
		job(&ns, CTR_JOB_ATTACH, CTR_MODE_NONE, false, false, &r);
		T_ASSERT(r.err == 0, "attach: %s (step %d)", strerror(-r.err), r.step);
		mode = r.mode;
		T_ASSERT(mode == CTR_MODE_TCX || mode == CTR_MODE_CLSACT, "mode %d", mode);
		if (want)
			T_ASSERT(!strcmp(want, mode == CTR_MODE_TCX ? "tcx" : "clsact"),
				 "mode %s, want %s", mode == CTR_MODE_TCX ? "tcx" : "clsact", want);
		fprintf(stderr, "# attached as %s\n", mode == CTR_MODE_TCX ? "tcx" : "clsact");
		T_ASSERT(r.set_localnet && !r.adopted, "set_localnet %d adopted %d", r.set_localnet,
			 r.adopted);
		T_EQ_INT(localnet(), 1);
		T_ASSERT(pinned(&ns) == (mode == CTR_MODE_TCX), "a pin exactly for tcx");
	}
	T_CASE("a known name is answered in the netns; the resolver sees nothing")
	{
		n0 = ctr_answered();
		seen = fake_seen;
		a = ask("web");
		T_ASSERT(a.rcode == 0 && !strcmp(a.addr, "10.0.0.10"), "rcode %d addr %s", a.rcode,
			 a.addr);
		T_EQ_INT(fake_seen, seen);
		T_EQ_INT(ctr_answered(), n0 + 1);
	}
	T_CASE("an unknown name goes on to the resolver, whose answer comes back")
	{
		seen = fake_seen;
		a = ask("nosuch");
		T_ASSERT(a.rcode == 3 && fake_seen == seen + 1, "rcode %d, resolver +%d", a.rcode,
			 fake_seen - seen);
	}
	T_CASE("check: route_localnet on, the program there")
	{
		job(&ns, CTR_JOB_CHECK, mode, true, false, &r);
		T_ASSERT(r.err == 0 && !r.localnet_off && !r.prog_missing,
			 "err %d off %d missing %d", r.err, r.localnet_off, r.prog_missing);
	}
	T_CASE("attach again (a restarted glued): the link or filter is adopted")
	{
		job(&ns, CTR_JOB_ATTACH, mode, mode == CTR_MODE_TCX, false, &r);
		T_ASSERT(r.err == 0 && r.adopted && r.mode == mode && !r.set_localnet,
			 "err %d adopted %d mode %d set %d", r.err, r.adopted, r.mode,
			 r.set_localnet);
		a = ask("web");
		T_ASSERT(!strcmp(a.addr, "10.0.0.10"), "answered after the adoption: %s", a.addr);
	}
	T_CASE("route_localnet reset by hand: the check detaches, the resolver answers")
	{
		T_EQ_INT(
		    sh("ip netns exec %s sysctl -qw net.ipv4.conf.lo.route_localnet=0", ns_name),
		    0);
		job(&ns, CTR_JOB_CHECK, mode, true, false, &r);
		T_ASSERT(r.err == 0 && r.localnet_off, "err %d off %d", r.err, r.localnet_off);
		T_ASSERT(!pinned(&ns), "the pin is gone");
		seen = fake_seen;
		a = ask_resolver("web");
		T_ASSERT(a.rcode == 3 && fake_seen > seen, "rcode %d, resolver +%d", a.rcode,
			 fake_seen - seen);
	}
	T_CASE("detach puts route_localnet back and takes the program away")
	{
		job(&ns, CTR_JOB_ATTACH, CTR_MODE_NONE, false, false, &r);
		T_ASSERT(r.err == 0 && r.set_localnet, "re-attach: %d", r.err);
		job(&ns, CTR_JOB_DETACH, mode, mode == CTR_MODE_TCX, true, &r);
		T_ASSERT(r.err == 0, "detach: %s", strerror(-r.err));
		T_EQ_INT(localnet(), 0);
		T_ASSERT(!pinned(&ns), "no pin");
		job(&ns, CTR_JOB_CHECK, mode, false, false, &r);
		T_ASSERT(r.localnet_off || r.prog_missing, "nothing left on lo");
		a = ask_resolver("web");
		T_EQ_INT(a.rcode, 3);
	}
	T_CASE("rp_filter on: accept_local set on lo too, answers still come; both put back")
	{
		T_EQ_INT(sh("ip netns exec %s sysctl -qw net.ipv4.conf.all.rp_filter=1", ns_name),
			 0);
		job(&ns, CTR_JOB_ATTACH, CTR_MODE_NONE, false, false, &r);
		T_ASSERT(r.err == 0 && r.set_localnet && r.set_accept_local,
			 "err %d localnet %d accept_local %d", r.err, r.set_localnet,
			 r.set_accept_local);
		a = ask("web");
		T_ASSERT(a.rcode == 0 && !strcmp(a.addr, "10.0.0.10"), "rcode %d addr %s", a.rcode,
			 a.addr);
		job(&ns, CTR_JOB_DETACH, r.mode, r.mode == CTR_MODE_TCX, true, &r);
		T_ASSERT(r.err == 0, "detach: %d", r.err);
		T_EQ_INT(localnet(), 0);
		a = ask_resolver("web");
		T_EQ_INT(a.rcode, 3);
	}
	fake_stop = true;
	pthread_join(fake, NULL);
	T_CASE("a netns that is gone: detach removes the pin and reports it gone, no error")
	{
		job(&ns, CTR_JOB_ATTACH, CTR_MODE_NONE, false, false, &r);
		T_EQ_INT(sh("ip netns del %s", ns_name), 0);
		job(&ns, CTR_JOB_DETACH, mode, true, true, &r);
		T_ASSERT(r.err == 0 && r.netns_gone, "err %d gone %d", r.err, r.netns_gone);
		T_ASSERT(!pinned(&ns), "no pin");
		job(&ns, CTR_JOB_ATTACH, CTR_MODE_NONE, false, false, &r);
		T_ASSERT(r.netns_gone && r.err, "attach into a gone netns: gone %d", r.netns_gone);
	}
out:
	sh("ip netns del %s 2>/dev/null", ns_name);
	glued_dns__destroy(skel);
	if (bpffs[0]) {
		umount(bpffs);
		rmdir(bpffs);
	}
	return t_summary();
}
