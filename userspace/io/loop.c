/* io_uring event loop with a timer heap; see loop.h.
 *
 * Owns the ring, the timer heap and the probe of what the kernel's io_uring
 * can do, nothing else: it never interprets a completion, it only hands it
 * to the op's callback. liburing returns errors as negative codes and does
 * not set errno: every call here reports the code it returned.
 */
#include <errno.h>
#include <liburing.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/un.h>
#include <unistd.h>

#include "io/loop.h"
#include "lib/clock.h"
#include "lib/log.h"

_Static_assert(LOOP_F_MORE == IORING_CQE_F_MORE, "loop.h mirrors the CQE flag");

struct loop {
	struct io_uring ring;
	struct loop_features feat;
	bool stop;
	uint64_t now_ms;
	struct loop_timer **heap;
	size_t n_timers, cap_timers;
};

struct loop_bufring {
	struct io_uring_buf_ring *ring;
	size_t ring_bytes;
	uint8_t *bufs;
	unsigned count, size;
	uint16_t bgid;
	int mask;
};

static const char *baseline_missing(struct loop *l);
static void probe(struct loop *l);

struct loop *loop_new(unsigned entries)
{
	struct io_uring_params p = {0};
	struct loop *l = calloc(1, sizeof(*l));
	const char *missing;
	int ret;

	if (!l)
		return NULL;
	/* Completions can outnumber submissions with multishot ops. */
	p.flags = IORING_SETUP_CQSIZE;
	p.cq_entries = entries * 8;
	ret = io_uring_queue_init_params(entries, &l->ring, &p);
	if (ret < 0) {
		free(l);
		errno = -ret;
		return NULL;
	}
	l->feat.ext_arg = p.features & IORING_FEAT_EXT_ARG;
	missing = baseline_missing(l);
	if (missing) {
		/* Only here is it known which: the caller's line adds errno. */
		log_errorx("loop: the kernel's io_uring lacks %s", missing);
		io_uring_queue_exit(&l->ring);
		free(l);
		errno = EOPNOTSUPP;
		return NULL;
	}
	probe(l);
	l->now_ms = clock_now_ms();
	return l;
}

const struct loop_features *loop_features(const struct loop *l)
{
	return &l->feat;
}

bool loop_multishot_ok(const struct loop_features *f, const char **why)
{
	if (!f->buf_ring)
		*why = "kernel lacks provided-buffer rings";
	else if (!f->recvmsg_multishot)
		*why = "kernel lacks multishot recvmsg";
	else if (!f->accept_multishot)
		*why = "kernel lacks multishot accept";
	else
		*why = "kernel has provided-buffer rings, multishot recvmsg and accept";
	return f->buf_ring && f->recvmsg_multishot && f->accept_multishot;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	io_uring_queue_exit(&l->ring);
	free(l->heap);
	free(l);
}

uint64_t loop_now_ms(const struct loop *l)
{
	return l->now_ms;
}

void loop_update_now(struct loop *l)
{
	l->now_ms = clock_now_ms();
}

void loop_flush(struct loop *l)
{
	io_uring_submit(&l->ring);
}

/* A fresh SQE (submitting first if the queue is full) with user_data set to
 * op. Never NULL. */
static struct io_uring_sqe *loop_sqe(struct loop *l, struct loop_op *op)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);

	while (!sqe) {
		io_uring_submit(&l->ring);
		sqe = io_uring_get_sqe(&l->ring);
	}
	io_uring_sqe_set_data(sqe, op);
	return sqe;
}

void loop_recv(struct loop *l, struct loop_op *op, int fd, void *buf, size_t len)
{
	io_uring_prep_recv(loop_sqe(l, op), fd, buf, len, 0);
}

void loop_send(struct loop *l, struct loop_op *op, int fd, const void *buf, size_t len)
{
	io_uring_prep_send(loop_sqe(l, op), fd, buf, len, MSG_NOSIGNAL);
}

