/* SPDX-License-Identifier: MIT */
/* fh-itch: inspect an ITCH 5.0 day file or MoldUDP64 pcap: counts, gaps, dump, packets, stats. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh_dlq.h"
#include "fh_itch.h"
#include "fh_itch_file.h"
#include "fh_pcap.h"

enum cmd { CMD_COUNTS, CMD_GAPS, CMD_DUMP, CMD_PACKETS, CMD_STATS };

struct ctx {
	enum cmd cmd;
	bool events;
	bool hex;
	bool have_gap; /* gaps: a range waiting to be printed (adjacent ones are merged) */
	char gap_session[FH_MOLD_SESSION_LEN];
	uint64_t gap_first, gap_last;
	char line[1024];
};

/* Session as printable text: trailing spaces and NULs trimmed, "-" when empty. */
static const char *session_str(const char *s, char *buf)
{
	int n = FH_MOLD_SESSION_LEN;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == 0))
		n--;
	for (int i = 0; i < n; i++)
		buf[i] = s[i] > 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (n == 0)
		buf[n++] = '-';
	buf[n] = 0;
	return buf;
}

static int on_msg(void *arg, const uint8_t *msg, size_t len, uint64_t seq,
		  const char session[FH_MOLD_SESSION_LEN], uint64_t recv_ts_ns)
{
	struct ctx *c = arg;
	(void)session;
	(void)recv_ts_ns;
	if (c->cmd == CMD_DUMP && !c->events) {
		fh_itch_format(msg, len, seq, c->line, sizeof(c->line));
		puts(c->line);
	}
	return 0;
}

static int on_events(void *arg, const struct fh_event *ev, unsigned n)
{
	struct ctx *c = arg;
	if (c->cmd == CMD_DUMP && c->events)
		for (unsigned i = 0; i < n; i++) {
			fh_event_format(&ev[i], c->line, sizeof(c->line));
			fputs(c->line, stdout);
			if (c->hex) {
				const uint8_t *b = (const uint8_t *)&ev[i];
				fputs(" raw=", stdout);
				for (size_t k = 0; k < sizeof(ev[i]); k++)
					printf("%02x", b[k]);
			}
			putchar('\n');
		}
	return 0;
}

static void flush_gap(struct ctx *c)
{
	char s[FH_MOLD_SESSION_LEN + 2];

	if (c->have_gap)
		printf("%s %" PRIu64 " %" PRIu64 "\n", session_str(c->gap_session, s), c->gap_first,
		       c->gap_last);
	c->have_gap = false;
}

static int on_status(void *arg, const struct fh_event *ev)
{
	struct ctx *c = arg;
	char s[FH_MOLD_SESSION_LEN + 2];
	static const char *const kinds[] = { "?", "gap", "recovered", "stale", "fresh",
					     "end_of_session", "session_start" };
	const char *k = ev->u.feed.kind < FH_ARRAY_SIZE(kinds) ? kinds[ev->u.feed.kind] : "?";

	if (c->cmd == CMD_GAPS && ev->u.feed.kind == FH_FEED_GAP) {
		/* A heartbeat during an outage reports the loss so far; the next
		 * packet the rest. Print one range per outage. */
		if (c->have_gap && c->gap_last + 1 == ev->u.feed.first_seq &&
		    !memcmp(c->gap_session, ev->u.feed.session, FH_MOLD_SESSION_LEN)) {
			c->gap_last = ev->u.feed.last_seq;
			return 0;
		}
		flush_gap(c);
		c->have_gap = true;
		memcpy(c->gap_session, ev->u.feed.session, FH_MOLD_SESSION_LEN);
		c->gap_first = ev->u.feed.first_seq;
		c->gap_last = ev->u.feed.last_seq;
	} else if (c->cmd == CMD_DUMP)
		printf("# %s session=%s first=%" PRIu64 " last=%" PRIu64 "\n", k,
		       session_str(ev->u.feed.session, s), ev->u.feed.first_seq, ev->u.feed.last_seq);
	return 0;
}

