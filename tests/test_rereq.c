/* SPDX-License-Identifier: MIT */
/* test_rereq.c: MoldUDP64 re-request scheduling: request bytes, splitting, bounds, timeouts, back-off, give-up, fills. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fh_common.h"
#include "fh_mold.h"
#include "fh_rereq.h"
#include "fh_rereq_srv.h"
#include "fh_sim.h"
#include "fh_test.h"
#include "fh_time.h"

#define MS 1000000ull

static uint64_t req_seq(const uint8_t *p)
{
	uint64_t v = 0;
	for (int k = 0; k < 8; k++)
		v = v << 8 | p[10 + k];
	return v;
}

static unsigned req_count(const uint8_t *p)
{
	return (unsigned)p[18] << 8 | p[19];
}

static void test_request_bytes(void)
{
	struct fh_rereq q;
	uint8_t out[FH_REREQ_REQ_LEN];

	FH_CHECK_EQ_I(fh_rereq_init(&q, NULL, "SESS01    "), 0);
	FH_CHECK_EQ_I(fh_rereq_gap(&q, 0x0102030405, 0x0102030405 + 9), 0);
	FH_CHECK_EQ_I(fh_rereq_poll(&q, 0, out), 1);
	FH_CHECK(memcmp(out, "SESS01    ", 10) == 0);
	FH_CHECK_EQ_U(req_seq(out), 0x0102030405);
	FH_CHECK_EQ_U(req_count(out), 10);
	FH_CHECK(out[10] == 0 && out[11] == 0 && out[12] == 0 && out[13] == 0x01 && out[17] == 0x05);
	FH_CHECK_EQ_I(fh_rereq_poll(&q, 0, out), 0); /* one range, already in flight */
	FH_CHECK_EQ_U(q.st.requests, 1);
}

/* A long gap is split by max_count; at most max_outstanding requests fly. */
static void test_split_and_bound(void)
{
	struct fh_rereq_cfg c = { .max_count = 1000, .max_outstanding = 2 };
	struct fh_rereq q;
	uint8_t out[FH_REREQ_REQ_LEN];

	FH_CHECK_EQ_I(fh_rereq_init(&q, &c, "S         "), 0);
	FH_CHECK_EQ_I(fh_rereq_gap(&q, 1, 2500), 0);
	FH_CHECK_EQ_U(q.n, 3);
	FH_CHECK_EQ_U(fh_rereq_missing(&q), 2500);
	FH_CHECK_EQ_I(fh_rereq_poll(&q, 0, out), 1);
	FH_CHECK_EQ_U(req_seq(out), 1);
	FH_CHECK_EQ_U(req_count(out), 1000);
	FH_CHECK_EQ_I(fh_rereq_poll(&q, 0, out), 1);
	FH_CHECK_EQ_U(req_seq(out), 1001);
	FH_CHECK_EQ_I(fh_rereq_poll(&q, 0, out), 0); /* bound reached */
	fh_rereq_filled(&q, 1, 1000);                /* the first answered in full */
	FH_CHECK_EQ_I(fh_rereq_poll(&q, 1, out), 1);
	FH_CHECK_EQ_U(req_seq(out), 2001);
	FH_CHECK_EQ_U(req_count(out), 500);
	FH_CHECK_EQ_U(fh_rereq_missing(&q), 1500);
	FH_CHECK_EQ_U(q.st.filled_msgs, 1000);
}

