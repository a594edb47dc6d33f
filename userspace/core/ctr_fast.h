/* The container fast path's decisions, without I/O: which container on the
 * watched network gets glued_ctr_dns on the lo of its network namespace,
 * when to check it, when to take it away, and when to give up and leave
 * the container to Docker's embedded resolver.
 *
 * Sans-IO contract: the caller reports what the Docker watcher says
 * (ctr_fast_put: on the network with this SandboxKey; ctr_fast_del: gone;
 * ctr_fast_synced: the list is complete), what it found pinned at start
 * (ctr_fast_pin_found), and the result of every job (ctr_fast_on_result).
 * ctr_fast_next_job() hands out the jobs: at most one per container in
 * flight, at most CTR_FAST_INFLIGHT_MAX in all. Time comes in as now_ms;
 * ctr_fast_next_ms() says when to ask again. The core never logs: it
 * counts, and keeps per container why it is not served.
 *
 * Policy (docs/container-fastpath.md):
 *   - attach where the container is on the network and has a SandboxKey;
 *     a failed attach is retried CTR_FAST_TRIES_MAX times, backing off
 *     from CTR_FAST_RETRY_MS (doubling), then given up; a netns that is
 *     gone is not retried (the engine's next event says where it went);
 *   - check every served container every check_ms: a CHECK job detaches
 *     there by itself when route_localnet is off (so dockerd answers
 *     instead of replies dropped as martians); such a container is not
 *     re-attached until it gets a new netns (docker restart) or glued
 *     restarts: someone turned route_localnet off on purpose;
 *   - a program found missing on a check is attached again (counted);
 *   - a container that leaves is detached (its pin removed; in a netns
 *     still alive, the filter too and the sysctls glued set put back);
 *   - pins found at start for containers the first complete list does not
 *     name are removed (swept).
 *
 * Not thread-safe: the loop thread drives it. It allocates when the set of
 * containers grows (at most CTR_FAST_MAX).
 */
#ifndef GLUED_CORE_CTR_FAST_H
#define GLUED_CORE_CTR_FAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/docker_json.h"
#include "lib/counter.h"
#include "lib/err.h"

#define CTR_FAST_MAX 4096	 /* containers tracked; beyond: counted over_limit, not served */
#define CTR_FAST_INFLIGHT_MAX 32 /* jobs handed out and not yet answered */
#define CTR_FAST_TRIES_MAX 3	 /* attach attempts before giving up */
#define CTR_FAST_RETRY_MS 2000	 /* first retry; doubles */
#define CTR_FAST_CHECK_MS 3000	 /* default check period */

enum ctr_job_kind {
	CTR_JOB_ATTACH, /* enter .sandbox, set the sysctls, attach (adopting .pinned) */
	CTR_JOB_CHECK,	/* enter .sandbox: route_localnet still on? program still on lo?
			 * If route_localnet is off, detach there (pin, filter) */
	CTR_JOB_DETACH, /* remove the pin; where .sandbox still opens, the filter too and
			 * the sysctls .restore_* put back */
};

enum ctr_mode {
	CTR_MODE_NONE = 0,
	CTR_MODE_TCX,	 /* a tcx link on lo egress, pinned under <pin>/ctr/<id> */
	CTR_MODE_CLSACT, /* a classic clsact filter on lo egress (before 6.6): no pin */
};

struct ctr_job {
	enum ctr_job_kind kind;
	char id[DOCKER_ID_MAX + 1];
	/* the netns file; DETACH: "" when unknown (a pin found at start) */
	char sandbox[DOCKER_SANDBOX_MAX + 1];
	enum ctr_mode mode;	   /* CHECK, DETACH: how it is attached (NONE: unknown) */
	bool pinned;		   /* a pin for id may exist (found at start, or ours) */
	bool restore_localnet;	   /* DETACH: glued set route_localnet: set it back to 0 */
	bool restore_accept_local; /* DETACH: glued set accept_local: set it back to 0 */
};

/* Which step of a job failed. */
enum ctr_step {
	CTR_STEP_NONE = 0,
	CTR_STEP_NETNS,	 /* open the SandboxKey or setns into it */
	CTR_STEP_SYSCTL, /* read or set route_localnet / accept_local (rtnetlink) */
	CTR_STEP_ATTACH, /* tcx link, clsact filter, or the pin */
};

struct ctr_result {
	enum ctr_job_kind kind;
	char id[DOCKER_ID_MAX + 1];
	int err;	    /* 0, or the negative code of the failed step */
	enum ctr_step step; /* with err */
	bool netns_gone;    /* the SandboxKey did not open: ENOENT (the container is gone) */
	/* ATTACH, success */
	enum ctr_mode mode;
	bool adopted;	       /* a link or filter already there was taken over */
	bool set_localnet;     /* glued turned route_localnet on (it was off) */
	bool set_accept_local; /* glued turned accept_local on (rp_filter is on) */
	/* CHECK */
	bool localnet_off; /* route_localnet was off: detached there (err: if that failed) */
	bool prog_missing; /* the program is no longer on lo */
};

/* Why a container on the network is not served in-container: NONE (it is
 * served), then the fallback reasons, each stated once here. M(X, N, s)
 * gets the enum suffix N and the name s, which is also the suffix of the
 * reason's fallback_<s> gauge and its label reason="<s>". */
#define CTR_FALLBACK_WHYS(M, X)                                                                    \
	M(X, PENDING, pending)                                                                     \
	M(X, OFF, off)                                                                             \
	M(X, NO_SANDBOX, no_sandbox)                                                               \
	M(X, NETNS, netns)                                                                         \
	M(X, SYSCTL, sysctl)                                                                       \
	M(X, ATTACH, attach)                                                                       \
	M(X, LOCALNET_RESET, localnet_reset)
