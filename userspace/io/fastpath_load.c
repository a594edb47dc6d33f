/* The fast path's program and maps (see fastpath_int.h): a bpffs under
 * GLUED_BPF_PIN, the skeleton's open and load with its maps pinned (and
 * adopted across restarts), the config map's liveness deadline, the
 * counters, and the removal of everything glued left there. When the load
 * fails it says why in one sentence and keeps libbpf's whole text (the
 * verifier's log included) in GLUED_STATE_DIR/verifier.log. It never
 * attaches anything (fastpath_hooks.c does) and never writes a name.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/verifier_log.h"
#include "glued_dns.skel.h"
#include "io/bpf_names.h"
#include "io/ctr_attach.h"
#include "io/fastpath_int.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
#define LOAD_LOG_NAME "verifier.log"
#define LOAD_LOG_MAX (64u << 20) /* libbpf's verifier buffer is 16 MiB; room for the rest */

/* The maps glued pins, by pin name. glued_scratch is the program's own. */
enum { PIN_NAMES, PIN_ADDRS, PIN_CONFIG, PIN_STATS, PIN_ROT, PIN_ALLOW, PIN_CTR_STATS, PIN_MAPS };
static const char *const map_pins[PIN_MAPS] = {"names", "addrs", "config",   "stats",
					       "rot",	"allow", "ctr_stats"};

static struct bpf_map *skel_map(struct glued_dns *s, int i)
{
	struct bpf_map *m[PIN_MAPS] = {
	    s->maps.glued_names, s->maps.glued_addrs, s->maps.glued_config,   s->maps.glued_stats,
	    s->maps.glued_rot,	 s->maps.glued_allow, s->maps.glued_ctr_stats};
	return m[i];
}

static void pin_path(char *buf, size_t n, const char *dir, const char *name)
{
	snprintf(buf, n, "%s/%s", dir, name);
}

void fp_link_pin_path(char *buf, size_t n, const char *dir, enum fp_hook_kind kind,
		      const char *ifname)
{
	snprintf(buf, n, "%s/link_%s_%s", dir, kind == HOOK_TC ? "tc" : "xdp", ifname);
}

/* --- libbpf's text ------------------------------------------------------------------- */

/* libbpf's print callback has no context pointer, so what it says during a
 * load is collected here: every message at every level, whole (a verifier
 * log is one message of up to 16 MiB). Loads run on the loop thread, one
 * at a time; the capture is on only inside fp_load(). */
static struct {
	bool on, cut;
	char *buf;
	size_t len, cap;
	char first_warn[256]; /* libbpf's first warning, its first line */
} capture;

static void capture_add(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n <= 0)
		return;
	if (capture.len + (size_t)n + 1 > capture.cap) {
		size_t ncap = capture.cap ? capture.cap : 64 * 1024;
		char *p;

		while (ncap < capture.len + (size_t)n + 1)
			ncap *= 2;
		if (ncap > LOAD_LOG_MAX || !(p = realloc(capture.buf, ncap))) {
			capture.cut = true;
			return;
		}
		capture.buf = p;
		capture.cap = ncap;
	}
	vsnprintf(capture.buf + capture.len, (size_t)n + 1, fmt, ap);
	if (level == LIBBPF_WARN && !capture.first_warn[0]) {
		const char *s = capture.buf + capture.len;
		size_t k = strcspn(s, "\n");

		if (strncmp(s, "libbpf: ", 8) == 0 && k >= 8)
			s += 8, k -= 8;
		snprintf(capture.first_warn, sizeof(capture.first_warn), "%.*s", (int)k, s);
	}
	capture.len += (size_t)n;
}

static void capture_reset(bool on)
{
	free(capture.buf);
	memset(&capture, 0, sizeof(capture));
	capture.on = on;
}

/* libbpf talks to stderr by default; its lines go to the debug log instead
 * (the first 512 bytes of each: the whole text of a failed load is in
 * verifier.log), and into the capture during a load. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];
	va_list aq;
	int n;

	if (capture.on) {
		va_copy(aq, ap);
		capture_add(level, fmt, aq);
		va_end(aq);
	}
	/* libbpf's debug level (relocations, map reuse) is trace for us */
	if (!log_enabled(level == LIBBPF_DEBUG ? LOG_LVL_TRACE : LOG_LVL_DEBUG))
		return 0;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n > 0 && (size_t)n < sizeof(line) && line[n - 1] == '\n')
		line[n - 1] = 0;
	if (level == LIBBPF_DEBUG)
		log_trace("%s", line);
	else
		log_debug("%s%s", line, n >= (int)sizeof(line) ? " [...]" : "");
	return 0;
}

