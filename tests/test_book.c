/* SPDX-License-Identifier: MIT */
/* test_book.c: L2 book: hand-written cases, reference cross-checks (simulated day, real snippet), no allocation. */
/* fh-test-timeout: 420 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh_book.h"
#include "fh_itch.h"
#include "fh_sim.h"
#include "fh_test.h"
#include "ref_book.h"

#if defined(FH_SANITIZE)
/* from <sanitizer/allocator_interface.h> (not shipped with every compiler) */
int __sanitizer_install_malloc_and_free_hooks(void (*m)(const volatile void *, size_t),
					      void (*f)(const volatile void *));
#elif __has_include(<jemalloc/jemalloc.h>)
#include <jemalloc/jemalloc.h>
#define HAVE_JEMALLOC 1
#endif

#define PX(d) ((int64_t)((d) * 10000.0 + 0.5) * FH_PRICE_ITCH_MULT) /* dollars -> 1e-8 */

/* ---------------------------------------------------------------- events */

static uint64_t g_seq;

static struct fh_event ev_add(uint32_t id, uint64_t ref, uint8_t side, int64_t px, uint32_t qty)
{
	struct fh_event e;
	fh_event_init(&e, FH_EV_ORDER_ADD);
	e.instrument = id;
	e.seq = ++g_seq;
	e.u.add.order_ref = ref;
	e.u.add.side = side;
	e.u.add.price = px;
	e.u.add.qty = qty;
	return e;
}

static struct fh_event ev_exec(uint32_t id, uint64_t ref, uint32_t qty, int64_t px_or_none)
{
	struct fh_event e;
	fh_event_init(&e, FH_EV_ORDER_EXEC);
	e.instrument = id;
	e.seq = ++g_seq;
	e.u.exec.order_ref = ref;
	e.u.exec.qty = qty;
	e.u.exec.match_no = 1000 + g_seq;
	e.u.exec.price = px_or_none;
	e.u.exec.with_price = px_or_none != FH_PRICE_NONE;
	e.u.exec.printable = 1;
	return e;
}

static struct fh_event ev_cancel(uint32_t id, uint64_t ref, uint32_t qty)
{
	struct fh_event e;
	fh_event_init(&e, FH_EV_ORDER_CANCEL);
	e.instrument = id;
	e.seq = ++g_seq;
	e.u.cancel.order_ref = ref;
	e.u.cancel.qty = qty;
	return e;
}

static struct fh_event ev_delete(uint32_t id, uint64_t ref)
{
	struct fh_event e = ev_cancel(id, ref, 0);
	e.type = FH_EV_ORDER_DELETE;
	return e;
}

static struct fh_event ev_replace(uint32_t id, uint64_t orig, uint64_t nref, int64_t px,
				  uint32_t qty)
{
	struct fh_event e;
	fh_event_init(&e, FH_EV_ORDER_REPLACE);
	e.instrument = id;
	e.seq = ++g_seq;
	e.u.replace.orig_ref = orig;
	e.u.replace.new_ref = nref;
	e.u.replace.price = px;
	e.u.replace.qty = qty;
	return e;
}

static struct fh_event ev_status(uint32_t id, bool halted)
{
	struct fh_event e;
	fh_event_init(&e, FH_EV_TRADING_STATUS);
	e.instrument = id;
	e.seq = ++g_seq;
	e.u.status.msg_type = 'H';
	e.u.status.state = halted ? 'H' : 'T';
	e.u.status.halted = halted;
	return e;
}

static struct fh_event ev_feed(uint8_t kind, uint64_t first, uint64_t last)
{
	struct fh_event e;
	fh_event_init(&e, FH_EV_FEED_STATUS);
	e.seq = ++g_seq;
	e.u.feed.kind = kind;
	e.u.feed.first_seq = first;
	e.u.feed.last_seq = last;
	return e;
}

/* ------------------------------------------------------- consumer view */

/* What a consumer that only sees the output events knows: top-N per side, last BBO. */
struct view {
	struct fh_book_level_view top[2][FH_BOOK_MAX_DEPTH];
	unsigned n[2];
	struct fh_ev_bbo bbo;
	bool bbo_seen;
};

struct rig {
	struct fh_book *b;
	struct ref_book *r;
	struct view *v;
	uint32_t ninstr;
	unsigned depth;
	struct fh_event out[FH_BOOK_MAX_OUT];
	int nout;
	unsigned fails; /* mismatches reported so far (printing stops after a few) */
	uint64_t compared;
};

#define REPORT(rg, ...)                                                                  \
	do {                                                                             \
		fh_test_failed = 1;                                                      \
		if ((rg)->fails++ < 8)                                                   \
			fprintf(stderr, "  MISMATCH: " __VA_ARGS__);                     \
	} while (0)

static int rig_init(struct rig *rg, uint32_t ninstr, uint32_t max_orders, uint32_t max_levels,
		    unsigned depth)
{
	struct fh_book_config cfg;
	char err[256];
	memset(rg, 0, sizeof(*rg));
	fh_book_config_default(&cfg);
	cfg.max_instruments = ninstr;
	cfg.max_orders = max_orders;
	cfg.max_levels = max_levels;
	cfg.depth = (uint16_t)depth;
	int rc = fh_book_create(&cfg, &rg->b, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "  %s\n", err);
		return rc;
	}
	rg->r = ref_book_new(ninstr);
	rg->v = calloc(ninstr, sizeof(*rg->v));
	rg->ninstr = ninstr;
	rg->depth = depth;
	return rg->r && rg->v ? 0 : -ENOMEM;
}

static void rig_fini(struct rig *rg)
{
	fh_book_destroy(rg->b);
	ref_book_free(rg->r);
	free(rg->v);
}

static void view_apply(struct rig *rg, const struct fh_event *e)
{
	if (e->instrument >= rg->ninstr)
		return;
	struct view *v = &rg->v[e->instrument];
	if (e->type == FH_EV_BBO) {
		v->bbo = e->u.bbo;
		v->bbo_seen = true;
		return;
	}
	if (e->type != FH_EV_L2_UPDATE)
		return;
	unsigned s = e->u.l2.side == FH_SIDE_ASK, r = e->u.l2.level - 1u, n = v->n[s];
	struct fh_book_level_view lv = { e->u.l2.price, e->u.l2.qty, e->u.l2.orders };
	if (e->u.l2.level < 1 || e->u.l2.level > rg->depth) {
		REPORT(rg, "seq %llu: L2 level %u outside 1..%u\n", (unsigned long long)e->seq,
		       e->u.l2.level, rg->depth);
		return;
	}
	switch (e->u.l2.action) {
	case FH_L2_NEW:
		if (r > n) {
			REPORT(rg, "seq %llu: NEW at level %u of %u\n", (unsigned long long)e->seq,
			       r + 1, n);
			return;
		}
		if (n == rg->depth)
			n--; /* the last level drops out of view */
		memmove(&v->top[s][r + 1], &v->top[s][r], (n - r) * sizeof(lv));
		v->top[s][r] = lv;
		v->n[s] = n + 1;
		break;
	case FH_L2_CHANGE:
		if (r >= n) {
			REPORT(rg, "seq %llu: CHANGE at level %u of %u\n",
			       (unsigned long long)e->seq, r + 1, n);
			return;
		}
		v->top[s][r] = lv;
		break;
	case FH_L2_DELETE:
		if (r >= n) {
			REPORT(rg, "seq %llu: DELETE at level %u of %u\n",
			       (unsigned long long)e->seq, r + 1, n);
			return;
		}
		memmove(&v->top[s][r], &v->top[s][r + 1], (n - r - 1) * sizeof(lv));
		v->n[s] = n - 1;
		break;
	default:
		REPORT(rg, "bad L2 action %u\n", e->u.l2.action);
	}
}

