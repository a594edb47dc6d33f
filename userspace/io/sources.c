/* Local record sources and upstreams, wired to the table, the DNS server's
 * allow list and the forwarder; see sources.h.
 */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/access.h"
#include "core/hosts.h"
#include "core/resolv.h"
#include "io/docker.h"
#include "io/fastpath.h"
#include "io/file_watch.h"
#include "io/sources.h"
#include "lib/clock.h"
#include "lib/log.h"

#define RESOLV_CONF "/etc/resolv.conf"
#define RESOLVED_CONF "/run/systemd/resolve/resolv.conf"
#define WATCH_PERIOD_MS 1000
#define PODMAN_SOCKET "/run/podman/podman.sock" /* rootful podman.socket */

struct sources {
	struct loop *loop;
	const struct glued_config *cfg;
	struct table *table;
	struct dns_server *dns;
	struct forwarder *fwd;

	/* hosts file: the addresses published by the last successful read */
	struct file_watch hosts_watch;
	struct glued_addr *hosts_addrs;
	size_t n_hosts_addrs;

	/* upstreams from resolv.conf (unless GLUED_UPSTREAMS is set) */
	struct file_watch resolv_watch;
	bool resolv_via_resolved;
	struct glued_endpoint upstreams[CONFIG_UPSTREAMS_MAX];
	size_t n_upstreams;
	bool upstreams_known;

	/* Docker */
	struct docker_watch *docker;
	struct loop_op docker_op;
	struct docker_network network;
	struct fastpath *fastpath;		  /* NULL: none; told the bridge and when synced */
	struct sources_docker_state docker_state; /* for sources_get_docker() */
	char upstreams_from[CONFIG_PATH_MAX + 1];
};

/* --- allow list -------------------------------------------------------------- */

/* The configured lists (GLUED_ALLOW, GLUED_RRL_EXEMPT or their defaults)
 * plus, always, the watched network's subnets: its containers must be
 * able to resolve everything, whatever else the operator restricts, and
 * at their rate (they cannot be spoofed from outside the host). */
static void push_allow(struct sources *s)
{
	struct glued_cidr allow[DNS_SERVER_ALLOW_MAX], exempt[DNS_SERVER_ALLOW_MAX];
	size_t n = 0, n_ex = 0;

	for (size_t i = 0; i < s->cfg->n_allow && n < DNS_SERVER_ALLOW_MAX; i++)
		allow[n++] = s->cfg->allow[i];
	for (size_t i = 0; i < s->cfg->n_rrl_exempt && n_ex < DNS_SERVER_ALLOW_MAX; i++)
		exempt[n_ex++] = s->cfg->rrl_exempt[i];
	for (size_t i = 0; i < s->network.n_subnets; i++) {
		if (n < DNS_SERVER_ALLOW_MAX)
			allow[n++] = s->network.subnets[i].cidr;
		if (n_ex < DNS_SERVER_ALLOW_MAX)
			exempt[n_ex++] = s->network.subnets[i].cidr;
	}
	if (dns_server_set_allow(s->dns, allow, n, exempt, n_ex) != 0)
		log_warnx("dns: allow list: more than %d distinct prefixes in GLUED_ALLOW, "
			  "GLUED_RRL_EXEMPT and the watched subnets: nobody gets answers",
			  ACCESS_RULES_MAX);
	if (s->fastpath)
		fastpath_set_allow(s->fastpath, allow, n, exempt, n_ex);
}

/* --- hosts file ---------------------------------------------------------------- */

static bool entry_same(const struct table_entry *a, const struct table_entry *b)
{
	if (a->n_names != b->n_names || a->n_addrs != b->n_addrs)
		return false;
	for (size_t i = 0; i < a->n_names; i++)
		if (strcmp(a->names[i], b->names[i]) != 0)
			return false;
	return memcmp(a->addrs, b->addrs, a->n_addrs * sizeof(a->addrs[0])) == 0;
}

static void hosts_del(struct sources *s, const struct glued_addr *a)
{
	char owner[TABLE_OWNER_MAX + 1], txt[ADDR_STRLEN];

	snprintf(owner, sizeof(owner), "hosts:%s", addr_str(a, txt, sizeof(txt)));
	(void)table_del(s->table, 0, owner);
}

static void hosts_withdraw_all(struct sources *s)
{
	for (size_t i = 0; i < s->n_hosts_addrs; i++)
		hosts_del(s, &s->hosts_addrs[i]);
	free(s->hosts_addrs);
	s->hosts_addrs = NULL;
	s->n_hosts_addrs = 0;
}