static int on_packet(void *arg, const struct fh_itch_file_pkt *pk)
{
	struct ctx *c = arg;
	char s[FH_MOLD_SESSION_LEN + 2];

	if (c->cmd != CMD_PACKETS || !pk->hdr)
		return 0;
	/* frame session seq count lengths: walks the blocks without trusting them */
	printf("%" PRIu64 " %s %" PRIu64 " %u ", pk->frame, session_str(pk->hdr->session, s),
	       pk->hdr->seq, pk->hdr->count);
	const uint8_t *p = pk->udp->payload + FH_MOLD_HDR_LEN;
	size_t left = pk->udp->len - FH_MOLD_HDR_LEN;
	unsigned cnt = pk->hdr->count == FH_MOLD_END_OF_SESSION ? 0 : pk->hdr->count;
	int any = 0;
	for (unsigned i = 0; i < cnt && left >= 2; i++) {
		size_t l = fh_be16(p);
		printf("%s%zu", any ? "," : "", l);
		any = 1;
		if (left - 2 < l)
			break;
		p += 2 + l;
		left -= 2 + l;
	}
	printf("%s%s\n", any ? "" : "-", pk->result < 0 ? " rejected" : "");
	return 0;
}

static void print_stats(FILE *f, const struct fh_itch_file_stats *st)
{
	fprintf(f, "format %s\n", st->format == FH_ITCH_FILE_PCAP ? "pcap" : "day");
	fprintf(f, "records %" PRIu64 "\nmessages %" PRIu64 "\n", st->records, st->messages);
	if (st->format == FH_ITCH_FILE_PCAP) {
		fprintf(f, "frames %" PRIu64 "\nudp %" PRIu64 "\n", st->pkt.frames, st->pkt.udp);
		for (unsigned i = 1; i < FH_PKT__COUNT; i++)
			if (st->pkt.result[i])
				fprintf(f, "frame_%s %" PRIu64 "\n", fh_pkt_result_name(i), st->pkt.result[i]);
		const struct fh_mold *m = &st->mold;
		fprintf(f, "mold_packets %" PRIu64 "\nheartbeats %" PRIu64 "\nsessions %" PRIu64
			   "\nend_of_session %" PRIu64 "\ngaps %" PRIu64 "\ngap_msgs %" PRIu64
			   "\ndup_packets %" PRIu64 "\ndup_msgs %" PRIu64 "\nlate_msgs %" PRIu64
			   "\nunsequenced %" PRIu64 "\n",
			m->packets, m->heartbeats, m->sessions, m->end_of_session, m->gaps_count,
			m->gap_msgs, m->dup_packets, m->dup_msgs, m->late_msgs, m->unsequenced);
	}
	for (unsigned i = 1; i < FH_ITCH_REJ__COUNT; i++) {
		uint64_t n = st->rejects[i] + st->mold.rejects[i] + st->decoder.rejects[i];
		if (n)
			fprintf(f, "reject_%s %" PRIu64 "\n", fh_itch_reject_name(i), n);
	}
	fprintf(f, "rejects %" PRIu64 "\n", fh_itch_file_rejects(st));
}

