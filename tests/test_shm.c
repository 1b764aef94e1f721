/* SPDX-License-Identifier: MIT */
/* test_shm.c: shm broadcast ring and subscriber: layout, permissions, order, laps, torn reads, filters, requests, publisher. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fh_publisher.h"
#include "fh_shm.h"
#include "fh_sub.h"
#include "fh_test.h"

static char name[64];

static struct fh_shm *mkring(uint64_t cap)
{
	struct fh_shm_cfg c = { .name = name, .capacity = cap };
	return fh_shm_create(&c);
}

static void mk(struct fh_event *ev, uint64_t n)
{
	fh_event_init(ev, FH_EV_TRADE);
	ev->source_id = 1;
	ev->instrument = (uint32_t)(n % 7);
	ev->seq = n;
	ev->exch_ts_ns = n * 3;
	ev->recv_ts_ns = ~n;
	ev->u.trade.price = (int64_t)n * 11;
	ev->u.trade.qty = n ^ 0xabcdef;
	ev->u.trade.match_no = n + 17;
}

static bool good(const struct fh_event *ev)
{
	uint64_t n = ev->seq;
	return ev->type == FH_EV_TRADE && ev->exch_ts_ns == n * 3 && ev->recv_ts_ns == ~n &&
	       ev->u.trade.price == (int64_t)n * 11 && ev->u.trade.qty == (n ^ 0xabcdef) &&
	       ev->u.trade.match_no == n + 17 && ev->instrument == n % 7;
}

static void write_n(struct fh_shm *w, uint64_t from, uint64_t n)
{
	struct fh_event ev;
	for (uint64_t i = 0; i < n; i++) {
		mk(&ev, from + i);
		fh_shm_write_burst(w, &ev, 1, fh_rdtsc());
	}
	fh_shm_commit(w);
}

static void test_create_layout_perms(void)
{
	struct fh_shm *w = mkring(1024);
	char path[128];
	struct stat st;

	FH_CHECK(w != NULL);
	if (!w)
		return;
	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	FH_CHECK_EQ_I(stat(path, &st), 0);
	FH_CHECK_EQ_U(st.st_mode & 0777, 0640);
	FH_CHECK_EQ_U((uint64_t)st.st_size, FH_SHM_HDR_SIZE + 1024 * FH_SHM_SLOT_SIZE);
	strcat(path, ".req");
	FH_CHECK_EQ_I(stat(path, &st), 0);
	FH_CHECK_EQ_U(st.st_mode & 0777, 0660);

	struct fh_sub *s = fh_sub_open(name, NULL);
	FH_CHECK(s != NULL);
	if (s) {
		const volatile struct fh_shm_hdr *h = fh_sub_header(s);
		FH_CHECK_EQ_U(h->magic, FH_SHM_MAGIC);
		FH_CHECK_EQ_U(h->layout_version, FH_SHM_LAYOUT_VERSION);
		FH_CHECK_EQ_U(h->schema_version, FH_EVENT_SCHEMA_VERSION);
		FH_CHECK_EQ_U(h->capacity, 1024);
		FH_CHECK_EQ_U(h->writer_pid, (uint64_t)getpid());
		FH_CHECK_EQ_U(h->state, FH_SHM_STATE_RUNNING);
		fh_sub_close(s);
	}
	fh_shm_destroy(w, true);
	FH_CHECK(access(path, F_OK) != 0);
}

static void test_group(void)
{
	struct group *g = getgrgid(getegid());
	if (!g)
		FH_SKIP("no name for our group");
	struct fh_shm_cfg c = { .name = name, .capacity = 64, .group = g->gr_name, .mode = 0604 };
	struct fh_shm *w = fh_shm_create(&c);
	char path[128];
	struct stat st;
	FH_CHECK(w != NULL);
	if (!w)
		return;
	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	FH_CHECK_EQ_I(stat(path, &st), 0);
	FH_CHECK_EQ_U(st.st_gid, g->gr_gid);
	FH_CHECK_EQ_U(st.st_mode & 0777, 0604); /* world-readable may be configured, never writable */
	fh_shm_destroy(w, true);
}

