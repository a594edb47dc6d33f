/* Configuration parsing: the key table, one parser per key, the environment
 * reader, and the help text (the file readers are in config_file.c). It owns the
 * meaning and validation of every setting and the exact wording of config
 * errors. It must never read files or the environment itself, log, or keep
 * state outside the struct it is given: main.c does the I/O and the logging.
 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config_internal.h"

enum key_type {
	KT_STRING, /* a string */
	KT_SWITCH, /* a string; a file boolean means "on" / "off" */
	KT_INT,	   /* an integer in [min, max] stored as uint32_t at off */
	KT_LIST,   /* comma list in a string, or an array of strings */
};

typedef int (*set_str_fn)(struct glued_config *c, const char *s, char *why, size_t n);
typedef int (*set_list_fn)(struct glued_config *c, const char *const *items, size_t n_items,
			   char *why, size_t n);

struct config_key {
	struct config_key_info info;
	enum key_type type;
	bool secret; /* never echo the value */
	set_str_fn set_str;
	set_list_fn set_list;
	size_t max_items;   /* KT_LIST */
	size_t off;	    /* KT_INT: offsetof the uint32_t */
	long long min, max; /* KT_INT */
};

/* --- small helpers ------------------------------------------------------ */

static int why_set(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int why_set(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return GLUED_ECONFIG;
}

/* Reason for one item of a list: name the item only when there are several,
 * so "GLUED_UPSTREAMS="x": not an IP address" stays short. */
static int item_why(char *why, size_t n, size_t n_items, const char *item, const char *reason)
{
	char shown[72];
	size_t o = 0;

	if (n_items <= 1)
		return why_set(why, n, "%s", reason);
	/* The item is user text inside the one-line error: escape it. */
	for (; *item && o + 5 < sizeof(shown); item++) {
		unsigned char ch = (unsigned char)*item;
		if (ch < 0x20 || ch == 0x7f || ch == '\\')
			o += (size_t)snprintf(shown + o, sizeof(shown) - o, "\\x%02x", ch);
		else
			shown[o++] = (char)ch;
	}
	shown[o] = '\0';
	return why_set(why, n, "%s%s: %s", shown, *item ? "..." : "", reason);
}

bool config_is_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

int config_hex_nibble(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	return (tolower((unsigned char)ch) - 'a') + 10;
}

static int copy_str(char *dst, size_t cap, const char *s, char *why, size_t n)
{
	size_t len = strlen(s);

	if (len > cap)
		return why_set(why, n, "too long (max %zu bytes)", cap);
	memcpy(dst, s, len + 1);
	return 0;
}

static int parse_port(const char *s, uint16_t *port, char *why, size_t n)
{
	unsigned long v = 0;

	if (!*s)
		return why_set(why, n, "missing port after ':'");
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return why_set(why, n, "port is not a number");
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			return why_set(why, n, "port out of range");
	}
	if (v == 0)
		return why_set(why, n, "port out of range");
	*port = (uint16_t)v;
	return 0;
}

/* Split "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 address into
 * host text and port text (NULL when absent). *bracketed tells whether the
 * host was written in brackets. */
static int split_hostport(const char *s, char *host, size_t cap, const char **port, bool *bracketed,
			  char *why, size_t n)
{
	const char *colon, *h = s, *hend;

	*port = NULL;
	*bracketed = false;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close)
			return why_set(why, n, "missing ']'");
		h = s + 1;
		hend = close;
		*bracketed = true;
		if (close[1] == ':')
			*port = close + 2;
		else if (close[1] != '\0')
			return why_set(why, n, "unexpected text after ']'");
	} else {
		colon = strchr(s, ':');
		if (colon && !strchr(colon + 1, ':')) {
			hend = colon;
			*port = colon + 1;
		} else {
			hend = s + strlen(s); /* no colon, or a bare IPv6 address */
		}
	}
	if ((size_t)(hend - h) >= cap)
		return why_set(why, n, "not an IP address");
	memcpy(host, h, (size_t)(hend - h));
	host[hend - h] = '\0';
	return 0;
}

static int parse_ip(struct glued_addr *a, const char *s, char *why, size_t n)
{
	if (addr_parse(a, s) == 0)
		return 0;
	if (strchr(s, '%'))
		return why_set(why, n, "scoped IPv6 addresses are not supported");
	return why_set(why, n, "not an IP address");
}

