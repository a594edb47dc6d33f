/* core/ctr_fast as scenarios: the Docker watcher's inputs, the jobs the
 * core hands out, the results the I/O side would report, and the virtual
 * clock, one step at a time. Each scenario reads as the policy it pins
 * down (ctr_fast.h). */
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "core/ctr_fast.h"
#include "t.h"

enum op {
	END = 0,
	PUT,	/* a: id, b: sandbox */
	DEL,	/* a: id */
	PIN,	/* a: id: a pin found at start */
	SYNCED, /* the first complete list */
	ADV,	/* n: ms pass */
	JOB,	/* n: kind, a: id, b: sandbox (NULL: any) - the next job is this */
	NOJOB,	/* no job is due now */
	RES,	/* a: id, n: kind, e: err, s: step, f: flags (below) */
	STAT,	/* a: counter, n: value */
	WHY,	/* a: id, b: why name ("served", "netns", ...) */
	NEXT,	/* n: ctr_fast_next_ms() - now, -1: none */
	RESTORE /* n: the last job restores route_localnet (1) or not (0) */
};

/* RES flags */
#define F_TCX 1
#define F_CLSACT 2
#define F_ADOPTED 4
#define F_SET_LOCALNET 8
#define F_LOCALNET_OFF 16
#define F_PROG_MISSING 32
#define F_GONE 64

struct step {
	enum op op;
	const char *a, *b;
	long n;
	int e, s, f;
};

#define S(op_, ...)                                                                                \
	{                                                                                          \
		.op = op_, __VA_ARGS__                                                             \
	}

struct scenario {
	const char *name;
	bool off;
	struct step steps[40];
};

