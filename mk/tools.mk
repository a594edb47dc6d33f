# Operator tools: gluedctl (the control API client) and the libraries the
# daemon's control API and metrics server need.

MHD_LIBS := $(shell pkg-config --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd)
LDLIBS += $(MHD_LIBS)

GLUEDCTL_LIBS := $(shell pkg-config --libs libcurl jansson 2>/dev/null)

$(BUILD)/gluedctl: $(OBJ)/tools/gluedctl.o
	$(CC) $(CFLAGS) $^ $(GLUEDCTL_LIBS) -o $@

all: $(BUILD)/gluedctl

# A guided three-host cluster on this machine (root); DEMO_AUTO=1 runs it
# to the end without waiting for Ctrl-C.
demo: all
	tools/demo.sh
.PHONY: demo

# Poller for the cluster benchmark: one process asks until each server
# answers (tools/bench-cluster.sh, docs/benchmarks.md).
$(BUILD)/tools/dns-until: $(OBJ)/tools/dns-until.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ -o $@

all: $(BUILD)/tools/dns-until

# The e2e suite's own tools: tests/e2e/55-abuse.bats sends the spoofed sync
# request of issue 11 with spoof-sync (it links the wire codec and the
# crypto of core/, as a key holder would) and floods with tools/dnsgun.
$(BUILD)/tests/e2e/spoof-sync: $(OBJ)/tests/e2e/tools/spoof_sync.o $(call lib_objs,$(OBJ))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

E2E_TOOLS := $(BUILD)/tests/e2e/spoof-sync $(BUILD)/tools/dnsgun
e2e test: $(E2E_TOOLS)
