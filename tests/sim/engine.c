/* The simulator engine: deterministic randomness, the event heap, the
 * seeded network (loss, duplication, delay and jitter, partitions), node
 * start/stop/pause and the record operations a Docker watcher would do.
 * Everything derives from the seed; nothing here checks an invariant
 * (checks.c) or scripts a run (scenarios.c).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/crypto.h"
#include "sim.h"
#include <sodium.h>

struct sim_state S;
uint64_t rs[2];

/* node IDs (public keys) to node numbers: open addressing over their first
 * bytes */
#define ID_SLOTS 4096
static struct {
	uint8_t id[GOSSIP_ID_LEN];
	int node; /* + 1; 0 = empty */
} id_index[ID_SLOTS];

static size_t id_slot(const uint8_t *id)
{
	uint64_t h;

	memcpy(&h, id, sizeof(h));
	return (size_t)(h % ID_SLOTS);
}

static void id_index_add(const uint8_t *id, int node)
{
	size_t i = id_slot(id);

	while (id_index[i].node && memcmp(id_index[i].id, id, GOSSIP_ID_LEN))
		i = (i + 1) % ID_SLOTS;
	memcpy(id_index[i].id, id, GOSSIP_ID_LEN);
	id_index[i].node = node + 1;
}

int node_of_id(const uint8_t *id)
{
	for (size_t i = id_slot(id); id_index[i].node; i = (i + 1) % ID_SLOTS)
		if (!memcmp(id_index[i].id, id, GOSSIP_ID_LEN))
			return id_index[i].node - 1;
	return NODE_UNKNOWN;
}

void sim_sign(void *ctx, uint8_t sig[64], const uint8_t *msg, size_t len)
{
	const struct node *x = ctx;

	crypto_sign_stmt(sig, msg, len, x->sk);
}

/* --- deterministic randomness ------------------------------------------- */

uint64_t rnd64(void)
{
	uint64_t s1 = rs[0], s0 = rs[1];

	rs[0] = s0;
	s1 ^= s1 << 23;
	rs[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
	return rs[1] + s0;
}

uint32_t rnd_below(uint32_t n)
{
	return n ? (uint32_t)(rnd64() % n) : 0;
}

bool chance(double p)
{
	return (double)(rnd64() >> 11) / (double)(1ull << 53) < p;
}

uint32_t core_rng(void *ctx)
{
	(void)ctx;
	return (uint32_t)rnd64();
}

void fail(const char *fmt, ...)
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

void push(struct ev *e)
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

struct ev *pop(void)
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

int node_of_ep(const struct glued_endpoint *e)
{
	int i = e->addr.b[2] << 8 | e->addr.b[3];

	return e->addr.family == AF_INET && e->addr.b[0] == 10 && i < S.n ? i : -1;
}

void owner_of(char *buf, int node, int k)
{
	/* 64 characters, like a container ID */
	snprintf(buf, TABLE_OWNER_MAX + 1, "%04x%04x%056x", node, k, 0);
}

bool parse_owner(const char *o, int *node, int *k)
{
	unsigned a, b;

	if (sscanf(o, "%4x%4x", &a, &b) != 2)
		return false;
	*node = (int)a;
	*k = (int)b;
	return *node < S.n && *k < S.k;
}

int node_of_origin(struct node *x, uint32_t origin, bool *alive)
{
	static struct gossip_member_info info[GOSSIP_MEMBERS_MAX];
	size_t n = gossip_members(x->g, info, GOSSIP_MEMBERS_MAX);

	for (size_t i = 0; i < n && i < GOSSIP_MEMBERS_MAX; i++) {
		if (info[i].origin != origin)
			continue;
		*alive = info[i].state == GOSSIP_ALIVE || info[i].state == GOSSIP_SUSPECT;
		return node_of_id(info[i].id);
	}
	return -1;
}

void schedule(int i)
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

/* SIM_DUMP=dir: every 50th datagram (up to 100) as a fuzz corpus entry for
 * tests/fuzz/fuzz_gossip_decode.c (a mode byte, then the plaintext). */
static void dump(const struct gossip_out *o)
{
	static unsigned seen, written;
	char path[4096];
	FILE *f;

	if (++seen % 50 || written >= 100)
		return;
	snprintf(path, sizeof(path), "%s/sim-%03u", getenv("SIM_DUMP"), written++);
	f = fopen(path, "wb");
	if (!f)
		return;
	fputc(written % 4, f); /* stranger or known peer, pair key or HELLO */
	fwrite(o->buf, 1, o->len, f);
	fclose(f);
}

void send_one(int from, const struct gossip_out *o)
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
	if (getenv("SIM_DUMP"))
		dump(o);
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
		e->unverified = !o->to_id_known; /* a HELLO: the sender is only a claim */
		e->len = (uint16_t)o->len;
		e->buf = malloc(o->len);
		memcpy(e->buf, o->buf, o->len);
		push(e);
	}
}

