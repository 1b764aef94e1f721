/* SPDX-License-Identifier: MIT */
/* fh_sub.h: subscriber library for the fh shared-memory broadcast ring (libc only). */
#ifndef FH_SUB_H
#define FH_SUB_H

/*
 * A trading app on the box maps the ring READ-ONLY and polls it:
 *
 *   struct fh_sub *s = fh_sub_open("fh", NULL);      // /dev/shm/fh
 *   struct fh_sub_msg m;
 *   for (;;) switch (fh_sub_poll(s, &m)) {
 *   case FH_SUB_EVENT:       use(&m.ev); break;
 *   case FH_SUB_EMPTY:       break;                // spin or back off
 *   case FH_SUB_LAPPED:      m.lost events were overwritten before we read them
 *   case FH_SUB_WRITER_GONE: reopen later
 *   }
 *
 * Layout (docs/PUBLISH.md): a 4096-byte header then `capacity` slots of
 * 128 bytes: one line {seq, pub_tsc} and one line with the 64-byte
 * struct fh_event. Position p lives in slot p & (capacity-1); its seq is
 * 2p+1 while the writer fills it and 2p+2 once complete. A reader copies the
 * event between two reads of seq (a seqlock), so it never returns a torn
 * event; a seq beyond 2p+2 means the writer lapped the reader, which then
 * jumps forward and reports exactly how many positions it skipped.
 *
 * Only libc: link publish/fh_sub.c into any program. Not thread-safe: one
 * struct fh_sub per reading thread (any number of them, in any process).
 * No syscall per event; the writer-liveness check on an empty ring reads the
 * clock and calls kill(pid, 0) at most every `check_every` empty polls.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fh_event.h"

#define FH_SHM_MAGIC 0x31474e5248534846ull /* "FHSHRNG1" */
#define FH_SHM_LAYOUT_VERSION 1
#define FH_SHM_HDR_SIZE 4096
#define FH_SHM_SLOT_SIZE 128
#define FH_SHM_REQ_MAGIC 0x3151455248534846ull /* "FHSHREQ1" */
#define FH_SHM_REQ_SLOTS 64

#define FH_SUB_ALIGN64 __attribute__((aligned(64)))

#define FH_SHM_STATE_RUNNING 1
#define FH_SHM_STATE_CLOSED 2

/* The region header. Lines 0-1 are immutable once magic is set. */
struct fh_shm_hdr {
	uint64_t magic; /* FH_SHM_MAGIC, stored last at creation (release) */
	uint32_t layout_version;
	uint32_t schema_version; /* FH_EVENT_SCHEMA_VERSION of the writer */
	uint64_t capacity;       /* slots, a power of two */
	uint32_t slot_size;      /* FH_SHM_SLOT_SIZE */
	uint32_t hdr_size;       /* FH_SHM_HDR_SIZE */
	uint32_t writer_pid;
	uint32_t pad0;
	uint64_t created_ns; /* CLOCK_REALTIME at creation: identifies this incarnation */
	double tsc_hz;       /* writer's TSC rate, to turn pub_tsc deltas into ns */
	uint64_t tsc0;       /* TSC and CLOCK_REALTIME ns sampled together by the writer */
	uint64_t ns0;
	uint32_t book_depth; /* levels per side the L2 updates describe (books.depth); 0: unknown */
	/* line 2: liveness, written about every millisecond */
	uint64_t heartbeat_ns FH_SUB_ALIGN64; /* CLOCK_REALTIME of the writer's last heartbeat */
	uint32_t state;                       /* FH_SHM_STATE_* */
	uint32_t pad1;
	/* line 3: next position to be written, published once per batch */
	uint64_t head FH_SUB_ALIGN64;
};

struct fh_shm_slot {
	uint64_t seq;     /* 2p+1 while writing position p, 2p+2 when complete */
	uint64_t pub_tsc; /* writer TSC when the batch holding p was published */
	uint8_t pad[48];
	struct fh_event ev;
};

