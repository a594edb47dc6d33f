/* The DNS server's TCP connection policy (tcp_admit.h). Pure: a view of
 * the slots in, a verdict out. */
#include <string.h>

#include "core/tcp_admit.h"

bool tcp_same_source(const struct glued_addr *a, const struct glued_addr *b)
{
	if (a->family != b->family)
		return false;
	return memcmp(a->b, b->b, a->family == AF_INET6 ? 8 : 4) == 0;
}

enum tcp_admit tcp_admit_decide(const struct tcp_admit_cfg *cfg, const struct tcp_slot_view *slots,
				size_t n, const struct glued_addr *peer, size_t *slot)
{
	size_t free_i = n, idle_i = n, same = 0;

	for (size_t i = 0; i < n; i++) {
		const struct tcp_slot_view *v = &slots[i];

		if (!v->in_use) {
			if (free_i == n)
				free_i = i;
			continue;
		}
		if (tcp_same_source(&v->peer, peer))
			same++;
		if (!v->busy && (idle_i == n || v->last_ms < slots[idle_i].last_ms))
			idle_i = i;
	}
	if (cfg->per_source && same >= cfg->per_source)
		return TCP_ADMIT_REJECT_SOURCE;
	if (free_i < n) {
		*slot = free_i;
		return TCP_ADMIT_FREE;
	}
	if (idle_i < n) {
		*slot = idle_i;
		return TCP_ADMIT_EVICT;
	}
	return TCP_ADMIT_REJECT_FULL;
}

uint64_t tcp_deadline_ms(const struct tcp_admit_cfg *cfg, uint64_t opened_ms, uint64_t last_ms)
{
	uint64_t idle = last_ms + cfg->idle_ms, life = opened_ms + cfg->lifetime_ms;

	return cfg->lifetime_ms && life < idle ? life : idle;
}
