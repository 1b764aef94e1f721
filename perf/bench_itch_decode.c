/* SPDX-License-Identifier: MIT */
/* bench_itch_decode.c: ITCH 5.0 decode-only throughput over an in-memory simulated day file, one core. */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh_itch.h"
#include "fh_itch_file.h"
#include "fh_sim.h"
#include "fh_time.h"

/*
 * The simulator writes a whole session (Nasdaq day-file format: 2-byte
 * length + message) into memory; then, pass after pass, one core walks the
 * buffer and decodes every message into a 64-event output burst (the shape
 * of the RX loop: decode into a burst, hand the burst on). Every batch of
 * BATCH messages is timed with the TSC; the headline is the median of the
 * per-batch ns/message over all passes, with percentiles. A second figure
 * times the same work through fh_itch_file_replay_mem() (framing + one
 * indirect call per message), the path the tools use.
 *
 * Usage: bench_itch_decode [MESSAGES (default 50000000)] [PASSES (default 5)]
 * FH_BENCH_MESSAGES overrides the default size.
 */

#define BATCH 8192 /* ~80 us: most batches run without a context switch on a shared host */
#define BURST 64

static struct fh_event burst[BURST + FH_ITCH_MAX_EVENTS] FH_CACHE_ALIGNED;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
	size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

struct replay_ctx {
	struct fh_itch_decoder dec;
	unsigned fill;
};

