/* SPDX-License-Identifier: MIT */
/* fh_sim.c: the ITCH 5.0 session generator: schedule, per-instrument books, order flow, anomalies. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fh_common.h"
#include "fh_sim.h"

#define NIL UINT32_MAX
#define RING 256 /* price levels per instrument: every live order of an instrument lies within RING levels */
#define RING_MASK (RING - 1)
#define MAX_DEPTH 24 /* deepest level (from the touch) a new order is placed at */
#define PEND_CAP 64
#define PICK_AHEAD 16 /* power of two */
#define LIVE_AHEAD 8  /* power of two */
#define SEC 1000000000ULL
#define HMS(h, m, s) ((((uint64_t)(h) * 60 + (m)) * 60 + (s)) * SEC)

/* ---------------------------------------------------------------- random */

/* wyrand: one multiply per draw, 2^64 period, good enough for a market model. */
static inline uint64_t rnd(uint64_t *st)
{
	*st += 0xa0761d6478bd642fULL;
	unsigned __int128 t = (unsigned __int128)*st * (*st ^ 0xe7037ed1a0b428dbULL);
	return (uint64_t)(t >> 64) ^ (uint64_t)t;
}

/* Uniform in [0, n) (Lemire's multiply-shift; the bias is below 2^-32 for our n). */
static inline uint32_t rnd_n(uint64_t *st, uint32_t n)
{
	return (uint32_t)(((rnd(st) >> 32) * (uint64_t)n) >> 32);
}

#define P16(x) ((uint32_t)((x) * 65536.0))

/* ---------------------------------------------------------------- model */

struct sim_order {
	uint64_t ref;
	uint32_t next, prev; /* within the price level, oldest first */
	uint32_t shares;
	int32_t lv;
	uint16_t inst;
	uint8_t side; /* 'B' or 'S' */
	uint8_t pad;
};
_Static_assert(sizeof(struct sim_order) == 32, "order slot is half a cache line");

struct sim_level {
	uint32_t head, tail;
};

struct sim_inst {
	/* first cache line: what every order-flow step reads */
	struct sim_level *lvl;
	int32_t bid, ask; /* best levels, valid when n_bid / n_ask > 0 */
	int32_t lo, hi;   /* lowest / highest occupied level, valid when any order rests */
	int32_t mid2;     /* twice the anchor mid level, for sides that are empty */
	uint32_t n_bid, n_ask;
	uint32_t grid;    /* price (1e-4 $) per level */
	uint32_t last_px; /* last printable trade price, 0 before the first */
	uint16_t s0;      /* normal spread, levels */
	int8_t drift;     /* -1, 0, +1: the direction the order flow pushes the price */
	uint8_t halted;
	uint8_t wide;     /* spread-widening anomaly in force until wide_until */
	uint8_t wspell;   /* a clean spread >= 5 s0 since wide_since */
	uint32_t touched; /* time of the last flow action on it, 65.536-us units */
	int32_t fair;     /* fair value, 1/256 level: a time-based random walk the order flow follows */
	uint16_t fair_t;  /* fair value's time, 2-s units since midnight */
	/* second line: rare paths */
	uint8_t an_busy __attribute__((aligned(64))); /* an anomaly is planned on it */
	int32_t wide_bid, wide_ask;
	uint64_t wide_until;
	uint64_t wide_since;
	char sym[8];
	uint32_t rank; /* 0 = most active */
	double weight; /* share of the order flow */
} FH_CACHE_ALIGNED;
_Static_assert(sizeof(struct sim_inst) == 128, "hot instrument state in one line");

enum sched_kind {
	SCH_SYS, SCH_R, SCH_H, SCH_Y, SCH_L, SCH_V, SCH_W, SCH_K, SCH_J, SCH_OPHALT,
	SCH_N, SCH_O, SCH_B, SCH_I, SCH_Q, SCH_HALT, SCH_RESUME, SCH_AN,
};

struct sched {
	uint64_t ts;
	uint32_t order; /* insertion order: ties keep it */
	uint8_t kind;
	uint8_t code;
	uint16_t inst;
	uint32_t arg;
};

enum pend_kind { PEND_DEL_RANGE, PEND_SET_MID, PEND_PRINT, PEND_ADD };

struct pend {
	uint8_t kind;
	uint8_t side;
	uint16_t inst;
	int32_t a, b;
	uint32_t n;
};

struct an_plan {
	struct fh_sim_truth t;
	uint16_t inst;
	uint8_t done;    /* injected */
	uint8_t skipped; /* no room left in the session */
	int8_t dir;
	uint32_t ref_px; /* circuit breaker: the reference price */
	uint64_t vol;    /* surge volume, shares */
};

/* Flow time profile: share of the flow messages per time segment. */
struct seg {
	uint64_t t0, t1;
	double share;
};

static const struct seg segs[] = {
	{ HMS(4, 0, 0), HMS(9, 30, 0), 0.04 },
	{ HMS(9, 30, 0), HMS(9, 45, 0), 0.12 },
	{ HMS(9, 45, 0), HMS(15, 45, 0), 0.66 },
	{ HMS(15, 45, 0), HMS(16, 0, 0), 0.13 },
	{ HMS(16, 0, 0), HMS(19, 59, 0), 0.05 },
};
#define NSEG FH_ARRAY_SIZE(segs)

struct fh_sim {
	struct fh_sim_cfg cfg;
	uint64_t rng;
	uint64_t count; /* messages emitted */
	uint64_t last_ts;
	uint64_t next_ref;
	uint64_t match;
	uint64_t flow_j;   /* flow messages emitted */
	uint64_t flow_est; /* flow messages planned */
	uint64_t seg_j0[NSEG + 1];
	double seg_step[NSEG]; /* ns per flow message in each segment */
	unsigned seg_i;
	uint64_t flow_next_ts;
	bool flow_ts_valid;

	/* action thresholds (out of 65536), recomputed as the live target moves */
	uint32_t thr_add, thr_del, thr_rep, thr_e, thr_c, thr_x;
	uint64_t peak_target;

	/* burst: executions sweeping the same level at the same timestamp */
	uint32_t burst_n;
	uint16_t burst_inst;
	uint8_t burst_side;

	uint64_t rng_pick;
	uint64_t pool; /* unused random bits */
	unsigned nbits;
	uint32_t pick[PICK_AHEAD];
	uint32_t pick_head;
	uint32_t live_pick[LIVE_AHEAD];
	uint32_t live_head;

	uint32_t n_inst;
	struct sim_inst *inst;
	struct sim_level *levels;
	uint32_t *alias;    /* Vose alias table over instruments */
	uint32_t *alias_p;  /* acceptance threshold, out of 2^32 */

	struct sim_order *ord;
	uint32_t ord_cap;
	uint32_t free_head;
	uint32_t ord_used; /* slots ever handed out */

	struct sched *sch;
	uint32_t n_sch, sch_i;

	struct pend pend[PEND_CAP];
	uint32_t pend_head, pend_n;

	struct an_plan *an;
	uint32_t n_an;
	struct fh_sim_truth *truth; /* injected, filled by fh_sim_truth() */

	uint8_t depth_tab[256];
	uint16_t lot_tab[256];
	double mean_lot;
	uint64_t last_match_printed;

	struct fh_sim_stats st;
	uint8_t carry[FH_SIM_MSG_MAX]; /* a message fh_sim_fill() made but could not fit */
	uint32_t carry_len;
};

/* Random bits drawn 64 at a time: most decisions need 1 to 16 of them. */
static inline uint32_t bits(struct fh_sim *s, unsigned k)
{
	if (s->nbits < k) {
		s->pool = rnd(&s->rng);
		s->nbits = 64;
	}
	uint32_t v = (uint32_t)(s->pool & ((1ULL << k) - 1));
	s->pool >>= k;
	s->nbits -= k;
	return v;
}

/* True with probability p/65536. */
static inline bool p16(struct fh_sim *s, uint32_t p)
{
	return bits(s, 16) < p;
}

/* Uniform in [0, n). */
static inline uint32_t rbn(struct fh_sim *s, uint32_t n)
{
	return (uint32_t)(((uint64_t)bits(s, 32) * n) >> 32);
}

static const char *const mpids[] = { "NITE", "GSCO", "MSCO", "UBSS", "VIRT", "CDRG",
				     "JPMS", "SUSQ", "CITD", "HRTF", "JANE", "XTXM" };

/* ---------------------------------------------------------------- encoding */

static inline uint8_t *hdr(uint8_t *m, char type, uint16_t locate, uint64_t ts)
{
	m[0] = (uint8_t)type;
	fh_put_be16(m + 1, locate);
	fh_put_be16(m + 3, 0);
	fh_put_be48(m + 5, ts);
	return m + 11;
}

static inline void put_alpha(uint8_t *p, const char *s, size_t n)
{
	size_t i = 0;
	for (; i < n && s[i]; i++)
		p[i] = (uint8_t)s[i];
	for (; i < n; i++)
		p[i] = ' ';
}

static inline uint16_t loc(const struct fh_sim *s, uint32_t inst)
{
	return (uint16_t)(s->cfg.first_locate + inst);
}

static inline uint32_t lv_px(const struct sim_inst *in, int32_t lv)
{
	return (uint32_t)lv * in->grid;
}

/* ---------------------------------------------------------------- book */

static inline struct sim_level *level(struct sim_inst *in, int32_t lv)
{
	return &in->lvl[(uint32_t)lv & RING_MASK];
}