/* Independent FNV-1a of the reference's top levels, as documented in fh_book.h. */
static uint64_t ref_checksum(const struct ref_book *r, uint32_t id, unsigned depth)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (int s = 0; s < 2; s++) {
		uint32_t n;
		const struct ref_book_level *L = ref_book_side(r, id, s ? 'S' : 'B', &n);
		for (unsigned i = 0; i < n && i < depth; i++) {
			uint8_t rec[23];
			unsigned lvl = i + 1;
			rec[0] = s ? 'S' : 'B';
			rec[1] = (uint8_t)lvl;
			rec[2] = (uint8_t)(lvl >> 8);
			for (int k = 0; k < 8; k++)
				rec[3 + k] = (uint8_t)((uint64_t)L[i].price >> (8 * k));
			for (int k = 0; k < 8; k++)
				rec[11 + k] = (uint8_t)(L[i].qty >> (8 * k));
			for (int k = 0; k < 4; k++)
				rec[19 + k] = (uint8_t)(L[i].orders >> (8 * k));
			for (int k = 0; k < 23; k++) {
				h ^= rec[k];
				h *= 0x100000001b3ull;
			}
		}
	}
	return h;
}

static struct fh_book_level_view g_lv[1 << 16];

/* Full depth of both sides, order count, consumer view, BBO, flags (and checksum). */
static void rig_compare(struct rig *rg, uint32_t id, bool checksum)
{
	rg->compared++;
	for (int s = 0; s < 2; s++) {
		uint8_t side = s ? 'S' : 'B';
		uint32_t rn;
		const struct ref_book_level *R = ref_book_side(rg->r, id, side, &rn);
		uint32_t fn = fh_book_level_count(rg->b, id, side);
		if (fn != rn) {
			REPORT(rg, "instr %u side %c: %u levels, reference %u\n", id, side, fn, rn);
			return;
		}
		unsigned got = fh_book_levels(rg->b, id, side, g_lv, FH_ARRAY_SIZE(g_lv));
		for (unsigned i = 0; i < got; i++) {
			if (g_lv[i].price != R[i].price || g_lv[i].qty != R[i].qty ||
			    g_lv[i].orders != R[i].orders) {
				REPORT(rg, "instr %u side %c level %u: %lld/%llu/%u, reference "
					   "%lld/%llu/%u\n",
				       id, side, i + 1, (long long)g_lv[i].price,
				       (unsigned long long)g_lv[i].qty, g_lv[i].orders,
				       (long long)R[i].price, (unsigned long long)R[i].qty,
				       R[i].orders);
				return;
			}
		}
		const struct view *v = &rg->v[id];
		unsigned want = rn < rg->depth ? rn : rg->depth;
		if (v->n[s] != want) {
			REPORT(rg, "instr %u side %c: consumer view has %u levels, want %u\n", id,
			       side, v->n[s], want);
			return;
		}
		for (unsigned i = 0; i < want; i++) {
			if (v->top[s][i].price != R[i].price || v->top[s][i].qty != R[i].qty ||
			    v->top[s][i].orders != R[i].orders) {
				REPORT(rg, "instr %u side %c: consumer level %u differs\n", id, side,
				       i + 1);
				return;
			}
		}
		int64_t bpx = s ? rg->v[id].bbo.ask_px : rg->v[id].bbo.bid_px;
		uint64_t bq = s ? rg->v[id].bbo.ask_qty : rg->v[id].bbo.bid_qty;
		if (!v->bbo_seen) {
			if (rn) {
				REPORT(rg, "instr %u: no BBO published for a non-empty book\n", id);
				return;
			}
		} else if (rn ? (bpx != R[0].price || bq != R[0].qty) : bpx != FH_PRICE_NONE) {
			REPORT(rg, "instr %u side %c: last BBO %lld/%llu, book top differs\n", id,
			       side, (long long)bpx, (unsigned long long)bq);
			return;
		}
	}
	if (fh_book_order_count(rg->b, id) != ref_book_orders(rg->r, id))
		REPORT(rg, "instr %u: %u orders, reference %u\n", id, fh_book_order_count(rg->b, id),
		       ref_book_orders(rg->r, id));
	/* crossed / locked as a function of the reference's top and halt state */
	uint32_t nb, na;
	const struct ref_book_level *B = ref_book_side(rg->r, id, 'B', &nb);
	const struct ref_book_level *A = ref_book_side(rg->r, id, 'S', &na);
	uint8_t want = 0;
	if (nb && na && !ref_book_halted(rg->r, id))
		want = B[0].price > A[0].price ? FH_BOOK_F_CROSSED
		       : B[0].price == A[0].price ? FH_BOOK_F_LOCKED : 0;
	uint8_t got = fh_book_flags(rg->b, id) & (FH_BOOK_F_CROSSED | FH_BOOK_F_LOCKED);
	if (got != want)
		REPORT(rg, "instr %u: crossed/locked flags 0x%x, want 0x%x\n", id, got, want);
	if (checksum && fh_book_checksum(rg->b, id, rg->depth) != ref_checksum(rg->r, id, rg->depth))
		REPORT(rg, "instr %u: checksum differs from the reference's\n", id);
}

/* Applies one event to both books, checks the output's shape, compares the touched book. */
static void rig_apply(struct rig *rg, const struct fh_event *e, bool checksum)
{
	rg->nout = fh_book_apply(rg->b, e, rg->out);
	if (rg->nout < 0 || rg->nout > FH_BOOK_MAX_OUT) {
		REPORT(rg, "seq %llu: apply returned %d\n", (unsigned long long)e->seq, rg->nout);
		rg->nout = 0;
		return;
	}
	int last_l2 = -1, lasts = 0;
	for (int k = 0; k < rg->nout; k++) {
		view_apply(rg, &rg->out[k]);
		if (rg->out[k].type == FH_EV_L2_UPDATE) {
			last_l2 = k;
			lasts += !!(rg->out[k].u.l2.flags & FH_L2_F_LAST);
		}
		if (rg->out[k].seq != e->seq)
			REPORT(rg, "output event carries seq %llu for input %llu\n",
			       (unsigned long long)rg->out[k].seq, (unsigned long long)e->seq);
	}
	if (last_l2 >= 0 && (lasts != 1 || !(rg->out[last_l2].u.l2.flags & FH_L2_F_LAST)))
		REPORT(rg, "seq %llu: FH_L2_F_LAST not on exactly the last L2 update\n",
		       (unsigned long long)e->seq);
	uint32_t id = ref_book_apply(rg->r, e);
	/* book output may only name the book the reference says this message touched */
	for (int k = 0; k < rg->nout; k++) {
		unsigned t = rg->out[k].type;
		if ((t == FH_EV_L2_UPDATE || t == FH_EV_BBO) && rg->out[k].instrument != id)
			REPORT(rg, "seq %llu: %s for instrument %u, the message touched %u\n",
			       (unsigned long long)e->seq, fh_event_type_name(t),
			       rg->out[k].instrument, id);
	}
	if (id != UINT32_MAX)
		rig_compare(rg, id, checksum);
}

