/* SPDX-License-Identifier: MIT */
/* fh_soup.c: SoupBinTCP client for a GLIMPSE 5.0 style snapshot (non-blocking TCP, poll-driven state machine). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fh_common.h"
#include "fh_dlq.h"
#include "fh_soup.h"

#define NS_PER_S 1000000000ull
#define TX_BUF 128 /* login (49) + logout (3) + heartbeats: never more queued */

struct fh_soup {
	struct fh_soup_cfg cfg;
	struct sockaddr_in addr;
	int fd;
	enum fh_soup_state state;
	enum fh_soup_fail fail;
	uint8_t reject_code;
	bool started;          /* connect() issued for this attempt */
	bool external;         /* fed by fh_soup_input(), no socket */
	uint64_t t_start;      /* attempt start (connect timeout) */
	uint64_t t_rx;         /* last byte from the server */
	uint64_t t_tx;         /* last byte sent */
	uint64_t next_seq;
	uint64_t stream_seq;   /* sequence number of the next sequenced message */
	struct fh_soup_stats st;
	size_t tx_len;
	uint8_t tx[TX_BUF];
	size_t rx_len;
	uint8_t rx[FH_SOUP_RX_BUF];
};

/* ---- Pure helpers ---- */

long fh_soup_frame_parse(const uint8_t *buf, size_t len, size_t max_frame, struct fh_soup_frame *f)
{
	if (len < 2)
		return 0;
	size_t flen = fh_be16(buf);
	if (flen == 0)
		return -FH_SOUP_REJ_ZERO_LENGTH;
	if (flen + 2 > max_frame)
		return -FH_SOUP_REJ_TOO_LONG;
	if (len < flen + 2)
		return 0;
	f->type = buf[2];
	f->payload = buf + 3;
	f->payload_len = (uint16_t)(flen - 1);
	return (long)(flen + 2);
}

