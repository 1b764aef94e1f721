/* SPDX-License-Identifier: MIT */
/* test_engine.c: engine shard: bars and VWAP against the reference, each detector fires and stays quiet. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "fh_book.h"
#include "fh_engine.h"
#include "fh_itch.h"
#include "fh_sim.h"
#include "fh_test.h"
#include "ref_engine.h"

#define PX(d) ((int64_t)llround((d) * (double)FH_PRICE_SCALE))
#define SEC 1000000000ull
#define MS 1000000ull
#define T0 (34200 * SEC) /* 09:30 since midnight */

/* ---- harness: an engine whose output lands in a growable array ---- */

struct sink {
	struct fh_event *ev;
	size_t n, cap;
	size_t *k; /* reference trade count when each event was emitted */
	size_t cur_k;
};

static void sink_emit(void *arg, const struct fh_event *ev)
{
	struct sink *s = arg;
	if (s->n == s->cap) {
		/* events are 64-byte aligned: grow with aligned_alloc, not realloc */
		size_t cap = s->cap ? s->cap * 2 : 1024;
		struct fh_event *nev = aligned_alloc(FH_EVENT_SIZE, cap * sizeof(*nev));
		s->k = realloc(s->k, cap * sizeof(*s->k));
		if (!nev || !s->k)
			abort();
		if (s->n)
			memcpy(nev, s->ev, s->n * sizeof(*nev));
		free(s->ev);
		s->ev = nev;
		s->cap = cap;
	}
	s->k[s->n] = s->cur_k;
	s->ev[s->n++] = *ev;
}

struct rig {
	struct fh_engine *e;
	void *mem;
	struct sink out;
	uint64_t seq;
};

static int rig_open(struct rig *r, const struct fh_engine_cfg *cfg)
{
	memset(r, 0, sizeof(*r));
	size_t sz = fh_engine_memsize(cfg);
	if (!sz)
		return -EINVAL;
	r->mem = aligned_alloc(64, (sz + 63) / 64 * 64);
	if (!r->mem)
		return -ENOMEM;
	r->e = fh_engine_init(r->mem, cfg);
	if (!r->e) {
		free(r->mem);
		return -EINVAL;
	}
	fh_engine_set_emit(r->e, sink_emit, &r->out);
	return 0;
}

static void rig_close(struct rig *r)
{
	free(r->mem);
	free(r->out.ev);
	free(r->out.k);
}

static void put(struct rig *r, struct fh_event *ev)
{
	ev->seq = ++r->seq;
	fh_engine_process(r->e, ev);
}

static void trade(struct rig *r, uint32_t ins, uint64_t ts, int64_t px, uint64_t qty, uint8_t flags)
{
	struct fh_event ev;
	fh_event_init(&ev, FH_EV_TRADE);
	ev.instrument = ins;
	ev.exch_ts_ns = ts;
	ev.u.trade.price = px;
	ev.u.trade.qty = qty;
	ev.u.trade.kind = FH_TRADE_EXEC;
	ev.u.trade.flags = flags;
	put(r, &ev);
}

static void bbo(struct rig *r, uint32_t ins, uint64_t ts, int64_t bid, int64_t ask)
{
	struct fh_event ev;
	fh_event_init(&ev, FH_EV_BBO);
	ev.instrument = ins;
	ev.exch_ts_ns = ts;
	ev.u.bbo.bid_px = bid;
	ev.u.bbo.ask_px = ask;
	ev.u.bbo.bid_qty = 100;
	ev.u.bbo.ask_qty = 100;
	put(r, &ev);
}

static void status(struct rig *r, uint32_t ins, uint64_t ts, int halted)
{
	struct fh_event ev;
	fh_event_init(&ev, FH_EV_TRADING_STATUS);
	ev.instrument = ins;
	ev.exch_ts_ns = ts;
	ev.u.status.msg_type = 'H';
	ev.u.status.state = halted ? 'H' : 'T';
	ev.u.status.halted = (uint8_t)halted;
	put(r, &ev);
}

static void sys_event(struct rig *r, uint64_t ts, char code)
{
	struct fh_event ev;
	fh_event_init(&ev, FH_EV_SYSTEM);
	ev.instrument = FH_INSTRUMENT_NONE;
	ev.exch_ts_ns = ts;
	ev.u.system.code = code;
	put(r, &ev);
}

static void snapshot(struct rig *r, uint32_t ins, uint64_t ts, uint8_t flags)
{
	struct fh_event ev;
	fh_event_init(&ev, FH_EV_BOOK_SNAPSHOT);
	ev.instrument = ins;
	ev.exch_ts_ns = ts;
	ev.u.snap.flags = flags;
	put(r, &ev);
}

static void feed(struct rig *r, uint32_t ins, uint64_t ts, uint8_t kind)
{
	struct fh_event ev;
	fh_event_init(&ev, FH_EV_FEED_STATUS);
	ev.instrument = ins;
	ev.exch_ts_ns = ts;
	ev.u.feed.kind = kind;
	put(r, &ev);
}

static void l2(struct rig *r, uint32_t ins, uint64_t ts)
{
	struct fh_event ev;
	fh_event_init(&ev, FH_EV_L2_UPDATE);
	ev.instrument = ins;
	ev.exch_ts_ns = ts;
	put(r, &ev);
}

static size_t count_type(const struct rig *r, unsigned type)
{
	size_t n = 0;
	for (size_t i = 0; i < r->out.n; i++)
		n += r->out.ev[i].type == type;
	return n;
}

static size_t count_alerts(const struct rig *r, unsigned kind)
{
	size_t n = 0;
	for (size_t i = 0; i < r->out.n; i++)
		n += r->out.ev[i].type == FH_EV_ALERT && r->out.ev[i].u.alert.rule_kind == kind;
	return n;
}

static const struct fh_event *first_alert(const struct rig *r, unsigned kind)
{
	for (size_t i = 0; i < r->out.n; i++)
		if (r->out.ev[i].type == FH_EV_ALERT && r->out.ev[i].u.alert.rule_kind == kind)
			return &r->out.ev[i];
	return NULL;
}

/* Bars of window wi from the engine output, as reference records. */
static size_t engine_bars(const struct rig *r, unsigned wi, struct ref_engine_bar *out, size_t max,
			  int *pair_errors)
{
	size_t n = 0;
	for (size_t i = 0; i < r->out.n; i++) {
		const struct fh_event *b = &r->out.ev[i];
		if (b->type != FH_EV_BAR)
			continue;
		const struct fh_event *s = i + 1 < r->out.n ? &r->out.ev[i + 1] : NULL;
		if (!s || s->type != FH_EV_BAR_STATS || s->instrument != b->instrument ||
		    s->exch_ts_ns != b->exch_ts_ns) {
			(*pair_errors)++;
			continue;
		}
		if (s->u.stats.window_id != wi)
			continue;
		if (n < max) {
			out[n] = (struct ref_engine_bar){
				.instr = b->instrument,
				.end = b->exch_ts_ns,
				.o = b->u.bar.open,
				.h = b->u.bar.high,
				.l = b->u.bar.low,
				.c = b->u.bar.close,
				.vol = s->u.stats.volume,
				.vwap = s->u.stats.vwap,
				.trades = s->u.stats.trades,
				.order = i,
			};
		}
		n++;
	}
	if (n <= max)
		ref_engine_sort(out, n);
	return n;
}

static int bars_equal(const struct ref_engine_bar *a, const struct ref_engine_bar *b)
{
	return a->instr == b->instr && a->end == b->end && a->o == b->o && a->h == b->h &&
	       a->l == b->l && a->c == b->c && a->vol == b->vol && a->vwap == b->vwap &&
	       a->trades == b->trades;
}

/* Engine bars of every window equal the reference's; returns mismatches. */
static int compare_all_windows(const struct rig *r, const struct fh_engine_cfg *cfg,
			       const struct ref_engine_trade *t, size_t nt, size_t *nbars)
{
	int bad = 0, pair_err = 0;
	size_t max = 400000;
	struct ref_engine_bar *eb = malloc(max * sizeof(*eb)), *rb = malloc(max * sizeof(*rb));
	if (!eb || !rb)
		abort();
	*nbars = 0;
	for (unsigned wi = 0; wi < cfg->n_windows; wi++) {
		const struct fh_engine_window *w = &cfg->windows[wi];
		uint64_t size = w->size_ms * MS;
		uint64_t slide = (w->kind == FH_WINDOW_SLIDING ? w->slide_ms : w->size_ms) * MS;
		size_t ne = engine_bars(r, wi, eb, max, &pair_err);
		size_t nr = ref_engine_bars(t, nt, size, slide, rb, max);
		if (ne != nr) {
			fprintf(stderr, "  window %u: engine %zu bars, reference %zu\n", wi, ne, nr);
			bad++;
		}
		for (size_t i = 0; i < ne && i < nr && i < max; i++) {
			if (!bars_equal(&eb[i], &rb[i])) {
				if (bad < 5)
					fprintf(stderr,
						"  window %u bar %zu: engine instr %u end %llu o %lld c %lld v %llu n %u | ref instr %u end %llu o %lld c %lld v %llu n %u\n",
						wi, i, eb[i].instr, (unsigned long long)eb[i].end,
						(long long)eb[i].o, (long long)eb[i].c,
						(unsigned long long)eb[i].vol, eb[i].trades, rb[i].instr,
						(unsigned long long)rb[i].end, (long long)rb[i].o,
						(long long)rb[i].c, (unsigned long long)rb[i].vol,
						rb[i].trades);
				bad++;
			}
		}
		*nbars += ne;
	}
	free(eb);
	free(rb);
	return bad + pair_err;
}

