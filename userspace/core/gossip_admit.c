/* Directly connected subnets: see gossip_admit.h. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "core/gossip_admit.h"

void gossip_local_reset(struct gossip_local *l)
{
	memset(l, 0, sizeof(*l));
}

int gossip_local_add(struct gossip_local *l, const struct glued_addr *a, unsigned plen)
{
	struct glued_cidr c = {.addr = *a, .prefix = (uint8_t)plen};
	unsigned bits = a->family == AF_INET ? 32 : a->family == AF_INET6 ? 128 : 0;

	if (!bits || plen > bits)
		return -EINVAL;
	for (unsigned i = plen; i < 128; i++)
		c.addr.b[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
	for (size_t i = 0; i < l->n; i++)
		if (l->net[i].prefix == c.prefix && addr_eq(&l->net[i].addr, &c.addr))
			return 0;
	if (l->n == GOSSIP_LOCAL_MAX) {
		l->dropped++;
		return GLUED_ELIMIT;
	}
	l->net[l->n++] = c;
	return 0;
}

static void unmap(struct glued_addr *a)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (a->family == AF_INET6 && memcmp(a->b, mapped, sizeof(mapped)) == 0) {
		memmove(a->b, a->b + 12, 4);
		memset(a->b + 4, 0, 12);
		a->family = AF_INET;
	}
}

bool gossip_local_contains(const struct gossip_local *l, const struct glued_addr *a)
{
	struct glued_addr x = *a;

	unmap(&x);
	if (addr_is_loopback(&x))
		return true;
	for (size_t i = 0; i < l->n; i++)
		if (cidr_contains(&l->net[i], &x))
			return true;
	return false;
}
