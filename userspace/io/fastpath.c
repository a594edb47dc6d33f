/* The kernel fast path, daemon side (see fastpath.h and
 * docs/fastpath-loader.md): the skeleton's lifecycle, the pins under
 * GLUED_BPF_PIN, the name-table mirror, the local-address set and the hooks.
 * It owns every BPF fd glued holds. It never decides what a query gets (the
 * program and core/dns_answer do, byte for byte alike) and never detaches a
 * hook on exit: a restart must not drop answers.
 */
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
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
#include <linux/if_link.h>

#include "glued_dns.skel.h"
#include "io/bpf_names.h"
#include "io/fastpath.h"
#include "lib/clock.h"
#include "lib/log.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
/* Debian 12's uapi headers (6.1) predate tcx (6.6); these values are ABI. */
#define FP_TCX_INGRESS 46
#define FP_LINK_TYPE_TCX 11

#define TICK_MS 1000	       /* liveness refresh */
#define RESCAN_TICKS 3	       /* addresses and interfaces re-read every 3 ticks */
#define SYNC_FALLBACK_MS 10000 /* reconcile names even if Docker never syncs */
#define GRACE_S 10	       /* the program answers this long after the last refresh */
#define HOOKS_MAX (CONFIG_IFACES_MAX + 8)
#define LOCAL_MAX 256 /* glued_addrs max_entries */
#define TC_HANDLE 1   /* classic clsact fallback: our filter's handle and priority */
#define TC_PRIO 1
#define WHY_LEN 256

enum hook_kind { HOOK_TC, HOOK_XDP };

struct hook {
	bool used;
	bool adopted; /* taken over from a previous glued, not yet claimed */
	enum hook_kind kind;
	char ifname[IF_NAMESIZE];
	unsigned ifindex;
	int link_fd;	  /* -1: a classic clsact filter (no link to pin) */
	const char *mode; /* "tcx", "clsact", "native", "generic", "link" */
};

struct fastpath {
	struct loop *loop;
	const struct glued_config *cfg;
	struct table *table;

	struct glued_dns *skel;
	bool active;
	bool maps_reused;
	bool observing;
	int names_fd, addrs_fd, config_fd, stats_fd;
	char why[WHY_LEN]; /* why it is inactive */

	struct hook hooks[HOOKS_MAX];
	bool missing_logged[HOOKS_MAX]; /* per wanted slot: "not there" said once */
	bool network_known;
	char bridge[IF_NAMESIZE];
	size_t n_gw;
	struct glued_addr gw[DOCKER_NET_SUBNETS_MAX];
	size_t n_local;

	struct loop_timer timer;
	unsigned ticks;
	bool synced;
	uint64_t started_ms;
	struct log_ratelimit rl;
	uint64_t map_errors;
};

/* The maps glued pins, by pin name. glued_scratch is the program's own. */
enum { PIN_NAMES, PIN_ADDRS, PIN_CONFIG, PIN_STATS, PIN_ROT, PIN_MAPS };
static const char *const map_pins[PIN_MAPS] = { "names", "addrs", "config", "stats", "rot" };

static struct bpf_map *skel_map(struct glued_dns *s, int i)
{
	struct bpf_map *m[PIN_MAPS] = { s->maps.glued_names, s->maps.glued_addrs,
					s->maps.glued_config, s->maps.glued_stats,
					s->maps.glued_rot };
	return m[i];
}

static void why_set(struct fastpath *fp, const char *fmt, ...) GLUED_PRINTF(2, 3);
static void why_set(struct fastpath *fp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fp->why, sizeof(fp->why), fmt, ap);
	va_end(ap);
}

/* libbpf talks to stderr by default; its lines (verifier logs included) go
 * to the debug log instead: the reason a load failed is in fp->why. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];
	int n;

	/* libbpf's debug level (relocations, map reuse) is trace for us */
	if (!log_enabled(level == LIBBPF_DEBUG ? LOG_LVL_TRACE : LOG_LVL_DEBUG))
		return 0;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n > 0 && (size_t)n < sizeof(line) && line[n - 1] == '\n')
		line[n - 1] = 0;
	if (level == LIBBPF_DEBUG)
		log_trace("%s", line);
	else
		log_debug("%s", line);
	return 0;
}

static void pin_path(char *buf, size_t n, const char *dir, const char *name)
{
	snprintf(buf, n, "%s/%s", dir, name);
}

