/* Sealed gossip datagrams and the replay window; see crypto.h for the wire
 * layout and the contracts. This file owns the key derivation, the AEAD
 * calls and the per-sender replay state. It never reads the clock, draws
 * randomness, logs or does I/O, and allocates only in crypto_replay_init().
 */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "lib/wire.h"

_Static_assert(CRYPTO_NONCE_LEN == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce size");
_Static_assert(CRYPTO_TAG_LEN == crypto_aead_xchacha20poly1305_ietf_ABYTES, "tag size");
_Static_assert(CRYPTO_KEY_LEN == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "key size");
_Static_assert(CRYPTO_NODE_ID_LEN == crypto_sign_PUBLICKEYBYTES, "node ID = Ed25519 public key");
_Static_assert(CRYPTO_HDR_LEN == 4 + 1 + 1 + 2 + CRYPTO_NODE_ID_LEN + 8 + 8, "header layout");

/* A remembered sender: its newest epoch and the highest sequence accepted in
 * it (the floor), and optionally a window bitmap. */
struct crypto_sender {
	uint8_t node_id[CRYPTO_NODE_ID_LEN];
	uint64_t epoch;
	uint64_t max_seq;
	uint64_t used;	/* LRU tick of the last accepted datagram */
	int32_t window; /* index into windows[], or -1 */
};

struct crypto_window {
	uint64_t used;	/* LRU tick; mirrors the owner's */
	int32_t sender; /* index into senders[] */
	uint64_t bits[CRYPTO_WINDOW_WORDS];
};

int crypto_global_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

void crypto_key_derive(struct crypto_key *key, const char *secret, size_t secret_len,
		       const uint8_t topic[CRYPTO_TOPIC_LEN])
{
	/* Personalization = domain separation: this key can never equal a
	 * BLAKE2b output computed for another purpose over the same bytes. The
	 * secret is length-prefixed so (secret, topic) pairs cannot collide by
	 * moving bytes across the boundary. */
	static const uint8_t personal[crypto_generichash_blake2b_PERSONALBYTES] =
	    "glued-cluster-k1";
	crypto_generichash_blake2b_state st;
	uint8_t lenbuf[2];

	if (secret_len > UINT16_MAX)
		secret_len = UINT16_MAX;
	lenbuf[0] = (uint8_t)(secret_len >> 8);
	lenbuf[1] = (uint8_t)secret_len;
	crypto_generichash_blake2b_init_salt_personal(&st, NULL, 0, CRYPTO_KEY_LEN, NULL, personal);
	crypto_generichash_blake2b_update(&st, lenbuf, sizeof(lenbuf));
	crypto_generichash_blake2b_update(&st, (const uint8_t *)secret, secret_len);
	crypto_generichash_blake2b_update(&st, topic, CRYPTO_TOPIC_LEN);
	crypto_generichash_blake2b_final(&st, key->k, CRYPTO_KEY_LEN);
	sodium_memzero(&st, sizeof(st));
}

void crypto_default_topic(uint8_t topic[CRYPTO_TOPIC_LEN])
{
	static const char text[] = "glued default topic v1";

	crypto_generichash_blake2b(topic, CRYPTO_TOPIC_LEN, (const uint8_t *)text, sizeof(text) - 1,
				   NULL, 0);
}

static void hdr_write(uint8_t out[CRYPTO_HDR_LEN], const struct crypto_hdr *h)
{
	struct wire_out w = wire_out_init(out, CRYPTO_HDR_LEN);

	wire_put_u32(&w, CRYPTO_MAGIC);
	wire_put_u8(&w, CRYPTO_VERSION);
	wire_put_u8(&w, h->kind);
	wire_put_u16(&w, 0);
	wire_put_bytes(&w, h->node_id, CRYPTO_NODE_ID_LEN);
	wire_put_u64(&w, h->epoch);
	wire_put_u64(&w, h->seq);
}

int crypto_peek_hdr(const uint8_t *buf, size_t len, struct crypto_hdr *h)
{
	struct wire w;
	uint32_t magic;
	uint8_t version;
	uint16_t reserved;

	if (len < CRYPTO_OVERHEAD)
		return GLUED_ETRUNC;
	w = wire_init(buf, CRYPTO_HDR_LEN);
	magic = wire_u32(&w);
	version = wire_u8(&w);
	h->kind = wire_u8(&w);
	reserved = wire_u16(&w);
	wire_bytes(&w, h->node_id, CRYPTO_NODE_ID_LEN);
	h->epoch = wire_u64(&w);
	h->seq = wire_u64(&w);
	if (w.err)
		return w.err;
	if (magic != CRYPTO_MAGIC)
		return GLUED_EMALF;
	if (version != CRYPTO_VERSION)
		return GLUED_EBADVERS;
	if (h->kind == 0 || h->kind > CRYPTO_KIND_MAX || reserved != 0)
		return GLUED_EMALF;
	return 0;
}

int crypto_seal(const struct crypto_key *key, const struct crypto_hdr *h,
		const uint8_t nonce[CRYPTO_NONCE_LEN], const uint8_t *pt, size_t len, uint8_t *out,
		size_t cap)
{
	unsigned long long clen = 0;

	if (h->kind == 0 || h->kind > CRYPTO_KIND_MAX)
		return -EINVAL;
	if (len > INT32_MAX - CRYPTO_OVERHEAD || cap < len + CRYPTO_OVERHEAD)
		return GLUED_ESPACE;
	hdr_write(out, h);
	memcpy(out + CRYPTO_HDR_LEN, nonce, CRYPTO_NONCE_LEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + CRYPTO_HDR_LEN + CRYPTO_NONCE_LEN, &clen,
						   pt, len, out, CRYPTO_HDR_LEN, NULL, nonce,
						   key->k);
	return (int)(CRYPTO_HDR_LEN + CRYPTO_NONCE_LEN + clen);
}

/* --- replay window ------------------------------------------------------------------------ */

int crypto_replay_init(struct crypto_replay *r, size_t max_senders, size_t max_windows)
{
	size_t slots = 4;

	memset(r, 0, sizeof(*r));
	if (max_senders == 0 || max_windows == 0 || max_windows > max_senders ||
	    max_senders > INT32_MAX / 4)
		return -EINVAL;
	while (slots < 2 * max_senders) /* load factor <= 1/2 */
		slots *= 2;
	r->senders = calloc(max_senders, sizeof(*r->senders));
	r->windows = calloc(max_windows, sizeof(*r->windows));
	r->index = malloc(slots * sizeof(*r->index));
	if (!r->senders || !r->windows || !r->index) {
		crypto_replay_fini(r);
		return -ENOMEM;
	}
	r->max_senders = max_senders;
	r->max_windows = max_windows;
	r->index_mask = slots - 1;
	crypto_replay_reset(r);
	return 0;
}

void crypto_replay_fini(struct crypto_replay *r)
{
	free(r->senders);
	free(r->windows);
	free(r->index);
	memset(r, 0, sizeof(*r));
}

void crypto_replay_reset(struct crypto_replay *r)
{
	for (size_t i = 0; i <= r->index_mask; i++)
		r->index[i] = -1;
	r->n_senders = r->n_windows = 0;
	r->tick = 0;
	memset(&r->st, 0, sizeof(r->st));
}

/* Node IDs are public keys chosen by key holders only (a sender enters the
 * table only after its datagram authenticated), so their leading bytes are
 * a fine hash. */
static size_t id_hash(const struct crypto_replay *r, const uint8_t *id)
{
	uint64_t v;

	memcpy(&v, id, sizeof(v));
	return (size_t)(v ^ v >> 29) & r->index_mask;
}

/* Index slot holding id, or the empty slot where it would go. */
static size_t index_find(const struct crypto_replay *r, const uint8_t *id)
{
	size_t i = id_hash(r, id);

	while (r->index[i] >= 0 &&
	       memcmp(r->senders[r->index[i]].node_id, id, CRYPTO_NODE_ID_LEN) != 0)
		i = (i + 1) & r->index_mask;
	return i;
}

static struct crypto_sender *sender_find(const struct crypto_replay *r, const uint8_t *id)
{
	int32_t s = r->index[index_find(r, id)];

	return s >= 0 ? &r->senders[s] : NULL;
}

/* Remove slot i from the linear-probing index, shifting later entries of
 * the same run back so lookups never stop at a hole. */
static void index_remove(struct crypto_replay *r, size_t i)
{
	size_t j = i;

	r->index[i] = -1;
	for (;;) {
		size_t k;

		j = (j + 1) & r->index_mask;
		if (r->index[j] < 0)
			return;
		k = id_hash(r, r->senders[r->index[j]].node_id);
		/* Entry at j may move to the hole at i if its home k is not
		 * cyclically in (i, j]. */
		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			r->index[i] = r->index[j];
			r->index[j] = -1;
			i = j;
		}
	}
}

