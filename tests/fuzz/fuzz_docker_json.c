/* libFuzzer target for every Docker JSON parser in core/docker_json.
 *
 * The first input byte picks the parser (so one corpus covers all of them);
 * the rest is the body. Besides "no crash, no leak, no UB", it checks the
 * contracts callers rely on: published entries carry only valid lowercase
 * labels and only addresses of the right family, IDs are 64 hex digits, a
 * SandboxKey is "" or an absolute path with no ".." component, and every
 * string is NUL-terminated within its buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/docker_json.h"
#include "fuzz.h"

static void check_id(const char *id)
{
	size_t n = strnlen(id, DOCKER_ID_MAX + 1);

	CHECK(n == 0 || n == DOCKER_ID_MAX);
	for (size_t i = 0; i < n; i++)
		CHECK((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'));
}

static int on_id(void *ctx, const char *id)
{
	size_t *n = ctx;

	check_id(id);
	CHECK(strlen(id) == DOCKER_ID_MAX);
	return ++*n > DOCKER_LIST_MAX ? 1 : 0;
}

static void check_container(const struct docker_container *c)
{
	const struct table_entry *e = &c->entry;

	check_id(e->owner);
	CHECK(e->n_names <= TABLE_ENTRY_NAMES_MAX && e->n_addrs <= 2);
	for (size_t i = 0; i < e->n_names; i++) {
		size_t n = strnlen(e->names[i], TABLE_NAME_MAX + 1);

		CHECK(n >= 1 && n <= TABLE_NAME_MAX);
		for (size_t k = 0; k < n; k++)
			CHECK(e->names[i][k] != '.' &&
			      !(e->names[i][k] >= 'A' && e->names[i][k] <= 'Z'));
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(e->names[i], e->names[j]) != 0);
	}
	for (size_t i = 0; i < e->n_addrs; i++)
		CHECK(e->addrs[i].family == AF_INET || e->addrs[i].family == AF_INET6);
	CHECK(c->on_network == (e->n_addrs > 0));
	CHECK(strnlen(c->name, sizeof(c->name)) < sizeof(c->name));
	/* The SandboxKey glued opens: "" or an absolute path without ".." */
	CHECK(strnlen(c->sandbox, sizeof(c->sandbox)) < sizeof(c->sandbox));
	CHECK(!c->sandbox[0] || docker_sandbox_valid(c->sandbox, strlen(c->sandbox)));
	CHECK(!strstr(c->sandbox, "/../") && !strchr(c->sandbox, '\n'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data + 1;
	size_t len = size ? size - 1 : 0;
	unsigned maj, min;
	char msg[64];

	if (size == 0)
		return 0;
	switch (data[0] % 6) {
	case 0: {
		size_t n = 0;

		(void)docker_json_parse_list(buf, len, on_id, &n);
		break;
	}
	case 1: {
		struct docker_container c;

		if (docker_json_parse_inspect(buf, len, "glued_net", &c) == 0) {
			check_container(&c);
			(void)docker_container_published(&c);
		}
		break;
	}
	case 2: {
		struct docker_event ev;

		if (docker_json_parse_event(buf, len, &ev) == 0) {
			check_id(ev.container_id);
			check_id(ev.network_id);
			CHECK(strlen(ev.action) <= DOCKER_ACTION_MAX);
			CHECK(ev.type != DOCKER_EV_CONTAINER || ev.container_id[0]);
			(void)docker_event_react(&ev, "glued_net", "");
			(void)docker_event_react(&ev, "glued_net", ev.network_id);
		}
		break;
	}
	case 3: {
		struct docker_network n, m;
		struct glued_addr gw = {.family = AF_INET, .b = {172, 30, 0, 1}};

		if (docker_json_parse_network(buf, len, &n) == 0) {
			check_id(n.id);
			CHECK(n.n_subnets <= DOCKER_NET_SUBNETS_MAX);
			CHECK(strlen(n.bridge) <= DOCKER_IFNAME_MAX);
			m = n;
			CHECK(docker_network_eq(&n, &m));
			(void)docker_network_learn_gateway(&n, &gw);
		}
		break;
	}
	case 4:
		if (docker_json_parse_version(buf, len, &maj, &min) == 0) {
			docker_api_clamp(&maj, &min);
			CHECK(maj == 1 && min >= 24 && min <= DOCKER_API_MINOR_MAX);
		}
		break;
	default:
		docker_json_error_message(buf, len, msg, sizeof(msg));
		CHECK(strlen(msg) < sizeof(msg));
		break;
	}
	return 0;
}
