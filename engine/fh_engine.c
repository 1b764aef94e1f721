/* SPDX-License-Identifier: MIT */
/* fh_engine.c: engine shard config, layout, window closes and alert emission (cold paths). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fh_engine.h"

#define NS_PER_MS 1000000ull

static const char *const rule_names[FH_ENGINE_RULE__COUNT] = {
	[FH_ENGINE_RULE_NONE] = "none",
	[FH_ENGINE_RULE_PRICE_SPIKE] = "price_spike",
	[FH_ENGINE_RULE_VOLUME_SURGE] = "volume_surge",
	[FH_ENGINE_RULE_SPIKE_SURGE] = "spike_surge",
	[FH_ENGINE_RULE_SPREAD_WIDENING] = "spread_widening",
	[FH_ENGINE_RULE_PRICE_GAP] = "price_gap",
	[FH_ENGINE_RULE_CIRCUIT_BREAKER] = "circuit_breaker",
	[FH_ENGINE_RULE_CROSSED_BOOK] = "crossed_book",
	[FH_ENGINE_RULE_LOCKED_BOOK] = "locked_book",
	[FH_ENGINE_RULE_STALE_BOOK] = "stale_book",
};

const char *fh_engine_rule_kind_name(unsigned kind)
{
	return kind < FH_ENGINE_RULE__COUNT && kind ? rule_names[kind] : "unknown";
}

int fh_engine_rule_kind_parse(const char *name)
{
	for (unsigned k = 1; k < FH_ENGINE_RULE__COUNT; k++)
		if (name && strcmp(name, rule_names[k]) == 0)
			return (int)k;
	return -EINVAL;
}

static bool is_trade_rule(unsigned kind)
{
	return kind == FH_ENGINE_RULE_PRICE_SPIKE || kind == FH_ENGINE_RULE_VOLUME_SURGE ||
	       kind == FH_ENGINE_RULE_SPIKE_SURGE || kind == FH_ENGINE_RULE_PRICE_GAP ||
	       kind == FH_ENGINE_RULE_CIRCUIT_BREAKER;
}

static bool is_book_rule(unsigned kind)
{
	return kind == FH_ENGINE_RULE_CROSSED_BOOK || kind == FH_ENGINE_RULE_LOCKED_BOOK ||
	       kind == FH_ENGINE_RULE_STALE_BOOK;
}

static void add_rule(struct fh_engine_cfg *c, unsigned kind, unsigned sev, double k)
{
	struct fh_engine_rule *r = &c->rules[c->n_rules++];
	memset(r, 0, sizeof(*r));
	r->kind = (uint8_t)kind;
	r->severity = (uint8_t)sev;
	r->k = k;
}

void fh_engine_cfg_default(struct fh_engine_cfg *c)
{
	struct fh_engine_rule *r;

	memset(c, 0, sizeof(*c));
	c->max_instruments = 10000;
	c->n_sources = 1;
	c->source_ids[0] = 0;
	c->windows[0] = (struct fh_engine_window){ FH_WINDOW_TUMBLING, 1000, 0 };
	c->windows[1] = (struct fh_engine_window){ FH_WINDOW_TUMBLING, 60000, 0 };
	c->windows[2] = (struct fh_engine_window){ FH_WINDOW_TUMBLING, 300000, 0 };
	c->windows[3] = (struct fh_engine_window){ FH_WINDOW_SLIDING, 300000, 30000 };
	c->n_windows = 4;
	c->vwap_window = 1;

	add_rule(c, FH_ENGINE_RULE_PRICE_SPIKE, FH_SEV_WARNING, 4.0);
	r = &c->rules[c->n_rules - 1];
	r->lookback = 50;
	r->min_samples = 10;
	r->min_bps = 150;
	r->cooldown_ms = 1000;

	add_rule(c, FH_ENGINE_RULE_VOLUME_SURGE, FH_SEV_WARNING, 10.0);
	r = &c->rules[c->n_rules - 1];
	r->lookback = 60;
	r->min_samples = 5;
	r->window_ms = 1000;
	r->min_qty = 5000;
	r->min_trades = 12;

	add_rule(c, FH_ENGINE_RULE_SPIKE_SURGE, FH_SEV_CRITICAL, 3.0);
	r = &c->rules[c->n_rules - 1];
	r->k2 = 3.0;
	r->lookback = 50;
	r->min_samples = 10;
	r->window_ms = 1000;
	r->min_bps = 100;
	r->min_qty = 2000;
	r->cooldown_ms = 1000;

	add_rule(c, FH_ENGINE_RULE_SPREAD_WIDENING, FH_SEV_INFO, 5.0);
	r = &c->rules[c->n_rules - 1];
	r->window_ms = 60000;
	r->min_samples = 50;
	r->hold_ms = 2000;
	r->two_sided = 1;
	r->cooldown_ms = 1000;

	add_rule(c, FH_ENGINE_RULE_PRICE_GAP, FH_SEV_WARNING, 5.0);
	r = &c->rules[c->n_rules - 1];
	r->cooldown_ms = 1000;

	add_rule(c, FH_ENGINE_RULE_CIRCUIT_BREAKER, FH_SEV_CRITICAL, 10.0);
	r = &c->rules[c->n_rules - 1];
	r->window_ms = 300000;
	r->slide_ms = 30000;
	r->min_samples = 5;
	r->cooldown_ms = 60000;

	add_rule(c, FH_ENGINE_RULE_CROSSED_BOOK, FH_SEV_CRITICAL, 0);
	add_rule(c, FH_ENGINE_RULE_LOCKED_BOOK, FH_SEV_WARNING, 0);
	add_rule(c, FH_ENGINE_RULE_STALE_BOOK, FH_SEV_WARNING, 0);
}

FH_COLD static int bad(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;
	if (err && len) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int fh_engine_cfg_validate(const struct fh_engine_cfg *c, char *err, size_t len)
{
	if (!c)
		return bad(err, len, "engine: no config");
	if (c->max_instruments == 0 || c->max_instruments > (1u << 24))
		return bad(err, len, "engine.max_instruments: %u, expected 1..16777216",
			   c->max_instruments);
	if (c->n_sources == 0 || c->n_sources > FH_ENGINE_MAX_SOURCES)
		return bad(err, len, "engine.sources: %u, expected 1..%d", c->n_sources,
			   FH_ENGINE_MAX_SOURCES);
	for (unsigned i = 0; i < c->n_sources; i++)
		for (unsigned j = 0; j < i; j++)
			if (c->source_ids[i] == c->source_ids[j])
				return bad(err, len, "engine.sources[%u]: source %u listed twice", i,
					   c->source_ids[i]);
	if (c->n_windows > FH_ENGINE_MAX_WINDOWS)
		return bad(err, len, "engine.windows: %u, at most %d", c->n_windows,
			   FH_ENGINE_MAX_WINDOWS);
	for (unsigned i = 0; i < c->n_windows; i++) {
		const struct fh_engine_window *w = &c->windows[i];
		if (w->size_ms == 0)
			return bad(err, len, "engine.windows[%u].size_ms: must be > 0", i);
		if (w->kind == FH_WINDOW_TUMBLING)
			continue;
		if (w->kind != FH_WINDOW_SLIDING)
			return bad(err, len, "engine.windows[%u].kind: expected tumbling or sliding", i);
		if (w->slide_ms == 0 || w->size_ms % w->slide_ms)
			return bad(err, len,
				   "engine.windows[%u].slide_ms: %u must be > 0 and divide size_ms %u",
				   i, w->slide_ms, w->size_ms);
		if (w->size_ms / w->slide_ms > FH_ENGINE_MAX_BUCKETS)
			return bad(err, len, "engine.windows[%u]: size_ms / slide_ms = %u, at most %d",
				   i, w->size_ms / w->slide_ms, FH_ENGINE_MAX_BUCKETS);
	}
	if (c->vwap_window < -1 || c->vwap_window >= (int)c->n_windows)
		return bad(err, len, "engine.vwap_window: %d, expected -1 or a window index",
			   c->vwap_window);
	if (c->n_rules > FH_ENGINE_MAX_RULES)
		return bad(err, len, "engine.rules: %u, at most %d", c->n_rules, FH_ENGINE_MAX_RULES);
	for (unsigned i = 0; i < c->n_rules; i++) {
		const struct fh_engine_rule *r = &c->rules[i];
		unsigned k = r->kind;
		if (k == FH_ENGINE_RULE_NONE || k >= FH_ENGINE_RULE__COUNT)
			return bad(err, len, "engine.rules[%u].kind: unknown rule kind %u", i, k);
		if (r->severity < FH_SEV_INFO || r->severity > FH_SEV_CRITICAL)
			return bad(err, len, "engine.rules[%u].severity: expected info, warning or critical", i);
		if (!is_book_rule(k) && !(r->k > 0))
			return bad(err, len, "engine.rules[%u].k: must be > 0 for %s", i,
				   rule_names[k]);
		if ((k == FH_ENGINE_RULE_PRICE_SPIKE || k == FH_ENGINE_RULE_SPIKE_SURGE ||
		     k == FH_ENGINE_RULE_VOLUME_SURGE) &&
		    r->lookback == 0)
			return bad(err, len, "engine.rules[%u].lookback: must be >= 1 for %s", i,
				   rule_names[k]);
		if ((k == FH_ENGINE_RULE_VOLUME_SURGE || k == FH_ENGINE_RULE_SPIKE_SURGE ||
		     k == FH_ENGINE_RULE_SPREAD_WIDENING) &&
		    r->window_ms == 0)
			return bad(err, len, "engine.rules[%u].window_ms: must be > 0 for %s", i,
				   rule_names[k]);
		if (k == FH_ENGINE_RULE_SPIKE_SURGE && !(r->k2 > 0))
			return bad(err, len, "engine.rules[%u].k2: must be > 0 for spike_surge", i);
		if (k == FH_ENGINE_RULE_CIRCUIT_BREAKER &&
		    (r->slide_ms == 0 || r->window_ms == 0 || r->window_ms % r->slide_ms ||
		     r->window_ms / r->slide_ms >= FH_ENGINE_MAX_CB_BUCKETS))
			return bad(err, len,
				   "engine.rules[%u]: circuit_breaker needs slide_ms > 0 dividing window_ms, window_ms / slide_ms < %d",
				   i, FH_ENGINE_MAX_CB_BUCKETS);
		if (r->min_move < 0)
			return bad(err, len, "engine.rules[%u].min_move: must be >= 0", i);
		if (r->n_symbols > FH_ENGINE_SCOPE_MAX)
			return bad(err, len, "engine.rules[%u].symbols: at most %d", i,
				   FH_ENGINE_SCOPE_MAX);
		if (r->instr_lo > r->instr_hi)
			return bad(err, len, "engine.rules[%u]: instr_lo %u > instr_hi %u", i,
				   r->instr_lo, r->instr_hi);
	}
	return 0;
}

struct layout {
	uint32_t stride;
	uint32_t q_stride;
	uint32_t win_off[FH_ENGINE_MAX_WINDOWS];
	uint32_t rule_off[FH_ENGINE_MAX_RULES];
	size_t q_bytes, t_bytes, l_bytes, w_bytes, per_src, total;
};

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

static void compute_layout(const struct fh_engine_cfg *c, struct layout *L)
{
	size_t off = sizeof(struct fh_eng_instr), qoff = sizeof(struct fh_eng_meta);

	memset(L, 0, sizeof(*L));
	for (unsigned i = 0; i < c->n_windows; i++) {
		const struct fh_engine_window *w = &c->windows[i];
		L->win_off[i] = (uint32_t)off;
		if (w->kind == FH_WINDOW_TUMBLING)
			off += sizeof(struct fh_eng_tbar);
		else
			off += align_up(sizeof(struct fh_eng_slide) +
						(w->size_ms / w->slide_ms) * sizeof(struct fh_eng_bucket),
					16);
	}
	for (unsigned i = 0; i < c->n_rules; i++) {
		unsigned k = c->rules[i].kind;
		if (k == FH_ENGINE_RULE_SPREAD_WIDENING) {
			L->rule_off[i] = (uint32_t)qoff;
			qoff += sizeof(struct fh_eng_spread);
		} else if (k == FH_ENGINE_RULE_CIRCUIT_BREAKER) {
			L->rule_off[i] = (uint32_t)off;
			off += align_up(sizeof(struct fh_eng_rs_cb), 16);
		} else if (is_trade_rule(k)) {
			L->rule_off[i] = (uint32_t)off;
			off += align_up(sizeof(struct fh_eng_rs_px), 16);
		}
	}
	L->stride = (uint32_t)align_up(off, FH_CACHE_LINE);
	L->q_stride = (uint32_t)align_up(qoff, 8);
	L->q_bytes = align_up((size_t)c->max_instruments * L->q_stride, FH_CACHE_LINE);
	L->t_bytes = (size_t)c->max_instruments * L->stride;
	L->l_bytes = align_up((size_t)c->n_windows * c->max_instruments * sizeof(uint32_t),
			      FH_CACHE_LINE);
	unsigned n_spread = 0;
	for (unsigned i = 0; i < c->n_rules; i++)
		n_spread += c->rules[i].kind == FH_ENGINE_RULE_SPREAD_WIDENING;
	L->w_bytes = align_up((size_t)n_spread * c->max_instruments * sizeof(struct fh_eng_watch),
			      FH_CACHE_LINE);
	L->per_src = L->q_bytes + L->t_bytes + L->l_bytes + L->w_bytes;
	L->total = align_up(sizeof(struct fh_engine), FH_CACHE_LINE) + c->n_sources * L->per_src;
}

size_t fh_engine_memsize(const struct fh_engine_cfg *cfg)
{
	struct layout L;
	if (fh_engine_cfg_validate(cfg, NULL, 0))
		return 0;
	compute_layout(cfg, &L);
	return L.total;
}

static uint32_t scope_mask(const struct fh_engine *e, uint32_t id)
{
	uint32_t m = 0;
	for (unsigned r = 0; r < e->cfg.n_rules; r++) {
		const struct fh_engine_rule *ru = &e->cfg.rules[r];
		bool scoped = ru->n_symbols || ru->instr_hi;
		if (!scoped || (ru->instr_hi && id >= ru->instr_lo && id <= ru->instr_hi))
			m |= 1u << r;
	}
	return m;
}

/* Resets the session part of one instrument (all but its scope). */
static void reset_instr(struct fh_engine *e, struct fh_eng_src *s, uint32_t id)
{
	uint8_t *base = fh_engine__instr(e, s, id);
	struct fh_eng_meta *m = fh_engine__meta(e, s, id);
	uint32_t mask = m->rule_mask;

	memset(base, 0, e->stride);
	memset(m, 0, e->q_stride);
	m->rule_mask = mask;
	for (unsigned i = 0; i < e->cfg.n_windows; i++) {
		struct fh_eng_win *w = &s->w[i];
		if (w->kind == FH_WINDOW_TUMBLING) {
			((struct fh_eng_tbar *)(base + w->off))->list_pos = FH_ENG_NPOS;
		} else {
			struct fh_eng_slide *sl = (struct fh_eng_slide *)(base + w->off);
			sl->list_pos = FH_ENG_NPOS;
			for (unsigned b = 0; b < w->n_buckets; b++)
				sl->b[b].idx = UINT64_MAX;
		}
	}
}

