/* The gossip edge; see gossip.h. Owns the gossip socket(s), the send slots,
 * the identity, the cluster keys and replay window and the bootstrap list;
 * hands authenticated plaintext to core/gossip and seals what it emits. The
 * LAN side (the beacon, the interface prefixes the default secret admits)
 * is io/gossip_lan.c. Never decides anything about membership or records.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/gossip_admit.h"
#include "io/gossip.h"
#include "io/identity.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/rand.h"
#include "lib/wire.h"

#include "io/gossip_int.h"

/* --- sending ------------------------------------------------------------------------------- */

static void on_sent(struct loop *l, struct loop_op *op, int res, uint32_t flags GLUED_UNUSED)
{
	struct send_slot *s = op->ctx;
	struct gossip_edge *e = s->e;
	char ep[ENDPOINT_STRLEN];
	struct glued_endpoint to;

	s->busy = false;
	if (res >= 0) {
		e->st.tx_dgrams++;
		e->st.tx_bytes += (uint64_t)res;
		return;
	}
	e->st.tx_errors++;
	if (res != -ECANCELED && log_ratelimit_ok(&e->tx_rl, loop_now_ms(l)) &&
	    endpoint_from_sockaddr(&to, (struct sockaddr *)&s->ss, s->msg.msg_namelen) == 0)
		log_debug("gossip: send to %s: %s", endpoint_str(&to, ep, sizeof(ep)),
			  glued_strerror(res));
}

static struct send_slot *slot_get(struct gossip_edge *e)
{
	for (size_t i = 0; i < SEND_SLOTS; i++) {
		struct send_slot *s = &e->slots[(e->next_slot + i) % SEND_SLOTS];

		if (!s->busy) {
			e->next_slot = (e->next_slot + i + 1) % SEND_SLOTS;
			return s;
		}
	}
	return NULL;
}

/* The destination as a sockaddr for our socket's family (IPv4 peers of an
 * IPv6 socket as v4-mapped). 0 or -EAFNOSUPPORT. */
static int dest_sockaddr(const struct gossip_edge *e, const struct glued_endpoint *to,
			 struct sockaddr_storage *ss, socklen_t *len)
{
	if (to->addr.family == e->family) {
		*len = endpoint_to_sockaddr(to, ss);
		return *len ? 0 : -EAFNOSUPPORT;
	}
	if (e->family == AF_INET6 && to->addr.family == AF_INET) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		memset(ss, 0, sizeof(*ss));
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(to->port);
		s6->sin6_addr.s6_addr[10] = 0xff;
		s6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&s6->sin6_addr.s6_addr[12], to->addr.b, 4);
		*len = sizeof(*s6);
		return 0;
	}
	return -EAFNOSUPPORT;
}

/* Seal pt into buf: the header stamps this boot's epoch and the next seq.
 * Gossip to a known node ID goes under our pair key with it (so it proves
 * the sender), to an address whose node is not known yet as a HELLO under
 * the cluster key (docs/security.md, "The envelope"). */
static int seal(struct gossip_edge *e, uint8_t kind, const uint8_t *to_id, const uint8_t *pt,
		size_t len, uint8_t *buf, size_t cap)
{
	uint8_t nonce[CRYPTO_NONCE_LEN];
	struct crypto_hdr h = {.kind = kind, .epoch = e->ident.epoch, .seq = ++e->seq};
	const struct crypto_key *key = &e->keys[0];
	int ret;

	if (kind == CRYPTO_KIND_GOSSIP && !to_id)
		h.kind = CRYPTO_KIND_HELLO;
	else if (kind == CRYPTO_KIND_GOSSIP && !(key = crypto_pairs_get(&e->pairs[0], to_id)))
		return GLUED_EAUTH; /* not a usable public key: nobody can answer there */
	ret = rand_bytes(nonce, sizeof(nonce));
	if (ret)
		return ret;
	memcpy(h.node_id, e->ident.pk, GOSSIP_ID_LEN);
	return crypto_seal(key, &h, nonce, pt, len, buf, cap);
}

static void edge_sign(void *ctx, uint8_t sig[64], const uint8_t *msg, size_t len)
{
	struct gossip_edge *e = ctx;

	crypto_sign_stmt(sig, msg, len, e->ident.sk);
}

/* Seal and queue one datagram; ifindex > 0 picks the outgoing interface
 * (multicast). Drops and counts when no slot is free. */
