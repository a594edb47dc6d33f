/* Monotonic milliseconds: the `now_ms` the I/O edges hand to the cores. */
#ifndef GLUED_LIB_CLOCK_H
#define GLUED_LIB_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif
