/* SPDX-License-Identifier: MIT */
/* fh_config.h: the appliance's YAML configuration, loaded and validated into one fixed-size struct. */
#ifndef FH_CONFIG_H
#define FH_CONFIG_H

/*
 * One YAML file (libyaml) becomes one struct fh_config: fixed-size arrays
 * with the bounds below, every default applied, every key validated. The
 * reference for every key (type, default, range, meaning) is docs/CONFIG.md.
 *
 * Errors: the loaders return 0, or -EINVAL with one message in `err`:
 *   FILE:LINE:COL: KEY.PATH: what was expected, got what
 * e.g.  config/x.yaml:12:9: sources[1].port: expected an integer 1..65535, got "http"
 * LINE and COL are 1-based and point at the offending value (or key, for an
 * unknown key; or the enclosing mapping, for a missing key). Cross-field
 * errors point at the later of the two conflicting values. The first error
 * stops the load; nothing in `cfg` may be used after a failure.
 *
 * Units (docs/CONFIG.md "Units"): durations take ns, us, ms, s, m, h
 * (500ms, 1.5s, 5m); a bare number is in the key's own unit (`_ms` keys:
 * milliseconds, `_s`: seconds, `_ns`: nanoseconds). Sizes take B, K/KiB,
 * M/MiB, G/GiB, T/TiB (1024-based) and KB, MB, GB, TB (1000-based); a bare
 * number is bytes (MiB for `memory_mb`). Counts take k, M, G (1000-based)
 * and Ki, Mi, Gi (1024-based). Strings expand ${VAR} and ${VAR:-default}
 * from the environment ($$ is a literal $).
 *
 * Thread-safety: loading is a cold, single-threaded start-up step (it may
 * set TZ briefly to resolve a source's trading day). The loaded struct is
 * read-only afterwards and may be shared by every core.
 * Durations are stored in nanoseconds (fields named *_ns), sizes in bytes.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Bounds (documented limits; exceeding one is a config error). */
#define FH_CFG_MAX_SOURCES 64
#define FH_CFG_MAX_RX_CORES 32
#define FH_CFG_MAX_SUBSCRIPTIONS 256 /* FIX symbols per source */
#define FH_CFG_MAX_WINDOWS 8           /* = FH_ENGINE_MAX_WINDOWS */
#define FH_CFG_MAX_RULES 32             /* = FH_ENGINE_MAX_RULES */
#define FH_CFG_MAX_RULE_INSTRUMENTS 8   /* = FH_ENGINE_SCOPE_MAX */
#define FH_CFG_MAX_SOURCES_PER_CORE 4   /* = FH_ENGINE_MAX_SOURCES (one engine shard per RX core) */
#define FH_CFG_MAX_SLIDES 64            /* sliding window size / slide, = FH_ENGINE_MAX_BUCKETS */
#define FH_CFG_MAX_CB_SLIDES 15         /* circuit_breaker window size / slide (< FH_ENGINE_MAX_CB_BUCKETS) */
#define FH_CFG_MAX_EAL_ARGS 32 /* raw eal.args entries */
#define FH_CFG_MAX_VDEVS 16
#define FH_CFG_MAX_PCI 16
#define FH_CFG_MAX_KAFKA_PROPS 64
#define FH_CFG_MAX_CPU 1024 /* lcore ids are 0..FH_CFG_MAX_CPU-1 */

#define FH_CFG_NAME_LEN 32    /* source, window, rule names: [A-Za-z0-9_.-], 1..31 */
#define FH_CFG_SYMBOL_LEN 16  /* rule scope symbols (ITCH: 8, up to 15) = FH_ENGINE_SYMBOL_LEN */
#define FH_CFG_FIX_SYMBOL_LEN 32 /* FIX Symbol (55) in subscriptions, spaces allowed (OCC) */
#define FH_CFG_HOST_LEN 128   /* host names and addresses */
#define FH_CFG_PATH_LEN 256   /* file and directory paths */
#define FH_CFG_IFACE_LEN 64   /* interface: Linux name, PCI address or DPDK vdev name */
#define FH_CFG_ARG_LEN 256    /* one EAL argument or vdev spec */
#define FH_CFG_COMPID_LEN 32  /* FIX CompIDs */
#define FH_CFG_PROP_KEY_LEN 64
#define FH_CFG_PROP_VAL_LEN 512
#define FH_CFG_BROKERS_LEN 1024 /* comma-joined host:port list */
#define FH_CFG_TOPIC_LEN 128

