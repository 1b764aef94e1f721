/* SPDX-License-Identifier: MIT */
/* fh_itch.c: ITCH 5.0 length table, names, rejections and the field-by-field text dump (cold path). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "fh_dlq.h"
#include "fh_itch.h"


#define T(len, hot) ((uint16_t)((len) | (hot) << 8))
const uint16_t fh_itch_type_table[256] = {
	['S'] = T(12, 0), ['R'] = T(39, 0), ['H'] = T(25, 0), ['Y'] = T(20, 0), ['L'] = T(26, 0),
	['V'] = T(35, 0), ['W'] = T(12, 0), ['K'] = T(28, 0), ['J'] = T(35, 0), ['h'] = T(21, 0),
	['A'] = T(36, 1), ['F'] = T(40, 2), ['E'] = T(31, 6), ['C'] = T(36, 7), ['X'] = T(23, 4),
	['D'] = T(19, 3), ['U'] = T(35, 5), ['P'] = T(44, 8), ['Q'] = T(40, 0), ['B'] = T(19, 0),
	['I'] = T(50, 0), ['N'] = T(20, 0), ['O'] = T(48, 0),
};
#undef T

#define M32 0xffffffffull
#define PX FH_PRICE_ITCH_MULT
#define EVW0(t) ((uint64_t)(t) | (uint64_t)FH_EVENT_SCHEMA_VERSION << 8)


/* Word packing per hot type; see struct fh_itch_hot and the event layouts. */
const struct fh_itch_hot fh_itch_hot[16] = {
	/* A: ref | price | shares, side << 32 | 0 */
	[1] = { .w0 = EVW0(FH_EV_ORDER_ADD), .end = { 19, 36, 24, 19 },
		.mask = { ~0ull, M32, 0xffffffffffull, 0 }, .mult = { 1, PX, 1, 1 },
		.mpid_off = 11, .y_off = 11 },
	/* F: as A, flags = MPID, the MPID spread over words 2 and 3 */
	[2] = { .w0 = EVW0(FH_EV_ORDER_ADD), .end = { 19, 36, 24, 19 },
		.mask = { ~0ull, M32, 0xffffffffffull, 0 }, .mult = { 1, PX, 1, 1 },
		.cst = { 0, 0, (uint64_t)FH_ORDER_F_MPID << 40, 0 },
		.mpid_off = 36, .mpid_mask = 0xffffffffu, .y_off = 11 },
	/* D: ref */
	[3] = { .w0 = EVW0(FH_EV_ORDER_DELETE), .end = { 19, 19, 19, 19 },
		.mask = { ~0ull, 0, 0, 0 }, .mult = { 1, 1, 1, 1 }, .mpid_off = 11, .y_off = 11 },
	/* X: ref | shares */
	[4] = { .w0 = EVW0(FH_EV_ORDER_CANCEL), .end = { 19, 23, 19, 19 },
		.mask = { ~0ull, M32, 0, 0 }, .mult = { 1, 1, 1, 1 }, .mpid_off = 11, .y_off = 11 },
	/* U: orig | new | price | shares */
	[5] = { .w0 = EVW0(FH_EV_ORDER_REPLACE), .end = { 19, 27, 35, 31 },
		.mask = { ~0ull, ~0ull, M32, M32 }, .mult = { 1, 1, PX, 1 },
		.mpid_off = 11, .y_off = 11 },
	/* E: ref | match | no price | shares, printable = 1 */
	[6] = { .w0 = EVW0(FH_EV_ORDER_EXEC), .end = { 19, 31, 19, 23 },
		.mask = { ~0ull, ~0ull, 0, M32 }, .mult = { 1, 1, 1, 1 },
		.cst = { 0, 0, (uint64_t)FH_PRICE_NONE, 1ull << 32 }, .mpid_off = 11, .y_off = 11 },
	/* C: ref | match | price | shares, printable = (31 == 'Y'), with_price = 1 */
	[7] = { .w0 = EVW0(FH_EV_ORDER_EXEC), .end = { 19, 31, 36, 23 },
		.mask = { ~0ull, ~0ull, M32, M32 }, .mult = { 1, 1, PX, 1 },
		.cst = { 0, 0, 0, 1ull << 40 }, .mpid_off = 11, .y_off = 31, .y_mask = 1ull << 32 },
	/* P: price | shares | match | side, kind 'P' */
	[8] = { .w0 = EVW0(FH_EV_TRADE), .end = { 36, 24, 44, 20 },
		.mask = { M32, M32, ~0ull, 0xff }, .mult = { PX, 1, 1, 1 },
		.cst = { 0, 0, 0, (uint64_t)FH_TRADE_NON_CROSS << 8 }, .mpid_off = 11, .y_off = 11 },
};

