/* The control API server (see ctl.h): the unix socket, the routing and the
 * JSON documents. HTTP comes from io/http, whose handlers run on the loop
 * thread (see http.c for why), so the renderers read the table, the DNS
 * server and the forwarder directly, with no lock and no copy.
 * It never mutates a part: every endpoint is a read.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/dns_answer.h"
#include "core/dns_wire.h"
#include "io/bpf_names.h"
#include "io/counters.h"
#include "io/ctl.h"
#include "io/fastpath.h"
#include "io/http.h"
#include "lib/clock.h"
#include "lib/log.h"

#define CTL_BACKLOG 64
#define CTL_ATTACH_MAX 32
#define CTL_MEMBERS_MAX 1024

/* --- JSON helpers ------------------------------------------------------------------------ */

static void set_u64(json_t *o, const char *k, uint64_t v)
{
	json_object_set_new(o, k, json_integer((json_int_t)v));
}

static void set_str(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, v ? json_string(v) : json_null());
}

static json_t *addr_json(const struct glued_addr *a)
{
	char buf[ADDR_STRLEN];

	return json_string(addr_str(a, buf, sizeof(buf)));
}

static json_t *endpoint_json(const struct glued_endpoint *e)
{
	char buf[ENDPOINT_STRLEN];

	return json_string(endpoint_str(e, buf, sizeof(buf)));
}

static char *dump(json_t *root)
{
	char *s;

	if (!root)
		return NULL;
	s = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	return s;
}

static const char *node_of(const struct ctl_parts *p, uint32_t origin)
{
	const char *id = NULL;

	if (p->gossip && p->gossip->origin_node)
		id = p->gossip->origin_node(p->gossip->ctx, origin);
	if (!id && origin == 0)
		id = "local";
	return id;
}

/* A container owner is 64 hex digits (the full container ID). */
static bool owner_is_container(const char *owner)
{
	size_t n = strspn(owner, "0123456789abcdef");

	return n == 64 && owner[n] == '\0';
}

/* --- /v1/status ------------------------------------------------------------------------ */

/* Which secret guards the cluster and what that means (docs/security.md,
 * "Who can do what"); never the secret itself. */
static void cluster_secret_json(json_t *cl, const struct glued_config *cfg)
{
	const char *ptr[CONFIG_SECRETS_MAX];
	size_t len[CONFIG_SECRETS_MAX];

	set_str(cl, "secret", cfg->cluster_secret_default ? "default" : "configured");
	set_u64(cl, "secrets", config_secrets(cfg->cluster_secret, ptr, len));
	set_str(cl, "scope",
		cfg->cluster_secret_default
		    ? "open to directly connected subnets: anyone there can join, read every "
		      "name and publish its own; set GLUED_CLUSTER_SECRET for a closed cluster"
		    : "closed: only nodes with a listed secret can join");
}

/* The container fast path: on or off and why, how many containers are
 * served in their netns, how many fell back and why, and each of them. */
static void container_json(void *ctx, const struct ctr_fast_view *v)
{
	json_t *e = json_object();
	char id[13];

	snprintf(id, sizeof(id), "%.12s", v->id);
	set_str(e, "id", id);
	set_str(e, "state", ctr_why_name(v->why));
	if (v->why == CTR_WHY_NONE) {
		set_str(e, "mode", v->mode == CTR_MODE_TCX ? "tcx" : "clsact");
		json_object_set_new(e, "adopted", json_boolean(v->adopted));
	}
	if (v->err)
		set_str(e, "error", glued_strerror(v->err));
	json_array_append_new(ctx, e);
}

