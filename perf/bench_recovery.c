/* SPDX-License-Identifier: MIT */
/* bench_recovery.c: fh's RX core recovering a 10 000-message MoldUDP64 gap end to end, and the journal's cost on the full RX path. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fh_engine.h"
#include "fh_journal.h"
#include "fh_kudp.h"
#include "fh_rereq_srv.h"
#include "fh_rx.h"
#include "fh_sim.h"
#include "fh_simcap.h"
#include "fh_spsc.h"
#include "fh_time.h"

/*
 * Figures (both through feed/fh_rx.c, the code fh runs on an RX core):
 *   gap_recovery_ms      an RX core (kernel-socket channel, recovery on as
 *                        fh configures it: hold buffer, fh_rereq with 1000
 *                        messages per request, 4 in flight, 200 ms timeout,
 *                        the re-request socket) has applied the first 20 000
 *                        messages of a simulated session; the next packet
 *                        fed starts 10 000 messages later. Measured: from
 *                        that packet until the channel has applied it, i.e.
 *                        the hold for the other line (recovery.hold_ms),
 *                        the requests, fh_rereq_srv's answers over
 *                        127.0.0.1 (a second thread, same session), the
 *                        10 000 messages decoded into the book in order,
 *                        then the held packet. A publisher thread drains the
 *                        event ring. Twice: hold 1 ms (fh's default) and
 *                        10 us (the smallest it takes).
 *   journal_rx_cost_pct  fh_rx_frame() over a simulated MTU-filled session
 *                        (frame checks + MoldUDP64 + ITCH decode + book +
 *                        engine + SPSC ring) on a core with the journal
 *                        ring set (each frame copied into it; the publisher
 *                        thread drains the event rings and runs
 *                        fh_journal_do_work(), as fh's publisher core does)
 *                        against a core without, the same bursts of frames
 *                        interleaved between the two (see
 *                        bench_journal_cost); median of passes.
 * Usage: bench_recovery [--runs N] [--passes N] [--messages N] [--dir DIR]
 *                       [--skip-gap]   (FH_BUILD locates fh-sim)
 *   (DIR for the journal files, default /dev/shm: the figure is the RX
 *   core's cost, not the disk's; pushes refused by a full ring are printed)
 */

#define GAP_FIRST 20001ull
#define GAP_MSGS 10000ull
#define PRE_MSGS (GAP_FIRST - 1)
#define POST_MSGS 2000ull

static const char g_sess[10] = { 'B', 'E', 'N', 'C', 'H', 'R', 'E', 'C', '0', '1' };

struct pkt {
	uint64_t seq;
	uint16_t count;
	uint32_t len;
	uint8_t *p;
};

/* Messages [first, last] of the store as MoldUDP64 packets of <= 1400 bytes. */
static size_t packetize(const struct fh_sim_store *st, uint64_t first, uint64_t last, struct pkt *out,
			size_t cap)
{
	size_t n = 0;
	uint64_t s = first;

	while (s <= last && n < cap) {
		uint8_t *p = malloc(1400);
		uint32_t len = FH_SIM_MOLD_HDR;
		uint16_t cnt = 0;
		if (!p)
			return 0;
		while (s <= last && cnt < 0xFFFE) {
			const uint8_t *m;
			size_t ml;
			if (fh_sim_store_get(st, s, &m, &ml) != 0 || len + 2 + ml > 1400)
				break;
			p[len] = (uint8_t)(ml >> 8);
			p[len + 1] = (uint8_t)ml;
			memcpy(p + len + 2, m, ml);
			len += 2 + (uint32_t)ml;
			cnt++;
			s++;
		}
		if (!cnt) {
			free(p);
			return 0;
		}
		fh_sim_mold_header(p, g_sess, s - cnt, cnt);
		out[n++] = (struct pkt){ .seq = s - cnt, .count = cnt, .len = len, .p = p };
	}
	return n;
}

/* The publisher thread: drains the RX cores' event rings and runs the
 * journal, as fh's publisher core does. */
struct pub {
	struct fh_spsc *ring[2];
	unsigned n_rings;
	struct fh_journal *j;
	int cpu;
	volatile int stop;
};

static unsigned pub_drain(struct pub *pb, struct fh_event *ev)
{
	unsigned w = 0;

	for (unsigned i = 0; i < pb->n_rings; i++)
		w += fh_spsc_dequeue_burst(pb->ring[i], ev, 256);
	return w;
}

