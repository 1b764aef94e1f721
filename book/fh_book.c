/* SPDX-License-Identifier: MIT */
/* fh_book.c: cold paths of the L2 book: layout, arena allocator, status events, snapshots. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "fh_book.h"

#define BUD_NIL UINT32_MAX

struct layout {
	size_t ins_off, sym_off, ot_off, lv_off, bnext_off, bprev_off, btag_off, total;
	uint64_t ot_cap;
	uint32_t units;
	unsigned bmax;
};

static size_t align64(size_t v)
{
	return (v + 63) & ~(size_t)63;
}

static uint64_t pow2_at_least(uint64_t v)
{
	uint64_t p = 1;
	while (p < v)
		p <<= 1;
	return p;
}

static int cfg_valid(const struct fh_book_config *c)
{
	return c && c->max_orders >= 1 && c->max_orders <= (1u << 30) && c->max_instruments >= 1 &&
	       c->max_instruments <= FH_BOOK_MAX_INSTRUMENTS && c->max_levels >= 1 &&
	       c->max_levels <= (1u << 28) && c->depth >= 1 && c->depth <= FH_BOOK_MAX_DEPTH &&
	       c->crossed_policy <= FH_BOOK_CROSSED_ABORT;
}

static int layout_of(const struct fh_book_config *c, struct layout *l)
{
	if (!cfg_valid(c))
		return -EINVAL;
	l->ot_cap = pow2_at_least(2ull * c->max_orders);
	/* power-of-two blocks waste up to half: the arena holds twice the levels asked for */
	l->units = (uint32_t)pow2_at_least((2ull * c->max_levels + FH_BOOK_MIN_CAP - 1) /
					   FH_BOOK_MIN_CAP);
	l->bmax = (unsigned)__builtin_ctz(l->units);
	size_t off = align64(sizeof(struct fh_book));
	l->ins_off = off;
	off = align64(off + (size_t)c->max_instruments * sizeof(struct fh_book_instr));
	l->sym_off = off;
	off = align64(off + (size_t)c->max_instruments * 16);
	l->ot_off = off;
	off = align64(off + l->ot_cap * sizeof(struct fh_book_order));
	l->lv_off = off;
	off = align64(off + (size_t)l->units * FH_BOOK_MIN_CAP * sizeof(struct fh_book_lvl));
	l->bnext_off = off;
	off = align64(off + (size_t)l->units * sizeof(uint32_t));
	l->bprev_off = off;
	off = align64(off + (size_t)l->units * sizeof(uint32_t));
	l->btag_off = off;
	off = align64(off + l->units);
	l->total = off;
	return 0;
}

void fh_book_config_default(struct fh_book_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_orders = FH_BOOK_DEF_ORDERS;
	cfg->max_instruments = FH_BOOK_DEF_INSTRUMENTS;
	cfg->max_levels = FH_BOOK_DEF_LEVELS;
	cfg->depth = FH_BOOK_DEF_DEPTH;
	cfg->crossed_policy = FH_BOOK_CROSSED_FLAG;
}

size_t fh_book_memsize(const struct fh_book_config *cfg)
{
	struct layout l;
	return layout_of(cfg, &l) ? 0 : l.total;
}

/* ---- arena: binary buddy allocator over units of FH_BOOK_MIN_CAP levels ---- */

static void bud_push(struct fh_book *b, uint32_t blk, unsigned k)
{
	b->btag[blk] = (uint8_t)(k + 1);
	b->bprev[blk] = BUD_NIL;
	b->bnext[blk] = b->bhead[k];
	if (b->bhead[k] != BUD_NIL)
		b->bprev[b->bhead[k]] = blk;
	b->bhead[k] = blk;
}

static void bud_unlink(struct fh_book *b, uint32_t blk, unsigned k)
{
	uint32_t p = b->bprev[blk], n = b->bnext[blk];
	b->btag[blk] = 0;
	if (p != BUD_NIL)
		b->bnext[p] = n;
	else
		b->bhead[k] = n;
	if (n != BUD_NIL)
		b->bprev[n] = p;
}

static int64_t bud_alloc(struct fh_book *b, unsigned k)
{
	for (unsigned j = k; j <= b->bmax; j++) {
		uint32_t blk = b->bhead[j];
		if (blk == BUD_NIL)
			continue;
		bud_unlink(b, blk, j);
		while (j > k) {
			j--;
			bud_push(b, blk + (1u << j), j);
		}
		return blk;
	}
	return -1;
}

