/* Table → BPF map encoding (see bpf_names.h). Pure: no syscalls, no
 * logging, no allocation; the caller does the bpf_map_* calls.
 */
#include <endian.h>
#include <string.h>
#include <arpa/inet.h>

#include "io/bpf_names.h"

/* The lowercase, zero-padded name and its hash (abi.h: little-endian
 * words, as the program loads them from the packet). */
static int name_lower(const char *name, size_t len, char out[GLUED_NAME_LEN], uint64_t *hash)
{
	uint64_t h = GLUED_NAME_HASH_SEED ^ len, w;

	memset(out, 0, GLUED_NAME_LEN);
	if (len >= GLUED_NAME_LEN || !table_name_valid(name, len))
		return GLUED_EMALF;
	table_lower(out, name, len);
	for (size_t i = 0; i < (len + 7) / 8; i++) {
		memcpy(&w, out + i * 8, 8);
		h = glued_name_hash_step(h, le64toh(w));
	}
	*hash = h;
	return 0;
}

int bpf_names_key(const char *name, size_t len, struct glued_name_key *key)
{
	char lower[GLUED_NAME_LEN];
	uint64_t h = 0;
	int err = name_lower(name, len, lower, &h);

	memset(key, 0, sizeof(*key));
	key->hash = h;
	return err;
}

int bpf_names_encode(const char *name, size_t len, const struct table_answer *ans,
		     struct glued_name_key *key, struct glued_name_val *val)
{
	uint64_t h = 0;
	int err;

	memset(key, 0, sizeof(*key));
	memset(val, 0, sizeof(*val));
	err = name_lower(name, len, val->name, &h);
	if (err)
		return err;
	key->hash = h;
	if (ans->n_v4 > GLUED_V4_MAX) {
		val->flags |= GLUED_NAME_V4_OVERFLOW;
	} else {
		for (size_t i = 0; i < ans->n_v4; i++)
			memcpy(val->v4[i], ans->v4[i].b, 4);
		val->n_v4 = (uint8_t)ans->n_v4;
	}
	if (ans->n_v6 > GLUED_V6_MAX) {
		val->flags |= GLUED_NAME_V6_OVERFLOW;
	} else {
		for (size_t i = 0; i < ans->n_v6; i++)
			memcpy(val->v6[i], ans->v6[i].b, 16);
		val->n_v6 = (uint8_t)ans->n_v6;
	}
	return 0;
}

bool bpf_names_val_holds(const struct glued_name_val *val, const char *name, size_t len)
{
	char lower[GLUED_NAME_LEN];
	uint64_t h;

	return name_lower(name, len, lower, &h) == 0 &&
	       memcmp(lower, val->name, GLUED_NAME_LEN) == 0;
}

void bpf_config_init(struct glued_bpf_config *c, uint32_t ttl_s, uint16_t port)
{
	memset(c, 0, sizeof(*c));
	c->abi_version = GLUED_ABI_VERSION;
	c->ttl_s = ttl_s;
	c->port_be = htons(port);
	c->flags = GLUED_CFG_ENABLED;
}

void bpf_config_set_alive(struct glued_bpf_config *c, uint64_t until_ns)
{
	c->alive_until_ns = until_ns;
}

void bpf_config_set_rrl(struct glued_bpf_config *cfg, uint32_t rate, unsigned prefix4,
			unsigned prefix6)
{
	struct glued_rrl_config *c = &cfg->rrl;
	uint32_t m4 = prefix4 >= 32 ? 0xffffffffu : ~(0xffffffffu >> prefix4);

	memset(c, 0, sizeof(*c));
	if (rate) {
		c->cost_ns = 1000000000ULL / rate;
		c->burst_ns = 1000000000ULL;
	}
	if (prefix6 > GLUED_RRL_PREFIX6_MAX)
		prefix6 = GLUED_RRL_PREFIX6_MAX;
	for (unsigned i = 0; i < 4; i++)
		c->mask4[i] = (uint8_t)(m4 >> (24 - 8 * i));
	for (unsigned i = 0; i < 8; i++) {
		unsigned bits = prefix6 > i * 8 ? prefix6 - i * 8 : 0;

		c->mask6[i] = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
	}
}

int bpf_local_key(const struct glued_addr *a, struct glued_local_key *k)
{
	memset(k, 0, sizeof(*k));
	if (addr_is_any(a))
		return GLUED_EMALF;
	if (a->family == AF_INET) {
		k->family = GLUED_FAMILY_V4;
		memcpy(k->addr, a->b, 4);
	} else if (a->family == AF_INET6) {
		k->family = GLUED_FAMILY_V6;
		memcpy(k->addr, a->b, 16);
	} else {
		return GLUED_EMALF;
	}
	return 0;
}

#define STAT_NAME_(n) #n,
static const char *const stat_names[GLUED_STAT_MAX] = {GLUED_STATS(STAT_NAME_)};
#undef STAT_NAME_

const char *bpf_stat_name(unsigned stat)
{
	return stat < GLUED_STAT_MAX ? stat_names[stat] : NULL;
}
