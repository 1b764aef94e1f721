/* SPDX-License-Identifier: MIT */
/* fh_http.c: poll()-driven HTTP/1.1 server with preallocated connections; telemetry routes; embedded dashboard. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "fh_http.h"
#include "fh_metrics.h"

/* The dashboard, embedded at build time (paths relative to the repository
 * root, where make runs). Editing a file under perf/dashboard/ needs this
 * object rebuilt: `touch perf/fh_http.c`. */
#define FH_INCBIN(sym, path)                                                          \
	__asm__(".section .rodata\n"                                                  \
		".global " #sym "_start\n"                                            \
		".hidden " #sym "_start\n"                                            \
		".balign 16\n" #sym "_start:\n"                                       \
		".incbin \"" path "\"\n"                                              \
		".global " #sym "_end\n"                                              \
		".hidden " #sym "_end\n" #sym "_end:\n"                               \
		".byte 0\n"                                                           \
		".previous\n");                                                       \
	extern const char sym##_start[] __attribute__((visibility("hidden")));        \
	extern const char sym##_end[] __attribute__((visibility("hidden")))

FH_INCBIN(fh_dash_index, "perf/dashboard/index.html");
FH_INCBIN(fh_dash_uplot_js, "perf/dashboard/vendor/uplot/uPlot.iife.min.js");
FH_INCBIN(fh_dash_uplot_css, "perf/dashboard/vendor/uplot/uPlot.min.css");
FH_INCBIN(fh_dash_uplot_license, "perf/dashboard/vendor/uplot/LICENSE");

static const struct asset {
	const char *name; /* URL path */
	const char *file; /* under dashboard_dir */
	const char *type;
	const char *start, *end;
} assets[] = {
	{ "/", "index.html", "text/html; charset=utf-8", fh_dash_index_start, fh_dash_index_end },
	{ "/index.html", "index.html", "text/html; charset=utf-8", fh_dash_index_start,
	  fh_dash_index_end },
	{ "/uPlot.iife.min.js", "vendor/uplot/uPlot.iife.min.js", "text/javascript; charset=utf-8",
	  fh_dash_uplot_js_start, fh_dash_uplot_js_end },
	{ "/uPlot.min.css", "vendor/uplot/uPlot.min.css", "text/css; charset=utf-8",
	  fh_dash_uplot_css_start, fh_dash_uplot_css_end },
	{ "/LICENSE.uPlot", "vendor/uplot/LICENSE", "text/plain; charset=utf-8",
	  fh_dash_uplot_license_start, fh_dash_uplot_license_end },
};

const char *fh_http_asset(const char *name, size_t *len)
{
	for (size_t i = 0; i < sizeof(assets) / sizeof(assets[0]); i++)
		if (strcmp(assets[i].name, name) == 0) {
			*len = (size_t)(assets[i].end - assets[i].start);
			return assets[i].start;
		}
	return NULL;
}

#define MAX_ROUTES 32
#define HEAD_CAP 512

enum conn_state { C_FREE, C_READ, C_WRITE };

struct conn {
	int fd;
	enum conn_state state;
	bool close_after;
	char *req;
	size_t req_len;
	char head[HEAD_CAP];
	size_t head_len;
	struct fh_http_resp resp;
	const char *body; /* resp.body or resp.ext_body */
	size_t body_len;
	size_t sent;      /* bytes of head + body written */
	uint64_t last_ms;
};

struct route {
	char path[64];
	fh_http_handler fn;
	void *arg;
};

