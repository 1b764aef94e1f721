/* SPDX-License-Identifier: MIT */
/* fh_snapsrv.c: SoupBinTCP GLIMPSE-style snapshot server over fh_sim_store (order table replay, non-blocking TCP). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fh_common.h"
#include "fh_itch.h"
#include "fh_snapsrv.h"
#include "fh_soup.h"

#define NS_PER_S 1000000000ull
#define MAX_CLIENTS 64
#define NO_ORDER UINT32_MAX
#define N_LOCATES 65536
#define ADD_LEN 36
#define CLI_RX 512
#define CLI_TX 64

/* ---- The order table: a chained hash over a node pool, plus the arrival list (time priority). ---- */

struct order {
	uint64_t ref;
	uint64_t ts;      /* ITCH ns since midnight of the add (or of the replace) */
	uint32_t price;   /* ITCH 4 decimals */
	uint32_t shares;
	uint16_t locate;
	uint8_t side;
	bool attributed;  /* added by 'F': re-sent as 'F' with its MPID */
	uint8_t mpid[4];
	uint32_t hnext;   /* hash chain / free list */
	uint32_t prev, next; /* arrival order */
};

struct book {
	struct order *o;
	uint32_t cap, free_head, used;
	uint32_t *bucket;
	uint32_t mask;
	uint32_t head, tail; /* oldest, newest */
};

struct stock {
	uint8_t r[39], h[25], y[20], oh[21];
	uint8_t have; /* bits: 1 R, 2 H, 4 Y, 8 h */
	uint32_t orders;
};

enum cli_state { CLI_FREE = 0, CLI_LOGIN, CLI_STREAM, CLI_DONE, CLI_CLOSING };

struct client {
	int fd;
	enum cli_state state;
	uint64_t t_rx, t_tx;
	size_t cur;          /* next byte of the stream to send */
	size_t rx_len, tx_len, tx_off;
	uint8_t rx[CLI_RX];
	uint8_t tx[CLI_TX];
};

struct fh_snapsrv {
	struct fh_snapsrv_cfg cfg;
	int lfd;
	uint16_t port;
	uint8_t *stream;      /* encoded snapshot: sequenced packets, then 'Z' */
	size_t stream_len;
	size_t *msg_off;      /* offset of sequenced message k (0-based); [n] = end of the last */
	uint64_t n_msgs;
	struct fh_snapsrv_info info;
	struct fh_snapsrv_stats st;
	struct client cli[MAX_CLIENTS];
};

static uint32_t hash_ref(const struct book *b, uint64_t ref)
{
	return (uint32_t)((ref * 0x9E3779B97F4A7C15ull) >> 32) & b->mask;
}

static uint32_t *find_slot(struct book *b, uint64_t ref)
{
	uint32_t *p = &b->bucket[hash_ref(b, ref)];
	while (*p != NO_ORDER && b->o[*p].ref != ref)
		p = &b->o[*p].hnext;
	return p;
}

static void list_unlink(struct book *b, uint32_t i)
{
	struct order *o = &b->o[i];
	if (o->prev != NO_ORDER)
		b->o[o->prev].next = o->next;
	else
		b->head = o->next;
	if (o->next != NO_ORDER)
		b->o[o->next].prev = o->prev;
	else
		b->tail = o->prev;
}

static int book_add(struct book *b, uint64_t ref, uint16_t locate, uint8_t side, uint32_t shares,
		    uint32_t price, uint64_t ts, const uint8_t *mpid)
{
	uint32_t *slot = find_slot(b, ref);
	if (*slot != NO_ORDER || b->free_head == NO_ORDER)
		return -1;
	uint32_t i = b->free_head;
	struct order *o = &b->o[i];
	b->free_head = o->hnext;
	*o = (struct order){ .ref = ref, .ts = ts, .price = price, .shares = shares, .locate = locate,
			     .side = side, .attributed = mpid != NULL, .hnext = NO_ORDER,
			     .prev = b->tail, .next = NO_ORDER };
	if (mpid)
		memcpy(o->mpid, mpid, sizeof(o->mpid));
	if (b->tail != NO_ORDER)
		b->o[b->tail].next = i;
	else
		b->head = i;
	b->tail = i;
	*slot = i;
	b->used++;
	return 0;
}

