/* SPDX-License-Identifier: MIT */
/* fh_kafka.h: Kafka producer of normalized events (librdkafka), with an optional in-process mock cluster. */
#ifndef FH_KAFKA_H
#define FH_KAFKA_H

/*
 * One idempotent producer (enable.idempotence=true, acks=all, lz4) writes
 * every event to the topic of its family, `<prefix>.<family>` with the
 * families of fh_event_family(): book, trades, bars, alerts, status,
 * orders, reference. The key is the instrument symbol (learnt from
 * FH_EV_INSTRUMENT events that pass through), so one instrument stays
 * ordered in one partition; before its symbol is known the key is
 * "<source>:<instrument>", and events without an instrument use
 * "<source>". The value is the 64-byte binary event (default) or its JSON
 * (fh_json.h), chosen per family. Every message carries the header
 * `fh-schema-version` (FH_EVENT_SCHEMA_VERSION as decimal text). (Each
 * header costs librdkafka an allocation per message, ~10 % of the CPU per
 * event: the encoding is per topic and needs none — a JSON value starts
 * with '{', a binary one with its type byte.)
 *
 * With no brokers configured, fh_kafka_create() starts librdkafka's mock
 * cluster in-process (3 brokers on 127.0.0.1), creates the topics and
 * exposes the bootstrap address (fh_kafka_bootstrap()), so any Kafka client
 * (kcat) can consume. The mock keeps only a few MiB per partition.
 *
 * Delivery reports are counted per family; a message that fails after
 * librdkafka's retries is counted, logged (rate-limited, stderr) and
 * written to the dead-letter sink with reason "kafka_<error name>".
 *
 * A family can be off (cfg.off[f]): its events are not produced, they are
 * counted in skipped[f] (fh_kafka_produce() returns 0), and they count as
 * done for the lag gauge. FH_EV_INSTRUMENT events of an off family still
 * teach the symbol used as key by the other families.
 *
 * Latency: fh_kafka_produce_probe() marks a message with the TSC of a
 * latency probe; its successful delivery report calls cfg.lat_fn with the
 * ticks from that TSC to the report (on the thread that polls). A fixed
 * table of FH_KAFKA_PROBE_SLOTS in-flight probes is used; a probe whose
 * slot was reused before its report arrived is counted in lat_lost.
 *
 * Thread-safety: produce/poll/flush from ONE thread (the publisher's Kafka
 * thread); delivery callbacks run inside fh_kafka_poll()/flush() on it.
 * fh_kafka_get_stats() may be called from any thread.
 */

#include <stdbool.h>
#include <stdint.h>

#include "fh_dlq.h"
#include "fh_event.h"

enum fh_kafka_family {
	FH_KF_BOOK = 0,
	FH_KF_TRADES,
	FH_KF_BARS,
	FH_KF_ALERTS,
	FH_KF_STATUS,
	FH_KF_ORDERS,
	FH_KF_REFERENCE,
	FH_KF__COUNT
};

#define FH_KAFKA_PROBE_SLOTS 4096u /* in-flight latency probes (power of two) */

/* ticks: TSC ticks from the probe's tsc to its delivery report. */
typedef void (*fh_kafka_lat_fn)(void *arg, uint16_t source_id, uint64_t ticks);

struct fh_kafka_cfg {
	const char *brokers;      /* bootstrap.servers; NULL or "": in-process mock cluster */
	int mock_brokers;         /* 0: 3 */
	int partitions;           /* partitions per topic created in the mock, 0: 3 */
	const char *topic_prefix; /* NULL: "fh" */
	bool json[FH_KF__COUNT];  /* JSON value for this family (else binary) */
	int linger_ms;            /* linger.ms, < 0: 5 */
	int batch_size;           /* batch.size bytes, 0: 1000000 */
	int batch_num_messages;   /* 0: 10000 */
	int queue_max_messages;   /* queue.buffering.max.messages, 0: 1000000 */
	int message_timeout_ms;   /* message.timeout.ms (give up after retries), 0: 300000 */
	const char *client_id;    /* NULL: "fh" */
	const char *const *props; /* extra librdkafka properties, NULL-terminated
				     key, value pairs (security.protocol, sasl.*, ssl.*) */
	struct fh_dlq *dlq;       /* failed deliveries; NULL: counted and logged only */
	unsigned symbols;         /* symbol table slots (power of two), 0: 65536 */
	bool off[FH_KF__COUNT];   /* family not produced (counted in skipped) */
	fh_kafka_lat_fn lat_fn;   /* delivery latency of probed messages, NULL: none */
	void *lat_arg;
};

