/* SPDX-License-Identifier: MIT */
/* fh_pubcheck.c: order, book and latency checks used by the shm readers and tests. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fh_pubcheck.h"

int fh_pubcheck_init(struct fh_pubcheck *c, unsigned nbooks, bool require_snapshot)
{
	memset(c, 0, sizeof(*c));
	if (!nbooks || (nbooks & (nbooks - 1)))
		return -EINVAL;
	c->next_seq = calloc(65536, sizeof(*c->next_seq));
	c->books = calloc(nbooks, sizeof(*c->books));
	c->hist = calloc(FH_PC_HIST, sizeof(*c->hist));
	c->sym = calloc(FH_PC_SYMS, sizeof(*c->sym));
	if (!c->next_seq || !c->books || !c->hist || !c->sym) {
		fh_pubcheck_free(c);
		return -ENOMEM;
	}
	c->nbooks = nbooks;
	c->require_snapshot = require_snapshot;
	return 0;
}

void fh_pubcheck_free(struct fh_pubcheck *c)
{
	free(c->next_seq);
	free(c->books);
	free(c->hist);
	free(c->sym);
	memset(c, 0, sizeof(*c));
}

struct fh_pc_book *fh_pubcheck_book(struct fh_pubcheck *c, uint16_t source, uint32_t instrument,
				    bool create)
{
	uint64_t key = ((uint64_t)source << 32 | instrument) + 1;
	uint64_t h = key * 0x9e3779b97f4a7c15ull;
	unsigned mask = c->nbooks - 1, i = (unsigned)(h >> 40) & mask;
	for (unsigned n = 0; n < c->nbooks; n++, i = (i + 1) & mask) {
		if (c->books[i].key == key)
			return &c->books[i];
		if (!c->books[i].key) {
			if (!create)
				return NULL;
			c->books[i].key = key;
			return &c->books[i];
		}
	}
	c->book_errors++;
	return NULL;
}

/* Levels kept sorted best first: bids descending, asks ascending. */
void fh_pubcheck_apply_l2(struct fh_pubcheck *c, struct fh_pc_book *b, const struct fh_ev_l2 *l2)
{
	if (l2->action == FH_L2_CLEAR) {
		if (l2->side != FH_SIDE_ASK)
			b->n[0] = 0;
		if (l2->side != FH_SIDE_BID)
			b->n[1] = 0;
		return;
	}
	int s = l2->side == FH_SIDE_ASK ? 1 : 0;
	if (l2->side != FH_SIDE_ASK && l2->side != FH_SIDE_BID) {
		c->book_errors++;
		return;
	}
	struct fh_pc_level *lv = b->lv[s];
	unsigned n = b->n[s], i;
	for (i = 0; i < n; i++) {
		bool before = s == 0 ? lv[i].price < l2->price : lv[i].price > l2->price;
		if (lv[i].price == l2->price || before)
			break;
	}
	bool found = i < n && lv[i].price == l2->price;
	if (l2->action == FH_L2_DELETE) {
		if (!found) {
			c->book_errors++;
			return;
		}
		memmove(&lv[i], &lv[i + 1], (n - i - 1) * sizeof(*lv));
		b->n[s]--;
		return;
	}
	if (!found) {
		if (n == FH_PC_LEVELS) {
			c->book_errors++;
			return;
		}
		memmove(&lv[i + 1], &lv[i], (n - i) * sizeof(*lv));
		b->n[s]++;
	}
	lv[i].price = l2->price;
	lv[i].qty = l2->qty;
	lv[i].orders = l2->orders;
}

static struct fh_pc_sym *sym_slot(const struct fh_pubcheck *c, uint16_t source, uint32_t instrument,
				  bool create)
{
	uint64_t key = ((uint64_t)source << 32 | instrument) + 1;
	unsigned mask = FH_PC_SYMS - 1, i = (unsigned)((key * 0x9e3779b97f4a7c15ull) >> 40) & mask;
	for (unsigned n = 0; n < FH_PC_SYMS; n++, i = (i + 1) & mask) {
		if (c->sym[i].key == key)
			return &c->sym[i];
		if (!c->sym[i].key) {
			if (!create)
				return NULL;
			c->sym[i].key = key;
			return &c->sym[i];
		}
	}
	return NULL;
}

