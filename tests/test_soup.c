/* SPDX-License-Identifier: MIT */
/* test_soup.c: SoupBinTCP/GLIMPSE snapshot client against fh_snapsrv and raw sockets over loopback; books after snapshot + live equal a full replay. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fh_book.h"
#include "fh_dlq.h"
#include "fh_itch.h"
#include "fh_sim.h"
#include "fh_snapsrv.h"
#include "fh_soup.h"
#include "fh_test.h"

#define T0 1000000000000ull /* fake monotonic clock start (ns) */
#define STEP 10000ull       /* 10 us of fake time per loop turn */
#define WALL_LIMIT_S 20.0   /* a loop that has not finished by then fails its case */
#define INSTR 256

static double wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- Books ---- */

struct sink {
	struct fh_itch_decoder d;
	struct fh_book *b;
	uint64_t msgs;
	uint64_t by_type[128];
	uint64_t rejects;
	unsigned skip_adds; /* drop this many 'A' messages (a deliberately broken snapshot) */
	uint64_t last_ref[INSTR]; /* snapshot order refs per stock: arrival order check */
	uint64_t prio_violations;
};

static struct fh_book *new_book(void)
{
	struct fh_book_config bc;
	struct fh_book *b = NULL;
	char err[256];

	fh_book_config_default(&bc);
	bc.max_orders = 1u << 17;
	bc.max_instruments = INSTR;
	bc.max_levels = 1u << 16;
	if (fh_book_create(&bc, &b, err, sizeof(err)) != 0) {
		fprintf(stderr, "book: %s\n", err);
		return NULL;
	}
	return b;
}

static void sink_init(struct sink *k, struct fh_book *b)
{
	memset(k, 0, sizeof(*k));
	fh_itch_decoder_init(&k->d, 1, 0, NULL);
	k->b = b;
}

static void sink_apply(struct sink *k, const uint8_t *m, size_t len, uint64_t seq)
{
	struct fh_event ev[FH_ITCH_MAX_EVENTS], out[FH_BOOK_MAX_OUT];
	int n = fh_itch_decode(&k->d, m, len, seq, 0, ev);

	k->msgs++;
	if (len && m[0] < 128)
		k->by_type[m[0]]++;
	if (n < 0) {
		k->rejects++;
		return;
	}
	for (int i = 0; k->b && i < n; i++)
		fh_book_apply(k->b, &ev[i], out);
}

static void on_snap_msg(void *arg, const uint8_t *m, size_t len)
{
	struct sink *k = arg;
	if (k->skip_adds && len && m[0] == 'A') {
		k->skip_adds--;
		return;
	}
	/*
	 * The simulator's order references increase with arrival (a replace
	 * gets a new, higher one), so time priority within a stock means
	 * strictly increasing references in the snapshot.
	 */
	if ((len == 36 && m[0] == 'A') || (len == 40 && m[0] == 'F')) {
		uint16_t loc = (uint16_t)(m[1] << 8 | m[2]);
		uint64_t ref = 0;
		for (int i = 11; i < 19; i++)
			ref = ref << 8 | m[i];
		if (loc < INSTR) {
			if (ref <= k->last_ref[loc])
				k->prio_violations++;
			k->last_ref[loc] = ref;
		}
	}
	sink_apply(k, m, len, 0);
}

/* Applies session messages from..end-1 (end 0: to the end of the session). */
static void replay_to(struct sink *k, const struct fh_sim_store *st, uint64_t from, uint64_t end)
{
	if (!end)
		end = fh_sim_store_first_seq(st) + fh_sim_store_count(st);
	for (uint64_t q = from; q < end; q++) {
		const uint8_t *m;
		size_t l;
		if (fh_sim_store_get(st, q, &m, &l) == 0)
			sink_apply(k, m, l, q);
	}
}

static void replay(struct sink *k, const struct fh_sim_store *st, uint64_t from)
{
	replay_to(k, st, from, 0);
}

/* Instruments whose books differ (checksum over every level, order and level counts, flags, names). */
static unsigned book_diffs(const struct fh_book *a, const struct fh_book *b, unsigned *nonempty)
{
	unsigned d = 0;
	*nonempty = 0;
	for (uint32_t i = 0; i < INSTR; i++) {
		if (fh_book_order_count(a, i))
			(*nonempty)++;
		if (fh_book_checksum(a, i, FH_BOOK_MAX_DEPTH) != fh_book_checksum(b, i, FH_BOOK_MAX_DEPTH) ||
		    fh_book_order_count(a, i) != fh_book_order_count(b, i) ||
		    fh_book_level_count(a, i, FH_SIDE_BID) != fh_book_level_count(b, i, FH_SIDE_BID) ||
		    fh_book_level_count(a, i, FH_SIDE_ASK) != fh_book_level_count(b, i, FH_SIDE_ASK) ||
		    fh_book_flags(a, i) != fh_book_flags(b, i) || strcmp(fh_book_symbol(a, i), fh_book_symbol(b, i)))
		{
			if (getenv("SOUP_DEBUG"))
				fprintf(stderr, "  instr %u: flags %x/%x orders %u/%u name '%s'/'%s'\n", i,
					fh_book_flags(a, i), fh_book_flags(b, i), fh_book_order_count(a, i),
					fh_book_order_count(b, i), fh_book_symbol(a, i), fh_book_symbol(b, i));
			d++;
		}
	}
	return d;
}

/* ---- Session fixtures ---- */

