/* SPDX-License-Identifier: MIT */
/* fh_book_pvt.h: inline internals of the L2 book (order table, level arrays, apply). Include fh_book.h. */
#ifndef FH_BOOK_PVT_H
#define FH_BOOK_PVT_H

/*
 * Layout (docs/BOOK.md):
 *  - Order table: open addressing, linear probing, Fibonacci hash of the
 *    order reference, capacity a power of two >= 2 * max_orders (load
 *    <= 0.5 because adds beyond max_orders are refused), deletion by
 *    backward shift (no tombstones, so probe lengths stay short all day).
 *    A 32-byte slot (two a line, never split) holds the whole order:
 *    nothing else to dereference.
 *  - Price levels: per instrument and side, one sorted array of 24-byte
 *    levels in a preallocated arena (binary buddy allocator, blocks of
 *    8 << k levels). Keys are the price for bids and -price for asks, so
 *    both sides sort ascending with the BEST level LAST: activity near the
 *    top touches the array's end, inserts there move little, and the rank
 *    of index i is count - i.
 *  - One 64-byte line per instrument with the side arrays' base, count,
 *    capacity, flags and name.
 */

#include <errno.h>
#include <string.h>

#define FH_BOOK_HASH_MULT 0x9E3779B97F4A7C15ull
#define FH_BOOK_MIN_CAP 8u /* levels in the smallest arena block */

struct fh_book_order {
	uint64_t ref;
	int64_t key;   /* price (bid) or -price (ask) */
	uint32_t qty;  /* > 0 while live */
	uint16_t instr;
	uint8_t side;  /* 0: empty slot, 1: bid, 2: ask */
	uint8_t pad[9];
};
_Static_assert(sizeof(struct fh_book_order) == 32, "order slot is 32 bytes");

struct fh_book_lvl {
	int64_t key;
	uint64_t qty;
	uint32_t orders;
	uint32_t pad;
};
_Static_assert(sizeof(struct fh_book_lvl) == 24, "level is 24 bytes");

#define FH_BOOK_NAMED_ADD 1
#define FH_BOOK_NAMED_DIR 2
struct fh_book_instr {
	uint32_t base[2];    /* first arena slot of the bid / ask array */
	uint32_t count[2];   /* levels */
	uint8_t cap_k[2];    /* arena block of 8 << (cap_k - 1) levels, 0: none */
	uint8_t flags;       /* FH_BOOK_F_STALE (capacity), CROSSED, LOCKED, HALTED */
	uint8_t named;       /* FH_BOOK_NAMED_* */
	uint32_t orders;     /* live orders */
	uint64_t updates;    /* book-changing messages applied */
	/* level 1 of each side (valid when count > 0): BBO and the crossed check
	 * never touch the other side's array */
	int64_t top_key[2];
	uint64_t top_qty[2];
} FH_CACHE_ALIGNED;
_Static_assert(sizeof(struct fh_book_instr) == 64, "one line per instrument");

static inline uint32_t fh_book_pvt_cap(const struct fh_book_instr *ins, unsigned s)
{
	return ins->cap_k[s] ? FH_BOOK_MIN_CAP << (ins->cap_k[s] - 1) : 0;
}

static inline void fh_book_pvt_top(struct fh_book_instr *ins, const struct fh_book_lvl *L,
				   uint32_t c, unsigned s)
{
	if (c) {
		ins->top_key[s] = L[c - 1].key;
		ins->top_qty[s] = L[c - 1].qty;
	}
}

struct fh_book {
	/* read on every message */
	struct fh_book_order *ot;
	uint64_t omask;
	unsigned oshift;
	uint32_t max_orders;
	struct fh_book_lvl *lv;
	struct fh_book_instr *ins;
	char (*sym)[16];     /* instrument names (cold) */
	uint32_t ninstr;
	uint16_t depth;
	uint8_t policy;
	uint8_t src_stale;   /* a feed gap is open: every book of the source is stale */
	uint8_t abort_pending;
	uint8_t pad0[3];
	uint32_t open_gaps;
	unsigned last_out;
	struct fh_book_stats st;
	/* cold: arena allocator and bookkeeping */
	uint32_t *bnext, *bprev;
	uint8_t *btag;       /* order + 1 on the first unit of a free block, else 0 */
	uint32_t bhead[32];
	uint32_t bunits;     /* arena size in units of FH_BOOK_MIN_CAP levels */
	unsigned bmax;       /* log2(bunits) */
	struct fh_book_config cfg;
	size_t memsize;
	void *map;           /* set by fh_book_create() */
	size_t maplen;
} FH_CACHE_ALIGNED;

