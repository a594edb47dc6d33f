/* glued: command line, configuration, wiring of the parts, signals.
 *
 * Nothing here makes a DNS, Docker or gossip decision: it builds the parts,
 * connects their outputs to their inputs, and runs the loop. fatal() is
 * allowed here, before the loop starts, and nowhere else.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/table.h"
#include "io/ctl.h"
#include "io/dns_server.h"
#include "io/fastpath.h"
#include "io/file_watch.h"
#include "io/forwarder.h"
#include "io/gossip.h"
#include "io/loop.h"
#include "io/metrics.h"
#include "io/privs.h"
#include "io/sources.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/rand.h"

extern char **environ;

static const char *const default_config_paths[] = {
    "/etc/glued/glued.json",
    "/etc/glued/glued.toml",
};

struct daemon {
	struct glued_config cfg;
	struct loop *loop;
	struct table *table;
	struct dns_server *dns;
	struct forwarder *fwd;
	struct sources *sources;
	struct gossip_edge *gossip; /* NULL until started */
	struct fastpath *fastpath;
	struct ctl_parts parts; /* what ctl and metrics read; optional parts plug in here */
	struct ctl_fastpath *ctl_fp;
	struct ctl_gossip *ctl_gossip;
	struct ctl *ctl;
	struct metrics *metrics;
	int sig_fd;
	struct signalfd_siginfo si;
	struct loop_op sig_op;
};

static void usage(FILE *f)
{
	size_t need = config_help(NULL, 0, CONFIG_HELP_TEXT);
	char *help = malloc(need + 1);

	fprintf(f,
		"usage: glued [--config PATH] [--detach] [--help] [--version]\n\n"
		"glued gives Docker containers on many hosts DNS names for each other.\n"
		"It watches one Docker network, answers single-label names from the\n"
		"cluster-wide table and forwards everything else upstream.\n\n"
		"options:\n"
		"  -c, --config PATH  read settings from PATH (.json or .toml); default\n"
		"                     /etc/glued/glued.json or /etc/glued/glued.toml if present\n"
		"      --detach       remove the kernel fast path (every hook and pin under\n"
		"                     GLUED_BPF_PIN) and exit\n"
		"  -h, --help         this text\n"
		"  -V, --version      print the version\n\n"
		"environment (wins over the config file):\n");
	if (help) {
		config_help(help, need + 1, CONFIG_HELP_TEXT);
		fputs(help, f);
		free(help);
	}
}

/* Load the configuration or exit 2 with one line naming the key. */
static void load_config(struct glued_config *cfg, const char *path)
{
	char err[CONFIG_ERR_LEN];
	char *text = NULL;
	size_t len = 0;
	int ret;

	if (!path) {
		for (size_t i = 0; i < sizeof(default_config_paths) / sizeof(*default_config_paths);
		     i++) {
			if (access(default_config_paths[i], F_OK) == 0) {
				path = default_config_paths[i];
				break;
			}
		}
	}
	if (path) {
		ret = file_read_all(path, &text, &len);
		if (ret) {
			fprintf(stderr, "config: %s: %s\n", path, glued_strerror(ret));
			exit(2);
		}
		if (config_format_from_path(path) == CONFIG_FMT_UNKNOWN) {
			fprintf(stderr, "config: %s: unknown format: name it .json or .toml\n",
				path);
			exit(2);
		}
	}
	ret = config_load(cfg, environ, text, len,
			  path ? config_format_from_path(path) : CONFIG_FMT_UNKNOWN,
			  path ? path : "", err, sizeof(err));
	free(text);
	if (ret) {
		fprintf(stderr, "%s\n", err);
		exit(2);
	}
}

static void on_signal(struct loop *l, struct loop_op *op, int res, uint32_t flags GLUED_UNUSED)
{
	struct daemon *d = op->ctx;

	if (res == (int)sizeof(d->si)) {
		switch (d->si.ssi_signo) {
		case SIGINT:
		case SIGTERM:
			log_info("glued: %s: shutting down", strsignal((int)d->si.ssi_signo));
			gossip_edge_leave(d->gossip); /* tell the cluster before going */
			loop_stop(l);
			return;
		case SIGHUP:
			log_info("glued: SIGHUP: re-reading sources");
			sources_reload(d->sources);
			break;
		}
	}
	loop_read(l, &d->sig_op, d->sig_fd, &d->si, sizeof(d->si));
}

static void setup_signals(struct daemon *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		fatal("glued: block signals");
	signal(SIGPIPE, SIG_IGN);
	d->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d->sig_fd < 0)
		fatal("glued: signalfd");
	d->sig_op.fn = on_signal;
	d->sig_op.ctx = d;
	loop_read(d->loop, &d->sig_op, d->sig_fd, &d->si, sizeof(d->si));
}

