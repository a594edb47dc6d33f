/* Loopback integration test of io/dns_server.c: a real loop and a real
 * server on 127.0.0.1 / 0.0.0.0, queried over real sockets from a client
 * thread. The loop runs on the main thread; the client thread stops it
 * through a pipe the loop polls. Every scenario runs through both receive
 * paths (multishot into a buffer ring, single-shot recvmsg/accept), the
 * multishot one where the kernel has it.
 *
 * Covers what the unit tests cannot: replies leave from the address that
 * was asked (pktinfo), TCP pipelining, the idle timeout, the connection
 * cap, silence for QR=1, survival of garbage, REFUSED for forwarding when
 * the client is not allowed, and response rate limiting: a burst from a
 * source that is not exempt gets the rate's answers, TC=1 slips and
 * silence, counted; an exempt source and TCP never are limited. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/table.h"
#include "io/dns_server.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "t.h"
#include "ttable.h"
#include "tdns.h"

#define IDLE_MS 300
#define MAX_CONNS 4
#define PER_SOURCE 3 /* MAX_CONNS - 1: room for one other source */

static uint16_t port;
static int stop_pipe[2];
static const char *path; /* the receive path under test, in case names */

/* A case name with the path in front; valid until the next call. */
static const char *named(const char *what)
{
	static char buf[160];

	snprintf(buf, sizeof(buf), "%s: %s", path, what);
	return buf;
}

/* --- a small DNS client ------------------------------------------------------- */

static size_t mkquery(uint8_t *out, uint16_t id, const char *name, uint16_t qtype, uint16_t flags)
{
	return t_query(out, id, flags, 0, name, qtype, 1);
}