void edge_send_sealed(struct gossip_edge *e, const struct glued_endpoint *to, uint8_t kind,
		      const uint8_t *to_id, const uint8_t *pt, size_t len, int fd, int ifindex)
{
	struct send_slot *s = slot_get(e);
	socklen_t salen;
	int n;

	if (!s) {
		e->st.tx_queue_full++;
		return;
	}
	if (dest_sockaddr(e, to, &s->ss, &salen) != 0) {
		e->st.tx_errors++;
		return;
	}
	n = seal(e, kind, to_id, pt, len, s->buf, sizeof(s->buf));
	if (n < 0) {
		e->st.tx_errors++;
		return;
	}
	s->iov = (struct iovec){.iov_base = s->buf, .iov_len = (size_t)n};
	s->msg = (struct msghdr){
	    .msg_name = &s->ss, .msg_namelen = salen, .msg_iov = &s->iov, .msg_iovlen = 1};
	if (ifindex > 0 && e->family == AF_INET) {
		struct cmsghdr *c = (struct cmsghdr *)s->cmsg.buf;
		struct in_pktinfo pi = {.ipi_ifindex = ifindex};

		memset(&s->cmsg, 0, sizeof(s->cmsg));
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		s->msg.msg_control = s->cmsg.buf;
		s->msg.msg_controllen = CMSG_SPACE(sizeof(pi));
	} else if (ifindex > 0) {
		((struct sockaddr_in6 *)&s->ss)->sin6_scope_id = (uint32_t)ifindex;
	}
	s->busy = true;
	s->e = e;
	s->op.fn = on_sent;
	s->op.ctx = s;
	loop_sendmsg(e->loop, &s->op, fd, &s->msg);
}

/* --- core plumbing ------------------------------------------------------------------------- */

/* The first authenticated contact with a bootstrap peer is logged once per
 * node ID, whether the core reports it or a bare-ID peer's beacon does. */
void edge_log_bootstrap_auth(struct gossip_edge *e, const uint8_t *id)
{
	char hex[IDENTITY_ID_HEX + 1];

	for (size_t i = 0; i < e->n_auth_logged; i++)
		if (memcmp(e->auth_logged[i], id, GOSSIP_ID_LEN) == 0)
			return;
	if (e->n_auth_logged < GOSSIP_BOOTSTRAP_MAX)
		memcpy(e->auth_logged[e->n_auth_logged++], id, GOSSIP_ID_LEN);
	identity_hex(hex, id);
	log_info("Authenticated with bootstrap peer %s", hex);
}

static void log_event(struct gossip_edge *e, const struct gossip_event *ev)
{
	char id[IDENTITY_ID_HEX + 1], ep[ENDPOINT_STRLEN];

	identity_hex(id, ev->id);
	endpoint_str(&ev->addr, ep, sizeof(ep));
	switch (ev->type) {
	case GOSSIP_EV_JOINED:
		log_info("gossip: member %.16s joined addr=%s epoch=%llu", id, ep,
			 (unsigned long long)ev->epoch);
		break;
	case GOSSIP_EV_SUSPECT:
		log_debug("gossip: member %.16s suspected addr=%s", id, ep);
		break;
	case GOSSIP_EV_DEAD:
		log_info("gossip: member %.16s dead addr=%s: its records withdrawn", id, ep);
		break;
	case GOSSIP_EV_LEFT:
		log_info("gossip: member %.16s left addr=%s", id, ep);
		break;
	case GOSSIP_EV_BOOTSTRAP_AUTH:
		edge_log_bootstrap_auth(e, ev->id);
		break;
	case GOSSIP_EV_REFUTED:
		log_info("gossip: refuted a suspicion about this node (incarnation %u)",
			 ev->incarnation);
		break;
	}
}

static void on_core_timer(struct loop *l GLUED_UNUSED, struct loop_timer *t, uint64_t now_ms)
{
	struct gossip_edge *e = t->ctx;

	gossip_tick(e->core, now_ms);
	edge_pump(e);
}

