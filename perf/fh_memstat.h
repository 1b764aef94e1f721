/* SPDX-License-Identifier: MIT */
/* fh_memstat.h: process memory numbers (jemalloc mallctl stats, RSS, caller-supplied DPDK pools/heaps). */
#ifndef FH_MEMSTAT_H
#define FH_MEMSTAT_H

/*
 * fh_memstat_read() refreshes jemalloc's statistics ("epoch") and reads
 * stats.allocated / active / resident / mapped / retained and, per arena,
 * the bytes in active pages and resident. When the process does not run on
 * jemalloc (sanitizer builds, fuzzers) `jemalloc` is false and only the
 * kernel's view (VmRSS, VmHWM from /proc/self/status) is filled.
 *
 * DPDK's mempools and heaps are counted by the caller (the feed stage owns
 * EAL): register a callback with fh_memstat_set_pools() that fills
 * struct fh_memstat_pool entries (rte_mempool_avail_count/in_use_count,
 * rte_malloc_get_socket_stats); they are exported with the rest.
 *
 * The flatness check the integrator asserts over a replay:
 *     fh_memstat_read(&a);  ... replay ...  fh_memstat_read(&b);
 *     fh_memstat_growth(&a, &b) <= slack
 * fh_memstat_register() exports everything as Prometheus gauges
 * (fh_memory_bytes{allocator="jemalloc",kind="resident"}, per arena,
 * fh_mempool_objects{pool,state}, fh_dpdk_heap_bytes{socket,kind}).
 * Cold path: a few mallctl calls and a small /proc read; call it from the
 * control thread (fh_metrics_tick does, through the registered gauges).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fh_metrics;

#define FH_MEMSTAT_MAX_ARENAS 64
#define FH_MEMSTAT_MAX_POOLS 32

struct fh_memstat_pool {
	char name[32];      /* mempool name, or "heap-socket<N>" */
	uint64_t in_use;    /* objects in use (pools) or bytes allocated (heaps) */
	uint64_t avail;     /* objects free (pools) or bytes free (heaps) */
	uint64_t size;      /* capacity: objects (pools) or bytes (heaps) */
	bool heap;          /* true: a DPDK malloc heap, values in bytes */
};

struct fh_memstat {
	bool jemalloc;         /* the numbers below come from jemalloc */
	uint64_t allocated;    /* bytes the application holds */
	uint64_t active;       /* bytes in active pages */
	uint64_t resident;     /* bytes in physically resident pages */
	uint64_t mapped;
	uint64_t retained;
	unsigned n_arenas;     /* arenas reported below (at most FH_MEMSTAT_MAX_ARENAS) */
	uint64_t arena_active[FH_MEMSTAT_MAX_ARENAS];   /* bytes (pactive * page) */
	uint64_t arena_resident[FH_MEMSTAT_MAX_ARENAS];
	uint64_t rss;          /* kernel: VmRSS bytes */
	uint64_t hwm;          /* kernel: VmHWM bytes (peak RSS) */
	unsigned n_pools;
	struct fh_memstat_pool pools[FH_MEMSTAT_MAX_POOLS];
};

/* Fills *st (pools through the registered callback). Returns 0, or -ENOENT
 * when neither jemalloc nor /proc could be read. */
int fh_memstat_read(struct fh_memstat *st);

/* Registers the DPDK callback: fn fills up to cap entries, returns the count. */
void fh_memstat_set_pools(unsigned (*fn)(struct fh_memstat_pool *out, unsigned cap, void *arg),
			  void *arg);

/* Resident growth from a to b in bytes (jemalloc resident when both have it,
 * else RSS); negative when memory shrank. */
int64_t fh_memstat_growth(const struct fh_memstat *a, const struct fh_memstat *b);

/* Flatness over a run, made easy: sample from the control thread every
 * tick; the first sample at or after settle_ns (from the first sample) is
 * the baseline; growth is the largest resident increase over it seen since.
 *     struct fh_memstat_watch w; fh_memstat_watch_init(&w, 1000000000ull);
 *     each tick: fh_memstat_watch_sample(&w, now_ns);
 *     at the end: assert(fh_memstat_watch_growth(&w) <= slack);
 * With m non-NULL, fh_memstat_watch_register() exports the growth as the
 * gauge fh_memory_growth_bytes (0 until the baseline is taken). */
struct fh_memstat_watch {
	uint64_t settle_ns;
	uint64_t first_ns;
	bool started, baseline_taken;
	struct fh_memstat base;
	struct fh_memstat last;
	int64_t max_growth;
	uint64_t samples;
};

void fh_memstat_watch_init(struct fh_memstat_watch *w, uint64_t settle_ns);
/* Returns the current growth over the baseline (0 before it), or -errno. */
int64_t fh_memstat_watch_sample(struct fh_memstat_watch *w, uint64_t now_ns);
int64_t fh_memstat_watch_growth(const struct fh_memstat_watch *w);
int fh_memstat_watch_register(struct fh_metrics *m, struct fh_memstat_watch *w);

/* Exports the numbers as gauges refreshed at every fh_metrics_tick. The
 * struct lives in the registry's caller (st must outlive m). Per-arena and
 * pool series are registered for what exists at the time of the call.
 * Returns 0 or -errno. */
int fh_memstat_register(struct fh_metrics *m, struct fh_memstat *st);

#endif /* FH_MEMSTAT_H */
