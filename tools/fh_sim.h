/* SPDX-License-Identifier: MIT */
/* fh_sim.h: deterministic Nasdaq TotalView-ITCH 5.0 exchange simulator, day-file and MoldUDP64 pcap writers. */
#ifndef FH_SIM_H
#define FH_SIM_H

/*
 * The simulator generates one trading day of ITCH 5.0 messages from a seed:
 * system events, a stock directory, trading actions, full order lifecycles on
 * a per-instrument order book (every E/C/X/D/U names a live order with
 * enough shares; every order reference is unique and increasing), prints,
 * crosses, and optionally injected anomalies with a truth list. The same
 * configuration (seed included) always yields the same bytes.
 *
 * Messages are ITCH 5.0 wire messages: type byte first, no length prefix,
 * the 6-byte big-endian nanoseconds-since-midnight timestamp at offset 5,
 * prices with 4 decimals. Timestamps never decrease.
 *
 * Model, mix and anomaly shapes: docs/SIMULATOR.md.
 *
 * Threading: a struct fh_sim is used by one thread at a time. Generation does
 * not allocate after fh_sim_create() (all tables are sized from the config).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FH_SIM_MSG_MAX 64 /* largest ITCH 5.0 message is 50 B (NOII 'I') */
#define FH_SIM_DEFAULT_SYMBOLS 8700
#define FH_SIM_DEFAULT_MESSAGES 1000000ULL
#define FH_SIM_MAX_SYMBOLS 65000

struct fh_sim_cfg {
	uint64_t seed;
	uint64_t messages;  /* ITCH messages in the session, every type counted (min 1000) */
	uint32_t symbols;   /* instruments in the stock directory (default 8700) */
	uint32_t peak_live; /* live orders targeted at the day's peak (0: messages / 55,
			     * i.e. ~1.7 M at 100 M messages); the book table holds
			     * peak_live * 5 / 4 + 4096 orders */
	double zipf_s;      /* activity skew: instrument k (by rank) gets weight 1/k^s (default 1.0) */
	uint32_t anomalies; /* anomalies to inject on active instruments (0: clean session) */
	uint32_t first_locate; /* stock locate of the first instrument (default 1) */
};

/* Defaults: seed 1, 1 M messages, 8700 symbols, Zipf 1.0, no anomalies. */
struct fh_sim_cfg fh_sim_cfg_default(void);

struct fh_sim;

/* NULL on bad configuration (errno EINVAL) or out of memory (ENOMEM). */
struct fh_sim *fh_sim_create(const struct fh_sim_cfg *cfg);
void fh_sim_destroy(struct fh_sim *s);

/*
 * Writes the next message into msg (cap >= FH_SIM_MSG_MAX) and returns its
 * length; 0 once cfg.messages have been produced (the last one is system
 * event 'C', end of messages); -EINVAL if cap is too small.
 */
int fh_sim_next(struct fh_sim *s, uint8_t *msg, size_t cap);

/* Counters since creation. by_type is indexed by the ITCH type byte. */
struct fh_sim_stats {
	uint64_t messages;
	uint64_t bytes;             /* message bytes, without length prefixes */
	uint64_t by_type[128];
	uint64_t live_orders;       /* orders currently resting */
	uint64_t peak_live_orders;
	uint64_t peak_live_ts_ns;   /* timestamp at which the peak was reached */
	uint64_t last_ts_ns;
	uint64_t orders_added;      /* A + F + the new side of U */
	uint64_t book_full;         /* adds refused because the order table was full */
	uint64_t wide_spells;       /* clean-flow spells of a spread >= 5x the instrument's normal
				     * spread lasting >= 2 s (seen when the instrument next trades
				     * or quotes; injected anomalies excluded) */
};
void fh_sim_get_stats(const struct fh_sim *s, struct fh_sim_stats *st);

/* The 8-character space-padded symbol of a stock locate into out[9] (NUL-terminated); -ENOENT if unknown. */
int fh_sim_symbol(const struct fh_sim *s, uint16_t locate, char out[9]);