static void book_remove(struct book *b, uint32_t *slot)
{
	uint32_t i = *slot;
	*slot = b->o[i].hnext;
	list_unlink(b, i);
	b->o[i].hnext = b->free_head;
	b->free_head = i;
	b->used--;
}

static int book_init(struct book *b, uint32_t cap)
{
	uint32_t nb = 1024;
	while (nb < cap * 2u && nb < (1u << 30))
		nb <<= 1;
	b->o = calloc(cap ? cap : 1, sizeof(*b->o));
	b->bucket = malloc(sizeof(*b->bucket) * nb);
	if (!b->o || !b->bucket)
		return -ENOMEM;
	memset(b->bucket, 0xff, sizeof(*b->bucket) * nb);
	b->mask = nb - 1;
	b->cap = cap;
	for (uint32_t i = 0; i < cap; i++)
		b->o[i].hnext = i + 1 < cap ? i + 1 : NO_ORDER;
	b->free_head = cap ? 0 : NO_ORDER;
	b->head = b->tail = NO_ORDER;
	return 0;
}

static void book_free(struct book *b)
{
	free(b->o);
	free(b->bucket);
}

/* Reduces an order by n shares (execute / cancel); removes it when nothing remains. */
static void book_reduce(struct book *b, uint64_t ref, uint32_t n, uint64_t *unknown)
{
	uint32_t *slot = find_slot(b, ref);
	if (*slot == NO_ORDER) {
		(*unknown)++;
		return;
	}
	struct order *o = &b->o[*slot];
	if (n >= o->shares)
		book_remove(b, slot);
	else
		o->shares -= n;
}

/* Applies one session message to the order table and the per-stock state. */
static void replay_one(struct book *b, struct stock *stk, uint8_t *sys, bool *have_sys,
		       const uint8_t *m, size_t len, uint64_t *unknown)
{
	if (len == 0 || len != fh_itch_msg_len(m[0]))
		return;
	uint16_t loc = fh_be16(m + 1);
	uint64_t ts = fh_be48(m + 5);
	switch (m[0]) {
	case 'A':
	case 'F':
		if (book_add(b, fh_be64(m + 11), loc, m[19], fh_be32(m + 20), fh_be32(m + 32), ts,
			     m[0] == 'F' ? m + 36 : NULL) != 0)
			(*unknown)++;
		break;
	case 'E':
	case 'C':
		book_reduce(b, fh_be64(m + 11), fh_be32(m + 19), unknown);
		break;
	case 'X':
		book_reduce(b, fh_be64(m + 11), fh_be32(m + 19), unknown);
		break;
	case 'D': {
		uint32_t *slot = find_slot(b, fh_be64(m + 11));
		if (*slot == NO_ORDER)
			(*unknown)++;
		else
			book_remove(b, slot);
		break;
	}
	case 'U': {
		uint32_t *slot = find_slot(b, fh_be64(m + 11));
		if (*slot == NO_ORDER) {
			(*unknown)++;
			break;
		}
		struct order old = b->o[*slot];
		book_remove(b, slot);
		/* The replacement is a new order: new ref, back of the queue; side,
		 * stock and attribution carry over (ITCH 5.0 Order Replace). */
		if (book_add(b, fh_be64(m + 19), old.locate, old.side, fh_be32(m + 27), fh_be32(m + 31), ts,
			     old.attributed ? old.mpid : NULL))
			(*unknown)++;
		break;
	}
	case 'R':
		memcpy(stk[loc].r, m, sizeof(stk[loc].r));
		stk[loc].have |= 1;
		break;
	case 'H':
		memcpy(stk[loc].h, m, sizeof(stk[loc].h));
		stk[loc].have |= 2;
		break;
	case 'Y':
		memcpy(stk[loc].y, m, sizeof(stk[loc].y));
		stk[loc].have |= 4;
		break;
	case 'h':
		memcpy(stk[loc].oh, m, sizeof(stk[loc].oh));
		stk[loc].have |= 8;
		break;
	case 'S':
		memcpy(sys, m, 12);
		*have_sys = true;
		break;
	default:
		break;
	}
}

