# Loopback integration tests of the I/O edges (tests/net/test_*.c), built
# like the unit tests (ASan+UBSan, tests/unit/t.h) and linked with lib +
# core plus the io objects each test names below (not all of io/: that
# would drag in every edge and its dependencies). tests/suites.d/20-net.sh
# builds and runs them.

NET_SRC := $(wildcard tests/net/test_*.c)
NET_BINS := $(patsubst tests/net/%.c,$(ASAN)/tests/net/%,$(NET_SRC))

$(ASAN)/tests/net/%: $(ASAN)/tests/net/%.o $(call lib_objs,$(ASAN))
	$(CC) $(SAN) $^ $(LDLIBS) -o $@

$(ASAN)/tests/net/test_loop: $(ASAN)/userspace/io/loop.o
$(ASAN)/tests/net/test_forwarder: $(ASAN)/userspace/io/loop.o $(ASAN)/userspace/io/forwarder.o
$(ASAN)/tests/net/test_dns_server: $(ASAN)/userspace/io/loop.o $(ASAN)/userspace/io/dns_server.o $(ASAN)/userspace/io/dns_tcp.o $(ASAN)/userspace/io/forwarder.o
$(ASAN)/tests/net/test_resolver: $(ASAN)/userspace/io/loop.o $(ASAN)/userspace/io/resolver.o $(ASAN)/userspace/io/privs.o

.PHONY: net-build
net-build: $(NET_BINS)

# The container fast path's work inside a netns (root: netns, BPF, iptables):
# the skeleton for glued_ctr_dns, bpf_names for the maps.
$(ASAN)/tests/net/test_ctr_netns.o: $(BUILD)/glued_dns.skel.h
$(ASAN)/tests/net/test_ctr_netns: $(ASAN)/userspace/io/ctr_netns.o $(ASAN)/userspace/io/bpf_names.o
