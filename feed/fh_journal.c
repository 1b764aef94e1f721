/* SPDX-License-Identifier: MIT */
/* fh_journal.c: capture journal writer: ring draining, pcap records, double-buffered io_uring writes, rotation. */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fh_journal.h"

#define PCAP_HDR_LEN 24
#define REC_HDR_LEN 16
#define QUEUE_DEPTH 8

struct jbuf {
	uint8_t *mem;
	uint64_t file_off;  /* file offset of mem[0] (aligned) */
	uint32_t fill;      /* bytes of the stream in mem */
	bool busy;          /* a write of it is in flight */
	uint32_t wr_len;    /* bytes of the write in flight (padded) */
	uint32_t wr_done;   /* of which completed (short writes resubmit the rest) */
};

struct fh_journal {
	struct fh_journal_cfg cfg;
	char dir[256];
	char prefix[64];
	struct fh_journal_ring *rings;
	unsigned n_rings;
	unsigned rr;
	uint8_t *slot_mem;
	struct io_uring uring;
	bool uring_ok;
	struct jbuf buf[2];
	unsigned cur;
	int fd;
	unsigned index;
	uint64_t file_bytes;   /* logical length of the current file */
	uint64_t file_first_ts;
	bool file_has_pkt;
	uint32_t written_fill;  /* bytes of the current buffer already on the file */
	uint64_t pending_since; /* monotonic ns of the oldest record not yet written (0: none) */
	struct fh_journal_stats st;
};

static int fail(struct fh_journal *j, int err)
{
	if (!j->st.failed) {
		j->st.failed = true;
		j->st.last_error = err;
	}
	return err;
}

static uint32_t pad_len(uint32_t n)
{
	return (n + FH_JOURNAL_ALIGN - 1) & ~(uint32_t)(FH_JOURNAL_ALIGN - 1);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- io_uring writes ---- */

static int submit_write(struct fh_journal *j, unsigned bi)
{
	struct jbuf *b = &j->buf[bi];
	struct io_uring_sqe *sqe = io_uring_get_sqe(&j->uring);

	if (!sqe)
		return fail(j, -EBUSY); /* cannot happen: two writes at most, depth 8 */
	io_uring_prep_write(sqe, j->fd, b->mem + b->wr_done, b->wr_len - b->wr_done,
			    b->file_off + b->wr_done);
	io_uring_sqe_set_data64(sqe, bi);
	b->busy = true;
	int r = io_uring_submit(&j->uring);
	if (r < 0) {
		b->busy = false;
		return fail(j, r);
	}
	return 0;
}

/* Starts writing buffer bi: its stream bytes, padded with zeros to the alignment. */
static int start_write(struct fh_journal *j, unsigned bi)
{
	struct jbuf *b = &j->buf[bi];
	uint32_t len = pad_len(b->fill);

	memset(b->mem + b->fill, 0, len - b->fill);
	if (bi == j->cur) {
		j->written_fill = b->fill;
		j->pending_since = 0;
	}
	b->wr_len = len;
	b->wr_done = 0;
	return submit_write(j, bi);
}

static void on_complete(struct fh_journal *j, unsigned bi, int res)
{
	struct jbuf *b = &j->buf[bi];

	b->busy = false;
	if (res == -EINVAL && j->st.direct && b->wr_done == 0) {
		/* The file system took O_DIRECT at open() but not the write:
		 * go on with buffered writes on the same descriptor. */
		int fl = fcntl(j->fd, F_GETFL);
		if (fl >= 0 && fcntl(j->fd, F_SETFL, fl & ~O_DIRECT) == 0) {
			j->st.direct = false;
			j->st.direct_fallback = true;
			submit_write(j, bi);
			return;
		}
	}
	if (res < 0) {
		fail(j, res);
		return;
	}
	if (res == 0) {
		fail(j, -EIO);
		return;
	}
	b->wr_done += (uint32_t)res;
	if (b->wr_done < b->wr_len) {
		submit_write(j, bi); /* short write: the rest */
		return;
	}
	j->st.writes++;
}

static void reap(struct fh_journal *j, bool wait)
{
	struct io_uring_cqe *cqe;

	for (;;) {
		int r = wait ? io_uring_wait_cqe(&j->uring, &cqe) : io_uring_peek_cqe(&j->uring, &cqe);
		if (r == -EINTR)
			continue;
		if (r < 0)
			return;
		unsigned bi = (unsigned)io_uring_cqe_get_data64(cqe);
		int res = cqe->res;
		io_uring_cqe_seen(&j->uring, cqe);
		if (bi < 2)
			on_complete(j, bi, res);
		if (wait)
			return;
	}
}

/* Waits until no write is in flight. */
static void wait_idle(struct fh_journal *j)
{
	while (j->buf[0].busy || j->buf[1].busy)
		reap(j, true);
}

/* ---- files ---- */

static void write_file_hdr(struct fh_journal *j)
{
	struct jbuf *b = &j->buf[j->cur];
	uint8_t *h = b->mem;

	put_le32(h, 0xa1b23c4du); /* nanosecond pcap */
	h[4] = 2, h[5] = 0, h[6] = 4, h[7] = 0;
	put_le32(h + 8, 0);
	put_le32(h + 12, 0);
	put_le32(h + 16, j->cfg.snaplen);
	put_le32(h + 20, j->cfg.linktype);
	b->file_off = 0;
	b->fill = PCAP_HDR_LEN;
	j->written_fill = 0;
	j->file_bytes = PCAP_HDR_LEN;
	j->st.bytes += PCAP_HDR_LEN;
}

static int open_file(struct fh_journal *j)
{
	int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
	int n = snprintf(j->st.path, sizeof(j->st.path), "%s/%s-%06u.pcap", j->dir, j->prefix,
			 j->index);

	if (n < 0 || (size_t)n >= sizeof(j->st.path))
		return -ENAMETOOLONG;
	j->st.direct = false;
	j->fd = -1;
	if (j->cfg.direct == FH_JOURNAL_DIRECT_AUTO) {
		j->fd = open(j->st.path, flags | O_DIRECT, 0644);
		if (j->fd >= 0)
			j->st.direct = true;
		else if (errno == EINVAL)
			j->st.direct_fallback = true; /* tmpfs and friends */
		else
			return -errno;
	}
	if (j->fd < 0) {
		j->fd = open(j->st.path, flags, 0644);
		if (j->fd < 0)
			return -errno;
	}
	/* Reserve the blocks up front (the size stays what was written). */
	if (!j->cfg.no_prealloc &&
	    fallocate(j->fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)j->cfg.rotate_bytes) != 0)
		j->st.prealloc_failed++;
	j->st.files++;
	j->index++;
	j->file_has_pkt = false;
	write_file_hdr(j);
	return 0;
}