static struct fh_sim_store *make_store(uint64_t first_seq)
{
	struct fh_sim_cfg sc = fh_sim_cfg_default();
	sc.seed = 21;
	sc.messages = 30000;
	sc.symbols = 40;
	return fh_sim_store_create(&sc, first_seq);
}

static struct fh_snapsrv *make_srv(const struct fh_sim_store *st, uint64_t S,
				   void (*tweak)(struct fh_snapsrv_cfg *))
{
	struct fh_snapsrv_cfg cfg = { .store = st, .snapshot_seq = S };
	char err[256];
	if (tweak)
		tweak(&cfg);
	struct fh_snapsrv *s = fh_snapsrv_create(&cfg, err, sizeof(err));
	if (!s)
		fprintf(stderr, "snapsrv: %s\n", err);
	return s;
}

static struct fh_soup *make_client(uint16_t port, void (*tweak)(struct fh_soup_cfg *))
{
	struct fh_soup_cfg cfg;
	char err[256];
	fh_soup_cfg_default(&cfg);
	cfg.host = "127.0.0.1";
	cfg.port = port;
	if (tweak)
		tweak(&cfg);
	struct fh_soup *c = fh_soup_create(&cfg, err, sizeof(err));
	if (!c)
		fprintf(stderr, "soup: %s\n", err);
	return c;
}

static bool finished(const struct fh_soup *c)
{
	return fh_soup_state(c) == FH_SOUP_DONE || fh_soup_state(c) == FH_SOUP_FAILED;
}

/* Polls server (may be NULL) and clients until every client is DONE or FAILED. */
static bool run_clients(struct fh_snapsrv *srv, struct fh_soup **c, struct sink **k, unsigned n,
			uint64_t *now)
{
	double t0 = wall();
	for (;;) {
		unsigned work = 0, done = 0;
		if (srv)
			work += fh_snapsrv_poll(srv, *now);
		for (unsigned i = 0; i < n; i++) {
			work += fh_soup_poll(c[i], *now, k ? on_snap_msg : NULL, k ? k[i] : NULL);
			done += finished(c[i]);
		}
		if (done == n)
			return true;
		if (wall() - t0 > WALL_LIMIT_S)
			return false;
		*now += STEP;
		if (!work)
			usleep(50);
	}
}

/* ---- Pure helpers ---- */

static void test_numbers_and_frames(void)
{
	uint8_t f[20];
	uint64_t v;

	FH_CHECK_EQ_I(fh_soup_put_num(f, 20, 12345), 0);
	FH_CHECK(memcmp(f, "               12345", 20) == 0);
	FH_CHECK_EQ_I(fh_soup_parse_num(f, 20, &v), 0);
	FH_CHECK_EQ_U(v, 12345);
	FH_CHECK_EQ_I(fh_soup_put_num(f, 20, UINT64_MAX), 0);
	FH_CHECK_EQ_I(fh_soup_parse_num(f, 20, &v), 0);
	FH_CHECK_EQ_U(v, UINT64_MAX);
	FH_CHECK_EQ_I(fh_soup_put_num(f, 3, 1234), -ERANGE);
	FH_CHECK_EQ_I(fh_soup_parse_num((const uint8_t *)"42      ", 8, &v), 0); /* left-justified too */
	FH_CHECK_EQ_U(v, 42);
	FH_CHECK_EQ_I(fh_soup_parse_num((const uint8_t *)"        ", 8, &v), -EINVAL);
	FH_CHECK_EQ_I(fh_soup_parse_num((const uint8_t *)"  4 2   ", 8, &v), -EINVAL);
	FH_CHECK_EQ_I(fh_soup_parse_num((const uint8_t *)"  -1    ", 8, &v), -EINVAL);
	FH_CHECK_EQ_I(fh_soup_parse_num((const uint8_t *)"99999999999999999999", 20, &v), -EINVAL);

	struct fh_soup_frame fr;
	const uint8_t hb[] = { 0, 1, 'H', 0, 5, 'S', 'a', 'b' };
	FH_CHECK_EQ_I(fh_soup_frame_parse(hb, 1, 100, &fr), 0);
	FH_CHECK_EQ_I(fh_soup_frame_parse(hb, sizeof(hb), 100, &fr), 3);
	FH_CHECK_EQ_U(fr.type, 'H');
	FH_CHECK_EQ_U(fr.payload_len, 0);
	FH_CHECK_EQ_I(fh_soup_frame_parse(hb + 3, 5, 100, &fr), 0); /* 'S' frame wants 7 bytes */
	const uint8_t zero[] = { 0, 0, 'S' }, big[] = { 0xff, 0xff, 'S' };
	FH_CHECK_EQ_I(fh_soup_frame_parse(zero, 3, 100, &fr), -FH_SOUP_REJ_ZERO_LENGTH);
	FH_CHECK_EQ_I(fh_soup_frame_parse(big, 3, 100, &fr), -FH_SOUP_REJ_TOO_LONG);
	FH_CHECK_EQ_I(fh_soup_frame_parse(big, 3, FH_SOUP_MAX_FRAME, &fr), 0);
}

/* ---- Snapshot + live == full replay ---- */

/*
 * Snapshot at S into b, compared with `at` (a replay of first..S-1, may be
 * NULL); then the live messages S.. and b compared with `full`. skip_adds
 * > 0 breaks the snapshot on purpose: the books must then differ.
 */