enum replay_verdict {
	REPLAY_OK = 0,
	REPLAY_SEEN,
	REPLAY_TOO_OLD,
	REPLAY_OLD_EPOCH,
};

static enum replay_verdict verdict(const struct crypto_replay *r, const struct crypto_hdr *h)
{
	const struct crypto_sender *s = sender_find(r, h->node_id);
	const struct crypto_window *w;

	if (!s || h->epoch > s->epoch)
		return REPLAY_OK;
	if (h->epoch < s->epoch)
		return REPLAY_OLD_EPOCH;
	if (h->seq > s->max_seq)
		return REPLAY_OK;
	if (s->window < 0)
		return h->seq == s->max_seq ? REPLAY_SEEN : REPLAY_TOO_OLD; /* floor only */
	if (s->max_seq - h->seq >= CRYPTO_WINDOW_SEQS)
		return REPLAY_TOO_OLD;
	w = &r->windows[s->window];
	if (w->bits[(h->seq >> 6) % CRYPTO_WINDOW_WORDS] & (1ull << (h->seq & 63)))
		return REPLAY_SEEN;
	return REPLAY_OK;
}

int crypto_replay_check(const struct crypto_replay *r, const struct crypto_hdr *h)
{
	return verdict(r, h) == REPLAY_OK ? 0 : GLUED_EREPLAY;
}

