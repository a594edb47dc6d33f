/* The gossip core's state machines, driven by hand: a few cores wired
 * together through a lossless in-test network (tests/sim/ does the
 * adversarial network). Also the table additions gossip relies on (entry
 * observers, table_del_origin_except). */
#include <errno.h>
#include <sodium.h>
#include <sys/socket.h>

#include "core/crypto.h"
#include "core/gossip.h"
#include "core/gossip_wire.h"
#include "core/table.h"
#include "t.h"
#include "trng.h"

#define N 3	 /* the default cluster */
#define N_MAX 12 /* the largest one a test starts */

struct node {
	struct table *t;
	struct gossip *g;
	uint8_t id[GOSSIP_ID_LEN]; /* its Ed25519 public key */
	uint8_t sk[CRYPTO_SK_LEN];
	struct glued_endpoint ep;
	bool down; /* drops everything to and from it */
	uint64_t epoch;
	int events[8];
	uint32_t rng;
};

static struct node nodes[N_MAX];
/* direct PINGs i -> j, counted as sent (before the network drops them) */
static int pings[N_MAX][N_MAX];
static int ping_log[N_MAX][64], ping_log_n[N_MAX];
static uint64_t now;
static struct gossip_out out[64];
/* Drop this datagram (from node i to node to)? NULL: deliver everything. */
static bool (*drop)(int i, int to, const uint8_t *buf, size_t len);

static void sign(void *ctx, uint8_t sig[64], const uint8_t *msg, size_t len)
{
	const struct node *x = ctx;

	crypto_sign_stmt(sig, msg, len, x->sk);
}

/* Datagrams node `capture_from` sent that hold a message of type
 * `capture_type` (the first CAPTURE of them), for replays and forgeries. */
#define CAPTURE 8
static int capture_from = -1, capture_type, n_captured;
static struct gossip_out captured[CAPTURE];

static bool has_type(const uint8_t *buf, size_t len, int type)
{
	struct gw_hdr h;
	struct gw_iter it;
	struct gw_msg m;
	size_t unknown;

	if (gw_check(buf, len, &h, &unknown))
		return false;
	gw_iter_init(&it, buf, len);
	while (gw_iter_next(&it, &m))
		if (m.type == type)
			return true;
	return false;
}

static uint32_t pp_interval; /* push_pull_interval_ms; 0 = the default */

static void start(int i)
{
	struct node *x = &nodes[i];
	struct gossip_cfg cfg = {0};

	if (!x->t)
		x->t = table_new();
	memcpy(cfg.self_id, x->id, GOSSIP_ID_LEN);
	cfg.self_addr = x->ep;
	cfg.epoch = ++x->epoch;
	x->rng = 0x1234567u + (uint32_t)i * 77 + (uint32_t)x->epoch;
	cfg.signer = (struct gossip_signer){sign, x};
	cfg.timing.push_pull_interval_ms = pp_interval;
	x->g = gossip_new(&cfg, x->t, (struct glued_rng){t_xorshift32, &x->rng});
	if (!x->g || table_observe_entries(x->t, gossip_on_table_entry, x->g))
		abort();
	x->down = false;
}

static void stop(int i)
{
	gossip_free(nodes[i].g);
	table_free(nodes[i].t);
	nodes[i].g = NULL;
	nodes[i].t = NULL;
}

static int node_of(const struct glued_endpoint *e)
{
	for (int i = 0; i < N_MAX; i++)
		if (e->port == nodes[i].ep.port)
			return i;
	return -1;
}

static void count_pings(int from, int to, const uint8_t *buf, size_t len)
{
	struct gw_hdr h;
	struct gw_iter it;
	struct gw_msg m;
	size_t unknown;

	if (gw_check(buf, len, &h, &unknown))
		return;
	gw_iter_init(&it, buf, len);
	while (gw_iter_next(&it, &m))
		if (m.type == GW_PING && !memcmp(m.u.probe.target, nodes[to].id, GOSSIP_ID_LEN)) {
			pings[from][to]++;
			if (ping_log_n[from] < 64)
				ping_log[from][ping_log_n[from]++] = to;
		}
}

/* Deliver everything queued, repeatedly, at the current time. */
static void flush(void)
{
	for (int round = 0; round < 50; round++) {
		bool any = false;

		for (int i = 0; i < N_MAX; i++) {
			struct gossip_event ev;
			size_t n;

			if (!nodes[i].g)
				continue;
			while (gossip_poll_event(nodes[i].g, &ev))
				nodes[i].events[ev.type]++;
			n = gossip_poll_send(nodes[i].g, out, 64);
			for (size_t j = 0; j < n; j++) {
				int to = node_of(&out[j].to);

				any = true;
				if (to >= 0)
					count_pings(i, to, out[j].buf, out[j].len);
				if (i == capture_from && n_captured < CAPTURE &&
				    has_type(out[j].buf, out[j].len, capture_type))
					captured[n_captured++] = out[j];
				if (to < 0 || !nodes[to].g || nodes[to].down || nodes[i].down)
					continue;
				if (drop && drop(i, to, out[j].buf, out[j].len))
					continue;
				/* to an address only: a HELLO, whose sender the
				 * envelope does not prove */
				if (out[j].to_id_known)
					(void)gossip_recv(nodes[to].g, now, &nodes[i].ep,
							  nodes[i].id, out[j].buf, out[j].len);
				else
					(void)gossip_recv_unverified(nodes[to].g, now, &nodes[i].ep,
								     nodes[i].id, out[j].buf,
								     out[j].len);
			}
		}
		if (!any)
			return;
	}
}

