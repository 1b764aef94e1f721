/* SPDX-License-Identifier: MIT */
/* fh_kafka.c: idempotent librdkafka producer, per-family topics, symbol keys, mock cluster. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "fh_json.h"
#include "fh_kafka.h"
#include "fh_spsc.h"
#include "fh_time.h"

#define STAT_INC(x) __atomic_store_n(&(x), (x) + 1, __ATOMIC_RELAXED)
#define STR_(x) #x
#define STR(x) STR_(x)
#define FH_KAFKA_SCHEMA_STR STR(FH_EVENT_SCHEMA_VERSION)

/* Opaque of a probed message: this bit | its probe index. Unprobed messages
 * carry their event's seq (MoldUDP64 sequences stay far below 2^63). */
#define PROBE_TAG (1ull << 63)

/* An in-flight latency probe, owned by the producing thread (delivery
 * reports run on it too). `idx` tells a reused slot from its first owner. */
struct kprobe {
	uint64_t idx;
	uint64_t tsc;
	uint64_t seq;
	uint16_t source_id;
};

struct sym {
	uint64_t key; /* source << 32 | instrument, + 1 so that 0 means empty */
	char symbol[16];
};

struct fh_kafka {
	rd_kafka_t *rk;
	rd_kafka_t *mock_rk; /* owns the mock cluster */
	rd_kafka_mock_cluster_t *mock;
	int mock_brokers;
	rd_kafka_topic_t *topic[FH_KF__COUNT];
	char topic_name[FH_KF__COUNT][128];
	bool json[FH_KF__COUNT];
	uint8_t fam_idx[FH_KF__COUNT]; /* topic opaque points here */
	char bootstrap[512];
	struct fh_dlq *dlq;
	struct sym *syms;
	uint64_t sym_mask;
	uint64_t fail_logged;
	bool off[FH_KF__COUNT];
	fh_kafka_lat_fn lat_fn;
	void *lat_arg;
	struct kprobe *probes; /* FH_KAFKA_PROBE_SLOTS */
	uint64_t probe_next;
	struct fh_kafka_stats st;
};

static const char *const fam_names[FH_KF__COUNT] = {
	[FH_KF_BOOK] = "book",	     [FH_KF_TRADES] = "trades", [FH_KF_BARS] = "bars",
	[FH_KF_ALERTS] = "alerts",   [FH_KF_STATUS] = "status", [FH_KF_ORDERS] = "orders",
	[FH_KF_REFERENCE] = "reference",
};

const char *fh_kafka_family_name(enum fh_kafka_family f)
{
	return (unsigned)f < FH_KF__COUNT ? fam_names[f] : "status";
}

int fh_kafka_family_parse(const char *name)
{
	for (int i = 0; i < FH_KF__COUNT; i++)
		if (strcmp(name, fam_names[i]) == 0)
			return i;
	return -1;
}

enum fh_kafka_family fh_kafka_family_of(unsigned type)
{
	static int8_t cache[FH_EV__COUNT];
	static int ready;
	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
		for (unsigned t = 0; t < FH_EV__COUNT; t++) {
			int f = fh_kafka_family_parse(fh_event_family(t));
			cache[t] = (int8_t)(f < 0 ? FH_KF_STATUS : f);
		}
		__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
	}
	return type < FH_EV__COUNT ? (enum fh_kafka_family)cache[type] : FH_KF_STATUS;
}

static uint64_t hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static struct sym *sym_find(struct fh_kafka *k, uint64_t key, bool insert)
{
	uint64_t i = hash64(key) & k->sym_mask;
	for (uint64_t n = 0; n <= k->sym_mask; n++, i = (i + 1) & k->sym_mask) {
		if (k->syms[i].key == key)
			return &k->syms[i];
		if (!k->syms[i].key) {
			if (!insert)
				return NULL;
			k->syms[i].key = key;
			return &k->syms[i];
		}
	}
	return NULL;
}

