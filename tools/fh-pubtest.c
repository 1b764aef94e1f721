/* SPDX-License-Identifier: MIT */
/* fh-pubtest.c: publisher test driver (synthetic RX cores -> SPSC -> publisher) and a checking shm reader. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fh_pubcheck.h"
#include "fh_publisher.h"
#include "fh_sub.h"
#include "fh_time.h"

/*
 * Driver: K generator threads stand in for the RX cores. Generator r is
 * source r+1 and owns the instruments i with i % K == r; it announces them
 * (FH_EV_INSTRUMENT), then emits a mix of every event family with seq
 * 1, 2, 3, ... per source, keeps the true L2 books, and answers snapshot
 * requests by sending FH_EV_BOOK_SNAPSHOT plus the levels (FH_L2_F_SNAPSHOT)
 * through its own ring. The main thread is the publisher agent.
 *
 * Reader (--read): maps the ring like any app, checks order and positions,
 * rebuilds books (after a snapshot when --snapshot), optionally slowly.
 */

#define MAX_RINGS 16
#define MAX_INSTR 4096
#define MID_BASE (100 * FH_PRICE_SCALE)
#define TICK (FH_PRICE_SCALE / 100)

static const char *const tickers[] = {
	"AAPL", "MSFT", "AMZN", "GOOGL", "META", "NVDA", "TSLA", "BRK.B", "JPM", "V",
	"JNJ",	"WMT",	"PG",	"XOM",	 "MA",	 "HD",	 "CVX",	 "KO",	  "PEP", "ABBV",
	"MRK",	"AVGO", "COST", "ADBE",	 "CSCO", "TMO",	 "MCD",	 "ACN",	  "NFLX", "AMD",
};

struct gen {
	pthread_t thr;
	struct fh_spsc *ring;
	uint16_t source;
	unsigned k, nrings, ninstr;
	uint64_t events; /* to generate, plus snapshots */
	uint64_t rate;   /* events/s, 0: unpaced */
	uint64_t seq;
	uint64_t generated;
	uint64_t full_spins;
	uint64_t rng;
	struct fh_pubcheck truth; /* the true books */
	uint8_t want_snap[MAX_INSTR]; /* set by the publisher thread, cleared here */
	int done;
};

static struct gen gens[MAX_RINGS];
static unsigned nrings = 2;
static volatile sig_atomic_t stop_sig;

static void on_signal(int s)
{
	(void)s;
	stop_sig = 1;
}

static uint64_t rnd(struct gen *g)
{
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	return g->rng;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };
	nanosleep(&ts, NULL);
}

static void emit(struct gen *g, struct fh_event *ev)
{
	ev->source_id = g->source;
	ev->seq = ++g->seq;
	ev->exch_ts_ns = g->seq * 1000;
	ev->recv_ts_ns = fh_tsc_wall_ns(fh_rdtsc());
	while (fh_spsc_enqueue(g->ring, ev) == FH_PUB_BACK_PRESSURED) {
		/* an RX core would count and drop; the driver must not lose */
		g->full_spins++;
		sched_yield();
	}
	g->generated++;
}

static void snapshot(struct gen *g, uint32_t instr)
{
	struct fh_pc_book *b = fh_pubcheck_book(&g->truth, g->source, instr, true);
	struct fh_event ev;
	if (!b)
		return;
	fh_event_init(&ev, FH_EV_BOOK_SNAPSHOT);
	ev.instrument = instr;
	ev.u.snap.bid_levels = (uint16_t)b->n[0];
	ev.u.snap.ask_levels = (uint16_t)b->n[1];
	ev.u.snap.depth = FH_PC_LEVELS;
	emit(g, &ev);
	unsigned total = b->n[0] + b->n[1], k = 0;
	for (int s = 0; s < 2; s++)
		for (unsigned l = 0; l < b->n[s]; l++) {
			fh_event_init(&ev, FH_EV_L2_UPDATE);
			ev.instrument = instr;
			ev.u.l2.side = s ? FH_SIDE_ASK : FH_SIDE_BID;
			ev.u.l2.level = (uint16_t)(l + 1);
			ev.u.l2.action = FH_L2_NEW;
			ev.u.l2.price = b->lv[s][l].price;
			ev.u.l2.qty = b->lv[s][l].qty;
			ev.u.l2.orders = b->lv[s][l].orders;
			ev.u.l2.flags = FH_L2_F_SNAPSHOT | (++k == total ? FH_L2_F_LAST : 0);
			emit(g, &ev);
		}
}

