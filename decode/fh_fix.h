/* SPDX-License-Identifier: MIT */
/* fh_fix.h: zero-copy FIX tag=value market-data decoder (FIX 4.2, 4.4, FIXT.1.1/5.0 SP2). */
#ifndef FH_FIX_H
#define FH_FIX_H

/*
 * One call decodes one framed message (8=...<SOH>10=nnn<SOH>) in place:
 * BeginString, BodyLength (zero padding accepted) and CheckSum are
 * validated, every field is checked for tag=value syntax, and market data
 * is converted to normalized events (decode/fh_event.h):
 *
 *   35=W  snapshot: L2_UPDATE CLEAR (side 0) then one NEW per bid/offer
 *         entry (FH_L2_F_SNAPSHOT); other entry types (trade included: a
 *         snapshot's last trade is state, not a new print) -> MARKET_STAT.
 *   35=X  incremental: 269=0/1 -> L2_UPDATE (279 0 new, 1 change, 2 delete,
 *         5 overlay = change); 269=2 -> TRADE (kind FH_TRADE_FIX);
 *         269=J (empty book) -> L2_UPDATE CLEAR; others (3 index value,
 *         4 open, 5 close, 7 high, 8 low, x, y, ...) -> MARKET_STAT.
 *   35=d, 35=y (each 55 of the list) -> INSTRUMENT.
 *   35=f  SecurityStatus -> TRADING_STATUS.
 *   Session messages (A 0 1 2 3 4 5), V, Y and other well-formed known
 *   types produce no event; their fields are in struct fh_fix_msg.
 *
 * The last L2_UPDATE of a message carries FH_L2_F_LAST. L2 level is
 * MDPriceLevel (1023) when present, else 0 (the level is identified by
 * price). Entries that omit Symbol (55) inherit the previous entry's (or the
 * message-level one). Prices: exact FH_PRICE_SCALE fixed point, parsed
 * without floating point; a non-zero digit beyond the 8th decimal is
 * rejected (too_many_decimals), trailing zeros are exact and accepted.
 * That rule is absolute for bid/offer/trade prices (books and prints). A
 * statistic entry (MARKET_STAT: index value, open, close, ...) whose value
 * fixed point cannot hold (venues print float noise such as JSE's
 * 270=55.229999999999) is not rounded either: its event carries value
 * FH_PRICE_NONE, the message is accepted, stat_inexact counts it and the raw
 * message goes to the dead-letter sink as "stat_inexact_value".
 * Sizes: integers in 10^-qty_decimals of the instrument (the instrument's
 * qty_decimals, from the config default or fh_fix_symtab_add()); a size
 * with more non-zero decimals is rejected. event.seq is MsgSeqNum (34) or,
 * without it, ApplSeqNum (1181). exch_ts_ns: the entry's TransactTime
 * (60), else MDEntryDate/Time (272/273, the date from SendingTime when 272
 * is absent), else SendingTime (52); ns since the Unix epoch (UTC).
 *
 * Instruments: a preallocated symbol table maps Symbol (55, else
 * SecurityID 48) to a dense id (0, 1, ...). An unknown symbol is added on
 * first sight (an INSTRUMENT event precedes its first update) unless
 * cfg.auto_add is false (then: unknown_symbol). RptSeq (83) is tracked per
 * instrument: a jump forward emits FEED_STATUS GAP [expected, got-1] and
 * STALE for that instrument; the next 35=W for it emits FRESH. Equal
 * RptSeq in consecutive entries is allowed (several entries of one
 * update); a lower one is counted in rptseq_old.
 *
 * Rejections: the message produces no event, rejects[reason] is bumped and
 * the raw bytes go to the dead-letter sink (when one is attached).
 *
 * Threading: a decoder belongs to one thread. Nothing is allocated after
 * fh_fix_init(); fh_fix_decode() makes no syscall except on rejection when
 * a dead-letter file is attached (the rare path).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fh_event.h"

struct fh_dlq;

#define FH_FIX_SOH 0x01
/* Longest Symbol (55) / SecurityID (48) kept: OCC option symbols are 21. The
 * FH_EV_INSTRUMENT event carries the first 16 bytes. */
