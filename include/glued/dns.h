/* DNS wire-format constants that the BPF fast path (bpf/glued_dns.bpf.c)
 * and userspace (userspace/core/dns_wire.h and everything above it) both
 * use: the header, its flag bits, the record types and class glued knows,
 * the UDP size limits and the fixed part of a resource record. One
 * definition, included by both; only numbers fixed by the RFCs or by
 * glued's own reply policy, no code. Nothing here is a map layout (those
 * are in abi.h and versioned); changing a value here changes what both
 * sides put on the wire, so tests/bpf's differential test must still pass.
 */
#ifndef GLUED_DNS_H
#define GLUED_DNS_H

#define DNS_HDR_LEN 12	 /* ID, flags, QD/AN/NS/ARCOUNT */
#define DNS_LABEL_MAX 63 /* a label's length byte: 0..63; 0xc0 marks a pointer */
#define DNS_RR_MIN 11	 /* root owner + TYPE, CLASS, TTL, RDLENGTH: an empty OPT */
#define DNS_UDP_MIN 512	 /* without EDNS */
#define DNS_UDP_MAX 1232 /* the most glued sends over UDP (DNS flag day 2020); its OPT says so */

/* Header flag bits (host order of the 16-bit flags word). */
#define DNS_QR 0x8000
#define DNS_OPCODE_MASK 0x7800
#define DNS_OPCODE_SHIFT 11
#define DNS_AA 0x0400
#define DNS_TC 0x0200
#define DNS_RD 0x0100
#define DNS_RA 0x0080
#define DNS_Z 0x0040
#define DNS_AD 0x0020
#define DNS_CD 0x0010
#define DNS_RCODE_MASK 0x000f

enum dns_type {
	DNS_TYPE_A = 1,
	DNS_TYPE_NS = 2,
	DNS_TYPE_CNAME = 5,
	DNS_TYPE_SOA = 6,
	DNS_TYPE_PTR = 12,
	DNS_TYPE_MX = 15,
	DNS_TYPE_TXT = 16,
	DNS_TYPE_AAAA = 28,
	DNS_TYPE_SRV = 33,
	DNS_TYPE_OPT = 41,
	DNS_TYPE_ANY = 255,
};

#define DNS_CLASS_IN 1

/* The flag bits are disjoint, and a label length fits below the pointer
 * marker: the program tests them with one mask each. */
_Static_assert((DNS_QR & DNS_OPCODE_MASK) == 0 && (DNS_RD & DNS_CD) == 0, "DNS flag bits overlap");
_Static_assert(DNS_LABEL_MAX < 0xc0 && (DNS_LABEL_MAX & (DNS_LABEL_MAX + 1)) == 0,
	       "DNS_LABEL_MAX is a mask below the pointer marker");
_Static_assert(DNS_UDP_MIN <= DNS_UDP_MAX, "DNS UDP limits");

#endif
