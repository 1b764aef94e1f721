/* SPDX-License-Identifier: MIT */
/* fh_config_dump.c: effective-config dump, DPDK EAL argv, and `fh --check-config`. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fh_config.h"
#include "fh_config_pvt.h"


/* A YAML double-quoted string. */
static void q(FILE *o, const char *s)
{
	fputc('"', o);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(o, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(o, "\\x%02x", c);
		else
			fputc(c, o);
	}
	fputc('"', o);
}


/* FH_PRICE_SCALE (1e-8) fixed point as a decimal. */
static const char *px(int64_t v, char *b, size_t n)
{
	uint64_t m = (uint64_t)v;
	int l = snprintf(b, n, "%" PRIu64 ".%08" PRIu64, m / 100000000, m % 100000000);
	while (l > 0 && (size_t)l < n && b[l - 1] == '0' && b[l - 2] != '.')
		b[--l] = '\0';
	return b;
}

static const char *tf(bool b)
{
	return b ? "true" : "false";
}

static bool secret(const char *key)
{
	/* ssl.key.location is a path; ssl.key.password, sasl.password, *.secret are not. */
	return strstr(key, "password") || strstr(key, "secret") ||
	       (strstr(key, "key") && !strstr(key, "location") && !strstr(key, "keytab") &&
		strcmp(key, "sasl.kerberos.service.name"));
}

static void dump_sources(const struct fh_config *c, FILE *o)
{
	char b[64];

	fprintf(o, "sources:\n");
	for (unsigned i = 0; i < c->n_sources; i++) {
		const struct fh_cfg_source *s = &c->sources[i];
		fprintf(o, "  - name: ");
		q(o, s->name);
		fprintf(o, "\n    protocol: %s\n    transport: %s\n",
			fh_config_protocol_name(s->protocol), fh_config_transport_name(s->transport));
		if (s->transport == FH_CFG_TR_MULTICAST || s->transport == FH_CFG_TR_KERNEL_UDP) {
			fprintf(o, "    lines:\n");
			for (unsigned l = 0; l < s->n_lines; l++) {
				fprintf(o, "      %c: {group: %s, port: %u", l ? 'b' : 'a', s->line[l].group,
					s->line[l].port);
				if (s->line[l].interface[0]) {
					fprintf(o, ", interface: ");
					q(o, s->line[l].interface);
				}
				fprintf(o, "}\n");
			}
		}
		if (s->transport == FH_CFG_TR_PCAP) {
			if (s->line[0].group[0])
				fprintf(o, "    group: %s\n", s->line[0].group);
			if (s->line[0].port)
				fprintf(o, "    port: %u\n", s->line[0].port);
			fprintf(o, "    pcap:\n      file: ");
			q(o, s->pcap.file);
			if (s->pcap.speed == FH_CFG_SPEED_MULT)
				fprintf(o, "\n      speed: %.17gx\n", s->pcap.speed_mult);
			else
				fprintf(o, "\n      speed: %s\n",
					s->pcap.speed == FH_CFG_SPEED_MAX ? "max" : "recorded");
			fprintf(o, "      loop: %s\n", tf(s->pcap.loop));
		}
		if (s->protocol == FH_CFG_PROTO_FIX &&
		    (s->transport == FH_CFG_TR_TCP || s->fix.host[0] || s->fix.n_subscriptions)) {
			fprintf(o, "    fix:\n");
			if (s->fix.host[0]) {
				fprintf(o, "      host: ");
				q(o, s->fix.host);
				fprintf(o, "\n      port: %u\n", s->fix.port);
			}
			if (s->fix.sender_comp_id[0]) {
				fprintf(o, "      sender_comp_id: ");
				q(o, s->fix.sender_comp_id);
				fprintf(o, "\n      target_comp_id: ");
				q(o, s->fix.target_comp_id);
				fprintf(o, "\n");
			}
			fprintf(o, "      heartbeat_s: %u\n      seq_store: ", s->fix.heartbeat_s);
			q(o, s->fix.seq_store);
			fprintf(o, "\n");
			if (s->fix.n_subscriptions) {
				fprintf(o, "      subscriptions: [");
				for (unsigned k = 0; k < s->fix.n_subscriptions; k++) {
					fprintf(o, "%s", k ? ", " : "");
					q(o, s->fix.subscriptions[k]);
				}
				fprintf(o, "]\n");
			}
		}
		if (s->session[0]) {
			fprintf(o, "    session: ");
			q(o, s->session);
			fprintf(o, "\n");
		}
		fprintf(o, "    tz: ");
		q(o, s->tz);
		fprintf(o, "\n");
		if (s->day[0])
			fprintf(o, "    day: \"%s\"  # venue midnight = %" PRIu64 " ns since the epoch\n",
				s->day, s->midnight_utc_ns);
		fprintf(o, "    rx_core: %d\n", s->rx_core);
		if (s->protocol == FH_CFG_PROTO_ITCH50) {
			fprintf(o, "    recovery:\n      hold_packets: %u\n      hold_ms: %s\n", s->recovery.hold_packets,
				fh_config_pvt_fmt_dur(s->recovery.hold_ns, b, sizeof(b)));
			if (s->recovery.rerequest.enabled) {
				fprintf(o, "      rerequest:\n        host: ");
				q(o, s->recovery.rerequest.host);
				fprintf(o,
					"\n        port: %u\n        timeout_ms: %s\n        retries: %u\n"
					"        max_outstanding: %u\n        max_request: %u\n",
					s->recovery.rerequest.port,
					fh_config_pvt_fmt_dur(s->recovery.rerequest.timeout_ns, b, sizeof(b)),
					s->recovery.rerequest.retries,
					s->recovery.rerequest.max_outstanding,
					s->recovery.rerequest.max_request);
			}
			if (s->recovery.snapshot.enabled) {
				fprintf(o, "      snapshot:\n        host: ");
				q(o, s->recovery.snapshot.host);
				fprintf(o, "\n        port: %u\n        min_gap: %" PRIu64 "\n",
					s->recovery.snapshot.port, s->recovery.snapshot.min_gap);
			}
		}
	}
}

