/* Per-query cost of the fast path in BPF_PROG_TEST_RUN (root), beside the
 * floor: bpf/reflector.bpf.c (swap addresses, set QR, XDP_TX) and an empty
 * XDP program (the cost of one test run's timer).
 *
 * Why repeat=1 calls for the answer: BPF_PROG_TEST_RUN runs `repeat` times
 * on the same buffer without restoring it, so from the second run on the
 * DNS program would see its own reply (QR=1, addressed to the client) and
 * pass it. Each hit is therefore its own call of one run, and the figure is
 * the kernel's own per-run duration averaged over N calls; the reflector
 * and the empty program are measured the same way for the ratio (and the
 * reflector and the miss path, which leave a reusable buffer, also with one
 * call of repeat=N). Usage: bpf-bench [N] (default 1000000).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "glued/abi.h"
#include "glued_dns.skel.h"
#include "reflector.skel.h"
#include "../tests/bpf/pkt.h"

static int per_call(int fd, const uint8_t *in, size_t len, unsigned n, int want, double *ns)
{
	uint8_t out[2048];
	unsigned long long total = 0;

	for (unsigned i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (uint32_t)len,
			    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

		if (bpf_prog_test_run_opts(fd, &o) || (want >= 0 && (int)o.retval != want))
			return -1;
		total += o.duration;
	}
	*ns = (double)total / n;
	return 0;
}

static int repeated(int fd, const uint8_t *in, size_t len, unsigned n, int want, double *ns)
{
	uint8_t out[2048];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = n);

	if (bpf_prog_test_run_opts(fd, &o) || (int)o.retval != want)
		return -1;
	*ns = o.duration;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 1000000;
	struct bpf_insn empty[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS},
		{.code = BPF_JMP | BPF_EXIT},
	};
	struct glued_bpf_config cfg = {.abi_version = GLUED_ABI_VERSION, .ttl_s = 5,
				   .port_be = htons(53), .flags = GLUED_CFG_ENABLED};
	struct glued_local_key lk = {.family = GLUED_FAMILY_V4, .addr = {10, 0, 0, 1}};
	struct glued_local_val lv = {0};
	struct glued_name_key nk = {.name = "web"};
	struct glued_name_val nv = {.n_v4 = 1, .v4 = {{10, 0, 0, 10}}};
	uint8_t hit[512], miss[512], dns[512];
	size_t hit_len, miss_len, dlen;
	double refl_rep, refl_call, empty_call, hit_call, miss_rep;
	struct glued_dns *g;
	struct reflector *r;
	uint32_t zero = 0;
	int efd;

	setrlimit(RLIMIT_MEMLOCK, &(struct rlimit){RLIM_INFINITY, RLIM_INFINITY});
	g = glued_dns__open_and_load();
	r = reflector__open_and_load();
	efd = bpf_prog_load(BPF_PROG_TYPE_XDP, "glued_empty", "GPL", empty, 2, NULL);
	if (!g || !r || efd < 0) {
		fprintf(stderr, "bpf-bench: cannot load the programs (root?): %s\n", strerror(errno));
		return 1;
	}
	if (bpf_map_update_elem(bpf_map__fd(g->maps.glued_config), &zero, &cfg, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(g->maps.glued_addrs), &lk, &lv, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(g->maps.glued_names), &nk, &nv, BPF_ANY)) {
		fprintf(stderr, "bpf-bench: cannot fill the maps: %s\n", strerror(errno));
		return 1;
	}
	dlen = q_build(dns, &(struct qspec){.name = "web", .opt = 1});
	hit_len = frame_build(hit, &(struct fspec){0}, dns, dlen);
	dlen = q_build(dns, &(struct qspec){.name = "absent", .opt = 1});
	miss_len = frame_build(miss, &(struct fspec){0}, dns, dlen);

	if (repeated(bpf_program__fd(r->progs.glued_xdp_reflect), hit, hit_len, n, XDP_TX,
		     &refl_rep) ||
	    per_call(efd, hit, hit_len, n, XDP_PASS, &empty_call) ||
	    per_call(bpf_program__fd(r->progs.glued_xdp_reflect), hit, hit_len, n, XDP_TX,
		     &refl_call) ||
	    per_call(bpf_program__fd(g->progs.glued_xdp_dns), hit, hit_len, n, XDP_TX, &hit_call) ||
	    repeated(bpf_program__fd(g->progs.glued_xdp_dns), miss, miss_len, n, XDP_PASS,
		     &miss_rep)) {
		fprintf(stderr, "bpf-bench: a test run failed: %s\n", strerror(errno));
		return 1;
	}
	printf("bpf-bench: A query for a known name with an OPT over IPv4 (%zu-byte frame), N=%u\n",
	       hit_len, n);
	printf("  reflector      repeat=N      %7.1f ns/run\n", refl_rep);
	printf("  empty program  N calls of 1  %7.1f ns/run (timer floor)\n", empty_call);
	printf("  reflector      N calls of 1  %7.1f ns/run\n", refl_call);
	printf("  glued_xdp_dns  N calls of 1  %7.1f ns/run (answered, XDP_TX)\n", hit_call);
	printf("  glued_xdp_dns  repeat=N      %7.1f ns/run (miss, XDP_PASS)\n", miss_rep);
	printf("  ratio answer/reflector: %.2f; net of the timer floor: %.2f\n",
	       hit_call / refl_call,
	       (hit_call - empty_call) / (refl_call - empty_call > 1 ? refl_call - empty_call : 1));
	glued_dns__destroy(g);
	reflector__destroy(r);
	return 0;
}