/* ---- Encoding the snapshot stream ---- */

struct enc {
	uint8_t *p;
	size_t len, cap;
	size_t *off;
	uint64_t n;
};

static void put_seq(struct enc *e, const uint8_t *msg, uint16_t len)
{
	e->off[e->n++] = e->len;
	fh_soup_put_header(e->p + e->len, FH_SOUP_T_SEQUENCED, len);
	memcpy(e->p + e->len + FH_SOUP_HDR_LEN, msg, len);
	e->len += FH_SOUP_HDR_LEN + len;
}

static void put_add(struct enc *e, const struct order *o, const struct stock *st)
{
	uint8_t a[ADD_LEN + 4];

	a[0] = o->attributed ? 'F' : 'A';
	fh_put_be16(a + 1, o->locate);
	fh_put_be16(a + 3, 0); /* tracking number */
	fh_put_be48(a + 5, o->ts);
	fh_put_be64(a + 11, o->ref);
	a[19] = o->side;
	fh_put_be32(a + 20, o->shares);
	if (st->have & 1)
		memcpy(a + 24, st->r + 11, 8);
	else
		memset(a + 24, ' ', 8);
	fh_put_be32(a + 32, o->price);
	if (o->attributed)
		memcpy(a + ADD_LEN, o->mpid, sizeof(o->mpid));
	put_seq(e, a, o->attributed ? ADD_LEN + 4 : ADD_LEN);
}

