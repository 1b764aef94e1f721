/* SPDX-License-Identifier: MIT */
/* test_seqbuf.c: MoldUDP64 hold buffer in front of fh_mold: A/B reordering without false gaps, real gaps on expiry, bounds. */
#include <errno.h>

#include "fh_mold.h"
#include "fh_seqbuf.h"
#include "fh_test.h"

#define MS 1000000ull
#define PER 3 /* messages per packet */

static const char SESS[11] = "SEQBUF0001";

struct pkt {
	uint8_t b[64];
	uint32_t len;
};

/* Packet k (1-based) carries messages (k-1)*PER+1 .. k*PER. */
static struct pkt mk(unsigned k)
{
	struct pkt p;
	fh_mold_put_hdr(p.b, SESS, (uint64_t)(k - 1) * PER + 1, PER);
	p.len = FH_MOLD_HDR_LEN;
	for (unsigned i = 0; i < PER; i++) {
		p.b[p.len] = 0, p.b[p.len + 1] = 2;
		p.b[p.len + 2] = 'x', p.b[p.len + 3] = (uint8_t)k;
		p.len += 4;
	}
	return p;
}

struct sink {
	struct fh_mold m;
	uint64_t next_seq; /* the next message expected by the consumer */
	uint64_t delivered;
	uint64_t out_of_order;
};

static void feed(struct sink *s, unsigned line, const uint8_t *p, uint32_t len)
{
	struct fh_mold_rx rx;
	if (fh_mold_rx(&s->m, line, p, len, 0, &rx) < 0 || !rx.n)
		return;
	if (s->next_seq && rx.first_seq < s->next_seq)
		s->out_of_order++;
	s->next_seq = rx.first_seq + rx.n;
	s->delivered += rx.n;
}

/* The owner loop of fh_seqbuf.h. */
static void arrive(struct sink *s, struct fh_seqbuf *sb, unsigned line, unsigned k, uint64_t now)
{
	struct pkt p = mk(k);
	const uint8_t *q;
	unsigned l;
	uint32_t len;
	enum fh_seqbuf_verdict r = fh_seqbuf_offer(sb, &s->m, line, p.b, p.len, now);
	while (r == FH_SEQBUF_FULL) {
		q = fh_seqbuf_next(sb, &s->m, now, &l, &len);
		FH_CHECK(q != NULL);
		if (!q)
			return;
		feed(s, l, q, len);
		fh_seqbuf_pop(sb);
		r = fh_seqbuf_offer(sb, &s->m, line, p.b, p.len, now);
	}
	if (r == FH_SEQBUF_DELIVER)
		feed(s, line, p.b, p.len);
	while ((q = fh_seqbuf_next(sb, &s->m, now, &l, &len))) {
		feed(s, l, q, len);
		fh_seqbuf_pop(sb);
	}
}

static void idle(struct sink *s, struct fh_seqbuf *sb, uint64_t now)
{
	const uint8_t *q;
	unsigned l;
	uint32_t len;
	while ((q = fh_seqbuf_next(sb, &s->m, now, &l, &len))) {
		feed(s, l, q, len);
		fh_seqbuf_pop(sb);
	}
}

/* Line A loses packet 5 and its queue is read ahead of line B's (A6, A7
 * before B5): straight into fh_mold a false gap; through the hold buffer none. */
static const struct { unsigned line, k; } g_reorder[] = {
	{ 0, 1 }, { 1, 1 }, { 0, 2 }, { 1, 2 }, { 0, 3 }, { 1, 3 }, { 0, 4 }, { 1, 4 },
	{ 0, 6 }, { 0, 7 }, { 1, 5 }, { 1, 6 }, { 1, 7 }, { 0, 8 }, { 1, 8 },
};

static void test_ab_reorder(void)
{
	struct sink raw = { 0 }, s = { 0 };
	struct fh_seqbuf sb;

	fh_mold_init(&raw.m, 0, NULL);
	for (unsigned i = 0; i < FH_ARRAY_SIZE(g_reorder); i++) {
		struct pkt p = mk(g_reorder[i].k);
		feed(&raw, g_reorder[i].line, p.b, p.len);
	}
	FH_CHECK_EQ_U(raw.m.gaps_count, 1); /* the false gap, without the buffer */
	FH_CHECK_EQ_U(raw.delivered, 8 * PER - PER);

	fh_mold_init(&s.m, 0, NULL);
	FH_CHECK_EQ_I(fh_seqbuf_init(&sb, NULL), 0);
	for (unsigned i = 0; i < FH_ARRAY_SIZE(g_reorder); i++)
		arrive(&s, &sb, g_reorder[i].line, g_reorder[i].k, i * 1000);
	FH_CHECK_EQ_U(s.m.gaps_count, 0);
	FH_CHECK_EQ_U(s.delivered, 8 * PER);
	FH_CHECK_EQ_U(s.out_of_order, 0);
	FH_CHECK_EQ_U(sb.st.held, 2);
	FH_CHECK_EQ_U(sb.st.released, 2);
	FH_CHECK_EQ_U(sb.st.expired, 0);
	FH_CHECK_EQ_U(sb.n, 0);
	fh_seqbuf_free(&sb);
}

