/* Unit tests of core/crypto: key derivation, seal/open, every rejection
 * (short, wrong magic/version/kind, wrong key, tampered header and body,
 * replayed, too old, old epoch), the bounded replay table's evictions, and
 * a randomized run against a model that no datagram is accepted twice.
 */
#include <errno.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>

#include "core/crypto.h"
#include "t.h"

static const uint8_t topic_a[CRYPTO_TOPIC_LEN] = {0xaa, 1, 2, 3};
static const uint8_t topic_b[CRYPTO_TOPIC_LEN] = {0xbb, 1, 2, 3};

static struct crypto_key key_of(const char *secret, const uint8_t *topic)
{
	struct crypto_key k;

	crypto_key_derive(&k, secret, strlen(secret), topic);
	return k;
}

static struct crypto_hdr hdr(uint8_t id, uint64_t epoch, uint64_t seq)
{
	struct crypto_hdr h = {.kind = CRYPTO_KIND_GOSSIP, .epoch = epoch, .seq = seq};

	memset(h.node_id, id, sizeof(h.node_id));
	h.node_id[31] = (uint8_t)(id * 7 + 1); /* not all-equal bytes */
	return h;
}

/* Seal "hello <seq>" from sender id with a nonce derived from the seq. */
static int seal(const struct crypto_key *k, uint8_t id, uint64_t epoch, uint64_t seq, uint8_t *out,
		size_t cap)
{
	struct crypto_hdr h = hdr(id, epoch, seq);
	uint8_t nonce[CRYPTO_NONCE_LEN] = {0};
	char pt[32];
	int n = snprintf(pt, sizeof(pt), "hello %llu", (unsigned long long)seq);

	memcpy(nonce, &seq, sizeof(seq));
	nonce[20] = id;
	return crypto_seal(k, &h, nonce, (const uint8_t *)pt, (size_t)n, out, cap);
}

static int open_(const struct crypto_key *k, struct crypto_replay *r, const uint8_t *buf,
		 size_t len)
{
	uint8_t pt[2048];
	struct crypto_hdr h;

	return crypto_open(k, r, buf, len, pt, sizeof(pt), &h);
}

/* Seal under seal_key, open under open_key: 0 when it opened, else the error. */
static int deliver2(const struct crypto_key *seal_key, const struct crypto_key *open_key,
		    struct crypto_replay *r, uint8_t id, uint64_t epoch, uint64_t seq)
{
	uint8_t buf[256];
	int n = seal(seal_key, id, epoch, seq, buf, sizeof(buf));

	if (n < 0)
		return n;
	n = open_(open_key, r, buf, (size_t)n);
	return n < 0 ? n : 0;
}

static int deliver(const struct crypto_key *k, struct crypto_replay *r, uint8_t id, uint64_t epoch,
		   uint64_t seq)
{
	return deliver2(k, k, r, id, epoch, seq);
}