/* Every VWAP event equals the reference over the trades before it. */
static int compare_vwaps(const struct rig *r, const struct ref_engine_trade *t, size_t *nv)
{
	int bad = 0;
	*nv = 0;
	for (size_t i = 0; i < r->out.n; i++) {
		const struct fh_event *v = &r->out.ev[i];
		if (v->type != FH_EV_VWAP)
			continue;
		uint64_t vol;
		uint32_t k;
		int64_t ref = ref_engine_vwap(t, r->out.k[i], v->instrument, &vol, &k);
		if (ref != v->u.stats.vwap || vol != v->u.stats.volume || k != v->u.stats.trades ||
		    v->u.stats.window_kind != FH_WINDOW_SESSION ||
		    v->u.stats.window_id != FH_ENGINE_SESSION_WINDOW) {
			if (bad < 3)
				fprintf(stderr, "  vwap %zu instr %u k %zu: engine %lld %llu %u ref %lld %llu %u\n",
					i, v->instrument, r->out.k[i], (long long)v->u.stats.vwap,
					(unsigned long long)v->u.stats.volume, v->u.stats.trades,
					(long long)ref, (unsigned long long)vol, k);
			bad++;
		}
		(*nv)++;
	}
	return bad;
}

/* ---- the trade recorder that mirrors the engine's documented semantics ---- */

struct recorder {
	struct ref_engine_trade *t;
	size_t n, cap;
	uint32_t seg[1024];
	uint8_t halted[1024];
	uint64_t clock;
};

static void rec_trade(struct recorder *rc, struct rig *r, uint32_t ins, uint64_t ts, int64_t px,
		      uint64_t qty, uint8_t flags)
{
	r->out.cur_k = rc->n;
	trade(r, ins, ts, px, qty, flags);
	if (ts > rc->clock)
		rc->clock = ts;
	if ((flags & FH_TRADE_F_NON_PRINTABLE) || qty == 0 || px <= 0)
		return;
	if (rc->n == rc->cap) {
		rc->cap = rc->cap ? rc->cap * 2 : 4096;
		rc->t = realloc(rc->t, rc->cap * sizeof(*rc->t));
		if (!rc->t)
			abort();
	}
	rc->t[rc->n++] = (struct ref_engine_trade){ .instr = ins, .seg = rc->seg[ins],
						    .ts = rc->clock, .cut_ts = UINT64_MAX,
						    .px = px, .qty = qty };
}

static void rec_cut(struct recorder *rc, uint32_t ins)
{
	for (size_t i = 0; i < rc->n; i++)
		if (rc->t[i].instr == ins && rc->t[i].seg == rc->seg[ins])
			rc->t[i].cut_ts = rc->clock;
	rc->seg[ins]++;
}

static void rec_status(struct recorder *rc, struct rig *r, uint32_t ins, uint64_t ts, int halted)
{
	r->out.cur_k = rc->n;
	status(r, ins, ts, halted);
	if (ts > rc->clock)
		rc->clock = ts;
	if (halted && !rc->halted[ins])
		rec_cut(rc, ins);
	rc->halted[ins] = (uint8_t)halted;
}

static void rec_end(struct recorder *rc, struct rig *r, uint64_t ts, unsigned n_instr)
{
	r->out.cur_k = rc->n;
	sys_event(r, ts, 'C');
	if (ts > rc->clock)
		rc->clock = ts;
	for (unsigned i = 0; i < n_instr; i++)
		rec_cut(rc, i);
}

