/* One container fast path job inside a container's netns (ctr_netns.h):
 * enter, rtnetlink for lo's route_localnet / accept_local, the tcx link or
 * clsact filter on lo egress, the pin, and back. It decides nothing: the
 * job says what to do (core/ctr_fast), the result says what was found.
 * Runs on the helper thread only; it must never run on the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/netconf.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "glued/abi.h"
#include "io/ctr_netns.h"

#define LO_IFINDEX 1  /* lo is ifindex 1 in every network namespace */
#define TCX_EGRESS 47 /* BPF_TCX_EGRESS: Debian 12's uapi (6.1) predates tcx */
#define TC_HANDLE 1   /* clsact fallback: our filter's handle and priority */
#define TC_PRIO 1
#define NL_BUF 16384

void ctr_netns_pin_path(const struct ctr_netns *ns, const char *id, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s", ns->pin_dir, id);
}

/* --- rtnetlink: lo's IPv4 devconf ------------------------------------------------------- */

struct nl_msg {
	struct nlmsghdr h;
	char body[512];
};

static void nl_attr(struct nl_msg *m, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)m + NLMSG_ALIGN(m->h.nlmsg_len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	m->h.nlmsg_len = NLMSG_ALIGN(m->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static struct rtattr *nl_nest(struct nl_msg *m, unsigned short type)
{
	struct rtattr *a = (struct rtattr *)((char *)m + NLMSG_ALIGN(m->h.nlmsg_len));

	nl_attr(m, type, NULL, 0);
	return a;
}

static void nl_nest_end(struct nl_msg *m, struct rtattr *a)
{
	a->rta_len = (unsigned short)((char *)m + m->h.nlmsg_len - (char *)a);
}

/* A NETLINK_ROUTE socket in the calling thread's netns now. */
static int nl_open(void)
{
	struct timeval tv = {.tv_sec = 2};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* Send m; receive one answer into buf. Returns its length, or the error
 * an NLMSG_ERROR carried (0 for an ACK), or -errno. */
static int nl_talk(int fd, struct nl_msg *m, char *buf, size_t cap)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	ssize_t n;

	m->h.nlmsg_seq = 1;
	if (sendto(fd, m, m->h.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	n = recv(fd, buf, cap, 0);
	if (n < 0)
		return -errno;
	if (!NLMSG_OK(h, (size_t)n))
		return -EBADMSG;
	if (h->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(h);
		return h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) ? e->error : -EBADMSG;
	}
	return (int)n;
}

struct lo_conf {
	__u32 route_localnet, accept_local, rp_filter; /* rp_filter: max(all, lo) */
};

/* The u32 of devconf `id` in IFLA_AF_SPEC/AF_INET/IFLA_INET_CONF. */
static int conf_from_link(const struct nlmsghdr *h, struct lo_conf *c)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	const struct rtattr *a = IFLA_RTA(ifi);
	int len = (int)IFLA_PAYLOAD(h);

	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		const struct rtattr *f;
		int flen;

		if (a->rta_type != IFLA_AF_SPEC)
			continue;
		f = RTA_DATA(a);
		flen = (int)RTA_PAYLOAD(a);
		for (; RTA_OK(f, flen); f = RTA_NEXT(f, flen)) {
			const struct rtattr *x = RTA_DATA(f);
			int xlen = (int)RTA_PAYLOAD(f);

			if (f->rta_type != AF_INET)
				continue;
			for (; RTA_OK(x, xlen); x = RTA_NEXT(x, xlen)) {
				const __u32 *v = RTA_DATA(x);
				size_t nv = RTA_PAYLOAD(x) / sizeof(__u32);

				if (x->rta_type != IFLA_INET_CONF ||
				    nv < IPV4_DEVCONF_ROUTE_LOCALNET)
					continue;
				c->route_localnet = v[IPV4_DEVCONF_ROUTE_LOCALNET - 1];
				c->accept_local = v[IPV4_DEVCONF_ACCEPT_LOCAL - 1];
				c->rp_filter = v[IPV4_DEVCONF_RP_FILTER - 1];
				return 0;
			}
		}
	}
	return -ENOENT;
}

static int rp_filter_all(int fd, char *buf, __u32 *out)
{
	struct nl_msg m = {.h = {.nlmsg_len = NLMSG_LENGTH(NLMSG_ALIGN(sizeof(struct netconfmsg))),
				 .nlmsg_type = RTM_GETNETCONF,
				 .nlmsg_flags = NLM_F_REQUEST}};
	struct netconfmsg *ncm = NLMSG_DATA(&m.h);
	int all = NETCONFA_IFINDEX_ALL, n;
	const struct rtattr *a;
	int len;

	ncm->ncm_family = AF_INET;
	nl_attr(&m, NETCONFA_IFINDEX, &all, sizeof(all));
	n = nl_talk(fd, &m, buf, NL_BUF);
	if (n <= 0)
		return n ? n : -EBADMSG;
	a = (const struct rtattr *)((const char *)NLMSG_DATA(buf) +
				    NLMSG_ALIGN(sizeof(struct netconfmsg)));
	len = (int)(((const struct nlmsghdr *)buf)->nlmsg_len -
		    NLMSG_LENGTH(NLMSG_ALIGN(sizeof(struct netconfmsg))));
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == NETCONFA_RP_FILTER && RTA_PAYLOAD(a) >= sizeof(__u32)) {
			memcpy(out, RTA_DATA(a), sizeof(*out));
			return 0;
		}
	}
	*out = 0;
	return 0;
}

