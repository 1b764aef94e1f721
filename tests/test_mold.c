/* SPDX-License-Identifier: MIT */
/* test_mold.c: MoldUDP64 framing checks and sequencing: gaps, duplicates, late, regression, end of session. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "fh_dlq.h"
#include "fh_mold.h"
#include "fh_test.h"

/* A datagram under construction. */
struct pkt {
	uint8_t b[1500];
	size_t len;
};

/* Header + n messages of the given lengths, each filled with a byte naming its sequence. */
static void build(struct pkt *p, const char *session, uint64_t seq, unsigned n, const size_t *lens)
{
	fh_mold_put_hdr(p->b, session, seq, (uint16_t)n);
	p->len = FH_MOLD_HDR_LEN;
	for (unsigned i = 0; i < n; i++) {
		size_t l = lens ? lens[i] : 12;
		fh_put_be16(p->b + p->len, (uint16_t)l);
		memset(p->b + p->len + 2, (int)(seq + i) & 0xff, l);
		p->len += 2 + l;
	}
}

struct dlq_seen {
	int n;
	char reason[8][FH_DLQ_REASON_LEN];
	char session[8][FH_DLQ_SESSION_LEN];
	uint64_t seq[8];
	uint32_t len[8];
	uint8_t bytes[8][64];
};

static int collect(const struct fh_dlq_rec *r, const uint8_t *b, void *arg)
{
	struct dlq_seen *s = arg;
	if (s->n < 8) {
		memcpy(s->reason[s->n], r->reason, FH_DLQ_REASON_LEN);
		memcpy(s->session[s->n], r->session, FH_DLQ_SESSION_LEN);
		s->seq[s->n] = r->seq;
		s->len[s->n] = r->len;
		memcpy(s->bytes[s->n], b, r->len < 64 ? r->len : 64);
	}
	s->n++;
	return 0;
}

static char dlq_path[64];

static void dlq_open(struct fh_dlq *d)
{
	snprintf(dlq_path, sizeof(dlq_path), "/tmp/fh-test-mold-%d.dlq", (int)getpid());
	FH_CHECK_EQ_I(fh_dlq_open(d, dlq_path, 0), 0);
}

static void dlq_read(struct fh_dlq *d, struct dlq_seen *s)
{
	memset(s, 0, sizeof(*s));
	fh_dlq_close(d);
	FH_CHECK(fh_dlq_read(dlq_path, collect, s) >= 0);
	unlink(dlq_path);
}

static void test_in_order_and_gap(void)
{
	struct fh_mold m;
	struct fh_mold_rx rx;
	struct pkt p;

	fh_mold_init(&m, 7, NULL);
	build(&p, "SESS000001", 1, 3, NULL);
	FH_CHECK_EQ_I(fh_mold_rx(&m, 0, p.b, p.len, 100, &rx), 0);
	FH_CHECK_EQ_U(rx.n, 3);
	FH_CHECK_EQ_U(rx.first_seq, 1);
	FH_CHECK_EQ_U(rx.nstatus, 1);
	FH_CHECK_EQ_U(rx.status[0].u.feed.kind, FH_FEED_SEQ_RESET);
	FH_CHECK_EQ_U(rx.status[0].source_id, 7);
	/* the messages are where the blocks say */
	const uint8_t *cur = rx.next;
	for (unsigned i = 0; i < rx.n; i++) {
		size_t l;
		const uint8_t *msg = fh_mold_next_msg(&cur, &l);
		FH_CHECK_EQ_U(l, 12);
		FH_CHECK_EQ_U(msg[0], 1 + i);
	}
	/* 4..9 missing */
	build(&p, "SESS000001", 10, 2, NULL);
	FH_CHECK_EQ_I(fh_mold_rx(&m, 0, p.b, p.len, 200, &rx), 0);
	FH_CHECK_EQ_U(rx.nstatus, 1);
	FH_CHECK_EQ_U(rx.status[0].type, FH_EV_FEED_STATUS);
	FH_CHECK_EQ_U(rx.status[0].u.feed.kind, FH_FEED_GAP);
	FH_CHECK_EQ_U(rx.status[0].u.feed.first_seq, 4);
	FH_CHECK_EQ_U(rx.status[0].u.feed.last_seq, 9);
	FH_CHECK_EQ_U(rx.status[0].recv_ts_ns, 200);
	FH_CHECK(memcmp(rx.status[0].u.feed.session, "SESS000001", 10) == 0);
	FH_CHECK_EQ_U(rx.n, 2);
	FH_CHECK_EQ_U(rx.first_seq, 10);
	FH_CHECK_EQ_U(m.expected, 12);
	FH_CHECK_EQ_U(m.gaps_count, 1);
	FH_CHECK_EQ_U(m.gap_msgs, 6);
	FH_CHECK_EQ_U(m.messages, 5);
}

