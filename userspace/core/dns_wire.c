/* DNS wire format (see dns_wire.h): bounded, strict parsing of queries and
 * names, and small helpers over wire-form names. Every byte read here came
 * from the network, so every read goes through a bounds check and every
 * loop has a bound that does not depend on the input. This file never
 * allocates, does I/O or logs.
 */
#include <string.h>

#include "core/dns_wire.h"
#include "lib/wire.h"

static inline uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

int dns_name_parse(const uint8_t *msg, size_t len, size_t off, uint8_t *out, uint8_t *name_len,
		   size_t *next)
{
	size_t pos = off, run_start = off, out_len = 0, after = 0;
	unsigned ptrs = 0;

	for (;;) {
		uint8_t c;

		if (pos >= len)
			return GLUED_ETRUNC;
		c = msg[pos];
		if ((c & 0xc0) == 0xc0) {
			size_t target;

			if (pos + 1 >= len)
				return GLUED_ETRUNC;
			target = (size_t)(c & 0x3f) << 8 | msg[pos + 1];
			/* Strictly before the labels this pointer ends: each
			 * jump lowers run_start, so no loop can form. */
			if (target >= run_start || ++ptrs > DNS_MAX_PTRS)
				return GLUED_EFORMERR;
			if (!after)
				after = pos + 2;
			pos = run_start = target;
			continue;
		}
		if (c & 0xc0)
			return GLUED_EFORMERR; /* 0x40 extended, 0x80 reserved */
		if (out_len + 1 + c > DNS_NAME_MAX - (c ? 1 : 0))
			return GLUED_EFORMERR; /* room for this label and the root */
		if (c == 0) {
			out[out_len++] = 0;
			*name_len = (uint8_t)out_len;
			*next = after ? after : pos + 1;
			return 0;
		}
		if (pos + 1 + c > len)
			return GLUED_ETRUNC;
		memcpy(out + out_len, msg + pos, 1u + c);
		out_len += 1u + c;
		pos += 1u + c;
	}
}

static void reset(struct dns_query *q)
{
	memset(q, 0, offsetof(struct dns_query, qname));
	q->qname_len = q->labels = 0;
	q->qtype = q->qclass = q->question_end = 0;
	q->question_ok = false;
	q->edns = q->edns_do = false;
	q->edns_udp_size = q->opt_offset = q->opt_len = 0;
	q->edns_version = 0;
}

/* OPT RDATA is a sequence of {code, length, value}; it must fill RDLENGTH
 * exactly. */
static bool opt_options_ok(const uint8_t *p, size_t n)
{
	struct wire w = wire_init(p, n);

	while (wire_avail(&w)) {
		wire_u16(&w);
		wire_skip(&w, wire_u16(&w));
	}
	return w.err == 0;
}

static int parse_additional(struct dns_query *q, const uint8_t *msg, size_t len, size_t off)
{
	uint8_t owner[DNS_NAME_MAX], owner_len;

	for (unsigned i = 0; i < q->arcount; i++) {
		size_t start = off, next;
		struct wire w;
		uint16_t type, class, rdlen;
		uint32_t ttl;

		if (dns_name_parse(msg, len, off, owner, &owner_len, &next))
			return GLUED_EFORMERR;
		w = wire_init(msg, len);
		wire_seek(&w, next);
		type = wire_u16(&w);
		class = wire_u16(&w);
		ttl = wire_u32(&w);
		rdlen = wire_u16(&w);
		wire_skip(&w, rdlen);
		if (w.err)
			return GLUED_EFORMERR;
		off = wire_offset(&w);
		if (type != DNS_TYPE_OPT)
			continue;
		if (q->edns || owner_len != 1 || !opt_options_ok(msg + off - rdlen, rdlen))
			return GLUED_EFORMERR;
		q->edns = true;
		q->edns_udp_size = class;
		q->edns_version = (uint8_t)(ttl >> 16);
		q->edns_do = ttl & 0x8000;
		q->opt_offset = (uint16_t)start;
		q->opt_len = (uint16_t)(off - start);
	}
	return 0;
}

