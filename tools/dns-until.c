/* dns-until: ask one or more DNS servers for NAME (type A) every few
 * milliseconds until each has answered with RCODE once, and print, per
 * server, the wall-clock time (CLOCK_REALTIME, microseconds since the
 * epoch) of that first answer.
 *
 *   dns-until [-i INTERVAL_MS] [-t TIMEOUT_MS] NAME NOERROR|NXDOMAIN IP...
 *
 * One process polls for the whole measurement, so the resolution is the
 * interval (default 2 ms) and not the start-up time of a dig per poll. It
 * is started before the event it measures; the caller subtracts its own
 * time zero (an answer before it is reported as it is). Output: one line
 * "IP MICROS" per server, in the order given. Exit 0 when every server
 * answered, 1 on timeout (the servers that did are still printed, the
 * others as "IP -"), 2 on bad usage. Queries go to port 53 (DNS_UNTIL_PORT
 * overrides), each with a fresh ID; replies that do not match the last
 * query's ID are ignored. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SERVERS_MAX 8

struct server {
	const char *ip;
	int fd;
	uint16_t id;
	int64_t got_us; /* 0: not yet */
};

static int64_t now_us(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* An A/IN query for name (dotted, no trailing dot needed) into buf. */
static int build_query(uint8_t *buf, size_t cap, uint16_t id, const char *name)
{
	size_t n = 12;
	const char *p = name;

	if (cap < 12 + strlen(name) + 2 + 4)
		return -1;
	memset(buf, 0, 12);
	buf[0] = (uint8_t)(id >> 8);
	buf[1] = (uint8_t)id;
	buf[2] = 0x01; /* RD */
	buf[5] = 1;    /* QDCOUNT */
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);

		if (len == 0 || len > 63)
			return -1;
		buf[n++] = (uint8_t)len;
		memcpy(buf + n, p, len);
		n += len;
		p += len + (dot ? 1 : 0);
	}
	buf[n++] = 0;
	buf[n++] = 0, buf[n++] = 1; /* A */
	buf[n++] = 0, buf[n++] = 1; /* IN */
	return (int)n;
}

static void usage(void)
{
	fprintf(stderr, "usage: dns-until [-i INTERVAL_MS] [-t TIMEOUT_MS] NAME "
			"NOERROR|NXDOMAIN IP...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct server sv[SERVERS_MAX];
	long interval_ms = 2, timeout_ms = 10000;
	const char *name, *port_env = getenv("DNS_UNTIL_PORT");
	int want, opt, n, left;
	uint16_t port = port_env ? (uint16_t)atoi(port_env) : 53, next_id;
	int64_t start, next_send;

	while ((opt = getopt(argc, argv, "i:t:")) != -1) {
		if (opt == 'i')
			interval_ms = atol(optarg);
		else if (opt == 't')
			timeout_ms = atol(optarg);
		else
			usage();
	}
	if (argc - optind < 3 || argc - optind - 2 > SERVERS_MAX || interval_ms < 1 ||
	    timeout_ms < 1)
		usage();
	name = argv[optind];
	if (!strcmp(argv[optind + 1], "NOERROR"))
		want = 0;
	else if (!strcmp(argv[optind + 1], "NXDOMAIN"))
		want = 3;
	else
		usage();
	n = argc - optind - 2;
	next_id = (uint16_t)(getpid() * 2654435761u >> 16);
	for (int i = 0; i < n; i++) {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

		sv[i] = (struct server){.ip = argv[optind + 2 + i]};
		if (inet_pton(AF_INET, sv[i].ip, &a.sin_addr) != 1) {
			fprintf(stderr, "dns-until: %s: not an IPv4 address\n", sv[i].ip);
			return 2;
		}
		sv[i].fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if (sv[i].fd < 0 || connect(sv[i].fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
			fprintf(stderr, "dns-until: %s: %s\n", sv[i].ip, strerror(errno));
			return 2;
		}
	}
	start = now_us(CLOCK_MONOTONIC);
	next_send = start;
	left = n;
	while (left) {
		struct pollfd pf[SERVERS_MAX];
		int64_t t = now_us(CLOCK_MONOTONIC);
		int np = 0;

		if (t - start >= timeout_ms * 1000)
			break;
		if (t >= next_send) {
			for (int i = 0; i < n; i++) {
				uint8_t q[300];
				int len;

				if (sv[i].got_us)
					continue;
				sv[i].id = next_id++;
				len = build_query(q, sizeof(q), sv[i].id, name);
				if (len < 0) {
					fprintf(stderr, "dns-until: %s: not a valid name\n", name);
					return 2;
				}
				(void)send(sv[i].fd, q, (size_t)len, 0); /* ECONNREFUSED: try again */
			}
			next_send = t + interval_ms * 1000;
		}
		for (int i = 0; i < n; i++)
			if (!sv[i].got_us)
				pf[np++] = (struct pollfd){.fd = sv[i].fd, .events = POLLIN};
		(void)poll(pf, (nfds_t)np, (int)((next_send - t + 999) / 1000));
		for (int i = 0; i < n; i++) {
			uint8_t r[512];
			ssize_t got;

			while (!sv[i].got_us && (got = recv(sv[i].fd, r, sizeof(r), 0)) >= 0) {
				if (got < 12 || !(r[2] & 0x80) || (r[0] << 8 | r[1]) != sv[i].id)
					continue;
				if ((r[3] & 0x0f) == want) {
					sv[i].got_us = now_us(CLOCK_REALTIME);
					left--;
				}
			}
		}
	}
	for (int i = 0; i < n; i++) {
		if (sv[i].got_us)
			printf("%s %lld\n", sv[i].ip, (long long)sv[i].got_us);
		else
			printf("%s -\n", sv[i].ip);
	}
	return left ? 1 : 0;
}