void loop_recvmsg(struct loop *l, struct loop_op *op, int fd, struct msghdr *msg)
{
	io_uring_prep_recvmsg(loop_sqe(l, op), fd, msg, 0);
}

void loop_sendmsg(struct loop *l, struct loop_op *op, int fd, const struct msghdr *msg)
{
	io_uring_prep_sendmsg(loop_sqe(l, op), fd, msg, MSG_NOSIGNAL);
}

void loop_read(struct loop *l, struct loop_op *op, int fd, void *buf, size_t len)
{
	io_uring_prep_read(loop_sqe(l, op), fd, buf, (unsigned)len, (uint64_t)-1);
}

void loop_poll(struct loop *l, struct loop_op *op, int fd, unsigned mask)
{
	io_uring_prep_poll_add(loop_sqe(l, op), fd, mask);
}

void loop_connect(struct loop *l, struct loop_op *op, int fd, const struct sockaddr *sa,
		  socklen_t len)
{
	io_uring_prep_connect(loop_sqe(l, op), fd, sa, len);
}

void loop_accept(struct loop *l, struct loop_op *op, int fd)
{
	io_uring_prep_accept(loop_sqe(l, op), fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

void loop_accept_multishot(struct loop *l, struct loop_op *op, int fd)
{
	io_uring_prep_multishot_accept(loop_sqe(l, op), fd, NULL, NULL,
				       SOCK_NONBLOCK | SOCK_CLOEXEC);
}

/* Cancellations complete on this op, whose callback ignores the result. */
static void cancel_done(struct loop *l, struct loop_op *op, int res, uint32_t flags)
{
	(void)l, (void)op, (void)res, (void)flags;
}

static struct loop_op cancel_op = {.fn = cancel_done};

void loop_cancel(struct loop *l, struct loop_op *target)
{
	struct io_uring_sqe *sqe = loop_sqe(l, &cancel_op);

	io_uring_prep_cancel(sqe, target, l->feat.cancel_all ? IORING_ASYNC_CANCEL_ALL : 0);
}

/* --- the probe ------------------------------------------------------------ */

/* Probe ops carry these user_data values, never a loop_op's address. */
enum { PROBE_OP = 1, PROBE_CANCEL = 2 };
#define PROBE_BGID 0xfffe
#define PROBE_WAIT_MS 1000

/* Submit what is queued and wait for the next probe completion. 0 with
 * *ud, *res and *flags set, or -ETIME. */
static int probe_next(struct loop *l, uint64_t *ud, int *res, uint32_t *flags)
{
	uint64_t deadline = clock_now_ms() + PROBE_WAIT_MS;

	io_uring_submit(&l->ring);
	while (clock_now_ms() < deadline) {
		struct __kernel_timespec ts = {.tv_nsec = 100 * 1000 * 1000};
		struct io_uring_cqe *cqe;

		if (io_uring_wait_cqe_timeout(&l->ring, &cqe, &ts) < 0)
			continue;
		*ud = cqe->user_data;
		*res = cqe->res;
		*flags = cqe->flags;
		io_uring_cqe_seen(&l->ring, cqe);
		return 0;
	}
	return -ETIME;
}

/* Whether the multishot op PROBE_OP, just queued, stays armed after its
 * first completion (whose result is *first): a kernel without the feature
 * fails it (EINVAL) or, ignoring the flag, completes it once without
 * IORING_CQE_F_MORE. An armed op is cancelled and reaped before returning. */
static bool probe_multishot(struct loop *l, int *first)
{
	bool op_armed, cancel_pending = false, ok;
	uint32_t flags;
	uint64_t ud;
	int res;

	if (probe_next(l, &ud, first, &flags) < 0 || ud != PROBE_OP) {
		*first = -1;
		return false;
	}
	ok = *first >= 0 && (flags & IORING_CQE_F_MORE);
	op_armed = flags & IORING_CQE_F_MORE;
	if (op_armed) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);

		io_uring_prep_cancel64(sqe, PROBE_OP, 0);
		sqe->user_data = PROBE_CANCEL;
		cancel_pending = true;
	}
	while ((op_armed || cancel_pending) && probe_next(l, &ud, &res, &flags) == 0) {
		if (ud == PROBE_CANCEL)
			cancel_pending = false;
		else if (ud == PROBE_OP && !(flags & IORING_CQE_F_MORE))
			op_armed = false;
	}
	return ok;
}

