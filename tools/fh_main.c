/* SPDX-License-Identifier: MIT */
/* fh_main.c: the fh appliance: config, EAL, RX cores, publisher core, control thread. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "fh_book.h"
#include "fh_config.h"
#include "fh_dlq.h"
#include "fh_dpdk.h"
#include "fh_engine.h"
#include "fh_fix.h"
#include "fh_fix_session.h"
#include "fh_l2book.h"
#include "fh_http.h"
#include "fh_journal.h"
#include "fh_kafka.h"
#include "fh_kudp.h"
#include "fh_memstat.h"
#include "fh_metrics.h"
#include "fh_pcap.h"
#include "fh_publisher.h"
#include "fh_rx.h"
#include "fh_shm.h"
#include "fh_time.h"

#define FH_VERSION "0.1.0"

struct opts {
	const char *config;
	const char *books_out;  /* final books of every source, fh-book dump format */
	const char *summary;    /* final counters as JSON */
	const char *digest;     /* events per family and book checksums, for regression tests */
	double duration_s;      /* stop after this long (0: until signal or end) */
	bool exit_at_end;       /* stop when every replay is complete */
	bool spin;              /* never back off when idle (production) */
	bool quiet;
};

struct app {
	struct opts o;
	struct fh_config cfg;
	struct fh_dlq dlq;
	bool eal;
	unsigned n_ports;
	struct fh_dpdk_port ports[FH_CFG_MAX_SOURCES];
	struct fh_kudp kudp[FH_CFG_MAX_SOURCES][FH_RX_MAX_LINES];
	uint64_t *frame_ts[FH_CFG_MAX_SOURCES]; /* capture times of replayed sources */
	struct fh_fix_session_cfg fixcfg[FH_CFG_MAX_SOURCES];
	unsigned n_cores;
	int core_lcore[FH_CFG_MAX_RX_CORES];
	struct fh_rx_core *cores[FH_CFG_MAX_RX_CORES];
	struct fh_engine_cfg ecfg[FH_CFG_MAX_RX_CORES];
	struct fh_pub *pub;
	struct fh_metrics *metrics;
	struct fh_http *http;
	struct fh_memstat mem;
	struct fh_memstat_watch mem_watch; /* resident growth after the first second */
	int lat[FH_CFG_MAX_RX_CORES][FH_RX_STAGE__COUNT];
	int pub_lat[FH_PUB_STAGE__COUNT][FH_CFG_MAX_SOURCES]; /* shm and Kafka stages per source */
	volatile int pub_lat_ready;
	/* capture journal and warm restart */
	struct fh_journal *journal;
	struct fh_journal_stats journal_final;
	unsigned n_warm;
	char **warm_files;
	char kafka_bootstrap[FH_CFG_BROKERS_LEN];
	struct fh_shm_readers readers; /* shm ring readers, sampled by the control thread */
	uint64_t start_ns;
	/* lifecycle */
	volatile int rx_stop;     /* RX cores: leave the loop */
	volatile int rx_running;  /* RX cores still in their loop */
	volatile int pub_stop;    /* publisher: rings drained, leave */
	volatile int ctl_stop;
	volatile int rx_abort;    /* a core stopped on a crossed book (abort policy) */
};

static volatile sig_atomic_t g_signal;

static void on_signal(int sig)
{
	g_signal = sig;
}

/* Structured log lines (JSON), written by the control thread and main only. */
static void logj(const char *level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void logj(const char *level, const char *event, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "{\"ts\":%lld.%06ld,\"level\":\"%s\",\"event\":\"%s\"%s%s}\n",
		(long long)ts.tv_sec, ts.tv_nsec / 1000, level, event, buf[0] ? "," : "", buf);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: fh [--config FILE] [options]\n"
		"       fh --check-config FILE\n"
		"  --config FILE       YAML configuration (default: config/default.yaml)\n"
		"  --check-config FILE validate FILE, print the effective config, exit\n"
		"  --exit-at-end       stop when every replayed capture is complete\n"
		"  --duration SECONDS  stop after this long\n"
		"  --books-out FILE    write every final book (fh-book dump format, source first)\n"
		"  --summary FILE      write the final counters as JSON\n"
		"  --digest FILE       write events per family and every book's checksum\n"
		"  --spin              busy-poll when idle (production; default backs off)\n"
		"  --quiet             no start-up banner\n");
	exit(2);
}

/* ---- idle strategy: spin, then pause, then sleep (tests and laptops) ---- */
static inline void idle(unsigned *empty, bool spin)
{
	if (spin) {
		__builtin_ia32_pause();
		return;
	}
	if (++*empty < 2048) {
		__builtin_ia32_pause();
	} else if (*empty < 4096) {
		sched_yield();
	} else {
		struct timespec ts = { 0, 20000 };
		nanosleep(&ts, NULL);
	}
}

/* ---- RX lcores ---- */
struct rx_arg {
	struct app *a;
	unsigned idx;
};

static void lat_cb(void *arg, unsigned stage, uint64_t ticks, uint64_t n)
{
	struct rx_arg *x = arg;
	struct fh_metrics_core *mc = fh_metrics_core(x->a->metrics, x->idx);

	(void)n;
	if (stage < FH_RX_STAGE__COUNT)
		fh_metrics_lat_record(mc, x->a->lat[x->idx][stage], (int64_t)fh_tsc_to_ns(ticks));
}

static int rx_main(void *arg)
{
	struct rx_arg *x = arg;
	struct app *a = x->a;
	struct fh_rx_core *c = a->cores[x->idx];
	struct fh_metrics_core *mc = fh_metrics_core(a->metrics, x->idx);
	unsigned empty = 0;

	if (a->n_warm) {
		char err[512];
		uint64_t t0 = fh_clock_ns(CLOCK_MONOTONIC);
		long n = fh_rx_warm_replay(c, (const char *const *)a->warm_files, a->n_warm, err,
					   sizeof(err));
		if (n < 0)
			logj("error", "warm_restart", "\"core\":%u,\"error\":\"%s\"", x->idx, err);
		else
			logj("info", "warm_restart", "\"core\":%u,\"files\":%u,\"frames\":%ld,\"ms\":%.1f",
			     x->idx, a->n_warm, n, (double)(fh_clock_ns(CLOCK_MONOTONIC) - t0) / 1e6);
	}
	while (!a->rx_stop) {
		unsigned w = fh_rx_do_work(c);
		fh_metrics_core_poll(mc);
		if (fh_unlikely(c->abort)) {
			a->rx_abort = 1;
			break;
		}
		if (w) {
			empty = 0;
			continue;
		}
		if (fh_rx_done(c))
			break;
		idle(&empty, a->o.spin);
	}
	fh_rx_stop_sessions(c); /* FIX: Logout, bounded wait */
	fh_rx_flush(c);
	__atomic_sub_fetch(&a->rx_running, 1, __ATOMIC_RELEASE);
	return 0;
}

static void *rx_thread(void *arg)
{
	rx_main(arg);
	return NULL;
}

/* ---- publisher ---- */
static void snapshot_cb(void *arg, uint16_t source_id, uint32_t instrument)
{
	struct app *a = arg;

	for (unsigned i = 0; i < a->n_cores; i++)
		fh_rx_request_snapshot(a->cores[i], source_id, instrument);
}

static bool rings_empty(const struct app *a)
{
	for (unsigned i = 0; i < a->n_cores; i++)
		if (fh_spsc_count(a->cores[i]->ring))
			return false;
	return true;
}

static void publisher_loop(struct app *a)
{
	struct fh_metrics_core *mc = fh_metrics_core(a->metrics, a->n_cores);
	unsigned empty = 0;

	for (;;) {
		unsigned w = fh_pub_do_work(a->pub);
		fh_metrics_core_poll(mc);
		if (a->journal)
			w += fh_journal_do_work(a->journal, 0);
		if (w) {
			empty = 0;
			continue;
		}
		if (__atomic_load_n(&a->rx_running, __ATOMIC_ACQUIRE) == 0 && rings_empty(a))
			break;
		idle(&empty, a->o.spin);
	}
}

/* ---- control thread: HTTP, metrics ticks, stop conditions ---- */
static bool all_done(const struct app *a)
{
	for (unsigned i = 0; i < a->n_cores; i++)
		if (!fh_rx_done(a->cores[i]))
			return false;
	return true;
}

static void *control_thread(void *arg)
{
	struct app *a = arg;
	uint64_t interval = a->cfg.telemetry.hdr.interval_ns ? a->cfg.telemetry.hdr.interval_ns
							      : 1000000000ull;
	uint64_t next_tick = fh_clock_ns(CLOCK_REALTIME) + interval;
	uint64_t deadline = a->o.duration_s > 0
				    ? a->start_ns + (uint64_t)(a->o.duration_s * 1e9)
				    : UINT64_MAX;

	while (!a->ctl_stop) {
		if (a->http)
			fh_http_poll(a->http, 50);
		else
			usleep(50000);
		uint64_t now = fh_clock_ns(CLOCK_REALTIME);
		if (now >= next_tick) {
			fh_memstat_read(&a->mem);
			fh_memstat_watch_sample(&a->mem_watch, now);
			if (fh_pub_shm(a->pub))
				fh_shm_readers(fh_pub_shm(a->pub), &a->readers);
			fh_metrics_tick(a->metrics, now);
			next_tick = now + interval;
		}
		if (!a->rx_stop) {
			const char *why = NULL;
			if (g_signal)
				why = g_signal == SIGINT ? "SIGINT" : "SIGTERM";
			else if (now >= deadline)
				why = "duration";
			else if (a->o.exit_at_end && all_done(a))
				why = "end_of_capture";
			else if (a->rx_abort)
				why = "crossed_book_abort";
			if (why) {
				logj("info", "stopping", "\"reason\":\"%s\"", why);
				a->rx_stop = 1;
			}
		}
	}
	return NULL;
}

