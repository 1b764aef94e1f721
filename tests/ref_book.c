/* SPDX-License-Identifier: MIT */
/* ref_book.c: the simple reference book the fast book is checked against (sorted arrays, no shared code). */
#include <stdlib.h>
#include <string.h>

#include "ref_book.h"

struct ref_book_order {
	uint64_t ref;
	int64_t price;
	uint32_t qty;
	uint32_t instr;
	uint8_t side;
	uint8_t dead;
};

struct ref_book_side {
	struct ref_book_level *v; /* best first */
	uint32_t n, cap;
};

struct ref_book_instr {
	struct ref_book_side side[2];
	uint32_t orders;
	bool halted;
};

struct ref_book {
	struct ref_book_order *ord; /* sorted by ref */
	size_t n, cap, dead;
	struct ref_book_instr *ins;
	uint32_t ninstr;
	struct ref_book_counts c;
};

struct ref_book *ref_book_new(uint32_t max_instruments)
{
	struct ref_book *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->ins = calloc(max_instruments, sizeof(*r->ins));
	if (!r->ins) {
		free(r);
		return NULL;
	}
	r->ninstr = max_instruments;
	return r;
}

void ref_book_free(struct ref_book *r)
{
	if (!r)
		return;
	for (uint32_t i = 0; i < r->ninstr; i++) {
		free(r->ins[i].side[0].v);
		free(r->ins[i].side[1].v);
	}
	free(r->ins);
	free(r->ord);
	free(r);
}

/* first index with ord[i].ref >= ref */
static size_t lower(const struct ref_book *r, uint64_t ref)
{
	size_t lo = 0, hi = r->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->ord[mid].ref < ref)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct ref_book_order *find(struct ref_book *r, uint64_t ref)
{
	size_t i = lower(r, ref);
	if (i < r->n && r->ord[i].ref == ref && !r->ord[i].dead)
		return &r->ord[i];
	return NULL;
}

static void compact(struct ref_book *r)
{
	size_t w = 0;
	for (size_t i = 0; i < r->n; i++)
		if (!r->ord[i].dead)
			r->ord[w++] = r->ord[i];
	r->n = w;
	r->dead = 0;
}

static void put_order(struct ref_book *r, const struct ref_book_order *o)
{
	size_t i = lower(r, o->ref);
	if (i < r->n && r->ord[i].ref == o->ref) { /* a dead entry of the same ref */
		r->ord[i] = *o;
		r->dead--;
		return;
	}
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 1024;
		r->ord = realloc(r->ord, r->cap * sizeof(*r->ord));
		if (!r->ord)
			abort();
	}
	memmove(&r->ord[i + 1], &r->ord[i], (r->n - i) * sizeof(*r->ord));
	r->ord[i] = *o;
	r->n++;
}

static void kill_order(struct ref_book *r, struct ref_book_order *o)
{
	o->dead = 1;
	r->dead++;
	r->c.live_orders--;
	r->ins[o->instr].orders--;
	if (r->dead > 4096 && r->dead > r->n / 2)
		compact(r);
}

/* is a better than b on this side */
static bool better(uint8_t side, int64_t a, int64_t b)
{
	return side == 'B' ? a > b : a < b;
}

static void level_change(struct ref_book *r, uint32_t instr, uint8_t side, int64_t price,
			 int64_t dqty, int dorders)
{
	struct ref_book_side *sd = &r->ins[instr].side[side == 'S'];
	uint32_t i = 0;
	while (i < sd->n && better(side, sd->v[i].price, price))
		i++;
	if (i < sd->n && sd->v[i].price == price) {
		sd->v[i].qty = (uint64_t)((int64_t)sd->v[i].qty + dqty);
		sd->v[i].orders = (uint32_t)((int)sd->v[i].orders + dorders);
		if (sd->v[i].orders == 0) {
			memmove(&sd->v[i], &sd->v[i + 1], (sd->n - i - 1) * sizeof(*sd->v));
			sd->n--;
		}
		return;
	}
	/* a new level (only adds get here) */
	if (sd->n == sd->cap) {
		sd->cap = sd->cap ? sd->cap * 2 : 4;
		sd->v = realloc(sd->v, sd->cap * sizeof(*sd->v));
		if (!sd->v)
			abort();
	}
	memmove(&sd->v[i + 1], &sd->v[i], (sd->n - i) * sizeof(*sd->v));
	sd->v[i].price = price;
	sd->v[i].qty = (uint64_t)dqty;
	sd->v[i].orders = (uint32_t)dorders;
	sd->n++;
}