static void test_kdf(void)
{
	struct crypto_key a1 = key_of("s3cret", topic_a), a2 = key_of("s3cret", topic_a);
	struct crypto_key b = key_of("s3cret", topic_b), c = key_of("s3cres", topic_a);
	struct crypto_key e = key_of("", topic_a), zero = {0};

	T_CASE("same secret and topic give the same key")
	{
		T_EQ_MEM(a1.k, a2.k, CRYPTO_KEY_LEN);
	}
	T_CASE("another topic gives another key")
	{
		T_ASSERT(memcmp(a1.k, b.k, CRYPTO_KEY_LEN) != 0, "keys equal");
	}
	T_CASE("another secret gives another key")
	{
		T_ASSERT(memcmp(a1.k, c.k, CRYPTO_KEY_LEN) != 0, "keys equal");
		T_ASSERT(memcmp(e.k, zero.k, CRYPTO_KEY_LEN) != 0, "empty secret gives a zero key");
	}
	T_CASE("the secret is length-prefixed: moving bytes into the topic changes the key")
	{
		/* secret "ab" + topic T vs secret "a" + topic "b"||T[0..30] */
		uint8_t t2[CRYPTO_TOPIC_LEN];
		struct crypto_key x, y;

		t2[0] = 'b';
		memcpy(t2 + 1, topic_a, CRYPTO_TOPIC_LEN - 1);
		crypto_key_derive(&x, "ab", 2, topic_a);
		crypto_key_derive(&y, "a", 1, t2);
		T_ASSERT(memcmp(x.k, y.k, CRYPTO_KEY_LEN) != 0, "keys equal");
	}
	T_CASE(
	    "the derivation is pinned (known answer computed independently with Python's hashlib)")
	{
		/* hashlib.blake2b(b"\\x00\\x06s3cret" + topic_a, digest_size=32,
		 *                 person=b"glued-cluster-k1") */
		static const char want[] =
		    "0c51abd52b8cba14b3a04d7451aac27b63f22510ff0011523ea38fcc309ba63a";
		char hex[CRYPTO_KEY_LEN * 2 + 1];

		for (size_t i = 0; i < CRYPTO_KEY_LEN; i++)
			snprintf(hex + 2 * i, 3, "%02x", a1.k[i]);
		T_EQ_STR(hex, want);
	}
	T_CASE("the default topic is pinned (hashlib.blake2b(b'glued default topic v1', "
	       "digest_size=32))")
	{
		uint8_t t[CRYPTO_TOPIC_LEN];
		char hex[CRYPTO_TOPIC_LEN * 2 + 1];

		crypto_default_topic(t);
		for (size_t i = 0; i < CRYPTO_TOPIC_LEN; i++)
			snprintf(hex + 2 * i, 3, "%02x", t[i]);
		T_EQ_STR(hex, "75c5b975bbc1869aa6b928411f3ac0354d760c2934bd00dc1a1f0524083d9d81");
	}
}