static void dead_letter(struct fh_kafka *k, const rd_kafka_message_t *m, uint64_t seq,
			const char *why)
{
	char reason[FH_DLQ_REASON_LEN];
	struct fh_event ev;
	uint16_t src = 0;
	uint64_t ts = 0;

	/* binary values carry their own header; JSON ones only the seq (opaque) */
	if (m->len == sizeof(ev)) {
		memcpy(&ev, m->payload, sizeof(ev));
		src = ev.source_id;
		ts = ev.recv_ts_ns;
	}
	snprintf(reason, sizeof(reason), "kafka_%s", why);
	if (k->dlq)
		fh_dlq_write(k->dlq, src, NULL, seq, ts, reason, m->payload, m->len);
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct fh_kafka *k = opaque;
	const uint8_t *fp = rd_kafka_topic_opaque(m->rkt);
	unsigned f = fp ? *fp : FH_KF_STATUS;
	uint64_t op = (uint64_t)(uintptr_t)m->_private, seq = op;
	(void)rk;

	if (fh_unlikely(op & PROBE_TAG)) {
		uint64_t idx = op & ~PROBE_TAG;
		struct kprobe *pr = &k->probes[idx & (FH_KAFKA_PROBE_SLOTS - 1)];
		bool mine = pr->idx == idx;
		seq = mine ? pr->seq : 0;
		if (mine)
			pr->idx = UINT64_MAX; /* free */
		if (mine && !m->err && k->lat_fn) {
			k->lat_fn(k->lat_arg, pr->source_id, fh_rdtsc() - pr->tsc);
			STAT_INC(k->st.lat_probes);
		} else {
			STAT_INC(k->st.lat_lost);
		}
	}
	if (!m->err) {
		STAT_INC(k->st.delivered[f]);
		return;
	}
	STAT_INC(k->st.failed[f]);
	/* logged, rate-limited: the first 10, then every 10000th */
	if (k->fail_logged < 10 || k->fail_logged % 10000 == 0)
		fprintf(stderr, "fh_kafka: delivery to %s failed: %s (%" PRIu64 " failures so far)\n",
			rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err), k->fail_logged + 1);
	k->fail_logged++;
	dead_letter(k, m, seq, rd_kafka_err2name(m->err));
}

static int set(rd_kafka_conf_t *c, const char *key, const char *val, char *err, size_t errlen)
{
	return rd_kafka_conf_set(c, key, val, err, errlen) == RD_KAFKA_CONF_OK ? 0 : -EINVAL;
}

static int start_mock(struct fh_kafka *k, const struct fh_kafka_cfg *cfg, char *err, size_t errlen)
{
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	int nb = cfg->mock_brokers > 0 ? cfg->mock_brokers : 3;

	/* The mock cluster needs a handle of its own; it lives as long as we do. */
	set(c, "log_level", "3", err, errlen);
	k->mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, errlen);
	if (!k->mock_rk) {
		rd_kafka_conf_destroy(c);
		return -EINVAL;
	}
	k->mock = rd_kafka_mock_cluster_new(k->mock_rk, nb);
	if (!k->mock) {
		snprintf(err, errlen, "cannot start the mock cluster");
		return -EIO;
	}
	k->mock_brokers = nb;
	snprintf(k->bootstrap, sizeof(k->bootstrap), "%s", rd_kafka_mock_cluster_bootstraps(k->mock));
	return 0;
}

struct fh_kafka *fh_kafka_create(const struct fh_kafka_cfg *cfg, char *err, size_t errlen)
{
	struct fh_kafka *k = calloc(1, sizeof(*k));
	rd_kafka_conf_t *c = NULL;
	char v[32];
	const char *prefix = cfg->topic_prefix ? cfg->topic_prefix : "fh";
	unsigned nsym = cfg->symbols ? cfg->symbols : 65536;

