/* SPDX-License-Identifier: MIT */
/* fh_spsc.h: lock-free single-producer single-consumer ring of struct fh_event (RX core -> publisher). */
#ifndef FH_SPSC_H
#define FH_SPSC_H

/*
 * One ring per RX core. The producer (RX core) owns `head`, the consumer
 * (publisher) owns `tail`; each keeps a cached copy of the other's index on
 * its own cache line so the common case touches no shared line except the
 * slots. Capacity is a power of two; indices are free-running 64-bit counts
 * (they never wrap in practice), slot = index & mask.
 *
 * Memory: fh_spsc_memsize(cap) bytes, 64-byte aligned (NUMA-local or huge
 * pages are the caller's choice), then fh_spsc_init(mem, cap).
 * Thread-safety: exactly one producer thread and one consumer thread.
 * Full is a status, never growth: fh_spsc_enqueue() returns
 * FH_PUB_BACK_PRESSURED; the burst calls return how many they moved.
 *
 * fh_spsc_drop_oldest() lets the producer discard the oldest entries of a
 * full ring (the Kafka queue's drop_oldest policy). Rings that use it must
 * be consumed with fh_spsc_dequeue_burst(), which then validates its copy
 * with a compare-and-swap on `tail` (see the comment there).
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fh_common.h"
#include "fh_event.h"

/* Publish status codes (negative, "try again" rather than errors). */
#define FH_PUB_OK 0
#define FH_PUB_BACK_PRESSURED (-1001) /* ring full: retry later, nothing was written */
#define FH_PUB_NOT_CONNECTED (-1002)  /* no ring / region */

struct fh_spsc {
	/* producer line */
	uint64_t head FH_CACHE_ALIGNED;
	uint64_t cached_tail;
	uint64_t enq_full; /* times an enqueue found the ring full (producer-owned) */
	/* consumer line */
	uint64_t tail FH_CACHE_ALIGNED;
	uint64_t cached_head;
	/* read-only after init */
	uint64_t mask FH_CACHE_ALIGNED;
	uint64_t capacity;
	uint64_t dropped; /* producer-owned: entries discarded by fh_spsc_drop_oldest */
	struct fh_event slots[] FH_CACHE_ALIGNED;
};

static inline size_t fh_spsc_memsize(uint64_t capacity)
{
	return sizeof(struct fh_spsc) + capacity * sizeof(struct fh_event);
}

/* capacity must be a power of two >= 2. Returns 0 or -EINVAL. */
static inline int fh_spsc_init(struct fh_spsc *r, uint64_t capacity)
{
	if (capacity < 2 || (capacity & (capacity - 1)))
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	r->mask = capacity - 1;
	r->capacity = capacity;
	return 0;
}

/* Producer: how many slots are free (refreshes the cached tail when needed). */
static inline uint64_t fh_spsc_free(struct fh_spsc *r, uint64_t want)
{
	uint64_t free_n = r->capacity - (r->head - r->cached_tail);
	if (free_n < want) {
		r->cached_tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
		free_n = r->capacity - (r->head - r->cached_tail);
	}
	return free_n;
}

/* Producer: copies up to n events; returns how many (0 when full). */
static inline unsigned fh_spsc_enqueue_burst(struct fh_spsc *r, const struct fh_event *ev,
					     unsigned n)
{
	uint64_t free_n = fh_spsc_free(r, n);
	if (free_n < n) {
		n = (unsigned)free_n;
		r->enq_full++;
	}
	uint64_t h = r->head;
	for (unsigned i = 0; i < n; i++)
		r->slots[(h + i) & r->mask] = ev[i];
	/* release: the slot stores are visible before the new head */
	__atomic_store_n(&r->head, h + n, __ATOMIC_RELEASE);
	return n;
}

/* Producer: one event. Returns FH_PUB_OK or FH_PUB_BACK_PRESSURED. */
static inline int fh_spsc_enqueue(struct fh_spsc *r, const struct fh_event *ev)
{
	return fh_spsc_enqueue_burst(r, ev, 1) == 1 ? FH_PUB_OK : FH_PUB_BACK_PRESSURED;
}

/*
 * Producer: discards the n oldest entries (fewer if fewer are queued) so a
 * full ring can take new ones; returns how many were discarded. The
 * consumer may be copying those very slots; its CAS on tail then fails and
 * it retries from the new tail, so it never returns an overwritten entry.
 */
static inline unsigned fh_spsc_drop_oldest(struct fh_spsc *r, unsigned n)
{
	uint64_t t = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	for (;;) {
		uint64_t used = r->head - t;
		unsigned k = used < n ? (unsigned)used : n;
		if (k == 0)
			return 0;
		if (__atomic_compare_exchange_n(&r->tail, &t, t + k, false, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE)) {
			r->cached_tail = t + k;
			r->dropped += k;
			return k;
		}
	}
}

/* Consumer: entries ready to read. */
static inline uint64_t fh_spsc_count(struct fh_spsc *r)
{
	return __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) -
	       __atomic_load_n(&r->tail, __ATOMIC_RELAXED);
}

/* Consumer: a pointer to up to n ready entries in place (contiguous, no
 * wrap) without consuming them; *avail gets how many. Pair with
 * fh_spsc_release(). Not for rings that use fh_spsc_drop_oldest(). */
static inline struct fh_event *fh_spsc_peek(struct fh_spsc *r, unsigned n, unsigned *avail)
{
	uint64_t t = r->tail;
	uint64_t ready = r->cached_head - t;
	if (ready < n) {
		r->cached_head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
		ready = r->cached_head - t;
	}
	uint64_t to_end = r->capacity - (t & r->mask);
	if (ready > to_end)
		ready = to_end;
	*avail = ready < n ? (unsigned)ready : n;
	return &r->slots[t & r->mask];
}

/* Consumer: marks n peeked entries consumed. */
static inline void fh_spsc_release(struct fh_spsc *r, unsigned n)
{
	/* release: our reads of the slots finish before the producer may reuse them */
	__atomic_store_n(&r->tail, r->tail + n, __ATOMIC_RELEASE);
}

/* Consumer: copies up to n events out; returns how many. *first gets the
 * ring position (count of entries ever enqueued before it) of the first
 * one copied: with fh_spsc_drop_oldest() in play that is the tail this
 * call's CAS succeeded from, not the tail seen before the call. */
static inline unsigned fh_spsc_dequeue_burst_pos(struct fh_spsc *r, struct fh_event *out,
						 unsigned n, uint64_t *first)
{
	uint64_t t = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	for (;;) {
		/* signed: after a failed CAS t may have moved past a stale cached_head */
		int64_t ready = (int64_t)(r->cached_head - t);
		if (ready < (int64_t)n) {
			r->cached_head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
			ready = (int64_t)(r->cached_head - t);
		}
		unsigned k = ready < (int64_t)n ? (unsigned)ready : n;
		if (k == 0)
			return 0;
		for (unsigned i = 0; i < k; i++)
			out[i] = r->slots[(t + i) & r->mask];
		/* The CAS (not a plain store) detects a producer's drop_oldest that
		 * moved tail while we copied: those copies may be overwritten data. */
		if (__atomic_compare_exchange_n(&r->tail, &t, t + k, false, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE)) {
			*first = t;
			return k;
		}
	}
}

/* Consumer: copies up to n events out; returns how many. */
static inline unsigned fh_spsc_dequeue_burst(struct fh_spsc *r, struct fh_event *out, unsigned n)
{
	uint64_t first;
	return fh_spsc_dequeue_burst_pos(r, out, n, &first);
}

#endif /* FH_SPSC_H */
