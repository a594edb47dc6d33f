/* Prometheus metrics: GET /metrics in the text exposition format (0.0.4)
 * on GLUED_METRICS_BIND, served from the loop like the control API
 * (io/ctl.h, whose struct ctl_parts it reads). Off unless configured.
 *
 * Every counter the control API shows under /v1/stats appears here, named
 * the Prometheus way (glued_<area>_<what>_total, labels for the dimension:
 * glued_dns_queries_total{path="kernel",result="answered"}), plus the
 * latency histogram of forwarded queries: both documents render one
 * snapshot from the same counter lists, which give each counter's metric
 * name (io/counters.h). It never changes a part.
 */
#ifndef GLUED_IO_METRICS_H
#define GLUED_IO_METRICS_H

#include "io/ctl.h"
#include "io/loop.h"
#include "lib/err.h"

struct metrics;

/* Listen on parts->cfg->metrics_bind (TCP) and serve. 0 and *out, or a
 * negative code (-EADDRINUSE, ...). */
int metrics_new(struct loop *l, const struct ctl_parts *parts,
		struct metrics **out) GLUED_MUST_CHECK;
void metrics_free(struct metrics *m);

/* The exposition text (malloc'ed, NUL-terminated), or NULL when out of
 * memory. */
char *metrics_render(const struct ctl_parts *p);

#endif
