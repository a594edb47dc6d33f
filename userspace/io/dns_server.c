/* DNS listeners on io_uring; see dns_server.h.
 *
 * This file owns the sockets, the receive buffers and the send slots. It
 * decides nothing about DNS: every query goes to dns_answer(), and what it
 * returns is sent, forwarded or refused. Per-packet work allocates nothing:
 * receive buffers come from a provided-buffer ring, replies are built
 * straight into preallocated send slots.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/dns_wire.h"
#include "io/dns_server.h"
#include "lib/clock.h"
#include "lib/log.h"

#define UDP_BGID_BASE 1
#define UDP_BUFS 512	      /* receive buffers per socket (power of two); each
			       * is recycled as soon as its query is handled */
#define UDP_BUF_SIZE 2048     /* recvmsg_out header + name + control + payload */
#define SEND_SLOTS 1024	      /* replies in flight */
#define SLOT_BUF DNS_UDP_MAX  /* the largest UDP reply we send */
#define CMSG_BUF 64
#define TCP_BUF (2 + DNS_TCP_MAX)

struct udp_sock {
	struct dns_server *srv;
	int fd;
	int family;
	struct glued_endpoint ep;
	struct loop_bufring *br;
	struct loop_op op;
	struct msghdr tmpl; /* multishot recvmsg layout */
};

/* One reply on its way out over UDP. */
struct send_slot {
	struct loop_op op;
	struct dns_server *srv;
	struct send_slot *next_free;
	struct msghdr msg;
	struct iovec iov;
	struct sockaddr_storage peer;
	union {
		char buf[CMSG_BUF];
		size_t align; /* cmsghdr alignment */
	} cmsg;
	uint8_t buf[SLOT_BUF];
};

/* A queued TCP reply: length prefix and message in one allocation. */
struct tcp_out {
	struct tcp_out *next;
	size_t len, off;
	uint8_t data[];
};

struct tcp_conn {
	struct dns_server *srv;
	int fd;
	uint32_t gen;
	bool in_use, closing;
	unsigned pending;	/* ops in flight on fd */
	struct glued_endpoint peer, local;
	struct loop_op recv_op, send_op;
	bool sending;
	struct tcp_out *out_head, *out_tail;
	struct loop_timer idle;
	size_t have;
	uint8_t *buf; /* TCP_BUF bytes */
};

struct dns_server {
	struct loop *loop;
	struct dns_server_cfg cfg;
	struct dns_answer_cfg acfg;
	const struct table *table;
	struct forwarder *fwd;
	struct udp_sock udp[2];
	size_t n_udp;
	int tcp_fd[2];
	size_t n_tcp;
	struct loop_op accept_op[2];
	struct tcp_conn *conns;
	struct send_slot *slots, *free_slots;
	size_t slots_used; /* slots[0..slots_used) have been handed out once:
			    * untouched slots stay untouched pages */
	struct glued_cidr allow[DNS_SERVER_ALLOW_MAX];
	size_t n_allow;
	uint32_t rot;
	struct dns_server_stats st;
	struct log_ratelimit rl_send;
};

static void udp_arm(struct udp_sock *u);

/* Monotonic µs, for the forwarding latency histogram only. */
static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}
static void tcp_conn_close(struct tcp_conn *c);

/* --- configuration ---------------------------------------------------------- */

struct dns_server *dns_server_new(struct loop *l, const struct dns_server_cfg *cfg,
				  const struct table *t)
{
	struct dns_server *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->loop = l;
	s->cfg = *cfg;
	if (!s->cfg.tcp_max_conns)
		s->cfg.tcp_max_conns = 256;
	if (!s->cfg.tcp_idle_ms)
		s->cfg.tcp_idle_ms = 10000;
	s->acfg.ttl_s = cfg->ttl_s;
	s->table = t;
	s->tcp_fd[0] = s->tcp_fd[1] = -1;
	s->rl_send = (struct log_ratelimit)LOG_RATELIMIT_INIT(1, 5);
	s->slots = calloc(SEND_SLOTS, sizeof(*s->slots));
	s->conns = calloc(s->cfg.tcp_max_conns, sizeof(*s->conns));
	if (!s->slots || !s->conns) {
		free(s->slots);
		free(s->conns);
		free(s);
		return NULL;
	}
	return s;
}

