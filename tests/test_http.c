/* SPDX-License-Identifier: MIT */
/* test_http.c: the telemetry HTTP server: routes, keep-alive, pipelining, limits, dashboard assets, flat memory. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "fh_http.h"
#include "fh_memstat.h"
#include "fh_metrics.h"
#include "fh_test.h"

struct server {
	struct fh_http *http;
	struct fh_metrics *m;
	pthread_t thread;
	volatile int stop;
	int ctr;
};

/* The "control thread": ticks the registry and serves HTTP. */
static void *serve(void *arg)
{
	struct server *s = arg;
	uint64_t now = 1763700000000000000ull;
	while (!s->stop) {
		fh_metrics_add(fh_metrics_core(s->m, 0), s->ctr, 1);
		fh_metrics_tick(s->m, now += 1000000);
		fh_http_poll(s->http, 5);
	}
	return NULL;
}

static int start(struct server *s, const struct fh_http_cfg *cfg)
{
	memset(s, 0, sizeof(*s));
	struct fh_metrics_cfg mc = { .n_cores = 1 };
	s->m = fh_metrics_create(&mc);
	s->http = fh_http_create(cfg);
	if (!s->m || !s->http)
		return -1;
	s->ctr = fh_metrics_counter(s->m, "fh_messages_total", "Messages", "source=\"t\"");
	if (fh_http_serve_metrics(s->http, s->m) != 0)
		return -1;
	return pthread_create(&s->thread, NULL, serve, s) == 0 ? 0 : -1;
}

static void stop(struct server *s)
{
	if (s->thread) {
		s->stop = 1;
		pthread_join(s->thread, NULL);
	}
	fh_http_destroy(s->http);
	fh_metrics_destroy(s->m);
}

