/* SPDX-License-Identifier: MIT */
/* test_fix_session.c: FIX session against a scripted peer on 127.0.0.1, and the FIX L2 book. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fh_common.h"
#include "fh_fix.h"
#include "fh_fix_session.h"
#include "fh_l2book.h"
#include "fh_test.h"
#include "fh_time.h"

/* ---- L2 book ---- */

static struct fh_event l2(uint32_t instr, uint8_t action, uint8_t side, int64_t px, uint64_t qty,
			  uint16_t level, uint8_t flags)
{
	struct fh_event e;
	fh_event_init(&e, FH_EV_L2_UPDATE);
	e.instrument = instr;
	e.u.l2.action = action;
	e.u.l2.side = side;
	e.u.l2.price = px;
	e.u.l2.qty = qty;
	e.u.l2.level = level;
	e.u.l2.flags = flags;
	return e;
}

/* docs/BOOK.md, written out byte by byte */
static uint64_t ref_checksum(const int64_t *bpx, const uint64_t *bq, int nb, const int64_t *apx,
			     const uint64_t *aq, int na, int depth)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (int s = 0; s < 2; s++) {
		int n = s ? na : nb;
		for (int i = 0; i < n && i < depth; i++) {
			uint8_t b[23];
			int64_t px = s ? apx[i] : bpx[i];
			uint64_t q = s ? aq[i] : bq[i];
			b[0] = s ? 'S' : 'B';
			b[1] = (uint8_t)(i + 1);
			b[2] = 0;
			for (int k = 0; k < 8; k++) {
				b[3 + k] = (uint8_t)((uint64_t)px >> (8 * k));
				b[11 + k] = (uint8_t)(q >> (8 * k));
			}
			memset(b + 19, 0, 4);
			for (int k = 0; k < 23; k++) {
				h ^= b[k];
				h *= 0x100000001b3ull;
			}
		}
	}
	return h;
}

