/* getrandom(2) wrappers; see rand.h. */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "lib/rand.h"

int rand_bytes(void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

uint32_t rand_u32(void)
{
	uint32_t v;

	if (rand_bytes(&v, sizeof(v)) != 0)
		abort(); /* no entropy at all: nothing safe to do */
	return v;
}

static uint32_t kernel_next(void *ctx GLUED_UNUSED)
{
	return rand_u32();
}

const struct glued_rng rand_kernel = {.next = kernel_next, .ctx = NULL};
