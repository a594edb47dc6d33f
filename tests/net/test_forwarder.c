/* Loopback integration test of io/forwarder.c: a real struct loop and a
 * real forwarder against fake upstreams this test runs on 127.0.0.1 (UDP,
 * plus a TCP listener on the same port for the TC=1 case) in a thread.
 *
 * Each scenario gets a fresh loop and forwarder (a loop runs once), feeds
 * queries straight into forwarder_query() with a reply sink standing in for
 * the DNS server, and runs the loop until the sink has what it waits for or
 * a guard timer fires. Timeouts are shortened (300 ms per attempt, 1000 ms
 * in all) so the suite stays fast; the defaults are checked in test_fwd. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/forwarder.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "t.h"
#include "tdns.h"

#define ATTEMPT_MS 300
#define TOTAL_MS 1000

/* --- a fake upstream --------------------------------------------------------- */

enum up_mode {
	UP_ANSWER,	/* A 192.0.2.1 */
	UP_SILENT,	/* never answers */
	UP_WRONG_FIRST, /* wrong port, then wrong ID, then the right answer */
	UP_TC,		/* UDP: TC=1, empty; TCP: 30 A records */
};

struct upstream {
	int udp, tcp, udp_other;
	uint16_t port;
	_Atomic int mode;
	atomic_int udp_queries, tcp_queries;
	atomic_bool stop;
	uint8_t last_q[512];
	atomic_size_t last_qlen;
	pthread_t th;
};

/* A reply to query q: same ID and question, `n_a` A records of addr. */
static size_t mkreply(uint8_t *out, const uint8_t *q, size_t qlen, uint16_t id, uint16_t flags,
		      int n_a, const uint8_t addr[4])
{
	size_t off = 12, len;

	while (off < qlen && q[off] != 0)
		off += 1u + q[off];
	off += 1 + 4; /* root label, type, class */
	if (off > qlen)
		return 0;
	memcpy(out, q, off);
	out[0] = (uint8_t)(id >> 8);
	out[1] = (uint8_t)id;
	out[2] = (uint8_t)((0x8000 | flags | (q[2] << 8 & 0x0100)) >> 8);
	out[3] = (uint8_t)(0x80 | (flags & 0xff));
	out[6] = 0;
	out[7] = (uint8_t)n_a;
	out[8] = out[9] = out[10] = out[11] = 0;
	len = off;
	for (int i = 0; i < n_a; i++) {
		static const uint8_t rr[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4};
		memcpy(out + len, rr, sizeof(rr));
		memcpy(out + len + sizeof(rr), addr, 4);
		out[len + sizeof(rr) + 3] = (uint8_t)(addr[3] + i);
		len += sizeof(rr) + 4;
	}
	return len;
}

static const uint8_t good_addr[4] = {192, 0, 2, 1};
static const uint8_t evil_addr[4] = {6, 6, 6, 6};

static void up_udp(struct upstream *u)
{
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	uint8_t q[512], r[2048];
	ssize_t n = recvfrom(u->udp, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
	uint16_t id;
	size_t len;

	if (n < 12)
		return;
	memcpy(u->last_q, q, (size_t)n);
	atomic_store(&u->last_qlen, (size_t)n);
	atomic_fetch_add(&u->udp_queries, 1);
	id = (uint16_t)(q[0] << 8 | q[1]);
	switch (atomic_load(&u->mode)) {
	case UP_SILENT:
		return;
	case UP_WRONG_FIRST:
		len = mkreply(r, q, (size_t)n, id, 0, 1, evil_addr);
		sendto(u->udp_other, r, len, 0, (struct sockaddr *)&from, fl);
		len = mkreply(r, q, (size_t)n, id ^ 0x5a5a, 0, 1, evil_addr);
		sendto(u->udp, r, len, 0, (struct sockaddr *)&from, fl);
		usleep(50 * 1000);
		/* fall through */
	case UP_ANSWER:
		len = mkreply(r, q, (size_t)n, id, 0, 1, good_addr);
		break;
	case UP_TC:
		len = mkreply(r, q, (size_t)n, id, 0x0200, 0, good_addr);
		break;
	default:
		return;
	}
	sendto(u->udp, r, len, 0, (struct sockaddr *)&from, fl);
}

static bool read_full(int fd, uint8_t *buf, size_t n)
{
	while (n > 0) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (poll(&p, 1, 1000) <= 0)
			return false;
		r = read(fd, buf, n);
		if (r <= 0)
			return false;
		buf += r;
		n -= (size_t)r;
	}
	return true;
}

