/* Configuration: environment variables and a config file (JSON or a flat TOML
 * subset) turned into one validated struct glued_config.
 *
 * One static table of keys (config.c) drives the parsing of both sources, the
 * --help text and the key table in docs/configuration.md, so no key is listed
 * twice. This is a pure core: the caller reads the file and hands in its
 * bytes, and hands in the environment as an envp array; nothing here opens
 * files, reads the clock or logs. Errors come back as GLUED_ECONFIG plus
 * exactly one line of text for the caller to print, warnings are collected in
 * the struct for the caller to log.
 */
#ifndef GLUED_CORE_CONFIG_H
#define GLUED_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "lib/err.h"
#include "lib/log.h"

#define CONFIG_NETWORK_NAME_MAX 128
#define CONFIG_PATH_MAX 255
#define CONFIG_SUN_PATH_MAX 107 /* sizeof(sockaddr_un.sun_path) - 1 */
#define CONFIG_SECRET_MAX 255
#define CONFIG_SECRETS_MAX 4   /* GLUED_CLUSTER_SECRET keyring: accept any, send with the first */
#define CONFIG_TOPIC_ID_LEN 32 /* bytes; 64 hex characters in text */
#define CONFIG_NODE_ID_HEX 64  /* Ed25519 public key in hex */
#define CONFIG_HOST_MAX 253    /* DNS name or IP literal */
#define CONFIG_PEERS_MAX 32
#define CONFIG_UPSTREAMS_MAX 8
#define CONFIG_ALLOW_MAX 64
#define CONFIG_IFACES_MAX 16
#define CONFIG_IFNAME_MAX 15 /* IFNAMSIZ - 1 */
#define CONFIG_WARNINGS_MAX 8
#define CONFIG_WARNING_LEN 192
#define CONFIG_ERR_LEN 512 /* an err buffer this size never truncates the key or reason */

#define CONFIG_DNS_PORT 53
#define CONFIG_GOSSIP_PORT 7947
#define CONFIG_METRICS_PORT 9153
#define CONFIG_DEFAULT_SECRET "default_insecure_secret"

/* GLUED_CLUSTER_SECRET is a comma list of 1..CONFIG_SECRETS_MAX secrets.
 * Splits list into ptr/len (not NUL-terminated; no copy) and returns how many
 * (0 for a list that config would refuse: an empty entry or too many). */
size_t config_secrets(const char *list, const char *ptr[CONFIG_SECRETS_MAX],
		      size_t len[CONFIG_SECRETS_MAX]);
/* Is CONFIG_DEFAULT_SECRET one of the secrets of list? */
bool config_secret_is_default(const char *list);

enum config_key_id {
	CONFIG_KEY_NETWORK_NAME,
	CONFIG_KEY_DNS_BIND,
	CONFIG_KEY_BIND_IP,
	CONFIG_KEY_TOPIC_ID,
	CONFIG_KEY_BOOTSTRAP_PEERS,
	CONFIG_KEY_CLUSTER_SECRET,
	CONFIG_KEY_LOG,
	CONFIG_KEY_LOG_FORMAT,
	CONFIG_KEY_GOSSIP_BIND,
	CONFIG_KEY_UPSTREAMS,
	CONFIG_KEY_ALLOW,
	CONFIG_KEY_TTL,
	CONFIG_KEY_NEG_TTL_MAX,
	CONFIG_KEY_HOSTS_FILE,
	CONFIG_KEY_STATE_DIR,
	CONFIG_KEY_BPF_PIN,
	CONFIG_KEY_XDP,
	CONFIG_KEY_XDP_IFACES,
	CONFIG_KEY_CONTAINER_FASTPATH,
	CONFIG_KEY_CTL_SOCKET,
	CONFIG_KEY_METRICS_BIND,
	CONFIG_KEY_RESYNC,
	CONFIG_KEY_DOCKER_HOST,
	/* Response rate limiting (core/rrl.h, docs/security.md) */
	CONFIG_KEY_RRL_RATE,
	CONFIG_KEY_RRL_SLIP,
	CONFIG_KEY_RRL_PREFIX4,
	CONFIG_KEY_RRL_PREFIX6,
	CONFIG_KEY_RRL_EXEMPT,
	CONFIG_KEY_COUNT
};

/* Where a key's value came from. Ordered: a higher source wins. */
enum config_source {
	CONFIG_SRC_DEFAULT = 0,
	CONFIG_SRC_FILE,
	CONFIG_SRC_ENV,
};

enum config_format {
	CONFIG_FMT_UNKNOWN = 0,
	CONFIG_FMT_JSON,
	CONFIG_FMT_TOML,
};

enum config_xdp {
	CONFIG_XDP_AUTO = 0, /* use the fast path where the kernel allows, else userspace */
	CONFIG_XDP_OFF,
	CONFIG_XDP_ON, /* failing to attach is fatal */
};

/* One bootstrap peer as written: "host", "host:port", "nodeid@host[:port]"
 * or a bare "nodeid" (found by the LAN beacon). Names are not resolved here. */
struct config_peer {
	char node_id[CONFIG_NODE_ID_HEX + 1]; /* lowercase hex, "" when not given */
	char host[CONFIG_HOST_MAX +
		  1];  /* IP literal without brackets or DNS name; "" for a bare node ID */
	uint16_t port; /* host order; CONFIG_GOSSIP_PORT when not given */
};

struct glued_config {
	char network_name[CONFIG_NETWORK_NAME_MAX + 1];