struct fh_engine *fh_engine_init(void *mem, const struct fh_engine_cfg *cfg)
{
	struct layout L;
	struct fh_engine *e = mem;

	if (!mem || ((uintptr_t)mem & (FH_CACHE_LINE - 1)) ||
	    fh_engine_cfg_validate(cfg, NULL, 0)) {
		errno = EINVAL;
		return NULL;
	}
	compute_layout(cfg, &L);
	memset(e, 0, sizeof(*e));
	e->cfg = *cfg;
	e->n_src = cfg->n_sources;
	e->max_instr = cfg->max_instruments;
	e->stride = L.stride;
	e->q_stride = L.q_stride;
	for (unsigned i = 0; i < cfg->n_windows; i++) {
		if (cfg->windows[i].kind == FH_WINDOW_TUMBLING)
			e->tw[e->n_tw++] = (uint8_t)i;
		else
			e->sw[e->n_sw++] = (uint8_t)i;
	}
	for (unsigned r = 0; r < cfg->n_rules; r++) {
		const struct fh_engine_rule *ru = &cfg->rules[r];
		struct fh_eng_rule_rt *rt = &e->rt[r];
		rt->kind = ru->kind;
		rt->severity = ru->severity;
		rt->two_sided = ru->two_sided;
		rt->alpha = ru->lookback ? 2.0 / ((double)ru->lookback + 1.0) : 1.0;
		rt->k = ru->k;
		rt->k2 = ru->k2;
		rt->ksq = ru->k * ru->k;
		rt->min_move = (double)ru->min_move;
		rt->bps = ru->min_bps / 1e4;
		rt->cooldown_ns = ru->cooldown_ms * NS_PER_MS;
		rt->hold_ns = ru->hold_ms * NS_PER_MS;
		rt->tau = (double)ru->window_ms * NS_PER_MS;
		rt->window_ns = ru->window_ms * NS_PER_MS;
		rt->slide_ns = ru->slide_ms * NS_PER_MS;
		rt->n_cb = ru->slide_ms ? ru->window_ms / ru->slide_ms + 1 : 0;
		rt->off = L.rule_off[r];
		rt->min_samples = ru->min_samples;
		rt->min_trades = ru->min_trades;
		rt->window_ms = ru->window_ms;
		rt->min_qty = ru->min_qty;
		if (ru->kind == FH_ENGINE_RULE_SPREAD_WIDENING) {
			e->spread_rules[e->n_spread_rules++] = (uint8_t)r;
			e->spread_rule_mask |= 1u << r;
		} else if (is_trade_rule(ru->kind)) {
			e->trade_rules[e->n_trade_rules++] = (uint8_t)r;
			e->trade_rule_mask |= 1u << r;
		} else {
			e->book_rule_any = 1;
		}
	}

