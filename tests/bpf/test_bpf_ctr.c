/* BPF_PROG_TEST_RUN tests of glued_ctr_dns, the program for a container's
 * lo (root; only that program is loaded). Its frames are queries as they
 * cross lo after Docker's DNAT: 127.0.0.1:40000 -> 127.0.0.11:<Docker's
 * port>. A fixture table {description, frame in, verdict, counter} and a
 * differential run (the DNS fuzz corpora and seeded random queries, in
 * IPv4 and IPv6 container frames) hold it to the host hooks' rules: every
 * answer's DNS bytes identical to dns_answer()'s for the same table and
 * `rot`, the frame the exact inverse of the query (addresses and ports
 * swapped: the source port stays Docker's), checksums that hold; every
 * passed frame untouched. Where it differs from the host hooks, on
 * purpose: any destination port, only IPv4 127.0.0.11, and neither
 * glued_addrs, glued_config.port_be nor glued_allow consulted. Every
 * decision is counted in glued_ctr_stats and never in glued_stats. Then
 * the program on a real lo behind Docker's NAT, written in iptables and in
 * nftables (ctr_netns.h).
 */
#include "harness.h"
#include "ctr_netns.h"

struct ctr_fixture {
	const char *desc;
	struct fspec f;
	struct qspec q;
	enum verdict verdict;
	enum glued_stat stat;
	uint32_t rot;
};

static const uint8_t lo_v4[4] = {127, 0, 0, 1}, lo12_v4[4] = {127, 0, 0, 12};

#define CTR .ctr = 1

static const struct ctr_fixture fixtures[] = {
    {"A for a known name: answered as 127.0.0.11 from Docker's port", .f = {CTR}, .q = {0},
     .verdict = TX, .stat = GLUED_STAT_answered},
    {"AAAA for a known name (over IPv4: the resolver is IPv4)", .f = {CTR}, .q = {.qtype = 28},
     .verdict = TX, .stat = GLUED_STAT_answered},
    {"NODATA: AAAA for a v4-only name", .f = {CTR}, .q = {.name = "db", .qtype = 28}, .verdict = TX,
     .stat = GLUED_STAT_nodata},
    {"NODATA: A for a v6-only name", .f = {CTR}, .q = {.name = "v6only"}, .verdict = TX,
     .stat = GLUED_STAT_nodata},
    {"miss: an unknown name goes on to dockerd untouched", .f = {CTR}, .q = {.name = "absent-x"},
     .verdict = PASS, .stat = GLUED_STAT_miss},
    {"two labels (dockerd forwards them) go on untouched", .f = {CTR}, .q = {.name = "web.example"},
     .verdict = PASS, .stat = GLUED_STAT_not_single_label},
    {"type MX goes on", .f = {CTR}, .q = {.qtype = 15}, .verdict = PASS, .stat = GLUED_STAT_type},
    {"case mix echoed: WeB", .f = {CTR}, .q = {.name = "WeB"}, .verdict = TX,
     .stat = GLUED_STAT_answered},
    {"EDNS: OPT 4096 with DO", .f = {CTR}, .q = {.opt = 1, .opt_size = 4096, .opt_do = 1},
     .verdict = TX, .stat = GLUED_STAT_answered},
    {"EDNS: version 1 goes on (BADVERS is not the kernel's)", .f = {CTR},
     .q = {.opt = 1, .opt_version = 1}, .verdict = PASS, .stat = GLUED_STAT_edns_unsupported},
    {"rotation: db, rot 1", .f = {CTR}, .q = {.name = "db"}, .verdict = TX,
     .stat = GLUED_STAT_answered, .rot = 1},
    {"rotation: 16 addresses, rot 7, with OPT", .f = {CTR}, .q = {.name = "sixteen", .opt = 1},
     .verdict = TX, .stat = GLUED_STAT_answered, .rot = 7},
    {"overflow: 20 IPv4 addresses go on", .f = {CTR}, .q = {.name = "big"}, .verdict = PASS,
     .stat = GLUED_STAT_overflow},
    {"63-byte label answered", .f = {CTR}, .q = {.name = LONG63}, .verdict = TX,
     .stat = GLUED_STAT_answered},
    {"IPv4 query without UDP checksum gets a full one", .f = {CTR, .zero_csum = 1}, .q = {0},
     .verdict = TX, .stat = GLUED_STAT_answered},
    {"any port: 53 (no DNAT in front)", .f = {CTR, .dport = 53}, .q = {0}, .verdict = TX,
     .stat = GLUED_STAT_answered},
    {"any port: 5353", .f = {CTR, .dport = 5353}, .q = {0}, .verdict = TX,
     .stat = GLUED_STAT_answered},
    {"any port: 65535", .f = {CTR, .dport = 65535}, .q = {0}, .verdict = TX,
     .stat = GLUED_STAT_answered},
    {"destination 127.0.0.1 (dockerd's reply direction) goes on", .f = {CTR, .dst4 = lo_v4},
     .q = {0}, .verdict = PASS, .stat = GLUED_STAT_not_ours},
    {"destination 127.0.0.12 goes on", .f = {CTR, .dst4 = lo12_v4}, .q = {0}, .verdict = PASS,
     .stat = GLUED_STAT_not_ours},
    {"glued's own address 10.0.0.1 (the host hooks') goes on", .f = {CTR, .dst4 = srv_v4}, .q = {0},
     .verdict = PASS, .stat = GLUED_STAT_not_ours},
    {"IPv6 ::1 -> ::1 goes on (no IPv6 resolver)", .f = {CTR, .v6 = 1}, .q = {0}, .verdict = PASS,
     .stat = GLUED_STAT_not_ours},
    {"IPv6 to glued's fd00::1 port 53 goes on", .f = {.v6 = 1}, .q = {0}, .verdict = PASS,
     .stat = GLUED_STAT_not_ours},
    {"TCP to 127.0.0.11 goes on", .f = {CTR, .tcp = 1}, .q = {0}, .verdict = PASS,
     .stat = GLUED_STAT_not_udp},
    {"QR=1 to 127.0.0.11 goes on", .f = {CTR}, .q = {.flags = 0x8100}, .verdict = PASS,
     .stat = GLUED_STAT_qr_set},
    {"IPv4 fragment goes on", .f = {CTR, .frag = 1}, .q = {0}, .verdict = PASS,
     .stat = GLUED_STAT_fragment},
    {"VLAN tag (not on lo, but the same parse)", .f = {CTR, .vlan = 1}, .q = {0}, .verdict = TX,
     .stat = GLUED_STAT_answered},
};

