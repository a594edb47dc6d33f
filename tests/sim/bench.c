/* make bench-sim: convergence and bytes after a burst at 10, 100 and 1000
 * nodes, then five deploys on the converged cluster (docs/protocol.md,
 * "Measured (simulator)").
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "sim.h"

/* --- bench ---------------------------------------------------------------- */

size_t entries_of(int i)
{
	struct table_stats st;

	table_get_stats(S.nodes[i].t, &st);
	return st.entries;
}

/* BENCH_VERBOSE: where the time of a burst goes, one line per interval.
 * behind: (node, origin) pairs without every change of the origin; unaware:
 * those that have not even heard of its latest version. */
static void bench_profile(uint64_t t0, uint64_t last[6], bool print)
{
	static struct gossip_member_info info[GOSSIP_MEMBERS_MAX];
	static uint64_t seq[MAX_NODES];
	uint64_t behind = 0, unaware = 0, c[6] = {0};
	struct gossip_stats st;

	for (int y = 0; y < S.n; y++) {
		uint64_t e;
		uint32_t inc;

		gossip_self(S.nodes[y].g, &e, &seq[y], &inc);
	}
	for (int i = 0; i < S.n; i++) {
		size_t m = gossip_members(S.nodes[i].g, info, GOSSIP_MEMBERS_MAX);

		for (size_t j = 0; j < m && j < GOSSIP_MEMBERS_MAX; j++) {
			int y = node_of_id(info[j].id);

			if (y >= S.n)
				continue;
			behind += info[j].head < seq[y];
			unaware += info[j].known_head < seq[y];
		}
		gossip_get_stats(S.nodes[i].g, &st);
		c[0] += st.syncs_started;
		c[1] += st.syncs_completed;
		c[2] += st.syncs_timed_out;
		c[3] += st.syncs_refused;
		c[4] += st.deltas_applied;
		c[5] += st.delta_queue_dropped;
	}
	if (print)
		fprintf(stderr,
			"  t+%4" PRIu64 "ms: behind %7" PRIu64 " unaware %7" PRIu64
			" | syncs +%" PRIu64 " done +%" PRIu64 " timeout +%" PRIu64
			" refused +%" PRIu64 " running %" PRIu64 " | deltas applied +%" PRIu64
			" evicted +%" PRIu64 "\n",
			S.now - t0, behind, unaware, c[0] - last[0], c[1] - last[1], c[2] - last[2],
			c[3] - last[3], c[0] - c[1] - c[2], c[4] - last[4], c[5] - last[5]);
	memcpy(last, c, sizeof(c));
}

/* BENCH_VERBOSE: bytes per node per second by message type since *since. */
/* Statements signed and verified, datagrams and their bytes, summed over
 * the nodes (the cost of signatures: docs/protocol.md, "Measured"). */
static void sig_totals(int n, uint64_t c[4])
{
	memset(c, 0, 4 * sizeof(*c));
	for (int i = 0; i < n; i++) {
		struct gossip_stats st;

		gossip_get_stats(S.nodes[i].g, &st);
		c[0] += st.stmts_signed;
		c[1] += st.stmts_verified;
		c[2] += st.tx_dgrams;
		c[3] += st.tx_bytes;
	}
}

void bench_bytes(const char *what, uint64_t since[16], double secs)
{
	static const char *names[16] = {
	    "headers", "ping",	"ack",	   "ping-req", "nack",	    "alive", "suspect", "dead",
	    "left",    "delta", "summary", "sync-req", "sync-data", "?",     "?",	"?"};

	fprintf(stderr, "  %s, KB/s per node:", what);
	for (int t = 0; t < 16; t++)
		if (S.tx_by_type[t] > since[t])
			fprintf(stderr, " %s %.2f", names[t],
				(double)(S.tx_by_type[t] - since[t]) / S.n / secs / 1024);
	fputc('\n', stderr);
	memcpy(since, S.tx_by_type, sizeof(S.tx_by_type));
}

