/* The Docker watcher's decisions, without I/O: which Engine API request to
 * make next, what its answer means for the table, and when the session is
 * over.
 *
 * Sans-IO contract: the caller asks docker_sync_next() what to do, does it
 * (an HTTP GET over the engine's socket, opening or reading the /events
 * stream, sleeping), and hands the result back: docker_sync_on_response()
 * for an answer, docker_sync_on_event() for one line of the stream while the
 * request is FOLLOW, docker_sync_on_failure() when the transport failed. Time
 * comes in as now_ms. Records and connection state leave in order through
 * out->update; things worth a log line leave through out->note (the core
 * never logs). One session at a time; a failure ends it, and the next
 * request is a SLEEP (backoff) and then a fresh session.
 *
 * What the core owns: the published set (container ID -> digest of the entry
 * last sent, and the list pass that last saw it), the network info last
 * sent, the reconcile sweep, the periodic resync and the missed-event
 * watchdog, and the reconnect backoff. docs/docker.md tells the protocol.
 *
 * Not thread-safe: one thread drives it. It allocates while a list body is
 * parsed (the IDs) and when the published set grows.
 */
#ifndef GLUED_CORE_DOCKER_SYNC_H
#define GLUED_CORE_DOCKER_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/docker_json.h"
#include "lib/counter.h"
#include "core/table.h"
#include "lib/err.h"

#define DOCKER_SYNC_BACKOFF_MIN_MS 100	/* first retry after a failure ... */
#define DOCKER_SYNC_BACKOFF_MAX_MS 3000 /* ... doubling up to this */
#define DOCKER_SYNC_REQUEST_MS 10000	/* timeout of every GET but the ping */
#define DOCKER_SYNC_MISSES_MAX 16	/* resync changes we try to explain */
#define DOCKER_SYNC_EXPLAIN_MS 500	/* how long events may lag a resync */
#define DOCKER_SYNC_PATH_MAX 256

enum docker_update_kind {
	DOCKER_UPDATE_PUT,     /* .put: publish (replace) this container's entry */
	DOCKER_UPDATE_DEL,     /* .del_owner: withdraw the entry (origin 0) of this owner */
	DOCKER_UPDATE_NETWORK, /* .network: the watched network's info changed */
	DOCKER_UPDATE_STATE,   /* .state: connected to / lost the engine */
};

struct docker_update {
	enum docker_update_kind kind;
	union {
		/* origin 0, owner = full container ID, names lowercased and
		 * valid, 1..2 addresses, updated_ms = the now_ms of the call
		 * that read the inspect. */
		struct table_entry put;
		char del_owner[TABLE_OWNER_MAX + 1];
		/* All zero (id "") when the network does not exist (anymore). */
		struct docker_network network;
		struct {
			bool connected;
			unsigned api_major, api_minor; /* when connected */
			char reason[160];	       /* when disconnected */
		} state;
	};
	/* PUT: NetworkSettings.SandboxKey, the file of the container's network
	 * namespace (the container fast path enters it); "" when the engine
	 * gave none usable. A new one (docker restart) is a new PUT even when
	 * the names and addresses stay. */
	char sandbox[DOCKER_SANDBOX_MAX + 1];
};

/* Worth a log line; the caller decides its level and rate. */
enum docker_note {
	DOCKER_NOTE_CONNECTED,	    /* session up (text: the API version, "1.41") */
	DOCKER_NOTE_LOST,	    /* a connected session ended (text: why) */
	DOCKER_NOTE_CANNOT_CONNECT, /* first failure while not connected (text: why) */
	DOCKER_NOTE_STILL_DOWN,	    /* later failures (text: why) */
	DOCKER_NOTE_NET_MISSING,    /* the watched network does not exist; waiting for it */
	DOCKER_NOTE_NET_CHANGED,    /* it was created or removed (text: action); resyncing */
	DOCKER_NOTE_EVENT,	    /* an event the watcher acts on (id, text: action) */
	DOCKER_NOTE_NO_MEMORY,	    /* cannot track id: not published this time */
};

struct docker_sync_out {
	void *ctx;
	/* Called in the order the changes happen; u is valid during the call. */
	void (*update)(void *ctx, const struct docker_update *u);
	/* id is a container ID or ""; text as listed above. */
	void (*note)(void *ctx, enum docker_note note, const char *id, const char *text);
};

struct docker_sync_cfg {
	const char *network;	  /* copied; must pass docker_sync_network_valid() */
	unsigned resync_ms;	  /* full resync + watchdog period; 0 = 30000 */
	unsigned ping_timeout_ms; /* watchdog ping; 0 = 2000 */
};

