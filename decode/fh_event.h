/* SPDX-License-Identifier: MIT */
/* fh_event.h: the normalized event, the one 64-byte struct every stage passes on. */
#ifndef FH_EVENT_H
#define FH_EVENT_H

/*
 * Every stage (decode, book, engine, publish) produces and consumes
 * struct fh_event. It is also the shm ring slot and the binary Kafka value,
 * so its layout is an ABI: fields are explicit-width and little-endian
 * (the host order of every supported platform, asserted below), offsets
 * are pinned with _Static_assert, and any change bumps
 * FH_EVENT_SCHEMA_VERSION. docs/EVENTS.md documents every field.
 *
 * Units:
 *   prices      int64, fixed point, FH_PRICE_SCALE (1e-8) per unit: ITCH's
 *               4 decimals multiply by FH_PRICE_ITCH_MULT; FIX decimals up to
 *               8 places are exact, more are rejected (never rounded).
 *               FH_PRICE_NONE marks "no price" (an empty side).
 *   quantities  integers in the instrument's unit: shares for ITCH; for FIX,
 *               10^-qty_decimals of the instrument (FH_EV_INSTRUMENT).
 *   times       nanoseconds. exch_ts_ns: since the Unix epoch (UTC) when
 *               the source's trading date is configured, else since the
 *               venue's midnight. recv_ts_ns: since the Unix epoch (UTC).
 */

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

#define FH_EVENT_SCHEMA_VERSION 1
#define FH_EVENT_SIZE 64

#define FH_PRICE_SCALE 100000000LL
#define FH_PRICE_DECIMALS 8
#define FH_PRICE_ITCH_MULT 10000LL /* ITCH price (1e-4) -> FH price (1e-8) */
#define FH_PRICE_NONE INT64_MIN
#define FH_INSTRUMENT_NONE UINT32_MAX

enum fh_event_type {
	FH_EV_NONE = 0,
	/* L3 order flow, as decoded (ITCH A/F, E/C, X, D, U). */
	FH_EV_ORDER_ADD = 1,
	FH_EV_ORDER_EXEC = 2,
	FH_EV_ORDER_CANCEL = 3,
	FH_EV_ORDER_DELETE = 4,
	FH_EV_ORDER_REPLACE = 5,
	/* Prints: executions against the book, P, Q, FIX trades. */
	FH_EV_TRADE = 6,
	FH_EV_BROKEN_TRADE = 7,
	/* L2 book output. */
	FH_EV_L2_UPDATE = 8,
	FH_EV_BBO = 9,
	/* Reference and state. */
	FH_EV_INSTRUMENT = 10,
	FH_EV_TRADING_STATUS = 11,
	FH_EV_SYSTEM = 12,
	FH_EV_REFERENCE = 13,
	FH_EV_FEED_STATUS = 14,
	/* Engine output. */
	FH_EV_BAR = 15,
	FH_EV_BAR_STATS = 16,
	FH_EV_VWAP = 17,
	FH_EV_ALERT = 18,
	/* Book integrity and liveness. */
	FH_EV_BOOK_SNAPSHOT = 19,
	FH_EV_HEARTBEAT = 20,
	/* Venue statistics without a book of their own (FIX 269=3,4,5,...). */
	FH_EV_MARKET_STAT = 21,
	FH_EV__COUNT
};

/* Sides are the ITCH characters, readable in dumps. */
#define FH_SIDE_NONE 0
#define FH_SIDE_BID 'B'
#define FH_SIDE_ASK 'S'

/* FH_EV_ORDER_ADD (ITCH A, F). */
#define FH_ORDER_F_MPID 0x01 /* F: mpid holds the attribution */
struct fh_ev_order_add {
	uint64_t order_ref;
	int64_t price;
	uint32_t qty;
	uint8_t side;
	uint8_t flags;
	char mpid[4]; /* not NUL-terminated; spaces trimmed to NULs */
	uint8_t pad[6];
};