int fh_soup_parse_num(const uint8_t *p, size_t len, uint64_t *out)
{
	size_t i = 0, end = len;
	uint64_t v = 0;

	while (i < len && p[i] == ' ')
		i++;
	while (end > i && p[end - 1] == ' ')
		end--;
	if (i == end)
		return -EINVAL;
	for (; i < end; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -EINVAL;
		unsigned d = p[i] - '0';
		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

void fh_soup_put_header(uint8_t out[FH_SOUP_HDR_LEN], uint8_t type, uint16_t payload_len)
{
	fh_put_be16(out, (uint16_t)(payload_len + 1));
	out[2] = type;
}

int fh_soup_put_num(uint8_t *out, size_t len, uint64_t v)
{
	size_t i = len;

	do {
		if (i == 0)
			return -ERANGE;
		out[--i] = (uint8_t)('0' + v % 10);
		v /= 10;
	} while (v);
	memset(out, ' ', i);
	return 0;
}

void fh_soup_put_alpha(uint8_t *out, size_t len, const char *s)
{
	size_t n = s ? strnlen(s, len) : 0;

	memcpy(out, s ? s : "", n);
	memset(out + n, ' ', len - n);
}

/* Session names are right-aligned (left padded) in SoupBinTCP. */
static void put_session(uint8_t *out, const char *s)
{
	size_t n = strnlen(s, FH_SOUP_SESSION_LEN);

	memset(out, ' ', FH_SOUP_SESSION_LEN - n);
	memcpy(out + FH_SOUP_SESSION_LEN - n, s, n);
}

/* ---- Names ---- */

const char *fh_soup_state_name(enum fh_soup_state s)
{
	static const char *const names[] = { "connecting", "login", "snapshot", "done", "failed" };
	return (unsigned)s < FH_ARRAY_SIZE(names) ? names[s] : "unknown";
}

const char *fh_soup_fail_name(enum fh_soup_fail f)
{
	static const char *const names[FH_SOUP_FAIL__COUNT] = {
		"none", "connect", "connect_timeout", "rejected_auth", "rejected_session",
		"rejected_other", "silent", "closed", "end_of_session", "protocol", "io",
	};
	return (unsigned)f < FH_SOUP_FAIL__COUNT ? names[f] : "unknown";
}

const char *fh_soup_reject_name(enum fh_soup_reject r)
{
	static const char *const names[FH_SOUP_REJ__COUNT] = {
		"none", "zero_length", "too_long", "unknown_type", "bad_size", "bad_number", "unexpected",
	};
	return (unsigned)r < FH_SOUP_REJ__COUNT ? names[r] : "unknown";
}

/* ---- Configuration ---- */

void fh_soup_cfg_default(struct fh_soup_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->sequence = 1;
	cfg->heartbeat_ns = NS_PER_S;
	cfg->timeout_ns = 15 * NS_PER_S;
	cfg->connect_timeout_ns = 5 * NS_PER_S;
	cfg->max_frame = FH_SOUP_DEF_MAX_FRAME;
	cfg->budget = 4096;
}

struct fh_soup *fh_soup_create(const struct fh_soup_cfg *cfg, char *err, size_t errlen)
{
	struct fh_soup *c;

	if (!cfg) {
		snprintf(err, errlen, "soup: no configuration");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "soup: out of memory");
		return NULL;
	}
	c->cfg = *cfg;
	c->cfg.host = NULL; /* not kept: the caller's string may not outlive us */
	if (!c->cfg.sequence)
		c->cfg.sequence = 1;
	if (!c->cfg.heartbeat_ns)
		c->cfg.heartbeat_ns = NS_PER_S;
	if (!c->cfg.timeout_ns)
		c->cfg.timeout_ns = 15 * NS_PER_S;
	if (!c->cfg.connect_timeout_ns)
		c->cfg.connect_timeout_ns = 5 * NS_PER_S;
	if (!c->cfg.max_frame)
		c->cfg.max_frame = FH_SOUP_DEF_MAX_FRAME;
	if (!c->cfg.budget)
		c->cfg.budget = 4096;
	if (c->cfg.max_frame < 4 || c->cfg.max_frame > FH_SOUP_MAX_FRAME) {
		snprintf(err, errlen, "soup: max_frame %u outside 4..%u", c->cfg.max_frame,
			 FH_SOUP_MAX_FRAME);
		goto out_free;
	}
	c->addr.sin_family = AF_INET;
	c->addr.sin_port = htons(cfg->port);
	if (cfg->host && inet_pton(AF_INET, cfg->host, &c->addr.sin_addr) != 1) {
		snprintf(err, errlen, "soup: host '%s' is not a dotted IPv4 address", cfg->host);
		goto out_free;
	}
	if (cfg->host && !cfg->port) {
		snprintf(err, errlen, "soup: port 0");
		goto out_free;
	}
	c->fd = -1;
	c->st.attempts = 1;
	c->state = FH_SOUP_CONNECTING;
	return c;

out_free:
	free(c);
	return NULL;
}

/* ---- Socket side ---- */

static void close_fd(struct fh_soup *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static void fail(struct fh_soup *c, enum fh_soup_fail why)
{
	if (c->state == FH_SOUP_DONE || c->state == FH_SOUP_FAILED)
		return;
	c->state = FH_SOUP_FAILED;
	c->fail = why;
	c->st.fails[why]++;
	close_fd(c);
	c->tx_len = 0;
}

/* Writes queued bytes; a short write keeps the rest for the next poll. */
static void flush_tx(struct fh_soup *c, uint64_t now)
{
	if (!c->tx_len)
		return;
	if (c->external) {
		c->st.tx_bytes += c->tx_len;
		c->tx_len = 0;
		c->t_tx = now;
		return;
	}
	if (c->fd < 0)
		return;
	ssize_t w = send(c->fd, c->tx, c->tx_len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		fail(c, errno == EPIPE || errno == ECONNRESET ? FH_SOUP_FAIL_CLOSED : FH_SOUP_FAIL_IO);
		return;
	}
	c->st.tx_bytes += (uint64_t)w;
	memmove(c->tx, c->tx + w, c->tx_len - (size_t)w);
	c->tx_len -= (size_t)w;
	c->t_tx = now;
}

/* Queues one client packet; false when the queue has no room (only heartbeats can meet that). */
static bool queue(struct fh_soup *c, uint8_t type, const uint8_t *payload, uint16_t plen)
{
	if (c->tx_len + FH_SOUP_HDR_LEN + plen > sizeof(c->tx))
		return false;
	fh_soup_put_header(c->tx + c->tx_len, type, plen);
	if (plen)
		memcpy(c->tx + c->tx_len + FH_SOUP_HDR_LEN, payload, plen);
	c->tx_len += FH_SOUP_HDR_LEN + plen;
	return true;
}

static void queue_login(struct fh_soup *c)
{
	uint8_t p[FH_SOUP_LOGIN_PAYLOAD];

	fh_soup_put_alpha(p, FH_SOUP_USER_LEN, c->cfg.username);
	fh_soup_put_alpha(p + FH_SOUP_USER_LEN, FH_SOUP_PASS_LEN, c->cfg.password);
	put_session(p + FH_SOUP_USER_LEN + FH_SOUP_PASS_LEN, c->cfg.session);
	fh_soup_put_num(p + FH_SOUP_USER_LEN + FH_SOUP_PASS_LEN + FH_SOUP_SESSION_LEN,
			FH_SOUP_SEQ_LEN, c->cfg.sequence);
	queue(c, FH_SOUP_T_LOGIN_REQUEST, p, sizeof(p));
}

/* Logged in (or logging in): say goodbye, best effort, then close. */
static void logout_and_close(struct fh_soup *c, uint64_t now)
{
	uint8_t bye[FH_SOUP_HDR_LEN];

	if (c->fd >= 0 && (c->state == FH_SOUP_LOGIN || c->state == FH_SOUP_SNAPSHOT)) {
		/* Errors do not matter here: we are leaving either way. */
		fh_soup_put_header(bye, FH_SOUP_T_LOGOUT_REQUEST, 0);
		if (send(c->fd, bye, sizeof(bye), MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)sizeof(bye)) {
			c->st.tx_bytes += sizeof(bye);
			c->t_tx = now;
		}
		/*
		 * Read what is already queued (End of Session, heartbeats): closing
		 * a socket with unread bytes sends a reset, which can make the
		 * server drop our Logout unread. Bounded: a few non-blocking reads.
		 */
		shutdown(c->fd, SHUT_WR);
		for (int i = 0; i < 4; i++) {
			ssize_t r = recv(c->fd, c->rx, sizeof(c->rx), MSG_DONTWAIT);
			if (r <= 0)
				break;
			c->st.rx_bytes += (uint64_t)r;
		}
	}
	close_fd(c);
	c->tx_len = 0;
	c->rx_len = 0;
}

static void start_connect(struct fh_soup *c, uint64_t now)
{
	int one = 1;

	c->started = true;
	c->t_start = now;
	c->t_rx = now;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		fail(c, FH_SOUP_FAIL_CONNECT);
		return;
	}
	/* Login and heartbeats are tiny: send them now, not after Nagle's wait. */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&c->addr, sizeof(c->addr)) == 0)
		return; /* connected at once (loopback): completed on the next check */
	if (errno != EINPROGRESS && errno != EINTR)
		fail(c, FH_SOUP_FAIL_CONNECT);
}