static void test_heartbeat(void)
{
	struct fh_mold m;
	struct fh_mold_rx rx;
	struct pkt p;

	fh_mold_init(&m, 0, NULL);
	build(&p, "S", 1, 2, NULL);
	FH_CHECK_EQ_I(fh_mold_rx(&m, 0, p.b, p.len, 0, &rx), 0);
	/* a heartbeat carries the next expected sequence: nothing happens */
	build(&p, "S", 3, 0, NULL);
	FH_CHECK_EQ_I(fh_mold_rx(&m, 0, p.b, p.len, 0, &rx), 0);
	FH_CHECK_EQ_U(rx.n, 0);
	FH_CHECK_EQ_U(rx.nstatus, 0);
	FH_CHECK_EQ_U(m.heartbeats, 1);
	/* a heartbeat further on says messages 3..4 were sent and missed */
	build(&p, "S", 5, 0, NULL);
	FH_CHECK_EQ_I(fh_mold_rx(&m, 0, p.b, p.len, 0, &rx), 0);
	FH_CHECK_EQ_U(rx.nstatus, 1);
	FH_CHECK_EQ_U(rx.status[0].u.feed.kind, FH_FEED_GAP);
	FH_CHECK_EQ_U(rx.status[0].u.feed.first_seq, 3);
	FH_CHECK_EQ_U(rx.status[0].u.feed.last_seq, 4);
	FH_CHECK_EQ_U(m.expected, 5);
}

static void test_ab_duplicates(void)
{
	struct fh_mold m;
	struct fh_mold_rx rx;
	struct pkt p;

	fh_mold_init(&m, 0, NULL);
	build(&p, "AB", 1, 3, NULL);
	FH_CHECK_EQ_I(fh_mold_rx(&m, 0, p.b, p.len, 0, &rx), 0);
	FH_CHECK_EQ_U(rx.n, 3);
	/* the B line's copy: nothing delivered, counted */
	FH_CHECK_EQ_I(fh_mold_rx(&m, 1, p.b, p.len, 0, &rx), 0);
	FH_CHECK_EQ_U(rx.n, 0);
	FH_CHECK_EQ_U(m.dup_packets, 1);
	FH_CHECK_EQ_U(m.dup_msgs, 3);
	/* B is ahead now: 4..6 from B, then A's 4..5 (dup) and a straddling 6..8 */
	build(&p, "AB", 4, 3, NULL);
	FH_CHECK_EQ_I(fh_mold_rx(&m, 1, p.b, p.len, 0, &rx), 0);
	FH_CHECK_EQ_U(rx.n, 3);
	build(&p, "AB", 4, 2, NULL);
	FH_CHECK_EQ_I(fh_mold_rx(&m, 0, p.b, p.len, 0, &rx), 0);
	FH_CHECK_EQ_U(rx.n, 0);
	build(&p, "AB", 6, 3, NULL);
	FH_CHECK_EQ_I(fh_mold_rx(&m, 0, p.b, p.len, 0, &rx), 0);
	FH_CHECK_EQ_U(rx.n, 2);
	FH_CHECK_EQ_U(rx.first_seq, 7);
	size_t l;
	const uint8_t *cur = rx.next;
	FH_CHECK_EQ_U(fh_mold_next_msg(&cur, &l)[0], 7);
	FH_CHECK_EQ_U(m.dup_msgs, 3 + 2 + 1);
	FH_CHECK_EQ_U(m.dup_packets, 2);
	FH_CHECK_EQ_U(m.expected, 9);
	FH_CHECK_EQ_U(m.messages, 8);
	FH_CHECK_EQ_U(m.rejects[FH_ITCH_REJ_SEQ_REGRESSION], 0);
}