static void test_seal_open(void)
{
	struct crypto_key k = key_of("s3cret", topic_a), wrong = key_of("other", topic_a);
	struct crypto_key wrong_topic = key_of("s3cret", topic_b);
	uint8_t buf[256], pt[256], small[4];
	struct crypto_hdr h;
	int n, m;

	n = seal(&k, 1, 7, 42, buf, sizeof(buf));
	T_CASE("seal adds exactly CRYPTO_OVERHEAD bytes")
	{
		T_EQ_INT(n, (int)strlen("hello 42") + CRYPTO_OVERHEAD);
	}
	T_CASE("open gives back the plaintext and the header")
	{
		m = crypto_open(&k, NULL, buf, (size_t)n, pt, sizeof(pt), &h);
		T_EQ_INT(m, (int)strlen("hello 42"));
		T_EQ_MEM(pt, "hello 42", 8);
		T_EQ_INT(h.kind, CRYPTO_KIND_GOSSIP);
		T_EQ_INT((int)h.epoch, 7);
		T_EQ_INT((int)h.seq, 42);
		T_EQ_INT(h.node_id[0], 1);
	}
	T_CASE("an empty plaintext seals and opens")
	{
		struct crypto_hdr h0 = hdr(2, 1, 1);
		uint8_t nonce[CRYPTO_NONCE_LEN] = {9};
		int e = crypto_seal(&k, &h0, nonce, NULL, 0, buf + 128, 128);

		T_EQ_INT(e, CRYPTO_OVERHEAD);
		T_EQ_INT(crypto_open(&k, NULL, buf + 128, (size_t)e, pt, sizeof(pt), &h), 0);
	}
	T_CASE("seal refuses a too small output and an unknown kind")
	{
		struct crypto_hdr hb = hdr(1, 1, 1);
		uint8_t nonce[CRYPTO_NONCE_LEN] = {0};

		T_EQ_INT(crypto_seal(&k, &hb, nonce, (const uint8_t *)"x", 1, pt, CRYPTO_OVERHEAD),
			 GLUED_ESPACE);
		hb.kind = 9;
		T_EQ_INT(crypto_seal(&k, &hb, nonce, (const uint8_t *)"x", 1, pt, sizeof(pt)),
			 -EINVAL);
	}
	T_CASE("short datagrams are rejected as truncated")
	{
		for (int len = 0; len < CRYPTO_OVERHEAD; len++)
			T_EQ_INT(crypto_open(&k, NULL, buf, (size_t)len, pt, sizeof(pt), &h),
				 GLUED_ETRUNC);
	}
	T_CASE("a wrong key does not open (another secret, another topic)")
	{
		T_EQ_INT(crypto_open(&wrong, NULL, buf, (size_t)n, pt, sizeof(pt), &h),
			 GLUED_EAUTH);
		T_EQ_INT(crypto_open(&wrong_topic, NULL, buf, (size_t)n, pt, sizeof(pt), &h),
			 GLUED_EAUTH);
	}
	T_CASE("flipping any bit of the datagram makes it fail to open")
	{
		int opened = 0;

		for (int i = 0; i < n; i++) {
			for (int bit = 0; bit < 8; bit++) {
				uint8_t t[256];
				int e;

				memcpy(t, buf, (size_t)n);
				t[i] ^= (uint8_t)(1u << bit);
				e = crypto_open(&k, NULL, t, (size_t)n, pt, sizeof(pt), &h);
				if (e >= 0)
					opened++;
				/* magic/version/kind/reserved are refused before
				 * the AEAD; everything else by the tag */
				if (i < 4 || (i >= 5 && i < 8))
					T_ASSERT(e == GLUED_EMALF || e == GLUED_EAUTH,
						 "byte %d: %d", i, e);
				else if (i == 4)
					T_EQ_INT(e, GLUED_EBADVERS);
				else
					T_ASSERT(e == GLUED_EAUTH, "byte %d bit %d: %d", i, bit, e);
			}
		}
		T_EQ_INT(opened, 0);
	}
	T_CASE("a header edited to another sender, epoch or seq fails the tag")
	{
		uint8_t t[256];

		memcpy(t, buf, (size_t)n);
		t[55]++; /* seq */
		T_EQ_INT(crypto_open(&k, NULL, t, (size_t)n, pt, sizeof(pt), &h), GLUED_EAUTH);
		memcpy(t, buf, (size_t)n);
		t[8] ^= 0x80; /* node ID */
		T_EQ_INT(crypto_open(&k, NULL, t, (size_t)n, pt, sizeof(pt), &h), GLUED_EAUTH);
	}
	T_CASE("truncating or extending the ciphertext fails the tag")
	{
		uint8_t t[256];

		T_EQ_INT(crypto_open(&k, NULL, buf, (size_t)n - 1, pt, sizeof(pt), &h),
			 GLUED_EAUTH);
		memcpy(t, buf, (size_t)n);
		t[n] = 0;
		T_EQ_INT(crypto_open(&k, NULL, t, (size_t)n + 1, pt, sizeof(pt), &h), GLUED_EAUTH);
	}
	T_CASE("a plaintext buffer too small is refused before decrypting")
	{
		T_EQ_INT(crypto_open(&k, NULL, buf, (size_t)n, small, sizeof(small), &h),
			 GLUED_ESPACE);
	}
	T_CASE("another version is refused")
	{
		uint8_t t[256];

		memcpy(t, buf, (size_t)n);
		t[4] = 1; /* before pair keys: the other side must not try to open it */
		T_EQ_INT(crypto_open(&k, NULL, t, (size_t)n, pt, sizeof(pt), &h), GLUED_EBADVERS);
		t[4] = 3;
		T_EQ_INT(crypto_open(&k, NULL, t, (size_t)n, pt, sizeof(pt), &h), GLUED_EBADVERS);
	}
	T_CASE("peek reads the claimed sender without authenticating")
	{
		T_EQ_INT(crypto_peek_hdr(buf, (size_t)n, &h), 0);
		T_EQ_INT((int)h.seq, 42);
	}
}

