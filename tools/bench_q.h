/* The benchmark program's input slot (map glued_benchq of
 * bpf/glued_dns_bench.bpf.c, which declares the same layout for the
 * kernel side): the frame glued_xdp_bench and glued_xdp_restore write back
 * before each run. Shared by tools/bpf-bench and tools/bpf-ab. */
#ifndef GLUED_TOOLS_BENCH_Q_H
#define GLUED_TOOLS_BENCH_Q_H

#include <bpf/bpf.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

struct bench_q {
	uint32_t len;
	uint8_t frame[256];
};

/* Put frame (len <= 256 bytes) into the slot of map fd; 0 or libbpf's
 * negative error. */
static inline int bench_q_set(int fd, const uint8_t *frame, size_t len)
{
	struct bench_q q = {.len = (uint32_t)len};
	uint32_t zero = 0;

	if (len > sizeof(q.frame))
		return -EINVAL;
	memcpy(q.frame, frame, len);
	return bpf_map_update_elem(fd, &zero, &q, BPF_ANY);
}

#endif