static void hosts_changed(void *ctx, const char *path, const char *text, size_t len, int err)
{
	struct sources *s = ctx;
	struct hosts_result r = {0};
	struct glued_addr *addrs;
	struct table_entry e;
	size_t published = 0;
	int ret;

	if (!text) {
		log_warnx("hosts: %s: %s; withdrawing its %zu entries", path, glued_strerror(err),
			  s->n_hosts_addrs);
		hosts_withdraw_all(s);
		return;
	}
	ret = hosts_parse(text, len, &r);
	if (ret) {
		log_warnx("hosts: %s: %s; keeping the previous records", path, glued_strerror(ret));
		hosts_result_free(&r);
		return;
	}
	for (size_t i = 0; i < r.n_problems; i++)
		log_warnx("hosts: %s:%u: %s; line skipped", path, r.problems[i].line,
			  r.problems[i].reason);
	if (r.n_problems_dropped)
		log_warnx("hosts: %s: %zu more bad lines skipped", path, r.n_problems_dropped);
	addrs = calloc(r.n_entries ? r.n_entries : 1, sizeof(*addrs));
	if (!addrs) {
		log_warnx("hosts: %s: out of memory; keeping the previous records", path);
		hosts_result_free(&r);
		return;
	}
	for (size_t i = 0; i < r.n_entries; i++) {
		const struct table_entry *old;

		hosts_result_entry(&r, i, &e);
		addrs[i] = r.addrs[i].addr;
		old = table_get(s->table, 0, e.owner);
		if (old && entry_same(old, &e)) {
			published++;
			continue;
		}
		e.updated_ms = clock_now_ms();
		ret = table_put(s->table, &e);
		if (ret)
			log_warnx("hosts: %s: publish %s: %s", path, e.owner, glued_strerror(ret));
		else
			published++;
	}
	/* Withdraw what the file no longer says. */
	for (size_t i = 0; i < s->n_hosts_addrs; i++)
		if (!hosts_result_has(&r, &s->hosts_addrs[i]))
			hosts_del(s, &s->hosts_addrs[i]);
	free(s->hosts_addrs);
	s->hosts_addrs = addrs;
	s->n_hosts_addrs = r.n_entries;
	log_info("hosts: %s: %zu addresses published, %zu lines skipped", path, published,
		 r.n_problems + r.n_problems_dropped);
	hosts_result_free(&r);
	/* A large file's parse is transient: give its pages back now. */
	malloc_trim(0);
}

/* --- upstreams ------------------------------------------------------------------ */

static void apply_upstreams(struct sources *s, const struct glued_endpoint *ups, size_t n,
			    const char *from)
{
	struct glued_endpoint self[4];
	size_t n_self = dns_server_endpoints(s->dns, self, 4);
	bool changed = !s->upstreams_known || n != s->n_upstreams ||
		       memcmp(ups, s->upstreams, n * sizeof(*ups)) != 0;

	if (!changed)
		return;
	memcpy(s->upstreams, ups, n * sizeof(*ups));
	s->n_upstreams = n;
	s->upstreams_known = true;
	snprintf(s->upstreams_from, sizeof(s->upstreams_from), "%s", from);
	if (forwarder_set_upstreams(s->fwd, ups, n, self, n_self, from) == 0) {
		log_warnx("forwarder: no usable upstream in %s: forwarded queries get SERVFAIL",
			  from);
		return;
	}
	forwarder_probe_loops(s->fwd);
}

static void resolv_changed(void *ctx, const char *path, const char *text, size_t len, int err)
{
	struct sources *s = ctx;
	struct resolv_conf rc;

	if (!text) {
		log_warnx("forwarder: %s: %s; keeping the previous upstreams", path,
			  glued_strerror(err));
		return;
	}
	resolv_parse(text, len, &rc);
	if (rc.systemd_stub && !s->resolv_via_resolved) {
		/* 127.0.0.53 is systemd-resolved's stub: ask what it asks. */
		log_info("forwarder: %s names the systemd-resolved stub; using %s", path,
			 RESOLVED_CONF);
		s->resolv_via_resolved = true;
		file_watch_stop(&s->resolv_watch);
		file_watch_start(&s->resolv_watch, s->loop, RESOLVED_CONF, WATCH_PERIOD_MS,
				 resolv_changed, s);
		return;
	}
	if (rc.n_skipped)
		log_warnx("forwarder: %s:%u: %zu nameserver lines skipped (bad or scoped address)",
			  path, rc.first_skipped_line, rc.n_skipped);
	apply_upstreams(s, rc.servers, rc.n_servers, path);
}

/* --- Docker ------------------------------------------------------------------------ */

static void docker_apply(void *ctx, const struct docker_update *u)
{
	struct sources *s = ctx;
	int ret;

	switch (u->kind) {
	case DOCKER_UPDATE_PUT:
		ret = table_put(s->table, &u->put);
		if (ret)
			log_warnx("docker: publish %.12s: %s", u->put.owner, glued_strerror(ret));
		else
			log_debug("docker: published %.12s (%s, %zu names)", u->put.owner,
				  u->put.n_names ? u->put.names[0] : "", u->put.n_names);
		fastpath_container_put(s->fastpath, u->put.owner, u->sandbox);
		break;
	case DOCKER_UPDATE_DEL:
		if (table_del(s->table, 0, u->del_owner) == 0)
			log_debug("docker: withdrew %.12s", u->del_owner);
		fastpath_container_del(s->fastpath, u->del_owner);
		break;
	case DOCKER_UPDATE_NETWORK:
		s->network = u->network;
		push_allow(s);
		fastpath_set_network(s->fastpath, &s->network);
		break;
	case DOCKER_UPDATE_STATE:
		/* connected comes after the first list: the table is in sync */
		if (u->state.connected) {
			fastpath_table_synced(s->fastpath);
			fastpath_containers_synced(s->fastpath);
		}
		/* the watcher logs its own state changes; keep the last for ctl */
		s->docker_state.connected = u->state.connected;
		s->docker_state.api_major = u->state.api_major;
		s->docker_state.api_minor = u->state.api_minor;
		snprintf(s->docker_state.reason, sizeof(s->docker_state.reason), "%s",
			 u->state.connected ? "" : u->state.reason);
		s->docker_state.since_ms = clock_now_ms();
		break;
	}
}

