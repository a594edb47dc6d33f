/* Counters declared once. Each part lists its counters in one X-macro,
 *
 *   #define FWD_COUNTERS(X)                                              \
 *	X(queries, counter, "glued_forwarder_queries_total", "",          \
 *	  "Queries handed to the forwarder.")                             \
 *	...
 *
 * with, per counter: the field (also its JSON key under /v1/stats), its
 * kind, its Prometheus metric name, the metric's labels ("" or pairs such
 * as "transport=\"udp\""), and the metric's help text. The part's stats
 * struct is generated from the list (COUNTER_FIELD), and so are the tables
 * io/counters walks to render /v1/stats and /metrics: a new counter is one
 * line in one list.
 *
 * Counters sharing a metric name (one family, told apart by labels) carry
 * the same help text; /metrics prints the family once, at the place of its
 * first member. Every field is a uint64_t whatever its kind.
 */
#ifndef GLUED_LIB_COUNTER_H
#define GLUED_LIB_COUNTER_H

#include <stddef.h>
#include <stdint.h>

enum counter_kind {
	COUNTER_KIND_counter, /* only grows: Prometheus counter, name ends in _total */
	COUNTER_KIND_gauge,   /* goes up and down: Prometheus gauge */
	COUNTER_KIND_flag,    /* 0 or 1: a JSON boolean, a Prometheus gauge */
};

/* One struct field per list entry. */
#define COUNTER_FIELD(field, kind, metric, labels, help) uint64_t field;

/* One list entry as data, for the renderers. */
struct counter_def {
	const char *name; /* the field's name: the JSON key */
	enum counter_kind kind;
	const char *metric, *labels, *help;
	size_t offset; /* of the field in the part's stats struct */
};

/* A counter_def from a list entry; COUNTER_STRUCT names the stats struct at
 * the point of use:
 *   #define COUNTER_STRUCT struct fwd_stats
 *   static const struct counter_def defs[] = { FWD_COUNTERS(COUNTER_DEF) };
 *   #undef COUNTER_STRUCT */
#define COUNTER_DEF(field, kind, metric, labels, help)                                             \
	{#field, COUNTER_KIND_##kind, metric, labels, help, offsetof(COUNTER_STRUCT, field)},

static inline uint64_t counter_get(const void *stats, const struct counter_def *d)
{
	return *(const uint64_t *)((const char *)stats + d->offset);
}

#endif
