/* make bench-dead: failure detection, time from a crash until no other
 * node holds the dead node's records (docs/protocol.md, "Failure detection
 * bound").
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "sim.h"

/* --- bench: failure detection ------------------------------------------- */

/* Node xi's view of node y: a gossip_member_state, or -1 if unknown; and
 * the table origin of y's records there. */
static int state_seen(int xi, int y, uint32_t *origin)
{
	static struct gossip_member_info info[GOSSIP_MEMBERS_MAX];
	size_t n = gossip_members(S.nodes[xi].g, info, GOSSIP_MEMBERS_MAX);

	*origin = 0;
	for (size_t j = 0; j < n && j < GOSSIP_MEMBERS_MAX; j++)
		if (node_of_id(info[j].id) == y) {
			*origin = info[j].origin;
			return (int)info[j].state;
		}
	return -1;
}

/* Does node xi's table still hold a record of node y? */
static bool holds_any(int xi, int y, uint32_t origin)
{
	char owner[TABLE_OWNER_MAX + 1];

	for (int k = 0; origin && k < S.k; k++) {
		owner_of(owner, y, k);
		if (table_get(S.nodes[xi].t, origin, owner))
			return true;
	}
	return false;
}

static bool all_know_all(void)
{
	for (int i = 0; i < S.n; i++) {
		struct gossip_stats st;

		gossip_get_stats(S.nodes[i].g, &st);
		if (st.members_alive != (uint32_t)S.n - 1)
			return false;
	}
	return true;
}

static double pct_s(const uint64_t *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)n + 0.999999);

	return (double)v[i ? i - 1 : 0] / 1000;
}

/* One crash: a converged cluster of n loses a random node without warning
 * (no leave). Returns the virtual ms from the crash until no other node
 * holds a record of it (UINT64_MAX: not within 30 s); *suspect_ms and
 * *dead_ms get when the first node suspected it and declared it dead. */
static uint64_t dead_one(uint64_t seed, int n, double loss, uint64_t *suspect_ms, uint64_t *dead_ms)
{
	static uint8_t seen[MAX_NODES];
	static bool done[MAX_NODES]; /* withdrew y's records (for good: y stays down) */
	static uint64_t failed[MAX_NODES];
	bool trace = getenv("BENCH_TRACE") != NULL;
	uint64_t t0;
	int y;

	reset();
	S.seed = seed;
	S.scenario = "bench-dead";
	rs[0] = seed * 0x9e3779b97f4a7c15ull + 1;
	rs[1] = seed ^ 0x632be59bd9b4e019ull;
	for (int i = 0; i < 8; i++)
		rnd64();
	setup(n, 2);
	S.net.loss = loss;
	S.check_false_dead = true; /* a live node declared dead fails the run */
	start_all();
	for (int i = 0; i < n; i++)
		for (int k = 0; k < S.k; k++)
			op_put(i, k);
	for (int s = 0; s < 240 && !(all_know_all() && converged(false)); s++)
		run_until(S.now + 500);
	if (!all_know_all() || !converged(false))
		fail("cluster not settled before the crash");
	/* a crash at a random phase of everyone's probe timers */
	run_until(S.now + 2000 + rnd_below(1000));
	y = (int)rnd_below((uint32_t)n);
	node_stop(y, false);
	t0 = S.now;
	if (trace)
		fprintf(stderr, "  seed %" PRIu64 " t=%" PRIu64 "ms: node %d crashes\n", seed, t0,
			y);
	*suspect_ms = *dead_ms = UINT64_MAX;
	memset(seen, 0, sizeof(seen));
	memset(done, 0, sizeof(done));
	for (int i = 0; i < n; i++) {
		struct gossip_stats gs;

		if (active(i)) {
			gossip_get_stats(S.nodes[i].g, &gs);
			failed[i] = gs.probe_failed;
		}
	}
	while (S.now - t0 < 30000) {
		bool held = false;

		run_until(S.now + 10);
		if (trace && (S.now - t0) % 500 == 0) {
			uint64_t probes = 0;
			uint32_t aw = 0;

			for (int i = 0; i < n; i++) {
				struct gossip_stats gs;

				if (!active(i))
					continue;
				gossip_get_stats(S.nodes[i].g, &gs);
				probes += gs.probes;
				aw = gs.awareness > aw ? gs.awareness : aw;
			}
			fprintf(stderr,
				"  seed %" PRIu64 " t+%" PRIu64 "ms: %" PRIu64
				" probes so far, highest awareness %u\n",
				seed, S.now - t0, probes, aw);
		}
		for (int i = 0; i < n; i++) {
			uint32_t origin;
			int st;

			if (!active(i) || done[i])
				continue;
			st = state_seen(i, y, &origin);
			if (st == GOSSIP_SUSPECT && *suspect_ms == UINT64_MAX)
				*suspect_ms = S.now - t0;
			if (st == GOSSIP_DEAD && *dead_ms == UINT64_MAX)
				*dead_ms = S.now - t0;
			if (trace && st != seen[i]) {
				fprintf(stderr,
					"  seed %" PRIu64 " t+%" PRIu64 "ms: node %d sees %d %s\n",
					seed, S.now - t0, i, y,
					st < 0 ? "unknown"
					       : gossip_state_str((enum gossip_member_state)st));
				seen[i] = (uint8_t)st;
			}
			if (trace) {
				struct gossip_stats gs;

				gossip_get_stats(S.nodes[i].g, &gs);
				if (gs.probe_failed != failed[i])
					fprintf(stderr,
						"  seed %" PRIu64 " t+%" PRIu64
						"ms: node %d: a probe failed\n",
						seed, S.now - t0, i);
				failed[i] = gs.probe_failed;
			}
			done[i] = !holds_any(i, y, origin);
			held |= !done[i];
		}
		if (!held)
			return S.now - t0;
	}
	return UINT64_MAX;
}

