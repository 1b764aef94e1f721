/* SPDX-License-Identifier: MIT */
/* fh_engine_pvt.h: engine shard internals and the inline per-event hot path. */
#ifndef FH_ENGINE_PVT_H
#define FH_ENGINE_PVT_H

/*
 * Included by fh_engine.h only. Layout of one source's state:
 *   meta/quote region, q_stride bytes per instrument (dense, cache friendly
 *     for the BBO path): struct fh_eng_meta, then one struct fh_eng_spread
 *     per spread-widening rule.
 *   trade region, stride bytes per instrument (64-byte multiple):
 *     struct fh_eng_instr (session VWAP), one struct fh_eng_tbar per tumbling
 *     window, one struct fh_eng_slide + buckets per sliding window, then the
 *     state of every trade rule at rule_off[r].
 *   per window: a list of instrument ids (dirty tumbling bars, or instruments
 *     with trades inside a sliding window), so closing a window costs the
 *     bars it emits, never a scan of all instruments.
 * Invariant kept by fh_engine__advance(): every open tumbling bar and every
 * current sliding slide contains the source's clock, so the hot path never
 * divides: the trade goes to the open bar / current slot.
 */

#include <math.h>
#include <stdbool.h>

#include "fh_common.h"

#define FH_ENG_NPOS UINT32_MAX

struct fh_eng_meta {
	uint32_t rule_mask; /* rules in scope for this instrument */
	uint8_t halted;     /* from trading status */
	uint8_t live_flags; /* FH_BOOK_F_CROSSED / LOCKED from the last BBO, STALE from feed status */
	uint8_t snap_flags; /* flags of the last book snapshot */
	uint8_t state;      /* FH_BOOK_F_* currently reported (edge detection) */
};

#define FH_ENG_WIDE_NO 0
#define FH_ENG_WIDE_PENDING 1 /* wide since `since`, alert when held for hold_ms */
#define FH_ENG_WIDE_FIRED 2   /* alerted, re-armed when the spread is back under k * avg */
struct fh_eng_spread {
	double avg;
	double last;      /* spread displayed since last_ts */
	uint64_t last_ts;
	uint64_t quiet_until;
	uint64_t since;
	double ratio; /* spread / average when it became wide */
	int64_t nbid, nask; /* last quote displayed (for some time) with a normal spread */
	int64_t lbid, lask; /* the previous quote */
	uint64_t onesided_since;
	uint32_t n;
	uint8_t wide;
	uint8_t watched;  /* on the source's watch list */
	uint8_t onesided; /* a side is empty */
	uint8_t lnormal;  /* the previous quote's spread was normal */
};

/* A pending spread alert: instrument and rule, checked as the clock advances. */
struct fh_eng_watch {
	uint32_t instr;
	uint32_t rule;
};

struct fh_eng_instr {
	__int128 notional; /* session sum(price * qty) */
	uint64_t vol;
	uint32_t trades;
	uint32_t pad;
	uint64_t pad2[4];
};
_Static_assert(sizeof(struct fh_eng_instr) == 64, "one line");

struct fh_eng_tbar {
	__int128 notional;
	int64_t o, h, l, c;
	uint64_t vol;
	uint32_t trades;
	uint32_t list_pos;
};
_Static_assert(sizeof(struct fh_eng_tbar) == 64, "one line");

struct fh_eng_bucket {
	__int128 notional;
	int64_t o, h, l, c;
	uint64_t vol;
	uint64_t idx; /* slide index (start / slide); UINT64_MAX when unused */
	uint32_t trades;
	uint32_t pad[3];
};

struct fh_eng_slide {
	uint64_t last_idx; /* slide index of the instrument's last trade */
	uint32_t list_pos;
	uint32_t pad;
	struct fh_eng_bucket b[]; /* n_buckets */
};

struct fh_eng_ewma {
	double mean;
	double var;
	uint32_t n;
	uint32_t pad;
};

struct fh_eng_volwin {
	uint64_t end; /* end of the current volume window, 0 before the first trade */
	uint64_t cur; /* volume so far in it */
	double avg;   /* EWMA of the volumes of past windows with trades */
	double thresh;  /* k * avg, +inf until min_samples windows */
	double thresh2; /* spike_surge: k2 * avg */
	double spiked;  /* spike_surge: largest z above k in the current window, else 0 */
	uint64_t last_ts; /* time of the last print counted in trades */
	uint32_t trades;  /* prints at distinct times so far in the current window */
	uint32_t n;
	uint32_t fired; /* alerted in the current window */
};