/* No answer: resent at the timeout, the wait doubling to the cap; given up after max_tries. */
static void test_timeout_backoff_give_up(void)
{
	struct fh_rereq_cfg c = { .timeout_ns = 10 * MS, .max_timeout_ns = 30 * MS, .max_tries = 4 };
	struct fh_rereq q;
	uint8_t out[FH_REREQ_REQ_LEN];
	uint64_t a, b;

	FH_CHECK_EQ_I(fh_rereq_init(&q, &c, "S         "), 0);
	FH_CHECK_EQ_I(fh_rereq_gap(&q, 500, 599), 0);
	FH_CHECK_EQ_I(fh_rereq_poll(&q, 0, out), 1);              /* try 1, due 10 ms */
	FH_CHECK_EQ_U(fh_rereq_next_due(&q), 10 * MS);
	FH_CHECK_EQ_I(fh_rereq_poll(&q, 10 * MS - 1, out), 0);
	FH_CHECK_EQ_I(fh_rereq_poll(&q, 10 * MS, out), 1);        /* try 2, waits 20 ms */
	FH_CHECK_EQ_U(req_seq(out), 500);
	FH_CHECK_EQ_U(fh_rereq_next_due(&q), 30 * MS);
	FH_CHECK_EQ_I(fh_rereq_poll(&q, 30 * MS, out), 1);        /* try 3, waits 30 ms (cap) */
	FH_CHECK_EQ_U(fh_rereq_next_due(&q), 60 * MS);
	FH_CHECK_EQ_I(fh_rereq_poll(&q, 60 * MS, out), 1);        /* try 4, waits 30 ms */
	FH_CHECK_EQ_U(fh_rereq_next_due(&q), 90 * MS);
	FH_CHECK_EQ_I(fh_rereq_next_failed(&q, &a, &b), 0);
	FH_CHECK_EQ_I(fh_rereq_poll(&q, 90 * MS, out), 0);        /* given up */
	FH_CHECK_EQ_I(fh_rereq_next_failed(&q, &a, &b), 1);
	FH_CHECK_EQ_U(a, 500);
	FH_CHECK_EQ_U(b, 599);
	FH_CHECK_EQ_I(fh_rereq_next_failed(&q, &a, &b), 0);
	FH_CHECK_EQ_U(q.st.requests, 4);
	FH_CHECK_EQ_U(q.st.resends, 3);
	FH_CHECK_EQ_U(q.st.timeouts, 4);
	FH_CHECK_EQ_U(q.st.failed_msgs, 100);
	FH_CHECK_EQ_U(q.n, 0);
	FH_CHECK_EQ_U(q.inflight, 0);
	FH_CHECK_EQ_U(fh_rereq_next_due(&q), UINT64_MAX);
}

/* A partial answer: only what is still missing is asked again. */
static void test_partial_answer(void)
{
	struct fh_rereq_cfg c = { .timeout_ns = 10 * MS };
	struct fh_rereq q;
	uint8_t out[FH_REREQ_REQ_LEN];

	FH_CHECK_EQ_I(fh_rereq_init(&q, &c, "S         "), 0);
	FH_CHECK_EQ_I(fh_rereq_gap(&q, 100, 199), 0);
	FH_CHECK_EQ_I(fh_rereq_poll(&q, 0, out), 1);
	fh_rereq_filled(&q, 100, 139); /* 40 arrived */
	FH_CHECK_EQ_I(fh_rereq_poll(&q, 5 * MS, out), 0);
	FH_CHECK_EQ_I(fh_rereq_poll(&q, 10 * MS, out), 1);
	FH_CHECK_EQ_U(req_seq(out), 140);
	FH_CHECK_EQ_U(req_count(out), 60);
	fh_rereq_filled(&q, 140, 199);
	FH_CHECK_EQ_U(q.n, 0);
	FH_CHECK_EQ_U(q.inflight, 0);
	FH_CHECK_EQ_U(q.st.filled_msgs, 100);
}

