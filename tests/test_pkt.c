/* SPDX-License-Identifier: MIT */
/* test_pkt.c: Ethernet/VLAN/IPv4/UDP checks, the pcap reader (µs/ns, both byte orders, mmap/buffered), bad frames to the DLQ. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "fh_dlq.h"
#include "fh_itch_file.h"
#include "fh_pcap.h"
#include "fh_pkt.h"
#include "fh_test.h"

#define SRC_IP 0x0a000001u  /* 10.0.0.1 */
#define GROUP 0xe9360c6fu   /* 233.54.12.111 */
#define PORT 26477

struct frame {
	uint8_t b[2048];
	size_t len;
	size_t ip; /* offset of the IPv4 header */
};

static void fix_ip_csum(struct frame *f)
{
	uint8_t *ip = f->b + f->ip;
	fh_put_be16(ip + 10, 0);
	fh_put_be16(ip + 10, (uint16_t)~fh_pkt_csum_fold(fh_pkt_csum_add(0, ip, 20)));
}

static void fix_udp_csum(struct frame *f)
{
	uint8_t *ip = f->b + f->ip, *udp = ip + 20;
	size_t ulen = fh_be16(udp + 4);
	fh_put_be16(udp + 6, 0);
	uint32_t s = fh_pkt_csum_add(0, ip + 12, 8) + 17 + (uint32_t)ulen;
	uint16_t c = (uint16_t)~fh_pkt_csum_fold(fh_pkt_csum_add(s, udp, ulen));
	fh_put_be16(udp + 6, c ? c : 0xffff);
}

/* Ethernet (+ vlans tags) + IPv4 + UDP around payload, valid checksums. */
static void build(struct frame *f, int vlans, const uint8_t *payload, size_t plen)
{
	uint8_t *p = f->b;
	memset(f->b, 0, sizeof(f->b));
	memcpy(p, "\x01\x00\x5e\x36\x0c\x6f\x02\x00\x00\x00\x00\x01", 12);
	size_t off = 12;
	for (int i = 0; i < vlans; i++) {
		fh_put_be16(p + off, i == 0 && vlans == 2 ? 0x88a8 : 0x8100);
		fh_put_be16(p + off + 2, (uint16_t)(141 + i));
		off += 4;
	}
	fh_put_be16(p + off, 0x0800);
	off += 2;
	f->ip = off;
	uint8_t *ip = p + off;
	ip[0] = 0x45;
	fh_put_be16(ip + 2, (uint16_t)(20 + 8 + plen));
	fh_put_be16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = 17;
	fh_put_be32(ip + 12, SRC_IP);
	fh_put_be32(ip + 16, GROUP);
	uint8_t *udp = ip + 20;
	fh_put_be16(udp, 50000);
	fh_put_be16(udp + 2, PORT);
	fh_put_be16(udp + 4, (uint16_t)(8 + plen));
	memcpy(udp + 8, payload, plen);
	f->len = off + 28 + plen;
	fix_ip_csum(f);
	fix_udp_csum(f);
}

static const uint8_t payload[] = "0123456789abcdefghijklmnopqrstuvwxyz-odd";

