/* SPDX-License-Identifier: MIT */
/* fh_pcap.h: classic pcap reader (µs and ns magic, both byte orders), mmap'd or buffered. */
#ifndef FH_PCAP_H
#define FH_PCAP_H

/*
 * Reads classic libpcap files (not pcapng). Regular files are mmap'd and
 * records point into the mapping; pipes (or FH_PCAP_BUFFERED) are read
 * through a fixed buffer and records point into it until the next call.
 * Every record header is bounds-checked: a caplen above the snaplen limit
 * (FH_PCAP_MAX_CAPLEN) or past the end of the file ends the read with
 * -EINVAL (a file cut short mid-record is reported, not read past).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FH_PCAP_MAGIC_US 0xa1b2c3d4u
#define FH_PCAP_MAGIC_NS 0xa1b23c4du
#define FH_PCAP_FILE_HDR_LEN 24
#define FH_PCAP_REC_HDR_LEN 16
#define FH_PCAP_MAX_CAPLEN 262144u

#define FH_PCAP_BUFFERED 0x1 /* read() through a buffer even when mmap would work */

struct fh_pcap {
	const uint8_t *base;  /* mapping, or the buffer */
	size_t size;          /* bytes valid at base */
	size_t off;           /* next record header, from base */
	uint8_t *buf;         /* buffered mode: owned buffer */
	size_t buf_cap;
	int fd;               /* -1 for memory */
	bool mapped;
	bool eof;             /* buffered: read() returned 0 */
	bool swapped;         /* file byte order differs from host */
	bool nsec;            /* timestamps in ns */
	uint32_t linktype;
	uint32_t snaplen;
	uint16_t version_major, version_minor;
	uint64_t records;
};

struct fh_pcap_rec {
	const uint8_t *data;
	uint32_t caplen;
	uint32_t origlen;
	uint64_t ts_ns; /* since the Unix epoch */
};

/* True when buf starts with a classic pcap magic (either byte order). */
bool fh_pcap_is_pcap(const uint8_t *buf, size_t len);

/* Opens path ("-" = stdin). Returns 0 or -errno (-EINVAL: not a pcap). */
int fh_pcap_open(struct fh_pcap *p, const char *path, unsigned flags);

/* Reads from fd (taken: closed by fh_pcap_close), npre bytes already read from it first. */
int fh_pcap_open_fd(struct fh_pcap *p, int fd, const uint8_t *pre, size_t npre);

/* Reads from memory (not copied; must outlive the reader). Returns 0 or -EINVAL. */
int fh_pcap_open_mem(struct fh_pcap *p, const uint8_t *buf, size_t len);

/* Next record: 1 and *r filled, 0 at a clean end, -EINVAL corrupt/cut, -errno on I/O error. */
int fh_pcap_next(struct fh_pcap *p, struct fh_pcap_rec *r);

void fh_pcap_close(struct fh_pcap *p);

/* Writer helpers (tests, tools): file header and one record into a FILE. Return 0 or -EIO. */
int fh_pcap_write_hdr(FILE *f, bool nsec, uint32_t linktype);
int fh_pcap_write_rec(FILE *f, bool nsec, uint64_t ts_ns, const void *data, uint32_t len);

#endif /* FH_PCAP_H */
