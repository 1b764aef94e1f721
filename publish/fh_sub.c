/* SPDX-License-Identifier: MIT */
/* fh_sub.c: subscriber side of the shm broadcast ring: read-only mapping, seqlock reads, lap recovery. */
/* self-contained outside this tree too (strict -std=c11 builds): clock_gettime, kill, usleep */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fh_sub.h"

struct fh_sub {
	const volatile struct fh_shm_hdr *hdr;
	struct fh_shm_slot *slots;
	uint64_t mask;
	uint64_t capacity;
	uint64_t pos; /* next position to read */
	size_t map_len;
	uint64_t created_ns;
	uint32_t pid;
	unsigned check_every;
	unsigned empty_polls;
	uint64_t timeout_ns;
	uint64_t type_mask;
	/* instrument filter: sorted small list of (source << 32 | instrument) */
	uint64_t *instr;
	unsigned n_instr, cap_instr;
	struct fh_sub_stats st;
	char path[256];
	struct fh_shm_req *req; /* request area, mapped read-write at open when allowed */
	size_t req_len;         /* bytes of it mapped: the file's size, at most sizeof(*req) */
	struct fh_shm_reader *me; /* our reader slot in req, NULL: none */
	uint64_t owner;           /* pid << 32 | tag, what our slot's owner word holds */
	unsigned since_update;    /* events returned since the slot was last updated */
	bool dry;                 /* the slot was updated since the ring last ran dry */
};

static uint64_t realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t fh_sub_tsc(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
#endif
}

uint64_t fh_sub_tsc_to_ns(const struct fh_sub *s, uint64_t ticks)
{
	double hz = s->hdr->tsc_hz;
	if (hz <= 0)
		return ticks;
	return (uint64_t)((double)ticks * 1e9 / hz);
}

bool fh_sub_reader_dead(const struct fh_shm_reader *r, uint64_t now_ns)
{
	uint64_t owner = __atomic_load_n(&r->owner, __ATOMIC_ACQUIRE);
	uint64_t beat = __atomic_load_n(&r->beat_ns, __ATOMIC_ACQUIRE);
	if (!owner)
		return false;
	bool quiet = !beat || (now_ns > beat && now_ns - beat > FH_SUB_READER_QUIET_NS);
	if (beat && now_ns > beat && now_ns - beat > FH_SUB_READER_STALE_NS)
		return true;
	/* the pid of the owner word was stored with the claim itself */
	return quiet && kill((pid_t)(owner >> 32), 0) < 0 && errno == ESRCH;
}

