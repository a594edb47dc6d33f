/* Test frames for the BPF programs: DNS queries described field by field,
 * wrapped in Ethernet (optionally one 802.1Q tag) / IPv4 or IPv6 / UDP, and
 * the checksum arithmetic the tests use to verify replies. Test-only; the
 * server is 02:00:00:00:00:01, 10.0.0.1, fd00::1, port 53; the client
 * 02:00:00:00:00:02, 10.0.0.99, fd00::99, port 40000. A container frame
 * (fspec.ctr) is a query on a container's lo after Docker's DNAT: zero
 * MACs, 127.0.0.1:40000 -> 127.0.0.11:CTR_PORT (IPv6: ::1 -> ::1).
 */
#ifndef GLUED_TESTS_BPF_PKT_H
#define GLUED_TESTS_BPF_PKT_H

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A query, field by field; zero fields take the defaults noted. */
struct qspec {
	const char *name;		     /* dotted, case kept; "" = root; NULL = "web" */
	uint16_t qtype, qclass;		     /* 0: A, IN */
	uint16_t flags;			     /* header flags word; 0: RD */
	int no_rd;			     /* flags 0 */
	uint16_t qd_extra, an, ns, ar_extra; /* added to QDCOUNT 1 / counts */
	uint8_t ar_hi;			     /* ARCOUNT's high byte (the others' are 0) */
	int opt;			     /* append an OPT record */
	uint16_t opt_size;		     /* 0: 1232 */
	int opt_do;
	uint8_t opt_version;
	int opt_cookie;	   /* an 8-byte client cookie option */
	int opt_bad_rdlen; /* RDLENGTH one more than the options */
	int opt_owner;	   /* owner "a" instead of the root */
	int compress;	   /* the question name is a pointer (c0 0c) */
	int label_nul;	   /* a NUL byte inside the label */
	size_t trailing;   /* junk bytes after the last record */
	size_t cut;	   /* bytes cut off the end of the message */
	uint16_t id;	   /* 0: 0x1234 */
};

static inline size_t q_build(uint8_t *m, const struct qspec *s)
{
	const char *name = s->name ? s->name : "web";
	uint16_t flags = s->no_rd ? s->flags : (s->flags ? s->flags : 0x0100);
	size_t o = 12;

	m[0] = (s->id ? s->id : 0x1234) >> 8;
	m[1] = (s->id ? s->id : 0x1234) & 0xff;
	m[2] = flags >> 8;
	m[3] = flags & 0xff;
	m[4] = 0, m[5] = (uint8_t)(1 + s->qd_extra);
	m[6] = 0, m[7] = (uint8_t)s->an;
	m[8] = 0, m[9] = (uint8_t)s->ns;
	m[10] = s->ar_hi, m[11] = (uint8_t)((s->opt ? 1 : 0) + s->ar_extra);
	if (s->compress) {
		m[o++] = 0xc0;
		m[o++] = 0x0c;
	} else {
		while (*name) {
			const char *dot = strchr(name, '.');
			size_t n = dot ? (size_t)(dot - name) : strlen(name);

			m[o++] = (uint8_t)n;
			memcpy(m + o, name, n);
			if (s->label_nul && n > 1)
				m[o + 1] = 0;
			o += n;
			name += n + (dot ? 1 : 0);
		}
		m[o++] = 0;
	}
	m[o++] = 0, m[o++] = (uint8_t)(s->qtype ? s->qtype : 1);
	if (s->qtype > 255)
		m[o - 2] = s->qtype >> 8, m[o - 1] = s->qtype & 0xff;
	m[o++] = (s->qclass ? s->qclass : 1) >> 8, m[o++] = (s->qclass ? s->qclass : 1) & 0xff;
	if (s->opt) {
		uint16_t size = s->opt_size ? s->opt_size : 1232;
		uint16_t rdlen = (s->opt_cookie ? 12 : 0) + (s->opt_bad_rdlen ? 1 : 0);

		if (s->opt_owner)
			m[o++] = 1, m[o++] = 'a';
		m[o++] = 0;
		m[o++] = 0, m[o++] = 41;
		m[o++] = size >> 8, m[o++] = size & 0xff;
		m[o++] = 0, m[o++] = s->opt_version, m[o++] = s->opt_do ? 0x80 : 0, m[o++] = 0;
		m[o++] = rdlen >> 8, m[o++] = rdlen & 0xff;
		if (s->opt_cookie) {
			static const uint8_t c[12] = {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};

			memcpy(m + o, c, sizeof(c));
			o += sizeof(c);
		}
		if (s->opt_bad_rdlen)
			m[o++] = 0;
	}
	for (size_t i = 0; i < s->trailing; i++)
		m[o++] = (uint8_t)(0xa5 ^ i);
	return o - s->cut;
}

/* The frame around a DNS message. */
struct fspec {
	int v6;
	int vlan;
	int ip_options;	    /* IPv4 IHL 6 (a NOP option word) */
	uint8_t ip_version; /* 0: 4 or 6 as the transport says; else this in the IPv4 header */
	int frag;	    /* IPv4 MF, 2: IPv4 offset, IPv6: fragment header */
	int tcp;	    /* protocol TCP, port 53 */
	int wrong_dst;
	uint16_t dport; /* 0: 53 */
	int zero_csum;	/* UDP checksum 0 */
	int bad_ipcsum;
	size_t cut;	     /* bytes cut off the frame after all lengths are set */
	size_t runt;	     /* > 0: the frame is only its first `runt` bytes */
	int ctr;	     /* a container's lo after Docker's DNAT (see above) */
	const uint8_t *dst4; /* non-NULL: this IPv4 destination instead */
};

