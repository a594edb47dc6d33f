/* libFuzzer target: arbitrary bytes as an upstream's reply to a pending
 * forwarded query (core/fwd.c), then the cache path with what was stored.
 *
 * Input: byte 0 steers (bit 0: give the reply our upstream ID, bit 1: put
 * our question at offset 12, bit 2: reply from a wrong port, bit 3: the
 * client sent EDNS, bit 4: the client takes 65535 bytes (TCP), bit 5: set
 * QR, bit 6: question in mixed case, bit 7: a second waiting client);
 * the rest is the reply. The same bytes are fed up to three times (UDP,
 * then again after a TC=1 retry or failover).
 *
 * Invariants: a reply is accepted only from the upstream's address and
 * port, with our ID, QR=1, opcode QUERY, one question equal to ours
 * (ignoring case); every client reply fits its limit, carries the client's
 * ID, QR=1, the client's question byte for byte, and walks cleanly to its
 * last byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/fwd.h"
#include "fuzz.h"

/* "www.example.com" and the case the client asked in. */
static const uint8_t qname_lc[] = "\3www\7example\3com";
static const uint8_t qname_mc[] = "\3WwW\7exAMPle\3COm";
/* Every query comes from one client, well under the per-client cap. */
static const struct glued_addr client = {.family = AF_INET, .b = {192, 0, 2, 1}};
#define QNAME_LEN 17

struct state {
	uint32_t slot;
	bool sent, tcp;
	uint16_t id;
	int dones;
	uint16_t limit[2], client_id[2];
	bool edns;
	const uint8_t *client_name;
};

static struct state st;
static uint32_t rng_x = 1;

