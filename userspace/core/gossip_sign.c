/* Signed statements (docs/protocol.md, "Signed statements"): what an origin
 * says about itself — its epoch, incarnation, address, leave, and the batch
 * of record versions since its previous statement (a Merkle root over the
 * encoded records) — signed once with its node key, relayed unchanged, and
 * verified by receivers once per statement (a cache of verified ones makes
 * every further record of the same batch a few hashes).
 *
 * This file owns building and signing this node's statements (through the
 * injected signer: the secret key never enters the core) and checking other
 * origins'. It decides nothing about membership or records: gossip_member.c
 * and gossip_records.c call it before they apply a claim.
 */
#include "core/crypto.h"
#include "core/gossip_int.h"

_Static_assert(GW_SIG_LEN == CRYPTO_SIG_LEN, "statement signature is Ed25519");
_Static_assert(GW_BATCH_MAX <= 1 << GW_PATH_MAX, "a path covers a full batch");

/* --- Merkle tree over a batch --------------------------------------------
 * Leaves are hash16('L', encoded record) in version order; a level of odd
 * size promotes its last node unchanged; a node is hash16('N', left ||
 * right); an empty batch (a statement that only changes the incarnation or
 * leaves) has the root hash16('E'). The tag bytes keep leaves, nodes and
 * the empty root apart. */

static void leaf(uint8_t out[GW_HASH_LEN], const uint8_t *rec, size_t len)
{
	crypto_hash16(out, 'L', rec, len, NULL, 0);
}

static void node(uint8_t out[GW_HASH_LEN], const uint8_t *l, const uint8_t *r)
{
	crypto_hash16(out, 'N', l, GW_HASH_LEN, r, GW_HASH_LEN);
}

/* Root of n leaves (h is overwritten) and the path of leaf `want` into
 * path (NULL: none); returns the path's length. */
static uint8_t merkle(uint8_t (*h)[GW_HASH_LEN], size_t n, size_t want,
		      uint8_t path[GW_PATH_MAX][GW_HASH_LEN], uint8_t root[GW_HASH_LEN])
{
	uint8_t np = 0;

	if (n == 0) {
		crypto_hash16(root, 'E', NULL, 0, NULL, 0);
		return 0;
	}
	while (n > 1) {
		size_t sib = want ^ 1;

		if (path && sib < n)
			memcpy(path[np++], h[sib], GW_HASH_LEN);
		for (size_t i = 0; i < n; i += 2) {
			if (i + 1 < n)
				node(h[i / 2], h[i], h[i + 1]);
			else
				memmove(h[i / 2], h[i], GW_HASH_LEN);
		}
		n = (n + 1) / 2;
		want /= 2;
	}
	memcpy(root, h[0], GW_HASH_LEN);
	return np;
}

/* The root that leaf i of n with this path leads to; false if the path has
 * the wrong length for (n, i). */
static bool merkle_fold(uint8_t root[GW_HASH_LEN], const uint8_t lf[GW_HASH_LEN], size_t n,
			size_t i, const uint8_t *path, size_t n_path)
{
	uint8_t h[GW_HASH_LEN];
	size_t used = 0;

	memcpy(h, lf, GW_HASH_LEN);
	for (; n > 1; n = (n + 1) / 2, i /= 2) {
		if ((i ^ 1) >= n)
			continue; /* promoted */
		if (used == n_path)
			return false;
		if (i & 1)
			node(h, path + used * GW_HASH_LEN, h);
		else
			node(h, h, path + used * GW_HASH_LEN);
		used++;
	}
	memcpy(root, h, GW_HASH_LEN);
	return used == n_path;
}

/* --- this node's statements ------------------------------------------- */

static void sign_stmt(struct gossip *g, struct gw_stmt *st)
{
	uint8_t msg[GW_STMT_MSG_LEN];
	struct wire_out w = wire_out_init(g->stmt_raw, GW_STMT_LEN);
	size_t len = gw_stmt_signed_msg(st, msg);

	g->cfg.signer.sign(g->cfg.signer.ctx, st->sig, msg, len);
	gw_put_stmt(&w, st);
	g->stmt = *st;
	g->st.stmts_signed++;
}

static void stmt_base(const struct gossip *g, struct gw_stmt *st, uint8_t flags)
{
	memset(st, 0, sizeof(*st));
	memcpy(st->id, g->cfg.self_id, GOSSIP_ID_LEN);
	st->epoch = g->cfg.epoch;
	st->incarnation = g->inc;
	st->flags = flags;
	st->addr = g->cfg.self_addr;
	if (addr_is_any(&st->addr.addr))
		memset(&st->addr, 0, sizeof(st->addr)); /* "my source address" */
	st->prev = st->head = g->stmt.head;
}

/* Sign the pending changes as one batch and queue each change with its
 * record's Merkle path; the dissemination queue sends the records of one
 * statement together, the statement once per datagram (gossip_bcast.c). */