static void docker_readable(struct loop *l, struct loop_op *op, int res,
			    uint32_t flags GLUED_UNUSED)
{
	struct sources *s = op->ctx;

	if (res == -ECANCELED)
		return;
	docker_watch_drain(s->docker, docker_apply, s);
	loop_poll(l, &s->docker_op, docker_watch_fd(s->docker), POLLIN);
}

/* --- lifecycle ------------------------------------------------------------------------ */

struct sources *sources_new(struct loop *l, const struct glued_config *cfg, struct table *t,
			    struct dns_server *dns, struct forwarder *fwd)
{
	struct sources *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->loop = l;
	s->cfg = cfg;
	s->table = t;
	s->dns = dns;
	s->fwd = fwd;
	return s;
}

int sources_start(struct sources *s)
{
	struct docker_watch_cfg dcfg = {
	    .socket_path = s->cfg->docker_socket,
	    .network = s->cfg->network_name,
	    .resync_s = s->cfg->resync_s,
	};
	int ret;

	push_allow(s);
	if (s->cfg->hosts_file[0])
		file_watch_start(&s->hosts_watch, s->loop, s->cfg->hosts_file, WATCH_PERIOD_MS,
				 hosts_changed, s);
	if (s->cfg->upstreams_set)
		apply_upstreams(s, s->cfg->upstreams, s->cfg->n_upstreams, "GLUED_UPSTREAMS");
	else
		file_watch_start(&s->resolv_watch, s->loop, RESOLV_CONF, WATCH_PERIOD_MS,
				 resolv_changed, s);

	/* DOCKER_HOST not set and no Docker socket, but rootful Podman's API
	 * socket is there: watch Podman (docs/engines.md). Decided once, at
	 * start; an engine that appears later is waited for at the default. */
	if (s->cfg->source[CONFIG_KEY_DOCKER_HOST] == CONFIG_SRC_DEFAULT &&
	    access(dcfg.socket_path, F_OK) != 0 && access(PODMAN_SOCKET, F_OK) == 0) {
		log_info("docker: no %s; using Podman's %s", dcfg.socket_path, PODMAN_SOCKET);
		dcfg.socket_path = PODMAN_SOCKET;
	}
	s->docker = docker_watch_new(&dcfg);
	if (!s->docker)
		return -errno;
	ret = docker_watch_start(s->docker);
	if (ret)
		return ret;
	s->docker_op.fn = docker_readable;
	s->docker_op.ctx = s;
	loop_poll(s->loop, &s->docker_op, docker_watch_fd(s->docker), POLLIN);
	return 0;
}

void sources_reload(struct sources *s)
{
	if (s->cfg->hosts_file[0]) {
		file_watch_stop(&s->hosts_watch);
		file_watch_start(&s->hosts_watch, s->loop, s->cfg->hosts_file, WATCH_PERIOD_MS,
				 hosts_changed, s);
	}
	if (!s->cfg->upstreams_set) {
		s->resolv_via_resolved = false;
		file_watch_stop(&s->resolv_watch);
		file_watch_start(&s->resolv_watch, s->loop, RESOLV_CONF, WATCH_PERIOD_MS,
				 resolv_changed, s);
	}
}

void sources_set_fastpath(struct sources *s, struct fastpath *fp)
{
	s->fastpath = fp;
}

void sources_free(struct sources *s)
{
	if (!s)
		return;
	file_watch_stop(&s->hosts_watch);
	file_watch_stop(&s->resolv_watch);
	docker_watch_free(s->docker);
	free(s->hosts_addrs);
	free(s);
}

/* --- control API getters ------------------------------------------------------------ */

void sources_get_docker(const struct sources *s, struct sources_docker_state *st)
{
	*st = s->docker_state;
	st->started = s->docker != NULL;
	st->network = s->network;
	if (s->docker)
		docker_watch_get_stats(s->docker, &st->stats);
	else
		memset(&st->stats, 0, sizeof(st->stats));
}

size_t sources_get_upstreams(const struct sources *s, struct glued_endpoint *out, size_t max,
			     const char **from)
{
	size_t n = s->n_upstreams < max ? s->n_upstreams : max;

	memcpy(out, s->upstreams, n * sizeof(*out));
	if (from)
		*from = s->upstreams_from;
	return n;
}
