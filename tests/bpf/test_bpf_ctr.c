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
#include "diff.h"
#include "ctr_netns.h"

static const uint8_t lo_v4[4] = {127, 0, 0, 1}, lo12_v4[4] = {127, 0, 0, 12};

#define CTR .ctr = 1

static const struct fixture fixtures[] = {
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
	struct qframe qf = qframe_of(f, q);
	struct run r;

	run_prog(HOOK_CTR, &qf, rot, &r);
	check_run(&r, &qf, verdict, stat, rot);
}

int main(void)
{
	struct diff diff = {
	    .prefix = "ctr ", .hooks = 1u << HOOK_CTR, .frame = {CTR}, .v6_not_ours = true};
	char desc[256];

	if (harness_start(1u << HOOK_CTR))
		return 1;
	diff_harvest();

	/* No local address and no allow list: the host hooks would answer
	 * nothing with these maps; the container's program needs neither. */
	T_CASE("maps: names mirrored, config enabled; glued_addrs and glued_allow empty")
	{
		T_EQ_INT(mirror(), 0);
		T_EQ_INT(set_config(GLUED_CFG_ENABLED), 0);
	}

	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		const struct fixture *fx = &fixtures[i];

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

	diff_run(&diff);

	/* Last: the process moves into a namespace of its own. */
	ctr_netns_run();
	return harness_finish();
}