static void up_tcp(struct upstream *u)
{
	int c = accept(u->tcp, NULL, NULL);
	uint8_t q[514], r[4096];
	size_t qlen, len;

	if (c < 0)
		return;
	if (read_full(c, q, 2) && (qlen = (size_t)(q[0] << 8 | q[1])) <= 512 &&
	    read_full(c, q, qlen)) {
		atomic_fetch_add(&u->tcp_queries, 1);
		len = mkreply(r + 2, q, qlen, (uint16_t)(q[0] << 8 | q[1]), 0, 30, good_addr);
		r[0] = (uint8_t)(len >> 8);
		r[1] = (uint8_t)len;
		/* In two pieces: the forwarder must reassemble the frame. */
		(void)!write(c, r, 5);
		usleep(20 * 1000);
		(void)!write(c, r + 5, len + 2 - 5);
	}
	close(c);
}

static void *up_main(void *arg)
{
	struct upstream *u = arg;

	while (!atomic_load(&u->stop)) {
		struct pollfd p[2] = {{.fd = u->udp, .events = POLLIN},
				      {.fd = u->tcp, .events = POLLIN}};
		if (poll(p, 2, 20) <= 0)
			continue;
		if (p[0].revents & POLLIN)
			up_udp(u);
		if (p[1].revents & POLLIN)
			up_tcp(u);
	}
	return NULL;
}

static int bind_lo(int type, uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static uint16_t sock_port(int fd)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);

	getsockname(fd, (struct sockaddr *)&a, &l);
	return ntohs(a.sin_port);
}

static bool up_start(struct upstream *u, enum up_mode mode)
{
	memset(u, 0, sizeof(*u));
	atomic_store(&u->mode, mode);
	for (int i = 0; i < 20; i++) {
		u->udp = bind_lo(SOCK_DGRAM, 0);
		u->port = sock_port(u->udp);
		u->tcp = bind_lo(SOCK_STREAM, u->port);
		if (u->tcp >= 0)
			break;
		close(u->udp);
		u->udp = -1;
	}
	u->udp_other = bind_lo(SOCK_DGRAM, 0);
	if (u->udp < 0 || u->tcp < 0 || u->udp_other < 0 || listen(u->tcp, 8) != 0)
		return false;
	return pthread_create(&u->th, NULL, up_main, u) == 0;
}

static void up_stop(struct upstream *u)
{
	atomic_store(&u->stop, true);
	pthread_join(u->th, NULL);
	close(u->udp);
	close(u->tcp);
	close(u->udp_other);
}

static struct glued_endpoint up_ep(const struct upstream *u)
{
	struct glued_endpoint e;

	if (endpoint_parse(&e, "127.0.0.1", u->port) != 0)
		abort();
	return e;
}

/* --- the reply sink (the DNS server's part) ------------------------------------ */

#define SINK_MAX 4

struct sink {
	struct loop *l;
	struct forwarder *f;
	int n, want;
	uint64_t t0, at_ms[SINK_MAX];
	struct dns_client c[SINK_MAX];
	uint8_t msg[SINK_MAX][4096];
	size_t len[SINK_MAX];
	void (*then)(struct sink *s); /* after the first reply */
};

