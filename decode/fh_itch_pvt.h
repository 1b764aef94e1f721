/* SPDX-License-Identifier: MIT */
/* fh_itch_pvt.h: inline internals of the ITCH 5.0 decoder (included by fh_itch.h only). */
#ifndef FH_ITCH_PVT_H
#define FH_ITCH_PVT_H


/* 4-decimal ITCH price -> FH_PRICE_SCALE. */
static inline int64_t fh_itch_px(const uint8_t *p)
{
	return (int64_t)fh_be32(p) * FH_PRICE_ITCH_MULT;
}

/* Copies n (<= 8) alpha bytes, turning trailing spaces into NULs. */
static inline void fh_itch_alpha(char *dst, const uint8_t *src, unsigned n)
{
	unsigned k = n;
	while (k > 0 && src[k - 1] == ' ')
		k--;
	for (unsigned i = 0; i < n; i++)
		dst[i] = i < k ? (char)src[i] : 0;
}

/* 64-bit stores that may alias the event (the event is written as 8 words). */
typedef uint64_t fh_itch_u64a __attribute__((may_alias));

/*
 * Hot types (A F D U E X C P: over 99 % of a real day) are decoded without
 * a type-dependent branch: the type indexes a descriptor saying, for each
 * of the 4 payload words, which 8 bytes of the message end at the field
 * (a big-endian window that never starts before the message or ends after
 * it), the mask that keeps the field, a multiplier (prices) and constant
 * bits. Adjacent wire fields that are adjacent in the event come out of one
 * window (A's side and shares). F's MPID and C's printable flag are mixed
 * in under per-type masks. Defined in fh_itch.c; the type table's hot index 0 = not hot.
 */
struct fh_itch_hot {
	uint64_t w0;      /* event type | schema version << 8 */
	uint64_t mask[4];
	uint64_t mult[4];
	uint64_t cst[4];
	uint8_t end[4];   /* window [end - 8, end) per payload word */
	uint8_t mpid_off; /* F: 36; others a harmless in-bounds offset */
	uint8_t y_off;    /* C: 31 (printable); others in bounds */
	uint8_t pad[2];
	uint32_t mpid_mask;
	uint32_t pad2;
	uint64_t y_mask;  /* C: 1 << 32 */
};
/* Per type byte: fixed length | hot index << 8 (0 = unknown type). */
extern const uint16_t fh_itch_type_table[256];
extern const struct fh_itch_hot fh_itch_hot[16];

_Static_assert(offsetof(struct fh_ev_order_add, qty) == 16 && offsetof(struct fh_ev_order_add, side) == 20 &&
	       offsetof(struct fh_ev_order_add, flags) == 21 && offsetof(struct fh_ev_order_add, mpid) == 22,
	       "A/F word packing");
_Static_assert(offsetof(struct fh_ev_order_exec, qty) == 24 && offsetof(struct fh_ev_order_exec, printable) == 28 &&
	       offsetof(struct fh_ev_order_exec, with_price) == 29, "E/C word packing");
_Static_assert(offsetof(struct fh_ev_order_replace, qty) == 24, "U word packing");
_Static_assert(offsetof(struct fh_ev_order_cancel, qty) == 8, "X word packing");
_Static_assert(offsetof(struct fh_ev_trade, kind) == 25 && offsetof(struct fh_ev_trade, qty) == 8,
	       "P word packing");

/* The 8 bytes ending at m + end, big-endian (end >= 8). */
static inline uint64_t fh_itch_win(const uint8_t *m, unsigned end)
{
	return fh_be64(m + end - 8);
}

/* 4 alpha bytes as stored (little-endian word), trailing spaces turned into NULs, branch-free. */
static inline uint32_t fh_itch_trim4(const uint8_t *p)
{
	uint32_t w;
	memcpy(&w, p, 4);
	uint32_t x = w ^ 0x20202020u; /* a space byte becomes 0 */
	unsigned lz = x ? (unsigned)__builtin_clz(x) : 32u;
	unsigned keep = 32u - (lz & ~7u);
	return w & (uint32_t)((1ull << keep) - 1);
}

static inline int fh_itch_decode_hot(const struct fh_itch_decoder *d, const struct fh_itch_hot *h,
				     const uint8_t *m, uint64_t seq, uint64_t recv_ts_ns,
				     struct fh_event *out)
{
	fh_itch_u64a *o = (fh_itch_u64a *)out;
	uint64_t w6 = (fh_itch_win(m, h->end[2]) & h->mask[2]) * h->mult[2] | h->cst[2];
	uint64_t w7 = (fh_itch_win(m, h->end[3]) & h->mask[3]) * h->mult[3] | h->cst[3];