static int build(struct fh_snapsrv *s, char *err, size_t errlen)
{
	const struct fh_sim_store *store = s->cfg.store;
	uint64_t first = fh_sim_store_first_seq(store), end = first + fh_sim_store_count(store);
	uint64_t S = s->cfg.snapshot_seq ? s->cfg.snapshot_seq : end;
	struct book b = { 0 };
	struct stock *stk = NULL;
	uint32_t *by_stock = NULL, *start = NULL;
	uint8_t sys[12];
	bool have_sys = false;
	uint64_t adds = 0, unknown = 0;
	int rc = -ENOMEM;

	if (S < first || S > end) {
		snprintf(err, errlen, "snapshot server: sequence %llu outside the session %llu..%llu",
			 (unsigned long long)S, (unsigned long long)first, (unsigned long long)end);
		return -EINVAL;
	}
	/* Pass 1: how many orders can ever be live (sizes the table). */
	for (uint64_t q = first; q < S; q++) {
		const uint8_t *m;
		size_t l;
		if (fh_sim_store_get(store, q, &m, &l) == 0 && l && (m[0] == 'A' || m[0] == 'F' || m[0] == 'U'))
			adds++;
	}
	if (adds > UINT32_MAX - 1) {
		snprintf(err, errlen, "snapshot server: too many orders");
		return -EINVAL;
	}
	stk = calloc(N_LOCATES, sizeof(*stk));
	if (!stk || book_init(&b, (uint32_t)adds) != 0)
		goto out_nomem;
	for (uint64_t q = first; q < S; q++) {
		const uint8_t *m;
		size_t l;
		if (fh_sim_store_get(store, q, &m, &l) == 0)
			replay_one(&b, stk, sys, &have_sys, m, l, &unknown);
	}

	/* Group the live orders by stock, keeping arrival order within each (a stable counting sort). */
	start = calloc(N_LOCATES + 1, sizeof(*start));
	by_stock = malloc(sizeof(*by_stock) * (b.used ? b.used : 1));
	if (!start || !by_stock)
		goto out_nomem;
	for (uint32_t i = b.head; i != NO_ORDER; i = b.o[i].next)
		stk[b.o[i].locate].orders++;
	for (uint32_t l = 0; l < N_LOCATES; l++)
		start[l + 1] = start[l] + stk[l].orders;
	for (uint32_t i = b.head; i != NO_ORDER; i = b.o[i].next)
		by_stock[start[b.o[i].locate]++] = i;
	for (uint32_t l = N_LOCATES; l > 0; l--) /* back to the first index of each stock */
		start[l] = start[l - 1];
	start[0] = 0;

	uint64_t n_msgs = 1 + (have_sys ? 1 : 0) + b.used, n_stocks = 0;
	size_t bytes = (size_t)b.used * (FH_SOUP_HDR_LEN + ADD_LEN + 4) + FH_SOUP_HDR_LEN + 12 +
		       FH_SOUP_HDR_LEN + FH_SOUP_GLIMPSE_END_LEN + FH_SOUP_HDR_LEN;
	for (uint32_t l = 0; l < N_LOCATES; l++) {
		if (!stk[l].have && !stk[l].orders)
			continue;
		n_stocks++;
		n_msgs += __builtin_popcount(stk[l].have);
		bytes += 4 * FH_SOUP_HDR_LEN + sizeof(stk[l].r) + sizeof(stk[l].h) + sizeof(stk[l].y) +
			 sizeof(stk[l].oh);
	}
	struct enc e = { .cap = bytes };
	e.p = malloc(bytes);
	e.off = malloc(sizeof(*e.off) * (n_msgs + 1));
	if (!e.p || !e.off) {
		free(e.p);
		free(e.off);
		goto out_nomem;
	}
	if (have_sys)
		put_seq(&e, sys, sizeof(sys));
	for (uint32_t l = 0; l < N_LOCATES; l++) {
		const struct stock *st = &stk[l];
		if (st->have & 1)
			put_seq(&e, st->r, sizeof(st->r));
		if (st->have & 2)
			put_seq(&e, st->h, sizeof(st->h));
		if (st->have & 4)
			put_seq(&e, st->y, sizeof(st->y));
		if (st->have & 8)
			put_seq(&e, st->oh, sizeof(st->oh));
		for (uint32_t k = start[l]; k < start[l] + st->orders; k++)
			put_add(&e, &b.o[by_stock[k]], st);
	}
	uint8_t g[FH_SOUP_GLIMPSE_END_LEN];
	g[0] = FH_SOUP_GLIMPSE_END;
	fh_soup_put_num(g + 1, FH_SOUP_SEQ_LEN, S);
	put_seq(&e, g, sizeof(g));
	e.off[e.n] = e.len;
	if (!s->cfg.no_end_of_session) {
		fh_soup_put_header(e.p + e.len, FH_SOUP_T_END_OF_SESSION, 0);
		e.len += FH_SOUP_HDR_LEN;
	}
	s->stream = e.p;
	s->stream_len = e.len;
	s->msg_off = e.off;
	s->n_msgs = e.n;
	s->info = (struct fh_snapsrv_info){ .snapshot_seq = S, .replayed = S - first, .messages = e.n,
					    .orders = b.used, .stocks = n_stocks, .bytes = e.len,
					    .unknown_refs = unknown };
	rc = 0;
	goto out;

out_nomem:
	snprintf(err, errlen, "snapshot server: out of memory");
out:
	free(start);
	free(by_stock);
	free(stk);
	book_free(&b);
	return rc;
}

/* ---- Sockets ---- */

struct fh_snapsrv *fh_snapsrv_create(const struct fh_snapsrv_cfg *cfg, char *err, size_t errlen)
{
	struct fh_snapsrv *s = calloc(1, sizeof(*s));
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int one = 1;