/* FH_EV_ORDER_EXEC (ITCH E, and C with its own price). */
struct fh_ev_order_exec {
	uint64_t order_ref;
	uint64_t match_no;
	int64_t price; /* C: execution price; E: FH_PRICE_NONE (the order's price) */
	uint32_t qty;
	uint8_t printable; /* C's Printable flag; 1 for E */
	uint8_t with_price; /* 1 for C */
	uint8_t pad[2];
};

/* FH_EV_ORDER_CANCEL (ITCH X, qty cancelled) and FH_EV_ORDER_DELETE (D, qty 0). */
struct fh_ev_order_cancel {
	uint64_t order_ref;
	uint32_t qty;
	uint8_t pad[20];
};

/* FH_EV_ORDER_REPLACE (ITCH U): new order inherits side and instrument. */
struct fh_ev_order_replace {
	uint64_t orig_ref;
	uint64_t new_ref;
	int64_t price;
	uint32_t qty;
	uint8_t pad[4];
};

/* FH_EV_TRADE. kind says where the print came from. */
#define FH_TRADE_EXEC 'E'       /* execution of a displayed order (book) */
#define FH_TRADE_EXEC_PRICE 'C' /* execution with price (book) */
#define FH_TRADE_NON_CROSS 'P'  /* ITCH P: hidden order execution */
#define FH_TRADE_CROSS 'Q'      /* ITCH Q: cross (open, close, IPO, halt) */
#define FH_TRADE_FIX 'F'        /* FIX 269=2 */
#define FH_TRADE_F_NON_PRINTABLE 0x01 /* excluded from volume and VWAP */
struct fh_ev_trade {
	int64_t price;
	uint64_t qty;
	uint64_t match_no;
	uint8_t side;       /* side of the resting order; 0 when unknown */
	uint8_t kind;       /* FH_TRADE_* */
	uint8_t flags;      /* FH_TRADE_F_* */
	uint8_t cross_type; /* ITCH Q cross type (O, C, H, I), else 0 */
	uint8_t pad[4];
};

/* FH_EV_BROKEN_TRADE (ITCH B). */
struct fh_ev_broken_trade {
	uint64_t match_no;
	uint8_t pad[24];
};

/* FH_EV_L2_UPDATE: one price level changed. level is 1-based (1 = best). */
#define FH_L2_NEW 1
#define FH_L2_CHANGE 2
#define FH_L2_DELETE 3
#define FH_L2_CLEAR 4 /* whole side (or book when side is 0) cleared, e.g. before a snapshot */
#define FH_L2_F_SNAPSHOT 0x01 /* part of a full refresh */
#define FH_L2_F_LAST 0x02     /* last update of one source message */
struct fh_ev_l2 {
	int64_t price;
	uint64_t qty;
	uint32_t orders;
	uint16_t level;
	uint8_t side;
	uint8_t action;
	uint8_t flags;
	uint8_t pad[7];
};

/* FH_EV_BBO: best bid and offer after a change at the top. */
struct fh_ev_bbo {
	int64_t bid_px; /* FH_PRICE_NONE when the side is empty */
	int64_t ask_px;
	uint64_t bid_qty;
	uint64_t ask_qty;
};

/* FH_EV_INSTRUMENT: directory (ITCH R, FIX security definition). */
struct fh_ev_instrument {
	char symbol[16]; /* NUL-padded, trailing spaces trimmed */
	uint32_t round_lot;
	uint8_t qty_decimals;
	char market_category;
	char financial_status;
	char issue_class;
	char issue_subtype[2];
	char authenticity;
	char short_sale_threshold;
	char ipo_flag;
	char luld_tier;
	char etp_flag;
	char inverse;
};

