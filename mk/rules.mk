# Shared rules for the top-level Makefile.

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
GIT_REV := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
CPPFLAGS += -DGLUED_VERSION='"$(VERSION)"' -DGLUED_GIT_REV='"$(GIT_REV)"'

OBJ := $(BUILD)/obj
ASAN := $(BUILD)/asan
FUZZ := $(BUILD)/fuzz

lib_objs = $(patsubst %.c,$(1)/%.o,$(LIB_SRC) $(CORE_SRC))
io_objs = $(patsubst %.c,$(1)/%.o,$(IO_SRC))

.PHONY: all deps deps-test test unit fuzz-replay fuzz e2e bench install clean format sim
.DEFAULT_GOAL := all
# Keep intermediate objects (fuzz/asan builds chain pattern rules); make must
# not delete them, nor print anything after the test summary.
.SECONDARY:

all: $(BUILD)/glued

# Install the build set / the build and test sets (the Makefile's pass 1
# installs what a goal needs by itself; these install on request).
deps:
	tools/deps.sh install build

deps-test:
	tools/deps.sh install test

# --- daemon -----------------------------------------------------------------
$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS_BASE) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/glued: $(call lib_objs,$(OBJ)) $(call io_objs,$(OBJ)) $(OBJ)/userspace/main.o
	$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# --- unit tests under ASan/UBSan --------------------------------------------
$(ASAN)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS_BASE) -O1 $(SAN) -MMD -MP -c $< -o $@

$(ASAN)/tests/unit/%: $(ASAN)/tests/unit/%.o $(call lib_objs,$(ASAN))
	$(CC) $(SAN) $^ $(LDLIBS) -o $@

# io/identity is a file-system edge with no sockets: its unit test links it.
$(ASAN)/tests/unit/test_identity: $(ASAN)/tests/unit/test_identity.o \
		$(ASAN)/userspace/io/identity.o $(call lib_objs,$(ASAN))
	$(CC) $(SAN) $^ $(LDLIBS) -o $@

# io/counters renders snapshots and touches no fd: its unit test links it.
$(ASAN)/tests/unit/test_counters: $(ASAN)/tests/unit/test_counters.o \
		$(ASAN)/userspace/io/counters.o $(ASAN)/userspace/io/bpf_names.o \
		$(call lib_objs,$(ASAN))
	$(CC) $(SAN) $^ $(LDLIBS) -o $@

# io/privs sets capabilities and the seccomp filter, in forked children.
$(ASAN)/tests/unit/test_privs: $(ASAN)/tests/unit/test_privs.o \
		$(ASAN)/userspace/io/privs.o $(call lib_objs,$(ASAN))
	$(CC) $(SAN) $^ $(LDLIBS) -o $@

# io/update_queue is a mutex and a ring, no fd: its unit test links it.
$(ASAN)/tests/unit/test_update_queue: $(ASAN)/tests/unit/test_update_queue.o \
		$(ASAN)/userspace/io/update_queue.o $(call lib_objs,$(ASAN))
	$(CC) $(SAN) $^ $(LDLIBS) -o $@

UNIT_BINS := $(patsubst tests/unit/%.c,$(ASAN)/tests/unit/%,$(UNIT_SRC))
unit-build: $(UNIT_BINS)

unit: $(UNIT_BINS)
	@tests/run-suite.sh unit $(UNIT_BINS)

# --- fuzz targets (libFuzzer) -----------------------------------------------
FUZZ_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
$(FUZZ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CLANG) $(CPPFLAGS) $(CFLAGS_BASE) -O1 $(FUZZ_FLAGS) -DGLUED_FUZZ -MMD -MP -c $< -o $@

$(FUZZ)/tests/fuzz/%: $(FUZZ)/tests/fuzz/%.o $(call lib_objs,$(FUZZ))
	$(CLANG) -fsanitize=fuzzer,address,undefined $^ $(LDLIBS) -o $@

FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(FUZZ)/tests/fuzz/%,$(FUZZ_SRC))
fuzz-build: $(FUZZ_BINS)

fuzz-replay: $(FUZZ_BINS)
	@tests/run-suite.sh fuzz $(FUZZ_BINS)

FUZZ_SECONDS ?= 60
fuzz: $(FUZZ_BINS)
	@for b in $(FUZZ_BINS); do n=$${b##*/}; mkdir -p tests/fuzz/corpus/$${n#fuzz_}; \
	  echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	  $$b -max_total_time=$(FUZZ_SECONDS) -max_len=4096 tests/fuzz/corpus/$${n#fuzz_} || exit 1; done

# --- suites -----------------------------------------------------------------
test: all $(UNIT_BINS) $(FUZZ_BINS)
	@tests/run-all.sh

e2e: all
	@tests/run-suite.sh e2e

# Every benchmark in turn; each prints its own table (docs/benchmarks.md).
bench: all
	tools/bench.sh
	$(MAKE) --no-print-directory bench-bpf
	@if $(MAKE) -n bench-sim >/dev/null 2>&1; then $(MAKE) --no-print-directory bench-sim; fi
	$(MAKE) --no-print-directory bench-dead
	@if $(MAKE) -n bench-xdp >/dev/null 2>&1; then $(MAKE) --no-print-directory bench-xdp; fi
	tools/bench-cluster.sh -n 50
	tools/bench-bridge.sh

# Containers' queries on the bridge: tc vs generic XDP (docs/fastpath-loader.md).
bench-bridge: all
	tools/bench-bridge.sh
.PHONY: bench-bridge

install: all
	install -D -m 0755 $(BUILD)/glued $(DESTDIR)$(PREFIX)/sbin/glued

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)

# Per-area rules (BPF, loopback net tests, ...) live in their own files.
-include mk/bpf.mk mk/net.mk mk/fastpath.mk mk/tools.mk mk/install.mk mk/sim.mk mk/benchxdp.mk

-include $(shell find $(BUILD) -path $(BUILD)/image-cache -prune -o -name '*.d' -type f -print 2>/dev/null)

# Build (installing what is missing) and run glued in the foreground with
# the defaults, or with GLUED_* from the environment.
run: all
	exec $(BUILD)/glued
.PHONY: run

# The git revision is compiled into these: rebuild them when HEAD moves.
GIT_HEAD_DEPS := $(wildcard .git/HEAD $(addprefix .git/,$(shell git symbolic-ref -q HEAD 2>/dev/null)))
$(OBJ)/userspace/main.o $(OBJ)/userspace/io/ctl.o $(OBJ)/userspace/io/metrics.o $(OBJ)/tools/gluedctl.o: $(GIT_HEAD_DEPS)
