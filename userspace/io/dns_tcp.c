/* DNS over TCP: accepted connections, pipelined length-prefixed queries,
 * queued replies, and the limits that keep one client from taking TCP away
 * from the others (see dns_server.h).
 *
 * Who gets a slot and how long it lives is decided by core/tcp_admit; this
 * file applies it. Back-pressure per connection: while more than
 * tcp_max_out reply bytes are queued or tcp_max_fwd queries wait on the
 * forwarder, glued stops parsing and stops reading; the client's own TCP
 * window then stops the client. It resumes when the queue drains to half or
 * a forwarded reply comes back. So a client that pipelines without reading
 * costs at most tcp_max_out bytes of memory, not one reply per query.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/dns_server_int.h"

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

static void tcp_conn_start(struct dns_server *s, struct tcp_conn *c, int fd,
			   const struct glued_endpoint *peer);

static void free_out(struct tcp_conn *c)
{
	while (c->out_head) {
		struct tcp_out *o = c->out_head;

		c->out_head = o->next;
		free(o);
	}
	c->out_tail = NULL;
	c->out_bytes = 0;
}

static void tcp_conn_release(struct tcp_conn *c)
{
	if (c->pending)
		return; /* the last completion finishes the job */
	loop_timer_disarm(c->srv->loop, &c->idle);
	close(c->fd);
	free_out(c);
	free(c->buf);
	c->buf = NULL;
	c->in_use = false;
	if (c->has_next) {
		c->has_next = false;
		tcp_conn_start(c->srv, c, c->next_fd, &c->next_peer);
	}
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

static bool tcp_paused(const struct tcp_conn *c)
{
	const struct dns_server *s = c->srv;

	return c->out_bytes > s->cfg.tcp_max_out || c->fwd_inflight >= s->cfg.tcp_max_fwd;
}

static void tcp_deadline_arm(struct tcp_conn *c)
{
	struct dns_server *s = c->srv;

	loop_timer_arm(s->loop, &c->idle,
		       tcp_deadline_ms(&s->tcp_policy, c->opened_ms, c->last_ms));
}

static void tcp_send_next(struct tcp_conn *c);
static void tcp_process(struct tcp_conn *c);

static void tcp_send_done(struct loop *l, struct loop_op *op, int res, uint32_t flags GLUED_UNUSED)
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
	c->out_bytes -= (size_t)res;
	/* The client reads what we send: it is not idle, whether or not it
	 * sends (a held connection reads nothing until the queue drains). */
	c->last_ms = loop_now_ms(l);
	tcp_deadline_arm(c);
	if (o->off == o->len) {
		c->out_head = o->next;
		if (!c->out_head)
			c->out_tail = NULL;
		free(o);
		c->srv->st.tcp_tx++;
	}
	tcp_send_next(c);
	/* Resume at half the cap, not just under it: no stop-start per reply. */
	if (c->held && c->out_bytes <= c->srv->cfg.tcp_max_out / 2 && !tcp_paused(c))
		tcp_process(c);
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
	c->out_bytes += o->len;
	tcp_send_next(c);
}

static void tcp_deadline_fire(struct loop *l GLUED_UNUSED, struct loop_timer *t, uint64_t now_ms)
{
	struct tcp_conn *c = t->ctx;
	struct dns_server *s = c->srv;

	if (s->tcp_policy.lifetime_ms && now_ms >= c->opened_ms + s->tcp_policy.lifetime_ms)
		s->st.tcp_lifetime_closed++;
	else
		s->st.tcp_idle_closed++;
	tcp_conn_close(c);
}

static void tcp_recv_done(struct loop *l, struct loop_op *op, int res, uint32_t flags);

static void tcp_recv_arm(struct tcp_conn *c)
{
	if (c->receiving || c->closing || c->have == TCP_BUF)
		return;
	c->receiving = true;
	c->pending++;
	c->recv_op.fn = tcp_recv_done;
	c->recv_op.ctx = c;
	loop_recv(c->srv->loop, &c->recv_op, c->fd, c->buf + c->have, TCP_BUF - c->have);
}

/* Answer every complete message in the buffer (pipelining) while the
 * connection is not held back, then read more unless it is. */
static void tcp_process(struct tcp_conn *c)
{
	struct dns_server *s = c->srv;
	size_t off = 0;

	/* A recv in flight writes behind c->have: its completion processes. */
	if (c->receiving)
		return;
	c->held = false;
	while (c->have - off >= 2 && !c->closing) {
		size_t mlen = (size_t)c->buf[off] << 8 | c->buf[off + 1];
		struct dns_client dc;
		bool forwarded = false;
		size_t n;

		if (tcp_paused(c)) {
			if (!c->held)
				s->st.tcp_paused++;
			c->held = true;
			break;
		}
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
		n = dns_server_handle(s, &dc, c->buf + off + 2, mlen, s->tcp_reply,
				      sizeof(s->tcp_reply), &forwarded);
		if (forwarded)
			c->fwd_inflight++;
		if (n)
			tcp_queue(c, s->tcp_reply, n);
		off += 2 + mlen;
	}
	if (c->closing)
		return;
	if (off) {
		memmove(c->buf, c->buf + off, c->have - off);
		c->have -= off;
	}
	if (!tcp_paused(c))
		tcp_recv_arm(c);
}