/* lo's route_localnet, accept_local and effective rp_filter. */
static int lo_conf_get(int fd, struct lo_conf *c)
{
	static __thread char buf[NL_BUF];
	struct nl_msg m = {.h = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
				 .nlmsg_type = RTM_GETLINK,
				 .nlmsg_flags = NLM_F_REQUEST}};
	struct ifinfomsg *ifi = NLMSG_DATA(&m.h);
	__u32 all = 0;
	int n;

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = LO_IFINDEX;
	n = nl_talk(fd, &m, buf, sizeof(buf));
	if (n <= 0)
		return n ? n : -EBADMSG;
	if (((struct nlmsghdr *)buf)->nlmsg_type != RTM_NEWLINK)
		return -EBADMSG;
	n = conf_from_link((struct nlmsghdr *)buf, c);
	if (n)
		return n;
	n = rp_filter_all(fd, buf, &all);
	if (n)
		return n;
	if (all > c->rp_filter)
		c->rp_filter = all;
	return 0;
}

/* RTM_SETLINK lo: IFLA_AF_SPEC { AF_INET { IFLA_INET_CONF { id: v } } } */
static int lo_conf_set(int fd, int id, __u32 v)
{
	char buf[1024];
	struct nl_msg m = {.h = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
				 .nlmsg_type = RTM_SETLINK,
				 .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK}};
	struct ifinfomsg *ifi = NLMSG_DATA(&m.h);
	struct rtattr *spec, *inet, *conf;

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = LO_IFINDEX;
	spec = nl_nest(&m, IFLA_AF_SPEC);
	inet = nl_nest(&m, AF_INET);
	conf = nl_nest(&m, IFLA_INET_CONF);
	nl_attr(&m, (unsigned short)id, &v, sizeof(v));
	nl_nest_end(&m, conf);
	nl_nest_end(&m, inet);
	nl_nest_end(&m, spec);
	return nl_talk(fd, &m, buf, sizeof(buf));
}

/* --- the program on lo egress ----------------------------------------------------------- */

static bool prog_is_ours(__u32 id)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	bool ours;
	int fd = bpf_prog_get_fd_by_id(id);

	if (fd < 0)
		return false;
	memset(&info, 0, sizeof(info));
	ours = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
	       strcmp(info.name, GLUED_CTR_PROG_NAME) == 0;
	close(fd);
	return ours;
}

/* The program id a link runs and the ifindex it is on (0: defunct). */
static int link_state(int fd, __u32 *prog_id, __u32 *ifindex)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return -errno;
	*prog_id = info.prog_id;
	*ifindex = info.xdp.ifindex; /* tcx keeps ifindex first in the union, like xdp */
	return 0;
}

/* Is prog_id attached by tcx to lo egress in the current netns? */
static bool tcx_has(__u32 prog_id)
{
	__u32 ids[64], cnt = 64, flags = 0;

	if (bpf_prog_query(LO_IFINDEX, TCX_EGRESS, 0, &flags, ids, &cnt) < 0)
		return false;
	for (__u32 i = 0; i < cnt && i < 64; i++)
		if (ids[i] == prog_id)
			return true;
	return false;
}

