/* BPF_PROG_TEST_RUN tests of the kernel's response rate limiting
 * (bpf/glued_dns.bpf.c, rrl_over(); abi.h "glued_rrl") (root): the flags
 * of glued_allow decide, with the one lookup the program already does,
 * whether a source is exempt; a source that is not gets `rate` answers
 * banked per prefix, then its queries pass up counted `rate_limited`
 * (untouched: userspace's RRL decides); NODATA (no larger than the query)
 * never counts; prefixes aggregate; the credit comes back with time. The
 * program's clock cannot be moved under BPF_PROG_TEST_RUN, so time is
 * moved through the bucket the map exposes: its tat_ns set back. The
 * rate is glued_config's `rrl` (ABI 5), written as fp_config_write() does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "t.h"
#include "pkt.h"
#include "glued_dns.skel.h"
#include "core/table.h"
#include "io/bpf_names.h"

#define RATE 10

static struct glued_dns *skel;
static int ncpus;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* glued_config as the daemon writes it (fp_config_write()): an hour alive,
 * `rate` answers per second per /24 or /56 (0: off). */
static int config(uint32_t rate)
{
	struct glued_bpf_config c;
	uint32_t zero = 0;

	bpf_config_init(&c, 5, 53);
	bpf_config_set_alive(&c, mono_ns() + 3600ull * 1000000000u);
	bpf_config_set_rrl(&c, rate, 24, 56);
	return bpf_map_update_elem(bpf_map__fd(skel->maps.glued_config), &zero, &c, BPF_ANY);
}

/* The maps as the daemon writes them: "web" (A 10.0.0.10, AAAA fd00::10),
 * "v4only" (A only: AAAA is NODATA), the server's addresses, the config
 * an hour alive, and the rate. */
static int setup(void)
{
	static const char *const names[][2] = {
	    {"web", "10.0.0.10"}, {"web", "fd00::10"}, {"v4only", "10.0.0.11"}};
	struct table *t = table_new();
	struct glued_local_key lk;
	struct glued_local_val lv = {0};
	struct table_answer ans;
	struct glued_name_key key;
	struct glued_name_val val;
	struct glued_addr a;
	int err = 0;

	for (size_t i = 0; i < 3; i++) {
		struct table_entry e = {.n_names = 1, .n_addrs = 1};

		snprintf(e.owner, sizeof(e.owner), "c%zu", i);
		snprintf(e.names[0], sizeof(e.names[0]), "%s", names[i][0]);
		if (addr_parse(&e.addrs[0], names[i][1]) || table_put(t, &e))
			abort();
	}
	for (size_t i = 0; i < 2; i++) {
		const char *n = i ? "v4only" : "web";

		if (!table_lookup(t, n, strlen(n), &ans) ||
		    bpf_names_encode(n, strlen(n), &ans, &key, &val))
			abort();
		err |=
		    bpf_map_update_elem(bpf_map__fd(skel->maps.glued_names), &key, &val, BPF_ANY);
	}
	table_free(t);
	err |= config(RATE);
	for (size_t i = 0; i < 2; i++) {
		if (addr_parse(&a, i ? "fd00::1" : "10.0.0.1") || bpf_local_key(&a, &lk))
			abort();
		err |= bpf_map_update_elem(bpf_map__fd(skel->maps.glued_addrs), &lk, &lv, BPF_ANY);
	}
	return err;
}

/* glued_allow: prefix s with flags (0: remove it). */
static int allow(const char *s, uint8_t flags)
{
	struct glued_allow_key k = {0};
	struct glued_cidr c;
	int fd = bpf_map__fd(skel->maps.glued_allow);

	if (cidr_parse(&c, s))
		return -1;
	k.family = c.addr.family == AF_INET ? GLUED_FAMILY_V4 : GLUED_FAMILY_V6;
	memcpy(k.addr, c.addr.b, c.addr.family == AF_INET ? 4 : 16);
	k.prefixlen = 8u + c.prefix;
	return flags ? bpf_map_update_elem(fd, &k, &flags, BPF_ANY) : bpf_map_delete_elem(fd, &k);
}

