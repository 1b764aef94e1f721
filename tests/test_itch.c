/* SPDX-License-Identifier: MIT */
/* test_itch.c: ITCH 5.0 decoding of all 23 types, rejections with dead letters, real Nasdaq data. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "fh_dlq.h"
#include "fh_itch.h"
#include "fh_itch_file.h"
#include "fh_pcap.h"
#include "fh_test.h"

#define TS 34200123456789ull /* 09:30:00.123456789 */
#define DAY 1577664000000000000ull /* 2019-12-30T00:00:00Z */

static uint8_t m[64];

/* Common header: type, locate, tracking, timestamp. */
static void hdr(uint8_t t, uint16_t locate)
{
	memset(m, 0, sizeof(m));
	m[0] = t;
	fh_put_be16(m + 1, locate);
	fh_put_be16(m + 3, 77);
	fh_put_be48(m + 5, TS);
}

static void alpha(unsigned off, const char *s, unsigned n)
{
	size_t l = strlen(s);
	for (unsigned i = 0; i < n; i++)
		m[off + i] = i < l ? (uint8_t)s[i] : ' ';
}

static struct fh_itch_decoder dec;
static struct fh_event ev[FH_ITCH_MAX_EVENTS];

static int decode(uint8_t t)
{
	fh_itch_decoder_init(&dec, 9, DAY, NULL);
	memset(ev, 0xee, sizeof(ev));
	return fh_itch_decode(&dec, m, fh_itch_msg_len(t), 4242, 555, ev);
}

/* Checks the shared header of event e. */
static void check_hdr(const struct fh_event *e, unsigned type, uint16_t locate)
{
	FH_CHECK_EQ_U(e->type, type);
	FH_CHECK_EQ_U(e->version, FH_EVENT_SCHEMA_VERSION);
	FH_CHECK_EQ_U(e->source_id, 9);
	FH_CHECK_EQ_U(e->instrument, locate);
	FH_CHECK_EQ_U(e->seq, 4242);
	FH_CHECK_EQ_U(e->exch_ts_ns, DAY + TS);
	FH_CHECK_EQ_U(e->recv_ts_ns, 555);
}

static void test_length_table(void)
{
	static const struct { char t; unsigned len; } spec[] = {
		{ 'S', 12 }, { 'R', 39 }, { 'H', 25 }, { 'Y', 20 }, { 'L', 26 }, { 'V', 35 },
		{ 'W', 12 }, { 'K', 28 }, { 'J', 35 }, { 'h', 21 }, { 'A', 36 }, { 'F', 40 },
		{ 'E', 31 }, { 'C', 36 }, { 'X', 23 }, { 'D', 19 }, { 'U', 35 }, { 'P', 44 },
		{ 'Q', 40 }, { 'B', 19 }, { 'I', 50 }, { 'N', 20 }, { 'O', 48 },
	};
	unsigned known = 0;
	for (unsigned t = 0; t < 256; t++)
		known += fh_itch_msg_len((uint8_t)t) != 0;
	FH_CHECK_EQ_U(known, 23);
	for (size_t i = 0; i < FH_ARRAY_SIZE(spec); i++) {
		FH_CHECK_EQ_U(fh_itch_msg_len((uint8_t)spec[i].t), spec[i].len);
		FH_CHECK(fh_itch_msg_name((uint8_t)spec[i].t) != NULL);
		FH_CHECK(spec[i].len <= FH_ITCH_MAX_MSG_LEN);
	}
}

