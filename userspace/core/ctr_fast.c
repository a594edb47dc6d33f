/* The container fast path's reconciler (ctr_fast.h): per container, what
 * the Docker watcher wants (on the network, in this netns) against what is
 * there (attached in that netns, pinned), and the one job that moves the
 * second towards the first. It must never do I/O, read a clock or log: a
 * job is a request, a result is a fact the I/O side observed.
 *
 * Containers live in one array searched linearly: a host runs hundreds of
 * containers, not millions, and every operation but the lookup walks them
 * all anyway (the next job, the gauges).
 */
#include "core/ctr_fast.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ctr {
	char id[DOCKER_ID_MAX + 1];
	char want[DOCKER_SANDBOX_MAX + 1]; /* SandboxKey the engine gave last */
	char have[DOCKER_SANDBOX_MAX + 1]; /* netns attached in; "" none */
	char job[DOCKER_SANDBOX_MAX + 1];  /* netns of the job in flight */
	bool present;			   /* on the network (put, no del since) */
	bool attached;			   /* in `have` */
	bool pinned;			   /* a pin may exist */
	bool busy;			   /* a job in flight */
	bool given_up;			   /* not until a new sandbox */
	bool set_localnet, set_accept;	   /* glued changed them in `have` */
	bool adopted;
	enum ctr_mode mode;
	enum ctr_why why; /* when not attached */
	int err;
	unsigned tries;
	uint64_t due_ms; /* next attempt (not attached) or check (attached) */
};

struct ctr_fast {
	bool enabled, synced;
	unsigned check_ms;
	struct ctr *c;
	size_t n, cap;
	size_t inflight;
	struct ctr_fast_stats st;
};

const char *ctr_why_name(enum ctr_why w)
{
#define CTR_WHY_NAME_(n, s) #s,
	static const char *const names[] = {CTR_WHYS(CTR_WHY_NAME_)};
#undef CTR_WHY_NAME_
	return (unsigned)w < CTR_WHY_COUNT ? names[w] : "?";
}

struct ctr_fast *ctr_fast_new(const struct ctr_fast_cfg *cfg)
{
	struct ctr_fast *cf = calloc(1, sizeof(*cf));

	if (!cf)
		return NULL;
	cf->enabled = cfg->enabled;
	cf->check_ms = cfg->check_ms ? cfg->check_ms : CTR_FAST_CHECK_MS;
	return cf;
}

void ctr_fast_free(struct ctr_fast *cf)
{
	if (!cf)
		return;
	free(cf->c);
	free(cf);
}

static struct ctr *find(struct ctr_fast *cf, const char *id)
{
	for (size_t i = 0; i < cf->n; i++)
		if (strcmp(cf->c[i].id, id) == 0)
			return &cf->c[i];
	return NULL;
}

/* A new record, or NULL when the set is full or out of memory. */
static struct ctr *add(struct ctr_fast *cf, const char *id)
{
	struct ctr *c;

	if (cf->n == cf->cap) {
		size_t cap = cf->cap ? cf->cap * 2 : 16;
		void *p;

		if (cap > CTR_FAST_MAX)
			cap = CTR_FAST_MAX;
		if (cap == cf->n || !(p = realloc(cf->c, cap * sizeof(*cf->c))))
			return NULL;
		cf->c = p;
		cf->cap = cap;
	}
	c = &cf->c[cf->n++];
	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->why = CTR_WHY_PENDING;
	return c;
}

static void drop(struct ctr_fast *cf, struct ctr *c)
{
	*c = cf->c[--cf->n];
}

/* The gauges, from the records: one place computes them. */
static void gauges(struct ctr_fast *cf)
{
	struct ctr_fast_stats *st = &cf->st;
#define CTR_WHY_GAUGE_(st, n, s) [CTR_WHY_##n] = &st->fallback_##s,
	uint64_t *by[CTR_WHY_COUNT] = {[CTR_WHY_NONE] = &st->served,
				       CTR_FALLBACK_WHYS(CTR_WHY_GAUGE_, st)};
#undef CTR_WHY_GAUGE_

	for (int w = 0; w < CTR_WHY_COUNT; w++)
		*by[w] = 0;
	for (size_t i = 0; i < cf->n; i++) {
		const struct ctr *c = &cf->c[i];

		if (c->present)
			(*by[c->attached && !strcmp(c->have, c->want) ? CTR_WHY_NONE : c->why])++;
	}
	st->fallback = 0;
	for (int w = CTR_WHY_PENDING; w < CTR_WHY_COUNT; w++)
		st->fallback += *by[w];
}

