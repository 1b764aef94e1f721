/* SPDX-License-Identifier: MIT */
/* fh_publisher.c: publisher agent: drains RX rings into the shm ring and, via a bounded queue, Kafka. */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fh_publisher.h"
#include "fh_time.h"

#define KBURST 256
#define PEND_MAX 64                 /* probes recorded per fh_pub_do_work() call */
#define KPOS_SPILL (1ull << 63)     /* Kafka-path probe position is in the spill file */
#define STAT_ADD(x, n) __atomic_store_n(&(x), (x) + (n), __ATOMIC_RELAXED)
#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

struct fh_pub {
	struct fh_spsc **rings;
	unsigned n_rings;
	unsigned burst;
	struct fh_shm *shm;
	struct fh_kafka *k;
	struct fh_dlq *dlq; /* for events still queued at a timed-out shutdown */
	struct fh_spsc *kq;
	enum fh_pub_full_policy policy;
	uint16_t source_id;
	fh_pub_snapshot_cb snapshot_cb;
	void *snapshot_arg;

	/* spill file: the publisher appends, the Kafka thread reads back */
	int spill_fd;
	bool spilling;
	uint64_t spill_max;
	uint64_t spill_written; /* events in the file (published with release) */
	uint64_t spill_read;    /* events read back (Kafka thread, release) */

	/* timers, in TSC ticks */
	uint64_t t_start, tick_every, last_tick, hb_every, last_hb, snap_every, last_snap;
	uint64_t hb_seq;

	/* publisher-thread counters */
	uint64_t events, batches, shm_written, heartbeats, snapshot_requests, snapshot_calls;
	uint64_t kafka_accepted, kafka_dropped, spill_dropped;

	/* Kafka thread */
	pthread_t kthr;
	bool kthr_started;
	int stop;               /* set by fh_pub_close */
	uint64_t deadline_ns;   /* CLOCK_MONOTONIC deadline for draining and flushing */
	uint64_t undelivered;   /* left at shutdown */
	uint64_t refused;       /* produce errors (-EIO), counted in fh_kafka too */
	int kafka_cpu;

	/* latency probes (fh_probe.h): RX cores -> publisher, publisher -> Kafka thread */
	struct fh_probe_ring **probes; /* n_rings entries, NULL when none */
	fh_pub_lat_fn lat_fn;
	void *lat_arg;
	/* Positions of probed events on the Kafka path, in the order the
	 * Kafka thread consumes them: pos = queue position (kq head after the
	 * event) or KPOS_SPILL | spill position (spill_written after it). */
	struct fh_probe_ring *kprobes;
	struct fh_probe khead; /* Kafka thread: next probe to attach */
	bool khead_ok;
	uint64_t lat_shm, lat_kafka, lat_lost;
};

static uint64_t ms_to_ticks(uint64_t ms)
{
	return (uint64_t)((double)ms * fh_tsc_clock.hz / 1e3);
}

static void push_kafka(struct fh_pub *p, const struct fh_event *ev, unsigned n);

/* Kafka thread: queue first (older), then the spill file; never more than
 * one source at a time, which keeps the order (see push_kafka). */
static unsigned kafka_take(struct fh_pub *p, struct fh_event *buf, bool *from_spill,
			   uint64_t *first)
{
	unsigned n = fh_spsc_dequeue_burst_pos(p->kq, buf, KBURST, first);
	*from_spill = false;
	if (n || p->spill_fd < 0)
		return n;
	uint64_t w = __atomic_load_n(&p->spill_written, __ATOMIC_ACQUIRE);
	uint64_t r = p->spill_read;
	if (r >= w)
		return 0;
	n = w - r < KBURST ? (unsigned)(w - r) : KBURST;
	ssize_t got = pread(p->spill_fd, buf, (size_t)n * sizeof(*buf), (off_t)(r * sizeof(*buf)));
	if (got <= 0)
		return 0;
	*from_spill = true;
	*first = r;
	return (unsigned)((size_t)got / sizeof(*buf));
}

/* Kafka thread: the probe TSC of the event at position pos (1-based) of the
 * queue or the spill file, if it has one. Probes come in consumption order;
 * a probe behind pos lost its event (drop_oldest) and is counted lost. */