	uint8_t *p = (uint8_t *)mem + align_up(sizeof(struct fh_engine), FH_CACHE_LINE);
	for (unsigned i = 0; i < e->n_src; i++) {
		struct fh_eng_src *s = &e->src[i];
		s->source_id = cfg->source_ids[i];
		s->q = p;
		s->instr = p + L.q_bytes;
		uint32_t *lists = (uint32_t *)(p + L.q_bytes + L.t_bytes);
		s->watch = (struct fh_eng_watch *)(p + L.q_bytes + L.t_bytes + L.l_bytes);
		s->n_watch = 0;
		for (unsigned w = 0; w < cfg->n_windows; w++) {
			const struct fh_engine_window *cw = &cfg->windows[w];
			struct fh_eng_win *sw = &s->w[w];
			sw->kind = cw->kind;
			sw->size_ns = cw->size_ms * NS_PER_MS;
			sw->slide_ns = (cw->kind == FH_WINDOW_SLIDING ? cw->slide_ms : cw->size_ms) *
				       NS_PER_MS;
			sw->n_buckets = cw->kind == FH_WINDOW_SLIDING ? cw->size_ms / cw->slide_ms : 1;
			sw->off = L.win_off[w];
			sw->list = lists + (size_t)w * cfg->max_instruments;
		}
		s->next_close = 0;
		for (uint32_t id = 0; id < e->max_instr; id++) {
			fh_engine__meta(e, s, id)->rule_mask = scope_mask(e, id);
			reset_instr(e, s, id);
		}
		p += L.per_src;
	}
	return e;
}

