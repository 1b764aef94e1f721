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
 * Phase 1 (throughput): the writer (this process) writes N events in bursts
 * of 32 as fast as it can while R reader processes (fork) poll the ring;
 * each reader reports how many it read and how many it lost to laps.
 * Phase 2 (latency): the writer publishes one event every `gap` ns (burst of
 * 1, so pub_tsc is the event's own write time); each reader records
 * rdtsc() - pub_tsc on arrival into a 1 ns histogram.
 * Usage: bench_shm [events] [readers] [latency_events] [gap_ns] [ring_slots]
 */

#define HIST 65536

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
				uint64_t ns = fh_sub_tsc_to_ns(s, fh_sub_tsc() - m.pub_tsc);
				if (ns < HIST)
					r->hist[ns]++;
				else
					r->over++;
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
	for (int i = 0; i < nr; i++) {
		for (int k = 0; k < HIST; k++)
			n += r[i].hist[k];
		n += r[i].over;
	}
	uint64_t want = (uint64_t)((double)n * p / 100.0);
	for (int k = 0; k < HIST; k++) {
		for (int i = 0; i < nr; i++)
			acc += r[i].hist[k];
		if (acc > want)
			return (uint64_t)k;
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

	/* Phase 1: throughput */
	struct reader_res *r = start_readers(nr, false);
	for (int i = 0; i < 32; i++) {
		fh_event_init(&b[i], FH_EV_TRADE);
		b[i].instrument = (uint32_t)i;
	}
	uint64_t t0 = fh_rdtsc();
	for (uint64_t i = 0; i < n; i += 32) {
		b[0].seq = i;
		fh_shm_write_burst(w, b, 32, t0);
		fh_shm_commit(w);
	}
	uint64_t t1 = fh_rdtsc();
	end_marker(w);
	wait_readers(nr);
	double secs = (double)fh_tsc_to_ns(t1 - t0) / 1e9;
	double rate = (double)n / secs;
	for (int i = 0; i < nr; i++)
		printf("  reader %d: read %" PRIu64 " (%.1f%%), lost %" PRIu64 " in %" PRIu64 " laps\n", i,
		       r[i].events, 100.0 * (double)r[i].events / (double)n, r[i].lost, r[i].laps);
	printf("RESULT shm_events_per_s %.0f events/s (%" PRIu64 " events, %.1f ns/event, %d readers attached)\n",
	       rate, n, secs * 1e9 / (double)n, nr);
	munmap(r, sizeof(*r) * (size_t)nr);

	/* Phase 2: latency, paced */
	r = start_readers(nr, true);
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
	wait_readers(nr);
	uint64_t lost = 0, got = 0;
	for (int i = 0; i < nr; i++) {
		lost += r[i].lost;
		got += r[i].events;
	}
	printf("  latency: %" PRIu64 " events, one every %" PRIu64 " ns, %d readers: read %" PRIu64 ", lost %" PRIu64 "\n",
	       nl, gap, nr, got, lost);
	printf("  write-to-read ns: p50 %" PRIu64 " p90 %" PRIu64 " p99 %" PRIu64 " p99.9 %" PRIu64 " p99.99 %" PRIu64 " max %" PRIu64 "\n",
	       pct(r, nr, 50), pct(r, nr, 90), pct(r, nr, 99), pct(r, nr, 99.9), pct(r, nr, 99.99),
	       pct(r, nr, 100));
	printf("RESULT shm_p50_ns %" PRIu64 " ns\n", pct(r, nr, 50));
	printf("RESULT shm_p99_ns %" PRIu64 " ns\n", pct(r, nr, 99));
	printf("RESULT shm_p999_ns %" PRIu64 " ns\n", pct(r, nr, 99.9));
	munmap(r, sizeof(*r) * (size_t)nr);
	fh_shm_destroy(w, true);
	return 0;
}
