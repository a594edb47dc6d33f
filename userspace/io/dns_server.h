/* The DNS server: UDP and TCP listeners on io_uring, the answerer called
 * for every query, forwarding for what it does not answer.
 *
 * UDP: one socket per address family bound to the configured endpoint,
 * received with multishot recvmsg into a provided-buffer ring where the
 * kernel has both, else with a few one-shot recvmsg ops re-armed after each
 * datagram (enum dns_server_rx); the local address taken from IP_PKTINFO /
 * IPV6_PKTINFO so replies leave from the address the client asked; replies
 * queued as sendmsg SQEs and submitted in batches. TCP: multishot (or
 * one-shot, with the UDP choice) accept, pipelined length-prefixed
 * queries, and limits so that one client cannot take TCP from the others
 * (core/tcp_admit.h: a per-source cap, the least recently active idle
 * connection closed when all are taken, idle and lifetime deadlines; per
 * connection, reading stops while too many reply bytes are queued or too
 * many queries wait on the forwarder). Never answers a message with QR=1.
 * Who gets answers and who is never rate limited: core/access.h; a UDP
 * response larger than its query to any other source goes through
 * response rate limiting (core/rrl.h): sent, slipped (TC=1) or dropped.
 */
#ifndef GLUED_IO_DNS_SERVER_H
#define GLUED_IO_DNS_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "core/dns_answer.h"
#include "core/rrl.h"
#include "core/table.h"
#include "io/dns_client.h"
#include "io/forwarder.h"
#include "io/loop.h"
#include "lib/addr.h"
#include "lib/counter.h"

#define DNS_SERVER_ALLOW_MAX 128

struct dns_server;

/* How queries are received. Both paths answer the same bytes. */
enum dns_server_rx {
	DNS_SERVER_RX_AUTO = 0,	 /* multishot where loop_multishot_ok() */
	DNS_SERVER_RX_MULTISHOT, /* multishot recvmsg into a provided-buffer
				  * ring, multishot accept */
	DNS_SERVER_RX_SINGLE,	 /* one-shot recvmsg and accept, re-armed */
};

struct dns_server_cfg {
	struct glued_endpoint bind; /* 0.0.0.0 / :: = every address */
	uint32_t ttl_s;
	unsigned tcp_max_conns;	  /* default 256 */
	uint32_t tcp_idle_ms;	  /* default 10000 */
	unsigned tcp_per_source;  /* connections per source (IPv4, IPv6 /64); default 16 */
	uint32_t tcp_lifetime_ms; /* a connection's whole life; default 120000 */
	uint32_t tcp_max_out;	  /* reply bytes queued per connection before reading
				   * stops; default 65536 */
	unsigned tcp_max_fwd;	  /* queries per connection at the forwarder before
				   * reading stops; default 32 */
	enum dns_server_rx rx;	  /* default AUTO: the loop's probe decides */
	struct rrl_cfg rrl;	  /* rate 0: off; slots 0: 8192 */
};

/* Latency of forwarded queries, from handing the query to the forwarder to
 * handing its reply to the socket (cache hits included). bucket[i] counts
 * observations in (bound[i-1], bound[i]] µs; bucket[DNS_SERVER_LAT_BUCKETS]
 * those above the last bound. */
#define DNS_SERVER_LAT_BUCKETS 14
#define DNS_SERVER_LAT_BOUNDS_US                                                                   \
	250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, \
	    5000000
/* { DNS_SERVER_LAT_BOUNDS_US } */
extern const uint32_t dns_server_lat_bounds_us[DNS_SERVER_LAT_BUCKETS];
struct dns_server_latency {
	uint64_t bucket[DNS_SERVER_LAT_BUCKETS + 1];
	uint64_t count, sum_us;
};

/* The server's own counters (lib/counter.h): field, kind, metric, labels,
 * help. The answerer's (struct dns_answer_stats) and the latency histogram
 * have shapes of their own; io/counters renders them. */
#define DNS_SERVER_MSGS_HELP_ "DNS messages by transport and direction."
#define DNS_SERVER_CONNS_HELP_ "TCP connections by outcome."
#define DNS_SERVER_RRL_HELP_                                                                       \
	"UDP responses over GLUED_RRL_RATE: sent truncated (slipped) or dropped."