static void bud_free(struct fh_book *b, uint32_t blk, unsigned k)
{
	while (k < b->bmax) {
		uint32_t buddy = blk ^ (1u << k);
		if (b->btag[buddy] != k + 1)
			break;
		bud_unlink(b, buddy, k);
		blk &= ~(1u << k);
		k++;
	}
	bud_push(b, blk, k);
}

static void bud_reset(struct fh_book *b)
{
	memset(b->btag, 0, b->bunits);
	for (unsigned k = 0; k < 32; k++)
		b->bhead[k] = BUD_NIL;
	bud_push(b, 0, b->bmax);
}


/* Moves a side to a block of 8 << k levels. 0 or -ENOMEM (side unchanged). */
static int side_move(struct fh_book *b, struct fh_book_instr *ins, unsigned s, unsigned k)
{
	int64_t blk = bud_alloc(b, k);
	if (blk < 0)
		return -ENOMEM;
	uint32_t base = (uint32_t)blk * FH_BOOK_MIN_CAP;
	if (ins->count[s])
		memcpy(b->lv + base, b->lv + ins->base[s], ins->count[s] * sizeof(struct fh_book_lvl));
	if (ins->cap_k[s])
		bud_free(b, ins->base[s] / FH_BOOK_MIN_CAP, ins->cap_k[s] - 1u);
	ins->base[s] = base;
	ins->cap_k[s] = (uint8_t)(k + 1);
	return 0;
}

int fh_book_pvt_side_grow(struct fh_book *b, uint32_t instr, unsigned s)
{
	struct fh_book_instr *ins = &b->ins[instr];
	unsigned k = ins->cap_k[s]; /* the next size up */
	if (k > b->bmax)
		return -ENOMEM;
	return side_move(b, ins, s, k);
}

void fh_book_pvt_side_shrink(struct fh_book *b, uint32_t instr, unsigned s)
{
	struct fh_book_instr *ins = &b->ins[instr];
	unsigned k = 0;
	while ((FH_BOOK_MIN_CAP << k) < 2 * ins->count[s])
		k++;
	if ((FH_BOOK_MIN_CAP << k) < fh_book_pvt_cap(ins, s))
		(void)side_move(b, ins, s, k); /* on failure the larger block stays: still correct */
}

/* ---- life cycle ---- */

struct fh_book *fh_book_init(void *mem, const struct fh_book_config *cfg)
{
	struct layout l;
	if (!mem || ((uintptr_t)mem & 63) || layout_of(cfg, &l))
		return NULL;
	/* writing every byte also pre-faults every page */
	memset(mem, 0, l.total);
	struct fh_book *b = mem;
	char *base = mem;
	b->cfg = *cfg;
	b->memsize = l.total;
	b->ins = (struct fh_book_instr *)(base + l.ins_off);
	b->sym = (char(*)[16])(base + l.sym_off);
	b->ot = (struct fh_book_order *)(base + l.ot_off);
	b->lv = (struct fh_book_lvl *)(base + l.lv_off);
	b->bnext = (uint32_t *)(base + l.bnext_off);
	b->bprev = (uint32_t *)(base + l.bprev_off);
	b->btag = (uint8_t *)(base + l.btag_off);
	b->omask = l.ot_cap - 1;
	b->oshift = 64u - (unsigned)__builtin_ctzll(l.ot_cap);
	b->max_orders = cfg->max_orders;
	b->ninstr = cfg->max_instruments;
	b->depth = cfg->depth;
	b->policy = cfg->crossed_policy;
	b->bunits = l.units;
	b->bmax = l.bmax;
	bud_reset(b);
	return b;
}

static uint64_t mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	unsigned long long kb = 0;
	if (!f)
		return UINT64_MAX; /* unknown: let mmap decide */
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb ? (uint64_t)kb * 1024 : UINT64_MAX;
}

