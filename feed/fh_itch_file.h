/* SPDX-License-Identifier: MIT */
/* fh_itch_file.h: replay an ITCH file (pcap of MoldUDP64, or a Nasdaq day file) message by message. */
#ifndef FH_ITCH_FILE_H
#define FH_ITCH_FILE_H

/*
 * The one path every tool (fh-itch, fh-book, benchmarks, tests) reads ITCH
 * files through. The format is detected from the first bytes:
 *  - classic pcap (fh_pcap.h): each frame goes through fh_pkt (Ethernet,
 *    802.1Q, IPv4, UDP, checks, optional group/port filter), the UDP
 *    payload through one MoldUDP64 session state (fh_mold.h). Lines: each
 *    distinct (source address, destination group, port) seen is one line
 *    (first seen = line 0 = A, next = B, ...), so the B copy of a packet is
 *    a duplicate and a line going backwards is a regression. recv_ts_ns is
 *    the capture timestamp.
 *  - Nasdaq day file (*.NASDAQ_ITCH50): each message preceded by a 2-byte
 *    big-endian length; seq counts from 1, session is empty, recv_ts_ns 0.
 *    A zero length is bad_block_len (skipped); a record cut by the end of
 *    the file is an overrun (the read stops there). A gzipped day file (as
 *    Nasdaq publishes them) is read through zlib.
 *  - Regular files are mmap'd; pipes ("-") are streamed in constant memory.
 *  - pcapng (and gzip from a pipe or in memory) is detected and refused with
 *    -EPROTONOSUPPORT: `editcap -F pcap in.pcapng out.pcap`, `zcat x.gz |`.
 * Callbacks run in file order, on the caller's thread. Any callback that
 * returns non-zero stops the replay, which then returns that value.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fh_event.h"
#include "fh_itch.h"
#include "fh_mold.h"
#include "fh_pkt.h"

struct fh_dlq;

enum fh_itch_file_format {
	FH_ITCH_FILE_AUTO = 0,
	FH_ITCH_FILE_DAY = 1,  /* 2-byte length-prefixed messages */
	FH_ITCH_FILE_PCAP = 2, /* classic pcap of MoldUDP64 */
	FH_ITCH_FILE_PCAPNG = 3, /* detected, not read: -EPROTONOSUPPORT (editcap -F pcap) */
	FH_ITCH_FILE_GZIP = 4,   /* gzip: a day file is read through zlib; other uses -EPROTONOSUPPORT */
};

struct fh_itch_file_cfg {
	int format;               /* FH_ITCH_FILE_AUTO to detect */
	uint16_t source_id;
	uint64_t day_base_ns;     /* for the decoder (event callback) */
	struct fh_dlq *dlq;       /* rejected frames, packets and messages; NULL = count only */
	struct fh_pkt_filter filter; /* pcap: destination group/port; zero = any UDP */
	unsigned pcap_flags;      /* FH_PCAP_BUFFERED */
};

/* One MoldUDP64 datagram as captured, before sequencing (pcap only). */
struct fh_itch_file_pkt {
	uint64_t frame;           /* 1-based pcap record number */
	uint64_t recv_ts_ns;
	const struct fh_pkt_udp *udp;
	const struct fh_mold_hdr *hdr; /* NULL when shorter than a MoldUDP64 header */
	int result;               /* 0, or -reason from fh_mold_rx (rejected) */
};

struct fh_itch_file_ops {
	/* Every ITCH message delivered in sequence order (duplicates removed). */
	int (*msg)(void *arg, const uint8_t *msg, size_t len, uint64_t seq,
		   const char session[FH_MOLD_SESSION_LEN], uint64_t recv_ts_ns);
	/*
	 * When set, every delivered message is also decoded (fh_itch_decode
	 * with cfg's source_id, day_base_ns and dlq) and its events passed
	 * here; rejected messages are counted in stats->decoder.
	 */
	int (*events)(void *arg, const struct fh_event *ev, unsigned n);
	/* Feed status (FH_EV_FEED_STATUS): session reset, gap, end of session. */
	int (*status)(void *arg, const struct fh_event *ev);
	/* Every UDP datagram that passed the frame checks, after fh_mold_rx (pcap only). */
	int (*packet)(void *arg, const struct fh_itch_file_pkt *pkt);
};

struct fh_itch_file_stats {
	int format;                  /* detected format */
	uint64_t bytes;              /* file bytes read */
	uint64_t records;            /* pcap records or day-file records */
	uint64_t messages;           /* messages passed to ops->msg */
	uint64_t rejects[FH_ITCH_REJ__COUNT]; /* framing: day file, Mold, bad frames */
	struct fh_pkt_stats pkt;     /* pcap frame results */
	struct fh_mold mold;         /* pcap: final session state and its counters */
	struct fh_itch_decoder decoder; /* when ops->events is set */
};

/*
 * Replays path ("-" = stdin). cfg NULL = defaults; stats may be NULL.
 * Returns 0 at the end of the file, a callback's non-zero value, or
 * -errno (-EINVAL: a corrupt pcap; -EPROTONOSUPPORT: pcapng, or gzip
 * where it cannot be streamed; stats->format says which).
 */
int fh_itch_file_replay(const char *path, const struct fh_itch_file_cfg *cfg,
			const struct fh_itch_file_ops *ops, void *arg,
			struct fh_itch_file_stats *stats);

/* The same from memory (tests, fuzzing, benchmarks). */
int fh_itch_file_replay_mem(const uint8_t *buf, size_t len, const struct fh_itch_file_cfg *cfg,
			    const struct fh_itch_file_ops *ops, void *arg,
			    struct fh_itch_file_stats *stats);

/* Total rejections in stats: framing + pkt broken frames + Mold + decoder. */
uint64_t fh_itch_file_rejects(const struct fh_itch_file_stats *st);

/* Format detection from the first bytes: FH_ITCH_FILE_PCAP, _PCAPNG, _GZIP or _DAY. */
int fh_itch_file_detect(const uint8_t *buf, size_t len);

#endif /* FH_ITCH_FILE_H */