static void dump_engine(const struct fh_config *c, FILE *o)
{
	char b[64];

	fprintf(o, "engine:\n  windows:%s\n", c->engine.n_windows ? "" : " []");
	for (unsigned i = 0; i < c->engine.n_windows; i++) {
		const struct fh_cfg_window *w = &c->engine.windows[i];
		fprintf(o, "    - {name: ");
		q(o, w->name);
		fprintf(o, ", kind: %s, size: %s", w->kind == FH_CFG_WIN_SLIDING ? "sliding" : "tumbling",
			fh_config_pvt_fmt_dur(w->size_ns, b, sizeof(b)));
		if (w->kind == FH_CFG_WIN_SLIDING)
			fprintf(o, ", slide: %s", fh_config_pvt_fmt_dur(w->slide_ns, b, sizeof(b)));
		fprintf(o, "}\n");
	}
	if (c->engine.vwap_window >= 0 && (unsigned)c->engine.vwap_window < c->engine.n_windows) {
		fprintf(o, "  vwap_window: ");
		q(o, c->engine.windows[c->engine.vwap_window].name);
		fprintf(o, "\n");
	} else {
		fprintf(o, "  vwap_window: none\n");
	}
	fprintf(o, "  rules:%s\n", c->engine.n_rules ? "" : " []");
	for (unsigned i = 0; i < c->engine.n_rules; i++) {
		const struct fh_cfg_rule *r = &c->engine.rules[i];
		fprintf(o, "    - name: ");
		q(o, r->name);
		fprintf(o, "\n      kind: %s\n      severity: %s\n      cooldown: %s\n      params: {",
			fh_config_rule_kind_name(r->kind), fh_config_severity_name(r->severity),
			fh_config_pvt_fmt_dur(r->cooldown_ns, b, sizeof(b)));
		switch (r->kind) {
		case FH_CFG_RULE_PRICE_SPIKE:
			fprintf(o, "k: %.17g, lookback: %u, min_samples: %u, min_bps: %u, min_move: %s",
				r->k, r->lookback, r->min_samples, r->min_bps, px(r->min_move, b, sizeof(b)));
			break;
		case FH_CFG_RULE_SPREAD_WIDENING:
			fprintf(o, "k: %.17g, min_samples: %u, min_bps: %u, min_move: %s", r->k,
				r->min_samples, r->min_bps, px(r->min_move, b, sizeof(b)));
			break;
		case FH_CFG_RULE_VOLUME_SURGE:
			fprintf(o, "ratio: %.17g, lookback: %u, min_samples: %u, min_qty: %" PRIu64, r->k,
				r->lookback, r->min_samples, r->min_qty);
			break;
		case FH_CFG_RULE_SPIKE_SURGE:
			fprintf(o,
				"z: %.17g, ratio: %.17g, lookback: %u, min_samples: %u, min_bps: %u, "
				"min_qty: %" PRIu64,
				r->k, r->k2, r->lookback, r->min_samples, r->min_bps, r->min_qty);
			break;
		case FH_CFG_RULE_PRICE_GAP:
			fprintf(o, "pct: %.17g, min_bps: %u, min_move: %s", r->k, r->min_bps,
				px(r->min_move, b, sizeof(b)));
			break;
		case FH_CFG_RULE_CIRCUIT_BREAKER:
			fprintf(o, "pct: %.17g, min_samples: %u", r->k, r->min_samples);
			break;
		default:
			break;
		}
		if (r->window >= 0 && (unsigned)r->window < c->engine.n_windows) {
			fprintf(o, ", window: ");
			q(o, c->engine.windows[r->window].name);
		}
		fprintf(o, "}\n      instruments: ");
		if (r->all_instruments) {
			fprintf(o, "all\n");
		} else {
			fprintf(o, "[");
			for (unsigned k = 0; k < r->n_instruments; k++) {
				fprintf(o, "%s", k ? ", " : "");
				q(o, r->instruments[k]);
			}
			fprintf(o, "]\n");
		}
	}
}