	if (!k) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (nsym & (nsym - 1)) {
		snprintf(err, errlen, "symbols must be a power of two");
		goto out_free;
	}
	k->syms = calloc(nsym, sizeof(*k->syms));
	if (!k->syms) {
		snprintf(err, errlen, "out of memory");
		goto out_free;
	}
	k->sym_mask = nsym - 1;
	k->probes = calloc(FH_KAFKA_PROBE_SLOTS, sizeof(*k->probes));
	if (!k->probes) {
		snprintf(err, errlen, "out of memory");
		goto out_free;
	}
	/* slot i starts owned by no probe: the first probe using it has idx i */
	for (unsigned i = 0; i < FH_KAFKA_PROBE_SLOTS; i++)
		k->probes[i].idx = UINT64_MAX;
	k->dlq = cfg->dlq;
	memcpy(k->off, cfg->off, sizeof(k->off));
	k->lat_fn = cfg->lat_fn;
	k->lat_arg = cfg->lat_arg;
	if (!cfg->brokers || !*cfg->brokers) {
		if (start_mock(k, cfg, err, errlen))
			goto out_free;
	} else {
		snprintf(k->bootstrap, sizeof(k->bootstrap), "%s", cfg->brokers);
	}

	c = rd_kafka_conf_new();
	if (set(c, "bootstrap.servers", k->bootstrap, err, errlen) ||
	    set(c, "client.id", cfg->client_id ? cfg->client_id : "fh", err, errlen) ||
	    set(c, "enable.idempotence", "true", err, errlen) ||
	    set(c, "acks", "all", err, errlen) ||
	    set(c, "compression.codec", "lz4", err, errlen))
		goto out_conf;
	snprintf(v, sizeof(v), "%d", cfg->linger_ms >= 0 ? cfg->linger_ms : 5);
	if (set(c, "linger.ms", v, err, errlen))
		goto out_conf;
	snprintf(v, sizeof(v), "%d", cfg->batch_size > 0 ? cfg->batch_size : 1000000);
	if (set(c, "batch.size", v, err, errlen))
		goto out_conf;
	snprintf(v, sizeof(v), "%d", cfg->batch_num_messages > 0 ? cfg->batch_num_messages : 10000);
	if (set(c, "batch.num.messages", v, err, errlen))
		goto out_conf;
	snprintf(v, sizeof(v), "%d", cfg->queue_max_messages > 0 ? cfg->queue_max_messages : 1000000);
	if (set(c, "queue.buffering.max.messages", v, err, errlen))
		goto out_conf;
	snprintf(v, sizeof(v), "%d", cfg->message_timeout_ms > 0 ? cfg->message_timeout_ms : 300000);
	if (set(c, "message.timeout.ms", v, err, errlen))
		goto out_conf;
	/* pass-through last, so TLS/SASL and tuning can override our defaults */
	for (const char *const *p = cfg->props; p && p[0]; p += 2) {
		if (!p[1]) {
			snprintf(err, errlen, "property %s has no value", p[0]);
			goto out_conf;
		}
		if (set(c, p[0], p[1], err, errlen))
			goto out_conf;
	}
	rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
	rd_kafka_conf_set_opaque(c, k);
	k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, errlen);
	if (!k->rk)
		goto out_conf;
	c = NULL; /* owned by rk now */

	int parts = cfg->partitions > 0 ? cfg->partitions : 3;
	for (int f = 0; f < FH_KF__COUNT; f++) {
		snprintf(k->topic_name[f], sizeof(k->topic_name[f]), "%s.%s", prefix, fam_names[f]);
		k->json[f] = cfg->json[f];
		k->fam_idx[f] = (uint8_t)f;
		if (k->mock) {
			int rf = k->mock_brokers < 3 ? k->mock_brokers : 3;
			rd_kafka_resp_err_t e =
				rd_kafka_mock_topic_create(k->mock, k->topic_name[f], parts, rf);
			if (e) {
				snprintf(err, errlen, "mock topic %s: %s", k->topic_name[f],
					 rd_kafka_err2str(e));
				goto out_topics;
			}
		}
		rd_kafka_topic_conf_t *tc = rd_kafka_topic_conf_new();
		rd_kafka_topic_conf_set_opaque(tc, &k->fam_idx[f]);
		k->topic[f] = rd_kafka_topic_new(k->rk, k->topic_name[f], tc);
		if (!k->topic[f]) {
			snprintf(err, errlen, "topic %s: %s", k->topic_name[f],
				 rd_kafka_err2str(rd_kafka_last_error()));
			goto out_topics;
		}
	}
	return k;