static bool kafka_probe_for(struct fh_pub *p, bool spill, uint64_t pos, uint64_t *tsc,
			    uint16_t *src)
{
	for (;;) {
		if (!p->khead_ok && !(p->khead_ok = fh_probe_pop(p->kprobes, &p->khead)))
			return false;
		bool kspill = (p->khead.pos & KPOS_SPILL) != 0;
		uint64_t kpos = p->khead.pos & ~KPOS_SPILL;
		if (kspill != spill || kpos > pos)
			return false;
		p->khead_ok = false;
		if (kpos == pos) {
			*tsc = p->khead.tsc;
			*src = p->khead.source_id;
			return true;
		}
		STAT_ADD(p->lat_lost, 1);
	}
}

static void dead_letter_left(struct fh_pub *p, const struct fh_event *ev, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (p->dlq)
			fh_dlq_write(p->dlq, ev[i].source_id, NULL, ev[i].seq, ev[i].recv_ts_ns,
				     "kafka_shutdown_timeout", &ev[i], sizeof(ev[i]));
	p->undelivered += n;
}

static void *kafka_main(void *arg)
{
	struct fh_pub *p = arg;
	struct fh_event buf[KBURST];
	bool from_spill, late = false;
	uint64_t first = 0;

	if (p->kafka_cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(p->kafka_cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	for (;;) {
		unsigned n = kafka_take(p, buf, &from_spill, &first);
		if (!n) {
			if (__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE))
				break;
			fh_kafka_poll(p->k, 1);
			continue;
		}
		for (unsigned i = 0; i < n; i++) {
			int rc;
			uint64_t ptsc = 0;
			uint16_t psrc = 0;
			bool probed = p->kprobes &&
				      kafka_probe_for(p, from_spill, first + i + 1, &ptsc, &psrc);
			while (!late && (rc = probed ? fh_kafka_produce_probe(p->k, &buf[i], ptsc, psrc)
						     : fh_kafka_produce(p->k, &buf[i])) ==
						FH_PUB_BACK_PRESSURED) {
				/* librdkafka's own queue is full: serve delivery reports.
				 * Only this thread waits; the shm path never does. */
				fh_kafka_poll(p->k, 1);
				if (__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE) &&
				    fh_clock_ns(CLOCK_MONOTONIC) > p->deadline_ns)
					late = true;
			}
			if (late) {
				if (probed)
					STAT_ADD(p->lat_lost, 1);
				dead_letter_left(p, &buf[i], n - i);
				break;
			}
			if (rc == -EIO)
				STAT_ADD(p->refused, 1);
		}
		if (from_spill)
			__atomic_store_n(&p->spill_read, p->spill_read + n, __ATOMIC_RELEASE);
		fh_kafka_poll(p->k, 0);
		if (late) {
			/* give up: everything still queued or spilled is reported */
			while ((n = kafka_take(p, buf, &from_spill, &first))) {
				dead_letter_left(p, buf, n);
				if (from_spill)
					__atomic_store_n(&p->spill_read, p->spill_read + n,
							 __ATOMIC_RELEASE);
			}
			break;
		}
	}
	return NULL;
}

/* Kafka thread (delivery reports): RX -> acknowledged by Kafka. */
static void kafka_lat(void *arg, uint16_t source_id, uint64_t ticks)
{
	struct fh_pub *p = arg;
	p->lat_fn(p->lat_arg, FH_PUB_STAGE_KAFKA, source_id, ticks);
}

