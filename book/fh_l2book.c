/* SPDX-License-Identifier: MIT */
/* fh_l2book.c: price-level books from FIX events: sorted arrays, checks, checksum. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fh_common.h"
#include "fh_l2book.h"

static void l2_defaults(struct fh_l2book_cfg *c)
{
	if (!c->max_instruments)
		c->max_instruments = 1024;
	if (!c->max_levels)
		c->max_levels = 64;
	if (!c->depth)
		c->depth = 10;
}

size_t fh_l2book_memsize(const struct fh_l2book_cfg *cfg)
{
	struct fh_l2book_cfg c = *cfg;
	l2_defaults(&c);
	return (size_t)c.max_instruments * sizeof(struct fh_l2book_instr) +
	       (size_t)c.max_instruments * 2 * c.max_levels * sizeof(struct fh_l2_level);
}

int fh_l2book_init(struct fh_l2book *b, void *mem, const struct fh_l2book_cfg *cfg)
{
	struct fh_l2book_cfg c = *cfg;

	l2_defaults(&c);
	if (!mem || c.max_instruments > (1u << 24) || c.max_levels > 65535)
		return -EINVAL;
	memset(b, 0, sizeof(*b));
	memset(mem, 0, fh_l2book_memsize(&c));
	b->cfg = c;
	b->instr = mem;
	b->levels = (struct fh_l2_level *)(b->instr + c.max_instruments);
	for (uint32_t i = 0; i < c.max_instruments; i++) {
		b->instr[i].bbo_bid = FH_PRICE_NONE;
		b->instr[i].bbo_ask = FH_PRICE_NONE;
	}
	return 0;
}

struct fh_l2book *fh_l2book_create(const struct fh_l2book_cfg *cfg)
{
	struct fh_l2book *b = calloc(1, sizeof(*b));
	void *mem;

	if (!b)
		return NULL;
	mem = malloc(fh_l2book_memsize(cfg));
	if (!mem)
		goto out_free_b;
	if (fh_l2book_init(b, mem, cfg) < 0)
		goto out_free_mem;
	b->owned = mem;
	return b;
out_free_mem:
	free(mem);
out_free_b:
	free(b);
	return NULL;
}

void fh_l2book_destroy(struct fh_l2book *b)
{
	if (!b)
		return;
	free(b->owned);
	free(b);
}

static inline struct fh_l2_level *l2_side(const struct fh_l2book *b, uint32_t instr, unsigned s)
{
	return b->levels + ((size_t)instr * 2 + s) * b->cfg.max_levels;
}

/* Index of price on side s (bids descending, asks ascending), or where it goes. */
static inline uint32_t l2_find(const struct fh_l2_level *lv, uint32_t n, unsigned s, int64_t px,
			       bool *found)
{
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		bool before = s == 0 ? lv[mid].price > px : lv[mid].price < px;
		if (before)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < n && lv[lo].price == px;
	return lo;
}

static void l2_check(struct fh_l2book *b, uint32_t id)
{
	struct fh_l2book_instr *in = &b->instr[id];
	bool crossed = false, locked = false;

	if (in->n[0] && in->n[1]) {
		int64_t bid = l2_side(b, id, 0)[0].price, ask = l2_side(b, id, 1)[0].price;
		crossed = bid > ask;
		locked = bid == ask;
	}
	if (crossed && !in->crossed)
		b->crossed++;
	if (locked && !in->locked)
		b->locked++;
	in->crossed = crossed;
	in->locked = locked;
}