static bool probe_cancel_all(struct loop *l)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);
	uint32_t flags;
	uint64_t ud;
	int res;

	/* Nothing carries user_data 0: a kernel that knows the flag reports
	 * how many it cancelled (0), one that does not fails it (EINVAL). */
	io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ALL);
	sqe->user_data = PROBE_CANCEL;
	return probe_next(l, &ud, &res, &flags) == 0 && res >= 0;
}

/* One datagram waits on a socketpair; a multishot recvmsg takes it. */
static bool probe_recvmsg_multishot(struct loop *l)
{
	struct msghdr tmpl = {0};
	struct loop_bufring *br;
	struct io_uring_sqe *sqe;
	int sv[2], res;
	bool ok;

	br = loop_bufring_new(l, PROBE_BGID, 1, 256);
	if (!br)
		return false;
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0) {
		loop_bufring_free(l, br);
		return false;
	}
	ok = send(sv[1], "x", 1, 0) == 1;
	if (ok) {
		sqe = io_uring_get_sqe(&l->ring);
		io_uring_prep_recvmsg_multishot(sqe, sv[0], &tmpl, 0);
		sqe->flags |= IOSQE_BUFFER_SELECT;
		sqe->buf_group = PROBE_BGID;
		sqe->user_data = PROBE_OP;
		ok = probe_multishot(l, &res);
	}
	close(sv[0]);
	close(sv[1]);
	loop_bufring_free(l, br);
	return ok;
}

/* One connection waits on a listening (autobound, abstract) unix socket; a
 * multishot accept takes it. */
static bool probe_accept_multishot(struct loop *l)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	socklen_t len = sizeof(sa_family_t);
	struct io_uring_sqe *sqe;
	int lfd, cfd = -1, res = -1;
	bool ok = false;

	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return false;
	if (bind(lfd, (struct sockaddr *)&sun, len) < 0 || listen(lfd, 1) < 0)
		goto out;
	len = sizeof(sun);
	if (getsockname(lfd, (struct sockaddr *)&sun, &len) < 0)
		goto out;
	cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cfd < 0 || connect(cfd, (struct sockaddr *)&sun, len) < 0)
		goto out;
	sqe = io_uring_get_sqe(&l->ring);
	io_uring_prep_multishot_accept(sqe, lfd, NULL, NULL, SOCK_CLOEXEC);
	sqe->user_data = PROBE_OP;
	ok = probe_multishot(l, &res);
	if (res >= 0)
		close(res);
out:
	if (cfd >= 0)
		close(cfd);
	close(lfd);
	return ok;
}

/* The one-shot operations glued uses everywhere (the 5.10 baseline);
 * TIMEOUT is liburing's way to wait with a timeout without EXT_ARG. */
static const struct {
	uint8_t op;
	const char *name;
} baseline_ops[] = {
    {IORING_OP_RECV, "IORING_OP_RECV"},
    {IORING_OP_SEND, "IORING_OP_SEND"},
    {IORING_OP_RECVMSG, "IORING_OP_RECVMSG"},
    {IORING_OP_SENDMSG, "IORING_OP_SENDMSG"},
    {IORING_OP_READ, "IORING_OP_READ"},
    {IORING_OP_POLL_ADD, "IORING_OP_POLL_ADD"},
    {IORING_OP_ACCEPT, "IORING_OP_ACCEPT"},
    {IORING_OP_CONNECT, "IORING_OP_CONNECT"},
    {IORING_OP_ASYNC_CANCEL, "IORING_OP_ASYNC_CANCEL"},
    {IORING_OP_TIMEOUT, "IORING_OP_TIMEOUT"},
};