static uint64_t rng_state;
static uint64_t rnd(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double urand(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

static void cfg_windows(struct fh_engine_cfg *c)
{
	fh_engine_cfg_default(c);
	c->max_instruments = 64;
	c->n_rules = 0;
	c->windows[4] = (struct fh_engine_window){ FH_WINDOW_SLIDING, 10000, 1000 };
	c->windows[5] = (struct fh_engine_window){ FH_WINDOW_SLIDING, 60000, 60000 };
	c->n_windows = 6;
}

/* ---- cases ---- */

static void test_config(void)
{
	struct fh_engine_cfg c;
	char err[160];

	fh_engine_cfg_default(&c);
	FH_CHECK_EQ_I(fh_engine_cfg_validate(&c, err, sizeof(err)), 0);
	FH_CHECK(fh_engine_memsize(&c) > 0);
	FH_CHECK_EQ_I(c.n_rules, 9);
	for (unsigned k = 1; k < FH_ENGINE_RULE__COUNT; k++)
		FH_CHECK_EQ_I(fh_engine_rule_kind_parse(fh_engine_rule_kind_name(k)), (int)k);
	FH_CHECK_EQ_I(fh_engine_rule_kind_parse("nope"), -EINVAL);

	static const char *const fields[] = {
		"max_instruments", "engine.sources", "listed twice", "size_ms", "slide_ms",
		"kind", "at most 64", "vwap_window", "unknown rule kind", "severity", ".k:",
		"lookback", "window_ms", "k2", "circuit_breaker", "instr_lo", "symbols",
	};
	for (size_t i = 0; i < FH_ARRAY_SIZE(fields); i++) {
		fh_engine_cfg_default(&c);
		switch (i) {
		case 0: c.max_instruments = 0; break;
		case 1: c.n_sources = 0; break;
		case 2: c.n_sources = 2; c.source_ids[1] = c.source_ids[0]; break;
		case 3: c.windows[0].size_ms = 0; break;
		case 4: c.windows[3].slide_ms = 7000; break;
		case 5: c.windows[0].kind = 9; break;
		case 6: c.windows[3].size_ms = 65000; c.windows[3].slide_ms = 1000; break;
		case 7: c.vwap_window = 4; break;
		case 8: c.rules[0].kind = 42; break;
		case 9: c.rules[0].severity = 0; break;
		case 10: c.rules[0].k = 0; break;
		case 11: c.rules[0].lookback = 0; break;
		case 12: c.rules[1].window_ms = 0; break;
		case 13: c.rules[2].k2 = -1; break;
		case 14: c.rules[5].slide_ms = 7000; break;
		case 15: c.rules[0].instr_lo = 5; c.rules[0].instr_hi = 4; break;
		case 16: c.rules[0].n_symbols = 9; break;
		}
		err[0] = 0;
		FH_CHECK_EQ_I(fh_engine_cfg_validate(&c, err, sizeof(err)), -EINVAL);
		if (!strstr(err, fields[i]))
			fprintf(stderr, "  case %zu: '%s' not in '%s'\n", i, fields[i], err);
		FH_CHECK(strstr(err, fields[i]) != NULL);
		FH_CHECK_EQ_U(fh_engine_memsize(&c), 0);
	}
	/* init refuses misaligned memory */
	fh_engine_cfg_default(&c);
	c.max_instruments = 4;
	size_t sz = fh_engine_memsize(&c);
	uint8_t *m = aligned_alloc(64, (sz + 127) / 64 * 64);
	errno = 0;
	FH_CHECK(fh_engine_init(m + 8, &c) == NULL && errno == EINVAL);
	FH_CHECK(fh_engine_init(m, &c) != NULL);
	free(m);
}

/* Hand-built tumbling case with explicit expected values. */
static void test_tumbling_edges(void)
{
	struct fh_engine_cfg c;
	struct rig r;
	fh_engine_cfg_default(&c);
	c.max_instruments = 8;
	c.n_rules = 0;
	c.n_windows = 1;
	c.windows[0] = (struct fh_engine_window){ FH_WINDOW_TUMBLING, 1000, 0 };
	c.vwap_window = 0;
	FH_CHECK_EQ_I(rig_open(&r, &c), 0);

	trade(&r, 1, T0 + 100, PX(10.00), 100, 0);
	trade(&r, 1, T0 + 200, PX(10.50), 300, 0);
	trade(&r, 1, T0 + 300, PX(99.00), 1000, FH_TRADE_F_NON_PRINTABLE); /* excluded */
	trade(&r, 1, T0 + 400, PX(9.50), 0, 0);                             /* zero qty */
	trade(&r, 1, T0 + 500, PX(9.90), 100, 0);
	/* exactly on the boundary: opens the next window and closes the first */
	trade(&r, 1, T0 + SEC, PX(11.00), 50, 0);
	/* a gap of 3 empty windows, then one trade */
	trade(&r, 1, T0 + 5 * SEC + 1, PX(12.00), 10, 0);
	sys_event(&r, T0 + 6 * SEC + 5, 'C');

	const struct fh_event *o = r.out.ev;
	FH_CHECK_EQ_U(count_type(&r, FH_EV_BAR), 3);
	FH_CHECK(r.out.n >= 2 && o[0].type == FH_EV_BAR && o[1].type == FH_EV_BAR_STATS);
	if (r.out.n >= 3) {
		FH_CHECK_EQ_U(o[0].exch_ts_ns, T0 + SEC);
		FH_CHECK_EQ_I(o[0].u.bar.open, PX(10.00));
		FH_CHECK_EQ_I(o[0].u.bar.high, PX(10.50));
		FH_CHECK_EQ_I(o[0].u.bar.low, PX(9.90));
		FH_CHECK_EQ_I(o[0].u.bar.close, PX(9.90));
		FH_CHECK_EQ_U(o[1].u.stats.volume, 500);
		FH_CHECK_EQ_U(o[1].u.stats.trades, 3);
		/* (10*100 + 10.5*300 + 9.9*100) / 500 = 10.28 */
		FH_CHECK_EQ_I(o[1].u.stats.vwap, PX(10.28));
		FH_CHECK_EQ_U(o[1].u.stats.window_ms, 1000);
		FH_CHECK_EQ_U(o[1].u.stats.window_kind, FH_WINDOW_TUMBLING);
		FH_CHECK_EQ_U(o[1].seq, 6); /* closed by the boundary trade */
		FH_CHECK(o[2].type == FH_EV_VWAP);
	}
	/* second bar: the boundary trade alone, ending at T0 + 2 s */
	int found = 0;
	for (size_t i = 0; i + 1 < r.out.n; i++) {
		if (o[i].type == FH_EV_BAR && o[i].exch_ts_ns == T0 + 2 * SEC) {
			found++;
			FH_CHECK_EQ_I(o[i].u.bar.open, PX(11.00));
			FH_CHECK_EQ_U(o[i + 1].u.stats.volume, 50);
		}
		/* no bars for the empty windows */
		if (o[i].type == FH_EV_BAR)
			FH_CHECK(o[i].exch_ts_ns == T0 + SEC || o[i].exch_ts_ns == T0 + 2 * SEC ||
				 o[i].exch_ts_ns == T0 + 6 * SEC);
	}
	FH_CHECK_EQ_I(found, 1);
	const struct fh_engine_stats *st = fh_engine_get_stats(r.e);
	FH_CHECK_EQ_U(st->non_printable, 1);
	FH_CHECK_EQ_U(st->bad_trades, 1);
	FH_CHECK_EQ_U(st->trades, 5);
	/* final session VWAP */
	const struct fh_event *last = &o[r.out.n - 1];
	FH_CHECK(last->type == FH_EV_VWAP);
	FH_CHECK_EQ_U(last->u.stats.volume, 560);
	/* (5140 + 550 + 120) / 560 = 10.375 */
	FH_CHECK_EQ_I(last->u.stats.vwap, PX(10.375));
	rig_close(&r);
}

/* Half away from zero rounding of the VWAP. */
static void test_vwap_rounding(void)
{
	struct fh_engine_cfg c;
	struct rig r;
	fh_engine_cfg_default(&c);
	c.max_instruments = 4;
	c.n_rules = 0;
	c.n_windows = 1;
	c.windows[0] = (struct fh_engine_window){ FH_WINDOW_TUMBLING, 1000, 0 };
	c.vwap_window = -1;
	FH_CHECK_EQ_I(rig_open(&r, &c), 0);
	/* (1 * 1 + 2 * 1) / 2 = 1.5 units -> 2 */
	trade(&r, 0, T0, 1, 1, 0);
	trade(&r, 0, T0 + 1, 2, 1, 0);
	/* (1 * 2 + 2 * 1) / 3 = 1.33 -> 1 */
	trade(&r, 1, T0, 1, 2, 0);
	trade(&r, 1, T0 + 1, 2, 1, 0);
	/* large notional: 9e11 price units * 1e9 shares overflows 64 bits */
	trade(&r, 2, T0, PX(9000.0), 1000000000ull, 0);
	trade(&r, 2, T0 + 2, PX(9000.0) + 1, 1000000000ull, 0);
	sys_event(&r, T0 + 2 * SEC, 'C');
	int seen = 0;
	for (size_t i = 0; i < r.out.n; i++) {
		const struct fh_event *v = &r.out.ev[i];
		if (v->type != FH_EV_BAR_STATS)
			continue;
		seen++;
		if (v->instrument == 0)
			FH_CHECK_EQ_I(v->u.stats.vwap, 2);
		if (v->instrument == 1)
			FH_CHECK_EQ_I(v->u.stats.vwap, 1);
		if (v->instrument == 2) {
			FH_CHECK_EQ_I(v->u.stats.vwap, PX(9000.0) + 1); /* x.5 rounds up */
			FH_CHECK_EQ_U(v->u.stats.volume, 2000000000ull);
		}
	}
	FH_CHECK_EQ_I(seen, 3);
	rig_close(&r);
}

/* Sliding window by hand: 3 s every 1 s. */
static void test_sliding_edges(void)
{
	struct fh_engine_cfg c;
	struct rig r;
	struct recorder rc = { 0 };
	fh_engine_cfg_default(&c);
	c.max_instruments = 8;
	c.n_rules = 0;
	c.n_windows = 1;
	c.windows[0] = (struct fh_engine_window){ FH_WINDOW_SLIDING, 3000, 1000 };
	c.vwap_window = -1;
	FH_CHECK_EQ_I(rig_open(&r, &c), 0);

	rec_trade(&rc, &r, 2, T0 + 500 * MS, PX(20), 100, 0);
	rec_trade(&rc, &r, 2, T0 + 2 * SEC, PX(21), 100, 0); /* on a boundary */
	l2(&r, 3, T0 + 4 * SEC + 1);                          /* clock only */
	rec_trade(&rc, &r, 2, T0 + 10 * SEC, PX(19), 200, 0); /* after an empty stretch */
	rec_end(&rc, &r, T0 + 10 * SEC + 10, 8);

	/* windows ending at T0+1..T0+5 (both, then the second alone), then T0+11 */
	struct ref_engine_bar eb[32];
	int pe = 0;
	size_t n = engine_bars(&r, 0, eb, 32, &pe);
	FH_CHECK_EQ_I(pe, 0);
	FH_CHECK_EQ_U(n, 6);
	uint64_t want_end[] = { 1, 2, 3, 4, 5, 11 };
	uint64_t want_vol[] = { 100, 100, 200, 100, 100, 200 };
	for (size_t i = 0; i < n && i < 6; i++) {
		FH_CHECK_EQ_U(eb[i].end, T0 + want_end[i] * SEC);
		FH_CHECK_EQ_U(eb[i].vol, want_vol[i]);
	}
	if (n >= 3) {
		FH_CHECK_EQ_I(eb[2].o, PX(20));
		FH_CHECK_EQ_I(eb[2].c, PX(21));
		FH_CHECK_EQ_I(eb[2].vwap, PX(20.5));
	}
	size_t nb;
	FH_CHECK_EQ_I(compare_all_windows(&r, &c, rc.t, rc.n, &nb), 0);
	free(rc.t);
	rig_close(&r);
}

/* A halt closes the instrument's windows with partial bars; trading resumes in the same window. */
static void test_halt(void)
{
	struct fh_engine_cfg c;
	struct rig r;
	struct recorder rc = { 0 };
	fh_engine_cfg_default(&c);
	c.max_instruments = 8;
	c.n_rules = 0;
	c.vwap_window = -1;
	FH_CHECK_EQ_I(rig_open(&r, &c), 0);

	rec_trade(&rc, &r, 4, T0 + 10 * SEC, PX(50), 100, 0);
	rec_trade(&rc, &r, 5, T0 + 11 * SEC, PX(60), 100, 0);
	rec_trade(&rc, &r, 4, T0 + 20 * SEC + 300 * MS, PX(51), 100, 0);
	size_t before = count_type(&r, FH_EV_BAR), before_i = r.out.n;
	rec_status(&rc, &r, 4, T0 + 20 * SEC + 500 * MS, 1);
	/* 1 s, 1 min, 5 min and the sliding window: four partial bars for 4, none for 5 */
	FH_CHECK_EQ_U(count_type(&r, FH_EV_BAR) - before, 4);
	FH_CHECK_EQ_U(count_type(&r, FH_EV_VWAP), 1);
	for (size_t i = before_i; i < r.out.n; i++)
		FH_CHECK_EQ_U(r.out.ev[i].instrument, 4);
	rec_status(&rc, &r, 4, T0 + 20 * SEC + 600 * MS, 1); /* still halted: nothing */
	rec_trade(&rc, &r, 4, T0 + 20 * SEC + 700 * MS, PX(52), 300, 0); /* halt cross */
	rec_status(&rc, &r, 4, T0 + 20 * SEC + 800 * MS, 0);
	rec_trade(&rc, &r, 4, T0 + 20 * SEC + 900 * MS, PX(53), 100, 0);
	rec_end(&rc, &r, T0 + 400 * SEC, 8);
	FH_CHECK_EQ_U(fh_engine_get_stats(r.e)->halts, 1);
	size_t nb;
	FH_CHECK_EQ_I(compare_all_windows(&r, &c, rc.t, rc.n, &nb), 0);
	/* two 1 s bars end at T0 + 21 s for instrument 4 (before and after the halt) */
	int n21 = 0;
	for (size_t i = 0; i + 1 < r.out.n; i++)
		if (r.out.ev[i].type == FH_EV_BAR && r.out.ev[i].instrument == 4 &&
		    r.out.ev[i].exch_ts_ns == T0 + 21 * SEC && r.out.ev[i + 1].u.stats.window_id == 0)
			n21++;
	FH_CHECK_EQ_I(n21, 2);
	free(rc.t);
	rig_close(&r);
}

/* A simulated session: many instruments, gaps, boundary trades, halts, late events,
 * non-printables; every bar of every window and every VWAP equals the reference. */
static void run_session(uint64_t seed, unsigned n_instr, unsigned n_events, int with_halts)
{
	struct fh_engine_cfg c;
	struct rig r;
	struct recorder rc = { 0 };
	cfg_windows(&c);
	FH_CHECK_EQ_I(rig_open(&r, &c), 0);
	rng_state = seed;

	double px[64];
	for (unsigned i = 0; i < n_instr; i++)
		px[i] = 10 + 200 * urand();
	uint64_t ts = T0;
	sys_event(&r, ts, 'O');
	for (unsigned k = 0; k < n_events; k++) {
		double u = urand();
		/* time: mostly small steps, sometimes exact boundaries, sometimes long gaps */
		if (u < 0.02)
			ts += (uint64_t)(60 + 400 * urand()) * SEC;
		else if (u < 0.10)
			ts = (ts / SEC + 1) * SEC;
		else if (u < 0.13)
			ts = (ts / (30 * SEC) + 1) * 30 * SEC;
		else
			ts += (uint64_t)(urand() * 300 * MS);
		unsigned ins = (unsigned)(rnd() % n_instr);
		if (ins > 2 && urand() < 0.5)
			ins = (unsigned)(rnd() % 3); /* skewed activity */
		double v = urand();
		uint64_t ets = ts;
		r.out.cur_k = rc.n;
		if (v < 0.01 && ts > T0 + SEC)
			ets = ts - (uint64_t)(urand() * SEC); /* late */
		if (v < 0.55) {
			px[ins] *= 1 + 0.001 * (urand() - 0.5);
			uint8_t fl = urand() < 0.05 ? FH_TRADE_F_NON_PRINTABLE : 0;
			uint64_t q = urand() < 0.01 ? 0 : 1 + rnd() % 1000;
			rec_trade(&rc, &r, ins, ets, PX(px[ins]) / 100 * 100, q, fl);
		} else if (v < 0.85) {
			int64_t b = PX(px[ins]) / 1000000 * 1000000;
			bbo(&r, ins, ets, b, b + 1000000);
			if (ets > rc.clock)
				rc.clock = ets;
		} else if (v < 0.99 || !with_halts) {
			l2(&r, ins, ets);
			if (ets > rc.clock)
				rc.clock = ets;
		} else {
			rec_status(&rc, &r, ins, ets, !rc.halted[ins]);
		}
	}
	rec_end(&rc, &r, ts + 1, n_instr);

	size_t nbars, nv;
	FH_CHECK_EQ_I(compare_all_windows(&r, &c, rc.t, rc.n, &nbars), 0);
	FH_CHECK_EQ_I(compare_vwaps(&r, rc.t, &nv), 0);
	FH_CHECK(nbars > 1000);
	FH_CHECK(nv > 100);
	FH_CHECK_EQ_U(count_type(&r, FH_EV_ALERT), 0);
	printf("  session seed %llu: %zu trades, %zu bars, %zu vwaps, %llu late\n",
	       (unsigned long long)seed, rc.n, nbars, nv,
	       (unsigned long long)fh_engine_get_stats(r.e)->late_events);
	free(rc.t);
	rig_close(&r);
}

static void test_session_vs_reference(void)
{
	run_session(1, 12, 40000, 1);
	run_session(7, 40, 30000, 1);
	run_session(99, 3, 20000, 0);
}

/* Two sources keep their own clocks and instruments; an unknown source is counted. */
static void test_sources(void)
{
	struct fh_engine_cfg c;
	struct rig r;
	fh_engine_cfg_default(&c);
	c.max_instruments = 4;
	c.n_rules = 0;
	c.n_windows = 1;
	c.windows[0] = (struct fh_engine_window){ FH_WINDOW_TUMBLING, 1000, 0 };
	c.vwap_window = -1;
	c.n_sources = 2;
	c.source_ids[0] = 3;
	c.source_ids[1] = 9;
	FH_CHECK_EQ_I(rig_open(&r, &c), 0);
	struct fh_event ev;
	fh_event_init(&ev, FH_EV_TRADE);
	ev.source_id = 3;
	ev.instrument = 1;
	ev.exch_ts_ns = T0;
	ev.u.trade.price = PX(5);
	ev.u.trade.qty = 10;
	fh_engine_process(r.e, &ev);
	ev.source_id = 9;
	ev.exch_ts_ns = 5 * SEC; /* another clock, far behind */
	ev.u.trade.price = PX(7);
	fh_engine_process(r.e, &ev);
	ev.exch_ts_ns = 6 * SEC;
	fh_engine_process(r.e, &ev); /* closes source 9's bar only */
	FH_CHECK_EQ_U(count_type(&r, FH_EV_BAR), 1);
	FH_CHECK(r.out.n > 0 && r.out.ev[0].source_id == 9 && r.out.ev[0].u.bar.open == PX(7));
	ev.source_id = 4;
	fh_engine_process(r.e, &ev);
	FH_CHECK_EQ_U(fh_engine_get_stats(r.e)->unknown_source, 1);
	ev.source_id = 3;
	ev.instrument = 4; /* out of range */
	fh_engine_process(r.e, &ev);
	FH_CHECK_EQ_U(fh_engine_get_stats(r.e)->bad_instrument, 1);
	FH_CHECK_EQ_I(fh_engine_close_session(r.e, 3, T0 + 10), 0);
	FH_CHECK_EQ_I(fh_engine_close_session(r.e, 5, T0 + 10), -ENOENT);
	FH_CHECK_EQ_U(count_type(&r, FH_EV_BAR), 2);
	rig_close(&r);
}

/* ---- detectors ---- */

static void one_rule(struct fh_engine_cfg *c, unsigned kind, double k)
{
	fh_engine_cfg_default(c);
	c->max_instruments = 16;
	c->n_windows = 0;
	c->vwap_window = -1;
	unsigned keep = 0;
	for (unsigned i = 0; i < c->n_rules; i++)
		if (c->rules[i].kind == kind)
			keep = i;
	c->rules[0] = c->rules[keep];
	c->rules[0].k = k;
	c->rules[0].cooldown_ms = 0;
	c->n_rules = 1;
}

/* Noisy but stable trading: price 100 +- 0.05. */
static void calm_trades(struct rig *r, uint32_t ins, uint64_t *ts, unsigned n, double mid,
			uint64_t qty)
{
	for (unsigned i = 0; i < n; i++) {
		*ts += 100 * MS;
		trade(r, ins, *ts, PX(mid + 0.05 * (urand() - 0.5)), qty, 0);
	}
}

static void test_price_spike(void)
{
	struct fh_engine_cfg c;
	struct rig r;
	one_rule(&c, FH_ENGINE_RULE_PRICE_SPIKE, 4.0);
	c.rules[0].min_bps = 100;
	FH_CHECK_EQ_I(rig_open(&r, &c), 0);
	rng_state = 5;
	uint64_t ts = T0;

	/* fires: a 5 % jump after 100 calm trades; value checked against a direct EWMA */
	double xs[200];
	unsigned nx = 0;
	for (unsigned i = 0; i < 100; i++) {
		ts += 100 * MS;
		int64_t p = PX(100 + 0.05 * (urand() - 0.5));
		xs[nx++] = (double)p;
		trade(&r, 1, ts, p, 100, 0);
	}
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_PRICE_SPIKE), 0);
	ts += 100 * MS;
	trade(&r, 1, ts, PX(105), 100, 0);
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_PRICE_SPIKE), 1);
	const struct fh_event *a = first_alert(&r, FH_ENGINE_RULE_PRICE_SPIKE);
	if (a) {
		/* independent EWMA: weights alpha(1-alpha)^j, computed in long double */
		long double al = 2.0L / (c.rules[0].lookback + 1), m = xs[0], var = 0;
		for (unsigned i = 1; i < nx; i++) {
			long double d = xs[i] - m;
			m += al * d;
			var = (1 - al) * (var + al * d * d);
		}
		long double z = fabsl((long double)PX(105) - m) / sqrtl(var);
		FH_CHECK(fabs(a->u.alert.value - (double)z) <= 1e-9 * (double)z);
		FH_CHECK(a->u.alert.threshold == 4.0);
		FH_CHECK_EQ_I(a->u.alert.price, PX(105));
		FH_CHECK_EQ_U(a->u.alert.rule_id, 0);
		FH_CHECK_EQ_U(a->u.alert.severity, c.rules[0].severity);
		FH_CHECK_EQ_U(a->instrument, 1);
		FH_CHECK_EQ_U(a->exch_ts_ns, ts);
	}
	/* must not fire: same noise without the jump on another instrument */
	calm_trades(&r, 2, &ts, 300, 100, 100);
	/* must not fire: huge z but under the 1 % floor (very quiet stock, 0.2 % move) */
	for (unsigned i = 0; i < 100; i++) {
		ts += 100 * MS;
		trade(&r, 3, ts, PX(50) + (int64_t)(i % 2) * 100, 100, 0);
	}
	trade(&r, 3, ts + 1, PX(50.1), 100, 0);
	/* must not fire: fewer than min_samples trades */
	for (unsigned i = 0; i < 5; i++)
		trade(&r, 4, ts + 2 + i, PX(30), 100, 0);
	trade(&r, 4, ts + 10, PX(40), 100, 0);
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_PRICE_SPIKE), 1);
	rig_close(&r);

	/* EWMA stays stable at a large offset (price 1e5 with 1e-4 noise) */
	one_rule(&c, FH_ENGINE_RULE_PRICE_SPIKE, 4.0);
	c.rules[0].min_bps = 0;
	FH_CHECK_EQ_I(rig_open(&r, &c), 0);
	ts = T0;
	for (unsigned i = 0; i < 20000; i++)
		trade(&r, 1, ts += MS, PX(100000) + (int64_t)(i % 3) * 10000, 1, 0);
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_PRICE_SPIKE), 0);
	trade(&r, 1, ts += MS, PX(100000) + 1000000, 1, 0); /* 0.01: ~12 sd */
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_PRICE_SPIKE), 1);
	rig_close(&r);
}

