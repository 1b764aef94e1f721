/* SPDX-License-Identifier: MIT */
/* test_probe.c: the latency-probe SPSC ring: order, peek/pop, full is counted, wrap, two threads. */
#include <pthread.h>
#include <stdlib.h>

#include "fh_probe.h"
#include "fh_test.h"

static struct fh_probe_ring ring;

static struct fh_probe mk(uint64_t i)
{
	struct fh_probe p = { .pos = i, .tsc = 1000 + i, .source_id = (uint16_t)(i * 7) };
	return p;
}

static void test_empty(void)
{
	struct fh_probe p = { 0 };
	fh_probe_ring_init(&ring);
	FH_CHECK(fh_probe_empty(&ring));
	FH_CHECK(!fh_probe_peek(&ring, &p));
	FH_CHECK(!fh_probe_pop(&ring, &p));
	FH_CHECK(!fh_probe_pop(&ring, NULL));
	FH_CHECK_EQ_U(fh_probe_count(&ring), 0);
}

static void test_fifo_peek_pop(void)
{
	struct fh_probe p = { 0 };
	fh_probe_ring_init(&ring);
	for (uint64_t i = 1; i <= 10; i++) {
		struct fh_probe q = mk(i);
		FH_CHECK(fh_probe_push(&ring, &q));
	}
	FH_CHECK_EQ_U(fh_probe_count(&ring), 10);
	FH_CHECK(!fh_probe_empty(&ring));
	/* peek does not consume */
	FH_CHECK(fh_probe_peek(&ring, &p));
	FH_CHECK_EQ_U(p.pos, 1);
	FH_CHECK(fh_probe_peek(&ring, &p));
	FH_CHECK_EQ_U(p.pos, 1);
	FH_CHECK(fh_probe_pop(&ring, NULL));
	for (uint64_t i = 2; i <= 10; i++) {
		FH_CHECK(fh_probe_pop(&ring, &p));
		FH_CHECK_EQ_U(p.pos, i);
		FH_CHECK_EQ_U(p.tsc, 1000 + i);
		FH_CHECK_EQ_U(p.source_id, (uint16_t)(i * 7));
	}
	FH_CHECK(fh_probe_empty(&ring));
	FH_CHECK_EQ_U(ring.pushed, 10);
	FH_CHECK_EQ_U(ring.dropped, 0);
}

static void test_full_drops_new(void)
{
	struct fh_probe p = { 0 };
	fh_probe_ring_init(&ring);
	for (uint64_t i = 0; i < FH_PROBE_RING_SIZE; i++) {
		p = mk(i);
		FH_CHECK(fh_probe_push(&ring, &p));
	}
	for (uint64_t i = 0; i < 5; i++) {
		p = mk(99999);
		FH_CHECK(!fh_probe_push(&ring, &p));
	}
	FH_CHECK_EQ_U(ring.dropped, 5);
	FH_CHECK_EQ_U(fh_probe_count(&ring), FH_PROBE_RING_SIZE);
	/* the oldest survived, the refused ones never appear */
	FH_CHECK(fh_probe_pop(&ring, &p));
	FH_CHECK_EQ_U(p.pos, 0);
	p = mk(FH_PROBE_RING_SIZE);
	FH_CHECK(fh_probe_push(&ring, &p)); /* one slot freed: room again */
	uint64_t want = 1, bad = 0;
	while (fh_probe_pop(&ring, &p))
		bad += p.pos != want++;
	FH_CHECK_EQ_U(bad, 0);
	FH_CHECK_EQ_U(want, FH_PROBE_RING_SIZE + 1);
}

static void test_wraps(void)
{
	struct fh_probe p = { 0 };
	uint64_t bad = 0, next = 0, got = 0;
	fh_probe_ring_init(&ring);
	/* many laps of the index, in uneven steps */
	for (uint64_t i = 0; i < 20 * FH_PROBE_RING_SIZE;) {
		for (unsigned k = 0; k < 37; k++, i++) {
			p = mk(i);
			FH_CHECK(fh_probe_push(&ring, &p));
		}
		while (fh_probe_count(&ring) > 5 && fh_probe_pop(&ring, &p)) {
			bad += p.pos != next++;
			got++;
		}
	}
	while (fh_probe_pop(&ring, &p)) {
		bad += p.pos != next++;
		got++;
	}
	FH_CHECK_EQ_U(bad, 0);
	FH_CHECK_EQ_U(got, ring.pushed);
	FH_CHECK_EQ_U(ring.dropped, 0);
}

#define N_THREADED 2000000ull

static void *producer(void *arg)
{
	(void)arg;
	for (uint64_t i = 1; i <= N_THREADED; i++) {
		struct fh_probe p = mk(i);
		fh_probe_push(&ring, &p); /* full: dropped and counted */
	}
	return NULL;
}

/* One producer thread, one consumer: every probe is either received, in
 * order and intact, or counted as dropped. */
static void test_two_threads(void)
{
	pthread_t t;
	struct fh_probe p = { 0 };
	uint64_t got = 0, last = 0, bad = 0;
	fh_probe_ring_init(&ring);
	FH_CHECK_EQ_I(pthread_create(&t, NULL, producer, NULL), 0);
	for (;;) {
		if (fh_probe_pop(&ring, &p)) {
			got++;
			bad += p.pos <= last || p.tsc != 1000 + p.pos ||
			       p.source_id != (uint16_t)(p.pos * 7);
			last = p.pos;
			if (p.pos == N_THREADED)
				break;
			continue;
		}
		if (__atomic_load_n(&ring.pushed, __ATOMIC_RELAXED) +
			    __atomic_load_n(&ring.dropped, __ATOMIC_RELAXED) ==
		    N_THREADED && fh_probe_empty(&ring))
			break;
	}
	pthread_join(t, NULL);
	while (fh_probe_pop(&ring, &p)) {
		got++;
		bad += p.pos <= last;
		last = p.pos;
	}
	FH_CHECK_EQ_U(bad, 0);
	FH_CHECK_EQ_U(got, ring.pushed);
	FH_CHECK_EQ_U(ring.pushed + ring.dropped, N_THREADED);
}

static const struct fh_test_case cases[] = {
	FH_CASE(test_empty),
	FH_CASE(test_fifo_peek_pop),
	FH_CASE(test_full_drops_new),
	FH_CASE(test_wraps),
	FH_CASE(test_two_threads),
	{ 0 },
};

int main(int argc, char **argv)
{
	return fh_test_main(argc, argv, cases);
}
