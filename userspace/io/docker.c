/* The Docker watcher thread: libcurl over the engine's unix socket.
 *
 * Owns the curl handles, the watcher thread, the set of container IDs it has
 * published and the queue of updates for the main thread. Decisions about
 * what a body or an event means live in core/docker_json; this file moves
 * bytes, sequences requests (subscribe, then list, then follow), reconnects
 * and keeps the published set honest. It must never touch the name table or
 * any other main-thread state: everything leaves through the queue.
 *
 * One thread, one curl multi handle holding only the /events stream, and one
 * easy handle for blocking requests (version, network, list, inspect, ping).
 * Lines from the stream are buffered by the write callback and handled after
 * curl_multi_poll returns, so an inspect never runs inside a curl callback
 * and the stream keeps its place (the kernel and the engine buffer it) while
 * we inspect. curl_multi_wakeup and the progress callback make stop prompt.
 */
#include "io/docker.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 3000
#define REQUEST_TIMEOUT_MS 10000
#define CONNECT_TIMEOUT_MS 2000
#define SUBSCRIBE_TIMEOUT_MS 5000
#define STREAM_PENDING_MAX (4u << 20) /* unprocessed /events bytes */
#define MISSES_MAX 16		      /* resync changes we try to explain */
#define EXPLAIN_MS 500		      /* how long events may lag a resync */

struct buf {
	char *p;
	size_t len, cap, max;
};

/* Published containers: ID → digest of the entry last sent, and the resync
 * generation that last saw it. Open addressing, linear probing, backward
 * shift deletion; power-of-two capacity. */
struct pub_slot {
	char id[DOCKER_ID_MAX + 1];
	uint64_t digest;
	uint32_t gen;
};

struct pubset {
	struct pub_slot *slots;
	size_t cap, n;
};

struct qnode {
	struct qnode *next;
	struct docker_update u;
};

struct docker_watch {
	char *sock, *net, *net_esc; /* net_esc: URL-escaped */
	unsigned resync_ms, ping_timeout_ms;
	int efd;
	pthread_t thread;
	bool started;
	atomic_bool stop;

	pthread_mutex_t qlock;
	struct qnode *qhead, *qtail;

	/* Thread-only state. */
	CURLM *multi;
	CURL *req, *ev;
	struct buf body, stream;
	long ev_status;
	char errbuf[CURL_ERROR_SIZE], ev_errbuf[CURL_ERROR_SIZE];
	char why[160];
	unsigned api_major, api_minor;
	struct docker_network net_info; /* last emitted */
	struct pubset pub;
	uint32_t gen;
	bool connected, logged_down;
	/* Resync watchdog: IDs the resync changed, not yet explained by an event. */
	char misses[MISSES_MAX][DOCKER_ID_MAX + 1];
	size_t n_misses;
	bool tracking;
	struct log_ratelimit rl;

	_Atomic uint64_t st_events, st_event_errors, st_inspects, st_reconnects, st_resyncs,
		st_stalls, st_published;
	atomic_bool st_connected;
};

/* --- published set --------------------------------------------------------- */

static size_t pub_hash(const char *id, size_t cap)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < 16; i++)
		h = (h ^ (uint8_t)id[i]) * 1099511628211ULL;
	return (size_t)h & (cap - 1);
}

static struct pub_slot *pub_find(struct pubset *s, const char *id)
{
	if (!s->cap)
		return NULL;
	for (size_t i = pub_hash(id, s->cap);; i = (i + 1) & (s->cap - 1)) {
		if (!s->slots[i].id[0])
			return NULL;
		if (strcmp(s->slots[i].id, id) == 0)
			return &s->slots[i];
	}
}

static int pub_grow(struct pubset *s)
{
	size_t cap = s->cap ? s->cap * 2 : 64;
	struct pub_slot *old = s->slots, *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t k = 0; k < s->cap; k++) {
		if (!old[k].id[0])
			continue;
		size_t i = pub_hash(old[k].id, cap);

		while (slots[i].id[0])
			i = (i + 1) & (cap - 1);
		slots[i] = old[k];
	}
	free(old);
	s->slots = slots;
	s->cap = cap;
	return 0;
}