static void test_replay(void)
{
	struct crypto_key k = key_of("s3cret", topic_a), wrong = key_of("x", topic_a);
	struct crypto_replay r;
	uint8_t buf[256];
	int n;

	if (crypto_replay_init(&r, 8, 4) != 0) {
		T_ASSERT(0, "init");
		return;
	}
	T_CASE("init refuses nonsense bounds")
	{
		struct crypto_replay x;

		T_EQ_INT(crypto_replay_init(&x, 0, 0), -EINVAL);
		T_EQ_INT(crypto_replay_init(&x, 2, 3), -EINVAL);
	}
	T_CASE("a datagram opens once; the same bytes again are a replay")
	{
		n = seal(&k, 1, 5, 100, buf, sizeof(buf));
		T_ASSERT(open_(&k, &r, buf, (size_t)n) > 0, "first open");
		T_EQ_INT(open_(&k, &r, buf, (size_t)n), GLUED_EREPLAY);
		T_EQ_INT((int)r.st.replayed, 1);
	}
	T_CASE("reordered datagrams within the window are accepted once each")
	{
		T_EQ_INT(deliver(&k, &r, 1, 5, 103), 0);
		T_EQ_INT(deliver(&k, &r, 1, 5, 101), 0);
		T_EQ_INT(deliver(&k, &r, 1, 5, 102), 0);
		T_EQ_INT(deliver(&k, &r, 1, 5, 101), GLUED_EREPLAY);
		T_EQ_INT(deliver(&k, &r, 1, 5, 103), GLUED_EREPLAY);
	}
	T_CASE("a sequence behind the window is too old")
	{
		T_EQ_INT(deliver(&k, &r, 1, 5, 100 + 2000), 0);
		T_EQ_INT(deliver(&k, &r, 1, 5, 100 + 2000 - CRYPTO_WINDOW_SEQS), GLUED_EREPLAY);
		T_EQ_INT(deliver(&k, &r, 1, 5, 100 + 2000 - CRYPTO_WINDOW_SEQS + 1), 0);
		T_ASSERT(r.st.too_old >= 1, "too_old counted");
	}
	T_CASE("a long jump clears the window: new sequences open, none twice")
	{
		T_EQ_INT(deliver(&k, &r, 1, 5, 1000000), 0);
		for (uint64_t s = 1000000 - 900; s < 1000000; s += 61)
			T_EQ_INT(deliver(&k, &r, 1, 5, s), 0);
		for (uint64_t s = 1000000 - 900; s < 1000000; s += 61)
			T_EQ_INT(deliver(&k, &r, 1, 5, s), GLUED_EREPLAY);
	}
	T_CASE("after a restart (new epoch) every datagram of the old epoch is refused")
	{
		uint8_t old[256];
		int on = seal(&k, 1, 5, 1000001, old, sizeof(old));

		T_EQ_INT(deliver(&k, &r, 1, 6, 0), 0);
		T_EQ_INT(open_(&k, &r, old, (size_t)on), GLUED_EREPLAY); /* never seen, old epoch */
		T_EQ_INT(deliver(&k, &r, 1, 5, 5000000), GLUED_EREPLAY);
		T_ASSERT(r.st.old_epoch >= 2, "old_epoch counted: %llu",
			 (unsigned long long)r.st.old_epoch);
		T_EQ_INT(deliver(&k, &r, 1, 6, 1), 0);
		T_EQ_INT(deliver(&k, &r, 1, 6, 0), GLUED_EREPLAY);
	}
	T_CASE("a forged datagram (wrong key) does not move the window")
	{
		T_EQ_INT(deliver2(&wrong, &k, &r, 1, 99, 0), GLUED_EAUTH);
		T_EQ_INT(deliver(&k, &r, 1, 6, 2), 0); /* epoch 99 was not recorded */
	}
	T_CASE("senders are independent")
	{
		T_EQ_INT(deliver(&k, &r, 2, 1, 1), 0);
		T_EQ_INT(deliver(&k, &r, 3, 1, 1), 0);
		T_EQ_INT(deliver(&k, &r, 2, 1, 1), GLUED_EREPLAY);
	}
	T_CASE("a sender whose window was evicted keeps its floor: no replay, no old epoch")
	{
		/* 4 windows: senders 1,2,3 hold three; 4 and 5 push 1 out. */
		T_EQ_INT(deliver(&k, &r, 4, 1, 1), 0);
		T_EQ_INT(deliver(&k, &r, 5, 1, 1), 0);
		T_ASSERT(r.st.window_evictions >= 1, "a window was evicted");
		T_EQ_INT(deliver(&k, &r, 1, 6, 2), GLUED_EREPLAY); /* == floor */
		T_EQ_INT(deliver(&k, &r, 1, 6, 1), GLUED_EREPLAY); /* below floor */
		T_EQ_INT(deliver(&k, &r, 1, 5, 9999999), GLUED_EREPLAY);
		T_EQ_INT(deliver(&k, &r, 1, 6, 10), 0); /* gets a window back */
		/* what it had seen before stays refused after the re-attach */
		T_EQ_INT(deliver(&k, &r, 1, 6, 1), GLUED_EREPLAY);
		T_EQ_INT(deliver(&k, &r, 1, 6, 11), 0);
	}
	T_CASE("past max_senders the least recent sender is forgotten (the documented residual)")
	{
		for (uint8_t id = 10; id < 18; id++)
			T_EQ_INT(deliver(&k, &r, id, 1, 1), 0);
		T_ASSERT(r.st.sender_evictions >= 1, "evictions");
		T_ASSERT(r.n_senders <= 8 && r.n_windows <= 4, "bounded: %zu %zu", r.n_senders,
			 r.n_windows);
		/* every live sender is still found (the index survived the
		 * backward-shift deletions) */
		for (uint8_t id = 10; id < 18; id++)
			T_EQ_INT(deliver(&k, &r, id, 1, 1), GLUED_EREPLAY);
	}
	crypto_replay_fini(&r);
}

