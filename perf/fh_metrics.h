/* SPDX-License-Identifier: MIT */
/* fh_metrics.h: metrics registry: per-core counters, gauges, per-stage HDR latency; Prometheus text, JSON, HDR log. */
#ifndef FH_METRICS_H
#define FH_METRICS_H

/*
 * One registry per process, owned by the control thread.
 *
 * - Counters live in per-core blocks (one cache-aligned block per writer
 *   core, one uint64 slot per counter): a core adds to its own slot with a
 *   plain add, the reader sums the slots. Counters kept elsewhere (a stage's
 *   own stats struct, librdkafka, the dead-letter sink) are exported through
 *   a callback instead (fh_metrics_counter_fn).
 * - Gauges are set by the control thread or sampled from a callback at
 *   every fh_metrics_tick().
 * - Latencies are HDR histograms (fh_hdr.h) recorded in nanoseconds by the
 *   cores named in a mask, two per core, swapped once per tick at the
 *   core's own pace (fh_metrics_core_poll(), once per loop) and merged by
 *   the control thread into a cumulative histogram (exported as a
 *   Prometheus histogram in seconds) and the last interval's histogram
 *   (exported as a Prometheus summary with quantiles, as JSON percentiles,
 *   and as HdrHistogram interval-log lines on /hdr).
 *
 * Threads: registration, tick and rendering on the control thread only;
 * register per-core counters and latency series before the cores start.
 * Data cores call only the static inline functions below, each on its own
 * struct fh_metrics_core. Nothing on the data path locks, allocates or makes
 * a system call. Registration preallocates everything (latency histograms
 * are pre-faulted), so memory is flat after start-up.
 *
 * Names follow Prometheus conventions (checked at registration): counters
 * end in _total, durations are exported in _seconds, label sets are given
 * pre-formatted as `source="itch-a",stage="decode"`. docs/TELEMETRY.md lists
 * the metric names the appliance exports and the dashboard expects.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fh_common.h"
#include "fh_hdr.h"

#define FH_METRICS_MAX_CORES 64
#define FH_METRICS_NAME_LEN 96
#define FH_METRICS_LABELS_LEN 192

struct fh_metrics_cfg {
	unsigned n_cores;      /* writer slots: data cores + control + others (default 4) */
	unsigned max_counters; /* per-core counter slots (default 512) */
	unsigned max_series;   /* all series of every type (default 2048) */
	unsigned max_latency;  /* latency series (default 64) */
	struct fh_hdr_cfg hdr; /* latency layout (default 1 ns .. 1 h, 3 digits) */
	const double *le_seconds; /* Prometheus histogram bounds, ascending, no +Inf */
	unsigned n_le;            /* (default: 100 ns .. 10 s, 27 bounds) */
	const char *shm_path;  /* optional: a snapshot file for fh-stat (--shm), e.g. /dev/shm/fh-stats */
};

struct fh_metrics;

/* Per-core writer block. Fields after the guard belong to the reader. */
struct fh_metrics_core {
	uint32_t phase;     /* which of the two histograms this core records into */
	uint32_t seen;      /* last swap request served */
	struct fh_hdr **lat; /* [max_latency * 2]: NULL where this core does not record */
	uint64_t *ctr;      /* [max_counters] */
	uint32_t ack;       /* = seen, published with release */
	FH_CACHE_GUARD(0);
	uint32_t req;       /* swap requests (reader) */
	uint32_t pending;
	uint64_t stalls;    /* ticks at which this core had not served the last request */
} FH_CACHE_ALIGNED;

/* Creates a registry (cfg NULL: defaults). NULL on bad cfg or ENOMEM. */
struct fh_metrics *fh_metrics_create(const struct fh_metrics_cfg *cfg);
void fh_metrics_destroy(struct fh_metrics *m);

/* --- registration (control thread; returns an id >= 0 or -errno:
 * -EINVAL bad name/labels/type clash, -ENOSPC registry full,
 * -EEXIST same name and labels already registered) --- */

/* A per-core counter; name must end in _total. */
int fh_metrics_counter(struct fh_metrics *m, const char *name, const char *help,
		       const char *labels);
/* A counter read from fn(arg) at every tick (monotonic by contract). */
int fh_metrics_counter_fn(struct fh_metrics *m, const char *name, const char *help,
			  const char *labels, uint64_t (*fn)(void *arg), void *arg);
/* A gauge set with fh_metrics_gauge_set. */
int fh_metrics_gauge(struct fh_metrics *m, const char *name, const char *help,
		     const char *labels);
/* A gauge sampled from fn(arg) at every tick. */
int fh_metrics_gauge_fn(struct fh_metrics *m, const char *name, const char *help,
			const char *labels, double (*fn)(void *arg), void *arg);
/* A latency series recorded in ns by the cores of core_mask (bit i: core i).
 * name is the base without unit: "fh_stage_latency" exports
 * fh_stage_latency_seconds (histogram) and fh_stage_latency_window_seconds
 * (summary over the last tick's interval). Returns a latency id. */
int fh_metrics_latency(struct fh_metrics *m, const char *name, const char *help,
		       const char *labels, uint64_t core_mask);

/* --- data path (each core on its own block) --- */

struct fh_metrics_core *fh_metrics_core(struct fh_metrics *m, unsigned core);

static inline void fh_metrics_add(struct fh_metrics_core *c, int id, uint64_t n)
{
	/* Single writer: a relaxed store of the sum compiles to a plain add and
	 * gives the reader untorn 64-bit values. */
	__atomic_store_n(&c->ctr[id], c->ctr[id] + n, __ATOMIC_RELAXED);
}