static struct pub_slot *pub_insert(struct pubset *s, const char *id)
{
	struct pub_slot *p = pub_find(s, id);
	size_t i;

	if (p)
		return p;
	if ((s->n + 1) * 4 > s->cap * 3 && pub_grow(s))
		return NULL;
	for (i = pub_hash(id, s->cap); s->slots[i].id[0]; i = (i + 1) & (s->cap - 1))
		;
	memset(&s->slots[i], 0, sizeof(s->slots[i]));
	strcpy(s->slots[i].id, id);
	s->n++;
	return &s->slots[i];
}

static void pub_remove(struct pubset *s, struct pub_slot *p)
{
	size_t mask = s->cap - 1, i = (size_t)(p - s->slots), j = i;

	p->id[0] = '\0';
	s->n--;
	/* Backward shift: move later members of the cluster into the hole when
	 * their home slot does not lie cyclically in (i, j]. */
	for (;;) {
		j = (j + 1) & mask;
		if (!s->slots[j].id[0])
			return;
		size_t k = pub_hash(s->slots[j].id, s->cap);

		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			s->slots[i] = s->slots[j];
			s->slots[j].id[0] = '\0';
			i = j;
		}
	}
}

static uint64_t entry_digest(const struct table_entry *e)
{
	uint64_t h = 1469598103934665603ULL;
	const uint8_t *p;

	for (size_t i = 0; i < e->n_names; i++)
		for (p = (const uint8_t *)e->names[i]; *p; p++)
			h = (h ^ *p) * 1099511628211ULL;
	for (size_t i = 0; i < e->n_addrs; i++) {
		h = (h ^ 0xff) * 1099511628211ULL;
		for (size_t k = 0; k < sizeof(e->addrs[i]); k++)
			h = (h ^ ((const uint8_t *)&e->addrs[i])[k]) * 1099511628211ULL;
	}
	return h;
}

/* --- queue to the main thread --------------------------------------------- */

