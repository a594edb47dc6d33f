/* Response rate limiting; see rrl.h. The table is an array of sets of
 * RRL_WAYS buckets; a prefix lives in the set its keyed hash picks, so a
 * lookup or an eviction touches RRL_WAYS buckets and nothing else, and no
 * chain grows whatever prefixes a spoofer sends.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/dns_wire.h"
#include "core/rrl.h"

#define US_PER_S 1000000ULL

struct rrl_bucket {
	uint64_t tat_us;  /* when the prefix's credit is full again (GCRA) */
	uint64_t last;	  /* r->seq at its last response: the set's LRU order */
	uint32_t limited; /* responses over the rate: every slip-th slips */
	uint8_t used;
	uint8_t family;
	uint8_t addr[16]; /* the masked source */
};

struct rrl {
	struct rrl_cfg cfg;
	uint64_t cost_us; /* 1 s / rate */
	uint64_t now_us;  /* the latest time seen: time never goes back */
	uint64_t seq;	  /* responses counted: orders buckets even within one ms */
	uint32_t set_mask;
	uint64_t evictions;
	uint8_t key[crypto_shorthash_KEYBYTES];
	struct rrl_bucket *b; /* cfg.slots */
};

struct rrl *rrl_new(const struct rrl_cfg *cfg, const uint8_t key[16])
{
	struct rrl *r;

	if (cfg->rate > RRL_RATE_MAX || cfg->slots < RRL_WAYS || (cfg->slots & (cfg->slots - 1)) ||
	    cfg->prefix4 > 32 || cfg->prefix6 > 128)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->b = calloc(cfg->slots, sizeof(*r->b));
	if (!r->b) {
		free(r);
		return NULL;
	}
	r->cfg = *cfg;
	r->cost_us = cfg->rate ? US_PER_S / cfg->rate : 0;
	r->set_mask = cfg->slots / RRL_WAYS - 1;
	memcpy(r->key, key, sizeof(r->key));
	return r;
}

void rrl_free(struct rrl *r)
{
	if (!r)
		return;
	free(r->b);
	free(r);
}

uint64_t rrl_evictions(const struct rrl *r)
{
	return r->evictions;
}

/* The source masked to its prefix: family byte then 16 address bytes. */
static void prefix_of(const struct rrl *r, const struct glued_addr *src, uint8_t out[17])
{
	unsigned bits = src->family == AF_INET ? r->cfg.prefix4 : r->cfg.prefix6;
	unsigned full = bits / 8, rem = bits % 8;

	memset(out, 0, 17);
	out[0] = (uint8_t)src->family;
	memcpy(out + 1, src->b, full);
	if (rem)
		out[1 + full] = (uint8_t)(src->b[full] & (0xff << (8 - rem)));
}

/* The prefix's bucket: found in its set, or the set's least recently used
 * one (free ones first) taken over with a full credit. */
static struct rrl_bucket *bucket_get(struct rrl *r, const uint8_t p[17])
{
	uint8_t h[crypto_shorthash_BYTES];
	struct rrl_bucket *set, *victim = NULL;
	uint64_t hv;

	crypto_shorthash(h, p, 17, r->key);
	memcpy(&hv, h, sizeof(hv));
	set = &r->b[(size_t)(hv & r->set_mask) * RRL_WAYS];
	for (size_t i = 0; i < RRL_WAYS; i++) {
		struct rrl_bucket *b = &set[i];

		if (b->used && b->family == p[0] && !memcmp(b->addr, p + 1, 16))
			return b;
		if (!victim || (victim->used && (!b->used || b->last < victim->last)))
			victim = b;
	}
	if (victim->used)
		r->evictions++;
	memset(victim, 0, sizeof(*victim));
	victim->used = 1;
	victim->family = p[0];
	memcpy(victim->addr, p + 1, 16);
	victim->tat_us = r->now_us; /* full: `rate` responses banked */
	return victim;
}

enum rrl_verdict rrl_account(struct rrl *r, const struct glued_addr *src, uint64_t now_ms)
{
	uint8_t p[17];
	struct rrl_bucket *b;
	uint64_t now, t;

	if (!r || !r->cfg.rate || (src->family != AF_INET && src->family != AF_INET6))
		return RRL_SEND;
	if (now_ms * 1000 > r->now_us)
		r->now_us = now_ms * 1000;
	now = r->now_us;
	prefix_of(r, src, p);
	b = bucket_get(r, p);
	b->last = ++r->seq;
	/* GCRA: due at max(tat, now) + cost; at most one second early. */
	t = b->tat_us > now ? b->tat_us : now;
	if (t + r->cost_us - now <= US_PER_S) {
		b->tat_us = t + r->cost_us;
		return RRL_SEND;
	}
	b->limited++;
	if (r->cfg.slip && b->limited % r->cfg.slip == 0)
		return RRL_SLIP;
	return RRL_DROP;
}

size_t rrl_slip(uint8_t *msg, size_t len)
{
	struct wire w = wire_init(msg, len);
	struct dns_msg_info mi;
	uint16_t qd;
	size_t qend, out;

	wire_skip(&w, 4);
	qd = wire_u16(&w);
	wire_skip(&w, 6);
	if (w.err || qd > 1)
		return 0;
	if (qd) {
		dns_skip_name(&w);
		wire_skip(&w, 4); /* QTYPE, QCLASS */
		if (w.err)
			return 0;
	}
	qend = wire_offset(&w);
	out = qend;
	/* Keep the OPT (the client's EDNS stays answered) when the records
	 * after the question walk cleanly; else none. Scanned before the
	 * counts are cleared. */
	if (dns_msg_scan(msg, len, qend, &mi) == 0 && mi.opt_len && mi.opt_off >= qend &&
	    mi.opt_off + mi.opt_len <= len) {
		memmove(msg + qend, msg + mi.opt_off, mi.opt_len);
		out += mi.opt_len;
	}
	msg[2] |= DNS_TC >> 8;
	msg[6] = msg[7] = msg[8] = msg[9] = msg[10] = 0; /* ANCOUNT, NSCOUNT, ARCOUNT */
	msg[11] = out > qend ? 1 : 0;
	return out;
}
