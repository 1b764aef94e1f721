/* SPDX-License-Identifier: MIT */
/* fh-stat.c: fh's telemetry in a terminal (HTTP /metrics or the shm snapshot), interval-log dumps, and a demo server. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fh_http.h"
#include "fh_memstat.h"
#include "fh_metrics.h"
#include "fh_time.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: fh-stat [--url URL] [-i SECONDS] [-n COUNT]     live table from /metrics\n"
		"       fh-stat --raw PATH [--url URL]                  print one endpoint (e.g. /status)\n"
		"       fh-stat --hdr-log FILE [--url URL] [-i S] [-n N] append /hdr intervals to an\n"
		"                                                       HdrHistogram interval log\n"
		"       fh-stat --shm PATH [-i SECONDS] [-n COUNT]      live table from the shm snapshot\n"
		"       fh-stat --hdr-read FILE [--tag TAG]             summarise an interval log; with a tag,\n"
		"                                                       the merged percentile table (us)\n"
		"       fh-stat --demo [--listen ADDR:PORT] [--port-file FILE] [--tick-ms MS]\n"
		"               [--seconds N] [--shm PATH] [--dashboard-dir DIR]\n"
		"               serve synthetic but really measured telemetry (two worker threads\n"
		"               timing real work) on /metrics /hdr /status / for tests and demos\n"
		"URL defaults to http://127.0.0.1:9100 (fh's default telemetry address).\n");
	exit(2);
}

/* --- a minimal HTTP/1.1 GET client --- */

static int http_get(const char *url, const char *path, char **body, size_t *len)
{
	char host[256] = "127.0.0.1", port[16] = "9100";
	const char *p = url;
	if (strncmp(p, "http://", 7) == 0)
		p += 7;
	if (sscanf(p, "%255[^:/]:%15[0-9]", host, port) < 1)
		return -EINVAL;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai;
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -EHOSTUNREACH;
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = { .tv_sec = 5 };
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	if (fd < 0)
		return -ECONNREFUSED;
	char req[512];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
			 path, host);
	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		close(fd);
		return -EIO;
	}
	size_t cap = 1 << 20, l = 0;
	char *b = malloc(cap + 1);
	while (b) {
		if (l == cap) {
			char *nb = realloc(b, 2 * cap + 1);
			if (!nb)
				break;
			b = nb;
			cap *= 2;
		}
		ssize_t r = recv(fd, b + l, cap - l, 0);
		if (r <= 0)
			break;
		l += (size_t)r;
	}
	close(fd);
	if (!b)
		return -ENOMEM;
	b[l] = '\0';
	int status = 0;
	char *hdr_end = strstr(b, "\r\n\r\n");
	if (sscanf(b, "HTTP/1.%*d %d", &status) != 1 || !hdr_end) {
		free(b);
		return -EPROTO;
	}
	size_t off = (size_t)(hdr_end + 4 - b);
	memmove(b, b + off, l - off + 1);
	*body = b;
	*len = l - off;
	return status;
}

/* --- the table --- */

struct row {
	char key[FH_METRICS_NAME_LEN + FH_METRICS_LABELS_LEN + 16];
	double v, prev;
	bool counter, seen_prev;
	bool lat;      /* a latency series: q[] holds p50 p90 p99 p99.9 p99.99 max (us) */
	double q[6];
};

static const double quantiles[6] = { 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0 };

static void set_lat(const char *key, int qi, double us);

static struct row rows[4096];
static int n_rows;

static struct row *row_of(const char *key)
{
	for (int i = 0; i < n_rows; i++)
		if (strcmp(rows[i].key, key) == 0)
			return &rows[i];
	if (n_rows == (int)(sizeof(rows) / sizeof(rows[0])))
		return NULL;
	struct row *r = &rows[n_rows++];
	memset(r, 0, sizeof(*r));
	size_t n = strnlen(key, sizeof(r->key) - 1);
	memcpy(r->key, key, n);
	r->key[n] = '\0';
	return r;
}

