/* SPDX-License-Identifier: MIT */
/* fh_rx.h: one RX core's pipeline: frames -> MoldUDP64 -> ITCH -> book -> engine -> SPSC ring. */
#ifndef FH_RX_H
#define FH_RX_H

/*
 * An RX core owns channels (one per ITCH source) and runs them with
 * fh_rx_do_work(), an agent step that returns the work done (0 when idle).
 * Each channel has its packet source (a DPDK port queue, or kernel-socket
 * lines), its MoldUDP64 session, ITCH decoder and book; the core has one
 * engine shard and one SPSC ring to the publisher. Everything is allocated
 * by fh_rx_core_create() before the first packet; fh_rx_do_work() does not
 * allocate, lock, log or make system calls (but for recvmmsg on the
 * kernel-socket backend, which is that backend's nature).
 *
 * Event order on the ring: for each message, its decoded events (order
 * flow, reference, status), then what the book derived from them (L2,
 * BBO, trades; P/Q/B trades appear once, from the book), then the engine's
 * output (bars, VWAP, alerts).
 *
 * Replay: a channel replaying a capture through net_pcap may be paced at
 * the recorded speed or N times it (the capture timestamps, held against
 * the TSC); it is complete after `expected_frames` frames (net_pcap never
 * says end of file), or restarts as a new session when looping.
 *
 * Thread-safety: one core calls fh_rx_do_work(); the control thread reads
 * counters (plain aligned 64-bit loads) and may call
 * fh_rx_request_snapshot() from any one other thread.
 */

#include <stdbool.h>
#include <stdint.h>

#include "fh_book.h"
#include "fh_common.h"
#include "fh_dpdk.h"
#include "fh_engine.h"
#include "fh_fix_session.h"
#include "fh_l2book.h"
#include "fh_event.h"
#include "fh_itch.h"
#include "fh_journal.h"
#include "fh_kudp.h"
#include "fh_metrics.h"
#include "fh_mold.h"
#include "fh_pkt.h"
#include "fh_probe.h"
#include "fh_rereq.h"
#include "fh_seqbuf.h"
#include "fh_soup.h"
#include "fh_spsc.h"

#define FH_RX_MAX_CHANS 16
#define FH_RX_MAX_LINES 2
#define FH_RX_BATCH 256      /* events staged before one ring enqueue */
#define FH_RX_SNAP_REQS 64   /* pending snapshot requests per core */
#define FH_RX_GAP_LOG 64     /* merged gap ranges kept per channel for reports */
#define FH_RX_RETRANS_LINE 2 /* MoldUDP64 line of re-request answers */

enum fh_rx_kind {
	FH_RX_DPDK = 1,
	FH_RX_KUDP = 2,
	FH_RX_FIX = 3, /* a FIX market-data session (kernel TCP), L2 book from its levels */
};

enum fh_rx_pace {
	FH_RX_PACE_NONE = 0,     /* as fast as possible */
	FH_RX_PACE_RECORDED = 1, /* capture gaps divided by speed (1.0 = recorded) */
};

struct fh_rx_line_cfg {
	uint32_t group; /* host order; 0: any destination */
	uint16_t port;  /* 0: any */
};

/*
 * Recovery of a MoldUDP64 channel (docs/RECOVERY.md). With `enabled`, a
 * hold buffer (fh_seqbuf) sits in front of sequencing: a packet beyond the
 * next expected sequence is held up to hold_ns for the other line (A/B
 * arbitration across two queues or sockets) before the hole is
 * re-requested (when a server is configured) or reported as a gap. While a
 * re-request is in flight for the first hole, the packets after it stay
 * held (at most hold_pkts; when full the lowest goes on and the hole
 * becomes a gap). Answers arrive on a unicast kernel socket, are journaled
 * and go through sequencing as line FH_RX_RETRANS_LINE. A range the server
 * does not fill after the retries is a gap: the source's books are
 * published stale. The socket is only read while something is missing: no
 * system call in the steady state.
 *
 * Late start: with a snapshot server (SoupBinTCP, GLIMPSE style), a
 * channel whose first packet is not the session's first (sequence > 1)
 * holds the live packets, builds its books from the snapshot (its ITCH
 * messages go through the channel's decoder, books and engine like live
 * ones), then takes the live stream from the snapshot's next sequence
 * (what lies between is re-requested or reported). A failed snapshot
 * leaves the gap [1, first live - 1]: the books are published stale.
 *
 * Long gap: a hole of snap_min_gap messages or more, one the re-request
 * server gave up on, or (without a server) one still open after hold_ns is
 * taken from the snapshot too: the source is published stale (FEED_STATUS
 * GAP), its books are emptied and rebuilt from the snapshot without
 * publishing the snapshot's order messages, then published whole (a
 * BOOK_SNAPSHOT and its levels for every book, so subscribers replace
 * theirs) and fresh again (FEED_STATUS RECOVERED); live packets resume
 * from the snapshot's next sequence.
 */