/* "ip", "ip:port", "[v6]:port", "v6". */
static int parse_endpoint(struct glued_endpoint *e, const char *s, uint16_t def_port, char *why,
			  size_t n)
{
	char host[ADDR_STRLEN + 16];
	const char *port;
	bool br;
	int rc;

	memset(e, 0, sizeof(*e));
	rc = split_hostport(s, host, sizeof(host), &port, &br, why, n);
	if (rc)
		return rc;
	rc = parse_ip(&e->addr, host, why, n);
	if (rc)
		return rc;
	if (br && e->addr.family != AF_INET6)
		return why_set(why, n, "brackets are only for IPv6 addresses");
	e->port = def_port;
	return port ? parse_port(port, &e->port, why, n) : 0;
}

static int parse_abs_path(char *dst, size_t cap, const char *s, char *why, size_t n)
{
	if (s[0] != '/')
		return why_set(why, n, "must be an absolute path");
	return copy_str(dst, cap, s, why, n);
}

static int parse_sock_path(char *dst, const char *s, char *why, size_t n)
{
	if (s[0] != '/')
		return why_set(why, n, "must be an absolute path");
	if (strlen(s) > CONFIG_SUN_PATH_MAX)
		return why_set(why, n, "too long for a unix socket path (max %d bytes)",
			       CONFIG_SUN_PATH_MAX);
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

/* A DNS host name: dot-separated labels of letters, digits, '-' and '_',
 * 1..63 bytes each, not starting with '-'; one trailing dot allowed. */
static bool hostname_valid(const char *s)
{
	size_t len = strlen(s), label = 0;

	if (len == 0 || len > CONFIG_HOST_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (ch == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)ch) && ch != '-' && ch != '_')
			return false;
		if (label == 0 && ch == '-')
			return false;
		if (++label > 63)
			return false;
	}
	/* An all-numeric last label is a mistyped IPv4 address, not a name. */
	size_t end = s[len - 1] == '.' ? len - 1 : len, start = end;
	while (start > 0 && s[start - 1] != '.')
		start--;
	for (size_t i = start; i < end; i++)
		if (!isdigit((unsigned char)s[i]))
			return true;
	return false;
}

/* --- one setter per key ------------------------------------------------- */

static int set_network_name(struct glued_config *c, const char *s, char *why, size_t n)
{
	size_t len = strlen(s);

	if (len > CONFIG_NETWORK_NAME_MAX)
		return why_set(why, n, "too long (max %d bytes)", CONFIG_NETWORK_NAME_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		bool ok = isalnum(ch) || (i > 0 && (ch == '_' || ch == '.' || ch == '-'));
		if (!ok)
			return why_set(why, n,
				       "not a valid Docker network name (letters, digits, "
				       "'_', '.', '-'; starting with a letter or digit)");
	}
	memcpy(c->network_name, s, len + 1);
	return 0;
}

static int set_dns_bind(struct glued_config *c, const char *s, char *why, size_t n)
{
	return parse_endpoint(&c->dns_bind_spec, s, CONFIG_DNS_PORT, why, n);
}

static int set_bind_ip(struct glued_config *c, const char *s, char *why, size_t n)
{
	return parse_ip(&c->bind_ip, s, why, n);
}

static int set_topic_id(struct glued_config *c, const char *s, char *why, size_t n)
{
	if (strlen(s) != 2 * CONFIG_TOPIC_ID_LEN || !config_is_hex(s, 2 * CONFIG_TOPIC_ID_LEN))
		return why_set(why, n, "must be 64 hex characters");
	for (size_t i = 0; i < CONFIG_TOPIC_ID_LEN; i++)
		c->topic_id[i] =
		    (uint8_t)(config_hex_nibble(s[2 * i]) << 4 | config_hex_nibble(s[2 * i + 1]));
	return 0;
}

static int parse_peer(struct config_peer *p, const char *s, char *why, size_t n)
{
	const char *at = strchr(s, '@'), *rest = s, *port;
	bool br;
	struct glued_addr a;
	int rc;

	memset(p, 0, sizeof(*p));
	p->port = CONFIG_GOSSIP_PORT;
	if (at) {
		if ((size_t)(at - s) != CONFIG_NODE_ID_HEX || !config_is_hex(s, CONFIG_NODE_ID_HEX))
			return why_set(why, n, "node ID must be 64 hex characters");
		rest = at + 1;
		if (!*rest)
			return why_set(why, n, "missing host after '@'");
	} else if (strlen(s) == CONFIG_NODE_ID_HEX && config_is_hex(s, CONFIG_NODE_ID_HEX)) {
		rest = ""; /* a bare node ID, found on the LAN */
	}
	if (rest != s)
		for (size_t i = 0; i < CONFIG_NODE_ID_HEX; i++)
			p->node_id[i] = (char)tolower((unsigned char)s[i]);
	if (!*rest)
		return 0;
	rc = split_hostport(rest, p->host, sizeof(p->host), &port, &br, why, n);
	if (rc)
		return why_set(why, n, "not a host name or IP address");
	if (br || strchr(p->host, ':')) {
		if (addr_parse(&a, p->host) || a.family != AF_INET6)
			return why_set(why, n, "not an IPv6 address");
	} else if (addr_parse(&a, p->host) && !hostname_valid(p->host)) {
		return why_set(why, n, "not a host name or IP address");
	}
	return port ? parse_port(port, &p->port, why, n) : 0;
}

