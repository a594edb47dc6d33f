# glued — build, test, bench. Declarations here; rules in mk/rules.mk.
# `make` builds build/glued; `make test` runs every suite; `make deps`
# installs the Debian packages the build needs, `make deps-test` also those
# the tests need (tools/deps.sh holds both lists).
#
# Make runs twice, so that nothing is computed before the packages it comes
# from are installed (on a fresh machine pkg-config, the libraries and clang
# are not there when this file is first read). Pass 1 reads only the block
# below: it installs the set the goals need (`tools/deps.sh ensure`, one
# dpkg-query when all is present) and runs make again on the same goals with
# GLUED_DEPS set. Pass 2 reads the rest, so every $(shell pkg-config ...) and
# $(shell clang ...) in here and in mk/*.mk sees the installed packages; it
# keeps the caller's MAKELEVEL (mk/benchxdp.mk tests it). Pass 2 does not see
# extra `-f` files given to pass 1. clean, format and the deps goals skip
# pass 1; GLUED_DEPS=none on the command line skips the install.

NODEPS_GOALS := clean format deps deps-test
# Goals that need the test set (sanitizer runtime, bats, dig, dockerd, ...);
# every other goal gets the build set. A new test or benchmark goal joins here.
TEST_GOALS := test unit unit-build fuzz fuzz-build fuzz-replay e2e net-build bpf-test-build \
	bpf-check bench bench-% demo
ifndef GLUED_DEPS
GOALS := $(or $(MAKECMDGOALS),all)
ifeq ($(filter-out $(NODEPS_GOALS),$(GOALS)),)
GLUED_DEPS := none
else
DEPS_SET := $(if $(filter $(TEST_GOALS),$(GOALS)),test,build)
.PHONY: $(GOALS) glued-deps-pass
$(GOALS): glued-deps-pass
	@:
glued-deps-pass:
	@tools/deps.sh ensure $(DEPS_SET)
	@MAKELEVEL=$(MAKELEVEL) $(MAKE) --no-print-directory GLUED_DEPS=$(DEPS_SET) $(MAKECMDGOALS)
endif
endif

ifdef GLUED_DEPS

PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build

CC := clang
CLANG ?= clang
BPFTOOL ?= bpftool
PKGS := libcurl jansson libsodium liburing libbpf libseccomp

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes
CPPFLAGS := -D_GNU_SOURCE -Iinclude -Iuserspace -I$(BUILD)
CFLAGS_BASE := -std=gnu11 -g $(WARN) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
CFLAGS ?= -O2
LDLIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

LIB_SRC := $(wildcard userspace/lib/*.c)
CORE_SRC := $(wildcard userspace/core/*.c)
IO_SRC := $(wildcard userspace/io/*.c)
MAIN_SRC := userspace/main.c
UNIT_SRC := $(wildcard tests/unit/test_*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)

include mk/rules.mk

# Containers' queries to 127.0.0.11: Docker's embedded DNS forwarding to
# glued vs glued_ctr_dns on the container's lo (root; docs/benchmarks.md).
# tools/ctr-load attaches the program until glued does it itself.
$(BUILD)/tools/ctr-load: tools/ctr-load.c $(BUILD)/glued_dns.skel.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS_BASE) -O2 $< $(LDLIBS) -o $@

bench-container: all $(BUILD)/tools/ctr-load
	@if [ "$$(id -u)" != 0 ]; then echo "bench-container: needs root (dockerd, netns, BPF)" >&2; exit 1; fi
	tools/bench-container.sh $(BENCH_CONTAINER_ARGS)
.PHONY: bench-container

endif # GLUED_DEPS