static const char *const reject_names[FH_ITCH_REJ__COUNT] = {
	[FH_ITCH_REJ_NONE] = "none",
	[FH_ITCH_REJ_SHORT_PACKET] = "short_packet",
	[FH_ITCH_REJ_BAD_BLOCK_LEN] = "bad_block_len",
	[FH_ITCH_REJ_UNKNOWN_TYPE] = "unknown_type",
	[FH_ITCH_REJ_BAD_LENGTH] = "bad_length",
	[FH_ITCH_REJ_OVERRUN] = "overrun",
	[FH_ITCH_REJ_SEQ_REGRESSION] = "seq_regression",
	[FH_ITCH_REJ_BAD_SEQ] = "bad_seq",
	[FH_ITCH_REJ_BAD_FRAME] = "bad_frame",
};

const char *fh_itch_reject_name(unsigned reason)
{
	return reason < FH_ITCH_REJ__COUNT ? reject_names[reason] : "unknown";
}

uint64_t fh_itch_decoder_messages(const struct fh_itch_decoder *d)
{
	return d->messages;
}

uint64_t fh_itch_decoder_events(const struct fh_itch_decoder *d)
{
	return fh_itch_decoder_messages(d) + d->count['R'] + d->count['J'] + d->count['I'] +
	       d->count['O'];
}

unsigned fh_itch_msg_len(uint8_t t)
{
	return fh_itch_type_table[t] & 0xffu;
}

void fh_itch_decoder_init(struct fh_itch_decoder *d, uint16_t source_id,
			  uint64_t day_base_ns, struct fh_dlq *dlq)
{
	memset(d, 0, sizeof(*d));
	d->source_id = source_id;
	d->own_market = 'Q';
	d->day_base_ns = day_base_ns;
	d->dlq = dlq;
}

void fh_itch_decoder_set_session(struct fh_itch_decoder *d, const char *session10)
{
	if (session10)
		memcpy(d->session, session10, sizeof(d->session));
	else
		memset(d->session, 0, sizeof(d->session));
}

int fh_itch_reject(struct fh_itch_decoder *d, enum fh_itch_reject reason,
		   const uint8_t *msg, size_t len, uint64_t seq, uint64_t recv_ts_ns)
{
	d->rejects[reason]++;
	if (d->dlq)
		fh_dlq_write(d->dlq, d->source_id, d->session, seq, recv_ts_ns,
			     fh_itch_reject_name(reason), msg, len);
	return -(int)reason;
}

/*
 * Field layout of every message type, for the dump. Kinds: u = unsigned
 * big-endian integer, p = 4-decimal price, p8 = 8-decimal price, a = alpha
 * (printed trimmed), c = one character code, t = seconds since midnight.
 */
enum fk { FK_U, FK_P4, FK_P8, FK_A, FK_C, FK_SEC };
struct field {
	const char *name;
	uint8_t off;
	uint8_t size;
	uint8_t kind;
};
struct layout {
	uint8_t type;
	const char *name;
	struct field f[12];
};