static void test_valid_frames(void)
{
	struct frame f;
	struct fh_pkt_udp u;

	for (int vl = 0; vl <= 2; vl++) {
		build(&f, vl, payload, sizeof(payload));
		FH_CHECK_EQ_I(fh_pkt_parse(FH_PKT_LINK_ETHERNET, f.b, f.len, NULL, &u), FH_PKT_OK);
		FH_CHECK_EQ_U(u.len, sizeof(payload));
		FH_CHECK(memcmp(u.payload, payload, sizeof(payload)) == 0);
		FH_CHECK_EQ_U(u.src_ip, SRC_IP);
		FH_CHECK_EQ_U(u.dst_ip, GROUP);
		FH_CHECK_EQ_U(u.src_port, 50000);
		FH_CHECK_EQ_U(u.dst_port, PORT);
		FH_CHECK_EQ_U(u.vlan, vl ? 141 : 0);
	}
	/* Ethernet padding after the IP datagram is not payload */
	build(&f, 0, payload, 4);
	f.len = 60;
	FH_CHECK_EQ_I(fh_pkt_parse(FH_PKT_LINK_ETHERNET, f.b, f.len, NULL, &u), FH_PKT_OK);
	FH_CHECK_EQ_U(u.len, 4);
	/* UDP checksum 0 means "none" */
	build(&f, 0, payload, sizeof(payload));
	fh_put_be16(f.b + f.ip + 26, 0);
	FH_CHECK_EQ_I(fh_pkt_parse(FH_PKT_LINK_ETHERNET, f.b, f.len, NULL, &u), FH_PKT_OK);
	/* raw IPv4 and Linux cooked captures */
	build(&f, 0, payload, sizeof(payload));
	FH_CHECK_EQ_I(fh_pkt_parse(FH_PKT_LINK_RAW, f.b + f.ip, f.len - f.ip, NULL, &u), FH_PKT_OK);
	uint8_t sll[2048] = { 0 };
	fh_put_be16(sll + 14, 0x0800);
	memcpy(sll + 16, f.b + f.ip, f.len - f.ip);
	FH_CHECK_EQ_I(fh_pkt_parse(FH_PKT_LINK_LINUX_SLL, sll, 16 + f.len - f.ip, NULL, &u), FH_PKT_OK);
	FH_CHECK_EQ_U(u.len, sizeof(payload));
}

static void test_filter_and_skips(void)
{
	struct frame f;
	struct fh_pkt_udp u;
	struct fh_pkt_filter flt = { .dst_ip = GROUP, .dst_port = PORT };

	build(&f, 1, payload, 10);
	FH_CHECK_EQ_I(fh_pkt_parse(FH_PKT_LINK_ETHERNET, f.b, f.len, &flt, &u), FH_PKT_OK);
	flt.dst_port = PORT + 1;
	FH_CHECK_EQ_I(fh_pkt_parse(FH_PKT_LINK_ETHERNET, f.b, f.len, &flt, &u), FH_PKT_SKIP_FILTERED);
	flt.dst_port = 0;
	flt.dst_ip = GROUP + 1;
	FH_CHECK_EQ_I(fh_pkt_parse(FH_PKT_LINK_ETHERNET, f.b, f.len, &flt, &u), FH_PKT_SKIP_FILTERED);
	/* ARP */
	build(&f, 0, payload, 10);
	fh_put_be16(f.b + 12, 0x0806);
	FH_CHECK_EQ_I(fh_pkt_parse(FH_PKT_LINK_ETHERNET, f.b, f.len, NULL, &u), FH_PKT_SKIP_NOT_IPV4);
	/* TCP */
	build(&f, 0, payload, 10);
	f.b[f.ip + 9] = 6;
	fix_ip_csum(&f);
	FH_CHECK_EQ_I(fh_pkt_parse(FH_PKT_LINK_ETHERNET, f.b, f.len, NULL, &u), FH_PKT_SKIP_NOT_UDP);
}