/* The pinned link of job->id, if it runs on lo here: its fd; else -1 (a
 * pin of another netns, defunct or foreign, is removed). */
static int pinned_here(const struct ctr_netns *ns, const char *id)
{
	char path[CONFIG_PATH_MAX + 80];
	__u32 prog_id = 0, ifindex = 0;
	int fd;

	ctr_netns_pin_path(ns, id, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -1;
	if (link_state(fd, &prog_id, &ifindex) == 0 && ifindex == LO_IFINDEX && tcx_has(prog_id))
		return fd;
	close(fd);
	unlink(path);
	return -1;
}

static int clsact_query(__u32 *prog_id)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = LO_IFINDEX, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = TC_HANDLE, .priority = TC_PRIO);

	if (bpf_tc_query(&hook, &o) < 0)
		return -ENOENT;
	*prog_id = o.prog_id;
	return 0;
}

static void clsact_detach(void)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = LO_IFINDEX, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = TC_HANDLE, .priority = TC_PRIO);
	__u32 id = 0;

	if (clsact_query(&id) == 0 && prog_is_ours(id))
		(void)bpf_tc_detach(&hook, &o);
}

/* tcx (pinned), else clsact. r->mode, r->adopted set on success. */
static int attach(const struct ctr_netns *ns, const struct ctr_job *job, struct ctr_result *r)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = LO_IFINDEX, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = TC_HANDLE, .priority = TC_PRIO,
		    .prog_fd = ns->prog_fd, .flags = BPF_TC_F_REPLACE);
	char path[CONFIG_PATH_MAX + 80];
	__u32 old = 0;
	int fd, err, tcx_err;

	ctr_netns_pin_path(ns, job->id, path, sizeof(path));
	fd = job->pinned ? pinned_here(ns, job->id) : -1;
	if (fd >= 0) {
		/* a predecessor's link in this very netns: swap the program in
		 * atomically, as the host hooks do */
		err = bpf_link_update(fd, ns->prog_fd, NULL) < 0 ? -errno : 0;
		close(fd);
		if (!err) {
			r->mode = CTR_MODE_TCX;
			r->adopted = true;
			return 0;
		}
		unlink(path);
	} else if (job->pinned) {
		unlink(path);
	}
	fd = bpf_link_create(ns->prog_fd, LO_IFINDEX, TCX_EGRESS, NULL);
	if (fd >= 0) {
		unlink(path);
		err = bpf_obj_pin(fd, path) < 0 ? -errno : 0;
		close(fd); /* the pin holds it; without one the link goes here */
		if (err)
			return err;
		r->mode = CTR_MODE_TCX;
		return 0;
	}
	tcx_err = -errno;
	/* no tcx (before 6.6): a classic clsact filter, replaced in place */
	r->adopted = clsact_query(&old) == 0 && prog_is_ours(old);
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return tcx_err == -EINVAL ? err : tcx_err;
	err = bpf_tc_attach(&hook, &o);
	if (err)
		return tcx_err == -EINVAL ? err : tcx_err;
	r->mode = CTR_MODE_CLSACT;
	return 0;
}