_Static_assert(sizeof(struct fh_shm_slot) == FH_SHM_SLOT_SIZE, "slot is two cache lines");
_Static_assert(offsetof(struct fh_shm_slot, ev) == 64, "event on its own line");
_Static_assert(sizeof(struct fh_shm_hdr) <= FH_SHM_HDR_SIZE, "header fits its page");
_Static_assert(offsetof(struct fh_shm_hdr, book_depth) == 72, "layout");
_Static_assert(offsetof(struct fh_shm_hdr, heartbeat_ns) == 128, "layout");
_Static_assert(offsetof(struct fh_shm_hdr, head) == 192, "layout");

/*
 * Reader slots, in the request file after the request words: a reader with
 * write access to `<path>.req` claims a free slot at open (CAS of `owner`
 * from 0) and, while polling, stores its position and counters there with
 * plain stores (every 1024 events, on a lap, when it runs dry and at every
 * liveness check of an empty ring: no syscall per event, no store the
 * writer waits for). The writer's control thread reads them
 * (fh_shm_readers()): readers, their lag, laps and lost events. A slot
 * whose reader died (fh_sub_reader_dead()) is reclaimed by the writer or by
 * a new reader; its laps and lost events move to `retired_*` first, as do
 * those of a reader that closes, so the totals never go down.
 */
#define FH_SHM_READER_SLOTS 64
struct fh_shm_reader {
	uint64_t owner;    /* 0: free; else pid << 32 | tag (tag != 0, per open) */
	uint64_t start_ns; /* CLOCK_REALTIME at open */
	uint64_t beat_ns;  /* CLOCK_REALTIME of the last update */
	uint64_t pos;      /* next position it reads */
	uint64_t events;   /* events returned */
	uint64_t laps;     /* times lapped */
	uint64_t lost;     /* positions lost to laps */
	uint32_t pid;
	uint32_t pad;
} FH_SUB_ALIGN64;

/* Snapshot request area `<path>.req`, group-writable: each word is 0 (free)
 * or FH_SHM_REQ_VALID | source_id << 32 | instrument (FH_INSTRUMENT_NONE: all).
 * Reader slots follow (a file shorter than struct fh_shm_req has none). */
#define FH_SHM_REQ_VALID (1ull << 63)
struct fh_shm_req {
	uint64_t magic;
	uint64_t created_ns; /* equals the ring's created_ns */
	uint64_t pad[6];
	uint64_t word[FH_SHM_REQ_SLOTS];
	/* laps, lost events and count of the readers whose slots were freed;
	 * whoever frees a slot bumps retire_begin before and retire_end after,
	 * so a scan can tell that no slot moved to the totals while it summed */
	uint64_t retired_laps FH_SUB_ALIGN64;
	uint64_t retired_lost;
	uint64_t retired_readers;
	uint64_t retire_begin;
	uint64_t retire_end;
	struct fh_shm_reader reader[FH_SHM_READER_SLOTS];
};
#define FH_SHM_REQ_V1_SIZE offsetof(struct fh_shm_req, retired_laps)
_Static_assert(FH_SHM_REQ_V1_SIZE == 576, "request words: layout of version 1");
_Static_assert(sizeof(struct fh_shm_reader) == 64, "one line per reader");

enum fh_sub_status {
	FH_SUB_EMPTY = 0,       /* nothing new yet */
	FH_SUB_EVENT = 1,       /* m->ev, m->pos, m->pub_tsc are set */
	FH_SUB_LAPPED = 2,      /* m->lost positions were overwritten unread; resynchronised */
	FH_SUB_WRITER_GONE = 3, /* writer closed, died, or its heartbeat is older than the timeout */
};

/* Where a new reader starts. */
enum fh_sub_start {
	FH_SUB_START_NEWEST = 0, /* the newest complete event, then what follows */
	FH_SUB_START_NEXT = 1,   /* only events written after opening */
	FH_SUB_START_OLDEST = 2, /* the oldest event still in the ring */
};

struct fh_sub_opts {
	enum fh_sub_start start;
	const char *dir;            /* when name has no '/': default "/dev/shm" */
	uint64_t writer_timeout_ms; /* heartbeat age that means gone; 0: 3000 */
	unsigned check_every;       /* empty polls between liveness checks; 0: 4096 */
	uint64_t type_mask;         /* bit t passes event type t; 0: all */
};

