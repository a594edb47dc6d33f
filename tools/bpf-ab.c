/* A/B of builds of the fast path in BPF_PROG_TEST_RUN (root): loads two or
 * more benchmark objects (build/bpf/glued_dns_bench.bpf.o of different
 * trees), fills each one's maps as tools/bpf-bench does, and times the same
 * rows on all of them in interleaved batches (round k runs batch k of every
 * row of every object), so that what disturbs this shared machine for a
 * while disturbs every build alike. Prints, per row, each object's fastest
 * batch and median batch. Only a comparison tool: `make bench-bpf` gives
 * the figures of one build against its floors.
 *
 * Rows (BPF_AB_ROWS, comma-separated; default "A,restore,miss,coldA"):
 *   A, A24, AAAA6  glued_xdp_bench (restore the query, then answer), repeat = N
 *   restore        glued_xdp_restore alone, repeat = N (A - restore = the answer)
 *   miss           glued_xdp_dns on an unknown name, repeat = N
 *   coldA, coldmiss  glued_xdp_dns, CALLS calls of one run each (the mean)
 *
 * Usage: bpf-ab OBJ[:ABI] OBJ[:ABI]... (ABI: the GLUED_ABI_VERSION that
 * object was built with, written into its glued_config; default this
 * tree's). Environment: BPF_AB_BATCHES (100), BPF_AB_REPEAT (20000),
 * BPF_AB_CALLS (1000), BPF_AB_ALLOW (the glued_allow value written for
 * 0.0.0.0/0 and ::/0, default 1: allowed; 3: allowed and RRL-exempt),
 * BPF_AB_RRL_RATE (prefixes /24 and /56; default 0: off; written into
 * glued_config's `rrl`, and for an object of ABI 4 into its glued_rrl_cfg
 * map). The objects must keep this tree's layouts of glued_config (up to
 * what their value size holds), glued_addrs and glued_names (the ones it
 * fills).
 *
 * The object of another tree, e.g. of the commit before a change:
 *   mkdir /tmp/old && git archive COMMIT | tar -x -C /tmp/old
 *   make -C /tmp/old build/bpf/glued_dns_bench.bpf.o
 *   build/tools/bpf-ab /tmp/old/build/bpf/glued_dns_bench.bpf.o build/bpf/glued_dns_bench.bpf.o
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "glued/abi.h"
#include "../tests/bpf/pkt.h"
#include "bench_q.h"

#define OBJS_MAX 8
#define BATCHES_MAX 1000

enum prog { P_BENCH, P_RESTORE, P_DNS, P_MAX };
static const char *const prog_names[P_MAX] = {"glued_xdp_bench", "glued_xdp_restore",
					      "glued_xdp_dns"};

struct kind {
	const char *name, *label;
	int v6, cold, want;
	enum prog prog;
};

static const struct kind kinds[] = {
    {"A", "web", 0, 0, XDP_TX, P_BENCH},
    {"A24", "project-frontend-web-1-x", 0, 0, XDP_TX, P_BENCH},
    {"AAAA6", "web", 1, 0, XDP_TX, P_BENCH},
    {"restore", "web", 0, 0, XDP_PASS, P_RESTORE},
    {"miss", "absent", 0, 0, XDP_PASS, P_DNS},
    {"coldA", "web", 0, 1, XDP_TX, P_DNS},
    {"coldmiss", "absent", 0, 1, XDP_PASS, P_DNS},
};
#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

struct row {
	const struct kind *k;
	int fd, q_fd;
	uint8_t frame[512];
	size_t len;
	double *b;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static unsigned env_uint(const char *name, unsigned def, unsigned max)
{
	const char *v = getenv(name);
	unsigned long n = v ? strtoul(v, NULL, 0) : def;

	return n && n <= max ? (unsigned)n : def;
}

/* The names "web" and the 24-byte one, as bpf-bench fills them. */
static int fill_names(int fd)
{
	static const char *const names[] = {"web", "project-frontend-web-1-x"};

	for (size_t i = 0; i < 2; i++) {
		struct glued_name_key k = {0};
		struct glued_name_val v = {0};
		size_t len = strlen(names[i]);
		uint64_t h = GLUED_NAME_HASH_SEED ^ len, w;

		memcpy(v.name, names[i], len);
		for (size_t j = 0; j < (len + 7) / 8; j++) {
			memcpy(&w, v.name + j * 8, 8);
			h = glued_name_hash_step(h, le64toh(w));
		}
		k.hash = h;
		v.n_v4 = 1;
		v.v4[0][0] = 10, v.v4[0][3] = 10;
		v.n_v6 = 1;
		v.v6[0][0] = 0xfd, v.v6[0][15] = 0x10;
		if (bpf_map_update_elem(fd, &k, &v, BPF_ANY))
			return -1;
	}
	return 0;
}

