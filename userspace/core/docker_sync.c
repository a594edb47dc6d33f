/* The Docker watcher's state machine: sessions, the published set, the
 * reconcile sweep, the periodic resync with its missed-event watchdog, and
 * the reconnect backoff.
 *
 * It owns every decision between "the engine said this" and "publish or
 * withdraw that", and must never do I/O, read a clock, log or look at curl:
 * requests leave as struct docker_req, answers come back as status + body,
 * time as now_ms. Bodies are parsed by core/docker_json.
 *
 * A session runs VERSION, SUBSCRIBE, NETWORK, LIST, one INSPECT per listed
 * ID, then FOLLOWs the stream. Each event is handled to the end (its inspect
 * answered) before the next line is read, as the engine wrote them. Every
 * resync period: PING, NETWORK, LIST + INSPECTs (the periodic pass), and if
 * that pass changed anything, FOLLOW for up to DOCKER_SYNC_EXPLAIN_MS until
 * events explain every change, else the stream is declared stalled.
 */
#include "core/docker_sync.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/docker_pub.h"

enum phase {
	PH_DOWN, /* session over; retry at retry_ms */
	PH_VERSION,
	PH_SUBSCRIBE,
	PH_NETWORK,
	PH_LIST,
	PH_INSPECT, /* ids[next_id] of a list pass, or one event's container */
	PH_PING,
	PH_FOLLOW,
};

/* What the NETWORK + LIST pass under way is for. */
enum pass {
	PASS_CONNECT,  /* a new session: when done, the session is up */
	PASS_PERIODIC, /* the watchdog: changes it makes must be explained by events */
	PASS_EVENT,    /* the watched network was created or removed */
};

struct docker_sync {
	char net[DOCKER_NAME_MAX + 1];
	unsigned resync_ms, ping_timeout_ms;
	struct docker_sync_out out;

	enum phase phase;
	enum pass pass;
	unsigned api_major, api_minor;
	struct docker_network net_info; /* last sent */
	struct docker_pub pub;		/* published containers */
	uint32_t gen;
	bool connected, logged_down;

	/* The list pass: IDs of the list answer, the one inspected now. */
	char (*ids)[DOCKER_ID_MAX + 1];
	size_t n_ids, cap_ids, next_id;
	bool in_list;
	char inspect_id[DOCKER_ID_MAX + 1];

	unsigned backoff_ms;
	uint64_t retry_ms, next_resync_ms, explain_until_ms;
	/* Watchdog: IDs the periodic pass changed, not yet explained by an
	 * event. tracking while the periodic pass inspects; explaining while
	 * FOLLOW waits for their events. */
	char misses[DOCKER_SYNC_MISSES_MAX][DOCKER_ID_MAX + 1];
	size_t n_misses;
	bool tracking, explaining;

	struct docker_sync_stats st;
	char why[160];
};

/* --- output ----------------------------------------------------------------- */

static void note(struct docker_sync *s, enum docker_note n, const char *id, const char *text)
{
	if (s->out.note)
		s->out.note(s->out.ctx, n, id ? id : "", text ? text : "");
}

static void emit_state(struct docker_sync *s, bool connected)
{
	struct docker_update u = {.kind = DOCKER_UPDATE_STATE};

	u.state.connected = connected;
	u.state.api_major = s->api_major;
	u.state.api_minor = s->api_minor;
	if (!connected)
		snprintf(u.state.reason, sizeof(u.state.reason), "%s", s->why);
	s->st.connected = connected;
	s->out.update(s->out.ctx, &u);
}

static void emit_network(struct docker_sync *s, const struct docker_network *n)
{
	struct docker_update u = {.kind = DOCKER_UPDATE_NETWORK};

	if (docker_network_eq(&s->net_info, n))
		return;
	s->net_info = *n;
	u.network = *n;
	s->out.update(s->out.ctx, &u);
}

/* What a PUT carries: the entry and the sandbox (FNV-1a over it, mixed
 * in), so a container back in a new netns with the same names is sent. */
static uint64_t put_digest(const struct docker_container *c)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const char *p = c->sandbox; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	return docker_pub_digest(&c->entry) ^ h;
}

/* Publish c unless the same entry was sent last; either way c is seen by
 * this pass. */
