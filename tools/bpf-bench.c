/* Per-query cost of the fast path in BPF_PROG_TEST_RUN (root), beside its
 * floor: bpf/reflector.bpf.c (swap addresses, set QR, XDP_TX) and an empty
 * XDP program (what one test run costs with no program work: the timer
 * reads and the run loop). Prints one table: program, how it was run,
 * ns per query, the same net of the empty program, and the ratio to the
 * reflector measured the same way.
 *
 * Why calls of one run: BPF_PROG_TEST_RUN runs `repeat` times on the same
 * buffer without restoring it, so from its second run on the answering
 * program would see its own reply (QR=1, addressed to the client) and
 * pass it. Every answering row is therefore N calls of one run each, each
 * on a fresh copy of the query, timed by the kernel (the `duration` it
 * reports); the empty program and the reflector are timed the same way, so
 * the ratio compares like with like. Where a program leaves a buffer that
 * is still the same query (the reflector swaps back and forth, a miss
 * writes nothing) it is also run with repeat = N in one call, which has
 * no per-call timer overhead.
 *
 * The machine is shared and noisy: each row is BATCHES batches, the
 * batches of all rows interleaved (round k runs batch k of every row), and
 * the row shows the fastest batch's mean (the least disturbed) and the
 * median batch's. Calls of one run start cold (the syscall between two
 * runs evicts part of the program's code and data), which costs a large
 * program more than the small reflector: the ratio is pessimistic for the
 * answer, whose real hook runs it on batches of frames with warm caches.
 *
 * The floors (bpf/glued_dns_bench.bpf.c): the reflector plus one
 * glued_names lookup (what any program that answers from the map must at
 * least do), and that plus growing the frame by one A record (what every
 * answer does). They show how much of the answer's cost over the
 * reflector no program could avoid.
 *
 * Usage: bpf-bench [CALLS [REPEAT]] (defaults 200000 calls per row,
 * repeat 1000000).
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "glued/abi.h"
#include "glued_dns.skel.h"
#include "glued_dns_bench.skel.h"
#include "reflector.skel.h"
#include "../tests/bpf/pkt.h"
#include "bench_q.h"

#define BATCHES 20

/* One row: a program run on one frame, either as calls of one run each or
 * as calls of repeat = N. */
struct row {
	const char *prog, *what;
	int fd, want;
	const uint8_t *in;
	size_t len;
	unsigned repeat; /* 1: calls of one run */
	int q_fd;	 /* >= 0: glued_benchq, set to this row's frame first */
	double b[BATCHES], min, med;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One batch of a row: `calls` calls of one run (mean of the kernel's
 * per-run duration), or one call of repeat = N (the kernel's mean). -1 if
 * a run fails or returns something other than the row's verdict. */
static int batch(struct row *r, unsigned calls, int k)
{
	unsigned long long total = 0;
	unsigned n = r->repeat > 1 ? 1 : calls;

	if (r->q_fd >= 0 && bench_q_set(r->q_fd, r->in, r->len))
		return -1;
	for (unsigned i = 0; i < n; i++) {
		uint8_t out[2048];
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = r->in, .data_size_in = (uint32_t)r->len,
			    .data_out = out, .data_size_out = sizeof(out), .repeat = r->repeat);

		if (bpf_prog_test_run_opts(r->fd, &o) || (int)o.retval != r->want)
			return -1;
		total += o.duration;
	}
	r->b[k] = (double)total / n;
	return 0;
}

/* Every row's batches interleaved, so that what disturbs the machine for
 * a while disturbs every row alike; then fastest and median batch. */
static int measure(struct row *rows, size_t n_rows, unsigned calls)
{
	for (int k = 0; k < BATCHES; k++)
		for (size_t i = 0; i < n_rows; i++)
			if (batch(&rows[i], calls / BATCHES ? calls / BATCHES : 1, k))
				return -1;
	for (size_t i = 0; i < n_rows; i++) {
		qsort(rows[i].b, BATCHES, sizeof(double), cmp_double);
		rows[i].min = rows[i].b[0];
		rows[i].med = rows[i].b[BATCHES / 2];
	}
	return 0;
}

/* glued_names key and value of one name (lowercase input), as
 * userspace/io/bpf_names.c encodes them: the ABI's hash over the
 * little-endian words of the zero-padded name. */
static void name_entry(const char *name, struct glued_name_key *k, struct glued_name_val *v,
		       const uint8_t *a4, const uint8_t *a6)
{
	size_t len = strlen(name);
	uint64_t h = GLUED_NAME_HASH_SEED ^ len, w;

	memset(k, 0, sizeof(*k));
	memset(v, 0, sizeof(*v));
	memcpy(v->name, name, len);
	for (size_t i = 0; i < (len + 7) / 8; i++) {
		memcpy(&w, v->name + i * 8, 8);
		h = glued_name_hash_step(h, le64toh(w));
	}
	k->hash = h;
	v->n_v4 = 1;
	memcpy(v->v4[0], a4, 4);
	v->n_v6 = 1;
	memcpy(v->v6[0], a6, 16);
}

/* The same table in both objects' maps: config, local addresses 10.0.0.1
 * and fd00::1, names "web" and a 24-byte one. */
static int fill(struct bpf_map *config, struct bpf_map *addrs, struct bpf_map *names,
		const struct glued_bpf_config *cfg)
{
	static const uint8_t a4[4] = {10, 0, 0, 10}, a6[16] = {0xfd, [15] = 0x10};
	struct glued_local_key lk4 = {.family = GLUED_FAMILY_V4, .addr = {10, 0, 0, 1}};
	struct glued_local_key lk6 = {.family = GLUED_FAMILY_V6, .addr = {0xfd, [15] = 1}};
	struct glued_local_val lv = {0};
	struct glued_name_key nk;
	struct glued_name_val nv;
	uint32_t zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(config), &zero, cfg, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(addrs), &lk4, &lv, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(addrs), &lk6, &lv, BPF_ANY))
		return -1;
	name_entry("web", &nk, &nv, a4, a6);
	if (bpf_map_update_elem(bpf_map__fd(names), &nk, &nv, BPF_ANY))
		return -1;
	name_entry("project-frontend-web-1-x", &nk, &nv, a4, a6);
	return bpf_map_update_elem(bpf_map__fd(names), &nk, &nv, BPF_ANY);
}