static int dial(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *s)
{
	size_t n = strlen(s);
	return send(fd, s, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

struct resp {
	int status;
	size_t content_length;
	char type[96];
	bool conn_close;
	char *body; /* NUL-terminated, in a static buffer (valid until the next response) */
	size_t body_len;
};

/* Reads one response; pending bytes of the next one stay in carry. */
static int read_resp(int fd, struct resp *r, bool head, char *carry, size_t *carry_len)
{
	static char buf[1 << 16];
	size_t len = *carry_len;
	memcpy(buf, carry, len);
	*carry_len = 0;
	memset(r, 0, sizeof(*r));
	char *end;
	while (!(end = memmem(buf, len, "\r\n\r\n", 4))) {
		ssize_t n = recv(fd, buf + len, sizeof(buf) - len - 1, 0);
		if (n <= 0)
			return -1;
		len += (size_t)n;
	}
	*end = '\0';
	if (sscanf(buf, "HTTP/1.1 %d", &r->status) != 1)
		return -1;
	char *h = strcasestr(buf, "\r\nContent-Length: ");
	r->content_length = h ? strtoul(h + 18, NULL, 10) : 0;
	h = strcasestr(buf, "\r\nContent-Type: ");
	if (h)
		sscanf(h + 16, "%95[^\r]", r->type);
	r->conn_close = strcasestr(buf, "\r\nConnection: close") != NULL;
	size_t hdr = (size_t)(end + 4 - buf);
	size_t want = head ? 0 : r->content_length;
	/* No allocation in the client either: the flat-memory case measures
	 * the whole process (and ASan keeps freed blocks in quarantine). */
	static char body[4 << 20];
	if (want + 1 > sizeof(body))
		return -1;
	r->body = body;
	size_t have = len - hdr < want ? len - hdr : want;
	memcpy(r->body, buf + hdr, have);
	if (len - hdr > want) { /* the next pipelined response */
		*carry_len = len - hdr - want;
		memcpy(carry, buf + hdr + want, *carry_len);
	}
	while (have < want) {
		ssize_t n = recv(fd, r->body + have, want - have, 0);
		if (n <= 0) {
			r->body = NULL;
			return -1;
		}
		have += (size_t)n;
	}
	r->body[want] = '\0';
	r->body_len = want;
	return 0;
}

/* One request on a fresh connection. */
static int get(uint16_t port, const char *req, struct resp *r)
{
	int fd = dial(port);
	char carry[1 << 16];
	size_t cl = 0;
	if (fd < 0)
		return -1;
	int rc = send_all(fd, req) == 0 ? read_resp(fd, r, strncmp(req, "HEAD", 4) == 0, carry, &cl) : -1;
	close(fd);
	return rc;
}

static void test_routes(void)
{
	struct server s;
	struct resp r;
	if (start(&s, NULL) != 0) {
		FH_CHECK(!"start");
		stop(&s);
		return;
	}
	uint16_t port = fh_http_port(s.http);
	FH_CHECK(port != 0);
	FH_CHECK_EQ_I(get(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
	FH_CHECK_EQ_I(r.status, 200);
	FH_CHECK_STR(r.type, "text/plain; version=0.0.4; charset=utf-8");
	FH_CHECK(r.body && strstr(r.body, "# TYPE fh_messages_total counter") != NULL);
	FH_CHECK(r.body && strstr(r.body, "fh_http_requests_total ") != NULL);
	size_t metrics_len = r.content_length;
	FH_CHECK_EQ_I(get(port, "HEAD /metrics HTTP/1.1\r\n\r\n", &r), 0);
	FH_CHECK_EQ_I(r.status, 200);
	FH_CHECK(r.content_length > metrics_len / 2);
	FH_CHECK_EQ_I(get(port, "GET /status?x=1 HTTP/1.1\r\n\r\n", &r), 0);
	FH_CHECK_EQ_I(r.status, 200);
	FH_CHECK_STR(r.type, "application/json");
	FH_CHECK(r.body && r.body[0] == '{' && strstr(r.body, "\"metrics\":[") != NULL);
	FH_CHECK_EQ_I(get(port, "GET /hdr HTTP/1.1\r\n\r\n", &r), 0);
	FH_CHECK_EQ_I(r.status, 200);
	FH_CHECK(r.body && strstr(r.body, "#[Histogram log format version 1.3]") != NULL);
	FH_CHECK_EQ_I(get(port, "GET /nope HTTP/1.1\r\n\r\n", &r), 0);
	FH_CHECK_EQ_I(r.status, 404);
	FH_CHECK_EQ_I(get(port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &r), 0);
	FH_CHECK_EQ_I(r.status, 405);
	FH_CHECK_EQ_I(get(port, "garbage\r\n\r\n", &r), 0);
	FH_CHECK_EQ_I(r.status, 400);
	FH_CHECK(r.conn_close);
	/* A header larger than the request buffer: 431 and close. */
	char *big = malloc(10000);
	if (big) {
		memset(big, 'a', 9999);
		big[9999] = '\0';
		memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
		FH_CHECK_EQ_I(get(port, big, &r), 0);
		FH_CHECK_EQ_I(r.status, 431);
		free(big);
	}
	s.stop = 1;
	pthread_join(s.thread, NULL);
	s.thread = 0;
	FH_CHECK(fh_http_stats(s.http)->bad_requests >= 4);
	stop(&s);
}

static void test_keepalive_pipelining(void)
{
	struct server s;
	struct resp r;
	char carry[1 << 16];
	size_t cl = 0;
	if (start(&s, NULL) != 0) {
		FH_CHECK(!"start");
		stop(&s);
		return;
	}
	int fd = dial(fh_http_port(s.http));
	FH_CHECK(fd >= 0);
	for (int i = 0; i < 3 && fd >= 0; i++) {
		FH_CHECK_EQ_I(send_all(fd, "GET /status HTTP/1.1\r\n\r\n"), 0);
		FH_CHECK_EQ_I(read_resp(fd, &r, false, carry, &cl), 0);
		FH_CHECK_EQ_I(r.status, 200);
		FH_CHECK(!r.conn_close);
	}
	/* Three requests in one segment, three responses in order. */
	FH_CHECK_EQ_I(send_all(fd, "GET /status HTTP/1.1\r\n\r\nGET /nope HTTP/1.1\r\n\r\n"
				   "HEAD /metrics HTTP/1.1\r\nConnection: close\r\n\r\n"), 0);
	FH_CHECK_EQ_I(read_resp(fd, &r, false, carry, &cl), 0);
	FH_CHECK_EQ_I(r.status, 200);
	FH_CHECK_EQ_I(read_resp(fd, &r, false, carry, &cl), 0);
	FH_CHECK_EQ_I(r.status, 404);
	FH_CHECK_EQ_I(read_resp(fd, &r, true, carry, &cl), 0);
	FH_CHECK_EQ_I(r.status, 200);
	FH_CHECK(r.conn_close);
	char c;
	FH_CHECK_EQ_I(recv(fd, &c, 1, 0), 0); /* the server closed */
	close(fd);
	/* HTTP/1.0 without keep-alive closes too. */
	fd = dial(fh_http_port(s.http));
	FH_CHECK_EQ_I(send_all(fd, "GET /status HTTP/1.0\r\n\r\n"), 0);
	cl = 0;
	FH_CHECK_EQ_I(read_resp(fd, &r, false, carry, &cl), 0);
	FH_CHECK(r.conn_close);
	FH_CHECK_EQ_I(recv(fd, &c, 1, 0), 0);
	close(fd);
	stop(&s);
}

static void test_limits(void)
{
	struct server s;
	struct resp r;
	struct fh_http_cfg cfg = { .max_conns = 3, .idle_ms = 300, .resp_cap = 4096 };
	if (start(&s, &cfg) != 0) {
		FH_CHECK(!"start");
		stop(&s);
		return;
	}
	uint16_t port = fh_http_port(s.http);
	int fds[3];
	char carry[1 << 16];
	for (int i = 0; i < 3; i++) {
		/* One answered request each: the slot is surely taken. */
		size_t cl = 0;
		fds[i] = dial(port);
		FH_CHECK(fds[i] >= 0 && send_all(fds[i], "GET /status HTTP/1.1\r\n\r\n") == 0 &&
			 read_resp(fds[i], &r, false, carry, &cl) == 0 && r.status == 200);
	}
	FH_CHECK_EQ_I(get(port, "GET /status HTTP/1.1\r\n\r\n", &r), 0);
	FH_CHECK_EQ_I(r.status, 503);
	/* Idle connections are closed after idle_ms. */
	usleep(700000);
	char c;
	for (int i = 0; i < 3; i++) {
		FH_CHECK_EQ_I(recv(fds[i], &c, 1, 0), 0);
		close(fds[i]);
	}
	FH_CHECK_EQ_I(get(port, "GET /uPlot.iife.min.js HTTP/1.1\r\n\r\n", &r), 0);
	FH_CHECK_EQ_I(r.status, 200); /* constant assets are not copied: any size */
	/* The server's counters, read once its thread is gone. */
	s.stop = 1;
	pthread_join(s.thread, NULL);
	s.thread = 0;
	FH_CHECK(fh_http_stats(s.http)->rejected >= 1);
	stop(&s);
}

static void test_too_large(void)
{
	struct fh_http_cfg cfg = { .resp_cap = 512 };
	struct server s;
	struct resp r;
	if (start(&s, &cfg) != 0) {
		FH_CHECK(!"start");
		stop(&s);
		return;
	}
	FH_CHECK_EQ_I(get(fh_http_port(s.http), "GET /metrics HTTP/1.1\r\n\r\n", &r), 0);
	FH_CHECK_EQ_I(r.status, 500);
	FH_CHECK(r.body && strstr(r.body, "too large") != NULL);
	stop(&s);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return b;
}

static void test_dashboard_assets(void)
{
	struct server s;
	struct resp r;
	if (start(&s, NULL) != 0) {
		FH_CHECK(!"start");
		stop(&s);
		return;
	}
	uint16_t port = fh_http_port(s.http);
	static const struct {
		const char *url, *file, *type;
	} a[] = {
		{ "/", "perf/dashboard/index.html", "text/html; charset=utf-8" },
		{ "/uPlot.iife.min.js", "perf/dashboard/vendor/uplot/uPlot.iife.min.js", "text/javascript; charset=utf-8" },
		{ "/uPlot.min.css", "perf/dashboard/vendor/uplot/uPlot.min.css", "text/css; charset=utf-8" },
		{ "/LICENSE.uPlot", "perf/dashboard/vendor/uplot/LICENSE", "text/plain; charset=utf-8" },
	};
	for (size_t i = 0; i < FH_ARRAY_SIZE(a); i++) {
		char req[128];
		size_t flen = 0;
		char *file = slurp(a[i].file, &flen);
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n\r\n", a[i].url);
		FH_CHECK_EQ_I(get(port, req, &r), 0);
		FH_CHECK_EQ_I(r.status, 200);
		FH_CHECK_STR(r.type, a[i].type);
		/* The embedded copy is the file in the tree, byte for byte. */
		FH_CHECK(file && r.body && r.body_len == flen && memcmp(file, r.body, flen) == 0);
		free(file);
	}
	size_t alen = 0;
	const char *idx = fh_http_asset("/", &alen);
	FH_CHECK(idx && alen > 1000 && memmem(idx, alen, "uPlot.iife.min.js", 17) != NULL);
	/* No external URL in the page: everything is served by us. */
	FH_CHECK(idx && memmem(idx, alen, "https://", 8) == NULL && memmem(idx, alen, "http://", 7) == NULL);
	stop(&s);

	/* A configured directory takes precedence (for editing live). */
	char dir[] = "/tmp/fh-test-http-XXXXXX";
	if (!mkdtemp(dir)) {
		FH_CHECK(!"mkdtemp");
		return;
	}
	char path[128];
	snprintf(path, sizeof(path), "%s/index.html", dir);
	FILE *f = fopen(path, "w");
	if (f) {
		fputs("<html>custom</html>", f);
		fclose(f);
	}
	struct fh_http_cfg cfg = { .dashboard_dir = dir };
	if (start(&s, &cfg) == 0) {
		FH_CHECK_EQ_I(get(fh_http_port(s.http), "GET / HTTP/1.1\r\n\r\n", &r), 0);
		FH_CHECK_STR(r.body, "<html>custom</html>");
		FH_CHECK_EQ_I(get(fh_http_port(s.http), "GET /uPlot.min.css HTTP/1.1\r\n\r\n", &r), 0);
		FH_CHECK_EQ_I(r.status, 404);
	} else {
		FH_CHECK(!"start with dir");
	}
	stop(&s);
	unlink(path);
	rmdir(dir);
}

static void test_memory_flat(void)
{
	struct server s;
	struct resp r;
	struct fh_memstat a, b;
	if (start(&s, NULL) != 0) {
		FH_CHECK(!"start");
		stop(&s);
		return;
	}
	uint16_t port = fh_http_port(s.http);
	int fd = dial(port);
	char carry[1 << 16];
	size_t cl = 0;
	static const char *reqs[] = { "GET /metrics HTTP/1.1\r\n\r\n", "GET /status HTTP/1.1\r\n\r\n",
				      "GET /hdr HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\n\r\n" };
	int ok = 0;
	/* Warm up: every response buffer page the requests touch gets touched. */
	for (int i = 0; i < 200 && fd >= 0; i++) {
		if (send_all(fd, reqs[i % 4]) == 0 && read_resp(fd, &r, false, carry, &cl) == 0 && r.status == 200)
			ok++;
	}
	fh_memstat_read(&a);
	for (int i = 0; i < 2000 && fd >= 0; i++) {
		if (send_all(fd, reqs[i % 4]) == 0 && read_resp(fd, &r, false, carry, &cl) == 0 && r.status == 200)
			ok++;
		if (i % 100 == 99) { /* and new connections */
			close(fd);
			fd = dial(port);
			cl = 0;
		}
	}
	fh_memstat_read(&b);
	if (fd >= 0)
		close(fd);
	FH_CHECK_EQ_I(ok, 2200);
	int64_t growth = fh_memstat_growth(&a, &b);
	fprintf(stderr, "  resident growth over 2000 requests: %" PRId64 " bytes (%s)\n", growth,
		a.jemalloc ? "jemalloc" : "rss");
	FH_CHECK(growth < 256 * 1024);
	stop(&s);
}

static const struct fh_test_case cases[] = {
	FH_CASE(test_routes),
	FH_CASE(test_keepalive_pipelining),
	FH_CASE(test_limits),
	FH_CASE(test_too_large),
	FH_CASE(test_dashboard_assets),
	FH_CASE(test_memory_flat),
	{ 0 },
};

int main(int argc, char **argv)
{
	return fh_test_main(argc, argv, cases);
}