#define DNS_SERVER_COUNTERS(X)                                                                     \
	X(refused, counter, "glued_dns_refused_total", "",                                         \
	  "Queries refused: the client is outside GLUED_ALLOW, or nothing to forward to.")         \
	X(probes_dropped, counter, "glued_dns_loop_probes_dropped_total", "",                      \
	  "glued's own forwarding-loop probes that came back to it.")                              \
	X(udp_rx, counter, "glued_dns_messages_total", "transport=\"udp\",direction=\"received\"", \
	  DNS_SERVER_MSGS_HELP_)                                                                   \
	X(udp_tx, counter, "glued_dns_messages_total", "transport=\"udp\",direction=\"sent\"",     \
	  DNS_SERVER_MSGS_HELP_)                                                                   \
	X(udp_tx_errors, counter, "glued_dns_udp_send_errors_total", "",                           \
	  "UDP replies the kernel refused.")                                                       \
	X(udp_truncated_rx, counter, "glued_dns_udp_truncated_received_total", "",                 \
	  "UDP datagrams larger than any query glued takes, dropped.")                             \
	X(tcp_accepted, counter, "glued_dns_tcp_connections_total", "result=\"accepted\"",         \
	  DNS_SERVER_CONNS_HELP_)                                                                  \
	X(tcp_rejected, counter, "glued_dns_tcp_connections_total", "result=\"rejected\"",         \
	  DNS_SERVER_CONNS_HELP_)                                                                  \
	X(tcp_rx, counter, "glued_dns_messages_total", "transport=\"tcp\",direction=\"received\"", \
	  DNS_SERVER_MSGS_HELP_)                                                                   \
	X(tcp_tx, counter, "glued_dns_messages_total", "transport=\"tcp\",direction=\"sent\"",     \
	  DNS_SERVER_MSGS_HELP_)                                                                   \
	X(tcp_idle_closed, counter, "glued_dns_tcp_connections_total", "result=\"idle_closed\"",   \
	  DNS_SERVER_CONNS_HELP_)                                                                  \
	X(tcp_rejected_source, counter, "glued_dns_tcp_connections_total",                         \
	  "result=\"rejected_source\"", DNS_SERVER_CONNS_HELP_)                                    \
	X(tcp_evicted, counter, "glued_dns_tcp_connections_total", "result=\"evicted\"",           \
	  DNS_SERVER_CONNS_HELP_)                                                                  \
	X(tcp_lifetime_closed, counter, "glued_dns_tcp_connections_total",                         \
	  "result=\"lifetime_closed\"", DNS_SERVER_CONNS_HELP_)                                    \
	X(tcp_paused, counter, "glued_dns_tcp_reads_paused_total", "",                             \
	  "Times a TCP connection stopped being read: too many replies queued or queries "         \
	  "forwarded.")                                                                            \
	X(rrl_slipped, counter, "glued_dns_rrl_limited_total", "result=\"slipped\"",               \
	  DNS_SERVER_RRL_HELP_)                                                                    \
	X(rrl_dropped, counter, "glued_dns_rrl_limited_total", "result=\"dropped\"",               \
	  DNS_SERVER_RRL_HELP_)                                                                    \
	X(rrl_evicted, counter, "glued_dns_rrl_evictions_total", "",                               \
	  "Rate-limit buckets taken over by a new source prefix (the table is full).")

struct dns_server_stats {
	struct dns_answer_stats answer;
	DNS_SERVER_COUNTERS(COUNTER_FIELD)
	struct dns_server_latency fwd_latency;
};

struct dns_server *dns_server_new(struct loop *l, const struct dns_server_cfg *cfg,
				  const struct table *t) GLUED_MUST_CHECK_PTR;
/* Bind and start serving; logs (info) the receive path and why. 0 or
 * -errno (the caller's log line names the endpoint); -EOPNOTSUPP when
 * cfg->rx asks for multishot and the kernel lacks it. */
int dns_server_start(struct dns_server *s) GLUED_MUST_CHECK;
void dns_server_free(struct dns_server *s);

void dns_server_set_forwarder(struct dns_server *s, struct forwarder *f);
/* Who gets answers at all (table, PTR, forwarding; everyone else gets
 * REFUSED) and who is never rate limited: replaces both lists
 * (core/access.h). 0, or -E2BIG when they hold more than ACCESS_RULES_MAX
 * distinct prefixes: then nobody gets answers. */
int dns_server_set_allow(struct dns_server *s, const struct glued_cidr *allow, size_t n,
			 const struct glued_cidr *exempt, size_t n_exempt) GLUED_MUST_CHECK;

/* dns_reply_fn for the forwarder: ctx is the struct dns_server. */
void dns_server_reply(void *ctx, const struct dns_client *c, const uint8_t *msg, size_t len);

/* The endpoints actually bound (for the forwarder's self check). */
size_t dns_server_endpoints(const struct dns_server *s, struct glued_endpoint *out, size_t max);

void dns_server_get_stats(const struct dns_server *s, struct dns_server_stats *st);

/* The receive path in use (never AUTO) and its name for logs and status:
 * "multishot" or "single-shot". */
enum dns_server_rx dns_server_rx_path(const struct dns_server *s);
const char *dns_server_rx_name(enum dns_server_rx rx);

#endif