/* Bytes per preallocated item, used for the memory estimate (per RX core). */
#define FH_CFG_ORDER_BYTES 64      /* order record + its hash-table slot */
#define FH_CFG_LEVEL_BYTES 64      /* one price level */
#define FH_CFG_INSTRUMENT_BYTES 4096 /* book header, top levels, engine state */
#define FH_CFG_EVENT_BYTES 64      /* shm slot, Kafka queue entry */
#define FH_CFG_HOLD_PKT_BYTES 2048 /* one packet held while a hole is filled */

/* Load flags. */
#define FH_CONFIG_F_NO_HOST_CHECKS 0x1 /* skip checks against this host: pcap files
					* exist, CPUs exist, RAM, shm dir, group names */

enum fh_cfg_protocol {
	FH_CFG_PROTO_ITCH50 = 1,
	FH_CFG_PROTO_FIX = 2,
};

enum fh_cfg_transport {
	FH_CFG_TR_MULTICAST = 1,  /* DPDK port (PCI NIC, af_packet/af_xdp vdev, or Linux ifname) */
	FH_CFG_TR_PCAP = 2,       /* replay of a capture through DPDK net_pcap */
	FH_CFG_TR_TCP = 3,        /* FIX session over a kernel TCP socket */
	FH_CFG_TR_KERNEL_UDP = 4, /* kernel sockets: recvmmsg + IP_ADD_MEMBERSHIP */
};

enum fh_cfg_speed {
	FH_CFG_SPEED_RECORDED = 1, /* inter-packet gaps as captured */
	FH_CFG_SPEED_MULT = 2,     /* recorded gaps divided by speed_mult */
	FH_CFG_SPEED_MAX = 3,      /* as fast as possible */
};

enum fh_cfg_crossed_policy {
	FH_CFG_CROSSED_FLAG = 1,  /* mark the book crossed, alert, keep going */
	FH_CFG_CROSSED_ABORT = 2, /* stop the appliance (books must never be wrong) */
};

enum fh_cfg_window_kind {
	FH_CFG_WIN_TUMBLING = 1, /* same values as FH_WINDOW_* in fh_event.h */
	FH_CFG_WIN_SLIDING = 2,
};

/* Same values as enum fh_engine_rule_kind (engine/fh_engine.h) and fh_ev_alert.rule_kind. */
enum fh_cfg_rule_kind {
	FH_CFG_RULE_PRICE_SPIKE = 1,
	FH_CFG_RULE_VOLUME_SURGE = 2,
	FH_CFG_RULE_SPIKE_SURGE = 3,
	FH_CFG_RULE_SPREAD_WIDENING = 4,
	FH_CFG_RULE_PRICE_GAP = 5,
	FH_CFG_RULE_CIRCUIT_BREAKER = 6,
	FH_CFG_RULE_CROSSED_BOOK = 7,
	FH_CFG_RULE_LOCKED_BOOK = 8,
	FH_CFG_RULE_STALE_BOOK = 9,
	FH_CFG_RULE__COUNT
};

enum fh_cfg_kafka_family {
	FH_CFG_FAM_BOOK = 0,
	FH_CFG_FAM_TRADES,
	FH_CFG_FAM_BARS,
	FH_CFG_FAM_ALERTS,
	FH_CFG_FAM_STATUS,
	FH_CFG_FAM_ORDERS,
	FH_CFG_FAM_REFERENCE,
	FH_CFG_FAM__COUNT
};

enum fh_cfg_encoding {
	FH_CFG_ENC_BINARY = 1, /* the 64-byte struct fh_event (docs/EVENTS.md) */
	FH_CFG_ENC_JSON = 2,
	FH_CFG_ENC_OFF = 3,    /* the family is not published to Kafka */
};

enum fh_cfg_queue_policy {
	FH_CFG_QUEUE_DROP_OLDEST = 1,
	FH_CFG_QUEUE_SPILL = 2,
};

enum fh_cfg_compression {
	FH_CFG_COMP_NONE = 1,
	FH_CFG_COMP_GZIP,
	FH_CFG_COMP_SNAPPY,
	FH_CFG_COMP_LZ4,
	FH_CFG_COMP_ZSTD,
};

/* One feed line (A or B): where its packets arrive. */
struct fh_cfg_line {
	bool set;
	char group[16];      /* dotted IPv4 multicast group ("" for a pcap without filter) */
	uint32_t group_addr; /* host byte order */
	uint16_t port;       /* UDP destination port (0: any, pcap only) */
	char interface[FH_CFG_IFACE_LEN];
};