void dns_server_set_forwarder(struct dns_server *s, struct forwarder *f)
{
	s->fwd = f;
}

void dns_server_set_allow(struct dns_server *s, const struct glued_cidr *allow, size_t n)
{
	if (n > DNS_SERVER_ALLOW_MAX)
		n = DNS_SERVER_ALLOW_MAX;
	memcpy(s->allow, allow, n * sizeof(*allow));
	s->n_allow = n;
}

static bool allowed(const struct dns_server *s, const struct glued_addr *a)
{
	for (size_t i = 0; i < s->n_allow; i++)
		if (cidr_contains(&s->allow[i], a))
			return true;
	return false;
}

size_t dns_server_endpoints(const struct dns_server *s, struct glued_endpoint *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n_udp && n < max; i++)
		out[n++] = s->udp[i].ep;
	return n;
}

void dns_server_get_stats(const struct dns_server *s, struct dns_server_stats *st)
{
	*st = s->st;
}

/* --- sockets -------------------------------------------------------------- */

static int open_socket(const struct glued_endpoint *ep, int type)
{
	struct sockaddr_storage ss;
	socklen_t len = endpoint_to_sockaddr(ep, &ss);
	int one = 1, fd, err;

	fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* The bridge address may not exist yet when glued starts. */
	if (ss.ss_family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	else
		setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (type == SOCK_DGRAM) {
		int rcvbuf = 4 << 20;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &rcvbuf, sizeof(rcvbuf));
		if (ss.ss_family == AF_INET)
			setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
		else
			setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		goto err;
	if (type == SOCK_STREAM) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (listen(fd, 128) < 0)
			goto err;
	}
	return fd;
err:
	err = -errno;
	close(fd);
	return err;
}

/* The families to serve: a wildcard v6 bind serves v4 too (two sockets, so
 * each keeps its own pktinfo and V6ONLY stays simple). */
static size_t bind_list(const struct glued_endpoint *bind, struct glued_endpoint out[2])
{
	out[0] = *bind;
	if (bind->addr.family == AF_INET6 && addr_is_any(&bind->addr)) {
		memset(&out[1], 0, sizeof(out[1]));
		out[1].addr.family = AF_INET;
		out[1].port = bind->port;
		return 2;
	}
	return 1;
}

static void udp_recv_done(struct loop *l, struct loop_op *op, int res, uint32_t flags);
static void accept_done(struct loop *l, struct loop_op *op, int res, uint32_t flags);

int dns_server_start(struct dns_server *s)
{
	struct glued_endpoint eps[2];
	size_t n = bind_list(&s->cfg.bind, eps);
	int err;

	for (size_t i = 0; i < n; i++) {
		struct udp_sock *u = &s->udp[i];
		int fd = open_socket(&eps[i], SOCK_DGRAM);

		if (fd < 0) {
			err = fd;
			goto err_close;
		}
		u->srv = s;
		u->fd = fd;
		u->ep = eps[i];
		u->family = eps[i].addr.family;
		u->br = loop_bufring_new(s->loop, (uint16_t)(UDP_BGID_BASE + i), UDP_BUFS, UDP_BUF_SIZE);
		if (!u->br) {
			err = -errno;
			close(fd);
			goto err_close;
		}
		u->op.fn = udp_recv_done;
		u->op.ctx = u;
		u->tmpl.msg_namelen = sizeof(struct sockaddr_storage);
		u->tmpl.msg_controllen = CMSG_SPACE(sizeof(struct in6_pktinfo));
		s->n_udp++;
		udp_arm(u);

		fd = open_socket(&eps[i], SOCK_STREAM);
		if (fd < 0) {
			err = fd;
			goto err_close;
		}
		s->tcp_fd[i] = fd;
		s->n_tcp++;
		s->accept_op[i].fn = accept_done;
		s->accept_op[i].ctx = s;
		loop_accept_multishot(s->loop, &s->accept_op[i], fd);
	}
	return 0;

err_close:
	for (size_t i = 0; i < s->n_udp; i++) {
		loop_bufring_free(s->loop, s->udp[i].br);
		close(s->udp[i].fd);
	}
	for (size_t i = 0; i < s->n_tcp; i++)
		close(s->tcp_fd[i]);
	s->n_udp = s->n_tcp = 0;
	return err;
}

