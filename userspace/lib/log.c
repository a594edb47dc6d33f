/* Logging to stderr, human lines or JSON objects; see log.h. Never used by
 * userspace/core. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/err.h"
#include "lib/log.h"

static enum log_level g_level = LOG_LVL_INFO;
static bool g_json;

static const char *const level_names[] = { "error", "warn", "info", "debug", "trace" };

static int level_from_word(const char *s, size_t n, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strlen(level_names[i]) == n && strncasecmp(s, level_names[i], n) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (n == 7 && strncasecmp(s, "warning", 7) == 0) {
		*out = LOG_LVL_WARN;
		return 0;
	}
	return GLUED_ECONFIG;
}

int log_level_parse(const char *s, enum log_level *out)
{
	const char *p = s;

	/* RUST_LOG style: comma-separated directives, "target=level" or "level". */
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *eq = memchr(p, '=', n);

		if (!eq) {
			if (level_from_word(p, n, out) == 0)
				return 0;
		} else if ((size_t)(eq - p) == 5 && strncmp(p, "glued", 5) == 0) {
			if (level_from_word(eq + 1, n - 6, out) == 0)
				return 0;
		}
		if (!end)
			break;
		p = end + 1;
	}
	return GLUED_ECONFIG;
}

void log_init(enum log_level level, bool json)
{
	g_level = level;
	g_json = json;
}

enum log_level log_get_level(void)
{
	return g_level;
}

bool log_enabled(enum log_level level)
{
	return level <= g_level;
}

static void json_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

static void vlog(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	char msg[1024];
	char ts[40];
	struct timespec now;
	struct tm tm;
	int n;

	if (!log_enabled(level))
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (errnum && n >= 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(errnum));
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 now.tv_nsec / 1000000);
	flockfile(stderr);
	if (g_json) {
		fprintf(stderr, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"", ts, level_names[level]);
		json_escape(stderr, msg);
		fputs("\"}\n", stderr);
	} else {
		fprintf(stderr, "%s %-5s %s\n", ts, level_names[level], msg);
	}
	funlockfile(stderr);
}

#define LOG_FN(fn, lvl, use_errno)                                                                 \
	void fn(const char *fmt, ...)                                                              \
	{                                                                                          \
		int saved = errno;                                                                 \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		vlog(lvl, use_errno ? saved : 0, fmt, ap);                                         \
		va_end(ap);                                                                        \
		errno = saved;                                                                     \
	}

LOG_FN(log_error, LOG_LVL_ERROR, 1)
LOG_FN(log_errorx, LOG_LVL_ERROR, 0)
LOG_FN(log_warn, LOG_LVL_WARN, 1)
LOG_FN(log_warnx, LOG_LVL_WARN, 0)
LOG_FN(log_info, LOG_LVL_INFO, 0)
LOG_FN(log_debug, LOG_LVL_DEBUG, 0)
LOG_FN(log_trace, LOG_LVL_TRACE, 0)

void fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERROR, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

bool log_ratelimit_ok(struct log_ratelimit *rl, uint64_t now_ms)
{
	uint64_t elapsed = now_ms - rl->last_ms;

	if (elapsed >= 1000) {
		uint64_t add = elapsed / 1000 * rl->per_s;
		rl->tokens = (uint32_t)((rl->tokens + add > rl->burst) ? rl->burst : rl->tokens + add);
		rl->last_ms = now_ms;
	}
	if (rl->tokens == 0) {
		rl->suppressed++;
		return false;
	}
	rl->tokens--;
	return true;
}