int fh_book_create(const struct fh_book_config *cfg, struct fh_book **bp, char *err,
		   size_t errlen)
{
	char dummy[8];
	size_t sz = fh_book_memsize(cfg);
	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	*bp = NULL;
	if (!sz) {
		snprintf(err, errlen, "book: invalid config (orders 1..2^30, instruments 1..%u, "
			 "levels 1..2^28, depth 1..%d, crossed policy flag|abort)",
			 FH_BOOK_MAX_INSTRUMENTS, FH_BOOK_MAX_DEPTH);
		return -EINVAL;
	}
	uint64_t avail = mem_available();
	if (sz > avail) {
		snprintf(err, errlen,
			 "book: needs %zu MiB for %u orders, %u levels, %u instruments; "
			 "the host has %" PRIu64 " MiB available",
			 sz >> 20, cfg->max_orders, cfg->max_levels, cfg->max_instruments,
			 avail >> 20);
		return -ENOMEM;
	}
	size_t len = (sz + (2u << 20) - 1) & ~(size_t)((2u << 20) - 1);
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (m == MAP_FAILED) {
		m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED) {
			snprintf(err, errlen, "book: mmap of %zu MiB failed: %s", len >> 20,
				 strerror(errno));
			return -ENOMEM;
		}
		/* transparent huge pages when enabled: the order table is probed at random */
		(void)madvise(m, len, MADV_HUGEPAGE);
	}
	struct fh_book *b = fh_book_init(m, cfg);
	b->map = m;
	b->maplen = len;
	*bp = b;
	if (err != dummy && errlen)
		err[0] = 0;
	return 0;
}

void fh_book_destroy(struct fh_book *b)
{
	if (b && b->map)
		munmap(b->map, b->maplen);
}

void fh_book_reset(struct fh_book *b)
{
	/* names survive (a new day of the same feed keeps its directory) */
	for (uint32_t i = 0; i < b->ninstr; i++) {
		uint8_t named = b->ins[i].named;
		memset(&b->ins[i], 0, sizeof(b->ins[i]));
		b->ins[i].named = named;
	}
	memset(b->ot, 0, (b->omask + 1) * sizeof(*b->ot));
	bud_reset(b);
	memset(&b->st, 0, sizeof(b->st));
	b->src_stale = 0;
	b->open_gaps = 0;
	b->abort_pending = 0;
	b->last_out = 0;
}

/* ---- queries ---- */

const struct fh_book_stats *fh_book_stats(const struct fh_book *b)
{
	return &b->st;
}

uint64_t fh_book_orphans(const struct fh_book *b)
{
	return b->st.orphan_exec + b->st.orphan_cancel + b->st.orphan_delete +
	       b->st.orphan_replace;
}

uint64_t fh_book_integrity_warnings(const struct fh_book *b)
{
	return b->st.over_exec + b->st.over_cancel + b->st.dup_add + b->st.orders_full +
	       b->st.levels_full;
}

uint32_t fh_book_max_instruments(const struct fh_book *b)
{
	return b->ninstr;
}

const char *fh_book_symbol(const struct fh_book *b, uint32_t instr)
{
	return instr < b->ninstr ? b->sym[instr] : "";
}

static void set_symbol(char out[16], const char *sym, size_t len)
{
	memset(out, 0, 16);
	if (len > 15)
		len = 15;
	for (size_t i = 0; i < len && sym[i]; i++)
		out[i] = sym[i];
	/* trailing spaces are padding */
	for (size_t i = strlen(out); i > 0 && out[i - 1] == ' '; i--)
		out[i - 1] = 0;
}

void fh_book_name_instrument(struct fh_book *b, uint32_t instr, const char *sym, size_t len)
{
	if (instr >= b->ninstr || b->ins[instr].named == FH_BOOK_NAMED_DIR)
		return;
	set_symbol(b->sym[instr], sym, len);
	b->ins[instr].named = FH_BOOK_NAMED_ADD;
}

uint32_t fh_book_order_count(const struct fh_book *b, uint32_t instr)
{
	return instr < b->ninstr ? b->ins[instr].orders : 0;
}

static int side_index(uint8_t side)
{
	return side == FH_SIDE_BID ? 0 : side == FH_SIDE_ASK ? 1 : -1;
}

uint32_t fh_book_level_count(const struct fh_book *b, uint32_t instr, uint8_t side)
{
	int s = side_index(side);
	return instr < b->ninstr && s >= 0 ? b->ins[instr].count[s] : 0;
}