/* Fills in the middle split a range; overlapping gaps are not asked twice. */
static void test_holes_and_overlaps(void)
{
	struct fh_rereq q;
	uint8_t out[FH_REREQ_REQ_LEN];

	FH_CHECK_EQ_I(fh_rereq_init(&q, NULL, "S         "), 0);
	FH_CHECK_EQ_I(fh_rereq_gap(&q, 10, 19), 0);
	FH_CHECK_EQ_I(fh_rereq_gap(&q, 15, 30), 0); /* 20..30 new */
	FH_CHECK_EQ_U(fh_rereq_missing(&q), 21);
	FH_CHECK_EQ_I(fh_rereq_gap(&q, 12, 14), 0); /* covered already */
	FH_CHECK_EQ_U(fh_rereq_missing(&q), 21);
	fh_rereq_filled(&q, 13, 16); /* hole in 10..19 */
	FH_CHECK_EQ_U(fh_rereq_missing(&q), 17);
	FH_CHECK_EQ_U(q.n, 3);
	FH_CHECK_EQ_I(fh_rereq_poll(&q, 0, out), 1);
	FH_CHECK_EQ_U(req_seq(out), 10);
	FH_CHECK_EQ_U(req_count(out), 3);
	FH_CHECK_EQ_I(fh_rereq_poll(&q, 0, out), 1);
	FH_CHECK_EQ_U(req_seq(out), 17);
	FH_CHECK_EQ_U(req_count(out), 3);
	FH_CHECK_EQ_I(fh_rereq_poll(&q, 0, out), 1);
	FH_CHECK_EQ_U(req_seq(out), 20);
	FH_CHECK_EQ_U(req_count(out), 11);
	fh_rereq_filled(&q, 1, 100);
	FH_CHECK_EQ_U(q.n, 0);
	FH_CHECK_EQ_U(q.inflight, 0);
}

/* The range table is bounded: a gap beyond it is refused and counted. */
static void test_table_full(void)
{
	struct fh_rereq_cfg c = { .max_ranges = 2, .max_count = 10 };
	struct fh_rereq q;

	FH_CHECK_EQ_I(fh_rereq_init(&q, &c, "S         "), 0);
	FH_CHECK_EQ_I(fh_rereq_gap(&q, 1, 20), 0);
	FH_CHECK_EQ_I(fh_rereq_gap(&q, 30, 30), -ENOSPC);
	FH_CHECK_EQ_U(q.st.table_full, 1);
	FH_CHECK_EQ_I(fh_rereq_gap(&q, 5, 3), -EINVAL);
	FH_CHECK_EQ_I(fh_rereq_gap(&q, 0, 3), -EINVAL);
	struct fh_rereq_cfg bad = { .max_ranges = FH_REREQ_MAX_RANGES + 1 };
	FH_CHECK_EQ_I(fh_rereq_init(&q, &bad, "S         "), -EINVAL);
	struct fh_rereq_cfg bad2 = { .timeout_ns = 10, .max_timeout_ns = 5 };
	FH_CHECK_EQ_I(fh_rereq_init(&q, &bad2, "S         "), -EINVAL);
}


/*
 * End to end over loopback UDP: a 10 000-message gap recovered from the
 * re-request server (fh_rereq_srv over a simulated session), every message
 * identical to the session's; then the server down: the range is given up
 * after max_tries sends, exactly.
 */
