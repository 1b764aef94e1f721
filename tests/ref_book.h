/* SPDX-License-Identifier: MIT */
/* ref_book.h: a deliberately simple reference L2 book (tests only; shares no code with book/). */
#ifndef REF_BOOK_H
#define REF_BOOK_H

/*
 * Same rules as book/ (docs/BOOK.md "Integrity"), written the obvious way:
 * orders in one array sorted by reference (binary search, deleted entries
 * marked dead and compacted now and then), levels of each side in a plain
 * array kept best first (linear scans, memmove), malloc/realloc as needed.
 * It takes the same normalized events and never emits any.
 */

#include <stdbool.h>
#include <stdint.h>

#include "fh_event.h"

struct ref_book_level {
	int64_t price;
	uint64_t qty;
	uint32_t orders;
};

struct ref_book_counts {
	uint64_t orphans;
	uint64_t over;      /* over-execute + over-cancel */
	uint64_t dup;
	uint64_t bad;
	uint64_t bad_instrument;
	uint64_t live_orders;
};

struct ref_book;

struct ref_book *ref_book_new(uint32_t max_instruments);
void ref_book_free(struct ref_book *r);
/* Applies one event; returns the instrument whose book it may have changed, or UINT32_MAX. */
uint32_t ref_book_apply(struct ref_book *r, const struct fh_event *ev);
/* Levels of side 'B'/'S', best first: pointer to the array and its count. */
const struct ref_book_level *ref_book_side(const struct ref_book *r, uint32_t instr, uint8_t side,
					   uint32_t *n);
uint32_t ref_book_orders(const struct ref_book *r, uint32_t instr);
bool ref_book_halted(const struct ref_book *r, uint32_t instr);
const struct ref_book_counts *ref_book_counts(const struct ref_book *r);

#endif /* REF_BOOK_H */