static int set_peers(struct glued_config *c, const char *const *items, size_t n_items, char *why,
		     size_t n)
{
	char r[128];

	for (size_t i = 0; i < n_items; i++)
		if (parse_peer(&c->peers[i], items[i], r, sizeof(r)))
			return item_why(why, n, n_items, items[i], r);
	c->n_peers = n_items;
	return 0;
}

static int set_cluster_secret(struct glued_config *c, const char *s, char *why, size_t n)
{
	return copy_str(c->cluster_secret, CONFIG_SECRET_MAX, s, why, n);
}

static int set_log(struct glued_config *c, const char *s, char *why, size_t n)
{
	if (log_level_parse(s, &c->log_level))
		return why_set(why, n, "must be error, warn, info, debug or trace");
	return 0;
}

static int set_log_format(struct glued_config *c, const char *s, char *why, size_t n)
{
	if (strcasecmp(s, "text") == 0)
		c->log_json = false;
	else if (strcasecmp(s, "json") == 0)
		c->log_json = true;
	else
		return why_set(why, n, "must be text or json");
	return 0;
}

static int set_gossip_bind(struct glued_config *c, const char *s, char *why, size_t n)
{
	return parse_endpoint(&c->gossip_bind, s, CONFIG_GOSSIP_PORT, why, n);
}

static int set_upstreams(struct glued_config *c, const char *const *items, size_t n_items,
			 char *why, size_t n)
{
	char r[128];

	for (size_t i = 0; i < n_items; i++) {
		struct glued_endpoint *e = &c->upstreams[i];
		if (parse_endpoint(e, items[i], CONFIG_DNS_PORT, r, sizeof(r)))
			return item_why(why, n, n_items, items[i], r);
		if (addr_is_any(&e->addr))
			return item_why(why, n, n_items, items[i],
					"the unspecified address is not an upstream");
	}
	c->n_upstreams = n_items;
	return 0;
}

static int set_allow(struct glued_config *c, const char *const *items, size_t n_items, char *why,
		     size_t n)
{
	for (size_t i = 0; i < n_items; i++)
		if (cidr_parse(&c->allow[i], items[i]))
			return item_why(why, n, n_items, items[i], "not a CIDR");
	c->n_allow = n_items;
	return 0;
}

static int set_hosts_file(struct glued_config *c, const char *s, char *why, size_t n)
{
	return parse_abs_path(c->hosts_file, CONFIG_PATH_MAX, s, why, n);
}

static int set_state_dir(struct glued_config *c, const char *s, char *why, size_t n)
{
	return parse_abs_path(c->state_dir, CONFIG_PATH_MAX, s, why, n);
}

static int set_bpf_pin(struct glued_config *c, const char *s, char *why, size_t n)
{
	return parse_abs_path(c->bpf_pin, CONFIG_PATH_MAX, s, why, n);
}

static int set_xdp(struct glued_config *c, const char *s, char *why, size_t n)
{
	if (strcasecmp(s, "auto") == 0)
		c->xdp = CONFIG_XDP_AUTO;
	else if (strcasecmp(s, "off") == 0)
		c->xdp = CONFIG_XDP_OFF;
	else if (strcasecmp(s, "on") == 0)
		c->xdp = CONFIG_XDP_ON;
	else
		return why_set(why, n, "must be auto, on or off");
	return 0;
}

/* The kernel's dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':'
 * or whitespace. */
static bool ifname_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > CONFIG_IFNAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '/' || s[i] == ':' || isspace((unsigned char)s[i]) ||
		    !isprint((unsigned char)s[i]))
			return false;
	return true;
}

static int set_xdp_ifaces(struct glued_config *c, const char *const *items, size_t n_items,
			  char *why, size_t n)
{
	for (size_t i = 0; i < n_items; i++) {
		if (!ifname_valid(items[i]))
			return item_why(why, n, n_items, items[i], "not a valid interface name");
		memcpy(c->xdp_ifaces[i], items[i], strlen(items[i]) + 1);
	}
	c->n_xdp_ifaces = n_items;
	return 0;
}

static int set_ctl_socket(struct glued_config *c, const char *s, char *why, size_t n)
{
	return parse_sock_path(c->ctl_socket, s, why, n);
}