static void add_order(struct ref_book *r, uint64_t ref, uint32_t instr, uint8_t side,
		      int64_t price, uint32_t qty)
{
	if (find(r, ref)) {
		r->c.dup++;
		return;
	}
	struct ref_book_order o = { ref, price, qty, instr, side, 0 };
	put_order(r, &o);
	r->c.live_orders++;
	r->ins[instr].orders++;
	level_change(r, instr, side, price, qty, 1);
}

/* take qty from an order; all of it when qty >= what remains */
static void take(struct ref_book *r, struct ref_book_order *o, uint32_t qty)
{
	if (qty > o->qty)
		r->c.over++;
	if (qty >= o->qty) {
		level_change(r, o->instr, o->side, o->price, -(int64_t)o->qty, -1);
		kill_order(r, o);
	} else {
		o->qty -= qty;
		level_change(r, o->instr, o->side, o->price, -(int64_t)qty, 0);
	}
}

uint32_t ref_book_apply(struct ref_book *r, const struct fh_event *ev)
{
	struct ref_book_order *o;
	uint32_t instr;

	switch (ev->type) {
	case FH_EV_ORDER_ADD:
		if (ev->instrument >= r->ninstr) {
			r->c.bad_instrument++;
			return UINT32_MAX;
		}
		if ((ev->u.add.side != 'B' && ev->u.add.side != 'S') || ev->u.add.qty == 0 ||
		    ev->u.add.price < 0) {
			r->c.bad++;
			return UINT32_MAX;
		}
		add_order(r, ev->u.add.order_ref, ev->instrument, ev->u.add.side, ev->u.add.price,
			  ev->u.add.qty);
		return ev->instrument;
	case FH_EV_ORDER_EXEC:
	case FH_EV_ORDER_CANCEL: {
		uint64_t ref = ev->type == FH_EV_ORDER_EXEC ? ev->u.exec.order_ref
							     : ev->u.cancel.order_ref;
		uint32_t qty = ev->type == FH_EV_ORDER_EXEC ? ev->u.exec.qty : ev->u.cancel.qty;
		if (qty == 0) {
			r->c.bad++;
			return UINT32_MAX;
		}
		o = find(r, ref);
		if (!o) {
			r->c.orphans++;
			return UINT32_MAX;
		}
		instr = o->instr;
		take(r, o, qty);
		return instr;
	}
	case FH_EV_ORDER_DELETE:
		o = find(r, ev->u.cancel.order_ref);
		if (!o) {
			r->c.orphans++;
			return UINT32_MAX;
		}
		instr = o->instr;
		take(r, o, o->qty);
		return instr;
	case FH_EV_ORDER_REPLACE: {
		o = find(r, ev->u.replace.orig_ref);
		if (!o) {
			r->c.orphans++;
			return UINT32_MAX;
		}
		uint8_t side = o->side;
		instr = o->instr;
		take(r, o, o->qty);
		if (ev->u.replace.qty == 0 || ev->u.replace.price < 0) {
			r->c.bad++;
			return instr;
		}
		add_order(r, ev->u.replace.new_ref, instr, side, ev->u.replace.price,
			  ev->u.replace.qty);
		return instr;
	}
	case FH_EV_TRADING_STATUS:
		if (ev->instrument < r->ninstr)
			r->ins[ev->instrument].halted = ev->u.status.halted != 0;
		return UINT32_MAX;
	default:
		return UINT32_MAX;
	}
}

const struct ref_book_level *ref_book_side(const struct ref_book *r, uint32_t instr, uint8_t side,
					   uint32_t *n)
{
	if (instr >= r->ninstr) {
		*n = 0;
		return NULL;
	}
	const struct ref_book_side *sd = &r->ins[instr].side[side == 'S'];
	*n = sd->n;
	return sd->v;
}

uint32_t ref_book_orders(const struct ref_book *r, uint32_t instr)
{
	return instr < r->ninstr ? r->ins[instr].orders : 0;
}

bool ref_book_halted(const struct ref_book *r, uint32_t instr)
{
	return instr < r->ninstr && r->ins[instr].halted;
}

const struct ref_book_counts *ref_book_counts(const struct ref_book *r)
{
	return &r->c;
}
