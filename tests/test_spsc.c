/* SPDX-License-Identifier: MIT */
/* test_spsc.c: SPSC event ring: order, full status, bursts, wrap, drop-oldest, two-thread stress. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "fh_spsc.h"
#include "fh_test.h"

static struct fh_spsc *ring_new(uint64_t cap)
{
	struct fh_spsc *r = NULL;
	if (posix_memalign((void **)&r, 64, fh_spsc_memsize(cap)))
		return NULL;
	if (fh_spsc_init(r, cap)) {
		free(r);
		return NULL;
	}
	return r;
}

/* Every field derived from n: a torn or stale copy shows as a mismatch. */
static void mk(struct fh_event *ev, uint64_t n)
{
	fh_event_init(ev, FH_EV_TRADE);
	ev->seq = n;
	ev->exch_ts_ns = n * 3;
	ev->recv_ts_ns = ~n;
	ev->u.trade.match_no = n ^ 0x5555;
}

static bool good(const struct fh_event *ev)
{
	uint64_t n = ev->seq;
	return ev->type == FH_EV_TRADE && ev->exch_ts_ns == n * 3 && ev->recv_ts_ns == ~n &&
	       ev->u.trade.match_no == (n ^ 0x5555);
}

static void test_init(void)
{
	struct fh_spsc *r = ring_new(8);
	FH_CHECK(r != NULL);
	FH_CHECK_EQ_I(fh_spsc_init(r, 6), -EINVAL);
	FH_CHECK_EQ_I(fh_spsc_init(r, 1), -EINVAL);
	FH_CHECK_EQ_I(fh_spsc_init(r, 8), 0);
	FH_CHECK_EQ_U(fh_spsc_count(r), 0);
	FH_CHECK_EQ_U((uintptr_t)r->slots % 64, 0);
	FH_CHECK(offsetof(struct fh_spsc, tail) - offsetof(struct fh_spsc, head) >= 64);
	free(r);
}

static void test_order_and_full(void)
{
	struct fh_spsc *r = ring_new(8);
	struct fh_event ev, out[8];
	for (uint64_t i = 0; i < 8; i++) {
		mk(&ev, i);
		FH_CHECK_EQ_I(fh_spsc_enqueue(r, &ev), FH_PUB_OK);
	}
	mk(&ev, 8);
	FH_CHECK_EQ_I(fh_spsc_enqueue(r, &ev), FH_PUB_BACK_PRESSURED);
	FH_CHECK_EQ_U(r->enq_full, 1);
	FH_CHECK_EQ_U(fh_spsc_count(r), 8);
	FH_CHECK_EQ_U(fh_spsc_dequeue_burst(r, out, 3), 3);
	for (unsigned i = 0; i < 3; i++)
		FH_CHECK_EQ_U(out[i].seq, i);
	/* partial burst: 5 free of 6 asked */
	struct fh_event in[6];
	for (unsigned i = 0; i < 6; i++)
		mk(&in[i], 100 + i);
	FH_CHECK_EQ_U(fh_spsc_enqueue_burst(r, in, 6), 3);
	FH_CHECK_EQ_U(fh_spsc_dequeue_burst(r, out, 8), 8);
	for (unsigned i = 0; i < 5; i++)
		FH_CHECK_EQ_U(out[i].seq, 3 + i);
	for (unsigned i = 0; i < 3; i++)
		FH_CHECK_EQ_U(out[5 + i].seq, 100 + i);
	FH_CHECK_EQ_U(fh_spsc_dequeue_burst(r, out, 8), 0);
	free(r);
}

