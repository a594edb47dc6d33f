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
 * The machine is shared and noisy: each row is B batches of N / B calls,
 * and the row shows the fastest batch's mean (the least disturbed) and
 * the median batch's. Usage: bpf-bench [CALLS [REPEAT]] (defaults 200000
 * calls per row, repeat 1000000).
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
#include "reflector.skel.h"
#include "../tests/bpf/pkt.h"

#define BATCHES 20

struct row {
	const char *prog, *what;
	double min, med;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* n calls of one run each, in BATCHES batches: fastest and median batch
 * mean of the kernel's per-run duration. -1 if a run fails or returns
 * something other than want. */
static int per_call(int fd, const uint8_t *in, size_t len, unsigned n, int want, struct row *r)
{
	double b[BATCHES];
	unsigned per = n / BATCHES ? n / BATCHES : 1;

	for (int k = 0; k < BATCHES; k++) {
		unsigned long long total = 0;

		for (unsigned i = 0; i < per; i++) {
			uint8_t out[2048];
			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in,
				    .data_size_in = (uint32_t)len, .data_out = out,
				    .data_size_out = sizeof(out), .repeat = 1);

			if (bpf_prog_test_run_opts(fd, &o) || (int)o.retval != want)
				return -1;
			total += o.duration;
		}
		b[k] = (double)total / per;
	}
	qsort(b, BATCHES, sizeof(b[0]), cmp_double);
	r->min = b[0];
	r->med = b[BATCHES / 2];
	return 0;
}

/* BATCHES calls of repeat = n each (the kernel reports the mean per run):
 * fastest and median. */