struct fh_sub_msg {
	struct fh_event ev;
	uint64_t pos;     /* ring position (0, 1, 2, ... across the writer's life) */
	uint64_t pub_tsc; /* writer TSC at publish */
	uint64_t lost;    /* FH_SUB_LAPPED: positions skipped */
};

struct fh_sub_stats {
	uint64_t events;   /* returned */
	uint64_t filtered; /* read but filtered out */
	uint64_t lapped;   /* times lapped */
	uint64_t lost;     /* positions lost to laps, in total */
	uint64_t retries;  /* seqlock re-reads (torn copy detected) */
};

struct fh_sub;

/* Maps the ring `name` (in opts->dir) or a path (name containing '/')
 * read-only and checks magic, layout and schema version. opts may be NULL.
 * Returns NULL with errno set (EPROTO: not an fh ring or another version;
 * EAGAIN: the writer is still creating it, try again in a few ms). */
struct fh_sub *fh_sub_open(const char *name, const struct fh_sub_opts *opts);
void fh_sub_close(struct fh_sub *s);

/* Next event: returns enum fh_sub_status or -errno. */
int fh_sub_poll(struct fh_sub *s, struct fh_sub_msg *m);

/* Filters. Instrument filter: only events of the listed instruments
 * (and events without an instrument, FH_INSTRUMENT_NONE) pass; source 0xffff
 * matches any source. Returns 0 or -ENOMEM. */
int fh_sub_filter_instrument(struct fh_sub *s, uint16_t source_id, uint32_t instrument);
void fh_sub_filter_types(struct fh_sub *s, uint64_t type_mask);

/* Asks the writer to republish book snapshots (instrument FH_INSTRUMENT_NONE:
 * all instruments of the source; source 0xffff: all sources) through the
 * request area. Returns 0, -EAGAIN (request area full, retry), -EACCES (not
 * allowed: the request file is group-writable only) or another -errno. */
int fh_sub_request_snapshot(struct fh_sub *s, uint16_t source_id, uint32_t instrument);

/* The mapped header (read-only), for tools. */
const volatile struct fh_shm_hdr *fh_sub_header(const struct fh_sub *s);
/* Position this reader will read next. */
uint64_t fh_sub_position(const struct fh_sub *s);
/* Position the writer will write next (as published per batch). */
uint64_t fh_sub_head(const struct fh_sub *s);
void fh_sub_get_stats(const struct fh_sub *s, struct fh_sub_stats *st);

/* Whether a claimed reader slot's reader is gone, at CLOCK_REALTIME now_ns:
 * its pid does not exist (kill(pid, 0): ESRCH) and it has not updated the
 * slot for 2 s (in another pid namespace the pid means nothing), or it has
 * not updated the slot for 60 s whatever its pid. */
bool fh_sub_reader_dead(const struct fh_shm_reader *r, uint64_t now_ns);
#define FH_SUB_READER_QUIET_NS 2000000000ull
/* Frees slot r if its owner word still holds `owner`, moving its laps and
 * lost events to the retired totals (writer side: dead readers). Returns
 * whether this call freed it. */
bool fh_sub_retire_slot(struct fh_shm_req *req, struct fh_shm_reader *r, uint64_t owner);
#define FH_SUB_READER_STALE_NS 60000000000ull

/* The reader slot this reader holds (NULL: none: no write access to the
 * request file, all slots taken, or a writer without reader slots). */
const volatile struct fh_shm_reader *fh_sub_reader_slot(const struct fh_sub *s);

/* Reader's TSC now (rdtsc on x86) and a TSC delta in ns using the writer's rate. */
uint64_t fh_sub_tsc(void);
uint64_t fh_sub_tsc_to_ns(const struct fh_sub *s, uint64_t ticks);

/* Decodes one binary event (the Kafka binary value): len must be 64 and
 * the version known. Returns 0 or -EINVAL. Needs no open ring. */
int fh_sub_decode(const void *buf, size_t len, struct fh_event *out);

#endif /* FH_SUB_H */