static void test_bad_config(void)
{
	struct fh_shm_cfg c = { .name = name, .capacity = 1000 };
	errno = 0;
	FH_CHECK(fh_shm_create(&c) == NULL && errno == EINVAL);
	c.capacity = 1024;
	c.mode = 0666;
	errno = 0;
	FH_CHECK(fh_shm_create(&c) == NULL && errno == EPERM);
	c.mode = 0;
	c.req_mode = 0662;
	errno = 0;
	FH_CHECK(fh_shm_create(&c) == NULL && errno == EPERM);
	c.req_mode = 0;
	c.group = "no-such-group-fh";
	errno = 0;
	FH_CHECK(fh_shm_create(&c) == NULL && errno == ENOENT);
	c.group = NULL;
	c.name = "a/b";
	FH_CHECK(fh_shm_create(&c) == NULL);
}

static void test_not_a_ring(void)
{
	char path[128];
	snprintf(path, sizeof(path), "/tmp/%s-garbage", name);
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	char junk[8192] = { 1, 2, 3 };
	FH_CHECK(write(fd, junk, sizeof(junk)) == (ssize_t)sizeof(junk));
	close(fd);
	errno = 0;
	FH_CHECK(fh_sub_open(path, NULL) == NULL);
	FH_CHECK_EQ_I(errno, EPROTO);
	unlink(path);
	errno = 0;
	FH_CHECK(fh_sub_open("fh-test-no-such-ring", NULL) == NULL);
	FH_CHECK_EQ_I(errno, ENOENT);
}

static void test_order_and_starts(void)
{
	struct fh_shm *w = mkring(64);
	struct fh_sub_opts o = { .start = FH_SUB_START_OLDEST };
	struct fh_sub_msg m;
	if (!w)
		FH_SKIP("cannot create ring in /dev/shm");
	struct fh_sub *oldest = fh_sub_open(name, &o);
	write_n(w, 0, 10);
	o.start = FH_SUB_START_NEWEST;
	struct fh_sub *newest = fh_sub_open(name, &o);
	o.start = FH_SUB_START_NEXT;
	struct fh_sub *next = fh_sub_open(name, &o);
	for (uint64_t i = 0; i < 10; i++) {
		FH_CHECK_EQ_I(fh_sub_poll(oldest, &m), FH_SUB_EVENT);
		FH_CHECK_EQ_U(m.pos, i);
		FH_CHECK_EQ_U(m.ev.seq, i);
		FH_CHECK(good(&m.ev));
	}
	FH_CHECK_EQ_I(fh_sub_poll(oldest, &m), FH_SUB_EMPTY);
	FH_CHECK_EQ_I(fh_sub_poll(newest, &m), FH_SUB_EVENT);
	FH_CHECK_EQ_U(m.ev.seq, 9);
	FH_CHECK_EQ_I(fh_sub_poll(newest, &m), FH_SUB_EMPTY);
	FH_CHECK_EQ_I(fh_sub_poll(next, &m), FH_SUB_EMPTY);
	write_n(w, 10, 1);
	FH_CHECK_EQ_I(fh_sub_poll(next, &m), FH_SUB_EVENT);
	FH_CHECK_EQ_U(m.ev.seq, 10);
	FH_CHECK_EQ_I(fh_sub_poll(newest, &m), FH_SUB_EVENT);
	FH_CHECK_EQ_U(m.ev.seq, 10);
	fh_sub_close(oldest);
	fh_sub_close(newest);
	fh_sub_close(next);
	fh_shm_destroy(w, true);
}