struct fh_cfg_source {
	char name[FH_CFG_NAME_LEN];
	uint16_t id; /* index in sources[], the event's source_id */
	uint8_t protocol;  /* enum fh_cfg_protocol */
	uint8_t transport; /* enum fh_cfg_transport */
	/* line[0] is A (or the only line), line[1] is B when n_lines == 2. */
	unsigned n_lines;
	struct fh_cfg_line line[2];
	struct {
		char file[FH_CFG_PATH_LEN];
		uint8_t speed;     /* enum fh_cfg_speed */
		double speed_mult; /* 1.0 unless FH_CFG_SPEED_MULT */
		bool loop;
	} pcap;
	struct {
		char host[FH_CFG_HOST_LEN];
		uint16_t port;
		char sender_comp_id[FH_CFG_COMPID_LEN];
		char target_comp_id[FH_CFG_COMPID_LEN];
		uint32_t heartbeat_s;
		unsigned n_subscriptions;
		char subscriptions[FH_CFG_MAX_SUBSCRIPTIONS][FH_CFG_FIX_SYMBOL_LEN];
		char seq_store[FH_CFG_PATH_LEN]; /* file keeping FIX sequence numbers */
	} fix;
	char session[11];          /* expected MoldUDP64 session ("" = accept the first seen) */
	char day[11];              /* trading date YYYY-MM-DD ("" = none) */
	char tz[48];               /* venue time zone for `day` */
	uint64_t midnight_utc_ns;  /* venue midnight of `day` since the Unix epoch, 0 if no day */
	int rx_core;               /* lcore that owns this source (one of cores.rx) */
	struct {
		struct {
			bool enabled; /* host set */
			char host[FH_CFG_HOST_LEN];
			uint16_t port;
			uint64_t timeout_ns;
			uint32_t retries;
			uint32_t max_outstanding; /* requests in flight */
			uint32_t max_request;     /* messages per request */
		} rerequest;
		struct {
			bool enabled;
			char host[FH_CFG_HOST_LEN];
			uint16_t port;
			uint64_t min_gap; /* a hole this long is rebuilt from the snapshot at once */
		} snapshot;
		uint32_t hold_packets; /* packets held while a hole is being filled (64..8192) */
		uint64_t hold_ns;     /* a packet ahead of a hole waits this long for the other line */
	} recovery;
};

struct fh_cfg_window {
	char name[FH_CFG_NAME_LEN];
	uint8_t kind; /* enum fh_cfg_window_kind */
	uint64_t size_ns;
	uint64_t slide_ns; /* == size_ns for tumbling */
};

/*
 * One anomaly rule, in the engine's terms (struct fh_engine_rule). The YAML
 * names the thresholds after what they mean; which keys a kind takes is in
 * docs/CONFIG.md:
 *   k   <- params.k (price_spike, spread_widening), params.ratio (volume_surge),
 *          params.z (spike_surge), params.pct (price_gap, circuit_breaker)
 *   k2  <- params.ratio (spike_surge)
 */
struct fh_cfg_rule {
	char name[FH_CFG_NAME_LEN];
	uint8_t kind;     /* enum fh_cfg_rule_kind */
	uint8_t severity; /* FH_SEV_* values: 1 info, 2 warning, 3 critical */
	double k;
	double k2;
	int window;           /* index in engine.windows, -1 if the kind takes none */
	uint32_t lookback;    /* EWMA span N (trades, windows or BBO updates) */
	uint32_t min_samples;
	uint32_t min_bps;     /* relative floor on the move, basis points */
	int64_t min_move;     /* absolute floor on the move, FH_PRICE_SCALE units */
	uint64_t min_qty;     /* minimum window volume (surges) */
	uint64_t cooldown_ns; /* event time a rule stays silent per instrument after an alert */
	bool all_instruments;
	unsigned n_instruments;
	char instruments[FH_CFG_MAX_RULE_INSTRUMENTS][FH_CFG_SYMBOL_LEN];
};

struct fh_cfg_kafka_topic {
	char name[FH_CFG_TOPIC_LEN]; /* <topic_prefix>.<family> (derived, for messages and tools) */
	uint8_t encoding;            /* enum fh_cfg_encoding */
};

struct fh_cfg_prop {
	char key[FH_CFG_PROP_KEY_LEN];
	char value[FH_CFG_PROP_VAL_LEN];
};

struct fh_config {
	char file[FH_CFG_PATH_LEN]; /* where it was loaded from */
	unsigned version;
	char instance[FH_CFG_NAME_LEN];