static void test_orders(void)
{
	hdr('A', 321);
	fh_put_be64(m + 11, 0x0102030405060708ull);
	m[19] = 'B';
	fh_put_be32(m + 20, 300);
	alpha(24, "AAPL", 8);
	fh_put_be32(m + 32, 2934500); /* 293.4500 */
	FH_CHECK_EQ_I(decode('A'), 1);
	check_hdr(&ev[0], FH_EV_ORDER_ADD, 321);
	FH_CHECK_EQ_U(ev[0].u.add.order_ref, 0x0102030405060708ull);
	FH_CHECK_EQ_U(ev[0].u.add.side, 'B');
	FH_CHECK_EQ_U(ev[0].u.add.qty, 300);
	FH_CHECK_EQ_I(ev[0].u.add.price, 29345000000LL);
	FH_CHECK_EQ_U(ev[0].u.add.flags, 0);
	FH_CHECK(memcmp(ev[0].u.add.mpid, "\0\0\0\0", 4) == 0);
	FH_CHECK_EQ_U(dec.count['A'], 1);

	hdr('F', 322);
	fh_put_be64(m + 11, 99);
	m[19] = 'S';
	fh_put_be32(m + 20, 1);
	fh_put_be32(m + 32, 1);
	alpha(36, "GS", 4);
	FH_CHECK_EQ_I(decode('F'), 1);
	check_hdr(&ev[0], FH_EV_ORDER_ADD, 322);
	FH_CHECK_EQ_U(ev[0].u.add.side, 'S');
	FH_CHECK_EQ_I(ev[0].u.add.price, 10000);
	FH_CHECK_EQ_U(ev[0].u.add.flags, FH_ORDER_F_MPID);
	FH_CHECK(memcmp(ev[0].u.add.mpid, "GS\0\0", 4) == 0);

	hdr('E', 5);
	fh_put_be64(m + 11, 77);
	fh_put_be32(m + 19, 40);
	fh_put_be64(m + 23, 123456);
	FH_CHECK_EQ_I(decode('E'), 1);
	check_hdr(&ev[0], FH_EV_ORDER_EXEC, 5);
	FH_CHECK_EQ_U(ev[0].u.exec.order_ref, 77);
	FH_CHECK_EQ_U(ev[0].u.exec.qty, 40);
	FH_CHECK_EQ_U(ev[0].u.exec.match_no, 123456);
	FH_CHECK_EQ_I(ev[0].u.exec.price, FH_PRICE_NONE);
	FH_CHECK_EQ_U(ev[0].u.exec.printable, 1);
	FH_CHECK_EQ_U(ev[0].u.exec.with_price, 0);

	hdr('C', 6);
	fh_put_be64(m + 11, 78);
	fh_put_be32(m + 19, 41);
	fh_put_be64(m + 23, 654321);
	m[31] = 'N';
	fh_put_be32(m + 32, 100001);
	FH_CHECK_EQ_I(decode('C'), 1);
	check_hdr(&ev[0], FH_EV_ORDER_EXEC, 6);
	FH_CHECK_EQ_U(ev[0].u.exec.order_ref, 78);
	FH_CHECK_EQ_U(ev[0].u.exec.qty, 41);
	FH_CHECK_EQ_U(ev[0].u.exec.match_no, 654321);
	FH_CHECK_EQ_I(ev[0].u.exec.price, 1000010000LL);
	FH_CHECK_EQ_U(ev[0].u.exec.printable, 0);
	FH_CHECK_EQ_U(ev[0].u.exec.with_price, 1);
	m[31] = 'Y';
	FH_CHECK_EQ_I(decode('C'), 1);
	FH_CHECK_EQ_U(ev[0].u.exec.printable, 1);

	hdr('X', 7);
	fh_put_be64(m + 11, 79);
	fh_put_be32(m + 19, 12);
	FH_CHECK_EQ_I(decode('X'), 1);
	check_hdr(&ev[0], FH_EV_ORDER_CANCEL, 7);
	FH_CHECK_EQ_U(ev[0].u.cancel.order_ref, 79);
	FH_CHECK_EQ_U(ev[0].u.cancel.qty, 12);

	hdr('D', 8);
	fh_put_be64(m + 11, 80);
	FH_CHECK_EQ_I(decode('D'), 1);
	check_hdr(&ev[0], FH_EV_ORDER_DELETE, 8);
	FH_CHECK_EQ_U(ev[0].u.cancel.order_ref, 80);
	FH_CHECK_EQ_U(ev[0].u.cancel.qty, 0);

	hdr('U', 9);
	fh_put_be64(m + 11, 81);
	fh_put_be64(m + 19, 82);
	fh_put_be32(m + 27, 500);
	fh_put_be32(m + 31, 0xffffffffu); /* the largest price the wire can carry */
	FH_CHECK_EQ_I(decode('U'), 1);
	check_hdr(&ev[0], FH_EV_ORDER_REPLACE, 9);
	FH_CHECK_EQ_U(ev[0].u.replace.orig_ref, 81);
	FH_CHECK_EQ_U(ev[0].u.replace.new_ref, 82);
	FH_CHECK_EQ_U(ev[0].u.replace.qty, 500);
	FH_CHECK_EQ_I(ev[0].u.replace.price, 4294967295LL * 10000);
}

static void test_trades(void)
{
	hdr('P', 10);
	fh_put_be64(m + 11, 0);
	m[19] = 'B';
	fh_put_be32(m + 20, 200);
	alpha(24, "MSFT", 8);
	fh_put_be32(m + 32, 1575000);
	fh_put_be64(m + 36, 9001);
	FH_CHECK_EQ_I(decode('P'), 1);
	check_hdr(&ev[0], FH_EV_TRADE, 10);
	FH_CHECK_EQ_U(ev[0].u.trade.kind, FH_TRADE_NON_CROSS);
	FH_CHECK_EQ_U(ev[0].u.trade.side, 'B');
	FH_CHECK_EQ_U(ev[0].u.trade.qty, 200);
	FH_CHECK_EQ_I(ev[0].u.trade.price, 15750000000LL);
	FH_CHECK_EQ_U(ev[0].u.trade.match_no, 9001);
	FH_CHECK_EQ_U(ev[0].u.trade.flags, 0);
	FH_CHECK_EQ_U(ev[0].u.trade.cross_type, 0);

	hdr('Q', 11);
	fh_put_be64(m + 11, 5000000000ull); /* more than 32 bits of shares */
	alpha(19, "SPY", 8);
	fh_put_be32(m + 27, 3210000);
	fh_put_be64(m + 31, 9002);
	m[39] = 'C';
	FH_CHECK_EQ_I(decode('Q'), 1);
	check_hdr(&ev[0], FH_EV_TRADE, 11);
	FH_CHECK_EQ_U(ev[0].u.trade.kind, FH_TRADE_CROSS);
	FH_CHECK_EQ_U(ev[0].u.trade.qty, 5000000000ull);
	FH_CHECK_EQ_I(ev[0].u.trade.price, 32100000000LL);
	FH_CHECK_EQ_U(ev[0].u.trade.match_no, 9002);
	FH_CHECK_EQ_U(ev[0].u.trade.cross_type, 'C');
	FH_CHECK_EQ_U(ev[0].u.trade.side, 0);

	hdr('B', 12);
	fh_put_be64(m + 11, 9003);
	FH_CHECK_EQ_I(decode('B'), 1);
	check_hdr(&ev[0], FH_EV_BROKEN_TRADE, 12);
	FH_CHECK_EQ_U(ev[0].u.broken.match_no, 9003);
}