static void test_lapped_exact_count(void)
{
	struct fh_shm *w = mkring(16);
	struct fh_sub_opts o = { .start = FH_SUB_START_OLDEST };
	struct fh_sub_msg m;
	if (!w)
		FH_SKIP("cannot create ring in /dev/shm");
	struct fh_sub *s = fh_sub_open(name, &o);
	write_n(w, 0, 5);
	FH_CHECK_EQ_I(fh_sub_poll(s, &m), FH_SUB_EVENT);
	FH_CHECK_EQ_U(m.ev.seq, 0);
	write_n(w, 5, 95); /* positions 0..99; only 84..99 are still in the ring */
	FH_CHECK_EQ_I(fh_sub_poll(s, &m), FH_SUB_LAPPED);
	/* resynchronised half a ring behind the newest: position 100 - 8 */
	FH_CHECK_EQ_U(m.lost, 92 - 1);
	uint64_t got = 1, lost = m.lost, next = 92;
	int st;
	while ((st = fh_sub_poll(s, &m)) == FH_SUB_EVENT) {
		FH_CHECK_EQ_U(m.pos, next);
		FH_CHECK_EQ_U(m.ev.seq, next);
		next++;
		got++;
	}
	FH_CHECK_EQ_I(st, FH_SUB_EMPTY);
	FH_CHECK_EQ_U(got + lost, 100);
	struct fh_sub_stats ss;
	fh_sub_get_stats(s, &ss);
	FH_CHECK_EQ_U(ss.lapped, 1);
	FH_CHECK_EQ_U(ss.lost, 91);
	fh_sub_close(s);
	fh_shm_destroy(w, true);
}

/* A writer thread laps a reader thread constantly: the reader must never
 * return a torn or out-of-order event, and read + lost must add up. */
struct race {
	struct fh_shm *w;
	uint64_t n;
	int done;
};