static void dump_publish(const struct fh_config *c, FILE *o)
{
	static const char *const comp[] = { "", "none", "gzip", "snappy", "lz4", "zstd" };
	char b[64];

	fprintf(o, "publish:\n  shm:\n    enabled: %s\n    name: ", tf(c->publish.shm.enabled));
	q(o, c->publish.shm.name);
	fprintf(o, "\n    path: ");
	q(o, c->publish.shm.path);
	fprintf(o, "\n    slots: %" PRIu64 "\n    group: ", c->publish.shm.slots);
	q(o, c->publish.shm.group);
	fprintf(o, "\n    mode: \"%04o\"\n    snapshot_interval_ms: %s\n    lock: %s\n",
		c->publish.shm.mode, fh_config_pvt_fmt_dur(c->publish.shm.snapshot_interval_ns, b, sizeof(b)),
		tf(c->publish.shm.lock));
	fprintf(o, "  heartbeat_ms: %s\n", fh_config_pvt_fmt_dur(c->publish.heartbeat_ns, b, sizeof(b)));

	fprintf(o, "  kafka:\n    enabled: %s\n    brokers: ", tf(c->publish.kafka.enabled));
	q(o, c->publish.kafka.brokers);
	fprintf(o, "%s\n", c->publish.kafka.mock ? "  # empty: embedded mock cluster" : "");
	fprintf(o, "    mock_brokers: %u\n    partitions: %u\n    topic_prefix: ",
		c->publish.kafka.mock_brokers, c->publish.kafka.partitions);
	q(o, c->publish.kafka.topic_prefix);
	fprintf(o, "\n    topics:\n");
	for (unsigned f = 0; f < FH_CFG_FAM__COUNT; f++) {
		const struct fh_cfg_kafka_topic *t = &c->publish.kafka.topics[f];
		fprintf(o, "      %s: %-6s  # topic %s\n", fh_config_family_name(f),
			t->encoding == FH_CFG_ENC_JSON  ? "json" :
			t->encoding == FH_CFG_ENC_OFF ? "off" :
							  "binary",
			t->name);
	}
	fprintf(o, "    linger_ms: %s\n", fh_config_pvt_fmt_dur(c->publish.kafka.linger_ns, b, sizeof(b)));
	fprintf(o, "    batch_size: %s\n", fh_config_pvt_fmt_size(c->publish.kafka.batch_size, b, sizeof(b)));
	fprintf(o, "    compression: %s\n",
		c->publish.kafka.compression <= 5 ? comp[c->publish.kafka.compression] : "lz4");
	if (c->publish.kafka.acks < 0)
		fprintf(o, "    acks: all\n");
	else
		fprintf(o, "    acks: \"%d\"\n", c->publish.kafka.acks);
	fprintf(o, "    idempotence: %s\n", tf(c->publish.kafka.idempotence));
	fprintf(o, "    queue:\n      capacity: %" PRIu64 "\n      policy: %s\n",
		c->publish.kafka.queue.capacity,
		c->publish.kafka.queue.policy == FH_CFG_QUEUE_SPILL ? "spill" : "drop_oldest");
	if (c->publish.kafka.queue.spill_dir[0]) {
		fprintf(o, "      spill_dir: ");
		q(o, c->publish.kafka.queue.spill_dir);
		fprintf(o, "\n");
	}
	fprintf(o, "      spill_max_bytes: %s\n",
		fh_config_pvt_fmt_size(c->publish.kafka.queue.spill_max_bytes, b, sizeof(b)));
	fprintf(o, "    flush_timeout_ms: %s\n", fh_config_pvt_fmt_dur(c->publish.kafka.flush_timeout_ns, b, sizeof(b)));
	fprintf(o, "    properties:%s\n", c->publish.kafka.n_props ? "" : " {}");
	for (unsigned i = 0; i < c->publish.kafka.n_props; i++) {
		fprintf(o, "      %s: ", c->publish.kafka.props[i].key);
		q(o, secret(c->publish.kafka.props[i].key) ? "<redacted>"
							   : c->publish.kafka.props[i].value);
		fprintf(o, "\n");
	}
}

