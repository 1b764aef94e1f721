/* SPDX-License-Identifier: MIT */
/* test_journal.c: capture journal: pcap round trip (our reader, tshark), rotation, O_DIRECT fallback, rings. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "fh_journal.h"
#include "fh_pcap.h"
#include "fh_pkt.h"
#include "fh_sim.h"
#include "fh_test.h"

#define EXT4_MAGIC_ 0xEF53
#define XFS_MAGIC_ 0x58465342

static char g_dir[256];

/* A fresh empty directory under base. */
static const char *mkdir_under(const char *base, const char *tag)
{
	snprintf(g_dir, sizeof(g_dir), "%s/fh-test-journal-%d-%s", base, (int)getpid(), tag);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
	if (system(cmd) != 0 || mkdir(g_dir, 0755) != 0)
		return NULL;
	return g_dir;
}

static void rm_dir(const char *d)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", d);
}

static struct fh_journal_cfg small_cfg(const char *dir)
{
	struct fh_journal_cfg c = { 0 };
	c.dir = dir;
	c.ring_slots = 256;
	c.snaplen = 1600;
	c.buf_bytes = 64 * 1024;
	c.rotate_bytes = 64ull << 20;
	return c;
}

/* Pushes, letting the journal core catch up whenever the ring is full. */
static void push_all(struct fh_journal *j, const void *f, uint32_t len, uint64_t ts)
{
	struct fh_journal_ring *r = fh_journal_ring(j, 0);
	while (fh_journal_push(r, f, len, ts) == -ENOBUFS)
		fh_journal_do_work(j, 0);
}

/* A synthetic frame: counter i at offset 14 (after a fake Ethernet header). */
static uint32_t make_frame(uint8_t *f, uint32_t i, uint32_t len)
{
	memset(f, 0, len);
	memset(f, 0xff, 6);
	f[12] = 0x08;
	memcpy(f + 14, &i, 4);
	for (uint32_t k = 18; k < len; k++)
		f[k] = (uint8_t)(i * 7 + k);
	return len;
}

static unsigned count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;
	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (strstr(e->d_name, ".pcap"))
			n++;
	closedir(d);
	return n;
}

/* Every record of the numbered files in order; checks counters and times continue. */
static uint64_t read_back(const char *dir, unsigned files, uint64_t ts0, uint64_t step,
			  uint32_t len, uint64_t max_file_bytes)
{
	uint64_t n = 0;
	uint8_t want[4096];

	for (unsigned k = 0; k < files; k++) {
		char path[512];
		struct fh_pcap p;
		struct fh_pcap_rec r;
		struct stat sb;
		snprintf(path, sizeof(path), "%s/fh-journal-%06u.pcap", dir, k);
		FH_CHECK_EQ_I(fh_pcap_open(&p, path, 0), 0);
		FH_CHECK(p.nsec);
		FH_CHECK_EQ_U(p.linktype, 1);
		if (max_file_bytes && stat(path, &sb) == 0)
			FH_CHECK((uint64_t)sb.st_size <= max_file_bytes);
		int rc;
		while ((rc = fh_pcap_next(&p, &r)) > 0) {
			make_frame(want, (uint32_t)n, len);
			if (r.ts_ns != ts0 + n * step || r.caplen != len || memcmp(r.data, want, len) != 0) {
				FH_CHECK(!"record differs");
				break;
			}
			n++;
		}
		FH_CHECK_EQ_I(rc, 0);
		fh_pcap_close(&p);
	}
	return n;
}

static bool fs_is(const char *dir, long magic)
{
	struct statfs s;
	return statfs(dir, &s) == 0 && (long)s.f_type == magic;
}

