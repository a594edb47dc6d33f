/* The gossip wire codec (docs/protocol.md, "Datagram"). Owns layout and
 * validation: every length, count, family and flag is checked before the
 * core sees a message, and a datagram is accepted whole or not at all. It
 * never interprets what a message means and never allocates.
 */
#include "core/gossip_wire.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

/* --- endpoints ---------------------------------------------------------- */

void gw_put_endpoint(struct wire_out *w, const struct glued_endpoint *e)
{
	uint8_t b[16] = {0};
	uint8_t fam = 0;

	if (e && e->addr.family == AF_INET) {
		fam = 4;
		memcpy(b, e->addr.b, 4);
	} else if (e && e->addr.family == AF_INET6) {
		fam = 6;
		memcpy(b, e->addr.b, 16);
	}
	wire_put_u8(w, fam);
	wire_put_bytes(w, b, 16);
	wire_put_u16(w, fam ? e->port : 0);
}

static bool all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

void gw_get_endpoint(struct wire *w, struct glued_endpoint *e)
{
	uint8_t fam = wire_u8(w);
	uint8_t b[16];

	wire_bytes(w, b, 16);
	memset(e, 0, sizeof(*e));
	e->port = wire_u16(w);
	if (w->err)
		return;
	switch (fam) {
	case 0:
		if (!all_zero(b, 16) || e->port)
			wire_fail(w, GLUED_EMALF);
		return;
	case 4:
		if (!all_zero(b + 4, 12) || !e->port)
			wire_fail(w, GLUED_EMALF);
		e->addr.family = AF_INET;
		memcpy(e->addr.b, b, 4);
		return;
	case 6:
		if (!e->port)
			wire_fail(w, GLUED_EMALF);
		e->addr.family = AF_INET6;
		memcpy(e->addr.b, b, 16);
		return;
	default:
		wire_fail(w, GLUED_EMALF);
	}
}

/* --- records ------------------------------------------------------------ */

int gw_record_decode(struct wire *w, struct gw_record *r)
{
	size_t start = wire_offset(w);
	uint8_t flags;

	r->seq = wire_u64(w);
	flags = wire_u8(w);
	r->owner_len = wire_u8(w);
	r->owner = wire_take(w, r->owner_len);
	r->n_names = wire_u8(w);
	if (w->err)
		return w->err;
	if (flags & ~GW_REC_DELETED || r->owner_len == 0 || r->owner_len > TABLE_OWNER_MAX ||
	    memchr(r->owner, 0, r->owner_len) || r->seq == 0 || r->n_names > TABLE_ENTRY_NAMES_MAX)
		goto malformed;
	r->deleted = flags & GW_REC_DELETED;
	for (size_t i = 0; i < r->n_names; i++) {
		r->name_len[i] = wire_u8(w);
		r->name[i] = wire_take(w, r->name_len[i]);
		if (w->err)
			return w->err;
		if (!table_name_valid((const char *)r->name[i], r->name_len[i]) ||
		    memchr(r->name[i], 0, r->name_len[i]))
			goto malformed;
	}
	r->n_addrs = wire_u8(w);
	if (w->err)
		return w->err;
	if (r->n_addrs > TABLE_ENTRY_ADDRS_MAX)
		goto malformed;
	for (size_t i = 0; i < r->n_addrs; i++) {
		uint8_t fam = wire_u8(w);

		memset(&r->addrs[i], 0, sizeof(r->addrs[i]));
		if (fam == 4) {
			r->addrs[i].family = AF_INET;
			wire_bytes(w, r->addrs[i].b, 4);
		} else if (fam == 6) {
			r->addrs[i].family = AF_INET6;
			wire_bytes(w, r->addrs[i].b, 16);
		} else {
			wire_fail(w, GLUED_EMALF);
		}
	}
	if (w->err)
		return w->err;
	if (r->deleted ? r->n_names || r->n_addrs : !r->n_names || !r->n_addrs)
		goto malformed;
	if (wire_offset(w) - start > GW_RECORD_MAX)
		goto malformed;
	return 0;
malformed:
	wire_fail(w, GLUED_EMALF);
	return w->err;
}

int gw_delta_item_decode(struct wire *w, struct gw_delta_item *it)
{
	it->raw = w->p;
	it->n_path = wire_u8(w);
	if (!w->err && it->n_path > GW_PATH_MAX)
		wire_fail(w, GLUED_EMALF);
	it->path = wire_take(w, (size_t)it->n_path * GW_HASH_LEN);
	it->rec_raw = w->p;
	if (w->err)
		return w->err;
	gw_record_decode(w, &it->rec);
	it->rec_len = (size_t)(w->p - it->rec_raw);
	it->raw_len = (size_t)(w->p - it->raw);
	return w->err;
}

