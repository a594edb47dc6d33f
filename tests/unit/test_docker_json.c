/* Docker JSON → records, on responses recorded from a real dockerd (API 1.41,
 * tools/docker-record.sh) plus hand-made malformed bodies. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/docker_json.h"
#include "t.h"
#include "tfile.h"

#define WEB_ID "530c29abcb4773b7595acf906e82ccc48dcbfc3ba2cacc1c1d9f265d95d13777"
#define DB_ID "fa61faa60544db6be90b6c171ca6a6cd0d7b59547f12983fcf1fe6e1fd107a43"
#define MULTI_ID "43c8ef9f561c69a1074bb53936f81f6d708b2db1de4adef239b9eb4a94fb9259"
#define EV_ID "33a0ffe587ca5c22da1b7e3595efe8dc9f152c49e62aa8b8250ed5e31aa7290e"
#define NET_ID "ef114faba4a796c5349caa1ed291c8f50e7f8386a58e5cbd9493042aa59d71ec"

static char *slurp(const char *name, size_t *len)
{
	return t_data_read("DOCKER_DATA", "docker", name, len, true);
}

static bool has_name(const struct table_entry *e, const char *name)
{
	for (size_t i = 0; i < e->n_names; i++)
		if (strcmp(e->names[i], name) == 0)
			return true;
	return false;
}

static bool has_addr(const struct table_entry *e, const char *text)
{
	struct glued_addr a;

	if (addr_parse(&a, text) != 0)
		return false;
	for (size_t i = 0; i < e->n_addrs; i++)
		if (addr_eq(&e->addrs[i], &a))
			return true;
	return false;
}

static int inspect_file(const char *file, const char *net, struct docker_container *c)
{
	size_t len;
	char *buf = slurp(file, &len);
	int err = docker_json_parse_inspect(buf, len, net, c);

	free(buf);
	return err;
}

struct ids {
	size_t n;
	char id[8][DOCKER_ID_MAX + 1];
};

static int collect(void *ctx, const char *id)
{
	struct ids *ids = ctx;

	if (ids->n == 8)
		return -1;
	strcpy(ids->id[ids->n++], id);
	return 0;
}

static void test_list(void)
{
	size_t len;
	char *buf = slurp("list_glued_net.json", &len);
	struct ids ids = {0};

	T_CASE("list of running containers on glued_net gives their three full IDs")
	{
		T_EQ_INT(docker_json_parse_list(buf, len, collect, &ids), 0);
		T_EQ_INT(ids.n, 3);
		T_EQ_STR(ids.id[0], MULTI_ID);
		T_EQ_STR(ids.id[1], DB_ID);
		T_EQ_STR(ids.id[2], WEB_ID);
	}
	T_CASE("list callback's non-zero return stops the walk and is returned")
	{
		memset(&ids, 0, sizeof(ids));
		ids.n = 8;
		T_EQ_INT(docker_json_parse_list(buf, len, collect, &ids), -1);
	}
	free(buf);

	buf = slurp("list_glued_net_all.json", &len);
	T_CASE("list with all=1 also shows the stopped container")
	{
		memset(&ids, 0, sizeof(ids));
		T_EQ_INT(docker_json_parse_list(buf, len, collect, &ids), 0);
		T_EQ_INT(ids.n, 4);
	}
	free(buf);

	T_CASE("list entries with a bad Id are skipped, a non-array body is rejected")
	{
		const char *b = "[{\"Id\":\"abc\"},{\"Id\":7},{},3,{\"Id\":\"" WEB_ID "\"}]";

		memset(&ids, 0, sizeof(ids));
		T_EQ_INT(docker_json_parse_list(b, strlen(b), collect, &ids), 0);
		T_EQ_INT(ids.n, 1);
		T_EQ_STR(ids.id[0], WEB_ID);
		T_EQ_INT(docker_json_parse_list("{}", 2, collect, &ids), GLUED_EMALF);
		T_EQ_INT(docker_json_parse_list("[", 1, collect, &ids), GLUED_EMALF);
		T_EQ_INT(docker_json_parse_list("", 0, collect, &ids), GLUED_EMALF);
		T_EQ_INT(docker_json_parse_list(NULL, 0, collect, &ids), GLUED_EMALF);
	}
	T_CASE("an absurdly large list body is refused before parsing")
	{
		T_EQ_INT(docker_json_parse_list("[]", (size_t)DOCKER_BODY_MAX + 1, collect, &ids),
			 GLUED_ELIMIT);
	}
}

static void test_inspect(void)
{
	struct docker_container c;

	T_CASE("web: name, aliases lowercased, dotted alias and short-ID alias handled, v4+v6")
	{
		T_EQ_INT(inspect_file("inspect_web.json", "glued_net", &c), 0);
		T_EQ_INT(c.entry.origin, 0);
		T_EQ_STR(c.entry.owner, WEB_ID);
		T_EQ_STR(c.name, "web");
		T_ASSERT(c.running && c.on_network, "running on the network");
		T_ASSERT(docker_container_published(&c), "published");
		/* web, www, webapp, 530c29abcb47; "api.v1" is not a single label. */
		T_EQ_INT(c.entry.n_names, 4);
		T_EQ_STR(c.entry.names[0], "web");
		T_ASSERT(has_name(&c.entry, "www"), "www");
		T_ASSERT(has_name(&c.entry, "webapp"), "WebApp lowercased");
		T_ASSERT(!has_name(&c.entry, "WebApp"), "no mixed case kept");
		T_ASSERT(has_name(&c.entry, "530c29abcb47"), "short ID alias");
		T_ASSERT(!has_name(&c.entry, "api.v1") && !has_name(&c.entry, "api"), "no dotted");
		T_EQ_INT(c.names_dropped, 1);
		T_EQ_INT(c.entry.n_addrs, 2);
		T_ASSERT(has_addr(&c.entry, "172.30.0.2"), "v4 on glued_net");
		T_ASSERT(has_addr(&c.entry, "fd00:dead:beef::2"), "v6 on glued_net");
		T_EQ_INT(c.gw4.family, AF_INET);
		T_EQ_INT(c.gw6.family, AF_INET6);
	}
	T_CASE("Db-1: name lowercased and deduplicated against an identical alias")
	{
		T_EQ_INT(inspect_file("inspect_db-1.json", "glued_net", &c), 0);
		T_EQ_STR(c.name, "Db-1");
		T_EQ_STR(c.entry.names[0], "db-1");
		T_EQ_INT(c.entry.n_names, 3); /* db-1, db, fa61faa60544 */
		T_ASSERT(has_name(&c.entry, "db"), "db");
		T_EQ_INT(c.names_dropped, 1);
	}
	T_CASE("API 1.41 has no DNSNames: names come from Name and Aliases only")
	{
		size_t len;
		char *buf = slurp("inspect_web.json", &len);

		T_ASSERT(!strstr(buf, "DNSNames"), "recorded 1.41 inspect has no DNSNames");
		free(buf);
	}
	T_CASE("API 1.44 DNSNames are published (short ID moved there from Aliases)")
	{
		T_EQ_INT(inspect_file("inspect_web_api144_synth.json", "glued_net", &c), 0);
		T_EQ_INT(c.entry.n_names, 4);
		T_ASSERT(has_name(&c.entry, "530c29abcb47"), "short ID from DNSNames");
		T_ASSERT(has_name(&c.entry, "webapp"), "alias");
	}
	T_CASE("stopped container keeps the network entry with empty addresses: not published")
	{
		T_EQ_INT(inspect_file("inspect_stopped.json", "glued_net", &c), 0);
		T_ASSERT(!c.running, "not running");
		T_ASSERT(!c.on_network, "no address on the network");
		T_EQ_INT(c.entry.n_addrs, 0);
		T_ASSERT(!docker_container_published(&c), "not published");
	}
	T_CASE("container on two networks: only the watched network's addresses and aliases")
	{
		T_EQ_INT(inspect_file("inspect_multi.json", "glued_net", &c), 0);
		T_ASSERT(docker_container_published(&c), "published");
		T_EQ_INT(c.entry.n_addrs, 2);
		T_ASSERT(has_addr(&c.entry, "172.30.0.4"), "glued_net v4");
		T_ASSERT(!has_addr(&c.entry, "172.31.0.2"), "not the other_net address");
		T_ASSERT(!has_name(&c.entry, "multi-other"), "not other_net's alias");
		T_ASSERT(has_name(&c.entry, "multi"), "name");
	}
	T_CASE("the same container watched through other_net: v4 only, its alias")
	{
		T_EQ_INT(inspect_file("inspect_multi.json", "other_net", &c), 0);
		T_EQ_INT(c.entry.n_addrs, 1);
		T_ASSERT(has_addr(&c.entry, "172.31.0.2"), "other_net v4");
		T_ASSERT(has_name(&c.entry, "multi-other"), "other_net alias");
	}
	T_CASE("container on another network only is not on glued_net and not published")
	{
		T_EQ_INT(inspect_file("inspect_other.json", "glued_net", &c), 0);
		T_ASSERT(c.running, "running");
		T_ASSERT(!c.on_network, "not on glued_net");
		T_EQ_INT(c.entry.n_names, 0);
		T_ASSERT(!docker_container_published(&c), "not published");
	}
	T_CASE("404 body and wrong shapes are rejected, never crash")
	{
		static const char *const bad[] = {
		    "{\"message\":\"No such container: nosuch\"}",
		    "[]",
		    "null",
		    "{\"Id\":5,\"Name\":\"/x\"}",
		    "{\"Id\":\"" WEB_ID "\"}",
		    "{\"Id\":\"" WEB_ID "x\",\"Name\":\"/x\"}",
		    "{\"Id\":\"../../etc\",\"Name\":\"/x\"}",
		    "{\"Id\":\"" WEB_ID "\",\"Name\":[]}",
		    "{\"Id\":\"" WEB_ID "\",\"Name\":\"/x\"",
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			T_EQ_INT(docker_json_parse_inspect(bad[i], strlen(bad[i]), "glued_net", &c),
				 GLUED_EMALF);
	}
	T_CASE("wrong-typed optional fields are ignored, not trusted")
	{
		const char *b =
		    "{\"Id\":\"" WEB_ID "\",\"Name\":\"/w\",\"State\":{\"Running\":\"yes\"},"
		    "\"NetworkSettings\":{\"Networks\":{\"n\":{\"IPAddress\":\"fd00::1\","
		    "\"GlobalIPv6Address\":\"10.0.0.1\",\"Aliases\":[1,null,\"ok\",\"a b\","
		    "\"\",\"xn--\\u00e9\"],\"DNSNames\":\"nope\"}}}}";

		T_EQ_INT(docker_json_parse_inspect(b, strlen(b), "n", &c), 0);
		T_ASSERT(!c.running, "Running must be a boolean true");
		T_EQ_INT(c.entry.n_addrs, 0); /* families swapped: neither accepted */
		T_EQ_INT(c.entry.n_names, 2); /* w, ok */
		T_EQ_INT(c.names_dropped, 5);
	}
	T_CASE("a NUL inside a string is rejected; an over-long name is a limit")
	{
		const char *nul = "{\"Id\":\"" WEB_ID "\",\"Name\":\"/a\\u0000b\"}";
		char big[600];

		T_EQ_INT(docker_json_parse_inspect(nul, strlen(nul), "n", &c), GLUED_EMALF);
		snprintf(big, sizeof(big), "{\"Id\":\"%s\",\"Name\":\"/%0300d\"}", WEB_ID, 0);
		T_EQ_INT(docker_json_parse_inspect(big, strlen(big), "n", &c), GLUED_ELIMIT);
	}
	T_CASE("SandboxKey: the netns file the container fast path enters")
	{
		T_EQ_INT(inspect_file("inspect_web.json", "glued_net", &c), 0);
		T_ASSERT(strncmp(c.sandbox, "/tmp/glued-rec.", 15) == 0 &&
			     strstr(c.sandbox, "/x/netns/") != NULL,
			 "web's SandboxKey kept, got \"%s\"", c.sandbox);
	}
	T_CASE("SandboxKey: empty, relative, '..', control bytes, over-long or not a string: none")
	{
		static const char *const bad[] = {
		    "\"\"",
		    "\"netns/abc\"",
		    "\"/var/run/docker/netns/../../../etc/shadow\"",
		    "\"/var/run/..\"",
		    "\"/var/run/docker/netns/a\\nb\"",
		    "\"/\"",
		    "42",
		    "null",
		};
		char b[1024], big[400];

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(b, sizeof(b),
				 "{\"Id\":\"%s\",\"Name\":\"/w\",\"NetworkSettings\":{"
				 "\"SandboxKey\":%s}}",
				 WEB_ID, bad[i]);
			T_EQ_INT(docker_json_parse_inspect(b, strlen(b), "n", &c), 0);
			T_ASSERT(c.sandbox[0] == 0, "%s: rejected, got \"%s\"", bad[i], c.sandbox);
		}
		memset(big, 'a', sizeof(big));
		big[0] = '/';
		snprintf(b, sizeof(b),
			 "{\"Id\":\"%s\",\"Name\":\"/w\",\"NetworkSettings\":{"
			 "\"SandboxKey\":\"%.*s\"}}",
			 WEB_ID, DOCKER_SANDBOX_MAX + 1, big);
		T_EQ_INT(docker_json_parse_inspect(b, strlen(b), "n", &c), 0);
		T_ASSERT(c.sandbox[0] == 0, "256 bytes: over the bound");
		snprintf(b, sizeof(b),
			 "{\"Id\":\"%s\",\"Name\":\"/w\",\"NetworkSettings\":{"
			 "\"SandboxKey\":\"%.*s\"}}",
			 WEB_ID, DOCKER_SANDBOX_MAX, big);
		T_EQ_INT(docker_json_parse_inspect(b, strlen(b), "n", &c), 0);
		T_EQ_INT(strlen(c.sandbox), DOCKER_SANDBOX_MAX);
		T_ASSERT(docker_sandbox_valid("/run/netns/a..b", 15), "'..' inside a name is fine");
		T_ASSERT(docker_sandbox_valid("/run/netns/..a", 14), "'..a' is a name");
	}
	T_CASE("docker_id_valid: exactly 64 lowercase hex digits (IDs reach URLs and pin paths)")
	{
		char id[DOCKER_ID_MAX + 2];

		T_ASSERT(docker_id_valid(WEB_ID, DOCKER_ID_MAX), "a real ID");
		T_ASSERT(!docker_id_valid(WEB_ID, DOCKER_ID_MAX - 1), "63 digits");
		snprintf(id, sizeof(id), "%s0", WEB_ID);
		T_ASSERT(!docker_id_valid(id, DOCKER_ID_MAX + 1), "65 digits");
		snprintf(id, sizeof(id), "%s", WEB_ID);
		id[5] = 'A';
		T_ASSERT(!docker_id_valid(id, DOCKER_ID_MAX), "uppercase");
		id[5] = 'g';
		T_ASSERT(!docker_id_valid(id, DOCKER_ID_MAX), "not hex");
		id[5] = '.';
		T_ASSERT(!docker_id_valid(id, DOCKER_ID_MAX), "a dot");
		T_ASSERT(!docker_id_valid("", 0), "empty");
	}
	T_CASE("names beyond the per-entry cap are dropped and counted")
	{
		char b[4096];
		int off = snprintf(b, sizeof(b),
				   "{\"Id\":\"%s\",\"Name\":\"/x\",\"State\":{\"Running\":"
				   "true},\"NetworkSettings\":{\"Networks\":{\"n\":{"
				   "\"IPAddress\":\"10.1.2.3\",\"Aliases\":[",
				   WEB_ID);
		for (int i = 0; i < 40; i++)
			off += snprintf(b + off, sizeof(b) - (size_t)off, "%s\"a%d\"", i ? "," : "",
					i);
		snprintf(b + off, sizeof(b) - (size_t)off, "]}}}}");
		T_EQ_INT(docker_json_parse_inspect(b, strlen(b), "n", &c), 0);
		T_EQ_INT(c.entry.n_names, TABLE_ENTRY_NAMES_MAX);
		T_EQ_INT(c.names_dropped, 41 - TABLE_ENTRY_NAMES_MAX);
		T_ASSERT(docker_container_published(&c), "published");
	}
}

