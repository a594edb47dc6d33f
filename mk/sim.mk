# The gossip simulation (tests/sim/): the real core and table linked against
# a fake network and a virtual clock, optimised (it runs many seeds).
#   make sim                                   every scenario over the seed set
#   make sim SCENARIO=<name>                   that scenario on every seed of the set
#                                              (byzantine: the attacker, not in the rotation)
#   make sim SEED=<n> [NODES=<k>] [SCENARIO=<name>]   replay one run exactly
#   make bench-sim                             10/100/1000 nodes, 0% and 5% loss:
#       a burst (every node publishes 50 records), then five deploys on the
#       converged cluster; BENCH_SIM_NODES=..., BENCH_LOSS=0|0.05 to run less,
#       BENCH_VERBOSE=1 for where the time and the bytes go (~15 min in all)
# The bench build links tests/sim/fake_table.c instead of core/table.c: a
# lean table (existence of remote entries only) so 1000 nodes x 50 000
# entries fit in memory; the gossip core is the same object code.
SIM := $(BUILD)/sim/glued-sim
SIM_BENCH := $(BUILD)/sim/glued-sim-bench
SIM_SEEDS ?= 216
BENCH_SIM_NODES ?= 10,100,1000
SIM_CORE := $(patsubst %.c,$(OBJ)/%.o,$(wildcard userspace/core/gossip*.c) userspace/core/crypto.c $(LIB_SRC))
# engine, invariants, scenarios, benchmarks, command line (tests/sim/sim.h)
SIM_OBJS := $(patsubst %.c,$(OBJ)/%.o,$(filter-out tests/sim/fake_table.c,$(wildcard tests/sim/*.c)))

$(SIM): $(SIM_OBJS) $(call lib_objs,$(OBJ))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(SIM_BENCH): $(SIM_OBJS) $(OBJ)/tests/sim/fake_table.o $(SIM_CORE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

.PHONY: sim bench-sim
sim: $(SIM)
ifdef SEED
	$(SIM) --seed $(SEED) $(if $(NODES),--nodes $(NODES)) $(if $(SCENARIO),--scenario $(SCENARIO))
else
	$(SIM) --first 0 --seeds $(SIM_SEEDS) $(if $(SCENARIO),--scenario $(SCENARIO))
endif

bench-sim: $(SIM_BENCH)
	$(SIM_BENCH) --bench $(BENCH_SIM_NODES)

# Failure detection: crash one node of a converged cluster, time until every
# other node withdrew its records (p50/p99/max over BENCH_DEAD_SEEDS seeds,
# 0 % and 5 % loss; fails on a false death or a miss within 30 s).
BENCH_DEAD_NODES ?= 3,5,10,50,100
BENCH_DEAD_SEEDS ?= 20
.PHONY: bench-dead
bench-dead: $(SIM)
	$(SIM) --bench-dead $(BENCH_DEAD_NODES) --seeds $(BENCH_DEAD_SEEDS)