static void one_event(struct gen *g)
{
	uint32_t instr = g->k + g->nrings * (uint32_t)(rnd(g) % ((g->ninstr - g->k + g->nrings - 1) / g->nrings));
	unsigned r = (unsigned)(rnd(g) % 100);
	int64_t mid = MID_BASE + (int64_t)instr * FH_PRICE_SCALE;
	struct fh_event ev;

	if (r < 55) {
		struct fh_pc_book *b = fh_pubcheck_book(&g->truth, g->source, instr, true);
		int s = (int)(rnd(g) & 1);
		int64_t px = s ? mid + (int64_t)(1 + rnd(g) % 10) * TICK : mid - (int64_t)(1 + rnd(g) % 10) * TICK;
		unsigned i, found = 0;
		for (i = 0; b && i < b->n[s]; i++)
			if (b->lv[s][i].price == px) {
				found = 1;
				break;
			}
		fh_event_init(&ev, FH_EV_L2_UPDATE);
		ev.instrument = instr;
		ev.u.l2.side = s ? FH_SIDE_ASK : FH_SIDE_BID;
		ev.u.l2.price = px;
		ev.u.l2.action = !found ? FH_L2_NEW : (rnd(g) % 4 == 0 ? FH_L2_DELETE : FH_L2_CHANGE);
		ev.u.l2.qty = ev.u.l2.action == FH_L2_DELETE ? 0 : 100 * (1 + rnd(g) % 50);
		ev.u.l2.orders = ev.u.l2.action == FH_L2_DELETE ? 0 : (uint32_t)(1 + rnd(g) % 5);
		ev.u.l2.level = (uint16_t)(i + 1);
		ev.u.l2.flags = FH_L2_F_LAST;
		if (b)
			fh_pubcheck_apply_l2(&g->truth, b, &ev.u.l2);
	} else if (r < 70) {
		fh_event_init(&ev, FH_EV_TRADE);
		ev.instrument = instr;
		ev.u.trade.price = mid + (int64_t)(rnd(g) % 21) * TICK - 10 * TICK;
		ev.u.trade.qty = 100 * (1 + rnd(g) % 10);
		ev.u.trade.match_no = g->seq;
		ev.u.trade.side = rnd(g) & 1 ? FH_SIDE_BID : FH_SIDE_ASK;
		ev.u.trade.kind = FH_TRADE_EXEC;
	} else if (r < 80) {
		fh_event_init(&ev, FH_EV_ORDER_ADD);
		ev.instrument = instr;
		ev.u.add.order_ref = g->seq;
		ev.u.add.price = mid - 5 * TICK;
		ev.u.add.qty = 100;
		ev.u.add.side = FH_SIDE_BID;
	} else if (r < 85) {
		struct fh_pc_book *b = fh_pubcheck_book(&g->truth, g->source, instr, true);
		fh_event_init(&ev, FH_EV_BBO);
		ev.instrument = instr;
		ev.u.bbo.bid_px = b && b->n[0] ? b->lv[0][0].price : FH_PRICE_NONE;
		ev.u.bbo.bid_qty = b && b->n[0] ? b->lv[0][0].qty : 0;
		ev.u.bbo.ask_px = b && b->n[1] ? b->lv[1][0].price : FH_PRICE_NONE;
		ev.u.bbo.ask_qty = b && b->n[1] ? b->lv[1][0].qty : 0;
	} else if (r < 88) {
		fh_event_init(&ev, FH_EV_BAR);
		ev.instrument = instr;
		ev.u.bar.open = mid;
		ev.u.bar.high = mid + TICK;
		ev.u.bar.low = mid - TICK;
		ev.u.bar.close = mid;
	} else if (r < 90) {
		fh_event_init(&ev, FH_EV_VWAP);
		ev.instrument = instr;
		ev.u.stats.volume = 1000;
		ev.u.stats.vwap = mid;
		ev.u.stats.trades = 3;
		ev.u.stats.window_kind = FH_WINDOW_SESSION;
	} else if (r < 91) {
		fh_event_init(&ev, FH_EV_ALERT);
		ev.instrument = instr;
		ev.u.alert.value = 4.5;
		ev.u.alert.threshold = 4.0;
		ev.u.alert.price = mid;
		ev.u.alert.severity = FH_SEV_WARNING;
	} else if (r < 92) {
		fh_event_init(&ev, FH_EV_TRADING_STATUS);
		ev.instrument = instr;
		ev.u.status.msg_type = 'H';
		ev.u.status.state = 'T';
	} else {
		fh_event_init(&ev, FH_EV_ORDER_DELETE);
		ev.instrument = instr;
		ev.u.cancel.order_ref = g->seq - 1;
	}
	emit(g, &ev);
}

