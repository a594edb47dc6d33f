/* The cluster as the control API and metrics see it: struct ctl_gossip
 * callbacks over the gossip edge (io/gossip.h) and its core. Read-only; it
 * runs on the loop thread like everything the control API calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gossip.h"
#include "io/ctl.h"
#include "io/gossip.h"
#include "io/identity.h"

struct ctl_gossip_adapter {
	struct ctl_gossip ops; /* first: the adapter is freed through it */
	struct gossip_edge *edge;
	char origin_hex[CONFIG_NODE_ID_HEX + 1];
};

static const char *node_id(void *ctx)
{
	struct ctl_gossip_adapter *a = ctx;

	return gossip_edge_node_id(a->edge);
}

static void fill_member(struct ctl_member *m, const struct gossip_member_info *mi)
{
	memset(m, 0, sizeof(*m));
	identity_hex(m->node_id, mi->id);
	snprintf(m->state, sizeof(m->state), "%s", gossip_state_str(mi->state));
	m->incarnation = mi->incarnation;
	m->addr = mi->addr;
	m->last_contact_ms = mi->last_contact_ms;
	m->origin = mi->origin;
}

static size_t members(void *ctx, struct ctl_member *out, size_t max)
{
	struct ctl_gossip_adapter *a = ctx;
	const struct gossip *g = gossip_edge_core(a->edge);
	struct gossip_member_info *mi;
	uint64_t epoch, seq;
	uint32_t inc;
	size_t n, total;

	if (max == 0)
		return 0;
	/* Self first. */
	memset(&out[0], 0, sizeof(out[0]));
	snprintf(out[0].node_id, sizeof(out[0].node_id), "%s", gossip_edge_node_id(a->edge));
	snprintf(out[0].state, sizeof(out[0].state), "alive");
	gossip_self(g, &epoch, &seq, &inc);
	out[0].incarnation = inc;
	out[0].self = true;
	out[0].addr = *gossip_edge_bind(a->edge);
	mi = calloc(max, sizeof(*mi));
	if (!mi)
		return 1;
	total = gossip_members(g, mi, max - 1);
	n = total < max - 1 ? total : max - 1;
	for (size_t i = 0; i < n; i++)
		fill_member(&out[1 + i], &mi[i]);
	free(mi);
	return 1 + n;
}