	if (!s) {
		snprintf(err, errlen, "snapshot server: out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	s->lfd = -1;
	if (!s->cfg.store) {
		snprintf(err, errlen, "snapshot server: no session store");
		goto out_free;
	}
	if (!s->cfg.addr)
		s->cfg.addr = INADDR_LOOPBACK;
	if (!s->cfg.session[0])
		snprintf(s->cfg.session, sizeof(s->cfg.session), "FHSNAP0001");
	if (!s->cfg.heartbeat_ns)
		s->cfg.heartbeat_ns = NS_PER_S;
	if (!s->cfg.timeout_ns)
		s->cfg.timeout_ns = 15 * NS_PER_S;
	if (!s->cfg.max_clients)
		s->cfg.max_clients = 8;
	if (s->cfg.max_clients > MAX_CLIENTS)
		s->cfg.max_clients = MAX_CLIENTS;
	if (!s->cfg.send_budget)
		s->cfg.send_budget = 256 * 1024;
	for (unsigned i = 0; i < MAX_CLIENTS; i++)
		s->cli[i].fd = -1;
	if (build(s, err, errlen) != 0)
		goto out_free;
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0) {
		snprintf(err, errlen, "snapshot server: socket: %s", strerror(errno));
		goto out_free;
	}
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_addr.s_addr = htonl(s->cfg.addr);
	sa.sin_port = htons(s->cfg.port);
	if (bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(s->lfd, 16) != 0 ||
	    getsockname(s->lfd, (struct sockaddr *)&sa, &sl) != 0) {
		snprintf(err, errlen, "snapshot server: bind/listen port %u: %s", s->cfg.port,
			 strerror(errno));
		goto out_free;
	}
	s->port = ntohs(sa.sin_port);
	return s;

out_free:
	fh_snapsrv_destroy(s);
	return NULL;
}

static void cli_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->state = CLI_FREE;
}

void fh_snapsrv_destroy(struct fh_snapsrv *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < MAX_CLIENTS; i++)
		if (s->cli[i].fd >= 0)
			cli_close(&s->cli[i]);
	if (s->lfd >= 0)
		close(s->lfd);
	free(s->stream);
	free(s->msg_off);
	free(s);
}

uint16_t fh_snapsrv_port(const struct fh_snapsrv *s)
{
	return s->port;
}

void fh_snapsrv_set_down(struct fh_snapsrv *s, bool down)
{
	s->cfg.down = down;
	if (down)
		for (unsigned i = 0; i < MAX_CLIENTS; i++)
			if (s->cli[i].state != CLI_FREE)
				cli_close(&s->cli[i]);
}

unsigned fh_snapsrv_clients(const struct fh_snapsrv *s)
{
	unsigned n = 0;
	for (unsigned i = 0; i < MAX_CLIENTS; i++)
		n += s->cli[i].state != CLI_FREE;
	return n;
}

void fh_snapsrv_info(const struct fh_snapsrv *s, struct fh_snapsrv_info *info)
{
	*info = s->info;
}

void fh_snapsrv_stats(const struct fh_snapsrv *s, struct fh_snapsrv_stats *st)
{
	*st = s->st;
}

/* Queues a small control packet (login answer, heartbeat). */
static void cli_queue(struct client *c, uint8_t type, const uint8_t *payload, uint16_t plen)
{
	if (c->tx_len + FH_SOUP_HDR_LEN + plen > sizeof(c->tx))
		return;
	fh_soup_put_header(c->tx + c->tx_len, type, plen);
	if (plen)
		memcpy(c->tx + c->tx_len + FH_SOUP_HDR_LEN, payload, plen);
	c->tx_len += FH_SOUP_HDR_LEN + plen;
}

