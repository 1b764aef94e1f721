/* SPDX-License-Identifier: MIT */
/* bench_engine.c: engine cost per input ITCH message on top of decode + book, default rules, simulated day. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh_book.h"
#include "fh_engine.h"
#include "fh_itch.h"
#include "fh_sim.h"
#include "fh_time.h"

/*
 * A simulated day (fh_sim, day-file bytes in memory) goes through the ITCH
 * decoder and the L2 book chunk by chunk; the events the engine would see
 * (the book's output, plus the system, trading-status and directory events
 * the book does not forward) are collected, and only fh_engine_process_burst()
 * over them is timed. The figure is engine time / input ITCH messages of the
 * chunk; RESULT engine_ns_per_msg is the median over chunks of the thread's
 * CPU time (CLOCK_THREAD_CPUTIME_ID: time this thread ran, so a shared,
 * oversubscribed machine does not add other processes' time slices);
 * engine_wall_ns_per_msg is the same from the TSC (wall clock).
 * Env: FH_BENCH_MESSAGES (default 20 M), FH_BENCH_SYMBOLS (default 8700),
 * FH_BENCH_CHUNK (messages per chunk, default 65536).
 */

struct counter {
	uint64_t events, bars, alerts;
};

static void count_emit(void *arg, const struct fh_event *ev)
{
	struct counter *c = arg;
	c->events++;
	c->bars += ev->type == FH_EV_BAR;
	c->alerts += ev->type == FH_EV_ALERT;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);
	return v && *v ? strtoull(v, NULL, 0) : def;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

