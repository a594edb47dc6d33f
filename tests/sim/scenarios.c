/* The scripted simulation runs (docs/protocol.md, "Simulation"): each
 * scenario drives the engine (loss, crashes, restarts, partitions, pauses,
 * leaves, late joins) and states what must hold at its end; run_one()
 * replays one (seed, size, scenario) exactly.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "sim.h"

void random_ops(int count)
{
	for (int j = 0; j < count; j++) {
		int i = (int)rnd_below((uint32_t)S.n), k = (int)rnd_below((uint32_t)S.k);

		if (!active(i))
			continue;
		if (S.nodes[i].recs[k].live && chance(0.4))
			op_del(i, k);
		else
			op_put(i, k);
	}
}

/* Random operations spread over ms milliseconds. */
void churn(uint64_t ms, int ops)
{
	uint64_t step = ops ? ms / (uint64_t)ops : ms;

	for (int j = 0; j < ops; j++) {
		random_ops(1);
		run_until(S.now + (step ? step : 1));
	}
	if (!ops)
		run_until(S.now + ms);
}

void heal(void)
{
	for (int i = 0; i < S.n; i++)
		S.nodes[i].group = 0;
	S.net.loss = 0;
	S.net.dup = 0;
}

static const uint64_t CONVERGE_MS = 25000;

static void sc_steady(void)
{
	S.net.loss = 0.05;
	S.net.jitter_ms = 5;
	start_all();
	churn(8000, S.n * 4);
	heal();
	await_convergence(CONVERGE_MS, "steady churn at 5% loss");
}

static void sc_loss10(void)
{
	/* SIM_LOSS10=0.2 ...: the same run at a harsher loss, to measure margin */
	S.net.loss = getenv("SIM_LOSS10") ? atof(getenv("SIM_LOSS10")) : 0.10;
	S.check_false_dead = true;
	start_all();
	churn(15000, S.n * 3);
	run_until(S.now + 5000);
	S.check_false_dead = false;
	heal();
	await_convergence(CONVERGE_MS, "10% loss");
}

static void sc_crash(void)
{
	int victims = S.n > 3 ? S.n / 4 : 1;

	S.net.loss = 0.02;
	start_all();
	churn(3000, S.n * 2);
	await_convergence(CONVERGE_MS, "start");
	for (int v = 0; v < victims; v++) {
		int y = 1 + (int)rnd_below((uint32_t)(S.n - 1));

		if (!S.nodes[y].up || S.n < 2)
			continue;
		node_stop(y, false);
		run_until(S.now + detect_bound());
		check_withdrawn(y, "crashed");
		if (chance(0.7)) {
			node_start(y);
			random_ops(3);
		}
	}
	churn(2000, S.n);
	heal();
	await_convergence(CONVERGE_MS, "crashes and restarts");
}

static void sc_quick_restart(void)
{
	/* restart before anyone notices: the new epoch replaces old records */
	start_all();
	for (int i = 0; i < S.n; i++)
		for (int k = 0; k < 3 && k < S.k; k++)
			op_put(i, k);
	await_convergence(CONVERGE_MS, "start");
	for (int r = 0; r < 3; r++) {
		int y = (int)rnd_below((uint32_t)S.n);

		node_stop(y, false);
		run_until(S.now + 200);
		node_start(y);
		op_put(y, S.k - 1);
		await_convergence(CONVERGE_MS, "quick restart");
	}
}

static void sc_partition(void)
{
	S.net.loss = 0.02;
	start_all();
	churn(3000, S.n * 2);
	for (int i = 0; i < S.n; i++)
		S.nodes[i].group = chance(0.5) ? 1 : 0;
	S.nodes[0].group = 0;
	if (S.n > 1)
		S.nodes[1].group = 1; /* even the bootstrap pair is split */
	churn(20000, S.n * 2);
	heal();
	await_convergence(CONVERGE_MS + 10000, "partition healed");
}