/* ---- Nasdaq day-file format: every message preceded by its 2-byte big-endian length. ---- */

/*
 * Appends whole length-prefixed messages to buf until the next one would not
 * fit or the session ends; returns the bytes written (0 at the end). Call
 * again with a fresh buffer to continue: nothing is lost between calls.
 */
size_t fh_sim_fill(struct fh_sim *s, uint8_t *buf, size_t cap);

/* Drains the rest of the session into f. 0 or -errno. */
int fh_sim_write_itch(struct fh_sim *s, FILE *f);
int fh_sim_write_itch_path(const struct fh_sim_cfg *cfg, const char *path);

/*
 * The whole session in one malloc'd buffer (free() it); *len gets its size,
 * st (may be NULL) the final counters. NULL on error (errno set). Benchmarks
 * use this for in-memory files of >= 100 M messages (about 32 B per message).
 */
uint8_t *fh_sim_itch_mem(const struct fh_sim_cfg *cfg, size_t *len, struct fh_sim_stats *st);

/* ---- MoldUDP64 in UDP/IPv4/Ethernet, nanosecond pcap (magic 0xa1b23c4d, linktype 1). ---- */

#define FH_SIM_LINE_A 0x1
#define FH_SIM_LINE_B 0x2
#define FH_SIM_MAX_GAPS 32
#define FH_SIM_MOLD_HDR 20
#define FH_SIM_MOLD_HEARTBEAT 0      /* message count of a heartbeat */
#define FH_SIM_MOLD_END 0xFFFF       /* message count of end of session */

/* Messages first..last (MoldUDP64 sequence numbers, inclusive) are not sent on the given lines. */
struct fh_sim_gap {
	uint64_t first;
	uint64_t last;
	uint8_t lines; /* FH_SIM_LINE_A and/or FH_SIM_LINE_B */
};

struct fh_sim_pcap_cfg {
	char session[10];          /* MoldUDP64 session, space padded (default "FHSIM00001") */
	uint64_t first_seq;        /* sequence number of the first message (default 1) */
	uint32_t src_ip;           /* host byte order (default 10.0.0.1) */
	uint32_t group_a;          /* line A multicast group (default 233.54.12.111) */
	uint32_t group_b;          /* line B group; 0: no B line (default 0) */
	uint16_t src_port;         /* default 50000 */
	uint16_t port_a;           /* default 26477 */
	uint16_t port_b;           /* default 26478 */
	uint16_t max_payload;      /* UDP payload cap incl. the 20-byte header (default 1400, 64..8972) */
	uint64_t bundle_ns;        /* also close a packet when a message is this much later than
				    * the packet's first (default 1 ms; 0: fill to max_payload) */
	uint64_t heartbeat_ns;     /* heartbeat after this much silence (default 1 s; 0: none) */
	bool end_of_session;       /* end-of-session packet after the last message (default true) */
	uint64_t epoch_ns;         /* Unix time of the session day's midnight (default 2019-12-30 UTC) */
	uint64_t pps;              /* pacing: 0: capture time = ITCH time; else packets evenly
				    * spaced at this rate from the first message's time */
	uint64_t b_delay_ns;       /* line B copy is captured this much after line A (default 2000) */
	struct fh_sim_gap gaps[FH_SIM_MAX_GAPS];
	unsigned n_gaps;
	double drop_pct;           /* random loss: % of data packets dropped */
	double reorder_pct;        /* % of data packets swapped with the next one */
	double corrupt_pct;        /* % of data packets corrupted (alternately a wrong block
				    * length that overruns the datagram and a truncated datagram) */
	uint8_t impair_lines;      /* lines the random impairments apply to (default A) */
	uint64_t impair_seed;      /* default 7 */
};

/* Per-line counters of what the writer did. */
struct fh_sim_pcap_stats {
	uint64_t packets;          /* records written, both lines */
	uint64_t data_packets;     /* distinct data packets before impairments (one line) */
	uint64_t heartbeats;       /* heartbeat records written */
	uint64_t end_packets;
	uint64_t dropped[2];       /* [0] line A, [1] line B: data packets not written */
	uint64_t dropped_msgs[2];
	uint64_t reordered[2];
	uint64_t bad_len[2];
	uint64_t truncated[2];
	uint64_t messages;         /* ITCH messages packetized */
	uint64_t first_seq;
	uint64_t next_seq;         /* sequence after the last message */
};

