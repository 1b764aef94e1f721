/* SPDX-License-Identifier: MIT */
/* fh_pkt.c: Ethernet / 802.1Q / IPv4 / UDP parsing and checksum checks. */
#include "fh_pkt.h"

#define ETH_HDR_LEN 14
#define SLL_HDR_LEN 16
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_VLAN_OLD 0x9100
#define IPPROTO_UDP_ 17
#define UDP_HDR_LEN 8

static const char *const result_names[FH_PKT__COUNT] = {
	[FH_PKT_OK] = "ok",
	[FH_PKT_SKIP_NOT_IPV4] = "not_ipv4",
	[FH_PKT_SKIP_NOT_UDP] = "not_udp",
	[FH_PKT_SKIP_FILTERED] = "filtered",
	[FH_PKT_REJ_TRUNCATED] = "truncated",
	[FH_PKT_REJ_BAD_IP_HDR] = "bad_ip_hdr",
	[FH_PKT_REJ_IP_CSUM] = "ip_csum",
	[FH_PKT_REJ_FRAGMENT] = "fragment",
	[FH_PKT_REJ_UDP_LEN] = "udp_len",
	[FH_PKT_REJ_UDP_CSUM] = "udp_csum",
};

const char *fh_pkt_result_name(unsigned r)
{
	return r < FH_PKT__COUNT ? result_names[r] : "unknown";
}

uint32_t fh_pkt_csum_add(uint32_t sum, const uint8_t *buf, size_t len)
{
	uint64_t s = sum;
	size_t i = 0;

	for (; i + 1 < len; i += 2)
		s += fh_be16(buf + i);
	if (i < len)
		s += (uint32_t)buf[i] << 8;
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

uint16_t fh_pkt_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

int fh_pkt_parse_ipv4(const uint8_t *ip, size_t len, const struct fh_pkt_filter *f,
		      struct fh_pkt_udp *out)
{
	if (len < 20)
		return FH_PKT_REJ_TRUNCATED;
	unsigned ver = ip[0] >> 4, ihl = (ip[0] & 0xfu) * 4u;
	if (ver != 4)
		return ver == 6 ? FH_PKT_SKIP_NOT_IPV4 : FH_PKT_REJ_BAD_IP_HDR;
	if (ihl < 20)
		return FH_PKT_REJ_BAD_IP_HDR;
	if (ihl > len)
		return FH_PKT_REJ_TRUNCATED;
	size_t tot = fh_be16(ip + 2);
	if (tot < ihl)
		return FH_PKT_REJ_BAD_IP_HDR;
	if (tot > len)
		return FH_PKT_REJ_TRUNCATED;
	/* A zero header checksum is "not filled in" (TX offload on the capturing
	 * host, anonymised captures), as Wireshark treats it; anything else must verify. */
	if (!(f && f->no_csum) && fh_be16(ip + 10) != 0 &&
	    fh_pkt_csum_fold(fh_pkt_csum_add(0, ip, ihl)) != 0xffff)
		return FH_PKT_REJ_IP_CSUM;
	uint16_t frag = fh_be16(ip + 6);
	if (frag & 0x3fff) /* MF flag or a fragment offset */
		return FH_PKT_REJ_FRAGMENT;
	if (ip[9] != IPPROTO_UDP_)
		return FH_PKT_SKIP_NOT_UDP;

	const uint8_t *udp = ip + ihl;
	size_t ulen_max = tot - ihl;
	if (ulen_max < UDP_HDR_LEN)
		return FH_PKT_REJ_TRUNCATED;
	size_t ulen = fh_be16(udp + 4);
	if (ulen < UDP_HDR_LEN || ulen > ulen_max)
		return FH_PKT_REJ_UDP_LEN;
	uint32_t src = fh_be32(ip + 12), dst = fh_be32(ip + 16);
	uint16_t dport = fh_be16(udp + 2);
	if (f && ((f->dst_ip && f->dst_ip != dst) || (f->dst_port && f->dst_port != dport)))
		return FH_PKT_SKIP_FILTERED;
	uint16_t ucsum = fh_be16(udp + 6);
	if (ucsum != 0 && !(f && f->no_csum)) {
		/* pseudo-header: src, dst, zero, protocol, UDP length */
		uint32_t s = fh_pkt_csum_add(0, ip + 12, 8);
		s += IPPROTO_UDP_ + (uint32_t)ulen;
		s = fh_pkt_csum_add(s, udp, ulen);
		if (fh_pkt_csum_fold(s) != 0xffff)
			return FH_PKT_REJ_UDP_CSUM;
	}
	out->payload = udp + UDP_HDR_LEN;
	out->len = (uint16_t)(ulen - UDP_HDR_LEN);
	out->src_port = fh_be16(udp);
	out->dst_port = dport;
	out->src_ip = src;
	out->dst_ip = dst;
	return FH_PKT_OK;
}

int fh_pkt_parse(unsigned linktype, const uint8_t *frame, size_t len,
		 const struct fh_pkt_filter *f, struct fh_pkt_udp *out)
{
	size_t off;
	uint16_t et;

	out->vlan = 0;
	switch (linktype) {
	case FH_PKT_LINK_ETHERNET:
		if (len < ETH_HDR_LEN)
			return FH_PKT_REJ_TRUNCATED;
		et = fh_be16(frame + 12);
		off = ETH_HDR_LEN;
		for (int tags = 0; tags < 2 && (et == ETHERTYPE_VLAN || et == ETHERTYPE_QINQ ||
						 et == ETHERTYPE_VLAN_OLD); tags++) {
			if (len < off + 4)
				return FH_PKT_REJ_TRUNCATED;
			if (tags == 0)
				out->vlan = fh_be16(frame + off) & 0x0fff;
			et = fh_be16(frame + off + 2);
			off += 4;
		}
		break;
	case FH_PKT_LINK_LINUX_SLL:
		if (len < SLL_HDR_LEN)
			return FH_PKT_REJ_TRUNCATED;
		et = fh_be16(frame + 14);
		off = SLL_HDR_LEN;
		break;
	case FH_PKT_LINK_RAW:
	case FH_PKT_LINK_IPV4:
		et = ETHERTYPE_IPV4;
		off = 0;
		break;
	default:
		return FH_PKT_SKIP_NOT_IPV4;
	}
	if (et != ETHERTYPE_IPV4)
		return FH_PKT_SKIP_NOT_IPV4;
	return fh_pkt_parse_ipv4(frame + off, len - off, f, out);
}
