/* ctr-load: attach glued_ctr_dns to the lo of the network namespace it runs
 * in, answering from a running glued's pinned maps, until SIGTERM. A
 * stand-in for glued's own in-container attach (issue 12, the userspace
 * half) so that `make bench-container` can measure the program before that
 * lands; never used by glued.
 *
 *   nsenter --net=<container netns> --mount=<glued's mount ns> \
 *       ctr-load PIN_DIR STATS_PIN
 *
 * PIN_DIR: glued's GLUED_BPF_PIN; its names, config and rot are reused (the
 * program answers from the same table and liveness deadline as glued's own
 * hooks). STATS_PIN: where glued_ctr_stats is pinned while attached (read
 * it with bpftool). Sets net.ipv4.conf.lo.route_localnet=1 in the namespace
 * (the replies need it) and leaves it so. Attaches on lo's egress as a tcx
 * link, or a clsact filter where the kernel has no tcx; detaches and
 * unpins on exit. Prints one line when attached, then waits.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "glued_dns.skel.h"

#define TCX_EGRESS_ 47 /* BPF_TCX_EGRESS (6.6 uapi; libbpf 1.1 predates it) */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int reuse(struct bpf_map *m, const char *dir, const char *name)
{
	char path[4096];
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fprintf(stderr, "ctr-load: %s: %s (is glued running with its fast path?)\n", path,
			strerror(errno));
		return -1;
	}
	err = bpf_map__reuse_fd(m, fd);
	close(fd);
	if (err)
		fprintf(stderr, "ctr-load: reuse %s: %s\n", path, strerror(-err));
	return err;
}

int main(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = 1, .attach_point = BPF_TC_EGRESS);
	struct glued_dns *s;
	sigset_t set, old;
	const char *mode = "tcx";
	int link = -1, pfd, err;
	FILE *f;

	/* Blocked until sigsuspend(): a signal cannot slip in before the wait. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, &old);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (argc != 3) {
		fprintf(stderr, "usage: ctr-load PIN_DIR STATS_PIN\n");
		return 2;
	}
	s = glued_dns__open();
	if (!s) {
		fprintf(stderr, "ctr-load: open: %s\n", strerror(errno));
		return 1;
	}
	bpf_program__set_autoload(s->progs.glued_xdp_dns, false);
	bpf_program__set_autoload(s->progs.glued_tc_dns, false);
	if (reuse(s->maps.glued_names, argv[1], "names") ||
	    reuse(s->maps.glued_config, argv[1], "config") ||
	    reuse(s->maps.glued_rot, argv[1], "rot"))
		goto err_skel;
	err = glued_dns__load(s);
	if (err) {
		fprintf(stderr, "ctr-load: load: %s\n", strerror(-err));
		goto err_skel;
	}
	err = bpf_map__pin(s->maps.glued_ctr_stats, argv[2]);
	if (err) {
		fprintf(stderr, "ctr-load: pin %s: %s\n", argv[2], strerror(-err));
		goto err_skel;
	}
	f = fopen("/proc/sys/net/ipv4/conf/lo/route_localnet", "w");
	if (!f || fputs("1", f) < 0 || fclose(f)) {
		fprintf(stderr, "ctr-load: route_localnet: %s\n", strerror(errno));
		goto err_pin;
	}
	pfd = bpf_program__fd(s->progs.glued_ctr_dns);
	link = bpf_link_create(pfd, 1, TCX_EGRESS_, NULL);
	if (link < 0) {
		LIBBPF_OPTS(bpf_tc_opts, o, .handle = 1, .priority = 1, .prog_fd = pfd);

		mode = "clsact";
		err = bpf_tc_hook_create(&hook);
		if ((err && err != -EEXIST) || (err = bpf_tc_attach(&hook, &o))) {
			fprintf(stderr, "ctr-load: attach on lo: tcx: %s, clsact: %s\n",
				strerror(errno), strerror(-err));
			goto err_pin;
		}
	}
	printf("ctr-load: attached glued_ctr_dns on lo egress (%s), stats at %s\n", mode, argv[2]);
	fflush(stdout);
	while (!stop)
		sigsuspend(&old); /* the signals are blocked but for here */
	if (link >= 0)
		close(link);
	else
		bpf_tc_hook_destroy(&hook);
	bpf_map__unpin(s->maps.glued_ctr_stats, argv[2]);
	glued_dns__destroy(s);
	return 0;
err_pin:
	bpf_map__unpin(s->maps.glued_ctr_stats, argv[2]);
err_skel:
	glued_dns__destroy(s);
	return 1;
}