static void test_price_spike_cooldown(void)
{
	struct fh_engine_cfg c;
	struct rig r;
	one_rule(&c, FH_ENGINE_RULE_PRICE_SPIKE, 4.0);
	c.rules[0].cooldown_ms = 5000;
	FH_CHECK_EQ_I(rig_open(&r, &c), 0);
	rng_state = 11;
	uint64_t ts = T0;
	calm_trades(&r, 1, &ts, 100, 100, 100);
	trade(&r, 1, ts += MS, PX(110), 100, 0);
	calm_trades(&r, 1, &ts, 10, 100, 100); /* 1 s later: back to 100 */
	trade(&r, 1, ts += MS, PX(90), 100, 0); /* within the cooldown */
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_PRICE_SPIKE), 1);
	calm_trades(&r, 1, &ts, 200, 100, 100);
	trade(&r, 1, ts += MS, PX(90), 100, 0); /* after it */
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_PRICE_SPIKE), 2);
	rig_close(&r);
}

static void test_volume_surge(void)
{
	struct fh_engine_cfg c;
	struct rig r;
	one_rule(&c, FH_ENGINE_RULE_VOLUME_SURGE, 5.0);
	c.rules[0].window_ms = 1000;
	c.rules[0].min_samples = 10;
	c.rules[0].min_qty = 500;
	c.rules[0].min_trades = 0;
	FH_CHECK_EQ_I(rig_open(&r, &c), 0);
	rng_state = 3;

	/* 20 windows of 200 shares on instruments 1 (surges), 2 (4x, must not), 3 (tiny) */
	for (unsigned w = 0; w < 20; w++)
		for (unsigned i = 0; i < 4; i++) {
			trade(&r, 1, T0 + w * SEC + i * 200 * MS, PX(10), 50, 0);
			trade(&r, 2, T0 + w * SEC + i * 200 * MS + 1, PX(10), 50, 0);
			trade(&r, 3, T0 + w * SEC + i * 200 * MS + 2, PX(10), 1, 0);
		}
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_VOLUME_SURGE), 0);
	uint64_t t = T0 + 20 * SEC;
	for (unsigned i = 0; i < 10; i++) {
		trade(&r, 1, t + i * 10 * MS, PX(10), 150, 0); /* 1500 = 7.5x */
		trade(&r, 2, t + i * 10 * MS + 1, PX(10), 80, 0);  /* 800 = 4x */
		trade(&r, 3, t + i * 10 * MS + 2, PX(10), 10, 0);  /* 100 = 25x, under min_qty */
	}
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_VOLUME_SURGE), 1); /* once per window */
	const struct fh_event *a = first_alert(&r, FH_ENGINE_RULE_VOLUME_SURGE);
	if (a) {
		FH_CHECK_EQ_U(a->instrument, 1);
		FH_CHECK(a->u.alert.value > 5.0 && a->u.alert.value < 7.6);
		FH_CHECK_EQ_U(a->u.alert.window_ms, 1000);
		/* fired on the trade that crossed 5 x 200 = 1000 shares: the 7th (1050) */
		FH_CHECK_EQ_U(a->exch_ts_ns, t + 6 * 10 * MS);
	}
	rig_close(&r);

	/* quiet spells do not shrink the average: after 30 s without trades an
	 * ordinary window is no surge */
	one_rule(&c, FH_ENGINE_RULE_VOLUME_SURGE, 5.0);
	c.rules[0].window_ms = 1000;
	c.rules[0].min_samples = 5;
	c.rules[0].min_qty = 1;
	c.rules[0].min_trades = 0;
	c.rules[0].lookback = 10;
	FH_CHECK_EQ_I(rig_open(&r, &c), 0);
	for (unsigned w = 0; w < 10; w++)
		trade(&r, 1, T0 + w * SEC, PX(10), 100, 0);
	trade(&r, 1, T0 + 40 * SEC, PX(10), 150, 0);
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_VOLUME_SURGE), 0);
	trade(&r, 1, T0 + 41 * SEC, PX(10), 1000, 0); /* 10x */
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_VOLUME_SURGE), 1);
	rig_close(&r);

	/* min_trades: one block print or one sweep at one timestamp is no surge */
	one_rule(&c, FH_ENGINE_RULE_VOLUME_SURGE, 5.0);
	c.rules[0].window_ms = 1000;
	c.rules[0].min_samples = 5;
	c.rules[0].min_qty = 1;
	c.rules[0].min_trades = 5;
	FH_CHECK_EQ_I(rig_open(&r, &c), 0);
	for (unsigned w = 0; w < 10; w++)
		for (uint32_t k = 1; k <= 3; k++)
			trade(&r, k, T0 + w * SEC + k, PX(10), 100, 0);
	trade(&r, 1, T0 + 10 * SEC, PX(10), 5000, 0); /* block */
	for (unsigned i = 0; i < 10; i++)
		trade(&r, 2, T0 + 10 * SEC + 5, PX(10), 500, 0); /* sweep */
	for (unsigned i = 0; i < 10; i++)
		trade(&r, 3, T0 + 10 * SEC + 10 + i * MS, PX(10), 500, 0); /* a real surge */
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_VOLUME_SURGE), 1);
	a = first_alert(&r, FH_ENGINE_RULE_VOLUME_SURGE);
	FH_CHECK(a && a->instrument == 3);
	rig_close(&r);
}

