/* SPDX-License-Identifier: MIT */
/* fh_sim_out.c: simulator outputs: day files, MoldUDP64/UDP/IPv4/Ethernet pcaps, the in-memory session store. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fh_common.h"
#include "fh_sim.h"

#define FRAME_MAX (14 + 20 + 8 + 9000)
#define PAYLOAD_MAX 8972

/* ---------------------------------------------------------------- day file */

int fh_sim_write_itch(struct fh_sim *s, FILE *f)
{
	enum { BUF = 1 << 20 };
	uint8_t *buf = malloc(BUF);
	size_t n;
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	while ((n = fh_sim_fill(s, buf, BUF)) > 0) {
		if (fwrite(buf, 1, n, f) != n) {
			rc = -EIO;
			break;
		}
	}
	free(buf);
	if (!rc && fflush(f))
		rc = -errno;
	return rc;
}

int fh_sim_write_itch_path(const struct fh_sim_cfg *cfg, const char *path)
{
	struct fh_sim *s = fh_sim_create(cfg);
	FILE *f;
	int rc;

	if (!s)
		return -errno;
	f = fopen(path, "wb");
	if (!f) {
		rc = -errno;
		goto out_destroy;
	}
	rc = fh_sim_write_itch(s, f);
	if (fclose(f) && !rc)
		rc = -errno;
out_destroy:
	fh_sim_destroy(s);
	return rc;
}

uint8_t *fh_sim_itch_mem(const struct fh_sim_cfg *cfg, size_t *len, struct fh_sim_stats *st)
{
	struct fh_sim *s = fh_sim_create(cfg);
	size_t cap, off = 0;
	uint8_t *buf;

	if (!s)
		return NULL;
	/* ~31 B per message on average with its prefix; grow rarely, never per message */
	cap = (size_t)cfg->messages * 33 + 4096;
	buf = malloc(cap);
	if (!buf)
		goto out_nomem;
	for (;;) {
		size_t n = fh_sim_fill(s, buf + off, cap - off);
		off += n;
		if (n == 0 && cap - off >= FH_SIM_MSG_MAX + 2)
			break; /* the session ended */
		if (cap - off < FH_SIM_MSG_MAX + 2) {
			size_t ncap = cap + cap / 4 + 4096;
			uint8_t *nb = realloc(buf, ncap);
			if (!nb)
				goto out_nomem;
			buf = nb;
			cap = ncap;
		}
	}
	if (st)
		fh_sim_get_stats(s, st);
	fh_sim_destroy(s);
	*len = off;
	return buf;

out_nomem:
	free(buf);
	fh_sim_destroy(s);
	errno = ENOMEM;
	return NULL;
}

/* ---------------------------------------------------------------- frames */