static void push(struct docker_watch *w, const struct docker_update *u)
{
	struct qnode *n = malloc(sizeof(*n));
	uint64_t one = 1;

	if (!n) {
		/* The next resync publishes again what this loses. */
		log_warnx("docker: update dropped: out of memory");
		return;
	}
	n->next = NULL;
	n->u = *u;
	pthread_mutex_lock(&w->qlock);
	if (w->qtail)
		w->qtail->next = n;
	else
		w->qhead = n;
	w->qtail = n;
	pthread_mutex_unlock(&w->qlock);
	if (write(w->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("docker: eventfd write");
}

size_t docker_watch_drain(struct docker_watch *w, docker_update_fn fn, void *ctx)
{
	struct qnode *n, *next;
	uint64_t v;
	size_t count = 0;

	if (read(w->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("docker: eventfd read");
	pthread_mutex_lock(&w->qlock);
	n = w->qhead;
	w->qhead = w->qtail = NULL;
	pthread_mutex_unlock(&w->qlock);
	for (; n; n = next) {
		next = n->next;
		fn(ctx, &n->u);
		free(n);
		count++;
	}
	return count;
}

static void emit_state(struct docker_watch *w, bool connected)
{
	struct docker_update u = { .kind = DOCKER_UPDATE_STATE };

	u.state.connected = connected;
	u.state.api_major = w->api_major;
	u.state.api_minor = w->api_minor;
	if (!connected)
		snprintf(u.state.reason, sizeof(u.state.reason), "%s", w->why);
	atomic_store(&w->st_connected, connected);
	push(w, &u);
}

static void publish(struct docker_watch *w, const struct docker_container *c)
{
	struct docker_update u = { .kind = DOCKER_UPDATE_PUT };
	uint64_t d = entry_digest(&c->entry);
	struct pub_slot *p = pub_find(&w->pub, c->entry.owner);

	if (p) {
		p->gen = w->gen;
		if (p->digest == d)
			return;
	} else {
		p = pub_insert(&w->pub, c->entry.owner);
		if (!p) {
			log_warnx("docker: cannot track %.12s: out of memory", c->entry.owner);
			return;
		}
		p->gen = w->gen;
		atomic_store(&w->st_published, w->pub.n);
	}
	p->digest = d;
	u.put = c->entry;
	u.put.updated_ms = clock_now_ms();
	log_debug("docker: publish %s (%.12s): %zu names, %zu addresses", c->name,
		  c->entry.owner, c->entry.n_names, c->entry.n_addrs);
	push(w, &u);
}

static bool withdraw(struct docker_watch *w, const char *id)
{
	struct docker_update u = { .kind = DOCKER_UPDATE_DEL };
	struct pub_slot *p = pub_find(&w->pub, id);

	if (!p)
		return false;
	snprintf(u.del_owner, sizeof(u.del_owner), "%s", id);
	pub_remove(&w->pub, p);
	atomic_store(&w->st_published, w->pub.n);
	log_debug("docker: withdraw %.12s", id);
	push(w, &u);
	return true;
}

static void emit_network(struct docker_watch *w, const struct docker_network *n)
{
	struct docker_update u = { .kind = DOCKER_UPDATE_NETWORK };

	if (docker_network_eq(&w->net_info, n))
		return;
	w->net_info = *n;
	u.network = *n;
	push(w, &u);
}

/* --- HTTP over the unix socket --------------------------------------------- */

static size_t body_write(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct buf *b = ctx;
	size_t n = size * nmemb;

	if (n > b->max - b->len)
		return 0; /* too big: CURLE_WRITE_ERROR */
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

static int progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct docker_watch *w = ctx;

	return atomic_load(&w->stop) ? 1 : 0;
}

static void set_common(struct docker_watch *w, CURL *h, char *errbuf)
{
	curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, w->sock);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, w);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "glued/" GLUED_VERSION);
}

static void set_why_curl(struct docker_watch *w, CURL *h, const char *errbuf, CURLcode rc,
			 const char *what)
{
	long os_errno = 0;

	curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
	if (rc == CURLE_COULDNT_CONNECT && os_errno)
		snprintf(w->why, sizeof(w->why), "%s: %s", what, strerror((int)os_errno));
	else
		snprintf(w->why, sizeof(w->why), "%s: %s", what,
			 errbuf[0] ? errbuf : curl_easy_strerror(rc));
}

/* GET path (after /vX.Y) into w->body. Returns 0 and the HTTP status, or
 * -EIO with w->why set (transport failure or stop). */
static int get(struct docker_watch *w, const char *path, long timeout_ms, long *status)
{
	char url[512];
	CURLcode rc;

	if (w->api_major)
		snprintf(url, sizeof(url), "http://localhost/v%u.%u%s", w->api_major, w->api_minor,
			 path);
	else
		snprintf(url, sizeof(url), "http://localhost%s", path);
	w->body.len = 0;
	w->errbuf[0] = '\0';
	curl_easy_setopt(w->req, CURLOPT_URL, url);
	curl_easy_setopt(w->req, CURLOPT_TIMEOUT_MS, timeout_ms);
	rc = curl_easy_perform(w->req);
	if (rc != CURLE_OK) {
		set_why_curl(w, w->req, w->errbuf, rc, path);
		return -EIO;
	}
	curl_easy_getinfo(w->req, CURLINFO_RESPONSE_CODE, status);
	if (!w->body.p) { /* empty body: the parsers still want a buffer */
		body_write("", 1, 0, &w->body);
		if (!w->body.p) {
			snprintf(w->why, sizeof(w->why), "%s: out of memory", path);
			return -ENOMEM;
		}
	}
	return 0;
}

/* Non-2xx: w->why = "path: HTTP n: message". */
static int http_fail(struct docker_watch *w, const char *path, long status)
{
	char msg[100];

	docker_json_error_message(w->body.p, w->body.len, msg, sizeof(msg));
	snprintf(w->why, sizeof(w->why), "%s: HTTP %ld%s%s", path, status, msg[0] ? ": " : "",
		 msg);
	return GLUED_EPROTO;
}

/* --- engine operations ----------------------------------------------------- */

static int fetch_version(struct docker_watch *w)
{
	long status = 0;
	unsigned maj, min;
	int err;

	w->api_major = w->api_minor = 0;
	err = get(w, "/version", REQUEST_TIMEOUT_MS, &status);
	if (err)
		return err;
	if (status != 200)
		return http_fail(w, "/version", status);
	err = docker_json_parse_version(w->body.p, w->body.len, &maj, &min);
	if (err) {
		snprintf(w->why, sizeof(w->why), "/version: %s", glued_strerror(err));
		return err;
	}
	docker_api_clamp(&maj, &min);
	w->api_major = maj;
	w->api_minor = min;
	return 0;
}

/* Refresh the network; a missing network is not an error (it may be
 * created later; the event stream tells us). */
static int fetch_network(struct docker_watch *w)
{
	struct docker_network n;
	char path[256];
	long status = 0;
	int err;

	snprintf(path, sizeof(path), "/networks/%s", w->net_esc);
	err = get(w, path, REQUEST_TIMEOUT_MS, &status);
	if (err)
		return err;
	if (status == 404) {
		if (w->net_info.id[0] || !w->connected)
			log_warnx("docker: network %s does not exist; waiting for it", w->net);
		memset(&n, 0, sizeof(n));
		emit_network(w, &n);
		return 0;
	}
	if (status != 200)
		return http_fail(w, path, status);
	err = docker_json_parse_network(w->body.p, w->body.len, &n);
	if (err) {
		snprintf(w->why, sizeof(w->why), "%s: %s", path, glued_strerror(err));
		return err;
	}
	/* Keep gateways learned from containers while the network is the same. */
	if (strcmp(n.id, w->net_info.id) == 0)
		for (size_t i = 0; i < w->net_info.n_subnets; i++)
			docker_network_learn_gateway(&n, &w->net_info.subnets[i].gateway);
	emit_network(w, &n);
	return 0;
}

static void miss_note(struct docker_watch *w, const char *id)
{
	if (w->tracking && w->n_misses < MISSES_MAX)
		strcpy(w->misses[w->n_misses++], id);
}

static void miss_explain(struct docker_watch *w, const char *id)
{
	for (size_t i = 0; i < w->n_misses; i++) {
		if (strcmp(w->misses[i], id) == 0) {
			memmove(w->misses[i], w->misses[i + 1],
				(w->n_misses - i - 1) * sizeof(w->misses[0]));
			w->n_misses--;
			return;
		}
	}
}

/* Inspect one container and publish or withdraw it. 0, or -EIO/GLUED_EPROTO
 * when the engine did not answer properly (the caller reconnects). */
static int inspect(struct docker_watch *w, const char *id)
{
	struct docker_container c;
	struct pub_slot *p;
	char path[128];
	long status = 0;
	int err;

	snprintf(path, sizeof(path), "/containers/%s/json", id);
	err = get(w, path, REQUEST_TIMEOUT_MS, &status);
	if (err)
		return err;
	atomic_fetch_add(&w->st_inspects, 1);
	if (status == 404) {
		if (withdraw(w, id))
			miss_note(w, id);
		return 0;
	}
	if (status != 200)
		return http_fail(w, path, status);
	err = docker_json_parse_inspect(w->body.p, w->body.len, w->net, &c);
	if (err) {
		if (log_ratelimit_ok(&w->rl, clock_now_ms()))
			log_warnx("docker: inspect %.12s: %s", id, glued_strerror(err));
		return 0;
	}
	bool learned = docker_network_learn_gateway(&w->net_info, &c.gw4);

	learned = docker_network_learn_gateway(&w->net_info, &c.gw6) || learned;
	if (learned) {
		struct docker_update u = { .kind = DOCKER_UPDATE_NETWORK, .network = w->net_info };

		push(w, &u);
	}
	if (docker_container_published(&c)) {
		p = pub_find(&w->pub, id);
		if (!p || p->digest != entry_digest(&c.entry))
			miss_note(w, id);
		publish(w, &c);
	} else if (withdraw(w, id)) {
		miss_note(w, id);
	}
	return 0;
}

static int list_one(void *ctx, const char *id)
{
	struct docker_watch *w = ctx;

	return inspect(w, id);
}

/* List + inspect everything on the network; withdraw what is gone. */
static int resync(struct docker_watch *w)
{
	char path[256];
	long status = 0;
	int err;

	snprintf(path, sizeof(path),
		 "/containers/json?filters=%%7B%%22network%%22%%3A%%5B%%22%s%%22%%5D%%7D",
		 w->net_esc);
	err = get(w, path, REQUEST_TIMEOUT_MS, &status);
	if (err)
		return err;
	if (status != 200)
		return http_fail(w, "/containers/json", status);
	/* list_one reuses w->body: keep the list in its own buffer. */
	struct buf list = w->body;

	w->body = (struct buf){ .max = DOCKER_BODY_MAX };
	w->gen++;
	err = docker_json_parse_list(list.p, list.len, list_one, w);
	free(w->body.p);
	w->body = list;
	if (err) {
		if (err != -EIO && err != GLUED_EPROTO)
			snprintf(w->why, sizeof(w->why), "/containers/json: %s",
				 glued_strerror(err));
		return err;
	}
	/* Sweep: published but not listed (or listed but no longer published,
	 * already withdrawn by inspect). */
	for (size_t i = 0; i < w->pub.cap;) {
		struct pub_slot *p = &w->pub.slots[i];
		char id[DOCKER_ID_MAX + 1];

		if (p->id[0] && p->gen != w->gen) {
			strcpy(id, p->id);
			withdraw(w, id);
			miss_note(w, id);
			continue; /* backward shift may have moved another into i */
		}
		i++;
	}
	atomic_fetch_add(&w->st_resyncs, 1);
	return 0;
}

/* --- events stream ---------------------------------------------------------- */

static size_t stream_write(char *data, size_t size, size_t nmemb, void *ctx)
{
	return body_write(data, size, nmemb, &((struct docker_watch *)ctx)->stream);
}

static void stream_close(struct docker_watch *w)
{
	if (w->ev) {
		curl_multi_remove_handle(w->multi, w->ev);
		curl_easy_cleanup(w->ev);
		w->ev = NULL;
	}
	w->stream.len = 0;
}

/* Pump the multi handle for up to timeout_ms. Returns 0, or -EIO with w->why
 * when the stream ended. */
static int stream_pump(struct docker_watch *w, int timeout_ms)
{
	int running = 0, left;
	CURLMsg *m;

	curl_multi_poll(w->multi, NULL, 0, timeout_ms, NULL);
	curl_multi_perform(w->multi, &running);
	while ((m = curl_multi_info_read(w->multi, &left))) {
		if (m->msg != CURLMSG_DONE || m->easy_handle != w->ev)
			continue;
		if (m->data.result == CURLE_OK)
			snprintf(w->why, sizeof(w->why), "event stream closed by the engine");
		else
			set_why_curl(w, w->ev, w->ev_errbuf, m->data.result, "/events");
		return -EIO;
	}
	return 0;
}

static int stream_open(struct docker_watch *w)
{
	char url[256];
	uint64_t deadline = clock_now_ms() + SUBSCRIBE_TIMEOUT_MS;
	int err;

	snprintf(url, sizeof(url),
		 "http://localhost/v%u.%u/events?filters=%%7B%%22type%%22%%3A%%5B%%22container%%22"
		 "%%2C%%22network%%22%%5D%%7D",
		 w->api_major, w->api_minor);
	w->ev = curl_easy_init();
	if (!w->ev) {
		snprintf(w->why, sizeof(w->why), "/events: out of memory");
		return -ENOMEM;
	}
	w->ev_errbuf[0] = '\0';
	set_common(w, w->ev, w->ev_errbuf);
	curl_easy_setopt(w->ev, CURLOPT_URL, url);
	curl_easy_setopt(w->ev, CURLOPT_WRITEFUNCTION, stream_write);
	curl_easy_setopt(w->ev, CURLOPT_WRITEDATA, w);
	w->stream.len = 0;
	curl_multi_add_handle(w->multi, w->ev);
	/* Subscribed = the engine answered with its headers. Only then is
	 * listing safe: anything that changes afterwards shows up as an event. */
	for (;;) {
		long status = 0;

		err = stream_pump(w, 50);
		if (err)
			return err;
		curl_easy_getinfo(w->ev, CURLINFO_RESPONSE_CODE, &status);
		if (status == 200)
			return 0;
		if (status != 0) {
			snprintf(w->why, sizeof(w->why), "/events: HTTP %ld", status);
			return GLUED_EPROTO;
		}
		if (atomic_load(&w->stop)) {
			snprintf(w->why, sizeof(w->why), "stopping");
			return -EINTR;
		}
		if (clock_now_ms() > deadline) {
			snprintf(w->why, sizeof(w->why), "/events: no answer within %d ms",
				 SUBSCRIBE_TIMEOUT_MS);
			return -ETIMEDOUT;
		}
	}
}

/* Handle every complete line buffered from the stream. */
static int stream_lines(struct docker_watch *w)
{
	struct buf *s = &w->stream;
	size_t off = 0;
	int err = 0;

	while (!err && off < s->len) {
		char *nl = memchr(s->p + off, '\n', s->len - off);
		size_t n;
		struct docker_event ev;

		if (!nl)
			break;
		n = (size_t)(nl - (s->p + off));
		if (n == 0) {
			off++;
			continue;
		}
		err = docker_json_parse_event(s->p + off, n, &ev);
		off += n + 1;
		if (err) {
			atomic_fetch_add(&w->st_event_errors, 1);
			if (log_ratelimit_ok(&w->rl, clock_now_ms()))
				log_warnx("docker: event: %s", glued_strerror(err));
			err = 0;
			continue;
		}
		atomic_fetch_add(&w->st_events, 1);
		if (ev.container_id[0])
			miss_explain(w, ev.container_id);
		switch (docker_event_react(&ev, w->net, w->net_info.id)) {
		case DOCKER_REACT_INSPECT:
			log_debug("docker: event %s %s %.12s", ev.type == DOCKER_EV_NETWORK ?
				  "network" : "container", ev.action, ev.container_id);
			err = inspect(w, ev.container_id);
			break;
		case DOCKER_REACT_WITHDRAW:
			log_debug("docker: event %s %.12s: withdraw", ev.action, ev.container_id);
			withdraw(w, ev.container_id);
			break;
		case DOCKER_REACT_RESYNC:
			log_info("docker: network %s: %s; resyncing", w->net, ev.action);
			err = fetch_network(w);
			if (!err)
				err = resync(w);
			break;
		case DOCKER_REACT_NONE:
			break;
		}
	}
	/* Keep the partial tail (inspect reused nothing of s). */
	if (off) {
		memmove(s->p, s->p + off, s->len - off);
		s->len -= off;
	}
	if (!err && s->len > DOCKER_EVENT_LINE_MAX) {
		snprintf(w->why, sizeof(w->why), "/events: line longer than %u bytes",
			 DOCKER_EVENT_LINE_MAX);
		err = GLUED_ELIMIT;
	}
	return err;
}

/* --- the thread ------------------------------------------------------------- */

/* Watchdog, run every resync period: ping with a short timeout, resync, and
 * if the resync changed containers the stream never told us about (allowing
 * EXPLAIN_MS for their events to arrive), call the stream stalled. */
static int periodic(struct docker_watch *w)
{
	long status = 0;
	int err = get(w, "/_ping", w->ping_timeout_ms, &status);

	if (err || status != 200) {
		if (!err)
			snprintf(w->why, sizeof(w->why), "/_ping: HTTP %ld", status);
		atomic_fetch_add(&w->st_stalls, 1);
		return -ETIMEDOUT;
	}
	err = fetch_network(w);
	if (err)
		return err;
	w->n_misses = 0;
	w->tracking = true;
	err = resync(w);
	w->tracking = false;
	if (err)
		return err;
	if (w->n_misses) {
		uint64_t until = clock_now_ms() + EXPLAIN_MS;

		while (w->n_misses && !atomic_load(&w->stop) && clock_now_ms() < until) {
			err = stream_pump(w, 50);
			if (!err)
				err = stream_lines(w);
			if (err)
				return err;
		}
		if (w->n_misses) {
			snprintf(w->why, sizeof(w->why),
				 "resync found %zu change(s) the event stream did not report "
				 "(first %.12s)",
				 w->n_misses, w->misses[0]);
			atomic_fetch_add(&w->st_stalls, 1);
			return GLUED_EPROTO;
		}
	}
	return 0;
}

/* One connection: version, subscribe, network, list; then follow. Returns
 * when the connection is lost (w->why says why) or stop is requested. */
static int session(struct docker_watch *w)
{
	uint64_t next_resync;
	int err;

	err = fetch_version(w);
	if (!err)
		err = stream_open(w);
	if (!err)
		err = fetch_network(w);
	if (!err)
		err = resync(w);
	if (err)
		return err;

	w->connected = true;
	w->logged_down = false;
	log_info("docker: connected to %s (API %u.%u), watching network %s", w->sock,
		 w->api_major, w->api_minor, w->net);
	emit_state(w, true);

	next_resync = clock_now_ms() + w->resync_ms;
	while (!atomic_load(&w->stop)) {
		uint64_t now = clock_now_ms();

		if (now >= next_resync) {
			err = periodic(w);
			if (err)
				return err;
			next_resync = clock_now_ms() + w->resync_ms;
			continue;
		}
		err = stream_pump(w, (int)(next_resync - now));
		if (!err)
			err = stream_lines(w);
		if (err)
			return err;
	}
	return 0;
}

static void *watch_main(void *arg)
{
	struct docker_watch *w = arg;
	unsigned backoff_ms = BACKOFF_MIN_MS;
	bool first = true;

	while (!atomic_load(&w->stop)) {
		if (!first)
			atomic_fetch_add(&w->st_reconnects, 1);
		first = false;
		w->why[0] = '\0';
		int err = session(w);
		bool was_connected = w->connected;

		stream_close(w);
		if (atomic_load(&w->stop))
			break;
		if (!w->why[0])
			snprintf(w->why, sizeof(w->why), "%s", glued_strerror(err));
		if (was_connected) {
			log_warnx("docker: connection lost: %s; retrying", w->why);
			w->connected = false;
			w->logged_down = true;
			emit_state(w, false);
			backoff_ms = BACKOFF_MIN_MS;
		} else if (!w->logged_down) {
			log_warnx("docker: cannot connect to %s: %s; retrying", w->sock, w->why);
			w->logged_down = true;
			emit_state(w, false);
		} else {
			log_debug("docker: still down: %s", w->why);
		}
		/* Sleep, but wake at once on stop (curl_multi_wakeup). */
		uint64_t until = clock_now_ms() + backoff_ms;

		while (!atomic_load(&w->stop)) {
			uint64_t now = clock_now_ms();

			if (now >= until)
				break;
			curl_multi_poll(w->multi, NULL, 0, (int)(until - now), NULL);
		}
		backoff_ms = backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff_ms * 2;
	}
	if (w->connected) {
		w->connected = false;
		atomic_store(&w->st_connected, false);
	}
	return NULL;
}

/* --- lifecycle -------------------------------------------------------------- */

static bool net_name_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > DOCKER_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return true;
}

