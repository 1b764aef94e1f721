/* SPDX-License-Identifier: MIT */
/* fh_shm.c: creation, permissions, heartbeat and snapshot requests of the shm broadcast ring. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fh_shm.h"

#define HUGE_2M (2u << 20)

/* Creates path with exactly `mode` and `gid`, replacing an older file. */
static int create_file(const char *path, unsigned mode, gid_t gid, size_t len, int *fdp)
{
	int fd;

	/* A stale ring of a previous run: readers still mapping it keep their
	 * copy (and see it closed or its pid dead); new readers get ours. */
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	/* fchmod after open: the umask must not decide the readers' access */
	if (gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) < 0)
		goto out_err;
	if (fchmod(fd, mode) < 0)
		goto out_err;
	if (ftruncate(fd, (off_t)len) < 0)
		goto out_err;
	*fdp = fd;
	return 0;
out_err:;
	int e = errno;
	close(fd);
	unlink(path);
	return -e;
}

struct fh_shm *fh_shm_create(const struct fh_shm_cfg *cfg)
{
	struct fh_shm *w;
	uint64_t cap = cfg->capacity ? cfg->capacity : (1u << 20);
	unsigned mode = cfg->mode ? cfg->mode : 0640;
	unsigned req_mode = cfg->req_mode ? cfg->req_mode : 0660;
	const char *dir = cfg->dir ? cfg->dir : "/dev/shm";
	gid_t gid = (gid_t)-1;
	int fd = -1, rfd = -1, err;
	void *map;

