/* The differential test of the BPF_PROG_TEST_RUN tests: the same DNS
 * bytes through a kernel program (harness.h's run_prog()) and through
 * dns_answer(), with the same table and `rot`; every answer must be
 * byte-identical and every passed frame untouched. The inputs are the DNS
 * fuzz corpora (whose single-label names diff_harvest() adds to the table
 * first, so that they reach the answering path) and 3000 seeded random
 * queries around the answerable shape. Test-only; static functions, one
 * includer per binary, after harness.h.
 */
#ifndef GLUED_TESTS_BPF_DIFF_H
#define GLUED_TESTS_BPF_DIFF_H

#include <dirent.h>

#include "harness.h"
#include "tfile.h"

/* --- differential inputs ---------------------------------------------------------------------- */

/* The DNS fuzz corpora, the differential tests' first input. */
static const char *const dns_corpora[] = {"tests/fuzz/corpus/dns_parse",
					  "tests/fuzz/corpus/dns_answer"};
static unsigned harvested; /* names harvest() added to the table */

/* Names that corpus queries ask for, added to the table (and so to the
 * map) so that the corpus reaches the answering path. */
static void harvest(const uint8_t *msg, size_t len, unsigned *n)
{
	struct dns_query q;
	char label[DNS_LABEL_MAX + 1], owner[32], a4[16];
	size_t l;

	if (dns_parse_query(&q, msg, len) || q.labels != 1 || *n >= 64)
		return;
	l = dns_query_first_label(&q, label);
	if (!table_name_valid(label, l) || table_lookup(tbl, label, l, &(struct table_answer){0}))
		return;
	snprintf(owner, sizeof(owner), "corpus-%u", *n);
	snprintf(a4, sizeof(a4), "10.9.0.%u", *n + 2);
	t_table_put(tbl, owner, label, (const char *const[]){a4, "fd00:9::1"}, 2);
	(*n)++;
}

/* fn on every file of dir, in name order, each in a buffer of exactly its
 * size (ASan sees a read past the end). */
static void corpus_each(const char *dir, void (*fn)(const uint8_t *, size_t, void *), void *ctx)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		char path[4096];
		size_t len;
		char *buf;

		if (ents[i]->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
			buf = t_read_file(path, &len, false);
			if (buf)
				fn((const uint8_t *)buf, len, ctx);
			free(buf);
		}
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
}

static void harvest_cb(const uint8_t *m, size_t len, void *ctx)
{
	(void)ctx;
	harvest(m, len, &harvested);
}

/* Before the maps are filled: the corpora's names into the table. */
static void diff_harvest(void)
{
	for (size_t i = 0; i < sizeof(dns_corpora) / sizeof(dns_corpora[0]); i++)
		corpus_each(dns_corpora[i], harvest_cb, NULL);
}

/* Seeded random queries around the answerable shape. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16) % n;
}

static void random_query(struct qspec *q, char *name)
{
	static const char *names[] = {"web",	  "db",	     "v6only",	   "sixteen",
				      "big",	  "v6eight", "v6nine",	   LONG63,
				      "absent-x", "w",	     "web.example"};
	static const uint16_t types[] = {1, 28, 1, 28, 15, 12, 255, 16};
	const char *base = names[rnd(sizeof(names) / sizeof(names[0]))];
	size_t i;

	memset(q, 0, sizeof(*q));
	for (i = 0; base[i]; i++)
		name[i] = rnd(3) == 0 && base[i] >= 'a' && base[i] <= 'z' ? base[i] - 32 : base[i];
	name[i] = 0;
	q->name = name;
	q->qtype = types[rnd(8)];
	q->qclass = rnd(10) ? 1 : (uint16_t)rnd(300);
	q->no_rd = 1;
	q->flags = (uint16_t)(rnd(4) ? rnd(0x10000) & 0x07f0 : rnd(0x10000)); /* rarely QR/opcode */
	q->id = (uint16_t)rnd(0x10000);
	q->qd_extra = rnd(20) == 0;
	q->an = rnd(30) == 0;
	q->opt = rnd(2);
	q->opt_size = (uint16_t)rnd(5000);
	q->opt_do = rnd(2);
	q->opt_version = rnd(10) == 0;
	q->opt_cookie = rnd(3) == 0;
	q->opt_bad_rdlen = rnd(30) == 0;
	q->opt_owner = rnd(30) == 0;
	q->compress = rnd(40) == 0;
	q->label_nul = rnd(40) == 0;
	q->trailing = rnd(4) == 0 ? rnd(40) : 0;
	q->cut = rnd(20) == 0 ? rnd(6) : 0;
}

