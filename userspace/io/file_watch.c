/* Polling file watcher; see file_watch.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/file_watch.h"

int file_read_all(const char *path, char **text, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	if (!buf) {
		err = -ENOMEM;
		goto err_close;
	}
	for (;;) {
		ssize_t r;

		if (n + 1 >= cap) {
			char *nb;
			if (cap >= FILE_WATCH_MAX_BYTES) {
				err = GLUED_ELIMIT;
				goto err_free;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				err = -ENOMEM;
				goto err_free;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto err_free;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;

err_free:
	free(buf);
err_close:
	close(fd);
	return err;
}

static void check(struct file_watch *w)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int err;

	if (stat(w->path, &st) < 0) {
		err = -errno;
		if (w->seen && w->last_err == err)
			return;
		w->seen = true;
		w->last_err = err;
		w->fn(w->ctx, w->path, NULL, 0, err);
		return;
	}
	if (w->seen && w->last_err == 0 && st.st_dev == w->dev && st.st_ino == w->ino &&
	    st.st_size == w->size && st.st_mtim.tv_sec == w->mtime.tv_sec &&
	    st.st_mtim.tv_nsec == w->mtime.tv_nsec)
		return;
	err = file_read_all(w->path, &text, &len);
	w->seen = true;
	w->last_err = err;
	w->dev = st.st_dev;
	w->ino = st.st_ino;
	w->size = st.st_size;
	w->mtime = st.st_mtim;
	w->fn(w->ctx, w->path, err ? NULL : text, err ? 0 : len, err);
	free(text);
}

static void tick(struct loop *l, struct loop_timer *t, uint64_t now_ms)
{
	struct file_watch *w = t->ctx;

	check(w);
	loop_timer_arm(l, &w->timer, now_ms + w->period_ms);
}

void file_watch_start(struct file_watch *w, struct loop *l, const char *path, uint32_t period_ms,
		      file_watch_fn fn, void *ctx)
{
	memset(w, 0, sizeof(*w));
	w->loop = l;
	snprintf(w->path, sizeof(w->path), "%s", path);
	w->period_ms = period_ms;
	w->fn = fn;
	w->ctx = ctx;
	loop_timer_init(&w->timer, tick, w);
	check(w);
	loop_timer_arm_in(l, &w->timer, period_ms);
}

void file_watch_stop(struct file_watch *w)
{
	if (w->loop)
		loop_timer_disarm(w->loop, &w->timer);
}
