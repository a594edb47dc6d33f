/* Forwarder I/O edge over core/fwd.c: sockets, ring operations and timers.
 *
 * Owns one attempt object per upstream attempt (a fresh UDP socket on a
 * random port, connect()ed to the upstream, or a TCP connection for a TC=1
 * retry) and one timer per core slot. It must never decide anything about
 * DNS: every datagram, error and deadline goes to the core, which answers
 * through the send/done/reply callbacks below.
 *
 * Lifetime: an attempt's loop_ops stay valid until their completions
 * arrive, so an attempt that is over is "retired" (ops cancelled) and
 * freed, with its fd closed, only when its last completion comes back.
 * Closing the fd later rather than at once also keeps the fd number from
 * being reused under an operation still queued on it.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/fwd.h"
#include "io/forwarder.h"
#include "lib/log.h"
#include "lib/rand.h"

_Static_assert(FWD_UPSTREAMS_MAX == FWD_MAX_UPSTREAMS, "one upstream bound for core and edge");

#define UDP_RECV_BUF 4096 /* we advertise 1232; a larger datagram fails the scan */
#define BIND_TRIES 32

enum { OP_SEND = 1, OP_RECV = 2, OP_CONN = 4 };

struct fwd_attempt {
	struct forwarder *f;
	uint32_t slot;
	bool tcp, retired;
	int refs;	  /* operations in flight */
	unsigned pending; /* OP_* in flight, for cancelling */
	int fd;
	struct loop_op op_send, op_recv, op_conn;
	struct glued_endpoint to;
	struct sockaddr_storage to_ss, from_ss;
	socklen_t to_len;
	struct msghdr mh;
	struct iovec iov;
	size_t qlen, qsent; /* query bytes (TCP: with the 2-byte length) */
	size_t rlen, rcap;
	uint8_t *rbuf;
	uint8_t q[];
};

struct fwd_slot_io {
	struct forwarder *f;
	struct loop_timer timer;
	struct fwd_attempt *att;
	bool failed; /* the attempt could not even start: report an error */
};

struct forwarder {
	struct loop *l;
	struct fwd *core;
	struct forwarder_cfg cfg;
	dns_reply_fn reply;
	void *reply_ctx;
	struct fwd_slot_io *slots;
	struct dns_client *clients;
	uint32_t n_slots;
	struct log_ratelimit rl;
};

void forwarder_cfg_default(struct forwarder_cfg *cfg)
{
	struct fwd_cfg c;

	fwd_cfg_default(&c);
	cfg->cache_max_bytes = c.cache_max_bytes;
	cfg->attempt_ms = c.attempt_ms;
	cfg->total_ms = c.total_ms;
	cfg->max_inflight = c.max_inflight;
	cfg->neg_ttl_max_s = c.neg_ttl_max_s;
}

/* --- attempts --------------------------------------------------------------- */

static void att_put(struct fwd_attempt *a)
{
	if (--a->refs > 0 || !a->retired)
		return;
	if (a->fd >= 0)
		close(a->fd);
	free(a->rbuf);
	free(a);
}

/* The attempt is over: cancel what is in flight; freed on the last
 * completion (or now, if nothing is). */
static void att_retire(struct forwarder *f, struct fwd_attempt *a)
{
	a->retired = true;
	if (a->pending & OP_SEND)
		loop_cancel(f->l, &a->op_send);
	if (a->pending & OP_RECV)
		loop_cancel(f->l, &a->op_recv);
	if (a->pending & OP_CONN)
		loop_cancel(f->l, &a->op_conn);
	a->refs++; /* so that att_put does the freeing in one place */
	att_put(a);
}

static void slot_retire(struct forwarder *f, struct fwd_slot_io *si)
{
	loop_timer_disarm(f->l, &si->timer);
	si->failed = false;
	if (si->att) {
		att_retire(f, si->att);
		si->att = NULL;
	}
}

static void op_begin(struct fwd_attempt *a, unsigned op)
{
	a->refs++;
	a->pending |= op;
}

