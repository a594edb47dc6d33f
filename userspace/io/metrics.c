/* Prometheus exposition of the daemon's counters (see metrics.h): a TCP
 * listener served by io/http, and the text rendering. Reads the parts on
 * the loop thread; changes nothing.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/dns_wire.h"
#include "io/bpf_names.h"
#include "io/http.h"
#include "io/metrics.h"
#include "lib/clock.h"

#define METRICS_BACKLOG 32
#define METRICS_MEMBERS_MAX 1024
#define METRICS_COUNTERS_MAX 128

struct metrics {
	struct http *http;
	const struct ctl_parts *p;
};

/* --- rendering ---------------------------------------------------------------------------- */

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(FILE *f, const char *name, const char *labels, uint64_t v)
{
	if (labels && *labels)
		fprintf(f, "%s{%s} %llu\n", name, labels, (unsigned long long)v);
	else
		fprintf(f, "%s %llu\n", name, (unsigned long long)v);
}

static void one(FILE *f, const char *name, const char *type, const char *help, uint64_t v)
{
	family(f, name, type, help);
	sample(f, name, NULL, v);
}

/* Label values here come from fixed tables or validated names; escape the
 * three characters the format reserves anyway. */
static void label_escape(char *out, size_t cap, const char *s)
{
	size_t o = 0;

	for (; *s && o + 3 < cap; s++) {
		if (*s == '\\' || *s == '"') {
			out[o++] = '\\';
			out[o++] = *s;
		} else if (*s == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *s;
		}
	}
	out[o] = '\0';
}

static void render_dns(FILE *f, const struct ctl_parts *p, const struct dns_server_stats *ds)
{
	const struct dns_answer_stats *a = &ds->answer;
	uint64_t k[GLUED_STAT_MAX];
	bool have_k =
	    p->fastpath && p->fastpath->counters && p->fastpath->counters(p->fastpath->ctx, k) == 0;
	uint64_t passed = 0, errors = 0;
	char lbl[64], buf[16];

	for (unsigned i = 1; i < 17; i++)
		errors += i == DNS_RCODE_NXDOMAIN ? 0 : a->rcode[i];
	family(f, "glued_dns_queries_total", "counter",
	       "DNS queries by the path that handled them and what became of them.");
	if (have_k) {
		for (unsigned i = 0; i < GLUED_STAT_MAX; i++)
			if (i != GLUED_STAT_answered && i != GLUED_STAT_nodata)
				passed += k[i];
		sample(f, "glued_dns_queries_total", "path=\"kernel\",result=\"answered\"",
		       k[GLUED_STAT_answered]);
		sample(f, "glued_dns_queries_total", "path=\"kernel\",result=\"nodata\"",
		       k[GLUED_STAT_nodata]);
		sample(f, "glued_dns_queries_total", "path=\"kernel\",result=\"passed\"", passed);
	}
	sample(f, "glued_dns_queries_total", "path=\"userspace\",result=\"answered\"",
	       a->rcode[0] > a->nodata ? a->rcode[0] - a->nodata : 0);
	sample(f, "glued_dns_queries_total", "path=\"userspace\",result=\"nodata\"", a->nodata);
	sample(f, "glued_dns_queries_total", "path=\"userspace\",result=\"nxdomain\"",
	       a->rcode[DNS_RCODE_NXDOMAIN]);
	sample(f, "glued_dns_queries_total", "path=\"userspace\",result=\"error\"", errors);
	sample(f, "glued_dns_queries_total", "path=\"userspace\",result=\"forwarded\"",
	       a->forwarded);
	sample(f, "glued_dns_queries_total", "path=\"userspace\",result=\"dropped\"", a->dropped);

	family(f, "glued_dns_responses_total", "counter",
	       "Replies the userspace answerer built, by RCODE.");
	for (unsigned i = 0; i < 17; i++) {
		if (!a->rcode[i] && i != 0 && i != 1 && i != 3 && i != 4 && i != 5)
			continue;
		snprintf(lbl, sizeof(lbl), "rcode=\"%s\"", ctl_rcode_name(i, buf, sizeof(buf)));
		sample(f, "glued_dns_responses_total", lbl, a->rcode[i]);
	}
	if (have_k) {
		family(f, "glued_kernel_passed_total", "counter",
		       "Queries the kernel fast path passed up to userspace, by reason.");
		for (unsigned i = 0; i < GLUED_STAT_MAX; i++) {
			if (i == GLUED_STAT_answered || i == GLUED_STAT_nodata)
				continue;
			snprintf(lbl, sizeof(lbl), "reason=\"%s\"", bpf_stat_name(i));
			sample(f, "glued_kernel_passed_total", lbl, k[i]);
		}
	}
	one(f, "glued_dns_ptr_answers_total", "counter", "PTR queries answered from the table.",
	    a->ptr);
	one(f, "glued_dns_truncated_total", "counter", "Replies sent with TC=1.", a->truncated);
	one(f, "glued_dns_refused_total", "counter",
	    "Queries refused because the client may not use the forwarder.", ds->refused);
	one(f, "glued_dns_loop_probes_dropped_total", "counter",
	    "glued's own forwarding-loop probes that came back to it.", ds->probes_dropped);
	family(f, "glued_dns_messages_total", "counter",
	       "DNS messages by transport and direction.");
	sample(f, "glued_dns_messages_total", "transport=\"udp\",direction=\"received\"",
	       ds->udp_rx);
	sample(f, "glued_dns_messages_total", "transport=\"udp\",direction=\"sent\"", ds->udp_tx);
	sample(f, "glued_dns_messages_total", "transport=\"tcp\",direction=\"received\"",
	       ds->tcp_rx);
	sample(f, "glued_dns_messages_total", "transport=\"tcp\",direction=\"sent\"", ds->tcp_tx);
	one(f, "glued_dns_udp_send_errors_total", "counter", "UDP replies the kernel refused.",
	    ds->udp_tx_errors);
	family(f, "glued_dns_tcp_connections_total", "counter", "TCP connections by outcome.");
	sample(f, "glued_dns_tcp_connections_total", "result=\"accepted\"", ds->tcp_accepted);
	sample(f, "glued_dns_tcp_connections_total", "result=\"rejected\"", ds->tcp_rejected);
	sample(f, "glued_dns_tcp_connections_total", "result=\"idle_closed\"", ds->tcp_idle_closed);
}

