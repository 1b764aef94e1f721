/* SPDX-License-Identifier: MIT */
/* fh_rereq.c: MoldUDP64 re-request scheduling (ranges, bounds, timeouts, back-off). */
#include <errno.h>
#include <string.h>

#include "fh_rereq.h"

int fh_rereq_init(struct fh_rereq *q, const struct fh_rereq_cfg *cfg, const char session[10])
{
	memset(q, 0, sizeof(*q));
	if (cfg)
		q->cfg = *cfg;
	struct fh_rereq_cfg *c = &q->cfg;
	if (!c->max_count)
		c->max_count = 1000;
	if (!c->max_outstanding)
		c->max_outstanding = 4;
	if (!c->max_ranges)
		c->max_ranges = 64;
	if (!c->max_tries)
		c->max_tries = 5;
	if (!c->timeout_ns)
		c->timeout_ns = 20000000;
	if (!c->max_timeout_ns)
		c->max_timeout_ns = 1000000000;
	if (c->max_ranges > FH_REREQ_MAX_RANGES || c->max_count == 0xFFFF ||
	    c->max_timeout_ns < c->timeout_ns)
		return -EINVAL; /* 0xFFFF is a MoldUDP64 end-of-session count */
	memset(q->session, ' ', sizeof(q->session));
	if (session)
		memcpy(q->session, session, sizeof(q->session));
	return 0;
}

static void remove_at(struct fh_rereq *q, unsigned i)
{
	if (q->r[i].inflight)
		q->inflight--;
	memmove(&q->r[i], &q->r[i + 1], (q->n - i - 1) * sizeof(q->r[0]));
	q->n--;
}

/* Inserts a fresh range before index i (caller checked there is room). */
static void insert_at(struct fh_rereq *q, unsigned i, uint64_t first, uint64_t last)
{
	memmove(&q->r[i + 1], &q->r[i], (q->n - i) * sizeof(q->r[0]));
	q->r[i] = (struct fh_rereq_range){ .first = first, .last = last,
					   .timeout_ns = q->cfg.timeout_ns };
	q->n++;
}

int fh_rereq_gap(struct fh_rereq *q, uint64_t first, uint64_t last)
{
	if (first == 0 || first > last)
		return -EINVAL;
	q->st.gaps++;
	q->st.gap_msgs += last - first + 1;
	uint64_t cur = first;
	unsigned i = 0;
	while (cur <= last) {
		/* skip ranges wholly before cur; a range covering cur moves cur past it */
		while (i < q->n && q->r[i].last < cur)
			i++;
		if (i < q->n && q->r[i].first <= cur) {
			if (q->r[i].last >= last)
				return 0;
			cur = q->r[i].last + 1;
			continue;
		}
		/* [cur, end] is uncovered: up to the next range, the gap's end, max_count */
		uint64_t end = last;
		if (i < q->n && q->r[i].first - 1 < end)
			end = q->r[i].first - 1;
		if (end - cur >= q->cfg.max_count)
			end = cur + q->cfg.max_count - 1;
		if (q->n >= q->cfg.max_ranges) {
			q->st.table_full++;
			return -ENOSPC;
		}
		insert_at(q, i, cur, end);
		i++;
		if (end == UINT64_MAX)
			break;
		cur = end + 1;
	}
	return 0;
}

void fh_rereq_filled(struct fh_rereq *q, uint64_t first, uint64_t last)
{
	for (unsigned i = 0; i < q->n && first <= last;) {
		struct fh_rereq_range *r = &q->r[i];
		if (r->last < first) {
			i++;
			continue;
		}
		if (r->first > last)
			break;
		uint64_t a = r->first > first ? r->first : first;
		uint64_t b = r->last < last ? r->last : last;
		q->st.filled_msgs += b - a + 1;
		if (a == r->first && b == r->last) {
			remove_at(q, i);
			continue;
		}
		if (a == r->first) {
			r->first = b + 1;
		} else if (b == r->last) {
			r->last = a - 1;
		} else if (q->n < q->cfg.max_ranges) {
			/* a hole in the middle: two ranges, the same request state */
			struct fh_rereq_range tail = *r;
			tail.first = b + 1;
			r->last = a - 1;
			insert_at(q, i + 1, tail.first, tail.last);
			q->r[i + 1] = tail;
			if (tail.inflight)
				q->inflight++;
			i++;
		}
		i++;
	}
}

static void give_up(struct fh_rereq *q, unsigned i)
{
	struct fh_rereq_range *r = &q->r[i];
	q->st.failed_ranges++;
	q->st.failed_msgs += r->last - r->first + 1;
	if (q->n_failed < FH_REREQ_MAX_RANGES) {
		q->failed[q->n_failed][0] = r->first;
		q->failed[q->n_failed][1] = r->last;
		q->n_failed++;
	}
	remove_at(q, i);
}

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned k = 0; k < n; k++)
		p[k] = (uint8_t)(v >> (8 * (n - 1 - k)));
}

int fh_rereq_poll(struct fh_rereq *q, uint64_t now_ns, uint8_t out[FH_REREQ_REQ_LEN])
{
	/* late answers: send again for what is missing, or give up */
	for (unsigned i = 0; i < q->n;) {
		struct fh_rereq_range *r = &q->r[i];
		if (r->inflight && now_ns >= r->due_ns) {
			q->st.timeouts++;
			r->inflight = false;
			q->inflight--;
			if (r->tries >= q->cfg.max_tries) {
				give_up(q, i);
				continue;
			}
			r->timeout_ns = r->timeout_ns * 2 < q->cfg.max_timeout_ns ? r->timeout_ns * 2
										 : q->cfg.max_timeout_ns;
		}
		i++;
	}
	if (q->inflight >= q->cfg.max_outstanding)
		return 0;
	/* the oldest missing range first: its books have waited longest */
	for (unsigned i = 0; i < q->n; i++) {
		struct fh_rereq_range *r = &q->r[i];
		if (r->inflight)
			continue;
		uint64_t count = r->last - r->first + 1;
		if (count > q->cfg.max_count)
			count = q->cfg.max_count;
		memcpy(out, q->session, sizeof(q->session));
		put_be(out + 10, r->first, 8);
		put_be(out + 18, count, 2);
		r->inflight = true;
		r->due_ns = now_ns + r->timeout_ns;
		if (r->tries++)
			q->st.resends++;
		q->inflight++;
		q->st.requests++;
		return 1;
	}
	return 0;
}

int fh_rereq_next_failed(struct fh_rereq *q, uint64_t *first, uint64_t *last)
{
	if (!q->n_failed)
		return 0;
	*first = q->failed[0][0];
	*last = q->failed[0][1];
	memmove(&q->failed[0], &q->failed[1], (q->n_failed - 1) * sizeof(q->failed[0]));
	q->n_failed--;
	return 1;
}

uint64_t fh_rereq_missing(const struct fh_rereq *q)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < q->n; i++)
		n += q->r[i].last - q->r[i].first + 1;
	return n;
}

uint64_t fh_rereq_next_due(const struct fh_rereq *q)
{
	uint64_t due = UINT64_MAX;
	for (unsigned i = 0; i < q->n; i++) {
		if (!q->r[i].inflight) {
			if (q->inflight < q->cfg.max_outstanding)
				return 0;
		} else if (q->r[i].due_ns < due) {
			due = q->r[i].due_ns;
		}
	}
	return due;
}