/* Send what the core queued, log its events, arm its next deadline. */
void edge_pump(struct gossip_edge *e)
{
	struct gossip_event ev;
	uint64_t deadline;
	size_t n;

	do {
		n = gossip_poll_send(e->core, e->out, OUT_BATCH);
		for (size_t i = 0; i < n; i++)
			edge_send_sealed(e, &e->out[i].to, CRYPTO_KIND_GOSSIP,
					 e->out[i].to_id_known ? e->out[i].to_id : NULL,
					 e->out[i].buf, e->out[i].len, e->rx.fd, 0);
	} while (n == OUT_BATCH);
	while (gossip_poll_event(e->core, &ev))
		log_event(e, &ev);
	if (e->left)
		return;
	deadline = gossip_next_deadline(e->core);
	if (deadline == UINT64_MAX)
		loop_timer_disarm(e->loop, &e->core_timer);
	else
		loop_timer_arm(e->loop, &e->core_timer, deadline);
}

/* The core hears of this node's record changes through its own table
 * observer, while the Docker watcher or the hosts file changes the table,
 * not through a call from us: so whatever it queued (an immediate push of
 * the delta) would wait for its next timer. Pump on the next loop turn
 * instead, once the mutation is over. */
void gossip_edge_on_table_entry(void *ctx, uint32_t origin, const char *owner GLUED_UNUSED)
{
	struct gossip_edge *e = ctx;

	if (origin == 0 && e->started && !e->left && !loop_timer_armed(&e->kick_timer))
		loop_timer_arm(e->loop, &e->kick_timer, loop_now_ms(e->loop));
}

static void on_kick_timer(struct loop *l GLUED_UNUSED, struct loop_timer *t, uint64_t now_ms)
{
	struct gossip_edge *e = t->ctx;

	gossip_tick(e->core, now_ms);
	edge_pump(e);
}

int edge_add_peer(struct gossip_edge *e, const struct glued_endpoint *ep, const uint8_t *id,
		  bool bootstrap)
{
	char s[ENDPOINT_STRLEN];
	int ret = gossip_add_peer(e->core, loop_now_ms(e->loop), ep, id, bootstrap);

	if (ret)
		log_warnx("gossip: peer %s: %s", endpoint_str(ep, s, sizeof(s)),
			  glued_strerror(ret));
	return ret;
}

/* --- receiving ----------------------------------------------------------------------------- */

static const char *open_reason(int err)
{
	switch (err) {
	case GLUED_EAUTH:
		return "authentication failed";
	case GLUED_EREPLAY:
		return "replayed or too old";
	case GLUED_ETRUNC:
		return "too short";
	case GLUED_EMALF:
		return "not a glued datagram";
	case GLUED_EBADVERS:
		return "unsupported envelope version";
	case GLUED_ESPACE:
		return "too long";
	default:
		return glued_strerror(err);
	}
}

void edge_drop_log(struct gossip_edge *e, const struct glued_endpoint *from, const char *why)
{
	char s[ENDPOINT_STRLEN];

	if (!log_ratelimit_ok(&e->drop_rl, loop_now_ms(e->loop)))
		return;
	log_warnx("gossip: drop datagram from %s: %s", endpoint_str(from, s, sizeof(s)), why);
}

static void rx_arm(struct edge_rx *r)
{
	r->iov = (struct iovec){.iov_base = r->buf, .iov_len = sizeof(r->buf)};
	r->msg = (struct msghdr){
	    .msg_name = &r->ss, .msg_namelen = sizeof(r->ss), .msg_iov = &r->iov, .msg_iovlen = 1};
	loop_recvmsg(r->e->loop, &r->op, r->fd, &r->msg);
}

/* Open with the keyring: any key opens (a rotation in progress: "new,old"
 * on some nodes, "old" or "old,new" on others), keys[0] seals. Plaintext
 * length into e->pt, or the first error that is not "wrong key". */
static int open_dgram(struct gossip_edge *e, const uint8_t *buf, size_t len, struct crypto_hdr *h)
{
	int n = crypto_peek_hdr(buf, len, h);

	if (n)
		return n;
	n = GLUED_EAUTH;
	for (size_t i = 0; i < e->n_keys && n == GLUED_EAUTH; i++) {
		if (h->kind == CRYPTO_KIND_GOSSIP) {
			const struct crypto_key *k = crypto_pairs_get(&e->pairs[i], h->node_id);

			n = k ? crypto_open(k, &e->replay, buf, len, e->pt, sizeof(e->pt), h)
			      : GLUED_EAUTH;
		} else {
			n = crypto_open(&e->keys[i], NULL, buf, len, e->pt, sizeof(e->pt), h);
		}
	}
	return n;
}