/* Writes what the current file holds, trims it to its length, closes it. */
static int finish_file(struct fh_journal *j)
{
	struct jbuf *b = &j->buf[j->cur];
	int ret = 0;

	wait_idle(j);
	if (b->fill && !j->st.failed) {
		start_write(j, j->cur);
		wait_idle(j);
	}
	if (j->fd >= 0) {
		if (!j->st.failed && ftruncate(j->fd, (off_t)j->file_bytes) != 0)
			ret = fail(j, -errno);
		if (close(j->fd) != 0 && !ret)
			ret = fail(j, -errno);
		j->fd = -1;
	}
	return j->st.failed ? j->st.last_error : ret;
}

static int rotate(struct fh_journal *j)
{
	int r = finish_file(j);
	if (r < 0)
		return r;
	r = open_file(j);
	return r < 0 ? fail(j, r) : 0;
}

/* ---- the pcap stream ---- */

/* Room for n more stream bytes without waiting for a write. */
static bool has_room(const struct fh_journal *j, uint32_t n)
{
	const struct jbuf *b = &j->buf[j->cur];
	/* filling it exactly switches to the other one too: that one must be free */
	return !b->busy && (b->fill + n < j->cfg.buf_bytes || !j->buf[j->cur ^ 1].busy);
}

static void append(struct fh_journal *j, const void *p, uint32_t n)
{
	const uint8_t *s = p;

	while (n) {
		struct jbuf *b = &j->buf[j->cur];
		uint32_t c = j->cfg.buf_bytes - b->fill;
		if (c > n)
			c = n;
		memcpy(b->mem + b->fill, s, c);
		b->fill += c;
		s += c;
		n -= c;
		j->file_bytes += c;
		if (b->fill == j->cfg.buf_bytes) {
			/* full: write it, continue in the other one (has_room said it is free) */
			uint64_t next_off = b->file_off + j->cfg.buf_bytes;
			start_write(j, j->cur);
			j->cur ^= 1;
			j->buf[j->cur].file_off = next_off;
			j->buf[j->cur].fill = 0;
			j->written_fill = 0;
		}
	}
}

