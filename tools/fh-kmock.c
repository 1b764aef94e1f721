/* SPDX-License-Identifier: MIT */
/* fh-kmock.c: a standalone librdkafka mock cluster that a test can take down and bring back. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/*
 * fh-kmock [--brokers N] [--partitions P] [--prefix PFX] [--topic NAME]...
 *
 * Starts librdkafka's mock cluster (N brokers on 127.0.0.1, ids 1..N) on a
 * throwaway producer handle, creates the topics `<PFX>.<family>` for every
 * event family (book trades bars alerts status orders reference) and each
 * --topic, with P partitions and a replication factor of min(N, 3), prints
 *   bootstrap HOST:PORT,HOST:PORT,...
 * on stdout, then reads one command a line on stdin:
 *   down ID|all    disconnect the broker(s) and refuse new connections
 *   up ID|all      accept connections again
 *   quit           stop
 * answering each with "ok <command>" or "error <reason>" (stdout, flushed).
 * It stops on quit, end of input, SIGTERM or SIGINT, destroying the
 * cluster (every message it held is gone: consume before stopping it).
 * The mock keeps only a few MiB per partition.
 */

static volatile sig_atomic_t stop;

static void on_signal(int s)
{
	(void)s;
	stop = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: fh-kmock [--brokers N] [--partitions P] [--prefix PFX] [--topic NAME]...\n"
			"  then on stdin: down ID|all, up ID|all, quit\n");
	exit(2);
}

static int set_state(rd_kafka_mock_cluster_t *mc, int brokers, const char *arg, bool down)
{
	int lo = 1, hi = brokers;
	if (strcmp(arg, "all")) {
		char *end;
		long id = strtol(arg, &end, 10);
		if (*end || id < 1 || id > brokers)
			return -EINVAL;
		lo = hi = (int)id;
	}
	for (int b = lo; b <= hi; b++) {
		rd_kafka_resp_err_t e = down ? rd_kafka_mock_broker_set_down(mc, b)
					     : rd_kafka_mock_broker_set_up(mc, b);
		if (e)
			return -EIO;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const fams[] = { "book", "trades", "bars", "alerts", "status", "orders",
					    "reference" };
	static const struct option lo[] = {
		{ "brokers", 1, 0, 'b' }, { "partitions", 1, 0, 'p' }, { "prefix", 1, 0, 'x' },
		{ "topic", 1, 0, 't' },   { "help", 0, 0, 'h' },	 { 0, 0, 0, 0 },
	};
	const char *prefix = "fh", *topics[64];
	int brokers = 3, parts = 3, ntopics = 0, c, rc = 1;
	char err[512], line[256], name[256];

	while ((c = getopt_long(argc, argv, "b:p:x:t:h", lo, NULL)) != -1) {
		switch (c) {
		case 'b': brokers = atoi(optarg); break;
		case 'p': parts = atoi(optarg); break;
		case 'x': prefix = optarg; break;
		case 't':
			if (ntopics == (int)(sizeof(topics) / sizeof(topics[0])))
				usage();
			topics[ntopics++] = optarg;
			break;
		default: usage();
		}
	}
	if (optind != argc || brokers < 1 || brokers > 9 || parts < 1 || parts > 1024)
		usage();

	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: fgets returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err)) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "fh-kmock: %s\n", err);
		rd_kafka_conf_destroy(conf);
		return 1;
	}
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!rk) {
		fprintf(stderr, "fh-kmock: %s\n", err);
		rd_kafka_conf_destroy(conf);
		return 1;
	}
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
	if (!mc) {
		fprintf(stderr, "fh-kmock: cannot start the mock cluster\n");
		goto out_rk;
	}
	int rf = brokers < 3 ? brokers : 3;
	for (int i = 0; i < (int)(sizeof(fams) / sizeof(fams[0])) + ntopics; i++) {
		if (i < (int)(sizeof(fams) / sizeof(fams[0])))
			snprintf(name, sizeof(name), "%s.%s", prefix, fams[i]);
		else
			snprintf(name, sizeof(name), "%s", topics[i - (int)(sizeof(fams) / sizeof(fams[0]))]);
		rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, name, parts, rf);
		if (e) {
			fprintf(stderr, "fh-kmock: topic %s: %s\n", name, rd_kafka_err2str(e));
			goto out_mc;
		}
	}
	printf("bootstrap %s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);

	while (!stop && fgets(line, sizeof(line), stdin)) {
		char cmd[16] = "", arg[32] = "";
		if (sscanf(line, "%15s %31s", cmd, arg) < 1)
			continue;
		int e = 0;
		if (!strcmp(cmd, "quit"))
			break;
		else if (!strcmp(cmd, "down") || !strcmp(cmd, "up"))
			e = arg[0] ? set_state(mc, brokers, arg, cmd[0] == 'd') : -EINVAL;
		else
			e = -EINVAL;
		if (e)
			printf("error %s %s: %s\n", cmd, arg, e == -EINVAL ? "unknown command or broker id" : "mock refused");
		else
			printf("ok %s %s\n", cmd, arg);
		fflush(stdout);
	}
	rc = 0;
out_mc:
	rd_kafka_mock_cluster_destroy(mc);
out_rk:
	rd_kafka_destroy(rk);
	return rc;
}