static void render_forwarder(FILE *f, const struct ctl_parts *p, const struct dns_server_stats *ds)
{
	const struct dns_server_latency *h = &ds->fwd_latency;
	struct forwarder_upstream ups[FWD_UPSTREAMS_MAX];
	size_t n = forwarder_get_upstreams(p->fwd, ups, FWD_UPSTREAMS_MAX), dis = 0;
	struct forwarder_stats fs;
	uint64_t cum = 0;
	char lbl[48];

	forwarder_get_stats(p->fwd, &fs);
	one(f, "glued_forwarder_queries_total", "counter", "Queries handed to the forwarder.",
	    fs.queries);
	one(f, "glued_forwarder_cache_hits_total", "counter",
	    "Forwarded queries answered from the cache.", fs.cache_hits);
	one(f, "glued_forwarder_coalesced_total", "counter",
	    "Forwarded queries that joined an identical one in flight.", fs.coalesced);
	one(f, "glued_forwarder_upstream_queries_total", "counter", "Queries sent to upstreams.",
	    fs.upstream_sent);
	one(f, "glued_forwarder_upstream_answers_total", "counter",
	    "Answers accepted from upstreams.", fs.upstream_answers);
	one(f, "glued_forwarder_timeouts_total", "counter", "Upstream attempts that timed out.",
	    fs.timeouts);
	one(f, "glued_forwarder_servfail_total", "counter",
	    "Forwarded queries answered SERVFAIL after every upstream failed.", fs.servfail);
	one(f, "glued_forwarder_tcp_retries_total", "counter",
	    "Truncated answers retried over TCP.", fs.tcp_retries);
	one(f, "glued_forwarder_mismatched_total", "counter",
	    "Datagrams from upstream sockets that did not match the question.", fs.mismatched);
	one(f, "glued_forwarder_cache_entries", "gauge", "Answers in the forwarder cache.",
	    fs.cache_entries);
	one(f, "glued_forwarder_cache_bytes", "gauge", "Bytes held by the forwarder cache.",
	    fs.cache_bytes);
	for (size_t i = 0; i < n; i++)
		dis += ups[i].disabled;
	family(f, "glued_forwarder_upstreams", "gauge", "Upstreams configured, by state.");
	sample(f, "glued_forwarder_upstreams", "state=\"enabled\"", n - dis);
	sample(f, "glued_forwarder_upstreams", "state=\"disabled\"", dis);

	family(f, "glued_forward_duration_seconds", "histogram",
	       "Time from forwarding a query to sending its reply (cache hits included).");
	for (size_t i = 0; i <= DNS_SERVER_LAT_BUCKETS; i++) {
		cum += h->bucket[i];
		if (i < DNS_SERVER_LAT_BUCKETS)
			snprintf(lbl, sizeof(lbl), "le=\"%g\"", dns_server_lat_bounds_us[i] / 1e6);
		else
			snprintf(lbl, sizeof(lbl), "le=\"+Inf\"");
		sample(f, "glued_forward_duration_seconds_bucket", lbl, cum);
	}
	fprintf(f, "glued_forward_duration_seconds_sum %.6f\n", (double)h->sum_us / 1e6);
	sample(f, "glued_forward_duration_seconds_count", NULL, h->count);
}