static inline bool level_empty(struct sim_inst *in, int32_t lv)
{
	return level(in, lv)->head == NIL;
}

static inline uint32_t inst_live(const struct sim_inst *in)
{
	return in->n_bid + in->n_ask;
}

/* Can an order rest at lv on side without crossing the book or breaking the ring span? */
static inline bool can_rest(const struct sim_inst *in, uint8_t side, int32_t lv)
{
	if (lv < 1)
		return false;
	if (side == 'B' ? (in->n_ask && lv >= in->ask) : (in->n_bid && lv <= in->bid))
		return false;
	if (inst_live(in)) {
		int32_t lo = lv < in->lo ? lv : in->lo, hi = lv > in->hi ? lv : in->hi;
		if (hi - lo >= RING)
			return false;
	}
	return true;
}

static void order_link(struct fh_sim *s, struct sim_inst *in, uint32_t slot)
{
	struct sim_order *o = &s->ord[slot];
	struct sim_level *l = level(in, o->lv);

	o->next = NIL;
	o->prev = l->tail;
	if (l->tail != NIL)
		s->ord[l->tail].next = slot;
	else
		l->head = slot;
	l->tail = slot;
	if (!inst_live(in)) {
		in->lo = in->hi = o->lv;
	} else {
		if (o->lv < in->lo)
			in->lo = o->lv;
		if (o->lv > in->hi)
			in->hi = o->lv;
	}
	if (o->side == 'B') {
		if (!in->n_bid++ || o->lv > in->bid)
			in->bid = o->lv;
	} else {
		if (!in->n_ask++ || o->lv < in->ask)
			in->ask = o->lv;
	}
	/* the anchor follows tight two-sided quotes only: one-sided or wide books re-quote around it */
	if (in->n_bid && in->n_ask && in->ask - in->bid <= 2 * in->s0)
		in->mid2 = in->bid + in->ask;
	if (++s->st.live_orders > s->st.peak_live_orders) {
		s->st.peak_live_orders = s->st.live_orders;
		s->st.peak_live_ts_ns = s->last_ts;
	}
}

/* Unlinks and frees the slot, moving the best / extreme levels past emptied ones. */
static void order_unlink(struct fh_sim *s, struct sim_inst *in, uint32_t slot)
{
	struct sim_order *o = &s->ord[slot];
	struct sim_level *l = level(in, o->lv);
	int32_t lv = o->lv;

	if (o->prev != NIL)
		s->ord[o->prev].next = o->next;
	else
		l->head = o->next;
	if (o->next != NIL)
		s->ord[o->next].prev = o->prev;
	else
		l->tail = o->prev;
	if (o->side == 'B')
		in->n_bid--;
	else
		in->n_ask--;
	s->st.live_orders--;
	o->ref = 0;
	o->next = s->free_head;
	s->free_head = slot;

	if (l->head != NIL)
		return;
	/* The level emptied: walks are bounded by the ring span (invariant: hi - lo < RING). */
	if (o->side == 'B' && in->n_bid && lv == in->bid)
		while (level_empty(in, --in->bid))
			;
	if (o->side == 'S' && in->n_ask && lv == in->ask)
		while (level_empty(in, ++in->ask))
			;
	if (inst_live(in)) {
		if (lv == in->lo)
			while (level_empty(in, ++in->lo))
				;
		if (lv == in->hi)
			while (level_empty(in, --in->hi))
				;
	}
	/* the anchor follows tight two-sided quotes only: one-sided or wide books re-quote around it */
	if (in->n_bid && in->n_ask && in->ask - in->bid <= 2 * in->s0)
		in->mid2 = in->bid + in->ask;
}

static inline uint32_t slot_alloc(struct fh_sim *s)
{
	uint32_t slot = s->free_head;

	if (slot != NIL) {
		s->free_head = s->ord[slot].next;
		return slot;
	}
	if (s->ord_used < s->ord_cap)
		return s->ord_used++;
	return NIL;
}

/* An order near the touch: depth drawn from the depth table, walking outwards past empty levels. */
static uint32_t pick_near(struct fh_sim *s, struct sim_inst *in, uint8_t side, uint32_t d)
{
	int32_t lv;

	if (side == 'B') {
		lv = in->bid - (int32_t)d;
		if (lv < in->lo)
			lv = in->lo;
		while (level_empty(in, lv))
			lv--;
	} else {
		lv = in->ask + (int32_t)d;
		if (lv > in->hi)
			lv = in->hi;
		while (level_empty(in, lv))
			lv++;
	}
	struct sim_level *l = level(in, lv);
	return p16(s, P16(0.7)) ? l->tail : l->head;
}

static inline uint8_t pick_side(struct fh_sim *s, const struct sim_inst *in, int bias)
{
	if (!in->n_bid)
		return 'S';
	if (!in->n_ask)
		return 'B';
	/* bias > 0: the ask side is preferred (it is being taken out as the price rises) */
	uint32_t p = bias > 0 ? P16(0.85) : bias < 0 ? P16(0.15) : P16(0.5);
	return p16(s, p) ? 'S' : 'B';
}

/* ---------------------------------------------------------------- messages */

static int emit_delete(struct fh_sim *s, struct sim_inst *in, uint32_t slot, uint8_t *m)
{
	uint8_t *p = hdr(m, 'D', loc(s, (uint32_t)(in - s->inst)), s->last_ts);
	fh_put_be64(p, s->ord[slot].ref);
	order_unlink(s, in, slot);
	return 19;
}

static inline uint32_t draw_shares(struct fh_sim *s)
{
	return s->lot_tab[bits(s, 8)];
}

static int emit_add_at(struct fh_sim *s, struct sim_inst *in, uint8_t side, int32_t lv,
		       uint32_t shares, uint8_t *m)
{
	uint32_t slot = slot_alloc(s);
	uint32_t i = (uint32_t)(in - s->inst);

	if (slot == NIL) {
		s->st.book_full++;
		return 0;
	}
	struct sim_order *o = &s->ord[slot];
	o->ref = s->next_ref;
	s->next_ref += 1 + bits(s, 2);
	o->shares = shares;
	o->lv = lv;
	o->inst = (uint16_t)i;
	o->side = side;
	order_link(s, in, slot);
	s->st.orders_added++;

	bool mpid = p16(s, P16(0.2));
	uint8_t *p = hdr(m, mpid ? 'F' : 'A', loc(s, i), s->last_ts);
	fh_put_be64(p, o->ref);
	p[8] = side;
	fh_put_be32(p + 9, shares);
	memcpy(p + 13, in->sym, 8);
	fh_put_be32(p + 21, lv_px(in, lv));
	if (!mpid)
		return 36;
	memcpy(p + 25, mpids[rbn(s, FH_ARRAY_SIZE(mpids))], 4);
	return 40;
}

static int do_delete(struct fh_sim *s, struct sim_inst *in, uint8_t *m);

static int do_add(struct fh_sim *s, struct sim_inst *in, uint8_t *m)
{
	uint8_t side = p16(s, P16(0.5)) ? 'B' : 'S';
	int32_t d = s->depth_tab[bits(s, 8)];
	int32_t lv, half = in->s0 / 2;

	if (side == 'B') {
		if (in->wide)
			lv = in->wide_bid - d;
		else if (in->n_bid && in->n_ask && in->ask - in->bid > in->s0 &&
			 p16(s, in->drift > 0 ? P16(0.8) : P16(0.55)))
			lv = in->bid + 1; /* improve a spread wider than normal */
		else if (in->n_bid)
			lv = in->bid - d;
		else
			lv = in->mid2 / 2 - half - d;
		if (in->n_ask && lv >= in->ask)
			lv = in->ask - 1;
	} else {
		if (in->wide)
			lv = in->wide_ask + d;
		else if (in->n_bid && in->n_ask && in->ask - in->bid > in->s0 &&
			 p16(s, in->drift < 0 ? P16(0.8) : P16(0.55)))
			lv = in->ask - 1;
		else if (in->n_ask)
			lv = in->ask + d;
		else
			lv = in->mid2 / 2 - half + in->s0 + d;
		if (in->n_bid && lv <= in->bid)
			lv = in->bid + 1;
	}
	if (!can_rest(in, side, lv)) {
		if (!inst_live(in))
			return 0;
		/* The span would exceed the ring: cancel a stale order on the far side instead. */
		struct sim_level *l = level(in, lv < in->lo ? in->hi : in->lo);
		uint8_t *p = hdr(m, 'D', loc(s, (uint32_t)(in - s->inst)), s->last_ts);
		fh_put_be64(p, s->ord[l->head].ref);
		order_unlink(s, in, l->head);
		return 19;
	}
	int n = emit_add_at(s, in, side, lv, draw_shares(s), m);
	if (!n && inst_live(in))
		return do_delete(s, in, m);
	return n;
}

static int do_delete(struct fh_sim *s, struct sim_inst *in, uint8_t *m)
{
	uint32_t slot;

	if (p16(s, P16(0.15))) {
		/* stale deep orders are cancelled too: this keeps the span within the ring */
		uint8_t side = pick_side(s, in, 0);
		slot = level(in, side == 'B' ? in->lo : in->hi)->head;
	} else {
		uint8_t side = pick_side(s, in, in->drift);
		uint32_t d = (in->drift && p16(s, P16(0.7))) ? 0 : s->depth_tab[bits(s, 8)];
		slot = pick_near(s, in, side, d);
	}
	return emit_delete(s, in, slot, m);
}