struct fh_rx_recovery_cfg {
	bool enabled;
	uint32_t hold_pkts;       /* packets held, <= FH_SEQBUF_MAX_PKTS (0: 1024) */
	uint64_t hold_ns;         /* wait for the other line before a hole is acted on (0: 1 ms) */
	uint32_t rereq_addr;      /* re-request server, host order (0: none) */
	uint16_t rereq_port;
	struct fh_rereq_cfg rereq;
	uint32_t snap_addr;       /* snapshot server, host order (0: none) */
	uint16_t snap_port;
	uint64_t snap_min_gap;    /* a hole this long goes to the snapshot at once (0: 100000) */
};

struct fh_rx_rec_stats {
	uint64_t holes;           /* holes handed to the re-request scheduler */
	uint64_t requests;        /* request datagrams sent */
	uint64_t send_errors;
	uint64_t answer_pkts;     /* answer datagrams received */
	uint64_t recovered_msgs;  /* messages delivered from answers */
	uint64_t failed_ranges;   /* given up by the scheduler (or no room to track) */
	uint64_t lost_msgs;       /* messages reported as a gap while recovery was on */
	uint64_t snapshots;       /* snapshots completed */
	uint64_t snapshot_failed;
	uint64_t snapshot_msgs;   /* ITCH messages taken from snapshots */
	uint64_t snapshot_next_seq; /* the last snapshot's first live sequence */
	uint64_t snapshot_dropped;  /* live packets dropped: hold buffer full during a snapshot */
};

enum fh_rx_snap_state {
	FH_RX_SNAP_IDLE = 0,
	FH_RX_SNAP_RUNNING = 1,
};

struct fh_rx_rec {
	struct fh_seqbuf sb;
	struct fh_rereq q;
	struct fh_kudp sock;      /* unicast socket to the server (sock.fd < 0: none) */
	uint32_t srv_addr;        /* host order */
	uint16_t srv_port;
	uint32_t local_addr;      /* our end of the socket (journaled answers go to it) */
	uint16_t local_port;
	uint64_t hold_ns;
	uint64_t wait_since;      /* monotonic ns since packets have been held (0: none) */
	uint64_t reported_upto;   /* holes up to this sequence were handed to q */
	uint64_t reported_held;   /* sb.st.held at the last scan for holes (none new since) */
	uint64_t release_upto;    /* given-up ranges: held packets up to here go on */
	struct fh_soup *soup;     /* snapshot client (NULL: no server) */
	enum fh_rx_snap_state snap;
	bool snap_reset;          /* long-gap snapshot: books emptied, messages not published */
	uint64_t snap_min_gap;
	uint64_t snap_gap[2];     /* the hole the long-gap snapshot covers */
	struct fh_rx_rec_stats st;
};

struct fh_rx_chan_cfg {
	const char *name;
	uint16_t source_id;
	enum fh_rx_kind kind;
	/* FH_RX_DPDK: frames from port->queue, lines told apart by group/port. */
	struct fh_dpdk_port *port;
	uint16_t queue;
	/* FH_RX_KUDP: one socket per line (UDP payloads, no frames). */
	struct fh_kudp *kudp[FH_RX_MAX_LINES];
	unsigned n_lines;
	struct fh_rx_line_cfg line[FH_RX_MAX_LINES];
	/* FH_RX_FIX: the session (logon, subscriptions, recovery) */
	const struct fh_fix_session_cfg *fix;
	enum fh_rx_pace pace;
	double speed;             /* with FH_RX_PACE_RECORDED: 1.0 = recorded */
	uint64_t expected_frames; /* replay: frames in the capture; 0 live */
	const uint64_t *frame_ts; /* replay: capture time (ns) of each frame, for pacing;
				   * NULL: the driver's RX timestamps */
	bool loop;                /* replay: start again as a new session */
	uint64_t day_base_ns;     /* added to ITCH timestamps */
	struct fh_book_config book;
	struct fh_dlq *dlq;       /* may be NULL */
	struct fh_rx_recovery_cfg recovery; /* MoldUDP64 channels */
};

