/* Docker Engine API JSON → glued's records and decisions.
 *
 * Pure core: it turns response bodies of the Engine API (container list,
 * container inspect, one /events line, network inspect, /version) into fixed
 * structs, and decides what an event means for the watched network. It does
 * no I/O, no logging and keeps no state between calls; every body is
 * untrusted: sizes are bounded, every field is type-checked, and a wrong type
 * is either an error (for what the record needs) or ignored (for the rest).
 * Allocation happens only inside jansson while a body is parsed.
 *
 * Every parse function returns 0 or a negative code: GLUED_EMALF (not JSON,
 * or a required field missing or of the wrong type), GLUED_ELIMIT (body or a
 * field larger than the bounds below), -ENOMEM.
 */
#ifndef GLUED_CORE_DOCKER_JSON_H
#define GLUED_CORE_DOCKER_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "core/table.h"
#include "lib/addr.h"
#include "lib/err.h"

#define DOCKER_ID_MAX 64		  /* full container / network ID: 64 hex digits */
#define DOCKER_NAME_MAX 127		  /* container or network name we keep */
#define DOCKER_ACTION_MAX 63		  /* event action ("start", "exec_start: sh -c ...") */
#define DOCKER_IFNAME_MAX 15		  /* IFNAMSIZ - 1 */
#define DOCKER_NET_SUBNETS_MAX 8	  /* IPAM.Config entries we keep */
#define DOCKER_LIST_MAX 65536		  /* containers in one list response */
#define DOCKER_BODY_MAX (32u << 20)	  /* list / inspect / network / version bodies */
#define DOCKER_EVENT_LINE_MAX (64u << 10) /* one /events line */
#define DOCKER_SANDBOX_MAX 255		  /* NetworkSettings.SandboxKey we keep */
#define DOCKER_API_MAJOR_MAX 1		  /* API versions we speak: 1.x ... */
#define DOCKER_API_MINOR_MAX 44		  /* ... up to 1.44 (DNSNames) */

/* GET /containers/json → call fn(ctx, id) for each container's full ID (64
 * lowercase hex digits, NUL-terminated; entries without a valid Id are
 * skipped). fn returns non-zero to stop; that value is returned. More than
 * DOCKER_LIST_MAX entries: GLUED_ELIMIT before fn is called. */
typedef int (*docker_id_fn)(void *ctx, const char *id);
int docker_json_parse_list(const char *buf, size_t len, docker_id_fn fn,
			   void *ctx) GLUED_MUST_CHECK;

/* GET /containers/{id}/json for one watched network. */
struct docker_container {
	/* origin 0, owner = full ID, names = container name (without '/'),
	 * the network's Aliases and DNSNames, lowercased, deduplicated, valid
	 * single labels only; addrs = IPAddress and GlobalIPv6Address on the
	 * watched network. updated_ms is left 0 (the caller's clock). */
	struct table_entry entry;
	char name[DOCKER_NAME_MAX + 1]; /* as Docker spells it, without '/' */
	bool running;			/* State.Running */
	bool on_network;		/* Networks.<net> exists with an address */
	size_t names_dropped;		/* invalid, duplicate or beyond the cap */
	struct glued_addr gw4, gw6;	/* Gateway / IPv6Gateway; family 0 if none */
	/* NetworkSettings.SandboxKey: the bind-mounted file of the container's
	 * network namespace ("/var/run/docker/netns/0123abcd4567"), "" when
	 * absent, empty (a stopped container) or unusable: not absolute, a
	 * ".." component, a control byte, or longer than DOCKER_SANDBOX_MAX. */
	char sandbox[DOCKER_SANDBOX_MAX + 1];
};
int docker_json_parse_inspect(const char *buf, size_t len, const char *network,
			      struct docker_container *c) GLUED_MUST_CHECK;
/* True when the container should be in the table: running, on the network
 * with an address, and carrying at least one name. */
