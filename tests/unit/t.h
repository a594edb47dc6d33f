/* A small test harness: cases, assertions that read as sentences, and the
 * closing line "N passed, N failed" that tests/run-suite.sh sums.
 *
 *	T_CASE("A for a known name") {
 *		T_ASSERT(n == 2, "two addresses, got %zu", n);
 *	}
 *
 * A case passes when none of its assertions fail. Assertions outside a case
 * count as their own case.
 */
#ifndef GLUED_TESTS_T_H
#define GLUED_TESTS_T_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_passed, t_failed;
static int t_case_failures;
static const char *t_case_name;

static inline bool t_case_begin(const char *name)
{
	t_case_name = name;
	t_case_failures = 0;
	return true;
}

static inline void t_case_end(void)
{
	if (t_case_failures) {
		t_failed++;
		fprintf(stderr, "not ok - %s\n", t_case_name);
	} else {
		t_passed++;
		if (getenv("T_VERBOSE"))
			fprintf(stderr, "ok - %s\n", t_case_name);
	}
	t_case_name = NULL;
}

/* for-loop trick: the body runs once, then t_case_end(). */
#define T_CASE(name)                                                                               \
	for (int t_once_ = t_case_begin(name); t_once_; t_once_ = 0, t_case_end())

#define T_ASSERT(cond, ...)                                                                        \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "  %s:%d: %s: ", __FILE__, __LINE__, #cond);               \
			fprintf(stderr, "" __VA_ARGS__);                                           \
			fputc('\n', stderr);                                                       \
			if (t_case_name)                                                           \
				t_case_failures++;                                                 \
			else                                                                       \
				t_failed++;                                                        \
		}                                                                                  \
	} while (0)

#define T_EQ_INT(a, b)                                                                             \
	T_ASSERT((long long)(a) == (long long)(b), "%s = %lld, want %lld", #a, (long long)(a),     \
		 (long long)(b))

#define T_EQ_STR(a, b)                                                                             \
	T_ASSERT(strcmp((a), (b)) == 0, "%s = \"%s\", want \"%s\"", #a, (a), (b))

#define T_EQ_MEM(a, b, n)                                                                          \
	T_ASSERT(memcmp((a), (b), (n)) == 0, "%s differs from %s in %zu bytes", #a, #b, (size_t)(n))

static inline int t_summary(void)
{
	printf("%d passed, %d failed\n", t_passed, t_failed);
	return t_failed ? 1 : 0;
}

#endif