#define CTR_PORT 43517 /* a port Docker's resolver might have drawn */

static inline uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static inline uint16_t fold16(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Sum of the UDP pseudo header + segment; 0xffff when the checksum holds. */
static inline uint16_t udp_sum(const uint8_t *ip, int v6, const uint8_t *udp, size_t ulen)
{
	uint32_t s = sum16(udp, ulen, 0) + 17 + (uint32_t)ulen;

	s = v6 ? sum16(ip + 8, 32, s) : sum16(ip + 12, 8, s);
	return fold16(s);
}

static const uint8_t srv_mac[6] = {2, 0, 0, 0, 0, 1}, cli_mac[6] = {2, 0, 0, 0, 0, 2};
static const uint8_t srv_v4[4] = {10, 0, 0, 1}, cli_v4[4] = {10, 0, 0, 99},
		     other_v4[4] = {10, 0, 0, 7};
static const uint8_t srv_v6[16] = {0xfd, [15] = 1}, cli_v6[16] = {0xfd, [15] = 0x99},
		     other_v6[16] = {0xfd, [15] = 7};
static const uint8_t ctr_resolver_v4[4] = {127, 0, 0, 11}, ctr_cli_v4[4] = {127, 0, 0, 1};
static const uint8_t lo_v6[16] = {[15] = 1};

static inline size_t frame_build(uint8_t *f, const struct fspec *s, const uint8_t *dns, size_t dlen)
{
	size_t o = 0, ip, udp, ulen = 8 + dlen, iphl;

	const uint8_t *src4 = s->ctr ? ctr_cli_v4 : cli_v4;
	const uint8_t *dst4 = s->dst4	     ? s->dst4
			      : s->wrong_dst ? other_v4
			      : s->ctr	     ? ctr_resolver_v4
					     : srv_v4;
	const uint8_t *src6 = s->ctr ? lo_v6 : cli_v6;
	const uint8_t *dst6 = s->wrong_dst ? other_v6 : s->ctr ? lo_v6 : srv_v6;
	uint16_t dport = s->dport ? s->dport : s->ctr ? CTR_PORT : 53;

	memcpy(f, srv_mac, 6);
	memcpy(f + 6, cli_mac, 6);
	if (s->ctr)
		memset(f, 0, 12); /* lo */
	o = 12;
	if (s->vlan) {
		f[o++] = 0x81, f[o++] = 0x00, f[o++] = 0x00, f[o++] = 0x2a; /* VLAN 42 */
	}
	f[o++] = s->v6 ? 0x86 : 0x08;
	f[o++] = s->v6 ? 0xdd : 0x00;
	ip = o;
	if (!s->v6) {
		iphl = s->ip_options ? 24 : 20;
		memset(f + ip, 0, iphl);
		f[ip] = (uint8_t)((s->ip_version ? s->ip_version : 4) << 4) | (uint8_t)(iphl / 4);
		f[ip + 2] = (uint8_t)((iphl + ulen) >> 8), f[ip + 3] = (uint8_t)(iphl + ulen);
		f[ip + 4] = 0xbe, f[ip + 5] = 0xef;
		if (s->frag == 1)
			f[ip + 6] = 0x20; /* MF */
		else if (s->frag == 2)
			f[ip + 7] = 0x10; /* offset 16 * 8 */
		else
			f[ip + 6] = 0x40; /* DF */
		f[ip + 8] = 64;
		f[ip + 9] = s->tcp ? 6 : 17;
		memcpy(f + ip + 12, src4, 4);
		memcpy(f + ip + 16, dst4, 4);
		if (s->ip_options)
			memset(f + ip + 20, 1, 4); /* NOPs */
		{
			uint16_t c = (uint16_t)~fold16(sum16(f + ip, iphl, 0));

			if (s->bad_ipcsum)
				c ^= 0x0101;
			f[ip + 10] = c >> 8, f[ip + 11] = c & 0xff;
		}
		udp = ip + iphl;
	} else {
		size_t ext = s->frag ? 8 : 0;

		memset(f + ip, 0, 40);
		f[ip] = 0x60;
		f[ip + 4] = (uint8_t)((ulen + ext) >> 8), f[ip + 5] = (uint8_t)(ulen + ext);
		f[ip + 6] = s->frag ? 44 : s->tcp ? 6 : 17;
		f[ip + 7] = 64;
		memcpy(f + ip + 8, src6, 16);
		memcpy(f + ip + 24, dst6, 16);
		if (ext) {
			memset(f + ip + 40, 0, 8);
			f[ip + 40] = 17;
			f[ip + 43] = 1; /* M */
		}
		udp = ip + 40 + ext;
	}
	f[udp] = 40000 >> 8, f[udp + 1] = 40000 & 0xff;
	f[udp + 2] = dport >> 8, f[udp + 3] = dport & 0xff;
	f[udp + 4] = (uint8_t)(ulen >> 8), f[udp + 5] = (uint8_t)ulen;
	f[udp + 6] = 0, f[udp + 7] = 0;
	memcpy(f + udp + 8, dns, dlen);
	if (!s->zero_csum) {
		uint16_t c = (uint16_t)~udp_sum(f + ip, s->v6, f + udp, ulen);

		c = c ? c : 0xffff;
		f[udp + 6] = c >> 8, f[udp + 7] = c & 0xff;
	}
	o = udp + ulen - s->cut;
	return s->runt ? s->runt : o;
}

#endif