/* One record into the stream; false when it must wait for a buffer. */
static bool put_record(struct fh_journal *j, const struct fh_journal_slot *s)
{
	uint32_t rec = REC_HDR_LEN + s->caplen;
	uint8_t h[REC_HDR_LEN];

	if (j->file_has_pkt &&
	    (j->file_bytes + rec > j->cfg.rotate_bytes ||
	     (j->cfg.rotate_ns && s->ts_ns - j->file_first_ts >= j->cfg.rotate_ns))) {
		if (rotate(j) < 0)
			return true; /* failed: the record is counted as dropped by the caller */
	}
	if (!has_room(j, rec)) {
		j->st.buffer_waits++;
		return false;
	}
	if (!j->file_has_pkt) {
		j->file_has_pkt = true;
		j->file_first_ts = s->ts_ns;
	}

	put_le32(h, (uint32_t)(s->ts_ns / 1000000000u));
	put_le32(h + 4, (uint32_t)(s->ts_ns % 1000000000u));
	put_le32(h + 8, s->caplen);
	put_le32(h + 12, s->len);
	append(j, h, REC_HDR_LEN);
	append(j, s + 1, s->caplen);
	if (j->cfg.flush_ns && !j->pending_since && j->buf[j->cur].fill > j->written_fill)
		j->pending_since = mono_ns();
	j->st.packets++;
	j->st.bytes += rec;
	return true;
}

unsigned fh_journal_do_work(struct fh_journal *j, unsigned budget)
{
	unsigned n = 0, idle = 0;

	if (!budget)
		budget = 1024;
	reap(j, false);
	while (n < budget && idle < j->n_rings) {
		struct fh_journal_ring *r = &j->rings[j->rr];
		if (r->tail == r->head_cache)
			r->head_cache = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
		if (r->tail == r->head_cache) {
			idle++;
			j->rr = (j->rr + 1) % j->n_rings;
			continue;
		}
		idle = 0;
		/* a few records per ring per turn: bursts stay together */
		for (unsigned k = 0; k < 32 && r->tail != r->head_cache && n < budget; k++) {
			const struct fh_journal_slot *s =
				(const void *)(r->slots + (r->tail & r->mask) * (uint64_t)r->slot_size);
			if (j->st.failed) {
				j->st.dropped_failed++;
			} else if (!put_record(j, s)) {
				return n; /* both buffers in flight: come back later */
			} else if (j->st.failed) {
				j->st.dropped_failed++;
			}
			/* release: done reading the slot before the producer may reuse it */
			__atomic_store_n(&r->tail, r->tail + 1, __ATOMIC_RELEASE);
			n++;
		}
		j->rr = (j->rr + 1) % j->n_rings;
	}
	/* the time bound on what sits in a partly filled buffer */
	struct jbuf *b = &j->buf[j->cur];
	if (j->cfg.flush_ns && j->pending_since && !b->busy && b->fill > j->written_fill &&
	    !j->st.failed && mono_ns() - j->pending_since >= j->cfg.flush_ns) {
		j->st.timed_flushes++;
		start_write(j, j->cur);
	}
	return n;
}

static bool rings_empty(const struct fh_journal *j)
{
	for (unsigned i = 0; i < j->n_rings; i++)
		if (j->rings[i].tail != __atomic_load_n(&j->rings[i].head, __ATOMIC_ACQUIRE))
			return false;
	return true;
}

int fh_journal_flush(struct fh_journal *j)
{
	while (!rings_empty(j)) {
		if (fh_journal_do_work(j, 0) == 0 && (j->buf[0].busy || j->buf[1].busy))
			reap(j, true);
	}
	wait_idle(j);
	if (!j->st.failed && j->buf[j->cur].fill) {
		/* the partial tail, padded; later writes of this buffer rewrite it */
		start_write(j, j->cur);
		wait_idle(j);
	}
	return j->st.failed ? j->st.last_error : 0;
}

/* ---- set-up ---- */

struct fh_journal_ring *fh_journal_ring(struct fh_journal *j, unsigned p)
{
	return p < j->n_rings ? &j->rings[p] : NULL;
}

void fh_journal_stats(const struct fh_journal *j, struct fh_journal_stats *st)
{
	*st = j->st;
	st->pushed = 0;
	st->dropped_full = 0;
	for (unsigned i = 0; i < j->n_rings; i++) {
		st->pushed += j->rings[i].pushed;
		st->dropped_full += j->rings[i].dropped;
	}
}

static void destroy(struct fh_journal *j)
{
	if (j->uring_ok)
		io_uring_queue_exit(&j->uring);
	free(j->buf[0].mem);
	free(j->buf[1].mem);
	free(j->slot_mem);
	free(j->rings);
	free(j);
}

struct fh_journal *fh_journal_create(const struct fh_journal_cfg *cfg, char *err, size_t errlen)
{
	struct fh_journal *j = calloc(1, sizeof(*j));
	struct stat sb;
	int r;

