/* Response rate limiting (RRL), as Knot and BIND do it: a source that gets
 * more answers than it asked bytes for (the amplification a spoofer aims
 * at a victim) is held to `rate` such responses per second per source
 * prefix; over it, every `slip`-th limited response goes out as a minimal
 * truncated reply (TC=1, no records but the question and an OPT: a real
 * client retries over TCP, which is never limited) and the rest are
 * dropped. Pure: the caller passes the time and says which responses
 * count; no clock, no I/O, no allocation after rrl_new().
 *
 * The bucket is GCRA (the token bucket as one timestamp, as the kernel
 * program keeps it, include/glued/abi.h "glued_rrl"): a prefix's next
 * response is due 1/rate s after its last, and may come up to 1 s early,
 * so a quiet prefix has `rate` responses banked. Prefixes: the source
 * address masked to prefix4 / prefix6 bits (a spoofer picks addresses; the
 * victim is a network). The table is bounded: `slots` buckets in sets of
 * RRL_WAYS, the set picked by SipHash (crypto_shorthash) of the prefix
 * under a key the caller draws at start, so nobody can aim prefixes at one
 * set; a new prefix takes the least recently used bucket of its set
 * (counted: rrl_evictions()). An evicted prefix comes back with a full
 * bucket, so a spoofer cycling through prefixes can give one at most
 * `rate` extra responses per eviction, and only by outrunning the victim's
 * own traffic in the victim's set.
 */
#ifndef GLUED_CORE_RRL_H
#define GLUED_CORE_RRL_H

#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "lib/err.h"

#define RRL_WAYS 4
#define RRL_RATE_MAX 1000000

struct rrl_cfg {
	uint32_t rate;	 /* responses per second per prefix; 0: off (all sent) */
	uint32_t slip;	 /* 0: drop all limited; N: every Nth limited slips */
	uint8_t prefix4; /* 0..32 */
	uint8_t prefix6; /* 0..128 */
	uint32_t slots;	 /* buckets: a power of two >= RRL_WAYS */
};

enum rrl_verdict {
	RRL_SEND = 0, /* within the rate: send the response */
	RRL_SLIP,     /* over: send rrl_slip()'s truncated form instead */
	RRL_DROP,     /* over: send nothing */
};

struct rrl;

/* key: 16 bytes (crypto_shorthash_KEYBYTES), drawn at random by the
 * caller. NULL on a bad cfg (rate > RRL_RATE_MAX, slots not a power of
 * two >= RRL_WAYS, a prefix too long) or out of memory. */
struct rrl *rrl_new(const struct rrl_cfg *cfg, const uint8_t key[16]);
void rrl_free(struct rrl *r);

/* One response that counts (larger than its query, to a source that is
 * not exempt) about to go to src at now_ms (monotonic): the verdict. Time
 * that goes backwards counts as no time passed. */
enum rrl_verdict rrl_account(struct rrl *r, const struct glued_addr *src, uint64_t now_ms);

/* Turn the response msg[0..len) (cap bytes of room) into its slip form in
 * place: the header with TC=1, QDCOUNT kept (0 or 1), ANCOUNT = NSCOUNT =
 * 0, the question, and the OPT record if the response had one (ARCOUNT 1,
 * else 0). Flags and RCODE otherwise as they were. The response may come
 * from an upstream (outside bytes): every read is bounded. Returns the new
 * length, or 0 when the response does not parse that far (send nothing). */
size_t rrl_slip(uint8_t *msg, size_t len);

uint64_t rrl_evictions(const struct rrl *r);

#endif