static void set_row(const char *key, double v, bool counter)
{
	struct row *r = row_of(key);
	if (!r)
		return;
	if (r->counter || counter) {
		r->prev = r->v;
		r->seen_prev = r->seen_prev || r->v != 0 || r->counter;
	}
	r->v = v;
	r->counter = counter;
}

/* Parses Prometheus text: counters and gauges as rows, summaries of the
 * *_window_seconds families as latency rows (us). Histogram buckets skipped. */
static void parse_prometheus(char *text)
{
	char type_name[FH_METRICS_NAME_LEN] = "", type[16] = "";
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, "# TYPE ", 7) == 0) {
			sscanf(line + 7, "%95s %15s", type_name, type);
			continue;
		}
		if (line[0] == '#')
			continue;
		char *sp = strrchr(line, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		double v = strtod(sp + 1, NULL);
		if (strcmp(type, "histogram") == 0)
			continue;
		if (strcmp(type, "summary") == 0) {
			char *q = strstr(line, "quantile=\"");
			if (!q)
				continue; /* _sum and _count */
			double qv = strtod(q + 10, NULL);
			/* The series without its quantile label. */
			char key[512];
			size_t pre = (size_t)(q - line);
			if (pre > 0 && line[pre - 1] == ',')
				pre--;
			snprintf(key, sizeof(key), "%.*s%s", (int)pre, line, line[pre] == '{' ? "{}" : "}");
			if (strcmp(key + strlen(key) - 2, "{}") == 0)
				key[strlen(key) - 2] = '\0';
			for (int i = 0; i < 6; i++)
				if (fabs(qv - quantiles[i]) < 1e-9)
					set_lat(key, i, v * 1e6);
			continue;
		}
		set_row(line, v, strcmp(type, "counter") == 0);
	}
}

static void set_lat(const char *key, int qi, double us)
{
	struct row *r = row_of(key);
	if (!r)
		return;
	r->lat = true;
	r->q[qi] = us;
}