/* Advance the clock to t, ticking every core at its deadlines. */
static void run_to(uint64_t t)
{
	while (now < t) {
		uint64_t next = t;

		for (int i = 0; i < N_MAX; i++) {
			uint64_t d;

			if (!nodes[i].g || nodes[i].down)
				continue;
			d = gossip_next_deadline(nodes[i].g);
			if (d < next)
				next = d;
		}
		if (next > now)
			now = next;
		for (int i = 0; i < N_MAX; i++)
			if (nodes[i].g && !nodes[i].down && gossip_next_deadline(nodes[i].g) <= now)
				gossip_tick(nodes[i].g, now);
		flush();
		if (next == t && now == t)
			break;
	}
}

static void put(int i, const char *owner, const char *name, uint8_t last)
{
	struct table_entry e = {0};

	strcpy(e.owner, owner);
	e.n_names = 1;
	strcpy(e.names[0], name);
	e.n_addrs = 1;
	e.addrs[0].family = AF_INET;
	e.addrs[0].b[0] = 172;
	e.addrs[0].b[3] = last;
	T_EQ_INT(table_put(nodes[i].t, &e), 0);
}

static bool resolves(int i, const char *name, uint8_t last)
{
	struct table_answer a;

	if (!table_lookup(nodes[i].t, name, strlen(name), &a) || a.n_v4 == 0)
		return false;
	return last == 0 || a.v4[0].b[3] == last;
}

static const struct gossip_member_info *member(int i, int j)
{
	static struct gossip_member_info info[N_MAX];
	size_t n = gossip_members(nodes[i].g, info, N_MAX);

	for (size_t k = 0; k < n && k < N_MAX; k++)
		if (!memcmp(info[k].id, nodes[j].id, GOSSIP_ID_LEN))
			return &info[k];
	return NULL;
}

static void node_init(int i)
{
	uint8_t seed[32];

	memset(seed, 0x10 * (i + 1), sizeof(seed));
	crypto_sign_seed_keypair(nodes[i].id, nodes[i].sk, seed);
	nodes[i].ep.addr.family = AF_INET;
	nodes[i].ep.addr.b[0] = 10;
	nodes[i].ep.addr.b[3] = (uint8_t)(i + 1);
	nodes[i].ep.port = (uint16_t)(7000 + i);
}

/* n nodes; every node but 0 joins through node 0. */
static void setup_n(int n)
{
	memset(nodes, 0, sizeof(nodes));
	memset(pings, 0, sizeof(pings));
	memset(ping_log_n, 0, sizeof(ping_log_n));
	now = 1000;
	for (int i = 0; i < n; i++) {
		node_init(i);
		start(i);
	}
	for (int i = 1; i < n; i++)
		T_EQ_INT(gossip_add_peer(nodes[i].g, now, &nodes[0].ep, NULL, true), 0);
	flush();
}

/* The first chunk of the next sync node 0 serves to node 2. */
static int chunks_to_drop;

static bool drop_first_chunk(int i, int to, const uint8_t *buf, size_t len)
{
	if (chunks_to_drop && i == 0 && to == 2 && len > GW_HDR_LEN + 32 &&
	    buf[GW_HDR_LEN] == GW_SYNC_DATA && buf[GW_HDR_LEN + 31] == 0 &&
	    buf[GW_HDR_LEN + 32] == 0) { /* chunk 0 */
		chunks_to_drop--;
		return true;
	}
	return false;
}

/* Every ping-req node 0 sends, and its next ping to node 1. */
static int pings_to_drop;

static bool drop_probe(int i, int to, const uint8_t *buf, size_t len)
{
	if (i != 0 || len <= GW_HDR_LEN)
		return false;
	if (buf[GW_HDR_LEN] == GW_PING_REQ)
		return true;
	if (to == 1 && buf[GW_HDR_LEN] == GW_PING && pings_to_drop) {
		pings_to_drop--;
		return true;
	}
	return false;
}

/* Node 0's PINGs to node 2: its probes always (so that only challenges
 * reach node 2: their sequence is a 32-bit cookie, a probe's a counter),
 * its challenges until `challenges_until`. */
static uint64_t challenges_until;

static bool drop_challenges(int i, int to, const uint8_t *buf, size_t len)
{
	struct gw_hdr h;
	struct gw_iter it;
	struct gw_msg m;
	size_t unknown;

	if (i != 0 || to != 2 || gw_check(buf, len, &h, &unknown))
		return false;
	gw_iter_init(&it, buf, len);
	while (gw_iter_next(&it, &m))
		if (m.type == GW_PING && (m.u.probe.seq < 1u << 20 || now < challenges_until))
			return true;
	return false;
}

/* Node 2 misses a burst of n records of node 0 (and their pushes), comes
 * back and syncs; returns the ms from the start of its first sync until it
 * knows them all. */