static const char *hook_desc(const struct hook *h)
{
	if (h->kind == HOOK_XDP)
		return strcmp(h->mode, "generic") == 0 ? "xdp (generic)" : "xdp";
	return strcmp(h->mode, "clsact") == 0 ? "tc ingress (clsact)" : "tc ingress";
}

static void hook_pin_path(char *buf, size_t n, const char *dir, enum hook_kind kind,
			  const char *ifname)
{
	snprintf(buf, n, "%s/link_%s_%s", dir, kind == HOOK_TC ? "tc" : "xdp", ifname);
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
		why_set(fp, "%s is not on a bpffs and has no parent to mount one on", pin);
		return -EINVAL;
	}
	*slash = 0;
	if (!is_bpffs(parent)) {
		struct stat st;

		if (stat(parent, &st) < 0 || !S_ISDIR(st.st_mode)) {
			why_set(fp, "no bpffs for %s: %s is not a directory", pin, parent);
			return -ENOTDIR;
		}
		if (mount("bpf", parent, "bpf", 0, "mode=0700") < 0) {
			int err = -errno;
			why_set(fp, "no bpffs mounted at %s and mounting one failed: %s", parent,
				glued_strerror(err));
			return err;
		}
		log_info("fastpath: mounted a bpffs on %s (none was mounted there)", parent);
	}
	if (mkdir(pin, 0700) < 0 && errno != EEXIST) {
		int err = -errno;
		why_set(fp, "create %s: %s", pin, glued_strerror(err));
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
		{ "glued_names key", bpf_map__key_size(s->maps.glued_names), sizeof(struct glued_name_key) },
		{ "glued_names value", bpf_map__value_size(s->maps.glued_names), sizeof(struct glued_name_val) },
		{ "glued_addrs key", bpf_map__key_size(s->maps.glued_addrs), sizeof(struct glued_local_key) },
		{ "glued_config value", bpf_map__value_size(s->maps.glued_config), sizeof(struct glued_bpf_config) },
		{ "glued_stats value", bpf_map__value_size(s->maps.glued_stats), sizeof(struct glued_stats) },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		if (c[i].have != c[i].want) {
			why_set(fp, "BPF object does not match ABI %d: %s is %zu bytes, %zu expected",
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
		log_info("fastpath: pinned maps were written under ABI %u (this is %d): replacing them",
			 abi, GLUED_ABI_VERSION);
	for (int i = 0; i < PIN_MAPS; i++) {
		struct bpf_map *m = skel_map(fp->skel, i);

		pin_path(path, sizeof(path), dir, map_pins[i]);
		if (access(path, F_OK) == 0) {
			if (!fresh && pinned_map_fits(path, m)) {
				reused++;
			} else {
				if (!fresh)
					log_info("fastpath: pinned map %s has another definition: replacing it",
						 path);
				unlink(path);
			}
		}
		/* cannot fail: the only error is ENOMEM for the copy */
		(void)bpf_map__set_pin_path(m, path);
	}
	fp->maps_reused = reused == PIN_MAPS;
}

static int load(struct fastpath *fp)
{
	int err;

	libbpf_set_print(libbpf_log);
	err = ensure_bpffs(fp);
	if (err)
		return err;
	fp->skel = glued_dns__open();
	if (!fp->skel) {
		err = -errno;
		why_set(fp, "open the embedded BPF object: %s", glued_strerror(err));
		return err;
	}
	err = check_object_abi(fp);
	if (err)
		goto err_destroy;
	prepare_pins(fp);
	err = glued_dns__load(fp->skel);
	if (err) {
		err = err < 0 ? err : -errno;
		if (err == -EPERM || err == -EACCES)
			why_set(fp, "no rights to load BPF programs (%s; needs root or CAP_BPF + "
				    "CAP_NET_ADMIN)", glued_strerror(err));
		else
			why_set(fp, "load the BPF program: %s (GLUED_LOG=debug shows libbpf's log)",
				glued_strerror(err));
		goto err_destroy;
	}
	fp->names_fd = bpf_map__fd(fp->skel->maps.glued_names);
	fp->addrs_fd = bpf_map__fd(fp->skel->maps.glued_addrs);
	fp->config_fd = bpf_map__fd(fp->skel->maps.glued_config);
	fp->stats_fd = bpf_map__fd(fp->skel->maps.glued_stats);
	return 0;

err_destroy:
	glued_dns__destroy(fp->skel);
	fp->skel = NULL;
	return err;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* glued_config[0]: ABI version, TTL, port, enabled, and the liveness
 * deadline: now + GRACE_S on CLOCK_MONOTONIC, the clock the program reads.
 * Written at start and every tick; when glued stops writing it, the
 * program passes everything GRACE_S later. */
static int config_write(struct fastpath *fp)
{
	struct glued_bpf_config c;
	__u32 zero = 0;

	bpf_config_init(&c, fp->cfg->ttl_s, fp->cfg->dns_bind.port);
	c.alive_until_ns = mono_ns() + GRACE_S * 1000000000ull;
	if (bpf_map_update_elem(fp->config_fd, &zero, &c, BPF_ANY) < 0)
		return -errno;
	return 0;
}

/* --- hooks ----------------------------------------------------------------------------- */

static int prog_fd(const struct fastpath *fp, enum hook_kind kind)
{
	return bpf_program__fd(kind == HOOK_TC ? fp->skel->progs.glued_tc_dns :
						 fp->skel->progs.glued_xdp_dns);
}

/* The ifindex a tcx or XDP link is attached to; 0 once its device is gone
 * (the link is then defunct). Both kinds keep ifindex first in the info
 * union. *type gets the link type. */
static unsigned link_ifindex(int fd, __u32 *type)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return 0;
	if (type)
		*type = info.type;
	return info.xdp.ifindex;
}

static struct hook *hook_slot(struct fastpath *fp)
{
	for (size_t i = 0; i < HOOKS_MAX; i++)
		if (!fp->hooks[i].used)
			return &fp->hooks[i];
	return NULL;
}

static struct hook *hook_find(struct fastpath *fp, enum hook_kind kind, const char *ifname)
{
	for (size_t i = 0; i < HOOKS_MAX; i++) {
		struct hook *h = &fp->hooks[i];
		if (h->used && h->kind == kind && strcmp(h->ifname, ifname) == 0)
			return h;
	}
	return NULL;
}

static int tc_classic_attach(int pfd, unsigned ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = TC_HANDLE, .priority = TC_PRIO, .prog_fd = pfd,
		    .flags = BPF_TC_F_REPLACE);
	int err = bpf_tc_hook_create(&hook);

	if (err && err != -EEXIST)
		return err;
	return bpf_tc_attach(&hook, &o);
}

static int tc_classic_detach(unsigned ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = TC_HANDLE, .priority = TC_PRIO);

	return bpf_tc_detach(&hook, &o);
}