static void *gen_main(void *arg)
{
	struct gen *g = arg;
	struct fh_event ev;
	uint64_t t0 = fh_clock_ns(CLOCK_MONOTONIC), n = 0;

	for (uint32_t i = g->k; i < g->ninstr; i += g->nrings) {
		fh_event_init(&ev, FH_EV_INSTRUMENT);
		ev.instrument = i;
		if (i < FH_ARRAY_SIZE(tickers))
			snprintf(ev.u.instr.symbol, sizeof(ev.u.instr.symbol), "%s", tickers[i]);
		else
			snprintf(ev.u.instr.symbol, sizeof(ev.u.instr.symbol), "%s%u",
				 tickers[i % FH_ARRAY_SIZE(tickers)], i);
		ev.u.instr.round_lot = 100;
		ev.u.instr.market_category = 'Q';
		emit(g, &ev);
	}
	while (n < g->events && !stop_sig) {
		for (uint32_t i = g->k; i < g->ninstr; i += g->nrings)
			if (__atomic_load_n(&g->want_snap[i], __ATOMIC_ACQUIRE)) {
				__atomic_store_n(&g->want_snap[i], 0, __ATOMIC_RELAXED);
				snapshot(g, i);
			}
		one_event(g);
		n++;
		if (g->rate && (n & 127) == 0) {
			uint64_t due = t0 + n * 1000000000ull / g->rate, now = fh_clock_ns(CLOCK_MONOTONIC);
			if (due > now)
				sleep_ns(due - now);
		}
	}
	__atomic_store_n(&g->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Publisher thread: a reader asked for a snapshot. */
static void on_snapshot(void *arg, uint16_t source, uint32_t instrument)
{
	(void)arg;
	for (unsigned r = 0; r < nrings; r++) {
		struct gen *g = &gens[r];
		if (source != 0xffff && source != g->source)
			continue;
		for (uint32_t i = g->k; i < g->ninstr; i += g->nrings)
			if (instrument == FH_INSTRUMENT_NONE || instrument == i)
				__atomic_store_n(&g->want_snap[i], 1, __ATOMIC_RELEASE);
	}
}

static void write_stats(const char *path, struct fh_pub *p, const struct fh_pub_stats *st)
{
	char tmp[512];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		perror(tmp);
		exit(1);
	}
	uint64_t gen = 0, spins = 0;
	for (unsigned r = 0; r < nrings; r++) {
		fprintf(f, "generated.%u %" PRIu64 "\n", gens[r].source, gens[r].generated);
		gen += gens[r].generated;
		spins += gens[r].full_spins;
	}
	fprintf(f, "generated %" PRIu64 "\nring_full_spins %" PRIu64 "\n", gen, spins);
	fprintf(f, "events %" PRIu64 "\nshm_written %" PRIu64 "\nheartbeats %" PRIu64 "\n", st->events,
		st->shm_written, st->heartbeats);
	fprintf(f, "snapshot_requests %" PRIu64 "\nsnapshot_calls %" PRIu64 "\n", st->snapshot_requests,
		st->snapshot_calls);
	fprintf(f, "kafka_accepted %" PRIu64 "\nkafka_dropped %" PRIu64 "\nspilled %" PRIu64
		   "\nspill_read %" PRIu64 "\nspill_dropped %" PRIu64 "\nkafka_lag %" PRIu64
		   "\nundelivered %" PRIu64 "\n",
		st->kafka_accepted, st->kafka_dropped, st->spilled, st->spill_read, st->spill_dropped,
		st->kafka_lag, st->kafka_undelivered);
	if (p && fh_pub_kafka(p)) {
		struct fh_kafka *k = fh_pub_kafka(p);
		fprintf(f, "bootstrap %s\n", fh_kafka_bootstrap(k));
		for (int i = 0; i < FH_KF__COUNT; i++)
			fprintf(f, "topic.%s %s\nproduced.%s %" PRIu64 "\ndelivered.%s %" PRIu64
				   "\nfailed.%s %" PRIu64 "\n",
				fh_kafka_family_name(i), fh_kafka_topic(k, i), fh_kafka_family_name(i),
				st->kafka.produced[i], fh_kafka_family_name(i), st->kafka.delivered[i],
				fh_kafka_family_name(i), st->kafka.failed[i]);
		fprintf(f, "produce_errors %" PRIu64 "\nqueue_full %" PRIu64 "\n", st->kafka.produce_errors,
			st->kafka.queue_full);
	}
	fclose(f);
	rename(tmp, path);
}

static bool file_exists(const char *p)
{
	return p && access(p, F_OK) == 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: fh-pubtest [driver options]   |   fh-pubtest --read NAME [reader options]\n"
		"driver: --shm NAME --dir DIR --capacity N --rings K --events N(per ring) --instruments N\n"
		"        --rate EV/S(per ring) --start-delay-ms M --heartbeat-ms M --snapshot-ms M\n"
		"        --kafka [--brokers B] --prefix P --json FAM[,FAM] --policy drop|spill --spill FILE\n"
		"        --kqueue N --linger-ms M --outage-at N --outage-ms M --flush-ms M\n"
		"        --stats FILE --books FILE --ready FILE --hold-until FILE --hold-max-ms M\n"
		"        --dlq FILE --group G --mode OCTAL --kprop KEY=VALUE (librdkafka property)\n"
		"reader: --read NAME --dir DIR --start newest|next|oldest --snapshot --slow-ns N\n"
		"        --books FILE --out FILE --ready FILE --max-s S\n");
	exit(2);
}