/* FH_EV_TRADING_STATUS (ITCH H trading action, h operational halt, FIX 35=f). */
struct fh_ev_trading_status {
	uint8_t msg_type; /* 'H', 'h', or 'f' */
	char state;       /* H: H halted, P paused, Q quotation only, T trading; h: H or T */
	char reason[4];   /* H: reason code */
	char market_code; /* h: Q, B or X */
	uint8_t halted;   /* 1 when the instrument cannot trade on this feed */
	uint8_t pad[24];
};

/* FH_EV_SYSTEM (ITCH S). */
struct fh_ev_system {
	char code; /* O, S, Q, M, E, C */
	uint8_t pad[31];
};

/*
 * FH_EV_REFERENCE: ITCH messages without an event of their own
 * (Y, L, V, W, K, J, h-less, N, I, O). msg_type is the ITCH type; the
 * meaning of c[] and v[] per type is in docs/EVENTS.md. A message with more
 * fields than fit is split in parts (part 0, 1) with the same header.
 */
struct fh_ev_reference {
	uint8_t msg_type;
	uint8_t part;
	char c[6];
	int64_t v[3];
};

/* FH_EV_FEED_STATUS: sequence and freshness state of a source or instrument. */
#define FH_FEED_GAP 1           /* [first_seq, last_seq] missing */
#define FH_FEED_RECOVERED 2     /* [first_seq, last_seq] filled */
#define FH_FEED_STALE 3         /* instrument (or source) book no longer trusted */
#define FH_FEED_FRESH 4         /* instrument (or source) book trusted again */
#define FH_FEED_END_OF_SESSION 5
#define FH_FEED_SEQ_RESET 6
struct fh_ev_feed_status {
	uint8_t kind;
	char session[10]; /* MoldUDP64 session, or FIX SenderCompID prefix */
	uint8_t pad[5];
	uint64_t first_seq;
	uint64_t last_seq;
};

/* FH_EV_BAR (OHLC) and FH_EV_BAR_STATS, emitted together when a window closes. */
struct fh_ev_bar {
	int64_t open;
	int64_t high;
	int64_t low;
	int64_t close;
};

#define FH_WINDOW_TUMBLING 1
#define FH_WINDOW_SLIDING 2
#define FH_WINDOW_SESSION 3
/* FH_EV_BAR_STATS, and FH_EV_VWAP (session VWAP, window_kind SESSION). */
struct fh_ev_bar_stats {
	uint64_t volume;
	int64_t vwap; /* FH_PRICE_SCALE, rounded half away from zero; FH_PRICE_NONE if no volume */
	uint32_t trades;
	uint32_t window_ms;
	uint16_t window_id;
	uint8_t window_kind;
	uint8_t pad[5];
};

/* FH_EV_ALERT: an anomaly rule fired. */
#define FH_SEV_INFO 1
#define FH_SEV_WARNING 2
#define FH_SEV_CRITICAL 3
struct fh_ev_alert {
	double value;     /* measured value (z-score, ratio, percent, ...) */
	double threshold; /* the rule's threshold in the same unit */
	int64_t price;    /* the price that triggered it, FH_PRICE_NONE if none */
	uint32_t window_ms;
	uint16_t rule_id; /* index of the rule in the engine config */
	uint8_t rule_kind; /* enum in engine/fh_engine.h */
	uint8_t severity;  /* FH_SEV_* */
};

/* FH_EV_BOOK_SNAPSHOT: periodic integrity summary of one book. */
#define FH_BOOK_F_STALE 0x01
#define FH_BOOK_F_CROSSED 0x02
#define FH_BOOK_F_LOCKED 0x04
#define FH_BOOK_F_HALTED 0x08
struct fh_ev_book_snapshot {
	uint64_t checksum; /* hash of the top-`depth` levels, see book/fh_book.h */
	uint64_t updates;  /* book changes applied so far */
	uint32_t orders;
	uint16_t depth;
	uint16_t bid_levels;
	uint16_t ask_levels;
	uint8_t flags;
	uint8_t pad[5];
};