static void check_snapshot_at(const struct fh_sim_store *st, struct fh_book *full, uint64_t S,
			      bool check_at, unsigned skip_adds)
{
	struct fh_snapsrv *srv = make_srv(st, S, NULL);
	/* Fresh books each time (fh_book_reset keeps instrument names, which are compared). */
	struct fh_book *b = new_book(), *at = check_at ? new_book() : NULL;
	struct sink k;
	uint64_t now = T0;

	FH_CHECK(srv && b && (at || !check_at));
	if (!srv || !b || (check_at && !at))
		goto out_books;
	sink_init(&k, b);
	k.skip_adds = skip_adds;
	struct fh_soup *c = make_client(fh_snapsrv_port(srv), NULL);
	struct sink *kp = &k;
	FH_CHECK(c && run_clients(srv, &c, &kp, 1, &now));
	FH_CHECK_EQ_I(fh_soup_state(c), FH_SOUP_DONE);
	FH_CHECK_EQ_U(fh_soup_next_seq(c), S);

	struct fh_snapsrv_info info;
	struct fh_soup_stats cs;
	fh_snapsrv_info(srv, &info);
	fh_soup_stats(c, &cs);
	FH_CHECK_EQ_U(info.snapshot_seq, S);
	FH_CHECK_EQ_U(info.unknown_refs, 0);
	FH_CHECK_EQ_U(cs.seq_msgs + 1, info.messages); /* every message but 'G' handed over */
	FH_CHECK_EQ_U(k.by_type['A'] + k.by_type['F'] + skip_adds, info.orders);
	if (info.orders > 100)
		FH_CHECK(k.by_type['F'] > 0 && k.by_type['A'] > 0); /* attribution kept */
	FH_CHECK_EQ_U(k.prio_violations, 0);
	FH_CHECK_EQ_U(k.rejects, 0);
	unsigned nonempty, d;
	if (at) {
		struct sink ka;
		sink_init(&ka, at);
		replay_to(&ka, st, fh_sim_store_first_seq(st), S);
		d = book_diffs(at, b, &nonempty);
		if (skip_adds)
			FH_CHECK(d > 0);
		else
			FH_CHECK_EQ_U(d, 0);
	}
	FH_CHECK_EQ_U(cs.logins_accepted, 1);
	FH_CHECK_EQ_U(cs.accepted_seq, 1);
	FH_CHECK_EQ_U(cs.snapshots, 1);

	replay(&k, st, fh_soup_next_seq(c));
	d = book_diffs(full, b, &nonempty);
	if (skip_adds && !at)
		FH_CHECK(d > 0);
	else if (!skip_adds)
		FH_CHECK_EQ_U(d, 0);
	FH_CHECK(nonempty > 10);
	fprintf(stderr, "  S=%llu: %llu snapshot messages (%llu orders, %llu stocks), books differ: %u of %u\n",
		(unsigned long long)S, (unsigned long long)info.messages, (unsigned long long)info.orders,
		(unsigned long long)info.stocks, d, INSTR);
	/* The server saw a logout; give it the turn to notice. */
	for (int i = 0; i < 200 && fh_snapsrv_clients(srv); i++) {
		fh_snapsrv_poll(srv, now);
		usleep(100);
	}
	struct fh_snapsrv_stats ss;
	fh_snapsrv_stats(srv, &ss);
	FH_CHECK_EQ_U(ss.logins_accepted, 1);
	FH_CHECK_EQ_U(ss.logouts, 1);
	fh_soup_destroy(c);
out_books:
	fh_snapsrv_destroy(srv);
	fh_book_destroy(at);
	fh_book_destroy(b);
}

static void test_books_identical(void)
{
	struct fh_sim_store *st = make_store(1);
	struct fh_book *full = new_book();
	struct sink k;

	FH_CHECK(st && full);
	if (!st || !full)
		goto out;
	sink_init(&k, full);
	replay(&k, st, 1);
	FH_CHECK_EQ_U(k.rejects, 0);
	uint64_t end = 1 + fh_sim_store_count(st);
	const uint64_t seqs[] = { 1, 2, 777, 12345, end / 2, end - 1, end };
	for (unsigned i = 0; i < FH_ARRAY_SIZE(seqs); i++)
		check_snapshot_at(st, full, seqs[i], true, 0);
	/* A snapshot missing one order differs (the comparison can fail): mid-day and at the end. */
	check_snapshot_at(st, full, end / 2, true, 1);
	check_snapshot_at(st, full, end, false, 1);
out:
	fh_book_destroy(full);
	fh_sim_store_destroy(st);
}

/* A session that does not start at 1 (a MoldUDP64 stream joined mid-day, first_seq 1001). */
static void test_first_seq_offset(void)
{
	struct fh_sim_store *st = make_store(1001);
	struct fh_book *full = new_book();
	struct sink k;

	FH_CHECK(st && full);
	if (!st || !full)
		goto out;
	sink_init(&k, full);
	replay(&k, st, 1001);
	check_snapshot_at(st, full, 1001 + 20000, true, 0);
	check_snapshot_at(st, full, 1001, true, 0);
	/* outside the session */
	char err[256];
	struct fh_snapsrv_cfg cfg = { .store = st, .snapshot_seq = 1000 };
	FH_CHECK(fh_snapsrv_create(&cfg, err, sizeof(err)) == NULL);
	cfg.snapshot_seq = 1001 + fh_sim_store_count(st) + 1;
	FH_CHECK(fh_snapsrv_create(&cfg, err, sizeof(err)) == NULL);
out:
	fh_book_destroy(full);
	fh_sim_store_destroy(st);
}