struct fh_eng_rs_px { /* price spike, spike+surge, gap */
	uint64_t quiet_until;
	int64_t prev;
	struct fh_eng_ewma px;
	struct fh_eng_volwin v;
};

struct fh_eng_cb_bucket {
	int64_t lo, hi; /* price range of the slide */
	uint32_t n;
	uint32_t idx; /* low 32 bits of the slide index */
};

struct fh_eng_rs_cb {
	uint64_t quiet_until;
	uint64_t end;   /* end of the current slide, 0 before the first trade */
	int64_t lo, hi; /* price range of the completed slides of the trailing window */
	uint32_t n_ref; /* trades in them */
	uint32_t out;   /* fired, waiting for the price to come back inside */
	uint32_t slot;  /* bucket of the current slide */
	uint32_t pad;
	struct fh_eng_cb_bucket b[FH_ENGINE_MAX_CB_BUCKETS];
};

struct fh_eng_win {
	uint64_t end;     /* end of the open window / next slide boundary; 0 = not started */
	uint64_t size_ns;
	uint64_t slide_ns; /* tumbling: size_ns */
	uint64_t cur_idx;  /* sliding: open slide index */
	uint32_t cur_slot; /* sliding: cur_idx % n_buckets */
	uint32_t n_buckets;
	uint32_t n_list;
	uint32_t off;      /* offset of this window's state in the trade region */
	uint32_t *list;
	uint8_t kind;
};

struct fh_eng_src {
	uint64_t now;        /* event-time clock: max exch_ts_ns seen */
	uint64_t next_close; /* min over windows of end */
	uint8_t *instr;      /* trade region */
	uint8_t *q;          /* meta / quote region */
	struct fh_eng_watch *watch; /* pending spread alerts */
	uint32_t n_watch;
	uint16_t source_id;
	struct fh_eng_win w[FH_ENGINE_MAX_WINDOWS];
};

struct fh_eng_rule_rt { /* per rule, precomputed from cfg */
	double alpha;
	double k;
	double k2;
	double ksq; /* k * k */
	double min_move;
	double bps;  /* min_bps / 1e4 */
	double tau; /* spread: time constant, ns */
	uint64_t cooldown_ns;
	uint64_t hold_ns;
	uint64_t window_ns;
	uint64_t slide_ns;
	uint32_t n_cb; /* circuit breaker buckets */
	uint32_t off;  /* state offset in the trade (or quote) region */
	uint32_t min_samples;
	uint32_t min_trades;
	uint32_t window_ms;
	uint64_t min_qty;
	uint8_t kind;
	uint8_t severity;
	uint8_t two_sided;
};

struct fh_engine {
	/* hot, read-mostly */
	uint32_t n_src;
	uint32_t max_instr;
	uint32_t stride;
	uint32_t q_stride;
	uint32_t trade_rule_mask;
	uint32_t spread_rule_mask;
	uint8_t n_tw, n_sw, n_trade_rules, n_spread_rules;
	uint8_t tw[FH_ENGINE_MAX_WINDOWS]; /* cfg index of each tumbling window */
	uint8_t sw[FH_ENGINE_MAX_WINDOWS]; /* cfg index of each sliding window */
	uint8_t trade_rules[FH_ENGINE_MAX_RULES];
	uint8_t spread_rules[FH_ENGINE_MAX_RULES];
	uint8_t book_rule_any; /* crossed / locked / stale rules configured */
	fh_engine_emit_fn emit;
	void *emit_arg;
	struct fh_engine_stats stats;
	struct fh_eng_rule_rt rt[FH_ENGINE_MAX_RULES];
	struct fh_eng_src src[FH_ENGINE_MAX_SOURCES];
	struct fh_engine_cfg cfg;
} FH_CACHE_ALIGNED;

/* Cold paths, in fh_engine.c. */
void fh_engine__advance(struct fh_engine *e, struct fh_eng_src *s, const struct fh_event *ev);
void fh_engine__other(struct fh_engine *e, struct fh_eng_src *s, const struct fh_event *ev);
void fh_engine__alert(struct fh_engine *e, struct fh_eng_src *s, const struct fh_event *ev,
		      uint32_t instr, unsigned rule, double value, int64_t price);