struct fh_pub *fh_pub_create(const struct fh_pub_cfg *cfg, char *err, size_t errlen)
{
	struct fh_pub *p = calloc(1, sizeof(*p));
	uint64_t kq_cap = cfg->kafka_queue ? cfg->kafka_queue : (1u << 16);

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->spill_fd = -1;
	if (fh_tsc_clock.hz == 0 && fh_tsc_calibrate(20)) {
		snprintf(err, errlen, "TSC calibration failed");
		goto out_free;
	}
	if (!cfg->n_rings || !cfg->rings) {
		snprintf(err, errlen, "no RX rings");
		goto out_free;
	}
	p->rings = calloc(cfg->n_rings, sizeof(*p->rings));
	if (!p->rings) {
		snprintf(err, errlen, "out of memory");
		goto out_free;
	}
	memcpy(p->rings, cfg->rings, cfg->n_rings * sizeof(*p->rings));
	p->n_rings = cfg->n_rings;
	p->burst = cfg->burst ? cfg->burst : 64;
	p->policy = cfg->policy;
	p->source_id = cfg->source_id;
	p->snapshot_cb = cfg->snapshot_cb;
	p->snapshot_arg = cfg->snapshot_arg;
	p->kafka_cpu = cfg->kafka ? cfg->kafka_cpu : -1;
	p->spill_max = cfg->spill_max_bytes ? cfg->spill_max_bytes : (1ull << 30);
	p->lat_fn = cfg->lat_fn;
	p->lat_arg = cfg->lat_arg;
	if (cfg->probes) {
		p->probes = calloc(cfg->n_rings, sizeof(*p->probes));
		if (!p->probes) {
			snprintf(err, errlen, "out of memory");
			goto out_rings;
		}
		memcpy(p->probes, cfg->probes, cfg->n_rings * sizeof(*p->probes));
	}