static int replay_msg(void *arg, const uint8_t *msg, size_t len, uint64_t seq,
		      const char session[FH_MOLD_SESSION_LEN], uint64_t recv_ts_ns)
{
	struct replay_ctx *c = arg;
	(void)session;
	int n = fh_itch_decode(&c->dec, msg, len, seq, recv_ts_ns, &burst[c->fill]);
	c->fill = (c->fill + (n > 0 ? (unsigned)n : 0u)) & (BURST - 1);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t nmsg = 50000000ull;
	unsigned passes = 5;
	const char *env = getenv("FH_BENCH_MESSAGES");

	if (env)
		nmsg = strtoull(env, NULL, 10);
	if (argc > 1)
		nmsg = strtoull(argv[1], NULL, 10);
	if (argc > 2)
		passes = (unsigned)strtoul(argv[2], NULL, 10);
	if (nmsg < 1000 || passes < 1) {
		fprintf(stderr, "usage: bench_itch_decode [MESSAGES >= 1000] [PASSES >= 1]\n");
		return 2;
	}
	/* One core: stay on the CPU we started on (no migration between batches). */
	int cpu = sched_getcpu();
	if (cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) == 0)
			printf("pinned to cpu %d\n", cpu);
	}
	fh_tsc_calibrate(100);

	struct fh_sim_cfg cfg = fh_sim_cfg_default();
	cfg.seed = 42;
	cfg.messages = nmsg;
	struct fh_sim_stats sst;
	size_t len = 0;
	uint64_t g0 = fh_clock_ns(CLOCK_MONOTONIC);
	uint8_t *buf = fh_sim_itch_mem(&cfg, &len, &sst);
	if (!buf) {
		fprintf(stderr, "bench_itch_decode: simulator: %s\n", strerror(errno));
		return 1;
	}
	printf("generated %" PRIu64 " messages, %zu bytes (%.1f B/msg) in %.1f s\n", sst.messages, len,
	       (double)len / (double)sst.messages,
	       (double)(fh_clock_ns(CLOCK_MONOTONIC) - g0) / 1e9);

	size_t max_batches = (size_t)(sst.messages / BATCH + 2) * passes;
	double *per = malloc(max_batches * sizeof(*per));
	if (!per)
		return 1;
	size_t nb = 0;
	struct fh_itch_decoder dec;
	uint64_t events = 0, msgs = 0, rejects = 0;
	double pass_ns[64];

	for (unsigned p = 0; p < passes; p++) {
		fh_itch_decoder_init(&dec, 1, 0, NULL);
		const uint8_t *cur = buf, *end = buf + len;
		unsigned fill = 0;
		uint64_t pass_t0 = fh_rdtsc();
		while (cur + 2 <= end) {
			uint64_t t0 = fh_rdtsc();
			unsigned k = 0;
			for (; k < BATCH && cur + 2 <= end; k++) {
				size_t l = fh_be16(cur);
				if (fh_unlikely((size_t)(end - cur - 2) < l))
					break;
				int n = fh_itch_decode(&dec, cur + 2, l, msgs + k + 1, 0, &burst[fill]);
				fill = (fill + (n > 0 ? (unsigned)n : 0u)) & (BURST - 1);
				cur += 2 + l;
			}
			/* the burst is handed on: the stores must happen */
			__asm__ volatile("" : : "r"(burst) : "memory");
			uint64_t t1 = fh_rdtsc();
			if (k == 0)
				break;
			msgs += k;
			if (k == BATCH && nb < max_batches)
				per[nb++] = (double)fh_tsc_to_ns(t1 - t0) / (double)k;
		}
		pass_ns[p < 64 ? p : 63] = (double)fh_tsc_to_ns(fh_rdtsc() - pass_t0) / (double)fh_itch_decoder_messages(&dec);
		events += fh_itch_decoder_events(&dec);
		for (unsigned i = 1; i < FH_ITCH_REJ__COUNT; i++)
			rejects += dec.rejects[i];
	}
	if (nb == 0) {
		fprintf(stderr, "bench_itch_decode: too few messages for one batch\n");
		return 1;
	}
	qsort(per, nb, sizeof(*per), cmp_double);
	printf("decode: %u passes x %" PRIu64 " messages, %zu batches of %d, %" PRIu64
	       " events, %" PRIu64 " rejects\n",
	       passes, sst.messages, nb, BATCH, events, rejects);
	printf("per-pass ns/msg:");
	for (unsigned p = 0; p < passes && p < 64; p++)
		printf(" %.3f", pass_ns[p]);
	printf("\nper-batch ns/msg: min %.3f p10 %.3f p25 %.3f p50 %.3f p90 %.3f p99 %.3f p99.9 %.3f max %.3f\n",
	       per[0], pct(per, nb, 10), pct(per, nb, 25), pct(per, nb, 50), pct(per, nb, 90),
	       pct(per, nb, 99), pct(per, nb, 99.9), per[nb - 1]);
	printf("RESULT itch_decode_ns_per_msg %.3f ns\n", pct(per, nb, 50));
	printf("RESULT itch_decode_ns_per_msg_p99 %.3f ns\n", pct(per, nb, 99));
	printf("RESULT itch_decode_msgs_per_sec %.1f M/s\n", 1000.0 / pct(per, nb, 50));

	/* The same through the file replay path (framing + a callback per message). */
	struct replay_ctx rc;
	struct fh_itch_file_ops ops = { .msg = replay_msg };
	struct fh_itch_file_cfg fcfg = { .format = FH_ITCH_FILE_DAY };
	static struct fh_itch_file_stats st;
	double rp[64];
	unsigned rpasses = passes < 64 ? passes : 64;
	for (unsigned p = 0; p < rpasses; p++) {
		fh_itch_decoder_init(&rc.dec, 1, 0, NULL);
		rc.fill = 0;
		uint64_t t0 = fh_rdtsc();
		fh_itch_file_replay_mem(buf, len, &fcfg, &ops, &rc, &st);
		rp[p] = (double)fh_tsc_to_ns(fh_rdtsc() - t0) / (double)st.messages;
	}
	qsort(rp, rpasses, sizeof(*rp), cmp_double);
	printf("replay path ns/msg over %u passes: median %.3f min %.3f max %.3f\n", rpasses,
	       rp[rpasses / 2], rp[0], rp[rpasses - 1]);
	printf("RESULT itch_replay_ns_per_msg %.3f ns\n", rp[rpasses / 2]);
	free(per);
	free(buf);
	return 0;
}