void fh_engine__watch(struct fh_engine *e, struct fh_eng_src *s, uint32_t instr, unsigned rule,
		      struct fh_eng_spread *st);
void fh_engine__volwin_roll(const struct fh_eng_rule_rt *rt, struct fh_eng_volwin *v,
			    uint64_t now);
void fh_engine__cb_roll(const struct fh_eng_rule_rt *rt, struct fh_eng_rs_cb *st, uint64_t now);
void fh_engine__book_state(struct fh_engine *e, struct fh_eng_src *s, const struct fh_event *ev,
			   struct fh_eng_meta *m, double value);

static inline struct fh_eng_src *fh_engine__src(struct fh_engine *e, uint16_t id)
{
	struct fh_eng_src *s = e->src;
	for (uint32_t i = 0; i < e->n_src; i++, s++)
		if (s->source_id == id)
			return s;
	return NULL;
}

static inline struct fh_eng_meta *fh_engine__meta(const struct fh_engine *e,
						  const struct fh_eng_src *s, uint32_t instr)
{
	return (struct fh_eng_meta *)(s->q + (size_t)instr * e->q_stride);
}

static inline uint8_t *fh_engine__instr(const struct fh_engine *e, const struct fh_eng_src *s,
					uint32_t instr)
{
	return s->instr + (size_t)instr * e->stride;
}

/* Move floor of a rule at price x: max(min_move, x * min_bps / 1e4). */
static inline double fh_engine__floor(const struct fh_eng_rule_rt *rt, double x)
{
	double f = x * rt->bps;
	return f > rt->min_move ? f : rt->min_move;
}

/* EWMA mean and variance (West 1979 / Finch 2009 incremental form): stable,
 * no catastrophic cancellation, the variance never goes negative. */
static inline void fh_engine__ewma_add(struct fh_eng_ewma *w, double x, double alpha)
{
	if (fh_unlikely(w->n == 0)) {
		w->mean = x;
		w->var = 0;
	} else {
		double d = x - w->mean;
		double inc = alpha * d;
		w->mean += inc;
		w->var = (1.0 - alpha) * (w->var + d * inc);
	}
	if (w->n != UINT32_MAX)
		w->n++;
}

/* z-score of x against the stats so far, or 0 when under the floors. */
static inline double fh_engine__z(const struct fh_eng_rule_rt *rt, const struct fh_eng_ewma *w,
				  double x)
{
	if (w->n < rt->min_samples || !(w->var > 0))
		return 0;
	double d = fabs(x - w->mean);
	if (d * d <= rt->ksq * w->var || d < fh_engine__floor(rt, x))
		return 0;
	return d / sqrt(w->var);
}

