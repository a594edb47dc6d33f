/* The Docker watcher thread: libcurl over the engine's unix socket.
 *
 * Owns the curl handles, the watcher thread and the queue of updates for the
 * main thread. Every decision (what to request next, what an answer or an
 * event means, what to publish or withdraw, when the session is over, how
 * long to back off) is core/docker_sync's: this file asks it for the next
 * request, performs it, and hands back the status and body, the event lines
 * and the transport failures. It must never touch the name table or any
 * other main-thread state: everything leaves through the queue.
 *
 * One thread, one curl multi handle holding only the /events stream, and one
 * easy handle for blocking requests (version, network, list, inspect, ping).
 * Lines from the stream are buffered by the write callback and handed to the
 * core one at a time after curl_multi_poll returns, so an inspect never runs
 * inside a curl callback and the stream keeps its place (the kernel and the
 * engine buffer it) while we inspect. curl_multi_wakeup and the progress
 * callback make stop prompt.
 */
#include "io/docker.h"
#include "io/update_queue.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/docker_sync.h"
#include "lib/clock.h"
#include "lib/log.h"

#define CONNECT_TIMEOUT_MS 2000
#define SUBSCRIBE_TIMEOUT_MS 5000
#define STREAM_PENDING_MAX (4u << 20) /* unprocessed /events bytes */

struct buf {
	char *p;
	size_t len, cap, max;
};

/* The queue to the loop thread (io/update_queue.h): at most QUEUE_MAX
 * updates (2.4 KB each, touched only as used); the loop applies at most
 * DRAIN_SLICE per turn. A resync of the largest network Docker allows fits
 * in a few turns; a flood waits in the engine's socket, not in memory. */
#define QUEUE_MAX 1024
#define DRAIN_SLICE 128

struct docker_watch {
	char *sock, *net;
	int efd;
	pthread_t thread;
	bool started;
	atomic_bool stop;

	struct update_queue q;

	/* Thread-only state. */
	struct docker_sync *sync;
	CURLM *multi;
	CURL *req, *ev;
	struct buf body, stream;
	size_t stream_off; /* stream bytes already handed to the core */
	char errbuf[CURL_ERROR_SIZE], ev_errbuf[CURL_ERROR_SIZE];
	char why[160];
	struct log_ratelimit rl;

	/* The core's counters, mirrored for the main thread (one per list line). */
#define ST_ATOMIC(f_, k_, m_, l_, h_) _Atomic uint64_t st_##f_;
	DOCKER_COUNTERS(ST_ATOMIC)
#undef ST_ATOMIC
};

/* --- queue to the main thread --------------------------------------------- */

