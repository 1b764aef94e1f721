/* SPDX-License-Identifier: MIT */
/* test_metrics.c: registry, per-core counters, interval latency, Prometheus text checked by promtool, JSON, shm snapshot, memstat. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fh_memstat.h"
#include "fh_metrics.h"
#include "fh_test.h"

static char *big_buf(size_t *cap)
{
	*cap = 4u << 20;
	return malloc(*cap);
}

static void test_names_and_labels(void)
{
	struct fh_metrics *m = fh_metrics_create(NULL);
	FH_CHECK(m != NULL);
	if (!m)
		return;
	FH_CHECK(fh_metrics_counter(m, "fh_messages_total", "msgs", "source=\"a\"") >= 0);
	FH_CHECK_EQ_I(fh_metrics_counter(m, "fh_messages_total", "msgs", "source=\"a\""), -EEXIST);
	FH_CHECK_EQ_I(fh_metrics_counter(m, "fh_messages", "no _total", NULL), -EINVAL);
	FH_CHECK_EQ_I(fh_metrics_gauge(m, "fh_messages_total", "type clash", NULL), -EINVAL);
	FH_CHECK_EQ_I(fh_metrics_gauge(m, "fh-bad", "dash", NULL), -EINVAL);
	FH_CHECK_EQ_I(fh_metrics_gauge(m, "9lives", "digit first", NULL), -EINVAL);
	FH_CHECK_EQ_I(fh_metrics_gauge(m, "fh_g", "h", "source=a"), -EINVAL);
	FH_CHECK_EQ_I(fh_metrics_gauge(m, "fh_g", "h", "source=\"a"), -EINVAL);
	FH_CHECK_EQ_I(fh_metrics_gauge(m, "fh_g", "h", "__x=\"a\""), -EINVAL);
	FH_CHECK_EQ_I(fh_metrics_gauge(m, "fh_g", "h", "a=\"1\"b=\"2\""), -EINVAL);
	FH_CHECK_EQ_I(fh_metrics_gauge(m, "fh_g", "multi\nline", NULL), -EINVAL);
	FH_CHECK(fh_metrics_gauge(m, "fh_g", "h", "a=\"q\\\"uote\",b=\"x\"") >= 0);
	FH_CHECK_EQ_I(fh_metrics_latency(m, "fh_lat_seconds", "unit twice", NULL, 1), -EINVAL);
	FH_CHECK_EQ_I(fh_metrics_latency(m, "fh_lat", "le reserved", "le=\"1\"", 1), -EINVAL);
	FH_CHECK_EQ_I(fh_metrics_latency(m, "fh_lat", "bad mask", NULL, 1ull << 10), -EINVAL);
	FH_CHECK_EQ_I(fh_metrics_latency(m, "fh_lat", "no core", NULL, 0), -EINVAL);
	fh_metrics_destroy(m);
}

struct core_arg {
	struct fh_metrics *m;
	unsigned core;
	int ctr, lat;
	volatile int *stop;
	uint64_t done;
};

static void *core_loop(void *p)
{
	struct core_arg *a = p;
	struct fh_metrics_core *c = fh_metrics_core(a->m, a->core);
	while (*a->stop == 0) {
		for (int i = 0; i < 32; i++) {
			fh_metrics_inc(c, a->ctr);
			/* core 0 sees 100..199 ns, core 1 sees 1000..1999 ns */
			fh_metrics_lat_record(c, a->lat, (a->core ? 1000 : 100) + (int64_t)(a->done % (a->core ? 1000 : 100)));
			a->done++;
		}
		fh_metrics_core_poll(c);
	}
	/* stop 1: no more records, keep answering swaps until the reader has
	 * drained us (stop 2), then answer the last request once more. */
	while (*a->stop == 1) {
		fh_metrics_core_poll(c);
		usleep(50);
	}
	fh_metrics_core_poll(c);
	return NULL;
}

