/* fastpath_attach_points(), the one list the control API and gluedctl show:
 * every hook in the loader's record, whatever its kind and mode. A clsact
 * filter (Debian 12's 6.1 has no tcx) has no link and no pin, and must be
 * listed all the same: the record, not the pins, is what is read. The
 * kernel side (attaching) is exercised by tests/e2e/40-fastpath.bats. */
#include <stdlib.h>
#include <string.h>

#include "io/fastpath_int.h"
#include "t.h"

static void hook_add(struct fastpath *fp, int kind, const char *ifname, unsigned ifindex,
		     const char *mode, int link_fd, bool adopted)
{
	for (size_t i = 0; i < FP_HOOKS_MAX; i++) {
		struct fp_hook *h = &fp->hooks[i];

		if (h->used)
			continue;
		*h = (struct fp_hook){.used = true,
				      .adopted = adopted,
				      .kind = kind,
				      .ifindex = ifindex,
				      .link_fd = link_fd,
				      .mode = mode};
		strcpy(h->ifname, ifname);
		return;
	}
	abort();
}

int main(void)
{
	struct fastpath *fp = calloc(1, sizeof(*fp));
	struct fastpath_attach at[FP_HOOKS_MAX];
	size_t n;

	if (!fp)
		return 1;
	hook_add(fp, HOOK_TC, "lo", 1, "clsact", -1, false);
	hook_add(fp, HOOK_TC, "br-1a2b3c4d5e6f", 7, "tcx", 40, true);
	hook_add(fp, HOOK_XDP, "eth0", 2, "native", 41, false);
	fp->hooks[FP_HOOKS_MAX - 1] = (struct fp_hook){
	    .used = true, .kind = HOOK_XDP, .ifindex = 9, .link_fd = 42, .mode = "generic"};
	strcpy(fp->hooks[FP_HOOKS_MAX - 1].ifname, "mv0");

	T_CASE("an inactive fast path holds no hook")
	{
		T_EQ_INT(fastpath_attach_points(fp, at, FP_HOOKS_MAX), 0);
		T_EQ_INT(fastpath_attach_points(NULL, at, FP_HOOKS_MAX), 0);
	}

	fp->active = true;
	T_CASE("every hook is listed: a clsact filter without a link, tcx, native and generic XDP")
	{
		n = fastpath_attach_points(fp, at, FP_HOOKS_MAX);
		T_EQ_INT(n, 4);
		T_EQ_STR(at[0].ifname, "lo");
		T_EQ_STR(at[0].hook, "tc");
		T_EQ_STR(at[0].mode, "clsact");
		T_EQ_INT(at[0].ifindex, 1);
		T_EQ_INT(at[0].adopted, 0);
		T_EQ_STR(at[1].mode, "tcx");
		T_EQ_INT(at[1].adopted, 1);
		T_EQ_STR(at[2].hook, "xdp");
		T_EQ_STR(at[2].mode, "native");
		T_EQ_STR(at[3].ifname, "mv0");
		T_EQ_STR(at[3].mode, "generic");
	}

	T_CASE("the caller's bound is kept")
	{
		T_EQ_INT(fastpath_attach_points(fp, at, 2), 2);
		T_EQ_STR(at[1].ifname, "br-1a2b3c4d5e6f");
	}

	free(fp);
	return t_summary();
}