int fh_config_dump(const struct fh_config *c, FILE *o)
{
	char b[64];

	fprintf(o, "# effective configuration of %s (every default filled in)\n", c->file);
	fprintf(o, "version: %u\ninstance: ", c->version);
	q(o, c->instance);
	fprintf(o, "\n");
	dump_sources(c, o);

	fprintf(o, "cores:\n  rx: [");
	for (unsigned i = 0; i < c->cores.n_rx; i++)
		fprintf(o, "%s%d", i ? ", " : "", c->cores.rx[i]);
	fprintf(o, "]\n  publisher: %d\n", c->cores.publisher);
	if (c->cores.control < 0)
		fprintf(o, "  control: any\n");
	else
		fprintf(o, "  control: %d\n", c->cores.control);
	if (c->cores.numa_node < 0)
		fprintf(o, "  numa_node: auto\n");
	else
		fprintf(o, "  numa_node: %d\n", c->cores.numa_node);

	fprintf(o, "eal:\n  no_huge: %s\n  no_pci: %s\n  no_shconf: %s\n  in_memory: %s\n",
		tf(c->eal.no_huge), tf(c->eal.no_pci), tf(c->eal.no_shconf), tf(c->eal.in_memory));
	fprintf(o, "  memory_mb: %" PRIu64 "\n", c->eal.memory_mb);
	if (c->eal.file_prefix[0]) {
		fprintf(o, "  file_prefix: ");
		q(o, c->eal.file_prefix);
		fprintf(o, "\n");
	}
	if (c->eal.log_level[0]) {
		fprintf(o, "  log_level: ");
		q(o, c->eal.log_level);
		fprintf(o, "\n");
	}
	if (c->eal.huge_dir[0] || c->eal.hugepage_size) {
		fprintf(o, "  hugepages:\n");
		if (c->eal.huge_dir[0]) {
			fprintf(o, "    dir: ");
			q(o, c->eal.huge_dir);
			fprintf(o, "\n");
		}
		if (c->eal.hugepage_size)
			fprintf(o, "    size: %s\n", fh_config_pvt_fmt_size(c->eal.hugepage_size, b, sizeof(b)));
	}
	fprintf(o, "  vdevs: [");
	for (unsigned i = 0; i < c->eal.n_vdevs; i++) {
		fprintf(o, "%s", i ? ", " : "");
		q(o, c->eal.vdevs[i]);
	}
	fprintf(o, "]\n  pci: [");
	for (unsigned i = 0; i < c->eal.n_pci; i++) {
		fprintf(o, "%s", i ? ", " : "");
		q(o, c->eal.pci[i]);
	}
	fprintf(o, "]\n  args: [");
	for (unsigned i = 0; i < c->eal.n_args; i++) {
		fprintf(o, "%s", i ? ", " : "");
		q(o, c->eal.args[i]);
	}
	fprintf(o, "]\n");

	fprintf(o, "books:\n  depth: %u\n  max_orders: %" PRIu64 "\n  max_instruments: %" PRIu64
		   "\n  max_levels: %" PRIu64 "\n  crossed_policy: %s\n",
		c->books.depth, c->books.max_orders, c->books.max_instruments, c->books.max_levels,
		c->books.crossed_policy == FH_CFG_CROSSED_ABORT ? "abort" : "flag");
	fprintf(o, "  snapshot_interval_ms: %s\n", fh_config_pvt_fmt_dur(c->books.snapshot_interval_ns, b, sizeof(b)));

	dump_engine(c, o);
	dump_publish(c, o);

	fprintf(o, "telemetry:\n  http:\n    enabled: %s\n    listen: ", tf(c->telemetry.http.enabled));
	q(o, c->telemetry.http.listen);
	fprintf(o, "\n  hdr:\n    lowest_ns: %s\n", fh_config_pvt_fmt_dur(c->telemetry.hdr.lowest_ns, b, sizeof(b)));
	fprintf(o, "    highest_ns: %s\n", fh_config_pvt_fmt_dur(c->telemetry.hdr.highest_ns, b, sizeof(b)));
	fprintf(o, "    sig_digits: %u\n", c->telemetry.hdr.sig_digits);
	fprintf(o, "    interval_ms: %s\n    log: ", fh_config_pvt_fmt_dur(c->telemetry.hdr.interval_ns, b, sizeof(b)));
	q(o, c->telemetry.hdr.log);
	fprintf(o, "\n  latency_budget_p99_ns: %s\n",
		fh_config_pvt_fmt_dur(c->telemetry.latency_budget_p99_ns, b, sizeof(b)));

	fprintf(o, "dead_letter:\n  path: ");
	q(o, c->dead_letter.path);
	fprintf(o, "\n  max_bytes: %s\n", fh_config_pvt_fmt_size(c->dead_letter.max_bytes, b, sizeof(b)));
	fprintf(o, "journal:\n  enabled: %s\n", tf(c->journal.enabled));
	if (c->journal.dir[0]) {
		fprintf(o, "  dir: ");
		q(o, c->journal.dir);
		fprintf(o, "\n");
	}
	fprintf(o, "  rotate_bytes: %s\n", fh_config_pvt_fmt_size(c->journal.rotate_bytes, b, sizeof(b)));
	fprintf(o, "  rotate_s: %s\n", fh_config_pvt_fmt_dur(c->journal.rotate_ns, b, sizeof(b)));
	fprintf(o, "  flush_ms: %s\n", fh_config_pvt_fmt_dur(c->journal.flush_ns, b, sizeof(b)));
	fprintf(o, "  warm_restart: %s\n", tf(c->journal.warm_restart));
	return ferror(o) ? -EIO : 0;
}