/* Attach a fresh link (tcx, else classic clsact; native XDP, else generic)
 * and pin it. */
static int hook_attach(struct fastpath *fp, enum hook_kind kind, const char *ifname,
		       unsigned ifindex)
{
	char path[CONFIG_PATH_MAX + 32];
	struct hook *h = hook_slot(fp);
	int pfd = prog_fd(fp, kind), fd, err;
	const char *mode;

	if (!h)
		return -ENOSPC;
	if (kind == HOOK_TC) {
		mode = "tcx";
		fd = bpf_link_create(pfd, (int)ifindex, FP_TCX_INGRESS, NULL);
		if (fd < 0) {
			int tcx_err = -errno;

			err = tc_classic_attach(pfd, ifindex);
			if (err) {
				log_warnx("fastpath: attach tc ingress on %s: tcx: %s, clsact: %s", ifname,
					  glued_strerror(tcx_err), glued_strerror(err));
				return err;
			}
			mode = "clsact";
		}
	} else {
		LIBBPF_OPTS(bpf_link_create_opts, o, .flags = XDP_FLAGS_DRV_MODE);

		mode = "native";
		fd = bpf_link_create(pfd, (int)ifindex, BPF_XDP, &o);
		if (fd < 0 && (errno == EOPNOTSUPP || errno == EINVAL)) {
			o.flags = XDP_FLAGS_SKB_MODE;
			mode = "generic";
			fd = bpf_link_create(pfd, (int)ifindex, BPF_XDP, &o);
		}
		if (fd < 0) {
			err = -errno;
			log_warnx("fastpath: attach xdp on %s: %s", ifname, glued_strerror(err));
			return err;
		}
	}
	if (fd >= 0) {
		hook_pin_path(path, sizeof(path), fp->cfg->bpf_pin, kind, ifname);
		unlink(path); /* a stale pin of a link whose device is gone */
		if (bpf_obj_pin(fd, path) < 0)
			log_warnx("fastpath: pin %s: %s (a restart will re-attach)", path,
				  glued_strerror(-errno));
	}
	*h = (struct hook){ .used = true, .kind = kind, .ifindex = ifindex, .link_fd = fd,
			    .mode = mode };
	snprintf(h->ifname, sizeof(h->ifname), "%s", ifname);
	/* "(ifindex 7)" for tcx, "(ifindex 7, clsact|native|generic)" otherwise */
	log_info("fastpath: attached %s on %s (ifindex %u%s%s)", kind == HOOK_XDP ? "xdp" : "tc ingress",
		 ifname, ifindex, strcmp(mode, "tcx") ? ", " : "", strcmp(mode, "tcx") ? mode : "");
	return 0;
}