static uint64_t stat_sum(enum glued_stat i)
{
	struct glued_stats st[ncpus];
	uint32_t k = 0;
	uint64_t n = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.glued_stats), &k, st))
		abort();
	for (int c = 0; c < ncpus; c++)
		n += ((uint64_t *)&st[c])[i];
	return n;
}

/* The IPv4 header and UDP checksums of a frame whose source was patched. */
static void fix_sums(uint8_t *f, int v6, size_t n)
{
	size_t ip = 14, udp = ip + (v6 ? 40 : 20), ulen = n - udp;
	uint16_t c;

	if (!v6) {
		f[ip + 10] = f[ip + 11] = 0;
		c = (uint16_t)~fold16(sum16(f + ip, 20, 0));
		f[ip + 10] = c >> 8, f[ip + 11] = c & 0xff;
	}
	f[udp + 6] = f[udp + 7] = 0;
	c = (uint16_t)~udp_sum(f + ip, v6, f + udp, ulen);
	c = c ? c : 0xffff;
	f[udp + 6] = c >> 8, f[udp + 7] = c & 0xff;
}

/* A query frame for name/qtype from the client, its source's last byte
 * replaced by src_last and the byte that decides its prefix (IPv4: the
 * third, inside a /24's; IPv6: the seventh, inside a /56's) by src_mid. */
static size_t frame(uint8_t *f, int v6, const char *name, uint16_t qtype, uint8_t src_mid,
		    uint8_t src_last)
{
	struct qspec q = {.name = name, .qtype = qtype};
	struct fspec fs = {.v6 = v6};
	uint8_t dns[512];
	size_t dlen = q_build(dns, &q), n = frame_build(f, &fs, dns, dlen);

	f[14 + (v6 ? 8 + 15 : 12 + 3)] = src_last;
	f[14 + (v6 ? 8 + 6 : 12 + 2)] = src_mid;
	fix_sums(f, v6, n);
	return n;
}

/* Run one frame; 1 answered (XDP_TX / redirect), 0 passed untouched, -1
 * anything else (an error, or a passed frame that changed). */
static int run(int tc, const uint8_t *f, size_t n)
{
	struct bpf_program *prog = tc ? skel->progs.glued_tc_dns : skel->progs.glued_xdp_dns;
	uint8_t out[2048];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = (uint32_t)n,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &o))
		return -1;
	if (o.retval == (tc ? TC_ACT_REDIRECT : XDP_TX))
		return 1;
	if (o.retval == (tc ? TC_ACT_OK : XDP_PASS) && o.data_size_out == n && !memcmp(out, f, n))
		return 0;
	return -1;
}

/* k runs of the frame: how many were answered (-1 on any other outcome). */
static int answered(int tc, const uint8_t *f, size_t n, int k)
{
	int yes = 0;

	for (int i = 0; i < k; i++) {
		int r = run(tc, f, n);

		if (r < 0)
			return -1;
		yes += r;
	}
	return yes;
}

/* The bucket of a prefix, read, or with set its tat put at now + ahead_ns
 * (ahead_ns <= 0: full credit; 1 s ahead: spent). */
static int bucket(int v6, const char *prefix, int set, int64_t ahead_ns, struct glued_rrl_bucket *b)
{
	struct glued_rrl_key k = {.family = v6 ? GLUED_FAMILY_V6 : GLUED_FAMILY_V4};
	uint8_t a[16] = {0};
	int fd = bpf_map__fd(skel->maps.glued_rrl);

	if (inet_pton(v6 ? AF_INET6 : AF_INET, prefix, a) != 1)
		abort();
	memcpy(k.addr, a, sizeof(k.addr));
	if (bpf_map_lookup_elem(fd, &k, b))
		return -1;
	if (!set)
		return 0;
	b->tat_ns = mono_ns() + (uint64_t)ahead_ns;
	return bpf_map_update_elem(fd, &k, b, BPF_EXIST);
}

/* Credits that can come back while el_ns pass at RATE (the runs below
 * take milliseconds, but a loaded machine or a slow VM stretches them). */
