/* The fast path's two maps that userspace writes (see fastpath_int.h):
 * glued_names, kept an exact mirror of the name table (one update per
 * changed name, a full reconcile once the sources have synced), and
 * glued_addrs, the addresses glued serves on the interfaces it hooks. A
 * failed write leaves the name to userspace (deleted from the map), never
 * a stale answer in the kernel. It decides nothing about DNS: the encoding
 * is io/bpf_names, the answers the program's and core/dns_answer's.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "core/access.h"
#include "glued_dns.skel.h"
#include "io/bpf_names.h"
#include "io/fastpath_int.h"
#include "lib/clock.h"

/* --- local addresses ------------------------------------------------------------------- */

static bool serves_family(const struct fastpath *fp, int family)
{
	/* A wildcard v4 bind is v4 only; a wildcard v6 bind serves both
	 * (io/dns_server opens a socket per family). */
	return family == AF_INET || fp->cfg->dns_bind.addr.family == AF_INET6;
}

static void local_add(struct glued_local_key *keys, size_t *n, const struct glued_addr *a)
{
	struct glued_local_key k;

	if (*n >= GLUED_ADDRS_MAX || bpf_local_key(a, &k))
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
			    (p->ifa_addr->sa_family != AF_INET &&
			     p->ifa_addr->sa_family != AF_INET6) ||
			    !serves_family(fp, p->ifa_addr->sa_family))
				continue;
			for (size_t i = 0; i < FP_HOOKS_MAX && !hooked; i++)
				hooked = fp->hooks[i].used &&
					 strcmp(fp->hooks[i].ifname, p->ifa_name) == 0;
			if (!hooked)
				continue;
			addr_from_sockaddr(&a, p->ifa_addr);
			local_add(keys, &n, &a);
		}
		freeifaddrs(ifa);
	}
	if (fp->bridge[0] && fp_hook_find(fp, HOOK_TC, fp->bridge))
		for (size_t i = 0; i < fp->n_gw; i++)
			if (serves_family(fp, fp->gw[i].family))
				local_add(keys, &n, &fp->gw[i]);
	return n;
}

static void local_key_str(const struct glued_local_key *k, char *buf, size_t n)
{
	struct glued_addr a = {.family = k->family == GLUED_FAMILY_V4 ? AF_INET : AF_INET6};

	memcpy(a.b, k->addr, 16);
	addr_str(&a, buf, n);
}

/* Make glued_addrs equal the wanted set: add first, then remove, so an
 * address that stays is never missing. */
void fp_addrs_sync(struct fastpath *fp)
{
	struct glued_local_key want[GLUED_ADDRS_MAX], have[GLUED_ADDRS_MAX], k, *prev = NULL;
	struct glued_local_val v = {0};
	size_t n_want = local_wanted(fp, want), n_have = 0, added = 0, removed = 0;
	char list[GLUED_ADDRS_MAX * 8], a[ADDR_STRLEN];
	size_t off = 0;

	while (n_have < GLUED_ADDRS_MAX && bpf_map_get_next_key(fp->addrs_fd, prev, &k) == 0) {
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
		if (bpf_names_key(name, len, &k) == 0 &&
		    bpf_map_delete_elem(fp->names_fd, &k) < 0 && errno != ENOENT)
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

void fastpath_on_table_change(void *ctx, const char *name, size_t len)
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
	if (bpf_map_lookup_elem(r->fp->names_fd, &k, &cur) == 0 &&
	    memcmp(&cur, &v, sizeof(v)) == 0) {
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
void fp_names_reconcile(struct fastpath *fp, bool remove)
{
	struct reconcile r = {.fp = fp};
	struct glued_name_key *stale = NULL, k, cur, *prev = NULL;
	size_t n_stale = 0, cap = 0, removed = 0;

	if (table_foreach_name(fp->table, reconcile_name, &r)) {
		log_warnx(
		    "fastpath: reconcile: out of memory; stale names stay until the next one");
		free(r.keys);
		return;
	}
	qsort(r.keys, r.n_keys, sizeof(*r.keys), key_cmp);
	while (remove && bpf_map_get_next_key(fp->names_fd, prev, &k) == 0) {
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
	log_info("fastpath: names reconciled with the table: %zu written, %zu unchanged, %zu "
		 "removed%s",
		 r.written, r.same, removed,
		 remove ? "" : " (names the table lacks stay until gossip had time to refill it)");
}

/* --- glued_allow ------------------------------------------------------------------------ */

static void allow_key(struct glued_allow_key *k, const struct glued_cidr *c)
{
	memset(k, 0, sizeof(*k));
	k->family = c->addr.family == AF_INET ? GLUED_FAMILY_V4 : GLUED_FAMILY_V6;
	memcpy(k->addr, c->addr.b, c->addr.family == AF_INET ? 4 : 16);
	k->prefixlen = 8 + c->prefix;
}

void fastpath_set_allow(struct fastpath *fp, const struct glued_cidr *allow, size_t n,
			const struct glued_cidr *exempt, size_t n_exempt)
{
	struct glued_allow_key want[GLUED_ALLOW_MAX], have[GLUED_ALLOW_MAX], k, *prev = NULL;
	const struct access_rule *rules;
	struct access *ac;
	size_t n_want = 0, n_have = 0, n_rules;
	int err;

	if (!fp || !fp->active || fp->allow_fd < 0)
		return;
	ac = malloc(sizeof(*ac));
	if (!ac) {
		log_warnx("fastpath: glued_allow: out of memory; the list stays as it was");
		return;
	}
	if (access_build(ac, allow, n, exempt, n_exempt) != 0)
		log_warnx("fastpath: glued_allow: more than %d distinct prefixes: "
			  "nothing is answered in the kernel",
			  GLUED_ALLOW_MAX);
	rules = access_rules(ac, &n_rules);
	for (size_t i = 0; i < n_rules && n_want < GLUED_ALLOW_MAX; i++)
		allow_key(&want[n_want++], &rules[i].cidr);
	while (n_have < GLUED_ALLOW_MAX && bpf_map_get_next_key(fp->allow_fd, prev, &k) == 0) {
		have[n_have] = k;
		prev = &have[n_have++];
	}
	/* Add (or re-flag) first, then remove: a source allowed before and
	 * after is never refused in between. */
	for (size_t i = 0; i < n_want; i++) {
		__u8 flags = rules[i].flags;

		if (bpf_map_update_elem(fp->allow_fd, &want[i], &flags, BPF_ANY) < 0) {
			err = -errno;
			fp->map_errors++;
			log_warnx("fastpath: glued_allow: add a prefix: %s", glued_strerror(err));
		}
	}
	for (size_t i = 0; i < n_have; i++) {
		bool keep = false;

		for (size_t j = 0; j < n_want && !keep; j++)
			keep = memcmp(&have[i], &want[j], sizeof(k)) == 0;
		if (!keep && bpf_map_delete_elem(fp->allow_fd, &have[i]) < 0 && errno != ENOENT) {
			fp->map_errors++;
			log_warn("fastpath: glued_allow: remove a prefix");
		}
	}
	free(ac);
	log_debug("fastpath: glued_allow: %zu prefixes (the DNS allow list and RRL exemption)",
		  n_want);
}
