/* Forwarder core: upstream choice, reply matching, coalescing, the TTL an
 * answer is cached for (the cache itself is core/fwd_cache.c), the
 * per-client cap, loop probes, and the per-client rewrite of answers.
 *
 * Owns the slot, waiter and client pools and the cache; it must never touch a
 * socket, read a clock, call getrandom or log — `now_ms`, bytes and an RNG
 * come in, callbacks and counters go out. Everything it parses is untrusted
 * upstream bytes: every read is bounded and a message that does not walk
 * cleanly is a bad answer, never a crash.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/fwd.h"
#include "core/fwd_cache.h"
#include "core/fwd_clients.h"
#include "lib/wire.h"

#define NONE UINT32_MAX
#define OPT_RR_LEN 11 /* root owner, type, class, ttl, rdlength */

/* A client waiting on a slot: what its reply needs besides the answer. */
struct fwd_waiter {
	uint32_t next;
	uint32_t client; /* its entry in the client table */
	uint16_t id, flags, limit;
	bool edns, do_bit;
	uint8_t case_bits[(DNS_NAME_MAX + 7) / 8]; /* 1 = uppercase letter */
};

struct fwd_slot {
	bool used, probe, tcp;
	struct fwd_key key;
	uint32_t hash, hnext; /* coalescing chain; free-list link when unused */
	uint16_t id;	      /* of the current attempt */
	struct glued_endpoint to;
	uint32_t ups;	/* index of the current attempt's upstream */
	uint32_t tried; /* bitmask of upstreams asked */
	int last_rcode; /* SERVFAIL/REFUSED seen, or -1 */
	uint64_t start_ms, deadline_ms;
	uint32_t w_head, w_tail;
};

struct fwd_ups {
	struct glued_endpoint ep;
	bool disabled;
	bool looped; /* probe[0] came back to us */
	/* The probe name sent last and the one before: a probe still on its
	 * way round a loop when the list is set again is recognised too. */
	uint8_t probe[2][DNS_NAME_MAX];
	uint8_t probe_len[2]; /* 0: no probe sent */
	uint64_t reprobe_ms;  /* disabled: probe again at or after this */
	uint32_t backoff_ms;  /* disabled: the wait after that probe */
};

struct fwd {
	struct fwd_cfg cfg;
	struct fwd_io io;
	struct glued_rng rng;
	/* SipHash key from the RNG at fwd_new(): names and addresses are
	 * chosen by clients, so the bucket they land in must not be. */
	uint8_t hkey[crypto_shorthash_KEYBYTES];

	struct fwd_ups ups[FWD_MAX_UPSTREAMS];
	uint32_t n_ups, pref; /* pref: the upstream that last answered well */

	struct fwd_slot *slots;
	uint32_t slot_free, *slot_buckets, slot_mask;
	struct fwd_waiter *waiters;
	uint32_t waiter_free;
	struct fwd_clients clients; /* waiting per client address */

	struct fwd_cache cache;

	struct fwd_stats st;
	uint8_t out[FWD_MSG_MAX + OPT_RR_LEN]; /* what we hand out */
	uint8_t norm[FWD_MSG_MAX];	       /* the current answer, normalised */
};

void fwd_cfg_default(struct fwd_cfg *cfg)
{
	*cfg = (struct fwd_cfg){
	    .cache_max_bytes = 4u << 20,
	    .attempt_ms = 1000,
	    .total_ms = 3500,
	    .max_inflight = 1024,
	    .max_waiters = 4096,
	    .max_per_client = 64,
	    .neg_ttl_s = 5,
	    .neg_ttl_max_s = 300,
	    .max_ttl_s = 3600,
	};
}

/* --- small helpers ------------------------------------------------------- */

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static bool ep_eq(const struct glued_endpoint *a, const struct glued_endpoint *b)
{
	return a->port == b->port && a->addr.family == b->addr.family &&
	       memcmp(a->addr.b, b->addr.b, sizeof(a->addr.b)) == 0;
}

/* SipHash-2-4 (libsodium's crypto_shorthash) under the core's random key:
 * without the key no one can choose names or addresses that share a
 * bucket, as they could with an unkeyed hash. */