/* The first baseline operation the kernel does not know, or NULL. */
static const char *baseline_missing(struct loop *l)
{
	struct io_uring_probe *pr = io_uring_get_probe_ring(&l->ring);
	const char *missing = NULL;

	if (!pr)
		return "the opcode probe (IORING_REGISTER_PROBE)";
	for (size_t i = 0; i < sizeof(baseline_ops) / sizeof(baseline_ops[0]) && !missing; i++)
		if (!io_uring_opcode_supported(pr, baseline_ops[i].op))
			missing = baseline_ops[i].name;
	io_uring_free_probe(pr);
	return missing;
}

/* Runs on the fresh ring, before any loop op exists. */
static void probe(struct loop *l)
{
	struct loop_bufring *br;

	l->feat.cancel_all = probe_cancel_all(l);
	br = loop_bufring_new(l, PROBE_BGID, 1, 256);
	l->feat.buf_ring = br != NULL;
	loop_bufring_free(l, br);
	if (l->feat.buf_ring)
		l->feat.recvmsg_multishot = probe_recvmsg_multishot(l);
	l->feat.accept_multishot = probe_accept_multishot(l);
}

/* --- timers: a binary min-heap on deadline_ms -------------------------- */

static void heap_swap(struct loop *l, size_t a, size_t b)
{
	struct loop_timer *t = l->heap[a];

	l->heap[a] = l->heap[b];
	l->heap[b] = t;
	l->heap[a]->heap_idx = a;
	l->heap[b]->heap_idx = b;
}

static void heap_up(struct loop *l, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (l->heap[parent]->deadline_ms <= l->heap[i]->deadline_ms)
			break;
		heap_swap(l, i, parent);
		i = parent;
	}
}

static void heap_down(struct loop *l, size_t i)
{
	for (;;) {
		size_t left = 2 * i + 1, right = left + 1, min = i;
		if (left < l->n_timers && l->heap[left]->deadline_ms < l->heap[min]->deadline_ms)
			min = left;
		if (right < l->n_timers && l->heap[right]->deadline_ms < l->heap[min]->deadline_ms)
			min = right;
		if (min == i)
			break;
		heap_swap(l, i, min);
		i = min;
	}
}

void loop_timer_init(struct loop_timer *t, loop_timer_fn fn, void *ctx)
{
	t->fn = fn;
	t->ctx = ctx;
	t->deadline_ms = 0;
	t->heap_idx = SIZE_MAX;
}

bool loop_timer_armed(const struct loop_timer *t)
{
	return t->heap_idx != SIZE_MAX;
}

void loop_timer_disarm(struct loop *l, struct loop_timer *t)
{
	size_t i = t->heap_idx;

	if (i == SIZE_MAX)
		return;
	l->n_timers--;
	if (i != l->n_timers) {
		l->heap[i] = l->heap[l->n_timers];
		l->heap[i]->heap_idx = i;
		heap_up(l, i);
		heap_down(l, l->heap[i]->heap_idx);
	}
	t->heap_idx = SIZE_MAX;
}

void loop_timer_arm(struct loop *l, struct loop_timer *t, uint64_t deadline_ms)
{
	loop_timer_disarm(l, t);
	if (l->n_timers == l->cap_timers) {
		size_t cap = l->cap_timers ? l->cap_timers * 2 : 64;
		struct loop_timer **heap = realloc(l->heap, cap * sizeof(*heap));
		if (!heap)
			abort(); /* a timer we cannot arm is a lost deadline */
		l->heap = heap;
		l->cap_timers = cap;
	}
	t->deadline_ms = deadline_ms;
	t->heap_idx = l->n_timers;
	l->heap[l->n_timers++] = t;
	heap_up(l, t->heap_idx);
}