static void *race_writer(void *arg)
{
	struct race *r = arg;
	struct fh_event b[16];
	uint64_t i, t_end = fh_clock_ns(CLOCK_MONOTONIC) + 500000000ull;
	for (i = 0; i < r->n; i += 16) {
		for (unsigned k = 0; k < 16; k++)
			mk(&b[k], i + k);
		fh_shm_write_burst(r->w, b, 16, fh_rdtsc());
		fh_shm_commit(r->w);
		/* about as fast as the reader, so that it both keeps up and is
		 * lapped often, also when both threads share one CPU */
		uint64_t t = fh_rdtsc() + 400;
		while (fh_rdtsc() < t)
			;
		if ((i & 4095) == 0) {
			sched_yield();
			if (fh_clock_ns(CLOCK_MONOTONIC) > t_end) {
				i += 16;
				break;
			}
		}
	}
	r->n = i; /* bounded in time on a loaded machine */
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_no_torn_reads_under_laps(void)
{
	struct race r = { mkring(64), 1000000, 0 };
	struct fh_sub_opts o = { .start = FH_SUB_START_OLDEST };
	struct fh_sub_msg m;
	pthread_t t;
	uint64_t got = 0, lost = 0, torn = 0, order = 0, next = 0;
	if (!r.w)
		FH_SKIP("cannot create ring in /dev/shm");
	struct fh_sub *s = fh_sub_open(name, &o);
	pthread_create(&t, NULL, race_writer, &r);
	for (;;) {
		int st = fh_sub_poll(s, &m);
		if (st == FH_SUB_EVENT) {
			if (!good(&m.ev))
				torn++;
			if (m.pos != next || m.ev.seq != m.pos)
				order++;
			next = m.pos + 1;
			got++;
		} else if (st == FH_SUB_LAPPED) {
			lost += m.lost;
			next += m.lost;
		} else if (__atomic_load_n(&r.done, __ATOMIC_ACQUIRE) && fh_sub_position(s) == r.n) {
			break;
		}
	}
	pthread_join(t, NULL);
	FH_CHECK_EQ_U(torn, 0);
	FH_CHECK_EQ_U(order, 0);
	FH_CHECK_EQ_U(got + lost, r.n);
	FH_CHECK(got > 0);
	struct fh_sub_stats ss;
	fh_sub_get_stats(s, &ss);
	fprintf(stderr, "  read %" PRIu64 ", lost %" PRIu64 " in %" PRIu64 " laps, %" PRIu64
		" torn copies detected and discarded\n", got, lost, ss.lapped, ss.retries);
	fh_sub_close(s);
	fh_shm_destroy(r.w, true);
}

static void test_filters(void)
{
	struct fh_shm *w = mkring(64);
	struct fh_sub_opts o = { .start = FH_SUB_START_OLDEST };
	struct fh_sub_msg m;
	struct fh_event ev;
	if (!w)
		FH_SKIP("cannot create ring in /dev/shm");
	struct fh_sub *s = fh_sub_open(name, &o);
	struct fh_sub *t = fh_sub_open(name, &o);
	FH_CHECK_EQ_I(fh_sub_filter_instrument(s, 0xffff, 3), 0);
	fh_sub_filter_types(t, 1ull << FH_EV_HEARTBEAT);
	write_n(w, 0, 21); /* instruments 0..6 repeating */
	fh_event_init(&ev, FH_EV_HEARTBEAT);
	ev.instrument = FH_INSTRUMENT_NONE;
	fh_shm_write_burst(w, &ev, 1, 0);
	fh_shm_commit(w);
	unsigned n = 0;
	while (fh_sub_poll(s, &m) == FH_SUB_EVENT) {
		FH_CHECK(m.ev.instrument == 3 || m.ev.instrument == FH_INSTRUMENT_NONE);
		n++;
	}
	FH_CHECK_EQ_U(n, 4); /* seq 3, 10, 17 and the heartbeat */
	n = 0;
	while (fh_sub_poll(t, &m) == FH_SUB_EVENT) {
		FH_CHECK_EQ_U(m.ev.type, FH_EV_HEARTBEAT);
		n++;
	}
	FH_CHECK_EQ_U(n, 1);
	struct fh_sub_stats ss;
	fh_sub_get_stats(t, &ss);
	FH_CHECK_EQ_U(ss.filtered, 21);
	fh_sub_close(s);
	fh_sub_close(t);
	fh_shm_destroy(w, true);
}

static void test_writer_gone(void)
{
	struct fh_shm *w = mkring(64);
	struct fh_sub_opts o = { .check_every = 1, .writer_timeout_ms = 60000 };
	struct fh_sub_msg m;
	if (!w)
		FH_SKIP("cannot create ring in /dev/shm");
	write_n(w, 0, 3);
	struct fh_sub *s = fh_sub_open(name, &o);
	FH_CHECK_EQ_I(fh_sub_poll(s, &m), FH_SUB_EVENT);
	FH_CHECK_EQ_I(fh_sub_poll(s, &m), FH_SUB_EMPTY);
	fh_shm_destroy(w, true);
	/* the mapping survives the unlink; the reader learns the writer is gone */
	FH_CHECK_EQ_I(fh_sub_poll(s, &m), FH_SUB_WRITER_GONE);
	fh_sub_close(s);

	/* stale heartbeat */
	w = mkring(64);
	o.writer_timeout_ms = 1;
	s = fh_sub_open(name, &o);
	fh_shm_tick(w, fh_clock_ns(CLOCK_REALTIME) - 1000000000ull, NULL, NULL);
	FH_CHECK_EQ_I(fh_sub_poll(s, &m), FH_SUB_WRITER_GONE);
	fh_shm_tick(w, fh_clock_ns(CLOCK_REALTIME) + 1000000000ull, NULL, NULL);
	FH_CHECK_EQ_I(fh_sub_poll(s, &m), FH_SUB_EMPTY);
	fh_sub_close(s);
	fh_shm_destroy(w, true);
}

/* A writer that dies without closing: its pid is gone and its heartbeat stops. */
static void test_writer_crashed(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		struct fh_shm *w = mkring(64);
		if (w)
			write_n(w, 0, 1);
		_exit(w ? 0 : 1);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	FH_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	usleep(80000); /* heartbeat older than 50 ms */
	struct fh_sub_opts o = { .start = FH_SUB_START_OLDEST, .check_every = 1, .writer_timeout_ms = 60000 };
	struct fh_sub *s = fh_sub_open(name, &o);
	struct fh_sub_msg m;
	FH_CHECK(s != NULL);
	if (s) {
		FH_CHECK_EQ_I(fh_sub_poll(s, &m), FH_SUB_EVENT);
		FH_CHECK_EQ_U(fh_sub_header(s)->state, FH_SHM_STATE_RUNNING);
		FH_CHECK_EQ_I(fh_sub_poll(s, &m), FH_SUB_WRITER_GONE);
		fh_sub_close(s);
	}
	char path[128];
	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	unlink(path);
	strcat(path, ".req");
	unlink(path);
}

static void test_reader_cannot_write(void)
{
	struct fh_shm *w = mkring(64);
	if (!w)
		FH_SKIP("cannot create ring in /dev/shm");
	struct fh_sub *s = fh_sub_open(name, NULL);
	pid_t pid = fork();
	if (pid == 0) {
		/* a misbehaving reader: the mapping is PROT_READ, this must fault */
		volatile struct fh_shm_hdr *h = (volatile struct fh_shm_hdr *)(uintptr_t)fh_sub_header(s);
		h->head = 0xdeadbeef;
		_exit(0);
	}
	int status = 0;
	waitpid(pid, &status, 0);
#ifdef FH_SANITIZE
	/* ASan catches the fault itself and exits non-zero */
	FH_CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) ||
		 (WIFEXITED(status) && WEXITSTATUS(status) != 0));