static const struct layout layouts[] = {
	{ 'S', "system_event", { { "event", 11, 1, FK_C } } },
	{ 'R', "stock_directory",
	  { { "stock", 11, 8, FK_A }, { "market_category", 19, 1, FK_C },
	    { "financial_status", 20, 1, FK_C }, { "round_lot", 21, 4, FK_U },
	    { "round_lots_only", 25, 1, FK_C }, { "issue_class", 26, 1, FK_C },
	    { "issue_subtype", 27, 2, FK_A }, { "authenticity", 29, 1, FK_C },
	    { "short_sale_threshold", 30, 1, FK_C }, { "ipo_flag", 31, 1, FK_C },
	    { "luld_tier", 32, 1, FK_C }, { "etp_flag", 33, 1, FK_C } } },
	{ 'H', "stock_trading_action",
	  { { "stock", 11, 8, FK_A }, { "state", 19, 1, FK_C }, { "reserved", 20, 1, FK_C },
	    { "reason", 21, 4, FK_A } } },
	{ 'Y', "reg_sho_restriction", { { "stock", 11, 8, FK_A }, { "action", 19, 1, FK_C } } },
	{ 'L', "market_participant_position",
	  { { "mpid", 11, 4, FK_A }, { "stock", 15, 8, FK_A }, { "primary_mm", 23, 1, FK_C },
	    { "mm_mode", 24, 1, FK_C }, { "participant_state", 25, 1, FK_C } } },
	{ 'V', "mwcb_decline_level",
	  { { "level1", 11, 8, FK_P8 }, { "level2", 19, 8, FK_P8 }, { "level3", 27, 8, FK_P8 } } },
	{ 'W', "mwcb_status", { { "breached_level", 11, 1, FK_C } } },
	{ 'K', "ipo_quoting_period",
	  { { "stock", 11, 8, FK_A }, { "release_time", 19, 4, FK_SEC },
	    { "release_qualifier", 23, 1, FK_C }, { "ipo_price", 24, 4, FK_P4 } } },
	{ 'J', "luld_auction_collar",
	  { { "stock", 11, 8, FK_A }, { "ref_price", 19, 4, FK_P4 }, { "upper", 23, 4, FK_P4 },
	    { "lower", 27, 4, FK_P4 }, { "extension", 31, 4, FK_U } } },
	{ 'h', "operational_halt",
	  { { "stock", 11, 8, FK_A }, { "market", 19, 1, FK_C }, { "action", 20, 1, FK_C } } },
	{ 'A', "add_order",
	  { { "ref", 11, 8, FK_U }, { "side", 19, 1, FK_C }, { "shares", 20, 4, FK_U },
	    { "stock", 24, 8, FK_A }, { "price", 32, 4, FK_P4 } } },
	{ 'F', "add_order_mpid",
	  { { "ref", 11, 8, FK_U }, { "side", 19, 1, FK_C }, { "shares", 20, 4, FK_U },
	    { "stock", 24, 8, FK_A }, { "price", 32, 4, FK_P4 }, { "mpid", 36, 4, FK_A } } },
	{ 'E', "order_executed",
	  { { "ref", 11, 8, FK_U }, { "shares", 19, 4, FK_U }, { "match", 23, 8, FK_U } } },
	{ 'C', "order_executed_price",
	  { { "ref", 11, 8, FK_U }, { "shares", 19, 4, FK_U }, { "match", 23, 8, FK_U },
	    { "printable", 31, 1, FK_C }, { "price", 32, 4, FK_P4 } } },
	{ 'X', "order_cancel", { { "ref", 11, 8, FK_U }, { "shares", 19, 4, FK_U } } },
	{ 'D', "order_delete", { { "ref", 11, 8, FK_U } } },
	{ 'U', "order_replace",
	  { { "orig_ref", 11, 8, FK_U }, { "new_ref", 19, 8, FK_U }, { "shares", 27, 4, FK_U },
	    { "price", 31, 4, FK_P4 } } },
	{ 'P', "trade",
	  { { "ref", 11, 8, FK_U }, { "side", 19, 1, FK_C }, { "shares", 20, 4, FK_U },
	    { "stock", 24, 8, FK_A }, { "price", 32, 4, FK_P4 }, { "match", 36, 8, FK_U } } },
	{ 'Q', "cross_trade",
	  { { "shares", 11, 8, FK_U }, { "stock", 19, 8, FK_A }, { "price", 27, 4, FK_P4 },
	    { "match", 31, 8, FK_U }, { "cross_type", 39, 1, FK_C } } },
	{ 'B', "broken_trade", { { "match", 11, 8, FK_U } } },
	{ 'I', "noii",
	  { { "paired", 11, 8, FK_U }, { "imbalance", 19, 8, FK_U }, { "direction", 27, 1, FK_C },
	    { "stock", 28, 8, FK_A }, { "far", 36, 4, FK_P4 }, { "near", 40, 4, FK_P4 },
	    { "ref_price", 44, 4, FK_P4 }, { "cross_type", 48, 1, FK_C },
	    { "price_variation", 49, 1, FK_C } } },
	{ 'N', "rpii", { { "stock", 11, 8, FK_A }, { "interest", 19, 1, FK_C } } },
	{ 'O', "dlcr_price_discovery",
	  { { "stock", 11, 8, FK_A }, { "open_eligibility", 19, 1, FK_C },
	    { "min_price", 20, 4, FK_P4 }, { "max_price", 24, 4, FK_P4 },
	    { "near_price", 28, 4, FK_P4 }, { "near_time", 32, 8, FK_U },
	    { "lower_collar", 40, 4, FK_P4 }, { "upper_collar", 44, 4, FK_P4 } } },
};

