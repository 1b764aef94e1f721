/* SPDX-License-Identifier: MIT */
/* bench_e2e: RX -> visible in the shm ring during the open replayed at 20x, RX core and publisher on pinned cores. */
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>

#include "fh_dpdk.h"
#include "fh_engine.h"
#include "fh_hdr.h"
#include "fh_pcap.h"
#include "fh_publisher.h"
#include "fh_rx.h"
#include "fh_simcap.h"
#include "fh_time.h"

/*
 * The session: fh-sim's deterministic day (MTU-filled MoldUDP64 packets,
 * 8 700 symbols). Everything before 09:30 goes through the RX core
 * unpaced and unmeasured (the books are warm at the open, as they would
 * be). From the open on, the packets are released paced: bursts of
 * --msgs-per-ms messages (default 19 000: the open's peak millisecond at
 * 20x, the same model as bench_rx) spread evenly over 1 ms, --bursts of
 * them, --gap-ms apart (the core drains what it could not keep up with).
 *
 * The RX core is this thread, pinned to --rx-cpu (default 1): it takes
 * each packet at its release time, runs MoldUDP64 + ITCH decode + book +
 * engine (default rules) and flushes the events into its SPSC ring as
 * fh's RX core does, sampling one packet in --lat-every for the latency
 * probes (feed/fh_rx.c). The publisher thread, pinned to --pub-cpu
 * (default 0), spins on fh_pub_do_work() into a real shm ring
 * (/dev/shm) and records FH_PUB_STAGE_SHM for each probe right after the
 * head publication that made the probed packet's events visible. No
 * reader process: the stage is measured at the publisher.
 *
 * Runs (each a fresh core, publisher and shm ring):
 *   open20x        probe start = the packet's scheduled release time
 *                  (coordinated-omission-aware: time queued behind a busy
 *                  core counts): the headline e2e_* figures;
 *   open20x_pickup probe start = when the RX core takes the packet (the
 *                  RX-burst timestamp of a live NIC without hardware
 *                  timestamps): the pipeline itself, queueing excluded;
 *   open2x         --msgs-per-ms / 10, scheduled release: a rate the core
 *                  keeps up with.
 * With --kafka the first run also publishes to the in-process mock
 * cluster and reports FH_PUB_STAGE_KAFKA (RX -> acknowledged).
 *
 * --max-payload B caps the UDP payload (fh-sim's option; default 1400,
 * MTU-filled): smaller packets show the per-packet part of the latency.
 *
 * Usage: bench_e2e [--messages N] [--bursts B] [--gap-ms G] [--msgs-per-ms M]
 *                  [--lat-every L] [--rx-cpu C] [--pub-cpu C] [--max-payload B] [--kafka]
 *        (FH_BUILD locates fh-sim)
 */

#define OPEN_TOD_NS (34200ull * 1000000000ull) /* 09:30 */

struct pub_thread {
	struct fh_pub *pub;
	int cpu;
	volatile int stop;
	volatile int mark;        /* set by the RX thread when the measured part starts */
	uint64_t cpu_ns, wall_ns; /* publisher CPU and wall time over the measured part */
};

static struct fh_hdr *h_stage[FH_PUB_STAGE__COUNT];

/* Publisher thread (SHM) and Kafka thread (KAFKA): each stage has its
 * own histogram, so no two threads record into one. */
static void lat_rec(void *arg, unsigned stage, uint16_t source_id, uint64_t ticks)
{
	(void)arg;
	(void)source_id;
	if (stage < FH_PUB_STAGE__COUNT)
		fh_hdr_record(h_stage[stage], (int64_t)fh_tsc_to_ns(ticks));
}

static void pin(int cpu)
{
	cpu_set_t cs;
	CPU_ZERO(&cs);
	CPU_SET(cpu, &cs);
	pthread_setaffinity_np(pthread_self(), sizeof(cs), &cs);
}

