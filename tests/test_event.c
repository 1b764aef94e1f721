/* SPDX-License-Identifier: MIT */
/* test_event.c: the normalized event's layout, names and text format. */
#include <string.h>

#include "fh_event.h"
#include "fh_test.h"

static void test_layout(void)
{
	struct fh_event ev;

	FH_CHECK_EQ_U(sizeof(ev), 64);
	FH_CHECK_EQ_U(_Alignof(struct fh_event), 64);
	FH_CHECK_EQ_U(offsetof(struct fh_event, u.add.order_ref), 32);
	FH_CHECK_EQ_U(offsetof(struct fh_event, u.l2.price), 32);
	FH_CHECK_EQ_U(offsetof(struct fh_event, u.instr.symbol), 32);
	FH_CHECK_EQ_U(offsetof(struct fh_event, u.bbo.ask_qty), 56);
	/* every payload fits in the 32-byte union */
	FH_CHECK(sizeof(struct fh_ev_order_add) <= 32);
	FH_CHECK(sizeof(struct fh_ev_reference) == 32);
	FH_CHECK(sizeof(struct fh_ev_alert) == 32);
	FH_CHECK(sizeof(struct fh_ev_bar_stats) <= 32);
}

static void test_little_endian_bytes(void)
{
	struct fh_event ev;
	uint8_t b[64];

	fh_event_init(&ev, FH_EV_ORDER_ADD);
	ev.source_id = 0x0102;
	ev.instrument = 0x03040506;
	ev.seq = 0x1122334455667788ull;
	memcpy(b, &ev, sizeof(b));
	FH_CHECK_EQ_U(b[0], FH_EV_ORDER_ADD);
	FH_CHECK_EQ_U(b[1], FH_EVENT_SCHEMA_VERSION);
	FH_CHECK_EQ_U(b[2], 0x02);
	FH_CHECK_EQ_U(b[3], 0x01);
	FH_CHECK_EQ_U(b[4], 0x06);
	FH_CHECK_EQ_U(b[8], 0x88);
	FH_CHECK_EQ_U(b[15], 0x11);
}

static void test_names(void)
{
	FH_CHECK_STR(fh_event_type_name(FH_EV_L2_UPDATE), "l2_update");
	FH_CHECK_STR(fh_event_type_name(200), "unknown");
	FH_CHECK_STR(fh_event_family(FH_EV_TRADE), "trades");
	FH_CHECK_STR(fh_event_family(FH_EV_ALERT), "alerts");
	FH_CHECK_STR(fh_event_family(FH_EV_BBO), "book");
	for (unsigned t = 1; t < FH_EV__COUNT; t++)
		FH_CHECK(strcmp(fh_event_type_name(t), "unknown") != 0);
}

static void test_price_format(void)
{
	char b[32];

	fh_price_format(123 * FH_PRICE_SCALE + 4500 * FH_PRICE_ITCH_MULT, 4, b, sizeof(b));
	FH_CHECK_STR(b, "123.4500");
	fh_price_format(-(FH_PRICE_SCALE / 2), 4, b, sizeof(b));
	FH_CHECK_STR(b, "-0.5000");
	fh_price_format(123, 8, b, sizeof(b));
	FH_CHECK_STR(b, "0.00000123");
	fh_price_format(FH_PRICE_NONE, 4, b, sizeof(b));
	FH_CHECK_STR(b, "-");
	fh_price_format(INT64_MAX, 8, b, sizeof(b));
	FH_CHECK_STR(b, "92233720368.54775807");
}

static void test_format(void)
{
	struct fh_event ev;
	char b[256];

	fh_event_init(&ev, FH_EV_L2_UPDATE);
	ev.instrument = 7;
	ev.seq = 42;
	ev.u.l2.side = FH_SIDE_BID;
	ev.u.l2.level = 1;
	ev.u.l2.action = FH_L2_NEW;
	ev.u.l2.price = 10 * FH_PRICE_SCALE;
	ev.u.l2.qty = 300;
	ev.u.l2.orders = 2;
	int n = fh_event_format(&ev, b, sizeof(b));
	FH_CHECK(n > 0 && (size_t)n == strlen(b));
	FH_CHECK(strstr(b, "l2_update") == b);
	FH_CHECK(strstr(b, "side=B level=1 action=1 px=10.0000 qty=300 orders=2") != NULL);
	/* truncation never overruns */
	char small[8];
	memset(small, 'x', sizeof(small));
	fh_event_format(&ev, small, 4);
	FH_CHECK(small[3] == 0 && small[4] == 'x');
}

static const struct fh_test_case cases[] = {
	FH_CASE(test_layout),
	FH_CASE(test_little_endian_bytes),
	FH_CASE(test_names),
	FH_CASE(test_price_format),
	FH_CASE(test_format),
	{ 0 },
};

int main(int argc, char **argv)
{
	return fh_test_main(argc, argv, cases);
}
