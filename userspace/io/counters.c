/* The two renderings of the counters (see counters.h): JSON for the control
 * API, Prometheus text for /metrics. Pure functions of a snapshot: no fd,
 * no clock, no part is read here, so a unit test renders a fixed snapshot
 * and compares it with golden files (tests/unit/data/counters/).
 *
 * The names and the order are a public interface (scripts, dashboards,
 * tests/e2e/60-ops.bats): a counter added to a list appears in both; a
 * name changed in a list changes both.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dns_wire.h"
#include "io/bpf_names.h"
#include "io/counters.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define RCODES 17 /* dns_answer_stats.rcode[] */

/* --- the lists as data ------------------------------------------------------------------ */

#define COUNTER_STRUCT struct dns_server_stats
static const struct counter_def dns_defs[] = {DNS_SERVER_COUNTERS(COUNTER_DEF)};
#undef COUNTER_STRUCT
#define COUNTER_STRUCT struct fwd_stats
static const struct counter_def fwd_defs[] = {FWD_COUNTERS(COUNTER_DEF)};
#undef COUNTER_STRUCT
#define COUNTER_STRUCT struct docker_sync_stats
static const struct counter_def docker_defs[] = {DOCKER_COUNTERS(COUNTER_DEF)};
#undef COUNTER_STRUCT
#define COUNTER_STRUCT struct table_stats
static const struct counter_def table_defs[] = {TABLE_COUNTERS(COUNTER_DEF)};
#undef COUNTER_STRUCT
#define COUNTER_STRUCT struct ctr_fast_stats
static const struct counter_def ctr_defs[] = {CTR_FAST_COUNTERS(COUNTER_DEF)};
#undef COUNTER_STRUCT

const char *counters_rcode_name(unsigned rcode, char *buf, size_t len)
{
	static const char *const names[] = {
	    "NOERROR",	"FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",  "REFUSED",
	    "YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE", "DSOTYPENI",
	};

	if (rcode < ARRAY_LEN(names))
		return names[rcode];
	if (rcode == DNS_RCODE_BADVERS)
		return "BADVERS";
	snprintf(buf, len, "RCODE%u", rcode);
	return buf;
}

/* --- JSON ---------------------------------------------------------------------------------- */

static void set_u64(json_t *o, const char *k, uint64_t v)
{
	json_object_set_new(o, k, json_integer((json_int_t)v));
}

static void list_json(json_t *o, const struct counter_def *d, size_t n, const void *st)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t v = counter_get(st, &d[i]);
		json_object_set_new(o, d[i].name,
				    d[i].kind == COUNTER_KIND_flag ? json_boolean(v)
								   : json_integer((json_int_t)v));
	}
}

static json_t *latency_json(const struct dns_server_latency *h)
{
	json_t *o = json_object(), *b = json_array();
	uint64_t cum = 0;

	for (size_t i = 0; i <= DNS_SERVER_LAT_BUCKETS; i++) {
		json_t *e = json_object();
		cum += h->bucket[i];
		if (i < DNS_SERVER_LAT_BUCKETS)
			json_object_set_new(e, "le_us", json_integer(dns_server_lat_bounds_us[i]));
		else
			json_object_set_new(e, "le_us", json_string("+Inf"));
		set_u64(e, "count", cum);
		json_array_append_new(b, e);
	}
	set_u64(o, "count", h->count);
	set_u64(o, "sum_us", h->sum_us);
	json_object_set_new(o, "buckets", b);
	return o;
}

static json_t *dns_json(const struct dns_server_stats *ds)
{
	const struct dns_answer_stats *a = &ds->answer;
	json_t *o = json_object(), *rc = json_object();
	char buf[16];

	set_u64(o, "queries", a->queries);
	for (unsigned i = 0; i < RCODES; i++)
		if (a->rcode[i] || i == DNS_RCODE_NOERROR || i == DNS_RCODE_NXDOMAIN)
			set_u64(rc, counters_rcode_name(i, buf, sizeof(buf)), a->rcode[i]);
	json_object_set_new(o, "rcode", rc);
	set_u64(o, "nodata", a->nodata);
	set_u64(o, "truncated", a->truncated);
	set_u64(o, "forwarded", a->forwarded);
	set_u64(o, "dropped", a->dropped);
	set_u64(o, "ptr", a->ptr);
	list_json(o, dns_defs, ARRAY_LEN(dns_defs), ds);
	return o;
}