struct fh_rx_core_cfg {
	unsigned index;           /* 0..n-1, the metrics core slot */
	unsigned n_chans;
	const struct fh_rx_chan_cfg *chans;
	const struct fh_engine_cfg *engine; /* NULL: no engine shard */
	uint64_t ring_capacity;   /* events, power of two */
	uint64_t snapshot_interval_ns; /* periodic book snapshots, 0: off */
	int numa_socket;          /* where to allocate, -1: anywhere */
	bool latency;             /* record per-stage latency samples */
	struct fh_journal_ring *journal; /* every received frame is pushed here (NULL: none) */
};

struct fh_rx_chan_stats {
	uint64_t frames;        /* frames (or datagrams) received */
	uint64_t bytes;
	uint64_t udp;           /* frames that yielded a UDP payload for one of our lines */
	uint64_t not_ours;      /* well-formed, but for a group/port not configured */
	uint64_t frame_rejects[FH_PKT__COUNT]; /* by fh_pkt_result */
	uint64_t messages;      /* ITCH messages delivered by MoldUDP64 */
	uint64_t events;        /* events staged for the publisher */
	uint64_t sessions;      /* replay passes started (loop) */
	uint64_t last_rx_ns;    /* wall time of the last frame */
	uint64_t first_seq;     /* sequence of the first message delivered (0: none yet) */
	uint64_t last_seq;      /* sequence of the last message delivered */
};

struct fh_rx_chan {
	struct fh_rx_chan_cfg cfg;
	struct fh_rx_core *core;
	struct fh_fix_session *fix;  /* FH_RX_FIX */
	struct fh_l2book *l2;        /* FH_RX_FIX: its books (book is NULL) */
	struct fh_mold mold;
	struct fh_itch_decoder dec;
	struct fh_book *book;
	struct fh_rx_rec *rec;       /* recovery (NULL: off) */
	struct fh_event *instr_ev;   /* the last FH_EV_INSTRUMENT of each instrument, re-sent
				      * before a requested snapshot (late joiners learn names) */
	uint32_t n_instr_ev;
	struct fh_rx_chan_stats st;
	bool done;               /* replay complete (not looping) */
	/* pacing */
	bool pace_started;
	uint64_t pace_cap0_ns;   /* capture time of the first frame */
	uint64_t pace_tsc0;      /* TSC when it was released */
	double pace_ticks_per_ns;
	uint64_t pass_frames;    /* frames in the current replay pass */
	uint16_t pend_n, pend_pos;
	struct rte_mbuf *pend[FH_DPDK_BURST];
	uint32_t snap_cursor;
	/* gap ranges as reported, adjacent ones merged (the first FH_RX_GAP_LOG) */
	unsigned n_gap_log;
	uint64_t gap_log_more;    /* ranges beyond the log */
	uint64_t gap_log[FH_RX_GAP_LOG][2];
	struct fh_rate_peak peak_1s;  /* peak messages in 1 s and 1 ms windows */
	struct fh_rate_peak peak_1ms;
} FH_CACHE_ALIGNED;

typedef void (*fh_rx_lat_fn)(void *arg, unsigned stage, uint64_t ticks, uint64_t n);
/* Cumulative latencies from the RX burst: the decode, book and engine
 * stages are probed on the first message of one packet in lat_every; the
 * ring stage is every burst (its messages are handed over together). */
enum fh_rx_stage {
	FH_RX_STAGE_DECODE = 0, /* RX burst -> message decoded */
	FH_RX_STAGE_BOOK,       /* RX burst -> book applied */
	FH_RX_STAGE_ENGINE,     /* RX burst -> engine done */
	FH_RX_STAGE_RING,       /* RX burst -> handed to the publisher ring */
	FH_RX_STAGE__COUNT
};