#define CTR_WHY_APPLY_(X, n, s) X(n, s)
#define CTR_WHYS(X) X(NONE, served) CTR_FALLBACK_WHYS(CTR_WHY_APPLY_, X)
#define CTR_WHY_ENUM_(n, s) CTR_WHY_##n,
enum ctr_why { CTR_WHYS(CTR_WHY_ENUM_) CTR_WHY_COUNT };
#undef CTR_WHY_ENUM_
/* "served", "pending", "off", ... (the status and label names). */
const char *ctr_why_name(enum ctr_why w);

/* A fallback_<s> gauge per reason, one family told apart by label. */
#define CTR_FALLBACK_GAUGE_(X, n, s)                                                               \
	X(fallback_##s, gauge, "glued_container_fastpath_fallback", "reason=\"" #s "\"",           \
	  "Containers not answered in-container, by reason.")

/* The container fast path's counters (lib/counter.h). The fallback_*
 * gauges split `fallback` by reason. */
#define CTR_FAST_COUNTERS(X)                                                                       \
	X(served, gauge, "glued_container_fastpath_served", "",                                    \
	  "Containers on the watched network answered in their own netns now.")                    \
	X(fallback, gauge, "glued_container_fastpath_fallback_all", "",                            \
	  "Containers on the watched network answered by Docker's resolver instead.")              \
	CTR_FALLBACK_WHYS(CTR_FALLBACK_GAUGE_, X)                                                  \
	X(attached, counter, "glued_container_fastpath_attached_total", "",                        \
	  "In-container attaches done (adopted ones included).")                                   \
	X(adopted, counter, "glued_container_fastpath_adopted_total", "",                          \
	  "Links or filters a previous glued left, taken over.")                                   \
	X(attach_failures, counter, "glued_container_fastpath_attach_failures_total", "",          \
	  "In-container attaches that failed.")                                                    \
	X(retries, counter, "glued_container_fastpath_retries_total", "",                          \
	  "Attach attempts after a failure.")                                                      \
	X(checks, counter, "glued_container_fastpath_checks_total", "",                            \
	  "Periodic checks of served containers.")                                                 \
	X(localnet_resets, counter, "glued_container_fastpath_localnet_resets_total", "",          \
	  "Containers found with route_localnet off, and detached there.")                         \
	X(lost, counter, "glued_container_fastpath_lost_total", "",                                \
	  "Checks that found the program gone from lo.")                                           \
	X(detached, counter, "glued_container_fastpath_detached_total", "",                        \
	  "Containers detached (left the network, gone, or swept at start).")                      \
	X(swept, counter, "glued_container_fastpath_swept_total", "",                              \
	  "Pins of containers not on the network, removed at start.")                              \
	X(over_limit, counter, "glued_container_fastpath_over_limit_total", "",                    \
	  "Containers not tracked: more than 4096 on the network.")                                \
	X(job_errors, counter, "glued_container_fastpath_job_errors_total", "",                    \
	  "Checks and detaches that failed.")

struct ctr_fast_stats {
	CTR_FAST_COUNTERS(COUNTER_FIELD)
};

struct ctr_fast_cfg {
	bool enabled;	   /* false: every container falls back with reason "off" */
	unsigned check_ms; /* 0: CTR_FAST_CHECK_MS */
};

struct ctr_fast;

/* NULL when out of memory. */
struct ctr_fast *ctr_fast_new(const struct ctr_fast_cfg *cfg) GLUED_MUST_CHECK_PTR;
void ctr_fast_free(struct ctr_fast *cf);

/* Container id is on the watched network; sandbox is its SandboxKey ("" if
 * none). A new sandbox means a new netns: attach there. */
void ctr_fast_put(struct ctr_fast *cf, const char *id, const char *sandbox, uint64_t now_ms);
/* Container id left the network or is gone. */
void ctr_fast_del(struct ctr_fast *cf, const char *id, uint64_t now_ms);
/* A pin <pin>/ctr/<id> exists at start (before the first ctr_fast_synced). */
void ctr_fast_pin_found(struct ctr_fast *cf, const char *id);
/* The Docker watcher's list is complete: pins of containers it did not
 * name are swept. Later calls (reconnects) do nothing more. */
void ctr_fast_synced(struct ctr_fast *cf, uint64_t now_ms);

/* The next job to run now: true and *job filled, or false (nothing due, or
 * CTR_FAST_INFLIGHT_MAX in flight). */
bool ctr_fast_next_job(struct ctr_fast *cf, uint64_t now_ms, struct ctr_job *job);
/* The result of a job handed out; others are ignored. */
void ctr_fast_on_result(struct ctr_fast *cf, const struct ctr_result *r, uint64_t now_ms);
/* When a job may next be due (a check, a retry); UINT64_MAX: only after
 * the next input. */
uint64_t ctr_fast_next_ms(const struct ctr_fast *cf);

void ctr_fast_get_stats(const struct ctr_fast *cf, struct ctr_fast_stats *st);

/* One container, for the status. */
struct ctr_fast_view {
	const char *id;	     /* full ID */
	const char *sandbox; /* "" when none */
	enum ctr_why why;    /* CTR_WHY_NONE: served */
	enum ctr_mode mode;  /* when served */
	bool adopted;
	int err; /* of the last failure (0: none) */
};
/* Call fn for each container on the network, in no set order. */
void ctr_fast_each(const struct ctr_fast *cf, void (*fn)(void *ctx, const struct ctr_fast_view *v),
		   void *ctx);

#endif