/*
 * Prefetch for writing. Inline asm, not __builtin_prefetch: GCC 12 deletes
 * the builtin's prefetches in fh_book_pvt_prefetch() as dead code (seen at
 * -O1..-O3; -fno-tree-dce keeps them), which silently cost the book its
 * memory-level parallelism.
 */
static inline void fh_book_pvt_pf(const void *p)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ volatile("prefetchw %0" : : "m"(*(const char *)p));
#else
	__builtin_prefetch(p, 1, 3);
#endif
}

static inline uint64_t fh_book_pvt_home(const struct fh_book *b, uint64_t ref)
{
	return (ref * FH_BOOK_HASH_MULT) >> b->oshift;
}

static inline struct fh_book_order *fh_book_pvt_lookup(struct fh_book *b, uint64_t ref)
{
	uint64_t i = fh_book_pvt_home(b, ref);
	for (;;) {
		struct fh_book_order *o = &b->ot[i];
		if (o->side == 0)
			return NULL;
		if (o->ref == ref)
			return o;
		i = (i + 1) & b->omask;
	}
}

/* The empty slot where ref would go, or NULL when ref is live. */
static inline struct fh_book_order *fh_book_pvt_slot_for(struct fh_book *b, uint64_t ref)
{
	uint64_t i = fh_book_pvt_home(b, ref);
	for (;;) {
		struct fh_book_order *o = &b->ot[i];
		if (o->side == 0)
			return o;
		if (o->ref == ref)
			return NULL;
		i = (i + 1) & b->omask;
	}
}

/* Backward-shift deletion: later entries of the cluster that may live at i move back. */
static inline void fh_book_pvt_erase(struct fh_book *b, struct fh_book_order *o)
{
	uint64_t m = b->omask, i = (uint64_t)(o - b->ot), j = i;
	for (;;) {
		j = (j + 1) & m;
		struct fh_book_order *e = &b->ot[j];
		if (e->side == 0)
			break;
		uint64_t h = fh_book_pvt_home(b, e->ref);
		/* e may sit at i iff i lies cyclically in [h, j) */
		if (((j - h) & m) >= ((j - i) & m)) {
			b->ot[i] = *e;
			i = j;
		}
	}
	b->ot[i].side = 0;
}

