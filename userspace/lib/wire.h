/* Bounded byte cursors with a sticky error, after Knot's wire_ctx.
 *
 * Read or write freely; the first failure sets `err` and every later call is
 * a no-op returning 0, so a parser checks once at the end. Multi-byte values
 * are big-endian (network order) on the wire. All inline, no allocation, no
 * I/O: usable from every core.
 */
#ifndef GLUED_LIB_WIRE_H
#define GLUED_LIB_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/err.h"

struct wire {
	const uint8_t *start, *p, *end;
	int err; /* first error wins */
};

static inline struct wire wire_init(const uint8_t *buf, size_t len)
{
	return (struct wire){ .start = buf, .p = buf, .end = buf + len, .err = 0 };
}

static inline size_t wire_avail(const struct wire *w)
{
	return w->err ? 0 : (size_t)(w->end - w->p);
}

static inline size_t wire_offset(const struct wire *w)
{
	return (size_t)(w->p - w->start);
}

static inline int wire_need(struct wire *w, size_t n)
{
	if (w->err)
		return w->err;
	if ((size_t)(w->end - w->p) < n)
		w->err = GLUED_ETRUNC;
	return w->err;
}

static inline uint8_t wire_u8(struct wire *w)
{
	if (wire_need(w, 1))
		return 0;
	return *w->p++;
}

static inline uint16_t wire_u16(struct wire *w)
{
	uint16_t v;

	if (wire_need(w, 2))
		return 0;
	v = (uint16_t)(w->p[0] << 8 | w->p[1]);
	w->p += 2;
	return v;
}

static inline uint32_t wire_u32(struct wire *w)
{
	uint32_t v;

	if (wire_need(w, 4))
		return 0;
	v = (uint32_t)w->p[0] << 24 | (uint32_t)w->p[1] << 16 | (uint32_t)w->p[2] << 8 | w->p[3];
	w->p += 4;
	return v;
}

static inline uint64_t wire_u64(struct wire *w)
{
	uint64_t hi = wire_u32(w);
	return hi << 32 | wire_u32(w);
}

static inline void wire_bytes(struct wire *w, void *dst, size_t n)
{
	if (wire_need(w, n)) {
		memset(dst, 0, n);
		return;
	}
	memcpy(dst, w->p, n);
	w->p += n;
}

/* Returns a pointer to n bytes in place and advances, or NULL. */
static inline const uint8_t *wire_take(struct wire *w, size_t n)
{
	const uint8_t *p;

	if (wire_need(w, n))
		return NULL;
	p = w->p;
	w->p += n;
	return p;
}

static inline void wire_skip(struct wire *w, size_t n)
{
	if (wire_need(w, n) == 0)
		w->p += n;
}

static inline void wire_seek(struct wire *w, size_t off)
{
	if (w->err)
		return;
	if (off > (size_t)(w->end - w->start))
		w->err = GLUED_ETRUNC;
	else
		w->p = w->start + off;
}

static inline void wire_fail(struct wire *w, int err)
{
	if (!w->err)
		w->err = err;
}

/* Writer: same idea over a mutable buffer; running out sets GLUED_ESPACE. */
struct wire_out {
	uint8_t *start, *p, *end;
	int err;
};

static inline struct wire_out wire_out_init(uint8_t *buf, size_t cap)
{
	return (struct wire_out){ .start = buf, .p = buf, .end = buf + cap, .err = 0 };
}

static inline size_t wire_out_len(const struct wire_out *w)
{
	return (size_t)(w->p - w->start);
}

static inline int wire_out_need(struct wire_out *w, size_t n)
{
	if (w->err)
		return w->err;
	if ((size_t)(w->end - w->p) < n)
		w->err = GLUED_ESPACE;
	return w->err;
}

static inline void wire_put_u8(struct wire_out *w, uint8_t v)
{
	if (wire_out_need(w, 1) == 0)
		*w->p++ = v;
}

static inline void wire_put_u16(struct wire_out *w, uint16_t v)
{
	if (wire_out_need(w, 2) == 0) {
		w->p[0] = (uint8_t)(v >> 8);
		w->p[1] = (uint8_t)v;
		w->p += 2;
	}
}

static inline void wire_put_u32(struct wire_out *w, uint32_t v)
{
	if (wire_out_need(w, 4) == 0) {
		w->p[0] = (uint8_t)(v >> 24);
		w->p[1] = (uint8_t)(v >> 16);
		w->p[2] = (uint8_t)(v >> 8);
		w->p[3] = (uint8_t)v;
		w->p += 4;
	}
}

static inline void wire_put_u64(struct wire_out *w, uint64_t v)
{
	wire_put_u32(w, (uint32_t)(v >> 32));
	wire_put_u32(w, (uint32_t)v);
}

static inline void wire_put_bytes(struct wire_out *w, const void *src, size_t n)
{
	if (wire_out_need(w, n) == 0) {
		memcpy(w->p, src, n);
		w->p += n;
	}
}

/* Patch a u16 already written at offset `off` (e.g. a length or count). */
static inline void wire_patch_u16(struct wire_out *w, size_t off, uint16_t v)
{
	if (w->err || off + 2 > wire_out_len(w))
		return;
	w->start[off] = (uint8_t)(v >> 8);
	w->start[off + 1] = (uint8_t)v;
}

#endif
