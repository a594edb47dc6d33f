/* Host names resolved off the event loop; see resolver.h.
 *
 * Two sides share `struct shared` under its mutex: the loop's side queues
 * lookups, times them out and delivers the answers; the worker thread runs
 * getaddrinfo on one queued lookup at a time and nothing else (it never
 * touches the loop, only the eventfd). A slot goes FREE -> QUEUED (loop)
 * -> RUNNING (worker) -> DONE (worker) -> FREE (loop, callback); a timeout
 * moves QUEUED to FREE and RUNNING to ABANDONED, which the worker frees
 * when getaddrinfo returns. Whoever lets go of `shared` last frees it: the
 * worker can outlive resolver_free() while a lookup hangs.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/resolver.h"

enum slot_state { SLOT_FREE, SLOT_QUEUED, SLOT_RUNNING, SLOT_DONE, SLOT_ABANDONED };

struct slot {
	enum slot_state state;
	uint64_t tag, seq; /* seq: queue order */
	uint64_t deadline_ms;
	int family;
	char host[RESOLVER_HOST_MAX];
	int err;
	struct glued_addr addrs[RESOLVER_ADDRS_MAX];
	size_t n;
};

struct shared {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	unsigned refs; /* the loop's side and the worker's */
	int efd;
	size_t n_slots;
	struct slot slots[];
};

struct resolver {
	struct loop *loop;
	struct shared *sh;
	resolver_fn fn;
	void *ctx;
	uint32_t timeout_ms;
	uint64_t seq;
	bool started;
	pthread_t thread;
	struct loop_op ev_op;
	uint64_t ev_val;
	struct loop_timer timer;
	struct resolver_stats st;
};

static void shared_put(struct shared *sh)
{
	bool last;

	pthread_mutex_lock(&sh->mu);
	last = --sh->refs == 0;
	pthread_mutex_unlock(&sh->mu);
	if (!last)
		return;
	close(sh->efd);
	pthread_cond_destroy(&sh->cv);
	pthread_mutex_destroy(&sh->mu);
	free(sh);
}

/* --- the worker ------------------------------------------------------------ */

/* Blocking: the whole reason this thread exists. */
static int lookup(const char *host, int family, struct glued_addr *out, size_t *n)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res = NULL;

	*n = 0;
	hints.ai_family = family == AF_INET ? AF_INET : AF_UNSPEC;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return GLUED_ENOTFOUND;
	for (struct addrinfo *ai = res; ai && *n < RESOLVER_ADDRS_MAX; ai = ai->ai_next) {
		struct glued_endpoint ep;

		if (endpoint_from_sockaddr(&ep, ai->ai_addr, ai->ai_addrlen) == 0)
			out[(*n)++] = ep.addr;
	}
	freeaddrinfo(res);
	return *n ? 0 : GLUED_ENOTFOUND;
}

static struct slot *next_queued(struct shared *sh)
{
	struct slot *best = NULL;

	for (size_t i = 0; i < sh->n_slots; i++)
		if (sh->slots[i].state == SLOT_QUEUED && (!best || sh->slots[i].seq < best->seq))
			best = &sh->slots[i];
	return best;
}

static void *worker(void *arg)
{
	struct shared *sh = arg;
	struct glued_addr addrs[RESOLVER_ADDRS_MAX];
	char host[RESOLVER_HOST_MAX];
	struct slot *s;
	size_t n;
	int family, err;

	pthread_mutex_lock(&sh->mu);
	for (;;) {
		while (!sh->stop && !(s = next_queued(sh)))
			pthread_cond_wait(&sh->cv, &sh->mu);
		if (sh->stop)
			break;
		s->state = SLOT_RUNNING;
		memcpy(host, s->host, sizeof(host));
		family = s->family;
		pthread_mutex_unlock(&sh->mu);

		err = lookup(host, family, addrs, &n);

		pthread_mutex_lock(&sh->mu);
		if (s->state == SLOT_ABANDONED) {
			s->state = SLOT_FREE;
			continue;
		}
		s->err = err;
		memcpy(s->addrs, addrs, n * sizeof(addrs[0]));
		s->n = n;
		s->state = SLOT_DONE;
		/* The loop's read takes the count and collects every DONE slot. */
		(void)!write(sh->efd, &(uint64_t){1}, sizeof(uint64_t));
	}
	pthread_mutex_unlock(&sh->mu);
	shared_put(sh);
	return NULL;
}

