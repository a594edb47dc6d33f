/* Who asked: enough to send a reply later, over the transport the query
 * came on. The DNS server fills it; the forwarder keeps a copy per waiting
 * client and hands it back with the reply. */
#ifndef GLUED_IO_DNS_CLIENT_H
#define GLUED_IO_DNS_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/addr.h"

enum dns_transport { DNS_UDP = 0, DNS_TCP = 1 };

struct dns_client {
	enum dns_transport transport;
	struct glued_endpoint peer;  /* the client */
	struct glued_endpoint local; /* the address it asked (reply from it) */
	int ifindex;		     /* interface the query arrived on (UDP) */
	int fd;			     /* UDP: listening socket; TCP: unused */
	uint64_t conn_id;	     /* TCP: connection; 0 for UDP */
	uint16_t limit;		     /* largest reply it takes */
	uint64_t fwd_start_us;	     /* DNS server: monotonic µs when forwarded (latency) */
	uint16_t query_len;	     /* DNS server: the query's bytes (a larger reply is RRL's) */
	uint8_t access;		     /* DNS server: the source's enum glued_allow_flags */
};

/* Send msg[0..len) to c. The sink drops it if the TCP connection is gone.
 * The forwarder calls this for every reply, cached or fresh. */
typedef void (*dns_reply_fn)(void *ctx, const struct dns_client *c, const uint8_t *msg, size_t len);

#endif
