/* Test of io/loop.c on the running kernel: the multishot decision as a
 * table, the probe's findings against what the ring then does, errors from
 * liburing reported with the code it returned (not a stale errno),
 * loop_timer_arm_in counting from the loop's time, cancellation, and the
 * order of one turn (ops marked first before the others, one batch of
 * completions per turn).
 *
 * Which features the probe finds depends on the kernel; the assertions
 * only tie each finding to its consequence, so the test holds on any. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/loop.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "t.h"

static const struct {
	const char *what;
	struct loop_features f;
	bool ok;
	const char *why;
} decisions[] = {
    {"a kernel with everything takes multishot",
     {.buf_ring = true, .recvmsg_multishot = true, .accept_multishot = true},
     true,
     "kernel has provided-buffer rings, multishot recvmsg and accept"},
    {"5.10-like: nothing beyond the baseline", {0}, false, "kernel lacks provided-buffer rings"},
    {"5.19-like: rings and multishot accept, no multishot recvmsg",
     {.buf_ring = true, .accept_multishot = true, .cancel_all = true},
     false,
     "kernel lacks multishot recvmsg"},
    {"multishot recvmsg without multishot accept",
     {.buf_ring = true, .recvmsg_multishot = true},
     false,
     "kernel lacks multishot accept"},
    {"no rings outranks the rest",
     {.recvmsg_multishot = true, .accept_multishot = true},
     false,
     "kernel lacks provided-buffer rings"},
};

struct timer_probe {
	struct loop_timer first, second;
	uint64_t first_now;
};

static void second_fire(struct loop *l, struct loop_timer *t GLUED_UNUSED,
			uint64_t now_ms GLUED_UNUSED)
{
	loop_stop(l);
}

static void first_fire(struct loop *l, struct loop_timer *t, uint64_t now_ms)
{
	struct timer_probe *p = t->ctx;

	p->first_now = now_ms;
	loop_timer_arm_in(l, &p->second, 5);
}

struct recv_probe {
	struct loop_op op;
	int res, calls;
};

static void recv_done(struct loop *l GLUED_UNUSED, struct loop_op *op, int res,
		      uint32_t flags GLUED_UNUSED)
{
	struct recv_probe *r = op->ctx;

	r->res = res;
	r->calls++;
}

static void guard_fire(struct loop *l, struct loop_timer *t GLUED_UNUSED,
		       uint64_t now_ms GLUED_UNUSED)
{
	loop_stop(l);
}

/* --- the order of one turn --------------------------------------------- */

struct order_probe {
	char log[8];
	size_t n;
	int notice_fd;	 /* the first op's send lands here */
	int notice_seen; /* whether the others found it already sent */
	int send_fd;
	struct loop_op send_op;
	uint8_t byte;
};

struct order_op {
	struct loop_op op;
	struct order_probe *p;
	char tag;
	uint8_t byte;
};

static void order_done(struct loop *l, struct loop_op *op, int res GLUED_UNUSED,
		       uint32_t flags GLUED_UNUSED)
{
	struct order_op *o = op->ctx;
	struct order_probe *p = o->p;
	uint8_t b;

	if (p->n < sizeof(p->log))
		p->log[p->n++] = o->tag;
	if (op->first) {
		loop_send(l, &p->send_op, p->send_fd, "!", 1);
		return;
	}
	if (recv(p->notice_fd, &b, 1, MSG_DONTWAIT) == 1)
		p->notice_seen++;
}

static void ignore_done(struct loop *l GLUED_UNUSED, struct loop_op *op GLUED_UNUSED,
			int res GLUED_UNUSED, uint32_t flags GLUED_UNUSED)
{
}

struct batch_probe {
	struct loop_op ops[LOOP_BATCH + 44];
	uint8_t bytes[LOOP_BATCH + 44];
	size_t done, done_at_timer;
	struct loop_timer due;
};

static void batch_timer(struct loop *l GLUED_UNUSED, struct loop_timer *t,
			uint64_t now_ms GLUED_UNUSED)
{
	struct batch_probe *b = t->ctx;

	b->done_at_timer = b->done;
}

static void batch_done(struct loop *l, struct loop_op *op, int res GLUED_UNUSED,
		       uint32_t flags GLUED_UNUSED)
{
	struct batch_probe *b = op->ctx;

	if (b->done++ == 0)
		loop_timer_arm(l, &b->due, clock_now_ms());
}