static void publish(struct docker_sync *s, const struct docker_container *c, uint64_t now_ms)
{
	struct docker_update u = {.kind = DOCKER_UPDATE_PUT};
	uint64_t d = put_digest(c);
	struct docker_pub_slot *p = docker_pub_find(&s->pub, c->entry.owner);

	if (p) {
		p->gen = s->gen;
		if (p->digest == d)
			return;
	} else {
		p = docker_pub_insert(&s->pub, c->entry.owner);
		if (!p) {
			note(s, DOCKER_NOTE_NO_MEMORY, c->entry.owner, c->name);
			return;
		}
		p->gen = s->gen;
		s->st.published = s->pub.n;
	}
	p->digest = d;
	u.put = c->entry;
	u.put.updated_ms = now_ms;
	memcpy(u.sandbox, c->sandbox, sizeof(u.sandbox));
	s->out.update(s->out.ctx, &u);
}

static bool withdraw(struct docker_sync *s, const char *id)
{
	struct docker_update u = {.kind = DOCKER_UPDATE_DEL};
	struct docker_pub_slot *p = docker_pub_find(&s->pub, id);

	if (!p)
		return false;
	snprintf(u.del_owner, sizeof(u.del_owner), "%s", id);
	docker_pub_remove(&s->pub, p);
	s->st.published = s->pub.n;
	s->out.update(s->out.ctx, &u);
	return true;
}

/* --- watchdog ---------------------------------------------------------------- */

static void miss_note(struct docker_sync *s, const char *id)
{
	if (s->tracking && s->n_misses < DOCKER_SYNC_MISSES_MAX)
		strcpy(s->misses[s->n_misses++], id);
}

static void miss_explain(struct docker_sync *s, const char *id)
{
	for (size_t i = 0; i < s->n_misses; i++) {
		if (strcmp(s->misses[i], id) == 0) {
			memmove(s->misses[i], s->misses[i + 1],
				(s->n_misses - i - 1) * sizeof(s->misses[0]));
			s->n_misses--;
			return;
		}
	}
}

/* --- sessions ---------------------------------------------------------------- */

/* The path of the request a phase makes (the "why" of its failures too). */
static void phase_path(const struct docker_sync *s, enum phase ph, char *path, size_t size)
{
	switch (ph) {
	case PH_VERSION:
		snprintf(path, size, "/version");
		break;
	case PH_SUBSCRIBE:
		snprintf(path, size,
			 "/events?filters=%%7B%%22type%%22%%3A%%5B%%22container%%22"
			 "%%2C%%22network%%22%%5D%%7D");
		break;
	case PH_NETWORK:
		snprintf(path, size, "/networks/%s", s->net);
		break;
	case PH_LIST:
		snprintf(path, size,
			 "/containers/json?filters=%%7B%%22network%%22%%3A%%5B%%22%s%%22%%5D%%7D",
			 s->net);
		break;
	case PH_INSPECT:
		snprintf(path, size, "/containers/%s/json", s->inspect_id);
		break;
	case PH_PING:
		snprintf(path, size, "/_ping");
		break;
	default:
		path[0] = '\0';
		break;
	}
}

/* End the session: the table keeps what it has; retry after the backoff. */
static void session_end(struct docker_sync *s, uint64_t now_ms)
{
	s->tracking = s->explaining = s->in_list = false;
	s->n_ids = 0;
	if (s->connected) {
		note(s, DOCKER_NOTE_LOST, NULL, s->why);
		s->connected = false;
		s->logged_down = true;
		emit_state(s, false);
		s->backoff_ms = DOCKER_SYNC_BACKOFF_MIN_MS;
	} else if (!s->logged_down) {
		note(s, DOCKER_NOTE_CANNOT_CONNECT, NULL, s->why);
		s->logged_down = true;
		emit_state(s, false);
	} else {
		note(s, DOCKER_NOTE_STILL_DOWN, NULL, s->why);
	}
	s->retry_ms = now_ms + s->backoff_ms;
	s->backoff_ms = s->backoff_ms * 2 > DOCKER_SYNC_BACKOFF_MAX_MS ? DOCKER_SYNC_BACKOFF_MAX_MS
								       : s->backoff_ms * 2;
	s->phase = PH_DOWN;
}

void docker_sync_on_failure(struct docker_sync *s, const char *why, uint64_t now_ms)
{
	if (s->phase == PH_DOWN)
		return;
	if (s->phase == PH_PING)
		s->st.stalls++;
	snprintf(s->why, sizeof(s->why), "%s", why && why[0] ? why : "failed");
	session_end(s, now_ms);
}

