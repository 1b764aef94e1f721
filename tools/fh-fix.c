/* SPDX-License-Identifier: MIT */
/* fh-fix: decode FIX market data files (counts, dump) and run an initiator session. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh_dlq.h"
#include "fh_event.h"
#include "fh_fix.h"
#include "fh_fix_session.h"
#include "fh_l2book.h"
#include "fh_time.h"

static int usage(void);

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	do {
		if (n == cap) {
			uint8_t *nb = realloc(buf, cap = cap ? cap * 2 : 65536);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	*len = n;
	return buf;
}

struct run {
	struct fh_fix_decoder *d;
	struct fh_event *ev;
	unsigned cap;
	uint64_t *types; /* [65536]: MsgType chars c0 << 8 | c1 */
	int dump;
	uint64_t msgs;
};

static void one(struct run *r, const uint8_t *m, size_t len)
{
	struct fh_fix_msg msg;
	int n = fh_fix_decode(r->d, m, len, 0, &msg, r->ev, r->cap);
	char line[256];

	r->msgs++;
	if (n < 0) {
		if (r->dump)
			printf("REJECT %s tag=%u\n", fh_fix_reject_name((unsigned)-n), msg.reject_tag);
		return;
	}
	r->types[(uint8_t)msg.type[0] << 8 | (uint8_t)msg.type[1]]++;
	if (r->dump) {
		printf("MSG %s seq=%" PRIu64 " events=%d\n", msg.type,
		       msg.seq_num ? msg.seq_num : msg.appl_seq, n);
		for (int i = 0; i < n; i++) {
			fh_event_format(&r->ev[i], line, sizeof(line));
			printf("  %s\n", line);
		}
	}
}

/* Raw SOH stream: framed with fh_fix_frame(). */
static void run_stream(struct run *r, const uint8_t *buf, size_t len)
{
	size_t off = 0, skip;

	while (off < len) {
		long n = fh_fix_frame(buf + off, len - off, r->d->cfg.max_msg_len, &skip);
		if (n > 0) {
			one(r, buf + off + skip, (size_t)n);
			off += skip + (size_t)n;
		} else if (n == 0) {
			off += skip;
			if (off < len) {
				fh_fix_reject_bytes(r->d, FH_FIX_REJ_TRUNCATED, buf + off, len - off, 0);
				if (r->dump)
					printf("REJECT truncated\n");
			}
			break;
		} else {
			fh_fix_reject_bytes(r->d, (int)-n, buf + off, skip, 0);
			if (r->dump)
				printf("REJECT %s\n", fh_fix_reject_name((unsigned)-n));
			off += skip;
		}
	}
}

/* One message per line, '|' for SOH; '#' lines are comments. */
static void run_lines(struct run *r, uint8_t *buf, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t j = i;
		while (j < len && buf[j] != '\n')
			j++;
		size_t e = j;
		while (e > i && (buf[e - 1] == '\r' || buf[e - 1] == ' '))
			e--;
		if (e > i && buf[i] != '#') {
			for (size_t k = i; k < e; k++)
				if (buf[k] == '|')
					buf[k] = FH_FIX_SOH;
			one(r, buf + i, e - i);
		}
		i = j + 1;
	}
}

/* ---- session mode: a FIX initiator feeding L2 books, books printed at the end ---- */

static volatile sig_atomic_t stop_flag, dump_flag;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		dump_flag = 1;
	else
		stop_flag = 1;
}

struct sess_run {
	struct fh_l2book *book;
	int print_events;
	uint64_t events, bbo;
};

static void sess_events(void *arg, const struct fh_event *ev, unsigned n)
{
	struct sess_run *r = arg;
	struct fh_event out[FH_L2BOOK_MAX_OUT];
	char line[256];

	for (unsigned i = 0; i < n; i++) {
		r->events++;
		r->bbo += (uint64_t)fh_l2book_apply(r->book, &ev[i], out);
		if (r->print_events) {
			fh_event_format(&ev[i], line, sizeof(line));
			printf("EVENT %s\n", line);
		}
	}
}

static void sess_log(void *arg, const char *line)
{
	(void)arg;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(stderr, "%ld.%03ld fh-fix session: %s\n", (long)ts.tv_sec, ts.tv_nsec / 1000000, line);
}

static void print_book(const struct fh_l2book *b, const char *sym, long id)
{
	struct fh_l2_level lv[256];

	if (id < 0) {
		printf("BOOK %s unknown\n", sym);
		return;
	}
	printf("BOOK %s stale=%d crossed=%d checksum=%016" PRIx64, sym,
	       fh_l2book_is_stale(b, (uint32_t)id), fh_l2book_is_crossed(b, (uint32_t)id),
	       fh_l2book_checksum(b, (uint32_t)id, b->cfg.depth));
	for (int s = 0; s < 2; s++) {
		uint8_t side = s ? FH_SIDE_ASK : FH_SIDE_BID;
		unsigned n = fh_l2book_levels(b, (uint32_t)id, side, lv, 256);
		printf(" %c", side);
		for (unsigned i = 0; i < n && i < 256; i++)
			printf(" %" PRId64 "x%" PRIu64, lv[i].price, lv[i].qty);
	}
	printf("\n");
}