	/* Effective DNS listen endpoint: GLUED_DNS_BIND, with its address
	 * replaced by GLUED_BIND_IP when that is set from the same or a higher
	 * source (see docs/configuration.md). */
	struct glued_endpoint dns_bind;
	struct glued_endpoint dns_bind_spec; /* GLUED_DNS_BIND as given */
	bool bind_ip_set;
	struct glued_addr bind_ip;

	bool topic_id_set; /* false: the caller picks a random one */
	uint8_t topic_id[CONFIG_TOPIC_ID_LEN];
	size_t n_peers;
	struct config_peer peers[CONFIG_PEERS_MAX];
	char cluster_secret[CONFIG_SECRET_MAX + 1];
	bool cluster_secret_default; /* the default is one of the secrets: LAN only */
	struct glued_endpoint gossip_bind;

	enum log_level log_level;
	bool log_json;

	bool upstreams_set; /* false: the caller reads /etc/resolv.conf */
	size_t n_upstreams;
	struct glued_endpoint upstreams[CONFIG_UPSTREAMS_MAX];
	bool allow_set; /* false: allow[] holds the defaults; add the watched subnets */
	size_t n_allow;
	struct glued_cidr allow[CONFIG_ALLOW_MAX];
	uint32_t ttl_s;
	uint32_t neg_ttl_max_s; /* forwarder: cap on a cached negative answer */

	char hosts_file[CONFIG_PATH_MAX + 1]; /* "" = none */
	char state_dir[CONFIG_PATH_MAX + 1];
	char bpf_pin[CONFIG_PATH_MAX + 1];
	enum config_xdp xdp;
	size_t n_xdp_ifaces;
	char xdp_ifaces[CONFIG_IFACES_MAX][CONFIG_IFNAME_MAX + 1];
	/* GLUED_CONTAINER_FASTPATH: auto (true) answers inside each watched
	 * container's netns wherever the fast path is on; off (false). */
	bool container_fastpath;
	char ctl_socket[CONFIG_SUN_PATH_MAX + 1];
	bool metrics_enabled; /* false: GLUED_METRICS_BIND=off */
	struct glued_endpoint metrics_bind;
	uint32_t resync_s;
	char docker_socket[CONFIG_SUN_PATH_MAX + 1]; /* path from DOCKER_HOST=unix://PATH */
	/* Response rate limiting: answers larger than their query, per source
	 * prefix, to sources outside rrl_exempt (and the watched subnets). */
	uint32_t rrl_rate;    /* responses/s per prefix; 0: off */
	uint32_t rrl_slip;    /* every Nth limited response truncated; 0: none */
	uint32_t rrl_prefix4; /* IPv4 prefix length of a bucket */
	uint32_t rrl_prefix6; /* IPv6 prefix length of a bucket */
	size_t n_rrl_exempt;
	struct glued_cidr rrl_exempt[CONFIG_ALLOW_MAX];

	uint8_t source[CONFIG_KEY_COUNT]; /* enum config_source per key */

	/* Things the caller should log at warn level (unknown GLUED_* variables,
	 * an alias shadowed by its primary name, ...). */
	size_t n_warnings;
	size_t n_warnings_dropped;
	char warnings[CONFIG_WARNINGS_MAX][CONFIG_WARNING_LEN];
};

/* What the key table says about a key, for --help, docs and logs. */
struct config_key_info {
	const char *env;	 /* "GLUED_DNS_BIND" */
	const char *alias;	 /* "GLUED_NETWORK", or NULL */
	const char *def;	 /* default as text, or NULL when unset by default */
	const char *unset_means; /* when def is NULL: what happens ("random", ...) */
	const char *help;	 /* one sentence */
};

/* The table entry for a key; never NULL for a valid id. */
const struct config_key_info *config_key_info(enum config_key_id id);

/* Every key at its default. Defaults are the table's default texts run
 * through the same parsers as user values. */
void config_defaults(struct glued_config *c);

/* Apply a config file's bytes (not NUL-terminated). `path` is used only in
 * messages. Unknown keys, a key given twice, bad syntax and bad values are
 * errors. Returns 0, or GLUED_ECONFIG with one line in err. On error *c is
 * partly updated and must be discarded. */
int config_apply_file(struct glued_config *c, const char *text, size_t len, enum config_format fmt,
		      const char *path, char *err, size_t errlen) GLUED_MUST_CHECK;

/* Apply the environment (NULL-terminated "NAME=value" array). Empty values
 * count as unset. Unknown GLUED_* names become warnings. Returns 0 or
 * GLUED_ECONFIG with one line in err. */
int config_apply_env(struct glued_config *c, char **envp, char *err,
		     size_t errlen) GLUED_MUST_CHECK;

/* The whole sequence main.c wants: defaults, then the file (when text is
 * not NULL), then the environment, so the environment wins. */
int config_load(struct glued_config *c, char **envp, const char *text, size_t len,
		enum config_format fmt, const char *path, char *err,
		size_t errlen) GLUED_MUST_CHECK;

/* ".json" → JSON, ".toml" → TOML, anything else CONFIG_FMT_UNKNOWN. */
enum config_format config_format_from_path(const char *path);

enum config_help_style {
	CONFIG_HELP_TEXT,     /* for --help */
	CONFIG_HELP_MARKDOWN, /* the key table in docs/configuration.md */
};

/* Describe every key into buf (always NUL-terminated when len > 0).
 * Returns the length the full text needs, like snprintf. */
size_t config_help(char *buf, size_t len, enum config_help_style style);

#endif