int main(void)
{
	const struct loop_features *f;
	struct loop *l;

	log_init(LOG_LVL_ERROR, false);
	for (size_t i = 0; i < sizeof(decisions) / sizeof(decisions[0]); i++) {
		T_CASE(decisions[i].what)
		{
			const char *why = NULL;

			T_EQ_INT(loop_multishot_ok(&decisions[i].f, &why), decisions[i].ok);
			T_EQ_STR(why, decisions[i].why);
		}
	}

	T_CASE("a ring the kernel refuses reports its code, not a stale errno")
	{
		errno = ENOENT;
		l = loop_new(0); /* io_uring_setup: entries must be > 0 */
		T_ASSERT(l == NULL, "no loop of 0 entries");
		T_EQ_INT(errno, EINVAL);
		loop_free(l);
	}

	l = loop_new(64);
	T_ASSERT(l != NULL, "loop created: %s", strerror(errno));
	if (!l)
		return t_summary();
	f = loop_features(l);
	fprintf(stderr,
		"# probe: ext_arg %d cancel_all %d buf_ring %d recvmsg_multishot %d "
		"accept_multishot %d\n",
		f->ext_arg, f->cancel_all, f->buf_ring, f->recvmsg_multishot, f->accept_multishot);

	T_CASE("multishot recvmsg is found only with provided-buffer rings")
	T_ASSERT(!f->recvmsg_multishot || f->buf_ring, "recvmsg_multishot without buf_ring");

	T_CASE("a buffer ring registers exactly where the probe found rings")
	{
		struct loop_bufring *a, *b;

		errno = ENOENT;
		a = loop_bufring_new(l, 7, 4, 64);
		T_EQ_INT(a != NULL, f->buf_ring);
		if (!a) {
			T_EQ_INT(errno, EINVAL);
		} else {
			/* The same group twice: the kernel's EEXIST, not errno's ENOENT. */
			errno = ENOENT;
			b = loop_bufring_new(l, 7, 4, 64);
			T_ASSERT(b == NULL, "a second ring for group 7");
			T_EQ_INT(errno, EEXIST);
			loop_bufring_free(l, b);
		}
		loop_bufring_free(l, a);
	}

	T_CASE("loop_timer_arm_in counts from the loop's time of this wake-up")
	{
		struct timer_probe p = {0};

		loop_timer_init(&p.first, first_fire, &p);
		loop_timer_init(&p.second, second_fire, &p);
		loop_timer_arm(l, &p.first, clock_now_ms());
		T_EQ_INT(loop_run(l), 0);
		T_EQ_INT(p.second.deadline_ms, p.first_now + 5);
	}

	T_CASE("a cancelled receive completes once, with ECANCELED")
	{
		struct recv_probe r = {.op = {.fn = recv_done, .ctx = &r}};
		struct loop_timer guard;
		uint8_t buf[16];
		int sv[2];

		T_ASSERT(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0, "socketpair");
		loop_timer_init(&guard, guard_fire, NULL);
		loop_recv(l, &r.op, sv[0], buf, sizeof(buf));
		loop_flush(l);
		loop_cancel(l, &r.op);
		loop_timer_arm(l, &guard, clock_now_ms() + 200);
		T_EQ_INT(loop_run(l), 0);
		T_EQ_INT(r.calls, 1);
		T_EQ_INT(r.res, -ECANCELED);
		close(sv[0]);
		close(sv[1]);
	}

	loop_free(l);

	/* A ring large enough that every op below is queued before one submit. */
	l = loop_new(512);
	T_ASSERT(l != NULL, "loop of 512: %s", strerror(errno));
	if (!l)
		return t_summary();

	T_CASE("an op marked first is served before the turn's other completions, "
	       "and what it queued is sent before they run")
	{
		struct order_probe p = {.send_op = {.fn = ignore_done}};
		struct order_op ops[4];
		struct loop_timer guard;
		int a[2], b[2], c[2];

		T_ASSERT(pipe(a) == 0 && pipe(b) == 0, "pipes");
		T_ASSERT(socketpair(AF_UNIX, SOCK_DGRAM, 0, c) == 0, "socketpair");
		p.send_fd = c[0];
		p.notice_fd = c[1];
		T_ASSERT(write(a[1], "aaa", 3) == 3 && write(b[1], "b", 1) == 1, "write");
		/* Three plain reads queued before the first one: each completes
		 * at once, in the order queued. */
		for (int i = 0; i < 4; i++) {
			ops[i] = (struct order_op){
			    .op = {.fn = order_done, .ctx = &ops[i], .first = i == 3},
			    .p = &p,
			    .tag = i == 3 ? 'F' : (char)('1' + i)};
			loop_read(l, &ops[i].op, i == 3 ? b[0] : a[0], &ops[i].byte, 1);
		}
		loop_timer_init(&guard, guard_fire, NULL);
		loop_timer_arm(l, &guard, clock_now_ms() + 100);
		T_EQ_INT(loop_run(l), 0);
		T_EQ_INT(p.n, 4);
		T_EQ_STR(p.log, "F123");
		T_EQ_INT(p.notice_seen, 1); /* the first plain op found the send done */
		close(a[0]), close(a[1]), close(b[0]), close(b[1]), close(c[0]), close(c[1]);
	}

	T_CASE("a turn takes at most LOOP_BATCH completions: a timer that fell due "
	       "during the batch runs before the rest")
	{
		static struct batch_probe b;
		static uint8_t fill[LOOP_BATCH + 44];
		const size_t n = sizeof(b.ops) / sizeof(b.ops[0]);
		struct loop_timer guard;
		int pp[2];

		T_ASSERT(pipe(pp) == 0, "pipe");
		T_ASSERT(write(pp[1], fill, n) == (ssize_t)n, "write");
		loop_timer_init(&b.due, batch_timer, &b);
		for (size_t i = 0; i < n; i++) {
			b.ops[i] = (struct loop_op){.fn = batch_done, .ctx = &b};
			loop_read(l, &b.ops[i], pp[0], &b.bytes[i], 1);
		}
		loop_timer_init(&guard, guard_fire, NULL);
		loop_timer_arm(l, &guard, clock_now_ms() + 100);
		T_EQ_INT(loop_run(l), 0);
		T_EQ_INT(b.done, n);
		T_EQ_INT(b.done_at_timer, LOOP_BATCH);
		close(pp[0]);
		close(pp[1]);
	}

	loop_free(l);
	return t_summary();
}