unsigned fh_book_levels(const struct fh_book *b, uint32_t instr, uint8_t side,
			struct fh_book_level_view *out, unsigned max)
{
	int s = side_index(side);
	if (instr >= b->ninstr || s < 0)
		return 0;
	const struct fh_book_instr *ins = &b->ins[instr];
	const struct fh_book_lvl *L = b->lv + ins->base[s];
	unsigned n = 0;
	for (uint32_t i = ins->count[s]; i > 0 && n < max; i--, n++) {
		out[n].price = s ? -L[i - 1].key : L[i - 1].key;
		out[n].qty = L[i - 1].qty;
		out[n].orders = L[i - 1].orders;
	}
	return n;
}

uint8_t fh_book_flags(const struct fh_book *b, uint32_t instr)
{
	if (instr >= b->ninstr)
		return 0;
	return (uint8_t)(b->ins[instr].flags | (b->src_stale ? FH_BOOK_F_STALE : 0));
}

bool fh_book_is_stale(const struct fh_book *b, uint32_t instr)
{
	return fh_book_flags(b, instr) & FH_BOOK_F_STALE;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *c = p;
	for (size_t i = 0; i < n; i++) {
		h ^= c[i];
		h *= FH_BOOK_FNV_PRIME;
	}
	return h;
}

uint64_t fh_book_checksum(const struct fh_book *b, uint32_t instr, unsigned depth)
{
	uint64_t h = FH_BOOK_FNV_OFFSET;
	if (instr >= b->ninstr)
		return h;
	const struct fh_book_instr *ins = &b->ins[instr];
	for (unsigned s = 0; s < 2; s++) {
		const struct fh_book_lvl *L = b->lv + ins->base[s];
		uint32_t c = ins->count[s];
		for (unsigned lvl = 1; lvl <= depth && lvl <= c; lvl++) {
			const struct fh_book_lvl *v = &L[c - lvl];
			uint8_t rec[23];
			uint16_t l16 = (uint16_t)lvl;
			int64_t px = s ? -v->key : v->key;
			rec[0] = s ? FH_SIDE_ASK : FH_SIDE_BID;
			memcpy(rec + 1, &l16, 2);   /* little-endian host (fh_event.h asserts it) */
			memcpy(rec + 3, &px, 8);
			memcpy(rec + 11, &v->qty, 8);
			memcpy(rec + 19, &v->orders, 4);
			h = fnv(h, rec, sizeof(rec));
		}
	}
	return h;
}

void fh_book_snapshot(struct fh_book *b, uint32_t instr, const struct fh_event *hdr,
		      struct fh_event *out)
{
	if (hdr)
		fh_book_pvt_ev(out, hdr, FH_EV_BOOK_SNAPSHOT);
	else
		fh_event_init(out, FH_EV_BOOK_SNAPSHOT);
	out->instrument = instr;
	if (instr >= b->ninstr)
		return;
	const struct fh_book_instr *ins = &b->ins[instr];
	out->u.snap.checksum = fh_book_checksum(b, instr, b->depth);
	out->u.snap.updates = ins->updates;
	out->u.snap.orders = ins->orders;
	out->u.snap.depth = b->depth;
	out->u.snap.bid_levels = (uint16_t)(ins->count[0] > UINT16_MAX ? UINT16_MAX : ins->count[0]);
	out->u.snap.ask_levels = (uint16_t)(ins->count[1] > UINT16_MAX ? UINT16_MAX : ins->count[1]);
	out->u.snap.flags = fh_book_flags(b, instr);
	b->st.snapshots++;
}

unsigned fh_book_snapshot_all(struct fh_book *b, uint32_t *cursor, const struct fh_event *hdr,
			      struct fh_event *out, unsigned max)
{
	unsigned n = 0;
	uint32_t i = *cursor;
	for (; i < b->ninstr && n < max; i++) {
		const struct fh_book_instr *ins = &b->ins[i];
		if (ins->count[0] || ins->count[1] || ins->flags)
			fh_book_snapshot(b, i, hdr, &out[n++]);
	}
	*cursor = i >= b->ninstr ? 0 : i;
	return n;
}

/* ---- cold paths of apply ---- */

static int feed_status(const struct fh_event *in, struct fh_event *out,
		       uint8_t kind, uint32_t instr)
{
	struct fh_event *e = fh_book_pvt_ev(out, in, FH_EV_FEED_STATUS);
	e->instrument = instr;
	e->u.feed.kind = kind;
	if (in->type == FH_EV_FEED_STATUS) {
		memcpy(e->u.feed.session, in->u.feed.session, sizeof(e->u.feed.session));
		e->u.feed.first_seq = in->u.feed.first_seq;
		e->u.feed.last_seq = in->u.feed.last_seq;
	} else {
		e->u.feed.first_seq = e->u.feed.last_seq = in->seq;
	}
	return 1;
}