void gsp_sign_batch(struct gossip *g)
{
	uint8_t leaves[GW_BATCH_MAX][GW_HASH_LEN], tmp[GW_BATCH_MAX][GW_HASH_LEN];
	uint8_t path[GW_PATH_MAX][GW_HASH_LEN], buf[BCAST_ITEM_MAX];
	struct gw_stmt st;

	if (!g->n_pend)
		return;
	stmt_base(g, &st, 0);
	st.head = st.prev + g->n_pend;
	for (size_t i = 0; i < g->n_pend; i++)
		leaf(leaves[i], g->pend[i].rec, g->pend[i].len);
	memcpy(tmp, leaves, g->n_pend * GW_HASH_LEN);
	merkle(tmp, g->n_pend, 0, NULL, st.root);
	sign_stmt(g, &st);
	for (size_t i = 0; i < g->n_pend; i++) {
		struct wire_out w = wire_out_init(buf, sizeof(buf));
		uint8_t np;

		memcpy(tmp, leaves, g->n_pend * GW_HASH_LEN);
		np = merkle(tmp, g->n_pend, i, path, st.root);
		gw_put_delta_item(&w, &path[0][0], np, g->pend[i].rec, g->pend[i].len);
		if (!w.err)
			gsp_bcast_delta(g, g->stmt_raw, buf, wire_out_len(&w), st.prev + 1 + i);
	}
	g->n_pend = 0;
	g->push_due = true;
	g->announce_head = true;
}

/* A statement with no new records: a new incarnation or the leave. Pending
 * changes are signed first, so the batch chain has no hole. */
void gsp_sign_self(struct gossip *g, uint8_t flags)
{
	struct gw_stmt st;

	gsp_sign_batch(g);
	stmt_base(g, &st, flags);
	merkle(NULL, 0, 0, NULL, st.root);
	sign_stmt(g, &st);
}

void gsp_pend_add(struct gossip *g, const uint8_t *rec, size_t len)
{
	if (g->n_pend == GW_BATCH_MAX)
		gsp_sign_batch(g); /* a batch is full: the rest starts a new one */
	memcpy(g->pend[g->n_pend].rec, rec, len);
	g->pend[g->n_pend].len = (uint16_t)len;
	g->n_pend++;
}

int gsp_sign_init(struct gossip *g)
{
	g->pend = calloc(GW_BATCH_MAX, sizeof(*g->pend));
	g->vcache = calloc(VCACHE, sizeof(*g->vcache));
	if (!g->pend || !g->vcache)
		return -ENOMEM;
	gsp_sign_self(g, 0); /* incarnation 0, head 0 */
	return 0;
}

void gsp_sign_free(struct gossip *g)
{
	free(g->pend);
	free(g->vcache);
}

/* --- other origins' statements ----------------------------------------- */

/* Is the statement signed by the node it names? Each distinct statement is
 * checked once: a direct-mapped cache holds the hash of every statement that
 * verified (a collision only costs a verification again). */
bool gsp_stmt_ok(struct gossip *g, const struct gw_stmt *st, const uint8_t *raw)
{
	uint8_t h[GW_HASH_LEN], msg[GW_STMT_MSG_LEN];
	uint64_t slot;
	size_t len;

	crypto_hash16(h, 'S', raw, GW_STMT_LEN, NULL, 0);
	memcpy(&slot, h, sizeof(slot));
	slot %= VCACHE;
	if (!memcmp(g->vcache[slot], h, GW_HASH_LEN)) {
		g->st.stmts_cached++;
		return true;
	}
	len = gw_stmt_signed_msg(st, msg);
	g->st.stmts_verified++;
	if (!crypto_sig_ok(st->sig, msg, len, st->id)) {
		g->st.stmts_bad++;
		return false;
	}
	memcpy(g->vcache[slot], h, GW_HASH_LEN);
	return true;
}

/* Every record of a DELTA is leaf (seq - prev - 1) of the statement's
 * batch, and the statement is its origin's: all of them or nothing. The
 * paths cost a few hashes each; the signature is checked once (and only
 * once per statement at all: gsp_stmt_ok's cache). */
bool gsp_delta_ok(struct gossip *g, const struct gw_msg *msg)
{
	const struct gw_stmt *st = &msg->u.delta.stmt;
	uint8_t lf[GW_HASH_LEN], root[GW_HASH_LEN];
	struct wire w = wire_init(msg->u.delta.items, msg->u.delta.items_len);
	struct gw_delta_item it;

	for (uint8_t i = 0; i < msg->u.delta.count; i++) {
		if (gw_delta_item_decode(&w, &it))
			return false; /* gw_check validated it; cannot happen */
		leaf(lf, it.rec_raw, it.rec_len);
		if (!merkle_fold(root, lf, st->head - st->prev, it.rec.seq - st->prev - 1, it.path,
				 it.n_path) ||
		    memcmp(root, st->root, GW_HASH_LEN)) {
			g->st.stmts_bad++;
			return false;
		}
	}
	return gsp_stmt_ok(g, st, msg->u.delta.stmt_raw);
}

/* Is st newer than the newest statement of m we hold? Statements of one
 * origin are ordered by (epoch, incarnation, head): it raises each of them
 * only, and signs them in that order. */
bool gsp_stmt_newer(const struct member *m, const struct gw_stmt *st)
{
	int c;

	if (!m->has_stmt)
		return true;
	c = vcmp(st->epoch, st->incarnation, m->stmt.epoch, m->stmt.incarnation);
	return c > 0 || (c == 0 && (st->head > m->stmt.head ||
				    (st->flags & GW_STMT_LEFT && !(m->stmt.flags & GW_STMT_LEFT))));
}

/* Keep a verified statement of m if it is its newest. */
void gsp_stmt_keep(struct member *m, const struct gw_stmt *st, const uint8_t *raw)
{
	if (!gsp_stmt_newer(m, st))
		return;
	m->stmt = *st;
	memcpy(m->stmt_raw, raw, GW_STMT_LEN);
	m->has_stmt = true;
}