static void handle_dgram(struct gossip_edge *e, const struct glued_endpoint *from,
			 const uint8_t *buf, size_t len)
{
	struct crypto_hdr h;
	int n, ret;

	e->st.rx_dgrams++;
	e->st.rx_bytes += len;
	/* Only a pair-key datagram proves its sender, so only it may move the
	 * sender's replay window; a hello or beacon, which any member could
	 * seal with any ID, is checked against no window (the core treats it
	 * as a claim: gossip_recv_unverified, edge_beacon_recv). */
	if (e->lan_only && !edge_source_local(e, &from->addr)) {
		e->st.rx_not_local++;
		edge_drop_log(e, from, "not from a directly connected subnet (default secret)");
		return;
	}
	n = open_dgram(e, buf, len, &h);
	if (n < 0) {
		if (n == GLUED_EAUTH)
			e->st.rx_auth_failed++;
		else if (n == GLUED_EREPLAY)
			e->st.rx_replayed++;
		else
			e->st.rx_envelope_bad++;
		edge_drop_log(e, from, open_reason(n));
		return;
	}
	if (memcmp(h.node_id, e->ident.pk, GOSSIP_ID_LEN) == 0) {
		e->st.rx_self++;
		return;
	}
	if (h.kind == CRYPTO_KIND_BEACON) {
		edge_beacon_recv(e, from, h.node_id, e->pt, (size_t)n);
	} else {
		ret = h.kind == CRYPTO_KIND_GOSSIP
			  ? gossip_recv(e->core, loop_now_ms(e->loop), from, h.node_id, e->pt,
					(size_t)n)
			  : gossip_recv_unverified(e->core, loop_now_ms(e->loop), from, h.node_id,
						   e->pt, (size_t)n);
		if (ret) {
			e->st.rx_core_rejected++;
			if (ret != GLUED_ELIMIT)
				edge_drop_log(e, from, glued_strerror(ret));
		}
	}
	edge_pump(e);
}

static void on_recv(struct loop *l GLUED_UNUSED, struct loop_op *op, int res,
		    uint32_t flags GLUED_UNUSED)
{
	struct edge_rx *r = op->ctx;
	struct gossip_edge *e = r->e;
	struct glued_endpoint from;

	if (res == -ECANCELED || e->left)
		return;
	if (res < 0) {
		e->st.rx_errors++;
	} else if (endpoint_from_sockaddr(&from, (struct sockaddr *)&r->ss, r->msg.msg_namelen) ==
		   0) {
		handle_dgram(e, &from, r->buf, (size_t)res);
	}
	rx_arm(r);
}

/* --- bootstrap peers ----------------------------------------------------------------------- */

/* Host names are looked up by io/resolver, off the loop: getaddrinfo can
 * block for as long as a silent name server makes it, and nothing on the
 * loop may (docs/architecture.md). IP literals need no lookup. */

static void on_resolved(void *ctx, uint64_t tag, int err, const struct glued_addr *addrs,
			size_t n GLUED_UNUSED)
{
	struct gossip_edge *e = ctx;
	struct pending_peer *p = &e->pend[tag];
	struct glued_endpoint ep;

	p->resolving = false;
	if (e->left || p->done)
		return;
	if (err) {
		e->st.resolve_failures++;
		if (!p->failure_logged)
			log_warnx("gossip: bootstrap peer %s: cannot resolve: %s; retrying every "
				  "%d s",
				  p->p.host, err == -ETIMEDOUT ? "no answer in time" : "no address",
				  RESOLVE_RETRY_MS / 1000);
		p->failure_logged = true;
		if (!loop_timer_armed(&e->resolve_timer))
			loop_timer_arm_in(e->loop, &e->resolve_timer, RESOLVE_RETRY_MS);
		return;
	}
	/* The resolver asked for our socket's family (either, for IPv6). */
	ep = (struct glued_endpoint){.addr = addrs[0], .port = p->p.port};
	p->done = true;
	(void)edge_add_peer(e, &ep, p->has_id ? p->id : NULL, true);
	edge_pump(e);
}

/* Add the peers given as addresses, start a lookup for each host name not
 * being looked up yet (as many as the resolver takes); how many are still
 * pending. */