#define FH_FIX_SYMBOL_MAX 32

enum fh_fix_reject {
	FH_FIX_OK = 0,
	FH_FIX_REJ_BAD_BEGIN_STRING,  /* not 8=FIX.4.x / 8=FIXT.1.1 first */
	FH_FIX_REJ_BAD_BODY_LENGTH,   /* 9 missing, not 2nd, or not where 10= is */
	FH_FIX_REJ_BAD_CHECKSUM,      /* 10 value differs from the byte sum */
	FH_FIX_REJ_GARBLED,           /* field not tag=value<SOH> */
	FH_FIX_REJ_MISSING_TAG,       /* a tag the type requires is absent */
	FH_FIX_REJ_OVERSIZE,          /* over cfg.max_msg_len */
	FH_FIX_REJ_UNSUPPORTED_TYPE,  /* MsgType not handled by a market-data feed */
	FH_FIX_REJ_TOO_MANY_DECIMALS, /* price or size not exact in fixed point */
	FH_FIX_REJ_BAD_PRICE,         /* 270 not a decimal number, or overflow */
	FH_FIX_REJ_BAD_QTY,           /* 271 not a non-negative decimal, or overflow */
	FH_FIX_REJ_BAD_VALUE,         /* bad integer / enum (34, 83, 279, 269, ...) */
	FH_FIX_REJ_BAD_GROUP,         /* 268 count differs from the entries present */
	FH_FIX_REJ_TOO_MANY_ENTRIES,  /* over cfg.max_entries */
	FH_FIX_REJ_UNKNOWN_SYMBOL,    /* not in the table and auto_add is off */
	FH_FIX_REJ_SYMTAB_FULL,       /* table at cfg.max_instruments */
	FH_FIX_REJ_SYMBOL_TOO_LONG,   /* over FH_FIX_SYMBOL_MAX bytes */
	FH_FIX_REJ_TRUNCATED,         /* stream ended inside a message */
	FH_FIX_REJ__COUNT
};

/* Reason name ("bad_checksum", ...), "unknown" for others. */
const char *fh_fix_reject_name(unsigned reason);

enum fh_fix_version {
	FH_FIX_V_UNKNOWN = 0,
	FH_FIX_V40, FH_FIX_V41, FH_FIX_V42, FH_FIX_V43, FH_FIX_V44, FH_FIX_V50,
	FH_FIX_VT11, /* FIXT.1.1 (application version in 1128 / 1137) */
};

/* A value inside the message buffer (not NUL-terminated). */
struct fh_fix_str {
	const char *p;
	uint32_t len;
};

/* Header and session fields of one decoded message, pointers into it. */
struct fh_fix_msg {
	const uint8_t *buf;
	uint32_t len;
	uint8_t version;    /* enum fh_fix_version */
	char type[3];       /* MsgType, NUL-terminated (1 or 2 chars) */
	bool poss_dup;      /* 43=Y */
	bool poss_resend;   /* 97=Y */
	bool gap_fill;      /* 123=Y */
	bool reset_seq;     /* 141=Y */
	uint32_t heart_bt_int; /* 108, seconds */
	uint32_t entries;      /* NoMDEntries (268) */
	uint32_t reject_tag;   /* the tag that caused a rejection, 0 if none */
	uint64_t seq_num;      /* 34, 0 when absent */
	uint64_t appl_seq;     /* 1181, 0 when absent */
	uint64_t new_seq_no;   /* 36 */
	uint64_t begin_seq_no; /* 7 */
	uint64_t end_seq_no;   /* 16 */
	uint64_t ref_seq_num;  /* 45 */
	uint64_t sending_time_ns; /* 52 as ns since the epoch: filled for messages that
				   * produce events (0 otherwise, or when unparsable) */
	struct fh_fix_str sending_time; /* 52 as sent */
	struct fh_fix_str sender;       /* 49 */
	struct fh_fix_str target;       /* 56 */
	struct fh_fix_str test_req_id;  /* 112 */
	struct fh_fix_str text;         /* 58 */
	struct fh_fix_str md_req_id;    /* 262 */
	struct fh_fix_str orig_sending_time; /* 122 */
};

