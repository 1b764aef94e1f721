/* SPDX-License-Identifier: MIT */
/* bench_rx: one RX core (RX + decode + book + engine + ring) through DPDK net_null, net_pcap, and a 20x open burst. */
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>

#include "fh_dpdk.h"
#include "fh_engine.h"
#include "fh_hdr.h"
#include "fh_pcap.h"
#include "fh_rx.h"
#include "fh_time.h"

/*
 * Figures:
 *   rx_null_mpps        packets/s a core takes from net_null (RX, frame
 *                       checks; the frames are not IPv4, so this is the
 *                       driver + parse ceiling)
 *   rx_pcap_msgs_per_s  ITCH messages/s through RX + decode + book + engine
 *                       + SPSC ring, from net_pcap (infinite_rx) replaying a
 *                       simulated MTU-filled session; a second thread drains
 *                       the ring as the publisher would
 *   rx_burst20x_drops   the open at 20x: 19 000 messages arriving evenly in
 *                       1 ms (19 M msg/s). Each packet's service time is
 *                       measured; a single-server queue in front of a
 *                       1024-descriptor RX ring counts the packets that would
 *                       find the ring full (drops) and the deepest backlog.
 * Usage: bench_rx [--seconds S] [--messages N]  (FH_BUILD locates fh-sim)
 */

#define RING_DESC 1024
#define OPEN_MSGS 19000
#define OPEN_NS 1000000ull

static volatile int drain_stop;

static void *drain(void *arg)
{
	struct fh_spsc *r = arg;
	struct fh_event ev[256];
	cpu_set_t cs;

	/* The EAL pinned the main thread (the RX core) to CPU 0; the drain
	 * thread, as the publisher core, takes the last CPU. */
	CPU_ZERO(&cs);
	CPU_SET(sysconf(_SC_NPROCESSORS_ONLN) - 1, &cs);
	pthread_setaffinity_np(pthread_self(), sizeof(cs), &cs);
	while (!drain_stop)
		fh_spsc_dequeue_burst(r, ev, 256);
	while (fh_spsc_dequeue_burst(r, ev, 256))
		;
	return NULL;
}

/* Telemetry as fh wires it: per-stage latency into HDR histograms. */
static struct fh_hdr *lat_h[FH_RX_STAGE__COUNT];

static void lat_rec(void *arg, unsigned stage, uint64_t ticks, uint64_t n)
{
	(void)arg;
	(void)n;
	fh_hdr_record(lat_h[stage], (int64_t)fh_tsc_to_ns(ticks));
}

static struct fh_rx_core *make_core(struct fh_dpdk_port *port, uint64_t frames,
				    const struct fh_engine_cfg *ecfg)
{
	char err[256];
	struct fh_rx_chan_cfg cc = {
		.name = "bench", .kind = FH_RX_DPDK, .port = port, .n_lines = 1,
		.expected_frames = frames, .loop = frames != 0, .pace = FH_RX_PACE_NONE,
		.book = { .max_orders = 4u << 20, .max_instruments = 16384,
			  .max_levels = 1u << 20, .depth = 10 },
	};
	struct fh_rx_core_cfg rc = { .n_chans = 1, .chans = &cc, .engine = ecfg,
				     .ring_capacity = 1u << 16, .numa_socket = -1 };
	struct fh_rx_core *c = fh_rx_core_create(&rc, err, sizeof(err));
	if (!c)
		fprintf(stderr, "bench_rx: %s\n", err);
	return c;
}

