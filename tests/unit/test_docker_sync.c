/* core/docker_sync as scenarios: a fake engine answers the core's requests
 * from the responses recorded from a real dockerd (tests/unit/data/docker),
 * events are fed as the stream would carry them, and the virtual clock moves
 * only when a step says so. Each scenario is a table of steps that reads as
 * a spec; OUT compares every update the core emitted since the last OUT,
 * rendered as text ("net +web -db-1 up down"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/docker_pub.h"
#include "core/docker_sync.h"
#include "t.h"
#include "tfile.h"

#define WEB_ID "530c29abcb4773b7595acf906e82ccc48dcbfc3ba2cacc1c1d9f265d95d13777"
#define DB_ID "fa61faa60544db6be90b6c171ca6a6cd0d7b59547f12983fcf1fe6e1fd107a43"
#define MULTI_ID "43c8ef9f561c69a1074bb53936f81f6d708b2db1de4adef239b9eb4a94fb9259"
#define EV_ID "33a0ffe587ca5c22da1b7e3595efe8dc9f152c49e62aa8b8250ed5e31aa7290e"
#define RUN_ID "659cdcf1b67bb2f77eb6564e6b123e7eb9d3f8411c1f156c8c12d0946255739c"
#define NET_ID "ef114faba4a796c5349caa1ed291c8f50e7f8386a58e5cbd9493042aa59d71ec"
#define T0 1000000 /* the virtual clock's start */

static const struct {
	const char *name, *id;
} ids[] = {
    {"web", WEB_ID}, {"db-1", DB_ID}, {"multi", MULTI_ID}, {"ev", EV_ID}, {"run", RUN_ID},
};

static const char *id_of(const char *name)
{
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (strcmp(ids[i].name, name) == 0)
			return ids[i].id;
	fprintf(stderr, "unknown container %s\n", name);
	exit(1);
}

static const char *name_of(const char *id)
{
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (strcmp(ids[i].id, id) == 0)
			return ids[i].name;
	return "?";
}

static char *slurp(const char *name, size_t *len)
{
	return t_data_read("DOCKER_DATA", "docker", name, len, true);
}

/* Replace every occurrence of from (same length as to) in s. */
static void subst(char *s, const char *from, const char *to)
{
	size_t n = strlen(from);

	for (char *p = strstr(s, from); p; p = strstr(p + n, from))
		memcpy(p, to, n);
}

/* A recorded inspect body moved to another container: its ID (and 12-digit
 * short ID) replaced by id, its "/name" by name. */
static char *inspect_as(const char *file, const char *name, const char *id)
{
	size_t len;
	char *src = slurp(file, &len), *out = malloc(len + 256), orig[65], short_id[13], *p, *q;

	p = strstr(src, "\"Id\": \"");
	if (!p || !out)
		exit(1);
	memcpy(orig, p + 7, 64);
	orig[64] = '\0';
	subst(src, orig, id);
	orig[12] = '\0';
	snprintf(short_id, sizeof(short_id), "%.12s", id);
	subst(src, orig, short_id);
	p = strstr(src, "\"Name\": \"/");
	q = p ? strchr(p + 10, '"') : NULL;
	if (!q)
		exit(1);
	snprintf(out, len + 256, "%.*s%s%s", (int)(p + 10 - src), src, name, q);
	free(src);
	return out;
}

/* --- the fake engine --------------------------------------------------------- */

struct ctr {
	char id[DOCKER_ID_MAX + 1];
	char *body;
	bool listed; /* running on glued_net: in the filtered list */
};

struct engine {
	struct ctr c[8];
	size_t n;
	bool down, net404, ping_fail;
};

static struct ctr *eng_find(struct engine *e, const char *id)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->c[i].id, id) == 0)
			return &e->c[i];
	return NULL;
}

static void eng_set(struct engine *e, const char *name, const char *file, const char *as,
		    bool listed)
{
	const char *id = id_of(name);
	struct ctr *c = eng_find(e, id);

	if (!c)
		c = &e->c[e->n++];
	free(c->body);
	strcpy(c->id, id);
	c->body = inspect_as(file, as ? as : name, id);
	c->listed = listed;
}

static void eng_rm(struct engine *e, const char *name)
{
	struct ctr *c = eng_find(e, id_of(name));

	if (!c)
		return;
	free(c->body);
	*c = e->c[--e->n];
	e->c[e->n].body = NULL;
}

/* --- the harness --------------------------------------------------------------- */

struct sim {
	struct docker_sync *s;
	struct engine eng;
	uint64_t now;
	char out[2048];	  /* updates since the last OUT */
	char reason[160]; /* of the last STATE down */
	int last_err;	  /* of the last on_response / on_event */
	struct docker_req req;
	char sandbox[DOCKER_SANDBOX_MAX + 1]; /* of the last PUT */
};