/* `--bench-dead 3,5,10,50,100`: per size and loss (0 %, 5 %), --seeds
 * crashes (default 20), each in a fresh cluster; prints p50/p99/max of the
 * time until every other node withdrew the dead node's records, and of the
 * first suspicion and the first death. A run fails (and the exit status
 * is 1) if a live node is ever declared dead or the cluster had
 * not settled before it; "missed": records still held after 30 s. */
int bench_dead(const char *sizes_csv, uint64_t first, uint64_t seeds)
{
	char *s = strdup(sizes_csv), *save = NULL;
	uint64_t *gone = calloc(seeds, sizeof(*gone)), *susp = calloc(seeds, sizeof(*susp)),
		 *dead = calloc(seeds, sizeof(*dead));
	int bad = 0;

	if (!s || !gone || !susp || !dead)
		abort();
	for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int n = atoi(tok);

		if (n < 3 || n > MAX_NODES)
			continue;
		for (int l = 0; l < 2; l++) {
			double loss = l ? 0.05 : 0;
			uint64_t missed = 0, failed = 0;
			struct timespec w0, w1;

			clock_gettime(CLOCK_MONOTONIC, &w0);
			for (uint64_t i = 0; i < seeds; i++) {
				gone[i] = dead_one(first + i, n, loss, &susp[i], &dead[i]);
				missed += gone[i] == UINT64_MAX;
				failed += S.failures != 0;
				if (getenv("BENCH_VERBOSE"))
					fprintf(stderr,
						"  n=%d loss=%.0f%% seed %" PRIu64
						": suspect %" PRId64 " dead %" PRId64
						" withdrawn %" PRId64 " ms\n",
						n, loss * 100, first + i, (int64_t)susp[i],
						(int64_t)dead[i], (int64_t)gone[i]);
			}
			clock_gettime(CLOCK_MONOTONIC, &w1);
			qsort(gone, seeds, sizeof(*gone), cmp_u64);
			qsort(susp, seeds, sizeof(*susp), cmp_u64);
			qsort(dead, seeds, sizeof(*dead), cmp_u64);
			printf("bench-dead: nodes=%d loss=%.0f%% seeds=%" PRIu64
			       " withdrawn p50=%.2fs p99=%.2fs max=%.2fs"
			       " (first suspect p50=%.2fs, first dead p50=%.2fs p99=%.2fs)"
			       " missed=%" PRIu64 " failed=%" PRIu64 " wall=%.1fs\n",
			       n, loss * 100, seeds, pct_s(gone, seeds, 0.5),
			       pct_s(gone, seeds, 0.99), pct_s(gone, seeds, 1),
			       pct_s(susp, seeds, 0.5), pct_s(dead, seeds, 0.5),
			       pct_s(dead, seeds, 0.99), missed, failed,
			       (double)(w1.tv_sec - w0.tv_sec) +
				   (double)(w1.tv_nsec - w0.tv_nsec) / 1e9);
			fflush(stdout);
			bad |= missed || failed;
		}
	}
	free(s);
	free(gone);
	free(susp);
	free(dead);
	reset();
	return bad;
}