/* Write what libbpf said to <state dir>/verifier.log; "" or why not. */
static void load_log_write(const struct fastpath *fp, char *path, size_t pn, char *err, size_t en)
{
	size_t off = 0;
	int fd;

	snprintf(path, pn, "%s/" LOAD_LOG_NAME, fp->cfg->state_dir);
	err[0] = 0;
	if (mkdir(fp->cfg->state_dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, en, "%s", glued_strerror(-errno));
		return;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, en, "%s", glued_strerror(-errno));
		return;
	}
	while (off < capture.len) {
		ssize_t w = write(fd, capture.buf + off, capture.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(err, en, "%s", w < 0 ? glued_strerror(-errno) : "short write");
			break;
		}
		off += (size_t)w;
	}
	if (!err[0] && capture.cut)
		dprintf(fd, "\n[glued: libbpf said more than %u bytes; the rest is not here]\n",
			LOAD_LOG_MAX);
	close(fd);
}

/* fp->why for a failed glued_dns__load(): the verifier's reason when its
 * log says one, else missing rights, else libbpf's first warning. */
static void load_why(struct fastpath *fp, int err)
{
	struct verifier_reason r;
	char path[CONFIG_PATH_MAX + 32], werr[128], sentence[FP_WHY_LEN],
	    where[CONFIG_PATH_MAX + 200];

	load_log_write(fp, path, sizeof(path), werr, sizeof(werr));
	if (werr[0])
		snprintf(where, sizeof(where), "full log not written: %s: %s", path, werr);
	else
		snprintf(where, sizeof(where), "full log: %s", path);
	if (capture.len && verifier_log_reason(capture.buf, capture.len, &r) == 0) {
		verifier_reason_str(&r, sentence, sizeof(sentence));
		fp_why_set(fp, "%s (%s)", sentence, where);
	} else if (err == -EPERM || err == -EACCES) {
		fp_why_set(fp,
			   "no rights to load BPF programs (%s; needs root or CAP_BPF + "
			   "CAP_NET_ADMIN) (%s)",
			   glued_strerror(err), where);
	} else {
		fp_why_set(fp, "load the BPF program: %s%s%s (%s)", glued_strerror(err),
			   capture.first_warn[0] ? ": libbpf: " : "", capture.first_warn, where);
	}
}

/* --- bpffs --------------------------------------------------------------------------- */

static bool is_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

/* The pin directory must live on a bpffs. `ip netns exec` remounts /sys
 * without one; like bpftool, mount one on the pin directory's parent. */
static int ensure_bpffs(struct fastpath *fp)
{
	const char *pin = fp->cfg->bpf_pin;
	char parent[CONFIG_PATH_MAX + 1];
	char *slash;

	if (is_bpffs(pin))
		return 0;
	snprintf(parent, sizeof(parent), "%s", pin);
	slash = strrchr(parent, '/');
	if (!slash || slash == parent) {
		fp_why_set(fp, "%s is not on a bpffs and has no parent to mount one on", pin);
		return -EINVAL;
	}
	*slash = 0;
	if (!is_bpffs(parent)) {
		struct stat st;

		if (stat(parent, &st) < 0 || !S_ISDIR(st.st_mode)) {
			fp_why_set(fp, "no bpffs for %s: %s is not a directory", pin, parent);
			return -ENOTDIR;
		}
		if (mount("bpf", parent, "bpf", 0, "mode=0700") < 0) {
			int err = -errno;
			fp_why_set(fp, "no bpffs mounted at %s and mounting one failed: %s", parent,
				   glued_strerror(err));
			return err;
		}
		log_info("fastpath: mounted a bpffs on %s (none was mounted there)", parent);
	}
	if (mkdir(pin, 0700) < 0 && errno != EEXIST) {
		int err = -errno;
		fp_why_set(fp, "create %s: %s", pin, glued_strerror(err));
		return err;
	}
	return 0;
}

/* --- loading --------------------------------------------------------------------------- */

