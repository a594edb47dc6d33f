/* The container fast path's edge (ctr_attach.h): the core's jobs to the
 * helper thread, its results back to the loop, the timer of the checks,
 * and the log lines. The thread runs io/ctr_netns jobs one at a time and
 * never logs (the loop does, with the result in hand); the loop never
 * enters a netns. Nothing here decides what a container gets.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/ctr_attach.h"
#include "io/ctr_netns.h"
#include "lib/clock.h"
#include "lib/log.h"

#define RING 64 /* > CTR_FAST_INFLIGHT_MAX: a push never finds it full */
_Static_assert(RING > CTR_FAST_INFLIGHT_MAX, "rings hold every job in flight");

struct ctr_attach {
	struct loop *loop;
	struct ctr_fast *core;
	bool enabled;
	char why_off[160];
	struct ctr_netns ns;

	pthread_t thread;
	bool started, failed_start;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	struct ctr_job jobs[RING];
	size_t job_head, job_len;
	struct ctr_result res[RING];
	size_t res_head, res_len;

	int efd; /* readable while results wait */
	uint64_t efd_val;
	struct loop_op efd_op;
	struct loop_timer timer;
	struct log_ratelimit rl;
};

static const char *mode_name(enum ctr_mode m)
{
	return m == CTR_MODE_TCX ? "tcx" : m == CTR_MODE_CLSACT ? "clsact" : "none";
}

static const char *step_name(enum ctr_step s)
{
	switch (s) {
	case CTR_STEP_NETNS:
		return "enter its netns";
	case CTR_STEP_SYSCTL:
		return "route_localnet";
	case CTR_STEP_ATTACH:
		return "attach on lo";
	default:
		return "";
	}
}

/* --- the helper thread -------------------------------------------------------------------- */

static void *helper_main(void *arg)
{
	struct ctr_attach *ca = arg;
	struct ctr_job job;
	struct ctr_result r;
	uint64_t one = 1;

	pthread_mutex_lock(&ca->lock);
	for (;;) {
		while (!ca->stop && !ca->job_len)
			pthread_cond_wait(&ca->wake, &ca->lock);
		if (ca->stop)
			break;
		job = ca->jobs[ca->job_head];
		ca->job_head = (ca->job_head + 1) % RING;
		ca->job_len--;
		pthread_mutex_unlock(&ca->lock);

		ctr_netns_run(&ca->ns, &job, &r);

		pthread_mutex_lock(&ca->lock);
		ca->res[(ca->res_head + ca->res_len) % RING] = r;
		ca->res_len++;
		if (write(ca->efd, &one, sizeof(one)) < 0) {
			/* the counter cannot overflow at this rate; nothing to do */
		}
	}
	pthread_mutex_unlock(&ca->lock);
	return NULL;
}

static bool helper_start(struct ctr_attach *ca)
{
	int err;

	if (ca->started)
		return true;
	if (ca->failed_start)
		return false;
	err = pthread_create(&ca->thread, NULL, helper_main, ca);
	if (err) {
		log_warnx("fastpath: containers: start the helper thread: %s",
			  glued_strerror(-err));
		ca->failed_start = true;
		return false;
	}
	ca->started = true;
	return true;
}

/* --- the loop side -------------------------------------------------------------------------- */

static void pump(struct ctr_attach *ca);

static void log_result(struct ctr_attach *ca, const struct ctr_result *r)
{
	const char *id = r->id;

	switch (r->kind) {
	case CTR_JOB_ATTACH:
		if (!r->err)
			log_info("fastpath: container %.12s: answering in its netns (%s on lo "
				 "egress%s%s%s)",
				 id, mode_name(r->mode), r->adopted ? ", adopted" : "",
				 r->set_localnet ? ", route_localnet set" : "",
				 r->set_accept_local ? ", accept_local set" : "");
		else if (log_ratelimit_ok(&ca->rl, clock_now_ms()))
			log_warnx("fastpath: container %.12s: %s: %s; Docker's resolver answers it",
				  id, step_name(r->step), glued_strerror(r->err));
		break;
	case CTR_JOB_CHECK:
		if (r->localnet_off)
			log_warnx("fastpath: container %.12s: route_localnet was turned off on its "
				  "lo: detached there (replies would be dropped as martians); "
				  "Docker's resolver answers it until it restarts%s%s",
				  id, r->err ? ": detach: " : "",
				  r->err ? glued_strerror(r->err) : "");
		else if (r->prog_missing)
			log_warnx("fastpath: container %.12s: the program is gone from its lo; "
				  "attaching again",
				  id);
		else if (r->err && !r->netns_gone && log_ratelimit_ok(&ca->rl, clock_now_ms()))
			log_warnx("fastpath: container %.12s: check: %s: %s", id,
				  step_name(r->step), glued_strerror(r->err));
		break;
	case CTR_JOB_DETACH:
		if (r->err && !r->netns_gone)
			log_warnx("fastpath: container %.12s: detach: %s: %s", id,
				  step_name(r->step), glued_strerror(r->err));
		else
			log_info("fastpath: container %.12s: detached", id);
		break;
	}
}

