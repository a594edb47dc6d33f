/* The Docker watcher: a thread that follows one Docker network through the
 * Engine API and hands the main thread table updates.
 *
 * It talks to the engine over its unix socket with libcurl (an events stream
 * plus list/inspect requests); core/docker_sync decides which request comes
 * next and what the answers mean (published set, reconcile, watchdog,
 * backoff). It never touches the name table: it queues struct docker_update
 * values behind a mutex and makes an eventfd readable; the main thread
 * drains them on its own loop. While the engine is away the table keeps
 * serving what it has. docs/docker.md describes the protocol, the watchdog
 * and the log lines.
 */
#ifndef GLUED_IO_DOCKER_H
#define GLUED_IO_DOCKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/docker_json.h"
#include "core/docker_sync.h"
#include "core/table.h"
#include "lib/err.h"

struct docker_watch_cfg {
	const char *socket_path;  /* e.g. "/var/run/docker.sock" (copied) */
	const char *network;	  /* e.g. "glued_net" (copied; Docker's name charset) */
	unsigned resync_s;	  /* full resync + watchdog period; 0 = 30 */
	unsigned ping_timeout_ms; /* watchdog ping; 0 = 2000 */
};

/* struct docker_update (what the watcher queues) is core/docker_sync's. */

/* The watcher's counters are core/docker_sync.h's DOCKER_COUNTERS; its
 * stats are struct docker_sync_stats. */

struct docker_watch;

/* Copies cfg. NULL on allocation failure or an invalid cfg (errno set:
 * EINVAL for a missing socket path or a network name outside
 * [A-Za-z0-9][A-Za-z0-9_.-]*, at most DOCKER_NAME_MAX). */
struct docker_watch *docker_watch_new(const struct docker_watch_cfg *cfg);
/* Start the thread. 0 or -errno. */
int docker_watch_start(struct docker_watch *w) GLUED_MUST_CHECK;
/* An eventfd, readable while updates wait; poll it from the main loop. */
int docker_watch_fd(const struct docker_watch *w);
/* Main thread: clear the eventfd and call fn for the oldest queued updates,
 * at most a slice (128) per call, in the order the watcher produced them;
 * while more remain the eventfd stays readable, so the loop calls again
 * after its other completions. Returns how many were applied. The update
 * is only valid during the call. The queue holds at most 1024 updates: the
 * watcher waits for room (io/update_queue.h). */
typedef void (*docker_update_fn)(void *ctx, const struct docker_update *u);
size_t docker_watch_drain(struct docker_watch *w, docker_update_fn fn, void *ctx);
/* Ask the thread to stop and join it; returns within about a second, even in
 * the middle of a request. Safe if never started; idempotent. */
void docker_watch_stop(struct docker_watch *w);
/* Stops if needed, frees queued updates and everything else. */
void docker_watch_free(struct docker_watch *w);
/* Counters, readable from any thread. */
void docker_watch_get_stats(const struct docker_watch *w, struct docker_sync_stats *st);

#endif