/* ---- metrics registration ---- */
static uint64_t rd_u64(void *arg)
{
	return __atomic_load_n((uint64_t *)arg, __ATOMIC_RELAXED);
}

struct sum_arg {
	const uint64_t *p[2];
};

static double book_age(void *arg)
{
	const struct fh_rx_chan *ch = arg;
	uint64_t last = __atomic_load_n(&ch->st.last_rx_ns, __ATOMIC_RELAXED);
	if (!last)
		return -1;
	return (double)(fh_clock_ns(CLOCK_REALTIME) - last) / 1e9;
}

static double last_msg_ts(void *arg)
{
	const struct fh_rx_chan *ch = arg;
	return (double)__atomic_load_n(&ch->st.last_rx_ns, __ATOMIC_RELAXED) / 1e9;
}

/* Books of a source with a flag now (read racily: a gauge). */
static double books_flagged(const struct fh_rx_chan *ch, uint8_t flag)
{
	uint64_t n = 0;

	for (uint32_t t = 0; ch->book && t < fh_book_max_instruments(ch->book); t++)
		if ((fh_book_symbol(ch->book, t)[0] || fh_book_order_count(ch->book, t)) &&
		    (fh_book_flags(ch->book, t) & flag))
			n++;
	return (double)n;
}

static double books_stale(void *arg)
{
	return books_flagged(arg, FH_BOOK_F_STALE);
}

static double books_crossed(void *arg)
{
	return books_flagged(arg, FH_BOOK_F_CROSSED | FH_BOOK_F_LOCKED);
}

static uint64_t chan_rejects(void *arg)
{
	return fh_rx_chan_rejects(arg);
}

static uint64_t dlq_records(void *arg)
{
	return __atomic_load_n(&((struct fh_dlq *)arg)->records, __ATOMIC_RELAXED);
}

static struct fh_pub_stats g_pub_stats;

static double pub_lag(void *arg)
{
	struct app *a = arg;
	fh_pub_get_stats(a->pub, &g_pub_stats);
	return (double)g_pub_stats.kafka_lag;
}

static double ring_readers(void *arg)
{
	return (double)((struct app *)arg)->readers.n;
}

static double ring_lapped_now(void *arg)
{
	return (double)((struct app *)arg)->readers.lapped_now;
}

static double ring_occupancy(void *arg)
{
	const struct app *a = arg;
	return a->cfg.publish.shm.slots ? (double)a->readers.max_lag / (double)a->cfg.publish.shm.slots
					: 0.0;
}

static double pub_queue(void *arg)
{
	(void)arg;
	return (double)(g_pub_stats.kafka_accepted - g_pub_stats.kafka_dropped -
			g_pub_stats.kafka.produced[0] * 0);
}

static uint64_t kafka_errors(void *arg)
{
	(void)arg;
	uint64_t n = 0;
	for (unsigned f = 0; f < FH_KF__COUNT; f++)
		n += g_pub_stats.kafka.failed[f];
	return n;
}

static double one(void *arg)
{
	(void)arg;
	return 1.0;
}

#define REG(x)                                                                  \
	do {                                                                    \
		if ((x) < 0) {                                                  \
			fprintf(stderr, "fh: metric registration failed: %s\n", #x); \
			return -1;                                              \
		}                                                               \
	} while (0)

static int register_metrics(struct app *a, struct rx_arg *xs)
{
	char l[256];

	REG(fh_metrics_gauge_fn(a->metrics, "fh_build_info", "Build information (value 1)",
				"version=\"" FH_VERSION "\"", one, NULL));
	for (unsigned i = 0; i < a->n_cores; i++) {
		struct fh_rx_core *c = a->cores[i];
		for (unsigned k = 0; k < c->n_chans; k++) {
			struct fh_rx_chan *ch = &c->chans[k];
			const char *src = ch->cfg.name;
			snprintf(l, sizeof(l), "source=\"%s\",core=\"%d\"", src, a->core_lcore[i]);
			REG(fh_metrics_counter_fn(a->metrics, "fh_packets_total", "Packets received, per source and core", l, rd_u64, &ch->st.frames));
			REG(fh_metrics_counter_fn(a->metrics, "fh_messages_total", "Messages decoded, per source and core", l, rd_u64,
						  ch->fix ? &ch->st.messages : &ch->dec.messages));
			REG(fh_metrics_counter_fn(a->metrics, "fh_events_total", "Events handed to the publisher, per source and core", l, rd_u64, &ch->st.events));
			snprintf(l, sizeof(l), "source=\"%s\",reason=\"not_our_group\"", src);
			REG(fh_metrics_counter_fn(a->metrics, "fh_drops_total", "Packets dropped, by reason", l, rd_u64, &ch->st.not_ours));
			snprintf(l, sizeof(l), "source=\"%s\",reason=\"duplicate\"", src);
			REG(fh_metrics_counter_fn(a->metrics, "fh_drops_total", "Packets dropped, by reason", l, rd_u64, &ch->mold.dup_packets));
			for (unsigned r = FH_PKT_SKIP_NOT_IPV4; r < FH_PKT__COUNT; r++) {
				snprintf(l, sizeof(l), "source=\"%s\",reason=\"%s\"", src, fh_pkt_result_name(r));
				REG(fh_metrics_counter_fn(a->metrics, r >= FH_PKT_FIRST_REJ ? "fh_rejects_total" : "fh_drops_total",
							  r >= FH_PKT_FIRST_REJ ? "Messages rejected, by reason" : "Packets dropped, by reason",
							  l, rd_u64, &ch->st.frame_rejects[r]));
			}
			for (unsigned r = 1; r < FH_ITCH_REJ__COUNT; r++) {
				if (r == FH_ITCH_REJ_BAD_FRAME)
					continue;
				snprintf(l, sizeof(l), "source=\"%s\",reason=\"%s\"", src, fh_itch_reject_name(r));
				REG(fh_metrics_counter_fn(a->metrics, "fh_rejects_total", "Messages rejected, by reason", l, rd_u64, &ch->mold.rejects[r]));
				snprintf(l, sizeof(l), "source=\"%s\",reason=\"itch_%s\"", src, fh_itch_reject_name(r));
				REG(fh_metrics_counter_fn(a->metrics, "fh_rejects_total", "Messages rejected, by reason", l, rd_u64, &ch->dec.rejects[r]));
			}
			snprintf(l, sizeof(l), "source=\"%s\"", src);
			REG(fh_metrics_counter_fn(a->metrics, "fh_gaps_total", "Sequence gaps detected", l, rd_u64, &ch->mold.gaps_count));
			REG(fh_metrics_counter_fn(a->metrics, "fh_gap_messages_total", "Messages named by gap events", l, rd_u64, &ch->mold.gap_msgs));
			REG(fh_metrics_counter_fn(a->metrics, "fh_rejected_total", "All rejections of the source", l, chan_rejects, ch));
			REG(fh_metrics_gauge_fn(a->metrics, "fh_book_age_seconds", "Seconds since the last book update", l, book_age, ch));
			if (ch->book)
			{
				REG(fh_metrics_gauge_fn(a->metrics, "fh_books_stale", "Books of the source published stale (not trusted)", l, books_stale, ch));
				REG(fh_metrics_gauge_fn(a->metrics, "fh_books_crossed", "Books of the source crossed or locked now", l, books_crossed, ch));
			}
			REG(fh_metrics_gauge_fn(a->metrics, "fh_last_message_timestamp_seconds", "Wall time of the last message (Unix seconds)", l, last_msg_ts, ch));
			if (ch->rec) {
				struct fh_rx_rec *r = ch->rec;
				REG(fh_metrics_counter_fn(a->metrics, "fh_rerequests_total", "MoldUDP64 re-request datagrams sent", l, rd_u64, &r->st.requests));
				REG(fh_metrics_counter_fn(a->metrics, "fh_recovered_messages_total", "Messages recovered from re-request answers", l, rd_u64, &r->st.recovered_msgs));
				REG(fh_metrics_counter_fn(a->metrics, "fh_unrecovered_messages_total", "Messages lost for good (reported as a gap with recovery on)", l, rd_u64, &r->st.lost_msgs));
				REG(fh_metrics_counter_fn(a->metrics, "fh_held_packets_total", "Packets held for a hole in the sequence", l, rd_u64, &r->sb.st.held));
			}
			for (unsigned st = 0; ch->book && st < FH_PUB_STAGE__COUNT; st++) {
				static const char *const pst[FH_PUB_STAGE__COUNT] = { "shm", "kafka" };
				if (st == FH_PUB_STAGE_KAFKA && !fh_pub_kafka(a->pub))
					continue;
				char ll[256];
				snprintf(ll, sizeof(ll), "stage=\"%s\",source=\"%s\"", pst[st], src);
				int id = fh_metrics_latency(a->metrics, "fh_stage_latency", "Latency from RX to the end of each stage, per source", ll, 1ull << (a->n_cores + st));
				REG(id);
				a->pub_lat[st][ch->cfg.source_id] = id;
			}
			snprintf(l, sizeof(l), "source=\"%s\",window=\"1s\"", src);
			REG(fh_metrics_gauge_fn(a->metrics, "fh_peak_messages_per_second", "Peak message rate in 1 s and 1 ms windows", l, fh_rate_peak_per_second, &ch->peak_1s));
			snprintf(l, sizeof(l), "source=\"%s\",window=\"1ms\"", src);
			REG(fh_metrics_gauge_fn(a->metrics, "fh_peak_messages_per_second", "Peak message rate in 1 s and 1 ms windows", l, fh_rate_peak_per_second, &ch->peak_1ms));
		}
		/* Cumulative latency from the RX burst, per stage and core (the
		 * series is named after the core's first source). */
		static const char *const stages[FH_RX_STAGE__COUNT] = {
			[FH_RX_STAGE_DECODE] = "decode", [FH_RX_STAGE_BOOK] = "book",
			[FH_RX_STAGE_ENGINE] = "engine", [FH_RX_STAGE_RING] = "rx_to_ring",
		};
		for (unsigned st = 0; st < FH_RX_STAGE__COUNT; st++) {
			snprintf(l, sizeof(l), "stage=\"%s\",source=\"%s\"", stages[st], c->chans[0].cfg.name);
			int id = fh_metrics_latency(a->metrics, "fh_stage_latency", "Latency from RX to the end of each stage, per source", l, 1ull << i);
			REG(id);
			a->lat[i][st] = id;
		}
		snprintf(l, sizeof(l), "core=\"%d\"", a->core_lcore[i]);
		REG(fh_metrics_counter_fn(a->metrics, "fh_ring_full_waits_total", "Times an RX core waited for room in its ring to the publisher", l, rd_u64, &c->ring_full_spins));
		REG(fh_metrics_counter_fn(a->metrics, "fh_ring_events_total", "Events an RX core handed to the publisher", l, rd_u64, &c->ring_events));
		c->lat_fn = lat_cb;
		c->lat_arg = &xs[i];
	}
	REG(fh_metrics_counter_fn(a->metrics, "fh_dead_letters_total", "Records sent to the dead-letter sink", "", dlq_records, &a->dlq));
	if (a->pub) {
		REG(fh_metrics_gauge_fn(a->metrics, "fh_kafka_lag_messages", "Messages produced and not yet acknowledged", "", pub_lag, a));
		REG(fh_metrics_gauge_fn(a->metrics, "fh_kafka_queue_messages", "Events accepted for Kafka", "", pub_queue, a));
		REG(fh_metrics_counter_fn(a->metrics, "fh_kafka_delivery_errors_total", "Kafka deliveries failed after retries", "", kafka_errors, a));
	}
	if (fh_pub_shm(a->pub)) {
		snprintf(l, sizeof(l), "ring=\"%s\"", a->cfg.publish.shm.name);
		REG(fh_metrics_gauge_fn(a->metrics, "fh_ring_readers", "Readers of the shm ring now", l, ring_readers, a));
		REG(fh_metrics_gauge_fn(a->metrics, "fh_ring_lapped_readers", "Readers of the shm ring now that were lapped at least once", l, ring_lapped_now, a));
		REG(fh_metrics_counter_fn(a->metrics, "fh_ring_lapped_readers_total", "Times a reader of the shm ring was lapped", l, rd_u64, &a->readers.lapped_total));
		REG(fh_metrics_counter_fn(a->metrics, "fh_ring_lost_events_total", "Ring positions readers lost to laps", l, rd_u64, &a->readers.lost_total));
		REG(fh_metrics_gauge_fn(a->metrics, "fh_ring_occupancy_ratio", "Slowest reader's lag behind the writer, as a share of the ring", l, ring_occupancy, a));
	}
	__atomic_store_n(&a->pub_lat_ready, 1, __ATOMIC_RELEASE);
	REG(fh_memstat_register(a->metrics, &a->mem));
	fh_memstat_watch_init(&a->mem_watch, 1000000000ull);
	REG(fh_memstat_watch_register(a->metrics, &a->mem_watch));
	return 0;
}

/* ---- building the pipeline from the config ---- */
/* Frames of a capture and their times (for pacing): *ts is malloc'ed. */
static uint64_t count_frames(const char *path, uint64_t **ts, char *err, size_t errlen)
{
	struct fh_pcap p;
	struct fh_pcap_rec r;
	uint64_t n = 0, cap = 0;
	uint64_t *t = NULL;
	int ret = fh_pcap_open(&p, path, 0);

	*ts = NULL;
	if (ret < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return 0;
	}
	while ((ret = fh_pcap_next(&p, &r)) > 0) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			uint64_t *nt = realloc(t, cap * sizeof(*t));
			if (!nt) {
				ret = -ENOMEM;
				break;
			}
			t = nt;
		}
		t[n++] = r.ts_ns;
	}
	fh_pcap_close(&p);
	if (ret < 0 || n == 0) {
		if (ret < 0)
			snprintf(err, errlen, "%s: %s after %" PRIu64 " frames", path,
				 ret == -ENOMEM ? "out of memory" : "damaged capture", n);
		else
			snprintf(err, errlen, "%s: the capture holds no frames", path);
		free(t);
		return 0;
	}
	*ts = t;
	return n;
}

