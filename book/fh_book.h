/* SPDX-License-Identifier: MIT */
/* fh_book.h: L2 (market-by-price) books built from ITCH L3 order events, preallocated, one writer. */
#ifndef FH_BOOK_H
#define FH_BOOK_H

/*
 * One struct fh_book holds every instrument of one source (one ITCH feed).
 * Input: normalized events (decode/fh_event.h) in sequence order. Output:
 * L2 level updates, BBO, trades, stale/fresh status and book snapshots,
 * written by fh_book_apply() into a caller buffer (docs/BOOK.md).
 *
 * Memory: fh_book_memsize(cfg) bytes, all laid out at fh_book_init() (the
 * order table, the price-level arena, the instrument array); nothing is
 * allocated afterwards. A full table is a counted, published condition
 * (the instrument is marked stale), never growth. fh_book_create() maps
 * the memory (huge pages when the host allows), touches every page and
 * refuses with -ENOMEM and a reason when the host cannot provide it.
 *
 * Prices: int64 in FH_PRICE_SCALE (1e-8), as in the events. Quantities:
 * shares. Instruments: the event's instrument id (ITCH stock locate),
 * 0 <= id < cfg.max_instruments (<= 65536).
 *
 * Threads: one thread applies events; readers of levels, checksums and
 * counters must be that thread (or synchronise externally).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fh_common.h"
#include "fh_event.h"

/* Most events one fh_book_apply() call writes. */
#define FH_BOOK_MAX_OUT 8
#define FH_BOOK_MAX_DEPTH 64
#define FH_BOOK_MAX_INSTRUMENTS 65536u

/* Default sizes (a full Nasdaq day: ~1.5 M live orders at the peak, ~8.7 k instruments). */
#define FH_BOOK_DEF_ORDERS (2u << 20)      /* 2 Mi live orders */
#define FH_BOOK_DEF_INSTRUMENTS 65536u     /* every ITCH stock locate */
#define FH_BOOK_DEF_LEVELS (1u << 20)      /* 1 Mi price levels in all books */
#define FH_BOOK_DEF_DEPTH 10

/* What a crossed (bid > ask) or locked (bid == ask) book does. */
#define FH_BOOK_CROSSED_FLAG 0  /* flag it (snapshot event, counter) and go on */
#define FH_BOOK_CROSSED_ABORT 1 /* fh_book_apply() returns -EPROTO (replay tests) */

struct fh_book_config {
	uint32_t max_orders;      /* live orders at once (table holds 2x, power of two) */
	uint32_t max_instruments; /* instrument ids 0 .. max-1 */
	uint32_t max_levels;      /* price levels in all books together */
	uint16_t depth;           /* top-N published as L2 updates, 1..FH_BOOK_MAX_DEPTH */
	uint8_t crossed_policy;   /* FH_BOOK_CROSSED_* */
	uint8_t pad;
};

/* Integrity and activity counters (plain, written by the applying thread). */
struct fh_book_stats {
	uint64_t events;           /* events applied */
	uint64_t adds, execs, cancels, deletes, replaces;
	uint64_t orphan_exec;      /* E/C naming an unknown order */
	uint64_t orphan_cancel;    /* X naming an unknown order */
	uint64_t orphan_delete;    /* D naming an unknown order */
	uint64_t orphan_replace;   /* U whose original is unknown (new order not created) */
	uint64_t over_exec;        /* executed more than remained: order removed */
	uint64_t over_cancel;      /* cancelled more than remained: order removed */
	uint64_t dup_add;          /* add (or U new ref) of a reference already live: ignored */
	uint64_t bad_event;        /* bad side, zero quantity, negative price: ignored */
	uint64_t bad_instrument;   /* instrument id >= max_instruments: ignored */
	uint64_t orders_full;      /* add refused, order table full (book marked stale) */
	uint64_t levels_full;      /* add refused, level arena full (book marked stale) */
	uint64_t crossed;          /* books that became crossed (not halted) */
	uint64_t locked;           /* books that became locked (not halted) */
	uint64_t gaps;             /* feed gaps seen (source marked stale) */
	uint64_t l2_updates, bbo_updates, trades, snapshots;
	uint64_t live_orders, peak_orders;
	uint64_t live_levels, peak_levels;
};

struct fh_book;

/* One price level, best first in fh_book_levels(). */
struct fh_book_level_view {
	int64_t price;
	uint64_t qty;
	uint32_t orders;
};

/* Defaults above, crossed policy FLAG. */
void fh_book_config_default(struct fh_book_config *cfg);

/* Bytes fh_book_init() needs for cfg; 0 when cfg is invalid. */
size_t fh_book_memsize(const struct fh_book_config *cfg);

/*
 * Lays a book out in mem (fh_book_memsize(cfg) bytes, 64-byte aligned) and
 * zeroes it (every page is written). Returns the book or NULL (cfg invalid).
 */
struct fh_book *fh_book_init(void *mem, const struct fh_book_config *cfg);

/*
 * Maps, pre-faults and initialises a book. 0, -EINVAL (bad cfg) or -ENOMEM
 * (the host has not that much available memory, or mmap failed); err gets a
 * one-line reason either way (may be NULL).
 */
int fh_book_create(const struct fh_book_config *cfg, struct fh_book **bp, char *err,
		   size_t errlen);
void fh_book_destroy(struct fh_book *b);

/* Empties every book and counter (start of day); keeps instrument names. */
void fh_book_reset(struct fh_book *b);