static uint32_t keyed_hash(const struct fwd *f, const uint8_t *in, size_t len)
{
	uint8_t h[crypto_shorthash_BYTES];

	crypto_shorthash(h, in, len, f->hkey);
	return (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
}

static uint32_t key_hash(const struct fwd *f, const struct fwd_key *k)
{
	uint8_t buf[DNS_NAME_MAX + 5];

	memcpy(buf, k->name, k->name_len);
	buf[k->name_len] = k->bits;
	put16(buf + k->name_len + 1, k->qtype);
	put16(buf + k->name_len + 3, k->qclass);
	return keyed_hash(f, buf, k->name_len + 5u);
}

static bool key_eq(const struct fwd_key *a, const struct fwd_key *b)
{
	return a->name_len == b->name_len && a->bits == b->bits && a->qtype == b->qtype &&
	       a->qclass == b->qclass && memcmp(a->name, b->name, a->name_len) == 0;
}

/* A wire-form name as the server parsed it: at most 255 bytes, ends with
 * the root label exactly at len. Checked again because the core takes it
 * from its caller. */
static bool name_ok(const uint8_t *n, size_t len)
{
	size_t off = 0;

	if (len == 0 || len > DNS_NAME_MAX)
		return false;
	while (off < len) {
		uint8_t c = n[off];
		if (c == 0)
			return off + 1 == len;
		if (c > DNS_LABEL_MAX)
			return false;
		off += 1u + c;
	}
	return false;
}

static bool key_from_query(struct fwd_key *k, struct fwd_waiter *w, const struct dns_query *q)
{
	if (!name_ok(q->qname, q->qname_len))
		return false;
	memset(w->case_bits, 0, sizeof(w->case_bits));
	for (size_t i = 0; i < q->qname_len; i++) {
		uint8_t c = q->qname[i];
		k->name[i] = lower(c);
		if (c != k->name[i])
			w->case_bits[i / 8] |= (uint8_t)(1u << (i % 8));
	}
	k->name_len = q->qname_len;
	k->qtype = q->qtype;
	k->qclass = q->qclass;
	k->bits = (q->edns && q->edns_do ? FWD_KEY_DO : 0) | (q->flags & DNS_CD ? FWD_KEY_CD : 0);
	w->id = q->id;
	w->flags = q->flags;
	w->edns = q->edns;
	w->do_bit = q->edns && q->edns_do;
	return true;
}

/* --- answers (walked by core/dns_wire: dns_msg_scan, dns_msg_age) ------------ */

/* The question at offset 12 is ours: exactly one, the same name ignoring
 * ASCII case, type and class. Upstreams do not compress the question (there
 * is nothing before it to point at), so neither do we accept it. */
static bool question_matches(const uint8_t *m, size_t len, const struct fwd_key *k, size_t *qend)
{
	struct wire w = wire_init(m, len);
	const uint8_t *name;
	uint16_t qdcount, qtype, qclass;

	wire_skip(&w, 4); /* ID, flags */
	qdcount = wire_u16(&w);
	wire_seek(&w, DNS_HDR_LEN);
	name = wire_take(&w, k->name_len);
	qtype = wire_u16(&w);
	qclass = wire_u16(&w);
	if (w.err || qdcount != 1 || qtype != k->qtype || qclass != k->qclass)
		return false;
	for (size_t i = 0; i < k->name_len; i++)
		if (lower(name[i]) != k->name[i])
			return false;
	*qend = wire_offset(&w);
	return true;
}

/* Answer -> f->norm: records up to the end of the walk, the OPT removed
 * (if it is not the last record, the additional records after it go too,
 * so no compression pointer can point into moved bytes), question
 * lowercased. Clients get our own OPT, not the upstream's. */
static size_t normalise(struct fwd *f, const uint8_t *m, const struct fwd_key *k,
			const struct dns_msg_info *mi)
{
	size_t len = mi->opt_len ? mi->opt_off : mi->end;

	memcpy(f->norm, m, len);
	if (mi->opt_len)
		put16(f->norm + 10, mi->ar_before_opt);
	memcpy(f->norm + DNS_HDR_LEN, k->name, k->name_len);
	return len;
}

/* TTL a cached answer lives, in seconds; 0: do not cache. */
static uint32_t answer_ttl(const struct fwd *f, const struct dns_msg_info *mi)
{
	unsigned rcode = mi->flags & DNS_RCODE_MASK;
	uint32_t ttl;

	if (mi->flags & DNS_TC)
		return 0;
	if (rcode == DNS_RCODE_NXDOMAIN || (rcode == DNS_RCODE_NOERROR && mi->an == 0)) {
		/* A name that does not exist yet may be created any moment:
		 * however long the zone says, do not deny it for more than
		 * neg_ttl_max_s (RFC 2308 section 5 lets resolvers cap it). */
		ttl = mi->has_soa ? mi->soa_ttl : f->cfg.neg_ttl_s;
		if (ttl > f->cfg.neg_ttl_max_s)
			ttl = f->cfg.neg_ttl_max_s;
	} else if (rcode == DNS_RCODE_NOERROR)
		ttl = mi->min_ttl == UINT32_MAX ? 0 : mi->min_ttl;
	else
		return 0; /* SERVFAIL, REFUSED, FORMERR...: never cached */
	return ttl < f->cfg.max_ttl_s ? ttl : f->cfg.max_ttl_s;
}

/* --- building replies ----------------------------------------------------- */

static size_t put_opt(uint8_t *p, bool do_bit)
{
	p[0] = 0;
	put16(p + 1, DNS_TYPE_OPT);
	put16(p + 3, FWD_EDNS_SIZE);
	put32(p + 5, do_bit ? 0x8000u : 0); /* ext RCODE 0, version 0, DO */
	put16(p + 9, 0);
	return OPT_RR_LEN;
}

/* The client's question (its case) at f->out + 12. */
static void put_question(struct fwd *f, const struct fwd_key *k, const struct fwd_waiter *w)
{
	uint8_t *q = f->out + DNS_HDR_LEN;

	for (size_t i = 0; i < k->name_len; i++) {
		bool up = w->case_bits[i / 8] & (1u << (i % 8));
		q[i] = up ? (uint8_t)(k->name[i] - 32) : k->name[i];
	}
	put16(q + k->name_len, k->qtype);
	put16(q + k->name_len + 2, k->qclass);
}

/* Header, question and OPT only: SERVFAIL, a passed-on REFUSED, or the
 * truncated form (TC=1) of an answer too big for the client. */
static size_t build_empty(struct fwd *f, const struct fwd_key *k, const struct fwd_waiter *w,
			  uint16_t flags)
{
	size_t len = DNS_HDR_LEN + (size_t)k->name_len + 4;

	put16(f->out, w->id);
	put16(f->out + 2, (uint16_t)((flags & ~DNS_RD) | (w->flags & DNS_RD) | DNS_QR));
	put16(f->out + 4, 1);
	put16(f->out + 6, 0);
	put16(f->out + 8, 0);
	put16(f->out + 10, w->edns ? 1 : 0);
	put_question(f, k, w);
	if (w->edns)
		len += put_opt(f->out + len, w->do_bit);
	return len;
}

static size_t build_rcode(struct fwd *f, const struct fwd_key *k, const struct fwd_waiter *w,
			  unsigned rcode)
{
	return build_empty(f, k, w, (uint16_t)(DNS_RA | (w->flags & DNS_CD) | rcode));
}

/* A normalised answer rewritten for one client: its ID, RD bit and
 * question case, TTLs aged, our OPT if it sent one; TC=1 and no records if
 * that does not fit its limit. */
static size_t build_answer(struct fwd *f, const struct fwd_key *k, const struct fwd_waiter *w,
			   const uint8_t *ans, size_t len, uint32_t age_s)
{
	uint16_t flags = get16(ans + 2);

	if (len + (w->edns ? OPT_RR_LEN : 0) > w->limit)
		return build_empty(f, k, w, flags | DNS_TC);
	memcpy(f->out, ans, len);
	put16(f->out, w->id);
	put16(f->out + 2, (uint16_t)((flags & ~DNS_RD) | (w->flags & DNS_RD)));
	put_question(f, k, w);
	if (age_s)
		dns_msg_age(f->out, len, age_s);
	if (w->edns) {
		len += put_opt(f->out + len, w->do_bit);
		put16(f->out + 10, (uint16_t)(get16(f->out + 10) + 1));
	}
	return len;
}

static uint32_t client_hash(const struct fwd *f, const struct glued_addr *a)
{
	uint8_t buf[1 + sizeof(a->b)];

	buf[0] = a->family;
	memcpy(buf + 1, a->b, sizeof(a->b));
	return keyed_hash(f, buf, sizeof(buf));
}

/* --- pools ------------------------------------------------------------------ */

static uint32_t waiter_get(struct fwd *f)
{
	uint32_t i = f->waiter_free;

	if (i != NONE)
		f->waiter_free = f->waiters[i].next;
	return i;
}

static void waiter_put(struct fwd *f, uint32_t i)
{
	fwd_clients_unref(&f->clients, f->waiters[i].client);
	f->waiters[i].next = f->waiter_free;
	f->waiter_free = i;
}

static struct fwd_slot *slot_find(struct fwd *f, const struct fwd_key *k, uint32_t h)
{
	for (uint32_t i = f->slot_buckets[h & f->slot_mask]; i != NONE; i = f->slots[i].hnext)
		if (f->slots[i].hash == h && key_eq(&f->slots[i].key, k))
			return &f->slots[i];
	return NULL;
}

static struct fwd_slot *slot_get(struct fwd *f)
{
	struct fwd_slot *s;

	if (f->slot_free == NONE)
		return NULL;
	s = &f->slots[f->slot_free];
	f->slot_free = s->hnext;
	memset(s, 0, sizeof(*s));
	s->used = true;
	s->hnext = NONE;
	s->w_head = s->w_tail = NONE;
	s->last_rcode = -1;
	return s;
}

static uint32_t slot_idx(const struct fwd *f, const struct fwd_slot *s)
{
	return (uint32_t)(s - f->slots);
}

/* Unhash, tell the edge, and return the slot to the pool. */
static void slot_release(struct fwd *f, struct fwd_slot *s)
{
	uint32_t idx = slot_idx(f, s);

	if (!s->probe) {
		uint32_t *pp = &f->slot_buckets[s->hash & f->slot_mask];
		while (*pp != idx)
			pp = &f->slots[*pp].hnext;
		*pp = s->hnext;
	}
	f->io.done(f->io.ctx, idx);
	s->used = false;
	s->hnext = f->slot_free;
	f->slot_free = idx;
}

static void attach(struct fwd_slot *s, struct fwd *f, uint32_t wi)
{
	f->waiters[wi].next = NONE;
	if (s->w_tail == NONE)
		s->w_head = wi;
	else
		f->waiters[s->w_tail].next = wi;
	s->w_tail = wi;
}

/* --- lifecycle -------------------------------------------------------------- */

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 16;

	while (p < n && p < (1u << 30))
		p <<= 1;
	return p;
}