static uint32_t rng(void *ctx GLUED_UNUSED)
{
	rng_x ^= rng_x << 13;
	rng_x ^= rng_x >> 17;
	rng_x ^= rng_x << 5;
	return rng_x;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void on_send(void *ctx GLUED_UNUSED, uint32_t slot,
		    const struct glued_endpoint *to GLUED_UNUSED, bool tcp, const uint8_t *msg,
		    size_t len, uint64_t deadline_ms GLUED_UNUSED)
{
	CHECK(len >= 12 + QNAME_LEN + 4);
	CHECK(memcmp(msg + 12, qname_lc, QNAME_LEN) == 0);
	st.slot = slot;
	st.sent = true;
	st.tcp = tcp;
	st.id = rd16(msg);
}

static void on_done(void *ctx GLUED_UNUSED, uint32_t slot GLUED_UNUSED)
{
	st.dones++;
}

static void check_client_reply(const uint8_t *m, size_t len, uint16_t id, uint16_t limit)
{
	struct wire w = wire_init(m, len);
	unsigned total, opts = 0, last_is_opt = 0;

	CHECK(len >= 12 + QNAME_LEN + 4 && len <= limit);
	CHECK(rd16(m) == id);
	CHECK(rd16(m + 2) & 0x8000);
	CHECK(rd16(m + 4) == 1);
	CHECK(memcmp(m + 12, st.client_name, QNAME_LEN) == 0);
	CHECK(rd16(m + 12 + QNAME_LEN) == DNS_TYPE_A && rd16(m + 14 + QNAME_LEN) == DNS_CLASS_IN);
	total = (unsigned)rd16(m + 6) + rd16(m + 8) + rd16(m + 10);
	wire_seek(&w, 12 + QNAME_LEN + 4);
	for (unsigned i = 0; i < total; i++) {
		dns_skip_name(&w);
		last_is_opt = wire_u16(&w) == DNS_TYPE_OPT;
		opts += last_is_opt;
		wire_skip(&w, 6); /* CLASS, TTL */
		wire_skip(&w, wire_u16(&w));
		CHECK(!w.err);
	}
	CHECK(wire_offset(&w) == len);
	/* Our one OPT, last, goes back exactly to clients that sent one. */
	CHECK(opts == (st.edns ? 1u : 0u));
	CHECK(!st.edns || last_is_opt);
}

static int n_replies;

static void on_reply(void *ctx GLUED_UNUSED, uint32_t waiter, const uint8_t *msg, size_t len)
{
	CHECK(waiter < 2);
	check_client_reply(msg, len, st.client_id[waiter], st.limit[waiter]);
	n_replies++;
}

static void mkquery(struct dns_query *q, uint16_t id, bool edns)
{
	memset(q, 0, sizeof(*q));
	q->id = id;
	q->flags = DNS_RD;
	q->qdcount = 1;
	q->header_ok = true;
	memcpy(q->qname, st.client_name, QNAME_LEN);
	q->qname_len = QNAME_LEN;
	q->labels = 3;
	q->qtype = DNS_TYPE_A;
	q->qclass = DNS_CLASS_IN;
	q->edns = edns;
	q->edns_udp_size = edns ? 1232 : 0;
}

static bool lower_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t x = a[i] >= 'A' && a[i] <= 'Z' ? a[i] + 32 : a[i];
		if (x != b[i])
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fwd_io io = {.send = on_send, .done = on_done, .reply = on_reply};
	struct glued_rng r = {.next = rng};
	struct glued_endpoint up, wrong;
	struct fwd_cfg cfg;
	struct dns_query q;
	const uint8_t *out;
	size_t out_len, len;
	uint8_t ctl, buf[4096];
	uint32_t w;
	struct fwd *f;

	if (size < 1)
		return 0;
	ctl = data[0];
	data++;
	size--;
	if (size > sizeof(buf) - 64)
		size = sizeof(buf) - 64;

	memset(&st, 0, sizeof(st));
	n_replies = 0;
	st.edns = ctl & 8;
	st.client_name = ctl & 64 ? qname_mc : qname_lc;
	fwd_cfg_default(&cfg);
	cfg.cache_max_bytes = 64 << 10;
	cfg.max_inflight = 4;
	cfg.max_waiters = 4;
	f = fwd_new(&cfg, &io, &r);
	CHECK(f);
	CHECK(endpoint_parse(&up, "10.0.0.1:53", 53) == 0);
	CHECK(endpoint_parse(&wrong, "10.0.0.1:54", 53) == 0);
	fwd_set_upstreams(f, &up, 1);

	st.client_id[0] = 0xabcd;
	st.limit[0] = ctl & 16 ? 65535 : 512;
	mkquery(&q, st.client_id[0], st.edns);
	CHECK(fwd_query(f, &q, &client, st.limit[0], 1000, &w, &out, &out_len) == FWD_WAIT &&
	      w == 0);
	if (ctl & 128) {
		st.client_id[1] = 0x1234;
		st.limit[1] = 1232;
		mkquery(&q, st.client_id[1], st.edns);
		CHECK(fwd_query(f, &q, &client, st.limit[1], 1000, &w, &out, &out_len) ==
			  FWD_WAIT &&
		      w == 1);
	}
	CHECK(st.sent);

	for (int round = 0; round < 3 && st.dones == 0; round++) {
		enum fwd_match m;
		uint16_t id;
		bool from_ok = !(ctl & 4);

		memcpy(buf, data, size);
		len = size;
		if (len >= 2 && (ctl & 1)) {
			buf[0] = (uint8_t)(st.id >> 8);
			buf[1] = (uint8_t)st.id;
		}
		if (len >= 3 && (ctl & 32))
			buf[2] |= 0x80;
		if (len >= 12 && (ctl & 2)) {
			if (len < 12 + QNAME_LEN + 4)
				len = 12 + QNAME_LEN + 4;
			memcpy(buf + 12, ctl & 64 ? qname_mc : qname_lc, QNAME_LEN);
			buf[12 + QNAME_LEN] = 0;
			buf[13 + QNAME_LEN] = DNS_TYPE_A;
			buf[14 + QNAME_LEN] = 0;
			buf[15 + QNAME_LEN] = DNS_CLASS_IN;
		}
		id = st.id;
		m = fwd_on_reply(f, st.slot, from_ok ? &up : &wrong, buf, len, 1010 + round);
		if (m == FWD_ACCEPTED) {
			CHECK(from_ok);
			CHECK(len >= 12 + QNAME_LEN + 4);
			CHECK(rd16(buf) == id);
			CHECK(buf[2] & 0x80);
			CHECK((rd16(buf + 2) & DNS_OPCODE_MASK) == 0);
			CHECK(rd16(buf + 4) == 1);
			CHECK(lower_eq(buf + 12, qname_lc, QNAME_LEN));
			CHECK(rd16(buf + 12 + QNAME_LEN) == DNS_TYPE_A);
			CHECK(rd16(buf + 14 + QNAME_LEN) == DNS_CLASS_IN);
		} else {
			CHECK(n_replies == 0);
		}
		if (m == FWD_DROPPED)
			break;
	}
	/* Whatever is still pending ends within the budget. */
	for (uint64_t t = 2000; st.dones == 0 && t <= 1000 + cfg.total_ms + 2 * cfg.attempt_ms;
	     t += cfg.attempt_ms)
		fwd_on_timeout(f, st.slot, t);
	CHECK(st.dones == 1);
	CHECK(n_replies == ((ctl & 128) ? 2 : 1));

	/* The cache path: the same question again, maybe served from what the
	 * reply left in the cache (TTLs aged by 2 s). */
	n_replies = 0;
	st.dones = 0;
	st.client_id[0] = 0x5555;
	mkquery(&q, st.client_id[0], st.edns);
	if (fwd_query(f, &q, &client, st.limit[0], 1000 + 2000, &w, &out, &out_len) == FWD_REPLY)
		check_client_reply(out, out_len, st.client_id[0], st.limit[0]);
	fwd_free(f);
	return 0;
}
