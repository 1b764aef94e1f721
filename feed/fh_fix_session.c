/* SPDX-License-Identifier: MIT */
/* fh_fix_session.c: FIX initiator: connect, logon, sequence recovery, heartbeats, subscriptions. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fh_common.h"
#include "fh_fix_session.h"

#define SEQ_MAGIC "FHFIXSQ1"
#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull

struct seq_rec {
	char magic[8];
	uint64_t next_out; /* our next MsgSeqNum */
	uint64_t next_in;  /* the peer's MsgSeqNum we expect next */
};

struct fh_fix_session {
	struct fh_fix_session_cfg cfg;
	fh_fix_session_events_cb on_events;
	fh_fix_session_log_cb on_log;
	void *arg;
	struct fh_fix_decoder *dec;
	struct fh_event *ev;
	unsigned ev_cap;
	struct fh_fix_session_stats st;
	enum fh_fix_session_state state;
	int fd;
	struct seq_rec *seq; /* mmap'd seq_file, or &seq_mem */
	struct seq_rec seq_mem;
	uint8_t *rx;
	size_t rx_len;
	char *tx; /* unsent tail of a partial write */
	size_t tx_len;
	uint64_t now;
	uint64_t state_since;
	uint64_t next_connect;
	uint64_t backoff_ms;
	uint64_t last_sent, last_recv;
	bool test_req_pending;
	uint64_t test_req_sent;
	uint64_t test_req_n;
	bool resend_pending;
	uint64_t resend_from, resend_to, resend_sent;
	uint64_t md_req_n;
	uint64_t *snap_req_at; /* per instrument: last snapshot request (ns) */
	bool stopping;
};

#define RX_MIN 65536
#define TX_CAP 65536

