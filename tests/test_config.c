/* SPDX-License-Identifier: MIT */
/* test_config.c: YAML config loader: every bad-config message, good configs, defaults, units, dump. */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fh_common.h"
#include "fh_config.h"
#include "fh_engine.h"
#include "fh_test.h"

/* A valid one-source config (7 lines); bad cases are edits of it. */
#define SRC                                                                         \
	"sources:\n"                                                                \
	"  - name: a\n"                                                             \
	"    protocol: itch50\n"                                                    \
	"    transport: multicast\n"                                                \
	"    group: 233.54.12.1\n"                                                  \
	"    port: 26400\n"                                                         \
	"    interface: eth0\n"

static struct fh_config cfg;

static int load(const char *yaml, unsigned flags, char *err, size_t len)
{
	return fh_config_load_string(yaml, strlen(yaml), "t.yaml", flags, &cfg, err, len);
}

struct bad_case {
	const char *yaml;
	const char *msg; /* the exact message ... */
	int prefix;      /* ... or, when 1, its start (the rest names this host's RAM or CPUs) */
};

static const struct bad_case bad[] = {
	/* wrong types */
	{ "sources:\n  - name: a\n    protocol: itch50\n    transport: multicast\n"
	  "    group: 233.54.12.1\n    port: http\n    interface: eth0\n",
	  "t.yaml:6:11: sources[0].port: expected an integer 1..65535, got \"http\"" },
	{ SRC "cores:\n  rx: 1\n",
	  "t.yaml:9:7: cores.rx: expected a list of lcore ids (e.g. [2, 3]), got \"1\"" },
	{ SRC "books:\n  depth: [10]\n",
	  "t.yaml:9:10: books.depth: expected an integer 1..1000, got a list" },
	{ SRC "books:\n  depth: 0\n",
	  "t.yaml:9:10: books.depth: expected an integer 1..1000, got \"0\"" },
	{ SRC "publish:\n  shm:\n    enabled: maybe\n",
	  "t.yaml:10:14: publish.shm.enabled: expected true or false, got \"maybe\"" },
	{ "sources:\n  - name: a\n    protocol: itch50\n    transport: multicast\n"
	  "    group: 10.1.2.3\n    port: 26400\n    interface: eth0\n",
	  "t.yaml:5:12: sources[0].group: expected an IPv4 multicast group "
	  "224.0.0.0..239.255.255.255, got \"10.1.2.3\"" },
	{ SRC "telemetry:\n  http: {listen: \"[::1]:9100\"}\n",
	  "t.yaml:9:18: telemetry.http.listen: expected an IPv4 address:port (e.g. 127.0.0.1:9100, "
	  "0.0.0.0:9100), got \"[::1]:9100\"" },
	{ SRC "telemetry:\n  http: {listen: localhost}\n",
	  "t.yaml:9:18: telemetry.http.listen: expected host:port (e.g. 127.0.0.1:9100, "
	  "[::1]:9100, kafka1:9093), got \"localhost\"" },
	/* unknown keys */
	{ "sources:\n  - name: a\n    protocol: itch50\n    transport: multicast\n"
	  "    group: 233.54.12.1\n    prot: 26400\n    interface: eth0\n",
	  "t.yaml:6:5: sources[0].prot: unknown key (did you mean \"port\"?)" },
	{ SRC "kafka:\n  brokers: []\n",
	  "t.yaml:8:1: kafka: unknown key (expected one of: version, instance, sources, cores, "
	  "eal, books, engine, publish, telemetry, dead_letter, journal)" },
	{ SRC "books:\n  max_order: 100000\n",
	  "t.yaml:9:3: books.max_order: unknown key (did you mean \"max_orders\"?)" },
	{ SRC "engine:\n  windows: [{name: w, kind: tumbling, size: 1s}]\n  rules:\n"
	      "    - {name: g, kind: price_gap, params: {k: 3}}\n",
	  "t.yaml:11:43: engine.rules[0].params.k: unknown key (expected one of: pct, min_move, "
	  "min_bps)" },
	{ "sources:\n  - name: a\n    protocol: itch50\n    transport: multicast\n"
	  "    group: 233.54.12.1\n    port: 26400\n    port: 26401\n    interface: eth0\n",
	  "t.yaml:7:5: sources[0].port: duplicate key (first at line 6)" },
	/* missing things */
	{ "cores:\n  rx: [1]\n", "t.yaml:1:1: sources: missing (at least one source is required)" },
	{ "sources: []\n", "t.yaml:1:10: sources: at least one source is required" },
	{ "", "t.yaml: empty config (expected a mapping with at least `sources`)" },
	{ "sources:\n  - name: a\n    transport: multicast\n",
	  "t.yaml:2:5: sources[0].protocol: missing (itch50 or fix)" },
	{ "sources:\n  - name: a\n    protocol: itch50\n    transport: multicast\n"
	  "    group: 233.54.12.1\n    interface: eth0\n",
	  "t.yaml:2:5: sources[0].port: missing (the line's UDP port)" },
	{ "sources:\n  - {name: a, protocol: fix, transport: tcp, fix: {host: h, port: 9000}}\n",
	  "t.yaml:2:51: sources[0].fix.sender_comp_id: missing (our SenderCompID (49))" },
	/* cores */
	{ SRC "cores: {rx: [1], publisher: 1}\n",
	  "t.yaml:8:29: cores.publisher: core 1 is also an RX core (cores.rx[0]); rx, publisher "
	  "and control cores must differ" },
	{ SRC "cores: {rx: [1], publisher: 0, control: 0}\n",
	  "t.yaml:8:41: cores.control: core 0 is also the publisher core; rx, publisher and "
	  "control cores must differ" },
	{ SRC "cores: {rx: [1, 1]}\n",
	  "t.yaml:8:17: cores.rx[1]: core 1 is listed twice (also cores.rx[0])" },
	{ SRC "    rx_core: 3\ncores: {rx: [1]}\n",
	  "t.yaml:8:14: sources[0].rx_core: core 3 is not an RX core (cores.rx: [1])" },
	{ SRC "cores: {rx: [1000]}\n",
	  "t.yaml:8:14: cores.rx[0]: CPU 1000 does not exist on this host", 1 },
	/* memory */
	{ SRC "books: {max_orders: 4000000000}\n",
	  "t.yaml:8:21: books.max_orders: impossible memory size: 1 RX core(s) x (4000000000 "
	  "orders x 64 B + 1048576 levels x 64 B + 16384 instruments x 4096 B) plus rings need "
	  "238.7 GiB, more than this host's",
	  1 },
	{ SRC "books: {max_orders: 5000000000}\n",
	  "t.yaml:8:21: books.max_orders: expected a count 1024..4294967295 (e.g. 4096, 2M, 4Mi), "
	  "got \"5000000000\"" },
	/* enums */
	{ "sources:\n  - name: a\n    protocol: itch5\n    transport: multicast\n",
	  "t.yaml:3:15: sources[0].protocol: expected one of: itch50, fix, got \"itch5\" "
	  "(did you mean \"itch50\"?)" },
	{ SRC "books: {crossed_policy: ignore}\n",
	  "t.yaml:8:25: books.crossed_policy: expected one of: flag, abort, got \"ignore\"" },
	{ "sources:\n  - name: a\n    protocol: itch50\n    transport: tcp\n",
	  "t.yaml:4:16: sources[0].transport: itch50 sources take multicast, kernel_udp or pcap, "
	  "got \"tcp\"" },
	/* units */
	{ SRC "books: {snapshot_interval_ms: 5 parsecs}\n",
	  "t.yaml:8:31: books.snapshot_interval_ms: expected a duration 0ns..1h (e.g. 500ms, 5s, "
	  "1m), got \"5 parsecs\"" },
	{ SRC "dead_letter: {max_bytes: 64XB}\n",
	  "t.yaml:8:26: dead_letter.max_bytes: expected a size 64KiB..16TiB (e.g. 64MiB, 2G), "
	  "got \"64XB\"" },
	{ SRC "engine:\n  windows: [{name: w, kind: tumbling, size: 60}]\n",
	  "t.yaml:9:45: engine.windows[0].size: expected a duration 1ms..24h with a unit (e.g. "
	  "500ms, 5s, 1m), got \"60\"" },
	/* names, groups, lines */
	{ SRC "  - {name: a, protocol: itch50, transport: multicast, group: 233.54.12.2, port: 1, "
	      "interface: eth0}\n",
	  "t.yaml:8:12: sources[1].name: duplicate source name \"a\" (also sources[0])" },
	{ SRC "  - {name: b, protocol: itch50, transport: kernel_udp, group: 233.54.12.1, port: "
	      "26400}\n",
	  "t.yaml:8:63: sources[1].group: duplicate group 233.54.12.1:26400 (also sources[0] "
	  "\"a\" line A)" },
	{ "sources:\n  - name: a\n    protocol: itch50\n    transport: multicast\n    lines:\n"
	  "      a: {group: 233.54.12.1, port: 26400, interface: eth0}\n"
	  "      b: {group: 233.54.12.1, port: 26400, interface: eth0}\n",
	  "t.yaml:7:10: sources[0].lines.b: the B line must differ from the A line (same group "
	  "233.54.12.1, port 26400 and interface \"eth0\")" },
	{ "sources:\n  - name: a\n    protocol: itch50\n    transport: pcap\n"
	  "    pcap: {file: /nonexistent/fh/x.pcap}\n",
	  "t.yaml:5:18: sources[0].pcap.file: cannot read \"/nonexistent/fh/x.pcap\": No such "
	  "file or directory" },
	{ "sources:\n  - name: a\n    protocol: itch50\n    transport: multicast\n"
	  "    group: 233.54.12.1\n    port: 26400\n    interface: 0000:3b:00.0\n"
	  "eal: {pci: [\"0000:5e:00.0\"]}\n",
	  "t.yaml:7:16: sources[0].interface: PCI device 0000:3b:00.0 is not in eal.pci (the allow "
	  "list)" },
	{ "sources:\n  - name: a\n    protocol: itch50\n    transport: multicast\n"
	  "    group: 233.54.12.1\n    port: 26400\n    interface: net_af_packet0\n",
	  "t.yaml:7:16: sources[0].interface: no eal.vdevs entry is named \"net_af_packet0\"" },
	{ SRC "    day: 2026-02-30\n",
	  "t.yaml:8:10: sources[0].day: expected a trading date YYYY-MM-DD (1970-01-02..2200-12-31), "
	  "got \"2026-02-30\"" },
	/* shm */
	{ SRC "publish:\n  shm: {mode: \"0666\"}\n",
	  "t.yaml:9:15: publish.shm.mode: mode 0666 is world-writable: any local user could corrupt "
	  "the ring (use 0640, or 0660 with a group)" },
	{ SRC "publish:\n  shm: {slots: 1000000}\n",
	  "t.yaml:9:16: publish.shm.slots: expected a power of two 1024..1073741824 (e.g. 1Mi), "
	  "got 1000000" },
	/* engine */
	{ SRC "engine:\n  windows: [{name: w, kind: sliding, size: 1m, slide: 2m}]\n",
	  "t.yaml:9:55: engine.windows[0].slide: slide 2m is larger than size 1m (slide must be "
	  "<= size)" },
	{ SRC "engine:\n  windows: [{name: w1m, kind: tumbling, size: 1m}]\n  rules:\n"
	      "    - {name: s, kind: volume_surge, params: {window: w1n}}\n",
	  "t.yaml:11:54: engine.rules[0].params.window: unknown window \"w1n\" (did you mean "
	  "\"w1m\"?)" },
	{ SRC "engine:\n  windows: [{name: w, kind: tumbling, size: 1m}]\n  rules:\n"
	      "    - {name: s, kind: price_spike, params: {k: 0}}\n",
	  "t.yaml:11:48: engine.rules[0].params.k: expected a number > 0 and <= 1e+06, got \"0\"" },
	{ SRC "engine:\n  windows: [{name: w, kind: tumbling, size: 1m}]\n  rules:\n"
	      "    - {name: s, kind: price_spike, params: {window: w}}\n",
	  "t.yaml:11:45: engine.rules[0].params.window: unknown key (expected one of: k, lookback, "
	  "min_samples, min_bps, min_move)" },
	{ SRC "engine:\n  windows: [{name: w, kind: sliding, size: 10m, slide: 30s}]\n  rules:\n"
	      "    - {name: cb, kind: circuit_breaker, params: {window: w}}\n",
	  "t.yaml:11:58: engine.rules[0].params.window: window \"w\" has 20 slides; a circuit "
	  "breaker's reference takes at most 15 (use a larger slide)" },
	{ SRC "  - {name: b, protocol: itch50, transport: kernel_udp, group: 233.54.12.2, port: 1}\n"
	      "  - {name: c, protocol: itch50, transport: kernel_udp, group: 233.54.12.3, port: 1}\n"
	      "  - {name: d, protocol: itch50, transport: kernel_udp, group: 233.54.12.4, port: 1}\n"
	      "  - {name: e, protocol: itch50, transport: kernel_udp, group: 233.54.12.5, port: 1}\n",
	  "t.yaml:11:5: sources[4].rx_core: core 1 already owns 4 sources; one RX core (one engine "
	  "shard) takes at most 4: add a core to cores.rx" },
	{ SRC "publish:\n  kafka: {queue: {capacity: 1000000}}\n",
	  "t.yaml:9:29: publish.kafka.queue.capacity: expected a power of two 1024..268435456 (e.g. "
	  "1Mi), got 1000000" },
	{ SRC "engine:\n  windows: [{name: w, kind: tumbling, size: 1m}]\n  rules:\n"
	      "    - {name: s, kind: volume_surge, params: {ratio: 5}}\n",
	  "t.yaml:11:45: engine.rules[0].params.window: missing (a volume_surge rule needs one of "
	  "engine.windows)" },
	/* kafka */
	{ SRC "publish:\n  kafka: {acks: 1}\n",
	  "t.yaml:9:17: publish.kafka.acks: idempotence: true requires acks: all (set idempotence: "
	  "false to use acks 1)" },
	{ SRC "publish:\n  kafka:\n    properties: {bootstrap.servers: \"k:9092\"}\n",
	  "t.yaml:10:18: publish.kafka.properties[\"bootstrap.servers\"]: set by "
	  "publish.kafka.brokers; remove it from properties" },
	{ SRC "publish:\n  kafka:\n    properties: {security.protocol: bogus}\n",
	  "t.yaml:10:37: publish.kafka.properties[\"security.protocol\"]: librdkafka rejects it: "
	  "Invalid value \"bogus\" for configuration property \"security.protocol\"" },
	{ SRC "publish:\n  kafka: {queue: {policy: spill}}\n",
	  "t.yaml:9:18: publish.kafka.queue.spill_dir: missing (policy spill needs a directory)" },
	/* everything else */
	{ "sources:\n  - name: a\n    protocol: itch50\n    transport: multicast\n"
	  "    group: 233.54.12.1\n    port: 26400\n    interface: ${FH_TEST_SURELY_UNSET}\n",
	  "t.yaml:7:16: sources[0].interface: environment variable FH_TEST_SURELY_UNSET is not set "
	  "(use ${FH_TEST_SURELY_UNSET:-default})" },
	{ "sources: [\n  {name: a\n",
	  "t.yaml:3:1: YAML syntax error: did not find expected ',' or '}' while parsing a flow "
	  "mapping" },
	{ SRC "---\nsources: []\n", "t.yaml:9:1: a second YAML document (only one is read; remove "
				    "the ---)" },
	{ SRC "journal: {enabled: true}\n",
	  "t.yaml:8:10: journal.dir: missing (journal.enabled needs a directory)" },
	{ SRC "telemetry:\n  hdr: {sig_digits: 6}\n",
	  "t.yaml:9:21: telemetry.hdr.sig_digits: expected an integer 1..5, got \"6\"" },
	{ SRC "eal: {no_huge: true, hugepages: {size: 2M}}\n",
	  "t.yaml:8:33: eal.hugepages: conflicts with eal.no_huge: true" },
	{ SRC "eal: {args: [\"-l\", \"0-3\"]}\n",
	  "t.yaml:8:14: eal.args[0]: \"-l\" is set from the cores section; remove it" },
	{ SRC "    pcap: {file: x.pcap}\n",
	  "t.yaml:8:11: sources[0].pcap: not allowed here: only transport pcap replays a file" },
};

