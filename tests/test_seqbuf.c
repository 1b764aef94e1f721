/* SPDX-License-Identifier: MIT */
/* test_seqbuf.c: MoldUDP64 hold buffer in front of fh_mold: A/B reordering without false gaps, real gaps on expiry, bounds. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fh_mold.h"
#include "fh_rereq.h"
#include "fh_rereq_srv.h"
#include "fh_seqbuf.h"
#include "fh_sim.h"
#include "fh_test.h"
#include "fh_time.h"

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

/* ---- recovery end to end: hold buffer + re-request + server, over loopback ---- */

#define RPER 20 /* messages per packet */

struct rec {
	struct fh_mold m;
	const struct fh_sim_store *store;
	uint64_t delivered, wrong, next;
};

static void rec_feed(struct rec *r, unsigned line, const uint8_t *p, uint32_t len)
{
	struct fh_mold_rx rx;
	if (fh_mold_rx(&r->m, line, p, len, 0, &rx) < 0)
		return;
	const uint8_t *cur = rx.next;
	for (unsigned i = 0; i < rx.n; i++) {
		size_t ml, sl;
		const uint8_t *msg = fh_mold_next_msg(&cur, &ml), *sm;
		uint64_t seq = rx.first_seq + i;
		if (seq != r->next || fh_sim_store_get(r->store, seq, &sm, &sl) < 0 || sl != ml ||
		    memcmp(sm, msg, ml) != 0)
			r->wrong++;
		r->next = seq + 1;
		r->delivered++;
	}
}

static void rec_offer(struct rec *r, struct fh_seqbuf *sb, unsigned line, const uint8_t *p,
		      uint32_t len, uint64_t now)
{
	const uint8_t *q;
	unsigned l;
	uint32_t ql;
	enum fh_seqbuf_verdict v = fh_seqbuf_offer(sb, &r->m, line, p, len, now);
	while (v == FH_SEQBUF_FULL && (q = fh_seqbuf_next(sb, &r->m, now, &l, &ql))) {
		rec_feed(r, l, q, ql);
		fh_seqbuf_pop(sb);
		v = fh_seqbuf_offer(sb, &r->m, line, p, len, now);
	}
	if (v == FH_SEQBUF_DELIVER)
		rec_feed(r, line, p, len);
	while ((q = fh_seqbuf_next(sb, &r->m, now, &l, &ql))) {
		rec_feed(r, l, q, ql);
		fh_seqbuf_pop(sb);
	}
}


/*
 * A session on lines A and B, each losing its own packets, and 50 packets
 * (1000 messages) lost on both: the hold buffer keeps what arrives beyond the
 * hole, fh_rereq asks the server (fh_rereq_srv over the same session, on
 * 127.0.0.1) for the hole, the answers go through the hold buffer as a third
 * line: fh_mold never reports a gap, and every message of the session is
 * delivered once, in order, byte-identical (so any book built from them is
 * the book of the lossless session).
 */