static void rig_counters(struct rig *rg)
{
	const struct fh_book_stats *st = fh_book_stats(rg->b);
	const struct ref_book_counts *rc = ref_book_counts(rg->r);
	FH_CHECK_EQ_U(fh_book_orphans(rg->b), rc->orphans);
	FH_CHECK_EQ_U(st->over_exec + st->over_cancel, rc->over);
	FH_CHECK_EQ_U(st->dup_add, rc->dup);
	FH_CHECK_EQ_U(st->bad_event, rc->bad);
	FH_CHECK_EQ_U(st->live_orders, rc->live_orders);
	FH_CHECK_EQ_U(st->orders_full + st->levels_full, 0);
}

static void rig_compare_all(struct rig *rg)
{
	for (uint32_t id = 0; id < rg->ninstr; id++)
		rig_compare(rg, id, true);
}

/* Index of the first output event of type t (after start), -1 if none. */
static int find_out(const struct rig *rg, unsigned t, int start)
{
	for (int k = start; k < rg->nout; k++)
		if (rg->out[k].type == t)
			return k;
	return -1;
}

#define APPLY(rg, e)                                                                     \
	do {                                                                             \
		struct fh_event _e = (e);                                                \
		rig_apply((rg), &_e, true);                                              \
	} while (0)

/* ----------------------------------------------------------- hand cases */

static void test_add_aggregates(void)
{
	struct rig rg;
	if (rig_init(&rg, 16, 1024, 1024, 10))
		FH_SKIP("cannot create a book");
	APPLY(&rg, ev_add(3, 1, 'B', PX(10.00), 100));
	FH_CHECK_EQ_I(rg.nout, 2);
	FH_CHECK_EQ_U(rg.out[0].u.l2.action, FH_L2_NEW);
	FH_CHECK_EQ_U(rg.out[1].type, FH_EV_BBO);
	APPLY(&rg, ev_add(3, 2, 'B', PX(10.00), 50));
	FH_CHECK_EQ_U(fh_book_level_count(rg.b, 3, 'B'), 1);
	struct fh_book_level_view lv[4];
	FH_CHECK_EQ_U(fh_book_levels(rg.b, 3, 'B', lv, 4), 1);
	FH_CHECK_EQ_I(lv[0].price, PX(10.00));
	FH_CHECK_EQ_U(lv[0].qty, 150);
	FH_CHECK_EQ_U(lv[0].orders, 2);
	FH_CHECK_EQ_U(rg.out[0].u.l2.action, FH_L2_CHANGE);
	FH_CHECK_EQ_U(rg.out[0].u.l2.level, 1);
	FH_CHECK_EQ_U(rg.out[0].u.l2.qty, 150);
	FH_CHECK_EQ_U(rg.out[1].u.bbo.bid_qty, 150);
	FH_CHECK_EQ_I(rg.out[1].u.bbo.ask_px, FH_PRICE_NONE);
	/* a worse level: NEW at level 2, top unchanged so no BBO */
	APPLY(&rg, ev_add(3, 3, 'B', PX(9.99), 10));
	FH_CHECK_EQ_I(rg.nout, 1);
	FH_CHECK_EQ_U(rg.out[0].u.l2.level, 2);
	FH_CHECK_EQ_U(rg.out[0].u.l2.action, FH_L2_NEW);
	FH_CHECK(rg.out[0].u.l2.flags & FH_L2_F_LAST);
	/* asks sort the other way */
	APPLY(&rg, ev_add(3, 4, 'S', PX(10.05), 7));
	APPLY(&rg, ev_add(3, 5, 'S', PX(10.02), 8));
	FH_CHECK_EQ_U(fh_book_levels(rg.b, 3, 'S', lv, 4), 2);
	FH_CHECK_EQ_I(lv[0].price, PX(10.02));
	FH_CHECK_EQ_I(lv[1].price, PX(10.05));
	FH_CHECK_EQ_U(fh_book_order_count(rg.b, 3), 5);
	FH_CHECK_EQ_U(rg.fails, 0);
	rig_fini(&rg);
}

static void test_replace_keeps_side(void)
{
	struct rig rg;
	if (rig_init(&rg, 16, 1024, 1024, 10))
		FH_SKIP("cannot create a book");
	APPLY(&rg, ev_add(1, 10, 'S', PX(20.00), 300));
	APPLY(&rg, ev_add(1, 11, 'B', PX(19.90), 100));
	/* the ask moves to a new price (below the old one) with a new reference */
	APPLY(&rg, ev_replace(1, 10, 12, PX(19.95), 200));
	FH_CHECK_EQ_U(fh_book_level_count(rg.b, 1, 'S'), 1);
	FH_CHECK_EQ_U(fh_book_level_count(rg.b, 1, 'B'), 1);
	struct fh_book_level_view lv[2];
	fh_book_levels(rg.b, 1, 'S', lv, 2);
	FH_CHECK_EQ_I(lv[0].price, PX(19.95));
	FH_CHECK_EQ_U(lv[0].qty, 200);
	int k = find_out(&rg, FH_EV_BBO, 0);
	FH_CHECK(k >= 0);
	if (k >= 0) {
		FH_CHECK_EQ_I(rg.out[k].u.bbo.ask_px, PX(19.95));
		FH_CHECK_EQ_I(rg.out[k].u.bbo.bid_px, PX(19.90));
	}
	/* the old reference is gone, the new one lives on the ask side */
	APPLY(&rg, ev_delete(1, 10));
	FH_CHECK_EQ_U(fh_book_orphans(rg.b), 1);
	/* a bid replaced to a price above the ask stays a bid (and crosses) */
	APPLY(&rg, ev_replace(1, 11, 13, PX(19.97), 100));
	fh_book_levels(rg.b, 1, 'B', lv, 2);
	FH_CHECK_EQ_I(lv[0].price, PX(19.97));
	FH_CHECK(fh_book_flags(rg.b, 1) & FH_BOOK_F_CROSSED);
	/* same price, new size: one CHANGE, the order count stays */
	APPLY(&rg, ev_replace(1, 12, 14, PX(19.95), 50));
	FH_CHECK_EQ_I(rg.nout >= 1, 1);
	FH_CHECK_EQ_U(rg.out[0].u.l2.action, FH_L2_CHANGE);
	FH_CHECK_EQ_U(rg.out[0].u.l2.qty, 50);
	FH_CHECK_EQ_U(fh_book_order_count(rg.b, 1), 2);
	rig_counters(&rg);
	FH_CHECK_EQ_U(rg.fails, 0);
	rig_fini(&rg);
}