static void udp_recv_arm(struct fwd_attempt *a)
{
	a->iov.iov_base = a->rbuf;
	a->iov.iov_len = a->rcap;
	memset(&a->mh, 0, sizeof(a->mh));
	a->mh.msg_name = &a->from_ss;
	a->mh.msg_namelen = sizeof(a->from_ss);
	a->mh.msg_iov = &a->iov;
	a->mh.msg_iovlen = 1;
	op_begin(a, OP_RECV);
	loop_recvmsg(a->f->l, &a->op_recv, a->fd, &a->mh);
}

static void tcp_send_arm(struct fwd_attempt *a)
{
	op_begin(a, OP_SEND);
	loop_send(a->f->l, &a->op_send, a->fd, a->q + a->qsent, a->qlen - a->qsent);
}

static void tcp_recv_arm(struct fwd_attempt *a)
{
	op_begin(a, OP_RECV);
	loop_recv(a->f->l, &a->op_recv, a->fd, a->rbuf + a->rlen, a->rcap - a->rlen);
}

/* Report a failed attempt to the core, unless it is already over. */
static void att_error(struct fwd_attempt *a, int err)
{
	struct forwarder *f = a->f;
	char ep[ENDPOINT_STRLEN];

	if (a->retired)
		return;
	if (log_ratelimit_ok(&f->rl, loop_now_ms(f->l)))
		log_debug("forwarder: upstream %s over %s: %s",
			  endpoint_str(&a->to, ep, sizeof(ep)), a->tcp ? "tcp" : "udp",
			  glued_strerror(err));
	fwd_on_error(f->core, a->slot, loop_now_ms(f->l));
}

static void udp_recv_done(struct loop *l, struct loop_op *op, int res, uint32_t flags GLUED_UNUSED)
{
	struct fwd_attempt *a = op->ctx;
	struct glued_endpoint from;

	a->pending &= ~(unsigned)OP_RECV;
	if (a->retired) {
		att_put(a);
		return;
	}
	if (res < 0) {
		att_error(a, res);
		att_put(a);
		return;
	}
	/* The socket is connected, so the kernel already filtered the source;
	 * the core checks it again from the address recvmsg reports. */
	if (a->mh.msg_namelen == 0 ||
	    endpoint_from_sockaddr(&from, (struct sockaddr *)&a->from_ss, a->mh.msg_namelen) != 0)
		from = a->to;
	(void)fwd_on_reply(a->f->core, a->slot, &from, a->rbuf, (size_t)res, loop_now_ms(l));
	if (!a->retired)
		udp_recv_arm(a); /* a mismatch: keep waiting for the real answer */
	att_put(a);
}

static void send_done(struct loop *l GLUED_UNUSED, struct loop_op *op, int res,
		      uint32_t flags GLUED_UNUSED)
{
	struct fwd_attempt *a = op->ctx;

	a->pending &= ~(unsigned)OP_SEND;
	if (a->retired) {
		att_put(a);
		return;
	}
	if (res < 0) {
		att_error(a, res);
	} else if (a->tcp) {
		a->qsent += (size_t)res;
		if (a->qsent < a->qlen)
			tcp_send_arm(a);
		else
			tcp_recv_arm(a);
	}
	att_put(a);
}

static void tcp_conn_done(struct loop *l GLUED_UNUSED, struct loop_op *op, int res,
			  uint32_t flags GLUED_UNUSED)
{
	struct fwd_attempt *a = op->ctx;

	a->pending &= ~(unsigned)OP_CONN;
	if (a->retired) {
		att_put(a);
		return;
	}
	if (res < 0)
		att_error(a, res);
	else
		tcp_send_arm(a);
	att_put(a);
}