	unsigned n_sources;
	struct fh_cfg_source sources[FH_CFG_MAX_SOURCES];

	struct {
		unsigned n_rx;
		int rx[FH_CFG_MAX_RX_CORES];
		int publisher;
		int control;   /* -1: not pinned ("any") */
		int numa_node; /* -1: auto (the NUMA node of the RX cores) */
	} cores;

	struct {
		bool no_huge;
		bool no_pci;
		bool no_shconf;
		bool in_memory;
		uint64_t memory_mb; /* 0: DPDK decides */
		char file_prefix[FH_CFG_NAME_LEN];
		char huge_dir[FH_CFG_PATH_LEN];
		uint64_t hugepage_size; /* bytes, 0 = system default */
		char log_level[16];
		unsigned n_vdevs;
		char vdevs[FH_CFG_MAX_VDEVS][FH_CFG_ARG_LEN];
		unsigned n_pci;
		char pci[FH_CFG_MAX_PCI][32];
		unsigned n_args;
		char args[FH_CFG_MAX_EAL_ARGS][FH_CFG_ARG_LEN]; /* appended verbatim */
	} eal;

	struct {
		uint32_t depth;
		uint64_t max_orders;      /* per RX core */
		uint64_t max_instruments; /* per RX core */
		uint64_t max_levels;      /* per RX core */
		uint8_t crossed_policy;   /* enum fh_cfg_crossed_policy */
		uint64_t snapshot_interval_ns;
	} books;

	struct {
		unsigned n_windows;
		struct fh_cfg_window windows[FH_CFG_MAX_WINDOWS];
		int vwap_window; /* window whose closes emit session VWAP, -1: halts and end only */
		unsigned n_rules;
		struct fh_cfg_rule rules[FH_CFG_MAX_RULES];
	} engine;

	struct {
		struct {
			bool enabled;
			char name[FH_CFG_NAME_LEN];
			char path[FH_CFG_PATH_LEN]; /* directory: /dev/shm or a hugetlbfs mount */
			uint64_t slots;             /* power of two */
			char group[FH_CFG_NAME_LEN]; /* "" = the process's group */
			uint32_t mode;
			uint64_t snapshot_interval_ns;
			bool lock;    /* mlock the region */
			bool hugetlb; /* path is a hugetlbfs mount (found at load, with host checks) */
		} shm;
		uint64_t heartbeat_ns; /* publisher heartbeat events */
		struct {
			bool enabled;
			bool mock; /* no brokers: embedded librdkafka mock cluster */
			unsigned mock_brokers;
			unsigned partitions; /* topics created in the mock */
			char brokers[FH_CFG_BROKERS_LEN]; /* comma-joined, "" when mock */
			char topic_prefix[64];
			struct fh_cfg_kafka_topic topics[FH_CFG_FAM__COUNT];
			uint64_t linger_ns;
			uint64_t batch_size; /* bytes */
			uint8_t compression; /* enum fh_cfg_compression */
			int acks;            /* -1 = all, 0, 1 */
			bool idempotence;
			struct {
				uint64_t capacity; /* events, power of two */
				uint8_t policy;    /* enum fh_cfg_queue_policy */
				char spill_dir[FH_CFG_PATH_LEN];
				uint64_t spill_max_bytes;
			} queue;
			uint64_t flush_timeout_ns;
			unsigned n_props;
			struct fh_cfg_prop props[FH_CFG_MAX_KAFKA_PROPS]; /* passed to librdkafka as is */
		} kafka;
	} publish;

	struct {
		struct {
			bool enabled;
			char listen[FH_CFG_HOST_LEN + 8]; /* as written, e.g. 127.0.0.1:9100 */
			char host[FH_CFG_HOST_LEN];       /* without brackets */
			uint16_t port;
		} http;
		struct {
			uint64_t lowest_ns;
			uint64_t highest_ns;
			unsigned sig_digits;
			uint64_t interval_ns;
			char log[FH_CFG_PATH_LEN]; /* interval log file, "" = none */
		} hdr;
		uint64_t latency_budget_p99_ns;
	} telemetry;

	struct {
		char path[FH_CFG_PATH_LEN]; /* "" = count only */
		uint64_t max_bytes;
	} dead_letter;

	struct {
		bool enabled;
		char dir[FH_CFG_PATH_LEN];
		uint64_t rotate_bytes;
		uint64_t rotate_ns;
		uint64_t flush_ns;  /* a crash loses at most this much of the stream */
		bool warm_restart;  /* at start, rebuild the books from the journal first */
	} journal;
};

