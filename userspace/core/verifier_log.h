/* The reason a BPF program did not load, read out of libbpf's text.
 *
 * When the kernel refuses a program, libbpf prints the verifier's log
 * between "prog 'NAME': -- BEGIN PROG LOAD LOG --" and "-- END PROG LOAD
 * LOG --". The reason is at its end: the last instruction the verifier
 * looked at ("165: (0f) r2 += r1") and the words after it ("math between
 * pkt pointer and register with unbounded min value is not allowed"),
 * followed by statistics ("processed 160 insns ..."). This module turns
 * that text into one sentence an operator can read. It is pure: bytes in,
 * a struct out; it never reads a file, logs or allocates.
 */
#ifndef GLUED_CORE_VERIFIER_LOG_H
#define GLUED_CORE_VERIFIER_LOG_H

#include <stddef.h>

#include "lib/err.h"

#define VERIFIER_PROG_MAX 64
#define VERIFIER_MSG_MAX 384

struct verifier_reason {
	char prog[VERIFIER_PROG_MAX]; /* "glued_xdp_dns"; "" when libbpf did not name it */
	long insn;		      /* the instruction it stopped at; -1 when none is shown */
	char msg[VERIFIER_MSG_MAX];   /* its last words, lines joined by "; " (NUL-terminated) */
};

/* Find the last program load log in text[0..len) (libbpf's messages, as
 * its print callback received them, concatenated; need not be
 * NUL-terminated) and fill *r. Returns 0, or GLUED_ENOTFOUND when the text
 * holds no load log or the log says nothing after its last instruction. A
 * message longer than VERIFIER_MSG_MAX is cut (still NUL-terminated). */
int verifier_log_reason(const char *text, size_t len, struct verifier_reason *r) GLUED_MUST_CHECK;

/* "the kernel verifier rejected glued_xdp_dns at insn 165: math between
 * ..." (without " at insn N" when r->insn < 0, "a program" when r->prog is
 * empty). Returns what snprintf returns. */
int verifier_reason_str(const struct verifier_reason *r, char *buf, size_t n);

#endif