static void tcp_recv_done(struct loop *l, struct loop_op *op, int res, uint32_t flags GLUED_UNUSED)
{
	struct tcp_conn *c = op->ctx;

	c->pending--;
	c->receiving = false;
	if (c->closing || res <= 0) {
		tcp_conn_close(c);
		return;
	}
	c->have += (size_t)res;
	c->last_ms = loop_now_ms(l);
	tcp_deadline_arm(c);
	tcp_process(c);
}

void dns_tcp_accept_arm(struct dns_server *s, size_t i)
{
	if (s->rx == DNS_SERVER_RX_MULTISHOT)
		loop_accept_multishot(s->loop, &s->accept_op[i], s->tcp_fd[i]);
	else
		loop_accept(s->loop, &s->accept_op[i], s->tcp_fd[i]);
}

/* A slot for a connection from peer, or NULL (counted). */
static struct tcp_conn *tcp_admit(struct dns_server *s, const struct glued_endpoint *peer)
{
	size_t n = s->cfg.tcp_max_conns, slot = 0;

	for (size_t i = 0; i < n; i++) {
		const struct tcp_conn *c = &s->conns[i];

		s->tcp_view[i] = (struct tcp_slot_view){
		    .in_use = c->in_use,
		    .busy = c->in_use && (c->closing || c->out_head || c->fwd_inflight),
		    .peer = c->peer.addr,
		    .last_ms = c->last_ms,
		};
	}
	switch (tcp_admit_decide(&s->tcp_policy, s->tcp_view, n, &peer->addr, &slot)) {
	case TCP_ADMIT_FREE:
		return &s->conns[slot];
	case TCP_ADMIT_EVICT:
		s->st.tcp_evicted++;
		tcp_conn_close(&s->conns[slot]);
		/* Released at once unless an op is in flight (an armed recv: the
		 * shutdown completes it); then the caller hands the new
		 * connection over to the release. */
		return s->conns[slot].has_next ? NULL : &s->conns[slot];
	case TCP_ADMIT_REJECT_SOURCE:
		s->st.tcp_rejected_source++;
		return NULL;
	case TCP_ADMIT_REJECT_FULL:
		break;
	}
	s->st.tcp_rejected++;
	return NULL;
}

/* Serve the accepted fd from peer in slot c. */
static void tcp_conn_start(struct dns_server *s, struct tcp_conn *c, int fd,
			   const struct glued_endpoint *peer)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	c->buf = malloc(TCP_BUF);
	if (!c->buf) {
		close(fd);
		return;
	}
	s->st.tcp_accepted++;
	c->srv = s;
	c->fd = fd;
	c->gen++;
	c->in_use = true;
	c->closing = c->held = c->has_next = false;
	c->sending = c->receiving = false;
	c->pending = 0;
	c->have = 0;
	c->out_head = c->out_tail = NULL;
	c->out_bytes = 0;
	c->fwd_inflight = 0;
	c->peer = *peer;
	memset(&c->local, 0, sizeof(c->local));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		(void)endpoint_from_sockaddr(&c->local, (struct sockaddr *)&ss, len);
	c->opened_ms = c->last_ms = loop_now_ms(s->loop);
	loop_timer_init(&c->idle, tcp_deadline_fire, c);
	tcp_deadline_arm(c);
	tcp_recv_arm(c);
}

void dns_tcp_accept_done(struct loop *l GLUED_UNUSED, struct loop_op *op, int res, uint32_t flags)
{
	struct dns_server *s = op->ctx;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct glued_endpoint peer = {0};
	struct tcp_conn *c;

	if (!(flags & LOOP_F_MORE) && res != -ECANCELED)
		dns_tcp_accept_arm(s, (size_t)(op - s->accept_op));
	if (res < 0)
		return;
	if (getpeername(res, (struct sockaddr *)&ss, &len) == 0)
		(void)endpoint_from_sockaddr(&peer, (struct sockaddr *)&ss, len);
	c = tcp_admit(s, &peer);
	if (!c) {
		close(res);
		return;
	}
	if (c->in_use) {
		/* An evicted connection still has an op in flight: the new one
		 * takes the slot when its release completes. */
		c->has_next = true;
		c->next_fd = res;
		c->next_peer = peer;
		return;
	}
	tcp_conn_start(s, c, res, &peer);
}

void dns_tcp_reply(struct dns_server *s, uint64_t id, const uint8_t *msg, size_t len)
{
	struct tcp_conn *c = conn_by_id(s, id);

	if (!c)
		return;
	if (c->fwd_inflight)
		c->fwd_inflight--;
	tcp_queue(c, msg, len);
	if (c->held && !c->closing && !tcp_paused(c))
		tcp_process(c);
}

void dns_tcp_free(struct dns_server *s)
{
	for (size_t i = 0; i < s->cfg.tcp_max_conns; i++) {
		struct tcp_conn *c = &s->conns[i];

		if (c->in_use) {
			close(c->fd);
			free_out(c);
			free(c->buf);
			if (c->has_next)
				close(c->next_fd);
		}
	}
}