static void ss_log(struct fh_fix_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ss_log(struct fh_fix_session *s, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!s->on_log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	s->on_log(s->arg, line);
}

static void ss_feed_event(struct fh_fix_session *s, uint8_t kind, uint32_t instr, uint64_t first,
			  uint64_t last)
{
	struct fh_event ev;

	fh_event_init(&ev, FH_EV_FEED_STATUS);
	ev.source_id = s->cfg.decoder.source_id;
	ev.instrument = instr;
	ev.seq = s->seq->next_in;
	ev.recv_ts_ns = s->now;
	ev.u.feed.kind = kind;
	memcpy(ev.u.feed.session, s->cfg.target,
	       strnlen(s->cfg.target, sizeof(ev.u.feed.session)));
	ev.u.feed.first_seq = first;
	ev.u.feed.last_seq = last;
	if (s->on_events)
		s->on_events(s->arg, &ev, 1);
}

/* ---- sequence numbers, persisted ---- */

static int ss_seq_open(struct fh_fix_session *s)
{
	s->seq = &s->seq_mem;
	if (s->cfg.seq_file[0]) {
		int fd = open(s->cfg.seq_file, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
		if (ftruncate(fd, sizeof(struct seq_rec)) < 0) {
			int e = -errno;
			close(fd);
			return e;
		}
		void *m = mmap(NULL, sizeof(struct seq_rec), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);
		if (m == MAP_FAILED)
			return -errno;
		s->seq = m;
	}
	if (memcmp(s->seq->magic, SEQ_MAGIC, 8) || !s->seq->next_out || !s->seq->next_in) {
		memcpy(s->seq->magic, SEQ_MAGIC, 8);
		s->seq->next_out = 1;
		s->seq->next_in = 1;
	}
	return 0;
}

static void ss_seq_close(struct fh_fix_session *s)
{
	if (s->seq && s->seq != &s->seq_mem) {
		msync(s->seq, sizeof(*s->seq), MS_SYNC);
		munmap(s->seq, sizeof(*s->seq));
	}
	s->seq = NULL;
}

/* ---- sending ---- */

static int ss_write(struct fh_fix_session *s, const char *buf, size_t len)
{
	if (s->tx_len == 0) {
		ssize_t n = send(s->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -errno;
			n = 0;
		}
		buf += n;
		len -= (size_t)n;
	}
	if (len) {
		if (s->tx_len + len > TX_CAP)
			return -ENOBUFS;
		memcpy(s->tx + s->tx_len, buf, len);
		s->tx_len += len;
	}
	return 0;
}

static void ss_disconnect(struct fh_fix_session *s, const char *why);

static void ss_utc(char *out, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, len, "%04d%02d%02d-%02d:%02d:%02d.%03ld", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

/*
 * Sends one message: header (49, 56, 34, 52 [, 43, 122]) then body (SOH
 * separated, may be empty). seq 0 takes the next number (persisted before
 * the write); a SequenceReset-GapFill passes its own.
 */
static int ss_send_seq(struct fh_fix_session *s, const char *type, uint64_t seq, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int ss_send_seq(struct fh_fix_session *s, const char *type, uint64_t seq, const char *fmt, ...)
{
	char body[2048], out[2200], now[96];
	va_list ap;
	int n, m;
	bool own = seq == 0;

	if (own)
		seq = s->seq->next_out;
	ss_utc(now, sizeof(now));
	n = snprintf(body, sizeof(body), "49=%s\00156=%s\00134=%llu\00152=%s\001%s", s->cfg.sender,
		     s->cfg.target, (unsigned long long)seq, now,
		     own ? "" : "43=Y\001");
	if (!own)
		n += snprintf(body + n, sizeof(body) - (size_t)n, "122=%s\001", now);
	va_start(ap, fmt);
	m = vsnprintf(body + n, sizeof(body) - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)(n + m) >= sizeof(body))
		return -ENOSPC;
	long len = fh_fix_build(out, sizeof(out), s->cfg.begin_string, type, body, (size_t)(n + m));
	if (len < 0)
		return (int)len;
	if (own)
		s->seq->next_out++; /* before the write: a number is never reused */
	int r = ss_write(s, out, (size_t)len);
	if (r < 0) {
		ss_disconnect(s, "write failed");
		return r;
	}
	s->last_sent = s->now;
	s->st.msgs_out++;
	return 0;
}

#define ss_send(s, type, ...) ss_send_seq(s, type, 0, __VA_ARGS__)

static void ss_logon(struct fh_fix_session *s)
{
	const char *appl = strcmp(s->cfg.begin_string, "FIXT.1.1") ? "" : "1137=9\001";
	if (s->cfg.reset_on_logon) {
		s->seq->next_out = 1;
		s->seq->next_in = 1;
	}
	ss_send(s, "A", "98=0\001108=%u\001%s%s", s->cfg.heartbeat_s,
		s->cfg.reset_on_logon ? "141=Y\001" : "", appl);
	ss_log(s, "logon sent seq=%llu expecting=%llu", (unsigned long long)s->seq->next_out - 1,
	       (unsigned long long)s->seq->next_in);
}

static void ss_subscribe(struct fh_fix_session *s, const char *sym, bool snapshot_only)
{
	s->md_req_n++;
	if (snapshot_only)
		ss_send(s, "V", "262=%s-%llu\001263=0\001264=%u\001267=2\001269=0\001269=1\001146=1\00155=%s\001",
			sym, (unsigned long long)s->md_req_n, s->cfg.depth, sym);
	else
		ss_send(s, "V", "262=%s-%llu\001263=1\001264=%u\001265=1\001267=3\001269=0\001269=1\001"
			"269=2\001146=1\00155=%s\001", sym, (unsigned long long)s->md_req_n,
			s->cfg.depth, sym);
}

static void ss_request_snapshot(struct fh_fix_session *s, uint32_t instr)
{
	const struct fh_fix_instr *in = fh_fix_instrument(s->dec, instr);
	char sym[FH_FIX_SYMBOL_MAX + 1];

	if (!in || s->state != FH_FIX_SS_ACTIVE)
		return;
	/* one request outstanding per instrument: its snapshot covers every loss
	 * before the peer handled it; a later loss shows as a new RptSeq gap
	 * after the snapshot. Asked again if no snapshot came within 2 heartbeats. */
	if (s->snap_req_at[instr] && s->now - s->snap_req_at[instr] < 2ull * s->cfg.heartbeat_s * NS_PER_S)
		return;
	s->snap_req_at[instr] = s->now;
	memcpy(sym, in->sym, in->sym_len);
	sym[in->sym_len] = 0;
	s->st.snapshot_requests++;
	ss_log(s, "snapshot request %s (RptSeq gap or rejected update)", sym);
	ss_subscribe(s, sym, true);
}

/* ---- connection ---- */

static void ss_disconnect(struct fh_fix_session *s, const char *why)
{
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
	bool was_up = s->state == FH_FIX_SS_ACTIVE || s->state == FH_FIX_SS_LOGOUT_SENT;
	if (s->state != FH_FIX_SS_DISCONNECTED && s->state != FH_FIX_SS_STOPPED) {
		s->st.disconnects++;
		ss_log(s, "disconnect: %s (reconnect in %llu ms)", why,
		       (unsigned long long)(s->stopping ? 0 : s->backoff_ms));
	}
	s->rx_len = 0;
	s->tx_len = 0;
	s->test_req_pending = false;
	s->resend_pending = false;
	s->state = s->stopping ? FH_FIX_SS_STOPPED : FH_FIX_SS_DISCONNECTED;
	s->state_since = s->now;
	s->next_connect = s->now + s->backoff_ms * NS_PER_MS;
	s->backoff_ms *= 2;
	if (s->backoff_ms > s->cfg.reconnect_max_ms)
		s->backoff_ms = s->cfg.reconnect_max_ms;
	/* updates may be lost while down: no book is trusted until its snapshot */
	if (was_up)
		ss_feed_event(s, FH_FEED_STALE, FH_INSTRUMENT_NONE, 0, 0);
	memset(s->snap_req_at, 0, s->dec->cfg.max_instruments * sizeof(*s->snap_req_at));
}

static int ss_connect(struct fh_fix_session *s)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai = NULL;
	char port[8];
	int one = 1;

	s->st.connects++;
	snprintf(port, sizeof(port), "%u", s->cfg.port);
	if (getaddrinfo(s->cfg.host, port, &hints, &ai) || !ai)
		goto fail;
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		goto fail_ai;
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(s->fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)
		goto fail_sock;
	freeaddrinfo(ai);
	s->state = FH_FIX_SS_CONNECTING;
	s->state_since = s->now;
	return 1;
fail_sock:
	close(s->fd);
	s->fd = -1;
fail_ai:
	freeaddrinfo(ai);
fail:
	s->st.connect_failures++;
	s->state = FH_FIX_SS_CONNECTING; /* so that disconnect schedules the retry */
	ss_disconnect(s, "connect failed");
	return 1;
}

static int ss_connecting(struct fh_fix_session *s)
{
	struct pollfd p = { .fd = s->fd, .events = POLLOUT };
	int err = 0;
	socklen_t el = sizeof(err);

	if (poll(&p, 1, 0) <= 0) {
		if (s->now - s->state_since > s->cfg.logon_timeout_ms * NS_PER_MS) {
			s->st.connect_failures++;
			ss_disconnect(s, "connect timeout");
			return 1;
		}
		return 0;
	}
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
		s->st.connect_failures++;
		ss_disconnect(s, err ? strerror(err) : "connect failed");
		return 1;
	}
	s->state = FH_FIX_SS_LOGON_SENT;
	s->state_since = s->now;
	s->last_recv = s->now;
	ss_logon(s);
	return 1;
}

/* ---- inbound ---- */

static void ss_resend_check(struct fh_fix_session *s)
{
	if (s->resend_pending && s->seq->next_in > s->resend_to) {
		s->resend_pending = false;
		ss_log(s, "gap %llu..%llu recovered", (unsigned long long)s->resend_from,
		       (unsigned long long)s->resend_to);
		ss_feed_event(s, FH_FEED_RECOVERED, FH_INSTRUMENT_NONE, s->resend_from, s->resend_to);
	}
}

static void ss_gap(struct fh_fix_session *s, uint64_t got)
{
	if (got - 1 > s->resend_to || !s->resend_pending)
		s->resend_to = got - 1;
	if (s->resend_pending)
		return;
	s->resend_pending = true;
	s->resend_from = s->seq->next_in;
	s->resend_sent = s->now;
	s->st.gaps++;
	s->st.resend_requests_out++;
	ss_log(s, "gap: expected %llu got %llu: ResendRequest", (unsigned long long)s->seq->next_in,
	       (unsigned long long)got);
	ss_feed_event(s, FH_FEED_GAP, FH_INSTRUMENT_NONE, s->seq->next_in, got - 1);
	ss_send(s, "2", "7=%llu\00116=0\001", (unsigned long long)s->seq->next_in);
}

static bool ss_garbled(int reason)
{
	return reason == FH_FIX_REJ_BAD_CHECKSUM || reason == FH_FIX_REJ_BAD_BODY_LENGTH ||
	       reason == FH_FIX_REJ_GARBLED || reason == FH_FIX_REJ_TRUNCATED ||
	       reason == FH_FIX_REJ_BAD_BEGIN_STRING;
}

/* FIX SessionRejectReason (373) closest to a decoder reason. */
static unsigned ss_373(int reason)
{
	switch (reason) {
	case FH_FIX_REJ_MISSING_TAG: return 1;
	case FH_FIX_REJ_UNSUPPORTED_TYPE: return 11;
	case FH_FIX_REJ_BAD_GROUP: return 16;
	case FH_FIX_REJ_BAD_VALUE: return 5;
	case FH_FIX_REJ_BAD_PRICE: case FH_FIX_REJ_BAD_QTY: case FH_FIX_REJ_TOO_MANY_DECIMALS: return 6;
	default: return 99;
	}
}

static void ss_dispatch(struct fh_fix_session *s, int n)
{
	for (int i = 0; i < n; i++) {
		const struct fh_event *e = &s->ev[i];
		if (e->type == FH_EV_L2_UPDATE && (e->u.l2.flags & FH_L2_F_SNAPSHOT) &&
		    e->u.l2.action == FH_L2_CLEAR && e->instrument < s->dec->cfg.max_instruments)
			s->snap_req_at[e->instrument] = 0; /* the snapshot asked for is here */
		else if (e->type == FH_EV_FEED_STATUS && e->u.feed.kind == FH_FEED_STALE &&
			 e->instrument != FH_INSTRUMENT_NONE)
			ss_request_snapshot(s, e->instrument);
	}
	if (n > 0 && s->on_events)
		s->on_events(s->arg, s->ev, (unsigned)n);
}

static void ss_message(struct fh_fix_session *s, const uint8_t *buf, size_t len)
{
	struct fh_fix_msg m, full;
	uint64_t *next_in = &s->seq->next_in;
	int n;

	s->st.msgs_in++;
	s->last_recv = s->now;
	s->test_req_pending = false;
	if (fh_fix_peek(buf, len, &m) < 0) {
		s->st.garbled_in++;
		fh_fix_reject_bytes(s->dec, FH_FIX_REJ_GARBLED, buf, len, s->now);
		return;
	}
	char t = m.type[1] ? 0 : m.type[0];

	if (s->state == FH_FIX_SS_LOGON_SENT && t != 'A' && t != '5') {
		ss_disconnect(s, "first message is not a Logon");
		return;
	}
	if (t == 'A' || t == '5' || (t == '4' && !m.gap_fill)) {
		n = fh_fix_decode(s->dec, buf, len, s->now, &full, s->ev, s->ev_cap);
		if (n < 0) {
			s->st.garbled_in++;
			if (t == 'A') {
				ss_disconnect(s, "bad Logon");
				return;
			}
			if (ss_garbled(-n))
				return;
		}
		if (t == '5') {
			s->st.logouts_in++;
			ss_log(s, "logout received: %.*s", (int)full.text.len, full.text.p ? full.text.p : "");
			if (m.seq_num == *next_in)
				(*next_in)++;
			if (s->state != FH_FIX_SS_LOGOUT_SENT && s->fd >= 0) {
				s->st.logouts_out++;
				ss_send(s, "5", "%s", "");
			}
			ss_disconnect(s, "logout");
			return;
		}
		if (t == '4') {
			s->st.seq_resets_in++;
			ss_log(s, "SequenceReset-Reset to %llu", (unsigned long long)full.new_seq_no);
			if (full.new_seq_no > *next_in)
				*next_in = full.new_seq_no;
			ss_resend_check(s);
			return;
		}
		/* Logon accepted */
		s->state = FH_FIX_SS_ACTIVE;
		s->state_since = s->now;
		s->backoff_ms = s->cfg.reconnect_min_ms;
		s->st.logons++;
		if (full.reset_seq && m.seq_num == 1)
			*next_in = 1;
		ss_log(s, "logon accepted seq=%llu hb=%u", (unsigned long long)m.seq_num,
		       full.heart_bt_int);
		if (m.seq_num > *next_in) {
			ss_gap(s, m.seq_num);
		} else if (m.seq_num < *next_in) {
			s->st.logouts_out++;
			ss_send(s, "5", "58=MsgSeqNum too low, expecting %llu but received %llu\001",
				(unsigned long long)*next_in, (unsigned long long)m.seq_num);
			s->state = FH_FIX_SS_LOGOUT_SENT;
			return;
		} else {
			(*next_in)++;
		}
		for (unsigned i = 0; i < s->cfg.n_symbols; i++) {
			char sym[FH_FIX_SYMBOL_MAX + 1] = { 0 };
			memcpy(sym, s->cfg.symbols[i], strnlen(s->cfg.symbols[i], FH_FIX_SYMBOL_MAX));
			ss_subscribe(s, sym, false);
		}
		return;
	}

	if (m.seq_num > *next_in) {
		ss_gap(s, m.seq_num);
		return;
	}
	if (m.seq_num < *next_in) {
		if (m.poss_dup) {
			s->st.poss_dup_ignored++;
			return;
		}
		s->st.logouts_out++;
		ss_log(s, "MsgSeqNum too low: expected %llu got %llu", (unsigned long long)*next_in,
		       (unsigned long long)m.seq_num);
		ss_send(s, "5", "58=MsgSeqNum too low, expecting %llu but received %llu\001",
			(unsigned long long)*next_in, (unsigned long long)m.seq_num);
		s->state = FH_FIX_SS_LOGOUT_SENT;
		s->state_since = s->now;
		return;
	}
	if (m.poss_dup)
		s->st.poss_dup_in++;
	n = fh_fix_decode(s->dec, buf, len, s->now, &full, s->ev, s->ev_cap);
	if (n < 0) {
		if (ss_garbled(-n)) {
			/* ignored, not consumed: the next message shows the gap */
			s->st.garbled_in++;
			return;
		}
		s->st.rejects_out++;
		ss_log(s, "reject seq=%llu type=%s: %s tag %u", (unsigned long long)m.seq_num, m.type,
		       fh_fix_reject_name((unsigned)-n), full.reject_tag);
		char reftag[24] = "";
		if (full.reject_tag)
			snprintf(reftag, sizeof(reftag), "371=%u\001", full.reject_tag);
		ss_send(s, "3", "45=%llu\001372=%s\001%s373=%u\00158=%s\001",
			(unsigned long long)m.seq_num, m.type, reftag, ss_373(-n),
			fh_fix_reject_name((unsigned)-n));
		(*next_in)++;
		if (t == 'W' || t == 'X') {
			/* an update we could not apply: no book is trusted until its snapshot */
			ss_feed_event(s, FH_FEED_STALE, FH_INSTRUMENT_NONE, m.seq_num, m.seq_num);
			for (uint32_t i = 0; i < s->dec->n_instr; i++)
				ss_request_snapshot(s, i);
		}
		ss_resend_check(s);
		return;
	}
	(*next_in)++;
	switch (t) {
	case '4': /* GapFill */
		s->st.gap_fills_in++;
		if (full.new_seq_no > *next_in)
			*next_in = full.new_seq_no;
		break;
	case '1':
		s->st.test_requests_in++;
		ss_send(s, "0", "112=%.*s\001", (int)full.test_req_id.len, full.test_req_id.p);
		break;
	case '2':
		/* we keep no outbound store: fill the whole range */
		s->st.resend_requests_in++;
		ss_log(s, "ResendRequest %llu..%llu from peer: GapFill to %llu",
		       (unsigned long long)full.begin_seq_no, (unsigned long long)full.end_seq_no,
		       (unsigned long long)s->seq->next_out);
		if (full.begin_seq_no && full.begin_seq_no < s->seq->next_out)
			ss_send_seq(s, "4", full.begin_seq_no, "123=Y\00136=%llu\001",
				    (unsigned long long)s->seq->next_out);
		break;
	case '3':
		s->st.rejects_in++;
		ss_log(s, "reject from peer for our %llu: %.*s", (unsigned long long)full.ref_seq_num,
		       (int)full.text.len, full.text.p ? full.text.p : "");
		break;
	default:
		break;
	}
	ss_dispatch(s, n);
	ss_resend_check(s);
}

static int ss_read(struct fh_fix_session *s)
{
	size_t cap = s->cfg.rx_buf;
	int work = 0;

	if (s->tx_len) {
		ssize_t w = send(s->fd, s->tx, s->tx_len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			memmove(s->tx, s->tx + w, s->tx_len - (size_t)w);
			s->tx_len -= (size_t)w;
			work++;
		} else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			ss_disconnect(s, "write failed");
			return 1;
		}
	}
	if (s->rx_len == cap) {
		ss_disconnect(s, "message larger than the receive buffer");
		return 1;
	}
	ssize_t r = recv(s->fd, s->rx + s->rx_len, cap - s->rx_len, MSG_DONTWAIT);
	if (r == 0) {
		ss_disconnect(s, "closed by peer");
		return 1;
	}
	if (r < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return work;
		ss_disconnect(s, strerror(errno));
		return 1;
	}
	s->rx_len += (size_t)r;
	s->st.bytes_in += (uint64_t)r;
	size_t off = 0, skip;
	while (off < s->rx_len && s->fd >= 0) {
		long n = fh_fix_frame(s->rx + off, s->rx_len - off, s->dec->cfg.max_msg_len, &skip);
		if (n > 0) {
			ss_message(s, s->rx + off + skip, (size_t)n);
			off += skip + (size_t)n;
			work++;
		} else if (n == 0) {
			off += skip;
			break;
		} else {
			s->st.garbled_in++;
			fh_fix_reject_bytes(s->dec, (int)-n, s->rx + off, skip, s->now);
			off += skip;
		}
	}
	if (s->fd < 0)
		return work + 1;
	memmove(s->rx, s->rx + off, s->rx_len - off);
	s->rx_len -= off;
	return work + 1;
}