static int refill(uint64_t el_ns)
{
	return (int)(el_ns * RATE / 1000000000ull) + 1;
}

int main(void)
{
	struct glued_rrl_bucket b;
	uint8_t f[2048], g[2048];
	size_t n, m;
	uint64_t before, t0, el, tat;
	int k;

	setrlimit(RLIMIT_MEMLOCK, &(struct rlimit){RLIM_INFINITY, RLIM_INFINITY});
	ncpus = libbpf_num_possible_cpus();
	skel = glued_dns__open_and_load();
	if (!skel) {
		fprintf(stderr, "bpf: cannot load glued_dns (root? %s)\n", strerror(errno));
		printf("0 passed, 1 failed\n");
		return 1;
	}
	T_CASE("maps written as the daemon writes them")
	T_EQ_INT(setup(), 0);

	T_CASE("an exempt source (allowed | exempt) is never limited and leaves no bucket")
	{
		T_EQ_INT(allow("10.0.0.0/24", GLUED_ALLOW_F_ALLOWED | GLUED_ALLOW_F_RRL_EXEMPT), 0);
		n = frame(f, 0, "web", 1, 0, 99);
		T_EQ_INT(answered(0, f, n, 5 * RATE), 5 * RATE);
		T_EQ_INT(answered(1, f, n, 5 * RATE), 5 * RATE);
		T_ASSERT(bucket(0, "10.0.0.0", 0, 0, &b) < 0, "no glued_rrl entry for 10.0.0.0/24");
	}
	T_CASE("allowed, not exempt: `rate` answers banked, then passed up counted rate_limited")
	{
		T_EQ_INT(allow("10.0.0.0/24", GLUED_ALLOW_F_ALLOWED), 0);
		before = stat_sum(GLUED_STAT_rate_limited);
		t0 = mono_ns();
		k = answered(0, f, n, RATE + 5);
		k += answered(1, f, n, 5); /* TC meets the same bucket */
		el = mono_ns() - t0;
		T_ASSERT(k >= RATE && k <= RATE + refill(el), "answered %d of %d in %llu us", k,
			 RATE + 10, (unsigned long long)(el / 1000));
		T_EQ_INT(stat_sum(GLUED_STAT_rate_limited) - before, RATE + 10 - k);
		T_EQ_INT(bucket(0, "10.0.0.0", 0, 0, &b), 0);
		T_ASSERT(b.tat_ns > mono_ns() + 500000000ull, "the bucket is spent: tat %llu",
			 (unsigned long long)b.tat_ns);
	}
	/* From here the bucket is put where a case needs it (10 s ahead: spent
	 * for longer than any run takes). */
	T_CASE("NODATA is no larger than its query: answered while the prefix is limited")
	{
		T_EQ_INT(bucket(0, "10.0.0.0", 1, 10000000000ll, &b), 0);
		m = frame(g, 0, "v4only", 28, 0, 99);
		T_EQ_INT(answered(0, g, m, 5), 5);
	}
	T_CASE("another source of the same /24 shares the bucket; another /24 has its own")
	{
		T_EQ_INT(allow("10.0.0.0/8", GLUED_ALLOW_F_ALLOWED), 0);
		m = frame(g, 0, "web", 1, 0, 7);
		T_EQ_INT(answered(0, g, m, 3), 0);
		/* 10.0.0.7 out of 10.0.0.0/24's entry: same bucket, now via 10/8 */
		T_EQ_INT(allow("10.0.0.0/24", 0), 0);
		T_EQ_INT(answered(0, g, m, 3), 0);
		m = frame(g, 0, "web", 1, 1, 7); /* 10.0.1.7 */
		T_EQ_INT(answered(0, g, m, 3), 3);
		T_EQ_INT(bucket(0, "10.0.1.0", 0, 0, &b), 0);
	}
	T_CASE("the credit comes back with time: a bucket a second old banks `rate` again")
	{
		T_EQ_INT(bucket(0, "10.0.0.0", 1, -1000000000ll, &b), 0);
		t0 = mono_ns();
		k = answered(0, f, n, RATE + 5);
		el = mono_ns() - t0;
		T_ASSERT(k >= RATE && k <= RATE + refill(el), "answered %d", k);
		/* Spent, then 0.15 s passed: one credit, and one per 0.1 s the
		 * runs take. */
		T_EQ_INT(bucket(0, "10.0.0.0", 1, 850000000ll, &b), 0);
		t0 = mono_ns();
		k = answered(0, f, n, 3);
		el = mono_ns() - t0;
		T_ASSERT(k >= 1 && k <= refill(el + 50000000ull), "answered %d", k);
	}
	T_CASE("not allowed at all: not_allowed, the bucket untouched")
	{
		T_EQ_INT(allow("10.0.0.0/8", 0), 0);
		T_EQ_INT(bucket(0, "10.0.0.0", 0, 0, &b), 0);
		tat = b.tat_ns;
		before = stat_sum(GLUED_STAT_not_allowed);
		T_EQ_INT(answered(0, f, n, 3), 0);
		T_EQ_INT(stat_sum(GLUED_STAT_not_allowed) - before, 3);
		T_EQ_INT(bucket(0, "10.0.0.0", 0, 0, &b), 0);
		T_EQ_INT(b.tat_ns, tat);
	}
	T_CASE("IPv6: a /56 is one bucket, the next /56 another")
	{
		T_EQ_INT(allow("fd00::/48", GLUED_ALLOW_F_ALLOWED), 0);
		n = frame(f, 1, "web", 28, 0, 0x99);
		k = answered(0, f, n, RATE);
		T_EQ_INT(k, RATE);
		T_EQ_INT(bucket(1, "fd00::", 1, 10000000000ll, &b), 0);
		m = frame(g, 1, "web", 28, 0, 0x42); /* fd00::42 */
		T_EQ_INT(answered(1, g, m, 3), 0);
		g[14 + 8 + 7] = 0x33; /* fd00:0:0:33::42: the byte after the /56 */
		fix_sums(g, 1, m);
		T_EQ_INT(answered(1, g, m, 3), 0);
		m = frame(g, 1, "web", 28, 1, 0x42); /* fd00:0:0:100::42: the next /56 */
		T_EQ_INT(answered(1, g, m, 3), 3);
		T_EQ_INT(allow("fd00::/48", GLUED_ALLOW_F_ALLOWED | GLUED_ALLOW_F_RRL_EXEMPT), 0);
		m = frame(g, 1, "web", 28, 0, 0x42);
		T_EQ_INT(answered(1, g, m, 3), 3);
	}
	T_CASE("rate 0 is off: no limit, no bucket")
	{
		T_EQ_INT(config(0), 0);
		T_EQ_INT(allow("10.0.0.0/8", GLUED_ALLOW_F_ALLOWED), 0);
		T_EQ_INT(bucket(0, "10.0.0.0", 1, 10000000000ll, &b), 0); /* spent */
		n = frame(f, 0, "web", 1, 0, 99);
		T_EQ_INT(answered(0, f, n, 3 * RATE), 3 * RATE);
		n = frame(f, 0, "web", 1, 5, 99); /* 10.0.5.0/24: never seen */
		T_EQ_INT(answered(1, f, n, 3 * RATE), 3 * RATE);
		T_ASSERT(bucket(0, "10.0.5.0", 0, 0, &b) < 0, "no glued_rrl entry for 10.0.5.0/24");
	}
	T_CASE("the rate is glued_config's: written again with it, the limit is back")
	{
		T_EQ_INT(config(RATE), 0);
		before = stat_sum(GLUED_STAT_rate_limited);
		t0 = mono_ns();
		k = answered(0, f, n, RATE + 5); /* 10.0.5.0/24: a full bucket */
		el = mono_ns() - t0;
		T_ASSERT(k >= RATE && k <= RATE + refill(el), "answered %d of %d", k, RATE + 5);
		T_EQ_INT(stat_sum(GLUED_STAT_rate_limited) - before, RATE + 5 - k);
	}
	glued_dns__destroy(skel);
	return t_summary();
}
