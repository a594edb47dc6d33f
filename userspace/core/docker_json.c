/* Docker Engine API JSON → records: the parsing half of the Docker watcher.
 *
 * Owns the mapping from Engine API bodies to struct docker_container,
 * docker_event, docker_network and the API version, and the decision of what
 * an event means for the watched network. It must never do I/O, log, read a
 * clock or trust a field's type: bodies come from a socket whose other end
 * may be a different engine version, a proxy or garbage, so each field is
 * fetched through a helper that checks its type and length.
 */
#include "core/docker_json.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* --- field helpers -------------------------------------------------------- */

static int load(json_t **out, const char *buf, size_t len, size_t max)
{
	json_error_t jerr;

	*out = NULL;
	if (!buf)
		return GLUED_EMALF;
	if (len > max)
		return GLUED_ELIMIT;
	/* Default flags: "\u0000" inside strings is rejected, so every string
	 * we copy is a C string. */
	*out = json_loadb(buf, len, 0, &jerr);
	if (!*out)
		return json_error_code(&jerr) == json_error_out_of_memory ? -ENOMEM : GLUED_EMALF;
	return 0;
}

/* obj[key] if obj is an object and the member is a string; else NULL. */
static const char *get_str(const json_t *obj, const char *key, size_t *len)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	if (!json_is_string(v))
		return NULL;
	if (len)
		*len = json_string_length(v);
	return json_string_value(v);
}

static const json_t *get_obj(const json_t *obj, const char *key)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	return json_is_object(v) ? v : NULL;
}

static const json_t *get_arr(const json_t *obj, const char *key)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	return json_is_array(v) ? v : NULL;
}