size_t edge_resolve_pending(struct gossip_edge *e)
{
	size_t left = 0;

	for (size_t i = 0; i < e->n_pend; i++) {
		struct pending_peer *p = &e->pend[i];
		struct glued_endpoint ep = {.port = p->p.port};
		int ret;

		if (p->done || !p->p.host[0])
			continue;
		if (addr_parse(&ep.addr, p->p.host) == 0) {
			p->done = true;
			(void)edge_add_peer(e, &ep, p->has_id ? p->id : NULL, true);
			continue;
		}
		left++;
		if (p->resolving)
			continue;
		ret = resolver_lookup(e->res, p->p.host, e->family, i);
		if (ret == 0)
			p->resolving = true;
		else if (ret != -EBUSY && !p->failure_logged) {
			log_warnx("gossip: bootstrap peer %s: cannot look it up: %s", p->p.host,
				  glued_strerror(ret));
			p->failure_logged = true;
		}
	}
	return left;
}

static void on_resolve_timer(struct loop *l, struct loop_timer *t, uint64_t now_ms GLUED_UNUSED)
{
	struct gossip_edge *e = t->ctx;

	if (edge_resolve_pending(e) > 0)
		loop_timer_arm_in(l, t, RESOLVE_RETRY_MS);
	edge_pump(e);
}

/* --- life cycle ---------------------------------------------------------------------------- */

static int open_socket(int family, const struct glued_endpoint *ep, bool reuse)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, zero = 0, ret;

	fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (reuse)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6) {
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &zero, sizeof(zero));
	} else {
		/* Only the groups this socket joined, not every group of the host. */
		(void)setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof(zero));
		(void)setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof(zero));
	}
	len = endpoint_to_sockaddr(ep, &ss);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

struct gossip_edge *gossip_edge_new(struct loop *l, const struct glued_config *cfg, struct table *t,
				    char *err, size_t errlen)
{
	struct gossip_edge *e;
	struct gossip_cfg gc = {0};
	uint8_t topic[CRYPTO_TOPIC_LEN];
	int ret;

	if (crypto_global_init() != 0) {
		snprintf(err, errlen, "gossip: libsodium cannot initialise");
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "gossip: out of memory");
		return NULL;
	}
	e->loop = l;
	e->cfg = cfg;
	e->table = t;
	e->rx.fd = e->brx.fd = -1;
	e->drop_rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(1, 5);
	e->tx_rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(1, 5);
	e->slots = calloc(SEND_SLOTS, sizeof(*e->slots));
	e->members = calloc(GOSSIP_MEMBERS_MAX, sizeof(*e->members));
	if (!e->slots || !e->members) {
		snprintf(err, errlen, "gossip: out of memory");
		goto err_alloc;
	}
	ret = identity_load(&e->ident, cfg->state_dir, err, errlen);
	if (ret)
		goto err_alloc;
	if (cfg->topic_id_set)
		memcpy(topic, cfg->topic_id, sizeof(topic));
	else
		crypto_default_topic(topic);
	{
		const char *sp[CONFIG_SECRETS_MAX];
		size_t sl[CONFIG_SECRETS_MAX], n = config_secrets(cfg->cluster_secret, sp, sl);

		if (n == 0) {
			snprintf(err, errlen, "gossip: GLUED_CLUSTER_SECRET: no usable secret");
			goto err_ident;
		}
		for (; e->n_keys < n; e->n_keys++) {
			crypto_key_derive(&e->keys[e->n_keys], sp[e->n_keys], sl[e->n_keys], topic);
			if (crypto_pairs_init(&e->pairs[e->n_keys], &e->keys[e->n_keys],
					      e->ident.sk) != 0) {
				snprintf(err, errlen,
					 "gossip: the node key cannot derive pair "
					 "keys (out of memory?)");
				goto err_pairs;
			}
		}
	}
	e->lan_only = cfg->cluster_secret_default;
	if (crypto_replay_init(&e->replay, REPLAY_SENDERS, REPLAY_WINDOWS) != 0) {
		snprintf(err, errlen, "gossip: out of memory");
		goto err_pairs;
	}
	memcpy(gc.self_id, e->ident.pk, GOSSIP_ID_LEN);
	gc.self_addr = cfg->gossip_bind;
	gc.epoch = e->ident.epoch;
	gossip_timing_defaults(&gc.timing);
	gc.signer = (struct gossip_signer){edge_sign, e};
	e->core = gossip_new(&gc, t, rand_kernel);
	if (!e->core) {
		snprintf(err, errlen, "gossip: cannot create the protocol core (out of memory?)");
		goto err_replay;
	}
	e->res = resolver_new(l, RESOLVE_PENDING_MAX, RESOLVE_TIMEOUT_MS, on_resolved, e);
	if (!e->res) {
		snprintf(err, errlen, "gossip: out of memory");
		goto err_core;
	}
	loop_timer_init(&e->core_timer, on_core_timer, e);
	loop_timer_init(&e->beacon_timer, edge_on_beacon_timer, e);
	loop_timer_init(&e->resolve_timer, on_resolve_timer, e);
	loop_timer_init(&e->kick_timer, on_kick_timer, e);
	return e;