static void test_late_after_gap(void)
{
	struct fh_mold m;
	struct fh_mold_rx rx;
	struct pkt p;

	fh_mold_init(&m, 0, NULL);
	build(&p, "L", 1, 1, NULL);
	FH_CHECK_EQ_I(fh_mold_rx(&m, 0, p.b, p.len, 0, &rx), 0);
	build(&p, "L", 4, 1, NULL); /* 2..3 lost on A */
	FH_CHECK_EQ_I(fh_mold_rx(&m, 0, p.b, p.len, 0, &rx), 0);
	FH_CHECK_EQ_U(m.gaps_count, 1);
	/* B's copy of 2..4 arrives after the gap was reported: not delivered out of order */
	build(&p, "L", 2, 3, NULL);
	FH_CHECK_EQ_I(fh_mold_rx(&m, 1, p.b, p.len, 0, &rx), 0);
	FH_CHECK_EQ_U(rx.n, 0);
	FH_CHECK_EQ_U(m.late_msgs, 2);
	FH_CHECK_EQ_U(m.dup_msgs, 1);
}

static void test_reject_seq_regression(void)
{
	struct fh_mold m;
	struct fh_mold_rx rx;
	struct fh_dlq d;
	struct dlq_seen s;
	struct pkt p;

	dlq_open(&d);
	fh_mold_init(&m, 3, &d);
	build(&p, "REGRESS001", 100, 2, NULL);
	FH_CHECK_EQ_I(fh_mold_rx(&m, 0, p.b, p.len, 0, &rx), 0);
	build(&p, "REGRESS001", 102, 2, NULL);
	FH_CHECK_EQ_I(fh_mold_rx(&m, 0, p.b, p.len, 0, &rx), 0);
	/* line A goes back to 101: a regression, not a B-line duplicate */
	build(&p, "REGRESS001", 101, 1, NULL);
	FH_CHECK_EQ_I(fh_mold_rx(&m, 0, p.b, p.len, 55, &rx), -FH_ITCH_REJ_SEQ_REGRESSION);
	FH_CHECK_EQ_U(m.rejects[FH_ITCH_REJ_SEQ_REGRESSION], 1);
	FH_CHECK_EQ_U(m.dup_msgs, 0);
	FH_CHECK_EQ_U(m.expected, 104);
	/* the same packet on line B is an ordinary duplicate */
	FH_CHECK_EQ_I(fh_mold_rx(&m, 1, p.b, p.len, 0, &rx), 0);
	FH_CHECK_EQ_U(m.dup_msgs, 1);
	dlq_read(&d, &s);
	FH_CHECK_EQ_I(s.n, 1);
	FH_CHECK_STR(s.reason[0], "seq_regression");
	FH_CHECK(memcmp(s.session[0], "REGRESS001", 10) == 0);
	FH_CHECK_EQ_U(s.seq[0], 101);
	FH_CHECK_EQ_U(s.len[0], p.len);
	FH_CHECK(memcmp(s.bytes[0], p.b, 20) == 0);
}

static void test_reject_short_packet(void)
{
	struct fh_mold m;
	struct fh_mold_rx rx;
	struct fh_dlq d;
	struct dlq_seen s;
	struct pkt p;

	dlq_open(&d);
	fh_mold_init(&m, 0, &d);
	build(&p, "SHORT", 1, 0, NULL);
	FH_CHECK_EQ_I(fh_mold_rx(&m, 0, p.b, 19, 0, &rx), -FH_ITCH_REJ_SHORT_PACKET);
	FH_CHECK_EQ_I(fh_mold_rx(&m, 0, p.b, 0, 0, &rx), -FH_ITCH_REJ_SHORT_PACKET);
	FH_CHECK_EQ_U(m.rejects[FH_ITCH_REJ_SHORT_PACKET], 2);
	FH_CHECK_EQ_U(m.packets, 0);
	FH_CHECK(!m.started);
	dlq_read(&d, &s);
	FH_CHECK_EQ_I(s.n, 2);
	FH_CHECK_STR(s.reason[0], "short_packet");
	FH_CHECK_EQ_U(s.len[0], 19);
	FH_CHECK_EQ_U(s.len[1], 0);
}