static void test_l2book(void)
{
	struct fh_l2book_cfg cfg = { .max_instruments = 4, .max_levels = 3, .depth = 2 };
	struct fh_l2book *b = fh_l2book_create(&cfg);
	struct fh_event out[FH_L2BOOK_MAX_OUT], e;
	struct fh_l2_level lv[8];

	FH_CHECK(b != NULL);
	FH_CHECK_EQ_U(fh_l2book_checksum(b, 1, 10), FH_L2BOOK_FNV_OFFSET);
	e = l2(1, FH_L2_CLEAR, 0, FH_PRICE_NONE, 0, 0, FH_L2_F_SNAPSHOT);
	fh_l2book_apply(b, &e, out);
	e = l2(1, FH_L2_NEW, 'B', 100, 5, 1, FH_L2_F_SNAPSHOT);
	fh_l2book_apply(b, &e, out);
	e = l2(1, FH_L2_NEW, 'B', 101, 6, 0, 0);
	fh_l2book_apply(b, &e, out);
	e = l2(1, FH_L2_NEW, 'S', 103, 7, 0, FH_L2_F_LAST);
	FH_CHECK_EQ_I(fh_l2book_apply(b, &e, out), 1);
	FH_CHECK_EQ_U(out[0].type, FH_EV_BBO);
	FH_CHECK_EQ_I(out[0].u.bbo.bid_px, 101);
	FH_CHECK_EQ_I(out[0].u.bbo.ask_px, 103);
	FH_CHECK_EQ_U(out[0].u.bbo.bid_qty, 6);
	/* the same top again: no BBO */
	e = l2(1, FH_L2_CHANGE, 'B', 100, 9, 0, FH_L2_F_LAST);
	FH_CHECK_EQ_I(fh_l2book_apply(b, &e, out), 0);
	FH_CHECK_EQ_U(fh_l2book_levels(b, 1, 'B', lv, 8), 2);
	FH_CHECK_EQ_I(lv[0].price, 101);
	FH_CHECK_EQ_U(lv[1].qty, 9);
	{
		int64_t bp[] = { 101, 100 }, ap[] = { 103 };
		uint64_t bq[] = { 6, 9 }, aq[] = { 7 };
		FH_CHECK_EQ_U(fh_l2book_checksum(b, 1, 2), ref_checksum(bp, bq, 2, ap, aq, 1, 2));
		FH_CHECK_EQ_U(fh_l2book_checksum(b, 1, 1), ref_checksum(bp, bq, 2, ap, aq, 1, 1));
	}
	/* full side: a better price pushes the worst out */
	e = l2(1, FH_L2_NEW, 'B', 99, 1, 0, 0);
	fh_l2book_apply(b, &e, out);
	e = l2(1, FH_L2_NEW, 'B', 102, 2, 0, 0);
	fh_l2book_apply(b, &e, out);
	FH_CHECK_EQ_U(b->overflow, 1);
	FH_CHECK_EQ_U(fh_l2book_levels(b, 1, 'B', lv, 8), 3);
	FH_CHECK_EQ_I(lv[0].price, 102);
	FH_CHECK_EQ_I(lv[2].price, 100);
	/* delete by level, delete missing, change missing */
	e = l2(1, FH_L2_DELETE, 'B', FH_PRICE_NONE, 0, 2, 0);
	fh_l2book_apply(b, &e, out);
	FH_CHECK_EQ_U(fh_l2book_levels(b, 1, 'B', lv, 8), 2);
	FH_CHECK_EQ_I(lv[1].price, 100);
	e = l2(1, FH_L2_DELETE, 'S', 150, 0, 0, 0);
	fh_l2book_apply(b, &e, out);
	FH_CHECK_EQ_U(b->delete_missing, 1);
	e = l2(1, FH_L2_CHANGE, 'S', 104, 3, 0, 0);
	fh_l2book_apply(b, &e, out);
	FH_CHECK_EQ_U(b->change_missing, 1);
	/* crossed: a bid above the best ask */
	e = l2(1, FH_L2_NEW, 'B', 105, 1, 0, FH_L2_F_LAST);
	fh_l2book_apply(b, &e, out);
	FH_CHECK(fh_l2book_is_crossed(b, 1));
	FH_CHECK_EQ_U(b->crossed, 1);
	e = l2(1, FH_L2_DELETE, 'B', 105, 0, 0, FH_L2_F_LAST);
	fh_l2book_apply(b, &e, out);
	FH_CHECK(!fh_l2book_is_crossed(b, 1));
	/* stale: RptSeq STALE for one book, session STALE for all; snapshot clears */
	struct fh_event st;
	fh_event_init(&st, FH_EV_FEED_STATUS);
	st.u.feed.kind = FH_FEED_STALE;
	st.instrument = 1;
	fh_l2book_apply(b, &st, out);
	FH_CHECK(fh_l2book_is_stale(b, 1));
	FH_CHECK(!fh_l2book_is_stale(b, 2));
	st.instrument = FH_INSTRUMENT_NONE;
	fh_l2book_apply(b, &st, out);
	FH_CHECK(fh_l2book_is_stale(b, 2));
	st.u.feed.kind = FH_FEED_GAP; /* a session gap alone is repaired by resend */
	st.instrument = 3;
	e = l2(1, FH_L2_CLEAR, 0, FH_PRICE_NONE, 0, 0, FH_L2_F_SNAPSHOT | FH_L2_F_LAST);
	fh_l2book_apply(b, &e, out);
	FH_CHECK(!fh_l2book_is_stale(b, 1));
	FH_CHECK(fh_l2book_is_stale(b, 2));
	FH_CHECK_EQ_U(fh_l2book_checksum(b, 1, 10), FH_L2BOOK_FNV_OFFSET);
	fh_l2book_snapshot(b, 2, NULL, &e);
	FH_CHECK_EQ_U(e.type, FH_EV_BOOK_SNAPSHOT);
	FH_CHECK(e.u.snap.flags & FH_BOOK_F_STALE);
	e = l2(9, FH_L2_NEW, 'B', 1, 1, 0, 0);
	fh_l2book_apply(b, &e, out);
	FH_CHECK_EQ_U(b->bad_instrument, 1);
	fh_l2book_destroy(b);
}

/* ---- session against a scripted peer ---- */

struct seen {
	unsigned events, stale_all, gaps, recovered, l2;
	char log[4096];
};