static inline void fh_engine__trade_rules(struct fh_engine *e, struct fh_eng_src *s,
					  const struct fh_event *ev, uint8_t *base,
					  uint32_t mask, int64_t px, uint64_t qty)
{
	uint64_t now = s->now;
	double x = (double)px;

	for (unsigned i = 0; i < e->n_trade_rules; i++) {
		unsigned r = e->trade_rules[i];
		if (!(mask & (1u << r)))
			continue;
		const struct fh_eng_rule_rt *rt = &e->rt[r];
		switch (rt->kind) {
		case FH_ENGINE_RULE_PRICE_SPIKE: {
			struct fh_eng_rs_px *st = (struct fh_eng_rs_px *)(base + rt->off);
			double z = fh_engine__z(rt, &st->px, x);
			if (fh_unlikely(z > 0) && now >= st->quiet_until) {
				st->quiet_until = now + rt->cooldown_ns;
				fh_engine__alert(e, s, ev, ev->instrument, r, z, px);
			}
			fh_engine__ewma_add(&st->px, x, rt->alpha);
			break;
		}
		case FH_ENGINE_RULE_VOLUME_SURGE: {
			struct fh_eng_rs_px *st = (struct fh_eng_rs_px *)(base + rt->off);
			struct fh_eng_volwin *v = &st->v;
			if (fh_unlikely(now >= v->end))
				fh_engine__volwin_roll(rt, v, now);
			v->cur += qty;
			v->trades += now != v->last_ts;
			v->last_ts = now;
			if (fh_unlikely((double)v->cur > v->thresh) && !v->fired &&
			    v->cur >= rt->min_qty && v->trades >= rt->min_trades &&
			    now >= st->quiet_until) {
				v->fired = 1;
				st->quiet_until = now + rt->cooldown_ns;
				fh_engine__alert(e, s, ev, ev->instrument, r, (double)v->cur / v->avg, px);
			}
			break;
		}
		case FH_ENGINE_RULE_SPIKE_SURGE: {
			/* Both within one volume window: a trade with z > k, and the
			 * window's volume above k2 times its average. */
			struct fh_eng_rs_px *st = (struct fh_eng_rs_px *)(base + rt->off);
			struct fh_eng_volwin *v = &st->v;
			if (fh_unlikely(now >= v->end))
				fh_engine__volwin_roll(rt, v, now);
			v->cur += qty;
			v->trades += now != v->last_ts;
			v->last_ts = now;
			double z = fh_engine__z(rt, &st->px, x);
			if (fh_unlikely(z > v->spiked))
				v->spiked = z;
			if (fh_unlikely(v->spiked > 0) && (double)v->cur > v->thresh2 && !v->fired &&
			    v->cur >= rt->min_qty && v->trades >= rt->min_trades &&
			    now >= st->quiet_until) {
				v->fired = 1;
				st->quiet_until = now + rt->cooldown_ns;
				fh_engine__alert(e, s, ev, ev->instrument, r, v->spiked, px);
			}
			fh_engine__ewma_add(&st->px, x, rt->alpha);
			break;
		}
		case FH_ENGINE_RULE_PRICE_GAP: {
			struct fh_eng_rs_px *st = (struct fh_eng_rs_px *)(base + rt->off);
			int64_t prev = st->prev;
			st->prev = px;
			if (prev > 0) {
				double d = fabs(x - (double)prev);
				double pct = d * 100.0 / (double)prev;
				if (fh_unlikely(pct > rt->k) && d >= fh_engine__floor(rt, x) &&
				    now >= st->quiet_until) {
					st->quiet_until = now + rt->cooldown_ns;
					fh_engine__alert(e, s, ev, ev->instrument, r, pct, px);
				}
			}
			break;
		}
		case FH_ENGINE_RULE_CIRCUIT_BREAKER: {
			/* Move from the extremes of the trailing window: up from its low,
			 * down from its high (completed slides and the current one). */
			struct fh_eng_rs_cb *st = (struct fh_eng_rs_cb *)(base + rt->off);
			if (fh_unlikely(now >= st->end))
				fh_engine__cb_roll(rt, st, now);
			struct fh_eng_cb_bucket *b = &st->b[st->slot];
			if (b->n == 0 || px < b->lo)
				b->lo = px;
			if (b->n == 0 || px > b->hi)
				b->hi = px;
			b->n++;
			if (st->n_ref < rt->min_samples)
				break;
			double lo = (double)(b->lo < st->lo ? b->lo : st->lo);
			double hi = (double)(b->hi > st->hi ? b->hi : st->hi);
			double up = (x - lo) * 100.0 / lo, down = (hi - x) * 100.0 / hi;
			double mv = up > down ? up : down;
			if (fh_unlikely(mv > rt->k)) {
				if (!st->out && now >= st->quiet_until) {
					st->out = 1;
					st->quiet_until = now + rt->cooldown_ns;
					fh_engine__alert(e, s, ev, ev->instrument, r, mv, px);
				}
			} else {
				st->out = 0;
			}
			break;
		}
		default:
			break;
		}
	}
}

static inline void fh_engine__list_add(struct fh_eng_win *w, uint32_t *pos, uint32_t instr)
{
	*pos = w->n_list;
	w->list[w->n_list++] = instr;
}