static void test_recovery_loopback(void)
{
	static const char sess[10] = { 'R', 'E', 'C', 'O', 'V', 'E', 'R', '0', '0', '1' };
	struct fh_sim_cfg sc = fh_sim_cfg_default();
	char err[256];

	sc.seed = 12;
	sc.messages = 20000;
	sc.symbols = 50;
	struct fh_sim_store *store = fh_sim_store_create(&sc, 1);
	FH_CHECK(store != NULL);
	if (!store)
		return;
	struct fh_rereq_srv_cfg scfg = { .store = store };
	memcpy(scfg.session, sess, 10);
	struct fh_rereq_srv *srv = fh_rereq_srv_create(&scfg, err, sizeof(err));
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in to = me;
	FH_CHECK(srv && fd >= 0 && bind(fd, (struct sockaddr *)&me, sizeof(me)) == 0);
	if (!srv || fd < 0) {
		fh_sim_store_destroy(store);
		return;
	}
	to.sin_port = htons(fh_rereq_srv_port(srv));

	struct rec r = { .store = store, .next = 1 };
	struct fh_seqbuf sb;
	struct fh_seqbuf_cfg bc = { .max_pkts = 1024, .hold_ns = 5000 * MS }; /* recovery hold */
	struct fh_rereq q;
	struct fh_rereq_cfg qc = { .max_count = 300, .max_outstanding = 2, .timeout_ns = 100 * MS };
	fh_mold_init(&r.m, 0, NULL);
	FH_CHECK_EQ_I(fh_seqbuf_init(&sb, &bc), 0);
	FH_CHECK_EQ_I(fh_rereq_init(&q, &qc, sess), 0);

	uint8_t pkt[2048], out[FH_REREQ_REQ_LEN], in[2048];
	uint64_t gap_first = 0, gap_last = 0, answers = 0;
	unsigned npk = 20000 / RPER;
	uint64_t t_end = fh_clock_ns(CLOCK_MONOTONIC) + 20000 * MS; /* a bound, not a timing check */
	for (unsigned k = 0; (k < npk || sb.n || q.n) && fh_clock_ns(CLOCK_MONOTONIC) < t_end; k++) {
		if (k < npk) {
			/* packet k: messages k*RPER+1 .. (k+1)*RPER */
			size_t len = FH_MOLD_HDR_LEN;
			fh_mold_put_hdr(pkt, "RECOVER001", (uint64_t)k * RPER + 1, RPER);
			for (unsigned i = 0; i < RPER; i++) {
				const uint8_t *m;
				size_t ml;
				fh_sim_store_get(store, (uint64_t)k * RPER + 1 + i, &m, &ml);
				pkt[len] = (uint8_t)(ml >> 8), pkt[len + 1] = (uint8_t)ml;
				memcpy(pkt + len + 2, m, ml);
				len += 2 + ml;
			}
			bool both = k >= 300 && k < 350;
			bool lost_a = both || k % 37 == 5;
			bool lost_b = both || (k % 41 == 7 && k % 37 != 5);
			if (!lost_a)
				rec_offer(&r, &sb, 0, pkt, (uint32_t)len, fh_clock_ns(CLOCK_MONOTONIC));
			if (!lost_b)
				rec_offer(&r, &sb, 1, pkt, (uint32_t)len, fh_clock_ns(CLOCK_MONOTONIC));
		}
		/* a hole in front of held packets: ask for it (once per new hole) */
		if (sb.n && sb.ent[0].seq > r.m.expected &&
		    (r.m.expected != gap_first || sb.ent[0].seq - 1 != gap_last)) {
			gap_first = r.m.expected;
			gap_last = sb.ent[0].seq - 1;
			fh_rereq_gap(&q, gap_first, gap_last);
		}
		while (fh_rereq_poll(&q, fh_clock_ns(CLOCK_MONOTONIC), out))
			sendto(fd, out, sizeof(out), 0, (struct sockaddr *)&to, sizeof(to));
		fh_rereq_srv_poll(srv);
		ssize_t n;
		while ((n = recv(fd, in, sizeof(in), 0)) > 0) {
			struct fh_mold_hdr h;
			if (fh_mold_parse_hdr(in, (size_t)n, &h) == 0 && h.count) {
				answers++;
				fh_rereq_filled(&q, h.seq, h.seq + h.count - 1);
				rec_offer(&r, &sb, 2, in, (uint32_t)n, fh_clock_ns(CLOCK_MONOTONIC));
			}
		}
		if (k >= npk)
			usleep(100);
	}
	FH_CHECK_EQ_U(r.m.gaps_count, 0);
	FH_CHECK_EQ_U(r.delivered, 20000);
	FH_CHECK_EQ_U(r.wrong, 0);
	FH_CHECK_EQ_U(r.m.late_msgs, 0);
	FH_CHECK(q.st.requests >= 4); /* 1000 messages in requests of at most 300 */
	FH_CHECK(answers > 0);
	FH_CHECK_EQ_U(q.st.failed_ranges, 0);
	FH_CHECK_EQ_U(sb.st.expired, 0);
	FH_CHECK(sb.st.held > 0);
	close(fd);
	fh_seqbuf_free(&sb);
	fh_rereq_srv_destroy(srv);
	fh_sim_store_destroy(store);
}

static const struct fh_test_case cases[] = {
	FH_CASE(test_ab_reorder),
	FH_CASE(test_both_lines_expire),
	FH_CASE(test_full),
	FH_CASE(test_deliver_cases),
	FH_CASE(test_recovery_loopback),
	{ 0 },
};

int main(int argc, char **argv)
{
	return fh_test_main(argc, argv, cases);
}