static int udp_client(const char *dst, int timeout_ms)
{
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	inet_pton(AF_INET, dst, &sin.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One A query for name from fd (connected; a failed send fails the case);
 * what recv() returns for the reply. */
static ssize_t udp_ask(int fd, uint16_t id, const char *name, uint16_t flags, uint8_t *r,
		       size_t cap)
{
	uint8_t q[512];
	size_t n = mkquery(q, id, name, 1, flags);

	T_ASSERT(send(fd, q, n, 0) == (ssize_t)n, "query %#x sent", id);
	return recv(fd, r, cap, 0);
}

/* A TCP connection to the server from source address src (127.0.0.x). */
static int tcp_client_from(const char *src, int timeout_ms)
{
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct sockaddr_in from = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, src, &from.sin_addr);
	if (bind(fd, (struct sockaddr *)&from, sizeof(from)) < 0) {
		close(fd);
		return -1;
	}
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int tcp_client(int timeout_ms)
{
	return tcp_client_from("127.0.0.1", timeout_ms);
}

static ssize_t read_full(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = recv(fd, buf + got, n - got, 0);
		if (r <= 0)
			return r;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* One framed TCP message; returns its length, 0 on EOF, -1 on timeout. */
static ssize_t tcp_read_msg(int fd, uint8_t *buf, size_t cap)
{
	uint8_t lenb[2];
	size_t len;
	ssize_t r = read_full(fd, lenb, 2);

	if (r <= 0)
		return r < 0 ? -1 : 0;
	len = (size_t)lenb[0] << 8 | lenb[1];
	if (len > cap)
		return -1;
	return read_full(fd, buf, len);
}

static uint16_t rcode(const uint8_t *m)
{
	return m[3] & 0xf;
}

static uint16_t ancount(const uint8_t *m)
{
	return (uint16_t)(m[6] << 8 | m[7]);
}

static uint16_t msg_id(const uint8_t *m)
{
	return (uint16_t)(m[0] << 8 | m[1]);
}

/* --- the client scenarios ------------------------------------------------------ */

/* One query for "web" with id on a TCP connection; the reply's id, or -1. */
static int tcp_ask(int fd, uint16_t id)
{
	uint8_t q[512], r[4096];
	size_t ql = mkquery(q + 2, id, "web", 1, 0);
	ssize_t n;

	q[0] = (uint8_t)(ql >> 8);
	q[1] = (uint8_t)ql;
	if (fd < 0 || send(fd, q, ql + 2, 0) != (ssize_t)(ql + 2))
		return -1;
	n = tcp_read_msg(fd, r, sizeof(r));
	return n > 12 ? msg_id(r) : -1;
}

struct pipe_arg {
	int fd, count;
};

/* Sends count pipelined queries (ids 0..count-1), never reading. */
static void *pipe_sender(void *arg)
{
	struct pipe_arg *pa = arg;
	uint8_t q[512];

	for (int i = 0; i < pa->count; i++) {
		size_t ql = mkquery(q + 2, (uint16_t)i, "web", 1, 0);

		q[0] = (uint8_t)(ql >> 8);
		q[1] = (uint8_t)ql;
		if (send(pa->fd, q, ql + 2, 0) != (ssize_t)(ql + 2))
			break;
	}
	return NULL;
}

static void *client(void *arg GLUED_UNUSED)
{
	uint8_t q[512], r[4096];
	ssize_t n;
	int fd;

	T_CASE(named("UDP: A for a known name answers both addresses"))
	{
		fd = udp_client("127.0.0.1", 1000);
		n = udp_ask(fd, 0x1234, "web", 0x0100, r, sizeof(r));
		T_ASSERT(n > 12, "reply received (%zd)", n);
		if (n > 12) {
			T_EQ_INT(msg_id(r), 0x1234);
			T_EQ_INT(rcode(r), 0);
			T_EQ_INT(ancount(r), 2);
		}
		close(fd);
	}

	T_CASE(
	    named("UDP: a client outside the allow list gets REFUSED, no answer, for a known name"))
	{
		struct sockaddr_in from = {.sin_family = AF_INET};
		struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(port)};
		struct timeval tv = {.tv_sec = 1};
		int ofd = socket(AF_INET, SOCK_DGRAM, 0);

		inet_pton(AF_INET, "127.0.0.9", &from.sin_addr);
		inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
		setsockopt(ofd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		T_ASSERT(bind(ofd, (struct sockaddr *)&from, sizeof(from)) == 0 &&
			     connect(ofd, (struct sockaddr *)&dst, sizeof(dst)) == 0,
			 "client on 127.0.0.9");
		n = udp_ask(ofd, 0x2345, "web", 0x0100, r, sizeof(r));
		T_ASSERT(n > 12, "reply received (%zd)", n);
		if (n > 12) {
			T_EQ_INT(msg_id(r), 0x2345);
			T_EQ_INT(rcode(r), 5);
			T_EQ_INT(ancount(r), 0);
		}
		close(ofd);
	}

	T_CASE(named("UDP: the reply leaves from the address the client asked (127.0.0.2)"))
	{
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		struct timeval tv = {.tv_sec = 1};
		struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(port)};
		int ufd = socket(AF_INET, SOCK_DGRAM, 0);
		char a[INET_ADDRSTRLEN];

		setsockopt(ufd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		inet_pton(AF_INET, "127.0.0.2", &dst.sin_addr);
		n = (ssize_t)mkquery(q, 7, "web", 1, 0);
		sendto(ufd, q, (size_t)n, 0, (struct sockaddr *)&dst, sizeof(dst));
		n = recvfrom(ufd, r, sizeof(r), 0, (struct sockaddr *)&from, &fl);
		T_ASSERT(n > 12, "reply received (%zd)", n);
		inet_ntop(AF_INET, &from.sin_addr, a, sizeof(a));
		T_EQ_STR(a, "127.0.0.2");
		close(ufd);
	}

	T_CASE(named("UDP: a message with QR=1 gets no reply"))
	{
		fd = udp_client("127.0.0.1", 300);
		n = udp_ask(fd, 9, "web", 0x8000, r, sizeof(r));
		T_ASSERT(n < 0, "no reply expected, got %zd bytes", n);
		close(fd);
	}

	T_CASE(named("UDP: garbage and runts are survived; the next query is answered"))
	{
		fd = udp_client("127.0.0.1", 1000);
		for (int i = 0; i < 200; i++) {
			uint8_t junk[64];
			for (size_t k = 0; k < sizeof(junk); k++)
				junk[k] = (uint8_t)(i * 31 + k * 7);
			send(fd, junk, (size_t)(i % 64), 0);
		}
		/* drain whatever FORMERRs came back */
		struct timeval tv = {.tv_usec = 200000};
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		while (recv(fd, r, sizeof(r), 0) > 0)
			;
		tv.tv_sec = 1;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		n = udp_ask(fd, 0x4242, "web", 0, r, sizeof(r));
		T_ASSERT(n > 12 && msg_id(r) == 0x4242, "answered after garbage (%zd)", n);
		close(fd);
	}

	T_CASE(named("UDP: forwarding without a forwarder or permission is REFUSED"))
	{
		fd = udp_client("127.0.0.1", 1000);
		n = udp_ask(fd, 0x5151, "example.com", 0x0100, r, sizeof(r));
		T_ASSERT(n >= 12, "reply received (%zd)", n);
		if (n >= 12)
			T_EQ_INT(rcode(r), 5);
		close(fd);
	}

	T_CASE(named("TCP: three pipelined queries in one write get three answers"))
	{
		uint8_t buf[3 * 600];
		size_t off = 0;
		int seen = 0;

		fd = tcp_client(1000);
		T_ASSERT(fd >= 0, "connected");
		for (int i = 0; i < 3; i++) {
			size_t ql = mkquery(buf + off + 2, (uint16_t)(100 + i),
					    i == 1 ? "db" : "web", 1, 0);
			buf[off] = (uint8_t)(ql >> 8);
			buf[off + 1] = (uint8_t)ql;
			off += 2 + ql;
		}
		T_EQ_INT(send(fd, buf, off, 0), (ssize_t)off);
		for (int i = 0; i < 3; i++) {
			n = tcp_read_msg(fd, r, sizeof(r));
			T_ASSERT(n > 12, "answer %d received (%zd)", i, n);
			if (n > 12 && msg_id(r) >= 100 && msg_id(r) < 103)
				seen |= 1 << (msg_id(r) - 100);
		}
		T_EQ_INT(seen, 7);
		close(fd);
	}

	T_CASE(named("TCP: a query split across two writes is answered"))
	{
		size_t ql = mkquery(q + 2, 77, "web", 1, 0);
		q[0] = (uint8_t)(ql >> 8);
		q[1] = (uint8_t)ql;
		fd = tcp_client(1000);
		send(fd, q, 5, 0);
		usleep(50000);
		send(fd, q + 5, ql + 2 - 5, 0);
		n = tcp_read_msg(fd, r, sizeof(r));
		T_ASSERT(n > 12 && msg_id(r) == 77, "answered (%zd)", n);
		close(fd);
	}

	T_CASE(named("TCP: an idle connection is closed after the idle timeout"))
	{
		uint64_t t0 = clock_now_ms(), dt;

		fd = tcp_client(3000);
		n = recv(fd, r, sizeof(r), 0);
		dt = clock_now_ms() - t0;
		T_EQ_INT(n, 0);
		T_ASSERT(dt >= IDLE_MS - 50 && dt < IDLE_MS + 1500, "closed after %llu ms",
			 (unsigned long long)dt);
		close(fd);
	}

	int own[PER_SOURCE], extra, other, third;

	T_CASE(named("TCP: one source is capped; another source still gets a slot and answers"))
	{
		uint64_t t0;

		for (int i = 0; i < PER_SOURCE; i++)
			own[i] = tcp_client_from("127.0.0.1", 2000);
		usleep(100000);
		extra = tcp_client_from("127.0.0.1", 2000);
		t0 = clock_now_ms();
		n = recv(extra, r, sizeof(r), 0);
		T_ASSERT(n <= 0 && clock_now_ms() - t0 < IDLE_MS,
			 "a connection over the source's cap is closed at once (n=%zd)", n);
		other = tcp_client_from("127.0.0.2", 2000);
		T_ASSERT(tcp_ask(other, 90) == 90, "another source is answered");
	}
	T_CASE(named("TCP: all slots taken: the least recently active idle one makes room"))
	{
		/* Every slot is taken now (PER_SOURCE + 1 == MAX_CONNS). Make
		 * own[0] the least recently active: a new source takes its slot. */
		for (int i = 1; i < PER_SOURCE; i++)
			T_ASSERT(tcp_ask(own[i], (uint16_t)(100 + i)) == 100 + i, "own[%d] answers",
				 i);
		T_ASSERT(tcp_ask(other, 91) == 91, "other answers again");
		third = tcp_client_from("127.0.0.3", 2000);
		T_ASSERT(tcp_ask(third, 92) == 92, "the new connection is answered");
		n = recv(own[0], r, sizeof(r), 0);
		T_ASSERT(n <= 0, "the least recently active connection was closed (n=%zd)", n);
		T_ASSERT(tcp_ask(own[1], 93) == 93, "a more recent one still answers");
	}
	for (int i = 0; i < PER_SOURCE; i++)
		close(own[i]);
	close(extra);
	close(other);
	close(third);

	T_CASE(named("TCP: a client pipelining without reading is held back, then fully answered"))
	{
		/* 2000 queries in one burst; nothing is read until all are sent
		 * (the server stops reading past its queued-reply cap, so the
		 * sender's window fills: sent from a thread of its own), then
		 * every answer arrives, in order. */
		int pfd = tcp_client(5000), got = 0, ok_ids = 1;
		struct pipe_arg pa = {.fd = pfd, .count = 2000};
		pthread_t th;

		pthread_create(&th, NULL, pipe_sender, &pa);
		for (int i = 0; i < 2000; i++) {
			n = tcp_read_msg(pfd, r, sizeof(r));
			if (n <= 12)
				break;
			if (msg_id(r) != (uint16_t)i)
				ok_ids = 0;
			got++;
		}
		pthread_join(th, NULL);
		T_EQ_INT(got, 2000);
		T_ASSERT(ok_ids, "answers in order");
		close(pfd);
	}

	if (write(stop_pipe[1], "x", 1) != 1)
		perror("write");
	return NULL;
}

static void on_stop(struct loop *l, struct loop_op *op GLUED_UNUSED, int res GLUED_UNUSED,
		    uint32_t flags GLUED_UNUSED)
{
	loop_stop(l);
}

static void put(struct table *t, const char *owner, const char *name, const char *addr)
{
	t_table_put(t, owner, name, &addr, 1);
}

/* Serve the scenarios through receive path rx on a fresh loop. */
static void run_path(enum dns_server_rx rx, struct table *t)
{
	struct loop_op stop_op = {.fn = on_stop};
	struct dns_server_cfg cfg = {.ttl_s = 5,
				     .tcp_max_conns = MAX_CONNS,
				     .tcp_idle_ms = IDLE_MS,
				     .tcp_per_source = PER_SOURCE,
				     .tcp_max_out = 4096,
				     .rx = rx};
	struct dns_server *s = NULL;
	struct loop *l = loop_new(256);
	const char *why;
	pthread_t th;
	int ret = -1;

	path = dns_server_rx_name(rx);
	T_ASSERT(l != NULL, "loop created: %s", strerror(errno));
	if (!l)
		return;
	if (rx == DNS_SERVER_RX_MULTISHOT && !loop_multishot_ok(loop_features(l), &why)) {
		T_CASE(named("a kernel without it refuses the path with EOPNOTSUPP"))
		{
			s = dns_server_new(l, &cfg, t);
			T_EQ_INT(dns_server_start(s), -EOPNOTSUPP);
			dns_server_free(s);
		}
		fprintf(stderr, "# %s: not run here: %s\n", path, why);
		loop_free(l);
		return;
	}
	/* 0.0.0.0 so that 127.0.0.2 reaches it too; retry ports in use. */
	for (int i = 0; i < 20 && ret != 0; i++) {
		cfg.bind.addr.family = AF_INET;
		cfg.bind.port = port =
		    (uint16_t)(20000 + (getpid() * 7 + i * 977 + rx * 131) % 40000);
		dns_server_free(s);
		s = dns_server_new(l, &cfg, t);
		ret = dns_server_start(s);
	}
	T_ASSERT(ret == 0, "%s server started: %s", path, glued_strerror(ret));
	{
		/* Who gets answers: 127.0.0.0/29 (127.0.0.1..7), not 127.0.0.9. */
		struct glued_cidr allow;

		if (cidr_parse(&allow, "127.0.0.0/29") != 0)
			abort();
		T_EQ_INT(dns_server_set_allow(s, &allow, 1, NULL, 0), 0);
	}
	if (ret == 0) {
		T_CASE(named("the server runs the path it was given"))
		T_EQ_INT(dns_server_rx_path(s), rx);
		if (pipe(stop_pipe) < 0)
			abort();
		loop_poll(l, &stop_op, stop_pipe[0], POLLIN);
		pthread_create(&th, NULL, client, NULL);
		if (loop_run(l) != 0)
			T_ASSERT(0, "loop failed");
		pthread_join(th, NULL);
		close(stop_pipe[0]);
		close(stop_pipe[1]);
	}
	dns_server_free(s);
	loop_free(l);
}

/* --- response rate limiting ----------------------------------------------------- */

#define RRL_RATE 20
#define RRL_BURST 60

/* What the RRL client saw, checked against the server's counters once the
 * loop has stopped (the counters belong to the loop's thread). */
static struct {
	unsigned full, slipped, silent, other;
	unsigned exempt_full, neighbour_full, nx_answered, tcp_ok, refilled;
} seen;

static int udp_client_from(const char *src, int timeout_ms)
{
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct sockaddr_in from = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	inet_pton(AF_INET, src, &from.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&from, sizeof(from)) < 0 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* n queries for name as fast as they go, on fd (bound to its source). */
static void rrl_send(int fd, const char *name, unsigned n)
{
	uint8_t q[512];

	for (unsigned i = 0; i < n && i < RRL_BURST; i++) {
		size_t ql = mkquery(q, (uint16_t)(0x7000 + i), name, 1, 0x0100);

		T_ASSERT(send(fd, q, ql, 0) == (ssize_t)ql, "query %u sent", i);
	}
}

/* Every reply to rrl_send()'s n queries until a second passes without
 * one: counts of full replies, slips (TC=1, no answer) and silence. */
static void rrl_collect(int fd, unsigned n, unsigned *full, unsigned *slipped, unsigned *silent)
{
	uint8_t r[4096];
	bool got[RRL_BURST] = {false};
	unsigned replies = 0;

	*full = *slipped = 0;
	for (;;) {
		ssize_t k = recv(fd, r, sizeof(r), 0);
		unsigned id;

		if (k < 12)
			break;
		id = msg_id(r) - 0x7000u;
		if (id >= n || got[id])
			continue;
		got[id] = true;
		replies++;
		if (r[2] & 0x02) /* TC */
			*slipped += ancount(r) == 0 && (size_t)k <= 64;
		else
			*full += 1;
	}
	*silent = n - replies;
	close(fd);
}

static void rrl_burst(const char *src, const char *name, unsigned n, unsigned *full,
		      unsigned *slipped, unsigned *silent)
{
	int fd = udp_client_from(src, 1000);

	T_ASSERT(fd >= 0, "a UDP socket bound to %s", src);
	*full = *slipped = 0;
	*silent = n;
	if (fd < 0)
		return;
	rrl_send(fd, name, n);
	rrl_collect(fd, n, full, slipped, silent);
}

static void *rrl_client(void *arg GLUED_UNUSED)
{
	unsigned sl, si;
	int fd2 = udp_client_from("127.0.0.2", 1000), fd3 = udp_client_from("127.0.0.3", 1000);

	/* 127.0.0.2: allowed, not exempt; its /24 holds 127.0.0.3 too, whose
	 * queries come right after its burst, before a credit comes back. */
	T_ASSERT(fd2 >= 0 && fd3 >= 0, "UDP sockets bound to 127.0.0.2 and .3");
	rrl_send(fd2, "web", RRL_BURST);
	rrl_send(fd3, "web", 10);
	rrl_collect(fd2, RRL_BURST, &seen.full, &seen.slipped, &seen.silent);
	rrl_collect(fd3, 10, &seen.neighbour_full, &sl, &si);
	/* An NXDOMAIN is no larger than its query: not limited. */
	rrl_burst("127.0.0.2", "nosuchname", 10, &seen.nx_answered, &sl, &si);
	/* 127.0.0.1: exempt. */
	rrl_burst("127.0.0.1", "web", RRL_BURST, &seen.exempt_full, &sl, &si);
	/* TCP is where a slip sends the client: answered. */
	{
		int fd = tcp_client_from("127.0.0.2", 2000);

		for (int i = 0; i < 5; i++)
			seen.tcp_ok += tcp_ask(fd, (uint16_t)(0x6000 + i)) == 0x6000 + i;
		if (fd >= 0)
			close(fd);
	}
	/* The waits above let a second or more pass: the rate is banked again,
	 * and only the rate. */
	sleep(1);
	rrl_burst("127.0.0.2", "web", 2 * RRL_RATE, &seen.refilled, &sl, &si);
	if (write(stop_pipe[1], "x", 1) != 1)
		abort();
	return NULL;
}

static void run_rrl(struct table *t)
{
	struct loop_op stop_op = {.fn = on_stop};
	struct dns_server_cfg cfg = {
	    .ttl_s = 5, .rrl = {.rate = RRL_RATE, .slip = 2, .prefix4 = 24, .prefix6 = 56}};
	struct dns_server_stats st;
	struct glued_cidr allow, exempt;
	struct dns_server *s = NULL;
	struct loop *l = loop_new(256);
	pthread_t th;
	int ret = -1;

	path = "rrl";
	if (!l || cidr_parse(&allow, "127.0.0.0/29") || cidr_parse(&exempt, "127.0.0.1/32"))
		abort();
	for (int i = 0; i < 20 && ret != 0; i++) {
		cfg.bind.addr.family = AF_INET;
		cfg.bind.port = port = (uint16_t)(20000 + (getpid() * 11 + i * 877) % 40000);
		dns_server_free(s);
		s = dns_server_new(l, &cfg, t);
		ret = dns_server_start(s);
	}
	T_ASSERT(ret == 0, "rrl server started: %s", glued_strerror(ret));
	if (ret != 0) {
		dns_server_free(s);
		loop_free(l);
		return;
	}
	T_EQ_INT(dns_server_set_allow(s, &allow, 1, &exempt, 1), 0);
	if (pipe(stop_pipe) < 0)
		abort();
	loop_poll(l, &stop_op, stop_pipe[0], POLLIN);
	pthread_create(&th, NULL, rrl_client, NULL);
	if (loop_run(l) != 0)
		T_ASSERT(0, "loop failed");
	pthread_join(th, NULL);
	close(stop_pipe[0]);
	close(stop_pipe[1]);
	dns_server_get_stats(s, &st);
	fprintf(stderr,
		"# rrl: burst of %d at rate %d: %u answered, %u slipped, %u silent; "
		"counters slipped %llu dropped %llu\n",
		RRL_BURST, RRL_RATE, seen.full, seen.slipped, seen.silent,
		(unsigned long long)st.rrl_slipped, (unsigned long long)st.rrl_dropped);
	T_CASE("rrl: a burst over the rate gets the banked answers, then slips and silence by half")
	{
		/* The burst takes milliseconds: at most one more credit. */
		T_ASSERT(seen.full >= RRL_RATE && seen.full <= RRL_RATE + 2, "answered %u",
			 seen.full);
		T_EQ_INT(seen.full + seen.slipped + seen.silent, RRL_BURST);
		T_ASSERT(seen.slipped + 1 >= seen.silent && seen.silent + 1 >= seen.slipped,
			 "every 2nd limited response slips: %u slipped, %u silent", seen.slipped,
			 seen.silent);
	}
	T_CASE("rrl: the counters say what the client saw")
	{
		T_ASSERT(st.rrl_slipped >= seen.slipped, "slipped %llu, seen %u",
			 (unsigned long long)st.rrl_slipped, seen.slipped);
		T_ASSERT(st.rrl_dropped >= seen.silent, "dropped %llu, seen silent %u",
			 (unsigned long long)st.rrl_dropped, seen.silent);
		/* The neighbour's limited share (10 queries, none banked) too. */
		T_ASSERT(st.rrl_slipped + st.rrl_dropped >= seen.slipped + seen.silent + 9,
			 "limited in all %llu",
			 (unsigned long long)(st.rrl_slipped + st.rrl_dropped));
	}
	T_CASE("rrl: another source in the same /24 shares the bucket")
	T_ASSERT(seen.neighbour_full <= 1, "127.0.0.3 answered %u of 10", seen.neighbour_full);
	T_CASE("rrl: an NXDOMAIN (no larger than the query) is never limited")
	T_EQ_INT(seen.nx_answered, 10);
	T_CASE("rrl: an exempt source gets every answer")
	T_EQ_INT(seen.exempt_full, RRL_BURST);
	T_CASE("rrl: TCP from the limited source is answered")
	T_EQ_INT(seen.tcp_ok, 5);
	T_CASE("rrl: after a quiet second the rate's answers are banked again")
	T_ASSERT(seen.refilled >= RRL_RATE && seen.refilled <= RRL_RATE + 2, "answered %u of %d",
		 seen.refilled, 2 * RRL_RATE);
	dns_server_free(s);
	loop_free(l);
}

/* Holds a UDP port like a predecessor's dying ring does, then lets go. */
static void *release_later(void *arg)
{
	struct timespec ts = {0, 300 * 1000 * 1000};

	nanosleep(&ts, NULL);
	close(*(int *)arg);
	return NULL;
}

int main(void)
{
	struct table *t = table_new();
	struct loop *l;
	const char *why;

	log_init(LOG_LVL_ERROR, false);
	put(t, "c1", "web", "10.0.0.1");
	put(t, "c2", "web", "10.0.0.2");
	put(t, "c3", "db", "10.0.0.3");
	run_path(DNS_SERVER_RX_MULTISHOT, t);
	run_path(DNS_SERVER_RX_SINGLE, t);
	run_rrl(t);

	T_CASE("auto: the server takes multishot exactly where the probe allows it")
	{
		struct dns_server_cfg cfg = {.ttl_s = 5};
		struct dns_server *s;
		bool ok;

		l = loop_new(64);
		if (!l)
			abort();
		ok = loop_multishot_ok(loop_features(l), &why);
		s = dns_server_new(l, &cfg, t);
		T_EQ_INT(dns_server_rx_path(s),
			 ok ? DNS_SERVER_RX_MULTISHOT : DNS_SERVER_RX_SINGLE);
		dns_server_free(s);
		loop_free(l);
	}
	T_CASE("start waits for a port a predecessor still holds, and then binds it")
	{
		struct dns_server_cfg cfg = {.ttl_s = 5};
		struct sockaddr_in sa = {.sin_family = AF_INET};
		struct dns_server *s;
		pthread_t th;
		int fd = socket(AF_INET, SOCK_DGRAM, 0), ret = -1;

		for (int i = 0; i < 20 && ret != 0; i++) {
			sa.sin_port = htons((uint16_t)(20000 + (getpid() * 13 + i * 761) % 40000));
			ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
		}
		T_ASSERT(ret == 0, "a free port to hold: %s", strerror(errno));
		l = loop_new(64);
		if (!l)
			abort();
		cfg.bind.addr.family = AF_INET;
		cfg.bind.port = ntohs(sa.sin_port);
		s = dns_server_new(l, &cfg, t);
		pthread_create(&th, NULL, release_later, &fd);
		ret = dns_server_start(s);
		pthread_join(th, NULL);
		T_ASSERT(ret == 0, "started once the port was free: %s", glued_strerror(ret));
		dns_server_free(s);
		loop_free(l);
	}
	table_free(t);
	return t_summary();
}