/* Random traffic from 40 senders over a table large enough to remember them
 * all (so the model is exact): every (id, epoch, seq) is accepted at most
 * once, and never with an epoch below one already accepted from that id. */
static void test_model(void)
{
	struct crypto_key k = key_of("m", topic_a);
	struct crypto_replay r;
	static uint8_t seen[40][4][2048];
	uint64_t max_epoch[40] = {0}, max_seq[40][4] = {{0}};
	uint32_t x = 12345;
	int bad_twice = 0, bad_epoch = 0, fresh_refused = 0, accepted = 0;

	if (crypto_replay_init(&r, 64, 8) != 0) {
		T_ASSERT(0, "init");
		return;
	}
	for (int i = 0; i < 60000; i++) {
		uint8_t id, ep;
		uint16_t seq;
		bool fresh;
		int e;

		x = x * 1103515245 + 12345;
		id = (uint8_t)((x >> 8) % 40);
		/* mostly the sender's newest epoch, sometimes a restart,
		 * sometimes a replay from the epoch before */
		x = x * 1103515245 + 12345;
		ep = (uint8_t)max_epoch[id];
		if ((x >> 8) % 1000 == 0 && ep < 3)
			ep++;
		else if ((x >> 8) % 8 == 1 && ep > 0)
			ep--;
		x = x * 1103515245 + 12345;
		seq = (uint16_t)((x >> 8) % 2048);
		fresh = ep >= max_epoch[id] && seq > max_seq[id][ep] && !seen[id][ep][seq];
		e = deliver(&k, &r, (uint8_t)(id + 1), ep, seq);
		if (e == 0) {
			accepted++;
			if (seen[id][ep][seq])
				bad_twice++;
			if (ep < max_epoch[id])
				bad_epoch++;
			seen[id][ep][seq] = 1;
			if (ep > max_epoch[id])
				max_epoch[id] = ep;
			if (seq > max_seq[id][ep])
				max_seq[id][ep] = seq;
		} else if (fresh) {
			fresh_refused++;
		}
	}
	T_CASE("randomized: no datagram accepted twice, no old epoch accepted")
	{
		T_EQ_INT(bad_twice, 0);
		T_EQ_INT(bad_epoch, 0);
		T_ASSERT(accepted > 1000, "accepted %d", accepted);
	}
	T_CASE("randomized: a datagram newer than everything seen is always accepted")
	{
		T_EQ_INT(fresh_refused, 0);
	}
	crypto_replay_fini(&r);
}

