/* Docker JSON → records across engines: the same scenario recorded from
 * Docker 20.10 (API 1.41), Docker 26.1 (API 1.45: DNSNames, short ID out of
 * Aliases), Podman 4.3 and Podman 5.4 (compat API 1.41: network events that
 * name the container, "remove" for "destroy") by tools/engine-record.sh, into
 * tests/unit/data/docker/<engine>/. Every engine must give glued the same
 * records and the same reactions to the same actions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/docker_json.h"
#include "t.h"
#include "tfile.h"

struct engine {
	const char *dir;
	unsigned api_minor;	 /* what /version says (major 1) */
	bool network_events;	 /* network create/destroy of another network recorded */
	bool bridge_from_option; /* network inspect echoes com.docker.network.bridge.name */
};

static const struct engine engines[] = {
    {"docker-20.10", 41, true, true},
    {"docker-26.1", 45, true, true},
    {"podman-4.3", 41, false, false},
    {"podman-5.4", 41, true, false},
};

static char *slurp(const char *dir, const char *name, size_t *len)
{
	char sub[64];

	snprintf(sub, sizeof(sub), "docker/%s", dir);
	return t_data_read(NULL, sub, name, len, true);
}

static int inspect(const struct engine *e, const char *file, struct docker_container *c)
{
	size_t len;
	char *buf = slurp(e->dir, file, &len);
	int err = docker_json_parse_inspect(buf, len, "glued_net", c);

	free(buf);
	return err;
}

/* The entry's names, sorted, space-separated, with the 12-digit short ID of
 * the owner written as "ID" so that engines compare equal. */
static void names_of(const struct table_entry *e, char *out, size_t size)
{
	const char *v[TABLE_ENTRY_NAMES_MAX];
	size_t n = e->n_names, off = 0;

	for (size_t i = 0; i < n; i++)
		v[i] = strncmp(e->names[i], e->owner, 12) == 0 && !e->names[i][12] ? "ID"
										   : e->names[i];
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
			const char *t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	out[0] = '\0';
	for (size_t i = 0; i < n && off < size; i++)
		off += (size_t)snprintf(out + off, size - off, "%s%s", i ? " " : "", v[i]);
}

static void check_version(const struct engine *e)
{
	size_t len;
	char *buf = slurp(e->dir, "version.json", &len);
	unsigned maj = 0, min = 0;

	T_ASSERT(docker_json_parse_version(buf, len, &maj, &min) == 0, "%s: /version", e->dir);
	T_ASSERT(maj == 1 && min == e->api_minor, "%s: API %u.%u", e->dir, maj, min);
	docker_api_clamp(&maj, &min);
	/* Docker 26 says 1.45: glued asks for 1.44, the first with DNSNames. */
	T_ASSERT(min == (e->api_minor > 44 ? 44 : e->api_minor), "%s: clamped to 1.%u", e->dir,
		 min);
	free(buf);
}

static int count_id(void *ctx, const char *id GLUED_UNUSED)
{
	(*(size_t *)ctx)++;
	return 0;
}

static void check_list(const struct engine *e)
{
	size_t len, n = 0;
	char *buf = slurp(e->dir, "list_glued_net.json", &len);

	T_ASSERT(docker_json_parse_list(buf, len, count_id, &n) == 0, "%s: list", e->dir);
	T_ASSERT(n == 3, "%s: web, Db-1 and multi run on glued_net, got %zu", e->dir, n);
	free(buf);
}

static void check_inspect(const struct engine *e)
{
	static const struct {
		const char *file, *names;
		bool published;
	} want[] = {
	    /* api.v1 is not one label: dropped. WebApp lowercased. The short
	     * ID is in Aliases up to API 1.43, only in DNSNames from 1.44
	     * (Docker 26): the same names either way. */
	    {"inspect_web.json", "ID web webapp www", true},
	    /* An alias equal to the name counts once. */
	    {"inspect_db-1.json", "ID db db-1", true},
	    /* Aliases of its other network (multi-other) are not ours. */
	    {"inspect_multi.json", "ID multi", true},
	    {"inspect_stopped.json", NULL, false},
	    {"inspect_other.json", NULL, false},
	};
	struct docker_container c;
	char names[512];

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		T_ASSERT(inspect(e, want[i].file, &c) == 0, "%s: %s parses", e->dir, want[i].file);
		T_ASSERT(docker_container_published(&c) == want[i].published,
			 "%s: %s published: %d", e->dir, want[i].file,
			 docker_container_published(&c));
		if (!want[i].names)
			continue;
		names_of(&c.entry, names, sizeof(names));
		T_ASSERT(strcmp(names, want[i].names) == 0, "%s: %s names \"%s\", want \"%s\"",
			 e->dir, want[i].file, names, want[i].names);
		T_ASSERT(c.entry.n_addrs == 2, "%s: %s has its IPv4 and IPv6 address, got %zu",
			 e->dir, want[i].file, c.entry.n_addrs);
		T_ASSERT(c.gw4.family == AF_INET && c.gw6.family == AF_INET6,
			 "%s: %s gateways learned", e->dir, want[i].file);
		/* Docker: <exec-root>/netns/<12 hex>; Podman: /run/netns/netns-<uuid> */
		T_ASSERT(c.sandbox[0] == '/' && strstr(c.sandbox, "netns") != NULL,
			 "%s: %s SandboxKey \"%s\"", e->dir, want[i].file, c.sandbox);
	}
}

