/* libFuzzer target: dns_parse_query() and the name helpers on arbitrary
 * bytes. Beyond "no crash, no sanitizer report" it checks what a caller
 * relies on when the parse succeeds: bounded name, label count, offsets
 * inside the message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/dns_wire.h"
#include "fuzz.h"

static void check_name(const uint8_t *name, size_t len)
{
	size_t i = 0;

	CHECK(len >= 1 && len <= DNS_NAME_MAX);
	while (name[i]) {
		CHECK(name[i] <= DNS_LABEL_MAX);
		i += 1u + name[i];
		CHECK(i < len);
	}
	CHECK(i + 1 == len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_query q;
	char text[DNS_NAME_MAX * 4], label[DNS_LABEL_MAX + 1];
	uint8_t name[DNS_NAME_MAX], name_len;
	size_t next;
	int rc = dns_parse_query(&q, data, size);

	CHECK(rc == 0 || rc == GLUED_ETRUNC || rc == GLUED_EFORMERR || rc == GLUED_EPROTO);
	CHECK(q.header_ok == (size >= DNS_HDR_LEN));
	if (rc == GLUED_EPROTO)
		CHECK(q.flags & DNS_QR);
	if (q.question_ok) {
		size_t labels = 0;

		check_name(q.qname, q.qname_len);
		for (size_t i = 0; q.qname[i]; i += 1u + q.qname[i])
			labels++;
		CHECK(labels == q.labels);
		CHECK(q.question_end <= size);
		CHECK(dns_query_first_label(&q, label) <= DNS_LABEL_MAX);
		CHECK(dns_name_to_text(q.qname, q.qname_len, text, sizeof(text)) < sizeof(text));
		CHECK(dns_name_eq(q.qname, q.qname_len, q.qname, q.qname_len));
	}
	if (rc == 0) {
		CHECK(q.question_ok && q.qdcount == 1 && !q.ancount && !q.nscount);
		CHECK(!(q.flags & DNS_QR));
		if (q.edns) {
			CHECK(q.opt_offset >= q.question_end && q.opt_len >= 11);
			CHECK((size_t)q.opt_offset + q.opt_len <= size);
			CHECK(data[q.opt_offset] == 0 || (data[q.opt_offset] & 0xc0) == 0xc0);
		}
		uint16_t lim = dns_query_udp_limit(&q);
		CHECK(lim >= DNS_UDP_MIN && lim <= DNS_UDP_MAX);
	}

	/* Names at a few offsets chosen by the input itself. */
	for (size_t k = 0; k < 4 && k < size; k++) {
		size_t off = data[k] % (size + 1);

		rc = dns_name_parse(data, size, off, name, &name_len, &next);
		CHECK(rc == 0 || rc == GLUED_ETRUNC || rc == GLUED_EFORMERR);
		if (rc == 0) {
			check_name(name, name_len);
			CHECK(next > off && next <= size);
		}
	}
	return 0;
}