/* Packet 5 lost on both lines: held copies wait hold_ns, then fh_mold reports
 * exactly that gap once and the rest follows in order; the B copies held
 * meanwhile are dropped as duplicates. */
static void test_both_lines_expire(void)
{
	struct sink s = { 0 };
	struct fh_seqbuf sb;
	struct fh_seqbuf_cfg c = { .hold_ns = 2 * MS };

	fh_mold_init(&s.m, 0, NULL);
	FH_CHECK_EQ_I(fh_seqbuf_init(&sb, &c), 0);
	for (unsigned k = 1; k <= 4; k++) {
		arrive(&s, &sb, 0, k, 0);
		arrive(&s, &sb, 1, k, 0);
	}
	arrive(&s, &sb, 0, 6, 10 * MS);
	arrive(&s, &sb, 1, 6, 10 * MS + 1000);
	arrive(&s, &sb, 0, 7, 11 * MS);
	arrive(&s, &sb, 1, 7, 11 * MS + 1000);
	FH_CHECK_EQ_U(sb.n, 2);
	FH_CHECK_EQ_U(sb.st.dups, 2);
	idle(&s, &sb, 12 * MS - 1); /* 2 ms after packet 6 minus 1 ns: still waiting */
	FH_CHECK_EQ_U(s.m.gaps_count, 0);
	idle(&s, &sb, 12 * MS);
	FH_CHECK_EQ_U(s.m.gaps_count, 1);
	FH_CHECK_EQ_U(s.m.gap_msgs, PER);
	FH_CHECK_EQ_U(s.delivered, 6 * PER);
	FH_CHECK_EQ_U(s.out_of_order, 0);
	FH_CHECK_EQ_U(sb.st.expired, 1);
	FH_CHECK_EQ_U(sb.st.released, 1);
	FH_CHECK_EQ_U(sb.n, 0);
	fh_seqbuf_free(&sb);
}

/* A full buffer releases its lowest packet (a gap) to make room. */
static void test_full(void)
{
	struct sink s = { 0 };
	struct fh_seqbuf sb;
	struct fh_seqbuf_cfg c = { .max_pkts = 2, .hold_ns = 1000 * MS };

	fh_mold_init(&s.m, 0, NULL);
	FH_CHECK_EQ_I(fh_seqbuf_init(&sb, &c), 0);
	arrive(&s, &sb, 0, 1, 0);
	arrive(&s, &sb, 0, 3, 1);
	arrive(&s, &sb, 0, 4, 2);
	FH_CHECK_EQ_U(sb.n, 2);
	arrive(&s, &sb, 0, 5, 3); /* full: packet 3 goes, gap 4..6 reported, 4 follows */
	FH_CHECK_EQ_U(sb.st.forced, 1);
	FH_CHECK_EQ_U(s.m.gaps_count, 1);
	FH_CHECK_EQ_U(s.delivered, 4 * PER);
	FH_CHECK_EQ_U(sb.n, 0);
	FH_CHECK_EQ_U(s.out_of_order, 0);
	fh_seqbuf_free(&sb);
}

/* What fh_mold must judge itself is never held. */
static void test_deliver_cases(void)
{
	struct fh_mold m;
	struct fh_seqbuf sb;
	struct pkt p = mk(3);
	struct fh_mold_rx rx;

	fh_mold_init(&m, 0, NULL);
	FH_CHECK_EQ_I(fh_seqbuf_init(&sb, NULL), 0);
	FH_CHECK_EQ_I(fh_seqbuf_offer(&sb, &m, 0, p.b, p.len, 0), FH_SEQBUF_DELIVER); /* not started */
	struct pkt p1 = mk(1);
	FH_CHECK_EQ_I(fh_mold_rx(&m, 0, p1.b, p1.len, 0, &rx), 0);
	FH_CHECK_EQ_I(fh_seqbuf_offer(&sb, &m, 0, p1.b, 10, 0), FH_SEQBUF_DELIVER);   /* short */
	FH_CHECK_EQ_I(fh_seqbuf_offer(&sb, &m, 0, p1.b, p1.len, 0), FH_SEQBUF_DELIVER); /* behind */
	struct pkt o = p;
	memcpy(o.b, "OTHERSESS1", 10);
	FH_CHECK_EQ_I(fh_seqbuf_offer(&sb, &m, 0, o.b, o.len, 0), FH_SEQBUF_DELIVER); /* new session */
	FH_CHECK_EQ_I(fh_seqbuf_offer(&sb, &m, 0, p.b, p.len, 0), FH_SEQBUF_HELD);    /* ahead */
	FH_CHECK_EQ_I(fh_seqbuf_offer(&sb, &m, 1, p.b, p.len, 0), FH_SEQBUF_DUP);
	struct fh_seqbuf_cfg bad = { .max_pkts = FH_SEQBUF_MAX_PKTS + 1 };
	struct fh_seqbuf sb2;
	FH_CHECK_EQ_I(fh_seqbuf_init(&sb2, &bad), -EINVAL);
	fh_seqbuf_free(&sb);
}

static const struct fh_test_case cases[] = {
	FH_CASE(test_ab_reorder),
	FH_CASE(test_both_lines_expire),
	FH_CASE(test_full),
	FH_CASE(test_deliver_cases),
	{ 0 },
};

int main(int argc, char **argv)
{
	return fh_test_main(argc, argv, cases);
}