static json_t *containers_json(const struct ctl_fastpath *fp)
{
	struct ctr_fast_stats st;
	json_t *o = json_object(), *list = json_array(), *by = json_object();
	const char *off;

	memset(&st, 0, sizeof(st));
	if (!fp || !fp->containers) {
		set_str(o, "state", "off (no kernel fast path)");
		json_object_set_new(o, "list", list);
		json_decref(by);
		return o;
	}
	fp->containers(fp->ctx, &st, container_json, list);
	off = fp->containers_why_off ? fp->containers_why_off(fp->ctx) : "";
	set_str(o, "state", off[0] ? off : "on");
	set_u64(o, "served", st.served);
	set_u64(o, "fallback", st.fallback);
	set_u64(by, "pending", st.fallback_pending);
	set_u64(by, "off", st.fallback_off);
	set_u64(by, "no_sandbox", st.fallback_no_sandbox);
	set_u64(by, "netns", st.fallback_netns);
	set_u64(by, "sysctl", st.fallback_sysctl);
	set_u64(by, "attach", st.fallback_attach);
	set_u64(by, "localnet_reset", st.fallback_localnet_reset);
	json_object_set_new(o, "fallback_by", by);
	json_object_set_new(o, "list", list);
	return o;
}

static json_t *fastpath_json(const struct ctl_parts *p)
{
	const struct ctl_fastpath *fp = p->fastpath;
	struct ctl_attach at[CTL_ATTACH_MAX];
	json_t *o = json_object(), *a = json_array();
	size_t n = 0;

	if (!fp) {
		set_str(o, "state",
			p->cfg->xdp == CONFIG_XDP_OFF ? "off (GLUED_XDP=off)"
						      : "absent (not in this build)");
	} else {
		set_str(o, "state", fp->state ? fp->state(fp->ctx) : "active");
		if (fp->attach_points)
			n = fp->attach_points(fp->ctx, at, CTL_ATTACH_MAX);
	}
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_object();
		set_str(e, "ifname", at[i].ifname);
		set_str(e, "hook", at[i].hook);
		set_str(e, "mode", at[i].mode);
		json_object_set_new(e, "adopted", json_boolean(at[i].adopted));
		json_array_append_new(a, e);
	}
	json_object_set_new(o, "attach", a);
	json_object_set_new(o, "containers", containers_json(fp));
	return o;
}

/* Response rate limiting (docs/security.md): the settings, and what it did
 * in userspace (slipped, dropped, buckets evicted) and in the kernel
 * (answers passed up to userspace as over the rate; null without a fast
 * path). `exempt` counts GLUED_RRL_EXEMPT's prefixes; the watched subnets
 * are exempt besides. */
static json_t *rrl_json(const struct ctl_parts *p)
{
	const struct glued_config *c = p->cfg;
	const struct ctl_fastpath *fp = p->fastpath;
	struct dns_server_stats st;
	uint64_t k[GLUED_STAT_MAX];
	json_t *o = json_object();

	memset(&st, 0, sizeof(st));
	if (p->dns)
		dns_server_get_stats(p->dns, &st);
	set_u64(o, "rate", c->rrl_rate);
	set_u64(o, "slip", c->rrl_slip);
	set_u64(o, "prefix4", c->rrl_prefix4);
	set_u64(o, "prefix6", c->rrl_prefix6);
	set_u64(o, "exempt", c->n_rrl_exempt);
	set_u64(o, "slipped", st.rrl_slipped);
	set_u64(o, "dropped", st.rrl_dropped);
	set_u64(o, "evicted", st.rrl_evicted);
	if (fp && fp->counters && fp->counters(fp->ctx, k) == 0)
		set_u64(o, "kernel_rate_limited", k[GLUED_STAT_rate_limited]);
	else
		json_object_set_new(o, "kernel_rate_limited", json_null());
	return o;
}

static json_t *upstreams_json(const struct ctl_parts *p)
{
	struct forwarder_upstream ups[FWD_UPSTREAMS_MAX];
	size_t n = forwarder_get_upstreams(p->fwd, ups, FWD_UPSTREAMS_MAX);
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *e = json_object();
		json_object_set_new(e, "address", endpoint_json(&ups[i].ep));
		set_str(e, "state", ups[i].disabled ? "disabled" : "enabled");
		set_str(e, "reason", ups[i].disabled ? "loops back to glued" : "");
		json_array_append_new(a, e);
	}
	return a;
}