static void test_peek_wrap(void)
{
	struct fh_spsc *r = ring_new(8);
	struct fh_event in[8];
	unsigned n;
	for (unsigned i = 0; i < 8; i++)
		mk(&in[i], i);
	FH_CHECK_EQ_U(fh_spsc_enqueue_burst(r, in, 6), 6);
	struct fh_event *p = fh_spsc_peek(r, 64, &n);
	FH_CHECK_EQ_U(n, 6);
	FH_CHECK_EQ_U(p[5].seq, 5);
	fh_spsc_release(r, 6);
	FH_CHECK_EQ_U(fh_spsc_enqueue_burst(r, in, 5), 5); /* slots 6,7,0,1,2 */
	p = fh_spsc_peek(r, 64, &n);
	FH_CHECK_EQ_U(n, 2); /* stops at the end of the array */
	FH_CHECK_EQ_U(p[0].seq, 0);
	fh_spsc_release(r, 2);
	p = fh_spsc_peek(r, 64, &n);
	FH_CHECK_EQ_U(n, 3);
	FH_CHECK_EQ_U(p[0].seq, 2);
	fh_spsc_release(r, 3);
	FH_CHECK_EQ_U(fh_spsc_count(r), 0);
	free(r);
}

static void test_drop_oldest(void)
{
	struct fh_spsc *r = ring_new(8);
	struct fh_event ev, out[8];
	for (uint64_t i = 0; i < 8; i++) {
		mk(&ev, i);
		fh_spsc_enqueue(r, &ev);
	}
	FH_CHECK_EQ_U(fh_spsc_drop_oldest(r, 3), 3);
	FH_CHECK_EQ_U(r->dropped, 3);
	for (uint64_t i = 8; i < 11; i++) {
		mk(&ev, i);
		FH_CHECK_EQ_I(fh_spsc_enqueue(r, &ev), FH_PUB_OK);
	}
	FH_CHECK_EQ_U(fh_spsc_dequeue_burst(r, out, 8), 8);
	for (unsigned i = 0; i < 8; i++)
		FH_CHECK_EQ_U(out[i].seq, 3 + i);
	FH_CHECK_EQ_U(fh_spsc_drop_oldest(r, 3), 0); /* empty */
	free(r);
}

#define STRESS_N 2000000ull

struct stress {
	struct fh_spsc *r;
	bool drop;
	uint64_t dropped;
};

static void *producer(void *arg)
{
	struct stress *s = arg;
	struct fh_event b[32];
	uint64_t n = 0;
	while (n < STRESS_N) {
		unsigned k = 0;
		while (k < 32 && n + k < STRESS_N) {
			mk(&b[k], n + k);
			k++;
		}
		unsigned done = 0;
		while (done < k) {
			done += fh_spsc_enqueue_burst(s->r, b + done, k - done);
			if (done < k) {
				if (s->drop)
					s->dropped += fh_spsc_drop_oldest(s->r, k - done);
				else
					sched_yield();
			}
		}
		n += k;
	}
	return NULL;
}

static void stress(bool drop)
{
	struct stress s = { ring_new(256), drop, 0 };
	pthread_t t;
	struct fh_event out[64];
	uint64_t got = 0, bad = 0, order = 0, last = 0;
	bool first = true;

	pthread_create(&t, NULL, producer, &s);
	for (;;) {
		unsigned n = fh_spsc_dequeue_burst(s.r, out, 64);
		for (unsigned i = 0; i < n; i++) {
			if (!good(&out[i]))
				bad++;
			if (!first && (drop ? out[i].seq <= last : out[i].seq != last + 1))
				order++;
			last = out[i].seq;
			first = false;
		}
		got += n;
		if (!n) {
			if (!first && last == STRESS_N - 1)
				break;
			sched_yield();
		}
	}
	pthread_join(t, NULL);
	FH_CHECK_EQ_U(bad, 0);
	FH_CHECK_EQ_U(order, 0);
	FH_CHECK_EQ_U(got + s.dropped, STRESS_N);
	if (!drop)
		FH_CHECK_EQ_U(got, STRESS_N);
	free(s.r);
}

static void test_stress_two_threads(void)
{
	stress(false);
}

static void test_stress_drop_oldest(void)
{
	stress(true);
}

static const struct fh_test_case cases[] = {
	FH_CASE(test_init),
	FH_CASE(test_order_and_full),
	FH_CASE(test_peek_wrap),
	FH_CASE(test_drop_oldest),
	FH_CASE(test_stress_two_threads),
	FH_CASE(test_stress_drop_oldest),
	{ 0 },
};

int main(int argc, char **argv)
{
	return fh_test_main(argc, argv, cases);
}