struct fh_kafka_stats {
	uint64_t produced[FH_KF__COUNT];  /* accepted by librdkafka */
	uint64_t delivered[FH_KF__COUNT]; /* acknowledged (acks=all) */
	uint64_t failed[FH_KF__COUNT];    /* failed after retries: logged, dead-lettered */
	uint64_t produce_errors;          /* refused by librdkafka (not queue-full): dead-lettered */
	uint64_t queue_full;              /* produce calls that met a full librdkafka queue */
	uint64_t symbols_full;            /* instruments not remembered: table full */
	uint64_t encode_errors;
	uint64_t skipped[FH_KF__COUNT];   /* events of an off family, not produced */
	uint64_t lat_probes;              /* probed messages delivered and reported to lat_fn */
	uint64_t lat_lost;                /* probed messages failed, skipped, or slot reused */
};

struct fh_kafka;

/* Returns NULL on error with a message in err. */
struct fh_kafka *fh_kafka_create(const struct fh_kafka_cfg *cfg, char *err, size_t errlen);

/* Flushes with a bounded wait then frees. Returns the count of messages not
 * delivered (still queued or in flight) when it gave up. */
uint64_t fh_kafka_destroy(struct fh_kafka *k, int flush_timeout_ms);

/* Produces one event. Returns 0, FH_PUB_BACK_PRESSURED (librdkafka's queue
 * is full: poll and retry) or -EIO (refused: counted, dead-lettered). */
int fh_kafka_produce(struct fh_kafka *k, const struct fh_event *ev);

/* As fh_kafka_produce(), the message carrying a latency probe started at
 * probe_tsc (TSC ticks) of source source_id, for cfg.lat_fn. */
int fh_kafka_produce_probe(struct fh_kafka *k, const struct fh_event *ev, uint64_t probe_tsc,
			   uint16_t source_id);

/* Serves delivery reports, waiting up to timeout_ms. */
void fh_kafka_poll(struct fh_kafka *k, int timeout_ms);

/* Waits up to timeout_ms for everything produced; returns how many are not
 * delivered yet. */
uint64_t fh_kafka_flush(struct fh_kafka *k, int timeout_ms);

/* Messages produced but not yet acknowledged or failed. */
uint64_t fh_kafka_outq(struct fh_kafka *k);

void fh_kafka_get_stats(const struct fh_kafka *k, struct fh_kafka_stats *st);

/* Bootstrap address ("127.0.0.1:port,...") of the mock or the configured brokers. */
const char *fh_kafka_bootstrap(const struct fh_kafka *k);

/* Full topic name of a family. */
const char *fh_kafka_topic(const struct fh_kafka *k, enum fh_kafka_family f);

/* Family index of an event type (fh_event_family()), FH_KF_STATUS for unknown. */
enum fh_kafka_family fh_kafka_family_of(unsigned type);
const char *fh_kafka_family_name(enum fh_kafka_family f);
/* Family by name ("book", ...), -1 when unknown. */
int fh_kafka_family_parse(const char *name);

/* Mock cluster only: broker ids 1..mock_brokers; id -1: all. Returns 0,
 * -ENOTSUP without a mock, -EINVAL for a bad id. Any thread. */
int fh_kafka_mock_set_down(struct fh_kafka *k, int broker_id, bool down);

/* Mock cluster only (tests): the next `count` Produce requests fail with the
 * Kafka error code `err` (e.g. 10, MESSAGE_TOO_LARGE: permanent, not
 * retried). Returns 0, -ENOTSUP without a mock. */
int fh_kafka_mock_fail_produce(struct fh_kafka *k, int count, int err);

#endif /* FH_KAFKA_H */