enum {
	O_SHM = 256, O_DIR, O_CAP, O_RINGS, O_EVENTS, O_INSTR, O_RATE, O_DELAY, O_HB, O_SNAPMS, O_KAFKA,
	O_BROKERS, O_PREFIX, O_JSON, O_POLICY, O_SPILL, O_KQ, O_LINGER, O_OUT_AT, O_OUT_MS, O_FLUSH,
	O_STATS, O_BOOKS, O_READY, O_HOLD, O_HOLDMAX, O_DLQ, O_GROUP, O_MODE, O_READ, O_START,
	O_SNAP, O_SLOW, O_OUT, O_MAXS, O_SEED, O_KPROP,
};

static const struct option opts[] = {
	{ "shm", 1, 0, O_SHM },		  { "dir", 1, 0, O_DIR },	  { "capacity", 1, 0, O_CAP },
	{ "rings", 1, 0, O_RINGS },	  { "events", 1, 0, O_EVENTS },	  { "instruments", 1, 0, O_INSTR },
	{ "rate", 1, 0, O_RATE },	  { "start-delay-ms", 1, 0, O_DELAY }, { "heartbeat-ms", 1, 0, O_HB },
	{ "snapshot-ms", 1, 0, O_SNAPMS }, { "kafka", 0, 0, O_KAFKA },	  { "brokers", 1, 0, O_BROKERS },
	{ "prefix", 1, 0, O_PREFIX },	  { "json", 1, 0, O_JSON },	  { "policy", 1, 0, O_POLICY },
	{ "spill", 1, 0, O_SPILL },	  { "kqueue", 1, 0, O_KQ },	  { "linger-ms", 1, 0, O_LINGER },
	{ "outage-at", 1, 0, O_OUT_AT },  { "outage-ms", 1, 0, O_OUT_MS }, { "flush-ms", 1, 0, O_FLUSH },
	{ "stats", 1, 0, O_STATS },	  { "books", 1, 0, O_BOOKS },	  { "ready", 1, 0, O_READY },
	{ "hold-until", 1, 0, O_HOLD },	  { "hold-max-ms", 1, 0, O_HOLDMAX }, { "dlq", 1, 0, O_DLQ },
	{ "group", 1, 0, O_GROUP },	  { "mode", 1, 0, O_MODE },	  { "read", 1, 0, O_READ },
	{ "start", 1, 0, O_START },	  { "snapshot", 0, 0, O_SNAP },	  { "slow-ns", 1, 0, O_SLOW },
	{ "out", 1, 0, O_OUT },		  { "max-s", 1, 0, O_MAXS },	  { "seed", 1, 0, O_SEED },
	{ "kprop", 1, 0, O_KPROP },
	{ 0, 0, 0, 0 },
};