static int do_replace(struct fh_sim *s, struct sim_inst *in, uint8_t *m)
{
	uint8_t side = pick_side(s, in, in->drift);
	uint32_t slot = pick_near(s, in, side, s->depth_tab[bits(s, 8)]);
	struct sim_order *o = &s->ord[slot];
	uint64_t old_ref = o->ref;
	int32_t old_lv = o->lv;
	int32_t lv = o->lv + (int32_t)rbn(s, 3) - 1;
	uint32_t i = (uint32_t)(in - s->inst);
	uint32_t shares = p16(s, P16(0.5)) ? o->shares : draw_shares(s);

	order_unlink(s, in, slot);
	if (in->wide)
		lv = side == 'B' ? (lv > in->wide_bid ? in->wide_bid : lv)
				 : (lv < in->wide_ask ? in->wide_ask : lv);
	/* the old level is always valid again: the order was there a moment ago */
	if (!can_rest(in, side, lv))
		lv = old_lv;
	uint32_t ns = slot_alloc(s); /* the slot just freed: never NIL here */
	struct sim_order *n = &s->ord[ns];
	n->ref = s->next_ref;
	s->next_ref += 1 + bits(s, 2);
	n->shares = shares;
	n->lv = lv;
	n->inst = (uint16_t)i;
	n->side = side;
	order_link(s, in, ns);
	s->st.orders_added++;

	uint8_t *p = hdr(m, 'U', loc(s, i), s->last_ts);
	fh_put_be64(p, old_ref);
	fh_put_be64(p + 8, n->ref);
	fh_put_be32(p + 16, shares);
	fh_put_be32(p + 20, lv_px(in, lv));
	return 35;
}

/* Aggressor buys (taking the ask) or sells: executes the oldest order at the touch. */
static int do_exec(struct fh_sim *s, struct sim_inst *in, uint8_t *m, bool with_price, uint8_t rest_side)
{
	uint32_t i = (uint32_t)(in - s->inst);
	int32_t lv = rest_side == 'B' ? in->bid : in->ask;
	uint32_t slot = level(in, lv)->head;
	struct sim_order *o = &s->ord[slot];
	uint32_t px = lv_px(in, lv);
	uint32_t q = o->shares;

	if (q > 1 && !p16(s, P16(0.55))) {
		uint32_t part = draw_shares(s);
		q = part < q ? part : 1 + rbn(s, q - 1);
	}
	uint8_t *p = hdr(m, with_price ? 'C' : 'E', loc(s, i), s->last_ts);
	fh_put_be64(p, o->ref);
	fh_put_be32(p + 8, q);
	fh_put_be64(p + 12, ++s->match);
	int len = 31;
	bool printable = true;
	if (with_price) {
		printable = p16(s, P16(0.5));
		p[20] = printable ? 'Y' : 'N';
		fh_put_be32(p + 21, px);
		len = 36;
	}
	if (printable) {
		in->last_px = px;
		s->last_match_printed = s->match;
	}
	if (q == o->shares) {
		order_unlink(s, in, slot);
		/* a larger aggressor sweeps on at the same level and timestamp */
		if (!s->burst_n && !level_empty(in, lv) && p16(s, P16(0.3))) {
			s->burst_n = 1 + rbn(s, 3);
			s->burst_inst = (uint16_t)i;
			s->burst_side = rest_side;
		}
	} else {
		o->shares -= q;
	}
	return len;
}

static int do_cancel(struct fh_sim *s, struct sim_inst *in, uint8_t *m)
{
	uint8_t side = pick_side(s, in, 0);
	uint32_t slot = pick_near(s, in, side, s->depth_tab[bits(s, 8)]);
	struct sim_order *o = &s->ord[slot];

	if (o->shares < 2)
		return emit_delete(s, in, slot, m);
	uint32_t q = o->shares > 100 && o->shares % 100 == 0 ? 100 * (1 + rbn(s, o->shares / 100 - 1))
							     : 1 + rbn(s, o->shares - 1);
	uint8_t *p = hdr(m, 'X', loc(s, (uint32_t)(in - s->inst)), s->last_ts);
	fh_put_be64(p, o->ref);
	fh_put_be32(p + 8, q);
	o->shares -= q;
	return 23;
}

static int put_print(struct fh_sim *s, uint32_t i, uint8_t side, uint32_t shares, uint32_t px,
		     uint8_t *m)
{
	struct sim_inst *in = &s->inst[i];
	uint8_t *p = hdr(m, 'P', loc(s, i), s->last_ts);

	fh_put_be64(p, 0); /* Nasdaq zeroes the reference of non-displayed prints since 2019 */
	p[8] = side;
	fh_put_be32(p + 9, shares);
	memcpy(p + 13, in->sym, 8);
	fh_put_be32(p + 21, px);
	fh_put_be64(p + 25, ++s->match);
	in->last_px = px;
	s->last_match_printed = s->match;
	return 44;
}

/* Non-displayed execution at the touch or the midpoint. */
static int do_print(struct fh_sim *s, struct sim_inst *in, uint8_t *m)
{
	uint32_t i = (uint32_t)(in - s->inst);
	uint32_t r = rbn(s, 10);
	uint32_t px;
	uint8_t side;

	if (in->n_bid && in->n_ask && r < 3) {
		px = (lv_px(in, in->bid) + lv_px(in, in->ask)) / 2;
		side = r & 1 ? 'B' : 'S';
	} else if (in->n_bid && (!in->n_ask || r & 1)) {
		px = lv_px(in, in->bid);
		side = 'S';
	} else {
		px = lv_px(in, in->ask);
		side = 'B';
	}
	return put_print(s, i, side, draw_shares(s), px, m);
}

/* ---------------------------------------------------------------- flow */

static void update_thresholds(struct fh_sim *s)
{
	double x = s->flow_est ? (double)s->flow_j / (double)s->flow_est : 1.0;
	double shape;

	/* live orders build up through the morning, peak at midday, thin out into the close */
	if (x < 0.45)
		shape = 0.05 + 0.95 * x / 0.45;
	else if (x < 0.62)
		shape = 1.0;
	else if (x < 0.95)
		shape = 1.0 - 0.5 * (x - 0.62) / 0.33;
	else
		shape = 0.5;
	double target = (double)s->peak_target * shape;
	double live = (double)s->st.live_orders;
	double c = 0.5 * (target - live) / (target > 1 ? target : 1);
	if (c > 0.06)
		c = 0.06;
	if (c < -0.06)
		c = -0.06;
	double add = 0.425 + c, del = 0.452 - c; /* re-quotes add ~1.5 % more adds */
	double acc = add;
	s->thr_add = P16(acc);
	acc += del;
	s->thr_del = P16(acc);
	acc += 0.075;
	s->thr_rep = P16(acc);
	acc += 0.025; /* sweeps add ~0.6 % more E at the same nanosecond */
	s->thr_e = P16(acc);
	acc += 0.002;
	s->thr_c = P16(acc);
	acc += 0.012;
	s->thr_x = P16(acc); /* the rest, 1 %, are non-displayed prints */
}

static uint64_t flow_ts(struct fh_sim *s)
{
	uint64_t j = s->flow_j;

	while (s->seg_i < NSEG - 1 && j >= s->seg_j0[s->seg_i + 1])
		s->seg_i++;
	const struct seg *g = &segs[s->seg_i];
	uint64_t n = s->seg_j0[s->seg_i + 1] - s->seg_j0[s->seg_i];
	uint64_t k = j - s->seg_j0[s->seg_i];
	if (k >= n)
		k = n ? n - 1 : 0;
	double step = s->seg_step[s->seg_i];
	uint64_t base = g->t0 + (uint64_t)((double)k * step);
	/* arrivals cluster: some land on the previous message's nanosecond */
	uint64_t jit = (uint64_t)((double)bits(s, 16) * (3.0 / 65536.0) * step);
	uint64_t ts = base > jit ? base - jit : 0;
	return ts < g->t0 ? g->t0 : ts;
}

/* The next flow message's time, drawn once and kept until that message is made. */
static uint64_t flow_peek(struct fh_sim *s)
{
	if (!s->flow_ts_valid) {
		s->flow_next_ts = flow_ts(s);
		s->flow_ts_valid = 1;
	}
	return s->flow_next_ts;
}

static inline uint32_t draw_inst(struct fh_sim *s)
{
	uint64_t r = rnd(&s->rng_pick);
	uint32_t b = (uint32_t)(((r >> 32) * s->n_inst) >> 32);
	return (uint32_t)r < s->alias_p[b] ? b : s->alias[b];
}

/*
 * Instruments are drawn PICK_AHEAD steps early from their own random stream
 * so their state is in cache when used: the struct is prefetched when drawn,
 * the best levels half-way, the orders at those levels two steps ahead.
 * (Most instruments are rarely touched: without this every step waits for
 * memory three times.)
 */
