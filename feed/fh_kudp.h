/* SPDX-License-Identifier: MIT */
/* fh_kudp.h: kernel-socket UDP multicast receive (recvmmsg), for hosts without a DPDK NIC. */
#ifndef FH_KUDP_H
#define FH_KUDP_H

/*
 * One non-blocking socket per channel, joined to its multicast group on
 * the configured interface (IP_ADD_MEMBERSHIP), with SO_TIMESTAMPNS for
 * kernel receive times. fh_kudp_recv() fills up to FH_KUDP_BURST UDP
 * payloads with one recvmmsg() call into buffers owned by the struct
 * (allocated at open, reused). This is the fallback path: it costs a
 * syscall per burst, where DPDK costs none.
 */

#include <stdint.h>
#include <stddef.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define FH_KUDP_BURST 32
#define FH_KUDP_MTU 9216

struct fh_kudp {
	int fd;
	uint32_t group;    /* host order */
	uint16_t port;
	uint8_t *buf;      /* FH_KUDP_BURST * FH_KUDP_MTU */
	struct mmsghdr msgs[FH_KUDP_BURST];
	struct iovec iov[FH_KUDP_BURST];
	char ctrl[FH_KUDP_BURST][64];
	uint64_t truncated; /* datagrams larger than FH_KUDP_MTU, dropped */
};

struct fh_kudp_pkt {
	const uint8_t *data; /* UDP payload */
	uint32_t len;
	uint64_t recv_ts_ns; /* kernel receive time (epoch ns), 0 if unknown */
	uint32_t src_addr;   /* host order */
	uint16_t src_port;   /* host order */
};

/* Binds group:port (group may be a unicast address such as 127.0.0.1, or
 * 0 for any), joins the group on the interface with address ifaddr (host
 * order, 0 = kernel's choice) or named ifname (may be NULL). Receive buffer
 * of rcvbuf bytes (0 = 8 MiB). Returns 0 or -errno with the reason in err. */
int fh_kudp_open(struct fh_kudp *k, uint32_t group, uint16_t port, const char *ifname,
		 uint32_t rcvbuf, char *err, size_t errlen);

/* Receives up to n (<= FH_KUDP_BURST) datagrams without blocking. Returns
 * the count (0 when none are waiting) or -errno. Payload pointers stay valid
 * until the next call. */
int fh_kudp_recv(struct fh_kudp *k, struct fh_kudp_pkt *pkts, unsigned n);

void fh_kudp_close(struct fh_kudp *k);

#endif /* FH_KUDP_H */