static void on_update(void *ctx, const struct docker_update *u)
{
	struct sim *m = ctx;
	char one[200];

	switch (u->kind) {
	case DOCKER_UPDATE_PUT:
		snprintf(one, sizeof(one), "+%s", u->put.names[0]);
		T_ASSERT(u->put.updated_ms == m->now, "updated_ms is the caller's now");
		memcpy(m->sandbox, u->sandbox, sizeof(m->sandbox));
		break;
	case DOCKER_UPDATE_DEL:
		snprintf(one, sizeof(one), "-%s", name_of(u->del_owner));
		break;
	case DOCKER_UPDATE_NETWORK:
		snprintf(one, sizeof(one), "%s", u->network.id[0] ? "net" : "nonet");
		break;
	case DOCKER_UPDATE_STATE:
		snprintf(one, sizeof(one), "%s", u->state.connected ? "up" : "down");
		if (!u->state.connected)
			snprintf(m->reason, sizeof(m->reason), "%s", u->state.reason);
		break;
	}
	snprintf(m->out + strlen(m->out), sizeof(m->out) - strlen(m->out), "%s%s",
		 m->out[0] ? " " : "", one);
}

/* Answer the pending request from the engine; false if none is pending. */
static bool serve(struct sim *m)
{
	struct docker_req *r = &m->req;
	struct engine *e = &m->eng;
	char *body = NULL, list[1024] = "[";
	const char *file = NULL;
	size_t len = 0;
	long status = 200;

	docker_sync_next(m->s, m->now, r);
	if (r->kind == DOCKER_REQ_FOLLOW || r->kind == DOCKER_REQ_SLEEP)
		return false;
	if (e->down) {
		docker_sync_on_failure(m->s, "engine down", m->now);
		return true;
	}
	switch (r->kind) {
	case DOCKER_REQ_VERSION:
		file = "version.json";
		break;
	case DOCKER_REQ_NETWORK:
		file = e->net404 ? "network_404.json" : "network_glued_net.json";
		status = e->net404 ? 404 : 200;
		break;
	case DOCKER_REQ_LIST:
		for (size_t i = 0; i < e->n; i++)
			if (e->c[i].listed && !e->net404)
				snprintf(list + strlen(list), sizeof(list) - strlen(list),
					 "%s{\"Id\":\"%s\"}", list[1] ? "," : "", e->c[i].id);
		strcat(list, "]");
		body = list;
		len = strlen(list);
		break;
	case DOCKER_REQ_INSPECT: {
		struct ctr *c = eng_find(e, r->id);

		if (c) {
			body = c->body;
			len = strlen(body);
		} else {
			file = "inspect_404.json";
			status = 404;
		}
		break;
	}
	case DOCKER_REQ_PING:
		status = e->ping_fail ? 500 : 200;
		file = "ping.txt";
		break;
	default: /* SUBSCRIBE */
		break;
	}
	if (file) {
		char *b = slurp(file, &len);

		m->last_err = docker_sync_on_response(m->s, status, b, len, m->now);
		free(b);
	} else {
		m->last_err = docker_sync_on_response(m->s, status, body, len, m->now);
	}
	return true;
}

/* Serve until the core follows the stream or sleeps. */
static void serve_all(struct sim *m)
{
	while (serve(m))
		;
}

/* A fresh core watching glued_net at T0, its updates into m->out. */
static bool sim_start(struct sim *m)
{
	static const struct docker_sync_cfg cfg = {.network = "glued_net"};
	struct docker_sync_out out = {.ctx = m, .update = on_update};

	memset(m, 0, sizeof(*m));
	m->now = T0;
	m->s = docker_sync_new(&cfg, &out);
	T_ASSERT(m->s, "docker_sync_new");
	return m->s;
}

static void sim_stop(struct sim *m)
{
	docker_sync_free(m->s);
	for (size_t i = 0; i < m->eng.n; i++)
		free(m->eng.c[i].body);
}

enum op {
	END = 0,
	ENG,	  /* a: name, b: inspect file, c: name as run (or NULL), n: listed */
	ENG_RM,	  /* a: name: gone (inspect 404, not listed) */
	ENG_DOWN, /* n: every request fails */
	NET404,	  /* n: the network is missing */
	PINGFAIL, /* n: /_ping answers 500 */
	RUN,	  /* serve requests until FOLLOW or SLEEP */
	STEP,	  /* serve n requests */
	ANSWER,	  /* answer the pending request: n status, b file, "{literal" or NULL */
	EVC,	  /* container event: a action, b name */
	EVN,	  /* glued_net event: a action, b name (NULL: none) */
	EVRAW,	  /* a: the line */
	ADV,	  /* n ms pass */
	CUT,	  /* the transport failed: a why */
	OUT,	  /* a: updates since the last OUT */
	REQ,	  /* n: next request kind, a: its container (or NULL), b: its path (or NULL) */
	UNTIL,	  /* n: next request's until_ms - now */
	API,	  /* n: major * 100 + minor of the next request */
	STAT,	  /* a: counter, n: value */
	WHY,	  /* a: substring of the last down reason */
	ERR,	  /* n: the last on_response / on_event return */
};

struct step {
	enum op op;
	const char *a, *b, *c;
	long n;
};

#define S(op_, ...)                                                                                \
	{                                                                                          \
		.op = op_, __VA_ARGS__                                                             \
	}
/* The engine of most scenarios: web and db-1 running on glued_net. */
#define TWO                                                                                        \
	S(ENG, .a = "web", .b = "inspect_web.json", .n = 1),                                       \
	    S(ENG, .a = "db-1", .b = "inspect_db-1.json", .n = 1)
#define CONNECT S(RUN), S(REQ, .n = DOCKER_REQ_FOLLOW), S(STAT, .a = "connected", .n = 1)

