/* SPDX-License-Identifier: MIT */
/* fh_shm.h: writer of the shared-memory broadcast ring (one writer, any number of read-only readers). */
#ifndef FH_SHM_H
#define FH_SHM_H

/*
 * The region layout and the reader protocol are in publish/fh_sub.h and
 * docs/PUBLISH.md. The writer never waits for readers: it overwrites the
 * oldest slot, and a reader that was too slow learns it was lapped.
 *
 * Hot path: fh_shm_write_burst() writes events with one TSC read per burst
 * and no syscall, lock or allocation; fh_shm_commit() publishes the head
 * once per batch. fh_shm_tick() (about every millisecond, off the per-event
 * path) refreshes the header heartbeat and collects snapshot requests.
 * Thread-safety: one writer thread.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "fh_common.h"
#include "fh_event.h"
#include "fh_sub.h"
#include "fh_time.h"

struct fh_shm_cfg {
	const char *name;  /* region name: file <dir>/<name>, requests <dir>/<name>.req */
	const char *dir;   /* "/dev/shm" when NULL; a hugetlbfs mount for huge pages */
	uint64_t capacity; /* slots, power of two (0: 1 << 20) */
	unsigned mode;     /* ring file mode, 0: 0640; world-writable is refused */
	unsigned req_mode; /* request file mode, 0: 0660; world-writable is refused */
	const char *group; /* group owning both files (readers' group), NULL: ours */
	bool hugetlb;      /* dir is hugetlbfs: size rounded up to 2 MiB pages */
	bool lock;         /* mlock the region */
	unsigned book_depth; /* books.depth, told to readers in the header (0: unknown) */
};

struct fh_shm {
	struct fh_shm_hdr *hdr;
	struct fh_shm_slot *slots;
	struct fh_shm_req *req;
	uint64_t mask;
	uint64_t head; /* next position to write (private copy) */
	size_t map_len;
	char path[256];
	char req_path[264];
	uint64_t requests; /* snapshot requests collected */
};

/* Creates (replacing a stale file of the same name) and maps the region.
 * Returns NULL with errno set: EINVAL bad capacity, EPERM world-writable
 * mode, ENOENT unknown group, or the failing syscall's errno. */
struct fh_shm *fh_shm_create(const struct fh_shm_cfg *cfg);

/* Marks the ring closed (readers see FH_SUB_WRITER_GONE), unmaps, and
 * removes both files when unlink_files. */
void fh_shm_destroy(struct fh_shm *w, bool unlink_files);

/* Writes n events as consecutive positions. Never blocks. */
static inline void fh_shm_write_burst(struct fh_shm *w, const struct fh_event *ev, unsigned n,
				      uint64_t tsc)
{
	uint64_t p = w->head;
	for (unsigned i = 0; i < n; i++, p++) {
		struct fh_shm_slot *s = &w->slots[p & w->mask];
		__atomic_store_n(&s->seq, 2 * p + 1, __ATOMIC_RELAXED);
		/* release fence: "being written" is visible before any byte of the event */
		__atomic_thread_fence(__ATOMIC_RELEASE);
		s->pub_tsc = tsc;
		s->ev = ev[i];
		/* release: the event is complete before seq says so */
		__atomic_store_n(&s->seq, 2 * p + 2, __ATOMIC_RELEASE);
	}
	w->head = p;
}

/* Publishes the head for late joiners and lap recovery (once per batch). */
static inline void fh_shm_commit(struct fh_shm *w)
{
	__atomic_store_n(&w->hdr->head, w->head, __ATOMIC_RELEASE);
}

/*
 * Heartbeat and requests: stores now_ns (CLOCK_REALTIME) in the header and
 * hands each pending snapshot request to cb(arg, source_id, instrument),
 * clearing it. cb may be NULL (requests are then only counted). Returns the
 * number of requests collected.
 */
typedef void (*fh_shm_req_cb)(void *arg, uint16_t source_id, uint32_t instrument);
unsigned fh_shm_tick(struct fh_shm *w, uint64_t now_ns, fh_shm_req_cb cb, void *arg);

/* The ring's readers, from their slots in the request area (fh_sub.h). */
struct fh_shm_readers {
	unsigned n;            /* live readers holding a slot */
	unsigned lapped_now;   /* of them, readers lapped at least once */
	uint64_t lapped_total; /* laps of every reader so far (live + gone): never goes down */
	uint64_t lost_total;   /* positions lost to laps, every reader so far */
	uint64_t max_lag;      /* head - position of the slowest live reader (0: none) */
	uint64_t reclaimed;    /* slots freed by readers that closed or were found dead */
};

/*
 * Scans the reader slots (64 cache lines; a kill(pid, 0) per claimed slot
 * that has been quiet for 2 s): counts live readers, their lag behind the
 * published head and their laps; frees the slots of dead readers (their
 * counts move to the retired totals). For the control thread, about once a
 * second, concurrently with the writer thread (reads only the published
 * head); NOT for the publisher's hot path.
 */
void fh_shm_readers(const struct fh_shm *w, struct fh_shm_readers *out);

#endif /* FH_SHM_H */