static void on_results(struct loop *l, struct loop_op *op, int res, uint32_t flags GLUED_UNUSED)
{
	struct ctr_attach *ca = op->ctx;
	struct ctr_result r[RING];
	size_t n = 0;

	if (res == -ECANCELED)
		return;
	if (read(ca->efd, &ca->efd_val, sizeof(ca->efd_val)) < 0 && errno != EAGAIN)
		log_warn("fastpath: containers: eventfd read");
	pthread_mutex_lock(&ca->lock);
	while (ca->res_len) {
		r[n++] = ca->res[ca->res_head];
		ca->res_head = (ca->res_head + 1) % RING;
		ca->res_len--;
	}
	pthread_mutex_unlock(&ca->lock);
	for (size_t i = 0; i < n; i++) {
		log_result(ca, &r[i]);
		ctr_fast_on_result(ca->core, &r[i], clock_now_ms());
	}
	pump(ca);
	loop_poll(l, &ca->efd_op, ca->efd, POLLIN);
}

static void on_timer(struct loop *l GLUED_UNUSED, struct loop_timer *t,
		     uint64_t now_ms GLUED_UNUSED)
{
	pump(t->ctx);
}

/* Hand every due job to the thread; arm the timer for the next. */
static void pump(struct ctr_attach *ca)
{
	struct ctr_job job;
	uint64_t now = clock_now_ms(), next;
	bool any = false;

	if (!ca->enabled)
		return;
	while (ctr_fast_next_job(ca->core, now, &job)) {
		if (!helper_start(ca)) {
			struct ctr_result r = {
			    .kind = job.kind, .err = -EAGAIN, .step = CTR_STEP_NETNS};

			snprintf(r.id, sizeof(r.id), "%s", job.id);
			ctr_fast_on_result(ca->core, &r, now);
			continue;
		}
		pthread_mutex_lock(&ca->lock);
		ca->jobs[(ca->job_head + ca->job_len) % RING] = job;
		ca->job_len++;
		pthread_mutex_unlock(&ca->lock);
		any = true;
	}
	if (any)
		pthread_cond_signal(&ca->wake);
	next = ctr_fast_next_ms(ca->core);
	if (next == UINT64_MAX)
		loop_timer_disarm(ca->loop, &ca->timer);
	else
		loop_timer_arm_in(ca->loop, &ca->timer, next > now ? next - now : 0);
}

void ctr_attach_put(struct ctr_attach *ca, const char *id, const char *sandbox)
{
	if (!ca)
		return;
	ctr_fast_put(ca->core, id, sandbox, clock_now_ms());
	pump(ca);
}

void ctr_attach_del(struct ctr_attach *ca, const char *id)
{
	if (!ca)
		return;
	ctr_fast_del(ca->core, id, clock_now_ms());
	pump(ca);
}

void ctr_attach_synced(struct ctr_attach *ca)
{
	if (!ca)
		return;
	ctr_fast_synced(ca->core, clock_now_ms());
	pump(ca);
}

/* --- pins ------------------------------------------------------------------------------------ */

int ctr_attach_remove_pins(const char *pin_dir)
{
	char dir[CONFIG_PATH_MAX + 8], path[CONFIG_PATH_MAX + 80];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(dir, sizeof(dir), "%s/ctr", pin_dir);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (!docker_id_valid(de->d_name, strlen(de->d_name)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) == 0)
			n++;
	}
	closedir(d);
	if (n)
		log_info("fastpath: removed %d container pins under %s (their links detached)", n,
			 dir);
	if (rmdir(dir) < 0 && errno != ENOENT)
		log_warnx("fastpath: keeping %s: %s", dir, glued_strerror(-errno));
	return n;
}