uint8_t gw_path_len(uint64_t n, uint64_t i)
{
	uint8_t np = 0;

	for (; n > 1; n = (n + 1) / 2, i /= 2)
		if ((i ^ 1) < n)
			np++;
	return np;
}

void gw_record_to_entry(const struct gw_record *r, uint32_t origin, uint64_t now_ms,
			struct table_entry *e)
{
	e->origin = origin;
	memcpy(e->owner, r->owner, r->owner_len);
	e->owner[r->owner_len] = 0;
	e->n_names = r->n_names;
	for (size_t i = 0; i < r->n_names; i++) {
		memcpy(e->names[i], r->name[i], r->name_len[i]);
		e->names[i][r->name_len[i]] = 0;
	}
	e->n_addrs = r->n_addrs;
	memcpy(e->addrs, r->addrs, r->n_addrs * sizeof(r->addrs[0]));
	e->updated_ms = now_ms;
}

size_t gw_record_size(const struct table_entry *e, size_t owner_len)
{
	size_t n = 8 + 1 + 1 + owner_len + 1 + 1;

	if (!e)
		return n;
	for (size_t i = 0; i < e->n_names; i++)
		n += 1 + strlen(e->names[i]);
	for (size_t i = 0; i < e->n_addrs; i++)
		n += 1 + (e->addrs[i].family == AF_INET ? 4 : 16);
	return n;
}

void gw_put_record(struct wire_out *w, uint64_t seq, const char *owner, const struct table_entry *e)
{
	size_t olen = strlen(owner);

	wire_put_u64(w, seq);
	wire_put_u8(w, e ? 0 : GW_REC_DELETED);
	wire_put_u8(w, (uint8_t)olen);
	wire_put_bytes(w, owner, olen);
	wire_put_u8(w, e ? (uint8_t)e->n_names : 0);
	for (size_t i = 0; e && i < e->n_names; i++) {
		size_t l = strlen(e->names[i]);

		wire_put_u8(w, (uint8_t)l);
		wire_put_bytes(w, e->names[i], l);
	}
	wire_put_u8(w, e ? (uint8_t)e->n_addrs : 0);
	for (size_t i = 0; e && i < e->n_addrs; i++) {
		bool v4 = e->addrs[i].family == AF_INET;

		wire_put_u8(w, v4 ? 4 : 6);
		wire_put_bytes(w, e->addrs[i].b, v4 ? 4 : 16);
	}
}

/* --- messages ----------------------------------------------------------- */

static size_t msg_begin(struct wire_out *w, uint8_t type)
{
	size_t off = wire_out_len(w);

	wire_put_u8(w, type);
	wire_put_u16(w, 0);
	return off;
}

static void msg_end(struct wire_out *w, size_t off)
{
	wire_patch_u16(w, off + 1, (uint16_t)(wire_out_len(w) - off - GW_MSG_HDR_LEN));
}

void gw_rollback(struct wire_out *w, size_t off)
{
	w->p = w->start + off;
	w->err = 0;
}

void gw_put_hdr(struct wire_out *w, const struct gw_hdr *h)
{
	wire_put_u8(w, GW_VERSION);
	wire_put_u8(w, 0);
	wire_put_u64(w, h->epoch);
	wire_put_u32(w, h->incarnation);
	wire_put_u64(w, h->head);
}

static const uint8_t zero_id[GOSSIP_ID_LEN];

void gw_put_probe(struct wire_out *w, uint8_t type, uint32_t seq, const uint8_t *target,
		  const struct glued_endpoint *addr)
{
	size_t off = msg_begin(w, type);

	wire_put_u32(w, seq);
	wire_put_bytes(w, target ? target : zero_id, GOSSIP_ID_LEN);
	if (type == GW_PING_REQ)
		gw_put_endpoint(w, addr);
	msg_end(w, off);
}

void gw_put_stmt(struct wire_out *w, const struct gw_stmt *st)
{
	wire_put_bytes(w, st->id, GOSSIP_ID_LEN);
	wire_put_u64(w, st->epoch);
	wire_put_u32(w, st->incarnation);
	wire_put_u8(w, st->flags);
	gw_put_endpoint(w, &st->addr);
	wire_put_u64(w, st->prev);
	wire_put_u64(w, st->head);
	wire_put_bytes(w, st->root, GW_HASH_LEN);
	wire_put_bytes(w, st->sig, GW_SIG_LEN);
}