/* Trimmed field equality; case-insensitive for user names (the spec says so). */
static bool field_eq(const uint8_t *f, size_t flen, const char *want, bool icase)
{
	size_t a = 0, b = flen, n = strlen(want);
	while (a < b && f[a] == ' ')
		a++;
	while (b > a && f[b - 1] == ' ')
		b--;
	if (b - a != n)
		return false;
	return icase ? strncasecmp((const char *)f + a, want, n) == 0 : memcmp(f + a, want, n) == 0;
}

static bool field_blank(const uint8_t *f, size_t flen)
{
	for (size_t i = 0; i < flen; i++)
		if (f[i] != ' ')
			return false;
	return true;
}

static void on_login(struct fh_snapsrv *s, struct client *c, const struct fh_soup_frame *f)
{
	const uint8_t *p = f->payload;
	const uint8_t *user = p, *pass = p + FH_SOUP_USER_LEN;
	const uint8_t *sess = pass + FH_SOUP_PASS_LEN, *seqf = sess + FH_SOUP_SESSION_LEN;
	uint64_t seq;
	uint8_t code = 0;

	if (f->payload_len < FH_SOUP_LOGIN_PAYLOAD || fh_soup_parse_num(seqf, FH_SOUP_SEQ_LEN, &seq)) {
		s->st.bad_frames++;
		c->state = CLI_CLOSING;
		return;
	}
	if ((s->cfg.username[0] && !field_eq(user, FH_SOUP_USER_LEN, s->cfg.username, true)) ||
	    (s->cfg.password[0] && !field_eq(pass, FH_SOUP_PASS_LEN, s->cfg.password, false)))
		code = 'A';
	else if (!field_blank(sess, FH_SOUP_SESSION_LEN) &&
		 !field_eq(sess, FH_SOUP_SESSION_LEN, s->cfg.session, false))
		code = 'S';
	if (code) {
		if (code == 'A')
			s->st.rejected_auth++;
		else
			s->st.rejected_session++;
		cli_queue(c, FH_SOUP_T_LOGIN_REJECTED, &code, 1);
		c->state = CLI_CLOSING;
		return;
	}
	/* Sequence numbers of the stream start at 1; 0 means "from the start" here. */
	if (seq == 0)
		seq = 1;
	if (seq > s->n_msgs + 1)
		seq = s->n_msgs + 1;
	uint8_t acc[FH_SOUP_ACCEPT_PAYLOAD];
	size_t n = strnlen(s->cfg.session, FH_SOUP_SESSION_LEN);
	memset(acc, ' ', FH_SOUP_SESSION_LEN - n);
	memcpy(acc + FH_SOUP_SESSION_LEN - n, s->cfg.session, n);
	fh_soup_put_num(acc + FH_SOUP_SESSION_LEN, FH_SOUP_SEQ_LEN, seq);
	cli_queue(c, FH_SOUP_T_LOGIN_ACCEPTED, acc, sizeof(acc));
	c->cur = s->msg_off[seq - 1];
	c->state = CLI_STREAM;
	s->st.logins_accepted++;
}

/* Reads client packets. */
static unsigned cli_read(struct fh_snapsrv *s, struct client *c, uint64_t now)
{
	unsigned n = 0;

	for (;;) {
		ssize_t r = recv(c->fd, c->rx + c->rx_len, sizeof(c->rx) - c->rx_len, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				break;
			s->st.closed_by_client++;
			cli_close(c);
			return n + 1;
		}
		if (r == 0) {
			s->st.closed_by_client++;
			cli_close(c);
			return n + 1;
		}
		c->rx_len += (size_t)r;
		c->t_rx = now;
		size_t off = 0;
		for (;;) {
			struct fh_soup_frame f;
			long fl = fh_soup_frame_parse(c->rx + off, c->rx_len - off, sizeof(c->rx), &f);
			if (fl == 0)
				break;
			n++;
			if (fl < 0) {
				s->st.bad_frames++;
				cli_close(c);
				return n;
			}
			off += (size_t)fl;
			switch (f.type) {
			case FH_SOUP_T_LOGIN_REQUEST:
				if (c->state == CLI_LOGIN)
					on_login(s, c, &f);
				else
					s->st.bad_frames++;
				break;
			case FH_SOUP_T_CLIENT_HEARTBEAT:
				s->st.client_heartbeats++;
				break;
			case FH_SOUP_T_LOGOUT_REQUEST:
				s->st.logouts++;
				cli_close(c);
				return n;
			case FH_SOUP_T_UNSEQUENCED:
				break;
			default:
				s->st.bad_frames++;
				cli_close(c);
				return n;
			}
			if (c->state == CLI_CLOSING)
				break;
		}
		memmove(c->rx, c->rx + off, c->rx_len - off);
		c->rx_len -= off;
		if (c->state == CLI_CLOSING)
			break;
	}
	return n;
}