static void test_loopback_server(void)
{
	static const char sess[10] = { 'R', 'R', 'T', 'E', 'S', 'T', '0', '0', '0', '1' };
	struct fh_sim_cfg sc = fh_sim_cfg_default();
	char err[256];

	sc.seed = 9;
	sc.messages = 20000;
	sc.symbols = 50;
	struct fh_sim_store *store = fh_sim_store_create(&sc, 1);
	FH_CHECK(store != NULL);
	if (!store)
		return;
	struct fh_rereq_srv_cfg scfg = { .store = store };
	memcpy(scfg.session, sess, 10);
	struct fh_rereq_srv *srv = fh_rereq_srv_create(&scfg, err, sizeof(err));
	FH_CHECK(srv != NULL);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in to = me;
	int rb = 4 << 20;
	FH_CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&me, sizeof(me)) == 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb));
	if (!srv || fd < 0) {
		fh_sim_store_destroy(store);
		return;
	}
	to.sin_port = htons(fh_rereq_srv_port(srv));

	struct fh_rereq_cfg c = { .max_count = 1000, .max_outstanding = 4, .timeout_ns = 200 * MS };
	struct fh_rereq q;
	FH_CHECK_EQ_I(fh_rereq_init(&q, &c, sess), 0);
	FH_CHECK_EQ_I(fh_rereq_gap(&q, 5001, 15000), 0);
	uint8_t out[FH_REREQ_REQ_LEN], in[2048];
	uint64_t got = 0, wrong = 0, a, b;
	uint64_t t_end = fh_clock_ns(CLOCK_MONOTONIC) + 20000 * MS; /* a bound, not a timing check */
	while (q.n && fh_clock_ns(CLOCK_MONOTONIC) < t_end) {
		while (fh_rereq_poll(&q, fh_clock_ns(CLOCK_MONOTONIC), out))
			sendto(fd, out, sizeof(out), 0, (struct sockaddr *)&to, sizeof(to));
		fh_rereq_srv_poll(srv);
		ssize_t r;
		unsigned idle = 1;
		while ((r = recv(fd, in, sizeof(in), 0)) > 0) {
			struct fh_mold_hdr h;
			idle = 0;
			if (fh_mold_parse_hdr(in, (size_t)r, &h) < 0 || memcmp(h.session, sess, 10) ||
			    fh_mold_check_blocks(in + FH_MOLD_HDR_LEN, (size_t)r - FH_MOLD_HDR_LEN, h.count) < 0) {
				wrong++;
				continue;
			}
			const uint8_t *cur = in + FH_MOLD_HDR_LEN;
			for (unsigned k = 0; k < h.count; k++) {
				size_t ml, sl;
				const uint8_t *m = fh_mold_next_msg(&cur, &ml), *sm;
				if (fh_sim_store_get(store, h.seq + k, &sm, &sl) < 0 || sl != ml || memcmp(sm, m, ml))
					wrong++;
			}
			got += h.count;
			fh_rereq_filled(&q, h.seq, h.seq + h.count - 1);
		}
		if (idle)
			usleep(200);
	}
	FH_CHECK_EQ_U(fh_rereq_missing(&q), 0);
	FH_CHECK_EQ_U(wrong, 0);
	FH_CHECK(got >= 10000); /* a resend after a slow answer may bring some twice */
	FH_CHECK(q.st.requests >= 10);
	FH_CHECK_EQ_U(q.st.filled_msgs, 10000);
	FH_CHECK_EQ_I(fh_rereq_next_failed(&q, &a, &b), 0);

	/* outage: nothing answers, the range is given up after three sends */
	struct fh_rereq_cfg c2 = { .timeout_ns = 2 * MS, .max_timeout_ns = 8 * MS, .max_tries = 3 };
	FH_CHECK_EQ_I(fh_rereq_init(&q, &c2, sess), 0);
	fh_rereq_srv_set_down(srv, true);
	FH_CHECK_EQ_I(fh_rereq_gap(&q, 100, 199), 0);
	t_end = fh_clock_ns(CLOCK_MONOTONIC) + 5000 * MS;
	while (q.n && fh_clock_ns(CLOCK_MONOTONIC) < t_end) {
		while (fh_rereq_poll(&q, fh_clock_ns(CLOCK_MONOTONIC), out))
			sendto(fd, out, sizeof(out), 0, (struct sockaddr *)&to, sizeof(to));
		fh_rereq_srv_poll(srv);
		usleep(500);
	}
	fh_rereq_srv_poll(srv);
	FH_CHECK_EQ_I(fh_rereq_next_failed(&q, &a, &b), 1);
	FH_CHECK_EQ_U(a, 100);
	FH_CHECK_EQ_U(b, 199);
	struct fh_rereq_srv_stats st;
	fh_rereq_srv_stats(srv, &st);
	FH_CHECK_EQ_U(st.ignored, 3);
	FH_CHECK_EQ_U(q.st.requests, 3);
	close(fd);
	fh_rereq_srv_destroy(srv);
	fh_sim_store_destroy(store);
}

static const struct fh_test_case cases[] = {
	FH_CASE(test_request_bytes),
	FH_CASE(test_split_and_bound),
	FH_CASE(test_timeout_backoff_give_up),
	FH_CASE(test_partial_answer),
	FH_CASE(test_holes_and_overlaps),
	FH_CASE(test_table_full),
	FH_CASE(test_loopback_server),
	{ 0 },
};

int main(int argc, char **argv)
{
	return fh_test_main(argc, argv, cases);
}
