/* SPDX-License-Identifier: MIT */
/* fh_engine.h: per-core engine shard: event-time bars, VWAP and anomaly rules. */
#ifndef FH_ENGINE_H
#define FH_ENGINE_H

/*
 * One struct fh_engine per RX core. It owns every byte it touches (no state
 * shared between shards, no locks), is sized from its config by
 * fh_engine_memsize() and laid out in caller memory by fh_engine_init(), so it
 * can live in NUMA-local or huge-page memory. Nothing is allocated afterwards.
 *
 * Input: the normalized events of its sources, in source order, as the book
 * stage produces them (decode/fh_event.h). Every event advances the source's
 * event-time clock (the maximum exch_ts_ns seen; an event whose timestamp is
 * older is processed at the clock's time and counted as late).
 *   FH_EV_TRADE           bars, VWAP, trade rules. Prints flagged
 *                         FH_TRADE_F_NON_PRINTABLE are excluded from
 *                         everything (counted); Q crosses are included;
 *                         zero quantity or price <= 0 are counted and ignored.
 *   FH_EV_BROKEN_TRADE    counted only. Published bars and VWAP are not
 *                         revised (a bar, once emitted, is immutable); the
 *                         broken trade itself is published by the book stage.
 *   FH_EV_BBO             spread rules, crossed / locked book.
 *   FH_EV_TRADING_STATUS  halted 0 -> 1 closes the instrument's open windows
 *                         (partial bars) and emits its session VWAP.
 *   FH_EV_SYSTEM 'C'      (end of messages) and FH_EV_FEED_STATUS
 *                         FH_FEED_END_OF_SESSION: close every window of the
 *                         source, emit every session VWAP, reset the session.
 *                         'O' (start of messages) does the same if anything is
 *                         still open, so a missed end never leaks into a new day.
 *   FH_EV_BOOK_SNAPSHOT   flags: crossed, locked, stale, halted.
 *   FH_EV_FEED_STATUS     FH_FEED_STALE / FH_FEED_FRESH (instrument or whole
 *                         source when instrument is FH_INSTRUMENT_NONE).
 *   FH_EV_INSTRUMENT      symbol, used to apply rule scopes by symbol.
 * Everything else only advances the clock. Trade rules skip Q crosses (an
 * opening / closing / halt cross is a scheduled auction print, not a spike or
 * a surge); bars and VWAP include them.
 *
 * Output, through the emit callback, in order:
 *   FH_EV_BAR + FH_EV_BAR_STATS when a window closes (exch_ts_ns = the
 *     window's nominal end; seq and recv_ts_ns of the event that closed it).
 *     Windows are aligned to multiples of their size (slide) from time 0 and
 *     half-open, [start, end): a trade exactly on a boundary opens the next
 *     window. A window without printable trades emits no bar.
 *   FH_EV_VWAP (window_kind FH_WINDOW_SESSION, window_id
 *     FH_ENGINE_SESSION_WINDOW, window_ms 0): the session VWAP of an
 *     instrument, each time a bar of cfg.vwap_window closes for it, at a halt,
 *     and at the session end.
 *   FH_EV_ALERT when a rule fires (rule_id = index in cfg.rules).
 * Prices are FH_PRICE_SCALE fixed point; VWAP = sum(price*qty)/sum(qty) in
 * 128-bit integers, rounded half away from zero: bars and VWAP are exact.
 *
 * Thread-safety: one thread per engine. The emit callback runs on that
 * thread, inside fh_engine_process().
 */

#include <stddef.h>
#include <stdint.h>

#include "fh_event.h"

#define FH_ENGINE_MAX_WINDOWS 8
#define FH_ENGINE_MAX_RULES 32
#define FH_ENGINE_MAX_SOURCES 4
#define FH_ENGINE_MAX_BUCKETS 64 /* sliding window size / slide */
#define FH_ENGINE_MAX_CB_BUCKETS 16 /* circuit breaker window / slide */
#define FH_ENGINE_SCOPE_MAX 8
#define FH_ENGINE_SYMBOL_LEN 16
#define FH_ENGINE_SESSION_WINDOW 0xFFFF