/* CONNECTING: is the connection up? Then send the login. */
static unsigned check_connect(struct fh_soup *c, uint64_t now)
{
	struct pollfd p = { .fd = c->fd, .events = POLLOUT };
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (poll(&p, 1, 0) <= 0) {
		if (now - c->t_start > c->cfg.connect_timeout_ns) {
			fail(c, FH_SOUP_FAIL_CONNECT_TIMEOUT);
			return 1;
		}
		return 0;
	}
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0 ||
	    (p.revents & (POLLERR | POLLHUP))) {
		fail(c, FH_SOUP_FAIL_CONNECT);
		return 1;
	}
	c->st.connects++;
	c->state = FH_SOUP_LOGIN;
	queue_login(c);
	flush_tx(c, now);
	return 1;
}

/* ---- Frames ---- */

static void reject(struct fh_soup *c, enum fh_soup_reject why, const uint8_t *raw, size_t len,
		   uint64_t now)
{
	c->st.rejects[why]++;
	if (c->cfg.dlq)
		fh_dlq_write(c->cfg.dlq, c->cfg.source_id, c->st.accepted_session, c->stream_seq, now,
			     fh_soup_reject_name(why), raw, len);
}

static void on_login_accepted(struct fh_soup *c, const struct fh_soup_frame *f, const uint8_t *raw,
			      size_t rawlen, uint64_t now)
{
	uint64_t seq;

	if (c->state != FH_SOUP_LOGIN) {
		reject(c, FH_SOUP_REJ_UNEXPECTED, raw, rawlen, now);
		return;
	}
	if (f->payload_len != FH_SOUP_ACCEPT_PAYLOAD) {
		reject(c, FH_SOUP_REJ_BAD_SIZE, raw, rawlen, now);
		fail(c, FH_SOUP_FAIL_PROTOCOL);
		return;
	}
	if (fh_soup_parse_num(f->payload + FH_SOUP_SESSION_LEN, FH_SOUP_SEQ_LEN, &seq) != 0) {
		reject(c, FH_SOUP_REJ_BAD_NUMBER, raw, rawlen, now);
		fail(c, FH_SOUP_FAIL_PROTOCOL);
		return;
	}
	/* Session name without its padding, for dead-letter records and the stats. */
	size_t a = 0, b = FH_SOUP_SESSION_LEN;
	while (a < b && f->payload[a] == ' ')
		a++;
	while (b > a && f->payload[b - 1] == ' ')
		b--;
	memset(c->st.accepted_session, 0, sizeof(c->st.accepted_session));
	memcpy(c->st.accepted_session, f->payload + a, b - a);
	c->st.accepted_seq = seq;
	c->st.logins_accepted++;
	c->stream_seq = seq;
	c->state = FH_SOUP_SNAPSHOT;
}