/* A non-2xx answer: "path: HTTP n: message". */
static void http_fail(struct docker_sync *s, long status, const char *body, size_t len,
		      uint64_t now_ms)
{
	char path[DOCKER_SYNC_PATH_MAX], msg[100];

	phase_path(s, s->phase, path, sizeof(path));
	if (s->phase == PH_LIST)
		snprintf(path, sizeof(path), "/containers/json");
	docker_json_error_message(body, len, msg, sizeof(msg));
	snprintf(s->why, sizeof(s->why), "%s: HTTP %ld%s%s", path, status, msg[0] ? ": " : "", msg);
	session_end(s, now_ms);
}

static void parse_fail(struct docker_sync *s, const char *what, int err, uint64_t now_ms)
{
	snprintf(s->why, sizeof(s->why), "%s: %s", what, glued_strerror(err));
	session_end(s, now_ms);
}

static void swept(void *ctx, const char *id)
{
	struct docker_sync *s = ctx;
	struct docker_update u = {.kind = DOCKER_UPDATE_DEL};

	snprintf(u.del_owner, sizeof(u.del_owner), "%s", id);
	s->st.published = s->pub.n;
	s->out.update(s->out.ctx, &u);
	miss_note(s, id);
}

/* The list pass is complete: withdraw what it did not see, then go on as
 * its purpose says. */
static void list_done(struct docker_sync *s, uint64_t now_ms)
{
	docker_pub_sweep(&s->pub, s->gen, swept, s);
	s->st.resyncs++;
	s->tracking = false;
	s->in_list = false;
	s->n_ids = 0;
	s->phase = PH_FOLLOW;
	switch (s->pass) {
	case PASS_CONNECT: {
		char api[32];

		s->connected = true;
		s->logged_down = false;
		snprintf(api, sizeof(api), "%u.%u", s->api_major, s->api_minor);
		note(s, DOCKER_NOTE_CONNECTED, NULL, api);
		emit_state(s, true);
		s->next_resync_ms = now_ms + s->resync_ms;
		break;
	}
	case PASS_PERIODIC:
		if (s->n_misses) {
			s->explaining = true;
			s->explain_until_ms = now_ms + DOCKER_SYNC_EXPLAIN_MS;
		} else {
			s->next_resync_ms = now_ms + s->resync_ms;
		}
		break;
	case PASS_EVENT:
		break;
	}
}

static void inspect_next(struct docker_sync *s, uint64_t now_ms)
{
	if (s->next_id == s->n_ids) {
		list_done(s, now_ms);
		return;
	}
	strcpy(s->inspect_id, s->ids[s->next_id++]);
	s->phase = PH_INSPECT;
}

static int on_version(struct docker_sync *s, long status, const char *body, size_t len,
		      uint64_t now_ms)
{
	unsigned maj, min;
	int err;

	if (status != 200) {
		http_fail(s, status, body, len, now_ms);
		return 0;
	}
	err = docker_json_parse_version(body, len, &maj, &min);
	if (err) {
		parse_fail(s, "/version", err, now_ms);
		return 0;
	}
	docker_api_clamp(&maj, &min);
	s->api_major = maj;
	s->api_minor = min;
	s->phase = PH_SUBSCRIBE;
	return 0;
}

/* A missing network is not an error: it may be created later (the stream
 * says so), and nothing is on it meanwhile. */
static int on_network(struct docker_sync *s, long status, const char *body, size_t len,
		      uint64_t now_ms)
{
	struct docker_network n;
	char path[DOCKER_SYNC_PATH_MAX];
	int err;

	if (status == 404) {
		if (s->net_info.id[0] || !s->connected)
			note(s, DOCKER_NOTE_NET_MISSING, NULL, s->net);
		memset(&n, 0, sizeof(n));
		emit_network(s, &n);
	} else if (status != 200) {
		http_fail(s, status, body, len, now_ms);
		return 0;
	} else {
		err = docker_json_parse_network(body, len, &n);
		if (err) {
			phase_path(s, PH_NETWORK, path, sizeof(path));
			parse_fail(s, path, err, now_ms);
			return 0;
		}
		/* Keep gateways learned from containers while the network is the same. */
		if (strcmp(n.id, s->net_info.id) == 0)
			for (size_t i = 0; i < s->net_info.n_subnets; i++)
				docker_network_learn_gateway(&n, &s->net_info.subnets[i].gateway);
		emit_network(s, &n);
	}
	if (s->pass == PASS_PERIODIC) {
		s->n_misses = 0;
		s->tracking = true;
	}
	s->phase = PH_LIST;
	return 0;
}

