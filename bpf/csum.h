/* Internet checksum helpers for the BPF programs: ones' complement sums over
 * packet bytes with loops the verifier can bound. BPF-only; included by
 * the .bpf.c files after <linux/bpf.h> and <bpf/bpf_endian.h>. Sums are kept as
 * 64-bit accumulators of native-order loads and folded once; that is the
 * same ones' complement sum as 16-bit network-order words, in host order,
 * which is what the checksum fields want when stored natively.
 */
#ifndef GLUED_BPF_CSUM_H
#define GLUED_BPF_CSUM_H

#define CSUM_BAD (~0ULL) /* a sum that ran past data_end (only the verifier's worry) */

static __always_inline __u16 csum_fold(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

/* Sum of len bytes of a map value (scratch) starting at m, len <= max_len
 * (a constant: it bounds the loop). A trailing odd byte is the high half of
 * a network-order word. Branch-free, so the verifier walks it once. */
static __always_inline __u64 csum_bytes(const __u8 *m, __u32 len, const __u32 max_len)
{
	__u64 s = 0;

	if (len > max_len)
		return CSUM_BAD;
	for (__u32 i = 0; i < max_len / 4; i++) {
		__u32 w = *(const __u32 *)(m + i * 4);
		__u32 in = (i * 4 + 3 - len) >> 31; /* 1 if the word is inside */

		/* verifier: a branch here would split len's range per word */
		s += w & -in;
	}
	if (len & 2)
		s += *(const __u16 *)(m + (len & ~3u));
	if (len & 1)
		s += bpf_htons((__u16)m[len & ~1u] << 8);
	return s;
}

/* Sum of a 20-byte IPv4 header (checked by the caller). */
static __always_inline __u64 csum_ip4_sum(const __u32 *h)
{
	return (__u64)h[0] + h[1] + h[2] + h[3] + h[4];
}

/* UDP pseudo-header sums (addresses and length in network order). */
static __always_inline __u64 csum_pseudo4(__be32 saddr, __be32 daddr, __u32 udp_len)
{
	return (__u64)saddr + daddr + bpf_htons(IPPROTO_UDP) + bpf_htons((__u16)udp_len);
}

static __always_inline __u64 csum_pseudo6(const __u32 *saddr, const __u32 *daddr, __u32 udp_len)
{
	__u64 s = bpf_htons(IPPROTO_UDP) + bpf_htons((__u16)udp_len);

	for (int i = 0; i < 4; i++)
		s += (__u64)saddr[i] + daddr[i];
	return s;
}

/* The UDP checksum field from a full sum: complemented, and 0 sent as
 * 0xffff (0 means "no checksum" over IPv4 and is invalid over IPv6). */
static __always_inline __u16 csum_udp_field(__u64 s)
{
	__u16 c = (__u16)~csum_fold(s);

	return c ? c : 0xffff;
}

#endif