static void test_exec_to_zero(void)
{
	struct rig rg;
	if (rig_init(&rg, 16, 1024, 1024, 10))
		FH_SKIP("cannot create a book");
	APPLY(&rg, ev_add(2, 1, 'B', PX(5.00), 100));
	APPLY(&rg, ev_add(2, 2, 'B', PX(5.00), 40));
	APPLY(&rg, ev_add(2, 3, 'B', PX(4.99), 10));
	/* E: the trade has the order's price and side */
	APPLY(&rg, ev_exec(2, 1, 30, FH_PRICE_NONE));
	FH_CHECK_EQ_U(rg.out[0].type, FH_EV_TRADE);
	FH_CHECK_EQ_I(rg.out[0].u.trade.price, PX(5.00));
	FH_CHECK_EQ_U(rg.out[0].u.trade.side, 'B');
	FH_CHECK_EQ_U(rg.out[0].u.trade.kind, FH_TRADE_EXEC);
	FH_CHECK_EQ_U(rg.out[0].u.trade.qty, 30);
	FH_CHECK_EQ_U(rg.out[1].u.l2.action, FH_L2_CHANGE);
	FH_CHECK_EQ_U(rg.out[1].u.l2.qty, 110);
	/* execute the rest of order 1: it is removed, the level keeps order 2 */
	APPLY(&rg, ev_exec(2, 1, 70, FH_PRICE_NONE));
	FH_CHECK_EQ_U(fh_book_order_count(rg.b, 2), 2);
	struct fh_book_level_view lv[2];
	fh_book_levels(rg.b, 2, 'B', lv, 2);
	FH_CHECK_EQ_U(lv[0].orders, 1);
	FH_CHECK_EQ_U(lv[0].qty, 40);
	/* C with its own price, executing the last order of the level: the level goes */
	APPLY(&rg, ev_exec(2, 2, 40, PX(5.01)));
	FH_CHECK_EQ_U(rg.out[0].u.trade.kind, FH_TRADE_EXEC_PRICE);
	FH_CHECK_EQ_I(rg.out[0].u.trade.price, PX(5.01));
	FH_CHECK_EQ_U(rg.out[1].u.l2.action, FH_L2_DELETE);
	FH_CHECK_EQ_U(rg.out[1].u.l2.level, 1);
	FH_CHECK_EQ_U(fh_book_level_count(rg.b, 2, 'B'), 1);
	fh_book_levels(rg.b, 2, 'B', lv, 2);
	FH_CHECK_EQ_I(lv[0].price, PX(4.99));
	int k = find_out(&rg, FH_EV_BBO, 0);
	FH_CHECK(k >= 0);
	if (k >= 0)
		FH_CHECK_EQ_I(rg.out[k].u.bbo.bid_px, PX(4.99));
	/* the executed-out reference is now unknown */
	APPLY(&rg, ev_exec(2, 1, 1, FH_PRICE_NONE));
	FH_CHECK_EQ_U(fh_book_stats(rg.b)->orphan_exec, 1);
	FH_CHECK_EQ_I(rg.nout, 0);
	rig_counters(&rg);
	FH_CHECK_EQ_U(rg.fails, 0);
	rig_fini(&rg);
}

static void test_over_cancel(void)
{
	struct rig rg;
	if (rig_init(&rg, 16, 1024, 1024, 10))
		FH_SKIP("cannot create a book");
	APPLY(&rg, ev_add(4, 1, 'S', PX(7.00), 100));
	APPLY(&rg, ev_add(4, 2, 'S', PX(7.00), 100));
	APPLY(&rg, ev_cancel(4, 1, 150)); /* more than remains: removed, warned */
	FH_CHECK_EQ_U(fh_book_stats(rg.b)->over_cancel, 1);
	FH_CHECK_EQ_U(fh_book_integrity_warnings(rg.b), 1);
	FH_CHECK_EQ_U(fh_book_order_count(rg.b, 4), 1);
	struct fh_book_level_view lv[2];
	fh_book_levels(rg.b, 4, 'S', lv, 2);
	FH_CHECK_EQ_U(lv[0].qty, 100);
	FH_CHECK_EQ_U(lv[0].orders, 1);
	APPLY(&rg, ev_exec(4, 2, 101, FH_PRICE_NONE)); /* over-execute */
	FH_CHECK_EQ_U(fh_book_stats(rg.b)->over_exec, 1);
	FH_CHECK_EQ_U(fh_book_level_count(rg.b, 4, 'S'), 0);
	APPLY(&rg, ev_cancel(4, 1, 1));
	FH_CHECK_EQ_U(fh_book_stats(rg.b)->orphan_cancel, 1);
	rig_counters(&rg);
	FH_CHECK_EQ_U(rg.fails, 0);
	rig_fini(&rg);
}

static void test_orphans_change_nothing(void)
{
	struct rig rg;
	if (rig_init(&rg, 16, 1024, 1024, 10))
		FH_SKIP("cannot create a book");
	APPLY(&rg, ev_add(5, 100, 'B', PX(1.00), 10));
	uint64_t before = fh_book_checksum(rg.b, 5, 10);
	APPLY(&rg, ev_exec(5, 7, 1, FH_PRICE_NONE));
	FH_CHECK_EQ_I(rg.nout, 0);
	APPLY(&rg, ev_cancel(5, 7, 1));
	APPLY(&rg, ev_delete(5, 7));
	APPLY(&rg, ev_replace(5, 7, 8, PX(1.01), 5)); /* unknown original: 8 not created */
	FH_CHECK_EQ_I(rg.nout, 0);
	APPLY(&rg, ev_delete(5, 8));
	FH_CHECK_EQ_U(fh_book_orphans(rg.b), 5);
	FH_CHECK_EQ_U(fh_book_stats(rg.b)->orphan_replace, 1);
	FH_CHECK_EQ_U(fh_book_stats(rg.b)->orphan_delete, 2);
	FH_CHECK_EQ_U(fh_book_checksum(rg.b, 5, 10), before);
	FH_CHECK_EQ_U(fh_book_order_count(rg.b, 5), 1);
	/* a C orphan still prints (its price is known), without a side */
	APPLY(&rg, ev_exec(5, 9, 3, PX(1.02)));
	FH_CHECK_EQ_I(rg.nout, 1);
	FH_CHECK_EQ_U(rg.out[0].u.trade.side, 0);
	/* duplicate reference, bad side, zero size, unknown instrument: ignored, counted */
	APPLY(&rg, ev_add(5, 100, 'B', PX(1.00), 10));
	APPLY(&rg, ev_add(5, 101, 'X', PX(1.00), 10));
	APPLY(&rg, ev_add(5, 102, 'B', PX(1.00), 0));
	APPLY(&rg, ev_add(99, 103, 'B', PX(1.00), 1));
	FH_CHECK_EQ_U(fh_book_stats(rg.b)->dup_add, 1);
	FH_CHECK_EQ_U(fh_book_stats(rg.b)->bad_event, 2);
	FH_CHECK_EQ_U(fh_book_stats(rg.b)->bad_instrument, 1);
	FH_CHECK_EQ_U(fh_book_checksum(rg.b, 5, 10), before);
	rig_counters(&rg);
	FH_CHECK_EQ_U(rg.fails, 0);
	rig_fini(&rg);
}

