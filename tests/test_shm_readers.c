/* SPDX-License-Identifier: MIT */
/* test_shm_readers.c: reader slots of the shm ring (live readers, lag, laps and lost events seen by the writer, dead readers reclaimed) and the header's book depth. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fh_shm.h"
#include "fh_sub.h"
#include "fh_test.h"

static char name[64];

static struct fh_shm *mkring(uint64_t cap)
{
	struct fh_shm_cfg c = { .name = name, .capacity = cap };
	return fh_shm_create(&c);
}

static void write_n(struct fh_shm *w, uint64_t from, uint64_t n)
{
	struct fh_event ev;
	for (uint64_t i = 0; i < n; i++) {
		fh_event_init(&ev, FH_EV_TRADE);
		ev.source_id = 1;
		ev.seq = from + i;
		fh_shm_write_burst(w, &ev, 1, fh_rdtsc());
	}
	fh_shm_commit(w);
}

/* Polls until the ring is empty; returns events read, counts laps. */
static uint64_t drain(struct fh_sub *s, uint64_t *laps)
{
	struct fh_sub_msg m;
	uint64_t n = 0;
	int st;
	while ((st = fh_sub_poll(s, &m)) != FH_SUB_EMPTY) {
		if (st == FH_SUB_EVENT)
			n++;
		else if (st == FH_SUB_LAPPED && laps)
			(*laps)++;
		else if (st != FH_SUB_LAPPED)
			break;
	}
	return n;
}

static void test_live_readers_and_lag(void)
{
	struct fh_shm *w = mkring(1024);
	struct fh_sub_opts o = { .start = FH_SUB_START_OLDEST };
	struct fh_shm_readers r;

	FH_CHECK(w != NULL);
	if (!w)
		return;
	fh_shm_readers(w, &r);
	FH_CHECK_EQ_U(r.n, 0);
	struct fh_sub *a = fh_sub_open(name, &o), *b = fh_sub_open(name, &o);
	FH_CHECK(a && b);
	if (!a || !b)
		goto out;
	FH_CHECK(fh_sub_reader_slot(a) != NULL && fh_sub_reader_slot(b) != NULL);
	FH_CHECK(fh_sub_reader_slot(a) != fh_sub_reader_slot(b));
	FH_CHECK_EQ_U(fh_sub_reader_slot(a)->pid, (uint64_t)getpid());
	write_n(w, 1, 100);
	FH_CHECK_EQ_U(drain(a, NULL), 100);
	fh_shm_readers(w, &r);
	FH_CHECK_EQ_U(r.n, 2);
	FH_CHECK_EQ_U(r.max_lag, 100); /* b has not read anything */
	FH_CHECK_EQ_U(r.lapped_now, 0);
	FH_CHECK_EQ_U(fh_sub_reader_slot(a)->pos, 100); /* a ran dry: its slot says where it is */
	FH_CHECK_EQ_U(fh_sub_reader_slot(a)->events, 100);
	FH_CHECK_EQ_U(drain(b, NULL), 100);
	fh_shm_readers(w, &r);
	FH_CHECK_EQ_U(r.max_lag, 0);
	/* a busy reader publishes every 1024 events without running dry */
	write_n(w, 101, 900);
	struct fh_sub_msg m;
	for (int i = 0; i < 500; i++)
		FH_CHECK_EQ_I(fh_sub_poll(a, &m), FH_SUB_EVENT);
	FH_CHECK_EQ_U(fh_sub_reader_slot(a)->pos, 100); /* 500 events: not yet */
	fh_sub_close(b);
	fh_shm_readers(w, &r);
	FH_CHECK_EQ_U(r.n, 1);
	FH_CHECK_EQ_U(r.reclaimed, 1);
	FH_CHECK_EQ_U(r.max_lag, 900); /* a's slot still says 100 */
out:
	fh_sub_close(a);
	fh_shm_destroy(w, true);
}

static void test_laps_survive_close(void)
{
	struct fh_shm *w = mkring(1024);
	struct fh_sub_opts o = { .start = FH_SUB_START_OLDEST };
	struct fh_shm_readers r;
	struct fh_sub_stats st;
	uint64_t laps = 0;

	FH_CHECK(w != NULL);
	if (!w)
		return;
	struct fh_sub *s = fh_sub_open(name, &o);
	FH_CHECK(s != NULL);
	if (!s)
		goto out;
	write_n(w, 1, 5000);
	uint64_t n = drain(s, &laps);
	fh_sub_get_stats(s, &st);
	FH_CHECK(laps >= 1);
	FH_CHECK_EQ_U(n + st.lost, 5000);
	fh_shm_readers(w, &r);
	FH_CHECK_EQ_U(r.n, 1);
	FH_CHECK_EQ_U(r.lapped_now, 1);
	FH_CHECK_EQ_U(r.lapped_total, st.lapped);
	FH_CHECK_EQ_U(r.lost_total, st.lost);
	fh_sub_close(s);
	fh_shm_readers(w, &r);
	FH_CHECK_EQ_U(r.n, 0);
	FH_CHECK_EQ_U(r.lapped_now, 0);
	FH_CHECK_EQ_U(r.lapped_total, st.lapped); /* counters never go down */
	FH_CHECK_EQ_U(r.lost_total, st.lost);
out:
	fh_shm_destroy(w, true);
}