/* Every line of the recorded action stream, with what it must parse to. */
static void test_events(void)
{
	static const struct {
		enum docker_event_type type;
		const char *action;
		enum docker_reaction react;
	} want[] = {
	    {DOCKER_EV_CONTAINER, "create", DOCKER_REACT_NONE},
	    {DOCKER_EV_NETWORK, "connect", DOCKER_REACT_INSPECT},
	    {DOCKER_EV_CONTAINER, "start", DOCKER_REACT_INSPECT},
	    {DOCKER_EV_CONTAINER, "rename", DOCKER_REACT_INSPECT},
	    {DOCKER_EV_NETWORK, "disconnect", DOCKER_REACT_WITHDRAW},
	    {DOCKER_EV_NETWORK, "disconnect", DOCKER_REACT_WITHDRAW},
	    {DOCKER_EV_NETWORK, "connect", DOCKER_REACT_INSPECT},
	    {DOCKER_EV_CONTAINER, "kill", DOCKER_REACT_NONE},
	    {DOCKER_EV_CONTAINER, "kill", DOCKER_REACT_NONE},
	    {DOCKER_EV_CONTAINER, "die", DOCKER_REACT_WITHDRAW},
	    {DOCKER_EV_NETWORK, "disconnect", DOCKER_REACT_WITHDRAW},
	    {DOCKER_EV_CONTAINER, "stop", DOCKER_REACT_NONE},
	    {DOCKER_EV_NETWORK, "connect", DOCKER_REACT_INSPECT},
	    {DOCKER_EV_CONTAINER, "start", DOCKER_REACT_INSPECT},
	    {DOCKER_EV_CONTAINER, "kill", DOCKER_REACT_NONE},
	    {DOCKER_EV_CONTAINER, "die", DOCKER_REACT_WITHDRAW},
	    {DOCKER_EV_NETWORK, "disconnect", DOCKER_REACT_WITHDRAW},
	    {DOCKER_EV_CONTAINER, "destroy", DOCKER_REACT_WITHDRAW},
	    {DOCKER_EV_CONTAINER, "create", DOCKER_REACT_NONE},
	    {DOCKER_EV_NETWORK, "connect", DOCKER_REACT_INSPECT},
	    {DOCKER_EV_CONTAINER, "start", DOCKER_REACT_INSPECT},
	    {DOCKER_EV_CONTAINER, "kill", DOCKER_REACT_NONE},
	    {DOCKER_EV_CONTAINER, "die", DOCKER_REACT_WITHDRAW},
	    {DOCKER_EV_NETWORK, "disconnect", DOCKER_REACT_WITHDRAW},
	    {DOCKER_EV_CONTAINER, "destroy", DOCKER_REACT_WITHDRAW},
	    {DOCKER_EV_NETWORK, "create", DOCKER_REACT_NONE}, /* tmp_net, not ours */
	    {DOCKER_EV_NETWORK, "destroy", DOCKER_REACT_NONE},
	};
	size_t len, i = 0;
	char *buf = slurp("events_actions.jsonl", &len);
	char *line = buf, *nl;
	struct docker_event ev;

	T_CASE("every recorded event line parses to the expected type, action and reaction")
	{
		while (line < buf + len && (nl = memchr(line, '\n', (size_t)(buf + len - line)))) {
			T_ASSERT(i < sizeof(want) / sizeof(want[0]), "more lines than expected");
			if (i >= sizeof(want) / sizeof(want[0]))
				break;
			T_EQ_INT(docker_json_parse_event(line, (size_t)(nl - line), &ev), 0);
			T_EQ_INT(ev.type, want[i].type);
			T_EQ_STR(ev.action, want[i].action);
			T_ASSERT(docker_event_react(&ev, "glued_net", NET_ID) == want[i].react,
				 "line %zu (%s) reaction %d, want %d", i + 1, ev.action,
				 docker_event_react(&ev, "glued_net", NET_ID), want[i].react);
			if (i < 18)
				T_EQ_STR(ev.container_id, EV_ID);
			if (ev.type == DOCKER_EV_NETWORK && i < 25) {
				T_EQ_STR(ev.network_name, "glued_net");
				T_EQ_STR(ev.network_id, NET_ID);
			}
			line = nl + 1;
			i++;
		}
		T_EQ_INT(i, sizeof(want) / sizeof(want[0]));
	}
	T_CASE("the filtered stream (type=container,network) is the same lines")
	{
		size_t flen;
		char *f = slurp("events_filtered.jsonl", &flen);

		T_ASSERT(flen == len && memcmp(f, buf, len) == 0, "same bytes");
		free(f);
	}
	free(buf);

	T_CASE("rename carries the new and the old name without '/'")
	{
		const char *r =
		    "{\"Type\":\"container\",\"Action\":\"rename\",\"Actor\":{\"ID\":\"" EV_ID
		    "\",\"Attributes\":{\"name\":\"ev2\",\"oldName\":\"/ev\"}}}";

		T_EQ_INT(docker_json_parse_event(r, strlen(r), &ev), 0);
		T_EQ_STR(ev.name, "ev2");
		T_EQ_STR(ev.old_name, "ev");
	}
	T_CASE("watched network matched by ID when the name is absent; create/destroy → resync")
	{
		const char *d =
		    "{\"Type\":\"network\",\"Action\":\"destroy\",\"Actor\":{\"ID\":\"" NET_ID
		    "\",\"Attributes\":{}}}";
		const char *c =
		    "{\"Type\":\"network\",\"Action\":\"create\",\"Actor\":{\"ID\":\"" DB_ID
		    "\",\"Attributes\":{\"name\":\"glued_net\"}}}";

		T_EQ_INT(docker_json_parse_event(d, strlen(d), &ev), 0);
		T_EQ_INT(docker_event_react(&ev, "glued_net", NET_ID), DOCKER_REACT_RESYNC);
		T_EQ_INT(docker_event_react(&ev, "glued_net", ""), DOCKER_REACT_NONE);
		T_EQ_INT(docker_json_parse_event(c, strlen(c), &ev), 0);
		T_EQ_INT(docker_event_react(&ev, "glued_net", ""), DOCKER_REACT_RESYNC);
	}
	T_CASE("disconnect from another network is not ours")
	{
		const char *d =
		    "{\"Type\":\"network\",\"Action\":\"disconnect\",\"Actor\":{\"ID\":\"" DB_ID
		    "\",\"Attributes\":{\"name\":\"other_net\",\"container\":\"" EV_ID "\"}}}";

		T_EQ_INT(docker_json_parse_event(d, strlen(d), &ev), 0);
		T_EQ_INT(docker_event_react(&ev, "glued_net", NET_ID), DOCKER_REACT_NONE);
	}
	T_CASE("image events and exec/health actions are other or ignored")
	{
		const char *im =
		    "{\"Type\":\"image\",\"Action\":\"pull\",\"Actor\":{\"ID\":\"bb\"}}";
		const char *hx = "{\"Type\":\"container\",\"Action\":\"health_status: healthy\","
				 "\"Actor\":{\"ID\":\"" EV_ID "\"}}";

		T_EQ_INT(docker_json_parse_event(im, strlen(im), &ev), 0);
		T_EQ_INT(ev.type, DOCKER_EV_OTHER);
		T_EQ_INT(docker_event_react(&ev, "glued_net", NET_ID), DOCKER_REACT_NONE);
		T_EQ_INT(docker_json_parse_event(hx, strlen(hx), &ev), 0);
		T_EQ_INT(docker_event_react(&ev, "glued_net", NET_ID), DOCKER_REACT_NONE);
	}
	T_CASE("malformed event lines are rejected")
	{
		static const char *const bad[] = {
		    "",
		    "{",
		    "[]",
		    "{\"Type\":1,\"Action\":\"start\"}",
		    "{\"Type\":\"container\"}",
		    "{\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{\"ID\":\"short\"}}",
		    "{\"Type\":\"container\",\"Action\":\"start\",\"Actor\":[]}",
		};
		for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
			T_EQ_INT(docker_json_parse_event(bad[k], strlen(bad[k]), &ev), GLUED_EMALF);
		T_EQ_INT(docker_json_parse_event("{}", (size_t)DOCKER_EVENT_LINE_MAX + 1, &ev),
			 GLUED_ELIMIT);
	}
	T_CASE("an over-long action is truncated, a network event without container is kept")
	{
		char b[512];
		const char *n =
		    "{\"Type\":\"network\",\"Action\":\"connect\",\"Actor\":{\"ID\":\"" NET_ID
		    "\",\"Attributes\":{\"container\":5}}}";

		snprintf(b, sizeof(b), "{\"Type\":\"other\",\"Action\":\"%0200d\"}", 0);
		T_EQ_INT(docker_json_parse_event(b, strlen(b), &ev), 0);
		T_EQ_INT(strlen(ev.action), DOCKER_ACTION_MAX);
		T_EQ_INT(docker_json_parse_event(n, strlen(n), &ev), 0);
		T_EQ_STR(ev.container_id, "");
		T_EQ_INT(docker_event_react(&ev, "glued_net", NET_ID), DOCKER_REACT_NONE);
	}
}