static uint64_t stat_of(const struct docker_sync_stats *st, const char *name)
{
	if (!strcmp(name, "events"))
		return st->events;
	if (!strcmp(name, "event_errors"))
		return st->event_errors;
	if (!strcmp(name, "inspects"))
		return st->inspects;
	if (!strcmp(name, "reconnects"))
		return st->reconnects;
	if (!strcmp(name, "resyncs"))
		return st->resyncs;
	if (!strcmp(name, "stalls"))
		return st->stalls;
	if (!strcmp(name, "published"))
		return st->published;
	if (!strcmp(name, "connected"))
		return st->connected;
	fprintf(stderr, "unknown counter %s\n", name);
	exit(1);
}

static void event(struct sim *m, const char *line)
{
	m->last_err = docker_sync_on_event(m->s, line, strlen(line), m->now);
}

static void run_step(struct sim *m, const struct step *st, int k)
{
	char line[512];
	struct docker_sync_stats stats;

	switch (st->op) {
	case ENG:
		eng_set(&m->eng, st->a, st->b, st->c, st->n);
		break;
	case ENG_RM:
		eng_rm(&m->eng, st->a);
		break;
	case ENG_DOWN:
		m->eng.down = st->n;
		break;
	case NET404:
		m->eng.net404 = st->n;
		break;
	case PINGFAIL:
		m->eng.ping_fail = st->n;
		break;
	case RUN:
		for (int i = 0; serve(m); i++)
			T_ASSERT(i < 100, "step %d: RUN ends within 100 requests", k);
		break;
	case STEP:
		for (long i = 0; i < st->n; i++)
			T_ASSERT(serve(m), "step %d: a request to serve", k);
		break;
	case ANSWER: {
		size_t len = st->b ? strlen(st->b) : 0;
		char *b = !st->b ? NULL : st->b[0] == '{' ? strdup(st->b) : slurp(st->b, &len);

		m->last_err = docker_sync_on_response(m->s, st->n, b, len, m->now);
		free(b);
		break;
	}
	case EVC:
		snprintf(line, sizeof(line),
			 "{\"Type\":\"container\",\"Action\":\"%s\",\"Actor\":{\"ID\":\"%s\","
			 "\"Attributes\":{\"name\":\"%s\"}}}",
			 st->a, id_of(st->b), st->b);
		event(m, line);
		break;
	case EVN:
		snprintf(line, sizeof(line),
			 "{\"Type\":\"network\",\"Action\":\"%s\",\"Actor\":{\"ID\":\"" NET_ID
			 "\",\"Attributes\":{%s%s%s\"name\":\"glued_net\"}}}",
			 st->a, st->b ? "\"container\":\"" : "", st->b ? id_of(st->b) : "",
			 st->b ? "\"," : "");
		event(m, line);
		break;
	case EVRAW:
		event(m, st->a);
		break;
	case ADV:
		m->now += (uint64_t)st->n;
		break;
	case CUT:
		docker_sync_on_failure(m->s, st->a, m->now);
		break;
	case OUT:
		T_ASSERT(strcmp(m->out, st->a) == 0, "step %d: updates \"%s\", want \"%s\"", k,
			 m->out, st->a);
		m->out[0] = '\0';
		break;
	case REQ:
		docker_sync_next(m->s, m->now, &m->req);
		T_ASSERT(m->req.kind == (enum docker_req_kind)st->n,
			 "step %d: request %d, want %ld", k, m->req.kind, st->n);
		if (st->a)
			T_ASSERT(strcmp(m->req.id, id_of(st->a)) == 0,
				 "step %d: inspect %s, want %s", k, name_of(m->req.id), st->a);
		if (st->b)
			T_ASSERT(strcmp(m->req.path, st->b) == 0, "step %d: path %s, want %s", k,
				 m->req.path, st->b);
		break;
	case UNTIL:
		docker_sync_next(m->s, m->now, &m->req);
		T_ASSERT((long)(m->req.until_ms - m->now) == st->n,
			 "step %d: until now+%ld, want +%ld", k, (long)(m->req.until_ms - m->now),
			 st->n);
		break;
	case API:
		docker_sync_next(m->s, m->now, &m->req);
		T_ASSERT(m->req.api_major * 100 + m->req.api_minor == (unsigned)st->n,
			 "step %d: API %u.%u, want %ld", k, m->req.api_major, m->req.api_minor,
			 st->n);
		break;
	case STAT:
		docker_sync_get_stats(m->s, &stats);
		T_ASSERT(stat_of(&stats, st->a) == (uint64_t)st->n, "step %d: %s = %llu, want %ld",
			 k, st->a, (unsigned long long)stat_of(&stats, st->a), st->n);
		break;
	case WHY:
		T_ASSERT(strstr(m->reason, st->a), "step %d: reason \"%s\" lacks \"%s\"", k,
			 m->reason, st->a);
		break;
	case ERR:
		T_EQ_INT(m->last_err, st->n);
		break;
	case END:
		break;
	}
}

struct scenario {
	const char *name;
	struct step steps[48];
};

#define UP "net net +web +db-1 up" /* TWO connecting: network, gateways learned, both */
/* The start of most scenarios: TWO, connected, both published. */
#define TWO_UP TWO, CONNECT, S(OUT, .a = UP)