_Static_assert(sizeof(bad) / sizeof(bad[0]) >= 25, "the issue asks for >= 25 bad configs");

static void test_bad_configs(void)
{
	char err[1024];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = load(bad[i].yaml, 0, err, sizeof(err));
		bool ok = rc == -EINVAL &&
			  (bad[i].prefix ? !strncmp(err, bad[i].msg, strlen(bad[i].msg))
					 : !strcmp(err, bad[i].msg));
		fh_test_checks++;
		if (!ok) {
			fprintf(stderr, "  FAIL bad[%zu]: rc %d\n    got:  %s\n    want: %s%s\n", i, rc,
				err, bad[i].msg, bad[i].prefix ? "..." : "");
			fh_test_failed = 1;
		}
	}
}

/* A bad config through the file loader names the file; a missing file is -ENOENT. */
static void test_file_errors(void)
{
	char path[64], err[512];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/fh-test-config-%d.yaml", (int)getpid());
	f = fopen(path, "w");
	FH_CHECK(f != NULL);
	if (!f)
		return;
	fputs(SRC "    rx_core: x\n", f);
	fclose(f);
	FH_CHECK_EQ_I(fh_config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	{
		char want[256];
		snprintf(want, sizeof(want),
			 "%s:8:14: sources[0].rx_core: expected an integer 0..1023, got \"x\"", path);
		FH_CHECK_STR(err, want);
	}
	unlink(path);
	FH_CHECK_EQ_I(fh_config_load(path, &cfg, err, sizeof(err)), -ENOENT);
	FH_CHECK(strstr(err, "cannot open") != NULL);
	/* A tiny err buffer is still NUL-terminated and the error still returned. */
	FH_CHECK_EQ_I(load("sources: []\n", 0, err, 8), -EINVAL);
	FH_CHECK_EQ_U(strlen(err), 7);
}

/* Every default, on the smallest valid config. */
static void test_defaults(void)
{
	char err[512];

	FH_CHECK_EQ_I(load(SRC, 0, err, sizeof(err)), 0);
	FH_CHECK_STR(err, "");
	FH_CHECK_EQ_U(cfg.n_sources, 1);
	FH_CHECK_STR(cfg.sources[0].name, "a");
	FH_CHECK_EQ_U(cfg.sources[0].protocol, FH_CFG_PROTO_ITCH50);
	FH_CHECK_EQ_U(cfg.sources[0].transport, FH_CFG_TR_MULTICAST);
	FH_CHECK_EQ_U(cfg.sources[0].n_lines, 1);
	FH_CHECK_STR(cfg.sources[0].line[0].group, "233.54.12.1");
	FH_CHECK_EQ_U(cfg.sources[0].line[0].group_addr, 0xe9360c01u);
	FH_CHECK_EQ_U(cfg.sources[0].line[0].port, 26400);
	FH_CHECK_STR(cfg.sources[0].line[0].interface, "eth0");
	FH_CHECK_EQ_I(cfg.sources[0].rx_core, 1);
	FH_CHECK_STR(cfg.sources[0].tz, "America/New_York");
	FH_CHECK_EQ_U(cfg.sources[0].midnight_utc_ns, 0);
	FH_CHECK_EQ_U(cfg.sources[0].recovery.hold_packets, 1024);
	FH_CHECK_EQ_U(cfg.sources[0].recovery.hold_ns, 1000000);
	FH_CHECK(!cfg.sources[0].recovery.rerequest.enabled);
	FH_CHECK_EQ_U(cfg.cores.n_rx, 1);
	FH_CHECK_EQ_I(cfg.cores.rx[0], 1);
	FH_CHECK_EQ_I(cfg.cores.publisher, 0);
	FH_CHECK_EQ_I(cfg.cores.control, -1);
	FH_CHECK_EQ_I(cfg.cores.numa_node, -1);
	FH_CHECK_EQ_U(cfg.books.depth, 10);
	FH_CHECK(cfg.books.max_orders >= 2000000);
	FH_CHECK(cfg.books.max_instruments >= 10000);
	FH_CHECK(cfg.books.max_levels >= 1000000);
	FH_CHECK_EQ_U(cfg.books.crossed_policy, FH_CFG_CROSSED_FLAG);
	FH_CHECK_EQ_U(cfg.books.snapshot_interval_ns, 1000000000ull);
	FH_CHECK_EQ_U(cfg.engine.n_windows, 4);
	FH_CHECK_EQ_U(cfg.engine.n_rules, 9);
	FH_CHECK(cfg.publish.shm.enabled);
	FH_CHECK_STR(cfg.publish.shm.path, "/dev/shm");
	FH_CHECK_EQ_U(cfg.publish.shm.slots, 1u << 20);
	FH_CHECK_EQ_U(cfg.publish.shm.mode, 0640);
	FH_CHECK(cfg.publish.kafka.enabled);
	FH_CHECK(cfg.publish.kafka.mock);
	FH_CHECK_EQ_U(cfg.publish.kafka.mock_brokers, 3);
	FH_CHECK_STR(cfg.publish.kafka.topics[FH_CFG_FAM_TRADES].name, "fh.trades");
	FH_CHECK_EQ_U(cfg.publish.kafka.topics[FH_CFG_FAM_TRADES].encoding, FH_CFG_ENC_BINARY);
	FH_CHECK_STR(cfg.publish.kafka.topics[FH_CFG_FAM_ORDERS].name, "fh.orders");
	FH_CHECK_EQ_I(cfg.publish.kafka.acks, -1);
	FH_CHECK(cfg.publish.kafka.idempotence);
	FH_CHECK_EQ_U(cfg.publish.kafka.compression, FH_CFG_COMP_LZ4);
	FH_CHECK_EQ_U(cfg.publish.kafka.linger_ns, 5000000);
	FH_CHECK_EQ_U(cfg.publish.kafka.queue.policy, FH_CFG_QUEUE_DROP_OLDEST);
	FH_CHECK_EQ_U(cfg.publish.kafka.flush_timeout_ns, 5000000000ull);
	FH_CHECK(cfg.telemetry.http.enabled);
	FH_CHECK_STR(cfg.telemetry.http.host, "127.0.0.1");
	FH_CHECK_EQ_U(cfg.telemetry.http.port, 9100);
	FH_CHECK_EQ_U(cfg.telemetry.hdr.lowest_ns, 1);
	FH_CHECK_EQ_U(cfg.telemetry.hdr.highest_ns, 3600000000000ull);
	FH_CHECK_EQ_U(cfg.telemetry.hdr.sig_digits, 3);
	FH_CHECK_EQ_U(cfg.dead_letter.max_bytes, 256u << 20);
	FH_CHECK(!cfg.journal.enabled);
	/* The memory estimate: books and engine per RX core plus the rings. */
	FH_CHECK_EQ_U(fh_config_memory_estimate(&cfg),
		      (2ull << 20) * 64 + (1ull << 20) * 64 + 16384ull * 4096 + (1ull << 20) * 64 +
			      (1ull << 20) * 64 + 1024ull * 2048);
}

/* Durations, sizes and counts with their units; ${VAR} expansion. */
static void test_units_and_env(void)
{
	char err[512];

	FH_CHECK_EQ_I(load(SRC "publish:\n  kafka: {linger_ms: 250, flush_timeout_ms: 1.5s, "
			       "batch_size: 64KiB, queue: {capacity: 4Mi}}\n"
			       "books: {max_orders: 2M, snapshot_interval_ms: 0}\n"
			       "dead_letter: {max_bytes: 2G}\n"
			       "telemetry: {latency_budget_p99_ns: 2.5us, hdr: {highest_ns: 10s}}\n"
			       "journal: {rotate_bytes: 1.5GiB, rotate_s: 90}\n",
			   0, err, sizeof(err)),
		      0);
	FH_CHECK_STR(err, "");
	FH_CHECK_EQ_U(cfg.publish.kafka.linger_ns, 250000000);
	FH_CHECK_EQ_U(cfg.publish.kafka.flush_timeout_ns, 1500000000);
	FH_CHECK_EQ_U(cfg.publish.kafka.batch_size, 65536);
	FH_CHECK_EQ_U(cfg.publish.kafka.queue.capacity, 4u << 20);
	FH_CHECK_EQ_U(cfg.books.max_orders, 2000000);
	FH_CHECK_EQ_U(cfg.books.snapshot_interval_ns, 0);
	FH_CHECK_EQ_U(cfg.dead_letter.max_bytes, 2ull << 30);
	FH_CHECK_EQ_U(cfg.telemetry.latency_budget_p99_ns, 2500);
	FH_CHECK_EQ_U(cfg.telemetry.hdr.highest_ns, 10000000000ull);
	FH_CHECK_EQ_U(cfg.journal.rotate_bytes, 3ull << 29);
	FH_CHECK_EQ_U(cfg.journal.rotate_ns, 90000000000ull);

	/* A family can be kept off Kafka. */
	FH_CHECK_EQ_I(load(SRC "publish:\n  kafka: {topics: {orders: off, trades: json, "
			       "book: {encoding: off}}}\n",
			   0, err, sizeof(err)),
		      0);
	FH_CHECK_STR(err, "");
	FH_CHECK_EQ_U(cfg.publish.kafka.topics[FH_CFG_FAM_ORDERS].encoding, FH_CFG_ENC_OFF);
	FH_CHECK_EQ_U(cfg.publish.kafka.topics[FH_CFG_FAM_BOOK].encoding, FH_CFG_ENC_OFF);
	FH_CHECK_EQ_U(cfg.publish.kafka.topics[FH_CFG_FAM_TRADES].encoding, FH_CFG_ENC_JSON);
	FH_CHECK_EQ_U(cfg.publish.kafka.topics[FH_CFG_FAM_BARS].encoding, FH_CFG_ENC_BINARY);
	FH_CHECK_EQ_I(load(SRC "publish:\n  kafka: {topics: {orders: none}}\n", 0, err,
			   sizeof(err)),
		      -EINVAL);
	FH_CHECK(strstr(err, "publish.kafka.topics.orders") != NULL);

	setenv("FH_TEST_CFG_IFACE", "ens1f0", 1);
	unsetenv("FH_TEST_CFG_UNSET");
	FH_CHECK_EQ_I(load("sources:\n  - name: a\n    protocol: itch50\n    transport: multicast\n"
			   "    group: 233.54.12.1\n    port: 26400\n"
			   "    interface: ${FH_TEST_CFG_IFACE}\n"
			   "dead_letter: {path: \"${FH_TEST_CFG_UNSET:-/var/tmp}/dl$$.dlq\"}\n",
			   0, err, sizeof(err)),
		      0);
	FH_CHECK_STR(cfg.sources[0].line[0].interface, "ens1f0");
	FH_CHECK_STR(cfg.dead_letter.path, "/var/tmp/dl$.dlq");
	unsetenv("FH_TEST_CFG_IFACE");
}

/* A/B lines, round-robin RX cores, FIX over TCP, trading day, rules with scopes. */
static void test_sources_and_rules(void)
{
	char err[512];

	FH_CHECK_EQ_I(load("sources:\n"
			   "  - name: nasdaq-a\n    protocol: itch50\n    transport: multicast\n"
			   "    port: 26400\n    interface: eth0\n"
			   "    lines:\n      a: {group: 233.54.12.111}\n"
			   "      b: {group: 233.49.196.111, interface: eth1}\n"
			   "    day: 2026-03-09\n"
			   "    recovery: {rerequest: {host: 10.0.0.9, port: 18000}}\n"
			   "  - name: fix1\n    protocol: fix\n    transport: tcp\n"
			   "    fix: {host: fix.venue.example, port: 9878, sender_comp_id: FH, "
			   "target_comp_id: VENUE, subscriptions: [AAPL, MSFT]}\n"
			   "  - {name: k3, protocol: itch50, transport: kernel_udp, group: 233.54.12.3, "
			   "port: 26400}\n"
			   "cores: {rx: [2, 3], publisher: 4, control: 5}\n"
			   "engine:\n  windows: [{name: s, kind: sliding, size: 5m, slide: 1m}]\n"
			   "  rules:\n    - {name: r, kind: circuit_breaker, severity: info, "
			   "params: {window: s, pct: 7.5}, instruments: [AAPL, MSFT]}\n",
			   FH_CONFIG_F_NO_HOST_CHECKS, err, sizeof(err)),
		      0);
	FH_CHECK_STR(err, "");
	FH_CHECK_EQ_U(cfg.n_sources, 3);
	FH_CHECK_EQ_U(cfg.sources[0].n_lines, 2);
	FH_CHECK_STR(cfg.sources[0].line[0].group, "233.54.12.111");
	FH_CHECK_STR(cfg.sources[0].line[0].interface, "eth0");
	FH_CHECK_EQ_U(cfg.sources[0].line[1].port, 26400);
	FH_CHECK_STR(cfg.sources[0].line[1].interface, "eth1");
	/* 2026-03-09 is the day after the US DST change: midnight is 04:00 UTC. */
	FH_CHECK_EQ_U(cfg.sources[0].midnight_utc_ns, 1773028800ull * 1000000000ull);
	FH_CHECK(cfg.sources[0].recovery.rerequest.enabled);
	FH_CHECK_EQ_U(cfg.sources[0].recovery.rerequest.timeout_ns, 200000000);
	FH_CHECK_EQ_I(cfg.sources[0].rx_core, 2);
	FH_CHECK_EQ_I(cfg.sources[1].rx_core, 3);
	FH_CHECK_EQ_I(cfg.sources[2].rx_core, 2);
	FH_CHECK_EQ_U(cfg.sources[1].fix.n_subscriptions, 2);
	FH_CHECK_STR(cfg.sources[1].fix.subscriptions[1], "MSFT");
	FH_CHECK_EQ_U(cfg.sources[1].fix.heartbeat_s, 30);
	FH_CHECK_STR(cfg.sources[1].tz, "UTC");
	FH_CHECK_EQ_U(cfg.sources[2].transport, FH_CFG_TR_KERNEL_UDP);
	FH_CHECK_EQ_I(fh_config_source_index(&cfg, "fix1"), 1);
	FH_CHECK_EQ_I(fh_config_source_index(&cfg, "nope"), -1);
	FH_CHECK_EQ_U(cfg.engine.n_windows, 1);
	FH_CHECK_EQ_U(cfg.engine.windows[0].slide_ns, 60000000000ull);
	FH_CHECK_EQ_U(cfg.engine.n_rules, 1);
	FH_CHECK_EQ_U(cfg.engine.rules[0].kind, FH_CFG_RULE_CIRCUIT_BREAKER);
	FH_CHECK_EQ_U(cfg.engine.rules[0].severity, 1);
	FH_CHECK_EQ_I(cfg.engine.rules[0].window, 0);
	FH_CHECK(cfg.engine.rules[0].k == 7.5);
	FH_CHECK(!cfg.engine.rules[0].all_instruments);
	FH_CHECK_EQ_U(cfg.engine.rules[0].n_instruments, 2);
}

/* YAML anchors and merge keys share settings between sources. */
static void test_merge_keys(void)
{
	char err[512];

	/* Top-level x-... keys hold anchors and are otherwise ignored. */
	FH_CHECK_EQ_I(load("x-itch: &itch {protocol: itch50, transport: kernel_udp, port: 26400}\n"
			   "sources:\n  - {<<: *itch, name: z, group: 233.54.12.9}\n",
			   0, err, sizeof(err)),
		      0);
	FH_CHECK_STR(err, "");
	FH_CHECK_EQ_U(cfg.sources[0].line[0].port, 26400);
	FH_CHECK_EQ_I(load(SRC "books: {x-note: 1}\n", 0, err, sizeof(err)), -EINVAL);
	FH_CHECK_STR(err, "t.yaml:8:9: books.x-note: unknown key (expected one of: depth, "
			  "max_orders, max_instruments, max_levels, crossed_policy, "
			  "snapshot_interval_ms)");
	FH_CHECK_EQ_I(load("sources:\n"
			   "  - &a {name: a, protocol: itch50, transport: kernel_udp, port: 26400, "
			   "group: 233.54.12.1, recovery: {hold_packets: 4096, hold_ms: 250us}}\n"
			   "  - {<<: *a, name: b, group: 233.54.12.2}\n"
			   "  - <<: [{port: 26401}, *a]\n    name: c\n",
			   0, err, sizeof(err)),
		      0);
	FH_CHECK_STR(err, "");
	FH_CHECK_EQ_U(cfg.n_sources, 3);
	FH_CHECK_STR(cfg.sources[1].name, "b");
	FH_CHECK_EQ_U(cfg.sources[1].transport, FH_CFG_TR_KERNEL_UDP);
	FH_CHECK_STR(cfg.sources[1].line[0].group, "233.54.12.2");
	FH_CHECK_EQ_U(cfg.sources[1].line[0].port, 26400);
	FH_CHECK_EQ_U(cfg.sources[1].recovery.hold_packets, 4096);
	FH_CHECK_EQ_U(cfg.sources[1].recovery.hold_ns, 250000);
	FH_CHECK_EQ_U(cfg.sources[2].line[0].port, 26401);
	FH_CHECK_STR(cfg.sources[2].line[0].group, "233.54.12.1");
	/* A merged mapping's keys are checked where they are written. */
	FH_CHECK_EQ_I(load("sources:\n  - {<<: {protocl: itch50}, name: a}\n", 0, err, sizeof(err)),
		      -EINVAL);
	FH_CHECK_STR(err, "t.yaml:2:11: sources[0].<<.protocl: unknown key (did you mean "
			  "\"protocol\"?)");
	FH_CHECK_EQ_I(load("sources:\n  - {<<: 3, name: a}\n", 0, err, sizeof(err)), -EINVAL);
	FH_CHECK_STR(err, "t.yaml:2:10: sources[0].<<: expected a mapping or a list of mappings "
			  "(<<: *anchor), got \"3\"");
}

/* engine: only `rules` keeps the default windows; `windows` drops the default rules. */
static void test_engine_lists(void)
{
	char err[512];

	FH_CHECK_EQ_I(load(SRC "engine:\n  rules: [{name: s, kind: volume_surge, params: {window: "
			       "bar_1m, ratio: 8}}]\n",
			   0, err, sizeof(err)),
		      0);
	FH_CHECK_STR(err, "");
	FH_CHECK_EQ_U(cfg.engine.n_windows, 4);
	FH_CHECK_EQ_U(cfg.engine.n_rules, 1);
	FH_CHECK_EQ_I(cfg.engine.rules[0].window, 1);
	FH_CHECK(cfg.engine.rules[0].k == 8.0);
	FH_CHECK_EQ_I(cfg.engine.vwap_window, 1);
	FH_CHECK_EQ_I(load(SRC "engine:\n  windows: [{name: w, kind: tumbling, size: 10s}]\n", 0, err,
			   sizeof(err)),
		      0);
	FH_CHECK_EQ_U(cfg.engine.n_windows, 1);
	FH_CHECK_EQ_U(cfg.engine.n_rules, 0);
	FH_CHECK_EQ_I(cfg.engine.vwap_window, -1);
	FH_CHECK_EQ_I(load(SRC "engine:\n  windows: [{name: w, kind: tumbling, size: 10s}]\n"
			       "  vwap_window: w\n",
			   0, err, sizeof(err)),
		      0);
	FH_CHECK_EQ_I(cfg.engine.vwap_window, 0);
}

/* default.yaml: the embedded copy is current, it loads, and its values are the documented ones. */
static void test_default_yaml(void)
{
	char err[512], dir[64], path[128];
	const char *emb;
	size_t elen;
	FILE *f;
	char *file;
	long flen;
	static struct fh_config builtin;

	f = fopen("config/default.yaml", "rb");
	FH_CHECK(f != NULL);
	if (!f)
		return;
	fseek(f, 0, SEEK_END);
	flen = ftell(f);
	rewind(f);
	file = malloc((size_t)flen + 1);
	FH_CHECK_EQ_U(fread(file, 1, (size_t)flen, f), (size_t)flen);
	fclose(f);
	emb = fh_config_default_yaml(&elen);
	FH_CHECK_EQ_U(elen, (size_t)flen);
	if (elen != (size_t)flen || memcmp(emb, file, elen))
		fprintf(stderr, "  the embedded default is stale: rebuild "
				"config/fh_config_default.o (touch config/fh_config_default.c)\n");
	FH_CHECK(elen == (size_t)flen && !memcmp(emb, file, elen));
	free(file);

	/* With the simulated captures in place (make run writes them under $FH_BUILD/sim). */
	snprintf(dir, sizeof(dir), "/tmp/fh-test-cfg-%d", (int)getpid());
	snprintf(path, sizeof(path), "%s/sim", dir);
	mkdir(dir, 0755);
	mkdir(path, 0755);
	for (int i = 1; i <= 2; i++) {
		snprintf(path, sizeof(path), "%s/sim/chan%d.pcap", dir, i);
		f = fopen(path, "w");
		if (f)
			fclose(f);
	}
	setenv("FH_BUILD", dir, 1);
	FH_CHECK_EQ_I(fh_config_load("config/default.yaml", &cfg, err, sizeof(err)), 0);
	FH_CHECK_STR(err, "");
	FH_CHECK_EQ_U(cfg.n_sources, 2);
	snprintf(path, sizeof(path), "%s/sim/chan2.pcap", dir);
	FH_CHECK_STR(cfg.sources[1].pcap.file, path);
	FH_CHECK_EQ_U(cfg.sources[0].transport, FH_CFG_TR_PCAP);
	FH_CHECK_EQ_U(cfg.sources[0].pcap.speed, FH_CFG_SPEED_RECORDED);
	FH_CHECK(cfg.sources[0].pcap.loop);
	FH_CHECK(cfg.eal.no_huge && cfg.eal.no_pci && cfg.eal.no_shconf);
	FH_CHECK(cfg.publish.shm.enabled);
	FH_CHECK(cfg.publish.kafka.mock);
	FH_CHECK_EQ_U(cfg.publish.kafka.topics[FH_CFG_FAM_TRADES].encoding, FH_CFG_ENC_JSON);
	FH_CHECK_EQ_U(cfg.publish.kafka.topics[FH_CFG_FAM_BOOK].encoding, FH_CFG_ENC_BINARY);
	FH_CHECK_STR(cfg.telemetry.http.listen, "127.0.0.1:9100");
	FH_CHECK_EQ_I(fh_config_load_default(0, &cfg, err, sizeof(err)), 0);
	FH_CHECK_STR(err, "");
	/* Without the captures, host checks say so. */
	unsetenv("FH_BUILD");
	for (int i = 1; i <= 2; i++) {
		snprintf(path, sizeof(path), "%s/sim/chan%d.pcap", dir, i);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/sim", dir);
	rmdir(path);
	rmdir(dir);

	/* Its engine section spells out exactly the built-in default rule set. */
	fh_config_defaults(&builtin);
	FH_CHECK_EQ_I(fh_config_load_default(FH_CONFIG_F_NO_HOST_CHECKS, &cfg, err, sizeof(err)), 0);
	FH_CHECK(!memcmp(&builtin.engine, &cfg.engine, sizeof(cfg.engine)));
	FH_CHECK(!memcmp(&builtin.books, &cfg.books, sizeof(cfg.books)));

	/* ... which is the engine's own default, rule for rule. */
	{
		static struct fh_engine_cfg mine, theirs;
		FH_CHECK_EQ_I(fh_config_engine_cfg(&cfg, 1, &mine, err, sizeof(err)), 0);
		fh_engine_cfg_default(&theirs);
		FH_CHECK_EQ_U(mine.n_sources, 2);
		FH_CHECK_EQ_U(mine.source_ids[1], 1);
		FH_CHECK_EQ_U(mine.max_instruments, 16384);
		FH_CHECK_EQ_U(mine.n_windows, theirs.n_windows);
		FH_CHECK(!memcmp(mine.windows, theirs.windows, sizeof(mine.windows)));
		FH_CHECK_EQ_I(mine.vwap_window, theirs.vwap_window);
		FH_CHECK_EQ_U(mine.n_rules, theirs.n_rules);
		for (unsigned i = 0; i < mine.n_rules; i++) {
			if (memcmp(&mine.rules[i], &theirs.rules[i], sizeof(mine.rules[i])))
				fprintf(stderr, "  rule %u (%s) differs from the engine's default\n", i,
					cfg.engine.rules[i].name);
			FH_CHECK(!memcmp(&mine.rules[i], &theirs.rules[i], sizeof(mine.rules[i])));
		}
	}

	/* The DPDK EAL arguments it gives. */
	{
		char *argv[40], buf[2048], line[512] = "";
		int argc = fh_config_eal_argv(&cfg, "fh", argv, 40, buf, sizeof(buf));
		FH_CHECK(argc > 0);
		for (int i = 0; i < argc; i++) {
			strcat(line, argv[i]);
			strcat(line, i + 1 < argc ? " " : "");
		}
		FH_CHECK_STR(line, "fh -l 0,1 --main-lcore 0 --no-huge --no-pci --no-shconf -m 256");
		FH_CHECK(argv[argc] == NULL);
		FH_CHECK_EQ_I(fh_config_eal_argv(&cfg, "fh", argv, 4, buf, sizeof(buf)), -ENOSPC);
	}
}

/* Every example loads (host checks off: they describe other hosts). */
static void test_examples(void)
{
	glob_t g;
	char err[512];
	size_t n = 0;

	setenv("KAFKA_SASL_USERNAME", "fh-prod", 1);
	setenv("KAFKA_SASL_PASSWORD", "s3cret", 1);
	FH_CHECK_EQ_I(glob("config/examples/*.yaml", 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		int rc = fh_config_load_ex(g.gl_pathv[i], FH_CONFIG_F_NO_HOST_CHECKS, &cfg, err,
					   sizeof(err));
		if (rc)
			fprintf(stderr, "  %s: %s\n", g.gl_pathv[i], err);
		FH_CHECK_EQ_I(rc, 0);
		n++;
	}
	globfree(&g);
	FH_CHECK(n >= 2);

	FH_CHECK_EQ_I(fh_config_load_ex("config/examples/production.yaml",
					FH_CONFIG_F_NO_HOST_CHECKS, &cfg, err, sizeof(err)),
		      0);
	FH_CHECK_STR(err, "");
	FH_CHECK(cfg.n_sources >= 2);
	FH_CHECK_EQ_U(cfg.sources[0].n_lines, 2);
	FH_CHECK_EQ_U(cfg.sources[0].transport, FH_CFG_TR_MULTICAST);
	FH_CHECK(cfg.sources[0].line[0].group_addr != cfg.sources[0].line[1].group_addr);
	FH_CHECK(cfg.sources[0].recovery.rerequest.enabled);
	FH_CHECK(!cfg.eal.no_huge);
	FH_CHECK(cfg.eal.n_pci >= 1);
	FH_CHECK_EQ_U(cfg.eal.hugepage_size, 1ull << 30);
	FH_CHECK(!cfg.publish.kafka.mock);
	FH_CHECK(strchr(cfg.publish.kafka.brokers, ',') != NULL);
	FH_CHECK(cfg.cores.control >= 0);
	FH_CHECK(cfg.cores.numa_node >= 0);
	{
		bool proto = false, pw = false;
		for (unsigned i = 0; i < cfg.publish.kafka.n_props; i++) {
			if (!strcmp(cfg.publish.kafka.props[i].key, "security.protocol"))
				proto = !strcmp(cfg.publish.kafka.props[i].value, "SASL_SSL");
			if (!strcmp(cfg.publish.kafka.props[i].key, "sasl.password"))
				pw = !strcmp(cfg.publish.kafka.props[i].value, "s3cret");
		}
		FH_CHECK(proto);
		FH_CHECK(pw);
	}
	/* Its EAL arguments: allow list, hugepages, prefix, the four data cores. */
	{
		char *argv[40], buf[2048], line[1024] = "";
		int argc = fh_config_eal_argv(&cfg, "fh", argv, 40, buf, sizeof(buf));
		for (int i = 0; i < argc; i++) {
			strcat(line, argv[i]);
			strcat(line, i + 1 < argc ? " " : "");
		}
		FH_CHECK_STR(line, "fh -l 2,3,4,5 --main-lcore 5 -m 8192 --file-prefix fh01 --huge-dir "
				   "/dev/hugepages-1G --log-level lib.eal:notice -a 0000:3b:00.0 -a "
				   "0000:3b:00.1");
	}
	/* The librdkafka properties handed to the producer. */
	{
		const char *kv[2 * (3 + FH_CFG_MAX_KAFKA_PROPS) + 1];
		int n = fh_config_kafka_props(&cfg, kv, FH_ARRAY_SIZE(kv));
		FH_CHECK_EQ_I(n, 3 + (int)cfg.publish.kafka.n_props);
		FH_CHECK_STR(kv[0], "compression.type");
		FH_CHECK_STR(kv[1], "lz4");
		FH_CHECK_STR(kv[3], "all");
		FH_CHECK_STR(kv[5], "true");
		FH_CHECK_STR(kv[6], "security.protocol");
		FH_CHECK(kv[2 * n] == NULL);
		FH_CHECK_EQ_I(fh_config_kafka_props(&cfg, kv, 7), -ENOSPC);
	}
	/* Its dump hides the password. */
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);
		FH_CHECK_EQ_I(fh_config_dump(&cfg, m), 0);
		fclose(m);
		FH_CHECK(strstr(buf, "s3cret") == NULL);
		FH_CHECK(strstr(buf, "<redacted>") != NULL);
		free(buf);
	}
	unsetenv("KAFKA_SASL_PASSWORD");
	FH_CHECK_EQ_I(fh_config_load_ex("config/examples/production.yaml",
					FH_CONFIG_F_NO_HOST_CHECKS, &cfg, err, sizeof(err)),
		      -EINVAL);
	FH_CHECK(strstr(err, "KAFKA_SASL_PASSWORD is not set") != NULL);
	unsetenv("KAFKA_SASL_USERNAME");
}

/* The dump is a config: loading it gives the same dump. */
static void test_dump_round_trip(void)
{
	static const char *const files[] = { "config/default.yaml", "config/examples/production.yaml" };
	char err[512];

	setenv("KAFKA_SASL_USERNAME", "u", 1);
	setenv("KAFKA_SASL_PASSWORD", "p", 1);
	for (size_t i = 0; i < 2; i++) {
		static struct fh_config c2;
		char *a = NULL, *b = NULL;
		size_t al = 0, bl = 0;
		FILE *m;

		FH_CHECK_EQ_I(fh_config_load_ex(files[i], FH_CONFIG_F_NO_HOST_CHECKS, &cfg, err,
						sizeof(err)),
			      0);
		m = open_memstream(&a, &al);
		fh_config_dump(&cfg, m);
		fclose(m);
		FH_CHECK_EQ_I(fh_config_load_string(a, al, files[i], FH_CONFIG_F_NO_HOST_CHECKS, &c2,
						    err, sizeof(err)),
			      0);
		if (err[0])
			fprintf(stderr, "  reload of the dump of %s: %s\n", files[i], err);
		m = open_memstream(&b, &bl);
		fh_config_dump(&c2, m);
		fclose(m);
		FH_CHECK(al == bl && !strcmp(a, b));
		free(a);
		free(b);
	}
	unsetenv("KAFKA_SASL_USERNAME");
	unsetenv("KAFKA_SASL_PASSWORD");
}

/* `fh --check-config`: exit codes and messages. */
static void test_check_main(void)
{
	char path[64], opt[] = "--check-config", def[] = "config/default.yaml",
		       nohost[] = "--no-host-checks", quiet[] = "--quiet";
	char *ok_argv[] = { opt, def, nohost, quiet, NULL };
	char *bad_argv[] = { opt, path, NULL };
	char *usage_argv[] = { opt, NULL };
	FILE *f;

	FH_CHECK_EQ_I(fh_config_check_main(4, ok_argv), 0);
	snprintf(path, sizeof(path), "/tmp/fh-test-check-%d.yaml", (int)getpid());
	f = fopen(path, "w");
	if (!f) {
		FH_CHECK(f != NULL);
		return;
	}
	fputs("sources: []\n", f);
	fclose(f);
	FH_CHECK_EQ_I(fh_config_check_main(2, bad_argv), 1);
	unlink(path);
	FH_CHECK_EQ_I(fh_config_check_main(1, usage_argv), 2);
	/* fh's whole argv, in either order, with --config. */
	{
		char prog[] = "fh", copt[] = "--config";
		char *full1[] = { prog, opt, def, nohost, quiet, NULL };
		char *full2[] = { prog, copt, def, opt, quiet, nohost, NULL };
		char *full3[] = { prog, copt, path, opt, NULL };
		FH_CHECK_EQ_I(fh_config_check_main(5, full1), 0);
		FH_CHECK_EQ_I(fh_config_check_main(6, full2), 0);
		FH_CHECK_EQ_I(fh_config_check_main(4, full3), 1); /* unlinked: cannot open */
	}
}

static const struct fh_test_case cases[] = {
	FH_CASE(test_bad_configs),
	FH_CASE(test_file_errors),
	FH_CASE(test_defaults),
	FH_CASE(test_units_and_env),
	FH_CASE(test_sources_and_rules),
	FH_CASE(test_merge_keys),
	FH_CASE(test_engine_lists),
	FH_CASE(test_default_yaml),
	FH_CASE(test_examples),
	FH_CASE(test_dump_round_trip),
	FH_CASE(test_check_main),
	{ 0 },
};

int main(int argc, char **argv)
{
	return fh_test_main(argc, argv, cases);
}
