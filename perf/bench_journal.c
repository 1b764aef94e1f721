/* SPDX-License-Identifier: MIT */
/* bench_journal.c: capture journal: write throughput to disk, producer push cost, and its share of an RX decode loop. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fh_itch.h"
#include "fh_journal.h"
#include "fh_mold.h"
#include "fh_pcap.h"
#include "fh_pkt.h"
#include "fh_sim.h"
#include "fh_time.h"

/*
 * Figures:
 *   journal_mb_per_s     pcap MB/s written from a producer thread pushing a
 *                        simulated MoldUDP64 session's frames as fast as the
 *                        rings take them to a journal thread (CPU 1) writing
 *                        with io_uring, until close() has the file on disk
 *                        (O_DIRECT when the directory's file system takes it;
 *                        also buffered, for comparison)
 *   journal_push_ns      producer-side cost of one fh_journal_push(), p50/p99/
 *                        p99.9/max (rdtsc around each push)
 *   journal_rx_cost_pct  extra time of an RX decode loop (frame checks +
 *                        MoldUDP64 + ITCH decode, no book: a lower bound of
 *                        the RX work, so an upper bound of the share) when
 *                        every frame is also pushed to the journal, a journal
 *                        thread writing to disk meanwhile
 * Usage: bench_journal [DIR [MB]]  (default /tmp, 1024 MB)
 */

struct frame {
	const uint8_t *p;
	uint32_t len;
	uint64_t ts;
};

static struct frame *g_frames;
static size_t g_nframes;
static uint8_t *g_cap;

static void pin(int cpu)
{
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(cpu % (int)sysconf(_SC_NPROCESSORS_ONLN), &s);
	pthread_setaffinity_np(pthread_self(), sizeof(s), &s);
}

static int load_session(const char *dir)
{
	char path[512];
	struct fh_sim_cfg sc = fh_sim_cfg_default();
	struct fh_sim_pcap_cfg pc;
	struct fh_pcap p;
	struct fh_pcap_rec r;
	struct stat sb;

	snprintf(path, sizeof(path), "%s/bench-journal-src-%d.pcap", dir, (int)getpid());
	sc.seed = 3;
	sc.messages = 2000000;
	sc.symbols = 2000;
	fh_sim_pcap_cfg_default(&pc);
	pc.heartbeat_ns = 0;
	pc.bundle_ns = 0; /* MTU-filled packets, as at the open */
	if (fh_sim_write_pcap_path(&sc, &pc, path, NULL) < 0 || stat(path, &sb) != 0)
		return -1;
	g_cap = malloc((size_t)sb.st_size);
	g_frames = malloc(sizeof(*g_frames) * ((size_t)sb.st_size / 60 + 1));
	if (!g_cap || !g_frames || fh_pcap_open(&p, path, 0) < 0)
		return -1;
	size_t off = 0;
	while (fh_pcap_next(&p, &r) > 0) {
		memcpy(g_cap + off, r.data, r.caplen);
		g_frames[g_nframes++] = (struct frame){ g_cap + off, r.caplen, r.ts_ns };
		off += r.caplen;
	}
	fh_pcap_close(&p);
	unlink(path);
	return 0;
}

/* ---- journal thread ---- */
static volatile int g_stop;
static void *journal_thread(void *arg)
{
	struct fh_journal *j = arg;
	pin(1);
	while (!__atomic_load_n(&g_stop, __ATOMIC_ACQUIRE))
		if (!fh_journal_do_work(j, 0))
			usleep(20); /* a shared 2-CPU box: do not spin against the producer */
	return NULL;
}

static struct fh_journal *start(const char *dir, enum fh_journal_direct d, uint32_t slots, pthread_t *t)
{
	char err[256];
	struct fh_journal_cfg c = { 0 };
	c.dir = dir;
	c.prefix = "bench-journal";
	c.ring_slots = slots;
	c.snaplen = 1600;
	c.buf_bytes = 4u << 20;
	c.rotate_bytes = 512ull << 20;
	c.direct = d;
	struct fh_journal *j = fh_journal_create(&c, err, sizeof(err));
	if (!j) {
		fprintf(stderr, "bench_journal: %s\n", err);
		exit(1);
	}
	g_stop = 0;
	pthread_create(t, NULL, journal_thread, j);
	return j;
}

