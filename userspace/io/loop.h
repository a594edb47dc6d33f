/* The event loop: one io_uring, timers, and completions dispatched to
 * callbacks. Single-threaded; every fd and completion belongs to it.
 *
 * An operation is a struct loop_op embedded in the caller's state; its
 * address is the SQE's user_data, so the memory must stay valid until the
 * completion arrives (for a cancelled op: until its -ECANCELED completion).
 * Multishot ops complete many times; LOOP_F_MORE in `flags` says more
 * will come. Timers are a min-heap; the loop sleeps in
 * io_uring_submit_and_wait_timeout() until the earliest deadline.
 * SQEs are batched: nothing is submitted until the loop waits, or until
 * the submission queue is full.
 *
 * One turn of the loop: run the timers that are due, submit and wait, then
 * take at most LOOP_BATCH completions; of those, the ops marked `first`
 * (the gossip sockets) are served before the others and what they queued
 * is submitted at once, then the rest in the order they came. So however
 * many DNS completions a flood brings, a gossip datagram waits for at most
 * the one batch it arrived with, and timers run at least once a batch.
 *
 * The kernel's io_uring is probed once, in loop_new(), by trying each
 * feature beyond the 5.10 baseline (loop_features()); never by version
 * numbers. Callers pick their receive style from the result. Only loop.c
 * includes liburing: everything a caller needs is wrapped here.
 */
#ifndef GLUED_IO_LOOP_H
#define GLUED_IO_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/err.h"

struct loop;
struct loop_op;

/* res: the CQE result (bytes, fd, or -errno); flags: CQE flags, of which
 * callers need only LOOP_F_MORE: a multishot op will complete again. */
#define LOOP_F_MORE (1U << 1) /* IORING_CQE_F_MORE, checked in loop.c */

typedef void (*loop_op_fn)(struct loop *l, struct loop_op *op, int res, uint32_t flags);

struct loop_op {
	loop_op_fn fn;
	void *ctx;
	bool first; /* served before the other completions of its turn */
};

/* Completions taken per turn, at most (see the top of this file). */
#define LOOP_BATCH 256

struct loop_timer;
typedef void (*loop_timer_fn)(struct loop *l, struct loop_timer *t, uint64_t now_ms);

struct loop_timer {
	loop_timer_fn fn;
	void *ctx;
	uint64_t deadline_ms;
	size_t heap_idx; /* SIZE_MAX when not armed */
};

/* What this kernel's io_uring can do beyond the 5.10 baseline (one-shot
 * recv/send/recvmsg/sendmsg/read/poll/accept/connect/cancel, timeouts).
 * The kernel release that added each is noted for the reader only. */
struct loop_features {
	bool ext_arg;		/* waits take a timeout argument (5.11); without
				 * it liburing queues a timeout SQE per wait */
	bool cancel_all;	/* IORING_ASYNC_CANCEL_ALL (5.19) */
	bool buf_ring;		/* provided-buffer rings can be registered (5.19) */
	bool recvmsg_multishot; /* a recvmsg stays armed (6.0) */
	bool accept_multishot;	/* an accept stays armed (5.19) */
};

/* A ring of `entries` SQEs, probed (see loop_features). NULL with errno set
 * to what io_uring_setup returned, or to EOPNOTSUPP when the kernel lacks
 * an operation of the baseline (logged by name: only the loop knows it). */
struct loop *loop_new(unsigned entries) GLUED_MUST_CHECK_PTR;
void loop_free(struct loop *l);
const struct loop_features *loop_features(const struct loop *l);

/* Whether multishot receive (recvmsg into a provided-buffer ring) and
 * multishot accept can be used with features f; *why (never NULL) names
 * the missing feature, or says that all are there, in words for a log
 * line. Pure. */
bool loop_multishot_ok(const struct loop_features *f, const char **why);

/* Submit what is queued now (normally the loop does it). */
void loop_flush(struct loop *l);

