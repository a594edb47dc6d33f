/* Sealed gossip datagrams: the cluster key, sealing, opening, and the replay
 * window that makes every authenticated datagram count at most once.
 *
 * Pure computation over libsodium: no I/O, no clock, no getrandom (nonces
 * come in from the caller), no logging, no allocation after
 * crypto_replay_init(). The caller (io/gossip) runs sodium_init() once
 * through crypto_global_init() before using anything here.
 *
 * A datagram on the wire (all integers big-endian):
 *
 *	 0  u32  magic "GLUD" (0x474c5544)
 *	 4  u8   version (CRYPTO_VERSION)
 *	 5  u8   kind (enum crypto_kind)
 *	 6  u16  reserved, zero
 *	 8  [32] sender node ID (its Ed25519 public key)
 *	40  u64  sender boot epoch (grows across restarts, io/identity)
 *	48  u64  sender sequence number within the epoch (grows per datagram)
 *	56  [24] XChaCha20 nonce, random per datagram
 *	80  ...  ciphertext of the plaintext, then the 16-byte Poly1305 tag
 *
 * The 56 header bytes are the AEAD's associated data, so none of them can
 * be changed without the tag failing. Opening checks length, magic,
 * version, kind and the reserved field, then authenticates and decrypts,
 * then consults the replay window; nothing of the plaintext is looked at
 * before the tag has been verified.
 */
#ifndef GLUED_CORE_CRYPTO_H
#define GLUED_CORE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

#define CRYPTO_MAGIC 0x474c5544u /* "GLUD" */
#define CRYPTO_VERSION 2	 /* 2: gossip datagrams sealed under pair keys */
#define CRYPTO_KEY_LEN 32
#define CRYPTO_NODE_ID_LEN 32
#define CRYPTO_TOPIC_LEN 32
#define CRYPTO_HDR_LEN 56						     /* associated data */
#define CRYPTO_NONCE_LEN 24						     /* XChaCha20 */
#define CRYPTO_TAG_LEN 16						     /* Poly1305 */
#define CRYPTO_OVERHEAD (CRYPTO_HDR_LEN + CRYPTO_NONCE_LEN + CRYPTO_TAG_LEN) /* 96 */

/* Replay window: a ring of 16 64-bit words; a sequence number at least
 * CRYPTO_WINDOW_SEQS behind the newest one seen is rejected as too old. */
#define CRYPTO_WINDOW_WORDS 16
#define CRYPTO_WINDOW_SEQS ((CRYPTO_WINDOW_WORDS - 1) * 64) /* 960 */

/* Which key seals a datagram, and so what opening it proves. */
enum crypto_kind {
	CRYPTO_KIND_GOSSIP = 1, /* to a known node ID, under the pair key: proves the sender */
	CRYPTO_KIND_BEACON = 2, /* the LAN multicast beacon, under the cluster key */
	CRYPTO_KIND_HELLO = 3,	/* to a peer whose ID is not known yet, under the cluster key:
				 * proves only membership, not the claimed sender */
	CRYPTO_KIND_MAX = CRYPTO_KIND_HELLO,
};

struct crypto_key {
	uint8_t k[CRYPTO_KEY_LEN];
};

/* What a datagram says about its sender; the associated data. */
struct crypto_hdr {
	uint8_t kind; /* enum crypto_kind */
	uint8_t node_id[CRYPTO_NODE_ID_LEN];
	uint64_t epoch;
	uint64_t seq;
};

/* sodium_init(); 0 or -1 (libsodium unusable: the caller treats it as fatal). */
int crypto_global_init(void) GLUED_MUST_CHECK;

/* The cluster key: BLAKE2b-256 with the personalization "glued-cluster-k1"
 * over len(secret) as u16 || secret || topic (see docs/security.md for why not
 * a password hash). Same inputs give the same key on every node; a different
 * secret or topic gives an unrelated key. */
void crypto_key_derive(struct crypto_key *key, const char *secret, size_t secret_len,
		       const uint8_t topic[CRYPTO_TOPIC_LEN]);