static void print_state(struct fh_fix_session *s, const struct fh_l2book *book,
			const struct fh_fix_session_cfg *cfgp, const struct sess_run *runp)
{
	const struct fh_fix_session_cfg cfg = *cfgp;
	const struct sess_run run = *runp;
	struct fh_fix_decoder *d = fh_fix_session_decoder(s);
	for (unsigned i = 0; i < cfg.n_symbols; i++)
		print_book(book, cfg.symbols[i], fh_fix_symtab_find(d, cfg.symbols[i], strlen(cfg.symbols[i])));
	const struct fh_fix_session_stats *st = fh_fix_session_stats(s);
	uint64_t no, ni;
	fh_fix_session_seqs(s, &no, &ni);
	printf("STATS connects=%" PRIu64 " logons=%" PRIu64 " disconnects=%" PRIu64 " msgs_in=%" PRIu64
	       " msgs_out=%" PRIu64 " heartbeats_out=%" PRIu64 " test_requests_out=%" PRIu64
	       " test_requests_in=%" PRIu64 " resend_requests_out=%" PRIu64 " gaps=%" PRIu64
	       " gap_fills_in=%" PRIu64 " poss_dup_in=%" PRIu64 " poss_dup_ignored=%" PRIu64
	       " garbled_in=%" PRIu64 " rejects_out=%" PRIu64 " snapshot_requests=%" PRIu64
	       " rptseq_gaps=%" PRIu64 " events=%" PRIu64 " next_out=%" PRIu64 " next_in=%" PRIu64 "\n",
	       st->connects, st->logons, st->disconnects, st->msgs_in, st->msgs_out, st->heartbeats_out,
	       st->test_requests_out, st->test_requests_in, st->resend_requests_out, st->gaps,
	       st->gap_fills_in, st->poss_dup_in, st->poss_dup_ignored, st->garbled_in, st->rejects_out,
	       st->snapshot_requests, d->rptseq_gaps, run.events, no, ni);
}

static int session_main(int argc, char **argv)
{
	struct fh_fix_session_cfg cfg = { .decoder = { .auto_add = true, .qty_decimals = 0 } };
	struct fh_l2book_cfg bcfg = { .max_levels = 256 };
	struct sess_run run = { 0 };
	double duration = 0;
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--reset")) {
			cfg.reset_on_logon = true;
			continue;
		}
		if (!strcmp(a, "--events")) {
			run.print_events = 1;
			continue;
		}
		if (!v)
			return usage();
		i++;
		if (!strcmp(a, "--connect")) {
			const char *c = strrchr(v, ':');
			if (!c || (size_t)(c - v) >= sizeof(cfg.host))
				return usage();
			memcpy(cfg.host, v, (size_t)(c - v));
			cfg.port = (uint16_t)atoi(c + 1);
		} else if (!strcmp(a, "--sender")) {
			snprintf(cfg.sender, sizeof(cfg.sender), "%s", v);
		} else if (!strcmp(a, "--target")) {
			snprintf(cfg.target, sizeof(cfg.target), "%s", v);
		} else if (!strcmp(a, "--symbols")) {
			char buf[FH_FIX_SESSION_MAX_SYMBOLS * FH_FIX_SYMBOL_MAX];
			snprintf(buf, sizeof(buf), "%s", v);
			for (char *save = NULL, *t = strtok_r(buf, ",", &save); t;
			     t = strtok_r(NULL, ",", &save)) {
				if (cfg.n_symbols == FH_FIX_SESSION_MAX_SYMBOLS ||
				    strlen(t) >= FH_FIX_SYMBOL_MAX)
					return usage();
				snprintf(cfg.symbols[cfg.n_symbols++], FH_FIX_SYMBOL_MAX, "%s", t);
			}
		} else if (!strcmp(a, "--seq-file")) {
			snprintf(cfg.seq_file, sizeof(cfg.seq_file), "%s", v);
		} else if (!strcmp(a, "--heartbeat")) {
			cfg.heartbeat_s = (uint32_t)atoi(v);
		} else if (!strcmp(a, "--depth")) {
			cfg.depth = (uint32_t)atoi(v);
		} else if (!strcmp(a, "--duration")) {
			duration = atof(v);
		} else if (!strcmp(a, "--begin")) {
			snprintf(cfg.begin_string, sizeof(cfg.begin_string), "%s", v);
		} else if (!strcmp(a, "--qty-decimals")) {
			cfg.decoder.qty_decimals = (uint8_t)atoi(v);
		} else {
			return usage();
		}
	}
	run.book = fh_l2book_create(&bcfg);
	struct fh_fix_session *s = fh_fix_session_create(&cfg, sess_events, sess_log, &run);
	if (!s || !run.book) {
		fprintf(stderr, "fh-fix session: bad configuration: %s\n", strerror(errno));
		goto out;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGUSR1, on_signal); /* print the books now, keep running */
	uint64_t t0 = fh_clock_ns(CLOCK_MONOTONIC), stop_at = 0;
	for (;;) {
		uint64_t now = fh_clock_ns(CLOCK_MONOTONIC);
		if (dump_flag) {
			dump_flag = 0;
			print_state(s, run.book, &cfg, &run);
		}
		if (!stop_at && (stop_flag || (duration > 0 && now - t0 >= (uint64_t)(duration * 1e9)))) {
			/* books as they stand while the session is up, then a clean Logout */
			print_state(s, run.book, &cfg, &run);
			fh_fix_session_stop(s, now);
			stop_at = now;
		}
		if (fh_fix_session_state(s) == FH_FIX_SS_STOPPED ||
		    (stop_at && now - stop_at > 3000000000ull))
			break;
		if (!fh_fix_session_do_work(s, now)) {
			struct timespec ts = { 0, 200000 }; /* idle: back off 0.2 ms */
			nanosleep(&ts, NULL);
		}
	}
	if (!stop_at)
		print_state(s, run.book, &cfg, &run);
	rc = 0;
