/* SPDX-License-Identifier: MIT */
/* test_hdr.c: HDR histogram against exact percentiles, merge, V2/interval log, Java HdrHistogram decode. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fh_hdr.h"
#include "fh_test.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	/* splitmix64: deterministic across runs */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double rnd01(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Distribution generators, values in ns within 1 ns .. 1 h. */
static int64_t gen(int kind)
{
	switch (kind) {
	case 0: /* uniform 0 .. 10 us */
		return (int64_t)(rnd() % 10000);
	case 1: /* log-normal around 300 ns, heavy tail */
		return (int64_t)exp(log(300.0) + 1.2 * sqrt(-2 * log(rnd01() + 1e-300)) *
						   cos(2 * M_PI * rnd01()));
	case 2: /* exponential, mean 50 us */
		return (int64_t)(-50000.0 * log(1.0 - rnd01()));
	case 3: /* bimodal: fast path 200 ns, slow path 2 ms */
		return rnd() % 100 < 97 ? 150 + (int64_t)(rnd() % 100)
					: 2000000 + (int64_t)(rnd() % 500000);
	default: /* log-uniform over the whole range */
		return (int64_t)exp(rnd01() * log(3.5e12));
	}
}

static void test_layout(void)
{
	struct fh_hdr *h = fh_hdr_create(NULL);
	FH_CHECK(h != NULL);
	if (!h)
		return;
	FH_CHECK_EQ_I(h->sub_bucket_count, 2048);
	FH_CHECK_EQ_I(h->bucket_count, 32);
	FH_CHECK_EQ_I(h->counts_len, 33 * 1024);
	/* Values below 2048 are exact; above, buckets are at most 1/1024 wide. */
	for (int64_t v = 0; v < 2048; v++)
		if (fh_hdr_lowest_equivalent(h, v) != v || fh_hdr_highest_equivalent(h, v) != v)
			FH_CHECK(!"exact below 2048");
	for (int i = 0; i < 100000; i++) {
		int64_t v = gen(4);
		int64_t lo = fh_hdr_lowest_equivalent(h, v), hi = fh_hdr_highest_equivalent(h, v);
		if (!(lo <= v && v <= hi && (double)(hi - lo) <= (double)lo / 1000.0)) {
			FH_CHECK(!"bucket holds v within 0.1 %");
			break;
		}
		int32_t idx = fh_hdr_pvt_index(h, v);
		if (fh_hdr_value_at_index(h, idx) != lo) {
			FH_CHECK(!"value_at_index(index(v)) == lowest_equivalent(v)");
			break;
		}
	}
	struct fh_hdr_cfg bad = { .lowest = 10, .highest = 15 };
	FH_CHECK_EQ_U(fh_hdr_memsize(&bad), 0);
	bad = (struct fh_hdr_cfg){ .sigfigs = 6 };
	FH_CHECK(fh_hdr_create(&bad) == NULL);
	fh_hdr_destroy(h);
}

static const double pcts[] = { 0, 1, 10, 25, 50, 54, 70, 75, 90, 95, 99, 99.5, 99.9,
			       99.99, 99.999, 100 };

/* The value at percentile p of a sorted array, HdrHistogram's rank rule. */
static int64_t exact_pct(const int64_t *s, size_t n, double p)
{
	int64_t rank = (int64_t)ceil(nextafter(p, -INFINITY) * (double)n / 100.0);
	if (rank < 1)
		rank = 1;
	return s[rank - 1];
}

static void check_against_sorted(int sigfigs, int kind, size_t n)
{
	struct fh_hdr_cfg cfg = { .sigfigs = sigfigs };
	struct fh_hdr *h = fh_hdr_create(&cfg);
	int64_t *vals = malloc(n * sizeof(*vals));
	FH_CHECK(h && vals);
	if (!h || !vals)
		goto out;
	double tol = pow(10.0, -sigfigs);
	long double sum = 0;
	for (size_t i = 0; i < n; i++) {
		vals[i] = gen(kind);
		sum += vals[i];
		fh_hdr_record(h, vals[i]);
	}
	qsort(vals, n, sizeof(*vals), cmp_i64);
	FH_CHECK_EQ_I(h->total, (int64_t)n);
	FH_CHECK_EQ_I(h->min, vals[0]);
	FH_CHECK_EQ_I(h->max, vals[n - 1]);
	FH_CHECK(fabs(fh_hdr_mean(h) - (double)(sum / n)) < 1e-6 * (double)(sum / n) + 1e-9);
	int64_t got[FH_ARRAY_SIZE(pcts)];
	fh_hdr_values_at_percentiles(h, pcts, got, FH_ARRAY_SIZE(pcts));
	for (size_t k = 0; k < FH_ARRAY_SIZE(pcts); k++) {
		int64_t ex = exact_pct(vals, n, pcts[k]);
		int64_t one = fh_hdr_value_at_percentile(h, pcts[k]);
		bool ok = got[k] == one &&
			  (double)llabs(got[k] - ex) <= (double)ex * tol + 0.0 &&
			  fh_hdr_lowest_equivalent(h, got[k]) == fh_hdr_lowest_equivalent(h, ex);
		if (!ok) {
			fprintf(stderr, "  sigfigs %d kind %d p%g: hdr %" PRId64 " exact %" PRId64 "\n",
				sigfigs, kind, pcts[k], got[k], ex);
			FH_CHECK(!"percentile within precision of the exact value");
		}
	}
	/* count_le agrees with the sorted array at bucket tops. */
	for (int t = 0; t < 20; t++) {
		int64_t v = fh_hdr_highest_equivalent(h, vals[rnd() % n]);
		size_t c = 0;
		while (c < n && vals[c] <= v)
			c++;
		FH_CHECK_EQ_I(fh_hdr_count_le(h, v), (int64_t)c);
	}
out:
	free(vals);
	fh_hdr_destroy(h);
}

static void test_percentiles_exact(void)
{
	for (int kind = 0; kind < 5; kind++)
		for (int sf = 2; sf <= 4; sf++)
			check_against_sorted(sf, kind, 200000);
	check_against_sorted(3, 1, 1);
	check_against_sorted(3, 3, 7);
}

static void test_empty_reset_clamp(void)
{
	struct fh_hdr *h = fh_hdr_create(NULL);
	if (!h) {
		FH_CHECK(h != NULL);
		return;
	}
	FH_CHECK_EQ_I(fh_hdr_value_at_percentile(h, 99), 0);
	FH_CHECK(fh_hdr_mean(h) == 0.0);
	fh_hdr_record(h, -5);
	fh_hdr_record(h, FH_HDR_DEFAULT_HIGHEST * 2);
	FH_CHECK_EQ_I(h->clamped, 2);
	FH_CHECK_EQ_I(h->min, 0);
	FH_CHECK_EQ_I(h->max, FH_HDR_DEFAULT_HIGHEST);
	FH_CHECK_EQ_I(h->total, 2);
	fh_hdr_reset(h);
	FH_CHECK_EQ_I(h->total, 0);
	FH_CHECK_EQ_I(h->clamped, 0);
	FH_CHECK_EQ_I(fh_hdr_count_le(h, FH_HDR_DEFAULT_HIGHEST), 0);
	fh_hdr_record_n(h, 1000, 10);
	fh_hdr_record(h, 3000);
	FH_CHECK_EQ_I(h->total, 11);
	FH_CHECK_EQ_I(fh_hdr_count_at(h, 1000), 10);
	FH_CHECK_EQ_I(fh_hdr_value_at_percentile(h, 50), 1000);
	FH_CHECK_EQ_I(fh_hdr_value_at_percentile(h, 100), fh_hdr_highest_equivalent(h, 3000));
	FH_CHECK(fabs(fh_hdr_mean(h) - 13000.0 / 11) < 1e-9);
	fh_hdr_destroy(h);
}

static void test_merge(void)
{
	struct fh_hdr *a = fh_hdr_create(NULL), *b = fh_hdr_create(NULL), *all = fh_hdr_create(NULL);
	struct fh_hdr_cfg c2 = { .sigfigs = 2, .highest = 1000000000 };
	struct fh_hdr *narrow = fh_hdr_create(&c2);
	FH_CHECK(a && b && all && narrow);
	if (!a || !b || !all || !narrow)
		goto out;
	for (int i = 0; i < 50000; i++) {
		int64_t v = gen(i % 4);
		fh_hdr_record(i & 1 ? a : b, v);
		fh_hdr_record(all, v);
	}
	FH_CHECK_EQ_I(fh_hdr_merge(a, b), 0);
	FH_CHECK_EQ_I(a->total, all->total);
	FH_CHECK_EQ_I(a->sum, all->sum);
	FH_CHECK_EQ_I(a->min, all->min);
	FH_CHECK_EQ_I(a->max, all->max);
	FH_CHECK(memcmp(a->counts, all->counts, (size_t)a->counts_len * 8) == 0);
	/* Reset clears only the span between min and max: that must be all. */
	fh_hdr_reset(a);
	int32_t nonzero = 0;
	for (int32_t i = 0; i < a->counts_len; i++)
		nonzero += a->counts[i] != 0;
	FH_CHECK_EQ_I(nonzero, 0);
	FH_CHECK_EQ_I(a->total, 0);
	/* Into a coarser layout: every value lands in the bucket of its value. */
	fh_hdr_record(b, 5000000000ll); /* above narrow's 1 s */
	int64_t dropped = fh_hdr_merge(narrow, b);
	FH_CHECK_EQ_I(dropped, 1);
	int64_t in_span = 0;
	for (int32_t i = fh_hdr_pvt_index(narrow, narrow->min); i <= fh_hdr_pvt_index(narrow, narrow->max); i++)
		in_span += narrow->counts[i];
	FH_CHECK_EQ_I(in_span, narrow->total); /* min/max bound the counts after a cross-layout merge */
	FH_CHECK_EQ_I(narrow->total, b->total);
	FH_CHECK(fabs((double)fh_hdr_value_at_percentile(narrow, 50) -
		      (double)fh_hdr_value_at_percentile(b, 50)) <=
		 0.01 * (double)fh_hdr_value_at_percentile(b, 50));
out:
	fh_hdr_destroy(a);
	fh_hdr_destroy(b);
	fh_hdr_destroy(all);
	fh_hdr_destroy(narrow);
}

static void test_coordinated_omission(void)
{
	/* A paced sender expecting one sample per 1 ms stalls once for 100 ms. */
	struct fh_hdr *h = fh_hdr_create(NULL), *raw = fh_hdr_create(NULL), *post = fh_hdr_create(NULL);
	if (!h || !raw || !post) {
		FH_CHECK(!"alloc");
		goto out;
	}
	for (int i = 0; i < 10000; i++) {
		fh_hdr_record_corrected(h, 1000, 1000000);
		fh_hdr_record(raw, 1000);
	}
	fh_hdr_record_corrected(h, 100000000, 1000000);
	fh_hdr_record(raw, 100000000);
	/* 100 ms stall: the value plus 99 back-filled ones (99 ms .. 1 ms). */
	FH_CHECK_EQ_I(h->total, 10000 + 100);
	FH_CHECK_EQ_I(fh_hdr_count_at(h, 1000000), 1);
	FH_CHECK_EQ_I(fh_hdr_count_at(h, 50000000), 1);
	/* Uncorrected p99 hides the stall; corrected p99.5 shows it. */
	FH_CHECK_EQ_I(fh_hdr_value_at_percentile(raw, 99.5), 1000);
	FH_CHECK(fh_hdr_value_at_percentile(h, 99.5) > 40000000);
	FH_CHECK_EQ_I(fh_hdr_add_corrected(post, raw, 1000000), 0);
	/* After the fact, buckets stand for their highest value (as in Java):
	 * same count, back-filled values within one bucket width. */
	FH_CHECK_EQ_I(post->total, h->total);
	FH_CHECK_EQ_I(fh_hdr_count_at(post, 1000), 10000);
	FH_CHECK(llabs(fh_hdr_value_at_percentile(post, 99.5) - fh_hdr_value_at_percentile(h, 99.5)) <=
		 fh_hdr_value_at_percentile(h, 99.5) / 500);
out:
	fh_hdr_destroy(h);
	fh_hdr_destroy(raw);
	fh_hdr_destroy(post);
}

static void test_base64(void)
{
	const char *in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	const char *want[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	char out[32];
	uint8_t back[32];
	for (size_t i = 0; i < FH_ARRAY_SIZE(in); i++) {
		long n = fh_base64_encode((const uint8_t *)in[i], strlen(in[i]), out, sizeof(out));
		FH_CHECK_EQ_I(n, (long)strlen(want[i]));
		FH_CHECK_STR(out, want[i]);
		long m = fh_base64_decode(out, (size_t)n, back, sizeof(back));
		FH_CHECK_EQ_I(m, (long)strlen(in[i]));
		FH_CHECK(memcmp(back, in[i], strlen(in[i])) == 0);
	}
	FH_CHECK_EQ_I(fh_base64_decode("Zm9v!", 5, back, sizeof(back)), -EINVAL);
	FH_CHECK_EQ_I(fh_base64_encode((const uint8_t *)"foobar", 6, out, 8), -ENOSPC);
}

static void test_v2_round_trip(void)
{
	struct fh_hdr *h = fh_hdr_create(NULL), *back = fh_hdr_create(NULL);
	size_t cap = h ? fh_hdr_encode_bound(h) : 0;
	uint8_t *raw = malloc(cap), *z = malloc(cap + 64), *scratch = malloc(cap);
	if (!h || !back || !raw || !z || !scratch) {
		FH_CHECK(!"alloc");
		goto out;
	}
	for (int i = 0; i < 100000; i++)
		fh_hdr_record(h, gen(i % 5));
	fh_hdr_record_n(h, 0, 3);
	long n = fh_hdr_encode_v2(h, raw, cap);
	FH_CHECK(n > 40);
	FH_CHECK_EQ_U(fh_be32(raw), FH_HDR_V2_COOKIE);
	FH_CHECK_EQ_I(fh_hdr_decode(back, raw, (size_t)n, scratch, cap), 0);
	FH_CHECK(memcmp(back->counts, h->counts, (size_t)h->counts_len * 8) == 0);
	FH_CHECK_EQ_I(back->total, h->total);
	fh_hdr_reset(back);
	long zn = fh_hdr_encode_compressed(h, z, cap + 64, scratch, cap);
	FH_CHECK(zn > 8 && zn < n);
	FH_CHECK_EQ_U(fh_be32(z), FH_HDR_V2_COMPRESSED_COOKIE);
	FH_CHECK_EQ_I(fh_hdr_decode(back, z, (size_t)zn, scratch, cap), 0);
	FH_CHECK(memcmp(back->counts, h->counts, (size_t)h->counts_len * 8) == 0);
	FH_CHECK_EQ_I(fh_hdr_value_at_percentile(back, 99.9), fh_hdr_value_at_percentile(h, 99.9));
	/* Damaged input is refused, never read past. */
	FH_CHECK(fh_hdr_decode(back, z, 7, scratch, cap) < 0);
	FH_CHECK(fh_hdr_decode(back, z, (size_t)zn / 2, scratch, cap) < 0);
	FH_CHECK(fh_hdr_decode(back, raw, 39, scratch, cap) < 0);
	raw[0] ^= 0xff;
	FH_CHECK_EQ_I(fh_hdr_decode(back, raw, (size_t)n, scratch, cap), -EINVAL);
	raw[0] ^= 0xff;
	raw[n - 1] = 0x80; /* truncated varint at the end */
	FH_CHECK(fh_hdr_decode(back, raw, (size_t)n, scratch, cap) < 0);
	for (int t = 0; t < 2000; t++) { /* random garbage behind a valid header */
		for (long i = 40; i < 200; i++)
			raw[i] = (uint8_t)rnd();
		fh_put_be32(raw + 4, 160);
		fh_hdr_reset(back);
		int rc = fh_hdr_decode(back, raw, 200, scratch, cap);
		FH_CHECK(rc == 0 || rc == -EINVAL || rc == -ERANGE);
	}
out:
	free(raw);
	free(z);
	free(scratch);
	fh_hdr_destroy(h);
	fh_hdr_destroy(back);
}

struct log_seen {
	int n;
	int64_t total[4];
	int64_t p99[4];
	uint64_t start[4], end[4];
	char tag[4][16];
};

static int on_hist(const struct fh_hdr *h, const char *tag, void *arg)
{
	struct log_seen *s = arg;
	if (s->n < 4) {
		s->total[s->n] = h->total;
		s->p99[s->n] = fh_hdr_value_at_percentile(h, 99);
		s->start[s->n] = h->start_ns;
		s->end[s->n] = h->end_ns;
		snprintf(s->tag[s->n], sizeof(s->tag[0]), "%s", tag ? tag : "");
	}
	s->n++;
	return 0;
}

/* Writes a log of 3 intervals (the third tagged) into path; returns the
 * histograms in hs[] (caller destroys). */
static int write_log(const char *path, struct fh_hdr **hs, uint64_t base)
{
	FILE *f = fopen(path, "w");
	struct fh_hdr_log l;
	if (!f)
		return -errno;
	int rc = fh_hdr_log_open(&l, f, base, NULL);
	for (int i = 0; i < 3 && rc == 0; i++) {
		hs[i] = fh_hdr_create(NULL);
		if (!hs[i]) {
			rc = -ENOMEM;
			break;
		}
		for (int k = 0; k < 20000 * (i + 1); k++)
			fh_hdr_record(hs[i], gen((k + i) % 5));
		hs[i]->start_ns = base + (uint64_t)i * 1000000000ull + 5000000ull;
		hs[i]->end_ns = hs[i]->start_ns + 1000000000ull;
		rc = fh_hdr_log_write(&l, hs[i], i == 2 ? "decode.itch" : NULL, 1e6);
	}
	fh_hdr_log_close(&l);
	fclose(f);
	return rc;
}

static void test_interval_log_round_trip(void)
{
	char path[64];
	struct fh_hdr *hs[3] = { 0 };
	struct log_seen s = { 0 };
	uint64_t base = 1763700000123000000ull;
	snprintf(path, sizeof(path), "/tmp/fh-test-hdr-%d.hlog", (int)getpid());
	FH_CHECK_EQ_I(write_log(path, hs, base), 0);
	FILE *f = fopen(path, "r");
	FH_CHECK(f != NULL);
	if (f) {
		FH_CHECK_EQ_I(fh_hdr_log_read(f, on_hist, &s), 3);
		fclose(f);
	}
	for (int i = 0; i < 3 && hs[i] && s.n == 3; i++) {
		FH_CHECK_EQ_I(s.total[i], hs[i]->total);
		FH_CHECK_EQ_I(s.p99[i], fh_hdr_value_at_percentile(hs[i], 99));
		FH_CHECK(llabs((long long)(s.start[i] - hs[i]->start_ns)) <= 1000000);
		FH_CHECK(llabs((long long)(s.end[i] - hs[i]->end_ns)) <= 2000000);
	}
	FH_CHECK_STR(s.tag[0], "");
	FH_CHECK_STR(s.tag[2], "decode.itch");
	/* A damaged line is an error, not a crash. */
	f = fopen(path, "a");
	if (f) {
		fputs("0.000,1.000,2.0,HISTFAAAA!!\n", f);
		fclose(f);
	}
	f = fopen(path, "r");
	if (f) {
		FH_CHECK_EQ_I(fh_hdr_log_read(f, NULL, NULL), -EINVAL);
		fclose(f);
	}
	for (int i = 0; i < 3; i++)
		fh_hdr_destroy(hs[i]);
	unlink(path);
}

static const char java_src[] =
	"import org.HdrHistogram.*;\n"
	"import java.io.File;\n"
	"public class FhHdrCheck {\n"
	"  public static void main(String[] a) throws Exception {\n"
	"    HistogramLogReader r = new HistogramLogReader(new File(a[0]));\n"
	"    double[] ps = {50, 90, 99, 99.9, 99.99, 100};\n"
	"    EncodableHistogram e;\n"
	"    while ((e = r.nextIntervalHistogram()) != null) {\n"
	"      Histogram h = (Histogram) e;\n"
	"      System.out.println(\"H \" + (h.getTag() == null ? \"-\" : h.getTag()) + \" \" +\n"
	"        h.getTotalCount() + \" \" + h.getMaxValue() + \" \" + h.getStartTimeStamp());\n"
	"      for (double p : ps) System.out.println(\"P \" + p + \" \" + h.getValueAtPercentile(p));\n"
	"      for (HistogramIterationValue v : h.recordedValues())\n"
	"        System.out.println(\"V \" + v.getValueIteratedTo() + \" \" + v.getCountAtValueIteratedTo());\n"
	"    }\n"
	"  }\n"
	"}\n";

static const char *find_jar(void)
{
	static const char *jars[] = { "/usr/share/java/HdrHistogram.jar",
				      "/usr/share/java/hdrhistogram.jar" };
	for (size_t i = 0; i < FH_ARRAY_SIZE(jars); i++)
		if (access(jars[i], R_OK) == 0)
			return jars[i];
	return NULL;
}

static void test_java_decodes_our_log(void)
{
	const char *jar = find_jar();
	if (!jar || system("java -version >/dev/null 2>&1") != 0)
		FH_SKIP("no java or libhdrhistogram-java (tools/deps.txt installs them)");
	char dir[] = "/tmp/fh-test-hdr-java-XXXXXX";
	if (!mkdtemp(dir)) {
		FH_CHECK(!"mkdtemp");
		return;
	}
	char log[128], src[128], out[128], cmd[512];
	snprintf(log, sizeof(log), "%s/lat.hlog", dir);
	snprintf(src, sizeof(src), "%s/FhHdrCheck.java", dir);
	snprintf(out, sizeof(out), "%s/out.txt", dir);
	struct fh_hdr *hs[3] = { 0 };
	uint64_t base = 1763700000000000000ull;
	FH_CHECK_EQ_I(write_log(log, hs, base), 0);
	FILE *f = fopen(src, "w");
	if (f) {
		fputs(java_src, f);
		fclose(f);
	}
	/* The JRE's single-file source launcher compiles and runs it. */
	snprintf(cmd, sizeof(cmd), "java -cp %s %s %s > %s 2>&1", jar, src, log, out);
	int rc = system(cmd);
	FH_CHECK_EQ_I(rc, 0);
	f = fopen(out, "r");
	FH_CHECK(f != NULL);
	int hi = -1, hists = 0;
	long values = 0, pchecks = 0, bad = 0;
	char line[256];
	while (f && fgets(line, sizeof(line), f)) {
		char tag[64];
		long long a, b, c;
		double p;
		if (sscanf(line, "H %63s %lld %lld %lld", tag, &a, &b, &c) == 4) {
			hi++;
			hists++;
			if (hi >= 3 || !hs[hi]) {
				bad++;
				continue;
			}
			FH_CHECK_EQ_I(a, hs[hi]->total);
			FH_CHECK_EQ_I(b, fh_hdr_highest_equivalent(hs[hi], hs[hi]->max));
			FH_CHECK_STR(tag, hi == 2 ? "decode.itch" : "-");
			/* Java's start time stamp is absolute ms since the epoch. */
			FH_CHECK(llabs(c - (long long)(hs[hi]->start_ns / 1000000)) <= 1);
		} else if (sscanf(line, "P %lf %lld", &p, &a) == 2 && hi >= 0 && hi < 3) {
			pchecks++;
			if (a != fh_hdr_value_at_percentile(hs[hi], p)) {
				fprintf(stderr, "  p%g java %lld ours %" PRId64 "\n", p, a,
					fh_hdr_value_at_percentile(hs[hi], p));
				bad++;
			}
		} else if (sscanf(line, "V %lld %lld", &a, &b) == 2 && hi >= 0 && hi < 3) {
			values++;
			if (fh_hdr_highest_equivalent(hs[hi], a) != a ||
			    fh_hdr_count_at(hs[hi], a) != b)
				bad++;
		} else if (hi < 0) {
			fprintf(stderr, "  java: %s", line);
		}
	}
	if (f)
		fclose(f);
	/* Every non-empty bucket of ours must have come back. */
	long ours = 0;
	for (int i = 0; i < 3; i++)
		for (int32_t k = 0; hs[i] && k < hs[i]->counts_len; k++)
			ours += hs[i]->counts[k] != 0;
	FH_CHECK_EQ_I(hists, 3);
	FH_CHECK_EQ_I(pchecks, 18);
	FH_CHECK_EQ_I(values, ours);
	FH_CHECK_EQ_I(bad, 0);
	for (int i = 0; i < 3; i++)
		fh_hdr_destroy(hs[i]);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "  could not remove %s\n", dir);
}

struct rec_arg {
	struct fh_hdr_rec *r;
	volatile int stop;
	int64_t written;
};

static void *writer(void *p)
{
	struct rec_arg *a = p;
	while (!a->stop) {
		for (int i = 0; i < 64; i++)
			fh_hdr_rec_record(a->r, 100 + (a->written + i) % 5000);
		a->written += 64;
		fh_hdr_rec_poll(a->r);
	}
	/* Answer a last request so the reader can drain. */
	for (int i = 0; i < 1000; i++) {
		fh_hdr_rec_poll(a->r);
		usleep(100);
	}
	return NULL;
}

static void test_recorder_swaps(void)
{
	struct rec_arg a = { 0 };
	a.r = fh_hdr_rec_create(NULL, 1);
	struct fh_hdr *sum = fh_hdr_create(NULL);
	pthread_t t;
	if (!a.r || !sum) {
		FH_CHECK(!"alloc");
		return;
	}
	FH_CHECK_EQ_I(pthread_create(&t, NULL, writer, &a), 0);
	int intervals = 0;
	uint64_t now = 2;
	for (int i = 0; i < 200; i++) {
		fh_hdr_rec_request(a.r, now++);
		usleep(500);
		struct fh_hdr *c = fh_hdr_rec_collect(a.r);
		if (c) {
			FH_CHECK(c->end_ns > c->start_ns);
			fh_hdr_merge(sum, c);
			fh_hdr_reset(c);
			intervals++;
		}
	}
	a.stop = 1;
	/* Drain: the writer is on one histogram; one more swap empties it. */
	usleep(2000);
	for (int tries = 0; tries < 2000; tries++) {
		fh_hdr_rec_request(a.r, now++);
		struct fh_hdr *c = fh_hdr_rec_collect(a.r);
		if (c) {
			fh_hdr_merge(sum, c);
			fh_hdr_reset(c);
			break;
		}
		usleep(100);
	}
	pthread_join(t, NULL);
	/* After the writer stopped, one more swap brings in anything left. */
	fh_hdr_rec_request(a.r, now++);
	fh_hdr_rec_poll(a.r);
	struct fh_hdr *c = fh_hdr_rec_collect(a.r);
	if (c)
		fh_hdr_merge(sum, c);
	FH_CHECK(intervals > 10);
	FH_CHECK_EQ_I(sum->total, a.written);
	FH_CHECK_EQ_I(sum->min, 100);
	fh_hdr_rec_destroy(a.r);
	fh_hdr_destroy(sum);
}

static const struct fh_test_case cases[] = {
	FH_CASE(test_layout),
	FH_CASE(test_percentiles_exact),
	FH_CASE(test_empty_reset_clamp),
	FH_CASE(test_merge),
	FH_CASE(test_coordinated_omission),
	FH_CASE(test_base64),
	FH_CASE(test_v2_round_trip),
	FH_CASE(test_interval_log_round_trip),
	FH_CASE(test_java_decodes_our_log),
	FH_CASE(test_recorder_swaps),
	{ 0 },
};

int main(int argc, char **argv)
{
	return fh_test_main(argc, argv, cases);
}