static double run_for(struct fh_rx_core *c, double seconds, uint64_t *frames, uint64_t *msgs)
{
	uint64_t t0 = fh_clock_ns(CLOCK_MONOTONIC), end = t0 + (uint64_t)(seconds * 1e9), now;
	unsigned k = 0;
	do {
		for (k = 0; k < 64; k++)
			fh_rx_do_work(c);
		now = fh_clock_ns(CLOCK_MONOTONIC);
	} while (now < end);
	*frames = c->chans[0].st.frames;
	*msgs = c->chans[0].st.messages;
	return (double)(now - t0) / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	double seconds = 3;
	unsigned long messages = 2000000;
	char err[256], path[256], cmd[1024], vdev[512];
	const char *build = getenv("FH_BUILD") ? getenv("FH_BUILD") : "build";

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--messages") && i + 1 < argc)
			messages = strtoul(argv[++i], NULL, 10);
	}
	fh_tsc_calibrate(100);
	snprintf(path, sizeof(path), "/tmp/fh-bench-rx-%d.pcap", (int)getpid());
	snprintf(cmd, sizeof(cmd),
		 "%s/fh-sim --seed 5 --messages %lu --symbols 8700 --bundle-us 0 --heartbeat-ms 0 --pcap %s >/dev/null",
		 build, messages, path);
	if (system(cmd) != 0) {
		fprintf(stderr, "bench_rx: %s failed\n", cmd);
		return 1;
	}
	/* Frames of the capture, in memory, for the burst model. */
	struct fh_pcap pc;
	struct fh_pcap_rec rec;
	if (fh_pcap_open(&pc, path, 0) < 0)
		return 1;
	uint64_t nframes = 0;
	size_t cap = 1 << 16;
	uint8_t **fr = malloc(cap * sizeof(*fr));
	uint32_t *fl = malloc(cap * sizeof(*fl));
	while (fh_pcap_next(&pc, &rec) > 0) {
		if (nframes == cap) {
			cap *= 2;
			fr = realloc(fr, cap * sizeof(*fr));
			fl = realloc(fl, cap * sizeof(*fl));
		}
		fr[nframes] = malloc(rec.caplen);
		memcpy(fr[nframes], rec.data, rec.caplen);
		fl[nframes++] = rec.caplen;
	}
	fh_pcap_close(&pc);

	snprintf(vdev, sizeof(vdev), "--vdev=net_pcap0,rx_pcap=%s,infinite_rx=1", path);
	char a0[] = "bench_rx", a1[] = "--no-huge", a2[] = "--no-pci", a3[] = "--no-shconf",
	     a4[] = "-m", a5[] = "1024", a6[] = "-l", a7[] = "0", a8[] = "--log-level=lib.*:error",
	     a9[] = "--vdev=net_null0,size=128";
	char *eal[] = { a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, vdev, NULL };
	if (fh_dpdk_eal_init(11, eal, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_rx: %s\n", err);
		return 1;
	}
	struct fh_engine_cfg ecfg;
	fh_engine_cfg_default(&ecfg);
	ecfg.max_instruments = 16384;
	ecfg.n_sources = 1;
	ecfg.source_ids[0] = 0;

	struct fh_dpdk_port pnull, ppcap;
	struct fh_dpdk_port_cfg nc = { .dev = "net_null0", .socket = -1, .mbufs = 8191, .rx_desc = RING_DESC };
	struct fh_dpdk_port_cfg pcfg = { .dev = "net_pcap0", .socket = -1,
					 .mbufs = (uint32_t)nframes + 8192, .rx_desc = RING_DESC };
	if (fh_dpdk_port_open(&pnull, &nc, err, sizeof(err)) < 0 ||
	    fh_dpdk_port_open(&ppcap, &pcfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_rx: %s\n", err);
		return 1;
	}
	printf("bench_rx: %" PRIu64 " frames, %lu messages in the capture; %.1f s per run\n",
	       nframes, messages, seconds);

	/* 1. net_null: 5 runs, median. */
	double mpps[5];
	for (int r = 0; r < 5; r++) {
		struct fh_rx_core *c = make_core(&pnull, 0, NULL);
		pthread_t th;
		drain_stop = 0;
		pthread_create(&th, NULL, drain, c->ring);
		uint64_t f, m;
		double el = run_for(c, seconds / 3, &f, &m);
		drain_stop = 1;
		pthread_join(th, NULL);
		mpps[r] = (double)f / el / 1e6;
		fh_rx_core_destroy(c);
	}
	qsort(mpps, 5, sizeof(double), cmp_d);
	printf("net_null: %.2f Mpps median (min %.2f, max %.2f)\n", mpps[2], mpps[0], mpps[4]);

	/* 2. net_pcap infinite_rx: decode + book + engine + ring; runs
	 * alternate without (even) and with (odd) the telemetry hooks. */
	struct fh_hdr_cfg hc = { .lowest = 1, .highest = 3600000000000LL, .sigfigs = 3 };
	for (unsigned st = 0; st < FH_RX_STAGE__COUNT; st++)
		lat_h[st] = fh_hdr_create(&hc);
	double mps[5], mps_tel[5];
	uint64_t lost = 0;
	for (int r = 0; r < 10; r++) {
		struct fh_rx_core *c = make_core(&ppcap, nframes, &ecfg);
		if (r & 1) {
			c->lat_fn = lat_rec;
			c->lat_arg = NULL;
		}
		pthread_t th;
		drain_stop = 0;
		pthread_create(&th, NULL, drain, c->ring);
		uint64_t f, m;
		double el = run_for(c, seconds, &f, &m);
		drain_stop = 1;
		pthread_join(th, NULL);
		if (r & 1)
			mps_tel[r / 2] = (double)m / el;
		else
			mps[r / 2] = (double)m / el;
		lost += c->chans[0].mold.gaps_count + fh_rx_chan_rejects(&c->chans[0]);
		/* net_pcap goes on where this run stopped: skip to the start of
		 * the capture so the next core's passes line up with it. */
		uint64_t taken = c->chans[0].pass_frames + c->chans[0].pend_n - c->chans[0].pend_pos;
		uint64_t rest = (nframes - taken % nframes) % nframes;
		while (rest) {
			struct rte_mbuf *b[FH_DPDK_BURST];
			uint16_t n = fh_dpdk_rx_burst(&ppcap, 0, b, rest < FH_DPDK_BURST ? (uint16_t)rest : FH_DPDK_BURST);
			rte_pktmbuf_free_bulk(b, n);
			rest -= n;
		}
		fh_rx_core_destroy(c);
	}
	qsort(mps, 5, sizeof(double), cmp_d);
	qsort(mps_tel, 5, sizeof(double), cmp_d);
	double overhead = (mps[2] - mps_tel[2]) / mps[2] * 100.0;
	printf("net_pcap: %.2f M msg/s median (min %.2f, max %.2f), gaps+rejects %" PRIu64 "\n",
	       mps[2] / 1e6, mps[0] / 1e6, mps[4] / 1e6, lost);
	printf("net_pcap with telemetry: %.2f M msg/s median (min %.2f, max %.2f): overhead %.1f %%\n",
	       mps_tel[2] / 1e6, mps_tel[0] / 1e6, mps_tel[4] / 1e6, overhead);
	int64_t pv[4];
	static const double pct[4] = { 50.0, 99.0, 99.9, 100.0 };
	fh_hdr_values_at_percentiles(lat_h[FH_RX_STAGE_RING], pct, pv, 4);
	printf("RX -> ring per burst (telemetry runs): p50 %" PRId64 " p99 %" PRId64 " p99.9 %" PRId64 " max %" PRId64 " ns\n",
	       pv[0], pv[1], pv[2], pv[3]);

	/* 3. The open at 20x through a queue in front of a RING_DESC ring. */
	struct fh_rx_core *c = make_core(&ppcap, 0, &ecfg);
	pthread_t th;
	drain_stop = 0;
	pthread_create(&th, NULL, drain, c->ring);
	/* warm the book with the first pass, as the day before the open would */
	uint64_t warm = nframes / 2, first = warm, msgs = 0, last = first;
	for (uint64_t i = 0; i < warm; i++)
		fh_rx_frame(c, &c->chans[0], fr[i], fl[i], 0);
	fh_rx_flush(c);
	uint64_t m0 = c->chans[0].st.messages;
	while (last < nframes && c->chans[0].st.messages - m0 < OPEN_MSGS) {
		fh_rx_frame(c, &c->chans[0], fr[last], fl[last], 0);
		last++;
	}
	msgs = c->chans[0].st.messages - m0;
	uint64_t npk = last - first;
	/* replay the same packets against a fresh core for timing */
	fh_rx_flush(c);
	drain_stop = 1;
	pthread_join(th, NULL);
	fh_rx_core_destroy(c);
	c = make_core(&ppcap, 0, &ecfg);
	drain_stop = 0;
	pthread_create(&th, NULL, drain, c->ring);
	for (uint64_t i = 0; i < warm; i++)
		fh_rx_frame(c, &c->chans[0], fr[i], fl[i], 0);
	fh_rx_flush(c);
	double *svc = malloc(npk * sizeof(double));
	for (uint64_t i = 0; i < npk; i++) {
		uint64_t t0 = fh_rdtsc();
		fh_rx_frame(c, &c->chans[0], fr[first + i], fl[first + i], 0);
		fh_rx_flush(c);
		svc[i] = (double)fh_tsc_to_ns(fh_rdtsc() - t0);
	}
	drain_stop = 1;
	pthread_join(th, NULL);
	/* single-server queue: arrivals evenly over OPEN_NS */
	double dt = (double)OPEN_NS / (double)npk, done_prev = 0, max_backlog = 0, busy = 0;
	uint64_t drops = 0;
	double *done = malloc(npk * sizeof(double));
	uint64_t head = 0; /* oldest packet not yet done at the current arrival */
	for (uint64_t i = 0; i < npk; i++) {
		double arr = (double)i * dt;
		while (head < i && done[head] <= arr)
			head++;
		double backlog = (double)(i - head);
		if (backlog >= RING_DESC) {
			drops++;
			done[i] = done_prev;
			continue;
		}
		if (backlog > max_backlog)
			max_backlog = backlog;
		double start = arr > done_prev ? arr : done_prev;
		done[i] = start + svc[i];
		done_prev = done[i];
		busy += svc[i];
	}
	double burst_rate = (double)msgs / (busy / 1e9);
	printf("20x open: %" PRIu64 " messages in %" PRIu64 " packets over 1 ms; served in %.0f us (%.1f M msg/s); deepest backlog %.0f packets of %d; drops %" PRIu64 "; last done at %.0f us\n",
	       msgs, npk, busy / 1e3, burst_rate / 1e6, max_backlog, RING_DESC, drops,
	       done_prev / 1e3);
	fh_rx_core_destroy(c);

	printf("RESULT rx_null_mpps %.2f Mpps\n", mpps[2]);
	printf("RESULT rx_pcap_msgs_per_s %.0f msg/s\n", mps[2]);
	printf("RESULT rx_burst20x_drops %" PRIu64 " packets\n", drops);
	printf("RESULT rx_burst20x_backlog_max %.0f packets\n", max_backlog);
	printf("RESULT telemetry_overhead_pct %.1f %%\n", overhead);
	fh_dpdk_port_close(&pnull);
	fh_dpdk_port_close(&ppcap);
	unlink(path);
	rte_eal_cleanup();
	return 0;
}
