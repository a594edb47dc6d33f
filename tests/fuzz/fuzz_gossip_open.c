/* libFuzzer target for the sealed-datagram opener (core/crypto), the first
 * code that touches every datagram arriving on the gossip port.
 *
 * The first input byte picks a mode:
 *   even: the rest is a datagram off the wire; it is opened under the fixed
 *         fuzz key with a replay table. Whatever it is, no crash, no UB, the
 *         result is an error code or a plaintext length of exactly
 *         len - CRYPTO_OVERHEAD, and a datagram that opened once is a replay
 *         the second time.
 *   odd:  the rest is (kind, epoch, seq, plaintext); it is sealed under the
 *         fuzz key, must open back to the same header and plaintext, must be
 *         refused under another key, must be refused after any one byte is
 *         flipped, and must be a replay the second time.
 * The committed corpus holds datagrams sealed under the fuzz key (secret
 * "fuzz", topic all 0x11), so the even mode reaches the replay logic too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

static struct crypto_key key, other;
static struct crypto_replay replay;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t topic[CRYPTO_TOPIC_LEN];

	(void)argc;
	(void)argv;
	CHECK(crypto_global_init() == 0);
	memset(topic, 0x11, sizeof(topic));
	crypto_key_derive(&key, "fuzz", 4, topic);
	crypto_key_derive(&other, "fuzz!", 5, topic);
	CHECK(crypto_replay_init(&replay, 16, 4) == 0);
	return 0;
}

static void open_raw(const uint8_t *data, size_t size)
{
	static uint8_t pt[65536];
	struct crypto_hdr h;
	int n;

	crypto_replay_reset(&replay);
	n = crypto_open(&key, &replay, data, size, pt, sizeof(pt), &h);
	if (n < 0) {
		CHECK(n == GLUED_ETRUNC || n == GLUED_EMALF || n == GLUED_EBADVERS ||
		      n == GLUED_EAUTH || n == GLUED_ESPACE);
		return;
	}
	CHECK((size_t)n + CRYPTO_OVERHEAD == size);
	CHECK(h.kind >= 1 && h.kind <= CRYPTO_KIND_MAX);
	CHECK(crypto_open(&key, &replay, data, size, pt, sizeof(pt), &h) == GLUED_EREPLAY);
	CHECK(replay.st.accepted == 1 && replay.st.replayed == 1);
}

static void seal_open(const uint8_t *data, size_t size)
{
	static uint8_t dgram[4096 + CRYPTO_OVERHEAD], pt[4096];
	uint8_t nonce[CRYPTO_NONCE_LEN] = {0};
	struct crypto_hdr h = {0}, got;
	size_t len, flip;
	int n, m;

	if (size < 17)
		return;
	h.kind = (uint8_t)(1 + data[0] % CRYPTO_KIND_MAX);
	memcpy(&h.epoch, data + 1, 8);
	memcpy(&h.seq, data + 9, 8);
	memcpy(h.node_id, data + 1, 16);
	data += 17;
	size -= 17;
	len = size > 4096 ? 4096 : size;
	memcpy(nonce, data, len < sizeof(nonce) ? len : sizeof(nonce));

	n = crypto_seal(&key, &h, nonce, data, len, dgram, sizeof(dgram));
	CHECK(n > 0 && (size_t)n == len + CRYPTO_OVERHEAD);
	crypto_replay_reset(&replay);
	CHECK(crypto_open(&other, &replay, dgram, (size_t)n, pt, sizeof(pt), &got) == GLUED_EAUTH);
	m = crypto_open(&key, &replay, dgram, (size_t)n, pt, sizeof(pt), &got);
	CHECK(m >= 0 && (size_t)m == len && memcmp(pt, data, len) == 0);
	CHECK(got.kind == h.kind && got.epoch == h.epoch && got.seq == h.seq);
	CHECK(memcmp(got.node_id, h.node_id, CRYPTO_NODE_ID_LEN) == 0);
	CHECK(crypto_open(&key, &replay, dgram, (size_t)n, pt, sizeof(pt), &got) == GLUED_EREPLAY);

	/* One flipped byte anywhere: never opens (without a replay table, so
	 * only authentication can refuse it). */
	flip = (size_t)(h.seq % (uint64_t)n);
	dgram[flip] ^= (uint8_t)(1 + (h.epoch & 0x7f));
	CHECK(crypto_open(&key, NULL, dgram, (size_t)n, pt, sizeof(pt), &got) < 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		seal_open(data + 1, size - 1);
	else
		open_raw(data + 1, size - 1);
	return 0;
}
