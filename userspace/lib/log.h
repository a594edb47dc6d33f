/* Logging: one line per event, lowercase, "subsystem: what: why".
 *
 * log_warn()/log_error() append the text of errno (like OpenBSD's log_warn);
 * the *x variants do not. fatal()/fatalx() log and exit(1); use them only in
 * main.c before the event loop starts. The pure cores never log: they count.
 * Per-packet paths guard their logs with a struct log_ratelimit.
 */
#ifndef GLUED_LIB_LOG_H
#define GLUED_LIB_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
	LOG_LVL_TRACE,
};

/* Parse "error", "warn", "info", "debug", "trace" (also RUST_LOG-style
 * "glued=debug,other=info": the first bare level or glued=... wins).
 * Returns 0 and sets *out, or GLUED_ECONFIG. */
int log_level_parse(const char *s, enum log_level *out);

void log_init(enum log_level level, bool json);
enum log_level log_get_level(void);
bool log_enabled(enum log_level level);

#define GLUED_PRINTF(a, b) __attribute__((format(printf, a, b)))
void log_errorx(const char *fmt, ...) GLUED_PRINTF(1, 2);
void log_error(const char *fmt, ...) GLUED_PRINTF(1, 2);
void log_warn(const char *fmt, ...) GLUED_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) GLUED_PRINTF(1, 2);
void log_info(const char *fmt, ...) GLUED_PRINTF(1, 2);
void log_debug(const char *fmt, ...) GLUED_PRINTF(1, 2);
void log_trace(const char *fmt, ...) GLUED_PRINTF(1, 2);
__attribute__((noreturn)) void fatal(const char *fmt, ...) GLUED_PRINTF(1, 2);
__attribute__((noreturn)) void fatalx(const char *fmt, ...) GLUED_PRINTF(1, 2);

/* Token bucket for per-packet logs: at most `burst` lines, refilled at
 * `per_s` lines a second. Returns true when a line may be logged; counts what
 * it suppressed in `suppressed` so the next line can say so. */
struct log_ratelimit {
	uint32_t per_s, burst;
	uint64_t last_ms;
	uint32_t tokens;
	uint64_t suppressed;
};
#define LOG_RATELIMIT_INIT(per_s_, burst_) { .per_s = (per_s_), .burst = (burst_), .tokens = (burst_) }
bool log_ratelimit_ok(struct log_ratelimit *rl, uint64_t now_ms);

#endif