static int set_metrics_bind(struct glued_config *c, const char *s, char *why, size_t n)
{
	if (strcasecmp(s, "off") == 0) {
		c->metrics_enabled = false;
		memset(&c->metrics_bind, 0, sizeof(c->metrics_bind));
		return 0;
	}
	if (parse_endpoint(&c->metrics_bind, s, CONFIG_METRICS_PORT, why, n)) {
		char r[128];
		snprintf(r, sizeof(r), "%s", why);
		return why_set(why, n, "%s (or off)", r);
	}
	c->metrics_enabled = true;
	return 0;
}

static int set_docker_host(struct glued_config *c, const char *s, char *why, size_t n)
{
	const char *scheme_end = strstr(s, "://");

	if (!scheme_end)
		return why_set(why, n, "must be unix:///path/to/docker.sock");
	if ((size_t)(scheme_end - s) != 4 || strncasecmp(s, "unix", 4) != 0)
		return why_set(why, n, "scheme %.*s:// is not supported, only unix:///path",
			       (int)(scheme_end - s > 16 ? 16 : scheme_end - s), s);
	return parse_sock_path(c->docker_socket, scheme_end + 3, why, n);
}

/* --- the table ------------------------------------------------------------ */

#define STR(fn) .type = KT_STRING, .set_str = (fn)
#define SWITCH(fn) .type = KT_SWITCH, .set_str = (fn)
#define LIST(fn, cap) .type = KT_LIST, .set_list = (fn), .max_items = (cap)
#define INT(field, lo, hi)                                                                         \
	.type = KT_INT, .off = offsetof(struct glued_config, field), .min = (lo), .max = (hi)

