/* SPDX-License-Identifier: MIT */
/* test_fix.c: FIX decoder on the real JSE capture, the Binance examples and crafted messages. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fh_common.h"
#include "fh_dlq.h"
#include "fh_fix.h"
#include "fh_test.h"

static uint8_t *slurp(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	uint8_t *b;
	long n;

	snprintf(path, sizeof(path), "%s/fix/%s", fh_test_data_dir(), name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc((size_t)n + 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return b;
}

static struct fh_fix_decoder *mkdec(unsigned qty_dec, bool auto_add)
{
	struct fh_fix_cfg cfg = { .qty_decimals = (uint8_t)qty_dec, .auto_add = auto_add,
				  .max_instruments = 8, .max_entries = 16, .max_msg_len = 4096 };
	return fh_fix_create(&cfg);
}

/* Builds a message from "tag=v|tag=v|" (| = SOH) with correct 9 and 10. */
static size_t mk(char *out, size_t cap, const char *ver, const char *type, const char *body)
{
	char b[2048];
	size_t n = strlen(body);
	for (size_t i = 0; i < n; i++)
		b[i] = body[i] == '|' ? FH_FIX_SOH : body[i];
	long l = fh_fix_build(out, cap, ver, type, b, n);
	return l > 0 ? (size_t)l : 0;
}

/* Turns a '|' text message into SOH bytes in place. */
static size_t soh(char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i++)
		if (s[i] == '|')
			s[i] = FH_FIX_SOH;
	return n;
}

static struct fh_event ev[128];

static void test_jse_capture(void)
{
	size_t len, off = 0, skip;
	uint8_t *buf = slurp("jse_ftse_fixt11_600_from_first_X.fix", &len);
	struct fh_fix_decoder *d = mkdec(0, true);
	unsigned x = 0, hb = 0, other = 0, stat = 0, instr = 0, gaps = 0, none = 0;

	if (!buf)
		FH_SKIP("jse capture not found");
	while (off < len) {
		long n = fh_fix_frame(buf + off, len - off, 0, &skip);
		FH_CHECK(n > 0);
		if (n <= 0)
			break;
		struct fh_fix_msg m;
		int k = fh_fix_decode(d, buf + off + skip, (size_t)n, 0, &m, ev, FH_ARRAY_SIZE(ev));
		FH_CHECK(k >= 0);
		if (!strcmp(m.type, "X"))
			x++;
		else if (!strcmp(m.type, "0"))
			hb++;
		else
			other++;
		for (int i = 0; i < k; i++) {
			if (ev[i].type == FH_EV_MARKET_STAT) {
				stat++;
				FH_CHECK_EQ_U(ev[i].seq, m.appl_seq);
				if (ev[i].u.stat.value == FH_PRICE_NONE && ev[i].u.stat.entry_type[0] == '3')
					none++;
			} else if (ev[i].type == FH_EV_INSTRUMENT) {
				instr++;
			} else if (ev[i].type == FH_EV_FEED_STATUS && ev[i].u.feed.kind == FH_FEED_GAP) {
				gaps++;
			}
		}
		/* first message: 1181=82, JA00 index value 76.79 at 2011-11-24 06:30:00 */
		if (off == 0) {
			FH_CHECK_EQ_I(k, 3);
			FH_CHECK_EQ_U(m.appl_seq, 82);
			FH_CHECK_EQ_U(m.version, FH_FIX_VT11);
			FH_CHECK_EQ_U(ev[0].type, FH_EV_INSTRUMENT);
			FH_CHECK_STR(ev[0].u.instr.symbol, "JA00");
			FH_CHECK_EQ_U(ev[2].type, FH_EV_MARKET_STAT);
			FH_CHECK_EQ_I(ev[2].u.stat.value, 7679000000LL);
			FH_CHECK_EQ_U(ev[2].exch_ts_ns, 1322116200000000000ull);
			FH_CHECK(ev[1].u.stat.entry_type[0] == 'x');
		}
		off += skip + (size_t)n;
	}
	FH_CHECK_EQ_U(x, 218);
	FH_CHECK_EQ_U(hb, 382);
	FH_CHECK_EQ_U(other, 0);
	for (unsigned r = 0; r < FH_FIX_REJ__COUNT; r++)
		FH_CHECK_EQ_U(d->rejects[r], 0);
	FH_CHECK_EQ_U(instr, 4);
	FH_CHECK_EQ_U(stat, 222);
	/* the capture's own RptSeq jumps (JA30 5->7, JA3R 34->36) */
	FH_CHECK_EQ_U(gaps, 2);
	FH_CHECK_EQ_U(d->rptseq_gaps, 2);
	/* 270=55.229999999999 and ten like it: published without value, never rounded */
	FH_CHECK_EQ_U(d->stat_inexact, 11);
	FH_CHECK_EQ_U(none, 11);
	fh_fix_destroy(d);
	free(buf);
}

