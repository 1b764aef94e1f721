/* SPDX-License-Identifier: MIT */
/* fh_seqbuf.h: MoldUDP64 hold buffer in front of fh_mold: out-of-order packets wait for the other line or a retransmission. */
#ifndef FH_SEQBUF_H
#define FH_SEQBUF_H

/*
 * fh_mold declares a gap as soon as a packet beyond the expected sequence
 * is processed. With A/B lines read from two queues (two NICs, two
 * sockets) a packet lost on line A is routinely processed *after* line A's
 * next packet, though line B carries it: a false gap. The hold buffer sits
 * in front of fh_mold_rx(): a packet beyond the expected sequence is copied
 * and held; held packets go to fh_mold in sequence order as soon as the
 * sequence reaches them (the other line's copy or a retransmission filled
 * the hole), or when the oldest has waited cfg.hold_ns (then fh_mold
 * reports the gap, as before), or when the buffer is full (the lowest
 * first). While retransmission is pending the owner may keep holding by
 * giving a longer hold.
 *
 * Owner loop (one RX core, per channel):
 *   r = fh_seqbuf_offer(sb, &mold, line, p, len, now);
 *   while (r == FH_SEQBUF_FULL) { feed(fh_seqbuf_next(...)); fh_seqbuf_pop(sb);
 *                                 r = fh_seqbuf_offer(...); }
 *   if (r == FH_SEQBUF_DELIVER) feed(p);
 *   while ((q = fh_seqbuf_next(sb, &mold, now, &line, &len))) { feed(q); fh_seqbuf_pop(sb); }
 * and the last loop again when idle (expiry). feed() = fh_mold_rx() and the
 * decoding of what it delivers.
 *
 * Memory: cfg.max_pkts slots of cfg.max_len bytes, allocated at init; no
 * allocation, lock or system call after. A held copy of a packet already
 * held (same sequence and count, the other line) is dropped and counted.
 */

#include <stdbool.h>
#include <stdint.h>

#include "fh_mold.h"

#define FH_SEQBUF_MAX_PKTS 8192

enum fh_seqbuf_verdict {
	FH_SEQBUF_DELIVER = 0, /* give it to fh_mold_rx() now */
	FH_SEQBUF_HELD = 1,    /* copied; it comes back from fh_seqbuf_next() */
	FH_SEQBUF_DUP = 2,     /* the same packet is already held: dropped (counted) */
	FH_SEQBUF_FULL = 3,    /* no room: deliver the lowest held one first, then offer again */
};

struct fh_seqbuf_cfg {
	uint32_t max_pkts;    /* held packets (<= FH_SEQBUF_MAX_PKTS, default 256) */
	uint32_t max_len;     /* bytes per held packet (default 2048; longer ones are delivered) */
	uint64_t hold_ns;     /* longest wait of the oldest held packet (default 1 ms) */
};

struct fh_seqbuf_stats {
	uint64_t held;        /* packets held */
	uint64_t released;    /* held packets released in order (the hole was filled) */
	uint64_t expired;     /* released because the hold ran out (fh_mold reports a gap) */
	uint64_t forced;      /* released to make room */
	uint64_t dups;        /* second copies dropped while held */
	uint64_t too_long;    /* delivered unheld: longer than max_len */
	uint32_t peak;        /* most packets held at once */
};

struct fh_seqbuf_ent {
	uint64_t seq;
	uint64_t since_ns;
	uint32_t len;
	uint16_t count;
	uint8_t line;
	uint16_t slot;
};

struct fh_seqbuf {
	struct fh_seqbuf_cfg cfg;
	uint8_t *mem;                 /* max_pkts * max_len */
	unsigned n;                   /* held, ent[0..n) sorted by seq */
	struct fh_seqbuf_ent ent[FH_SEQBUF_MAX_PKTS];
	uint16_t free_slots[FH_SEQBUF_MAX_PKTS];
	unsigned n_free;
	bool pressure;                /* a FULL offer: release the lowest regardless */
	int cur;                      /* entry returned by next(), -1 none */
	struct fh_seqbuf_stats st;
};

/* 0, -EINVAL (bad cfg) or -ENOMEM. cfg may be NULL (defaults). */
int fh_seqbuf_init(struct fh_seqbuf *sb, const struct fh_seqbuf_cfg *cfg);
void fh_seqbuf_free(struct fh_seqbuf *sb);

enum fh_seqbuf_verdict fh_seqbuf_offer(struct fh_seqbuf *sb, const struct fh_mold *m, unsigned line,
				       const uint8_t *p, uint32_t len, uint64_t now_ns);

/* The held packet to feed now (in order, expired, or forced), or NULL. */
const uint8_t *fh_seqbuf_next(struct fh_seqbuf *sb, const struct fh_mold *m, uint64_t now_ns,
			      unsigned *line, uint32_t *len);

/* Frees the packet fh_seqbuf_next() returned (after it was fed). */
void fh_seqbuf_pop(struct fh_seqbuf *sb);

#endif /* FH_SEQBUF_H */
