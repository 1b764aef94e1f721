/* SPDX-License-Identifier: MIT */
/* fh_probe.h: per-RX-core SPSC side channel of latency probes (RX core -> publisher). */
#ifndef FH_PROBE_H
#define FH_PROBE_H

/*
 * The normalized event has no room for a TSC, so an RX core that samples a
 * packet for latency (one in lat_every) tells the publisher when the packet
 * started and where its events end in the core's event ring:
 *
 *   pos        count of events this core has handed to its event ring
 *              (struct fh_spsc, i.e. its head) once every event of the
 *              probed packet is in it. The publisher has taken the packet
 *              when its own count of events taken from that ring is >= pos.
 *   tsc        the probe's start: the RX burst's TSC (perf/fh_time.h), or
 *              for paced replays the packet's scheduled release time
 *              (coordinated-omission-aware: a late release counts as late).
 *   source_id  the packet's source (decode/fh_event.h), for per-source
 *              histograms.
 *
 * Push a probe BEFORE enqueueing the events it covers (pos = the event
 * ring's head + the events about to be enqueued; an RX core that flushes
 * a batch always completes it). The publisher reads the event ring first
 * and the probe ring second, so it then sees every probe no later than its
 * last event and can hand the probed event to Kafka together with it. A
 * probe pushed after its events still counts, but may be recorded one
 * publisher loop late and then misses the Kafka stage (counted lost).
 *
 * The ring is fixed size (FH_PROBE_RING_SIZE, a power of two), embedded
 * where the caller wants it, never allocated. Exactly one producer thread
 * (the RX core) and one consumer thread (the publisher). Probes are pushed
 * in pos order. A full ring drops the new probe and counts it (`dropped`,
 * producer-owned): sampling loses a sample, the data path never waits.
 * Indices are free-running 64-bit counts; slot = index & mask.
 */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fh_common.h"

#define FH_PROBE_RING_SIZE 1024u /* power of two */

struct fh_probe {
	uint64_t pos;       /* event-ring position after the probed packet's events */
	uint64_t tsc;       /* start of the probe (TSC ticks) */
	uint16_t source_id; /* the packet's source */
};

struct fh_probe_ring {
	/* producer line */
	uint64_t head FH_CACHE_ALIGNED;
	uint64_t cached_tail;
	uint64_t pushed;  /* probes accepted (producer-owned; others: relaxed atomic load) */
	uint64_t dropped; /* probes refused, ring full (producer-owned; others: relaxed atomic load) */
	/* consumer line */
	uint64_t tail FH_CACHE_ALIGNED;
	uint64_t cached_head;
	struct fh_probe slots[FH_PROBE_RING_SIZE] FH_CACHE_ALIGNED;
};

_Static_assert((FH_PROBE_RING_SIZE & (FH_PROBE_RING_SIZE - 1)) == 0,
	       "FH_PROBE_RING_SIZE must be a power of two");

/* Empties the ring and zeroes its counters. Not concurrent with push/pop. */
static inline void fh_probe_ring_init(struct fh_probe_ring *r)
{
	memset(r, 0, sizeof(*r));
}

/* Producer: appends a probe. Returns false (and counts `dropped`) when full. */
static inline bool fh_probe_push(struct fh_probe_ring *r, const struct fh_probe *p)
{
	uint64_t h = r->head;
	if (fh_unlikely(h - r->cached_tail >= FH_PROBE_RING_SIZE)) {
		r->cached_tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
		if (h - r->cached_tail >= FH_PROBE_RING_SIZE) {
			/* relaxed store: other threads may read the counter */
			__atomic_store_n(&r->dropped, r->dropped + 1, __ATOMIC_RELAXED);
			return false;
		}
	}
	r->slots[h & (FH_PROBE_RING_SIZE - 1)] = *p;
	__atomic_store_n(&r->pushed, r->pushed + 1, __ATOMIC_RELAXED);
	/* release: the slot store is visible before the new head */
	__atomic_store_n(&r->head, h + 1, __ATOMIC_RELEASE);
	return true;
}

/* Consumer: copies the oldest probe into *out without consuming it.
 * Returns false when the ring is empty. */
static inline bool fh_probe_peek(struct fh_probe_ring *r, struct fh_probe *out)
{
	uint64_t t = r->tail;
	if (r->cached_head == t) {
		r->cached_head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
		if (r->cached_head == t)
			return false;
	}
	*out = r->slots[t & (FH_PROBE_RING_SIZE - 1)];
	return true;
}

/* Consumer: consumes the oldest probe, copying it into *out when out is not
 * NULL. Returns false when the ring is empty. */
static inline bool fh_probe_pop(struct fh_probe_ring *r, struct fh_probe *out)
{
	struct fh_probe p;
	if (!fh_probe_peek(r, &p))
		return false;
	if (out)
		*out = p;
	/* release: our read of the slot finishes before the producer may reuse it */
	__atomic_store_n(&r->tail, r->tail + 1, __ATOMIC_RELEASE);
	return true;
}

/* Consumer: true when no probe is waiting (reads the producer's line only
 * when its cached copy says empty). */
static inline bool fh_probe_empty(struct fh_probe_ring *r)
{
	if (r->cached_head != r->tail)
		return false;
	r->cached_head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	return r->cached_head == r->tail;
}

/* Consumer (or any thread, approximately): probes waiting. */
static inline uint64_t fh_probe_count(const struct fh_probe_ring *r)
{
	return __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) -
	       __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
}

#endif /* FH_PROBE_H */