/* The least recently accepted sender, or window, to give away. A linear scan:
 * it runs only when an authenticated sender is new and the table is full. */
static size_t lru_sender(const struct crypto_replay *r)
{
	size_t best = 0;

	for (size_t i = 1; i < r->n_senders; i++)
		if (r->senders[i].used < r->senders[best].used)
			best = i;
	return best;
}

static size_t lru_window(const struct crypto_replay *r)
{
	size_t best = 0;

	for (size_t i = 1; i < r->n_windows; i++)
		if (r->windows[i].used < r->windows[best].used)
			best = i;
	return best;
}

static void window_reset(struct crypto_window *w)
{
	memset(w->bits, 0, sizeof(w->bits));
}

/* Give sender si a window: a free one, or the least recently used one (its
 * owner keeps only its floor). */
static void window_attach(struct crypto_replay *r, size_t si)
{
	size_t wi;

	if (r->n_windows < r->max_windows) {
		wi = r->n_windows++;
	} else {
		wi = lru_window(r);
		r->senders[r->windows[wi].sender].window = -1;
		r->st.window_evictions++;
	}
	r->windows[wi].sender = (int32_t)si;
	window_reset(&r->windows[wi]);
	r->senders[si].window = (int32_t)wi;
}

/* A slot for a new sender: a free one, or the least recently used one's. */
static size_t sender_alloc(struct crypto_replay *r)
{
	size_t si, last;

	if (r->n_senders < r->max_senders)
		return r->n_senders++;
	si = lru_sender(r);
	index_remove(r, index_find(r, r->senders[si].node_id));
	r->st.sender_evictions++;
	/* Its window (if any) goes back to the pool: compact the windows array
	 * by moving the last window into the hole. */
	if (r->senders[si].window >= 0) {
		size_t wi = (size_t)r->senders[si].window;

		last = --r->n_windows;
		if (wi != last) {
			r->windows[wi] = r->windows[last];
			r->senders[r->windows[wi].sender].window = (int32_t)wi;
		}
	}
	return si;
}