out_topics:
	for (int f = 0; f < FH_KF__COUNT; f++)
		if (k->topic[f])
			rd_kafka_topic_destroy(k->topic[f]);
	rd_kafka_destroy(k->rk);
out_conf:
	if (c)
		rd_kafka_conf_destroy(c);
	if (k->mock)
		rd_kafka_mock_cluster_destroy(k->mock);
	if (k->mock_rk)
		rd_kafka_destroy(k->mock_rk);
out_free:
	free(k->probes);
	free(k->syms);
	free(k);
	return NULL;
}

uint64_t fh_kafka_outq(struct fh_kafka *k)
{
	int n = rd_kafka_outq_len(k->rk);
	return n > 0 ? (uint64_t)n : 0;
}

uint64_t fh_kafka_flush(struct fh_kafka *k, int timeout_ms)
{
	rd_kafka_flush(k->rk, timeout_ms);
	return fh_kafka_outq(k);
}

uint64_t fh_kafka_destroy(struct fh_kafka *k, int flush_timeout_ms)
{
	if (!k)
		return 0;
	uint64_t left = fh_kafka_flush(k, flush_timeout_ms);
	if (left) {
		/* Purge what is left so its delivery reports (ERR__PURGE_*) are
		 * counted as failed and dead-lettered rather than vanish. */
		rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_poll(k->rk, 0);
		rd_kafka_flush(k->rk, 100);
	}
	for (int f = 0; f < FH_KF__COUNT; f++)
		rd_kafka_topic_destroy(k->topic[f]);
	rd_kafka_destroy(k->rk);
	if (k->mock)
		rd_kafka_mock_cluster_destroy(k->mock);
	if (k->mock_rk)
		rd_kafka_destroy(k->mock_rk);
	free(k->probes);
	free(k->syms);
	free(k);
	return left;
}

static int produce(struct fh_kafka *k, const struct fh_event *ev, bool probed, uint64_t probe_tsc,
		   uint16_t probe_src)
{
	unsigned f = fh_kafka_family_of(ev->type);
	char key[24], json[FH_JSON_MAX];
	const char *sym = NULL;
	const void *val = ev;
	size_t klen, vlen = sizeof(*ev);
	uint64_t skey = ((uint64_t)ev->source_id << 32 | ev->instrument) + 1;

	if (ev->instrument != FH_INSTRUMENT_NONE) {
		struct sym *s = sym_find(k, skey, ev->type == FH_EV_INSTRUMENT);
		if (ev->type == FH_EV_INSTRUMENT) {
			if (s)
				memcpy(s->symbol, ev->u.instr.symbol, sizeof(s->symbol));
			else
				STAT_INC(k->st.symbols_full);
		}
		if (s && s->symbol[0])
			sym = s->symbol;
	}
	/* after learning the symbol: an off "reference" family still keys the others */
	if (fh_unlikely(k->off[f])) {
		STAT_INC(k->st.skipped[f]);
		if (probed)
			STAT_INC(k->st.lat_lost);
		return 0;
	}
	if (sym) {
		klen = strnlen(sym, sizeof(((struct sym *)0)->symbol));
	} else {
		int n = ev->instrument != FH_INSTRUMENT_NONE
				? snprintf(key, sizeof(key), "%u:%u", ev->source_id, ev->instrument)
				: snprintf(key, sizeof(key), "%u", ev->source_id);
		klen = (size_t)n;
		sym = key;
	}
	if (k->json[f]) {
		char symz[17] = { 0 };
		if (sym != key)
			memcpy(symz, sym, klen);
		int n = fh_json_encode(ev, symz, json, sizeof(json));
		if (n < 0) {
			STAT_INC(k->st.encode_errors);
			return -EIO;
		}
		val = json;
		vlen = (size_t)n;
	}
	uint64_t opaque = ev->seq & ~PROBE_TAG;
	struct kprobe *pr = NULL;
	if (fh_unlikely(probed)) {
		uint64_t idx = k->probe_next & ~PROBE_TAG;
		/* A slot still owned means its message is in flight after
		 * FH_KAFKA_PROBE_SLOTS newer probes: that report will not find
		 * its idx and counts itself lost. */
		pr = &k->probes[idx & (FH_KAFKA_PROBE_SLOTS - 1)];
		pr->idx = idx;
		pr->tsc = probe_tsc;
		pr->seq = ev->seq;
		pr->source_id = probe_src;
		opaque = PROBE_TAG | idx;
	}
	rd_kafka_resp_err_t e = rd_kafka_producev(
		k->rk, RD_KAFKA_V_RKT(k->topic[f]), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		RD_KAFKA_V_KEY(sym, klen), RD_KAFKA_V_VALUE((void *)(uintptr_t)val, vlen),
		RD_KAFKA_V_HEADER("fh-schema-version", FH_KAFKA_SCHEMA_STR, -1),
		RD_KAFKA_V_OPAQUE((void *)(uintptr_t)opaque), RD_KAFKA_V_END);
	if (fh_likely(!e)) {
		STAT_INC(k->st.produced[f]);
		if (pr)
			k->probe_next++;
		return 0;
	}
	if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
		STAT_INC(k->st.queue_full);
		return FH_PUB_BACK_PRESSURED;
	}
	STAT_INC(k->st.produce_errors);
	if (pr)
		STAT_INC(k->st.lat_lost);
	if (k->fail_logged++ < 10)
		fprintf(stderr, "fh_kafka: produce to %s refused: %s\n", k->topic_name[f],
			rd_kafka_err2str(e));
	if (k->dlq) {
		char reason[FH_DLQ_REASON_LEN];
		snprintf(reason, sizeof(reason), "kafka_%s", rd_kafka_err2name(e));
		fh_dlq_write(k->dlq, ev->source_id, NULL, ev->seq, ev->recv_ts_ns, reason, val, vlen);
	}
	return -EIO;
}

