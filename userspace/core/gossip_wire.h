/* The gossip wire codec: datagram header, messages and records exactly as
 * docs/protocol.md lays them out. It owns byte layout and validation only;
 * it never decides anything about membership or records (core/gossip.c
 * does) and never allocates. Decoded messages point into the caller's
 * buffer and are valid while it is.
 */
#ifndef GLUED_CORE_GOSSIP_WIRE_H
#define GLUED_CORE_GOSSIP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/gossip.h"
#include "core/table.h"
#include "lib/addr.h"
#include "lib/wire.h"

/* 2: signed statements in ALIVE, LEFT and DELTA; 3: a DELTA carries its
 * statement once and any number of the batch's records */
#define GW_VERSION 3
#define GW_HDR_LEN 22	 /* version, flags, epoch, incarnation, head */
#define GW_MSG_HDR_LEN 3 /* type, body length */
#define GW_ENDPOINT_LEN 19
#define GW_BUCKETS 16 /* SUMMARY hash buckets */

/* A statement: what an origin signs about itself (docs/protocol.md,
 * "Signed statements"). The first GW_STMT_SIGNED bytes are signed, after the
 * domain string GW_STMT_DOMAIN, with the Ed25519 key that is the origin's
 * node ID; the signature follows. */
#define GW_STMT_DOMAIN "glued-statement-v2"
#define GW_HASH_LEN 16 /* Merkle node: BLAKE2b-128 */
#define GW_SIG_LEN 64  /* Ed25519 */
#define GW_STMT_SIGNED (32 + 8 + 4 + 1 + GW_ENDPOINT_LEN + 8 + 8 + GW_HASH_LEN) /* 96 */
#define GW_STMT_LEN (GW_STMT_SIGNED + GW_SIG_LEN)				/* 160 */
#define GW_STMT_LEFT 0x01 /* the origin left at this version */
#define GW_BATCH_MAX 64	  /* record versions one statement covers */
#define GW_PATH_MAX 6	  /* Merkle path of one of at most 64 leaves */
/* encoded record, so a DELTA of one record (statement, count, path, record)
 * fits one datagram */
#define GW_RECORD_MAX 880
/* DELTA bytes before its first record: message header, statement, count */
#define GW_DELTA_FIXED (GW_MSG_HDR_LEN + GW_STMT_LEN + 1)

enum gw_type {
	GW_PING = 1,
	GW_ACK = 2,
	GW_PING_REQ = 3,
	GW_NACK = 4,
	GW_ALIVE = 5,
	GW_SUSPECT = 6,
	GW_DEAD = 7,
	GW_LEFT = 8,
	GW_DELTA = 9,
	GW_SUMMARY = 10,
	GW_SYNC_REQ = 11,
	GW_SYNC_DATA = 12,
};

#define GW_SUMMARY_REPLY 0x01
#define GW_SYNC_LAST 0x01
#define GW_SYNC_FULL 0x02
#define GW_REC_DELETED 0x01

struct gw_stmt {
	uint8_t id[GOSSIP_ID_LEN];
	uint64_t epoch;
	uint32_t incarnation;
	uint8_t flags;		    /* GW_STMT_LEFT */
	struct glued_endpoint addr; /* family 0: "my source address" */
	uint64_t prev, head;	    /* the batch: record versions prev+1..head */
	uint8_t root[GW_HASH_LEN];  /* Merkle root over the batch's records */
	uint8_t sig[GW_SIG_LEN];
};

struct gw_hdr {
	uint64_t epoch;
	uint32_t incarnation;
	uint64_t head;
};

/* A record as it sits in the datagram. */
struct gw_record {
	uint64_t seq;
	bool deleted;
	uint8_t owner_len;
	const uint8_t *owner; /* not NUL-terminated */
	uint8_t n_names;
	uint8_t name_len[TABLE_ENTRY_NAMES_MAX];
	const uint8_t *name[TABLE_ENTRY_NAMES_MAX];
	uint8_t n_addrs;
	struct glued_addr addrs[TABLE_ENTRY_ADDRS_MAX];
};

struct gw_msg {
	uint8_t type;
	const uint8_t *raw; /* the whole message: type, length, body */
	size_t raw_len;
	union {
		struct { /* PING, ACK, NACK, PING_REQ */
			uint32_t seq;
			uint8_t target[GOSSIP_ID_LEN];
			struct glued_endpoint addr; /* PING_REQ only */
		} probe;
		struct { /* ALIVE, SUSPECT, DEAD, LEFT */
			uint8_t id[GOSSIP_ID_LEN];
			uint64_t epoch;
			uint32_t incarnation;
			struct glued_endpoint addr;  /* ALIVE only: the relay's hint */
			uint64_t head;		     /* ALIVE only */
			uint8_t from[GOSSIP_ID_LEN]; /* SUSPECT, DEAD only */
			struct gw_stmt stmt;	     /* ALIVE, LEFT: id, epoch, ... from it */
			const uint8_t *stmt_raw;     /* its GW_STMT_LEN bytes */
		} member;
		struct {
			struct gw_stmt stmt; /* the origin's, covering every record */
			const uint8_t *stmt_raw;
			uint8_t count;	      /* records, 1..GW_BATCH_MAX, versions rising */
			const uint8_t *items; /* count items (gw_delta_item_decode) */
			size_t items_len;
		} delta;
		struct {
			uint8_t flags;
			uint16_t members;
			uint64_t hash[GW_BUCKETS];
		} summary;
		struct {
			uint32_t id;
			uint64_t epoch, from;
			uint64_t have; /* bit i: version from + 1 + i already held */
			uint8_t flags; /* GW_SYNC_FULL: replace everything */
		} sync_req;
		struct {
			uint32_t id;
			uint64_t epoch, from, to;
			uint16_t chunk;
			uint8_t flags, count;
			const uint8_t *recs; /* count records, recs_len bytes */
			size_t recs_len;
		} sync_data;
	} u;
};