static void sc_pause(void)
{
	int y = (int)rnd_below((uint32_t)S.n);

	start_all();
	churn(3000, S.n * 2);
	S.nodes[y].paused = true;
	churn(12000, S.n);
	S.nodes[y].paused = false;
	S.nodes[y].timer_gen++;
	schedule(y);
	churn(2000, S.n);
	await_convergence(CONVERGE_MS, "pause ended");
}

static void sc_leave(void)
{
	int y = S.n > 1 ? 1 + (int)rnd_below((uint32_t)(S.n - 1)) : 0;

	S.net.loss = 0.01;
	start_all();
	churn(3000, S.n * 2);
	await_convergence(CONVERGE_MS, "start");
	node_stop(y, true);
	run_until(S.now + 2000);
	check_withdrawn(y, "left");
	heal();
	await_convergence(CONVERGE_MS, "leave");
}

static void sc_late(void)
{
	int y = S.n - 1;

	for (int i = 0; i < S.n - 1; i++) {
		node_start(i);
		run_until(S.now + rnd_below(20));
	}
	churn(10000, S.n * 4);
	node_start(y);
	random_ops(2);
	await_convergence(CONVERGE_MS, "late join");
}

static void sc_chaos(void)
{
	S.net.loss = 0.05;
	S.net.dup = 0.05;
	S.net.jitter_ms = 40;
	start_all();
	await_convergence(CONVERGE_MS, "start");
	for (int round = 0; round < 6; round++) {
		int y = (int)rnd_below((uint32_t)S.n);

		switch (rnd_below(4)) {
		case 0:
			node_stop(y, chance(0.5));
			break;
		case 1:
			if (!S.nodes[y].up)
				node_start(y);
			break;
		case 2:
			if (S.nodes[y].up)
				S.nodes[y].paused = !S.nodes[y].paused;
			if (!S.nodes[y].paused) {
				S.nodes[y].timer_gen++;
				schedule(y);
			}
			break;
		case 3:
			for (int i = 0; i < S.n; i++)
				S.nodes[i].group = (int)rnd_below(2);
			break;
		}
		churn(3000, S.n);
		check_versions_monotonic();
	}
	for (int i = 0; i < S.n; i++) {
		if (S.nodes[i].up && S.nodes[i].paused) {
			S.nodes[i].paused = false;
			S.nodes[i].timer_gen++;
			schedule(i);
		}
	}
	heal();
	await_convergence(CONVERGE_MS + 10000, "chaos healed");
}

/* A Byzantine member (byzantine.c) attacks a converged cluster at 5 % loss
 * for 6 s while the honest nodes keep changing records: no honest record
 * may change or vanish anywhere (but by a false death), no honest node may
 * be held dead longer than the failure-detection bound, the
 * honest nodes' traffic stays under the 20 KB/s per node goal, and the
 * cluster converges afterwards. */
