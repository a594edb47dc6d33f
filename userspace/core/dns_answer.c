/* The answer rules (see dns_answer.h): a query and the name table in,
 * response bytes and an action out. The reply layout is fixed and simple on
 * purpose (no compression beyond c00c, no authority section) because the
 * BPF fast path must build the same bytes. This file never allocates, does
 * I/O, logs or reads a clock.
 */
#include <string.h>
#include <sys/socket.h>

#include "core/dns_answer.h"
#include "lib/wire.h"
#include "lib/hex.h"

#define OPT_RR_LEN 11	/* root, type, class, ttl, rdlength */
#define ANSWER_FIXED 12 /* c00c, type, class, ttl, rdlength */

/* What one reply carries; built by the rules, written by reply_write(). */
struct reply {
	uint8_t rcode; /* 0..16; > 15 goes to the OPT */
	bool aa;
	bool question;
	bool opt;
	uint16_t type; /* of the answers */
	size_t n;      /* answers */
	const struct glued_addr *addrs;
	uint32_t rot;
	const char *ptr; /* PTR target label */
	size_t ptr_len;
};

static size_t rdata_len(const struct reply *r)
{
	switch (r->type) {
	case DNS_TYPE_A:
		return 4;
	case DNS_TYPE_AAAA:
		return 16;
	default:
		return r->ptr_len + 2;
	}
}

static size_t reply_size(const struct dns_query *q, const struct reply *r)
{
	return DNS_HDR_LEN + (r->question ? q->qname_len + 4u : 0) +
	       r->n * (ANSWER_FIXED + rdata_len(r)) + (r->opt ? OPT_RR_LEN : 0);
}

static void reply_write(struct wire_out *o, const struct dns_query *q, const struct reply *r,
			bool tc, uint32_t ttl_s)
{
	uint16_t flags = DNS_QR | (q->flags & (DNS_OPCODE_MASK | DNS_RD | DNS_CD)) | DNS_RA |
			 (r->rcode & DNS_RCODE_MASK);
	size_t n = tc ? 0 : r->n;

	if (r->aa)
		flags |= DNS_AA;
	if (tc)
		flags |= DNS_TC;
	wire_put_u16(o, q->id);
	wire_put_u16(o, flags);
	wire_put_u16(o, r->question ? 1 : 0);
	wire_put_u16(o, (uint16_t)n);
	wire_put_u16(o, 0);
	wire_put_u16(o, r->opt ? 1 : 0);
	if (r->question) {
		wire_put_bytes(o, q->qname, q->qname_len);
		wire_put_u16(o, q->qtype);
		wire_put_u16(o, q->qclass);
	}
	for (size_t k = 0; k < n; k++) {
		wire_put_u16(o, 0xc000 | DNS_HDR_LEN);
		wire_put_u16(o, r->type);
		wire_put_u16(o, DNS_CLASS_IN);
		wire_put_u32(o, ttl_s);
		wire_put_u16(o, (uint16_t)rdata_len(r));
		if (r->type == DNS_TYPE_PTR) {
			wire_put_u8(o, (uint8_t)r->ptr_len);
			wire_put_bytes(o, r->ptr, r->ptr_len);
			wire_put_u8(o, 0);
		} else {
			wire_put_bytes(o, r->addrs[(r->rot % r->n + k) % r->n].b, rdata_len(r));
		}
	}
	if (r->opt) {
		wire_put_u8(o, 0);
		wire_put_u16(o, DNS_TYPE_OPT);
		wire_put_u16(o, DNS_UDP_MAX);
		wire_put_u32(o, (uint32_t)(r->rcode >> 4) << 24 | (q->edns_do ? 0x8000u : 0));
		wire_put_u16(o, 0);
	}
}

/* Write r, or its truncated form when it exceeds limit. Returns 1 if
 * truncated, 0 if whole, GLUED_ESPACE if not even the truncated form fits. */
static int reply_emit(const struct dns_query *q, const struct reply *r, size_t limit,
		      uint32_t ttl_s, uint8_t *out, size_t *out_len)
{
	struct wire_out o = wire_out_init(out, limit);
	bool tc = reply_size(q, r) > limit;

	reply_write(&o, q, r, tc, ttl_s);
	if (o.err)
		return o.err;
	*out_len = wire_out_len(&o);
	return tc;
}

/* --- reverse names ------------------------------------------------------------ */

static bool label_is(const uint8_t *l, const char *s)
{
	size_t n = strlen(s);

	if (l[0] != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = l[1 + i];

		if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != (uint8_t)s[i])
			return false;
	}
	return true;
}

/* The address a PTR name stands for; false if it is not a full reverse
 * name in the strict form described in dns_answer.h. */