static inline void fh_engine__trade(struct fh_engine *e, struct fh_eng_src *s,
				    const struct fh_event *ev)
{
	const struct fh_ev_trade *t = &ev->u.trade;
	uint32_t id = ev->instrument;
	int64_t px = t->price;
	uint64_t q = t->qty;

	if (fh_unlikely(id >= e->max_instr)) {
		e->stats.bad_instrument++;
		return;
	}
	if (fh_unlikely(t->flags & FH_TRADE_F_NON_PRINTABLE)) {
		e->stats.non_printable++;
		return;
	}
	if (fh_unlikely(q == 0 || px <= 0)) {
		e->stats.bad_trades++;
		return;
	}
	e->stats.trades++;

	uint8_t *base = fh_engine__instr(e, s, id);
	struct fh_eng_instr *in = (struct fh_eng_instr *)base;
	__int128 pq = (__int128)px * (__int128)q;
	in->notional += pq;
	in->vol += q;
	in->trades++;

	for (unsigned i = 0; i < e->n_tw; i++) {
		struct fh_eng_win *w = &s->w[e->tw[i]];
		struct fh_eng_tbar *b = (struct fh_eng_tbar *)(base + w->off);
		if (b->trades == 0) {
			b->o = b->h = b->l = px;
			b->vol = 0;
			b->notional = 0;
			fh_engine__list_add(w, &b->list_pos, id);
		} else {
			b->h = px > b->h ? px : b->h;
			b->l = px < b->l ? px : b->l;
		}
		b->c = px;
		b->vol += q;
		b->notional += pq;
		b->trades++;
	}
	for (unsigned i = 0; i < e->n_sw; i++) {
		struct fh_eng_win *w = &s->w[e->sw[i]];
		struct fh_eng_slide *sl = (struct fh_eng_slide *)(base + w->off);
		struct fh_eng_bucket *b = &sl->b[w->cur_slot];
		if (b->idx != w->cur_idx) {
			b->idx = w->cur_idx;
			b->o = b->h = b->l = px;
			b->vol = 0;
			b->notional = 0;
			b->trades = 0;
		} else {
			b->h = px > b->h ? px : b->h;
			b->l = px < b->l ? px : b->l;
		}
		b->c = px;
		b->vol += q;
		b->notional += pq;
		b->trades++;
		sl->last_idx = w->cur_idx;
		if (sl->list_pos == FH_ENG_NPOS)
			fh_engine__list_add(w, &sl->list_pos, id);
	}

	/* Auction prints (Q crosses) count in bars and VWAP, not in the detectors:
	 * an opening or closing cross is a scheduled volume and price event. */
	uint32_t mask = fh_engine__meta(e, s, id)->rule_mask & e->trade_rule_mask;
	if (mask && t->kind != FH_TRADE_CROSS)
		fh_engine__trade_rules(e, s, ev, base, mask, px, q);
}

static inline void fh_engine__onesided(struct fh_engine *e, struct fh_eng_meta *m, uint32_t mask,
				       uint64_t now)
{
	for (unsigned i = 0; i < e->n_spread_rules; i++) {
		unsigned r = e->spread_rules[i];
		if (!(mask & (1u << r)))
			continue;
		struct fh_eng_spread *st = (struct fh_eng_spread *)((uint8_t *)m + e->rt[r].off);
		if (!st->onesided) {
			st->onesided = 1;
			st->onesided_since = now;
		}
	}
}

