/* SPDX-License-Identifier: MIT */
/* fh_fix.c: FIX tag=value decoder: framing, validation, market data -> normalized events. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh_dlq.h"
#include "fh_fix.h"
#include "fh_fix_pvt.h"

static const char *const reject_names[FH_FIX_REJ__COUNT] = {
	[FH_FIX_OK] = "ok",
	[FH_FIX_REJ_BAD_BEGIN_STRING] = "bad_begin_string",
	[FH_FIX_REJ_BAD_BODY_LENGTH] = "bad_body_length",
	[FH_FIX_REJ_BAD_CHECKSUM] = "bad_checksum",
	[FH_FIX_REJ_GARBLED] = "garbled_field",
	[FH_FIX_REJ_MISSING_TAG] = "missing_required_tag",
	[FH_FIX_REJ_OVERSIZE] = "oversize",
	[FH_FIX_REJ_UNSUPPORTED_TYPE] = "unsupported_type",
	[FH_FIX_REJ_TOO_MANY_DECIMALS] = "too_many_decimals",
	[FH_FIX_REJ_BAD_PRICE] = "bad_price",
	[FH_FIX_REJ_BAD_QTY] = "bad_qty",
	[FH_FIX_REJ_BAD_VALUE] = "bad_value",
	[FH_FIX_REJ_BAD_GROUP] = "bad_group_count",
	[FH_FIX_REJ_TOO_MANY_ENTRIES] = "too_many_entries",
	[FH_FIX_REJ_UNKNOWN_SYMBOL] = "unknown_symbol",
	[FH_FIX_REJ_SYMTAB_FULL] = "symbol_table_full",
	[FH_FIX_REJ_SYMBOL_TOO_LONG] = "symbol_too_long",
	[FH_FIX_REJ_TRUNCATED] = "truncated",
};

const char *fh_fix_reject_name(unsigned reason)
{
	return reason < FH_FIX_REJ__COUNT ? reject_names[reason] : "unknown";
}

/* One NoMDEntries (268) entry: pointers into the message until emitted. */
struct __attribute__((aligned(16))) fix_entry {
	const char *sym;
	const char *px;
	const char *qty;
	const char *time60;
	const char *date272;
	const char *time273;
	const char *trade_id;
	uint32_t instrument;
	uint8_t sym_len, px_len, qty_len, time60_len;
	uint8_t date272_len, time273_len, trade_id_len;
	char type[2];   /* 269 */
	char action;    /* 279 as a character, 0 when absent */
	char aggressor; /* 2446 / 54: '1' buy, '2' sell */
	uint8_t has_rpt;
	uint8_t has_level;
	uint8_t own_sym; /* 55 given in this entry */
	uint8_t inexact; /* statistic value with more than 8 decimals */
	uint32_t level;
	uint32_t orders;
	uint64_t rpt;
	int64_t price;
	uint64_t size;
};

#define FIX_DEF_INSTR 1024
#define FIX_DEF_ENTRIES 256
#define FIX_DEF_MSG_LEN 65536

static void fix_defaults(struct fh_fix_cfg *c)
{
	if (!c->max_instruments)
		c->max_instruments = FIX_DEF_INSTR;
	if (!c->max_entries)
		c->max_entries = FIX_DEF_ENTRIES;
	if (!c->max_msg_len)
		c->max_msg_len = FIX_DEF_MSG_LEN;
}

_Static_assert(sizeof(struct fix_entry) % 16 == 0, "zeroed 16 bytes at a time");

static uint32_t fix_slots(uint32_t n)
{
	uint32_t s = 16;
	while (s < 2 * n)
		s <<= 1;
	return s;
}

static size_t fix_mask_words(uint32_t max_msg_len)
{
	return max_msg_len / 64 + 2;
}

size_t fh_fix_memsize(const struct fh_fix_cfg *cfg)
{
	struct fh_fix_cfg c = *cfg;
	fix_defaults(&c);
	return (size_t)c.max_instruments * sizeof(struct fh_fix_instr) +
	       (size_t)fix_slots(c.max_instruments) * sizeof(uint32_t) + 64 +
	       (size_t)c.max_entries * sizeof(struct fix_entry) +
	       2 * fix_mask_words(c.max_msg_len) * sizeof(uint64_t);
}

int fh_fix_init(struct fh_fix_decoder *d, void *mem, const struct fh_fix_cfg *cfg)
{
	struct fh_fix_cfg c = *cfg;

	fix_defaults(&c);
	if (c.qty_decimals > FH_PRICE_DECIMALS || c.max_instruments > (1u << 24) ||
	    c.max_entries > (1u << 16) || !mem)
		return -EINVAL;
	memset(d, 0, sizeof(*d));
	memset(mem, 0, fh_fix_memsize(&c));
	d->cfg = c;
	d->instr = mem;
	d->slots = (uint32_t *)(d->instr + c.max_instruments);
	d->slot_mask = fix_slots(c.max_instruments) - 1;
	d->entries = (void *)(((uintptr_t)(d->slots + d->slot_mask + 1) + 63) & ~(uintptr_t)63);
	d->soh_mask = (uint64_t *)((struct fix_entry *)d->entries + c.max_entries);
	d->eq_mask = d->soh_mask + fix_mask_words(c.max_msg_len);
#if FH_FIX_PVT_HAVE_V3
	__builtin_cpu_init();
	d->x86v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2");
#endif
	return 0;
}

struct fh_fix_decoder *fh_fix_create(const struct fh_fix_cfg *cfg)
{
	struct fh_fix_decoder *d = calloc(1, sizeof(*d));
	void *mem;

	if (!d)
		return NULL;
	mem = aligned_alloc(64, (fh_fix_memsize(cfg) + 63) & ~(size_t)63);
	if (!mem)
		goto out_free_d;
	if (fh_fix_init(d, mem, cfg) < 0)
		goto out_free_mem;
	d->owned = mem;
	return d;
out_free_mem:
	free(mem);
out_free_d:
	free(d);
	return NULL;
}

void fh_fix_destroy(struct fh_fix_decoder *d)
{
	if (!d)
		return;
	free(d->owned);
	free(d);
}

void fh_fix_set_dlq(struct fh_fix_decoder *d, struct fh_dlq *dlq)
{
	d->dlq = dlq;
}

unsigned fh_fix_max_events(const struct fh_fix_decoder *d)
{
	/* per entry: instrument announce, gap + stale or fresh, the update; plus clears */
	return 4 * d->cfg.max_entries + 8;
}

unsigned fh_fix_checksum(const uint8_t *buf, size_t len)
{
	return fh_fix_pvt_sum(buf, len) & 0xff;
}