struct docker_watch *docker_watch_new(const struct docker_watch_cfg *cfg)
{
	struct docker_watch *w;

	if (!cfg->socket_path || !cfg->socket_path[0] || !net_name_valid(cfg->network)) {
		errno = EINVAL;
		return NULL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		errno = ENOMEM;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		goto err_global;
	w->sock = strdup(cfg->socket_path);
	w->net = strdup(cfg->network);
	if (!w->sock || !w->net)
		goto err_alloc;
	/* The name charset is URL- and JSON-safe already; '.' and '-' and '_'
	 * need no escaping, so the escaped form equals the name. */
	w->net_esc = strdup(cfg->network);
	if (!w->net_esc)
		goto err_alloc;
	w->resync_ms = (cfg->resync_s ? cfg->resync_s : 30) * 1000u;
	w->ping_timeout_ms = cfg->ping_timeout_ms ? cfg->ping_timeout_ms : 2000;
	w->body.max = DOCKER_BODY_MAX;
	w->stream.max = STREAM_PENDING_MAX;
	w->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(1, 5);
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0)
		goto err_alloc;
	if (pthread_mutex_init(&w->qlock, NULL))
		goto err_efd;
	w->multi = curl_multi_init();
	w->req = curl_easy_init();
	if (!w->multi || !w->req)
		goto err_curl;
	set_common(w, w->req, w->errbuf);
	curl_easy_setopt(w->req, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(w->req, CURLOPT_WRITEDATA, &w->body);
	return w;

err_curl:
	if (w->req)
		curl_easy_cleanup(w->req);
	if (w->multi)
		curl_multi_cleanup(w->multi);
	pthread_mutex_destroy(&w->qlock);
	errno = ENOMEM;
err_efd:
	close(w->efd);
err_alloc:
	free(w->net_esc);
	free(w->net);
	free(w->sock);
	free(w);
err_global:
	curl_global_cleanup();
	if (!errno)
		errno = ENOMEM;
	return NULL;
}

int docker_watch_start(struct docker_watch *w)
{
	int err;

	if (w->started)
		return -EALREADY;
	atomic_store(&w->stop, false);
	err = pthread_create(&w->thread, NULL, watch_main, w);
	if (err)
		return -err;
	w->started = true;
	return 0;
}

int docker_watch_fd(const struct docker_watch *w)
{
	return w->efd;
}

void docker_watch_stop(struct docker_watch *w)
{
	if (!w->started)
		return;
	atomic_store(&w->stop, true);
	curl_multi_wakeup(w->multi);
	pthread_join(w->thread, NULL);
	w->started = false;
}

void docker_watch_free(struct docker_watch *w)
{
	struct qnode *n, *next;

	if (!w)
		return;
	docker_watch_stop(w);
	stream_close(w);
	for (n = w->qhead; n; n = next) {
		next = n->next;
		free(n);
	}
	curl_easy_cleanup(w->req);
	curl_multi_cleanup(w->multi);
	pthread_mutex_destroy(&w->qlock);
	close(w->efd);
	free(w->body.p);
	free(w->stream.p);
	free(w->pub.slots);
	free(w->net_esc);
	free(w->net);
	free(w->sock);
	free(w);
	curl_global_cleanup();
}

void docker_watch_get_stats(const struct docker_watch *w, struct docker_watch_stats *st)
{
	st->events = atomic_load(&w->st_events);
	st->event_errors = atomic_load(&w->st_event_errors);
	st->inspects = atomic_load(&w->st_inspects);
	st->reconnects = atomic_load(&w->st_reconnects);
	st->resyncs = atomic_load(&w->st_resyncs);
	st->stalls = atomic_load(&w->st_stalls);
	st->published = atomic_load(&w->st_published);
	st->connected = atomic_load(&w->st_connected);
}