static void check_network(const struct engine *e)
{
	struct docker_network n;
	size_t len;
	char *buf = slurp(e->dir, "network_glued_net.json", &len);

	T_ASSERT(docker_json_parse_network(buf, len, &n) == 0, "%s: network", e->dir);
	T_ASSERT(n.n_subnets == 2 && n.subnets[0].gateway.family && n.subnets[1].gateway.family,
		 "%s: two subnets with gateways, got %zu", e->dir, n.n_subnets);
	T_ASSERT(strcmp(n.driver, "bridge") == 0, "%s: driver %s", e->dir, n.driver);
	free(buf);
	buf = slurp(e->dir, "network_other_net.json", &len);
	T_ASSERT(docker_json_parse_network(buf, len, &n) == 0, "%s: other network", e->dir);
	/* Podman does not echo the option in its compat body (see
	 * docs/engines.md): the bridge glued derives is Docker's naming. */
	if (e->bridge_from_option)
		T_ASSERT(strcmp(n.bridge, "gluedother0") == 0, "%s: bridge %s", e->dir, n.bridge);
	free(buf);
	buf = slurp(e->dir, "network_404.json", &len);
	{
		char msg[100];

		docker_json_error_message(buf, len, msg, sizeof(msg));
		T_ASSERT(strstr(msg, "nosuch") != NULL, "%s: 404 message \"%s\"", e->dir, msg);
	}
	free(buf);
}

/* Replay the recorded stream of the "ev" container's life (run, rename,
 * disconnect, connect, stop, start, kill, rm -f; then ev3 run, rm -f; then a
 * network create/rm of tmp_net) and check what the watcher would do. */
static void check_events(const struct engine *e)
{
	struct docker_network net;
	struct docker_event ev;
	size_t len, nlen, lines = 0, bad = 0, net_other = 0;
	char *buf = slurp(e->dir, "events_filtered.jsonl", &len);
	char *nbuf = slurp(e->dir, "network_glued_net.json", &nlen);
	char ev_id[DOCKER_ID_MAX + 1] = "";
	size_t disc = 0, disc_acted = 0, conn = 0, conn_inspect = 0;
	enum docker_reaction last = DOCKER_REACT_NONE;
	bool renamed = false;

	T_ASSERT(docker_json_parse_network(nbuf, nlen, &net) == 0, "%s: network", e->dir);
	for (char *p = buf, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		enum docker_reaction r;

		lines++;
		if (docker_json_parse_event(p, (size_t)(nl - p), &ev) != 0) {
			bad++;
			continue;
		}
		r = docker_event_react(&ev, "glued_net", net.id);
		if (!ev_id[0] && ev.type == DOCKER_EV_CONTAINER && strcmp(ev.name, "ev") == 0)
			strcpy(ev_id, ev.container_id);
		if (ev.type == DOCKER_EV_NETWORK && !ev.container_id[0]) {
			/* tmp_net's create and destroy: not the watched network. */
			net_other++;
			T_ASSERT(r == DOCKER_REACT_NONE, "%s: %s of another network: %d", e->dir,
				 ev.action, r);
			continue;
		}
		if (!ev_id[0] || strcmp(ev.container_id, ev_id) != 0)
			continue;
		if (ev.type == DOCKER_EV_CONTAINER && strcmp(ev.action, "rename") == 0)
			renamed = r == DOCKER_REACT_INSPECT;
		if (ev.type == DOCKER_EV_NETWORK && strcmp(ev.action, "disconnect") == 0) {
			disc++;
			disc_acted += r != DOCKER_REACT_NONE;
		}
		if (ev.type == DOCKER_EV_NETWORK && strcmp(ev.action, "connect") == 0) {
			conn++;
			conn_inspect += r == DOCKER_REACT_INSPECT;
		}
		if (r != DOCKER_REACT_NONE)
			last = r;
	}
	T_ASSERT(lines >= 9 && bad == 0, "%s: %zu of %zu event lines did not parse", e->dir, bad,
		 lines);
	T_ASSERT(ev_id[0], "%s: the create of ev is in the stream", e->dir);
	T_ASSERT(renamed, "%s: rename re-inspects", e->dir);
	T_ASSERT(disc >= 1 && disc_acted == disc, "%s: %zu of %zu disconnects acted on", e->dir,
		 disc_acted, disc);
	T_ASSERT(conn >= 1 && conn_inspect == conn, "%s: %zu of %zu connects inspected", e->dir,
		 conn_inspect, conn);
	T_ASSERT(last == DOCKER_REACT_WITHDRAW, "%s: rm -f ends in a withdraw, got %d", e->dir,
		 last);
	T_ASSERT(!e->network_events || net_other == 2, "%s: tmp_net create and rm, got %zu", e->dir,
		 net_other);
	free(nbuf);
	free(buf);
}