static void test_system_directory_status(void)
{
	hdr('S', 0);
	m[11] = 'O';
	FH_CHECK_EQ_I(decode('S'), 1);
	check_hdr(&ev[0], FH_EV_SYSTEM, 0);
	FH_CHECK_EQ_U(ev[0].u.system.code, 'O');

	hdr('R', 13);
	alpha(11, "BRK A", 8);
	m[19] = 'N';
	m[20] = ' ';
	fh_put_be32(m + 21, 100);
	m[25] = 'Y';
	m[26] = 'C';
	alpha(27, "Z", 2);
	m[29] = 'P';
	m[30] = 'N';
	m[31] = ' ';
	m[32] = '1';
	m[33] = 'Y';
	fh_put_be32(m + 34, 3);
	m[38] = 'Y';
	FH_CHECK_EQ_I(decode('R'), 2);
	check_hdr(&ev[0], FH_EV_INSTRUMENT, 13);
	FH_CHECK(memcmp(ev[0].u.instr.symbol, "BRK A\0\0\0\0\0\0\0\0\0\0\0", 16) == 0);
	FH_CHECK_EQ_U(ev[0].u.instr.market_category, 'N');
	FH_CHECK_EQ_U(ev[0].u.instr.financial_status, ' ');
	FH_CHECK_EQ_U(ev[0].u.instr.round_lot, 100);
	FH_CHECK_EQ_U(ev[0].u.instr.qty_decimals, 0);
	FH_CHECK_EQ_U(ev[0].u.instr.issue_class, 'C');
	FH_CHECK(memcmp(ev[0].u.instr.issue_subtype, "Z\0", 2) == 0);
	FH_CHECK_EQ_U(ev[0].u.instr.authenticity, 'P');
	FH_CHECK_EQ_U(ev[0].u.instr.short_sale_threshold, 'N');
	FH_CHECK_EQ_U(ev[0].u.instr.ipo_flag, ' ');
	FH_CHECK_EQ_U(ev[0].u.instr.luld_tier, '1');
	FH_CHECK_EQ_U(ev[0].u.instr.etp_flag, 'Y');
	FH_CHECK_EQ_U(ev[0].u.instr.inverse, 'Y');
	check_hdr(&ev[1], FH_EV_REFERENCE, 13);
	FH_CHECK_EQ_U(ev[1].u.ref.msg_type, 'R');
	FH_CHECK_EQ_U(ev[1].u.ref.part, 1);
	FH_CHECK_EQ_U(ev[1].u.ref.c[0], 'Y');
	FH_CHECK_EQ_I(ev[1].u.ref.v[0], 3);
	FH_CHECK_EQ_U(fh_itch_decoder_events(&dec), 2);

	hdr('H', 14);
	alpha(11, "ZVZZT", 8);
	m[19] = 'H';
	m[20] = ' ';
	alpha(21, "T1", 4);
	FH_CHECK_EQ_I(decode('H'), 1);
	check_hdr(&ev[0], FH_EV_TRADING_STATUS, 14);
	FH_CHECK_EQ_U(ev[0].u.status.msg_type, 'H');
	FH_CHECK_EQ_U(ev[0].u.status.state, 'H');
	FH_CHECK(memcmp(ev[0].u.status.reason, "T1\0\0", 4) == 0);
	FH_CHECK_EQ_U(ev[0].u.status.halted, 1);
	m[19] = 'T';
	alpha(21, "", 4);
	FH_CHECK_EQ_I(decode('H'), 1);
	FH_CHECK_EQ_U(ev[0].u.status.halted, 0);
	FH_CHECK(memcmp(ev[0].u.status.reason, "\0\0\0\0", 4) == 0);

	hdr('h', 15);
	m[19] = 'Q';
	m[20] = 'H';
	FH_CHECK_EQ_I(decode('h'), 1);
	check_hdr(&ev[0], FH_EV_TRADING_STATUS, 15);
	FH_CHECK_EQ_U(ev[0].u.status.msg_type, 'h');
	FH_CHECK_EQ_U(ev[0].u.status.market_code, 'Q');
	FH_CHECK_EQ_U(ev[0].u.status.state, 'H');
	FH_CHECK_EQ_U(ev[0].u.status.halted, 1);
	m[19] = 'B'; /* a BX halt does not stop trading on Nasdaq */
	FH_CHECK_EQ_I(decode('h'), 1);
	FH_CHECK_EQ_U(ev[0].u.status.halted, 0);
	FH_CHECK_EQ_U(ev[0].u.status.market_code, 'B');
}