struct fh_http {
	struct fh_http_cfg cfg;
	int lfd;
	uint16_t port;
	struct conn *conns;
	char *req_mem;
	char *resp_mem;
	struct pollfd *pfd;
	int *pfd_conn;
	struct route routes[MAX_ROUTES];
	unsigned n_routes;
	struct fh_http_stats st;
	char dash_dir[256];
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct fh_http *fh_http_create(const struct fh_http_cfg *cfg_in)
{
	struct fh_http_cfg cfg = cfg_in ? *cfg_in : (struct fh_http_cfg){ 0 };
	if (!cfg.addr)
		cfg.addr = "127.0.0.1";
	if (!cfg.max_conns)
		cfg.max_conns = 8;
	if (!cfg.req_cap)
		cfg.req_cap = 8192;
	if (!cfg.resp_cap)
		cfg.resp_cap = 2u << 20;
	if (!cfg.idle_ms)
		cfg.idle_ms = 10000;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(cfg.port) };
	if (inet_pton(AF_INET, cfg.addr, &sa.sin_addr) != 1 || cfg.max_conns > 1024 ||
	    cfg.req_cap < 256) {
		errno = EINVAL;
		return NULL;
	}
	struct fh_http *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cfg = cfg;
	s->lfd = -1;
	if (cfg.dashboard_dir)
		snprintf(s->dash_dir, sizeof(s->dash_dir), "%s", cfg.dashboard_dir);
	s->cfg.dashboard_dir = cfg.dashboard_dir ? s->dash_dir : NULL;
	s->conns = calloc(cfg.max_conns, sizeof(*s->conns));
	s->req_mem = malloc(cfg.max_conns * cfg.req_cap);
	s->resp_mem = malloc(cfg.max_conns * cfg.resp_cap);
	s->pfd = calloc(cfg.max_conns + 1, sizeof(*s->pfd));
	s->pfd_conn = calloc(cfg.max_conns + 1, sizeof(*s->pfd_conn));
	int err = ENOMEM;
	if (!s->conns || !s->req_mem || !s->resp_mem || !s->pfd || !s->pfd_conn)
		goto out_free;
	for (unsigned i = 0; i < cfg.max_conns; i++) {
		s->conns[i].fd = -1;
		s->conns[i].req = s->req_mem + (size_t)i * cfg.req_cap;
		s->conns[i].resp.body = s->resp_mem + (size_t)i * cfg.resp_cap;
		s->conns[i].resp.cap = cfg.resp_cap;
	}
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0) {
		err = errno;
		goto out_free;
	}
	int one = 1;
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(s->lfd, 64) != 0) {
		err = errno;
		goto out_close;
	}
	socklen_t sl = sizeof(sa);
	getsockname(s->lfd, (struct sockaddr *)&sa, &sl);
	s->port = ntohs(sa.sin_port);
	return s;

out_close:
	close(s->lfd);
out_free:
	free(s->conns);
	free(s->req_mem);
	free(s->resp_mem);
	free(s->pfd);
	free(s->pfd_conn);
	free(s);
	errno = err;
	return NULL;
}

static void conn_close(struct fh_http *s, struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = C_FREE;
	c->req_len = 0;
	s->st.open--;
}

void fh_http_destroy(struct fh_http *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->cfg.max_conns; i++)
		if (s->conns[i].state != C_FREE)
			conn_close(s, &s->conns[i]);
	if (s->lfd >= 0)
		close(s->lfd);
	free(s->conns);
	free(s->req_mem);
	free(s->resp_mem);
	free(s->pfd);
	free(s->pfd_conn);
	free(s);
}

uint16_t fh_http_port(const struct fh_http *s)
{
	return s->port;
}

const struct fh_http_stats *fh_http_stats(const struct fh_http *s)
{
	return &s->st;
}