static void print_table(double dt, const char *source)
{
	time_t t = time(NULL);
	char when[32];
	strftime(when, sizeof(when), "%H:%M:%S", localtime(&t));
	if (isatty(1))
		printf("\033[H\033[2J");
	printf("fh-stat %s  %s\n", source, when);
	printf("%-72s %16s %14s\n", "series", "value", "rate/s");
	for (int i = 0; i < n_rows; i++) {
		struct row *r = &rows[i];
		if (r->lat)
			continue;
		if (r->counter && r->seen_prev && dt > 0)
			printf("%-72.72s %16.0f %14.1f\n", r->key, r->v, (r->v - r->prev) / dt);
		else
			printf("%-72.72s %16.6g %14s\n", r->key, r->v, "");
	}
	bool hdr = false;
	for (int i = 0; i < n_rows; i++) {
		struct row *r = &rows[i];
		if (!r->lat)
			continue;
		if (!hdr) {
			printf("\n%-64s %9s %9s %9s %9s %9s %9s\n", "latency, last interval (us)", "p50",
			       "p90", "p99", "p99.9", "p99.99", "max");
			hdr = true;
		}
		printf("%-64.64s %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f\n", r->key, r->q[0], r->q[1],
		       r->q[2], r->q[3], r->q[4], r->q[5]);
	}
	fflush(stdout);
}

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int run_http_table(const char *url, double interval, long count)
{
	struct timespec prev, now;
	clock_gettime(CLOCK_MONOTONIC, &prev);
	for (long i = 0; (count <= 0 || i < count) && !stop_flag; i++) {
		char *body;
		size_t len;
		int st = http_get(url, "/metrics", &body, &len);
		if (st != 200) {
			fprintf(stderr, "fh-stat: %s/metrics: %s\n", url,
				st < 0 ? strerror(-st) : "HTTP error");
			if (st > 0)
				free(body);
			return 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		double dt = (double)(now.tv_sec - prev.tv_sec) + (double)(now.tv_nsec - prev.tv_nsec) / 1e9;
		prev = now;
		parse_prometheus(body);
		free(body);
		print_table(i ? dt : 0, url);
		if (count <= 0 || i + 1 < count)
			usleep((useconds_t)(interval * 1e6));
	}
	return 0;
}

static int run_shm_table(const char *path, double interval, long count)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) != 0) {
		fprintf(stderr, "fh-stat: %s: %s\n", path, strerror(errno));
		return 1;
	}
	void *p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		fprintf(stderr, "fh-stat: mmap %s: %s\n", path, strerror(errno));
		return 1;
	}
	size_t cap = ((size_t)sb.st_size - sizeof(struct fh_metrics_snap)) / sizeof(struct fh_metrics_snap_ent);
	struct fh_metrics_snap *s = malloc((size_t)sb.st_size);
	uint64_t prev_t = 0;
	int rc = 0;
	for (long i = 0; s && (count <= 0 || i < count) && !stop_flag; i++) {
		int n = fh_metrics_snap_read(p, (size_t)sb.st_size, s, cap);
		if (n < 0) {
			fprintf(stderr, "fh-stat: %s: %s\n", path, strerror(-n));
			rc = 1;
			break;
		}
		double dt = prev_t ? (double)(s->time_ns - prev_t) / 1e9 : 0;
		prev_t = s->time_ns;
		for (int k = 0; k < n; k++) {
			const struct fh_metrics_snap_ent *e = &s->ent[k];
			char key[512];
			snprintf(key, sizeof(key), "%s%s%s%s", e->name, e->labels[0] ? "{" : "",
				 e->labels, e->labels[0] ? "}" : "");
			if (e->type != FH_METRICS_LATENCY) {
				set_row(key, e->value, e->type == FH_METRICS_COUNTER);
				continue;
			}
			for (int j = 0; j < 6; j++)
				set_lat(key, j, (double)e->pct_ns[j] / 1000.0);
		}
		print_table(dt, path);
		if (count <= 0 || i + 1 < count)
			usleep((useconds_t)(interval * 1e6));
	}
	free(s);
	munmap(p, (size_t)sb.st_size);
	return rc;
}

