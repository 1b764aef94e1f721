/* SPDX-License-Identifier: MIT */
/* fh_rereq_srv.h: a MoldUDP64 re-request server over a simulated session store (UDP, for tests and benchmarks). */
#ifndef FH_REREQ_SRV_H
#define FH_REREQ_SRV_H

/*
 * Answers MoldUDP64 re-requests (a 20-byte datagram: session, first
 * sequence, message count) from a session kept by fh_sim_store: the
 * messages [seq, seq + count) clipped to the session and to cfg.max_count,
 * sent back to the requester as MoldUDP64 packets of at most
 * cfg.max_payload bytes each. A request for another session, of the wrong
 * size or for a range wholly outside the session is counted and not
 * answered. cfg.down makes it swallow every request (an outage), counted.
 *
 * The socket is non-blocking; fh_rereq_srv_poll() serves what is queued.
 * Single-threaded: one thread polls.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fh_sim.h"

struct fh_rereq_srv_cfg {
	const struct fh_sim_store *store;
	char session[10];     /* space padded */
	uint32_t addr;        /* host order (default 127.0.0.1) */
	uint16_t port;        /* 0: any free port (see fh_rereq_srv_port) */
	uint16_t max_payload; /* UDP payload per answer packet (default 1400, 64..65507) */
	uint32_t max_count;   /* messages answered per request (default 65534) */
	bool down;            /* answer nothing */
};

struct fh_rereq_srv_stats {
	uint64_t requests;    /* well-formed requests for our session */
	uint64_t answered_msgs;
	uint64_t packets;     /* answer packets sent */
	uint64_t bad;         /* wrong size or session */
	uint64_t outside;     /* no message of the session in the range */
	uint64_t ignored;     /* swallowed while down */
	uint64_t send_errors;
};

struct fh_rereq_srv;

/* NULL with the reason in err. */
struct fh_rereq_srv *fh_rereq_srv_create(const struct fh_rereq_srv_cfg *cfg, char *err, size_t errlen);
void fh_rereq_srv_destroy(struct fh_rereq_srv *s);
uint16_t fh_rereq_srv_port(const struct fh_rereq_srv *s);
void fh_rereq_srv_set_down(struct fh_rereq_srv *s, bool down);
/* Serves every queued request; returns how many datagrams were read. */
unsigned fh_rereq_srv_poll(struct fh_rereq_srv *s);
void fh_rereq_srv_stats(const struct fh_rereq_srv *s, struct fh_rereq_srv_stats *st);

#endif /* FH_REREQ_SRV_H */
