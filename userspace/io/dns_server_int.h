/* Internals of the DNS server shared by its two files: dns_server.c (the
 * sockets, UDP, the answer/forward/refuse decision per query) and dns_tcp.c
 * (TCP connections and their limits). Nothing outside io/dns_server*.c and
 * io/dns_tcp.c includes this.
 */
#ifndef GLUED_IO_DNS_SERVER_INT_H
#define GLUED_IO_DNS_SERVER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/access.h"
#include "core/dns_wire.h"
#include "core/rrl.h"
#include "core/tcp_admit.h"
#include "io/dns_server.h"
#include "lib/log.h"

#define UDP_BGID_BASE 1
#define UDP_BUFS                                                                                   \
	512		  /* receive buffers per socket (power of two); each                       \
			   * is recycled as soon as its query is handled */
#define UDP_BUF_SIZE 2048 /* recvmsg_out header + name + control + payload */
#define UDP_RX_OPS                                                                                 \
	8		     /* single-shot: recvmsg ops in flight per socket;                     \
			      * a re-armed op completes at once while                              \
			      * datagrams wait, so a few keep up with bursts */
#define SEND_SLOTS 1024	     /* replies in flight */
#define SLOT_BUF DNS_UDP_MAX /* the largest UDP reply we send */
#define CMSG_BUF 64
#define TCP_BUF (2 + DNS_TCP_MAX)

/* One single-shot receive: its own buffers, re-armed after each datagram. */
struct udp_rx {
	struct loop_op op;
	struct udp_sock *u;
	struct msghdr msg;
	struct iovec iov;
	struct sockaddr_storage name;
	union {
		char buf[CMSG_BUF];
		size_t align; /* cmsghdr alignment */
	} cmsg;
	uint8_t buf[UDP_BUF_SIZE];
};

struct udp_sock {
	struct dns_server *srv;
	int fd;
	int family;
	struct glued_endpoint ep;
	struct loop_bufring *br; /* multishot path */
	struct loop_op op;
	struct msghdr tmpl; /* multishot recvmsg layout */
	struct udp_rx *rx;  /* single-shot path: UDP_RX_OPS */
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
	unsigned pending; /* ops in flight on fd */
	struct glued_endpoint peer, local;
	struct loop_op recv_op, send_op;
	bool sending, receiving;
	bool held;     /* parsing stopped at a cap; resumed from send/reply */
	bool has_next; /* an accepted connection waits for this slot (eviction) */
	int next_fd;
	struct glued_endpoint next_peer;
	struct tcp_out *out_head, *out_tail;
	size_t out_bytes;      /* queued reply bytes (the cap: tcp_max_out) */
	unsigned fwd_inflight; /* queries at the forwarder (the cap: tcp_max_fwd) */
	uint64_t opened_ms, last_ms;
	struct loop_timer idle; /* the idle or lifetime deadline, whichever is first */
	size_t have;
	uint8_t *buf; /* TCP_BUF bytes */
};

struct dns_server {
	struct loop *loop;
	struct dns_server_cfg cfg;
	enum dns_server_rx rx; /* never AUTO */
	const char *rx_why;
	struct dns_answer_cfg acfg;
	const struct table *table;
	struct forwarder *fwd;
	struct udp_sock udp[2];
	size_t n_udp;
	int tcp_fd[2];
	size_t n_tcp;
	struct loop_op accept_op[2];
	struct tcp_conn *conns;
	struct tcp_admit_cfg tcp_policy;
	struct tcp_slot_view *tcp_view; /* tcp_max_conns, rebuilt per accept */
	struct send_slot *slots, *free_slots;
	size_t slots_used;    /* slots[0..slots_used) have been handed out once:
			       * untouched slots stay untouched pages */
	struct access access; /* GLUED_ALLOW and GLUED_RRL_EXEMPT, one lookup */
	struct rrl *rrl;
	uint32_t rot;
	struct dns_server_stats st;
	struct log_ratelimit rl_send, rl_recv;
	/* Every slot is in flight (a burst larger than SEND_SLOTS within one
	 * batch): the reply is sent synchronously from this one instead of
	 * being dropped. */
	struct send_slot sync_slot;
	uint8_t tcp_reply[DNS_TCP_MAX]; /* where TCP replies are built */
};

/* One query from either transport: answer, forward or refuse (dns_server.c).
 * `reply` is where an immediate reply is built (cap bytes); returns its
 * length, or 0 when nothing is to be sent now; *forwarded says whether the
 * forwarder took it (a reply will come through dns_server_reply()). */
size_t dns_server_handle(struct dns_server *s, const struct dns_client *c, const uint8_t *msg,
			 size_t len, uint8_t *reply, size_t cap, bool *forwarded);

/* TCP (dns_tcp.c). */
void dns_tcp_accept_arm(struct dns_server *s, size_t i);
void dns_tcp_accept_done(struct loop *l, struct loop_op *op, int res, uint32_t flags);
void dns_tcp_reply(struct dns_server *s, uint64_t conn_id, const uint8_t *msg, size_t len);
void dns_tcp_free(struct dns_server *s);

#endif