static void on_events(void *arg, const struct fh_event *ev, unsigned n)
{
	struct seen *s = arg;
	for (unsigned i = 0; i < n; i++) {
		s->events++;
		if (ev[i].type == FH_EV_L2_UPDATE)
			s->l2++;
		if (ev[i].type == FH_EV_FEED_STATUS) {
			if (ev[i].u.feed.kind == FH_FEED_STALE && ev[i].instrument == FH_INSTRUMENT_NONE)
				s->stale_all++;
			if (ev[i].u.feed.kind == FH_FEED_GAP)
				s->gaps++;
			if (ev[i].u.feed.kind == FH_FEED_RECOVERED)
				s->recovered++;
		}
	}
}

static void on_log(void *arg, const char *line)
{
	struct seen *s = arg;
	size_t l = strlen(s->log);
	snprintf(s->log + l, sizeof(s->log) - l, "%s\n", line);
}

struct peer {
	int lfd, fd;
	uint16_t port;
	uint64_t seq; /* next MsgSeqNum the peer sends */
	uint8_t buf[65536];
	size_t len;
};

static int peer_listen(struct peer *p)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	p->seq = 1;
	p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (p->lfd < 0 || bind(p->lfd, (struct sockaddr *)&a, sizeof(a)) || listen(p->lfd, 4) ||
	    getsockname(p->lfd, (struct sockaddr *)&a, &al))
		return -1;
	p->port = ntohs(a.sin_port);
	return 0;
}

static void peer_close(struct peer *p)
{
	if (p->fd >= 0)
		close(p->fd);
	if (p->lfd >= 0)
		close(p->lfd);
}

static uint64_t now_ns(void)
{
	return fh_clock_ns(CLOCK_MONOTONIC);
}

/* Runs the session for ms milliseconds, accepting the connection meanwhile. */
static void pump(struct fh_fix_session *s, struct peer *p, unsigned ms)
{
	uint64_t end = now_ns() + (uint64_t)ms * 1000000ull;
	while (now_ns() < end) {
		if (!fh_fix_session_do_work(s, now_ns())) {
			struct timespec ts = { 0, 200000 };
			nanosleep(&ts, NULL);
		}
		if (p->fd < 0) {
			int fd = accept(p->lfd, NULL, NULL);
			if (fd >= 0) {
				p->fd = fd;
				p->len = 0;
			}
		}
	}
}

/* Runs the session until cond holds (checked every 2 ms), at most 3 s: a
 * loaded machine may need more than any fixed window. */
#define PUMP_UNTIL(s, p, cond)                                                \
	do {                                                                  \
		uint64_t _end = now_ns() + 3000000000ull;                     \
		while (!(cond) && now_ns() < _end)                            \
			pump((s), (p), 2);                                    \
	} while (0)

/* Appends what the session sent to the peer's buffer. */
static void peer_read(struct peer *p)
{
	if (p->fd < 0)
		return;
	for (;;) {
		ssize_t n = recv(p->fd, p->buf + p->len, sizeof(p->buf) - p->len, MSG_DONTWAIT);
		if (n <= 0)
			break;
		p->len += (size_t)n;
	}
}

/* Finds the next message of type t in the peer's buffer (consuming all
 * before it); copies its text with | for SOH into out. */
static bool peer_expect(struct peer *p, const char *t, char *out, size_t cap)
{
	size_t off = 0, skip;
	peer_read(p);
	while (off < p->len) {
		long n = fh_fix_frame(p->buf + off, p->len - off, 0, &skip);
		if (n <= 0)
			break;
		struct fh_fix_msg m;
		const uint8_t *msg = p->buf + off + skip;
		off += skip + (size_t)n;
		if (fh_fix_peek(msg, (size_t)n, &m) == 0 && !strcmp(m.type, t)) {
			size_t l = (size_t)n < cap - 1 ? (size_t)n : cap - 1;
			for (size_t i = 0; i < l; i++)
				out[i] = msg[i] == FH_FIX_SOH ? '|' : (char)msg[i];
			out[l] = 0;
			memmove(p->buf, p->buf + off, p->len - off);
			p->len -= off;
			return true;
		}
	}
	memmove(p->buf, p->buf + off, p->len - off);
	p->len -= off;
	return false;
}

