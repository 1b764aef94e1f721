/* SPDX-License-Identifier: MIT */
/* fh_l2book.h: price-level (L2) books built from FIX snapshots and incrementals. */
#ifndef FH_L2BOOK_H
#define FH_L2BOOK_H

/*
 * Input: the normalized events of decode/fh_fix.h. FH_EV_L2_UPDATE
 * NEW / CHANGE / DELETE name a level by price (or, for a delete without
 * price, by its 1-based level); CLEAR empties a side (side 0: the book).
 * FH_EV_FEED_STATUS STALE / FRESH mark one instrument (or every book when
 * the instrument is FH_INSTRUMENT_NONE) stale or fresh; a snapshot
 * (CLEAR with FH_L2_F_SNAPSHOT) also makes its book fresh again, since it
 * rebuilds it from scratch.
 *
 * Each side is a sorted array of at most cfg.max_levels levels (best
 * first), all preallocated: a NEW into a full side drops the worst level
 * (counted in overflow). Inconsistencies are counted, never fatal: a
 * CHANGE of a missing level inserts it (change_missing), a DELETE of a
 * missing level is ignored (delete_missing), a NEW on an existing price
 * overwrites it (new_existing). After the last update of a source message
 * (FH_L2_F_LAST) the book is checked: crossed (best bid > best ask) or
 * locked (equal) books are flagged and counted; an FH_EV_BBO is written
 * when the top of book changed since the last one.
 *
 * Checksum: the same top-N definition as book/fh_book.h (docs/BOOK.md):
 * FNV-1a 64 over side 'B' then 'S', level 1..min(depth, levels), 23 bytes
 * each (side u8, level u16, price i64, qty u64, orders u32, little-endian).
 * FIX books without NumberOfOrders (346) hash orders 0.
 *
 * Threads: one thread applies events and reads the book.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fh_event.h"

#define FH_L2BOOK_FNV_OFFSET 0xcbf29ce484222325ull
#define FH_L2BOOK_FNV_PRIME 0x100000001b3ull
#define FH_L2BOOK_MAX_OUT 1 /* most events one fh_l2book_apply() call writes */

struct fh_l2book_cfg {
	uint32_t max_instruments; /* ids 0 .. max_instruments - 1 (0: 1024) */
	uint32_t max_levels;      /* per side (0: 64) */
	uint16_t depth;           /* checksum / snapshot depth (0: 10) */
};

struct fh_l2_level {
	int64_t price;
	uint64_t qty;
	uint32_t orders;
	uint32_t pad;
};

/* Per-instrument state (internal layout; read with the accessors). */
struct fh_l2book_instr {
	uint32_t n[2];   /* levels on bid (0) and ask (1) */
	uint8_t stale;
	uint8_t crossed;
	uint8_t locked;
	uint8_t seen;    /* any update applied */
	uint32_t pad;
	uint64_t updates;
	int64_t bbo_bid, bbo_ask; /* last BBO written */
	uint64_t bbo_bid_qty, bbo_ask_qty;
};

struct fh_l2book {
	struct fh_l2book_cfg cfg;
	struct fh_l2book_instr *instr;
	struct fh_l2_level *levels; /* [instr][side][max_levels] */
	void *owned;
	/* counters */
	uint64_t applied;
	uint64_t new_existing;
	uint64_t change_missing;
	uint64_t delete_missing;
	uint64_t overflow;
	uint64_t crossed;
	uint64_t locked;
	uint64_t bad_instrument;
};

size_t fh_l2book_memsize(const struct fh_l2book_cfg *cfg);
/* mem: fh_l2book_memsize() bytes, 8-byte aligned. Returns 0 or -EINVAL. */
int fh_l2book_init(struct fh_l2book *b, void *mem, const struct fh_l2book_cfg *cfg);
struct fh_l2book *fh_l2book_create(const struct fh_l2book_cfg *cfg);
void fh_l2book_destroy(struct fh_l2book *b);

/*
 * Applies one event (other types are ignored). Writes at most
 * FH_L2BOOK_MAX_OUT events (an FH_EV_BBO) to out and returns their count.
 */
int fh_l2book_apply(struct fh_l2book *b, const struct fh_event *ev, struct fh_event *out);

/* Levels of one side ('B' or 'S'), best first: copies up to max, returns the
 * number of levels on that side. */
unsigned fh_l2book_levels(const struct fh_l2book *b, uint32_t instr, uint8_t side,
			  struct fh_l2_level *out, unsigned max);

bool fh_l2book_is_stale(const struct fh_l2book *b, uint32_t instr);
bool fh_l2book_is_crossed(const struct fh_l2book *b, uint32_t instr);

/* Checksum of the top-depth levels (see above). */
uint64_t fh_l2book_checksum(const struct fh_l2book *b, uint32_t instr, unsigned depth);

/* FH_EV_BOOK_SNAPSHOT of instr at the configured depth; hdr (may be NULL)
 * supplies source, seq and times. */
void fh_l2book_snapshot(const struct fh_l2book *b, uint32_t instr, const struct fh_event *hdr,
			struct fh_event *out);

#endif /* FH_L2BOOK_H */