static int collect_id(void *ctx, const char *id)
{
	struct docker_sync *s = ctx;

	if (s->n_ids == s->cap_ids) {
		size_t cap = s->cap_ids ? s->cap_ids * 2 : 64;
		void *p = realloc(s->ids, cap * sizeof(s->ids[0]));

		if (!p)
			return -ENOMEM;
		s->ids = p;
		s->cap_ids = cap;
	}
	strcpy(s->ids[s->n_ids++], id);
	return 0;
}

static int on_list(struct docker_sync *s, long status, const char *body, size_t len,
		   uint64_t now_ms)
{
	int err;

	if (status != 200) {
		http_fail(s, status, body, len, now_ms);
		return 0;
	}
	s->n_ids = 0;
	err = docker_json_parse_list(body, len, collect_id, s);
	if (err) {
		parse_fail(s, "/containers/json", err, now_ms);
		return 0;
	}
	s->gen++;
	s->next_id = 0;
	s->in_list = true;
	inspect_next(s, now_ms);
	return 0;
}

/* Publish or withdraw the inspected container. Returns the parse error of a
 * body it skipped (a list pass then counts the container as unseen). */
static int on_inspect(struct docker_sync *s, long status, const char *body, size_t len,
		      uint64_t now_ms)
{
	const char *id = s->inspect_id;
	struct docker_container c;
	int err = 0;

	s->st.inspects++;
	if (status == 404) {
		if (withdraw(s, id))
			miss_note(s, id);
	} else if (status != 200) {
		http_fail(s, status, body, len, now_ms);
		return 0;
	} else if (!(err = docker_json_parse_inspect(body, len, s->net, &c)) &&
		   strcmp(c.entry.owner, id) != 0) {
		/* Another container's body (a confused proxy): publishing it
		 * would track the wrong ID. */
		err = GLUED_EPROTO;
	} else if (!err) {
		bool learned = docker_network_learn_gateway(&s->net_info, &c.gw4);

		learned = docker_network_learn_gateway(&s->net_info, &c.gw6) || learned;
		if (learned) {
			struct docker_update u = {.kind = DOCKER_UPDATE_NETWORK,
						  .network = s->net_info};

			s->out.update(s->out.ctx, &u);
		}
		if (docker_container_published(&c)) {
			struct docker_pub_slot *p = docker_pub_find(&s->pub, id);

			if (!p || p->digest != put_digest(&c))
				miss_note(s, id);
			publish(s, &c, now_ms);
		} else if (withdraw(s, id)) {
			miss_note(s, id);
		}
	}
	if (s->in_list)
		inspect_next(s, now_ms);
	else
		s->phase = PH_FOLLOW;
	return err;
}

int docker_sync_on_response(struct docker_sync *s, long status, const char *body, size_t len,
			    uint64_t now_ms)
{
	switch (s->phase) {
	case PH_VERSION:
		return on_version(s, status, body, len, now_ms);
	case PH_SUBSCRIBE:
		/* Subscribed = the engine answered with its headers. Only then is
		 * listing safe: anything that changes afterwards is an event. */
		if (status != 200) {
			snprintf(s->why, sizeof(s->why), "/events: HTTP %ld", status);
			session_end(s, now_ms);
			return 0;
		}
		s->pass = PASS_CONNECT;
		s->phase = PH_NETWORK;
		return 0;
	case PH_NETWORK:
		return on_network(s, status, body, len, now_ms);
	case PH_LIST:
		return on_list(s, status, body, len, now_ms);
	case PH_INSPECT:
		return on_inspect(s, status, body, len, now_ms);
	case PH_PING:
		if (status != 200) {
			snprintf(s->why, sizeof(s->why), "/_ping: HTTP %ld", status);
			s->st.stalls++;
			session_end(s, now_ms);
			return 0;
		}
		s->pass = PASS_PERIODIC;
		s->phase = PH_NETWORK;
		return 0;
	default:
		return -EINVAL; /* no request pending: the caller's bug */
	}
}