/* A simulated MoldUDP64 capture through the journal: same frames, same times. */
static void test_sim_round_trip(void)
{
	const char *dir = mkdir_under("/tmp", "sim");
	char src[512], err[256];
	struct fh_sim_cfg sc = fh_sim_cfg_default();
	struct fh_sim_pcap_cfg pc;
	struct fh_pcap in, out;
	struct fh_pcap_rec a, b;

	FH_CHECK(dir != NULL);
	if (!dir)
		return;
	snprintf(src, sizeof(src), "%s/src.pcap", dir);
	sc.seed = 5;
	sc.messages = 20000;
	sc.symbols = 50;
	fh_sim_pcap_cfg_default(&pc);
	pc.group_b = 0xe9360c70; /* 233.54.12.112: both lines */
	pc.heartbeat_ns = 0;
	FH_CHECK_EQ_I(fh_sim_write_pcap_path(&sc, &pc, src, NULL), 0);

	struct fh_journal_cfg c = small_cfg(dir);
	struct fh_journal *j = fh_journal_create(&c, err, sizeof(err));
	FH_CHECK(j != NULL);
	if (!j) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	struct fh_journal_stats st;
	fh_journal_stats(j, &st);
	if (fs_is(dir, EXT4_MAGIC_) || fs_is(dir, XFS_MAGIC_))
		FH_CHECK(st.direct); /* O_DIRECT where the file system has it */
	FH_CHECK_EQ_I(fh_pcap_open(&in, src, 0), 0);
	uint64_t n = 0;
	while (fh_pcap_next(&in, &a) > 0) {
		push_all(j, a.data, a.caplen, a.ts_ns);
		n++;
	}
	fh_pcap_close(&in);
	fh_journal_stats(j, &st);
	FH_CHECK_EQ_I(fh_journal_close(j), 0);
	FH_CHECK_EQ_U(st.pushed, n);
	FH_CHECK(n > 1000);

	/* frame by frame against the source */
	char jp[512];
	snprintf(jp, sizeof(jp), "%s/fh-journal-000000.pcap", dir);
	FH_CHECK_EQ_I(fh_pcap_open(&in, src, 0), 0);
	FH_CHECK_EQ_I(fh_pcap_open(&out, jp, 0), 0);
	uint64_t m = 0;
	int ra, rb;
	while ((ra = fh_pcap_next(&in, &a)) > 0 && (rb = fh_pcap_next(&out, &b)) > 0) {
		if (a.ts_ns != b.ts_ns || a.caplen != b.caplen || a.origlen != b.origlen ||
		    memcmp(a.data, b.data, a.caplen) != 0) {
			FH_CHECK(!"journal record differs from the source");
			break;
		}
		m++;
	}
	FH_CHECK_EQ_U(m, n);
	FH_CHECK_EQ_I(fh_pcap_next(&out, &b), 0); /* nothing after: exact length */
	fh_pcap_close(&in);
	fh_pcap_close(&out);

	/* tshark reads it: frame count and nanosecond times of the first and last frames */
	if (system("command -v tshark >/dev/null 2>&1") != 0) {
		rm_dir(dir);
		FH_SKIP("tshark missing (our reader checked)");
	}
	char cmd[1200], line[128], first[128] = "", last[128] = "";
	snprintf(cmd, sizeof(cmd), "tshark -r '%s' -T fields -e frame.time_epoch 2>/dev/null", jp);
	FILE *f = popen(cmd, "r");
	uint64_t t = 0;
	FH_CHECK(f != NULL);
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (!t)
			snprintf(first, sizeof(first), "%s", line);
		snprintf(last, sizeof(last), "%s", line);
		t++;
	}
	FH_CHECK(f && pclose(f) == 0);
	FH_CHECK_EQ_U(t, n);
	FH_CHECK_EQ_I(fh_pcap_open(&in, src, 0), 0);
	char want_first[64], want_last[64];
	fh_pcap_next(&in, &a);
	snprintf(want_first, sizeof(want_first), "%" PRIu64 ".%09" PRIu64, a.ts_ns / 1000000000u,
		 a.ts_ns % 1000000000u);
	while (fh_pcap_next(&in, &a) > 0)
		snprintf(want_last, sizeof(want_last), "%" PRIu64 ".%09" PRIu64, a.ts_ns / 1000000000u,
			 a.ts_ns % 1000000000u);
	fh_pcap_close(&in);
	FH_CHECK_STR(first, want_first);
	FH_CHECK_STR(last, want_last);
	rm_dir(dir);
}