int fh_http_route(struct fh_http *s, const char *path, fh_http_handler fn, void *arg)
{
	if (!path || path[0] != '/' || strlen(path) >= sizeof(s->routes[0].path) || !fn)
		return -EINVAL;
	if (s->n_routes >= MAX_ROUTES)
		return -ENOSPC;
	struct route *r = &s->routes[s->n_routes++];
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->fn = fn;
	r->arg = arg;
	return 0;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

static void set_error(struct conn *c, int status, const char *msg)
{
	c->resp.status = status;
	c->resp.content_type = "text/plain; charset=utf-8";
	c->resp.ext_body = NULL;
	c->resp.extra_headers = NULL;
	int n = snprintf(c->resp.body, c->resp.cap, "%d %s%s%s\n", status, reason(status),
			 msg ? ": " : "", msg ? msg : "");
	c->resp.len = n > 0 && (size_t)n < c->resp.cap ? (size_t)n : 0;
}

static void prepare_head(struct fh_http *s, struct conn *c, bool head_only)
{
	c->body = c->resp.ext_body ? c->resp.ext_body : c->resp.body;
	c->body_len = c->resp.len;
	int n = snprintf(c->head, sizeof(c->head),
			 "HTTP/1.1 %d %s\r\nServer: fh\r\nContent-Type: %s\r\n"
			 "Content-Length: %zu\r\nCache-Control: no-store\r\n%s%s\r\n",
			 c->resp.status, reason(c->resp.status),
			 c->resp.content_type ? c->resp.content_type : "text/plain", c->body_len,
			 c->close_after ? "Connection: close\r\n" : "",
			 c->resp.extra_headers ? c->resp.extra_headers : "");
	c->head_len = n > 0 && (size_t)n < sizeof(c->head) ? (size_t)n : 0;
	if (head_only)
		c->body_len = 0;
	c->sent = 0;
	c->state = C_WRITE;
	if (c->resp.status >= 500)
		s->st.errors++;
	else if (c->resp.status >= 400)
		s->st.bad_requests++;
	s->st.requests++;
}

static int serve_file(const char *dir, const char *file, struct fh_http_resp *r)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	FILE *f = fopen(path, "rb");
	if (!f)
		return -ENOENT;
	size_t n = fread(r->body, 1, r->cap, f);
	bool more = fgetc(f) != EOF;
	fclose(f);
	if (more)
		return -ENOSPC;
	r->len = n;
	return 0;
}

static void dispatch(struct fh_http *s, struct conn *c, char *method, char *target, bool head_only)
{
	c->resp.status = 200;
	c->resp.len = 0;
	c->resp.content_type = "text/plain; charset=utf-8";
	c->resp.extra_headers = NULL;
	c->resp.ext_body = NULL;
	char *q = strchr(target, '?');
	if (q)
		*q++ = '\0';
	struct fh_http_req req = { method, target, q ? q : "" };
	for (unsigned i = 0; i < s->n_routes; i++) {
		if (strcmp(s->routes[i].path, target) != 0)
			continue;
		int rc = s->routes[i].fn(&req, &c->resp, s->routes[i].arg);
		if (rc < 0)
			set_error(c, 500, rc == -ENOSPC ? "response too large" : "handler failed");
		prepare_head(s, c, head_only);
		return;
	}
	for (size_t i = 0; i < sizeof(assets) / sizeof(assets[0]); i++) {
		if (strcmp(assets[i].name, target) != 0)
			continue;
		c->resp.content_type = assets[i].type;
		if (s->cfg.dashboard_dir) {
			int rc = serve_file(s->cfg.dashboard_dir, assets[i].file, &c->resp);
			if (rc < 0)
				set_error(c, rc == -ENOENT ? 404 : 500, assets[i].file);
		} else {
			c->resp.ext_body = assets[i].start;
			c->resp.len = (size_t)(assets[i].end - assets[i].start);
		}
		prepare_head(s, c, head_only);
		return;
	}
	set_error(c, 404, NULL);
	prepare_head(s, c, head_only);
}

/* Parses one complete request at the start of c->req (header end at
 * `end`), dispatches it and drops it from the buffer. */