/* Every counter of the edge and the core, by name. */
#define GOSSIP_CTL_COUNTERS(X)                                                                     \
	X(rx_datagrams, "sealed datagrams received", rx_dgrams)                                    \
	X(tx_datagrams, "sealed datagrams sent", tx_dgrams)                                        \
	X(rx_bytes, "bytes received", rx_bytes)                                                    \
	X(tx_bytes, "bytes sent", tx_bytes)                                                        \
	X(auth_failed, "datagrams that did not open (wrong key, tampered)", rx_auth_failed)        \
	X(replayed, "datagrams rejected as replays", rx_replayed)                                  \
	X(envelope_bad, "datagrams too short or not ours", rx_envelope_bad)                        \
	X(core_rejected, "opened datagrams the protocol core refused", rx_core_rejected)           \
	X(not_local, "dropped: default secret and not from a directly connected subnet",           \
	  rx_not_local)                                                                            \
	X(socket_errors, "socket receive and send errors", rx_errors)                              \
	X(tx_queue_full, "datagrams dropped for want of a send slot", tx_queue_full)               \
	X(beacons_sent, "LAN beacons sent", beacons_sent)                                          \
	X(beacons_received, "LAN beacons received", beacons_rcvd)                                  \
	X(resolve_failures, "bootstrap host names that did not resolve", resolve_failures)         \
	X(resolver_lookups, "bootstrap host name lookups started (getaddrinfo, off the loop)",     \
	  resolver.lookups)                                                                        \
	X(resolver_resolved, "lookups answered with addresses", resolver.resolved)                 \
	X(resolver_not_found, "lookups answered without an address", resolver.not_found)           \
	X(resolver_timed_out, "lookups without an answer in time", resolver.timed_out)             \
	X(resolver_busy, "lookups refused: too many outstanding", resolver.busy)                   \
	X(malformed, "datagrams the codec rejected", core.rx_malformed)                            \
	X(rate_limited, "datagrams over the per-source rate", core.rx_rate_limited)                \
	X(probes, "SWIM probes sent", core.probes)                                                 \
	X(probes_failed, "SWIM probes without an ack", core.probe_failed)                          \
	X(suspicions, "members suspected", core.suspicions)                                        \
	X(refutations, "suspicions refuted", core.refutations)                                     \
	X(deaths, "members declared dead", core.deaths)                                            \
	X(leaves, "members that left cleanly", core.leaves)                                        \
	X(rejoins, "rejoin attempts", core.rejoins)                                                \
	X(deltas_sent, "record deltas sent", core.deltas_sent)                                     \
	X(deltas_applied, "record deltas applied", core.deltas_applied)                            \
	X(deltas_stale, "record deltas older than what we hold", core.deltas_stale)                \
	X(push_pulls, "anti-entropy exchanges", core.push_pulls)                                   \
	X(syncs_completed, "snapshot syncs completed", core.syncs_completed)                       \
	X(syncs_timed_out, "snapshot syncs timed out", core.syncs_timed_out)                       \
	X(epoch_replaced, "origins replaced wholesale after a restart", core.epoch_replaced)       \
	X(records_limited, "records refused by a bound", core.records_limited)                     \
	X(statements_signed, "own statements signed (Ed25519)", core.stmts_signed)                 \
	X(statements_verified, "signatures checked", core.stmts_verified)                          \
	X(statements_cached, "statements already known verified", core.stmts_cached)               \
	X(statements_bad, "claims dropped: bad signature or Merkle path", core.stmts_bad)          \
	X(claims_refused, "accusations above the version held, or about ourselves",                \
	  core.claims_refused)                                                                     \
	X(unverified, "datagrams whose sender the envelope did not prove", core.rx_unverified)     \
	X(amp_limited, "datagrams not sent: over an unproven address's 3x budget",                 \
	  core.amp_limited)                                                                        \
	X(addr_challenges, "cookie PINGs sent to unproven addresses", core.amp_challenges)         \
	X(addr_challenges_free, "of which free, over the budget (backing off)",                    \
	  core.amp_challenges_free)                                                                \
	X(addr_validated, "addresses that echoed a cookie", core.amp_validated)                    \
	X(syncs_unproven, "sync requests from unproven addresses, not served", core.syncs_unproven) \
	X(syncs_renewed, "sync requests sent again behind the ACK of a challenge", core.syncs_renewed)

static size_t counters(void *ctx, struct counter_value *out, size_t max)
{
	struct ctl_gossip_adapter *a = ctx;
	struct gossip_edge_stats st;
	size_t n = 0;

	gossip_edge_get_stats(a->edge, &st);
#define X(name_, help_, field_)                                                                    \
	if (n < max)                                                                               \
		out[n++] =                                                                         \
		    (struct counter_value){.name = #name_, .help = help_, .value = st.field_};
	GOSSIP_CTL_COUNTERS(X)
#undef X
	return n;
}

static const char *origin_node(void *ctx, uint32_t origin)
{
	struct ctl_gossip_adapter *a = ctx;
	const struct gossip *g = gossip_edge_core(a->edge);
	struct gossip_member_info mi[GOSSIP_MEMBERS_MAX > 64 ? 64 : GOSSIP_MEMBERS_MAX];
	size_t total, n;

	if (origin == 0)
		return gossip_edge_node_id(a->edge);
	/* Members are few; a linear pass in chunks would need an offset API,
	 * so look at the first 64 and give up beyond (the field is informative). */
	total = gossip_members(g, mi, sizeof(mi) / sizeof(mi[0]));
	n = total < sizeof(mi) / sizeof(mi[0]) ? total : sizeof(mi) / sizeof(mi[0]);
	for (size_t i = 0; i < n; i++) {
		if (mi[i].origin == origin) {
			identity_hex(a->origin_hex, mi[i].id);
			return a->origin_hex;
		}
	}
	return NULL;
}

struct ctl_gossip *ctl_gossip_adapter_new(struct gossip_edge *e)
{
	struct ctl_gossip_adapter *a;

	if (!e)
		return NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->edge = e;
	a->ops = (struct ctl_gossip){
	    .ctx = a,
	    .node_id = node_id,
	    .members = members,
	    .counters = counters,
	    .origin_node = origin_node,
	};
	return &a->ops;
}

void ctl_gossip_adapter_free(struct ctl_gossip *ops)
{
	free(ops);
}
