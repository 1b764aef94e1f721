/* SPDX-License-Identifier: MIT */
/* fh_dlq.c: dead-letter sink writer and reader. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fh_dlq.h"

int fh_dlq_open(struct fh_dlq *d, const char *path, uint64_t max_bytes)
{
	memset(d, 0, sizeof(*d));
	d->max_bytes = max_bytes ? max_bytes : (1ull << 30);
	pthread_mutex_init(&d->lock, NULL);
	if (!path)
		return 0;
	d->f = fopen(path, "wb");
	if (!d->f)
		return -errno;
	if (fwrite(FH_DLQ_MAGIC, 1, 8, d->f) != 8) {
		fclose(d->f);
		d->f = NULL;
		return -EIO;
	}
	d->bytes = 8;
	return 0;
}

int fh_dlq_write(struct fh_dlq *d, uint16_t source_id, const char *session,
		 uint64_t seq, uint64_t recv_ts_ns, const char *reason,
		 const void *bytes, size_t len)
{
	struct fh_dlq_rec r;
	int ret = 0;

	memset(&r, 0, sizeof(r));
	r.magic = FH_DLQ_REC_MAGIC;
	r.len = (uint32_t)len;
	r.recv_ts_ns = recv_ts_ns;
	r.seq = seq;
	r.source_id = source_id;
	if (session)
		memcpy(r.session, session, strnlen(session, FH_DLQ_SESSION_LEN));
	if (reason)
		memcpy(r.reason, reason, strnlen(reason, FH_DLQ_REASON_LEN - 1));

	pthread_mutex_lock(&d->lock);
	if (!d->f) {
		d->records++;
		goto out;
	}
	if (d->bytes + sizeof(r) + len > d->max_bytes) {
		d->dropped++;
		ret = -ENOSPC;
		goto out;
	}
	if (fwrite(&r, sizeof(r), 1, d->f) != 1 ||
	    (len && fwrite(bytes, len, 1, d->f) != 1)) {
		d->dropped++;
		ret = -EIO;
		goto out;
	}
	d->bytes += sizeof(r) + len;
	d->records++;
out:
	pthread_mutex_unlock(&d->lock);
	return ret;
}

int fh_dlq_flush(struct fh_dlq *d)
{
	int ret = 0;

	pthread_mutex_lock(&d->lock);
	if (d->f && fflush(d->f) != 0)
		ret = -EIO;
	pthread_mutex_unlock(&d->lock);
	return ret;
}

void fh_dlq_close(struct fh_dlq *d)
{
	if (d->f) {
		fclose(d->f);
		d->f = NULL;
	}
	pthread_mutex_destroy(&d->lock);
}

long fh_dlq_read(const char *path, fh_dlq_cb cb, void *arg)
{
	char magic[8];
	struct fh_dlq_rec r;
	uint8_t *buf = NULL;
	size_t cap = 0;
	long n = 0;
	FILE *f = fopen(path, "rb");

	if (!f)
		return -errno;
	if (fread(magic, 1, 8, f) != 8 || memcmp(magic, FH_DLQ_MAGIC, 8) != 0) {
		n = -EINVAL;
		goto out_close;
	}
	long end = 8; /* offset just past the last whole record */
	while (fread(&r, sizeof(r), 1, f) == 1) {
		if (r.magic != FH_DLQ_REC_MAGIC || r.len > (64u << 20)) {
			n = -EINVAL;
			goto out_free;
		}
		if (r.len > cap) {
			uint8_t *nb = realloc(buf, r.len);
			if (!nb) {
				n = -ENOMEM;
				goto out_free;
			}
			buf = nb;
			cap = r.len;
		}
		if (r.len && fread(buf, r.len, 1, f) != 1) {
			n = -EINVAL;
			goto out_free;
		}
		n++;
		end += (long)(sizeof(r) + r.len);
		if (cb && cb(&r, buf, arg) != 0)
			break;
	}
	if (ferror(f))
		n = -EIO;
	else if (feof(f) && ftell(f) != end)
		n = -EINVAL; /* the file ends inside a record */
out_free:
	free(buf);
out_close:
	fclose(f);
	return n;
}