void fh_sim_pcap_cfg_default(struct fh_sim_pcap_cfg *pc);

/* Drains the rest of the session into f as a pcap. 0 or -errno (-EINVAL on bad pcap config). */
int fh_sim_write_pcap(struct fh_sim *s, const struct fh_sim_pcap_cfg *pc, FILE *f,
		      struct fh_sim_pcap_stats *st);
int fh_sim_write_pcap_path(const struct fh_sim_cfg *cfg, const struct fh_sim_pcap_cfg *pc,
			   const char *path, struct fh_sim_pcap_stats *st);

/*
 * Building blocks, also for tests and future servers. Addresses are host byte
 * order. fh_sim_udp_frame() writes Ethernet (dst MAC 01:00:5e + low 23 bits of
 * a multicast dst, else a fixed unicast MAC) + IPv4 (DF, TTL 64, valid header
 * checksum) + UDP (valid checksum) around payload; returns the frame length or
 * 0 if cap is too small.
 */
void fh_sim_mold_header(uint8_t out[FH_SIM_MOLD_HDR], const char session[10], uint64_t seq,
			uint16_t count);
size_t fh_sim_udp_frame(uint8_t *out, size_t cap, uint32_t src_ip, uint32_t dst_ip,
			uint16_t src_port, uint16_t dst_port, const uint8_t *payload, size_t len);

/* ---- Anomaly truth (cfg.anomalies > 0). ---- */

enum fh_sim_anomaly {
	FH_SIM_AN_PRICE_SPIKE = 0,  /* one printable trade ~3 % off the last trade, then back */
	FH_SIM_AN_VOLUME_SURGE,     /* >= 20x normal 1-s traded volume within 1 s, prices unchanged */
	FH_SIM_AN_SPIKE_SURGE,      /* ~2 % price move with >= 5x volume */
	FH_SIM_AN_SPREAD_WIDENING,  /* top-of-book spread >= 5x for >= 2 s, then restored */
	FH_SIM_AN_PRICE_GAP,        /* a trade 8 % away from the previous trade */
	FH_SIM_AN_CIRCUIT_BREAKER,  /* >= 12 % stepwise move from the reference within 5 min */
	FH_SIM_AN__COUNT
};

struct fh_sim_truth {
	enum fh_sim_anomaly kind;
	uint16_t locate;
	char symbol[9];     /* space padded to 8, NUL-terminated */
	uint64_t start_ns;  /* ns since midnight */
	uint64_t end_ns;
};

const char *fh_sim_anomaly_name(enum fh_sim_anomaly kind);

/* The planned anomalies, sorted by start time; valid until fh_sim_destroy(). */
size_t fh_sim_truth(const struct fh_sim *s, const struct fh_sim_truth **out);

/* One line per anomaly: `<kind> <stock_locate> <symbol> <start_ts_ns> <end_ts_ns>`. 0 or -errno. */
int fh_sim_write_truth(const struct fh_sim *s, FILE *f);

/* ---- A whole session retained in memory, addressable by MoldUDP64 sequence (for re-request servers). ---- */

struct fh_sim_store;

/* Generates the session into memory; NULL on error (errno set). Sequence numbers start at first_seq. */
struct fh_sim_store *fh_sim_store_create(const struct fh_sim_cfg *cfg, uint64_t first_seq);
void fh_sim_store_destroy(struct fh_sim_store *st);
uint64_t fh_sim_store_first_seq(const struct fh_sim_store *st);
uint64_t fh_sim_store_count(const struct fh_sim_store *st);
/* Message seq: pointer into the store and its length. 0, or -ENOENT outside the session. */
int fh_sim_store_get(const struct fh_sim_store *st, uint64_t seq, const uint8_t **msg, size_t *len);

#endif /* FH_SIM_H */
