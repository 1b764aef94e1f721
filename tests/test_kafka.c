/* SPDX-License-Identifier: MIT */
/* test_kafka.c: JSON encoding, topic families, mock-cluster round trip, dead-lettering, queue policies, shutdown report, off families, latency stages. */
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

/* High watermark summed over the 3 partitions of a topic: what the cluster holds. */
static int64_t topic_messages(const char *bootstrap, const char *topic)
{
	char err[256];
	int64_t total = 0;
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, err, sizeof(err));
	rd_kafka_conf_set(c, "log_level", "3", err, sizeof(err));
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof(err));
	if (!rk)
		return -1;
	for (int p = 0; p < 3; p++) {
		int64_t lo = 0, hi = 0;
		if (rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000)) {
			total = -1;
			break;
		}
		total += hi - lo;
	}
	rd_kafka_destroy(rk);
	return total;
}

/* Off families: nothing produced, counted as skipped; an off "reference"
 * family still gives the other families their symbol keys. */
static void test_family_off(void)
{
	struct fh_kafka_cfg c = { .linger_ms = 1 };
	c.off[FH_KF_TRADES] = true;
	c.off[FH_KF_REFERENCE] = true;
	struct fh_kafka *k = mock(&c);
	struct fh_event ev;
	if (!k)
		FH_SKIP("no mock cluster");
	instrument(&ev, 5, "MSFT");
	FH_CHECK_EQ_I(fh_kafka_produce(k, &ev), 0);
	for (int i = 0; i < 200; i++) {
		fh_event_init(&ev, i % 2 ? FH_EV_TRADE : FH_EV_L2_UPDATE);
		ev.source_id = 1;
		ev.instrument = 5;
		ev.seq = (uint64_t)i;
		FH_CHECK_EQ_I(i % 2 ? fh_kafka_produce_probe(k, &ev, fh_rdtsc(), 1) : fh_kafka_produce(k, &ev), 0);
	}
	FH_CHECK_EQ_U(fh_kafka_flush(k, 10000), 0);
	struct fh_kafka_stats st;
	fh_kafka_get_stats(k, &st);
	FH_CHECK_EQ_U(st.skipped[FH_KF_TRADES], 100);
	FH_CHECK_EQ_U(st.skipped[FH_KF_REFERENCE], 1);
	FH_CHECK_EQ_U(st.skipped[FH_KF_BOOK], 0);
	FH_CHECK_EQ_U(st.produced[FH_KF_TRADES], 0);
	FH_CHECK_EQ_U(st.produced[FH_KF_REFERENCE], 0);
	FH_CHECK_EQ_U(st.delivered[FH_KF_BOOK], 100);
	FH_CHECK_EQ_U(st.lat_lost, 100); /* probes on skipped messages */
	FH_CHECK_EQ_U(st.lat_probes, 0);
	FH_CHECK_EQ_I(topic_messages(fh_kafka_bootstrap(k), fh_kafka_topic(k, FH_KF_TRADES)), 0);
	FH_CHECK_EQ_I(topic_messages(fh_kafka_bootstrap(k), fh_kafka_topic(k, FH_KF_REFERENCE)), 0);
	FH_CHECK_EQ_I(topic_messages(fh_kafka_bootstrap(k), fh_kafka_topic(k, FH_KF_BOOK)), 100);
	struct consumed b = { 0 };
	consume(fh_kafka_bootstrap(k), fh_kafka_topic(k, FH_KF_BOOK), 100, "MSFT", NULL, &b);
	FH_CHECK_EQ_I(b.n, 100);
	FH_CHECK_EQ_I(b.bad_key, 0);
	fh_kafka_destroy(k, 1000);
}

/* Latency hook seen from the tests: per stage and per source. */
#define LAT_SOURCES 4096
struct lat_seen {
	uint64_t calls[FH_PUB_STAGE__COUNT];
	uint64_t zero_or_huge[FH_PUB_STAGE__COUNT];
	uint32_t per_source[FH_PUB_STAGE__COUNT][LAT_SOURCES];
};