/* Size rotation: every file within the cap, all records in order across them. */
static void test_rotate_size(void)
{
	const char *dir = mkdir_under("/tmp", "size");
	char err[256];
	uint8_t f[1000];

	FH_CHECK(dir != NULL);
	if (!dir)
		return;
	struct fh_journal_cfg c = small_cfg(dir);
	c.rotate_bytes = 128 * 1024;
	struct fh_journal *j = fh_journal_create(&c, err, sizeof(err));
	FH_CHECK(j != NULL);
	if (!j)
		return;
	const uint32_t n = 1000; /* ~1 MB: 8 or 9 files of 128 KiB */
	for (uint32_t i = 0; i < n; i++)
		push_all(j, f, make_frame(f, i, sizeof(f)), 1000000000ull + i * 1000ull);
	struct fh_journal_stats st;
	FH_CHECK_EQ_I(fh_journal_close(j), 0);
	unsigned files = count_files(dir);
	FH_CHECK(files >= 8);
	FH_CHECK_EQ_U(read_back(dir, files, 1000000000ull, 1000, sizeof(f), c.rotate_bytes), n);
	(void)st;
	rm_dir(dir);
}

/* Time rotation by receive timestamps: a new file each second of packets. */
static void test_rotate_time(void)
{
	const char *dir = mkdir_under("/tmp", "time");
	char err[256];
	uint8_t f[200];

	FH_CHECK(dir != NULL);
	if (!dir)
		return;
	struct fh_journal_cfg c = small_cfg(dir);
	c.rotate_ns = 1000000000ull;
	struct fh_journal *j = fh_journal_create(&c, err, sizeof(err));
	FH_CHECK(j != NULL);
	if (!j)
		return;
	/* 50 packets 100 ms apart from t = 5 s: 5 s of traffic -> 5 files of 10 */
	for (uint32_t i = 0; i < 50; i++)
		push_all(j, f, make_frame(f, i, sizeof(f)), 5000000000ull + i * 100000000ull);
	struct fh_journal_stats st;
	fh_journal_stats(j, &st);
	FH_CHECK_EQ_I(fh_journal_close(j), 0);
	FH_CHECK_EQ_U(count_files(dir), 5);
	FH_CHECK_EQ_U(read_back(dir, 5, 5000000000ull, 100000000ull, sizeof(f), 0), 50);
	rm_dir(dir);
}

/* True when the file system under dir takes O_DIRECT at open(). */
static bool probe_direct(const char *dir)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/probe", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_DIRECT, 0644);
	if (fd >= 0)
		close(fd);
	unlink(path);
	return fd >= 0;
}

/* One journal in dir: its O_DIRECT mode as probed, the same records either way. */
static void journal_in(const char *dir, bool want_direct, bool want_prealloc_fail)
{
	char err[256];
	uint8_t f[300];
	struct fh_journal_cfg c = small_cfg(dir);
	struct fh_journal *j = fh_journal_create(&c, err, sizeof(err));
	FH_CHECK(j != NULL);
	if (!j)
		return;
	struct fh_journal_stats st;
	fh_journal_stats(j, &st);
	FH_CHECK(st.direct == want_direct);
	FH_CHECK(st.direct_fallback == !want_direct);
	if (want_prealloc_fail)
		FH_CHECK_EQ_U(st.prealloc_failed, 1);
	for (uint32_t i = 0; i < 3000; i++)
		push_all(j, f, make_frame(f, i, sizeof(f)), 7000000000ull + i);
	FH_CHECK_EQ_I(fh_journal_close(j), 0);
	FH_CHECK_EQ_U(read_back(dir, 1, 7000000000ull, 1, sizeof(f), 0), 3000);
}