static void on_login_rejected(struct fh_soup *c, const struct fh_soup_frame *f, const uint8_t *raw,
			      size_t rawlen, uint64_t now)
{
	if (c->state != FH_SOUP_LOGIN) {
		reject(c, FH_SOUP_REJ_UNEXPECTED, raw, rawlen, now);
		return;
	}
	c->st.logins_rejected++;
	if (f->payload_len != 1) {
		reject(c, FH_SOUP_REJ_BAD_SIZE, raw, rawlen, now);
		fail(c, FH_SOUP_FAIL_REJECTED_OTHER);
		return;
	}
	c->reject_code = f->payload[0];
	fail(c, c->reject_code == 'A'	? FH_SOUP_FAIL_REJECTED_AUTH
		: c->reject_code == 'S' ? FH_SOUP_FAIL_REJECTED_SESSION
					: FH_SOUP_FAIL_REJECTED_OTHER);
}

static void on_sequenced(struct fh_soup *c, const struct fh_soup_frame *f, const uint8_t *raw,
			 size_t rawlen, uint64_t now, fh_soup_msg_cb cb, void *arg)
{
	if (c->state != FH_SOUP_SNAPSHOT) {
		/* Data before the login was accepted cannot be placed: the stream is not ours. */
		reject(c, FH_SOUP_REJ_UNEXPECTED, raw, rawlen, now);
		if (c->state == FH_SOUP_LOGIN)
			fail(c, FH_SOUP_FAIL_PROTOCOL);
		return;
	}
	if (f->payload_len == 0) {
		reject(c, FH_SOUP_REJ_BAD_SIZE, raw, rawlen, now);
		c->stream_seq++;
		return;
	}
	if (f->payload[0] == FH_SOUP_GLIMPSE_END) {
		uint64_t g;
		if (f->payload_len != FH_SOUP_GLIMPSE_END_LEN) {
			reject(c, FH_SOUP_REJ_BAD_SIZE, raw, rawlen, now);
			fail(c, FH_SOUP_FAIL_PROTOCOL);
			return;
		}
		if (fh_soup_parse_num(f->payload + 1, FH_SOUP_SEQ_LEN, &g) != 0 ||
		    (c->cfg.g_is_last && g == UINT64_MAX)) {
			reject(c, FH_SOUP_REJ_BAD_NUMBER, raw, rawlen, now);
			fail(c, FH_SOUP_FAIL_PROTOCOL);
			return;
		}
		c->stream_seq++;
		c->st.snapshots++;
		c->st.g_seq = g;
		c->next_seq = c->cfg.g_is_last ? g + 1 : g;
		c->st.last_duration_ns = now - c->t_start;
		logout_and_close(c, now);
		c->state = FH_SOUP_DONE;
		return;
	}
	c->stream_seq++;
	c->st.seq_msgs++;
	c->st.seq_bytes += f->payload_len;
	if (cb)
		cb(arg, f->payload, f->payload_len);
}

