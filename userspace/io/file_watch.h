/* Watch a file for changes by polling its identity (device, inode, size,
 * mtime) on a loop timer, and hand its new contents to a callback. Polling
 * rather than inotify: it also sees a file replaced by rename, a bind mount
 * changed underneath, or a file that appears later, with no watch
 * descriptors to re-arm. One stat(2) a second is nothing.
 */
#ifndef GLUED_IO_FILE_WATCH_H
#define GLUED_IO_FILE_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "io/loop.h"

#define FILE_WATCH_MAX_BYTES (16u << 20)

/* text is NUL-terminated (len excludes the NUL); text is NULL when the file
 * is missing or unreadable, with err = -errno. */
typedef void (*file_watch_fn)(void *ctx, const char *path, const char *text, size_t len, int err);

struct file_watch {
	struct loop *loop;
	struct loop_timer timer;
	char path[256];
	uint32_t period_ms;
	file_watch_fn fn;
	void *ctx;
	bool seen;	/* a first result was delivered */
	int last_err;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

/* Read the file now (fn called synchronously) and then poll every
 * period_ms, calling fn again only when the file changed or its
 * readability changed. */
void file_watch_start(struct file_watch *w, struct loop *l, const char *path, uint32_t period_ms,
		      file_watch_fn fn, void *ctx);
void file_watch_stop(struct file_watch *w);

/* Read a whole file into a malloc'd NUL-terminated buffer (at most
 * FILE_WATCH_MAX_BYTES). 0 or -errno / GLUED_ELIMIT. */
int file_read_all(const char *path, char **text, size_t *len) GLUED_MUST_CHECK;

#endif
