/* HTTP served from the event loop, for the control API (io/ctl) and the
 * metrics endpoint (io/metrics): libmicrohttpd with no thread of its own,
 * driven by a poll op and a timer on the loop.
 *
 * Contract: a handler runs on the loop thread, fills one response per
 * request and never blocks; it may read any part of the daemon without a
 * lock because nothing else runs meanwhile. This module knows nothing of
 * URLs or bodies: routing and rendering are the caller's.
 */
#ifndef GLUED_IO_HTTP_H
#define GLUED_IO_HTTP_H

#include <stddef.h>

#include "io/loop.h"
#include "lib/err.h"

struct http;

struct http_req {
	const char *method, *path;
	void *conn; /* struct MHD_Connection *, for http_arg() */
};

struct http_resp {
	unsigned status;
	const char *content_type;
	char *body; /* malloc'ed; the server frees it. NULL: 500, out of memory */
	size_t len;
};

/* Fill resp for req. Runs on the loop thread. */
typedef void (*http_fn)(void *ctx, const struct http_req *req, struct http_resp *resp);

/* Serve HTTP on an already listening, non-blocking socket from the loop.
 * The socket is taken over: http_free closes it. NULL on failure (errno
 * set); the socket may then stay open (MHD does not say whether it closed
 * it, and closing a reused number would be worse), so fail startup. */
struct http *http_new(struct loop *l, int listen_fd, http_fn fn, void *ctx) GLUED_MUST_CHECK_PTR;
/* After the loop stopped: stop serving and close the socket. NULL is a no-op. */
void http_free(struct http *h);
/* A query-string argument of the request, or NULL. */
const char *http_arg(const struct http_req *req, const char *key);

#endif
