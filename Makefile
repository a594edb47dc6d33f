# glued — build, test, bench. Declarations here; rules in mk/rules.mk.
# `make` builds build/glued; `make test` runs every suite; `make deps`
# installs the Debian packages the build and the tests need.

PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build

CC := clang
CLANG ?= clang
BPFTOOL ?= bpftool
PKGS := libcurl jansson libsodium liburing libbpf libseccomp

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter
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
