/* Invariants of the simulation, checked as a run goes: no resurrected
 * record, no version going backwards (the table observer on every node),
 * convergence, withdrawal of dead nodes within the failure-detection bound.
 * docs/protocol.md, "Simulation", lists them.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "sim.h"

/* Entry observer on every node's table: resurrection and monotonicity. */
struct obs_ctx obs_ctx[MAX_NODES];

static void check_shown(struct node *x, int xi, uint32_t origin, int y, int k, bool learned)
{
	char owner[TABLE_OWNER_MAX + 1];
	const struct table_entry *e;
	size_t slot = (size_t)y * S.k + k;

	owner_of(owner, y, k);
	e = table_get(x->t, origin, owner);
	if (!e) {
		/* with a Byzantine member about: a record still current at its
		 * origin (which is up) never leaves another node's table, but for
		 * a withdrawal (a false death: check_dead_bound() bounds it) */
		if (S.check_byz && learned && y != S.byz && x->shown[slot] &&
		    !S.ver_end[x->shown[slot]] && S.nodes[y].up && !S.nodes[y].paused)
			fail("node %d lost %d/%d version %u, still current at its origin", xi, y, k,
			     x->shown[slot]);
		/* a deletion (not a withdrawal) means x learned the version it showed ended */
		if (learned && x->floor[slot] < x->shown[slot])
			x->floor[slot] = x->shown[slot];
		return;
	}
	{
		const uint8_t *b = e->addrs[0].b;
		uint32_t v = (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];

		if (v >= S.next_ver || S.ver_slot[v] != (uint32_t)slot + 1 || e->n_names != 2 ||
		    e->n_addrs != 1 || e->addrs[0].b[0] != 172) {
			fail("node %d shows a record of %d/%d its origin never published (version "
			     "%u)",
			     xi, y, k, v);
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

void on_table(void *ctx, uint32_t origin, const char *owner)
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

struct count_ctx {
	size_t remote;
	int bad_node;
};

int count_remote(void *ctx, const struct table_entry *e)
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

void dump_view(int xi, int y)
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
		if (node_of_id(info[j].id) != y)
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
	fprintf(stderr,
		"  node %d amplification: limited %" PRIu64 " challenges %" PRIu64
		" validated %" PRIu64 " syncs from unproven %" PRIu64 "\n",
		xi, st.amp_limited, st.amp_challenges, st.amp_validated, st.syncs_unproven);
	if (S.nodes[y].up) {
		gossip_get_stats(S.nodes[y].g, &st);
		fprintf(stderr,
			"  node %d amplification: limited %" PRIu64 " challenges %" PRIu64
			" validated %" PRIu64 " syncs from unproven %" PRIu64 "\n",
			y, st.amp_limited, st.amp_challenges, st.amp_validated, st.syncs_unproven);
	}
}

/* converged_at's report: the remote records x holds that no active node
 * has live under that origin (stale, or of a node gone). */
struct extra_ctx {
	int xi, shown;
	const uint32_t *origin;
};

static int show_extra(void *ctx, const struct table_entry *e)
{
	struct extra_ctx *c = ctx;
	int y, k;

	if (e->origin == 0)
		return 0;
	if (parse_owner(e->owner, &y, &k) && y < S.n && active(y) && c->origin[y] == e->origin &&
	    S.nodes[y].recs[k].live)
		return 0;
	fprintf(stderr, "  node %d holds %s (origin %u) that no active node has live\n", c->xi,
		e->owner, e->origin);
	if (parse_owner(e->owner, &y, &k) && y < S.n)
		dump_view(c->xi, y);
	return ++c->shown >= 3;
}

/* Does node x hold exactly the live records of every other active node? */
bool converged_at(int xi, bool report)
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
		int y = node_of_id(info[j].id);

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
		if (report) {
			struct extra_ctx ec = {xi, 0, origin};

			fail("node %d holds %zu remote records, want %zu", xi, c.remote, want);
			table_foreach_entry(x->t, show_extra, &ec);
		}
		return false;
	}
	return true;
}

bool converged(bool report)
{
	for (int i = 0; i < S.n; i++)
		if (active(i) && !converged_at(i, report))
			return false;
	return true;
}

/* Run until converged or the bound passes; true if converged. */
bool await_convergence(uint64_t bound_ms, const char *what)
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
void check_withdrawn(int y, const char *why)
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

/* Worst-case failure detection: a full probe cycle, the probe, the
 * longest suspicion (no confirmations) and dissemination. */
uint64_t detect_bound(void)
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

void check_versions_monotonic(void)
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
			int y = node_of_id(info[j].id);

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

/* No active node holds another active node (but `except`) dead for longer
 * than the failure-detection bound: what a member that accuses falsely can
 * achieve against a node that refutes. */
void check_dead_bound(int except)
{
	for (int x = 0; x < S.n && x < DEAD_TRACK; x++) {
		for (int y = 0; y < S.n && y < DEAD_TRACK; y++) {
			uint64_t since = S.dead_since[x][y], d;

			if (!since || x == except || y == except || !active(x) || !active(y))
				continue;
			d = S.now - since;
			if (d > S.dead_longest)
				S.dead_longest = d;
			if (d > detect_bound()) {
				fail("node %d has held live node %d dead for %" PRIu64
				     " ms (bound %" PRIu64 ")",
				     x, y, d, detect_bound());
				S.dead_since[x][y] = 0; /* once */
			}
		}
	}
}