static void test_broken_frames(void)
{
	struct frame f;
	struct fh_pkt_udp u;

	build(&f, 1, payload, sizeof(payload));
	/* every cut short of the full IP datagram is refused, never read past */
	for (size_t cut = 0; cut < f.len; cut++)
		FH_CHECK(fh_pkt_parse(FH_PKT_LINK_ETHERNET, f.b, cut, NULL, &u) >= FH_PKT_FIRST_REJ);
	/* IP header checksum */
	build(&f, 0, payload, sizeof(payload));
	f.b[f.ip + 8] = 63; /* TTL changed, checksum not */
	FH_CHECK_EQ_I(fh_pkt_parse(FH_PKT_LINK_ETHERNET, f.b, f.len, NULL, &u), FH_PKT_REJ_IP_CSUM);
	struct fh_pkt_filter nocsum = { .no_csum = true };
	FH_CHECK_EQ_I(fh_pkt_parse(FH_PKT_LINK_ETHERNET, f.b, f.len, &nocsum, &u), FH_PKT_OK);
	/* a zero IP checksum is "not filled in" (anonymised captures, TX offload) */
	fh_put_be16(f.b + f.ip + 10, 0);
	FH_CHECK_EQ_I(fh_pkt_parse(FH_PKT_LINK_ETHERNET, f.b, f.len, NULL, &u), FH_PKT_OK);
	/* UDP checksum: one payload bit flipped */
	build(&f, 0, payload, sizeof(payload));
	f.b[f.len - 3] ^= 0x10;
	FH_CHECK_EQ_I(fh_pkt_parse(FH_PKT_LINK_ETHERNET, f.b, f.len, NULL, &u), FH_PKT_REJ_UDP_CSUM);
	/* fragments: MF set, or an offset */
	build(&f, 0, payload, sizeof(payload));
	fh_put_be16(f.b + f.ip + 6, 0x2000);
	fix_ip_csum(&f);
	FH_CHECK_EQ_I(fh_pkt_parse(FH_PKT_LINK_ETHERNET, f.b, f.len, NULL, &u), FH_PKT_REJ_FRAGMENT);
	fh_put_be16(f.b + f.ip + 6, 0x0010);
	fix_ip_csum(&f);
	FH_CHECK_EQ_I(fh_pkt_parse(FH_PKT_LINK_ETHERNET, f.b, f.len, NULL, &u), FH_PKT_REJ_FRAGMENT);
	/* IHL < 5, version 5 */
	build(&f, 0, payload, sizeof(payload));
	f.b[f.ip] = 0x44;
	FH_CHECK_EQ_I(fh_pkt_parse(FH_PKT_LINK_ETHERNET, f.b, f.len, NULL, &u), FH_PKT_REJ_BAD_IP_HDR);
	f.b[f.ip] = 0x55;
	FH_CHECK_EQ_I(fh_pkt_parse(FH_PKT_LINK_ETHERNET, f.b, f.len, NULL, &u), FH_PKT_REJ_BAD_IP_HDR);
	/* IP total length beyond the capture */
	build(&f, 0, payload, sizeof(payload));
	fh_put_be16(f.b + f.ip + 2, (uint16_t)(f.len - f.ip + 1));
	fix_ip_csum(&f);
	FH_CHECK_EQ_I(fh_pkt_parse(FH_PKT_LINK_ETHERNET, f.b, f.len, NULL, &u), FH_PKT_REJ_TRUNCATED);
	/* UDP length larger than the IP payload, and smaller than its header */
	build(&f, 0, payload, sizeof(payload));
	fh_put_be16(f.b + f.ip + 24, (uint16_t)(8 + sizeof(payload) + 1));
	FH_CHECK_EQ_I(fh_pkt_parse(FH_PKT_LINK_ETHERNET, f.b, f.len, NULL, &u), FH_PKT_REJ_UDP_LEN);
	fh_put_be16(f.b + f.ip + 24, 7);
	FH_CHECK_EQ_I(fh_pkt_parse(FH_PKT_LINK_ETHERNET, f.b, f.len, NULL, &u), FH_PKT_REJ_UDP_LEN);
	FH_CHECK_STR(fh_pkt_result_name(FH_PKT_REJ_UDP_CSUM), "udp_csum");
}

/* ---- pcap reader ---- */

static char tmp[64];

static void write_pcap(bool nsec, int nrec)
{
	FILE *f = fopen(tmp, "wb");
	struct frame fr;
	FH_CHECK(f != NULL);
	if (!f)
		return;
	FH_CHECK_EQ_I(fh_pcap_write_hdr(f, nsec, FH_PKT_LINK_ETHERNET), 0);
	for (int i = 0; i < nrec; i++) {
		build(&fr, 0, payload, (size_t)(i % 40) + 1);
		FH_CHECK_EQ_I(fh_pcap_write_rec(f, nsec, 1577700000123456789ull + (uint64_t)i, fr.b,
						(uint32_t)fr.len), 0);
	}
	fclose(f);
}

