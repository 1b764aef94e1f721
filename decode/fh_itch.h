/* SPDX-License-Identifier: MIT */
/* fh_itch.h: Nasdaq TotalView-ITCH 5.0 decoder, one message in, normalized events out. */
#ifndef FH_ITCH_H
#define FH_ITCH_H

/*
 * fh_itch_decode() turns ONE ITCH 5.0 message (type byte first, no length
 * prefix) into 0..FH_ITCH_MAX_EVENTS struct fh_event. It is the hot path:
 * static inline, no allocation, no syscall, one table-driven length check
 * and a switch on the type byte, fixed offsets, big-endian loads.
 *
 * Mapping (docs/ITCH.md has every field):
 *   S -> FH_EV_SYSTEM          R -> FH_EV_INSTRUMENT + FH_EV_REFERENCE part 1
 *   H, h -> FH_EV_TRADING_STATUS
 *   A, F -> FH_EV_ORDER_ADD    E, C -> FH_EV_ORDER_EXEC   X -> FH_EV_ORDER_CANCEL
 *   D -> FH_EV_ORDER_DELETE    U -> FH_EV_ORDER_REPLACE
 *   P, Q -> FH_EV_TRADE (kind 'P' / 'Q')                  B -> FH_EV_BROKEN_TRADE
 *   Y, L, V, W, K, N -> FH_EV_REFERENCE (one part)
 *   J, I, O -> FH_EV_REFERENCE (parts 0 and 1)
 * Common to every event: instrument = stock locate (0 for market-wide
 * messages), seq = the caller's sequence number, exch_ts_ns = day_base_ns +
 * the message's 6-byte nanoseconds since midnight, recv_ts_ns = the
 * caller's receive time, source_id = the decoder's. Prices (4 decimals)
 * are multiplied by FH_PRICE_ITCH_MULT; MWCB levels (8 decimals) are
 * already in FH_PRICE_SCALE. Multi-byte alpha fields (stock, MPID, reason,
 * issue subtype) have trailing spaces turned into NULs; one-byte codes
 * are passed as sent (a space is a code value there).
 *
 * Rejections: a negative return is -enum fh_itch_reject; the message is
 * counted in rejects[reason] and, when dlq is set, its raw bytes go to the
 * dead-letter sink with the reason, session, seq and recv time. No input
 * makes the decoder read outside msg[0..len).
 *
 * Thread-safety: a decoder belongs to one thread (its counters are plain).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fh_common.h"
#include "fh_event.h"

struct fh_dlq;

/* At most this many events come out of one message (I, J, O, R: two). */
#define FH_ITCH_MAX_EVENTS 2
/* Longest ITCH 5.0 message (I, NOII: 50 bytes). */
#define FH_ITCH_MAX_MSG_LEN 50
/* Bytes before the type-specific body: type, locate, tracking, timestamp. */
#define FH_ITCH_HDR_LEN 11

/*
 * Rejection reasons, shared by the decoder (unknown_type, bad_length,
 * short_packet for an empty message), the MoldUDP64 session (short_packet,
 * bad_block_len, overrun, seq_regression, bad_seq) and the day-file reader
 * (bad_block_len, overrun) so one table counts everything.
 */
enum fh_itch_reject {
	FH_ITCH_REJ_NONE = 0,
	FH_ITCH_REJ_SHORT_PACKET = 1,   /* datagram < MoldUDP64 header, or an empty message */
	FH_ITCH_REJ_BAD_BLOCK_LEN = 2,  /* zero-length block, or bytes left after the last block */
	FH_ITCH_REJ_UNKNOWN_TYPE = 3,   /* type byte is not an ITCH 5.0 message */
	FH_ITCH_REJ_BAD_LENGTH = 4,     /* length differs from its type's fixed length */
	FH_ITCH_REJ_OVERRUN = 5,        /* blocks run past the end of the datagram / file */
	FH_ITCH_REJ_SEQ_REGRESSION = 6, /* a line's sequence went backwards */
	FH_ITCH_REJ_BAD_SEQ = 7,        /* sequence + count overflows 64 bits */
	FH_ITCH_REJ_BAD_FRAME = 8,      /* Ethernet/IPv4/UDP check failed (see fh_pkt.h) */
	FH_ITCH_REJ__COUNT
};