void fh_engine_set_emit(struct fh_engine *e, fh_engine_emit_fn fn, void *arg)
{
	e->emit = fn;
	e->emit_arg = arg;
}

const struct fh_engine_stats *fh_engine_get_stats(const struct fh_engine *e)
{
	return &e->stats;
}

/* sum / vol rounded half away from zero (FH_PRICE_NONE when vol is 0). */
static int64_t vwap_of(__int128 sum, uint64_t vol)
{
	if (vol == 0)
		return FH_PRICE_NONE;
	if (sum >= 0 && sum <= INT64_MAX) {
		/* the common case fits 64 bits: no 128-bit division */
		uint64_t s = (uint64_t)sum, q = s / vol, r = s % vol;
		return (int64_t)(q + (r >= vol - r));
	}
	__int128 v = vol;
	__int128 q = sum / v, r = sum % v;
	if (r < 0)
		r = -r;
	if (2 * r >= v)
		q += sum < 0 ? -1 : 1;
	return (int64_t)q;
}

static void out_header(struct fh_event *o, unsigned type, const struct fh_eng_src *s,
		       uint32_t instr, const struct fh_event *cause, uint64_t ts)
{
	fh_event_init(o, type);
	o->source_id = s->source_id;
	o->instrument = instr;
	o->seq = cause ? cause->seq : 0;
	o->exch_ts_ns = ts;
	o->recv_ts_ns = cause ? cause->recv_ts_ns : 0;
}

