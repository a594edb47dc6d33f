/* Test data files: the fixtures under tests/unit/data/ read whole into
 * memory. Paths are found from this header's own location, so a test runs
 * from any directory; an environment variable, when the caller names one
 * and it is set, points at another folder of the same files.
 */
#ifndef GLUED_TESTS_TFILE_H
#define GLUED_TESTS_TFILE_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* tests/unit/data/<sub>/<name>, or $<env>/<name> when env is set. */
static inline void t_data_path(char *path, size_t cap, const char *env, const char *sub,
			       const char *name)
{
	const char *dir = env ? getenv(env) : NULL;

	if (dir)
		snprintf(path, cap, "%s/%s", dir, name);
	else
		snprintf(path, cap, "%.*s/data/%s/%s", (int)(strrchr(__FILE__, '/') - __FILE__),
			 __FILE__, sub, name);
}

/* The whole file in a malloc'd buffer of exactly its size, plus a '\0' when
 * nul is set (not counted in *len; without it ASan catches a parser that
 * reads past the end). NULL, after a line on stderr, when it cannot be read. */
static inline char *t_read_file(const char *path, size_t *len, bool nul)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f) {
		fprintf(stderr, "  cannot open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0) {
		rewind(f);
		buf = malloc((size_t)n + nul);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	if (!buf) {
		fprintf(stderr, "  cannot read %s\n", path);
		return NULL;
	}
	if (nul)
		buf[n] = '\0';
	if (len)
		*len = (size_t)n;
	return buf;
}

/* A fixture the test cannot run without: exits when it cannot be read. */
static inline char *t_data_read(const char *env, const char *sub, const char *name, size_t *len,
				bool nul)
{
	char path[512];
	char *buf;

	t_data_path(path, sizeof(path), env, sub, name);
	buf = t_read_file(path, len, nul);
	if (!buf)
		exit(1);
	return buf;
}

#endif