/* Appends one argument to argv/buf. */
static int add(char **argv, int *argc, int max, char *buf, size_t len, size_t *used,
	       const char *s)
{
	size_t l = strlen(s) + 1;

	if (*argc + 1 >= max || *used + l > len)
		return -ENOSPC;
	memcpy(buf + *used, s, l);
	argv[(*argc)++] = buf + *used;
	argv[*argc] = NULL;
	*used += l;
	return 0;
}

int fh_config_eal_argv(const struct fh_config *c, const char *prog, char **argv, int max,
		       char *buf, size_t buflen)
{
	char t[FH_CFG_MAX_RX_CORES * 6 + 16];
	int cores[FH_CFG_MAX_RX_CORES + 1], n = 0, argc = 0;
	size_t used = 0, o = 0;

#define ADD(s)                                                               \
	do {                                                                 \
		if (add(argv, &argc, max, buf, buflen, &used, (s)))          \
			return -ENOSPC;                                      \
	} while (0)

	if (max < 2)
		return -ENOSPC;
	ADD(prog ? prog : "fh");
	/* Sorted, unique lcores: the publisher (main lcore) and every RX core. */
	cores[n++] = c->cores.publisher;
	for (unsigned i = 0; i < c->cores.n_rx; i++)
		cores[n++] = c->cores.rx[i];
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && cores[j - 1] > cores[j]; j--) {
			int x = cores[j];
			cores[j] = cores[j - 1];
			cores[j - 1] = x;
		}
	t[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (i && cores[i] == cores[i - 1])
			continue;
		o += (size_t)snprintf(t + o, sizeof(t) - o, "%s%d", o ? "," : "", cores[i]);
	}
	ADD("-l");
	ADD(t);
	snprintf(t, sizeof(t), "%d", c->cores.publisher);
	ADD("--main-lcore");
	ADD(t);
	if (c->eal.no_huge)
		ADD("--no-huge");
	if (c->eal.no_pci)
		ADD("--no-pci");
	if (c->eal.no_shconf)
		ADD("--no-shconf");
	if (c->eal.in_memory)
		ADD("--in-memory");
	if (c->eal.memory_mb) {
		snprintf(t, sizeof(t), "%" PRIu64, c->eal.memory_mb);
		ADD("-m");
		ADD(t);
	}
	if (c->eal.file_prefix[0]) {
		ADD("--file-prefix");
		ADD(c->eal.file_prefix);
	}
	if (c->eal.huge_dir[0]) {
		ADD("--huge-dir");
		ADD(c->eal.huge_dir);
	}
	if (c->eal.log_level[0]) {
		ADD("--log-level");
		ADD(c->eal.log_level);
	}
	for (unsigned i = 0; i < c->eal.n_pci; i++) {
		ADD("-a");
		ADD(c->eal.pci[i]);
	}
	for (unsigned i = 0; i < c->eal.n_vdevs; i++) {
		ADD("--vdev");
		ADD(c->eal.vdevs[i]);
	}
	for (unsigned i = 0; i < c->eal.n_args; i++)
		ADD(c->eal.args[i]);