/* Sends "body" (| for SOH) as type with the peer's header; seq 0 = next. */
static void peer_send_raw(struct peer *p, const char *type, uint64_t seq, const char *body, bool corrupt)
{
	char b[2048], m[2200];
	int n = snprintf(b, sizeof(b), "49=PEER|56=FH|34=%llu|52=20240101-00:00:00.000|%s",
			 (unsigned long long)(seq ? seq : p->seq), body);
	for (int i = 0; i < n; i++)
		if (b[i] == '|')
			b[i] = FH_FIX_SOH;
	long l = fh_fix_build(m, sizeof(m), "FIX.4.4", type, b, (size_t)n);
	if (!seq)
		p->seq++;
	if (corrupt)
		m[l - 3] = m[l - 3] == '9' ? '0' : (char)(m[l - 3] + 1); /* CheckSum off by one */
	if (p->fd >= 0 && send(p->fd, m, (size_t)l, MSG_NOSIGNAL) != l)
		fprintf(stderr, "peer send failed\n");
}

/* Waits (running the session) for a message of type t from it. */
static bool pump_expect(struct fh_fix_session *s, struct peer *p, const char *t, char *out, size_t cap)
{
	bool found = false;
	PUMP_UNTIL(s, p, (found = peer_expect(p, t, out, cap)));
	return found;
}

static void peer_send(struct peer *p, const char *type, const char *body)
{
	peer_send_raw(p, type, 0, body, false);
}

static struct fh_fix_session *mk_session(struct peer *p, struct seen *sn, const char *seq_file)
{
	struct fh_fix_session_cfg cfg = { .port = p->port, .heartbeat_s = 1, .n_symbols = 2,
					  .reconnect_min_ms = 20, .reconnect_max_ms = 100,
					  .logon_timeout_ms = 1000,
					  .decoder = { .auto_add = true } };
	snprintf(cfg.host, sizeof(cfg.host), "127.0.0.1");
	snprintf(cfg.sender, sizeof(cfg.sender), "FH");
	snprintf(cfg.target, sizeof(cfg.target), "PEER");
	snprintf(cfg.symbols[0], 16, "AAA");
	snprintf(cfg.symbols[1], 16, "BBB");
	if (seq_file)
		snprintf(cfg.seq_file, sizeof(cfg.seq_file), "%s", seq_file);
	return fh_fix_session_create(&cfg, on_events, on_log, sn);
}

/* Session logged on, both subscriptions read. */
static struct fh_fix_session *logged_on(struct peer *p, struct seen *sn, const char *seq_file)
{
	char m[2048];
	struct fh_fix_session *s;

	if (peer_listen(p))
		return NULL;
	s = mk_session(p, sn, seq_file);
	if (!s)
		return NULL;
	FH_CHECK(pump_expect(s, p, "A", m, sizeof(m)));
	FH_CHECK(strstr(m, "|108=1|") && strstr(m, "|98=0|"));
	peer_send(p, "A", "98=0|108=1|");
	FH_CHECK(pump_expect(s, p, "V", m, sizeof(m)) && strstr(m, "|263=1|") && strstr(m, "|55=AAA|"));
	FH_CHECK_EQ_U(fh_fix_session_state(s), FH_FIX_SS_ACTIVE);
	FH_CHECK(pump_expect(s, p, "V", m, sizeof(m)) && strstr(m, "|55=BBB|"));
	return s;
}

static void test_logon_snapshot_incremental(void)
{
	struct peer p;
	struct seen sn = { 0 };
	struct fh_fix_session *s = logged_on(&p, &sn, NULL);
	uint64_t o, i;

	FH_CHECK(s != NULL);
	if (!s)
		return;
	peer_send(&p, "W", "55=AAA|83=5|268=2|269=0|270=10.5|271=3|269=1|270=11|271=4|");
	peer_send(&p, "X", "268=1|279=1|269=0|55=AAA|270=10.5|271=8|83=6|");
	PUMP_UNTIL(s, &p, sn.l2 == 4);
	FH_CHECK_EQ_U(sn.l2, 4);
	fh_fix_session_seqs(s, &o, &i);
	FH_CHECK_EQ_U(i, 4);
	FH_CHECK_EQ_U(o, 4); /* logon + 2 subscriptions */
	FH_CHECK_EQ_U(fh_fix_session_stats(s)->garbled_in, 0);
	/* a graceful stop: Logout, answered */
	char m[1024];
	fh_fix_session_stop(s, now_ns());
	FH_CHECK(pump_expect(s, &p, "5", m, sizeof(m)));
	peer_send(&p, "5", "");
	PUMP_UNTIL(s, &p, fh_fix_session_state(s) == FH_FIX_SS_STOPPED);
	FH_CHECK_EQ_U(fh_fix_session_state(s), FH_FIX_SS_STOPPED);
	fh_fix_session_destroy(s);
	peer_close(&p);
}