static void test_locked_crossed_halted(void)
{
	struct rig rg;
	if (rig_init(&rg, 16, 1024, 1024, 10))
		FH_SKIP("cannot create a book");
	APPLY(&rg, ev_add(6, 1, 'B', PX(10.00), 100));
	APPLY(&rg, ev_add(6, 2, 'S', PX(10.01), 100));
	FH_CHECK_EQ_U(fh_book_flags(rg.b, 6), 0);
	/* locked: bid == ask */
	APPLY(&rg, ev_add(6, 3, 'B', PX(10.01), 100));
	FH_CHECK_EQ_U(fh_book_flags(rg.b, 6), FH_BOOK_F_LOCKED);
	int k = find_out(&rg, FH_EV_BOOK_SNAPSHOT, 0);
	FH_CHECK(k >= 0);
	if (k >= 0)
		FH_CHECK_EQ_U(rg.out[k].u.snap.flags, FH_BOOK_F_LOCKED);
	FH_CHECK_EQ_U(fh_book_stats(rg.b)->locked, 1);
	/* crossed: bid > ask */
	APPLY(&rg, ev_add(6, 4, 'B', PX(10.02), 100));
	FH_CHECK_EQ_U(fh_book_flags(rg.b, 6), FH_BOOK_F_CROSSED);
	FH_CHECK_EQ_U(fh_book_stats(rg.b)->crossed, 1);
	/* uncrossed again: the flag clears and a snapshot says so */
	APPLY(&rg, ev_delete(6, 4));
	APPLY(&rg, ev_delete(6, 3));
	FH_CHECK_EQ_U(fh_book_flags(rg.b, 6), 0);
	k = find_out(&rg, FH_EV_BOOK_SNAPSHOT, 0);
	FH_CHECK(k >= 0);
	/* halted: crossing is not flagged, not counted */
	APPLY(&rg, ev_status(6, true));
	FH_CHECK(fh_book_flags(rg.b, 6) & FH_BOOK_F_HALTED);
	APPLY(&rg, ev_add(6, 5, 'B', PX(10.05), 100));
	FH_CHECK_EQ_U(fh_book_flags(rg.b, 6) & (FH_BOOK_F_CROSSED | FH_BOOK_F_LOCKED), 0);
	FH_CHECK_EQ_U(fh_book_stats(rg.b)->crossed, 1);
	/* trading resumes while still crossed: flagged at once */
	APPLY(&rg, ev_status(6, false));
	FH_CHECK_EQ_U(fh_book_flags(rg.b, 6), FH_BOOK_F_CROSSED);
	FH_CHECK_EQ_U(fh_book_stats(rg.b)->crossed, 2);
	FH_CHECK_EQ_U(rg.fails, 0);
	rig_fini(&rg);

	/* the abort policy makes apply fail on the message that crosses */
	struct fh_book_config cfg;
	struct fh_book *b;
	struct fh_event out[FH_BOOK_MAX_OUT], e;
	fh_book_config_default(&cfg);
	cfg.max_instruments = 8;
	cfg.max_orders = 64;
	cfg.max_levels = 64;
	cfg.crossed_policy = FH_BOOK_CROSSED_ABORT;
	FH_CHECK_EQ_I(fh_book_create(&cfg, &b, NULL, 0), 0);
	if (!b)
		return;
	e = ev_add(1, 1, 'S', PX(3.00), 1);
	FH_CHECK_EQ_I(fh_book_apply(b, &e, out), 2);
	e = ev_status(1, true);
	fh_book_apply(b, &e, out);
	e = ev_add(1, 2, 'B', PX(3.00), 1);
	FH_CHECK(fh_book_apply(b, &e, out) >= 0); /* halted: allowed */
	e = ev_status(1, false);
	FH_CHECK_EQ_I(fh_book_apply(b, &e, out), -EPROTO);
	FH_CHECK_EQ_U(fh_book_last_out(b), 1);
	fh_book_destroy(b);
}

static void test_top_n_refill(void)
{
	struct rig rg;
	if (rig_init(&rg, 4, 1024, 1024, 3))
		FH_SKIP("cannot create a book");
	for (unsigned i = 0; i < 5; i++)
		APPLY(&rg, ev_add(1, 1 + i, 'B', PX(10.00 - 0.01 * i), 100 + i));
	/* levels 4 and 5 were never in view */
	FH_CHECK_EQ_U(rg.v[1].n[0], 3);
	APPLY(&rg, ev_delete(1, 1)); /* best goes: DELETE 1, NEW 3 (old level 4), BBO */
	FH_CHECK_EQ_I(rg.nout, 3);
	FH_CHECK_EQ_U(rg.out[0].u.l2.action, FH_L2_DELETE);
	FH_CHECK_EQ_U(rg.out[0].u.l2.level, 1);
	FH_CHECK_EQ_U(rg.out[1].u.l2.action, FH_L2_NEW);
	FH_CHECK_EQ_U(rg.out[1].u.l2.level, 3);
	FH_CHECK_EQ_I(rg.out[1].u.l2.price, PX(9.97));
	FH_CHECK(rg.out[1].u.l2.flags & FH_L2_F_LAST);
	FH_CHECK(!(rg.out[0].u.l2.flags & FH_L2_F_LAST));
	FH_CHECK_EQ_U(rg.out[2].type, FH_EV_BBO);
	/* a change below the top-N is silent */
	APPLY(&rg, ev_cancel(1, 5, 1));
	FH_CHECK_EQ_I(rg.nout, 0);
	/* a new best pushes level 3 out of view (implicitly) */
	APPLY(&rg, ev_add(1, 9, 'B', PX(10.50), 1));
	FH_CHECK_EQ_U(rg.out[0].u.l2.level, 1);
	FH_CHECK_EQ_U(rg.fails, 0);
	rig_fini(&rg);
}

/* Many levels on one side: arena blocks grow and shrink; inserts everywhere. */
static void test_deep_churn(void)
{
	struct rig rg;
	if (rig_init(&rg, 4, 1 << 16, 1 << 14, 10))
		FH_SKIP("cannot create a book");
	uint64_t x = 88172645463325252ull, ref = 1;
	uint64_t live[4096];
	unsigned n = 0;
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		unsigned phase = (unsigned)(i / 40000) % 2; /* grow to ~4000 orders, then drain */
		if (n && (x % 100 < (phase ? 70u : 35u) || n == FH_ARRAY_SIZE(live))) {
			unsigned k = (unsigned)((x >> 20) % n);
			if ((x >> 40) & 1)
				APPLY(&rg, ev_delete(1 + (unsigned)(x >> 50) % 2, live[k]));
			else
				APPLY(&rg, ev_replace(1, live[k], ++ref,
						      PX(50.00) + (int64_t)((x >> 8) % 3000) * 100000,
						      1 + (uint32_t)(x % 500)));
			if ((x >> 40) & 1)
				live[k] = live[--n];
			else
				live[k] = ref;
		} else {
			uint8_t side = (x >> 33) & 1 ? 'B' : 'S';
			int64_t px = PX(50.00) + (int64_t)((x >> 8) % 3000) * 100000;
			APPLY(&rg, ev_add(1 + (unsigned)(x >> 50) % 2, ++ref, side, px,
					  1 + (uint32_t)(x % 1000)));
			live[n++] = ref;
		}
	}
	rig_compare_all(&rg);
	rig_counters(&rg);
	FH_CHECK(fh_book_stats(rg.b)->peak_levels > 1000);
	FH_CHECK_EQ_U(rg.fails, 0);
	rig_fini(&rg);
}