void crypto_replay_commit(struct crypto_replay *r, const struct crypto_hdr *h)
{
	size_t slot = index_find(r, h->node_id);
	struct crypto_sender *s;
	struct crypto_window *w;
	size_t si;

	r->tick++;
	if (r->index[slot] < 0) {
		si = sender_alloc(r);
		slot = index_find(r, h->node_id); /* eviction may have moved the run */
		r->index[slot] = (int32_t)si;
		s = &r->senders[si];
		memcpy(s->node_id, h->node_id, CRYPTO_NODE_ID_LEN);
		s->epoch = h->epoch;
		s->max_seq = h->seq;
		s->window = -1;
		window_attach(r, si);
	} else {
		si = (size_t)r->index[slot];
		s = &r->senders[si];
		if (s->window < 0) {
			window_attach(r, si);
			/* Back from floor-only: what the lost bitmap knew is gone,
			 * so count everything up to the floor as seen. A late
			 * datagram in that range is lost, never replayed. */
			memset(r->windows[s->window].bits, 0xff, sizeof(r->windows[0].bits));
		}
		if (h->epoch > s->epoch) {
			/* The sender restarted: everything of the old epoch is
			 * now too old, whatever its sequence number. */
			s->epoch = h->epoch;
			s->max_seq = h->seq;
			window_reset(&r->windows[s->window]);
		}
	}
	w = &r->windows[s->window];
	if (h->seq > s->max_seq) {
		/* Advance: clear the ring words after the old newest one up to
		 * the new newest one (all of them after a jump past the ring). */
		uint64_t from = (s->max_seq >> 6) + 1, to = h->seq >> 6;

		if (to >= from) {
			if (to - from >= CRYPTO_WINDOW_WORDS)
				window_reset(w);
			else
				for (uint64_t i = from; i <= to; i++)
					w->bits[i % CRYPTO_WINDOW_WORDS] = 0;
		}
		s->max_seq = h->seq;
	}
	w->bits[(h->seq >> 6) % CRYPTO_WINDOW_WORDS] |= 1ull << (h->seq & 63);
	s->used = w->used = r->tick;
	r->st.accepted++;
	r->st.senders = r->n_senders;
	r->st.windows = r->n_windows;
}

int crypto_open(const struct crypto_key *key, struct crypto_replay *r, const uint8_t *buf,
		size_t len, uint8_t *pt, size_t cap, struct crypto_hdr *h)
{
	unsigned long long plen = 0;
	size_t clen;
	int ret;

	ret = crypto_peek_hdr(buf, len, h);
	if (ret)
		return ret;
	clen = len - CRYPTO_HDR_LEN - CRYPTO_NONCE_LEN;
	if (clen - CRYPTO_TAG_LEN > cap || clen > INT32_MAX)
		return GLUED_ESPACE;
	if (r) {
		switch (verdict(r, h)) {
		case REPLAY_OK:
			break;
		case REPLAY_SEEN:
			r->st.replayed++;
			return GLUED_EREPLAY;
		case REPLAY_TOO_OLD:
			r->st.too_old++;
			return GLUED_EREPLAY;
		case REPLAY_OLD_EPOCH:
			r->st.old_epoch++;
			return GLUED_EREPLAY;
		}
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		pt, &plen, NULL, buf + CRYPTO_HDR_LEN + CRYPTO_NONCE_LEN, clen, buf, CRYPTO_HDR_LEN,
		buf + CRYPTO_HDR_LEN, key->k) != 0)
		return GLUED_EAUTH;
	if (r)
		crypto_replay_commit(r, h);
	return (int)plen;
}

/* --- node keys ---------------------------------------------------------------------------- */

_Static_assert(CRYPTO_SIG_LEN == crypto_sign_BYTES, "Ed25519 signature");
_Static_assert(CRYPTO_SK_LEN == crypto_sign_SECRETKEYBYTES, "Ed25519 secret key");

void crypto_sign_stmt(uint8_t sig[CRYPTO_SIG_LEN], const uint8_t *msg, size_t len,
		      const uint8_t sk[CRYPTO_SK_LEN])
{
	crypto_sign_detached(sig, NULL, msg, len, sk);
}

bool crypto_sig_ok(const uint8_t sig[CRYPTO_SIG_LEN], const uint8_t *msg, size_t len,
		   const uint8_t pk[CRYPTO_NODE_ID_LEN])
{
	return crypto_sign_verify_detached(sig, msg, len, pk) == 0;
}