static void test_reject_overrun(void)
{
	struct fh_mold m;
	struct fh_mold_rx rx;
	struct fh_dlq d;
	struct dlq_seen s;
	struct pkt p;
	const size_t lens[3] = { 12, 36, 19 };

	dlq_open(&d);
	fh_mold_init(&m, 0, &d);
	build(&p, "OVER", 1, 1, NULL);
	FH_CHECK_EQ_I(fh_mold_rx(&m, 0, p.b, p.len, 0, &rx), 0);
	/* the last block claims more bytes than the datagram holds */
	build(&p, "OVER", 2, 3, lens);
	fh_put_be16(p.b + 20 + 14 + 38, 40);
	FH_CHECK_EQ_I(fh_mold_rx(&m, 0, p.b, p.len, 9, &rx), -FH_ITCH_REJ_OVERRUN);
	/* a datagram cut inside a block */
	build(&p, "OVER", 2, 3, lens);
	FH_CHECK_EQ_I(fh_mold_rx(&m, 0, p.b, p.len - 5, 9, &rx), -FH_ITCH_REJ_OVERRUN);
	/* count larger than the blocks present: the length prefix itself is missing */
	build(&p, "OVER", 2, 3, lens);
	fh_put_be16(p.b + 18, 4);
	FH_CHECK_EQ_I(fh_mold_rx(&m, 0, p.b, p.len, 9, &rx), -FH_ITCH_REJ_OVERRUN);
	FH_CHECK_EQ_U(m.rejects[FH_ITCH_REJ_OVERRUN], 3);
	/* rejected whole: nothing delivered and the sequence did not move */
	FH_CHECK_EQ_U(m.expected, 2);
	FH_CHECK_EQ_U(m.messages, 1);
	/* the good copy still fills it, without a gap */
	build(&p, "OVER", 2, 3, lens);
	FH_CHECK_EQ_I(fh_mold_rx(&m, 1, p.b, p.len, 0, &rx), 0);
	FH_CHECK_EQ_U(rx.n, 3);
	FH_CHECK_EQ_U(rx.nstatus, 0);
	dlq_read(&d, &s);
	FH_CHECK_EQ_I(s.n, 3);
	FH_CHECK_STR(s.reason[0], "overrun");
	FH_CHECK_STR(s.reason[2], "overrun");
	FH_CHECK_EQ_U(s.seq[0], 2);
	FH_CHECK(memcmp(s.session[0], "OVER      ", 10) == 0);
	FH_CHECK_EQ_U(s.len[1], p.len - 5);
}

static void test_reject_bad_block_len(void)
{
	struct fh_mold m;
	struct fh_mold_rx rx;
	struct fh_dlq d;
	struct dlq_seen s;
	struct pkt p;

	dlq_open(&d);
	fh_mold_init(&m, 0, &d);
	/* a zero-length block */
	build(&p, "BLK", 5, 2, NULL);
	fh_put_be16(p.b + 20, 0);
	FH_CHECK_EQ_I(fh_mold_rx(&m, 0, p.b, p.len, 0, &rx), -FH_ITCH_REJ_BAD_BLOCK_LEN);
	/* bytes after the last block */
	build(&p, "BLK", 5, 2, NULL);
	p.b[p.len++] = 0xaa;
	FH_CHECK_EQ_I(fh_mold_rx(&m, 0, p.b, p.len, 0, &rx), -FH_ITCH_REJ_BAD_BLOCK_LEN);
	/* a heartbeat with a body */
	build(&p, "BLK", 5, 0, NULL);
	p.b[p.len++] = 0;
	FH_CHECK_EQ_I(fh_mold_rx(&m, 0, p.b, p.len, 0, &rx), -FH_ITCH_REJ_BAD_BLOCK_LEN);
	FH_CHECK_EQ_U(m.rejects[FH_ITCH_REJ_BAD_BLOCK_LEN], 3);
	FH_CHECK_EQ_U(m.packets, 0);
	dlq_read(&d, &s);
	FH_CHECK_EQ_I(s.n, 3);
	FH_CHECK_STR(s.reason[0], "bad_block_len");
	FH_CHECK_EQ_U(s.seq[0], 5);
	FH_CHECK_EQ_U(s.bytes[1][s.len[1] - 1], 0xaa);
}

static void test_reject_bad_seq(void)
{
	struct fh_mold m;
	struct fh_mold_rx rx;
	struct pkt p;

	fh_mold_init(&m, 0, NULL);
	build(&p, "OVF", UINT64_MAX - 1, 2, NULL);
	FH_CHECK_EQ_I(fh_mold_rx(&m, 0, p.b, p.len, 0, &rx), -FH_ITCH_REJ_BAD_SEQ);
	FH_CHECK_EQ_U(m.rejects[FH_ITCH_REJ_BAD_SEQ], 1);
}

