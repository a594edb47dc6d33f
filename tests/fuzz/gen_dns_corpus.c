/* Seed corpus generator for fuzz_dns_parse and fuzz_dns_answer: writes
 * well-formed queries of many shapes and the malformed catalogue of
 * tests/unit/test_dns_wire.c, one file each, into the directories given.
 * Not a fuzz target (no fuzz_ prefix); build and run by hand:
 *   cc -O1 -o build/gen_dns_corpus tests/fuzz/gen_dns_corpus.c
 *   build/gen_dns_corpus tests/fuzz/corpus/dns_parse tests/fuzz/corpus/dns_answer
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct msg {
	uint8_t b[1024];
	size_t n;
};

static void u8(struct msg *m, uint8_t v)
{
	m->b[m->n++] = v;
}

static void u16(struct msg *m, uint16_t v)
{
	u8(m, (uint8_t)(v >> 8));
	u8(m, (uint8_t)v);
}

static void hdr(struct msg *m, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar)
{
	m->n = 0;
	u16(m, 0x5a5a);
	u16(m, flags);
	u16(m, qd);
	u16(m, an);
	u16(m, ns);
	u16(m, ar);
}

static void name(struct msg *m, const char *s)
{
	while (*s && strcmp(s, ".")) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		u8(m, (uint8_t)l);
		memcpy(m->b + m->n, s, l);
		m->n += l;
		s += l + (dot ? 1 : 0);
	}
	u8(m, 0);
}

static void opt(struct msg *m, uint16_t size, uint8_t version, int dnssec_ok)
{
	u8(m, 0);
	u16(m, 41);
	u16(m, size);
	u8(m, 0);
	u8(m, version);
	u16(m, dnssec_ok ? 0x8000 : 0);
	u16(m, 0);
}

static void query(struct msg *m, uint16_t flags, const char *qname, uint16_t type, uint16_t cls,
		  int edns)
{
	hdr(m, flags, 1, 0, 0, edns ? 1 : 0);
	name(m, qname);
	u16(m, type);
	u16(m, cls);
	if (edns)
		opt(m, (uint16_t)edns, 0, edns & 1);
}

static char **dirs;
static int n_dirs;

static void emit(const char *file, const struct msg *m)
{
	for (int i = 0; i < n_dirs; i++) {
		char path[4096];
		FILE *f;

		snprintf(path, sizeof(path), "%s/seed-%s", dirs[i], file);
		f = fopen(path, "wb");
		if (!f || fwrite(m->b, 1, m->n, f) != m->n || fclose(f)) {
			perror(path);
			exit(1);
		}
	}
}

int main(int argc, char **argv)
{
	static const struct {
		const char *file, *name;
		uint16_t type, cls, flags;
		int edns;
	} shapes[] = {
	    {"a-web", "web", 1, 1, 0x0100, 0},
	    {"aaaa-web", "web", 28, 1, 0x0100, 0},
	    {"a-web-edns", "web", 1, 1, 0x0100, 1232},
	    {"a-web-edns-do", "web", 1, 1, 0x0110, 4097},
	    {"a-case", "WeB", 1, 1, 0x0100, 0},
	    {"aaaa-db-nodata", "db", 28, 1, 0x0100, 0},
	    {"mx-db-nodata", "db", 15, 1, 0x0100, 0},
	    {"any-web", "web", 255, 1, 0x0100, 0},
	    {"a-unknown", "nosuch", 1, 1, 0x0100, 0},
	    {"mx-unknown", "nosuch", 15, 1, 0x0100, 0},
	    {"a-big", "big", 1, 1, 0x0100, 0},
	    {"a-big-edns", "big", 1, 1, 0x0100, 1232},
	    {"aaaa-big-edns600", "big", 28, 1, 0x0100, 600},
	    {"a-fqdn", "www.example.com", 1, 1, 0x0100, 1232},
	    {"ns-root", ".", 2, 1, 0x0100, 0},
	    {"a-chaos", "version.bind", 16, 3, 0x0000, 0},
	    {"a-class-ch-web", "web", 1, 3, 0x0000, 0},
	    {"ptr-v4", "9.0.0.10.in-addr.arpa", 12, 1, 0x0100, 0},
	    {"ptr-v4-miss", "8.0.0.10.in-addr.arpa", 12, 1, 0x0100, 0},
	    {"ptr-v4-leading-zero", "09.0.0.10.in-addr.arpa", 12, 1, 0x0100, 0},
	    {"ptr-v6", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa",
	     12, 1, 0x0100, 1232},
	    {"opcode-status", "web", 1, 1, 0x1000, 0},
	    {"opcode-notify", "web", 6, 1, 0x2000, 1232},
	    {"z-ad-cd", "web", 1, 1, 0x0170, 0},
	    {"qr-response", "web", 1, 1, 0x8180, 0},
	};
	struct msg m;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR...\n", argv[0]);
		return 2;
	}
	dirs = argv + 1;
	n_dirs = argc - 1;
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		query(&m, shapes[i].flags, shapes[i].name, shapes[i].type, shapes[i].cls,
		      shapes[i].edns);
		emit(shapes[i].file, &m);
	}

	/* EDNS variants */
	hdr(&m, 0x0100, 1, 0, 0, 1);
	name(&m, "web");
	u16(&m, 1);
	u16(&m, 1);
	opt(&m, 1232, 1, 1);
	emit("edns-version1", &m);
	m.b[m.n - 11] = 0xc0; /* OPT owner becomes a pointer... */
	memmove(m.b + m.n - 9, m.b + m.n - 10, 10);
	m.b[m.n - 10] = 12; /* ...to the question name: not root */
	m.n++;
	m.b[11] = 1;
	emit("opt-nonroot-owner", &m);
	query(&m, 0x0100, "web", 1, 1, 1232);
	opt(&m, 1232, 0, 0);
	m.b[11] = 2;
	emit("opt-twice", &m);
	query(&m, 0x0100, "web", 1, 1, 0);
	m.b[11] = 1;
	u8(&m, 0);
	u16(&m, 41);
	u16(&m, 1232);
	u16(&m, 0);
	u16(&m, 0);
	u16(&m, 12);
	u16(&m, 10); /* cookie */
	u16(&m, 8);
	for (int i = 0; i < 8; i++)
		u8(&m, (uint8_t)i);
	emit("opt-cookie", &m);
	query(&m, 0x0100, "web", 1, 1, 0);
	m.b[11] = 2;
	u16(&m, 0xc00c);
	u16(&m, 99);
	u16(&m, 1);
	u16(&m, 0);
	u16(&m, 0);
	u16(&m, 2);
	u16(&m, 0xabcd);
	opt(&m, 1232, 0, 1);
	emit("additional-other-then-opt", &m);

	/* malformed */
	for (size_t n = 0; n < 12; n += 3) {
		query(&m, 0x0100, "web", 1, 1, 0);
		m.n = n;
		char f[32];
		snprintf(f, sizeof(f), "short-header-%zu", n);
		emit(f, &m);
	}
	query(&m, 0x0100, "web", 1, 1, 0);
	m.b[5] = 0;
	emit("qdcount0", &m);
	m.b[5] = 2;
	emit("qdcount2", &m);
	query(&m, 0x0100, "web", 1, 1, 0);
	m.b[7] = 1;
	emit("ancount1", &m);
	query(&m, 0x0100, "web", 1, 1, 0);
	m.b[10] = 0xff;
	m.b[11] = 0xff;
	emit("arcount-huge", &m);
	query(&m, 0x0100, "web", 1, 1, 0);
	m.n -= 3;
	emit("question-cut", &m);
	hdr(&m, 0x0100, 1, 0, 0, 0);
	u16(&m, 0xc00c);
	u16(&m, 1);
	u16(&m, 1);
	emit("pointer-self", &m);
	hdr(&m, 0x0100, 1, 0, 0, 0);
	u16(&m, 0xc012);
	u16(&m, 1);
	u16(&m, 1);
	u8(&m, 0);
	emit("pointer-forward", &m);
	hdr(&m, 0x0100, 1, 0, 0, 0);
	u8(&m, 1);
	u8(&m, 'a');
	u16(&m, 0xc00c);
	u16(&m, 1);
	u16(&m, 1);
	emit("pointer-loop", &m);
	hdr(&m, 0x0100, 1, 0, 0, 0);
	u16(&m, 0xc004);
	u16(&m, 1);
	u16(&m, 1);
	emit("pointer-into-header", &m);
	hdr(&m, 0x0100, 1, 0, 0, 0);
	u8(&m, 0x41);
	u8(&m, 'a');
	u8(&m, 0);
	u16(&m, 1);
	u16(&m, 1);
	emit("label-type-40", &m);
	m.b[12] = 0x81;
	emit("label-type-80", &m);
	hdr(&m, 0x0100, 1, 0, 0, 0);
	for (int l = 0; l < 5; l++) {
		u8(&m, 63);
		for (int k = 0; k < 63; k++)
			u8(&m, 'x');
	}
	u8(&m, 0);
	u16(&m, 1);
	u16(&m, 1);
	emit("name-over-255", &m);
	hdr(&m, 0x0100, 1, 0, 0, 0);
	for (int l = 0; l < 4; l++) {
		u8(&m, l < 3 ? 63 : 61);
		for (int k = 0; k < (l < 3 ? 63 : 61); k++)
			u8(&m, 'y');
	}
	u8(&m, 0);
	u16(&m, 1);
	u16(&m, 1);
	emit("name-255", &m);
	return 0;
}