struct fwd *fwd_new(const struct fwd_cfg *cfg, const struct fwd_io *io, const struct glued_rng *rng)
{
	struct fwd *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->cfg = *cfg;
	if (f->cfg.max_inflight == 0)
		f->cfg.max_inflight = 1;
	if (f->cfg.max_waiters == 0)
		f->cfg.max_waiters = 1;
	f->io = *io;
	f->rng = *rng;
	for (size_t i = 0; i < sizeof(f->hkey); i += 4) {
		uint32_t r = f->rng.next(f->rng.ctx);
		memcpy(f->hkey + i, &r, 4);
	}
	f->slots = calloc(f->cfg.max_inflight, sizeof(*f->slots));
	f->waiters = calloc(f->cfg.max_waiters, sizeof(*f->waiters));
	f->slot_mask = pow2_at_least(f->cfg.max_inflight * 2) - 1;
	f->slot_buckets = malloc((size_t)(f->slot_mask + 1) * sizeof(*f->slot_buckets));
	if (!f->slots || !f->waiters || !f->slot_buckets)
		goto err_free;
	if (fwd_clients_init(&f->clients, f->cfg.max_waiters) != 0)
		goto err_free;
	if (fwd_cache_init(&f->cache, f->cfg.cache_max_bytes) != 0)
		goto err_free;
	for (uint32_t i = 0; i <= f->slot_mask; i++)
		f->slot_buckets[i] = NONE;
	for (uint32_t i = 0; i < f->cfg.max_inflight; i++)
		f->slots[i].hnext = i + 1 < f->cfg.max_inflight ? i + 1 : NONE;
	f->slot_free = 0;
	for (uint32_t i = 0; i < f->cfg.max_waiters; i++)
		f->waiters[i].next = i + 1 < f->cfg.max_waiters ? i + 1 : NONE;
	f->waiter_free = 0;
	return f;

err_free:
	fwd_free(f);
	return NULL;
}