static void test_garbled_then_resend(void)
{
	struct peer p;
	struct seen sn = { 0 };
	struct fh_fix_session *s = logged_on(&p, &sn, NULL);
	char m[2048];

	FH_CHECK(s != NULL);
	if (!s)
		return;
	/* seq 2 arrives with a bad CheckSum: dropped; 3 shows the gap */
	peer_send_raw(&p, "X", 2, "268=1|279=0|269=0|55=AAA|270=1|271=1|", true);
	peer_send_raw(&p, "X", 3, "268=1|279=0|269=0|55=AAA|270=2|271=1|", false);
	FH_CHECK(pump_expect(s, &p, "2", m, sizeof(m)) && strstr(m, "|7=2|16=0|"));
	FH_CHECK_EQ_U(fh_fix_session_stats(s)->garbled_in, 1);
	FH_CHECK_EQ_U(sn.gaps, 1);
	FH_CHECK_EQ_U(sn.l2, 0);
	/* the resend: both again with PossDupFlag */
	peer_send_raw(&p, "X", 2, "43=Y|268=1|279=0|269=0|55=AAA|270=1|271=1|", false);
	peer_send_raw(&p, "X", 3, "43=Y|268=1|279=0|269=0|55=AAA|270=2|271=1|", false);
	/* and a duplicate below the window: ignored */
	peer_send_raw(&p, "X", 2, "43=Y|268=1|279=0|269=0|55=AAA|270=1|271=1|", false);
	PUMP_UNTIL(s, &p, sn.l2 == 2 && fh_fix_session_stats(s)->poss_dup_ignored == 1);
	FH_CHECK_EQ_U(sn.l2, 2);
	FH_CHECK_EQ_U(sn.recovered, 1);
	FH_CHECK_EQ_U(fh_fix_session_stats(s)->poss_dup_in, 2);
	FH_CHECK_EQ_U(fh_fix_session_stats(s)->poss_dup_ignored, 1);
	/* a GapFill over 4..6 */
	peer_send_raw(&p, "4", 4, "43=Y|123=Y|36=7|", false);
	p.seq = 7;
	peer_send(&p, "0", "");
	uint64_t o, i;
	PUMP_UNTIL(s, &p, (fh_fix_session_seqs(s, &o, &i), i == 8));
	FH_CHECK_EQ_U(i, 8);
	FH_CHECK_EQ_U(fh_fix_session_stats(s)->gap_fills_in, 1);
	fh_fix_session_destroy(s);
	peer_close(&p);
}

static void test_reject_and_admin(void)
{
	struct peer p;
	struct seen sn = { 0 };
	struct fh_fix_session *s = logged_on(&p, &sn, NULL);
	char m[2048];

	FH_CHECK(s != NULL);
	if (!s)
		return;
	/* well formed, but a price fixed point cannot hold: Reject, books stale, snapshots asked */
	peer_send(&p, "X", "268=1|279=0|269=0|55=AAA|270=1.000000001|271=1|");
	FH_CHECK(pump_expect(s, &p, "3", m, sizeof(m)) && strstr(m, "|45=2|") &&
		 strstr(m, "|371=270|") && strstr(m, "58=too_many_decimals"));
	FH_CHECK_EQ_U(sn.stale_all, 1);
	FH_CHECK(pump_expect(s, &p, "V", m, sizeof(m)) && strstr(m, "|263=0|"));
	/* TestRequest answered with its id */
	peer_send(&p, "1", "112=hello|");
	FH_CHECK(pump_expect(s, &p, "0", m, sizeof(m)) && strstr(m, "|112=hello|"));
	/* ResendRequest from the peer: we keep no store, so GapFill to our next */
	peer_send(&p, "2", "7=2|16=0|");
	PUMP_UNTIL(s, &p, fh_fix_session_stats(s)->resend_requests_in == 1);
	uint64_t o, i;
	fh_fix_session_seqs(s, &o, &i);
	char want[64];
	snprintf(want, sizeof(want), "|123=Y|36=%llu|", (unsigned long long)o);
	FH_CHECK(pump_expect(s, &p, "4", m, sizeof(m)) && strstr(m, "|34=2|") && strstr(m, "|43=Y|") &&
		 strstr(m, want));
	/* a number too low without PossDup: Logout */
	peer_send_raw(&p, "0", 2, "", false);
	FH_CHECK(pump_expect(s, &p, "5", m, sizeof(m)) && strstr(m, "MsgSeqNum too low"));
	fh_fix_session_destroy(s);
	peer_close(&p);
}