static void test_spike_surge(void)
{
	struct fh_engine_cfg c;
	struct rig r;
	one_rule(&c, FH_ENGINE_RULE_SPIKE_SURGE, 2.0);
	c.rules[0].k2 = 3.0;
	c.rules[0].window_ms = 1000;
	c.rules[0].min_samples = 20;
	c.rules[0].min_qty = 100;
	c.rules[0].min_bps = 100;
	FH_CHECK_EQ_I(rig_open(&r, &c), 0);
	rng_state = 17;
	uint64_t ts = T0;
	/* 10 trades of 10 shares per second, 30 s */
	for (unsigned i = 0; i < 300; i++) {
		ts += 100 * MS;
		int64_t p = PX(100 + 0.05 * (urand() - 0.5));
		trade(&r, 1, ts, p, 10, 0);
		trade(&r, 2, ts + 1, p, 10, 0);
		trade(&r, 3, ts + 2, p, 10, 0);
	}
	/* 1: jump with volume (must fire); 2: jump alone (must not); 3: volume alone (must not) */
	ts = (ts / SEC + 1) * SEC + 1;
	trade(&r, 1, ts, PX(100), 400, 0);
	trade(&r, 1, ts + 1, PX(104), 10, 0);
	trade(&r, 2, ts + 2, PX(104), 10, 0);
	trade(&r, 3, ts + 3, PX(100), 400, 0);
	trade(&r, 3, ts + 4, PX(100.01), 10, 0);
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_SPIKE_SURGE), 1);
	const struct fh_event *a = first_alert(&r, FH_ENGINE_RULE_SPIKE_SURGE);
	FH_CHECK(a && a->instrument == 1 && a->u.alert.value > 2.0 && a->u.alert.price == PX(104));
	rig_close(&r);
}

static void test_spread_widening(void)
{
	struct fh_engine_cfg c;
	struct rig r;
	one_rule(&c, FH_ENGINE_RULE_SPREAD_WIDENING, 3.0);
	c.rules[0].min_samples = 50;
	c.rules[0].hold_ms = 2000;
	c.rules[0].window_ms = 60000;
	c.rules[0].two_sided = 1;
	FH_CHECK_EQ_I(rig_open(&r, &c), 0);
	uint64_t ts = T0;
	/* 30 s of 1-2 cent spreads around 50 on instruments 1..6 */
	for (unsigned i = 0; i < 300; i++) {
		int64_t s = i % 2 ? PX(0.01) : PX(0.02);
		ts += 100 * MS;
		for (uint32_t k = 1; k <= 6; k++)
			bbo(&r, k, ts + k, PX(50), PX(50) + s);
	}
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_SPREAD_WIDENING), 0);
	/* 1: 20 cents on both sides for 3 s (must fire once, 2 s after it began);
	 * 2: the same for 1 s only (must not); 3: 4 cents, 2.7x (must not);
	 * 4: one-sided, ask away 20 cents (must not); 5: a sweep at one timestamp
	 * through wider and wider quotes, then 20 cents (must fire) */
	uint64_t w0 = ts + 100 * MS;
	for (unsigned i = 1; i <= 30; i++) {
		ts += 100 * MS;
		bbo(&r, 1, ts + 1, PX(49.90), PX(50.10));
		if (i <= 10)
			bbo(&r, 2, ts + 2, PX(49.90), PX(50.10));
		else
			bbo(&r, 2, ts + 2, PX(50), PX(50.01));
		bbo(&r, 3, ts + 3, PX(49.99), PX(50.03));
		bbo(&r, 4, ts + 4, PX(50), PX(50.20));
		if (i == 1)
			for (int k = 2; k < 20; k++)
				bbo(&r, 5, ts + 5, PX(50) - k * PX(0.005), PX(50.01) + k * PX(0.005));
		bbo(&r, 5, ts + 5, PX(49.90), PX(50.10));
	}
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_SPREAD_WIDENING), 2);
	const struct fh_event *a = first_alert(&r, FH_ENGINE_RULE_SPREAD_WIDENING);
	FH_CHECK(a && a->instrument == 1 && a->u.alert.value > 10 && a->u.alert.threshold == 3.0);
	FH_CHECK(a && a->exch_ts_ns >= w0 + 2 * SEC && a->exch_ts_ns < w0 + 2 * SEC + 200 * MS);
	FH_CHECK(a && a->u.alert.window_ms == 60000 && a->u.alert.price == FH_PRICE_NONE);
	/* back to normal re-arms; widening again fires again */
	for (unsigned i = 0; i < 100; i++)
		bbo(&r, 1, ts += 100 * MS, PX(50), PX(50.01));
	for (unsigned i = 0; i < 30; i++)
		bbo(&r, 1, ts += 100 * MS, PX(49.90), PX(50.10));
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_SPREAD_WIDENING), 3);
	/* a book one-sided for 10 s re-forms wide: a new reference, no alert */
	bbo(&r, 6, ts += 100 * MS, FH_PRICE_NONE, PX(50.01));
	ts += 10 * SEC;
	for (unsigned i = 0; i < 30; i++)
		bbo(&r, 6, ts += 100 * MS, PX(49.90), PX(50.10));
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_SPREAD_WIDENING), 3);
	rig_close(&r);
}

static void test_price_gap(void)
{
	struct fh_engine_cfg c;
	struct rig r;
	one_rule(&c, FH_ENGINE_RULE_PRICE_GAP, 5.0);
	FH_CHECK_EQ_I(rig_open(&r, &c), 0);
	trade(&r, 1, T0 + 1, PX(100), 10, 0);
	trade(&r, 1, T0 + 2, PX(106), 10, 0); /* +6 % */
	trade(&r, 2, T0 + 3, PX(100), 10, 0);
	trade(&r, 2, T0 + 4, PX(104.99), 10, 0); /* +4.99 %: no */
	trade(&r, 2, T0 + 5, PX(100), 10, 0);    /* -4.75 %: no */
	trade(&r, 3, T0 + 6, PX(100), 10, 0);
	trade(&r, 3, T0 + 7, PX(94), 10, 0); /* -6 % */
	trade(&r, 4, T0 + 8, PX(100), 10, FH_TRADE_F_NON_PRINTABLE);
	trade(&r, 4, T0 + 9, PX(200), 10, 0); /* first printable trade: nothing to compare */
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_PRICE_GAP), 2);
	const struct fh_event *a = first_alert(&r, FH_ENGINE_RULE_PRICE_GAP);
	FH_CHECK(a && a->instrument == 1 && fabs(a->u.alert.value - 6.0) < 1e-9);
	rig_close(&r);
}

