/* SPDX-License-Identifier: MIT */
/* fh_soup.h: SoupBinTCP client for a GLIMPSE 5.0 style snapshot: poll-driven, non-blocking kernel TCP. */
#ifndef FH_SOUP_H
#define FH_SOUP_H

/*
 * Snapshot recovery (late start, long gap): connect to the snapshot service
 * (IPv4 host:port), log in (username, password, requested session,
 * requested sequence), take every Sequenced Data message (an ITCH 5.0
 * message: R, H, Y, h, S, then one A/F per resting order) and hand it to
 * the caller, until GLIMPSE's End of Snapshot ('G', a 20-byte ASCII
 * sequence number) says where the live TotalView-ITCH stream takes over.
 * The client then sends Logout Request, closes and reports DONE with
 * `next_seq`: the first live MoldUDP64 sequence number to apply (messages
 * < next_seq are contained in the snapshot and must be dropped).
 *
 * The 'G' number: GLIMPSE 5.0 says it is the TotalView-ITCH sequence
 * number from which real-time processing begins, i.e. the NEXT message,
 * so next_seq = G by default. A venue whose number names the last message
 * included instead is handled with cfg.g_is_last (next_seq = G + 1).
 * The 'G' message itself is consumed here, never handed to the callback.
 *
 * Wire (SoupBinTCP 3.0/4.0 packet set): every packet is a 2-byte big-endian
 * length (of what follows), a type byte and a payload. Server: '+' debug,
 * 'A' login accepted (session 10, sequence 20 ASCII), 'J' login rejected
 * (reason 'A' not authorized / 'S' session not available), 'S' sequenced
 * data, 'H' server heartbeat, 'Z' end of session. Client: 'L' login
 * request (username 6, password 10, session 10, sequence 20), 'U'
 * unsequenced data, 'R' client heartbeat, 'O' logout request.
 *
 * Timers (caller-supplied monotonic ns): a client heartbeat after
 * cfg.heartbeat_ns without sending (default 1 s, as the spec asks); the
 * server is declared silent after cfg.timeout_ns without a byte from it
 * (default 15 s, the spec's figure); connect + login must complete within
 * cfg.connect_timeout_ns (default 5 s).
 *
 * Bad input: every frame is bounds-checked against what was received and
 * cfg.max_frame. A frame of an unknown type, an unsequenced message or a
 * debug packet is counted and skipped (unknown types also go to cfg.dlq);
 * a zero or oversized length, a malformed Login Accepted or 'G', data
 * before the login was accepted, a login rejected, End of Session or a
 * peer close before 'G', a server silence or a socket error end the
 * attempt: state FAILED with a reason (fh_soup_fail_name()). The caller
 * may fh_soup_restart() (a new snapshot from scratch: reset the books it
 * built from the previous attempt first).
 *
 * Memory and threads: everything (receive buffer included) is allocated
 * by fh_soup_create(); poll never allocates and never blocks (syscalls:
 * socket/connect/recv/send/close, only while recovering). One thread
 * (the RX core that owns the channel) uses a client.
 *
 * Caller loop (an RX channel recovering):
 *   c = fh_soup_create(&cfg, err, sizeof(err));
 *   each loop turn: fh_soup_poll(c, now_ns, on_msg, chan);   // on_msg: decode + book
 *   switch (fh_soup_state(c)): DONE -> expected = fh_soup_next_seq(c), release
 *   held packets >= expected, drop the rest, fh_soup_destroy(c); FAILED ->
 *   books stay stale, fh_soup_fail(c) says why, restart later or give up.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fh_dlq;

#define FH_SOUP_USER_LEN 6
#define FH_SOUP_PASS_LEN 10
#define FH_SOUP_SESSION_LEN 10
#define FH_SOUP_SEQ_LEN 20
#define FH_SOUP_HDR_LEN 3             /* length (2) + type (1) */
#define FH_SOUP_MAX_FRAME (2 + 65535) /* largest frame the protocol can express */
#define FH_SOUP_DEF_MAX_FRAME 4096    /* default: ITCH messages are <= 50 bytes */
#define FH_SOUP_RX_BUF (2 * FH_SOUP_MAX_FRAME)

/* SoupBinTCP packet types. */
#define FH_SOUP_T_DEBUG '+'
#define FH_SOUP_T_LOGIN_ACCEPTED 'A'
#define FH_SOUP_T_LOGIN_REJECTED 'J'
#define FH_SOUP_T_SEQUENCED 'S'
#define FH_SOUP_T_SERVER_HEARTBEAT 'H'
#define FH_SOUP_T_END_OF_SESSION 'Z'
#define FH_SOUP_T_LOGIN_REQUEST 'L'
#define FH_SOUP_T_UNSEQUENCED 'U'
#define FH_SOUP_T_CLIENT_HEARTBEAT 'R'
#define FH_SOUP_T_LOGOUT_REQUEST 'O'
/* GLIMPSE End of Snapshot: an ITCH-style message inside Sequenced Data. */
#define FH_SOUP_GLIMPSE_END 'G'
#define FH_SOUP_GLIMPSE_END_LEN (1 + FH_SOUP_SEQ_LEN)

