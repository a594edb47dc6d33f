# The kernel matrix (tests/suites.d/40-kernels.sh, docs/fastpath.md
# "Kernels"): this machine's kernel natively and Debian's 6.1 (bookworm),
# 6.12 (trixie) and 5.10 (bullseye) under QEMU, each running
# tools/vm/check.sh on the tree built here.
#   make bpf-check [KERNELS="host bookworm trixie bullseye"]
#     load + the BPF suite (tests/bpf) on each
# `make test` runs the whole matrix (BPF suite and attach checks).

# The client end of check.sh's veth pair runs this (XDP_TX needs it).
$(BUILD)/bpf/xdp_pass.bpf.o: tools/vm/xdp_pass.bpf.c
	@mkdir -p $(dir $@)
	$(BPF_CLANG) $(BPF_CFLAGS) -c $< -o $@

# check.sh attach also runs the container fast path's netns test (tcx or
# clsact as the kernel has them).
kernels-build: $(BUILD)/bpf/xdp_pass.bpf.o $(ASAN)/tests/net/test_ctr_netns
.PHONY: kernels-build

KERNELS ?= host bookworm trixie bullseye
bpf-check: all bpf-test-build kernels-build
	@KCHECK=bpf KERNELS="$(KERNELS)" tests/suites.d/40-kernels.sh
.PHONY: bpf-check