int docker_sync_on_event(struct docker_sync *s, const char *line, size_t len, uint64_t now_ms)
{
	struct docker_event ev;
	int err;

	if (s->phase != PH_FOLLOW)
		return -EINVAL;
	err = docker_json_parse_event(line, len, &ev);
	if (err) {
		s->st.event_errors++;
		return err;
	}
	s->st.events++;
	if (ev.container_id[0]) {
		miss_explain(s, ev.container_id);
		if (s->explaining && !s->n_misses) {
			s->explaining = false;
			s->next_resync_ms = now_ms + s->resync_ms;
		}
	}
	switch (docker_event_react(&ev, s->net, s->net_info.id)) {
	case DOCKER_REACT_INSPECT:
		note(s, DOCKER_NOTE_EVENT, ev.container_id, ev.action);
		strcpy(s->inspect_id, ev.container_id);
		s->in_list = false;
		s->phase = PH_INSPECT;
		break;
	case DOCKER_REACT_WITHDRAW:
		note(s, DOCKER_NOTE_EVENT, ev.container_id, ev.action);
		withdraw(s, ev.container_id);
		break;
	case DOCKER_REACT_RESYNC:
		note(s, DOCKER_NOTE_NET_CHANGED, NULL, ev.action);
		s->pass = PASS_EVENT;
		s->phase = PH_NETWORK;
		break;
	case DOCKER_REACT_NONE:
		break;
	}
	return 0;
}

void docker_sync_next(struct docker_sync *s, uint64_t now_ms, struct docker_req *req)
{
	memset(req, 0, sizeof(*req));
	if (s->phase == PH_DOWN) {
		if (now_ms < s->retry_ms) {
			req->kind = DOCKER_REQ_SLEEP;
			req->until_ms = s->retry_ms;
			return;
		}
		s->st.reconnects++;
		s->phase = PH_VERSION;
	}
	if (s->phase == PH_VERSION)
		s->api_major = s->api_minor = 0;
	if (s->phase == PH_FOLLOW && s->explaining && now_ms >= s->explain_until_ms) {
		snprintf(s->why, sizeof(s->why),
			 "resync found %zu change(s) the event stream did not report (first %.12s)",
			 s->n_misses, s->misses[0]);
		s->st.stalls++;
		session_end(s, now_ms);
		docker_sync_next(s, now_ms, req);
		return;
	}
	if (s->phase == PH_FOLLOW && !s->explaining && now_ms >= s->next_resync_ms)
		s->phase = PH_PING;

	switch (s->phase) {
	case PH_VERSION:
		req->kind = DOCKER_REQ_VERSION;
		break;
	case PH_SUBSCRIBE:
		req->kind = DOCKER_REQ_SUBSCRIBE;
		break;
	case PH_NETWORK:
		req->kind = DOCKER_REQ_NETWORK;
		break;
	case PH_LIST:
		req->kind = DOCKER_REQ_LIST;
		break;
	case PH_INSPECT:
		req->kind = DOCKER_REQ_INSPECT;
		strcpy(req->id, s->inspect_id);
		break;
	case PH_PING:
		req->kind = DOCKER_REQ_PING;
		break;
	case PH_FOLLOW:
		req->kind = DOCKER_REQ_FOLLOW;
		req->until_ms = s->explaining ? s->explain_until_ms : s->next_resync_ms;
		return;
	case PH_DOWN:
		return; /* not reached: handled above */
	}
	phase_path(s, s->phase, req->path, sizeof(req->path));
	req->api_major = s->api_major;
	req->api_minor = s->api_minor;
	req->timeout_ms = s->phase == PH_PING ? s->ping_timeout_ms : DOCKER_SYNC_REQUEST_MS;
}

/* --- lifecycle ----------------------------------------------------------------- */

bool docker_sync_network_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > DOCKER_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool alnum =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return true;
}

struct docker_sync *docker_sync_new(const struct docker_sync_cfg *cfg,
				    const struct docker_sync_out *out)
{
	struct docker_sync *s;

	if (!docker_sync_network_valid(cfg->network) || !out->update)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	strcpy(s->net, cfg->network);
	s->resync_ms = cfg->resync_ms ? cfg->resync_ms : 30000;
	s->ping_timeout_ms = cfg->ping_timeout_ms ? cfg->ping_timeout_ms : 2000;
	s->out = *out;
	s->phase = PH_VERSION;
	s->backoff_ms = DOCKER_SYNC_BACKOFF_MIN_MS;
	return s;
}

void docker_sync_free(struct docker_sync *s)
{
	if (!s)
		return;
	docker_pub_fini(&s->pub);
	free(s->ids);
	free(s);
}

void docker_sync_get_stats(const struct docker_sync *s, struct docker_sync_stats *st)
{
	*st = s->st;
}