const struct fh_book_stats *fh_book_stats(const struct fh_book *b);
/* Orphans of every kind (E/C, X, D, U). */
uint64_t fh_book_orphans(const struct fh_book *b);
/* Integrity warnings: over-execute, over-cancel, duplicate adds, full tables. */
uint64_t fh_book_integrity_warnings(const struct fh_book *b);

/* Instruments: count of ids, name ("" when unnamed), naming without a directory. */
uint32_t fh_book_max_instruments(const struct fh_book *b);
const char *fh_book_symbol(const struct fh_book *b, uint32_t instr);
/*
 * Names instr when the stock directory has not (e.g. from the stock field
 * of a raw ITCH A/F message: the decoder's events carry only the locate).
 * A directory name (FH_EV_INSTRUMENT) always wins. len <= 15 significant bytes.
 */
void fh_book_name_instrument(struct fh_book *b, uint32_t instr, const char *sym, size_t len);

/* Live orders and level counts of one book. */
uint32_t fh_book_order_count(const struct fh_book *b, uint32_t instr);
uint32_t fh_book_level_count(const struct fh_book *b, uint32_t instr, uint8_t side);

/* Up to max levels of side (FH_SIDE_BID / FH_SIDE_ASK), best first; returns the count. */
unsigned fh_book_levels(const struct fh_book *b, uint32_t instr, uint8_t side,
			struct fh_book_level_view *out, unsigned max);

/* FH_BOOK_F_* flags of one book (stale includes a stale source). */
uint8_t fh_book_flags(const struct fh_book *b, uint32_t instr);
bool fh_book_is_stale(const struct fh_book *b, uint32_t instr);

/*
 * Checksum of the top-`depth` levels (docs/BOOK.md): FNV-1a 64 over, for
 * side 'B' then 'S', for level = 1 .. min(depth, levels of that side):
 *   side u8, level u16, price i64 (1e-8), qty u64, orders u32
 * each little-endian, 23 bytes per level. An empty book hashes to the FNV
 * offset basis 0xcbf29ce484222325.
 */
uint64_t fh_book_checksum(const struct fh_book *b, uint32_t instr, unsigned depth);
#define FH_BOOK_FNV_OFFSET 0xcbf29ce484222325ull
#define FH_BOOK_FNV_PRIME 0x100000001b3ull

/*
 * Writes one FH_EV_BOOK_SNAPSHOT of instr (checksum over the configured
 * depth) into *out; hdr (may be NULL) supplies source, seq and times.
 */
void fh_book_snapshot(struct fh_book *b, uint32_t instr, const struct fh_event *hdr,
		      struct fh_event *out);

/*
 * Periodic snapshots: writes snapshots of the next non-empty (or flagged)
 * books from *cursor on, at most max; returns the count and advances
 * *cursor (0 again after the last instrument).
 */
unsigned fh_book_snapshot_all(struct fh_book *b, uint32_t *cursor, const struct fh_event *hdr,
			      struct fh_event *out, unsigned max);

/* Cold paths of fh_book_apply() (fh_book_pvt.h). */
int fh_book_pvt_other(struct fh_book *b, const struct fh_event *in, struct fh_event *out) FH_COLD;
int fh_book_pvt_side_grow(struct fh_book *b, uint32_t instr, unsigned s) FH_COLD;
void fh_book_pvt_side_shrink(struct fh_book *b, uint32_t instr, unsigned s) FH_COLD;
int fh_book_pvt_full(struct fh_book *b, uint32_t instr, const struct fh_event *in,
		     struct fh_event *out, bool orders) FH_COLD;
int fh_book_pvt_cross(struct fh_book *b, uint32_t instr, const struct fh_event *in,
		      struct fh_event *out) FH_COLD;

#include "fh_book_pvt.h"

/*
 * The hot path: applies one event and writes 0..FH_BOOK_MAX_OUT derived
 * events into out (room for FH_BOOK_MAX_OUT required). Returns the count,
 * or -EPROTO when the crossed policy is ABORT and the book became crossed
 * or locked outside a halt (the events of that message are still written:
 * their count is then fh_book_last_out()).
 *
 * Order flow: A/F, E/C, X, D, U change the book and emit L2 updates
 * (FH_L2_NEW / CHANGE / DELETE, 1-based level within the top-N, the last one
 * of the message flagged FH_L2_F_LAST), a BBO when the top changed and a
 * trade for each execution. TRADE (P, Q) and BROKEN_TRADE are copied
 * through. INSTRUMENT names the book; TRADING_STATUS sets halted;
 * FEED_STATUS GAP marks the whole source stale (published as FEED_STATUS
 * STALE, instrument FH_INSTRUMENT_NONE) until as many RECOVERED arrive
 * (FRESH). Other events produce nothing.
 */
static inline int fh_book_apply(struct fh_book *b, const struct fh_event *in,
				struct fh_event *out)
{
	return fh_book_pvt_apply(b, in, out);
}

/*
 * Two-stage prefetch for a burst (a full day's order table does not fit in
 * cache): fh_book_prefetch() for the event ~16 ahead (its order slot and
 * book line), fh_book_prefetch_levels() for the event ~6 ahead (the top of
 * the side it will touch; reads the lines the first stage fetched).
 */
static inline void fh_book_prefetch(const struct fh_book *b, const struct fh_event *in)
{
	fh_book_pvt_prefetch(b, in);
}

static inline void fh_book_prefetch_levels(const struct fh_book *b, const struct fh_event *in)
{
	fh_book_pvt_prefetch_levels(b, in);
}

/* Events written by the last fh_book_apply() (also when it returned -EPROTO). */
static inline unsigned fh_book_last_out(const struct fh_book *b)
{
	return b->last_out;
}

#endif /* FH_BOOK_H */
