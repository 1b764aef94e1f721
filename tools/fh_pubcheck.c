/* SPDX-License-Identifier: MIT */
/* fh_pubcheck.c: order, book and latency checks used by the shm readers and tests. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
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

void fh_pubcheck_set_depth(struct fh_pubcheck *c, unsigned depth)
{
	c->depth = depth > FH_PC_LEVELS ? FH_PC_LEVELS : depth;
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
	/* a known depth: a level pushed past it is dropped, as docs/BOOK.md
	 * tells consumers (the writer sends nothing more about it) */
	unsigned keep = b->depth ? b->depth : FH_PC_LEVELS;
	if (!found) {
		if (i >= keep)
			return;
		if (n == keep) {
			if (keep == FH_PC_LEVELS && !b->depth) {
				c->book_errors++;
				return;
			}
			n--;
			b->n[s]--;
		}
		memmove(&lv[i + 1], &lv[i], (n - i) * sizeof(*lv));
		b->n[s]++;
	}
	lv[i].price = l2->price;
	lv[i].qty = l2->qty;
	lv[i].orders = l2->orders;
}

/* FNV-1a 64 of the top `depth` levels, the layout of fh_book_checksum(). */
static uint64_t book_checksum(const struct fh_pc_book *b, unsigned depth)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (unsigned s = 0; s < 2; s++) {
		for (unsigned l = 0; l < b->n[s] && l < depth; l++) {
			uint8_t rec[23];
			uint16_t l16 = (uint16_t)(l + 1);
			rec[0] = s ? FH_SIDE_ASK : FH_SIDE_BID;
			memcpy(rec + 1, &l16, 2); /* little-endian host (fh_event.h asserts it) */
			memcpy(rec + 3, &b->lv[s][l].price, 8);
			memcpy(rec + 11, &b->lv[s][l].qty, 8);
			memcpy(rec + 19, &b->lv[s][l].orders, 4);
			for (unsigned k = 0; k < sizeof(rec); k++) {
				h ^= rec[k];
				h *= 0x100000001b3ull;
			}
		}
	}
	return h;
}

static void book_reset(struct fh_pubcheck *c, struct fh_pc_book *b, unsigned depth)
{
	b->n[0] = b->n[1] = 0;
	b->synced = true;
	b->pending = false;
	if (!c->depth && depth && depth <= FH_PC_LEVELS)
		b->depth = (uint16_t)depth;
	c->snapshots++;
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
		c->summaries++;
		b = fh_pubcheck_book(c, ev->source_id, ev->instrument, true);
		if (!b)
			return;
		if (c->depth)
			b->depth = (uint16_t)c->depth;
		/* a synced copy must hash like the writer's book at this point of
		 * the stream (the snapshot is ordered with the book's updates) */
		if (b->synced && ev->u.snap.checksum && ev->u.snap.depth) {
			c->snap_checked++;
			if (book_checksum(b, ev->u.snap.depth) != ev->u.snap.checksum)
				c->snap_mismatch++;
		}
		if (!ev->u.snap.bid_levels && !ev->u.snap.ask_levels)
			book_reset(c, b, ev->u.snap.depth);
		else
			b->pending = true;
		b->pending_depth = ev->u.snap.depth;
		break;
	case FH_EV_L2_UPDATE:
		b = fh_pubcheck_book(c, ev->source_id, ev->instrument, !c->require_snapshot);
		if (!b)
			return;
		if (c->depth)
			b->depth = (uint16_t)c->depth;
		if (b->pending) {
			if (ev->u.l2.flags & FH_L2_F_SNAPSHOT)
				book_reset(c, b, b->pending_depth);
			else
				b->pending = false; /* the snapshot was a summary only */
		}
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
	if (ev->type == FH_EV_HEARTBEAT) {
		/* the publisher's own stream: 1, 2, 3, ... */
		if (c->hb_next && ev->seq != c->hb_next)
			c->order_errors++;
		c->hb_next = ev->seq + 1;
	} else {
		/* next_seq holds the last seq + 1 of the source (0: none yet) */
		uint64_t *last = &c->next_seq[ev->source_id];
		if (*last && ev->seq + 1 < *last)
			c->order_errors++;
		else if (*last && ev->seq > *last)
			c->seq_skips++;
		if (!*last || ev->seq + 1 > *last)
			*last = ev->seq + 1;
	}
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
	c->hb_next = 0;
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

static int dump_books(const struct fh_pubcheck *c, const char *path, bool sym)
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
		uint16_t src = (uint16_t)(key >> 32);
		const char *name = sym ? fh_pubcheck_symbol(c, src, (uint32_t)key) : NULL;
		char id[16], px[32];
		if (!name) {
			snprintf(id, sizeof(id), "%u", (unsigned)(uint32_t)key);
			name = id;
		}
		for (int s = 0; s < 2; s++) {
			for (unsigned l = 0; l < v[i]->n[s]; l++) {
				const struct fh_pc_level *lv = &v[i]->lv[s][l];
				if (!sym) {
					fprintf(f, "%u %u %c %" PRId64 " %" PRIu64 " %u\n", src,
						(unsigned)(uint32_t)key, s ? 'S' : 'B', lv->price, lv->qty,
						lv->orders);
					continue;
				}
				fh_price_format(lv->price, 4, px, sizeof(px));
				fprintf(f, "%u %s %c %u %s %" PRIu64 " %u\n", src, name, s ? 'S' : 'B', l + 1,
					px, lv->qty, lv->orders);
			}
		}
	}
	free(v);
	return fclose(f) ? -errno : 0;
}

int fh_pubcheck_dump_books(const struct fh_pubcheck *c, const char *path)
{
	return dump_books(c, path, false);
}

int fh_pubcheck_dump_books_sym(const struct fh_pubcheck *c, const char *path)
{
	return dump_books(c, path, true);
}