void fwd_free(struct fwd *f)
{
	if (!f)
		return;
	fwd_cache_fini(&f->cache);
	fwd_clients_fini(&f->clients);
	free(f->slot_buckets);
	free(f->waiters);
	free(f->slots);
	free(f);
}

/* --- upstreams -------------------------------------------------------------- */

bool fwd_upstream_is_self(const struct glued_endpoint *up, const struct glued_endpoint *self,
			  size_t n_self, const struct glued_addr *local, size_t n_local)
{
	for (size_t i = 0; i < n_self; i++) {
		if (self[i].port != up->port)
			continue;
		if (addr_eq(&up->addr, &self[i].addr) || addr_is_any(&up->addr))
			return true;
		if (!addr_is_any(&self[i].addr))
			continue;
		/* A wildcard bind answers on every local address. */
		if (addr_is_loopback(&up->addr))
			return true;
		for (size_t j = 0; j < n_local; j++)
			if (addr_eq(&up->addr, &local[j]))
				return true;
	}
	return false;
}

size_t fwd_set_upstreams(struct fwd *f, const struct glued_endpoint *ups, size_t n)
{
	struct fwd_ups next[FWD_MAX_UPSTREAMS];

	if (n > FWD_MAX_UPSTREAMS)
		n = FWD_MAX_UPSTREAMS;
	for (size_t i = 0; i < n; i++) {
		memset(&next[i], 0, sizeof(next[i]));
		next[i].ep = ups[i];
		for (uint32_t j = 0; j < f->n_ups; j++)
			if (ep_eq(&f->ups[j].ep, &ups[i]))
				next[i] = f->ups[j];
	}
	memcpy(f->ups, next, n * sizeof(next[0]));
	f->n_ups = (uint32_t)n;
	f->pref = 0;
	return n;
}

