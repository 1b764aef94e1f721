/* SPDX-License-Identifier: MIT */
/* test_kafka.c: JSON encoding, topic families, mock-cluster round trip, dead-lettering, queue policies, shutdown report. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "fh_json.h"
#include "fh_kafka.h"
#include "fh_publisher.h"
#include "fh_test.h"

static char prefix[64];

static void test_json_fields(void)
{
	struct fh_event ev;
	char buf[FH_JSON_MAX];

	fh_event_init(&ev, FH_EV_TRADE);
	ev.source_id = 3;
	ev.instrument = 13;
	ev.seq = 99;
	ev.u.trade.price = 12345 * (FH_PRICE_SCALE / 100); /* 123.45 */
	ev.u.trade.qty = 200;
	ev.u.trade.side = FH_SIDE_BID;
	ev.u.trade.kind = FH_TRADE_EXEC;
	int n = fh_json_encode(&ev, "AAPL", buf, sizeof(buf));
	FH_CHECK(n > 0 && (size_t)n == strlen(buf));
	FH_CHECK(strstr(buf, "{\"type\":\"trade\",\"type_id\":6,\"version\":1,\"source\":3,\"instrument\":13,"
			     "\"symbol\":\"AAPL\",\"seq\":99,") == buf);
	FH_CHECK(strstr(buf, "\"price\":123.45000000,\"qty\":200") != NULL);
	FH_CHECK(strstr(buf, "\"side\":\"B\",\"kind\":\"E\"") != NULL);
	FH_CHECK(buf[n - 1] == '}');

	ev.u.trade.price = -5; /* negative fixed point */
	fh_json_encode(&ev, NULL, buf, sizeof(buf));
	FH_CHECK(strstr(buf, "\"price\":-0.00000005") != NULL);
	FH_CHECK(strstr(buf, "symbol") == NULL);

	fh_event_init(&ev, FH_EV_BBO);
	ev.instrument = FH_INSTRUMENT_NONE;
	ev.u.bbo.bid_px = FH_PRICE_NONE;
	ev.u.bbo.ask_px = FH_PRICE_SCALE;
	fh_json_encode(&ev, "", buf, sizeof(buf));
	FH_CHECK(strstr(buf, "\"instrument\":null") != NULL);
	FH_CHECK(strstr(buf, "\"bid_px\":null") != NULL);
	FH_CHECK(strstr(buf, "\"ask_px\":1.00000000") != NULL);
}

static void test_json_escaping_and_space(void)
{
	struct fh_event ev;
	char buf[FH_JSON_MAX];

	fh_event_init(&ev, FH_EV_INSTRUMENT);
	memcpy(ev.u.instr.symbol, "A\"B\\C\x01\x7f", 7);
	fh_json_encode(&ev, NULL, buf, sizeof(buf));
	FH_CHECK(strstr(buf, "\"instr_symbol\":\"A\\\"B\\\\C\\u0001\\u007f\"") != NULL);
	FH_CHECK_EQ_I(fh_json_encode(&ev, NULL, buf, 10), -ENOSPC);
	FH_CHECK_EQ_I(fh_json_encode(&ev, NULL, buf, 0), -ENOSPC);

	fh_event_init(&ev, FH_EV_ALERT);
	ev.u.alert.value = 0.0 / 0.0; /* NaN is not JSON */
	ev.u.alert.threshold = 2.5;
	fh_json_encode(&ev, NULL, buf, sizeof(buf));
	FH_CHECK(strstr(buf, "\"value\":null,\"threshold\":2.5") != NULL);

	/* every type fits FH_JSON_MAX even with the longest text */
	for (unsigned t = 0; t <= FH_EV__COUNT; t++) {
		fh_event_init(&ev, t);
		memset(&ev.u, 0x7f, sizeof(ev.u));
		ev.seq = UINT64_MAX;
		ev.exch_ts_ns = ev.recv_ts_ns = UINT64_MAX;
		FH_CHECK(fh_json_encode(&ev, "0123456789abcdef", buf, sizeof(buf)) > 0);
	}
}