static int read_all(unsigned flags, uint64_t *first_ts, int *nrec)
{
	struct fh_pcap p;
	struct fh_pcap_rec r;
	int rc = fh_pcap_open(&p, tmp, flags);
	if (rc < 0)
		return rc;
	*nrec = 0;
	while ((rc = fh_pcap_next(&p, &r)) == 1) {
		if (*nrec == 0)
			*first_ts = r.ts_ns;
		if (r.caplen != 14 + 28 + (unsigned)(*nrec % 40) + 1)
			rc = -1000;
		(*nrec)++;
	}
	FH_CHECK_EQ_U(p.linktype, FH_PKT_LINK_ETHERNET);
	fh_pcap_close(&p);
	return rc;
}

static void test_pcap_us_ns_mmap_buffered(void)
{
	uint64_t ts = 0;
	int n = 0;

	snprintf(tmp, sizeof(tmp), "/tmp/fh-test-pkt-%d.pcap", (int)getpid());
	/* enough records to cross the buffered reader's refill boundary many times */
	write_pcap(true, 20000);
	FH_CHECK_EQ_I(read_all(0, &ts, &n), 0);
	FH_CHECK_EQ_I(n, 20000);
	FH_CHECK_EQ_U(ts, 1577700000123456789ull);
	FH_CHECK_EQ_I(read_all(FH_PCAP_BUFFERED, &ts, &n), 0);
	FH_CHECK_EQ_I(n, 20000);
	write_pcap(false, 3);
	FH_CHECK_EQ_I(read_all(0, &ts, &n), 0);
	FH_CHECK_EQ_I(n, 3);
	FH_CHECK_EQ_U(ts, 1577700000123456000ull); /* microseconds */
	unlink(tmp);
}

static void test_pcap_big_endian_file(void)
{
	/* a big-endian (swapped) file, µs, one 4-byte record */
	static const uint8_t be[] = {
		0xa1, 0xb2, 0xc3, 0xd4, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 1,
		0, 0, 0, 10, 0, 0, 0, 7, 0, 0, 0, 4, 0, 0, 0, 60, 0xde, 0xad, 0xbe, 0xef,
	};
	struct fh_pcap p;
	struct fh_pcap_rec r;

	FH_CHECK_EQ_I(fh_pcap_open_mem(&p, be, sizeof(be)), 0);
	FH_CHECK(p.swapped);
	FH_CHECK(!p.nsec);
	FH_CHECK_EQ_U(p.linktype, 1);
	FH_CHECK_EQ_U(p.version_major, 2);
	FH_CHECK_EQ_I(fh_pcap_next(&p, &r), 1);
	FH_CHECK_EQ_U(r.ts_ns, 10000007000ull);
	FH_CHECK_EQ_U(r.caplen, 4);
	FH_CHECK_EQ_U(r.origlen, 60);
	FH_CHECK_EQ_U(r.data[0], 0xde);
	FH_CHECK_EQ_I(fh_pcap_next(&p, &r), 0);
	fh_pcap_close(&p);
	/* the same record cut by one byte, and a caplen over the limit */
	FH_CHECK_EQ_I(fh_pcap_open_mem(&p, be, sizeof(be) - 1), 0);
	FH_CHECK_EQ_I(fh_pcap_next(&p, &r), -EINVAL);
	uint8_t huge[sizeof(be)];
	memcpy(huge, be, sizeof(be));
	huge[24 + 8] = 0x7f;
	FH_CHECK_EQ_I(fh_pcap_open_mem(&p, huge, sizeof(huge)), 0);
	FH_CHECK_EQ_I(fh_pcap_next(&p, &r), -EINVAL);
	/* a header cut short, and not a pcap */
	FH_CHECK_EQ_I(fh_pcap_open_mem(&p, be, 20), -EINVAL);
	FH_CHECK_EQ_I(fh_pcap_open_mem(&p, (const uint8_t *)"hello world, no pcap here", 25), -EINVAL);
	FH_CHECK(!fh_pcap_is_pcap((const uint8_t *)"\x00\x13S", 3));
}