static void check_ref(const struct fh_event *e, uint16_t locate, char t, unsigned part,
		      const char c[6], int64_t v0, int64_t v1, int64_t v2)
{
	check_hdr(e, FH_EV_REFERENCE, locate);
	FH_CHECK_EQ_U(e->u.ref.msg_type, (uint8_t)t);
	FH_CHECK_EQ_U(e->u.ref.part, part);
	FH_CHECK(memcmp(e->u.ref.c, c, 6) == 0);
	FH_CHECK_EQ_I(e->u.ref.v[0], v0);
	FH_CHECK_EQ_I(e->u.ref.v[1], v1);
	FH_CHECK_EQ_I(e->u.ref.v[2], v2);
}

static void test_reference_types(void)
{
	hdr('Y', 20);
	alpha(11, "ABCD", 8);
	m[19] = '1';
	FH_CHECK_EQ_I(decode('Y'), 1);
	check_ref(&ev[0], 20, 'Y', 0, "1\0\0\0\0\0", 0, 0, 0);

	hdr('L', 21);
	alpha(11, "NITE", 4);
	alpha(15, "ABCD", 8);
	m[23] = 'Y';
	m[24] = 'N';
	m[25] = 'A';
	FH_CHECK_EQ_I(decode('L'), 1);
	check_ref(&ev[0], 21, 'L', 0, "NITEYN", 'A', 0, 0);
	alpha(11, "AB", 4);
	FH_CHECK_EQ_I(decode('L'), 1);
	check_ref(&ev[0], 21, 'L', 0, "AB\0\0YN", 'A', 0, 0);

	hdr('V', 0);
	fh_put_be64(m + 11, 300000000000ull); /* 3000.00000000 */
	fh_put_be64(m + 19, 280000000000ull);
	fh_put_be64(m + 27, 250000000000ull);
	FH_CHECK_EQ_I(decode('V'), 1);
	check_ref(&ev[0], 0, 'V', 0, "\0\0\0\0\0\0", 300000000000LL, 280000000000LL, 250000000000LL);

	hdr('W', 0);
	m[11] = '2';
	FH_CHECK_EQ_I(decode('W'), 1);
	check_ref(&ev[0], 0, 'W', 0, "2\0\0\0\0\0", 0, 0, 0);

	hdr('K', 22);
	alpha(11, "NEWCO", 8);
	fh_put_be32(m + 19, 36000); /* 10:00:00 */
	m[23] = 'A';
	fh_put_be32(m + 24, 210000);
	FH_CHECK_EQ_I(decode('K'), 1);
	check_ref(&ev[0], 22, 'K', 0, "A\0\0\0\0\0", (int64_t)(DAY + 36000ull * 1000000000ull),
		  2100000000LL, 0);

	hdr('J', 23);
	fh_put_be32(m + 19, 100000);
	fh_put_be32(m + 23, 110000);
	fh_put_be32(m + 27, 90000);
	fh_put_be32(m + 31, 2);
	FH_CHECK_EQ_I(decode('J'), 2);
	check_ref(&ev[0], 23, 'J', 0, "\0\0\0\0\0\0", 1000000000LL, 1100000000LL, 900000000LL);
	check_ref(&ev[1], 23, 'J', 1, "\0\0\0\0\0\0", 2, 0, 0);

	hdr('N', 24);
	m[19] = 'B';
	FH_CHECK_EQ_I(decode('N'), 1);
	check_ref(&ev[0], 24, 'N', 0, "B\0\0\0\0\0", 0, 0, 0);

	hdr('I', 25);
	fh_put_be64(m + 11, 1000);
	fh_put_be64(m + 19, 200);
	m[27] = 'B';
	alpha(28, "ABCD", 8);
	fh_put_be32(m + 36, 101000);
	fh_put_be32(m + 40, 102000);
	fh_put_be32(m + 44, 103000);
	m[48] = 'O';
	m[49] = 'L';
	FH_CHECK_EQ_I(decode('I'), 2);
	check_ref(&ev[0], 25, 'I', 0, "BOL\0\0\0", 1000, 200, 1030000000LL);
	check_ref(&ev[1], 25, 'I', 1, "\0\0\0\0\0\0", 1010000000LL, 1020000000LL, 0);

	hdr('O', 26);
	alpha(11, "DLCR", 8);
	m[19] = 'Y';
	fh_put_be32(m + 20, 80000);
	fh_put_be32(m + 24, 120000);
	fh_put_be32(m + 28, 100000);
	fh_put_be64(m + 32, 36000000000000ull);
	fh_put_be32(m + 40, 85000);
	fh_put_be32(m + 44, 115000);
	FH_CHECK_EQ_I(decode('O'), 2);
	check_ref(&ev[0], 26, 'O', 0, "Y\0\0\0\0\0", 800000000LL, 1200000000LL, 1000000000LL);
	check_ref(&ev[1], 26, 'O', 1, "\0\0\0\0\0\0", 36000000000000LL, 850000000LL, 1150000000LL);
}

