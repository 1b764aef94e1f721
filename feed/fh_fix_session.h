/* SPDX-License-Identifier: MIT */
/* fh_fix_session.h: FIX initiator session over TCP for market data (one agent, no threads). */
#ifndef FH_FIX_SESSION_H
#define FH_FIX_SESSION_H

/*
 * An agent in the Aeron sense: the owner calls fh_fix_session_do_work()
 * in its loop (its own core, or a thread it runs) and gets a work count
 * back (0: idle, back off as it likes). Nothing here starts a thread.
 *
 * What it does:
 *  - connects (non-blocking), logs on (35=A, 98=0, 108=heartbeat, 141=Y
 *    when cfg.reset_on_logon), reconnects after any loss with exponential
 *    back-off (reconnect_min_ms doubling up to reconnect_max_ms, reset by a
 *    successful logon);
 *  - sequence numbers persisted in cfg.seq_file (a small mmap'd record,
 *    updated without a syscall; survives a process restart);
 *  - Heartbeat after heartbeat_s of silence on our side; TestRequest after
 *    heartbeat_s * 1.2 of silence from the peer; disconnect when that gets
 *    no answer within another heartbeat_s; answers TestRequest;
 *  - inbound sequence: a gap sends one ResendRequest (7=expected, 16=0)
 *    and drops messages above the gap until the resent ones (PossDupFlag)
 *    fill it; SequenceReset (GapFill and Reset) honoured; a PossDup below
 *    the expected number is ignored; a number too low without PossDup is a
 *    Logout; our own messages are not stored, so a ResendRequest from the
 *    peer is answered with SequenceReset-GapFill;
 *  - garbled messages (CheckSum, BodyLength, syntax) are dropped as FIX
 *    requires (the gap they leave is recovered by resend); a well-formed
 *    message the decoder rejects gets a Reject (35=3) and, if it was
 *    market data, makes every book stale and re-requests snapshots;
 *  - subscriptions from the config: one MarketDataRequest (35=V, 263=1,
 *    264=depth, 265=1, 269=0/1/2) per symbol after each logon; a RptSeq gap
 *    on one instrument (decoder STALE) requests a snapshot (263=0) for it;
 *  - events: the decoder's (decode/fh_fix.h) plus FH_EV_FEED_STATUS of the
 *    session: GAP / RECOVERED of the session sequence, STALE for every
 *    book (instrument FH_INSTRUMENT_NONE) when the connection is lost.
 */

#include <stdbool.h>
#include <stdint.h>

#include "fh_event.h"
#include "fh_fix.h"

#define FH_FIX_SESSION_MAX_SYMBOLS 256

enum fh_fix_session_state {
	FH_FIX_SS_DISCONNECTED = 0, /* waiting for the next connect attempt */
	FH_FIX_SS_CONNECTING,
	FH_FIX_SS_LOGON_SENT,
	FH_FIX_SS_ACTIVE,
	FH_FIX_SS_LOGOUT_SENT,
	FH_FIX_SS_STOPPED, /* after fh_fix_session_stop() completed */
};

struct fh_fix_session_cfg {
	char host[64];              /* IPv4 address or name */
	uint16_t port;
	char sender[32];            /* our SenderCompID (49) */
	char target[32];            /* their CompID (56) */
	char begin_string[16];      /* "FIX.4.4" (default), "FIX.4.2", "FIXT.1.1" */
	uint32_t heartbeat_s;       /* HeartBtInt (0: 30) */
	char seq_file[256];         /* "" keeps numbers in memory only */
	bool reset_on_logon;        /* 141=Y and start both sides at 1 */
	char symbols[FH_FIX_SESSION_MAX_SYMBOLS][FH_FIX_SYMBOL_MAX]; /* NUL-terminated unless full */
	unsigned n_symbols;
	uint32_t depth;             /* MarketDepth (264), 0: full book */
	uint32_t reconnect_min_ms;  /* 0: 100 */
	uint32_t reconnect_max_ms;  /* 0: 5000 */
	uint32_t logon_timeout_ms;  /* 0: 5000 */
	uint32_t rx_buf;            /* receive buffer bytes (0: 1 MiB) */
	struct fh_fix_cfg decoder;  /* require_header is forced on */
};

/* Called with every batch of events, in order. */
typedef void (*fh_fix_session_events_cb)(void *arg, const struct fh_event *ev, unsigned n);
/* Optional: one line per session event (logon, gap, resend, disconnect, ...). */
typedef void (*fh_fix_session_log_cb)(void *arg, const char *line);

struct fh_fix_session_stats {
	uint64_t connects, connect_failures, logons, disconnects;
	uint64_t msgs_in, msgs_out, bytes_in;
	uint64_t heartbeats_out, test_requests_out, test_requests_in;
	uint64_t resend_requests_out, resend_requests_in;
	uint64_t gaps, gap_fills_in, seq_resets_in, poss_dup_in, poss_dup_ignored;
	uint64_t garbled_in, rejects_out, rejects_in, snapshot_requests;
	uint64_t logouts_in, logouts_out;
};

struct fh_fix_session;

/* Allocates everything (decoder, buffers). NULL with errno on error. */
struct fh_fix_session *fh_fix_session_create(const struct fh_fix_session_cfg *cfg,
					     fh_fix_session_events_cb on_events,
					     fh_fix_session_log_cb on_log, void *arg);
void fh_fix_session_destroy(struct fh_fix_session *s);

/* One step: connect / read / frame / process / timers. now_ns: any
 * monotonic clock in ns. Returns the amount of work done (0: idle). */
int fh_fix_session_do_work(struct fh_fix_session *s, uint64_t now_ns);

/* Graceful end: Logout, wait (up to 2 s of do_work) for the answer, then
 * STOPPED. Returns 0. */
int fh_fix_session_stop(struct fh_fix_session *s, uint64_t now_ns);

enum fh_fix_session_state fh_fix_session_state(const struct fh_fix_session *s);
const struct fh_fix_session_stats *fh_fix_session_stats(const struct fh_fix_session *s);
/* The decoder (symbol table, reject counters). */
struct fh_fix_decoder *fh_fix_session_decoder(struct fh_fix_session *s);
/* Next sequence numbers: ours (out) and the peer's we expect (in). */
void fh_fix_session_seqs(const struct fh_fix_session *s, uint64_t *next_out, uint64_t *next_in);

#endif /* FH_FIX_SESSION_H */