static void test_network(void)
{
	struct docker_network n, m;
	size_t len;
	char *buf = slurp("network_glued_net.json", &len);
	char text[ADDR_STRLEN];
	struct glued_addr gw;

	T_CASE("glued_net: ID, bridge driver, v4 and v6 subnets, default bridge name")
	{
		T_EQ_INT(docker_json_parse_network(buf, len, &n), 0);
		T_EQ_STR(n.id, NET_ID);
		T_EQ_STR(n.name, "glued_net");
		T_EQ_STR(n.driver, "bridge");
		T_EQ_STR(n.bridge, "br-ef114faba4a7");
		T_EQ_INT(n.n_subnets, 2);
		T_EQ_STR(addr_str(&n.subnets[0].cidr.addr, text, sizeof(text)), "172.30.0.0");
		T_EQ_INT(n.subnets[0].cidr.prefix, 16);
		T_EQ_STR(addr_str(&n.subnets[1].cidr.addr, text, sizeof(text)), "fd00:dead:beef::");
		T_EQ_INT(n.subnets[1].cidr.prefix, 64);
		T_EQ_INT(n.subnets[0].gateway.family, 0); /* 20.10 omits it */
	}
	T_CASE("gateways learned from inspect fill the matching subnet once")
	{
		m = n;
		T_ASSERT(addr_parse(&gw, "172.30.0.1") == 0, "parse");
		T_ASSERT(docker_network_learn_gateway(&n, &gw), "learned v4");
		T_ASSERT(!docker_network_learn_gateway(&n, &gw), "second time no change");
		T_ASSERT(addr_eq(&n.subnets[0].gateway, &gw), "v4 gateway");
		T_ASSERT(!docker_network_eq(&n, &m), "differs from before");
		T_ASSERT(addr_parse(&gw, "10.9.9.9") == 0, "parse");
		T_ASSERT(!docker_network_learn_gateway(&n, &gw), "outside every subnet");
	}
	free(buf);

	buf = slurp("network_other_net.json", &len);
	T_CASE("other_net: bridge name from com.docker.network.bridge.name")
	{
		T_EQ_INT(docker_json_parse_network(buf, len, &n), 0);
		T_EQ_STR(n.bridge, "gluedother0");
		T_EQ_INT(n.n_subnets, 1);
	}
	free(buf);

	buf = slurp("network_404.json", &len);
	T_CASE("network 404 body is rejected and its message extracted")
	{
		char msg[64];

		T_EQ_INT(docker_json_parse_network(buf, len, &n), GLUED_EMALF);
		docker_json_error_message(buf, len, msg, sizeof(msg));
		T_EQ_STR(msg, "network nosuch not found");
		docker_json_error_message("\"x\"", 3, msg, sizeof(msg));
		T_EQ_STR(msg, "");
		docker_json_error_message("{\"message\":\"a\\nb\"}", 18, msg, sizeof(msg));
		T_EQ_STR(msg, "a?b");
	}
	free(buf);

	T_CASE("explicit gateways, bad subnets skipped, gateway outside its subnet dropped")
	{
		const char *b =
		    "{\"Id\":\"" NET_ID "\",\"Name\":\"n\",\"Driver\":\"macvlan\","
		    "\"IPAM\":{\"Config\":[{\"Subnet\":\"10.0.0.0/24\",\"Gateway\":\"10.0.0.254\"},"
		    "{\"Subnet\":\"bogus\"},{\"Subnet\":7},5,{\"Subnet\":\"10.1.0.0/24\","
		    "\"Gateway\":\"10.2.0.1\"}]},\"Options\":{\"com.docker.network.bridge.name\":"
		    "\"ignored\"}}";

		T_EQ_INT(docker_json_parse_network(b, strlen(b), &n), 0);
		T_EQ_INT(n.n_subnets, 2);
		T_EQ_STR(addr_str(&n.subnets[0].gateway, text, sizeof(text)), "10.0.0.254");
		T_EQ_INT(n.subnets[1].gateway.family, 0);
		T_EQ_STR(n.bridge, ""); /* not a bridge network */
	}
	T_CASE("a bridge name too long for an interface falls back to br-<id>")
	{
		const char *b =
		    "{\"Id\":\"" NET_ID "\",\"Name\":\"n\",\"Driver\":\"bridge\",\"Options\":"
		    "{\"com.docker.network.bridge.name\":\"a-very-long-bridge-name\"}}";

		T_EQ_INT(docker_json_parse_network(b, strlen(b), &n), 0);
		T_EQ_STR(n.bridge, "br-ef114faba4a7");
		T_EQ_INT(n.n_subnets, 0);
	}
}

