/* io_uring event loop with a timer heap; see loop.h.
 *
 * Owns the ring and the timer heap, nothing else: it never interprets a
 * completion, it only hands it to the op's callback.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "io/loop.h"
#include "lib/clock.h"

struct loop {
	struct io_uring ring;
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

struct loop *loop_new(unsigned entries)
{
	struct io_uring_params p = { 0 };
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	/* Completions can outnumber submissions with multishot ops. */
	p.flags = IORING_SETUP_CQSIZE;
	p.cq_entries = entries * 8;
	if (io_uring_queue_init_params(entries, &l->ring, &p) < 0) {
		int saved = errno;
		free(l);
		errno = saved;
		return NULL;
	}
	l->now_ms = clock_now_ms();
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	io_uring_queue_exit(&l->ring);
	free(l->heap);
	free(l);
}

struct io_uring *loop_ring(struct loop *l)
{
	return &l->ring;
}

uint64_t loop_now_ms(const struct loop *l)
{
	return l->now_ms;
}

void loop_flush(struct loop *l)
{
	io_uring_submit(&l->ring);
}

struct io_uring_sqe *loop_sqe(struct loop *l, struct loop_op *op)
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

void loop_accept_multishot(struct loop *l, struct loop_op *op, int fd)
{
	io_uring_prep_multishot_accept(loop_sqe(l, op), fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

/* Cancellations complete on this op, whose callback ignores the result. */
static void cancel_done(struct loop *l, struct loop_op *op, int res, uint32_t flags)
{
	(void)l, (void)op, (void)res, (void)flags;
}

static struct loop_op cancel_op = { .fn = cancel_done };

void loop_cancel(struct loop *l, struct loop_op *target)
{
	struct io_uring_sqe *sqe = loop_sqe(l, &cancel_op);

	io_uring_prep_cancel(sqe, target, IORING_ASYNC_CANCEL_ALL);
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
	loop_timer_arm(l, t, clock_now_ms() + delay_ms);
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

int loop_run(struct loop *l)
{
	struct io_uring_cqe *cqes[256];

	l->stop = false;
	while (!l->stop) {
		struct __kernel_timespec ts, *tsp = NULL;
		unsigned n;
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
		ret = io_uring_submit_and_wait_timeout(&l->ring, cqes, 1, tsp, NULL);
		if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
			return ret;
		l->now_ms = clock_now_ms();
		/* Drain everything available, in batches. */
		while ((n = io_uring_peek_batch_cqe(&l->ring, cqes, 256)) > 0) {
			for (unsigned i = 0; i < n; i++) {
				struct loop_op *op = io_uring_cqe_get_data(cqes[i]);
				int res = cqes[i]->res;
				uint32_t flags = cqes[i]->flags;

				/* Consume first: the callback may queue new SQEs. */
				io_uring_cqe_seen(&l->ring, cqes[i]);
				if (op && op->fn)
					op->fn(l, op, res, flags);
			}
		}
	}
	return 0;
}

/* --- provided buffer rings ------------------------------------------------ */

struct loop_bufring *loop_bufring_new(struct loop *l, uint16_t bgid, unsigned count, unsigned size)
{
	struct io_uring_buf_reg reg = { 0 };
	struct loop_bufring *br;
	void *mem;

	if (count == 0 || (count & (count - 1)) || count > 32768) {
		errno = EINVAL;
		return NULL;
	}
	br = calloc(1, sizeof(*br));
	if (!br)
		return NULL;
	br->ring_bytes = count * sizeof(struct io_uring_buf);
	mem = mmap(NULL, br->ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
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
	if (io_uring_register_buf_ring(&l->ring, &reg, 0) < 0)
		goto err_bufs;
	for (unsigned i = 0; i < count; i++)
		io_uring_buf_ring_add(br->ring, br->bufs + (size_t)i * size, size, (uint16_t)i, br->mask,
				      (int)i);
	io_uring_buf_ring_advance(br->ring, (int)count);
	return br;

err_bufs:
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

void *loop_bufring_get(struct loop_bufring *br, uint16_t bid)
{
	return br->bufs + (size_t)bid * br->size;
}

void loop_bufring_recycle(struct loop_bufring *br, uint16_t bid)
{
	io_uring_buf_ring_add(br->ring, loop_bufring_get(br, bid), br->size, bid, br->mask, 0);
	io_uring_buf_ring_advance(br->ring, 1);
}

unsigned loop_bufring_size(const struct loop_bufring *br)
{
	return br->size;
}
