/* SPDX-License-Identifier: MIT */
/* fh-book.c: replay an ITCH day file or pcap into the L2 books and print them (dump, one book at a sequence). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh_book.h"
#include "fh_itch_file.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fh-book dump FILE [--depth N] [--at SEQ --symbol SYM]\n"
		"                         [--max-orders N] [--max-levels N] [--max-instruments N]\n"
		"                         [--book-depth N] [--abort-on-cross]\n"
		"  FILE: Nasdaq ITCH 5.0 day file (2-byte length prefixes) or pcap of MoldUDP64.\n"
		"  Prints the final book of every instrument with a non-empty book, one level a\n"
		"  line: <symbol> <B|S> <level> <price, 4 decimals> <shares> <orders>, sorted by\n"
		"  symbol (byte order), B before S, level 1 the best. --depth N prints at most N\n"
		"  levels a side (default: all). --at SEQ stops after message SEQ; with --symbol\n"
		"  only that book is printed. Counters (orphans, integrity) go to stderr.\n"
		"  Instruments are named by the stock directory (R), else by the stock field of\n"
		"  their first add (A/F), else '#<locate>'.\n");
}

struct run {
	struct fh_book *b;
	uint64_t at;       /* stop after this message (0: the whole file) */
	uint64_t last_seq;
	uint64_t messages;
	int aborted;
	struct fh_event out[FH_BOOK_MAX_OUT];
};

static int on_msg(void *arg, const uint8_t *msg, size_t len, uint64_t seq,
		  const char session[FH_MOLD_SESSION_LEN], uint64_t recv_ts_ns)
{
	struct run *r = arg;
	(void)session;
	(void)recv_ts_ns;
	if (r->at && seq > r->at)
		return 1;
	/* the decoder's add events carry only the locate: take the name from A/F bytes */
	if (len >= 32 && (msg[0] == 'A' || msg[0] == 'F')) {
		uint32_t locate = fh_be16(msg + 1);
		if (locate < fh_book_max_instruments(r->b) && !fh_book_symbol(r->b, locate)[0])
			fh_book_name_instrument(r->b, locate, (const char *)msg + 24, 8);
	}
	return 0;
}

static int on_events(void *arg, const struct fh_event *ev, unsigned n)
{
	struct run *r = arg;
	if (n && r->at && ev[0].seq > r->at)
		return 1;
	for (unsigned i = 0; i < n; i++) {
		if (fh_book_apply(r->b, &ev[i], r->out) == -EPROTO) {
			char sym[32];
			snprintf(sym, sizeof(sym), "%s", fh_book_symbol(r->b, ev[i].instrument));
			fprintf(stderr, "fh-book: book of %s (locate %u) crossed or locked at seq %" PRIu64
				" (--abort-on-cross)\n", sym, ev[i].instrument, ev[i].seq);
			r->aborted = 1;
			return 2;
		}
	}
	if (n) {
		r->last_seq = ev[0].seq;
		r->messages++;
	}
	if (n && r->at && ev[0].seq >= r->at)
		return 1;
	return 0;
}

static int on_status(void *arg, const struct fh_event *ev)
{
	struct run *r = arg;
	(void)fh_book_apply(r->b, ev, r->out);
	return 0;
}

struct named {
	uint32_t id;
	char sym[20];
};

static int cmp_named(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int c = strcmp(x->sym, y->sym); /* strcmp compares as unsigned char: byte order */
	return c ? c : (x->id > y->id) - (x->id < y->id);
}

static void name_of(const struct fh_book *b, uint32_t id, char *out, size_t len)
{
	const char *s = fh_book_symbol(b, id);
	if (s[0])
		snprintf(out, len, "%s", s);
	else
		snprintf(out, len, "#%u", id);
}

static void print_book(const struct fh_book *b, uint32_t id, const char *sym, unsigned depth,
		       struct fh_book_level_view *lv, unsigned lvmax)
{
	static const uint8_t sides[2] = { FH_SIDE_BID, FH_SIDE_ASK };
	char px[40];
	for (int s = 0; s < 2; s++) {
		unsigned n = fh_book_levels(b, id, sides[s], lv, depth < lvmax ? depth : lvmax);
		for (unsigned i = 0; i < n; i++) {
			fh_price_format(lv[i].price, 4, px, sizeof(px));
			printf("%s %c %u %s %" PRIu64 " %u\n", sym, sides[s], i + 1, px, lv[i].qty,
			       lv[i].orders);
		}
	}
}

static unsigned long long num_arg(const char *opt, const char *v)
{
	char *end;
	errno = 0;
	unsigned long long x = v ? strtoull(v, &end, 0) : 0;
	if (!v || errno || *end || end == v) {
		fprintf(stderr, "fh-book: %s needs a number\n", opt);
		exit(2);
	}
	return x;
}