static const struct config_key keys[CONFIG_KEY_COUNT] = {
    [CONFIG_KEY_NETWORK_NAME] = {{"GLUED_NETWORK_NAME", "GLUED_NETWORK", "glued_net", NULL,
				  "Docker network whose containers get names."},
				 STR(set_network_name)},
    [CONFIG_KEY_DNS_BIND] = {{"GLUED_DNS_BIND", NULL, "0.0.0.0:53", NULL,
			      "DNS listen address, ip[:port] or [v6]:port (UDP and TCP)."},
			     STR(set_dns_bind)},
    [CONFIG_KEY_BIND_IP] = {{"GLUED_BIND_IP", NULL, NULL, "address of GLUED_DNS_BIND",
			     "Replaces the address of GLUED_DNS_BIND; its port stays."},
			    STR(set_bind_ip)},
    [CONFIG_KEY_TOPIC_ID] = {{"GLUED_TOPIC_ID", NULL, NULL, "built-in default topic",
			      "Cluster topic, 64 hex characters; must match across the "
			      "cluster (unset: one fixed default, so nodes find each other)."},
			     STR(set_topic_id)},
    [CONFIG_KEY_BOOTSTRAP_PEERS] = {{"GLUED_BOOTSTRAP_PEERS", NULL, NULL, "none",
				     "Comma list of peers: host[:port], nodeid@host[:port] "
				     "or nodeid (gossip port 7947 when omitted)."},
				    LIST(set_peers, CONFIG_PEERS_MAX)},
    [CONFIG_KEY_CLUSTER_SECRET] = {{"GLUED_CLUSTER_SECRET", NULL, CONFIG_DEFAULT_SECRET, NULL,
				    "Cluster authentication secret (the default is logged "
				    "as insecure)."},
				   STR(set_cluster_secret),
				   .secret = true},
    [CONFIG_KEY_LOG] = {{"GLUED_LOG", "RUST_LOG", "info", NULL,
			 "Log level: error, warn, info, debug or trace (RUST_LOG-style "
			 "glued=debug accepted)."},
			STR(set_log)},
    [CONFIG_KEY_LOG_FORMAT] = {{"GLUED_LOG_FORMAT", NULL, "text", NULL,
				"Log line format: text or json."},
			       STR(set_log_format)},
    [CONFIG_KEY_GOSSIP_BIND] = {{"GLUED_GOSSIP_BIND", NULL, "0.0.0.0:7947", NULL,
				 "Gossip listen address, ip[:port]."},
				STR(set_gossip_bind)},
    [CONFIG_KEY_UPSTREAMS] = {{"GLUED_UPSTREAMS", NULL, NULL, "from /etc/resolv.conf",
			       "Comma list of upstream resolvers, ip[:port] or [v6]:port "
			       "(at most 8)."},
			      LIST(set_upstreams, CONFIG_UPSTREAMS_MAX)},
    [CONFIG_KEY_ALLOW] = {{"GLUED_ALLOW", NULL,
			   "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,"
			   "fc00::/7,169.254.0.0/16,fe80::/10",
			   NULL,
			   "Comma list of CIDRs whose clients may use the forwarder (at most "
			   "64); the watched network's subnets are always added."},
			  LIST(set_allow, CONFIG_ALLOW_MAX)},
    [CONFIG_KEY_TTL] = {{"GLUED_TTL", NULL, "5", NULL,
			 "TTL of container answers in seconds, 0..86400."},
			INT(ttl_s, 0, 86400)},
    [CONFIG_KEY_NEG_TTL_MAX] = {{"GLUED_NEG_TTL_MAX", NULL, "300", NULL,
				 "Longest a forwarded NXDOMAIN/NODATA answer is cached, "
				 "seconds, 0..86400 (0: not cached)."},
				INT(neg_ttl_max_s, 0, 86400)},
    [CONFIG_KEY_HOSTS_FILE] = {{"GLUED_HOSTS_FILE", NULL, NULL, "none",
				"hosts(5) file of static records this node publishes; "
				"re-read when it changes."},
			       STR(set_hosts_file)},
    [CONFIG_KEY_STATE_DIR] = {{"GLUED_STATE_DIR", NULL, "/var/lib/glued", NULL,
			       "State directory: node key, record version."},
			      STR(set_state_dir)},
    [CONFIG_KEY_BPF_PIN] = {{"GLUED_BPF_PIN", NULL, "/sys/fs/bpf/glued", NULL,
			     "Where BPF maps are pinned."},
			    STR(set_bpf_pin)},
    [CONFIG_KEY_XDP] = {{"GLUED_XDP", NULL, "auto", NULL,
			 "Kernel fast path: auto, on (failure to attach is fatal) or off."},
			SWITCH(set_xdp)},
    [CONFIG_KEY_XDP_IFACES] = {{"GLUED_XDP_IFACES", NULL, NULL, "none",
				"Comma list of extra interfaces for native XDP (at most "
				"16)."},
			       LIST(set_xdp_ifaces, CONFIG_IFACES_MAX)},
    [CONFIG_KEY_CTL_SOCKET] = {{"GLUED_CTL_SOCKET", NULL, "/run/glued/glued.sock", NULL,
				"Control API unix socket for gluedctl."},
			       STR(set_ctl_socket)},
    [CONFIG_KEY_METRICS_BIND] = {{"GLUED_METRICS_BIND", NULL, "off", NULL,
				  "Metrics HTTP listen address, ip[:port] (port 9153 when "
				  "omitted), or off."},
				 SWITCH(set_metrics_bind)},
    [CONFIG_KEY_RESYNC] = {{"GLUED_RESYNC_S", NULL, "30", NULL,
			    "Period of the full Docker resync in seconds, 1..3600."},
			   INT(resync_s, 1, 3600)},
    [CONFIG_KEY_DOCKER_HOST] = {{"DOCKER_HOST", NULL, "unix:///var/run/docker.sock", NULL,
				 "Docker engine socket; only unix:///path is supported."},
				STR(set_docker_host)},
};

const struct config_key_info *config_key_info(enum config_key_id id)
{
	if ((unsigned)id >= CONFIG_KEY_COUNT)
		return NULL;
	return &keys[id].info;
}

/* --- applying one value ----------------------------------------------------- */

#define SHOWN_MAX 256 /* longer values are cut short with "..." in messages */