/* --- the differential test ------------------------------------------------------------------ */

/* One differential test: every message wrapped in an IPv4 and an IPv6
 * frame (`frame` with .v6 set per run) and run through every hook in
 * `hooks`. Where the program answers, the frame must be well-formed and the
 * DNS bytes dns_answer()'s for the same table and rot; where it passes, the
 * frame must be untouched. */
struct diff {
	const char *prefix; /* of the case names: "" or "ctr " */
	unsigned hooks;	    /* a bit per enum hook */
	struct fspec frame;
	bool v6_not_ours; /* IPv6 is never answered: passed as not_ours (glued_ctr_dns) */
	unsigned runs, answered, identical;
};

static void diff_one(struct diff *d, const uint8_t *msg, size_t len, uint32_t rot)
{
	struct qframe qf;

	if (len > 1400)
		return;
	for (int v6 = 0; v6 <= 1; v6++) {
		struct fspec fs = d->frame;

		fs.v6 = v6;
		qframe_wrap(&qf, &fs, msg, len);
		for (enum hook h = 0; h < HOOK_MAX; h++) {
			struct run r;

			if (!(d->hooks & 1u << h))
				continue;
			run_prog(h, &qf, rot, &r);
			d->runs++;
			T_EQ_INT(r.err, 0);
			T_EQ_INT(r.moved, 1);
			T_EQ_INT(r.other_moved, 0);
			if (r.verdict != TX) {
				T_ASSERT(r.verdict == PASS && frame_untouched(&qf, &r),
					 "passed frame untouched (%s)",
					 bpf_stat_name((unsigned)r.stat));
				T_ASSERT(!v6 || !d->v6_not_ours || r.stat == GLUED_STAT_not_ours,
					 "IPv6 is not_ours (%s)", bpf_stat_name((unsigned)r.stat));
				continue;
			}
			T_ASSERT(!v6 || !d->v6_not_ours, "IPv6 never answered");
			d->answered++;
			if (answer_holds(&qf, &r, rot))
				d->identical++;
		}
	}
}

static void diff_cb(const uint8_t *m, size_t len, void *ctx)
{
	struct diff *d = ctx;

	diff_one(d, m, len, d->runs * 2654435761u);
}

/* The corpora, then 3000 seeded random queries; a case each. */
static void diff_run(struct diff *d)
{
	char desc[256];

	for (size_t i = 0; i < sizeof(dns_corpora) / sizeof(dns_corpora[0]); i++)
		corpus_each(dns_corpora[i], diff_cb, d);
	fprintf(stderr, "bpf: %scorpus: %u runs, %u answered, %u identical (%u names harvested)\n",
		d->prefix, d->runs, d->answered, d->identical, harvested);
	snprintf(desc, sizeof(desc), "%scorpus: every answer is byte-identical to dns_answer()",
		 d->prefix);
	T_CASE(desc)
	{
		T_EQ_INT(d->identical, d->answered);
		T_ASSERT(d->answered > 0, "the corpus reaches the answer");
	}

	d->runs = d->answered = d->identical = 0;
	for (int i = 0; i < 3000; i++) {
		char name[80];
		uint8_t msg[2048];
		struct qspec q;

		random_query(&q, name);
		diff_one(d, msg, q_build(msg, &q), rnd(1000000));
	}
	fprintf(stderr, "bpf: %srandom: %u runs, %u answered, %u identical\n", d->prefix, d->runs,
		d->answered, d->identical);
	snprintf(desc, sizeof(desc),
		 "%srandom queries: every answer is byte-identical to dns_answer()", d->prefix);
	T_CASE(desc)
	{
		T_EQ_INT(d->identical, d->answered);
		T_ASSERT(d->answered > d->runs / 10, "the answering path is exercised (%u/%u)",
			 d->answered, d->runs);
	}
}

#endif
