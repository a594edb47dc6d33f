/* The harness of the BPF_PROG_TEST_RUN tests (tests/bpf/test_*.c), one
 * program each: the skeleton loaded with only the programs a test runs (so
 * that the kernel matrix verifies each program once), the table mirrored
 * into glued_names through bpf_names_encode() (the daemon's encoding), the
 * config, local addresses, allow list and rotation set, one frame run
 * through one hook with the counters that moved in its stats map, and the
 * checks every test makes of a reply: a well-formed frame with addresses
 * and ports swapped and checksums that hold, and DNS bytes identical to
 * dns_answer()'s. The differential test is diff.h's. Test-only; static
 * functions, one includer per binary.
 */
#ifndef GLUED_TESTS_BPF_HARNESS_H
#define GLUED_TESTS_BPF_HARNESS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "t.h"
#include "ttable.h"
#include "pkt.h"
#include "glued_dns.skel.h"
#include "core/dns_answer.h"
#include "core/table.h"
#include "io/bpf_names.h"

#define TTL_S 5
#define LONG63 "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0"
enum verdict { PASS, TX };

/* The programs of the object, as run_prog() takes them. */
enum hook { HOOK_XDP, HOOK_TC, HOOK_CTR, HOOK_MAX };

/* A row of a test's table: a frame built from f and q, run with rot, must
 * get this verdict and move this counter (and only it). */
struct fixture {
	const char *desc;
	struct fspec f;
	struct qspec q;
	enum verdict verdict;
	enum glued_stat stat;
	uint32_t rot;
};

static struct glued_dns *skel;
static struct table *tbl;
static int ncpus;

/* Open and load the object with only the programs in `hooks` (a bit per
 * enum hook): each is verified once per test binary. */
static int harness_load(unsigned hooks)
{
	setrlimit(RLIMIT_MEMLOCK, &(struct rlimit){RLIM_INFINITY, RLIM_INFINITY});
	ncpus = libbpf_num_possible_cpus();
	skel = glued_dns__open();
	if (!skel)
		return -errno;
	bpf_program__set_autoload(skel->progs.glued_xdp_dns, !!(hooks & 1u << HOOK_XDP));
	bpf_program__set_autoload(skel->progs.glued_tc_dns, !!(hooks & 1u << HOOK_TC));
	bpf_program__set_autoload(skel->progs.glued_ctr_dns, !!(hooks & 1u << HOOK_CTR));
	return glued_dns__load(skel);
}

/* One line per loaded program: the instructions the verifier processed
 * (5.16+; the kernel matrix's log keeps them per kernel). */
static void harness_print_verified(void)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, skel->obj)
	{
		struct bpf_prog_info info = {0};
		__u32 len = sizeof(info);

		if (!bpf_program__autoload(p) ||
		    bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
			continue;
		if (info.verified_insns)
			fprintf(stderr, "bpf: %s: verifier processed %u instructions\n",
				bpf_program__name(p), info.verified_insns);
	}
}

/* --- setup ------------------------------------------------------------------------------------ */

/* n addresses fmt % i for name, in entries of at most 8. */
static void put_many(const char *name, const char *fmt, int n)
{
	for (int base = 0; base < n; base += TABLE_ENTRY_ADDRS_MAX) {
		char owner[64], a[TABLE_ENTRY_ADDRS_MAX][48];
		const char *p[TABLE_ENTRY_ADDRS_MAX];
		int k;

		for (k = 0; k < TABLE_ENTRY_ADDRS_MAX && base + k < n; k++) {
			snprintf(a[k], sizeof(a[k]), fmt, base + k + 1);
			p[k] = a[k];
		}
		snprintf(owner, sizeof(owner), "%s-%d", name, base);
		t_table_put(tbl, owner, name, p, (size_t)k);
	}
}

static int mirror_name(void *ctx, const char *name, size_t len, const struct table_answer *ans)
{
	struct glued_name_key key;
	struct glued_name_val val;
	int *err = ctx;

	if (bpf_names_encode(name, len, ans, &key, &val) ||
	    bpf_map_update_elem(bpf_map__fd(skel->maps.glued_names), &key, &val, BPF_ANY))
		*err = -1;
	return 0;
}

static int mirror(void)
{
	int err = 0;

	table_foreach_name(tbl, mirror_name, &err);
	return err;
}