static void test_silent_peer_reconnect(void)
{
	struct peer p;
	struct seen sn = { 0 };
	struct fh_fix_session *s = logged_on(&p, &sn, NULL);
	char m[2048];

	FH_CHECK(s != NULL);
	if (!s)
		return;
	/* the peer says nothing: TestRequest after 1.2 heartbeats, disconnect one later */
	FH_CHECK(pump_expect(s, &p, "1", m, sizeof(m)) && strstr(m, "|112=TEST1|"));
	PUMP_UNTIL(s, &p, fh_fix_session_stats(s)->disconnects == 1);
	FH_CHECK_EQ_U(fh_fix_session_stats(s)->disconnects, 1);
	FH_CHECK(strstr(sn.log, "no answer to TestRequest") != NULL);
	FH_CHECK_EQ_U(sn.stale_all, 1);
	/* it comes back on its own (back-off), with the next sequence number */
	close(p.fd);
	p.fd = -1;
	FH_CHECK(pump_expect(s, &p, "A", m, sizeof(m)));
	FH_CHECK(p.fd >= 0);
	FH_CHECK(strstr(m, "|34=1|") == NULL);
	FH_CHECK(fh_fix_session_stats(s)->connects >= 2);
	fh_fix_session_destroy(s);
	peer_close(&p);
}

static void test_seq_persisted(void)
{
	struct peer p;
	struct seen sn = { 0 };
	char path[64], m[2048];
	uint64_t o1, i1;

	snprintf(path, sizeof(path), "/tmp/fh-test-fix-seq-%d", (int)getpid());
	unlink(path);
	struct fh_fix_session *s = logged_on(&p, &sn, path);
	FH_CHECK(s != NULL);
	if (!s)
		return;
	peer_send(&p, "0", "");
	PUMP_UNTIL(s, &p, (fh_fix_session_seqs(s, &o1, &i1), i1 == 3));
	FH_CHECK_EQ_U(i1, 3);
	fh_fix_session_destroy(s); /* a crash, no Logout */
	close(p.fd);
	p.fd = -1;
	s = mk_session(&p, &sn, path);
	FH_CHECK(s != NULL);
	if (s) {
		char want[32];
		snprintf(want, sizeof(want), "|34=%llu|", (unsigned long long)o1);
		FH_CHECK(pump_expect(s, &p, "A", m, sizeof(m)) && strstr(m, want));
		uint64_t o2, i2;
		fh_fix_session_seqs(s, &o2, &i2);
		FH_CHECK_EQ_U(i2, i1);
		fh_fix_session_destroy(s);
	}
	unlink(path);
	peer_close(&p);
}

static void test_bad_config(void)
{
	struct fh_fix_session_cfg cfg = { 0 };
	errno = 0;
	FH_CHECK(fh_fix_session_create(&cfg, NULL, NULL, NULL) == NULL);
	FH_CHECK_EQ_I(errno, EINVAL);
}

static const struct fh_test_case cases[] = {
	FH_CASE(test_l2book),
	FH_CASE(test_logon_snapshot_incremental),
	FH_CASE(test_garbled_then_resend),
	FH_CASE(test_reject_and_admin),
	FH_CASE(test_silent_peer_reconnect),
	FH_CASE(test_seq_persisted),
	FH_CASE(test_bad_config),
	{ 0 },
};

int main(int argc, char **argv)
{
	return fh_test_main(argc, argv, cases);
}