static void test_gap_stale(void)
{
	struct rig rg;
	if (rig_init(&rg, 8, 1024, 1024, 10))
		FH_SKIP("cannot create a book");
	APPLY(&rg, ev_add(2, 1, 'B', PX(1.00), 1));
	FH_CHECK(!fh_book_is_stale(rg.b, 2));
	APPLY(&rg, ev_feed(FH_FEED_GAP, 10, 12));
	FH_CHECK_EQ_I(rg.nout, 1);
	FH_CHECK_EQ_U(rg.out[0].type, FH_EV_FEED_STATUS);
	FH_CHECK_EQ_U(rg.out[0].u.feed.kind, FH_FEED_STALE);
	FH_CHECK_EQ_U(rg.out[0].instrument, FH_INSTRUMENT_NONE);
	FH_CHECK_EQ_U(rg.out[0].u.feed.first_seq, 10);
	FH_CHECK(fh_book_is_stale(rg.b, 2));
	FH_CHECK(fh_book_is_stale(rg.b, 5)); /* ITCH: the whole source */
	APPLY(&rg, ev_feed(FH_FEED_GAP, 20, 20));
	FH_CHECK_EQ_I(rg.nout, 0); /* already stale */
	struct fh_event snap;
	fh_book_snapshot(rg.b, 2, NULL, &snap);
	FH_CHECK(snap.u.snap.flags & FH_BOOK_F_STALE);
	APPLY(&rg, ev_feed(FH_FEED_RECOVERED, 10, 12));
	FH_CHECK(fh_book_is_stale(rg.b, 2)); /* one gap still open */
	APPLY(&rg, ev_feed(FH_FEED_RECOVERED, 20, 20));
	FH_CHECK_EQ_I(rg.nout, 1);
	FH_CHECK_EQ_U(rg.out[0].u.feed.kind, FH_FEED_FRESH);
	FH_CHECK(!fh_book_is_stale(rg.b, 2));
	FH_CHECK_EQ_U(fh_book_stats(rg.b)->gaps, 2);
	FH_CHECK_EQ_U(rg.fails, 0);
	rig_fini(&rg);
}

static void test_checksum_snapshot(void)
{
	struct rig rg;
	if (rig_init(&rg, 8, 1024, 1024, 2))
		FH_SKIP("cannot create a book");
	FH_CHECK_EQ_U(fh_book_checksum(rg.b, 3, 2), FH_BOOK_FNV_OFFSET);
	APPLY(&rg, ev_add(3, 1, 'B', PX(12.34), 100));
	/* one level by hand: 'B', level 1, price, qty, orders, little-endian */
	uint8_t rec[23] = { 'B', 1, 0 };
	int64_t px = PX(12.34);
	for (int k = 0; k < 8; k++)
		rec[3 + k] = (uint8_t)((uint64_t)px >> (8 * k));
	rec[11] = 100;
	rec[19] = 1;
	uint64_t h = 0xcbf29ce484222325ull;
	for (int k = 0; k < 23; k++) {
		h ^= rec[k];
		h *= 0x100000001b3ull;
	}
	FH_CHECK_EQ_U(fh_book_checksum(rg.b, 3, 2), h);
	APPLY(&rg, ev_add(3, 2, 'B', PX(12.33), 1));
	APPLY(&rg, ev_add(3, 3, 'B', PX(12.32), 1));
	APPLY(&rg, ev_add(3, 4, 'S', PX(12.40), 9));
	struct fh_event snap, hdr = ev_add(3, 0, 'B', 0, 0);
	fh_book_snapshot(rg.b, 3, &hdr, &snap);
	FH_CHECK_EQ_U(snap.type, FH_EV_BOOK_SNAPSHOT);
	FH_CHECK_EQ_U(snap.seq, hdr.seq);
	FH_CHECK_EQ_U(snap.u.snap.checksum, ref_checksum(rg.r, 3, 2));
	FH_CHECK_EQ_U(snap.u.snap.depth, 2);
	FH_CHECK_EQ_U(snap.u.snap.orders, 4);
	FH_CHECK_EQ_U(snap.u.snap.bid_levels, 3);
	FH_CHECK_EQ_U(snap.u.snap.ask_levels, 1);
	FH_CHECK_EQ_U(snap.u.snap.updates, 4);
	/* the third bid is below depth 2: not in the checksum */
	APPLY(&rg, ev_cancel(3, 3, 0 + 1));
	FH_CHECK_EQ_U(fh_book_checksum(rg.b, 3, 2), snap.u.snap.checksum);
	APPLY(&rg, ev_add(5, 9, 'S', PX(1), 1));
	uint32_t cur = 0;
	struct fh_event snaps[8];
	FH_CHECK_EQ_U(fh_book_snapshot_all(rg.b, &cur, NULL, snaps, 8), 2);
	FH_CHECK_EQ_U(snaps[0].instrument, 3);
	FH_CHECK_EQ_U(snaps[1].instrument, 5);
	FH_CHECK_EQ_U(cur, 0);
	FH_CHECK_EQ_U(rg.fails, 0);
	rig_fini(&rg);
}

static void test_passthrough(void)
{
	struct rig rg;
	if (rig_init(&rg, 8, 64, 64, 10))
		FH_SKIP("cannot create a book");
	struct fh_event e;
	fh_event_init(&e, FH_EV_TRADE);
	e.instrument = 2;
	e.u.trade.kind = FH_TRADE_NON_CROSS;
	e.u.trade.price = PX(3.00);
	e.u.trade.qty = 10;
	APPLY(&rg, e);
	FH_CHECK_EQ_I(rg.nout, 1);
	FH_CHECK(memcmp(&rg.out[0], &e, sizeof(e)) == 0);
	fh_event_init(&e, FH_EV_BROKEN_TRADE);
	e.u.broken.match_no = 77;
	APPLY(&rg, e);
	FH_CHECK_EQ_I(rg.nout, 1);
	FH_CHECK_EQ_U(rg.out[0].u.broken.match_no, 77);
	FH_CHECK_EQ_U(fh_book_level_count(rg.b, 2, 'B') + fh_book_level_count(rg.b, 2, 'S'), 0);
	/* the directory names a book; a later add-derived name does not override it */
	fh_event_init(&e, FH_EV_INSTRUMENT);
	e.instrument = 2;
	memcpy(e.u.instr.symbol, "AAPL", 4);
	APPLY(&rg, e);
	fh_book_name_instrument(rg.b, 2, "ZZZZ    ", 8);
	FH_CHECK_STR(fh_book_symbol(rg.b, 2), "AAPL");
	fh_book_name_instrument(rg.b, 3, "MSFT    ", 8);
	FH_CHECK_STR(fh_book_symbol(rg.b, 3), "MSFT");
	rig_fini(&rg);
}