static int open_port(struct app *a, const struct fh_cfg_source *s, const char *dev,
		     uint32_t mbufs, bool ts, struct fh_dpdk_port **out, char *err, size_t errlen)
{
	struct fh_dpdk_port_cfg pc = { .dev = dev, .socket = -1, .timestamps = ts,
				       .mbufs = mbufs, .rx_desc = 1024 };
	char perr[256];

	for (unsigned l = 0; l < s->n_lines && pc.n_mc < FH_DPDK_MAX_MC; l++)
		if (s->line[l].group_addr)
			pc.mc_groups[pc.n_mc++] = s->line[l].group_addr;
	if (a->cfg.cores.numa_node >= 0)
		pc.socket = a->cfg.cores.numa_node;
	struct fh_dpdk_port *p = &a->ports[a->n_ports];
	int ret = fh_dpdk_port_open(p, &pc, perr, sizeof(perr));
	if (ret < 0) {
		snprintf(err, errlen, "source %s: %s", s->name, perr);
		return ret;
	}
	a->n_ports++;
	*out = p;
	return 0;
}

/* Bounded string copy, always NUL-terminated. */
static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = 0;
}

/* An IPv4 address for host (dotted, or a name resolved now, at start). */
static int resolve_ipv4(const char *host, uint32_t *addr)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_DGRAM }, *res = NULL;
	struct in_addr in;

	if (inet_pton(AF_INET, host, &in) == 1) {
		*addr = ntohl(in.s_addr);
		return 0;
	}
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
		return -ENOENT;
	*addr = ntohl(((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr);
	freeaddrinfo(res);
	return 0;
}

/* MoldUDP64 recovery: a hold buffer for A/B lines, re-requests when a
 * server is configured. */
static int build_recovery(const struct fh_cfg_source *s, struct fh_rx_chan_cfg *cc, char *err,
			  size_t errlen)
{
	struct fh_rx_recovery_cfg *r = &cc->recovery;
	const typeof(s->recovery.rerequest) *rq = &s->recovery.rerequest;

	if (s->protocol != FH_CFG_PROTO_ITCH50 ||
	    (s->n_lines < 2 && !rq->enabled && !s->recovery.snapshot.enabled))
		return 0;
	r->enabled = true;
	r->hold_pkts = s->recovery.hold_packets;
	r->hold_ns = s->recovery.hold_ns;
	if (s->recovery.snapshot.enabled) {
		if (resolve_ipv4(s->recovery.snapshot.host, &r->snap_addr) < 0) {
			snprintf(err, errlen, "source %s: recovery.snapshot.host %s: no IPv4 address",
				 s->name, s->recovery.snapshot.host);
			return -ENOENT;
		}
		r->snap_port = s->recovery.snapshot.port;
		r->snap_min_gap = s->recovery.snapshot.min_gap;
	}
	if (!rq->enabled)
		return 0;
	if (resolve_ipv4(rq->host, &r->rereq_addr) < 0) {
		snprintf(err, errlen, "source %s: recovery.rerequest.host %s: no IPv4 address", s->name,
			 rq->host);
		return -ENOENT;
	}
	r->rereq_port = rq->port;
	r->rereq.timeout_ns = rq->timeout_ns;
	r->rereq.max_tries = (uint16_t)(rq->retries + 1);
	r->rereq.max_outstanding = (uint16_t)rq->max_outstanding;
	r->rereq.max_count = (uint16_t)rq->max_request;
	return 0;
}

static int build_chan(struct app *a, const struct fh_cfg_source *s, struct fh_rx_chan_cfg *cc,
		      char *err, size_t errlen)
{
	char dev[FH_CFG_PATH_LEN + 64];
	int ret;

	memset(cc, 0, sizeof(*cc));
	cc->name = s->name;
	cc->source_id = s->id;
	cc->day_base_ns = s->midnight_utc_ns;
	cc->dlq = &a->dlq;
	cc->book.max_orders = (uint32_t)a->cfg.books.max_orders;
	cc->book.max_instruments = (uint32_t)a->cfg.books.max_instruments;
	cc->book.max_levels = (uint32_t)a->cfg.books.max_levels;
	cc->book.depth = (uint16_t)a->cfg.books.depth;
	cc->book.crossed_policy = a->cfg.books.crossed_policy == FH_CFG_CROSSED_ABORT
					  ? FH_BOOK_CROSSED_ABORT
					  : FH_BOOK_CROSSED_FLAG;
	cc->n_lines = s->n_lines ? s->n_lines : 1;
	for (unsigned l = 0; l < s->n_lines && l < FH_RX_MAX_LINES; l++) {
		cc->line[l].group = s->line[l].group_addr;
		cc->line[l].port = s->line[l].port;
	}
	if (s->protocol == FH_CFG_PROTO_FIX) {
		struct fh_fix_session_cfg *fc = &a->fixcfg[s->id];
		if (s->transport != FH_CFG_TR_TCP) {
			snprintf(err, errlen, "source %s: FIX runs over transport tcp", s->name);
			return -ENOTSUP;
		}
		memset(fc, 0, sizeof(*fc));
		copy_str(fc->host, sizeof(fc->host), s->fix.host);
		fc->port = s->fix.port;
		copy_str(fc->sender, sizeof(fc->sender), s->fix.sender_comp_id);
		copy_str(fc->target, sizeof(fc->target), s->fix.target_comp_id);
		fc->heartbeat_s = s->fix.heartbeat_s;
		copy_str(fc->seq_file, sizeof(fc->seq_file), s->fix.seq_store);
		for (unsigned i = 0; i < s->fix.n_subscriptions && i < FH_FIX_SESSION_MAX_SYMBOLS; i++)
			copy_str(fc->symbols[fc->n_symbols++], FH_FIX_SYMBOL_MAX, s->fix.subscriptions[i]);
		fc->decoder.source_id = s->id;
		fc->decoder.max_instruments = cc->book.max_instruments;
		cc->kind = FH_RX_FIX;
		cc->fix = fc;
		return 0;
	}
	ret = build_recovery(s, cc, err, errlen);
	if (ret < 0)
		return ret;
	switch (s->transport) {
	case FH_CFG_TR_PCAP: {
		uint64_t *ts;
		uint64_t frames = count_frames(s->pcap.file, &ts, err, errlen);
		if (!frames)
			return -EINVAL;
		a->frame_ts[s->id] = ts;
		cc->frame_ts = ts;
		cc->kind = FH_RX_DPDK;
		cc->expected_frames = frames;
		cc->loop = s->pcap.loop;
		cc->pace = s->pcap.speed == FH_CFG_SPEED_MAX ? FH_RX_PACE_NONE : FH_RX_PACE_RECORDED;
		cc->speed = s->pcap.speed == FH_CFG_SPEED_MULT ? s->pcap.speed_mult : 1.0;
		/* Looping, net_pcap holds the whole capture in mbufs (infinite_rx). */
		snprintf(dev, sizeof(dev), "net_pcap%u,rx_pcap=%s%s", s->id, s->pcap.file,
			 s->pcap.loop ? ",infinite_rx=1" : "");
		uint32_t mbufs = s->pcap.loop ? (uint32_t)frames + 4096 : 8191;
		ret = open_port(a, s, dev, mbufs, cc->pace != FH_RX_PACE_NONE, &cc->port, err, errlen);
		return ret;
	}
	case FH_CFG_TR_MULTICAST: {
		const char *ifc = s->line[0].interface;
		for (unsigned l = 1; l < s->n_lines; l++) {
			if (strcmp(s->line[l].interface, ifc) != 0) {
				snprintf(err, errlen, "source %s: A/B lines on different interfaces (%s, %s) are not supported by this build; give both lines the same interface",
					 s->name, ifc, s->line[l].interface);
				return -ENOTSUP;
			}
		}
		if (strncmp(ifc, "net_", 4) == 0)
			snprintf(dev, sizeof(dev), "%s", ifc);
		else if (strchr(ifc, ':'))
			snprintf(dev, sizeof(dev), "%s", ifc); /* PCI address */
		else
			snprintf(dev, sizeof(dev), "net_af_packet%u,iface=%s", s->id, ifc);
		cc->kind = FH_RX_DPDK;
		return open_port(a, s, dev, 8191, false, &cc->port, err, errlen);
	}
	case FH_CFG_TR_KERNEL_UDP:
		cc->kind = FH_RX_KUDP;
		for (unsigned l = 0; l < cc->n_lines; l++) {
			struct fh_kudp *k = &a->kudp[s->id][l];
			ret = fh_kudp_open(k, s->line[l].group_addr, s->line[l].port,
					   s->line[l].interface, 0, err, errlen);
			if (ret < 0)
				return ret;
			cc->kudp[l] = k;
		}
		return 0;
	default:
		snprintf(err, errlen, "source %s: transport %s is not served by fh's RX cores",
			 s->name, fh_config_transport_name(s->transport));
		return -ENOTSUP;
	}
}

/*
 * A journal file cut by a crash ends in the preallocation's zeros (or a
 * partial record): cut it after its last whole record, so that tshark,
 * mergecap and tcpreplay read it clean. Returns the bytes removed (0: the
 * file was whole), or -errno.
 */
static long journal_trim(const char *path)
{
	uint8_t h[16];
	struct stat sb;
	off_t off = 24, end;
	long removed = 0;
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) != 0 || sb.st_size < 24) {
		close(fd);
		return 0;
	}
	end = sb.st_size;
	while (off + 16 <= end && pread(fd, h, sizeof(h), off) == (ssize_t)sizeof(h)) {
		uint32_t caplen = (uint32_t)h[8] | (uint32_t)h[9] << 8 | (uint32_t)h[10] << 16 |
				  (uint32_t)h[11] << 24;
		/* a journal record always holds a frame: caplen 0 is the zeros */
		if (caplen == 0 || caplen > FH_PCAP_MAX_CAPLEN || off + 16 + (off_t)caplen > end)
			break;
		off += 16 + (off_t)caplen;
	}
	if (off < end) {
		removed = (long)(end - off);
		if (ftruncate(fd, off) != 0)
			removed = -errno;
	}
	close(fd);
	return removed;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/*
 * The capture journal: files <dir>/<instance>-NNNNNN.pcap, numbered after
 * the highest already there. With warm_restart, the files of today (UTC,
 * by modification time) are kept, in order, for the RX cores to replay.
 */