/* Sets GLUED_EMALF for what no origin signs: epoch 0, unknown flags, a
 * batch running backwards or wider than GW_BATCH_MAX. */
void gw_get_stmt(struct wire *w, struct gw_stmt *st)
{
	wire_bytes(w, st->id, GOSSIP_ID_LEN);
	st->epoch = wire_u64(w);
	st->incarnation = wire_u32(w);
	st->flags = wire_u8(w);
	gw_get_endpoint(w, &st->addr);
	st->prev = wire_u64(w);
	st->head = wire_u64(w);
	wire_bytes(w, st->root, GW_HASH_LEN);
	wire_bytes(w, st->sig, GW_SIG_LEN);
	if (!w->err && (st->epoch == 0 || st->flags & ~GW_STMT_LEFT || st->head < st->prev ||
			st->head - st->prev > GW_BATCH_MAX))
		wire_fail(w, GLUED_EMALF);
}

size_t gw_stmt_signed_msg(const struct gw_stmt *st, uint8_t out[GW_STMT_MSG_LEN])
{
	uint8_t buf[GW_STMT_LEN];
	struct wire_out w = wire_out_init(buf, sizeof(buf));
	size_t dl = sizeof(GW_STMT_DOMAIN) - 1;

	gw_put_stmt(&w, st);
	memcpy(out, GW_STMT_DOMAIN, dl);
	memcpy(out + dl, buf, GW_STMT_SIGNED);
	return dl + GW_STMT_SIGNED;
}

void gw_put_alive(struct wire_out *w, const struct gw_stmt *st, const struct glued_endpoint *hint)
{
	size_t off = msg_begin(w, GW_ALIVE);

	gw_put_stmt(w, st);
	gw_put_endpoint(w, hint);
	msg_end(w, off);
}

void gw_put_left(struct wire_out *w, const struct gw_stmt *st)
{
	size_t off = msg_begin(w, GW_LEFT);

	gw_put_stmt(w, st);
	msg_end(w, off);
}

void gw_put_member(struct wire_out *w, uint8_t type, const uint8_t *id, uint64_t epoch,
		   uint32_t inc, const uint8_t *from)
{
	size_t off = msg_begin(w, type);

	wire_put_bytes(w, id, GOSSIP_ID_LEN);
	wire_put_u64(w, epoch);
	wire_put_u32(w, inc);
	wire_put_bytes(w, from ? from : zero_id, GOSSIP_ID_LEN);
	msg_end(w, off);
}

size_t gw_delta_begin(struct wire_out *w, const uint8_t *stmt_raw)
{
	size_t off = msg_begin(w, GW_DELTA);

	wire_put_bytes(w, stmt_raw, GW_STMT_LEN);
	wire_put_u8(w, 0); /* count, patched */
	return off;
}

void gw_put_delta_item(struct wire_out *w, const uint8_t *path, uint8_t n_path, const uint8_t *rec,
		       size_t rec_len)
{
	wire_put_u8(w, n_path);
	if (n_path)
		wire_put_bytes(w, path, (size_t)n_path * GW_HASH_LEN);
	wire_put_bytes(w, rec, rec_len);
}

void gw_delta_end(struct wire_out *w, size_t off, uint8_t count)
{
	size_t at = off + GW_DELTA_FIXED - 1;

	if (w->err || at + 1 > wire_out_len(w))
		return;
	w->start[at] = count;
	msg_end(w, off);
}

void gw_put_delta(struct wire_out *w, const uint8_t *stmt_raw, const uint8_t *path, uint8_t n_path,
		  const uint8_t *rec, size_t rec_len)
{
	size_t off = gw_delta_begin(w, stmt_raw);

	gw_put_delta_item(w, path, n_path, rec, rec_len);
	gw_delta_end(w, off, 1);
}

void gw_put_summary(struct wire_out *w, uint8_t flags, uint16_t members,
		    const uint64_t hash[GW_BUCKETS])
{
	size_t off = msg_begin(w, GW_SUMMARY);

	wire_put_u8(w, flags);
	wire_put_u16(w, members);
	for (size_t i = 0; i < GW_BUCKETS; i++)
		wire_put_u64(w, hash[i]);
	msg_end(w, off);
}

void gw_put_sync_req(struct wire_out *w, uint32_t id, uint64_t epoch, uint64_t from, uint64_t have,
		     uint8_t flags)
{
	size_t off = msg_begin(w, GW_SYNC_REQ);

	wire_put_u32(w, id);
	wire_put_u64(w, epoch);
	wire_put_u64(w, from);
	wire_put_u64(w, have);
	wire_put_u8(w, flags);
	msg_end(w, off);
}