/* The second bench row, on the converged cluster bench_one leaves: a
 * deploy. 1 % of the nodes (at least one) each replace 5 of their k
 * containers (5 stop, 5 new ones start under new IDs: 10 changes each)
 * within 100 ms; converged = every node holds exactly the new set. Five
 * deploys 5 s apart, each on other nodes. */
#define DEPLOYS 5

static int deploy_node(int n, int c, int d)
{
	int nch = n / 100 ? n / 100 : 1;

	return (c * (n / nch) + d) % n;
}

/* Time (ms) until every node holds deploy d's changes; 0 = not in 30 s. */
static uint64_t bench_deploy(int n, int k, int d)
{
	static uint32_t(*origin)[MAX_NODES / 100 + 1];
	static struct gossip_member_info info[GOSSIP_MEMBERS_MAX];
	int nch = n / 100 ? n / 100 : 1, per = 5;
	char owner[TABLE_OWNER_MAX + 1];
	size_t want = (size_t)n * k;
	uint64_t t0 = S.now;

	if (!origin)
		origin = calloc(MAX_NODES, sizeof(*origin));
	for (int i = 0; i < n; i++) {
		size_t m = gossip_members(S.nodes[i].g, info, GOSSIP_MEMBERS_MAX);

		for (size_t j = 0; j < m && j < GOSSIP_MEMBERS_MAX; j++) {
			int y = node_of_id(info[j].id);

			for (int c = 0; c < nch; c++)
				if (y == deploy_node(n, c, d))
					origin[i][c] = info[j].origin;
		}
	}
	for (int r = 0; r < per; r++) {
		for (int c = 0; c < nch; c++) {
			op_del(deploy_node(n, c, d), r);
			op_put(deploy_node(n, c, d), k + r);
		}
		run_until(S.now + 100 / per);
	}
	while (S.now - t0 < 30000) {
		bool ok = true;

		run_until(S.now + 10);
		for (int i = 0; i < n && ok; i++) {
			ok = entries_of(i) == want;
			for (int c = 0; c < nch && ok; c++) {
				int y = deploy_node(n, c, d);

				if (y == i)
					continue;
				for (int r = 0; r < per && ok; r++) {
					owner_of(owner, y, r);
					ok = !table_get(S.nodes[i].t, origin[i][c], owner);
					owner_of(owner, y, k + r);
					ok = ok && table_get(S.nodes[i].t, origin[i][c], owner);
				}
			}
		}
		if (ok)
			return S.now - t0;
	}
	return 0;
}

int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void bench_change(int n, double loss, int k)
{
	uint64_t conv[DEPLOYS], txw = 0, tx5 = 0, since[16], win_ms = 0;
	int failed = 0;

	for (int d = 0; d < DEPLOYS; d++) {
		uint64_t t0 = S.now, a = 0, b = 0, c = 0;

		for (int i = 0; i < n; i++)
			a += S.nodes[i].tx_bytes;
		if (d == 0)
			memcpy(since, S.tx_by_type, sizeof(since));
		conv[d] = bench_deploy(n, k, d);
		failed += !conv[d];
		if (!conv[d])
			conv[d] = 30000;
		win_ms += conv[d];
		for (int i = 0; i < n; i++)
			b += S.nodes[i].tx_bytes;
		run_until(t0 + 5000);
		for (int i = 0; i < n; i++)
			c += S.nodes[i].tx_bytes;
		txw += b - a;
		tx5 += c - a;
	}
	if (getenv("BENCH_VERBOSE"))
		bench_bytes("deploys (5 s each)", since, 5.0 * DEPLOYS);
	qsort(conv, DEPLOYS, sizeof(conv[0]), cmp_u64);
	printf("bench-sim: nodes=%d records/node=%d loss=%.0f%% deploy (%d nodes x 5 "
	       "replaced): converge median %.2fs max %s%.2fs; sent while converging "
	       "%.1fKB/node (%.1fKB/s/node), in the 5 s from the deploy %.1fKB/node "
	       "(%.1fKB/s/node)\n",
	       n, k, loss * 100, n / 100 ? n / 100 : 1, (double)conv[DEPLOYS / 2] / 1000,
	       failed ? ">" : "", (double)conv[DEPLOYS - 1] / 1000,
	       (double)txw / n / DEPLOYS / 1024, (double)txw / n / ((double)win_ms / 1000) / 1024,
	       (double)tx5 / n / DEPLOYS / 1024, (double)tx5 / n / 5.0 / DEPLOYS / 1024);
	fflush(stdout);
}