static void finish(struct fh_journal *j, pthread_t t, struct fh_journal_stats *st)
{
	/* let the journal thread drain what was pushed, then close from here */
	struct fh_journal_ring *r = fh_journal_ring(j, 0);
	while (__atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) != r->head)
		sched_yield();
	__atomic_store_n(&g_stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	fh_journal_stats(j, st);
	int rc = fh_journal_close(j);
	if (rc < 0) {
		fprintf(stderr, "bench_journal: close: %s\n", strerror(-rc));
		exit(1);
	}
}

static void cleanup(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -f '%s'/bench-journal-*.pcap", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_journal: could not remove %s/bench-journal-*.pcap\n", dir);
}

static double throughput(const char *dir, enum fh_journal_direct d, uint64_t mb, bool *direct)
{
	pthread_t t;
	struct fh_journal_stats st;
	uint64_t want = mb << 20, bytes = 0, refused = 0;
	uint64_t t0 = fh_clock_ns(CLOCK_MONOTONIC);
	struct fh_journal *j = start(dir, d, 16384, &t);
	struct fh_journal_ring *r = fh_journal_ring(j, 0);

	for (size_t i = 0; bytes < want; i = (i + 1) % g_nframes) {
		while (fh_journal_push(r, g_frames[i].p, g_frames[i].len, g_frames[i].ts) == -ENOBUFS)
			refused++;
		bytes += 16 + g_frames[i].len;
	}
	finish(j, t, &st);
	double s = (double)(fh_clock_ns(CLOCK_MONOTONIC) - t0) / 1e9;
	double mbs = (double)st.bytes / 1e6 / s;
	*direct = st.direct;
	printf("  %-9s %s: %.0f MB in %.2f s = %.0f MB/s, %" PRIu64 " packets, %" PRIu64
	       " writes, %" PRIu64 " files, buffer waits %" PRIu64 ", ring-full retries %" PRIu64 "\n",
	       d == FH_JOURNAL_DIRECT_OFF ? "buffered" : (st.direct ? "O_DIRECT" : "fallback"), dir,
	       (double)st.bytes / 1e6, s, mbs, st.packets, st.writes, st.files, st.buffer_waits, refused);
	cleanup(dir);
	return mbs;
}