int fh_fix_parse_decimal(const char *p, size_t len, unsigned decimals, int64_t *out)
{
	if (decimals > FH_PRICE_DECIMALS)
		return -FH_FIX_REJ_BAD_PRICE;
	switch (fh_fix_pvt_decimal(p, len, decimals, out)) {
	case 0:
		return 0;
	case 1:
		return -FH_FIX_REJ_TOO_MANY_DECIMALS;
	default:
		return -FH_FIX_REJ_BAD_PRICE;
	}
}

int fh_fix_parse_utc_ts(const char *p, size_t len, uint64_t *ns)
{
	int64_t days;
	uint64_t tod;

	if (len < 17 || p[8] != '-' || !fh_fix_pvt_date(p, &days) || days < 0 ||
	    !fh_fix_pvt_time(p + 9, len - 9, &tod))
		return -EINVAL;
	*ns = (uint64_t)days * 86400000000000ull + tod;
	return 0;
}

/* ---- symbol table ---- */

static inline uint32_t fix_hash(const char *s, size_t len)
{
	uint64_t k[FH_FIX_SYMBOL_MAX / 8] = { 0 };
	memcpy(k, s, len);
	uint64_t h = (k[0] * 0x9e3779b97f4a7c15ull) ^ (k[1] * 0xc2b2ae3d27d4eb4full) ^
		     (k[2] * 0x165667b19e3779f9ull) ^ (k[3] * 0x27d4eb2f165667c5ull) ^ len;
	return (uint32_t)(h ^ (h >> 29) ^ (h >> 47));
}

long fh_fix_symtab_find(const struct fh_fix_decoder *d, const char *sym, size_t len)
{
	if (len == 0 || len > sizeof(d->instr[0].sym))
		return -ENOENT;
	for (uint32_t i = fix_hash(sym, len) & d->slot_mask;; i = (i + 1) & d->slot_mask) {
		uint32_t s = d->slots[i];
		if (!s)
			return -ENOENT;
		const struct fh_fix_instr *in = &d->instr[s - 1];
		if (in->sym_len == len && !memcmp(in->sym, sym, len))
			return s - 1;
	}
}

long fh_fix_symtab_add(struct fh_fix_decoder *d, const char *sym, size_t len, unsigned qty_decimals)
{
	uint32_t i;

	if (len == 0 || len > sizeof(d->instr[0].sym) || qty_decimals > FH_PRICE_DECIMALS)
		return -EINVAL;
	for (i = fix_hash(sym, len) & d->slot_mask; d->slots[i]; i = (i + 1) & d->slot_mask) {
		const struct fh_fix_instr *in = &d->instr[d->slots[i] - 1];
		if (in->sym_len == len && !memcmp(in->sym, sym, len))
			return d->slots[i] - 1;
	}
	if (d->n_instr >= d->cfg.max_instruments)
		return -ENOSPC;
	struct fh_fix_instr *in = &d->instr[d->n_instr];
	memset(in, 0, sizeof(*in));
	memcpy(in->sym, sym, len);
	in->sym_len = (uint8_t)len;
	in->qty_decimals = (uint8_t)qty_decimals;
	d->slots[i] = ++d->n_instr;
	return d->n_instr - 1;
}

const struct fh_fix_instr *fh_fix_instrument(const struct fh_fix_decoder *d, uint32_t id)
{
	return id < d->n_instr ? &d->instr[id] : NULL;
}

/* ---- framing ---- */

static inline bool fix_begin_ok(const uint8_t *p, size_t n, uint8_t *ver)
{
	/* p: BeginString value, n its length; 8 bytes at p are readable (the
	 * callers checked 16 bytes, or the 7-byte trailer follows). */
	uint64_t x;

	memcpy(&x, p, 8);
	if (n == 8 && x == 0x312e312e54584946ull) { /* "FIXT.1.1" */
		*ver = FH_FIX_VT11;
		return true;
	}
	x &= 0x00ffffffffffffffull;
	if (n == 7 && (x & 0x0000ffffffffffffull) == 0x00002e342e584946ull && /* "FIX.4." */
	    p[6] >= '0' && p[6] <= '4') {
		*ver = (uint8_t)(FH_FIX_V40 + (p[6] - '0'));
		return true;
	}
	if (n == 7 && x == 0x00302e352e584946ull) { /* "FIX.5.0" */
		*ver = FH_FIX_V50;
		return true;
	}
	return false;
}

/* Offset of the next "8=FIX" after buf[from], or len - 4 (keep a possible prefix). */
static size_t fix_resync(const uint8_t *buf, size_t len, size_t from)
{
	for (size_t i = from; i + 5 <= len; i++) {
		const uint8_t *q = memchr(buf + i, '8', len - i);
		if (!q)
			break;
		i = (size_t)(q - buf);
		/* not preceded by a digit: "58=FIX..." is a Text field, not a start */
		if (i + 5 <= len && !memcmp(q, "8=FIX", 5) &&
		    (i == 0 || (unsigned)buf[i - 1] - '0' > 9))
			return i;
	}
	return len > 4 && len - 4 > from ? len - 4 : (from < len ? len : from);
}

long fh_fix_frame(const uint8_t *buf, size_t len, uint32_t max_msg_len, size_t *skip)
{
	size_t s = 0;

	if (!max_msg_len)
		max_msg_len = FIX_DEF_MSG_LEN;
	while (s < len && (buf[s] == '\r' || buf[s] == '\n' || buf[s] == ' '))
		s++;
	*skip = s;
	buf += s;
	len -= s;
	if (len < 2)
		return 0;
	if (buf[0] != '8' || buf[1] != '=')
		goto bad_begin;
	/* 8=<value><SOH>9=<digits><SOH> */
	size_t i = 2;
	if (len < 16) {
		/* too short to tell yet, unless it is already wrong */
		while (i < len && buf[i] != FH_FIX_SOH)
			i++;
		if (i >= len || i < 9)
			return i < 9 && i < len ? (*skip = s + fix_resync(buf, len, 1),
						   -FH_FIX_REJ_BAD_BEGIN_STRING) : 0;
	} else {
		i = buf[9] == FH_FIX_SOH ? 9 : buf[10] == FH_FIX_SOH ? 10 : 0;
	}
	uint8_t ver;
	if (i < 9 || !fix_begin_ok(buf + 2, i - 2, &ver))
		goto bad_begin;
	i++;
	if (i + 2 > len)
		return 0;
	if (buf[i] != '9' || buf[i + 1] != '=')
		goto bad_len;
	i += 2;
	uint64_t body = 0;
	size_t d0 = i;
	while (i < len && buf[i] >= '0' && buf[i] <= '9' && i - d0 < 10)
		body = body * 10 + (buf[i++] - '0');
	if (i >= len)
		return i - d0 < 10 ? 0 : (*skip = s + fix_resync(buf, len, 1), -FH_FIX_REJ_BAD_BODY_LENGTH);
	if (i == d0 || buf[i] != FH_FIX_SOH)
		goto bad_len;
	i++;
	uint64_t total = i + body + 7;
	if (total > max_msg_len) {
		*skip = s + fix_resync(buf, len, 1);
		return -FH_FIX_REJ_OVERSIZE;
	}
	if (total > len) {
		/* A message starting before the declared end means a wrong BodyLength,
		 * not a slow sender: "<SOH>8=FIX" is never valid inside a body. */
		if (memmem(buf + i, len - i, "\0018=FIX", 6))
			goto bad_len;
		return 0;
	}
	const uint8_t *t = buf + i + body;
	if (body == 0 || t[-1] != FH_FIX_SOH || memcmp(t, "10=", 3) || t[6] != FH_FIX_SOH)
		goto bad_len;
	return (long)total;
bad_begin:
	*skip = s + fix_resync(buf, len, 1);
	return -FH_FIX_REJ_BAD_BEGIN_STRING;
bad_len:
	*skip = s + fix_resync(buf, len, 1);
	return -FH_FIX_REJ_BAD_BODY_LENGTH;
}

