/* SPDX-License-Identifier: MIT */
/* fh_rereq_srv.c: MoldUDP64 re-request server over fh_sim_store (non-blocking UDP). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fh_rereq_srv.h"

#define REQ_LEN 20

struct fh_rereq_srv {
	struct fh_rereq_srv_cfg cfg;
	int fd;
	uint16_t port;
	struct fh_rereq_srv_stats st;
	uint8_t pkt[65536];
};

struct fh_rereq_srv *fh_rereq_srv_create(const struct fh_rereq_srv_cfg *cfg, char *err, size_t errlen)
{
	struct fh_rereq_srv *s = calloc(1, sizeof(*s));
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);

	if (!s) {
		snprintf(err, errlen, "rereq server: out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	if (!s->cfg.addr)
		s->cfg.addr = INADDR_LOOPBACK;
	if (!s->cfg.max_payload)
		s->cfg.max_payload = 1400;
	if (!s->cfg.max_count || s->cfg.max_count > 65534)
		s->cfg.max_count = 65534;
	if (!s->cfg.store || s->cfg.max_payload < 64 || s->cfg.max_payload > 65507) {
		snprintf(err, errlen, "rereq server: a store and max_payload 64..65507 are needed");
		goto out_free;
	}
	s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		snprintf(err, errlen, "rereq server: socket: %s", strerror(errno));
		goto out_free;
	}
	sa.sin_addr.s_addr = htonl(s->cfg.addr);
	sa.sin_port = htons(s->cfg.port);
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(s->fd, (struct sockaddr *)&sa, &sl) != 0) {
		snprintf(err, errlen, "rereq server: bind port %u: %s", s->cfg.port, strerror(errno));
		goto out_close;
	}
	s->port = ntohs(sa.sin_port);
	return s;

out_close:
	close(s->fd);
out_free:
	free(s);
	return NULL;
}

void fh_rereq_srv_destroy(struct fh_rereq_srv *s)
{
	if (!s)
		return;
	close(s->fd);
	free(s);
}

uint16_t fh_rereq_srv_port(const struct fh_rereq_srv *s)
{
	return s->port;
}

void fh_rereq_srv_set_down(struct fh_rereq_srv *s, bool down)
{
	s->cfg.down = down;
}

void fh_rereq_srv_stats(const struct fh_rereq_srv *s, struct fh_rereq_srv_stats *st)
{
	*st = s->st;
}

static uint64_t be_get(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned k = 0; k < n; k++)
		v = v << 8 | p[k];
	return v;
}

static void send_pkt(struct fh_rereq_srv *s, const struct sockaddr_in *to, uint64_t seq,
		     uint16_t count, size_t len)
{
	fh_sim_mold_header(s->pkt, s->cfg.session, seq, count);
	if (sendto(s->fd, s->pkt, len, 0, (const struct sockaddr *)to, sizeof(*to)) != (ssize_t)len)
		s->st.send_errors++;
	else
		s->st.packets++;
}

static void answer(struct fh_rereq_srv *s, const struct sockaddr_in *to, uint64_t seq, uint64_t count)
{
	uint64_t first = fh_sim_store_first_seq(s->cfg.store);
	uint64_t end = first + fh_sim_store_count(s->cfg.store); /* one past the last */
	uint64_t stop = seq + (count < s->cfg.max_count ? count : s->cfg.max_count);

	if (seq < first)
		seq = first;
	if (stop > end)
		stop = end;
	if (seq >= stop) {
		s->st.outside++;
		return;
	}
	s->st.requests++;
	uint64_t pkt_seq = seq;
	size_t len = FH_SIM_MOLD_HDR;
	uint16_t n = 0;
	for (uint64_t q = seq; q < stop; q++) {
		const uint8_t *msg;
		size_t ml;
		if (fh_sim_store_get(s->cfg.store, q, &msg, &ml) < 0)
			break;
		if (len + 2 + ml > s->cfg.max_payload && n) {
			send_pkt(s, to, pkt_seq, n, len);
			pkt_seq = q;
			len = FH_SIM_MOLD_HDR;
			n = 0;
		}
		s->pkt[len] = (uint8_t)(ml >> 8);
		s->pkt[len + 1] = (uint8_t)ml;
		memcpy(s->pkt + len + 2, msg, ml);
		len += 2 + ml;
		n++;
		s->st.answered_msgs++;
	}
	if (n)
		send_pkt(s, to, pkt_seq, n, len);
}

unsigned fh_rereq_srv_poll(struct fh_rereq_srv *s)
{
	unsigned n = 0;
	uint8_t req[64];

	for (;;) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t r = recvfrom(s->fd, req, sizeof(req), 0, (struct sockaddr *)&from, &fl);
		if (r < 0)
			break;
		n++;
		if (r != REQ_LEN || memcmp(req, s->cfg.session, 10) != 0) {
			s->st.bad++;
			continue;
		}
		if (s->cfg.down) {
			s->st.ignored++;
			continue;
		}
		answer(s, &from, be_get(req + 10, 8), be_get(req + 18, 2));
	}
	return n;
}