/* The branch-free hot path and the switch agree on every byte, on random bodies. */
static void test_hot_path_matches_switch(void)
{
	static const char hot[] = "AFDXUECP";
	struct fh_event a[FH_ITCH_MAX_EVENTS], b[FH_ITCH_MAX_EVENTS];
	uint64_t x = 88172645463325252ull;
	unsigned checked = 0;

	fh_itch_decoder_init(&dec, 0xbeef, DAY, NULL);
	for (const char *t = hot; *t; t++) {
		unsigned len = fh_itch_msg_len((uint8_t)*t);
		FH_CHECK((fh_itch_type_table[(uint8_t)*t] >> 8) != 0);
		for (int i = 0; i < 20000; i++) {
			for (unsigned k = 0; k < len; k++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				/* bias towards spaces and 'Y' so trimming and flags are exercised */
				uint8_t r = (uint8_t)x;
				m[k] = (x >> 8) % 4 == 0 ? ' ' : (x >> 8) % 4 == 1 ? 'Y' : r;
			}
			m[0] = (uint8_t)*t;
			memset(a, 0x11, sizeof(a));
			memset(b, 0x22, sizeof(b));
			FH_CHECK_EQ_I(fh_itch_decode(&dec, m, len, (uint64_t)i, x, a), 1);
			FH_CHECK_EQ_I(fh_itch_decode_switch(&dec, (uint8_t)*t, m, (uint64_t)i, x, b), 1);
			if (memcmp(&a[0], &b[0], sizeof(a[0])) != 0) {
				FH_CHECK(!"hot and switch decode differ");
				fprintf(stderr, "  type %c iteration %d\n", *t, i);
				break;
			}
			checked++;
		}
	}
	FH_CHECK_EQ_U(checked, 8 * 20000);
}

/* ---- rejections, each with its dead-letter record ---- */

struct dlq_seen {
	int n;
	char reason[4][FH_DLQ_REASON_LEN];
	char session[4][FH_DLQ_SESSION_LEN];
	uint64_t seq[4];
	uint64_t ts[4];
	uint16_t source[4];
	uint32_t len[4];
	uint8_t bytes[4][64];
};

static int collect(const struct fh_dlq_rec *r, const uint8_t *b, void *arg)
{
	struct dlq_seen *s = arg;
	if (s->n < 4) {
		memcpy(s->reason[s->n], r->reason, FH_DLQ_REASON_LEN);
		memcpy(s->session[s->n], r->session, FH_DLQ_SESSION_LEN);
		s->seq[s->n] = r->seq;
		s->ts[s->n] = r->recv_ts_ns;
		s->source[s->n] = r->source_id;
		s->len[s->n] = r->len;
		memcpy(s->bytes[s->n], b, r->len < 64 ? r->len : 64);
	}
	s->n++;
	return 0;
}

static void test_reject_unknown_type_and_bad_length(void)
{
	char path[64];
	struct fh_dlq d;
	struct dlq_seen s = { 0 };

	snprintf(path, sizeof(path), "/tmp/fh-test-itch-%d.dlq", (int)getpid());
	FH_CHECK_EQ_I(fh_dlq_open(&d, path, 0), 0);
	fh_itch_decoder_init(&dec, 4, 0, &d);
	fh_itch_decoder_set_session(&dec, "SESSION123");
	hdr('Z', 1);
	FH_CHECK_EQ_I(fh_itch_decode(&dec, m, 20, 11, 1000, ev), -FH_ITCH_REJ_UNKNOWN_TYPE);
	hdr('A', 1);
	FH_CHECK_EQ_I(fh_itch_decode(&dec, m, 35, 12, 1001, ev), -FH_ITCH_REJ_BAD_LENGTH);
	FH_CHECK_EQ_I(fh_itch_decode(&dec, m, 37, 13, 1002, ev), -FH_ITCH_REJ_BAD_LENGTH);
	FH_CHECK_EQ_I(fh_itch_decode(&dec, m, 0, 14, 1003, ev), -FH_ITCH_REJ_SHORT_PACKET);
	FH_CHECK_EQ_U(dec.rejects[FH_ITCH_REJ_UNKNOWN_TYPE], 1);
	FH_CHECK_EQ_U(dec.rejects[FH_ITCH_REJ_BAD_LENGTH], 2);
	FH_CHECK_EQ_U(dec.rejects[FH_ITCH_REJ_SHORT_PACKET], 1);
	FH_CHECK_EQ_U(fh_itch_decoder_messages(&dec), 0);
	FH_CHECK_EQ_U(dec.count['A'], 0);
	fh_dlq_close(&d);
	FH_CHECK_EQ_I(fh_dlq_read(path, collect, &s), 4);
	FH_CHECK_STR(s.reason[0], "unknown_type");
	FH_CHECK_STR(s.reason[1], "bad_length");
	FH_CHECK_STR(s.reason[3], "short_packet");
	FH_CHECK_EQ_U(s.seq[0], 11);
	FH_CHECK_EQ_U(s.seq[2], 13);
	FH_CHECK_EQ_U(s.ts[1], 1001);
	FH_CHECK_EQ_U(s.source[0], 4);
	FH_CHECK(memcmp(s.session[1], "SESSION123", 10) == 0);
	FH_CHECK_EQ_U(s.len[0], 20);
	FH_CHECK_EQ_U(s.len[2], 37);
	FH_CHECK_EQ_U(s.bytes[0][0], 'Z');
	FH_CHECK(memcmp(s.bytes[1], m, 35) == 0);
	unlink(path);
}