struct fh_rx_core {
	struct fh_rx_core_cfg cfg;
	unsigned n_chans;
	struct fh_rx_chan *chans;
	struct fh_engine *engine;
	struct fh_spsc *ring;
	void *engine_mem;
	/* staging towards the ring */
	unsigned nb;
	struct fh_event batch[FH_RX_BATCH];
	/* counters (core-owned) */
	uint64_t staged;          /* events staged (ring_events once flushed) */
	uint64_t by_type[FH_EV__COUNT + 1]; /* events derived from messages, by type (last:
					     * unknown); timer-driven snapshots are not counted */
	bool in_snapshot;
	bool warm;                /* replaying the journal: frames are not journaled again */
	bool mute;                /* events are applied, not staged (long-gap snapshot) */
	uint64_t ring_events;     /* events handed to the ring */
	uint64_t ring_full_spins; /* times the ring was full and the core waited */
	uint64_t book_aborts;     /* crossed books under the abort policy */
	uint64_t snapshots;       /* snapshot events sent */
	uint64_t loops;           /* do_work calls */
	/* latency: per-stage callback from the core (sampled), set before start */
	fh_rx_lat_fn lat_fn;
	void *lat_arg;
	uint32_t lat_every;       /* sample one packet in lat_every (power of two) */
	uint32_t lat_count;
	uint64_t burst_tsc;       /* TSC of the current RX burst (paced replays: of the
				   * frame's scheduled release: coordinated omission) */
	bool probe_pending;       /* a sampled packet waits for its ring position */
	uint16_t probe_src;
	uint64_t probe_tsc;
	uint64_t next_snap_tsc;
	uint64_t snap_interval_tsc;
	/* snapshot requests from the publisher thread (single producer) */
	FH_CACHE_GUARD(0);
	uint32_t req_head;
	uint32_t req_tail;
	uint32_t req_all;         /* a whole-book sweep was requested */
	uint16_t req_src[FH_RX_SNAP_REQS];
	uint32_t req_instr[FH_RX_SNAP_REQS];
	volatile bool abort;      /* a crossed book under the abort policy stopped the core */
	/* sampled packets' start times, for the publisher's shm and Kafka stages */
	struct fh_probe_ring probes;
};

/* Allocates and initialises a core and its channels (books, decoders,
 * sessions, engine, ring). Returns NULL with the reason in err. */
struct fh_rx_core *fh_rx_core_create(const struct fh_rx_core_cfg *cfg, char *err, size_t errlen);
void fh_rx_core_destroy(struct fh_rx_core *c);

/* One agent step: polls every channel once. Returns frames processed. */
unsigned fh_rx_do_work(struct fh_rx_core *c);

/* Processes one UDP payload (MoldUDP64 datagram) of line `line` of channel
 * ch as if received at recv_ns; used by fh_rx_do_work(), tests and tools. */
void fh_rx_udp(struct fh_rx_core *c, struct fh_rx_chan *ch, unsigned line,
	       const uint8_t *p, uint32_t len, uint64_t recv_ns);

/* Processes one Ethernet frame of channel ch (journaled first when the
 * core has a journal). */
void fh_rx_frame(struct fh_rx_core *c, struct fh_rx_chan *ch, const uint8_t *f,
		 uint32_t len, uint64_t recv_ns);

/*
 * Warm restart: replays the frames of pcap files (fh's own journal) through
 * the channels whose lines they match (re-request answers by their source
 * address), not journaled again, as fast as the books go; called on the
 * core's thread before its loop, with the publisher running. Returns the
 * frames replayed, or -errno with the reason in err.
 */
long fh_rx_warm_replay(struct fh_rx_core *c, const char *const *files, unsigned n_files,
		       char *err, size_t errlen);

/* Hands staged events to the ring, waiting for room (counted). */
void fh_rx_flush(struct fh_rx_core *c);

/* True when every replay channel is complete, recovery included (held
 * packets delivered, re-requests answered or given up, snapshot over). */
bool fh_rx_done(const struct fh_rx_core *c);

/* From the publisher thread: ask for a snapshot of one book (instrument
 * FH_INSTRUMENT_NONE: every book of the source; source_id UINT16_MAX: all). */
void fh_rx_request_snapshot(struct fh_rx_core *c, uint16_t source_id, uint32_t instrument);

/* Logs out of every FIX session (bounded wait) and applies the packets
 * still held behind a hole (reported as a gap); call on the core's thread
 * after its loop. */
void fh_rx_stop_sessions(struct fh_rx_core *c);

/* Rejections of a channel: frame checks, MoldUDP64 and ITCH decoding. */
uint64_t fh_rx_chan_rejects(const struct fh_rx_chan *ch);

#endif /* FH_RX_H */
