/* SPDX-License-Identifier: MIT */
/* fh_publisher.h: the publisher agent: RX-core SPSC rings -> shm broadcast ring + Kafka. */
#ifndef FH_PUBLISHER_H
#define FH_PUBLISHER_H

/*
 * The publisher thread calls fh_pub_do_work() in its loop. Each call takes
 * up to `burst` events from every RX core's ring in turn (each ring's order
 * is kept; rings interleave), writes them to the shm ring (one TSC read and
 * one head publication per batch) and hands them to Kafka through a bounded
 * SPSC queue read by a Kafka thread owned by the publisher. The shm path
 * never waits on Kafka: when that queue is full the configured policy
 * applies:
 *   FH_PUB_DROP_OLDEST  the oldest queued events are discarded and counted
 *                       (kafka_dropped);
 *   FH_PUB_SPILL        events go to an append-only spill file, in order,
 *                       until the Kafka thread has caught up through it
 *                       (nothing is lost unless the unread part of the
 *                       spill reaches spill_max_bytes: then counted as
 *                       spill_dropped). Space already read back is freed
 *                       (hole punched) when the publisher returns to the queue.
 * kafka_lag (events accepted for Kafka but neither delivered nor failed) is
 * the exported lag gauge.
 *
 * Timers (checked once per call by TSC): every ~1 ms the shm header
 * heartbeat is refreshed and snapshot requests from readers are collected;
 * every heartbeat_ms a FH_EV_HEARTBEAT event (source_id cfg.source_id,
 * instrument FH_INSTRUMENT_NONE, seq 1, 2, ...) is published; every
 * snapshot_ms (0: never) and for each reader request, snapshot_cb is called.
 * The book owner answers by sending FH_EV_BOOK_SNAPSHOT followed by the
 * book's levels as FH_EV_L2_UPDATE with FH_L2_F_SNAPSHOT (the last with
 * FH_L2_F_LAST) through its own RX ring, so a snapshot is ordered with the
 * updates of the same book (docs/PUBLISH.md).
 *
 * Latency stages (issue 8): an RX core pushes a probe BEFORE enqueueing the
 * events it covers (fh_probe.h). `probes` (parallel to `rings`, NULL: none; an
 * entry may be NULL) are the RX cores' probe rings (fh_probe.h). A probe
 * whose pos the publisher has taken from that core's ring is recorded
 * through lat_fn as
 *   FH_PUB_STAGE_SHM    probe tsc -> right after the shm head publication
 *                       that made its last event visible to readers (not
 *                       recorded without an shm ring); lat_fn runs on the
 *                       PUBLISHER thread;
 *   FH_PUB_STAGE_KAFKA  probe tsc -> the delivery report (acks=all) of the
 *                       Kafka message of the probed packet's last event: the
 *                       TSC travels beside the event through the bounded
 *                       queue or the spill file to the Kafka thread and then
 *                       as the message's opaque; lat_fn runs on the KAFKA
 *                       thread (inside fh_kafka_poll/flush), and for the
 *                       last reports inside fh_pub_close() on its caller's
 *                       thread, after the Kafka thread has been joined.
 * ticks are TSC ticks (fh_tsc_to_ns()). The two threads call lat_fn
 * concurrently: give each stage its own per-thread histogram slot. Probes
 * lost on the way (full probe ring to the Kafka thread, event dropped by
 * drop_oldest or spill_dropped, failed delivery, off family) are not
 * recorded; lat_probes_* in the stats count them. Nothing is allocated and
 * no syscall is made per event or per probe.
 *
 * Thread-safety: fh_pub_do_work() and fh_pub_request_snapshot() from the
 * publisher thread; fh_pub_get_stats() from any thread.
 */

#include <stdbool.h>
#include <stdint.h>

#include "fh_kafka.h"
#include "fh_probe.h"
#include "fh_shm.h"
#include "fh_spsc.h"

enum fh_pub_full_policy {
	FH_PUB_DROP_OLDEST = 0,
	FH_PUB_SPILL = 1,
};

typedef void (*fh_pub_snapshot_cb)(void *arg, uint16_t source_id, uint32_t instrument);

/* Latency stages reported through fh_pub_cfg.lat_fn. */
enum fh_pub_stage {
	FH_PUB_STAGE_SHM = 0,   /* RX -> visible in the shm ring (publisher thread) */
	FH_PUB_STAGE_KAFKA = 1, /* RX -> acknowledged by Kafka (Kafka thread) */
	FH_PUB_STAGE__COUNT
};