/* Every default (docs/CONFIG.md); sources empty. */
void fh_config_defaults(struct fh_config *cfg);

/*
 * Load and validate PATH into *cfg (overwritten). Returns 0, or -EINVAL
 * with the message in err (always NUL-terminated when errlen > 0), or
 * -errno when the file cannot be read (also described in err).
 */
int fh_config_load(const char *path, struct fh_config *cfg, char *err, size_t errlen);

/* Same, with FH_CONFIG_F_* flags. */
int fh_config_load_ex(const char *path, unsigned flags, struct fh_config *cfg, char *err,
		      size_t errlen);

/*
 * Load from memory (len bytes, need not be NUL-terminated). `name` is used
 * as the file name in messages (NULL: "<string>").
 */
int fh_config_load_string(const char *yaml, size_t len, const char *name, unsigned flags,
			  struct fh_config *cfg, char *err, size_t errlen);

/* The embedded copy of config/default.yaml (NUL-terminated) and its length. */
const char *fh_config_default_yaml(size_t *len);

/* Load the embedded default (named "config/default.yaml" in messages). */
int fh_config_load_default(unsigned flags, struct fh_config *cfg, char *err, size_t errlen);

/*
 * Write the effective config (every key, defaults filled) as YAML that
 * loads back to the same struct. Values of Kafka properties whose key
 * contains "password", "secret" or "key" (other than key locations) are
 * written as "<redacted>". Returns 0 or -errno.
 */
int fh_config_dump(const struct fh_config *cfg, FILE *out);

/*
 * Bytes the appliance preallocates for this config (books and engine per
 * RX core, shm ring, Kafka queue, recovery buffers); the figure checked
 * against physical RAM. Saturates at UINT64_MAX.
 */
uint64_t fh_config_memory_estimate(const struct fh_config *cfg);

/*
 * DPDK EAL argv built from cfg->eal and cfg->cores: argv[0] = prog, then
 * -l <rx and publisher lcores> --main-lcore <publisher>, the structured
 * options, then eal.args verbatim. Strings live in buf. Returns argc, or
 * -ENOSPC when argv (max entries, NULL-terminated) or buf is too small.
 */
int fh_config_eal_argv(const struct fh_config *cfg, const char *prog, char **argv, int max,
		       char *buf, size_t buflen);

/*
 * The engine shard config of RX core `rx_core` (struct fh_engine_cfg of
 * engine/fh_engine.h): the sources that core owns, books.max_instruments,
 * the windows, vwap_window and every rule. Returns 0, or -EINVAL with the
 * engine's own reason (a loaded config always converts: the loader checks it).
 */
struct fh_engine_cfg;
int fh_config_engine_cfg(const struct fh_config *cfg, int rx_core, struct fh_engine_cfg *out,
			 char *err, size_t errlen);

/*
 * librdkafka properties for publish.kafka, as NULL-terminated key, value
 * pairs (the form of fh_kafka_cfg.props): compression.type, acks,
 * enable.idempotence from their keys, then `properties` verbatim (they win).
 * kv needs 2 * (3 + n_props) + 1 entries; the strings live in cfg or are
 * static. Returns the number of pairs, or -ENOSPC.
 */
int fh_config_kafka_props(const struct fh_config *cfg, const char **kv, size_t max);

/* Lookups: index, or -1. */
int fh_config_source_index(const struct fh_config *cfg, const char *name);
int fh_config_window_index(const struct fh_config *cfg, const char *name);

/* Names of enum values ("itch50", "multicast", "price_spike", "book", ...). */
const char *fh_config_protocol_name(unsigned v);
const char *fh_config_transport_name(unsigned v);
const char *fh_config_rule_kind_name(unsigned v);
const char *fh_config_family_name(unsigned v);
const char *fh_config_severity_name(unsigned v);

/*
 * `fh --check-config FILE [--no-host-checks] [--quiet]`: takes fh's whole
 * argv (or argv + 1); the file is the value of --config, else the first
 * non-option argument ("-" = stdin); other options are ignored. Prints the
 * error to stderr and returns 1 on a bad config (2 on usage errors); on
 * success prints the effective config to stdout (unless --quiet) and a
 * one-line summary to stderr, and returns 0. Wire it as:
 *   for (int i = 1; i < argc; i++)
 *           if (!strcmp(argv[i], "--check-config"))
 *                   return fh_config_check_main(argc, argv);
 */
int fh_config_check_main(int argc, char **argv);

#endif /* FH_CONFIG_H */