static void sc_byzantine(void)
{
	uint64_t t0, tx0 = 0, tx1 = 0, by_type[16];
	int b = S.n - 1, honest = S.n - 1;
	double kbs;

	S.net.loss = 0.05;
	S.net.jitter_ms = 5;
	start_all();
	churn(3000, S.n * 2);
	await_convergence(CONVERGE_MS, "start");
	S.byz = b;
	S.check_byz = true;
	for (int i = 0; i < S.n; i++)
		if (i != b)
			tx0 += S.nodes[i].tx_bytes;
	t0 = S.now;
	memcpy(by_type, S.tx_by_type, sizeof(by_type));
	for (int step = 0; step < 60; step++) {
		byz_step(b);
		if (step % 5 == 0) {
			int i = (int)rnd_below((uint32_t)honest), k = (int)rnd_below((uint32_t)S.k);

			if (S.nodes[i].recs[k].live && chance(0.4))
				op_del(i, k);
			else
				op_put(i, k);
		}
		run_until(S.now + 100);
		check_dead_bound(b);
	}
	for (int i = 0; i < S.n; i++)
		if (i != b)
			tx1 += S.nodes[i].tx_bytes;
	if (getenv("SIM_VERBOSE"))
		for (int i = 0; i < S.n; i++) {
			struct gossip_stats st;

			gossip_get_stats(S.nodes[i].g, &st);
			fprintf(stderr,
				"  node %d: tx %" PRIu64 " rx %" PRIu64 " syncs started %" PRIu64
				" served %" PRIu64 " refused %" PRIu64 " suspicions %" PRIu64
				" refutations %" PRIu64 " stmts verified %" PRIu64
				" cached %" PRIu64 " bad %" PRIu64 " claims refused %" PRIu64
				" epoch replaced %" PRIu64 "\n",
				i, st.tx_dgrams, st.rx_dgrams, st.syncs_started, st.syncs_served,
				st.syncs_refused, st.suspicions, st.refutations, st.stmts_verified,
				st.stmts_cached, st.stmts_bad, st.claims_refused,
				st.epoch_replaced);
		}
	if (getenv("SIM_VERBOSE"))
		bench_bytes("under attack (all nodes)", by_type, (double)(S.now - t0) / 1000);
	kbs = (double)(tx1 - tx0) / honest / ((double)(S.now - t0) / 1000) / 1024;
	if (kbs > 20)
		fail("honest traffic %.1f KB/s per node under attack (goal < 20)", kbs);
	S.byz_kbs = kbs;
	heal();
	await_convergence(CONVERGE_MS, "the attack");
}

static const struct scenario scenarios[] = {
    {"steady", sc_steady},	   {"loss10", sc_loss10},	{"crash", sc_crash},
    {"restart", sc_quick_restart}, {"partition", sc_partition}, {"pause", sc_pause},
    {"leave", sc_leave},	   {"late", sc_late},		{"chaos", sc_chaos},
    {"byzantine", sc_byzantine},
};
#define N_SCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))
/* the seed rotation (make sim, the sim suite) leaves out the last one,
 * byzantine, which the suite runs on its own seed range */
#define N_ROTATION (N_SCENARIOS - 1)

static const int sizes[] = {2, 3, 4, 5, 7, 8, 12, 16, 24, 32, 48, 64};
#define N_SIZES (sizeof(sizes) / sizeof(sizes[0]))

/* One run; returns the number of failures. */
int run_one(uint64_t seed, int n, const struct scenario *sc, bool n_fixed)
{
	int f;

	reset();
	S.seed = seed;
	S.scenario = sc->name;
	S.check_records = true;
	rs[0] = seed * 0x9e3779b97f4a7c15ull + 1;
	rs[1] = seed ^ 0x632be59bd9b4e019ull;
	for (int i = 0; i < 8; i++)
		rnd64();
	if (!strcmp(sc->name, "byzantine") && !n_fixed)
		n = 4 + (int)(seed % 9); /* an attacker and 3..11 honest nodes */
	setup(n, 8);
	check_versions_monotonic(); /* S.now == 0: forget the previous run */
	sc->fn();
	check_versions_monotonic();
	f = S.failures;
	if (f)
		fprintf(stderr,
			"sim: FAILED seed %" PRIu64 "; replay: make sim SEED=%" PRIu64
			" NODES=%d SCENARIO=%s\n",
			seed, seed, n, sc->name);
	return f;
}

void pick(uint64_t seed, int *n, const struct scenario **sc)
{
	*sc = &scenarios[seed % N_ROTATION];
	*n = sizes[(seed / N_ROTATION) % N_SIZES];
}

const struct scenario *find_scenario(const char *name)
{
	for (size_t i = 0; i < N_SCENARIOS; i++)
		if (!strcmp(scenarios[i].name, name))
			return &scenarios[i];
	return NULL;
}