/* Pins a previous glued left: adopted when their container is listed,
 * swept after the first complete list otherwise. */
static void pins_scan(struct ctr_attach *ca)
{
	struct dirent *de;
	DIR *d;
	size_t n = 0;

	if (mkdir(ca->ns.pin_dir, 0700) < 0 && errno != EEXIST)
		log_warnx("fastpath: containers: create %s: %s", ca->ns.pin_dir,
			  glued_strerror(-errno));
	d = opendir(ca->ns.pin_dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!docker_id_valid(de->d_name, strlen(de->d_name)))
			continue;
		ctr_fast_pin_found(ca->core, de->d_name);
		n++;
	}
	closedir(d);
	if (n)
		log_info("fastpath: containers: %zu links pinned by a previous glued; adopting "
			 "those of containers still on the network",
			 n);
}

/* --- lifecycle ------------------------------------------------------------------------------ */

struct ctr_attach *ctr_attach_new(struct loop *l, const struct glued_config *cfg, bool enabled,
				  int prog_fd, const char *why_off)
{
	struct ctr_fast_cfg ccfg = {.enabled = enabled};
	struct ctr_attach *ca = calloc(1, sizeof(*ca));

	if (!ca)
		return NULL;
	ca->loop = l;
	ca->enabled = enabled;
	ca->efd = -1;
	ca->ns.home_fd = -1;
	ca->ns.prog_fd = prog_fd;
	snprintf(ca->why_off, sizeof(ca->why_off), "%s", enabled ? "" : why_off);
	snprintf(ca->ns.pin_dir, sizeof(ca->ns.pin_dir), "%s/ctr", cfg->bpf_pin);
	ca->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(1, 10);
	loop_timer_init(&ca->timer, on_timer, ca);
	ca->core = ctr_fast_new(&ccfg);
	if (!ca->core)
		goto err_free;
	if (!enabled) {
		(void)ctr_attach_remove_pins(cfg->bpf_pin);
		return ca;
	}
	/* the netns the helper thread comes back to: this thread's, the host's */
	ca->ns.home_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	ca->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ca->ns.home_fd < 0 || ca->efd < 0)
		goto err_fds;
	pthread_mutex_init(&ca->lock, NULL);
	pthread_cond_init(&ca->wake, NULL);
	ca->efd_op.fn = on_results;
	ca->efd_op.ctx = ca;
	loop_poll(l, &ca->efd_op, ca->efd, POLLIN);
	pins_scan(ca);
	return ca;

err_fds:
	if (ca->ns.home_fd >= 0)
		close(ca->ns.home_fd);
	if (ca->efd >= 0)
		close(ca->efd);
	ctr_fast_free(ca->core);
err_free:
	free(ca);
	return NULL;
}

void ctr_attach_free(struct ctr_attach *ca)
{
	if (!ca)
		return;
	loop_timer_disarm(ca->loop, &ca->timer);
	if (ca->enabled) {
		if (ca->started) {
			pthread_mutex_lock(&ca->lock);
			ca->stop = true;
			pthread_cond_signal(&ca->wake);
			pthread_mutex_unlock(&ca->lock);
			pthread_join(ca->thread, NULL);
		}
		/* efd_op stays queued: the loop no longer runs (free is last) */
		pthread_cond_destroy(&ca->wake);
		pthread_mutex_destroy(&ca->lock);
		close(ca->efd);
		close(ca->ns.home_fd);
	}
	ctr_fast_free(ca->core);
	free(ca);
}

bool ctr_attach_enabled(const struct ctr_attach *ca)
{
	return ca && ca->enabled;
}

const char *ctr_attach_why_off(const struct ctr_attach *ca)
{
	return ca ? ca->why_off : "not started";
}

void ctr_attach_stats(const struct ctr_attach *ca, struct ctr_fast_stats *st)
{
	if (!ca) {
		memset(st, 0, sizeof(*st));
		return;
	}
	ctr_fast_get_stats(ca->core, st);
}

void ctr_attach_each(const struct ctr_attach *ca,
		     void (*fn)(void *ctx, const struct ctr_fast_view *v), void *ctx)
{
	if (ca)
		ctr_fast_each(ca->core, fn, ctx);
}