int main(void)
{
	struct fh_sim_cfg sc = fh_sim_cfg_default();
	sc.messages = env_u64("FH_BENCH_MESSAGES", 20000000ull);
	sc.symbols = (uint32_t)env_u64("FH_BENCH_SYMBOLS", FH_SIM_DEFAULT_SYMBOLS);
	size_t chunk = (size_t)env_u64("FH_BENCH_CHUNK", 65536);
	if (chunk < 1024)
		chunk = 1024;

	fh_tsc_calibrate(100);
	fprintf(stderr, "bench_engine: generating %llu messages, %u symbols\n",
		(unsigned long long)sc.messages, sc.symbols);
	size_t len;
	struct fh_sim_stats sst;
	uint8_t *day = fh_sim_itch_mem(&sc, &len, &sst);
	if (!day) {
		fprintf(stderr, "bench_engine: simulator: %s\n", strerror(errno));
		return 1;
	}

	struct fh_book_config bc;
	fh_book_config_default(&bc);
	bc.max_instruments = sc.symbols + 2;
	if (bc.max_orders < sst.peak_live_orders * 2)
		bc.max_orders = (uint32_t)(sst.peak_live_orders * 2);
	struct fh_book *book;
	char err[160];
	if (fh_book_create(&bc, &book, err, sizeof(err))) {
		fprintf(stderr, "bench_engine: book: %s\n", err);
		return 1;
	}

	struct fh_engine_cfg ec;
	fh_engine_cfg_default(&ec);
	ec.max_instruments = sc.symbols + 2;
	size_t esz = fh_engine_memsize(&ec);
	void *emem = aligned_alloc(64, (esz + 63) / 64 * 64);
	struct fh_engine *eng = emem ? fh_engine_init(emem, &ec) : NULL;
	if (!eng) {
		fprintf(stderr, "bench_engine: engine init failed\n");
		return 1;
	}
	struct counter cnt = { 0 };
	fh_engine_set_emit(eng, count_emit, &cnt);

	size_t cap = chunk * (FH_BOOK_MAX_OUT + FH_ITCH_MAX_EVENTS);
	struct fh_event *buf = aligned_alloc(64, cap * sizeof(*buf));
	size_t n_chunks_max = sc.messages / chunk + 2;
	double *per = malloc(n_chunks_max * sizeof(*per));
	double *wall = malloc(n_chunks_max * sizeof(*wall));
	if (!buf || !per || !wall)
		return 1;

	struct fh_itch_decoder dec;
	fh_itch_decoder_init(&dec, 0, 0, NULL);
	size_t off = 0, nper = 0;
	uint64_t msgs = 0, in_events = 0, eng_ticks = 0, db_ticks = 0, eng_cpu = 0;
	struct fh_event evs[FH_ITCH_MAX_EVENTS];

	while (off + 2 <= len) {
		size_t n = 0, m = 0;
		uint64_t t0 = fh_rdtsc();
		while (m < chunk && off + 2 <= len) {
			size_t ml = (size_t)day[off] << 8 | day[off + 1];
			if (off + 2 + ml > len)
				break;
			int k = fh_itch_decode(&dec, day + off + 2, ml, ++msgs, 0, evs);
			off += 2 + ml;
			m++;
			for (int i = 0; i < k; i++) {
				uint8_t t = evs[i].type;
				if (t == FH_EV_SYSTEM || t == FH_EV_TRADING_STATUS || t == FH_EV_INSTRUMENT)
					buf[n++] = evs[i];
				int o = fh_book_apply(book, &evs[i], buf + n);
				if (o > 0)
					n += (size_t)o;
			}
		}
		uint64_t t1 = fh_rdtsc();
		uint64_t c1 = fh_clock_ns(CLOCK_THREAD_CPUTIME_ID);
		fh_engine_process_burst(eng, buf, (unsigned)n);
		uint64_t c2 = fh_clock_ns(CLOCK_THREAD_CPUTIME_ID);
		uint64_t t2 = fh_rdtsc();
		db_ticks += t1 - t0;
		eng_ticks += t2 - t1;
		eng_cpu += c2 - c1;
		in_events += n;
		if (m) {
			per[nper] = (double)(c2 - c1) / (double)m;
			wall[nper++] = (double)fh_tsc_to_ns(t2 - t1) / (double)m;
		}
	}

	qsort(per, nper, sizeof(*per), cmp_d);
	qsort(wall, nper, sizeof(*wall), cmp_d);
	const struct fh_engine_stats *st = fh_engine_get_stats(eng);
	double mean = (double)eng_cpu / (double)msgs;
	double wmean = (double)fh_tsc_to_ns(eng_ticks) / (double)msgs;
	double db = (double)fh_tsc_to_ns(db_ticks) / (double)msgs;
	printf("bench_engine: %llu ITCH messages, %u symbols, %llu engine input events (%.2f per message), %zu chunks of %zu\n",
	       (unsigned long long)msgs, sc.symbols, (unsigned long long)in_events,
	       (double)in_events / (double)msgs, nper, chunk);
	printf("bench_engine: engine output %llu events, %llu bars, %llu alerts; %llu trades used\n",
	       (unsigned long long)cnt.events, (unsigned long long)cnt.bars,
	       (unsigned long long)cnt.alerts, (unsigned long long)st->trades);
	for (unsigned r = 0; r < ec.n_rules; r++)
		if (st->alerts_by_rule[r])
			printf("bench_engine: rule %u %s: %llu alerts\n", r,
			       fh_engine_rule_kind_name(ec.rules[r].kind),
			       (unsigned long long)st->alerts_by_rule[r]);
	printf("bench_engine: engine CPU ns/msg per chunk (thread CPU time): p50 %.2f p99 %.2f p99.9 %.2f max %.2f mean %.2f\n",
	       pct(per, nper, 0.5), pct(per, nper, 0.99), pct(per, nper, 0.999), per[nper - 1], mean);
	printf("bench_engine: engine wall ns/msg per chunk (TSC, includes preemption): p50 %.2f p99 %.2f p99.9 %.2f max %.2f mean %.2f\n",
	       pct(wall, nper, 0.5), pct(wall, nper, 0.99), pct(wall, nper, 0.999), wall[nper - 1], wmean);
	const struct fh_book_stats *bs = fh_book_stats(book);
	printf("bench_engine: book: crossed %llu locked %llu orphans %llu orders_full %llu levels_full %llu\n",
	       (unsigned long long)bs->crossed, (unsigned long long)bs->locked,
	       (unsigned long long)fh_book_orphans(book), (unsigned long long)bs->orders_full,
	       (unsigned long long)bs->levels_full);
	printf("bench_engine: decode + book (+ collecting events) %.2f ns/msg, for comparison\n", db);
	printf("RESULT engine_ns_per_msg %.2f ns\n", pct(per, nper, 0.5));
	printf("RESULT engine_ns_per_msg_p99 %.2f ns\n", pct(per, nper, 0.99));
	printf("RESULT engine_wall_ns_per_msg %.2f ns\n", pct(wall, nper, 0.5));

	fh_book_destroy(book);
	free(emem);
	free(buf);
	free(per);
	free(wall);
	free(day);
	return 0;
}