void dns_server_free(struct dns_server *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->cfg.tcp_max_conns; i++) {
		struct tcp_conn *c = &s->conns[i];
		if (c->in_use) {
			close(c->fd);
			while (c->out_head) {
				struct tcp_out *o = c->out_head;
				c->out_head = o->next;
				free(o);
			}
			free(c->buf);
		}
	}
	for (size_t i = 0; i < s->n_udp; i++) {
		close(s->udp[i].fd);
		loop_bufring_free(s->loop, s->udp[i].br);
	}
	for (size_t i = 0; i < s->n_tcp; i++)
		close(s->tcp_fd[i]);
	free(s->slots);
	free(s->conns);
	free(s);
}

/* --- UDP ------------------------------------------------------------------ */

static void udp_arm(struct udp_sock *u)
{
	struct io_uring_sqe *sqe = loop_sqe(u->srv->loop, &u->op);

	io_uring_prep_recvmsg_multishot(sqe, u->fd, &u->tmpl, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = (uint16_t)(UDP_BGID_BASE + (u - u->srv->udp));
}

static void slot_done(struct loop *l, struct loop_op *op, int res, uint32_t flags)
{
	struct send_slot *sl = op->ctx;
	struct dns_server *s = sl->srv;

	if (res < 0) {
		s->st.udp_tx_errors++;
		if (log_ratelimit_ok(&s->rl_send, loop_now_ms(l)))
			log_warnx("dns: send reply: %s", glued_strerror(res));
	} else {
		s->st.udp_tx++;
	}
	sl->next_free = s->free_slots;
	s->free_slots = sl;
}

static struct send_slot *slot_get(struct dns_server *s)
{
	struct send_slot *sl = s->free_slots;

	if (sl) {
		s->free_slots = sl->next_free;
		return sl;
	}
	if (s->slots_used == SEND_SLOTS)
		return NULL;
	sl = &s->slots[s->slots_used++];
	sl->srv = s;
	return sl;
}

/* Every slot is in flight (a burst larger than SEND_SLOTS within one batch):
 * send synchronously from this one instead of dropping the reply. */
static struct send_slot sync_slot;

static struct send_slot *slot_get_any(struct dns_server *s)
{
	struct send_slot *sl = slot_get(s);

	if (sl)
		return sl;
	sync_slot.srv = s;
	return &sync_slot;
}

static void slot_put(struct dns_server *s, struct send_slot *sl)
{
	if (sl == &sync_slot)
		return;
	sl->next_free = s->free_slots;
	s->free_slots = sl;
}

/* Queue sl->buf[0..len) to client c, from the address it asked. */
static void udp_send(struct dns_server *s, struct send_slot *sl, const struct dns_client *c,
		     size_t len)
{
	struct cmsghdr *cm;

	memset(&sl->msg, 0, sizeof(sl->msg));
	sl->iov.iov_base = sl->buf;
	sl->iov.iov_len = len;
	sl->msg.msg_iov = &sl->iov;
	sl->msg.msg_iovlen = 1;
	sl->msg.msg_name = &sl->peer;
	sl->msg.msg_namelen = endpoint_to_sockaddr(&c->peer, &sl->peer);
	memset(sl->cmsg.buf, 0, sizeof(sl->cmsg.buf));
	sl->msg.msg_control = sl->cmsg.buf;
	if (c->local.addr.family == AF_INET) {
		struct in_pktinfo pi = { 0 };
		memcpy(&pi.ipi_spec_dst, c->local.addr.b, 4);
		sl->msg.msg_controllen = CMSG_SPACE(sizeof(pi));
		cm = CMSG_FIRSTHDR(&sl->msg);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	} else if (c->local.addr.family == AF_INET6) {
		struct in6_pktinfo pi = { 0 };
		memcpy(&pi.ipi6_addr, c->local.addr.b, 16);
		pi.ipi6_ifindex = (unsigned)c->ifindex;
		sl->msg.msg_controllen = CMSG_SPACE(sizeof(pi));
		cm = CMSG_FIRSTHDR(&sl->msg);
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	} else {
		sl->msg.msg_control = NULL;
	}
	if (sl == &sync_slot) {
		if (sendmsg(c->fd, &sl->msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			s->st.udp_tx_errors++;
		else
			s->st.udp_tx++;
		return;
	}
	sl->op.fn = slot_done;
	sl->op.ctx = sl;
	loop_sendmsg(s->loop, &sl->op, c->fd, &sl->msg);
}

/* The local address and interface from the pktinfo control message. */
static void parse_pktinfo(struct io_uring_recvmsg_out *out, struct msghdr *tmpl,
			  struct dns_client *c)
{
	for (struct cmsghdr *cm = io_uring_recvmsg_cmsg_firsthdr(out, tmpl); cm;
	     cm = io_uring_recvmsg_cmsg_nexthdr(out, tmpl, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			c->local.addr.family = AF_INET;
			memcpy(c->local.addr.b, &pi.ipi_addr, 4);
			c->ifindex = pi.ipi_ifindex;
		} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			c->local.addr.family = AF_INET6;
			memcpy(c->local.addr.b, &pi.ipi6_addr, 16);
			c->ifindex = (int)pi.ipi6_ifindex;
		}
	}
}

/* One query from either transport: answer, forward or refuse. `reply` is
 * where an immediate reply is built (cap bytes); returns its length, or 0
 * when nothing is to be sent now. */
static size_t handle_query(struct dns_server *s, const struct dns_client *c, const uint8_t *msg,
			   size_t len, uint8_t *reply, size_t cap)
{
	struct dns_query q;
	size_t out_len = 0;
	enum dns_action act;

	act = dns_answer(&s->acfg, s->table, msg, len, c->transport == DNS_TCP ? DNS_TCP_MAX : 0,
			 s->rot++, &q, reply, cap, &out_len, &s->st.answer);
	switch (act) {
	case DNS_ACT_REPLY:
		return out_len;
	case DNS_ACT_DROP:
		return 0;
	case DNS_ACT_FORWARD:
		break;
	}
	if (!s->fwd || !allowed(s, &c->peer.addr)) {
		s->st.refused++;
		if (dns_build_rcode(&q, msg, len, DNS_RCODE_REFUSED, reply, cap, &out_len) != 0)
			return 0;
		return out_len;
	}
	/* After the allow list: a client we would not forward for must not
	 * be able to disable an upstream by sending a probe name. */
	if (forwarder_is_probe(s->fwd, &q)) {
		/* Our own loop probe came back: never forward it again. */
		s->st.probes_dropped++;
		return 0;
	}
	{
		struct dns_client fc = *c;
		fc.limit = c->transport == DNS_TCP ? DNS_TCP_MAX : dns_query_udp_limit(&q);
		fc.fwd_start_us = now_us();
		forwarder_query(s->fwd, &fc, &q, msg, len);
	}
	return 0;
}

static void udp_recv_done(struct loop *l, struct loop_op *op, int res, uint32_t flags)
{
	struct udp_sock *u = op->ctx;
	struct dns_server *s = u->srv;
	struct io_uring_recvmsg_out *out;
	struct dns_client c;
	struct send_slot *sl;
	uint16_t bid;
	size_t n;

	if (res < 0) {
		if (res != -ENOBUFS && res != -ECANCELED)
			log_warnx("dns: udp receive: %s", glued_strerror(res));
		if (!(flags & IORING_CQE_F_MORE) && res != -ECANCELED)
			udp_arm(u);
		return;
	}
	if (!(flags & IORING_CQE_F_BUFFER))
		goto rearm;
	bid = (uint16_t)(flags >> IORING_CQE_BUFFER_SHIFT);
	out = io_uring_recvmsg_validate(loop_bufring_get(u->br, bid), res, &u->tmpl);
	if (!out)
		goto recycle;
	s->st.udp_rx++;
	if (out->flags & MSG_TRUNC) {
		s->st.udp_truncated_rx++; /* larger than any query we take */
		goto recycle;
	}
	memset(&c, 0, sizeof(c));
	c.transport = DNS_UDP;
	c.fd = u->fd;
	if (endpoint_from_sockaddr(&c.peer, io_uring_recvmsg_name(out), out->namelen) != 0)
		goto recycle;
	c.local.port = u->ep.port;
	parse_pktinfo(out, &u->tmpl, &c);
	sl = slot_get_any(s);
	n = handle_query(s, &c, io_uring_recvmsg_payload(out, &u->tmpl),
			 io_uring_recvmsg_payload_length(out, res, &u->tmpl), sl->buf, sizeof(sl->buf));
	if (n)
		udp_send(s, sl, &c, n);
	else
		slot_put(s, sl);
recycle:
	loop_bufring_recycle(u->br, bid);
rearm:
	if (!(flags & IORING_CQE_F_MORE))
		udp_arm(u);
}

/* --- TCP ------------------------------------------------------------------ */

static struct tcp_conn *conn_by_id(struct dns_server *s, uint64_t id)
{
	uint32_t idx = (uint32_t)(id >> 32), gen = (uint32_t)id;
	struct tcp_conn *c;

	if (idx >= s->cfg.tcp_max_conns)
		return NULL;
	c = &s->conns[idx];
	return c->in_use && !c->closing && c->gen == gen ? c : NULL;
}

static uint64_t conn_id(struct dns_server *s, struct tcp_conn *c)
{
	return (uint64_t)(c - s->conns) << 32 | c->gen;
}

static void tcp_conn_release(struct tcp_conn *c)
{
	if (c->pending)
		return; /* the last completion finishes the job */
	loop_timer_disarm(c->srv->loop, &c->idle);
	close(c->fd);
	while (c->out_head) {
		struct tcp_out *o = c->out_head;
		c->out_head = o->next;
		free(o);
	}
	c->out_tail = NULL;
	free(c->buf);
	c->buf = NULL;
	c->in_use = false;
}

static void tcp_conn_close(struct tcp_conn *c)
{
	if (!c->closing) {
		c->closing = true;
		/* Makes the pending recv complete; its completion releases. */
		shutdown(c->fd, SHUT_RDWR);
	}
	tcp_conn_release(c);
}

static void tcp_send_next(struct tcp_conn *c);

static void tcp_send_done(struct loop *l, struct loop_op *op, int res, uint32_t flags)
{
	struct tcp_conn *c = op->ctx;
	struct tcp_out *o = c->out_head;

	c->pending--;
	c->sending = false;
	if (c->closing) {
		tcp_conn_release(c);
		return;
	}
	if (res <= 0) {
		tcp_conn_close(c);
		return;
	}
	o->off += (size_t)res;
	if (o->off == o->len) {
		c->out_head = o->next;
		if (!c->out_head)
			c->out_tail = NULL;
		free(o);
		c->srv->st.tcp_tx++;
	}
	tcp_send_next(c);
}

static void tcp_send_next(struct tcp_conn *c)
{
	struct tcp_out *o = c->out_head;

	if (c->sending || !o || c->closing)
		return;
	c->sending = true;
	c->pending++;
	c->send_op.fn = tcp_send_done;
	c->send_op.ctx = c;
	loop_send(c->srv->loop, &c->send_op, c->fd, o->data + o->off, o->len - o->off);
}

static void tcp_queue(struct tcp_conn *c, const uint8_t *msg, size_t len)
{
	struct tcp_out *o = malloc(sizeof(*o) + 2 + len);

	if (!o) {
		tcp_conn_close(c);
		return;
	}
	o->next = NULL;
	o->len = 2 + len;
	o->off = 0;
	o->data[0] = (uint8_t)(len >> 8);
	o->data[1] = (uint8_t)len;
	memcpy(o->data + 2, msg, len);
	if (c->out_tail)
		c->out_tail->next = o;
	else
		c->out_head = o;
	c->out_tail = o;
	tcp_send_next(c);
}

static void tcp_recv_arm(struct tcp_conn *c);

static void tcp_idle_fire(struct loop *l, struct loop_timer *t, uint64_t now_ms)
{
	struct tcp_conn *c = t->ctx;

	c->srv->st.tcp_idle_closed++;
	tcp_conn_close(c);
}

static void tcp_recv_done(struct loop *l, struct loop_op *op, int res, uint32_t flags)
{
	struct tcp_conn *c = op->ctx;
	struct dns_server *s = c->srv;
	static uint8_t reply[DNS_TCP_MAX];
	size_t off = 0;

	c->pending--;
	if (c->closing || res <= 0) {
		tcp_conn_close(c);
		return;
	}
	c->have += (size_t)res;
	loop_timer_arm(l, &c->idle, loop_now_ms(l) + s->cfg.tcp_idle_ms);
	/* Answer every complete message in the buffer (pipelining). */
	while (c->have - off >= 2) {
		size_t mlen = (size_t)c->buf[off] << 8 | c->buf[off + 1];
		struct dns_client dc;
		size_t n;

		if (mlen == 0) {
			tcp_conn_close(c);
			return;
		}
		if (c->have - off < 2 + mlen)
			break;
		memset(&dc, 0, sizeof(dc));
		dc.transport = DNS_TCP;
		dc.peer = c->peer;
		dc.local = c->local;
		dc.fd = -1;
		dc.conn_id = conn_id(s, c);
		dc.limit = DNS_TCP_MAX;
		s->st.tcp_rx++;
		n = handle_query(s, &dc, c->buf + off + 2, mlen, reply, sizeof(reply));
		if (n)
			tcp_queue(c, reply, n);
		if (c->closing)
			return;
		off += 2 + mlen;
	}
	if (off) {
		memmove(c->buf, c->buf + off, c->have - off);
		c->have -= off;
	}
	tcp_recv_arm(c);
}

static void tcp_recv_arm(struct tcp_conn *c)
{
	c->pending++;
	c->recv_op.fn = tcp_recv_done;
	c->recv_op.ctx = c;
	loop_recv(c->srv->loop, &c->recv_op, c->fd, c->buf + c->have, TCP_BUF - c->have);
}

static void accept_done(struct loop *l, struct loop_op *op, int res, uint32_t flags)
{
	struct dns_server *s = op->ctx;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct tcp_conn *c = NULL;

	if (!(flags & IORING_CQE_F_MORE) && res != -ECANCELED)
		loop_accept_multishot(l, op, s->tcp_fd[op - s->accept_op]);
	if (res < 0)
		return;
	for (size_t i = 0; i < s->cfg.tcp_max_conns; i++) {
		if (!s->conns[i].in_use) {
			c = &s->conns[i];
			break;
		}
	}
	if (!c) {
		s->st.tcp_rejected++;
		close(res);
		return;
	}
	c->buf = malloc(TCP_BUF);
	if (!c->buf) {
		close(res);
		return;
	}
	s->st.tcp_accepted++;
	c->srv = s;
	c->fd = res;
	c->gen++;
	c->in_use = true;
	c->closing = false;
	c->sending = false;
	c->pending = 0;
	c->have = 0;
	c->out_head = c->out_tail = NULL;
	memset(&c->peer, 0, sizeof(c->peer));
	memset(&c->local, 0, sizeof(c->local));
	if (getpeername(res, (struct sockaddr *)&ss, &len) == 0)
		(void)endpoint_from_sockaddr(&c->peer, (struct sockaddr *)&ss, len);
	len = sizeof(ss);
	if (getsockname(res, (struct sockaddr *)&ss, &len) == 0)
		(void)endpoint_from_sockaddr(&c->local, (struct sockaddr *)&ss, len);
	loop_timer_init(&c->idle, tcp_idle_fire, c);
	loop_timer_arm(l, &c->idle, loop_now_ms(l) + s->cfg.tcp_idle_ms);
	tcp_recv_arm(c);
}

/* --- replies from the forwarder --------------------------------------------- */

const uint32_t dns_server_lat_bounds_us[DNS_SERVER_LAT_BUCKETS] = { DNS_SERVER_LAT_BOUNDS_US };

static void lat_observe(struct dns_server_latency *h, uint64_t us)
{
	size_t i = 0;

	while (i < DNS_SERVER_LAT_BUCKETS && us > dns_server_lat_bounds_us[i])
		i++;
	h->bucket[i]++;
	h->count++;
	h->sum_us += us;
}

void dns_server_reply(void *ctx, const struct dns_client *c, const uint8_t *msg, size_t len)
{
	struct dns_server *s = ctx;

	if (c->fwd_start_us)
		lat_observe(&s->st.fwd_latency, now_us() - c->fwd_start_us);

	if (c->transport == DNS_TCP) {
		struct tcp_conn *conn = conn_by_id(s, c->conn_id);
		if (conn)
			tcp_queue(conn, msg, len);
		return;
	}
	if (len > SLOT_BUF)
		return; /* the forwarder truncates to c->limit <= DNS_UDP_MAX */
	struct send_slot *sl = slot_get_any(s);
	memcpy(sl->buf, msg, len);
	udp_send(s, sl, c, len);
}