static void emit(struct fh_engine *e, const struct fh_event *o)
{
	if (e->emit)
		e->emit(e->emit_arg, o);
}

struct agg {
	__int128 notional;
	int64_t o, h, l, c;
	uint64_t vol;
	uint32_t trades;
};

static void emit_bar(struct fh_engine *e, struct fh_eng_src *s, const struct fh_event *cause,
		     uint32_t instr, unsigned wi, uint64_t end, const struct agg *a)
{
	const struct fh_engine_window *cw = &e->cfg.windows[wi];
	struct fh_event o;

	out_header(&o, FH_EV_BAR, s, instr, cause, end);
	o.u.bar.open = a->o;
	o.u.bar.high = a->h;
	o.u.bar.low = a->l;
	o.u.bar.close = a->c;
	emit(e, &o);
	out_header(&o, FH_EV_BAR_STATS, s, instr, cause, end);
	o.u.stats.volume = a->vol;
	o.u.stats.vwap = vwap_of(a->notional, a->vol);
	o.u.stats.trades = a->trades;
	o.u.stats.window_ms = cw->size_ms;
	o.u.stats.window_id = (uint16_t)wi;
	o.u.stats.window_kind = cw->kind;
	emit(e, &o);
	e->stats.bars++;
}

static void emit_vwap(struct fh_engine *e, struct fh_eng_src *s, const struct fh_event *cause,
		      uint32_t instr, uint64_t ts)
{
	const struct fh_eng_instr *in = (const struct fh_eng_instr *)fh_engine__instr(e, s, instr);
	struct fh_event o;

	out_header(&o, FH_EV_VWAP, s, instr, cause, ts);
	o.u.stats.volume = in->vol;
	o.u.stats.vwap = vwap_of(in->notional, in->vol);
	o.u.stats.trades = in->trades;
	o.u.stats.window_ms = 0;
	o.u.stats.window_id = FH_ENGINE_SESSION_WINDOW;
	o.u.stats.window_kind = FH_WINDOW_SESSION;
	emit(e, &o);
	e->stats.vwaps++;
}

/* Aggregate of the sliding window ending at `end` (slide boundary). */
static void slide_agg(const struct fh_eng_win *w, const struct fh_eng_slide *sl, uint64_t end,
		      struct agg *a)
{
	uint64_t last = end / w->slide_ns; /* one past the window's last slide */
	uint64_t idx = last >= w->n_buckets ? last - w->n_buckets : 0;
	uint32_t slot = (uint32_t)(idx % w->n_buckets);
	memset(a, 0, sizeof(*a));
	for (; idx < last; idx++) {
		const struct fh_eng_bucket *b = &sl->b[slot];
		slot = slot + 1 == w->n_buckets ? 0 : slot + 1;
		if (b->idx != idx || b->trades == 0)
			continue;
		if (a->trades == 0) {
			a->o = b->o;
			a->h = b->h;
			a->l = b->l;
		} else {
			a->h = b->h > a->h ? b->h : a->h;
			a->l = b->l < a->l ? b->l : a->l;
		}
		a->c = b->c;
		a->vol += b->vol;
		a->notional += b->notional;
		a->trades += b->trades;
	}
}

static void tbar_agg(const struct fh_eng_tbar *b, struct agg *a)
{
	a->notional = b->notional;
	a->o = b->o;
	a->h = b->h;
	a->l = b->l;
	a->c = b->c;
	a->vol = b->vol;
	a->trades = b->trades;
}

static void list_remove(struct fh_engine *e, struct fh_eng_src *s, struct fh_eng_win *w,
			uint32_t pos)
{
	uint32_t moved = w->list[--w->n_list];
	if (pos != w->n_list) {
		w->list[pos] = moved;
		uint8_t *mb = fh_engine__instr(e, s, moved) + w->off;
		if (w->kind == FH_WINDOW_TUMBLING)
			((struct fh_eng_tbar *)mb)->list_pos = pos;
		else
			((struct fh_eng_slide *)mb)->list_pos = pos;
	}
}

/* Emits the bars of every instrument of tumbling window wi (open window ends at w->end). */
static void close_tumbling(struct fh_engine *e, struct fh_eng_src *s, unsigned wi,
			   const struct fh_event *cause)
{
	struct fh_eng_win *w = &s->w[wi];
	bool vwap = e->cfg.vwap_window == (int)wi;
	struct agg a;

	for (uint32_t i = 0; i < w->n_list; i++) {
		uint32_t id = w->list[i];
		struct fh_eng_tbar *b = (struct fh_eng_tbar *)(fh_engine__instr(e, s, id) + w->off);
		tbar_agg(b, &a);
		emit_bar(e, s, cause, id, wi, w->end, &a);
		if (vwap)
			emit_vwap(e, s, cause, id, w->end);
		b->trades = 0;
		b->list_pos = FH_ENG_NPOS;
	}
	w->n_list = 0;
}