/* glued_allow: every source, with BPF_AB_ALLOW's flags; the rate limit
 * of cfg (set by rrl_fill()) also into glued_rrl_cfg, where it was before
 * ABI 5. */
static int fill_access(struct bpf_object *obj, const struct glued_bpf_config *cfg)
{
	uint8_t flags = (uint8_t)env_uint("BPF_AB_ALLOW", 1, 255);
	int allow = bpf_object__find_map_fd_by_name(obj, "glued_allow");
	int rrl = bpf_object__find_map_fd_by_name(obj, "glued_rrl_cfg");
	struct glued_allow_key k4 = {.prefixlen = 8, .family = GLUED_FAMILY_V4};
	struct glued_allow_key k6 = {.prefixlen = 8, .family = GLUED_FAMILY_V6};
	uint32_t zero = 0;

	if (allow >= 0 && (bpf_map_update_elem(allow, &k4, &flags, BPF_ANY) ||
			   bpf_map_update_elem(allow, &k6, &flags, BPF_ANY)))
		return -1;
	if (rrl >= 0 && bpf_map_update_elem(rrl, &zero, &cfg->rrl, BPF_ANY))
		return -1;
	return 0;
}

/* BPF_AB_RRL_RATE per second per /24 or /56 (unset: off), the encoding of
 * io/bpf_names.c's bpf_config_set_rrl(). */
static void rrl_fill(struct glued_rrl_config *rc)
{
	unsigned rate = env_uint("BPF_AB_RRL_RATE", 0, 1000000000);

	if (!getenv("BPF_AB_RRL_RATE") || !rate)
		return;
	*rc = (struct glued_rrl_config){.cost_ns = 1000000000ull / rate,
					.burst_ns = 1000000000ull,
					.mask6 = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
					.mask4 = {0xff, 0xff, 0xff}};
}

static int load(const char *arg, struct bpf_object **objp, int fds[P_MAX], int *q_fd)
{
	struct glued_local_key lk4 = {.family = GLUED_FAMILY_V4, .addr = {10, 0, 0, 1}};
	struct glued_local_key lk6 = {.family = GLUED_FAMILY_V6, .addr = {0xfd, [15] = 1}};
	struct glued_local_val lv = {0};
	struct glued_bpf_config cfg = {.abi_version = GLUED_ABI_VERSION,
				       .flags = GLUED_CFG_ENABLED,
				       .alive_until_ns = ~0ull,
				       .ttl_s = 5,
				       .port_be = htons(53)};
	char path[4096], *colon;
	struct bpf_object *obj;
	uint32_t zero = 0;
	int addrs;

	snprintf(path, sizeof(path), "%s", arg);
	colon = strrchr(path, ':');
	if (colon) {
		*colon = 0;
		cfg.abi_version = (uint32_t)strtoul(colon + 1, NULL, 0);
	}
	rrl_fill(&cfg.rrl);
	obj = bpf_object__open_file(path, NULL);
	if (!obj || bpf_object__load(obj))
		return -1;
	*objp = obj;
	for (int i = 0; i < P_MAX; i++) {
		struct bpf_program *p = bpf_object__find_program_by_name(obj, prog_names[i]);

		fds[i] = p ? bpf_program__fd(p) : -1;
		if (fds[i] < 0)
			return -1;
	}
	*q_fd = bpf_object__find_map_fd_by_name(obj, "glued_benchq");
	addrs = bpf_object__find_map_fd_by_name(obj, "glued_addrs");
	if (*q_fd < 0 || addrs < 0 ||
	    bpf_map_update_elem(bpf_object__find_map_fd_by_name(obj, "glued_config"), &zero, &cfg,
				BPF_ANY) ||
	    bpf_map_update_elem(addrs, &lk4, &lv, BPF_ANY) ||
	    bpf_map_update_elem(addrs, &lk6, &lv, BPF_ANY) ||
	    fill_names(bpf_object__find_map_fd_by_name(obj, "glued_names")))
		return -1;
	return fill_access(obj, &cfg);
}

/* One batch of a row: one call of repeat = N (the kernel's mean per run),
 * or `calls` calls of one run (their mean). */
