/* Prometheus exposition of the daemon's counters (see metrics.h): a TCP
 * listener served by io/http. The text is io/counters' rendering of the
 * control API's counter snapshot, taken on the loop thread; nothing here
 * changes a part.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/counters.h"
#include "io/http.h"
#include "io/metrics.h"

#define METRICS_BACKLOG 32

struct metrics {
	struct http *http;
	const struct ctl_parts *p;
};

char *metrics_render(const struct ctl_parts *p)
{
	return ctl_render_counters(p, counters_render_prom);
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
