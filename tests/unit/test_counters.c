/* io/counters: the /v1/stats JSON and the /metrics text of fixed snapshots,
 * byte for byte against golden files in tests/unit/data/counters/, and
 * every counter of every list present in both documents.
 *
 * A deliberate change of names or layout: rerun with
 * COUNTERS_GOLDEN_UPDATE=1 to rewrite the golden files, and read the diff.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/counters.h"
#include "t.h"
#include "tfile.h"

/* Link seam: the real bounds (dns_server.h) without linking the server. */
const uint32_t dns_server_lat_bounds_us[DNS_SERVER_LAT_BUCKETS] = {DNS_SERVER_LAT_BOUNDS_US};

static void data_path(char *path, size_t cap, const char *name)
{
	t_data_path(path, cap, "COUNTERS_DATA", "counters", name);
}

/* Compare with the golden file (or rewrite it); report the first line that
 * differs. */
static bool golden(const char *name, const char *got)
{
	char path[512], *want;
	size_t line = 1, i = 0;
	bool same;

	if (getenv("COUNTERS_GOLDEN_UPDATE")) {
		FILE *f;

		data_path(path, sizeof(path), name);
		f = fopen(path, "wb");
		if (!f || fputs(got, f) < 0 || fclose(f) != 0)
			return false;
		return true;
	}
	data_path(path, sizeof(path), name);
	want = t_read_file(path, NULL, true);
	if (!want)
		return false;
	same = strcmp(want, got) == 0;
	if (!same) {
		while (want[i] && want[i] == got[i])
			line += want[i++] == '\n';
		fprintf(stderr,
			"  %s: differs at line %zu, byte %zu: want \"%.60s\", got \"%.60s\"\n",
			name, line, i, want + i, got + i);
	}
	free(want);
	return same;
}

/* Every counter a distinct value, so that a swapped field shows. */
static void fill(struct counters_snapshot *s)
{
	uint64_t v = 100;

	memset(s, 0, sizeof(*s));
	s->version = "1.2.3";
	s->git_rev = "abc\"\\d"; /* the label escapes */
	s->start_unix_s = 1767000000;
	s->fastpath_active = true;

	s->dns.answer.queries = 90;
	s->dns.answer.rcode[DNS_RCODE_NOERROR] = 50;
	s->dns.answer.rcode[DNS_RCODE_SERVFAIL] = 2;
	s->dns.answer.rcode[DNS_RCODE_NXDOMAIN] = 30;
	s->dns.answer.rcode[DNS_RCODE_BADVERS] = 1;
	s->dns.answer.rcode[9] = 3;
	s->dns.answer.nodata = 7;
	s->dns.answer.truncated = 4;
	s->dns.answer.forwarded = 11;
	s->dns.answer.dropped = 5;
	s->dns.answer.ptr = 6;
	for (size_t i = 0; i <= DNS_SERVER_LAT_BUCKETS; i++)
		s->dns.fwd_latency.bucket[i] = i % 3;
	s->dns.fwd_latency.count = 15; /* the sum of the buckets */
	s->dns.fwd_latency.sum_us = 1234567;
#define SET_(field, kind, metric, labels, help) s->dns.field = v++;
	DNS_SERVER_COUNTERS(SET_)
#undef SET_
#define SET_(field, kind, metric, labels, help) s->fwd.field = v++;
	FWD_COUNTERS(SET_)
#undef SET_
#define SET_(field, kind, metric, labels, help) s->docker.field = v++;
	DOCKER_COUNTERS(SET_)
#undef SET_
	s->docker.connected = 1;
#define SET_(field, kind, metric, labels, help) s->table.field = v++;
	TABLE_COUNTERS(SET_)
#undef SET_
	s->upstreams = 3;
	s->upstreams_disabled = 1;

	s->have_kernel = true;
	for (unsigned i = 0; i < GLUED_STAT_MAX; i++)
		s->kernel[i] = 1000 + i;
#define SET_(field, kind, metric, labels, help) s->containers.field = v++;
	CTR_FAST_COUNTERS(SET_)
#undef SET_
	s->have_ctr_kernel = true;
	for (unsigned i = 0; i < GLUED_STAT_MAX; i++)
		s->ctr_kernel[i] = 2000 + i;

	s->have_gossip = true;
	s->gossip[0] = (struct counter_value){"rx_datagrams", "sealed datagrams received", 77};
	s->gossip[1] = (struct counter_value){"deaths", "members declared dead", 2};
	s->n_gossip = 2;
	s->members[COUNTERS_ALIVE] = 3;
	s->members[COUNTERS_DEAD] = 1;
}

/* A sample line "metric{labels} value" (or "metric value") in text. */
static bool has_sample(const char *text, const char *metric, const char *labels, uint64_t v)
{
	char line[256];

	if (*labels)
		snprintf(line, sizeof(line), "\n%s{%s} %llu\n", metric, labels,
			 (unsigned long long)v);
	else
		snprintf(line, sizeof(line), "\n%s %llu\n", metric, (unsigned long long)v);
	return strstr(text, line) != NULL;
}

