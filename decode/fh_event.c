/* SPDX-License-Identifier: MIT */
/* fh_event.c: names, families and text formatting of normalized events (cold path). */
#include <inttypes.h>
#include <stdio.h>

#include "fh_event.h"

static const char *const type_names[FH_EV__COUNT] = {
	[FH_EV_NONE] = "none",
	[FH_EV_ORDER_ADD] = "order_add",
	[FH_EV_ORDER_EXEC] = "order_exec",
	[FH_EV_ORDER_CANCEL] = "order_cancel",
	[FH_EV_ORDER_DELETE] = "order_delete",
	[FH_EV_ORDER_REPLACE] = "order_replace",
	[FH_EV_TRADE] = "trade",
	[FH_EV_BROKEN_TRADE] = "broken_trade",
	[FH_EV_L2_UPDATE] = "l2_update",
	[FH_EV_BBO] = "bbo",
	[FH_EV_INSTRUMENT] = "instrument",
	[FH_EV_TRADING_STATUS] = "trading_status",
	[FH_EV_SYSTEM] = "system",
	[FH_EV_REFERENCE] = "reference",
	[FH_EV_FEED_STATUS] = "feed_status",
	[FH_EV_BAR] = "bar",
	[FH_EV_BAR_STATS] = "bar_stats",
	[FH_EV_VWAP] = "vwap",
	[FH_EV_ALERT] = "alert",
	[FH_EV_BOOK_SNAPSHOT] = "book_snapshot",
	[FH_EV_HEARTBEAT] = "heartbeat",
	[FH_EV_MARKET_STAT] = "market_stat",
};

static const char *const type_families[FH_EV__COUNT] = {
	[FH_EV_NONE] = "status",
	[FH_EV_ORDER_ADD] = "orders",
	[FH_EV_ORDER_EXEC] = "orders",
	[FH_EV_ORDER_CANCEL] = "orders",
	[FH_EV_ORDER_DELETE] = "orders",
	[FH_EV_ORDER_REPLACE] = "orders",
	[FH_EV_TRADE] = "trades",
	[FH_EV_BROKEN_TRADE] = "trades",
	[FH_EV_L2_UPDATE] = "book",
	[FH_EV_BBO] = "book",
	[FH_EV_INSTRUMENT] = "reference",
	[FH_EV_TRADING_STATUS] = "status",
	[FH_EV_SYSTEM] = "status",
	[FH_EV_REFERENCE] = "reference",
	[FH_EV_FEED_STATUS] = "status",
	[FH_EV_BAR] = "bars",
	[FH_EV_BAR_STATS] = "bars",
	[FH_EV_VWAP] = "bars",
	[FH_EV_ALERT] = "alerts",
	[FH_EV_BOOK_SNAPSHOT] = "book",
	[FH_EV_HEARTBEAT] = "status",
	[FH_EV_MARKET_STAT] = "trades",
};

const char *fh_event_type_name(unsigned type)
{
	return type < FH_EV__COUNT && type_names[type] ? type_names[type] : "unknown";
}

const char *fh_event_family(unsigned type)
{
	return type < FH_EV__COUNT && type_families[type] ? type_families[type] : "status";
}

int fh_price_format(int64_t price, unsigned decimals, char *buf, size_t len)
{
	static const int64_t div[] = { 100000000, 10000000, 1000000, 100000, 10000,
				       1000, 100, 10, 1 };
	if (price == FH_PRICE_NONE)
		return snprintf(buf, len, "-");
	if (decimals > FH_PRICE_DECIMALS)
		decimals = FH_PRICE_DECIMALS;
	uint64_t mag = price < 0 ? -(uint64_t)price : (uint64_t)price;
	uint64_t ip = mag / FH_PRICE_SCALE;
	uint64_t fp = (mag % FH_PRICE_SCALE) / (uint64_t)div[decimals];
	if (decimals == 0)
		return snprintf(buf, len, "%s%" PRIu64, price < 0 ? "-" : "", ip);
	return snprintf(buf, len, "%s%" PRIu64 ".%0*" PRIu64, price < 0 ? "-" : "",
			ip, (int)decimals, fp);
}

