/* SPDX-License-Identifier: MIT */
/* ref_engine.c: brute-force reference bars and VWAP over a trade list (tests only). */
#include <stdlib.h>

#include "ref_engine.h"

static int64_t ref_engine_div_round(__int128 sum, uint64_t vol)
{
	/* Half away from zero via the textbook formula floor((2s + v) / 2v) on |s|. */
	int neg = sum < 0;
	unsigned __int128 s = (unsigned __int128)(neg ? -sum : sum);
	unsigned __int128 q = (2 * s + vol) / (2 * (unsigned __int128)vol);
	return neg ? -(int64_t)q : (int64_t)q;
}

static void ref_engine_put(struct ref_engine_bar *out, size_t max, size_t *n,
			   const struct ref_engine_bar *b)
{
	if (*n < max)
		out[*n] = *b;
	(*n)++;
}

static const struct ref_engine_trade *ref_engine_base;

static int ref_engine_cmp_idx(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	const struct ref_engine_trade *x = &ref_engine_base[i], *y = &ref_engine_base[j];
	if (x->instr != y->instr)
		return x->instr < y->instr ? -1 : 1;
	if (x->seg != y->seg)
		return x->seg < y->seg ? -1 : 1;
	return i < j ? -1 : i > j;
}

static int ref_engine_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

size_t ref_engine_bars(const struct ref_engine_trade *t, size_t n, uint64_t size_ns,
		       uint64_t slide_ns, struct ref_engine_bar *out, size_t max)
{
	size_t nb = 0;
	uint64_t order = 0;
	size_t *idx = malloc((n ? n : 1) * sizeof(*idx));
	uint64_t per = size_ns / slide_ns;
	uint64_t *ends = malloc((n ? n : 1) * per * sizeof(*ends));

	if (!idx || !ends) {
		free(idx);
		free(ends);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	ref_engine_base = t;
	qsort(idx, n, sizeof(*idx), ref_engine_cmp_idx);

	/* One group per (instr, seg): its trades are idx[g0 .. g1). */
	for (size_t g0 = 0, g1; g0 < n; g0 = g1) {
		const struct ref_engine_trade *f = &t[idx[g0]];
		for (g1 = g0; g1 < n && t[idx[g1]].instr == f->instr && t[idx[g1]].seg == f->seg; g1++)
			;
		/* Every window end whose window [end - size, end) holds one of the
		 * group's trades, capped at the first boundary after the cut. */
		uint64_t cap = UINT64_MAX;
		if (f->cut_ts != UINT64_MAX)
			cap = f->cut_ts / slide_ns * slide_ns + slide_ns;
		size_t ne = 0;
		for (size_t k = g0; k < g1; k++) {
			uint64_t ts = t[idx[k]].ts;
			for (uint64_t end = ts / slide_ns * slide_ns + slide_ns; end <= ts + size_ns;
			     end += slide_ns)
				if (end <= cap)
					ends[ne++] = end;
		}
		qsort(ends, ne, sizeof(*ends), ref_engine_cmp_u64);
		for (size_t e = 0; e < ne; e++) {
			if (e && ends[e] == ends[e - 1])
				continue;
			uint64_t end = ends[e], start = end >= size_ns ? end - size_ns : 0;
			struct ref_engine_bar b = { 0 };
			__int128 sum = 0;
			for (size_t k = g0; k < g1; k++) {
				const struct ref_engine_trade *x = &t[idx[k]];
				if (x->ts < start || x->ts >= end)
					continue;
				if (b.trades == 0)
					b.o = b.h = b.l = x->px;
				if (x->px > b.h)
					b.h = x->px;
				if (x->px < b.l)
					b.l = x->px;
				b.c = x->px;
				b.vol += x->qty;
				sum += (__int128)x->px * x->qty;
				b.trades++;
			}
			if (!b.trades)
				continue;
			b.instr = f->instr;
			b.end = end;
			b.vwap = ref_engine_div_round(sum, b.vol);
			b.order = order++;
			ref_engine_put(out, max, &nb, &b);
		}
	}
	free(idx);
	free(ends);
	if (nb <= max)
		ref_engine_sort(out, nb);
	return nb;
}

int64_t ref_engine_vwap(const struct ref_engine_trade *t, size_t upto, uint32_t instr,
			uint64_t *vol, uint32_t *trades)
{
	__int128 sum = 0;
	uint64_t v = 0;
	uint32_t k = 0;
	for (size_t i = 0; i < upto; i++) {
		if (t[i].instr != instr)
			continue;
		sum += (__int128)t[i].px * t[i].qty;
		v += t[i].qty;
		k++;
	}
	if (vol)
		*vol = v;
	if (trades)
		*trades = k;
	return v ? ref_engine_div_round(sum, v) : INT64_MIN;
}

static int ref_engine_cmp(const void *a, const void *b)
{
	const struct ref_engine_bar *x = a, *y = b;
	if (x->instr != y->instr)
		return x->instr < y->instr ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return 0;
}

void ref_engine_sort(struct ref_engine_bar *b, size_t n)
{
	qsort(b, n, sizeof(*b), ref_engine_cmp);
}