/* Login Request payload length (username + password + session + sequence). */
#define FH_SOUP_LOGIN_PAYLOAD (FH_SOUP_USER_LEN + FH_SOUP_PASS_LEN + FH_SOUP_SESSION_LEN + FH_SOUP_SEQ_LEN)
/* Login Accepted payload length (session + sequence). */
#define FH_SOUP_ACCEPT_PAYLOAD (FH_SOUP_SESSION_LEN + FH_SOUP_SEQ_LEN)

struct fh_soup_cfg {
	const char *host;            /* dotted IPv4 (no name lookup: it could block) */
	uint16_t port;
	char username[FH_SOUP_USER_LEN + 1];      /* sent space padded on the right */
	char password[FH_SOUP_PASS_LEN + 1];
	char session[FH_SOUP_SESSION_LEN + 1];    /* "" (blank): the current session */
	uint64_t sequence;           /* requested sequence (0 -> 1: GLIMPSE wants 1) */
	uint64_t heartbeat_ns;       /* client heartbeat interval (default 1 s) */
	uint64_t timeout_ns;         /* server silence before FAILED (default 15 s) */
	uint64_t connect_timeout_ns; /* connect + login answer (default 5 s) */
	uint32_t max_frame;          /* longest accepted frame incl. the 2-byte length
				      * (default FH_SOUP_DEF_MAX_FRAME, 4..FH_SOUP_MAX_FRAME) */
	uint32_t budget;             /* frames handled per poll at most (default 4096) */
	bool g_is_last;              /* the venue's 'G' names the last message included */
	struct fh_dlq *dlq;          /* rejected frames' raw bytes (may be NULL) */
	uint16_t source_id;          /* written into dead-letter records */
};

enum fh_soup_state {
	FH_SOUP_CONNECTING = 0, /* TCP connect in progress (or not started: first poll starts it) */
	FH_SOUP_LOGIN,          /* Login Request sent, waiting for Accepted / Rejected */
	FH_SOUP_SNAPSHOT,       /* logged in, sequenced data flowing, waiting for 'G' */
	FH_SOUP_DONE,           /* 'G' seen: fh_soup_next_seq() is valid; socket closed */
	FH_SOUP_FAILED,         /* see fh_soup_fail(); socket closed */
};

enum fh_soup_fail {
	FH_SOUP_FAIL_NONE = 0,
	FH_SOUP_FAIL_CONNECT,        /* connect refused / unreachable / socket error */
	FH_SOUP_FAIL_CONNECT_TIMEOUT,/* no connection or no login answer in time */
	FH_SOUP_FAIL_REJECTED_AUTH,  /* Login Rejected 'A': not authorized */
	FH_SOUP_FAIL_REJECTED_SESSION, /* Login Rejected 'S': session not available */
	FH_SOUP_FAIL_REJECTED_OTHER, /* Login Rejected, another reason code */
	FH_SOUP_FAIL_SILENT,         /* nothing from the server for timeout_ns */
	FH_SOUP_FAIL_CLOSED,         /* the server closed (or reset) before 'G' */
	FH_SOUP_FAIL_END_OF_SESSION, /* End of Session before 'G' */
	FH_SOUP_FAIL_PROTOCOL,       /* an unrecoverable frame (see rejects[]) */
	FH_SOUP_FAIL_IO,             /* send/recv error */
	FH_SOUP_FAIL__COUNT
};

/* Frames refused, by reason (counted in stats.rejects[]). */
enum fh_soup_reject {
	FH_SOUP_REJ_NONE = 0,
	FH_SOUP_REJ_ZERO_LENGTH,     /* length field 0: no type byte (fatal) */
	FH_SOUP_REJ_TOO_LONG,        /* length past cfg.max_frame (fatal) */
	FH_SOUP_REJ_UNKNOWN_TYPE,    /* not a server packet type (skipped) */
	FH_SOUP_REJ_BAD_SIZE,        /* a fixed-size packet of the wrong size, an empty
				      * sequenced message (fatal for A, J and 'G') */
	FH_SOUP_REJ_BAD_NUMBER,      /* a sequence field that is not a number (fatal) */
	FH_SOUP_REJ_UNEXPECTED,      /* data or a second login answer out of turn (fatal
				      * before login, skipped after) */
	FH_SOUP_REJ__COUNT
};