/* The topic used when GLUED_TOPIC_ID is not set: BLAKE2b-256 of
 * "glued default topic v1". Fixed, so nodes that set nothing still find each
 * other (docs/security.md says why this is not a random topic). */
void crypto_default_topic(uint8_t topic[CRYPTO_TOPIC_LEN]);

/* Seal `len` plaintext bytes into out (capacity cap, at least
 * len + CRYPTO_OVERHEAD) under key with header h and the caller's random
 * nonce. pt and out must not overlap. Returns the datagram's length (> 0),
 * or GLUED_ESPACE, or -EINVAL for a kind outside enum crypto_kind. */
int crypto_seal(const struct crypto_key *key, const struct crypto_hdr *h,
		const uint8_t nonce[CRYPTO_NONCE_LEN], const uint8_t *pt, size_t len, uint8_t *out,
		size_t cap) GLUED_MUST_CHECK;

/* The per-sender replay state: at most max_senders senders are remembered
 * (epoch and highest sequence, a "floor"), and at most max_windows of them
 * also have a sequence bitmap (which accepts reordering within the window).
 * Both are evicted least recently accepted first. A sender without a bitmap
 * is held to its floor strictly: only a newer epoch, or a higher sequence in
 * the same epoch, is accepted. A sender forgotten entirely is treated as new:
 * see docs/security.md for what that allows. */
struct crypto_replay_stats {
	uint64_t accepted;
	uint64_t replayed;	   /* sequence already seen in the current epoch */
	uint64_t too_old;	   /* sequence behind the window (or the floor) */
	uint64_t old_epoch;	   /* epoch older than the sender's newest */
	uint64_t window_evictions; /* a sender's bitmap went to another sender */
	uint64_t sender_evictions; /* a sender was forgotten entirely */
	size_t senders, windows;   /* in use now */
};

struct crypto_sender;
struct crypto_window;

struct crypto_replay {
	size_t max_senders, max_windows;
	size_t n_senders, n_windows;
	struct crypto_sender *senders;
	struct crypto_window *windows;
	int32_t *index; /* open addressing over node IDs; -1 empty */
	size_t index_mask;
	uint64_t tick; /* LRU clock: counts accepted datagrams */
	struct crypto_replay_stats st;
};

/* Allocate for max_senders >= 1 and 1 <= max_windows <= max_senders.
 * 0, -EINVAL or -ENOMEM. */
int crypto_replay_init(struct crypto_replay *r, size_t max_senders,
		       size_t max_windows) GLUED_MUST_CHECK;
void crypto_replay_fini(struct crypto_replay *r);
/* Forget every sender (tests; a key change). */
void crypto_replay_reset(struct crypto_replay *r);

/* Would (h->node_id, h->epoch, h->seq) be accepted? 0 or GLUED_EREPLAY.
 * Changes nothing, counts nothing (crypto_open counts its rejections). */
int crypto_replay_check(const struct crypto_replay *r, const struct crypto_hdr *h);
/* Record an authenticated datagram as seen (call only after check said 0). */
void crypto_replay_commit(struct crypto_replay *r, const struct crypto_hdr *h);

/* Open a datagram: on success returns the plaintext length (>= 0) written to
 * pt (capacity cap), and fills *h. Errors, in the order they are checked:
 *   GLUED_ETRUNC   shorter than CRYPTO_OVERHEAD
 *   GLUED_EMALF    wrong magic, unknown kind or nonzero reserved field
 *   GLUED_EBADVERS another version
 *   GLUED_ESPACE   pt too small for the plaintext
 *   GLUED_EREPLAY  sender's window rejects (epoch, seq): checked before the
 *                  (costly) decryption, recorded only after it succeeds, so
 *                  forged datagrams never move a window
 *   GLUED_EAUTH    the tag does not verify (wrong key, tampered header or body)
 * r may be NULL to skip replay protection (the fuzz target, tools). */
int crypto_open(const struct crypto_key *key, struct crypto_replay *r, const uint8_t *buf,
		size_t len, uint8_t *pt, size_t cap, struct crypto_hdr *h) GLUED_MUST_CHECK;