static void test_cores_and_intervals(void)
{
	struct fh_metrics_cfg cfg = { .n_cores = 2 };
	struct fh_metrics *m = fh_metrics_create(&cfg);
	if (!m) {
		FH_CHECK(!"create");
		return;
	}
	int ctr = fh_metrics_counter(m, "fh_messages_total", "Messages decoded", "source=\"itch\"");
	int lat = fh_metrics_latency(m, "fh_stage_latency", "Stage latency", "stage=\"decode\"", 3);
	FH_CHECK(ctr >= 0 && lat >= 0);
	volatile int stop = 0;
	struct core_arg a[2] = { { m, 0, ctr, lat, &stop, 0 }, { m, 1, ctr, lat, &stop, 0 } };
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, core_loop, &a[i]);
	uint64_t now = 1000000000ull;
	int64_t window_total = 0;
	int nonempty = 0;
	for (int k = 0; k < 40; k++) {
		usleep(2000);
		fh_metrics_tick(m, now += 1000000);
		const struct fh_hdr *w = fh_metrics_latency_window(m, lat);
		window_total += w->total;
		nonempty += w->total > 0;
		if (w->total) {
			FH_CHECK(w->end_ns == now);
			FH_CHECK(w->min >= 100 && w->max <= 1999);
		}
	}
	stop = 1;
	usleep(5000);
	/* Ticks while the cores still answer: what they recorded gets closed. */
	for (int k = 0; k < 3; k++) {
		usleep(2000);
		fh_metrics_tick(m, now += 1000000);
		window_total += fh_metrics_latency_window(m, lat)->total;
	}
	stop = 2;
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	/* A core that stopped polling shows up as stalled at the next tick. */
	fh_metrics_tick(m, now += 1000000);
	window_total += fh_metrics_latency_window(m, lat)->total;
	FH_CHECK(fh_metrics_tick(m, now += 1000000) > 0);
	uint64_t done = a[0].done + a[1].done;
	FH_CHECK_EQ_U(fh_metrics_counter_value(m, ctr), done);
	const struct fh_hdr *cum = fh_metrics_latency_cumulative(m, lat);
	FH_CHECK_EQ_I(cum->total, (int64_t)done);
	FH_CHECK_EQ_I(window_total, (int64_t)done);
	FH_CHECK(nonempty > 5);
	FH_CHECK_EQ_I(cum->min, 100);
	FH_CHECK(cum->max >= 1900 && cum->max <= 1999);
	FH_CHECK_EQ_I(fh_hdr_count_le(cum, 199), (int64_t)a[0].done);
	fh_metrics_destroy(m);
}

static uint64_t fn_counter(void *arg)
{
	return *(uint64_t *)arg;
}

static double fn_gauge(void *arg)
{
	return *(double *)arg * 2;
}

