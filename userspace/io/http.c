/* HTTP on the event loop (see http.h): libmicrohttpd driven from the
 * io_uring loop. It owns the MHD daemon, its listening socket and its
 * connections, and never looks inside a request beyond handing it over.
 *
 * Threading: MHD runs with no thread of its own. It is started in "external
 * polling" epoll mode, which gives one epoll fd standing for the listening
 * socket and every connection; the loop polls that fd (one-shot poll op,
 * re-armed) and arms a loop timer for MHD_get_timeout(), and both call
 * MHD_run(), which never blocks. Handlers therefore run on the loop thread
 * and read the daemon's parts directly, with no lock and no copy, and always
 * see a consistent state (nothing mutates while a handler runs). The price
 * is that a long rendering (a large /v1/names: about 1 us per record) holds
 * the loop for its duration; the alternative, an MHD thread with a snapshot
 * published by the loop, would copy the whole table on every change or
 * every request instead.
 */
#include <errno.h>
#include <microhttpd.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/http.h"
#include "lib/log.h"

#define HTTP_MAX_CONNS 64
#define HTTP_CONN_TIMEOUT_S 10

struct http {
	struct loop *loop;
	struct MHD_Daemon *mhd;
	int epfd;
	http_fn fn;
	void *ctx;
	struct loop_op poll_op;
	struct loop_timer timer;
};

static void http_run(struct http *h)
{
	MHD_UNSIGNED_LONG_LONG to;

	(void)MHD_run(h->mhd);
	if (MHD_get_timeout(h->mhd, &to) == MHD_YES)
		loop_timer_arm_in(h->loop, &h->timer, to);
	else
		loop_timer_disarm(h->loop, &h->timer);
}

static void http_readable(struct loop *l, struct loop_op *op, int res, uint32_t flags GLUED_UNUSED)
{
	struct http *h = op->ctx;

	if (res == -ECANCELED)
		return;
	http_run(h);
	loop_poll(l, &h->poll_op, h->epfd, POLLIN);
}

static void http_timer(struct loop *l GLUED_UNUSED, struct loop_timer *t,
		       uint64_t now_ms GLUED_UNUSED)
{
	http_run(t->ctx);
}

static enum MHD_Result http_request(void *cls, struct MHD_Connection *conn, const char *url,
				    const char *method, const char *version GLUED_UNUSED,
				    const char *upload GLUED_UNUSED,
				    size_t *upload_size GLUED_UNUSED, void **con_cls GLUED_UNUSED)
{
	static char oom[] = "{\"error\":\"out of memory\"}\n";
	struct http *h = cls;
	struct http_req req = {.method = method, .path = url, .conn = conn};
	struct http_resp resp = {.status = 500, .content_type = "application/json"};
	struct MHD_Response *r;
	enum MHD_Result ret;

	h->fn(h->ctx, &req, &resp);
	if (resp.body)
		r = MHD_create_response_from_buffer(resp.len, resp.body, MHD_RESPMEM_MUST_FREE);
	else
		r = MHD_create_response_from_buffer(sizeof(oom) - 1, oom, MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(resp.body);
		return MHD_NO;
	}
	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp.content_type);
	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(conn, resp.body ? resp.status : 500, r);
	MHD_destroy_response(r);
	return ret;
}

static void http_log(void *cls GLUED_UNUSED, const char *fmt, va_list ap)
{
	char msg[256];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_debug("http: %s", msg);
}

struct http *http_new(struct loop *l, int listen_fd, http_fn fn, void *ctx)
{
	struct http *h = calloc(1, sizeof(*h));
	const union MHD_DaemonInfo *info;

	if (!h) {
		close(listen_fd);
		return NULL;
	}
	h->loop = l;
	h->fn = fn;
	h->ctx = ctx;
	/* No MHD_USE_INTERNAL_POLLING_THREAD: the loop drives it (file comment). */
	h->mhd = MHD_start_daemon(
	    MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, http_request, h,
	    MHD_OPTION_EXTERNAL_LOGGER, http_log, NULL, MHD_OPTION_LISTEN_SOCKET,
	    (MHD_socket)listen_fd, MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_CONN_TIMEOUT_S, MHD_OPTION_END);
	if (!h->mhd) {
		/* Whether MHD closed listen_fd is not documented: leak it
		 * rather than risk closing a reused number (startup fails). */
		free(h);
		errno = EINVAL;
		return NULL;
	}
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0) {
		MHD_stop_daemon(h->mhd);
		free(h);
		errno = ENOTSUP;
		return NULL;
	}
	h->epfd = info->epoll_fd;
	h->poll_op.fn = http_readable;
	h->poll_op.ctx = h;
	loop_timer_init(&h->timer, http_timer, h);
	loop_poll(l, &h->poll_op, h->epfd, POLLIN);
	return h;
}

/* After the loop stopped: the poll op is never completed again. */
void http_free(struct http *h)
{
	if (!h)
		return;
	loop_timer_disarm(h->loop, &h->timer);
	/* MHD closes the listening socket it was given (MHD_quiesce_daemon not used). */
	MHD_stop_daemon(h->mhd);
	free(h);
}

const char *http_arg(const struct http_req *req, const char *key)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}
