/* A seeded random sequence for tests: xorshift32 as a glued_rng function
 * (lib/rand.h), so that a core given it draws the same numbers every run.
 * ctx points at the uint32_t state, which must not start at 0 (xorshift
 * stays at 0 forever).
 */
#ifndef GLUED_TESTS_TRNG_H
#define GLUED_TESTS_TRNG_H

#include <stdint.h>

static inline uint32_t t_xorshift32(void *ctx)
{
	uint32_t *s = ctx;

	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

#endif