static void *pub_main(void *arg)
{
	struct pub_thread *pt = arg;
	uint64_t c0 = 0, w0 = 0;
	bool marked = false;
	pin(pt->cpu);
	while (!pt->stop) {
		fh_pub_do_work(pt->pub);
		if (fh_unlikely(!marked && pt->mark)) {
			marked = true;
			c0 = fh_clock_ns(CLOCK_THREAD_CPUTIME_ID);
			w0 = fh_clock_ns(CLOCK_MONOTONIC);
		}
	}
	pt->cpu_ns = fh_clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
	pt->wall_ns = fh_clock_ns(CLOCK_MONOTONIC) - w0;
	while (fh_pub_do_work(pt->pub))
		;
	return NULL;
}

static struct fh_rx_core *make_core(struct fh_dpdk_port *port, const struct fh_engine_cfg *ecfg)
{
	char err[256];
	struct fh_rx_chan_cfg cc = {
		.name = "e2e", .kind = FH_RX_DPDK, .port = port, .n_lines = 1,
		.pace = FH_RX_PACE_NONE,
		.book = { .max_orders = 4u << 20, .max_instruments = 16384,
			  .max_levels = 1u << 20, .depth = 10 },
	};
	struct fh_rx_core_cfg rc = { .n_chans = 1, .chans = &cc, .engine = ecfg,
				     .ring_capacity = 1u << 16, .numa_socket = -1 };
	struct fh_rx_core *c = fh_rx_core_create(&rc, err, sizeof(err));
	if (!c)
		fprintf(stderr, "bench_e2e: %s\n", err);
	return c;
}

static void wait_drained(struct fh_rx_core *c)
{
	while (fh_spsc_count(c->ring))
		__builtin_ia32_pause();
}

struct run_result {
	int64_t pct[6]; /* p50 p90 p99 p99.9 p99.99 max */
	int64_t low[3]; /* min p1 p10 */
	double mean;
	int64_t count;
	uint64_t packets, msgs, late_max_ns;
	int64_t kpct[6];
	int64_t kcount;
};

static const double PCT[6] = { 50.0, 90.0, 99.0, 99.9, 99.99, 100.0 };