/* The embedded object and this binary were built from the same abi.h. */
static int check_object_abi(struct fastpath *fp)
{
	struct glued_dns *s = fp->skel;
	struct {
		const char *what;
		size_t have, want;
	} c[] = {
	    {"glued_names key", bpf_map__key_size(s->maps.glued_names),
	     sizeof(struct glued_name_key)},
	    {"glued_names value", bpf_map__value_size(s->maps.glued_names),
	     sizeof(struct glued_name_val)},
	    {"glued_addrs key", bpf_map__key_size(s->maps.glued_addrs),
	     sizeof(struct glued_local_key)},
	    {"glued_config value", bpf_map__value_size(s->maps.glued_config),
	     sizeof(struct glued_bpf_config)},
	    {"glued_stats value", bpf_map__value_size(s->maps.glued_stats),
	     sizeof(struct glued_stats)},
	    {"glued_ctr_stats value", bpf_map__value_size(s->maps.glued_ctr_stats),
	     sizeof(struct glued_stats)},
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		if (c[i].have != c[i].want) {
			fp_why_set(
			    fp, "BPF object does not match ABI %d: %s is %zu bytes, %zu expected",
			    GLUED_ABI_VERSION, c[i].what, c[i].have, c[i].want);
			return GLUED_EMALF;
		}
	}
	return 0;
}

/* True if the pinned map at path can serve as m: same name, type, sizes,
 * capacity and flags (what libbpf's reuse check compares). */
static bool pinned_map_fits(const char *path, const struct bpf_map *m)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	bool ok;
	int fd = bpf_obj_get(path);

	if (fd < 0)
		return false;
	memset(&info, 0, sizeof(info));
	ok = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
	     strncmp(info.name, bpf_map__name(m), sizeof(info.name) - 1) == 0 &&
	     info.type == bpf_map__type(m) && info.key_size == bpf_map__key_size(m) &&
	     info.value_size == bpf_map__value_size(m) &&
	     info.max_entries == bpf_map__max_entries(m) && info.map_flags == bpf_map__map_flags(m);
	close(fd);
	return ok;
}

/* The ABI version a previous glued wrote into the pinned config, 0 if none. */
static unsigned pinned_abi_version(const char *dir)
{
	struct glued_bpf_config c;
	char path[CONFIG_PATH_MAX + 32];
	__u32 zero = 0;
	int fd;

	pin_path(path, sizeof(path), dir, map_pins[PIN_CONFIG]);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	memset(&c, 0, sizeof(c));
	if (bpf_map_lookup_elem(fd, &zero, &c) < 0)
		c.abi_version = 0;
	close(fd);
	return c.abi_version;
}

/* Point every map at its pin. Pinned maps that fit are adopted by the load
 * (a restart keeps the names and counters); any that does not fit, or a
 * set written under another ABI version, is unpinned first so the load
 * creates fresh ones. */
static void prepare_pins(struct fastpath *fp)
{
	const char *dir = fp->cfg->bpf_pin;
	char path[CONFIG_PATH_MAX + 32];
	unsigned abi = pinned_abi_version(dir);
	bool fresh = abi != 0 && abi != GLUED_ABI_VERSION;
	size_t reused = 0;

	if (fresh)
		log_info(
		    "fastpath: pinned maps were written under ABI %u (this is %d): replacing them",
		    abi, GLUED_ABI_VERSION);
	for (int i = 0; i < PIN_MAPS; i++) {
		struct bpf_map *m = skel_map(fp->skel, i);

		pin_path(path, sizeof(path), dir, map_pins[i]);
		if (access(path, F_OK) == 0) {
			if (!fresh && pinned_map_fits(path, m)) {
				reused++;
			} else {
				if (!fresh)
					log_info("fastpath: pinned map %s has another definition: "
						 "replacing it",
						 path);
				unlink(path);
			}
		}
		/* cannot fail: the only error is ENOMEM for the copy */
		(void)bpf_map__set_pin_path(m, path);
	}
	fp->maps_reused = reused == PIN_MAPS;
}

int fp_load(struct fastpath *fp)
{
	int err;

	libbpf_set_print(libbpf_log);
	err = ensure_bpffs(fp);
	if (err)
		return err;
	fp->skel = glued_dns__open();
	if (!fp->skel) {
		err = -errno;
		fp_why_set(fp, "open the embedded BPF object: %s", glued_strerror(err));
		return err;
	}
	err = check_object_abi(fp);
	if (err)
		goto err_destroy;
	prepare_pins(fp);
	/* Not wanted, not verified: with GLUED_CONTAINER_FASTPATH=off the
	 * in-container program is not loaded (one verification less at start,
	 * ~100k instructions; its stats map is still created, and pinned). */
	if (!fp->cfg->container_fastpath)
		bpf_program__set_autoload(fp->skel->progs.glued_ctr_dns, false);
	capture_reset(true);
	err = glued_dns__load(fp->skel);
	capture.on = false;
	if (err) {
		err = err < 0 ? err : -errno;
		load_why(fp, err);
		goto err_destroy;
	}
	capture_reset(false);
	fp->names_fd = bpf_map__fd(fp->skel->maps.glued_names);
	fp->addrs_fd = bpf_map__fd(fp->skel->maps.glued_addrs);
	fp->config_fd = bpf_map__fd(fp->skel->maps.glued_config);
	fp->stats_fd = bpf_map__fd(fp->skel->maps.glued_stats);
	fp->allow_fd = bpf_map__fd(fp->skel->maps.glued_allow);
	fp->ctr_stats_fd = bpf_map__fd(fp->skel->maps.glued_ctr_stats);
	return 0;

err_destroy:
	capture_reset(false);
	glued_dns__destroy(fp->skel);
	fp->skel = NULL;
	return err;
}