	/* F (MPID) and C (printable): one predictable-enough branch instead of
	 * the mixing work on every message. */
	if (fh_unlikely(h->mpid_mask | h->y_mask)) {
		uint64_t mp = fh_itch_trim4(m + h->mpid_off) & h->mpid_mask;
		w6 |= (mp & 0xffff) << 48;
		w7 |= mp >> 16 | (((uint64_t)(m[h->y_off] == 'Y') << 32) & h->y_mask);
	}
	o[0] = h->w0 | (uint64_t)d->source_id << 16 | (uint64_t)fh_be16(m + 1) << 32;
	o[1] = seq;
	o[2] = d->day_base_ns + (fh_itch_win(m, 11) & 0xffffffffffffull);
	o[3] = recv_ts_ns;
	o[4] = (fh_itch_win(m, h->end[0]) & h->mask[0]) * h->mult[0] | h->cst[0];
	o[5] = (fh_itch_win(m, h->end[1]) & h->mask[1]) * h->mult[1] | h->cst[1];
	o[6] = w6;
	o[7] = w7;
	return 1;
}

/* The 32-byte header every event of one message shares; the payload zeroed. */
static inline void fh_itch_hdr(const struct fh_itch_decoder *d, const uint8_t *msg,
			       uint64_t seq, uint64_t recv_ts_ns, struct fh_event *ev,
			       unsigned type)
{
	fh_itch_u64a *o = (fh_itch_u64a *)ev;
	o[0] = type | (uint64_t)FH_EVENT_SCHEMA_VERSION << 8 | (uint64_t)d->source_id << 16 |
	       (uint64_t)fh_be16(msg + 1) << 32;
	o[1] = seq;
	o[2] = d->day_base_ns + fh_be48(msg + 5);
	o[3] = recv_ts_ns;
	o[4] = 0;
	o[5] = 0;
	o[6] = 0;
	o[7] = 0;
}

/* Second part of a two-part message: same header, part 1. */
static inline struct fh_event *fh_itch_part1(struct fh_event *out, uint8_t msg_type)
{
	const fh_itch_u64a *i = (const fh_itch_u64a *)&out[0];
	fh_itch_u64a *o = (fh_itch_u64a *)&out[1];
	o[0] = (i[0] & ~0xffull) | FH_EV_REFERENCE;
	o[1] = i[1];
	o[2] = i[2];
	o[3] = i[3];
	o[4] = (uint64_t)msg_type | 1u << 8; /* msg_type, part 1 */
	o[5] = 0;
	o[6] = 0;
	o[7] = 0;
	return &out[1];
}

/* Types that are not hot (and the hot ones too, for reference): a switch. */
static inline int fh_itch_decode_switch(const struct fh_itch_decoder *d, uint8_t t,
					const uint8_t *m, uint64_t seq, uint64_t recv_ts_ns,
					struct fh_event *out)
{
	struct fh_event *ev = out;