	if (!cfg->name || !*cfg->name || strchr(cfg->name, '/') || cap < 2 || (cap & (cap - 1)) ||
	    cap > (1ull << 32)) {
		errno = EINVAL;
		return NULL;
	}
	if ((mode & 0002) || (req_mode & 0002) || (mode & ~0777u) || (req_mode & ~0777u)) {
		errno = EPERM;
		return NULL;
	}
	if (cfg->group && *cfg->group) {
		struct group *g = getgrnam(cfg->group);
		if (!g) {
			errno = ENOENT;
			return NULL;
		}
		gid = g->gr_gid;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	if ((size_t)snprintf(w->path, sizeof(w->path), "%s/%s", dir, cfg->name) >= sizeof(w->path)) {
		err = -ENAMETOOLONG;
		goto out_free;
	}
	snprintf(w->req_path, sizeof(w->req_path), "%s.req", w->path);
	w->map_len = FH_SHM_HDR_SIZE + cap * FH_SHM_SLOT_SIZE;
	if (cfg->hugetlb)
		w->map_len = (w->map_len + HUGE_2M - 1) & ~(size_t)(HUGE_2M - 1);

	err = create_file(w->path, mode, gid, w->map_len, &fd);
	if (err)
		goto out_free;
	map = mmap(NULL, w->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (map == MAP_FAILED) {
		err = -errno;
		goto out_unlink;
	}
	close(fd);
	fd = -1;
	if (cfg->lock && mlock(map, w->map_len) < 0) {
		err = -errno;
		munmap(map, w->map_len);
		goto out_unlink;
	}
	w->hdr = map;
	w->slots = (struct fh_shm_slot *)((char *)map + FH_SHM_HDR_SIZE);
	w->mask = cap - 1;

	/* The request area lives in its own small group-writable file so that
	 * the ring itself can stay read-only for every reader. Huge-page
	 * filesystems cannot hold a 4 KiB file: it then goes to /dev/shm. */
	if (cfg->hugetlb)
		snprintf(w->req_path, sizeof(w->req_path), "/dev/shm/%s.req", cfg->name);
	err = create_file(w->req_path, req_mode, gid, sizeof(struct fh_shm_req), &rfd);
	if (err)
		goto out_unmap;
	map = mmap(NULL, sizeof(struct fh_shm_req), PROT_READ | PROT_WRITE, MAP_SHARED, rfd, 0);
	if (map == MAP_FAILED) {
		err = -errno;
		close(rfd);
		unlink(w->req_path);
		goto out_unmap;
	}
	close(rfd);
	w->req = map;

	struct fh_shm_hdr *h = w->hdr;
	uint64_t now = fh_clock_ns(CLOCK_REALTIME);
	h->layout_version = FH_SHM_LAYOUT_VERSION;
	h->schema_version = FH_EVENT_SCHEMA_VERSION;
	h->capacity = cap;
	h->slot_size = FH_SHM_SLOT_SIZE;
	h->hdr_size = FH_SHM_HDR_SIZE;
	h->writer_pid = (uint32_t)getpid();
	h->created_ns = now;
	h->tsc_hz = fh_tsc_clock.hz;
	h->tsc0 = fh_tsc_clock.tsc0;
	h->ns0 = fh_tsc_clock.ns0;
	h->book_depth = cfg->book_depth;
	h->heartbeat_ns = now;
	h->state = FH_SHM_STATE_RUNNING;
	h->head = 0;
	w->req->created_ns = now;
	__atomic_store_n(&w->req->magic, FH_SHM_REQ_MAGIC, __ATOMIC_RELEASE);
	/* release: every header field is in place before a reader sees the magic */
	__atomic_store_n(&h->magic, FH_SHM_MAGIC, __ATOMIC_RELEASE);
	return w;

out_unmap:
	munmap(w->hdr, w->map_len);
out_unlink:
	if (fd >= 0)
		close(fd);
	unlink(w->path);
out_free:
	free(w);
	errno = -err;
	return NULL;
}

void fh_shm_destroy(struct fh_shm *w, bool unlink_files)
{
	if (!w)
		return;
	fh_shm_commit(w);
	__atomic_store_n(&w->hdr->state, FH_SHM_STATE_CLOSED, __ATOMIC_RELEASE);
	munmap(w->req, sizeof(struct fh_shm_req));
	munmap(w->hdr, w->map_len);
	if (unlink_files) {
		unlink(w->path);
		unlink(w->req_path);
	}
	free(w);
}

unsigned fh_shm_tick(struct fh_shm *w, uint64_t now_ns, fh_shm_req_cb cb, void *arg)
{
	unsigned n = 0;

	__atomic_store_n(&w->hdr->heartbeat_ns, now_ns, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < FH_SHM_REQ_SLOTS; i++) {
		if (!__atomic_load_n(&w->req->word[i], __ATOMIC_RELAXED))
			continue;
		uint64_t v = __atomic_exchange_n(&w->req->word[i], 0, __ATOMIC_ACQ_REL);
		if (!(v & FH_SHM_REQ_VALID))
			continue; /* garbage from a misbehaving reader: ignored */
		n++;
		if (cb)
			cb(arg, (uint16_t)(v >> 32), (uint32_t)v);
	}
	w->requests += n;
	return n;
}

void fh_shm_readers(const struct fh_shm *w, struct fh_shm_readers *out)
{
	struct fh_shm_req *req = w->req;
	uint64_t now = fh_clock_ns(CLOCK_REALTIME);

	/* first free the slots of dead readers (their counts move to the totals) */
	for (unsigned i = 0; i < FH_SHM_READER_SLOTS; i++) {
		struct fh_shm_reader *r = &req->reader[i];
		uint64_t owner = __atomic_load_n(&r->owner, __ATOMIC_ACQUIRE);
		if (owner && fh_sub_reader_dead(r, now))
			fh_sub_retire_slot(req, r, owner);
	}
	/* then sum live slots + retired totals with no slot retired meanwhile
	 * (retire_begin/end unchanged and equal), so the totals never go down;
	 * a few tries, then the last sum */
	for (int tries = 0; tries < 8; tries++) {
		uint64_t e0 = __atomic_load_n(&req->retire_end, __ATOMIC_ACQUIRE);
		uint64_t b0 = __atomic_load_n(&req->retire_begin, __ATOMIC_ACQUIRE);
		/* the published head: the writer thread's private copy is not ours to read */
		uint64_t head = __atomic_load_n(&w->hdr->head, __ATOMIC_ACQUIRE);
		uint64_t laps = 0, lost = 0;
		memset(out, 0, sizeof(*out));
		for (unsigned i = 0; i < FH_SHM_READER_SLOTS; i++) {
			struct fh_shm_reader *r = &req->reader[i];
			if (!__atomic_load_n(&r->owner, __ATOMIC_ACQUIRE))
				continue;
			uint64_t l = __atomic_load_n(&r->laps, __ATOMIC_RELAXED);
			uint64_t pos = __atomic_load_n(&r->pos, __ATOMIC_RELAXED);
			out->n++;
			out->lapped_now += l > 0;
			laps += l;
			lost += __atomic_load_n(&r->lost, __ATOMIC_RELAXED);
			if (head > pos && head - pos > out->max_lag)
				out->max_lag = head - pos;
		}
		out->lapped_total = laps + __atomic_load_n(&req->retired_laps, __ATOMIC_ACQUIRE);
		out->lost_total = lost + __atomic_load_n(&req->retired_lost, __ATOMIC_ACQUIRE);
		out->reclaimed = __atomic_load_n(&req->retired_readers, __ATOMIC_ACQUIRE);
		if (b0 == e0 && __atomic_load_n(&req->retire_begin, __ATOMIC_ACQUIRE) == b0 &&
		    __atomic_load_n(&req->retire_end, __ATOMIC_ACQUIRE) == e0)
			break;
	}
}
