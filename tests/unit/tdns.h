/* DNS messages for tests: names in dotted text to wire labels, and plain
 * queries (header, one question, optional OPT counted in ARCOUNT). Shared by
 * the unit tests of the answerer and the forwarder core and by the loopback
 * tests of their I/O edges, so that every test asks the same bytes.
 */
#ifndef GLUED_TESTS_TDNS_H
#define GLUED_TESTS_TDNS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* "web.glued" to 3web5glued0; "" and "." are the root. Returns the length. */
static inline uint8_t t_name_wire(uint8_t *out, const char *text)
{
	size_t n = 0;

	while (*text && strcmp(text, ".") != 0) {
		const char *dot = strchr(text, '.');
		size_t l = dot ? (size_t)(dot - text) : strlen(text);

		out[n++] = (uint8_t)l;
		memcpy(out + n, text, l);
		n += l;
		text += l + (dot ? 1 : 0);
	}
	out[n++] = 0;
	return (uint8_t)n;
}

/* Header (QDCOUNT 1, ARCOUNT arcount) and the question; the caller appends
 * any additional records. Returns the bytes written. */
static inline size_t t_query(uint8_t *m, uint16_t id, uint16_t flags, uint16_t arcount,
			     const char *name, uint16_t qtype, uint16_t qclass)
{
	size_t n = 12;

	memset(m, 0, 12);
	m[0] = (uint8_t)(id >> 8);
	m[1] = (uint8_t)id;
	m[2] = (uint8_t)(flags >> 8);
	m[3] = (uint8_t)flags;
	m[5] = 1;
	m[10] = (uint8_t)(arcount >> 8);
	m[11] = (uint8_t)arcount;
	n += t_name_wire(m + n, name);
	m[n++] = (uint8_t)(qtype >> 8);
	m[n++] = (uint8_t)qtype;
	m[n++] = (uint8_t)(qclass >> 8);
	m[n++] = (uint8_t)qclass;
	return n;
}

#endif