size_t fwd_upstream_count(const struct fwd *f)
{
	return f->n_ups;
}

const struct glued_endpoint *fwd_upstream(const struct fwd *f, size_t i, bool *disabled)
{
	if (disabled)
		*disabled = f->ups[i].disabled;
	return &f->ups[i].ep;
}

/* The first enabled upstream at or after `from`, or NONE. */
static uint32_t enabled_from(const struct fwd *f, uint32_t from)
{
	for (uint32_t i = 0; i < f->n_ups; i++) {
		uint32_t j = (from + i) % f->n_ups;
		if (!f->ups[j].disabled)
			return j;
	}
	return NONE;
}

/* After the current one: an enabled upstream not yet asked; with `wrap`,
 * any enabled one (in order, the current one last). */
static uint32_t next_upstream(const struct fwd *f, const struct fwd_slot *s, bool wrap)
{
	for (uint32_t i = 1; i <= f->n_ups; i++) {
		uint32_t j = (s->ups + i) % f->n_ups;
		if (!f->ups[j].disabled && !(s->tried & (1u << j)))
			return j;
	}
	if (!wrap)
		return NONE;
	return f->n_ups ? enabled_from(f, (s->ups + 1) % f->n_ups) : NONE;
}

/* --- attempts and endings --------------------------------------------------- */

static size_t build_upstream_query(struct fwd *f, const struct fwd_slot *s)
{
	const struct fwd_key *k = &s->key;
	uint8_t *p = f->out;
	size_t len = DNS_HDR_LEN;

	put16(p, s->id);
	put16(p + 2, (uint16_t)(DNS_RD | (k->bits & FWD_KEY_CD ? DNS_CD : 0)));
	put16(p + 4, 1);
	put16(p + 6, 0);
	put16(p + 8, 0);
	put16(p + 10, 1);
	memcpy(p + len, k->name, k->name_len);
	len += k->name_len;
	put16(p + len, k->qtype);
	put16(p + len + 2, k->qclass);
	len += 4;
	return len + put_opt(p + len, k->bits & FWD_KEY_DO);
}

static void attempt(struct fwd *f, struct fwd_slot *s, uint32_t ups, bool tcp, uint64_t now_ms)
{
	uint64_t end = s->start_ms + f->cfg.total_ms;
	uint64_t deadline = now_ms + (uint64_t)f->cfg.attempt_ms * (tcp ? 2 : 1);
	size_t len;

	s->ups = ups;
	s->to = f->ups[ups].ep;
	s->tried |= 1u << ups;
	s->tcp = tcp;
	s->id = (uint16_t)f->rng.next(f->rng.ctx);
	s->deadline_ms = deadline < end ? deadline : end;
	len = build_upstream_query(f, s);
	f->st.upstream_sent++;
	f->io.send(f->io.ctx, slot_idx(f, s), &s->to, tcp, f->out, len, s->deadline_ms);
}