/* Three nodes that share the cluster key: a and b, and m, a member that
 * would speak for a. */
struct node_keys {
	uint8_t pk[CRYPTO_NODE_ID_LEN], sk[CRYPTO_SK_LEN];
	struct crypto_pairs pairs;
};

static void keys_init(struct node_keys *n, uint8_t seed_byte, const struct crypto_key *cluster)
{
	uint8_t seed[32];

	memset(seed, seed_byte, sizeof(seed));
	crypto_sign_seed_keypair(n->pk, n->sk, seed);
	T_EQ_INT(crypto_pairs_init(&n->pairs, cluster, n->sk), 0);
}

/* A datagram from `from` (sealed under the pair key with `to_pk`) claiming
 * sender `claim`, epoch 1 and seq. */
static int seal_pair(struct node_keys *from, const uint8_t *to_pk, const uint8_t *claim,
		     uint64_t seq, uint8_t *out)
{
	struct crypto_hdr h = {.kind = CRYPTO_KIND_GOSSIP, .epoch = 1, .seq = seq};
	uint8_t nonce[CRYPTO_NONCE_LEN] = {(uint8_t)seq, 7};
	const struct crypto_key *k = crypto_pairs_get(&from->pairs, to_pk);

	memcpy(h.node_id, claim, CRYPTO_NODE_ID_LEN);
	return k ? crypto_seal(k, &h, nonce, (const uint8_t *)"hello", 5, out, 256) : -1;
}

/* What b's edge does: the pair key of the claimed sender, then the window. */
static int open_pair(struct node_keys *at, struct crypto_replay *r, const uint8_t *buf, int n)
{
	struct crypto_hdr h;
	uint8_t pt[256];
	const struct crypto_key *k;

	if (crypto_peek_hdr(buf, (size_t)n, &h))
		return GLUED_EMALF;
	k = crypto_pairs_get(&at->pairs, h.node_id);
	return k ? crypto_open(k, r, buf, (size_t)n, pt, sizeof(pt), &h) : GLUED_EAUTH;
}