struct fh_fix_cfg {
	uint16_t source_id;
	uint32_t max_instruments; /* symbol table capacity (0: 1024) */
	uint32_t max_entries;     /* per message (0: 256) */
	uint32_t max_msg_len;     /* bytes (0: 65536) */
	uint8_t qty_decimals;     /* default for new instruments (<= 8) */
	bool auto_add;            /* unknown symbols get the next id */
	bool require_header;      /* 34, 49, 56, 52 mandatory (sessions) */
};

/* One symbol table slot (internal layout, read-only for users). */
struct fh_fix_instr {
	char sym[FH_FIX_SYMBOL_MAX];
	uint8_t sym_len;
	uint8_t qty_decimals;
	uint8_t stale;     /* RptSeq gap seen, waiting for a snapshot */
	uint8_t has_rptseq;
	uint8_t announced; /* its FH_EV_INSTRUMENT was emitted */
	uint8_t pad[3];
	uint64_t rptseq;
};

struct fh_fix_decoder {
	struct fh_fix_cfg cfg;
	struct fh_fix_instr *instr; /* [max_instruments] */
	uint32_t *slots;            /* hash -> id + 1, 0 empty; 2x capacity */
	void *entries;              /* [max_entries] per-message scratch */
	uint64_t *soh_mask;         /* per-message SOH / '=' bitmaps, max_msg_len bits */
	uint64_t *eq_mask;
	uint32_t slot_mask;
	uint32_t n_instr;
	struct fh_dlq *dlq;         /* optional dead-letter sink */
	void *owned;                /* memory from fh_fix_create() */
	uint64_t msgs;              /* accepted messages */
	uint64_t events;            /* events produced */
	uint64_t rejects[FH_FIX_REJ__COUNT];
	uint64_t rptseq_gaps;
	uint64_t rptseq_old;
	uint64_t stat_inexact; /* statistic values published without value (see above) */
	bool x86v3;            /* the AVX2 + BMI2 build of the decoder is used */
	uint64_t ts_date8;     /* last YYYYMMDD seen in a timestamp, and its day number */
	int64_t ts_days;
};

/* Bytes needed by fh_fix_init() for cfg (after defaults). */
size_t fh_fix_memsize(const struct fh_fix_cfg *cfg);

/* Initializes d over mem (fh_fix_memsize() bytes, 8-byte aligned, owned by
 * the caller). Returns 0 or -EINVAL. */
int fh_fix_init(struct fh_fix_decoder *d, void *mem, const struct fh_fix_cfg *cfg);

/* Allocates and initializes a decoder; NULL on error. */
struct fh_fix_decoder *fh_fix_create(const struct fh_fix_cfg *cfg);
void fh_fix_destroy(struct fh_fix_decoder *d);

/* Attaches a dead-letter sink (may be NULL). */
void fh_fix_set_dlq(struct fh_fix_decoder *d, struct fh_dlq *dlq);

/* Most events one message can produce: size the out array with it. */
unsigned fh_fix_max_events(const struct fh_fix_decoder *d);

/*
 * Decodes exactly one message buf[0..len) (the whole 8=...10=nnn<SOH>).
 * Fills *msg (always; fields after the failure point stay zero) and writes
 * up to cap events to out. Returns the event count (>= 0), or
 * -FH_FIX_REJ_* (rejected, counted, dead-lettered). cap below
 * fh_fix_max_events() may reject a large message as too_many_entries.
 */