bool docker_container_published(const struct docker_container *c);
/* Is s usable as a SandboxKey (the rules above)? Pure. */
bool docker_sandbox_valid(const char *s, size_t len);
/* Is s a full Docker ID: exactly DOCKER_ID_MAX lowercase hex digits? Pure. */
bool docker_id_valid(const char *s, size_t len);

enum docker_event_type {
	DOCKER_EV_OTHER = 0,
	DOCKER_EV_CONTAINER,
	DOCKER_EV_NETWORK,
};

/* One line of GET /events. Strings are NUL-terminated, "" when absent. */
struct docker_event {
	enum docker_event_type type;
	char action[DOCKER_ACTION_MAX + 1]; /* truncated if longer */
	char container_id[DOCKER_ID_MAX +
			  1]; /* container: Actor.ID; network: Attributes.container */
	char network_name[DOCKER_NAME_MAX + 1]; /* network events: Attributes.name */
	char network_id[DOCKER_ID_MAX + 1];	/* network events: Actor.ID */
	char name[DOCKER_NAME_MAX + 1];		/* container events: Attributes.name */
	char old_name[DOCKER_NAME_MAX + 1];	/* rename: Attributes.oldName without '/' */
	/* Podman's compat API puts the container of a network connect/disconnect
	 * in Actor.ID and its name in Attributes.name (container_id and name
	 * here) and names the network in Attributes.network (5.x: network_name)
	 * or nowhere (4.x: network_unnamed, network_name ""). */
	bool network_unnamed;
};
int docker_json_parse_event(const char *buf, size_t len, struct docker_event *ev) GLUED_MUST_CHECK;

/* What the watcher does about one event, for the network it watches
 * (net_id may be "" while unknown). */
enum docker_reaction {
	DOCKER_REACT_NONE = 0,
	DOCKER_REACT_INSPECT,  /* re-inspect ev->container_id and publish or withdraw */
	DOCKER_REACT_WITHDRAW, /* ev->container_id left the network or is gone */
	DOCKER_REACT_RESYNC,   /* the watched network was created or removed */
};
enum docker_reaction docker_event_react(const struct docker_event *ev, const char *net_name,
					const char *net_id);

/* GET /networks/{name}. */
struct docker_subnet {
	struct glued_cidr cidr;
	struct glued_addr gateway; /* family 0 when Docker did not say */
};
struct docker_network {
	char id[DOCKER_ID_MAX + 1];
	char name[DOCKER_NAME_MAX + 1];
	char driver[DOCKER_NAME_MAX + 1];
	size_t n_subnets; /* unparsable IPAM.Config entries are skipped */
	struct docker_subnet subnets[DOCKER_NET_SUBNETS_MAX];
	/* Bridge interface on this host: Options["com.docker.network.bridge.name"],
	 * else "br-" + the first 12 digits of the ID; "" for other drivers. */
	char bridge[DOCKER_IFNAME_MAX + 1];
};
int docker_json_parse_network(const char *buf, size_t len,
			      struct docker_network *n) GLUED_MUST_CHECK;
/* Fill the gateway of the subnet containing gw if it has none (Docker 20.10
 * omits IPAM.Config[].Gateway unless the user set it; container inspect
 * carries it). Returns true if n changed. */
bool docker_network_learn_gateway(struct docker_network *n, const struct glued_addr *gw);
bool docker_network_eq(const struct docker_network *a, const struct docker_network *b);

/* GET /version → ApiVersion "1.41" as major.minor. GLUED_EMALF if absent. */
int docker_json_parse_version(const char *buf, size_t len, unsigned *major,
			      unsigned *minor) GLUED_MUST_CHECK;
/* Clamp a version the engine reports to what we speak (1.24 .. 1.44). */
void docker_api_clamp(unsigned *major, unsigned *minor);

/* An error body {"message": "..."} → msg (truncated, NUL-terminated, control
 * bytes replaced by '?'); "" if it is not one. Never fails. */
void docker_json_error_message(const char *buf, size_t len, char *msg, size_t size);

#endif