static void test_binance_examples(void)
{
	size_t len;
	uint8_t *buf = slurp("binance_fix_api_examples.txt", &len);
	struct fh_fix_decoder *d = mkdec(8, true);
	char types[32] = { 0 };
	int ok = 0, bad = 0;

	if (!buf)
		FH_SKIP("binance examples not found");
	buf[len] = 0;
	char *save = NULL;
	for (char *line = strtok_r((char *)buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		size_t n = soh(line);
		struct fh_fix_msg m;
		int k = fh_fix_decode(d, (uint8_t *)line, n, 0, &m, ev, FH_ARRAY_SIZE(ev));
		if (k >= 0) {
			types[ok++] = m.type[0];
			if (!strcmp(m.type, "X")) {
				/* 3 trades, Symbol only on the first entry */
				FH_CHECK_EQ_I(k, 4);
				FH_CHECK_EQ_U(ev[0].type, FH_EV_INSTRUMENT);
				FH_CHECK_STR(ev[0].u.instr.symbol, "BNBBUSD");
				for (int i = 1; i < 4; i++) {
					FH_CHECK_EQ_U(ev[i].type, FH_EV_TRADE);
					FH_CHECK_EQ_U(ev[i].instrument, ev[0].instrument);
					FH_CHECK_EQ_I(ev[i].u.trade.price, 1000000000LL);
					FH_CHECK_EQ_U(ev[i].u.trade.qty, 1000000); /* 0.01 at 8 decimals */
					FH_CHECK_EQ_U(ev[i].u.trade.match_no, (unsigned)(i - 1));
					FH_CHECK_EQ_U(ev[i].u.trade.kind, FH_TRADE_FIX);
					FH_CHECK_EQ_U(ev[i].seq, 16);
					FH_CHECK_EQ_U(ev[i].exch_ts_ns, 1729316411464000000ull);
				}
			}
			if (!strcmp(m.type, "A") && m.sender.len == 7)
				FH_CHECK_EQ_U(m.heart_bt_int, 30);
		} else {
			bad++;
			/* V, W and Y: BodyLength wrong, and CheckSum wrong as well */
			FH_CHECK(!strcmp(m.type, "") );
			FH_CHECK_EQ_I(k, -FH_FIX_REJ_BAD_BODY_LENGTH);
			const char *t = strstr(line, "\00135=");
			FH_CHECK(t && (t[4] == 'V' || t[4] == 'W' || t[4] == 'Y'));
			const char *tr = strstr(line, "\00110=");
			FH_CHECK(tr != NULL);
			if (tr) {
				unsigned declared = (unsigned)atoi(tr + 4);
				FH_CHECK(declared != fh_fix_checksum((uint8_t *)line, (size_t)(tr + 1 - line)));
			}
		}
	}
	FH_CHECK_EQ_I(ok, 10);
	FH_CHECK_EQ_I(bad, 6);
	FH_CHECK_STR(types, "AAAA55BxyX");
	FH_CHECK_EQ_U(d->rejects[FH_FIX_REJ_BAD_BODY_LENGTH], 6);

	/* The same V with BodyLength fixed is still rejected, now for its CheckSum. */
	char v[] = "8=FIX.4.4|9=133|35=V|49=TRADER1|56=SPOT|34=4|52=20241122-06:17:14.183428|"
		   "262=BOOK_TICKER_STREAM|263=1|264=1|266=Y|146=1|55=BTCUSDT|267=2|269=0|269=1|10=010|";
	struct fh_fix_msg m;
	FH_CHECK_EQ_I(fh_fix_decode(d, (uint8_t *)v, soh(v), 0, &m, ev, 128), -FH_FIX_REJ_BAD_CHECKSUM);
	char v2[] = "8=FIX.4.4|9=133|35=V|49=TRADER1|56=SPOT|34=4|52=20241122-06:17:14.183428|"
		    "262=BOOK_TICKER_STREAM|263=1|264=1|266=Y|146=1|55=BTCUSDT|267=2|269=0|269=1|10=146|";
	FH_CHECK_EQ_I(fh_fix_decode(d, (uint8_t *)v2, soh(v2), 0, &m, ev, 128), 0);
	FH_CHECK_STR(m.type, "V");
	fh_fix_destroy(d);
	free(buf);
}

static void test_decimal(void)
{
	static const struct {
		const char *s;
		unsigned dec;
		int rc;
		int64_t v;
	} t[] = {
		{ "1.5", 8, 0, 150000000LL },
		{ "-0.00000001", 8, 0, -1LL },
		{ "76.79", 8, 0, 7679000000LL },
		{ "0000000000000000000012.5", 8, 0, 1250000000LL },
		{ "1.000000000000", 8, 0, 100000000LL },
		{ "123.123456789", 8, -FH_FIX_REJ_TOO_MANY_DECIMALS, 0 },
		{ "0.01000", 2, 0, 1LL },
		{ "0.015", 2, -FH_FIX_REJ_TOO_MANY_DECIMALS, 0 },
		{ "100", 0, 0, 100LL },
		{ "92233720368.54775807", 8, 0, INT64_MAX },
		{ "92233720368.54775808", 8, -FH_FIX_REJ_BAD_PRICE, 0 },
		{ "1e5", 8, -FH_FIX_REJ_BAD_PRICE, 0 },
		{ "1.2.3", 8, -FH_FIX_REJ_BAD_PRICE, 0 },
		{ "-", 8, -FH_FIX_REJ_BAD_PRICE, 0 },
		{ ".", 8, -FH_FIX_REJ_BAD_PRICE, 0 },
		{ "", 8, -FH_FIX_REJ_BAD_PRICE, 0 },
		{ "+1", 8, -FH_FIX_REJ_BAD_PRICE, 0 },
		{ ".5", 8, 0, 50000000LL },
	};
	for (size_t i = 0; i < FH_ARRAY_SIZE(t); i++) {
		int64_t v = 0;
		int rc = fh_fix_parse_decimal(t[i].s, strlen(t[i].s), t[i].dec, &v);
		FH_CHECK_EQ_I(rc, t[i].rc);
		if (rc == 0)
			FH_CHECK_EQ_I(v, t[i].v);
		if (rc != t[i].rc)
			fprintf(stderr, "    case %s\n", t[i].s);
	}
	uint64_t ns;
	FH_CHECK_EQ_I(fh_fix_parse_utc_ts("20241019-05:40:11.464000", 24, &ns), 0);
	FH_CHECK_EQ_U(ns, 1729316411464000000ull);
	FH_CHECK_EQ_I(fh_fix_parse_utc_ts("20240612-08:52:21.636837", 24, &ns), 0);
	FH_CHECK_EQ_U(ns, 1718182341636837000ull);
	FH_CHECK_EQ_I(fh_fix_parse_utc_ts("20241319-05:40:11", 17, &ns), -EINVAL);
	FH_CHECK_EQ_I(fh_fix_parse_utc_ts("20241019 05:40:11", 17, &ns), -EINVAL);
}

static void test_snapshot_incremental(void)
{
	struct fh_fix_decoder *d = mkdec(0, true);
	struct fh_fix_msg m;
	char b[1024];
	size_t n;
	int k;

	/* FIX 4.2 snapshot, message-level symbol, zero-padded BodyLength below */
	n = mk(b, sizeof(b), "FIX.4.2", "W",
	       "49=V|56=C|34=5|52=20240101-00:00:01|55=ABC|83=10|268=4|"
	       "269=0|270=99.5|271=100|1023=1|269=0|270=99|271=50|1023=2|346=3|"
	       "269=1|270=100.25|271=70|1023=1|269=1|270=101|271=10|1023=2|");
	k = fh_fix_decode(d, (uint8_t *)b, n, 7, &m, ev, 128);
	FH_CHECK_EQ_I(k, 6);
	FH_CHECK_EQ_U(ev[0].type, FH_EV_INSTRUMENT);
	FH_CHECK_EQ_U(ev[1].type, FH_EV_L2_UPDATE);
	FH_CHECK_EQ_U(ev[1].u.l2.action, FH_L2_CLEAR);
	FH_CHECK_EQ_U(ev[1].u.l2.side, 0);
	FH_CHECK_EQ_U(ev[2].u.l2.side, FH_SIDE_BID);
	FH_CHECK_EQ_I(ev[2].u.l2.price, 9950000000LL);
	FH_CHECK_EQ_U(ev[2].u.l2.qty, 100);
	FH_CHECK_EQ_U(ev[2].u.l2.level, 1);
	FH_CHECK_EQ_U(ev[2].u.l2.flags, FH_L2_F_SNAPSHOT);
	FH_CHECK_EQ_U(ev[3].u.l2.orders, 3);
	FH_CHECK_EQ_U(ev[4].u.l2.side, FH_SIDE_ASK);
	FH_CHECK_EQ_I(ev[4].u.l2.price, 10025000000LL);
	FH_CHECK_EQ_U(ev[5].u.l2.flags, FH_L2_F_SNAPSHOT | FH_L2_F_LAST);
	FH_CHECK_EQ_U(ev[5].seq, 5);
	FH_CHECK_EQ_U(ev[5].recv_ts_ns, 7);
	FH_CHECK_EQ_U(ev[5].exch_ts_ns, 1704067201000000000ull);

	/* 4.4 incremental: change, delete by level, new, symbol inherited, RptSeq 11 */
	char x[] = "8=FIX.4.4|9=000125|35=X|49=V|56=C|34=6|52=20240101-00:00:02|268=3|"
		   "279=1|269=0|55=ABC|270=99.5|271=120|83=11|279=2|269=1|1023=2|83=11|"
		   "279=0|269=1|270=102|271=5|83=11|10=000|";
	n = soh(x);
	/* fix the trailer: compute length and checksum the hard way, as a venue would */
	{
		char *bl = strstr(x, "\0019=") + 3;
		char *body = strchr(bl, FH_FIX_SOH) + 1;
		char *tr = strstr(x, "\00110=") + 1;
		char num[8];
		snprintf(num, sizeof(num), "%06zu", (size_t)(tr - body));
		memcpy(bl, num, 6);
		snprintf(num, sizeof(num), "%03u", fh_fix_checksum((uint8_t *)x, (size_t)(tr - x)));
		memcpy(tr + 3, num, 3);
	}
	k = fh_fix_decode(d, (uint8_t *)x, n, 0, &m, ev, 128);
	FH_CHECK_EQ_I(k, 3);
	FH_CHECK_EQ_U(ev[0].u.l2.action, FH_L2_CHANGE);
	FH_CHECK_EQ_U(ev[0].u.l2.qty, 120);
	FH_CHECK_EQ_U(ev[1].u.l2.action, FH_L2_DELETE);
	FH_CHECK_EQ_I(ev[1].u.l2.price, FH_PRICE_NONE);
	FH_CHECK_EQ_U(ev[1].u.l2.level, 2);
	FH_CHECK_EQ_U(ev[1].instrument, ev[0].instrument);
	FH_CHECK_EQ_U(ev[2].u.l2.action, FH_L2_NEW);
	FH_CHECK_EQ_U(ev[2].u.l2.flags, FH_L2_F_LAST);
	FH_CHECK_EQ_U(ev[0].u.l2.flags, 0);

	/* RptSeq jump 11 -> 14: GAP [12,13], STALE, then the update itself */
	n = mk(b, sizeof(b), "FIX.4.4", "X",
	       "49=V|56=C|34=7|52=20240101-00:00:03|268=1|279=0|269=0|55=ABC|270=98|271=1|83=14|");
	k = fh_fix_decode(d, (uint8_t *)b, n, 0, &m, ev, 128);
	FH_CHECK_EQ_I(k, 3);
	FH_CHECK_EQ_U(ev[0].type, FH_EV_FEED_STATUS);
	FH_CHECK_EQ_U(ev[0].u.feed.kind, FH_FEED_GAP);
	FH_CHECK_EQ_U(ev[0].u.feed.first_seq, 12);
	FH_CHECK_EQ_U(ev[0].u.feed.last_seq, 13);
	FH_CHECK_EQ_U(ev[1].u.feed.kind, FH_FEED_STALE);
	FH_CHECK_EQ_U(ev[2].type, FH_EV_L2_UPDATE);
	FH_CHECK(fh_fix_instrument(d, 0)->stale);

	/* A fresh snapshot: FRESH, CLEAR, levels */
	n = mk(b, sizeof(b), "FIX.4.4", "W",
	       "49=V|56=C|34=8|52=20240101-00:00:04|55=ABC|83=20|268=1|269=0|270=97|271=3|");
	k = fh_fix_decode(d, (uint8_t *)b, n, 0, &m, ev, 128);
	FH_CHECK_EQ_I(k, 3);
	FH_CHECK_EQ_U(ev[0].type, FH_EV_FEED_STATUS);
	FH_CHECK_EQ_U(ev[0].u.feed.kind, FH_FEED_FRESH);
	FH_CHECK_EQ_U(ev[1].u.l2.action, FH_L2_CLEAR);
	FH_CHECK(!fh_fix_instrument(d, 0)->stale);
	FH_CHECK_EQ_U(fh_fix_instrument(d, 0)->rptseq, 20);

	/* stats and trades with aggressor; 269=J clears */
	n = mk(b, sizeof(b), "FIX.4.4", "X",
	       "49=V|56=C|34=9|52=20240101-00:00:05|268=4|279=0|269=2|55=ABC|270=97.5|271=4|"
	       "2446=1|1003=77|279=0|269=4|270=96|279=0|269=7|270=99|279=0|269=J|");
	k = fh_fix_decode(d, (uint8_t *)b, n, 0, &m, ev, 128);
	FH_CHECK_EQ_I(k, 4);
	FH_CHECK_EQ_U(ev[0].type, FH_EV_TRADE);
	FH_CHECK_EQ_U(ev[0].u.trade.side, FH_SIDE_ASK);
	FH_CHECK_EQ_U(ev[0].u.trade.match_no, 77);
	FH_CHECK_EQ_U(ev[1].type, FH_EV_MARKET_STAT);
	FH_CHECK(ev[1].u.stat.entry_type[0] == '4');
	FH_CHECK_EQ_I(ev[1].u.stat.value, 9600000000LL);
	FH_CHECK_EQ_U(ev[2].type, FH_EV_MARKET_STAT);
	FH_CHECK_EQ_U(ev[3].type, FH_EV_L2_UPDATE);
	FH_CHECK_EQ_U(ev[3].u.l2.action, FH_L2_CLEAR);

	/* FIXT.1.1 security list and definition; SecurityStatus halt */
	n = mk(b, sizeof(b), "FIXT.1.1", "y",
	       "49=V|56=C|34=10|52=20240101-00:00:06|320=L|146=2|55=XYZ|15=USD|55=QQQ|");
	k = fh_fix_decode(d, (uint8_t *)b, n, 0, &m, ev, 128);
	FH_CHECK_EQ_I(k, 2);
	FH_CHECK_STR(ev[0].u.instr.symbol, "XYZ");
	FH_CHECK_STR(ev[1].u.instr.symbol, "QQQ");
	n = mk(b, sizeof(b), "FIX.4.4", "f", "49=V|56=C|34=11|52=20240101-00:00:07|55=XYZ|326=2|");
	k = fh_fix_decode(d, (uint8_t *)b, n, 0, &m, ev, 128);
	FH_CHECK_EQ_I(k, 1);
	FH_CHECK_EQ_U(ev[0].type, FH_EV_TRADING_STATUS);
	FH_CHECK_EQ_U(ev[0].u.status.halted, 1);
	FH_CHECK_EQ_I(fh_fix_symtab_find(d, "QQQ", 3), 2);
	fh_fix_destroy(d);
}

static void test_rejects(void)
{
	struct fh_fix_decoder *d = mkdec(0, true);
	struct fh_fix_msg m;
	char b[1024];
	size_t n;
	static const struct {
		const char *ver, *type, *body;
		int rc;
		uint32_t tag;
	} t[] = {
		{ "FIX.4.4", "X", "34=1|268=1|279=0|269=0|55=A|270=1.123456789|271=1|",
		  FH_FIX_REJ_TOO_MANY_DECIMALS, 270 },
		{ "FIX.4.4", "X", "34=1|268=1|279=0|269=0|55=A|270=1.5|271=1.5|",
		  FH_FIX_REJ_TOO_MANY_DECIMALS, 271 },
		{ "FIX.4.4", "X", "34=1|268=1|279=0|269=0|55=A|270=abc|271=1|", FH_FIX_REJ_BAD_PRICE, 270 },
		{ "FIX.4.4", "X", "34=1|268=1|279=0|269=0|55=A|270=1|271=-1|", FH_FIX_REJ_BAD_QTY, 271 },
		{ "FIX.4.4", "X", "34=1|268=2|279=0|269=0|55=A|270=1|271=1|", FH_FIX_REJ_BAD_GROUP, 268 },
		{ "FIX.4.4", "X", "34=1|268=1|279=0|269=0|270=1|271=1|", FH_FIX_REJ_MISSING_TAG, 55 },
		{ "FIX.4.4", "X", "34=1|268=1|269=0|55=A|270=1|", FH_FIX_REJ_MISSING_TAG, 279 },
		{ "FIX.4.4", "X", "34=1|268=1|279=0|269=0|55=A|271=1|", FH_FIX_REJ_MISSING_TAG, 270 },
		{ "FIX.4.4", "X", "34=1|268=1|279=9|269=0|55=A|270=1|", FH_FIX_REJ_BAD_VALUE, 279 },
		{ "FIX.4.4", "X", "34=1|55=A|", FH_FIX_REJ_MISSING_TAG, 268 },
		{ "FIX.4.4", "X", "34=1|268=99|", FH_FIX_REJ_TOO_MANY_ENTRIES, 268 },
		{ "FIX.4.4", "X", "34=1|268=1|279=0|269=0|55=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456|270=1|",
		  FH_FIX_REJ_SYMBOL_TOO_LONG, 55 },
		{ "FIX.4.4", "X", "34=x1|", FH_FIX_REJ_BAD_VALUE, 34 },
		{ "FIX.4.4", "0", "34=1|abc=1|", FH_FIX_REJ_GARBLED, 0 },
		{ "FIX.4.4", "0", "34=1|58|", FH_FIX_REJ_GARBLED, 58 },
		{ "FIX.4.4", "0", "34=1|58=|", FH_FIX_REJ_GARBLED, 58 },
		{ "FIX.4.4", "0", "34=1|=5|", FH_FIX_REJ_GARBLED, 0 },
		{ "FIX.4.4", "D", "34=1|", FH_FIX_REJ_UNSUPPORTED_TYPE, 35 },
		{ "FIX.4.4", "AE", "34=1|", FH_FIX_REJ_UNSUPPORTED_TYPE, 35 },
		{ "FIX.4.4", "1", "34=1|", FH_FIX_REJ_MISSING_TAG, 112 },
		{ "FIX.4.4", "2", "34=1|7=1|", FH_FIX_REJ_MISSING_TAG, 16 },
		{ "FIX.4.4", "4", "34=1|", FH_FIX_REJ_MISSING_TAG, 36 },
		{ "FIX.3.9", "0", "34=1|", FH_FIX_REJ_BAD_BEGIN_STRING, 8 },
		{ "FIX.4.4", "0", "34=1|95=3|96=a\001b|", 0, 0 },
		{ "FIX.4.4", "0", "34=1|95=4|96=a\001b|", FH_FIX_REJ_GARBLED, 96 },
	};
	for (size_t i = 0; i < FH_ARRAY_SIZE(t); i++) {
		n = mk(b, sizeof(b), t[i].ver, t[i].type, t[i].body);
		FH_CHECK(n > 0);
		int k = fh_fix_decode(d, (uint8_t *)b, n, 0, &m, ev, 128);
		FH_CHECK_EQ_I(k < 0 ? k : 0, -t[i].rc);
		FH_CHECK_EQ_U(m.reject_tag, t[i].tag);
		if ((k < 0 ? k : 0) != -t[i].rc || m.reject_tag != t[i].tag)
			fprintf(stderr, "    case %zu: %s got %d tag %u\n", i, t[i].body, k, m.reject_tag);
	}
	/* nothing was applied from rejected messages */
	FH_CHECK_EQ_U(d->events, 0);

	/* checksum, length, trailer, oversize */
	n = mk(b, sizeof(b), "FIX.4.4", "0", "34=1|49=A|56=B|");
	b[n - 2] = b[n - 2] == '9' ? '0' : (char)(b[n - 2] + 1);
	FH_CHECK_EQ_I(fh_fix_decode(d, (uint8_t *)b, n, 0, &m, ev, 128), -FH_FIX_REJ_BAD_CHECKSUM);
	n = mk(b, sizeof(b), "FIX.4.4", "0", "34=1|49=A|56=B|");
	FH_CHECK_EQ_I(fh_fix_decode(d, (uint8_t *)b, n - 1, 0, &m, ev, 128), -FH_FIX_REJ_TRUNCATED);
	FH_CHECK_EQ_I(fh_fix_decode(d, (uint8_t *)b + 1, n - 1, 0, &m, ev, 128),
		      -FH_FIX_REJ_BAD_BEGIN_STRING);
	char big[6000];
	memset(big, 'a', sizeof(big));
	FH_CHECK_EQ_I(fh_fix_decode(d, (uint8_t *)big, sizeof(big), 0, &m, ev, 128), -FH_FIX_REJ_OVERSIZE);

	/* require_header: a session rejects messages without 34/49/56/52 */
	struct fh_fix_cfg cfg = { .require_header = true, .auto_add = true };
	struct fh_fix_decoder *ds = fh_fix_create(&cfg);
	n = mk(b, sizeof(b), "FIX.4.4", "0", "34=1|49=A|56=B|");
	FH_CHECK_EQ_I(fh_fix_decode(ds, (uint8_t *)b, n, 0, &m, ev, 128), -FH_FIX_REJ_MISSING_TAG);
	FH_CHECK_EQ_U(m.reject_tag, 52);
	n = mk(b, sizeof(b), "FIX.4.4", "0", "34=1|49=A|56=B|52=20240101-00:00:00.000|");
	FH_CHECK_EQ_I(fh_fix_decode(ds, (uint8_t *)b, n, 0, &m, ev, 128), 0);
	fh_fix_destroy(ds);
	fh_fix_destroy(d);
}

static void test_symtab(void)
{
	struct fh_fix_decoder *d = mkdec(2, false);
	struct fh_fix_msg m;
	char b[512];
	size_t n;

	n = mk(b, sizeof(b), "FIX.4.4", "X", "34=1|268=1|279=0|269=0|55=AAA|270=1|271=1.25|");
	FH_CHECK_EQ_I(fh_fix_decode(d, (uint8_t *)b, n, 0, &m, ev, 128), -FH_FIX_REJ_UNKNOWN_SYMBOL);
	FH_CHECK_EQ_I(fh_fix_symtab_add(d, "AAA", 3, 2), 0);
	FH_CHECK_EQ_I(fh_fix_symtab_add(d, "AAA", 3, 2), 0);
	FH_CHECK_EQ_I(fh_fix_decode(d, (uint8_t *)b, n, 0, &m, ev, 128), 2);
	FH_CHECK_EQ_U(ev[1].u.l2.qty, 125);
	FH_CHECK_EQ_U(ev[0].u.instr.qty_decimals, 2);
	for (int i = 1; i < 8; i++) {
		char s[8];
		snprintf(s, sizeof(s), "S%d", i);
		FH_CHECK_EQ_I(fh_fix_symtab_add(d, s, strlen(s), 0), i);
	}
	FH_CHECK_EQ_I(fh_fix_symtab_add(d, "FULL", 4, 0), -ENOSPC);
	FH_CHECK_EQ_I(fh_fix_symtab_find(d, "S7", 2), 7);
	FH_CHECK_EQ_I(fh_fix_symtab_find(d, "S8", 2), -ENOENT);
	FH_CHECK_EQ_I(fh_fix_symtab_add(d, "", 0, 0), -EINVAL);
	fh_fix_destroy(d);

	d = mkdec(0, true);
	for (int i = 0; i < 8; i++) {
		char s[8];
		snprintf(s, sizeof(s), "S%d", i);
		fh_fix_symtab_add(d, s, strlen(s), 0);
	}
	n = mk(b, sizeof(b), "FIX.4.4", "X", "34=1|268=1|279=0|269=0|55=NEW|270=1|271=1|");
	FH_CHECK_EQ_I(fh_fix_decode(d, (uint8_t *)b, n, 0, &m, ev, 128), -FH_FIX_REJ_SYMTAB_FULL);
	fh_fix_destroy(d);

	/* an OCC option symbol (21 bytes, spaces): kept whole; the event has its first 16 */
	d = mkdec(0, true);
	n = mk(b, sizeof(b), "FIX.4.4", "X",
	       "34=1|268=1|279=0|269=0|55=AAPL  240119C00190000|270=1.5|271=2|");
	FH_CHECK_EQ_I(fh_fix_decode(d, (uint8_t *)b, n, 0, &m, ev, 128), 2);
	FH_CHECK(!memcmp(ev[0].u.instr.symbol, "AAPL  240119C001", 16));
	FH_CHECK_EQ_I(fh_fix_symtab_find(d, "AAPL  240119C00190000", 21), 0);
	FH_CHECK_EQ_I(fh_fix_symtab_find(d, "AAPL  240119C00190001", 21), -ENOENT);
	fh_fix_destroy(d);
}

static void test_frame_stream(void)
{
	char s[2048];
	size_t off = 0, skip;
	size_t a = mk(s, sizeof(s), "FIX.4.4", "0", "34=1|");
	memcpy(s + a, "\r\ngarbage here|", 15);
	size_t g = 15;
	size_t c = mk(s + a + g, sizeof(s) - a - g, "FIX.4.4", "0", "34=2|");
	/* a message whose BodyLength is too short */
	size_t e = mk(s + a + g + c, sizeof(s) - a - g - c, "FIX.4.4", "0", "34=3|");
	s[a + g + c + 12] = '9'; /* "9=10" -> "9=90": past the next message */
	size_t f = mk(s + a + g + c + e, sizeof(s) - a - g - c - e, "FIX.4.4", "0", "34=4|");
	size_t total = a + g + c + e + f;
	int good = 0, rej = 0, bad_len = 0;

	while (off < total) {
		long n = fh_fix_frame((uint8_t *)s + off, total - off, 0, &skip);
		if (n > 0) {
			good++;
			off += skip + (size_t)n;
		} else if (n == 0) {
			break;
		} else {
			rej++;
			bad_len += n == -FH_FIX_REJ_BAD_BODY_LENGTH;
			FH_CHECK(skip > 0);
			off += skip;
		}
	}
	FH_CHECK_EQ_I(good, 3);
	FH_CHECK_EQ_I(rej, 2);
	FH_CHECK_EQ_I(bad_len, 1);
	FH_CHECK_EQ_U(off, total);
	/* partial messages: need more, at every cut */
	for (size_t cut = 0; cut < a; cut++)
		FH_CHECK_EQ_I(fh_fix_frame((uint8_t *)s, cut, 0, &skip), 0);
	FH_CHECK_EQ_I(fh_fix_frame((uint8_t *)s, a, 0, &skip), (long)a);
	FH_CHECK_EQ_I(fh_fix_frame((uint8_t *)s, a, 20, &skip), -FH_FIX_REJ_OVERSIZE);
}

static void test_dlq(void)
{
	struct fh_fix_decoder *d = mkdec(0, true);
	struct fh_dlq q;
	struct fh_fix_msg m;
	char path[64], b[512];
	size_t n;

	snprintf(path, sizeof(path), "/tmp/fh-test-fix-dlq-%d", (int)getpid());
	FH_CHECK_EQ_I(fh_dlq_open(&q, path, 0), 0);
	fh_fix_set_dlq(d, &q);
	n = mk(b, sizeof(b), "FIX.4.4", "X", "49=VENUE|34=42|268=1|279=0|269=0|55=A|270=1.000000001|");
	FH_CHECK_EQ_I(fh_fix_decode(d, (uint8_t *)b, n, 0, &m, ev, 128), -FH_FIX_REJ_TOO_MANY_DECIMALS);
	FH_CHECK_EQ_U(d->rejects[FH_FIX_REJ_TOO_MANY_DECIMALS], 1);
	FH_CHECK_EQ_U(q.records, 1);
	fh_dlq_close(&q);
	FH_CHECK_EQ_I(fh_dlq_read(path, NULL, NULL), 1);
	unlink(path);
	FH_CHECK_STR(fh_fix_reject_name(FH_FIX_REJ_BAD_CHECKSUM), "bad_checksum");
	FH_CHECK_STR(fh_fix_reject_name(999), "unknown");
	fh_fix_destroy(d);
}

static const struct fh_test_case cases[] = {
	FH_CASE(test_jse_capture),
	FH_CASE(test_binance_examples),
	FH_CASE(test_decimal),
	FH_CASE(test_snapshot_incremental),
	FH_CASE(test_rejects),
	FH_CASE(test_symtab),
	FH_CASE(test_frame_stream),
	FH_CASE(test_dlq),
	{ 0 },
};

int main(int argc, char **argv)
{
	return fh_test_main(argc, argv, cases);
}
