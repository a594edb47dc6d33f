# BPF programs: bpf/*.bpf.c -> build/bpf/*.bpf.o (clang -target bpf) ->
# build/<name>.skel.h (bpftool gen skeleton). The skeleton embeds the
# object, so glued carries its programs; nothing compiled is committed.
# glued_dns_bench and reflector are for tools/bpf-bench only.
# A userspace object that includes a skeleton depends on it through its .d
# file once built; the explicit lines below cover the first build.

BPF_SRC := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRC))
BPF_SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRC))
# <linux/types.h> pulls <asm/types.h> from the multiarch include dir, which
# clang names itself (dpkg-architecture and gcc need not be installed).
BPF_ARCH_INC := /usr/include/$(shell $(CLANG) -print-multiarch 2>/dev/null)
# BPF_CLANG / BPF_CPU choose the compiler and -mcpu for the programs only
# (default: $(CLANG), its default CPU). clang-19 with BPF_CPU=v3 makes
# code a few ns faster per query (docs/fastpath.md, "Cost"); clang 19
# needs v3 (with its default CPU the verifier refuses glued_tc_answer()).
BPF_CLANG ?= $(CLANG)
BPF_CPU ?=
BPF_CFLAGS := -target bpf $(if $(BPF_CPU),-mcpu=$(BPF_CPU)) -O2 -g -Wall -Wextra \
	-D__TARGET_ARCH_x86 -Iinclude -Ibpf -I$(BPF_ARCH_INC)

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(wildcard include/glued/*.h)
	@mkdir -p $(dir $@)
	$(BPF_CLANG) $(BPF_CFLAGS) -c $< -o $@

# The benchmark build includes the whole fast path.
$(BUILD)/bpf/glued_dns_bench.bpf.o: bpf/glued_dns.bpf.c

$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@.tmp && mv $@.tmp $@

bpf: $(BPF_SKELS)
.PHONY: bpf

# BPF_PROG_TEST_RUN tests and the cost benchmark (root to run): linked
# against lib + core (the differential test calls dns_answer()) and
# userspace/io/bpf_names.c (the map encoding the daemon's mirror uses).
BPF_TEST_SRC := $(wildcard tests/bpf/test_*.c)
BPF_TEST_BINS := $(patsubst tests/bpf/%.c,$(BUILD)/tests/bpf/%,$(BPF_TEST_SRC))
BPF_TEST_CFLAGS := $(CPPFLAGS) -Itests/unit -Itests/bpf $(CFLAGS_BASE) -O1

$(BUILD)/tests/bpf/%: tests/bpf/%.c $(wildcard tests/bpf/*.h) userspace/io/bpf_names.c \
		$(BPF_SKELS) $(LIB_SRC) $(CORE_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(BPF_TEST_CFLAGS) $(SAN) $< userspace/io/bpf_names.c $(LIB_SRC) $(CORE_SRC) \
		$(LDLIBS) -o $@

$(BUILD)/tools/bpf-bench: tools/bpf-bench.c tools/bench_q.h tests/bpf/pkt.h include/glued/abi.h $(BPF_SKELS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS_BASE) -O2 $< $(LDLIBS) -o $@

# A/B of benchmark objects of different trees (docs/fastpath.md, "Cost").
$(BUILD)/tools/bpf-ab: tools/bpf-ab.c tools/bench_q.h tests/bpf/pkt.h include/glued/abi.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS_BASE) -O2 $< $(LDLIBS) -o $@

# The JIT image and line info of a loaded program (tools/bpf-prof.sh).
$(BUILD)/tools/bpf-jit-lines: tools/bpf-jit-lines.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS_BASE) -O2 $< $(LDLIBS) -o $@

# Per-query cost of the XDP program beside the reflector and an empty
# program (root: BPF_PROG_TEST_RUN). BENCH_BPF_ARGS="CALLS REPEAT" changes
# the counts (defaults 200000 calls per row, repeat 1000000). Called by
# `make bench`; docs/fastpath.md explains the rows.
bench-bpf: $(BUILD)/tools/bpf-bench
	@if [ "$$(id -u)" != 0 ]; then echo "bench-bpf: needs root (BPF_PROG_TEST_RUN)" >&2; exit 1; fi
	$(BUILD)/tools/bpf-bench $(BENCH_BPF_ARGS)
.PHONY: bench-bpf

bpf-test-build: $(BPF_TEST_BINS) $(BUILD)/tools/bpf-bench $(BUILD)/tools/bpf-ab \
		$(BUILD)/tools/bpf-jit-lines
.PHONY: bpf-test-build

# The kernel matrix (make bpf-check); here so that the top-level list of
# mk/ files stays as it is.
include mk/kernels.mk