void bench_one(int n, double loss)
{
	const int k = getenv("BENCH_RECORDS") ? atoi(getenv("BENCH_RECORDS")) : 50;
	uint64_t t0, t1, tx0 = 0, tx1 = 0, txs = 0, tx2 = 0;
	bool ok = false;
	size_t want = (size_t)n * k;
	struct timespec w0, w1;
	int known = 0;
	uint64_t prof[6] = {0}, by_type[16], sg0[4], sg1[4], sg2[4], sg3[4];

	clock_gettime(CLOCK_MONOTONIC, &w0);
	reset();
	S.seed = getenv("BENCH_SEED") ? strtoull(getenv("BENCH_SEED"), NULL, 0) : 1;
	S.scenario = "bench";
	rs[0] = 12345 + S.seed - 1; /* BENCH_SEED: another run of the same bench */
	rs[1] = 67890;
	setup(n, k + 5); /* 5 slots for bench_change's new containers */
	S.net.loss = loss;
	for (int i = 0; i < n; i++) {
		node_start(i);
		run_until(S.now + 2);
	}
	/* membership first: every node knows every other */
	for (int s = 0; s < 120 && known < n; s++) {
		static struct gossip_member_info info[1];

		run_until(S.now + 1000);
		known = 0;
		for (int i = 0; i < n; i++) {
			struct gossip_stats st;

			(void)info;
			gossip_get_stats(S.nodes[i].g, &st);
			if (st.members_alive == (uint32_t)n - 1)
				known++;
		}
	}
	run_until(S.now + 2000);
	for (int i = 0; i < n; i++)
		tx0 += S.nodes[i].tx_bytes;
	/* the burst: every node publishes k records within 100 ms */
	t0 = S.now;
	memcpy(by_type, S.tx_by_type, sizeof(by_type));
	if (getenv("BENCH_VERBOSE"))
		bench_profile(t0, prof, false);
	sig_totals(n, sg0);
	for (int j = 0; j < k; j++) {
		for (int i = 0; i < n; i++)
			op_put(i, j);
		run_until(S.now + 2);
	}
	while (S.now - t0 < 60000) {
		int done = 0;

		run_until(S.now + 50);
		size_t missing = 0;

		for (int i = 0; i < n; i++) {
			done += entries_of(i) == want;
			missing += want - entries_of(i);
		}
		if (getenv("BENCH_VERBOSE") && (S.now - t0) % 100 == 0) {
			fprintf(stderr,
				"  t+%4" PRIu64 "ms: %d/%d nodes converged, %zu records missing\n",
				S.now - t0, done, n, missing);
			bench_profile(t0, prof, true);
		}
		if (done == n) {
			ok = true;
			break;
		}
	}
	t1 = S.now;
	sig_totals(n, sg1);
	for (int i = 0; i < n; i++)
		tx1 += S.nodes[i].tx_bytes;
	if (getenv("BENCH_VERBOSE")) {
		uint64_t sy = 0, ds = 0, dg = 0;
		struct gossip_stats st;

		for (int i = 0; i < n; i++) {
			gossip_get_stats(S.nodes[i].g, &st);
			sy += st.syncs_started;
			ds += st.deltas_sent;
			dg += st.tx_dgrams;
		}
		fprintf(stderr,
			"  at convergence: syncs %" PRIu64 " deltas sent %" PRIu64
			" datagrams %" PRIu64 "\n",
			sy, ds, dg);
	}
	if (getenv("BENCH_VERBOSE"))
		bench_bytes("burst", by_type, (double)(t1 - t0 ? t1 - t0 : 1) / 1000);
	/* steady state: the 10 s after the dissemination tail (10 s) */
	run_until(S.now + 10000);
	for (int i = 0; i < n; i++)
		txs += S.nodes[i].tx_bytes;
	memcpy(by_type, S.tx_by_type, sizeof(by_type));
	sig_totals(n, sg2);
	run_until(S.now + 10000);
	sig_totals(n, sg3);
	for (int i = 0; i < n; i++)
		tx2 += S.nodes[i].tx_bytes;
	if (getenv("BENCH_VERBOSE"))
		bench_bytes("steady", by_type, 10);
	clock_gettime(CLOCK_MONOTONIC, &w1);
	{
		struct gossip_stats sum = {0}, st;

		for (int i = 0; i < n; i++) {
			gossip_get_stats(S.nodes[i].g, &st);
			sum.syncs_started += st.syncs_started;
			sum.syncs_completed += st.syncs_completed;
			sum.syncs_refused += st.syncs_refused;
			sum.syncs_timed_out += st.syncs_timed_out;
			sum.suspicions += st.suspicions;
			sum.deaths += st.deaths;
			sum.delta_queue_dropped += st.delta_queue_dropped;
			sum.tx_queue_dropped += st.tx_queue_dropped;
			sum.deltas_sent += st.deltas_sent;
			sum.push_pulls += st.push_pulls;
			sum.rx_rate_limited += st.rx_rate_limited;
			sum.probe_failed += st.probe_failed;
			sum.refutations += st.refutations;
			sum.syncs_unproven += st.syncs_unproven;
			sum.amp_limited += st.amp_limited;
			sum.amp_challenges += st.amp_challenges;
		}
		if (getenv("BENCH_VERBOSE"))
			fprintf(stderr,
				"  syncs %" PRIu64 " done %" PRIu64 " refused %" PRIu64
				" timed out %" PRIu64 " suspicions %" PRIu64 " deaths %" PRIu64
				" bcast evicted %" PRIu64 " txq dropped %" PRIu64
				" deltas sent %" PRIu64 " rate-limited %" PRIu64
				" probes failed %" PRIu64 " refutations %" PRIu64
				" | syncs unproven %" PRIu64 " amp limited %" PRIu64
				" challenges %" PRIu64 "\n",
				sum.syncs_started, sum.syncs_completed, sum.syncs_refused,
				sum.syncs_timed_out, sum.suspicions, sum.deaths,
				sum.delta_queue_dropped, sum.tx_queue_dropped, sum.deltas_sent,
				sum.rx_rate_limited, sum.probe_failed, sum.refutations,
				sum.syncs_unproven, sum.amp_limited, sum.amp_challenges);
	}
	printf("bench-sim: nodes=%d records/node=%d loss=%.0f%% converge=%s%.2fs "
	       "burst=%.0fKB/node (%.0fKB/s/node) steady=%.2fKB/s/node "
	       "(members known by %d/%d; wall %.1fs)\n",
	       n, k, loss * 100, ok ? "" : ">", (double)(t1 - t0) / 1000,
	       (double)(tx1 - tx0) / n / 1024,
	       (double)(tx1 - tx0) / n / ((double)(t1 - t0 ? t1 - t0 : 1) / 1000) / 1024,
	       (double)(tx2 - txs) / n / 10.0 / 1024, known, n,
	       (double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) / 1e9);
	{
		double bs = (double)(t1 - t0 ? t1 - t0 : 1) / 1000;

		printf("bench-sim: nodes=%d loss=%.0f%% statements: burst %.1f signed %.1f "
		       "verified /s/node; steady %.2f signed %.2f verified /s/node; datagrams "
		       "%.0f bytes on average (burst), %.0f (steady)\n",
		       n, loss * 100, (double)(sg1[0] - sg0[0]) / n / bs,
		       (double)(sg1[1] - sg0[1]) / n / bs, (double)(sg3[0] - sg2[0]) / n / 10.0,
		       (double)(sg3[1] - sg2[1]) / n / 10.0,
		       (double)(sg1[3] - sg0[3]) / (double)(sg1[2] - sg0[2] ? sg1[2] - sg0[2] : 1),
		       (double)(sg3[3] - sg2[3]) / (double)(sg3[2] - sg2[2] ? sg3[2] - sg2[2] : 1));
	}
	fflush(stdout);
	if (ok)
		bench_change(n, loss, k);
}