/* ---- bad frames in a pcap replay go to the dead-letter sink ---- */

struct dlq_seen {
	int n;
	char reason[4][FH_DLQ_REASON_LEN];
	uint32_t len[4];
};

static int collect(const struct fh_dlq_rec *r, const uint8_t *b, void *arg)
{
	struct dlq_seen *s = arg;
	(void)b;
	if (s->n < 4) {
		memcpy(s->reason[s->n], r->reason, FH_DLQ_REASON_LEN);
		s->len[s->n] = r->len;
	}
	s->n++;
	return 0;
}

static void test_replay_bad_frames(void)
{
	uint8_t mold[20 + 2 + 19];
	struct frame fr;
	char dpath[64];
	struct fh_dlq d;
	struct dlq_seen s = { 0 };
	static struct fh_itch_file_stats st;
	struct fh_itch_file_ops ops = { 0 };

	snprintf(tmp, sizeof(tmp), "/tmp/fh-test-pkt-%d.pcap", (int)getpid());
	snprintf(dpath, sizeof(dpath), "/tmp/fh-test-pkt-%d.dlq", (int)getpid());
	fh_mold_put_hdr(mold, "BADFRAME", 1, 1);
	fh_put_be16(mold + 20, 19);
	memset(mold + 22, 0, 19);
	mold[22] = 'D';
	FILE *f = fopen(tmp, "wb");
	FH_CHECK(f != NULL);
	if (!f)
		return;
	fh_pcap_write_hdr(f, true, FH_PKT_LINK_ETHERNET);
	build(&fr, 0, mold, sizeof(mold));
	fh_pcap_write_rec(f, true, 1, fr.b, (uint32_t)fr.len); /* good */
	fr.b[fr.len - 1] ^= 1;
	fh_pcap_write_rec(f, true, 2, fr.b, (uint32_t)fr.len); /* UDP checksum */
	build(&fr, 0, mold, sizeof(mold));
	fh_pcap_write_rec(f, true, 3, fr.b, (uint32_t)fr.len - 10); /* truncated capture */
	fclose(f);
	FH_CHECK_EQ_I(fh_dlq_open(&d, dpath, 0), 0);
	struct fh_itch_file_cfg cfg = { .dlq = &d };
	FH_CHECK_EQ_I(fh_itch_file_replay(tmp, &cfg, &ops, NULL, &st), 0);
	FH_CHECK_EQ_U(st.pkt.frames, 3);
	FH_CHECK_EQ_U(st.pkt.udp, 1);
	FH_CHECK_EQ_U(st.pkt.result[FH_PKT_REJ_UDP_CSUM], 1);
	FH_CHECK_EQ_U(st.pkt.result[FH_PKT_REJ_TRUNCATED], 1);
	FH_CHECK_EQ_U(st.rejects[FH_ITCH_REJ_BAD_FRAME], 2);
	FH_CHECK_EQ_U(st.messages, 1);
	fh_dlq_close(&d);
	FH_CHECK_EQ_I(fh_dlq_read(dpath, collect, &s), 2);
	FH_CHECK_STR(s.reason[0], "frame_udp_csum");
	FH_CHECK_STR(s.reason[1], "frame_truncated");
	FH_CHECK_EQ_U(s.len[0], fr.len);
	unlink(tmp);
	unlink(dpath);
}

static const struct fh_test_case cases[] = {
	FH_CASE(test_valid_frames),
	FH_CASE(test_filter_and_skips),
	FH_CASE(test_broken_frames),
	FH_CASE(test_pcap_us_ns_mmap_buffered),
	FH_CASE(test_pcap_big_endian_file),
	FH_CASE(test_replay_bad_frames),
	{ 0 },
};

int main(int argc, char **argv)
{
	return fh_test_main(argc, argv, cases);
}