/* Hand-made lines for the shapes above, so each stays pinned even if the
 * recordings are made again. */
static void check_event_shapes(void)
{
	static const char pod4[] =
	    "{\"Type\":\"network\",\"Action\":\"disconnect\",\"Actor\":{\"ID\":"
	    "\"1ca52ae1d7d4e6f1b2b0c5d3e8f9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0\","
	    "\"Attributes\":{\"name\":\"ev2\",\"podId\":\"\"}}}";
	static const char pod5[] =
	    "{\"Type\":\"network\",\"Action\":\"connect\",\"Actor\":{\"ID\":"
	    "\"1ca52ae1d7d4e6f1b2b0c5d3e8f9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0\","
	    "\"Attributes\":{\"name\":\"ev2\",\"network\":\"glued_net\"}}}";
	static const char pod5_rm[] =
	    "{\"Type\":\"network\",\"Action\":\"remove\",\"Actor\":{\"ID\":"
	    "\"32151722d7d4e6f1b2b0c5d3e8f9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0\","
	    "\"Attributes\":{\"driver\":\"bridge\",\"name\":\"\",\"network\":\"glued_net\"}}}";
	static const char pod_remove[] =
	    "{\"Type\":\"container\",\"Action\":\"remove\",\"Actor\":{\"ID\":"
	    "\"1ca52ae1d7d4e6f1b2b0c5d3e8f9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0\","
	    "\"Attributes\":{\"name\":\"ev2\"}}}";
	static const char pod_bad_id[] =
	    "{\"Type\":\"network\",\"Action\":\"connect\",\"Actor\":{\"ID\":\"ev2\","
	    "\"Attributes\":{\"name\":\"ev2\"}}}";
	struct docker_event ev;

	T_CASE("Podman 4.3 network disconnect: the container from Actor.ID, network unnamed")
	{
		T_ASSERT(docker_json_parse_event(pod4, strlen(pod4), &ev) == 0);
		T_ASSERT(ev.type == DOCKER_EV_NETWORK && ev.network_unnamed);
		T_ASSERT(strncmp(ev.container_id, "1ca52ae1", 8) == 0, "%s", ev.container_id);
		T_ASSERT(strcmp(ev.name, "ev2") == 0 && !ev.network_name[0] && !ev.network_id[0]);
		T_ASSERT(docker_event_react(&ev, "glued_net", "") == DOCKER_REACT_INSPECT,
			 "which network left is unknown: inspect decides");
	}
	T_CASE("Podman 5.4 network connect: network from Attributes.network")
	{
		T_ASSERT(docker_json_parse_event(pod5, strlen(pod5), &ev) == 0);
		T_ASSERT(!ev.network_unnamed && strcmp(ev.network_name, "glued_net") == 0);
		T_ASSERT(strncmp(ev.container_id, "1ca52ae1", 8) == 0);
		T_ASSERT(docker_event_react(&ev, "glued_net", "") == DOCKER_REACT_INSPECT);
		T_ASSERT(docker_event_react(&ev, "other_net", "") == DOCKER_REACT_NONE,
			 "another network's connect is not ours");
	}
	T_CASE("Podman 5.4 network remove of the watched network resyncs")
	{
		T_ASSERT(docker_json_parse_event(pod5_rm, strlen(pod5_rm), &ev) == 0);
		T_ASSERT(strcmp(ev.network_name, "glued_net") == 0 && !ev.container_id[0]);
		T_ASSERT(docker_event_react(&ev, "glued_net", "") == DOCKER_REACT_RESYNC);
	}
	T_CASE("Podman container remove withdraws, as Docker's destroy")
	{
		T_ASSERT(docker_json_parse_event(pod_remove, strlen(pod_remove), &ev) == 0);
		T_ASSERT(docker_event_react(&ev, "glued_net", "") == DOCKER_REACT_WITHDRAW);
	}
	T_CASE("a Podman-shaped connect whose Actor.ID is no container ID does nothing")
	{
		T_ASSERT(docker_json_parse_event(pod_bad_id, strlen(pod_bad_id), &ev) == 0);
		T_ASSERT(!ev.container_id[0]);
		T_ASSERT(docker_event_react(&ev, "glued_net", "") == DOCKER_REACT_NONE);
	}
}

int main(void)
{
	for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++) {
		const struct engine *e = &engines[i];
		char name[128];

		snprintf(name, sizeof(name), "%s: version, list, inspect, network", e->dir);
		T_CASE(name)
		{
			check_version(e);
			check_list(e);
			check_inspect(e);
			check_network(e);
		}
		snprintf(name, sizeof(name), "%s: the event stream of one container's life",
			 e->dir);
		T_CASE(name)
		{
			check_events(e);
		}
	}
	check_event_shapes();
	printf("%d passed, %d failed\n", t_passed, t_failed);
	return t_failed ? 1 : 0;
}