/* After the last step that needs root's full rights (port 53, the BPF load
 * and first attach, a bpffs mount) and before the first thread starts:
 * capabilities are per thread, and threads inherit the caller's. */
static void drop_caps(struct daemon *d)
{
	struct privs_keep keep = {
	    .fastpath = fastpath_active(d->fastpath),
	    .containers = fastpath_containers_on(d->fastpath),
	    .low_ports = d->cfg.gossip_bind.port < 1024 ||
			 (d->cfg.metrics_enabled && d->cfg.metrics_bind.port < 1024),
	    .no_cap_bpf = !privs_kernel_has_cap_bpf(),
	};
	uint64_t mask = privs_keep_mask(&keep);
	char caps[160];
	int ret;

	ret = privs_drop_caps(mask);
	if (ret)
		fatalx("glued: drop capabilities: %s", glued_strerror(ret));
	privs_mask_str(mask, caps, sizeof(caps));
	log_info("glued: capabilities kept: %s%s%s", caps,
		 keep.fastpath ? " (the fast path follows bridges as networks come and go)" : "",
		 keep.containers ? " (cap_sys_admin: setns into containers' netns)" : "");
}

/* Last, when every socket, file and thread exists. */
static void install_seccomp(const struct daemon *d)
{
	const char *bad = NULL;
	int ret = privs_seccomp(fastpath_containers_on(d->fastpath), &bad);

	if (ret)
		fatalx("glued: seccomp filter%s%s: %s", bad ? ": " : "", bad ? bad : "",
		       glued_strerror(ret));
	log_info("glued: seccomp filter installed (%zu system calls allowed)",
		 privs_syscall_count());
}

/* The table's fan-out, all of it: who follows the name table, in the order
 * the table calls them. Registered before anything fills the table (the
 * sources start after this), so no follower misses a change. The table
 * tells name observers (per name whose answer changed) and entry observers
 * (per entry) after each change, once it is in its new state.
 *   1. the BPF mirror, a name observer: writes the changed name into
 *      glued_names (a no-op while the fast path is inactive). It needs no
 *      other follower, and none needs it.
 *   2. the gossip core, an entry observer: stamps this node's changed
 *      record with a new version and queues it for the peers.
 *   3. the gossip edge, an entry observer, after the core: it arms an
 *      immediate round that sends what the core queued in 2. */
