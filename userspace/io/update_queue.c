/* The bounded FIFO of update_queue.h: a ring under one mutex, a condition
 * variable for the producer to wait for room. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io/update_queue.h"

int update_queue_init(struct update_queue *q, size_t item_size, size_t cap)
{
	pthread_condattr_t ca;

	memset(q, 0, sizeof(*q));
	if (!item_size || !cap)
		return -EINVAL;
	q->ring = calloc(cap, item_size);
	if (!q->ring)
		return -ENOMEM;
	q->item_size = item_size;
	q->cap = cap;
	if (pthread_mutex_init(&q->lock, NULL))
		goto err_ring;
	/* CLOCK_MONOTONIC: a wall-clock step must not stretch a wait. */
	if (pthread_condattr_init(&ca))
		goto err_lock;
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (pthread_cond_init(&q->room, &ca)) {
		pthread_condattr_destroy(&ca);
		goto err_lock;
	}
	pthread_condattr_destroy(&ca);
	return 0;
err_lock:
	pthread_mutex_destroy(&q->lock);
err_ring:
	free(q->ring);
	q->ring = NULL;
	return -ENOMEM;
}

void update_queue_fini(struct update_queue *q)
{
	if (!q->ring)
		return;
	pthread_cond_destroy(&q->room);
	pthread_mutex_destroy(&q->lock);
	free(q->ring);
	q->ring = NULL;
}

bool update_queue_push(struct update_queue *q, const void *item, const atomic_bool *stop)
{
	pthread_mutex_lock(&q->lock);
	while (q->len == q->cap) {
		struct timespec ts;

		if (stop && atomic_load(stop)) {
			pthread_mutex_unlock(&q->lock);
			return false;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&q->room, &q->lock, &ts);
	}
	memcpy(q->ring + ((q->head + q->len) % q->cap) * q->item_size, item, q->item_size);
	q->len++;
	if (q->len > q->high_water)
		q->high_water = q->len;
	pthread_mutex_unlock(&q->lock);
	return true;
}

size_t update_queue_take(struct update_queue *q, void *out, size_t max, bool *more)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = q->len < max ? q->len : max;
	for (size_t i = 0; i < n; i++) {
		memcpy((unsigned char *)out + i * q->item_size, q->ring + q->head * q->item_size,
		       q->item_size);
		q->head = (q->head + 1) % q->cap;
	}
	q->len -= n;
	*more = q->len > 0;
	if (n)
		pthread_cond_broadcast(&q->room);
	pthread_mutex_unlock(&q->lock);
	return n;
}

void update_queue_wake(struct update_queue *q)
{
	pthread_mutex_lock(&q->lock);
	pthread_cond_broadcast(&q->room);
	pthread_mutex_unlock(&q->lock);
}
