/* SPDX-License-Identifier: MIT */
/* fh_itch_file.c: replay of ITCH pcaps (MoldUDP64) and Nasdaq day files through one callback set. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fh_dlq.h"
#include "fh_itch_file.h"
#include "fh_pcap.h"

#include <zlib.h>

struct replay {
	const struct fh_itch_file_cfg *cfg;
	const struct fh_itch_file_ops *ops;
	void *arg;
	struct fh_itch_file_stats *st;
	struct {
		uint32_t src_ip, dst_ip;
		uint16_t dst_port;
	} lines[FH_MOLD_MAX_LINES];
	unsigned nlines;
	uint64_t day_seq; /* day files: position of the next message, from 1 */
	struct fh_event evs[FH_ITCH_MAX_EVENTS];
};

int fh_itch_file_detect(const uint8_t *buf, size_t len)
{
	if (fh_pcap_is_pcap(buf, len))
		return FH_ITCH_FILE_PCAP;
	if (len >= 4 && !memcmp(buf, "\x0a\x0d\x0d\x0a", 4))
		return FH_ITCH_FILE_PCAPNG;
	if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b)
		return FH_ITCH_FILE_GZIP;
	return FH_ITCH_FILE_DAY;
}

uint64_t fh_itch_file_rejects(const struct fh_itch_file_stats *st)
{
	uint64_t n = 0;

	for (unsigned i = 1; i < FH_ITCH_REJ__COUNT; i++)
		n += st->rejects[i] + st->mold.rejects[i] + st->decoder.rejects[i];
	return n;
}

/* One message after sequencing: to ops->msg, then decoded to ops->events. */
static int deliver(struct replay *r, const uint8_t *msg, size_t len, uint64_t seq,
		   const char *session, uint64_t recv_ts_ns)
{
	int rc;

	r->st->messages++;
	if (r->ops->msg && (rc = r->ops->msg(r->arg, msg, len, seq, session, recv_ts_ns)) != 0)
		return rc;
	if (r->ops->events) {
		int n = fh_itch_decode(&r->st->decoder, msg, len, seq, recv_ts_ns, r->evs);
		if (n > 0 && (rc = r->ops->events(r->arg, r->evs, (unsigned)n)) != 0)
			return rc;
	}
	return 0;
}

/*
 * Delivers the complete records of buf[0..len). With more input to come
 * (!eof) a record cut by the end of the buffer waits; at the end of the
 * input it is an overrun. *used = bytes consumed.
 */
static int replay_day(struct replay *r, const uint8_t *buf, size_t len, bool eof, size_t *used)
{
	static const char nosession[FH_MOLD_SESSION_LEN];
	size_t off = 0;
	int rc = 0;

	while (off < len) {
		if (len - off < 2 || len - off - 2 < fh_be16(buf + off)) {
			if (!eof)
				break;
			r->st->rejects[FH_ITCH_REJ_OVERRUN]++;
			if (r->cfg->dlq)
				fh_dlq_write(r->cfg->dlq, r->cfg->source_id, NULL, r->day_seq, 0,
					     "overrun", buf + off, len - off);
			off = len;
			break;
		}
		size_t l = fh_be16(buf + off);
		r->st->records++;
		if (l == 0) {
			/* Nothing to deliver and no sequence used: note it and go on. */
			r->st->rejects[FH_ITCH_REJ_BAD_BLOCK_LEN]++;
			if (r->cfg->dlq)
				fh_dlq_write(r->cfg->dlq, r->cfg->source_id, NULL, r->day_seq, 0,
					     "bad_block_len", buf + off, 2);
			off += 2;
			continue;
		}
		rc = deliver(r, buf + off + 2, l, r->day_seq, nosession, 0);
		r->day_seq++;
		off += 2 + l;
		if (rc)
			break;
	}
	*used = off;
	return rc;
}

/* A day file from a pipe or a gzip stream, in constant memory. */
static int replay_day_stream(struct replay *r, int fd, gzFile gz, const uint8_t *pre, size_t npre)
{
	const size_t cap = 1u << 20; /* > the longest record (2 + 65535) */
	uint8_t *b = malloc(cap);
	size_t len = npre, used;
	bool eof = false;
	int rc = 0;

	if (!b)
		return -ENOMEM;
	memcpy(b, pre, npre);
	r->st->bytes += npre;
	for (;;) {
		ssize_t n = 0;
		if (!eof) {
			n = gz ? gzread(gz, b + len, (unsigned)(cap - len)) : read(fd, b + len, cap - len);
			if (n < 0) {
				if (!gz && errno == EINTR)
					continue;
				rc = gz ? -EIO : -errno;
				break;
			}
			eof = n == 0;
			len += (size_t)n;
			r->st->bytes += (uint64_t)n;
		}
		rc = replay_day(r, b, len, eof, &used);
		memmove(b, b + used, len - used);
		len -= used;
		if (rc || eof)
			break;
	}
	free(b);
	return rc;
}