#else
	FH_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
#endif
	FH_CHECK_EQ_U(fh_sub_header(s)->magic, FH_SHM_MAGIC);
	FH_CHECK_EQ_U(fh_sub_head(s), 0);
	fh_sub_close(s);
	fh_shm_destroy(w, true);
}

struct reqs {
	unsigned n;
	uint16_t src[80];
	uint32_t instr[80];
};

static void on_req(void *arg, uint16_t source, uint32_t instrument)
{
	struct reqs *r = arg;
	if (r->n < 80) {
		r->src[r->n] = source;
		r->instr[r->n] = instrument;
	}
	r->n++;
}

static void test_snapshot_requests(void)
{
	struct fh_shm *w = mkring(64);
	struct reqs r = { 0 };
	if (!w)
		FH_SKIP("cannot create ring in /dev/shm");
	struct fh_sub *s = fh_sub_open(name, NULL);
	FH_CHECK_EQ_I(fh_sub_request_snapshot(s, 2, 77), 0);
	FH_CHECK_EQ_I(fh_sub_request_snapshot(s, 0xffff, FH_INSTRUMENT_NONE), 0);
	FH_CHECK_EQ_U(fh_shm_tick(w, fh_clock_ns(CLOCK_REALTIME), on_req, &r), 2);
	FH_CHECK_EQ_U(r.n, 2);
	FH_CHECK((r.src[0] == 2 && r.instr[0] == 77) || (r.src[1] == 2 && r.instr[1] == 77));
	FH_CHECK_EQ_U(fh_shm_tick(w, fh_clock_ns(CLOCK_REALTIME), on_req, &r), 0);
	for (unsigned i = 0; i < FH_SHM_REQ_SLOTS; i++)
		FH_CHECK_EQ_I(fh_sub_request_snapshot(s, 1, i), 0);
	FH_CHECK_EQ_I(fh_sub_request_snapshot(s, 1, 999), -EAGAIN);
	FH_CHECK_EQ_U(fh_shm_tick(w, fh_clock_ns(CLOCK_REALTIME), on_req, &r), FH_SHM_REQ_SLOTS);
	FH_CHECK_EQ_I(fh_sub_request_snapshot(s, 1, 999), 0);
	fh_sub_close(s);
	fh_shm_destroy(w, true);
}

static void test_decode(void)
{
	struct fh_event ev, out;
	mk(&ev, 5);
	FH_CHECK_EQ_I(fh_sub_decode(&ev, sizeof(ev), &out), 0);
	FH_CHECK(good(&out));
	FH_CHECK_EQ_I(fh_sub_decode(&ev, 63, &out), -EINVAL);
	ev.version = 99;
	FH_CHECK_EQ_I(fh_sub_decode(&ev, sizeof(ev), &out), -EINVAL);
	ev.version = FH_EVENT_SCHEMA_VERSION;
	ev.type = FH_EV__COUNT;
	FH_CHECK_EQ_I(fh_sub_decode(&ev, sizeof(ev), &out), -EINVAL);
}

/* Publisher agent without Kafka: two rings interleave, each keeps its order;
 * heartbeats are published; snapshot requests reach the callback. */