static json_t *docker_json(const struct ctl_parts *p, uint64_t now)
{
	struct sources_docker_state ds;
	json_t *o = json_object(), *subnets = json_array(), *net = json_object();
	char api[32], buf[ADDR_STRLEN + 8];

	sources_get_docker(p->sources, &ds);
	set_str(o, "socket", p->cfg->docker_socket);
	json_object_set_new(o, "connected", json_boolean(ds.stats.connected));
	snprintf(api, sizeof(api), "%u.%u", ds.api_major, ds.api_minor);
	set_str(o, "api", ds.stats.connected && ds.api_major ? api : NULL);
	set_str(o, "reason", ds.reason);
	if (ds.since_ms)
		set_u64(o, "since_s", (now - ds.since_ms) / 1000);
	else
		json_object_set_new(o, "since_s", json_null());
	set_u64(o, "containers", ds.stats.published);
	set_u64(o, "events", ds.stats.events);
	set_u64(o, "reconnects", ds.stats.reconnects);

	set_str(net, "name", p->cfg->network_name);
	set_str(net, "id", ds.network.id[0] ? ds.network.id : NULL);
	set_str(net, "bridge", ds.network.bridge[0] ? ds.network.bridge : NULL);
	for (size_t i = 0; i < ds.network.n_subnets; i++) {
		const struct glued_cidr *c = &ds.network.subnets[i].cidr;
		size_t l;
		addr_str(&c->addr, buf, sizeof(buf));
		l = strlen(buf);
		snprintf(buf + l, sizeof(buf) - l, "/%u", c->prefix);
		json_array_append_new(subnets, json_string(buf));
	}
	json_object_set_new(net, "subnets", subnets);
	json_object_set_new(o, "network", net);
	return o;
}