/* clang-format off */
static const struct scenario scenarios[] = {
	{ "connect: version, subscribe, network, list, one inspect per listed container, then up",
	  {
		S(REQ, .n = DOCKER_REQ_VERSION, .b = "/version"),
		S(API, .n = 0),
		S(ANSWER, .n = 200, .b = "version.json"),
		S(REQ, .n = DOCKER_REQ_SUBSCRIBE),
		S(API, .n = 141),
		S(ANSWER, .n = 200),
		S(REQ, .n = DOCKER_REQ_NETWORK, .b = "/networks/glued_net"),
		S(ANSWER, .n = 200, .b = "network_glued_net.json"),
		S(REQ, .n = DOCKER_REQ_LIST,
		  .b = "/containers/json?filters=%7B%22network%22%3A%5B%22glued_net%22%5D%7D"),
		S(ANSWER, .n = 200, .b = "list_glued_net.json"),
		S(REQ, .n = DOCKER_REQ_INSPECT, .a = "multi", .b = "/containers/" MULTI_ID "/json"),
		S(ANSWER, .n = 200, .b = "inspect_multi.json"),
		S(REQ, .n = DOCKER_REQ_INSPECT, .a = "db-1"),
		S(ANSWER, .n = 200, .b = "inspect_db-1.json"),
		S(REQ, .n = DOCKER_REQ_INSPECT, .a = "web"),
		S(OUT, .a = "net net +multi +db-1"),
		S(STAT, .a = "connected", .n = 0),
		S(ANSWER, .n = 200, .b = "inspect_web.json"),
		S(OUT, .a = "+web up"),
		S(REQ, .n = DOCKER_REQ_FOLLOW),
		S(UNTIL, .n = 30000),
		S(STAT, .a = "inspects", .n = 3),
		S(STAT, .a = "resyncs", .n = 1),
		S(STAT, .a = "published", .n = 3),
		S(STAT, .a = "reconnects", .n = 0),
	  } },

	{ "die withdraws at once without an inspect; kill and stop are not inspected",
	  {
		TWO_UP,
		S(EVC, .a = "kill", .b = "web"),
		S(REQ, .n = DOCKER_REQ_FOLLOW),
		S(OUT, .a = ""),
		S(EVC, .a = "die", .b = "web"),
		S(OUT, .a = "-web"),
		S(REQ, .n = DOCKER_REQ_FOLLOW),
		S(EVC, .a = "stop", .b = "web"),
		S(REQ, .n = DOCKER_REQ_FOLLOW),
		S(OUT, .a = ""),
		S(STAT, .a = "inspects", .n = 2),
		S(STAT, .a = "events", .n = 3),
		S(STAT, .a = "published", .n = 1),
	  } },

	{ "a restart's start publishes again what its die withdrew; restart re-inspects",
	  {
		TWO_UP,
		S(EVC, .a = "kill", .b = "web"),
		S(EVC, .a = "die", .b = "web"),
		S(OUT, .a = "-web"),
		S(EVC, .a = "start", .b = "web"),
		S(REQ, .n = DOCKER_REQ_INSPECT, .a = "web"),
		S(RUN),
		S(OUT, .a = "+web"),
		S(STAT, .a = "published", .n = 2),
		S(EVC, .a = "restart", .b = "web"),
		S(REQ, .n = DOCKER_REQ_INSPECT, .a = "web"),
		S(RUN),
		S(OUT, .a = ""),
		S(STAT, .a = "inspects", .n = 4),
	  } },

	{ "event before list: started between subscribe and list, published once by the list",
	  {
		S(ENG, .a = "web", .b = "inspect_web.json", .n = 1),
		CONNECT,
		S(OUT, .a = "net net +web up"),
		S(EVN, .a = "connect", .b = "web"),
		S(REQ, .n = DOCKER_REQ_INSPECT, .a = "web"),
		S(RUN),
		S(EVC, .a = "start", .b = "web"),
		S(REQ, .n = DOCKER_REQ_INSPECT, .a = "web"),
		S(RUN),
		S(OUT, .a = ""),
		S(STAT, .a = "inspects", .n = 3),
		S(STAT, .a = "published", .n = 1),
	  } },

	{ "event after list: a container the list missed is published by its events",
	  {
		CONNECT,
		S(OUT, .a = "net up"),
		S(ENG, .a = "web", .b = "inspect_web.json", .n = 1),
		S(EVN, .a = "connect", .b = "web"),
		S(RUN),
		S(OUT, .a = "net +web"),
		S(EVC, .a = "start", .b = "web"),
		S(RUN),
		S(OUT, .a = ""),
	  } },

	{ "inspect answered after the container was removed: 404 withdraws; die, destroy: nothing",
	  {
		TWO_UP,
		S(ENG_RM, .a = "web"),
		S(EVC, .a = "start", .b = "web"),
		S(REQ, .n = DOCKER_REQ_INSPECT, .a = "web"),
		S(RUN),
		S(OUT, .a = "-web"),
		S(EVC, .a = "die", .b = "web"),
		S(EVC, .a = "destroy", .b = "web"),
		S(OUT, .a = ""),
		S(STAT, .a = "published", .n = 1),
		S(STAT, .a = "connected", .n = 1),
	  } },

	{ "inspect 404 for a container never published emits nothing",
	  {
		CONNECT,
		S(OUT, .a = "net up"),
		S(EVN, .a = "connect", .b = "web"),
		S(REQ, .n = DOCKER_REQ_INSPECT, .a = "web"),
		S(ANSWER, .n = 404, .b = "inspect_404.json"),
		S(ERR, .n = 0),
		S(REQ, .n = DOCKER_REQ_FOLLOW),
		S(OUT, .a = ""),
	  } },

	{ "stream cut mid-resync: nothing withdrawn while away; the reconnect's list reconciles",
	  {
		TWO_UP,
		S(ADV, .n = 30000),
		S(REQ, .n = DOCKER_REQ_PING),
		S(STEP, .n = 3),
		S(REQ, .n = DOCKER_REQ_INSPECT, .a = "web"),
		S(STEP, .n = 1),
		S(CUT, .a = "/events: transfer closed with outstanding read data remaining"),
		S(OUT, .a = "down"),
		S(WHY, .a = "transfer closed"),
		S(REQ, .n = DOCKER_REQ_SLEEP),
		S(UNTIL, .n = 100),
		S(STAT, .a = "published", .n = 2),
		S(ENG_RM, .a = "db-1"),
		S(ADV, .n = 99),
		S(REQ, .n = DOCKER_REQ_SLEEP),
		S(ADV, .n = 1),
		S(RUN),
		S(OUT, .a = "-db-1 up"),
		S(STAT, .a = "reconnects", .n = 1),
		S(STAT, .a = "published", .n = 1),
		S(STAT, .a = "stalls", .n = 0),
	  } },

	{ "rename during the periodic pass: new name published, its event explains it, no stall",
	  {
		TWO_UP,
		S(ADV, .n = 30000),
		S(STEP, .n = 3),
		S(ENG, .a = "web", .b = "inspect_web.json", .c = "web2", .n = 1),
		S(RUN),
		S(OUT, .a = "+web2"),
		S(UNTIL, .n = 500),
		S(ADV, .n = 100),
		S(EVC, .a = "rename", .b = "web"),
		S(REQ, .n = DOCKER_REQ_INSPECT, .a = "web"),
		S(RUN),
		S(OUT, .a = ""),
		S(UNTIL, .n = 30000),
		S(ADV, .n = 400),
		S(REQ, .n = DOCKER_REQ_FOLLOW),
		S(STAT, .a = "stalls", .n = 0),
		S(STAT, .a = "resyncs", .n = 2),
	  } },

	{ "rename event: the re-inspect republishes under the new name",
	  {
		TWO_UP,
		S(ENG, .a = "web", .b = "inspect_web.json", .c = "web2", .n = 1),
		S(EVC, .a = "rename", .b = "web"),
		S(RUN),
		S(OUT, .a = "+web2"),
		S(STAT, .a = "published", .n = 2),
	  } },

	{ "watchdog: a change the stream never reported tears it down after 500 ms",
	  {
		TWO_UP,
		S(ENG_RM, .a = "web"),
		S(ADV, .n = 30000),
		S(REQ, .n = DOCKER_REQ_PING, .b = "/_ping"),
		S(RUN),
		S(OUT, .a = "-web"),
		S(REQ, .n = DOCKER_REQ_FOLLOW),
		S(UNTIL, .n = 500),
		S(ADV, .n = 499),
		S(REQ, .n = DOCKER_REQ_FOLLOW),
		S(ADV, .n = 1),
		S(REQ, .n = DOCKER_REQ_SLEEP),
		S(OUT, .a = "down"),
		S(WHY, .a = "resync found 1 change(s) the event stream did not report (first 530c29abcb47)"),
		S(STAT, .a = "stalls", .n = 1),
		S(STAT, .a = "resyncs", .n = 2),
	  } },

	{ "watchdog: the event in flight explains the change; the next resync is 30 s later",
	  {
		TWO_UP,
		S(ENG_RM, .a = "web"),
		S(ADV, .n = 30000),
		S(RUN),
		S(OUT, .a = "-web"),
		S(ADV, .n = 200),
		S(EVC, .a = "die", .b = "web"),
		S(OUT, .a = ""),
		S(REQ, .n = DOCKER_REQ_FOLLOW),
		S(UNTIL, .n = 30000),
		S(ADV, .n = 300),
		S(REQ, .n = DOCKER_REQ_FOLLOW),
		S(STAT, .a = "stalls", .n = 0),
	  } },

	{ "quiet stream: nothing until the resync period, then ping and a pass that changes nothing",
	  {
		TWO_UP,
		S(UNTIL, .n = 30000),
		S(ADV, .n = 29999),
		S(REQ, .n = DOCKER_REQ_FOLLOW),
		S(UNTIL, .n = 1),
		S(ADV, .n = 1),
		S(REQ, .n = DOCKER_REQ_PING),
		S(STEP, .n = 1),
		S(REQ, .n = DOCKER_REQ_NETWORK),
		S(RUN),
		S(OUT, .a = ""),
		S(REQ, .n = DOCKER_REQ_FOLLOW),
		S(UNTIL, .n = 30000),
		S(STAT, .a = "resyncs", .n = 2),
		S(STAT, .a = "inspects", .n = 4),
	  } },

	{ "a failed ping is a stall: the session ends, the records stay, reconnect 100 ms later",
	  {
		TWO_UP,
		S(PINGFAIL, .n = 1),
		S(ADV, .n = 30000),
		S(RUN),
		S(OUT, .a = "down"),
		S(WHY, .a = "/_ping: HTTP 500"),
		S(STAT, .a = "stalls", .n = 1),
		S(STAT, .a = "published", .n = 2),
		S(UNTIL, .n = 100),
		S(PINGFAIL, .n = 0),
		S(ADV, .n = 100),
		S(RUN),
		S(OUT, .a = "up"),
		S(STAT, .a = "reconnects", .n = 1),
	  } },

	{ "a ping without answer is a stall; later failures while down are not",
	  {
		TWO_UP,
		S(ENG_DOWN, .n = 1),
		S(ADV, .n = 30000),
		S(RUN),
		S(OUT, .a = "down"),
		S(STAT, .a = "stalls", .n = 1),
		S(ADV, .n = 100),
		S(RUN),
		S(OUT, .a = ""),
		S(STAT, .a = "stalls", .n = 1),
		S(UNTIL, .n = 200),
	  } },

	{ "backoff: 100 ms doubling to 3 s while down, back to 100 ms after a session was up",
	  {
		S(ENG_DOWN, .n = 1),
		S(RUN),
		S(OUT, .a = "down"),
		S(WHY, .a = "engine down"),
		S(UNTIL, .n = 100),
		S(ADV, .n = 50),
		S(REQ, .n = DOCKER_REQ_SLEEP),
		S(UNTIL, .n = 50),
		S(ADV, .n = 50),
		S(RUN),
		S(UNTIL, .n = 200),
		S(ADV, .n = 200),
		S(RUN),
		S(UNTIL, .n = 400),
		S(ADV, .n = 400),
		S(RUN),
		S(UNTIL, .n = 800),
		S(ADV, .n = 800),
		S(RUN),
		S(UNTIL, .n = 1600),
		S(ADV, .n = 1600),
		S(RUN),
		S(UNTIL, .n = 3000),
		S(ADV, .n = 3000),
		S(RUN),
		S(UNTIL, .n = 3000),
		S(OUT, .a = ""),
		S(STAT, .a = "reconnects", .n = 6),
		S(ENG_DOWN, .n = 0),
		S(ADV, .n = 3000),
		S(RUN),
		S(OUT, .a = "net up"),
		S(CUT, .a = "gone"),
		S(OUT, .a = "down"),
		S(UNTIL, .n = 100),
	  } },

	{ "disconnect withdraws without an inspect, connect publishes again; other_net is not ours",
	  {
		TWO_UP,
		S(EVN, .a = "disconnect", .b = "web"),
		S(REQ, .n = DOCKER_REQ_FOLLOW),
		S(OUT, .a = "-web"),
		S(EVN, .a = "connect", .b = "web"),
		S(REQ, .n = DOCKER_REQ_INSPECT, .a = "web"),
		S(RUN),
		S(OUT, .a = "+web"),
		S(EVRAW, .a = "{\"Type\":\"network\",\"Action\":\"disconnect\",\"Actor\":{\"ID\":\""
			      DB_ID "\",\"Attributes\":{\"name\":\"other_net\",\"container\":\""
			      WEB_ID "\"}}}"),
		S(ERR, .n = 0),
		S(REQ, .n = DOCKER_REQ_FOLLOW),
		S(OUT, .a = ""),
	  } },

	{ "duplicate events: a second start publishes nothing, a second die withdraws nothing",
	  {
		TWO_UP,
		S(EVC, .a = "start", .b = "web"),
		S(RUN),
		S(EVC, .a = "start", .b = "web"),
		S(RUN),
		S(OUT, .a = ""),
		S(EVC, .a = "die", .b = "web"),
		S(EVC, .a = "die", .b = "web"),
		S(EVN, .a = "disconnect", .b = "web"),
		S(OUT, .a = "-web"),
		S(STAT, .a = "inspects", .n = 4),
		S(STAT, .a = "events", .n = 5),
	  } },

	{ "network missing at connect: up with nothing; its create resyncs, its destroy withdraws",
	  {
		S(NET404, .n = 1),
		S(ENG, .a = "web", .b = "inspect_web.json", .n = 1),
		CONNECT,
		S(OUT, .a = "up"),
		S(STAT, .a = "published", .n = 0),
		S(NET404, .n = 0),
		S(EVN, .a = "create"),
		S(REQ, .n = DOCKER_REQ_NETWORK),
		S(RUN),
		S(OUT, .a = "net net +web"),
		S(STAT, .a = "resyncs", .n = 2),
		S(NET404, .n = 1),
		S(EVN, .a = "destroy"),
		S(RUN),
		S(OUT, .a = "nonet -web"),
		S(STAT, .a = "connected", .n = 1),
	  } },

	{ "an inspect body that does not parse is returned, skipped, and unseen by the pass",
	  {
		TWO_UP,
		S(EVC, .a = "start", .b = "web"),
		S(REQ, .n = DOCKER_REQ_INSPECT, .a = "web"),
		S(ANSWER, .n = 200, .b = "version.json"),
		S(ERR, .n = GLUED_EMALF),
		S(REQ, .n = DOCKER_REQ_FOLLOW),
		S(OUT, .a = ""),
		S(ADV, .n = 30000),
		S(STEP, .n = 3),
		S(REQ, .n = DOCKER_REQ_INSPECT, .a = "web"),
		S(ANSWER, .n = 200, .b = "{\"Id\":7}"),
		S(ERR, .n = GLUED_EMALF),
		S(RUN),
		S(OUT, .a = "-web"),
		S(STAT, .a = "connected", .n = 1),
	  } },

	{ "an inspect answered with another container's body is skipped, not published",
	  {
		TWO_UP,
		S(EVC, .a = "die", .b = "web"),
		S(OUT, .a = "-web"),
		S(EVC, .a = "start", .b = "web"),
		S(REQ, .n = DOCKER_REQ_INSPECT, .a = "web"),
		S(ANSWER, .n = 200, .b = "inspect_multi.json"),
		S(ERR, .n = GLUED_EPROTO),
		S(OUT, .a = ""),
		S(STAT, .a = "published", .n = 1),
		S(REQ, .n = DOCKER_REQ_FOLLOW),
	  } },

	{ "engine error answers end the session with the engine's message",
	  {
		S(STEP, .n = 3),
		S(REQ, .n = DOCKER_REQ_LIST),
		S(ANSWER, .n = 500, .b = "network_404.json"),
		S(OUT, .a = "net down"),
		S(WHY, .a = "/containers/json: HTTP 500: network nosuch not found"),
		S(REQ, .n = DOCKER_REQ_SLEEP),
		S(ADV, .n = 100),
		S(STEP, .n = 1),
		S(REQ, .n = DOCKER_REQ_SUBSCRIBE),
		S(ANSWER, .n = 404),
		S(OUT, .a = ""),
		S(REQ, .n = DOCKER_REQ_SLEEP),
		S(UNTIL, .n = 200),
	  } },

	{ "API version: what /version said, clamped to 1.44; no ApiVersion ends the session",
	  {
		S(REQ, .n = DOCKER_REQ_VERSION),
		S(API, .n = 0),
		S(ANSWER, .n = 200, .b = "{\"ApiVersion\":\"1.47\"}"),
		S(REQ, .n = DOCKER_REQ_SUBSCRIBE),
		S(API, .n = 144),
		S(CUT, .a = "x"),
		S(OUT, .a = "down"),
		S(ADV, .n = 100),
		S(REQ, .n = DOCKER_REQ_VERSION),
		S(API, .n = 0),
		S(ANSWER, .n = 200, .b = "{}"),
		S(REQ, .n = DOCKER_REQ_SLEEP),
		S(STAT, .a = "reconnects", .n = 1),
	  } },

	{ "unparsable event lines are counted and skipped; events only while following",
	  {
		S(EVC, .a = "start", .b = "web"),
		S(ERR, .n = -EINVAL),
		S(REQ, .n = DOCKER_REQ_VERSION),
		TWO_UP,
		S(EVRAW, .a = "{"),
		S(ERR, .n = GLUED_EMALF),
		S(STAT, .a = "event_errors", .n = 1),
		S(STAT, .a = "events", .n = 0),
		S(REQ, .n = DOCKER_REQ_FOLLOW),
	  } },

	{ "running on another network or stopped: not published",
	  {
		S(ENG, .a = "web", .b = "inspect_other.json"),
		CONNECT,
		S(OUT, .a = "net up"),
		S(EVN, .a = "connect", .b = "web"),
		S(RUN),
		S(OUT, .a = ""),
		S(ENG, .a = "web", .b = "inspect_stopped.json"),
		S(EVC, .a = "start", .b = "web"),
		S(RUN),
		S(OUT, .a = ""),
		S(STAT, .a = "published", .n = 0),
	  } },
};
/* clang-format on */

