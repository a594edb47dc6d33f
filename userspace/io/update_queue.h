/* A bounded FIFO between the Docker watcher thread and the loop thread.
 *
 * The watcher produces updates as fast as the engine reports containers; the
 * loop applies them between DNS queries. Unbounded, a burst (a resync of
 * thousands of containers, or an engine flooding events) grew memory
 * without limit and was applied in one loop turn, holding DNS for its whole
 * length. Here the producer waits while the queue holds `cap` items (the
 * engine's stream simply waits in its socket meanwhile: nothing is lost),
 * and the consumer takes at most a slice per call, so the loop serves other
 * completions between slices.
 */
#ifndef GLUED_IO_UPDATE_QUEUE_H
#define GLUED_IO_UPDATE_QUEUE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/err.h"

struct update_queue {
	pthread_mutex_t lock;
	pthread_cond_t room;
	size_t item_size, cap;
	size_t head, len; /* ring of cap items */
	unsigned char *ring;
	size_t high_water; /* the most items ever queued at once */
};

int update_queue_init(struct update_queue *q, size_t item_size, size_t cap) GLUED_MUST_CHECK;
void update_queue_fini(struct update_queue *q);

/* Producer: append a copy of item, waiting while the queue is full. Gives up
 * (returns false) once *stop is set; checks it at least every 100 ms. */
bool update_queue_push(struct update_queue *q, const void *item, const atomic_bool *stop);

/* Consumer: move up to max items (oldest first) into out; returns how many.
 * *more says whether items remain after them. Never waits. */
size_t update_queue_take(struct update_queue *q, void *out, size_t max, bool *more);

/* Wake a producer waiting in push (after setting its stop flag). */
void update_queue_wake(struct update_queue *q);

#endif