/* Rule kinds (fh_ev_alert.rule_kind). */
enum fh_engine_rule_kind {
	FH_ENGINE_RULE_NONE = 0,
	/* |price - EWMA mean| / EWMA stddev > k, over the trades of the instrument. */
	FH_ENGINE_RULE_PRICE_SPIKE = 1,
	/* volume so far in the current window / EWMA of the volumes of past
	 * windows that had trades > k (a quiet spell does not shrink the average). */
	FH_ENGINE_RULE_VOLUME_SURGE = 2,
	/* within one volume window: a trade with z > k (as price_spike) and the
	 * window's volume above k2 times its EWMA; value = the largest z. */
	FH_ENGINE_RULE_SPIKE_SURGE = 3,
	/* bid-ask spread > k * its time-weighted EWMA (time constant window_ms),
	 * held for hold_ms. */
	FH_ENGINE_RULE_SPREAD_WIDENING = 4,
	/* |trade - previous trade| / previous trade * 100 > k (percent). */
	FH_ENGINE_RULE_PRICE_GAP = 5,
	/* move from the trailing window's extremes, percent: up from its lowest
	 * trade, down from its highest (slides of slide_ms), > k. */
	FH_ENGINE_RULE_CIRCUIT_BREAKER = 6,
	/* best bid > best ask (from BBO or book snapshot flags), not while halted. */
	FH_ENGINE_RULE_CROSSED_BOOK = 7,
	/* best bid == best ask, not while halted. */
	FH_ENGINE_RULE_LOCKED_BOOK = 8,
	/* book marked stale (feed status or snapshot flags). */
	FH_ENGINE_RULE_STALE_BOOK = 9,
	FH_ENGINE_RULE__COUNT
};

/* One time window. Tumbling: [n*size, (n+1)*size). Sliding: windows of size
 * ending at every multiple of slide; size must be a multiple of slide and
 * size/slide <= FH_ENGINE_MAX_BUCKETS. */
struct fh_engine_window {
	uint8_t kind; /* FH_WINDOW_TUMBLING or FH_WINDOW_SLIDING */
	uint32_t size_ms;
	uint32_t slide_ms; /* sliding only (tumbling: ignored) */
};

/*
 * One anomaly rule. Fields a kind does not use are ignored.
 *   k            main threshold, in the unit of the alert's value:
 *                z-score (spike, spike_surge), ratio (surge, spread),
 *                percent (gap, circuit breaker); unused for book states.
 *   k2           spike_surge: window volume ratio threshold.
 *   lookback     EWMA span N (alpha = 2 / (N + 1)): trades (spike,
 *                spike_surge price stats), windows with trades (surge).
 *   min_samples  no alert before this many samples (trades, windows, BBO
 *                updates; circuit breaker: trades in the completed slides).
 *   window_ms    surge / spike_surge volume window; circuit breaker window;
 *                spread: time constant of the time-weighted average (each
 *                spread weighs for as long as it was displayed, so a sweep
 *                of quotes at one timestamp does not move the average).
 *   slide_ms     circuit breaker reference slide (window_ms / slide_ms <= 16).
 *   min_move     absolute floor on the move, FH_PRICE_SCALE units (spike: price
 *                - mean; gap: price - previous; spread: spread - average).
 *   min_bps      relative floor on the same move, basis points of the price.
 *   min_qty      surge / spike_surge: minimum window volume.
 *   min_trades   surge / spike_surge: minimum prints at distinct timestamps in
 *                the window (one block print, or one aggressive order sweeping
 *                many resting orders at once, is not a surge).
 *   hold_ms      spread_widening: the spread must stay above k * average for
 *                this long (event time) before the alert (0: at once).
 *   two_sided    spread_widening: only a withdrawal on both sides counts (bid
 *                below and ask above the last quote whose spread was normal);
 *                a one-sided widening is a price move in progress.
 *   cooldown_ms  event-time ms after an alert during which the rule stays
 *                silent for that instrument (0 = none).
 *   scope        empty (no symbols, instr_hi == 0): every instrument;
 *                else instruments whose id is in [instr_lo, instr_hi] or whose
 *                directory symbol is one of symbols[].
 */