/* glued_allow: every source allowed (0.0.0.0/0 and ::/0), flags from
 * BENCH_BPF_ALLOW (default 1: allowed; 3: allowed and RRL-exempt). RRL
 * stays off (glued_config.rrl zero): the A rows time an allowed client's
 * answer. */
static int allow_all(struct bpf_map *allow)
{
	const char *v = getenv("BENCH_BPF_ALLOW");
	uint8_t flags = v ? (uint8_t)strtoul(v, NULL, 0) : GLUED_ALLOW_F_ALLOWED;
	struct glued_allow_key k4 = {.prefixlen = 8, .family = GLUED_FAMILY_V4};
	struct glued_allow_key k6 = {.prefixlen = 8, .family = GLUED_FAMILY_V6};

	return bpf_map_update_elem(bpf_map__fd(allow), &k4, &flags, BPF_ANY) ||
	       bpf_map_update_elem(bpf_map__fd(allow), &k6, &flags, BPF_ANY);
}

static void print_row(const struct row *r, const struct row *floor, const struct row *refl)
{
	printf("  %-22s %-22s %8.1f %8.1f", r->prog, r->what, r->min, r->med);
	if (floor)
		printf(" %8.1f", r->min - floor->min);
	else
		printf(" %8s", "");
	if (refl && refl != r) {
		double net = refl->min - floor->min;

		printf("   %5.2f", r->min / refl->min);
		if (net > 1)
			printf("   %5.2f", (r->min - floor->min) / net);
	}
	printf("\n");
}

/* (a - floor) / (b - floor): a's cost over b's, both net of the empty
 * program (b's net taken as at least 1 ns). */