void ctr_fast_put(struct ctr_fast *cf, const char *id, const char *sandbox, uint64_t now_ms)
{
	struct ctr *c = find(cf, id);

	if (!c && !(c = add(cf, id))) {
		cf->st.over_limit++; /* not tracked: Docker's resolver answers it */
		return;
	}
	if (!c->present || strcmp(c->want, sandbox) != 0) {
		/* a new netns (or the first): a fresh start there */
		snprintf(c->want, sizeof(c->want), "%s", sandbox);
		c->given_up = false;
		c->tries = 0;
		c->due_ms = now_ms;
		c->err = 0;
		c->why = CTR_WHY_PENDING;
	}
	c->present = true;
	if (!cf->enabled)
		c->why = CTR_WHY_OFF;
	else if (!sandbox[0])
		c->why = CTR_WHY_NO_SANDBOX;
	gauges(cf);
}

void ctr_fast_del(struct ctr_fast *cf, const char *id, uint64_t now_ms)
{
	struct ctr *c = find(cf, id);

	(void)now_ms;
	if (!c)
		return;
	c->present = false;
	c->want[0] = 0;
	if (!c->busy && !c->attached && !c->pinned)
		drop(cf, c);
	gauges(cf);
}

void ctr_fast_pin_found(struct ctr_fast *cf, const char *id)
{
	struct ctr *c = find(cf, id);

	if (cf->synced)
		return;
	if (!c && !(c = add(cf, id)))
		return;
	c->pinned = true;
	c->mode = CTR_MODE_TCX;
}

void ctr_fast_synced(struct ctr_fast *cf, uint64_t now_ms)
{
	(void)now_ms;
	cf->synced = true;
}

/* --- jobs ---------------------------------------------------------------------------- */

static void job_for(const struct ctr *c, enum ctr_job_kind kind, const char *sandbox,
		    struct ctr_job *job)
{
	memset(job, 0, sizeof(*job));
	job->kind = kind;
	snprintf(job->id, sizeof(job->id), "%s", c->id);
	snprintf(job->sandbox, sizeof(job->sandbox), "%s", sandbox);
	job->mode = c->mode;
	job->pinned = c->pinned;
	job->restore_localnet = c->set_localnet;
	job->restore_accept_local = c->set_accept;
}

/* The one job c needs now, if any. */
static bool decide(struct ctr_fast *cf, struct ctr *c, uint64_t now_ms, struct ctr_job *job)
{
	bool have_now = c->attached && c->have[0] && !strcmp(c->have, c->want);

	if (c->busy)
		return false;
	if (!c->present) {
		/* gone: take away what is there; a pin found at start waits for
		 * the first complete list to say it is not on the network */
		if (!c->attached && !(c->pinned && cf->synced))
			return false;
		job_for(c, CTR_JOB_DETACH, c->have, job);
		return true;
	}
	if (!cf->enabled || !c->want[0])
		return false;
	if (have_now) {
		if (now_ms < c->due_ms)
			return false;
		job_for(c, CTR_JOB_CHECK, c->have, job);
		return true;
	}
	if (c->given_up || now_ms < c->due_ms)
		return false;
	/* Not attached here: attach in the new netns. A link still pinned for
	 * an old one is replaced by the attach (the old netns is gone with
	 * its container's restart). */
	job_for(c, CTR_JOB_ATTACH, c->want, job);
	if (c->tries)
		cf->st.retries++;
	return true;
}

bool ctr_fast_next_job(struct ctr_fast *cf, uint64_t now_ms, struct ctr_job *job)
{
	if (cf->inflight >= CTR_FAST_INFLIGHT_MAX)
		return false;
	for (size_t i = 0; i < cf->n; i++) {
		struct ctr *c = &cf->c[i];

		if (decide(cf, c, now_ms, job)) {
			snprintf(c->job, sizeof(c->job), "%s", job->sandbox);
			c->busy = true;
			cf->inflight++;
			return true;
		}
	}
	return false;
}

uint64_t ctr_fast_next_ms(const struct ctr_fast *cf)
{
	uint64_t next = UINT64_MAX;

	if (!cf->enabled)
		return next;
	for (size_t i = 0; i < cf->n; i++) {
		const struct ctr *c = &cf->c[i];

		if (c->busy || !c->present || !c->want[0] || c->given_up)
			continue;
		if (c->due_ms < next)
			next = c->due_ms;
	}
	return next;
}

static enum ctr_why why_of(enum ctr_step step)
{
	switch (step) {
	case CTR_STEP_NETNS:
		return CTR_WHY_NETNS;
	case CTR_STEP_SYSCTL:
		return CTR_WHY_SYSCTL;
	default:
		return CTR_WHY_ATTACH;
	}
}

/* The program is on no lo of this container now: `have` names where it is
 * attached, so the two change together. */
static void unattach(struct ctr *c)
{
	c->attached = false;
	c->have[0] = 0;
}