static unsigned snap_calls;
static void on_snap(void *arg, uint16_t source, uint32_t instrument)
{
	(void)arg;
	(void)source;
	(void)instrument;
	snap_calls++;
}

static void test_publisher_shm(void)
{
	struct fh_spsc *rings[2];
	struct fh_shm_cfg sc = { .name = name, .capacity = 4096 };
	char err[256];
	for (int i = 0; i < 2; i++) {
		FH_CHECK_EQ_I(posix_memalign((void **)&rings[i], 64, fh_spsc_memsize(512)), 0);
		fh_spsc_init(rings[i], 512);
	}
	struct fh_pub_cfg pc = { .rings = rings, .n_rings = 2, .shm = &sc, .heartbeat_ms = 1,
				 .burst = 7, .snapshot_cb = on_snap, .kafka_cpu = -1 };
	struct fh_pub *p = fh_pub_create(&pc, err, sizeof(err));
	FH_CHECK(p != NULL);
	if (!p)
		FH_SKIP(err);
	struct fh_sub_opts o = { .start = FH_SUB_START_OLDEST };
	struct fh_sub *s = fh_sub_open(name, &o);
	struct fh_event ev;
	for (uint64_t i = 1; i <= 300; i++) {
		fh_event_init(&ev, FH_EV_TRADE);
		ev.source_id = (uint16_t)(1 + (i & 1));
		ev.seq = (i + 1) / 2;
		FH_CHECK_EQ_I(fh_spsc_enqueue(rings[i & 1], &ev), FH_PUB_OK);
	}
	FH_CHECK_EQ_I(fh_sub_request_snapshot(s, 0xffff, FH_INSTRUMENT_NONE), 0);
	uint64_t t_end = fh_clock_ns(CLOCK_MONOTONIC) + 20000000ull;
	while (fh_clock_ns(CLOCK_MONOTONIC) < t_end)
		fh_pub_do_work(p);
	struct fh_sub_msg m;
	uint64_t next[3] = { 1, 1, 1 }, n = 0, hb = 0, bad = 0;
	while (fh_sub_poll(s, &m) == FH_SUB_EVENT) {
		if (m.ev.type == FH_EV_HEARTBEAT) {
			hb++;
			continue;
		}
		if (m.ev.seq != next[m.ev.source_id]++)
			bad++;
		n++;
	}
	FH_CHECK_EQ_U(n, 300);
	FH_CHECK_EQ_U(bad, 0);
	FH_CHECK(hb >= 1);
	FH_CHECK_EQ_U(snap_calls, 1);
	struct fh_pub_stats st;
	fh_pub_get_stats(p, &st);
	FH_CHECK_EQ_U(st.events, 300);
	FH_CHECK_EQ_U(st.shm_written, 300 + st.heartbeats);
	FH_CHECK_EQ_U(st.snapshot_requests, 1);
	FH_CHECK_EQ_U(fh_pub_close(p, 100, true, &st), 0);
	FH_CHECK_EQ_I(fh_sub_poll(s, &m), FH_SUB_EVENT); /* the closing heartbeat */
	FH_CHECK_EQ_U(m.ev.type, FH_EV_HEARTBEAT);
	fh_sub_close(s);
	free(rings[0]);
	free(rings[1]);
}

static const struct fh_test_case cases[] = {
	FH_CASE(test_create_layout_perms),
	FH_CASE(test_group),
	FH_CASE(test_bad_config),
	FH_CASE(test_not_a_ring),
	FH_CASE(test_order_and_starts),
	FH_CASE(test_lapped_exact_count),
	FH_CASE(test_no_torn_reads_under_laps),
	FH_CASE(test_filters),
	FH_CASE(test_writer_gone),
	FH_CASE(test_writer_crashed),
	FH_CASE(test_reader_cannot_write),
	FH_CASE(test_snapshot_requests),
	FH_CASE(test_decode),
	FH_CASE(test_publisher_shm),
	{ 0 },
};

int main(int argc, char **argv)
{
	snprintf(name, sizeof(name), "fh-test-shm-%d", (int)getpid());
	fh_tsc_calibrate(5);
	return fh_test_main(argc, argv, cases);
}