struct args {
	const char *shm, *dir, *brokers, *prefix, *spill, *stats, *books, *ready, *hold, *dlq, *group;
	const char *read, *out;
	uint64_t capacity, events, rate, delay_ms, hb_ms, snap_ms, kq, outage_at, outage_ms, flush_ms;
	uint64_t hold_max_ms, slow_ns, max_s, seed;
	unsigned instruments, mode;
	int linger;
	bool kafka, json[FH_KF__COUNT], snapshot;
	enum fh_pub_full_policy policy;
	enum fh_sub_start start;
	const char *props[33];
	unsigned nprops;
};

static int run_reader(const struct args *a)
{
	struct fh_sub_opts so = { .start = a->start, .dir = a->dir, .writer_timeout_ms = 5000 };
	struct fh_sub *s = fh_sub_open(a->read, &so);
	struct fh_pubcheck c;
	struct fh_sub_msg m;
	unsigned empty = 0;
	uint64_t t_end = a->max_s ? fh_clock_ns(CLOCK_MONOTONIC) + a->max_s * 1000000000ull : 0;
	int rc = 0;

	if (!s) {
		fprintf(stderr, "fh-pubtest: open %s: %s\n", a->read, strerror(errno));
		return 1;
	}
	uint64_t first_pos = fh_sub_position(s);
	if (fh_pubcheck_init(&c, 4096, a->snapshot)) {
		fprintf(stderr, "fh-pubtest: out of memory\n");
		return 1;
	}
	if (a->snapshot) {
		int e;
		while ((e = fh_sub_request_snapshot(s, 0xffff, FH_INSTRUMENT_NONE)) == -EAGAIN)
			sleep_ns(1000000);
		if (e) {
			fprintf(stderr, "fh-pubtest: snapshot request: %s\n", strerror(-e));
			return 1;
		}
	}
	if (a->ready) {
		FILE *f = fopen(a->ready, "w");
		if (f)
			fclose(f);
	}
	for (;;) {
		int st = fh_sub_poll(s, &m);
		if (st == FH_SUB_EVENT) {
			empty = 0;
			fh_pubcheck_event(&c, m.pos, &m.ev);
			if (a->slow_ns) {
				uint64_t t = fh_clock_ns(CLOCK_MONOTONIC) + a->slow_ns;
				while (fh_clock_ns(CLOCK_MONOTONIC) < t)
					;
			}
			continue;
		}
		if (st == FH_SUB_LAPPED) {
			fh_pubcheck_lapped(&c, m.lost);
			continue;
		}
		if (st == FH_SUB_WRITER_GONE)
			break;
		if (st < 0) {
			fprintf(stderr, "fh-pubtest: poll: %s\n", strerror(-st));
			rc = 1;
			break;
		}
		if (++empty > 64)
			sleep_ns(20000);
		if (stop_sig || (t_end && fh_clock_ns(CLOCK_MONOTONIC) > t_end))
			break;
	}
	FILE *f = a->out ? fopen(a->out, "w") : stdout;
	if (!f)
		f = stdout;
	fprintf(f, "first_pos %" PRIu64 "\n", first_pos);
	fprintf(f, "events %" PRIu64 "\nlost %" PRIu64 "\nlaps %" PRIu64 "\norder_errors %" PRIu64
		   "\npos_errors %" PRIu64 "\nbook_errors %" PRIu64 "\nsnapshots %" PRIu64 "\n",
		c.events, c.lost, c.laps, c.order_errors, c.pos_errors, c.book_errors, c.snapshots);
	if (f != stdout)
		fclose(f);
	if (a->books && fh_pubcheck_dump_books(&c, a->books)) {
		perror(a->books);
		rc = 1;
	}
	fh_pubcheck_free(&c);
	fh_sub_close(s);
	return rc;
}