static void test_node_keys(void)
{
	struct crypto_key cluster = key_of("s3cret", topic_a), other = key_of("other", topic_a);
	struct node_keys a, b, m, a2;
	struct crypto_replay r;
	uint8_t d1[256], d2[256], msg[64] = "statement", sig[CRYPTO_SIG_LEN];
	int n1, n2;

	keys_init(&a, 1, &cluster);
	keys_init(&b, 2, &cluster);
	keys_init(&m, 3, &cluster);
	keys_init(&a2, 1, &other); /* a's key pair under another cluster key */
	T_ASSERT(crypto_replay_init(&r, 16, 4) == 0, "replay init");
	T_CASE("both ends of a pair derive the same key; another pair or cluster does not")
	{
		const struct crypto_key *ab = crypto_pairs_get(&a.pairs, b.pk);
		const struct crypto_key *ba = crypto_pairs_get(&b.pairs, a.pk);
		const struct crypto_key *mb = crypto_pairs_get(&m.pairs, b.pk);
		const struct crypto_key *ab2 = crypto_pairs_get(&a2.pairs, b.pk);

		T_ASSERT(ab && ba && mb && ab2, "keys");
		T_EQ_MEM(ab->k, ba->k, CRYPTO_KEY_LEN);
		T_ASSERT(memcmp(ab->k, mb->k, CRYPTO_KEY_LEN) != 0, "m's key with b differs");
		T_ASSERT(memcmp(ab->k, ab2->k, CRYPTO_KEY_LEN) != 0, "the cluster key is in it");
		T_ASSERT(crypto_pairs_get(&a.pairs, b.pk) == ab && a.pairs.hits >= 1, "cached");
	}
	T_CASE("a public key of small order is refused")
	{
		uint8_t zero[CRYPTO_NODE_ID_LEN] = {1}; /* the identity point: order 1 */
		struct crypto_key k;

		T_EQ_INT(crypto_pair_key(&k, &cluster, a.pairs.xsk, a.pk, zero), GLUED_EAUTH);
		T_ASSERT(crypto_pairs_get(&a.pairs, zero) == NULL, "not cached either");
	}
	T_CASE("a member sealing in another's name does not open, and leaves its window alone")
	{
		/* m claims to be a, seq 2^64-1: under m's pair key with b */
		n1 = seal_pair(&m, b.pk, a.pk, UINT64_MAX, d1);
		T_ASSERT(n1 > 0, "sealed");
		T_EQ_INT(open_pair(&b, &r, d1, n1), GLUED_EAUTH);
		T_EQ_INT(r.st.accepted, 0);
		/* a's genuine datagrams afterwards: accepted, once */
		n2 = seal_pair(&a, b.pk, a.pk, 1, d2);
		T_EQ_INT(open_pair(&b, &r, d2, n2), 5);
		T_EQ_INT(open_pair(&b, &r, d2, n2), GLUED_EREPLAY);
		n2 = seal_pair(&a, b.pk, a.pk, 2, d2);
		T_EQ_INT(open_pair(&b, &r, d2, n2), 5);
	}
	T_CASE("a datagram for b does not open at m (only the pair can read it)")
	{
		n2 = seal_pair(&a, b.pk, a.pk, 3, d2);
		T_ASSERT(open_pair(&m, NULL, d2, n2) == GLUED_EAUTH, "m cannot read a to b");
	}
	T_CASE("statement signatures: tampered, wrong key, right key")
	{
		crypto_sign_stmt(sig, msg, sizeof(msg), a.sk);
		T_ASSERT(crypto_sig_ok(sig, msg, sizeof(msg), a.pk), "a's signature verifies");
		T_ASSERT(!crypto_sig_ok(sig, msg, sizeof(msg), m.pk), "not as m's");
		msg[3] ^= 1;
		T_ASSERT(!crypto_sig_ok(sig, msg, sizeof(msg), a.pk), "tampered message");
		msg[3] ^= 1;
		sig[10] ^= 1;
		T_ASSERT(!crypto_sig_ok(sig, msg, sizeof(msg), a.pk), "tampered signature");
	}
	T_CASE("hash16 separates tags and the boundary between its inputs")
	{
		uint8_t h1[16], h2[16], h3[16];

		crypto_hash16(h1, 'L', (const uint8_t *)"ab", 2, (const uint8_t *)"c", 1);
		crypto_hash16(h2, 'N', (const uint8_t *)"ab", 2, (const uint8_t *)"c", 1);
		crypto_hash16(h3, 'L', (const uint8_t *)"abc", 3, NULL, 0);
		T_ASSERT(memcmp(h1, h2, 16) != 0, "tags differ");
		T_EQ_MEM(h1, h3, 16); /* fixed-size Merkle inputs: no boundary ambiguity */
	}
	crypto_replay_fini(&r);
	crypto_pairs_fini(&a.pairs);
	crypto_pairs_fini(&b.pairs);
	crypto_pairs_fini(&m.pairs);
	crypto_pairs_fini(&a2.pairs);
}

int main(void)
{
	if (crypto_global_init() != 0) {
		fprintf(stderr, "sodium_init failed\n");
		return 1;
	}
	test_kdf();
	test_seal_open();
	test_replay();
	test_model();
	test_node_keys();
	return t_summary();
}