/* Every waiter gets `rcode` (SERVFAIL, or the last REFUSED/SERVFAIL an
 * upstream gave when none gave better); the slot ends. */
static void finish_rcode(struct fwd *f, struct fwd_slot *s, unsigned rcode)
{
	uint32_t wi = s->w_head;

	while (wi != NONE) {
		struct fwd_waiter *w = &f->waiters[wi];
		uint32_t next = w->next;
		size_t len = build_rcode(f, &s->key, w, rcode);

		if (rcode == DNS_RCODE_SERVFAIL)
			f->st.servfail++;
		f->io.reply(f->io.ctx, wi, f->out, len);
		waiter_put(f, wi);
		wi = next;
	}
	slot_release(f, s);
}

static void finish_answer(struct fwd *f, struct fwd_slot *s, const uint8_t *ans, size_t len)
{
	uint32_t wi = s->w_head;

	while (wi != NONE) {
		struct fwd_waiter *w = &f->waiters[wi];
		uint32_t next = w->next;
		size_t n = build_answer(f, &s->key, w, ans, len, 0);

		f->io.reply(f->io.ctx, wi, f->out, n);
		waiter_put(f, wi);
		wi = next;
	}
	slot_release(f, s);
}

static unsigned fail_rcode(const struct fwd_slot *s)
{
	return s->last_rcode >= 0 ? (unsigned)s->last_rcode : DNS_RCODE_SERVFAIL;
}

/* The current attempt gave nothing usable: ask the next upstream, or end.
 * `wrap`: upstreams already asked may be asked again (after a timeout the
 * budget allows it; after a fast failure it would only spin). */
static void failover(struct fwd *f, struct fwd_slot *s, bool wrap, uint64_t now_ms)
{
	uint32_t next;

	if (s->probe || now_ms >= s->start_ms + f->cfg.total_ms) {
		if (s->probe)
			slot_release(f, s);
		else
			finish_rcode(f, s, fail_rcode(s));
		return;
	}
	next = next_upstream(f, s, wrap);
	if (next == NONE)
		finish_rcode(f, s, fail_rcode(s));
	else
		attempt(f, s, next, false, now_ms);
}

/* --- loop probes ------------------------------------------------------------- */

/* A fresh probe name to upstream i: false if no slot is free. */
static bool probe_one(struct fwd *f, uint32_t i, uint64_t now_ms)
{
	static const char hex[] = "0123456789abcdef";
	static const char label[] = FWD_PROBE_LABEL;
	struct fwd_ups *u = &f->ups[i];
	struct fwd_slot *s = slot_get(f);
	uint8_t *n = u->probe[0];
	size_t off = 0;

	if (!s)
		return false;
	memcpy(u->probe[1], u->probe[0], u->probe_len[0]);
	u->probe_len[1] = u->probe_len[0];
	n[off++] = 32;
	for (int j = 0; j < 4; j++) {
		uint32_t r = f->rng.next(f->rng.ctx);
		for (int b = 0; b < 8; b++, r >>= 4)
			n[off++] = (uint8_t)hex[r & 15];
	}
	n[off++] = sizeof(label) - 1;
	memcpy(n + off, label, sizeof(label) - 1);
	off += sizeof(label) - 1;
	n[off++] = 0;
	u->probe_len[0] = (uint8_t)off;
	u->looped = false;

	/* Not hashed: nothing may coalesce onto a probe. */
	s->probe = true;
	memcpy(s->key.name, n, off);
	s->key.name_len = (uint8_t)off;
	s->key.qtype = DNS_TYPE_TXT;
	s->key.qclass = DNS_CLASS_IN;
	s->start_ms = now_ms;
	attempt(f, s, i, false, now_ms);
	return true;
}

size_t fwd_probe(struct fwd *f, uint64_t now_ms)
{
	size_t sent = 0;

	for (uint32_t i = 0; i < f->n_ups; i++)
		if (!f->ups[i].disabled && probe_one(f, i, now_ms))
			sent++;
	return sent;
}

/* Disabled upstreams whose time has come get a new probe; the wait after
 * it doubles, up to FWD_REPROBE_MAX_MS. */
