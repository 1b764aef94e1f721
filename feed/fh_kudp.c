/* SPDX-License-Identifier: MIT */
/* fh_kudp.c: kernel-socket UDP multicast receive. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/net_tstamp.h>

#include "fh_kudp.h"

static int fail(char *err, size_t errlen, int e, const char *what, uint32_t group, uint16_t port)
{
	struct in_addr a = { .s_addr = htonl(group) };
	snprintf(err, errlen, "udp %s:%u: %s: %s", inet_ntoa(a), port, what, strerror(e));
	return -e;
}

int fh_kudp_open(struct fh_kudp *k, uint32_t group, uint16_t port, const char *ifname,
		 uint32_t rcvbuf, char *err, size_t errlen)
{
	struct sockaddr_in sa;
	int one = 1, e;

	memset(k, 0, sizeof(*k));
	k->fd = -1;
	k->group = group;
	k->port = port;
	k->buf = malloc((size_t)FH_KUDP_BURST * FH_KUDP_MTU);
	if (!k->buf)
		return fail(err, errlen, ENOMEM, "buffers", group, port);
	k->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (k->fd < 0) {
		e = errno;
		goto out_free;
	}
	setsockopt(k->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	int rb = (int)(rcvbuf ? rcvbuf : 8u << 20);
	/* SO_RCVBUFFORCE needs CAP_NET_ADMIN; fall back to the capped one. */
	if (setsockopt(k->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rb, sizeof(rb)) != 0)
		setsockopt(k->fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb));
	setsockopt(k->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	if (ifname && *ifname &&
	    setsockopt(k->fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname) + 1) != 0) {
		e = errno;
		fail(err, errlen, e, "SO_BINDTODEVICE", group, port);
		goto out_close_keep;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	/* Bind to the group itself so other groups on the same port stay out. */
	sa.sin_addr.s_addr = htonl(group);
	if (bind(k->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		e = errno;
		fail(err, errlen, e, "bind", group, port);
		goto out_close_keep;
	}
	if (IN_MULTICAST(group)) {
		struct ip_mreqn mr;
		memset(&mr, 0, sizeof(mr));
		mr.imr_multiaddr.s_addr = htonl(group);
		if (ifname && *ifname)
			mr.imr_ifindex = (int)if_nametoindex(ifname);
		if (setsockopt(k->fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) != 0) {
			e = errno;
			fail(err, errlen, e, "IP_ADD_MEMBERSHIP", group, port);
			goto out_close_keep;
		}
	}
	for (unsigned i = 0; i < FH_KUDP_BURST; i++) {
		k->iov[i].iov_base = k->buf + (size_t)i * FH_KUDP_MTU;
		k->iov[i].iov_len = FH_KUDP_MTU;
	}
	return 0;

out_close_keep:
	close(k->fd);
	k->fd = -1;
	free(k->buf);
	k->buf = NULL;
	return -e;
out_free:
	free(k->buf);
	k->buf = NULL;
	return fail(err, errlen, e, "socket", group, port);
}

int fh_kudp_recv(struct fh_kudp *k, struct fh_kudp_pkt *pkts, unsigned n)
{
	struct sockaddr_in from[FH_KUDP_BURST];

	if (n > FH_KUDP_BURST)
		n = FH_KUDP_BURST;
	for (unsigned i = 0; i < n; i++) {
		struct msghdr *h = &k->msgs[i].msg_hdr;
		h->msg_name = &from[i];
		h->msg_namelen = sizeof(from[i]);
		h->msg_iov = &k->iov[i];
		h->msg_iovlen = 1;
		h->msg_control = k->ctrl[i];
		h->msg_controllen = sizeof(k->ctrl[i]);
		h->msg_flags = 0;
	}
	int r = recvmmsg(k->fd, k->msgs, n, MSG_DONTWAIT, NULL);
	if (r < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	unsigned out = 0;
	for (int i = 0; i < r; i++) {
		struct msghdr *h = &k->msgs[i].msg_hdr;
		if (h->msg_flags & MSG_TRUNC) {
			k->truncated++;
			continue;
		}
		pkts[out].data = k->iov[i].iov_base;
		pkts[out].len = k->msgs[i].msg_len;
		pkts[out].src_addr = ntohl(from[i].sin_addr.s_addr);
		pkts[out].src_port = ntohs(from[i].sin_port);
		pkts[out].recv_ts_ns = 0;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
				struct timespec ts;
				memcpy(&ts, CMSG_DATA(c), sizeof(ts));
				pkts[out].recv_ts_ns = (uint64_t)ts.tv_sec * 1000000000ull +
						       (uint64_t)ts.tv_nsec;
			}
		}
		out++;
	}
	return (int)out;
}

void fh_kudp_close(struct fh_kudp *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
	free(k->buf);
	k->buf = NULL;
}