static inline void fh_engine__bbo(struct fh_engine *e, struct fh_eng_src *s,
				  const struct fh_event *ev)
{
	uint32_t id = ev->instrument;
	if (fh_unlikely(id >= e->max_instr)) {
		e->stats.bad_instrument++;
		return;
	}
	struct fh_eng_meta *m = fh_engine__meta(e, s, id);
	int64_t bid = ev->u.bbo.bid_px, ask = ev->u.bbo.ask_px;
	bool both = bid != FH_PRICE_NONE && ask != FH_PRICE_NONE;
	uint8_t f = 0;
	if (both && bid >= ask)
		f = bid > ask ? FH_BOOK_F_CROSSED : FH_BOOK_F_LOCKED;
	if (fh_unlikely(f != (m->live_flags & (FH_BOOK_F_CROSSED | FH_BOOK_F_LOCKED)))) {
		m->live_flags = (uint8_t)((m->live_flags & FH_BOOK_F_STALE) | f);
		if (e->book_rule_any)
			fh_engine__book_state(e, s, ev, m,
					      both ? (double)(bid - ask) / FH_PRICE_SCALE : 0);
	}
	uint32_t mask = m->rule_mask & e->spread_rule_mask;
	if (!mask)
		return;
	if (!both) {
		fh_engine__onesided(e, m, mask, s->now);
		return;
	}
	if (ask <= bid)
		return;

	double spread = (double)(ask - bid);
	double mid = ((double)bid + (double)ask) * 0.5;
	uint64_t now = s->now;
	for (unsigned i = 0; i < e->n_spread_rules; i++) {
		unsigned r = e->spread_rules[i];
		if (!(mask & (1u << r)))
			continue;
		const struct fh_eng_rule_rt *rt = &e->rt[r];
		struct fh_eng_spread *st = (struct fh_eng_spread *)((uint8_t *)m + rt->off);
		if (fh_unlikely(st->onesided)) {
			/* A book one-sided for hold_ms or more re-forms: its first quote
			 * is the new reference, not a widening. */
			st->onesided = 0;
			if (now - st->onesided_since >= rt->hold_ns) {
				st->nbid = st->lbid = bid;
				st->nask = st->lask = ask;
				st->lnormal = 1;
				st->wide = FH_ENG_WIDE_NO;
			}
		}
		if (st->n == 0) {
			st->avg = spread;
			st->nbid = bid;
			st->nask = ask;
			st->lnormal = 1;
		} else {
			/* the previous spread weighs for the time it was displayed; a
			 * quote displayed for no time (a sweep at one timestamp) is
			 * never the reference of a widening */
			uint64_t dtn = now - st->last_ts;
			double dt = (double)dtn;
			st->avg += dt / (dt + rt->tau) * (st->last - st->avg);
			if (dtn && st->lnormal) {
				st->nbid = st->lbid;
				st->nask = st->lask;
			}
			bool wide = spread > rt->k * st->avg;
			st->lnormal = !wide;
			if (st->n >= rt->min_samples && wide &&
			    spread - st->avg >= fh_engine__floor(rt, mid)) {
				bool away = !rt->two_sided || (bid < st->nbid && ask > st->nask);
				if (!away) {
					st->wide = FH_ENG_WIDE_NO;
				} else if (st->wide == FH_ENG_WIDE_NO && now >= st->quiet_until) {
					st->wide = FH_ENG_WIDE_PENDING;
					st->since = now;
					st->ratio = spread / st->avg;
					fh_engine__watch(e, s, id, r, st);
				}
			} else {
				st->wide = FH_ENG_WIDE_NO;
			}
		}
		st->lbid = bid;
		st->lask = ask;
		st->last = spread;
		st->last_ts = now;
		if (st->n != UINT32_MAX)
			st->n++;
	}
}

/*
 * Feeds one event to the shard. Output events go to the emit callback before
 * this returns. O(1) per trade or quote; a window close costs the bars it emits.
 */
static inline void fh_engine_process(struct fh_engine *e, const struct fh_event *ev)
{
	struct fh_eng_src *s = fh_engine__src(e, ev->source_id);

	e->stats.events++;
	if (fh_unlikely(!s)) {
		e->stats.unknown_source++;
		return;
	}
	uint64_t ts = ev->exch_ts_ns;
	if (fh_likely(ts >= s->now)) {
		s->now = ts;
		if (fh_unlikely(ts >= s->next_close))
			fh_engine__advance(e, s, ev);
	} else {
		e->stats.late_events++;
	}
	switch (ev->type) {
	case FH_EV_TRADE:
		fh_engine__trade(e, s, ev);
		break;
	case FH_EV_BBO:
		fh_engine__bbo(e, s, ev);
		break;
	case FH_EV_L2_UPDATE:
	case FH_EV_ORDER_ADD:
	case FH_EV_ORDER_EXEC:
	case FH_EV_ORDER_CANCEL:
	case FH_EV_ORDER_DELETE:
	case FH_EV_ORDER_REPLACE:
	case FH_EV_REFERENCE:
	case FH_EV_HEARTBEAT:
	case FH_EV_MARKET_STAT:
		break;
	default:
		fh_engine__other(e, s, ev);
		break;
	}
}

/* A burst of n events in order; returns n. */
static inline unsigned fh_engine_process_burst(struct fh_engine *e, const struct fh_event *evs,
					       unsigned n)
{
	/* Trades touch a few lines of a large per-instrument record: fetch them
	 * a few events ahead (single-source shards, the common case). */
	const uint8_t *base = e->n_src == 1 ? e->src[0].instr : NULL;
	for (unsigned i = 0; i < n; i++) {
		if (base && i + 4 < n && evs[i + 4].type == FH_EV_TRADE &&
		    evs[i + 4].instrument < e->max_instr)
			fh_prefetch_w(base + (size_t)evs[i + 4].instrument * e->stride);
		fh_engine_process(e, &evs[i]);
	}
	return n;
}

#endif /* FH_ENGINE_PVT_H */