/* One pass of the RX decode loop over the session; optionally journaling each frame. */
static uint64_t g_rx_drops;
static uint32_t g_rx_slots = 16384; /* 27 MB: holds a burst while the disk catches up */
static uint64_t rx_pass(struct fh_journal_ring *r, uint32_t *lat, size_t *nlat, size_t cap)
{
	static const struct fh_pkt_filter any = { 0 };
	static struct fh_mold m;
	static struct fh_itch_decoder dec;
	struct fh_pkt_udp u;
	struct fh_mold_rx mr;
	struct fh_event ev[FH_ITCH_MAX_EVENTS];
	uint64_t events = 0;

	fh_mold_init(&m, 0, NULL);
	fh_itch_decoder_init(&dec, 0, 0, NULL);
	for (size_t i = 0; i < g_nframes; i++) {
		const struct frame *f = &g_frames[i];
		if (r) {
			/* as an RX core: a full ring drops (counted), never waits */
			uint64_t a = fh_rdtsc();
			g_rx_drops += fh_journal_push(r, f->p, f->len, f->ts) == -ENOBUFS;
			uint64_t b = fh_rdtsc();
			if (*nlat < cap)
				lat[(*nlat)++] = (uint32_t)(b - a);
		}
		if (fh_pkt_parse(FH_PKT_LINK_ETHERNET, f->p, f->len, &any, &u) != FH_PKT_OK)
			continue;
		if (fh_mold_rx(&m, 0, u.payload, u.len, f->ts, &mr) < 0)
			continue;
		const uint8_t *cur = mr.next;
		for (unsigned k = 0; k < mr.n; k++) {
			size_t len;
			const uint8_t *msg = fh_mold_next_msg(&cur, &len);
			int n = fh_itch_decode(&dec, msg, len, mr.first_seq + k, f->ts, ev);
			events += n > 0 ? (uint64_t)n : 0;
		}
	}
	return events;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	uint64_t mb = argc > 2 ? strtoull(argv[2], NULL, 10) : 1024;
	bool direct = false, dummy;

	fh_tsc_calibrate(100);
	pin(0);
	if (load_session(dir) < 0) {
		fprintf(stderr, "bench_journal: cannot build the session in %s\n", dir);
		return 1;
	}
	uint64_t cap_bytes = 0;
	for (size_t i = 0; i < g_nframes; i++)
		cap_bytes += g_frames[i].len;
	printf("bench_journal: %zu frames (%.1f MB, mean %.0f B) of a simulated session, CPUs %ld, dir %s\n",
	       g_nframes, (double)cap_bytes / 1e6, (double)cap_bytes / (double)g_nframes,
	       sysconf(_SC_NPROCESSORS_ONLN), dir);

	/* 1. throughput, 3 runs each, median */
	double d[3], b[3];
	for (int k = 0; k < 3; k++)
		d[k] = throughput(dir, FH_JOURNAL_DIRECT_AUTO, mb, &direct);
	for (int k = 0; k < 3; k++)
		b[k] = throughput(dir, FH_JOURNAL_DIRECT_OFF, mb, &dummy);
	for (int x = 0; x < 3; x++)
		for (int y = x + 1; y < 3; y++) {
			if (d[y] < d[x]) { double t = d[x]; d[x] = d[y]; d[y] = t; }
			if (b[y] < b[x]) { double t = b[x]; b[x] = b[y]; b[y] = t; }
		}
	printf("RESULT journal_mb_per_s %.0f MB/s (%s, median of 3; min %.0f max %.0f)\n", d[1],
	       direct ? "O_DIRECT" : "buffered fallback", d[0], d[2]);
	printf("RESULT journal_buffered_mb_per_s %.0f MB/s (page cache, median of 3)\n", b[1]);

	/* 2. RX decode loop with and without journaling, 5 passes each, alternated */
	size_t cap = g_nframes * 5, nlat = 0;
	uint32_t *lat = malloc(cap * sizeof(*lat));
	double base[5], with[5];
	pthread_t t;
	struct fh_journal_stats st;
	for (int k = 0; k < 5; k++) {
		/* the RX thread's own CPU time: what journaling takes from an RX core */
		uint64_t t0 = fh_clock_ns(CLOCK_THREAD_CPUTIME_ID);
		rx_pass(NULL, NULL, &nlat, 0);
		base[k] = (double)(fh_clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0);
		struct fh_journal *j = start(dir, FH_JOURNAL_DIRECT_AUTO, g_rx_slots, &t);
		t0 = fh_clock_ns(CLOCK_THREAD_CPUTIME_ID);
		rx_pass(fh_journal_ring(j, 0), lat, &nlat, cap);
		with[k] = (double)(fh_clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0);
		finish(j, t, &st);
		cleanup(dir);
	}
	for (int x = 0; x < 5; x++)
		for (int y = x + 1; y < 5; y++) {
			if (base[y] < base[x]) { double v = base[x]; base[x] = base[y]; base[y] = v; }
			if (with[y] < with[x]) { double v = with[x]; with[x] = with[y]; with[y] = v; }
		}
	printf("  rx decode loop, RX thread CPU time: %.1f ns/frame without, %.1f ns/frame with the journal (medians of 5); %" PRIu64 " of %zu pushes refused (ring full)\n",
	       base[2] / (double)g_nframes, with[2] / (double)g_nframes, g_rx_drops, g_nframes * 5);
	printf("RESULT journal_rx_cost_pct %.1f %% (decode-only RX loop; fastest runs %.1f %%)\n",
	       (with[2] - base[2]) / base[2] * 100.0, (with[0] - base[0]) / base[0] * 100.0);
	qsort(lat, nlat, sizeof(*lat), cmp_u32);
	if (nlat) {
		double tpn = (double)fh_tsc_clock.hz / 1e9;
		printf("RESULT journal_push_ns p50 %.0f p99 %.0f p99.9 %.0f max %.0f (%zu pushes)\n",
		       lat[nlat / 2] / tpn, lat[nlat * 99 / 100] / tpn, lat[nlat * 999 / 1000] / tpn,
		       lat[nlat - 1] / tpn, nlat);
	}
	free(lat);
	free(g_frames);
	free(g_cap);
	return 0;
}