static void push(struct docker_watch *w, const struct docker_update *u)
{
	uint64_t one = 1;

	if (!update_queue_push(&w->q, u, &w->stop))
		return; /* stopping */
	if (write(w->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("docker: eventfd write");
}

size_t docker_watch_drain(struct docker_watch *w, docker_update_fn fn, void *ctx)
{
	static struct docker_update slice[DRAIN_SLICE]; /* loop thread only */
	uint64_t v;
	bool more;
	size_t n;

	if (read(w->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("docker: eventfd read");
	n = update_queue_take(&w->q, slice, DRAIN_SLICE, &more);
	for (size_t i = 0; i < n; i++)
		fn(ctx, &slice[i]);
	/* The rest in a later turn: the eventfd stays readable for it. */
	if (more && write(w->efd, &(uint64_t){ 1 }, sizeof(uint64_t)) < 0 && errno != EAGAIN)
		log_warn("docker: eventfd write");
	return n;
}

/* --- core output ------------------------------------------------------------- */

static void on_update(void *ctx, const struct docker_update *u)
{
	struct docker_watch *w = ctx;

	if (u->kind == DOCKER_UPDATE_PUT)
		log_debug("docker: publish %s (%.12s): %zu names, %zu addresses", u->put.names[0],
			  u->put.owner, u->put.n_names, u->put.n_addrs);
	else if (u->kind == DOCKER_UPDATE_DEL)
		log_debug("docker: withdraw %.12s", u->del_owner);
	else if (u->kind == DOCKER_UPDATE_STATE)
		atomic_store(&w->st_connected, (uint64_t)u->state.connected);
	push(w, u);
}

static void on_note(void *ctx, enum docker_note n, const char *id, const char *text)
{
	struct docker_watch *w = ctx;

	switch (n) {
	case DOCKER_NOTE_CONNECTED:
		log_info("docker: connected to %s (API %s), watching network %s", w->sock, text,
			 w->net);
		break;
	case DOCKER_NOTE_LOST:
		log_warnx("docker: connection lost: %s; retrying", text);
		break;
	case DOCKER_NOTE_CANNOT_CONNECT:
		log_warnx("docker: cannot connect to %s: %s; retrying", w->sock, text);
		break;
	case DOCKER_NOTE_STILL_DOWN:
		log_debug("docker: still down: %s", text);
		break;
	case DOCKER_NOTE_NET_MISSING:
		log_warnx("docker: network %s does not exist; waiting for it", w->net);
		break;
	case DOCKER_NOTE_NET_CHANGED:
		log_info("docker: network %s: %s; resyncing", w->net, text);
		break;
	case DOCKER_NOTE_EVENT:
		log_debug("docker: event %s %.12s", text, id);
		break;
	case DOCKER_NOTE_NO_MEMORY:
		log_warnx("docker: cannot track %.12s: out of memory", id);
		break;
	}
}

static void stats_sync(struct docker_watch *w)
{
	struct docker_sync_stats st;

	docker_sync_get_stats(w->sync, &st);
#define ST_STORE(f_, k_, m_, l_, h_) atomic_store(&w->st_##f_, st.f_);
	DOCKER_COUNTERS(ST_STORE)
#undef ST_STORE
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

static int progress(void *ctx, curl_off_t dt GLUED_UNUSED, curl_off_t dn GLUED_UNUSED,
		    curl_off_t ut GLUED_UNUSED, curl_off_t un GLUED_UNUSED)
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

/* The request or the stream failed: the session is over, unless we are
 * stopping (curl aborted on our own request; nothing to report). */
static void fail(struct docker_watch *w)
{
	if (!atomic_load(&w->stop))
		docker_sync_on_failure(w->sync, w->why, clock_now_ms());
}

/* GET path (after /vX.Y unless api_major is 0) into w->body. Returns 0 and
 * the HTTP status, or -EIO with w->why set (transport failure or stop). */
static int get(struct docker_watch *w, const struct docker_req *r, long *status)
{
	char url[512];
	CURLcode rc;

	if (r->api_major)
		snprintf(url, sizeof(url), "http://localhost/v%u.%u%s", r->api_major, r->api_minor,
			 r->path);
	else
		snprintf(url, sizeof(url), "http://localhost%s", r->path);
	w->body.len = 0;
	w->errbuf[0] = '\0';
	curl_easy_setopt(w->req, CURLOPT_URL, url);
	curl_easy_setopt(w->req, CURLOPT_TIMEOUT_MS, (long)r->timeout_ms);
	rc = curl_easy_perform(w->req);
	if (rc != CURLE_OK) {
		set_why_curl(w, w->req, w->errbuf, rc, r->path);
		return -EIO;
	}
	curl_easy_getinfo(w->req, CURLINFO_RESPONSE_CODE, status);
	if (!w->body.p) { /* empty body: the parsers still want a buffer */
		body_write("", 1, 0, &w->body);
		if (!w->body.p) {
			snprintf(w->why, sizeof(w->why), "%s: out of memory", r->path);
			return -ENOMEM;
		}
	}
	return 0;
}

/* One GET the core asked for; its answer goes back to the core. */
static void request(struct docker_watch *w, const struct docker_req *r)
{
	long status = 0;
	int err = get(w, r, &status);

	if (err) {
		fail(w);
		return;
	}
	err = docker_sync_on_response(w->sync, status, w->body.p, w->body.len, clock_now_ms());
	if (err && log_ratelimit_ok(&w->rl, clock_now_ms()))
		log_warnx("docker: inspect %.12s: %s", r->id, glued_strerror(err));
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
	w->stream.len = w->stream_off = 0;
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

/* Open the stream and wait for the engine's headers; their status goes to
 * the core, which decides. */
static void subscribe(struct docker_watch *w, const struct docker_req *r)
{
	char url[512];
	uint64_t deadline = clock_now_ms() + SUBSCRIBE_TIMEOUT_MS;

	stream_close(w);
	snprintf(url, sizeof(url), "http://localhost/v%u.%u%s", r->api_major, r->api_minor,
		 r->path);
	w->ev = curl_easy_init();
	if (!w->ev) {
		docker_sync_on_failure(w->sync, "/events: out of memory", clock_now_ms());
		return;
	}
	w->ev_errbuf[0] = '\0';
	set_common(w, w->ev, w->ev_errbuf);
	curl_easy_setopt(w->ev, CURLOPT_URL, url);
	curl_easy_setopt(w->ev, CURLOPT_WRITEFUNCTION, stream_write);
	curl_easy_setopt(w->ev, CURLOPT_WRITEDATA, w);
	curl_multi_add_handle(w->multi, w->ev);
	while (!atomic_load(&w->stop)) {
		long status = 0;

		if (stream_pump(w, 50)) {
			fail(w);
			return;
		}
		curl_easy_getinfo(w->ev, CURLINFO_RESPONSE_CODE, &status);
		if (status != 0) {
			(void)docker_sync_on_response(w->sync, status, NULL, 0, clock_now_ms());
			return;
		}
		if (clock_now_ms() > deadline) {
			snprintf(w->why, sizeof(w->why), "/events: no answer within %d ms",
				 SUBSCRIBE_TIMEOUT_MS);
			docker_sync_on_failure(w->sync, w->why, clock_now_ms());
			return;
		}
	}
}

/* FOLLOW: hand the core the next complete line if one is buffered, else
 * read the stream until r->until_ms. */
static void follow(struct docker_watch *w, const struct docker_req *r)
{
	struct buf *s = &w->stream;
	uint64_t now;

	while (w->stream_off < s->len) {
		char *line = s->p + w->stream_off;
		char *nl = memchr(line, '\n', s->len - w->stream_off);
		int err;

		if (!nl)
			break;
		w->stream_off += (size_t)(nl - line) + 1;
		if (nl == line)
			continue;
		err = docker_sync_on_event(w->sync, line, (size_t)(nl - line), clock_now_ms());
		if (err && log_ratelimit_ok(&w->rl, clock_now_ms()))
			log_warnx("docker: event: %s", glued_strerror(err));
		return;
	}
	/* Only a partial line is left: keep it at the front. */
	if (w->stream_off) {
		memmove(s->p, s->p + w->stream_off, s->len - w->stream_off);
		s->len -= w->stream_off;
		w->stream_off = 0;
	}
	if (s->len > DOCKER_EVENT_LINE_MAX) {
		snprintf(w->why, sizeof(w->why), "/events: line longer than %u bytes",
			 DOCKER_EVENT_LINE_MAX);
		docker_sync_on_failure(w->sync, w->why, clock_now_ms());
		return;
	}
	now = clock_now_ms();
	if (now < r->until_ms && stream_pump(w, (int)(r->until_ms - now)))
		fail(w);
}

/* --- the thread ------------------------------------------------------------- */

static void *watch_main(void *arg)
{
	struct docker_watch *w = arg;
	struct docker_req r;

	while (!atomic_load(&w->stop)) {
		uint64_t now = clock_now_ms();

		docker_sync_next(w->sync, now, &r);
		switch (r.kind) {
		case DOCKER_REQ_FOLLOW:
			follow(w, &r);
			break;
		case DOCKER_REQ_SUBSCRIBE:
			subscribe(w, &r);
			break;
		case DOCKER_REQ_SLEEP:
			/* Sleep, but wake at once on stop (curl_multi_wakeup). */
			stream_close(w);
			if (now < r.until_ms)
				curl_multi_poll(w->multi, NULL, 0, (int)(r.until_ms - now), NULL);
			break;
		default:
			request(w, &r);
			break;
		}
		stats_sync(w);
	}
	atomic_store(&w->st_connected, 0);
	return NULL;
}

/* --- lifecycle -------------------------------------------------------------- */

struct docker_watch *docker_watch_new(const struct docker_watch_cfg *cfg)
{
	struct docker_watch *w;

	if (!cfg->socket_path || !cfg->socket_path[0] || !docker_sync_network_valid(cfg->network)) {
		errno = EINVAL;
		return NULL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		errno = ENOMEM;
		return NULL;
	}
	errno = 0;
	w = calloc(1, sizeof(*w));
	if (!w)
		goto err_global;
	w->sock = strdup(cfg->socket_path);
	w->net = strdup(cfg->network);
	if (!w->sock || !w->net)
		goto err_alloc;
	w->sync = docker_sync_new(
	    &(struct docker_sync_cfg){.network = cfg->network,
				      .resync_ms = (cfg->resync_s ? cfg->resync_s : 30) * 1000u,
				      .ping_timeout_ms = cfg->ping_timeout_ms},
	    &(struct docker_sync_out){.ctx = w, .update = on_update, .note = on_note});
	if (!w->sync)
		goto err_alloc;
	w->body.max = DOCKER_BODY_MAX;
	w->stream.max = STREAM_PENDING_MAX;
	w->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(1, 5);
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0)
		goto err_sync;
	if (update_queue_init(&w->q, sizeof(struct docker_update), QUEUE_MAX))
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
	update_queue_fini(&w->q);
	errno = ENOMEM;
err_efd:
	close(w->efd);
err_sync:
	docker_sync_free(w->sync);
err_alloc:
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
	update_queue_wake(&w->q);
	curl_multi_wakeup(w->multi);
	pthread_join(w->thread, NULL);
	w->started = false;
}

void docker_watch_free(struct docker_watch *w)
{
	if (!w)
		return;
	docker_watch_stop(w);
	stream_close(w);
	curl_easy_cleanup(w->req);
	curl_multi_cleanup(w->multi);
	update_queue_fini(&w->q);
	close(w->efd);
	free(w->body.p);
	free(w->stream.p);
	docker_sync_free(w->sync);
	free(w->net);
	free(w->sock);
	free(w);
	curl_global_cleanup();
}

void docker_watch_get_stats(const struct docker_watch *w, struct docker_sync_stats *st)
{
#define ST_LOAD(f_, k_, m_, l_, h_) st->f_ = atomic_load(&w->st_##f_);
	DOCKER_COUNTERS(ST_LOAD)
#undef ST_LOAD
}