static int run(const char *label, struct fh_dpdk_port *port, const struct fh_engine_cfg *ecfg,
	       const struct fh_simcap_frame *fr, uint64_t nframes, uint64_t open, unsigned bursts,
	       unsigned gap_ms, unsigned msgs_per_ms, unsigned lat_every, bool sched,
	       int pub_cpu, bool kafka, struct run_result *res)
{
	char err[512], shm_name[64];
	struct fh_rx_core *c = make_core(port, ecfg);
	if (!c)
		return -1;
	c->lat_every = lat_every;
	snprintf(shm_name, sizeof(shm_name), "fh-bench-e2e-%d", (int)getpid());
	struct fh_shm_cfg sc = { .name = shm_name, .capacity = 1u << 18 };
	struct fh_kafka_cfg kc = { .linger_ms = 1, .partitions = 3 };
	struct fh_probe_ring *probes[1] = { &c->probes };
	struct fh_pub_cfg pcfg = { .rings = &c->ring, .n_rings = 1, .shm = &sc,
				   .kafka = kafka ? &kc : NULL, .heartbeat_ms = 1000,
				   .kafka_cpu = pub_cpu, .probes = probes, .lat_fn = lat_rec,
				   .source_id = 64 };
	struct pub_thread pt = { .cpu = pub_cpu };
	pt.pub = fh_pub_create(&pcfg, err, sizeof(err));
	if (!pt.pub) {
		fprintf(stderr, "bench_e2e: %s\n", err);
		fh_rx_core_destroy(c);
		return -1;
	}
	pthread_t th;
	pthread_create(&th, NULL, pub_main, &pt);
	struct fh_rx_chan *ch = &c->chans[0];

	/* warm: the day up to the open, unmeasured (burst_tsc 0: no probes) */
	c->burst_tsc = 0;
	for (uint64_t i = 0; i < open; i++) {
		fh_rx_frame(c, ch, fr[i].data, fr[i].len, fr[i].ts_ns);
		fh_rx_flush(c);
	}
	wait_drained(c);
	usleep(20000);
	for (unsigned s = 0; s < FH_PUB_STAGE__COUNT; s++)
		fh_hdr_reset(h_stage[s]);

	uint64_t i = open, ms_ticks = (uint64_t)(fh_tsc_clock.hz / 1e3);
	memset(res, 0, sizeof(*res));
	pt.mark = 1;
	uint64_t rx_c0 = fh_clock_ns(CLOCK_THREAD_CPUTIME_ID), rx_w0 = fh_clock_ns(CLOCK_MONOTONIC);
	for (unsigned b = 0; b < bursts && i < nframes; b++) {
		uint64_t first = i, msgs = 0;
		while (i < nframes && msgs < msgs_per_ms)
			msgs += fr[i++].msgs;
		uint64_t npk = i - first;
		double dt = (double)ms_ticks / (double)npk;
		uint64_t t0 = fh_rdtsc() + ms_ticks / 10;
		for (uint64_t k = 0; k < npk; k++) {
			uint64_t due = t0 + (uint64_t)((double)k * dt), now;
			while ((now = fh_rdtsc()) < due)
				__builtin_ia32_pause();
			if (now - due > res->late_max_ns)
				res->late_max_ns = now - due;
			/* the probe's start: the release time, or the pick-up */
			c->burst_tsc = sched ? due : now;
			fh_rx_frame(c, ch, fr[first + k].data, fr[first + k].len, fr[first + k].ts_ns);
			fh_rx_flush(c);
		}
		res->packets += npk;
		res->msgs += msgs;
		uint64_t end = t0 + (uint64_t)(1 + gap_ms) * ms_ticks;
		while (fh_rdtsc() < end)
			__builtin_ia32_pause();
	}
	res->late_max_ns = fh_tsc_to_ns(res->late_max_ns);
	wait_drained(c);
	double rx_oncpu = (double)(fh_clock_ns(CLOCK_THREAD_CPUTIME_ID) - rx_c0) /
			  (double)(fh_clock_ns(CLOCK_MONOTONIC) - rx_w0);
	usleep(kafka ? 300000 : 20000);
	pt.stop = 1;
	pthread_join(th, NULL);
	struct fh_pub_stats st;
	fh_pub_close(pt.pub, 5000, true, &st);
	double pub_oncpu = pt.wall_ns ? (double)pt.cpu_ns / (double)pt.wall_ns : 0;
	if (kafka) {
		/* the last delivery reports arrive during the close's flush */
		fh_hdr_values_at_percentiles(h_stage[FH_PUB_STAGE_KAFKA], PCT, res->kpct, 6);
		res->kcount = st.kafka.lat_probes;
	}
	fh_hdr_values_at_percentiles(h_stage[FH_PUB_STAGE_SHM], PCT, res->pct, 6);
	res->mean = fh_hdr_mean(h_stage[FH_PUB_STAGE_SHM]);
	static const double LOW[3] = { 0.0, 1.0, 10.0 };
	fh_hdr_values_at_percentiles(h_stage[FH_PUB_STAGE_SHM], LOW, res->low, 3);
	res->count = (int64_t)st.lat_probes_shm;
	printf("%-15s %" PRIu64 " packets, %" PRIu64 " messages in %u bursts of 1 ms; probes %" PRId64
	       " (RX probe ring dropped %" PRIu64 ", lost %" PRIu64 "); worst release lateness %" PRIu64
	       " ns; RX waited on a full ring %" PRIu64 " times\n",
	       label, res->packets, res->msgs, bursts, res->count, c->probes.dropped,
	       st.lat_probes_lost, res->late_max_ns, c->ring_full_spins);
	printf("%-15s RX -> visible in shm (ns): min %" PRId64 " p1 %" PRId64 " p10 %" PRId64
	       " p50 %" PRId64 " p90 %" PRId64 " p99 %" PRId64
	       " p99.9 %" PRId64 " p99.99 %" PRId64 " max %" PRId64 " mean %.0f\n",
	       label, res->low[0], res->low[1], res->low[2], res->pct[0], res->pct[1], res->pct[2],
	       res->pct[3], res->pct[4], res->pct[5], res->mean);
	/* both threads spin: anything below 100 % is time the scheduler gave
	 * their CPU to other processes (a shared machine) */
	printf("%-15s on-CPU share of wall time: RX thread %.0f %%, publisher thread %.0f %%\n",
	       label, rx_oncpu * 100, pub_oncpu * 100);
	if (kafka)
		printf("%-15s RX -> acknowledged by Kafka (ns), %" PRId64 " probes: p50 %" PRId64
		       " p90 %" PRId64 " p99 %" PRId64 " p99.9 %" PRId64 " max %" PRId64
		       " (Kafka queue drop_oldest discarded %" PRIu64 " events, spilled %" PRIu64 ")\n",
		       label, res->kcount, res->kpct[0], res->kpct[1], res->kpct[2], res->kpct[3],
		       res->kpct[5], st.kafka_dropped, st.spilled);
	fh_rx_core_destroy(c);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long messages = 2000000;
	unsigned bursts = 40, gap_ms = 10, msgs_per_ms = 19000, lat_every = 1, max_payload = 0;
	int rx_cpu = 1, pub_cpu = 0;
	bool kafka = false;
	char err[1280], lcore[16];
	const char *build = getenv("FH_BUILD") ? getenv("FH_BUILD") : "build";

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--messages") && i + 1 < argc)
			messages = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--bursts") && i + 1 < argc)
			bursts = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--gap-ms") && i + 1 < argc)
			gap_ms = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--msgs-per-ms") && i + 1 < argc)
			msgs_per_ms = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--lat-every") && i + 1 < argc)
			lat_every = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--rx-cpu") && i + 1 < argc)
			rx_cpu = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--pub-cpu") && i + 1 < argc)
			pub_cpu = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--max-payload") && i + 1 < argc)
			max_payload = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--kafka"))
			kafka = true;
		else {
			fprintf(stderr, "usage: bench_e2e [--messages N] [--bursts B] [--gap-ms G] "
					"[--msgs-per-ms M] [--lat-every L] [--rx-cpu C] [--pub-cpu C] [--max-payload B] [--kafka]\n");
			return 2;
		}
	}
	if (!lat_every || (lat_every & (lat_every - 1)) || !msgs_per_ms) {
		fprintf(stderr, "bench_e2e: --lat-every must be a power of two, --msgs-per-ms > 0\n");
		return 2;
	}
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (rx_cpu >= ncpu)
		rx_cpu = (int)ncpu - 1;
	if (pub_cpu >= ncpu)
		pub_cpu = 0;
	fh_tsc_calibrate(100);
	struct fh_simcap sim;
	if (fh_simcap_load_payload(&sim, build, 5, messages, 8700, max_payload, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_e2e: %s\n", err);
		return 1;
	}
	const struct fh_simcap_frame *fr = sim.f;
	uint64_t nframes = sim.n, open = UINT64_MAX;
	for (uint64_t i = 0; i < nframes && open == UINT64_MAX; i++)
		if (fr[i].ts_ns % 86400000000000ull >= OPEN_TOD_NS)
			open = i;
	if (open == UINT64_MAX) {
		fprintf(stderr, "bench_e2e: no frame at or after 09:30 in the session\n");
		return 1;
	}

	snprintf(lcore, sizeof(lcore), "%d", rx_cpu);
	char a0[] = "bench_e2e", a1[] = "--no-huge", a2[] = "--no-pci", a3[] = "--no-shconf",
	     a4[] = "-m", a5[] = "256", a6[] = "-l", a8[] = "--log-level=lib.*:error",
	     a9[] = "--vdev=net_null0,size=128";
	char *eal[] = { a0, a1, a2, a3, a4, a5, a6, lcore, a8, a9, NULL };
	if (fh_dpdk_eal_init(10, eal, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_e2e: %s\n", err);
		return 1;
	}
	pin(rx_cpu);
	struct fh_dpdk_port port;
	struct fh_dpdk_port_cfg nc = { .dev = "net_null0", .socket = -1, .mbufs = 8191, .rx_desc = 1024 };
	if (fh_dpdk_port_open(&port, &nc, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_e2e: %s\n", err);
		return 1;
	}
	struct fh_engine_cfg ecfg;
	fh_engine_cfg_default(&ecfg);
	ecfg.max_instruments = 16384;
	ecfg.n_sources = 1;
	ecfg.source_ids[0] = 0;
	struct fh_hdr_cfg hc = { .lowest = 1, .highest = 3600000000000LL, .sigfigs = 3 };
	for (unsigned s = 0; s < FH_PUB_STAGE__COUNT; s++)
		h_stage[s] = fh_hdr_create(&hc);

	uint64_t warm_msgs = 0;
	for (uint64_t i = 0; i < open; i++)
		warm_msgs += fr[i].msgs;
	printf("bench_e2e: %" PRIu64 " frames (%.1f messages per frame); %" PRIu64 " frames (%" PRIu64
	       " messages) before the open warm the books; RX core CPU %d, publisher CPU %d, "
	       "probe 1 packet in %u; TSC %.3f GHz\n",
	       nframes, (double)sim.msgs / (double)(nframes ? nframes : 1), open, warm_msgs, rx_cpu,
	       pub_cpu, lat_every, fh_tsc_clock.hz / 1e9);

	struct run_result r20, r20p, r2;
	if (run("open20x", &port, &ecfg, fr, nframes, open, bursts, gap_ms, msgs_per_ms, lat_every,
		true, pub_cpu, kafka, &r20) ||
	    run("open20x_pickup", &port, &ecfg, fr, nframes, open, bursts, gap_ms, msgs_per_ms,
		lat_every, false, pub_cpu, false, &r20p) ||
	    run("open2x", &port, &ecfg, fr, nframes, open, bursts, gap_ms, msgs_per_ms / 10,
		lat_every, true, pub_cpu, false, &r2))
		return 1;

	printf("RESULT e2e_p50_ns %" PRId64 " ns\n", r20.pct[0]);
	printf("RESULT e2e_p90_ns %" PRId64 " ns\n", r20.pct[1]);
	printf("RESULT e2e_p99_ns %" PRId64 " ns\n", r20.pct[2]);
	printf("RESULT e2e_p999_ns %" PRId64 " ns\n", r20.pct[3]);
	printf("RESULT e2e_p9999_ns %" PRId64 " ns\n", r20.pct[4]);
	printf("RESULT e2e_max_ns %" PRId64 " ns\n", r20.pct[5]);
	printf("RESULT e2e_pickup_p50_ns %" PRId64 " ns\n", r20p.pct[0]);
	printf("RESULT e2e_pickup_p99_ns %" PRId64 " ns\n", r20p.pct[2]);
	printf("RESULT e2e_pickup_p999_ns %" PRId64 " ns\n", r20p.pct[3]);
	printf("RESULT e2e_pickup_max_ns %" PRId64 " ns\n", r20p.pct[5]);
	printf("RESULT e2e_2x_p50_ns %" PRId64 " ns\n", r2.pct[0]);
	printf("RESULT e2e_2x_p99_ns %" PRId64 " ns\n", r2.pct[2]);
	printf("RESULT e2e_2x_p999_ns %" PRId64 " ns\n", r2.pct[3]);
	printf("RESULT e2e_2x_max_ns %" PRId64 " ns\n", r2.pct[5]);
	if (kafka) {
		printf("RESULT e2e_kafka_p50_ns %" PRId64 " ns\n", r20.kpct[0]);
		printf("RESULT e2e_kafka_p99_ns %" PRId64 " ns\n", r20.kpct[2]);
	}
	for (unsigned s = 0; s < FH_PUB_STAGE__COUNT; s++)
		fh_hdr_destroy(h_stage[s]);
	fh_simcap_free(&sim);
	fh_dpdk_port_close(&port);
	rte_eal_cleanup();
	return 0;
}