static void test_capacity(void)
{
	struct fh_book_config cfg;
	struct fh_book *b;
	struct fh_event out[FH_BOOK_MAX_OUT], e;
	char err[256];

	fh_book_config_default(&cfg);
	cfg.max_instruments = 4;
	cfg.max_orders = 3;
	cfg.max_levels = 4; /* arena: 8 levels = one minimum block */
	FH_CHECK_EQ_I(fh_book_create(&cfg, &b, err, sizeof(err)), 0);
	if (!b)
		return;
	for (unsigned i = 0; i < 3; i++) {
		e = ev_add(1, 1 + i, 'B', PX(1.00) + i, 1);
		FH_CHECK(fh_book_apply(b, &e, out) > 0);
	}
	e = ev_add(1, 10, 'B', PX(2.00), 1);
	int n = fh_book_apply(b, &e, out);
	FH_CHECK_EQ_I(n, 1);
	FH_CHECK_EQ_U(out[0].type, FH_EV_FEED_STATUS);
	FH_CHECK_EQ_U(out[0].u.feed.kind, FH_FEED_STALE);
	FH_CHECK_EQ_U(out[0].instrument, 1);
	FH_CHECK_EQ_U(fh_book_stats(b)->orders_full, 1);
	FH_CHECK(fh_book_is_stale(b, 1));
	FH_CHECK(!fh_book_is_stale(b, 2));
	/* level arena: another book needs a second block, none left */
	e = ev_delete(1, 1);
	FH_CHECK(fh_book_apply(b, &e, out) > 0);
	e = ev_add(2, 20, 'S', PX(2.00), 1);
	FH_CHECK_EQ_I(fh_book_apply(b, &e, out), 1);
	FH_CHECK_EQ_U(fh_book_stats(b)->levels_full, 1);
	fh_book_destroy(b);

	/* invalid and impossible configurations are refused with a reason */
	cfg.depth = 0;
	FH_CHECK_EQ_I(fh_book_create(&cfg, &b, err, sizeof(err)), -EINVAL);
	FH_CHECK(strstr(err, "invalid") != NULL);
	fh_book_config_default(&cfg);
	cfg.max_orders = 1u << 30; /* 2^31 slots of 24 B: 48 GiB */
	cfg.max_levels = 1u << 28;
	FH_CHECK_EQ_I(fh_book_create(&cfg, &b, err, sizeof(err)), -ENOMEM);
	FH_CHECK(strstr(err, "available") != NULL || strstr(err, "mmap") != NULL);
	FH_CHECK(b == NULL);
	FH_CHECK_EQ_U(fh_book_memsize(&cfg) > (48ull << 30), 1);
	fh_book_config_default(&cfg);
	/* defaults: >= 2 M orders, >= 10 k instruments, >= 1 M levels, depth 10 */
	FH_CHECK(cfg.max_orders >= 2000000 && cfg.max_instruments >= 10000 &&
		 cfg.max_levels >= 1000000 && cfg.depth == 10);
}

/* -------------------------------------------------- reference cross-checks */

/* One seeded simulated session through decoder, fast book and reference, compared after every message. */
static void sim_vs_reference(uint64_t seed, uint64_t messages, uint32_t symbols)
{
	struct fh_sim_cfg sc = fh_sim_cfg_default();
	sc.seed = seed;
	sc.messages = messages;
	sc.symbols = symbols;
	struct fh_sim *sim = fh_sim_create(&sc);
	if (!sim)
		FH_SKIP("simulator unavailable");
	struct rig rg;
	if (rig_init(&rg, 4096, 1 << 20, 1 << 19, 10)) {
		fh_sim_destroy(sim);
		FH_SKIP("cannot create a book");
	}
	struct fh_itch_decoder d;
	fh_itch_decoder_init(&d, 1, 0, NULL);
	uint8_t msg[FH_SIM_MSG_MAX];
	struct fh_event ev[FH_ITCH_MAX_EVENTS];
	uint64_t seq = 0, msgs = 0, undecoded = 0;
	int len;
	while ((len = fh_sim_next(sim, msg, sizeof(msg))) > 0) {
		int n = fh_itch_decode(&d, msg, (size_t)len, ++seq, 0, ev);
		undecoded += n <= 0;
		for (int k = 0; k < n; k++)
			rig_apply(&rg, &ev[k], (seq & 15) == 0);
		msgs++;
		if ((msgs & 262143) == 0) /* now and then every book, touched or not */
			rig_compare_all(&rg);
		if (rg.fails > 8)
			break;
	}
	struct fh_sim_stats ss;
	fh_sim_get_stats(sim, &ss);
	const struct fh_book_stats *st = fh_book_stats(rg.b);
	uint32_t deepest = 0;
	for (uint32_t id = 0; id < rg.ninstr; id++) {
		uint32_t nb = fh_book_level_count(rg.b, id, 'B'), na = fh_book_level_count(rg.b, id, 'S');
		deepest = nb > deepest ? nb : na > deepest ? na : deepest;
	}
	printf("  sim seed %llu, %u symbols: %llu messages (U %llu, E %llu, C %llu, X %llu, D %llu), "
	       "%llu compares, peak %llu orders %llu levels, deepest final side %u levels\n",
	       (unsigned long long)seed, symbols, (unsigned long long)msgs,
	       (unsigned long long)ss.by_type['U'], (unsigned long long)ss.by_type['E'],
	       (unsigned long long)ss.by_type['C'], (unsigned long long)ss.by_type['X'],
	       (unsigned long long)ss.by_type['D'], (unsigned long long)rg.compared,
	       (unsigned long long)st->peak_orders, (unsigned long long)st->peak_levels, deepest);
	FH_CHECK_EQ_U(msgs, messages);
	FH_CHECK_EQ_U(undecoded, 0);
	FH_CHECK(ss.by_type['U'] > 0 && ss.by_type['E'] > 0 && ss.by_type['X'] > 0 &&
		 ss.by_type['C'] > 0);
	rig_compare_all(&rg);
	rig_counters(&rg);
	/* the simulator only names live orders */
	FH_CHECK_EQ_U(fh_book_orphans(rg.b), 0);
	FH_CHECK_EQ_U(fh_book_integrity_warnings(rg.b), 0);
	FH_CHECK_EQ_U(st->live_orders, ss.live_orders);
	FH_CHECK_EQ_U(rg.fails, 0);
	rig_fini(&rg);
	fh_sim_destroy(sim);
}

/* (a) of the acceptance: >= 5 M messages, replaces, partial executions, churn. */
static void test_sim_vs_reference(void)
{
	sim_vs_reference(20261121, 5000000, 1500);
}

/* Few instruments, so books run deep: inserts and deletes far from the top. */
static void test_sim_deep_vs_reference(void)
{
	sim_vs_reference(99, 1000000, 12);
}