static void test_families(void)
{
	for (unsigned t = 0; t < FH_EV__COUNT; t++)
		FH_CHECK_STR(fh_kafka_family_name(fh_kafka_family_of(t)), fh_event_family(t));
	FH_CHECK_EQ_I(fh_kafka_family_of(FH_EV_TRADE), FH_KF_TRADES);
	FH_CHECK_EQ_I(fh_kafka_family_of(FH_EV_L2_UPDATE), FH_KF_BOOK);
	FH_CHECK_EQ_I(fh_kafka_family_of(FH_EV_INSTRUMENT), FH_KF_REFERENCE);
	FH_CHECK_EQ_I(fh_kafka_family_of(200), FH_KF_STATUS);
	FH_CHECK_EQ_I(fh_kafka_family_parse("bars"), FH_KF_BARS);
	FH_CHECK_EQ_I(fh_kafka_family_parse("nope"), -1);
}

static struct fh_kafka *mock(struct fh_kafka_cfg *c)
{
	char err[512];
	c->topic_prefix = prefix;
	struct fh_kafka *k = fh_kafka_create(c, err, sizeof(err));
	if (!k)
		fprintf(stderr, "  fh_kafka_create: %s\n", err);
	return k;
}

static void instrument(struct fh_event *ev, uint32_t id, const char *sym)
{
	fh_event_init(ev, FH_EV_INSTRUMENT);
	ev->source_id = 1;
	ev->instrument = id;
	snprintf(ev->u.instr.symbol, sizeof(ev->u.instr.symbol), "%s", sym);
}

struct consumed {
	int n, bad_key, bad_value, bad_header;
};