/* "short_packet", "bad_block_len", ...; "unknown" outside the enum. */
const char *fh_itch_reject_name(unsigned reason);

struct fh_itch_decoder {
	uint16_t source_id;
	uint8_t own_market;   /* h: market code of this feed ('Q' = Nasdaq) */
	uint8_t pad0[5];
	uint64_t day_base_ns; /* added to ITCH ns-since-midnight: 0 or the Unix ns of the trading day's midnight */
	struct fh_dlq *dlq;   /* rejected messages go here when non-NULL */
	char session[10];     /* written into dead-letter records (set by the feed) */
	uint8_t pad1[6];
	uint64_t messages;    /* messages accepted */
	uint64_t rejects[FH_ITCH_REJ__COUNT];
	uint64_t count[256];  /* accepted messages by type byte */
};

/* Messages accepted (d->messages). */
uint64_t fh_itch_decoder_messages(const struct fh_itch_decoder *d);

/* Events produced: one per accepted message, two for R, J, I and O. */
uint64_t fh_itch_decoder_events(const struct fh_itch_decoder *d);

/* Zeroes counters and sets the fields; own_market 'Q'. dlq may be NULL. */
void fh_itch_decoder_init(struct fh_itch_decoder *d, uint16_t source_id,
			  uint64_t day_base_ns, struct fh_dlq *dlq);

/* Sets the session name written into dead-letter records (NULL clears it). */
void fh_itch_decoder_set_session(struct fh_itch_decoder *d, const char *session10);

/* Fixed length of ITCH message type t, 0 for an unknown type. */
unsigned fh_itch_msg_len(uint8_t t);

/* Human-readable name of type t ("add_order", ...), NULL when unknown. */
const char *fh_itch_msg_name(uint8_t t);

/*
 * One line (no newline) with every field of one raw ITCH message, for
 * `fh-itch dump`: "seq=N type=A name=add_order locate=.. tracking=.. ts=..
 * field=value ...". Bounds-checked: an unknown type or wrong length prints
 * as such with a hex dump. Returns the length as snprintf does.
 */
int fh_itch_format(const uint8_t *msg, size_t len, uint64_t seq, char *buf, size_t size);

/* Cold path of a rejection: counts, sends to the dead-letter sink, returns -reason. */
int fh_itch_reject(struct fh_itch_decoder *d, enum fh_itch_reject reason,
		   const uint8_t *msg, size_t len, uint64_t seq, uint64_t recv_ts_ns) FH_COLD;

#include "fh_itch_pvt.h"

/*
 * Decodes one message into out[0..n); returns n (1 or 2) or -reason.
 * out must have room for FH_ITCH_MAX_EVENTS events.
 */
static inline int fh_itch_decode(struct fh_itch_decoder *d, const uint8_t *msg, size_t len,
				 uint64_t seq, uint64_t recv_ts_ns, struct fh_event *out)
{
	if (fh_unlikely(len == 0))
		return fh_itch_reject(d, FH_ITCH_REJ_SHORT_PACKET, msg, len, seq, recv_ts_ns);
	uint8_t t = msg[0];
	uint16_t ti = fh_itch_type_table[t]; /* length | hot index << 8: one load */
	if (fh_unlikely((ti & 0xff) != len))
		return fh_itch_reject(d, (ti & 0xff) ? FH_ITCH_REJ_BAD_LENGTH : FH_ITCH_REJ_UNKNOWN_TYPE,
				      msg, len, seq, recv_ts_ns);
	d->count[t]++;
	d->messages++;
	if (fh_likely(ti >> 8))
		return fh_itch_decode_hot(d, &fh_itch_hot[ti >> 8], msg, seq, recv_ts_ns, out);
	return fh_itch_decode_switch(d, t, msg, seq, recv_ts_ns, out);
}

#endif /* FH_ITCH_H */