/* tmpfs takes O_DIRECT since Linux 6.6 and refused it before: either way the
 * journal detects it; ramfs refuses O_DIRECT (and fallocate): buffered
 * writes, the same file. */
static void test_direct_fallback(void)
{
	const char *dir = mkdir_under("/dev/shm", "tmpfs");
	char rd[300];

	FH_CHECK(dir != NULL);
	if (dir) {
		bool d = probe_direct(dir);
		fprintf(stderr, "  tmpfs here %s O_DIRECT\n", d ? "takes" : "refuses");
		journal_in(dir, d, false);
		rm_dir(dir);
	}
	dir = mkdir_under("/tmp", "ramfs");
	FH_CHECK(dir != NULL);
	if (!dir)
		return;
	snprintf(rd, sizeof(rd), "%s", dir);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "mount -t ramfs none '%s' 2>/dev/null", rd);
	if (geteuid() != 0 || system(cmd) != 0) {
		rm_dir(rd);
		FH_SKIP("cannot mount a ramfs (not root): the refusal path checked on tmpfs only");
	}
	FH_CHECK(!probe_direct(rd));
	journal_in(rd, false, true);
	snprintf(cmd, sizeof(cmd), "umount '%s'", rd);
	FH_CHECK(system(cmd) == 0);
	rm_dir(rd);
}

/* A full ring refuses (counted) and never blocks; what it accepted is written. */
static void test_ring_full(void)
{
	const char *dir = mkdir_under("/tmp", "full");
	char err[256];
	uint8_t f[100];

	FH_CHECK(dir != NULL);
	if (!dir)
		return;
	struct fh_journal_cfg c = small_cfg(dir);
	c.ring_slots = 8;
	struct fh_journal *j = fh_journal_create(&c, err, sizeof(err));
	FH_CHECK(j != NULL);
	if (!j)
		return;
	struct fh_journal_ring *r = fh_journal_ring(j, 0);
	FH_CHECK(fh_journal_ring(j, 1) == NULL);
	int ok = 0, full = 0;
	for (uint32_t i = 0; i < 10; i++) {
		int rc = fh_journal_push(r, f, make_frame(f, i, sizeof(f)), 1000 + i);
		ok += rc == 0;
		full += rc == -ENOBUFS;
	}
	FH_CHECK_EQ_I(ok, 8);
	FH_CHECK_EQ_I(full, 2);
	struct fh_journal_stats st;
	fh_journal_stats(j, &st);
	FH_CHECK_EQ_U(st.pushed, 8);
	FH_CHECK_EQ_U(st.dropped_full, 2);
	FH_CHECK_EQ_U(fh_journal_do_work(j, 0), 8);
	FH_CHECK_EQ_U(fh_journal_do_work(j, 0), 0);
	FH_CHECK_EQ_I(fh_journal_close(j), 0);
	FH_CHECK_EQ_U(read_back(dir, 1, 1000, 1, sizeof(f), 0), 8);
	rm_dir(dir);
}

/* Frames longer than the snaplen are cut; origlen keeps the wire length. */
static void test_snaplen(void)
{
	const char *dir = mkdir_under("/tmp", "snap");
	char err[256], path[512];
	static uint8_t f[3000];
	struct fh_pcap p;
	struct fh_pcap_rec r;

	FH_CHECK(dir != NULL);
	if (!dir)
		return;
	struct fh_journal_cfg c = small_cfg(dir);
	c.snaplen = 1500;
	struct fh_journal *j = fh_journal_create(&c, err, sizeof(err));
	FH_CHECK(j != NULL);
	if (!j)
		return;
	push_all(j, f, make_frame(f, 1, sizeof(f)), 42);
	FH_CHECK_EQ_I(fh_journal_close(j), 0);
	snprintf(path, sizeof(path), "%s/fh-journal-000000.pcap", dir);
	FH_CHECK_EQ_I(fh_pcap_open(&p, path, 0), 0);
	FH_CHECK_EQ_U(p.snaplen, 1500);
	FH_CHECK_EQ_I(fh_pcap_next(&p, &r), 1);
	FH_CHECK_EQ_U(r.caplen, 1500);
	FH_CHECK_EQ_U(r.origlen, 3000);
	FH_CHECK(memcmp(r.data, f, 1500) == 0);
	fh_pcap_close(&p);
	rm_dir(dir);
}