void loop_timer_arm_in(struct loop *l, struct loop_timer *t, uint64_t delay_ms)
{
	loop_timer_arm(l, t, l->now_ms + delay_ms);
}

static void run_timers(struct loop *l)
{
	while (l->n_timers > 0 && l->heap[0]->deadline_ms <= l->now_ms) {
		struct loop_timer *t = l->heap[0];
		loop_timer_disarm(l, t);
		t->fn(l, t, l->now_ms);
	}
}

/* --- the loop ------------------------------------------------------------ */

void loop_stop(struct loop *l)
{
	l->stop = true;
}

/* One completion, copied out of the ring so that the ring's slots can be
 * handed back before any callback runs, whatever order they run in. */
struct loop_done {
	struct loop_op *op;
	int res;
	uint32_t flags;
};

/* Run the callbacks of the ops in done[0..n) whose `first` is `first`, in
 * the order they completed; how many ran. */
static size_t dispatch(struct loop *l, const struct loop_done *done, size_t n, bool first)
{
	size_t ran = 0;

	for (size_t i = 0; i < n; i++) {
		struct loop_op *op = done[i].op;

		if (!op || op->first != first)
			continue;
		op->fn(l, op, done[i].res, done[i].flags);
		ran++;
	}
	return ran;
}

/* Take at most LOOP_BATCH completions and serve them: the `first` ops,
 * whose new SQEs are submitted at once, then the others. */
static void serve_batch(struct loop *l)
{
	struct io_uring_cqe *cqes[LOOP_BATCH];
	struct loop_done done[LOOP_BATCH];
	unsigned n = io_uring_peek_batch_cqe(&l->ring, cqes, LOOP_BATCH);

	for (unsigned i = 0; i < n; i++) {
		struct loop_op *op = io_uring_cqe_get_data(cqes[i]);

		/* Without ext_arg liburing waits with a timeout SQE of its
		 * own; its completion is no loop_op. */
		if (cqes[i]->user_data == LIBURING_UDATA_TIMEOUT || (op && !op->fn))
			op = NULL;
		done[i] = (struct loop_done){op, cqes[i]->res, cqes[i]->flags};
	}
	/* Consume first: the callbacks queue new SQEs, and may need CQ room. */
	io_uring_cq_advance(&l->ring, n);
	/* The ops a callback reads here stay valid: an op's memory outlives
	 * its last completion (loop.h), and this batch holds only completions
	 * the kernel has already posted. */
	if (dispatch(l, done, n, true) > 0)
		io_uring_submit(&l->ring);
	(void)dispatch(l, done, n, false);
}

int loop_run(struct loop *l)
{
	struct io_uring_cqe *cqe;

	l->stop = false;
	while (!l->stop) {
		struct __kernel_timespec ts, *tsp = NULL;
		int ret;

		l->now_ms = clock_now_ms();
		run_timers(l);
		if (l->stop)
			break;
		if (l->n_timers > 0) {
			uint64_t wait = l->heap[0]->deadline_ms - l->now_ms;
			ts.tv_sec = (long long)(wait / 1000);
			ts.tv_nsec = (long long)(wait % 1000) * 1000000;
			tsp = &ts;
		}
		ret = io_uring_submit_and_wait_timeout(&l->ring, &cqe, 1, tsp, NULL);
		if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
			return ret;
		l->now_ms = clock_now_ms();
		/* One batch, not everything available: completions that keep
		 * coming (a flood) must not hold back the timers and the
		 * submission of what the batch queued. */
		serve_batch(l);
	}
	return 0;
}

/* --- provided buffer rings ------------------------------------------------ */

struct loop_bufring *loop_bufring_new(struct loop *l, uint16_t bgid, unsigned count, unsigned size)
{
	struct io_uring_buf_reg reg = {0};
	struct loop_bufring *br;
	void *mem;
	int ret;