static void usage(void)
{
	fprintf(stderr,
		"usage: fh-itch COMMAND [options] FILE    (FILE: pcap or Nasdaq day file, - = stdin)\n"
		"  counts   one line per message type present: TYPE COUNT, sorted by type byte\n"
		"  gaps     each missing sequence range: SESSION FIRST LAST\n"
		"  dump     every message, one line each with every field (--events: decoded events)\n"
		"  packets  every MoldUDP64 datagram: FRAME SESSION SEQ COUNT LEN,LEN,...\n"
		"  stats    frame, MoldUDP64, sequencing and rejection counters\n"
		"options: --group A.B.C.D  --port N  (pcap filter)  --dlq FILE  (dead letters)\n"
		"         --source N  --events  --hex (with --events: the 64 event bytes)\n"
		"         --buffered (read without mmap)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "group", required_argument, 0, 'g' }, { "port", required_argument, 0, 'p' },
		{ "dlq", required_argument, 0, 'd' },   { "source", required_argument, 0, 's' },
		{ "events", no_argument, 0, 'e' },      { "buffered", no_argument, 0, 'b' },
		{ "hex", no_argument, 0, 'x' },         { "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	struct fh_itch_file_cfg cfg = { 0 };
	struct fh_itch_file_ops ops = { on_msg, on_events, on_status, on_packet };
	static struct fh_itch_file_stats st;
	struct fh_dlq dlq;
	const char *dlq_path = NULL;
	struct ctx c = { 0 };
	struct in_addr a;
	int o;

	if (argc < 2)
		usage();
	const char *cmd = argv[1];
	if (!strcmp(cmd, "counts"))
		c.cmd = CMD_COUNTS;
	else if (!strcmp(cmd, "gaps"))
		c.cmd = CMD_GAPS;
	else if (!strcmp(cmd, "dump"))
		c.cmd = CMD_DUMP;
	else if (!strcmp(cmd, "packets"))
		c.cmd = CMD_PACKETS;
	else if (!strcmp(cmd, "stats"))
		c.cmd = CMD_STATS;
	else
		usage();
	optind = 2;
	while ((o = getopt_long(argc, argv, "g:p:d:s:exbh", opts, NULL)) != -1) {
		switch (o) {
		case 'g':
			if (inet_pton(AF_INET, optarg, &a) != 1)
				usage();
			cfg.filter.dst_ip = ntohl(a.s_addr);
			break;
		case 'p':
			cfg.filter.dst_port = (uint16_t)strtoul(optarg, NULL, 10);
			break;
		case 'd':
			dlq_path = optarg;
			break;
		case 's':
			cfg.source_id = (uint16_t)strtoul(optarg, NULL, 10);
			break;
		case 'e':
			c.events = true;
			break;
		case 'x':
			c.hex = true;
			break;
		case 'b':
			cfg.pcap_flags |= FH_PCAP_BUFFERED;
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	const char *path = argv[optind];
	if (dlq_path) {
		int rc = fh_dlq_open(&dlq, dlq_path, 0);
		if (rc < 0) {
			fprintf(stderr, "fh-itch: %s: %s\n", dlq_path, strerror(-rc));
			return 1;
		}
		cfg.dlq = &dlq;
	}
	int rc = fh_itch_file_replay(path, &cfg, &ops, &c, &st);
	if (dlq_path)
		fh_dlq_close(&dlq);
	if (rc < 0) {
		const char *why = rc == -EINVAL ? "corrupt or cut-short pcap" : strerror(-rc);
		if (rc == -EPROTONOSUPPORT && st.format == FH_ITCH_FILE_PCAPNG)
			why = "pcapng is not read; convert it: editcap -F pcap IN.pcapng OUT.pcap";
		else if (rc == -EPROTONOSUPPORT)
			why = "gzip is read only for a day file given by name; use: zcat FILE | fh-itch ... -";
		fprintf(stderr, "fh-itch: %s: %s\n", path, why);
		if (st.records == 0)
			return 1;
	}
	flush_gap(&c);
	if (c.cmd == CMD_COUNTS)
		for (unsigned t = 0; t < 256; t++)
			if (st.decoder.count[t])
				printf("%c %" PRIu64 "\n", (char)t, st.decoder.count[t]);
	if (c.cmd == CMD_STATS)
		print_stats(stdout, &st);
	uint64_t rej = fh_itch_file_rejects(&st);
	if (rej && c.cmd != CMD_STATS) {
		fprintf(stderr, "fh-itch: %" PRIu64 " rejected:", rej);
		for (unsigned i = 1; i < FH_ITCH_REJ__COUNT; i++) {
			uint64_t n = st.rejects[i] + st.mold.rejects[i] + st.decoder.rejects[i];
			if (n)
				fprintf(stderr, " %s=%" PRIu64, fh_itch_reject_name(i), n);
		}
		fputc('\n', stderr);
	}
	return rc < 0 ? 1 : 0;
}