int fh_fix_peek(const uint8_t *buf, size_t len, struct fh_fix_msg *m)
{
	const uint8_t *p = buf, *end = buf + len;
	bool have_type = false;

	memset(m, 0, sizeof(*m));
	m->buf = buf;
	m->len = (uint32_t)(len > UINT32_MAX ? UINT32_MAX : len);
	while (p < end) {
		const uint8_t *eq = memchr(p, '=', (size_t)(end - p));
		if (!eq)
			return -FH_FIX_REJ_GARBLED;
		const uint8_t *v = eq + 1;
		const uint8_t *so = memchr(v, FH_FIX_SOH, (size_t)(end - v));
		if (!so)
			return -FH_FIX_REJ_GARBLED;
		uint64_t tag;
		if (!fh_fix_pvt_u64((const char *)p, (size_t)(eq - p), &tag))
			return -FH_FIX_REJ_GARBLED;
		size_t vl = (size_t)(so - v);
		switch (tag) {
		case 35:
			if (vl == 0 || vl > 2)
				return -FH_FIX_REJ_GARBLED;
			m->type[0] = (char)v[0];
			m->type[1] = vl == 2 ? (char)v[1] : 0;
			have_type = true;
			break;
		case 34:
			if (!fh_fix_pvt_u64((const char *)v, vl, &m->seq_num))
				return -FH_FIX_REJ_GARBLED;
			break;
		case 43:
			m->poss_dup = vl && v[0] == 'Y';
			break;
		case 123:
			m->gap_fill = vl && v[0] == 'Y';
			break;
		case 36:
			if (!fh_fix_pvt_u64((const char *)v, vl, &m->new_seq_no))
				return -FH_FIX_REJ_GARBLED;
			break;
		default:
			break;
		}
		p = so + 1;
	}
	return have_type ? 0 : -FH_FIX_REJ_MISSING_TAG;
}

/* ---- decoding ---- */

static FH_COLD int fix_reject(struct fh_fix_decoder *d, int reason, struct fh_fix_msg *m,
			      uint32_t tag, const uint8_t *buf, size_t len, uint64_t recv_ts_ns)
{
	d->rejects[reason]++;
	m->reject_tag = tag;
	if (d->dlq) {
		char sess[FH_DLQ_SESSION_LEN + 1] = { 0 };
		if (m->sender.len)
			memcpy(sess, m->sender.p,
			       m->sender.len < FH_DLQ_SESSION_LEN ? m->sender.len : FH_DLQ_SESSION_LEN);
		fh_dlq_write(d->dlq, d->cfg.source_id, sess[0] ? sess : NULL, m->seq_num,
			     recv_ts_ns, reject_names[reason], buf, len);
	}
	return -reason;
}

int fh_fix_reject_bytes(struct fh_fix_decoder *d, int reason, const uint8_t *buf, size_t len,
			uint64_t recv_ts_ns)
{
	struct fh_fix_msg m;

	if (reason <= 0 || reason >= FH_FIX_REJ__COUNT)
		reason = FH_FIX_REJ_GARBLED;
	memset(&m, 0, sizeof(m));
	return fix_reject(d, reason, &m, 0, buf, len, recv_ts_ns);
}

static FH_COLD void fix_inexact(struct fh_fix_decoder *d, const struct fh_fix_msg *m, uint32_t n,
				 uint64_t recv_ts_ns)
{
	d->stat_inexact += n;
	if (d->dlq)
		fh_dlq_write(d->dlq, d->cfg.source_id, NULL, m->seq_num ? m->seq_num : m->appl_seq,
			     recv_ts_ns, "stat_inexact_value", m->buf, m->len);
}

/* Message types and the tag each requires (0: none beyond the header). */
enum fix_kind {
	K_IGNORE, /* known, well-formed, no event */
	K_W, K_X, K_SECDEF, K_SECLIST, K_STATUS,
};

static inline bool fix_ok_str(const char *p, uint32_t len)
{
	return p && len;
}

/* Resolves an entry's instrument; adds unknown symbols when allowed. */
static inline int fix_resolve(struct fh_fix_decoder *d, const char *sym, uint32_t len,
			      uint32_t *id, const char **last_sym, uint32_t *last_len,
			      uint32_t *last_id)
{
	if (*last_sym && len == *last_len && (sym == *last_sym || !memcmp(sym, *last_sym, len))) {
		*id = *last_id;
		return 0;
	}
	if (fh_unlikely(len > sizeof(d->instr[0].sym)))
		return -FH_FIX_REJ_SYMBOL_TOO_LONG;
	long r = fh_fix_symtab_find(d, sym, len);
	if (r < 0) {
		if (!d->cfg.auto_add)
			return -FH_FIX_REJ_UNKNOWN_SYMBOL;
		r = fh_fix_symtab_add(d, sym, len, d->cfg.qty_decimals);
		if (r < 0)
			return -FH_FIX_REJ_SYMTAB_FULL;
	}
	*id = (uint32_t)r;
	*last_sym = sym;
	*last_len = len;
	*last_id = (uint32_t)r;
	return 0;
}

static inline void fix_hdr(struct fh_event *ev, unsigned type, const struct fh_fix_decoder *d,
			   uint32_t instr, uint64_t seq, uint64_t ts, uint64_t recv)
{
	fh_event_init(ev, type);
	ev->source_id = d->cfg.source_id;
	ev->instrument = instr;
	ev->seq = seq;
	ev->exch_ts_ns = ts;
	ev->recv_ts_ns = recv;
}

static inline void fix_instr_event(const struct fh_fix_decoder *d, struct fh_event *ev, uint32_t id,
				   uint64_t seq, uint64_t ts, uint64_t recv)
{
	const struct fh_fix_instr *in = &d->instr[id];
	fix_hdr(ev, FH_EV_INSTRUMENT, d, id, seq, ts, recv);
	memcpy(ev->u.instr.symbol, in->sym,
	       in->sym_len < sizeof(ev->u.instr.symbol) ? in->sym_len : sizeof(ev->u.instr.symbol));
	ev->u.instr.qty_decimals = in->qty_decimals;
}

