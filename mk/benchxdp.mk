# The kernel fast path under load (issue 3, issue 10): tools/dnsgun (or
# kxdpgun) over a veth pair against glued with and without the fast path,
# unbound, dnsmasq, knotd (UDP and XDP), the reflector and the floor program, plus the BPF_PROG_TEST_RUN table of `make bench-bpf`
# (root; tools/bench-xdp.sh lists its knobs, docs/benchmarks.md the figures).
# Called from `make bench` right after bench-bpf, it does not run that again.
BENCH_XDP_BPF ?= $(if $(filter 0,$(MAKELEVEL)),1,0)

bench-xdp: all $(BUILD)/bpf/reflector.bpf.o $(BUILD)/bpf/glued_dns_bench.bpf.o \
		$(BUILD)/tools/bpf-bench $(BUILD)/tools/dnsgun
	@if [ "$$(id -u)" != 0 ]; then echo "bench-xdp: needs root (namespaces, XDP)" >&2; exit 1; fi
	BENCH_XDP_BPF=$(BENCH_XDP_BPF) GLUED=$(abspath $(BUILD))/glued tools/bench-xdp.sh
.PHONY: bench-xdp

# The open-loop AF_PACKET sender with its XDP reply sink (tools/dnsgun.c),
# the generator of bench-xdp where kxdpgun's XDP program is refused.
$(BUILD)/tools/dnsgun: tools/dnsgun.c $(BUILD)/dnsgun_sink.skel.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS_BASE) -O2 $< $(LDLIBS) -o $@