	switch (t) {
	case 'A':
	case 'F':
		fh_itch_hdr(d, m, seq, recv_ts_ns, ev, FH_EV_ORDER_ADD);
		ev->u.add.order_ref = fh_be64(m + 11);
		ev->u.add.side = m[19];
		ev->u.add.qty = fh_be32(m + 20);
		ev->u.add.price = fh_itch_px(m + 32);
		if (t == 'F') {
			ev->u.add.flags = FH_ORDER_F_MPID;
			fh_itch_alpha(ev->u.add.mpid, m + 36, 4);
		}
		return 1;
	case 'D':
		fh_itch_hdr(d, m, seq, recv_ts_ns, ev, FH_EV_ORDER_DELETE);
		ev->u.cancel.order_ref = fh_be64(m + 11);
		return 1;
	case 'U':
		fh_itch_hdr(d, m, seq, recv_ts_ns, ev, FH_EV_ORDER_REPLACE);
		ev->u.replace.orig_ref = fh_be64(m + 11);
		ev->u.replace.new_ref = fh_be64(m + 19);
		ev->u.replace.qty = fh_be32(m + 27);
		ev->u.replace.price = fh_itch_px(m + 31);
		return 1;
	case 'E':
		fh_itch_hdr(d, m, seq, recv_ts_ns, ev, FH_EV_ORDER_EXEC);
		ev->u.exec.order_ref = fh_be64(m + 11);
		ev->u.exec.qty = fh_be32(m + 19);
		ev->u.exec.match_no = fh_be64(m + 23);
		ev->u.exec.price = FH_PRICE_NONE;
		ev->u.exec.printable = 1;
		return 1;
	case 'C':
		fh_itch_hdr(d, m, seq, recv_ts_ns, ev, FH_EV_ORDER_EXEC);
		ev->u.exec.order_ref = fh_be64(m + 11);
		ev->u.exec.qty = fh_be32(m + 19);
		ev->u.exec.match_no = fh_be64(m + 23);
		ev->u.exec.printable = m[31] == 'Y';
		ev->u.exec.with_price = 1;
		ev->u.exec.price = fh_itch_px(m + 32);
		return 1;
	case 'X':
		fh_itch_hdr(d, m, seq, recv_ts_ns, ev, FH_EV_ORDER_CANCEL);
		ev->u.cancel.order_ref = fh_be64(m + 11);
		ev->u.cancel.qty = fh_be32(m + 19);
		return 1;
	case 'P':
		fh_itch_hdr(d, m, seq, recv_ts_ns, ev, FH_EV_TRADE);
		ev->u.trade.side = m[19];
		ev->u.trade.qty = fh_be32(m + 20);
		ev->u.trade.price = fh_itch_px(m + 32);
		ev->u.trade.match_no = fh_be64(m + 36);
		ev->u.trade.kind = FH_TRADE_NON_CROSS;
		return 1;
	case 'Q':
		fh_itch_hdr(d, m, seq, recv_ts_ns, ev, FH_EV_TRADE);
		ev->u.trade.qty = fh_be64(m + 11);
		ev->u.trade.price = fh_itch_px(m + 27);
		ev->u.trade.match_no = fh_be64(m + 31);
		ev->u.trade.cross_type = m[39];
		ev->u.trade.kind = FH_TRADE_CROSS;
		return 1;
	case 'B':
		fh_itch_hdr(d, m, seq, recv_ts_ns, ev, FH_EV_BROKEN_TRADE);
		ev->u.broken.match_no = fh_be64(m + 11);
		return 1;
	case 'S':
		fh_itch_hdr(d, m, seq, recv_ts_ns, ev, FH_EV_SYSTEM);
		ev->u.system.code = (char)m[11];
		return 1;
	case 'R':
		fh_itch_hdr(d, m, seq, recv_ts_ns, ev, FH_EV_INSTRUMENT);
		fh_itch_alpha(ev->u.instr.symbol, m + 11, 8);
		ev->u.instr.market_category = (char)m[19];
		ev->u.instr.financial_status = (char)m[20];
		ev->u.instr.round_lot = fh_be32(m + 21);
		ev->u.instr.issue_class = (char)m[26];
		fh_itch_alpha(ev->u.instr.issue_subtype, m + 27, 2);
		ev->u.instr.authenticity = (char)m[29];
		ev->u.instr.short_sale_threshold = (char)m[30];
		ev->u.instr.ipo_flag = (char)m[31];
		ev->u.instr.luld_tier = (char)m[32];
		ev->u.instr.etp_flag = (char)m[33];
		ev->u.instr.inverse = (char)m[38];
		ev = fh_itch_part1(out, 'R');
		ev->u.ref.c[0] = (char)m[25];          /* round lots only */
		ev->u.ref.v[0] = fh_be32(m + 34);      /* ETP leverage factor */
		return 2;
	case 'H':
		fh_itch_hdr(d, m, seq, recv_ts_ns, ev, FH_EV_TRADING_STATUS);
		ev->u.status.msg_type = 'H';
		ev->u.status.state = (char)m[19];
		fh_itch_alpha(ev->u.status.reason, m + 21, 4);
		ev->u.status.halted = m[19] != 'T';
		return 1;
	case 'h':
		fh_itch_hdr(d, m, seq, recv_ts_ns, ev, FH_EV_TRADING_STATUS);
		ev->u.status.msg_type = 'h';
		ev->u.status.market_code = (char)m[19];
		ev->u.status.state = (char)m[20];
		ev->u.status.halted = m[20] == 'H' && m[19] == d->own_market;
		return 1;
	case 'Y':
		fh_itch_hdr(d, m, seq, recv_ts_ns, ev, FH_EV_REFERENCE);
		ev->u.ref.msg_type = 'Y';
		ev->u.ref.c[0] = (char)m[19];          /* Reg SHO action */
		return 1;
	case 'L':
		fh_itch_hdr(d, m, seq, recv_ts_ns, ev, FH_EV_REFERENCE);
		ev->u.ref.msg_type = 'L';
		fh_itch_alpha(ev->u.ref.c, m + 11, 4); /* MPID */
		ev->u.ref.c[4] = (char)m[23];          /* primary market maker */
		ev->u.ref.c[5] = (char)m[24];          /* market maker mode */
		ev->u.ref.v[0] = m[25];                /* participant state */
		return 1;
	case 'V':
		fh_itch_hdr(d, m, seq, recv_ts_ns, ev, FH_EV_REFERENCE);
		ev->u.ref.msg_type = 'V';
		ev->u.ref.v[0] = (int64_t)fh_be64(m + 11); /* 8-decimal levels */
		ev->u.ref.v[1] = (int64_t)fh_be64(m + 19);
		ev->u.ref.v[2] = (int64_t)fh_be64(m + 27);
		return 1;
	case 'W':
		fh_itch_hdr(d, m, seq, recv_ts_ns, ev, FH_EV_REFERENCE);
		ev->u.ref.msg_type = 'W';
		ev->u.ref.c[0] = (char)m[11];          /* breached level */
		return 1;
	case 'K':
		fh_itch_hdr(d, m, seq, recv_ts_ns, ev, FH_EV_REFERENCE);
		ev->u.ref.msg_type = 'K';
		ev->u.ref.c[0] = (char)m[23];          /* release qualifier */
		ev->u.ref.v[0] = (int64_t)(d->day_base_ns + (uint64_t)fh_be32(m + 19) * 1000000000ull);
		ev->u.ref.v[1] = fh_itch_px(m + 24);   /* IPO price */
		return 1;
	case 'J':
		fh_itch_hdr(d, m, seq, recv_ts_ns, ev, FH_EV_REFERENCE);
		ev->u.ref.msg_type = 'J';
		ev->u.ref.v[0] = fh_itch_px(m + 19);   /* reference price */
		ev->u.ref.v[1] = fh_itch_px(m + 23);   /* upper collar */
		ev->u.ref.v[2] = fh_itch_px(m + 27);   /* lower collar */
		ev = fh_itch_part1(out, 'J');
		ev->u.ref.v[0] = fh_be32(m + 31);      /* extension */
		return 2;
	case 'N':
		fh_itch_hdr(d, m, seq, recv_ts_ns, ev, FH_EV_REFERENCE);
		ev->u.ref.msg_type = 'N';
		ev->u.ref.c[0] = (char)m[19];          /* interest flag */
		return 1;
	case 'I':
		fh_itch_hdr(d, m, seq, recv_ts_ns, ev, FH_EV_REFERENCE);
		ev->u.ref.msg_type = 'I';
		ev->u.ref.c[0] = (char)m[27];          /* imbalance direction */
		ev->u.ref.c[1] = (char)m[48];          /* cross type */
		ev->u.ref.c[2] = (char)m[49];          /* price variation indicator */
		ev->u.ref.v[0] = (int64_t)fh_be64(m + 11); /* paired shares */
		ev->u.ref.v[1] = (int64_t)fh_be64(m + 19); /* imbalance shares */
		ev->u.ref.v[2] = fh_itch_px(m + 44);   /* current reference price */
		ev = fh_itch_part1(out, 'I');
		ev->u.ref.v[0] = fh_itch_px(m + 36);   /* far price */
		ev->u.ref.v[1] = fh_itch_px(m + 40);   /* near price */
		return 2;
	case 'O':
		fh_itch_hdr(d, m, seq, recv_ts_ns, ev, FH_EV_REFERENCE);
		ev->u.ref.msg_type = 'O';
		ev->u.ref.c[0] = (char)m[19];          /* open eligibility status */
		ev->u.ref.v[0] = fh_itch_px(m + 20);   /* minimum allowable price */
		ev->u.ref.v[1] = fh_itch_px(m + 24);   /* maximum allowable price */
		ev->u.ref.v[2] = fh_itch_px(m + 28);   /* near execution price */
		ev = fh_itch_part1(out, 'O');
		ev->u.ref.v[0] = (int64_t)fh_be64(m + 32); /* near execution time */
		ev->u.ref.v[1] = fh_itch_px(m + 40);   /* lower price range collar */
		ev->u.ref.v[2] = fh_itch_px(m + 44);   /* upper price range collar */
		return 2;
	default:
		/* Unreachable: the length table has no entry for other types. */
		return 0;
	}
}

#endif /* FH_ITCH_PVT_H */
