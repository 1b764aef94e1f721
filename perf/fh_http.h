/* SPDX-License-Identifier: MIT */
/* fh_http.h: a tiny HTTP/1.1 server for the control thread: /metrics, /hdr, /status, the dashboard. */
#ifndef FH_HTTP_H
#define FH_HTTP_H

/*
 * Single-threaded, non-blocking, poll()-driven: the control thread calls
 * fh_http_poll() from its loop (between fh_metrics_tick() calls), so
 * handlers read the registry without locks, and no data core ever runs it.
 * Everything is allocated by fh_http_create(): max_conns connection slots,
 * each with a request buffer and a response buffer (pages touched on first
 * use, never grown), so serving requests does not grow memory. Connections
 * over max_conns get "503" and are closed; idle ones are closed after
 * idle_ms. Keep-alive and pipelining per HTTP/1.1; GET and HEAD only.
 * Binds 127.0.0.1 unless told otherwise (the endpoint is unauthenticated).
 *
 * Handlers fill a response in place (no allocation) and return 0, or a
 * negative errno which becomes a 500 (-ENOSPC: the response did not fit).
 */

#include <stddef.h>
#include <stdint.h>

struct fh_metrics;

struct fh_http_cfg {
	const char *addr;      /* IPv4 address to bind (default "127.0.0.1") */
	uint16_t port;         /* 0: an ephemeral port (see fh_http_port) */
	unsigned max_conns;    /* simultaneous connections (default 8) */
	size_t req_cap;        /* request header bytes (default 8 KiB) */
	size_t resp_cap;       /* response body bytes per connection (default 2 MiB) */
	int idle_ms;           /* idle connection timeout (default 10000) */
	const char *dashboard_dir; /* serve the dashboard from here instead of the
				    * copy embedded in the binary (for editing it live) */
};

struct fh_http_req {
	const char *method;   /* "GET" or "HEAD" */
	const char *path;     /* without the query */
	const char *query;    /* after '?', "" when none */
};

struct fh_http_resp {
	char *body;           /* cap bytes owned by the connection */
	size_t cap;
	size_t len;
	int status;           /* 200 unless the handler says otherwise */
	const char *content_type;
	const char *extra_headers; /* NULL or "Name: value\r\n..." */
	const char *ext_body; /* handler may point at constant bytes instead of copying */
};

typedef int (*fh_http_handler)(const struct fh_http_req *req, struct fh_http_resp *resp,
			       void *arg);

struct fh_http_stats {
	uint64_t accepted;
	uint64_t requests;
	uint64_t rejected;     /* over max_conns */
	uint64_t bad_requests; /* 4xx sent */
	uint64_t errors;       /* 5xx sent */
	uint64_t bytes_out;
	uint64_t open;         /* connections open now */
};

/* Binds and listens. NULL with errno set on failure. */
struct fh_http *fh_http_create(const struct fh_http_cfg *cfg);
void fh_http_destroy(struct fh_http *s);

/* The bound port (useful with port 0). */
uint16_t fh_http_port(const struct fh_http *s);

/* Routes an exact path (at most 32 routes). Returns 0, -ENOSPC, -EINVAL. */
int fh_http_route(struct fh_http *s, const char *path, fh_http_handler fn, void *arg);

/* Serves what is ready, waiting at most timeout_ms (0: do not wait).
 * Returns the number of requests answered, or -errno from poll(). */
int fh_http_poll(struct fh_http *s, int timeout_ms);

const struct fh_http_stats *fh_http_stats(const struct fh_http *s);

/* Routes the telemetry endpoints of a registry:
 *   /metrics  Prometheus text exposition 0.0.4
 *   /hdr      last-interval histograms as an HdrHistogram interval log
 *   /status   JSON (counters, gauges, latency percentiles, app state)
 *   /         the dashboard (and its assets)
 * and registers the server's own counters (fh_http_*) in m. Returns 0 or -errno
 * (errno set too). */
int fh_http_serve_metrics(struct fh_http *s, struct fh_metrics *m);

/* The embedded dashboard assets (for tests and tools): name -> bytes. */
const char *fh_http_asset(const char *name, size_t *len);

#endif /* FH_HTTP_H */