/* Quote a value for a message: escapes keep the error on one line. */
void config_quote(char *dst, size_t cap, const char *s)
{
	size_t o = 0, max = cap > 8 ? cap - 8 : 0;

	if (max > SHOWN_MAX + 1)
		max = SHOWN_MAX + 1; /* + the opening quote */

	if (cap == 0)
		return;
	dst[o++] = '"';
	for (; *s && o < max; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			o += (size_t)snprintf(dst + o, cap - o, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", ch);
		else
			dst[o++] = (char)ch;
	}
	if (*s && o + 4 < cap)
		o += (size_t)snprintf(dst + o, cap - o, "...");
	if (o + 2 <= cap) {
		dst[o++] = '"';
		dst[o] = '\0';
	} else {
		dst[cap - 1] = '\0';
	}
}

static void show_value(char *dst, size_t cap, const struct config_key *k, const struct cval *v)
{
	size_t o;

	if (k && k->secret) {
		snprintf(dst, cap, "=<hidden>");
		return;
	}
	switch (v->type) {
	case CVAL_STR:
		dst[0] = '=';
		config_quote(dst + 1, cap - 1, v->str);
		return;
	case CVAL_INT:
		snprintf(dst, cap, "=%lld", v->i);
		return;
	case CVAL_BOOL:
		snprintf(dst, cap, "=%s", v->b ? "true" : "false");
		return;
	case CVAL_LIST:
		o = (size_t)snprintf(dst, cap, "=[");
		for (size_t i = 0; i < v->n_items && o + 8 < cap; i++) {
			if (i)
				o += (size_t)snprintf(dst + o, cap - o, ", ");
			config_quote(dst + o, cap - o, v->items[i]);
			o += strlen(dst + o);
		}
		if (o + 2 <= cap)
			snprintf(dst + o, cap - o, "]");
		return;
	case CVAL_OTHER:
		dst[0] = '\0';
		return;
	}
}

static void where_prefix(char *dst, size_t cap, const struct where *w)
{
	if (!w->path)
		snprintf(dst, cap, "config: ");
	else if (w->line)
		snprintf(dst, cap, "config: %s:%u: ", w->path, w->line);
	else
		snprintf(dst, cap, "config: %s: ", w->path);
}

/* Last guard for "exactly one line": values are escaped where they are
 * shown, but a path, a jansson message or a reason may still carry a control
 * byte. */
static int one_line(char *err, size_t errlen)
{
	for (size_t i = 0; i < errlen && err[i]; i++)
		if ((unsigned char)err[i] < 0x20 || err[i] == 0x7f)
			err[i] = '?';
	return GLUED_ECONFIG;
}

static int fail_value(char *err, size_t errlen, const struct where *w, const struct config_key *k,
		      const struct cval *v, const char *why)
{
	char pre[CONFIG_PATH_MAX + 48], val[320];

	where_prefix(pre, sizeof(pre), w);
	show_value(val, sizeof(val), k, v);
	if (errlen)
		snprintf(err, errlen, "%s%s%s: %s", pre, w->key, val, why);
	return one_line(err, errlen);
}

int config_fail(char *err, size_t errlen, const struct where *w, const char *fmt, ...)
{
	char pre[CONFIG_PATH_MAX + 48], why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	where_prefix(pre, sizeof(pre), w);
	if (errlen)
		snprintf(err, errlen, "%s%s", pre, why);
	return one_line(err, errlen);
}

/* Split a comma list in place: items trimmed, empty items dropped. */
static int split_list(char *buf, const char **items, size_t *n_items)
{
	size_t n = 0;
	char *p = buf;

	for (;;) {
		char *end = strchr(p, ','), *q;
		if (end)
			*end = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		q = p + strlen(p);
		while (q > p && (q[-1] == ' ' || q[-1] == '\t'))
			*--q = '\0';
		if (*p) {
			if (n == CONFIG_ITEMS_MAX)
				return GLUED_ELIMIT;
			items[n++] = p;
		}
		if (!end)
			break;
		p = end + 1;
	}
	*n_items = n;
	return 0;
}

int config_parse_int(const char *s, long long *out)
{
	long long v = 0;
	bool neg = false;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (!*s)
		return GLUED_EMALF;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return GLUED_EMALF;
		if (v > (LLONG_MAX - 9) / 10)
			return GLUED_ELIMIT;
		v = v * 10 + (*s - '0');
	}
	*out = neg ? -v : v;
	return 0;
}

/* Hand one value to its key's setter. Empty strings and empty lists mean
 * "not set": the value already there (default or file) stays. */