static void observe_table(struct daemon *d)
{
	if (table_observe(d->table, fastpath_on_table_change, d->fastpath))
		fatalx("glued: observe the table: fastpath: no observer slot left");
	if (table_observe_entries(d->table, gossip_on_table_entry,
				  gossip_edge_core_observer_ctx(d->gossip)))
		fatalx("glued: observe the table: gossip core: no observer slot left");
	if (table_observe_entries(d->table, gossip_edge_on_table_entry, d->gossip))
		fatalx("glued: observe the table: gossip edge: no observer slot left");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {"detach", no_argument, NULL, 'D'},
	    {0},
	};
	struct daemon d = {.sig_fd = -1};
	struct dns_server_cfg dcfg = {0};
	struct forwarder_cfg fcfg;
	const char *config_path = NULL;
	char ep[ENDPOINT_STRLEN];
	bool detach = false;
	int c, ret;

	while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'D':
			detach = true;
			break;
		case 'V':
			printf("glued %s (%s)\n", GLUED_VERSION, GLUED_GIT_REV);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "glued: unexpected argument '%s' (see glued --help)\n",
			argv[optind]);
		return 2;
	}

	load_config(&d.cfg, config_path);
	log_init(d.cfg.log_level, d.cfg.log_json);
	for (size_t i = 0; i < d.cfg.n_warnings; i++)
		log_warnx("%s", d.cfg.warnings[i]);
	if (d.cfg.n_warnings_dropped)
		log_warnx("config: %zu more warnings not shown", d.cfg.n_warnings_dropped);
	if (detach) {
		ret = fastpath_remove_pins(d.cfg.bpf_pin);
		if (ret < 0)
			fatalx("glued --detach: %s: %s", d.cfg.bpf_pin, glued_strerror(ret));
		log_info("glued --detach: %d hooks and pins removed under %s", ret, d.cfg.bpf_pin);
		return 0;
	}
	log_info("glued %s (%s) starting", GLUED_VERSION, GLUED_GIT_REV);

	d.table = table_new();
	d.loop = loop_new(4096);
	if (!d.table || !d.loop)
		fatal("glued: start");
	{
		uint8_t key[16]; /* the table's index hashes: peers must not aim at one chain */

		if (rand_bytes(key, sizeof(key)) != 0 || table_set_hash_key(d.table, key) != 0)
			fatalx("glued: start: no random key for the name table");
	}
	/* Before any thread starts (the Docker watcher): threads inherit the
	 * blocked mask, so SIGTERM reaches the signalfd, not a default action
	 * in another thread (which killed glued without its cleanup). */
	setup_signals(&d);

	dcfg.bind = d.cfg.dns_bind;
	dcfg.ttl_s = d.cfg.ttl_s;
	dcfg.rrl = (struct rrl_cfg){.rate = d.cfg.rrl_rate,
				    .slip = d.cfg.rrl_slip,
				    .prefix4 = (uint8_t)d.cfg.rrl_prefix4,
				    .prefix6 = (uint8_t)d.cfg.rrl_prefix6};
	d.dns = dns_server_new(d.loop, &dcfg, d.table);
	if (!d.dns)
		fatal("glued: dns server");
	ret = dns_server_start(d.dns);
	if (ret)
		fatalx("dns: listen on %s: %s", endpoint_str(&d.cfg.dns_bind, ep, sizeof(ep)),
		       glued_strerror(ret));
	log_info("dns: listening on %s (udp, tcp)", endpoint_str(&d.cfg.dns_bind, ep, sizeof(ep)));

	forwarder_cfg_default(&fcfg);
	fcfg.neg_ttl_max_s = d.cfg.neg_ttl_max_s;
	d.fwd = forwarder_new(d.loop, &fcfg, dns_server_reply, d.dns);
	if (!d.fwd)
		fatal("glued: forwarder");
	dns_server_set_forwarder(d.dns, d.fwd);

	d.fastpath = fastpath_new(d.loop, &d.cfg, d.table);
	if (!d.fastpath)
		fatal("glued: fastpath");
	d.sources = sources_new(d.loop, &d.cfg, d.table, d.dns, d.fwd);
	if (!d.sources)
		fatal("glued: sources");
	sources_set_fastpath(d.sources, d.fastpath);
	{
		char gerr[GOSSIP_EDGE_ERR_LEN] = "";

		d.gossip = gossip_edge_new(d.loop, &d.cfg, d.table, gerr, sizeof(gerr));
		if (!d.gossip)
			fatalx("%s", gerr);
	}
	observe_table(&d);

	if (fastpath_start(d.fastpath))
		fatalx("fastpath: GLUED_XDP=on: %s", fastpath_why(d.fastpath));
	drop_caps(&d); /* the first thread starts in sources_start() */
	ret = sources_start(d.sources);
	if (ret)
		fatalx("glued: start sources: %s", glued_strerror(ret));
	{
		char gerr[GOSSIP_EDGE_ERR_LEN] = "";

		if (gossip_edge_start(d.gossip, gerr, sizeof(gerr)))
			fatalx("%s", gerr);
	}

	d.parts = (struct ctl_parts){
	    .cfg = &d.cfg,
	    .table = d.table,
	    .dns = d.dns,
	    .fwd = d.fwd,
	    .sources = d.sources,
	    .start_ms = clock_now_ms(),
	    .start_unix_s = (int64_t)time(NULL),
	};
	d.ctl_fp = ctl_fastpath_adapter_new(d.fastpath);
	d.parts.fastpath = d.ctl_fp;
	d.ctl_gossip = ctl_gossip_adapter_new(d.gossip);
	d.parts.gossip = d.ctl_gossip;
	ret = ctl_new(d.loop, &d.parts, &d.ctl);
	if (ret)
		fatalx("ctl: %s: %s", d.cfg.ctl_socket, glued_strerror(ret));
	log_info("ctl: listening on %s", d.cfg.ctl_socket);
	if (d.cfg.metrics_enabled) {
		ret = metrics_new(d.loop, &d.parts, &d.metrics);
		if (ret)
			fatalx("metrics: listen on %s: %s",
			       endpoint_str(&d.cfg.metrics_bind, ep, sizeof(ep)),
			       glued_strerror(ret));
		log_info("metrics: listening on http://%s/metrics",
			 endpoint_str(&d.cfg.metrics_bind, ep, sizeof(ep)));
	}

	install_seccomp(&d);
	ret = loop_run(d.loop);
	if (ret)
		log_errorx("glued: event loop: %s", glued_strerror(ret));

	metrics_free(d.metrics);
	ctl_free(d.ctl);
	ctl_fastpath_adapter_free(d.ctl_fp);
	ctl_gossip_adapter_free(d.ctl_gossip);
	sources_free(d.sources);
	gossip_edge_free(d.gossip); /* after everything that may still write the table */
	fastpath_free(d.fastpath);  /* hooks stay attached: see docs/fastpath-loader.md */
	forwarder_free(d.fwd);
	dns_server_free(d.dns);
	table_free(d.table);
	loop_free(d.loop);
	if (d.sig_fd >= 0)
		close(d.sig_fd);
	log_info("glued: stopped");
	return ret ? 1 : 0;
}
