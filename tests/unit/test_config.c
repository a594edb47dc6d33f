/* Unit tests of the configuration core: defaults, every key's good values,
 * every key's bad values with the exact one-line error, aliases, BIND_IP and
 * DNS_BIND together, environment over file, JSON and TOML files good and
 * bad, unknown keys, warnings, and the key table in docs/configuration.md
 * matching the code (GLUED_REGEN_DOCS=1 rewrites it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "t.h"

static char err[CONFIG_ERR_LEN];

/* Load with envp given as "NAME=value" strings, no file. */
static int env_load(struct glued_config *c, const char *const *env)
{
	err[0] = '\0';
	return config_load(c, (char **)env, NULL, 0, CONFIG_FMT_UNKNOWN, NULL, err, sizeof(err));
}

static int file_load(struct glued_config *c, const char *text, enum config_format fmt,
		     const char *const *env)
{
	static const char *const none[] = {NULL};

	err[0] = '\0';
	return config_load(c, (char **)(env ? env : none), text, strlen(text), fmt,
			   fmt == CONFIG_FMT_JSON ? "/etc/glued/glued.json"
						  : "/etc/glued/glued.toml",
			   err, sizeof(err));
}

static const char *ep(const struct glued_endpoint *e)
{
	static char buf[4][ENDPOINT_STRLEN];
	static int i;

	i = (i + 1) % 4;
	return endpoint_str(e, buf[i], sizeof(buf[i]));
}

static const char *cidr(const struct glued_cidr *c)
{
	static char buf[64];
	char a[ADDR_STRLEN];

	snprintf(buf, sizeof(buf), "%s/%u", addr_str(&c->addr, a, sizeof(a)), c->prefix);
	return buf;
}

static char *repeat(char ch, size_t n)
{
	static char buf[4][512];
	static int i;

	i = (i + 1) % 4;
	memset(buf[i], ch, n);
	buf[i][n] = '\0';
	return buf[i];
}

static const char HEX64[] = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";

static void test_defaults(void)
{
	struct glued_config c;

	T_CASE("defaults are the documented ones")
	{
		T_EQ_INT(env_load(&c, (const char *const[]){NULL}), 0);
		T_EQ_STR(c.network_name, "glued_net");
		T_EQ_STR(ep(&c.dns_bind), "0.0.0.0:53");
		T_EQ_INT(c.bind_ip_set, 0);
		T_EQ_INT(c.topic_id_set, 0);
		T_EQ_INT(c.n_peers, 0);
		T_EQ_STR(c.cluster_secret, "default_insecure_secret");
		T_EQ_INT(c.cluster_secret_default, 1);
		T_EQ_INT(c.log_level, LOG_LVL_INFO);
		T_EQ_INT(c.log_json, 0);
		T_EQ_STR(ep(&c.gossip_bind), "0.0.0.0:7947");
		T_EQ_INT(c.upstreams_set, 0);
		T_EQ_INT(c.n_upstreams, 0);
		T_EQ_INT(c.allow_set, 0);
		T_EQ_INT(c.n_allow, 8);
		T_EQ_STR(cidr(&c.allow[0]), "127.0.0.0/8");
		T_EQ_STR(cidr(&c.allow[1]), "::1/128");
		T_EQ_STR(cidr(&c.allow[5]), "fc00::/7");
		T_EQ_STR(cidr(&c.allow[7]), "fe80::/10");
		T_EQ_INT(c.ttl_s, 5);
		T_EQ_INT(c.neg_ttl_max_s, 300);
		T_EQ_STR(c.hosts_file, "");
		T_EQ_STR(c.state_dir, "/var/lib/glued");
		T_EQ_STR(c.bpf_pin, "/sys/fs/bpf/glued");
		T_EQ_INT(c.xdp, CONFIG_XDP_AUTO);
		T_EQ_INT(c.n_xdp_ifaces, 0);
		T_EQ_INT(c.container_fastpath, 1);
		T_EQ_STR(c.ctl_socket, "/run/glued/glued.sock");
		T_EQ_INT(c.metrics_enabled, 0);
		T_EQ_INT(c.resync_s, 30);
		T_EQ_STR(c.docker_socket, "/var/run/docker.sock");
		T_EQ_INT(c.rrl_rate, 100);
		T_EQ_INT(c.rrl_slip, 2);
		T_EQ_INT(c.rrl_prefix4, 24);
		T_EQ_INT(c.rrl_prefix6, 56);
		T_EQ_INT(c.n_rrl_exempt, 2);
		T_EQ_STR(cidr(&c.rrl_exempt[0]), "127.0.0.0/8");
		T_EQ_INT(c.n_warnings, 0);
		for (int id = 0; id < CONFIG_KEY_COUNT; id++)
			T_EQ_INT(c.source[id], CONFIG_SRC_DEFAULT);
	}
}