static bool reverse_addr(const struct dns_query *q, struct glued_addr *a)
{
	const uint8_t *l = q->qname;

	memset(a, 0, sizeof(*a));
	if (q->labels == 6) {
		for (int i = 3; i >= 0; i--, l += 1 + l[0]) {
			unsigned v = 0;

			if (l[0] < 1 || l[0] > 3 || (l[0] > 1 && l[1] == '0'))
				return false;
			for (size_t k = 1; k <= l[0]; k++) {
				if (l[k] < '0' || l[k] > '9')
					return false;
				v = v * 10 + (l[k] - '0');
			}
			if (v > 255)
				return false;
			a->b[i] = (uint8_t)v;
		}
		if (!label_is(l, "in-addr") || !label_is(l + 1 + l[0], "arpa"))
			return false;
		a->family = AF_INET;
		return true;
	}
	if (q->labels == 34) {
		for (int i = 31; i >= 0; i--, l += 2) {
			int d = l[0] == 1 ? hex_digit(l[1]) : -1;

			if (d < 0)
				return false;
			a->b[i / 2] |= (uint8_t)(i % 2 ? d : d << 4);
		}
		if (!label_is(l, "ip6") || !label_is(l + 1 + l[0], "arpa"))
			return false;
		a->family = AF_INET6;
		return true;
	}
	return false;
}

/* --- the rules ------------------------------------------------------------------ */

/* Decide; fill r for a reply. */
static enum dns_action decide(const struct table *t, const struct dns_query *q, int perr,
			      uint32_t rot, struct reply *r, struct dns_answer_stats *st)
{
	unsigned opcode = (q->flags & DNS_OPCODE_MASK) >> DNS_OPCODE_SHIFT;
	struct table_answer ans;
	struct glued_addr ra;
	char label[DNS_LABEL_MAX + 1];
	size_t len;

	memset(r, 0, sizeof(*r));
	r->aa = true;
	r->question = q->question_ok;
	if (opcode != 0) {
		r->rcode = DNS_RCODE_NOTIMP;
		r->opt = perr == 0 && q->edns;
		return DNS_ACT_REPLY;
	}
	if (perr) {
		r->rcode = DNS_RCODE_FORMERR;
		return DNS_ACT_REPLY;
	}
	r->opt = q->edns;
	if (q->edns && q->edns_version > 0) {
		r->rcode = DNS_RCODE_BADVERS;
		return DNS_ACT_REPLY;
	}
	if (q->qclass != DNS_CLASS_IN)
		return DNS_ACT_FORWARD;
	if (q->qtype == DNS_TYPE_PTR && reverse_addr(q, &ra)) {
		const char *name = table_lookup_addr(t, &ra);

		if (!name)
			return DNS_ACT_FORWARD;
		r->type = DNS_TYPE_PTR;
		r->n = 1;
		r->ptr = name;
		r->ptr_len = strlen(name);
		st->ptr++;
		return DNS_ACT_REPLY;
	}
	if (q->labels != 1)
		return DNS_ACT_FORWARD;
	len = dns_query_first_label(q, label);
	if (!table_lookup(t, label, len, &ans)) {
		if (q->qtype != DNS_TYPE_A && q->qtype != DNS_TYPE_AAAA)
			return DNS_ACT_FORWARD;
		r->rcode = DNS_RCODE_NXDOMAIN;
		return DNS_ACT_REPLY;
	}
	if (q->qtype == DNS_TYPE_A) {
		r->addrs = ans.v4;
		r->n = ans.n_v4;
	} else if (q->qtype == DNS_TYPE_AAAA) {
		r->addrs = ans.v6;
		r->n = ans.n_v6;
	}
	r->type = q->qtype;
	r->rot = rot;
	return DNS_ACT_REPLY;
}

enum dns_action dns_answer(const struct dns_answer_cfg *cfg, const struct table *t,
			   const uint8_t *msg, size_t len, size_t limit, uint32_t rot,
			   struct dns_query *q, uint8_t *out, size_t cap, size_t *out_len,
			   struct dns_answer_stats *st)
{
	int perr = dns_parse_query(q, msg, len);
	enum dns_action act;
	struct reply r;
	int tc;

	st->queries++;
	if (perr == GLUED_ETRUNC || perr == GLUED_EPROTO || !q->header_ok) {
		st->dropped++;
		return DNS_ACT_DROP;
	}
	act = decide(t, q, perr, rot, &r, st);
	if (act == DNS_ACT_FORWARD) {
		st->forwarded++;
		return act;
	}
	if (!limit)
		limit = dns_query_udp_limit(q);
	tc = reply_emit(q, &r, limit < cap ? limit : cap, cfg->ttl_s, out, out_len);
	if (tc < 0) {
		st->dropped++;
		return DNS_ACT_DROP;
	}
	st->rcode[r.rcode]++;
	if (tc)
		st->truncated++;
	else if (r.rcode == DNS_RCODE_NOERROR && r.n == 0)
		st->nodata++;
	return DNS_ACT_REPLY;
}

int dns_build_rcode(const struct dns_query *q, uint8_t rcode, uint8_t *out, size_t cap,
		    size_t *out_len)
{
	struct reply r = {
	    .rcode = rcode,
	    .question = q->question_ok,
	    .opt = q->edns,
	};
	int err;

	if (!q->header_ok)
		return GLUED_EMALF;
	err = reply_emit(q, &r, cap, 0, out, out_len);
	return err < 0 ? err : 0;
}