/* Every type at every wrong length is refused and never read past. */
static void test_every_wrong_length(void)
{
	uint8_t buf[64];
	fh_itch_decoder_init(&dec, 0, 0, NULL);
	uint64_t expect = 0;
	for (unsigned t = 0; t < 256; t++) {
		unsigned want = fh_itch_msg_len((uint8_t)t);
		for (size_t len = 1; len <= 60; len++) {
			if (len == want)
				continue;
			/* the message sits at the very end of a buffer */
			uint8_t *p = buf + sizeof(buf) - len;
			memset(buf, 0, sizeof(buf));
			p[0] = (uint8_t)t;
			FH_CHECK(fh_itch_decode(&dec, p, len, 0, 0, ev) < 0);
			expect++;
		}
	}
	FH_CHECK_EQ_U(dec.rejects[FH_ITCH_REJ_BAD_LENGTH] + dec.rejects[FH_ITCH_REJ_UNKNOWN_TYPE], expect);
	FH_CHECK_EQ_U(dec.rejects[FH_ITCH_REJ_BAD_LENGTH], 23 * 59);
}

static void test_format_every_type(void)
{
	static const char types[] = "SRHYLVWKJhAFECXDUPQBINO";
	char line[1024];

	for (const char *t = types; *t; t++) {
		hdr((uint8_t)*t, 1);
		int n = fh_itch_format(m, fh_itch_msg_len((uint8_t)*t), 5, line, sizeof(line));
		FH_CHECK(n > 0 && (size_t)n < sizeof(line));
		FH_CHECK(strstr(line, "tracking=77") != NULL);
		FH_CHECK(strstr(line, "ts=09:30:00.123456789") != NULL);
	}
	hdr('R', 1);
	fh_itch_format(m, 39, 5, line, sizeof(line));
	static const char *const rfields[] = { "stock=", "market_category=", "financial_status=",
		"round_lot=", "round_lots_only=", "issue_class=", "issue_subtype=", "authenticity=",
		"short_sale_threshold=", "ipo_flag=", "luld_tier=", "etp_flag=", "etp_leverage=",
		"inverse=" };
	for (size_t i = 0; i < FH_ARRAY_SIZE(rfields); i++)
		FH_CHECK(strstr(line, rfields[i]) != NULL);
	hdr('A', 1);
	fh_put_be32(m + 32, 1234567);
	fh_itch_format(m, 36, 5, line, sizeof(line));
	FH_CHECK(strstr(line, "price=123.4567") != NULL);
	/* a wrong length prints as such */
	fh_itch_format(m, 30, 5, line, sizeof(line));
	FH_CHECK(strstr(line, "bad_length") != NULL);
	/* truncation is safe and reports the full length */
	char small[16];
	hdr('R', 1);
	int full = fh_itch_format(m, 39, 5, line, sizeof(line));
	FH_CHECK_EQ_I(fh_itch_format(m, 39, 5, small, sizeof(small)), full);
	FH_CHECK_EQ_U(strlen(small), sizeof(small) - 1);
}

/* ---- real Nasdaq data ---- */

static int count_events(void *arg, const struct fh_event *e, unsigned n)
{
	(void)e;
	*(uint64_t *)arg += n;
	return 0;
}

static int gaps_cb(void *arg, const struct fh_event *e)
{
	struct fh_event *last = arg;
	if (e->u.feed.kind == FH_FEED_GAP)
		*last = *e;
	return 0;
}