static void run_scenario(const struct scenario *sc)
{
	struct sim m;

	T_CASE(sc->name)
	{
		if (!sim_start(&m))
			break;
		for (int k = 0; k < 48 && sc->steps[k].op != END; k++)
			run_step(&m, &sc->steps[k], k);
		sim_stop(&m);
	}
}

/* The recorded action stream (ev: create, connect, start, rename,
 * disconnect x2, connect, kill, die, stop, start, rm; then run: docker run
 * --rm and its kill) against an engine where both run throughout: what the
 * core does is decided by each event alone. */
static void test_recorded_stream(void)
{
	struct sim m;
	struct docker_sync_stats st;
	size_t len, lines = 0;
	char *buf = slurp("events_actions.jsonl", &len), *line = buf, *nl;

	T_CASE("recorded stream: connect inspects, disconnect and die withdraw, kill/stop nothing")
	{
		if (!sim_start(&m))
			break;
		serve_all(&m);
		T_EQ_STR(m.out, "net up");
		m.out[0] = '\0';
		eng_set(&m.eng, "ev", "inspect_web.json", NULL, true);
		eng_set(&m.eng, "run", "inspect_web.json", NULL, true);
		while ((nl = memchr(line, '\n', (size_t)(buf + len - line)))) {
			T_EQ_INT(docker_sync_on_event(m.s, line, (size_t)(nl - line), m.now), 0);
			serve_all(&m);
			line = nl + 1;
			lines++;
		}
		T_EQ_INT(lines, 27);
		T_EQ_STR(m.out, "net +ev -ev +ev -ev +ev -ev +run -run");
		docker_sync_get_stats(m.s, &st);
		T_EQ_INT(st.events, 27);
		T_EQ_INT(st.inspects, 8); /* connect x4, start x3, rename */
		T_EQ_INT(st.published, 0);
		sim_stop(&m);
	}
	free(buf);
}