static void reprobe_due(struct fwd *f, uint64_t now_ms)
{
	for (uint32_t i = 0; i < f->n_ups; i++) {
		struct fwd_ups *u = &f->ups[i];

		if (!u->disabled || now_ms < u->reprobe_ms || !probe_one(f, i, now_ms))
			continue;
		u->reprobe_ms = now_ms + u->backoff_ms;
		u->backoff_ms =
		    u->backoff_ms < FWD_REPROBE_MAX_MS / 2 ? u->backoff_ms * 2 : FWD_REPROBE_MAX_MS;
	}
}

static void set_state(struct fwd *f, uint32_t i, bool enabled)
{
	f->ups[i].disabled = !enabled;
	if (enabled)
		f->st.upstreams_restored++;
	else
		f->st.loops_detected++;
	if (f->io.upstream_state)
		f->io.upstream_state(f->io.ctx, i, enabled);
}

/* A probe slot got its answer. A disabled upstream that answers its latest
 * probe itself (NOERROR or NXDOMAIN: it resolved the name without us),
 * while that name has not come back to us, no longer loops. */
static void probe_answered(struct fwd *f, const struct fwd_slot *s, unsigned rcode)
{
	struct fwd_ups *u = s->ups < f->n_ups ? &f->ups[s->ups] : NULL;

	if (!u || !ep_eq(&u->ep, &s->to) || !u->disabled || u->looped)
		return;
	if (rcode != DNS_RCODE_NOERROR && rcode != DNS_RCODE_NXDOMAIN)
		return;
	if (u->probe_len[0] != s->key.name_len ||
	    memcmp(u->probe[0], s->key.name, s->key.name_len) != 0)
		return;
	set_state(f, s->ups, true);
}

int fwd_is_probe(struct fwd *f, const uint8_t *qname, size_t qname_len, uint64_t now_ms)
{
	for (uint32_t i = 0; i < 2 * f->n_ups; i++) {
		struct fwd_ups *u = &f->ups[i / 2];
		const uint8_t *name = u->probe[i % 2];
		size_t j;

		if (u->probe_len[i % 2] == 0 || u->probe_len[i % 2] != qname_len)
			continue;
		for (j = 0; j < qname_len && lower(qname[j]) == name[j]; j++)
			;
		if (j != qname_len)
			continue;
		if (i % 2 == 0)
			u->looped = true;
		if (!u->disabled) {
			u->backoff_ms = FWD_REPROBE_MIN_MS;
			u->reprobe_ms = now_ms + FWD_REPROBE_MIN_MS;
			set_state(f, i / 2, false);
		}
		return (int)(i / 2);
	}
	return -1;
}

/* --- the entry points -------------------------------------------------------- */

enum fwd_verdict fwd_query(struct fwd *f, const struct dns_query *q,
			   const struct glued_addr *client, uint16_t limit, uint64_t now_ms,
			   uint32_t *waiter, const uint8_t **out, size_t *out_len)
{
	struct fwd_waiter w;
	struct fwd_key k;
	const struct fwd_centry *e;
	struct fwd_slot *s;
	uint32_t h, ch, first, wi;

	f->st.queries++;
	*out = f->out;
	if (!key_from_query(&k, &w, q)) {
		/* The server hands us parsed queries; this is a caller bug,
		 * answered with a bare SERVFAIL header rather than trusted. */
		memset(f->out, 0, DNS_HDR_LEN);
		put16(f->out, q->id);
		put16(f->out + 2, (uint16_t)(DNS_QR | DNS_RA | DNS_RCODE_SERVFAIL));
		f->st.servfail++;
		*out_len = DNS_HDR_LEN;
		return FWD_REPLY;
	}
	w.limit = limit < DNS_UDP_MIN ? DNS_UDP_MIN : limit;
	h = key_hash(f, &k);

	e = fwd_cache_get(&f->cache, &k, h, now_ms);
	if (e) {
		f->st.cache_hits++;
		*out_len = build_answer(f, &k, &w, e->msg, e->len,
					(uint32_t)((now_ms - e->stored_ms) / 1000));
		return FWD_REPLY;
	}

	/* One client may not hold more than its share of what waits on
	 * upstreams (a cache hit above costs nothing and is always served). */
	ch = client_hash(f, client);
	if (f->cfg.max_per_client &&
	    fwd_clients_waiting(&f->clients, client, ch) >= f->cfg.max_per_client) {
		f->st.client_limited++;
		*out_len = build_rcode(f, &k, &w, DNS_RCODE_REFUSED);
		return FWD_REPLY;
	}

	reprobe_due(f, now_ms);
	s = slot_find(f, &k, h);
	first = s ? NONE : enabled_from(f, f->pref);
	if ((!s && first == NONE) || f->waiter_free == NONE || (!s && f->slot_free == NONE)) {
		f->st.servfail++;
		*out_len = build_rcode(f, &k, &w, DNS_RCODE_SERVFAIL);
		return FWD_REPLY;
	}
	w.client = fwd_clients_ref(&f->clients, client, ch);
	wi = waiter_get(f);
	f->waiters[wi] = w;
	if (s) {
		f->st.coalesced++;
		attach(s, f, wi);
		*waiter = wi;
		return FWD_WAIT;
	}
	s = slot_get(f);
	s->key = k;
	s->hash = h;
	s->start_ms = now_ms;
	s->hnext = f->slot_buckets[h & f->slot_mask];
	f->slot_buckets[h & f->slot_mask] = slot_idx(f, s);
	attach(s, f, wi);
	*waiter = wi;
	attempt(f, s, first, false, now_ms);
	return FWD_WAIT;
}