size_t gw_sync_data_begin(struct wire_out *w, uint32_t id, uint64_t epoch, uint64_t from,
			  uint64_t to, uint16_t chunk)
{
	size_t off = msg_begin(w, GW_SYNC_DATA);

	wire_put_u32(w, id);
	wire_put_u64(w, epoch);
	wire_put_u64(w, from);
	wire_put_u64(w, to);
	wire_put_u16(w, chunk);
	wire_put_u8(w, 0); /* flags, patched */
	wire_put_u8(w, 0); /* count, patched */
	return off;
}

void gw_sync_data_end(struct wire_out *w, size_t off, uint8_t flags, uint8_t count)
{
	size_t at = off + GW_MSG_HDR_LEN + 4 + 8 + 8 + 8 + 2;

	if (w->err || at + 2 > wire_out_len(w))
		return;
	w->start[at] = flags;
	w->start[at + 1] = count;
	msg_end(w, off);
}

/* --- reading ------------------------------------------------------------ */

static int get_hdr(struct wire *w, struct gw_hdr *h)
{
	uint8_t ver = wire_u8(w), flags = wire_u8(w);

	h->epoch = wire_u64(w);
	h->incarnation = wire_u32(w);
	h->head = wire_u64(w);
	if (w->err)
		return w->err;
	if (ver != GW_VERSION)
		return GLUED_EBADVERS;
	if (flags || h->epoch == 0)
		return GLUED_EMALF;
	return 0;
}

/* Decode the body of a known message; the body must be consumed exactly. */
static int decode_body(uint8_t type, const uint8_t *body, size_t len, struct gw_msg *m)
{
	struct wire w = wire_init(body, len);

	switch (type) {
	case GW_PING:
	case GW_ACK:
	case GW_NACK:
	case GW_PING_REQ:
		m->u.probe.seq = wire_u32(&w);
		wire_bytes(&w, m->u.probe.target, GOSSIP_ID_LEN);
		memset(&m->u.probe.addr, 0, sizeof(m->u.probe.addr));
		if (type == GW_PING_REQ) {
			gw_get_endpoint(&w, &m->u.probe.addr);
			if (!w.err && m->u.probe.addr.addr.family == 0)
				wire_fail(&w, GLUED_EMALF);
		}
		break;
	case GW_ALIVE:
	case GW_LEFT:
		m->u.member.stmt_raw = w.p;
		gw_get_stmt(&w, &m->u.member.stmt);
		memcpy(m->u.member.id, m->u.member.stmt.id, GOSSIP_ID_LEN);
		m->u.member.epoch = m->u.member.stmt.epoch;
		m->u.member.incarnation = m->u.member.stmt.incarnation;
		m->u.member.head = m->u.member.stmt.head;
		memset(m->u.member.from, 0, GOSSIP_ID_LEN);
		memset(&m->u.member.addr, 0, sizeof(m->u.member.addr));
		if (type == GW_ALIVE)
			gw_get_endpoint(&w, &m->u.member.addr);
		/* ALIVE never carries the left flag, LEFT always does */
		if (!w.err && !!(m->u.member.stmt.flags & GW_STMT_LEFT) != (type == GW_LEFT))
			wire_fail(&w, GLUED_EMALF);
		break;
	case GW_SUSPECT:
	case GW_DEAD:
		wire_bytes(&w, m->u.member.id, GOSSIP_ID_LEN);
		m->u.member.epoch = wire_u64(&w);
		m->u.member.incarnation = wire_u32(&w);
		memset(&m->u.member.addr, 0, sizeof(m->u.member.addr));
		m->u.member.head = 0;
		m->u.member.stmt_raw = NULL;
		wire_bytes(&w, m->u.member.from, GOSSIP_ID_LEN);
		if (!w.err && m->u.member.epoch == 0)
			wire_fail(&w, GLUED_EMALF);
		break;
	case GW_DELTA: {
		const struct gw_stmt *st = &m->u.delta.stmt;
		struct gw_delta_item it;
		uint64_t last;

		m->u.delta.stmt_raw = w.p;
		gw_get_stmt(&w, &m->u.delta.stmt);
		m->u.delta.count = wire_u8(&w);
		if (w.err)
			break;
		if (st->flags & GW_STMT_LEFT || !m->u.delta.count ||
		    m->u.delta.count > st->head - st->prev) {
			wire_fail(&w, GLUED_EMALF);
			break;
		}
		m->u.delta.items = w.p;
		last = st->prev;
		/* every record is one of the batch the statement signs, each
		 * once, in version order, with a path as long as its leaf needs */
		for (size_t i = 0; i < m->u.delta.count && !w.err; i++) {
			if (gw_delta_item_decode(&w, &it))
				break;
			if (it.rec.seq <= last || it.rec.seq > st->head ||
			    it.n_path !=
				gw_path_len(st->head - st->prev, it.rec.seq - st->prev - 1))
				wire_fail(&w, GLUED_EMALF);
			last = it.rec.seq;
		}
		m->u.delta.items_len = (size_t)(w.p - m->u.delta.items);
		break;
	}
	case GW_SUMMARY:
		m->u.summary.flags = wire_u8(&w);
		m->u.summary.members = wire_u16(&w);
		for (size_t i = 0; i < GW_BUCKETS; i++)
			m->u.summary.hash[i] = wire_u64(&w);
		if (!w.err && m->u.summary.flags & ~GW_SUMMARY_REPLY)
			wire_fail(&w, GLUED_EMALF);
		break;
	case GW_SYNC_REQ:
		m->u.sync_req.id = wire_u32(&w);
		m->u.sync_req.epoch = wire_u64(&w);
		m->u.sync_req.from = wire_u64(&w);
		m->u.sync_req.have = wire_u64(&w);
		m->u.sync_req.flags = wire_u8(&w);
		if (!w.err && m->u.sync_req.flags & ~GW_SYNC_FULL)
			wire_fail(&w, GLUED_EMALF);
		break;
	case GW_SYNC_DATA: {
		struct gw_record r;

		m->u.sync_data.id = wire_u32(&w);
		m->u.sync_data.epoch = wire_u64(&w);
		m->u.sync_data.from = wire_u64(&w);
		m->u.sync_data.to = wire_u64(&w);
		m->u.sync_data.chunk = wire_u16(&w);
		m->u.sync_data.flags = wire_u8(&w);
		m->u.sync_data.count = wire_u8(&w);
		if (w.err)
			break;
		if (m->u.sync_data.flags & ~(GW_SYNC_LAST | GW_SYNC_FULL) ||
		    m->u.sync_data.epoch == 0 || m->u.sync_data.to < m->u.sync_data.from) {
			wire_fail(&w, GLUED_EMALF);
			break;
		}
		m->u.sync_data.recs = w.p;
		for (size_t i = 0; i < m->u.sync_data.count && !w.err; i++)
			gw_record_decode(&w, &r);
		m->u.sync_data.recs_len = (size_t)(w.p - m->u.sync_data.recs);
		break;
	}
	default:
		return GLUED_ENOTIMP;
	}
	if (w.err)
		return w.err == GLUED_ETRUNC ? GLUED_EMALF : w.err;
	return wire_avail(&w) ? GLUED_EMALF : 0;
}

