/* Randomness from the kernel (getrandom). This is an I/O edge: cores take an
 * injected `struct glued_rng` instead of calling it. */
#ifndef GLUED_LIB_RAND_H
#define GLUED_LIB_RAND_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

/* Fill buf with n random bytes; 0 or -errno. */
int rand_bytes(void *buf, size_t n) GLUED_MUST_CHECK;
uint32_t rand_u32(void); /* aborts only if the kernel cannot give entropy */

/* Injectable RNG for the cores: a function and its state. */
typedef uint32_t (*glued_rng_fn)(void *ctx);
struct glued_rng {
	glued_rng_fn next;
	void *ctx;
};

/* The kernel RNG as a struct glued_rng. */
extern const struct glued_rng rand_kernel;

#endif