static int ss_timers(struct fh_fix_session *s)
{
	uint64_t hb = (uint64_t)s->cfg.heartbeat_s * NS_PER_S;

	switch (s->state) {
	case FH_FIX_SS_LOGON_SENT:
		if (s->now - s->state_since > s->cfg.logon_timeout_ms * NS_PER_MS) {
			ss_disconnect(s, "no Logon answer");
			return 1;
		}
		return 0;
	case FH_FIX_SS_LOGOUT_SENT:
		if (s->now - s->state_since > 2 * NS_PER_S) {
			ss_disconnect(s, "no Logout answer");
			return 1;
		}
		return 0;
	case FH_FIX_SS_ACTIVE:
		break;
	default:
		return 0;
	}
	if (s->now - s->last_sent >= hb) {
		s->st.heartbeats_out++;
		ss_send(s, "0", "%s", "");
		return 1;
	}
	if (s->test_req_pending) {
		if (s->now - s->test_req_sent >= hb) {
			ss_disconnect(s, "no answer to TestRequest");
			return 1;
		}
	} else if (s->now - s->last_recv >= hb + hb / 5) {
		s->test_req_pending = true;
		s->test_req_sent = s->now;
		s->st.test_requests_out++;
		ss_log(s, "peer silent for %llu ms: TestRequest",
		       (unsigned long long)((s->now - s->last_recv) / NS_PER_MS));
		ss_send(s, "1", "112=TEST%llu\001", (unsigned long long)++s->test_req_n);
		return 1;
	}
	if (s->resend_pending && s->now - s->resend_sent >= 2 * hb) {
		/* the answer never came: ask again */
		s->resend_sent = s->now;
		s->st.resend_requests_out++;
		ss_log(s, "ResendRequest from %llu again", (unsigned long long)s->seq->next_in);
		ss_send(s, "2", "7=%llu\00116=0\001", (unsigned long long)s->seq->next_in);
		return 1;
	}
	return 0;
}

