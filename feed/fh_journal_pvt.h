/* SPDX-License-Identifier: MIT */
/* fh_journal_pvt.h: the journal's SPSC packet-record ring (inline producer side). */
#ifndef FH_JOURNAL_PVT_H
#define FH_JOURNAL_PVT_H

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "fh_common.h"

/* One slot: this header, then snaplen bytes of the frame. */
struct fh_journal_slot {
	uint64_t ts_ns;
	uint32_t caplen; /* bytes stored */
	uint32_t len;    /* wire length */
};

struct fh_journal_ring {
	/* read-mostly */
	uint8_t *slots;
	uint32_t mask;
	uint32_t slot_size;  /* sizeof(slot) + snaplen, cache-line rounded */
	uint32_t snaplen;
	FH_CACHE_GUARD(0);
	/* producer line */
	uint64_t head;       /* next slot to fill (released to the consumer) */
	uint64_t tail_cache; /* the consumer's tail as last seen */
	uint64_t dropped;    /* full ring */
	uint64_t pushed;
	FH_CACHE_GUARD(1);
	/* consumer line */
	uint64_t tail;       /* next slot to drain (released to the producer) */
	uint64_t head_cache;
} FH_CACHE_ALIGNED;

static inline int fh_journal_pvt_push(struct fh_journal_ring *r, const void *frame, uint32_t len,
				      uint64_t ts_ns)
{
	uint64_t h = r->head;

	if (fh_unlikely(h - r->tail_cache > r->mask)) {
		/* acquire: the consumer finished reading the slot before it moved tail */
		r->tail_cache = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
		if (h - r->tail_cache > r->mask) {
			r->dropped++;
			return -ENOBUFS;
		}
	}
	struct fh_journal_slot *s = (struct fh_journal_slot *)(r->slots + (h & r->mask) * (uint64_t)r->slot_size);
	uint32_t cap = len < r->snaplen ? len : r->snaplen;
	s->ts_ns = ts_ns;
	s->caplen = cap;
	s->len = len;
	memcpy(s + 1, frame, cap);
	r->pushed++;
	/* release: the slot's bytes are visible before the consumer sees head move */
	__atomic_store_n(&r->head, h + 1, __ATOMIC_RELEASE);
	return 0;
}

#endif /* FH_JOURNAL_PVT_H */