static void test_end_of_session_and_new_session(void)
{
	struct fh_mold m;
	struct fh_mold_rx rx;
	struct pkt p;

	fh_mold_init(&m, 0, NULL);
	build(&p, "DAY1", 1, 2, NULL);
	FH_CHECK_EQ_I(fh_mold_rx(&m, 0, p.b, p.len, 0, &rx), 0);
	fh_mold_put_hdr(p.b, "DAY1", 3, FH_MOLD_END_OF_SESSION);
	FH_CHECK_EQ_I(fh_mold_rx(&m, 0, p.b, FH_MOLD_HDR_LEN, 0, &rx), 0);
	FH_CHECK_EQ_U(rx.nstatus, 1);
	FH_CHECK_EQ_U(rx.status[0].u.feed.kind, FH_FEED_END_OF_SESSION);
	FH_CHECK_EQ_U(rx.status[0].u.feed.first_seq, 3);
	FH_CHECK_EQ_U(rx.n, 0);
	/* B's copy: no second event */
	FH_CHECK_EQ_I(fh_mold_rx(&m, 1, p.b, FH_MOLD_HDR_LEN, 0, &rx), 0);
	FH_CHECK_EQ_U(rx.nstatus, 0);
	FH_CHECK_EQ_U(m.end_of_session, 1);
	/* a new session restarts numbering without a gap or a regression */
	build(&p, "DAY2", 1, 1, NULL);
	FH_CHECK_EQ_I(fh_mold_rx(&m, 0, p.b, p.len, 0, &rx), 0);
	FH_CHECK_EQ_U(rx.n, 1);
	FH_CHECK_EQ_U(rx.nstatus, 1);
	FH_CHECK_EQ_U(rx.status[0].u.feed.kind, FH_FEED_SEQ_RESET);
	FH_CHECK(memcmp(rx.status[0].u.feed.session, "DAY2      ", 10) == 0);
	FH_CHECK_EQ_U(m.sessions, 2);
	FH_CHECK(!m.ended);
}

static void test_unsequenced_zero(void)
{
	struct fh_mold m;
	struct fh_mold_rx rx;
	struct pkt p;

	fh_mold_init(&m, 0, NULL);
	build(&p, "", 0, 2, NULL);
	for (int i = 0; i < 3; i++) {
		FH_CHECK_EQ_I(fh_mold_rx(&m, 0, p.b, p.len, 0, &rx), 0);
		FH_CHECK_EQ_U(rx.n, 2);
		FH_CHECK_EQ_U(rx.first_seq, 0);
	}
	FH_CHECK_EQ_U(m.unsequenced, 3);
	FH_CHECK(!m.started);
}

static void test_check_blocks_exhaustive_cuts(void)
{
	struct pkt p;
	const size_t lens[4] = { 1, 50, 2, 7 };

	build(&p, "X", 1, 4, lens);
	FH_CHECK_EQ_I(fh_mold_check_blocks(p.b + 20, p.len - 20, 4), 0);
	/* every shorter cut is refused, never read past */
	for (size_t cut = 20; cut < p.len; cut++)
		FH_CHECK(fh_mold_check_blocks(p.b + 20, cut - 20, 4) < 0);
	FH_CHECK_EQ_I(fh_mold_check_blocks(p.b + 20, 0, FH_MOLD_END_OF_SESSION), 0);
}

static const struct fh_test_case cases[] = {
	FH_CASE(test_in_order_and_gap),
	FH_CASE(test_heartbeat),
	FH_CASE(test_ab_duplicates),
	FH_CASE(test_late_after_gap),
	FH_CASE(test_reject_seq_regression),
	FH_CASE(test_reject_short_packet),
	FH_CASE(test_reject_overrun),
	FH_CASE(test_reject_bad_block_len),
	FH_CASE(test_reject_bad_seq),
	FH_CASE(test_end_of_session_and_new_session),
	FH_CASE(test_unsequenced_zero),
	FH_CASE(test_check_blocks_exhaustive_cuts),
	{ 0 },
};

int main(int argc, char **argv)
{
	return fh_test_main(argc, argv, cases);
}