/* Emits the sliding bars ending at boundary t; drops instruments whose trades leave the window. */
static void close_sliding(struct fh_engine *e, struct fh_eng_src *s, unsigned wi, uint64_t t,
			  const struct fh_event *cause)
{
	struct fh_eng_win *w = &s->w[wi];
	bool vwap = e->cfg.vwap_window == (int)wi;
	uint64_t keep_from = t / w->slide_ns + 1; /* next window's first slide + n_buckets */
	struct agg a;

	for (uint32_t i = 0; i < w->n_list;) {
		uint32_t id = w->list[i];
		struct fh_eng_slide *sl = (struct fh_eng_slide *)(fh_engine__instr(e, s, id) + w->off);
		slide_agg(w, sl, t, &a);
		if (a.trades) {
			emit_bar(e, s, cause, id, wi, t, &a);
			if (vwap)
				emit_vwap(e, s, cause, id, t);
		}
		if (sl->last_idx + w->n_buckets < keep_from) {
			sl->list_pos = FH_ENG_NPOS;
			list_remove(e, s, w, i);
			continue; /* slot i now holds another instrument */
		}
		i++;
	}
}

void fh_engine__watch(struct fh_engine *e, struct fh_eng_src *s, uint32_t instr, unsigned rule,
		      struct fh_eng_spread *st)
{
	const struct fh_eng_rule_rt *rt = &e->rt[rule];
	uint64_t due = st->since + rt->hold_ns;

	if (st->watched)
		return;
	st->watched = 1;
	s->watch[s->n_watch++] = (struct fh_eng_watch){ instr, rule };
	if (due < s->next_close)
		s->next_close = due;
}

/* Pending spread alerts: fire those held long enough, drop those that narrowed.
 * Returns the earliest deadline still pending. */
static uint64_t check_watch(struct fh_engine *e, struct fh_eng_src *s, const struct fh_event *ev)
{
	uint64_t next = UINT64_MAX;

	for (uint32_t i = 0; i < s->n_watch;) {
		struct fh_eng_watch *w = &s->watch[i];
		const struct fh_eng_rule_rt *rt = &e->rt[w->rule];
		struct fh_eng_spread *st =
			(struct fh_eng_spread *)((uint8_t *)fh_engine__meta(e, s, w->instr) + rt->off);
		uint64_t due = st->since + rt->hold_ns;
		if (st->wide == FH_ENG_WIDE_PENDING && s->now < due) {
			next = due < next ? due : next;
			i++;
			continue;
		}
		if (st->wide == FH_ENG_WIDE_PENDING) {
			st->wide = FH_ENG_WIDE_FIRED;
			st->quiet_until = s->now + rt->cooldown_ns;
			fh_engine__alert(e, s, ev, w->instr, w->rule, st->ratio, FH_PRICE_NONE);
		}
		st->watched = 0;
		*w = s->watch[--s->n_watch];
	}
	return next;
}

void fh_engine__advance(struct fh_engine *e, struct fh_eng_src *s, const struct fh_event *ev)
{
	uint64_t ts = s->now, next = UINT64_MAX;

	if (s->n_watch)
		next = check_watch(e, s, ev);

	for (unsigned i = 0; i < e->cfg.n_windows; i++) {
		struct fh_eng_win *w = &s->w[i];
		if (ts >= w->end) {
			if (w->kind == FH_WINDOW_TUMBLING) {
				close_tumbling(e, s, i, ev);
				w->end = (ts / w->size_ns + 1) * w->size_ns;
			} else {
				uint64_t t = w->end;
				while (t <= ts && w->n_list) {
					if (t)
						close_sliding(e, s, i, t, ev);
					t += w->slide_ns;
				}
				if (t <= ts)
					t = (ts / w->slide_ns + 1) * w->slide_ns;
				w->end = t;
				w->cur_idx = t / w->slide_ns - 1;
				w->cur_slot = (uint32_t)(w->cur_idx % w->n_buckets);
			}
		}
		next = w->end < next ? w->end : next;
	}
	s->next_close = next;
}

/* Closes every open window of one instrument early (halt). */
static void close_instr(struct fh_engine *e, struct fh_eng_src *s, uint32_t id,
			const struct fh_event *cause)
{
	uint8_t *base = fh_engine__instr(e, s, id);
	const struct fh_eng_instr *in = (const struct fh_eng_instr *)base;
	struct agg a;

	for (unsigned i = 0; i < e->cfg.n_windows; i++) {
		struct fh_eng_win *w = &s->w[i];
		if (w->kind == FH_WINDOW_TUMBLING) {
			struct fh_eng_tbar *b = (struct fh_eng_tbar *)(base + w->off);
			if (b->list_pos == FH_ENG_NPOS)
				continue;
			tbar_agg(b, &a);
			emit_bar(e, s, cause, id, i, w->end, &a);
			b->trades = 0;
			list_remove(e, s, w, b->list_pos);
			b->list_pos = FH_ENG_NPOS;
		} else {
			struct fh_eng_slide *sl = (struct fh_eng_slide *)(base + w->off);
			if (sl->list_pos == FH_ENG_NPOS)
				continue;
			slide_agg(w, sl, w->end, &a);
			if (a.trades)
				emit_bar(e, s, cause, id, i, w->end, &a);
			for (unsigned b = 0; b < w->n_buckets; b++)
				sl->b[b].idx = UINT64_MAX;
			list_remove(e, s, w, sl->list_pos);
			sl->list_pos = FH_ENG_NPOS;
		}
	}
	if (in->trades)
		emit_vwap(e, s, cause, id, s->now);
}

