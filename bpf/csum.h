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

/* Any 64-bit accumulator to 16 bits. Every step keeps the value modulo
 * 0xffff (0xffff divides 2^32 - 1); the bounds: < 2^33, < 2^17 + 2^16,
 * <= 0x10001, <= 0xffff. A serial chain: fold once, at the end. */
static __always_inline __u16 csum_fold(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

/* The sum of bytes that sit at an odd offset, from their sum read as if
 * at an even one: byte-swapping a 16-bit ones' complement sum is
 * multiplying it by 256 modulo 0xffff (2^16 = 1), and an unfolded
 * accumulator is that sum modulo 0xffff too; so a shift, no fold
 * (s < 2^56). */
static __always_inline __u64 csum_odd(__u64 s)
{
	return s << 8;
}

/* Sum of the first len bytes (len <= 512) of a map value buffer of
 * CSUM_BUF_SPAN + CSUM_BUF_PAD bytes (the scratch), as the UDP checksum
 * counts them. One bpf_csum_diff() call (csum_partial in the kernel)
 * instead of a loop: no per-word instructions and nothing for the verifier
 * to walk. It wants a multiple of 4, so up to three zero bytes are written
 * after the data (zeros do not change the sum). */
#define CSUM_BUF_SPAN 1024 /* a power of two >= 512: the verifier's bound */
#define CSUM_BUF_PAD 4	   /* the zeros after the last byte */
static __always_inline __u64 csum_buf(__u8 *m, __u32 len)
{
	__s64 s;

	if (len > 512)
		return CSUM_BAD;
	/* verifier: bound the register every access below uses (the 6.1
	 * verifier saw the test above on one copy of len and the accesses
	 * through another: "unbounded memory access"). The identity for
	 * len <= 512; barrier_var() keeps clang from dropping it. */
	barrier_var(len);
	len &= CSUM_BUF_SPAN - 1;
	m[len] = 0;
	m[len + 1] = 0;
	m[len + 2] = 0;
	s = bpf_csum_diff(NULL, 0, (__be32 *)m, (len + 3) & ~3u, 0);
	if (s < 0)
		return CSUM_BAD;
	return (__u32)s;
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