static int open_journal(struct app *a, char *err, size_t errlen)
{
	const typeof(a->cfg.journal) *jc = &a->cfg.journal;
	const char *prefix = a->cfg.instance[0] ? a->cfg.instance : "fh";
	size_t pl = strlen(prefix);
	unsigned next = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	if (mkdir(jc->dir, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "journal.dir %s: %s", jc->dir, strerror(errno));
		return -errno;
	}
	d = opendir(jc->dir);
	if (!d) {
		snprintf(err, errlen, "journal.dir %s: %s", jc->dir, strerror(errno));
		return -errno;
	}
	time_t day0 = time(NULL) / 86400 * 86400;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		char *end;
		struct stat sb;
		char path[FH_CFG_PATH_LEN + 300];
		if (strncmp(n, prefix, pl) != 0 || n[pl] != '-')
			continue;
		unsigned long idx = strtoul(n + pl + 1, &end, 10);
		if (end != n + pl + 7 || strcmp(end, ".pcap") != 0)
			continue;
		if (idx + 1 > next)
			next = (unsigned)idx + 1;
		snprintf(path, sizeof(path), "%s/%s", jc->dir, n);
		/* the day is the file's, before a trim touches it */
		bool today = stat(path, &sb) == 0 && sb.st_mtime >= day0;
		long cut = journal_trim(path);
		if (cut > 0)
			logj("warning", "journal_trimmed", "\"file\":\"%s\",\"bytes\":%ld", path, cut);
		if (!jc->warm_restart || !today || stat(path, &sb) != 0 || sb.st_size <= 24)
			continue;
		if (a->n_warm == cap) {
			cap = cap ? cap * 2 : 16;
			char **nf = realloc(a->warm_files, cap * sizeof(*nf));
			if (!nf) {
				closedir(d);
				snprintf(err, errlen, "journal: out of memory");
				return -ENOMEM;
			}
			a->warm_files = nf;
		}
		a->warm_files[a->n_warm] = strdup(path);
		if (!a->warm_files[a->n_warm]) {
			closedir(d);
			snprintf(err, errlen, "journal: out of memory");
			return -ENOMEM;
		}
		a->n_warm++;
	}
	closedir(d);
	/* NNNNNN is zero-padded: name order is index order */
	if (a->n_warm)
		qsort(a->warm_files, a->n_warm, sizeof(*a->warm_files), cmp_str);
	struct fh_journal_cfg cfg = {
		.dir = jc->dir,
		.prefix = prefix,
		.first_index = next,
		.producers = a->cfg.cores.n_rx ? a->cfg.cores.n_rx : 1,
		.rotate_bytes = jc->rotate_bytes,
		/* two write buffers of up to 1 MiB fit in a file */
		.buf_bytes = (uint32_t)(jc->rotate_bytes / 2 >= (1u << 20)
						? (1u << 20)
						: jc->rotate_bytes / 2 / FH_JOURNAL_ALIGN * FH_JOURNAL_ALIGN),
		.rotate_ns = jc->rotate_ns,
		.flush_ns = jc->flush_ns,
	};
	a->journal = fh_journal_create(&cfg, err, errlen);
	if (!a->journal)
		return -EIO;
	logj("info", "journal", "\"dir\":\"%s\",\"first_index\":%u,\"warm_files\":%u", jc->dir,
	     next, a->n_warm);
	return 0;
}