int dns_parse_query(struct dns_query *q, const uint8_t *msg, size_t len)
{
	struct wire w = wire_init(msg, len);
	size_t next;
	const uint8_t *p;

	reset(q);
	if (len < DNS_HDR_LEN)
		return GLUED_ETRUNC;
	q->id = wire_u16(&w);
	q->flags = wire_u16(&w);
	q->qdcount = wire_u16(&w);
	q->ancount = wire_u16(&w);
	q->nscount = wire_u16(&w);
	q->arcount = wire_u16(&w);
	q->header_ok = true;
	if (q->flags & DNS_QR)
		return GLUED_EPROTO;
	if (q->qdcount != 1 || len > DNS_TCP_MAX) /* offsets below fit 16 bits */
		return GLUED_EFORMERR;

	if (dns_name_parse(msg, len, DNS_HDR_LEN, q->qname, &q->qname_len, &next))
		return GLUED_EFORMERR;
	wire_seek(&w, next);
	q->qtype = wire_u16(&w);
	q->qclass = wire_u16(&w);
	if (w.err)
		return GLUED_EFORMERR;
	q->question_end = (uint16_t)wire_offset(&w); /* <= 12 + 255 + 4 */
	for (p = q->qname; *p; p += 1u + *p)
		q->labels++;
	q->question_ok = true;

	if (q->ancount || q->nscount)
		return GLUED_EFORMERR;
	if ((size_t)q->arcount * DNS_RR_MIN > wire_avail(&w))
		return GLUED_EFORMERR;
	return parse_additional(q, msg, len, wire_offset(&w));
}

size_t dns_query_first_label(const struct dns_query *q, char *buf)
{
	size_t n = q->qname_len ? q->qname[0] : 0;

	for (size_t i = 0; i < n; i++)
		buf[i] = (char)lower(q->qname[1 + i]);
	buf[n] = '\0';
	return n;
}

uint16_t dns_query_udp_limit(const struct dns_query *q)
{
	if (!q->edns || q->edns_udp_size < DNS_UDP_MIN)
		return DNS_UDP_MIN;
	return q->edns_udp_size > DNS_UDP_MAX ? DNS_UDP_MAX : q->edns_udp_size;
}

/* One label byte in master-file form (RFC 1035 section 5.1): '.' and '\'
 * as \X, anything but printable ASCII as \DDD. Returns its length (<= 4). */
static size_t escape_byte(uint8_t c, char tmp[4])
{
	if (c == '.' || c == '\\') {
		tmp[0] = '\\';
		tmp[1] = (char)c;
		return 2;
	}
	if (c < 0x21 || c > 0x7e) {
		tmp[0] = '\\';
		tmp[1] = (char)('0' + c / 100);
		tmp[2] = (char)('0' + c / 10 % 10);
		tmp[3] = (char)('0' + c % 10);
		return 4;
	}
	tmp[0] = (char)c;
	return 1;
}

size_t dns_name_to_text(const uint8_t *name, size_t name_len, char *out, size_t cap)
{
	size_t o = 0, i = 0;

	if (!cap)
		return 0;
	while (i < name_len && name[i]) {
		size_t n = name[i++];

		if (o && o + 1 < cap)
			out[o++] = '.';
		for (size_t k = 0; k < n && i < name_len; k++, i++) {
			char tmp[4];
			size_t tl = escape_byte(lower(name[i]), tmp);

			if (o + tl >= cap)
				goto out;
			memcpy(out + o, tmp, tl);
			o += tl;
		}
	}
out:
	out[o] = '\0';
	return o;
}

size_t dns_label_to_text(const char *label, size_t len, char *out, size_t cap)
{
	size_t o = 0;

	if (!cap)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char tmp[4];
		size_t tl = escape_byte((uint8_t)label[i], tmp);

		if (o + tl >= cap)
			break;
		memcpy(out + o, tmp, tl);
		o += tl;
	}
	out[o] = '\0';
	return o;
}

bool dns_name_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	/* Length bytes are <= 63, below 'A', so folding case over the whole
	 * wire form only touches label characters. */
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

/* --- walking whole messages ------------------------------------------------ */