/* Sends control bytes, then stream bytes within the budget. */
static unsigned cli_write(struct fh_snapsrv *s, struct client *c, uint64_t now)
{
	unsigned n = 0;

	while (c->tx_off < c->tx_len) {
		ssize_t w = send(c->fd, c->tx + c->tx_off, c->tx_len - c->tx_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w <= 0)
			return n;
		c->tx_off += (size_t)w;
		s->st.bytes_sent += (uint64_t)w;
		c->t_tx = now;
		n++;
	}
	c->tx_off = c->tx_len = 0;
	if (c->state == CLI_CLOSING) {
		cli_close(c);
		return n + 1;
	}
	if (c->state != CLI_STREAM)
		return n;
	size_t budget = s->cfg.send_budget;
	while (budget && c->cur < s->stream_len) {
		size_t k = s->stream_len - c->cur;
		if (k > budget)
			k = budget;
		ssize_t w = send(c->fd, s->stream + c->cur, k, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w <= 0)
			return n;
		c->cur += (size_t)w;
		budget -= (size_t)w;
		s->st.bytes_sent += (uint64_t)w;
		c->t_tx = now;
		n++;
	}
	if (c->cur == s->stream_len) {
		c->state = CLI_DONE;
		s->st.snapshots_sent++;
		n++;
	}
	return n;
}

static unsigned accept_new(struct fh_snapsrv *s, uint64_t now)
{
	unsigned n = 0;
	int one = 1;

	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			break;
		n++;
		if (s->cfg.down) {
			s->st.refused++;
			close(fd);
			continue;
		}
		struct client *c = NULL;
		for (unsigned i = 0; i < s->cfg.max_clients && !c; i++)
			if (s->cli[i].state == CLI_FREE)
				c = &s->cli[i];
		if (!c) {
			s->st.busy++;
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->state = CLI_LOGIN;
		c->t_rx = c->t_tx = now;
		s->st.connections++;
	}
	return n;
}

unsigned fh_snapsrv_poll(struct fh_snapsrv *s, uint64_t now_ns)
{
	unsigned n = accept_new(s, now_ns);

	for (unsigned i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &s->cli[i];
		if (c->state == CLI_FREE)
			continue;
		n += cli_read(s, c, now_ns);
		if (c->state == CLI_FREE)
			continue;
		n += cli_write(s, c, now_ns);
		if (c->state == CLI_FREE)
			continue;
		if (now_ns - c->t_rx > s->cfg.timeout_ns) {
			s->st.timeouts++;
			cli_close(c);
			n++;
			continue;
		}
		/* Heartbeats only between packets: once the whole stream is sent. */
		bool boundary = c->state == CLI_DONE;
		if (boundary && !c->tx_len && now_ns - c->t_tx >= s->cfg.heartbeat_ns) {
			cli_queue(c, FH_SOUP_T_SERVER_HEARTBEAT, NULL, 0);
			s->st.heartbeats_sent++;
			n += cli_write(s, c, now_ns);
		}
	}
	return n;
}