static void test_circuit_breaker(void)
{
	struct fh_engine_cfg c;
	struct rig r;
	one_rule(&c, FH_ENGINE_RULE_CIRCUIT_BREAKER, 10.0);
	FH_CHECK_EQ_I(rig_open(&r, &c), 0);
	/* 6 minutes at 100 (a trade every 5 s) on 1, 2 and 3 */
	uint64_t ts = T0;
	for (unsigned i = 0; i < 72; i++) {
		ts += 5 * SEC;
		trade(&r, 1, ts, PX(100), 10, 0);
		trade(&r, 2, ts + 1, PX(100), 10, 0);
		trade(&r, 3, ts + 2, PX(100), 10, 0);
	}
	/* 1 walks up 1 % per 5 s for 60 s: crosses +10 % of the 5-min mean and fires once */
	for (unsigned i = 1; i <= 12; i++) {
		ts += 5 * SEC;
		trade(&r, 1, ts, PX(100 + i), 10, 0);
		trade(&r, 2, ts + 1, PX(100 + (i % 2) * 9), 10, 0); /* +9 %: never */
	}
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_CIRCUIT_BREAKER), 1);
	const struct fh_event *a = first_alert(&r, FH_ENGINE_RULE_CIRCUIT_BREAKER);
	FH_CHECK(a && a->instrument == 1 && a->u.alert.value > 10.0 && a->u.alert.value < 11.5 &&
		 a->u.alert.window_ms == 300000);
	/* 3: -15 % in the first slide of a fresh instrument (no reference yet): no alert */
	trade(&r, 5, ts + 10, PX(100), 10, 0);
	trade(&r, 5, ts + 11, PX(85), 10, 0);
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_CIRCUIT_BREAKER), 1);
	/* 3 drops 12 %: fires (down side) */
	trade(&r, 3, ts + 12, PX(88), 10, 0);
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_CIRCUIT_BREAKER), 2);
	rig_close(&r);
}

static void test_crossed_locked(void)
{
	struct fh_engine_cfg c;
	struct rig r;
	fh_engine_cfg_default(&c);
	c.max_instruments = 8;
	c.n_windows = 0;
	c.vwap_window = -1;
	c.rules[0] = c.rules[6]; /* crossed */
	c.rules[1] = c.rules[7]; /* locked */
	c.n_rules = 2;
	FH_CHECK_EQ_I(rig_open(&r, &c), 0);
	bbo(&r, 1, T0 + 1, PX(10.00), PX(10.01));
	FH_CHECK_EQ_U(count_type(&r, FH_EV_ALERT), 0);
	bbo(&r, 1, T0 + 2, PX(10.02), PX(10.01)); /* crossed */
	bbo(&r, 1, T0 + 3, PX(10.03), PX(10.01)); /* still crossed: no new alert */
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_CROSSED_BOOK), 1);
	const struct fh_event *a = first_alert(&r, FH_ENGINE_RULE_CROSSED_BOOK);
	FH_CHECK(a && fabs(a->u.alert.value - 0.01) < 1e-12 && a->u.alert.severity == FH_SEV_CRITICAL);
	bbo(&r, 1, T0 + 4, PX(10.01), PX(10.01)); /* locked */
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_LOCKED_BOOK), 1);
	bbo(&r, 1, T0 + 5, PX(10.00), PX(10.01));
	bbo(&r, 1, T0 + 6, PX(10.02), PX(10.01)); /* crossed again */
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_CROSSED_BOOK), 2);
	/* halted: crossed and locked books are expected, no alert */
	status(&r, 2, T0 + 7, 1);
	bbo(&r, 2, T0 + 8, PX(10.02), PX(10.01));
	bbo(&r, 2, T0 + 9, PX(10.01), PX(10.01));
	snapshot(&r, 3, T0 + 10, FH_BOOK_F_CROSSED | FH_BOOK_F_HALTED);
	FH_CHECK_EQ_U(count_type(&r, FH_EV_ALERT), 3);
	/* snapshot flags: crossed fires once while it stays */
	snapshot(&r, 4, T0 + 11, FH_BOOK_F_CROSSED);
	snapshot(&r, 4, T0 + 12, FH_BOOK_F_CROSSED);
	bbo(&r, 4, T0 + 13, PX(10.02), PX(10.01));
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_CROSSED_BOOK), 3);
	/* one-sided book is neither */
	bbo(&r, 5, T0 + 14, FH_PRICE_NONE, PX(10.01));
	bbo(&r, 5, T0 + 15, PX(10.01), FH_PRICE_NONE);
	FH_CHECK_EQ_U(count_type(&r, FH_EV_ALERT), 4);
	rig_close(&r);
}

static void test_stale(void)
{
	struct fh_engine_cfg c;
	struct rig r;
	one_rule(&c, FH_ENGINE_RULE_STALE_BOOK, 0);
	FH_CHECK_EQ_I(rig_open(&r, &c), 0);
	feed(&r, 1, T0 + 1, FH_FEED_STALE);
	feed(&r, 1, T0 + 2, FH_FEED_STALE); /* still stale */
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_STALE_BOOK), 1);
	feed(&r, 1, T0 + 3, FH_FEED_FRESH);
	feed(&r, 1, T0 + 4, FH_FEED_STALE);
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_STALE_BOOK), 2);
	snapshot(&r, 2, T0 + 5, FH_BOOK_F_STALE);
	snapshot(&r, 2, T0 + 6, FH_BOOK_F_STALE);
	snapshot(&r, 3, T0 + 7, 0);
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_STALE_BOOK), 3);
	feed(&r, FH_INSTRUMENT_NONE, T0 + 8, FH_FEED_STALE); /* whole source */
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_STALE_BOOK), 4);
	FH_CHECK(r.out.ev[r.out.n - 1].instrument == FH_INSTRUMENT_NONE);
	feed(&r, 5, T0 + 9, FH_FEED_GAP); /* a gap alone is not stale */
	FH_CHECK_EQ_U(count_alerts(&r, FH_ENGINE_RULE_STALE_BOOK), 4);
	rig_close(&r);
}

static void test_scope(void)
{
	struct fh_engine_cfg c;
	struct rig r;
	one_rule(&c, FH_ENGINE_RULE_PRICE_GAP, 5.0);
	c.rules[1] = c.rules[0];
	c.rules[0].n_symbols = 1;
	strcpy(c.rules[0].symbols[0], "AAPL");
	c.rules[1].instr_lo = 7;
	c.rules[1].instr_hi = 8;
	c.rules[1].severity = FH_SEV_CRITICAL;
	c.n_rules = 2;
	FH_CHECK_EQ_I(rig_open(&r, &c), 0);
	struct fh_event ev;
	fh_event_init(&ev, FH_EV_INSTRUMENT);
	ev.instrument = 5;
	memcpy(ev.u.instr.symbol, "AAPL", 4);
	put(&r, &ev);
	ev.instrument = 6;
	memcpy(ev.u.instr.symbol, "AAPLX", 5);
	put(&r, &ev);
	for (uint32_t i = 4; i <= 9; i++) {
		trade(&r, i, T0 + i, PX(100), 10, 0);
		trade(&r, i, T0 + i + 100, PX(110), 10, 0);
	}
	FH_CHECK_EQ_U(count_type(&r, FH_EV_ALERT), 3);
	unsigned seen = 0;
	for (size_t i = 0; i < r.out.n; i++) {
		const struct fh_event *a = &r.out.ev[i];
		if (a->type != FH_EV_ALERT)
			continue;
		if (a->instrument == 5 && a->u.alert.rule_id == 0)
			seen |= 1;
		if ((a->instrument == 7 || a->instrument == 8) && a->u.alert.rule_id == 1 &&
		    a->u.alert.severity == FH_SEV_CRITICAL)
			seen |= a->instrument == 7 ? 2 : 4;
	}
	FH_CHECK_EQ_U(seen, 7);
	rig_close(&r);
}

/* The default rule set stays silent over a clean simulated session. */
static void test_clean_session_default_rules(void)
{
	struct fh_engine_cfg c;
	struct rig r;
	fh_engine_cfg_default(&c);
	c.max_instruments = 64;
	FH_CHECK_EQ_I(rig_open(&r, &c), 0);
	rng_state = 2024;
	double px[20], vol[20];
	for (unsigned i = 0; i < 20; i++) {
		px[i] = 5 + 300 * urand();
		vol[i] = 0.0002 + 0.001 * urand();
	}
	uint64_t ts = T0;
	for (unsigned k = 0; k < 400000; k++) {
		ts += (uint64_t)(urand() * 60 * MS);
		unsigned i = (unsigned)(rnd() % 20);
		double g = 0;
		for (int j = 0; j < 12; j++)
			g += urand();
		px[i] *= 1 + vol[i] * (g - 6) * 0.1;
		int64_t tick = PX(0.01);
		int64_t bid = PX(px[i]) / tick * tick;
		if (urand() < 0.2)
			trade(&r, i, ts, bid + (urand() < 0.5 ? 0 : tick), 100 * (1 + rnd() % 5), 0);
		else
			bbo(&r, i, ts, bid, bid + tick * (int64_t)(1 + rnd() % 3));
	}
	sys_event(&r, ts + 1, 'C');
	FH_CHECK_EQ_U(count_type(&r, FH_EV_ALERT), 0);
	if (count_type(&r, FH_EV_ALERT))
		for (size_t i = 0; i < r.out.n; i++)
			if (r.out.ev[i].type == FH_EV_ALERT) {
				char b[256];
				fh_event_format(&r.out.ev[i], b, sizeof(b));
				fprintf(stderr, "  %s\n", b);
				break;
			}
	FH_CHECK(count_type(&r, FH_EV_BAR) > 1000);
	rig_close(&r);
}