static void handle_request(struct fh_http *s, struct conn *c, size_t end)
{
	char *line = c->req;
	char *eol = memchr(line, '\r', end + 2);
	if (!eol) {
		c->close_after = true;
		set_error(c, 400, NULL);
		prepare_head(s, c, false);
		return;
	}
	*eol = '\0';
	char *sp1 = strchr(line, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	/* Headers we care about: Connection. */
	bool http10 = sp2 && strcmp(sp2 + 1, "HTTP/1.0") == 0;
	bool ka_header = false, close_header = false;
	for (char *h = eol + 2; h < c->req + end;) {
		/* The last header's CR is the one at `end`. */
		char *e = memchr(h, '\r', (size_t)(c->req + end + 1 - h));
		if (!e)
			break;
		if ((size_t)(e - h) > 11 && strncasecmp(h, "Connection:", 11) == 0) {
			*e = '\0';
			if (strcasestr(h, "close"))
				close_header = true;
			if (strcasestr(h, "keep-alive"))
				ka_header = true;
		}
		h = e + 2;
	}
	c->close_after = close_header || (http10 && !ka_header);
	if (!sp1 || !sp2 || sp1[1] != '/' || strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
		c->close_after = true;
		set_error(c, 400, NULL);
		prepare_head(s, c, false);
	} else {
		*sp1 = '\0';
		*sp2 = '\0';
		bool head = strcmp(line, "HEAD") == 0;
		if (!head && strcmp(line, "GET") != 0) {
			set_error(c, 405, line);
			c->resp.extra_headers = "Allow: GET, HEAD\r\n";
			prepare_head(s, c, false);
		} else {
			dispatch(s, c, line, sp1 + 1, head);
		}
	}
	/* Requests have no body (GET/HEAD): drop the header, keep pipelined bytes. */
	size_t used = end + 4;
	memmove(c->req, c->req + used, c->req_len - used);
	c->req_len -= used;
}

static char *find_header_end(char *buf, size_t len)
{
	for (size_t i = 0; i + 3 < len; i++)
		if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n')
			return buf + i;
	return NULL;
}

static void try_parse(struct fh_http *s, struct conn *c)
{
	char *end = find_header_end(c->req, c->req_len);
	if (end) {
		handle_request(s, c, (size_t)(end - c->req));
	} else if (c->req_len >= s->cfg.req_cap) {
		c->close_after = true;
		set_error(c, 431, NULL);
		prepare_head(s, c, false);
	}
}

static void do_write(struct fh_http *s, struct conn *c)
{
	while (c->state == C_WRITE) {
		struct iovec iov[2];
		int n = 0;
		if (c->sent < c->head_len)
			iov[n++] = (struct iovec){ c->head + c->sent, c->head_len - c->sent };
		size_t bsent = c->sent > c->head_len ? c->sent - c->head_len : 0;
		if (bsent < c->body_len)
			iov[n++] = (struct iovec){ (void *)(uintptr_t)(c->body + bsent),
						   c->body_len - bsent };
		if (n == 0) {
			if (c->close_after) {
				conn_close(s, c);
				return;
			}
			c->state = C_READ;
			if (c->req_len)
				try_parse(s, c);
			continue;
		}
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)n };
		ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			conn_close(s, c);
			return;
		}
		c->sent += (size_t)w;
		s->st.bytes_out += (uint64_t)w;
	}
}

static void do_read(struct fh_http *s, struct conn *c)
{
	ssize_t r = recv(c->fd, c->req + c->req_len, s->cfg.req_cap - c->req_len, MSG_DONTWAIT);
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
		conn_close(s, c);
		return;
	}
	if (r < 0)
		return;
	c->req_len += (size_t)r;
	try_parse(s, c);
	if (c->state == C_WRITE)
		do_write(s, c);
}

static void do_accept(struct fh_http *s, uint64_t now)
{
	for (int k = 0; k < 64; k++) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		s->st.accepted++;
		struct conn *c = NULL;
		for (unsigned i = 0; i < s->cfg.max_conns; i++)
			if (s->conns[i].state == C_FREE) {
				c = &s->conns[i];
				break;
			}
		if (!c) {
			static const char busy[] =
				"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
				"Connection: close\r\n\r\n";
			s->st.rejected++;
			ssize_t w = send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			(void)w;
			close(fd);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->fd = fd;
		c->state = C_READ;
		c->req_len = 0;
		c->close_after = false;
		c->last_ms = now;
		s->st.open++;
	}
}