static inline void fix_feed_event(const struct fh_fix_decoder *d, const struct fh_fix_msg *m,
				  struct fh_event *ev, uint8_t kind, uint32_t id, uint64_t first,
				  uint64_t last, uint64_t seq, uint64_t ts, uint64_t recv)
{
	fix_hdr(ev, FH_EV_FEED_STATUS, d, id, seq, ts, recv);
	ev->u.feed.kind = kind;
	if (m->sender.len)
		memcpy(ev->u.feed.session, m->sender.p,
		       m->sender.len < sizeof(ev->u.feed.session) ? m->sender.len
								    : sizeof(ev->u.feed.session));
	ev->u.feed.first_seq = first;
	ev->u.feed.last_seq = last;
}

/* UTCTimestamp with the day number of its date cached: venues repeat it. */
static inline bool fix_ts(struct fh_fix_decoder *d, const char *p, size_t len, uint64_t *ns,
			  int64_t *days_out)
{
	uint64_t date8, tod;
	int64_t days;

	if (fh_unlikely(len < 17 || p[8] != '-'))
		return false;
	memcpy(&date8, p, 8);
	if (fh_likely(date8 == d->ts_date8)) {
		days = d->ts_days;
	} else {
		if (!fh_fix_pvt_date(p, &days) || days < 0)
			return false;
		d->ts_date8 = date8;
		d->ts_days = days;
	}
	if (!fh_fix_pvt_time(p + 9, len - 9, &tod))
		return false;
	*ns = (uint64_t)days * 86400000000000ull + tod;
	if (days_out)
		*days_out = days;
	return true;
}

/* Entry time: 60, else 272/273 (date of 52 when 272 is absent), else 52. */
static inline uint64_t fix_entry_ts(struct fh_fix_decoder *d, const struct fix_entry *e,
				    const struct fh_fix_msg *m, int64_t st_days)
{
	uint64_t ns, tod;
	int64_t days;

	if (e->time60 && fix_ts(d, e->time60, e->time60_len, &ns, NULL))
		return ns;
	if (e->time273 && fh_fix_pvt_time(e->time273, e->time273_len, &tod)) {
		if (e->date272 && e->date272_len == 8 && fh_fix_pvt_date(e->date272, &days) && days >= 0)
			return (uint64_t)days * 86400000000000ull + tod;
		if (st_days >= 0)
			return (uint64_t)st_days * 86400000000000ull + tod;
		return tod;
	}
	return m->sending_time_ns;
}

static inline uint8_t fix_side(const char *t)
{
	return t[1] ? 0 : t[0] == '0' ? FH_SIDE_BID : t[0] == '1' ? FH_SIDE_ASK : 0;
}

/*
 * The decoder body, compiled twice (see fh_fix_decode()): `x86v3` selects
 * the AVX2 index at compile time in the copy built for AVX2 + BMI2.
 */
static FH_ALWAYS_INLINE int fix_decode(struct fh_fix_decoder *d, const uint8_t *buf, size_t len,
				       uint64_t recv_ts_ns, struct fh_fix_msg *m,
				       struct fh_event *out, unsigned cap, const bool x86v3)
{
	const uint8_t *p, *end, *v;
	uint32_t tag = 0, vlen;
	int r = 0;

	fh_fix_pvt_zero16(m, sizeof(*m));
	m->buf = buf;
	m->len = (uint32_t)(len > UINT32_MAX ? UINT32_MAX : len);
	if (fh_unlikely(len > d->cfg.max_msg_len))
		return fix_reject(d, FH_FIX_REJ_OVERSIZE, m, 0, buf, len, recv_ts_ns);
	/* Smallest: 8=FIX.4.x|9=5|35=0|10=nnn| */
	if (fh_unlikely(len < 26 || buf[0] != '8' || buf[1] != '='))
		return fix_reject(d, len < 26 && len >= 2 && buf[0] == '8' && buf[1] == '='
					     ? FH_FIX_REJ_TRUNCATED : FH_FIX_REJ_BAD_BEGIN_STRING,
				  m, 8, buf, len, recv_ts_ns);

	/* Trailer first: every later 8-byte read stays in the buffer because of it. */
	const uint8_t *t = buf + len - 7;
	if (fh_unlikely(t[-1] != FH_FIX_SOH || memcmp(t, "10=", 3) || buf[len - 1] != FH_FIX_SOH)) {
		const uint8_t *q = memmem(buf, len, "\00110=", 4);
		/* "10=" present but cut short: truncated; present and malformed: bad checksum */
		return fix_reject(d, q && (size_t)(buf + len - q) >= 8 ? FH_FIX_REJ_BAD_CHECKSUM
								 : FH_FIX_REJ_TRUNCATED,
				  m, 10, buf, len, recv_ts_ns);
	}
	/* One SIMD pass: SOH and '=' bitmaps, and the byte sum for CheckSum. */
	uint64_t *sohm = d->soh_mask, *eqm = d->eq_mask;
	uint32_t sum;
#if FH_FIX_PVT_HAVE_V3
	if (x86v3)
		sum = (uint32_t)fh_fix_pvt_index_v3(buf, len, sohm, eqm);
	else
#endif
		sum = (uint32_t)fh_fix_pvt_index(buf, len, sohm, eqm);
	(void)x86v3;
	size_t pos = fh_fix_pvt_next(sohm, 2), sp;
	if (fh_unlikely(pos > 16 || !fix_begin_ok(buf + 2, pos - 2, &m->version)))
		return fix_reject(d, FH_FIX_REJ_BAD_BEGIN_STRING, m, 8, buf, len, recv_ts_ns);
	pos++;
	if (fh_unlikely(buf[pos] != '9' || buf[pos + 1] != '='))
		return fix_reject(d, FH_FIX_REJ_BAD_BODY_LENGTH, m, 9, buf, len, recv_ts_ns);
	pos += 2;
	sp = fh_fix_pvt_next(sohm, pos);
	uint64_t body;
	if (fh_unlikely(sp == pos ||
			!(sp - pos <= 8 ? fh_fix_pvt_digits8(buf + pos, sp - pos, &body)
					: fh_fix_pvt_u64((const char *)buf + pos, sp - pos, &body))))
		return fix_reject(d, FH_FIX_REJ_BAD_BODY_LENGTH, m, 9, buf, len, recv_ts_ns);
	pos = sp + 1;
	end = buf + pos + body;
	if (fh_unlikely(body > len || end != t))
		return fix_reject(d, FH_FIX_REJ_BAD_BODY_LENGTH, m, 9, buf, len, recv_ts_ns);
	{
		unsigned c0 = t[3] - '0', c1 = t[4] - '0', c2 = t[5] - '0';
		/* the sum covers the trailer too: take its bytes back out */
		sum -= '1' + '0' + '=' + t[3] + t[4] + t[5] + FH_FIX_SOH;
		if (fh_unlikely(c0 > 9 || c1 > 9 || c2 > 9 || c0 * 100 + c1 * 10 + c2 != (sum & 0xff)))
			return fix_reject(d, FH_FIX_REJ_BAD_CHECKSUM, m, 10, buf, len, recv_ts_ns);
	}