	if (!j) {
		snprintf(err, errlen, "journal: out of memory");
		return NULL;
	}
	j->fd = -1;
	j->cfg = *cfg;
	struct fh_journal_cfg *c = &j->cfg;
	if (!c->prefix || !*c->prefix)
		c->prefix = "fh-journal";
	if (!c->producers)
		c->producers = 1;
	if (!c->ring_slots)
		c->ring_slots = 4096;
	if (!c->snaplen)
		c->snaplen = 2048;
	if (!c->buf_bytes)
		c->buf_bytes = 1u << 20;
	if (!c->rotate_bytes)
		c->rotate_bytes = 1ull << 30;
	if (!c->linktype)
		c->linktype = FH_JOURNAL_LINKTYPE_ETHERNET;
	if (!c->dir || !*c->dir || stat(c->dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "journal: %s: not a directory", c->dir ? c->dir : "(null)");
		goto out_free;
	}
	if (c->producers > FH_JOURNAL_MAX_PRODUCERS || (c->ring_slots & (c->ring_slots - 1)) ||
	    c->snaplen < 64 || c->snaplen > 65535 || c->buf_bytes % FH_JOURNAL_ALIGN ||
	    c->buf_bytes < 2 * (REC_HDR_LEN + c->snaplen) || c->rotate_bytes < 2ull * c->buf_bytes ||
	    strlen(c->dir) >= sizeof(j->dir) || strlen(c->prefix) >= sizeof(j->prefix) ||
	    strchr(c->prefix, '/')) {
		snprintf(err, errlen,
			 "journal: bad configuration (producers 1..%u, ring_slots a power of two, snaplen 64..65535, buf_bytes a multiple of %u >= 2 records, rotate_bytes >= 2 buffers, prefix without '/')",
			 FH_JOURNAL_MAX_PRODUCERS, FH_JOURNAL_ALIGN);
		goto out_free;
	}
	snprintf(j->dir, sizeof(j->dir), "%s", c->dir);
	snprintf(j->prefix, sizeof(j->prefix), "%s", c->prefix);
	c->dir = j->dir;
	c->prefix = j->prefix;
	j->index = c->first_index;

	/* rings: all slots preallocated and touched once here, not on the first packet */
	j->n_rings = c->producers;
	uint32_t slot_size = (uint32_t)((sizeof(struct fh_journal_slot) + c->snaplen + FH_CACHE_LINE - 1) &
					~(size_t)(FH_CACHE_LINE - 1));
	size_t ring_bytes = (size_t)slot_size * c->ring_slots;
	if (posix_memalign((void **)&j->rings, FH_CACHE_LINE, sizeof(*j->rings) * j->n_rings) ||
	    posix_memalign((void **)&j->slot_mem, FH_CACHE_LINE, ring_bytes * j->n_rings)) {
		snprintf(err, errlen, "journal: out of memory (%zu bytes of rings)", ring_bytes * j->n_rings);
		goto out_free;
	}
	memset(j->rings, 0, sizeof(*j->rings) * j->n_rings);
	memset(j->slot_mem, 0, ring_bytes * j->n_rings);
	for (unsigned i = 0; i < j->n_rings; i++) {
		j->rings[i].slots = j->slot_mem + ring_bytes * i;
		j->rings[i].mask = c->ring_slots - 1;
		j->rings[i].slot_size = slot_size;
		j->rings[i].snaplen = c->snaplen;
	}
	for (unsigned i = 0; i < 2; i++) {
		if (posix_memalign((void **)&j->buf[i].mem, FH_JOURNAL_ALIGN, c->buf_bytes)) {
			snprintf(err, errlen, "journal: out of memory (buffers)");
			goto out_free;
		}
		memset(j->buf[i].mem, 0, c->buf_bytes);
	}
	r = io_uring_queue_init(QUEUE_DEPTH, &j->uring, 0);
	if (r < 0) {
		snprintf(err, errlen, "journal: io_uring_queue_init: %s", strerror(-r));
		goto out_free;
	}
	j->uring_ok = true;
	r = open_file(j);
	if (r < 0) {
		snprintf(err, errlen, "journal: %s: %s", j->st.path, strerror(-r));
		goto out_free;
	}
	return j;

out_free:
	destroy(j);
	return NULL;
}

int fh_journal_close(struct fh_journal *j)
{
	if (!j)
		return 0;
	int r = fh_journal_flush(j);
	int r2 = finish_file(j);
	destroy(j);
	return r < 0 ? r : r2;
}