static uint64_t miss_and_sync(int first, int n)
{
	char owner[16], name[16];
	uint64_t back, started = 0;
	struct gossip_stats st0, st;

	nodes[2].down = true;
	for (int k = first; k < first + n; k++) {
		snprintf(owner, sizeof(owner), "c%d", k);
		snprintf(name, sizeof(name), "n%d", k);
		put(0, owner, name, (uint8_t)k);
	}
	run_to(now + 800); /* the pushes' retransmissions are used up */
	nodes[2].down = false;
	back = now;
	gossip_get_stats(nodes[2].g, &st0);
	while (now - back < 3000) {
		int k = first;

		gossip_get_stats(nodes[2].g, &st);
		if (!started && st.syncs_started > st0.syncs_started)
			started = now;

		for (; k < first + n; k++) {
			snprintf(name, sizeof(name), "n%d", k);
			if (!resolves(2, name, (uint8_t)k))
				break;
		}
		if (k == first + n)
			break;
		run_to(now + 5);
	}
	return started ? now - started : UINT64_MAX;
}

static void setup(void)
{
	setup_n(N);
}

static void teardown(void)
{
	for (int i = 0; i < N_MAX; i++)
		if (nodes[i].g)
			stop(i);
}

/* Step 10 ms at a time until every live node but y holds y dead (or
 * `limit` ms pass); the time that took. */
static uint64_t until_dead(int y, int n, uint64_t limit)
{
	uint64_t t0 = now;

	while (now - t0 < limit) {
		bool all = true;

		run_to(now + 10);
		for (int i = 0; i < n; i++)
			if (i != y && !nodes[i].down && member(i, y)->state != GOSSIP_DEAD)
				all = false;
		if (all)
			break;
	}
	return now - t0;
}

/* --- forgeries ------------------------------------------------------------ */

/* A datagram from node `from` (its real header) into buf; returns the
 * writer for messages to be appended. */
static struct wire_out dgram_from(uint8_t *buf, int from)
{
	struct wire_out w = wire_out_init(buf, GOSSIP_DGRAM_MAX);
	struct gw_hdr h;
	uint64_t seq;

	gossip_self(nodes[from].g, &h.epoch, &seq, &h.incarnation);
	h.head = seq;
	gw_put_hdr(&w, &h);
	return w;
}

/* A statement about `about` signed with `signer`'s key. */
static void stmt_sign(struct gw_stmt *st, int about, int signer, uint64_t epoch, uint32_t inc,
		      uint64_t prev, uint64_t head, uint8_t flags)
{
	uint8_t msg[GW_STMT_MSG_LEN];
	size_t len;

	memset(st, 0, sizeof(*st));
	memcpy(st->id, nodes[about].id, GOSSIP_ID_LEN);
	st->epoch = epoch;
	st->incarnation = inc;
	st->flags = flags;
	st->prev = prev;
	st->head = head;
	crypto_hash16(st->root, 'E', NULL, 0, NULL, 0);
	len = gw_stmt_signed_msg(st, msg);
	crypto_sign_stmt(st->sig, msg, len, nodes[signer].sk);
}

/* A DELTA of origin `about` (owner, name -> 172.0.0.last at version seq)
 * under a one-record statement signed by `signer`. */
static void put_forged_delta(struct wire_out *w, int about, int signer, uint64_t epoch,
			     uint32_t inc, uint64_t seq, const char *owner, const char *name,
			     uint8_t last)
{
	uint8_t rec[GW_RECORD_MAX], raw[GW_STMT_LEN], msg[GW_STMT_MSG_LEN];
	struct wire_out rw = wire_out_init(rec, sizeof(rec)), sw = wire_out_init(raw, sizeof(raw));
	struct table_entry e = {0};
	struct gw_stmt st;

	strcpy(e.owner, owner);
	e.n_names = 1;
	strcpy(e.names[0], name);
	e.n_addrs = 1;
	e.addrs[0].family = AF_INET;
	e.addrs[0].b[0] = 172;
	e.addrs[0].b[3] = last;
	gw_put_record(&rw, seq, owner, &e);
	stmt_sign(&st, about, signer, epoch, inc, seq - 1, seq, 0);
	crypto_hash16(st.root, 'L', rec, wire_out_len(&rw), NULL, 0); /* one leaf: the root */
	crypto_sign_stmt(st.sig, msg, gw_stmt_signed_msg(&st, msg), nodes[signer].sk);
	gw_put_stmt(&sw, &st);
	gw_put_delta(w, raw, NULL, 0, rec, wire_out_len(&rw));
}

static int recv_from(int to, int from, const uint8_t *buf, size_t len)
{
	return gossip_recv(nodes[to].g, now, &nodes[from].ep, nodes[from].id, buf, len);
}

/* --- table additions ------------------------------------------------------ */

static int seen_origin = -1, seen_calls;
static char seen_owner[TABLE_OWNER_MAX + 1];

static void on_entry(void *ctx, uint32_t origin, const char *owner)
{
	(void)ctx;
	seen_calls++;
	seen_origin = (int)origin;
	strcpy(seen_owner, owner ? owner : "(all)");
}

static bool keep_a(void *ctx, const char *owner)
{
	(void)ctx;
	return owner[0] == 'a';
}