/* Three clients at once get the same snapshot. */
static void test_concurrent_clients(void)
{
	struct fh_sim_store *st = make_store(1);
	struct fh_snapsrv *srv = st ? make_srv(st, 15000, NULL) : NULL;
	struct fh_soup *c[3] = { 0 };
	uint64_t now = T0;

	FH_CHECK(srv != NULL);
	if (!srv)
		goto out;
	for (int i = 0; i < 3; i++)
		c[i] = make_client(fh_snapsrv_port(srv), NULL);
	FH_CHECK(c[0] && c[1] && c[2]);
	if (!c[0] || !c[1] || !c[2])
		goto out;
	FH_CHECK(run_clients(srv, c, NULL, 3, &now));
	struct fh_snapsrv_info info;
	fh_snapsrv_info(srv, &info);
	for (int i = 0; i < 3; i++) {
		struct fh_soup_stats cs;
		fh_soup_stats(c[i], &cs);
		FH_CHECK_EQ_I(fh_soup_state(c[i]), FH_SOUP_DONE);
		FH_CHECK_EQ_U(fh_soup_next_seq(c[i]), 15000);
		FH_CHECK_EQ_U(cs.seq_msgs + 1, info.messages);
	}
	struct fh_snapsrv_stats ss;
	fh_snapsrv_stats(srv, &ss);
	FH_CHECK_EQ_U(ss.connections, 3);
	FH_CHECK_EQ_U(ss.snapshots_sent, 3);
out:
	for (int i = 0; i < 3; i++)
		fh_soup_destroy(c[i]);
	fh_snapsrv_destroy(srv);
	fh_sim_store_destroy(st);
}

/* ---- Login ---- */

static void srv_auth(struct fh_snapsrv_cfg *cfg)
{
	snprintf(cfg->username, sizeof(cfg->username), "fhuser");
	snprintf(cfg->password, sizeof(cfg->password), "s3cret");
	snprintf(cfg->session, sizeof(cfg->session), "GLIMPSE01");
}
static void cli_good(struct fh_soup_cfg *c)
{
	snprintf(c->username, sizeof(c->username), "FHUSER"); /* user names are case-insensitive */
	snprintf(c->password, sizeof(c->password), "s3cret");
}
static void cli_bad_pass(struct fh_soup_cfg *c)
{
	snprintf(c->username, sizeof(c->username), "fhuser");
	snprintf(c->password, sizeof(c->password), "S3CRET");
}
static void cli_bad_session(struct fh_soup_cfg *c)
{
	cli_good(c);
	snprintf(c->session, sizeof(c->session), "OTHER");
}
static void cli_good_session(struct fh_soup_cfg *c)
{
	cli_good(c);
	snprintf(c->session, sizeof(c->session), "GLIMPSE01");
}
static void cli_resume(struct fh_soup_cfg *c)
{
	c->sequence = 101;
}

static void test_login(void)
{
	struct fh_sim_store *st = make_store(1);
	struct fh_snapsrv *srv = st ? make_srv(st, 5000, srv_auth) : NULL;
	uint64_t now = T0;

	FH_CHECK(srv != NULL);
	if (!srv)
		goto out;
	struct fh_snapsrv_info info;
	fh_snapsrv_info(srv, &info);
	struct {
		void (*tweak)(struct fh_soup_cfg *);
		enum fh_soup_state state;
		enum fh_soup_fail fail;
		uint8_t code;
	} cases[] = {
		{ cli_good, FH_SOUP_DONE, FH_SOUP_FAIL_NONE, 0 },
		{ cli_good_session, FH_SOUP_DONE, FH_SOUP_FAIL_NONE, 0 },
		{ cli_bad_pass, FH_SOUP_FAILED, FH_SOUP_FAIL_REJECTED_AUTH, 'A' },
		{ NULL, FH_SOUP_FAILED, FH_SOUP_FAIL_REJECTED_AUTH, 'A' },
		{ cli_bad_session, FH_SOUP_FAILED, FH_SOUP_FAIL_REJECTED_SESSION, 'S' },
	};
	for (unsigned i = 0; i < FH_ARRAY_SIZE(cases); i++) {
		struct fh_soup *c = make_client(fh_snapsrv_port(srv), cases[i].tweak);
		struct sink k;
		struct sink *kp = &k;
		sink_init(&k, NULL);
		FH_CHECK(c && run_clients(srv, &c, &kp, 1, &now));
		if (!c)
			continue;
		FH_CHECK_EQ_I(fh_soup_state(c), cases[i].state);
		FH_CHECK_EQ_I(fh_soup_fail(c), cases[i].fail);
		FH_CHECK_EQ_U(fh_soup_reject_code(c), cases[i].code);
		struct fh_soup_stats cs;
		fh_soup_stats(c, &cs);
		if (cases[i].state == FH_SOUP_DONE) {
			FH_CHECK_STR(cs.accepted_session, "GLIMPSE01");
			FH_CHECK_EQ_U(cs.seq_msgs + 1, info.messages);
		} else {
			FH_CHECK_EQ_U(cs.logins_rejected, 1);
			FH_CHECK_EQ_U(cs.seq_msgs, 0);
		}
		fh_soup_destroy(c);
	}
	/* A requested sequence number resumes the stream there. */
	{
		struct fh_soup *c;
		struct fh_soup_cfg cfg;
		char err[128];
		fh_soup_cfg_default(&cfg);
		cli_good(&cfg);
		cli_resume(&cfg);
		cfg.host = "127.0.0.1";
		cfg.port = fh_snapsrv_port(srv);
		c = fh_soup_create(&cfg, err, sizeof(err));
		struct sink k;
		struct sink *kp = &k;
		sink_init(&k, NULL);
		FH_CHECK(c && run_clients(srv, &c, &kp, 1, &now));
		if (c) {
			struct fh_soup_stats cs;
			fh_soup_stats(c, &cs);
			FH_CHECK_EQ_I(fh_soup_state(c), FH_SOUP_DONE);
			FH_CHECK_EQ_U(cs.accepted_seq, 101);
			FH_CHECK_EQ_U(cs.seq_msgs + 1, info.messages - 100);
			FH_CHECK_EQ_U(fh_soup_next_seq(c), 5000);
		}
		fh_soup_destroy(c);
	}
	struct fh_snapsrv_stats ss;
	fh_snapsrv_stats(srv, &ss);
	FH_CHECK_EQ_U(ss.rejected_auth, 2);
	FH_CHECK_EQ_U(ss.rejected_session, 1);
	FH_CHECK_EQ_U(ss.logins_accepted, 3);
	/* Bad configurations */
	{
		struct fh_soup_cfg cfg;
		char err[128];
		fh_soup_cfg_default(&cfg);
		cfg.host = "not-an-ip";
		cfg.port = 1;
		FH_CHECK(fh_soup_create(&cfg, err, sizeof(err)) == NULL);
		cfg.host = "127.0.0.1";
		cfg.max_frame = 2;
		FH_CHECK(fh_soup_create(&cfg, err, sizeof(err)) == NULL);
	}
out:
	fh_snapsrv_destroy(srv);
	fh_sim_store_destroy(st);
}

