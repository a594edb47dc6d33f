/* libFuzzer target: rrl_slip() (core/rrl.c) on arbitrary bytes, which is
 * what it gets from an upstream when a forwarded answer is slipped. Beyond
 * "no crash, no sanitizer report": a slip is never longer than the
 * response, keeps the ID and QR/opcode/RD, sets TC, carries no answer or
 * authority record and at most the one OPT, and its question is the
 * response's, byte for byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/dns_wire.h"
#include "core/rrl.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *m;
	size_t n;

	if (size > DNS_TCP_MAX)
		return 0;
	m = malloc(size ? size : 1);
	if (!m)
		return 0;
	memcpy(m, data, size);
	n = rrl_slip(m, size);
	CHECK(n <= size);
	if (n) {
		struct dns_msg_info mi;
		uint16_t qd = (uint16_t)(m[4] << 8 | m[5]);

		CHECK(n >= DNS_HDR_LEN);
		CHECK(!memcmp(m, data, 2));				     /* ID */
		CHECK((m[2] & ~0x02) == (data[2] & ~0x02) && (m[2] & 0x02)); /* TC set */
		CHECK(m[3] == data[3]);
		CHECK(qd <= 1 && !m[6] && !m[7] && !m[8] && !m[9] && !m[10] && m[11] <= 1);
		/* The question as it was, then the OPT (if any), which walks. */
		{
			struct wire w = wire_init(m, n);
			size_t qend;

			wire_skip(&w, DNS_HDR_LEN);
			if (qd) {
				dns_skip_name(&w);
				wire_skip(&w, 4);
			}
			CHECK(!w.err);
			qend = wire_offset(&w);
			CHECK(!memcmp(m + DNS_HDR_LEN, data + DNS_HDR_LEN, qend - DNS_HDR_LEN));
			CHECK(m[11] ? n > qend : n == qend);
			if (m[11])
				CHECK(dns_msg_scan(m, n, qend, &mi) == 0 && mi.opt_off == qend &&
				      mi.end == n);
		}
	}
	free(m);
	return 0;
}