static void close_source(struct fh_engine *e, struct fh_eng_src *s, const struct fh_event *cause)
{
	struct agg a;

	for (unsigned i = 0; i < e->cfg.n_windows; i++) {
		struct fh_eng_win *w = &s->w[i];
		for (uint32_t j = 0; j < w->n_list; j++) {
			uint32_t id = w->list[j];
			uint8_t *st = fh_engine__instr(e, s, id) + w->off;
			if (w->kind == FH_WINDOW_TUMBLING) {
				tbar_agg((const struct fh_eng_tbar *)st, &a);
			} else {
				slide_agg(w, (const struct fh_eng_slide *)st, w->end, &a);
				if (!a.trades)
					continue;
			}
			emit_bar(e, s, cause, id, i, w->end, &a);
		}
		w->n_list = 0;
	}
	for (uint32_t id = 0; id < e->max_instr; id++) {
		const struct fh_eng_instr *in = (const struct fh_eng_instr *)fh_engine__instr(e, s, id);
		if (in->trades)
			emit_vwap(e, s, cause, id, s->now);
		reset_instr(e, s, id);
	}
	for (unsigned i = 0; i < e->cfg.n_windows; i++) {
		s->w[i].end = 0;
		s->w[i].cur_idx = 0;
		s->w[i].cur_slot = 0;
	}
	s->now = 0;
	s->next_close = 0;
	s->n_watch = 0;
	e->stats.sessions_closed++;
}

int fh_engine_close_session(struct fh_engine *e, uint16_t source_id, uint64_t ts)
{
	struct fh_eng_src *s = fh_engine__src(e, source_id);
	struct fh_event cause;

	if (!s)
		return -ENOENT;
	fh_event_init(&cause, FH_EV_SYSTEM);
	cause.source_id = source_id;
	cause.exch_ts_ns = ts;
	cause.instrument = FH_INSTRUMENT_NONE;
	cause.u.system.code = 'C';
	fh_engine_process(e, &cause);
	return 0;
}

void fh_engine__alert(struct fh_engine *e, struct fh_eng_src *s, const struct fh_event *ev,
		      uint32_t instr, unsigned rule, double value, int64_t price)
{
	const struct fh_eng_rule_rt *rt = &e->rt[rule];
	struct fh_event o;

	out_header(&o, FH_EV_ALERT, s, instr, ev, ev->exch_ts_ns > s->now ? ev->exch_ts_ns : s->now);
	o.u.alert.value = value;
	o.u.alert.threshold = rt->k;
	o.u.alert.price = price;
	o.u.alert.window_ms = rt->window_ms;
	o.u.alert.rule_id = (uint16_t)rule;
	o.u.alert.rule_kind = rt->kind;
	o.u.alert.severity = rt->severity;
	emit(e, &o);
	e->stats.alerts++;
	e->stats.alerts_by_rule[rule]++;
}

void fh_engine__volwin_roll(const struct fh_eng_rule_rt *rt, struct fh_eng_volwin *v, uint64_t now)
{
	uint64_t W = rt->window_ns, idx = now / W;

	/* Only windows with trades feed the average: the rule compares a window
	 * with the instrument's usual active window, so a quiet spell does not
	 * turn the next ordinary trade into a surge. */
	if (v->end && v->cur) {
		double c = (double)v->cur;
		v->avg = v->n ? v->avg + rt->alpha * (c - v->avg) : c;
		if (v->n != UINT32_MAX)
			v->n++;
	}
	v->cur = 0;
	v->trades = 0;
	v->fired = 0;
	v->spiked = 0;
	v->end = (idx + 1) * W;
	bool ok = v->n >= rt->min_samples && v->avg > 0;
	v->thresh = ok ? rt->k * v->avg : INFINITY;
	v->thresh2 = ok ? rt->k2 * v->avg : INFINITY;
}

void fh_engine__cb_roll(const struct fh_eng_rule_rt *rt, struct fh_eng_rs_cb *st, uint64_t now)
{
	uint64_t D = rt->slide_ns, idx = now / D;
	uint32_t nb = rt->n_cb, nref = nb - 1;

	st->n_ref = 0;
	st->lo = INT64_MAX;
	st->hi = INT64_MIN;
	for (uint32_t j = 1; j <= nref && j <= idx; j++) {
		uint64_t bi = idx - j;
		const struct fh_eng_cb_bucket *b = &st->b[bi % nb];
		if (b->idx != (uint32_t)bi || !b->n)
			continue;
		st->n_ref += b->n;
		st->lo = b->lo < st->lo ? b->lo : st->lo;
		st->hi = b->hi > st->hi ? b->hi : st->hi;
	}
	st->slot = (uint32_t)(idx % nb);
	st->b[st->slot].n = 0;
	st->b[st->slot].idx = (uint32_t)idx;
	st->end = (idx + 1) * D;
}