/* stage: enum fh_pub_stage; ticks: TSC ticks since the probe's tsc. */
typedef void (*fh_pub_lat_fn)(void *arg, unsigned stage, uint16_t source_id, uint64_t ticks);

struct fh_pub_cfg {
	struct fh_spsc *const *rings; /* one per RX core */
	unsigned n_rings;
	unsigned burst;                   /* events per ring per call, 0: 64 */
	const struct fh_shm_cfg *shm;     /* NULL: no shm ring */
	const struct fh_kafka_cfg *kafka; /* NULL: no Kafka */
	uint64_t kafka_queue;             /* bounded queue to the Kafka thread (power of two), 0: 1 << 16 */
	enum fh_pub_full_policy policy;
	const char *spill_path;   /* FH_PUB_SPILL: the spill file (truncated at start) */
	uint64_t spill_max_bytes; /* 0: 1 GiB */
	uint64_t heartbeat_ms;    /* 0: 1000 */
	uint64_t snapshot_ms;     /* periodic snapshot requests, 0: off */
	uint16_t source_id;       /* source_id of the publisher's own events */
	fh_pub_snapshot_cb snapshot_cb;
	void *snapshot_arg;
	int kafka_cpu; /* pin the Kafka thread to this CPU, -1: not pinned */
	struct fh_probe_ring *const *probes; /* parallel to rings (entries may be NULL), NULL: none */
	fh_pub_lat_fn lat_fn; /* NULL: probes are consumed and counted only */
	void *lat_arg;
};

struct fh_pub_stats {
	uint64_t events;         /* taken from the RX rings */
	uint64_t batches;
	uint64_t shm_written;    /* positions written to the shm ring (incl. heartbeats) */
	uint64_t heartbeats;
	uint64_t snapshot_requests; /* from readers (request area) */
	uint64_t snapshot_calls;    /* snapshot_cb invocations (requests + periodic) */
	uint64_t kafka_accepted; /* offered to the Kafka path (queue or spill; includes dropped) */
	uint64_t kafka_dropped;  /* FH_PUB_DROP_OLDEST discards */
	uint64_t spilled;        /* events written to the spill file */
	uint64_t spill_read;     /* events read back from it */
	uint64_t spill_dropped;  /* spill file full or write error */
	uint64_t kafka_lag;      /* gauge: accepted - delivered - failed - refused - dropped */
	uint64_t kafka_undelivered; /* after fh_pub_close(): what the bounded flush left */
	uint64_t lat_probes_shm;   /* probes recorded at FH_PUB_STAGE_SHM */
	uint64_t lat_probes_kafka; /* probes handed to the Kafka path */
	uint64_t lat_probes_lost;  /* probes not handed on (probe queue full, event dropped) */
	struct fh_kafka_stats kafka; /* kafka.lat_probes: recorded at FH_PUB_STAGE_KAFKA */
};

struct fh_pub;

/* Creates the shm ring and the Kafka producer and starts the Kafka thread.
 * Returns NULL with a message in err. */
struct fh_pub *fh_pub_create(const struct fh_pub_cfg *cfg, char *err, size_t errlen);

/* One agent step: returns events moved (0: idle). */
unsigned fh_pub_do_work(struct fh_pub *p);

/* Asks the book owner (snapshot_cb) for a snapshot, as a reader would. */
void fh_pub_request_snapshot(struct fh_pub *p, uint16_t source_id, uint32_t instrument);

void fh_pub_get_stats(const struct fh_pub *p, struct fh_pub_stats *st);

/* The Kafka producer (NULL without Kafka), e.g. for fh_kafka_bootstrap(). */
struct fh_kafka *fh_pub_kafka(struct fh_pub *p);
struct fh_shm *fh_pub_shm(struct fh_pub *p);

/*
 * Stops: the caller has drained the RX rings (fh_pub_do_work() until 0).
 * Publishes a last heartbeat, lets the Kafka thread drain its queue and the
 * spill file, flushes Kafka waiting at most timeout_ms in total, marks the
 * shm ring closed (files removed when unlink_shm), fills *final (may be
 * NULL) and frees. Returns the number of events accepted for Kafka that
 * were not delivered (0: everything delivered).
 */
uint64_t fh_pub_close(struct fh_pub *p, int timeout_ms, bool unlink_shm, struct fh_pub_stats *final);

#endif /* FH_PUBLISHER_H */
