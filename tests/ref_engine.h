/* SPDX-License-Identifier: MIT */
/* ref_engine.h: a deliberately simple reference for engine bars and VWAP (tests only). */
#ifndef REF_ENGINE_H
#define REF_ENGINE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Input: the printable trades of a session in stream order, each tagged with
 * its instrument's segment (a segment ends where the engine must cut the
 * instrument's windows: a halt or the session end) and the time of that cut.
 * Brute force on purpose: every candidate window scans every trade of its
 * segment; no code is shared with engine/.
 */
struct ref_engine_trade {
	uint32_t instr;
	uint32_t seg;     /* 0, 1, ... per instrument, in stream order */
	uint64_t ts;      /* event time of the trade (after the engine's clock clamp) */
	uint64_t cut_ts;  /* time the segment was cut (halt / session end), UINT64_MAX if never */
	int64_t px;
	uint64_t qty;
};

struct ref_engine_bar {
	uint32_t instr;
	uint64_t end; /* window end, ns */
	int64_t o, h, l, c;
	uint64_t vol;
	int64_t vwap;
	uint32_t trades;
	uint64_t order; /* tie-break: emission order within (instr, end) */
};

/* Bars of a window (tumbling: slide_ns == size_ns), sorted by (instr, end, order).
 * Returns the number of bars (may exceed max: only max are written). */
size_t ref_engine_bars(const struct ref_engine_trade *t, size_t n, uint64_t size_ns,
		       uint64_t slide_ns, struct ref_engine_bar *out, size_t max);

/* VWAP (rounded half away from zero) of instr's trades among t[0 .. upto), or
 * INT64_MIN when none; *vol and *trades receive the totals when not NULL. */
int64_t ref_engine_vwap(const struct ref_engine_trade *t, size_t upto, uint32_t instr,
			uint64_t *vol, uint32_t *trades);

/* Sorts engine-side bars the same way (instr, end, order). */
void ref_engine_sort(struct ref_engine_bar *b, size_t n);

#endif /* REF_ENGINE_H */