static long app_status(char *buf, size_t cap, void *arg)
{
	(void)arg;
	int n = snprintf(buf, cap, "{\"sources\":[\"itch-a\"]}");
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

/* A registry with one of everything, values set. */
static struct fh_metrics *sample_registry(uint64_t *ext, double *gv, int *lat_out)
{
	struct fh_metrics_cfg cfg = { .n_cores = 2 };
	struct fh_metrics *m = fh_metrics_create(&cfg);
	if (!m)
		return NULL;
	int c1 = fh_metrics_counter(m, "fh_messages_total", "Messages decoded", "source=\"itch-a\",core=\"0\"");
	int c2 = fh_metrics_counter(m, "fh_messages_total", "Messages decoded", "source=\"itch-b\",core=\"1\"");
	int d = fh_metrics_counter(m, "fh_drops_total", "Packets dropped, by reason", "source=\"itch-a\",reason=\"short\"");
	fh_metrics_counter_fn(m, "fh_dead_letters_total", "Records sent to the dead-letter sink", NULL, fn_counter, ext);
	int g = fh_metrics_gauge(m, "fh_book_age_seconds", "Seconds since the last book update", "source=\"itch-a\"");
	fh_metrics_gauge_fn(m, "fh_kafka_lag_messages", "Messages produced but not acknowledged", "topic=\"md\"", fn_gauge, gv);
	int l1 = fh_metrics_latency(m, "fh_stage_latency", "Latency of each stage", "stage=\"decode\",source=\"itch-a\"", 1);
	int l2 = fh_metrics_latency(m, "fh_stage_latency", "Latency of each stage", "stage=\"book\",source=\"itch-a\"", 2);
	fh_metrics_set_status_fn(m, app_status, NULL);
	struct fh_metrics_core *k0 = fh_metrics_core(m, 0), *k1 = fh_metrics_core(m, 1);
	fh_metrics_add(k0, c1, 1000);
	fh_metrics_add(k1, c2, 2000);
	fh_metrics_add(k0, d, 3);
	fh_metrics_gauge_set(m, g, 0.25);
	fh_metrics_tick(m, 1763700000000000000ull);
	for (int i = 0; i < 10000; i++) {
		fh_metrics_lat_record(k0, l1, 150 + i % 300);
		fh_metrics_lat_record(k1, l2, 400 + i % 2000);
	}
	fh_metrics_core_poll(k0);
	fh_metrics_core_poll(k1);
	fh_metrics_tick(m, 1763700001000000000ull);
	*lat_out = l1;
	(void)l2;
	return m;
}

static void test_prometheus_text(void)
{
	uint64_t ext = 7;
	double gv = 21;
	int lat;
	struct fh_metrics *m = sample_registry(&ext, &gv, &lat);
	size_t cap;
	char *buf = big_buf(&cap);
	if (!m || !buf) {
		FH_CHECK(!"setup");
		free(buf);
		fh_metrics_destroy(m);
		return;
	}
	long n = fh_metrics_render_prometheus(m, buf, cap);
	FH_CHECK(n > 0);
	if (n <= 0)
		goto out;
	buf[n] = '\0';
	FH_CHECK(strstr(buf, "# TYPE fh_messages_total counter\n") != NULL);
	FH_CHECK(strstr(buf, "fh_messages_total{source=\"itch-a\",core=\"0\"} 1000\n") != NULL);
	FH_CHECK(strstr(buf, "fh_dead_letters_total 7\n") != NULL);
	FH_CHECK(strstr(buf, "fh_book_age_seconds{source=\"itch-a\"} 0.25\n") != NULL);
	FH_CHECK(strstr(buf, "fh_kafka_lag_messages{topic=\"md\"} 42\n") != NULL);
	FH_CHECK(strstr(buf, "# TYPE fh_stage_latency_seconds histogram\n") != NULL);
	FH_CHECK(strstr(buf, "fh_stage_latency_seconds_bucket{stage=\"decode\",source=\"itch-a\",le=\"+Inf\"} 10000\n") != NULL);
	/* 150..449 ns: 150..300 (151 values, each repeated) are <= 300 ns. */
	const struct fh_hdr *cum = fh_metrics_latency_cumulative(m, lat);
	char want[160];
	snprintf(want, sizeof(want),
		 "fh_stage_latency_seconds_bucket{stage=\"decode\",source=\"itch-a\",le=\"3e-07\"} %" PRId64 "\n",
		 fh_hdr_count_le(cum, 300));
	FH_CHECK(strstr(buf, want) != NULL);
	FH_CHECK(strstr(buf, "# TYPE fh_stage_latency_window_seconds summary\n") != NULL);
	FH_CHECK(strstr(buf, "fh_stage_latency_window_seconds{stage=\"decode\",source=\"itch-a\",quantile=\"1\"} 4.49e-07\n") != NULL);
	/* Counter changes show at once (summed at render). */
	fh_metrics_add(fh_metrics_core(m, 1), 0, 5);
	n = fh_metrics_render_prometheus(m, buf, cap);
	buf[n > 0 ? n : 0] = '\0';
	FH_CHECK(strstr(buf, "fh_messages_total{source=\"itch-a\",core=\"0\"} 1005\n") != NULL);

	/* The independent check: Prometheus' own linter. */
	if (system("promtool --version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "  SKIP: promtool not installed (tools/deps.txt: prometheus)\n");
		fh_test_skipped = 1;
		goto out;
	}
	char path[64], cmd[160];
	snprintf(path, sizeof(path), "/tmp/fh-test-metrics-%d.prom", (int)getpid());
	FILE *f = fopen(path, "w");
	if (f) {
		fwrite(buf, 1, (size_t)n, f);
		fclose(f);
	}
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", path);
	FH_CHECK_EQ_I(system(cmd), 0);
	/* ... and it does fail on broken text (the check can fail). */
	f = fopen(path, "a");
	if (f) {
		fputs("fh_broken{x=} 1\n", f);
		fclose(f);
	}
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s >/dev/null 2>&1", path);
	FH_CHECK(system(cmd) != 0);
	unlink(path);
	FH_CHECK_EQ_I(fh_metrics_render_prometheus(m, buf, 100), -ENOSPC);
out:
	free(buf);
	fh_metrics_destroy(m);
}

static int cb(const struct fh_hdr *h, const char *tag, void *arg)
{
	struct {
		int *tags;
		int64_t *total;
	} *acc = arg;
	if (tag && (strcmp(tag, "fh_stage_latency.decode.itch-a") == 0 ||
		    strcmp(tag, "fh_stage_latency.book.itch-a") == 0))
		(*acc->tags)++;
	*acc->total += h->total;
	return 0;
}

static void test_json_and_hdr(void)
{
	uint64_t ext = 7;
	double gv = 21;
	int lat;
	struct fh_metrics *m = sample_registry(&ext, &gv, &lat);
	size_t cap;
	char *buf = big_buf(&cap);
	if (!m || !buf) {
		FH_CHECK(!"setup");
		free(buf);
		fh_metrics_destroy(m);
		return;
	}
	long n = fh_metrics_render_json(m, buf, cap);
	FH_CHECK(n > 0);
	buf[n > 0 ? n : 0] = '\0';
	FH_CHECK(strstr(buf, "{\"name\":\"fh_messages_total\",\"type\":\"counter\",\"labels\":{\"source\":\"itch-a\",\"core\":\"0\"},\"value\":1000,\"rate\":0}") != NULL);
	FH_CHECK(strstr(buf, "\"app\":{\"sources\":[\"itch-a\"]}") != NULL);
	FH_CHECK(strstr(buf, "\"p50_ns\":") != NULL);
	char path[64], cmd[200];
	snprintf(path, sizeof(path), "/tmp/fh-test-metrics-%d.json", (int)getpid());
	FILE *f = fopen(path, "w");
	if (f) {
		fwrite(buf, 1, (size_t)n, f);
		fclose(f);
	}
	/* JSON validity by an independent parser when one is installed. */
	if (system("python3 -c 1 >/dev/null 2>&1") == 0) {
		snprintf(cmd, sizeof(cmd),
			 "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
			 "assert d[\"latency\"][0][\"count\"]==10000' %s",
			 path);
		FH_CHECK_EQ_I(system(cmd), 0);
	}
	unlink(path);

	/* /hdr: an interval log our reader (and HdrHistogram's) parses. */
	n = fh_metrics_render_hdr_log(m, buf, cap);
	FH_CHECK(n > 0);
	FILE *mf = fmemopen(buf, (size_t)(n > 0 ? n : 0), "r");
	int tags = 0;
	int64_t total = 0;
	struct acc {
		int *tags;
		int64_t *total;
	} acc = { &tags, &total };
	if (mf) {
		FH_CHECK_EQ_I(fh_hdr_log_read(mf, cb, &acc), 2);
		fclose(mf);
	}
	FH_CHECK_EQ_I(tags, 2);
	FH_CHECK_EQ_I(total, 20000);
	/* Rates at the source: 500 more over the next 2 s. */
	{
		fh_metrics_add(fh_metrics_core(m, 0), 0, 500);
		fh_metrics_tick(m, 1763700003000000000ull);
		char *b2 = malloc(1 << 20);
		long n2 = b2 ? fh_metrics_render_json(m, b2, 1 << 20) : -1;
		FH_CHECK(n2 > 0);
		if (n2 > 0) {
			b2[n2] = '\0';
			FH_CHECK(strstr(b2, "\"core\":\"0\"},\"value\":1500,\"rate\":250}") != NULL);
		}
		free(b2);
	}
	free(buf);
	fh_metrics_destroy(m);
}

static void test_hdr_log_at_tick(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct fh_metrics_cfg cfg = { .n_cores = 1 };
	struct fh_metrics *m = fh_metrics_create(&cfg);
	if (!f || !m) {
		FH_CHECK(!"setup");
		goto out;
	}
	int l = fh_metrics_latency(m, "fh_stage_latency", "Stage", "stage=\"rx\"", 1);
	FH_CHECK_EQ_I(fh_metrics_set_hdr_log(m, f), 0);
	struct fh_metrics_core *k = fh_metrics_core(m, 0);
	uint64_t t = 7000000000ull;
	for (int i = 0; i < 5; i++) {
		for (int v = 1; v <= 100 * (i + 1); v++)
			fh_metrics_lat_record(k, l, v);
		fh_metrics_core_poll(k);
		fh_metrics_tick(m, t += 1000000000ull);
	}
	fflush(f);
	FILE *r = fmemopen(buf, len, "r");
	FH_CHECK(r != NULL);
	if (r) {
		/* 5 ticks: the first only asks for a swap, 4 windows have values. */
		FH_CHECK_EQ_I(fh_hdr_log_read(r, NULL, NULL), 4);
		fclose(r);
	}
	FH_CHECK(strstr(buf, "Tag=fh_stage_latency.rx,") != NULL);
	/* Tick 1 only asks; the core's poll at round 2 closes rounds 1-2. */
	FH_CHECK_EQ_I(fh_metrics_latency_cumulative(m, l)->total, 100 + 200 + 300 + 400 + 500);
out:
	fh_metrics_destroy(m);
	if (f)
		fclose(f);
	free(buf);
}

static void test_shm_snapshot(void)
{
	char path[64];
	snprintf(path, sizeof(path), "/tmp/fh-test-metrics-%d.shm", (int)getpid());
	struct fh_metrics_cfg cfg = { .n_cores = 1, .max_series = 16, .shm_path = path };
	struct fh_metrics *m = fh_metrics_create(&cfg);
	if (!m) {
		FH_CHECK(!"create");
		return;
	}
	int c = fh_metrics_counter(m, "fh_packets_total", "Packets", "source=\"s\"");
	int l = fh_metrics_latency(m, "fh_stage_latency", "Stage", "stage=\"rx\"", 1);
	struct fh_metrics_core *k = fh_metrics_core(m, 0);
	fh_metrics_add(k, c, 42);
	fh_metrics_tick(m, 5000000000ull);
	for (int i = 1; i <= 1000; i++)
		fh_metrics_lat_record(k, l, i);
	fh_metrics_core_poll(k);
	fh_metrics_tick(m, 6000000000ull);
	int fd = open(path, O_RDONLY);
	FH_CHECK(fd >= 0);
	size_t len = sizeof(struct fh_metrics_snap) + 16 * sizeof(struct fh_metrics_snap_ent);
	void *p = fd >= 0 ? mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
	struct fh_metrics_snap *out = malloc(len);
	if (p != MAP_FAILED && out) {
		int n = fh_metrics_snap_read(p, len, out, 16);
		FH_CHECK_EQ_I(n, 2);
		FH_CHECK_STR(out->ent[0].name, "fh_packets_total");
		FH_CHECK(out->ent[0].value == 42.0);
		FH_CHECK_EQ_U(out->ent[1].type, FH_METRICS_LATENCY);
		FH_CHECK_EQ_I(out->ent[1].pct_ns[0], 500);
		FH_CHECK_EQ_I(out->ent[1].pct_ns[5], 1000);
		FH_CHECK_EQ_U(out->time_ns, 6000000000ull);
		FH_CHECK_EQ_I(fh_metrics_snap_read(p, 8, out, 16), -EINVAL);
		munmap(p, len);
	}
	free(out);
	if (fd >= 0)
		close(fd);
	fh_metrics_destroy(m);
	unlink(path);
}

static void test_rate_peak(void)
{
	struct fh_rate_peak p = { .width_ns = 1000000 };
	uint64_t t = 0;
	for (int ms = 0; ms < 10; ms++)
		for (int i = 0; i < (ms == 5 ? 700 : 100); i++)
			fh_rate_peak_add(&p, t + (uint64_t)ms * 1000000 + (uint64_t)i, 1);
	fh_rate_peak_add(&p, 20000000, 1);
	FH_CHECK_EQ_U(p.peak, 700);
	FH_CHECK(fabs(fh_rate_peak_per_second(&p) - 700000.0) < 1e-6);
}

static void test_memstat(void)
{
	struct fh_memstat a, b;
	FH_CHECK_EQ_I(fh_memstat_read(&a), 0);
#ifdef FH_SANITIZE
	FH_CHECK(!a.jemalloc);
#else
	FH_CHECK(a.jemalloc);
	FH_CHECK(a.allocated > 0 && a.active >= a.allocated && a.resident >= a.active / 2);
	FH_CHECK(a.n_arenas >= 1);
#endif
	FH_CHECK(a.rss > 0 && a.hwm >= a.rss);
	/* 64 MiB touched shows as growth; freed and re-read it need not. */
	size_t sz = 64u << 20;
	char *p = malloc(sz);
	if (!p) {
		FH_CHECK(!"malloc");
		return;
	}
	memset(p, 1, sz);
	FH_CHECK_EQ_I(fh_memstat_read(&b), 0);
	FH_CHECK(fh_memstat_growth(&a, &b) >= (int64_t)(60u << 20));
	if (b.jemalloc)
		FH_CHECK(b.allocated >= a.allocated + sz);
	free(p);
	/* Exported as gauges. */
	struct fh_metrics *m = fh_metrics_create(NULL);
	struct fh_memstat st;
	FH_CHECK(m && fh_memstat_register(m, &st) == 0);
	if (m) {
		size_t cap;
		char *buf = big_buf(&cap);
		fh_metrics_tick(m, 1);
		long n = buf ? fh_metrics_render_prometheus(m, buf, cap) : -1;
		FH_CHECK(n > 0);
		if (n > 0) {
			buf[n] = '\0';
			FH_CHECK(strstr(buf, "fh_memory_bytes{allocator=\"kernel\",kind=\"rss\"} ") != NULL);
#ifndef FH_SANITIZE
			FH_CHECK(strstr(buf, "fh_memory_bytes{allocator=\"jemalloc\",kind=\"resident\"} ") != NULL);
			FH_CHECK(strstr(buf, "fh_jemalloc_arena_bytes{arena=\"0\",kind=\"active\"} ") != NULL);
#endif
		}
		free(buf);
		fh_metrics_destroy(m);
	}
}

static unsigned fake_pools(struct fh_memstat_pool *out, unsigned cap, void *arg)
{
	(void)arg;
	if (cap < 2)
		return 0;
	out[0] = (struct fh_memstat_pool){ .name = "rx_pool_0", .in_use = 100, .avail = 8092, .size = 8192 };
	out[1] = (struct fh_memstat_pool){ .name = "heap-socket0", .in_use = 1 << 20, .avail = 3 << 20,
					   .size = 4 << 20, .heap = true };
	return 2;
}

static void test_memstat_pools(void)
{
	fh_memstat_set_pools(fake_pools, NULL);
	struct fh_metrics *m = fh_metrics_create(NULL);
	struct fh_memstat st;
	FH_CHECK(m && fh_memstat_register(m, &st) == 0);
	FH_CHECK_EQ_U(st.n_pools, 2);
	if (m) {
		size_t cap;
		char *buf = big_buf(&cap);
		fh_metrics_tick(m, 1);
		long n = buf ? fh_metrics_render_prometheus(m, buf, cap) : -1;
		if (n > 0) {
			buf[n] = '\0';
			FH_CHECK(strstr(buf, "fh_mempool_objects{pool=\"rx_pool_0\",state=\"in_use\"} 100\n") != NULL);
			FH_CHECK(strstr(buf, "fh_dpdk_heap_bytes{pool=\"heap-socket0\",state=\"avail\"} 3145728\n") != NULL);
		}
		free(buf);
		fh_metrics_destroy(m);
	}
	fh_memstat_set_pools(NULL, NULL);
}

static void test_memstat_watch(void)
{
	struct fh_memstat_watch w;
	fh_memstat_watch_init(&w, 1000);
	FH_CHECK_EQ_I(fh_memstat_watch_sample(&w, 0), 0);
	FH_CHECK(!w.baseline_taken);
	/* Start-up allocations (before settling) do not count. */
	size_t sz = 32u << 20;
	char *early = malloc(sz);
	if (early)
		memset(early, 1, sz);
	FH_CHECK_EQ_I(fh_memstat_watch_sample(&w, 500), 0);
	FH_CHECK_EQ_I(fh_memstat_watch_sample(&w, 1000), 0);
	FH_CHECK(w.baseline_taken);
	FH_CHECK(fh_memstat_watch_sample(&w, 2000) < (int64_t)(4u << 20));
	/* Growth after it does. */
	char *late = malloc(sz);
	if (late)
		memset(late, 1, sz);
	FH_CHECK(fh_memstat_watch_sample(&w, 3000) >= (int64_t)(30u << 20));
	free(late);
	fh_memstat_watch_sample(&w, 4000);
	FH_CHECK(fh_memstat_watch_growth(&w) >= (int64_t)(30u << 20)); /* the peak is kept */
	free(early);
}

static const struct fh_test_case cases[] = {
	FH_CASE(test_memstat_watch),
	FH_CASE(test_names_and_labels),
	FH_CASE(test_cores_and_intervals),
	FH_CASE(test_prometheus_text),
	FH_CASE(test_json_and_hdr),
	FH_CASE(test_hdr_log_at_tick),
	FH_CASE(test_shm_snapshot),
	FH_CASE(test_rate_peak),
	FH_CASE(test_memstat),
	FH_CASE(test_memstat_pools),
	{ 0 },
};

int main(int argc, char **argv)
{
	return fh_test_main(argc, argv, cases);
}