/* Detach: drop the pin and our fd (the link goes with its last reference),
 * or delete the classic filter. */
static void hook_remove(struct fastpath *fp, struct hook *h, const char *why)
{
	char path[CONFIG_PATH_MAX + 32];

	if (h->link_fd >= 0) {
		hook_pin_path(path, sizeof(path), fp->cfg->bpf_pin, h->kind, h->ifname);
		unlink(path);
		close(h->link_fd);
	} else if (if_nametoindex(h->ifname) == h->ifindex) {
		(void)tc_classic_detach(h->ifindex);
	}
	log_info("fastpath: detached %s from %s (%s)", hook_desc(h), h->ifname, why);
	memset(h, 0, sizeof(*h));
	h->link_fd = -1;
}

/* Take over the links a previous glued pinned: each gets this program by
 * bpf_link_update, atomically (no packet sees no program). Links whose
 * device is gone or renamed are unpinned. */
static void adopt_links(struct fastpath *fp)
{
	const char *dir = fp->cfg->bpf_pin;
	char path[CONFIG_PATH_MAX + 300], name[IF_NAMESIZE];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		enum hook_kind kind;
		const char *ifname;
		struct hook *h;
		unsigned idx;
		__u32 type = 0;
		int fd;

		if (strncmp(de->d_name, "link_tc_", 8) == 0) {
			kind = HOOK_TC;
			ifname = de->d_name + 8;
		} else if (strncmp(de->d_name, "link_xdp_", 9) == 0) {
			kind = HOOK_XDP;
			ifname = de->d_name + 9;
		} else {
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		fd = bpf_obj_get(path);
		if (fd < 0) {
			log_warnx("fastpath: %s: %s; removing it", path, glued_strerror(-errno));
			unlink(path);
			continue;
		}
		idx = link_ifindex(fd, &type);
		if (idx == 0 || !if_indextoname(idx, name) || strcmp(name, ifname) != 0 ||
		    type != (kind == HOOK_TC ? FP_LINK_TYPE_TCX : BPF_LINK_TYPE_XDP)) {
			log_info("fastpath: dropping pinned link %s (its interface is gone)", path);
			close(fd);
			unlink(path);
			continue;
		}
		h = hook_slot(fp);
		if (!h || bpf_link_update(fd, prog_fd(fp, kind), NULL) < 0) {
			log_warnx("fastpath: update pinned link %s: %s; re-attaching", path,
				  h ? glued_strerror(-errno) : "too many hooks");
			close(fd);
			unlink(path);
			continue;
		}
		*h = (struct hook){ .used = true, .adopted = true, .kind = kind, .ifindex = idx,
				    .link_fd = fd, .mode = kind == HOOK_TC ? "tcx" : "link" };
		snprintf(h->ifname, sizeof(h->ifname), "%s", ifname);
		log_info("fastpath: link updated: %s on %s (ifindex %u)", hook_desc(h), ifname, idx);
	}
	closedir(d);
}

/* --- local addresses ------------------------------------------------------------------- */

static bool serves_family(const struct fastpath *fp, int family)
{
	/* A wildcard v4 bind is v4 only; a wildcard v6 bind serves both
	 * (io/dns_server opens a socket per family). */
	return family == AF_INET || fp->cfg->dns_bind.addr.family == AF_INET6;
}

static bool listens_loopback(const struct fastpath *fp)
{
	const struct glued_addr *a = &fp->cfg->dns_bind.addr;

	return addr_is_any(a) || addr_is_loopback(a);
}