/* "key":value inside the JSON object that follows "section":{. */
static bool has_key(const char *json, const char *section, const char *key, const char *val)
{
	char sec[64], kv[128];
	const char *p, *end;

	snprintf(sec, sizeof(sec), "\"%s\":{", section);
	snprintf(kv, sizeof(kv), "\"%s\":%s", key, val);
	p = strstr(json, sec);
	if (!p)
		return false;
	p += strlen(sec);
	end = p;
	for (int depth = 1; *end && depth; end++) /* the section's closing brace */
		depth += *end == '{' ? 1 : *end == '}' ? -1 : 0;
	p = strstr(p, kv);
	return p && p < end;
}

static void check_lists(const struct counters_snapshot *s, const char *json, const char *prom)
{
	char val[32];

#define CHECK_(sect, st, field, kind, metric, labels, help)                                        \
	do {                                                                                       \
		uint64_t v_ = (st).field;                                                          \
		if (COUNTER_KIND_##kind == COUNTER_KIND_flag)                                      \
			snprintf(val, sizeof(val), "%s", v_ ? "true" : "false");                   \
		else                                                                               \
			snprintf(val, sizeof(val), "%llu", (unsigned long long)v_);                \
		T_ASSERT(has_key(json, sect, #field, val), "%s.%s = %s in the JSON", sect, #field, \
			 val);                                                                     \
		T_ASSERT(has_sample(prom, metric, labels, v_), "%s{%s} %llu in the metrics",       \
			 metric, labels, (unsigned long long)v_);                                  \
		T_ASSERT(*(help), "%s has help text", metric);                                     \
		T_ASSERT(COUNTER_KIND_##kind != COUNTER_KIND_counter ||                            \
			     strstr(metric, "_total")[sizeof("_total") - 1] == '\0',               \
			 "counter %s ends in _total", metric);                                     \
	} while (0);
#define DNS_(...) CHECK_("dns", s->dns, __VA_ARGS__)
#define FWD_(...) CHECK_("forwarder", s->fwd, __VA_ARGS__)
#define DOCKER_(...) CHECK_("docker", s->docker, __VA_ARGS__)
#define TABLE_(...) CHECK_("table", s->table, __VA_ARGS__)
	DNS_SERVER_COUNTERS(DNS_)
	FWD_COUNTERS(FWD_)
	DOCKER_COUNTERS(DOCKER_)
	TABLE_COUNTERS(TABLE_)
#undef DNS_
#undef FWD_
#undef DOCKER_
#undef TABLE_
#undef CHECK_
}

int main(void)
{
	struct counters_snapshot *s = malloc(sizeof(*s));
	char *json, *prom;

	if (!s)
		return 1;
	fill(s);
	json = counters_render_json(s);
	prom = counters_render_prom(s);

	T_CASE("the /v1/stats JSON of a full snapshot is the golden file")
	{
		T_ASSERT(json && golden("full.json", json), "full.json");
	}
	T_CASE("the /metrics text of a full snapshot is the golden file")
	{
		T_ASSERT(prom && golden("full.prom", prom), "full.prom");
	}
	T_CASE("every listed counter is in both documents, under its key and its metric")
	{
		if (json && prom)
			check_lists(s, json, prom);
		else
			T_ASSERT(json && prom, "both rendered");
	}
	T_CASE("the build info escapes quotes and backslashes in labels")
	{
		T_ASSERT(prom && strstr(prom, "glued_build_info{version=\"1.2.3\","
					      "git_rev=\"abc\\\"\\\\d\"} 1\n"),
			 "escaped git_rev");
	}
	T_CASE("userspace answered is NOERROR less NODATA; error is every RCODE but "
	       "NOERROR and NXDOMAIN")
	{
		T_ASSERT(prom && has_sample(prom, "glued_dns_queries_total",
					    "path=\"userspace\",result=\"answered\"", 43),
			 "50 - 7");
		T_ASSERT(prom && has_sample(prom, "glued_dns_queries_total",
					    "path=\"userspace\",result=\"error\"", 6),
			 "2 + 3 + 1");
	}
	free(json);
	free(prom);

	/* No fast path, no cluster, nothing counted yet. */
	memset(s, 0, sizeof(*s));
	s->version = "1.2.3";
	s->git_rev = "abc";
	json = counters_render_json(s);
	prom = counters_render_prom(s);
	T_CASE("the /v1/stats JSON without kernel and cluster is the golden file")
	{
		T_ASSERT(json && golden("bare.json", json), "bare.json");
		T_ASSERT(json && strstr(json, "\"kernel\":null") && strstr(json, "\"gossip\":null"),
			 "kernel and gossip are null");
	}
	T_CASE("the /metrics text without kernel and cluster is the golden file")
	{
		T_ASSERT(prom && golden("bare.prom", prom), "bare.prom");
		T_ASSERT(prom && !strstr(prom, "path=\"kernel\"") &&
			     !strstr(prom, "glued_kernel_") && !strstr(prom, "glued_gossip_"),
			 "no kernel or gossip metric");
	}
	free(json);
	free(prom);
	free(s);
	return t_summary();
}
