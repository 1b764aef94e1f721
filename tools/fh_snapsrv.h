/* SPDX-License-Identifier: MIT */
/* fh_snapsrv.h: a SoupBinTCP server serving a GLIMPSE-style snapshot of a simulated session (tests, fh-sim). */
#ifndef FH_SNAPSRV_H
#define FH_SNAPSRV_H

/*
 * The exchange side of snapshot recovery. At creation the server replays
 * messages first..S-1 of a session kept by fh_sim_store through an order
 * table of its own (order ref -> stock locate, side, price, shares, time
 * priority; A/F add, E/C execute, X cancel, D delete, U replace with a new
 * ref, price and shares, losing priority) and keeps per stock the latest
 * Stock Directory (R), Trading Action (H), Reg SHO (Y) and Operational
 * Halt (h), plus the latest System Event (S). It then encodes the snapshot
 * once, as SoupBinTCP Sequenced Data packets:
 *   the latest S; for every stock by locate: R, H, Y, h (those seen), then
 *   one Add Order per resting order ('A', or 'F' with its MPID when it was
 *   added with attribution; its original order reference, remaining shares,
 *   current price, add time) in time priority;
 *   GLIMPSE End of Snapshot 'G' carrying S (the next live sequence number);
 * followed by End of Session 'Z' (cfg.no_end_of_session leaves it out).
 * A client that builds books from the snapshot and then applies the live
 * messages S, S+1, ... gets the books of a full replay (test_soup proves it).
 *
 * Sessions: a Login Request (username / password checked when configured,
 * the username case-insensitively as the spec says; a requested session
 * that is neither blank nor ours is rejected 'S'; the requested sequence
 * number resumes the snapshot stream there, 0 or 1 = from the start) is
 * answered Login Accepted (our session, the sequence number of the next
 * message) or Login Rejected ('A' / 'S') and closed. Server heartbeats
 * after cfg.heartbeat_ns without sending; a client silent for
 * cfg.timeout_ns, or not logged in within it, is closed. After the last
 * packet the connection stays until the client logs out or closes (or the
 * timeout). cfg.down (or fh_snapsrv_set_down) accepts and at once closes
 * every connection, counted (an outage); setting it also drops the
 * connected clients.
 *
 * Non-blocking sockets, fh_snapsrv_poll() does what is ready; up to
 * cfg.max_clients at once. Single-threaded: one thread polls.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fh_sim.h"

struct fh_snapsrv_cfg {
	const struct fh_sim_store *store;
	uint64_t snapshot_seq;    /* S: the snapshot holds first..S-1; 0: the end of the session */
	uint32_t addr;            /* host order (default 127.0.0.1) */
	uint16_t port;            /* 0: any free port (see fh_snapsrv_port) */
	char session[11];         /* SoupBinTCP session name (default "FHSNAP0001") */
	char username[7];         /* "" : any */
	char password[11];        /* "" : any */
	uint64_t heartbeat_ns;    /* default 1 s */
	uint64_t timeout_ns;      /* client silence / login wait (default 15 s) */
	unsigned max_clients;     /* at once (default 8, <= 64) */
	uint32_t send_budget;     /* bytes sent per client per poll at most (default 256 KiB) */
	bool no_end_of_session;   /* do not send 'Z' after 'G' */
	bool down;                /* refuse: accept and close at once */
};

struct fh_snapsrv_info {
	uint64_t snapshot_seq;    /* the number in 'G' */
	uint64_t replayed;        /* session messages replayed into the snapshot (S - first) */
	uint64_t messages;        /* sequenced messages of the snapshot, 'G' included */
	uint64_t orders;          /* resting orders ('A' and 'F' messages) */
	uint64_t stocks;          /* stocks with a directory entry or an order */
	uint64_t bytes;           /* encoded stream, 'Z' included */
	uint64_t unknown_refs;    /* E/C/X/D/U naming no live order (0 for a sane session) */
};

struct fh_snapsrv_stats {
	uint64_t connections;     /* accepted while up */
	uint64_t refused;         /* connections closed at once while down */
	uint64_t busy;            /* closed: max_clients reached */
	uint64_t logins_accepted;
	uint64_t rejected_auth;
	uint64_t rejected_session;
	uint64_t snapshots_sent;  /* clients that got the whole stream */
	uint64_t bytes_sent;
	uint64_t heartbeats_sent;
	uint64_t client_heartbeats;
	uint64_t logouts;
	uint64_t timeouts;        /* clients closed for silence */
	uint64_t bad_frames;      /* malformed client packets (the client is closed) */
	uint64_t closed_by_client;
};

struct fh_snapsrv;

/* Builds the snapshot and listens. NULL with the reason in err. */
struct fh_snapsrv *fh_snapsrv_create(const struct fh_snapsrv_cfg *cfg, char *err, size_t errlen);
void fh_snapsrv_destroy(struct fh_snapsrv *s);
uint16_t fh_snapsrv_port(const struct fh_snapsrv *s);
void fh_snapsrv_set_down(struct fh_snapsrv *s, bool down);
/* Accepts, reads logins and heartbeats, sends what is due at now_ns (monotonic). Returns work done. */
unsigned fh_snapsrv_poll(struct fh_snapsrv *s, uint64_t now_ns);
/* Clients currently connected. */
unsigned fh_snapsrv_clients(const struct fh_snapsrv *s);
void fh_snapsrv_info(const struct fh_snapsrv *s, struct fh_snapsrv_info *info);
void fh_snapsrv_stats(const struct fh_snapsrv *s, struct fh_snapsrv_stats *st);

#endif /* FH_SNAPSRV_H */
