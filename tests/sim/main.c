/* glued-sim: deterministic simulation of the gossip core (Unbound-style:
 * the real core and the real name table linked against a fake network and a
 * virtual clock). `glued-sim --seed S --nodes N --scenario X` replays a run
 * exactly; --first/--seeds runs a range; --bench and --bench-dead measure.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/crypto.h"
#include "sim.h"

int main(int argc, char **argv)
{
	uint64_t seed = 0, first = 0, count = 0;
	int nodes = 0, opt, passed = 0, failed = 0, byz_runs = 0;
	uint64_t byz_forged = 0, byz_dead = 0;
	double byz_kbs = 0;
	const char *scen = NULL, *bench = NULL, *bench_dead_sizes = NULL;
	bool have_seed = false;
	static const struct option lo[] = {
	    {"seed", required_argument, 0, 's'},       {"nodes", required_argument, 0, 'n'},
	    {"scenario", required_argument, 0, 'c'},   {"seeds", required_argument, 0, 'S'},
	    {"first", required_argument, 0, 'f'},      {"bench", required_argument, 0, 'b'},
	    {"bench-dead", required_argument, 0, 'd'}, {0, 0, 0, 0},
	};

	if (crypto_global_init()) {
		fprintf(stderr, "sim: libsodium cannot initialise\n");
		return 2;
	}
	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			have_seed = true;
			break;
		case 'n':
			nodes = atoi(optarg);
			break;
		case 'c':
			scen = optarg;
			break;
		case 'S':
			count = strtoull(optarg, NULL, 0);
			break;
		case 'f':
			first = strtoull(optarg, NULL, 0);
			break;
		case 'b':
			bench = optarg;
			break;
		case 'd':
			bench_dead_sizes = optarg;
			break;
		default:
			fprintf(stderr,
				"usage: %s [--seed S [--nodes N] [--scenario X]] "
				"[--first F --seeds C] [--bench 10,100,1000] "
				"[--bench-dead 3,10,100 [--first F --seeds C]]\n",
				argv[0]);
			return 2;
		}
	}
	if (bench_dead_sizes)
		return bench_dead(bench_dead_sizes, first, count ? count : 20);
	if (bench) {
		char *s = strdup(bench), *save = NULL;

		for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			int n = atoi(tok);

			if (n < 2 || n > MAX_NODES)
				continue;
			if (!getenv("BENCH_LOSS") || atof(getenv("BENCH_LOSS")) == 0)
				bench_one(n, 0);
			if (!getenv("BENCH_LOSS") || atof(getenv("BENCH_LOSS")) > 0)
				bench_one(n, 0.05);
		}
		free(s);
		reset();
		return 0;
	}
	if (have_seed) {
		const struct scenario *sc;
		int n;

		pick(seed, &n, &sc);
		if (nodes)
			n = nodes;
		if (scen && !(sc = find_scenario(scen))) {
			fprintf(stderr, "sim: no scenario %s\n", scen);
			return 2;
		}
		if (n < 2 || n > 64) {
			fprintf(stderr, "sim: nodes must be 2..64\n");
			return 2;
		}
		if (run_one(seed, n, sc, nodes != 0))
			failed++;
		else
			passed++;
		printf("sim: seed %" PRIu64 " scenario %s nodes %d: %s (%" PRIu64 " packets)\n",
		       seed, sc->name, S.n, failed ? "FAILED" : "ok", S.pkts);
		if (S.byz >= 0)
			printf("sim: byzantine: %" PRIu64 " forged or replayed datagrams, honest "
			       "traffic %.2f KB/s per node, longest false death %" PRIu64 " ms\n",
			       S.byz_injected, S.byz_kbs, S.dead_longest);
	} else {
		if (!count)
			count = 216;
		for (uint64_t s = first; s < first + count; s++) {
			const struct scenario *sc;
			int n;

			pick(s, &n, &sc);
			if (scen && !(sc = find_scenario(scen))) {
				fprintf(stderr, "sim: no scenario %s\n", scen);
				return 2;
			}
			if (run_one(s, n, sc, false))
				failed++;
			else
				passed++;
			if (S.byz >= 0) {
				byz_runs++;
				byz_forged += S.byz_injected;
				byz_kbs = S.byz_kbs > byz_kbs ? S.byz_kbs : byz_kbs;
				byz_dead = S.dead_longest > byz_dead ? S.dead_longest : byz_dead;
			}
		}
		if (byz_runs)
			printf("sim: byzantine: %d runs, %" PRIu64 " forged or replayed datagrams, "
			       "honest traffic at most %.2f KB/s per node, longest false death "
			       "%" PRIu64 " ms\n",
			       byz_runs, byz_forged, byz_kbs, byz_dead);
	}
	reset();
	printf("sim: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