static void tcp_recv_done(struct loop *l, struct loop_op *op, int res, uint32_t flags GLUED_UNUSED)
{
	struct fwd_attempt *a = op->ctx;

	a->pending &= ~(unsigned)OP_RECV;
	if (a->retired) {
		att_put(a);
		return;
	}
	if (res <= 0) {
		att_error(a, res < 0 ? res : -ECONNRESET);
		att_put(a);
		return;
	}
	a->rlen += (size_t)res;
	/* Length-framed messages; a mismatching one is skipped and the
	 * stream read on, within the slot's deadline. */
	while (!a->retired && a->rlen >= 2) {
		size_t need = 2 + (size_t)(a->rbuf[0] << 8 | a->rbuf[1]);
		if (a->rlen < need)
			break;
		(void)fwd_on_reply(a->f->core, a->slot, &a->to, a->rbuf + 2, need - 2,
				   loop_now_ms(l));
		memmove(a->rbuf, a->rbuf + need, a->rlen - need);
		a->rlen -= need;
	}
	if (!a->retired)
		tcp_recv_arm(a);
	att_put(a);
}

static int udp_socket(const struct glued_endpoint *to, const struct sockaddr *sa, socklen_t salen)
{
	struct glued_endpoint local = {.addr = {.family = to->addr.family}};
	struct sockaddr_storage ss;
	int fd, err = -EADDRINUSE;

	fd = socket(to->addr.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A source port of our own choosing from getrandom, not the kernel's
	 * next ephemeral one. */
	for (int i = 0; i < BIND_TRIES && err == -EADDRINUSE; i++) {
		socklen_t len;

		local.port = (uint16_t)(1024 + rand_u32() % (65536 - 1024));
		len = endpoint_to_sockaddr(&local, &ss);
		err = bind(fd, (struct sockaddr *)&ss, len) == 0 ? 0 : -errno;
	}
	if (err == 0 && connect(fd, sa, salen) != 0)
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

static struct fwd_attempt *att_new(struct forwarder *f, uint32_t slot,
				   const struct glued_endpoint *to, bool tcp, const uint8_t *msg,
				   size_t len, int *err)
{
	size_t hdr = tcp ? 2 : 0;
	struct fwd_attempt *a = calloc(1, sizeof(*a) + hdr + len);

	*err = -ENOMEM;
	if (!a)
		return NULL;
	a->f = f;
	a->slot = slot;
	a->tcp = tcp;
	a->to = *to;
	a->to_len = endpoint_to_sockaddr(to, &a->to_ss);
	a->op_send = (struct loop_op){.fn = send_done, .ctx = a};
	a->op_recv = (struct loop_op){.fn = tcp ? tcp_recv_done : udp_recv_done, .ctx = a};
	a->op_conn = (struct loop_op){.fn = tcp_conn_done, .ctx = a};
	if (tcp) {
		a->q[0] = (uint8_t)(len >> 8);
		a->q[1] = (uint8_t)len;
	}
	memcpy(a->q + hdr, msg, len);
	a->qlen = hdr + len;
	a->rcap = tcp ? 2 + FWD_MSG_MAX : UDP_RECV_BUF;
	a->rbuf = malloc(a->rcap);
	if (!a->rbuf)
		goto err_free;
	if (tcp) {
		a->fd = socket(to->addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (a->fd < 0) {
			*err = -errno;
			goto err_rbuf;
		}
	} else {
		a->fd = udp_socket(to, (struct sockaddr *)&a->to_ss, a->to_len);
		if (a->fd < 0) {
			*err = a->fd;
			goto err_rbuf;
		}
	}
	return a;

err_rbuf:
	free(a->rbuf);
err_free:
	free(a);
	return NULL;
}

/* --- the core's callbacks ----------------------------------------------------- */

static void io_send(void *ctx, uint32_t slot, const struct glued_endpoint *to, bool tcp,
		    const uint8_t *msg, size_t len, uint64_t deadline_ms)
{
	struct forwarder *f = ctx;
	struct fwd_slot_io *si = &f->slots[slot];
	struct fwd_attempt *a;
	int err;

	slot_retire(f, si);
	a = att_new(f, slot, to, tcp, msg, len, &err);
	if (!a) {
		char ep[ENDPOINT_STRLEN];
		if (log_ratelimit_ok(&f->rl, loop_now_ms(f->l)))
			log_warnx("forwarder: socket for upstream %s: %s",
				  endpoint_str(to, ep, sizeof(ep)), glued_strerror(err));
		/* Not from inside the core's call: fail on the next turn. */
		si->failed = true;
		loop_timer_arm(f->l, &si->timer, loop_now_ms(f->l));
		return;
	}
	si->att = a;
	loop_timer_arm(f->l, &si->timer, deadline_ms);
	if (tcp) {
		op_begin(a, OP_CONN);
		loop_connect(f->l, &a->op_conn, a->fd, (struct sockaddr *)&a->to_ss, a->to_len);
	} else {
		udp_recv_arm(a);
		op_begin(a, OP_SEND);
		loop_send(f->l, &a->op_send, a->fd, a->q, a->qlen);
	}
}

static void io_done(void *ctx, uint32_t slot)
{
	struct forwarder *f = ctx;

	slot_retire(f, &f->slots[slot]);
}

static void io_reply(void *ctx, uint32_t waiter, const uint8_t *msg, size_t len)
{
	struct forwarder *f = ctx;

	f->reply(f->reply_ctx, &f->clients[waiter], msg, len);
}

static void io_upstream_state(void *ctx, uint32_t i, bool enabled)
{
	struct forwarder *f = ctx;
	char ep[ENDPOINT_STRLEN];

	endpoint_str(fwd_upstream(f->core, i, NULL), ep, sizeof(ep));
	if (enabled)
		log_info("forwarder: upstream %s answers its loop probe itself again; enabled", ep);
	else
		log_warnx("forwarder: upstream %s loops back to glued; disabled", ep);
}

static void slot_timer_fire(struct loop *l GLUED_UNUSED, struct loop_timer *t, uint64_t now_ms)
{
	struct fwd_slot_io *si = t->ctx;
	struct forwarder *f = si->f;
	uint32_t slot = (uint32_t)(si - f->slots);

	if (si->failed) {
		si->failed = false;
		fwd_on_error(f->core, slot, now_ms);
	} else {
		fwd_on_timeout(f->core, slot, now_ms);
	}
}

/* --- public API ---------------------------------------------------------------- */

struct forwarder *forwarder_new(struct loop *l, const struct forwarder_cfg *cfg, dns_reply_fn reply,
				void *reply_ctx)
{
	struct forwarder *f = calloc(1, sizeof(*f));
	struct fwd_io io = {.send = io_send,
			    .done = io_done,
			    .reply = io_reply,
			    .upstream_state = io_upstream_state};
	struct fwd_cfg ccfg;

	if (!f)
		return NULL;
	f->l = l;
	f->cfg = *cfg;
	f->reply = reply;
	f->reply_ctx = reply_ctx;
	f->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(1, 5);
	fwd_cfg_default(&ccfg);
	ccfg.cache_max_bytes = cfg->cache_max_bytes;
	ccfg.attempt_ms = cfg->attempt_ms ? cfg->attempt_ms : ccfg.attempt_ms;
	ccfg.total_ms = cfg->total_ms ? cfg->total_ms : ccfg.total_ms;
	if (cfg->max_inflight)
		ccfg.max_inflight = (uint32_t)cfg->max_inflight;
	ccfg.max_waiters = ccfg.max_inflight * 4;
	ccfg.neg_ttl_max_s = cfg->neg_ttl_max_s;
	f->n_slots = ccfg.max_inflight;
	f->slots = calloc(f->n_slots, sizeof(*f->slots));
	f->clients = calloc(ccfg.max_waiters, sizeof(*f->clients));
	if (!f->slots || !f->clients)
		goto err_free;
	for (uint32_t i = 0; i < f->n_slots; i++) {
		f->slots[i].f = f;
		loop_timer_init(&f->slots[i].timer, slot_timer_fire, &f->slots[i]);
	}
	io.ctx = f;
	f->core = fwd_new(&ccfg, &io, &rand_kernel);
	if (!f->core)
		goto err_free;
	return f;

err_free:
	free(f->clients);
	free(f->slots);
	free(f);
	return NULL;
}

void forwarder_free(struct forwarder *f)
{
	if (!f)
		return;
	/* Attempts still in flight free themselves when their cancelled ops
	 * complete, if the loop turns again; at exit they are simply gone. */
	for (uint32_t i = 0; i < f->n_slots; i++)
		slot_retire(f, &f->slots[i]);
	fwd_free(f->core);
	free(f->clients);
	free(f->slots);
	free(f);
}

/* The host's addresses, for matching a wildcard listening endpoint. */
static size_t local_addrs(struct glued_addr *out, size_t cap)
{
	struct ifaddrs *ifa, *i;
	size_t n = 0;

	if (getifaddrs(&ifa) != 0)
		return 0;
	for (i = ifa; i && n < cap; i = i->ifa_next) {
		struct glued_endpoint e;
		if (!i->ifa_addr ||
		    (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
			continue;
		if (endpoint_from_sockaddr(&e, i->ifa_addr,
					   i->ifa_addr->sa_family == AF_INET
					       ? sizeof(struct sockaddr_in)
					       : sizeof(struct sockaddr_in6)) == 0)
			out[n++] = e.addr;
	}
	freeifaddrs(ifa);
	return n;
}

size_t forwarder_set_upstreams(struct forwarder *f, const struct glued_endpoint *ups, size_t n,
			       const struct glued_endpoint *self, size_t n_self, const char *from)
{
	struct glued_endpoint keep[FWD_UPSTREAMS_MAX];
	struct glued_addr local[64];
	size_t n_local = local_addrs(local, 64), k = 0;
	char ep[ENDPOINT_STRLEN];

	for (size_t i = 0; i < n; i++) {
		endpoint_str(&ups[i], ep, sizeof(ep));
		if (fwd_upstream_is_self(&ups[i], self, n_self, local, n_local)) {
			log_warnx(
			    "forwarder: upstream %s is glued's own listening address; skipped", ep);
			continue;
		}
		if (k == FWD_UPSTREAMS_MAX) {
			log_warnx("forwarder: upstream %s: more than %d upstreams; ignored", ep,
				  FWD_UPSTREAMS_MAX);
			continue;
		}
		keep[k++] = ups[i];
		log_info("forwarder: upstream %s (from %s)", ep, from);
	}
	fwd_set_upstreams(f->core, keep, k);
	return k;
}

void forwarder_query(struct forwarder *f, const struct dns_client *c, const struct dns_query *q,
		     const uint8_t *msg, size_t len)
{
	uint16_t limit = c->limit;
	const uint8_t *out;
	size_t out_len;
	uint32_t w;

	(void)msg, (void)len; /* the core works from the parsed query */
	if (limit == 0) {
		if (c->transport == DNS_TCP)
			limit = DNS_TCP_MAX;
		else if (!q->edns || q->edns_udp_size <= DNS_UDP_MIN)
			limit = DNS_UDP_MIN;
		else
			limit = q->edns_udp_size < DNS_UDP_MAX ? q->edns_udp_size : DNS_UDP_MAX;
	}
	if (fwd_query(f->core, q, &c->peer.addr, limit, loop_now_ms(f->l), &w, &out, &out_len) ==
	    FWD_REPLY)
		f->reply(f->reply_ctx, c, out, out_len);
	else
		f->clients[w] = *c;
}

void forwarder_probe_loops(struct forwarder *f)
{
	size_t n = fwd_probe(f->core, loop_now_ms(f->l));

	log_debug("forwarder: loop probe sent to %zu upstreams", n);
}

bool forwarder_is_probe(struct forwarder *f, const struct dns_query *q)
{
	return fwd_is_probe(f->core, q->qname, q->qname_len, loop_now_ms(f->l)) >= 0;
}

void forwarder_get_stats(const struct forwarder *f, struct fwd_stats *st)
{
	fwd_get_stats(f->core, st);
}

size_t forwarder_get_upstreams(const struct forwarder *f, struct forwarder_upstream *out,
			       size_t max)
{
	size_t n = fwd_upstream_count(f->core);

	if (n > max)
		n = max;
	for (size_t i = 0; i < n; i++)
		out[i].ep = *fwd_upstream(f->core, i, &out[i].disabled);
	return n;
}