static int batch(struct row *r, unsigned repeat, unsigned calls, int k)
{
	unsigned n = r->k->cold ? calls : 1;
	unsigned long long total = 0;

	if (r->k->prog != P_DNS && bench_q_set(r->q_fd, r->frame, r->len))
		return -1;
	for (unsigned i = 0; i < n; i++) {
		uint8_t out[2048];
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = r->frame,
			    .data_size_in = (uint32_t)r->len, .data_out = out,
			    .data_size_out = sizeof(out), .repeat = r->k->cold ? 1 : repeat);

		if (bpf_prog_test_run_opts(r->fd, &o) || (int)o.retval != r->k->want)
			return -1;
		total += o.duration;
	}
	r->b[k] = (double)total / n;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned batches = env_uint("BPF_AB_BATCHES", 100, BATCHES_MAX);
	unsigned repeat = env_uint("BPF_AB_REPEAT", 20000, 100000000);
	unsigned calls = env_uint("BPF_AB_CALLS", 1000, 1000000);
	const char *sel = getenv("BPF_AB_ROWS") ? getenv("BPF_AB_ROWS") : "A,restore,miss,coldA";
	const struct kind *want[N_KINDS];
	struct bpf_object *objs[OBJS_MAX] = {0};
	struct row rows[OBJS_MAX * N_KINDS];
	size_t n_want = 0, n_rows = 0;
	int n_objs = argc - 1, rc = 1;

	if (n_objs < 1 || n_objs > OBJS_MAX) {
		fprintf(stderr, "usage: bpf-ab OBJ[:ABI] OBJ[:ABI]... (at most %d)\n", OBJS_MAX);
		return 2;
	}
	for (size_t i = 0; i < N_KINDS; i++) {
		char list[256], item[32];

		snprintf(list, sizeof(list), ",%s,", sel);
		snprintf(item, sizeof(item), ",%s,", kinds[i].name);
		if (strstr(list, item))
			want[n_want++] = &kinds[i];
	}
	setrlimit(RLIMIT_MEMLOCK, &(struct rlimit){RLIM_INFINITY, RLIM_INFINITY});
	libbpf_set_print(NULL);
	for (int o = 0; o < n_objs; o++) {
		int fds[P_MAX], q_fd;

		if (load(argv[o + 1], &objs[o], fds, &q_fd)) {
			fprintf(stderr,
				"bpf-ab: %s: cannot load it and fill its maps (root?): %s\n",
				argv[o + 1], strerror(errno));
			goto out;
		}
		for (size_t k = 0; k < n_want; k++) {
			struct row *r = &rows[n_rows++];
			uint8_t dns[512];
			size_t dlen;

			r->k = want[k];
			r->fd = fds[want[k]->prog];
			r->q_fd = q_fd;
			dlen = q_build(dns, &(struct qspec){.name = want[k]->label,
							    .qtype = want[k]->v6 ? 28 : 1,
							    .opt = 1,
							    .opt_cookie = 1});
			r->len =
			    frame_build(r->frame, &(struct fspec){.v6 = want[k]->v6}, dns, dlen);
			r->b = calloc(batches, sizeof(double));
			if (!r->b)
				goto out;
		}
	}
	for (unsigned k = 0; k < batches; k++)
		for (size_t i = 0; i < n_rows; i++)
			if (batch(&rows[i], repeat, calls, (int)k)) {
				fprintf(stderr, "bpf-ab: %s: row %s failed: %s\n",
					argv[i / n_want + 1], rows[i].k->name, strerror(errno));
				goto out;
			}
	printf("bpf-ab: %u interleaved batches; repeat=%u, cold rows %u calls of 1 run; ns per "
	       "query, best batch (median batch)\n",
	       batches, repeat, calls);
	for (int o = 0; o < n_objs; o++)
		printf("  [%d] %s\n", o, argv[o + 1]);
	for (size_t k = 0; k < n_want; k++) {
		printf("  %-9s", want[k]->name);
		for (int o = 0; o < n_objs; o++) {
			struct row *r = &rows[(size_t)o * n_want + k];

			qsort(r->b, batches, sizeof(double), cmp_double);
			printf("  [%d] %6.1f (%6.1f)", o, r->b[0], r->b[batches / 2]);
		}
		printf("\n");
	}
	rc = 0;
out:
	for (size_t i = 0; i < n_rows; i++)
		free(rows[i].b);
	for (int o = 0; o < n_objs; o++)
		bpf_object__close(objs[o]);
	return rc;
}