/* The container fast path follows the netns: a PUT carries the SandboxKey,
 * and a new one is a new PUT even when names and addresses stay. */
static void test_sandbox(void)
{
	struct sim m;
	char *p, *q;

	T_CASE("a PUT carries the SandboxKey; the same entry in a new netns is sent again")
	{
		if (!sim_start(&m))
			break;
		eng_set(&m.eng, "web", "inspect_web.json", NULL, true);
		serve_all(&m);
		T_EQ_STR(m.out, "net net +web up");
		T_ASSERT(strstr(m.sandbox, "/netns/") != NULL, "sandbox \"%s\"", m.sandbox);
		m.out[0] = '\0';
		/* "start" again, same netns: nothing to send */
		event(&m, "{\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{\"ID\":"
			  "\"" WEB_ID "\"}}");
		serve_all(&m);
		T_EQ_STR(m.out, "");
		/* docker restart without the die seen: a new SandboxKey */
		p = strstr(m.eng.c[0].body, "/netns/");
		q = p ? strchr(p, '"') : NULL;
		T_ASSERT(q && q - p > 8, "the body names a netns");
		if (!q)
			break;
		memset(q - 4, 'f', 4);
		event(&m, "{\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{\"ID\":"
			  "\"" WEB_ID "\"}}");
		serve_all(&m);
		T_EQ_STR(m.out, "+web");
		T_ASSERT(strstr(m.sandbox, "ffff") != NULL, "new sandbox \"%s\"", m.sandbox);
		sim_stop(&m);
	}
}