static void on_lat(void *arg, unsigned stage, uint16_t source_id, uint64_t ticks)
{
	struct lat_seen *ls = arg;
	if (stage >= FH_PUB_STAGE__COUNT)
		return;
	/* the SHM stage runs on the test thread, KAFKA on the Kafka thread */
	__atomic_add_fetch(&ls->calls[stage], 1, __ATOMIC_RELAXED);
	/* sane: after the probe (> 0) and less than a minute (a wrapped
	 * subtraction or a garbage TSC would be far beyond) */
	if (ticks == 0 || fh_tsc_to_ns(ticks) > 60000000000ull)
		__atomic_add_fetch(&ls->zero_or_huge[stage], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&ls->per_source[stage][source_id % LAT_SOURCES], 1, __ATOMIC_RELAXED);
}

/* Publisher with shm + Kafka + one RX probe ring, fed like an RX core:
 * "packets" of 3 events, one in `every` probed, the probe pushed before
 * its events with pos = ring head + 3. Returns the number of probes. */
static uint64_t feed_probed(struct fh_pub *p, struct fh_spsc *ring, struct fh_probe_ring *pr,
			    unsigned packets, unsigned every, uint64_t *next_src)
{
	struct fh_event ev[3];
	uint64_t probes = 0;
	for (unsigned i = 0; i < packets; i++) {
		for (unsigned j = 0; j < 3; j++) {
			fh_event_init(&ev[j], FH_EV_ORDER_ADD);
			ev[j].source_id = 1;
			ev[j].instrument = (i + j) % 5;
			ev[j].seq = (uint64_t)i * 3 + j + 1;
		}
		/* the last packet too: a probe attached one event late would
		 * then have no event to go with and show up as missing */
		if (i % every == 0 || i == packets - 1) {
			struct fh_probe q = { .pos = ring->head + 3, .tsc = fh_rdtsc(),
					      .source_id = (uint16_t)(*next_src % LAT_SOURCES) };
			(*next_src)++;
			while (!fh_probe_push(pr, &q))
				fh_pub_do_work(p);
			probes++;
		}
		unsigned done = 0;
		while (done < 3) {
			done += fh_spsc_enqueue_burst(ring, ev + done, 3 - done);
			if (done < 3)
				fh_pub_do_work(p);
		}
	}
	while (fh_pub_do_work(p))
		;
	return probes;
}

static struct fh_pub *pub_probed(struct fh_spsc **ring, struct fh_probe_ring **pr,
				 struct fh_kafka_cfg *kc, const struct fh_shm_cfg *sc,
				 enum fh_pub_full_policy pol, const char *spill, struct lat_seen *ls)
{
	char err[512];
	if (posix_memalign((void **)ring, 64, fh_spsc_memsize(1024)) ||
	    posix_memalign((void **)pr, 64, sizeof(**pr)))
		return NULL;
	fh_spsc_init(*ring, 1024);
	fh_probe_ring_init(*pr);
	if (kc)
		kc->topic_prefix = prefix;
	struct fh_pub_cfg pc = { .rings = ring, .n_rings = 1, .kafka = kc, .shm = sc,
				 .kafka_queue = 64, .policy = pol, .spill_path = spill,
				 .heartbeat_ms = 100000, .kafka_cpu = -1, .probes = pr,
				 .lat_fn = on_lat, .lat_arg = ls };
	struct fh_pub *p = fh_pub_create(&pc, err, sizeof(err));
	if (!p)
		fprintf(stderr, "  fh_pub_create: %s\n", err);
	return p;
}

static uint64_t uniq_once(const struct lat_seen *ls, unsigned stage, uint64_t n)
{
	uint64_t ok = 0;
	for (uint64_t s = 0; s < n && s < LAT_SOURCES; s++)
		ok += ls->per_source[stage][s] == 1;
	return ok;
}