static void test_snippet_vs_reference(void)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/itch/12302019_SNIPPET.NASDAQ_ITCH50", fh_test_data_dir());
	FILE *f = fopen(path, "rb");
	if (!f)
		FH_SKIP("real ITCH snippet not found");
	static uint8_t buf[1 << 20];
	size_t len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	struct rig rg;
	if (rig_init(&rg, 65536, 1 << 16, 1 << 16, 10))
		FH_SKIP("cannot create a book");
	struct fh_itch_decoder d;
	fh_itch_decoder_init(&d, 1, 0, NULL);
	struct fh_event ev[FH_ITCH_MAX_EVENTS];
	uint64_t seq = 0;
	size_t off = 0;
	/* Nasdaq day-file framing: 2-byte big-endian length before each message */
	while (off + 2 <= len) {
		size_t ml = ((size_t)buf[off] << 8) | buf[off + 1];
		if (off + 2 + ml > len)
			break;
		int n = fh_itch_decode(&d, buf + off + 2, ml, ++seq, 0, ev);
		for (int k = 0; k < n; k++)
			rig_apply(&rg, &ev[k], true);
		off += 2 + ml;
	}
	FH_CHECK_EQ_U(seq, 1000);
	rig_compare_all(&rg);
	rig_counters(&rg);
	/* the snippet starts mid-day: orders added before it are orphans here */
	printf("  snippet: %llu orphans (E %llu X %llu D %llu U %llu), %llu live orders\n",
	       (unsigned long long)fh_book_orphans(rg.b),
	       (unsigned long long)fh_book_stats(rg.b)->orphan_exec,
	       (unsigned long long)fh_book_stats(rg.b)->orphan_cancel,
	       (unsigned long long)fh_book_stats(rg.b)->orphan_delete,
	       (unsigned long long)fh_book_stats(rg.b)->orphan_replace,
	       (unsigned long long)fh_book_stats(rg.b)->live_orders);
	FH_CHECK(fh_book_orphans(rg.b) > 0);
	FH_CHECK_EQ_U(fh_book_orphans(rg.b), ref_book_counts(rg.r)->orphans);
	FH_CHECK_EQ_U(rg.fails, 0);
	rig_fini(&rg);
}

/* ------------------------------------------------------- no allocation */

#if defined(FH_SANITIZE)
static volatile uint64_t g_mallocs;
static void count_malloc(const volatile void *p, size_t sz)
{
	(void)p;
	(void)sz;
	g_mallocs++;
}
static void count_free(const volatile void *p)
{
	(void)p;
}
#endif

static void test_no_allocation(void)
{
	struct fh_sim_cfg sc = fh_sim_cfg_default();
	sc.seed = 7;
	sc.messages = 400000;
	sc.symbols = 500;
	size_t len = 0;
	uint8_t *day = fh_sim_itch_mem(&sc, &len, NULL);
	if (!day)
		FH_SKIP("simulator unavailable");
	struct fh_book_config cfg;
	struct fh_book *b;
	fh_book_config_default(&cfg);
	cfg.max_instruments = 4096;
	cfg.max_orders = 1 << 18;
	cfg.max_levels = 1 << 17;
	if (fh_book_create(&cfg, &b, NULL, 0)) {
		free(day);
		FH_SKIP("cannot create a book");
	}
	struct fh_itch_decoder d;
	fh_itch_decoder_init(&d, 1, 0, NULL);
	struct fh_event ev[FH_ITCH_MAX_EVENTS], out[FH_BOOK_MAX_OUT], snaps[64];
	uint64_t seq = 0, before = 0, after = 0, produced = 0;
	size_t off = 0;
	bool first = true;
	uint32_t cursor = 0;
#if defined(FH_SANITIZE)
	if (__sanitizer_install_malloc_and_free_hooks(count_malloc, count_free) == 0) {
		free(day);
		fh_book_destroy(b);
		FH_SKIP("sanitizer malloc hooks unavailable");
	}
#elif defined(HAVE_JEMALLOC)
	uint64_t *allocp = NULL;
	size_t sz = sizeof(allocp);
	if (mallctl("thread.allocatedp", &allocp, &sz, NULL, 0) || !allocp) {
		free(day);
		fh_book_destroy(b);
		FH_SKIP("jemalloc thread.allocatedp unavailable");
	}
#else
	free(day);
	fh_book_destroy(b);
	FH_SKIP("no allocation counter in this build (neither jemalloc nor a sanitizer)");
#endif
	while (off + 2 <= len) {
		size_t ml = ((size_t)day[off] << 8) | day[off + 1];
		int n = fh_itch_decode(&d, day + off + 2, ml, ++seq, 0, ev);
		for (int k = 0; k < n; k++) {
			if (k + 1 < n)
				fh_book_prefetch(b, &ev[k + 1]);
			int r = fh_book_apply(b, &ev[k], out);
			produced += r > 0 ? (uint64_t)r : 0;
		}
		if ((seq & 4095) == 0) { /* periodic snapshots and a gap are part of the run */
			produced += fh_book_snapshot_all(b, &cursor, &ev[0], snaps, 64);
			struct fh_event g = ev_feed((seq & 8191) ? FH_FEED_RECOVERED : FH_FEED_GAP,
						    seq, seq);
			produced += (uint64_t)fh_book_apply(b, &g, out);
		}
		off += 2 + ml;
		if (first) {
			first = false;
#if defined(FH_SANITIZE)
			before = g_mallocs;
#elif defined(HAVE_JEMALLOC)
			before = *allocp;
#endif
		}
	}
#if defined(FH_SANITIZE)
	after = g_mallocs;
	__sanitizer_install_malloc_and_free_hooks(NULL, NULL);
#elif defined(HAVE_JEMALLOC)
	after = *allocp;
#endif
	printf("  %llu messages, %llu events out, %llu allocated after the first message (jemalloc: bytes; sanitizer: calls)\n",
	       (unsigned long long)seq, (unsigned long long)produced,
	       (unsigned long long)(after - before));
	FH_CHECK(seq > 100000);
	FH_CHECK(produced > seq);
	FH_CHECK_EQ_U(after - before, 0);
	free(day);
	fh_book_destroy(b);
}

static const struct fh_test_case cases[] = {
	FH_CASE(test_add_aggregates),
	FH_CASE(test_replace_keeps_side),
	FH_CASE(test_exec_to_zero),
	FH_CASE(test_over_cancel),
	FH_CASE(test_orphans_change_nothing),
	FH_CASE(test_locked_crossed_halted),
	FH_CASE(test_top_n_refill),
	FH_CASE(test_deep_churn),
	FH_CASE(test_gap_stale),
	FH_CASE(test_checksum_snapshot),
	FH_CASE(test_passthrough),
	FH_CASE(test_capacity),
	FH_CASE(test_snippet_vs_reference),
	FH_CASE(test_no_allocation),
	FH_CASE(test_sim_deep_vs_reference),
	FH_CASE(test_sim_vs_reference),
	{ 0 },
};

int main(int argc, char **argv)
{
	return fh_test_main(argc, argv, cases);
}