static void test_real_snippet(void)
{
	char path[512];
	static struct fh_itch_file_stats st;
	struct fh_itch_file_ops ops = { .events = count_events };
	uint64_t events = 0;

	snprintf(path, sizeof(path), "%s/itch/12302019_SNIPPET.NASDAQ_ITCH50", fh_test_data_dir());
	if (access(path, R_OK) != 0)
		FH_SKIP("real ITCH snippet not found");
	FH_CHECK_EQ_I(fh_itch_file_replay(path, NULL, &ops, &events, &st), 0);
	FH_CHECK_EQ_U(st.format, FH_ITCH_FILE_DAY);
	static const struct { char t; unsigned n; } want[] = {
		{ 'A', 367 }, { 'C', 1 }, { 'D', 167 }, { 'E', 28 }, { 'F', 193 }, { 'I', 4 },
		{ 'P', 4 }, { 'Q', 4 }, { 'S', 1 }, { 'U', 225 }, { 'X', 6 },
	};
	uint64_t total = 0;
	for (size_t i = 0; i < FH_ARRAY_SIZE(want); i++) {
		FH_CHECK_EQ_U(st.decoder.count[(uint8_t)want[i].t], want[i].n);
		total += want[i].n;
	}
	FH_CHECK_EQ_U(fh_itch_decoder_messages(&st.decoder), 1000);
	FH_CHECK_EQ_U(total, 1000);
	FH_CHECK_EQ_U(fh_itch_file_rejects(&st), 0);
	FH_CHECK_EQ_U(events, 1000 + 4); /* I is two parts */
	/* buffered (no mmap) reads the same */
	struct fh_itch_file_cfg cfg = { .pcap_flags = FH_PCAP_BUFFERED };
	events = 0;
	FH_CHECK_EQ_I(fh_itch_file_replay(path, &cfg, &ops, &events, &st), 0);
	FH_CHECK_EQ_U(events, 1004);
}

static void test_real_omi_pcaps(void)
{
	static const struct { const char *name; char type; unsigned n; } files[] = {
		{ ".20230822__AddOrderNoMPID", 'A', 5 },
		{ ".20230822__AddOrderWithMPID", 'F', 5 },
		{ ".20230822__CrossTrade", 'Q', 5 },
		{ ".20230822__LULDAuctionCollar", 'J', 5 },
		{ ".20230822__MarketParticipantPosition", 'L', 5 },
		{ ".20230822__NetOrderImbalanceIndicator", 'I', 5 },
		{ ".20230822__NonCrossTrade", 'P', 5 },
		{ ".20230822__OrderCancel", 'X', 5 },
		{ ".20230822__OrderDelete", 'D', 5 },
		{ ".20230822__OrderExecuted", 'E', 5 },
		{ ".20230822__OrderExecutedWithPrice", 'C', 5 },
		{ ".20230822__OrderReplace", 'U', 5 },
		{ ".20230822__RegSHORestriction", 'Y', 5 },
		{ ".20230822__StockTradingAction", 'H', 5 },
		{ ".20230822__SystemEvent", 'S', 1 },
		{ "__AddOrderNoMpidAttributionMessage", 'A', 1 },
		{ "__MarketParticipantPositionMessage", 'L', 1 },
		{ "__NetOrderImbalanceIndicatorMessage", 'I', 1 },
		{ "__OrderDeleteMessage", 'D', 1 },
		{ "__OrderExecutedMessage", 'E', 1 },
		{ "__OrderReplaceMessage", 'U', 1 },
		{ "__StockTradingActionMessage", 'H', 1 },
	};
	static struct fh_itch_file_stats st;
	struct fh_itch_file_ops ops = { .events = count_events };
	char path[512];

	snprintf(path, sizeof(path), "%s/itch/omi", fh_test_data_dir());
	if (access(path, R_OK) != 0)
		FH_SKIP("OMI pcaps not found");
	for (size_t i = 0; i < FH_ARRAY_SIZE(files); i++) {
		uint64_t events = 0;
		snprintf(path, sizeof(path), "%s/itch/omi/Nasdaq.Equities.TotalView.Itch.v5.0%s.pcap",
			 fh_test_data_dir(), files[i].name);
		FH_CHECK_EQ_I(fh_itch_file_replay(path, NULL, &ops, &events, &st), 0);
		FH_CHECK_EQ_U(st.format, FH_ITCH_FILE_PCAP);
		FH_CHECK_EQ_U(st.decoder.count[(uint8_t)files[i].type], files[i].n);
		FH_CHECK_EQ_U(fh_itch_decoder_messages(&st.decoder), files[i].n);
		FH_CHECK_EQ_U(fh_itch_file_rejects(&st), 0);
		/* the 20230822 captures have their sequence zeroed: delivered unsequenced */
		FH_CHECK_EQ_U(st.mold.unsequenced, files[i].name[1] == '2' ? st.mold.packets : 0);
		if (fh_itch_file_rejects(&st) || fh_itch_decoder_messages(&st.decoder) != files[i].n)
			fprintf(stderr, "  file %s\n", files[i].name);
	}
}