/* ---- Server down, no server, restart ---- */

static void srv_slow(struct fh_snapsrv_cfg *cfg)
{
	cfg->send_budget = 200;
}

static void test_server_down(void)
{
	struct fh_sim_store *st = make_store(1);
	struct fh_snapsrv *srv = st ? make_srv(st, 3000, NULL) : NULL;
	uint64_t now = T0;

	FH_CHECK(srv != NULL);
	if (!srv)
		goto out;
	fh_snapsrv_set_down(srv, true);
	struct fh_soup *c = make_client(fh_snapsrv_port(srv), NULL);
	FH_CHECK(c && run_clients(srv, &c, NULL, 1, &now));
	if (!c)
		goto out;
	FH_CHECK_EQ_I(fh_soup_state(c), FH_SOUP_FAILED);
	FH_CHECK_EQ_I(fh_soup_fail(c), FH_SOUP_FAIL_CLOSED);
	FH_CHECK_EQ_U(fh_soup_next_seq(c), 0);
	struct fh_snapsrv_stats ss;
	fh_snapsrv_stats(srv, &ss);
	FH_CHECK_EQ_U(ss.refused, 1);
	FH_CHECK_EQ_U(ss.logins_accepted, 0);

	/* The outage ends: the same client retries from scratch. */
	fh_snapsrv_set_down(srv, false);
	fh_soup_restart(c);
	FH_CHECK_EQ_I(fh_soup_state(c), FH_SOUP_CONNECTING);
	FH_CHECK(run_clients(srv, &c, NULL, 1, &now));
	FH_CHECK_EQ_I(fh_soup_state(c), FH_SOUP_DONE);
	FH_CHECK_EQ_U(fh_soup_next_seq(c), 3000);
	struct fh_soup_stats cs;
	fh_soup_stats(c, &cs);
	FH_CHECK_EQ_U(cs.attempts, 2);
	FH_CHECK_EQ_U(cs.fails[FH_SOUP_FAIL_CLOSED], 1);
	fh_soup_destroy(c);

	/* Down in the middle of a snapshot (a slow server: 200 bytes per poll): the close comes before 'G'. */
	struct fh_snapsrv *slow = make_srv(st, 0, srv_slow);
	c = slow ? make_client(fh_snapsrv_port(slow), NULL) : NULL;
	FH_CHECK(c != NULL);
	if (c) {
		double t0 = wall();
		struct fh_soup_stats cs2 = { 0 };
		while (cs2.seq_msgs < 100 && !finished(c) && wall() - t0 < WALL_LIMIT_S) {
			fh_snapsrv_poll(slow, now);
			fh_soup_poll(c, now, NULL, NULL);
			fh_soup_stats(c, &cs2);
			now += STEP;
		}
		FH_CHECK_EQ_I(fh_soup_state(c), FH_SOUP_SNAPSHOT);
		fh_snapsrv_set_down(slow, true);
		FH_CHECK(run_clients(slow, &c, NULL, 1, &now));
		FH_CHECK_EQ_I(fh_soup_state(c), FH_SOUP_FAILED);
		FH_CHECK_EQ_I(fh_soup_fail(c), FH_SOUP_FAIL_CLOSED);
		fh_soup_stats(c, &cs2);
		FH_CHECK_EQ_U(cs2.snapshots, 0);
		fh_soup_destroy(c);
	}
	fh_snapsrv_destroy(slow);

	/* Nobody listening: connect fails; then the client moves to a backup server. */
	uint16_t port = fh_snapsrv_port(srv);
	fh_snapsrv_destroy(srv);
	srv = NULL;
	c = make_client(port, NULL);
	FH_CHECK(c && run_clients(NULL, &c, NULL, 1, &now));
	if (c) {
		FH_CHECK_EQ_I(fh_soup_state(c), FH_SOUP_FAILED);
		FH_CHECK_EQ_I(fh_soup_fail(c), FH_SOUP_FAIL_CONNECT);
		struct fh_snapsrv *backup = make_srv(st, 2500, NULL);
		FH_CHECK(backup != NULL);
		if (backup) {
			FH_CHECK_EQ_I(fh_soup_set_server(c, "127.0.0.1", fh_snapsrv_port(backup)), 0);
			FH_CHECK_EQ_I(fh_soup_set_server(c, "localhost", 1), -EINVAL);
			fh_soup_restart(c);
			FH_CHECK(run_clients(backup, &c, NULL, 1, &now));
			FH_CHECK_EQ_I(fh_soup_state(c), FH_SOUP_DONE);
			FH_CHECK_EQ_U(fh_soup_next_seq(c), 2500);
			struct fh_soup_stats bs;
			fh_soup_stats(c, &bs);
			FH_CHECK(bs.last_duration_ns > 0);
			fh_soup_restart(c);
			fh_soup_poll(c, now, NULL, NULL); /* attempt under way: no switching */
			FH_CHECK_EQ_I(fh_soup_set_server(c, "127.0.0.1", 1), -EBUSY);
			fh_snapsrv_destroy(backup);
		}
	}
	fh_soup_destroy(c);
out:
	fh_snapsrv_destroy(srv);
	fh_sim_store_destroy(st);
}