static int build_cores(struct app *a, char *err, size_t errlen)
{
	struct fh_rx_chan_cfg cc[FH_RX_MAX_CHANS];

	for (unsigned i = 0; i < a->cfg.cores.n_rx; i++) {
		int lcore = a->cfg.cores.rx[i];
		unsigned n = 0;
		for (unsigned s = 0; s < a->cfg.n_sources; s++) {
			const struct fh_cfg_source *src = &a->cfg.sources[s];
			if (src->rx_core != lcore)
				continue;
			if (n == FH_RX_MAX_CHANS) {
				snprintf(err, errlen, "rx core %d owns more than %u sources", lcore, FH_RX_MAX_CHANS);
				return -EINVAL;
			}
			int ret = build_chan(a, src, &cc[n], err, errlen);
			if (ret < 0)
				return ret;
			n++;
		}
		if (n == 0)
			continue;
		int ret = fh_config_engine_cfg(&a->cfg, lcore, &a->ecfg[a->n_cores], err, errlen);
		if (ret < 0)
			return ret;
		struct fh_rx_core_cfg rc = {
			.index = a->n_cores,
			.n_chans = n,
			.chans = cc,
			.engine = &a->ecfg[a->n_cores],
			.ring_capacity = 1u << 16,
			.snapshot_interval_ns = a->cfg.books.snapshot_interval_ns,
			.numa_socket = a->cfg.cores.numa_node,
			.journal = a->journal ? fh_journal_ring(a->journal, a->n_cores) : NULL,
		};
		a->cores[a->n_cores] = fh_rx_core_create(&rc, err, errlen);
		if (!a->cores[a->n_cores])
			return -ENOMEM;
		a->core_lcore[a->n_cores] = lcore;
		a->n_cores++;
	}
	if (a->n_cores == 0) {
		snprintf(err, errlen, "no RX core owns a source");
		return -EINVAL;
	}
	return 0;
}

/* The publisher's stages: shm on the publisher thread (metrics slot
 * n_cores), Kafka acknowledgements on the Kafka thread (slot n_cores + 1). */
static void pub_lat_cb(void *arg, unsigned stage, uint16_t source_id, uint64_t ticks)
{
	struct app *a = arg;

	if (!__atomic_load_n(&a->pub_lat_ready, __ATOMIC_ACQUIRE) || stage >= FH_PUB_STAGE__COUNT ||
	    source_id >= FH_CFG_MAX_SOURCES || a->pub_lat[stage][source_id] < 0)
		return;
	struct fh_metrics_core *mc = fh_metrics_core(a->metrics, a->n_cores + stage);
	if (stage == FH_PUB_STAGE_KAFKA)
		fh_metrics_core_poll(mc); /* the Kafka thread has no loop of ours */
	fh_metrics_lat_record(mc, a->pub_lat[stage][source_id], (int64_t)fh_tsc_to_ns(ticks));
}

static int build_publisher(struct app *a, char *err, size_t errlen)
{
	static struct fh_shm_cfg shm;
	static struct fh_kafka_cfg kc;
	static const char *props[2 * FH_CFG_MAX_KAFKA_PROPS + 8];
	static char spill[FH_CFG_PATH_LEN + 32];
	static struct fh_spsc *rings[FH_CFG_MAX_RX_CORES];
	static struct fh_probe_ring *probes[FH_CFG_MAX_RX_CORES];
	const typeof(a->cfg.publish) *p = &a->cfg.publish;
	struct fh_pub_cfg pc;

	memset(&pc, 0, sizeof(pc));
	for (unsigned i = 0; i < a->n_cores; i++) {
		rings[i] = a->cores[i]->ring;
		probes[i] = &a->cores[i]->probes;
	}
	pc.rings = rings;
	pc.n_rings = a->n_cores;
	pc.probes = probes;
	pc.lat_fn = pub_lat_cb;
	pc.lat_arg = a;
	/* the publisher's own events (heartbeats) carry an id no source has */
	pc.source_id = FH_CFG_MAX_SOURCES;
	for (unsigned st = 0; st < FH_PUB_STAGE__COUNT; st++)
		for (unsigned s = 0; s < FH_CFG_MAX_SOURCES; s++)
			a->pub_lat[st][s] = -1;
	pc.kafka_cpu = -1;
	pc.snapshot_cb = snapshot_cb;
	pc.snapshot_arg = a;
	pc.heartbeat_ms = p->heartbeat_ns / 1000000ull;
	if (p->shm.enabled) {
		shm.name = p->shm.name;
		shm.dir = p->shm.path;
		shm.capacity = p->shm.slots;
		shm.mode = p->shm.mode;
		shm.group = p->shm.group[0] ? p->shm.group : NULL;
		shm.hugetlb = p->shm.hugetlb;
		shm.lock = p->shm.lock;
		shm.book_depth = a->cfg.books.depth;
		pc.shm = &shm;
		pc.snapshot_ms = p->shm.snapshot_interval_ns / 1000000ull;
	}
	if (p->kafka.enabled) {
		kc.brokers = p->kafka.mock ? NULL : p->kafka.brokers;
		kc.mock_brokers = (int)p->kafka.mock_brokers;
		kc.partitions = (int)p->kafka.partitions;
		kc.topic_prefix = p->kafka.topic_prefix;
		for (unsigned f = 0; f < FH_CFG_FAM__COUNT && f < FH_KF__COUNT; f++)
		{
			kc.json[f] = p->kafka.topics[f].encoding == FH_CFG_ENC_JSON;
			kc.off[f] = p->kafka.topics[f].encoding == FH_CFG_ENC_OFF;
		}
		kc.linger_ms = (int)(p->kafka.linger_ns / 1000000ull);
		kc.batch_size = (int)p->kafka.batch_size;
		kc.dlq = &a->dlq;
		/* compression, acks and idempotence from their keys, then the
		 * user's librdkafka properties verbatim (they win) */
		if (fh_config_kafka_props(&a->cfg, props, FH_ARRAY_SIZE(props)) < 0) {
			snprintf(err, errlen, "too many publish.kafka.properties");
			return -ENOSPC;
		}
		kc.props = props;
		pc.kafka = &kc;
		pc.kafka_queue = p->kafka.queue.capacity;
		pc.policy = p->kafka.queue.policy == FH_CFG_QUEUE_SPILL ? FH_PUB_SPILL : FH_PUB_DROP_OLDEST;
		if (pc.policy == FH_PUB_SPILL) {
			snprintf(spill, sizeof(spill), "%s/fh-kafka-spill.bin", p->kafka.queue.spill_dir);
			pc.spill_path = spill;
			pc.spill_max_bytes = p->kafka.queue.spill_max_bytes;
		}
	}
	a->pub = fh_pub_create(&pc, err, errlen);
	if (a->pub && fh_pub_kafka(a->pub))
		copy_str(a->kafka_bootstrap, sizeof(a->kafka_bootstrap),
			 fh_kafka_bootstrap(fh_pub_kafka(a->pub)));
	return a->pub ? 0 : -EINVAL;
}

/* ---- exit reports ---- */

/* Books of a channel, whichever kind: ITCH order books or FIX L2 books. */
struct lvl {
	int64_t price;
	uint64_t qty;
	uint32_t orders;
};

static uint32_t chan_max_instr(const struct fh_rx_chan *ch)
{
	return ch->book ? fh_book_max_instruments(ch->book) : ch->l2->cfg.max_instruments;
}

static const char *chan_symbol(const struct fh_rx_chan *ch, uint32_t instr)
{
	if (ch->book)
		return fh_book_symbol(ch->book, instr);
	const struct fh_fix_instr *fi = fh_fix_instrument(fh_fix_session_decoder(ch->fix), instr);
	return fi ? fi->sym : "?";
}

static unsigned chan_levels(const struct fh_rx_chan *ch, uint32_t instr, uint8_t side,
			    struct lvl *out, unsigned max)
{
	unsigned n;
	if (ch->book) {
		struct fh_book_level_view v[256];
		unsigned cap = max < 256 ? max : 256;
		n = fh_book_levels(ch->book, instr, side, v, cap);
		if (n > cap)
			n = cap;
		for (unsigned i = 0; i < n; i++)
			out[i] = (struct lvl){ v[i].price, v[i].qty, v[i].orders };
	} else {
		struct fh_l2_level v[256];
		unsigned cap = max < 256 ? max : 256;
		/* fh_l2book_levels() returns the side's level count, copies at most cap */
		n = fh_l2book_levels(ch->l2, instr, side, v, cap);
		if (n > cap)
			n = cap;
		for (unsigned i = 0; i < n; i++)
			out[i] = (struct lvl){ v[i].price, v[i].qty, v[i].orders };
	}
	return n;
}