	if (count == 0 || (count & (count - 1)) || count > 32768) {
		errno = EINVAL;
		return NULL;
	}
	br = calloc(1, sizeof(*br));
	if (!br)
		return NULL;
	br->ring_bytes = count * sizeof(struct io_uring_buf);
	mem =
	    mmap(NULL, br->ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (mem == MAP_FAILED)
		goto err_free;
	br->ring = mem;
	br->bufs = malloc((size_t)count * size);
	if (!br->bufs)
		goto err_unmap;
	br->count = count;
	br->size = size;
	br->bgid = bgid;
	br->mask = io_uring_buf_ring_mask(count);
	io_uring_buf_ring_init(br->ring);
	reg.ring_addr = (uint64_t)(uintptr_t)br->ring;
	reg.ring_entries = count;
	reg.bgid = bgid;
	ret = io_uring_register_buf_ring(&l->ring, &reg, 0);
	if (ret < 0) {
		errno = -ret;
		goto err_bufs;
	}
	for (unsigned i = 0; i < count; i++)
		io_uring_buf_ring_add(br->ring, br->bufs + (size_t)i * size, size, (uint16_t)i,
				      br->mask, (int)i);
	io_uring_buf_ring_advance(br->ring, (int)count);
	return br;

err_bufs: /* errno is set; free and a successful munmap leave it */
	free(br->bufs);
err_unmap:
	munmap(br->ring, br->ring_bytes);
err_free:
	free(br);
	return NULL;
}

void loop_bufring_free(struct loop *l, struct loop_bufring *br)
{
	if (!br)
		return;
	io_uring_unregister_buf_ring(&l->ring, br->bgid);
	munmap(br->ring, br->ring_bytes);
	free(br->bufs);
	free(br);
}

static void *bufring_get(struct loop_bufring *br, uint16_t bid)
{
	return br->bufs + (size_t)bid * br->size;
}

void loop_bufring_recycle(struct loop_bufring *br, uint16_t bid)
{
	io_uring_buf_ring_add(br->ring, bufring_get(br, bid), br->size, bid, br->mask, 0);
	io_uring_buf_ring_advance(br->ring, 1);
}

unsigned loop_bufring_size(const struct loop_bufring *br)
{
	return br->size;
}

void loop_recvmsg_multishot(struct loop *l, struct loop_op *op, int fd, const struct msghdr *tmpl,
			    struct loop_bufring *br)
{
	struct io_uring_sqe *sqe = loop_sqe(l, op);

	/* The kernel only reads msg_namelen and msg_controllen. */
	io_uring_prep_recvmsg_multishot(sqe, fd, (struct msghdr *)tmpl, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = br->bgid;
}

int loop_recvmsg_multishot_msg(struct loop_bufring *br, const struct msghdr *tmpl, int res,
			       uint32_t flags, struct msghdr *out, struct iovec *iov, uint16_t *bid)
{
	struct msghdr *t = (struct msghdr *)tmpl; /* liburing's helpers take it non-const */
	struct io_uring_recvmsg_out *o;

	if (!(flags & IORING_CQE_F_BUFFER))
		return -ENOBUFS;
	*bid = (uint16_t)(flags >> IORING_CQE_BUFFER_SHIFT);
	o = io_uring_recvmsg_validate(bufring_get(br, *bid), res, t);
	if (!o)
		return -EMSGSIZE;
	memset(out, 0, sizeof(*out));
	out->msg_name = io_uring_recvmsg_name(o);
	out->msg_namelen = o->namelen < tmpl->msg_namelen ? o->namelen : tmpl->msg_namelen;
	out->msg_control = (uint8_t *)out->msg_name + tmpl->msg_namelen;
	out->msg_controllen = o->controllen;
	out->msg_flags = (int)o->flags;
	iov->iov_base = io_uring_recvmsg_payload(o, t);
	iov->iov_len = io_uring_recvmsg_payload_length(o, res, t);
	out->msg_iov = iov;
	out->msg_iovlen = 1;
	return 0;
}