/* ---- A raw-socket server: heartbeats, silence, garbage ---- */

struct raw {
	int lfd, fd;
	uint16_t port;
};

static bool raw_listen(struct raw *r)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	r->fd = -1;
	r->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (r->lfd < 0 || bind(r->lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(r->lfd, 4) ||
	    getsockname(r->lfd, (struct sockaddr *)&sa, &sl))
		return false;
	r->port = ntohs(sa.sin_port);
	return true;
}

static void raw_close(struct raw *r)
{
	if (r->fd >= 0)
		close(r->fd);
	if (r->lfd >= 0)
		close(r->lfd);
	r->fd = r->lfd = -1;
}

/* Reads exactly n bytes from the raw peer while polling the client. */
static bool raw_read(struct raw *r, struct fh_soup *c, uint64_t *now, uint8_t *buf, size_t n)
{
	size_t got = 0;
	double t0 = wall();
	while (got < n && wall() - t0 < WALL_LIMIT_S) {
		fh_soup_poll(c, *now, NULL, NULL);
		ssize_t k = recv(r->fd, buf + got, n - got, MSG_DONTWAIT);
		if (k > 0)
			got += (size_t)k;
		else if (k == 0)
			return false;
		else
			usleep(50);
	}
	return got == n;
}

/* Accepts the client and reads its Login Request. */
static bool raw_accept_login(struct raw *r, struct fh_soup *c, uint64_t *now)
{
	double t0 = wall();
	uint8_t login[FH_SOUP_HDR_LEN + FH_SOUP_LOGIN_PAYLOAD];
	while (r->fd < 0 && wall() - t0 < WALL_LIMIT_S) {
		fh_soup_poll(c, *now, NULL, NULL);
		r->fd = accept(r->lfd, NULL, NULL);
		if (r->fd < 0)
			usleep(50);
	}
	if (r->fd < 0 || !raw_read(r, c, now, login, sizeof(login)))
		return false;
	return login[0] == 0 && login[1] == 1 + FH_SOUP_LOGIN_PAYLOAD && login[2] == 'L' &&
	       memcmp(login + 3 + 6 + 10 + 10, "                   1", 20) == 0;
}

static void raw_send(struct raw *r, const void *p, size_t n)
{
	if (send(r->fd, p, n, MSG_NOSIGNAL) != (ssize_t)n)
		fprintf(stderr, "raw send failed\n");
}

static void raw_send_frame(struct raw *r, uint8_t type, const void *payload, size_t plen)
{
	uint8_t f[256];
	fh_soup_put_header(f, type, (uint16_t)plen);
	if (plen)
		memcpy(f + 3, payload, plen);
	raw_send(r, f, 3 + plen);
}

static void raw_accept_ok(struct raw *r, uint64_t seq)
{
	uint8_t acc[FH_SOUP_ACCEPT_PAYLOAD];
	memcpy(acc, "   RAWSESS", 10);
	fh_soup_put_num(acc + 10, 20, seq);
	raw_send_frame(r, 'A', acc, sizeof(acc));
}

static const uint8_t sys_msg[12] = { 'S', 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 'O' };

/* Polls the client until finished or n turns (fake time advancing by step). */
static void pump(struct fh_soup *c, uint64_t *now, uint64_t step, unsigned n, struct sink *k)
{
	for (unsigned i = 0; i < n && !finished(c); i++) {
		if (!fh_soup_poll(c, *now, on_snap_msg, k))
			usleep(20);
		*now += step;
	}
}