int fh_fix_decode(struct fh_fix_decoder *d, const uint8_t *buf, size_t len,
		  uint64_t recv_ts_ns, struct fh_fix_msg *msg, struct fh_event *out,
		  unsigned cap);

/*
 * Framing of a byte stream (TCP, or a raw SOH capture). Looks at
 * buf[0..len); *skip is always set to the bytes to drop first (CR, LF and
 * spaces between messages are dropped silently). Returns:
 *   > 0  a complete message of that many bytes starts at buf[*skip];
 *   0    need more bytes (after dropping *skip);
 *   < 0  -FH_FIX_REJ_*: buf[0..*skip) is not a message (dead-letter it and
 *        drop it; *skip reaches the next "8=FIX" candidate).
 * Only 8= and 9= and the 10= position are checked; the CheckSum value is
 * verified by fh_fix_decode().
 */
long fh_fix_frame(const uint8_t *buf, size_t len, uint32_t max_msg_len, size_t *skip);

/*
 * Header peek for sessions: from a framed message (fh_fix_frame() > 0),
 * fills msg->type, seq_num (34), poss_dup (43), gap_fill (123) and
 * new_seq_no (36) without validating the CheckSum and without any side
 * effect, so a session can order messages before decoding them. Returns 0,
 * or -FH_FIX_REJ_GARBLED / -FH_FIX_REJ_MISSING_TAG (no 35).
 */
int fh_fix_peek(const uint8_t *buf, size_t len, struct fh_fix_msg *msg);

/* Counts a rejection found outside fh_fix_decode() (framing) and sends the
 * bytes to the dead-letter sink. Returns -reason. */
int fh_fix_reject_bytes(struct fh_fix_decoder *d, int reason, const uint8_t *buf, size_t len,
			uint64_t recv_ts_ns);

/*
 * Symbol table. Adds sym (1..FH_FIX_SYMBOL_MAX bytes) with its quantity decimals, or
 * returns the existing id. Returns the id (>= 0), -ENOSPC when full,
 * -EINVAL for a bad symbol or qty_decimals > 8. Cold path.
 */
long fh_fix_symtab_add(struct fh_fix_decoder *d, const char *sym, size_t len,
		       unsigned qty_decimals);
/* Id of sym, or -ENOENT. */
long fh_fix_symtab_find(const struct fh_fix_decoder *d, const char *sym, size_t len);
/* Table entry of id (sym is not NUL-terminated: sym_len), NULL when out of range. */
const struct fh_fix_instr *fh_fix_instrument(const struct fh_fix_decoder *d, uint32_t id);

/* CheckSum of buf[0..len): the byte sum modulo 256. */
unsigned fh_fix_checksum(const uint8_t *buf, size_t len);

/*
 * Parses a FIX decimal string into fixed point with `decimals` places
 * (<= 8): exact, no floating point. Returns 0, -FH_FIX_REJ_TOO_MANY_DECIMALS
 * or -FH_FIX_REJ_BAD_PRICE (syntax or overflow).
 */
int fh_fix_parse_decimal(const char *p, size_t len, unsigned decimals, int64_t *out);

/* Parses a UTCTimestamp (YYYYMMDD-HH:MM:SS[.sss[sss[sss]]]) to ns since the
 * epoch. Returns 0 or -EINVAL. */
int fh_fix_parse_utc_ts(const char *p, size_t len, uint64_t *ns);

/* Writes a message with header 8, 9, 35, the given body fields
 * ("tag=value<SOH>..." already formatted) and the CheckSum. Returns the
 * length or -ENOSPC. Used by the session and by tests. */
long fh_fix_build(char *out, size_t cap, const char *begin_string, const char *msg_type,
		  const char *body, size_t body_len);

#endif /* FH_FIX_H */
