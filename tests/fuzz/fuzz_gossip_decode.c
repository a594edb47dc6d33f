/* libFuzzer target for the gossip decoder (plaintext after the crypto layer
 * opened a datagram) and the core behind it. Besides "no crash, no leak, no
 * UB" it checks what the core relies on: an accepted datagram iterates to
 * known messages whose records convert to table entries the table accepts
 * (valid names, 1..8 addresses), a rejected one changes nothing in the
 * table, and the core only ever emits datagrams within GOSSIP_DGRAM_MAX
 * that the decoder accepts again.
 *
 * Input: the first byte picks the sender (bit 0 clear: a stranger, set: a
 * known peer with a sync in flight) and how the envelope came (bit 1 clear:
 * under the pair key, gossip_recv; set: a HELLO, gossip_recv_unverified);
 * the rest is the datagram. Statements in it verify only if they were
 * signed for real: the corpus holds datagrams the simulator sent
 * (SIM_DUMP=dir glued-sim ...).
 */
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/crypto.h"
#include "core/gossip.h"
#include "core/gossip_wire.h"
#include "core/table.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

static uint32_t rng_next(void *ctx)
{
	uint32_t *s = ctx;

	*s = *s * 1103515245u + 12345u;
	return *s;
}

static uint8_t sk[CRYPTO_SK_LEN];

static void sign(void *ctx, uint8_t sig[64], const uint8_t *msg, size_t len)
{
	(void)ctx;
	crypto_sign_stmt(sig, msg, len, sk);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	CHECK(crypto_global_init() == 0);
	return 0;
}

static void check_out(struct gossip *g)
{
	static struct gossip_out out[8];
	size_t n;

	do {
		n = gossip_poll_send(g, out, 8);
		for (size_t i = 0; i < n; i++) {
			struct gw_hdr h;
			size_t unknown;

			CHECK(out[i].len > GW_HDR_LEN && out[i].len <= GOSSIP_DGRAM_MAX);
			CHECK(gw_check(out[i].buf, out[i].len, &h, &unknown) == 0);
			CHECK(unknown == 0);
		}
	} while (n == 8);
}

/* An accepted DELTA: 1..64 records of the statement's batch, in rising
 * version order, each with the path its leaf needs, filling the body
 * exactly; live ones convert to entries the table accepts. */
static void check_delta(const struct gw_msg *m)
{
	const struct gw_stmt *st = &m->u.delta.stmt;
	struct wire w = wire_init(m->u.delta.items, m->u.delta.items_len);
	struct gw_delta_item it;
	uint64_t last = st->prev;

	CHECK(m->u.delta.count >= 1 && m->u.delta.count <= GW_BATCH_MAX);
	CHECK(!(st->flags & GW_STMT_LEFT));
	for (uint8_t i = 0; i < m->u.delta.count; i++) {
		CHECK(gw_delta_item_decode(&w, &it) == 0);
		CHECK(it.rec.seq > last && it.rec.seq <= st->head);
		CHECK(it.n_path == gw_path_len(st->head - st->prev, it.rec.seq - st->prev - 1));
		last = it.rec.seq;
		if (!it.rec.deleted) {
			static struct table_entry e;
			struct table *tt = table_new();

			CHECK(tt);
			gw_record_to_entry(&it.rec, 1, 0, &e);
			CHECK(e.n_names >= 1 && e.n_addrs >= 1);
			CHECK(table_put(tt, &e) == 0);
			table_free(tt);
		}
	}
	CHECK(wire_avail(&w) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t self[GOSSIP_ID_LEN];
	static bool keyed;
	static uint8_t sender[GOSSIP_ID_LEN] = {0x01, 2, 3};
	struct glued_endpoint from = {0};
	struct gossip_cfg cfg = {0};
	struct table_stats before, after;
	struct gw_hdr h;
	struct gw_iter it;
	struct gw_msg m;
	struct gossip *g;
	struct table *t;
	uint32_t seed = 1;
	size_t unknown;
	int err;

	if (size < 1)
		return 0;
	from.addr.family = AF_INET;
	from.addr.b[0] = 10;
	from.addr.b[3] = 2;
	from.port = 7947;

	/* the codec alone */
	err = gw_check(data + 1, size - 1, &h, &unknown);
	if (err == 0) {
		gw_iter_init(&it, data + 1, size - 1);
		while (gw_iter_next(&it, &m)) {
			CHECK(m.type >= GW_PING && m.type <= GW_SYNC_DATA);
			if (m.type == GW_DELTA)
				check_delta(&m);
		}
	}

	/* the core behind it */
	t = table_new();
	CHECK(t);
	if (!keyed) {
		uint8_t key_seed[32] = {0xaa, 1};

		crypto_sign_seed_keypair(self, sk, key_seed);
		keyed = true;
	}
	memcpy(cfg.self_id, self, GOSSIP_ID_LEN);
	cfg.signer = (struct gossip_signer){sign, NULL};
	cfg.self_addr = from;
	cfg.self_addr.addr.b[3] = 1;
	cfg.epoch = 1;
	g = gossip_new(&cfg, t, (struct glued_rng){rng_next, &seed});
	CHECK(g);
	CHECK(table_observe_entries(t, gossip_on_table_entry, g) == 0);
	if (data[0] & 1) {
		/* a known peer that says it has records: the core syncs from it */
		static const uint8_t hello[] =
		    {
			GW_VERSION, 0, 0,  0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
			0,	    0, 0,  0, 0, 9,    /* hdr
							*/
			GW_PING,    0, 36, 0, 0, 0, 1, /* target: zero */
			0,	    0, 0,  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
			0,	    0, 0,  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		    };

		CHECK(gossip_recv(g, 1000, &from, sender, hello, sizeof(hello)) == 0);
		gossip_tick(g, 2000);
		check_out(g);
	}
	table_get_stats(t, &before);
	err = data[0] & 2 ? gossip_recv_unverified(g, 2100, &from, sender, data + 1, size - 1)
			  : gossip_recv(g, 2100, &from, sender, data + 1, size - 1);
	table_get_stats(t, &after);
	if (err && err != GLUED_ELIMIT)
		CHECK(before.entries == after.entries && before.puts == after.puts);
	gossip_tick(g, 2200);
	check_out(g);
	gossip_tick(g, 60000);
	check_out(g);
	gossip_free(g);
	table_free(t);
	return 0;
}