static unsigned line_of(struct replay *r, const struct fh_pkt_udp *u)
{
	for (unsigned i = 0; i < r->nlines; i++)
		if (r->lines[i].src_ip == u->src_ip && r->lines[i].dst_ip == u->dst_ip &&
		    r->lines[i].dst_port == u->dst_port)
			return i;
	if (r->nlines == FH_MOLD_MAX_LINES)
		return FH_MOLD_MAX_LINES - 1;
	r->lines[r->nlines].src_ip = u->src_ip;
	r->lines[r->nlines].dst_ip = u->dst_ip;
	r->lines[r->nlines].dst_port = u->dst_port;
	return r->nlines++;
}

static int replay_pcap(struct replay *r, struct fh_pcap *pc)
{
	struct fh_pcap_rec rec;
	struct fh_pkt_udp udp;
	struct fh_mold_rx rx;
	struct fh_mold *m = &r->st->mold;
	int rc;

	while ((rc = fh_pcap_next(pc, &rec)) == 1) {
		r->st->records++;
		r->st->bytes += rec.caplen;
		r->st->pkt.frames++;
		int pr = fh_pkt_parse(pc->linktype, rec.data, rec.caplen, &r->cfg->filter, &udp);
		r->st->pkt.result[pr]++;
		if (pr != FH_PKT_OK) {
			if (pr >= FH_PKT_FIRST_REJ) {
				r->st->rejects[FH_ITCH_REJ_BAD_FRAME]++;
				if (r->cfg->dlq) {
					char reason[FH_DLQ_REASON_LEN];
					snprintf(reason, sizeof(reason), "frame_%s", fh_pkt_result_name((unsigned)pr));
					fh_dlq_write(r->cfg->dlq, r->cfg->source_id, NULL, 0, rec.ts_ns,
						     reason, rec.data, rec.caplen);
				}
			}
			continue;
		}
		r->st->pkt.udp++;
		int mr = fh_mold_rx(m, line_of(r, &udp), udp.payload, udp.len, rec.ts_ns, &rx);
		if (r->ops->packet) {
			struct fh_itch_file_pkt pk = {
				.frame = pc->records, .recv_ts_ns = rec.ts_ns, .udp = &udp,
				.hdr = udp.len >= FH_MOLD_HDR_LEN ? &rx.hdr : NULL, .result = mr,
			};
			if ((rc = r->ops->packet(r->arg, &pk)) != 0)
				return rc;
		}
		if (mr < 0)
			continue;
		for (unsigned i = 0; i < rx.nstatus; i++)
			if (r->ops->status && (rc = r->ops->status(r->arg, &rx.status[i])) != 0)
				return rc;
		if (rx.n) {
			fh_itch_decoder_set_session(&r->st->decoder, rx.hdr.session);
			const uint8_t *cur = rx.next;
			for (unsigned i = 0; i < rx.n; i++) {
				size_t l;
				const uint8_t *msg = fh_mold_next_msg(&cur, &l);
				/* sequence-0 (unsequenced) packets: every message keeps seq 0 */
				uint64_t seq = rx.first_seq ? rx.first_seq + i : 0;
				if ((rc = deliver(r, msg, l, seq, rx.hdr.session, rec.ts_ns)) != 0)
					return rc;
			}
		}
	}
	return rc;
}

static void setup(struct replay *r, const struct fh_itch_file_cfg *cfg,
		  const struct fh_itch_file_ops *ops, void *arg, struct fh_itch_file_stats *st)
{
	memset(r, 0, sizeof(*r));
	memset(st, 0, sizeof(*st));
	r->cfg = cfg;
	r->ops = ops;
	r->arg = arg;
	r->st = st;
	r->day_seq = 1;
	fh_mold_init(&st->mold, cfg->source_id, cfg->dlq);
	fh_itch_decoder_init(&st->decoder, cfg->source_id, cfg->day_base_ns, cfg->dlq);
}

int fh_itch_file_replay_mem(const uint8_t *buf, size_t len, const struct fh_itch_file_cfg *cfg,
			    const struct fh_itch_file_ops *ops, void *arg,
			    struct fh_itch_file_stats *stats)
{
	static const struct fh_itch_file_cfg defcfg;
	struct fh_itch_file_stats local;
	struct replay r;
	int rc;

	if (!cfg)
		cfg = &defcfg;
	if (!stats)
		stats = &local;
	setup(&r, cfg, ops, arg, stats);
	int fmt = cfg->format ? cfg->format : fh_itch_file_detect(buf, len);
	stats->format = fmt;
	if (fmt == FH_ITCH_FILE_PCAP) {
		struct fh_pcap pc;
		if (fh_pcap_open_mem(&pc, buf, len) < 0)
			return -EINVAL;
		rc = replay_pcap(&r, &pc);
		fh_pcap_close(&pc);
		return rc;
	}
	if (fmt == FH_ITCH_FILE_PCAPNG || fmt == FH_ITCH_FILE_GZIP)
		return -EPROTONOSUPPORT;
	stats->bytes = len;
	size_t used;
	return replay_day(&r, buf, len, true, &used);
}