	/* 35 must come third. */
	p = buf + pos;
	if (fh_unlikely(p[0] != '3' || p[1] != '5' || p[2] != '='))
		return fix_reject(d, FH_FIX_REJ_MISSING_TAG, m, 35, buf, len, recv_ts_ns);
	v = p + 3;
	sp = fh_fix_pvt_next(sohm, pos + 3);
	vlen = (uint32_t)(sp - pos - 3);
	if (fh_unlikely(vlen == 0 || vlen > 2))
		return fix_reject(d, vlen ? FH_FIX_REJ_UNSUPPORTED_TYPE : FH_FIX_REJ_GARBLED, m, 35,
				  buf, len, recv_ts_ns);
	m->type[0] = (char)v[0];
	m->type[1] = vlen == 2 ? (char)v[1] : 0;
	pos = sp + 1;

	enum fix_kind kind = K_IGNORE;
	uint32_t need = 0, need2 = 0; /* tags the type requires */
	if (vlen == 1) {
		switch (v[0]) {
		case '0': case '5': break;
		case '1': need = 112; break;
		case '2': need = 7; need2 = 16; break;
		case '3': need = 45; break;
		case '4': need = 36; break;
		case 'A': need = 98; need2 = 108; break;
		case 'W': kind = K_W; need = 268; break;
		case 'X': kind = K_X; need = 268; break;
		case 'V': need = 262; need2 = 263; break;
		case 'Y': need = 262; break;
		case 'd': kind = K_SECDEF; break;
		case 'y': kind = K_SECLIST; break;
		case 'f': kind = K_STATUS; break;
		case 'B': need = 148; break;
		case 'x': need = 320; need2 = 559; break;
		case 'c': need = 320; break;
		case 'j': need = 45; break;
		case 'h': need = 340; break;
		case 'e': case 'g': break;
		default:
			return fix_reject(d, FH_FIX_REJ_UNSUPPORTED_TYPE, m, 35, buf, len, recv_ts_ns);
		}
	} else {
		return fix_reject(d, FH_FIX_REJ_UNSUPPORTED_TYPE, m, 35, buf, len, recv_ts_ns);
	}

	/* Pass 1: every field, syntax checked; entries recorded as pointers. */
	struct fix_entry *ents = d->entries, *e = NULL;
	uint32_t n_ent = 0, delim = 0, data_tag = 0, data_len = 0;
	bool in_group = false, seen_need = !need, seen_need2 = !need2;
	bool has_34 = false, has_49 = false, has_56 = false, has_52 = false;
	const char *msg_sym = NULL, *st = NULL;
	uint32_t msg_sym_len = 0, st_len = 0;
	uint64_t msg_rpt = 0;
	bool has_msg_rpt = false;
	uint64_t status = UINT64_MAX;
	const char *list_sym[8];
	uint32_t list_sym_len[8], n_list = 0;