/* One complete frame. */
static void on_frame(struct fh_soup *c, const struct fh_soup_frame *f, const uint8_t *raw,
		     size_t rawlen, uint64_t now, fh_soup_msg_cb cb, void *arg)
{
	switch (f->type) {
	case FH_SOUP_T_SEQUENCED:
		on_sequenced(c, f, raw, rawlen, now, cb, arg);
		break;
	case FH_SOUP_T_SERVER_HEARTBEAT:
		c->st.server_heartbeats++;
		if (f->payload_len)
			reject(c, FH_SOUP_REJ_BAD_SIZE, raw, rawlen, now);
		break;
	case FH_SOUP_T_LOGIN_ACCEPTED:
		on_login_accepted(c, f, raw, rawlen, now);
		break;
	case FH_SOUP_T_LOGIN_REJECTED:
		on_login_rejected(c, f, raw, rawlen, now);
		break;
	case FH_SOUP_T_END_OF_SESSION:
		c->st.end_of_session++;
		fail(c, FH_SOUP_FAIL_END_OF_SESSION);
		break;
	case FH_SOUP_T_DEBUG:
		c->st.debug_msgs++;
		break;
	case FH_SOUP_T_UNSEQUENCED:
		c->st.unseq_msgs++;
		break;
	default:
		reject(c, FH_SOUP_REJ_UNKNOWN_TYPE, raw, rawlen, now);
		break;
	}
}

/* Parses every complete frame in rx[0..rx_len) (at most *budget); keeps a partial tail. */
static unsigned parse_rx(struct fh_soup *c, uint64_t now, fh_soup_msg_cb cb, void *arg,
			 unsigned *budget)
{
	size_t off = 0;
	unsigned n = 0;

	while (*budget && off < c->rx_len &&
	       (c->state == FH_SOUP_LOGIN || c->state == FH_SOUP_SNAPSHOT)) {
		struct fh_soup_frame f;
		long r = fh_soup_frame_parse(c->rx + off, c->rx_len - off, c->cfg.max_frame, &f);
		if (r == 0)
			break;
		if (r < 0) {
			size_t show = c->rx_len - off < 64 ? c->rx_len - off : 64;
			reject(c, (enum fh_soup_reject)-r, c->rx + off, show, now);
			fail(c, FH_SOUP_FAIL_PROTOCOL);
			n++;
			break;
		}
		on_frame(c, &f, c->rx + off, (size_t)r, now, cb, arg);
		off += (size_t)r;
		n++;
		(*budget)--;
	}
	if (c->state == FH_SOUP_DONE || c->state == FH_SOUP_FAILED) {
		c->rx_len = 0;
	} else if (off) {
		memmove(c->rx, c->rx + off, c->rx_len - off);
		c->rx_len -= off;
	}
	return n;
}

static unsigned receive(struct fh_soup *c, uint64_t now, fh_soup_msg_cb cb, void *arg)
{
	unsigned budget = c->cfg.budget, n = 0;

	/* Frames left over from the last poll's budget come first. */
	n += parse_rx(c, now, cb, arg, &budget);
	while (budget && c->fd >= 0 && c->rx_len < sizeof(c->rx)) {
		ssize_t r = recv(c->fd, c->rx + c->rx_len, sizeof(c->rx) - c->rx_len, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				break;
			fail(c, errno == ECONNRESET ? FH_SOUP_FAIL_CLOSED : FH_SOUP_FAIL_IO);
			return n + 1;
		}
		if (r == 0) {
			fail(c, FH_SOUP_FAIL_CLOSED);
			return n + 1;
		}
		c->st.rx_bytes += (uint64_t)r;
		c->rx_len += (size_t)r;
		c->t_rx = now;
		n += parse_rx(c, now, cb, arg, &budget);
		if (c->state != FH_SOUP_LOGIN && c->state != FH_SOUP_SNAPSHOT)
			break;
	}
	return n;
}

static void timers(struct fh_soup *c, uint64_t now)
{
	if (c->state == FH_SOUP_LOGIN && now - c->t_start > c->cfg.connect_timeout_ns) {
		fail(c, FH_SOUP_FAIL_CONNECT_TIMEOUT);
		return;
	}
	if (c->state == FH_SOUP_SNAPSHOT && now - c->t_rx > c->cfg.timeout_ns) {
		fail(c, FH_SOUP_FAIL_SILENT);
		return;
	}
	/* The spec asks for client heartbeats once logged in. */
	if (c->state == FH_SOUP_SNAPSHOT && !c->tx_len && now - c->t_tx >= c->cfg.heartbeat_ns) {
		if (queue(c, FH_SOUP_T_CLIENT_HEARTBEAT, NULL, 0))
			c->st.client_heartbeats++;
	}
	flush_tx(c, now);
}