static void test_version(void)
{
	size_t len;
	char *buf = slurp("version.json", &len);
	unsigned maj = 0, min = 0;

	T_CASE("recorded /version says API 1.41")
	{
		T_EQ_INT(docker_json_parse_version(buf, len, &maj, &min), 0);
		T_EQ_INT(maj, 1);
		T_EQ_INT(min, 41);
	}
	free(buf);
	T_CASE("version strings that are not N.N are rejected")
	{
		static const char *const bad[] = {
		    "{\"ApiVersion\":1.41}",
		    "{\"ApiVersion\":\"1\"}",
		    "{\"ApiVersion\":\"1.41x\"}",
		    "{\"ApiVersion\":\".41\"}",
		    "{\"ApiVersion\":\"99999999999.1\"}",
		    "{}",
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			T_EQ_INT(docker_json_parse_version(bad[i], strlen(bad[i]), &maj, &min),
				 GLUED_EMALF);
	}
	T_CASE("API version clamped to 1.24 .. 1.44")
	{
		maj = 1, min = 47;
		docker_api_clamp(&maj, &min);
		T_ASSERT(maj == 1 && min == 44, "1.47 -> 1.44, got %u.%u", maj, min);
		maj = 2, min = 0;
		docker_api_clamp(&maj, &min);
		T_ASSERT(maj == 1 && min == 44, "2.0 -> 1.44, got %u.%u", maj, min);
		maj = 1, min = 12;
		docker_api_clamp(&maj, &min);
		T_ASSERT(maj == 1 && min == 24, "1.12 -> 1.24, got %u.%u", maj, min);
		maj = 1, min = 41;
		docker_api_clamp(&maj, &min);
		T_ASSERT(maj == 1 && min == 41, "1.41 kept, got %u.%u", maj, min);
	}
}

int main(void)
{
	test_list();
	test_inspect();
	test_events();
	test_network();
	test_version();
	return t_summary();
}
