/* The gossip codec: every message round-trips, and every malformed case is
 * rejected as a whole datagram. */
#include <sys/socket.h>

#include "core/gossip_wire.h"
#include "t.h"

static uint8_t buf[GOSSIP_DGRAM_MAX + 64];
static const uint8_t ida[GOSSIP_ID_LEN] = {1, 2, 3};
static const uint8_t idb[GOSSIP_ID_LEN] = {9, 8, 7};

static struct wire_out start(void)
{
	struct wire_out w = wire_out_init(buf, GOSSIP_DGRAM_MAX);
	struct gw_hdr h = {.epoch = 7, .incarnation = 3, .head = 42};

	gw_put_hdr(&w, &h);
	return w;
}

static int check(const struct wire_out *w)
{
	struct gw_hdr h;
	size_t unknown;

	return gw_check(buf, wire_out_len(w), &h, &unknown);
}

static struct glued_endpoint ep4(void)
{
	struct glued_endpoint e = {0};

	e.addr.family = AF_INET;
	e.addr.b[0] = 10;
	e.addr.b[3] = 5;
	e.port = 7947;
	return e;
}

static void sample_entry(struct table_entry *e)
{
	memset(e, 0, sizeof(*e));
	strcpy(e->owner, "0123456789abcdef");
	e->n_names = 2;
	strcpy(e->names[0], "web");
	strcpy(e->names[1], "Api-1");
	e->n_addrs = 2;
	e->addrs[0].family = AF_INET;
	e->addrs[0].b[0] = 172;
	e->addrs[0].b[3] = 9;
	e->addrs[1].family = AF_INET6;
	e->addrs[1].b[0] = 0xfd;
	e->addrs[1].b[15] = 1;
}

/* A statement of `id` covering one version (signature zero: the codec
 * does not check signatures, core/gossip_sign.c does). */
static void stmt_of(struct gw_stmt *st, const uint8_t *id, uint64_t epoch, uint32_t inc,
		    uint64_t prev, uint64_t head)
{
	memset(st, 0, sizeof(*st));
	memcpy(st->id, id, GOSSIP_ID_LEN);
	st->epoch = epoch;
	st->incarnation = inc;
	st->prev = prev;
	st->head = head;
}

/* DELTA of one record (e NULL: a tombstone) under a one-version statement. */
static void put_delta(struct wire_out *w, const uint8_t *origin, uint64_t epoch, uint64_t seq,
		      const char *owner, const struct table_entry *e)
{
	uint8_t rec[GW_RECORD_MAX], raw[GW_STMT_LEN];
	struct wire_out rw = wire_out_init(rec, sizeof(rec)), sw = wire_out_init(raw, sizeof(raw));
	struct gw_stmt st;

	gw_put_record(&rw, seq, owner, e);
	stmt_of(&st, origin, epoch, 0, seq - 1, seq);
	gw_put_stmt(&sw, &st);
	gw_put_delta(w, raw, NULL, 0, rec, wire_out_len(&rw));
}

/* A DELTA of n records (versions seq[], path lengths np[], paths of junk
 * hashes: the codec checks their lengths, core/gossip_sign.c their hashes)
 * under a statement of prev+1..head, claiming `count` records. */
static size_t batch_rec_len;

static struct wire_out batch_delta_flags(uint64_t prev, uint64_t head, const uint64_t *seq,
					 const uint8_t *np, size_t n, uint8_t count, uint8_t flags)
{
	uint8_t rec[GW_RECORD_MAX], raw[GW_STMT_LEN], path[GW_PATH_MAX * GW_HASH_LEN];
	struct wire_out w = start(), sw = wire_out_init(raw, sizeof(raw));
	struct table_entry te;
	struct gw_stmt st;
	size_t off;

	sample_entry(&te);
	memset(path, 0x77, sizeof(path));
	stmt_of(&st, ida, 5, 0, prev, head);
	st.flags = flags;
	gw_put_stmt(&sw, &st);
	off = gw_delta_begin(&w, raw);
	for (size_t i = 0; i < n; i++) {
		struct wire_out rw = wire_out_init(rec, sizeof(rec));

		gw_put_record(&rw, seq[i], te.owner, &te);
		batch_rec_len = wire_out_len(&rw);
		gw_put_delta_item(&w, path, np[i], rec, batch_rec_len);
	}
	gw_delta_end(&w, off, count);
	return w;
}