static void test_heartbeats_and_silence(void)
{
	struct raw r;
	uint64_t now = T0;
	FH_CHECK(raw_listen(&r));
	struct fh_soup *c = make_client(r.port, NULL);
	FH_CHECK(c && raw_accept_login(&r, c, &now));
	if (!c)
		goto out;
	raw_accept_ok(&r, 1);
	struct sink k;
	sink_init(&k, NULL);
	double tw = wall();
	while (fh_soup_state(c) == FH_SOUP_LOGIN && wall() - tw < WALL_LIMIT_S)
		pump(c, &now, STEP, 10, &k);
	FH_CHECK_EQ_I(fh_soup_state(c), FH_SOUP_SNAPSHOT);
	/* 1.2 s of fake time later the client has sent a heartbeat: 'R' arrives. */
	now += 1200000000ull;
	fh_soup_poll(c, now, on_snap_msg, &k);
	uint8_t hb[3] = { 0 };
	FH_CHECK(raw_read(&r, c, &now, hb, 3));
	FH_CHECK(hb[0] == 0 && hb[1] == 1 && hb[2] == 'R');
	/* Server heartbeats and data keep the session alive well past the timeout. */
	for (int i = 0; i < 20; i++) {
		raw_send_frame(&r, 'H', NULL, 0);
		now += 1000000000ull;
		pump(c, &now, 1, 50, &k);
	}
	raw_send_frame(&r, 'S', sys_msg, sizeof(sys_msg));
	struct fh_soup_stats cs = { 0 };
	double t0 = wall();
	while (cs.seq_msgs < 1 && !finished(c) && wall() - t0 < WALL_LIMIT_S) {
		pump(c, &now, 1, 10, &k);
		fh_soup_stats(c, &cs);
	}
	/* TCP is in order: every heartbeat sent before the message has been read. */
	FH_CHECK_EQ_I(fh_soup_state(c), FH_SOUP_SNAPSHOT);
	FH_CHECK_EQ_U(cs.server_heartbeats, 20);
	FH_CHECK(cs.client_heartbeats >= 20); /* one per second of fake time at least */
	/* Then silence: 16 s without a byte fails the attempt. */
	now += 16000000000ull;
	fh_soup_poll(c, now, on_snap_msg, &k);
	FH_CHECK_EQ_I(fh_soup_state(c), FH_SOUP_FAILED);
	FH_CHECK_EQ_I(fh_soup_fail(c), FH_SOUP_FAIL_SILENT);
	fh_soup_stats(c, &cs);
	FH_CHECK_EQ_U(cs.server_heartbeats, 20);
	FH_CHECK_EQ_U(cs.seq_msgs, 1);
	fh_soup_destroy(c);

	/* A server that accepts the connection but never answers the login. */
	c = make_client(r.port, NULL);
	close(r.fd);
	r.fd = -1;
	FH_CHECK(c && raw_accept_login(&r, c, &now));
	if (c) {
		now += 6000000000ull;
		fh_soup_poll(c, now, NULL, NULL);
		FH_CHECK_EQ_I(fh_soup_state(c), FH_SOUP_FAILED);
		FH_CHECK_EQ_I(fh_soup_fail(c), FH_SOUP_FAIL_CONNECT_TIMEOUT);
	}
	fh_soup_destroy(c);
out:
	raw_close(&r);
}

/*
 * Garbage from a raw socket after the login: each script is a byte string
 * the server sends; the client must end in the expected state with the
 * expected reject counted and its dead-letter record written.
 */
struct script {
	const char *name;
	uint8_t bytes[96];
	size_t len;
	bool login_first;  /* send Login Accepted before the bytes */
	enum fh_soup_state state;
	enum fh_soup_fail fail;
	enum fh_soup_reject rej;
	uint64_t msgs;     /* sequenced messages handed over */
	uint64_t next_seq;
};

