/* The kernel fast path's lifecycle (see fastpath.h, fastpath_int.h for
 * how its files divide the work, docs/fastpath-loader.md): start in the
 * mode GLUED_XDP asks for, the 1 s tick that keeps the program alive and
 * follows interfaces, the events the sources report, and the questions the
 * control API asks (state, counters, attach points, kernel names). It
 * owns every BPF fd glued holds. It never decides what a query gets (the
 * program and core/dns_answer do, byte for byte alike) and never detaches
 * a hook on exit: a restart must not drop answers.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "io/bpf_names.h"
#include "io/ctr_attach.h"
#include "io/fastpath_int.h"
#include "lib/clock.h"

#define TICK_MS 1000	       /* liveness refresh */
#define RESCAN_TICKS 3	       /* addresses and interfaces re-read every 3 ticks */
#define SYNC_FALLBACK_MS 10000 /* reconcile names even if Docker never syncs */
/* A restarted glued's table holds only this host's names when Docker has
 * synced; the other hosts' come back by gossip within a round or two.
 * Until then a name the table lacks stays in glued_names (it was answered
 * that long while glued was down anyway): deleting it at once made
 * in-container queries for another host's names miss for that while. */
#define REMOVE_AFTER_MS (FP_GRACE_S * 1000)

void fp_why_set(struct fastpath *fp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fp->why, sizeof(fp->why), fmt, ap);
	va_end(ap);
}

/* --- timer ----------------------------------------------------------------------------- */

static void on_tick(struct loop *l, struct loop_timer *t, uint64_t now_ms)
{
	struct fastpath *fp = t->ctx;
	int err;

	if (!fp->active)
		return;
	err = fp_config_write(fp);
	if (err && log_ratelimit_ok(&fp->rl, now_ms))
		log_warnx("fastpath: refresh config: %s", glued_strerror(err));
	if (++fp->ticks % RESCAN_TICKS == 0)
		(void)fp_hooks_sync(fp);
	if (!fp->synced && now_ms - fp->started_ms >= SYNC_FALLBACK_MS)
		fastpath_table_synced(fp);
	if (fp->remove_pending && now_ms - fp->started_ms >= REMOVE_AFTER_MS) {
		fp->remove_pending = false;
		fp_names_reconcile(fp, true);
	}
	loop_timer_arm_in(l, t, TICK_MS);
}

/* --- lifecycle ------------------------------------------------------------------------- */

struct fastpath *fastpath_new(struct loop *l, const struct glued_config *cfg, struct table *t)
{
	struct fastpath *fp = calloc(1, sizeof(*fp));

	if (!fp)
		return NULL;
	fp->loop = l;
	fp->cfg = cfg;
	fp->table = t;
	fp->names_fd = fp->addrs_fd = fp->config_fd = fp->stats_fd = fp->allow_fd = -1;
	fp->ctr_stats_fd = -1;
	for (size_t i = 0; i < FP_HOOKS_MAX; i++)
		fp->hooks[i].link_fd = -1;
	fp->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(1, 5);
	loop_timer_init(&fp->timer, on_tick, fp);
	fp_why_set(fp, "not started");
	return fp;
}

static void summary(struct fastpath *fp)
{
	char hooks[FP_HOOKS_MAX * (IF_NAMESIZE + 24)];
	size_t off = 0, n = 0;

	hooks[0] = 0;
	for (size_t i = 0; i < FP_HOOKS_MAX; i++) {
		const struct fp_hook *h = &fp->hooks[i];
		if (!h->used)
			continue;
		off += (size_t)snprintf(hooks + off, sizeof(hooks) - off, "%s%s %s", n ? ", " : "",
					h->kind == HOOK_TC ? "tc" : "xdp", h->ifname);
		n++;
	}
	log_info("fastpath: on: maps %s %s, %zu hooks (%s), %zu local addresses, port %u; the "
		 "watched network's bridge is followed as Docker reports it",
		 fp->maps_reused ? "reused from" : "created in", fp->cfg->bpf_pin, n,
		 n ? hooks : "none yet", fp->n_local, fp->cfg->dns_bind.port);
}

/* The container fast path: on wherever the fast path is, unless
 * GLUED_CONTAINER_FASTPATH=off; disabled, it still counts the containers
 * Docker's resolver answers and says why. It never stops glued: without
 * it (out of memory, no fd for the netns to come back to) containers ask
 * dockerd as before. Returns 0 so that fastpath_start can end with it. */
static int containers_start(struct fastpath *fp)
{
	char why[FP_WHY_LEN + 64];
	bool on = fp->active && fp->cfg->container_fastpath;

	if (!fp->cfg->container_fastpath)
		snprintf(why, sizeof(why), "GLUED_CONTAINER_FASTPATH=off");
	else
		snprintf(why, sizeof(why), "the kernel fast path is off: %s", fp->why);
	fp->ctr = ctr_attach_new(fp->loop, fp->cfg, on, on ? fp_ctr_prog_fd(fp) : -1, why);
	if (!fp->ctr && on) {
		snprintf(why, sizeof(why), "could not start: %s", glued_strerror(-errno));
		fp->ctr = ctr_attach_new(fp->loop, fp->cfg, false, -1, why);
		on = false;
	}
	if (on)
		log_info("fastpath: containers: glued_ctr_dns goes on the lo of every container "
			 "on %s (GLUED_CONTAINER_FASTPATH=auto)",
			 fp->cfg->network_name);
	else
		log_info("fastpath: containers: off (%s); Docker's resolver answers them", why);
	return 0;
}