struct fh_soup_stats {
	uint64_t connects;          /* TCP connections established */
	uint64_t attempts;          /* snapshot attempts (create + restarts) */
	uint64_t logins_accepted;
	uint64_t logins_rejected;
	uint64_t seq_msgs;          /* sequenced messages handed to the caller */
	uint64_t seq_bytes;
	uint64_t unseq_msgs;        /* unsequenced data from the server (ignored) */
	uint64_t debug_msgs;        /* debug packets (ignored) */
	uint64_t server_heartbeats;
	uint64_t client_heartbeats; /* sent */
	uint64_t end_of_session;
	uint64_t snapshots;         /* 'G' seen */
	uint64_t rx_bytes, tx_bytes;
	uint64_t accepted_seq;      /* Login Accepted: first sequence number of the stream */
	char accepted_session[FH_SOUP_SESSION_LEN + 1];
	uint64_t g_seq;             /* the number carried by the last 'G' */
	uint64_t last_duration_ns;  /* the last DONE attempt: first poll to 'G' (caller's clock) */
	uint64_t fails[FH_SOUP_FAIL__COUNT];
	uint64_t rejects[FH_SOUP_REJ__COUNT];
};

/* Called for every ITCH message of sequenced data (never for 'G'). msg is
 * valid during the call only. */
typedef void (*fh_soup_msg_cb)(void *arg, const uint8_t *msg, size_t len);

struct fh_soup;

/* Defaults for unset fields (port, host and credentials stay empty). */
void fh_soup_cfg_default(struct fh_soup_cfg *cfg);

/* Allocates a client (nothing is sent yet: the first poll connects).
 * NULL on a bad configuration or out of memory, with the reason in err. */
struct fh_soup *fh_soup_create(const struct fh_soup_cfg *cfg, char *err, size_t errlen);

/* Sends Logout Request when logged in (best effort), closes, frees. NULL ok. */
void fh_soup_destroy(struct fh_soup *c);

/*
 * Does what is due at now_ns: connect, send login / heartbeats, receive and
 * parse what is queued (at most cfg.budget frames), check timeouts. Calls
 * cb(arg, msg, len) for each snapshot message, in order. Returns the work
 * done (frames handled + state changes); 0 when idle, DONE or FAILED.
 */
unsigned fh_soup_poll(struct fh_soup *c, uint64_t now_ns, fh_soup_msg_cb cb, void *arg);

/* Sends Logout Request (when logged in) and closes; the state becomes
 * FAILED (FH_SOUP_FAIL_CLOSED) unless it was DONE already. */
void fh_soup_close(struct fh_soup *c);

/* After DONE or FAILED: a new attempt from CONNECTING (counters kept). */
void fh_soup_restart(struct fh_soup *c);

/* Points the next attempt at another server (a backup site): dotted IPv4
 * and port. Only between attempts (DONE, FAILED, or CONNECTING before the
 * first poll): 0, -EBUSY during an attempt, -EINVAL on a bad address. */
int fh_soup_set_server(struct fh_soup *c, const char *host, uint16_t port);

enum fh_soup_state fh_soup_state(const struct fh_soup *c);
enum fh_soup_fail fh_soup_fail(const struct fh_soup *c);
/* DONE: the first live sequence number to apply; 0 in any other state. */
uint64_t fh_soup_next_seq(const struct fh_soup *c);
/* Login Rejected reason code as sent ('A', 'S', ...), 0 when none. */
uint8_t fh_soup_reject_code(const struct fh_soup *c);
void fh_soup_stats(const struct fh_soup *c, struct fh_soup_stats *st);

const char *fh_soup_state_name(enum fh_soup_state s);
const char *fh_soup_fail_name(enum fh_soup_fail f);
const char *fh_soup_reject_name(enum fh_soup_reject r);

/*
 * Feeds bytes received by other means (a capture, a fuzzer, a test) through
 * the same parser and state machine as the socket path; a client that has
 * not connected is taken as having sent its login. Returns frames handled.
 */
unsigned fh_soup_input(struct fh_soup *c, const uint8_t *data, size_t len, uint64_t now_ns,
		       fh_soup_msg_cb cb, void *arg);

/* ---- Pure frame parsing (no state; the fuzz target drives it directly). ---- */

struct fh_soup_frame {
	uint8_t type;
	const uint8_t *payload;     /* points into the input */
	uint16_t payload_len;
};

/*
 * One frame at buf[0..len): returns its total length (2 + the length field)
 * when complete, 0 when more bytes are needed, or -enum fh_soup_reject
 * (ZERO_LENGTH, TOO_LONG past max_frame). Never reads outside buf[0..len).
 */
long fh_soup_frame_parse(const uint8_t *buf, size_t len, size_t max_frame, struct fh_soup_frame *f);

/* Parses an ASCII number field (digits, space padded either side, at least
 * one digit, no overflow). 0 or -EINVAL. */
int fh_soup_parse_num(const uint8_t *p, size_t len, uint64_t *out);

/* Writes a frame header (length = 1 + payload_len, type) into out[3]. */
void fh_soup_put_header(uint8_t out[FH_SOUP_HDR_LEN], uint8_t type, uint16_t payload_len);

/* Writes v right-aligned, space padded on the left, into out[len]; -ERANGE if it does not fit. */
int fh_soup_put_num(uint8_t *out, size_t len, uint64_t v);

/* Writes s left-aligned, space padded on the right, into out[len] (s may be NULL). */
void fh_soup_put_alpha(uint8_t *out, size_t len, const char *s);

#endif /* FH_SOUP_H */
