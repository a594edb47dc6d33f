/* dnsgun: the project's own open-loop DNS load generator for the XDP
 * benchmark (tools/bench-xdp.sh), in place of kxdpgun, whose XDP program
 * some kernel builds refuse.
 *
 * It sends prebuilt Ethernet frames (IPv4, UDP, one DNS query each) from an
 * AF_PACKET socket with PACKET_QDISC_BYPASS in sendmmsg batches, at a
 * target rate or as fast as it can, and counts the replies with an XDP
 * program on the same interface (bpf/dnsgun_sink.bpf.c) that drops them:
 * what it reports as replies/s is answers that came back, not queries sent.
 * Frames rotate over the names given and over 4096 source ports and IDs.
 *
 *	dnsgun -i IFACE -s SRC_IP -d DST_IP -m DST_MAC [-p 53] [-f NAMES] [-t 4]
 *	       [-Q QPS] [-e] [-S]
 *
 * NAMES holds one query a line, "name [A|AAAA]" (dnsperf's format); without
 * it every query asks "dnsgun A". -e adds an EDNS OPT (1232); -Q 0 (the
 * default) sends as fast as it can; -S attaches the sink in generic (skb)
 * mode instead of native. The last line is machine-readable:
 *	dnsgun: sent=N replies=N seconds=S sent_per_s=N replies_per_s=N send_errors=N sink=native
 * Root (AF_PACKET, XDP). Sends only on the interface given: the benchmark
 * gives it one end of a veth pair inside its own namespaces.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dnsgun_sink.skel.h"

#define FRAMES 4096
#define FRAME_MAX 320
#define BATCH 64
#define NAMES_MAX 65536

struct frame {
	uint8_t b[FRAME_MAX];
	uint16_t len;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint16_t csum16(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		s += (uint32_t)b[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* "web" -> 3web0; 0 if the name does not fit or a label is empty/too long. */
static size_t put_qname(uint8_t *out, size_t cap, const char *name)
{
	size_t n = 0;

	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		if (l == 0 || l > 63 || n + 1 + l + 1 > cap)
			return 0;
		out[n++] = (uint8_t)l;
		memcpy(out + n, name, l);
		n += l;
		name += l + (dot ? 1 : 0);
		if (dot && !*name)
			break; /* trailing dot */
	}
	if (n + 1 > cap)
		return 0;
	out[n++] = 0;
	return n;
}

static int build_frame(struct frame *f, const uint8_t smac[6], const uint8_t dmac[6],
		       struct in_addr src, struct in_addr dst, uint16_t sport, uint16_t dport,
		       uint16_t id, const char *name, uint16_t qtype, int edns)
{
	uint8_t *p = f->b, *ip = p + 14, *udp = ip + 20, *dns = udp + 8;
	size_t qn, dlen, n;

	memcpy(p, dmac, 6);
	memcpy(p + 6, smac, 6);
	p[12] = 0x08, p[13] = 0x00;
	dns[0] = (uint8_t)(id >> 8), dns[1] = (uint8_t)id;
	dns[2] = 0x01, dns[3] = 0x00; /* RD */
	dns[4] = 0, dns[5] = 1;	      /* QDCOUNT */
	memset(dns + 6, 0, 6);
	dns[11] = edns ? 1 : 0; /* ARCOUNT */
	qn = put_qname(dns + 12, FRAME_MAX - 14 - 20 - 8 - 12 - 4 - 11, name);
	if (!qn)
		return -1;
	n = 12 + qn;
	dns[n++] = (uint8_t)(qtype >> 8), dns[n++] = (uint8_t)qtype;
	dns[n++] = 0, dns[n++] = 1; /* IN */
	if (edns) {
		static const uint8_t opt[11] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};

		memcpy(dns + n, opt, sizeof(opt));
		n += sizeof(opt);
	}
	dlen = n;
	udp[0] = (uint8_t)(sport >> 8), udp[1] = (uint8_t)sport;
	udp[2] = (uint8_t)(dport >> 8), udp[3] = (uint8_t)dport;
	udp[4] = (uint8_t)((8 + dlen) >> 8), udp[5] = (uint8_t)(8 + dlen);
	udp[6] = udp[7] = 0; /* no UDP checksum: allowed over IPv4 */
	ip[0] = 0x45, ip[1] = 0;
	ip[2] = (uint8_t)((20 + 8 + dlen) >> 8), ip[3] = (uint8_t)(20 + 8 + dlen);
	ip[4] = ip[5] = 0, ip[6] = 0x40, ip[7] = 0; /* DF */
	ip[8] = 64, ip[9] = 17, ip[10] = ip[11] = 0;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	{
		uint16_t c = csum16(ip, 20);

		ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	}
	f->len = (uint16_t)(14 + 20 + 8 + dlen);
	return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -1;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

