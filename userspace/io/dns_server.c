/* DNS listeners on io_uring; see dns_server.h.
 *
 * This file owns the sockets, the receive buffers and the send slots. It
 * decides nothing about DNS: every query goes to dns_answer(), and what it
 * returns is sent, forwarded or refused. Per-packet work allocates nothing:
 * receive buffers come from a provided-buffer ring (multishot path) or are
 * fixed per receive op (single-shot path), replies are built straight into
 * preallocated send slots. Both receive paths hand a datagram to
 * udp_query() laid out as recvmsg(2) gives it, so they differ only in how
 * the bytes arrive.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "io/dns_server_int.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/rand.h"

/* Monotonic µs, for the forwarding latency histogram only. */
static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}
static void udp_arm(struct udp_sock *u);

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
	if (!s->cfg.tcp_per_source)
		s->cfg.tcp_per_source = 16;
	if (!s->cfg.tcp_lifetime_ms)
		s->cfg.tcp_lifetime_ms = 120000;
	if (!s->cfg.tcp_max_out)
		s->cfg.tcp_max_out = 65536;
	if (!s->cfg.tcp_max_fwd)
		s->cfg.tcp_max_fwd = 32;
	s->tcp_policy = (struct tcp_admit_cfg){.per_source = s->cfg.tcp_per_source,
					       .idle_ms = s->cfg.tcp_idle_ms,
					       .lifetime_ms = s->cfg.tcp_lifetime_ms};
	s->acfg.ttl_s = cfg->ttl_s;
	s->table = t;
	s->tcp_fd[0] = s->tcp_fd[1] = -1;
	s->rl_send = (struct log_ratelimit)LOG_RATELIMIT_INIT(1, 5);
	s->rl_recv = (struct log_ratelimit)LOG_RATELIMIT_INIT(1, 5);
	s->sync_slot.srv = s;
	s->rx = cfg->rx;
	if (s->rx == DNS_SERVER_RX_AUTO)
		s->rx = loop_multishot_ok(loop_features(l), &s->rx_why) ? DNS_SERVER_RX_MULTISHOT
									: DNS_SERVER_RX_SINGLE;
	else
		s->rx_why = "configured";
	if (!s->cfg.rrl.slots)
		s->cfg.rrl.slots = 8192;
	{
		uint8_t key[16]; /* the bucket table's hash: spoofers must not aim at a set */

		if (rand_bytes(key, sizeof(key)) == 0)
			s->rrl = rrl_new(&s->cfg.rrl, key);
	}
	s->slots = calloc(SEND_SLOTS, sizeof(*s->slots));
	s->conns = calloc(s->cfg.tcp_max_conns, sizeof(*s->conns));
	s->tcp_view = calloc(s->cfg.tcp_max_conns, sizeof(*s->tcp_view));
	if (!s->rrl || !s->slots || !s->conns || !s->tcp_view) {
		rrl_free(s->rrl);
		free(s->slots);
		free(s->conns);
		free(s->tcp_view);
		free(s);
		return NULL;
	}
	return s;
}

void dns_server_set_forwarder(struct dns_server *s, struct forwarder *f)
{
	s->fwd = f;
}

int dns_server_set_allow(struct dns_server *s, const struct glued_cidr *allow, size_t n,
			 const struct glued_cidr *exempt, size_t n_exempt)
{
	return access_build(&s->access, allow, n, exempt, n_exempt);
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
	st->rrl_evicted = rrl_evictions(s->rrl);
}

enum dns_server_rx dns_server_rx_path(const struct dns_server *s)
{
	return s->rx;
}