/* One frame through glued_ctr_dns; the checks every run makes. */
static void check(const struct fspec *f, const struct qspec *q, enum verdict verdict,
		  enum glued_stat stat, uint32_t rot)
{
	uint8_t in[2048], dns[2048];
	size_t dlen = q_build(dns, q), len = frame_build(in, f, dns, dlen), rlen;
	const uint8_t *reply;
	struct run r;

	run_prog(HOOK_CTR, in, len, rot, &r);
	T_EQ_INT(r.err, 0);
	T_ASSERT(r.verdict == verdict, "verdict %d, want %d", r.verdict, verdict);
	T_ASSERT(r.moved == 1 && r.stat == (int)stat, "glued_ctr_stats: %s (%d moved), want %s",
		 r.stat >= 0 ? bpf_stat_name((unsigned)r.stat) : "none", r.moved,
		 bpf_stat_name(stat));
	T_EQ_INT(r.other_moved, 0); /* nothing in glued_stats */
	if (verdict == PASS) {
		T_ASSERT(r.out_len == len && !memcmp(r.out, in, len), "passed frame untouched");
		return;
	}
	reply = check_reply_frame(in, &r, &rlen);
	if (reply)
		T_ASSERT(same_as_userspace(dns, dlen, rot, reply, rlen),
			 "reply identical to dns_answer()");
}

static void differential(const uint8_t *msg, size_t len, uint32_t rot, struct diff_counts *dc)
{
	uint8_t in[4096];

	if (len > 1400)
		return;
	for (int v6 = 0; v6 <= 1; v6++) {
		struct fspec fs = {.ctr = 1, .v6 = v6};
		size_t flen = frame_build(in, &fs, msg, len), rlen;
		const uint8_t *reply;
		struct run r;

		run_prog(HOOK_CTR, in, flen, rot, &r);
		dc->runs++;
		T_EQ_INT(r.err, 0);
		T_EQ_INT(r.moved, 1);
		T_EQ_INT(r.other_moved, 0);
		if (r.verdict != TX) {
			T_ASSERT(r.verdict == PASS && r.out_len == flen && !memcmp(r.out, in, flen),
				 "passed frame untouched (%s)", bpf_stat_name((unsigned)r.stat));
			T_ASSERT(!v6 || r.stat == GLUED_STAT_not_ours, "IPv6 is not_ours (%s)",
				 bpf_stat_name((unsigned)r.stat));
			continue;
		}
		T_ASSERT(!v6, "IPv6 never answered");
		dc->answered++;
		reply = check_reply_frame(in, &r, &rlen);
		if (reply && same_as_userspace(msg, len, rot, reply, rlen))
			dc->identical++;
	}
}

static void diff_cb(const uint8_t *m, size_t len, void *ctx)
{
	struct diff_counts *dc = ctx;

	differential(m, len, dc->runs * 2654435761u, dc);
}