/* flush() without close: everything pushed is in the file (a zero record
 * header, the padding of the last block, ends it). */
static void test_flush(void)
{
	const char *dir = mkdir_under("/tmp", "flush");
	char err[256], path[512];
	uint8_t f[500];
	struct fh_pcap p;
	struct fh_pcap_rec r;

	FH_CHECK(dir != NULL);
	if (!dir)
		return;
	struct fh_journal_cfg c = small_cfg(dir);
	struct fh_journal *j = fh_journal_create(&c, err, sizeof(err));
	FH_CHECK(j != NULL);
	if (!j)
		return;
	for (uint32_t i = 0; i < 333; i++)
		push_all(j, f, make_frame(f, i, sizeof(f)), 100 + i);
	FH_CHECK_EQ_I(fh_journal_flush(j), 0);
	snprintf(path, sizeof(path), "%s/fh-journal-000000.pcap", dir);
	FH_CHECK_EQ_I(fh_pcap_open(&p, path, FH_PCAP_BUFFERED), 0);
	uint32_t n = 0;
	while (fh_pcap_next(&p, &r) > 0 && r.caplen) {
		FH_CHECK_EQ_U(r.ts_ns, 100 + n);
		n++;
	}
	fh_pcap_close(&p);
	FH_CHECK_EQ_U(n, 333);
	/* and it goes on: the rewritten block keeps them */
	for (uint32_t i = 333; i < 400; i++)
		push_all(j, f, make_frame(f, i, sizeof(f)), 100 + i);
	FH_CHECK_EQ_I(fh_journal_close(j), 0);
	FH_CHECK_EQ_U(read_back(dir, 1, 100, 1, sizeof(f), 0), 400);
	rm_dir(dir);
}

/* flush_ns: a journal core that only calls do_work() gets a partly filled
 * buffer onto the file once it is old enough; a child killed with SIGKILL
 * then leaves every record written before the bound in a readable file. */
static void test_timed_flush_kill(void)
{
	const char *dir = mkdir_under("/tmp", "kill");
	char path[512];
	int pfd[2];

	FH_CHECK(dir != NULL && pipe(pfd) == 0);
	if (!dir)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		char err[256];
		uint8_t f[400];
		struct fh_journal_cfg c = small_cfg(dir);
		c.flush_ns = 2000000; /* 2 ms */
		struct fh_journal *j = fh_journal_create(&c, err, sizeof(err));
		if (!j)
			_exit(1);
		for (uint32_t i = 0; i < 50; i++) /* 20 KB: far less than one 64 KiB buffer */
			push_all(j, f, make_frame(f, i, sizeof(f)), 900 + i);
		struct fh_journal_stats st;
		unsigned k = 0;
		do {
			fh_journal_do_work(j, 0);
			usleep(1000);
			fh_journal_stats(j, &st);
		} while ((st.timed_flushes == 0 || st.writes == 0) && ++k < 10000);
		if (k == 10000)
			_exit(1); /* never flushed: the parent's read sees no byte */
		char ok = 1;
		if (write(pfd[1], &ok, 1) != 1)
			_exit(1);
		for (;;)
			pause(); /* killed here, the journal never closed */
	}
	char ok = 0;
	FH_CHECK(read(pfd[0], &ok, 1) == 1 && ok == 1);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(pfd[0]);
	close(pfd[1]);
	snprintf(path, sizeof(path), "%s/fh-journal-000000.pcap", dir);
	struct fh_pcap p;
	struct fh_pcap_rec r;
	FH_CHECK_EQ_I(fh_pcap_open(&p, path, FH_PCAP_BUFFERED), 0);
	uint32_t n = 0;
	while (fh_pcap_next(&p, &r) > 0 && r.caplen) { /* the zero padding ends it */
		FH_CHECK_EQ_U(r.ts_ns, 900 + n);
		n++;
	}
	fh_pcap_close(&p);
	FH_CHECK_EQ_U(n, 50);
	rm_dir(dir);
}

