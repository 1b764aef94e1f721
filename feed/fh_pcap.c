/* SPDX-License-Identifier: MIT */
/* fh_pcap.c: classic pcap reader (mmap or buffered read) and a minimal writer. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fh_pcap.h"

#define BUF_CAP (2u * (FH_PCAP_MAX_CAPLEN + FH_PCAP_REC_HDR_LEN) + 65536u)

static uint32_t rd32(const struct fh_pcap *p, const uint8_t *b)
{
	uint32_t v;
	memcpy(&v, b, 4);
	return p->swapped ? __builtin_bswap32(v) : v;
}

static uint16_t rd16(const struct fh_pcap *p, const uint8_t *b)
{
	uint16_t v;
	memcpy(&v, b, 2);
	return p->swapped ? __builtin_bswap16(v) : v;
}

bool fh_pcap_is_pcap(const uint8_t *buf, size_t len)
{
	uint32_t m;

	if (len < 4)
		return false;
	memcpy(&m, buf, 4);
	return m == FH_PCAP_MAGIC_US || m == FH_PCAP_MAGIC_NS ||
	       m == __builtin_bswap32(FH_PCAP_MAGIC_US) || m == __builtin_bswap32(FH_PCAP_MAGIC_NS);
}

static int parse_file_hdr(struct fh_pcap *p, const uint8_t *b, size_t len)
{
	uint32_t m;

	if (len < FH_PCAP_FILE_HDR_LEN || !fh_pcap_is_pcap(b, len))
		return -EINVAL;
	memcpy(&m, b, 4);
	p->swapped = m == __builtin_bswap32(FH_PCAP_MAGIC_US) ||
		     m == __builtin_bswap32(FH_PCAP_MAGIC_NS);
	p->nsec = m == FH_PCAP_MAGIC_NS || m == __builtin_bswap32(FH_PCAP_MAGIC_NS);
	p->version_major = rd16(p, b + 4);
	p->version_minor = rd16(p, b + 6);
	p->snaplen = rd32(p, b + 16);
	/* The top bits of the link-type field carry FCS information. */
	p->linktype = rd32(p, b + 20) & 0x0fffffffu;
	return 0;
}

int fh_pcap_open_mem(struct fh_pcap *p, const uint8_t *buf, size_t len)
{
	memset(p, 0, sizeof(*p));
	p->fd = -1;
	p->base = buf;
	p->size = len;
	p->eof = true;
	if (parse_file_hdr(p, buf, len) < 0)
		return -EINVAL;
	p->off = FH_PCAP_FILE_HDR_LEN;
	return 0;
}

/* Buffered mode: make at least `need` bytes available at base + off, if the file has them. */
static int fill(struct fh_pcap *p, size_t need)
{
	while (p->size - p->off < need && !p->eof) {
		if (p->off > 0) {
			memmove(p->buf, p->buf + p->off, p->size - p->off);
			p->size -= p->off;
			p->off = 0;
		}
		ssize_t r = read(p->fd, p->buf + p->size, p->buf_cap - p->size);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			p->eof = true;
		p->size += (size_t)r;
	}
	return 0;
}

int fh_pcap_open_fd(struct fh_pcap *p, int fd, const uint8_t *pre, size_t npre)
{
	int rc;

	memset(p, 0, sizeof(*p));
	p->buf = malloc(BUF_CAP);
	if (!p->buf) {
		close(fd);
		p->fd = -1;
		return -ENOMEM;
	}
	p->buf_cap = BUF_CAP;
	p->base = p->buf;
	p->fd = fd;
	memcpy(p->buf, pre, npre < BUF_CAP ? npre : BUF_CAP);
	p->size = npre < BUF_CAP ? npre : BUF_CAP;
	rc = fill(p, FH_PCAP_FILE_HDR_LEN);
	if (rc < 0 || parse_file_hdr(p, p->base, p->size) < 0) {
		fh_pcap_close(p);
		return rc < 0 ? rc : -EINVAL;
	}
	p->off = FH_PCAP_FILE_HDR_LEN;
	return 0;
}