char *counters_render_json(const struct counters_snapshot *s)
{
	json_t *o = json_object(), *fw = json_object(), *dk = json_object(), *tb = json_object();
	json_t *k = json_null(), *g = json_null();
	char *out;

	json_object_set_new(o, "dns", dns_json(&s->dns));
	list_json(fw, fwd_defs, ARRAY_LEN(fwd_defs), &s->fwd);
	json_object_set_new(fw, "latency", latency_json(&s->dns.fwd_latency));
	json_object_set_new(o, "forwarder", fw);
	list_json(dk, docker_defs, ARRAY_LEN(docker_defs), &s->docker);
	json_object_set_new(o, "docker", dk);
	list_json(tb, table_defs, ARRAY_LEN(table_defs), &s->table);
	json_object_set_new(o, "table", tb);
	if (s->have_kernel) {
		k = json_object();
		for (unsigned i = 0; i < GLUED_STAT_MAX; i++)
			set_u64(k, bpf_stat_name(i), s->kernel[i]);
	}
	json_object_set_new(o, "kernel", k);
	k = json_object();
	list_json(k, ctr_defs, ARRAY_LEN(ctr_defs), &s->containers);
	json_object_set_new(o, "containers", k);
	k = json_null();
	if (s->have_ctr_kernel) {
		k = json_object();
		for (unsigned i = 0; i < GLUED_STAT_MAX; i++)
			set_u64(k, bpf_stat_name(i), s->ctr_kernel[i]);
	}
	json_object_set_new(o, "kernel_container", k);
	if (s->have_gossip) {
		g = json_object();
		for (size_t i = 0; i < s->n_gossip && i < COUNTERS_NAMED_MAX; i++)
			set_u64(g, s->gossip[i].name, s->gossip[i].value);
	}
	json_object_set_new(o, "gossip", g);
	out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return out;
}

/* --- Prometheus ---------------------------------------------------------------------------- */

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

/* A family is printed once, where its first member stands in the list, with
 * every member of the list that shares its name (lib/counter.h). */
static void list_prom(FILE *f, const struct counter_def *d, size_t n, const void *st)
{
	for (size_t i = 0; i < n; i++) {
		bool printed = false;

		for (size_t j = 0; j < i && !printed; j++)
			printed = strcmp(d[j].metric, d[i].metric) == 0;
		if (printed)
			continue;
		family(f, d[i].metric, d[i].kind == COUNTER_KIND_counter ? "counter" : "gauge",
		       d[i].help);
		for (size_t j = i; j < n; j++)
			if (strcmp(d[j].metric, d[i].metric) == 0)
				sample(f, d[j].metric, d[j].labels, counter_get(st, &d[j]));
	}
}

/* Label values here come from fixed tables or the build; escape the three
 * characters the format reserves anyway. */
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