void crypto_hash16(uint8_t out[16], uint8_t tag, const uint8_t *a, size_t alen, const uint8_t *b,
		   size_t blen)
{
	crypto_generichash_blake2b_state st;

	crypto_generichash_blake2b_init(&st, NULL, 0, 16);
	crypto_generichash_blake2b_update(&st, &tag, 1);
	crypto_generichash_blake2b_update(&st, a, alen);
	if (b)
		crypto_generichash_blake2b_update(&st, b, blen);
	crypto_generichash_blake2b_final(&st, out, 16);
}

int crypto_x25519_secret(uint8_t xsk[CRYPTO_X25519_LEN], const uint8_t sk[CRYPTO_SK_LEN])
{
	return crypto_sign_ed25519_sk_to_curve25519(xsk, sk) == 0 ? 0 : -EINVAL;
}

int crypto_pair_key(struct crypto_key *out, const struct crypto_key *cluster,
		    const uint8_t xsk[CRYPTO_X25519_LEN], const uint8_t self_pk[CRYPTO_NODE_ID_LEN],
		    const uint8_t peer_pk[CRYPTO_NODE_ID_LEN])
{
	static const uint8_t personal[crypto_generichash_blake2b_PERSONALBYTES] = "glued-pair-k2";
	crypto_generichash_blake2b_state st;
	uint8_t xpk[CRYPTO_X25519_LEN], shared[CRYPTO_X25519_LEN];
	bool self_first = memcmp(self_pk, peer_pk, CRYPTO_NODE_ID_LEN) < 0;

	/* the conversion rejects points off the curve; scalarmult an all-zero
	 * (small order) result */
	if (crypto_sign_ed25519_pk_to_curve25519(xpk, peer_pk) != 0 ||
	    crypto_scalarmult(shared, xsk, xpk) != 0)
		return GLUED_EAUTH;
	crypto_generichash_blake2b_init_salt_personal(&st, NULL, 0, CRYPTO_KEY_LEN, NULL, personal);
	crypto_generichash_blake2b_update(&st, cluster->k, CRYPTO_KEY_LEN);
	crypto_generichash_blake2b_update(&st, shared, sizeof(shared));
	crypto_generichash_blake2b_update(&st, self_first ? self_pk : peer_pk, CRYPTO_NODE_ID_LEN);
	crypto_generichash_blake2b_update(&st, self_first ? peer_pk : self_pk, CRYPTO_NODE_ID_LEN);
	crypto_generichash_blake2b_final(&st, out->k, CRYPTO_KEY_LEN);
	sodium_memzero(shared, sizeof(shared));
	sodium_memzero(&st, sizeof(st));
	return 0;
}

int crypto_pairs_init(struct crypto_pairs *p, const struct crypto_key *cluster,
		      const uint8_t sk[CRYPTO_SK_LEN])
{
	memset(p, 0, sizeof(*p));
	if (crypto_x25519_secret(p->xsk, sk))
		return -EINVAL;
	p->slot = calloc(CRYPTO_PAIRS, sizeof(*p->slot));
	if (!p->slot)
		return -ENOMEM;
	p->cluster = *cluster;
	crypto_sign_ed25519_sk_to_pk(p->self_pk, sk);
	return 0;
}

void crypto_pairs_fini(struct crypto_pairs *p)
{
	if (p->slot)
		sodium_memzero(p->slot, CRYPTO_PAIRS * sizeof(*p->slot));
	free(p->slot);
	sodium_memzero(p, sizeof(*p));
}

const struct crypto_key *crypto_pairs_get(struct crypto_pairs *p,
					  const uint8_t peer[CRYPTO_NODE_ID_LEN])
{
	uint64_t h;
	struct crypto_pair *s;

	memcpy(&h, peer, sizeof(h)); /* IDs are public keys: their bytes hash well */
	s = &p->slot[(h ^ h >> 31) % CRYPTO_PAIRS];
	if (s->used && !memcmp(s->peer, peer, CRYPTO_NODE_ID_LEN)) {
		p->hits++;
		return &s->key;
	}
	if (crypto_pair_key(&s->key, &p->cluster, p->xsk, p->self_pk, peer)) {
		s->used = false;
		return NULL;
	}
	s->used = true;
	memcpy(s->peer, peer, CRYPTO_NODE_ID_LEN);
	p->computed++;
	return &s->key;
}
