/* Amplification limit and address validation: see gossip_amp.h. */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/gossip_amp.h"

_Static_assert(GOSSIP_AMP_KEY_LEN == crypto_shorthash_siphash24_KEYBYTES, "SipHash key");
_Static_assert((GOSSIP_AMP_SLOTS & (GOSSIP_AMP_SLOTS - 1)) == 0, "slots: a power of two");

int gossip_amp_init(struct gossip_amp *a, const uint8_t key[GOSSIP_AMP_KEY_LEN])
{
	memset(a, 0, sizeof(*a));
	memcpy(a->key, key, GOSSIP_AMP_KEY_LEN);
	a->slot = calloc(GOSSIP_AMP_SLOTS, sizeof(*a->slot));
	return a->slot ? 0 : -ENOMEM;
}

void gossip_amp_fini(struct gossip_amp *a)
{
	free(a->slot);
	a->slot = NULL;
}

/* family, 16 address bytes, port: what identifies an address. */
static void ep_bytes(const struct glued_endpoint *ep, uint8_t out[19])
{
	out[0] = ep->addr.family;
	memcpy(out + 1, ep->addr.b, 16);
	out[17] = (uint8_t)(ep->port >> 8);
	out[18] = (uint8_t)ep->port;
}

static uint64_t mac(const struct gossip_amp *a, const struct glued_endpoint *ep, uint64_t period,
		    uint8_t domain)
{
	uint8_t in[1 + 19 + 8], out[8];
	uint64_t v = 0;

	in[0] = domain;
	ep_bytes(ep, in + 1);
	for (int i = 0; i < 8; i++)
		in[20 + i] = (uint8_t)(period >> (8 * i));
	crypto_shorthash_siphash24(out, in, sizeof(in), a->key);
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)out[i] << (8 * i);
	return v;
}

static bool ep_same(const struct glued_endpoint *x, const struct glued_endpoint *y)
{
	return x->port == y->port && addr_eq(&x->addr, &y->addr);
}

/* The first slot of ep's set (keyed: an outsider cannot aim at one set). */
static struct gossip_amp_slot *set_of(const struct gossip_amp *a, const struct glued_endpoint *ep)
{
	size_t sets = GOSSIP_AMP_SLOTS / GOSSIP_AMP_WAYS;

	return &a->slot[(size_t)(mac(a, ep, 0, 'S') & (sets - 1)) * GOSSIP_AMP_WAYS];
}

static const struct gossip_amp_slot *find(const struct gossip_amp *a,
					  const struct glued_endpoint *ep)
{
	const struct gossip_amp_slot *set = set_of(a, ep);

	for (int i = 0; i < GOSSIP_AMP_WAYS; i++)
		if (set[i].used && ep_same(&set[i].ep, ep))
			return &set[i];
	return NULL;
}

/* Which to give up in a full set: an unproven address before a proven one,
 * the least recently used first. */
static bool worse(const struct gossip_amp_slot *x, const struct gossip_amp_slot *y)
{
	if (!x->used || !y->used)
		return !x->used && y->used;
	if (x->validated != y->validated)
		return !x->validated;
	return x->lru < y->lru;
}

/* ep's slot; a new address takes the least valuable slot of its set. */
static struct gossip_amp_slot *take(struct gossip_amp *a, const struct glued_endpoint *ep)
{
	struct gossip_amp_slot *set = set_of(a, ep), *v = &set[0];

	for (int i = 0; i < GOSSIP_AMP_WAYS; i++) {
		if (set[i].used && ep_same(&set[i].ep, ep)) {
			set[i].lru = ++a->tick;
			return &set[i];
		}
		if (worse(&set[i], v))
			v = &set[i];
	}
	if (v->used)
		a->st.evictions++;
	*v = (struct gossip_amp_slot){.used = true, .ep = *ep, .lru = ++a->tick};
	return v;
}

/* The IP and UDP headers a datagram to or from ep carries: what a victim
 * receives is counted on the wire, so the budget is too. */
static size_t dgram_overhead(const struct glued_endpoint *ep)
{
	return ep->addr.family == AF_INET ? 20 + 8 : 40 + 8;
}

void gossip_amp_rx(struct gossip_amp *a, const struct glued_endpoint *ep, size_t bytes)
{
	take(a, ep)->rx += bytes + dgram_overhead(ep);
}