/* A payload char as printable text: NUL and non-printables become '.'. */
static char pc(char c)
{
	return c >= 0x20 && c < 0x7f ? c : '.';
}

int fh_event_format(const struct fh_event *ev, char *buf, size_t len)
{
	char p1[32], p2[32];
	int n = snprintf(buf, len, "%s src=%u instr=%u seq=%" PRIu64 " ts=%" PRIu64,
			 fh_event_type_name(ev->type), ev->source_id, ev->instrument,
			 ev->seq, ev->exch_ts_ns);
	if (n < 0 || (size_t)n >= len)
		return n;
	buf += n;
	len -= (size_t)n;
	int m = 0;

	switch (ev->type) {
	case FH_EV_ORDER_ADD:
		fh_price_format(ev->u.add.price, 4, p1, sizeof(p1));
		m = snprintf(buf, len, " ref=%" PRIu64 " side=%c qty=%u px=%s mpid=%.4s",
			     ev->u.add.order_ref, pc((char)ev->u.add.side), ev->u.add.qty, p1,
			     ev->u.add.flags & FH_ORDER_F_MPID ? ev->u.add.mpid : "");
		break;
	case FH_EV_ORDER_EXEC:
		fh_price_format(ev->u.exec.price, 4, p1, sizeof(p1));
		m = snprintf(buf, len, " ref=%" PRIu64 " qty=%u match=%" PRIu64 " px=%s printable=%u",
			     ev->u.exec.order_ref, ev->u.exec.qty, ev->u.exec.match_no, p1,
			     ev->u.exec.printable);
		break;
	case FH_EV_ORDER_CANCEL:
	case FH_EV_ORDER_DELETE:
		m = snprintf(buf, len, " ref=%" PRIu64 " qty=%u", ev->u.cancel.order_ref,
			     ev->u.cancel.qty);
		break;
	case FH_EV_ORDER_REPLACE:
		fh_price_format(ev->u.replace.price, 4, p1, sizeof(p1));
		m = snprintf(buf, len, " orig=%" PRIu64 " new=%" PRIu64 " qty=%u px=%s",
			     ev->u.replace.orig_ref, ev->u.replace.new_ref, ev->u.replace.qty, p1);
		break;
	case FH_EV_TRADE:
		fh_price_format(ev->u.trade.price, 4, p1, sizeof(p1));
		m = snprintf(buf, len, " kind=%c side=%c qty=%" PRIu64 " px=%s match=%" PRIu64 " flags=%u",
			     pc((char)ev->u.trade.kind), pc((char)ev->u.trade.side), ev->u.trade.qty,
			     p1, ev->u.trade.match_no, ev->u.trade.flags);
		break;
	case FH_EV_BROKEN_TRADE:
		m = snprintf(buf, len, " match=%" PRIu64, ev->u.broken.match_no);
		break;
	case FH_EV_L2_UPDATE:
		fh_price_format(ev->u.l2.price, 4, p1, sizeof(p1));
		m = snprintf(buf, len, " side=%c level=%u action=%u px=%s qty=%" PRIu64 " orders=%u",
			     pc((char)ev->u.l2.side), ev->u.l2.level, ev->u.l2.action, p1,
			     ev->u.l2.qty, ev->u.l2.orders);
		break;
	case FH_EV_BBO:
		fh_price_format(ev->u.bbo.bid_px, 4, p1, sizeof(p1));
		fh_price_format(ev->u.bbo.ask_px, 4, p2, sizeof(p2));
		m = snprintf(buf, len, " bid=%" PRIu64 "@%s ask=%" PRIu64 "@%s", ev->u.bbo.bid_qty,
			     p1, ev->u.bbo.ask_qty, p2);
		break;
	case FH_EV_INSTRUMENT:
		m = snprintf(buf, len, " symbol=%.16s round_lot=%u qty_decimals=%u",
			     ev->u.instr.symbol, ev->u.instr.round_lot, ev->u.instr.qty_decimals);
		break;
	case FH_EV_TRADING_STATUS:
		m = snprintf(buf, len, " msg=%c state=%c reason=%.4s halted=%u",
			     pc((char)ev->u.status.msg_type), pc(ev->u.status.state),
			     ev->u.status.reason, ev->u.status.halted);
		break;
	case FH_EV_SYSTEM:
		m = snprintf(buf, len, " code=%c", pc(ev->u.system.code));
		break;
	case FH_EV_REFERENCE:
		m = snprintf(buf, len, " msg=%c part=%u c=%c%c%c%c%c%c v=%" PRId64 ",%" PRId64 ",%" PRId64,
			     pc((char)ev->u.ref.msg_type), ev->u.ref.part, pc(ev->u.ref.c[0]),
			     pc(ev->u.ref.c[1]), pc(ev->u.ref.c[2]), pc(ev->u.ref.c[3]),
			     pc(ev->u.ref.c[4]), pc(ev->u.ref.c[5]), ev->u.ref.v[0],
			     ev->u.ref.v[1], ev->u.ref.v[2]);
		break;
	case FH_EV_FEED_STATUS:
		m = snprintf(buf, len, " kind=%u session=%.10s first=%" PRIu64 " last=%" PRIu64,
			     ev->u.feed.kind, ev->u.feed.session, ev->u.feed.first_seq,
			     ev->u.feed.last_seq);
		break;
	case FH_EV_BAR: {
		char p3[32], p4[32];
		fh_price_format(ev->u.bar.open, 4, p1, sizeof(p1));
		fh_price_format(ev->u.bar.high, 4, p2, sizeof(p2));
		fh_price_format(ev->u.bar.low, 4, p3, sizeof(p3));
		fh_price_format(ev->u.bar.close, 4, p4, sizeof(p4));
		m = snprintf(buf, len, " o=%s h=%s l=%s c=%s", p1, p2, p3, p4);
		break;
	}
	case FH_EV_BAR_STATS:
	case FH_EV_VWAP:
		fh_price_format(ev->u.stats.vwap, 8, p1, sizeof(p1));
		m = snprintf(buf, len, " window=%u kind=%u ms=%u volume=%" PRIu64 " trades=%u vwap=%s",
			     ev->u.stats.window_id, ev->u.stats.window_kind, ev->u.stats.window_ms,
			     ev->u.stats.volume, ev->u.stats.trades, p1);
		break;
	case FH_EV_ALERT:
		fh_price_format(ev->u.alert.price, 4, p1, sizeof(p1));
		m = snprintf(buf, len, " rule=%u kind=%u severity=%u value=%.6g threshold=%.6g window_ms=%u px=%s",
			     ev->u.alert.rule_id, ev->u.alert.rule_kind, ev->u.alert.severity,
			     ev->u.alert.value, ev->u.alert.threshold, ev->u.alert.window_ms, p1);
		break;
	case FH_EV_BOOK_SNAPSHOT:
		m = snprintf(buf, len, " checksum=%016" PRIx64 " updates=%" PRIu64 " orders=%u depth=%u bids=%u asks=%u flags=%u",
			     ev->u.snap.checksum, ev->u.snap.updates, ev->u.snap.orders,
			     ev->u.snap.depth, ev->u.snap.bid_levels, ev->u.snap.ask_levels,
			     ev->u.snap.flags);
		break;
	case FH_EV_MARKET_STAT:
		fh_price_format(ev->u.stat.value, 8, p1, sizeof(p1));
		m = snprintf(buf, len, " entry=%.2s action=%u value=%s qty=%" PRIu64 " level=%u",
			     ev->u.stat.entry_type, ev->u.stat.action, p1, ev->u.stat.qty,
			     ev->u.stat.level);
		break;
	case FH_EV_HEARTBEAT:
		m = snprintf(buf, len, " events=%" PRIu64 " uptime_ns=%" PRIu64, ev->u.hb.events,
			     ev->u.hb.uptime_ns);
		break;
	default:
		break;
	}
	return m < 0 ? m : n + m;
}