static bool chan_has_book(const struct fh_rx_chan *ch, uint32_t instr)
{
	struct lvl l;
	return chan_levels(ch, instr, FH_SIDE_BID, &l, 1) || chan_levels(ch, instr, FH_SIDE_ASK, &l, 1);
}

static uint64_t chan_checksum(const struct fh_rx_chan *ch, uint32_t instr, unsigned depth)
{
	return ch->book ? fh_book_checksum(ch->book, instr, depth)
			: fh_l2book_checksum(ch->l2, instr, depth);
}
struct book_key {
	const char *sym;
	uint32_t instr;
};

static int cmp_key(const void *x, const void *y)
{
	const struct book_key *a = x, *b = y;
	int c = strcmp(a->sym, b->sym);
	return c ? c : (a->instr > b->instr) - (a->instr < b->instr);
}

/* The non-empty books of a channel sorted by symbol (malloc'ed; NULL on ENOMEM). */
static struct book_key *book_keys(const struct fh_rx_chan *ch, uint32_t *n)
{
	uint32_t max = chan_max_instr(ch);
	struct book_key *keys = calloc(max ? max : 1, sizeof(*keys));

	*n = 0;
	if (!keys)
		return NULL;
	for (uint32_t t = 0; t < max; t++)
		if (chan_has_book(ch, t))
			keys[(*n)++] = (struct book_key){ chan_symbol(ch, t), t };
	qsort(keys, *n, sizeof(*keys), cmp_key);
	return keys;
}

static int write_books(struct app *a, const char *path)
{
	FILE *f = fopen(path, "w");
	struct lvl lv[256];
	static const uint8_t sides[2] = { FH_SIDE_BID, FH_SIDE_ASK };

	if (!f)
		return -errno;
	for (unsigned i = 0; i < a->n_cores; i++) {
		for (unsigned k = 0; k < a->cores[i]->n_chans; k++) {
			struct fh_rx_chan *ch = &a->cores[i]->chans[k];
			uint32_t n;
			struct book_key *keys = book_keys(ch, &n);
			if (!keys) {
				fclose(f);
				return -ENOMEM;
			}
			for (uint32_t j = 0; j < n; j++) {
				for (unsigned s = 0; s < 2; s++) {
					unsigned nl = chan_levels(ch, keys[j].instr, sides[s], lv,
								  FH_ARRAY_SIZE(lv));
					for (unsigned l = 0; l < nl; l++) {
						char px[32];
						fh_price_format(lv[l].price, 4, px, sizeof(px));
						fprintf(f, "%s %s %c %u %s %" PRIu64 " %u\n", ch->cfg.name,
							keys[j].sym, sides[s], l + 1, px, lv[l].qty,
							lv[l].orders);
					}
				}
			}
			free(keys);
		}
	}
	return fclose(f) == 0 ? 0 : -EIO;
}

/*
 * The regression digest: "events <family> <count>" for every family with
 * events (what the RX cores handed to the publisher), then
 * "book <source> <symbol> <checksum>" for every non-empty book, sorted.
 */
static int write_digest(struct app *a, const char *path)
{
	static const char *const fams[] = { "book", "trades", "orders", "bars", "alerts",
					    "status", "reference" };
	uint64_t by_fam[FH_ARRAY_SIZE(fams)] = { 0 };
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	for (unsigned i = 0; i < a->n_cores; i++)
		for (unsigned t = 0; t < FH_EV__COUNT; t++)
			for (unsigned k = 0; k < FH_ARRAY_SIZE(fams); k++)
				if (!strcmp(fh_event_family(t), fams[k]))
					by_fam[k] += a->cores[i]->by_type[t];
	for (unsigned k = 0; k < FH_ARRAY_SIZE(fams); k++)
		if (by_fam[k])
			fprintf(f, "events %s %" PRIu64 "\n", fams[k], by_fam[k]);
	for (unsigned i = 0; i < a->n_cores; i++) {
		for (unsigned k = 0; k < a->cores[i]->n_chans; k++) {
			struct fh_rx_chan *ch = &a->cores[i]->chans[k];
			uint32_t n;
			struct book_key *keys = book_keys(ch, &n);
			if (!keys) {
				fclose(f);
				return -ENOMEM;
			}
			unsigned depth = ch->cfg.book.depth ? ch->cfg.book.depth : FH_BOOK_DEF_DEPTH;
			for (uint32_t j = 0; j < n; j++)
				fprintf(f, "book %s %s %016" PRIx64 "\n", ch->cfg.name, keys[j].sym,
					chan_checksum(ch, keys[j].instr, depth));
			free(keys);
		}
	}
	return fclose(f) == 0 ? 0 : -EIO;
}