/* --- the loop's side ------------------------------------------------------- */

static void arm_timer(struct resolver *r)
{
	uint64_t first = UINT64_MAX;

	/* Under the mutex: the worker changes states. Deadlines are ours. */
	for (size_t i = 0; i < r->sh->n_slots; i++) {
		const struct slot *s = &r->sh->slots[i];

		if ((s->state == SLOT_QUEUED || s->state == SLOT_RUNNING) && s->deadline_ms < first)
			first = s->deadline_ms;
	}
	if (first == UINT64_MAX)
		loop_timer_disarm(r->loop, &r->timer);
	else
		loop_timer_arm(r->loop, &r->timer, first);
}

/* An answer, copied out of its slot, delivered after the mutex is let go. */
struct answer {
	uint64_t tag;
	int err;
	struct glued_addr addrs[RESOLVER_ADDRS_MAX];
	size_t n;
};

static void deliver(struct resolver *r, const struct answer *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i].err == 0)
			r->st.resolved++;
		else if (a[i].err == -ETIMEDOUT)
			r->st.timed_out++;
		else
			r->st.not_found++;
		r->fn(r->ctx, a[i].tag, a[i].err, a[i].addrs, a[i].n);
	}
}

/* Collect the slots in state `from` (and, for timeouts, due by now_ms). */
static size_t collect(struct resolver *r, bool timeouts, uint64_t now_ms, struct answer *out)
{
	struct shared *sh = r->sh;
	size_t n = 0;

	pthread_mutex_lock(&sh->mu);
	for (size_t i = 0; i < sh->n_slots; i++) {
		struct slot *s = &sh->slots[i];

		if (!timeouts && s->state == SLOT_DONE) {
			out[n] = (struct answer){.tag = s->tag, .err = s->err, .n = s->n};
			memcpy(out[n++].addrs, s->addrs, s->n * sizeof(s->addrs[0]));
			s->state = SLOT_FREE;
		} else if (timeouts && (s->state == SLOT_QUEUED || s->state == SLOT_RUNNING) &&
			   s->deadline_ms <= now_ms) {
			out[n++] = (struct answer){.tag = s->tag, .err = -ETIMEDOUT};
			s->state = s->state == SLOT_QUEUED ? SLOT_FREE : SLOT_ABANDONED;
		}
	}
	arm_timer(r);
	pthread_mutex_unlock(&sh->mu);
	return n;
}

static void ev_arm(struct resolver *r)
{
	loop_read(r->loop, &r->ev_op, r->sh->efd, &r->ev_val, sizeof(r->ev_val));
}

static void on_event(struct loop *l GLUED_UNUSED, struct loop_op *op, int res,
		     uint32_t flags GLUED_UNUSED)
{
	struct resolver *r = op->ctx;
	struct answer *a;
	size_t n;

	if (res == -ECANCELED)
		return;
	a = calloc(r->sh->n_slots, sizeof(*a));
	if (a) {
		n = collect(r, false, 0, a);
		ev_arm(r); /* before the callbacks: one may look up again */
		deliver(r, a, n);
		free(a);
	} else {
		ev_arm(r); /* the answers wait in their slots for the next event */
	}
}

static void on_timer(struct loop *l GLUED_UNUSED, struct loop_timer *t, uint64_t now_ms)
{
	struct resolver *r = t->ctx;
	struct answer *a = calloc(r->sh->n_slots, sizeof(*a));

	if (!a) {
		loop_timer_arm_in(r->loop, &r->timer, 100);
		return;
	}
	deliver(r, a, collect(r, true, now_ms, a));
	free(a);
}

