/* SPDX-License-Identifier: MIT */
/* fh_journal.h: capture journal: received frames + receive times -> nanosecond pcap files through io_uring. */
#ifndef FH_JOURNAL_H
#define FH_JOURNAL_H

/*
 * Every received frame, with its receive timestamp, is appended to a
 * standard nanosecond pcap file (magic 0xa1b23c4d, version 2.4, linktype 1
 * Ethernet by default) that tshark, Wireshark, tcpreplay and fh's own pcap
 * reader (fh_pcap.h) read.
 *
 * Threads. RX cores never write files: each producer (an RX core) owns one
 * SPSC ring of fixed-size packet records and calls fh_journal_push() (a copy
 * of the frame and its timestamp, no system call, no allocation, never
 * waits: a full ring drops the packet and counts it). The journal core (the
 * publisher core or a dedicated one) calls fh_journal_do_work(), which
 * drains the rings into pcap records in one of two aligned buffers; a full
 * buffer is handed to io_uring as one write while the other fills, so the
 * journal core never waits for the disk (if the disk is slower than the
 * stream, do_work stops draining, counts a buffer wait and returns; the
 * rings absorb the burst, then drop and count).
 *
 * Files. `<dir>/<prefix>-<NNNNNN>.pcap`, NNNNNN counting from
 * cfg.first_index. Opened with O_DIRECT when the file system supports it
 * (tmpfs does not: open() fails with EINVAL; a file system that accepts
 * the flag but fails the first aligned write with EINVAL is handled the
 * same way) and buffered I/O otherwise (stats.direct says which);
 * preallocated with fallocate() to the rotation size (stats.prealloc_failed
 * counts file systems that refuse). Writes are whole buffers at aligned
 * offsets; records span buffers. A file is rotated before a record would
 * take it past cfg.rotate_bytes, or when a packet's timestamp is
 * cfg.rotate_ns or more after the file's first packet; a rotated or closed
 * file is truncated to its exact length. With cfg.flush_ns, do_work also
 * writes the partly filled buffer (padded to the block) once its oldest
 * unwritten record is that old: a crash loses at most flush_ns of packets
 * (plus what sat in the rings); the buffer takes no records while that write
 * is in flight. fh_journal_flush() makes
 * everything pushed so far durable-on-the-file (the last partial block is
 * written padded and rewritten later); until the file is closed, bytes past
 * the flushed end are the preallocation's zeros (a reader stops at a zero
 * record header: caplen 0).
 *
 * Records whose frame is longer than cfg.snaplen are cut to it (origlen
 * keeps the wire length); a ring record holds snaplen bytes.
 *
 * Errors: create returns NULL with the reason in err; do_work never fails:
 * a failed write stops the journal (stats.failed, the error in
 * stats.last_error), every later packet is counted in dropped_failed.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fh_journal_pvt.h"

#define FH_JOURNAL_MAX_PRODUCERS 16
#define FH_JOURNAL_ALIGN 4096 /* O_DIRECT alignment used for buffers, lengths, offsets */
#define FH_JOURNAL_LINKTYPE_ETHERNET 1

enum fh_journal_direct {
	FH_JOURNAL_DIRECT_AUTO = 0, /* O_DIRECT when the file system takes it, else buffered */
	FH_JOURNAL_DIRECT_OFF = 1,  /* buffered writes (page cache) */
};

struct fh_journal_cfg {
	const char *dir;         /* existing directory */
	const char *prefix;      /* file name prefix (default "fh-journal") */
	unsigned first_index;    /* NNNNNN of the first file (default 0) */
	unsigned producers;      /* rings, one per producing thread (1..16, default 1) */
	uint32_t ring_slots;     /* records per ring, power of two (default 4096) */
	uint32_t snaplen;        /* bytes kept per frame (64..65535, default 2048) */
	uint32_t buf_bytes;      /* each of the two write buffers, multiple of 4096 (default 1 MiB) */
	uint64_t rotate_bytes;   /* file size cap, >= 2 * buf_bytes (default 1 GiB) */
	uint64_t rotate_ns;      /* file time span by packet timestamps (0: no time rotation) */
	uint32_t linktype;       /* pcap linktype (default 1, Ethernet) */
	uint64_t flush_ns;       /* write a partly filled buffer once its oldest record waited
				  * this long (monotonic time; 0: only full buffers, flush, close) */
	enum fh_journal_direct direct;
	bool no_prealloc;        /* skip fallocate() */
};