/* Both stages recorded once per probe, with its source, through the queue
 * and (brokers down) through the spill file; the shm-only publisher too. */
static void test_latency_stages(void)
{
	struct fh_spsc *ring = NULL;
	struct fh_probe_ring *pr = NULL;
	struct lat_seen *ls = calloc(1, sizeof(*ls));
	char spill[64], shm_name[64];
	snprintf(spill, sizeof(spill), "/tmp/fh-test-kafka-spill3-%d", (int)getpid());
	snprintf(shm_name, sizeof(shm_name), "fh-test-kafka-lat-%d", (int)getpid());
	struct fh_shm_cfg sc = { .name = shm_name, .capacity = 1 << 14 };
	struct fh_kafka_cfg kc = { .linger_ms = 1, .props = fast_props };
	struct fh_pub_stats st;
	uint64_t src = 0;

	struct fh_pub *p = pub_probed(&ring, &pr, &kc, &sc, FH_PUB_SPILL, spill, ls);
	if (!p) {
		free(ring);
		free(pr);
		free(ls);
		FH_SKIP("no mock cluster");
	}
	/* phase 1: Kafka up, through the bounded queue */
	uint64_t n1 = feed_probed(p, ring, pr, 1000, 10, &src);
	FH_CHECK(wait_lag_zero(p, &st));
	FH_CHECK_EQ_U(st.lat_probes_shm, n1);
	FH_CHECK_EQ_U(ls->calls[FH_PUB_STAGE_SHM], n1);
	/* phase 2: brokers down: the queue fills, probed events are spilled */
	fh_kafka_mock_set_down(fh_pub_kafka(p), -1, true);
	uint64_t n2 = feed_probed(p, ring, pr, 1500, 10, &src);
	fh_pub_get_stats(p, &st);
	FH_CHECK(st.spilled > 0);
	fh_kafka_mock_set_down(fh_pub_kafka(p), -1, false);
	uint64_t n3 = feed_probed(p, ring, pr, 300, 10, &src);
	FH_CHECK(wait_lag_zero(p, &st));
	/* caught up: back on the queue (30 events fit in its 64), ending
	 * with a probed packet */
	uint64_t n4 = feed_probed(p, ring, pr, 10, 3, &src);
	FH_CHECK(wait_lag_zero(p, &st));
	/* delivery reports of the last messages may still be on their way to lat_fn */
	uint64_t t_end = fh_clock_ns(CLOCK_MONOTONIC) + 10000000000ull;
	while (__atomic_load_n(&ls->calls[FH_PUB_STAGE_KAFKA], __ATOMIC_RELAXED) < n1 + n2 + n3 + n4 &&
	       fh_clock_ns(CLOCK_MONOTONIC) < t_end)
		usleep(1000);
	uint64_t n = n1 + n2 + n3 + n4;
	/* before the close: its last heartbeat would give a probe attached one
	 * event late the event it waits for */
	FH_CHECK_EQ_U(__atomic_load_n(&ls->calls[FH_PUB_STAGE_KAFKA], __ATOMIC_RELAXED), n);
	FH_CHECK_EQ_U(fh_pub_close(p, 5000, true, &st), 0);
	FH_CHECK_EQ_U(st.spill_dropped, 0);
	FH_CHECK_EQ_U(st.lat_probes_shm, n);
	FH_CHECK_EQ_U(st.lat_probes_kafka, n);
	FH_CHECK_EQ_U(st.lat_probes_lost, 0);
	FH_CHECK_EQ_U(st.kafka.lat_probes, n);
	FH_CHECK_EQ_U(st.kafka.lat_lost, 0);
	FH_CHECK_EQ_U(ls->calls[FH_PUB_STAGE_SHM], n);
	FH_CHECK_EQ_U(ls->calls[FH_PUB_STAGE_KAFKA], n);
	FH_CHECK_EQ_U(ls->zero_or_huge[FH_PUB_STAGE_SHM], 0);
	FH_CHECK_EQ_U(ls->zero_or_huge[FH_PUB_STAGE_KAFKA], 0);
	FH_CHECK_EQ_U(uniq_once(ls, FH_PUB_STAGE_SHM, n), n);
	FH_CHECK_EQ_U(uniq_once(ls, FH_PUB_STAGE_KAFKA, n), n);
	free(ring);
	free(pr);
	unlink(spill);

	/* shm only: the SHM stage alone */
	memset(ls, 0, sizeof(*ls));
	src = 0;
	p = pub_probed(&ring, &pr, NULL, &sc, FH_PUB_DROP_OLDEST, NULL, ls);
	FH_CHECK(p != NULL);
	if (p) {
		n = feed_probed(p, ring, pr, 2000, 7, &src);
		fh_pub_close(p, 0, true, &st);
		FH_CHECK_EQ_U(ls->calls[FH_PUB_STAGE_SHM], n);
		FH_CHECK_EQ_U(ls->calls[FH_PUB_STAGE_KAFKA], 0);
		FH_CHECK_EQ_U(uniq_once(ls, FH_PUB_STAGE_SHM, n), n);
		FH_CHECK_EQ_U(ls->zero_or_huge[FH_PUB_STAGE_SHM], 0);
	}
	free(ring);
	free(pr);
	free(ls);
}