static void test_env_good(void)
{
	struct glued_config c;
	char topic[96], peer[256];

	snprintf(topic, sizeof(topic), "GLUED_TOPIC_ID=%s", HEX64);
	snprintf(peer, sizeof(peer),
		 "GLUED_BOOTSTRAP_PEERS=10.0.0.1, host-1.example:8000,%s@[fd00::1]:7000,%s,fd00::2",
		 HEX64, HEX64);
	const char *env[] = {
	    "GLUED_NETWORK_NAME=My_net.1",
	    "GLUED_DNS_BIND=[::1]:5353",
	    topic,
	    peer,
	    "GLUED_CLUSTER_SECRET=s3cret",
	    "GLUED_LOG=debug",
	    "GLUED_LOG_FORMAT=JSON",
	    "GLUED_GOSSIP_BIND=10.1.2.3",
	    "GLUED_UPSTREAMS=1.1.1.1, [2606:4700::1111]:5353 ,9.9.9.9:53,",
	    "GLUED_ALLOW=10.0.0.0/8,fd00::/8,192.0.2.7",
	    "GLUED_TTL=0",
	    "GLUED_NEG_TTL_MAX=60",
	    "GLUED_HOSTS_FILE=/etc/glued/hosts",
	    "GLUED_STATE_DIR=/tmp/glued",
	    "GLUED_BPF_PIN=/sys/fs/bpf/x",
	    "GLUED_XDP=OFF",
	    "GLUED_XDP_IFACES=eth0,enp1s0.100",
	    "GLUED_CONTAINER_FASTPATH=Off",
	    "GLUED_CTL_SOCKET=/tmp/g.sock",
	    "GLUED_METRICS_BIND=127.0.0.1",
	    "GLUED_RESYNC_S=3600",
	    "DOCKER_HOST=unix:///run/docker.sock",
	    "GLUED_RRL_RATE=0",
	    "GLUED_RRL_SLIP=1",
	    "GLUED_RRL_PREFIX4=32",
	    "GLUED_RRL_PREFIX6=48",
	    "GLUED_RRL_EXEMPT=10.1.0.0/16,fd00::/8",
	    "PATH=/usr/bin",
	    NULL,
	};

	T_CASE("every key takes a good value from the environment")
	{
		T_EQ_INT(env_load(&c, env), 0);
		T_EQ_STR(err, "");
		T_EQ_STR(c.network_name, "My_net.1");
		T_EQ_STR(ep(&c.dns_bind), "[::1]:5353");
		T_EQ_INT(c.topic_id_set, 1);
		T_EQ_INT(c.topic_id[0], 0x00);
		T_EQ_INT(c.topic_id[1], 0x11);
		T_EQ_INT(c.topic_id[31], 0xff);
		T_EQ_INT(c.n_peers, 5);
		T_EQ_STR(c.peers[0].host, "10.0.0.1");
		T_EQ_INT(c.peers[0].port, 7947);
		T_EQ_STR(c.peers[0].node_id, "");
		T_EQ_STR(c.peers[1].host, "host-1.example");
		T_EQ_INT(c.peers[1].port, 8000);
		T_EQ_STR(c.peers[2].host, "fd00::1");
		T_EQ_INT(c.peers[2].port, 7000);
		T_EQ_STR(c.peers[2].node_id,
			 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
		T_EQ_STR(c.peers[3].host, "");
		T_EQ_STR(c.peers[3].node_id, c.peers[2].node_id);
		T_EQ_STR(c.peers[4].host, "fd00::2");
		T_EQ_STR(c.cluster_secret, "s3cret");
		T_EQ_INT(c.cluster_secret_default, 0);
		T_EQ_INT(c.log_level, LOG_LVL_DEBUG);
		T_EQ_INT(c.log_json, 1);
		T_EQ_STR(ep(&c.gossip_bind), "10.1.2.3:7947");
		T_EQ_INT(c.upstreams_set, 1);
		T_EQ_INT(c.n_upstreams, 3);
		T_EQ_STR(ep(&c.upstreams[0]), "1.1.1.1:53");
		T_EQ_STR(ep(&c.upstreams[1]), "[2606:4700::1111]:5353");
		T_EQ_STR(ep(&c.upstreams[2]), "9.9.9.9:53");
		T_EQ_INT(c.allow_set, 1);
		T_EQ_INT(c.n_allow, 3);
		T_EQ_STR(cidr(&c.allow[1]), "fd00::/8");
		T_EQ_STR(cidr(&c.allow[2]), "192.0.2.7/32");
		T_EQ_INT(c.ttl_s, 0);
		T_EQ_INT(c.neg_ttl_max_s, 60);
		T_EQ_STR(c.hosts_file, "/etc/glued/hosts");
		T_EQ_STR(c.state_dir, "/tmp/glued");
		T_EQ_STR(c.bpf_pin, "/sys/fs/bpf/x");
		T_EQ_INT(c.container_fastpath, 0);
		T_EQ_INT(c.xdp, CONFIG_XDP_OFF);
		T_EQ_INT(c.n_xdp_ifaces, 2);
		T_EQ_STR(c.xdp_ifaces[1], "enp1s0.100");
		T_EQ_STR(c.ctl_socket, "/tmp/g.sock");
		T_EQ_INT(c.metrics_enabled, 1);
		T_EQ_STR(ep(&c.metrics_bind), "127.0.0.1:9153");
		T_EQ_INT(c.resync_s, 3600);
		T_EQ_STR(c.docker_socket, "/run/docker.sock");
		T_EQ_INT(c.rrl_rate, 0);
		T_EQ_INT(c.rrl_slip, 1);
		T_EQ_INT(c.rrl_prefix4, 32);
		T_EQ_INT(c.rrl_prefix6, 48);
		T_EQ_INT(c.n_rrl_exempt, 2);
		T_EQ_STR(cidr(&c.rrl_exempt[1]), "fd00::/8");
		T_EQ_INT(c.n_warnings, 0);
		for (int id = 0; id < CONFIG_KEY_COUNT; id++)
			if (id != CONFIG_KEY_BIND_IP)
				T_ASSERT(c.source[id] == CONFIG_SRC_ENV, "%s from the env",
					 config_key_info(id)->env);
	}

	T_CASE("an empty value counts as unset")
	{
		T_EQ_INT(env_load(&c, (const char *const[]){"GLUED_TTL=", "GLUED_UPSTREAMS=",
							    "GLUED_NETWORK_NAME=", NULL}),
			 0);
		T_EQ_INT(c.ttl_s, 5);
		T_EQ_INT(c.upstreams_set, 0);
		T_EQ_STR(c.network_name, "glued_net");
	}

	T_CASE("a bare IPv6 DNS bind gets port 53")
	{
		T_EQ_INT(env_load(&c, (const char *const[]){"GLUED_DNS_BIND=::", NULL}), 0);
		T_EQ_STR(ep(&c.dns_bind), "[::]:53");
	}

	T_CASE("GLUED_METRICS_BIND=off disables metrics; XDP on")
	{
		T_EQ_INT(env_load(&c, (const char *const[]){"GLUED_METRICS_BIND=off",
							    "GLUED_XDP=on", NULL}),
			 0);
		T_EQ_INT(c.metrics_enabled, 0);
		T_EQ_INT(c.xdp, CONFIG_XDP_ON);
	}

	T_CASE("setting the default secret explicitly is still flagged")
	{
		T_EQ_INT(env_load(&c,
				  (const char *const[]){
				      "GLUED_CLUSTER_SECRET=default_insecure_secret", NULL}),
			 0);
		T_EQ_INT(c.cluster_secret_default, 1);
	}

	T_CASE("GLUED_CLUSTER_SECRET is a keyring: a comma list of up to 4")
	{
		const char *ptr[CONFIG_SECRETS_MAX];
		size_t len[CONFIG_SECRETS_MAX];

		T_EQ_INT(
		    env_load(&c, (const char *const[]){"GLUED_CLUSTER_SECRET=new1,old2", NULL}), 0);
		T_EQ_INT(c.cluster_secret_default, 0);
		T_EQ_INT(config_secrets(c.cluster_secret, ptr, len), 2);
		T_EQ_INT(len[0], 4);
		T_EQ_INT(memcmp(ptr[0], "new1", 4), 0);
		T_EQ_INT(len[1], 4);
		T_EQ_INT(memcmp(ptr[1], "old2", 4), 0);
		T_EQ_INT(config_secrets("a,b,c,d,e", ptr, len), 0);
		T_EQ_INT(config_secrets("a,,b", ptr, len), 0);
		T_EQ_INT(config_secrets("a,", ptr, len), 0);
		T_EQ_INT(env_load(&c, (const char *const[]){"GLUED_CLUSTER_SECRET=a,,b", NULL}) < 0,
			 1);
		T_EQ_INT(
		    env_load(&c, (const char *const[]){"GLUED_CLUSTER_SECRET=a,b,c,d,e", NULL}) < 0,
		    1);
	}

	T_CASE("the default secret anywhere in the keyring keeps gossip on the LAN")
	{
		T_EQ_INT(env_load(&c,
				  (const char *const[]){
				      "GLUED_CLUSTER_SECRET=s3cret,default_insecure_secret", NULL}),
			 0);
		T_EQ_INT(c.cluster_secret_default, 1);
		T_EQ_INT(config_secret_is_default("default_insecure_secretX"), 0);
	}
}

static void test_aliases(void)
{
	struct glued_config c;

	T_CASE("GLUED_NETWORK is an alias of GLUED_NETWORK_NAME")
	{
		T_EQ_INT(env_load(&c, (const char *const[]){"GLUED_NETWORK=other", NULL}), 0);
		T_EQ_STR(c.network_name, "other");
		T_EQ_INT(c.n_warnings, 0);
	}
	T_CASE("the primary name wins over its alias, in either order, with a warning")
	{
		T_EQ_INT(env_load(&c, (const char *const[]){"GLUED_NETWORK=alias",
							    "GLUED_NETWORK_NAME=primary", NULL}),
			 0);
		T_EQ_STR(c.network_name, "primary");
		T_EQ_INT(c.n_warnings, 1);
		T_EQ_STR(c.warnings[0], "config: GLUED_NETWORK ignored: GLUED_NETWORK_NAME is set");
	}
	T_CASE("RUST_LOG is an alias of GLUED_LOG, RUST_LOG syntax accepted")
	{
		T_EQ_INT(
		    env_load(&c, (const char *const[]){"RUST_LOG=hyper=info,glued=trace", NULL}),
		    0);
		T_EQ_INT(c.log_level, LOG_LVL_TRACE);
		T_EQ_INT(
		    env_load(&c, (const char *const[]){"RUST_LOG=debug", "GLUED_LOG=warn", NULL}),
		    0);
		T_EQ_INT(c.log_level, LOG_LVL_WARN);
	}
	T_CASE("the same value under both names is no warning")
	{
		T_EQ_INT(
		    env_load(&c, (const char *const[]){"GLUED_LOG=warn", "RUST_LOG=warn", NULL}),
		    0);
		T_EQ_INT(c.n_warnings, 0);
	}
}

static void test_unknown_env(void)
{
	struct glued_config c;
	const char *many[20];

	T_CASE("unknown GLUED_* variables are warnings, not errors; others are ignored")
	{
		T_EQ_INT(env_load(&c, (const char *const[]){"GLUED_TLL=5", "HOME=/root",
							    "RUST_BACKTRACE=1", NULL}),
			 0);
		T_EQ_INT(c.n_warnings, 1);
		T_EQ_STR(c.warnings[0], "config: unknown environment variable GLUED_TLL ignored");
		T_EQ_INT(c.ttl_s, 5);
	}
	T_CASE("warnings are bounded and the overflow counted")
	{
		static char names[19][32];
		for (int i = 0; i < 19; i++) {
			snprintf(names[i], sizeof(names[i]), "GLUED_X%d=1", i);
			many[i] = names[i];
		}
		many[19] = NULL;
		T_EQ_INT(env_load(&c, many), 0);
		T_EQ_INT(c.n_warnings, CONFIG_WARNINGS_MAX);
		T_EQ_INT(c.n_warnings_dropped, 19 - CONFIG_WARNINGS_MAX);
	}
}

static void test_bind_ip(void)
{
	struct glued_config c;

	T_CASE("GLUED_BIND_IP alone: that address, port 53")
	{
		T_EQ_INT(env_load(&c, (const char *const[]){"GLUED_BIND_IP=10.0.0.5", NULL}), 0);
		T_EQ_STR(ep(&c.dns_bind), "10.0.0.5:53");
		T_EQ_INT(c.bind_ip_set, 1);
	}
	T_CASE("GLUED_BIND_IP with GLUED_DNS_BIND: BIND_IP's address, DNS_BIND's port")
	{
		T_EQ_INT(env_load(&c, (const char *const[]){"GLUED_DNS_BIND=127.0.0.1:5353",
							    "GLUED_BIND_IP=fd00::53", NULL}),
			 0);
		T_EQ_STR(ep(&c.dns_bind), "[fd00::53]:5353");
		T_EQ_STR(ep(&c.dns_bind_spec), "127.0.0.1:5353");
	}
	T_CASE("file dns_bind, env GLUED_BIND_IP: env address, file port")
	{
		T_EQ_INT(file_load(&c, "dns_bind = \"127.0.0.1:5300\"\n", CONFIG_FMT_TOML,
				   (const char *const[]){"GLUED_BIND_IP=10.9.9.9", NULL}),
			 0);
		T_EQ_STR(ep(&c.dns_bind), "10.9.9.9:5300");
	}
	T_CASE("env GLUED_DNS_BIND beats a file bind_ip, with a warning")
	{
		T_EQ_INT(file_load(&c, "bind_ip = \"10.9.9.9\"\n", CONFIG_FMT_TOML,
				   (const char *const[]){"GLUED_DNS_BIND=127.0.0.1:5300", NULL}),
			 0);
		T_EQ_STR(ep(&c.dns_bind), "127.0.0.1:5300");
		T_EQ_INT(c.n_warnings, 1);
		T_ASSERT(strstr(c.warnings[0], "bind_ip from the file ignored") != NULL, "%s",
			 c.warnings[0]);
	}
	T_CASE("both in the file: bind_ip's address, dns_bind's port")
	{
		T_EQ_INT(file_load(&c, "bind_ip = \"10.9.9.9\"\ndns_bind = \"0.0.0.0:54\"\n",
				   CONFIG_FMT_TOML, NULL),
			 0);
		T_EQ_STR(ep(&c.dns_bind), "10.9.9.9:54");
	}
}

/* Every bad value: the key, the value, and the exact reason. */
struct bad {
	const char *name, *value, *reason;
};

static void test_env_bad(void)
{
	static char path300[320], sock120[130], peers33[33 * 12], ups9[9 * 12], allow65[65 * 16];
	char topic_g[65], hexat[80];
	size_t o;

	snprintf(path300, sizeof(path300), "/%s", repeat('p', 299));
	snprintf(sock120, sizeof(sock120), "/%s", repeat('s', 119));
	o = 0;
	for (int i = 0; i < 33; i++)
		o += (size_t)snprintf(peers33 + o, sizeof(peers33) - o, "%s10.0.0.%d", i ? "," : "",
				      i + 1);
	o = 0;
	for (int i = 0; i < 9; i++)
		o +=
		    (size_t)snprintf(ups9 + o, sizeof(ups9) - o, "%s9.9.9.%d", i ? "," : "", i + 1);
	o = 0;
	for (int i = 0; i < 65; i++)
		o += (size_t)snprintf(allow65 + o, sizeof(allow65) - o, "%s10.%d.0.0/16",
				      i ? "," : "", i);
	snprintf(topic_g, sizeof(topic_g), "%.63sg", HEX64);
	snprintf(hexat, sizeof(hexat), "%s@", HEX64);

	const struct bad cases[] = {
	    {"GLUED_NETWORK_NAME", "-net",
	     "not a valid Docker network name (letters, digits, "
	     "'_', '.', '-'; starting with a letter or digit)"},
	    {"GLUED_NETWORK", "my net",
	     "not a valid Docker network name (letters, digits, "
	     "'_', '.', '-'; starting with a letter or digit)"},
	    {"GLUED_NETWORK_NAME", repeat('n', 129), "too long (max 128 bytes)"},
	    {"GLUED_DNS_BIND", "0.0.0.0:99999", "port out of range"},
	    {"GLUED_DNS_BIND", "0.0.0.0:0", "port out of range"},
	    {"GLUED_DNS_BIND", "0.0.0.0:", "missing port after ':'"},
	    {"GLUED_DNS_BIND", "0.0.0.0:5x", "port is not a number"},
	    {"GLUED_DNS_BIND", "1.2.3:53", "not an IP address"},
	    {"GLUED_DNS_BIND", "localhost:53", "not an IP address"},
	    {"GLUED_DNS_BIND", "[1.2.3.4]:53", "brackets are only for IPv6 addresses"},
	    {"GLUED_DNS_BIND", "[::1:53", "missing ']'"},
	    {"GLUED_DNS_BIND", "[::1]53", "unexpected text after ']'"},
	    {"GLUED_DNS_BIND", "fe80::1%eth0", "scoped IPv6 addresses are not supported"},
	    {"GLUED_BIND_IP", "0.0.0.0:53", "not an IP address"},
	    {"GLUED_TOPIC_ID", "abc", "must be 64 hex characters"},
	    {"GLUED_TOPIC_ID", topic_g, "must be 64 hex characters"},
	    {"GLUED_BOOTSTRAP_PEERS", "bad host!", "not a host name or IP address"},
	    {"GLUED_BOOTSTRAP_PEERS", "10.0.0.1:7947,1.2.3.400",
	     "1.2.3.400: not a host name or IP address"},
	    {"GLUED_BOOTSTRAP_PEERS", "10.0.0.1:0", "port out of range"},
	    {"GLUED_BOOTSTRAP_PEERS", "abc@10.0.0.1", "node ID must be 64 hex characters"},
	    {"GLUED_BOOTSTRAP_PEERS", hexat, "missing host after '@'"},
	    {"GLUED_BOOTSTRAP_PEERS", "[1.2.3.4]:7947", "not an IPv6 address"},
	    {"GLUED_BOOTSTRAP_PEERS", peers33, "too many items (max 32)"},
	    {"GLUED_CLUSTER_SECRET", repeat('s', 256), "too long (max 255 bytes)"},
	    {"GLUED_LOG", "loud", "must be error, warn, info, debug or trace"},
	    {"RUST_LOG", "hyper=debug", "must be error, warn, info, debug or trace"},
	    {"GLUED_LOG_FORMAT", "xml", "must be text or json"},
	    {"GLUED_GOSSIP_BIND", "0.0.0.0:70000", "port out of range"},
	    {"GLUED_GOSSIP_BIND", "gossip.local", "not an IP address"},
	    {"GLUED_UPSTREAMS", "1.1.1.1,bogus", "bogus: not an IP address"},
	    {"GLUED_UPSTREAMS", "0.0.0.0", "the unspecified address is not an upstream"},
	    {"GLUED_UPSTREAMS", "[::1]:99999", "port out of range"},
	    {"GLUED_UPSTREAMS", "fe80::1%eth0", "scoped IPv6 addresses are not supported"},
	    {"GLUED_UPSTREAMS", ups9, "too many items (max 8)"},
	    {"GLUED_ALLOW", "10.0.0.0/33", "not a CIDR"},
	    {"GLUED_ALLOW", "10.0.0.0/8,fd00::/129", "fd00::/129: not a CIDR"},
	    {"GLUED_ALLOW", "10/8", "not a CIDR"},
	    {"GLUED_ALLOW", allow65, "too many items (max 64)"},
	    {"GLUED_TTL", "abc", "not a number"},
	    {"GLUED_TTL", "5s", "not a number"},
	    {"GLUED_TTL", "86401", "out of range (0..86400)"},
	    {"GLUED_TTL", "-1", "out of range (0..86400)"},
	    {"GLUED_TTL", "99999999999999999999999", "out of range (0..86400)"},
	    {"GLUED_NEG_TTL_MAX", "5m", "not a number"},
	    {"GLUED_NEG_TTL_MAX", "86401", "out of range (0..86400)"},
	    {"GLUED_HOSTS_FILE", "hosts", "must be an absolute path"},
	    {"GLUED_HOSTS_FILE", path300, "too long (max 255 bytes)"},
	    {"GLUED_STATE_DIR", "var/lib/glued", "must be an absolute path"},
	    {"GLUED_BPF_PIN", "glued", "must be an absolute path"},
	    {"GLUED_XDP", "yes", "must be auto, on or off"},
	    {"GLUED_CONTAINER_FASTPATH", "on", "must be auto or off"},
	    {"GLUED_XDP_IFACES", "eth0,a/b", "a/b: not a valid interface name"},
	    {"GLUED_XDP_IFACES", "averyveryverylongname", "not a valid interface name"},
	    {"GLUED_XDP_IFACES", "..", "not a valid interface name"},
	    {"GLUED_CTL_SOCKET", sock120, "too long for a unix socket path (max 107 bytes)"},
	    {"GLUED_CTL_SOCKET", "run/glued.sock", "must be an absolute path"},
	    {"GLUED_METRICS_BIND", "on", "not an IP address (or off)"},
	    {"GLUED_METRICS_BIND", "127.0.0.1:0", "port out of range (or off)"},
	    {"GLUED_RESYNC_S", "0", "out of range (1..3600)"},
	    {"GLUED_RESYNC_S", "3601", "out of range (1..3600)"},
	    {"DOCKER_HOST", "tcp://10.0.0.1:2375",
	     "scheme tcp:// is not supported, only "
	     "unix:///path"},
	    {"GLUED_RRL_RATE", "1000001", "out of range (0..1000000)"},
	    {"GLUED_RRL_RATE", "fast", "not a number"},
	    {"GLUED_RRL_SLIP", "11", "out of range (0..10)"},
	    {"GLUED_RRL_PREFIX4", "7", "out of range (8..32)"},
	    {"GLUED_RRL_PREFIX6", "64", "out of range (16..56)"},
	    {"GLUED_RRL_EXEMPT", "127.0.0.1/8,lo", "lo: not a CIDR"},
	    {"DOCKER_HOST", "ssh://me@host", "scheme ssh:// is not supported, only unix:///path"},
	    {"DOCKER_HOST", "/var/run/docker.sock", "must be unix:///path/to/docker.sock"},
	    {"DOCKER_HOST", "unix://docker.sock", "must be an absolute path"},
	    {"DOCKER_HOST",
	     "unix:///a/very/long/path/that/does/not/fit/into/sun/path/because/it/"
	     "goes/on/and/on/and/on/and/on/and/on/docker.sock",
	     "too long for a unix socket path (max 107 bytes)"},
	};
	bool covered[CONFIG_KEY_COUNT] = {false};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad *b = &cases[i];
		static char var[2048], want[2048], title[160];
		struct glued_config c;
		int rc;

		snprintf(var, sizeof(var), "%s=%s", b->name, b->value);
		if (!strcmp(b->name, "GLUED_CLUSTER_SECRET")) /* never echoed */
			snprintf(want, sizeof(want), "config: %s=<hidden>: %s", b->name, b->reason);
		else
			snprintf(want, sizeof(want), "config: %s=\"%s\": %s", b->name, b->value,
				 b->reason);
		snprintf(title, sizeof(title), "%s=%.40s is refused: %s", b->name, b->value,
			 b->reason);
		T_CASE(title)
		{
			rc = env_load(&c, (const char *const[]){var, NULL});
			T_EQ_INT(rc, GLUED_ECONFIG);
			if (strlen(b->value) <= 256 || strstr(want, "<hidden>")) {
				T_EQ_STR(err, want);
			} else { /* long values are cut short with "..." */
				char tail[200];
				snprintf(tail, sizeof(tail), "...\": %s", b->reason);
				T_ASSERT(!strncmp(err, want, 100), "%s", err);
				T_ASSERT(strlen(err) > strlen(tail) &&
					     !strcmp(err + strlen(err) - strlen(tail), tail),
					 "%s", err);
			}
			T_ASSERT(!strchr(err, '\n'), "one line");
		}
		for (int id = 0; id < CONFIG_KEY_COUNT; id++) {
			const struct config_key_info *ki = config_key_info(id);
			if (!strcmp(ki->env, b->name) || (ki->alias && !strcmp(ki->alias, b->name)))
				covered[id] = true;
		}
	}
	T_CASE("every key has at least one bad-value case")
	{
		for (int id = 0; id < CONFIG_KEY_COUNT; id++)
			T_ASSERT(covered[id], "no bad case for %s", config_key_info(id)->env);
	}
	T_CASE("a value with a newline or quote is escaped: the error stays one line")
	{
		struct glued_config c;
		T_EQ_INT(env_load(&c, (const char *const[]){"GLUED_XDP=o\"n\nx", NULL}),
			 GLUED_ECONFIG);
		T_EQ_STR(err, "config: GLUED_XDP=\"o\\\"n\\x0ax\": must be auto, on or off");
	}
	T_CASE("a list item with a control character is escaped in the reason too")
	{
		struct glued_config c;
		T_EQ_INT(env_load(&c, (const char *const[]){"GLUED_UPSTREAMS=1.1.1.1,a\nb", NULL}),
			 GLUED_ECONFIG);
		T_EQ_STR(err,
			 "config: GLUED_UPSTREAMS=\"1.1.1.1,a\\x0ab\": a\\x0ab: not an IP address");
	}
	T_CASE("control bytes in a scheme or a path never break the line")
	{
		struct glued_config c;
		T_EQ_INT(env_load(&c, (const char *const[]){"DOCKER_HOST=a\tb://x", NULL}),
			 GLUED_ECONFIG);
		T_EQ_STR(err,
			 "config: DOCKER_HOST=\"a\\x09b://x\": scheme a?b:// is not supported, "
			 "only unix:///path");
		T_EQ_INT(config_load(&c, (char **)(const char *const[]){NULL}, "x = 1", 5,
				     CONFIG_FMT_TOML, "/etc/a\nb.toml", err, sizeof(err)),
			 GLUED_ECONFIG);
		T_EQ_STR(err, "config: /etc/a?b.toml:1: unknown key \"x\"");
	}
	T_CASE("a small err buffer is truncated, not overrun")
	{
		struct glued_config c;
		char small[16];
		T_EQ_INT(config_load(&c, (char **)(const char *const[]){"GLUED_TTL=x", NULL}, NULL,
				     0, CONFIG_FMT_UNKNOWN, NULL, small, sizeof(small)),
			 GLUED_ECONFIG);
		T_EQ_STR(small, "config: GLUED_T");
	}
}

