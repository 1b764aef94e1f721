/* SPDX-License-Identifier: MIT */
/* test_kudp.c: the kernel-socket backend receives bursts over loopback with timestamps. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fh_kudp.h"
#include "fh_time.h"
#include "fh_test.h"

static int send_to(uint16_t port, const void *b, size_t len)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	ssize_t n = sendto(fd, b, len, 0, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

static uint16_t free_port(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(sa);
	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(fd, (struct sockaddr *)&sa, &l);
	close(fd);
	return ntohs(sa.sin_port);
}

static void test_burst(void)
{
	struct fh_kudp k;
	struct fh_kudp_pkt p[FH_KUDP_BURST];
	char err[256];
	uint16_t port = free_port();
	uint8_t msg[100];

	FH_CHECK_EQ_I(fh_kudp_open(&k, INADDR_LOOPBACK, port, NULL, 0, err, sizeof(err)), 0);
	FH_CHECK_EQ_I(fh_kudp_recv(&k, p, FH_KUDP_BURST), 0); /* nothing waiting */
	uint64_t before = fh_clock_ns(CLOCK_REALTIME);
	for (int i = 0; i < 40; i++) {
		memset(msg, i, sizeof(msg));
		FH_CHECK_EQ_I(send_to(port, msg, (size_t)(20 + i)), 0);
	}
	int got = 0, first = -1;
	for (int tries = 0; got < 40 && tries < 1000; tries++) {
		int n = fh_kudp_recv(&k, p, FH_KUDP_BURST);
		FH_CHECK(n >= 0 && n <= FH_KUDP_BURST);
		for (int i = 0; i < n; i++) {
			/* datagrams arrive whole and in order on loopback */
			FH_CHECK_EQ_U(p[i].len, 20 + got);
			FH_CHECK_EQ_U(p[i].data[0], got);
			FH_CHECK(p[i].recv_ts_ns >= before - 1000000000ull);
			FH_CHECK_EQ_U(p[i].src_addr, INADDR_LOOPBACK);
			if (first < 0)
				first = n;
			got++;
		}
		if (n == 0)
			usleep(1000);
	}
	FH_CHECK_EQ_I(got, 40);
	FH_CHECK(first <= FH_KUDP_BURST);
	fh_kudp_close(&k);
}

static void test_errors(void)
{
	struct fh_kudp k;
	char err[256] = "";
	uint16_t port = free_port();

	FH_CHECK_EQ_I(fh_kudp_open(&k, INADDR_LOOPBACK, port, "nosuchif0", 0, err, sizeof(err)), -ENODEV);
	FH_CHECK(strstr(err, "SO_BINDTODEVICE") != NULL);
	/* binding an address this host does not own */
	FH_CHECK_EQ_I(fh_kudp_open(&k, 0x0a0b0c0d, port, NULL, 0, err, sizeof(err)), -EADDRNOTAVAIL);
	FH_CHECK(strstr(err, "10.11.12.13") != NULL);
}

static const struct fh_test_case cases[] = {
	FH_CASE(test_burst),
	FH_CASE(test_errors),
	{ 0 },
};

int main(int argc, char **argv)
{
	return fh_test_main(argc, argv, cases);
}