int config_value_apply(struct glued_config *c, enum config_key_id id, const struct cval *v,
		       const struct where *w, char *err, size_t errlen)
{
	const struct config_key *k = &keys[id];
	char why[256] = "", scratch[CONFIG_VALUE_MAX];
	const char *items[CONFIG_ITEMS_MAX];
	const char *s = v->str;
	size_t n_items = 0;
	long long num = 0;
	int rc = 0;

	switch (k->type) {
	case KT_SWITCH:
		if (v->type == CVAL_BOOL) {
			s = v->b ? "on" : "off";
			break;
		}
		if (v->type != CVAL_STR)
			return fail_value(err, errlen, w, k, v, "must be a string or a boolean");
		break;
	case KT_STRING:
		if (v->type != CVAL_STR)
			return fail_value(err, errlen, w, k, v, "must be a string");
		break;
	case KT_INT:
		if (v->type == CVAL_INT) {
			num = v->i;
		} else if (v->type == CVAL_STR) {
			if (!*v->str)
				return 0;
			rc = config_parse_int(v->str, &num);
			if (rc == GLUED_EMALF)
				return fail_value(err, errlen, w, k, v, "not a number");
		} else {
			return fail_value(err, errlen, w, k, v, "must be an integer");
		}
		if (rc || num < k->min || num > k->max) {
			snprintf(why, sizeof(why), "out of range (%lld..%lld)", k->min, k->max);
			return fail_value(err, errlen, w, k, v, why);
		}
		*(uint32_t *)((char *)c + k->off) = (uint32_t)num;
		c->source[id] = (uint8_t)w->src;
		return 0;
	case KT_LIST:
		if (v->type == CVAL_STR) {
			if (strlen(v->str) >= sizeof(scratch))
				return fail_value(err, errlen, w, k, v, "too long");
			memcpy(scratch, v->str, strlen(v->str) + 1);
			rc = split_list(scratch, items, &n_items);
		} else if (v->type == CVAL_LIST) {
			if (v->n_items > k->max_items)
				rc = GLUED_ELIMIT;
			for (size_t i = 0; i < v->n_items && !rc; i++) {
				if (!v->items[i][0])
					return fail_value(err, errlen, w, k, v, "empty item");
				if (n_items == CONFIG_ITEMS_MAX)
					rc = GLUED_ELIMIT;
				else
					items[n_items++] = v->items[i];
			}
		} else {
			return fail_value(err, errlen, w, k, v,
					  "must be a string or an array of strings");
		}
		if (rc || n_items > k->max_items) {
			snprintf(why, sizeof(why), "too many items (max %zu)", k->max_items);
			return fail_value(err, errlen, w, k, v, why);
		}
		if (n_items == 0)
			return 0;
		if (k->set_list(c, items, n_items, why, sizeof(why)))
			return fail_value(err, errlen, w, k, v, why);
		c->source[id] = (uint8_t)w->src;
		return 0;
	}
	if (!*s)
		return 0;
	if (k->set_str(c, s, why, sizeof(why)))
		return fail_value(err, errlen, w, k, v, why);
	c->source[id] = (uint8_t)w->src;
	return 0;
}

/* Values that depend on more than one key, and the *_set flags. Idempotent:
 * called after every source is applied. */
void config_derive(struct glued_config *c)
{
	c->dns_bind = c->dns_bind_spec;
	c->bind_ip_set = c->source[CONFIG_KEY_BIND_IP] != CONFIG_SRC_DEFAULT;
	if (c->bind_ip_set && c->source[CONFIG_KEY_BIND_IP] >= c->source[CONFIG_KEY_DNS_BIND])
		c->dns_bind.addr = c->bind_ip;
	c->topic_id_set = c->source[CONFIG_KEY_TOPIC_ID] != CONFIG_SRC_DEFAULT;
	c->upstreams_set = c->source[CONFIG_KEY_UPSTREAMS] != CONFIG_SRC_DEFAULT;
	c->allow_set = c->source[CONFIG_KEY_ALLOW] != CONFIG_SRC_DEFAULT;
	c->cluster_secret_default = strcmp(c->cluster_secret, CONFIG_DEFAULT_SECRET) == 0;
}