static void setup_table(void)
{
	static const char *web[] = {"10.0.0.10", "fd00::10"};
	static const char *db[] = {"10.0.0.21", "10.0.0.20", "10.0.0.22"};
	static const char *v6only[] = {"fd00::31", "fd00::30"};
	static const char *l63[] = {"10.0.0.63"};
	static const char *one[] = {"10.0.0.77"};

	tbl = table_new();
	t_table_put(tbl, "c1", "web", web, 2);
	t_table_put(tbl, "c2", "db", db, 3);
	t_table_put(tbl, "c3", "v6only", v6only, 2);
	t_table_put(tbl, "c4", "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0",
		    l63, 1);
	t_table_put(tbl, "c5", "w", one, 1);
	t_table_put(tbl, "c6", "fallback9", one, 1);
	put_many("sixteen", "10.1.0.%d", 16);
	put_many("big", "10.2.0.%d", 20);
	put_many("v6eight", "fd00:8::%d", 8);
	put_many("v6nine", "fd00:9::%d", 9);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int set_config_alive(uint32_t flags, uint64_t alive_until_ns)
{
	struct glued_bpf_config c;
	uint32_t k = 0;

	bpf_config_init(&c, TTL_S, 53);
	bpf_config_set_alive(&c, alive_until_ns);
	c.flags = flags;
	return bpf_map_update_elem(bpf_map__fd(skel->maps.glued_config), &k, &c, BPF_ANY);
}

/* A deadline an hour ahead: the program's local-address cache is on (it
 * needs a non-zero alive_until_ns), so every fixture goes through it. */
static int set_config(uint32_t flags)
{
	return set_config_alive(flags, mono_ns() + 3600ull * 1000000000u);
}

static inline int add_local(const char *s)
{
	struct glued_local_key k;
	struct glued_local_val v = {0};
	struct glued_addr a;

	if (addr_parse(&a, s) || bpf_local_key(&a, &k))
		return -1;
	return bpf_map_update_elem(bpf_map__fd(skel->maps.glued_addrs), &k, &v, BPF_ANY);
}

/* glued_allow: add (or with del, remove) the prefix s ("10.0.0.0/8"). */
static int allow_prefix(const char *s, int del)
{
	struct glued_allow_key k = {0};
	struct glued_cidr c;
	uint8_t one = 1;
	int fd = bpf_map__fd(skel->maps.glued_allow);

	if (cidr_parse(&c, s))
		return -1;
	k.family = c.addr.family == AF_INET ? GLUED_FAMILY_V4 : GLUED_FAMILY_V6;
	memcpy(k.addr, c.addr.b, c.addr.family == AF_INET ? 4 : 16);
	k.prefixlen = 8u + c.prefix;
	return del ? bpf_map_delete_elem(fd, &k) : bpf_map_update_elem(fd, &k, &one, BPF_ANY);
}

/* Per-CPU values travel in 8-byte slots, whatever the value size. */
static void set_rot(uint32_t rot)
{
	uint32_t k = 0;
	uint64_t v[ncpus];

	for (int i = 0; i < ncpus; i++)
		v[i] = rot;
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.glued_rot), &k, v, BPF_ANY))
		abort();
}

/* A stats map (glued_stats or glued_ctr_stats) summed over CPUs. */
static void read_stats(struct bpf_map *map, uint64_t out[GLUED_STAT_MAX])
{
	struct glued_stats st[ncpus];
	uint32_t k = 0;

	memset(out, 0, sizeof(uint64_t) * GLUED_STAT_MAX);
	if (bpf_map_lookup_elem(bpf_map__fd(map), &k, st))
		abort();
	for (int c = 0; c < ncpus; c++)
		for (int i = 0; i < GLUED_STAT_MAX; i++)
			out[i] += ((uint64_t *)&st[c])[i];
}

/* --- one run ---------------------------------------------------------------------------------- */

/* A query frame and the DNS message it carries: what a run of it is
 * checked against. */
struct qframe {
	uint8_t dns[2048];
	uint8_t in[2048 + 128]; /* room for the headers, a VLAN tag, IPv6 fragment header */
	size_t dlen, len;
};

/* The frame f around the query q. */
static struct qframe qframe_of(const struct fspec *f, const struct qspec *q)
{
	struct qframe qf;

	qf.dlen = q_build(qf.dns, q);
	qf.len = frame_build(qf.in, f, qf.dns, qf.dlen);
	return qf;
}