static void print_summary(struct app *a, FILE *f, const struct fh_pub_stats *ps)
{
	fprintf(f, "{\"sources\":[");
	bool first = true;
	for (unsigned i = 0; i < a->n_cores; i++) {
		for (unsigned k = 0; k < a->cores[i]->n_chans; k++) {
			const struct fh_rx_chan *ch = &a->cores[i]->chans[k];
			if (ch->fix) {
				const struct fh_fix_session_stats *fs = fh_fix_session_stats(ch->fix);
				uint64_t no, ni;
				fh_fix_session_seqs(ch->fix, &no, &ni);
				fprintf(f, "%s{\"name\":\"%s\",\"id\":%u,\"protocol\":\"fix\",\"messages\":%" PRIu64
					",\"events\":%" PRIu64 ",\"connects\":%" PRIu64 ",\"logons\":%" PRIu64
					",\"disconnects\":%" PRIu64 ",\"msgs_in\":%" PRIu64 ",\"gaps\":%" PRIu64
					",\"resend_requests_out\":%" PRIu64 ",\"gap_fills_in\":%" PRIu64
					",\"poss_dup_in\":%" PRIu64 ",\"test_requests_out\":%" PRIu64
					",\"snapshot_requests\":%" PRIu64 ",\"rejects_out\":%" PRIu64
					",\"garbled_in\":%" PRIu64 ",\"next_out\":%" PRIu64 ",\"next_in\":%" PRIu64
					",\"crossed\":%" PRIu64 ",\"accounted\":true}",
					first ? "" : ",", ch->cfg.name, ch->cfg.source_id, ch->st.messages,
					ch->st.events, fs->connects, fs->logons, fs->disconnects, fs->msgs_in,
					fs->gaps, fs->resend_requests_out, fs->gap_fills_in, fs->poss_dup_in,
					fs->test_requests_out, fs->snapshot_requests, fs->rejects_out,
					fs->garbled_in, no, ni, ch->l2->crossed);
				first = false;
				continue;
			}
			const struct fh_book_stats *bs = fh_book_stats(ch->book);
			uint64_t frame_drops = 0, frame_rej = 0, mold_rej = 0, dec_rej = 0;
			for (unsigned r = FH_PKT_SKIP_NOT_IPV4; r < FH_PKT__COUNT; r++) {
				if (r >= FH_PKT_FIRST_REJ)
					frame_rej += ch->st.frame_rejects[r];
				else
					frame_drops += ch->st.frame_rejects[r];
			}
			for (unsigned r = 1; r < FH_ITCH_REJ__COUNT; r++) {
				mold_rej += ch->mold.rejects[r];
				dec_rej += ch->dec.rejects[r];
			}
			struct fh_dpdk_port_stats pst = { 0 };
			if (ch->cfg.kind == FH_RX_DPDK)
				fh_dpdk_port_stats(ch->cfg.port, &pst);
			/* Every frame is a UDP datagram of ours, a drop or a reject;
			 * every datagram of ours (and every re-request answer) is
			 * accepted by MoldUDP64, rejected, or a second copy dropped
			 * while the first was held. */
			uint64_t in = ch->st.udp, held_out = 0;
			if (ch->rec) {
				in += ch->rec->st.answer_pkts;
				held_out = ch->rec->sb.st.dups + ch->rec->st.snapshot_dropped;
			}
			bool ok = in == ch->mold.packets + mold_rej + held_out &&
				  (ch->cfg.kind == FH_RX_KUDP ||
				   ch->st.frames == ch->st.udp + ch->st.not_ours + frame_drops + frame_rej);
			fprintf(f, "%s{\"name\":\"%s\",\"id\":%u,\"frames\":%" PRIu64 ",\"expected_frames\":%" PRIu64
				",\"udp\":%" PRIu64 ",\"not_ours\":%" PRIu64 ",\"frame_drops\":%" PRIu64
				",\"frame_rejects\":%" PRIu64 ",\"mold_packets\":%" PRIu64 ",\"mold_rejects\":%" PRIu64
				",\"heartbeats\":%" PRIu64 ",\"dup_packets\":%" PRIu64 ",\"dup_msgs\":%" PRIu64
				",\"gaps\":%" PRIu64 ",\"gap_msgs\":%" PRIu64 ",\"messages\":%" PRIu64
				",\"decode_rejects\":%" PRIu64 ",\"events\":%" PRIu64 ",\"sessions\":%" PRIu64
				",\"orphans\":%" PRIu64 ",\"integrity_warnings\":%" PRIu64 ",\"live_orders\":%" PRIu64
				",\"crossed\":%" PRIu64 ",\"locked\":%" PRIu64 ",\"first_seq\":%" PRIu64
				",\"last_seq\":%" PRIu64 ",\"port_ipackets\":%" PRIu64 ",\"port_imissed\":%" PRIu64
				",\"accounted\":%s,\"gap_ranges\":[",
				first ? "" : ",", ch->cfg.name, ch->cfg.source_id, ch->st.frames,
				ch->cfg.expected_frames, ch->st.udp, ch->st.not_ours, frame_drops, frame_rej,
				ch->mold.packets, mold_rej, ch->mold.heartbeats, ch->mold.dup_packets,
				ch->mold.dup_msgs, ch->mold.gaps_count, ch->mold.gap_msgs, ch->dec.messages,
				dec_rej, ch->st.events, ch->st.sessions, fh_book_orphans(ch->book),
				fh_book_integrity_warnings(ch->book), bs->live_orders, bs->crossed,
				bs->locked, ch->st.first_seq, ch->st.last_seq, pst.ipackets, pst.imissed,
				ok ? "true" : "false");
			for (unsigned g = 0; g < ch->n_gap_log; g++)
				fprintf(f, "%s[%" PRIu64 ",%" PRIu64 "]", g ? "," : "", ch->gap_log[g][0],
					ch->gap_log[g][1]);
			fprintf(f, "],\"gap_ranges_more\":%" PRIu64, ch->gap_log_more);
			if (ch->rec) {
				const struct fh_rx_rec *r = ch->rec;
				fprintf(f, ",\"recovery\":{\"held\":%" PRIu64 ",\"held_dups\":%" PRIu64 ",\"held_peak\":%u,\"expired\":%" PRIu64
					",\"forced\":%" PRIu64 ",\"holes\":%" PRIu64 ",\"requests\":%" PRIu64
					",\"resends\":%" PRIu64 ",\"answer_packets\":%" PRIu64
					",\"recovered_msgs\":%" PRIu64 ",\"failed_ranges\":%" PRIu64
					",\"failed_msgs\":%" PRIu64 ",\"lost_msgs\":%" PRIu64
					",\"snapshots\":%" PRIu64 ",\"snapshot_failed\":%" PRIu64
					",\"snapshot_msgs\":%" PRIu64 ",\"snapshot_next_seq\":%" PRIu64
					",\"snapshot_dropped\":%" PRIu64 "}",
					r->sb.st.held, r->sb.st.dups, r->sb.st.peak, r->sb.st.expired, r->sb.st.forced,
					r->st.holes, r->st.requests, r->q.st.resends, r->st.answer_pkts,
					r->st.recovered_msgs, r->st.failed_ranges, r->q.st.failed_msgs,
					r->st.lost_msgs, r->st.snapshots, r->st.snapshot_failed,
					r->st.snapshot_msgs, r->st.snapshot_next_seq, r->st.snapshot_dropped);
			}
			uint64_t stale = 0, named = 0;
			for (uint32_t t = 0; t < fh_book_max_instruments(ch->book); t++) {
				if (!fh_book_symbol(ch->book, t)[0] && !fh_book_order_count(ch->book, t))
					continue;
				named++;
				stale += fh_book_is_stale(ch->book, t);
			}
			fprintf(f, ",\"books\":%" PRIu64 ",\"stale_books\":%" PRIu64 "}", named, stale);
			first = false;
		}
	}
	uint64_t ring = 0, waits = 0;
	for (unsigned i = 0; i < a->n_cores; i++) {
		ring += a->cores[i]->ring_events;
		waits += a->cores[i]->ring_full_spins;
	}
	uint64_t produced = 0, delivered = 0, failed = 0, probes_dropped = 0;
	for (unsigned i = 0; i < a->n_cores; i++)
		probes_dropped += a->cores[i]->probes.dropped;
	for (unsigned k = 0; k < FH_KF__COUNT; k++) {
		produced += ps->kafka.produced[k];
		delivered += ps->kafka.delivered[k];
		failed += ps->kafka.failed[k];
	}
	fprintf(f, "],\"kafka_bootstrap\":\"%s\",\"kafka_families\":{", a->kafka_bootstrap);
	for (unsigned k = 0; k < FH_KF__COUNT; k++)
		fprintf(f, "%s\"%s\":{\"produced\":%" PRIu64 ",\"delivered\":%" PRIu64 ",\"failed\":%" PRIu64
			",\"skipped\":%" PRIu64 "}",
			k ? "," : "", fh_kafka_family_name((enum fh_kafka_family)k), ps->kafka.produced[k],
			ps->kafka.delivered[k], ps->kafka.failed[k], ps->kafka.skipped[k]);
	fprintf(f, "},\"heartbeats\":%" PRIu64 ",\"snapshot_requests\":%" PRIu64 ",\"snapshot_calls\":%" PRIu64
		",\"kafka_accepted\":%" PRIu64 ",\"spilled\":%" PRIu64 ",\"spill_read\":%" PRIu64
		",\"spill_dropped\":%" PRIu64 ",\"lat_probes_shm\":%" PRIu64 ",\"lat_probes_kafka\":%" PRIu64
		",\"lat_probes_lost\":%" PRIu64 ",\"lat_probes_dropped\":%" PRIu64,
		ps->heartbeats, ps->snapshot_requests, ps->snapshot_calls, ps->kafka_accepted, ps->spilled,
		ps->spill_read, ps->spill_dropped, ps->lat_probes_shm, ps->kafka.lat_probes,
		ps->lat_probes_lost + ps->kafka.lat_lost, probes_dropped);
	if (a->cfg.publish.shm.enabled)
		fprintf(f, ",\"shm_readers\":{\"n\":%u,\"lapped_now\":%u,\"lapped_total\":%" PRIu64
			",\"lost_total\":%" PRIu64 ",\"max_lag\":%" PRIu64 ",\"reclaimed\":%" PRIu64 "}",
			a->readers.n, a->readers.lapped_now, a->readers.lapped_total, a->readers.lost_total,
			a->readers.max_lag, a->readers.reclaimed);
	if (a->cfg.journal.enabled) {
		const struct fh_journal_stats *js = &a->journal_final;
		fprintf(f, ",\"journal\":{\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"files\":%" PRIu64
			",\"dropped\":%" PRIu64 ",\"direct\":%s,\"failed\":%s,\"warm_files\":%u}",
			js->packets, js->bytes, js->files, js->dropped_full + js->dropped_failed,
			js->direct ? "true" : "false", js->failed ? "true" : "false", a->n_warm);
	}
	fprintf(f, ",\"ring_events\":%" PRIu64 ",\"ring_full_waits\":%" PRIu64
		",\"published\":%" PRIu64 ",\"shm_written\":%" PRIu64 ",\"kafka_produced\":%" PRIu64
		",\"kafka_delivered\":%" PRIu64 ",\"kafka_failed\":%" PRIu64 ",\"kafka_dropped\":%" PRIu64
		",\"kafka_undelivered\":%" PRIu64 ",\"dead_letters\":%" PRIu64 "}\n",
		ring, waits, ps->events, ps->shm_written, produced, delivered, failed, ps->kafka_dropped,
		ps->kafka_undelivered, a->dlq.records);
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", required_argument, NULL, 'C' },
		{ "exit-at-end", no_argument, NULL, 'e' },
		{ "duration", required_argument, NULL, 'd' },
		{ "books-out", required_argument, NULL, 'b' },
		{ "summary", required_argument, NULL, 's' },
		{ "digest", required_argument, NULL, 'D' },
		{ "spin", no_argument, NULL, 'S' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:ed:b:s:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'C': return 1;
		case 'e': o->exit_at_end = true; break;
		case 'd': o->duration_s = atof(optarg); break;
		case 'b': o->books_out = optarg; break;
		case 's': o->summary = optarg; break;
		case 'D': o->digest = optarg; break;
		case 'S': o->spin = true; break;
		case 'q': o->quiet = true; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	return 0;
}

int main(int argc, char **argv)
{
	static struct app app;
	struct app *a = &app;
	char err[1024];
	char *eal_argv[64];
	char eal_buf[8192];
	static struct rx_arg xs[FH_CFG_MAX_RX_CORES];
	pthread_t ctl, rx_threads[FH_CFG_MAX_RX_CORES];
	bool rx_pthread[FH_CFG_MAX_RX_CORES] = { 0 };
	int ret, rc = 0;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--check-config"))
			return fh_config_check_main(argc, argv);
	if (parse_args(argc, argv, &a->o))
		usage();
	if (!a->o.config)
		a->o.config = "config/default.yaml";
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* 1. Config: every error stops here, before anything starts. */
	ret = fh_config_load(a->o.config, &a->cfg, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "fh: %s\n", err);
		return 2;
	}
	fh_tsc_calibrate(50);
	a->start_ns = fh_clock_ns(CLOCK_REALTIME);
	logj("info", "config", "\"file\":\"%s\",\"sources\":%u,\"tsc_hz\":%.0f", a->o.config,
	     a->cfg.n_sources, fh_tsc_clock.hz);

	ret = fh_dlq_open(&a->dlq, a->cfg.dead_letter.path[0] ? a->cfg.dead_letter.path : NULL,
			  a->cfg.dead_letter.max_bytes);
	if (ret < 0) {
		fprintf(stderr, "fh: dead_letter.path %s: %s\n", a->cfg.dead_letter.path, strerror(-ret));
		return 1;
	}

	/* 2. DPDK EAL from the config. */
	int eal_argc = fh_config_eal_argv(&a->cfg, "fh", eal_argv, (int)FH_ARRAY_SIZE(eal_argv),
					  eal_buf, sizeof(eal_buf));
	if (eal_argc < 0) {
		fprintf(stderr, "fh: cannot build EAL arguments: %s\n", strerror(-eal_argc));
		return 1;
	}
	ret = fh_dpdk_eal_init(eal_argc, eal_argv, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "fh: %s\n", err);
		return 1;
	}
	a->eal = true;

	/* 3. Everything the data path needs, before the first packet. */
	if (a->cfg.journal.enabled) {
		ret = open_journal(a, err, sizeof(err));
		if (ret < 0) {
			fprintf(stderr, "fh: %s\n", err);
			rc = 1;
			goto out_cleanup;
		}
	}
	ret = build_cores(a, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "fh: %s\n", err);
		rc = 1;
		goto out_cleanup;
	}
	ret = build_publisher(a, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "fh: publisher: %s\n", err);
		rc = 1;
		goto out_cleanup;
	}
	struct fh_metrics_cfg mc = {
		.n_cores = a->n_cores + 2,
		.max_series = 4096,
		.hdr = { .lowest = (int64_t)a->cfg.telemetry.hdr.lowest_ns,
			 .highest = (int64_t)a->cfg.telemetry.hdr.highest_ns,
			 .sigfigs = (int)a->cfg.telemetry.hdr.sig_digits },
	};
	a->metrics = fh_metrics_create(&mc);
	if (!a->metrics) {
		fprintf(stderr, "fh: cannot create the metrics registry: %s\n", strerror(errno));
		rc = 1;
		goto out_cleanup;
	}
	for (unsigned i = 0; i < a->n_cores; i++)
		xs[i] = (struct rx_arg){ a, i };
	/* DPDK's mempools and heaps are exported with the process memory */
	fh_memstat_set_pools(fh_dpdk_memstat_pools, NULL);
	fh_memstat_read(&a->mem);
	if (register_metrics(a, xs) < 0) {
		rc = 1;
		goto out_cleanup;
	}
	if (a->cfg.telemetry.http.enabled) {
		struct fh_http_cfg hc = { .addr = a->cfg.telemetry.http.host,
					  .port = a->cfg.telemetry.http.port };
		a->http = fh_http_create(&hc);
		if (!a->http || fh_http_serve_metrics(a->http, a->metrics) < 0) {
			fprintf(stderr, "fh: telemetry.http.listen %s: %s\n",
				a->cfg.telemetry.http.listen, strerror(errno));
			rc = 1;
			goto out_cleanup;
		}
	}
	fh_memstat_read(&a->mem);
	fh_metrics_tick(a->metrics, fh_clock_ns(CLOCK_REALTIME));

	if (!a->o.quiet) {
		struct fh_kafka *k = fh_pub_kafka(a->pub);
		printf("fh %s: %u sources on %u RX cores\n", FH_VERSION, a->cfg.n_sources, a->n_cores);
		if (a->http)
			printf("  dashboard   http://%s:%u/   (metrics /metrics, status /status, histograms /hdr)\n",
			       a->cfg.telemetry.http.host, fh_http_port(a->http));
		if (a->cfg.publish.shm.enabled)
			printf("  shm ring    %s/%s   subscribe: %s/fh-sub %s%s%s%s\n",
			       a->cfg.publish.shm.path, a->cfg.publish.shm.name,
			       getenv("FH_BUILD") ? getenv("FH_BUILD") : "build",
			       strcmp(a->cfg.publish.shm.path, "/dev/shm") ? "-d " : "",
			       strcmp(a->cfg.publish.shm.path, "/dev/shm") ? a->cfg.publish.shm.path : "",
			       strcmp(a->cfg.publish.shm.path, "/dev/shm") ? " " : "", a->cfg.publish.shm.name);
		if (k)
			printf("  kafka       %s   consume: kcat -C -b %s -t %s.trades -e\n",
			       fh_kafka_bootstrap(k), fh_kafka_bootstrap(k), a->cfg.publish.kafka.topic_prefix);
		if (a->dlq.f)
			printf("  dead letters %s   inspect: fh-dlq %s\n", a->cfg.dead_letter.path,
			       a->cfg.dead_letter.path);
		printf("  stop with Ctrl-C\n");
	}
	logj("info", "started", "\"rx_cores\":%u,\"http_port\":%u", a->n_cores,
	     a->http ? fh_http_port(a->http) : 0);
	if (a->kafka_bootstrap[0])
		logj("info", "kafka", "\"bootstrap\":\"%s\",\"mock\":%s,\"topic_prefix\":\"%s\"",
		     a->kafka_bootstrap, a->cfg.publish.kafka.mock ? "true" : "false",
		     a->cfg.publish.kafka.topic_prefix);

	/* 4. Run: RX cores on their lcores, the control thread, the publisher here. */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	a->rx_running = (int)a->n_cores;
	for (unsigned i = 0; i < a->n_cores; i++) {
		unsigned lc = (unsigned)a->core_lcore[i];
		if (lc != rte_get_main_lcore() && rte_lcore_is_enabled(lc) &&
		    rte_eal_remote_launch(rx_main, &xs[i], lc) == 0)
			continue;
		/* Not an EAL worker lcore (e.g. one CPU): a plain thread. */
		if (pthread_create(&rx_threads[i], NULL, rx_thread, &xs[i]) != 0) {
			fprintf(stderr, "fh: cannot start RX core %u\n", i);
			a->rx_stop = 1;
			a->rx_running--;
			rc = 1;
			continue;
		}
		rx_pthread[i] = true;
	}
	bool ctl_started = pthread_create(&ctl, NULL, control_thread, a) == 0;
	if (!ctl_started) {
		fprintf(stderr, "fh: cannot start the control thread\n");
		a->rx_stop = 1;
		rc = 1;
	}
	publisher_loop(a);

	/* 5. Drain: RX cores are out of their loops and the rings are empty. */
	rte_eal_mp_wait_lcore();
	for (unsigned i = 0; i < a->n_cores; i++)
		if (rx_pthread[i])
			pthread_join(rx_threads[i], NULL);
	while (fh_pub_do_work(a->pub))
		;
	if (a->journal) {
		/* the RX cores have stopped: everything they pushed goes to disk */
		fh_journal_flush(a->journal);
		fh_journal_stats(a->journal, &a->journal_final);
	}
	/* The control thread's gauges read the publisher: stop it first. */
	a->ctl_stop = 1;
	if (ctl_started)
		pthread_join(ctl, NULL);
	if (fh_pub_shm(a->pub))
		fh_shm_readers(fh_pub_shm(a->pub), &a->readers);
	if (a->journal) {
		ret = fh_journal_close(a->journal);
		a->journal = NULL;
		if (ret < 0)
			logj("error", "journal", "\"close\":\"%s\"", strerror(-ret));
	}
	struct fh_pub_stats ps;
	int flush_ms = (int)(a->cfg.publish.kafka.flush_timeout_ns / 1000000ull);
	uint64_t undelivered = fh_pub_close(a->pub, flush_ms, false, &ps);
	a->pub = NULL;
	fh_dlq_flush(&a->dlq);
	if (undelivered)
		logj("warning", "kafka_undelivered", "\"events\":%" PRIu64, undelivered);
	if (a->rx_abort) {
		logj("error", "crossed_book_abort", "\"policy\":\"abort\"");
		rc = 3;
	}
	if (a->o.books_out && write_books(a, a->o.books_out) < 0) {
		fprintf(stderr, "fh: --books-out %s: %s\n", a->o.books_out, strerror(errno));
		rc = 1;
	}
	if (a->o.digest && write_digest(a, a->o.digest) < 0) {
		fprintf(stderr, "fh: --digest %s: %s\n", a->o.digest, strerror(errno));
		rc = 1;
	}
	print_summary(a, stdout, &ps);
	if (a->o.summary) {
		FILE *f = fopen(a->o.summary, "w");
		if (f) {
			print_summary(a, f, &ps);
			fclose(f);
		}
	}
	logj("info", "stopped", "\"exit\":%d", rc);

out_cleanup:
	if (a->pub)
		fh_pub_close(a->pub, 0, false, NULL);
	if (a->journal)
		fh_journal_close(a->journal);
	for (unsigned i = 0; i < a->n_warm; i++)
		free(a->warm_files[i]);
	free(a->warm_files);
	if (a->http)
		fh_http_destroy(a->http);
	for (unsigned i = 0; i < a->n_cores; i++)
		fh_rx_core_destroy(a->cores[i]);
	for (unsigned i = 0; i < a->n_ports; i++)
		fh_dpdk_port_close(&a->ports[i]);
	for (unsigned s = 0; s < FH_CFG_MAX_SOURCES; s++)
		for (unsigned l = 0; l < FH_RX_MAX_LINES; l++)
			if (a->kudp[s][l].buf)
				fh_kudp_close(&a->kudp[s][l]);
	if (a->metrics)
		fh_metrics_destroy(a->metrics);
	for (unsigned s = 0; s < FH_CFG_MAX_SOURCES; s++)
		free(a->frame_ts[s]);
	fh_dlq_close(&a->dlq);
	if (a->eal)
		rte_eal_cleanup();
	return rc;
}