static void on_attach(struct ctr_fast *cf, struct ctr *c, const struct ctr_result *r,
		      const char *sandbox, uint64_t now_ms)
{
	if (!r->err) {
		c->attached = true;
		snprintf(c->have, sizeof(c->have), "%s", sandbox);
		c->mode = r->mode;
		c->pinned = r->mode == CTR_MODE_TCX;
		c->adopted = r->adopted;
		/* adopted: a predecessor turned route_localnet on; whether it
		 * set accept_local is not known, so that one stays */
		c->set_localnet = r->set_localnet || r->adopted;
		c->set_accept = r->set_accept_local;
		c->tries = 0;
		c->err = 0;
		c->why = CTR_WHY_NONE;
		c->due_ms = now_ms + cf->check_ms;
		cf->st.attached++;
		cf->st.adopted += r->adopted;
		if (strcmp(c->have, c->want) != 0) {
			/* moved meanwhile: attach in the new netns now */
			c->why = CTR_WHY_PENDING;
			c->due_ms = now_ms;
		}
		return;
	}
	/* The I/O side leaves nothing behind a failed attach: sysctls it set
	 * are put back, a pin for an old netns is gone. */
	unattach(c);
	c->pinned = false;
	c->err = r->err;
	c->why = why_of(r->step);
	cf->st.attach_failures++;
	if (r->netns_gone || ++c->tries >= CTR_FAST_TRIES_MAX)
		c->given_up = true;
	else
		c->due_ms = now_ms + ((uint64_t)CTR_FAST_RETRY_MS << (c->tries - 1));
}

static void on_check(struct ctr_fast *cf, struct ctr *c, const struct ctr_result *r,
		     uint64_t now_ms)
{
	cf->st.checks++;
	if (r->localnet_off) {
		/* detached there by the job (the contract of CHECK) */
		cf->st.localnet_resets++;
		unattach(c);
		c->pinned = c->pinned && r->err; /* a failed unpin leaves it */
		c->given_up = true;
		c->set_localnet = c->set_accept = false;
		c->why = CTR_WHY_LOCALNET_RESET;
		c->err = r->err;
		if (r->err)
			cf->st.job_errors++;
		return;
	}
	if (r->netns_gone) {
		/* the container went; its event is on the way */
		unattach(c);
		c->given_up = true;
		c->why = CTR_WHY_NETNS;
		c->err = r->err;
		return;
	}
	if (r->prog_missing) {
		cf->st.lost++;
		unattach(c);
		c->why = CTR_WHY_PENDING;
		c->due_ms = now_ms;
		return;
	}
	if (r->err)
		cf->st.job_errors++;
	c->due_ms = now_ms + cf->check_ms;
}

static void on_detach(struct ctr_fast *cf, struct ctr *c, const struct ctr_result *r)
{
	if (r->err && !r->netns_gone)
		cf->st.job_errors++;
	if (c->attached || c->pinned)
		cf->st.detached++;
	if (!c->attached && c->pinned && !c->have[0])
		cf->st.swept++;
	unattach(c);
	c->pinned = false;
	c->set_localnet = c->set_accept = false;
}

void ctr_fast_on_result(struct ctr_fast *cf, const struct ctr_result *r, uint64_t now_ms)
{
	struct ctr *c = find(cf, r->id);

	if (!c || !c->busy)
		return;
	c->busy = false;
	cf->inflight--;
	switch (r->kind) {
	case CTR_JOB_ATTACH:
		/* the job was for c->job; if a put changed c->want meanwhile,
		 * the next decide() attaches in the new netns */
		on_attach(cf, c, r, c->job, now_ms);
		break;
	case CTR_JOB_CHECK:
		on_check(cf, c, r, now_ms);
		break;
	case CTR_JOB_DETACH:
		on_detach(cf, c, r);
		break;
	}
	if (!c->present && !c->attached && !c->pinned)
		drop(cf, c);
	gauges(cf);
}

void ctr_fast_get_stats(const struct ctr_fast *cf, struct ctr_fast_stats *st)
{
	*st = cf->st;
}

void ctr_fast_each(const struct ctr_fast *cf, void (*fn)(void *ctx, const struct ctr_fast_view *v),
		   void *ctx)
{
	for (size_t i = 0; i < cf->n; i++) {
		const struct ctr *c = &cf->c[i];
		struct ctr_fast_view v = {
		    .id = c->id,
		    .sandbox = c->want,
		    .mode = c->mode,
		    .adopted = c->adopted,
		    .err = c->err,
		};

		if (!c->present)
			continue;
		v.why = c->attached && !strcmp(c->have, c->want) ? CTR_WHY_NONE : c->why;
		fn(ctx, &v);
	}
}