/* Index of the last level with key <= k, -1 if none: the top few linearly, then bisection. */
static inline int32_t fh_book_pvt_find(const struct fh_book_lvl *L, uint32_t c, int64_t k)
{
	int32_t i = (int32_t)c - 1;
	if (fh_likely(i >= 0 && L[i].key <= k)) /* at or beyond level 1: the common case */
		return i;
	int32_t stop = i > 8 ? i - 8 : 0;
	for (i--; i >= stop; i--)
		if (L[i].key <= k)
			return i;
	if (i < 0)
		return -1;
	int32_t lo = 0, hi = i + 1;
	while (lo < hi) {
		int32_t mid = (lo + hi) >> 1;
		if (L[mid].key <= k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo - 1;
}

static inline struct fh_event *fh_book_pvt_ev(struct fh_event *o, const struct fh_event *in,
					      uint8_t type)
{
	memcpy(o, in, offsetof(struct fh_event, u));
	o->type = type;
	o->version = FH_EVENT_SCHEMA_VERSION;
	memset(&o->u, 0, sizeof(o->u));
	return o;
}

static inline void fh_book_pvt_l2(struct fh_book *b, struct fh_event *o, const struct fh_event *in,
				  uint32_t id, unsigned s, int64_t key, uint64_t qty, uint32_t orders,
				  unsigned rank, uint8_t action)
{
	fh_book_pvt_ev(o, in, FH_EV_L2_UPDATE);
	o->instrument = id; /* the order's book, whatever locate the message carried */
	o->u.l2.price = s ? -key : key;
	o->u.l2.qty = qty;
	o->u.l2.orders = orders;
	o->u.l2.level = (uint16_t)rank;
	o->u.l2.side = s ? FH_SIDE_ASK : FH_SIDE_BID;
	o->u.l2.action = action;
	b->st.l2_updates++;
}

/*
 * One more order of qty at key on side s. Returns the events written (0, 1)
 * or -1 when the arena cannot hold a new level. *top |= level 1 changed.
 */
static inline int fh_book_pvt_lvl_add(struct fh_book *b, uint32_t id, unsigned s, int64_t key,
				      uint32_t qty, const struct fh_event *in, struct fh_event *o,
				      unsigned *top)
{
	struct fh_book_instr *ins = &b->ins[id];
	uint32_t c = ins->count[s];
	struct fh_book_lvl *L = b->lv + ins->base[s];
	int32_t i = fh_book_pvt_find(L, c, key);
	unsigned rank;

	if (i >= 0 && L[i].key == key) {
		L[i].qty += qty;
		L[i].orders++;
		rank = c - (uint32_t)i;
		if (rank > b->depth)
			return 0;
		if (rank == 1) {
			*top = 1;
			fh_book_pvt_top(ins, L, c, s);
		}
		fh_book_pvt_l2(b, o, in, id, s, key, L[i].qty, L[i].orders, rank, FH_L2_CHANGE);
		return 1;
	}
	if (fh_unlikely(c == fh_book_pvt_cap(ins, s))) {
		if (fh_book_pvt_side_grow(b, id, s))
			return -1;
		L = b->lv + ins->base[s];
	}
	uint32_t at = (uint32_t)(i + 1);
	if (at < c) /* inserting at the top (the array's end) moves nothing */
		memmove(L + at + 1, L + at, (c - at) * sizeof(*L));
	L[at].key = key;
	L[at].qty = qty;
	L[at].orders = 1;
	ins->count[s] = c + 1;
	if (++b->st.live_levels > b->st.peak_levels)
		b->st.peak_levels = b->st.live_levels;
	rank = c + 1 - at;
	if (rank > b->depth)
		return 0;
	if (rank == 1) {
		*top = 1;
		fh_book_pvt_top(ins, L, c + 1, s);
	}
	fh_book_pvt_l2(b, o, in, id, s, key, qty, 1, rank, FH_L2_NEW);
	return 1;
}

/*
 * Level at key on side s: qty - sub + add, orders - gone. Removes the level
 * when its last order leaves (DELETE, and NEW at level depth for the level
 * that comes into view). Returns the events written (0..2).
 */
static inline int fh_book_pvt_lvl_sub(struct fh_book *b, uint32_t id, unsigned s, int64_t key,
				      uint32_t sub, uint32_t add, uint32_t gone,
				      const struct fh_event *in, struct fh_event *o, unsigned *top)
{
	struct fh_book_instr *ins = &b->ins[id];
	uint32_t c = ins->count[s];
	struct fh_book_lvl *L = b->lv + ins->base[s];
	int32_t i = fh_book_pvt_find(L, c, key);

	if (fh_unlikely(i < 0 || L[i].key != key))
		return 0; /* cannot happen: every live order has its level */
	unsigned rank = c - (uint32_t)i;
	L[i].qty = L[i].qty - sub + add;
	L[i].orders -= gone;
	if (L[i].orders) {
		if (rank > b->depth || (sub == add && !gone))
			return 0;
		if (rank == 1) {
			*top = 1;
			fh_book_pvt_top(ins, L, c, s);
		}
		fh_book_pvt_l2(b, o, in, id, s, key, L[i].qty, L[i].orders, rank, FH_L2_CHANGE);
		return 1;
	}
	if ((uint32_t)i + 1 < c)
		memmove(L + i, L + i + 1, (c - (uint32_t)i - 1) * sizeof(*L));
	ins->count[s] = --c;
	b->st.live_levels--;
	int n = 0;
	if (rank <= b->depth) {
		if (rank == 1) {
			*top = 1;
			fh_book_pvt_top(ins, L, c, s);
		}
		fh_book_pvt_l2(b, o, in, id, s, key, 0, 0, rank, FH_L2_DELETE);
		n = 1;
		if (c >= b->depth) {
			const struct fh_book_lvl *v = &L[c - b->depth];
			fh_book_pvt_l2(b, o + 1, in, id, s, v->key, v->qty, v->orders, b->depth,
				       FH_L2_NEW);
			n = 2;
		}
	}
	if (fh_unlikely(ins->cap_k[s] > 1 && c <= fh_book_pvt_cap(ins, s) / 8))
		fh_book_pvt_side_shrink(b, id, s);
	return n;
}

/* A new live order; returns the events written. */
static FH_ALWAYS_INLINE int fh_book_pvt_insert(struct fh_book *b, uint32_t id, unsigned s, uint64_t ref,
				     int64_t key, uint32_t qty, const struct fh_event *in,
				     struct fh_event *o, unsigned *top)
{
	struct fh_book_order *slot = fh_book_pvt_slot_for(b, ref);
	if (fh_unlikely(!slot)) {
		b->st.dup_add++;
		return 0;
	}
	if (fh_unlikely(b->st.live_orders >= b->max_orders))
		return fh_book_pvt_full(b, id, in, o, true);
	int n = fh_book_pvt_lvl_add(b, id, s, key, qty, in, o, top);
	if (fh_unlikely(n < 0))
		return fh_book_pvt_full(b, id, in, o, false);
	slot->ref = ref;
	slot->key = key;
	slot->qty = qty;
	slot->instr = (uint16_t)id;
	slot->side = (uint8_t)(s + 1);
	b->ins[id].orders++;
	if (++b->st.live_orders > b->st.peak_orders)
		b->st.peak_orders = b->st.live_orders;
	return n;
}

/* Ends a book-changing message: LAST flag, BBO when the top moved, crossed/locked check. */
static inline int fh_book_pvt_finish(struct fh_book *b, uint32_t id, const struct fh_event *in,
				     struct fh_event *out, int n, unsigned top)
{
	struct fh_book_instr *ins = &b->ins[id];

	ins->updates++;
	if (fh_likely(n > 0 && out[n - 1].type == FH_EV_L2_UPDATE)) {
		out[n - 1].u.l2.flags |= FH_L2_F_LAST;
	} else {
		for (int k = n - 2; k >= 0; k--) {
			if (out[k].type == FH_EV_L2_UPDATE) {
				out[k].u.l2.flags |= FH_L2_F_LAST;
				break;
			}
		}
	}
	if (!top)
		return n;
	uint32_t cb = ins->count[0], ca = ins->count[1];
	struct fh_event *e = fh_book_pvt_ev(&out[n++], in, FH_EV_BBO);
	e->instrument = id;
	e->u.bbo.bid_px = cb ? ins->top_key[0] : FH_PRICE_NONE;
	e->u.bbo.bid_qty = cb ? ins->top_qty[0] : 0;
	e->u.bbo.ask_px = ca ? -ins->top_key[1] : FH_PRICE_NONE;
	e->u.bbo.ask_qty = ca ? ins->top_qty[1] : 0;
	b->st.bbo_updates++;
	uint8_t st = 0;
	if (cb && ca)
		st = ins->top_key[0] > -ins->top_key[1] ? FH_BOOK_F_CROSSED
		     : ins->top_key[0] == -ins->top_key[1] ? FH_BOOK_F_LOCKED : 0;
	if (fh_unlikely(st != (ins->flags & (FH_BOOK_F_CROSSED | FH_BOOK_F_LOCKED))))
		n += fh_book_pvt_cross(b, id, in, out + n);
	return n;
}

static inline int fh_book_pvt_add(struct fh_book *b, const struct fh_event *in,
				  struct fh_event *out)
{
	const struct fh_ev_order_add *a = &in->u.add;
	uint32_t id = in->instrument;
	unsigned top = 0, s;

	b->st.adds++;
	if (fh_unlikely(id >= b->ninstr)) {
		b->st.bad_instrument++;
		return 0;
	}
	if (a->side == FH_SIDE_BID)
		s = 0;
	else if (a->side == FH_SIDE_ASK)
		s = 1;
	else
		goto bad;
	if (fh_unlikely(a->qty == 0 || a->price < 0))
		goto bad;
	int n = fh_book_pvt_insert(b, id, s, a->order_ref, s ? -a->price : a->price, a->qty, in,
				   out, &top);
	return fh_book_pvt_finish(b, id, in, out, n, top);
bad:
	b->st.bad_event++;
	return 0;
}

/* Takes qty from a live order (all of it when qty >= its size, counting *over when >). */
static inline int fh_book_pvt_reduce(struct fh_book *b, struct fh_book_order *o, uint32_t qty,
				     uint64_t *over, const struct fh_event *in,
				     struct fh_event *out, int n)
{
	uint32_t id = o->instr, gone = 0, take = qty;
	unsigned s = o->side - 1u, top = 0;
	int64_t key = o->key;

	if (qty >= o->qty) {
		if (fh_unlikely(qty > o->qty))
			(*over)++;
		take = o->qty;
		gone = 1;
		fh_book_pvt_erase(b, o);
		b->st.live_orders--;
		b->ins[id].orders--;
	} else {
		o->qty -= qty;
	}
	n += fh_book_pvt_lvl_sub(b, id, s, key, take, 0, gone, in, out + n, &top);
	return fh_book_pvt_finish(b, id, in, out, n, top);
}

static inline int fh_book_pvt_exec(struct fh_book *b, const struct fh_event *in,
				   struct fh_event *out)
{
	const struct fh_ev_order_exec *x = &in->u.exec;

	b->st.execs++;
	if (fh_unlikely(x->qty == 0)) {
		b->st.bad_event++;
		return 0;
	}
	struct fh_book_order *o = fh_book_pvt_lookup(b, x->order_ref);
	struct fh_event *t = fh_book_pvt_ev(out, in, FH_EV_TRADE);
	t->u.trade.qty = x->qty;
	t->u.trade.match_no = x->match_no;
	t->u.trade.kind = x->with_price ? FH_TRADE_EXEC_PRICE : FH_TRADE_EXEC;
	t->u.trade.flags = x->printable ? 0 : FH_TRADE_F_NON_PRINTABLE;
	if (fh_unlikely(!o)) {
		b->st.orphan_exec++;
		if (!x->with_price)
			return 0; /* no price to print: the order is unknown */
		t->u.trade.price = x->price;
		b->st.trades++;
		return 1;
	}
	t->instrument = o->instr;
	t->u.trade.price = x->with_price ? x->price : (o->side == 2 ? -o->key : o->key);
	t->u.trade.side = o->side == 2 ? FH_SIDE_ASK : FH_SIDE_BID;
	b->st.trades++;
	return fh_book_pvt_reduce(b, o, x->qty, &b->st.over_exec, in, out, 1);
}

static inline int fh_book_pvt_cancel(struct fh_book *b, const struct fh_event *in,
				     struct fh_event *out, bool del)
{
	struct fh_book_order *o;

	if (del) {
		b->st.deletes++;
		o = fh_book_pvt_lookup(b, in->u.cancel.order_ref);
		if (fh_unlikely(!o)) {
			b->st.orphan_delete++;
			return 0;
		}
		return fh_book_pvt_reduce(b, o, o->qty, &b->st.over_cancel, in, out, 0);
	}
	b->st.cancels++;
	if (fh_unlikely(in->u.cancel.qty == 0)) {
		b->st.bad_event++;
		return 0;
	}
	o = fh_book_pvt_lookup(b, in->u.cancel.order_ref);
	if (fh_unlikely(!o)) {
		b->st.orphan_cancel++;
		return 0;
	}
	return fh_book_pvt_reduce(b, o, in->u.cancel.qty, &b->st.over_cancel, in, out, 0);
}

static inline int fh_book_pvt_replace(struct fh_book *b, const struct fh_event *in,
				      struct fh_event *out)
{
	const struct fh_ev_order_replace *r = &in->u.replace;

	b->st.replaces++;
	struct fh_book_order *o = fh_book_pvt_lookup(b, r->orig_ref);
	if (fh_unlikely(!o)) {
		b->st.orphan_replace++;
		return 0;
	}
	uint32_t id = o->instr, oqty = o->qty;
	unsigned s = o->side - 1u, top = 0;
	int64_t okey = o->key;
	int64_t key = s ? -r->price : r->price;
	int n;

	fh_book_pvt_erase(b, o);
	if (fh_unlikely(r->qty == 0 || r->price < 0)) {
		/* the original is gone either way; the malformed new order is not created */
		b->st.bad_event++;
		goto drop;
	}
	if (key == okey) {
		struct fh_book_order *slot = fh_book_pvt_slot_for(b, r->new_ref);
		if (fh_unlikely(!slot)) {
			b->st.dup_add++;
			goto drop;
		}
		slot->ref = r->new_ref;
		slot->key = key;
		slot->qty = r->qty;
		slot->instr = (uint16_t)id;
		slot->side = (uint8_t)(s + 1);
		n = fh_book_pvt_lvl_sub(b, id, s, key, oqty, r->qty, 0, in, out, &top);
		return fh_book_pvt_finish(b, id, in, out, n, top);
	}
	b->st.live_orders--;
	b->ins[id].orders--;
	n = fh_book_pvt_lvl_sub(b, id, s, okey, oqty, 0, 1, in, out, &top);
	n += fh_book_pvt_insert(b, id, s, r->new_ref, key, r->qty, in, out + n, &top);
	return fh_book_pvt_finish(b, id, in, out, n, top);
drop:
	b->st.live_orders--;
	b->ins[id].orders--;
	n = fh_book_pvt_lvl_sub(b, id, s, okey, oqty, 0, 1, in, out, &top);
	return fh_book_pvt_finish(b, id, in, out, n, top);
}

static inline int fh_book_pvt_apply(struct fh_book *b, const struct fh_event *in,
				    struct fh_event *out)
{
	int n;

	b->st.events++;
	switch (in->type) {
	case FH_EV_ORDER_ADD:
		n = fh_book_pvt_add(b, in, out);
		break;
	case FH_EV_ORDER_EXEC:
		n = fh_book_pvt_exec(b, in, out);
		break;
	case FH_EV_ORDER_CANCEL:
		n = fh_book_pvt_cancel(b, in, out, false);
		break;
	case FH_EV_ORDER_DELETE:
		n = fh_book_pvt_cancel(b, in, out, true);
		break;
	case FH_EV_ORDER_REPLACE:
		n = fh_book_pvt_replace(b, in, out);
		break;
	case FH_EV_TRADE:
		b->st.trades++;
		/* fall through */
	case FH_EV_BROKEN_TRADE:
		out[0] = *in;
		n = 1;
		break;
	default:
		n = fh_book_pvt_other(b, in, out);
		break;
	}
	b->last_out = (unsigned)n;
	if (fh_unlikely(b->abort_pending)) {
		b->abort_pending = 0;
		return -EPROTO;
	}
	return n;
}

static inline void fh_book_pvt_prefetch(const struct fh_book *b, const struct fh_event *in)
{
	/* order_ref / orig_ref is the first payload field of every order event */
	if ((unsigned)in->type - FH_EV_ORDER_ADD <= FH_EV_ORDER_REPLACE - FH_EV_ORDER_ADD) {
		uint64_t ref;
		memcpy(&ref, in->u.raw, sizeof(ref));
		fh_book_pvt_pf(&b->ot[fh_book_pvt_home(b, ref)]);
		if (in->type == FH_EV_ORDER_REPLACE)
			fh_book_pvt_pf(&b->ot[fh_book_pvt_home(b, in->u.replace.new_ref)]);
		if (in->instrument < b->ninstr)
			fh_book_pvt_pf(&b->ins[in->instrument]);
	}
}

/* Second stage: with the order slot and book line cached, the top of the side it touches. */
static inline void fh_book_pvt_prefetch_levels(const struct fh_book *b, const struct fh_event *in)
{
	uint32_t id;
	unsigned s;

	if (in->type == FH_EV_ORDER_ADD) {
		id = in->instrument;
		s = in->u.add.side == FH_SIDE_ASK;
	} else if ((unsigned)in->type - FH_EV_ORDER_EXEC <=
		   FH_EV_ORDER_REPLACE - FH_EV_ORDER_EXEC) {
		uint64_t ref;
		memcpy(&ref, in->u.raw, sizeof(ref));
		const struct fh_book_order *o = &b->ot[fh_book_pvt_home(b, ref)];
		if (o->side == 0 || o->ref != ref)
			return; /* displaced or unknown: not worth a probe here */
		id = o->instr;
		s = o->side - 1u;
	} else {
		return;
	}
	if (id >= b->ninstr)
		return;
	const struct fh_book_instr *ins = &b->ins[id];
	uint32_t c = ins->count[s];
	if (c) {
		const char *top = (const char *)&b->lv[ins->base[s] + c - 1];
		fh_book_pvt_pf(top);
		fh_book_pvt_pf(top - 40); /* levels 2 and 3 may sit on the line before */
	}
}

#endif /* FH_BOOK_PVT_H */
