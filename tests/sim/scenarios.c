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

static const struct scenario scenarios[] = {
    {"steady", sc_steady},	   {"loss10", sc_loss10},	{"crash", sc_crash},
    {"restart", sc_quick_restart}, {"partition", sc_partition}, {"pause", sc_pause},
    {"leave", sc_leave},	   {"late", sc_late},		{"chaos", sc_chaos},
};
#define N_SCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

static const int sizes[] = {2, 3, 4, 5, 7, 8, 12, 16, 24, 32, 48, 64};
#define N_SIZES (sizeof(sizes) / sizeof(sizes[0]))

/* One run; returns the number of failures. */
int run_one(uint64_t seed, int n, const struct scenario *sc)
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
	*sc = &scenarios[seed % N_SCENARIOS];
	*n = sizes[(seed / N_SCENARIOS) % N_SIZES];
}

const struct scenario *find_scenario(const char *name)
{
	for (size_t i = 0; i < N_SCENARIOS; i++)
		if (!strcmp(scenarios[i].name, name))
			return &scenarios[i];
	return NULL;
}
