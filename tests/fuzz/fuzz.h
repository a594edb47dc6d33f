/* What every libFuzzer target here shares. CHECK states a property of the
 * code under test that must hold for any input: abort() is what libFuzzer
 * reports as a crash (with the input that caused it), and it is not
 * compiled out like assert(). */
#ifndef GLUED_TESTS_FUZZ_H
#define GLUED_TESTS_FUZZ_H

#include <stdlib.h>

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

#endif