/* Two producer threads and a journal thread: every record, in order per producer. */
struct prod {
	struct fh_journal_ring *r;
	uint32_t id, n;
	uint64_t refused;
};

static void *producer(void *arg)
{
	struct prod *p = arg;
	uint8_t f[128];
	for (uint32_t i = 0; i < p->n; i++) {
		make_frame(f, i, sizeof(f));
		f[0] = (uint8_t)p->id;
		while (fh_journal_push(p->r, f, sizeof(f), ((uint64_t)p->id << 40) + i) == -ENOBUFS)
			p->refused++;
	}
	return NULL;
}

static volatile int g_stop;
static void *journal_core(void *arg)
{
	struct fh_journal *j = arg;
	while (!__atomic_load_n(&g_stop, __ATOMIC_ACQUIRE))
		if (!fh_journal_do_work(j, 0))
			usleep(50);
	return NULL;
}

static void test_producers(void)
{
	const char *dir = mkdir_under("/tmp", "mt");
	char err[256], path[512];
	pthread_t t[3];
	struct fh_pcap p;
	struct fh_pcap_rec r;

	FH_CHECK(dir != NULL);
	if (!dir)
		return;
	struct fh_journal_cfg c = small_cfg(dir);
	c.producers = 2;
	c.ring_slots = 64;
	struct fh_journal *j = fh_journal_create(&c, err, sizeof(err));
	FH_CHECK(j != NULL);
	if (!j)
		return;
	struct prod pr[2] = { { fh_journal_ring(j, 0), 1, 20000, 0 }, { fh_journal_ring(j, 1), 2, 20000, 0 } };
	g_stop = 0;
	pthread_create(&t[2], NULL, journal_core, j);
	pthread_create(&t[0], NULL, producer, &pr[0]);
	pthread_create(&t[1], NULL, producer, &pr[1]);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	__atomic_store_n(&g_stop, 1, __ATOMIC_RELEASE);
	pthread_join(t[2], NULL);
	FH_CHECK_EQ_I(fh_journal_close(j), 0);
	snprintf(path, sizeof(path), "%s/fh-journal-000000.pcap", dir);
	FH_CHECK_EQ_I(fh_pcap_open(&p, path, 0), 0);
	uint64_t next[3] = { 0, 0, 0 }, bad = 0;
	while (fh_pcap_next(&p, &r) > 0) {
		uint32_t id = r.data[0], i;
		memcpy(&i, r.data + 14, 4);
		if (id < 1 || id > 2 || i != next[id] || r.ts_ns != ((uint64_t)id << 40) + i)
			bad++;
		else
			next[id]++;
	}
	fh_pcap_close(&p);
	FH_CHECK_EQ_U(bad, 0);
	FH_CHECK_EQ_U(next[1], 20000);
	FH_CHECK_EQ_U(next[2], 20000);
	rm_dir(dir);
}

