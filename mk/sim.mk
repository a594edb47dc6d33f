# The gossip simulation (tests/sim/): the real core and table linked against
# a fake network and a virtual clock, optimised (it runs many seeds).
#   make sim                                   every scenario over the seed set
#   make sim SEED=<n> [NODES=<k>] [SCENARIO=<name>]   replay one run exactly
#   make bench-sim                             10/100/1000 nodes, 0% and 5% loss
SIM := $(BUILD)/sim/glued-sim
SIM_SRC := $(wildcard tests/sim/*.c)
SIM_SEEDS ?= 216
BENCH_SIM_NODES ?= 10,100,1000

$(SIM): $(patsubst %.c,$(OBJ)/%.o,$(SIM_SRC)) $(call lib_objs,$(OBJ))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

.PHONY: sim bench-sim
sim: $(SIM)
ifdef SEED
	$(SIM) --seed $(SEED) $(if $(NODES),--nodes $(NODES)) $(if $(SCENARIO),--scenario $(SCENARIO))
else
	$(SIM) --first 0 --seeds $(SIM_SEEDS) $(if $(SCENARIO),--scenario $(SCENARIO))
endif

bench-sim: $(SIM)
	$(SIM) --bench $(BENCH_SIM_NODES)