/* Maps the request area read-write (once). Returns 0 or -errno. */
static int map_req(struct fh_sub *s)
{
	if (s->req)
		return 0;
	char p[sizeof(s->path) + 16];
	snprintf(p, sizeof(p), "%s.req", s->path);
	int fd = open(p, O_RDWR | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		/* a ring on hugetlbfs keeps its request area in /dev/shm */
		const char *base = strrchr(s->path, '/');
		snprintf(p, sizeof(p), "/dev/shm/%s.req", base ? base + 1 : s->path);
		fd = open(p, O_RDWR | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || (size_t)st.st_size < FH_SHM_REQ_V1_SIZE) {
		close(fd);
		return -EPROTO;
	}
	size_t len = (size_t)st.st_size < sizeof(*s->req) ? (size_t)st.st_size : sizeof(*s->req);
	void *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int e = errno;
	close(fd);
	if (map == MAP_FAILED)
		return -e;
	struct fh_shm_req *req = map;
	if (__atomic_load_n(&req->magic, __ATOMIC_ACQUIRE) != FH_SHM_REQ_MAGIC ||
	    req->created_ns != s->created_ns) {
		munmap(map, len);
		return -EPROTO;
	}
	s->req = req;
	s->req_len = len;
	return 0;
}

/* Frees a slot whose reader is gone or closing (or hands it over to us): its
 * counts go to the retired totals, so that they never go down. Returns
 * whether we won the slot. */
static bool retire_slot(struct fh_shm_req *req, struct fh_shm_reader *r, uint64_t owner,
			uint64_t to)
{
	uint64_t laps = __atomic_load_n(&r->laps, __ATOMIC_RELAXED);
	uint64_t lost = __atomic_load_n(&r->lost, __ATOMIC_RELAXED);
	__atomic_fetch_add(&req->retire_begin, 1, __ATOMIC_ACQ_REL);
	/* the owner word decides who retires it: one CAS wins */
	bool won = __atomic_compare_exchange_n(&r->owner, &owner, to, false, __ATOMIC_ACQ_REL,
					       __ATOMIC_RELAXED);
	if (won) {
		__atomic_fetch_add(&req->retired_laps, laps, __ATOMIC_RELAXED);
		__atomic_fetch_add(&req->retired_lost, lost, __ATOMIC_RELAXED);
		__atomic_fetch_add(&req->retired_readers, 1, __ATOMIC_RELAXED);
	}
	__atomic_fetch_add(&req->retire_end, 1, __ATOMIC_ACQ_REL);
	return won;
}

/* Exported for the writer (fh_shm_readers()), same rules. */
bool fh_sub_retire_slot(struct fh_shm_req *req, struct fh_shm_reader *r, uint64_t owner)
{
	return retire_slot(req, r, owner, 0);
}

/* Our position and counters in our slot: plain stores, the beat last. */
static void update_slot(struct fh_sub *s)
{
	struct fh_shm_reader *r = s->me;
	s->since_update = 0;
	if (!r)
		return;
	if (__atomic_load_n(&r->owner, __ATOMIC_RELAXED) != s->owner) {
		s->me = NULL; /* reclaimed while we were silent for a minute */
		return;
	}
	__atomic_store_n(&r->pos, s->pos, __ATOMIC_RELAXED);
	__atomic_store_n(&r->events, s->st.events, __ATOMIC_RELAXED);
	__atomic_store_n(&r->laps, s->st.lapped, __ATOMIC_RELAXED);
	__atomic_store_n(&r->lost, s->st.lost, __ATOMIC_RELAXED);
	__atomic_store_n(&r->beat_ns, realtime_ns(), __ATOMIC_RELEASE);
}

/* Claims a free reader slot, or the slot of a dead reader (best effort). */
static void claim_slot(struct fh_sub *s)
{
	if (map_req(s) || s->req_len < sizeof(*s->req))
		return;
	uint64_t now = realtime_ns();
	uint32_t tag = (uint32_t)(now ^ (now >> 32) ^ (uintptr_t)s);
	s->owner = (uint64_t)(uint32_t)getpid() << 32 | (tag ? tag : 1);
	for (int pass = 0; pass < 2 && !s->me; pass++) {
		for (unsigned i = 0; i < FH_SHM_READER_SLOTS && !s->me; i++) {
			struct fh_shm_reader *r = &s->req->reader[i];
			uint64_t cur = __atomic_load_n(&r->owner, __ATOMIC_ACQUIRE);
			if (pass == 0 && cur == 0 &&
			    __atomic_compare_exchange_n(&r->owner, &cur, s->owner, false,
							__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
				s->me = r;
			else if (pass == 1 && cur && fh_sub_reader_dead(r, now) &&
				 retire_slot(s->req, r, cur, s->owner))
				s->me = r;
		}
	}
	if (!s->me)
		return;
	s->me->pid = (uint32_t)getpid();
	s->me->start_ns = now;
	update_slot(s);
}

const volatile struct fh_shm_reader *fh_sub_reader_slot(const struct fh_sub *s)
{
	return s->me;
}

struct fh_sub *fh_sub_open(const char *name, const struct fh_sub_opts *opts)
{
	struct fh_sub_opts o = { 0 };
	struct fh_sub *s;
	struct stat st;
	int fd, err;
	void *map;

	if (opts)
		o = *opts;
	if (!name || !*name) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	if (strchr(name, '/'))
		err = snprintf(s->path, sizeof(s->path), "%s", name);
	else
		err = snprintf(s->path, sizeof(s->path), "%s/%s", o.dir ? o.dir : "/dev/shm", name);
	if (err < 0 || (size_t)err >= sizeof(s->path)) {
		err = ENAMETOOLONG;
		goto out_free;
	}
	fd = open(s->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		goto out_free;
	}
	if (fstat(fd, &st) < 0) {
		err = errno;
		goto out_close;
	}
	if ((size_t)st.st_size < FH_SHM_HDR_SIZE) {
		/* created, not sized yet: the writer is starting */
		err = EAGAIN;
		goto out_close;
	}
	/* One mapping of the whole file: on hugetlbfs the size is a multiple
	 * of the huge page, which munmap() then requires. PROT_READ only: a
	 * misbehaving reader cannot write the ring. */
	s->map_len = (size_t)st.st_size;
	map = mmap(NULL, s->map_len, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		err = errno;
		goto out_close;
	}
	const volatile struct fh_shm_hdr *h = map;
	uint64_t magic = __atomic_load_n(&((const struct fh_shm_hdr *)map)->magic, __ATOMIC_ACQUIRE);
	uint64_t cap = h->capacity;
	if (magic == 0) {
		/* the writer stores the magic last: it is still filling the header */
		munmap(map, s->map_len);
		err = EAGAIN;
		goto out_close;
	}
	if (magic != FH_SHM_MAGIC || h->layout_version != FH_SHM_LAYOUT_VERSION ||
	    h->schema_version != FH_EVENT_SCHEMA_VERSION || h->slot_size != FH_SHM_SLOT_SIZE ||
	    h->hdr_size != FH_SHM_HDR_SIZE || cap < 2 || (cap & (cap - 1)) ||
	    cap > ((uint64_t)st.st_size - FH_SHM_HDR_SIZE) / FH_SHM_SLOT_SIZE) {
		munmap(map, s->map_len);
		err = EPROTO;
		goto out_close;
	}
	close(fd);
	s->hdr = map;
	s->slots = (struct fh_shm_slot *)((char *)map + FH_SHM_HDR_SIZE);
	s->capacity = cap;
	s->mask = cap - 1;
	s->created_ns = s->hdr->created_ns;
	s->pid = s->hdr->writer_pid;
	s->check_every = o.check_every ? o.check_every : 4096;
	s->timeout_ns = (o.writer_timeout_ms ? o.writer_timeout_ms : 3000) * 1000000ull;
	s->type_mask = o.type_mask;

	uint64_t head = __atomic_load_n(&((const struct fh_shm_hdr *)map)->head, __ATOMIC_ACQUIRE);
	switch (o.start) {
	case FH_SUB_START_NEXT:
		s->pos = head;
		break;
	case FH_SUB_START_OLDEST:
		/* leave a quarter of the ring as margin so the first read is not lapped at once */
		s->pos = head > cap - cap / 4 ? head - (cap - cap / 4) : 0;
		break;
	default:
		s->pos = head ? head - 1 : 0;
		break;
	}
	/* a reader slot when the request file is writable for us (optional) */
	claim_slot(s);
	return s;

out_close:
	close(fd);
out_free:
	free(s);
	errno = err;
	return NULL;
}

void fh_sub_close(struct fh_sub *s)
{
	if (!s)
		return;
	if (s->me) {
		update_slot(s);
		if (s->me)
			retire_slot(s->req, s->me, s->owner, 0);
	}
	munmap((void *)(uintptr_t)s->hdr, s->map_len);
	if (s->req)
		munmap(s->req, s->req_len);
	free(s->instr);
	free(s);
}

const volatile struct fh_shm_hdr *fh_sub_header(const struct fh_sub *s)
{
	return s->hdr;
}

uint64_t fh_sub_head(const struct fh_sub *s)
{
	return __atomic_load_n(&((const struct fh_shm_hdr *)(uintptr_t)s->hdr)->head,
			       __ATOMIC_ACQUIRE);
}

uint64_t fh_sub_position(const struct fh_sub *s)
{
	return s->pos;
}

void fh_sub_get_stats(const struct fh_sub *s, struct fh_sub_stats *st)
{
	*st = s->st;
}

static bool writer_gone(struct fh_sub *s)
{
	if (s->hdr->state == FH_SHM_STATE_CLOSED)
		return true;
	uint64_t hb = s->hdr->heartbeat_ns, now = realtime_ns();
	if (now > hb && now - hb > s->timeout_ns)
		return true;
	/* A dead pid ends the wait early, but only with a heartbeat that has
	 * stopped too (> 50 ms; it moves every ~1 ms): in another pid
	 * namespace the pid means nothing, and a fresh heartbeat wins. */
	if (s->pid && now > hb && now - hb > 50000000ull && kill((pid_t)s->pid, 0) < 0 &&
	    errno == ESRCH)
		return true;
	return false;
}

static bool pass_filter(const struct fh_sub *s, const struct fh_event *ev)
{
	if (s->type_mask && (ev->type >= 64 || !(s->type_mask & (1ull << ev->type))))
		return false;
	if (s->n_instr && ev->instrument != FH_INSTRUMENT_NONE) {
		uint64_t any = 0xffffull << 32 | ev->instrument;
		uint64_t exact = (uint64_t)ev->source_id << 32 | ev->instrument;
		for (unsigned i = 0; i < s->n_instr; i++)
			if (s->instr[i] == exact || s->instr[i] == any)
				return true;
		return false;
	}
	return true;
}

int fh_sub_poll(struct fh_sub *s, struct fh_sub_msg *m)
{
	for (;;) {
		struct fh_shm_slot *slot = &s->slots[s->pos & s->mask];
		uint64_t want = 2 * s->pos + 2;
		/* acquire: the event copy below is not hoisted above this load */
		uint64_t s1 = __atomic_load_n(&slot->seq, __ATOMIC_ACQUIRE);
		if (s1 == want) {
			memcpy(&m->ev, &slot->ev, sizeof(m->ev));
			m->pub_tsc = slot->pub_tsc;
			/* the copy completes before seq is read again */
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			uint64_t s2 = __atomic_load_n(&slot->seq, __ATOMIC_RELAXED);
			if (__builtin_expect(s2 == s1, 1)) {
				m->pos = s->pos++;
				s->empty_polls = 0;
				s->dry = false;
				if (__builtin_expect(++s->since_update >= 1024, 0))
					update_slot(s);
				if (!pass_filter(s, &m->ev)) {
					s->st.filtered++;
					continue;
				}
				s->st.events++;
				return FH_SUB_EVENT;
			}
			s->st.retries++;
			continue; /* overwritten while copying: seq now shows the lap */
		}
		if (s1 < want) {
			/* not written yet (older lap, or being written now) */
			if (!s->dry) {
				s->dry = true;
				update_slot(s); /* caught up: the slot says so */
			}
			if (++s->empty_polls >= s->check_every) {
				s->empty_polls = 0;
				update_slot(s); /* the reader's own heartbeat */
				if (writer_gone(s))
					return FH_SUB_WRITER_GONE;
			}
			return FH_SUB_EMPTY;
		}
		/* Lapped: the slot already holds (or is being filled with) a later
		 * position. Jump to half a ring behind the newest known position:
		 * exactly the positions in between are lost. */
		uint64_t newest = fh_sub_head(s);
		uint64_t in_slot = (s1 - 1) / 2 + 1;
		if (in_slot > newest)
			newest = in_slot;
		uint64_t target = newest > s->capacity / 2 ? newest - s->capacity / 2 : 0;
		if (target <= s->pos)
			target = s->pos + 1;
		m->lost = target - s->pos;
		s->pos = target;
		s->st.lapped++;
		s->st.lost += m->lost;
		update_slot(s);
		return FH_SUB_LAPPED;
	}
}

int fh_sub_filter_instrument(struct fh_sub *s, uint16_t source_id, uint32_t instrument)
{
	if (s->n_instr == s->cap_instr) {
		unsigned nc = s->cap_instr ? s->cap_instr * 2 : 16;
		uint64_t *n = realloc(s->instr, nc * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->instr = n;
		s->cap_instr = nc;
	}
	s->instr[s->n_instr++] = (uint64_t)source_id << 32 | instrument;
	return 0;
}

void fh_sub_filter_types(struct fh_sub *s, uint64_t type_mask)
{
	s->type_mask = type_mask;
}

int fh_sub_request_snapshot(struct fh_sub *s, uint16_t source_id, uint32_t instrument)
{
	int e = map_req(s);
	if (e)
		return e;
	uint64_t v = FH_SHM_REQ_VALID | (uint64_t)source_id << 32 | instrument;
	for (unsigned i = 0; i < FH_SHM_REQ_SLOTS; i++) {
		uint64_t zero = 0;
		/* a lost race just moves on to the next free word */
		if (__atomic_compare_exchange_n(&s->req->word[i], &zero, v, false, __ATOMIC_RELEASE,
						__ATOMIC_RELAXED))
			return 0;
	}
	return -EAGAIN;
}

int fh_sub_decode(const void *buf, size_t len, struct fh_event *out)
{
	if (!buf || len != sizeof(*out))
		return -EINVAL;
	memcpy(out, buf, sizeof(*out));
	if (out->version != FH_EVENT_SCHEMA_VERSION || out->type == FH_EV_NONE ||
	    out->type >= FH_EV__COUNT)
		return -EINVAL;
	return 0;
}
