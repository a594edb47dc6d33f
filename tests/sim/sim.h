/* The gossip simulator's shared model: the simulated nodes, the seeded
 * network and its event heap, the global run state S, and the entry points
 * each part offers the others. engine.c runs the network and the nodes,
 * checks.c holds the invariants, scenarios.c the scripted runs, bench.c and
 * bench_dead.c the measurements, main.c the command line. Nothing here
 * belongs to the daemon: the real gossip core and name table are linked in
 * (the bench build swaps the table for fake_table.c).
 */
#ifndef GLUED_TESTS_SIM_H
#define GLUED_TESTS_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/gossip.h"
#include "core/table.h"

#define MAX_NODES 1024
#define K_MAX 64	       /* record slots per node */
#define NODE_UNKNOWN (1 << 20) /* node_of_id(): not a simulated node */
#define DEAD_TRACK 64	       /* nodes whose views of each other are timed */

struct rec {
	bool live;
	uint32_t ver; /* global version: encoded in the record's address */
};

struct node {
	bool up, paused, ever;
	int group;
	uint32_t restarts;
	uint8_t id[GOSSIP_ID_LEN]; /* its Ed25519 public key */
	uint8_t sk[64];
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
	bool unverified;      /* sealed as a HELLO (cluster key only) */
	const uint8_t *as_id; /* the sender ID it claims, if not its own (unverified only) */
};

struct sim_state {
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
	int byz;	       /* the Byzantine node, or -1 (0 after reset: set by setup) */
	bool check_byz;	       /* no honest record may change or vanish (byzantine.c) */
	uint64_t byz_injected; /* forged or replayed datagrams sent */
	double byz_kbs;	       /* honest KB/s per node during the attack */
	uint64_t dead_since[DEAD_TRACK][DEAD_TRACK]; /* [x][y]: x holds y dead since; 0 = not */
	uint64_t dead_longest; /* longest false death seen by check_dead_bound() */
	uint32_t *ver_slot;    /* version -> (node * k + slot) + 1 that published it */
	int failures;
	uint64_t seed;
	const char *scenario;
	struct gossip_timing tm;
	uint64_t pkts;
	uint64_t tx_by_type[16]; /* bytes sent by message type; [0]: headers + sealing */
};
extern struct sim_state S;

/* Entry observer context on every node's table (checks.c). */
struct obs_ctx {
	int node;
};
extern struct obs_ctx obs_ctx[MAX_NODES];
extern uint64_t rs[2];

struct scenario {
	const char *name;
	void (*fn)(void);
};

uint64_t rnd64(void);
uint32_t rnd_below(uint32_t n);
bool chance(double p);
uint32_t core_rng(void *ctx);
void fail(const char *fmt, ...);
void push(struct ev *e);
struct ev *pop(void);
int node_of_ep(const struct glued_endpoint *e);
void owner_of(char *buf, int node, int k);
bool parse_owner(const char *o, int *node, int *k);
int node_of_origin(struct node *x, uint32_t origin, bool *alive);
void schedule(int i);
void send_one(int from, const struct gossip_out *o);
void drain(int i);
void node_start(int i);
void end_version(uint32_t v);
void node_stop(int i, bool graceful);
void op_put(int i, int k);
void op_del(int i, int k);
void run_until(uint64_t t);
bool active(int i);
void setup(int n, int k);
void start_all(void);
void reset(void);
int node_of_id(const uint8_t *id);
void byz_reset(void);
void byz_capture(const struct ev *e);
void byz_step(int b);
void sim_sign(void *ctx, uint8_t sig[64], const uint8_t *msg, size_t len);
void on_table(void *ctx, uint32_t origin, const char *owner);
int count_remote(void *ctx, const struct table_entry *e);
void dump_view(int xi, int y);
bool converged_at(int xi, bool report);
bool converged(bool report);
bool await_convergence(uint64_t bound_ms, const char *what);
void check_withdrawn(int y, const char *why);
uint64_t detect_bound(void);
void check_versions_monotonic(void);
void check_dead_bound(int except);
void random_ops(int count);
void churn(uint64_t ms, int ops);
void heal(void);
int run_one(uint64_t seed, int n, const struct scenario *sc, bool n_fixed);
void pick(uint64_t seed, int *n, const struct scenario **sc);
const struct scenario *find_scenario(const char *name);
size_t entries_of(int i);
int cmp_u64(const void *a, const void *b);
void bench_one(int n, double loss);
void bench_bytes(const char *what, uint64_t since[16], double secs);
int bench_dead(const char *sizes_csv, uint64_t first, uint64_t seeds);

#endif