static void sink_reply(void *ctx, const struct dns_client *c, const uint8_t *msg, size_t len)
{
	struct sink *s = ctx;
	int i = s->n++;

	if (i < SINK_MAX) {
		s->c[i] = *c;
		s->len[i] = len < sizeof(s->msg[i]) ? len : sizeof(s->msg[i]);
		memcpy(s->msg[i], msg, s->len[i]);
		s->at_ms[i] = clock_now_ms() - s->t0;
	}
	if (i == 0 && s->then)
		s->then(s);
	if (s->n >= s->want)
		loop_stop(s->l);
}

static void guard_fire(struct loop *l, struct loop_timer *t GLUED_UNUSED,
		       uint64_t now_ms GLUED_UNUSED)
{
	loop_stop(l);
}

#define ENV_UP_MAX 2

struct env {
	struct loop *l;
	struct forwarder *f;
	struct sink sink;
	struct loop_timer guard;
	struct upstream up[ENV_UP_MAX]; /* the fake upstreams, asked in this order */
	size_t n_up;
};

/* Fake upstreams in `modes` and a fresh loop and forwarder that ask them in
 * that order, glued itself being 0.0.0.0:53; with self_first, 127.0.0.1:53
 * (glued's own address) is listed before them. */
static bool env_new(struct env *e, const enum up_mode *modes, size_t n, bool self_first)
{
	struct forwarder_cfg cfg;
	struct glued_endpoint self, ups[ENV_UP_MAX + 1];
	size_t n_ep = 0;

	memset(e, 0, sizeof(*e));
	if (self_first && endpoint_parse(&ups[n_ep++], "127.0.0.1:53", 53) != 0)
		abort();
	for (; e->n_up < n && e->n_up < ENV_UP_MAX; e->n_up++) {
		if (!up_start(&e->up[e->n_up], modes[e->n_up]))
			return false;
		ups[n_ep++] = up_ep(&e->up[e->n_up]);
	}
	e->l = loop_new(256);
	if (!e->l)
		return false;
	forwarder_cfg_default(&cfg);
	cfg.attempt_ms = ATTEMPT_MS;
	cfg.total_ms = TOTAL_MS;
	e->f = forwarder_new(e->l, &cfg, sink_reply, &e->sink);
	if (!e->f)
		return false;
	if (endpoint_parse(&self, "0.0.0.0:53", 53) != 0)
		abort();
	forwarder_set_upstreams(e->f, ups, n_ep, &self, 1, "test");
	e->sink.l = e->l;
	e->sink.f = e->f;
	e->sink.t0 = clock_now_ms();
	loop_timer_init(&e->guard, guard_fire, NULL);
	return true;
}

/* Run until `want` replies or guard_ms. */
static void env_run(struct env *e, int want, uint64_t guard_ms)
{
	e->sink.want = want;
	loop_timer_arm_in(e->l, &e->guard, guard_ms);
	if (loop_run(e->l) != 0)
		fprintf(stderr, "loop_run failed\n");
	loop_timer_disarm(e->l, &e->guard);
}

/* The cancellations the forwarder queued when freed complete in one more
 * turn of the loop, which frees the attempts; then the upstreams stop. */
static void env_free(struct env *e)
{
	forwarder_free(e->f);
	loop_update_now(e->l);
	loop_timer_arm_in(e->l, &e->guard, 100);
	if (loop_run(e->l) != 0)
		fprintf(stderr, "loop_run failed\n");
	loop_free(e->l);
	for (size_t i = 0; i < e->n_up; i++)
		up_stop(&e->up[i]);
}

/* --- queries ------------------------------------------------------------------------ */

