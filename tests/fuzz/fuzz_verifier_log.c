/* libFuzzer target for the verifier-log reader (the text comes from the
 * kernel through libbpf). Besides "no crash, no leak, no UB", it checks
 * what the one log line relies on: a NUL-terminated, printable message
 * and program name within their bounds, and an insn number of -1 or more.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/verifier_log.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct verifier_reason r;
	char line[VERIFIER_MSG_MAX + VERIFIER_PROG_MAX + 64];
	size_t n;

	if (verifier_log_reason((const char *)data, size, &r))
		return 0;
	n = strnlen(r.msg, sizeof(r.msg));
	CHECK(n > 0 && n < sizeof(r.msg));
	for (size_t i = 0; i < n; i++)
		CHECK(r.msg[i] >= 0x20 && r.msg[i] < 0x7f);
	CHECK(strnlen(r.prog, sizeof(r.prog)) < sizeof(r.prog));
	CHECK(r.insn >= -1);
	CHECK(verifier_reason_str(&r, line, sizeof(line)) > 0);
	return 0;
}
