/* BPF_PROG_TEST_RUN tests of bpf/glued_dns.bpf.c's host hooks (root): a
 * Katran-style fixture table {description, frame in, verdict, counter,
 * frame out} run through both the XDP and the TC program, and a differential run of
 * every query the programs answer (fixtures, the DNS fuzz corpora wrapped
 * in IPv4 and IPv6, seeded random queries) against dns_answer() with the
 * same table contents and the same `rot`: the DNS bytes must be identical.
 * Replies are also checked as frames: addresses and ports swapped, IPv4
 * header checksum and UDP checksum recomputed here. A passed frame must
 * come out untouched.
 *
 * The map is filled from a struct table through bpf_names_encode(), the
 * encoding the daemon's mirror uses (harness.h, diff.h). The container's program
 * has its own test, test_bpf_ctr.c.
 */
#include "harness.h"
#include "diff.h"

/* --- fixtures --------------------------------------------------------------------------------- */

#define LONG64 LONG63 "x"
#define LONG62 "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"
#define V6 .f = {.v6 = 1}

static const struct fixture fixtures[] = {
    {"A for a known name over IPv4", .q = {0}, .verdict = TX, .stat = GLUED_STAT_answered},
    {"AAAA for a known name over IPv6", V6, .q = {.qtype = 28}, TX, GLUED_STAT_answered},
    {"A over IPv6 transport", V6, .q = {0}, TX, GLUED_STAT_answered},
    {"AAAA over IPv4 transport", .q = {.qtype = 28}, .verdict = TX, .stat = GLUED_STAT_answered},
    {"NODATA: AAAA for a v4-only name", .q = {.name = "db", .qtype = 28}, .verdict = TX,
     .stat = GLUED_STAT_nodata},
    {"NODATA: A for a v6-only name", V6, .q = {.name = "v6only"}, TX, GLUED_STAT_nodata},
    {"miss: unknown name passes (userspace says NXDOMAIN)", .q = {.name = "absent-x"},
     .verdict = PASS, .stat = GLUED_STAT_miss},
    {"case mix echoed: WeB", .q = {.name = "WeB"}, .verdict = TX, .stat = GLUED_STAT_answered},
    {"case mix echoed: V6ONLY AAAA", V6, .q = {.name = "V6ONLY", .qtype = 28}, TX,
     GLUED_STAT_answered},
    {"EDNS: OPT 4096 with DO", .q = {.opt = 1, .opt_size = 4096, .opt_do = 1}, .verdict = TX,
     .stat = GLUED_STAT_answered},
    {"EDNS: OPT with a cookie option (not echoed)", V6,
     .q = {.qtype = 28, .opt = 1, .opt_cookie = 1}, TX, GLUED_STAT_answered},
    {"EDNS: advertised size 100 (clamped to 512)", .q = {.name = "db", .opt = 1, .opt_size = 100},
     .verdict = TX, .stat = GLUED_STAT_answered},
    {"EDNS: version 1 passes (userspace says BADVERS)", .q = {.opt = 1, .opt_version = 1},
     .verdict = PASS, .stat = GLUED_STAT_edns_unsupported},
    {"EDNS: OPT owner not the root", .q = {.opt = 1, .opt_owner = 1}, .verdict = PASS,
     .stat = GLUED_STAT_edns_unsupported},
    {"EDNS: options overrun RDLENGTH", .q = {.opt = 1, .opt_cookie = 1, .opt_bad_rdlen = 1},
     .verdict = PASS, .stat = GLUED_STAT_malformed},
    {"rotation: db, rot 0", .q = {.name = "db"}, .verdict = TX, .stat = GLUED_STAT_answered,
     .rot = 0},
    {"rotation: db, rot 1", .q = {.name = "db"}, .verdict = TX, .stat = GLUED_STAT_answered,
     .rot = 1},
    {"rotation: db, rot 2", .q = {.name = "db"}, .verdict = TX, .stat = GLUED_STAT_answered,
     .rot = 2},
    {"rotation: db, rot 4000000001", .q = {.name = "db"}, .verdict = TX,
     .stat = GLUED_STAT_answered, .rot = 4000000001u},
    {"rotation: 16 addresses, rot 7, with OPT", .q = {.name = "sixteen", .opt = 1}, .verdict = TX,
     .stat = GLUED_STAT_answered, .rot = 7},
    {"rotation: 8 IPv6 addresses, rot 13", V6, .q = {.name = "v6eight", .qtype = 28}, TX,
     GLUED_STAT_answered, 13},
    {"overflow: 20 IPv4 addresses pass", .q = {.name = "big"}, .verdict = PASS,
     .stat = GLUED_STAT_overflow},
    {"overflow is per family: AAAA for big is NODATA", .q = {.name = "big", .qtype = 28},
     .verdict = TX, .stat = GLUED_STAT_nodata},
    {"overflow: 9 IPv6 addresses pass", V6, .q = {.name = "v6nine", .qtype = 28}, PASS,
     GLUED_STAT_overflow},
    {"63-byte label answered", .q = {.name = LONG63}, .verdict = TX, .stat = GLUED_STAT_answered},
    {"63-byte label, mixed case, AAAA over IPv6: NODATA", V6,
     .q = {.name = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyZ0", .qtype = 28},
     TX, GLUED_STAT_nodata},
    {"62-byte prefix of a 63-byte name is a miss", .q = {.name = LONG62}, .verdict = PASS,
     .stat = GLUED_STAT_miss},
    {"one-byte label at the very end of the frame (word read past it)", .q = {.name = "W"},
     .verdict = TX, .stat = GLUED_STAT_answered},
    {"9-byte label, second word runs past the frame", .q = {.name = "fallBack9"}, .verdict = TX,
     .stat = GLUED_STAT_answered},
    {"9-byte label over IPv6 with VLAN", .f = {.v6 = 1, .vlan = 1}, .q = {.name = "fallback9"},
     .verdict = TX, .stat = GLUED_STAT_answered},
    {"name whose first 8 bytes are a known name's", .q = {.name = "fallback"}, .verdict = PASS,
     .stat = GLUED_STAT_miss},
    {"trailing bytes after the question are ignored", .q = {.trailing = 7}, .verdict = TX,
     .stat = GLUED_STAT_answered},
    {"RD clear, CD set, Z and AD set: RD/CD copied, Z/AD cleared",
     .q = {.no_rd = 1, .flags = 0x0070}, .verdict = TX, .stat = GLUED_STAT_answered},
    {"IPv4 query without UDP checksum gets a full one", .f = {.zero_csum = 1}, .q = {0},
     .verdict = TX, .stat = GLUED_STAT_answered},
    {"VLAN tag: answered, tag kept", .f = {.vlan = 1}, .q = {0}, .verdict = TX,
     .stat = GLUED_STAT_answered},
    {"VLAN tag over IPv6", .f = {.vlan = 1, .v6 = 1}, .q = {.qtype = 28}, .verdict = TX,
     .stat = GLUED_STAT_answered},
    {"wrong destination IPv4 address", .f = {.wrong_dst = 1}, .q = {0}, .verdict = PASS,
     .stat = GLUED_STAT_not_ours},
    {"wrong destination IPv6 address", .f = {.wrong_dst = 1, .v6 = 1}, .q = {0}, .verdict = PASS,
     .stat = GLUED_STAT_not_ours},
    {"wrong port 5353", .f = {.dport = 5353}, .q = {0}, .verdict = PASS,
     .stat = GLUED_STAT_not_port},
    {"QR=1", .q = {.flags = 0x8100}, .verdict = PASS, .stat = GLUED_STAT_qr_set},
    {"opcode 2 (STATUS)", .q = {.flags = 0x1100}, .verdict = PASS, .stat = GLUED_STAT_opcode},
    {"QDCOUNT 2", .q = {.qd_extra = 1}, .verdict = PASS, .stat = GLUED_STAT_counts},
    {"ANCOUNT 1", .q = {.an = 1}, .verdict = PASS, .stat = GLUED_STAT_counts},
    {"ARCOUNT 2", .q = {.opt = 1, .ar_extra = 1}, .verdict = PASS, .stat = GLUED_STAT_counts},
    {"ARCOUNT 257", .q = {.opt = 1, .ar_hi = 1}, .verdict = PASS, .stat = GLUED_STAT_counts},
    {"NSCOUNT 1", .q = {.ns = 1}, .verdict = PASS, .stat = GLUED_STAT_counts},
    {"QDCOUNT 0", .q = {.qd_extra = 255}, .verdict = PASS, .stat = GLUED_STAT_counts},
    {"QR=1 and opcode 2: a response first", .q = {.flags = 0x9100}, .verdict = PASS,
     .stat = GLUED_STAT_qr_set},
    {"ARCOUNT 1, not an OPT", .q = {.ar_extra = 1, .trailing = 16}, .verdict = PASS,
     .stat = GLUED_STAT_edns_unsupported},
    {"compression pointer in the question", .q = {.compress = 1}, .verdict = PASS,
     .stat = GLUED_STAT_compression},
    {"label > 63", .q = {.name = LONG64}, .verdict = PASS, .stat = GLUED_STAT_label_too_long},
    {"NUL inside the label", .q = {.label_nul = 1}, .verdict = PASS, .stat = GLUED_STAT_label_bad},
    {"two labels", .q = {.name = "web.example"}, .verdict = PASS,
     .stat = GLUED_STAT_not_single_label},
    {"root name", .q = {.name = ""}, .verdict = PASS, .stat = GLUED_STAT_not_single_label},
    {"class CH", .q = {.qclass = 3}, .verdict = PASS, .stat = GLUED_STAT_class},
    {"type MX", .q = {.qtype = 15}, .verdict = PASS, .stat = GLUED_STAT_type},
    {"DNS message ends inside the question", .q = {.cut = 3}, .verdict = PASS,
     .stat = GLUED_STAT_truncated},
    {"truncated UDP: frame shorter than the lengths say", .f = {.cut = 5}, .q = {0},
     .verdict = PASS, .stat = GLUED_STAT_truncated},
    {"query over 512 bytes", .q = {.trailing = 600}, .verdict = PASS, .stat = GLUED_STAT_too_big},
    {"IPv4 fragment (MF)", .f = {.frag = 1}, .q = {0}, .verdict = PASS,
     .stat = GLUED_STAT_fragment},
    {"IPv4 fragment (offset)", .f = {.frag = 2}, .q = {0}, .verdict = PASS,
     .stat = GLUED_STAT_fragment},
    {"IPv6 fragment header", .f = {.frag = 1, .v6 = 1}, .q = {0}, .verdict = PASS,
     .stat = GLUED_STAT_fragment},
    {"IPv4 options", .f = {.ip_options = 1}, .q = {0}, .verdict = PASS,
     .stat = GLUED_STAT_ip_options},
    {"bad IPv4 header checksum", .f = {.bad_ipcsum = 1}, .q = {0}, .verdict = PASS,
     .stat = GLUED_STAT_bad_ip},
    {"IP version 6 under the IPv4 ethertype", .f = {.ip_version = 6}, .q = {0}, .verdict = PASS,
     .stat = GLUED_STAT_bad_ip},
    {"IP version 6 with IPv4 options", .f = {.ip_version = 6, .ip_options = 1}, .q = {0},
     .verdict = PASS, .stat = GLUED_STAT_bad_ip},
    {"IPv6 zero UDP checksum", .f = {.v6 = 1, .zero_csum = 1}, .q = {0}, .verdict = PASS,
     .stat = GLUED_STAT_malformed},
    {"TCP/53 over IPv4", .f = {.tcp = 1}, .q = {0}, .verdict = PASS, .stat = GLUED_STAT_not_udp},
    {"TCP/53 over IPv6", .f = {.tcp = 1, .v6 = 1}, .q = {0}, .verdict = PASS,
     .stat = GLUED_STAT_not_udp},
    /* TC: BPF_PROG_TEST_RUN on 6.1 and later refuses IPv4 frames
     * shorter than an IPv4 header before running the program (EINVAL):
     * there XDP only; 5.10 runs them through TC too. */
    {"runt frame: Ethernet header only", .f = {.runt = 14}, .q = {0}, .verdict = PASS,
     .stat = GLUED_STAT_truncated},
    {"runt frame: cut inside the IPv4 header", .f = {.runt = 30}, .q = {0}, .verdict = PASS,
     .stat = GLUED_STAT_truncated},
    {"runt frame: cut inside the UDP header", .f = {.runt = 38}, .q = {0}, .verdict = PASS,
     .stat = GLUED_STAT_truncated},
};

/* Run one frame through one hook and check it as the fixture says. */
static void check_fixture(int tc, const struct fixture *fx)
{
	struct qframe qf = qframe_of(&fx->f, &fx->q);
	struct run r;

	run_prog(tc, &qf, fx->rot, &r);
	/* See the runt fixtures: a kernel that refuses the frame (6.1 and
	 * later do, EINVAL) never ran the program; one that runs it (5.10)
	 * must see it pass as the fixture says, like XDP. */
	if (tc && qf.len < 14 + 20 && r.err == -EINVAL)
		return;
	check_run(&r, &qf, fx->verdict, fx->stat, fx->rot);
}

/* --- main ------------------------------------------------------------------------------------- */

int main(void)
{
	char desc[256];
	struct diff diff = {.prefix = "", .hooks = 1u << HOOK_XDP | 1u << HOOK_TC};

	if (harness_start(1u << HOOK_XDP | 1u << HOOK_TC))
		return 1;
	diff_harvest();

	T_CASE("maps filled from the table through bpf_names_encode()")
	{
		T_EQ_INT(mirror(), 0);
		T_EQ_INT(set_config(GLUED_CFG_ENABLED), 0);
		T_EQ_INT(add_local("10.0.0.1"), 0);
		T_EQ_INT(add_local("fd00::1"), 0);
		/* the fixtures' client is 10.0.0.99 / fd00::99 */
		T_EQ_INT(allow_prefix("10.0.0.0/24", 0), 0);
		T_EQ_INT(allow_prefix("fd00::/64", 0), 0);
	}

	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++)
		for (int tc = 0; tc <= 1; tc++) {
			snprintf(desc, sizeof(desc), "%s: %s", tc ? "tc" : "xdp", fixtures[i].desc);
			T_CASE(desc)
			{
				check_fixture(tc, &fixtures[i]);
			}
		}

	T_CASE("a source outside glued_allow: a known name passes up, a miss is still a miss")
	{
		struct qspec q = {.name = "web"};
		struct qframe qf = qframe_of(&(struct fspec){0}, &q),
			      qf6 = qframe_of(&(struct fspec){.v6 = 1}, &q),
			      qfm = qframe_of(&(struct fspec){0},
					      &(struct qspec){.name = "nosuchname"});
		struct run r;

		/* 10.0.0.99 is outside 10.0.0.0/28; the v6 client stays allowed */
		T_EQ_INT(allow_prefix("10.0.0.0/24", 1), 0);
		T_EQ_INT(allow_prefix("10.0.0.0/28", 0), 0);
		for (int tc = 0; tc <= 1; tc++) {
			run_prog(tc, &qf, 0, &r);
			T_EQ_INT(r.verdict, PASS);
			T_EQ_INT(r.stat, GLUED_STAT_not_allowed);
			run_prog(tc, &qfm, 0, &r);
			T_EQ_INT(r.stat, GLUED_STAT_miss);
			run_prog(tc, &qf6, 0, &r);
			T_EQ_INT(r.stat, GLUED_STAT_answered);
		}
		T_EQ_INT(allow_prefix("fd00::/64", 1), 0);
		T_EQ_INT(allow_prefix("fd00::/124", 0), 0); /* fd00::0..f: ::99 is outside */
		run_prog(0, &qf6, 0, &r);
		T_EQ_INT(r.stat, GLUED_STAT_not_allowed);
		T_EQ_INT(allow_prefix("10.0.0.96/29", 0), 0); /* a longer prefix that holds .99 */
		T_EQ_INT(allow_prefix("fd00::/64", 0), 0);
		for (int tc = 0; tc <= 1; tc++) {
			run_prog(tc, &qf, 0, &r);
			T_EQ_INT(r.stat, GLUED_STAT_answered);
			run_prog(tc, &qf6, 0, &r);
			T_EQ_INT(r.stat, GLUED_STAT_answered);
		}
		T_EQ_INT(allow_prefix("10.0.0.0/24", 0), 0);
	}

	T_CASE("rotation moves: consecutive answers start one address later")
	{
		struct qframe qf = qframe_of(&(struct fspec){0}, &(struct qspec){.name = "db"});
		uint32_t k = 0;
		uint64_t rot[ncpus];
		struct run r;

		run_prog(0, &qf, 41, &r);
		T_EQ_INT(bpf_map_lookup_elem(bpf_map__fd(skel->maps.glued_rot), &k, rot), 0);
		for (int c = 0; c < ncpus; c++)
			if ((uint32_t)rot[c] != 41)
				T_EQ_INT((uint32_t)rot[c], 42); /* the CPU that ran it moved on */
	}

	T_CASE("disabled config passes everything")
	{
		struct qframe qf = qframe_of(&(struct fspec){0}, &(struct qspec){0});
		struct run r;

		T_EQ_INT(set_config(0), 0);
		for (int tc = 0; tc <= 1; tc++) {
			run_prog(tc, &qf, 0, &r);
			T_EQ_INT(r.verdict, PASS);
			T_EQ_INT(r.stat, GLUED_STAT_disabled);
		}
		T_EQ_INT(set_config(GLUED_CFG_ENABLED), 0);
	}

	T_CASE("bpf_names_encode: overflow flags, lowercase name, zero padding, hashed key")
	{
		struct table_answer ans;
		struct glued_name_key key, key2;
		struct glued_name_val val;
		static const uint8_t zero[GLUED_NAME_LEN];

		T_ASSERT(table_lookup(tbl, "big", 3, &ans), "big known");
		T_EQ_INT(bpf_names_encode("BiG", 3, &ans, &key, &val), 0);
		T_EQ_STR(val.name, "big");
		T_EQ_MEM(val.name + 3, zero, GLUED_NAME_LEN - 3);
		T_EQ_INT(val.flags, GLUED_NAME_V4_OVERFLOW);
		T_EQ_INT(val.n_v4, 0);
		T_EQ_INT(bpf_names_key("big", 3, &key2), 0);
		T_ASSERT(key.hash == key2.hash, "key of BiG == key of big");
		T_ASSERT(bpf_names_val_holds(&val, "BIG", 3), "value holds big (any case)");
		T_ASSERT(!bpf_names_val_holds(&val, "bi", 2), "value does not hold bi");
		T_EQ_INT(bpf_names_key("bih", 3, &key2), 0);
		T_ASSERT(key.hash != key2.hash, "big and bih hash apart");
		T_ASSERT(bpf_names_key("a.b", 3, &key) == GLUED_EMALF, "dotted name refused");
		T_ASSERT(bpf_names_key("", 0, &key) == GLUED_EMALF, "empty name refused");
	}

	T_CASE("a key holding another name's value (a hash collision) is a miss, not an answer")
	{
		struct qframe qf = qframe_of(&(struct fspec){0}, &(struct qspec){.name = "web"});
		struct table_answer ans;
		struct glued_name_key kweb, kdb;
		struct glued_name_val vweb, vdb;
		int fd = bpf_map__fd(skel->maps.glued_names);
		struct run r;

		T_ASSERT(table_lookup(tbl, "db", 2, &ans), "db known");
		T_EQ_INT(bpf_names_encode("db", 2, &ans, &kdb, &vdb), 0);
		T_ASSERT(table_lookup(tbl, "web", 3, &ans), "web known");
		T_EQ_INT(bpf_names_encode("web", 3, &ans, &kweb, &vweb), 0);
		T_EQ_INT(bpf_map_update_elem(fd, &kweb, &vdb, BPF_ANY), 0);
		for (int tc = 0; tc <= 1; tc++) {
			run_prog(tc, &qf, 0, &r);
			T_EQ_INT(r.verdict, PASS);
			T_EQ_INT(r.stat, GLUED_STAT_miss);
		}
		T_EQ_INT(bpf_map_update_elem(fd, &kweb, &vweb, BPF_ANY), 0);
		run_prog(0, &qf, 0, &r);
		T_EQ_INT(r.verdict, TX);
	}

	T_CASE("a value whose name extends the query's label is a miss (the byte after the label "
	       "is compared)")
	{
		static const char *const labels[] = {"web", "abcdefgh"};
		static const char *const longer[] = {"webx", "abcdefghij"};
		struct table_answer ans;
		struct glued_name_key k;
		struct glued_name_val v;
		int fd = bpf_map__fd(skel->maps.glued_names);

		T_ASSERT(table_lookup(tbl, "web", 3, &ans), "web known");
		for (int i = 0; i < 2; i++) {
			struct qframe qf =
			    qframe_of(&(struct fspec){0}, &(struct qspec){.name = labels[i]});
			struct run r;

			/* The label's key, holding a value named by a longer name. */
			T_EQ_INT(bpf_names_encode(labels[i], strlen(labels[i]), &ans, &k, &v), 0);
			memset(v.name, 0, sizeof(v.name));
			memcpy(v.name, longer[i], strlen(longer[i]));
			T_EQ_INT(bpf_map_update_elem(fd, &k, &v, BPF_ANY), 0);
			for (int tc = 0; tc <= 1; tc++) {
				run_prog(tc, &qf, 0, &r);
				T_EQ_INT(r.verdict, PASS);
				T_EQ_INT(r.stat, GLUED_STAT_miss);
			}
			/* The same value under its own name: answered. */
			memset(v.name, 0, sizeof(v.name));
			memcpy(v.name, labels[i], strlen(labels[i]));
			T_EQ_INT(bpf_map_update_elem(fd, &k, &v, BPF_ANY), 0);
			run_prog(0, &qf, 0, &r);
			T_EQ_INT(r.verdict, TX);
			T_EQ_INT(bpf_map_delete_elem(fd, &k), 0);
		}
		T_ASSERT(table_lookup(tbl, "web", 3, &ans), "web known");
		T_EQ_INT(bpf_names_encode("web", 3, &ans, &k, &v), 0);
		T_EQ_INT(bpf_map_update_elem(fd, &k, &v, BPF_ANY), 0); /* as the table has it */
	}

	T_CASE("a local address removed is not answered after the next config write")
	{
		struct qframe qf = qframe_of(&(struct fspec){0}, &(struct qspec){0});
		struct glued_local_key k;
		struct glued_addr a;
		int fd = bpf_map__fd(skel->maps.glued_addrs);
		struct run r;

		T_EQ_INT(set_config(GLUED_CFG_ENABLED), 0);
		for (int tc = 0; tc <= 1; tc++) {
			run_prog(tc, &qf, 0, &r); /* answered: the cache holds 10.0.0.1 */
			T_EQ_INT(r.stat, GLUED_STAT_answered);
		}
		T_ASSERT(addr_parse(&a, "10.0.0.1") == 0 && bpf_local_key(&a, &k) == 0, "key");
		T_EQ_INT(bpf_map_delete_elem(fd, &k), 0);
		T_EQ_INT(set_config(GLUED_CFG_ENABLED), 0); /* a new alive_until_ns */
		for (int tc = 0; tc <= 1; tc++) {
			run_prog(tc, &qf, 0, &r);
			T_EQ_INT(r.verdict, PASS);
			T_EQ_INT(r.stat, GLUED_STAT_not_ours);
		}
		T_EQ_INT(add_local("10.0.0.1"), 0);
		run_prog(0, &qf, 0, &r); /* an address added is answered at once */
		T_EQ_INT(r.stat, GLUED_STAT_answered);
	}

	T_CASE("no liveness deadline (0): answered, local addresses looked up every time")
	{
		struct qframe qf = qframe_of(&(struct fspec){0}, &(struct qspec){0}),
			      qf6 = qframe_of(&(struct fspec){.v6 = 1}, &(struct qspec){0});
		struct run r;

		T_EQ_INT(set_config_alive(GLUED_CFG_ENABLED, 0), 0);
		for (int tc = 0; tc <= 1; tc++) {
			run_prog(tc, &qf, 0, &r);
			T_EQ_INT(r.stat, GLUED_STAT_answered);
			run_prog(tc, &qf6, 0, &r);
			T_EQ_INT(r.stat, GLUED_STAT_answered);
		}
		T_EQ_INT(set_config(GLUED_CFG_ENABLED), 0);
	}

	T_CASE("liveness: alive_until_ns passed -> everything passes, counted stale")
	{
		struct qframe qf = qframe_of(&(struct fspec){0}, &(struct qspec){0});
		struct run r;

		T_EQ_INT(set_config_alive(GLUED_CFG_ENABLED, mono_ns() - 1000000000u), 0);
		for (int tc = 0; tc <= 1; tc++) {
			run_prog(tc, &qf, 0, &r);
			T_EQ_INT(r.err, 0);
			T_EQ_INT(r.verdict, PASS);
			T_EQ_INT(r.moved, 1);
			T_EQ_INT(r.stat, GLUED_STAT_stale);
			T_ASSERT(frame_untouched(&qf, &r), "passed frame untouched");
		}
		{
			/* Other traffic is counted by its own reason (no clock read). */
			struct qframe qf5353 =
			    qframe_of(&(struct fspec){.dport = 5353}, &(struct qspec){0});

			run_prog(0, &qf5353, 0, &r);
			T_EQ_INT(r.verdict, PASS);
			T_EQ_INT(r.stat, GLUED_STAT_not_port);
		}
	}

	T_CASE("liveness: a deadline that passes between two queries stops the answers (the "
	       "per-CPU clock follows the tick)")
	{
		struct qframe qf = qframe_of(&(struct fspec){0}, &(struct qspec){0});
		struct run r;

		T_EQ_INT(set_config_alive(GLUED_CFG_ENABLED, mono_ns() + 300000000u), 0);
		for (int tc = 0; tc <= 1; tc++) {
			run_prog(tc, &qf, 0, &r);
			T_EQ_INT(r.stat, GLUED_STAT_answered);
		}
		usleep(600000);
		for (int tc = 0; tc <= 1; tc++) {
			run_prog(tc, &qf, 0, &r);
			T_EQ_INT(r.verdict, PASS);
			T_EQ_INT(r.stat, GLUED_STAT_stale);
		}
		T_EQ_INT(set_config(GLUED_CFG_ENABLED), 0);
	}

	T_CASE("liveness: alive_until_ns ahead -> answered")
	{
		struct qframe qf = qframe_of(&(struct fspec){0}, &(struct qspec){0});
		struct run r;

		T_EQ_INT(set_config_alive(GLUED_CFG_ENABLED, mono_ns() + 60ull * 1000000000u), 0);
		for (int tc = 0; tc <= 1; tc++) {
			run_prog(tc, &qf, 0, &r);
			T_EQ_INT(r.verdict, TX);
			T_EQ_INT(r.stat, GLUED_STAT_answered);
			T_ASSERT(answer_holds(&qf, &r, 0), "reply identical to dns_answer()");
		}
		T_EQ_INT(set_config(GLUED_CFG_ENABLED), 0);
	}

	/* Differential: every fixture the program answers was compared above;
	 * now the DNS fuzz corpora and seeded random queries. */
	diff_run(&diff);
	return harness_finish();
}