static inline void fh_metrics_inc(struct fh_metrics_core *c, int id)
{
	fh_metrics_add(c, id, 1);
}

/* Records a latency in ns (negative: 0, above the layout: its maximum). */
static inline void fh_metrics_lat_record(struct fh_metrics_core *c, int lat, int64_t ns)
{
	struct fh_hdr *h = c->lat[2 * lat + c->phase];
	if (fh_likely(h != NULL))
		fh_hdr_record(h, ns);
}

/* Serves the control thread's interval swap. Call once per loop / burst. */
static inline void fh_metrics_core_poll(struct fh_metrics_core *c)
{
	uint32_t q = __atomic_load_n(&c->req, __ATOMIC_ACQUIRE);
	if (fh_unlikely(q != c->seen)) {
		c->phase ^= 1;
		c->seen = q;
		/* Every record into the closed histograms precedes this release. */
		__atomic_store_n(&c->ack, q, __ATOMIC_RELEASE);
	}
}

/* Peak message rate in tumbling windows of width_ns (1 s and 1 ms peaks):
 * kept by a core in its own memory, read by a gauge callback. */
struct fh_rate_peak {
	uint64_t width_ns;
	uint64_t win_start_ns;
	uint64_t win_count;
	uint64_t peak;      /* highest count in a completed window */
};

static inline void fh_rate_peak_add(struct fh_rate_peak *p, uint64_t now_ns, uint64_t n)
{
	if (fh_unlikely(now_ns - p->win_start_ns >= p->width_ns)) {
		if (p->win_count > p->peak)
			__atomic_store_n(&p->peak, p->win_count, __ATOMIC_RELAXED);
		p->win_start_ns = now_ns - (now_ns - p->win_start_ns) % p->width_ns;
		p->win_count = 0;
	}
	p->win_count += n;
}

/* Gauge callback: the peak as a rate per second (arg: struct fh_rate_peak). */
double fh_rate_peak_per_second(void *arg);

/* --- control thread --- */

void fh_metrics_gauge_set(struct fh_metrics *m, int id, double v);

/* Collects closed intervals from the cores that served the last request,
 * merges them, asks for the next swap, samples callbacks, refreshes the
 * shm snapshot. Call every interval (1 s) with the wall time in ns.
 * Returns the number of cores that had not served the previous request. */
int fh_metrics_tick(struct fh_metrics *m, uint64_t now_ns);

/* Reads (after a tick): a counter's total, a gauge, latency histograms.
 * /status also carries each counter's rate per second over the last tick
 * interval ("rate", null until two ticks). */
uint64_t fh_metrics_counter_value(const struct fh_metrics *m, int id);
double fh_metrics_gauge_value(const struct fh_metrics *m, int id);
const struct fh_hdr *fh_metrics_latency_cumulative(const struct fh_metrics *m, int lat);
const struct fh_hdr *fh_metrics_latency_window(const struct fh_metrics *m, int lat);

/* Adds application state to /status: fn writes a JSON value (object) into
 * buf and returns its length or -ENOSPC; it appears as "app": <value>. */
void fh_metrics_set_status_fn(struct fh_metrics *m,
			      long (*fn)(char *buf, size_t cap, void *arg), void *arg);

/* Appends every non-empty latency window to an HdrHistogram interval log
 * at each tick (config telemetry.hdr.log), header written now. f stays the
 * caller's (never closed here); NULL stops logging. Returns 0 or -errno. */
int fh_metrics_set_hdr_log(struct fh_metrics *m, FILE *f);

/* Renderers into a caller's buffer (no allocation). Each returns the
 * length written or -ENOSPC. */
long fh_metrics_render_prometheus(struct fh_metrics *m, char *buf, size_t cap);
long fh_metrics_render_json(struct fh_metrics *m, char *buf, size_t cap);
/* The last interval of every latency series as an HdrHistogram interval log
 * (header + one line per series, Tag=<name>[.<label values>]). */
long fh_metrics_render_hdr_log(struct fh_metrics *m, char *buf, size_t cap);

/* --- the shm snapshot read by fh-stat --shm (written at every tick) --- */

#define FH_METRICS_SNAP_MAGIC 0x31534d46u /* "FMS1" */

enum fh_metrics_type {
	FH_METRICS_COUNTER = 1,
	FH_METRICS_GAUGE = 2,
	FH_METRICS_LATENCY = 3,
};

struct fh_metrics_snap_ent {
	uint32_t type;
	uint32_t pad;
	char name[FH_METRICS_NAME_LEN];
	char labels[FH_METRICS_LABELS_LEN];
	double value;        /* counter or gauge; latency: window count */
	int64_t total;       /* latency: cumulative count */
	int64_t pct_ns[7];   /* latency window: p50 p90 p99 p99.9 p99.99 max, mean */
};

struct fh_metrics_snap {
	uint32_t magic;
	uint32_t n;          /* entries */
	uint64_t seq;        /* odd while being written (seqlock) */
	uint64_t time_ns;    /* wall time of the tick */
	uint64_t start_ns;
	uint32_t cap;        /* entries the region holds */
	uint32_t pad;
	struct fh_metrics_snap_ent ent[];
};

/* Copies a consistent snapshot from a mapped region into out (cap entries).
 * Returns entries copied, -EAGAIN if it kept changing, -EINVAL if not a
 * snapshot. */
int fh_metrics_snap_read(const struct fh_metrics_snap *s, size_t region_len,
			 struct fh_metrics_snap *out, size_t out_cap);

#endif /* FH_METRICS_H */