char *ctl_render_status(const struct ctl_parts *p)
{
	json_t *o = json_object(), *t = json_object(), *cl;
	uint64_t now = clock_now_ms();
	struct table_stats ts;
	const char *from = "";
	struct glued_endpoint ups[CONFIG_UPSTREAMS_MAX];
	struct tm tm;
	time_t start = (time_t)p->start_unix_s;
	char when[32];

	set_str(o, "version", GLUED_VERSION);
	set_str(o, "git_rev", GLUED_GIT_REV);
	set_str(o, "node_id", p->gossip ? p->gossip->node_id(p->gossip->ctx) : NULL);
	set_u64(o, "pid", (uint64_t)getpid());
	set_u64(o, "uptime_s", (now - p->start_ms) / 1000);
	gmtime_r(&start, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	set_str(o, "started_at", when);
	json_object_set_new(o, "dns_bind", endpoint_json(&p->cfg->dns_bind));
	if (p->dns)
		set_str(o, "dns_receive", dns_server_rx_name(dns_server_rx_path(p->dns)));
	set_str(o, "ctl_socket", p->cfg->ctl_socket);
	json_object_set_new(o, "docker", docker_json(p, now));
	json_object_set_new(o, "fastpath", fastpath_json(p));
	json_object_set_new(o, "upstreams", upstreams_json(p));
	(void)sources_get_upstreams(p->sources, ups, CONFIG_UPSTREAMS_MAX, &from);
	set_str(o, "upstreams_from", from);
	json_object_set_new(o, "rrl", rrl_json(p));

	table_get_stats(p->table, &ts);
	set_u64(t, "entries", ts.entries);
	set_u64(t, "names", ts.names);
	set_u64(t, "records", ts.records);
	json_object_set_new(o, "table", t);

	if (p->gossip) {
		struct ctl_member *m = calloc(CTL_MEMBERS_MAX, sizeof(*m));
		size_t n = m ? p->gossip->members(p->gossip->ctx, m, CTL_MEMBERS_MAX) : 0,
		       alive = 0;
		for (size_t i = 0; i < n; i++)
			alive += strcmp(m[i].state, "alive") == 0;
		free(m);
		cl = json_object();
		set_u64(cl, "members", n);
		set_u64(cl, "alive", alive);
		cluster_secret_json(cl, p->cfg);
	} else {
		cl = json_null();
	}
	json_object_set_new(o, "cluster", cl);
	return dump(o);
}

/* --- /v1/names --------------------------------------------------------------------------- */

struct names_walk {
	const struct ctl_parts *p;
	json_t *list;
	uint64_t now;
};

/* Names and owners come from Docker and from peers: any bytes. Escaped
 * (\DDD for anything but printable ASCII) they always make a JSON string,
 * so none goes missing from the list, and none reaches a terminal raw. */
static int names_entry(void *ctx, const struct table_entry *e)
{
	struct names_walk *w = ctx;
	json_t *addrs = json_array();
	bool ctr = owner_is_container(e->owner);
	char short_id[13], name[DNS_LABEL_TEXT_MAX], owner[TABLE_OWNER_MAX * 4 + 1];

	for (size_t i = 0; i < e->n_addrs; i++)
		json_array_append_new(addrs, addr_json(&e->addrs[i]));
	snprintf(short_id, sizeof(short_id), "%.12s", e->owner);
	dns_label_to_text(e->owner, strlen(e->owner), owner, sizeof(owner));
	for (size_t i = 0; i < e->n_names; i++) {
		json_t *o = json_object();
		dns_label_to_text(e->names[i], strlen(e->names[i]), name, sizeof(name));
		set_str(o, "name", name);
		json_object_set(o, "addresses", addrs);
		set_u64(o, "origin", e->origin);
		set_str(o, "node", node_of(w->p, e->origin));
		set_str(o, "owner", owner);
		set_str(o, "container", ctr ? short_id : NULL);
		set_u64(o, "age_ms", w->now > e->updated_ms ? w->now - e->updated_ms : 0);
		json_array_append_new(w->list, o);
	}
	json_decref(addrs);
	return 0;
}

char *ctl_render_names(const struct ctl_parts *p)
{
	struct names_walk w = {.p = p, .list = json_array(), .now = clock_now_ms()};
	json_t *o = json_object();

	(void)table_foreach_entry(p->table, names_entry, &w);
	json_object_set_new(o, "names", w.list);
	return dump(o);
}

/* --- /v1/peers ------------------------------------------------------------------------------ */

char *ctl_render_peers(const struct ctl_parts *p)
{
	json_t *o = json_object(), *a = json_array();
	uint64_t now = clock_now_ms();

	json_object_set_new(o, "cluster", json_boolean(p->gossip != NULL));
	if (p->gossip) {
		struct ctl_member *m = calloc(CTL_MEMBERS_MAX, sizeof(*m));
		size_t n = m ? p->gossip->members(p->gossip->ctx, m, CTL_MEMBERS_MAX) : 0;
		for (size_t i = 0; i < n; i++) {
			json_t *e = json_object();
			set_str(e, "node_id", m[i].node_id);
			set_str(e, "state", m[i].state);
			set_u64(e, "incarnation", m[i].incarnation);
			json_object_set_new(e, "address", endpoint_json(&m[i].addr));
			if (m[i].last_contact_ms)
				set_u64(e, "last_contact_ms",
					now > m[i].last_contact_ms ? now - m[i].last_contact_ms
								   : 0);
			else
				json_object_set_new(e, "last_contact_ms", json_null());
			set_u64(e, "origin", m[i].origin);
			json_object_set_new(e, "self", json_boolean(m[i].self));
			json_array_append_new(a, e);
		}
		free(m);
	}
	json_object_set_new(o, "peers", a);
	return dump(o);
}

/* --- /v1/stats ------------------------------------------------------------------------------- */

void ctl_counters_snapshot(const struct ctl_parts *p, struct counters_snapshot *s)
{
	struct forwarder_upstream ups[FWD_UPSTREAMS_MAX];
	struct sources_docker_state dst;
	const struct ctl_fastpath *fp = p->fastpath;
	const struct ctl_gossip *g = p->gossip;

	memset(s, 0, sizeof(*s));
	s->version = GLUED_VERSION;
	s->git_rev = GLUED_GIT_REV;
	s->start_unix_s = p->start_unix_s;
	s->fastpath_active = fp && fp->state && strcmp(fp->state(fp->ctx), "active") == 0;
	dns_server_get_stats(p->dns, &s->dns);
	forwarder_get_stats(p->fwd, &s->fwd);
	s->upstreams = forwarder_get_upstreams(p->fwd, ups, FWD_UPSTREAMS_MAX);
	for (size_t i = 0; i < s->upstreams; i++)
		s->upstreams_disabled += ups[i].disabled;
	sources_get_docker(p->sources, &dst);
	s->docker = dst.stats;
	table_get_stats(p->table, &s->table);
	s->have_kernel = fp && fp->counters && fp->counters(fp->ctx, s->kernel) == 0;
	s->have_ctr_kernel =
	    fp && fp->ctr_counters && fp->ctr_counters(fp->ctx, s->ctr_kernel) == 0;
	if (fp && fp->containers)
		fp->containers(fp->ctx, &s->containers, NULL, NULL);
	if (g) {
		static const char *const states[COUNTERS_MEMBER_STATES] = {"alive", "suspect",
									   "dead", "left"};
		struct ctl_member *m = calloc(CTL_MEMBERS_MAX, sizeof(*m));
		size_t n = m ? g->members(g->ctx, m, CTL_MEMBERS_MAX) : 0;

		s->have_gossip = true;
		s->n_gossip = g->counters ? g->counters(g->ctx, s->gossip, COUNTERS_NAMED_MAX) : 0;
		for (size_t i = 0; i < n; i++)
			for (size_t st = 0; st < COUNTERS_MEMBER_STATES; st++)
				s->members[st] += strcmp(m[i].state, states[st]) == 0;
		free(m);
	}
}

char *ctl_render_counters(const struct ctl_parts *p,
			  char *(*render)(const struct counters_snapshot *s))
{
	struct counters_snapshot *s = malloc(sizeof(*s));
	char *out;

	if (!s)
		return NULL;
	ctl_counters_snapshot(p, s);
	out = render(s);
	free(s);
	return out;
}

/* --- /v1/lookup ------------------------------------------------------------------------------ */

/* Text name → wire name. 0 or GLUED_EMALF. */
static int name_to_wire(const char *name, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = strlen(name), o = 0, i = 0;

	if (n && name[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return GLUED_EMALF;
	while (i < n) {
		size_t l = 0;
		while (i + l < n && name[i + l] != '.')
			l++;
		if (l == 0 || l > 63 || o + 1 + l + 1 > cap)
			return GLUED_EMALF;
		out[o++] = (uint8_t)l;
		memcpy(out + o, name + i, l);
		o += l;
		i += l + 1;
	}
	out[o++] = 0;
	*len = o;
	return 0;
}

static size_t build_query(const uint8_t *qname, size_t qlen, uint16_t qtype, uint8_t *msg)
{
	static const uint8_t hdr[12] = {0x47, 0x4c, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};

	memcpy(msg, hdr, sizeof(hdr));
	memcpy(msg + 12, qname, qlen);
	msg[12 + qlen] = (uint8_t)(qtype >> 8);
	msg[13 + qlen] = (uint8_t)qtype;
	msg[14 + qlen] = 0;
	msg[15 + qlen] = 1; /* IN */
	return 16 + qlen;
}

struct owners_walk {
	const struct ctl_parts *p;
	const char *name;
	json_t *list;
};

static int owners_entry(void *ctx, const struct table_entry *e)
{
	struct owners_walk *w = ctx;

	for (size_t i = 0; i < e->n_names; i++) {
		if (strcasecmp(e->names[i], w->name) != 0)
			continue;
		json_t *o = json_object();
		set_u64(o, "origin", e->origin);
		set_str(o, "node", node_of(w->p, e->origin));
		set_str(o, "owner", e->owner);
		json_array_append_new(w->list, o);
		break;
	}
	return 0;
}

char *ctl_render_lookup(const struct ctl_parts *p, const char *name, unsigned *status)
{
	static const uint16_t types[] = {DNS_TYPE_A, DNS_TYPE_AAAA};
	struct dns_answer_cfg acfg = {.ttl_s = p->cfg->ttl_s};
	uint8_t qname[256], msg[512], out[1232];
	json_t *o = json_object(), *answers = json_array();
	size_t qlen, labels = 0, n;
	char lower[TABLE_NAME_MAX + 1], buf[16];
	int kmap = -1;
	bool single;

	*status = 200;
	if (!name || name_to_wire(name, qname, sizeof(qname), &qlen) != 0) {
		*status = 400;
		set_str(o, "error", "name: give a DNS name, e.g. ?name=web");
		return dump(o);
	}
	for (size_t i = 0; qname[i]; i += qname[i] + 1u)
		labels++;
	single = labels == 1;
	set_str(o, "name", name);
	set_str(o, "kind", single ? "single-label" : "multi-label");

	if (single && p->fastpath && p->fastpath->map_has) {
		n = qname[0];
		table_lower(lower, (const char *)qname + 1, n);
		kmap = p->fastpath->map_has(p->fastpath->ctx, lower, n);
	}
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		struct dns_answer_stats scratch = {0};
		struct dns_query q;
		size_t len = build_query(qname, qlen, types[t], msg), out_len = 0;
		enum dns_action act;
		json_t *a = json_object();

		set_str(a, "type", types[t] == DNS_TYPE_A ? "A" : "AAAA");
		act = dns_answer(&acfg, p->table, msg, len, 0, 0, &q, out, sizeof(out), &out_len,
				 &scratch);
		if (act == DNS_ACT_FORWARD) {
			set_str(a, "result", "forwarded");
			set_str(a, "path", "upstream");
		} else if (act == DNS_ACT_DROP || out_len < 12) {
			set_str(a, "result", "dropped");
			set_str(a, "path", "userspace");
		} else {
			unsigned rcode = out[3] & 0x0f;
			unsigned ancount = (unsigned)out[6] << 8 | out[7];
			char rl[16];
			const char *rn = counters_rcode_name(rcode, buf, sizeof(buf));

			set_str(a, "rcode", rn);
			if (rcode == DNS_RCODE_NOERROR && ancount && single) {
				struct table_answer ta;
				json_t *fam = json_array();
				if (table_lookup(p->table, (const char *)qname + 1, qname[0],
						 &ta)) {
					const struct glued_addr *v =
					    types[t] == DNS_TYPE_A ? ta.v4 : ta.v6;
					size_t nv = types[t] == DNS_TYPE_A ? ta.n_v4 : ta.n_v6;
					for (size_t i = 0; i < nv; i++)
						json_array_append_new(fam, addr_json(&v[i]));
				}
				json_object_set_new(a, "addresses", fam);
			}
			if (rcode == DNS_RCODE_NOERROR)
				set_str(a, "result", ancount ? "answered" : "nodata");
			else {
				size_t i;
				for (i = 0; rn[i] && i < sizeof(rl) - 1; i++)
					rl[i] = (char)(rn[i] | 0x20);
				rl[i] = '\0';
				set_str(a, "result", rl);
			}
			/* The kernel answers what its map holds (answered and
			 * nodata) for queries reaching an attach point; the rest
			 * passes up to userspace with the same answer. */
			set_str(a, "path",
				kmap == 1 && rcode == DNS_RCODE_NOERROR ? "kernel" : "userspace");
		}
		json_array_append_new(answers, a);
	}
	json_object_set_new(o, "answers", answers);

	if (single) {
		struct table_answer ans;
		json_t *addrs = json_array();
		struct owners_walk w = {.p = p, .list = json_array()};
		bool known = table_lookup(p->table, (const char *)qname + 1, qname[0], &ans);

		if (known) {
			for (size_t i = 0; i < ans.n_v4; i++)
				json_array_append_new(addrs, addr_json(&ans.v4[i]));
			for (size_t i = 0; i < ans.n_v6; i++)
				json_array_append_new(addrs, addr_json(&ans.v6[i]));
		}
		json_object_set_new(o, "in_table", json_boolean(known));
		json_object_set_new(o, "addresses", addrs);
		n = qname[0];
		table_lower(lower, (const char *)qname + 1, n);
		lower[n] = '\0';
		w.name = lower;
		(void)table_foreach_entry(p->table, owners_entry, &w);
		json_object_set_new(o, "records", w.list);
	}
	if (!p->fastpath || kmap == -ENODEV)
		set_str(o, "kernel_map", "no fast path");
	else if (!single)
		set_str(o, "kernel_map", "not applicable");
	else if (kmap < 0)
		set_str(o, "kernel_map", "error");
	else
		set_str(o, "kernel_map", kmap ? "present" : "absent");
	json_object_set_new(o, "upstreams", upstreams_json(p));
	return dump(o);
}

/* --- the fast path loader as a part ----------------------------------------------- */

/* Reads only, and only through the loader's API: fastpath_stats(),
 * fastpath_attach_points() (every hook it holds, pinned or not),
 * fastpath_map_has(). No pin is parsed here. */
struct ctl_fp_adapter {
	struct ctl_fastpath ops; /* first: the adapter is handed out as &ops */
	struct fastpath *fp;
	char state[sizeof("inactive: ") + 640];
};

static const char *fpa_state(void *ctx)
{
	struct ctl_fp_adapter *a = ctx;

	if (fastpath_active(a->fp))
		return "active";
	snprintf(a->state, sizeof(a->state), "inactive: %s", fastpath_why(a->fp));
	return a->state;
}

static int fpa_counters(void *ctx, uint64_t out[GLUED_STAT_MAX])
{
	struct ctl_fp_adapter *a = ctx;
	struct glued_stats st;
	int ret = fastpath_stats(a->fp, &st);

	if (ret)
		return ret;
	_Static_assert(sizeof(st) == GLUED_STAT_MAX * sizeof(uint64_t),
		       "glued_stats is a u64 array");
	memcpy(out, &st, sizeof(st));
	return 0;
}

static size_t fpa_attach_points(void *ctx, struct ctl_attach *out, size_t max)
{
	struct ctl_fp_adapter *a = ctx;
	struct fastpath_attach at[CTL_ATTACH_MAX];
	size_t n = fastpath_attach_points(a->fp, at, max < CTL_ATTACH_MAX ? max : CTL_ATTACH_MAX);

	for (size_t i = 0; i < n; i++) {
		snprintf(out[i].ifname, sizeof(out[i].ifname), "%s", at[i].ifname);
		snprintf(out[i].hook, sizeof(out[i].hook), "%s", at[i].hook);
		snprintf(out[i].mode, sizeof(out[i].mode), "%s", at[i].mode);
		out[i].adopted = at[i].adopted;
	}
	return n;
}

static int fpa_map_has(void *ctx, const char *name, size_t len)
{
	struct ctl_fp_adapter *a = ctx;

	return fastpath_map_has(a->fp, name, len);
}

static int fpa_ctr_counters(void *ctx, uint64_t out[GLUED_STAT_MAX])
{
	struct ctl_fp_adapter *a = ctx;
	struct glued_stats st;
	int ret = fastpath_ctr_stats(a->fp, &st);

	if (ret)
		return ret;
	memcpy(out, &st, sizeof(st));
	return 0;
}

static void fpa_containers(void *ctx, struct ctr_fast_stats *st,
			   void (*fn)(void *fctx, const struct ctr_fast_view *v), void *fctx)
{
	struct ctl_fp_adapter *a = ctx;

	fastpath_containers(a->fp, st, fn, fctx);
}

static const char *fpa_containers_why_off(void *ctx)
{
	struct ctl_fp_adapter *a = ctx;

	return fastpath_containers_why_off(a->fp);
}

struct ctl_fastpath *ctl_fastpath_adapter_new(struct fastpath *fp)
{
	struct ctl_fp_adapter *a;

	if (!fp || !(a = calloc(1, sizeof(*a))))
		return NULL;
	a->fp = fp;
	a->ops = (struct ctl_fastpath){.ctx = a,
				       .state = fpa_state,
				       .counters = fpa_counters,
				       .attach_points = fpa_attach_points,
				       .map_has = fpa_map_has,
				       .ctr_counters = fpa_ctr_counters,
				       .containers = fpa_containers,
				       .containers_why_off = fpa_containers_why_off};
	return &a->ops;
}

void ctl_fastpath_adapter_free(struct ctl_fastpath *ops)
{
	free((struct ctl_fp_adapter *)ops);
}

/* --- the server --------------------------------------------------------------------------- */

struct ctl {
	const struct ctl_parts *p;
	struct http *http;
	char path[CONFIG_SUN_PATH_MAX + 1];
};

static char *error_body(const char *msg)
{
	json_t *o = json_object();

	set_str(o, "error", msg);
	return dump(o);
}

static void ctl_serve(void *ctx, const struct http_req *req, struct http_resp *resp)
{
	struct ctl *c = ctx;
	const char *path = req->path;

	resp->status = 200;
	resp->content_type = "application/json";
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		resp->status = 405;
		resp->body = error_body("only GET");
	} else if (strcmp(path, "/v1/status") == 0) {
		resp->body = ctl_render_status(c->p);
	} else if (strcmp(path, "/v1/names") == 0) {
		resp->body = ctl_render_names(c->p);
	} else if (strcmp(path, "/v1/peers") == 0) {
		resp->body = ctl_render_peers(c->p);
	} else if (strcmp(path, "/v1/stats") == 0) {
		resp->body = ctl_render_counters(c->p, counters_render_json);
	} else if (strcmp(path, "/v1/lookup") == 0) {
		resp->body = ctl_render_lookup(c->p, http_arg(req, "name"), &resp->status);
	} else {
		resp->status = 404;
		resp->body = error_body("no such endpoint; try /v1/status, /v1/names, /v1/peers, "
					"/v1/stats, /v1/lookup?name=NAME");
	}
	if (resp->body) {
		/* One line per document: a newline for people using curl. */
		size_t n = strlen(resp->body);
		char *b = realloc(resp->body, n + 2);
		if (b) {
			b[n] = '\n';
			b[n + 1] = '\0';
			resp->body = b;
			n++;
		}
		resp->len = n;
	}
}

/* mkdir -p of the socket's parent directory (0755: the socket's own mode
 * is what restricts access). */
static int make_parent(const char *path)
{
	char dir[CONFIG_SUN_PATH_MAX + 1];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* A socket file left by a glued that died is replaced; one that answers
 * belongs to a live glued and is not touched. */
static int clear_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, ret;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (ret == 0)
		return -EADDRINUSE;
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

static int ctl_listen(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	ret = make_parent(path);
	if (ret)
		return ret;
	ret = clear_stale(path, &sa);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* bind, then chmod, then listen: nobody can connect before the mode
	 * is 0660, whatever the umask was. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto err_close;
	if (chmod(path, 0660) < 0 || listen(fd, CTL_BACKLOG) < 0)
		goto err_unlink;
	return fd;

err_unlink:
	ret = -errno;
	unlink(path);
	close(fd);
	return ret;
err_close:
	ret = -errno;
	close(fd);
	return ret;
}

int ctl_new(struct loop *l, const struct ctl_parts *parts, struct ctl **out)
{
	struct ctl *c = calloc(1, sizeof(*c));
	int fd;

	if (!c)
		return -ENOMEM;
	c->p = parts;
	snprintf(c->path, sizeof(c->path), "%s", parts->cfg->ctl_socket);
	fd = ctl_listen(c->path);
	if (fd < 0) {
		free(c);
		return fd;
	}
	c->http = http_new(l, fd, ctl_serve, c);
	if (!c->http) {
		int err = -errno;
		unlink(c->path);
		free(c);
		return err;
	}
	*out = c;
	return 0;
}

void ctl_free(struct ctl *c)
{
	if (!c)
		return;
	http_free(c->http);
	unlink(c->path);
	free(c);
}
