/* SPDX-License-Identifier: MIT */
/* fh_rereq.h: MoldUDP64 re-request scheduling: missing ranges -> bounded requests, timeouts, back-off, give-up. */
#ifndef FH_REREQ_H
#define FH_REREQ_H

/*
 * The request side of MoldUDP64 retransmission, without sockets: the owner
 * (the RX core that owns the session, or the control thread) reports gaps
 * and the messages that arrived, asks fh_rereq_poll() for the next request
 * datagram to send (unicast, to the exchange's re-request server) and
 * fh_rereq_next_failed() for ranges given up on (their books stay stale).
 *
 * A request is the 20-byte MoldUDP64 header: session (10 bytes, space
 * padded), first sequence (u64 BE), message count (u16 BE). Ranges longer
 * than cfg.max_count are split; at most cfg.max_outstanding requests are
 * in flight; a request not fully answered within its timeout is sent again
 * for what is still missing, the timeout doubling each time up to
 * cfg.max_timeout_ns; after cfg.max_tries sends a range is given up.
 * Messages arriving for part of a range (a partial answer, or the live
 * line's late copy) trim it; a fill in the middle splits it when a slot is
 * free (otherwise the range keeps covering the filled part: asking again
 * for a message already held is harmless).
 *
 * Nothing allocates after fh_rereq_init(); no system calls; times are
 * caller-supplied monotonic ns. Not thread-safe: one owner.
 */

#include <stdbool.h>
#include <stdint.h>

#define FH_REREQ_MAX_RANGES 256
#define FH_REREQ_REQ_LEN 20

struct fh_rereq_cfg {
	uint16_t max_count;       /* messages per request (default 1000) */
	uint16_t max_outstanding; /* requests in flight (default 4) */
	uint16_t max_ranges;      /* missing ranges tracked, <= FH_REREQ_MAX_RANGES (default 64) */
	uint16_t max_tries;       /* sends per range before giving up (default 5) */
	uint64_t timeout_ns;      /* first answer timeout (default 20 ms) */
	uint64_t max_timeout_ns;  /* back-off cap (default 1 s) */
};

struct fh_rereq_range {
	uint64_t first, last;     /* missing, inclusive */
	uint64_t due_ns;          /* in flight: when the answer is late */
	uint64_t timeout_ns;      /* the next wait */
	uint16_t tries;           /* sends so far */
	bool inflight;
};

struct fh_rereq_stats {
	uint64_t gaps;            /* ranges reported */
	uint64_t gap_msgs;
	uint64_t requests;        /* datagrams produced (first sends + resends) */
	uint64_t resends;         /* of which after a timeout */
	uint64_t timeouts;
	uint64_t filled_msgs;     /* missing messages that arrived */
	uint64_t failed_ranges;   /* given up */
	uint64_t failed_msgs;
	uint64_t table_full;      /* gaps refused: no free range slot */
};

struct fh_rereq {
	struct fh_rereq_cfg cfg;
	char session[10];
	unsigned n;               /* ranges in use, sorted by first */
	unsigned inflight;
	struct fh_rereq_range r[FH_REREQ_MAX_RANGES];
	unsigned n_failed;        /* given-up ranges not yet collected */
	uint64_t failed[FH_REREQ_MAX_RANGES][2];
	struct fh_rereq_stats st;
};

/* Defaults for zero fields; cfg may be NULL. -EINVAL on a bad value. */
int fh_rereq_init(struct fh_rereq *q, const struct fh_rereq_cfg *cfg, const char session[10]);

/* Messages first..last are missing (from a FEED_STATUS GAP). Overlaps with
 * ranges already tracked are merged. 0, or -ENOSPC (counted, not tracked:
 * the caller treats it as given up). */
int fh_rereq_gap(struct fh_rereq *q, uint64_t first, uint64_t last);

/* Messages first..last arrived (answers, late live copies): trims ranges. */
void fh_rereq_filled(struct fh_rereq *q, uint64_t first, uint64_t last);

/* The next request to send now, into out[20]: 1, or 0 when nothing is due.
 * Also expires late answers (resend, or give up: see next_failed). */
int fh_rereq_poll(struct fh_rereq *q, uint64_t now_ns, uint8_t out[FH_REREQ_REQ_LEN]);

/* A range given up on: 1 with *first, *last, or 0 when none is left. */
int fh_rereq_next_failed(struct fh_rereq *q, uint64_t *first, uint64_t *last);

/* Messages still missing (tracked ranges). */
uint64_t fh_rereq_missing(const struct fh_rereq *q);

/* The earliest time poll() has something to do (UINT64_MAX: nothing in flight). */
uint64_t fh_rereq_next_due(const struct fh_rereq *q);

#endif /* FH_REREQ_H */