/* A pipe or other non-regular file: read it whole. */
static int slurp(int fd, uint8_t **out, size_t *outlen)
{
	size_t cap = 1 << 20, len = 0;
	uint8_t *b = malloc(cap);

	if (!b)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			uint8_t *nb = realloc(b, cap * 2);
			if (!nb) {
				free(b);
				return -ENOMEM;
			}
			b = nb;
			cap *= 2;
		}
		ssize_t n = read(fd, b + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = -errno;
			free(b);
			return e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*out = b;
	*outlen = len;
	return 0;
}

int fh_itch_file_replay(const char *path, const struct fh_itch_file_cfg *cfg,
			const struct fh_itch_file_ops *ops, void *arg,
			struct fh_itch_file_stats *stats)
{
	static const struct fh_itch_file_cfg defcfg;
	struct fh_itch_file_stats local;
	struct stat st;
	uint8_t head[4];
	int fd, rc;

	if (!cfg)
		cfg = &defcfg;
	if (!stats)
		stats = &local;
	fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		/* A pipe: peek at the first bytes, then stream. */
		size_t hn = 0;
		while (hn < sizeof(head)) {
			ssize_t n = read(fd, head + hn, sizeof(head) - hn);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				rc = -errno;
				goto out_close;
			}
			if (n == 0)
				break;
			hn += (size_t)n;
		}
		int fmt = cfg->format ? cfg->format : fh_itch_file_detect(head, hn);
		struct replay r;
		setup(&r, cfg, ops, arg, stats);
		stats->format = fmt;
		if (fmt == FH_ITCH_FILE_PCAP) {
			struct fh_pcap pc;
			rc = fh_pcap_open_fd(&pc, fd, head, hn); /* takes the fd */
			if (rc < 0)
				return rc;
			rc = replay_pcap(&r, &pc);
			fh_pcap_close(&pc);
			return rc;
		}
		if (fmt == FH_ITCH_FILE_PCAPNG || fmt == FH_ITCH_FILE_GZIP) {
			rc = -EPROTONOSUPPORT;
			goto out_close;
		}
		rc = replay_day_stream(&r, fd, NULL, head, hn);
		goto out_close;
	}
	ssize_t hn = pread(fd, head, sizeof(head), 0);
	if (hn < 0) {
		rc = -errno;
		goto out_close;
	}
	int fmt = cfg->format ? cfg->format : fh_itch_file_detect(head, (size_t)hn);
	if (fmt == FH_ITCH_FILE_PCAP) {
		struct fh_pcap pc;
		struct replay r;
		close(fd);
		rc = fh_pcap_open(&pc, path, cfg->pcap_flags);
		if (rc < 0)
			return rc;
		setup(&r, cfg, ops, arg, stats);
		stats->format = fmt;
		rc = replay_pcap(&r, &pc);
		fh_pcap_close(&pc);
		return rc;
	}
	if (fmt == FH_ITCH_FILE_PCAPNG) {
		stats->format = fmt;
		rc = -EPROTONOSUPPORT;
		goto out_close;
	}
	if (fmt == FH_ITCH_FILE_GZIP) {
		/* Nasdaq publishes day files gzipped: read them as they are. */
		struct replay r;
		int gfd = dup(fd);
		gzFile gz = gfd >= 0 ? gzdopen(gfd, "rb") : NULL;
		if (!gz) {
			if (gfd >= 0)
				close(gfd);
			rc = -ENOMEM;
			goto out_close;
		}
		gzbuffer(gz, 1u << 18);
		setup(&r, cfg, ops, arg, stats);
		uint8_t in[4];
		int n = gzread(gz, in, sizeof(in));
		if (n < 0) {
			rc = -EIO;
		} else if (fh_itch_file_detect(in, (size_t)n) != FH_ITCH_FILE_DAY) {
			stats->format = FH_ITCH_FILE_GZIP; /* a gzipped pcap: zcat it into a pipe */
			rc = -EPROTONOSUPPORT;
		} else {
			stats->format = FH_ITCH_FILE_DAY;
			rc = replay_day_stream(&r, -1, gz, in, (size_t)n);
		}
		gzclose(gz);
		goto out_close;
	}
	if (st.st_size == 0) {
		rc = fh_itch_file_replay_mem(NULL, 0, cfg, ops, arg, stats);
		goto out_close;
	}
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		uint8_t *b = NULL;
		size_t len = 0;
		rc = slurp(fd, &b, &len);
		if (rc == 0) {
			rc = fh_itch_file_replay_mem(b, len, cfg, ops, arg, stats);
			free(b);
		}
		goto out_close;
	}
	madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
	struct fh_itch_file_cfg c = *cfg;
	c.format = FH_ITCH_FILE_DAY;
	rc = fh_itch_file_replay_mem(m, (size_t)st.st_size, &c, ops, arg, stats);
	munmap(m, (size_t)st.st_size);
out_close:
	close(fd);
	return rc;
}