static void track_books(struct fh_pubcheck *c, const struct fh_event *ev)
{
	struct fh_pc_book *b;
	switch (ev->type) {
	case FH_EV_BOOK_SNAPSHOT:
		b = fh_pubcheck_book(c, ev->source_id, ev->instrument, true);
		if (!b)
			return;
		b->n[0] = b->n[1] = 0;
		b->synced = true;
		c->snapshots++;
		break;
	case FH_EV_L2_UPDATE:
		b = fh_pubcheck_book(c, ev->source_id, ev->instrument, !c->require_snapshot);
		if (!b)
			return;
		if (!b->synced && !c->require_snapshot)
			b->synced = true;
		if (b->synced)
			fh_pubcheck_apply_l2(c, b, &ev->u.l2);
		break;
	case FH_EV_INSTRUMENT:
		{
			struct fh_pc_sym *y = sym_slot(c, ev->source_id, ev->instrument, true);
			if (y) {
				memcpy(y->symbol, ev->u.instr.symbol, 16);
				y->symbol[16] = 0;
			} else {
				c->syms_full++;
			}
		}
		break;
	default:
		break;
	}
}

void fh_pubcheck_event(struct fh_pubcheck *c, uint64_t pos, const struct fh_event *ev)
{
	if (c->have_pos && pos != c->next_pos)
		c->pos_errors++;
	c->have_pos = true;
	c->next_pos = pos + 1;
	uint64_t *want = &c->next_seq[ev->source_id];
	if (*want && ev->seq != *want)
		c->order_errors++;
	*want = ev->seq + 1;
	c->events++;
	track_books(c, ev);
}

void fh_pubcheck_lapped(struct fh_pubcheck *c, uint64_t lost)
{
	c->laps++;
	c->lost += lost;
	c->next_pos += lost;
	/* any seq is acceptable for every source after a lap */
	memset(c->next_seq, 0, 65536 * sizeof(*c->next_seq));
	/* books may have missed updates: they are only trusted again after a snapshot */
	for (unsigned i = 0; i < c->nbooks; i++)
		c->books[i].synced = false;
	c->require_snapshot = true;
}

void fh_pubcheck_latency(struct fh_pubcheck *c, uint64_t ns)
{
	c->lat_n++;
	if (ns > c->lat_max)
		c->lat_max = ns;
	if (ns < FH_PC_HIST)
		c->hist[ns]++;
	else
		c->lat_over++;
}

uint64_t fh_pubcheck_percentile(const struct fh_pubcheck *c, double p)
{
	if (!c->lat_n)
		return 0;
	uint64_t want = (uint64_t)((double)c->lat_n * p / 100.0);
	if (want >= c->lat_n)
		want = c->lat_n - 1;
	uint64_t acc = 0;
	for (uint64_t i = 0; i < FH_PC_HIST; i++) {
		acc += c->hist[i];
		if (acc > want)
			return i;
	}
	return c->lat_max;
}

const char *fh_pubcheck_symbol(const struct fh_pubcheck *c, uint16_t source, uint32_t instrument)
{
	const struct fh_pc_sym *y = sym_slot(c, source, instrument, false);
	return y && y->symbol[0] ? y->symbol : NULL;
}

static int cmp_book(const void *a, const void *b)
{
	const struct fh_pc_book *x = *(const struct fh_pc_book *const *)a;
	const struct fh_pc_book *y = *(const struct fh_pc_book *const *)b;
	return x->key < y->key ? -1 : x->key > y->key;
}

int fh_pubcheck_dump_books(const struct fh_pubcheck *c, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	const struct fh_pc_book **v = calloc(c->nbooks, sizeof(*v));
	unsigned n = 0;
	if (!v) {
		fclose(f);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < c->nbooks; i++)
		if (c->books[i].key && c->books[i].synced)
			v[n++] = &c->books[i];
	qsort(v, n, sizeof(*v), cmp_book);
	for (unsigned i = 0; i < n; i++) {
		uint64_t key = v[i]->key - 1;
		for (int s = 0; s < 2; s++)
			for (unsigned l = 0; l < v[i]->n[s]; l++)
				fprintf(f, "%u %u %c %" PRId64 " %" PRIu64 " %u\n", (unsigned)(key >> 32),
					(unsigned)key, s ? 'S' : 'B', v[i]->lv[s][l].price,
					v[i]->lv[s][l].qty, v[i]->lv[s][l].orders);
	}
	free(v);
	return fclose(f) ? -errno : 0;
}