/* The frame f around the DNS message msg (len <= sizeof(qf->dns)). */
static void qframe_wrap(struct qframe *qf, const struct fspec *f, const uint8_t *msg, size_t len)
{
	memcpy(qf->dns, msg, len);
	qf->dlen = len;
	qf->len = frame_build(qf->in, f, qf->dns, len);
}

struct run {
	int err;
	enum verdict verdict;
	uint8_t out[4096];
	size_t out_len;
	int stat;	 /* the one counter that moved in the hook's map, or -1 */
	int moved;	 /* how many counters moved there */
	int other_moved; /* how many moved in the other hooks' map (host vs container) */
};

/* Moved counters between two snapshots: the total, and the last index. */
static int stats_moved(const uint64_t *before, const uint64_t *after, int *stat)
{
	int moved = 0;

	for (int i = 0; i < GLUED_STAT_MAX; i++)
		if (after[i] != before[i]) {
			moved += (int)(after[i] - before[i]);
			*stat = i;
		}
	return moved;
}

static void run_prog(enum hook hook, const struct qframe *qf, uint32_t rot, struct run *r)
{
	struct bpf_program *prog = hook == HOOK_CTR  ? skel->progs.glued_ctr_dns
				   : hook == HOOK_TC ? skel->progs.glued_tc_dns
						     : skel->progs.glued_xdp_dns;
	struct bpf_map *mine =
	    hook == HOOK_CTR ? skel->maps.glued_ctr_stats : skel->maps.glued_stats;
	struct bpf_map *other =
	    hook == HOOK_CTR ? skel->maps.glued_stats : skel->maps.glued_ctr_stats;
	uint64_t before[GLUED_STAT_MAX], after[GLUED_STAT_MAX];
	uint64_t obefore[GLUED_STAT_MAX], oafter[GLUED_STAT_MAX];
	int ostat;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = qf->in, .data_size_in = (uint32_t)qf->len,
		    .data_out = r->out, .data_size_out = sizeof(r->out), .repeat = 1);

	set_rot(rot);
	read_stats(mine, before);
	read_stats(other, obefore);
	r->err = bpf_prog_test_run_opts(bpf_program__fd(prog), &o);
	read_stats(mine, after);
	read_stats(other, oafter);
	r->out_len = o.data_size_out;
	if (hook != HOOK_XDP)
		r->verdict = o.retval == TC_ACT_REDIRECT ? TX : o.retval == TC_ACT_OK ? PASS : -1;
	else
		r->verdict = o.retval == XDP_TX ? TX : o.retval == XDP_PASS ? PASS : -1;
	r->stat = -1;
	r->moved = stats_moved(before, after, &r->stat);
	r->other_moved = stats_moved(obefore, oafter, &ostat);
}

/* A passed frame comes out as it went in. */
static bool frame_untouched(const struct qframe *qf, const struct run *r)
{
	return r->out_len == qf->len && !memcmp(r->out, qf->in, qf->len);
}

/* Where the layers of a frame built by frame_build() start. */
static void layers(const uint8_t *f, size_t *ip, int *v6, size_t *udp)
{
	*ip = f[12] == 0x81 ? 18 : 14;
	*v6 = f[*ip - 2] == 0x86;
	*udp = *ip + (*v6 ? 40 : (size_t)(f[*ip] & 0xf) * 4);
}

/* The reply frame r->out to the query frame in: well-formed, checksums
 * right, addresses swapped; returns its DNS payload. */