/* One message header and body at the cursor: 0, GLUED_ENOTIMP (unknown
 * type, skipped), or an error. */
static int next_msg(struct wire *w, struct gw_msg *m)
{
	const uint8_t *start = w->p;
	uint16_t len;
	const uint8_t *body;

	m->type = wire_u8(w);
	len = wire_u16(w);
	body = wire_take(w, len);
	if (w->err)
		return GLUED_ETRUNC;
	m->raw = start;
	m->raw_len = GW_MSG_HDR_LEN + (size_t)len;
	return decode_body(m->type, body, len, m);
}

int gw_check(const uint8_t *buf, size_t len, struct gw_hdr *h, size_t *unknown)
{
	struct wire w = wire_init(buf, len);
	struct gw_msg m;
	size_t n = 0;
	int err;

	*unknown = 0;
	if (len > GOSSIP_DGRAM_MAX)
		return GLUED_EMALF;
	err = get_hdr(&w, h);
	if (err)
		return err;
	while (wire_avail(&w)) {
		err = next_msg(&w, &m);
		if (err == GLUED_ENOTIMP)
			(*unknown)++;
		else if (err)
			return err;
		n++;
	}
	return n ? 0 : GLUED_EMALF;
}

void gw_iter_init(struct gw_iter *it, const uint8_t *buf, size_t len)
{
	it->w = wire_init(buf, len);
	wire_skip(&it->w, GW_HDR_LEN);
}

bool gw_iter_next(struct gw_iter *it, struct gw_msg *m)
{
	while (wire_avail(&it->w)) {
		int err = next_msg(&it->w, m);

		if (err == 0)
			return true;
		if (err != GLUED_ENOTIMP)
			return false;
	}
	return false;
}