#undef ADD
	return argc;
}

static char *slurp_stdin(size_t *len)
{
	size_t cap = 65536, n = 0, r;
	char *b = malloc(cap);

	if (!b)
		return NULL;
	while ((r = fread(b + n, 1, cap - n, stdin)) > 0) {
		n += r;
		if (n == cap) {
			char *nb = cap >= (8u << 20) ? NULL : realloc(b, cap * 2);
			if (!nb)
				break;
			b = nb;
			cap *= 2;
		}
	}
	*len = n;
	return b;
}

int fh_config_check_main(int argc, char **argv)
{
	const char *file = NULL;
	unsigned flags = 0;
	bool quiet = false;
	struct fh_config *cfg;
	char err[1024];
	int rc;

	/* Accepts fh's whole argv too: `fh [--config FILE] --check-config [FILE] ...`. */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--check-config"))
			continue;
		if (!strcmp(argv[i], "--no-host-checks"))
			flags |= FH_CONFIG_F_NO_HOST_CHECKS;
		else if (!strcmp(argv[i], "--quiet") || !strcmp(argv[i], "-q"))
			quiet = true;
		else if ((!strcmp(argv[i], "--config") || !strcmp(argv[i], "-c")) && i + 1 < argc)
			file = argv[++i];
		else if (!strncmp(argv[i], "--config=", 9))
			file = argv[i] + 9;
		else if (!file && (argv[i][0] != '-' || !strcmp(argv[i], "-")))
			file = argv[i];
	}
	if (!file) {
		fprintf(stderr, "usage: fh --check-config FILE|- [--no-host-checks] [--quiet]\n"
				"  validates FILE (every key, cross-field and host checks) and prints\n"
				"  the effective config; exit 0 if valid, 1 if not\n");
		return 2;
	}
	cfg = malloc(sizeof(*cfg));
	if (!cfg) {
		fprintf(stderr, "fh: out of memory\n");
		return 1;
	}
	if (!strcmp(file, "-")) {
		size_t len;
		char *y = slurp_stdin(&len);
		rc = y ? fh_config_load_string(y, len, "<stdin>", flags, cfg, err, sizeof(err))
		       : -ENOMEM;
		if (!y)
			snprintf(err, sizeof(err), "<stdin>: out of memory");
		free(y);
	} else {
		rc = fh_config_load_ex(file, flags, cfg, err, sizeof(err));
	}
	if (rc) {
		fprintf(stderr, "%s\n", err);
		free(cfg);
		return 1;
	}
	if (!quiet)
		fh_config_dump(cfg, stdout);
	fprintf(stderr,
		"%s: config OK: %u source(s), %u RX core(s), %u window(s), %u rule(s), about "
		"%.1f MiB preallocated%s\n",
		file, cfg->n_sources, cfg->cores.n_rx, cfg->engine.n_windows, cfg->engine.n_rules,
		(double)fh_config_memory_estimate(cfg) / (1024.0 * 1024.0),
		(flags & FH_CONFIG_F_NO_HOST_CHECKS) ? " (host checks skipped)" : "");
	free(cfg);
	return 0;
}
