/* SPDX-License-Identifier: MIT */
/* bench_shm.c: shm broadcast ring: write rate with reader processes attached, and write-to-read latency. */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fh_shm.h"
#include "fh_sub.h"
#include "fh_time.h"

/*
 * Phase 1 (throughput): the writer (this process, CPU 0) writes N events in
 * bursts of 32 as fast as it can with 0, 1 and R reader processes (fork,
 * pinned to CPU 1, 2, ... modulo the CPU count) polling the ring; each
 * reader reports how many it read and how many it lost to laps.
 * Phase 2 (latency): the writer publishes one event every `gap` ns (burst of
 * 1, so pub_tsc is the event's own write time); each reader records
 * rdtsc() - pub_tsc on arrival (1 ns buckets below 4 us, then 1/256 of a
 * power of two). 1 reader, then R readers.
 * Usage: bench_shm [events] [readers] [latency_events] [gap_ns] [ring_slots]
 */

/* latency histogram: exact below 4096 ns, then 256 sub-buckets per power of two */
#define HIST (4096 + 52 * 256)

static unsigned bucket(uint64_t v)
{
	if (v < 4096)
		return (unsigned)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v);
	unsigned b = 4096 + (msb - 12) * 256 + (unsigned)((v >> (msb - 8)) & 255);
	return b < HIST ? b : HIST - 1;
}

static uint64_t bucket_value(unsigned b)
{
	if (b < 4096)
		return b;
	unsigned msb = (b - 4096) / 256 + 12, sub = (b - 4096) % 256;
	return (1ull << msb) | ((uint64_t)sub << (msb - 8));
}

struct reader_res {
	uint64_t events, lost, laps, over, max;
	int ready, done;
	uint64_t hist[HIST];
};

static char name[64];
static int ncpu;

static void pin(int cpu)
{
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(cpu % ncpu, &s);
	sched_setaffinity(0, sizeof(s), &s);
}

static void reader(struct reader_res *r, int cpu, bool latency)
{
	/* the benchmark writer refreshes no heartbeat: only the end marker stops us */
	struct fh_sub_opts o = { .start = FH_SUB_START_NEXT, .check_every = 1u << 20,
				 .writer_timeout_ms = 3600000 };
	struct fh_sub *s = fh_sub_open(name, &o);
	struct fh_sub_msg m;
	if (!s)
		_exit(1);
	pin(cpu);
	__atomic_store_n(&r->ready, 1, __ATOMIC_RELEASE);
	for (;;) {
		int st = fh_sub_poll(s, &m);
		if (st == FH_SUB_EVENT) {
			if (latency) {
				/* TSCs of two vCPUs may differ by a few ticks: a read
				 * "before" its write is counted as 0, not wrapped */
				uint64_t now = fh_sub_tsc();
				uint64_t ns = now > m.pub_tsc ? fh_sub_tsc_to_ns(s, now - m.pub_tsc) : 0;
				r->hist[bucket(ns)]++;
				if (ns > r->max)
					r->max = ns;
			}
			if (m.ev.type == FH_EV_SYSTEM)
				break; /* end marker */
			r->events++;
		} else if (st == FH_SUB_LAPPED) {
			r->lost += m.lost;
			r->laps++;
		} else if (st == FH_SUB_WRITER_GONE) {
			break;
		}
	}
	fh_sub_close(s);
	_exit(0);
}

static uint64_t pct(const struct reader_res *r, int nr, double p)
{
	uint64_t n = 0, acc = 0;
	for (int i = 0; i < nr; i++)
		for (unsigned k = 0; k < HIST; k++)
			n += r[i].hist[k];
	uint64_t want = (uint64_t)((double)n * p / 100.0);
	for (unsigned k = 0; k < HIST; k++) {
		for (int i = 0; i < nr; i++)
			acc += r[i].hist[k];
		if (acc > want)
			return bucket_value(k);
	}
	uint64_t mx = 0;
	for (int i = 0; i < nr; i++)
		mx = r[i].max > mx ? r[i].max : mx;
	return mx;
}

