/* SPDX-License-Identifier: MIT */
/* fh_pkt.h: Ethernet / 802.1Q / IPv4 / UDP parsing with checks, on a byte pointer and a length. */
#ifndef FH_PKT_H
#define FH_PKT_H

/*
 * Used by the pcap replay and the DPDK RX path alike: give it the first
 * byte of a frame and its captured length, get the UDP payload or a
 * reason. Nothing is read outside frame[0..len). Checks: every header fits,
 * IPv4 version 4 and IHL >= 5, IPv4 total length within the frame
 * (Ethernet padding after it is ignored), the IPv4 header checksum (unless
 * it is 0: not filled in, as TX offload and anonymised captures leave it), no
 * fragment (MF set or offset != 0: MoldUDP64 datagrams are never
 * fragmented on a sane network, and reassembly has no place on the hot
 * path), UDP length consistent with the IP length, and the UDP checksum
 * when it is non-zero. Up to two VLAN tags (0x8100, 0x88a8, 0x9100).
 *
 * Results split in two: FH_PKT_SKIP_* is traffic that is simply not ours
 * (ARP, IPv6, TCP, another group or port) and is counted only;
 * FH_PKT_REJ_* is a broken frame, counted and worth a dead-letter record.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fh_common.h"

enum fh_pkt_result {
	FH_PKT_OK = 0,
	/* not ours: counted, not dead-lettered */
	FH_PKT_SKIP_NOT_IPV4 = 1, /* another ethertype (ARP, IPv6, LLDP, ...) */
	FH_PKT_SKIP_NOT_UDP = 2,  /* another IP protocol */
	FH_PKT_SKIP_FILTERED = 3, /* destination address or port not the one asked for */
	/* broken: counted and dead-lettered */
	FH_PKT_REJ_TRUNCATED = 4, /* a header or the IP/UDP length runs past the captured bytes */
	FH_PKT_REJ_BAD_IP_HDR = 5, /* IPv4 version/IHL/total length nonsense */
	FH_PKT_REJ_IP_CSUM = 6,   /* IPv4 header checksum wrong */
	FH_PKT_REJ_FRAGMENT = 7,  /* IPv4 fragment */
	FH_PKT_REJ_UDP_LEN = 8,   /* UDP length < 8 or > the IP payload */
	FH_PKT_REJ_UDP_CSUM = 9,  /* non-zero UDP checksum wrong */
	FH_PKT__COUNT
};
#define FH_PKT_FIRST_REJ FH_PKT_REJ_TRUNCATED

/* Link types (pcap LINKTYPE_* values). */
#define FH_PKT_LINK_ETHERNET 1
#define FH_PKT_LINK_RAW 101       /* raw IPv4 */
#define FH_PKT_LINK_LINUX_SLL 113 /* tcpdump -i any */
#define FH_PKT_LINK_IPV4 228      /* raw IPv4, the newer code */

struct fh_pkt_filter {
	uint32_t dst_ip;   /* host order; 0 = any */
	uint16_t dst_port; /* 0 = any */
	bool no_csum;      /* skip both checksum checks (NIC offload already did them) */
};

struct fh_pkt_udp {
	const uint8_t *payload; /* inside the frame */
	uint16_t len;           /* UDP payload bytes */
	uint16_t src_port;
	uint16_t dst_port;
	uint16_t vlan;          /* outer VLAN id, 0 when untagged */
	uint32_t src_ip;        /* host order */
	uint32_t dst_ip;        /* host order */
};

struct fh_pkt_stats {
	uint64_t frames;
	uint64_t udp; /* frames that yielded a payload */
	uint64_t result[FH_PKT__COUNT];
};

/* "ok", "not_ipv4", ..., "udp_csum"; "unknown" outside the enum. */
const char *fh_pkt_result_name(unsigned r);

/* Parses an IPv4 packet (first byte = version/IHL). Returns FH_PKT_OK or a result. */
int fh_pkt_parse_ipv4(const uint8_t *ip, size_t len, const struct fh_pkt_filter *f,
		      struct fh_pkt_udp *out);

/* Parses one frame of the given link type (FH_PKT_LINK_*). Returns FH_PKT_OK or a result. */
int fh_pkt_parse(unsigned linktype, const uint8_t *frame, size_t len,
		 const struct fh_pkt_filter *f, struct fh_pkt_udp *out);

/* The Internet checksum (RFC 1071) of buf, folded, not complemented, starting from sum. */
uint32_t fh_pkt_csum_add(uint32_t sum, const uint8_t *buf, size_t len);
uint16_t fh_pkt_csum_fold(uint32_t sum);

#endif /* FH_PKT_H */
