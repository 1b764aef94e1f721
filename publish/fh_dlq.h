/* SPDX-License-Identifier: MIT */
/* fh_dlq.h: the dead-letter sink, raw bytes of every rejected input with its reason. */
#ifndef FH_DLQ_H
#define FH_DLQ_H

/*
 * Every decoder sends what it rejects here: the raw bytes, a reason name,
 * the source, session and sequence. The file is a sequence of records
 * (struct fh_dlq_rec followed by `len` raw bytes) after an 8-byte magic
 * "FHDLQ01\n"; `fh-dlq FILE` prints it. Writes are buffered (stdio) and
 * serialised by a mutex: this is the rare path, never the per-packet one.
 * A sink opened with path NULL counts records and writes nothing. Writing
 * stops (and counts `dropped`) once max_bytes is reached, so a storm of
 * garbage cannot fill the disk.
 */

#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <pthread.h>

#define FH_DLQ_MAGIC "FHDLQ01\n"
#define FH_DLQ_REC_MAGIC 0x51444c46u /* "FLDQ" little-endian */
#define FH_DLQ_REASON_LEN 24
#define FH_DLQ_SESSION_LEN 10

struct fh_dlq_rec {
	uint32_t magic;
	uint32_t len;        /* raw bytes that follow */
	uint64_t recv_ts_ns; /* when the bytes arrived (0 when unknown) */
	uint64_t seq;        /* sequence number of the message, 0 when unknown */
	uint16_t source_id;
	char session[FH_DLQ_SESSION_LEN];
	char reason[FH_DLQ_REASON_LEN]; /* NUL-padded reason name */
	uint8_t pad[4];
};
_Static_assert(sizeof(struct fh_dlq_rec) == 64, "dlq record header is 64 bytes");

struct fh_dlq {
	FILE *f;
	pthread_mutex_t lock;
	uint64_t max_bytes;
	uint64_t bytes;
	uint64_t records; /* records accepted (written, or counted when path is NULL) */
	uint64_t dropped; /* records not written: over max_bytes or a write error */
};

/* Opens (truncates) path; path NULL counts only. max_bytes 0 means 1 GiB.
 * Returns 0 or -errno. */
int fh_dlq_open(struct fh_dlq *d, const char *path, uint64_t max_bytes);

/* Appends one record. session may be NULL. Thread-safe. Returns 0, or
 * -ENOSPC when over max_bytes, -EIO on a write error (both counted). */
int fh_dlq_write(struct fh_dlq *d, uint16_t source_id, const char *session,
		 uint64_t seq, uint64_t recv_ts_ns, const char *reason,
		 const void *bytes, size_t len);

/* Flushes buffered records to the file. Returns 0 or -EIO. */
int fh_dlq_flush(struct fh_dlq *d);

void fh_dlq_close(struct fh_dlq *d);

/* Reader: calls cb for every record of a dead-letter file. Returns the
 * record count, or -errno (-EINVAL for a file that is not a dead-letter
 * file or ends inside a record). */
typedef int (*fh_dlq_cb)(const struct fh_dlq_rec *rec, const uint8_t *bytes, void *arg);
long fh_dlq_read(const char *path, fh_dlq_cb cb, void *arg);

#endif /* FH_DLQ_H */
