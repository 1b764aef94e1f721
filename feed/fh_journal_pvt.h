/* SPDX-License-Identifier: MIT */
/* fh_journal_pvt.h: the journal's SPSC packet-record ring (inline producer side). */
#ifndef FH_JOURNAL_PVT_H
#define FH_JOURNAL_PVT_H

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "fh_common.h"

/* One slot: this header, then snaplen bytes of the frame. */
struct fh_journal_slot {
	uint64_t ts_ns;
	uint32_t caplen; /* bytes stored */
	uint32_t len;    /* wire length */
};

struct fh_journal_ring {
	/* read-mostly */
	uint8_t *slots;
	uint32_t mask;
	uint32_t slot_size;  /* sizeof(slot) + snaplen, cache-line rounded */
	uint32_t snaplen;
	FH_CACHE_GUARD(0);
	/* producer line */
	uint64_t head;       /* next slot to fill (released to the consumer) */
	uint64_t tail_cache; /* the consumer's tail as last seen */
	uint64_t dropped;    /* full ring */
	uint64_t pushed;
	FH_CACHE_GUARD(1);
	/* consumer line */
	uint64_t tail;       /* next slot to drain (released to the producer) */
	uint64_t head_cache;
} FH_CACHE_ALIGNED;

static inline int fh_journal_pvt_push(struct fh_journal_ring *r, const void *frame, uint32_t len,
				      uint64_t ts_ns)
{
	uint64_t h = r->head;

	if (fh_unlikely(h - r->tail_cache > r->mask)) {
		/* acquire: the consumer finished reading the slot before it moved tail */
		r->tail_cache = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
		if (h - r->tail_cache > r->mask) {
			r->dropped++;
			return -ENOBUFS;
		}
	}
	struct fh_journal_slot *s = (struct fh_journal_slot *)(r->slots + (h & r->mask) * (uint64_t)r->slot_size);
	uint32_t cap = len < r->snaplen ? len : r->snaplen;
	s->ts_ns = ts_ns;
	s->caplen = cap;
	s->len = len;
	memcpy(s + 1, frame, cap);
	r->pushed++;
	/* release: the slot's bytes are visible before the consumer sees head move */
	__atomic_store_n(&r->head, h + 1, __ATOMIC_RELEASE);
	return 0;
}

#define FH_JOURNAL_UDP_HDR 42 /* Ethernet 14 + IPv4 20 + UDP 8 */

static inline void fh_journal_pvt_be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void fh_journal_pvt_be32(uint8_t *p, uint32_t v)
{
	fh_journal_pvt_be16(p, v >> 16);
	fh_journal_pvt_be16(p + 2, v);
}

static inline int fh_journal_pvt_push_udp(struct fh_journal_ring *r, uint32_t src_ip, uint32_t dst_ip,
					  uint16_t src_port, uint16_t dst_port, const void *payload,
					  uint32_t len, uint64_t ts_ns)
{
	uint64_t h = r->head;

	if (fh_unlikely(h - r->tail_cache > r->mask)) {
		r->tail_cache = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
		if (h - r->tail_cache > r->mask) {
			r->dropped++;
			return -ENOBUFS;
		}
	}
	struct fh_journal_slot *s = (struct fh_journal_slot *)(r->slots + (h & r->mask) * (uint64_t)r->slot_size);
	uint8_t *f = (uint8_t *)(s + 1);
	uint32_t flen = FH_JOURNAL_UDP_HDR + len;
	uint32_t cap = flen < r->snaplen ? flen : r->snaplen;
	/* Ethernet: the IPv4 multicast MAC of dst (a fixed local MAC for unicast) */
	if ((dst_ip >> 28) == 0xe) {
		f[0] = 0x01, f[1] = 0x00, f[2] = 0x5e;
		f[3] = (uint8_t)((dst_ip >> 16) & 0x7f), f[4] = (uint8_t)(dst_ip >> 8), f[5] = (uint8_t)dst_ip;
	} else {
		f[0] = 0x02, f[1] = 0, f[2] = 0, f[3] = 0, f[4] = 0, f[5] = 0x02;
	}
	f[6] = 0x02, f[7] = 0, f[8] = 0, f[9] = 0, f[10] = 0, f[11] = 0x01;
	f[12] = 0x08, f[13] = 0x00;
	/* IPv4: DF, TTL 64, UDP, header checksum */
	uint8_t *ip = f + 14;
	ip[0] = 0x45, ip[1] = 0;
	fh_journal_pvt_be16(ip + 2, 20 + 8 + len);
	ip[4] = 0, ip[5] = 0, ip[6] = 0x40, ip[7] = 0, ip[8] = 64, ip[9] = 17, ip[10] = 0, ip[11] = 0;
	fh_journal_pvt_be32(ip + 12, src_ip);
	fh_journal_pvt_be32(ip + 16, dst_ip);
	uint32_t sum = 0;
	for (unsigned i = 0; i < 20; i += 2)
		sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	fh_journal_pvt_be16(ip + 10, ~sum & 0xffff);
	/* UDP: checksum 0 (none, allowed over IPv4) */
	uint8_t *u = ip + 20;
	fh_journal_pvt_be16(u, src_port);
	fh_journal_pvt_be16(u + 2, dst_port);
	fh_journal_pvt_be16(u + 4, 8 + len);
	u[6] = 0, u[7] = 0;
	if (cap > FH_JOURNAL_UDP_HDR)
		memcpy(f + FH_JOURNAL_UDP_HDR, payload, cap - FH_JOURNAL_UDP_HDR);
	s->ts_ns = ts_ns;
	s->caplen = cap;
	s->len = flen;
	r->pushed++;
	__atomic_store_n(&r->head, h + 1, __ATOMIC_RELEASE);
	return 0;
}

#endif /* FH_JOURNAL_PVT_H */
