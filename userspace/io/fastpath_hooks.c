/* Where the fast path's program is attached (see fastpath_int.h): TC
 * ingress as a tcx link or, where the kernel has no tcx (before 6.6), a
 * classic clsact filter; XDP as a link, native or generic. It attaches what
 * is wanted (lo, the watched bridge, GLUED_XDP_IFACES), follows interfaces
 * that come, go or are re-created, adopts the links a previous glued
 * pinned, and records every hook it holds in fp->hooks, which is what
 * fastpath_attach_points() reports. It never detaches on exit: a restart
 * must not drop answers.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "io/fastpath_int.h"

#define TC_HANDLE 1 /* classic clsact fallback: our filter's handle and priority */
#define TC_PRIO 1

static const char *hook_desc(const struct fp_hook *h)
{
	if (h->kind == HOOK_XDP)
		return strcmp(h->mode, "generic") == 0 ? "xdp (generic)" : "xdp";
	return strcmp(h->mode, "clsact") == 0 ? "tc ingress (clsact)" : "tc ingress";
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

static struct fp_hook *hook_slot(struct fastpath *fp)
{
	for (size_t i = 0; i < FP_HOOKS_MAX; i++)
		if (!fp->hooks[i].used)
			return &fp->hooks[i];
	return NULL;
}

struct fp_hook *fp_hook_find(struct fastpath *fp, enum fp_hook_kind kind, const char *ifname)
{
	for (size_t i = 0; i < FP_HOOKS_MAX; i++) {
		struct fp_hook *h = &fp->hooks[i];
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
static int hook_attach(struct fastpath *fp, enum fp_hook_kind kind, const char *ifname,
		       unsigned ifindex)
{
	char path[CONFIG_PATH_MAX + 32];
	struct fp_hook *h = hook_slot(fp);
	int pfd = fp_prog_fd(fp, kind), fd, err;
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
				log_warnx("fastpath: attach tc ingress on %s: tcx: %s, clsact: %s",
					  ifname, glued_strerror(tcx_err), glued_strerror(err));
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
		fp_link_pin_path(path, sizeof(path), fp->cfg->bpf_pin, kind, ifname);
		unlink(path); /* a stale pin of a link whose device is gone */
		if (bpf_obj_pin(fd, path) < 0)
			log_warnx("fastpath: pin %s: %s (a restart will re-attach)", path,
				  glued_strerror(-errno));
	}
	*h = (struct fp_hook){
	    .used = true, .kind = kind, .ifindex = ifindex, .link_fd = fd, .mode = mode};
	snprintf(h->ifname, sizeof(h->ifname), "%s", ifname);
	/* "(ifindex 7)" for tcx, "(ifindex 7, clsact|native|generic)" otherwise */
	log_info("fastpath: attached %s on %s (ifindex %u%s%s)",
		 kind == HOOK_XDP ? "xdp" : "tc ingress", ifname, ifindex,
		 strcmp(mode, "tcx") ? ", " : "", strcmp(mode, "tcx") ? mode : "");
	return 0;
}

/* Detach: drop the pin and our fd (the link goes with its last reference),
 * or delete the classic filter. */
static void hook_remove(struct fastpath *fp, struct fp_hook *h, const char *why)
{
	char path[CONFIG_PATH_MAX + 32];

	if (h->link_fd >= 0) {
		fp_link_pin_path(path, sizeof(path), fp->cfg->bpf_pin, h->kind, h->ifname);
		unlink(path);
		close(h->link_fd);
	} else if (if_nametoindex(h->ifname) == h->ifindex) {
		(void)tc_classic_detach(h->ifindex);
	}
	log_info("fastpath: detached %s from %s (%s)", hook_desc(h), h->ifname, why);
	memset(h, 0, sizeof(*h));
	h->link_fd = -1;
}

/* The mode of the XDP program prog_fd runs as on ifindex: an adopted link
 * does not say, the device does (IFLA_XDP_ATTACHED). */
static const char *xdp_mode(unsigned ifindex, int prog_fd)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_xdp_query((int)ifindex, 0, &q) < 0 ||
	    bpf_obj_get_info_by_fd(prog_fd, &info, &len) < 0)
		return "unknown";
	if (q.attach_mode == XDP_ATTACHED_DRV ||
	    (q.attach_mode == XDP_ATTACHED_MULTI && q.drv_prog_id == info.id))
		return "native";
	if (q.attach_mode == XDP_ATTACHED_SKB ||
	    (q.attach_mode == XDP_ATTACHED_MULTI && q.skb_prog_id == info.id))
		return "generic";
	return q.attach_mode == XDP_ATTACHED_HW ? "offload" : "unknown";
}

/* Take over the links a previous glued pinned: each gets this program by
 * bpf_link_update, atomically (no packet sees no program). Links whose
 * device is gone or renamed are unpinned. */