err_core:
	gossip_free(e->core);
err_replay:
	crypto_replay_fini(&e->replay);
err_pairs:
	for (size_t i = 0; i < e->n_keys; i++)
		crypto_pairs_fini(&e->pairs[i]);
err_ident:
	identity_clear(&e->ident);
	sodium_memzero(e->keys, sizeof(e->keys));
err_alloc:
	free(e->members);
	free(e->slots);
	free(e);
	return NULL;
}

static void warn_config(const struct gossip_edge *e)
{
	const struct glued_config *cfg = e->cfg;

	if (cfg->cluster_secret_default)
		log_warnx("gossip: GLUED_CLUSTER_SECRET is the default: anyone on a directly "
			  "connected subnet can join this cluster on port %u and read its "
			  "names (gossip from elsewhere is dropped); set a random secret "
			  "(e.g. 32 bytes from /dev/urandom in hex) on every node",
			  (unsigned)cfg->gossip_bind.port);
	else {
		const char *sp[CONFIG_SECRETS_MAX];
		size_t sl[CONFIG_SECRETS_MAX], n = config_secrets(cfg->cluster_secret, sp, sl);

		for (size_t i = 0; i < n; i++)
			if (sl[i] < 16)
				log_warnx("gossip: GLUED_CLUSTER_SECRET (secret %zu of %zu) is "
					  "shorter than 16 characters: it can be guessed offline "
					  "from one captured datagram (docs/security.md)",
					  i + 1, n);
		if (n > 1)
			log_info("gossip: %zu cluster secrets: sending with the first, "
				 "accepting any",
				 n);
	}
	if (!cfg->topic_id_set)
		log_warnx("gossip: GLUED_TOPIC_ID not set: using the default topic; nodes with "
			  "different topics never talk to each other");
}

int gossip_edge_start(struct gossip_edge *e, char *err, size_t errlen)
{
	const struct glued_config *cfg = e->cfg;
	char s[ENDPOINT_STRLEN];
	struct glued_endpoint gep;
	int fd;

	e->bind = cfg->gossip_bind;
	e->family = e->bind.addr.family;
	warn_config(e);
	fd = open_socket(e->family, &e->bind, true);
	if (fd < 0) {
		snprintf(err, errlen, "gossip: bind %s: %s", endpoint_str(&e->bind, s, sizeof(s)),
			 glued_strerror(fd));
		return fd;
	}
	e->rx =
	    (struct edge_rx){.e = e, .fd = fd, .op = {.fn = on_recv, .ctx = &e->rx, .first = true}};
	(void)addr_parse(&e->group,
			 e->family == AF_INET ? GOSSIP_BEACON_GROUP4 : GOSSIP_BEACON_GROUP6);
	if (!addr_is_any(&e->bind.addr)) {
		/* A socket bound to one unicast address never sees multicast:
		 * the beacon gets its own socket on the group address. */
		gep = (struct glued_endpoint){.addr = e->group, .port = e->bind.port};
		fd = open_socket(e->family, &gep, true);
		if (fd < 0)
			log_warnx("gossip: beacon socket %s: %s: no zero-config discovery",
				  endpoint_str(&gep, s, sizeof(s)), glued_strerror(fd));
		else
			e->brx = (struct edge_rx){
			    .e = e, .fd = fd, .op = {.fn = on_recv, .ctx = &e->brx, .first = true}};
	}
	log_info("Gossip endpoint created node_id=%s addr=%s", e->ident.node_id,
		 endpoint_str(&e->bind, s, sizeof(s)));
	log_info("gossip: epoch %llu, state in %s%s", (unsigned long long)e->ident.epoch,
		 cfg->state_dir, e->ident.created ? " (new identity)" : "");
	if (e->ident.mode_fixed)
		log_warnx("gossip: %s/node.key was readable by others: now 0600", cfg->state_dir);

	if (e->lan_only)
		edge_local_scan(e);
	rx_arm(&e->rx);
	if (e->brx.fd >= 0)
		rx_arm(&e->brx);

	for (size_t i = 0; i < cfg->n_peers && e->n_pend < CONFIG_PEERS_MAX; i++) {
		struct pending_peer *p = &e->pend[e->n_pend++];

		p->p = cfg->peers[i];
		p->has_id = p->p.node_id[0] && identity_unhex(p->id, p->p.node_id) == 0;
	}
	if (edge_resolve_pending(e) > 0)
		loop_timer_arm_in(e->loop, &e->resolve_timer, RESOLVE_RETRY_MS);
	edge_beacon_send(e);
	loop_timer_arm_in(e->loop, &e->beacon_timer, BEACON_INTERVAL_MS);
	e->started = true;
	edge_pump(e);
	return 0;
}