static inline uint32_t pick_inst(struct fh_sim *s)
{
	uint32_t h = s->pick_head;
	uint32_t i = s->pick[h];
	uint32_t nw = draw_inst(s);

	s->pick[h] = nw;
	fh_prefetch_w(&s->inst[nw]);
	s->pick_head = (h + 1) & (PICK_AHEAD - 1);

	struct sim_inst *in = &s->inst[s->pick[(h + PICK_AHEAD / 2) & (PICK_AHEAD - 1)]];
	fh_prefetch_w(level(in, in->bid));
	fh_prefetch_w(level(in, in->ask));
	in = &s->inst[s->pick[(h + 3) & (PICK_AHEAD - 1)]];
	struct sim_level *lb = level(in, in->bid), *la = level(in, in->ask);
	if (lb->tail != NIL)
		fh_prefetch_w(&s->ord[lb->tail]);
	if (la->head != NIL)
		fh_prefetch_w(&s->ord[la->head]);
	return i;
}

static void pend_push(struct fh_sim *s, const struct pend *p);

/* A resting order drawn uniformly: candidates are drawn LIVE_AHEAD steps early and prefetched. */
static uint32_t pick_live(struct fh_sim *s)
{
	uint32_t h = s->live_head;
	uint32_t c = s->live_pick[h];
	uint32_t nw = rbn(s, s->ord_used);

	s->live_pick[h] = nw;
	fh_prefetch_w(&s->ord[nw]);
	s->live_head = (h + 1) & (LIVE_AHEAD - 1);
	fh_prefetch_w(&s->inst[s->ord[s->live_pick[(h + LIVE_AHEAD / 2) & (LIVE_AHEAD - 1)]].inst]);
	/* two steps ahead: the neighbours the unlink will write, and the level */
	const struct sim_order *o = &s->ord[s->live_pick[(h + 2) & (LIVE_AHEAD - 1)]];
	if (o->ref) {
		if (o->next != NIL)
			fh_prefetch_w(&s->ord[o->next]);
		if (o->prev != NIL)
			fh_prefetch_w(&s->ord[o->prev]);
		fh_prefetch_w(level(&s->inst[o->inst], o->lv));
	}
	if (c < s->ord_used && s->ord[c].ref)
		return c;
	/* a freed slot: the table is at least half full, so a few draws find one */
	for (int k = 0; k < 16; k++) {
		c = rbn(s, s->ord_used);
		if (s->ord[c].ref)
			return c;
	}
	return NIL;
}

/*
 * Volatility is set in time, not in events: the fair value moves by a bounded
 * near-normal step every 2 s (daily sd FAIR_DAY_VOL), whatever the instrument's
 * activity; the order flow leans towards it (drift), so the quote follows one
 * level at a time and a busy name is not more volatile than a quiet one.
 */
#define FAIR_DAY_VOL 0.015
static void update_fair(struct fh_sim *s, struct sim_inst *in)
{
	uint32_t now = (uint32_t)(s->last_ts / (2 * SEC));
	int32_t mid = in->mid2 / 2;

	if (fh_likely(now == in->fair_t))
		return;
	/*
	 * Integer arithmetic only: floating point here would let compilers that fuse
	 * multiply-adds produce other bytes from the same seed.
	 */
	if (in->fair_t == 0) {
		in->fair = mid * 256;
	} else {
		/* sum of four uniforms, centred: sd 37837 (of 65536), never beyond 3.5 sd */
		int64_t z = (int64_t)bits(s, 16) + bits(s, 16) + bits(s, 16) + bits(s, 16) - 131072;
		/* sd per 2 s, 1/256 level: FAIR_DAY_VOL / sqrt(23400 / 2) * mid * 256 = mid * 0.0355 */
		int64_t sd = (int64_t)mid * (int64_t)(FAIR_DAY_VOL / 108.17 * 256.0 * 65536.0) >> 16;
		/* sqrt(k) in 1/256: sqrt is correctly rounded, the same everywhere */
		int64_t rk = (int64_t)sqrt((double)((uint64_t)(now - in->fair_t) << 16));
		in->fair += (int32_t)((z * sd / 37837 * rk) >> 8);
	}
	in->fair_t = (uint16_t)now;
	in->drift = in->fair > (mid + 1) * 256 ? 1 : in->fair < (mid - 1) * 256 ? -1 : 0;
}

static int flow_step(struct fh_sim *s, uint8_t *m)
{
	struct sim_inst *in;
	int n;

	if ((s->flow_j & 1023) == 0)
		update_thresholds(s);
	if (s->burst_n) {
		/* the sweep continues at the same nanosecond */
		in = &s->inst[s->burst_inst];
		s->burst_n--;
		int32_t lv = s->burst_side == 'B' ? in->bid : in->ask;
		if ((s->burst_side == 'B' ? in->n_bid : in->n_ask) && !in->halted && !in->wide &&
		    lv == (s->burst_side == 'B' ? in->bid : in->ask)) {
			n = do_exec(s, in, m, false, s->burst_side);
			goto out;
		}
		s->burst_n = 0;
	}
	uint64_t ts = flow_peek(s);
	s->flow_ts_valid = 0;
	if (ts > s->last_ts)
		s->last_ts = ts;

	for (;;) {
		uint32_t a = bits(s, 16);
		/* an action on resting orders goes to an instrument that has some: the mix stays the mix */
		for (int tries = 0;; tries++) {
			in = &s->inst[pick_inst(s)];
			if (a < s->thr_add || inst_live(in) || tries == 8)
				break;
		}
		if (fh_unlikely(in->wide) && s->last_ts >= in->wide_until)
			in->wide = 0;
		/*
		 * Diagnostics for rule floors: spells of a clean spread >= 5x normal lasting
		 * >= 2 s. The book is as the last action on it (and its re-quote) left it.
		 */
		if (in->n_bid && in->n_ask && in->ask - in->bid >= 5 * in->s0 && !in->wide) {
			if (!in->wspell) {
				in->wspell = 1;
				in->wide_since = (uint64_t)in->touched << 16;
			}
		} else if (fh_unlikely(in->wspell)) {
			in->wspell = 0;
			if (!in->wide && s->last_ts - in->wide_since >= 2 * SEC)
				s->st.wide_spells++;
		}
		update_fair(s, in);
		if (a < s->thr_add || !inst_live(in)) {
			n = do_add(s, in, m);
		} else if (a < s->thr_del) {
			/*
			 * Half the cancels hit a uniformly chosen resting order (every order has the
			 * same hazard: books hold live orders in proportion to activity), half come
			 * near the touch of the active instrument (quote management).
			 */
			uint32_t slot = bits(s, 1) ? pick_live(s) : NIL;
			if (slot != NIL) {
				in = &s->inst[s->ord[slot].inst];
				n = emit_delete(s, in, slot, m);
			} else {
				n = do_delete(s, in, m);
			}
		} else if (a < s->thr_rep) {
			n = do_replace(s, in, m);
		} else if (a < s->thr_c) {
			uint8_t rest = in->drift > 0 ? 'S' : in->drift < 0 ? 'B' : (a & 1 ? 'S' : 'B');
			if (!(rest == 'B' ? in->n_bid : in->n_ask))
				rest = rest == 'B' ? 'S' : 'B';
			if (in->halted || in->wide)
				n = do_delete(s, in, m);
			else
				n = do_exec(s, in, m, a >= s->thr_e, rest);
		} else if (a < s->thr_x) {
			n = do_cancel(s, in, m);
		} else if (in->halted || in->wide) {
			n = do_add(s, in, m);
		} else {
			n = do_print(s, in, m);
		}
		if (n)
			break;
	}
	/*
	 * Market makers re-quote at once: a side taken out or a spread left wider than
	 * twice normal gets a new order at the normal spread, at the same nanosecond.
	 * Without this, thinly traded books would sit wide for minutes.
	 */
	if (!in->wide && inst_live(in) && s->pend_n < PEND_CAP / 2) {
		int32_t tb = in->mid2 / 2 - in->s0 / 2, ta = tb + in->s0;
		struct pend p = { 0 };
		p.kind = PEND_ADD;
		p.inst = (uint16_t)(in - s->inst);
		if (!in->n_bid || in->bid < tb - in->s0) {
			p.side = 'B';
			p.a = in->n_ask && tb >= in->ask ? in->ask - 1 : tb;
			p.b = (int32_t)draw_shares(s);
			pend_push(s, &p);
		}
		if (!in->n_ask || in->ask > ta + in->s0) {
			p.side = 'S';
			p.a = in->n_bid && ta <= in->bid ? in->bid + 1 : ta;
			p.b = (int32_t)draw_shares(s);
			pend_push(s, &p);
		}
	}
	in->touched = (uint32_t)(s->last_ts >> 16);
out:
	s->flow_j++;
	return n;
}

/* ---------------------------------------------------------------- schedule */

static const char *const halt_reasons[] = { "LUDP", "T1  ", "H10 ", "MWC1", "IPO1" };

