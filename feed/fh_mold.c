/* SPDX-License-Identifier: MIT */
/* fh_mold.c: MoldUDP64 datagram validation and per-session sequencing. */
#include <string.h>

#include "fh_dlq.h"
#include "fh_mold.h"

void fh_mold_init(struct fh_mold *m, uint16_t source_id, struct fh_dlq *dlq)
{
	memset(m, 0, sizeof(*m));
	m->source_id = source_id;
	m->dlq = dlq;
}

int fh_mold_parse_hdr(const uint8_t *p, size_t len, struct fh_mold_hdr *h)
{
	if (len < FH_MOLD_HDR_LEN)
		return -FH_ITCH_REJ_SHORT_PACKET;
	memcpy(h->session, p, FH_MOLD_SESSION_LEN);
	h->seq = fh_be64(p + 10);
	h->count = fh_be16(p + 18);
	return 0;
}

void fh_mold_put_hdr(uint8_t *p, const char *session, uint64_t seq, uint16_t count)
{
	size_t n = session ? strnlen(session, FH_MOLD_SESSION_LEN) : 0;

	memset(p, ' ', FH_MOLD_SESSION_LEN);
	if (n)
		memcpy(p, session, n);
	fh_put_be64(p + 10, seq);
	fh_put_be16(p + 18, count);
}

int fh_mold_check_blocks(const uint8_t *blocks, size_t len, unsigned count)
{
	size_t off = 0;

	if (count == FH_MOLD_END_OF_SESSION)
		count = 0;
	for (unsigned i = 0; i < count; i++) {
		if (len - off < 2)
			return -FH_ITCH_REJ_OVERRUN;
		size_t l = fh_be16(blocks + off);
		if (l == 0)
			return -FH_ITCH_REJ_BAD_BLOCK_LEN;
		if (len - off - 2 < l)
			return -FH_ITCH_REJ_OVERRUN;
		off += 2 + l;
	}
	return off == len ? 0 : -FH_ITCH_REJ_BAD_BLOCK_LEN;
}

static FH_COLD int reject(struct fh_mold *m, int reason, const char *session, uint64_t seq,
			  const uint8_t *p, size_t len, uint64_t recv_ts_ns)
{
	m->rejects[reason]++;
	if (m->dlq)
		fh_dlq_write(m->dlq, m->source_id, session, seq, recv_ts_ns,
			     fh_itch_reject_name((unsigned)reason), p, len);
	return -reason;
}

static void add_status(struct fh_mold_rx *rx, const struct fh_mold *m, uint8_t kind,
		       uint64_t first, uint64_t last, uint64_t recv_ts_ns)
{
	struct fh_event *ev = &rx->status[rx->nstatus++];

	fh_event_init(ev, FH_EV_FEED_STATUS);
	ev->source_id = m->source_id;
	ev->instrument = FH_INSTRUMENT_NONE;
	ev->seq = first;
	ev->recv_ts_ns = recv_ts_ns;
	ev->u.feed.kind = kind;
	memcpy(ev->u.feed.session, m->session, FH_MOLD_SESSION_LEN);
	ev->u.feed.first_seq = first;
	ev->u.feed.last_seq = last;
}

/* Messages of [first, last] that fall inside a reported gap. */
static uint64_t in_gaps(const struct fh_mold *m, uint64_t first, uint64_t last)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < FH_MOLD_GAP_RING; i++) {
		const struct fh_mold_gap *g = &m->gaps[i];
		if (g->first == 0) /* empty slot: sequenced gaps start at 1 or later */
			continue;
		uint64_t lo = first > g->first ? first : g->first;
		uint64_t hi = last < g->last ? last : g->last;
		if (lo <= hi)
			n += hi - lo + 1;
	}
	return n;
}