int main(int argc, char **argv)
{
	struct fh_book_config cfg;
	const char *file = NULL, *symbol = NULL;
	unsigned depth = UINT32_MAX;
	struct run r = { 0 };
	char err[256];

	fh_book_config_default(&cfg);
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "dump") != 0) {
		fprintf(stderr, "fh-book: unknown command '%s'\n", argv[1]);
		usage(stderr);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--depth")) {
			depth = (unsigned)num_arg(a, v);
			i++;
		} else if (!strcmp(a, "--at")) {
			r.at = num_arg(a, v);
			i++;
		} else if (!strcmp(a, "--symbol")) {
			if (!v) {
				fprintf(stderr, "fh-book: --symbol needs a symbol\n");
				return 2;
			}
			symbol = v;
			i++;
		} else if (!strcmp(a, "--max-orders")) {
			cfg.max_orders = (uint32_t)num_arg(a, v);
			i++;
		} else if (!strcmp(a, "--max-levels")) {
			cfg.max_levels = (uint32_t)num_arg(a, v);
			i++;
		} else if (!strcmp(a, "--max-instruments")) {
			cfg.max_instruments = (uint32_t)num_arg(a, v);
			i++;
		} else if (!strcmp(a, "--book-depth")) {
			cfg.depth = (uint16_t)num_arg(a, v);
			i++;
		} else if (!strcmp(a, "--abort-on-cross")) {
			cfg.crossed_policy = FH_BOOK_CROSSED_ABORT;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "fh-book: unknown option '%s'\n", a);
			usage(stderr);
			return 2;
		} else if (!file) {
			file = a;
		} else {
			fprintf(stderr, "fh-book: more than one FILE\n");
			return 2;
		}
	}
	if (!file) {
		usage(stderr);
		return 2;
	}
	if (depth == 0) {
		fprintf(stderr, "fh-book: --depth must be >= 1\n");
		return 2;
	}
	int rc = fh_book_create(&cfg, &r.b, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "fh-book: %s\n", err);
		return 1;
	}

	struct fh_itch_file_ops ops = { .msg = on_msg, .events = on_events, .status = on_status };
	static struct fh_itch_file_stats fst;
	rc = fh_itch_file_replay(file, NULL, &ops, &r, &fst);
	if (rc < 0) {
		fprintf(stderr, "fh-book: %s: %s\n", file, strerror(-rc));
		fh_book_destroy(r.b);
		return 1;
	}

	static struct fh_book_level_view lv[1 << 16];
	int status = r.aborted ? 3 : 0;
	if (symbol) {
		uint32_t found = UINT32_MAX;
		char name[20];
		for (uint32_t id = 0; id < fh_book_max_instruments(r.b); id++) {
			name_of(r.b, id, name, sizeof(name));
			if (!strcmp(name, symbol)) {
				found = id;
				break;
			}
		}
		if (found == UINT32_MAX) {
			fprintf(stderr, "fh-book: symbol %s not seen%s\n", symbol,
				r.at ? " up to that sequence" : "");
			status = 1;
		} else {
			print_book(r.b, found, symbol, depth, lv, FH_ARRAY_SIZE(lv));
		}
	} else {
		uint32_t max = fh_book_max_instruments(r.b), n = 0;
		struct named *list = calloc(max, sizeof(*list));
		if (!list) {
			fprintf(stderr, "fh-book: out of memory\n");
			return 1;
		}
		for (uint32_t id = 0; id < max; id++) {
			if (!fh_book_level_count(r.b, id, FH_SIDE_BID) &&
			    !fh_book_level_count(r.b, id, FH_SIDE_ASK))
				continue;
			list[n].id = id;
			name_of(r.b, id, list[n].sym, sizeof(list[n].sym));
			n++;
		}
		qsort(list, n, sizeof(*list), cmp_named);
		for (uint32_t i = 0; i < n; i++)
			print_book(r.b, list[i].id, list[i].sym, depth, lv, FH_ARRAY_SIZE(lv));
		free(list);
	}
	fflush(stdout);

	const struct fh_book_stats *st = fh_book_stats(r.b);
	uint32_t stale = 0, crossed = 0, locked = 0;
	for (uint32_t id = 0; id < fh_book_max_instruments(r.b); id++) {
		uint8_t f = fh_book_flags(r.b, id);
		if (!fh_book_level_count(r.b, id, FH_SIDE_BID) &&
		    !fh_book_level_count(r.b, id, FH_SIDE_ASK) && !(f & ~FH_BOOK_F_STALE))
			continue;
		stale += !!(f & FH_BOOK_F_STALE);
		crossed += !!(f & FH_BOOK_F_CROSSED);
		locked += !!(f & FH_BOOK_F_LOCKED);
	}
	fprintf(stderr,
		"fh-book: %" PRIu64 " messages (last seq %" PRIu64 "), %" PRIu64 " rejected; "
		"adds %" PRIu64 " execs %" PRIu64 " cancels %" PRIu64 " deletes %" PRIu64
		" replaces %" PRIu64 "\n",
		r.messages, r.last_seq, fh_itch_file_rejects(&fst), st->adds, st->execs,
		st->cancels, st->deletes, st->replaces);
	fprintf(stderr,
		"fh-book: orphans %" PRIu64 " (exec %" PRIu64 " cancel %" PRIu64 " delete %" PRIu64
		" replace %" PRIu64 ")\n",
		fh_book_orphans(r.b), st->orphan_exec, st->orphan_cancel, st->orphan_delete,
		st->orphan_replace);
	fprintf(stderr,
		"fh-book: integrity warnings %" PRIu64 " (over-exec %" PRIu64 " over-cancel %" PRIu64
		" duplicate-add %" PRIu64 " orders-full %" PRIu64 " levels-full %" PRIu64
		"), bad events %" PRIu64 ", bad instruments %" PRIu64 "\n",
		fh_book_integrity_warnings(r.b), st->over_exec, st->over_cancel, st->dup_add,
		st->orders_full, st->levels_full, st->bad_event, st->bad_instrument);
	fprintf(stderr,
		"fh-book: crossed %" PRIu64 " locked %" PRIu64 " times; now crossed %u locked %u "
		"stale %u books; gaps %" PRIu64 "%s; live orders %" PRIu64 " (peak %" PRIu64
		"), levels %" PRIu64 " (peak %" PRIu64 ")\n",
		st->crossed, st->locked, crossed, locked, stale, st->gaps,
		fh_book_is_stale(r.b, 0) ? " (source stale)" : "", st->live_orders,
		st->peak_orders, st->live_levels, st->peak_levels);
	fh_book_destroy(r.b);
	return status;
}