static void render_docker_table(FILE *f, const struct ctl_parts *p)
{
	struct sources_docker_state d;
	struct table_stats ts;

	sources_get_docker(p->sources, &d);
	one(f, "glued_docker_connected", "gauge",
	    "1 while glued is connected to the Docker engine.", d.stats.connected);
	one(f, "glued_docker_events_total", "counter", "Docker events read.", d.stats.events);
	one(f, "glued_docker_event_errors_total", "counter",
	    "Docker event lines that did not parse.", d.stats.event_errors);
	one(f, "glued_docker_inspects_total", "counter", "Container inspects done.",
	    d.stats.inspects);
	one(f, "glued_docker_reconnects_total", "counter",
	    "Connection attempts to the engine after the first.", d.stats.reconnects);
	one(f, "glued_docker_resyncs_total", "counter", "Full list and inspect passes.",
	    d.stats.resyncs);
	one(f, "glued_docker_stalls_total", "counter", "Watchdog tear-downs of the events stream.",
	    d.stats.stalls);
	one(f, "glued_docker_containers", "gauge", "Containers on the watched network published.",
	    d.stats.published);

	table_get_stats(p->table, &ts);
	one(f, "glued_table_entries", "gauge", "Entries (one origin, one owner) in the name table.",
	    ts.entries);
	one(f, "glued_table_names", "gauge", "Distinct names in the name table.", ts.names);
	one(f, "glued_table_records", "gauge", "Distinct (name, address) pairs answered.",
	    ts.records);
	one(f, "glued_table_puts_total", "counter", "Entries published or replaced.", ts.puts);
	one(f, "glued_table_removals_total", "counter", "Entries removed.", ts.dels);
}

static void render_gossip(FILE *f, const struct ctl_parts *p)
{
	const struct ctl_gossip *g = p->gossip;
	static const char *const states[] = {"alive", "suspect", "dead", "left"};
	struct ctl_counter c[METRICS_COUNTERS_MAX];
	struct ctl_member *m;
	size_t n, count[4] = {0};
	char name[160], lbl[48];

	if (!g)
		return;
	n = g->counters ? g->counters(g->ctx, c, METRICS_COUNTERS_MAX) : 0;
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "glued_gossip_%s_total", c[i].name);
		one(f, name, "counter", c[i].help && *c[i].help ? c[i].help : c[i].name,
		    c[i].value);
	}
	m = calloc(METRICS_MEMBERS_MAX, sizeof(*m));
	n = m ? g->members(g->ctx, m, METRICS_MEMBERS_MAX) : 0;
	for (size_t i = 0; i < n; i++)
		for (size_t s = 0; s < 4; s++)
			count[s] += strcmp(m[i].state, states[s]) == 0;
	free(m);
	family(f, "glued_gossip_members", "gauge", "Cluster members by state (self included).");
	for (size_t s = 0; s < 4; s++) {
		snprintf(lbl, sizeof(lbl), "state=\"%s\"", states[s]);
		sample(f, "glued_gossip_members", lbl, count[s]);
	}
}

char *metrics_render(const struct ctl_parts *p)
{
	struct dns_server_stats ds;
	char *buf = NULL, ver[64], rev[64], lbl[160];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	label_escape(ver, sizeof(ver), GLUED_VERSION);
	label_escape(rev, sizeof(rev), GLUED_GIT_REV);
	snprintf(lbl, sizeof(lbl), "version=\"%s\",git_rev=\"%s\"", ver, rev);
	family(f, "glued_build_info", "gauge", "The running glued's version; always 1.");
	sample(f, "glued_build_info", lbl, 1);
	one(f, "glued_start_time_seconds", "gauge", "When glued started, seconds since the epoch.",
	    (uint64_t)p->start_unix_s);
	one(f, "glued_fastpath_active", "gauge",
	    "1 while the kernel fast path is loaded and attached.",
	    p->fastpath && p->fastpath->state &&
		strcmp(p->fastpath->state(p->fastpath->ctx), "active") == 0);

	dns_server_get_stats(p->dns, &ds);
	render_dns(f, p, &ds);
	render_forwarder(f, p, &ds);
	render_docker_table(f, p);
	render_gossip(f, p);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* --- the server ------------------------------------------------------------------------------ */

static void metrics_serve(void *ctx, const struct http_req *req, struct http_resp *resp)
{
	struct metrics *m = ctx;
	static const char not_found[] = "not found: try /metrics\n";

	if (strcmp(req->path, "/metrics") != 0) {
		resp->status = 404;
		resp->content_type = "text/plain; charset=utf-8";
		resp->body = strdup(not_found);
		resp->len = sizeof(not_found) - 1;
		return;
	}
	resp->status = 200;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	resp->body = metrics_render(m->p);
	resp->len = resp->body ? strlen(resp->body) : 0;
}

int metrics_new(struct loop *l, const struct ctl_parts *parts, struct metrics **out)
{
	struct metrics *m = calloc(1, sizeof(*m));
	struct sockaddr_storage ss;
	socklen_t sl = endpoint_to_sockaddr(&parts->cfg->metrics_bind, &ss);
	int fd, one_ = 1, ret;

	if (!m)
		return -ENOMEM;
	m->p = parts;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		goto err_free;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one_, sizeof(one_));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, METRICS_BACKLOG) < 0) {
		ret = -errno;
		goto err_close;
	}
	m->http = http_new(l, fd, metrics_serve, m);
	if (!m->http) {
		ret = -errno;
		goto err_free;
	}
	*out = m;
	return 0;

err_close:
	close(fd);
err_free:
	free(m);
	return ret;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	http_free(m->http);
	free(m);
}