unsigned fh_soup_poll(struct fh_soup *c, uint64_t now_ns, fh_soup_msg_cb cb, void *arg)
{
	unsigned n = 0;

	if (c->external)
		return 0;
	if (c->state == FH_SOUP_CONNECTING) {
		if (!c->started) {
			start_connect(c, now_ns);
			n++;
		}
		if (c->state != FH_SOUP_CONNECTING)
			return n;
		n += check_connect(c, now_ns);
		if (c->state != FH_SOUP_LOGIN)
			return n;
	}
	if (c->state != FH_SOUP_LOGIN && c->state != FH_SOUP_SNAPSHOT)
		return n;
	flush_tx(c, now_ns);
	n += receive(c, now_ns, cb, arg);
	if (c->state == FH_SOUP_LOGIN || c->state == FH_SOUP_SNAPSHOT)
		timers(c, now_ns);
	return n;
}

unsigned fh_soup_input(struct fh_soup *c, const uint8_t *data, size_t len, uint64_t now_ns,
		       fh_soup_msg_cb cb, void *arg)
{
	unsigned n = 0;

	if (c->state == FH_SOUP_CONNECTING && !c->started) {
		c->external = true;
		c->started = true;
		c->t_start = c->t_rx = c->t_tx = now_ns;
		c->state = FH_SOUP_LOGIN;
		queue_login(c);
		flush_tx(c, now_ns);
	}
	if (!c->external)
		return 0;
	while (len && (c->state == FH_SOUP_LOGIN || c->state == FH_SOUP_SNAPSHOT)) {
		size_t room = sizeof(c->rx) - c->rx_len;
		size_t k = len < room ? len : room;
		unsigned budget = UINT32_MAX;
		memcpy(c->rx + c->rx_len, data, k);
		c->rx_len += k;
		c->st.rx_bytes += k;
		c->t_rx = now_ns;
		data += k;
		len -= k;
		n += parse_rx(c, now_ns, cb, arg, &budget);
	}
	if (c->state == FH_SOUP_LOGIN || c->state == FH_SOUP_SNAPSHOT)
		timers(c, now_ns);
	return n;
}

void fh_soup_close(struct fh_soup *c)
{
	if (!c)
		return;
	if (c->state == FH_SOUP_DONE || c->state == FH_SOUP_FAILED) {
		close_fd(c);
		return;
	}
	logout_and_close(c, c->t_tx);
	fail(c, FH_SOUP_FAIL_CLOSED);
}

void fh_soup_restart(struct fh_soup *c)
{
	if (c->state != FH_SOUP_DONE && c->state != FH_SOUP_FAILED)
		fh_soup_close(c);
	close_fd(c);
	c->state = FH_SOUP_CONNECTING;
	c->fail = FH_SOUP_FAIL_NONE;
	c->reject_code = 0;
	c->started = false;
	c->external = false;
	c->next_seq = 0;
	c->stream_seq = 0;
	c->rx_len = 0;
	c->tx_len = 0;
	c->st.attempts++;
}

void fh_soup_destroy(struct fh_soup *c)
{
	if (!c)
		return;
	if (c->state == FH_SOUP_LOGIN || c->state == FH_SOUP_SNAPSHOT)
		logout_and_close(c, c->t_tx);
	close_fd(c);
	free(c);
}

int fh_soup_set_server(struct fh_soup *c, const char *host, uint16_t port)
{
	struct in_addr a;

	if ((c->state == FH_SOUP_CONNECTING && c->started) || c->state == FH_SOUP_LOGIN ||
	    c->state == FH_SOUP_SNAPSHOT)
		return -EBUSY;
	if (!host || !port || inet_pton(AF_INET, host, &a) != 1)
		return -EINVAL;
	c->addr.sin_addr = a;
	c->addr.sin_port = htons(port);
	return 0;
}

enum fh_soup_state fh_soup_state(const struct fh_soup *c)
{
	return c->state;
}

enum fh_soup_fail fh_soup_fail(const struct fh_soup *c)
{
	return c->fail;
}

uint64_t fh_soup_next_seq(const struct fh_soup *c)
{
	return c->state == FH_SOUP_DONE ? c->next_seq : 0;
}

uint8_t fh_soup_reject_code(const struct fh_soup *c)
{
	return c->reject_code;
}

void fh_soup_stats(const struct fh_soup *c, struct fh_soup_stats *st)
{
	*st = c->st;
}