static struct wire_out batch_delta(uint64_t prev, uint64_t head, const uint64_t *seq,
				   const uint8_t *np, size_t n, uint8_t count)
{
	return batch_delta_flags(prev, head, seq, np, n, count, 0);
}

static struct wire_out batch_delta_left(void)
{
	uint64_t seq = 41;
	uint8_t np = 0;

	return batch_delta_flags(40, 41, &seq, &np, 1, 1, GW_STMT_LEFT);
}

/* Overwrite byte `off` of the encoded datagram and expect rejection. */
static void expect_bad(struct wire_out *w, size_t off, uint8_t v, int want, const char *what)
{
	uint8_t save = buf[off];
	int err;

	buf[off] = v;
	err = check(w);
	T_ASSERT(err == want, "%s: got %d want %d", what, err, want);
	buf[off] = save;
}

int main(void)
{
	T_CASE("a datagram with every message type round-trips")
	{
		struct wire_out w = start();
		struct glued_endpoint e = ep4();
		struct table_entry te;
		struct gw_stmt st;
		uint64_t hash[GW_BUCKETS];
		struct gw_hdr h;
		struct gw_iter it;
		struct gw_msg m;
		size_t unknown, off;
		int n = 0;

		for (int i = 0; i < GW_BUCKETS; i++)
			hash[i] = 0x0102030405060708ull * (uint64_t)(i + 1);
		sample_entry(&te);
		gw_put_probe(&w, GW_PING, 11, ida, NULL);
		stmt_of(&st, ida, 5, 6, 90, 99);
		st.addr = e;
		st.sig[63] = 0x5a;
		gw_put_alive(&w, &st, &e);
		gw_put_member(&w, GW_SUSPECT, idb, 5, 7, ida);
		stmt_of(&st, idb, 5, 8, 3, 3);
		st.flags = GW_STMT_LEFT;
		gw_put_left(&w, &st);
		put_delta(&w, ida, 5, 100, te.owner, &te);
		put_delta(&w, ida, 5, 101, "gone", NULL);
		gw_put_summary(&w, GW_SUMMARY_REPLY, 3, hash);
		gw_put_sync_req(&w, 77, 5, 12, 0x5, GW_SYNC_FULL);
		off = gw_sync_data_begin(&w, 77, 5, 12, 20, 3);
		gw_put_record(&w, 13, te.owner, &te);
		gw_put_record(&w, 14, "x", NULL);
		gw_sync_data_end(&w, off, GW_SYNC_LAST, 2);
		T_ASSERT(!w.err, "encoded");
		T_EQ_INT(gw_check(buf, wire_out_len(&w), &h, &unknown), 0);
		T_EQ_INT(h.epoch, 7);
		T_EQ_INT(h.incarnation, 3);
		T_EQ_INT(h.head, 42);
		gw_iter_init(&it, buf, wire_out_len(&w));
		while (gw_iter_next(&it, &m)) {
			n++;
			switch (m.type) {
			case GW_PING:
				T_EQ_INT(m.u.probe.seq, 11);
				T_EQ_MEM(m.u.probe.target, ida, GOSSIP_ID_LEN);
				break;
			case GW_PING_REQ:
				T_EQ_INT(m.u.probe.addr.port, 7947);
				T_ASSERT(addr_eq(&m.u.probe.addr.addr, &e.addr),
					 "ping-req address");
				break;
			case GW_ALIVE:
				T_EQ_INT(m.u.member.epoch, 5);
				T_EQ_INT(m.u.member.incarnation, 6);
				T_EQ_INT(m.u.member.head, 99);
				T_EQ_INT(m.u.member.stmt.prev, 90);
				T_EQ_INT(m.u.member.stmt.sig[63], 0x5a);
				T_ASSERT(addr_eq(&m.u.member.stmt.addr.addr, &e.addr),
					 "signed address");
				T_EQ_INT(m.u.member.addr.port, 7947);
				break;
			case GW_SUSPECT:
				T_EQ_MEM(m.u.member.from, ida, GOSSIP_ID_LEN);
				break;
			case GW_LEFT:
				T_EQ_INT(m.u.member.incarnation, 8);
				T_EQ_INT(m.u.member.stmt.flags, GW_STMT_LEFT);
				break;
			case GW_DELTA: {
				struct table_entry out;
				struct wire iw = wire_init(m.u.delta.items, m.u.delta.items_len);
				struct gw_delta_item di;

				T_EQ_INT(m.u.delta.count, 1);
				T_EQ_INT(gw_delta_item_decode(&iw, &di), 0);
				T_EQ_INT(di.n_path, 0);
				T_EQ_INT(wire_avail(&iw), 0);
				gw_record_to_entry(&di.rec, 4, 1, &out);
				if (di.rec.seq == 100) {
					T_EQ_STR(out.owner, te.owner);
					T_EQ_INT(out.n_names, 2);
					T_EQ_STR(out.names[1], "Api-1");
					T_EQ_INT(out.n_addrs, 2);
					T_ASSERT(addr_eq(&out.addrs[1], &te.addrs[1]),
						 "v6 address");
				} else {
					T_ASSERT(di.rec.deleted, "tombstone");
					T_EQ_STR(out.owner, "gone");
				}
				break;
			}
			case GW_SUMMARY:
				T_EQ_INT(m.u.summary.members, 3);
				T_ASSERT(m.u.summary.hash[15] == hash[15], "hash");
				break;
			case GW_SYNC_REQ:
				T_EQ_INT(m.u.sync_req.from, 12);
				T_EQ_INT(m.u.sync_req.have, 5);
				break;
			case GW_SYNC_DATA:
				T_EQ_INT(m.u.sync_data.count, 2);
				T_EQ_INT(m.u.sync_data.to, 20);
				T_EQ_INT(m.u.sync_data.chunk, 3);
				T_EQ_INT(m.u.sync_data.flags, GW_SYNC_LAST);
				break;
			}
		}
		T_EQ_INT(n, 9); /* PING_REQ: "endpoint faults" below */
	}

	T_CASE("an unknown message type is skipped and counted")
	{
		struct wire_out w = start();
		struct gw_hdr h;
		size_t unknown;

		wire_put_u8(&w, 200);
		wire_put_u16(&w, 3);
		wire_put_bytes(&w, "abc", 3);
		gw_put_probe(&w, GW_ACK, 1, ida, NULL);
		T_EQ_INT(gw_check(buf, wire_out_len(&w), &h, &unknown), 0);
		T_EQ_INT(unknown, 1);
	}

	T_CASE("header faults are rejected")
	{
		struct wire_out w = start();
		struct gw_hdr h;
		size_t unknown;

		gw_put_probe(&w, GW_PING, 1, NULL, NULL);
		T_EQ_INT(check(&w), 0);
		expect_bad(&w, 0, 1, GLUED_EBADVERS, "version 1 (unsigned statements)");
		expect_bad(&w, 0, 2, GLUED_EBADVERS, "version 2 (a statement per record)");
		expect_bad(&w, 0, 4, GLUED_EBADVERS, "version 4");
		expect_bad(&w, 1, 1, GLUED_EMALF, "flags");
		memset(buf + 2, 0, 8);
		T_EQ_INT(check(&w), GLUED_EMALF); /* epoch 0 */
		w = start();
		T_EQ_INT(check(&w), GLUED_EMALF); /* no message at all */
		T_EQ_INT(gw_check(buf, 10, &h, &unknown), GLUED_ETRUNC);
		T_EQ_INT(gw_check(buf, GOSSIP_DGRAM_MAX + 1, &h, &unknown), GLUED_EMALF);
	}

	T_CASE("message framing faults are rejected")
	{
		struct wire_out w = start();
		size_t len;

		gw_put_probe(&w, GW_PING, 1, NULL, NULL);
		len = wire_out_len(&w);
		expect_bad(&w, GW_HDR_LEN + 2, 37, GLUED_ETRUNC, "length past the end");
		expect_bad(&w, GW_HDR_LEN + 2, 35, GLUED_EMALF, "body shorter than the type");
		wire_put_u8(&w, GW_ACK); /* a message header cut short */
		T_EQ_INT(check(&w), GLUED_ETRUNC);
		w.p = w.start + len;
		/* a fixed-size body with a byte too many */
		buf[GW_HDR_LEN + 2] = 37;
		wire_put_u8(&w, 0);
		T_EQ_INT(check(&w), GLUED_EMALF);
	}

	T_CASE("endpoint faults are rejected")
	{
		struct wire_out w = start();
		struct glued_endpoint e = ep4();
		size_t at = GW_HDR_LEN + GW_MSG_HDR_LEN + 4 + GOSSIP_ID_LEN;

		gw_put_probe(&w, GW_PING_REQ, 1, idb, &e);
		T_EQ_INT(check(&w), 0);
		expect_bad(&w, at, 5, GLUED_EMALF, "family 5");
		expect_bad(&w, at, 0, GLUED_EMALF, "unknown address in a ping-req");
		expect_bad(&w, at + 1 + 8, 1, GLUED_EMALF, "IPv4 with bytes after the address");
		buf[at + 17] = 0;
		expect_bad(&w, at + 18, 0, GLUED_EMALF, "port 0");
	}

	T_CASE("record faults are rejected")
	{
		struct table_entry te;
		/* offsets inside a DELTA: msg header, statement, count, path
		 * length, record */
		size_t rec = GW_HDR_LEN + GW_DELTA_FIXED + 1;
		size_t olen = rec + 9, owner = rec + 10, nnames;
		struct wire_out w;

		sample_entry(&te);
		w = start();
		put_delta(&w, ida, 5, 100, te.owner, &te);
		T_EQ_INT(check(&w), 0);
		nnames = owner + strlen(te.owner);
		expect_bad(&w, rec + 8, 0x02, GLUED_EMALF, "unknown record flag");
		expect_bad(&w, rec + 8, 0x01, GLUED_EMALF, "tombstone with names");
		expect_bad(&w, owner + 3, 0, GLUED_EMALF, "NUL in owner");
		expect_bad(&w, nnames, 33, GLUED_EMALF, "33 names");
		expect_bad(&w, nnames, 0, GLUED_EMALF, "live record without names");
		expect_bad(&w, nnames + 2, '.', GLUED_EMALF, "a dot in a name");
		expect_bad(&w, nnames + 1, 0, GLUED_EMALF, "empty name");
		expect_bad(&w, rec + 7, 101, GLUED_EMALF, "a version above the statement's batch");
		expect_bad(&w, rec + 7, 99, GLUED_EMALF, "a version below the statement's batch");
		memset(buf + rec, 0, 8);
		T_EQ_INT(check(&w), GLUED_EMALF); /* seq 0 */
		w = start();
		put_delta(&w, ida, 5, 100, te.owner, &te);
		{
			size_t naddrs = wire_out_len(&w) - (1 + 4) - (1 + 16) - 1;

			expect_bad(&w, naddrs, 9, GLUED_EMALF, "9 addresses");
			expect_bad(&w, naddrs, 0, GLUED_EMALF, "no address");
			expect_bad(&w, naddrs + 1, 5, GLUED_EMALF, "address family 5");
		}
		expect_bad(&w, olen, 0, GLUED_EMALF, "empty owner");
		expect_bad(&w, olen, 200, GLUED_EMALF, "owner of 200 bytes");
	}

	T_CASE("summary and sync faults are rejected")
	{
		uint64_t hash[GW_BUCKETS] = {0};
		struct wire_out w = start();
		size_t off;

		gw_put_summary(&w, 0, 1, hash);
		T_EQ_INT(check(&w), 0);
		expect_bad(&w, GW_HDR_LEN + GW_MSG_HDR_LEN, 4, GLUED_EMALF, "summary flags");
		w = start();
		off = gw_sync_data_begin(&w, 1, 5, 10, 20, 0);
		gw_put_record(&w, 13, "a", NULL);
		gw_sync_data_end(&w, off, GW_SYNC_LAST | GW_SYNC_FULL, 1);
		T_EQ_INT(check(&w), 0);
		{
			size_t count = off + GW_MSG_HDR_LEN + 4 + 8 + 8 + 8 + 2 + 1;

			expect_bad(&w, count, 2, GLUED_EMALF, "count above the records");
			expect_bad(&w, count, 0, GLUED_EMALF, "count below the records");
			expect_bad(&w, count - 1, 0x80, GLUED_EMALF, "sync flags");
			/* to < from */
			expect_bad(&w, off + GW_MSG_HDR_LEN + 4 + 8 + 8 + 7, 1, GLUED_EMALF,
				   "to below from");
		}
	}

	T_CASE("the writer stops cleanly at the datagram limit")
	{
		struct wire_out w = start();
		struct table_entry te;
		size_t n = 0, off;

		sample_entry(&te);
		for (;;) {
			off = wire_out_len(&w);
			put_delta(&w, ida, 5, ++n, te.owner, &te);
			if (w.err) {
				gw_rollback(&w, off);
				break;
			}
		}
		T_ASSERT(wire_out_len(&w) <= GOSSIP_DGRAM_MAX, "fits");
		T_ASSERT(n > 3, "several deltas share a datagram (%zu)", n - 1);
		T_EQ_INT(check(&w), 0);
	}

	T_CASE("the largest record fits one datagram")
	{
		struct table_entry te;
		char owner[TABLE_OWNER_MAX + 1];

		memset(&te, 0, sizeof(te));
		memset(owner, 'o', TABLE_OWNER_MAX);
		owner[TABLE_OWNER_MAX] = 0;
		te.n_names = 8;
		for (int i = 0; i < 8; i++) {
			memset(te.names[i], 'a' + i, TABLE_NAME_MAX);
			te.names[i][TABLE_NAME_MAX] = 0;
		}
		te.n_addrs = TABLE_ENTRY_ADDRS_MAX;
		for (int i = 0; i < TABLE_ENTRY_ADDRS_MAX; i++)
			te.addrs[i].family = AF_INET6;
		T_ASSERT(gw_record_size(&te, strlen(owner)) <= GW_RECORD_MAX, "size %zu",
			 gw_record_size(&te, strlen(owner)));
		T_ASSERT(GW_HDR_LEN + GW_DELTA_FIXED + 1 + GW_PATH_MAX * GW_HASH_LEN +
				 GW_RECORD_MAX <=
			     GOSSIP_DGRAM_MAX,
			 "a maximal DELTA (full Merkle path) fits a datagram");
	}

	T_CASE("a DELTA carries its statement once and records of the batch in version order")
	{
		uint64_t seqs[3] = {41, 43, 45};
		uint8_t np[3] = {3, 3, 1}; /* five leaves: paths 3, 3, 3, 3, 1 */
		struct gw_iter it;
		struct gw_msg m;
		struct wire iw;
		struct gw_delta_item di;
		struct wire_out w;
		size_t at_count;

		T_EQ_INT(gw_path_len(5, 0), 3);
		T_EQ_INT(gw_path_len(5, 2), 3);
		T_EQ_INT(gw_path_len(5, 4), 1);
		T_EQ_INT(gw_path_len(1, 0), 0);
		T_EQ_INT(gw_path_len(64, 63), 6);
		w = batch_delta(40, 45, seqs, np, 3, 3);
		T_EQ_INT(check(&w), 0);
		T_EQ_INT(wire_out_len(&w), GW_HDR_LEN + GW_DELTA_FIXED + 3 +
					       (3 + 3 + 1) * GW_HASH_LEN + 3 * batch_rec_len);
		gw_iter_init(&it, buf, wire_out_len(&w));
		T_ASSERT(gw_iter_next(&it, &m) && m.type == GW_DELTA, "a DELTA");
		T_EQ_INT(m.u.delta.count, 3);
		T_EQ_INT(m.u.delta.stmt.head, 45);
		iw = wire_init(m.u.delta.items, m.u.delta.items_len);
		for (int i = 0; i < 3; i++) {
			T_EQ_INT(gw_delta_item_decode(&iw, &di), 0);
			T_EQ_INT(di.rec.seq, seqs[i]);
			T_EQ_INT(di.n_path, np[i]);
			T_EQ_INT(di.raw_len, 1 + (size_t)np[i] * GW_HASH_LEN + batch_rec_len);
		}
		T_EQ_INT(wire_avail(&iw), 0);
		at_count = GW_HDR_LEN + GW_DELTA_FIXED - 1;
		expect_bad(&w, at_count, 0, GLUED_EMALF, "no record");
		expect_bad(&w, at_count, 2, GLUED_EMALF, "count below the records");
		expect_bad(&w, at_count, 4, GLUED_EMALF, "count above the records");
	}

	T_CASE(
	    "a DELTA's records that are not one batch's, in order, with their paths, are rejected")
	{
		struct {
			uint64_t prev, head, seq[3];
			uint8_t np[3], n;
			const char *what;
		} bad[] = {
		    {40, 45, {43, 41, 45}, {3, 3, 1}, 3, "versions out of order"},
		    {40, 45, {41, 41, 45}, {3, 3, 1}, 3, "the same version twice"},
		    {40, 45, {41, 43, 46}, {3, 3, 1}, 3, "a version above the batch"},
		    {40, 45, {40, 43, 45}, {3, 3, 1}, 3, "a version below the batch"},
		    {40, 45, {41, 43, 45}, {3, 3, 3}, 3, "a path too long for its leaf"},
		    {40, 45, {41, 43, 45}, {3, 2, 1}, 3, "a path too short for its leaf"},
		    {40,
		     43,
		     {41, 42, 43},
		     {3, 3, 1},
		     3,
		     "a path of a five-leaf batch in a three-leaf one"},
		    {40, 40, {41, 0, 0}, {0, 0, 0}, 1, "a record under a statement of no versions"},
		};
		uint64_t ok_seq[3] = {41, 42, 43};
		uint8_t ok_np[3] = {2, 2, 1};
		struct wire_out w;

		w = batch_delta(40, 43, ok_seq, ok_np, 3, 3);
		T_EQ_INT(check(&w), 0); /* the well-formed one of the last rows */
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			w = batch_delta(bad[i].prev, bad[i].head, bad[i].seq, bad[i].np, bad[i].n,
					bad[i].n);
			T_ASSERT(check(&w) == GLUED_EMALF, "%s: got %d", bad[i].what, check(&w));
		}
		w = batch_delta(40, 43, ok_seq, ok_np, 3, 4);
		T_ASSERT(check(&w) == GLUED_EMALF, "a count above the records: got %d", check(&w));
		w = batch_delta_left();
		T_ASSERT(check(&w) == GLUED_EMALF, "records under a leave: got %d", check(&w));
	}

	T_CASE("statement faults are rejected")
	{
		struct wire_out w = start();
		struct gw_stmt st;
		size_t at = GW_HDR_LEN + GW_MSG_HDR_LEN;
		size_t flags = at + 32 + 8 + 4, prev = flags + 1 + GW_ENDPOINT_LEN;

		stmt_of(&st, ida, 5, 1, 10, 20);
		gw_put_alive(&w, &st, NULL);
		T_EQ_INT(check(&w), 0);
		expect_bad(&w, flags, GW_STMT_LEFT, GLUED_EMALF, "ALIVE with the left flag");
		expect_bad(&w, flags, 0x80, GLUED_EMALF, "unknown statement flag");
		expect_bad(&w, prev + 7, 21, GLUED_EMALF, "a batch running backwards");
		expect_bad(&w, prev + 8 + 6, 1, GLUED_EMALF, "a batch wider than 64 versions");
		memset(buf + at + 32, 0, 8);
		T_EQ_INT(check(&w), GLUED_EMALF); /* epoch 0 */
		w = start();
		st.flags = GW_STMT_LEFT;
		gw_put_left(&w, &st);
		T_EQ_INT(check(&w), 0);
		expect_bad(&w, flags, 0, GLUED_EMALF, "LEFT without the left flag");
	}
	return t_summary();
}