static int sch_cmp(const void *a, const void *b)
{
	const struct sched *x = a, *y = b;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void sch_add(struct fh_sim *s, uint64_t ts, uint8_t kind, uint8_t code, uint32_t inst, uint32_t arg)
{
	struct sched *e = &s->sch[s->n_sch];
	e->ts = ts;
	e->order = s->n_sch++;
	e->kind = kind;
	e->code = code;
	e->inst = (uint16_t)inst;
	e->arg = arg;
}

/* Instrument of a given activity rank. */
static uint32_t by_rank(const struct fh_sim *s, const uint32_t *rank_to_inst, uint32_t rank)
{
	return rank_to_inst[rank % s->n_inst];
}

static int emit_sched(struct fh_sim *s, const struct sched *e, uint8_t *m);

/* ---------------------------------------------------------------- pending bursts */

static void pend_push(struct fh_sim *s, const struct pend *p)
{
	if (s->pend_n == PEND_CAP)
		return; /* planned sizes keep it far from full */
	s->pend[(s->pend_head + s->pend_n++) % PEND_CAP] = *p;
}

/* Runs pending work until one message comes out; 0 when nothing is pending. */
static int pend_step(struct fh_sim *s, uint8_t *m)
{
	while (s->pend_n) {
		struct pend *p = &s->pend[s->pend_head];
		struct sim_inst *in = &s->inst[p->inst];
		int n = 0;

		switch (p->kind) {
		case PEND_DEL_RANGE:
			/* delete every order resting in levels [a, b], nearest the touch first */
			while (inst_live(in) && p->a <= p->b) {
				int32_t lo = p->a > in->lo ? p->a : in->lo;
				int32_t hi = p->b < in->hi ? p->b : in->hi;
				if (lo > hi)
					break;
				int32_t lv = in->n_bid && in->bid >= lo && in->bid <= hi ? in->bid
					   : in->n_ask && in->ask >= lo && in->ask <= hi ? in->ask
					   : lo;
				if (level_empty(in, lv)) {
					/* neither touch is inside: scan up from lo */
					while (lv <= hi && level_empty(in, lv))
						lv++;
					if (lv > hi)
						break;
				}
				n = emit_delete(s, in, level(in, lv)->tail, m);
				return n;
			}
			break;
		case PEND_SET_MID:
			in->mid2 = 2 * p->a;
			if (p->b) {
				in->wide = 1;
				in->wide_bid = p->a - p->b;
				in->wide_ask = p->a + p->b;
				in->wide_until = s->last_ts + p->n;
			}
			break;
		case PEND_PRINT:
			if (p->n) {
				p->n--;
				n = put_print(s, p->inst, p->side, (uint32_t)p->b, (uint32_t)p->a, m);
				if (p->n)
					return n;
			}
			break;
		case PEND_ADD:
			if (can_rest(in, p->side, p->a))
				n = emit_add_at(s, in, p->side, p->a, (uint32_t)p->b, m);
			break;
		}
		s->pend_head = (s->pend_head + 1) % PEND_CAP;
		s->pend_n--;
		if (n)
			return n;
	}
	return 0;
}

/* ---------------------------------------------------------------- anomalies */

const char *fh_sim_anomaly_name(enum fh_sim_anomaly kind)
{
	static const char *const names[FH_SIM_AN__COUNT] = {
		"price_spike", "volume_surge", "spike_surge", "spread_widening", "price_gap",
		"circuit_breaker",
	};
	return (unsigned)kind < FH_SIM_AN__COUNT ? names[kind] : "unknown";
}

/* Steps: price_spike 2, volume_surge 25, spike_surge 1, spread_widening 1, price_gap 1, circuit_breaker 7. */
#define SURGE_PRINTS 25
#define SPIKE_SURGE_PRINTS 15
#define CB_STEPS 7

static int32_t mid_lv(const struct sim_inst *in)
{
	return in->mid2 / 2;
}

static uint32_t ref_px(const struct sim_inst *in)
{
	return in->last_px ? in->last_px : lv_px(in, mid_lv(in));
}

/* Levels for a relative move of frac from price px. */
static int32_t move_lv(const struct sim_inst *in, uint32_t px, double frac)
{
	double to = (double)px * (1.0 + frac);
	return (int32_t)llround(to / in->grid);
}

/* Delete the whole book of an instrument, re-anchor it at lv, print there. */
static void relocate(struct fh_sim *s, uint32_t i, int32_t lv, uint32_t shares, uint32_t prints)
{
	struct pend p = { 0 };
	struct sim_inst *in = &s->inst[i];

	p.inst = (uint16_t)i;
	p.kind = PEND_DEL_RANGE;
	p.a = INT32_MIN / 2;
	p.b = INT32_MAX / 2;
	if (inst_live(in))
		pend_push(s, &p);
	p.kind = PEND_SET_MID;
	p.a = lv;
	p.b = 0;
	pend_push(s, &p);
	p.kind = PEND_PRINT;
	p.a = (int32_t)lv_px(in, lv);
	p.b = (int32_t)shares;
	p.n = prints;
	p.side = 'B';
	pend_push(s, &p);
}

static int an_step(struct fh_sim *s, const struct sched *e, uint8_t *m)
{
	struct an_plan *a = &s->an[e->arg];
	uint32_t i = a->inst;
	struct sim_inst *in = &s->inst[i];
	uint32_t step = e->code;
	uint64_t room = s->cfg.messages - s->count - (s->n_sch - s->sch_i);
	struct pend p = { 0 };

	if (a->skipped)
		return 0;
	if (step == 0) {
		/* each step needs room for at most the instrument's whole book plus a few prints */
		if (room < (uint64_t)inst_live(in) * 2 + 64 + 4 * SURGE_PRINTS || in->halted) {
			a->skipped = 1;
			return 0;
		}
		a->done = 1;
		a->t.start_ns = s->last_ts;
		a->ref_px = ref_px(in);
	} else if (room < (uint64_t)inst_live(in) + 64) {
		return 0; /* the truth interval still holds what was injected */
	}
	p.inst = (uint16_t)i;
	switch (a->t.kind) {
	case FH_SIM_AN_PRICE_SPIKE: {
		uint32_t px = ref_px(in);
		if (step == 0) {
			px = lv_px(in, move_lv(in, px, 0.031 * a->dir));
		} else {
			/* back at the touch */
			px = in->n_bid ? lv_px(in, in->bid) : lv_px(in, mid_lv(in));
			a->t.end_ns = s->last_ts;
		}
		p.kind = PEND_PRINT;
		p.a = (int32_t)px;
		p.b = 100 * (int32_t)(1 + rbn(s, 5));
		p.n = 1;
		p.side = a->dir > 0 ? 'S' : 'B';
		pend_push(s, &p);
		break;
	}
	case FH_SIM_AN_VOLUME_SURGE:
		p.kind = PEND_PRINT;
		p.a = (int32_t)(in->n_bid && (step & 1) ? lv_px(in, in->bid)
			      : in->n_ask ? lv_px(in, in->ask) : ref_px(in));
		p.b = (int32_t)(a->vol / SURGE_PRINTS);
		p.n = 1;
		p.side = step & 1 ? 'S' : 'B';
		pend_push(s, &p);
		a->t.end_ns = s->last_ts;
		break;
	case FH_SIM_AN_SPIKE_SURGE:
		relocate(s, i, move_lv(in, a->ref_px, 0.021 * a->dir), (uint32_t)(a->vol / SPIKE_SURGE_PRINTS),
			 SPIKE_SURGE_PRINTS);
		a->t.end_ns = s->last_ts;
		break;
	case FH_SIM_AN_PRICE_GAP:
		relocate(s, i, move_lv(in, ref_px(in), 0.082 * a->dir), 100 * (1 + rbn(s, 9)), 1);
		a->t.end_ns = s->last_ts;
		break;
	case FH_SIM_AN_CIRCUIT_BREAKER:
		/* 7 steps of ~2 %, each from the previous step's price: ~14.9 % in total */
		relocate(s, i, move_lv(in, a->ref_px, (pow(1.0205, step + 1) - 1.0) * a->dir),
			 100 * (1 + rbn(s, 9)), 1);
		a->t.end_ns = s->last_ts;
		break;
	case FH_SIM_AN_SPREAD_WIDENING: {
		int32_t mid = mid_lv(in);
		int32_t cur = in->n_bid && in->n_ask ? in->ask - in->bid : in->s0;
		int32_t half = 3 * (cur > in->s0 ? cur : in->s0) + 1;
		if (half > RING / 4)
			half = RING / 4;
		p.kind = PEND_DEL_RANGE;
		p.a = mid - half + 1;
		p.b = mid + half - 1;
		pend_push(s, &p);
		p.kind = PEND_SET_MID;
		p.a = mid;
		p.b = half;
		p.n = 2500000000U; /* 2.5 s, in ns */
		pend_push(s, &p);
		p.kind = PEND_ADD;
		p.side = 'B';
		p.a = mid - half;
		p.b = 100;
		pend_push(s, &p);
		p.side = 'S';
		p.a = mid + half;
		pend_push(s, &p);
		a->t.end_ns = s->last_ts + 2500000000ULL;
		break;
	}
	default:
		break;
	}
	return pend_step(s, m);
}

/* ---------------------------------------------------------------- scheduled messages */

static int emit_sched(struct fh_sim *s, const struct sched *e, uint8_t *m)
{
	uint32_t i = e->inst;
	struct sim_inst *in = &s->inst[i];
	uint16_t l = loc(s, i);
	uint64_t ts = s->last_ts;
	uint8_t *p;

	switch (e->kind) {
	case SCH_SYS:
		p = hdr(m, 'S', 0, ts);
		p[0] = e->code;
		return 12;
	case SCH_R: {
		p = hdr(m, 'R', l, ts);
		memcpy(p, in->sym, 8);
		static const char cats[] = "QQQGSNAPZ";
		p[8] = (uint8_t)cats[in->rank % 9];
		p[9] = in->rank % 97 == 5 ? 'D' : 'N'; /* financial status: a few deficient */
		fh_put_be32(p + 10, 100);
		p[14] = 'N';
		p[15] = in->rank % 11 == 3 ? 'Q' : 'C'; /* issue classification */
		put_alpha(p + 16, in->rank % 11 == 3 ? "I " : "Z ", 2);
		p[18] = 'P';
		p[19] = in->rank % 13 == 0 ? 'Y' : 'N'; /* short sale threshold */
		p[20] = e->code ? 'Y' : 'N';             /* IPO flag */
		p[21] = in->rank < 500 ? '1' : '2';       /* LULD tier */
		p[22] = in->rank % 11 == 3 ? 'Y' : 'N';  /* ETP */
		fh_put_be32(p + 23, in->rank % 11 == 3 ? 1 : 0);
		p[27] = 'N';
		return 39;
	}
	case SCH_H:
	case SCH_HALT:
	case SCH_RESUME:
		p = hdr(m, 'H', l, ts);
		memcpy(p, in->sym, 8);
		p[8] = e->code;
		p[9] = ' ';
		put_alpha(p + 10, e->code == 'T' ? "" : halt_reasons[e->arg % FH_ARRAY_SIZE(halt_reasons)], 4);
		if (e->kind == SCH_HALT)
			in->halted = 1;
		if (e->kind == SCH_RESUME)
			in->halted = 0;
		return 25;
	case SCH_Y:
		p = hdr(m, 'Y', l, ts);
		memcpy(p, in->sym, 8);
		p[8] = e->code;
		return 20;
	case SCH_L:
		p = hdr(m, 'L', l, ts);
		memcpy(p, mpids[e->arg % FH_ARRAY_SIZE(mpids)], 4);
		memcpy(p + 4, in->sym, 8);
		p[12] = e->arg % 3 == 0 ? 'Y' : 'N';
		p[13] = 'N';
		p[14] = 'A';
		return 26;
	case SCH_V:
		p = hdr(m, 'V', 0, ts);
		/* 7 %, 13 %, 20 % below an S&P 500 close of 3240.02 (8 decimals) */
		fh_put_be64(p, 301321860000ULL);
		fh_put_be64(p + 8, 281881740000ULL);
		fh_put_be64(p + 16, 259201600000ULL);
		return 35;
	case SCH_W:
		p = hdr(m, 'W', 0, ts);
		p[0] = '1';
		return 12;
	case SCH_K:
		p = hdr(m, 'K', l, ts);
		memcpy(p, in->sym, 8);
		fh_put_be32(p + 8, 11 * 3600 + 30 * 60); /* seconds since midnight */
		p[12] = 'A';
		fh_put_be32(p + 13, ref_px(in));
		return 28;
	case SCH_J: {
		uint32_t ref = ref_px(in);
		p = hdr(m, 'J', l, ts);
		memcpy(p, in->sym, 8);
		fh_put_be32(p + 8, ref);
		fh_put_be32(p + 12, ref + ref / 20);
		fh_put_be32(p + 16, ref - ref / 20);
		fh_put_be32(p + 20, e->arg);
		return 35;
	}
	case SCH_OPHALT:
		p = hdr(m, 'h', l, ts);
		memcpy(p, in->sym, 8);
		p[8] = 'Q';
		p[9] = e->code;
		return 21;
	case SCH_N:
		p = hdr(m, 'N', l, ts);
		memcpy(p, in->sym, 8);
		p[8] = e->code;
		return 20;
	case SCH_O: {
		uint32_t ref = ref_px(in);
		p = hdr(m, 'O', l, ts);
		memcpy(p, in->sym, 8);
		p[8] = 'Y';
		fh_put_be32(p + 9, ref - ref / 10);
		fh_put_be32(p + 13, ref + ref / 10);
		fh_put_be32(p + 17, ref);
		fh_put_be64(p + 21, ts + 60 * SEC);
		fh_put_be32(p + 29, ref - ref / 5);
		fh_put_be32(p + 33, ref + ref / 5);
		return 48;
	}
	case SCH_B:
		if (!s->last_match_printed)
			return 0;
		p = hdr(m, 'B', 0, ts);
		fh_put_be64(p, s->last_match_printed);
		return 19;
	case SCH_I: {
		uint32_t ref = ref_px(in);
		uint64_t paired = 1000ULL * (1 + e->arg % 97);
		p = hdr(m, 'I', l, ts);
		fh_put_be64(p, paired);
		fh_put_be64(p + 8, 100ULL * (e->arg % 31));
		p[16] = e->arg % 31 ? (e->arg & 1 ? 'B' : 'S') : 'N';
		memcpy(p + 17, in->sym, 8);
		fh_put_be32(p + 25, ref + (e->arg & 1 ? ref / 200 : 0));
		fh_put_be32(p + 29, ref);
		fh_put_be32(p + 33, ref);
		p[37] = e->code;
		p[38] = 'L';
		return 50;
	}
	case SCH_Q: {
		uint32_t px = ref_px(in);
		if (in->n_bid)
			px = lv_px(in, in->bid); /* crosses at the touch: a clean session has no jumps */
		p = hdr(m, 'Q', l, ts);
		fh_put_be64(p, 100ULL * (10 + e->arg % 5000));
		memcpy(p + 8, in->sym, 8);
		fh_put_be32(p + 16, px);
		fh_put_be64(p + 20, ++s->match);
		p[28] = e->code;
		in->last_px = px;
		s->last_match_printed = s->match;
		return 40;
	}
	case SCH_AN:
		return an_step(s, e, m);
	default:
		return 0;
	}
}

/* ---------------------------------------------------------------- public */

struct fh_sim_cfg fh_sim_cfg_default(void)
{
	struct fh_sim_cfg c = { 0 };
	c.seed = 1;
	c.messages = FH_SIM_DEFAULT_MESSAGES;
	c.symbols = FH_SIM_DEFAULT_SYMBOLS;
	c.zipf_s = 1.0;
	c.first_locate = 1;
	return c;
}

static void make_symbol(uint64_t *rng, uint32_t i, char out[8])
{
	/* 1-5 letters, unique by construction: letters encode the index, a random prefix varies them */
	static const char L[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	char buf[8];
	int n = 0;
	uint32_t v = i;

	do {
		buf[n++] = L[v % 26];
		v /= 26;
	} while (v && n < 4);
	int len = 0;
	out[len++] = L[rnd_n(rng, 26)];
	while (n)
		out[len++] = buf[--n];
	while (len < 8)
		out[len++] = ' ';
}

static int build_alias(struct fh_sim *s)
{
	uint32_t n = s->n_inst;
	double *q = malloc(n * sizeof(*q));
	uint32_t *small = malloc(n * sizeof(*small)), *large = malloc(n * sizeof(*large));
	uint32_t ns = 0, nl = 0;
	double sum = 0;

	if (!q || !small || !large) {
		free(q);
		free(small);
		free(large);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++)
		sum += s->inst[i].weight;
	for (uint32_t i = 0; i < n; i++) {
		s->inst[i].weight /= sum;
		q[i] = s->inst[i].weight * n;
		if (q[i] < 1.0)
			small[ns++] = i;
		else
			large[nl++] = i;
	}
	while (ns && nl) {
		uint32_t a = small[--ns], b = large[nl - 1];
		s->alias_p[a] = (uint32_t)fmin(q[a] * 4294967296.0, 4294967295.0);
		s->alias[a] = b;
		q[b] -= 1.0 - q[a];
		if (q[b] < 1.0) {
			nl--;
			small[ns++] = b;
		}
	}
	while (nl) {
		uint32_t b = large[--nl];
		s->alias_p[b] = UINT32_MAX;
		s->alias[b] = b;
	}
	while (ns) {
		uint32_t a = small[--ns];
		s->alias_p[a] = UINT32_MAX;
		s->alias[a] = a;
	}
	free(q);
	free(small);
	free(large);
	return 0;
}

static void plan_anomalies(struct fh_sim *s, const uint32_t *rank_to_inst)
{
	uint32_t n = s->cfg.anomalies;
	uint64_t t0 = HMS(10, 0, 0), t1 = HMS(15, 20, 0);
	uint64_t slot = (t1 - t0) / n;
	/* flow messages per second in the regular session, for the instrument's normal volume */
	double reg_rate = (double)s->flow_est * segs[2].share / (double)(segs[2].t1 - segs[2].t0) * 1e9;

	for (uint32_t k = 0; k < n; k++) {
		struct an_plan *a = &s->an[k];
		enum fh_sim_anomaly kind = (enum fh_sim_anomaly)(k % FH_SIM_AN__COUNT);
		/* active but not the very top: ranks 5..(5 + 8 n), one anomaly per instrument */
		uint32_t lim = s->n_inst > 6 ? s->n_inst - 5 : 1;
		uint32_t span = 8 * n < lim ? 8 * n : lim;
		uint32_t r = 5 % s->n_inst, i;
		for (uint32_t tries = 0;; tries++) {
			r = (5 + rbn(s, span)) % s->n_inst;
			i = by_rank(s, rank_to_inst, r);
			if (!s->inst[i].an_busy || tries > 64)
				break;
		}
		s->inst[i].an_busy = 1;
		a->inst = (uint16_t)i;
		a->dir = p16(s, P16(0.5)) ? 1 : -1;
		a->t.kind = kind;
		a->t.locate = loc(s, i);
		memcpy(a->t.symbol, s->inst[i].sym, 8);
		a->t.symbol[8] = 0;
		double trades_per_s = reg_rate * s->inst[i].weight * 0.04;
		double vol1s = trades_per_s * s->mean_lot;
		uint64_t ts = t0 + slot * k + rbn(s, (uint32_t)(slot / 2 / 1000000)) * 1000000ULL;
		switch (kind) {
		case FH_SIM_AN_PRICE_SPIKE:
			sch_add(s, ts, SCH_AN, 0, i, k);
			sch_add(s, ts + 500000000ULL, SCH_AN, 1, i, k);
			break;
		case FH_SIM_AN_VOLUME_SURGE:
			a->vol = (uint64_t)fmax(40.0 * vol1s, 20000.0);
			a->vol = (a->vol + 100 * SURGE_PRINTS - 1) / (100 * SURGE_PRINTS) * 100 * SURGE_PRINTS;
			for (uint32_t j = 0; j < SURGE_PRINTS; j++)
				sch_add(s, ts + j * (900000000ULL / SURGE_PRINTS), SCH_AN, (uint8_t)j, i, k);
			break;
		case FH_SIM_AN_SPIKE_SURGE:
			a->vol = (uint64_t)fmax(10.0 * vol1s, 5000.0);
			a->vol = (a->vol + 100 * SPIKE_SURGE_PRINTS - 1) / (100 * SPIKE_SURGE_PRINTS) * 100 *
				 SPIKE_SURGE_PRINTS;
			sch_add(s, ts, SCH_AN, 0, i, k);
			break;
		case FH_SIM_AN_CIRCUIT_BREAKER:
			for (uint32_t j = 0; j < CB_STEPS; j++)
				sch_add(s, ts + j * 30 * SEC, SCH_AN, (uint8_t)j, i, k);
			break;
		default:
			sch_add(s, ts, SCH_AN, 0, i, k);
			break;
		}
	}
}

static void build_schedule(struct fh_sim *s, const uint32_t *rank_to_inst, uint32_t ipo_inst)
{
	uint64_t N = s->cfg.messages;
	uint32_t K = s->n_inst;
	uint64_t t = HMS(3, 0, 0) + 4200000ULL;

	sch_add(s, t, SCH_SYS, 'O', 0, 0);
	t += 1000000;
	sch_add(s, t, SCH_V, 0, 0, 0);
	for (uint32_t i = 0; i < K; i++) {
		t += 20000;
		sch_add(s, t, SCH_R, i == ipo_inst, i, 0);
	}
	for (uint32_t i = 0; i < K; i++) {
		t += 20000;
		/* the IPO waits in the IPO quotation period until its release */
		sch_add(s, t, SCH_H, i == ipo_inst ? 'Q' : 'T', i, 4);
	}
	/* Reg SHO state of threshold names, market maker positions of the most active names */
	for (uint32_t r = 0; r < K; r += 13)
		sch_add(s, t += 15000, SCH_Y, '0', by_rank(s, rank_to_inst, r), 0);
	uint32_t nl = K < 20 ? K : 20;
	for (uint32_t r = 0; r < nl; r++)
		for (uint32_t j = 0; j < 3; j++)
			sch_add(s, t += 15000, SCH_L, 0, by_rank(s, rank_to_inst, r), r * 3 + j);
	sch_add(s, HMS(4, 0, 0), SCH_SYS, 'S', 0, 0);
	sch_add(s, HMS(7, 0, 0), SCH_K, 0, ipo_inst, 0);
	sch_add(s, HMS(7, 30, 0), SCH_O, 0, by_rank(s, rank_to_inst, K / 2), 0);

	/* NOII before the opening and closing crosses, crosses for the active names */
	uint64_t ncross = 1 + N / 20000;
	if (ncross > K)
		ncross = K;
	uint64_t nnoii = ncross * 2;
	for (uint64_t k = 0; k < nnoii; k++) {
		uint32_t r = (uint32_t)(k % ncross);
		sch_add(s, HMS(9, 25, 0) + k * (5 * 60 * SEC / nnoii), SCH_I, 'O',
			by_rank(s, rank_to_inst, r), (uint32_t)k);
		sch_add(s, HMS(15, 50, 0) + k * (10 * 60 * SEC / nnoii), SCH_I, 'C',
			by_rank(s, rank_to_inst, r), (uint32_t)k + 7);
	}
	sch_add(s, HMS(9, 30, 0), SCH_SYS, 'Q', 0, 0);
	for (uint64_t r = 0; r < ncross; r++)
		sch_add(s, HMS(9, 30, 0) + 1000 + r * 1000, SCH_Q, 'O', by_rank(s, rank_to_inst, (uint32_t)r),
			(uint32_t)(r * 7919));
	sch_add(s, HMS(16, 0, 0), SCH_SYS, 'M', 0, 0);
	for (uint64_t r = 0; r < ncross; r++)
		sch_add(s, HMS(16, 0, 0) + 1000 + r * 1000, SCH_Q, 'C', by_rank(s, rank_to_inst, (uint32_t)r),
			(uint32_t)(r * 104729));

	/* the IPO opens with an IPO cross */
	sch_add(s, HMS(11, 30, 0), SCH_Q, 'I', ipo_inst, 77);
	sch_add(s, HMS(11, 30, 0) + 1000, SCH_RESUME, 'T', ipo_inst, 0);

	/* LULD halts with an auction collar and a halt cross, an operational halt, Reg SHO triggers */
	uint64_t nhalt = 1 + N / 5000000;
	for (uint64_t k = 0; k < nhalt; k++) {
		uint32_t i = by_rank(s, rank_to_inst, (uint32_t)(300 + k * 37) % K);
		uint64_t h = HMS(10, 15, 0) + k * (5 * 3600 * SEC / nhalt);
		sch_add(s, h, SCH_HALT, 'H', i, 0);
		sch_add(s, h + 150 * SEC, SCH_J, 0, i, 1);
		sch_add(s, h + 300 * SEC, SCH_Q, 'H', i, (uint32_t)k);
		sch_add(s, h + 300 * SEC + 1000, SCH_RESUME, 'T', i, 0);
		sch_add(s, h + 60 * SEC, SCH_Y, '1', by_rank(s, rank_to_inst, (uint32_t)(200 + k * 11) % K), 0);
	}
	uint32_t oi = by_rank(s, rank_to_inst, K > 700 ? 700 : K - 1);
	sch_add(s, HMS(12, 5, 0), SCH_OPHALT, 'H', oi, 0);
	sch_add(s, HMS(12, 10, 0), SCH_OPHALT, 'T', oi, 0);
	uint64_t nrpii = 1 + N / 1000000;
	for (uint64_t k = 0; k < nrpii; k++)
		sch_add(s, HMS(10, 0, 0) + k * (5 * 3600 * SEC / nrpii), SCH_N, "BSA"[k % 3],
			by_rank(s, rank_to_inst, (uint32_t)(k % 50) % K), 0);
	uint64_t nbroken = 1 + N / 10000000;
	for (uint64_t k = 0; k < nbroken; k++)
		sch_add(s, HMS(13, 0, 0) + k * (2 * 3600 * SEC / nbroken), SCH_B, 0, 0, 0);

	if (s->cfg.anomalies)
		plan_anomalies(s, rank_to_inst);

	sch_add(s, HMS(20, 0, 0), SCH_SYS, 'E', 0, 0);
	/* the market-wide circuit breaker status, after hours where it changes nothing */
	sch_add(s, HMS(20, 1, 0), SCH_W, 0, 0, 0);
	sch_add(s, HMS(20, 5, 0), SCH_SYS, 'C', 0, 0);
	qsort(s->sch, s->n_sch, sizeof(*s->sch), sch_cmp);
}

static uint64_t sched_capacity(const struct fh_sim_cfg *c)
{
	uint64_t N = c->messages, K = c->symbols;
	uint64_t ncross = 1 + N / 20000;
	if (ncross > K)
		ncross = K;
	return 64 + 3 * K + 60 + ncross * 6 + 5 * (1 + N / 5000000) + (1 + N / 1000000) +
	       (1 + N / 10000000) + (uint64_t)c->anomalies * SURGE_PRINTS;
}

struct fh_sim *fh_sim_create(const struct fh_sim_cfg *cfg)
{
	struct fh_sim *s;
	uint32_t *rank_to_inst = NULL;

	if (!cfg || cfg->symbols < 1 || cfg->symbols > FH_SIM_MAX_SYMBOLS || cfg->messages < 1000 ||
	    cfg->first_locate < 1 || cfg->first_locate + cfg->symbols > 65536 || cfg->zipf_s < 0 ||
	    cfg->zipf_s > 4 || cfg->anomalies > 1000 ||
	    sched_capacity(cfg) * 2 > cfg->messages) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		goto out_nomem;
	s->cfg = *cfg;
	s->rng = cfg->seed ^ 0x5eed5eed5eed5eedULL;
	s->n_inst = cfg->symbols;
	s->next_ref = 4 + (cfg->seed & 0xff);
	s->peak_target = cfg->peak_live ? cfg->peak_live : cfg->messages / 55;
	s->ord_cap = (uint32_t)(s->peak_target * 5 / 4 + 4096);
	s->free_head = NIL;

	s->inst = aligned_alloc(FH_CACHE_LINE, s->n_inst * sizeof(*s->inst));
	if (s->inst)
		memset(s->inst, 0, s->n_inst * sizeof(*s->inst));
	s->levels = malloc((size_t)s->n_inst * RING * sizeof(*s->levels));
	s->alias = malloc(s->n_inst * sizeof(*s->alias));
	s->alias_p = malloc(s->n_inst * sizeof(*s->alias_p));
	s->ord = malloc((size_t)s->ord_cap * sizeof(*s->ord));
	s->sch = malloc(sched_capacity(cfg) * sizeof(*s->sch));
	s->an = calloc(cfg->anomalies + 1, sizeof(*s->an));
	s->truth = calloc(cfg->anomalies + 1, sizeof(*s->truth));
	rank_to_inst = malloc(s->n_inst * sizeof(*rank_to_inst));
	if (!s->inst || !s->levels || !s->alias || !s->alias_p || !s->ord || !s->sch || !s->an ||
	    !s->truth || !rank_to_inst)
		goto out_nomem;
	memset(s->levels, 0xff, (size_t)s->n_inst * RING * sizeof(*s->levels));

	/* depth from the touch: geometric, mostly at or next to it */
	for (uint32_t k = 0; k < 256; k++) {
		double u = (k + 0.5) / 256.0;
		int d = (int)floor(log(1.0 - u) / log(0.62));
		s->depth_tab[k] = (uint8_t)(d > MAX_DEPTH ? MAX_DEPTH : d);
	}
	/* sizes: mostly round lots of 100-500, some odd lots, a few blocks */
	double lsum = 0;
	for (uint32_t k = 0; k < 256; k++) {
		uint64_t r = rnd(&s->rng);
		uint32_t v;
		if (k < 40)
			v = 1 + (uint32_t)(r % 99);
		else if (k < 200)
			v = 100 * (1 + (uint32_t)(r % 5));
		else if (k < 250)
			v = 100 * (5 + (uint32_t)(r % 16));
		else
			v = 1000 * (2 + (uint32_t)(r % 4)); /* blocks up to 5,000: thin-tailed volume */
		s->lot_tab[k] = (uint16_t)v;
		lsum += v;
	}
	s->mean_lot = lsum / 256;

	/* instruments: symbols, prices log-uniform $20-$500, activity Zipf over a random rank order */
	for (uint32_t i = 0; i < s->n_inst; i++)
		rank_to_inst[i] = i;
	for (uint32_t i = s->n_inst; i > 1; i--) {
		uint32_t j = rbn(s, i);
		uint32_t t = rank_to_inst[i - 1];
		rank_to_inst[i - 1] = rank_to_inst[j];
		rank_to_inst[j] = t;
	}
	for (uint32_t r = 0; r < s->n_inst; r++) {
		uint32_t i = rank_to_inst[r];
		struct sim_inst *in = &s->inst[i];
		double price = 20.0 * exp(log(25.0) * ((rnd(&s->rng) >> 11) * 0x1.0p-53));
		/* one level is about 1 bp of price: 1, 2 or 5 cents */
		double bp = price * 1e-4 * 100.0; /* cents */
		uint32_t cents = bp < 1.5 ? 1 : bp < 3.5 ? 2 : 5;
		in->grid = cents * 100;
		int32_t lv = (int32_t)(price * 10000.0 / in->grid);
		in->mid2 = 2 * lv;
		in->rank = r;
		in->weight = pow((double)r + 1.0, -cfg->zipf_s);
		in->s0 = (uint16_t)(r < 50 ? 1 + r % 2 : r < 1000 ? 2 + r % 3 : 3 + r % 6);
		in->lvl = &s->levels[(size_t)i * RING];
		make_symbol(&s->rng, i, in->sym);
	}
	if (build_alias(s))
		goto out_nomem;
	s->rng_pick = cfg->seed * 0x9e3779b97f4a7c15ULL + 0x1234567;
	for (uint32_t k = 0; k < PICK_AHEAD; k++)
		s->pick[k] = draw_inst(s);

	/* flow budget: everything not scheduled, split over the time segments */
	uint32_t ipo = rank_to_inst[s->n_inst > 3 ? s->n_inst / 3 : 0];
	s->flow_est = cfg->messages; /* provisional, for the anomaly volume estimate */
	s->flow_est = cfg->messages - sched_capacity(cfg) / 2;
	s->inst[ipo].halted = 1; /* quotation only until the IPO cross */
	build_schedule(s, rank_to_inst, ipo);
	s->flow_est = cfg->messages - s->n_sch;
	double acc = 0;
	for (unsigned k = 0; k < NSEG; k++) {
		s->seg_j0[k] = (uint64_t)(acc * (double)s->flow_est);
		acc += segs[k].share;
	}
	s->seg_j0[NSEG] = s->flow_est;
	for (unsigned k = 0; k < NSEG; k++) {
		uint64_t n = s->seg_j0[k + 1] - s->seg_j0[k];
		s->seg_step[k] = (double)(segs[k].t1 - segs[k].t0) / (double)(n ? n : 1);
	}
	update_thresholds(s);
	free(rank_to_inst);
	return s;

out_nomem:
	free(rank_to_inst);
	fh_sim_destroy(s);
	errno = ENOMEM;
	return NULL;
}

void fh_sim_destroy(struct fh_sim *s)
{
	if (!s)
		return;
	free(s->inst);
	free(s->levels);
	free(s->alias);
	free(s->alias_p);
	free(s->ord);
	free(s->sch);
	free(s->an);
	free(s->truth);
	free(s);
}

int fh_sim_next(struct fh_sim *s, uint8_t *m, size_t cap)
{
	int n;

	if (cap < FH_SIM_MSG_MAX)
		return -EINVAL;
	for (;;) {
		if (s->count >= s->cfg.messages)
			return 0;
		uint64_t reserve = s->n_sch - s->sch_i;
		/* the scheduled tail (end of system hours, end of messages) always fits */
		if (s->count + reserve < s->cfg.messages) {
			n = pend_step(s, m);
			if (n)
				break;
		} else {
			s->pend_n = 0;
			s->burst_n = 0;
		}
		if (s->sch_i < s->n_sch) {
			const struct sched *e = &s->sch[s->sch_i];
			/* scheduled messages come when the flow reaches their time, or when only they fit */
			if (s->count + reserve >= s->cfg.messages || e->ts <= s->last_ts ||
			    (s->burst_n == 0 && e->ts <= flow_peek(s))) {
				if (e->ts > s->last_ts)
					s->last_ts = e->ts;
				s->sch_i++;
				n = emit_sched(s, e, m);
				if (n)
					break;
				continue;
			}
		}
		n = flow_step(s, m);
		if (n)
			break;
	}
	s->count++;
	s->st.messages++;
	s->st.bytes += (unsigned)n;
	s->st.by_type[m[0] & 0x7f]++;
	s->st.last_ts_ns = s->last_ts;
	return n;
}

size_t fh_sim_fill(struct fh_sim *s, uint8_t *buf, size_t cap)
{
	size_t off = 0;

	if (s->carry_len) {
		if (cap < s->carry_len + 2)
			return 0;
		fh_put_be16(buf, (uint16_t)s->carry_len);
		memcpy(buf + 2, s->carry, s->carry_len);
		off = s->carry_len + 2;
		s->carry_len = 0;
	}
	/* fast path: room for a whole maximal message, generate in place */
	while (cap - off >= FH_SIM_MSG_MAX + 2) {
		int n = fh_sim_next(s, buf + off + 2, FH_SIM_MSG_MAX);
		if (n <= 0)
			return off;
		fh_put_be16(buf + off, (uint16_t)n);
		off += (size_t)n + 2;
	}
	if (cap - off >= 2) {
		int n = fh_sim_next(s, s->carry, sizeof(s->carry));
		if (n <= 0)
			return off;
		if ((size_t)n + 2 <= cap - off) {
			fh_put_be16(buf + off, (uint16_t)n);
			memcpy(buf + off + 2, s->carry, (size_t)n);
			off += (size_t)n + 2;
		} else {
			s->carry_len = (uint32_t)n;
		}
	}
	return off;
}

void fh_sim_get_stats(const struct fh_sim *s, struct fh_sim_stats *st)
{
	*st = s->st;
}

int fh_sim_symbol(const struct fh_sim *s, uint16_t locate, char out[9])
{
	if (locate < s->cfg.first_locate || locate - s->cfg.first_locate >= s->n_inst)
		return -ENOENT;
	memcpy(out, s->inst[locate - s->cfg.first_locate].sym, 8);
	out[8] = 0;
	return 0;
}

size_t fh_sim_truth(const struct fh_sim *s, const struct fh_sim_truth **out)
{
	size_t n = 0;

	/* planned in time order, so the injected ones come out sorted by start */
	for (uint32_t k = 0; k < s->cfg.anomalies; k++)
		if (s->an[k].done && !s->an[k].skipped)
			s->truth[n++] = s->an[k].t;
	*out = s->truth;
	return n;
}

int fh_sim_write_truth(const struct fh_sim *s, FILE *f)
{
	const struct fh_sim_truth *t;
	size_t n = fh_sim_truth(s, &t);

	for (size_t k = 0; k < n; k++) {
		char sym[9];
		memcpy(sym, t[k].symbol, 9);
		for (int j = 7; j >= 0 && sym[j] == ' '; j--)
			sym[j] = 0;
		if (fprintf(f, "%s %u %s %llu %llu\n", fh_sim_anomaly_name(t[k].kind), t[k].locate, sym,
			    (unsigned long long)t[k].start_ns, (unsigned long long)t[k].end_ns) < 0)
			return -EIO;
	}
	return fflush(f) ? -errno : 0;
}