/* Convenience preps; the op's fn gets the completion. */
void loop_recv(struct loop *l, struct loop_op *op, int fd, void *buf, size_t len);
void loop_send(struct loop *l, struct loop_op *op, int fd, const void *buf, size_t len);
void loop_recvmsg(struct loop *l, struct loop_op *op, int fd, struct msghdr *msg);
void loop_sendmsg(struct loop *l, struct loop_op *op, int fd, const struct msghdr *msg);
void loop_read(struct loop *l, struct loop_op *op, int fd, void *buf, size_t len);
void loop_poll(struct loop *l, struct loop_op *op, int fd, unsigned mask);
void loop_connect(struct loop *l, struct loop_op *op, int fd, const struct sockaddr *sa,
		  socklen_t len);
/* One connection; the fd is SOCK_NONBLOCK | SOCK_CLOEXEC. */
void loop_accept(struct loop *l, struct loop_op *op, int fd);
/* Needs features->accept_multishot. */
void loop_accept_multishot(struct loop *l, struct loop_op *op, int fd);
/* Cancel the pending ops whose user_data is target (every one where the
 * kernel has cancel_all, else the first: give each pending op its own
 * loop_op); the target's fn still gets its completion (-ECANCELED, or the
 * result if it raced). */
void loop_cancel(struct loop *l, struct loop_op *target);

/* Timers, in CLOCK_MONOTONIC milliseconds (lib/clock.h). Arming an armed
 * timer moves it. loop_timer_arm_in counts from loop_now_ms(), the time
 * every callback of this wake-up was given; outside a callback (set-up
 * before loop_run) that is the time of loop_new() or of the last wake-up,
 * so such a timer can fire early by the time that has passed since. */
void loop_timer_init(struct loop_timer *t, loop_timer_fn fn, void *ctx);
void loop_timer_arm(struct loop *l, struct loop_timer *t, uint64_t deadline_ms);
void loop_timer_arm_in(struct loop *l, struct loop_timer *t, uint64_t delay_ms);
void loop_timer_disarm(struct loop *l, struct loop_timer *t);
bool loop_timer_armed(const struct loop_timer *t);

/* The loop's idea of now, refreshed once per wake-up. */
uint64_t loop_now_ms(const struct loop *l);
/* Refresh it from the clock now: for code that calls in from outside a
 * callback (set-up before loop_run, tests) after time has passed. */
void loop_update_now(struct loop *l);

/* Run until loop_stop(). Returns 0, or -errno if io_uring fails. */
int loop_run(struct loop *l) GLUED_MUST_CHECK;
void loop_stop(struct loop *l);

/* Provided-buffer rings (for multishot receives; needs features->buf_ring):
 * `count` buffers (a power of two) of `size` bytes under buffer group
 * `bgid`. NULL with errno set to the kernel's answer (EINVAL: no rings). */
struct loop_bufring;
struct loop_bufring *loop_bufring_new(struct loop *l, uint16_t bgid, unsigned count,
				      unsigned size) GLUED_MUST_CHECK_PTR;
void loop_bufring_free(struct loop *l, struct loop_bufring *br);
/* Hand buffer bid back to the kernel (after its completion is processed). */
void loop_bufring_recycle(struct loop_bufring *br, uint16_t bid);
unsigned loop_bufring_size(const struct loop_bufring *br);

/* Multishot recvmsg on fd into br's buffers (needs features->
 * recvmsg_multishot). tmpl gives only msg_namelen and msg_controllen, the
 * room reserved in each buffer; it must outlive the op. */
void loop_recvmsg_multishot(struct loop *l, struct loop_op *op, int fd, const struct msghdr *tmpl,
			    struct loop_bufring *br);
/* The datagram of one successful multishot recvmsg completion (res, flags),
 * laid out in *out as recvmsg(2) would: msg_name/msg_namelen (the stored
 * part of the address), msg_control/msg_controllen, msg_flags, and the
 * payload as out->msg_iov[0] (iov is that iovec). *bid is the buffer, to be
 * recycled after use: also on error, when *bid is set. 0, -ENOBUFS when the
 * completion carries no buffer, -EMSGSIZE when the buffer is malformed. */
int loop_recvmsg_multishot_msg(struct loop_bufring *br, const struct msghdr *tmpl, int res,
			       uint32_t flags, struct msghdr *out, struct iovec *iov,
			       uint16_t *bid) GLUED_MUST_CHECK;

#endif