	const size_t endpos = (size_t)(end - buf);
	bool want_delim = false;
	/*
	 * Fields end at the SOH bits, popped one by one: the loop-carried chain
	 * is a blsr + tzcnt, not a dependent scan; the '=' of each field is found
	 * from its start, off that chain.
	 */
	size_t mw = pos >> 6;
	uint64_t mbits = sohm[mw] & (~0ull << (pos & 63));
	while (pos < endpos) {
		while (!mbits)
			mbits = sohm[++mw];
		sp = (mw << 6) + (size_t)__builtin_ctzll(mbits);
		mbits &= mbits - 1;
		size_t ep = fh_fix_pvt_next(eqm, pos);
		uint64_t tg;
		if (fh_unlikely(ep >= sp || ep == pos || ep - pos > 8 || buf[pos] == '0' ||
				!fh_fix_pvt_digits8(buf + pos, ep - pos, &tg))) {
			size_t te = ep < sp ? ep : sp;
			tag = 0;
			if (te > pos && te - pos <= 9 && fh_fix_pvt_u64((const char *)buf + pos, te - pos, &tg))
				tag = (uint32_t)tg;
			goto garbled;
		}
		tag = (uint32_t)tg;
		v = buf + ep + 1;
		if (fh_unlikely(tag == data_tag && data_tag)) {
			/* Raw data field: exactly the length announced before; may hold SOH. */
			if ((size_t)(end - v) <= data_len || v[data_len] != FH_FIX_SOH)
				goto garbled;
			sp = ep + 1 + data_len;
			data_tag = 0;
			mw = (sp + 1) >> 6;
			mbits = sohm[mw] & (~0ull << ((sp + 1) & 63));
		}
		vlen = (uint32_t)(sp - ep - 1);
		pos = sp + 1;
		if (fh_unlikely(vlen == 0))
			goto garbled;
		if (fh_unlikely(want_delim)) {
			/* The first tag of a repeating group is its delimiter. */
			delim = tag;
			want_delim = false;
			e = NULL;
		}
		const char *s = (const char *)v;

		if (tag == need)
			seen_need = true;
		else if (tag == need2)
			seen_need2 = true;

		if (in_group) {
			if (tag == delim) {
				if (fh_unlikely(n_ent >= d->cfg.max_entries)) {
					r = FH_FIX_REJ_TOO_MANY_ENTRIES;
					goto reject;
				}
				const struct fix_entry *prev = e;
				e = &ents[n_ent++];
				fh_fix_pvt_zero16(e, sizeof(*e));
				if (prev) {
					e->sym = prev->sym;
					e->sym_len = prev->sym_len;
				} else {
					e->sym = msg_sym;
					e->sym_len = (uint8_t)msg_sym_len;
				}
			}
			switch (tag) {
			case 279:
				if (fh_unlikely(vlen != 1))
					goto bad_value;
				e->action = s[0];
				continue;
			case 269:
				if (fh_unlikely(vlen > 2))
					goto bad_value;
				e->type[0] = s[0];
				e->type[1] = vlen == 2 ? s[1] : 0;
				continue;
			case 270:
				if (fh_unlikely(vlen > 255))
					goto bad_price;
				e->px = s;
				e->px_len = (uint8_t)vlen;
				continue;
			case 271:
				if (fh_unlikely(vlen > 255)) {
					r = FH_FIX_REJ_BAD_QTY;
					goto reject;
				}
				e->qty = s;
				e->qty_len = (uint8_t)vlen;
				continue;
			case 55:
			case 48:
				/* 55 wins over 48 when an entry has both */
				if (tag == 48 && e->own_sym)
					continue;
				if (fh_unlikely(vlen > 255)) {
					r = FH_FIX_REJ_SYMBOL_TOO_LONG;
					goto reject;
				}
				e->sym = s;
				e->sym_len = (uint8_t)vlen;
				e->own_sym = tag == 55;
				continue;
			case 83:
				if (fh_unlikely(!fh_fix_pvt_u64(s, vlen, &e->rpt)))
					goto bad_value;
				e->has_rpt = 1;
				continue;
			case 1023: {
				uint64_t lv;
				if (fh_unlikely(!fh_fix_pvt_u64(s, vlen, &lv) || lv > 0xffff))
					goto bad_value;
				e->level = (uint32_t)lv;
				e->has_level = 1;
				continue;
			}
			case 346: {
				uint64_t o;
				if (fh_unlikely(!fh_fix_pvt_u64(s, vlen, &o) || o > UINT32_MAX))
					goto bad_value;
				e->orders = (uint32_t)o;
				continue;
			}
			case 60:
				e->time60 = s;
				e->time60_len = (uint8_t)(vlen > 255 ? 255 : vlen);
				continue;
			case 272:
				e->date272 = s;
				e->date272_len = (uint8_t)(vlen > 255 ? 255 : vlen);
				continue;
			case 273:
				e->time273 = s;
				e->time273_len = (uint8_t)(vlen > 255 ? 255 : vlen);
				continue;
			case 1003:
				e->trade_id = s;
				e->trade_id_len = (uint8_t)(vlen > 255 ? 255 : vlen);
				continue;
			case 2446:
			case 54:
				e->aggressor = s[0];
				continue;
			case 10:
				goto garbled;
			default:
				continue;
			}
		}

		switch (tag) {
		case 34:
			if (fh_unlikely(!fh_fix_pvt_u64(s, vlen, &m->seq_num)))
				goto bad_value;
			has_34 = true;
			break;
		case 49:
			m->sender.p = s;
			m->sender.len = vlen;
			has_49 = true;
			break;
		case 56:
			m->target.p = s;
			m->target.len = vlen;
			has_56 = true;
			break;
		case 52:
			st = s;
			st_len = vlen;
			has_52 = true;
			break;
		case 43:
			m->poss_dup = s[0] == 'Y';
			break;
		case 97:
			m->poss_resend = s[0] == 'Y';
			break;
		case 122:
			m->orig_sending_time.p = s;
			m->orig_sending_time.len = vlen;
			break;
		case 1181:
			if (fh_unlikely(!fh_fix_pvt_u64(s, vlen, &m->appl_seq)))
				goto bad_value;
			break;
		case 268: {
			uint64_t n;
			if (fh_unlikely(!fh_fix_pvt_u64(s, vlen, &n)))
				goto bad_value;
			if (fh_unlikely(n > d->cfg.max_entries)) {
				r = FH_FIX_REJ_TOO_MANY_ENTRIES;
				goto reject;
			}
			m->entries = (uint32_t)n;
			if (kind == K_W || kind == K_X) {
				in_group = n > 0;
				want_delim = in_group;
			}
			break;
		}
		case 55:
		case 48:
			if (tag == 48 && msg_sym)
				break;
			if (kind == K_SECLIST && tag == 55) {
				if (n_list < FH_ARRAY_SIZE(list_sym)) {
					list_sym[n_list] = s;
					list_sym_len[n_list++] = vlen;
				}
				break;
			}
			msg_sym = s;
			msg_sym_len = vlen;
			if (fh_unlikely(vlen > 255)) {
				r = FH_FIX_REJ_SYMBOL_TOO_LONG;
				goto reject;
			}
			break;
		case 83:
			if (fh_unlikely(!fh_fix_pvt_u64(s, vlen, &msg_rpt)))
				goto bad_value;
			has_msg_rpt = true;
			break;
		case 326:
			if (fh_unlikely(!fh_fix_pvt_u64(s, vlen, &status)))
				goto bad_value;
			break;
		case 108: {
			uint64_t hb;
			if (fh_unlikely(!fh_fix_pvt_u64(s, vlen, &hb) || hb > 86400))
				goto bad_value;
			m->heart_bt_int = (uint32_t)hb;
			break;
		}
		case 112:
			m->test_req_id.p = s;
			m->test_req_id.len = vlen;
			break;
		case 58:
			m->text.p = s;
			m->text.len = vlen;
			break;
		case 262:
			m->md_req_id.p = s;
			m->md_req_id.len = vlen;
			break;
		case 7:
			if (fh_unlikely(!fh_fix_pvt_u64(s, vlen, &m->begin_seq_no)))
				goto bad_value;
			break;
		case 16:
			if (fh_unlikely(!fh_fix_pvt_u64(s, vlen, &m->end_seq_no)))
				goto bad_value;
			break;
		case 36:
			if (fh_unlikely(!fh_fix_pvt_u64(s, vlen, &m->new_seq_no)))
				goto bad_value;
			break;
		case 45:
			if (fh_unlikely(!fh_fix_pvt_u64(s, vlen, &m->ref_seq_num)))
				goto bad_value;
			break;
		case 123:
			m->gap_fill = s[0] == 'Y';
			break;
		case 141:
			m->reset_seq = s[0] == 'Y';
			break;
		/* Length fields announcing a raw data field that may contain SOH. */
		case 90: case 93: case 95: case 212: case 348: case 350: case 352:
		case 354: case 356: case 358: case 360: case 362: case 364: case 445:
		case 618: case 621: {
			uint64_t n;
			if (fh_unlikely(!fh_fix_pvt_u64(s, vlen, &n) || n > d->cfg.max_msg_len))
				goto bad_value;
			data_tag = tag == 93 ? 89 : tag + 1;
			data_len = (uint32_t)n;
			break;
		}
		case 10:
			goto garbled; /* a second trailer inside the body */
		default:
			break;
		}
	}

	if (fh_unlikely(!seen_need || !seen_need2)) {
		tag = !seen_need ? need : need2;
		r = FH_FIX_REJ_MISSING_TAG;
		goto reject;
	}
	if (d->cfg.require_header && fh_unlikely(!has_34 || !has_49 || !has_56 || !has_52)) {
		tag = !has_34 ? 34 : !has_49 ? 49 : !has_56 ? 56 : 52;
		r = FH_FIX_REJ_MISSING_TAG;
		goto reject;
	}
	m->sending_time.p = st;
	m->sending_time.len = st_len;
	if (kind == K_IGNORE) {
		d->msgs++;
		return 0;
	}

	uint64_t seq = m->seq_num ? m->seq_num : m->appl_seq;
	unsigned n_ev = 0;
	const char *last_sym = NULL;
	uint32_t last_len = 0, last_id = 0;
	int64_t st_days = -1;