void drain(int i)
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
		int y = node_of_id(ev.id);

		if (ev.type == GOSSIP_EV_DEAD && S.check_false_dead && y != S.byz && y < S.n &&
		    S.nodes[y].up && !S.nodes[y].paused)
			fail("node %d declared live node %d dead", i, y);
		if (i < DEAD_TRACK && y < DEAD_TRACK) {
			if (ev.type == GOSSIP_EV_DEAD && !S.dead_since[i][y])
				S.dead_since[i][y] = S.now ? S.now : 1;
			else if (ev.type == GOSSIP_EV_JOINED)
				S.dead_since[i][y] = 0;
		}
	}
	schedule(i);
}

void node_start(int i)
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
	cfg.signer = (struct gossip_signer){sim_sign, x};
	x->g = gossip_new(&cfg, x->t, (struct glued_rng){core_rng, NULL});
	/* after the checks' observer, as glued registers its parts (main.c) */
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

void end_version(uint32_t v)
{
	if (v && !S.ver_end[v])
		S.ver_end[v] = S.now ? S.now : 1;
}

void node_stop(int i, bool graceful)
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

static uint32_t new_version(int i, int k)
{
	uint32_t v = S.next_ver++;

	if (v >= S.ver_cap) {
		size_t cap = S.ver_cap * 2;

		S.ver_end = realloc(S.ver_end, cap * sizeof(*S.ver_end));
		S.ver_slot = realloc(S.ver_slot, cap * sizeof(*S.ver_slot));
		memset(S.ver_end + S.ver_cap, 0, (cap - S.ver_cap) * sizeof(*S.ver_end));
		memset(S.ver_slot + S.ver_cap, 0, (cap - S.ver_cap) * sizeof(*S.ver_slot));
		S.ver_cap = cap;
	}
	S.ver_slot[v] = (uint32_t)(i * S.k + k) + 1;
	return v;
}

/* Put (or update) record slot k of node i, as its Docker watcher would. */
void op_put(int i, int k)
{
	struct node *x = &S.nodes[i];
	static struct table_entry e;
	uint32_t v = new_version(i, k);

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

void op_del(int i, int k)
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

static void deliver(struct node *x, const struct ev *e)
{
	const uint8_t *id = e->as_id ? e->as_id : S.nodes[e->from].id;

	if (S.byz >= 0 && x == &S.nodes[S.byz])
		byz_capture(e);
	if (e->unverified)
		(void)gossip_recv_unverified(x->g, S.now, &e->from_ep, id, e->buf, e->len);
	else
		(void)gossip_recv(x->g, S.now, &e->from_ep, id, e->buf, e->len);
}

void run_until(uint64_t t)
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
				deliver(x, e);
				drain(e->node);
			}
			free(e->buf);
		}
		free(e);
	}
	S.now = t;
}

bool active(int i)
{
	return S.nodes[i].up && !S.nodes[i].paused;
}

void setup(int n, int k)
{
	S.n = n;
	S.k = k;
	S.ver_cap = 1 << 16;
	S.ver_end = calloc(S.ver_cap, sizeof(*S.ver_end));
	S.ver_slot = calloc(S.ver_cap, sizeof(*S.ver_slot));
	S.byz = -1;
	S.next_ver = 1;
	gossip_timing_defaults(&S.tm);
	for (int i = 0; i < n; i++) {
		struct node *x = &S.nodes[i];

		uint8_t seed[32];

		/* a real Ed25519 key pair from the seed: statements are signed
		 * and verified as in the daemon */
		for (int b = 0; b < 32; b++)
			seed[b] = (uint8_t)rnd64();
		crypto_sign_seed_keypair(x->id, x->sk, seed);
		id_index_add(x->id, i);
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

void start_all(void)
{
	for (int i = 0; i < S.n; i++) {
		node_start(i);
		run_until(S.now + rnd_below(20));
	}
}

void reset(void)
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
	free(S.ver_slot);
	memset(&S, 0, sizeof(S));
	byz_reset();
	memset(id_index, 0, sizeof(id_index));
}