void fh_sim_mold_header(uint8_t out[FH_SIM_MOLD_HDR], const char session[10], uint64_t seq,
			uint16_t count)
{
	memcpy(out, session, 10);
	fh_put_be64(out + 10, seq);
	fh_put_be16(out + 18, count);
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (; n > 1; n -= 2, p += 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (n)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

size_t fh_sim_udp_frame(uint8_t *out, size_t cap, uint32_t src_ip, uint32_t dst_ip,
			uint16_t src_port, uint16_t dst_port, const uint8_t *payload, size_t len)
{
	size_t total = 14 + 20 + 8 + len;
	uint8_t *ip = out + 14, *udp = ip + 20;

	if (total > cap || len > 65507)
		return 0;
	if ((dst_ip >> 28) == 0xe) {
		/* IPv4 multicast MAC: 01:00:5e and the group's low 23 bits */
		out[0] = 0x01;
		out[1] = 0x00;
		out[2] = 0x5e;
		out[3] = (uint8_t)((dst_ip >> 16) & 0x7f);
		out[4] = (uint8_t)(dst_ip >> 8);
		out[5] = (uint8_t)dst_ip;
	} else {
		static const uint8_t uc[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
		memcpy(out, uc, 6);
	}
	static const uint8_t src_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
	memcpy(out + 6, src_mac, 6);
	fh_put_be16(out + 12, 0x0800);

	ip[0] = 0x45;
	ip[1] = 0;
	fh_put_be16(ip + 2, (uint16_t)(20 + 8 + len));
	/* deterministic identification: the low bits of the MoldUDP64 sequence (DF is set anyway) */
	fh_put_be16(ip + 4, len >= FH_SIM_MOLD_HDR ? fh_be16(payload + 16) : 0);
	fh_put_be16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = 17;
	fh_put_be16(ip + 10, 0);
	fh_put_be32(ip + 12, src_ip);
	fh_put_be32(ip + 16, dst_ip);
	fh_put_be16(ip + 10, csum_fold(csum_add(0, ip, 20)));

	fh_put_be16(udp, src_port);
	fh_put_be16(udp + 2, dst_port);
	fh_put_be16(udp + 4, (uint16_t)(8 + len));
	fh_put_be16(udp + 6, 0);
	memcpy(udp + 8, payload, len);
	/* pseudo header: src, dst, zero + protocol, UDP length */
	uint32_t sum = csum_add(0, ip + 12, 8);
	sum += 17 + (uint32_t)(8 + len);
	sum = csum_add(sum, udp, 8 + len);
	uint16_t c = csum_fold(sum);
	fh_put_be16(udp + 6, c ? c : 0xffff);
	return total;
}

/* ---------------------------------------------------------------- pcap */

void fh_sim_pcap_cfg_default(struct fh_sim_pcap_cfg *pc)
{
	memset(pc, 0, sizeof(*pc));
	memcpy(pc->session, "FHSIM00001", 10);
	pc->first_seq = 1;
	pc->src_ip = 0x0a000001;   /* 10.0.0.1 */
	pc->group_a = 0xe9360c6f;  /* 233.54.12.111 */
	pc->src_port = 50000;
	pc->port_a = 26477;
	pc->port_b = 26478;
	pc->max_payload = 1400;
	pc->bundle_ns = 1000000;
	pc->heartbeat_ns = 1000000000ULL;
	pc->end_of_session = true;
	pc->epoch_ns = 1577664000ULL * 1000000000ULL; /* 2019-12-30T00:00:00Z */
	pc->b_delay_ns = 2000;
	pc->impair_lines = FH_SIM_LINE_A;
	pc->impair_seed = 7;
}

struct held {
	uint8_t buf[PAYLOAD_MAX];
	size_t len;
	bool full;
};

struct pcap_w {
	FILE *f;
	const struct fh_sim_pcap_cfg *pc;
	struct fh_sim_pcap_stats *st;
	uint64_t rng;
	uint64_t last_rec_ns;
	uint64_t records;
	uint32_t corrupt_flip[2];
	struct held held[2]; /* a packet waiting to be sent after the next (reordering) */
	uint8_t frame[FRAME_MAX];
	int err;
};

static inline uint64_t w_rnd(struct pcap_w *w)
{
	/* splitmix64: the impairment stream is separate from the market model's */
	uint64_t z = (w->rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline bool w_pct(struct pcap_w *w, double pct)
{
	return pct > 0 && (double)(w_rnd(w) >> 11) * 0x1.0p-53 * 100.0 < pct;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static int pcap_header(FILE *f)
{
	uint8_t h[24];

	put_le32(h, 0xa1b23c4d); /* nanosecond timestamps */
	h[4] = 2;
	h[5] = 0;
	h[6] = 4;
	h[7] = 0;
	put_le32(h + 8, 0);
	put_le32(h + 12, 0);
	put_le32(h + 16, 65535);
	put_le32(h + 20, 1); /* Ethernet */
	return fwrite(h, 1, sizeof(h), f) == sizeof(h) ? 0 : -EIO;
}

static void write_record(struct pcap_w *w, int line, uint64_t t_ns, const uint8_t *payload, size_t len)
{
	const struct fh_sim_pcap_cfg *pc = w->pc;
	uint8_t rh[16];
	size_t fl;

	if (w->err)
		return;
	/* capture order is file order: times never go backwards */
	if (t_ns <= w->last_rec_ns && w->records)
		t_ns = w->last_rec_ns + 1;
	w->last_rec_ns = t_ns;
	fl = fh_sim_udp_frame(w->frame, sizeof(w->frame), pc->src_ip, line ? pc->group_b : pc->group_a,
			      pc->src_port, line ? pc->port_b : pc->port_a, payload, len);
	put_le32(rh, (uint32_t)(t_ns / 1000000000ULL));
	put_le32(rh + 4, (uint32_t)(t_ns % 1000000000ULL));
	put_le32(rh + 8, (uint32_t)fl);
	put_le32(rh + 12, (uint32_t)fl);
	if (fwrite(rh, 1, 16, w->f) != 16 || fwrite(w->frame, 1, fl, w->f) != fl)
		w->err = -EIO;
	w->records++;
	w->st->packets++;
}

static void flush_held(struct pcap_w *w, int line, uint64_t t_ns)
{
	struct held *h = &w->held[line];

	if (h->full) {
		h->full = false;
		write_record(w, line, t_ns, h->buf, h->len);
	}
}

/* One data packet on one line, through the impairments. */
static void line_packet(struct pcap_w *w, int line, uint64_t t_ns, uint8_t *pkt, size_t len,
			uint64_t seq, uint16_t count)
{
	const struct fh_sim_pcap_cfg *pc = w->pc;
	uint8_t mask = line ? FH_SIM_LINE_B : FH_SIM_LINE_A;
	bool impair = pc->impair_lines & mask;
	uint8_t tmp[PAYLOAD_MAX];

	for (unsigned g = 0; g < pc->n_gaps; g++) {
		if ((pc->gaps[g].lines & mask) && seq <= pc->gaps[g].last && seq + count > pc->gaps[g].first) {
			w->st->dropped[line]++;
			w->st->dropped_msgs[line] += count;
			flush_held(w, line, t_ns);
			return;
		}
	}
	if (impair && w_pct(w, pc->drop_pct)) {
		w->st->dropped[line]++;
		w->st->dropped_msgs[line] += count;
		flush_held(w, line, t_ns);
		return;
	}
	memcpy(tmp, pkt, len);
	if (impair && w_pct(w, pc->corrupt_pct)) {
		if (w->corrupt_flip[line]++ & 1) {
			/* truncated: the last message loses its last byte */
			len--;
			w->st->truncated[line]++;
		} else {
			/* the first block claims more bytes than the datagram holds */
			fh_put_be16(tmp + FH_SIM_MOLD_HDR, (uint16_t)(len - FH_SIM_MOLD_HDR));
			w->st->bad_len[line]++;
		}
	}
	struct held *h = &w->held[line];
	if (!h->full && impair && w_pct(w, pc->reorder_pct)) {
		memcpy(h->buf, tmp, len);
		h->len = len;
		h->full = true;
		w->st->reordered[line]++;
		return;
	}
	write_record(w, line, t_ns, tmp, len);
	flush_held(w, line, t_ns + 1);
}

static void send_data(struct pcap_w *w, uint64_t t_ns, uint8_t *pkt, size_t len, uint64_t seq,
		      uint16_t count)
{
	w->st->data_packets++;
	line_packet(w, 0, t_ns, pkt, len, seq, count);
	if (w->pc->group_b)
		line_packet(w, 1, t_ns + w->pc->b_delay_ns, pkt, len, seq, count);
}

static void send_plain(struct pcap_w *w, uint64_t t_ns, const uint8_t *pkt, size_t len)
{
	write_record(w, 0, t_ns, pkt, len);
	if (w->pc->group_b)
		write_record(w, 1, t_ns + w->pc->b_delay_ns, pkt, len);
}

static bool gap_boundary(const struct fh_sim_pcap_cfg *pc, uint64_t seq)
{
	for (unsigned g = 0; g < pc->n_gaps; g++)
		if (seq == pc->gaps[g].first || seq == pc->gaps[g].last + 1)
			return true;
	return false;
}

int fh_sim_write_pcap(struct fh_sim *s, const struct fh_sim_pcap_cfg *pc, FILE *f,
		      struct fh_sim_pcap_stats *stp)
{
	struct fh_sim_pcap_stats dummy;
	struct pcap_w *w;
	uint8_t pkt[PAYLOAD_MAX], msg[FH_SIM_MSG_MAX];
	size_t plen = FH_SIM_MOLD_HDR;
	uint16_t count = 0;
	uint64_t seq, pkt_seq, first_ts = 0, last_ts = 0, last_sent = 0, pkt_i = 0, t0 = 0;
	bool started = false;
	int n, rc;

	if (pc->max_payload < 64 || pc->max_payload > PAYLOAD_MAX || !pc->group_a || pc->n_gaps > FH_SIM_MAX_GAPS ||
	    pc->first_seq == 0 || pc->drop_pct < 0 || pc->drop_pct > 100 || pc->reorder_pct < 0 ||
	    pc->reorder_pct > 100 || pc->corrupt_pct < 0 || pc->corrupt_pct > 100)
		return -EINVAL;
	for (unsigned g = 0; g < pc->n_gaps; g++)
		if (pc->gaps[g].first > pc->gaps[g].last || !pc->gaps[g].lines)
			return -EINVAL;
	if (!stp)
		stp = &dummy;
	memset(stp, 0, sizeof(*stp));
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->f = f;
	w->pc = pc;
	w->st = stp;
	w->rng = pc->impair_seed;
	rc = pcap_header(f);
	if (rc)
		goto out_free;

	seq = pkt_seq = pc->first_seq;
	stp->first_seq = seq;
	for (;;) {
		n = fh_sim_next(s, msg, sizeof(msg));
		uint64_t ts = n > 0 ? fh_be48(msg + 5) : last_ts;
		/* close the packet: full, too old, a gap edge, or the session ended */
		if (count && (n <= 0 || plen + 2 + (size_t)n > pc->max_payload ||
			      (pc->bundle_ns && ts - first_ts > pc->bundle_ns) || gap_boundary(pc, seq) ||
			      count == 0xfffe)) {
			uint64_t t;
			if (!started) {
				started = true;
				t0 = pc->epoch_ns + last_ts;
			}
			if (pc->pps) {
				t = t0 + pkt_i * 1000000000ULL / pc->pps;
			} else {
				t = pc->epoch_ns + last_ts;
				/* heartbeats fill the silence, naming the next sequence number */
				if (pc->heartbeat_ns && last_sent) {
					for (uint64_t hb = last_sent + pc->heartbeat_ns; hb < t; hb += pc->heartbeat_ns) {
						uint8_t h[FH_SIM_MOLD_HDR];
						fh_sim_mold_header(h, pc->session, pkt_seq, FH_SIM_MOLD_HEARTBEAT);
						send_plain(w, hb, h, sizeof(h));
						stp->heartbeats += pc->group_b ? 2 : 1;
					}
				}
			}
			fh_sim_mold_header(pkt, pc->session, pkt_seq, count);
			send_data(w, t, pkt, plen, pkt_seq, count);
			last_sent = t;
			pkt_i++;
			pkt_seq = seq;
			plen = FH_SIM_MOLD_HDR;
			count = 0;
		}
		if (n <= 0)
			break;
		if (!count)
			first_ts = ts;
		fh_put_be16(pkt + plen, (uint16_t)n);
		memcpy(pkt + plen + 2, msg, (size_t)n);
		plen += 2 + (size_t)n;
		count++;
		last_ts = ts;
		seq++;
		stp->messages++;
	}
	for (int line = 0; line < 2; line++)
		flush_held(w, line, last_sent + 1);
	if (pc->end_of_session) {
		uint8_t h[FH_SIM_MOLD_HDR];
		uint64_t t = pc->pps ? t0 + pkt_i * 1000000000ULL / pc->pps : last_sent + 1000;
		fh_sim_mold_header(h, pc->session, seq, FH_SIM_MOLD_END);
		send_plain(w, t, h, sizeof(h));
		stp->end_packets += pc->group_b ? 2 : 1;
	}
	stp->next_seq = seq;
	rc = w->err;
	if (!rc && fflush(f))
		rc = -errno;
out_free:
	free(w);
	return rc;
}

int fh_sim_write_pcap_path(const struct fh_sim_cfg *cfg, const struct fh_sim_pcap_cfg *pc,
			   const char *path, struct fh_sim_pcap_stats *st)
{
	struct fh_sim *s = fh_sim_create(cfg);
	FILE *f;
	int rc;

	if (!s)
		return -errno;
	f = fopen(path, "wb");
	if (!f) {
		rc = -errno;
		goto out_destroy;
	}
	rc = fh_sim_write_pcap(s, pc, f, st);
	if (fclose(f) && !rc)
		rc = -errno;
out_destroy:
	fh_sim_destroy(s);
	return rc;
}

/* ---------------------------------------------------------------- session store */

#define STORE_STRIDE 64 /* one index entry per 64 messages: 0.125 B of index per message */

struct fh_sim_store {
	uint8_t *buf; /* day-file format */
	size_t len;
	uint64_t first_seq;
	uint64_t count;
	uint64_t *index; /* byte offset of message k * STORE_STRIDE */
};

struct fh_sim_store *fh_sim_store_create(const struct fh_sim_cfg *cfg, uint64_t first_seq)
{
	struct fh_sim_store *st = calloc(1, sizeof(*st));
	struct fh_sim_stats ss;

	if (!st) {
		errno = ENOMEM;
		return NULL;
	}
	st->buf = fh_sim_itch_mem(cfg, &st->len, &ss);
	if (!st->buf)
		goto out_free;
	st->first_seq = first_seq;
	st->count = ss.messages;
	st->index = malloc((st->count / STORE_STRIDE + 1) * sizeof(*st->index));
	if (!st->index) {
		errno = ENOMEM;
		goto out_free;
	}
	size_t off = 0;
	for (uint64_t k = 0; k < st->count; k++) {
		if (k % STORE_STRIDE == 0)
			st->index[k / STORE_STRIDE] = off;
		off += 2 + fh_be16(st->buf + off);
	}
	return st;

out_free:
	fh_sim_store_destroy(st);
	return NULL;
}

void fh_sim_store_destroy(struct fh_sim_store *st)
{
	if (!st)
		return;
	free(st->buf);
	free(st->index);
	free(st);
}

uint64_t fh_sim_store_first_seq(const struct fh_sim_store *st)
{
	return st->first_seq;
}

uint64_t fh_sim_store_count(const struct fh_sim_store *st)
{
	return st->count;
}

int fh_sim_store_get(const struct fh_sim_store *st, uint64_t seq, const uint8_t **msg, size_t *len)
{
	if (seq < st->first_seq || seq - st->first_seq >= st->count)
		return -ENOENT;
	uint64_t k = seq - st->first_seq;
	size_t off = st->index[k / STORE_STRIDE];
	for (uint64_t j = 0; j < k % STORE_STRIDE; j++)
		off += 2 + fh_be16(st->buf + off);
	*len = fh_be16(st->buf + off);
	*msg = st->buf + off + 2;
	return 0;
}