/* Two RX rings, one with a probe ring and one without (NULL entry):
 * every probe recorded once; the unprobed ring's events flow as before. */
static void test_latency_two_rings(void)
{
	struct fh_spsc *rings[2] = { NULL, NULL };
	struct fh_probe_ring *pr = NULL;
	struct lat_seen *ls = calloc(1, sizeof(*ls));
	char shm_name[64], err[256];
	snprintf(shm_name, sizeof(shm_name), "fh-test-kafka-lat2-%d", (int)getpid());
	struct fh_shm_cfg sc = { .name = shm_name, .capacity = 1 << 14 };
	for (int i = 0; i < 2; i++) {
		FH_CHECK_EQ_I(posix_memalign((void **)&rings[i], 64, fh_spsc_memsize(1024)), 0);
		fh_spsc_init(rings[i], 1024);
	}
	FH_CHECK_EQ_I(posix_memalign((void **)&pr, 64, sizeof(*pr)), 0);
	fh_probe_ring_init(pr);
	struct fh_probe_ring *probes[2] = { pr, NULL };
	struct fh_pub_cfg pc = { .rings = rings, .n_rings = 2, .shm = &sc, .burst = 5,
				 .heartbeat_ms = 100000, .kafka_cpu = -1, .probes = probes,
				 .lat_fn = on_lat, .lat_arg = ls };
	struct fh_pub *p = fh_pub_create(&pc, err, sizeof(err));
	FH_CHECK(p != NULL);
	if (p) {
		struct fh_event ev;
		fh_event_init(&ev, FH_EV_TRADE);
		uint64_t src = 0;
		for (int k = 0; k < 50; k++) {
			for (int j = 0; j < 7; j++)
				while (fh_spsc_enqueue(rings[1], &ev) == FH_PUB_BACK_PRESSURED)
					fh_pub_do_work(p);
			fh_pub_do_work(p);
		}
		/* burst 5 < 3-event packets in flight: probes span several calls */
		uint64_t n = feed_probed(p, rings[0], pr, 400, 4, &src);
		struct fh_pub_stats st;
		fh_pub_close(p, 0, true, &st);
		FH_CHECK_EQ_U(st.events, 50 * 7 + 400 * 3);
		FH_CHECK_EQ_U(ls->calls[FH_PUB_STAGE_SHM], n);
		FH_CHECK_EQ_U(uniq_once(ls, FH_PUB_STAGE_SHM, n), n);
		FH_CHECK_EQ_U(ls->zero_or_huge[FH_PUB_STAGE_SHM], 0);
	}
	free(rings[0]);
	free(rings[1]);
	free(pr);
	free(ls);
}