int fh_mold_rx(struct fh_mold *m, unsigned line, const uint8_t *p, size_t len,
	       uint64_t recv_ts_ns, struct fh_mold_rx *rx)
{
	struct fh_mold_hdr *h = &rx->hdr;
	int rc;

	rx->n = 0;
	rx->nstatus = 0;
	rx->next = NULL;
	rx->first_seq = 0;
	if (line >= FH_MOLD_MAX_LINES)
		line = FH_MOLD_MAX_LINES - 1;
	rc = fh_mold_parse_hdr(p, len, h);
	if (rc < 0) {
		memset(h, 0, sizeof(*h));
		return reject(m, -rc, NULL, 0, p, len, recv_ts_ns);
	}
	rc = fh_mold_check_blocks(p + FH_MOLD_HDR_LEN, len - FH_MOLD_HDR_LEN, h->count);
	if (rc < 0)
		return reject(m, -rc, h->session, h->seq, p, len, recv_ts_ns);
	bool eos = h->count == FH_MOLD_END_OF_SESSION;
	uint64_t n = eos ? 0 : h->count;
	if (h->seq > UINT64_MAX - n - 1)
		return reject(m, FH_ITCH_REJ_BAD_SEQ, h->session, h->seq, p, len, recv_ts_ns);
	uint64_t end = h->seq + n; /* one past the last message */

	if (h->seq == 0 && !eos) {
		/* Sequence 0 is not a MoldUDP64 sequence (they start at 1):
		 * anonymised captures zero it. Deliver as is, outside sequencing. */
		m->packets++;
		m->unsequenced++;
		if (n == 0) {
			m->heartbeats++;
			return 0;
		}
		rx->next = p + FH_MOLD_HDR_LEN;
		rx->n = (unsigned)n;
		m->messages += n;
		return 0;
	}

	if (!m->started || memcmp(m->session, h->session, FH_MOLD_SESSION_LEN) != 0) {
		/* A new session starts where its first packet says. */
		memcpy(m->session, h->session, FH_MOLD_SESSION_LEN);
		m->started = true;
		m->ended = false;
		m->expected = h->seq;
		memset(m->line_next, 0, sizeof(m->line_next));
		memset(m->gaps, 0, sizeof(m->gaps));
		m->sessions++;
		add_status(rx, m, FH_FEED_SEQ_RESET, h->seq, h->seq, recv_ts_ns);
	} else if (m->line_next[line] && h->seq < m->line_next[line]) {
		/* This line itself went backwards (a heartbeat repeats line_next: fine). */
		return reject(m, FH_ITCH_REJ_SEQ_REGRESSION, h->session, h->seq, p, len, recv_ts_ns);
	}
	m->packets++;
	if (end > m->line_next[line])
		m->line_next[line] = end;

	if (h->seq > m->expected) {
		uint64_t first = m->expected, last = h->seq - 1;
		add_status(rx, m, FH_FEED_GAP, first, last, recv_ts_ns);
		m->gaps[m->gap_head].first = first;
		m->gaps[m->gap_head].last = last;
		m->gap_head = (m->gap_head + 1) % FH_MOLD_GAP_RING;
		m->gaps_count++;
		m->gap_msgs += last - first + 1;
		m->expected = h->seq;
	}

	if (eos) {
		if (!m->ended) {
			m->ended = true;
			m->end_of_session++;
			add_status(rx, m, FH_FEED_END_OF_SESSION, h->seq, h->seq, recv_ts_ns);
		} else {
			m->dup_packets++;
		}
		return 0;
	}
	if (n == 0) {
		m->heartbeats++;
		return 0;
	}

	const uint8_t *cur = p + FH_MOLD_HDR_LEN;
	uint64_t seq = h->seq;
	if (seq < m->expected) {
		/* Already delivered, or inside a gap already reported: skip those. */
		uint64_t old_last = (end < m->expected ? end : m->expected) - 1;
		uint64_t old = old_last - seq + 1;
		uint64_t late = in_gaps(m, seq, old_last);
		m->late_msgs += late;
		m->dup_msgs += old - late;
		for (uint64_t i = 0; i < old; i++) {
			size_t l;
			fh_mold_next_msg(&cur, &l);
		}
		seq += old;
		n -= old;
		if (n == 0) {
			m->dup_packets++;
			return 0;
		}
	}
	rx->next = cur;
	rx->first_seq = seq;
	rx->n = (unsigned)n;
	m->expected = end;
	m->messages += n;
	return 0;
}