/* One record of a DELTA: its Merkle path and the encoded record. */
struct gw_delta_item {
	const uint8_t *raw; /* the whole item as encoded (path length, path, record) */
	size_t raw_len;
	uint8_t n_path;
	const uint8_t *path;	/* n_path Merkle siblings, leaf upwards */
	const uint8_t *rec_raw; /* the encoded record (the Merkle leaf) */
	size_t rec_len;
	struct gw_record rec;
};

/* Reading. gw_check() validates a whole datagram (header and every message
 * of a known type; unknown types are counted in *unknown) so the core acts
 * on all of it or none: 0, GLUED_EBADVERS, GLUED_EMALF or GLUED_ETRUNC.
 * Then gw_iter_init/gw_iter_next walk the messages (unknown types skipped). */
int gw_check(const uint8_t *buf, size_t len, struct gw_hdr *h, size_t *unknown) GLUED_MUST_CHECK;

struct gw_iter {
	struct wire w;
};
void gw_iter_init(struct gw_iter *it, const uint8_t *buf, size_t len);
/* Next message of a known type into *m: true, or false at the end. Only
 * for a datagram gw_check() accepted. */
bool gw_iter_next(struct gw_iter *it, struct gw_msg *m);

/* Decode one record at the cursor (used for SYNC_DATA bodies). */
int gw_record_decode(struct wire *w, struct gw_record *r);
/* Decode one DELTA item at the cursor (walk m->u.delta.items with it). */
int gw_delta_item_decode(struct wire *w, struct gw_delta_item *it);
/* Merkle path length of leaf i in a batch of n leaves (a level of odd size
 * promotes its last node, which then needs no sibling). */
uint8_t gw_path_len(uint64_t n, uint64_t i);
/* The record as a table entry of `origin` (names and owner copied and
 * NUL-terminated). */
void gw_record_to_entry(const struct gw_record *r, uint32_t origin, uint64_t now_ms,
			struct table_entry *e);

/* Writing. The writers set w->err (GLUED_ESPACE) when out of room; the
 * caller rolls back to the offset it saved (gw_rollback). */
void gw_put_hdr(struct wire_out *w, const struct gw_hdr *h);
void gw_rollback(struct wire_out *w, size_t off);
void gw_put_probe(struct wire_out *w, uint8_t type, uint32_t seq, const uint8_t *target,
		  const struct glued_endpoint *addr);
/* A statement as its GW_STMT_LEN bytes; gw_stmt_signed_msg() writes the
 * bytes the signature covers (domain string + the first GW_STMT_SIGNED
 * bytes) into out (GW_STMT_MSG_LEN) and returns their length. */
#define GW_STMT_MSG_LEN (sizeof(GW_STMT_DOMAIN) - 1 + GW_STMT_SIGNED)
void gw_put_stmt(struct wire_out *w, const struct gw_stmt *s);
void gw_get_stmt(struct wire *w, struct gw_stmt *s);
size_t gw_stmt_signed_msg(const struct gw_stmt *s, uint8_t out[GW_STMT_MSG_LEN]);
/* ALIVE: the statement and the relay's address hint; LEFT: the statement. */
void gw_put_alive(struct wire_out *w, const struct gw_stmt *s, const struct glued_endpoint *hint);
void gw_put_left(struct wire_out *w, const struct gw_stmt *s);
/* SUSPECT and DEAD (type), with `from`. */
void gw_put_member(struct wire_out *w, uint8_t type, const uint8_t *id, uint64_t epoch,
		   uint32_t inc, const uint8_t *from);
/* Encoded size of a record for entry e (or a tombstone when e is NULL and
 * owner is given). */
size_t gw_record_size(const struct table_entry *e, size_t owner_len);
void gw_put_record(struct wire_out *w, uint64_t seq, const char *owner,
		   const struct table_entry *e /* NULL = tombstone */);
/* DELTA: begin writes the statement and returns the offset of the
 * message; items (a record's Merkle path and the record) follow in rising
 * version order, as gw_put_delta_item encodes them; end patches the count
 * and the body length. gw_put_delta is the DELTA of a single record. */
size_t gw_delta_begin(struct wire_out *w, const uint8_t *stmt_raw);
void gw_put_delta_item(struct wire_out *w, const uint8_t *path, uint8_t n_path, const uint8_t *rec,
		       size_t rec_len);
void gw_delta_end(struct wire_out *w, size_t off, uint8_t count);
void gw_put_delta(struct wire_out *w, const uint8_t *stmt_raw, const uint8_t *path, uint8_t n_path,
		  const uint8_t *rec, size_t rec_len);
void gw_put_summary(struct wire_out *w, uint8_t flags, uint16_t members,
		    const uint64_t hash[GW_BUCKETS]);
void gw_put_sync_req(struct wire_out *w, uint32_t id, uint64_t epoch, uint64_t from, uint64_t have,
		     uint8_t flags);
/* SYNC_DATA: begin writes the fixed part and returns the offset of the
 * message; records follow with gw_put_record; end patches count, flags and
 * the body length. */
size_t gw_sync_data_begin(struct wire_out *w, uint32_t id, uint64_t epoch, uint64_t from,
			  uint64_t to, uint16_t chunk);
void gw_sync_data_end(struct wire_out *w, size_t off, uint8_t flags, uint8_t count);

void gw_put_endpoint(struct wire_out *w, const struct glued_endpoint *e);
void gw_get_endpoint(struct wire *w, struct glued_endpoint *e);

#endif
