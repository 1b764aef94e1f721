/* SPDX-License-Identifier: MIT */
/* fh_mold.h: MoldUDP64 framing and per-session sequencing (gaps, duplicates, end of session). */
#ifndef FH_MOLD_H
#define FH_MOLD_H

/*
 * A MoldUDP64 datagram: session (10 ASCII bytes), sequence of the first
 * message (u64 BE), message count (u16 BE; 0 = heartbeat, 0xFFFF = end of
 * session), then `count` blocks of a u16 BE length and the message.
 *
 * fh_mold_rx() validates a datagram whole before it changes any state:
 * shorter than the header -> short_packet; a block running past the end ->
 * overrun; a zero-length block or bytes after the last block ->
 * bad_block_len; seq + count overflowing -> bad_seq. A rejected datagram is
 * counted, dead-lettered (session, seq) and delivers nothing; the
 * sequence does not move, so the other line's copy can still fill it.
 *
 * Sequencing, per session (the first packet of a session, or a new
 * session name, starts it: FH_FEED_SEQ_RESET with first_seq = its seq):
 *  - seq > expected: FH_FEED_GAP [expected, seq - 1], then the packet.
 *  - messages below expected are not delivered again: counted in
 *    dup_msgs (already delivered: the other line's copy) or late_msgs
 *    (inside a gap already reported; they arrived too late to deliver in
 *    order). A packet that straddles expected delivers its new tail.
 *  - lines: the caller names the line (A = 0, B = 1, ...) a packet came
 *    on. A line whose own sequence goes backwards (seq < where that line
 *    already was) is a seq_regression: rejected and dead-lettered.
 *  - count 0xFFFF: FH_FEED_END_OF_SESSION once (first_seq = its seq).
 *  - sequence 0 is not a MoldUDP64 sequence (they start at 1), but
 *    anonymised captures zero it: such a packet is delivered as is with
 *    seq 0, outside sequencing, and counted in `unsequenced`.
 * Not thread-safe: one session state per receiving thread.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fh_common.h"
#include "fh_event.h"
#include "fh_itch.h"

struct fh_dlq;

#define FH_MOLD_HDR_LEN 20
#define FH_MOLD_SESSION_LEN 10
#define FH_MOLD_HEARTBEAT 0
#define FH_MOLD_END_OF_SESSION 0xFFFF
#define FH_MOLD_MAX_LINES 4
#define FH_MOLD_GAP_RING 16
/* Status events one packet can raise: session reset, gap, end of session. */
#define FH_MOLD_MAX_STATUS 3

struct fh_mold_hdr {
	char session[FH_MOLD_SESSION_LEN]; /* as sent, space-padded, not NUL-terminated */
	uint16_t count;
	uint64_t seq;
};

struct fh_mold_gap {
	uint64_t first;
	uint64_t last;
};

struct fh_mold {
	uint16_t source_id;
	bool started;
	bool ended;
	char session[FH_MOLD_SESSION_LEN];
	uint64_t expected;                       /* next sequence to deliver */
	uint64_t line_next[FH_MOLD_MAX_LINES];   /* per line: seq after its last packet, 0 = none */
	struct fh_mold_gap gaps[FH_MOLD_GAP_RING]; /* recent gaps, for late_msgs */
	unsigned gap_head;
	struct fh_dlq *dlq;
	/* counters */
	uint64_t packets;      /* datagrams accepted (any kind) */
	uint64_t heartbeats;
	uint64_t messages;     /* messages delivered */
	uint64_t dup_packets;  /* packets that delivered nothing new */
	uint64_t dup_msgs;
	uint64_t late_msgs;
	uint64_t gaps_count;
	uint64_t gap_msgs;     /* messages named by gap events */
	uint64_t sessions;     /* session starts / changes */
	uint64_t end_of_session;
	uint64_t unsequenced;  /* packets with sequence 0, delivered outside sequencing */
	uint64_t rejects[FH_ITCH_REJ__COUNT];
};

/* What to deliver from one accepted datagram. */
struct fh_mold_rx {
	struct fh_mold_hdr hdr;
	const uint8_t *next;   /* block (length prefix) of the first message to deliver */
	uint64_t first_seq;    /* its sequence number */
	unsigned n;            /* messages to deliver */
	unsigned nstatus;
	struct fh_event status[FH_MOLD_MAX_STATUS]; /* FH_EV_FEED_STATUS, in order, before the messages */
};

void fh_mold_init(struct fh_mold *m, uint16_t source_id, struct fh_dlq *dlq);

/* Parses the 20-byte header. Returns 0 or -FH_ITCH_REJ_SHORT_PACKET. */
int fh_mold_parse_hdr(const uint8_t *p, size_t len, struct fh_mold_hdr *h);

/*
 * Checks that `count` blocks exactly fill blocks[0..len). Returns 0 or
 * -FH_ITCH_REJ_OVERRUN / -FH_ITCH_REJ_BAD_BLOCK_LEN. count 0xFFFF means 0.
 */
int fh_mold_check_blocks(const uint8_t *blocks, size_t len, unsigned count);

/*
 * One datagram from line `line` (< FH_MOLD_MAX_LINES; larger wraps).
 * Returns 0 with *rx filled (rx->n may be 0), or -reason (counted,
 * dead-lettered). recv_ts_ns goes into the status events and the DLQ.
 */
int fh_mold_rx(struct fh_mold *m, unsigned line, const uint8_t *p, size_t len,
	       uint64_t recv_ts_ns, struct fh_mold_rx *rx);

/* Next message of a validated datagram: returns its bytes, sets *len, advances *cur. */
static inline const uint8_t *fh_mold_next_msg(const uint8_t **cur, size_t *len)
{
	const uint8_t *p = *cur;
	size_t l = fh_be16(p);
	*len = l;
	*cur = p + 2 + l;
	return p + 2;
}

/* Builds a MoldUDP64 header into p (20 bytes); session is padded with spaces. */
void fh_mold_put_hdr(uint8_t *p, const char *session, uint64_t seq, uint16_t count);

#endif /* FH_MOLD_H */