/* Appends /hdr's interval lines to an interval log; the header once. */
static int run_hdr_log(const char *url, const char *file, double interval, long count)
{
	FILE *f = fopen(file, "a+");
	if (!f) {
		fprintf(stderr, "fh-stat: %s: %s\n", file, strerror(errno));
		return 1;
	}
	fseek(f, 0, SEEK_END);
	bool have_header = ftell(f) > 0;
	char *last = NULL; /* the previous response's lines: skip unchanged intervals */
	long written = 0;
	for (long i = 0; (count <= 0 || i < count) && !stop_flag; i++) {
		char *body;
		size_t len;
		int st = http_get(url, "/hdr", &body, &len);
		if (st != 200) {
			fprintf(stderr, "fh-stat: %s/hdr: %s\n", url, st < 0 ? strerror(-st) : "HTTP error");
			if (st > 0)
				free(body);
			break;
		}
		char *save = NULL;
		for (char *line = strtok_r(body, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			bool meta = line[0] == '#' || line[0] == '"';
			if (meta) {
				if (!have_header)
					fprintf(f, "%s\n", line);
				continue;
			}
			if (last && strstr(last, line))
				continue;
			/* Intervals with no values carry nothing for the log. */
			fprintf(f, "%s\n", line);
			written++;
		}
		have_header = true;
		free(last);
		last = malloc(len + 1);
		if (last) {
			/* strtok cut body into lines; rebuild them for the next comparison */
			size_t o = 0;
			for (size_t k = 0; k < len; k++)
				last[o++] = body[k] ? body[k] : '\n';
			last[o] = '\0';
		}
		free(body);
		fflush(f);
		if (count <= 0 || i + 1 < count)
			usleep((useconds_t)(interval * 1e6));
	}
	free(last);
	fclose(f);
	fprintf(stderr, "fh-stat: %ld interval histograms appended to %s\n", written, file);
	return written > 0 ? 0 : 1;
}

/* --- reading an interval log --- */

struct hread {
	const char *tag;
	struct fh_hdr *merged;
	long n;
	int64_t total;
};

static int on_hist(const struct fh_hdr *h, const char *tag, void *arg)
{
	struct hread *r = arg;
	if (r->tag) {
		if (!tag || strcmp(tag, r->tag) != 0)
			return 0;
		fh_hdr_merge(r->merged, h);
	} else {
		double ps[] = { 50, 99, 99.9 };
		int64_t v[3];
		fh_hdr_values_at_percentiles(h, ps, v, 3);
		printf("%-48s %14.3f %7.3f %10" PRId64 " %10" PRId64 " %10" PRId64 " %10" PRId64
		       " %10" PRId64 "\n",
		       tag ? tag : "-", (double)h->start_ns / 1e9,
		       (double)(h->end_ns - h->start_ns) / 1e9, h->total, v[0], v[1], v[2],
		       h->total ? fh_hdr_highest_equivalent(h, h->max) : 0);
	}
	r->n++;
	r->total += h->total;
	return 0;
}

static int run_hdr_read(const char *file, const char *tag)
{
	FILE *f = fopen(file, "r");
	if (!f) {
		fprintf(stderr, "fh-stat: %s: %s\n", file, strerror(errno));
		return 1;
	}
	struct hread r = { .tag = tag };
	if (tag && !(r.merged = fh_hdr_create(NULL))) {
		fclose(f);
		return 1;
	}
	if (!tag)
		printf("%-48s %14s %7s %10s %10s %10s %10s %10s\n", "tag", "start_s", "len_s",
		       "count", "p50_ns", "p99_ns", "p99.9_ns", "max_ns");
	int rc = fh_hdr_log_read(f, on_hist, &r);
	fclose(f);
	if (rc < 0) {
		fprintf(stderr, "fh-stat: %s: %s\n", file, strerror(-rc));
		fh_hdr_destroy(r.merged);
		return 1;
	}
	if (tag && r.n)
		fh_hdr_percentiles_print(r.merged, stdout, 5, 1000.0);
	printf("# %ld histograms%s%s, %" PRId64 " values\n", r.n, tag ? " tagged " : "",
	       tag ? tag : "", r.total);
	fh_hdr_destroy(r.merged);
	return r.n ? 0 : 1;
}

/* --- demo: real measured work on two worker threads --- */

struct worker {
	struct fh_metrics *m;
	struct fh_metrics_core *core;
	unsigned id;
	const char *source;
	int c_msgs, c_pkts, c_drops, c_gaps, c_rej, c_dl;
	int l_decode, l_book, l_ring, l_e2e;
	struct fh_rate_peak peak_1s, peak_1ms;
	uint64_t last_ns; /* last book update, wall ns */
	uint64_t book[64];
	pthread_t t;
};

static volatile int demo_stop;

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *worker_loop(void *arg)
{
	struct worker *w = arg;
	uint64_t rng = 0x9e3779b97f4a7c15ull * (w->id + 1);
	uint8_t msg[64];
	while (!demo_stop) {
		/* A burst of 32 "messages": decode (checksum a buffer), book (update
		 * a level array), ring (copy out): each stage timed with the TSC. */
		for (int i = 0; i < 32; i++) {
			uint64_t t0 = fh_rdtsc();
			uint64_t r = xorshift(&rng);
			for (int k = 0; k < 64; k++)
				msg[k] = (uint8_t)(r >> (k & 56));
			uint64_t sum = 0;
			int work = 8 + (int)(r % 64) + (r % 1000 == 0 ? 4000 : 0); /* a rare slow one */
			for (int k = 0; k < work; k++)
				sum += msg[k & 63] * (uint64_t)k;
			uint64_t t1 = fh_rdtsc();
			w->book[sum & 63] += r;
			uint64_t t2 = fh_rdtsc();
			__atomic_store_n(&w->book[(sum + 1) & 63], sum, __ATOMIC_RELEASE);
			uint64_t t3 = fh_rdtsc();
			fh_metrics_lat_record(w->core, w->l_decode, (int64_t)fh_tsc_to_ns(t1 - t0));
			fh_metrics_lat_record(w->core, w->l_book, (int64_t)fh_tsc_to_ns(t2 - t1));
			fh_metrics_lat_record(w->core, w->l_ring, (int64_t)fh_tsc_to_ns(t3 - t2));
			fh_metrics_lat_record(w->core, w->l_e2e, (int64_t)fh_tsc_to_ns(t3 - t0));
			if (r % 5000 == 1)
				fh_metrics_inc(w->core, w->c_drops);
			if (r % 20000 == 2)
				fh_metrics_inc(w->core, w->c_gaps);
			if (r % 3000 == 3) {
				fh_metrics_inc(w->core, w->c_rej);
				fh_metrics_inc(w->core, w->c_dl);
			}
		}
		uint64_t now = fh_tsc_wall_ns(fh_rdtsc());
		fh_metrics_add(w->core, w->c_msgs, 32);
		fh_metrics_add(w->core, w->c_pkts, 4);
		fh_rate_peak_add(&w->peak_1s, now, 32);
		fh_rate_peak_add(&w->peak_1ms, now, 32);
		__atomic_store_n(&w->last_ns, now, __ATOMIC_RELAXED);
		fh_metrics_core_poll(w->core);
		/* ~20-30k messages/s per worker: light on a shared machine. */
		usleep(1000 + (unsigned)(rng % 500));
	}
	return NULL;
}

static double book_age(void *arg)
{
	struct worker *w = arg;
	uint64_t last = __atomic_load_n(&w->last_ns, __ATOMIC_RELAXED);
	uint64_t now = fh_clock_ns(CLOCK_REALTIME);
	return last && now > last ? (double)(now - last) / 1e9 : 0.0;
}

static double last_msg_ts(void *arg)
{
	struct worker *w = arg;
	return (double)__atomic_load_n(&w->last_ns, __ATOMIC_RELAXED) / 1e9;
}

static double kafka_lag(void *arg)
{
	(void)arg;
	/* A sawtooth: produced but not yet acknowledged. */
	return (double)((fh_clock_ns(CLOCK_REALTIME) / 100000000ull) % 50);
}

static double one(void *arg)
{
	(void)arg;
	return 1.0;
}

static int reg_worker(struct fh_metrics *m, struct worker *w)
{
	char l[160];
	int rc = 0;
#define CHK(x) do { int _r = (x); if (_r < 0) rc = _r; } while (0)
	snprintf(l, sizeof(l), "source=\"%s\",core=\"%u\"", w->source, w->id);
	CHK(w->c_msgs = fh_metrics_counter(m, "fh_messages_total", "Messages decoded, per source and core", l));
	CHK(w->c_pkts = fh_metrics_counter(m, "fh_packets_total", "Packets received, per source and core", l));
	snprintf(l, sizeof(l), "source=\"%s\",reason=\"rx_ring_full\"", w->source);
	CHK(w->c_drops = fh_metrics_counter(m, "fh_drops_total", "Packets dropped, by reason", l));
	snprintf(l, sizeof(l), "source=\"%s\"", w->source);
	CHK(w->c_gaps = fh_metrics_counter(m, "fh_gaps_total", "Sequence gaps detected", l));
	snprintf(l, sizeof(l), "source=\"%s\",reason=\"bad_length\"", w->source);
	CHK(w->c_rej = fh_metrics_counter(m, "fh_rejects_total", "Messages rejected, by reason", l));
	snprintf(l, sizeof(l), "source=\"%s\"", w->source);
	CHK(w->c_dl = fh_metrics_counter(m, "fh_dead_letters_total", "Records sent to the dead-letter sink", l));
	CHK(fh_metrics_gauge_fn(m, "fh_book_age_seconds", "Seconds since the last book update", l, book_age, w));
	CHK(fh_metrics_gauge_fn(m, "fh_last_message_timestamp_seconds", "Wall time of the last message (Unix seconds)", l, last_msg_ts, w));
	snprintf(l, sizeof(l), "source=\"%s\",window=\"1s\"", w->source);
	CHK(fh_metrics_gauge_fn(m, "fh_peak_messages_per_second", "Peak message rate in 1 s and 1 ms windows", l, fh_rate_peak_per_second, &w->peak_1s));
	snprintf(l, sizeof(l), "source=\"%s\",window=\"1ms\"", w->source);
	CHK(fh_metrics_gauge_fn(m, "fh_peak_messages_per_second", "Peak message rate in 1 s and 1 ms windows", l, fh_rate_peak_per_second, &w->peak_1ms));
	uint64_t mask = 1ull << w->id;
	static const char help[] = "Latency of each stage, per source";
	snprintf(l, sizeof(l), "stage=\"decode\",source=\"%s\"", w->source);
	CHK(w->l_decode = fh_metrics_latency(m, "fh_stage_latency", help, l, mask));
	snprintf(l, sizeof(l), "stage=\"book\",source=\"%s\"", w->source);
	CHK(w->l_book = fh_metrics_latency(m, "fh_stage_latency", help, l, mask));
	snprintf(l, sizeof(l), "stage=\"ring\",source=\"%s\"", w->source);
	CHK(w->l_ring = fh_metrics_latency(m, "fh_stage_latency", help, l, mask));
	snprintf(l, sizeof(l), "stage=\"rx_to_ring\",source=\"%s\"", w->source);
	CHK(w->l_e2e = fh_metrics_latency(m, "fh_stage_latency", help, l, mask));
#undef CHK
	return rc;
}

static int run_demo(const char *listen, const char *port_file, int tick_ms, int seconds,
		    const char *shm, const char *dash_dir)
{
	char addr[64] = "127.0.0.1";
	unsigned port = 9100;
	if (listen && sscanf(listen, "%63[^:]:%u", addr, &port) < 1)
		usage();
	fh_tsc_calibrate(50);
	struct fh_metrics_cfg mc = { .n_cores = 3, .max_latency = 16, .shm_path = shm };
	struct fh_metrics *m = fh_metrics_create(&mc);
	struct fh_http_cfg hc = { .addr = addr, .port = (uint16_t)port, .dashboard_dir = dash_dir };
	struct fh_http *h = fh_http_create(&hc);
	if (!m || !h) {
		fprintf(stderr, "fh-stat --demo: %s\n", strerror(errno));
		return 1;
	}
	static struct worker w[2];
	static struct fh_memstat ms;
	static struct fh_memstat_watch mw;
	static const char *sources[] = { "itch-a", "itch-b" };
	int rc = 0;
	for (unsigned i = 0; i < 2; i++) {
		w[i] = (struct worker){ .m = m, .core = fh_metrics_core(m, i), .id = i, .source = sources[i],
					.peak_1s = { .width_ns = 1000000000ull },
					.peak_1ms = { .width_ns = 1000000ull } };
		if (reg_worker(m, &w[i]) < 0)
			rc = -1;
	}
	if (fh_metrics_gauge_fn(m, "fh_kafka_lag_messages", "Messages produced and not yet acknowledged", "topic=\"fh.md\"", kafka_lag, NULL) < 0 ||
	    fh_metrics_gauge_fn(m, "fh_build_info", "Build information (value 1)", "version=\"demo\"", one, NULL) < 0 ||
	    fh_memstat_register(m, &ms) < 0 || fh_memstat_watch_register(m, &mw) < 0 ||
	    fh_http_serve_metrics(h, m) < 0 || rc < 0) {
		fprintf(stderr, "fh-stat --demo: registering metrics failed\n");
		return 1;
	}
	if (port_file) {
		FILE *f = fopen(port_file, "w");
		if (!f || fprintf(f, "%u\n", fh_http_port(h)) < 0 || fclose(f) != 0) {
			fprintf(stderr, "fh-stat --demo: %s: %s\n", port_file, strerror(errno));
			return 1;
		}
	}
	fh_memstat_watch_init(&mw, 1000000000ull);
	fprintf(stderr, "fh-stat --demo: serving http://%s:%u/ (metrics, hdr, status, dashboard)\n",
		addr, fh_http_port(h));
	for (unsigned i = 0; i < 2; i++)
		pthread_create(&w[i].t, NULL, worker_loop, &w[i]);
	uint64_t t_end = seconds > 0 ? fh_clock_ns(CLOCK_MONOTONIC) + (uint64_t)seconds * 1000000000ull : 0;
	uint64_t next = 0;
	while (!stop_flag && (!t_end || fh_clock_ns(CLOCK_MONOTONIC) < t_end)) {
		uint64_t now = fh_clock_ns(CLOCK_MONOTONIC);
		if (now >= next) {
			fh_memstat_watch_sample(&mw, now);
			fh_metrics_tick(m, fh_clock_ns(CLOCK_REALTIME));
			next = now + (uint64_t)tick_ms * 1000000ull;
		}
		int wait = (int)((next - now) / 1000000ull);
		fh_http_poll(h, wait > 0 ? wait : 1);
	}
	demo_stop = 1;
	for (unsigned i = 0; i < 2; i++)
		pthread_join(w[i].t, NULL);
	fh_http_destroy(h);
	fh_metrics_destroy(m);
	return 0;
}

int main(int argc, char **argv)
{
	const char *url = "http://127.0.0.1:9100", *raw = NULL, *hdr_log = NULL, *shm = NULL;
	const char *listen = NULL, *port_file = NULL, *dash_dir = NULL, *hdr_read = NULL;
	const char *tag = NULL;
	double interval = 1.0;
	long count = 0;
	int demo = 0, tick_ms = 1000, seconds = 0;
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "raw", required_argument, NULL, 'r' },
		{ "hdr-log", required_argument, NULL, 'H' },
		{ "shm", required_argument, NULL, 's' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "demo", no_argument, NULL, 'D' },
		{ "listen", required_argument, NULL, 'l' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "tick-ms", required_argument, NULL, 't' },
		{ "seconds", required_argument, NULL, 'S' },
		{ "dashboard-dir", required_argument, NULL, 'd' },
		{ "hdr-read", required_argument, NULL, 'R' },
		{ "tag", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "u:r:H:s:i:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'u': url = optarg; break;
		case 'r': raw = optarg; break;
		case 'H': hdr_log = optarg; break;
		case 's': shm = optarg; break;
		case 'i': interval = atof(optarg); break;
		case 'n': count = atol(optarg); break;
		case 'D': demo = 1; break;
		case 'l': listen = optarg; break;
		case 'p': port_file = optarg; break;
		case 't': tick_ms = atoi(optarg); break;
		case 'S': seconds = atoi(optarg); break;
		case 'd': dash_dir = optarg; break;
		case 'R': hdr_read = optarg; break;
		case 'T': tag = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || interval <= 0 || tick_ms <= 0)
		usage();
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (hdr_read)
		return run_hdr_read(hdr_read, tag);
	if (demo)
		return run_demo(listen, port_file, tick_ms, seconds, shm, dash_dir);
	if (raw) {
		char *body;
		size_t len;
		int st = http_get(url, raw, &body, &len);
		if (st < 0) {
			fprintf(stderr, "fh-stat: %s%s: %s\n", url, raw, strerror(-st));
			return 1;
		}
		fwrite(body, 1, len, stdout);
		free(body);
		return st == 200 ? 0 : 1;
	}
	if (hdr_log)
		return run_hdr_log(url, hdr_log, interval, count);
	if (shm)
		return run_shm_table(shm, interval, count);
	return run_http_table(url, interval, count);
}