static void test_real_vlan_wire_capture(void)
{
	static struct fh_itch_file_stats st;
	struct fh_event gap = { 0 };
	struct fh_itch_file_ops ops = { .events = count_events, .status = gaps_cb };
	uint64_t events = 0;
	char path[512];

	snprintf(path, sizeof(path),
		 "%s/itch/omi/Nasdaq.Equities.TotalView.Itch.v5.0__Multiple.Packets.pcap",
		 fh_test_data_dir());
	if (access(path, R_OK) != 0)
		FH_SKIP("VLAN wire capture not found");
	/* a custom ops struct that also sees the gap */
	struct fh_itch_file_cfg cfg = { .filter = { .dst_ip = (233u << 24) | (54u << 16) | (12u << 8) | 111u,
						    .dst_port = 26477 } };
	FH_CHECK_EQ_I(fh_itch_file_replay(path, &cfg, &ops, &gap, &st), 0);
	(void)events;
	FH_CHECK_EQ_U(st.pkt.frames, 2);
	FH_CHECK_EQ_U(st.pkt.udp, 2);
	FH_CHECK_EQ_U(fh_itch_decoder_messages(&st.decoder), 39);
	FH_CHECK_EQ_U(st.decoder.count['A'], 36);
	FH_CHECK_EQ_U(st.decoder.count['F'], 2);
	FH_CHECK_EQ_U(st.decoder.count['D'], 1);
	FH_CHECK_EQ_U(fh_itch_file_rejects(&st), 0);
	FH_CHECK_EQ_U(st.mold.gaps_count, 1);
	FH_CHECK_EQ_U(gap.u.feed.kind, FH_FEED_GAP);
	FH_CHECK_EQ_U(gap.u.feed.first_seq, 14764497);
	FH_CHECK_EQ_U(gap.u.feed.last_seq, 19009116);
	FH_CHECK(memcmp(gap.u.feed.session, "000010059B", 10) == 0);
	/* another group filters everything out */
	cfg.filter.dst_port = 1;
	FH_CHECK_EQ_I(fh_itch_file_replay(path, &cfg, &ops, &gap, &st), 0);
	FH_CHECK_EQ_U(st.pkt.result[FH_PKT_SKIP_FILTERED], 2);
	FH_CHECK_EQ_U(fh_itch_decoder_messages(&st.decoder), 0);
}

/* ---- day-file framing errors ---- */

static void test_day_file_framing(void)
{
	uint8_t buf[128];
	size_t n = 0;
	char path[64];
	struct fh_dlq d;
	struct dlq_seen s = { 0 };
	static struct fh_itch_file_stats st;
	struct fh_itch_file_ops ops = { .events = count_events };
	uint64_t events = 0;

	snprintf(path, sizeof(path), "/tmp/fh-test-itchday-%d.dlq", (int)getpid());
	FH_CHECK_EQ_I(fh_dlq_open(&d, path, 0), 0);
	hdr('D', 3);
	fh_put_be16(buf + n, 19);
	memcpy(buf + n + 2, m, 19);
	n += 21;
	fh_put_be16(buf + n, 0); /* zero length */
	n += 2;
	fh_put_be16(buf + n, 19);
	memcpy(buf + n + 2, m, 19);
	n += 21;
	fh_put_be16(buf + n, 19); /* cut by the end of the file */
	memcpy(buf + n + 2, m, 10);
	n += 12;
	struct fh_itch_file_cfg cfg = { .dlq = &d, .source_id = 2 };
	FH_CHECK_EQ_I(fh_itch_file_replay_mem(buf, n, &cfg, &ops, &events, &st), 0);
	FH_CHECK_EQ_U(st.decoder.count['D'], 2);
	FH_CHECK_EQ_U(st.rejects[FH_ITCH_REJ_BAD_BLOCK_LEN], 1);
	FH_CHECK_EQ_U(st.rejects[FH_ITCH_REJ_OVERRUN], 1);
	FH_CHECK_EQ_U(fh_itch_file_rejects(&st), 2);
	fh_dlq_close(&d);
	FH_CHECK_EQ_I(fh_dlq_read(path, collect, &s), 2);
	FH_CHECK_STR(s.reason[0], "bad_block_len");
	FH_CHECK_EQ_U(s.seq[0], 2);
	FH_CHECK_STR(s.reason[1], "overrun");
	FH_CHECK_EQ_U(s.seq[1], 3);
	FH_CHECK_EQ_U(s.len[1], 12);
	FH_CHECK_EQ_U(s.source[1], 2);
	unlink(path);
}

static const struct fh_test_case cases[] = {
	FH_CASE(test_length_table),
	FH_CASE(test_orders),
	FH_CASE(test_trades),
	FH_CASE(test_system_directory_status),
	FH_CASE(test_reference_types),
	FH_CASE(test_hot_path_matches_switch),
	FH_CASE(test_reject_unknown_type_and_bad_length),
	FH_CASE(test_every_wrong_length),
	FH_CASE(test_format_every_type),
	FH_CASE(test_real_snippet),
	FH_CASE(test_real_omi_pcaps),
	FH_CASE(test_real_vlan_wire_capture),
	FH_CASE(test_day_file_framing),
	{ 0 },
};

int main(int argc, char **argv)
{
	return fh_test_main(argc, argv, cases);
}