enum fwd_match fwd_on_reply(struct fwd *f, uint32_t slot, const struct glued_endpoint *from,
			    const uint8_t *msg, size_t len, uint64_t now_ms)
{
	struct fwd_slot *s;
	struct dns_msg_info mi;
	uint16_t flags;
	unsigned rcode;
	size_t qend, nlen;

	if (slot >= f->cfg.max_inflight || !f->slots[slot].used)
		return FWD_DROPPED;
	s = &f->slots[slot];
	if (!ep_eq(from, &s->to) || len < DNS_HDR_LEN || get16(msg) != s->id ||
	    !(get16(msg + 2) & DNS_QR) || (get16(msg + 2) & DNS_OPCODE_MASK) ||
	    !question_matches(msg, len, &s->key, &qend)) {
		f->st.mismatched++;
		return FWD_DROPPED;
	}
	f->st.upstream_answers++;
	flags = get16(msg + 2);
	rcode = flags & DNS_RCODE_MASK;
	if (s->probe) {
		probe_answered(f, s, rcode);
		slot_release(f, s);
		return FWD_ACCEPTED;
	}
	if ((flags & DNS_TC) && !s->tcp) {
		/* Same upstream over TCP, unless the list changed under us. */
		if (s->ups >= f->n_ups || !ep_eq(&f->ups[s->ups].ep, &s->to)) {
			failover(f, s, false, now_ms);
			return FWD_ACCEPTED;
		}
		f->st.tcp_retries++;
		attempt(f, s, s->ups, true, now_ms);
		return FWD_ACCEPTED;
	}
	if (dns_msg_scan(msg, len, qend, &mi) != 0) {
		f->st.bad_answers++;
		failover(f, s, false, now_ms);
		return FWD_ACCEPTED;
	}
	if (rcode == DNS_RCODE_SERVFAIL || rcode == DNS_RCODE_REFUSED) {
		s->last_rcode = (int)rcode;
		failover(f, s, false, now_ms);
		return FWD_ACCEPTED;
	}
	f->pref = s->ups;
	nlen = normalise(f, msg, &s->key, &mi);
	fwd_cache_put(&f->cache, &s->key, s->hash, f->norm, nlen, answer_ttl(f, &mi), now_ms);
	finish_answer(f, s, f->norm, nlen);
	return FWD_ACCEPTED;
}

void fwd_on_error(struct fwd *f, uint32_t slot, uint64_t now_ms)
{
	if (slot >= f->cfg.max_inflight || !f->slots[slot].used)
		return;
	f->st.errors++;
	failover(f, &f->slots[slot], false, now_ms);
}

void fwd_on_timeout(struct fwd *f, uint32_t slot, uint64_t now_ms)
{
	if (slot >= f->cfg.max_inflight || !f->slots[slot].used)
		return;
	f->st.timeouts++;
	failover(f, &f->slots[slot], true, now_ms);
}

void fwd_get_stats(const struct fwd *f, struct fwd_stats *st)
{
	*st = f->st;
	st->cache_entries = f->cache.entries;
	st->cache_bytes = f->cache.bytes;
}

size_t fwd_cache_longest_chain(const struct fwd *f)
{
	return fwd_cache_chain_max(&f->cache);
}