static void pub_id(char *id, unsigned i)
{
	/* Spread over the first 16 digits, which are what the set hashes. */
	snprintf(id, DOCKER_ID_MAX + 1, "%016llx%048x",
		 (unsigned long long)i * 0x9e3779b97f4a7c15ULL, i);
}

static size_t n_swept;

static void count_swept(void *ctx, const char *id)
{
	struct docker_pub *ps = ctx;

	T_ASSERT(!docker_pub_find(ps, id), "swept %.12s is gone when fn runs", id);
	n_swept++;
}

static void test_pub(void)
{
	struct docker_pub ps = {0};
	char id[DOCKER_ID_MAX + 1];
	size_t found = 0, wrong = 0;

	T_CASE("published set: 3000 IDs in, every other removed, the rest still found")
	{
		for (unsigned i = 0; i < 3000; i++) {
			struct docker_pub_slot *p;

			pub_id(id, i);
			p = docker_pub_insert(&ps, id);
			T_ASSERT(p, "insert %u", i);
			if (!p)
				break;
			p->gen = i % 3 == 0 ? 7 : 6;
		}
		T_EQ_INT(ps.n, 3000);
		for (unsigned i = 0; i < 3000; i += 2) {
			pub_id(id, i);
			docker_pub_remove(&ps, docker_pub_find(&ps, id));
		}
		T_EQ_INT(ps.n, 1500);
		for (unsigned i = 0; i < 3000; i++) {
			pub_id(id, i);
			if (!!docker_pub_find(&ps, id) == (i % 2 == 1))
				found++;
			else
				wrong++;
		}
		T_EQ_INT(found, 3000);
		T_EQ_INT(wrong, 0);
	}
	T_CASE("published set: a sweep removes every member of another generation")
	{
		docker_pub_sweep(&ps, 7, count_swept, &ps);
		T_EQ_INT(n_swept, 1000); /* odd i, i % 3 != 0 */
		T_EQ_INT(ps.n, 500);
		pub_id(id, 3);
		T_ASSERT(docker_pub_find(&ps, id), "gen 7 kept");
		pub_id(id, 5);
		T_ASSERT(!docker_pub_find(&ps, id), "gen 6 swept");
	}
	docker_pub_fini(&ps);
	T_CASE("digest: names and addresses count, in order")
	{
		struct table_entry a = {.n_names = 2, .names = {"ab", "c"}}, b = a;

		T_ASSERT(docker_pub_digest(&a) == docker_pub_digest(&b), "equal entries");
		snprintf(b.names[1], sizeof(b.names[1]), "d");
		T_ASSERT(docker_pub_digest(&a) != docker_pub_digest(&b), "another name");
		b = a;
		b.n_addrs = 1;
		T_ASSERT(addr_parse(&b.addrs[0], "10.0.0.1") == 0, "parse");
		T_ASSERT(docker_pub_digest(&a) != docker_pub_digest(&b), "an address more");
	}
}

static void test_names(void)
{
	T_CASE("network names: Docker's charset only, so a path needs no escaping")
	{
		T_ASSERT(docker_sync_network_valid("glued_net"), "glued_net");
		T_ASSERT(docker_sync_network_valid("a.b-c_1"), "a.b-c_1");
		T_ASSERT(!docker_sync_network_valid(""), "empty");
		T_ASSERT(!docker_sync_network_valid(NULL), "NULL");
		T_ASSERT(!docker_sync_network_valid("_x"), "leading _");
		T_ASSERT(!docker_sync_network_valid("a/b"), "slash");
		T_ASSERT(!docker_sync_network_valid("a%22"), "percent");
	}
	T_CASE("docker_sync_new refuses an invalid network name")
	{
		struct sim m = {0};
		struct docker_sync_out out = {.ctx = &m, .update = on_update};
		struct docker_sync_cfg cfg = {.network = "a b"};

		T_ASSERT(!docker_sync_new(&cfg, &out), "NULL");
	}
}

int main(void)
{
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		run_scenario(&scenarios[i]);
	test_sandbox();
	test_recorded_stream();
	test_pub();
	test_names();
	return t_summary();
}