struct resolver *resolver_new(struct loop *l, unsigned max_pending, uint32_t timeout_ms,
			      resolver_fn fn, void *ctx)
{
	struct resolver *r = calloc(1, sizeof(*r));
	struct shared *sh;

	if (!r || max_pending == 0)
		goto err_r;
	sh = calloc(1, sizeof(*sh) + max_pending * sizeof(sh->slots[0]));
	if (!sh)
		goto err_r;
	/* Blocking: a read of an O_NONBLOCK file may complete at once with
	 * -EAGAIN on some kernels instead of waiting (5.10's io_uring honours
	 * the flag); the worker's write never blocks (the count never nears
	 * 2^64 - 1). */
	sh->efd = eventfd(0, EFD_CLOEXEC);
	if (sh->efd < 0)
		goto err_sh;
	pthread_mutex_init(&sh->mu, NULL);
	pthread_cond_init(&sh->cv, NULL);
	sh->n_slots = max_pending;
	sh->refs = 1;
	*r = (struct resolver){.loop = l,
			       .sh = sh,
			       .fn = fn,
			       .ctx = ctx,
			       .timeout_ms = timeout_ms,
			       .ev_op = {.fn = on_event, .ctx = r}};
	loop_timer_init(&r->timer, on_timer, r);
	return r;

err_sh:
	free(sh);
err_r:
	free(r);
	return NULL;
}

/* The worker, with every signal blocked (they belong to the main thread's
 * signalfd). 0 or -errno. */
static int start(struct resolver *r)
{
	sigset_t all, old;
	int ret;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r->sh->refs++;
	ret = pthread_create(&r->thread, NULL, worker, r->sh);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		r->sh->refs--;
		return -ret;
	}
	r->started = true;
	ev_arm(r);
	return 0;
}

int resolver_lookup(struct resolver *r, const char *host, int family, uint64_t tag)
{
	struct shared *sh = r->sh;
	struct slot *s = NULL;
	size_t len = strlen(host);
	int ret;

	if (len >= RESOLVER_HOST_MAX)
		return -ENAMETOOLONG;
	if (!r->started && (ret = start(r)) != 0)
		return ret;
	pthread_mutex_lock(&sh->mu);
	for (size_t i = 0; i < sh->n_slots && !s; i++)
		if (sh->slots[i].state == SLOT_FREE)
			s = &sh->slots[i];
	if (!s) {
		pthread_mutex_unlock(&sh->mu);
		r->st.busy++;
		return -EBUSY;
	}
	*s = (struct slot){.state = SLOT_QUEUED,
			   .tag = tag,
			   .seq = ++r->seq,
			   .deadline_ms = loop_now_ms(r->loop) + r->timeout_ms,
			   .family = family};
	memcpy(s->host, host, len + 1);
	arm_timer(r);
	pthread_cond_signal(&sh->cv);
	pthread_mutex_unlock(&sh->mu);
	r->st.lookups++;
	return 0;
}

size_t resolver_pending(const struct resolver *r)
{
	size_t n = 0;

	pthread_mutex_lock(&r->sh->mu);
	for (size_t i = 0; i < r->sh->n_slots; i++)
		n += r->sh->slots[i].state != SLOT_FREE;
	pthread_mutex_unlock(&r->sh->mu);
	return n;
}

void resolver_get_stats(const struct resolver *r, struct resolver_stats *st)
{
	*st = r->st;
}

void resolver_free(struct resolver *r)
{
	struct shared *sh;
	bool busy = false;

	if (!r)
		return;
	sh = r->sh;
	loop_timer_disarm(r->loop, &r->timer);
	if (r->started) {
		pthread_mutex_lock(&sh->mu);
		sh->stop = true;
		for (size_t i = 0; i < sh->n_slots; i++)
			busy |= sh->slots[i].state == SLOT_RUNNING;
		pthread_cond_signal(&sh->cv);
		pthread_mutex_unlock(&sh->mu);
		/* An idle worker exits at once; one inside getaddrinfo may take
		 * as long as the system's resolver does: let it go. */
		if (busy)
			pthread_detach(r->thread);
		else
			pthread_join(r->thread, NULL);
	}
	shared_put(sh);
	free(r);
}