bool gossip_amp_heard(const struct gossip_amp *a, const struct glued_endpoint *ep)
{
	const struct gossip_amp_slot *s = find(a, ep);

	return s && s->rx > 0;
}

bool gossip_amp_validated(const struct gossip_amp *a, const struct glued_endpoint *ep)
{
	const struct gossip_amp_slot *s = find(a, ep);

	return s && s->validated;
}

bool gossip_amp_may_send(struct gossip_amp *a, const struct glued_endpoint *ep, size_t bytes)
{
	struct gossip_amp_slot *s = take(a, ep);

	if (s->validated)
		return true;
	bytes += dgram_overhead(ep);
	if (s->tx + bytes > GOSSIP_AMP_FACTOR * s->rx) {
		a->st.limited_dgrams++;
		a->st.limited_bytes += bytes;
		return false;
	}
	s->tx += bytes;
	return true;
}

bool gossip_amp_fits(const struct gossip_amp *a, const struct glued_endpoint *ep, size_t bytes)
{
	const struct gossip_amp_slot *s = find(a, ep);

	if (s && s->validated)
		return true;
	return s && s->tx + bytes + dgram_overhead(ep) <= GOSSIP_AMP_FACTOR * s->rx;
}

uint32_t gossip_amp_cookie(const struct gossip_amp *a, const struct glued_endpoint *ep,
			   uint64_t now_ms)
{
	uint32_t c = (uint32_t)mac(a, ep, now_ms / GOSSIP_COOKIE_PERIOD_MS + 1, 'C');

	return c ? c : 1;
}

bool gossip_amp_challenge_due(struct gossip_amp *a, const struct glued_endpoint *ep,
			      uint64_t now_ms, size_t bytes, bool waiting)
{
	struct gossip_amp_slot *s = take(a, ep);
	size_t cost = (bytes ? bytes : GOSSIP_AMP_CHALLENGE_BYTES) + dgram_overhead(ep);
	bool fits = s->rx && s->tx + cost <= GOSSIP_AMP_FACTOR * s->rx;
	uint64_t gap = GOSSIP_CHALLENGE_MIN_MS;

	if (s->validated || (bytes && s->rx && !fits))
		return false;
	if (bytes && waiting) {
		gap = 1;
	} else if (waiting && (!s->rx || !fits)) {
		/* 250, 250, 500 ms after the last, then every second */
		gap = s->free_challenges < 3	? GOSSIP_CHALLENGE_MIN_MS
		      : s->free_challenges == 3 ? 2 * GOSSIP_CHALLENGE_MIN_MS
						: GOSSIP_CHALLENGE_UNHEARD_MS;
	} else if (!s->rx) {
		gap = GOSSIP_CHALLENGE_UNHEARD_MS;
	} else if (!fits) {
		unsigned shift = s->free_challenges < GOSSIP_CHALLENGE_FREE_SHIFT_MAX
				     ? s->free_challenges
				     : GOSSIP_CHALLENGE_FREE_SHIFT_MAX;

		gap = (uint64_t)GOSSIP_CHALLENGE_FREE_MS << shift;
	}
	if (s->challenged_ms && now_ms - s->challenged_ms < gap)
		return false;
	if (!bytes && s->rx) {
		if (fits) {
			s->tx += cost;
		} else {
			if (s->free_challenges < UINT8_MAX)
				s->free_challenges++;
			a->st.free_challenges++;
		}
	} else if (!bytes && waiting && s->free_challenges < UINT8_MAX) {
		s->free_challenges++; /* unheard: the retries' backoff */
	}
	s->challenged_ms = now_ms ? now_ms : 1;
	a->st.challenges++;
	return true;
}

bool gossip_amp_echo(struct gossip_amp *a, const struct glued_endpoint *ep, uint32_t seq,
		     uint64_t now_ms)
{
	struct gossip_amp_slot *s;

	if (seq != gossip_amp_cookie(a, ep, now_ms) &&
	    (now_ms < GOSSIP_COOKIE_PERIOD_MS ||
	     seq != gossip_amp_cookie(a, ep, now_ms - GOSSIP_COOKIE_PERIOD_MS)))
		return false;
	s = take(a, ep);
	if (!s->validated)
		a->st.validated++;
	s->validated = true;
	return true;
}
