/* Unit tests of the TCP connection policy: per-source caps (IPv4 address,
 * IPv6 /64), free slots first, the least recently active idle connection
 * evicted when full, busy ones never, and the idle/lifetime deadline. */
#include "core/tcp_admit.h"
#include "t.h"

static struct glued_addr A(const char *s)
{
	struct glued_addr a;

	if (addr_parse(&a, s) != 0)
		abort();
	return a;
}

static struct tcp_slot_view conn(const char *peer, uint64_t last_ms, bool busy)
{
	return (struct tcp_slot_view){ .in_use = true, .busy = busy, .peer = A(peer),
				       .last_ms = last_ms };
}

int main(void)
{
	const struct tcp_admit_cfg cfg = { .per_source = 2, .idle_ms = 10000, .lifetime_ms = 120000 };
	struct glued_addr p;
	size_t slot = 99;

	T_CASE("a free slot is taken first, even when an idle one could be evicted")
	{
		struct tcp_slot_view v[3] = { conn("10.0.0.1", 5, false), { 0 }, conn("10.0.0.2", 1, false) };

		p = A("10.0.0.3");
		T_EQ_INT(tcp_admit_decide(&cfg, v, 3, &p, &slot), TCP_ADMIT_FREE);
		T_EQ_INT(slot, 1);
	}
	T_CASE("a source at its cap is refused although slots are free")
	{
		struct tcp_slot_view v[4] = { conn("10.0.0.1", 5, false), conn("10.0.0.1", 6, true),
					      { 0 }, { 0 } };

		p = A("10.0.0.1");
		T_EQ_INT(tcp_admit_decide(&cfg, v, 4, &p, &slot), TCP_ADMIT_REJECT_SOURCE);
		p = A("10.0.0.2");
		T_EQ_INT(tcp_admit_decide(&cfg, v, 4, &p, &slot), TCP_ADMIT_FREE);
	}
	T_CASE("IPv6: one /64 is one source; another /64 is another")
	{
		struct tcp_slot_view v[3] = { conn("2001:db8:1:2::1", 5, false),
					      conn("2001:db8:1:2:ffff::9", 6, false), { 0 } };

		p = A("2001:db8:1:2:abcd::1");
		T_EQ_INT(tcp_admit_decide(&cfg, v, 3, &p, &slot), TCP_ADMIT_REJECT_SOURCE);
		p = A("2001:db8:1:3::1");
		T_EQ_INT(tcp_admit_decide(&cfg, v, 3, &p, &slot), TCP_ADMIT_FREE);
	}
	T_CASE("IPv4 and IPv6 never count as the same source")
	{
		struct glued_addr a = A("10.0.0.1"), b = A("a00:1::");

		T_ASSERT(!tcp_same_source(&a, &b), "v4 vs v6 with the same leading bytes");
	}
	T_CASE("full: the least recently active idle connection is evicted, never a busy one")
	{
		struct tcp_slot_view v[4] = { conn("10.0.0.1", 50, false), conn("10.0.0.2", 10, true),
					      conn("10.0.0.3", 20, false), conn("10.0.0.4", 30, false) };

		p = A("10.0.0.9");
		T_EQ_INT(tcp_admit_decide(&cfg, v, 4, &p, &slot), TCP_ADMIT_EVICT);
		T_EQ_INT(slot, 2);
	}
	T_CASE("full and every connection busy: refused")
	{
		struct tcp_slot_view v[2] = { conn("10.0.0.1", 50, true), conn("10.0.0.2", 10, true) };

		p = A("10.0.0.9");
		T_EQ_INT(tcp_admit_decide(&cfg, v, 2, &p, &slot), TCP_ADMIT_REJECT_FULL);
	}
	T_CASE("300 connections from one client leave room for another (the issue's scenario)")
	{
		struct tcp_admit_cfg c = { .per_source = 16, .idle_ms = 10000 };
		struct tcp_slot_view v[256] = { { 0 } };
		struct glued_addr bad = A("192.0.2.66"), good = A("192.0.2.1");
		unsigned admitted = 0;

		for (int i = 0; i < 300; i++) {
			enum tcp_admit d = tcp_admit_decide(&c, v, 256, &bad, &slot);

			if (d == TCP_ADMIT_FREE || d == TCP_ADMIT_EVICT) {
				v[slot] = (struct tcp_slot_view){ .in_use = true, .peer = bad,
								  .last_ms = (uint64_t)i };
				admitted++;
			}
		}
		T_EQ_INT(admitted, 16);
		T_EQ_INT(tcp_admit_decide(&c, v, 256, &good, &slot), TCP_ADMIT_FREE);
	}
	T_CASE("deadline: idle after the last byte, but never past the lifetime")
	{
		T_EQ_INT(tcp_deadline_ms(&cfg, 1000, 1000), 11000);
		T_EQ_INT(tcp_deadline_ms(&cfg, 1000, 115000), 121000);
		T_EQ_INT(tcp_deadline_ms(&cfg, 1000, 200000), 121000);
	}
	T_CASE("no lifetime configured: the idle deadline alone")
	{
		struct tcp_admit_cfg c = { .idle_ms = 10000 };

		T_EQ_INT(tcp_deadline_ms(&c, 0, 500000), 510000);
	}
	return t_summary();
}
