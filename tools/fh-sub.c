/* SPDX-License-Identifier: MIT */
/* fh-sub.c: read the shm broadcast ring: print events (text or JSON lines), filter, count rates, measure latency. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fh_common.h"
#include "fh_json.h"
#include "fh_pubcheck.h"
#include "fh_sub.h"
#include "fh_time.h"

static volatile sig_atomic_t stop;

static void on_signal(int s)
{
	(void)s;
	stop = 1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: fh-sub [options] [NAME|PATH]      (default NAME fh in /dev/shm)\n"
		"       fh-sub --decode-file FILE [--json|-q]   decode concatenated 64-byte binary events\n"
		"  -d, --dir DIR          directory of the ring (default /dev/shm)\n"
		"  -j, --json             JSON lines instead of text lines\n"
		"  -q, --quiet            do not print events\n"
		"  -n, --count N          stop after N events\n"
		"  -t, --duration S       stop after S seconds\n"
		"      --type T[,T]       only these event types (names as printed, e.g. trade,bbo)\n"
		"      --instrument [SRC:]ID  only this instrument (repeatable)\n"
		"      --symbol SYM       only this symbol (repeatable; learnt from instrument events)\n"
		"      --start newest|next|oldest   where to begin (default newest)\n"
		"      --snapshot         ask the writer for book snapshots at start\n"
		"      --verify           check order, positions and book checksums (no filters), exit 1 on error\n"
		"      --books FILE       rebuild L2 books and write them at the end\n"
		"      --books-sym FILE   the same with symbols and level numbers (fh --books-out's columns)\n"
		"      --raw FILE         write every event read, 64 bytes each (--decode-file reads it)\n"
		"      --depth N          keep the top N levels per side (default: the writer's books.depth\n"
		"                         from the ring header, else learnt from each book's first full snapshot)\n"
		"      --rate             print events/s, losses and latency every second (stderr)\n"
		"      --summary FILE     key/value totals at the end (default: stderr)\n"
		"      --slow-ns N        spend N ns per event (to demonstrate laps)\n"
		"      --spin             never sleep when the ring is empty (lowest latency)\n"
		"      --pin CPU          pin to a CPU\n"
		"      --timeout-ms MS    writer heartbeat age that means gone (default 3000)\n"
		"      --stay             keep waiting when the writer is gone\n");
	exit(2);
}

enum {
	O_TYPE = 256, O_INSTR, O_SYMBOL, O_START, O_SNAP, O_VERIFY, O_BOOKS, O_RATE, O_SUMMARY,
	O_SLOW, O_SPIN, O_PIN, O_TIMEOUT, O_STAY, O_DECODE, O_BOOKS_SYM, O_DEPTH, O_RAW,
};

static const struct option opts[] = {
	{ "dir", 1, 0, 'd' },	      { "json", 0, 0, 'j' },	     { "quiet", 0, 0, 'q' },
	{ "count", 1, 0, 'n' },	      { "duration", 1, 0, 't' },     { "type", 1, 0, O_TYPE },
	{ "instrument", 1, 0, O_INSTR }, { "symbol", 1, 0, O_SYMBOL }, { "start", 1, 0, O_START },
	{ "snapshot", 0, 0, O_SNAP }, { "verify", 0, 0, O_VERIFY },  { "books", 1, 0, O_BOOKS },
	{ "rate", 0, 0, O_RATE },     { "summary", 1, 0, O_SUMMARY }, { "slow-ns", 1, 0, O_SLOW },
	{ "spin", 0, 0, O_SPIN },     { "pin", 1, 0, O_PIN },	     { "timeout-ms", 1, 0, O_TIMEOUT },
	{ "stay", 0, 0, O_STAY },     { "decode-file", 1, 0, O_DECODE }, { "help", 0, 0, 'h' },
	{ "books-sym", 1, 0, O_BOOKS_SYM }, { "depth", 1, 0, O_DEPTH },
	{ "raw", 1, 0, O_RAW },
	{ 0, 0, 0, 0 },
};

static uint64_t parse_types(const char *arg)
{
	uint64_t mask = 0;
	char *save, *t, *s = strdup(arg);
	for (t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		unsigned i;
		for (i = 1; i < FH_EV__COUNT; i++)
			if (!strcmp(t, fh_event_type_name(i)))
				break;
		if (i == FH_EV__COUNT) {
			fprintf(stderr, "fh-sub: unknown event type %s\n", t);
			exit(2);
		}
		mask |= 1ull << i;
	}
	free(s);
	return mask;
}

static void print_event(const struct fh_event *ev, const char *sym, uint64_t pos, bool json)
{
	char buf[FH_JSON_MAX];
	if (json) {
		if (fh_json_encode(ev, sym, buf, sizeof(buf)) > 0)
			puts(buf);
		return;
	}
	fh_event_format(ev, buf, sizeof(buf));
	if (sym)
		printf("%" PRIu64 " %s sym=%s\n", pos, buf, sym);
	else
		printf("%" PRIu64 " %s\n", pos, buf);
}

static int decode_file(const char *path, bool json, bool quiet)
{
	FILE *f = fopen(path, "rb");
	struct fh_event ev;
	uint8_t raw[FH_EVENT_SIZE];
	uint64_t ok = 0, bad = 0, n = 0;
	size_t got;

	if (!f) {
		fprintf(stderr, "fh-sub: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while ((got = fread(raw, 1, sizeof(raw), f)) > 0) {
		if (got != sizeof(raw) || fh_sub_decode(raw, got, &ev)) {
			bad++;
			if (got != sizeof(raw))
				break;
			continue;
		}
		ok++;
		if (!quiet)
			print_event(&ev, NULL, n, json);
		n++;
	}
	fclose(f);
	fprintf(stderr, "decoded %" PRIu64 " bad %" PRIu64 "\n", ok, bad);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct fh_sub_opts so = { .start = FH_SUB_START_NEWEST };
	const char *name = "fh", *books = NULL, *books_sym = NULL, *summary = NULL, *decode = NULL;
	const char *raw_path = NULL;
	FILE *raw = NULL;
	uint64_t by_type[FH_EV__COUNT + 1] = { 0 };
	bool json = false, quiet = false, snapshot = false, verify = false, rate = false, spin = false;
	bool stay = false, filtered = false;
	uint64_t count = 0, duration = 0, slow_ns = 0;
	const char *symbols[64];
	unsigned nsym = 0;
	struct { uint16_t src; uint32_t id; } instr[256];
	unsigned ninstr = 0;
	int pin = -1, c;
	unsigned depth = 0;

	while ((c = getopt_long(argc, argv, "d:jqn:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': so.dir = optarg; break;
		case 'j': json = true; break;
		case 'q': quiet = true; break;
		case 'n': count = strtoull(optarg, NULL, 0); break;
		case 't': duration = strtoull(optarg, NULL, 0); break;
		case O_TYPE: so.type_mask = parse_types(optarg); filtered = true; break;
		case O_INSTR: {
			if (ninstr == FH_ARRAY_SIZE(instr))
				usage();
			char *colon = strchr(optarg, ':');
			instr[ninstr].src = colon ? (uint16_t)strtoul(optarg, NULL, 0) : 0xffff;
			instr[ninstr].id = (uint32_t)strtoul(colon ? colon + 1 : optarg, NULL, 0);
			ninstr++;
			filtered = true;
			break;
		}
		case O_SYMBOL:
			if (nsym == FH_ARRAY_SIZE(symbols))
				usage();
			symbols[nsym++] = optarg;
			filtered = true;
			break;
		case O_START:
			so.start = !strcmp(optarg, "next")     ? FH_SUB_START_NEXT
				   : !strcmp(optarg, "oldest") ? FH_SUB_START_OLDEST
							       : FH_SUB_START_NEWEST;
			break;
		case O_SNAP: snapshot = true; break;
		case O_VERIFY: verify = true; break;
		case O_BOOKS: books = optarg; break;
		case O_BOOKS_SYM: books_sym = optarg; break;
		case O_DEPTH: depth = (unsigned)strtoul(optarg, NULL, 0); break;
		case O_RAW: raw_path = optarg; break;
		case O_RATE: rate = true; break;
		case O_SUMMARY: summary = optarg; break;
		case O_SLOW: slow_ns = strtoull(optarg, NULL, 0); break;
		case O_SPIN: spin = true; break;
		case O_PIN: pin = atoi(optarg); break;
		case O_TIMEOUT: so.writer_timeout_ms = strtoull(optarg, NULL, 0); break;
		case O_STAY: stay = true; break;
		case O_DECODE: decode = optarg; break;
		default: usage();
		}
	}
	if (decode)
		return decode_file(decode, json, quiet);
	if (optind < argc)
		name = argv[optind];
	if (verify && filtered) {
		fprintf(stderr, "fh-sub: --verify checks the whole stream: no filters with it\n");
		return 2;
	}
	if (pin >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(pin, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, on_signal);

	/* --symbol learns ids from instrument events: they must pass the
	 * library's type filter; the user's type filter is applied here */
	uint64_t user_types = so.type_mask;
	if (nsym && so.type_mask)
		so.type_mask |= 1ull << FH_EV_INSTRUMENT;
	struct fh_sub *s = fh_sub_open(name, &so);
	/* a writer creating the ring right now: wait for it (at most 2 s) */
	for (int i = 0; !s && errno == EAGAIN && i < 200; i++) {
		usleep(10000);
		s = fh_sub_open(name, &so);
	}
	if (!s) {
		fprintf(stderr, "fh-sub: cannot open ring %s: %s\n", name, strerror(errno));
		return 1;
	}
	for (unsigned i = 0; i < ninstr; i++)
		fh_sub_filter_instrument(s, instr[i].src, instr[i].id);
	struct fh_pubcheck pc;
	if (fh_pubcheck_init(&pc, 4096, snapshot)) {
		fprintf(stderr, "fh-sub: out of memory\n");
		return 1;
	}
	/* the writer says its books.depth in the header (0: unknown, then
	 * each book learns it from its first full snapshot) */
	fh_pubcheck_set_depth(&pc, depth ? depth : fh_sub_header(s)->book_depth);
	if (raw_path && !(raw = fopen(raw_path, "wb"))) {
		fprintf(stderr, "fh-sub: %s: %s\n", raw_path, strerror(errno));
		return 1;
	}
	if (snapshot) {
		int e;
		while ((e = fh_sub_request_snapshot(s, 0xffff, FH_INSTRUMENT_NONE)) == -EAGAIN)
			usleep(1000);
		if (e)
			fprintf(stderr, "fh-sub: snapshot request refused: %s\n", strerror(-e));
	}

	uint64_t first_pos = fh_sub_position(s);
	uint64_t t0 = fh_clock_ns(CLOCK_MONOTONIC), t_last = t0, n_last = 0, lost_last = 0;
	uint64_t t_end = duration ? t0 + duration * 1000000000ull : 0;
	uint64_t printed = 0;
	unsigned empty = 0;
	bool gone = false;
	struct fh_sub_msg m;

	while (!stop) {
		int st = fh_sub_poll(s, &m);
		if (st == FH_SUB_EVENT) {
			uint64_t now_tsc = fh_sub_tsc();
			empty = 0;
			if (now_tsc > m.pub_tsc)
				fh_pubcheck_latency(&pc, fh_sub_tsc_to_ns(s, now_tsc - m.pub_tsc));
			/* symbol filter: learn ids from instrument events, then match */
			fh_pubcheck_event(&pc, m.pos, &m.ev);
			by_type[m.ev.type < FH_EV__COUNT ? m.ev.type : FH_EV__COUNT]++;
			if (raw && fwrite(&m.ev, sizeof(m.ev), 1, raw) != 1) {
				fprintf(stderr, "fh-sub: %s: %s\n", raw_path, strerror(errno));
				break;
			}
			const char *sym = m.ev.instrument != FH_INSTRUMENT_NONE
						  ? fh_pubcheck_symbol(&pc, m.ev.source_id, m.ev.instrument) : NULL;
			bool show = !user_types || (m.ev.type < 64 && (user_types & (1ull << m.ev.type)));
			if (show && nsym && m.ev.instrument != FH_INSTRUMENT_NONE) {
				show = false;
				for (unsigned i = 0; i < nsym && sym; i++)
					if (!strncmp(sym, symbols[i], 16))
						show = true;
			}
			if (show) {
				printed++;
				if (!quiet)
					print_event(&m.ev, sym, m.pos, json);
			}
			if (slow_ns) {
				uint64_t t = fh_clock_ns(CLOCK_MONOTONIC) + slow_ns;
				while (fh_clock_ns(CLOCK_MONOTONIC) < t)
					;
			}
			if (count && printed >= count)
				break;
		} else if (st == FH_SUB_LAPPED) {
			fh_pubcheck_lapped(&pc, m.lost);
			fprintf(stderr, "fh-sub: lapped: %" PRIu64 " events lost (total %" PRIu64 ")\n",
				m.lost, pc.lost);
		} else if (st == FH_SUB_WRITER_GONE) {
			if (!stay) {
				gone = true;
				break;
			}
			usleep(100000);
		} else if (st < 0) {
			fprintf(stderr, "fh-sub: %s\n", strerror(-st));
			break;
		} else if (!spin && ++empty > 256) {
			if (!quiet)
				fflush(stdout);
			usleep(50);
		}
		if ((printed & 1023) == 0 || st == FH_SUB_EMPTY) {
			uint64_t now = fh_clock_ns(CLOCK_MONOTONIC);
			if (t_end && now > t_end)
				break;
			if (rate && now - t_last >= 1000000000ull) {
				fprintf(stderr, "fh-sub: %.0f ev/s lost %" PRIu64 " lat p50 %" PRIu64 " p99 %" PRIu64 " ns\n",
					(double)(pc.events - n_last) * 1e9 / (double)(now - t_last), pc.lost - lost_last,
					fh_pubcheck_percentile(&pc, 50), fh_pubcheck_percentile(&pc, 99));
				t_last = now;
				n_last = pc.events;
				lost_last = pc.lost;
			}
		}
	}
	fflush(stdout);
	double secs = (double)(fh_clock_ns(CLOCK_MONOTONIC) - t0) / 1e9;
	FILE *f = summary ? fopen(summary, "w") : stderr;
	if (!f)
		f = stderr;
	struct fh_sub_stats ss;
	fh_sub_get_stats(s, &ss);
	fprintf(f, "first_pos %" PRIu64 "\nevents %" PRIu64 "\nprinted %" PRIu64 "\nfiltered %" PRIu64
		   "\nlost %" PRIu64 "\nlaps %" PRIu64 "\norder_errors %" PRIu64 "\npos_errors %" PRIu64
		   "\nseq_skips %" PRIu64 "\nbook_errors %" PRIu64 "\nsnapshots %" PRIu64
		   "\nbook_snapshot_events %" PRIu64 "\nsnap_checked %" PRIu64 "\nsnap_mismatch %" PRIu64
		   "\nwriter_gone %d\nseconds %.3f\n"
		   "rate %.0f\nlat_p50_ns %" PRIu64 "\nlat_p99_ns %" PRIu64 "\nlat_p999_ns %" PRIu64
		   "\nlat_max_ns %" PRIu64 "\n",
		first_pos, pc.events, printed, ss.filtered, pc.lost, pc.laps, pc.order_errors, pc.pos_errors,
		pc.seq_skips, pc.book_errors, pc.snapshots, pc.summaries, pc.snap_checked, pc.snap_mismatch, gone, secs, secs > 0 ? (double)pc.events / secs : 0.0,
		fh_pubcheck_percentile(&pc, 50), fh_pubcheck_percentile(&pc, 99),
		fh_pubcheck_percentile(&pc, 99.9), pc.lat_max);
	/* events read per type and per family (the Kafka topic families) */
	static const char *const fams[] = { "book", "trades", "bars", "alerts", "status", "orders",
					    "reference" };
	for (unsigned t = 0; t <= FH_EV__COUNT; t++)
		if (by_type[t])
			fprintf(f, "type.%s %" PRIu64 "\n", fh_event_type_name(t), by_type[t]);
	for (unsigned k = 0; k < FH_ARRAY_SIZE(fams); k++) {
		uint64_t n = 0;
		for (unsigned t = 0; t <= FH_EV__COUNT; t++)
			if (!strcmp(fh_event_family(t), fams[k]))
				n += by_type[t];
		fprintf(f, "family.%s %" PRIu64 "\n", fams[k], n);
	}
	if (f != stderr)
		fclose(f);
	bool raw_err = raw && fclose(raw);
	if (raw_err)
		fprintf(stderr, "fh-sub: %s: %s\n", raw_path, strerror(errno));
	int rc = raw_err ? 1 : 0;
	if (books && fh_pubcheck_dump_books(&pc, books)) {
		fprintf(stderr, "fh-sub: %s: %s\n", books, strerror(errno));
		rc = 1;
	}
	if (books_sym && fh_pubcheck_dump_books_sym(&pc, books_sym)) {
		fprintf(stderr, "fh-sub: %s: %s\n", books_sym, strerror(errno));
		rc = 1;
	}
	if (verify && (pc.order_errors || pc.pos_errors || pc.snap_mismatch))
		rc = 1;
	fh_pubcheck_free(&pc);
	fh_sub_close(s);
	return rc;
}