int fh_pcap_open(struct fh_pcap *p, const char *path, unsigned flags)
{
	struct stat st;
	int fd, rc;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out_close;
	}
	if (!(flags & FH_PCAP_BUFFERED) && S_ISREG(st.st_mode) && st.st_size > 0) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m != MAP_FAILED) {
			madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
			close(fd);
			p->base = m;
			p->size = (size_t)st.st_size;
			p->mapped = true;
			p->eof = true;
			if (parse_file_hdr(p, p->base, p->size) < 0) {
				fh_pcap_close(p);
				return -EINVAL;
			}
			p->off = FH_PCAP_FILE_HDR_LEN;
			return 0;
		}
	}
	p->buf = malloc(BUF_CAP);
	if (!p->buf) {
		rc = -ENOMEM;
		goto out_close;
	}
	p->buf_cap = BUF_CAP;
	p->base = p->buf;
	p->fd = fd;
	rc = fill(p, FH_PCAP_FILE_HDR_LEN);
	if (rc < 0 || parse_file_hdr(p, p->base, p->size) < 0) {
		fh_pcap_close(p);
		return rc < 0 ? rc : -EINVAL;
	}
	p->off = FH_PCAP_FILE_HDR_LEN;
	return 0;
out_close:
	close(fd);
	return rc;
}

int fh_pcap_next(struct fh_pcap *p, struct fh_pcap_rec *r)
{
	int rc;

	if (p->buf && (rc = fill(p, FH_PCAP_REC_HDR_LEN)) < 0)
		return rc;
	size_t avail = p->size - p->off;
	if (avail == 0)
		return 0;
	if (avail < FH_PCAP_REC_HDR_LEN)
		return -EINVAL;
	const uint8_t *h = p->base + p->off;
	uint32_t sec = rd32(p, h), frac = rd32(p, h + 4);
	uint32_t caplen = rd32(p, h + 8), origlen = rd32(p, h + 12);
	if (caplen > FH_PCAP_MAX_CAPLEN)
		return -EINVAL;
	if (p->buf && (rc = fill(p, FH_PCAP_REC_HDR_LEN + (size_t)caplen)) < 0)
		return rc;
	h = p->base + p->off; /* fill() may have moved the bytes */
	if (p->size - p->off < FH_PCAP_REC_HDR_LEN + (size_t)caplen)
		return -EINVAL;
	r->data = h + FH_PCAP_REC_HDR_LEN;
	r->caplen = caplen;
	r->origlen = origlen;
	r->ts_ns = (uint64_t)sec * 1000000000ull + (p->nsec ? frac : (uint64_t)frac * 1000u);
	p->off += FH_PCAP_REC_HDR_LEN + (size_t)caplen;
	p->records++;
	return 1;
}

void fh_pcap_close(struct fh_pcap *p)
{
	if (p->mapped)
		munmap((void *)(uintptr_t)p->base, p->size);
	free(p->buf);
	if (p->fd >= 0)
		close(p->fd);
	memset(p, 0, sizeof(*p));
	p->fd = -1;
}

int fh_pcap_write_hdr(FILE *f, bool nsec, uint32_t linktype)
{
	uint32_t h[6] = { nsec ? FH_PCAP_MAGIC_NS : FH_PCAP_MAGIC_US, 2 | (4u << 16), 0, 0,
			  FH_PCAP_MAX_CAPLEN, linktype };
	return fwrite(h, sizeof(h), 1, f) == 1 ? 0 : -EIO;
}

int fh_pcap_write_rec(FILE *f, bool nsec, uint64_t ts_ns, const void *data, uint32_t len)
{
	uint32_t h[4] = { (uint32_t)(ts_ns / 1000000000ull),
			  (uint32_t)(nsec ? ts_ns % 1000000000ull : ts_ns % 1000000000ull / 1000u),
			  len, len };
	if (fwrite(h, sizeof(h), 1, f) != 1 || (len && fwrite(data, len, 1, f) != 1))
		return -EIO;
	return 0;
}