/* Kernel-socket payloads journaled in synthetic frames parse back to the same datagram. */
static void test_push_udp(void)
{
	const char *dir = mkdir_under("/tmp", "udp");
	char err[256], path[512];
	uint8_t pl[300];
	struct fh_pcap p;
	struct fh_pcap_rec r;
	static const struct fh_pkt_filter any = { 0 };
	struct fh_pkt_udp u;

	FH_CHECK(dir != NULL);
	if (!dir)
		return;
	struct fh_journal_cfg c = small_cfg(dir);
	struct fh_journal *j = fh_journal_create(&c, err, sizeof(err));
	FH_CHECK(j != NULL);
	if (!j)
		return;
	for (unsigned i = 0; i < sizeof(pl); i++)
		pl[i] = (uint8_t)(i * 13);
	FH_CHECK_EQ_I(fh_journal_push_udp(fh_journal_ring(j, 0), 0x0a000001, 0xe9360c6f, 50000, 26477,
					  pl, sizeof(pl), 123456789012345ull), 0);
	FH_CHECK_EQ_I(fh_journal_push_udp(fh_journal_ring(j, 0), 0x0a000001, 0x7f000001, 50001, 9,
					  pl, 20, 123456789012346ull), 0);
	FH_CHECK_EQ_I(fh_journal_close(j), 0);
	snprintf(path, sizeof(path), "%s/fh-journal-000000.pcap", dir);
	FH_CHECK_EQ_I(fh_pcap_open(&p, path, 0), 0);
	FH_CHECK_EQ_I(fh_pcap_next(&p, &r), 1);
	FH_CHECK_EQ_U(r.ts_ns, 123456789012345ull);
	FH_CHECK_EQ_U(r.caplen, 42 + sizeof(pl));
	FH_CHECK_EQ_I(fh_pkt_parse(FH_PKT_LINK_ETHERNET, r.data, r.caplen, &any, &u), FH_PKT_OK);
	FH_CHECK_EQ_U(u.dst_ip, 0xe9360c6f);
	FH_CHECK_EQ_U(u.src_ip, 0x0a000001);
	FH_CHECK_EQ_U(u.dst_port, 26477);
	FH_CHECK_EQ_U(u.src_port, 50000);
	FH_CHECK_EQ_U(u.len, sizeof(pl));
	FH_CHECK(memcmp(u.payload, pl, sizeof(pl)) == 0);
	FH_CHECK(r.data[0] == 0x01 && r.data[3] == 0x36 && r.data[5] == 0x6f); /* 01:00:5e:36:0c:6f */
	FH_CHECK_EQ_I(fh_pcap_next(&p, &r), 1);
	FH_CHECK_EQ_I(fh_pkt_parse(FH_PKT_LINK_ETHERNET, r.data, r.caplen, &any, &u), FH_PKT_OK);
	FH_CHECK_EQ_U(u.dst_ip, 0x7f000001);
	FH_CHECK_EQ_U(u.len, 20);
	fh_pcap_close(&p);
	rm_dir(dir);
}

static void test_bad_cfg(void)
{
	char err[256] = "";
	struct fh_journal_cfg c = small_cfg("/nonexistent/dir");
	FH_CHECK(fh_journal_create(&c, err, sizeof(err)) == NULL);
	FH_CHECK(strstr(err, "not a directory") != NULL);
	c = small_cfg("/tmp");
	c.buf_bytes = 1000; /* not aligned */
	FH_CHECK(fh_journal_create(&c, err, sizeof(err)) == NULL);
	c = small_cfg("/tmp");
	c.ring_slots = 100; /* not a power of two */
	FH_CHECK(fh_journal_create(&c, err, sizeof(err)) == NULL);
	c = small_cfg("/tmp");
	c.prefix = "a/b";
	FH_CHECK(fh_journal_create(&c, err, sizeof(err)) == NULL);
}

static const struct fh_test_case cases[] = {
	FH_CASE(test_sim_round_trip),
	FH_CASE(test_rotate_size),
	FH_CASE(test_rotate_time),
	FH_CASE(test_direct_fallback),
	FH_CASE(test_ring_full),
	FH_CASE(test_snaplen),
	FH_CASE(test_flush),
	FH_CASE(test_timed_flush_kill),
	FH_CASE(test_producers),
	FH_CASE(test_push_udp),
	FH_CASE(test_bad_cfg),
	{ 0 },
};

int main(int argc, char **argv)
{
	return fh_test_main(argc, argv, cases);
}