static const uint8_t *check_reply_frame(const uint8_t *in, const struct run *r, size_t *dlen)
{
	size_t ip, udp, ulen;
	int v6;

	layers(in, &ip, &v6, &udp);
	T_ASSERT(r->out_len > udp + 8 + 12, "reply frame of %zu bytes", r->out_len);
	if (r->out_len <= udp + 8 + 12)
		return NULL;
	T_EQ_MEM(r->out, in + 6, 6);
	T_EQ_MEM(r->out + 6, in, 6);
	T_EQ_MEM(r->out + 12, in + 12, ip - 12); /* VLAN tag and ethertype kept */
	ulen = (size_t)r->out[udp + 4] << 8 | r->out[udp + 5];
	T_EQ_INT(ulen, r->out_len - udp);
	if (!v6) {
		T_EQ_MEM(r->out + ip + 12, in + ip + 16, 4);
		T_EQ_MEM(r->out + ip + 16, in + ip + 12, 4);
		T_EQ_INT((r->out[ip + 2] << 8 | r->out[ip + 3]), r->out_len - ip);
		T_ASSERT(fold16(sum16(r->out + ip, 20, 0)) == 0xffff, "IPv4 header checksum holds");
	} else {
		T_EQ_MEM(r->out + ip + 8, in + ip + 24, 16);
		T_EQ_MEM(r->out + ip + 24, in + ip + 8, 16);
		T_EQ_INT((r->out[ip + 4] << 8 | r->out[ip + 5]), r->out_len - ip - 40);
	}
	T_EQ_MEM(r->out + udp, in + udp + 2, 2);
	T_EQ_MEM(r->out + udp + 2, in + udp, 2);
	T_ASSERT(r->out[udp + 6] || r->out[udp + 7], "UDP checksum present");
	T_ASSERT(udp_sum(r->out + ip, v6, r->out + udp, ulen) == 0xffff, "UDP checksum holds");
	*dlen = ulen - 8;
	return r->out + udp + 8;
}

/* dns_answer() on the same payload and rot; true if the bytes match. */
static bool same_as_userspace(const uint8_t *q, size_t qlen, uint32_t rot, const uint8_t *got,
			      size_t got_len)
{
	static const struct dns_answer_cfg cfg = {.ttl_s = TTL_S};
	struct dns_answer_stats st = {0};
	struct dns_query dq;
	uint8_t want[DNS_TCP_MAX];
	size_t want_len = 0;
	enum dns_action act;

	act = dns_answer(&cfg, tbl, q, qlen, 0, rot, &dq, want, sizeof(want), &want_len, &st);
	if (act != DNS_ACT_REPLY || want_len != got_len || memcmp(want, got, got_len)) {
		size_t d = 0;

		while (d < want_len && d < got_len && want[d] == got[d])
			d++;
		fprintf(stderr,
			"  userspace: action %d, %zu bytes; bpf: %zu bytes; first difference at "
			"%zu (%02x vs %02x)\n",
			act, want_len, got_len, d, d < want_len ? want[d] : 0,
			d < got_len ? got[d] : 0);
		return false;
	}
	return true;
}

/* The reply r->out to the query frame qf: a well-formed frame whose DNS
 * bytes are dns_answer()'s for the same message and rot. */
static bool answer_holds(const struct qframe *qf, const struct run *r, uint32_t rot)
{
	size_t rlen;
	const uint8_t *reply = check_reply_frame(qf->in, r, &rlen);

	return reply && same_as_userspace(qf->dns, qf->dlen, rot, reply, rlen);
}

/* The checks of one fixture's run: the verdict, the one counter that moved
 * in the hook's own map and none in the other's; a passed frame untouched,
 * an answer as answer_holds() says. */
static void check_run(const struct run *r, const struct qframe *qf, enum verdict verdict,
		      enum glued_stat stat, uint32_t rot)
{
	T_EQ_INT(r->err, 0);
	T_ASSERT(r->verdict == verdict, "verdict %d, want %d", r->verdict, verdict);
	T_ASSERT(r->moved == 1 && r->stat == (int)stat, "counter %s (%d moved), want %s",
		 r->stat >= 0 ? bpf_stat_name((unsigned)r->stat) : "none", r->moved,
		 bpf_stat_name(stat));
	T_EQ_INT(r->other_moved, 0); /* host hooks and container program count apart */
	if (verdict == PASS)
		T_ASSERT(frame_untouched(qf, r), "passed frame untouched");
	else
		T_ASSERT(answer_holds(qf, r, rot), "reply identical to dns_answer()");
}

/* --- start and end ---------------------------------------------------------------------------- */

/* Load the programs in `hooks` (harness_load), report what the verifier
 * processed and fill the table. Nonzero when the test cannot run, after
 * the summary line the suite reads. */
static int harness_start(unsigned hooks)
{
	int err = harness_load(hooks);

	if (err) {
		fprintf(stderr, "bpf: cannot load the programs (root? %s)\n", strerror(-err));
		printf("0 passed, 1 failed\n");
		return 1;
	}
	harness_print_verified();
	setup_table();
	return 0;
}

static int harness_finish(void)
{
	glued_dns__destroy(skel);
	table_free(tbl);
	return t_summary();
}

#endif