static void fire_kind(struct fh_engine *e, struct fh_eng_src *s, const struct fh_event *ev,
		      uint32_t mask, unsigned kind, double value)
{
	for (unsigned r = 0; r < e->cfg.n_rules; r++)
		if (e->rt[r].kind == kind && (mask & (1u << r)))
			fh_engine__alert(e, s, ev, ev->instrument, r, value, FH_PRICE_NONE);
}

void fh_engine__book_state(struct fh_engine *e, struct fh_eng_src *s, const struct fh_event *ev,
			   struct fh_eng_meta *m, double value)
{
	uint8_t now = (uint8_t)((m->live_flags | m->snap_flags) &
				(FH_BOOK_F_CROSSED | FH_BOOK_F_LOCKED | FH_BOOK_F_STALE));
	uint8_t rising = (uint8_t)(now & ~m->state);
	bool halted = m->halted || (m->snap_flags & FH_BOOK_F_HALTED);

	m->state = now;
	if (!rising)
		return;
	if ((rising & FH_BOOK_F_CROSSED) && !halted)
		fire_kind(e, s, ev, m->rule_mask, FH_ENGINE_RULE_CROSSED_BOOK, value);
	if ((rising & FH_BOOK_F_LOCKED) && !halted)
		fire_kind(e, s, ev, m->rule_mask, FH_ENGINE_RULE_LOCKED_BOOK, value);
	if (rising & FH_BOOK_F_STALE)
		fire_kind(e, s, ev, m->rule_mask, FH_ENGINE_RULE_STALE_BOOK, 1.0);
}

static void apply_symbol_scope(struct fh_engine *e, struct fh_eng_src *s, const struct fh_event *ev)
{
	char sym[FH_ENGINE_SYMBOL_LEN + 1];
	struct fh_eng_meta *m = fh_engine__meta(e, s, ev->instrument);
	uint32_t mask = scope_mask(e, ev->instrument);

	memcpy(sym, ev->u.instr.symbol, FH_ENGINE_SYMBOL_LEN);
	sym[FH_ENGINE_SYMBOL_LEN] = 0;
	for (unsigned r = 0; r < e->cfg.n_rules; r++) {
		const struct fh_engine_rule *ru = &e->cfg.rules[r];
		for (unsigned j = 0; j < ru->n_symbols; j++)
			if (strncmp(sym, ru->symbols[j], FH_ENGINE_SYMBOL_LEN) == 0)
				mask |= 1u << r;
	}
	m->rule_mask = mask;
}

static bool source_open(const struct fh_engine *e, const struct fh_eng_src *s)
{
	for (unsigned i = 0; i < e->cfg.n_windows; i++)
		if (s->w[i].n_list)
			return true;
	return s->now != 0;
}

void fh_engine__other(struct fh_engine *e, struct fh_eng_src *s, const struct fh_event *ev)
{
	uint32_t id = ev->instrument;
	bool valid = id < e->max_instr;

	switch (ev->type) {
	case FH_EV_TRADING_STATUS: {
		if (!valid) {
			e->stats.bad_instrument++;
			return;
		}
		struct fh_eng_meta *m = fh_engine__meta(e, s, id);
		if (ev->u.status.halted && !m->halted) {
			m->halted = 1;
			e->stats.halts++;
			close_instr(e, s, id, ev);
		} else if (!ev->u.status.halted) {
			m->halted = 0;
		}
		break;
	}
	case FH_EV_SYSTEM:
		if (ev->u.system.code == 'C' || (ev->u.system.code == 'O' && source_open(e, s)))
			close_source(e, s, ev);
		break;
	case FH_EV_FEED_STATUS:
		if (ev->u.feed.kind == FH_FEED_END_OF_SESSION) {
			close_source(e, s, ev);
		} else if ((ev->u.feed.kind == FH_FEED_STALE || ev->u.feed.kind == FH_FEED_FRESH) &&
			   valid) {
			struct fh_eng_meta *m = fh_engine__meta(e, s, id);
			if (ev->u.feed.kind == FH_FEED_STALE)
				m->live_flags |= FH_BOOK_F_STALE;
			else
				m->live_flags &= (uint8_t)~FH_BOOK_F_STALE;
			fh_engine__book_state(e, s, ev, m, 0);
		} else if (ev->u.feed.kind == FH_FEED_STALE && id == FH_INSTRUMENT_NONE) {
			/* Whole source stale: one alert from the rules without a scope. */
			uint32_t mask = 0;
			for (unsigned r = 0; r < e->cfg.n_rules; r++)
				if (!e->cfg.rules[r].n_symbols && !e->cfg.rules[r].instr_hi)
					mask |= 1u << r;
			fire_kind(e, s, ev, mask, FH_ENGINE_RULE_STALE_BOOK, 1.0);
		}
		break;
	case FH_EV_BOOK_SNAPSHOT:
		if (valid) {
			struct fh_eng_meta *m = fh_engine__meta(e, s, id);
			m->snap_flags = ev->u.snap.flags;
			fh_engine__book_state(e, s, ev, m, 0);
		} else {
			e->stats.bad_instrument++;
		}
		break;
	case FH_EV_INSTRUMENT:
		if (valid)
			apply_symbol_scope(e, s, ev);
		else
			e->stats.bad_instrument++;
		break;
	case FH_EV_BROKEN_TRADE:
		e->stats.broken_trades++;
		break;
	default:
		break;
	}
}