static int run_driver(const struct args *a)
{
	struct fh_spsc *rings[MAX_RINGS];
	struct fh_shm_cfg shm = { .name = a->shm, .dir = a->dir, .capacity = a->capacity,
				  .mode = a->mode, .group = a->group };
	struct fh_kafka_cfg kc = { .brokers = a->brokers, .topic_prefix = a->prefix,
				   .linger_ms = a->linger };
	struct fh_dlq dlq;
	char err[512];
	struct fh_pub_stats st;

	memcpy(kc.json, a->json, sizeof(kc.json));
	kc.props = a->props;
	if (fh_dlq_open(&dlq, a->dlq, 0)) {
		fprintf(stderr, "fh-pubtest: dlq %s: %s\n", a->dlq ? a->dlq : "-", strerror(errno));
		return 1;
	}
	kc.dlq = &dlq;
	for (unsigned r = 0; r < nrings; r++) {
		if (posix_memalign((void **)&rings[r], 64, fh_spsc_memsize(4096)))
			return 1;
		fh_spsc_init(rings[r], 4096);
		struct gen *g = &gens[r];
		g->ring = rings[r];
		g->source = (uint16_t)(r + 1);
		g->k = r;
		g->nrings = nrings;
		g->ninstr = a->instruments;
		g->events = a->events;
		g->rate = a->rate;
		g->rng = a->seed * 7919 + r + 1;
		if (fh_pubcheck_init(&g->truth, 4096, false))
			return 1;
	}
	struct fh_pub_cfg pc = {
		.rings = rings, .n_rings = nrings, .shm = a->shm ? &shm : NULL,
		.kafka = a->kafka ? &kc : NULL, .kafka_queue = a->kq, .policy = a->policy,
		.spill_path = a->spill, .heartbeat_ms = a->hb_ms, .snapshot_ms = a->snap_ms,
		.snapshot_cb = on_snapshot, .kafka_cpu = -1,
	};
	fh_tsc_calibrate(20);
	struct fh_pub *p = fh_pub_create(&pc, err, sizeof(err));
	if (!p) {
		fprintf(stderr, "fh-pubtest: %s\n", err);
		return 1;
	}
	if (fh_pub_kafka(p))
		printf("kafka bootstrap %s\n", fh_kafka_bootstrap(fh_pub_kafka(p)));
	fflush(stdout);
	if (a->ready) {
		FILE *f = fopen(a->ready, "w");
		if (f) {
			if (fh_pub_kafka(p))
				fprintf(f, "%s\n", fh_kafka_bootstrap(fh_pub_kafka(p)));
			fclose(f);
		}
	}
	/* keep the ring alive (heartbeats) while readers attach */
	uint64_t t_go = fh_clock_ns(CLOCK_MONOTONIC) + a->delay_ms * 1000000ull;
	while (fh_clock_ns(CLOCK_MONOTONIC) < t_go && !stop_sig) {
		fh_pub_do_work(p);
		sleep_ns(200000);
	}
	for (unsigned r = 0; r < nrings; r++)
		pthread_create(&gens[r].thr, NULL, gen_main, &gens[r]);

	int outage = 0; /* 0 before, 1 down, 2 back up */
	uint64_t t_down = 0, idle = 0;
	for (;;) {
		unsigned n = fh_pub_do_work(p);
		if (a->outage_ms && fh_pub_kafka(p)) {
			fh_pub_get_stats(p, &st);
			if (outage == 0 && st.events >= a->outage_at) {
				fh_kafka_mock_set_down(fh_pub_kafka(p), -1, true);
				t_down = fh_clock_ns(CLOCK_MONOTONIC);
				outage = 1;
				fprintf(stderr, "fh-pubtest: brokers down at event %" PRIu64 "\n", st.events);
			} else if (outage == 1 && fh_clock_ns(CLOCK_MONOTONIC) - t_down > a->outage_ms * 1000000ull) {
				fh_kafka_mock_set_down(fh_pub_kafka(p), -1, false);
				outage = 2;
				fprintf(stderr, "fh-pubtest: brokers up at event %" PRIu64 " (shm written %" PRIu64
					", kafka lag %" PRIu64 ", spilled %" PRIu64 ")\n",
					st.events, st.shm_written, st.kafka_lag, st.spilled);
			}
		}
		if (n) {
			idle = 0;
			continue;
		}
		bool all_done = true;
		for (unsigned r = 0; r < nrings; r++)
			if (!__atomic_load_n(&gens[r].done, __ATOMIC_ACQUIRE) || fh_spsc_count(rings[r]))
				all_done = false;
		if (all_done && outage != 1)
			break;
		if (++idle > 100)
			sleep_ns(20000);
	}
	for (unsigned r = 0; r < nrings; r++)
		pthread_join(gens[r].thr, NULL);
	fh_pub_do_work(p);

	/* Wait (bounded) for Kafka to deliver everything, keeping the shm ring alive. */
	uint64_t t_flush = fh_clock_ns(CLOCK_MONOTONIC) + a->flush_ms * 1000000ull;
	if (fh_pub_kafka(p)) {
		do {
			fh_pub_do_work(p);
			fh_pub_get_stats(p, &st);
			if (!st.kafka_lag)
				break;
			sleep_ns(2000000);
		} while (fh_clock_ns(CLOCK_MONOTONIC) < t_flush);
	}
	fh_pub_get_stats(p, &st);
	if (a->stats)
		write_stats(a->stats, p, &st);
	if (a->books) {
		struct fh_pubcheck all;
		/* merge the generators' true books into one dump */
		if (fh_pubcheck_init(&all, 4096, false) == 0) {
			for (unsigned r = 0; r < nrings; r++)
				for (unsigned i = 0; i < gens[r].truth.nbooks; i++) {
					struct fh_pc_book *b = &gens[r].truth.books[i];
					if (!b->key)
						continue;
					struct fh_pc_book *d = fh_pubcheck_book(&all, (uint16_t)((b->key - 1) >> 32),
										(uint32_t)(b->key - 1), true);
					if (d) {
						*d = *b;
						d->synced = true;
					}
				}
			fh_pubcheck_dump_books(&all, a->books);
			fh_pubcheck_free(&all);
		}
	}
	/* Hold: the mock cluster and the ring stay up for consumers; only the
	 * header heartbeat moves (no new events, so counts stay exact). */
	if (a->hold) {
		uint64_t t_hold = fh_clock_ns(CLOCK_MONOTONIC) + (a->hold_max_ms ? a->hold_max_ms : 60000) * 1000000ull;
		while (!file_exists(a->hold) && !stop_sig && fh_clock_ns(CLOCK_MONOTONIC) < t_hold) {
			if (fh_pub_shm(p))
				fh_shm_tick(fh_pub_shm(p), fh_clock_ns(CLOCK_REALTIME), NULL, NULL);
			sleep_ns(10000000);
		}
	}
	struct fh_pub_stats fin;
	uint64_t left = fh_pub_close(p, (int)(a->flush_ms ? a->flush_ms : 1000), true, &fin);
	if (a->stats) {
		/* the final counts (with the closing heartbeat) go next to the first file */
		char fp[512];
		snprintf(fp, sizeof(fp), "%s.final", a->stats);
		write_stats(fp, NULL, &fin);
	}
	fprintf(stderr, "fh-pubtest: events %" PRIu64 " shm_written %" PRIu64 " kafka accepted %" PRIu64
		" dropped %" PRIu64 " spilled %" PRIu64 " undelivered %" PRIu64 "\n",
		fin.events, fin.shm_written, fin.kafka_accepted, fin.kafka_dropped, fin.spilled, left);
	fh_dlq_close(&dlq);
	for (unsigned r = 0; r < nrings; r++) {
		fh_pubcheck_free(&gens[r].truth);
		free(rings[r]);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct args a = { .capacity = 65536, .events = 20000, .instruments = 16, .flush_ms = 30000,
			  .hb_ms = 100, .linger = 5, .seed = 1, .start = FH_SUB_START_NEWEST };
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_SHM: a.shm = optarg; break;
		case O_DIR: a.dir = optarg; break;
		case O_CAP: a.capacity = strtoull(optarg, NULL, 0); break;
		case O_RINGS: nrings = (unsigned)strtoul(optarg, NULL, 0); break;
		case O_EVENTS: a.events = strtoull(optarg, NULL, 0); break;
		case O_INSTR: a.instruments = (unsigned)strtoul(optarg, NULL, 0); break;
		case O_RATE: a.rate = strtoull(optarg, NULL, 0); break;
		case O_DELAY: a.delay_ms = strtoull(optarg, NULL, 0); break;
		case O_HB: a.hb_ms = strtoull(optarg, NULL, 0); break;
		case O_SNAPMS: a.snap_ms = strtoull(optarg, NULL, 0); break;
		case O_KAFKA: a.kafka = true; break;
		case O_BROKERS: a.brokers = optarg; break;
		case O_PREFIX: a.prefix = optarg; break;
		case O_JSON: {
			char *save, *t, *s = strdup(optarg);
			for (t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				int f = fh_kafka_family_parse(t);
				if (f < 0) {
					fprintf(stderr, "fh-pubtest: unknown family %s\n", t);
					return 2;
				}
				a.json[f] = true;
			}
			free(s);
			break;
		}
		case O_POLICY:
			if (!strcmp(optarg, "drop"))
				a.policy = FH_PUB_DROP_OLDEST;
			else if (!strcmp(optarg, "spill"))
				a.policy = FH_PUB_SPILL;
			else
				usage();
			break;
		case O_SPILL: a.spill = optarg; break;
		case O_KQ: a.kq = strtoull(optarg, NULL, 0); break;
		case O_LINGER: a.linger = atoi(optarg); break;
		case O_OUT_AT: a.outage_at = strtoull(optarg, NULL, 0); break;
		case O_OUT_MS: a.outage_ms = strtoull(optarg, NULL, 0); break;
		case O_FLUSH: a.flush_ms = strtoull(optarg, NULL, 0); break;
		case O_STATS: a.stats = optarg; break;
		case O_BOOKS: a.books = optarg; break;
		case O_READY: a.ready = optarg; break;
		case O_HOLD: a.hold = optarg; break;
		case O_HOLDMAX: a.hold_max_ms = strtoull(optarg, NULL, 0); break;
		case O_DLQ: a.dlq = optarg; break;
		case O_GROUP: a.group = optarg; break;
		case O_MODE: a.mode = (unsigned)strtoul(optarg, NULL, 8); break;
		case O_READ: a.read = optarg; break;
		case O_START:
			a.start = !strcmp(optarg, "next")     ? FH_SUB_START_NEXT
				  : !strcmp(optarg, "oldest") ? FH_SUB_START_OLDEST
							      : FH_SUB_START_NEWEST;
			break;
		case O_SNAP: a.snapshot = true; break;
		case O_SLOW: a.slow_ns = strtoull(optarg, NULL, 0); break;
		case O_OUT: a.out = optarg; break;
		case O_MAXS: a.max_s = strtoull(optarg, NULL, 0); break;
		case O_SEED: a.seed = strtoull(optarg, NULL, 0); break;
		case O_KPROP: {
			char *eq = strchr(optarg, '=');
			if (!eq || a.nprops + 2 >= FH_ARRAY_SIZE(a.props))
				usage();
			*eq = 0;
			a.props[a.nprops++] = optarg;
			a.props[a.nprops++] = eq + 1;
			break;
		}
		default: usage();
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (a.read)
		return run_reader(&a);
	if (nrings < 1 || nrings > MAX_RINGS || a.instruments < nrings || a.instruments > MAX_INSTR) {
		fprintf(stderr, "fh-pubtest: 1..%d rings, instruments in [rings, %d]\n", MAX_RINGS, MAX_INSTR);
		return 2;
	}
	if (!a.shm && !a.kafka)
		usage();
	return run_driver(&a);
}
