/* SPDX-License-Identifier: MIT */
/* bench_book.c: ITCH decode + L2 book, one core, over a simulated full day (>= 100 M messages). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "fh_book.h"
#include "fh_hdr.h"
#include "fh_itch.h"
#include "fh_sim.h"
#include "fh_time.h"

/*
 * The simulator (tools/fh_sim.h) generates a trading day with a real day's
 * shape (8700 instruments, Zipf activity, ~1.6 M live orders at the peak for
 * 100 M messages) into a memory chunk (day-file framing); the timed loop
 * then walks the chunk as a pipeline: decode runs AHEAD1 events ahead of
 * the book, with a two-stage prefetch (order slot and book line when
 * decoded, the top of the side AHEAD2 events before apply). Generation is
 * not timed (it runs between chunks).
 *
 * Pass 1, throughput: the TSC is read once per WINDOW messages; the
 * headline itch_book_ns_per_msg is the median over windows of ns/message
 * (also the mean over the whole day).
 * Pass 2, latency: the same day again (book reset, same seed) through the
 * same pipeline, every message's decode and apply timed (two TSC pairs)
 * into an HDR histogram: p50 / p99 / p99.9 / max. They include the cost of
 * the TSC reads themselves (~2 x 16 ns on the machine of perf/RESULTS.md).
 *
 * Pass 0 (--baseline): the same pipeline without the book (decode, ring,
 * prefetch skipped), for the book's marginal cost on the same machine state.
 *
 * Usage: bench_book [--messages N] [--symbols K] [--seed S] [--peak-live N]
 *                   [--no-latency] [--baseline]
 * FH_BENCH_MESSAGES sets the default size (else 100 M).
 */

#define WINDOW 65536
#define AHEAD1 16 /* events between decode (+ first prefetch) and apply */
#define AHEAD2 6  /* events between the level prefetch and apply */
#define RING 32
#define CHUNK_BYTES (64u << 20)

static struct fh_event ring[RING] FH_CACHE_ALIGNED;
static struct fh_event out[FH_BOOK_MAX_OUT] FH_CACHE_ALIGNED;

static uint64_t sink; /* keeps the compiler from discarding the output */
static bool decode_only; /* baseline pass: the same loop without the book */