	if (cfg->shm) {
		p->shm = fh_shm_create(cfg->shm);
		if (!p->shm) {
			snprintf(err, errlen, "shm ring %s: %s", cfg->shm->name, strerror(errno));
			goto out_rings;
		}
	}
	if (cfg->kafka) {
		if (kq_cap < 2 || (kq_cap & (kq_cap - 1))) {
			snprintf(err, errlen, "kafka_queue must be a power of two");
			goto out_shm;
		}
		if (posix_memalign((void **)&p->kq, FH_CACHE_LINE, fh_spsc_memsize(kq_cap))) {
			snprintf(err, errlen, "out of memory");
			goto out_shm;
		}
		fh_spsc_init(p->kq, kq_cap);
		if (cfg->policy == FH_PUB_SPILL) {
			if (!cfg->spill_path) {
				snprintf(err, errlen, "spill policy needs spill_path");
				goto out_kq;
			}
			p->spill_fd = open(cfg->spill_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
			if (p->spill_fd < 0) {
				snprintf(err, errlen, "spill file %s: %s", cfg->spill_path, strerror(errno));
				goto out_kq;
			}
		}
		if (p->probes) {
			if (posix_memalign((void **)&p->kprobes, FH_CACHE_LINE, sizeof(*p->kprobes))) {
				snprintf(err, errlen, "out of memory");
				goto out_spill;
			}
			fh_probe_ring_init(p->kprobes);
		}
		struct fh_kafka_cfg kc = *cfg->kafka;
		if (p->lat_fn) {
			kc.lat_fn = kafka_lat;
			kc.lat_arg = p;
		}
		p->dlq = cfg->kafka->dlq;
		p->k = fh_kafka_create(&kc, err, errlen);
		if (!p->k)
			goto out_spill;
		if (pthread_create(&p->kthr, NULL, kafka_main, p)) {
			snprintf(err, errlen, "cannot start the Kafka thread");
			goto out_kafka;
		}
		p->kthr_started = true;
	}
	p->t_start = fh_rdtsc();
	p->tick_every = ms_to_ticks(1);
	p->hb_every = ms_to_ticks(cfg->heartbeat_ms ? cfg->heartbeat_ms : 1000);
	p->snap_every = cfg->snapshot_ms ? ms_to_ticks(cfg->snapshot_ms) : 0;
	p->last_tick = p->last_hb = p->last_snap = p->t_start;
	return p;

out_kafka:
	fh_kafka_destroy(p->k, 0);
out_spill:
	free(p->kprobes);
	if (p->spill_fd >= 0)
		close(p->spill_fd);
out_kq:
	free(p->kq);
out_shm:
	fh_shm_destroy(p->shm, true);
out_rings:
	free(p->probes);
	free(p->rings);
out_free:
	free(p);
	return NULL;
}

/* Hands a probe of the event at Kafka-path position kpos to the Kafka
 * thread; called before that event is published to it, so the Kafka thread
 * always sees the probe no later than the event. */
static void kafka_probe(struct fh_pub *p, uint64_t kpos, const struct fh_probe *pr)
{
	struct fh_probe kp = { .pos = kpos, .tsc = pr->tsc, .source_id = pr->source_id };
	if (fh_probe_push(p->kprobes, &kp))
		STAT_ADD(p->lat_kafka, 1);
	else
		STAT_ADD(p->lat_lost, 1);
}

/* pr: the last of the n events carries this latency probe (NULL: none). */
static void spill(struct fh_pub *p, const struct fh_event *ev, unsigned n, const struct fh_probe *pr)
{
	size_t len = (size_t)n * sizeof(*ev);
	uint64_t backlog = p->spill_written - __atomic_load_n(&p->spill_read, __ATOMIC_ACQUIRE);
	if ((backlog + n) * sizeof(*ev) > p->spill_max) {
		STAT_ADD(p->spill_dropped, n);
		if (pr)
			STAT_ADD(p->lat_lost, 1);
		return;
	}
	/* The spill only runs while Kafka is behind: a syscall per batch here is
	 * the price of never blocking the shm ring and never losing events. */
	ssize_t w = pwrite(p->spill_fd, ev, len, (off_t)(p->spill_written * sizeof(*ev)));
	if (w != (ssize_t)len) {
		STAT_ADD(p->spill_dropped, n);
		if (pr)
			STAT_ADD(p->lat_lost, 1);
		return;
	}
	if (pr)
		kafka_probe(p, KPOS_SPILL | (p->spill_written + n), pr);
	__atomic_store_n(&p->spill_written, p->spill_written + n, __ATOMIC_RELEASE);
}

/* pr: the last of the n events carries this latency probe (NULL: none). */
static void push_kafka_probe(struct fh_pub *p, const struct fh_event *ev, unsigned n,
			     const struct fh_probe *pr)
{
	STAT_ADD(p->kafka_accepted, n);
	if (p->spilling) {
		/* Back to the queue only once the Kafka thread has read the whole
		 * spill: everything queued later is then newer than all of it. */
		if (__atomic_load_n(&p->spill_read, __ATOMIC_ACQUIRE) != p->spill_written) {
			spill(p, ev, n, pr);
			return;
		}
		p->spilling = false;
		/* Everything spilled so far has been read back: give the disk
		 * space back (offsets keep growing, the file becomes sparse). */
		fallocate(p->spill_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
			  (off_t)(p->spill_written * sizeof(*ev)));
	}
	while (n) {
		/* the probed (last) event goes in alone, its probe first */
		unsigned want = pr ? n - 1 : n;
		unsigned k = want ? fh_spsc_enqueue_burst(p->kq, ev, want) : 0;
		if (k == want && pr && fh_spsc_free(p->kq, 1)) {
			ev += k;
			kafka_probe(p, p->kq->head + 1, pr);
			fh_spsc_enqueue_burst(p->kq, ev, 1); /* room checked: the consumer only frees */
			return;
		}
		ev += k;
		n -= k;
		if (!n)
			break;
		if (p->policy == FH_PUB_SPILL) {
			p->spilling = true;
			spill(p, ev, n, pr);
			return;
		}
		unsigned d = fh_spsc_drop_oldest(p->kq, n);
		STAT_ADD(p->kafka_dropped, d);
	}
}

static void push_kafka(struct fh_pub *p, const struct fh_event *ev, unsigned n)
{
	push_kafka_probe(p, ev, n, NULL);
}

static void publish(struct fh_pub *p, const struct fh_event *ev, unsigned n, uint64_t tsc)
{
	if (p->shm)
		fh_shm_write_burst(p->shm, ev, n, tsc);
	if (p->kq)
		push_kafka(p, ev, n);
}

static void heartbeat(struct fh_pub *p, uint64_t tsc)
{
	struct fh_event ev;
	fh_event_init(&ev, FH_EV_HEARTBEAT);
	ev.source_id = p->source_id;
	ev.instrument = FH_INSTRUMENT_NONE;
	ev.seq = ++p->hb_seq;
	ev.recv_ts_ns = fh_tsc_wall_ns(tsc);
	ev.exch_ts_ns = ev.recv_ts_ns;
	ev.u.hb.events = p->events;
	ev.u.hb.uptime_ns = fh_tsc_to_ns(tsc - p->t_start);
	publish(p, &ev, 1, tsc);
	STAT_ADD(p->heartbeats, 1);
	STAT_ADD(p->shm_written, p->shm ? 1 : 0);
	if (p->shm)
		fh_shm_commit(p->shm);
}

static void on_request(void *arg, uint16_t source_id, uint32_t instrument)
{
	struct fh_pub *p = arg;
	STAT_ADD(p->snapshot_requests, 1);
	fh_pub_request_snapshot(p, source_id, instrument);
}

void fh_pub_request_snapshot(struct fh_pub *p, uint16_t source_id, uint32_t instrument)
{
	if (!p->snapshot_cb)
		return;
	STAT_ADD(p->snapshot_calls, 1);
	p->snapshot_cb(p->snapshot_arg, source_id, instrument);
}

FH_COLD static void timers(struct fh_pub *p, uint64_t tsc)
{
	p->last_tick = tsc;
	/* the OS clock (vDSO, once per ms), not TSC-derived time: readers
	 * compare it with their own CLOCK_REALTIME, and a calibration error
	 * would otherwise grow into a false "writer gone" over hours */
	if (p->shm)
		fh_shm_tick(p->shm, fh_clock_ns(CLOCK_REALTIME), on_request, p);
	if (tsc - p->last_hb >= p->hb_every) {
		p->last_hb = tsc;
		heartbeat(p, tsc);
	}
	if (p->snap_every && tsc - p->last_snap >= p->snap_every) {
		p->last_snap = tsc;
		fh_pub_request_snapshot(p, 0xffff, FH_INSTRUMENT_NONE);
	}
}

/*
 * One ring's batch ev[0..n) at ring positions (t, t + n] with its probes:
 * those whose pos falls in the batch (or before it: already taken, when an
 * RX core pushed its probe after the events) move to pend[] for the SHM
 * stage, and the Kafka path gets each probed event with its probe.
 */
static void publish_probed(struct fh_pub *p, struct fh_probe_ring *pr, const struct fh_event *ev,
			   unsigned n, uint64_t t, uint64_t tsc, struct fh_probe *pend, unsigned *npend)
{
	unsigned done = 0; /* events already handed to the Kafka path */
	struct fh_probe pb;

	if (p->shm)
		fh_shm_write_burst(p->shm, ev, n, tsc);
	while (*npend < PEND_MAX && fh_probe_peek(pr, &pb) && pb.pos <= t + n) {
		fh_probe_pop(pr, NULL);
		pend[(*npend)++] = pb;
		if (!p->kq)
			continue;
		if (pb.pos <= t + done) {
			/* its event went to Kafka without it */
			STAT_ADD(p->lat_lost, 1);
			continue;
		}
		unsigned last = (unsigned)(pb.pos - t); /* 1-based index of the probed event */
		if (p->kprobes)
			push_kafka_probe(p, ev + done, last - done, &pb);
		else
			push_kafka(p, ev + done, last - done);
		done = last;
	}
	if (p->kq && done < n)
		push_kafka(p, ev + done, n - done);
}

unsigned fh_pub_do_work(struct fh_pub *p)
{
	uint64_t tsc = fh_rdtsc();
	unsigned total = 0, npend = 0;
	struct fh_probe pend[PEND_MAX];

	for (unsigned i = 0; i < p->n_rings; i++) {
		unsigned n;
		struct fh_probe_ring *pr = p->probes ? p->probes[i] : NULL;
		/* The events first: an RX core pushes a probe before the events
		 * it covers, so every probe of these events is visible now. */
		struct fh_event *ev = fh_spsc_peek(p->rings[i], p->burst, &n);
		if (pr && fh_unlikely(!fh_probe_empty(pr))) {
			publish_probed(p, pr, ev, n, p->rings[i]->tail, tsc, pend, &npend);
		} else {
			if (!n)
				continue;
			publish(p, ev, n, tsc);
		}
		if (n)
			fh_spsc_release(p->rings[i], n);
		total += n;
	}
	if (total) {
		if (p->shm) {
			fh_shm_commit(p->shm);
			STAT_ADD(p->shm_written, total);
		}
		STAT_ADD(p->events, total);
		STAT_ADD(p->batches, 1);
	}
	if (fh_unlikely(npend) && p->shm) {
		/* RX -> visible: right after the head publication above */
		uint64_t now = fh_rdtsc();
		for (unsigned j = 0; j < npend; j++)
			if (p->lat_fn)
				p->lat_fn(p->lat_arg, FH_PUB_STAGE_SHM, pend[j].source_id, now - pend[j].tsc);
		STAT_ADD(p->lat_shm, npend);
	}
	if (fh_unlikely(tsc - p->last_tick >= p->tick_every))
		timers(p, tsc);
	return total;
}

void fh_pub_get_stats(const struct fh_pub *p, struct fh_pub_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->events = LOAD(p->events);
	st->batches = LOAD(p->batches);
	st->shm_written = LOAD(p->shm_written);
	st->heartbeats = LOAD(p->heartbeats);
	st->snapshot_requests = LOAD(p->snapshot_requests);
	st->snapshot_calls = LOAD(p->snapshot_calls);
	st->kafka_accepted = LOAD(p->kafka_accepted);
	st->kafka_dropped = LOAD(p->kafka_dropped);
	st->spilled = __atomic_load_n(&p->spill_written, __ATOMIC_RELAXED);
	st->spill_read = __atomic_load_n(&p->spill_read, __ATOMIC_RELAXED);
	st->spill_dropped = LOAD(p->spill_dropped);
	st->kafka_undelivered = LOAD(p->undelivered);
	st->lat_probes_shm = LOAD(p->lat_shm);
	st->lat_probes_kafka = LOAD(p->lat_kafka);
	st->lat_probes_lost = LOAD(p->lat_lost);
	if (p->k) {
		fh_kafka_get_stats(p->k, &st->kafka);
		uint64_t done = st->kafka.produce_errors + st->kafka.encode_errors + st->spill_dropped +
				st->kafka_dropped + st->kafka_undelivered;
		for (int f = 0; f < FH_KF__COUNT; f++)
			done += st->kafka.delivered[f] + st->kafka.failed[f] + st->kafka.skipped[f];
		st->kafka_lag = st->kafka_accepted > done ? st->kafka_accepted - done : 0;
	}
}

struct fh_kafka *fh_pub_kafka(struct fh_pub *p)
{
	return p->k;
}

struct fh_shm *fh_pub_shm(struct fh_pub *p)
{
	return p->shm;
}

uint64_t fh_pub_close(struct fh_pub *p, int timeout_ms, bool unlink_shm, struct fh_pub_stats *final)
{
	uint64_t left = 0;

	if (!p)
		return 0;
	heartbeat(p, fh_rdtsc());
	p->deadline_ns = fh_clock_ns(CLOCK_MONOTONIC) + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000ull;
	__atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
	if (p->kthr_started)
		pthread_join(p->kthr, NULL);
	if (p->k) {
		uint64_t now = fh_clock_ns(CLOCK_MONOTONIC);
		int rest = now < p->deadline_ns ? (int)((p->deadline_ns - now) / 1000000) : 0;
		/* what librdkafka still holds after the bounded flush */
		uint64_t in_kafka = fh_kafka_flush(p->k, rest);
		if (final)
			fh_pub_get_stats(p, final);
		left = p->undelivered + in_kafka;
		if (final)
			final->kafka_undelivered = left;
		/* purges what is left: its reports count as failed and are dead-lettered */
		fh_kafka_destroy(p->k, 0);
		p->k = NULL;
	} else if (final) {
		fh_pub_get_stats(p, final);
	}
	if (p->shm)
		fh_shm_destroy(p->shm, unlink_shm);
	if (p->spill_fd >= 0)
		close(p->spill_fd);
	free(p->kq);
	free(p->kprobes);
	free(p->probes);
	free(p->rings);
	free(p);
	return left;
}
