/* Unit tests of the bounded queue between the Docker watcher and the loop:
 * order, slices, the bound (a producer waits, never grows the queue), and a
 * waiting producer released by its stop flag. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "io/update_queue.h"
#include "t.h"

struct producer {
	struct update_queue *q;
	atomic_bool stop;
	int count, pushed;
};

static void *produce(void *arg)
{
	struct producer *p = arg;

	for (int i = 0; i < p->count; i++) {
		if (!update_queue_push(p->q, &i, &p->stop))
			break;
		p->pushed++;
	}
	return NULL;
}

int main(void)
{
	struct update_queue q;
	int out[64];
	bool more;

	T_CASE("items come out in order, at most max per take; more says what is left")
	{
		T_EQ_INT(update_queue_init(&q, sizeof(int), 16), 0);
		for (int i = 0; i < 10; i++)
			T_ASSERT(update_queue_push(&q, &i, NULL), "push %d", i);
		T_EQ_INT(update_queue_take(&q, out, 4, &more), 4);
		T_ASSERT(more, "six left");
		T_ASSERT(out[0] == 0 && out[3] == 3, "oldest first: %d %d", out[0], out[3]);
		T_EQ_INT(update_queue_take(&q, out, 64, &more), 6);
		T_ASSERT(!more && out[0] == 4 && out[5] == 9, "the rest in order");
		T_EQ_INT(update_queue_take(&q, out, 64, &more), 0);
		update_queue_fini(&q);
	}
	T_CASE("a producer faster than the consumer never queues more than the bound")
	{
		struct producer p = {.q = &q, .count = 5000};
		pthread_t th;
		int next = 0, bad = 0;

		T_EQ_INT(update_queue_init(&q, sizeof(int), 32), 0);
		pthread_create(&th, NULL, produce, &p);
		while (next < 5000) {
			size_t n = update_queue_take(&q, out, 8, &more);

			for (size_t i = 0; i < n; i++)
				bad += out[i] != next++;
			if (!n)
				usleep(100);
		}
		pthread_join(th, NULL);
		T_EQ_INT(bad, 0);
		T_EQ_INT(p.pushed, 5000);
		T_ASSERT(q.high_water <= 32, "at most the bound queued: %zu", q.high_water);
		T_ASSERT(q.high_water == 32, "the producer did run into the bound: %zu",
			 q.high_water);
		update_queue_fini(&q);
	}
	T_CASE("a producer waiting for room gives up when told to stop")
	{
		struct producer p = {.q = &q, .count = 100};
		pthread_t th;

		T_EQ_INT(update_queue_init(&q, sizeof(int), 4), 0);
		pthread_create(&th, NULL, produce, &p);
		while (q.high_water < 4)
			usleep(1000);
		atomic_store(&p.stop, true);
		update_queue_wake(&q);
		pthread_join(th, NULL);
		T_EQ_INT(p.pushed, 4);
		update_queue_fini(&q);
	}
	T_CASE("a zero size or bound is refused")
	{
		T_EQ_INT(update_queue_init(&q, 0, 4), -EINVAL);
		T_EQ_INT(update_queue_init(&q, 4, 0), -EINVAL);
	}
	return t_summary();
}