/* A second session after 'C' starts from a clean state (clock, windows, stats). */
static void test_new_session(void)
{
	struct fh_engine_cfg c;
	struct rig r;
	fh_engine_cfg_default(&c);
	c.max_instruments = 4;
	c.n_rules = 0;
	c.n_windows = 1;
	c.windows[0] = (struct fh_engine_window){ FH_WINDOW_TUMBLING, 60000, 0 };
	c.vwap_window = -1;
	FH_CHECK_EQ_I(rig_open(&r, &c), 0);
	trade(&r, 1, T0 + 10 * SEC, PX(10), 10, 0);
	sys_event(&r, T0 + 20 * SEC, 'C');
	/* next day, timestamps since midnight start again */
	sys_event(&r, 3600 * SEC, 'O');
	trade(&r, 1, 3600 * SEC + 5, PX(20), 30, 0);
	trade(&r, 1, 3660 * SEC, PX(20), 30, 0);
	FH_CHECK_EQ_U(fh_engine_get_stats(r.e)->late_events, 0);
	size_t nv = 0;
	for (size_t i = 0; i < r.out.n; i++) {
		const struct fh_event *o = &r.out.ev[i];
		if (o->type == FH_EV_BAR_STATS && o->exch_ts_ns == 3660 * SEC)
			FH_CHECK_EQ_U(o->u.stats.volume, 30);
		if (o->type == FH_EV_VWAP) {
			nv++;
			FH_CHECK_EQ_U(o->u.stats.volume, 10);
		}
	}
	FH_CHECK_EQ_U(nv, 1);
	FH_CHECK_EQ_U(count_type(&r, FH_EV_BAR), 2);
	rig_close(&r);
}

/* ---- end to end: simulator -> ITCH decoder -> L2 book -> engine ---- */

struct pipeline {
	struct fh_itch_decoder dec;
	struct fh_book *book;
	void *book_mem;
	struct rig r;
	struct recorder rc; /* printable trades as the engine saw them */
	uint64_t messages;
};

/* Feeds one decoded event (and what the book derives from it) to the engine.
 * The book passes trades through and derives BBO / trades from order flow; it
 * does not forward system, trading-status or directory events, so those go
 * to the engine straight from the decoder. */
static void pipeline_event(struct pipeline *p, const struct fh_event *ev)
{
	struct fh_event out[FH_BOOK_MAX_OUT];

	if (ev->type == FH_EV_SYSTEM || ev->type == FH_EV_TRADING_STATUS ||
	    ev->type == FH_EV_INSTRUMENT) {
		p->r.out.cur_k = p->rc.n;
		fh_engine_process(p->r.e, ev);
		if (ev->exch_ts_ns > p->rc.clock)
			p->rc.clock = ev->exch_ts_ns;
		if (ev->type == FH_EV_TRADING_STATUS && ev->instrument < 64 * 1024) {
			uint32_t i = ev->instrument;
			if (i < FH_ARRAY_SIZE(p->rc.seg)) {
				if (ev->u.status.halted && !p->rc.halted[i])
					rec_cut(&p->rc, i);
				p->rc.halted[i] = ev->u.status.halted;
			}
		}
		if (ev->type == FH_EV_SYSTEM && ev->u.system.code == 'C')
			for (uint32_t i = 0; i < FH_ARRAY_SIZE(p->rc.seg); i++)
				rec_cut(&p->rc, i);
	}
	int n = fh_book_apply(p->book, ev, out);
	for (int i = 0; i < n; i++) {
		const struct fh_event *o = &out[i];
		p->r.out.cur_k = p->rc.n;
		fh_engine_process(p->r.e, o);
		if (o->exch_ts_ns > p->rc.clock)
			p->rc.clock = o->exch_ts_ns;
		if (o->type == FH_EV_TRADE && o->instrument < FH_ARRAY_SIZE(p->rc.seg) &&
		    !(o->u.trade.flags & FH_TRADE_F_NON_PRINTABLE) && o->u.trade.qty &&
		    o->u.trade.price > 0) {
			if (p->rc.n == p->rc.cap) {
				p->rc.cap = p->rc.cap ? p->rc.cap * 2 : 4096;
				p->rc.t = realloc(p->rc.t, p->rc.cap * sizeof(*p->rc.t));
				if (!p->rc.t)
					abort();
			}
			p->rc.t[p->rc.n++] = (struct ref_engine_trade){
				.instr = o->instrument, .seg = p->rc.seg[o->instrument],
				.ts = p->rc.clock, .cut_ts = UINT64_MAX,
				.px = o->u.trade.price, .qty = o->u.trade.qty };
		}
	}
}

static int pipeline_open(struct pipeline *p, const struct fh_engine_cfg *ec)
{
	struct fh_book_config bc;

	memset(p, 0, sizeof(*p));
	fh_book_config_default(&bc);
	bc.max_orders = 1u << 18;
	bc.max_instruments = ec->max_instruments;
	bc.max_levels = 1u << 18;
	size_t bsz = fh_book_memsize(&bc);
	if (!bsz)
		return -EINVAL;
	p->book_mem = aligned_alloc(64, (bsz + 63) / 64 * 64);
	if (!p->book_mem)
		return -ENOMEM;
	p->book = fh_book_init(p->book_mem, &bc);
	if (!p->book || rig_open(&p->r, ec))
		return -EINVAL;
	fh_itch_decoder_init(&p->dec, 0, 0, NULL);
	return 0;
}

static void pipeline_msg(struct pipeline *p, const uint8_t *msg, size_t len)
{
	struct fh_event evs[FH_ITCH_MAX_EVENTS];
	int n = fh_itch_decode(&p->dec, msg, len, ++p->messages, 0, evs);
	for (int i = 0; i < n; i++)
		pipeline_event(p, &evs[i]);
}

/* Runs a whole simulated session; returns 0 or -errno. *simp is kept for its truth. */
static int pipeline_run(struct pipeline *p, const struct fh_sim_cfg *sc,
			const struct fh_engine_cfg *ec, struct fh_sim **simp)
{
	uint8_t msg[FH_SIM_MSG_MAX];
	int rc = pipeline_open(p, ec);
	if (rc)
		return rc;
	struct fh_sim *sim = fh_sim_create(sc);
	if (!sim)
		return -errno;
	for (;;) {
		int len = fh_sim_next(sim, msg, sizeof(msg));
		if (len <= 0)
			break;
		pipeline_msg(p, msg, (size_t)len);
	}
	*simp = sim;
	return 0;
}

static void pipeline_free(struct pipeline *p, struct fh_sim *sim)
{
	if (sim)
		fh_sim_destroy(sim);
	free(p->book_mem);
	free(p->rc.t);
	rig_close(&p->r);
}

static unsigned rule_for(enum fh_sim_anomaly k)
{
	switch (k) {
	case FH_SIM_AN_PRICE_SPIKE: return FH_ENGINE_RULE_PRICE_SPIKE;
	case FH_SIM_AN_VOLUME_SURGE: return FH_ENGINE_RULE_VOLUME_SURGE;
	case FH_SIM_AN_SPIKE_SURGE: return FH_ENGINE_RULE_SPIKE_SURGE;
	case FH_SIM_AN_SPREAD_WIDENING: return FH_ENGINE_RULE_SPREAD_WIDENING;
	case FH_SIM_AN_PRICE_GAP: return FH_ENGINE_RULE_PRICE_GAP;
	case FH_SIM_AN_CIRCUIT_BREAKER: return FH_ENGINE_RULE_CIRCUIT_BREAKER;
	default: return FH_ENGINE_RULE_NONE;
	}
}

#define SIM_SYMBOLS 400
#define SIM_MESSAGES 2000000ull
#define SIM_SLACK_NS (1800 * SEC) /* after an anomaly: its consequences (rebuilt book, re-converging stats) */

/* Seed of the simulated sessions (FH_ENGINE_SIM_SEED overrides, to explore others). */
static uint64_t sim_seed(void)
{
	const char *v = getenv("FH_ENGINE_SIM_SEED");
	return v && *v ? strtoull(v, NULL, 0) : 42;
}

static void print_alert(const char *why, const struct fh_event *a)
{
	char b[256];
	fh_event_format(a, b, sizeof(b));
	fprintf(stderr, "  %s: %s %s\n", why, fh_engine_rule_kind_name(a->u.alert.rule_kind), b);
}

/* Every anomaly of the truth is reported by its rule on its instrument inside
 * its interval, with the rule's window; every alert is explained by an
 * anomaly on the same instrument (or, without anomalies, there is none).
 * Returns the number of violations. */
static int check_truth(const struct pipeline *p, const struct fh_engine_cfg *ec,
		       const struct fh_sim_truth *t, size_t nt, size_t *foundp, size_t *alertsp)
{
	size_t found = 0;
	for (size_t k = 0; k < nt; k++) {
		unsigned rk = rule_for(t[k].kind);
		int hit = 0;
		for (size_t i = 0; i < p->r.out.n && !hit; i++) {
			const struct fh_event *a = &p->r.out.ev[i];
			hit = a->type == FH_EV_ALERT && a->u.alert.rule_kind == rk &&
			      a->instrument == t[k].locate && a->exch_ts_ns >= t[k].start_ns &&
			      a->exch_ts_ns <= t[k].end_ns && a->u.alert.rule_id < ec->n_rules &&
			      ec->rules[a->u.alert.rule_id].kind == rk &&
			      a->u.alert.window_ms == ec->rules[a->u.alert.rule_id].window_ms;
		}
		if (!hit)
			fprintf(stderr, "  missed: %s locate %u %s [%llu, %llu]\n",
				fh_sim_anomaly_name(t[k].kind), t[k].locate, t[k].symbol,
				(unsigned long long)t[k].start_ns, (unsigned long long)t[k].end_ns);
		found += hit;
	}
	size_t unexplained = 0, alerts = 0;
	for (size_t i = 0; i < p->r.out.n; i++) {
		const struct fh_event *a = &p->r.out.ev[i];
		if (a->type != FH_EV_ALERT)
			continue;
		alerts++;
		int ok = 0;
		for (size_t k = 0; k < nt && !ok; k++)
			ok = a->instrument == t[k].locate && a->exch_ts_ns >= t[k].start_ns &&
			     a->exch_ts_ns <= t[k].end_ns + SIM_SLACK_NS;
		if (!ok && unexplained++ < 5)
			print_alert("unexplained", a);
	}
	*foundp = found;
	*alertsp = alerts;
	return (int)(nt - found + unexplained);
}