void dns_skip_name(struct wire *w)
{
	size_t seen = 0;

	for (;;) {
		uint8_t c = wire_u8(w);

		if (w->err || c == 0)
			return;
		if ((c & 0xc0) == 0xc0) {
			wire_skip(w, 1);
			return;
		}
		seen += 1u + c;
		if ((c & 0xc0) || seen > DNS_NAME_MAX) {
			wire_fail(w, GLUED_EMALF); /* 0x40/0x80 label types are obsolete */
			return;
		}
		wire_skip(w, c);
	}
}

static uint32_t ttl_clean(uint32_t ttl)
{
	return ttl > 0x7fffffffu ? 0 : ttl; /* RFC 2181 8: high bit set means 0 */
}

int dns_msg_scan(const uint8_t *msg, size_t len, size_t qend, struct dns_msg_info *mi)
{
	struct wire w = wire_init(msg, len);
	unsigned total;

	memset(mi, 0, sizeof(*mi));
	wire_skip(&w, 2); /* ID */
	mi->flags = wire_u16(&w);
	wire_skip(&w, 2); /* QDCOUNT */
	mi->an = wire_u16(&w);
	mi->ns = wire_u16(&w);
	mi->ar = wire_u16(&w);
	mi->min_ttl = UINT32_MAX;
	total = (unsigned)mi->an + mi->ns + mi->ar;
	wire_seek(&w, qend);
	for (unsigned i = 0; i < total && !w.err; i++) {
		size_t start = wire_offset(&w);
		const uint8_t *rdata;
		uint16_t type, rdlen;
		uint32_t ttl;

		dns_skip_name(&w);
		type = wire_u16(&w);
		wire_skip(&w, 2); /* CLASS */
		ttl = ttl_clean(wire_u32(&w));
		rdlen = wire_u16(&w);
		rdata = wire_take(&w, rdlen);
		if (w.err)
			break;
		if (type == DNS_TYPE_OPT) {
			/* Only one, only in the additional section, root owner. */
			if (i < (unsigned)mi->an + mi->ns || mi->opt_len || msg[start] != 0)
				return GLUED_EMALF;
			mi->opt_off = start;
			mi->opt_len = wire_offset(&w) - start;
			mi->ar_before_opt = (uint16_t)(i - mi->an - mi->ns);
			continue;
		}
		if (i >= (unsigned)mi->an + mi->ns)
			continue;
		if (ttl < mi->min_ttl)
			mi->min_ttl = ttl;
		if (type == DNS_TYPE_SOA && i >= mi->an && rdlen >= 22) {
			struct wire min = wire_init(rdata + rdlen - 4, 4);
			uint32_t minimum = ttl_clean(wire_u32(&min));
			uint32_t t = ttl < minimum ? ttl : minimum;

			if (!mi->has_soa || t < mi->soa_ttl)
				mi->soa_ttl = t;
			mi->has_soa = true;
		}
	}
	if (w.err)
		return GLUED_EMALF;
	mi->end = wire_offset(&w);
	return 0;
}

void dns_msg_age(uint8_t *msg, size_t len, uint32_t age_s)
{
	struct wire w = wire_init(msg, len);
	unsigned total;

	wire_skip(&w, 6); /* ID, flags, QDCOUNT */
	total = wire_u16(&w);
	total += wire_u16(&w);
	total += wire_u16(&w);
	dns_skip_name(&w);
	wire_skip(&w, 4); /* QTYPE, QCLASS */
	for (unsigned i = 0; i < total; i++) {
		size_t ttl_off;
		uint16_t type, rdlen;
		uint32_t ttl;

		dns_skip_name(&w);
		type = wire_u16(&w);
		wire_skip(&w, 2); /* CLASS */
		ttl_off = wire_offset(&w);
		ttl = ttl_clean(wire_u32(&w));
		rdlen = wire_u16(&w);
		if (w.err)
			return;
		if (type != DNS_TYPE_OPT) {
			struct wire_out o = wire_out_init(msg + ttl_off, 4);
			wire_put_u32(&o, ttl > age_s ? ttl - age_s : 0);
		}
		wire_skip(&w, rdlen);
	}
}