void fp_unload(struct fastpath *fp)
{
	glued_dns__destroy(fp->skel); /* maps pinned: they stay */
	fp->skel = NULL;
	fp->names_fd = fp->addrs_fd = fp->config_fd = fp->stats_fd = fp->allow_fd = -1;
	fp->ctr_stats_fd = -1;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* glued_config[0]: ABI version, TTL, port, enabled, the rate limit
 * (GLUED_RRL_*), and the liveness deadline: now + FP_GRACE_S on
 * CLOCK_MONOTONIC, the clock the program reads. Written at start and every
 * tick; when glued stops writing it, the program passes everything
 * FP_GRACE_S later. */
int fp_config_write(struct fastpath *fp)
{
	const struct glued_config *cfg = fp->cfg;
	struct glued_bpf_config c;
	__u32 zero = 0;

	bpf_config_init(&c, cfg->ttl_s, cfg->dns_bind.port);
	bpf_config_set_rrl(&c, cfg->rrl_rate, cfg->rrl_prefix4, cfg->rrl_prefix6);
	c.alive_until_ns = mono_ns() + FP_GRACE_S * 1000000000ull;
	if (bpf_map_update_elem(fp->config_fd, &zero, &c, BPF_ANY) < 0)
		return -errno;
	return 0;
}

int fp_prog_fd(const struct fastpath *fp, enum fp_hook_kind kind)
{
	return bpf_program__fd(kind == HOOK_TC ? fp->skel->progs.glued_tc_dns
					       : fp->skel->progs.glued_xdp_dns);
}

int fp_ctr_prog_fd(const struct fastpath *fp)
{
	return bpf_program__fd(fp->skel->progs.glued_ctr_dns);
}

/* --- counters ------------------------------------------------------------------------ */

int fp_stats_sum(int fd, struct glued_stats *out)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t slot = (sizeof(struct glued_stats) + 7) & ~(size_t)7;
	__u32 zero = 0;
	__u64 *sum = (__u64 *)out;
	uint8_t *buf;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	buf = calloc((size_t)ncpu, slot);
	if (!buf)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &zero, buf) < 0) {
		int err = -errno;
		free(buf);
		return err;
	}
	memset(out, 0, sizeof(*out));
	for (int c = 0; c < ncpu; c++) {
		const __u64 *v = (const __u64 *)(buf + (size_t)c * slot);
		for (unsigned i = 0; i < GLUED_STAT_MAX; i++)
			sum[i] += v[i];
	}
	free(buf);
	return 0;
}

int fastpath_pinned_stats(const char *pin_dir, struct glued_stats *out)
{
	char path[CONFIG_PATH_MAX + 32];
	int fd, err;

	pin_path(path, sizeof(path), pin_dir, map_pins[PIN_STATS]);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	err = fp_stats_sum(fd, out);
	close(fd);
	return err;
}

/* --- removal ------------------------------------------------------------------------ */

int fastpath_remove_pins(const char *pin_dir)
{
	char path[CONFIG_PATH_MAX + 300];
	struct dirent *de;
	int n = 0;
	DIR *d;

	libbpf_set_print(libbpf_log);
	n += fp_remove_classic_filters();
	d = opendir(pin_dir);
	if (!d)
		return errno == ENOENT ? n : -errno;
	/* Links first: with their pins gone the hooks detach at once; the
	 * maps go with the last program using them. */
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "link_", 5) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_dir, de->d_name);
		if (unlink(path) == 0) {
			log_info("fastpath: removed %s (hook detached)", path);
			n++;
		}
	}
	closedir(d);
	n += ctr_attach_remove_pins(pin_dir);
	for (int i = 0; i < PIN_MAPS; i++) {
		pin_path(path, sizeof(path), pin_dir, map_pins[i]);
		if (unlink(path) == 0) {
			log_info("fastpath: removed %s", path);
			n++;
		}
	}
	if (rmdir(pin_dir) < 0 && errno != ENOENT)
		log_warnx("fastpath: keeping %s: %s", pin_dir, glued_strerror(-errno));
	return n;
}
