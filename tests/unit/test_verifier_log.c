/* The verifier's reason read out of libbpf's load log. Data:
 * 6.18-negative-index.log is real (`bpftool -d prog load` of a program
 * that indexes a packet with a signed value, on this machine's 6.18);
 * 6.1-pkt-math.sample.log is written in libbpf's format around the lines
 * Debian 12's 6.1 printed for glued_xdp_dns (issue 10). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/verifier_log.h"
#include "t.h"
#include "tfile.h"

/* No NUL: the parser must not need one. */
static char *slurp(const char *name, size_t *len)
{
	return t_data_read(NULL, "verifier", name, len, false);
}

static int reason_of(const char *s, struct verifier_reason *r)
{
	return verifier_log_reason(s, strlen(s), r);
}

int main(void)
{
	struct verifier_reason r;
	char line[512];
	size_t len;
	char *text;

	T_CASE("a real 6.18 log gives the last instruction and the words after it")
	{
		text = slurp("6.18-negative-index.log", &len);
		T_EQ_INT(verifier_log_reason(text, len, &r), 0);
		T_EQ_STR(r.prog, "glued_xdp_dns");
		T_EQ_INT(r.insn, 13);
		T_EQ_STR(r.msg, "R1 min value is negative, either use unsigned index or do a if "
				"(index >=0) check.");
		free(text);
	}

	T_CASE("the 6.1 pkt-pointer rejection reads as one sentence")
	{
		text = slurp("6.1-pkt-math.sample.log", &len);
		T_EQ_INT(verifier_log_reason(text, len, &r), 0);
		T_EQ_INT(r.insn, 165);
		verifier_reason_str(&r, line, sizeof(line));
		T_EQ_STR(line,
			 "the kernel verifier rejected glued_xdp_dns at insn 165: math between "
			 "pkt pointer and register with unbounded min value is not allowed");
		free(text);
	}

	T_CASE("a message on two lines is joined; register state and statistics are left out")
	{
		T_EQ_INT(reason_of("libbpf: prog 'glued_tc_dns': -- BEGIN PROG LOAD LOG --\n"
				   "201: (69) r1 = *(u16 *)(r2 +0)\n"
				   "invalid access to packet, off=2 size=2, R2(id=0,off=2,r=0)\n"
				   "R2 offset is outside of the packet\n"
				   "verification time 812 usec\nstack depth 96\n"
				   "processed 310 insns (limit 1000000) max_states_per_insn 1\n"
				   "-- END PROG LOAD LOG --\n",
				   &r),
			 0);
		T_EQ_STR(r.prog, "glued_tc_dns");
		T_EQ_INT(r.insn, 201);
		T_EQ_STR(r.msg,
			 "invalid access to packet, off=2 size=2, R2(id=0,off=2,r=0); R2 offset "
			 "is outside of the packet");
	}

	T_CASE("a rejection before any instruction has no insn number")
	{
		T_EQ_INT(reason_of("libbpf: prog 'p': -- BEGIN PROG LOAD LOG --\nfunc#0 @0\n"
				   "back-edge from insn 12 to 4\nprocessed 0 insns\n"
				   "-- END PROG LOAD LOG --\n",
				   &r),
			 0);
		T_EQ_INT(r.insn, -1);
		verifier_reason_str(&r, line, sizeof(line));
		T_EQ_STR(line, "the kernel verifier rejected p: back-edge from insn 12 to 4");
	}

	T_CASE("the last of two load logs is the one read (libbpf retries)")
	{
		T_EQ_INT(
		    reason_of("libbpf: prog 'a': -- BEGIN PROG LOAD LOG --\n1: (05) goto pc+0\n"
			      "first\n-- END PROG LOAD LOG --\n"
			      "libbpf: prog 'b': -- BEGIN PROG LOAD LOG --\n7: (05) goto pc+0\n"
			      "second\n-- END PROG LOAD LOG --\n",
			      &r),
		    0);
		T_EQ_STR(r.prog, "b");
		T_EQ_INT(r.insn, 7);
		T_EQ_STR(r.msg, "second");
	}

	T_CASE("a log cut before its end marker is read as far as it goes")
	{
		T_EQ_INT(reason_of("libbpf: prog 'p': -- BEGIN PROG LOAD LOG --\n3: (bf) r1 = r2\n"
				   "R2 !read_ok",
				   &r),
			 0);
		T_EQ_INT(r.insn, 3);
		T_EQ_STR(r.msg, "R2 !read_ok");
	}

	T_CASE("no load log, or one with nothing after its last instruction: not found")
	{
		T_EQ_INT(reason_of("libbpf: failed to find valid kernel BTF\n", &r),
			 GLUED_ENOTFOUND);
		T_EQ_INT(reason_of("libbpf: prog 'p': -- BEGIN PROG LOAD LOG --\n4: (95) exit\n"
				   "processed 5 insns\n-- END PROG LOAD LOG --\n",
				   &r),
			 GLUED_ENOTFOUND);
		T_EQ_INT(verifier_log_reason("", 0, &r), GLUED_ENOTFOUND);
	}

	T_CASE("a very long message is cut, NUL-terminated and printable")
	{
		static char big[4096];
		size_t n = (size_t)snprintf(
		    big, sizeof(big),
		    "libbpf: prog 'p': -- BEGIN PROG LOAD LOG --\n9: (b7) r0 = 0\n");

		memset(big + n, 'x', 2000);
		big[n + 10] = '\x01';
		T_EQ_INT(verifier_log_reason(big, n + 2000, &r), 0);
		T_EQ_INT(strlen(r.msg), VERIFIER_MSG_MAX - 1);
		T_ASSERT(r.msg[10] == '?', "control bytes shown as '?', got 0x%02x", r.msg[10]);
	}

	return t_summary();
}