const char *dns_server_rx_name(enum dns_server_rx rx)
{
	switch (rx) {
	case DNS_SERVER_RX_MULTISHOT:
		return "multishot";
	case DNS_SERVER_RX_SINGLE:
		return "single-shot";
	case DNS_SERVER_RX_AUTO:
		break;
	}
	return "auto";
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
	/* A predecessor that just exited may still hold the port: the kernel
	 * tears its io_uring down asynchronously, and the sockets its pending
	 * receives pin go with it, some milliseconds after the process (up to
	 * seconds on a loaded host). A restart waits for that, up to 3 s,
	 * rather than failing; this runs once, before the loop. */
	for (int tries = 0; bind(fd, (struct sockaddr *)&ss, len) < 0; tries++) {
		struct timespec ts = {0, 100 * 1000 * 1000};

		if (errno != EADDRINUSE || tries == 30)
			goto err;
		nanosleep(&ts, NULL);
	}
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

static void udp_multishot_done(struct loop *l, struct loop_op *op, int res, uint32_t flags);
static void udp_single_done(struct loop *l, struct loop_op *op, int res, uint32_t flags);

static void udp_rx_arm(struct udp_rx *r);

/* The receive state of one UDP socket for the chosen path. */
static int udp_rx_init(struct dns_server *s, struct udp_sock *u, size_t i)
{
	if (s->rx == DNS_SERVER_RX_MULTISHOT) {
		u->br = loop_bufring_new(s->loop, (uint16_t)(UDP_BGID_BASE + i), UDP_BUFS,
					 UDP_BUF_SIZE);
		if (!u->br)
			return -errno;
		u->op.fn = udp_multishot_done;
		u->op.ctx = u;
		u->tmpl.msg_namelen = sizeof(struct sockaddr_storage);
		u->tmpl.msg_controllen = CMSG_SPACE(sizeof(struct in6_pktinfo));
		return 0;
	}
	u->rx = calloc(UDP_RX_OPS, sizeof(*u->rx));
	if (!u->rx)
		return -ENOMEM;
	for (size_t k = 0; k < UDP_RX_OPS; k++) {
		u->rx[k].u = u;
		u->rx[k].op.fn = udp_single_done;
		u->rx[k].op.ctx = &u->rx[k];
	}
	return 0;
}

static void udp_rx_fini(struct dns_server *s, struct udp_sock *u)
{
	loop_bufring_free(s->loop, u->br);
	u->br = NULL;
	free(u->rx);
	u->rx = NULL;
}

int dns_server_start(struct dns_server *s)
{
	const struct loop_features *f = loop_features(s->loop);
	struct glued_endpoint eps[2];
	size_t n = bind_list(&s->cfg.bind, eps);
	const char *why;
	int err;

	if (s->rx == DNS_SERVER_RX_MULTISHOT && !loop_multishot_ok(f, &why))
		return -EOPNOTSUPP;
	/* Every socket and buffer first, then the ops: a failure leaves no op
	 * in the ring pointing at us. */
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
		s->n_udp++;
		err = udp_rx_init(s, u, i);
		if (err)
			goto err_close;
		fd = open_socket(&eps[i], SOCK_STREAM);
		if (fd < 0) {
			err = fd;
			goto err_close;
		}
		s->tcp_fd[i] = fd;
		s->n_tcp++;
	}
	for (size_t i = 0; i < n; i++) {
		if (s->rx == DNS_SERVER_RX_MULTISHOT)
			udp_arm(&s->udp[i]);
		else
			for (size_t k = 0; k < UDP_RX_OPS; k++)
				udp_rx_arm(&s->udp[i].rx[k]);
		s->accept_op[i].fn = dns_tcp_accept_done;
		s->accept_op[i].ctx = s;
		dns_tcp_accept_arm(s, i);
	}
	log_info("dns: udp receive: %s recvmsg (%s)", dns_server_rx_name(s->rx), s->rx_why);
	return 0;

err_close:
	for (size_t i = 0; i < s->n_udp; i++) {
		udp_rx_fini(s, &s->udp[i]);
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
	dns_tcp_free(s);
	for (size_t i = 0; i < s->n_udp; i++) {
		close(s->udp[i].fd);
		udp_rx_fini(s, &s->udp[i]);
	}
	for (size_t i = 0; i < s->n_tcp; i++)
		close(s->tcp_fd[i]);
	free(s->slots);
	free(s->conns);
	free(s->tcp_view);
	rrl_free(s->rrl);
	free(s);
}

/* --- UDP ------------------------------------------------------------------ */

static void udp_arm(struct udp_sock *u)
{
	loop_recvmsg_multishot(u->srv->loop, &u->op, u->fd, &u->tmpl, u->br);
}

static void udp_rx_arm(struct udp_rx *r)
{
	r->iov.iov_base = r->buf;
	r->iov.iov_len = sizeof(r->buf);
	memset(&r->msg, 0, sizeof(r->msg));
	r->msg.msg_name = &r->name;
	r->msg.msg_namelen = sizeof(r->name);
	r->msg.msg_control = r->cmsg.buf;
	r->msg.msg_controllen = sizeof(r->cmsg.buf);
	r->msg.msg_iov = &r->iov;
	r->msg.msg_iovlen = 1;
	loop_recvmsg(r->u->srv->loop, &r->op, r->u->fd, &r->msg);
}

static void slot_done(struct loop *l, struct loop_op *op, int res, uint32_t flags GLUED_UNUSED)
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

static struct send_slot *slot_get_any(struct dns_server *s)
{
	struct send_slot *sl = slot_get(s);

	return sl ? sl : &s->sync_slot;
}

static void slot_put(struct dns_server *s, struct send_slot *sl)
{
	if (sl == &s->sync_slot)
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
		struct in_pktinfo pi = {0};
		memcpy(&pi.ipi_spec_dst, c->local.addr.b, 4);
		sl->msg.msg_controllen = CMSG_SPACE(sizeof(pi));
		cm = CMSG_FIRSTHDR(&sl->msg);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	} else if (c->local.addr.family == AF_INET6) {
		struct in6_pktinfo pi = {0};
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
	if (sl == &s->sync_slot) {
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
static void parse_pktinfo(struct msghdr *m, struct dns_client *c)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR(m, cm)) {
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

/* Response rate limiting of the UDP reply msg[0..len) (in place) to a
 * query of query_len bytes: what to send, 0 for nothing. Only a reply
 * larger than its query counts (the amplification a spoofer wants): a
 * REFUSED, FORMERR or bare NXDOMAIN echoes the question and is never
 * larger. TCP is where a slip sends the client: never limited. */
static size_t rrl_apply(struct dns_server *s, const struct dns_client *c, uint8_t *msg, size_t len)
{
	if (c->transport != DNS_UDP || (c->access & GLUED_ALLOW_F_RRL_EXEMPT) ||
	    len <= c->query_len)
		return len;
	switch (rrl_account(s->rrl, &c->peer.addr, loop_now_ms(s->loop))) {
	case RRL_SEND:
		return len;
	case RRL_SLIP:
		s->st.rrl_slipped++;
		return rrl_slip(msg, len);
	case RRL_DROP:
		break;
	}
	s->st.rrl_dropped++;
	return 0;
}

size_t dns_server_handle(struct dns_server *s, const struct dns_client *cin, const uint8_t *msg,
			 size_t len, uint8_t *reply, size_t cap, bool *forwarded)
{
	struct dns_client cl = *cin, *c = &cl;
	struct dns_query q;
	size_t out_len = 0;
	enum dns_action act;

	c->access = access_lookup(&s->access, &c->peer.addr);
	c->query_len = (uint16_t)(len > DNS_TCP_MAX ? DNS_TCP_MAX : len);
	/* GLUED_ALLOW is who gets answers at all: container names, PTR and
	 * forwarding alike (the kernel program checks the same list). Anyone
	 * else gets REFUSED for a well-formed query, nothing for the rest: no
	 * reply larger than the query, no data. */
	if (!(c->access & GLUED_ALLOW_F_ALLOWED)) {
		s->st.refused++;
		if (dns_parse_query(&q, msg, len) != 0 ||
		    dns_build_rcode(&q, DNS_RCODE_REFUSED, reply, cap, &out_len) != 0)
			return 0;
		return out_len;
	}
	act = dns_answer(&s->acfg, s->table, msg, len, c->transport == DNS_TCP ? DNS_TCP_MAX : 0,
			 s->rot++, &q, reply, cap, &out_len, &s->st.answer);
	switch (act) {
	case DNS_ACT_REPLY:
		return rrl_apply(s, c, reply, out_len);
	case DNS_ACT_DROP:
		return 0;
	case DNS_ACT_FORWARD:
		break;
	}
	if (!s->fwd) {
		s->st.refused++;
		if (dns_build_rcode(&q, DNS_RCODE_REFUSED, reply, cap, &out_len) != 0)
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
	c->limit = c->transport == DNS_TCP ? DNS_TCP_MAX : dns_query_udp_limit(&q);
	c->fwd_start_us = now_us();
	forwarder_query(s->fwd, c, &q, msg, len);
	*forwarded = true;
	return 0;
}

/* One datagram from either receive path, laid out as recvmsg(2) gives it:
 * the payload is m->msg_iov[0]. */
static void udp_query(struct udp_sock *u, struct msghdr *m)
{
	struct dns_server *s = u->srv;
	struct dns_client c;
	struct send_slot *sl;
	bool forwarded = false;
	size_t n;

	s->st.udp_rx++;
	if (m->msg_flags & MSG_TRUNC) {
		s->st.udp_truncated_rx++; /* larger than any query we take */
		return;
	}
	memset(&c, 0, sizeof(c));
	c.transport = DNS_UDP;
	c.fd = u->fd;
	if (endpoint_from_sockaddr(&c.peer, m->msg_name, m->msg_namelen) != 0)
		return;
	c.local.port = u->ep.port;
	parse_pktinfo(m, &c);
	sl = slot_get_any(s);
	n = dns_server_handle(s, &c, m->msg_iov[0].iov_base, m->msg_iov[0].iov_len, sl->buf,
			      sizeof(sl->buf), &forwarded);
	if (n)
		udp_send(s, sl, &c, n);
	else
		slot_put(s, sl);
}

static void udp_recv_error(struct dns_server *s, int res)
{
	if (res != -ENOBUFS && log_ratelimit_ok(&s->rl_recv, loop_now_ms(s->loop)))
		log_warnx("dns: udp receive: %s", glued_strerror(res));
}

static void udp_multishot_done(struct loop *l GLUED_UNUSED, struct loop_op *op, int res,
			       uint32_t flags)
{
	struct udp_sock *u = op->ctx;
	struct msghdr m;
	struct iovec iov;
	uint16_t bid;
	int err;

	if (res == -ECANCELED)
		return;
	if (res < 0) {
		udp_recv_error(u->srv, res); /* ENOBUFS: every buffer is in use */
	} else {
		err = loop_recvmsg_multishot_msg(u->br, &u->tmpl, res, flags, &m, &iov, &bid);
		if (err != -ENOBUFS) {
			if (err == 0)
				udp_query(u, &m);
			loop_bufring_recycle(u->br, bid);
		}
	}
	if (!(flags & LOOP_F_MORE))
		udp_arm(u);
}

static void udp_single_done(struct loop *l GLUED_UNUSED, struct loop_op *op, int res,
			    uint32_t flags GLUED_UNUSED)
{
	struct udp_rx *r = op->ctx;

	if (res == -ECANCELED)
		return;
	if (res < 0) {
		udp_recv_error(r->u->srv, res);
	} else {
		r->iov.iov_len = (size_t)res;
		udp_query(r->u, &r->msg);
	}
	udp_rx_arm(r);
}

/* --- replies from the forwarder --------------------------------------------- */

const uint32_t dns_server_lat_bounds_us[DNS_SERVER_LAT_BUCKETS] = {DNS_SERVER_LAT_BOUNDS_US};

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
		dns_tcp_reply(s, c->conn_id, msg, len);
		return;
	}
	if (len > SLOT_BUF)
		return; /* the forwarder truncates to c->limit <= DNS_UDP_MAX */
	struct send_slot *sl = slot_get_any(s);
	memcpy(sl->buf, msg, len);
	len = rrl_apply(s, c, sl->buf, len);
	if (len)
		udp_send(s, sl, c, len);
	else
		slot_put(s, sl);
}
