/* The event loop: one io_uring, timers, and completions dispatched to
 * callbacks. Single-threaded; every fd and completion belongs to it.
 *
 * An operation is a struct loop_op embedded in the caller's state; its
 * address is the SQE's user_data, so the memory must stay valid until the
 * completion arrives (for a cancelled op: until its -ECANCELED completion).
 * Multishot ops complete many times; IORING_CQE_F_MORE in `flags` says more
 * will come. Timers are a min-heap; the loop sleeps in
 * io_uring_submit_and_wait_timeout() until the earliest deadline.
 * SQEs are batched: nothing is submitted until the loop waits, or until
 * the submission queue is full.
 */
#ifndef GLUED_IO_LOOP_H
#define GLUED_IO_LOOP_H

#include <liburing.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

struct loop;
struct loop_op;

/* res: the CQE result (bytes, fd, or -errno); flags: CQE flags. */
typedef void (*loop_op_fn)(struct loop *l, struct loop_op *op, int res, uint32_t flags);

struct loop_op {
	loop_op_fn fn;
	void *ctx;
};

struct loop_timer;
typedef void (*loop_timer_fn)(struct loop *l, struct loop_timer *t, uint64_t now_ms);

struct loop_timer {
	loop_timer_fn fn;
	void *ctx;
	uint64_t deadline_ms;
	size_t heap_idx; /* SIZE_MAX when not armed */
};

struct loop *loop_new(unsigned entries) GLUED_MUST_CHECK_PTR;
void loop_free(struct loop *l);
struct io_uring *loop_ring(struct loop *l);

/* A fresh SQE (submitting first if the queue is full) with user_data set to
 * op. Never NULL. */
struct io_uring_sqe *loop_sqe(struct loop *l, struct loop_op *op);
/* Submit what is queued now (normally the loop does it). */
void loop_flush(struct loop *l);

/* Convenience preps; the op's fn gets the completion. */
void loop_recv(struct loop *l, struct loop_op *op, int fd, void *buf, size_t len);
void loop_send(struct loop *l, struct loop_op *op, int fd, const void *buf, size_t len);
void loop_recvmsg(struct loop *l, struct loop_op *op, int fd, struct msghdr *msg);
void loop_sendmsg(struct loop *l, struct loop_op *op, int fd, const struct msghdr *msg);
void loop_read(struct loop *l, struct loop_op *op, int fd, void *buf, size_t len);
void loop_poll(struct loop *l, struct loop_op *op, int fd, unsigned mask);
void loop_accept_multishot(struct loop *l, struct loop_op *op, int fd);
/* Cancel every pending op whose user_data is target; the target's fn still
 * gets its completion (-ECANCELED, or the result if it raced). */
void loop_cancel(struct loop *l, struct loop_op *target);

/* Timers, in CLOCK_MONOTONIC milliseconds (lib/clock.h). Arming an armed
 * timer moves it. */
void loop_timer_init(struct loop_timer *t, loop_timer_fn fn, void *ctx);
void loop_timer_arm(struct loop *l, struct loop_timer *t, uint64_t deadline_ms);
void loop_timer_arm_in(struct loop *l, struct loop_timer *t, uint64_t delay_ms);
void loop_timer_disarm(struct loop *l, struct loop_timer *t);
bool loop_timer_armed(const struct loop_timer *t);

/* The loop's idea of now, refreshed once per wake-up. */
uint64_t loop_now_ms(const struct loop *l);

/* Run until loop_stop(). Returns 0, or -errno if io_uring fails. */
int loop_run(struct loop *l) GLUED_MUST_CHECK;
void loop_stop(struct loop *l);

/* Provided-buffer rings (for multishot receives): `count` buffers (a power
 * of two) of `size` bytes under buffer group `bgid`. */
struct loop_bufring;
struct loop_bufring *loop_bufring_new(struct loop *l, uint16_t bgid, unsigned count,
				      unsigned size) GLUED_MUST_CHECK_PTR;
void loop_bufring_free(struct loop *l, struct loop_bufring *br);
void *loop_bufring_get(struct loop_bufring *br, uint16_t bid);
/* Hand buffer bid back to the kernel (after its completion is processed). */
void loop_bufring_recycle(struct loop_bufring *br, uint16_t bid);
unsigned loop_bufring_size(const struct loop_bufring *br);

#endif