int fh_fix_session_do_work(struct fh_fix_session *s, uint64_t now_ns)
{
	int work = 0;

	s->now = now_ns;
	switch (s->state) {
	case FH_FIX_SS_STOPPED:
		return 0;
	case FH_FIX_SS_DISCONNECTED:
		if (s->stopping) {
			s->state = FH_FIX_SS_STOPPED;
			return 1;
		}
		if (now_ns < s->next_connect)
			return 0;
		return ss_connect(s);
	case FH_FIX_SS_CONNECTING:
		return ss_connecting(s);
	default:
		work += ss_read(s);
		if (s->fd >= 0)
			work += ss_timers(s);
		return work;
	}
}

int fh_fix_session_stop(struct fh_fix_session *s, uint64_t now_ns)
{
	s->now = now_ns;
	s->stopping = true;
	if (s->state == FH_FIX_SS_ACTIVE) {
		s->st.logouts_out++;
		ss_send(s, "5", "%s", "");
		s->state = FH_FIX_SS_LOGOUT_SENT;
		s->state_since = now_ns;
	} else if (s->state != FH_FIX_SS_LOGOUT_SENT) {
		ss_disconnect(s, "stopped");
		s->state = FH_FIX_SS_STOPPED;
	}
	return 0;
}

struct fh_fix_session *fh_fix_session_create(const struct fh_fix_session_cfg *cfg,
					     fh_fix_session_events_cb on_events,
					     fh_fix_session_log_cb on_log, void *arg)
{
	struct fh_fix_session *s = calloc(1, sizeof(*s));
	int e = ENOMEM;

	if (!s)
		return NULL;
	s->cfg = *cfg;
	s->fd = -1;
	s->on_events = on_events;
	s->on_log = on_log;
	s->arg = arg;
	if (!s->cfg.heartbeat_s)
		s->cfg.heartbeat_s = 30;
	if (!s->cfg.begin_string[0])
		snprintf(s->cfg.begin_string, sizeof(s->cfg.begin_string), "FIX.4.4");
	if (!s->cfg.reconnect_min_ms)
		s->cfg.reconnect_min_ms = 100;
	if (!s->cfg.reconnect_max_ms)
		s->cfg.reconnect_max_ms = 5000;
	if (!s->cfg.logon_timeout_ms)
		s->cfg.logon_timeout_ms = 5000;
	if (s->cfg.rx_buf < RX_MIN)
		s->cfg.rx_buf = s->cfg.rx_buf ? RX_MIN : 1u << 20;
	s->cfg.decoder.require_header = true;
	if (!s->cfg.sender[0] || !s->cfg.target[0] || !s->cfg.port ||
	    s->cfg.n_symbols > FH_FIX_SESSION_MAX_SYMBOLS) {
		e = EINVAL;
		goto out_free;
	}
	s->backoff_ms = s->cfg.reconnect_min_ms;
	s->dec = fh_fix_create(&s->cfg.decoder);
	if (!s->dec) {
		e = EINVAL;
		goto out_free;
	}
	if (s->cfg.decoder.max_msg_len > s->cfg.rx_buf) {
		e = EINVAL;
		goto out_dec;
	}
	s->ev_cap = fh_fix_max_events(s->dec);
	s->ev = calloc(s->ev_cap, sizeof(*s->ev));
	s->rx = malloc(s->cfg.rx_buf);
	s->tx = malloc(TX_CAP);
	s->snap_req_at = calloc(s->dec->cfg.max_instruments, sizeof(*s->snap_req_at));
	if (!s->ev || !s->rx || !s->tx || !s->snap_req_at)
		goto out_bufs;
	int r = ss_seq_open(s);
	if (r < 0) {
		e = -r;
		goto out_bufs;
	}
	for (unsigned i = 0; i < s->cfg.n_symbols; i++)
		if (fh_fix_symtab_add(s->dec, s->cfg.symbols[i], strnlen(s->cfg.symbols[i], FH_FIX_SYMBOL_MAX),
				      s->cfg.decoder.qty_decimals) < 0) {
			e = EINVAL;
			goto out_seq;
		}
	return s;
out_seq:
	ss_seq_close(s);
out_bufs:
	free(s->ev);
	free(s->rx);
	free(s->tx);
	free(s->snap_req_at);
out_dec:
	fh_fix_destroy(s->dec);
out_free:
	free(s);
	errno = e;
	return NULL;
}

void fh_fix_session_destroy(struct fh_fix_session *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	ss_seq_close(s);
	free(s->ev);
	free(s->rx);
	free(s->tx);
	free(s->snap_req_at);
	fh_fix_destroy(s->dec);
	free(s);
}

enum fh_fix_session_state fh_fix_session_state(const struct fh_fix_session *s)
{
	return s->state;
}

const struct fh_fix_session_stats *fh_fix_session_stats(const struct fh_fix_session *s)
{
	return &s->st;
}

struct fh_fix_decoder *fh_fix_session_decoder(struct fh_fix_session *s)
{
	return s->dec;
}

void fh_fix_session_seqs(const struct fh_fix_session *s, uint64_t *next_out, uint64_t *next_in)
{
	*next_out = s->seq->next_out;
	*next_in = s->seq->next_in;
}