/* A count with an optional k / M / G suffix. */
static uint64_t count_arg(const char *v)
{
	char *end;
	uint64_t x = strtoull(v, &end, 0);
	if (*end == 'k' || *end == 'K')
		x *= 1000;
	else if (*end == 'm' || *end == 'M')
		x *= 1000000;
	else if (*end == 'g' || *end == 'G')
		x *= 1000000000;
	return x;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static uint64_t status_kb(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long v = 0;
	size_t kl = strlen(key);
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && sscanf(line + kl, ": %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

/*
 * Decodes and applies one chunk as a software pipeline: the decoder runs
 * AHEAD1 events ahead of the book; fh_book_prefetch() is issued as an event
 * is decoded, fh_book_prefetch_levels() AHEAD2 events before it is applied.
 * Returns the messages; every WINDOW messages adds a ns/msg sample.
 */
static __attribute__((noinline)) uint64_t run_chunk(struct fh_book *b, struct fh_itch_decoder *d, const uint8_t *buf,
			  size_t len, uint64_t *seq, double *win, size_t *nwin, size_t maxwin,
			  uint64_t *win_start_tsc, uint64_t *win_msgs)
{
	size_t off = 0;
	uint64_t msgs = 0;
	unsigned head = 0, tail = 0;
	struct fh_event tmp[FH_ITCH_MAX_EVENTS];

	for (;;) {
		while (head - tail < AHEAD1 && off + 2 <= len) {
			size_t ml = ((size_t)buf[off] << 8) | buf[off + 1];
			int n = fh_itch_decode(d, buf + off + 2, ml, ++*seq, 0, tmp);
			for (int k = 0; k < n; k++) {
				struct fh_event *e = &ring[head++ & (RING - 1)];
				*e = tmp[k];
				fh_book_prefetch(b, e);
			}
			off += 2 + ml;
			msgs++;
			if (++*win_msgs >= WINDOW) {
				uint64_t now = fh_rdtsc();
				if (*nwin < maxwin)
					win[(*nwin)++] = (double)fh_tsc_to_ns(now - *win_start_tsc) /
							 (double)*win_msgs;
				*win_start_tsc = now;
				*win_msgs = 0;
			}
		}
		if (tail == head)
			break;
		if (fh_unlikely(decode_only)) {
			sink += ring[tail++ & (RING - 1)].type;
			continue;
		}
		if (head - tail > AHEAD2)
			fh_book_prefetch_levels(b, &ring[(tail + AHEAD2) & (RING - 1)]);
		int n = fh_book_apply(b, &ring[tail++ & (RING - 1)], out);
		sink += (unsigned)n + out[0].type;
	}
	return msgs;
}

/*
 * The same pipeline, each message timed: its decode (TSC pair at decode) plus
 * its apply (TSC pair at apply, prefetched like pass 1), recorded when its
 * last event is applied. Two TSC pairs (~2 x 16 ns here) are included.
 */
static __attribute__((noinline)) uint64_t run_chunk_latency(struct fh_book *b,
							    struct fh_itch_decoder *d,
							    const uint8_t *buf, size_t len,
							    uint64_t *seq, struct fh_hdr *h)
{
	static uint64_t acc[RING]; /* ticks so far of the message whose event sits there */
	static uint8_t last[RING]; /* that event is its message's last */
	size_t off = 0;
	uint64_t msgs = 0;
	unsigned head = 0, tail = 0;
	struct fh_event tmp[FH_ITCH_MAX_EVENTS];

	for (;;) {
		while (head - tail < AHEAD1 && off + 2 <= len) {
			size_t ml = ((size_t)buf[off] << 8) | buf[off + 1];
			uint64_t t0 = fh_rdtsc();
			int n = fh_itch_decode(d, buf + off + 2, ml, ++*seq, 0, tmp);
			uint64_t dt = fh_rdtsc() - t0;
			for (int k = 0; k < n; k++) {
				unsigned slot = head++ & (RING - 1);
				ring[slot] = tmp[k];
				acc[slot] = k == 0 ? dt : 0;
				last[slot] = k == n - 1;
				fh_book_prefetch(b, &ring[slot]);
			}
			off += 2 + ml;
			msgs++;
		}
		if (tail == head)
			break;
		if (head - tail > AHEAD2)
			fh_book_prefetch_levels(b, &ring[(tail + AHEAD2) & (RING - 1)]);
		unsigned slot = tail++ & (RING - 1);
		uint64_t t0 = fh_rdtsc();
		sink += (unsigned)fh_book_apply(b, &ring[slot], out);
		uint64_t dt = fh_rdtsc() - t0;
		if (last[slot])
			fh_hdr_record(h, (int64_t)fh_tsc_to_ns(acc[slot] + dt));
		else
			acc[(slot + 1) & (RING - 1)] += acc[slot] + dt;
	}
	return msgs;
}

int main(int argc, char **argv)
{
	struct fh_sim_cfg sc = fh_sim_cfg_default();
	const char *env = getenv("FH_BENCH_MESSAGES");
	bool latency = true, baseline = false;
	sc.messages = env ? count_arg(env) : 100000000ull;
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(argv[i], "--messages") && v) {
			sc.messages = count_arg(v);
			i++;
		} else if (!strcmp(argv[i], "--symbols") && v) {
			sc.symbols = (uint32_t)strtoul(v, NULL, 0);
			i++;
		} else if (!strcmp(argv[i], "--seed") && v) {
			sc.seed = strtoull(v, NULL, 0);
			i++;
		} else if (!strcmp(argv[i], "--peak-live") && v) {
			sc.peak_live = (uint32_t)count_arg(v);
			i++;
		} else if (!strcmp(argv[i], "--no-latency")) {
			latency = false;
		} else if (!strcmp(argv[i], "--baseline")) {
			baseline = true;
		} else {
			fprintf(stderr, "usage: bench_book [--messages N] [--symbols K] [--seed S] "
					"[--peak-live N] [--no-latency] [--baseline]\n");
			return 2;
		}
	}
	fh_tsc_calibrate(100);

	uint8_t *chunk = mmap(NULL, CHUNK_BYTES, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (chunk == MAP_FAILED) {
		perror("bench_book: mmap");
		return 1;
	}
	uint64_t rss_before_book = status_kb("VmRSS");
	struct fh_book_config cfg;
	struct fh_book *b;
	char err[256];
	fh_book_config_default(&cfg);
	if (fh_book_create(&cfg, &b, err, sizeof(err))) {
		fprintf(stderr, "bench_book: %s\n", err);
		return 1;
	}
	uint64_t book_rss_kb = status_kb("VmRSS") - rss_before_book;

	size_t maxwin = (size_t)(sc.messages / WINDOW) + 16;
	double *win = calloc(maxwin, sizeof(*win));
	struct fh_hdr *h = fh_hdr_create(NULL);
	if (!win || !h) {
		fprintf(stderr, "bench_book: out of memory\n");
		return 1;
	}

	struct fh_sim *sim;
	struct fh_itch_decoder d;
	uint64_t seq = 0, msgs = 0, ticks = 0, win_msgs = 0, win_start, cpu_ns = 0;
	size_t nwin = 0, len;
	if (baseline) {
		decode_only = true;
		sim = fh_sim_create(&sc);
		if (!sim) {
			fprintf(stderr, "bench_book: simulator: %s\n", strerror(errno));
			return 1;
		}
		fh_itch_decoder_init(&d, 1, 0, NULL);
		while ((len = fh_sim_fill(sim, chunk, CHUNK_BYTES)) > 0) {
			uint64_t c0 = fh_clock_ns(CLOCK_THREAD_CPUTIME_ID);
			win_start = fh_rdtsc();
			msgs += run_chunk(b, &d, chunk, len, &seq, win, &nwin, maxwin, &win_start,
					  &win_msgs);
			cpu_ns += fh_clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
		}
		fh_sim_destroy(sim);
		qsort(win, nwin, sizeof(*win), cmp_double);
		printf("bench_book: baseline without the book: %.2f ns/msg median, %.2f ns/msg CPU\n",
		       nwin ? win[nwin / 2] : 0, msgs ? (double)cpu_ns / (double)msgs : 0);
		printf("RESULT itch_decode_only_ns_per_msg %.2f ns\n", nwin ? win[nwin / 2] : 0);
		printf("RESULT itch_decode_only_cpu_ns_per_msg %.2f ns\n",
		       msgs ? (double)cpu_ns / (double)msgs : 0);
		decode_only = false;
		seq = msgs = cpu_ns = 0;
		nwin = 0;
		win_msgs = 0;
	}

	/* pass 1: throughput */
	sim = fh_sim_create(&sc);
	if (!sim) {
		fprintf(stderr, "bench_book: simulator: %s\n", strerror(errno));
		return 1;
	}
	fh_itch_decoder_init(&d, 1, 0, NULL);
	while ((len = fh_sim_fill(sim, chunk, CHUNK_BYTES)) > 0) {
		win_start = fh_rdtsc();
		win_msgs = 0;
		uint64_t t0 = win_start, c0 = fh_clock_ns(CLOCK_THREAD_CPUTIME_ID);
		msgs += run_chunk(b, &d, chunk, len, &seq, win, &nwin, maxwin, &win_start,
				  &win_msgs);
		ticks += fh_rdtsc() - t0;
		cpu_ns += fh_clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
	}
	struct fh_sim_stats ss;
	fh_sim_get_stats(sim, &ss);
	fh_sim_destroy(sim);
	const struct fh_book_stats *st = fh_book_stats(b);
	uint32_t active = 0;
	for (uint32_t id = 0; id < fh_book_max_instruments(b); id++)
		active += fh_book_symbol(b, id)[0] != 0;
	qsort(win, nwin, sizeof(*win), cmp_double);
	double med = nwin ? win[nwin / 2] : 0;
	double mean = msgs ? (double)fh_tsc_to_ns(ticks) / (double)msgs : 0;
	printf("bench_book: %" PRIu64 " messages, %u named instruments, peak %" PRIu64
	       " live orders (simulator %" PRIu64 "), peak %" PRIu64 " levels, orphans %" PRIu64
	       ", integrity warnings %" PRIu64 "\n",
	       msgs, active, st->peak_orders, ss.peak_live_orders, st->peak_levels,
	       fh_book_orphans(b), fh_book_integrity_warnings(b));
	printf("bench_book: throughput %.2f ns/msg median over %zu windows of %d messages "
	       "(p10 %.2f, p90 %.2f, max %.2f), mean %.2f ns/msg = %.1f M msg/s; "
	       "%" PRIu64 " L2 updates, %" PRIu64 " BBO, %" PRIu64 " trades\n",
	       med, nwin, WINDOW, nwin ? win[nwin / 10] : 0, nwin ? win[nwin * 9 / 10] : 0,
	       nwin ? win[nwin - 1] : 0, mean, mean > 0 ? 1e3 / mean : 0, st->l2_updates,
	       st->bbo_updates, st->trades);
	printf("RESULT itch_book_ns_per_msg %.2f ns\n", med);
	printf("RESULT itch_book_mean_ns_per_msg %.2f ns\n", mean);
	/* CPU time of this thread only: what the shared machine's other work did not steal */
	printf("RESULT itch_book_cpu_ns_per_msg %.2f ns\n", msgs ? (double)cpu_ns / (double)msgs : 0);
	printf("RESULT itch_book_msgs_per_sec %.2f M/s\n", mean > 0 ? 1e3 / mean : 0);

	if (latency) {
		/* pass 2: the same day, each message timed alone */
		fh_book_reset(b);
		sim = fh_sim_create(&sc);
		fh_itch_decoder_init(&d, 1, 0, NULL);
		seq = 0;
		uint64_t lat_msgs = 0;
		while ((len = fh_sim_fill(sim, chunk, CHUNK_BYTES)) > 0)
			lat_msgs += run_chunk_latency(b, &d, chunk, len, &seq, h);
		fh_sim_destroy(sim);
		uint64_t t0 = fh_rdtsc(), t1 = fh_rdtsc();
		double ps[] = { 50.0, 99.0, 99.9, 99.99 };
		int64_t v[4];
		fh_hdr_values_at_percentiles(h, ps, v, 4);
		printf("bench_book: per-message latency over %" PRIu64 " messages (decode + apply, "
		       "pipelined, incl. two TSC reads of ~%" PRIu64 " ns): p50 %" PRId64 " p99 %" PRId64 " p99.9 %" PRId64
		       " p99.99 %" PRId64 " max %" PRId64 " ns\n",
		       lat_msgs, fh_tsc_to_ns(t1 - t0), v[0], v[1], v[2], v[3], h->max);
		printf("RESULT itch_book_p50_ns %" PRId64 " ns\n", v[0]);
		printf("RESULT itch_book_p99_ns %" PRId64 " ns\n", v[1]);
		printf("RESULT itch_book_p999_ns %" PRId64 " ns\n", v[2]);
		printf("RESULT itch_book_max_ns %" PRId64 " ns\n", h->max);
	}
	uint64_t hwm = status_kb("VmHWM");
	printf("bench_book: book memory %zu MiB (resident after start-up %" PRIu64
	       " MiB), process peak RSS %" PRIu64 " MiB (incl. simulator and a %u MiB input chunk)\n",
	       fh_book_memsize(&cfg) >> 20, book_rss_kb >> 10, hwm >> 10, CHUNK_BYTES >> 20);
	printf("RESULT itch_book_peak_rss_mb %" PRIu64 " MB\n", hwm >> 10);
	printf("RESULT itch_book_mem_mb %zu MB\n", fh_book_memsize(&cfg) >> 20);
	fh_hdr_destroy(h);
	free(win);
	fh_book_destroy(b);
	munmap(chunk, CHUNK_BYTES);
	return sink == 0xdeadbeef; /* never true in practice; uses the sink */
}