void fp_adopt_links(struct fastpath *fp)
{
	const char *dir = fp->cfg->bpf_pin;
	char path[CONFIG_PATH_MAX + 300], name[IF_NAMESIZE];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		enum fp_hook_kind kind;
		const char *ifname;
		struct fp_hook *h;
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
		if (!h || bpf_link_update(fd, fp_prog_fd(fp, kind), NULL) < 0) {
			log_warnx("fastpath: update pinned link %s: %s; re-attaching", path,
				  h ? glued_strerror(-errno) : "too many hooks");
			close(fd);
			unlink(path);
			continue;
		}
		*h = (struct fp_hook){
		    .used = true,
		    .adopted = true,
		    .unclaimed = true,
		    .kind = kind,
		    .ifindex = idx,
		    .link_fd = fd,
		    .mode = kind == HOOK_TC ? "tcx" : xdp_mode(idx, fp_prog_fd(fp, kind))};
		snprintf(h->ifname, sizeof(h->ifname), "%s", ifname);
		log_info("fastpath: link updated: %s on %s (ifindex %u)", hook_desc(h), ifname,
			 idx);
	}
	closedir(d);
}

bool fp_listens_loopback(const struct fastpath *fp)
{
	const struct glued_addr *a = &fp->cfg->dns_bind.addr;

	return addr_is_any(a) || addr_is_loopback(a);
}

/* --- following the attach points -------------------------------------------------------- */

struct want {
	enum fp_hook_kind kind;
	const char *ifname;
};

static size_t hooks_wanted(const struct fastpath *fp, struct want *w)
{
	size_t n = 0;

	if (fp_listens_loopback(fp))
		w[n++] = (struct want){HOOK_TC, "lo"};
	for (size_t i = 0; i < fp->cfg->n_xdp_ifaces; i++)
		w[n++] = (struct want){HOOK_XDP, fp->cfg->xdp_ifaces[i]};
	/* The bridge carries container queries to any host address unless glued
	 * serves loopback only. */
	if (fp->bridge[0] && !addr_is_loopback(&fp->cfg->dns_bind.addr))
		w[n++] = (struct want){HOOK_TC, fp->bridge};
	return n;
}

/* Bring the hooks in line with what is wanted and with the interfaces as
 * they are now (re-created devices get a fresh link). Returns the first
 * attach error (the caller decides whether it matters). */
int fp_hooks_sync(struct fastpath *fp)
{
	struct want w[FP_HOOKS_MAX];
	size_t n = hooks_wanted(fp, w);
	int first_err = 0;

	for (size_t i = 0; i < FP_HOOKS_MAX; i++) {
		struct fp_hook *h = &fp->hooks[i];
		bool wanted = false;

		if (!h->used)
			continue;
		for (size_t j = 0; j < n && !wanted; j++)
			wanted = w[j].kind == h->kind && strcmp(w[j].ifname, h->ifname) == 0;
		/* An adopted tc link is presumably the bridge: keep it until
		 * Docker says which bridge is watched. */
		if (!wanted && !(h->unclaimed && h->kind == HOOK_TC && !fp->network_known)) {
			hook_remove(fp, h, "no longer an attach point");
			continue;
		}
		if (wanted)
			h->unclaimed = false;
		if (if_nametoindex(h->ifname) != h->ifindex ||
		    (h->link_fd >= 0 && link_ifindex(h->link_fd, NULL) != h->ifindex))
			hook_remove(fp, h, "interface gone or re-created");
	}
	for (size_t j = 0; j < n; j++) {
		unsigned idx;
		int err;

		if (fp_hook_find(fp, w[j].kind, w[j].ifname))
			continue;
		idx = if_nametoindex(w[j].ifname);
		if (!idx) {
			if (!fp->missing_logged[j])
				log_warnx("fastpath: %s: no such interface yet; will attach when "
					  "it appears",
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
	fp_addrs_sync(fp);
	return first_err;
}

int fp_remove_classic_filters(void)
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

void fp_hooks_release(struct fastpath *fp)
{
	for (size_t i = 0; i < FP_HOOKS_MAX; i++) {
		if (fp->hooks[i].used && fp->hooks[i].link_fd >= 0)
			close(fp->hooks[i].link_fd); /* pinned: stays attached */
		memset(&fp->hooks[i], 0, sizeof(fp->hooks[i]));
		fp->hooks[i].link_fd = -1;
	}
}

size_t fastpath_attach_points(const struct fastpath *fp, struct fastpath_attach *out, size_t max)
{
	size_t n = 0;

	if (!fastpath_active(fp))
		return 0;
	for (size_t i = 0; i < FP_HOOKS_MAX && n < max; i++) {
		const struct fp_hook *h = &fp->hooks[i];

		if (!h->used)
			continue;
		out[n] = (struct fastpath_attach){.ifindex = h->ifindex,
						  .hook = h->kind == HOOK_TC ? "tc" : "xdp",
						  .mode = h->mode,
						  .adopted = h->adopted};
		snprintf(out[n].ifname, sizeof(out[n].ifname), "%s", h->ifname);
		n++;
	}
	return n;
}
