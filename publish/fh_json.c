/* SPDX-License-Identifier: MIT */
/* fh_json.c: JSON encoding of normalized events (no allocation, exact fixed-point prices). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fh_json.h"

struct jb {
	char *p;
	size_t len, n;
	int err;
};

__attribute__((format(printf, 2, 3))) static void put(struct jb *b, const char *fmt, ...)
{
	va_list ap;
	if (b->err)
		return;
	va_start(ap, fmt);
	int k = vsnprintf(b->p + b->n, b->len - b->n, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= b->len - b->n) {
		b->err = 1;
		return;
	}
	b->n += (size_t)k;
}

/* "name":"text" from a fixed-width field: stops at NUL, escapes the rest. */
static void put_str(struct jb *b, const char *name, const char *s, size_t max)
{
	put(b, ",\"%s\":\"", name);
	for (size_t i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			put(b, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			put(b, "\\u%04x", c);
		else
			put(b, "%c", c);
	}
	put(b, "\"");
}

static void put_chr(struct jb *b, const char *name, char c)
{
	put_str(b, name, &c, 1);
}

static void put_px(struct jb *b, const char *name, int64_t px)
{
	char t[40];
	if (px == FH_PRICE_NONE) {
		put(b, ",\"%s\":null", name);
		return;
	}
	fh_price_format(px, FH_PRICE_DECIMALS, t, sizeof(t));
	put(b, ",\"%s\":%s", name, t);
}

static void put_u(struct jb *b, const char *name, uint64_t v)
{
	put(b, ",\"%s\":%" PRIu64, name, v);
}

static void put_i(struct jb *b, const char *name, int64_t v)
{
	put(b, ",\"%s\":%" PRId64, name, v);
}

static void put_d(struct jb *b, const char *name, double v)
{
	/* JSON has no NaN/Inf */
	if (v != v || v > 1e308 || v < -1e308)
		put(b, ",\"%s\":null", name);
	else
		put(b, ",\"%s\":%.17g", name, v);
}

int fh_json_encode(const struct fh_event *ev, const char *symbol, char *buf, size_t len)
{
	struct jb b = { buf, len, 0, 0 };

	if (len == 0)
		return -ENOSPC;
	put(&b, "{\"type\":\"%s\",\"type_id\":%u,\"version\":%u,\"source\":%u", fh_event_type_name(ev->type),
	    ev->type, ev->version, ev->source_id);
	if (ev->instrument == FH_INSTRUMENT_NONE)
		put(&b, ",\"instrument\":null");
	else
		put_u(&b, "instrument", ev->instrument);
	if (symbol && *symbol)
		put_str(&b, "symbol", symbol, 16);
	put_u(&b, "seq", ev->seq);
	put_u(&b, "exch_ts_ns", ev->exch_ts_ns);
	put_u(&b, "recv_ts_ns", ev->recv_ts_ns);

	switch (ev->type) {
	case FH_EV_ORDER_ADD:
		put_u(&b, "order_ref", ev->u.add.order_ref);
		put_px(&b, "price", ev->u.add.price);
		put_u(&b, "qty", ev->u.add.qty);
		put_chr(&b, "side", (char)ev->u.add.side);
		put_u(&b, "flags", ev->u.add.flags);
		if (ev->u.add.flags & FH_ORDER_F_MPID)
			put_str(&b, "mpid", ev->u.add.mpid, 4);
		break;
	case FH_EV_ORDER_EXEC:
		put_u(&b, "order_ref", ev->u.exec.order_ref);
		put_u(&b, "match_no", ev->u.exec.match_no);
		put_px(&b, "price", ev->u.exec.price);
		put_u(&b, "qty", ev->u.exec.qty);
		put_u(&b, "printable", ev->u.exec.printable);
		put_u(&b, "with_price", ev->u.exec.with_price);
		break;
	case FH_EV_ORDER_CANCEL:
	case FH_EV_ORDER_DELETE:
		put_u(&b, "order_ref", ev->u.cancel.order_ref);
		put_u(&b, "qty", ev->u.cancel.qty);
		break;
	case FH_EV_ORDER_REPLACE:
		put_u(&b, "orig_ref", ev->u.replace.orig_ref);
		put_u(&b, "new_ref", ev->u.replace.new_ref);
		put_px(&b, "price", ev->u.replace.price);
		put_u(&b, "qty", ev->u.replace.qty);
		break;
	case FH_EV_TRADE:
		put_px(&b, "price", ev->u.trade.price);
		put_u(&b, "qty", ev->u.trade.qty);
		put_u(&b, "match_no", ev->u.trade.match_no);
		put_chr(&b, "side", (char)ev->u.trade.side);
		put_chr(&b, "kind", (char)ev->u.trade.kind);
		put_u(&b, "flags", ev->u.trade.flags);
		put_chr(&b, "cross_type", (char)ev->u.trade.cross_type);
		break;
	case FH_EV_BROKEN_TRADE:
		put_u(&b, "match_no", ev->u.broken.match_no);
		break;
	case FH_EV_L2_UPDATE:
		put_chr(&b, "side", (char)ev->u.l2.side);
		put_u(&b, "level", ev->u.l2.level);
		put_u(&b, "action", ev->u.l2.action);
		put_px(&b, "price", ev->u.l2.price);
		put_u(&b, "qty", ev->u.l2.qty);
		put_u(&b, "orders", ev->u.l2.orders);
		put_u(&b, "flags", ev->u.l2.flags);
		break;
	case FH_EV_BBO:
		put_px(&b, "bid_px", ev->u.bbo.bid_px);
		put_u(&b, "bid_qty", ev->u.bbo.bid_qty);
		put_px(&b, "ask_px", ev->u.bbo.ask_px);
		put_u(&b, "ask_qty", ev->u.bbo.ask_qty);
		break;
	case FH_EV_INSTRUMENT:
		put_str(&b, "instr_symbol", ev->u.instr.symbol, sizeof(ev->u.instr.symbol));
		put_u(&b, "round_lot", ev->u.instr.round_lot);
		put_u(&b, "qty_decimals", ev->u.instr.qty_decimals);
		put_chr(&b, "market_category", ev->u.instr.market_category);
		put_chr(&b, "financial_status", ev->u.instr.financial_status);
		put_chr(&b, "issue_class", ev->u.instr.issue_class);
		put_str(&b, "issue_subtype", ev->u.instr.issue_subtype, 2);
		put_chr(&b, "authenticity", ev->u.instr.authenticity);
		put_chr(&b, "short_sale_threshold", ev->u.instr.short_sale_threshold);
		put_chr(&b, "ipo_flag", ev->u.instr.ipo_flag);
		put_chr(&b, "luld_tier", ev->u.instr.luld_tier);
		put_chr(&b, "etp_flag", ev->u.instr.etp_flag);
		put_chr(&b, "inverse", ev->u.instr.inverse);
		break;
	case FH_EV_TRADING_STATUS:
		put_chr(&b, "msg_type", (char)ev->u.status.msg_type);
		put_chr(&b, "state", ev->u.status.state);
		put_str(&b, "reason", ev->u.status.reason, 4);
		put_chr(&b, "market_code", ev->u.status.market_code);
		put_u(&b, "halted", ev->u.status.halted);
		break;
	case FH_EV_SYSTEM:
		put_chr(&b, "code", ev->u.system.code);
		break;
	case FH_EV_REFERENCE:
		put_chr(&b, "msg_type", (char)ev->u.ref.msg_type);
		put_u(&b, "part", ev->u.ref.part);
		put_str(&b, "c", ev->u.ref.c, 6);
		put(&b, ",\"v\":[%" PRId64 ",%" PRId64 ",%" PRId64 "]", ev->u.ref.v[0], ev->u.ref.v[1],
		    ev->u.ref.v[2]);
		break;
	case FH_EV_FEED_STATUS:
		put_u(&b, "kind", ev->u.feed.kind);
		put_str(&b, "session", ev->u.feed.session, 10);
		put_u(&b, "first_seq", ev->u.feed.first_seq);
		put_u(&b, "last_seq", ev->u.feed.last_seq);
		break;
	case FH_EV_BAR:
		put_px(&b, "open", ev->u.bar.open);
		put_px(&b, "high", ev->u.bar.high);
		put_px(&b, "low", ev->u.bar.low);
		put_px(&b, "close", ev->u.bar.close);
		break;
	case FH_EV_BAR_STATS:
	case FH_EV_VWAP:
		put_u(&b, "volume", ev->u.stats.volume);
		put_px(&b, "vwap", ev->u.stats.vwap);
		put_u(&b, "trades", ev->u.stats.trades);
		put_u(&b, "window_ms", ev->u.stats.window_ms);
		put_u(&b, "window_id", ev->u.stats.window_id);
		put_u(&b, "window_kind", ev->u.stats.window_kind);
		break;
	case FH_EV_ALERT:
		put_d(&b, "value", ev->u.alert.value);
		put_d(&b, "threshold", ev->u.alert.threshold);
		put_px(&b, "price", ev->u.alert.price);
		put_u(&b, "window_ms", ev->u.alert.window_ms);
		put_u(&b, "rule_id", ev->u.alert.rule_id);
		put_u(&b, "rule_kind", ev->u.alert.rule_kind);
		put_u(&b, "severity", ev->u.alert.severity);
		break;
	case FH_EV_BOOK_SNAPSHOT:
		put(&b, ",\"checksum\":\"%016" PRIx64 "\"", ev->u.snap.checksum);
		put_u(&b, "updates", ev->u.snap.updates);
		put_u(&b, "orders", ev->u.snap.orders);
		put_u(&b, "depth", ev->u.snap.depth);
		put_u(&b, "bid_levels", ev->u.snap.bid_levels);
		put_u(&b, "ask_levels", ev->u.snap.ask_levels);
		put_u(&b, "flags", ev->u.snap.flags);
		break;
	case FH_EV_MARKET_STAT:
		put_px(&b, "value", ev->u.stat.value);
		put_u(&b, "qty", ev->u.stat.qty);
		put_u(&b, "level", ev->u.stat.level);
		put_str(&b, "entry_type", ev->u.stat.entry_type, 2);
		put_u(&b, "action", ev->u.stat.action);
		break;
	case FH_EV_HEARTBEAT:
		put_u(&b, "events", ev->u.hb.events);
		put_u(&b, "uptime_ns", ev->u.hb.uptime_ns);
		break;
	default:
		put_i(&b, "unknown_type", ev->type);
		break;
	}
	put(&b, "}");
	return b.err ? -ENOSPC : (int)b.n;
}