/* Copy a string of at most size-1 bytes; longer is GLUED_ELIMIT. */
static int copy_str(char *dst, size_t size, const char *s, size_t len)
{
	if (len >= size)
		return GLUED_ELIMIT;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

/* Copy, truncating (for text that only labels something, like an action). */
static void copy_trunc(char *dst, size_t size, const char *s, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

static void copy_opt(char *dst, size_t size, const json_t *obj, const char *key)
{
	size_t len;
	const char *s = get_str(obj, key, &len);

	dst[0] = '\0';
	if (s && len < size)
		copy_str(dst, size, s, len);
}

/* Anything else never reaches a URL or a pin path. */
bool docker_id_valid(const char *s, size_t len)
{
	if (len != DOCKER_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static void copy_id(char *dst, const char *s, size_t len)
{
	dst[0] = '\0';
	if (s && docker_id_valid(s, len))
		copy_str(dst, DOCKER_ID_MAX + 1, s, len);
}

/* A name we publish: one DNS label of letters, digits, '-' and '_' (compose
 * names use '_'). Stricter than table_name_valid() on purpose: what Docker
 * sends is untrusted and the table must never see '.', spaces or bytes
 * outside ASCII. */
static bool label_valid(const char *s, size_t len)
{
	if (len == 0 || len > TABLE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return false;
	}
	return true;
}

static void add_name(struct docker_container *c, const char *s, size_t len)
{
	struct table_entry *e = &c->entry;
	char low[TABLE_NAME_MAX + 1];

	if (!label_valid(s, len)) {
		c->names_dropped++;
		return;
	}
	for (size_t i = 0; i < len; i++)
		low[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
	low[len] = '\0';
	for (size_t i = 0; i < e->n_names; i++) {
		if (strcmp(e->names[i], low) == 0) {
			c->names_dropped++;
			return;
		}
	}
	if (e->n_names == TABLE_ENTRY_NAMES_MAX) {
		c->names_dropped++;
		return;
	}
	memcpy(e->names[e->n_names++], low, len + 1);
}

static void add_names(struct docker_container *c, const json_t *arr)
{
	size_t i;
	const json_t *v;

	json_array_foreach(arr, i, v)
	{
		if (json_is_string(v))
			add_name(c, json_string_value(v), json_string_length(v));
		else
			c->names_dropped++;
	}
}

/* An address field: "" or absent = none; garbage = none (not an error: one
 * bad field must not hide the container's other address). */
static bool get_addr(const json_t *obj, const char *key, int family, struct glued_addr *a)
{
	size_t len;
	const char *s = get_str(obj, key, &len);

	memset(a, 0, sizeof(*a));
	if (!s || len == 0 || len >= ADDR_STRLEN)
		return false;
	if (addr_parse(a, s) != 0 || a->family != family) {
		memset(a, 0, sizeof(*a));
		return false;
	}
	return true;
}

/* The path is opened by glued (root, in its mount namespace) and never
 * joined to anything: absolute, printable, and no ".." component that
 * could walk out of the engine's netns directory. */
bool docker_sandbox_valid(const char *s, size_t len)
{
	if (len < 2 || len > DOCKER_SANDBOX_MAX || s[0] != '/')
		return false;
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
		if (s[i] == '.' && s[i - 1] == '/' && i + 1 < len && s[i + 1] == '.' &&
		    (i + 2 == len || s[i + 2] == '/'))
			return false;
	}
	return true;
}

static void get_sandbox(const json_t *settings, char *dst)
{
	size_t len;
	const char *s = get_str(settings, "SandboxKey", &len);

	dst[0] = '\0';
	if (s && docker_sandbox_valid(s, len))
		copy_str(dst, DOCKER_SANDBOX_MAX + 1, s, len);
}

/* --- list ------------------------------------------------------------------ */

int docker_json_parse_list(const char *buf, size_t len, docker_id_fn fn, void *ctx)
{
	json_t *root;
	const json_t *v;
	size_t i;
	int err = load(&root, buf, len, DOCKER_BODY_MAX);

	if (err)
		return err;
	if (!json_is_array(root)) {
		err = GLUED_EMALF;
		goto out;
	}
	if (json_array_size(root) > DOCKER_LIST_MAX) {
		err = GLUED_ELIMIT;
		goto out;
	}
	json_array_foreach(root, i, v)
	{
		size_t n;
		const char *id = get_str(v, "Id", &n);
		char idbuf[DOCKER_ID_MAX + 1];

		if (!id || !docker_id_valid(id, n))
			continue;
		memcpy(idbuf, id, n + 1);
		err = fn(ctx, idbuf);
		if (err)
			break;
	}
out:
	json_decref(root);
	return err;
}

/* A body whose root has a valid "Id" and a "Name" (a container or a
 * network): the parsed root, to be released by the caller, and both
 * strings. On error nothing is left to release. */
static int load_named(json_t **root, const char *buf, size_t len, const char **id, size_t *id_len,
		      const char **name, size_t *name_len)
{
	int err = load(root, buf, len, DOCKER_BODY_MAX);

	if (err)
		return err;
	*id = get_str(*root, "Id", id_len);
	*name = get_str(*root, "Name", name_len);
	if (!*id || !docker_id_valid(*id, *id_len) || !*name) {
		json_decref(*root);
		return GLUED_EMALF;
	}
	return 0;
}

/* --- inspect --------------------------------------------------------------- */

int docker_json_parse_inspect(const char *buf, size_t len, const char *network,
			      struct docker_container *c)
{
	json_t *root;
	const json_t *net, *state;
	const char *id, *name;
	size_t id_len, name_len;
	struct glued_addr a;
	int err = load_named(&root, buf, len, &id, &id_len, &name, &name_len);

	memset(c, 0, sizeof(*c));
	if (err)
		return err;
	memcpy(c->entry.owner, id, id_len + 1);
	if (name_len && name[0] == '/') {
		name++;
		name_len--;
	}
	err = copy_str(c->name, sizeof(c->name), name, name_len);
	if (err)
		goto out;

	state = get_obj(root, "State");
	c->running = json_is_true(json_object_get(state, "Running"));

	get_sandbox(get_obj(root, "NetworkSettings"), c->sandbox);
	net = get_obj(get_obj(get_obj(root, "NetworkSettings"), "Networks"), network);
	if (net) {
		if (get_addr(net, "IPAddress", AF_INET, &a))
			c->entry.addrs[c->entry.n_addrs++] = a;
		if (get_addr(net, "GlobalIPv6Address", AF_INET6, &a))
			c->entry.addrs[c->entry.n_addrs++] = a;
		get_addr(net, "Gateway", AF_INET, &c->gw4);
		get_addr(net, "IPv6Gateway", AF_INET6, &c->gw6);
		c->on_network = c->entry.n_addrs > 0;
		add_name(c, c->name, strlen(c->name));
		add_names(c, get_arr(net, "Aliases"));
		add_names(c, get_arr(net, "DNSNames"));
	}
out:
	json_decref(root);
	return err;
}

bool docker_container_published(const struct docker_container *c)
{
	return c->running && c->on_network && c->entry.n_names > 0 && c->entry.n_addrs > 0;
}

/* --- events ---------------------------------------------------------------- */

int docker_json_parse_event(const char *buf, size_t len, struct docker_event *ev)
{
	json_t *root;
	const json_t *actor, *attrs;
	const char *type, *action, *s;
	size_t n;
	bool pod_net;
	int err = load(&root, buf, len, DOCKER_EVENT_LINE_MAX);

	memset(ev, 0, sizeof(*ev));
	if (err)
		return err;
	type = get_str(root, "Type", NULL);
	action = get_str(root, "Action", &n);
	if (!type || !action) {
		err = GLUED_EMALF;
		goto out;
	}
	copy_trunc(ev->action, sizeof(ev->action), action, n);
	actor = get_obj(root, "Actor");
	attrs = get_obj(actor, "Attributes");

	if (strcmp(type, "container") == 0) {
		ev->type = DOCKER_EV_CONTAINER;
		s = get_str(actor, "ID", &n);
		copy_id(ev->container_id, s, n);
		copy_opt(ev->name, sizeof(ev->name), attrs, "name");
		s = get_str(attrs, "oldName", &n);
		if (s && n && s[0] == '/') {
			s++;
			n--;
		}
		if (s && n < sizeof(ev->old_name))
			copy_str(ev->old_name, sizeof(ev->old_name), s, n);
		if (!ev->container_id[0])
			err = GLUED_EMALF;
	} else if (strcmp(type, "network") == 0) {
		ev->type = DOCKER_EV_NETWORK;
		s = get_str(attrs, "container", &n);
		/* Podman names the network in "network" (5.x; 4.x nowhere) and
		 * uses "name" for the container's name, or leaves it "". */
		pod_net = json_object_get(attrs, "network") != NULL;
		if (!json_object_get(attrs, "container") &&
		    (strcmp(ev->action, "connect") == 0 || strcmp(ev->action, "disconnect") == 0)) {
			/* Podman: no "container" (Docker always sends it, so a
			 * wrong type there is Docker's and stays unusable), and
			 * Actor.ID is the container, not the network. */
			s = get_str(actor, "ID", &n);
			copy_id(ev->container_id, s, n);
			copy_opt(ev->name, sizeof(ev->name), attrs, "name");
			copy_opt(ev->network_name, sizeof(ev->network_name), attrs, "network");
			ev->network_unnamed = !ev->network_name[0];
			goto out;
		}
		copy_id(ev->container_id, s, n);
		s = get_str(actor, "ID", &n);
		copy_id(ev->network_id, s, n);
		copy_opt(ev->network_name, sizeof(ev->network_name), attrs,
			 pod_net ? "network" : "name");
	} else {
		ev->type = DOCKER_EV_OTHER;
	}
out:
	json_decref(root);
	return err;
}

static bool is_action(const struct docker_event *ev, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(ev->action, *list) == 0)
			return true;
	return false;
}

static bool is_watched(const struct docker_event *ev, const char *net_name, const char *net_id)
{
	if (ev->network_name[0] && strcmp(ev->network_name, net_name) == 0)
		return true;
	return net_id && net_id[0] && ev->network_id[0] && strcmp(ev->network_id, net_id) == 0;
}

enum docker_reaction docker_event_react(const struct docker_event *ev, const char *net_name,
					const char *net_id)
{
	/* Container actions after which what inspect says may have changed for
	 * DNS. "create" is not here: a created container is not running yet and
	 * its "network connect" and "start" follow. "die" is the process gone:
	 * withdrawn at once (a restart's "start" publishes it again). "kill"
	 * and "stop" change nothing DNS sees (a signal the container survives,
	 * or a stop whose "die" came first) and are not inspected: an inspect
	 * waits while the engine holds the container (kill, cleanup, network
	 * teardown), and every event behind it waits too, the "die" included;
	 * that cost removals up to ~170 ms. */
	static const char *const inspect[] = {
	    "start", "restart", "rename", "unpause", "update", NULL,
	};
	static const char *const net_changed[] = {"create", "destroy", "remove", NULL};

	switch (ev->type) {
	case DOCKER_EV_CONTAINER:
		if (!ev->container_id[0])
			return DOCKER_REACT_NONE;
		/* "remove" is Podman's "destroy". */
		if (strcmp(ev->action, "destroy") == 0 || strcmp(ev->action, "remove") == 0 ||
		    strcmp(ev->action, "die") == 0)
			return DOCKER_REACT_WITHDRAW;
		return is_action(ev, inspect) ? DOCKER_REACT_INSPECT : DOCKER_REACT_NONE;
	case DOCKER_EV_NETWORK:
		/* Which network Podman 4 does not say: inspect tells whether the
		 * container is on the watched one now. */
		if (ev->network_unnamed)
			return ev->container_id[0] ? DOCKER_REACT_INSPECT : DOCKER_REACT_NONE;
		if (!is_watched(ev, net_name, net_id))
			return DOCKER_REACT_NONE;
		if (is_action(ev, net_changed))
			return DOCKER_REACT_RESYNC;
		if (!ev->container_id[0])
			return DOCKER_REACT_NONE;
		if (strcmp(ev->action, "disconnect") == 0)
			return DOCKER_REACT_WITHDRAW;
		if (strcmp(ev->action, "connect") == 0)
			return DOCKER_REACT_INSPECT;
		return DOCKER_REACT_NONE;
	default:
		return DOCKER_REACT_NONE;
	}
}

/* --- network --------------------------------------------------------------- */

int docker_json_parse_network(const char *buf, size_t len, struct docker_network *n)
{
	json_t *root;
	const json_t *cfg, *v;
	const char *id, *name, *bridge;
	size_t id_len, name_len, blen, i;
	int err = load_named(&root, buf, len, &id, &id_len, &name, &name_len);

	memset(n, 0, sizeof(*n));
	if (err)
		return err;
	memcpy(n->id, id, id_len + 1);
	err = copy_str(n->name, sizeof(n->name), name, name_len);
	if (err)
		goto out;
	copy_opt(n->driver, sizeof(n->driver), root, "Driver");

	cfg = get_arr(get_obj(root, "IPAM"), "Config");
	json_array_foreach(cfg, i, v)
	{
		struct docker_subnet *sn = &n->subnets[n->n_subnets];
		size_t slen;
		const char *s = get_str(v, "Subnet", &slen);

		if (n->n_subnets == DOCKER_NET_SUBNETS_MAX)
			break;
		if (!s || slen >= ADDR_STRLEN + 4 || cidr_parse(&sn->cidr, s) != 0) {
			memset(sn, 0, sizeof(*sn));
			continue;
		}
		if (get_addr(v, "Gateway", sn->cidr.addr.family, &sn->gateway) &&
		    !cidr_contains(&sn->cidr, &sn->gateway))
			memset(&sn->gateway, 0, sizeof(sn->gateway));
		n->n_subnets++;
	}

	if (strcmp(n->driver, "bridge") == 0) {
		bridge = get_str(get_obj(root, "Options"), "com.docker.network.bridge.name", &blen);
		if (bridge && blen > 0 && blen <= DOCKER_IFNAME_MAX && !memchr(bridge, '/', blen))
			copy_str(n->bridge, sizeof(n->bridge), bridge, blen);
		else
			snprintf(n->bridge, sizeof(n->bridge), "br-%.12s", n->id);
	}
out:
	json_decref(root);
	return err;
}

bool docker_network_learn_gateway(struct docker_network *n, const struct glued_addr *gw)
{
	if (!gw->family)
		return false;
	for (size_t i = 0; i < n->n_subnets; i++) {
		struct docker_subnet *sn = &n->subnets[i];

		if (!sn->gateway.family && cidr_contains(&sn->cidr, gw)) {
			sn->gateway = *gw;
			return true;
		}
	}
	return false;
}

bool docker_network_eq(const struct docker_network *a, const struct docker_network *b)
{
	if (strcmp(a->id, b->id) || strcmp(a->name, b->name) || strcmp(a->driver, b->driver) ||
	    strcmp(a->bridge, b->bridge) || a->n_subnets != b->n_subnets)
		return false;
	for (size_t i = 0; i < a->n_subnets; i++) {
		const struct docker_subnet *x = &a->subnets[i], *y = &b->subnets[i];

		if (x->cidr.prefix != y->cidr.prefix || !addr_eq(&x->cidr.addr, &y->cidr.addr) ||
		    x->gateway.family != y->gateway.family ||
		    (x->gateway.family && !addr_eq(&x->gateway, &y->gateway)))
			return false;
	}
	return true;
}

/* --- version --------------------------------------------------------------- */

static int parse_uint(const char **p, unsigned *out)
{
	unsigned v = 0;
	const char *s = *p;

	if (*s < '0' || *s > '9')
		return GLUED_EMALF;
	while (*s >= '0' && *s <= '9') {
		if (v > 9999)
			return GLUED_EMALF;
		v = v * 10 + (unsigned)(*s++ - '0');
	}
	*p = s;
	*out = v;
	return 0;
}

int docker_json_parse_version(const char *buf, size_t len, unsigned *major, unsigned *minor)
{
	json_t *root;
	const char *s;
	int err = load(&root, buf, len, DOCKER_BODY_MAX);

	if (err)
		return err;
	s = get_str(root, "ApiVersion", NULL);
	if (!s || parse_uint(&s, major) || *s++ != '.' || parse_uint(&s, minor) || *s)
		err = GLUED_EMALF;
	json_decref(root);
	return err;
}

void docker_api_clamp(unsigned *major, unsigned *minor)
{
	/* Below 1.24 the event filters we send did not exist; above 1.44 we
	 * know no field we would use, and asking for a version the engine
	 * does not speak is an error, so never ask for more than it said. */
	if (*major < 1 || (*major == 1 && *minor < 24)) {
		*major = 1;
		*minor = 24;
	} else if (*major > DOCKER_API_MAJOR_MAX ||
		   (*major == DOCKER_API_MAJOR_MAX && *minor > DOCKER_API_MINOR_MAX)) {
		*major = DOCKER_API_MAJOR_MAX;
		*minor = DOCKER_API_MINOR_MAX;
	}
}

/* --- errors ---------------------------------------------------------------- */

void docker_json_error_message(const char *buf, size_t len, char *msg, size_t size)
{
	json_t *root;
	const char *s;
	size_t n;

	if (!size)
		return;
	msg[0] = '\0';
	if (load(&root, buf, len, DOCKER_EVENT_LINE_MAX))
		return;
	s = get_str(root, "message", &n);
	if (s) {
		copy_trunc(msg, size, s, n);
		for (char *p = msg; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	}
	json_decref(root);
}