/* Counters (journal-core owned, but ring drops: producer-owned, summed). */
struct fh_journal_stats {
	uint64_t pushed;         /* records accepted by the rings */
	uint64_t dropped_full;   /* pushes refused: ring full */
	uint64_t dropped_failed; /* records discarded after a write failure */
	uint64_t packets;        /* records written into pcap buffers */
	uint64_t bytes;          /* pcap bytes (headers included) handed to the files */
	uint64_t writes;         /* io_uring writes completed */
	uint64_t buffer_waits;   /* do_work calls that found both buffers in flight */
	uint64_t timed_flushes;  /* partial buffers written because of cfg.flush_ns */
	uint64_t files;          /* files opened */
	uint64_t prealloc_failed;/* fallocate() refused (EOPNOTSUPP...) */
	bool direct;             /* the current file is written with O_DIRECT */
	bool direct_fallback;    /* O_DIRECT was asked (AUTO) but the file system refused it */
	bool failed;
	int last_error;          /* -errno of the failure, 0 */
	char path[512];          /* current (or last) file */
};

struct fh_journal;

/* Allocates the rings and buffers, sets up io_uring, opens the first file
 * (writing its pcap header). NULL with the reason in err. */
struct fh_journal *fh_journal_create(const struct fh_journal_cfg *cfg, char *err, size_t errlen);

/* Drains the rings (producers must have stopped), writes everything,
 * truncates the file to its length, closes it and frees the journal.
 * 0 or the first -errno seen (the journal is freed either way). */
int fh_journal_close(struct fh_journal *j);

/* The ring of producer p (< cfg.producers), for fh_journal_push(). */
struct fh_journal_ring *fh_journal_ring(struct fh_journal *j, unsigned p);

/*
 * Producer side (one thread per ring): copies frame[0..len) (cut to the
 * snaplen) and its receive time in ns since the Unix epoch. 0, or
 * -ENOBUFS when the ring is full (counted). No system call, no lock.
 */
static inline int fh_journal_push(struct fh_journal_ring *r, const void *frame, uint32_t len,
				  uint64_t ts_ns)
{
	return fh_journal_pvt_push(r, frame, len, ts_ns);
}

/*
 * Producer side, for sources without frames (the kernel-socket backend):
 * journals the UDP payload inside a synthetic Ethernet (IPv4 multicast MAC
 * of dst) + IPv4 (DF, TTL 64, valid header checksum) + UDP (checksum 0)
 * frame from src to dst (host order), so tshark, tcpreplay and fh's pcap
 * path read it like a captured frame. Same returns as fh_journal_push().
 */
static inline int fh_journal_push_udp(struct fh_journal_ring *r, uint32_t src_ip, uint32_t dst_ip,
				      uint16_t src_port, uint16_t dst_port, const void *payload,
				      uint32_t len, uint64_t ts_ns)
{
	return fh_journal_pvt_push_udp(r, src_ip, dst_ip, src_port, dst_port, payload, len, ts_ns);
}

/*
 * Journal core: reaps finished writes, drains up to `budget` records
 * (0: 1024) from the rings into the pcap stream, submits full buffers and
 * rotates files. Returns the records drained (0 when idle). Makes system
 * calls (io_uring_enter; open/fallocate/ftruncate at rotation): never call
 * it from an RX core.
 */
unsigned fh_journal_do_work(struct fh_journal *j, unsigned budget);

/* Journal core: drains the rings and waits until every byte pushed so far
 * is written to the current file. 0 or -errno. */
int fh_journal_flush(struct fh_journal *j);

/* Consistent only from the journal core (or after the producers stopped). */
void fh_journal_stats(const struct fh_journal *j, struct fh_journal_stats *st);

#endif /* FH_JOURNAL_H */