static void local_add(struct glued_local_key *keys, size_t *n, const struct glued_addr *a)
{
	struct glued_local_key k;

	if (*n >= LOCAL_MAX || bpf_local_key(a, &k))
		return;
	for (size_t i = 0; i < *n; i++)
		if (memcmp(&keys[i], &k, sizeof(k)) == 0)
			return;
	keys[(*n)++] = k;
}

static void addr_from_sockaddr(struct glued_addr *a, const struct sockaddr *sa)
{
	memset(a, 0, sizeof(*a));
	a->family = (uint8_t)sa->sa_family;
	if (sa->sa_family == AF_INET)
		memcpy(a->b, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	else
		memcpy(a->b, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
}

/* The addresses glued serves where it is hooked: the specific bind
 * address, or for a wildcard bind the addresses of the hooked interfaces
 * (never "any": a query crossing a hooked interface towards another server
 * must pass untouched). */
static size_t local_wanted(struct fastpath *fp, struct glued_local_key *keys)
{
	struct ifaddrs *ifa, *p;
	struct glued_addr a;
	size_t n = 0;

	if (!addr_is_any(&fp->cfg->dns_bind.addr)) {
		local_add(keys, &n, &fp->cfg->dns_bind.addr);
		return n;
	}
	if (getifaddrs(&ifa) == 0) {
		for (p = ifa; p; p = p->ifa_next) {
			bool hooked = false;

			if (!p->ifa_addr ||
			    (p->ifa_addr->sa_family != AF_INET && p->ifa_addr->sa_family != AF_INET6) ||
			    !serves_family(fp, p->ifa_addr->sa_family))
				continue;
			for (size_t i = 0; i < HOOKS_MAX && !hooked; i++)
				hooked = fp->hooks[i].used && strcmp(fp->hooks[i].ifname, p->ifa_name) == 0;
			if (!hooked)
				continue;
			addr_from_sockaddr(&a, p->ifa_addr);
			local_add(keys, &n, &a);
		}
		freeifaddrs(ifa);
	}
	if (fp->bridge[0] && hook_find(fp, HOOK_TC, fp->bridge))
		for (size_t i = 0; i < fp->n_gw; i++)
			if (serves_family(fp, fp->gw[i].family))
				local_add(keys, &n, &fp->gw[i]);
	return n;
}

static void local_key_str(const struct glued_local_key *k, char *buf, size_t n)
{
	struct glued_addr a = { .family = k->family == GLUED_FAMILY_V4 ? AF_INET : AF_INET6 };

	memcpy(a.b, k->addr, 16);
	addr_str(&a, buf, n);
}

/* Make glued_addrs equal the wanted set: add first, then remove, so an
 * address that stays is never missing. */
static void addrs_sync(struct fastpath *fp)
{
	struct glued_local_key want[LOCAL_MAX], have[LOCAL_MAX], k, *prev = NULL;
	struct glued_local_val v = { 0 };
	size_t n_want = local_wanted(fp, want), n_have = 0, added = 0, removed = 0;
	char list[LOCAL_MAX * 8], a[ADDR_STRLEN];
	size_t off = 0;

	while (n_have < LOCAL_MAX && bpf_map_get_next_key(fp->addrs_fd, prev, &k) == 0) {
		have[n_have] = k;
		prev = &have[n_have++];
	}
	for (size_t i = 0; i < n_want; i++) {
		bool present = false;
		for (size_t j = 0; j < n_have && !present; j++)
			present = memcmp(&want[i], &have[j], sizeof(k)) == 0;
		if (present)
			continue;
		if (bpf_map_update_elem(fp->addrs_fd, &want[i], &v, BPF_ANY) < 0)
			log_warnx("fastpath: add local address: %s", glued_strerror(-errno));
		else
			added++;
	}
	for (size_t j = 0; j < n_have; j++) {
		bool keep = false;
		for (size_t i = 0; i < n_want && !keep; i++)
			keep = memcmp(&want[i], &have[j], sizeof(k)) == 0;
		if (!keep && bpf_map_delete_elem(fp->addrs_fd, &have[j]) == 0)
			removed++;
	}
	fp->n_local = n_want;
	if (!added && !removed)
		return;
	list[0] = 0;
	for (size_t i = 0; i < n_want && off < sizeof(list) - ADDR_STRLEN - 3; i++) {
		local_key_str(&want[i], a, sizeof(a));
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", i ? ", " : "", a);
	}
	log_info("fastpath: answering for %zu local addresses (%zu added, %zu removed): %s", n_want,
		 added, removed, n_want ? list : "none");
}

/* --- following the attach points -------------------------------------------------------- */

struct want {
	enum hook_kind kind;
	const char *ifname;
};

static size_t hooks_wanted(const struct fastpath *fp, struct want *w)
{
	size_t n = 0;

	if (listens_loopback(fp))
		w[n++] = (struct want){ HOOK_TC, "lo" };
	for (size_t i = 0; i < fp->cfg->n_xdp_ifaces; i++)
		w[n++] = (struct want){ HOOK_XDP, fp->cfg->xdp_ifaces[i] };
	/* The bridge carries container queries to any host address unless glued
	 * serves loopback only. */
	if (fp->bridge[0] && !addr_is_loopback(&fp->cfg->dns_bind.addr))
		w[n++] = (struct want){ HOOK_TC, fp->bridge };
	return n;
}

/* Bring the hooks in line with what is wanted and with the interfaces as
 * they are now (re-created devices get a fresh link). Returns the first
 * attach error (the caller decides whether it matters). */
static int hooks_sync(struct fastpath *fp)
{
	struct want w[HOOKS_MAX];
	size_t n = hooks_wanted(fp, w);
	int first_err = 0;

	for (size_t i = 0; i < HOOKS_MAX; i++) {
		struct hook *h = &fp->hooks[i];
		bool wanted = false;

		if (!h->used)
			continue;
		for (size_t j = 0; j < n && !wanted; j++)
			wanted = w[j].kind == h->kind && strcmp(w[j].ifname, h->ifname) == 0;
		/* An adopted tc link is presumably the bridge: keep it until
		 * Docker says which bridge is watched. */
		if (!wanted && !(h->adopted && h->kind == HOOK_TC && !fp->network_known)) {
			hook_remove(fp, h, "no longer an attach point");
			continue;
		}
		if (wanted)
			h->adopted = false;
		if (if_nametoindex(h->ifname) != h->ifindex ||
		    (h->link_fd >= 0 && link_ifindex(h->link_fd, NULL) != h->ifindex))
			hook_remove(fp, h, "interface gone or re-created");
	}
	for (size_t j = 0; j < n; j++) {
		unsigned idx;
		int err;

		if (hook_find(fp, w[j].kind, w[j].ifname))
			continue;
		idx = if_nametoindex(w[j].ifname);
		if (!idx) {
			if (!fp->missing_logged[j])
				log_warnx("fastpath: %s: no such interface yet; will attach when it appears",
					  w[j].ifname);
			fp->missing_logged[j] = true;
			if (!first_err)
				first_err = -ENODEV;
			continue;
		}
		fp->missing_logged[j] = false;
		err = hook_attach(fp, w[j].kind, w[j].ifname, idx);
		if (err && !first_err)
			first_err = err;
	}
	addrs_sync(fp);
	return first_err;
}

/* --- the name mirror ------------------------------------------------------------------- */

static void map_error(struct fastpath *fp, const char *what, const char *name, size_t len, int err)
{
	fp->map_errors++;
	if (log_ratelimit_ok(&fp->rl, clock_now_ms()))
		log_warnx("fastpath: %s %.*s: %s; left to userspace (%llu map errors)", what,
			  (int)len, name, glued_strerror(err), (unsigned long long)fp->map_errors);
}

/* One name: its whole value in one update, or its deletion. When an update
 * fails the key is deleted, so the kernel never answers from a stale
 * value: userspace answers instead. */
static void name_write(struct fastpath *fp, const char *name, size_t len)
{
	struct table_answer ans;
	struct glued_name_key k;
	struct glued_name_val v;

	if (!table_lookup(fp->table, name, len, &ans)) {
		if (bpf_names_key(name, len, &k) == 0 && bpf_map_delete_elem(fp->names_fd, &k) < 0 &&
		    errno != ENOENT)
			map_error(fp, "delete", name, len, -errno);
		return;
	}
	if (bpf_names_encode(name, len, &ans, &k, &v))
		return;
	if (bpf_map_update_elem(fp->names_fd, &k, &v, BPF_ANY) < 0) {
		map_error(fp, "write", name, len, -errno);
		(void)bpf_map_delete_elem(fp->names_fd, &k);
	}
}

static void on_table_change(void *ctx, const char *name, size_t len)
{
	struct fastpath *fp = ctx;

	if (fp->active)
		name_write(fp, name, len);
}

struct reconcile {
	struct fastpath *fp;
	struct glued_name_key *keys; /* the key of every table name */
	size_t n_keys, cap;
	size_t written, same;
};

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct glued_name_key));
}