	if (has_52 && !fix_ts(d, st, st_len, &m->sending_time_ns, &st_days))
		m->sending_time_ns = 0;
	if (kind == K_SECDEF || kind == K_STATUS || kind == K_SECLIST) {
		uint32_t ids[8], n_ids = 0;
		if (kind != K_SECLIST) {
			if (!msg_sym) {
				tag = 55;
				r = FH_FIX_REJ_MISSING_TAG;
				goto reject;
			}
			list_sym[0] = msg_sym;
			list_sym_len[0] = msg_sym_len;
			n_list = 1;
		}
		if (n_list > cap) {
			r = FH_FIX_REJ_TOO_MANY_ENTRIES;
			goto reject;
		}
		for (uint32_t i = 0; i < n_list; i++) {
			r = fix_resolve(d, list_sym[i], list_sym_len[i], &ids[n_ids++], &last_sym,
					&last_len, &last_id);
			if (r < 0) {
				r = -r;
				tag = 55;
				goto reject;
			}
		}
		for (uint32_t i = 0; i < n_ids; i++) {
			if (kind == K_STATUS) {
				struct fh_ev_trading_status *ts = &out[n_ev].u.status;
				fix_hdr(&out[n_ev], FH_EV_TRADING_STATUS, d, ids[i], seq,
					m->sending_time_ns, recv_ts_ns);
				ts->msg_type = 'f';
				/* 326: 2 halt, 18 not available -> halted; 3 resume, 17 ready -> trading */
				switch (status) {
				case 2: case 18: ts->state = 'H'; ts->halted = 1; break;
				case 3: case 17: ts->state = 'T'; break;
				case 21: ts->state = 'Q'; break;
				default: ts->state = 0; break;
				}
				n_ev++;
			} else {
				fix_instr_event(d, &out[n_ev++], ids[i], seq, m->sending_time_ns, recv_ts_ns);
			}
		}
		d->msgs++;
		d->events += n_ev;
		return (int)n_ev;
	}

	/* Market data. */
	if (fh_unlikely(n_ent != m->entries)) {
		tag = 268;
		r = FH_FIX_REJ_BAD_GROUP;
		goto reject;
	}
	if (fh_unlikely((size_t)n_ent * 4 + 2 > cap)) {
		tag = 268;
		r = FH_FIX_REJ_TOO_MANY_ENTRIES;
		goto reject;
	}
	/* Pass 2a: required tags, numbers, instruments; no side effect but symbol adds. */
	uint32_t inexact = 0;
	for (uint32_t i = 0; i < n_ent; i++) {
		e = &ents[i];
		if (fh_unlikely(!e->type[0])) {
			tag = 269;
			r = FH_FIX_REJ_MISSING_TAG;
			goto reject;
		}
		if (kind == K_X) {
			if (fh_unlikely(!e->action)) {
				tag = 279;
				r = FH_FIX_REJ_MISSING_TAG;
				goto reject;
			}
			if (fh_unlikely(e->action != '0' && e->action != '1' && e->action != '2' &&
					e->action != '5')) {
				tag = 279;
				goto bad_value;
			}
		}
		if (fh_unlikely(!fix_ok_str(e->sym, e->sym_len))) {
			tag = 55;
			r = FH_FIX_REJ_MISSING_TAG;
			goto reject;
		}
		r = fix_resolve(d, e->sym, e->sym_len, &e->instrument, &last_sym, &last_len, &last_id);
		if (fh_unlikely(r < 0)) {
			r = -r;
			tag = 55;
			goto reject;
		}
		bool book = !e->type[1] && (e->type[0] == '0' || e->type[0] == '1');
		bool trade = kind == K_X && !e->type[1] && e->type[0] == '2' && e->action != '2';
		e->price = FH_PRICE_NONE;
		if (e->px) {
			int pr = fh_fix_pvt_decimal(e->px, e->px_len, FH_PRICE_DECIMALS, &e->price);
			if (pr == 1 && !book && !trade) {
				/* A statistic (index value, open, ...) that fixed point cannot
				 * hold exactly: published without a value, counted and kept
				 * in the dead-letter sink; never rounded. */
				e->price = FH_PRICE_NONE;
				e->inexact = 1;
				inexact++;
			} else if (fh_unlikely(pr)) {
				tag = 270;
				r = pr == 1 ? FH_FIX_REJ_TOO_MANY_DECIMALS : FH_FIX_REJ_BAD_PRICE;
				goto reject;
			}
		} else if (book && !(kind == K_X && e->action == '2' && e->has_level)) {
			/* a price level is named by its price, or (delete) by its level */
			tag = 270;
			r = FH_FIX_REJ_MISSING_TAG;
			goto reject;
		}
		e->size = 0;
		if (e->qty) {
			int64_t q;
			int qr = fh_fix_pvt_decimal(e->qty, e->qty_len, d->instr[e->instrument].qty_decimals, &q);
			if (fh_unlikely(qr || q < 0)) {
				tag = 271;
				r = qr == 1 ? FH_FIX_REJ_TOO_MANY_DECIMALS : FH_FIX_REJ_BAD_QTY;
				goto reject;
			}
			e->size = (uint64_t)q;
		}
	}