/* --- node keys -------------------------------------------------------------
 * The node ID is an Ed25519 public key. Two uses of the key pair:
 *  - statements (core/gossip_sign.c) are signed with it: crypto_sign_stmt()
 *    in the edge (through the core's injected signer), crypto_sig_ok() in
 *    the core;
 *  - the pair key of two nodes: BLAKE2b-256 ("glued-pair-k2") over the
 *    cluster key, X25519(a, B) (the Ed25519 keys converted to Curve25519) and
 *    both public keys in ascending order. Only the two nodes (knowing the
 *    cluster key) can compute it: a datagram of kind GOSSIP that opens under
 *    it was sealed by the node its header names (or by the receiver itself).
 */
#define CRYPTO_SIG_LEN 64
#define CRYPTO_SK_LEN 64 /* libsodium's Ed25519 secret key: seed || public key */
#define CRYPTO_X25519_LEN 32

void crypto_sign_stmt(uint8_t sig[CRYPTO_SIG_LEN], const uint8_t *msg, size_t len,
		      const uint8_t sk[CRYPTO_SK_LEN]);
/* Does sig verify for msg under the public key pk (a node ID)? */
bool crypto_sig_ok(const uint8_t sig[CRYPTO_SIG_LEN], const uint8_t *msg, size_t len,
		   const uint8_t pk[CRYPTO_NODE_ID_LEN]);
/* 16-byte BLAKE2b over a tag byte, then a (alen bytes) and b (blen bytes,
 * b may be NULL): the Merkle leaves and nodes of statements. */
void crypto_hash16(uint8_t out[16], uint8_t tag, const uint8_t *a, size_t alen, const uint8_t *b,
		   size_t blen);

/* This node's Curve25519 secret from its Ed25519 secret key: 0 or -EINVAL. */
int crypto_x25519_secret(uint8_t xsk[CRYPTO_X25519_LEN],
			 const uint8_t sk[CRYPTO_SK_LEN]) GLUED_MUST_CHECK;
/* The pair key of this node (xsk, self_pk) and peer_pk: 0, or GLUED_EAUTH
 * when peer_pk is not a usable public key (not on the curve, small order). */
int crypto_pair_key(struct crypto_key *out, const struct crypto_key *cluster,
		    const uint8_t xsk[CRYPTO_X25519_LEN], const uint8_t self_pk[CRYPTO_NODE_ID_LEN],
		    const uint8_t peer_pk[CRYPTO_NODE_ID_LEN]) GLUED_MUST_CHECK;

/* A direct-mapped cache of pair keys by peer ID (an X25519 costs ~100 us;
 * a cluster has at most GOSSIP_MEMBERS_MAX peers). */
#define CRYPTO_PAIRS 2048
struct crypto_pairs {
	struct crypto_key cluster;
	uint8_t xsk[CRYPTO_X25519_LEN];
	uint8_t self_pk[CRYPTO_NODE_ID_LEN];
	struct crypto_pair {
		bool used;
		uint8_t peer[CRYPTO_NODE_ID_LEN];
		struct crypto_key key;
	} * slot;
	uint64_t computed, hits;
};
/* 0, -ENOMEM or -EINVAL (sk unusable). */
int crypto_pairs_init(struct crypto_pairs *p, const struct crypto_key *cluster,
		      const uint8_t sk[CRYPTO_SK_LEN]) GLUED_MUST_CHECK;
void crypto_pairs_fini(struct crypto_pairs *p);
/* The pair key with peer (computed or cached), or NULL (GLUED_EAUTH above). */
const struct crypto_key *crypto_pairs_get(struct crypto_pairs *p,
					  const uint8_t peer[CRYPTO_NODE_ID_LEN]);

/* Parse only the cleartext header (no authentication: for logging the
 * claimed sender of a datagram that failed to open). 0 or an error as above. */
int crypto_peek_hdr(const uint8_t *buf, size_t len, struct crypto_hdr *h) GLUED_MUST_CHECK;

#endif