/* Is the program still on lo here? */
static bool still_attached(const struct ctr_netns *ns, const struct ctr_job *job)
{
	__u32 id = 0;
	int fd;

	if (job->mode == CTR_MODE_CLSACT)
		return clsact_query(&id) == 0 && prog_is_ours(id);
	fd = pinned_here(ns, job->id);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static void remove_here(const struct ctr_netns *ns, const struct ctr_job *job)
{
	char path[CONFIG_PATH_MAX + 80];

	ctr_netns_pin_path(ns, job->id, path, sizeof(path));
	unlink(path); /* the pin was the link's last reference: detached */
	if (job->mode != CTR_MODE_TCX)
		clsact_detach();
}

/* --- the jobs ------------------------------------------------------------------------- */

static int job_attach(const struct ctr_netns *ns, const struct ctr_job *job, struct ctr_result *r)
{
	struct lo_conf c = {0};
	int nl = nl_open(), err;

	if (nl < 0) {
		r->step = CTR_STEP_SYSCTL;
		return nl;
	}
	r->step = CTR_STEP_SYSCTL;
	err = lo_conf_get(nl, &c);
	if (!err && !c.route_localnet) {
		err = lo_conf_set(nl, IPV4_DEVCONF_ROUTE_LOCALNET, 1);
		r->set_localnet = !err;
	}
	if (!err && c.rp_filter && !c.accept_local) {
		err = lo_conf_set(nl, IPV4_DEVCONF_ACCEPT_LOCAL, 1);
		r->set_accept_local = !err;
	}
	if (!err) {
		r->step = CTR_STEP_ATTACH;
		err = attach(ns, job, r);
	}
	if (err) {
		/* nothing left behind */
		if (r->set_localnet)
			(void)lo_conf_set(nl, IPV4_DEVCONF_ROUTE_LOCALNET, 0);
		if (r->set_accept_local)
			(void)lo_conf_set(nl, IPV4_DEVCONF_ACCEPT_LOCAL, 0);
		r->set_localnet = r->set_accept_local = false;
		r->mode = CTR_MODE_NONE;
		r->adopted = false;
	}
	close(nl);
	return err;
}

static int job_check(const struct ctr_netns *ns, const struct ctr_job *job, struct ctr_result *r)
{
	struct lo_conf c = {0};
	int nl = nl_open(), err;

	r->step = CTR_STEP_SYSCTL;
	if (nl < 0)
		return nl;
	err = lo_conf_get(nl, &c);
	close(nl);
	if (err)
		return err;
	if (!c.route_localnet) {
		/* replies would be dropped as martians: let dockerd answer */
		r->localnet_off = true;
		r->step = CTR_STEP_ATTACH;
		remove_here(ns, job);
		return 0;
	}
	r->prog_missing = !still_attached(ns, job);
	return 0;
}

static int job_detach(const struct ctr_job *job, struct ctr_result *r)
{
	int nl, err = 0;

	if (job->mode != CTR_MODE_TCX)
		clsact_detach(); /* the pin, if any, went before setns */
	if (!job->restore_localnet && !job->restore_accept_local)
		return 0;
	r->step = CTR_STEP_SYSCTL;
	nl = nl_open();
	if (nl < 0)
		return nl;
	if (job->restore_localnet)
		err = lo_conf_set(nl, IPV4_DEVCONF_ROUTE_LOCALNET, 0);
	if (!err && job->restore_accept_local)
		err = lo_conf_set(nl, IPV4_DEVCONF_ACCEPT_LOCAL, 0);
	close(nl);
	return err;
}

void ctr_netns_run(const struct ctr_netns *ns, const struct ctr_job *job, struct ctr_result *r)
{
	char path[CONFIG_PATH_MAX + 80];
	int fd, err;

	memset(r, 0, sizeof(*r));
	r->kind = job->kind;
	snprintf(r->id, sizeof(r->id), "%s", job->id);
	ctr_netns_pin_path(ns, job->id, path, sizeof(path));
	if (job->kind == CTR_JOB_DETACH) {
		/* The pin first, wherever the netns is: it was the tcx link's
		 * last reference. A container that is going may have its netns
		 * unmounted already (Docker 26 disconnects before the die). */
		unlink(path);
		if (!job->sandbox[0])
			return; /* a pin found at start: its netns is unknown */
	}
	r->step = CTR_STEP_NETNS;
	fd = open(job->sandbox, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		/* ENOENT: the file is gone; EINVAL: it is no longer a netns
		 * (unmounted, the file not yet removed). Either way the
		 * container's netns is gone, and a link in it is defunct. */
		r->err = -errno;
		r->netns_gone = errno == ENOENT || errno == EINVAL;
		if (fd >= 0)
			close(fd);
		if (r->netns_gone && job->kind == CTR_JOB_ATTACH && job->pinned)
			unlink(path);
		if (r->netns_gone && job->kind == CTR_JOB_DETACH)
			r->err = 0; /* nothing left to take away */
		return;
	}
	close(fd);
	switch (job->kind) {
	case CTR_JOB_ATTACH:
		err = job_attach(ns, job, r);
		break;
	case CTR_JOB_CHECK:
		err = job_check(ns, job, r);
		break;
	default:
		err = job_detach(job, r);
		break;
	}
	r->err = err;
	if (!err)
		r->step = CTR_STEP_NONE;
	/* Home again. Every job enters its own netns first, and pins live in
	 * bpffs (a mount, not a netns, matter), so a failure here harms no
	 * later job; it is still reported. */
	if (setns(ns->home_fd, CLONE_NEWNET) < 0 && !r->err) {
		r->err = -errno;
		r->step = CTR_STEP_NETNS;
	}
}
