# The daemon's fast-path loader embeds the BPF skeleton: build it first.
$(OBJ)/userspace/io/fastpath.o $(ASAN)/userspace/io/fastpath.o: $(BUILD)/glued_dns.skel.h