int fh_http_poll(struct fh_http *s, int timeout_ms)
{
	uint64_t before = s->st.requests;
	unsigned n = 0;
	s->pfd[n].fd = s->lfd;
	s->pfd[n].events = POLLIN;
	s->pfd_conn[n++] = -1;
	for (unsigned i = 0; i < s->cfg.max_conns; i++) {
		struct conn *c = &s->conns[i];
		if (c->state == C_FREE)
			continue;
		s->pfd[n].fd = c->fd;
		s->pfd[n].events = c->state == C_WRITE ? POLLOUT : POLLIN;
		s->pfd_conn[n++] = (int)i;
	}
	int rc = poll(s->pfd, n, timeout_ms);
	if (rc < 0)
		return errno == EINTR ? 0 : -errno;
	uint64_t now = now_ms();
	for (unsigned k = 1; k < n; k++) {
		struct conn *c = &s->conns[s->pfd_conn[k]];
		if (c->state == C_FREE)
			continue;
		short ev = s->pfd[k].revents;
		if (ev & (POLLERR | POLLNVAL)) {
			conn_close(s, c);
			continue;
		}
		if (ev) {
			c->last_ms = now;
			if (c->state == C_READ)
				do_read(s, c);
			else
				do_write(s, c);
		} else if (now - c->last_ms > (uint64_t)s->cfg.idle_ms) {
			conn_close(s, c);
		}
	}
	if (s->pfd[0].revents & POLLIN)
		do_accept(s, now);
	return (int)(s->st.requests - before);
}

/* --- telemetry routes --- */

static int h_metrics(const struct fh_http_req *req, struct fh_http_resp *r, void *arg)
{
	(void)req;
	long n = fh_metrics_render_prometheus(arg, r->body, r->cap);
	if (n < 0)
		return (int)n;
	r->len = (size_t)n;
	r->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return 0;
}

static int h_status(const struct fh_http_req *req, struct fh_http_resp *r, void *arg)
{
	(void)req;
	long n = fh_metrics_render_json(arg, r->body, r->cap);
	if (n < 0)
		return (int)n;
	r->len = (size_t)n;
	r->content_type = "application/json";
	return 0;
}

static int h_hdr(const struct fh_http_req *req, struct fh_http_resp *r, void *arg)
{
	(void)req;
	long n = fh_metrics_render_hdr_log(arg, r->body, r->cap);
	if (n < 0)
		return (int)n;
	r->len = (size_t)n;
	r->content_type = "text/plain; charset=utf-8";
	return 0;
}

static uint64_t st_requests(void *a) { return ((struct fh_http *)a)->st.requests; }
static uint64_t st_rejected(void *a) { return ((struct fh_http *)a)->st.rejected; }
static uint64_t st_errors(void *a) { return ((struct fh_http *)a)->st.errors + ((struct fh_http *)a)->st.bad_requests; }
static uint64_t st_bytes(void *a) { return ((struct fh_http *)a)->st.bytes_out; }
static double st_open(void *a) { return (double)((struct fh_http *)a)->st.open; }

int fh_http_serve_metrics(struct fh_http *s, struct fh_metrics *m)
{
	int rc = fh_http_route(s, "/metrics", h_metrics, m);
	if (!rc)
		rc = fh_http_route(s, "/status", h_status, m);
	if (!rc)
		rc = fh_http_route(s, "/hdr", h_hdr, m);
	if (rc) {
		errno = -rc;
		return rc;
	}
	int r[5];
	r[0] = fh_metrics_counter_fn(m, "fh_http_requests_total", "HTTP requests answered", NULL,
				     st_requests, s);
	r[1] = fh_metrics_counter_fn(m, "fh_http_rejected_connections_total",
				     "HTTP connections refused (over max_conns)", NULL, st_rejected, s);
	r[2] = fh_metrics_counter_fn(m, "fh_http_error_responses_total",
				     "HTTP 4xx and 5xx responses", NULL, st_errors, s);
	r[3] = fh_metrics_counter_fn(m, "fh_http_sent_bytes_total", "HTTP bytes sent", NULL,
				     st_bytes, s);
	r[4] = fh_metrics_gauge_fn(m, "fh_http_open_connections", "HTTP connections open", NULL,
				   st_open, s);
	for (int i = 0; i < 5; i++)
		if (r[i] < 0 && r[i] != -EEXIST) {
			errno = -r[i];
			return r[i];
		}
	return 0;
}
