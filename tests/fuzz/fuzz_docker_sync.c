/* libFuzzer target for core/docker_sync: whatever the engine answers, in
 * whatever order the stream and the clock move.
 *
 * The input is a script of records: one op byte, a 16-bit little-endian
 * length, then that many bytes. op % 4: 0 answers the pending request (the
 * first byte picks the HTTP status, the rest is the body), 1 feeds an event
 * line, 2 moves the clock, 3 fails the transport. Checked besides "no crash,
 * no leak, no UB": requests carry a path and, for inspects, a 64-hex ID; a
 * PUT is for the container just inspected and carries valid names; a DEL
 * withdraws only what was published; the published counter matches what the
 * updates say.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/docker_sync.h"
#include "fuzz.h"

#define MIRROR_MAX 256

struct mirror {
	char ids[MIRROR_MAX][DOCKER_ID_MAX + 1];
	size_t n;
	bool overflow;
	struct docker_req req; /* the request being answered */
};

static size_t find(struct mirror *m, const char *id)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->ids[i], id) == 0)
			return i;
	return SIZE_MAX;
}

static void on_update(void *ctx, const struct docker_update *u)
{
	struct mirror *m = ctx;
	size_t i;

	switch (u->kind) {
	case DOCKER_UPDATE_PUT:
		CHECK(m->req.kind == DOCKER_REQ_INSPECT);
		CHECK(strcmp(u->put.owner, m->req.id) == 0);
		CHECK(u->put.n_names >= 1 && u->put.n_addrs >= 1 && u->put.n_addrs <= 2);
		for (size_t k = 0; k < u->put.n_names; k++)
			CHECK(u->put.names[k][0] && !strchr(u->put.names[k], '.'));
		if (find(m, u->put.owner) == SIZE_MAX) {
			if (m->n < MIRROR_MAX)
				strcpy(m->ids[m->n++], u->put.owner);
			else
				m->overflow = true;
		}
		break;
	case DOCKER_UPDATE_DEL:
		i = find(m, u->del_owner);
		CHECK(i != SIZE_MAX || m->overflow);
		if (i != SIZE_MAX)
			memcpy(m->ids[i], m->ids[--m->n], sizeof(m->ids[i]));
		break;
	case DOCKER_UPDATE_NETWORK:
		CHECK(u->network.n_subnets <= DOCKER_NET_SUBNETS_MAX);
		break;
	case DOCKER_UPDATE_STATE:
		CHECK(strlen(u->state.reason) < sizeof(u->state.reason));
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long status[] = {200, 200, 200, 404, 500, 0, 304, 200};
	struct mirror m = {0};
	struct docker_sync_out out = {.ctx = &m, .update = on_update};
	struct docker_sync_cfg cfg = {.network = "glued_net", .resync_ms = 1000};
	struct docker_sync *s = docker_sync_new(&cfg, &out);
	struct docker_sync_stats st;
	uint64_t now = 1000;
	size_t off = 0;

	if (!s)
		return 0;
	while (off + 3 <= size) {
		uint8_t op = data[off];
		size_t len = data[off + 1] | (size_t)data[off + 2] << 8;
		const char *body = (const char *)data + off + 3;

		off += 3;
		if (len > size - off)
			len = size - off;
		off += len;
		docker_sync_next(s, now, &m.req);
		if (m.req.kind == DOCKER_REQ_INSPECT)
			CHECK(strlen(m.req.id) == DOCKER_ID_MAX);
		if (m.req.kind != DOCKER_REQ_FOLLOW && m.req.kind != DOCKER_REQ_SLEEP)
			CHECK(m.req.path[0] == '/');
		switch (op % 4) {
		case 0:
			if (m.req.kind == DOCKER_REQ_FOLLOW || m.req.kind == DOCKER_REQ_SLEEP)
				CHECK(docker_sync_on_response(s, 200, "", 0, now) == -EINVAL);
			else if (len)
				(void)docker_sync_on_response(s, status[body[0] & 7], body + 1,
							      len - 1, now);
			else
				(void)docker_sync_on_response(s, 200, NULL, 0, now);
			break;
		case 1:
			if (docker_sync_on_event(s, body, len, now) == -EINVAL)
				CHECK(m.req.kind != DOCKER_REQ_FOLLOW);
			break;
		case 2:
			now += len * 10;
			break;
		default:
			docker_sync_on_failure(s, "fuzz", now);
			break;
		}
	}
	docker_sync_get_stats(s, &st);
	CHECK(m.overflow || st.published == m.n);
	docker_sync_free(s);
	return 0;
}