static uint64_t stat_of(const struct ctr_fast_stats *st, const char *name)
{
#define COUNTER_PICK_(f, k, m, l, h)                                                               \
	if (!strcmp(name, #f))                                                                     \
		return st->f;
	CTR_FAST_COUNTERS(COUNTER_PICK_)
#undef COUNTER_PICK_
	fprintf(stderr, "unknown counter %s\n", name);
	exit(1);
}

struct find_ctx {
	const char *id;
	const char *why;
};

static void find_view(void *ctx, const struct ctr_fast_view *v)
{
	struct find_ctx *f = ctx;

	if (!strcmp(v->id, f->id))
		f->why = ctr_why_name(v->why);
}

static const char *kind_name(long k)
{
	return k == CTR_JOB_ATTACH ? "attach" : k == CTR_JOB_CHECK ? "check" : "detach";
}

static void run(const struct scenario *sc)
{
	struct ctr_fast_cfg cfg = {.enabled = !sc->off, .check_ms = 3000};
	struct ctr_fast *cf = ctr_fast_new(&cfg);
	struct ctr_fast_stats st;
	struct ctr_job job = {0};
	uint64_t now = 1000000;

	T_CASE(sc->name)
	{
		T_ASSERT(cf, "ctr_fast_new");
		if (!cf)
			break;
		for (int k = 0; k < 40 && sc->steps[k].op != END; k++) {
			const struct step *s = &sc->steps[k];

			switch (s->op) {
			case PUT:
				ctr_fast_put(cf, s->a, s->b, now);
				break;
			case DEL:
				ctr_fast_del(cf, s->a, now);
				break;
			case PIN:
				ctr_fast_pin_found(cf, s->a);
				break;
			case SYNCED:
				ctr_fast_synced(cf, now);
				break;
			case ADV:
				now += (uint64_t)s->n;
				break;
			case JOB: {
				bool got = ctr_fast_next_job(cf, now, &job);

				T_ASSERT(got, "step %d: a %s job for %s", k, kind_name(s->n), s->a);
				if (!got)
					break;
				T_ASSERT(job.kind == (enum ctr_job_kind)s->n &&
					     !strcmp(job.id, s->a),
					 "step %d: %s %s, want %s %s", k, kind_name(job.kind),
					 job.id, kind_name(s->n), s->a);
				if (s->b)
					T_ASSERT(!strcmp(job.sandbox, s->b),
						 "step %d: sandbox \"%s\", want \"%s\"", k,
						 job.sandbox, s->b);
				break;
			}
			case NOJOB: {
				bool got = ctr_fast_next_job(cf, now, &job);

				T_ASSERT(!got, "step %d: no job due, got %s %s", k,
					 kind_name(job.kind), job.id);
				break;
			}
			case RES: {
				struct ctr_result r = {
				    .kind = (enum ctr_job_kind)s->n,
				    .err = s->e,
				    .step = (enum ctr_step)s->s,
				    .mode = s->f & F_TCX      ? CTR_MODE_TCX
					    : s->f & F_CLSACT ? CTR_MODE_CLSACT
							      : CTR_MODE_NONE,
				    .adopted = s->f & F_ADOPTED,
				    .set_localnet = s->f & F_SET_LOCALNET,
				    .localnet_off = s->f & F_LOCALNET_OFF,
				    .prog_missing = s->f & F_PROG_MISSING,
				    .netns_gone = s->f & F_GONE,
				};

				snprintf(r.id, sizeof(r.id), "%s", s->a);
				ctr_fast_on_result(cf, &r, now);
				break;
			}
			case STAT:
				ctr_fast_get_stats(cf, &st);
				T_ASSERT(stat_of(&st, s->a) == (uint64_t)s->n,
					 "step %d: %s = %llu, want %ld", k, s->a,
					 (unsigned long long)stat_of(&st, s->a), s->n);
				break;
			case WHY: {
				struct find_ctx f = {.id = s->a};

				ctr_fast_each(cf, find_view, &f);
				T_ASSERT(f.why && !strcmp(f.why, s->b),
					 "step %d: %s is %s, want %s", k, s->a,
					 f.why ? f.why : "(not listed)", s->b);
				break;
			}
			case NEXT: {
				uint64_t n = ctr_fast_next_ms(cf);

				if (s->n < 0)
					T_ASSERT(n == UINT64_MAX, "step %d: nothing due, got +%lld",
						 k, (long long)(n - now));
				else
					T_ASSERT(n == now + (uint64_t)s->n,
						 "step %d: next at +%lld, want +%ld", k,
						 (long long)(n - now), s->n);
				break;
			}
			case RESTORE:
				T_ASSERT(job.restore_localnet == (bool)s->n,
					 "step %d: restore_localnet %d, want %ld", k,
					 job.restore_localnet, s->n);
				break;
			case END:
				break;
			}
		}
	}
	ctr_fast_free(cf);
}

#define ATTACH_OK(id) S(RES, .a = id, .n = CTR_JOB_ATTACH, .f = F_TCX | F_SET_LOCALNET)
#define CHECK_OK(id) S(RES, .a = id, .n = CTR_JOB_CHECK)

/* clang-format off */
static const struct scenario scenarios[] = {
	{ "a container on the network is attached in its netns, then checked every period",
	  .steps = {
		S(PUT, .a = "a", .b = "/ns/a1"),
		S(WHY, .a = "a", .b = "pending"),
		S(STAT, .a = "fallback_pending", .n = 1),
		S(JOB, .n = CTR_JOB_ATTACH, .a = "a", .b = "/ns/a1"),
		S(NOJOB),				/* one job per container */
		ATTACH_OK("a"),
		S(WHY, .a = "a", .b = "served"),
		S(STAT, .a = "served", .n = 1), S(STAT, .a = "fallback", .n = 0),
		S(STAT, .a = "attached", .n = 1),
		S(NEXT, .n = 3000),
		S(NOJOB),
		S(ADV, .n = 3000),
		S(JOB, .n = CTR_JOB_CHECK, .a = "a", .b = "/ns/a1"),
		CHECK_OK("a"),
		S(STAT, .a = "checks", .n = 1),
		S(NEXT, .n = 3000),
	  } },
	{ "no SandboxKey: not attached, counted as no_sandbox",
	  .steps = {
		S(PUT, .a = "a", .b = ""),
		S(NOJOB),
		S(WHY, .a = "a", .b = "no_sandbox"),
		S(STAT, .a = "fallback_no_sandbox", .n = 1), S(STAT, .a = "fallback", .n = 1),
		S(NEXT, .n = -1),
	  } },
	{ "GLUED_CONTAINER_FASTPATH=off: no job, every container falls back as off",
	  .off = true,
	  .steps = {
		S(PUT, .a = "a", .b = "/ns/a1"), S(PUT, .a = "b", .b = "/ns/b1"),
		S(NOJOB),
		S(STAT, .a = "fallback_off", .n = 2), S(STAT, .a = "served", .n = 0),
		S(WHY, .a = "b", .b = "off"),
	  } },
	{ "a failed attach is retried after 2 s, 4 s, then given up with its reason",
	  .steps = {
		S(PUT, .a = "a", .b = "/ns/a1"),
		S(JOB, .n = CTR_JOB_ATTACH, .a = "a"),
		S(RES, .a = "a", .n = CTR_JOB_ATTACH, .e = -1, .s = CTR_STEP_SYSCTL),
		S(WHY, .a = "a", .b = "sysctl"),
		S(STAT, .a = "fallback_sysctl", .n = 1), S(STAT, .a = "attach_failures", .n = 1),
		S(NEXT, .n = 2000), S(ADV, .n = 1999), S(NOJOB), S(ADV, .n = 1),
		S(JOB, .n = CTR_JOB_ATTACH, .a = "a"),
		S(STAT, .a = "retries", .n = 1),
		S(RES, .a = "a", .n = CTR_JOB_ATTACH, .e = -95, .s = CTR_STEP_ATTACH),
		S(WHY, .a = "a", .b = "attach"),
		S(NEXT, .n = 4000), S(ADV, .n = 4000),
		S(JOB, .n = CTR_JOB_ATTACH, .a = "a"),
		S(RES, .a = "a", .n = CTR_JOB_ATTACH, .e = -95, .s = CTR_STEP_ATTACH),
		S(ADV, .n = 600000), S(NOJOB), S(NEXT, .n = -1),
		S(STAT, .a = "attach_failures", .n = 3), S(STAT, .a = "fallback_attach", .n = 1),
		/* a new netns (docker restart) starts over */
		S(PUT, .a = "a", .b = "/ns/a2"),
		S(JOB, .n = CTR_JOB_ATTACH, .a = "a", .b = "/ns/a2"),
		ATTACH_OK("a"), S(WHY, .a = "a", .b = "served"),
	  } },
	{ "a netns that is gone is not retried: the engine's event says where it went",
	  .steps = {
		S(PUT, .a = "a", .b = "/ns/a1"),
		S(JOB, .n = CTR_JOB_ATTACH, .a = "a"),
		S(RES, .a = "a", .n = CTR_JOB_ATTACH, .e = -2, .s = CTR_STEP_NETNS, .f = F_GONE),
		S(WHY, .a = "a", .b = "netns"), S(NEXT, .n = -1), S(ADV, .n = 60000), S(NOJOB),
	  } },
	{ "route_localnet reset: the check detaches there, no re-attach until a new netns",
	  .steps = {
		S(PUT, .a = "a", .b = "/ns/a1"),
		S(JOB, .n = CTR_JOB_ATTACH, .a = "a"), ATTACH_OK("a"),
		S(ADV, .n = 3000),
		S(JOB, .n = CTR_JOB_CHECK, .a = "a"),
		S(RES, .a = "a", .n = CTR_JOB_CHECK, .f = F_LOCALNET_OFF),
		S(WHY, .a = "a", .b = "localnet_reset"),
		S(STAT, .a = "localnet_resets", .n = 1), S(STAT, .a = "fallback_localnet_reset", .n = 1),
		S(STAT, .a = "served", .n = 0),
		S(ADV, .n = 60000), S(NOJOB), S(NEXT, .n = -1),
		S(PUT, .a = "a", .b = "/ns/a1"),	/* a resync: the same netns */
		S(NOJOB),
		S(PUT, .a = "a", .b = "/ns/a2"),	/* restarted */
		S(JOB, .n = CTR_JOB_ATTACH, .a = "a", .b = "/ns/a2"),
	  } },
	{ "a program found missing on a check is attached again at once",
	  .steps = {
		S(PUT, .a = "a", .b = "/ns/a1"),
		S(JOB, .n = CTR_JOB_ATTACH, .a = "a"), ATTACH_OK("a"),
		S(ADV, .n = 3000), S(JOB, .n = CTR_JOB_CHECK, .a = "a"),
		S(RES, .a = "a", .n = CTR_JOB_CHECK, .f = F_PROG_MISSING),
		S(STAT, .a = "lost", .n = 1),
		S(JOB, .n = CTR_JOB_ATTACH, .a = "a", .b = "/ns/a1"),
	  } },
	{ "leaving the network detaches in the netns and puts back route_localnet; then forgotten",
	  .steps = {
		S(PUT, .a = "a", .b = "/ns/a1"),
		S(JOB, .n = CTR_JOB_ATTACH, .a = "a"), ATTACH_OK("a"),
		S(DEL, .a = "a"),
		S(JOB, .n = CTR_JOB_DETACH, .a = "a", .b = "/ns/a1"), S(RESTORE, .n = 1),
		S(RES, .a = "a", .n = CTR_JOB_DETACH),
		S(STAT, .a = "detached", .n = 1), S(STAT, .a = "served", .n = 0),
		S(STAT, .a = "fallback", .n = 0),
		S(NOJOB), S(ADV, .n = 60000), S(NOJOB),
	  } },
	{ "gone while its attach is in flight: detached when the attach returns",
	  .steps = {
		S(PUT, .a = "a", .b = "/ns/a1"),
		S(JOB, .n = CTR_JOB_ATTACH, .a = "a"),
		S(DEL, .a = "a"), S(NOJOB),
		ATTACH_OK("a"),
		S(JOB, .n = CTR_JOB_DETACH, .a = "a", .b = "/ns/a1"),
		S(RES, .a = "a", .n = CTR_JOB_DETACH, .f = F_GONE),
		S(STAT, .a = "detached", .n = 1), S(NOJOB),
	  } },
	{ "docker restart: die withdraws (detach, netns gone), start puts a new netns",
	  .steps = {
		S(PUT, .a = "a", .b = "/ns/a1"),
		S(JOB, .n = CTR_JOB_ATTACH, .a = "a"), ATTACH_OK("a"),
		S(DEL, .a = "a"),
		S(PUT, .a = "a", .b = "/ns/a2"),
		/* still present: the old attach is replaced by the new one */
		S(JOB, .n = CTR_JOB_ATTACH, .a = "a", .b = "/ns/a2"),
		ATTACH_OK("a"), S(WHY, .a = "a", .b = "served"), S(STAT, .a = "attached", .n = 2),
	  } },
	{ "the same container moved to a new netns while its attach was in flight",
	  .steps = {
		S(PUT, .a = "a", .b = "/ns/a1"),
		S(JOB, .n = CTR_JOB_ATTACH, .a = "a", .b = "/ns/a1"),
		S(PUT, .a = "a", .b = "/ns/a2"),
		ATTACH_OK("a"),
		S(WHY, .a = "a", .b = "pending"),	/* attached in a1, wanted in a2 */
		S(JOB, .n = CTR_JOB_ATTACH, .a = "a", .b = "/ns/a2"),
		ATTACH_OK("a"), S(WHY, .a = "a", .b = "served"),
	  } },
	{ "glued restart: a pin of a listed container is adopted, a pin of another is swept",
	  .steps = {
		S(PIN, .a = "a"), S(PIN, .a = "old"),
		S(NOJOB),				/* nothing before Docker speaks */
		S(PUT, .a = "a", .b = "/ns/a1"),
		S(JOB, .n = CTR_JOB_ATTACH, .a = "a", .b = "/ns/a1"),
		S(RES, .a = "a", .n = CTR_JOB_ATTACH, .f = F_TCX | F_ADOPTED),
		S(NOJOB),				/* "old": not before the list is complete */
		S(SYNCED),
		S(JOB, .n = CTR_JOB_DETACH, .a = "old", .b = ""),
		S(RES, .a = "old", .n = CTR_JOB_DETACH),
		S(STAT, .a = "adopted", .n = 1), S(STAT, .a = "swept", .n = 1),
		S(STAT, .a = "served", .n = 1),
		/* the adopted one: a predecessor set route_localnet, so leaving puts it back */
		S(DEL, .a = "a"), S(JOB, .n = CTR_JOB_DETACH, .a = "a"), S(RESTORE, .n = 1),
	  } },
	{ "a check that finds the netns gone stops checking until the engine says more",
	  .steps = {
		S(PUT, .a = "a", .b = "/ns/a1"),
		S(JOB, .n = CTR_JOB_ATTACH, .a = "a"), ATTACH_OK("a"),
		S(ADV, .n = 3000), S(JOB, .n = CTR_JOB_CHECK, .a = "a"),
		S(RES, .a = "a", .n = CTR_JOB_CHECK, .e = -2, .s = CTR_STEP_NETNS, .f = F_GONE),
		S(WHY, .a = "a", .b = "netns"), S(NEXT, .n = -1), S(NOJOB),
	  } },
};
/* clang-format on */

/* More containers than jobs may be in flight: the rest wait for a result. */
static void test_inflight(void)
{
	struct ctr_fast_cfg cfg = {.enabled = true};
	struct ctr_fast *cf = ctr_fast_new(&cfg);
	struct ctr_job job;
	struct ctr_result r = {.kind = CTR_JOB_ATTACH, .mode = CTR_MODE_CLSACT};
	char id[16], sb[32];
	size_t n = 0;

	T_CASE("at most CTR_FAST_INFLIGHT_MAX jobs in flight; each result frees one")
	{
		T_ASSERT(cf, "ctr_fast_new");
		if (!cf)
			break;
		for (int i = 0; i < CTR_FAST_INFLIGHT_MAX + 8; i++) {
			snprintf(id, sizeof(id), "c%d", i);
			snprintf(sb, sizeof(sb), "/ns/%d", i);
			ctr_fast_put(cf, id, sb, 0);
		}
		while (ctr_fast_next_job(cf, 0, &job))
			n++;
		T_EQ_INT(n, CTR_FAST_INFLIGHT_MAX);
		snprintf(r.id, sizeof(r.id), "c0");
		ctr_fast_on_result(cf, &r, 0);
		T_ASSERT(ctr_fast_next_job(cf, 0, &job), "a slot came free");
		T_ASSERT(!ctr_fast_next_job(cf, 0, &job), "only one");
		ctr_fast_on_result(cf, &r, 0); /* a duplicate result: ignored */
		T_ASSERT(!ctr_fast_next_job(cf, 0, &job), "a duplicate frees nothing");
	}
	ctr_fast_free(cf);
}

/* Beyond CTR_FAST_MAX containers the rest are not tracked (Docker's
 * resolver answers them) and counted. */
static void test_limit(void)
{
	struct ctr_fast_cfg cfg = {.enabled = true};
	struct ctr_fast *cf = ctr_fast_new(&cfg);
	struct ctr_fast_stats st;
	char id[16];

	T_CASE("more than CTR_FAST_MAX containers: the rest counted over_limit, not tracked")
	{
		T_ASSERT(cf, "ctr_fast_new");
		if (!cf)
			break;
		for (int i = 0; i < CTR_FAST_MAX + 3; i++) {
			snprintf(id, sizeof(id), "c%d", i);
			ctr_fast_put(cf, id, "/ns/x", 0);
		}
		ctr_fast_put(cf, "c0", "/ns/x", 0); /* a tracked one again: not over */
		ctr_fast_get_stats(cf, &st);
		T_EQ_INT(st.over_limit, 3);
		T_EQ_INT(st.fallback_pending, CTR_FAST_MAX);
	}
	ctr_fast_free(cf);
}

int main(void)
{
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		run(&scenarios[i]);
	test_inflight();
	test_limit();
	T_ASSERT(!strcmp(ctr_why_name(CTR_WHY_LOCALNET_RESET), "localnet_reset"), "why names");
	return t_summary();
}