static void add_warning(struct glued_config *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void add_warning(struct glued_config *c, const char *fmt, ...)
{
	va_list ap;

	if (c->n_warnings == CONFIG_WARNINGS_MAX) {
		c->n_warnings_dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(c->warnings[c->n_warnings++], CONFIG_WARNING_LEN, fmt, ap);
	va_end(ap);
}

void config_defaults(struct glued_config *c)
{
	struct where w = {.src = CONFIG_SRC_DEFAULT};
	char err[CONFIG_ERR_LEN];

	memset(c, 0, sizeof(*c));
	for (int id = 0; id < CONFIG_KEY_COUNT; id++) {
		struct cval v = {.type = CVAL_STR, .str = keys[id].info.def};
		if (!v.str)
			continue;
		w.key = keys[id].info.env;
		/* A default that does not parse is a bug in the table above. */
		if (config_value_apply(c, (enum config_key_id)id, &v, &w, err, sizeof(err)))
			abort();
	}
	config_derive(c);
}

/* --- the environment --------------------------------------------------------- */

static const char *env_get(char **envp, const char *name)
{
	size_t n = strlen(name);

	for (char **e = envp; e && *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

static bool env_known(const char *name, size_t n)
{
	for (int id = 0; id < CONFIG_KEY_COUNT; id++) {
		const struct config_key_info *ki = &keys[id].info;
		if ((strlen(ki->env) == n && !strncmp(ki->env, name, n)) ||
		    (ki->alias && strlen(ki->alias) == n && !strncmp(ki->alias, name, n)))
			return true;
	}
	return false;
}

int config_apply_env(struct glued_config *c, char **envp, char *err, size_t errlen)
{
	for (int id = 0; id < CONFIG_KEY_COUNT; id++) {
		const struct config_key_info *ki = &keys[id].info;
		const char *val = env_get(envp, ki->env), *name = ki->env;
		const char *aval = ki->alias ? env_get(envp, ki->alias) : NULL;
		struct where w = {.src = CONFIG_SRC_ENV};
		struct cval v = {.type = CVAL_STR};
		int rc;

		/* The primary name wins over its alias, whatever their order. */
		if (val && *val && aval && *aval && strcmp(val, aval) != 0)
			add_warning(c, "config: %s ignored: %s is set", ki->alias, ki->env);
		if ((!val || !*val) && aval && *aval) {
			val = aval;
			name = ki->alias;
		}
		if (!val || !*val)
			continue;
		w.key = name;
		v.str = val;
		rc = config_value_apply(c, (enum config_key_id)id, &v, &w, err, errlen);
		if (rc)
			return rc;
	}
	for (char **e = envp; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		size_t n = eq ? (size_t)(eq - *e) : strlen(*e);
		if (strncmp(*e, "GLUED_", 6) == 0 && !env_known(*e, n))
			add_warning(c, "config: unknown environment variable %.*s ignored",
				    (int)(n > 64 ? 64 : n), *e);
	}
	config_derive(c);
	if (c->bind_ip_set && c->source[CONFIG_KEY_BIND_IP] < c->source[CONFIG_KEY_DNS_BIND])
		add_warning(c,
			    "config: bind_ip from the file ignored: GLUED_DNS_BIND is set in the "
			    "environment");
	return 0;
}

int config_load(struct glued_config *c, char **envp, const char *text, size_t len,
		enum config_format fmt, const char *path, char *err, size_t errlen)
{
	int rc;

	config_defaults(c);
	if (text) {
		rc = config_apply_file(c, text, len, fmt, path, err, errlen);
		if (rc)
			return rc;
	}
	return config_apply_env(c, envp, err, errlen);
}

/* --- file keys ---------------------------------------------------------------- */

/* File keys: the environment names and aliases in lower case, with or without
 * the glued_ prefix. Matched case-insensitively. */
static bool file_key_matches(const char *name, const char *key)
{
	if (!name)
		return false;
	if (!strcasecmp(key, name))
		return true;
	return !strncasecmp(name, "GLUED_", 6) && !strcasecmp(key, name + 6);
}

int config_file_key_lookup(const char *key)
{
	for (int id = 0; id < CONFIG_KEY_COUNT; id++)
		if (file_key_matches(keys[id].info.env, key) ||
		    file_key_matches(keys[id].info.alias, key))
			return id;
	return -1;
}

/* --- help ------------------------------------------------------------------- */

struct sbuf {
	char *p;
	size_t cap, used;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->used < b->cap ? b->p + b->used : NULL,
		      b->used < b->cap ? b->cap - b->used : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->used += (size_t)n;
}

/* The file key a user would write: the env name, lowercase, without glued_. */
static void file_key_of(char *dst, size_t cap, const char *env)
{
	size_t i = 0;

	if (!strncmp(env, "GLUED_", 6))
		env += 6;
	for (; env[i] && i + 1 < cap; i++)
		dst[i] = (char)tolower((unsigned char)env[i]);
	dst[i] = '\0';
}

size_t config_help(char *buf, size_t len, enum config_help_style style)
{
	struct sbuf b = {.p = buf, .cap = len};

	if (len)
		buf[0] = '\0';
	if (style == CONFIG_HELP_MARKDOWN)
		sb_printf(&b, "| variable | file key | default | meaning |\n"
			      "| --- | --- | --- | --- |\n");
	else
		sb_printf(&b, "Settings (environment variables; a config file takes the same "
			      "keys in lower case, and the environment wins):\n");
	for (int id = 0; id < CONFIG_KEY_COUNT; id++) {
		const struct config_key_info *ki = &keys[id].info;
		char fk[48];

		file_key_of(fk, sizeof(fk), ki->env);
		if (style == CONFIG_HELP_MARKDOWN) {
			sb_printf(&b, "| `%s`", ki->env);
			if (ki->alias)
				sb_printf(&b, " (alias `%s`)", ki->alias);
			sb_printf(&b, " | `%s` | ", fk);
			if (ki->def)
				sb_printf(&b, "`%s`", ki->def);
			else
				sb_printf(&b, "unset: %s", ki->unset_means);
			sb_printf(&b, " | %s |\n", ki->help);
		} else {
			sb_printf(&b, "  %s", ki->env);
			if (ki->alias)
				sb_printf(&b, " (alias %s)", ki->alias);
			sb_printf(&b, "\n      %s\n      default: %s\n", ki->help,
				  ki->def ? ki->def : ki->unset_means);
		}
	}
	return b.used;
}
