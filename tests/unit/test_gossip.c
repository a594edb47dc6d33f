/* The gossip core's state machines, driven by hand: a few cores wired
 * together through a lossless in-test network (tests/sim/ does the
 * adversarial network). Also the table additions gossip relies on (entry
 * observers, table_del_origin_except). */
#include <errno.h>
#include <sys/socket.h>

#include "core/gossip.h"
#include "core/gossip_wire.h"
#include "core/table.h"
#include "t.h"

#define N 3	 /* the default cluster */
#define N_MAX 12 /* the largest one a test starts */

struct node {
	struct table *t;
	struct gossip *g;
	uint8_t id[GOSSIP_ID_LEN];
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

static uint32_t rng_next(void *ctx)
{
	uint32_t *s = ctx;

	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

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
	x->g = gossip_new(&cfg, x->t, (struct glued_rng){rng_next, &x->rng});
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
				if (to < 0 || !nodes[to].g || nodes[to].down || nodes[i].down)
					continue;
				if (drop && drop(i, to, out[j].buf, out[j].len))
					continue;
				(void)gossip_recv(nodes[to].g, now, &nodes[i].ep, nodes[i].id,
						  out[j].buf, out[j].len);
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
	memset(nodes[i].id, 0x10 * (i + 1), GOSSIP_ID_LEN);
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

	T_CASE("a local record reaches the other nodes at once, and its deletion too")
	{
		setup();
		run_to(now + 2000);
		put(0, "c1", "web", 5);
		run_to(now + 5); /* immediate push, no round wait */
		T_ASSERT(resolves(1, "web", 5) && resolves(2, "web", 5), "web everywhere");
		T_ASSERT(member(1, 0)->origin != 0, "remote origin");
		put(0, "c1", "web", 6);
		run_to(now + 5);
		T_ASSERT(resolves(2, "web", 6), "update seen");
		T_EQ_INT(table_del(nodes[0].t, 0, "c1"), 0);
		run_to(now + 5);
		T_ASSERT(!resolves(1, "web", 0) && !resolves(2, "web", 0), "deleted everywhere");
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
		/* k = 3 confirmations within that interval: the minimum applies */
		(void)until_dead(y, N_MAX, 20000);
		took = now - t_suspect;
		T_ASSERT(took <= 2ull * tm.suspicion_mult * tm.probe_interval_ms +
				     2 * tm.gossip_interval_ms,
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
		uint8_t buf[GOSSIP_DGRAM_MAX];
		struct wire_out w = wire_out_init(buf, sizeof(buf));
		struct gw_hdr h = {1, 0, 1};
		struct table_entry e = {0};
		uint64_t epoch, seq;
		uint32_t inc;

		setup();
		put(1, "c1", "ghost", 7);
		run_to(now + 2000);
		T_EQ_INT(table_del(nodes[1].t, 0, "c1"), 0);
		run_to(now + 100);
		T_ASSERT(!resolves(0, "ghost", 0), "deleted");
		/* node 2 replays node 1's original put (seq 1) to node 0 */
		gossip_self(nodes[1].g, &epoch, &seq, &inc);
		T_EQ_INT(seq, 2);
		strcpy(e.owner, "c1");
		e.n_names = 1;
		strcpy(e.names[0], "ghost");
		e.n_addrs = 1;
		e.addrs[0].family = AF_INET;
		gw_put_hdr(&w, &h);
		gw_put_delta(&w, nodes[1].id, epoch, 1, "c1", &e);
		T_EQ_INT(
		    gossip_recv(nodes[0].g, now, &nodes[2].ep, nodes[2].id, buf, wire_out_len(&w)),
		    0);
		T_ASSERT(!resolves(0, "ghost", 0), "not resurrected");
		teardown();
	}

	T_CASE("bad input is refused and counted")
	{
		struct gossip_stats st;
		uint8_t junk[40] = {1, 0};

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