static void test_garbage_frames(void)
{
	static const struct script scripts[] = {
		{ "unknown type skipped, then G", { 0, 3, 'Q', 1, 2, 0, 13, 'S', 'S', 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 'O',
		    0, 22, 'S', 'G', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', '4', '2', ' ' },
		  44, true, FH_SOUP_DONE, FH_SOUP_FAIL_NONE, FH_SOUP_REJ_UNKNOWN_TYPE, 1, 42 },
		{ "debug and unsequenced ignored", { 0, 4, '+', 'h', 'i', '!', 0, 3, 'U', 9, 9,
		    0, 22, 'S', 'G', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '7' },
		  35, true, FH_SOUP_DONE, FH_SOUP_FAIL_NONE, FH_SOUP_REJ_NONE, 0, 7 },
		{ "zero length", { 0, 0, 'S' }, 3, true, FH_SOUP_FAILED, FH_SOUP_FAIL_PROTOCOL, FH_SOUP_REJ_ZERO_LENGTH, 0, 0 },
		{ "length past max_frame", { 0x40, 0x00, 'S', 1, 2, 3 }, 6, true, FH_SOUP_FAILED, FH_SOUP_FAIL_PROTOCOL,
		  FH_SOUP_REJ_TOO_LONG, 0, 0 },
		{ "G not a number", { 0, 22, 'S', 'G', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', '1' },
		  24, true, FH_SOUP_FAILED, FH_SOUP_FAIL_PROTOCOL, FH_SOUP_REJ_BAD_NUMBER, 0, 0 },
		{ "G too short", { 0, 5, 'S', 'G', '1', '2', '3' }, 7, true, FH_SOUP_FAILED, FH_SOUP_FAIL_PROTOCOL,
		  FH_SOUP_REJ_BAD_SIZE, 0, 0 },
		{ "empty sequenced message skipped, then Z", { 0, 1, 'S', 0, 1, 'Z' }, 6, true, FH_SOUP_FAILED,
		  FH_SOUP_FAIL_END_OF_SESSION, FH_SOUP_REJ_BAD_SIZE, 0, 0 },
		{ "data before login", { 0, 13, 'S', 'S', 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 'O' }, 15, false, FH_SOUP_FAILED,
		  FH_SOUP_FAIL_PROTOCOL, FH_SOUP_REJ_UNEXPECTED, 0, 0 },
		{ "login accepted too short", { 0, 5, 'A', ' ', ' ', ' ', '1' }, 7, false, FH_SOUP_FAILED,
		  FH_SOUP_FAIL_PROTOCOL, FH_SOUP_REJ_BAD_SIZE, 0, 0 },
		{ "login rejected, odd code", { 0, 2, 'J', 'X' }, 4, false, FH_SOUP_FAILED, FH_SOUP_FAIL_REJECTED_OTHER,
		  FH_SOUP_REJ_NONE, 0, 0 },
		{ "peer closes mid-frame", { 0, 13, 'S', 'S', 0, 0 }, 6, true, FH_SOUP_FAILED, FH_SOUP_FAIL_CLOSED,
		  FH_SOUP_REJ_NONE, 0, 0 },
	};
	struct fh_dlq dlq;
	FH_CHECK_EQ_I(fh_dlq_open(&dlq, NULL, 0), 0);

	for (unsigned i = 0; i < FH_ARRAY_SIZE(scripts); i++) {
		const struct script *s = &scripts[i];
		struct raw r;
		uint64_t now = T0;
		struct fh_soup_cfg cfg;
		char err[128];
		struct sink k;

		sink_init(&k, NULL);
		FH_CHECK(raw_listen(&r));
		fh_soup_cfg_default(&cfg);
		cfg.host = "127.0.0.1";
		cfg.port = r.port;
		cfg.dlq = &dlq;
		struct fh_soup *c = fh_soup_create(&cfg, err, sizeof(err));
		FH_CHECK(c && raw_accept_login(&r, c, &now));
		if (!c) {
			raw_close(&r);
			continue;
		}
		uint64_t dlq0 = dlq.records;
		if (s->login_first)
			raw_accept_ok(&r, 1);
		raw_send(&r, s->bytes, s->len);
		if (s->state == FH_SOUP_FAILED && s->fail == FH_SOUP_FAIL_CLOSED)
			shutdown(r.fd, SHUT_WR);
		double t0 = wall();
		while (!finished(c) && wall() - t0 < WALL_LIMIT_S)
			pump(c, &now, STEP, 100, &k);
		struct fh_soup_stats cs;
		fh_soup_stats(c, &cs);
		bool ok = fh_soup_state(c) == s->state && fh_soup_fail(c) == s->fail &&
			  cs.seq_msgs == s->msgs && fh_soup_next_seq(c) == s->next_seq &&
			  (s->rej == FH_SOUP_REJ_NONE || (cs.rejects[s->rej] == 1 && dlq.records == dlq0 + 1));
		if (!ok)
			fprintf(stderr, "  script '%s': state %s fail %s msgs %llu next %llu rej %llu dlq %llu\n",
				s->name, fh_soup_state_name(fh_soup_state(c)), fh_soup_fail_name(fh_soup_fail(c)),
				(unsigned long long)cs.seq_msgs, (unsigned long long)fh_soup_next_seq(c),
				(unsigned long long)cs.rejects[s->rej], (unsigned long long)(dlq.records - dlq0));
		FH_CHECK(ok);
		fh_soup_destroy(c);
		raw_close(&r);
	}
	fh_dlq_close(&dlq);
}

/* g_is_last: a venue whose 'G' names the last message included. */
static void test_g_is_last(void)
{
	struct fh_soup_cfg cfg;
	char err[128];
	uint8_t in[64];
	size_t n = 0;

	fh_soup_cfg_default(&cfg);
	cfg.g_is_last = true;
	struct fh_soup *c = fh_soup_create(&cfg, err, sizeof(err));
	FH_CHECK(c != NULL);
	if (!c)
		return;
	fh_soup_put_header(in, 'A', FH_SOUP_ACCEPT_PAYLOAD);
	memcpy(in + 3, "      SESS", 10);
	fh_soup_put_num(in + 13, 20, 1);
	n = 3 + FH_SOUP_ACCEPT_PAYLOAD;
	fh_soup_put_header(in + n, 'S', FH_SOUP_GLIMPSE_END_LEN);
	in[n + 3] = 'G';
	fh_soup_put_num(in + n + 4, 20, 99);
	n += 3 + FH_SOUP_GLIMPSE_END_LEN;
	fh_soup_input(c, in, n, T0, NULL, NULL);
	FH_CHECK_EQ_I(fh_soup_state(c), FH_SOUP_DONE);
	FH_CHECK_EQ_U(fh_soup_next_seq(c), 100);
	struct fh_soup_stats cs;
	fh_soup_stats(c, &cs);
	FH_CHECK_EQ_U(cs.g_seq, 99);
	FH_CHECK_STR(cs.accepted_session, "SESS");
	fh_soup_destroy(c);
}

static const struct fh_test_case cases[] = {
	FH_CASE(test_numbers_and_frames),
	FH_CASE(test_books_identical),
	FH_CASE(test_first_seq_offset),
	FH_CASE(test_concurrent_clients),
	FH_CASE(test_login),
	FH_CASE(test_server_down),
	FH_CASE(test_heartbeats_and_silence),
	FH_CASE(test_garbage_frames),
	FH_CASE(test_g_is_last),
	{ 0 },
};

int main(int argc, char **argv)
{
	return fh_test_main(argc, argv, cases);
}