/* Every injected anomaly is reported by its rule on its instrument inside its
 * interval; every alert is explained by an anomaly on the same instrument;
 * bars and VWAP over the decoded trades equal the reference. */
static void test_sim_anomalies(void)
{
	struct fh_sim_cfg sc = fh_sim_cfg_default();
	struct fh_engine_cfg ec;
	struct pipeline p;
	struct fh_sim *sim = NULL;

	sc.seed = sim_seed();
	sc.symbols = SIM_SYMBOLS;
	sc.messages = SIM_MESSAGES;
	sc.anomalies = 12; /* two of each kind */
	fh_engine_cfg_default(&ec);
	ec.max_instruments = SIM_SYMBOLS + 2;
	FH_CHECK_EQ_I(pipeline_run(&p, &sc, &ec, &sim), 0);
	if (!sim) {
		pipeline_free(&p, sim);
		return;
	}
	const struct fh_sim_truth *t;
	size_t nt = fh_sim_truth(sim, &t);
	FH_CHECK_EQ_U(nt, 12);
	size_t found, alerts;
	FH_CHECK_EQ_I(check_truth(&p, &ec, t, nt, &found, &alerts), 0);
	/* bars and VWAP of the decoded session against the reference */
	size_t nbars, nv;
	FH_CHECK_EQ_I(compare_all_windows(&p.r, &ec, p.rc.t, p.rc.n, &nbars), 0);
	FH_CHECK_EQ_I(compare_vwaps(&p.r, p.rc.t, &nv), 0);
	FH_CHECK(p.rc.n > 10000);
	printf("  sim: %llu messages, %zu trades, %zu bars, %zu vwaps, %zu alerts, %zu/%zu anomalies found\n",
	       (unsigned long long)p.messages, p.rc.n, nbars, nv, alerts, found, nt);
	pipeline_free(&p, sim);
}

/* The same session without injection raises no alert. */
static void test_sim_clean(void)
{
	struct fh_sim_cfg sc = fh_sim_cfg_default();
	struct fh_engine_cfg ec;
	struct pipeline p;
	struct fh_sim *sim = NULL;

	sc.seed = sim_seed();
	sc.symbols = SIM_SYMBOLS;
	sc.messages = SIM_MESSAGES;
	fh_engine_cfg_default(&ec);
	ec.max_instruments = SIM_SYMBOLS + 2;
	FH_CHECK_EQ_I(pipeline_run(&p, &sc, &ec, &sim), 0);
	size_t alerts = 0;
	for (size_t i = 0; i < p.r.out.n; i++)
		if (p.r.out.ev[i].type == FH_EV_ALERT && (alerts++ < 10 || getenv("FH_ENGINE_VERBOSE")))
			print_alert("clean session alert", &p.r.out.ev[i]);
	FH_CHECK_EQ_U(alerts, 0);
	for (unsigned k = 1; k < FH_ENGINE_RULE__COUNT; k++)
		if (count_alerts(&p.r, k))
			fprintf(stderr, "  %s: %zu\n", fh_engine_rule_kind_name(k), count_alerts(&p.r, k));
	FH_CHECK(count_type(&p.r, FH_EV_BAR) > 1000);
	printf("  clean: %llu messages, %zu trades, %zu alerts\n", (unsigned long long)p.messages,
	       p.rc.n, alerts);
	pipeline_free(&p, sim);
}

/* Parses truth lines `<kind> <locate> <symbol> <start_ns> <end_ns>`; returns the count or -1. */
static long read_truth(const char *path, struct fh_sim_truth *t, size_t max)
{
	FILE *f = fopen(path, "r");
	char kind[32], sym[9];
	unsigned loc;
	unsigned long long a, b;
	long n = 0;

	if (!f)
		return -1;
	while (fscanf(f, "%31s %u %8s %llu %llu", kind, &loc, sym, &a, &b) == 5) {
		int k = -1;
		for (int i = 0; i < FH_SIM_AN__COUNT; i++)
			if (!strcmp(kind, fh_sim_anomaly_name((enum fh_sim_anomaly)i)))
				k = i;
		if (k < 0 || (size_t)n >= max) {
			fclose(f);
			return -1;
		}
		t[n] = (struct fh_sim_truth){ .kind = (enum fh_sim_anomaly)k, .locate = (uint16_t)loc,
					      .start_ns = a, .end_ns = b };
		snprintf(t[n].symbol, sizeof(t[n].symbol), "%s", sym);
		n++;
	}
	fclose(f);
	return n;
}

/* Day file (2-byte big-endian length before each message) through the pipeline. */
static int run_day_file(struct pipeline *p, const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t hdr[2], msg[256];
	if (!f)
		return -errno;
	while (fread(hdr, 1, 2, f) == 2) {
		size_t len = (size_t)hdr[0] << 8 | hdr[1];
		if (len > sizeof(msg) || fread(msg, 1, len, f) != len) {
			fclose(f);
			return -EIO;
		}
		pipeline_msg(p, msg, len);
	}
	fclose(f);
	return 0;
}

/*
 * The simulator's files: a day file and its truth list, from the fh-sim tool
 * (FH_ENGINE_ITCH and FH_ENGINE_TRUTH, set by tests/e2e_engine_sim.sh) or, by
 * default, written here through the library. With an empty truth list the
 * session must raise no alert at all.
 */
static void test_day_file(void)
{
	const char *itch = getenv("FH_ENGINE_ITCH"), *truth = getenv("FH_ENGINE_TRUTH");
	char ipath[96], tpath[96];
	struct fh_engine_cfg ec;
	struct pipeline p;
	struct fh_sim_truth t[256];

	if (!itch || !truth) {
		struct fh_sim_cfg sc = fh_sim_cfg_default();
		sc.seed = sim_seed() + 1;
		sc.symbols = SIM_SYMBOLS;
		sc.messages = SIM_MESSAGES / 2;
		sc.anomalies = 6;
		snprintf(ipath, sizeof(ipath), "/tmp/fh-test-engine-%d.itch", (int)getpid());
		snprintf(tpath, sizeof(tpath), "/tmp/fh-test-engine-%d.truth", (int)getpid());
		struct fh_sim *sim = fh_sim_create(&sc);
		FILE *df = fopen(ipath, "wb"), *tf = fopen(tpath, "w");
		FH_CHECK(sim && df && tf);
		if (sim && df && tf) {
			/* the truth lists what was injected: write it after the session */
			FH_CHECK_EQ_I(fh_sim_write_itch(sim, df), 0);
			FH_CHECK_EQ_I(fh_sim_write_truth(sim, tf), 0);
		}
		if (sim)
			fh_sim_destroy(sim);
		if (df)
			fclose(df);
		if (tf)
			fclose(tf);
		itch = ipath;
		truth = tpath;
	} else {
		ipath[0] = 0;
	}
	long nt = read_truth(truth, t, FH_ARRAY_SIZE(t));
	FH_CHECK(nt >= 0);
	fh_engine_cfg_default(&ec);
	/* stock locates run from 1 to the number of symbols */
	const char *nsym = getenv("FH_ENGINE_SYMBOLS");
	ec.max_instruments = (nsym && *nsym ? (uint32_t)strtoul(nsym, NULL, 0) : SIM_SYMBOLS) + 2;
	FH_CHECK_EQ_I(pipeline_open(&p, &ec), 0);
	FH_CHECK_EQ_I(run_day_file(&p, itch), 0);
	size_t found = 0, alerts = 0;
	if (nt >= 0)
		FH_CHECK_EQ_I(check_truth(&p, &ec, t, (size_t)nt, &found, &alerts), 0);
	FH_CHECK(p.messages > 1000);
	FH_CHECK_EQ_U(p.dec.rejects[FH_ITCH_REJ_BAD_LENGTH] + p.dec.rejects[FH_ITCH_REJ_UNKNOWN_TYPE], 0);
	printf("  %s: %llu messages, %zu alerts, %zu/%ld anomalies found\n", itch,
	       (unsigned long long)p.messages, alerts, found, nt);
	pipeline_free(&p, NULL);
	if (ipath[0]) {
		unlink(ipath);
		unlink(tpath);
	}
}

static const struct fh_test_case cases[] = {
	FH_CASE(test_config),
	FH_CASE(test_tumbling_edges),
	FH_CASE(test_vwap_rounding),
	FH_CASE(test_sliding_edges),
	FH_CASE(test_halt),
	FH_CASE(test_session_vs_reference),
	FH_CASE(test_sources),
	FH_CASE(test_price_spike),
	FH_CASE(test_price_spike_cooldown),
	FH_CASE(test_volume_surge),
	FH_CASE(test_spike_surge),
	FH_CASE(test_spread_widening),
	FH_CASE(test_price_gap),
	FH_CASE(test_circuit_breaker),
	FH_CASE(test_crossed_locked),
	FH_CASE(test_stale),
	FH_CASE(test_scope),
	FH_CASE(test_clean_session_default_rules),
	FH_CASE(test_new_session),
	FH_CASE(test_sim_anomalies),
	FH_CASE(test_sim_clean),
	FH_CASE(test_day_file),
	{ 0 },
};

int main(int argc, char **argv)
{
	return fh_test_main(argc, argv, cases);
}