struct fh_engine_rule {
	uint8_t kind;     /* enum fh_engine_rule_kind */
	uint8_t severity; /* FH_SEV_* */
	uint8_t two_sided;
	uint8_t pad;
	uint16_t n_symbols;
	uint32_t lookback;
	uint32_t min_samples;
	uint32_t window_ms;
	uint32_t slide_ms;
	uint32_t min_bps;
	uint32_t cooldown_ms;
	uint32_t hold_ms;
	uint32_t min_trades;
	uint32_t instr_lo;
	uint32_t instr_hi;
	double k;
	double k2;
	int64_t min_move;
	uint64_t min_qty;
	char symbols[FH_ENGINE_SCOPE_MAX][FH_ENGINE_SYMBOL_LEN];
};

struct fh_engine_cfg {
	uint32_t max_instruments; /* per source: instrument ids 0 .. max-1 */
	uint16_t n_sources;
	uint16_t source_ids[FH_ENGINE_MAX_SOURCES];
	uint16_t n_windows;
	int16_t vwap_window; /* window whose closes emit session VWAP; -1: only halt / end */
	uint16_t n_rules;
	struct fh_engine_window windows[FH_ENGINE_MAX_WINDOWS];
	struct fh_engine_rule rules[FH_ENGINE_MAX_RULES];
};

/* Counters of one shard (read them from the shard's thread, or tolerate tearing). */
struct fh_engine_stats {
	uint64_t events;
	uint64_t trades;           /* printable trades used */
	uint64_t non_printable;    /* excluded trades */
	uint64_t bad_trades;       /* zero qty, price <= 0 or none */
	uint64_t broken_trades;
	uint64_t late_events;      /* exch_ts_ns older than the clock */
	uint64_t unknown_source;
	uint64_t bad_instrument;   /* instrument id >= max_instruments */
	uint64_t bars;
	uint64_t vwaps;
	uint64_t alerts;
	uint64_t halts;
	uint64_t sessions_closed;
	uint64_t alerts_by_rule[FH_ENGINE_MAX_RULES];
};

struct fh_engine;
typedef void (*fh_engine_emit_fn)(void *arg, const struct fh_event *ev);

/* The default engine section: 1 s, 1 min, 5 min tumbling, 5 min / 30 s sliding,
 * session VWAP with each 1 min bar, and one rule of each kind. */
void fh_engine_cfg_default(struct fh_engine_cfg *cfg);

/* 0, or -EINVAL with a one-line reason naming the field in err. */
int fh_engine_cfg_validate(const struct fh_engine_cfg *cfg, char *err, size_t errlen);

/* Bytes fh_engine_init() needs for cfg (0 when cfg is invalid). */
size_t fh_engine_memsize(const struct fh_engine_cfg *cfg);

/* Lays out an engine in mem (memsize bytes, 64-byte aligned, owned by the
 * caller and kept until the engine is no longer used). Returns the engine or
 * NULL with errno EINVAL (bad cfg or alignment). Events are dropped until
 * fh_engine_set_emit() is called. */
struct fh_engine *fh_engine_init(void *mem, const struct fh_engine_cfg *cfg);

void fh_engine_set_emit(struct fh_engine *e, fh_engine_emit_fn fn, void *arg);

/* Closes every window of source_id at event time ts (as its session end). 0 or -ENOENT. */
int fh_engine_close_session(struct fh_engine *e, uint16_t source_id, uint64_t ts);

const struct fh_engine_stats *fh_engine_get_stats(const struct fh_engine *e);

/* "price_spike", ...; "unknown" for others. */
const char *fh_engine_rule_kind_name(unsigned kind);
/* The kind for a name, or -EINVAL. */
int fh_engine_rule_kind_parse(const char *name);

/* Hot path: static inline void fh_engine_process(struct fh_engine *e,
 * const struct fh_event *ev) and unsigned fh_engine_process_burst(e, evs, n). */
#include "fh_engine_pvt.h"

#endif /* FH_ENGINE_H */
