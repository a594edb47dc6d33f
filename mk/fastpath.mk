# The daemon's fast-path loader and mirror use the BPF skeleton: build it
# before any object whose source includes it (a clean -j build, as in the
# image, compiled fastpath_mirror.c first and failed).
SKEL_USERS := $(basename $(shell grep -l 'glued_dns.skel.h' userspace/io/*.c))
$(foreach f,$(SKEL_USERS),$(OBJ)/$(f).o $(ASAN)/$(f).o): $(BUILD)/glued_dns.skel.h

# The attach-points listing is read from the loader's record: its unit test
# links the loader (no kernel call is made).
FASTPATH_IO := fastpath fastpath_load fastpath_hooks fastpath_mirror bpf_names loop ctr_attach ctr_netns
$(ASAN)/tests/unit/test_fastpath_attach: $(ASAN)/tests/unit/test_fastpath_attach.o \
		$(patsubst %,$(ASAN)/userspace/io/%.o,$(FASTPATH_IO)) $(call lib_objs,$(ASAN))
	$(CC) $(SAN) $^ $(LDLIBS) -o $@