/* drop_oldest: probes of dropped events are counted lost, the others
 * recorded: every probe accounted for exactly once. */
static void test_latency_drop_oldest(void)
{
	struct fh_spsc *ring = NULL;
	struct fh_probe_ring *pr = NULL;
	struct lat_seen *ls = calloc(1, sizeof(*ls));
	struct fh_kafka_cfg kc = { .linger_ms = 1, .props = fast_props };
	struct fh_pub_stats st;
	uint64_t src = 0;
	struct fh_pub *p = pub_probed(&ring, &pr, &kc, NULL, FH_PUB_DROP_OLDEST, NULL, ls);
	if (!p) {
		free(ring);
		free(pr);
		free(ls);
		FH_SKIP("no mock cluster");
	}
	fh_kafka_mock_set_down(fh_pub_kafka(p), -1, true);
	uint64_t n = feed_probed(p, ring, pr, 1500, 5, &src);
	fh_kafka_mock_set_down(fh_pub_kafka(p), -1, false);
	FH_CHECK(wait_lag_zero(p, &st));
	FH_CHECK(st.kafka_dropped > 0);
	FH_CHECK_EQ_U(fh_pub_close(p, 5000, true, &st), 0);
	FH_CHECK_EQ_U(ls->calls[FH_PUB_STAGE_SHM], 0); /* no shm ring */
	FH_CHECK(st.kafka.lat_probes > 0);
	FH_CHECK(st.lat_probes_lost > 0);
	FH_CHECK_EQ_U(st.kafka.lat_probes + st.kafka.lat_lost + st.lat_probes_lost, n);
	FH_CHECK_EQ_U(ls->calls[FH_PUB_STAGE_KAFKA], st.kafka.lat_probes);
	FH_CHECK_EQ_U(ls->zero_or_huge[FH_PUB_STAGE_KAFKA], 0);
	free(ring);
	free(pr);
	free(ls);
}

/* Off families through the publisher: not produced, not lag. */
static void test_publisher_family_off(void)
{
	struct fh_spsc *ring = NULL;
	struct fh_kafka_cfg kc = { .linger_ms = 1, .props = fast_props };
	char spill[64];
	snprintf(spill, sizeof(spill), "/tmp/fh-test-kafka-spill4-%d", (int)getpid());
	kc.off[FH_KF_ORDERS] = true;
	/* spill, not drop_oldest: every event reaches fh_kafka */
	struct fh_pub *p = pub_kafka(&ring, &kc, FH_PUB_SPILL, spill);
	struct fh_pub_stats st;
	if (!p) {
		free(ring);
		FH_SKIP("no mock cluster");
	}
	feed(p, ring, 2000); /* ORDER_ADD: family "orders" */
	FH_CHECK(wait_lag_zero(p, &st));
	FH_CHECK_EQ_U(st.kafka.skipped[FH_KF_ORDERS], 2000);
	FH_CHECK_EQ_U(st.kafka.produced[FH_KF_ORDERS], 0);
	FH_CHECK_EQ_U(st.kafka_lag, 0);
	FH_CHECK_EQ_I(topic_messages(fh_kafka_bootstrap(fh_pub_kafka(p)),
				     fh_kafka_topic(fh_pub_kafka(p), FH_KF_ORDERS)), 0);
	FH_CHECK_EQ_U(fh_pub_close(p, 5000, true, &st), 0);
	free(ring);
	unlink(spill);
}

static const struct fh_test_case cases[] = {
	FH_CASE(test_family_off),
	FH_CASE(test_latency_stages),
	FH_CASE(test_latency_two_rings),
	FH_CASE(test_latency_drop_oldest),
	FH_CASE(test_publisher_family_off),
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