static int repeated(int fd, const uint8_t *in, size_t len, unsigned n, int want, struct row *r)
{
	double b[BATCHES];

	for (int k = 0; k < BATCHES; k++) {
		uint8_t out[2048];
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (uint32_t)len,
			    .data_out = out, .data_size_out = sizeof(out), .repeat = n);

		if (bpf_prog_test_run_opts(fd, &o) || (int)o.retval != want)
			return -1;
		b[k] = o.duration;
	}
	qsort(b, BATCHES, sizeof(b[0]), cmp_double);
	r->min = b[0];
	r->med = b[BATCHES / 2];
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

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 200000;
	unsigned rep = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 1000000;
	struct bpf_insn empty[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS},
		{.code = BPF_JMP | BPF_EXIT},
	};
	static const uint8_t a4[4] = {10, 0, 0, 10}, a6[16] = {0xfd, [15] = 0x10};
	struct glued_bpf_config cfg = {.abi_version = GLUED_ABI_VERSION,
				       .flags = GLUED_CFG_ENABLED,
				       .alive_until_ns = ~0ull, /* liveness checked on every run */
				       .ttl_s = 5,
				       .port_be = htons(53)};
	struct glued_local_key lk4 = {.family = GLUED_FAMILY_V4, .addr = {10, 0, 0, 1}};
	struct glued_local_key lk6 = {.family = GLUED_FAMILY_V6, .addr = {0xfd, [15] = 1}};
	struct glued_local_val lv = {0};
	struct glued_name_key nk;
	struct glued_name_val nv;
	uint8_t hit[512], hit6[512], hitl[512], miss[512], dns[512];
	size_t hit_len, hit6_len, hitl_len, miss_len, dlen;
	struct row floor_call = {"empty program", "calls of 1 run", 0, 0},
		   floor_rep = {"empty program", "repeat=N", 0, 0},
		   refl_call = {"glued_xdp_reflect", "calls of 1 run", 0, 0},
		   refl_rep = {"glued_xdp_reflect", "repeat=N", 0, 0},
		   a_call = {"glued_xdp_dns A", "calls of 1 run", 0, 0},
		   aaaa_call = {"glued_xdp_dns AAAA/v6", "calls of 1 run", 0, 0},
		   long_call = {"glued_xdp_dns A 24ch", "calls of 1 run", 0, 0},
		   miss_call = {"glued_xdp_dns miss", "calls of 1 run", 0, 0},
		   miss_rep = {"glued_xdp_dns miss", "repeat=N", 0, 0};
	struct glued_dns *g;
	struct reflector *r;
	uint32_t zero = 0;
	int efd, gfd, rfd;

	setrlimit(RLIMIT_MEMLOCK, &(struct rlimit){RLIM_INFINITY, RLIM_INFINITY});
	g = glued_dns__open_and_load();
	r = reflector__open_and_load();
	efd = bpf_prog_load(BPF_PROG_TYPE_XDP, "glued_empty", "GPL", empty, 2, NULL);
	if (!g || !r || efd < 0) {
		fprintf(stderr, "bpf-bench: cannot load the programs (root?): %s\n", strerror(errno));
		return 1;
	}
	gfd = bpf_program__fd(g->progs.glued_xdp_dns);
	rfd = bpf_program__fd(r->progs.glued_xdp_reflect);
	name_entry("web", &nk, &nv, a4, a6);
	if (bpf_map_update_elem(bpf_map__fd(g->maps.glued_config), &zero, &cfg, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(g->maps.glued_addrs), &lk4, &lv, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(g->maps.glued_addrs), &lk6, &lv, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(g->maps.glued_names), &nk, &nv, BPF_ANY)) {
		fprintf(stderr, "bpf-bench: cannot fill the maps: %s\n", strerror(errno));
		return 1;
	}
	name_entry("project-frontend-web-1-x", &nk, &nv, a4, a6);
	if (bpf_map_update_elem(bpf_map__fd(g->maps.glued_names), &nk, &nv, BPF_ANY)) {
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

	if (per_call(efd, hit, hit_len, n, XDP_PASS, &floor_call) ||
	    per_call(rfd, hit, hit_len, n, XDP_TX, &refl_call) ||
	    per_call(gfd, hit, hit_len, n, XDP_TX, &a_call) ||
	    per_call(gfd, hit6, hit6_len, n, XDP_TX, &aaaa_call) ||
	    per_call(gfd, hitl, hitl_len, n, XDP_TX, &long_call) ||
	    per_call(gfd, miss, miss_len, n, XDP_PASS, &miss_call) ||
	    repeated(efd, hit, hit_len, rep, XDP_PASS, &floor_rep) ||
	    repeated(rfd, hit, hit_len, rep, XDP_TX, &refl_rep) ||
	    repeated(gfd, miss, miss_len, rep, XDP_PASS, &miss_rep)) {
		fprintf(stderr, "bpf-bench: a test run failed: %s\n", strerror(errno));
		return 1;
	}
	printf("bpf-bench: XDP in BPF_PROG_TEST_RUN; rows of %u calls of 1 run, or %d calls of "
	       "repeat=N=%u; %d batches, best and median batch mean.\n"
	       "  Queries carry an OPT with a cookie, as dig sends (A/v4: %zu-byte frame)\n",
	       n, BATCHES, rep, BATCHES, hit_len);
	printf("  %-22s %-22s %8s %8s %8s %7s %7s\n", "program", "how", "ns/query", "median",
	       "net", "ratio", "net");
	printf("  %-22s %-22s %8s %8s %8s %7s %7s\n", "", "", "(best)", "", "of empty",
	       "refl.", "ratio");
	print_row(&floor_call, NULL, NULL);
	print_row(&refl_call, &floor_call, &refl_call);
	print_row(&a_call, &floor_call, &refl_call);
	print_row(&aaaa_call, &floor_call, &refl_call);
	print_row(&long_call, &floor_call, &refl_call);
	print_row(&miss_call, &floor_call, &refl_call);
	print_row(&floor_rep, NULL, NULL);
	print_row(&refl_rep, &floor_rep, &refl_rep);
	print_row(&miss_rep, &floor_rep, &refl_rep);
	printf("  goal (issue 3): answered <= 1.5 x reflector: A %.2f x (calls of 1 run, "
	       "timer included), %.2f x net of the empty program\n",
	       a_call.min / refl_call.min,
	       (a_call.min - floor_call.min) / (refl_call.min - floor_call.min > 1
							? refl_call.min - floor_call.min
							: 1));
	glued_dns__destroy(g);
	reflector__destroy(r);
	close(efd);
	return 0;
}