static struct reader_res *start_readers(int nr, bool latency)
{
	struct reader_res *r = mmap(NULL, sizeof(*r) * (size_t)nr, PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		exit(1);
	for (int i = 0; i < nr; i++)
		if (fork() == 0)
			reader(&r[i], 1 + i, latency);
	for (int i = 0; i < nr; i++)
		while (!__atomic_load_n(&r[i].ready, __ATOMIC_ACQUIRE))
			usleep(1000);
	usleep(20000);
	return r;
}

static void end_marker(struct fh_shm *w)
{
	struct fh_event ev;
	fh_event_init(&ev, FH_EV_SYSTEM);
	ev.u.system.code = 'C';
	fh_shm_write_burst(w, &ev, 1, fh_rdtsc());
	fh_shm_commit(w);
}

static void wait_readers(int nr)
{
	for (int i = 0; i < nr; i++)
		wait(NULL);
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 50000000ull;
	int nr = argc > 2 ? atoi(argv[2]) : 2;
	uint64_t nl = argc > 3 ? strtoull(argv[3], NULL, 0) : 1000000ull;
	uint64_t gap = argc > 4 ? strtoull(argv[4], NULL, 0) : 500;
	uint64_t slots = argc > 5 ? strtoull(argv[5], NULL, 0) : 1u << 15;
	struct fh_event b[32];

	ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	snprintf(name, sizeof(name), "fh-bench-shm-%d", (int)getpid());
	fh_tsc_calibrate(50);
	struct fh_shm_cfg cfg = { .name = name, .capacity = slots };
	struct fh_shm *w = fh_shm_create(&cfg);
	if (!w) {
		fprintf(stderr, "bench_shm: %s\n", strerror(errno));
		return 1;
	}
	pin(0);
	printf("bench_shm: %d CPUs, writer on CPU 0, %d reader processes on CPU 1..%d (mod %d), ring %" PRIu64 " slots\n",
	       ncpu, nr, nr, ncpu, slots);

	for (int i = 0; i < 32; i++) {
		fh_event_init(&b[i], FH_EV_TRADE);
		b[i].instrument = (uint32_t)i;
	}
	/* Phase 1: throughput with 0, 1 and nr readers attached */
	int counts[3] = { 0, 1, nr };
	for (int c = 0; c < 3; c++) {
		if (c == 2 && nr == 1)
			break;
		int k = counts[c];
		struct reader_res *r = k ? start_readers(k, false) : NULL;
		uint64_t c0 = fh_clock_ns(CLOCK_THREAD_CPUTIME_ID);
		uint64_t t0 = fh_rdtsc();
		for (uint64_t i = 0; i < n; i += 32) {
			b[0].seq = i;
			fh_shm_write_burst(w, b, 32, t0);
			fh_shm_commit(w);
		}
		uint64_t t1 = fh_rdtsc();
		uint64_t c1 = fh_clock_ns(CLOCK_THREAD_CPUTIME_ID);
		end_marker(w);
		wait_readers(k);
		double secs = (double)fh_tsc_to_ns(t1 - t0) / 1e9, cpu = (double)(c1 - c0) / 1e9;
		/* on a shared machine the writer is preempted: its own CPU time
		 * shows what the ring costs, wall time what it got */
		printf("  %d readers: writer %.1f M events/s wall (%.2f ns/event), %.1f M events per CPU-second (%.2f ns)\n",
		       k, (double)n / secs / 1e6, secs * 1e9 / (double)n, (double)n / cpu / 1e6, cpu * 1e9 / (double)n);
		for (int i = 0; i < k; i++)
			printf("    reader %d: read %" PRIu64 " (%.1f%%), lost %" PRIu64 " in %" PRIu64 " laps\n", i,
			       r[i].events, 100.0 * (double)r[i].events / (double)n, r[i].lost, r[i].laps);
		if (k == nr)
			printf("RESULT shm_events_per_s %.0f events/s (%" PRIu64 " events, %d reader processes attached)\n",
			       (double)n / secs, n, nr);
		else if (k == 0)
			printf("RESULT shm_events_per_s_noreaders %.0f events/s\n", (double)n / secs);
		if (k == nr)
			printf("RESULT shm_events_per_cpu_s %.0f events per writer CPU-second\n", (double)n / cpu);
		if (r)
			munmap(r, sizeof(*r) * (size_t)k);
	}

	/* Phase 2: latency, paced, with 1 then nr readers */
	for (int c = 0; c < 2; c++) {
		int k = c ? nr : 1;
		if (c && nr == 1)
			break;
		struct reader_res *r = start_readers(k, true);
		uint64_t gap_ticks = (uint64_t)((double)gap * fh_tsc_clock.hz / 1e9);
		uint64_t next = fh_rdtsc();
		for (uint64_t i = 0; i < nl; i++) {
			while (fh_rdtsc() < next)
				;
			b[0].seq = i;
			fh_shm_write_burst(w, b, 1, fh_rdtsc());
			fh_shm_commit(w);
			next += gap_ticks;
		}
		end_marker(w);
		wait_readers(k);
		uint64_t lost = 0, got = 0;
		for (int i = 0; i < k; i++) {
			lost += r[i].lost;
			got += r[i].events;
		}
		printf("  latency, %d readers: %" PRIu64 " events, one every %" PRIu64 " ns: read %" PRIu64 ", lost %" PRIu64 "\n",
		       k, nl, gap, got, lost);
		printf("    write-to-read ns: min %" PRIu64 " p1 %" PRIu64 " p10 %" PRIu64 " p50 %" PRIu64 " p90 %" PRIu64
		       " p99 %" PRIu64 " p99.9 %" PRIu64 " max %" PRIu64 "\n",
		       pct(r, k, 0), pct(r, k, 1), pct(r, k, 10), pct(r, k, 50), pct(r, k, 90), pct(r, k, 99),
		       pct(r, k, 99.9), pct(r, k, 100));
		const char *sfx = k == nr ? "" : "_1reader";
		printf("RESULT shm_p50_ns%s %" PRIu64 " ns\n", sfx, pct(r, k, 50));
		printf("RESULT shm_p99_ns%s %" PRIu64 " ns\n", sfx, pct(r, k, 99));
		printf("RESULT shm_p999_ns%s %" PRIu64 " ns\n", sfx, pct(r, k, 99.9));
		munmap(r, sizeof(*r) * (size_t)k);
	}
	fh_shm_destroy(w, true);
	return 0;
}