static void *publisher(void *arg)
{
	struct pub *pb = arg;
	struct fh_event ev[256];
	cpu_set_t cs;

	if (pb->cpu >= 0) {
		CPU_ZERO(&cs);
		CPU_SET(pb->cpu, &cs);
		pthread_setaffinity_np(pthread_self(), sizeof(cs), &cs);
	}
	while (!__atomic_load_n(&pb->stop, __ATOMIC_ACQUIRE)) {
		unsigned w = pub_drain(pb, ev);
		if (pb->j)
			w += fh_journal_do_work(pb->j, 0);
		if (!w)
			sched_yield();
	}
	while (pub_drain(pb, ev))
		;
	return NULL;
}

static volatile int g_srv_stop;
static uint64_t g_resends; /* fh_rereq resends over all runs */

static void *server(void *arg)
{
	struct fh_rereq_srv *srv = arg;
	while (!__atomic_load_n(&g_srv_stop, __ATOMIC_ACQUIRE))
		if (!fh_rereq_srv_poll(srv))
			usleep(20);
	return NULL;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void pin(int cpu)
{
	cpu_set_t cs;
	CPU_ZERO(&cs);
	CPU_SET(cpu, &cs);
	pthread_setaffinity_np(pthread_self(), sizeof(cs), &cs);
}

static int ncpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

static struct fh_rx_core *make_core(struct fh_kudp *line, const struct fh_rx_recovery_cfg *rec,
				    const struct fh_engine_cfg *ecfg, struct fh_journal_ring *jr)
{
	char err[256];
	struct fh_rx_chan_cfg cc = {
		.name = "bench", .kind = FH_RX_KUDP, .n_lines = 1, .kudp = { line },
		.pace = FH_RX_PACE_NONE,
		.book = { .max_orders = 1u << 20, .max_instruments = 16384, .max_levels = 1u << 18,
			  .depth = 10 },
	};
	if (rec)
		cc.recovery = *rec;
	struct fh_rx_core_cfg rc = { .n_chans = 1, .chans = &cc, .engine = ecfg,
				     .ring_capacity = 1u << 16, .numa_socket = -1, .journal = jr };
	struct fh_rx_core *c = fh_rx_core_create(&rc, err, sizeof(err));
	if (!c)
		fprintf(stderr, "bench_recovery: %s\n", err);
	return c;
}

/* One recovery run; the time in ms, or < 0 on failure. */
static double recover_once(struct fh_kudp *line, const struct fh_rx_recovery_cfg *rec,
			   const struct pkt *pre, size_t npre, const struct pkt *post, size_t npost,
			   uint64_t *requests)
{
	struct fh_rx_core *c = make_core(line, rec, NULL, NULL);
	if (!c)
		return -1;
	struct fh_rx_chan *ch = &c->chans[0];
	struct pub pb = { .ring = { c->ring }, .n_rings = 1, .cpu = ncpu() - 1 };
	pthread_t t;
	double ms = -1;

	pthread_create(&t, NULL, publisher, &pb);
	for (size_t i = 0; i < npre; i++)
		fh_rx_udp(c, ch, 0, pre[i].p, pre[i].len, fh_clock_ns(CLOCK_REALTIME));
	fh_rx_flush(c);
	if (ch->st.last_seq != PRE_MSGS) {
		fprintf(stderr, "bench_recovery: set-up delivered up to %" PRIu64 "\n", ch->st.last_seq);
		goto out;
	}
	uint64_t want = post[0].seq + post[0].count - 1;
	uint64_t t0 = fh_clock_ns(CLOCK_MONOTONIC), deadline = t0 + 10000000000ull, now = t0;
	fh_rx_udp(c, ch, 0, post[0].p, post[0].len, fh_clock_ns(CLOCK_REALTIME));
	while (ch->st.last_seq < want && now < deadline) {
		fh_rx_do_work(c);
		now = fh_clock_ns(CLOCK_MONOTONIC);
	}
	if (ch->st.last_seq < want) {
		fprintf(stderr, "bench_recovery: not recovered in 10 s (last %" PRIu64 ")\n",
			ch->st.last_seq);
		goto out;
	}
	ms = (double)(now - t0) / 1e6;
	/* the rest of the session goes on normally */
	for (size_t i = 1; i < npost; i++)
		fh_rx_udp(c, ch, 0, post[i].p, post[i].len, fh_clock_ns(CLOCK_REALTIME));
	fh_rx_flush(c);
	if (ch->rec->st.recovered_msgs != GAP_MSGS || ch->n_gap_log ||
	    ch->st.messages != PRE_MSGS + GAP_MSGS + POST_MSGS) {
		fprintf(stderr, "bench_recovery: recovered %" PRIu64 ", gaps %u, messages %" PRIu64 "\n",
			ch->rec->st.recovered_msgs, ch->n_gap_log, ch->st.messages);
		ms = -1;
	}
	*requests += ch->rec->st.requests;
	g_resends += ch->rec->q.st.resends;
out:
	__atomic_store_n(&pb.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	fh_rx_core_destroy(c);
	return ms;
}

static int bench_gap(int runs)
{
	struct fh_sim_cfg sc = fh_sim_cfg_default();
	char err[256];
	int rc = 1;

	sc.seed = 4;
	sc.messages = PRE_MSGS + GAP_MSGS + POST_MSGS;
	sc.symbols = 500;
	struct fh_sim_store *store = fh_sim_store_create(&sc, 1);
	if (!store) {
		fprintf(stderr, "bench_recovery: session store: %s\n", strerror(errno));
		return 1;
	}
	struct fh_rereq_srv_cfg scfg = { .store = store };
	memcpy(scfg.session, g_sess, 10);
	struct fh_rereq_srv *srv = fh_rereq_srv_create(&scfg, err, sizeof(err));
	if (!srv) {
		fprintf(stderr, "bench_recovery: %s\n", err);
		fh_sim_store_destroy(store);
		return 1;
	}
	size_t cap = 4096, npre, npost;
	struct pkt *pre = calloc(cap, sizeof(*pre)), *post = calloc(cap, sizeof(*post));
	npre = pre ? packetize(store, 1, PRE_MSGS, pre, cap) : 0;
	npost = post ? packetize(store, GAP_FIRST + GAP_MSGS, GAP_FIRST + GAP_MSGS + POST_MSGS - 1,
				 post, cap) : 0;
	struct fh_kudp line = { .fd = -1 };
	double *ms = calloc((size_t)runs, sizeof(*ms));
	pthread_t st;
	if (!npre || !npost || !ms ||
	    fh_kudp_open(&line, 0, 0, NULL, 0, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_recovery: set-up failed %s\n", line.fd < 0 ? err : "");
		goto out;
	}
	pthread_create(&st, NULL, server, srv);
	static const uint64_t holds[2] = { 1000000, 10000 };
	for (int h = 0; h < 2; h++) {
		struct fh_rx_recovery_cfg rec = {
			.enabled = true, .hold_pkts = 1024, .hold_ns = holds[h],
			.rereq_addr = INADDR_LOOPBACK, .rereq_port = fh_rereq_srv_port(srv),
			.rereq = { .max_count = 1000, .max_outstanding = 4, .max_tries = 6,
				   .timeout_ns = 200000000, .max_timeout_ns = 1000000000 },
		};
		uint64_t requests = 0;
		int ok = 0;
		for (int k = 0; k < runs; k++) {
			double v = recover_once(&line, &rec, pre, npre, post, npost, &requests);
			if (v < 0)
				break;
			ms[ok++] = v;
		}
		if (ok < runs) {
			fprintf(stderr, "bench_recovery: run %d failed\n", ok);
			break;
		}
		qsort(ms, (size_t)runs, sizeof(*ms), cmp_d);
		printf("bench_recovery: %d runs, %llu-message gap recovered through fh_rx (hold %.3f ms, "
		       "1000 per request, 4 in flight, fh_rereq_srv on 127.0.0.1), %.1f requests per run\n",
		       runs, (unsigned long long)GAP_MSGS, (double)holds[h] / 1e6,
		       (double)requests / runs);
		printf("RESULT gap_recovery_ms%s p50 %.2f p99 %.2f max %.2f min %.2f\n",
		       h ? "_hold10us" : "", ms[runs / 2], ms[(runs - 1) * 99 / 100], ms[runs - 1], ms[0]);
		if (h == 1)
			rc = 0;
	}
	__atomic_store_n(&g_srv_stop, 1, __ATOMIC_RELEASE);
	pthread_join(st, NULL);
	struct fh_rereq_srv_stats ss;
	fh_rereq_srv_stats(srv, &ss);
	printf("bench_recovery: server answered %" PRIu64 " requests, %" PRIu64 " messages, %" PRIu64
	       " send errors; fh resent %" PRIu64 " requests after a timeout\n",
	       ss.requests, ss.answered_msgs, ss.send_errors, g_resends);
out:
	if (line.fd >= 0)
		fh_kudp_close(&line);
	for (size_t i = 0; pre && i < npre; i++)
		free(pre[i].p);
	for (size_t i = 0; post && i < npost; i++)
		free(post[i].p);
	free(pre);
	free(post);
	free(ms);
	fh_rereq_srv_destroy(srv);
	fh_sim_store_destroy(store);
	return rc;
}

/* Removes the bench's journal files from dir. */
static void rm_journal(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[1024];
	size_t pl = strlen(prefix);

	if (!d)
		return;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, prefix, pl)) {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
	closedir(d);
}

#define JBATCH 32 /* frames per timed batch: one RX burst */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/*
 * Paired and interleaved, so that the machine's noise (other processes,
 * frequency, preemption) hits both variants alike: two RX cores, the same
 * frames; each burst of 32 frames goes through the core without the journal
 * and through the core with it, in alternating order, each timed with the
 * TSC. Per pass and variant the per-burst times are summed after dropping
 * bursts slower than 4x the pass's median (preempted). Passes repeat the
 * session with fresh cores.
 */
static int bench_journal_cost(int passes, unsigned long messages, const char *dir)
{
	char prefix[64], err[256];
	const char *build = getenv("FH_BUILD") ? getenv("FH_BUILD") : "build";
	struct fh_simcap sim;
	int rc = 1;

	snprintf(prefix, sizeof(prefix), "fh-bench-rec-%d", (int)getpid());
	if (fh_simcap_load(&sim, build, 5, messages, 8700, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_recovery: %s\n", err);
		return 1;
	}
	size_t n = sim.n;
	uint64_t bytes = 0;
	for (size_t i = 0; i < n; i++)
		bytes += sim.f[i].len;

	struct fh_engine_cfg ecfg;
	fh_engine_cfg_default(&ecfg);
	ecfg.max_instruments = 16384;
	ecfg.n_sources = 1;
	ecfg.source_ids[0] = 0;
	struct fh_kudp line = { .fd = -1 };
	if (fh_kudp_open(&line, 0, 0, NULL, 0, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_recovery: %s\n", err);
		goto out;
	}
	size_t nb = (n + JBATCH - 1) / JBATCH;
	uint64_t *bt[2] = { malloc(nb * sizeof(uint64_t)), malloc(nb * sizeof(uint64_t)) };
	uint64_t *srt = malloc(nb * sizeof(uint64_t));
	double *pct = calloc((size_t)passes, sizeof(double));
	double *per[2] = { calloc((size_t)passes, sizeof(double)), calloc((size_t)passes, sizeof(double)) };
	uint64_t dropped = 0, pushed = 0, jbytes = 0, slow = 0;
	bool direct = false;
	int got = 0;
	pin(0);
	for (int p = 0; p < passes && bt[0] && bt[1] && srt && pct && per[0] && per[1]; p++) {
		struct fh_journal_cfg jc = { .dir = dir, .prefix = prefix, .producers = 1,
					     .rotate_bytes = 1ull << 30, .flush_ns = 100000000 };
		struct fh_journal *j = fh_journal_create(&jc, err, sizeof(err));
		if (!j) {
			fprintf(stderr, "bench_recovery: journal: %s\n", err);
			break;
		}
		struct fh_rx_core *c[2] = { make_core(&line, NULL, &ecfg, NULL),
					    make_core(&line, NULL, &ecfg, fh_journal_ring(j, 0)) };
		if (!c[0] || !c[1]) {
			if (c[0])
				fh_rx_core_destroy(c[0]);
			if (c[1])
				fh_rx_core_destroy(c[1]);
			fh_journal_close(j);
			break;
		}
		struct pub pb = { .ring = { c[0]->ring, c[1]->ring }, .n_rings = 2, .j = j,
				   .cpu = ncpu() > 1 ? 1 : -1 };
		pthread_t t;
		pthread_create(&t, NULL, publisher, &pb);
		uint64_t ts = fh_clock_ns(CLOCK_REALTIME);
		for (size_t b = 0; b < nb; b++) {
			size_t i0 = b * JBATCH, i1 = i0 + JBATCH < n ? i0 + JBATCH : n;
			for (int k = 0; k < 2; k++) {
				int v = (int)(b & 1) ^ k; /* alternate which variant goes first */
				struct fh_rx_chan *ch = &c[v]->chans[0];
				uint64_t t0 = fh_rdtsc();
				for (size_t i = i0; i < i1; i++)
					fh_rx_frame(c[v], ch, sim.f[i].data, sim.f[i].len, ts + i);
				bt[v][b] = fh_rdtsc() - t0;
			}
		}
		fh_rx_flush(c[0]);
		fh_rx_flush(c[1]);
		__atomic_store_n(&pb.stop, 1, __ATOMIC_RELEASE);
		pthread_join(t, NULL);
		int ok = c[0]->chans[0].st.messages == messages && c[1]->chans[0].st.messages == messages;
		fh_rx_core_destroy(c[0]);
		fh_rx_core_destroy(c[1]);
		struct fh_journal_stats js;
		fh_journal_flush(j);
		fh_journal_stats(j, &js);
		dropped += js.dropped_full;
		pushed += js.pushed;
		jbytes += js.bytes;
		direct = js.direct;
		fh_journal_close(j);
		rm_journal(dir, prefix);
		if (!ok) {
			fprintf(stderr, "bench_recovery: pass %d did not deliver every message\n", p);
			break;
		}
		/* preempted bursts out (either variant's), then sums */
		uint64_t lim[2];
		for (int v = 0; v < 2; v++) {
			memcpy(srt, bt[v], nb * sizeof(uint64_t));
			qsort(srt, nb, sizeof(uint64_t), cmp_u64);
			lim[v] = srt[nb / 2] * 4;
		}
		uint64_t sum[2] = { 0, 0 }, kept = 0;
		for (size_t b = 0; b < nb; b++) {
			if (bt[0][b] > lim[0] || bt[1][b] > lim[1]) {
				slow++;
				continue;
			}
			sum[0] += bt[0][b];
			sum[1] += bt[1][b];
			kept += (b + 1) * JBATCH <= n ? JBATCH : n - b * JBATCH;
		}
		per[0][p] = (double)fh_tsc_to_ns(sum[0]) / (double)kept;
		per[1][p] = (double)fh_tsc_to_ns(sum[1]) / (double)kept;
		pct[p] = ((double)sum[1] - (double)sum[0]) / (double)sum[0] * 100.0;
		got = p + 1;
	}
	if (got == passes) {
		qsort(pct, (size_t)passes, sizeof(double), cmp_d);
		qsort(per[0], (size_t)passes, sizeof(double), cmp_d);
		qsort(per[1], (size_t)passes, sizeof(double), cmp_d);
		printf("bench_recovery: %zu frames (%.0f B mean), %lu messages per pass, %d passes, bursts of %d "
		       "interleaved; %" PRIu64 " of %zu burst pairs dropped as preempted; journal in %s (%s), %"
		       PRIu64 " of %" PRIu64 " pushes refused (ring full), %.0f MB written\n",
		       n, (double)bytes / (double)n, messages, passes, JBATCH, slow, nb * (size_t)passes, dir,
		       direct ? "O_DIRECT" : "buffered", dropped, pushed + dropped, (double)jbytes / 1e6);
		printf("RESULT rx_frame_ns no_journal p50 %.1f journal p50 %.1f (per frame, full RX path)\n",
		       per[0][passes / 2], per[1][passes / 2]);
		printf("RESULT rx_msgs_per_s no_journal %.2f M journal %.2f M\n",
		       (double)messages / (per[0][passes / 2] * (double)n) * 1e3,
		       (double)messages / (per[1][passes / 2] * (double)n) * 1e3);
		printf("RESULT journal_rx_cost_pct p50 %.2f min %.2f max %.2f (per pass, paired)\n",
		       pct[passes / 2], pct[0], pct[passes - 1]);
		rc = 0;
	}
	free(bt[0]);
	free(bt[1]);
	free(srt);
	free(pct);
	free(per[0]);
	free(per[1]);
	fh_kudp_close(&line);
out:
	fh_simcap_free(&sim);
	return rc;
}

int main(int argc, char **argv)
{
	int runs = 30, passes = 5;
	unsigned long messages = 1000000;
	const char *dir = "/dev/shm";
	int skip_gap = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--passes") && i + 1 < argc)
			passes = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--messages") && i + 1 < argc)
			messages = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "--skip-gap"))
			skip_gap = 1;
		else {
			fprintf(stderr, "usage: bench_recovery [--runs N] [--passes N] [--messages N] [--dir DIR] "
				"[--skip-gap]\n");
			return 2;
		}
	}
	if (runs < 1 || passes < 1 || messages < 1000)
		return 2;
	fh_tsc_calibrate(100);
	int rc = skip_gap ? 0 : bench_gap(runs);
	rc |= bench_journal_cost(passes, messages, dir);
	return rc;
}