int main(void)
{
	unsigned harvested = 0;
	struct diff_counts dc = {0}, rc = {0};
	char desc[256];

	if (harness_load(1u << HOOK_CTR)) {
		fprintf(stderr, "bpf: cannot load glued_ctr_dns (root? %s)\n", strerror(errno));
		printf("0 passed, 1 failed\n");
		return 1;
	}
	harness_print_verified();
	setup_table();
	corpus_each("tests/fuzz/corpus/dns_parse", harvest_cb, &harvested);
	corpus_each("tests/fuzz/corpus/dns_answer", harvest_cb, &harvested);

	/* No local address and no allow list: the host hooks would answer
	 * nothing with these maps; the container's program needs neither. */
	T_CASE("maps: names mirrored, config enabled; glued_addrs and glued_allow empty")
	{
		T_EQ_INT(mirror(), 0);
		T_EQ_INT(set_config(GLUED_CFG_ENABLED), 0);
	}

	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		const struct ctr_fixture *fx = &fixtures[i];

		snprintf(desc, sizeof(desc), "ctr: %s", fx->desc);
		T_CASE(desc)
		{
			check(&fx->f, &fx->q, fx->verdict, fx->stat, fx->rot);
		}
	}

	T_CASE("ctr: glued_allow does not apply (the source is the container's own lo)")
	{
		/* A list without 127.0.0.1: the host hooks would not answer it. */
		T_EQ_INT(allow_prefix("10.0.0.0/24", 0), 0);
		check(&(struct fspec){CTR}, &(struct qspec){0}, TX, GLUED_STAT_answered, 0);
		T_EQ_INT(allow_prefix("10.0.0.0/24", 1), 0);
	}

	T_CASE("ctr: glued_config.port_be is not consulted (config says 5353)")
	{
		struct glued_bpf_config c;
		uint32_t k = 0;

		bpf_config_init(&c, TTL_S, 5353);
		bpf_config_set_alive(&c, mono_ns() + 3600ull * 1000000000u);
		T_EQ_INT(bpf_map_update_elem(bpf_map__fd(skel->maps.glued_config), &k, &c, BPF_ANY),
			 0);
		check(&(struct fspec){CTR}, &(struct qspec){0}, TX, GLUED_STAT_answered, 0);
		check(&(struct fspec){CTR, .dport = 5353}, &(struct qspec){0}, TX,
		      GLUED_STAT_answered, 0);
		T_EQ_INT(set_config(GLUED_CFG_ENABLED), 0);
	}

	T_CASE("ctr: liveness: alive_until_ns passed -> dockerd answers (stale, untouched)")
	{
		T_EQ_INT(set_config_alive(GLUED_CFG_ENABLED, mono_ns() - 1000000000u), 0);
		check(&(struct fspec){CTR}, &(struct qspec){0}, PASS, GLUED_STAT_stale, 0);
		/* Not for 127.0.0.11: counted by its own reason. */
		check(&(struct fspec){CTR, .dst4 = lo_v4}, &(struct qspec){0}, PASS,
		      GLUED_STAT_not_ours, 0);
		T_EQ_INT(set_config_alive(GLUED_CFG_ENABLED, mono_ns() + 60ull * 1000000000u), 0);
		check(&(struct fspec){CTR}, &(struct qspec){0}, TX, GLUED_STAT_answered, 0);
		T_EQ_INT(set_config(GLUED_CFG_ENABLED), 0);
	}

	T_CASE("ctr: disabled config passes everything")
	{
		T_EQ_INT(set_config(0), 0);
		check(&(struct fspec){CTR}, &(struct qspec){0}, PASS, GLUED_STAT_disabled, 0);
		T_EQ_INT(set_config(GLUED_CFG_ENABLED), 0);
	}

	corpus_each("tests/fuzz/corpus/dns_parse", diff_cb, &dc);
	corpus_each("tests/fuzz/corpus/dns_answer", diff_cb, &dc);
	fprintf(stderr,
		"bpf: ctr corpus: %u runs, %u answered, %u identical (%u names harvested)\n",
		dc.runs, dc.answered, dc.identical, harvested);
	T_CASE("ctr corpus: every answer is byte-identical to dns_answer()")
	{
		T_EQ_INT(dc.identical, dc.answered);
		T_ASSERT(dc.answered > 0, "the corpus reaches the answer");
	}
	for (int i = 0; i < 3000; i++) {
		char name[80];
		uint8_t msg[2048];
		struct qspec q;

		random_query(&q, name);
		differential(msg, q_build(msg, &q), rnd(1000000), &rc);
	}
	fprintf(stderr, "bpf: ctr random: %u runs, %u answered, %u identical\n", rc.runs,
		rc.answered, rc.identical);
	T_CASE("ctr random queries: every answer is byte-identical to dns_answer()")
	{
		T_EQ_INT(rc.identical, rc.answered);
		T_ASSERT(rc.answered > rc.runs / 10, "the answering path is exercised (%u/%u)",
			 rc.answered, rc.runs);
	}

	/* Last: the process moves into a namespace of its own. */
	ctr_netns_run();

	glued_dns__destroy(skel);
	table_free(tbl);
	return t_summary();
}