int fh_book_pvt_full(struct fh_book *b, uint32_t instr, const struct fh_event *in,
		     struct fh_event *out, bool orders)
{
	if (orders)
		b->st.orders_full++;
	else
		b->st.levels_full++;
	struct fh_book_instr *ins = &b->ins[instr];
	if (ins->flags & FH_BOOK_F_STALE)
		return 0;
	/* the book now misses an order: it stays stale (published) until reset */
	ins->flags |= FH_BOOK_F_STALE;
	return feed_status(in, out, FH_FEED_STALE, instr);
}

static uint8_t cross_state(const struct fh_book *b, const struct fh_book_instr *ins)
{
	(void)b;
	if (!ins->count[0] || !ins->count[1])
		return 0;
	int64_t bid = ins->top_key[0], ask = -ins->top_key[1];
	return bid > ask ? FH_BOOK_F_CROSSED : bid == ask ? FH_BOOK_F_LOCKED : 0;
}

int fh_book_pvt_cross(struct fh_book *b, uint32_t instr, const struct fh_event *in,
		      struct fh_event *out)
{
	struct fh_book_instr *ins = &b->ins[instr];
	if (ins->flags & FH_BOOK_F_HALTED)
		return 0; /* crossing while halted is normal (auction order entry) */
	uint8_t st = cross_state(b, ins);
	ins->flags = (uint8_t)((ins->flags & ~(FH_BOOK_F_CROSSED | FH_BOOK_F_LOCKED)) | st);
	if (st == FH_BOOK_F_CROSSED)
		b->st.crossed++;
	else if (st == FH_BOOK_F_LOCKED)
		b->st.locked++;
	/* A stale book (open gap, or capacity) may cross because of what it
	 * missed: it is already flagged untrusted, so only a trusted book aborts. */
	if (st && b->policy == FH_BOOK_CROSSED_ABORT && !b->src_stale &&
	    !(ins->flags & FH_BOOK_F_STALE))
		b->abort_pending = 1;
	fh_book_snapshot(b, instr, in, out);
	return 1;
}

int fh_book_pvt_other(struct fh_book *b, const struct fh_event *in, struct fh_event *out)
{
	uint32_t id = in->instrument;
	struct fh_book_instr *ins;

	switch (in->type) {
	case FH_EV_INSTRUMENT:
		if (id >= b->ninstr) {
			b->st.bad_instrument++;
			return 0;
		}
		set_symbol(b->sym[id], in->u.instr.symbol, sizeof(in->u.instr.symbol));
		b->ins[id].named = FH_BOOK_NAMED_DIR;
		return 0;
	case FH_EV_TRADING_STATUS:
		if (id >= b->ninstr) {
			b->st.bad_instrument++;
			return 0;
		}
		ins = &b->ins[id];
		if (in->u.status.halted) {
			if (ins->flags & FH_BOOK_F_HALTED)
				return 0;
			ins->flags = (uint8_t)((ins->flags | FH_BOOK_F_HALTED) &
					       ~(FH_BOOK_F_CROSSED | FH_BOOK_F_LOCKED));
			fh_book_snapshot(b, id, in, out);
			return 1;
		}
		if (!(ins->flags & FH_BOOK_F_HALTED))
			return 0;
		ins->flags &= (uint8_t)~FH_BOOK_F_HALTED;
		/* trading again: a book still crossed from the halt is flagged now */
		return fh_book_pvt_cross(b, id, in, out);
	case FH_EV_FEED_STATUS:
		if (in->u.feed.kind == FH_FEED_GAP) {
			b->st.gaps++;
			b->open_gaps++;
			if (b->src_stale)
				return 0;
			b->src_stale = 1;
			return feed_status(in, out, FH_FEED_STALE, FH_INSTRUMENT_NONE);
		}
		if (in->u.feed.kind == FH_FEED_RECOVERED && b->open_gaps) {
			if (--b->open_gaps || !b->src_stale)
				return 0;
			b->src_stale = 0;
			return feed_status(in, out, FH_FEED_FRESH, FH_INSTRUMENT_NONE);
		}
		return 0;
	default:
		return 0;
	}
}
