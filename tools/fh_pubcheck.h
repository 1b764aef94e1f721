/* SPDX-License-Identifier: MIT */
/* fh_pubcheck.h: reader-side checks shared by fh-sub, fh-pubtest and the publish benchmarks. */
#ifndef FH_PUBCHECK_H
#define FH_PUBCHECK_H

/*
 * - Order check: the ring positions must be contiguous except for exactly
 *   the reported lost count; a source's seq never goes down (the events
 *   of one venue message share its seq, so it may repeat, and it skips
 *   messages that make no event: skips are counted, not errors); the
 *   publisher's heartbeats (FH_EV_HEARTBEAT) go up by exactly one. After a
 *   reported lap any next seq is accepted.
 * - L2 books rebuilt from FH_EV_L2_UPDATE (by price; a book with a known
 *   depth keeps only its top `depth` levels per side, the consumer rule of
 *   docs/BOOK.md). FH_EV_BOOK_SNAPSHOT is either a full refresh (followed
 *   by the book's levels flagged FH_L2_F_SNAPSHOT) or, in the appliance's
 *   periodic snapshots, an integrity summary alone: the book is reset at
 *   the first FH_L2_F_SNAPSHOT level that follows it (at once when the
 *   snapshot says both sides are empty), and a synced book's top levels are
 *   checked against the snapshot's checksum (snap_checked, snap_mismatch).
 *   A reader started late ignores a book's updates until its first full
 *   snapshot (require_snapshot).
 * - A latency histogram in ns (1 ns buckets to 64 us, then a max).
 * Single-threaded; allocation only in create/learn (cold).
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "fh_event.h"

#define FH_PC_LEVELS 64
#define FH_PC_HIST 65536

struct fh_pc_level {
	int64_t price;
	uint64_t qty;
	uint32_t orders;
};

struct fh_pc_book {
	uint64_t key; /* source << 32 | instrument, +1; 0 = free slot */
	bool synced;
	bool pending;   /* a BOOK_SNAPSHOT came: reset at its first snapshot level */
	uint16_t pending_depth; /* depth named by that BOOK_SNAPSHOT */
	uint16_t depth; /* levels kept per side, 0: up to FH_PC_LEVELS */
	unsigned n[2]; /* [0] bids, [1] asks */
	struct fh_pc_level lv[2][FH_PC_LEVELS];
};

struct fh_pubcheck {
	/* order */
	uint64_t *next_seq; /* per source: expected seq, 0 = any */
	uint64_t next_pos;
	bool have_pos;
	uint64_t events, lost, laps, order_errors, pos_errors;
	uint64_t seq_skips;  /* a source's seq went up by more than one (informative) */
	uint64_t hb_next;    /* expected heartbeat seq, 0 = any */
	/* books */
	bool require_snapshot;
	struct fh_pc_book *books;
	unsigned nbooks; /* power of two */
	unsigned depth;       /* levels kept per side for every book, 0: learnt from full snapshots */
	uint64_t book_errors; /* level table full, unknown level deleted, ... */
	uint64_t snapshots;   /* full snapshots applied */
	uint64_t summaries;   /* BOOK_SNAPSHOT events */
	uint64_t snap_checked, snap_mismatch; /* checksum of a synced book vs. the writer's */
	/* latency */
	uint64_t *hist;
	uint64_t lat_n, lat_over, lat_max;
	/* symbols for JSON / keys, by (source, instrument), open addressing */
	struct fh_pc_sym *sym;
	uint64_t syms_full;
};
#define FH_PC_SYMS 65536 /* power of two */

struct fh_pc_sym {
	uint64_t key; /* source << 32 | instrument, +1; 0 = free */
	char symbol[17];
};

int fh_pubcheck_init(struct fh_pubcheck *c, unsigned nbooks, bool require_snapshot);
void fh_pubcheck_free(struct fh_pubcheck *c);

/* Keep only the top `depth` levels per side of every book (the publisher's
 * books.depth); 0 (default): each book learns it from its first full snapshot. */
void fh_pubcheck_set_depth(struct fh_pubcheck *c, unsigned depth);

/* A position the reader returned (pos from struct fh_sub_msg). */
void fh_pubcheck_event(struct fh_pubcheck *c, uint64_t pos, const struct fh_event *ev);
void fh_pubcheck_lapped(struct fh_pubcheck *c, uint64_t lost);
void fh_pubcheck_latency(struct fh_pubcheck *c, uint64_t ns);
uint64_t fh_pubcheck_percentile(const struct fh_pubcheck *c, double p);

/* Symbol of an instrument if seen (FH_EV_INSTRUMENT), else NULL. */
const char *fh_pubcheck_symbol(const struct fh_pubcheck *c, uint16_t source, uint32_t instrument);

/* Writes the synced books, sorted, one level a line:
 * "source instrument side price qty orders"; with symbols, a symbol learnt
 * from FH_EV_INSTRUMENT replaces the instrument id and the level number
 * follows the side: "source symbol side level price qty orders", prices
 * with 4 decimals (the format of fh --books-out after its source name).
 * Returns 0 or -errno. */
int fh_pubcheck_dump_books(const struct fh_pubcheck *c, const char *path);
int fh_pubcheck_dump_books_sym(const struct fh_pubcheck *c, const char *path);

/* Book maintenance shared with the driver (which owns the true books). */
struct fh_pc_book *fh_pubcheck_book(struct fh_pubcheck *c, uint16_t source, uint32_t instrument,
				    bool create);
void fh_pubcheck_apply_l2(struct fh_pubcheck *c, struct fh_pc_book *b, const struct fh_ev_l2 *l2);

#endif /* FH_PUBCHECK_H */
