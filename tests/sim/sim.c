/* Deterministic simulation of the gossip core (Unbound-style: the real
 * core and the real name table linked against a fake network and a virtual
 * clock). N nodes live in one process; a seeded network drops, delays,
 * duplicates, reorders, partitions and pauses; scenarios crash, restart
 * and stop nodes while they publish records. Invariants are checked as the
 * simulation runs (see check_* below and docs/protocol.md, "Simulation").
 * Everything derives from the seed: `glued-sim --seed S --nodes N
 * --scenario X` replays a run exactly.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "core/gossip.h"
#include "core/table.h"

#define MAX_NODES 1024
#define K_MAX 64 /* record slots per node */

/* --- deterministic randomness ------------------------------------------- */

static uint64_t rs[2];

static uint64_t rnd64(void)
{
	uint64_t s1 = rs[0], s0 = rs[1];

	rs[0] = s0;
	s1 ^= s1 << 23;
	rs[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
	return rs[1] + s0;
}

static uint32_t rnd_below(uint32_t n)
{
	return n ? (uint32_t)(rnd64() % n) : 0;
}

static bool chance(double p)
{
	return (double)(rnd64() >> 11) / (double)(1ull << 53) < p;
}

static uint32_t core_rng(void *ctx)
{
	(void)ctx;
	return (uint32_t)rnd64();
}

/* --- model -------------------------------------------------------------- */

struct rec {
	bool live;
	uint32_t ver; /* global version: encoded in the record's address */
};

struct node {
	bool up, paused, ever;
	int group;
	uint32_t restarts;
	uint8_t id[GOSSIP_ID_LEN];
	struct glued_endpoint ep;
	struct table *t;
	struct gossip *g;
	struct rec recs[K_MAX];
	uint64_t timer_gen;
	uint64_t tx_bytes;
	uint64_t down_at;
	/* invariant bookkeeping, per (origin node, slot) */
	uint32_t *floor; /* highest version seen removed */
	uint32_t *shown; /* last version shown */
};

struct net {
	double loss, dup;
	uint32_t delay_ms, jitter_ms;
};

enum ev_kind { EV_PKT, EV_TIMER };

struct ev {
	uint64_t at, order;
	enum ev_kind kind;
	int node;
	uint64_t gen;
	int from;
	struct glued_endpoint from_ep;
	uint16_t len;
	uint8_t *buf;
};

static struct {
	int n, k;
	uint64_t now, order;
	struct node nodes[MAX_NODES];
	struct net net;
	struct ev **heap;
	size_t heap_n, heap_cap;
	uint32_t next_ver;
	uint64_t *ver_end; /* when a version stopped being current; 0 = still is */
	size_t ver_cap;
	bool check_false_dead, check_records, quiet;
	int failures;
	uint64_t seed;
	const char *scenario;
	struct gossip_timing tm;
	uint64_t pkts;
	uint64_t tx_by_type[16]; /* bytes sent by message type; [0]: headers + sealing */
} S;

static void fail(const char *fmt, ...)
{
	va_list ap;

	if (S.failures++ < 5) {
		fprintf(stderr,
			"sim: seed %" PRIu64 " scenario %s nodes %d t=%" PRIu64 "ms: ", S.seed,
			S.scenario, S.n, S.now);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
}

/* --- event heap --------------------------------------------------------- */

static bool ev_before(const struct ev *a, const struct ev *b)
{
	return a->at != b->at ? a->at < b->at : a->order < b->order;
}

static void push(struct ev *e)
{
	size_t i;

	e->order = S.order++;
	if (S.heap_n == S.heap_cap) {
		S.heap_cap = S.heap_cap ? S.heap_cap * 2 : 4096;
		S.heap = realloc(S.heap, S.heap_cap * sizeof(*S.heap));
		if (!S.heap)
			abort();
	}
	i = S.heap_n++;
	while (i && ev_before(e, S.heap[(i - 1) / 2])) {
		S.heap[i] = S.heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	S.heap[i] = e;
}

static struct ev *pop(void)
{
	struct ev *top = S.heap[0], *last = S.heap[--S.heap_n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= S.heap_n)
			break;
		if (c + 1 < S.heap_n && ev_before(S.heap[c + 1], S.heap[c]))
			c++;
		if (!ev_before(S.heap[c], last))
			break;
		S.heap[i] = S.heap[c];
		i = c;
	}
	if (S.heap_n)
		S.heap[i] = last;
	return top;
}

/* --- nodes -------------------------------------------------------------- */

static int node_of_ep(const struct glued_endpoint *e)
{
	int i = e->addr.b[2] << 8 | e->addr.b[3];

	return e->addr.family == AF_INET && e->addr.b[0] == 10 && i < S.n ? i : -1;
}

static void owner_of(char *buf, int node, int k)
{
	/* 64 characters, like a container ID */
	snprintf(buf, TABLE_OWNER_MAX + 1, "%04x%04x%056x", node, k, 0);
}

static bool parse_owner(const char *o, int *node, int *k)
{
	unsigned a, b;

	if (sscanf(o, "%4x%4x", &a, &b) != 2)
		return false;
	*node = (int)a;
	*k = (int)b;
	return *node < S.n && *k < S.k;
}

static int node_of_origin(struct node *x, uint32_t origin, bool *alive)
{
	static struct gossip_member_info info[GOSSIP_MEMBERS_MAX];
	size_t n = gossip_members(x->g, info, GOSSIP_MEMBERS_MAX);

	for (size_t i = 0; i < n && i < GOSSIP_MEMBERS_MAX; i++) {
		if (info[i].origin != origin)
			continue;
		*alive = info[i].state == GOSSIP_ALIVE || info[i].state == GOSSIP_SUSPECT;
		return info[i].id[1] << 8 | info[i].id[2];
	}
	return -1;
}

static void schedule(int i)
{
	struct node *x = &S.nodes[i];
	struct ev *e;
	uint64_t d;

	if (!x->up || x->paused)
		return;
	d = gossip_next_deadline(x->g);
	if (d == UINT64_MAX)
		return;
	e = calloc(1, sizeof(*e));
	e->kind = EV_TIMER;
	e->at = d < S.now ? S.now : d;
	e->node = i;
	e->gen = ++x->timer_gen;
	push(e);
}

static void send_one(int from, const struct gossip_out *o)
{
	int to = node_of_ep(&o->to);
	int copies = 1;

	S.nodes[from].tx_bytes += o->len + 40; /* + sealing envelope, roughly */
	S.tx_by_type[0] += 22 + 40;
	for (size_t p = 22; p + 3 <= o->len;) {
		size_t len = 3 + (size_t)(o->buf[p + 1] << 8 | o->buf[p + 2]);

		S.tx_by_type[o->buf[p] < 16 ? o->buf[p] : 15] += len;
		p += len;
	}
	if (to < 0 || to == from)
		return;
	if (o->to_id_known && memcmp(o->to_id, S.nodes[to].id, GOSSIP_ID_LEN))
		return;
	if (chance(S.net.loss))
		return;
	if (chance(S.net.dup))
		copies = 2;
	while (copies--) {
		struct ev *e = calloc(1, sizeof(*e));

		e->kind = EV_PKT;
		e->at = S.now + S.net.delay_ms + rnd_below(S.net.jitter_ms + 1);
		e->node = to;
		e->from = from;
		e->from_ep = S.nodes[from].ep;
		e->len = (uint16_t)o->len;
		e->buf = malloc(o->len);
		memcpy(e->buf, o->buf, o->len);
		push(e);
	}
}

static void drain(int i)
{
	static struct gossip_out out[32];
	struct node *x = &S.nodes[i];
	struct gossip_event ev;
	size_t n;

	do {
		n = gossip_poll_send(x->g, out, 32);
		for (size_t j = 0; j < n; j++)
			send_one(i, &out[j]);
	} while (n == 32);
	while (gossip_poll_event(x->g, &ev)) {
		int y = ev.id[1] << 8 | ev.id[2];

		if (ev.type == GOSSIP_EV_DEAD && S.check_false_dead && y < S.n && S.nodes[y].up &&
		    !S.nodes[y].paused)
			fail("node %d declared live node %d dead", i, y);
	}
	schedule(i);
}

/* Entry observer on every node's table: resurrection and monotonicity. */
struct obs_ctx {
	int node;
};
static struct obs_ctx obs_ctx[MAX_NODES];

static void check_shown(struct node *x, int xi, uint32_t origin, int y, int k, bool learned)
{
	char owner[TABLE_OWNER_MAX + 1];
	const struct table_entry *e;
	size_t slot = (size_t)y * S.k + k;

	owner_of(owner, y, k);
	e = table_get(x->t, origin, owner);
	if (!e) {
		/* a deletion (not a withdrawal) means x learned the version it showed ended */
		if (learned && x->floor[slot] < x->shown[slot])
			x->floor[slot] = x->shown[slot];
		return;
	}
	{
		const uint8_t *b = e->addrs[0].b;
		uint32_t v = (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];

		if (v >= S.next_ver) {
			fail("node %d shows unknown version %u of %d/%d", xi, v, y, k);
			return;
		}
		if (S.ver_end[v] && v <= x->floor[slot])
			fail("node %d resurrected %d/%d version %u (ended at %" PRIu64
			     ", removed here before)",
			     xi, y, k, v, S.ver_end[v]);
		if (v < x->shown[slot] && S.ver_end[v])
			fail("node %d: version of %d/%d went backwards %u -> %u", xi, y, k,
			     x->shown[slot], v);
		x->shown[slot] = v;
	}
}

static void on_table(void *ctx, uint32_t origin, const char *owner)
{
	struct obs_ctx *c = ctx;
	struct node *x = &S.nodes[c->node];
	bool learned;
	int y, k;

	if (origin == 0 || !S.check_records)
		return;
	if (owner) {
		if (parse_owner(owner, &y, &k))
			check_shown(x, c->node, origin, y, k, true);
		return;
	}
	/* all entries of an origin went: a withdrawal if the origin is dead or
	 * left; else a restart (new epoch) or a full sync, both knowledge */
	y = node_of_origin(x, origin, &learned);
	if (y < 0 || y >= S.n)
		return;
	for (k = 0; k < S.k; k++)
		check_shown(x, c->node, origin, y, k, learned);
}

static void node_start(int i)
{
	struct node *x = &S.nodes[i];
	struct gossip_cfg cfg = {0};

	x->t = table_new();
	if (!x->t || table_observe_entries(x->t, on_table, &obs_ctx[i]))
		abort();
	obs_ctx[i].node = i;
	memcpy(cfg.self_id, x->id, GOSSIP_ID_LEN);
	cfg.self_addr = x->ep;
	cfg.epoch = ++x->restarts;
	cfg.timing = S.tm;
	x->g = gossip_new(&cfg, x->t, (struct glued_rng){core_rng, NULL});
	if (!x->g || table_observe_entries(x->t, gossip_on_table_entry, x->g))
		abort();
	x->up = true;
	x->ever = true;
	x->paused = false;
	/* everyone bootstraps from nodes 0 and 1 (they from each other and 2) */
	for (int b = 0; b < 3 && b < S.n; b++) {
		if (b == i || (b == 2 && i > 1))
			continue;
		if (gossip_add_peer(x->g, S.now, &S.nodes[b].ep, NULL, true))
			abort();
	}
	drain(i);
}

static void end_version(uint32_t v)
{
	if (v && !S.ver_end[v])
		S.ver_end[v] = S.now ? S.now : 1;
}

static void node_stop(int i, bool graceful)
{
	struct node *x = &S.nodes[i];

	if (!x->up)
		return;
	if (graceful) {
		gossip_leave(x->g, S.now);
		drain(i);
	}
	for (int k = 0; k < S.k; k++) {
		if (x->recs[k].live)
			end_version(x->recs[k].ver);
		x->recs[k].live = false;
	}
	gossip_free(x->g);
	table_free(x->t);
	x->g = NULL;
	x->t = NULL;
	x->up = false;
	x->down_at = S.now;
}

static uint32_t new_version(void)
{
	uint32_t v = S.next_ver++;

	if (v >= S.ver_cap) {
		size_t cap = S.ver_cap * 2;

		S.ver_end = realloc(S.ver_end, cap * sizeof(*S.ver_end));
		memset(S.ver_end + S.ver_cap, 0, (cap - S.ver_cap) * sizeof(*S.ver_end));
		S.ver_cap = cap;
	}
	return v;
}

/* Put (or update) record slot k of node i, as its Docker watcher would. */
static void op_put(int i, int k)
{
	struct node *x = &S.nodes[i];
	static struct table_entry e;
	uint32_t v = new_version();

	memset(&e, 0, sizeof(e));
	e.origin = 0;
	owner_of(e.owner, i, k);
	e.n_names = 2;
	snprintf(e.names[0], sizeof(e.names[0]), "web-%d-%d", i, k);
	snprintf(e.names[1], sizeof(e.names[1]), "svc%d", k % 7);
	e.n_addrs = 1;
	e.addrs[0].family = AF_INET;
	e.addrs[0].b[0] = 172;
	e.addrs[0].b[1] = (uint8_t)(v >> 16);
	e.addrs[0].b[2] = (uint8_t)(v >> 8);
	e.addrs[0].b[3] = (uint8_t)v;
	e.updated_ms = S.now;
	if (table_put(x->t, &e))
		abort();
	if (x->recs[k].live)
		end_version(x->recs[k].ver);
	x->recs[k].live = true;
	x->recs[k].ver = v;
	drain(i);
}

static void op_del(int i, int k)
{
	struct node *x = &S.nodes[i];
	char owner[TABLE_OWNER_MAX + 1];

	if (!x->recs[k].live)
		return;
	owner_of(owner, i, k);
	(void)table_del(x->t, 0, owner);
	end_version(x->recs[k].ver);
	x->recs[k].live = false;
	drain(i);
}

/* --- running ------------------------------------------------------------ */

static void run_until(uint64_t t)
{
	while (S.heap_n && S.heap[0]->at <= t) {
		struct ev *e = pop();
		struct node *x = &S.nodes[e->node];

		S.now = e->at;
		if (e->kind == EV_TIMER) {
			if (x->up && !x->paused && e->gen == x->timer_gen) {
				gossip_tick(x->g, S.now);
				drain(e->node);
			}
		} else {
			bool cut = S.nodes[e->from].group != x->group;

			S.pkts++;
			if (x->up && !x->paused && !cut) {
				(void)gossip_recv(x->g, S.now, &e->from_ep, S.nodes[e->from].id,
						  e->buf, e->len);
				drain(e->node);
			}
			free(e->buf);
		}
		free(e);
	}
	S.now = t;
}

static bool active(int i)
{
	return S.nodes[i].up && !S.nodes[i].paused;
}

struct count_ctx {
	size_t remote;
	int bad_node;
};

static int count_remote(void *ctx, const struct table_entry *e)
{
	struct count_ctx *c = ctx;
	int y, k;

	if (e->origin == 0)
		return 0;
	c->remote++;
	if (c->bad_node >= 0 && parse_owner(e->owner, &y, &k) && y == c->bad_node)
		return 1;
	return 0;
}

static void dump_view(int xi, int y)
{
	static struct gossip_member_info info[GOSSIP_MEMBERS_MAX];
	struct gossip_stats st;
	uint64_t e, seq;
	uint32_t inc;
	size_t n = gossip_members(S.nodes[xi].g, info, GOSSIP_MEMBERS_MAX);

	if (S.nodes[y].up) {
		gossip_self(S.nodes[y].g, &e, &seq, &inc);
		fprintf(stderr, "  node %d itself: epoch %" PRIu64 " seq %" PRIu64 " inc %u\n", y,
			e, seq, inc);
	} else {
		fprintf(stderr, "  node %d is down since %" PRIu64 "\n", y, S.nodes[y].down_at);
	}
	for (size_t j = 0; j < n; j++) {
		if ((info[j].id[1] << 8 | info[j].id[2]) != y)
			continue;
		fprintf(stderr,
			"  node %d sees %d: %s epoch %" PRIu64 " inc %u head %" PRIu64
			" records %zu last contact %" PRIu64 "\n",
			xi, y, gossip_state_str(info[j].state), info[j].epoch, info[j].incarnation,
			info[j].head, info[j].records, info[j].last_contact_ms);
	}
	gossip_get_stats(S.nodes[xi].g, &st);
	fprintf(stderr,
		"  node %d stats: alive %u suspect %u dead %u syncs %" PRIu64 "/%" PRIu64
		" timed out %" PRIu64 " refused %" PRIu64 " deltas applied %" PRIu64
		" out-of-window %" PRIu64 "\n",
		xi, st.members_alive, st.members_suspect, st.members_dead, st.syncs_started,
		st.syncs_completed, st.syncs_timed_out, st.syncs_refused, st.deltas_applied,
		st.deltas_out_of_window);
}

/* Does node x hold exactly the live records of every other active node? */
static bool converged_at(int xi, bool report)
{
	static struct gossip_member_info info[GOSSIP_MEMBERS_MAX];
	static uint32_t origin[MAX_NODES];
	struct node *x = &S.nodes[xi];
	struct count_ctx c = {0, -1};
	size_t want = 0, n;
	char owner[TABLE_OWNER_MAX + 1];

	memset(origin, 0, sizeof(origin));
	n = gossip_members(x->g, info, GOSSIP_MEMBERS_MAX);
	for (size_t j = 0; j < n && j < GOSSIP_MEMBERS_MAX; j++) {
		int y = info[j].id[1] << 8 | info[j].id[2];

		if (y < S.n)
			origin[y] = info[j].origin;
	}

	for (int y = 0; y < S.n; y++) {
		if (y == xi || !active(y))
			continue;
		for (int k = 0; k < S.k; k++) {
			const struct node *ny = &S.nodes[y];
			const struct table_entry *e = NULL;

			if (!ny->recs[k].live)
				continue;
			want++;
			owner_of(owner, y, k);
			if (origin[y])
				e = table_get(x->t, origin[y], owner);
			if (!e || e->n_addrs != 1 ||
			    ((uint32_t)e->addrs[0].b[1] << 16 | (uint32_t)e->addrs[0].b[2] << 8 |
			     e->addrs[0].b[3]) != ny->recs[k].ver) {
				if (report) {
					fail("node %d lacks %d/%d version %u", xi, y, k,
					     ny->recs[k].ver);
					dump_view(xi, y);
				}
				return false;
			}
		}
	}
	table_foreach_entry(x->t, count_remote, &c);
	if (c.remote != want) {
		if (report)
			fail("node %d holds %zu remote records, want %zu", xi, c.remote, want);
		return false;
	}
	return true;
}

static bool converged(bool report)
{
	for (int i = 0; i < S.n; i++)
		if (active(i) && !converged_at(i, report))
			return false;
	return true;
}

/* Run until converged or the bound passes; true if converged. */
static bool await_convergence(uint64_t bound_ms, const char *what)
{
	uint64_t until = S.now + bound_ms;

	while (S.now < until) {
		run_until(S.now + 100);
		if (converged(false))
			return true;
	}
	fail("not converged %" PRIu64 " ms after %s", bound_ms, what);
	converged(true);
	return false;
}

/* No active node holds a record of node y. */
static void check_withdrawn(int y, const char *why)
{
	for (int i = 0; i < S.n; i++) {
		struct count_ctx c = {0, y};

		if (!active(i))
			continue;
		if (table_foreach_entry(S.nodes[i].t, count_remote, &c)) {
			fail("node %d still holds records of %s node %d", i, why, y);
			if (S.failures == 1)
				dump_view(i, y);
		}
	}
}

static void random_ops(int count)
{
	for (int j = 0; j < count; j++) {
		int i = (int)rnd_below((uint32_t)S.n), k = (int)rnd_below((uint32_t)S.k);

		if (!active(i))
			continue;
		if (S.nodes[i].recs[k].live && chance(0.4))
			op_del(i, k);
		else
			op_put(i, k);
	}
}

/* Random operations spread over ms milliseconds. */
static void churn(uint64_t ms, int ops)
{
	uint64_t step = ops ? ms / (uint64_t)ops : ms;

	for (int j = 0; j < ops; j++) {
		random_ops(1);
		run_until(S.now + (step ? step : 1));
	}
	if (!ops)
		run_until(S.now + ms);
}

static void heal(void)
{
	for (int i = 0; i < S.n; i++)
		S.nodes[i].group = 0;
	S.net.loss = 0;
	S.net.dup = 0;
}

/* Worst-case failure detection: a full probe cycle, the probe, the
 * longest suspicion (no confirmations) and dissemination. */
static uint64_t detect_bound(void)
{
	double l = 1;
	int n = S.n;

	while (n > 10) { /* max(2, log10 n), rounded up */
		n /= 10;
		l++;
	}
	if (l < 2)
		l = 2;
	return 2 * S.tm.probe_interval_ms + S.tm.probe_timeout_ms +
	       (uint64_t)(S.tm.suspicion_max_mult * S.tm.suspicion_mult * l *
			  S.tm.probe_interval_ms) +
	       2000;
}

static void check_versions_monotonic(void)
{
	/* covered per record by the table observer; here: members' (epoch, head) */
	static struct gossip_member_info info[GOSSIP_MEMBERS_MAX];
	static uint64_t last_epoch[64][64], last_head[64][64];
	static uint32_t life[64];

	if (S.n > 64)
		return;
	for (int i = 0; i < S.n; i++) {
		size_t n;

		if (life[i] != S.nodes[i].restarts || S.now == 0) {
			/* a new life of node i starts a new view */
			life[i] = S.nodes[i].restarts;
			memset(last_epoch[i], 0, sizeof(last_epoch[i]));
			memset(last_head[i], 0, sizeof(last_head[i]));
		}
		if (!active(i))
			continue;
		n = gossip_members(S.nodes[i].g, info, GOSSIP_MEMBERS_MAX);
		for (size_t j = 0; j < n; j++) {
			int y = info[j].id[1] << 8 | info[j].id[2];

			if (y >= 64)
				continue;
			if (info[j].epoch < last_epoch[i][y] ||
			    (info[j].epoch == last_epoch[i][y] && info[j].head < last_head[i][y]))
				fail("node %d: version of member %d went backwards", i, y);
			last_epoch[i][y] = info[j].epoch;
			last_head[i][y] = info[j].head;
		}
	}
}

/* --- scenarios ---------------------------------------------------------- */

static void setup(int n, int k)
{
	S.n = n;
	S.k = k;
	S.ver_cap = 1 << 16;
	S.ver_end = calloc(S.ver_cap, sizeof(*S.ver_end));
	S.next_ver = 1;
	gossip_timing_defaults(&S.tm);
	for (int i = 0; i < n; i++) {
		struct node *x = &S.nodes[i];

		for (int b = 0; b < GOSSIP_ID_LEN; b++)
			x->id[b] = (uint8_t)rnd64();
		x->id[1] = (uint8_t)(i >> 8);
		x->id[2] = (uint8_t)i;
		x->ep.addr.family = AF_INET;
		x->ep.addr.b[0] = 10;
		x->ep.addr.b[2] = (uint8_t)(i >> 8);
		x->ep.addr.b[3] = (uint8_t)i;
		x->ep.port = GOSSIP_PORT_DEFAULT;
		if (S.check_records) {
			x->floor = calloc((size_t)n * k, sizeof(uint32_t));
			x->shown = calloc((size_t)n * k, sizeof(uint32_t));
		}
	}
	S.net = (struct net){.loss = 0, .dup = 0, .delay_ms = 1, .jitter_ms = 2};
}

static void start_all(void)
{
	for (int i = 0; i < S.n; i++) {
		node_start(i);
		run_until(S.now + rnd_below(20));
	}
}

static const uint64_t CONVERGE_MS = 25000;

static void sc_steady(void)
{
	S.net.loss = 0.05;
	S.net.jitter_ms = 5;
	start_all();
	churn(8000, S.n * 4);
	heal();
	await_convergence(CONVERGE_MS, "steady churn at 5% loss");
}

static void sc_loss10(void)
{
	/* SIM_LOSS10=0.2 ...: the same run at a harsher loss, to measure margin */
	S.net.loss = getenv("SIM_LOSS10") ? atof(getenv("SIM_LOSS10")) : 0.10;
	S.check_false_dead = true;
	start_all();
	churn(15000, S.n * 3);
	run_until(S.now + 5000);
	S.check_false_dead = false;
	heal();
	await_convergence(CONVERGE_MS, "10% loss");
}

static void sc_crash(void)
{
	int victims = S.n > 3 ? S.n / 4 : 1;

	S.net.loss = 0.02;
	start_all();
	churn(3000, S.n * 2);
	await_convergence(CONVERGE_MS, "start");
	for (int v = 0; v < victims; v++) {
		int y = 1 + (int)rnd_below((uint32_t)(S.n - 1));

		if (!S.nodes[y].up || S.n < 2)
			continue;
		node_stop(y, false);
		run_until(S.now + detect_bound());
		check_withdrawn(y, "crashed");
		if (chance(0.7)) {
			node_start(y);
			random_ops(3);
		}
	}
	churn(2000, S.n);
	heal();
	await_convergence(CONVERGE_MS, "crashes and restarts");
}

static void sc_quick_restart(void)
{
	/* restart before anyone notices: the new epoch replaces old records */
	start_all();
	for (int i = 0; i < S.n; i++)
		for (int k = 0; k < 3 && k < S.k; k++)
			op_put(i, k);
	await_convergence(CONVERGE_MS, "start");
	for (int r = 0; r < 3; r++) {
		int y = (int)rnd_below((uint32_t)S.n);

		node_stop(y, false);
		run_until(S.now + 200);
		node_start(y);
		op_put(y, S.k - 1);
		await_convergence(CONVERGE_MS, "quick restart");
	}
}

static void sc_partition(void)
{
	S.net.loss = 0.02;
	start_all();
	churn(3000, S.n * 2);
	for (int i = 0; i < S.n; i++)
		S.nodes[i].group = chance(0.5) ? 1 : 0;
	S.nodes[0].group = 0;
	if (S.n > 1)
		S.nodes[1].group = 1; /* even the bootstrap pair is split */
	churn(20000, S.n * 2);
	heal();
	await_convergence(CONVERGE_MS + 10000, "partition healed");
}

static void sc_pause(void)
{
	int y = (int)rnd_below((uint32_t)S.n);

	start_all();
	churn(3000, S.n * 2);
	S.nodes[y].paused = true;
	churn(12000, S.n);
	S.nodes[y].paused = false;
	S.nodes[y].timer_gen++;
	schedule(y);
	churn(2000, S.n);
	await_convergence(CONVERGE_MS, "pause ended");
}

static void sc_leave(void)
{
	int y = S.n > 1 ? 1 + (int)rnd_below((uint32_t)(S.n - 1)) : 0;

	S.net.loss = 0.01;
	start_all();
	churn(3000, S.n * 2);
	await_convergence(CONVERGE_MS, "start");
	node_stop(y, true);
	run_until(S.now + 2000);
	check_withdrawn(y, "left");
	heal();
	await_convergence(CONVERGE_MS, "leave");
}

static void sc_late(void)
{
	int y = S.n - 1;

	for (int i = 0; i < S.n - 1; i++) {
		node_start(i);
		run_until(S.now + rnd_below(20));
	}
	churn(10000, S.n * 4);
	node_start(y);
	random_ops(2);
	await_convergence(CONVERGE_MS, "late join");
}

static void sc_chaos(void)
{
	S.net.loss = 0.05;
	S.net.dup = 0.05;
	S.net.jitter_ms = 40;
	start_all();
	await_convergence(CONVERGE_MS, "start");
	for (int round = 0; round < 6; round++) {
		int y = (int)rnd_below((uint32_t)S.n);

		switch (rnd_below(4)) {
		case 0:
			node_stop(y, chance(0.5));
			break;
		case 1:
			if (!S.nodes[y].up)
				node_start(y);
			break;
		case 2:
			if (S.nodes[y].up)
				S.nodes[y].paused = !S.nodes[y].paused;
			if (!S.nodes[y].paused) {
				S.nodes[y].timer_gen++;
				schedule(y);
			}
			break;
		case 3:
			for (int i = 0; i < S.n; i++)
				S.nodes[i].group = (int)rnd_below(2);
			break;
		}
		churn(3000, S.n);
		check_versions_monotonic();
	}
	for (int i = 0; i < S.n; i++) {
		if (S.nodes[i].up && S.nodes[i].paused) {
			S.nodes[i].paused = false;
			S.nodes[i].timer_gen++;
			schedule(i);
		}
	}
	heal();
	await_convergence(CONVERGE_MS + 10000, "chaos healed");
}

struct scenario {
	const char *name;
	void (*fn)(void);
};

static const struct scenario scenarios[] = {
    {"steady", sc_steady},	   {"loss10", sc_loss10},	{"crash", sc_crash},
    {"restart", sc_quick_restart}, {"partition", sc_partition}, {"pause", sc_pause},
    {"leave", sc_leave},	   {"late", sc_late},		{"chaos", sc_chaos},
};
#define N_SCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

static const int sizes[] = {2, 3, 4, 5, 7, 8, 12, 16, 24, 32, 48, 64};
#define N_SIZES (sizeof(sizes) / sizeof(sizes[0]))

static void reset(void)
{
	for (int i = 0; i < MAX_NODES; i++) {
		struct node *x = &S.nodes[i];

		if (x->up)
			node_stop(i, false);
		free(x->floor);
		free(x->shown);
	}
	while (S.heap_n) {
		struct ev *e = pop();

		free(e->buf);
		free(e);
	}
	free(S.heap);
	free(S.ver_end);
	memset(&S, 0, sizeof(S));
}

/* One run; returns the number of failures. */
static int run_one(uint64_t seed, int n, const struct scenario *sc)
{
	int f;

	reset();
	S.seed = seed;
	S.scenario = sc->name;
	S.check_records = true;
	rs[0] = seed * 0x9e3779b97f4a7c15ull + 1;
	rs[1] = seed ^ 0x632be59bd9b4e019ull;
	for (int i = 0; i < 8; i++)
		rnd64();
	setup(n, 8);
	check_versions_monotonic(); /* S.now == 0: forget the previous run */
	sc->fn();
	check_versions_monotonic();
	f = S.failures;
	if (f)
		fprintf(stderr,
			"sim: FAILED seed %" PRIu64 "; replay: make sim SEED=%" PRIu64
			" NODES=%d SCENARIO=%s\n",
			seed, seed, n, sc->name);
	return f;
}

static void pick(uint64_t seed, int *n, const struct scenario **sc)
{
	*sc = &scenarios[seed % N_SCENARIOS];
	*n = sizes[(seed / N_SCENARIOS) % N_SIZES];
}

/* --- bench ---------------------------------------------------------------- */

static size_t entries_of(int i)
{
	struct table_stats st;

	table_get_stats(S.nodes[i].t, &st);
	return st.entries;
}

/* BENCH_VERBOSE: where the time of a burst goes, one line per interval.
 * behind: (node, origin) pairs without every change of the origin; unaware:
 * those that have not even heard of its latest version. */
static void bench_profile(uint64_t t0, uint64_t last[6], bool print)
{
	static struct gossip_member_info info[GOSSIP_MEMBERS_MAX];
	static uint64_t seq[MAX_NODES];
	uint64_t behind = 0, unaware = 0, c[6] = {0};
	struct gossip_stats st;

	for (int y = 0; y < S.n; y++) {
		uint64_t e;
		uint32_t inc;

		gossip_self(S.nodes[y].g, &e, &seq[y], &inc);
	}
	for (int i = 0; i < S.n; i++) {
		size_t m = gossip_members(S.nodes[i].g, info, GOSSIP_MEMBERS_MAX);

		for (size_t j = 0; j < m && j < GOSSIP_MEMBERS_MAX; j++) {
			int y = info[j].id[1] << 8 | info[j].id[2];

			if (y >= S.n)
				continue;
			behind += info[j].head < seq[y];
			unaware += info[j].known_head < seq[y];
		}
		gossip_get_stats(S.nodes[i].g, &st);
		c[0] += st.syncs_started;
		c[1] += st.syncs_completed;
		c[2] += st.syncs_timed_out;
		c[3] += st.syncs_refused;
		c[4] += st.deltas_applied;
		c[5] += st.delta_queue_dropped;
	}
	if (print)
		fprintf(stderr,
			"  t+%4" PRIu64 "ms: behind %7" PRIu64 " unaware %7" PRIu64
			" | syncs +%" PRIu64 " done +%" PRIu64 " timeout +%" PRIu64
			" refused +%" PRIu64 " running %" PRIu64 " | deltas applied +%" PRIu64
			" evicted +%" PRIu64 "\n",
			S.now - t0, behind, unaware, c[0] - last[0], c[1] - last[1], c[2] - last[2],
			c[3] - last[3], c[0] - c[1] - c[2], c[4] - last[4], c[5] - last[5]);
	memcpy(last, c, sizeof(c));
}

/* BENCH_VERBOSE: bytes per node per second by message type since *since. */
static void bench_bytes(const char *what, uint64_t since[16], double secs)
{
	static const char *names[16] = {
	    "headers", "ping",	"ack",	   "ping-req", "nack",	    "alive", "suspect", "dead",
	    "left",    "delta", "summary", "sync-req", "sync-data", "?",     "?",	"?"};

	fprintf(stderr, "  %s, KB/s per node:", what);
	for (int t = 0; t < 16; t++)
		if (S.tx_by_type[t] > since[t])
			fprintf(stderr, " %s %.2f", names[t],
				(double)(S.tx_by_type[t] - since[t]) / S.n / secs / 1024);
	fputc('\n', stderr);
	memcpy(since, S.tx_by_type, sizeof(S.tx_by_type));
}

/* The second bench row, on the converged cluster bench_one leaves: a
 * deploy. 1 % of the nodes (at least one) each replace 5 of their k
 * containers (5 stop, 5 new ones start under new IDs: 10 changes each)
 * within 100 ms; converged = every node holds exactly the new set. Five
 * deploys 5 s apart, each on other nodes. */
#define DEPLOYS 5

static int deploy_node(int n, int c, int d)
{
	int nch = n / 100 ? n / 100 : 1;

	return (c * (n / nch) + d) % n;
}

/* Time (ms) until every node holds deploy d's changes; 0 = not in 30 s. */
static uint64_t bench_deploy(int n, int k, int d)
{
	static uint32_t(*origin)[MAX_NODES / 100 + 1];
	static struct gossip_member_info info[GOSSIP_MEMBERS_MAX];
	int nch = n / 100 ? n / 100 : 1, per = 5;
	char owner[TABLE_OWNER_MAX + 1];
	size_t want = (size_t)n * k;
	uint64_t t0 = S.now;

	if (!origin)
		origin = calloc(MAX_NODES, sizeof(*origin));
	for (int i = 0; i < n; i++) {
		size_t m = gossip_members(S.nodes[i].g, info, GOSSIP_MEMBERS_MAX);

		for (size_t j = 0; j < m && j < GOSSIP_MEMBERS_MAX; j++) {
			int y = info[j].id[1] << 8 | info[j].id[2];

			for (int c = 0; c < nch; c++)
				if (y == deploy_node(n, c, d))
					origin[i][c] = info[j].origin;
		}
	}
	for (int r = 0; r < per; r++) {
		for (int c = 0; c < nch; c++) {
			op_del(deploy_node(n, c, d), r);
			op_put(deploy_node(n, c, d), k + r);
		}
		run_until(S.now + 100 / per);
	}
	while (S.now - t0 < 30000) {
		bool ok = true;

		run_until(S.now + 10);
		for (int i = 0; i < n && ok; i++) {
			ok = entries_of(i) == want;
			for (int c = 0; c < nch && ok; c++) {
				int y = deploy_node(n, c, d);

				if (y == i)
					continue;
				for (int r = 0; r < per && ok; r++) {
					owner_of(owner, y, r);
					ok = !table_get(S.nodes[i].t, origin[i][c], owner);
					owner_of(owner, y, k + r);
					ok = ok && table_get(S.nodes[i].t, origin[i][c], owner);
				}
			}
		}
		if (ok)
			return S.now - t0;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void bench_change(int n, double loss, int k)
{
	uint64_t conv[DEPLOYS], txw = 0, tx5 = 0, since[16], win_ms = 0;
	int failed = 0;

	for (int d = 0; d < DEPLOYS; d++) {
		uint64_t t0 = S.now, a = 0, b = 0, c = 0;

		for (int i = 0; i < n; i++)
			a += S.nodes[i].tx_bytes;
		if (d == 0)
			memcpy(since, S.tx_by_type, sizeof(since));
		conv[d] = bench_deploy(n, k, d);
		failed += !conv[d];
		if (!conv[d])
			conv[d] = 30000;
		win_ms += conv[d];
		for (int i = 0; i < n; i++)
			b += S.nodes[i].tx_bytes;
		run_until(t0 + 5000);
		for (int i = 0; i < n; i++)
			c += S.nodes[i].tx_bytes;
		txw += b - a;
		tx5 += c - a;
	}
	if (getenv("BENCH_VERBOSE"))
		bench_bytes("deploys (5 s each)", since, 5.0 * DEPLOYS);
	qsort(conv, DEPLOYS, sizeof(conv[0]), cmp_u64);
	printf("bench-sim: nodes=%d records/node=%d loss=%.0f%% deploy (%d nodes x 5 "
	       "replaced): converge median %.2fs max %s%.2fs; sent while converging "
	       "%.1fKB/node (%.1fKB/s/node), in the 5 s from the deploy %.1fKB/node "
	       "(%.1fKB/s/node)\n",
	       n, k, loss * 100, n / 100 ? n / 100 : 1, (double)conv[DEPLOYS / 2] / 1000,
	       failed ? ">" : "", (double)conv[DEPLOYS - 1] / 1000,
	       (double)txw / n / DEPLOYS / 1024, (double)txw / n / ((double)win_ms / 1000) / 1024,
	       (double)tx5 / n / DEPLOYS / 1024, (double)tx5 / n / 5.0 / DEPLOYS / 1024);
	fflush(stdout);
}

static void bench_one(int n, double loss)
{
	const int k = getenv("BENCH_RECORDS") ? atoi(getenv("BENCH_RECORDS")) : 50;
	uint64_t t0, t1, tx0 = 0, tx1 = 0, txs = 0, tx2 = 0;
	bool ok = false;
	size_t want = (size_t)n * k;
	struct timespec w0, w1;
	int known = 0;
	uint64_t prof[6] = {0}, by_type[16];

	clock_gettime(CLOCK_MONOTONIC, &w0);
	reset();
	S.seed = 1;
	S.scenario = "bench";
	rs[0] = 12345;
	rs[1] = 67890;
	setup(n, k + 5); /* 5 slots for bench_change's new containers */
	S.net.loss = loss;
	for (int i = 0; i < n; i++) {
		node_start(i);
		run_until(S.now + 2);
	}
	/* membership first: every node knows every other */
	for (int s = 0; s < 120 && known < n; s++) {
		static struct gossip_member_info info[1];

		run_until(S.now + 1000);
		known = 0;
		for (int i = 0; i < n; i++) {
			struct gossip_stats st;

			(void)info;
			gossip_get_stats(S.nodes[i].g, &st);
			if (st.members_alive == (uint32_t)n - 1)
				known++;
		}
	}
	run_until(S.now + 2000);
	for (int i = 0; i < n; i++)
		tx0 += S.nodes[i].tx_bytes;
	/* the burst: every node publishes k records within 100 ms */
	t0 = S.now;
	memcpy(by_type, S.tx_by_type, sizeof(by_type));
	if (getenv("BENCH_VERBOSE"))
		bench_profile(t0, prof, false);
	for (int j = 0; j < k; j++) {
		for (int i = 0; i < n; i++)
			op_put(i, j);
		run_until(S.now + 2);
	}
	while (S.now - t0 < 60000) {
		int done = 0;

		run_until(S.now + 50);
		size_t missing = 0;

		for (int i = 0; i < n; i++) {
			done += entries_of(i) == want;
			missing += want - entries_of(i);
		}
		if (getenv("BENCH_VERBOSE") && (S.now - t0) % 100 == 0) {
			fprintf(stderr,
				"  t+%4" PRIu64 "ms: %d/%d nodes converged, %zu records missing\n",
				S.now - t0, done, n, missing);
			bench_profile(t0, prof, true);
		}
		if (done == n) {
			ok = true;
			break;
		}
	}
	t1 = S.now;
	for (int i = 0; i < n; i++)
		tx1 += S.nodes[i].tx_bytes;
	if (getenv("BENCH_VERBOSE")) {
		uint64_t sy = 0, ds = 0, dg = 0;
		struct gossip_stats st;

		for (int i = 0; i < n; i++) {
			gossip_get_stats(S.nodes[i].g, &st);
			sy += st.syncs_started;
			ds += st.deltas_sent;
			dg += st.tx_dgrams;
		}
		fprintf(stderr,
			"  at convergence: syncs %" PRIu64 " deltas sent %" PRIu64
			" datagrams %" PRIu64 "\n",
			sy, ds, dg);
	}
	if (getenv("BENCH_VERBOSE"))
		bench_bytes("burst", by_type, (double)(t1 - t0 ? t1 - t0 : 1) / 1000);
	/* steady state: the 10 s after the dissemination tail (10 s) */
	run_until(S.now + 10000);
	for (int i = 0; i < n; i++)
		txs += S.nodes[i].tx_bytes;
	memcpy(by_type, S.tx_by_type, sizeof(by_type));
	run_until(S.now + 10000);
	for (int i = 0; i < n; i++)
		tx2 += S.nodes[i].tx_bytes;
	if (getenv("BENCH_VERBOSE"))
		bench_bytes("steady", by_type, 10);
	clock_gettime(CLOCK_MONOTONIC, &w1);
	{
		struct gossip_stats sum = {0}, st;

		for (int i = 0; i < n; i++) {
			gossip_get_stats(S.nodes[i].g, &st);
			sum.syncs_started += st.syncs_started;
			sum.syncs_completed += st.syncs_completed;
			sum.syncs_refused += st.syncs_refused;
			sum.syncs_timed_out += st.syncs_timed_out;
			sum.suspicions += st.suspicions;
			sum.deaths += st.deaths;
			sum.delta_queue_dropped += st.delta_queue_dropped;
			sum.tx_queue_dropped += st.tx_queue_dropped;
			sum.deltas_sent += st.deltas_sent;
			sum.push_pulls += st.push_pulls;
			sum.rx_rate_limited += st.rx_rate_limited;
			sum.probe_failed += st.probe_failed;
			sum.refutations += st.refutations;
		}
		if (getenv("BENCH_VERBOSE"))
			fprintf(stderr,
				"  syncs %" PRIu64 " done %" PRIu64 " refused %" PRIu64
				" timed out %" PRIu64 " suspicions %" PRIu64 " deaths %" PRIu64
				" bcast evicted %" PRIu64 " txq dropped %" PRIu64
				" deltas sent %" PRIu64 " rate-limited %" PRIu64
				" probes failed %" PRIu64 " refutations %" PRIu64 "\n",
				sum.syncs_started, sum.syncs_completed, sum.syncs_refused,
				sum.syncs_timed_out, sum.suspicions, sum.deaths,
				sum.delta_queue_dropped, sum.tx_queue_dropped, sum.deltas_sent,
				sum.rx_rate_limited, sum.probe_failed, sum.refutations);
	}
	printf("bench-sim: nodes=%d records/node=%d loss=%.0f%% converge=%s%.2fs "
	       "burst=%.0fKB/node (%.0fKB/s/node) steady=%.2fKB/s/node "
	       "(members known by %d/%d; wall %.1fs)\n",
	       n, k, loss * 100, ok ? "" : ">", (double)(t1 - t0) / 1000,
	       (double)(tx1 - tx0) / n / 1024,
	       (double)(tx1 - tx0) / n / ((double)(t1 - t0 ? t1 - t0 : 1) / 1000) / 1024,
	       (double)(tx2 - txs) / n / 10.0 / 1024, known, n,
	       (double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) / 1e9);
	fflush(stdout);
	if (ok)
		bench_change(n, loss, k);
}

/* --- bench: failure detection ------------------------------------------- */

/* Node xi's view of node y: a gossip_member_state, or -1 if unknown; and
 * the table origin of y's records there. */
static int state_seen(int xi, int y, uint32_t *origin)
{
	static struct gossip_member_info info[GOSSIP_MEMBERS_MAX];
	size_t n = gossip_members(S.nodes[xi].g, info, GOSSIP_MEMBERS_MAX);

	*origin = 0;
	for (size_t j = 0; j < n && j < GOSSIP_MEMBERS_MAX; j++)
		if ((info[j].id[1] << 8 | info[j].id[2]) == y) {
			*origin = info[j].origin;
			return (int)info[j].state;
		}
	return -1;
}

/* Does node xi's table still hold a record of node y? */
static bool holds_any(int xi, int y, uint32_t origin)
{
	char owner[TABLE_OWNER_MAX + 1];

	for (int k = 0; origin && k < S.k; k++) {
		owner_of(owner, y, k);
		if (table_get(S.nodes[xi].t, origin, owner))
			return true;
	}
	return false;
}

static bool all_know_all(void)
{
	for (int i = 0; i < S.n; i++) {
		struct gossip_stats st;

		gossip_get_stats(S.nodes[i].g, &st);
		if (st.members_alive != (uint32_t)S.n - 1)
			return false;
	}
	return true;
}

static double pct_s(const uint64_t *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)n + 0.999999);

	return (double)v[i ? i - 1 : 0] / 1000;
}

/* One crash: a converged cluster of n loses a random node without warning
 * (no leave). Returns the virtual ms from the crash until no other node
 * holds a record of it (UINT64_MAX: not within 30 s); *suspect_ms and
 * *dead_ms get when the first node suspected it and declared it dead. */
static uint64_t dead_one(uint64_t seed, int n, double loss, uint64_t *suspect_ms, uint64_t *dead_ms)
{
	static uint8_t seen[MAX_NODES];
	static bool done[MAX_NODES]; /* withdrew y's records (for good: y stays down) */
	static uint64_t failed[MAX_NODES];
	bool trace = getenv("BENCH_TRACE") != NULL;
	uint64_t t0;
	int y;

	reset();
	S.seed = seed;
	S.scenario = "bench-dead";
	rs[0] = seed * 0x9e3779b97f4a7c15ull + 1;
	rs[1] = seed ^ 0x632be59bd9b4e019ull;
	for (int i = 0; i < 8; i++)
		rnd64();
	setup(n, 2);
	S.net.loss = loss;
	S.check_false_dead = true; /* a live node declared dead fails the run */
	start_all();
	for (int i = 0; i < n; i++)
		for (int k = 0; k < S.k; k++)
			op_put(i, k);
	for (int s = 0; s < 240 && !(all_know_all() && converged(false)); s++)
		run_until(S.now + 500);
	if (!all_know_all() || !converged(false))
		fail("cluster not settled before the crash");
	/* a crash at a random phase of everyone's probe timers */
	run_until(S.now + 2000 + rnd_below(1000));
	y = (int)rnd_below((uint32_t)n);
	node_stop(y, false);
	t0 = S.now;
	if (trace)
		fprintf(stderr, "  seed %" PRIu64 " t=%" PRIu64 "ms: node %d crashes\n", seed, t0,
			y);
	*suspect_ms = *dead_ms = UINT64_MAX;
	memset(seen, 0, sizeof(seen));
	memset(done, 0, sizeof(done));
	for (int i = 0; i < n; i++) {
		struct gossip_stats gs;

		if (active(i)) {
			gossip_get_stats(S.nodes[i].g, &gs);
			failed[i] = gs.probe_failed;
		}
	}
	while (S.now - t0 < 30000) {
		bool held = false;

		run_until(S.now + 10);
		if (trace && (S.now - t0) % 500 == 0) {
			uint64_t probes = 0;
			uint32_t aw = 0;

			for (int i = 0; i < n; i++) {
				struct gossip_stats gs;

				if (!active(i))
					continue;
				gossip_get_stats(S.nodes[i].g, &gs);
				probes += gs.probes;
				aw = gs.awareness > aw ? gs.awareness : aw;
			}
			fprintf(stderr,
				"  seed %" PRIu64 " t+%" PRIu64 "ms: %" PRIu64
				" probes so far, highest awareness %u\n",
				seed, S.now - t0, probes, aw);
		}
		for (int i = 0; i < n; i++) {
			uint32_t origin;
			int st;

			if (!active(i) || done[i])
				continue;
			st = state_seen(i, y, &origin);
			if (st == GOSSIP_SUSPECT && *suspect_ms == UINT64_MAX)
				*suspect_ms = S.now - t0;
			if (st == GOSSIP_DEAD && *dead_ms == UINT64_MAX)
				*dead_ms = S.now - t0;
			if (trace && st != seen[i]) {
				fprintf(stderr,
					"  seed %" PRIu64 " t+%" PRIu64 "ms: node %d sees %d %s\n",
					seed, S.now - t0, i, y,
					st < 0 ? "unknown"
					       : gossip_state_str((enum gossip_member_state)st));
				seen[i] = (uint8_t)st;
			}
			if (trace) {
				struct gossip_stats gs;

				gossip_get_stats(S.nodes[i].g, &gs);
				if (gs.probe_failed != failed[i])
					fprintf(stderr,
						"  seed %" PRIu64 " t+%" PRIu64
						"ms: node %d: a probe failed\n",
						seed, S.now - t0, i);
				failed[i] = gs.probe_failed;
			}
			done[i] = !holds_any(i, y, origin);
			held |= !done[i];
		}
		if (!held)
			return S.now - t0;
	}
	return UINT64_MAX;
}

/* `--bench-dead 3,5,10,50,100`: per size and loss (0 %, 5 %), --seeds
 * crashes (default 20), each in a fresh cluster; prints p50/p99/max of the
 * time until every other node withdrew the dead node's records, and of the
 * first suspicion and the first death. A run fails (and the exit status
 * is 1) if a live node is ever declared dead or the cluster had
 * not settled before it; "missed": records still held after 30 s. */
static int bench_dead(const char *sizes_csv, uint64_t first, uint64_t seeds)
{
	char *s = strdup(sizes_csv), *save = NULL;
	uint64_t *gone = calloc(seeds, sizeof(*gone)), *susp = calloc(seeds, sizeof(*susp)),
		 *dead = calloc(seeds, sizeof(*dead));
	int bad = 0;

	if (!s || !gone || !susp || !dead)
		abort();
	for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int n = atoi(tok);

		if (n < 3 || n > MAX_NODES)
			continue;
		for (int l = 0; l < 2; l++) {
			double loss = l ? 0.05 : 0;
			uint64_t missed = 0, failed = 0;
			struct timespec w0, w1;

			clock_gettime(CLOCK_MONOTONIC, &w0);
			for (uint64_t i = 0; i < seeds; i++) {
				gone[i] = dead_one(first + i, n, loss, &susp[i], &dead[i]);
				missed += gone[i] == UINT64_MAX;
				failed += S.failures != 0;
				if (getenv("BENCH_VERBOSE"))
					fprintf(stderr,
						"  n=%d loss=%.0f%% seed %" PRIu64
						": suspect %" PRId64 " dead %" PRId64
						" withdrawn %" PRId64 " ms\n",
						n, loss * 100, first + i, (int64_t)susp[i],
						(int64_t)dead[i], (int64_t)gone[i]);
			}
			clock_gettime(CLOCK_MONOTONIC, &w1);
			qsort(gone, seeds, sizeof(*gone), cmp_u64);
			qsort(susp, seeds, sizeof(*susp), cmp_u64);
			qsort(dead, seeds, sizeof(*dead), cmp_u64);
			printf("bench-dead: nodes=%d loss=%.0f%% seeds=%" PRIu64
			       " withdrawn p50=%.2fs p99=%.2fs max=%.2fs"
			       " (first suspect p50=%.2fs, first dead p50=%.2fs p99=%.2fs)"
			       " missed=%" PRIu64 " failed=%" PRIu64 " wall=%.1fs\n",
			       n, loss * 100, seeds, pct_s(gone, seeds, 0.5),
			       pct_s(gone, seeds, 0.99), pct_s(gone, seeds, 1),
			       pct_s(susp, seeds, 0.5), pct_s(dead, seeds, 0.5),
			       pct_s(dead, seeds, 0.99), missed, failed,
			       (double)(w1.tv_sec - w0.tv_sec) +
				   (double)(w1.tv_nsec - w0.tv_nsec) / 1e9);
			fflush(stdout);
			bad |= missed || failed;
		}
	}
	free(s);
	free(gone);
	free(susp);
	free(dead);
	reset();
	return bad;
}

/* --- main ------------------------------------------------------------------ */

static const struct scenario *find_scenario(const char *name)
{
	for (size_t i = 0; i < N_SCENARIOS; i++)
		if (!strcmp(scenarios[i].name, name))
			return &scenarios[i];
	return NULL;
}

int main(int argc, char **argv)
{
	uint64_t seed = 0, first = 0, count = 0;
	int nodes = 0, opt, passed = 0, failed = 0;
	const char *scen = NULL, *bench = NULL, *bench_dead_sizes = NULL;
	bool have_seed = false;
	static const struct option lo[] = {
	    {"seed", required_argument, 0, 's'},
	    {"nodes", required_argument, 0, 'n'},
	    {"scenario", required_argument, 0, 'c'},
	    {"seeds", required_argument, 0, 'S'},
	    {"first", required_argument, 0, 'f'},
	    {"bench", required_argument, 0, 'b'},
	    {"bench-dead", required_argument, 0, 'd'},
	    {0, 0, 0, 0},
	};

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			have_seed = true;
			break;
		case 'n':
			nodes = atoi(optarg);
			break;
		case 'c':
			scen = optarg;
			break;
		case 'S':
			count = strtoull(optarg, NULL, 0);
			break;
		case 'f':
			first = strtoull(optarg, NULL, 0);
			break;
		case 'b':
			bench = optarg;
			break;
		case 'd':
			bench_dead_sizes = optarg;
			break;
		default:
			fprintf(stderr,
				"usage: %s [--seed S [--nodes N] [--scenario X]] "
				"[--first F --seeds C] [--bench 10,100,1000] "
				"[--bench-dead 3,10,100 [--first F --seeds C]]\n",
				argv[0]);
			return 2;
		}
	}
	if (bench_dead_sizes)
		return bench_dead(bench_dead_sizes, first, count ? count : 20);
	if (bench) {
		char *s = strdup(bench), *save = NULL;

		for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			int n = atoi(tok);

			if (n < 2 || n > MAX_NODES)
				continue;
			if (!getenv("BENCH_LOSS") || atof(getenv("BENCH_LOSS")) == 0)
				bench_one(n, 0);
			if (!getenv("BENCH_LOSS") || atof(getenv("BENCH_LOSS")) > 0)
				bench_one(n, 0.05);
		}
		free(s);
		reset();
		return 0;
	}
	if (have_seed) {
		const struct scenario *sc;
		int n;

		pick(seed, &n, &sc);
		if (nodes)
			n = nodes;
		if (scen && !(sc = find_scenario(scen))) {
			fprintf(stderr, "sim: no scenario %s\n", scen);
			return 2;
		}
		if (n < 2 || n > 64) {
			fprintf(stderr, "sim: nodes must be 2..64\n");
			return 2;
		}
		if (run_one(seed, n, sc))
			failed++;
		else
			passed++;
		printf("sim: seed %" PRIu64 " scenario %s nodes %d: %s (%" PRIu64 " packets)\n",
		       seed, sc->name, n, failed ? "FAILED" : "ok", S.pkts);
	} else {
		if (!count)
			count = 216;
		for (uint64_t s = first; s < first + count; s++) {
			const struct scenario *sc;
			int n;

			pick(s, &n, &sc);
			if (scen && strcmp(scen, sc->name))
				continue;
			if (run_one(s, n, sc))
				failed++;
			else
				passed++;
		}
	}
	reset();
	printf("sim: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