static int l2_bbo(struct fh_l2book *b, uint32_t id, const struct fh_event *ev, struct fh_event *out)
{
	struct fh_l2book_instr *in = &b->instr[id];
	const struct fh_l2_level *bid = in->n[0] ? l2_side(b, id, 0) : NULL;
	const struct fh_l2_level *ask = in->n[1] ? l2_side(b, id, 1) : NULL;
	int64_t bp = bid ? bid->price : FH_PRICE_NONE, ap = ask ? ask->price : FH_PRICE_NONE;
	uint64_t bq = bid ? bid->qty : 0, aq = ask ? ask->qty : 0;

	if (bp == in->bbo_bid && ap == in->bbo_ask && bq == in->bbo_bid_qty && aq == in->bbo_ask_qty)
		return 0;
	in->bbo_bid = bp;
	in->bbo_ask = ap;
	in->bbo_bid_qty = bq;
	in->bbo_ask_qty = aq;
	fh_event_init(out, FH_EV_BBO);
	out->source_id = ev->source_id;
	out->instrument = id;
	out->seq = ev->seq;
	out->exch_ts_ns = ev->exch_ts_ns;
	out->recv_ts_ns = ev->recv_ts_ns;
	out->u.bbo.bid_px = bp;
	out->u.bbo.ask_px = ap;
	out->u.bbo.bid_qty = bq;
	out->u.bbo.ask_qty = aq;
	return 1;
}

static void l2_stale(struct fh_l2book *b, uint32_t instr, uint8_t stale)
{
	if (instr == FH_INSTRUMENT_NONE) {
		for (uint32_t i = 0; i < b->cfg.max_instruments; i++)
			b->instr[i].stale = stale;
	} else if (instr < b->cfg.max_instruments) {
		b->instr[instr].stale = stale;
	}
}

int fh_l2book_apply(struct fh_l2book *b, const struct fh_event *ev, struct fh_event *out)
{
	if (ev->type == FH_EV_FEED_STATUS) {
		/* a session gap (GAP / RECOVERED) is repaired by resend: only STALE,
		 * which says updates are lost for good, untrusts a book */
		if (ev->u.feed.kind == FH_FEED_STALE)
			l2_stale(b, ev->instrument, 1);
		else if (ev->u.feed.kind == FH_FEED_FRESH)
			l2_stale(b, ev->instrument, 0);
		return 0;
	}
	if (ev->type != FH_EV_L2_UPDATE)
		return 0;
	uint32_t id = ev->instrument;
	if (fh_unlikely(id >= b->cfg.max_instruments)) {
		b->bad_instrument++;
		return 0;
	}
	struct fh_l2book_instr *in = &b->instr[id];
	const struct fh_ev_l2 *u = &ev->u.l2;
	unsigned s = u->side == FH_SIDE_BID ? 0 : u->side == FH_SIDE_ASK ? 1 : 2;

	b->applied++;
	in->updates++;
	in->seen = 1;
	switch (u->action) {
	case FH_L2_CLEAR:
		if (s != 1)
			in->n[0] = 0;
		if (s != 0)
			in->n[1] = 0;
		/* a snapshot rebuilds the book from nothing: trusted again */
		if (u->flags & FH_L2_F_SNAPSHOT)
			in->stale = 0;
		break;
	case FH_L2_NEW:
	case FH_L2_CHANGE: {
		if (s > 1 || u->price == FH_PRICE_NONE)
			break;
		struct fh_l2_level *lv = l2_side(b, id, s);
		bool found;
		uint32_t i = l2_find(lv, in->n[s], s, u->price, &found);
		if (!found) {
			if (u->action == FH_L2_CHANGE)
				b->change_missing++;
			if (i >= b->cfg.max_levels) {
				b->overflow++;
				break;
			}
			if (in->n[s] == b->cfg.max_levels) {
				b->overflow++;
				in->n[s]--;
			}
			memmove(&lv[i + 1], &lv[i], (in->n[s] - i) * sizeof(*lv));
			in->n[s]++;
		} else if (u->action == FH_L2_NEW) {
			b->new_existing++;
		}
		lv[i].price = u->price;
		lv[i].qty = u->qty;
		lv[i].orders = u->orders;
		lv[i].pad = 0;
		break;
	}
	case FH_L2_DELETE: {
		if (s > 1)
			break;
		struct fh_l2_level *lv = l2_side(b, id, s);
		bool found = false;
		uint32_t i;
		if (u->price != FH_PRICE_NONE) {
			i = l2_find(lv, in->n[s], s, u->price, &found);
		} else {
			i = u->level ? u->level - 1u : 0;
			found = u->level && i < in->n[s];
		}
		if (!found) {
			b->delete_missing++;
			break;
		}
		memmove(&lv[i], &lv[i + 1], (in->n[s] - i - 1) * sizeof(*lv));
		in->n[s]--;
		break;
	}
	default:
		break;
	}
	if (!(u->flags & FH_L2_F_LAST))
		return 0;
	l2_check(b, id);
	return l2_bbo(b, id, ev, out);
}