void fh_kafka_poll(struct fh_kafka *k, int timeout_ms)
{
	rd_kafka_poll(k->rk, timeout_ms);
}

void fh_kafka_get_stats(const struct fh_kafka *k, struct fh_kafka_stats *st)
{
	const uint64_t *src = (const uint64_t *)&k->st;
	uint64_t *dst = (uint64_t *)st;
	for (size_t i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

const char *fh_kafka_bootstrap(const struct fh_kafka *k)
{
	return k->bootstrap;
}

const char *fh_kafka_topic(const struct fh_kafka *k, enum fh_kafka_family f)
{
	return (unsigned)f < FH_KF__COUNT ? k->topic_name[f] : NULL;
}

int fh_kafka_mock_set_down(struct fh_kafka *k, int broker_id, bool down)
{
	if (!k->mock)
		return -ENOTSUP;
	if (broker_id != -1 && (broker_id < 1 || broker_id > k->mock_brokers))
		return -EINVAL;
	for (int b = 1; b <= k->mock_brokers; b++) {
		if (broker_id != -1 && b != broker_id)
			continue;
		rd_kafka_resp_err_t e = down ? rd_kafka_mock_broker_set_down(k->mock, b)
					     : rd_kafka_mock_broker_set_up(k->mock, b);
		if (e)
			return -EIO;
	}
	return 0;
}

int fh_kafka_mock_fail_produce(struct fh_kafka *k, int count, int err)
{
	if (!k->mock)
		return -ENOTSUP;
	for (int i = 0; i < count; i++)
		rd_kafka_mock_push_request_errors(k->mock, 0 /* Produce */, 1, (rd_kafka_resp_err_t)err);
	return 0;
}

int fh_kafka_produce(struct fh_kafka *k, const struct fh_event *ev)
{
	return produce(k, ev, false, 0, 0);
}

int fh_kafka_produce_probe(struct fh_kafka *k, const struct fh_event *ev, uint64_t probe_tsc,
			   uint16_t source_id)
{
	return produce(k, ev, true, probe_tsc, source_id);
}