/* An independent librdkafka consumer reads every partition of topic. */
static void consume(const char *bootstrap, const char *topic, int want, const char *key,
		    const char *needle, struct consumed *out)
{
	char err[256];
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, err, sizeof(err));
	rd_kafka_conf_set(c, "group.id", "fh-test", err, sizeof(err));
	rd_kafka_conf_set(c, "log_level", "3", err, sizeof(err));
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof(err));
	if (!rk)
		return;
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(3);
	for (int p = 0; p < 3; p++)
		rd_kafka_topic_partition_list_add(l, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	uint64_t t_end = fh_clock_ns(CLOCK_MONOTONIC) + 20000000000ull;
	while (out->n < want && fh_clock_ns(CLOCK_MONOTONIC) < t_end) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
		if (!m)
			continue;
		if (!m->err) {
			out->n++;
			if (m->key_len != strlen(key) || memcmp(m->key, key, m->key_len))
				out->bad_key++;
			char v[FH_JSON_MAX + 1] = { 0 };
			memcpy(v, m->payload, m->len < FH_JSON_MAX ? m->len : FH_JSON_MAX);
			if (needle && !strstr(v, needle))
				out->bad_value++;
			rd_kafka_headers_t *h = NULL;
			const void *hv;
			size_t hl;
			if (rd_kafka_message_headers(m, &h) ||
			    rd_kafka_header_get_last(h, "fh-schema-version", &hv, &hl) || hl != 1 ||
			    *(const char *)hv != '0' + FH_EVENT_SCHEMA_VERSION)
				out->bad_header++;
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
}

static void test_mock_round_trip(void)
{
	struct fh_kafka_cfg c = { .linger_ms = 1 };
	c.json[FH_KF_TRADES] = true;
	struct fh_kafka *k = mock(&c);
	struct fh_event ev;
	if (!k)
		FH_SKIP("no mock cluster");
	FH_CHECK(strncmp(fh_kafka_bootstrap(k), "127.0.0.1:", 10) == 0);
	instrument(&ev, 5, "AAPL");
	FH_CHECK_EQ_I(fh_kafka_produce(k, &ev), 0);
	for (int i = 0; i < 500; i++) {
		fh_event_init(&ev, FH_EV_TRADE);
		ev.source_id = 1;
		ev.instrument = 5;
		ev.seq = (uint64_t)i;
		ev.u.trade.price = FH_PRICE_SCALE;
		FH_CHECK_EQ_I(fh_kafka_produce(k, &ev), 0);
	}
	for (int i = 0; i < 10; i++) {
		fh_event_init(&ev, FH_EV_L2_UPDATE);
		ev.source_id = 1;
		ev.instrument = 6; /* never announced: key "1:6" */
		FH_CHECK_EQ_I(fh_kafka_produce(k, &ev), 0);
	}
	FH_CHECK_EQ_U(fh_kafka_flush(k, 10000), 0);
	struct fh_kafka_stats st;
	fh_kafka_get_stats(k, &st);
	FH_CHECK_EQ_U(st.produced[FH_KF_TRADES], 500);
	FH_CHECK_EQ_U(st.delivered[FH_KF_TRADES], 500);
	FH_CHECK_EQ_U(st.delivered[FH_KF_BOOK], 10);
	FH_CHECK_EQ_U(st.delivered[FH_KF_REFERENCE], 1);
	FH_CHECK_EQ_U(st.failed[FH_KF_TRADES], 0);

	struct consumed t = { 0 }, b = { 0 };
	char topic[128];
	snprintf(topic, sizeof(topic), "%s.trades", prefix);
	FH_CHECK_STR(fh_kafka_topic(k, FH_KF_TRADES), topic);
	consume(fh_kafka_bootstrap(k), topic, 500, "AAPL", "\"symbol\":\"AAPL\"", &t);
	FH_CHECK_EQ_I(t.n, 500);
	FH_CHECK_EQ_I(t.bad_key, 0);
	FH_CHECK_EQ_I(t.bad_value, 0);
	FH_CHECK_EQ_I(t.bad_header, 0);
	snprintf(topic, sizeof(topic), "%s.book", prefix);
	consume(fh_kafka_bootstrap(k), topic, 10, "1:6", NULL, &b);
	FH_CHECK_EQ_I(b.n, 10);
	FH_CHECK_EQ_I(b.bad_key, 0);
	FH_CHECK_EQ_U(fh_kafka_destroy(k, 1000), 0);
}

static int count_kafka_reasons(const struct fh_dlq_rec *r, const uint8_t *b, void *arg)
{
	(void)b;
	if (strncmp(r->reason, "kafka_", 6) == 0)
		(*(int *)arg)++;
	return 0;
}

static void test_failed_delivery_dead_lettered(void)
{
	char path[64];
	struct fh_dlq dlq;
	snprintf(path, sizeof(path), "/tmp/fh-test-kafka-dlq-%d", (int)getpid());
	FH_CHECK_EQ_I(fh_dlq_open(&dlq, path, 0), 0);
	const char *props[] = { "message.timeout.ms", "1500", NULL };
	struct fh_kafka_cfg c = { .linger_ms = 1, .dlq = &dlq, .props = props };
	struct fh_kafka *k = mock(&c);
	struct fh_event ev;
	if (!k) {
		fh_dlq_close(&dlq);
		FH_SKIP("no mock cluster");
	}
	/* learn the topic's partitions first, then make produce requests fail
	 * permanently (MESSAGE_TOO_LARGE is not retried) */
	fh_event_init(&ev, FH_EV_BAR);
	FH_CHECK_EQ_I(fh_kafka_produce(k, &ev), 0);
	FH_CHECK_EQ_U(fh_kafka_flush(k, 10000), 0);
	FH_CHECK_EQ_I(fh_kafka_mock_fail_produce(k, 64, 10), 0);
	FH_CHECK_EQ_I(fh_kafka_mock_set_down(k, 4, true), -EINVAL);
	for (int i = 0; i < 20; i++) {
		fh_event_init(&ev, FH_EV_BAR);
		ev.source_id = 2;
		ev.instrument = 1;
		ev.seq = 1000 + (uint64_t)i;
		FH_CHECK_EQ_I(fh_kafka_produce(k, &ev), 0);
	}
	struct fh_kafka_stats st;
	uint64_t t_end = fh_clock_ns(CLOCK_MONOTONIC) + 15000000000ull;
	do {
		fh_kafka_poll(k, 100);
		fh_kafka_get_stats(k, &st);
	} while (st.failed[FH_KF_BARS] < 20 && fh_clock_ns(CLOCK_MONOTONIC) < t_end);
	FH_CHECK_EQ_U(st.failed[FH_KF_BARS], 20);
	FH_CHECK_EQ_U(st.delivered[FH_KF_BARS], 1);
	fh_kafka_destroy(k, 0);
	fh_dlq_close(&dlq);
	int n = 0;
	FH_CHECK_EQ_I(fh_dlq_read(path, count_kafka_reasons, &n), 20);
	FH_CHECK_EQ_I(n, 20);
	unlink(path);
}

/* Publisher with Kafka: a tiny queue and brokers down. */
static struct fh_pub *pub_kafka(struct fh_spsc **ring, struct fh_kafka_cfg *kc, enum fh_pub_full_policy pol,
				const char *spill)
{
	char err[512];
	if (posix_memalign((void **)ring, 64, fh_spsc_memsize(1024)))
		return NULL;
	fh_spsc_init(*ring, 1024);
	kc->topic_prefix = prefix;
	struct fh_pub_cfg pc = { .rings = ring, .n_rings = 1, .kafka = kc, .kafka_queue = 64,
				 .policy = pol, .spill_path = spill, .heartbeat_ms = 100000,
				 .kafka_cpu = -1 };
	struct fh_pub *p = fh_pub_create(&pc, err, sizeof(err));
	if (!p)
		fprintf(stderr, "  fh_pub_create: %s\n", err);
	return p;
}

static void feed(struct fh_pub *p, struct fh_spsc *ring, unsigned n)
{
	struct fh_event ev;
	for (unsigned i = 0; i < n; i++) {
		fh_event_init(&ev, FH_EV_ORDER_ADD);
		ev.source_id = 1;
		ev.instrument = i % 5;
		ev.seq = i + 1;
		while (fh_spsc_enqueue(ring, &ev) == FH_PUB_BACK_PRESSURED)
			fh_pub_do_work(p);
	}
	while (fh_pub_do_work(p))
		;
}

static bool wait_lag_zero(struct fh_pub *p, struct fh_pub_stats *st)
{
	uint64_t t_end = fh_clock_ns(CLOCK_MONOTONIC) + 30000000000ull;
	do {
		fh_pub_do_work(p);
		fh_pub_get_stats(p, st);
		if (!st->kafka_lag)
			return true;
		usleep(5000);
	} while (fh_clock_ns(CLOCK_MONOTONIC) < t_end);
	return false;
}

static const char *const fast_props[] = { "queue.buffering.max.messages", "100",
					  "reconnect.backoff.max.ms", "500", NULL };

static void test_policy_drop_oldest(void)
{
	struct fh_spsc *ring = NULL;
	struct fh_kafka_cfg kc = { .linger_ms = 1, .props = fast_props };
	struct fh_pub *p = pub_kafka(&ring, &kc, FH_PUB_DROP_OLDEST, NULL);
	struct fh_pub_stats st;
	if (!p) {
		free(ring);
		FH_SKIP("no mock cluster");
	}
	fh_kafka_mock_set_down(fh_pub_kafka(p), -1, true);
	feed(p, ring, 5000);
	fh_pub_get_stats(p, &st);
	FH_CHECK_EQ_U(st.events, 5000);
	FH_CHECK(st.kafka_dropped > 0); /* 64 + 100 fit, the rest must go */
	FH_CHECK(st.kafka_lag > 0);
	fh_kafka_mock_set_down(fh_pub_kafka(p), -1, false);
	FH_CHECK(wait_lag_zero(p, &st));
	uint64_t delivered = 0, failed = 0;
	for (int f = 0; f < FH_KF__COUNT; f++) {
		delivered += st.kafka.delivered[f];
		failed += st.kafka.failed[f];
	}
	/* every accepted event is accounted for: delivered or counted as dropped */
	FH_CHECK_EQ_U(delivered + st.kafka_dropped, st.kafka_accepted);
	FH_CHECK_EQ_U(failed, 0);
	FH_CHECK_EQ_U(fh_pub_close(p, 5000, true, &st), 0);
	free(ring);
}

static void test_policy_spill_catches_up(void)
{
	struct fh_spsc *ring = NULL;
	char spill[64];
	snprintf(spill, sizeof(spill), "/tmp/fh-test-kafka-spill-%d", (int)getpid());
	struct fh_kafka_cfg kc = { .linger_ms = 1, .props = fast_props };
	struct fh_pub *p = pub_kafka(&ring, &kc, FH_PUB_SPILL, spill);
	struct fh_pub_stats st;
	if (!p) {
		free(ring);
		FH_SKIP("no mock cluster");
	}
	fh_kafka_mock_set_down(fh_pub_kafka(p), -1, true);
	feed(p, ring, 5000);
	fh_pub_get_stats(p, &st);
	FH_CHECK(st.spilled > 0);
	FH_CHECK_EQ_U(st.kafka_dropped, 0);
	fh_kafka_mock_set_down(fh_pub_kafka(p), -1, false);
	feed(p, ring, 1000); /* keeps arriving while Kafka catches up */
	FH_CHECK(wait_lag_zero(p, &st));
	uint64_t delivered = 0;
	for (int f = 0; f < FH_KF__COUNT; f++)
		delivered += st.kafka.delivered[f];
	FH_CHECK_EQ_U(delivered, st.kafka_accepted);
	FH_CHECK_EQ_U(st.spill_read, st.spilled);
	FH_CHECK_EQ_U(st.spill_dropped, 0);
	FH_CHECK_EQ_U(fh_pub_close(p, 5000, true, &st), 0);
	free(ring);
	unlink(spill);
}

static void test_shutdown_reports_undelivered(void)
{
	struct fh_spsc *ring = NULL;
	char path[64];
	struct fh_dlq dlq;
	snprintf(path, sizeof(path), "/tmp/fh-test-kafka-dlq2-%d", (int)getpid());
	FH_CHECK_EQ_I(fh_dlq_open(&dlq, path, 0), 0);
	char spill[64];
	snprintf(spill, sizeof(spill), "/tmp/fh-test-kafka-spill2-%d", (int)getpid());
	struct fh_kafka_cfg kc = { .linger_ms = 1, .props = fast_props, .dlq = &dlq };
	struct fh_pub *p = pub_kafka(&ring, &kc, FH_PUB_SPILL, NULL);
	FH_CHECK(p == NULL); /* spill needs a path */
	free(ring);
	struct fh_pub_stats st;
	p = pub_kafka(&ring, &kc, FH_PUB_SPILL, spill);
	if (!p) {
		free(ring);
		fh_dlq_close(&dlq);
		FH_SKIP("no mock cluster");
	}
	fh_kafka_mock_set_down(fh_pub_kafka(p), -1, true);
	feed(p, ring, 3000); /* queue (64), librdkafka (100), the rest spilled */
	usleep(100000);
	uint64_t left = fh_pub_close(p, 300, true, &st);
	FH_CHECK_EQ_U(st.kafka_dropped, 0);
	FH_CHECK_EQ_U(left, st.kafka_accepted); /* nothing could be delivered */
	FH_CHECK(left >= 3000);
	fh_dlq_close(&dlq);
	unlink(spill);
	int n = 0;
	FH_CHECK(fh_dlq_read(path, count_kafka_reasons, &n) >= 0);
	FH_CHECK_EQ_U((uint64_t)n, left); /* each one dead-lettered */
	free(ring);
	unlink(path);
}

static const struct fh_test_case cases[] = {
	FH_CASE(test_json_fields),
	FH_CASE(test_json_escaping_and_space),
	FH_CASE(test_families),
	FH_CASE(test_mock_round_trip),
	FH_CASE(test_failed_delivery_dead_lettered),
	FH_CASE(test_policy_drop_oldest),
	FH_CASE(test_policy_spill_catches_up),
	FH_CASE(test_shutdown_reports_undelivered),
	{ 0 },
};

int main(int argc, char **argv)
{
	snprintf(prefix, sizeof(prefix), "fhtest%d", (int)getpid());
	fh_tsc_calibrate(5);
	return fh_test_main(argc, argv, cases);
}