static double net_ratio(const struct row *a, const struct row *b, const struct row *floor)
{
	double nb = b->min - floor->min;

	return (a->min - floor->min) / (nb > 1 ? nb : 1);
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 200000;
	unsigned rep = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 1000000;
	struct bpf_insn empty[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS},
		{.code = BPF_JMP | BPF_EXIT},
	};
	struct glued_bpf_config cfg = {.abi_version = GLUED_ABI_VERSION,
				       .flags = GLUED_CFG_ENABLED,
				       .alive_until_ns = ~0ull, /* liveness checked on every run */
				       .ttl_s = 5,
				       .port_be = htons(53)};
	uint8_t hit[512], hit6[512], hitl[512], miss[512], dns[512];
	size_t hit_len, hit6_len, hitl_len, miss_len, dlen;
	struct glued_dns *g;
	struct glued_dns_bench *gb;
	struct reflector *r;
	int efd, gfd, rfd;

	setrlimit(RLIMIT_MEMLOCK, &(struct rlimit){RLIM_INFINITY, RLIM_INFINITY});
	g = glued_dns__open_and_load();
	gb = glued_dns_bench__open_and_load();
	r = reflector__open_and_load();
	efd = bpf_prog_load(BPF_PROG_TYPE_XDP, "glued_empty", "GPL", empty, 2, NULL);
	if (!g || !gb || !r || efd < 0) {
		fprintf(stderr, "bpf-bench: cannot load the programs (root?): %s\n", strerror(errno));
		return 1;
	}
	gfd = bpf_program__fd(g->progs.glued_xdp_dns);
	rfd = bpf_program__fd(r->progs.glued_xdp_reflect);
	if (fill(g->maps.glued_config, g->maps.glued_addrs, g->maps.glued_names, &cfg) ||
	    fill(gb->maps.glued_config, gb->maps.glued_addrs, gb->maps.glued_names, &cfg) ||
	    allow_all(g->maps.glued_allow) || allow_all(gb->maps.glued_allow)) {
		fprintf(stderr, "bpf-bench: cannot fill the maps: %s\n", strerror(errno));
		return 1;
	}
	/* What dig sends: an OPT with a cookie. */
	dlen = q_build(dns, &(struct qspec){.name = "web", .opt = 1, .opt_cookie = 1});
	hit_len = frame_build(hit, &(struct fspec){0}, dns, dlen);
	dlen = q_build(dns, &(struct qspec){.name = "web", .qtype = 28, .opt = 1, .opt_cookie = 1});
	hit6_len = frame_build(hit6, &(struct fspec){.v6 = 1}, dns, dlen);
	dlen = q_build(dns, &(struct qspec){.name = "project-frontend-web-1-x", .opt = 1,
					    .opt_cookie = 1});
	hitl_len = frame_build(hitl, &(struct fspec){0}, dns, dlen);
	dlen = q_build(dns, &(struct qspec){.name = "absent", .opt = 1, .opt_cookie = 1});
	miss_len = frame_build(miss, &(struct fspec){0}, dns, dlen);

	int bfd = bpf_program__fd(gb->progs.glued_xdp_bench);
	int ffd = bpf_program__fd(gb->progs.glued_xdp_floor);
	int qfd = bpf_map__fd(gb->maps.glued_benchq);
#define ROW(p_, w_, fd_, want_, in_, len_, rep_, q_)                                               \
	{.prog = p_, .what = w_, .fd = fd_, .want = want_, .in = in_, .len = len_, .repeat = rep_, \
	 .q_fd = q_}
	/* Named rows: the table below is in this order. */
	enum {
		EMPTY_CALL,
		REFL_CALL,
		FLOOR_CALL,
		GROW_CALL,
		A_CALL,
		AAAA_CALL,
		A24_CALL,
		MISS_CALL,
		EMPTY_REP,
		REFL_REP,
		FLOOR_REP,
		MISS_REP,
		RESTORE_REP,
		GROW_REP,
		A_REP,
		AAAA_REP,
		A24_REP,
		N_ROWS
	};
	struct row rows[N_ROWS] = {
		[EMPTY_CALL] = ROW("empty program", "calls of 1 run", efd, XDP_PASS, hit, hit_len, 1, -1),
		[REFL_CALL] = ROW("glued_xdp_reflect", "calls of 1 run", rfd, XDP_TX, hit, hit_len, 1, -1),
		[FLOOR_CALL] = ROW("floor: reflect+lookup", "calls of 1 run", ffd, XDP_TX, hit, hit_len, 1,
				   -1),
		[GROW_CALL] = ROW("floor: refl+lookup+grow", "calls of 1 run",
				  bpf_program__fd(gb->progs.glued_xdp_floor_grow), XDP_TX, hit, hit_len,
				  1, -1),
		[A_CALL] = ROW("glued_xdp_dns A", "calls of 1 run", gfd, XDP_TX, hit, hit_len, 1, -1),
		[AAAA_CALL] = ROW("glued_xdp_dns AAAA/v6", "calls of 1 run", gfd, XDP_TX, hit6, hit6_len,
				  1, -1),
		[A24_CALL] = ROW("glued_xdp_dns A 24ch", "calls of 1 run", gfd, XDP_TX, hitl, hitl_len, 1,
				 -1),
		[MISS_CALL] = ROW("glued_xdp_dns miss", "calls of 1 run", gfd, XDP_PASS, miss, miss_len, 1,
				  -1),
		[EMPTY_REP] = ROW("empty program", "repeat=N", efd, XDP_PASS, hit, hit_len, rep, -1),
		[REFL_REP] = ROW("glued_xdp_reflect", "repeat=N", rfd, XDP_TX, hit, hit_len, rep, -1),
		[FLOOR_REP] = ROW("floor: reflect+lookup", "repeat=N", ffd, XDP_TX, hit, hit_len, rep, -1),
		[MISS_REP] = ROW("glued_xdp_dns miss", "repeat=N", gfd, XDP_PASS, miss, miss_len, rep, -1),
		[RESTORE_REP] = ROW("restore query", "repeat=N",
				    bpf_program__fd(gb->progs.glued_xdp_restore), XDP_PASS, hit, hit_len,
				    rep, qfd),
		[GROW_REP] = ROW("restore + floor + grow", "repeat=N",
				 bpf_program__fd(gb->progs.glued_xdp_floor_bench), XDP_TX, hit, hit_len,
				 rep, qfd),
		[A_REP] = ROW("restore + dns A", "repeat=N", bfd, XDP_TX, hit, hit_len, rep, qfd),
		[AAAA_REP] = ROW("restore + dns AAAA/v6", "repeat=N", bfd, XDP_TX, hit6, hit6_len, rep,
				 qfd),
		[A24_REP] = ROW("restore + dns A 24ch", "repeat=N", bfd, XDP_TX, hitl, hitl_len, rep, qfd),
	};
