/* SPDX-License-Identifier: MIT */
/* bench_kafka.c: sustained produce rate into the in-process 3-broker mock (acks=all, idempotence, lz4), zero loss checked. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fh_kafka.h"
#include "fh_spsc.h"
#include "fh_time.h"

/*
 * Produces N binary events (200 instruments with symbols, mixed families)
 * through fh_kafka_produce() exactly as the publisher's Kafka thread does,
 * then flushes. The rate is N / (time from the first produce until the last
 * delivery report); zero loss means delivered == N and failed == 0.
 * Usage: bench_kafka [events] [linger_ms] [json 0|1]
 */
int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 4000000ull;
	int linger = argc > 2 ? atoi(argv[2]) : 5;
	bool json = argc > 3 && atoi(argv[3]);
	char err[512], prefix[64];
	struct fh_event ev;

	fh_tsc_calibrate(50);
	snprintf(prefix, sizeof(prefix), "fhbench%d", (int)getpid());
	struct fh_kafka_cfg c = { .topic_prefix = prefix, .linger_ms = linger, .partitions = 3 };
	for (int f = 0; json && f < FH_KF__COUNT; f++)
		c.json[f] = true;
	struct fh_kafka *k = fh_kafka_create(&c, err, sizeof(err));
	if (!k) {
		fprintf(stderr, "bench_kafka: %s\n", err);
		return 1;
	}
	printf("bench_kafka: mock cluster %s, %" PRIu64 " %s events, linger.ms %d, acks=all, idempotence, lz4\n",
	       fh_kafka_bootstrap(k), n, json ? "JSON" : "binary", linger);
	for (uint32_t i = 0; i < 200; i++) {
		fh_event_init(&ev, FH_EV_INSTRUMENT);
		ev.source_id = 1;
		ev.instrument = i;
		snprintf(ev.u.instr.symbol, sizeof(ev.u.instr.symbol), "SYM%03u", i);
		fh_kafka_produce(k, &ev);
	}
	fh_kafka_flush(k, 10000);
	struct fh_kafka_stats s0, s1;
	fh_kafka_get_stats(k, &s0);

	static const uint8_t types[] = { FH_EV_L2_UPDATE, FH_EV_L2_UPDATE, FH_EV_TRADE, FH_EV_ORDER_ADD,
					 FH_EV_BBO, FH_EV_L2_UPDATE, FH_EV_ORDER_DELETE, FH_EV_BAR };
	uint64_t spins = 0;
	uint64_t c0 = fh_clock_ns(CLOCK_PROCESS_CPUTIME_ID), ct0 = fh_clock_ns(CLOCK_THREAD_CPUTIME_ID);
	uint64_t t0 = fh_clock_ns(CLOCK_MONOTONIC);
	for (uint64_t i = 0; i < n; i++) {
		fh_event_init(&ev, types[i & 7]);
		ev.source_id = 1;
		ev.instrument = (uint32_t)(i % 200);
		ev.seq = i + 1;
		ev.recv_ts_ns = t0 + i;
		ev.u.l2.price = (int64_t)(100 + i % 50) * FH_PRICE_SCALE;
		ev.u.l2.qty = 100 + i % 1000;
		while (fh_kafka_produce(k, &ev) == FH_PUB_BACK_PRESSURED) {
			fh_kafka_poll(k, 1);
			spins++;
		}
		if ((i & 1023) == 0)
			fh_kafka_poll(k, 0);
	}
	uint64_t t_prod = fh_clock_ns(CLOCK_MONOTONIC);
	uint64_t left = fh_kafka_flush(k, 60000);
	uint64_t t1 = fh_clock_ns(CLOCK_MONOTONIC);
	uint64_t c1 = fh_clock_ns(CLOCK_PROCESS_CPUTIME_ID), ct1 = fh_clock_ns(CLOCK_THREAD_CPUTIME_ID);
	fh_kafka_get_stats(k, &s1);
	uint64_t delivered = 0, failed = 0;
	for (int f = 0; f < FH_KF__COUNT; f++) {
		delivered += s1.delivered[f] - s0.delivered[f];
		failed += s1.failed[f] - s0.failed[f];
	}
	double secs = (double)(t1 - t0) / 1e9;
	printf("  produce calls done in %.2f s, all delivered after %.2f s; queue-full waits %" PRIu64 "\n",
	       (double)(t_prod - t0) / 1e9, secs, spins);
	/* on a shared machine wall time mostly measures what the scheduler gave us */
	printf("  CPU: %.2f us/event in all threads (producer, librdkafka, mock brokers), %.2f us/event in the producing thread\n",
	       (double)(c1 - c0) / 1e3 / (double)n, (double)(ct1 - ct0) / 1e3 / (double)n);
	printf("  delivered %" PRIu64 " of %" PRIu64 ", failed %" PRIu64 ", not delivered %" PRIu64 " -> %s\n",
	       delivered, n, failed, left, delivered == n && !failed && !left ? "zero loss" : "LOSS");
	printf("RESULT kafka_events_per_s %.0f events/s (acks=all, idempotent, lz4, 3-broker mock, %s)\n",
	       (double)n / secs, delivered == n && !failed ? "zero loss" : "WITH LOSS");
	fh_kafka_destroy(k, 1000);
	return delivered == n && !failed ? 0 : 1;
}