struct query {
	char name[256];
	uint16_t qtype;
};

static size_t read_names(const char *path, struct query *q, size_t max)
{
	FILE *f = fopen(path, "re");
	char line[512], type[16];
	size_t n = 0;

	if (!f) {
		fprintf(stderr, "dnsgun: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while (n < max && fgets(line, sizeof(line), f)) {
		int k;

		type[0] = '\0';
		k = sscanf(line, "%255s %15s", q[n].name, type);
		if (k < 1 || q[n].name[0] == '#')
			continue;
		q[n].qtype = strcmp(type, "AAAA") == 0 ? 28 : 1;
		n++;
	}
	fclose(f);
	return n;
}

static uint64_t sink_read(struct dnsgun_sink *sk, uint32_t key)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *v, sum = 0;

	if (ncpu <= 0)
		return 0;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (v && bpf_map_lookup_elem(bpf_map__fd(sk->maps.dnsgun_counts), &key, v) == 0)
		for (int i = 0; i < ncpu; i++)
			sum += v[i];
	free(v);
	return sum;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: dnsgun -i IFACE -s SRC_IP -d DST_IP -m DST_MAC [-p PORT] [-f NAMES]\n"
		"              [-t SECONDS] [-Q QPS] [-e] [-S]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *ifname = NULL, *names_path = NULL;
	struct in_addr src = {0}, dst = {0};
	uint8_t smac[6], dmac[6];
	int have_dmac = 0, edns = 0, generic = 0, c, fd, ifindex, ret = 1;
	unsigned port = 53;
	double secs = 4, qps = 0;
	static struct frame frames[FRAMES];
	static struct query queries[NAMES_MAX];
	size_t nq = 0;
	struct dnsgun_sink *sk = NULL;
	uint32_t xdp_flags;
	uint64_t sent = 0, errors = 0, replies0, replies;
	double t0, t_end, elapsed;

	while ((c = getopt(argc, argv, "i:s:d:m:p:f:t:Q:eS")) != -1) {
		switch (c) {
		case 'i':
			ifname = optarg;
			break;
		case 's':
			if (inet_pton(AF_INET, optarg, &src) != 1)
				usage();
			break;
		case 'd':
			if (inet_pton(AF_INET, optarg, &dst) != 1)
				usage();
			break;
		case 'm':
			if (parse_mac(optarg, dmac))
				usage();
			have_dmac = 1;
			break;
		case 'p':
			port = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'f':
			names_path = optarg;
			break;
		case 't':
			secs = strtod(optarg, NULL);
			break;
		case 'Q':
			qps = strtod(optarg, NULL);
			break;
		case 'e':
			edns = 1;
			break;
		case 'S':
			generic = 1;
			break;
		default:
			usage();
		}
	}
	if (!ifname || !src.s_addr || !dst.s_addr || !have_dmac || port == 0 || port > 65535 ||
	    secs <= 0 || qps < 0)
		usage();
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		fprintf(stderr, "dnsgun: %s: no such interface\n", ifname);
		return 2;
	}
	if (names_path)
		nq = read_names(names_path, queries, NAMES_MAX);
	if (!nq) {
		snprintf(queries[0].name, sizeof(queries[0].name), "dnsgun");
		queries[0].qtype = 1;
		nq = 1;
	}

	fd = socket(AF_PACKET, SOCK_RAW, 0); /* protocol 0: send only, nothing queued to us */
	if (fd < 0) {
		fprintf(stderr, "dnsgun: AF_PACKET socket: %s\n", strerror(errno));
		return 1;
	}
	{
		struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_ifindex = ifindex};
		struct ifreq ifr = {0};
		int one = 1, sndbuf = 4 << 20;

		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
		if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0 ||
		    bind(fd, (struct sockaddr *)&ll, sizeof(ll)) < 0) {
			fprintf(stderr, "dnsgun: %s: %s\n", ifname, strerror(errno));
			goto out;
		}
		memcpy(smac, ifr.ifr_hwaddr.sa_data, 6);
		if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0)
			fprintf(stderr,
				"dnsgun: PACKET_QDISC_BYPASS: %s (sending through the qdisc)\n",
				strerror(errno));
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	}
	for (unsigned i = 0; i < FRAMES; i++) {
		const struct query *q = &queries[i % nq];

		if (build_frame(&frames[i], smac, dmac, src, dst, (uint16_t)(20000 + i),
				(uint16_t)port, (uint16_t)(i * 7919u), q->name, q->qtype, edns)) {
			fprintf(stderr, "dnsgun: name '%s' does not fit a frame\n", q->name);
			goto out;
		}
	}

	sk = dnsgun_sink__open_and_load();
	if (!sk) {
		fprintf(stderr, "dnsgun: load the reply sink: %s\n", strerror(errno));
		goto out;
	}
	xdp_flags = generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	if (bpf_xdp_attach(ifindex, bpf_program__fd(sk->progs.dnsgun_sink), xdp_flags, NULL)) {
		fprintf(stderr, "dnsgun: attach the reply sink to %s (%s mode): %s\n", ifname,
			generic ? "generic" : "native", strerror(errno));
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	replies0 = sink_read(sk, 0);

	{
		struct mmsghdr msgs[BATCH];
		struct iovec iov[BATCH];
		unsigned next = 0;

		memset(msgs, 0, sizeof(msgs));
		t0 = now_s();
		t_end = t0 + secs;
		while (!stop) {
			double t = now_s();
			unsigned want = BATCH;
			int k;

			if (t >= t_end)
				break;
			if (qps > 0) {
				double allowed = qps * (t - t0) - (double)sent;

				if (allowed < 1) {
					/* open loop: wait for the schedule, never for replies */
					struct timespec ts = {0, 20000};

					nanosleep(&ts, NULL);
					continue;
				}
				if (allowed < want)
					want = (unsigned)allowed;
			}
			for (unsigned i = 0; i < want; i++) {
				struct frame *f = &frames[(next + i) % FRAMES];

				iov[i].iov_base = f->b;
				iov[i].iov_len = f->len;
				msgs[i].msg_hdr.msg_iov = &iov[i];
				msgs[i].msg_hdr.msg_iovlen = 1;
			}
			k = sendmmsg(fd, msgs, want, 0);
			if (k < 0) {
				errors++;
				if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
					fprintf(stderr, "dnsgun: sendmmsg: %s\n", strerror(errno));
					break;
				}
				continue;
			}
			sent += (uint64_t)k;
			next = (next + (unsigned)k) % FRAMES;
		}
		elapsed = now_s() - t0;
	}
	usleep(200000); /* replies still in flight */
	replies = sink_read(sk, 0) - replies0;
	bpf_xdp_detach(ifindex, xdp_flags, NULL);
	printf("dnsgun: sent=%llu replies=%llu seconds=%.3f sent_per_s=%.0f replies_per_s=%.0f "
	       "send_errors=%llu sink=%s\n",
	       (unsigned long long)sent, (unsigned long long)replies, elapsed,
	       (double)sent / elapsed, (double)replies / elapsed, (unsigned long long)errors,
	       generic ? "generic" : "native");
	ret = 0;
out:
	dnsgun_sink__destroy(sk);
	close(fd);
	return ret;
}