static int reconcile_name(void *ctx, const char *name, size_t len, const struct table_answer *ans)
{
	struct reconcile *r = ctx;
	struct glued_name_key k;
	struct glued_name_val v, cur;

	if (bpf_names_encode(name, len, ans, &k, &v))
		return 0;
	if (r->n_keys == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 256;
		struct glued_name_key *p = realloc(r->keys, ncap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		r->keys = p;
		r->cap = ncap;
	}
	r->keys[r->n_keys++] = k;
	if (bpf_map_lookup_elem(r->fp->names_fd, &k, &cur) == 0 && memcmp(&cur, &v, sizeof(v)) == 0) {
		r->same++;
		return 0;
	}
	if (bpf_map_update_elem(r->fp->names_fd, &k, &v, BPF_ANY) < 0) {
		map_error(r->fp, "write", name, len, -errno);
		(void)bpf_map_delete_elem(r->fp->names_fd, &k);
	} else {
		r->written++;
	}
	return 0;
}

/* Write every table name whose value differs, then delete the map keys
 * that no table name encodes to (keys compared as bytes, so this does not
 * depend on what a key holds). Stale keys are collected before deleting:
 * deleting while walking with get_next_key restarts the walk. */
static void names_reconcile(struct fastpath *fp)
{
	struct reconcile r = { .fp = fp };
	struct glued_name_key *stale = NULL, k, cur, *prev = NULL;
	size_t n_stale = 0, cap = 0, removed = 0;

	if (table_foreach_name(fp->table, reconcile_name, &r)) {
		log_warnx("fastpath: reconcile: out of memory; stale names stay until the next one");
		free(r.keys);
		return;
	}
	qsort(r.keys, r.n_keys, sizeof(*r.keys), key_cmp);
	while (bpf_map_get_next_key(fp->names_fd, prev, &k) == 0) {
		cur = k;
		prev = &cur;
		if (r.n_keys && bsearch(&k, r.keys, r.n_keys, sizeof(k), key_cmp))
			continue;
		if (n_stale == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct glued_name_key *p = realloc(stale, ncap * sizeof(*p));
			if (!p)
				break;
			stale = p;
			cap = ncap;
		}
		stale[n_stale++] = k;
	}
	for (size_t i = 0; i < n_stale; i++)
		if (bpf_map_delete_elem(fp->names_fd, &stale[i]) == 0)
			removed++;
	free(stale);
	free(r.keys);
	log_info("fastpath: names reconciled with the table: %zu written, %zu unchanged, %zu removed",
		 r.written, r.same, removed);
}

/* --- timer ----------------------------------------------------------------------------- */

static void on_tick(struct loop *l, struct loop_timer *t, uint64_t now_ms)
{
	struct fastpath *fp = t->ctx;
	int err;

	if (!fp->active)
		return;
	err = config_write(fp);
	if (err && log_ratelimit_ok(&fp->rl, now_ms))
		log_warnx("fastpath: refresh config: %s", glued_strerror(err));
	if (++fp->ticks % RESCAN_TICKS == 0)
		(void)hooks_sync(fp);
	if (!fp->synced && now_ms - fp->started_ms >= SYNC_FALLBACK_MS)
		fastpath_table_synced(fp);
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
	fp->names_fd = fp->addrs_fd = fp->config_fd = fp->stats_fd = -1;
	for (size_t i = 0; i < HOOKS_MAX; i++)
		fp->hooks[i].link_fd = -1;
	fp->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(1, 5);
	loop_timer_init(&fp->timer, on_tick, fp);
	why_set(fp, "not started");
	return fp;
}

static void summary(struct fastpath *fp)
{
	char hooks[HOOKS_MAX * (IF_NAMESIZE + 24)];
	size_t off = 0, n = 0;

	hooks[0] = 0;
	for (size_t i = 0; i < HOOKS_MAX; i++) {
		const struct hook *h = &fp->hooks[i];
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

int fastpath_start(struct fastpath *fp)
{
	int err;

	if (fp->cfg->xdp == CONFIG_XDP_OFF) {
		why_set(fp, "GLUED_XDP=off");
		err = fastpath_remove_pins(fp->cfg->bpf_pin);
		if (err < 0)
			log_warnx("fastpath: GLUED_XDP=off: removing %s: %s", fp->cfg->bpf_pin,
				  glued_strerror(err));
		return 0;
	}
	fp->started_ms = clock_now_ms();
	err = load(fp);
	if (err)
		goto err_off;
	fp->active = true;
	err = config_write(fp);
	if (err) {
		why_set(fp, "write glued_config: %s", glued_strerror(err));
		goto err_unload;
	}
	adopt_links(fp);
	err = hooks_sync(fp);
	if (err && fp->cfg->xdp == CONFIG_XDP_ON) {
		why_set(fp, "an attach point failed: %s (see the lines above)", glued_strerror(err));
		goto err_unload;
	}
	err = table_observe(fp->table, on_table_change, fp);
	if (err) {
		why_set(fp, "observe the name table: %s", glued_strerror(err));
		goto err_unload;
	}
	fp->observing = true;
	fp->why[0] = 0;
	loop_timer_arm_in(fp->loop, &fp->timer, TICK_MS);
	summary(fp);
	return 0;

err_unload:
	fp->active = false;
	for (size_t i = 0; i < HOOKS_MAX; i++)
		if (fp->hooks[i].used && fp->hooks[i].link_fd >= 0)
			close(fp->hooks[i].link_fd);
	memset(fp->hooks, 0, sizeof(fp->hooks));
	for (size_t i = 0; i < HOOKS_MAX; i++)
		fp->hooks[i].link_fd = -1;
	glued_dns__destroy(fp->skel);
	fp->skel = NULL;
err_off:
	if (fp->cfg->xdp == CONFIG_XDP_ON)
		return err ? err : -EINVAL;
	log_warnx("fastpath: off: %s; serving everything from userspace", fp->why);
	return 0;
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
	(void)hooks_sync(fp);
}

void fastpath_table_synced(struct fastpath *fp)
{
	if (!fp || !fp->active)
		return;
	fp->synced = true;
	names_reconcile(fp);
}

bool fastpath_active(const struct fastpath *fp)
{
	return fp && fp->active;
}

static int stats_sum(int fd, struct glued_stats *out)
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

int fastpath_stats(const struct fastpath *fp, struct glued_stats *out)
{
	if (!fastpath_active(fp))
		return -ENODEV;
	return stats_sum(fp->stats_fd, out);
}

int fastpath_pinned_stats(const char *pin_dir, struct glued_stats *out)
{
	char path[CONFIG_PATH_MAX + 32];
	int fd, err;

	pin_path(path, sizeof(path), pin_dir, map_pins[PIN_STATS]);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	err = stats_sum(fd, out);
	close(fd);
	return err;
}

void fastpath_free(struct fastpath *fp)
{
	if (!fp)
		return;
	loop_timer_disarm(fp->loop, &fp->timer);
	for (size_t i = 0; i < HOOKS_MAX; i++)
		if (fp->hooks[i].used && fp->hooks[i].link_fd >= 0)
			close(fp->hooks[i].link_fd); /* pinned: stays attached */
	if (fp->skel)
		glued_dns__destroy(fp->skel); /* maps pinned: they stay */
	free(fp);
}

/* Classic clsact filters left by a fallback attach: ours is the filter
 * (TC_HANDLE, TC_PRIO) running a program named glued_tc_dns. */
static int remove_classic_filters(void)
{
	struct if_nameindex *ifs = if_nameindex(), *p;
	int n = 0;

	if (!ifs)
		return 0;
	for (p = ifs; p->if_index; p++) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)p->if_index,
			    .attach_point = BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, o, .handle = TC_HANDLE, .priority = TC_PRIO);
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd;

		if (bpf_tc_query(&hook, &o) < 0 || !o.prog_id)
			continue;
		fd = bpf_prog_get_fd_by_id(o.prog_id);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
		    strcmp(info.name, "glued_tc_dns") == 0) {
			LIBBPF_OPTS(bpf_tc_opts, d, .handle = TC_HANDLE, .priority = TC_PRIO);
			if (bpf_tc_detach(&hook, &d) == 0) {
				log_info("fastpath: removed the clsact filter on %s", p->if_name);
				n++;
			}
		}
		close(fd);
	}
	if_freenameindex(ifs);
	return n;
}

int fastpath_remove_pins(const char *pin_dir)
{
	char path[CONFIG_PATH_MAX + 300];
	struct dirent *de;
	int n = 0;
	DIR *d;

	libbpf_set_print(libbpf_log);
	n += remove_classic_filters();
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