unsigned fh_l2book_levels(const struct fh_l2book *b, uint32_t instr, uint8_t side,
			  struct fh_l2_level *out, unsigned max)
{
	if (instr >= b->cfg.max_instruments || (side != FH_SIDE_BID && side != FH_SIDE_ASK))
		return 0;
	unsigned s = side == FH_SIDE_BID ? 0 : 1, n = b->instr[instr].n[s];
	memcpy(out, l2_side(b, instr, s), (n < max ? n : max) * sizeof(*out));
	return n;
}

bool fh_l2book_is_stale(const struct fh_l2book *b, uint32_t instr)
{
	return instr < b->cfg.max_instruments && b->instr[instr].stale;
}

bool fh_l2book_is_crossed(const struct fh_l2book *b, uint32_t instr)
{
	return instr < b->cfg.max_instruments && b->instr[instr].crossed;
}

static inline uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *c = p;
	for (size_t i = 0; i < n; i++) {
		h ^= c[i];
		h *= FH_L2BOOK_FNV_PRIME;
	}
	return h;
}

uint64_t fh_l2book_checksum(const struct fh_l2book *b, uint32_t instr, unsigned depth)
{
	uint64_t h = FH_L2BOOK_FNV_OFFSET;

	if (instr >= b->cfg.max_instruments)
		return h;
	for (unsigned s = 0; s < 2; s++) {
		const struct fh_l2_level *lv = l2_side(b, instr, s);
		unsigned n = b->instr[instr].n[s];
		uint8_t side = s == 0 ? FH_SIDE_BID : FH_SIDE_ASK;
		for (unsigned i = 0; i < n && i < depth; i++) {
			uint16_t level = (uint16_t)(i + 1);
			h = fnv(h, &side, 1);
			h = fnv(h, &level, 2); /* little-endian host, asserted in fh_event.h */
			h = fnv(h, &lv[i].price, 8);
			h = fnv(h, &lv[i].qty, 8);
			h = fnv(h, &lv[i].orders, 4);
		}
	}
	return h;
}

void fh_l2book_snapshot(const struct fh_l2book *b, uint32_t instr, const struct fh_event *hdr,
			struct fh_event *out)
{
	fh_event_init(out, FH_EV_BOOK_SNAPSHOT);
	if (hdr) {
		out->source_id = hdr->source_id;
		out->seq = hdr->seq;
		out->exch_ts_ns = hdr->exch_ts_ns;
		out->recv_ts_ns = hdr->recv_ts_ns;
	}
	out->instrument = instr;
	if (instr >= b->cfg.max_instruments)
		return;
	const struct fh_l2book_instr *in = &b->instr[instr];
	out->u.snap.checksum = fh_l2book_checksum(b, instr, b->cfg.depth);
	out->u.snap.updates = in->updates;
	out->u.snap.depth = b->cfg.depth;
	out->u.snap.bid_levels = (uint16_t)(in->n[0] > 65535 ? 65535 : in->n[0]);
	out->u.snap.ask_levels = (uint16_t)(in->n[1] > 65535 ? 65535 : in->n[1]);
	out->u.snap.flags = (uint8_t)((in->stale ? FH_BOOK_F_STALE : 0) |
				      (in->crossed ? FH_BOOK_F_CROSSED : 0) |
				      (in->locked ? FH_BOOK_F_LOCKED : 0));
}