static void ask(struct env *e, const char *name, uint16_t id, enum dns_transport tr)
{
	struct dns_client c = {.transport = tr, .fd = -1, .limit = tr == DNS_TCP ? 65535 : 512};
	struct dns_query q = {.id = id, .flags = DNS_RD, .qdcount = 1, .header_ok = true};

	q.qname_len = t_name_wire(q.qname, name);
	q.labels = 3;
	q.qtype = DNS_TYPE_A;
	q.qclass = DNS_CLASS_IN;
	c.conn_id = id; /* lets the test tell clients apart */
	if (endpoint_parse(&c.peer, "127.0.0.1:40000", 0) != 0)
		abort();
	/* Deadlines count from the loop's time: make it now, not the time of
	 * its last wake-up (a slow machine can be far past it). */
	loop_update_now(e->l);
	forwarder_query(e->f, &c, &q, NULL, 0);
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The reply's ID, its question equal to `name` byte for byte, and the
 * first answer's address. */
static void check_answer(const uint8_t *m, size_t len, uint16_t id, const char *name,
			 const uint8_t addr[4])
{
	uint8_t w[256];
	size_t nl = t_name_wire(w, name), off = 12 + nl + 4;

	T_ASSERT(len >= off + 16, "reply of %zu bytes has an answer", len);
	if (len < off + 16)
		return;
	T_EQ_INT(rd16(m), id);
	T_ASSERT(rd16(m + 2) & DNS_QR, "QR set");
	T_EQ_INT(rd16(m + 2) & DNS_RCODE_MASK, DNS_RCODE_NOERROR);
	T_EQ_MEM(m + 12, w, nl);
	T_EQ_MEM(m + off + 12, addr, 4);
}

/* --- scenarios ------------------------------------------------------------------------ */

static void test_answer(void)
{
	struct env e;
	struct upstream *u = &e.up[0];
	struct fwd_stats st;

	T_CASE("answer forwarded over UDP and rewritten to the client's ID and case")
	{
		T_ASSERT(env_new(&e, (enum up_mode[]){UP_ANSWER}, 1, false),
			 "fake upstream, loop and forwarder");
		ask(&e, "WwW.Example.COM", 0xbeef, DNS_UDP);
		env_run(&e, 1, 2000);
		T_EQ_INT(e.sink.n, 1);
		check_answer(e.sink.msg[0], e.sink.len[0], 0xbeef, "WwW.Example.COM", good_addr);
		T_EQ_INT(e.sink.c[0].conn_id, 0xbeef);
		T_EQ_INT(atomic_load(&u->udp_queries), 1);
		/* What reached the upstream: a different ID, lowercase name. */
		T_ASSERT(rd16(u->last_q) != 0xbeef, "fresh upstream ID");
		T_EQ_MEM(u->last_q + 12, "\3www\7example\3com", 17);
		forwarder_get_stats(e.f, &st);
		T_EQ_INT(st.upstream_answers, 1);
		env_free(&e);
	}
}

static void test_wrong_port_and_id(void)
{
	struct env e;
	struct fwd_stats st;

	T_CASE("replies from a wrong port or with a wrong ID are ignored; the right one is taken")
	{
		T_ASSERT(env_new(&e, (enum up_mode[]){UP_WRONG_FIRST}, 1, false),
			 "fake upstream, loop and forwarder");
		ask(&e, "www.example.com", 0x1001, DNS_UDP);
		env_run(&e, 1, 2000);
		T_EQ_INT(e.sink.n, 1);
		check_answer(e.sink.msg[0], e.sink.len[0], 0x1001, "www.example.com", good_addr);
		forwarder_get_stats(e.f, &st);
		/* The wrong port never gets past the connected socket; the
		 * wrong ID does and is counted. */
		T_EQ_INT(st.mismatched, 1);
		T_ASSERT(e.sink.at_ms[0] >= 40, "answered after the decoys (%llu ms)",
			 (unsigned long long)e.sink.at_ms[0]);
		env_free(&e);
	}
}

static void test_failover(void)
{
	struct env e;
	struct upstream *silent = &e.up[0], *good = &e.up[1];
	struct fwd_stats st;

	T_CASE("first upstream silent: failover to the second after the attempt timeout")
	{
		T_ASSERT(env_new(&e, (enum up_mode[]){UP_SILENT, UP_ANSWER}, 2, false),
			 "a silent and a good upstream, loop and forwarder");
		ask(&e, "fail.example.com", 0x2002, DNS_UDP);
		env_run(&e, 1, 3000);
		T_EQ_INT(e.sink.n, 1);
		check_answer(e.sink.msg[0], e.sink.len[0], 0x2002, "fail.example.com", good_addr);
		T_ASSERT(e.sink.at_ms[0] >= ATTEMPT_MS - 20 && e.sink.at_ms[0] < 2 * ATTEMPT_MS,
			 "answer after one attempt timeout: %llu ms",
			 (unsigned long long)e.sink.at_ms[0]);
		T_EQ_INT(atomic_load(&silent->udp_queries), 1);
		T_EQ_INT(atomic_load(&good->udp_queries), 1);
		forwarder_get_stats(e.f, &st);
		T_EQ_INT(st.timeouts, 1);
		env_free(&e);
	}
}

static void test_all_silent(void)
{
	struct env e;
	struct upstream *a = &e.up[0], *b = &e.up[1];

	T_CASE("all upstreams silent: SERVFAIL within the total budget")
	{
		T_ASSERT(env_new(&e, (enum up_mode[]){UP_SILENT, UP_SILENT}, 2, false),
			 "two silent upstreams, loop and forwarder");
		ask(&e, "void.example.com", 0x3003, DNS_UDP);
		env_run(&e, 1, TOTAL_MS + 2000);
		T_EQ_INT(e.sink.n, 1);
		T_EQ_INT(rd16(e.sink.msg[0]), 0x3003);
		T_EQ_INT(rd16(e.sink.msg[0] + 2) & DNS_RCODE_MASK, DNS_RCODE_SERVFAIL);
		T_ASSERT(e.sink.at_ms[0] >= TOTAL_MS - 20 && e.sink.at_ms[0] < TOTAL_MS + 300,
			 "SERVFAIL at the budget: %llu ms", (unsigned long long)e.sink.at_ms[0]);
		/* Attempts at 0, 300, 600, 900 ms alternate between the two. */
		T_EQ_INT(atomic_load(&a->udp_queries), 2);
		T_EQ_INT(atomic_load(&b->udp_queries), 2);
		env_free(&e);
	}
}

static void test_tcp_retry(void)
{
	struct env e;
	struct upstream *u = &e.up[0];
	struct fwd_stats st;

	T_CASE("TC=1 from the upstream: retried over TCP, full answer to a TCP client")
	{
		T_ASSERT(env_new(&e, (enum up_mode[]){UP_TC}, 1, false),
			 "fake upstream, loop and forwarder");
		ask(&e, "big.example.com", 0x4004, DNS_TCP);
		env_run(&e, 1, 3000);
		T_EQ_INT(e.sink.n, 1);
		check_answer(e.sink.msg[0], e.sink.len[0], 0x4004, "big.example.com", good_addr);
		T_EQ_INT(rd16(e.sink.msg[0] + 6), 30);
		T_ASSERT(!(rd16(e.sink.msg[0] + 2) & DNS_TC), "TC clear");
		T_EQ_INT(atomic_load(&u->udp_queries), 1);
		T_EQ_INT(atomic_load(&u->tcp_queries), 1);
		forwarder_get_stats(e.f, &st);
		T_EQ_INT(st.tcp_retries, 1);
		env_free(&e);
	}
}

static void test_coalescing(void)
{
	struct env e;
	struct upstream *u = &e.up[0];

	T_CASE("two identical queries: one upstream query, two replies with their own IDs")
	{
		T_ASSERT(env_new(&e, (enum up_mode[]){UP_ANSWER}, 1, false),
			 "fake upstream, loop and forwarder");
		ask(&e, "same.example.com", 0x5001, DNS_UDP);
		ask(&e, "SAME.example.com", 0x5002, DNS_UDP);
		env_run(&e, 2, 2000);
		T_EQ_INT(e.sink.n, 2);
		check_answer(e.sink.msg[0], e.sink.len[0], 0x5001, "same.example.com", good_addr);
		check_answer(e.sink.msg[1], e.sink.len[1], 0x5002, "SAME.example.com", good_addr);
		T_EQ_INT(atomic_load(&u->udp_queries), 1);
		env_free(&e);
	}
}

static void ask_again(struct sink *s)
{
	struct env *e = (struct env *)((char *)s - offsetof(struct env, sink));

	ask(e, "cached.example.com", 0x6002, DNS_UDP);
}

static void test_cache(void)
{
	struct env e;
	struct upstream *u = &e.up[0];
	struct fwd_stats st;

	T_CASE("cache hit: the second query is answered without an upstream query")
	{
		T_ASSERT(env_new(&e, (enum up_mode[]){UP_ANSWER}, 1, false),
			 "fake upstream, loop and forwarder");
		e.sink.then = ask_again;
		ask(&e, "cached.example.com", 0x6001, DNS_UDP);
		env_run(&e, 2, 2000);
		T_EQ_INT(e.sink.n, 2);
		check_answer(e.sink.msg[1], e.sink.len[1], 0x6002, "cached.example.com", good_addr);
		T_EQ_INT(atomic_load(&u->udp_queries), 1);
		forwarder_get_stats(e.f, &st);
		T_EQ_INT(st.cache_hits, 1);
		T_EQ_INT(st.cache_entries, 1);
		env_free(&e);
	}
}

static void test_self_and_probe(void)
{
	struct env e;
	struct upstream *u = &e.up[0];
	struct dns_query q = {0};
	size_t qlen;

	T_CASE("glued's own address is never an upstream; a probe that comes back disables one")
	{
		T_ASSERT(
		    env_new(&e, (enum up_mode[]){UP_SILENT}, 1, true),
		    "127.0.0.1:53 and a fake upstream, loop and forwarder (self = 0.0.0.0:53)");
		loop_update_now(e.l);
		forwarder_probe_loops(e.f);
		env_run(&e, 1, 200);
		/* Only the fake upstream was asked: 127.0.0.1:53 was skipped. */
		T_EQ_INT(atomic_load(&u->udp_queries), 1);
		qlen = atomic_load(&u->last_qlen);
		T_ASSERT(qlen >= 12 + 51 + 4, "probe query of %zu bytes", qlen);
		T_EQ_MEM(u->last_q + 12 + 33, "\x10glued-loop-probe", 17);
		/* The probe arrives at "glued" (the server asks first). */
		memcpy(q.qname, u->last_q + 12, 51);
		q.qname_len = 51;
		q.qtype = DNS_TYPE_TXT;
		q.qclass = DNS_CLASS_IN;
		T_ASSERT(forwarder_is_probe(e.f, &q), "recognised as our probe");
		q.qname[3] ^= 1;
		T_ASSERT(!forwarder_is_probe(e.f, &q), "another name is not a probe");
		/* Its only upstream is disabled: SERVFAIL at once. */
		ask(&e, "after.example.com", 0x7007, DNS_UDP);
		T_EQ_INT(e.sink.n, 1);
		T_EQ_INT(rd16(e.sink.msg[0] + 2) & DNS_RCODE_MASK, DNS_RCODE_SERVFAIL);
		T_EQ_INT(atomic_load(&u->udp_queries), 1);
		env_free(&e);
	}
}

int main(void)
{
	log_init(getenv("T_VERBOSE") ? LOG_LVL_DEBUG : LOG_LVL_ERROR, false);
	test_answer();
	test_wrong_port_and_id();
	test_failover();
	test_all_silent();
	test_tcp_retry();
	test_coalescing();
	test_cache();
	test_self_and_probe();
	return t_summary();
}
