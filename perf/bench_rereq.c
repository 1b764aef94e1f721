/* SPDX-License-Identifier: MIT */
/* bench_rereq.c: time to recover a 10 000-message MoldUDP64 gap from a re-request server over loopback UDP. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fh_mold.h"
#include "fh_rereq.h"
#include "fh_rereq_srv.h"
#include "fh_sim.h"
#include "fh_time.h"

/*
 * RESULT gap_recovery_ms: from the gap being reported to fh_rereq until its
 * last missing message arrived: fh_rereq (1000 messages per request, 4 in
 * flight) on this thread, fh_rereq_srv answering from a simulated session
 * on a second thread, both on 127.0.0.1. This is the request/answer path
 * only (no book rebuild, no network latency to an exchange).
 * Usage: bench_rereq [runs] [gap_messages]
 */

static const char g_sess[10] = { 'B', 'E', 'N', 'C', 'H', '0', '0', '0', '0', '1' };
static volatile int g_stop;

static void *server(void *arg)
{
	struct fh_rereq_srv *srv = arg;
	while (!__atomic_load_n(&g_stop, __ATOMIC_ACQUIRE))
		if (!fh_rereq_srv_poll(srv))
			usleep(20);
	return NULL;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 30;
	uint64_t gap = argc > 2 ? strtoull(argv[2], NULL, 10) : 10000;
	struct fh_sim_cfg sc = fh_sim_cfg_default();
	char err[256];

	if (runs < 1 || gap < 1 || gap > 90000)
		return 2;
	sc.seed = 4;
	sc.messages = 100000;
	sc.symbols = 500;
	struct fh_sim_store *store = fh_sim_store_create(&sc, 1);
	struct fh_rereq_srv_cfg scfg = { .store = store };
	memcpy(scfg.session, g_sess, 10);
	struct fh_rereq_srv *srv = store ? fh_rereq_srv_create(&scfg, err, sizeof(err)) : NULL;
	if (!srv) {
		fprintf(stderr, "bench_rereq: %s\n", store ? err : "no store");
		return 1;
	}
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in to = me;
	int rb = 8 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb));
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) != 0)
		return 1;
	to.sin_port = htons(fh_rereq_srv_port(srv));
	pthread_t t;
	pthread_create(&t, NULL, server, srv);

	double *ms = calloc((size_t)runs, sizeof(*ms));
	uint64_t resends = 0, dup = 0;
	uint8_t out[FH_REREQ_REQ_LEN], in[2048];
	for (int k = 0; k < runs; k++) {
		struct fh_rereq_cfg c = { .max_count = 1000, .max_outstanding = 4, .timeout_ns = 50000000 };
		struct fh_rereq q;
		fh_rereq_init(&q, &c, g_sess);
		uint64_t first = 1 + (uint64_t)k * 997 % (100000 - gap); /* inside the session */
		uint64_t t0 = fh_clock_ns(CLOCK_MONOTONIC), got = 0;
		fh_rereq_gap(&q, first, first + gap - 1);
		while (q.n) {
			while (fh_rereq_poll(&q, fh_clock_ns(CLOCK_MONOTONIC), out))
				sendto(fd, out, sizeof(out), 0, (struct sockaddr *)&to, sizeof(to));
			ssize_t r;
			while ((r = recv(fd, in, sizeof(in), 0)) > 0) {
				struct fh_mold_hdr h;
				if (fh_mold_parse_hdr(in, (size_t)r, &h) == 0 && h.count) {
					fh_rereq_filled(&q, h.seq, h.seq + h.count - 1);
					got += h.count;
				}
			}
		}
		ms[k] = (double)(fh_clock_ns(CLOCK_MONOTONIC) - t0) / 1e6;
		resends += q.st.resends;
		dup += got - q.st.filled_msgs;
		if (q.st.failed_ranges) {
			fprintf(stderr, "bench_rereq: run %d gave up %" PRIu64 " ranges\n", k, q.st.failed_ranges);
			return 1;
		}
	}
	__atomic_store_n(&g_stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	qsort(ms, (size_t)runs, sizeof(*ms), cmp_d);
	printf("bench_rereq: %d runs, %" PRIu64 "-message gap, 1000 per request, 4 in flight, loopback; %" PRIu64
	       " resends, %" PRIu64 " messages received twice\n", runs, gap, resends, dup);
	printf("RESULT gap_recovery_ms p50 %.2f p99 %.2f max %.2f min %.2f\n", ms[runs / 2],
	       ms[(runs - 1) * 99 / 100], ms[runs - 1], ms[0]);
	free(ms);
	close(fd);
	fh_rereq_srv_destroy(srv);
	fh_sim_store_destroy(store);
	return 0;
}