int main(void)
{
	T_ASSERT(crypto_global_init() == 0, "libsodium");
	T_CASE("entry observers see puts, deletes and origin removals, not no-op puts")
	{
		struct table *t = table_new();
		struct table_entry e = {0};

		T_EQ_INT(table_observe_entries(t, on_entry, NULL), 0);
		e.origin = 3;
		strcpy(e.owner, "a1");
		e.n_names = 1;
		strcpy(e.names[0], "x");
		e.n_addrs = 1;
		e.addrs[0].family = AF_INET;
		T_EQ_INT(table_put(t, &e), 0);
		T_EQ_INT(seen_calls, 1);
		T_EQ_INT(seen_origin, 3);
		T_EQ_STR(seen_owner, "a1");
		T_EQ_INT(table_put(t, &e), 0);
		T_EQ_INT(seen_calls, 1); /* same content: nothing changed */
		strcpy(e.owner, "b1");
		T_EQ_INT(table_put(t, &e), 0);
		T_EQ_INT(table_del(t, 3, "b1"), 0);
		T_EQ_INT(seen_calls, 3);
		T_EQ_STR(seen_owner, "b1");
		T_EQ_INT(table_put(t, &e), 0);
		T_EQ_INT(table_del_origin_except(t, 3, keep_a, NULL), 1);
		T_ASSERT(table_get(t, 3, "a1") && !table_get(t, 3, "b1"), "kept a1, removed b1");
		T_EQ_STR(seen_owner, "(all)");
		T_EQ_INT(table_del_origin(t, 3), 1);
		T_EQ_INT(seen_calls, 6);
		table_free(t);
	}

	T_CASE("nodes join through a bootstrap peer and learn each other")
	{
		setup();
		run_to(now + 3000);
		for (int i = 0; i < N; i++)
			for (int j = 0; j < N; j++)
				if (i != j) {
					const struct gossip_member_info *m = member(i, j);

					T_ASSERT(m && m->state == GOSSIP_ALIVE, "%d sees %d alive",
						 i, j);
				}
		T_ASSERT(nodes[1].events[GOSSIP_EV_BOOTSTRAP_AUTH] == 1,
			 "bootstrap peer authenticated once");
		T_ASSERT(nodes[0].events[GOSSIP_EV_JOINED] == 2, "node 0 saw two joins");
		teardown();
	}

	T_CASE("a local record reaches the other nodes at once, later changes within the "
	       "signing interval")
	{
		setup();
		run_to(now + 2000);
		put(0, "c1", "web", 5);
		run_to(now + 5); /* signed and pushed at once, no round wait */
		T_ASSERT(resolves(1, "web", 5) && resolves(2, "web", 5), "web everywhere");
		T_ASSERT(member(1, 0)->origin != 0, "remote origin");
		put(0, "c1", "web", 6);
		T_EQ_INT(table_del(nodes[0].t, 0, "c1"), 0);
		put(0, "c2", "api", 7);
		run_to(now + 5);
		T_ASSERT(resolves(2, "web", 5), "the batch waits for the signing interval");
		run_to(now + 50);
		T_ASSERT(!resolves(1, "web", 0) && !resolves(2, "web", 0), "deleted everywhere");
		T_ASSERT(resolves(1, "api", 7) && resolves(2, "api", 7), "api everywhere");
		teardown();
	}

	T_CASE("a late joiner learns old records through a sync")
	{
		struct gossip_stats st;

		setup();
		put(0, "c1", "old", 1);
		put(1, "c2", "older", 2);
		run_to(now + 2000);
		stop(2);
		nodes[2].epoch = 0;
		start(2);
		T_EQ_INT(gossip_add_peer(nodes[2].g, now, &nodes[0].ep, NULL, true), 0);
		run_to(now + 3000);
		T_ASSERT(resolves(2, "old", 1) && resolves(2, "older", 2), "late joiner knows all");
		gossip_get_stats(nodes[2].g, &st);
		T_ASSERT(st.syncs_completed >= 2, "synced from both origins (%llu)",
			 (unsigned long long)st.syncs_completed);
		teardown();
	}

	T_CASE("a sync that loses a chunk is retried after its measured round trip")
	{
		struct gossip_stats st0, st;
		uint64_t t1, t2;

		setup();
		run_to(now + 2000);
		t1 = miss_and_sync(0, 60); /* lossless: a round-trip sample */
		gossip_get_stats(nodes[2].g, &st0);
		drop = drop_first_chunk;
		chunks_to_drop = 1;
		t2 = miss_and_sync(60, 60);
		drop = NULL;
		gossip_get_stats(nodes[2].g, &st);
		T_ASSERT(st0.syncs_completed >= 1 && st0.syncs_timed_out == 0,
			 "first sync clean (%llu done, %llu timed out)",
			 (unsigned long long)st0.syncs_completed,
			 (unsigned long long)st0.syncs_timed_out);
		T_EQ_INT(chunks_to_drop, 0);
		T_EQ_INT(st.syncs_timed_out - st0.syncs_timed_out, 1);
		/* the adaptive timeout (its 20 ms floor here: this network
		 * answers at once), well under the 250 ms ceiling */
		T_ASSERT(t2 <= t1 + 40, "lossy sync took %llu ms (clean: %llu ms)",
			 (unsigned long long)t2, (unsigned long long)t1);
		teardown();
	}

	T_CASE("a sync refused to an unproven address goes again behind the challenge's ACK, "
	       "and is served without another timeout")
	{
		struct gossip_stats st0, st2;
		uint64_t t0;

		setup();
		put(0, "c1", "old", 1);
		run_to(now + 2000);
		stop(2);
		nodes[2].epoch = 0;
		nodes[2].ep.port = 7100; /* an address node 0 has not seen proven */
		start(2);
		drop = drop_challenges;
		t0 = now;
		challenges_until = now + 300;
		T_EQ_INT(gossip_add_peer(nodes[2].g, now, &nodes[0].ep, NULL, true), 0);
		while (!resolves(2, "old", 1) && now - t0 < 3000)
			run_to(now + 5);
		drop = NULL;
		gossip_get_stats(nodes[0].g, &st0);
		gossip_get_stats(nodes[2].g, &st2);
		printf("# synced %llu ms after the join: node 2 renewed %llu, timed out %llu; "
		       "node 0 refused %llu as unproven, served %llu\n",
		       (unsigned long long)(now - t0), (unsigned long long)st2.syncs_renewed,
		       (unsigned long long)st2.syncs_timed_out,
		       (unsigned long long)st0.syncs_unproven,
		       (unsigned long long)st0.syncs_served);
		T_ASSERT(resolves(2, "old", 1), "never synced");
		/* The first request was refused (no challenge got through), and
		 * so was its retry after the timeout; the challenge that retry
		 * provoked reached node 2, whose ACK carried the request back
		 * and proved the address: served at once. Without the renewal
		 * the sync times out a second time (and backs off) before its
		 * next retry finds the address proven. */
		T_EQ_INT(st0.syncs_unproven, 2);
		T_EQ_INT(st2.syncs_renewed, 1);
		T_EQ_INT(st2.syncs_timed_out, 1);
		T_EQ_INT(st0.syncs_served, 1);
		teardown();
	}

	T_CASE("news brings one extra push-pull 500 ms after it stops")
	{
		struct gossip_stats st0, st1, st2, st3;

		pp_interval = 3600000; /* the regular ones out of the way */
		setup();
		run_to(now + 2000);
		gossip_get_stats(nodes[1].g, &st0);
		put(0, "c1", "news", 1);
		run_to(now + 300);
		put(0, "c2", "more-news", 2); /* moves it on */
		run_to(now + 400);
		gossip_get_stats(nodes[1].g, &st1);
		run_to(now + 200);
		gossip_get_stats(nodes[1].g, &st2);
		run_to(now + 3000);
		gossip_get_stats(nodes[1].g, &st3);
		pp_interval = 0;
		T_ASSERT(resolves(1, "more-news", 2), "the news did not arrive");
		T_EQ_INT(st1.push_pulls - st0.push_pulls, 0);
		T_EQ_INT(st2.push_pulls - st0.push_pulls, 1);
		T_EQ_INT(st3.push_pulls - st0.push_pulls, 1);
		teardown();
	}

	T_CASE("a lost ping is retried directly along with the ping-reqs: no false suspicion")
	{
		struct gossip_stats st0, st;

		setup();
		run_to(now + 3000);
		gossip_get_stats(nodes[0].g, &st0);
		drop = drop_probe;
		pings_to_drop = 1;
		run_to(now + 3000); /* node 0 probes node 1 at least twice */
		drop = NULL;
		gossip_get_stats(nodes[0].g, &st);
		T_EQ_INT(pings_to_drop, 0);
		T_ASSERT(st.ping_reqs_sent > st0.ping_reqs_sent, "the direct ping failed");
		T_EQ_INT(st.probe_failed - st0.probe_failed, 0);
		T_EQ_INT(st.suspicions - st0.suspicions, 0);
		T_ASSERT(member(0, 1)->state == GOSSIP_ALIVE, "node 1 alive at node 0");
		teardown();
	}

	T_CASE("a dead node's records are withdrawn, and come back when it refutes")
	{
		setup();
		put(2, "c9", "db", 9);
		run_to(now + 2000);
		T_ASSERT(resolves(0, "db", 9), "db known");
		nodes[2].down = true;
		run_to(now + 10000);
		T_ASSERT(member(0, 2)->state == GOSSIP_DEAD, "declared dead: %s",
			 gossip_state_str(member(0, 2)->state));
		T_ASSERT(!resolves(0, "db", 0) && !resolves(1, "db", 0), "records withdrawn");
		T_ASSERT(nodes[0].events[GOSSIP_EV_DEAD] == 1, "one DEAD event");
		nodes[2].down = false; /* the partition heals: rejoin and refute */
		run_to(now + 12000);
		T_ASSERT(member(0, 2)->state == GOSSIP_ALIVE, "alive again");
		T_ASSERT(resolves(0, "db", 9) && resolves(1, "db", 9), "records back");
		teardown();
	}

	T_CASE("in three nodes, the second survivor's failed probe confirms the suspicion")
	{
		struct gossip_timing tm;
		uint64_t took, s_min;

		/* Both survivors suspect the crashed node: one from its own probe,
		 * the other first from that one's SUSPECT and then from its own
		 * probe, which must count as the one (k = n - 2) confirmation. */
		gossip_timing_defaults(&tm);
		s_min = 2ull * tm.suspicion_mult * tm.probe_interval_ms; /* floor: 2 log-units */
		setup();
		put(2, "c9", "db", 9);
		run_to(now + 3000);
		nodes[2].down = true;
		took = until_dead(2, N, 20000);
		/* first probe within 3 intervals (2 members a cycle), it fails one
		 * interval later, then s_min; without the confirmation:
		 * suspicion_max_mult * s_min */
		T_ASSERT(took <= 4 * tm.probe_interval_ms + s_min + 200,
			 "dead everywhere after %llu ms", (unsigned long long)took);
		T_ASSERT(!resolves(0, "db", 0) && !resolves(1, "db", 0), "records withdrawn");
		teardown();
	}

	T_CASE("a member that joins mid-cycle is probed within the current cycle")
	{
		setup_n(N_MAX - 1);
		run_to(now + 6000); /* every probe order holds all 10 others */
		node_init(N_MAX - 1);
		start(N_MAX - 1);
		T_EQ_INT(gossip_add_peer(nodes[N_MAX - 1].g, now, &nodes[0].ep, NULL, true), 0);
		flush();
		memset(ping_log_n, 0, sizeof(ping_log_n));
		run_to(now + 12 * 400 + 100);
		for (int i = 0; i < N_MAX - 1; i++) {
			int seen[N_MAX] = {0}, first_repeat = -1, newcomer = -1;

			for (int j = 0; j < ping_log_n[i]; j++) {
				int to = ping_log[i][j];

				if (to == N_MAX - 1 && newcomer < 0)
					newcomer = j;
				if (seen[to]++ && first_repeat < 0)
					first_repeat = j;
			}
			T_ASSERT(newcomer >= 0 && (first_repeat < 0 || newcomer < first_repeat),
				 "node %d probes the newcomer (at %d) before anyone twice (at %d)",
				 i, newcomer, first_repeat);
		}
		teardown();
	}

	T_CASE("news of a suspicion makes every node probe the suspect next")
	{
		struct gossip_timing tm;
		int y = N_MAX - 1, probers = 0, first = -1;
		uint64_t t_suspect, took;

		gossip_timing_defaults(&tm);
		setup_n(N_MAX);
		run_to(now + 6000);
		nodes[y].down = true;
		for (uint64_t t0 = now; first < 0 && now - t0 < 20000;) {
			run_to(now + 10);
			for (int i = 0; i < y && first < 0; i++)
				if (member(i, y)->state == GOSSIP_SUSPECT)
					first = i;
		}
		T_ASSERT(first >= 0, "suspected");
		t_suspect = now;
		memset(pings, 0, sizeof(pings));
		/* a probe interval for the one in flight, gossip rounds for the news */
		run_to(now + tm.probe_interval_ms + 2 * tm.gossip_interval_ms);
		for (int i = 0; i < y; i++)
			probers += i != first && pings[i][y] > 0;
		T_ASSERT(probers == y - 1, "%d of %d others probed the suspect", probers, y - 1);
		/* k = 3 confirmations within that interval: the minimum applies;
		 * each node suspects after its own probe failed (another's word
		 * only makes it probe first): up to two probe intervals (the next
		 * probe, and its end) after the first */
		(void)until_dead(y, N_MAX, 20000);
		took = now - t_suspect;
		T_ASSERT(took <= 2ull * tm.suspicion_mult * tm.probe_interval_ms +
				     2 * tm.probe_interval_ms + 2 * tm.gossip_interval_ms,
			 "dead everywhere %llu ms after the first suspicion",
			 (unsigned long long)took);
		teardown();
	}

	T_CASE("a restarted node replaces its old records wholesale")
	{
		setup();
		put(2, "c1", "a", 1);
		put(2, "c2", "b", 2);
		run_to(now + 2000);
		stop(2);
		start(2); /* higher epoch, empty table */
		put(2, "c3", "c", 3);
		T_EQ_INT(gossip_add_peer(nodes[2].g, now, &nodes[0].ep, NULL, true), 0);
		run_to(now + 2000);
		T_ASSERT(!resolves(0, "a", 0) && !resolves(0, "b", 0), "old life's records gone");
		T_ASSERT(resolves(0, "c", 3) && resolves(1, "c", 3), "new life's record known");
		T_EQ_INT(member(0, 2)->epoch, 2);
		teardown();
	}

	T_CASE("a graceful leave withdraws records everywhere at once")
	{
		setup();
		put(1, "c1", "gone", 1);
		run_to(now + 2000);
		gossip_leave(nodes[1].g, now);
		flush();
		T_ASSERT(member(0, 1)->state == GOSSIP_LEFT && member(2, 1)->state == GOSSIP_LEFT,
			 "left everywhere");
		T_ASSERT(!resolves(0, "gone", 0) && !resolves(2, "gone", 0), "records withdrawn");
		T_EQ_INT(gossip_next_deadline(nodes[1].g), UINT64_MAX);
		teardown();
	}

	T_CASE("a stale delta never brings a deleted record back")
	{
		uint64_t epoch, seq;
		uint32_t inc;

		setup();
		capture_from = 1;
		capture_type = GW_DELTA;
		n_captured = 0;
		put(1, "c1", "ghost", 7);
		run_to(now + 2000);
		T_ASSERT(n_captured > 0, "node 1's delta captured");
		T_EQ_INT(table_del(nodes[1].t, 0, "c1"), 0);
		run_to(now + 100);
		T_ASSERT(!resolves(0, "ghost", 0), "deleted");
		/* node 2 replays node 1's original put (seq 1), signed and all */
		gossip_self(nodes[1].g, &epoch, &seq, &inc);
		T_EQ_INT(seq, 2);
		T_EQ_INT(gossip_recv(nodes[0].g, now, &nodes[2].ep, nodes[2].id, captured[0].buf,
				     captured[0].len),
			 0);
		T_ASSERT(!resolves(0, "ghost", 0), "not resurrected");
		capture_from = -1;
		teardown();
	}

	T_CASE("a tampered delta is refused, the genuine one applied")
	{
		uint8_t buf[GOSSIP_DGRAM_MAX];
		struct gossip_stats st0, st;
		struct gw_iter it;
		struct gw_msg m;
		size_t at = 0;

		setup();
		run_to(now + 2000);
		capture_from = 1;
		capture_type = GW_DELTA;
		n_captured = 0;
		nodes[0].down = true;
		put(1, "c9", "tamper", 9);
		run_to(now + 5);
		nodes[0].down = false;
		capture_from = -1;
		T_ASSERT(n_captured > 0, "node 1's delta captured");
		memcpy(buf, captured[0].buf, captured[0].len);
		gw_iter_init(&it, buf, captured[0].len);
		while (gw_iter_next(&it, &m))
			if (m.type == GW_DELTA) {
				struct wire iw = wire_init(m.u.delta.items, m.u.delta.items_len);
				struct gw_delta_item di;

				if (!gw_delta_item_decode(&iw, &di))
					at = (size_t)(di.rec_raw - buf) + di.rec_len - 1;
			}
		T_ASSERT(at > 0, "delta found");
		buf[at] ^= 0x40; /* the address: 172.0.0.9 -> 172.0.0.73 */
		gossip_get_stats(nodes[0].g, &st0);
		T_EQ_INT(recv_from(0, 2, buf, captured[0].len), 0);
		gossip_get_stats(nodes[0].g, &st);
		T_ASSERT(!resolves(0, "tamper", 0), "tampered record not applied");
		T_ASSERT(st.stmts_bad > st0.stmts_bad, "counted as a bad statement");
		T_EQ_INT(recv_from(0, 2, captured[0].buf, captured[0].len), 0);
		T_ASSERT(resolves(0, "tamper", 9), "the genuine one applied");
		teardown();
	}

	T_CASE("claims about another origin signed with the claimer's own key are refused")
	{
		uint8_t buf[GOSSIP_DGRAM_MAX];
		struct wire_out w;
		struct gw_stmt st;
		struct gossip_stats st0, st1;
		const struct gossip_member_info *mi;
		uint64_t epoch, seq;
		uint32_t inc;

		setup();
		put(1, "c1", "real", 1);
		run_to(now + 2000);
		gossip_self(nodes[1].g, &epoch, &seq, &inc);
		gossip_get_stats(nodes[0].g, &st0);
		w = dgram_from(buf, 2);
		/* node 2 speaks for node 1: a new record, a new life, a leave */
		put_forged_delta(&w, 1, 2, epoch, inc, seq + 1, "c2", "fake", 66);
		stmt_sign(&st, 1, 2, epoch + 1, 0, 0, 0, 0);
		gw_put_alive(&w, &st, &nodes[2].ep);
		stmt_sign(&st, 1, 2, epoch, inc + 1, seq, seq, GW_STMT_LEFT);
		gw_put_left(&w, &st);
		T_ASSERT(!w.err, "encoded");
		T_EQ_INT(recv_from(0, 2, buf, wire_out_len(&w)), 0);
		gossip_get_stats(nodes[0].g, &st1);
		mi = member(0, 1);
		T_ASSERT(!resolves(0, "fake", 0), "no record added for node 1");
		T_ASSERT(resolves(0, "real", 1), "node 1's record kept");
		T_ASSERT(mi->state == GOSSIP_ALIVE && mi->epoch == epoch && mi->incarnation == inc,
			 "node 1 unchanged: %s epoch %llu inc %u", gossip_state_str(mi->state),
			 (unsigned long long)mi->epoch, mi->incarnation);
		T_EQ_INT(st1.stmts_bad - st0.stmts_bad, 3);
		teardown();
	}

	T_CASE("a forged suspicion and death: probed, not believed; refuted where heard")
	{
		uint8_t buf[GOSSIP_DGRAM_MAX];
		struct wire_out w;
		uint64_t epoch, seq;
		uint32_t inc;

		setup();
		put(1, "c1", "keep", 3);
		run_to(now + 2000);
		gossip_self(nodes[1].g, &epoch, &seq, &inc);
		w = dgram_from(buf, 2);
		gw_put_member(&w, GW_SUSPECT, nodes[1].id, epoch, inc, nodes[2].id);
		gw_put_member(&w, GW_DEAD, nodes[1].id, epoch, inc, nodes[2].id);
		T_EQ_INT(recv_from(0, 2, buf, wire_out_len(&w)), 0);
		T_ASSERT(member(0, 1)->state == GOSSIP_ALIVE,
			 "another's word is a reason to probe, not a suspicion: %s",
			 gossip_state_str(member(0, 1)->state));
		memset(pings, 0, sizeof(pings));
		run_to(now + 500);
		T_ASSERT(pings[0][1] > 0, "node 0 probed node 1 at its next probe");
		T_ASSERT(member(0, 1)->state == GOSSIP_ALIVE && resolves(0, "keep", 3),
			 "alive, records kept");
		/* told to node 1 itself, the accusation is refuted: a new signed
		 * incarnation that everyone takes */
		w = dgram_from(buf, 2);
		gw_put_member(&w, GW_SUSPECT, nodes[1].id, epoch, inc, nodes[2].id);
		T_EQ_INT(recv_from(1, 2, buf, wire_out_len(&w)), 0);
		run_to(now + 500);
		T_ASSERT(member(0, 1)->incarnation == inc + 1 &&
			     member(2, 1)->incarnation == inc + 1,
			 "the refutation reached everyone: %u %u", member(0, 1)->incarnation,
			 member(2, 1)->incarnation);
		T_ASSERT(resolves(0, "keep", 3) && resolves(2, "keep", 3), "records never left");
		T_EQ_INT(nodes[0].events[GOSSIP_EV_DEAD], 0);
		T_EQ_INT(nodes[0].events[GOSSIP_EV_SUSPECT], 0);
		teardown();
	}

	T_CASE("forged huge epoch, incarnation and version, then the genuine node is heard")
	{
		uint8_t buf[GOSSIP_DGRAM_MAX];
		struct wire_out w;
		struct gw_stmt st;
		struct gw_hdr h = {UINT64_MAX, UINT32_MAX, UINT64_MAX};
		struct gossip_stats st0, st1;
		uint64_t epoch, seq, e0, s0;
		uint32_t inc, i0;

		setup();
		put(1, "c1", "before", 1);
		run_to(now + 2000);
		gossip_self(nodes[1].g, &epoch, &seq, &inc);
		gossip_self(nodes[0].g, &e0, &s0, &i0);
		gossip_get_stats(nodes[0].g, &st0);
		w = dgram_from(buf, 2);
		stmt_sign(&st, 1, 2, UINT64_MAX, UINT32_MAX, UINT64_MAX - 1, UINT64_MAX, 0);
		gw_put_alive(&w, &st, NULL);
		put_forged_delta(&w, 1, 2, epoch, inc, UINT64_MAX, "c1", "before", 99);
		gw_put_member(&w, GW_DEAD, nodes[1].id, UINT64_MAX, UINT32_MAX, nodes[2].id);
		gw_put_member(&w, GW_SUSPECT, nodes[1].id, epoch, UINT32_MAX, nodes[2].id);
		/* and about node 0 itself, above its own incarnation */
		gw_put_member(&w, GW_SUSPECT, nodes[0].id, e0, i0 + 1000, nodes[2].id);
		T_ASSERT(!w.err, "encoded");
		T_EQ_INT(recv_from(0, 2, buf, wire_out_len(&w)), 0);
		/* a HELLO in node 1's name: its header claims the largest version */
		w = wire_out_init(buf, sizeof(buf));
		gw_put_hdr(&w, &h);
		gw_put_probe(&w, GW_PING, 1, NULL, NULL);
		gw_put_member(&w, GW_DEAD, nodes[1].id, epoch, inc, nodes[2].id);
		T_EQ_INT(gossip_recv_unverified(nodes[0].g, now, &nodes[2].ep, nodes[1].id, buf,
						wire_out_len(&w)),
			 0);
		gossip_get_stats(nodes[0].g, &st1);
		T_ASSERT(st1.claims_refused - st0.claims_refused >= 3,
			 "accusations above the signed version refused (%llu)",
			 (unsigned long long)(st1.claims_refused - st0.claims_refused));
		T_ASSERT(member(0, 1)->state == GOSSIP_ALIVE && member(0, 1)->epoch == epoch &&
			     member(0, 1)->incarnation == inc,
			 "node 1 as it signed");
		T_ASSERT(resolves(0, "before", 1), "its record unchanged");
		gossip_self(nodes[0].g, &e0, &s0, &inc);
		T_EQ_INT(inc, i0); /* no refutation of a claim it never could have made */
		/* node 1 goes on: its next record and a new incarnation are accepted */
		put(1, "c2", "after", 2);
		run_to(now + 200);
		T_ASSERT(resolves(0, "after", 2) && resolves(2, "after", 2), "node 1 heard");
		T_ASSERT(member(0, 1)->state == GOSSIP_ALIVE && member(0, 1)->epoch == epoch,
			 "node 1 alive in its epoch");
		teardown();
	}

	T_CASE("bad input is refused and counted")
	{
		struct gossip_stats st;
		uint8_t junk[40] = {GW_VERSION, 0};

		setup();
		T_EQ_INT(
		    gossip_recv(nodes[0].g, now, &nodes[1].ep, nodes[1].id, junk, sizeof(junk)),
		    GLUED_EMALF);
		junk[0] = 9;
		T_EQ_INT(
		    gossip_recv(nodes[0].g, now, &nodes[1].ep, nodes[1].id, junk, sizeof(junk)),
		    GLUED_EBADVERS);
		T_EQ_INT(
		    gossip_recv(nodes[0].g, now, &nodes[1].ep, nodes[0].id, junk, sizeof(junk)),
		    GLUED_EPROTO);
		gossip_get_stats(nodes[0].g, &st);
		T_EQ_INT(st.rx_malformed, 1);
		T_EQ_INT(st.rx_bad_version, 1);
		T_EQ_INT(st.rx_self, 1);
		T_ASSERT(gossip_add_peer(nodes[0].g, now, &(struct glued_endpoint){0}, NULL,
					 true) == -EINVAL,
			 "unspecified peer refused");
		teardown();
	}

	T_CASE("a flood from one source is rate limited")
	{
		struct gossip_stats st;
		uint8_t buf[GOSSIP_DGRAM_MAX];
		struct wire_out w = wire_out_init(buf, sizeof(buf));
		struct gw_hdr h = {1, 0, 0};
		int limited = 0;

		setup();
		now += 5000; /* a fresh rate window */
		gw_put_hdr(&w, &h);
		gw_put_probe(&w, GW_NACK, 1, NULL, NULL);
		for (int i = 0; i < 5000; i++)
			limited += gossip_recv(nodes[0].g, now, &nodes[1].ep, nodes[1].id, buf,
					       wire_out_len(&w)) == GLUED_ELIMIT;
		gossip_get_stats(nodes[0].g, &st);
		T_EQ_INT(limited, 3000);
		T_EQ_INT(st.rx_rate_limited, 3000);
		teardown();
	}
	return t_summary();
}