int fastpath_start(struct fastpath *fp)
{
	int err;

	if (fp->cfg->xdp == CONFIG_XDP_OFF) {
		fp_why_set(fp, "GLUED_XDP=off");
		err = fastpath_remove_pins(fp->cfg->bpf_pin);
		if (err < 0)
			log_warnx("fastpath: GLUED_XDP=off: removing %s: %s", fp->cfg->bpf_pin,
				  glued_strerror(err));
		return containers_start(fp);
	}
	fp->started_ms = clock_now_ms();
	err = fp_load(fp);
	if (err)
		goto err_off;
	fp->active = true;
	err = fp_config_write(fp);
	if (err) {
		fp_why_set(fp, "write glued_config: %s", glued_strerror(err));
		goto err_unload;
	}
	fp_adopt_links(fp);
	err = fp_hooks_sync(fp);
	if (err && fp->cfg->xdp == CONFIG_XDP_ON) {
		fp_why_set(fp, "an attach point failed: %s (see the lines above)",
			   glued_strerror(err));
		goto err_unload;
	}
	fp->why[0] = 0;
	loop_timer_arm_in(fp->loop, &fp->timer, TICK_MS);
	summary(fp);
	return containers_start(fp);

err_unload:
	fp->active = false;
	fp_hooks_release(fp);
	fp_unload(fp);
err_off:
	if (fp->cfg->xdp == CONFIG_XDP_ON)
		return err ? err : -EINVAL;
	log_warnx("fastpath: off: %s; serving everything from userspace", fp->why);
	return containers_start(fp);
}

const char *fastpath_why(const struct fastpath *fp)
{
	return fp->why;
}

void fastpath_set_network(struct fastpath *fp, const struct docker_network *net)
{
	if (!fp || !fp->active)
		return;
	fp->network_known = true;
	snprintf(fp->bridge, sizeof(fp->bridge), "%s", net->bridge);
	fp->n_gw = 0;
	for (size_t i = 0; i < net->n_subnets && i < DOCKER_NET_SUBNETS_MAX; i++)
		if (net->subnets[i].gateway.family)
			fp->gw[fp->n_gw++] = net->subnets[i].gateway;
	(void)fp_hooks_sync(fp);
}

void fastpath_table_synced(struct fastpath *fp)
{
	if (!fp || !fp->active)
		return;
	fp->synced = true;
	fp->remove_pending = clock_now_ms() - fp->started_ms < REMOVE_AFTER_MS;
	fp_names_reconcile(fp, !fp->remove_pending);
}

bool fastpath_active(const struct fastpath *fp)
{
	return fp && fp->active;
}

int fastpath_stats(const struct fastpath *fp, struct glued_stats *out)
{
	if (!fastpath_active(fp))
		return -ENODEV;
	return fp_stats_sum(fp->stats_fd, out);
}

int fastpath_map_has(const struct fastpath *fp, const char *name, size_t len)
{
	struct glued_name_key key;
	struct glued_name_val val;
	int ret;

	if (!fastpath_active(fp))
		return -ENODEV;
	ret = bpf_names_key(name, len, &key);
	if (ret)
		return ret;
	if (bpf_map_lookup_elem(fp->names_fd, &key, &val) == 0)
		return 1;
	return errno == ENOENT ? 0 : -errno;
}

/* --- the container fast path (io/ctr_attach) ------------------------------------------ */

void fastpath_container_put(struct fastpath *fp, const char *id, const char *sandbox)
{
	if (fp)
		ctr_attach_put(fp->ctr, id, sandbox);
}

void fastpath_container_del(struct fastpath *fp, const char *id)
{
	if (fp)
		ctr_attach_del(fp->ctr, id);
}

void fastpath_containers_synced(struct fastpath *fp)
{
	if (fp)
		ctr_attach_synced(fp->ctr);
}

bool fastpath_containers_on(const struct fastpath *fp)
{
	return fp && ctr_attach_enabled(fp->ctr);
}

const char *fastpath_containers_why_off(const struct fastpath *fp)
{
	return fp ? ctr_attach_why_off(fp->ctr) : "no fast path";
}

void fastpath_containers(const struct fastpath *fp, struct ctr_fast_stats *st,
			 void (*fn)(void *ctx, const struct ctr_fast_view *v), void *ctx)
{
	ctr_attach_stats(fp ? fp->ctr : NULL, st);
	if (fn && fp)
		ctr_attach_each(fp->ctr, fn, ctx);
}

int fastpath_ctr_stats(const struct fastpath *fp, struct glued_stats *out)
{
	if (!fastpath_active(fp) || fp->ctr_stats_fd < 0)
		return -ENODEV;
	return fp_stats_sum(fp->ctr_stats_fd, out);
}

void fastpath_free(struct fastpath *fp)
{
	if (!fp)
		return;
	ctr_attach_free(fp->ctr); /* before the program's fd goes */
	loop_timer_disarm(fp->loop, &fp->timer);
	fp_hooks_release(fp); /* pinned links stay attached */
	if (fp->skel)
		fp_unload(fp); /* pinned maps stay */
	free(fp);
}