static const char GOOD_TOML[] = "# glued configuration\r\n"
				"\n"
				"network_name = \"prod_net\"   # the watched network\n"
				"glued_dns_bind = '127.0.0.1:5353'\n"
				"cluster_secret = \"a\\\"b\\\\c\\u00e9\\t\"\n"
				"ttl = 30\n"
				"xdp = false\n"
				"upstreams = [\n"
				"  \"1.1.1.1\",   # primary\n"
				"  \"[2001:db8::1]:5300\",\n"
				"]\n"
				"allow = [\"10.0.0.0/8\", '192.168.0.0/16']\n"
				"xdp_ifaces = []\n"
				"docker_host = \"unix:///run/docker.sock\"\n"
				"LOG = \"debug\"\n"
				"metrics_bind = \"[::1]:9100\"";

static void test_toml(void)
{
	struct glued_config c;

	T_CASE("a TOML file with every supported form")
	{
		T_EQ_INT(file_load(&c, GOOD_TOML, CONFIG_FMT_TOML, NULL), 0);
		T_EQ_STR(err, "");
		T_EQ_STR(c.network_name, "prod_net");
		T_EQ_STR(ep(&c.dns_bind), "127.0.0.1:5353");
		T_EQ_STR(c.cluster_secret, "a\"b\\c\xc3\xa9\t");
		T_EQ_INT(c.ttl_s, 30);
		T_EQ_INT(c.xdp, CONFIG_XDP_OFF);
		T_EQ_INT(c.n_upstreams, 2);
		T_EQ_STR(ep(&c.upstreams[1]), "[2001:db8::1]:5300");
		T_EQ_INT(c.n_allow, 2);
		T_EQ_INT(c.allow_set, 1);
		T_EQ_INT(c.n_xdp_ifaces, 0);
		T_EQ_STR(c.docker_socket, "/run/docker.sock");
		T_EQ_INT(c.log_level, LOG_LVL_DEBUG);
		T_EQ_STR(ep(&c.metrics_bind), "[::1]:9100");
		T_EQ_INT(c.source[CONFIG_KEY_TTL], CONFIG_SRC_FILE);
		T_EQ_INT(c.source[CONFIG_KEY_XDP_IFACES], CONFIG_SRC_DEFAULT);
	}
	T_CASE("a list key also takes a comma string in a file; xdp = true is on")
	{
		T_EQ_INT(file_load(&c,
				   "upstreams = \"1.1.1.1, 8.8.8.8\"\nxdp = true\nttl = \"7\"\n",
				   CONFIG_FMT_TOML, NULL),
			 0);
		T_EQ_INT(c.n_upstreams, 2);
		T_EQ_INT(c.xdp, CONFIG_XDP_ON);
		T_EQ_INT(c.ttl_s, 7);
	}
	T_CASE("an empty file changes nothing")
	{
		T_EQ_INT(file_load(&c, "", CONFIG_FMT_TOML, NULL), 0);
		T_EQ_INT(c.ttl_s, 5);
	}

	const struct {
		const char *text, *want;
	} bad[] = {
	    {"ttl = 5\n[glued]\n", "config: /etc/glued/glued.toml:2: tables are not supported "
				   "(the file is flat)"},
	    {"glued.ttl = 5\n", "config: /etc/glued/glued.toml:1: dotted keys are not supported"},
	    {"\n\nttl 5\n", "config: /etc/glued/glued.toml:3: expected '=' after ttl"},
	    {"= 5\n", "config: /etc/glued/glued.toml:1: expected a key"},
	    {"\"ttl\" = 5\n", "config: /etc/glued/glued.toml:1: expected a key"},
	    {"ttl =\n", "config: /etc/glued/glued.toml:1: ttl: missing value after '='"},
	    {"ttl = 1.5\n", "config: /etc/glued/glued.toml:1: ttl: not a supported value "
			    "(strings, integers, booleans, arrays of strings)"},
	    {"ttl = 5 6\n", "config: /etc/glued/glued.toml:1: ttl: unexpected text after the "
			    "value"},
	    {"dns_bind = \"0.0.0.0:53\n",
	     "config: /etc/glued/glued.toml:1: dns_bind: unterminated string"},
	    {"dns_bind = \"\"\"x\"\"\"\n",
	     "config: /etc/glued/glued.toml:1: dns_bind: multi-line strings are not supported"},
	    {"dns_bind = \"a\\qb\"\n",
	     "config: /etc/glued/glued.toml:1: dns_bind: unknown escape in string"},
	    {"dns_bind = \"\\ud800\"\n",
	     "config: /etc/glued/glued.toml:1: dns_bind: bad \\u escape"},
	    {"upstreams = [1, 2]\n",
	     "config: /etc/glued/glued.toml:1: upstreams: arrays may hold only strings"},
	    {"upstreams = [\n\"1.1.1.1\"\n\"8.8.8.8\"]\n",
	     "config: /etc/glued/glued.toml:3: upstreams: expected ',' or ']' in array"},
	    {"upstreams = [\"1.1.1.1\",\n", "config: /etc/glued/glued.toml:2: upstreams: "
					    "unterminated array"},
	    {"ttl = 5\ndns_bnd = \"1.2.3.4\"\n",
	     "config: /etc/glued/glued.toml:2: unknown key \"dns_bnd\""},
	    {"network = \"a\"\n\nglued_network_name = \"b\"\n",
	     "config: /etc/glued/glued.toml:3: \"glued_network_name\": already set on line 1"},
	    {"ttl = 1\nttl = 2\n",
	     "config: /etc/glued/glued.toml:2: \"ttl\": already set on line 1"},
	    {"# x\n\ndns_bind = \"0.0.0.0:99999\"\n",
	     "config: /etc/glued/glued.toml:3: dns_bind=\"0.0.0.0:99999\": port out of range"},
	    {"ttl = \"abc\"\n", "config: /etc/glued/glued.toml:1: ttl=\"abc\": not a number"},
	    {"ttl = true\n", "config: /etc/glued/glued.toml:1: ttl=true: must be an integer"},
	    {"ttl = 90000\n",
	     "config: /etc/glued/glued.toml:1: ttl=90000: out of range (0..86400)"},
	    {"dns_bind = 53\n", "config: /etc/glued/glued.toml:1: dns_bind=53: must be a string"},
	    {"dns_bind = [\"0.0.0.0\"]\n",
	     "config: /etc/glued/glued.toml:1: dns_bind=[\"0.0.0.0\"]: must be a string"},
	    {"log_format = false\n",
	     "config: /etc/glued/glued.toml:1: log_format=false: must be a string"},
	    {"xdp = 1\n", "config: /etc/glued/glued.toml:1: xdp=1: must be a string or a boolean"},
	    {"upstreams = 5\n", "config: /etc/glued/glued.toml:1: upstreams=5: must be a string or "
				"an array of strings"},
	    {"upstreams = [\"1.1.1.1\", \"\"]\n",
	     "config: /etc/glued/glued.toml:1: upstreams=[\"1.1.1.1\", \"\"]: empty item"},
	    {"upstreams = [\"1.1.1.1\", \"x\"]\n",
	     "config: /etc/glued/glued.toml:1: upstreams=[\"1.1.1.1\", \"x\"]: x: not an IP "
	     "address"},
	    {"cluster_secret = 5\n",
	     "config: /etc/glued/glued.toml:1: cluster_secret=<hidden>: must be a string"},
	    {"docker_host = \"tcp://h:1\"\n", "config: /etc/glued/glued.toml:1: "
					      "docker_host=\"tcp://h:1\": scheme tcp:// is not "
					      "supported, only unix:///path"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char title[200];
		snprintf(title, sizeof(title), "bad TOML: %s", bad[i].want + 8);
		T_CASE(title)
		{
			T_EQ_INT(file_load(&c, bad[i].text, CONFIG_FMT_TOML, NULL), GLUED_ECONFIG);
			T_EQ_STR(err, bad[i].want);
		}
	}
	T_CASE("a NUL byte in a file is refused")
	{
		T_EQ_INT(config_load(&c, (char **)(const char *const[]){NULL}, "ttl = 5\0\n", 9,
				     CONFIG_FMT_TOML, "/x.toml", err, sizeof(err)),
			 GLUED_ECONFIG);
		T_EQ_STR(err, "config: /x.toml: file contains a NUL byte");
	}
}

static void test_json(void)
{
	struct glued_config c;

	T_CASE("a JSON file with strings, integers, booleans, arrays and null")
	{
		T_EQ_INT(
		    file_load(&c,
			      "{\"glued_network\": \"j_net\", \"ttl\": 60, \"xdp\": true,\n"
			      " \"upstreams\": [\"9.9.9.9\", \"[2620:fe::fe]:53\"],\n"
			      " \"bootstrap_peers\": \"10.0.0.2:7000\", \"hosts_file\": null,\n"
			      " \"GLUED_RESYNC_S\": 10, \"rust_log\": \"warn\"}",
			      CONFIG_FMT_JSON, NULL),
		    0);
		T_EQ_STR(err, "");
		T_EQ_STR(c.network_name, "j_net");
		T_EQ_INT(c.ttl_s, 60);
		T_EQ_INT(c.xdp, CONFIG_XDP_ON);
		T_EQ_INT(c.n_upstreams, 2);
		T_EQ_STR(ep(&c.upstreams[1]), "[2620:fe::fe]:53");
		T_EQ_INT(c.n_peers, 1);
		T_EQ_INT(c.peers[0].port, 7000);
		T_EQ_STR(c.hosts_file, "");
		T_EQ_INT(c.resync_s, 10);
		T_EQ_INT(c.log_level, LOG_LVL_WARN);
	}

	const struct {
		const char *text, *want;
	} bad[] = {
	    {"{\"ttl\": 5,\n \"x\" 1}", "config: /etc/glued/glued.json:2: ':' expected near '1'"},
	    {"[1, 2]", "config: /etc/glued/glued.json: the top level must be an object"},
	    {"{\"ttl\": \"x\"}", "config: /etc/glued/glued.json: ttl=\"x\": not a number"},
	    {"{\"ttl\": 1.5}", "config: /etc/glued/glued.json: ttl: must be an integer"},
	    {"{\"ttl\": 100000}",
	     "config: /etc/glued/glued.json: ttl=100000: out of range (0..86400)"},
	    {"{\"upstreams\": [1]}", "config: /etc/glued/glued.json: upstreams: must be a string "
				     "or an array of strings"},
	    {"{\"upstreams\": {}}", "config: /etc/glued/glued.json: upstreams: must be a string "
				    "or an array of strings"},
	    {"{\"dns_bind\": true}",
	     "config: /etc/glued/glued.json: dns_bind=true: must be a string"},
	    {"{\"dns_bnd\": \"1.2.3.4\"}",
	     "config: /etc/glued/glued.json: unknown key \"dns_bnd\""},
	    {"{\"network\": \"a\", \"network_name\": \"b\"}",
	     "config: /etc/glued/glued.json: \"network_name\": set twice"},
	    {"{\"upstreams\": [\"1.1.1.1\", \"2.2.2.2\", \"3.3.3.3\", \"4.4.4.4\", \"5.5.5.5\", "
	     "\"6.6.6.6\", \"7.7.7.7\", \"8.8.8.8\", \"9.9.9.9\"]}",
	     "config: /etc/glued/glued.json: upstreams=[\"1.1.1.1\", \"2.2.2.2\", \"3.3.3.3\", "
	     "\"4.4.4.4\", \"5.5.5.5\", \"6.6.6.6\", \"7.7.7.7\", \"8.8.8.8\", \"9.9.9.9\"]: too "
	     "many items (max 8)"},
	    {"{\"gossip_bind\": \"0.0.0.0:99999\"}",
	     "config: /etc/glued/glued.json: gossip_bind=\"0.0.0.0:99999\": port out of range"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char title[200];
		snprintf(title, sizeof(title), "bad JSON: %s", bad[i].want + 8);
		T_CASE(title)
		{
			T_EQ_INT(file_load(&c, bad[i].text, CONFIG_FMT_JSON, NULL), GLUED_ECONFIG);
			T_EQ_STR(err, bad[i].want);
		}
	}
	T_CASE("duplicate JSON keys are refused")
	{
		T_EQ_INT(file_load(&c, "{\"ttl\": 1, \"ttl\": 2}", CONFIG_FMT_JSON, NULL),
			 GLUED_ECONFIG);
		T_ASSERT(!strncmp(err, "config: /etc/glued/glued.json:", 30), "%s", err);
		T_ASSERT(strstr(err, "duplicate") != NULL, "%s", err);
	}
}

static void test_precedence(void)
{
	struct glued_config c;

	T_CASE("the environment wins over the file, key by key")
	{
		T_EQ_INT(file_load(&c,
				   "ttl = 10\nnetwork = \"from_file\"\nupstreams = [\"1.1.1.1\"]\n",
				   CONFIG_FMT_TOML,
				   (const char *const[]){"GLUED_TTL=20", "GLUED_UPSTREAMS=", NULL}),
			 0);
		T_EQ_INT(c.ttl_s, 20);
		T_EQ_INT(c.source[CONFIG_KEY_TTL], CONFIG_SRC_ENV);
		T_EQ_STR(c.network_name, "from_file");
		T_EQ_INT(c.source[CONFIG_KEY_NETWORK_NAME], CONFIG_SRC_FILE);
		/* an empty variable is unset: the file's list stays */
		T_EQ_INT(c.n_upstreams, 1);
		T_EQ_INT(c.upstreams_set, 1);
	}
	T_CASE("an environment list replaces the file's list whole")
	{
		T_EQ_INT(file_load(&c, "{\"allow\": [\"10.0.0.0/8\", \"fd00::/8\"]}",
				   CONFIG_FMT_JSON,
				   (const char *const[]){"GLUED_ALLOW=192.168.1.0/24", NULL}),
			 0);
		T_EQ_INT(c.n_allow, 1);
		T_EQ_STR(cidr(&c.allow[0]), "192.168.1.0/24");
	}
	T_CASE("a bad environment value fails even when the file was good")
	{
		T_EQ_INT(file_load(&c, "ttl = 10\n", CONFIG_FMT_TOML,
				   (const char *const[]){"GLUED_TTL=x", NULL}),
			 GLUED_ECONFIG);
		T_EQ_STR(err, "config: GLUED_TTL=\"x\": not a number");
	}
}

static void test_format(void)
{
	struct glued_config c;

	T_CASE("format from the path")
	{
		T_EQ_INT(config_format_from_path("/etc/glued/glued.json"), CONFIG_FMT_JSON);
		T_EQ_INT(config_format_from_path("/etc/glued/glued.TOML"), CONFIG_FMT_TOML);
		T_EQ_INT(config_format_from_path("glued.conf"), CONFIG_FMT_UNKNOWN);
		T_EQ_INT(config_format_from_path("json"), CONFIG_FMT_UNKNOWN);
	}
	T_CASE("an unknown format is sniffed: '{' is JSON, else TOML")
	{
		T_EQ_INT(config_load(&c, (char **)(const char *const[]){NULL}, " {\"ttl\": 9}", 11,
				     CONFIG_FMT_UNKNOWN, "/x.conf", err, sizeof(err)),
			 0);
		T_EQ_INT(c.ttl_s, 9);
		T_EQ_INT(config_load(&c, (char **)(const char *const[]){NULL}, "ttl = 8", 7,
				     CONFIG_FMT_UNKNOWN, "/x.conf", err, sizeof(err)),
			 0);
		T_EQ_INT(c.ttl_s, 8);
	}
}

/* The docs table is generated from the key table; keep them equal. */
static void test_help_and_docs(void)
{
	static const char begin[] = "<!-- config-keys:begin -->\n",
			  end[] = "<!-- config-keys:end -->";
	size_t need = config_help(NULL, 0, CONFIG_HELP_MARKDOWN), tlen;
	char *md = malloc(need + 1), *text, *doc = NULL, *b, *e;
	FILE *f;
	long flen;

	config_help(md, need + 1, CONFIG_HELP_MARKDOWN);
	tlen = config_help(NULL, 0, CONFIG_HELP_TEXT);
	text = malloc(tlen + 1);
	T_CASE("--help text names every key, its alias and its default")
	{
		T_EQ_INT(config_help(text, tlen + 1, CONFIG_HELP_TEXT), tlen);
		T_EQ_INT(strlen(text), tlen);
		for (int id = 0; id < CONFIG_KEY_COUNT; id++) {
			const struct config_key_info *ki = config_key_info(id);
			T_ASSERT(strstr(text, ki->env), "%s in help", ki->env);
			T_ASSERT(!ki->alias || strstr(text, ki->alias), "%s in help", ki->alias);
			T_ASSERT(strstr(text, ki->def ? ki->def : ki->unset_means), "default of %s",
				 ki->env);
		}
		T_ASSERT(config_key_info(CONFIG_KEY_COUNT) == NULL, "out of range id");
	}
	T_CASE("config_help truncates like snprintf")
	{
		char small[8];
		T_EQ_INT(config_help(small, sizeof(small), CONFIG_HELP_TEXT), tlen);
		T_EQ_INT(strlen(small), 7);
	}
	T_CASE("docs/configuration.md carries the generated key table")
	{
		f = fopen("docs/configuration.md", "rb");
		T_ASSERT(f != NULL, "run from the repository root");
		if (f) {
			fseek(f, 0, SEEK_END);
			flen = ftell(f);
			rewind(f);
			doc = calloc(1, (size_t)flen + 1);
			T_ASSERT(fread(doc, 1, (size_t)flen, f) == (size_t)flen, "read");
			fclose(f);
		}
		b = doc ? strstr(doc, begin) : NULL;
		e = b ? strstr(b, end) : NULL;
		T_ASSERT(!doc || (b && e), "markers present");
		if (b && e) {
			b += strlen(begin);
			bool same = (size_t)(e - b) == strlen(md) && !memcmp(b, md, strlen(md));
			if (!same && getenv("GLUED_REGEN_DOCS")) {
				f = fopen("docs/configuration.md", "wb");
				fwrite(doc, 1, (size_t)(b - doc), f);
				fputs(md, f);
				fputs(e, f);
				fclose(f);
				same = true;
			}
			T_ASSERT(same, "key table differs; GLUED_REGEN_DOCS=1 %s rewrites it",
				 "build/asan/tests/unit/test_config");
		}
	}
	free(doc);
	free(md);
	free(text);
}

int main(void)
{
	test_defaults();
	test_env_good();
	test_aliases();
	test_unknown_env();
	test_bind_ip();
	test_env_bad();
	test_toml();
	test_json();
	test_precedence();
	test_format();
	test_help_and_docs();
	return t_summary();
}