#undef ROW
	/* Warm rows: (restore + X) - restore, plus the empty program's
	 * repeat=N figure so that they read like the reflector's. */
	static const struct {
		int from;
		const char *prog;
	} warm_of[] = {
		{GROW_REP, "floor: refl+lookup+grow"},
		{A_REP, "glued_xdp_dns A"},
		{AAAA_REP, "glued_xdp_dns AAAA/v6"},
		{A24_REP, "glued_xdp_dns A 24ch"},
	};
	struct row warm[4], *w_grow = &warm[0], *w_a = &warm[1];
	const struct row *floor_call = &rows[EMPTY_CALL], *refl_call = &rows[REFL_CALL];
	const struct row *floor_rep = &rows[EMPTY_REP], *refl_rep = &rows[REFL_REP];
	const struct row *restore = &rows[RESTORE_REP];

	if (measure(rows, N_ROWS, n)) {
		fprintf(stderr, "bpf-bench: a test run failed: %s\n", strerror(errno));
		return 1;
	}
	printf("bpf-bench: XDP in BPF_PROG_TEST_RUN; rows of %u calls of 1 run, or %d calls of "
	       "repeat=N=%u; %d interleaved batches, best and median batch mean.\n"
	       "  Queries carry an OPT with a cookie, as dig sends (A/v4: %zu-byte frame)\n",
	       n, BATCHES, rep, BATCHES, hit_len);
	printf("  %-22s %-22s %8s %8s %8s %7s %7s\n", "program", "how", "ns/query", "median",
	       "net", "ratio", "net");
	printf("  %-22s %-22s %8s %8s %8s %7s %7s\n", "", "", "(best)", "", "of empty",
	       "refl.", "ratio");
	for (size_t i = 0; i < N_ROWS; i++) {
		int rep_row = rows[i].repeat > 1;

		if (rows[i].fd == efd || rows[i].q_fd >= 0)
			print_row(&rows[i], NULL, NULL);
		else
			print_row(&rows[i], rep_row ? floor_rep : floor_call,
				  rep_row ? refl_rep : refl_call);
	}
	for (size_t i = 0; i < sizeof(warm_of) / sizeof(warm_of[0]); i++) {
		const struct row *b = &rows[warm_of[i].from];

		warm[i] = *b;
		warm[i].prog = warm_of[i].prog;
		warm[i].what = "warm: (restore+X)-restore";
		warm[i].min = b->min - restore->min + floor_rep->min;
		warm[i].med = b->med - restore->med + floor_rep->med;
		print_row(&warm[i], floor_rep, refl_rep);
	}
	printf("  goal (issue 3): answered <= 1.5 x reflector: A warm %.2f x (repeat=N), "
	       "%.2f x net of the empty program\n",
	       w_a->min / refl_rep->min, net_ratio(w_a, refl_rep, floor_rep));
	printf("                                                A cold %.2f x (calls of 1 run, "
	       "timer included), %.2f x net of the empty program\n",
	       rows[A_CALL].min / refl_call->min, net_ratio(&rows[A_CALL], refl_call, floor_call));
	printf("  floors: reflector + one glued_names lookup: %.2f x reflector warm, %.2f x cold;\n"
	       "          + growing the frame by one record:   %.2f x warm, %.2f x cold.\n"
	       "  A over the floors: %.2f x lookup, %.2f x grow warm; %.2f x, %.2f x cold\n",
	       rows[FLOOR_REP].min / refl_rep->min, rows[FLOOR_CALL].min / refl_call->min,
	       w_grow->min / refl_rep->min, rows[GROW_CALL].min / refl_call->min,
	       w_a->min / rows[FLOOR_REP].min, w_a->min / w_grow->min,
	       rows[A_CALL].min / rows[FLOOR_CALL].min, rows[A_CALL].min / rows[GROW_CALL].min);
	glued_dns__destroy(g);
	glued_dns_bench__destroy(gb);
	reflector__destroy(r);
	close(efd);
	return 0;
}