void gossip_edge_leave(struct gossip_edge *e)
{
	uint8_t buf[SEALED_MAX];
	size_t n;

	if (!e || !e->started || e->left)
		return;
	gossip_leave(e->core, clock_now_ms());
	e->left = true;
	/* The loop is about to stop: send synchronously, now. */
	do {
		n = gossip_poll_send(e->core, e->out, OUT_BATCH);
		for (size_t i = 0; i < n; i++) {
			struct sockaddr_storage ss;
			socklen_t salen;
			int len;

			if (dest_sockaddr(e, &e->out[i].to, &ss, &salen) != 0)
				continue;
			len = seal(e, CRYPTO_KIND_GOSSIP,
				   e->out[i].to_id_known ? e->out[i].to_id : NULL, e->out[i].buf,
				   e->out[i].len, buf, sizeof(buf));
			if (len > 0 && sendto(e->rx.fd, buf, (size_t)len, 0, (struct sockaddr *)&ss,
					      salen) == len)
				e->st.tx_dgrams++;
			else
				e->st.tx_errors++;
		}
	} while (n == OUT_BATCH);
	loop_timer_disarm(e->loop, &e->core_timer);
	loop_timer_disarm(e->loop, &e->beacon_timer);
	loop_timer_disarm(e->loop, &e->resolve_timer);
	loop_timer_disarm(e->loop, &e->kick_timer);
	log_info("gossip: left the cluster");
}

void gossip_edge_free(struct gossip_edge *e)
{
	if (!e)
		return;
	loop_timer_disarm(e->loop, &e->core_timer);
	loop_timer_disarm(e->loop, &e->beacon_timer);
	loop_timer_disarm(e->loop, &e->resolve_timer);
	loop_timer_disarm(e->loop, &e->kick_timer);
	if (e->rx.fd >= 0)
		close(e->rx.fd);
	if (e->brx.fd >= 0)
		close(e->brx.fd);
	resolver_free(e->res);
	gossip_free(e->core);
	crypto_replay_fini(&e->replay);
	for (size_t i = 0; i < e->n_keys; i++)
		crypto_pairs_fini(&e->pairs[i]);
	identity_clear(&e->ident);
	sodium_memzero(e->keys, sizeof(e->keys));
	free(e->members);
	free(e->slots);
	free(e);
}

void *gossip_edge_core_observer_ctx(struct gossip_edge *e)
{
	return e->core;
}

void gossip_edge_get_stats(const struct gossip_edge *e, struct gossip_edge_stats *st)
{
	*st = e->st;
	st->replay = e->replay.st;
	resolver_get_stats(e->res, &st->resolver);
	gossip_get_stats(e->core, &st->core);
}

const struct gossip *gossip_edge_core(const struct gossip_edge *e)
{
	return e->core;
}

const char *gossip_edge_node_id(const struct gossip_edge *e)
{
	return e->ident.node_id;
}

bool gossip_edge_lan_only(const struct gossip_edge *e)
{
	return e->lan_only;
}

size_t gossip_edge_keys(const struct gossip_edge *e)
{
	return e->n_keys;
}

const struct glued_endpoint *gossip_edge_bind(const struct gossip_edge *e)
{
	return &e->bind;
}