/* R has 14 body fields; the two that do not fit the table above. */
static const struct field r_tail[] = {
	{ "etp_leverage", 34, 4, FK_U },
	{ "inverse", 38, 1, FK_C },
};

static const struct layout *layout_of(uint8_t t)
{
	for (size_t i = 0; i < FH_ARRAY_SIZE(layouts); i++)
		if (layouts[i].type == t)
			return &layouts[i];
	return NULL;
}

const char *fh_itch_msg_name(uint8_t t)
{
	const struct layout *l = layout_of(t);
	return l ? l->name : NULL;
}

static uint64_t load_be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static int put_field(char *buf, size_t size, const uint8_t *m, const struct field *f)
{
	const uint8_t *p = m + f->off;
	char tmp[24];

	switch (f->kind) {
	case FK_U:
		return snprintf(buf, size, " %s=%" PRIu64, f->name, load_be(p, f->size));
	case FK_P4:
		fh_price_format((int64_t)load_be(p, f->size) * FH_PRICE_ITCH_MULT, 4, tmp, sizeof(tmp));
		return snprintf(buf, size, " %s=%s", f->name, tmp);
	case FK_P8:
		fh_price_format((int64_t)load_be(p, f->size), 8, tmp, sizeof(tmp));
		return snprintf(buf, size, " %s=%s", f->name, tmp);
	case FK_SEC: {
		uint64_t s = load_be(p, f->size);
		return snprintf(buf, size, " %s=%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, f->name,
				s / 3600, s / 60 % 60, s % 60);
	}
	case FK_A: {
		unsigned k = f->size;
		while (k > 0 && p[k - 1] == ' ')
			k--;
		for (unsigned i = 0; i < k; i++)
			tmp[i] = p[i] >= 0x21 && p[i] < 0x7f ? (char)p[i] : '.';
		tmp[k] = 0;
		return snprintf(buf, size, " %s=%s", f->name, tmp);
	}
	default: /* FK_C: a space prints as '_' so columns stay split on spaces */
		return snprintf(buf, size, " %s=%c", f->name,
				p[0] == ' ' ? '_' : (p[0] > 0x20 && p[0] < 0x7f ? (char)p[0] : '.'));
	}
}

int fh_itch_format(const uint8_t *msg, size_t len, uint64_t seq, char *buf, size_t size)
{
	size_t n = 0;
	int r;

#define APPEND(...)                                                     \
	do {                                                            \
		r = snprintf(n < size ? buf + n : NULL, n < size ? size - n : 0, __VA_ARGS__); \
		if (r < 0)                                              \
			return r;                                       \
		n += (size_t)r;                                         \
	} while (0)

	const struct layout *l = len ? layout_of(msg[0]) : NULL;
	if (!l || fh_itch_msg_len(msg[0]) != len) {
		APPEND("seq=%" PRIu64 " type=%c name=%s len=%zu bytes=", seq,
		       len && msg[0] > 0x20 && msg[0] < 0x7f ? (char)msg[0] : '.',
		       l ? "bad_length" : "unknown_type", len);
		for (size_t i = 0; i < len && i < 64; i++)
			APPEND("%02x", msg[i]);
		return (int)n;
	}
	uint64_t ts = fh_be48(msg + 5);
	APPEND("seq=%" PRIu64 " type=%c name=%s locate=%u tracking=%u ts=%02" PRIu64 ":%02" PRIu64
	       ":%02" PRIu64 ".%09" PRIu64,
	       seq, msg[0], l->name, fh_be16(msg + 1), fh_be16(msg + 3), ts / UINT64_C(3600000000000),
	       ts / UINT64_C(60000000000) % 60, ts / UINT64_C(1000000000) % 60, ts % UINT64_C(1000000000));
	for (size_t i = 0; i < FH_ARRAY_SIZE(l->f) && l->f[i].name; i++) {
		r = put_field(n < size ? buf + n : NULL, n < size ? size - n : 0, msg, &l->f[i]);
		if (r < 0)
			return r;
		n += (size_t)r;
	}
	if (msg[0] == 'R')
		for (size_t i = 0; i < FH_ARRAY_SIZE(r_tail); i++) {
			r = put_field(n < size ? buf + n : NULL, n < size ? size - n : 0, msg, &r_tail[i]);
			if (r < 0)
				return r;
			n += (size_t)r;
		}
#undef APPEND
	return (int)n;
}