enum docker_req_kind {
	DOCKER_REQ_VERSION,   /* GET .path ("/version", no API prefix) */
	DOCKER_REQ_SUBSCRIBE, /* open the /events stream at .path; answer with its HTTP status
			       * once the engine sent its headers (body NULL) */
	DOCKER_REQ_NETWORK,   /* GET .path (/networks/<net>) */
	DOCKER_REQ_LIST,      /* GET .path (/containers/json filtered by network) */
	DOCKER_REQ_INSPECT,   /* GET .path (/containers/<.id>/json) */
	DOCKER_REQ_PING,      /* GET .path (/_ping), watchdog */
	DOCKER_REQ_FOLLOW,    /* feed complete stream lines to docker_sync_on_event(), one per
			       * call and only while this stays the request; wait for more
			       * until .until_ms, then ask again */
	DOCKER_REQ_SLEEP,     /* session over: close the stream, ask again at .until_ms */
};

struct docker_req {
	enum docker_req_kind kind;
	/* GET and SUBSCRIBE: path after the "/v<major>.<minor>" prefix (no
	 * prefix while api_major is 0), and its timeout. */
	char path[DOCKER_SYNC_PATH_MAX];
	unsigned api_major, api_minor;
	unsigned timeout_ms;
	char id[DOCKER_ID_MAX + 1]; /* INSPECT: the container */
	uint64_t until_ms;	    /* FOLLOW, SLEEP */
};

/* The watcher's counters (lib/counter.h): field, kind, metric, labels,
 * help. A stall is a watchdog tear-down: the ping failed or a resync found
 * misses. */
#define DOCKER_COUNTERS(X)                                                                         \
	X(connected, flag, "glued_docker_connected", "",                                           \
	  "1 while glued is connected to the Docker engine.")                                      \
	X(events, counter, "glued_docker_events_total", "", "Docker events read.")                 \
	X(event_errors, counter, "glued_docker_event_errors_total", "",                            \
	  "Docker event lines that did not parse.")                                                \
	X(inspects, counter, "glued_docker_inspects_total", "", "Container inspects done.")        \
	X(reconnects, counter, "glued_docker_reconnects_total", "",                                \
	  "Connection attempts to the engine after the first.")                                    \
	X(resyncs, counter, "glued_docker_resyncs_total", "", "Full list and inspect passes.")     \
	X(stalls, counter, "glued_docker_stalls_total", "",                                        \
	  "Watchdog tear-downs of the events stream.")                                             \
	X(published, gauge, "glued_docker_containers", "",                                         \
	  "Containers on the watched network published.")

struct docker_sync_stats {
	DOCKER_COUNTERS(COUNTER_FIELD)
};

/* Docker's network name charset [A-Za-z0-9][A-Za-z0-9_.-]*, at most
 * DOCKER_NAME_MAX: it needs no URL or JSON escaping. */
bool docker_sync_network_valid(const char *name);

/* cfg and out are copied. NULL when out of memory or cfg->network is
 * invalid. The first request is VERSION. */
struct docker_sync *docker_sync_new(const struct docker_sync_cfg *cfg,
				    const struct docker_sync_out *out) GLUED_MUST_CHECK_PTR;
void docker_sync_free(struct docker_sync *s);

/* What to do now. Returns the same request until it is answered (GETs,
 * SUBSCRIBE), or until now_ms reaches .until_ms or an event changes it
 * (FOLLOW, SLEEP). */
void docker_sync_next(struct docker_sync *s, uint64_t now_ms, struct docker_req *req);

/* The answer to the pending GET or SUBSCRIBE: HTTP status and body (the
 * body may be NULL for SUBSCRIBE). Anything unusable ends the session.
 * Returns 0, or why an inspect body was skipped (the session goes on; the
 * caller may log it for the request's id): a parse error, or GLUED_EPROTO
 * when the body is another container's. */
int docker_sync_on_response(struct docker_sync *s, long status, const char *body, size_t len,
			    uint64_t now_ms);

/* One line of the /events stream (without its '\n'), while the request is
 * FOLLOW. Returns 0, or the parse error of a line that was skipped (counted
 * in event_errors). */
int docker_sync_on_event(struct docker_sync *s, const char *line, size_t len,
			 uint64_t now_ms) GLUED_MUST_CHECK;

/* The pending request or the stream failed (transport, stop of the engine,
 * a line over the bound): why is copied into the STATE update and notes.
 * Ends the session; a failed PING counts as a stall. */
void docker_sync_on_failure(struct docker_sync *s, const char *why, uint64_t now_ms);

void docker_sync_get_stats(const struct docker_sync *s, struct docker_sync_stats *st);

#endif