static void test_dead_reader_reclaimed(void)
{
	struct fh_shm *w = mkring(1024);
	struct fh_shm_readers r;
	int go[2], res[2];

	FH_CHECK(w != NULL);
	if (!w || pipe(go) || pipe(res))
		return;
	write_n(w, 1, 10);
	pid_t pid = fork();
	if (pid == 0) {
		/* a reader that is lapped, then dies without closing */
		struct fh_sub_opts o = { .start = FH_SUB_START_OLDEST };
		struct fh_sub *s = fh_sub_open(name, &o);
		char c = s && fh_sub_reader_slot(s) ? 'y' : 'n';
		struct fh_sub_stats st = { 0 };
		uint64_t laps = 0;
		if (write(res[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		if (s) {
			drain(s, &laps);
			fh_sub_get_stats(s, &st);
		}
		if (write(res[1], &st, sizeof(st)) != (ssize_t)sizeof(st))
			_exit(1);
		kill(getpid(), SIGKILL);
		_exit(1);
	}
	char c = 0;
	FH_CHECK(read(res[0], &c, 1) == 1 && c == 'y');
	write_n(w, 11, 5000); /* laps the child */
	FH_CHECK(write(go[1], &c, 1) == 1);
	struct fh_sub_stats st = { 0 };
	FH_CHECK(read(res[0], &st, sizeof(st)) == (ssize_t)sizeof(st));
	int status;
	FH_CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status));
	FH_CHECK(st.lapped >= 1 && st.lost > 0);
	/* pid gone, but its slot was updated less than 2 s ago: still counted */
	fh_shm_readers(w, &r);
	FH_CHECK_EQ_U(r.n, 1);
	FH_CHECK_EQ_U(r.lapped_total, st.lapped);
	usleep((useconds_t)(FH_SUB_READER_QUIET_NS / 1000 + 200000));
	fh_shm_readers(w, &r);
	FH_CHECK_EQ_U(r.n, 0);
	FH_CHECK_EQ_U(r.reclaimed, 1);
	FH_CHECK_EQ_U(r.lapped_total, st.lapped); /* moved to the retired totals */
	FH_CHECK_EQ_U(r.lost_total, st.lost);
	close(go[0]);
	close(go[1]);
	close(res[0]);
	close(res[1]);
	fh_shm_destroy(w, true);
}

static void test_all_slots_taken(void)
{
	struct fh_shm *w = mkring(1024);
	struct fh_sub *s[FH_SHM_READER_SLOTS + 1];
	struct fh_shm_readers r;

	FH_CHECK(w != NULL);
	if (!w)
		return;
	for (unsigned i = 0; i <= FH_SHM_READER_SLOTS; i++)
		s[i] = fh_sub_open(name, NULL);
	for (unsigned i = 0; i < FH_SHM_READER_SLOTS; i++)
		FH_CHECK(s[i] && fh_sub_reader_slot(s[i]) != NULL);
	/* the 65th reader reads as well, it is just not counted */
	FH_CHECK(s[FH_SHM_READER_SLOTS] && fh_sub_reader_slot(s[FH_SHM_READER_SLOTS]) == NULL);
	write_n(w, 1, 3);
	struct fh_sub_opts o = { .start = FH_SUB_START_OLDEST };
	struct fh_sub *extra = fh_sub_open(name, &o);
	FH_CHECK(extra != NULL);
	if (extra) {
		FH_CHECK_EQ_U(drain(extra, NULL), 3);
		fh_sub_close(extra);
	}
	fh_shm_readers(w, &r);
	FH_CHECK_EQ_U(r.n, FH_SHM_READER_SLOTS);
	/* a slot freed by a closing reader is taken by the next one */
	fh_sub_close(s[0]);
	s[0] = fh_sub_open(name, NULL);
	FH_CHECK(s[0] && fh_sub_reader_slot(s[0]) != NULL);
	for (unsigned i = 0; i <= FH_SHM_READER_SLOTS; i++)
		fh_sub_close(s[i]);
	fh_shm_readers(w, &r);
	FH_CHECK_EQ_U(r.n, 0);
	fh_shm_destroy(w, true);
}

static void test_header_book_depth(void)
{
	struct fh_shm_cfg c = { .name = name, .capacity = 1024, .book_depth = 10 };
	struct fh_shm *w = fh_shm_create(&c);
	FH_CHECK(w != NULL);
	if (!w)
		return;
	struct fh_sub *s = fh_sub_open(name, NULL);
	FH_CHECK(s != NULL);
	if (s)
		FH_CHECK_EQ_U(fh_sub_header(s)->book_depth, 10);
	fh_sub_close(s);
	fh_shm_destroy(w, true);
}

static const struct fh_test_case cases[] = {
	FH_CASE(test_header_book_depth),
	FH_CASE(test_live_readers_and_lag),
	FH_CASE(test_laps_survive_close),
	FH_CASE(test_dead_reader_reclaimed),
	FH_CASE(test_all_slots_taken),
	{ 0 },
};

int main(int argc, char **argv)
{
	snprintf(name, sizeof(name), "fh-test-shmrd-%d", (int)getpid());
	return fh_test_main(argc, argv, cases);
}
