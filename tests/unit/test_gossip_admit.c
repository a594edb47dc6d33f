/* The directly-connected-subnet filter that guards the default secret. */
#include <errno.h>
#include <sys/socket.h>

#include "core/gossip_admit.h"
#include "t.h"

static struct glued_addr ip(const char *s)
{
	struct glued_addr a;

	T_EQ_INT(addr_parse(&a, s), 0);
	return a;
}

static bool in(const struct gossip_local *l, const char *s)
{
	struct glued_addr a = ip(s);

	return gossip_local_contains(l, &a);
}

int main(void)
{
	struct gossip_local l;
	struct glued_addr a;

	T_CASE("nothing configured: only loopback is local")
	{
		gossip_local_reset(&l);
		T_EQ_INT(in(&l, "127.0.0.1"), 1);
		T_EQ_INT(in(&l, "127.9.8.7"), 1);
		T_EQ_INT(in(&l, "::1"), 1);
		T_EQ_INT(in(&l, "::ffff:127.0.0.1"), 1);
		T_EQ_INT(in(&l, "10.0.0.1"), 0);
		T_EQ_INT(in(&l, "fd00::1"), 0);
	}

	T_CASE("an interface address admits its subnet, not beyond")
	{
		gossip_local_reset(&l);
		a = ip("10.231.0.13");
		T_EQ_INT(gossip_local_add(&l, &a, 24), 0);
		T_EQ_INT(gossip_local_add(&l, &a, 24), 0); /* duplicate */
		a = ip("10.231.0.99");
		T_EQ_INT(gossip_local_add(&l, &a, 24), 0); /* same subnet, another host */
		T_EQ_INT(l.n, 1);
		T_EQ_INT(in(&l, "10.231.0.1"), 1);
		T_EQ_INT(in(&l, "10.231.0.255"), 1);
		T_EQ_INT(in(&l, "10.231.1.1"), 0);
		T_EQ_INT(in(&l, "10.230.0.1"), 0);
		T_EQ_INT(in(&l, "::ffff:10.231.0.7"), 1); /* dual-stack socket */
		T_EQ_INT(in(&l, "::ffff:10.231.9.7"), 0);
		a = ip("fd00:1:2:3::5");
		T_EQ_INT(gossip_local_add(&l, &a, 64), 0);
		T_EQ_INT(in(&l, "fd00:1:2:3:ffff::1"), 1);
		T_EQ_INT(in(&l, "fd00:1:2:4::1"), 0);
		T_EQ_INT(in(&l, "10.231.0.1"), 1);
		a = ip("192.0.2.1");
		T_EQ_INT(gossip_local_add(&l, &a, 32), 0); /* a /32 (point-to-point) */
		T_EQ_INT(in(&l, "192.0.2.1"), 1);
		T_EQ_INT(in(&l, "192.0.2.2"), 0);
	}

	T_CASE("a rescan forgets a subnet that went away")
	{
		gossip_local_reset(&l);
		T_EQ_INT(in(&l, "10.231.0.1"), 0);
	}

	T_CASE("bad prefixes are refused; a full set counts what it dropped")
	{
		gossip_local_reset(&l);
		a = ip("10.0.0.1");
		T_EQ_INT(gossip_local_add(&l, &a, 33), -EINVAL);
		a = ip("fd00::1");
		T_EQ_INT(gossip_local_add(&l, &a, 129), -EINVAL);
		for (unsigned i = 0; i < GOSSIP_LOCAL_MAX; i++) {
			a = ip("10.0.0.0");
			a.b[1] = (uint8_t)i;
			T_EQ_INT(gossip_local_add(&l, &a, 16), 0);
		}
		a = ip("172.16.0.1");
		T_EQ_INT(gossip_local_add(&l, &a, 16), GLUED_ELIMIT);
		T_EQ_INT(l.dropped, 1);
		T_EQ_INT(in(&l, "10.63.1.1"), 1);
		T_EQ_INT(in(&l, "172.16.0.1"), 0);
	}
	return t_summary();
}