static void dns_prom(FILE *f, const struct counters_snapshot *s)
{
	const struct dns_answer_stats *a = &s->dns.answer;
	const uint64_t *k = s->kernel;
	uint64_t passed = 0, errors = 0;
	char lbl[64], buf[16];

	for (unsigned i = 1; i < RCODES; i++)
		errors += i == DNS_RCODE_NXDOMAIN ? 0 : a->rcode[i];
	family(f, "glued_dns_queries_total", "counter",
	       "DNS queries by the path that handled them and what became of them.");
	if (s->have_kernel) {
		for (unsigned i = 0; i < GLUED_STAT_MAX; i++)
			if (i != GLUED_STAT_answered && i != GLUED_STAT_nodata)
				passed += k[i];
		sample(f, "glued_dns_queries_total", "path=\"kernel\",result=\"answered\"",
		       k[GLUED_STAT_answered]);
		sample(f, "glued_dns_queries_total", "path=\"kernel\",result=\"nodata\"",
		       k[GLUED_STAT_nodata]);
		sample(f, "glued_dns_queries_total", "path=\"kernel\",result=\"passed\"", passed);
	}
	if (s->have_ctr_kernel) {
		const uint64_t *c = s->ctr_kernel;
		uint64_t cpassed = 0;

		for (unsigned i = 0; i < GLUED_STAT_MAX; i++)
			if (i != GLUED_STAT_answered && i != GLUED_STAT_nodata)
				cpassed += c[i];
		sample(f, "glued_dns_queries_total", "path=\"container\",result=\"answered\"",
		       c[GLUED_STAT_answered]);
		sample(f, "glued_dns_queries_total", "path=\"container\",result=\"nodata\"",
		       c[GLUED_STAT_nodata]);
		sample(f, "glued_dns_queries_total", "path=\"container\",result=\"passed\"",
		       cpassed);
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
	for (unsigned i = 0; i < RCODES; i++) {
		/* NOERROR, FORMERR, NXDOMAIN, NOTIMP, REFUSED always; others once seen. */
		if (!a->rcode[i] && i != 0 && i != 1 && i != 3 && i != 4 && i != 5)
			continue;
		snprintf(lbl, sizeof(lbl), "rcode=\"%s\"",
			 counters_rcode_name(i, buf, sizeof(buf)));
		sample(f, "glued_dns_responses_total", lbl, a->rcode[i]);
	}
	if (s->have_kernel) {
		family(f, "glued_kernel_passed_total", "counter",
		       "Queries the kernel fast path passed up to userspace, by reason.");
		for (unsigned i = 0; i < GLUED_STAT_MAX; i++) {
			if (i == GLUED_STAT_answered || i == GLUED_STAT_nodata)
				continue;
			snprintf(lbl, sizeof(lbl), "reason=\"%s\"", bpf_stat_name(i));
			sample(f, "glued_kernel_passed_total", lbl, k[i]);
		}
	}
	if (s->have_ctr_kernel) {
		family(f, "glued_kernel_container_passed_total", "counter",
		       "Queries glued_ctr_dns passed on to Docker's resolver, by reason.");
		for (unsigned i = 0; i < GLUED_STAT_MAX; i++) {
			if (i == GLUED_STAT_answered || i == GLUED_STAT_nodata)
				continue;
			snprintf(lbl, sizeof(lbl), "reason=\"%s\"", bpf_stat_name(i));
			sample(f, "glued_kernel_container_passed_total", lbl, s->ctr_kernel[i]);
		}
	}
	one(f, "glued_dns_ptr_answers_total", "counter", "PTR queries answered from the table.",
	    a->ptr);
	one(f, "glued_dns_truncated_total", "counter", "Replies sent with TC=1.", a->truncated);
	list_prom(f, dns_defs, ARRAY_LEN(dns_defs), &s->dns);
}

static void forwarder_prom(FILE *f, const struct counters_snapshot *s)
{
	const struct dns_server_latency *h = &s->dns.fwd_latency;
	uint64_t cum = 0;
	char lbl[48];

	list_prom(f, fwd_defs, ARRAY_LEN(fwd_defs), &s->fwd);
	family(f, "glued_forwarder_upstreams", "gauge", "Upstreams configured, by state.");
	sample(f, "glued_forwarder_upstreams", "state=\"enabled\"",
	       s->upstreams - s->upstreams_disabled);
	sample(f, "glued_forwarder_upstreams", "state=\"disabled\"", s->upstreams_disabled);

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

static void gossip_prom(FILE *f, const struct counters_snapshot *s)
{
	static const char *const states[COUNTERS_MEMBER_STATES] = {"alive", "suspect", "dead",
								   "left"};
	char name[160], lbl[48];

	if (!s->have_gossip)
		return;
	for (size_t i = 0; i < s->n_gossip && i < COUNTERS_NAMED_MAX; i++) {
		const struct counter_value *c = &s->gossip[i];
		snprintf(name, sizeof(name), "glued_gossip_%s_total", c->name);
		one(f, name, "counter", c->help && *c->help ? c->help : c->name, c->value);
	}
	family(f, "glued_gossip_members", "gauge", "Cluster members by state (self included).");
	for (size_t i = 0; i < COUNTERS_MEMBER_STATES; i++) {
		snprintf(lbl, sizeof(lbl), "state=\"%s\"", states[i]);
		sample(f, "glued_gossip_members", lbl, s->members[i]);
	}
}

char *counters_render_prom(const struct counters_snapshot *s)
{
	char *buf = NULL, ver[64], rev[64], lbl[160];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	label_escape(ver, sizeof(ver), s->version);
	label_escape(rev, sizeof(rev), s->git_rev);
	snprintf(lbl, sizeof(lbl), "version=\"%s\",git_rev=\"%s\"", ver, rev);
	family(f, "glued_build_info", "gauge", "The running glued's version; always 1.");
	sample(f, "glued_build_info", lbl, 1);
	one(f, "glued_start_time_seconds", "gauge", "When glued started, seconds since the epoch.",
	    (uint64_t)s->start_unix_s);
	one(f, "glued_fastpath_active", "gauge",
	    "1 while the kernel fast path is loaded and attached.", s->fastpath_active);
	dns_prom(f, s);
	forwarder_prom(f, s);
	list_prom(f, docker_defs, ARRAY_LEN(docker_defs), &s->docker);
	list_prom(f, table_defs, ARRAY_LEN(table_defs), &s->table);
	list_prom(f, ctr_defs, ARRAY_LEN(ctr_defs), &s->containers);
	gossip_prom(f, s);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
