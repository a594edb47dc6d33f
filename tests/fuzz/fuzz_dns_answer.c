/* libFuzzer target: dns_answer() on arbitrary bytes against a small fixed
 * table (short and long address lists, a v4-only name, PTR-able
 * addresses). Invariants: no reply to QR=1 or to a short header; a reply
 * fits the limit, carries the query's ID, has QR=1, and parses back as a
 * response that ends exactly at its last record; a forwarded query parsed
 * cleanly; dns_build_rcode() replies parse back too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/dns_answer.h"
#include "fuzz.h"
#include "../unit/ttable.h"

static struct table *tbl;

static void setup(void)
{
	static const char *web[] = {"10.0.0.1", "10.0.0.2", "fd00::1"};
	static const char *db[] = {"10.0.0.9"};

	tbl = table_new();
	CHECK(tbl);
	t_table_put(tbl, "c1", "web", web, 3);
	t_table_put(tbl, "c2", "db", db, 1);
	for (int i = 0; i < 6; i++) {
		char owner[16], a[8][48];
		const char *p[8];

		for (int k = 0; k < 8; k++) {
			snprintf(a[k], sizeof(a[k]), i % 2 ? "fd00:1::%d:%d" : "10.1.%d.%d", i, k);
			p[k] = a[k];
		}
		snprintf(owner, sizeof(owner), "big%d", i);
		t_table_put(tbl, owner, "big", p, 8);
	}
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* A response as glued writes it: QR=1, QDCOUNT <= 1, every record whole,
 * nothing after the last one. */
static void check_response(const uint8_t *m, size_t len)
{
	uint8_t name[DNS_NAME_MAX], nl;
	size_t off = DNS_HDR_LEN, next;
	unsigned qd, rrs, opts = 0;

	CHECK(len >= DNS_HDR_LEN);
	CHECK(rd16(m + 2) & DNS_QR);
	CHECK(!(rd16(m + 2) & (DNS_Z | DNS_AD)));
	qd = rd16(m + 4);
	CHECK(qd <= 1 && rd16(m + 8) == 0);
	rrs = rd16(m + 6) + rd16(m + 10);
	if (qd) {
		CHECK(dns_name_parse(m, len, off, name, &nl, &next) == 0);
		CHECK(next + 4 <= len);
		off = next + 4;
	}
	for (unsigned i = 0; i < rrs; i++) {
		CHECK(dns_name_parse(m, len, off, name, &nl, &next) == 0);
		CHECK(next + 10 <= len);
		if (rd16(m + next) == DNS_TYPE_OPT)
			opts++;
		off = next + 10 + rd16(m + next + 8);
		CHECK(off <= len);
	}
	CHECK(off == len);
	CHECK(opts == rd16(m + 10) && opts <= 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[DNS_TCP_MAX];
	static struct dns_answer_stats st;
	static const struct dns_answer_cfg cfg = {.ttl_s = 5};
	struct dns_query q;
	size_t out_len = 0;

	if (!tbl)
		setup();
	/* Both transports; rotation from the input so it varies. */
	for (int tcp = 0; tcp < 2; tcp++) {
		size_t limit = tcp ? DNS_TCP_MAX : 0;
		uint32_t rot = size ? data[size - 1] : 0;
		enum dns_action act = dns_answer(&cfg, tbl, data, size, limit, rot, &q, out,
						 sizeof(out), &out_len, &st);

		if (size < DNS_HDR_LEN || (data[2] & 0x80)) {
			CHECK(act == DNS_ACT_DROP);
			continue;
		}
		CHECK(act == DNS_ACT_REPLY || act == DNS_ACT_FORWARD);
		if (act == DNS_ACT_FORWARD) {
			struct dns_query again;

			CHECK(dns_parse_query(&again, data, size) == 0);
			CHECK(q.question_ok);
			CHECK(dns_build_rcode(&q, DNS_RCODE_SERVFAIL, out, sizeof(out), &out_len) ==
			      0);
		}
		CHECK(out_len <= (tcp ? DNS_TCP_MAX : dns_query_udp_limit(&q)));
		CHECK(rd16(out) == rd16(data));
		check_response(out, out_len);
	}
	return 0;
}