out:
	fh_fix_session_destroy(s);
	fh_l2book_destroy(run.book);
	return rc;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: fh-fix counts FILE [--dlq PATH] [--qty-decimals N]\n"
		"       fh-fix dump FILE [--dlq PATH] [--qty-decimals N]\n"
		"       fh-fix session --connect HOST:PORT --sender ID --target ID --symbols A,B\n"
		"                      [--seq-file PATH] [--heartbeat S] [--depth N] [--duration S]\n"
		"                      [--begin FIX.4.4] [--reset] [--qty-decimals N] [--events]\n"
		"                      (SIGUSR1 prints the books, SIGTERM prints them and logs out)\n"
		"FILE: a raw SOH stream, or one message per line with '|' for SOH.\n"
		"counts prints 'TYPE COUNT' per accepted MsgType, then 'REJECT <reason> COUNT'.\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *path = NULL, *dlq_path = NULL;
	struct fh_fix_cfg cfg = { .auto_add = true, .qty_decimals = 8 };
	struct fh_dlq dlq;
	struct run r = { 0 };
	int rc = 1;

	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "session"))
		return session_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "counts") && strcmp(argv[1], "dump"))
		return usage();
	r.dump = !strcmp(argv[1], "dump");
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--dlq") && i + 1 < argc)
			dlq_path = argv[++i];
		else if (!strcmp(argv[i], "--qty-decimals") && i + 1 < argc)
			cfg.qty_decimals = (uint8_t)atoi(argv[++i]);
		else if (argv[i][0] == '-' || path)
			return usage();
		else
			path = argv[i];
	}
	if (!path)
		return usage();

	size_t len;
	uint8_t *buf = read_file(path, &len);
	if (!buf) {
		fprintf(stderr, "fh-fix: %s: %s\n", path, strerror(errno));
		return 1;
	}
	r.d = fh_fix_create(&cfg);
	if (!r.d) {
		fprintf(stderr, "fh-fix: bad decoder config\n");
		goto out_free_buf;
	}
	if (fh_dlq_open(&dlq, dlq_path, 0) < 0) {
		fprintf(stderr, "fh-fix: %s: cannot open\n", dlq_path);
		goto out_destroy;
	}
	fh_fix_set_dlq(r.d, &dlq);
	r.cap = fh_fix_max_events(r.d);
	r.ev = calloc(r.cap, sizeof(*r.ev));
	r.types = calloc(65536, sizeof(*r.types));
	if (!r.ev || !r.types)
		goto out_close;

	if (memchr(buf, FH_FIX_SOH, len))
		run_stream(&r, buf, len);
	else
		run_lines(&r, buf, len);

	if (!r.dump) {
		for (unsigned t = 0; t < 65536; t++) {
			if (!r.types[t])
				continue;
			char name[3] = { (char)(t >> 8), (char)(t & 0xff), 0 };
			printf("%s %" PRIu64 "\n", name, r.types[t]);
		}
		for (unsigned k = 1; k < FH_FIX_REJ__COUNT; k++)
			if (r.d->rejects[k])
				printf("REJECT %s %" PRIu64 "\n", fh_fix_reject_name(k), r.d->rejects[k]);
		if (r.d->stat_inexact)
			printf("INEXACT stat_value %" PRIu64 "\n", r.d->stat_inexact);
		if (r.d->rptseq_gaps)
			printf("RPTSEQ_GAP %" PRIu64 "\n", r.d->rptseq_gaps);
	}
	rc = 0;
out_close:
	free(r.ev);
	free(r.types);
	fh_dlq_close(&dlq);
out_destroy:
	fh_fix_destroy(r.d);
out_free_buf:
	free(buf);
	return rc;
}