/* FH_EV_MARKET_STAT: venue statistics (index value, open, close, high, low, ...). */
struct fh_ev_market_stat {
	int64_t value; /* FH_PRICE_SCALE */
	uint64_t qty;
	uint32_t level;
	char entry_type[2]; /* FIX MDEntryType (269), e.g. "3", "x" */
	uint8_t action;     /* FH_L2_NEW / CHANGE / DELETE */
	uint8_t pad[9];
};

/* FH_EV_HEARTBEAT: liveness from the publisher. */
struct fh_ev_heartbeat {
	uint64_t events; /* events published so far */
	uint64_t uptime_ns;
	uint8_t pad[16];
};

struct fh_event {
	uint8_t type;        /* enum fh_event_type */
	uint8_t version;     /* FH_EVENT_SCHEMA_VERSION */
	uint16_t source_id;  /* configured source (venue/channel) id */
	uint32_t instrument; /* per-source instrument id (ITCH stock locate) */
	uint64_t seq;        /* venue sequence number of the source message */
	uint64_t exch_ts_ns;
	uint64_t recv_ts_ns;
	union {
		struct fh_ev_order_add add;
		struct fh_ev_order_exec exec;
		struct fh_ev_order_cancel cancel;
		struct fh_ev_order_replace replace;
		struct fh_ev_trade trade;
		struct fh_ev_broken_trade broken;
		struct fh_ev_l2 l2;
		struct fh_ev_bbo bbo;
		struct fh_ev_instrument instr;
		struct fh_ev_trading_status status;
		struct fh_ev_system system;
		struct fh_ev_reference ref;
		struct fh_ev_feed_status feed;
		struct fh_ev_bar bar;
		struct fh_ev_bar_stats stats;
		struct fh_ev_alert alert;
		struct fh_ev_book_snapshot snap;
		struct fh_ev_market_stat stat;
		struct fh_ev_heartbeat hb;
		uint8_t raw[32];
	} u;
} __attribute__((aligned(FH_EVENT_SIZE)));

_Static_assert(sizeof(struct fh_event) == FH_EVENT_SIZE, "event is one cache line");
_Static_assert(offsetof(struct fh_event, source_id) == 2, "layout");
_Static_assert(offsetof(struct fh_event, instrument) == 4, "layout");
_Static_assert(offsetof(struct fh_event, seq) == 8, "layout");
_Static_assert(offsetof(struct fh_event, exch_ts_ns) == 16, "layout");
_Static_assert(offsetof(struct fh_event, recv_ts_ns) == 24, "layout");
_Static_assert(offsetof(struct fh_event, u) == 32, "layout");
_Static_assert(sizeof(((struct fh_event *)0)->u) == 32, "payload is 32 bytes");
_Static_assert(offsetof(struct fh_ev_trade, side) == 24, "layout");
_Static_assert(offsetof(struct fh_ev_l2, level) == 20, "layout");
_Static_assert(offsetof(struct fh_ev_instrument, round_lot) == 16, "layout");
_Static_assert(offsetof(struct fh_ev_feed_status, first_seq) == 16, "layout");
_Static_assert(offsetof(struct fh_ev_alert, rule_id) == 28, "layout");
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "events are little-endian on the wire");

/* Name of an event type ("order_add", ...), "unknown" for others. */
const char *fh_event_type_name(unsigned type);

/* Event family used to route to Kafka topics: "book", "trades", "orders",
 * "bars", "alerts", "status", "reference". */
const char *fh_event_family(unsigned type);

/* One human-readable line (no newline) into buf; returns its length as snprintf. */
int fh_event_format(const struct fh_event *ev, char *buf, size_t len);

/* Fixed-point price to text with `decimals` places (<= 8), e.g. 123.4500. */
int fh_price_format(int64_t price, unsigned decimals, char *buf, size_t len);

static inline void fh_event_init(struct fh_event *ev, unsigned type)
{
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->type = (uint8_t)type;
	ev->version = FH_EVENT_SCHEMA_VERSION;
}

#endif /* FH_EVENT_H */