	/* Pass 2b: events, RptSeq state. Cannot fail from here on. */
	if (kind == K_W) {
		uint32_t id;
		if (n_ent)
			id = ents[0].instrument;
		else {
			if (!msg_sym) {
				tag = 55;
				r = FH_FIX_REJ_MISSING_TAG;
				goto reject;
			}
			r = fix_resolve(d, msg_sym, msg_sym_len, &id, &last_sym, &last_len, &last_id);
			if (r < 0) {
				r = -r;
				tag = 55;
				goto reject;
			}
		}
		struct fh_fix_instr *in = &d->instr[id];
		if (!in->announced) {
			in->announced = 1;
			fix_instr_event(d, &out[n_ev++], id, seq, m->sending_time_ns, recv_ts_ns);
		}
		if (has_msg_rpt) {
			in->rptseq = msg_rpt;
			in->has_rptseq = 1;
		}
		if (in->stale) {
			in->stale = 0;
			fix_feed_event(d, m, &out[n_ev++], FH_FEED_FRESH, id, seq, seq, seq,
				       m->sending_time_ns, recv_ts_ns);
		}
		fix_hdr(&out[n_ev], FH_EV_L2_UPDATE, d, id, seq, m->sending_time_ns, recv_ts_ns);
		out[n_ev].u.l2.price = FH_PRICE_NONE;
		out[n_ev].u.l2.action = FH_L2_CLEAR;
		out[n_ev].u.l2.flags = FH_L2_F_SNAPSHOT;
		n_ev++;
	}
	int last_l2 = kind == K_W ? (int)n_ev - 1 : -1;
	for (uint32_t i = 0; i < n_ent; i++) {
		e = &ents[i];
		struct fh_fix_instr *in = &d->instr[e->instrument];
		uint64_t ts = fix_entry_ts(d, e, m, st_days);
		if (!in->announced) {
			in->announced = 1;
			fix_instr_event(d, &out[n_ev++], e->instrument, seq, ts, recv_ts_ns);
		}
		if (e->has_rpt) {
			if (kind == K_W || !in->has_rptseq) {
				in->rptseq = e->rpt;
				in->has_rptseq = 1;
			} else if (fh_unlikely(e->rpt > in->rptseq + 1)) {
				d->rptseq_gaps++;
				fix_feed_event(d, m, &out[n_ev++], FH_FEED_GAP, e->instrument,
					       in->rptseq + 1, e->rpt - 1, seq, ts, recv_ts_ns);
				if (!in->stale) {
					in->stale = 1;
					fix_feed_event(d, m, &out[n_ev++], FH_FEED_STALE, e->instrument,
						       in->rptseq + 1, e->rpt - 1, seq, ts, recv_ts_ns);
				}
				in->rptseq = e->rpt;
			} else if (fh_unlikely(e->rpt < in->rptseq)) {
				d->rptseq_old++;
			} else {
				in->rptseq = e->rpt;
			}
		}
		struct fh_event *ev = &out[n_ev++];
		uint8_t side = fix_side(e->type);
		if (side) {
			fix_hdr(ev, FH_EV_L2_UPDATE, d, e->instrument, seq, ts, recv_ts_ns);
			ev->u.l2.price = e->price;
			ev->u.l2.qty = e->size;
			ev->u.l2.orders = e->orders;
			ev->u.l2.level = (uint16_t)e->level;
			ev->u.l2.side = side;
			if (kind == K_W) {
				ev->u.l2.action = FH_L2_NEW;
				ev->u.l2.flags = FH_L2_F_SNAPSHOT;
			} else {
				ev->u.l2.action = e->action == '0' ? FH_L2_NEW
						  : e->action == '2' ? FH_L2_DELETE : FH_L2_CHANGE;
			}
			last_l2 = (int)(ev - out);
		} else if (e->type[0] == 'J' && !e->type[1]) {
			fix_hdr(ev, FH_EV_L2_UPDATE, d, e->instrument, seq, ts, recv_ts_ns);
			ev->u.l2.price = FH_PRICE_NONE;
			ev->u.l2.action = FH_L2_CLEAR;
			last_l2 = (int)(ev - out);
		} else if (kind == K_X && e->type[0] == '2' && !e->type[1] && e->action != '2') {
			fix_hdr(ev, FH_EV_TRADE, d, e->instrument, seq, ts, recv_ts_ns);
			ev->u.trade.price = e->price;
			ev->u.trade.qty = e->size;
			ev->u.trade.kind = FH_TRADE_FIX;
			/* resting side is the opposite of the aggressor */
			ev->u.trade.side = e->aggressor == '1' ? FH_SIDE_ASK
					   : e->aggressor == '2' ? FH_SIDE_BID : 0;
			uint64_t mn;
			if (e->trade_id && fh_fix_pvt_u64(e->trade_id, e->trade_id_len, &mn))
				ev->u.trade.match_no = mn;
		} else {
			fix_hdr(ev, FH_EV_MARKET_STAT, d, e->instrument, seq, ts, recv_ts_ns);
			ev->u.stat.value = e->price;
			ev->u.stat.qty = e->size;
			ev->u.stat.level = e->level;
			ev->u.stat.entry_type[0] = e->type[0];
			ev->u.stat.entry_type[1] = e->type[1];
			ev->u.stat.action = kind == K_W || e->action == '0' ? FH_L2_NEW
					    : e->action == '2' ? FH_L2_DELETE : FH_L2_CHANGE;
		}
	}
	if (last_l2 >= 0)
		out[last_l2].u.l2.flags |= FH_L2_F_LAST;
	if (fh_unlikely(inexact))
		fix_inexact(d, m, inexact, recv_ts_ns);
	d->msgs++;
	d->events += n_ev;
	return (int)n_ev;

garbled:
	r = FH_FIX_REJ_GARBLED;
	goto reject;
bad_price:
	r = FH_FIX_REJ_BAD_PRICE;
	goto reject;
bad_value:
	r = FH_FIX_REJ_BAD_VALUE;
reject:
	return fix_reject(d, r, m, tag, buf, len, recv_ts_ns);
}

/*
 * A build for a baseline CPU (the DPDK pkg-config flags pin -march=corei7)
 * would leave AVX2 and BMI2 unused on the hosts that have them: the hot
 * function also exists compiled for them and is picked once, at init.
 */
#if FH_FIX_PVT_HAVE_V3
__attribute__((target("avx2,bmi,bmi2,lzcnt,popcnt"), noinline))
static int fix_decode_v3(struct fh_fix_decoder *d, const uint8_t *buf, size_t len,
			 uint64_t recv_ts_ns, struct fh_fix_msg *m, struct fh_event *out, unsigned cap)
{
	return fix_decode(d, buf, len, recv_ts_ns, m, out, cap, true);
}
#endif

__attribute__((noinline))
static int fix_decode_base(struct fh_fix_decoder *d, const uint8_t *buf, size_t len,
			   uint64_t recv_ts_ns, struct fh_fix_msg *m, struct fh_event *out, unsigned cap)
{
	return fix_decode(d, buf, len, recv_ts_ns, m, out, cap, false);
}

int fh_fix_decode(struct fh_fix_decoder *d, const uint8_t *buf, size_t len, uint64_t recv_ts_ns,
		  struct fh_fix_msg *m, struct fh_event *out, unsigned cap)
{
#if FH_FIX_PVT_HAVE_V3
	if (d->x86v3)
		return fix_decode_v3(d, buf, len, recv_ts_ns, m, out, cap);
#endif
	return fix_decode_base(d, buf, len, recv_ts_ns, m, out, cap);
}

long fh_fix_build(char *out, size_t cap, const char *begin_string, const char *msg_type,
		  const char *body, size_t body_len)
{
	char hdr[64];
	int hl = snprintf(hdr, sizeof(hdr), "35=%s\001", msg_type);
	if (hl < 0 || (size_t)hl >= sizeof(hdr))
		return -EINVAL;
	size_t blen = (size_t)hl + body_len;
	int n = snprintf(out, cap, "8=%s\0019=%zu\001", begin_string, blen);
	if (n < 0 || (size_t)n + blen + 7 + 1 > cap)
		return -ENOSPC;
	memcpy(out + n, hdr, (size_t)hl);
	memcpy(out + n + hl, body, body_len);
	size_t l = (size_t)n + blen;
	unsigned cs = fh_fix_checksum((const uint8_t *)out, l);
	snprintf(out + l, cap - l, "10=%03u\001", cs);
	return (long)(l + 7);
}
