/* The configuration key table: every key's names, default and help line,
 * its type and the parser that validates a value and stores it in struct
 * glued_config (config.c applies a value through this table; config_file.c
 * and the environment reader feed it). Adding a setting is one parser and
 * one row here. Like config.c it never reads files or the environment, logs,
 * or keeps state outside the struct it is given.
 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config_internal.h"

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

size_t config_secrets(const char *list, const char *ptr[CONFIG_SECRETS_MAX],
		      size_t len[CONFIG_SECRETS_MAX])
{
	size_t n = 0;
	const char *s = list;

	for (;;) {
		const char *comma = strchr(s, ',');
		size_t l = comma ? (size_t)(comma - s) : strlen(s);

		if (l == 0 || n == CONFIG_SECRETS_MAX)
			return 0;
		ptr[n] = s;
		len[n++] = l;
		if (!comma)
			return n;
		s = comma + 1;
	}
}

bool config_secret_is_default(const char *list)
{
	const char *ptr[CONFIG_SECRETS_MAX];
	size_t len[CONFIG_SECRETS_MAX], n = config_secrets(list, ptr, len);

	for (size_t i = 0; i < n; i++)
		if (len[i] == strlen(CONFIG_DEFAULT_SECRET) &&
		    memcmp(ptr[i], CONFIG_DEFAULT_SECRET, len[i]) == 0)
			return true;
	return false;
}

/* A keyring: "new,old" during a rotation (docs/security.md, "Rotating the
 * secret"). The value itself is never echoed in an error. */
static int set_cluster_secret(struct glued_config *c, const char *s, char *why, size_t n)
{
	const char *ptr[CONFIG_SECRETS_MAX];
	size_t len[CONFIG_SECRETS_MAX];

	if (config_secrets(s, ptr, len) == 0)
		return why_set(why, n, "must be a comma list of 1 to 4 non-empty secrets");
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

static int set_container_fastpath(struct glued_config *c, const char *s, char *why, size_t n)
{
	if (strcasecmp(s, "auto") == 0)
		c->container_fastpath = true;
	else if (strcasecmp(s, "off") == 0)
		c->container_fastpath = false;
	else
		return why_set(why, n, "must be auto or off");
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

static int set_rrl_exempt(struct glued_config *c, const char *const *items, size_t n_items,
			  char *why, size_t n)
{
	for (size_t i = 0; i < n_items; i++)
		if (cidr_parse(&c->rrl_exempt[i], items[i]))
			return item_why(why, n, n_items, items[i], "not a CIDR");
	c->n_rrl_exempt = n_items;
	return 0;
}

/* --- the table ------------------------------------------------------------ */

#define STR(fn) .type = KT_STRING, .set_str = (fn)
#define SWITCH(fn) .type = KT_SWITCH, .set_str = (fn)
#define LIST(fn, cap) .type = KT_LIST, .set_list = (fn), .max_items = (cap)
#define INT(field, lo, hi)                                                                         \
	.type = KT_INT, .off = offsetof(struct glued_config, field), .min = (lo), .max = (hi)

const struct config_key config_keys[CONFIG_KEY_COUNT] = {
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
				    "Cluster secret, or a comma list of up to 4 (accept any, "
				    "send with the first: rotation). Unset: a public default, "
				    "gossip only from directly connected subnets."},
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
			   "Comma list of CIDRs whose clients get answers at all: container "
			   "names, PTR and forwarding, in the kernel and in userspace (at most "
			   "64); others get REFUSED. The watched network's subnets are always "
			   "added. This is glued's DNS firewall: the XDP/TC path answers before "
			   "netfilter sees the packet."},
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
    [CONFIG_KEY_CONTAINER_FASTPATH] = {{"GLUED_CONTAINER_FASTPATH", NULL, "auto", NULL,
					"Answer inside each watched container's network "
					"namespace, before Docker's 127.0.0.11: auto (wherever "
					"the kernel fast path is on) or off."},
				       SWITCH(set_container_fastpath)},
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
    /* Response rate limiting: one block (docs/security.md, "Response rate limiting"). */
    [CONFIG_KEY_RRL_RATE] = {{"GLUED_RRL_RATE", NULL, "100", NULL,
			      "Answers larger than their query per second per source prefix, "
			      "0..1000000 (0: off), in the kernel and in userspace; sources in "
			      "GLUED_RRL_EXEMPT are never limited."},
			     INT(rrl_rate, 0, 1000000)},
    [CONFIG_KEY_RRL_SLIP] = {{"GLUED_RRL_SLIP", NULL, "2", NULL,
			      "Of the responses over GLUED_RRL_RATE, every Nth is sent truncated "
			      "(TC=1: the client retries over TCP) and the rest dropped, 0..10 "
			      "(0: drop all)."},
			     INT(rrl_slip, 0, 10)},
    [CONFIG_KEY_RRL_PREFIX4] = {{"GLUED_RRL_PREFIX4", NULL, "24", NULL,
				 "IPv4 sources sharing one rate limit: prefix length, 8..32."},
				INT(rrl_prefix4, 8, 32)},
    [CONFIG_KEY_RRL_PREFIX6] = {{"GLUED_RRL_PREFIX6", NULL, "56", NULL,
				 "IPv6 sources sharing one rate limit: prefix length, 16..56."},
				INT(rrl_prefix6, 16, 56)},
    [CONFIG_KEY_RRL_EXEMPT] = {{"GLUED_RRL_EXEMPT", NULL, "127.0.0.0/8,::1/128", NULL,
				"Comma list of CIDRs never rate limited (at most 64); the watched "
				"network's subnets are always added: its containers are glued's "
				"high-rate clients and cannot be spoofed from outside."},
			       LIST(set_rrl_exempt, CONFIG_ALLOW_MAX)},
};

const struct config_key_info *config_key_info(enum config_key_id id)
{
	if ((unsigned)id >= CONFIG_KEY_COUNT)
		return NULL;
	return &config_keys[id].info;
}
