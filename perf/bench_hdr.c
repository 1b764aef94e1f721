/* SPDX-License-Identifier: MIT */
/* bench_hdr.c: cost of one HDR record (direct and through the per-core recorder), percentile and encode. */
#include <stdlib.h>

#include "fh_hdr.h"
#include "fh_time.h"

#define RUNS 41
#define N (1 << 20) /* ~3 ms per run: short enough to fit a time slice on a busy machine */
#define NVAL 4096 /* pre-generated values (L1-resident), latency-like mix */

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int64_t vals[NVAL];

static void gen_vals(void)
{
	uint64_t s = 42;
	for (int i = 0; i < NVAL; i++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t r = s >> 33;
		/* 90 % 100..400 ns, 9 % up to 5 us, 1 % up to 1 ms */
		vals[i] = (int64_t)(r % 100 < 90 ? 100 + r % 300 : r % 100 < 99 ? 400 + r % 4600
										  : 5000 + r % 1000000);
	}
}

/* ns per record, median of RUNS; p[] gets min/median/max. */
static double run(struct fh_hdr *h, struct fh_hdr_rec *r, double *mn, double *mx)
{
	double res[RUNS];
	for (int k = 0; k < RUNS; k++) {
		uint64_t t0 = fh_rdtsc();
		if (r) {
			for (int i = 0; i < N; i += 32) {
				for (int j = 0; j < 32; j++)
					fh_hdr_rec_record(r, vals[(i + j) & (NVAL - 1)]);
				fh_hdr_rec_poll(r);
			}
		} else {
			for (int i = 0; i < N; i++)
				fh_hdr_record(h, vals[i & (NVAL - 1)]);
		}
		uint64_t t1 = fh_rdtsc();
		res[k] = (double)fh_tsc_to_ns(t1 - t0) / N;
	}
	qsort(res, RUNS, sizeof(double), cmp_d);
	*mn = res[0];
	*mx = res[RUNS - 1];
	return res[RUNS / 2];
}

int main(void)
{
	fh_tsc_calibrate(100);
	gen_vals();
	struct fh_hdr *h = fh_hdr_create(NULL);
	struct fh_hdr_rec *r = fh_hdr_rec_create(NULL, 1);
	if (!h || !r)
		return 1;
	double mn, mx;
	double direct = run(h, NULL, &mn, &mx);
	double direct_min = mn;
	printf("hdr_record direct: median %.2f ns (min %.2f, max %.2f) over %d runs of %d\n", direct,
	       mn, mx, RUNS, N);
	double rec = run(NULL, r, &mn, &mx);
	printf("hdr_record via per-core recorder (poll every 32): median %.2f ns (min %.2f, max %.2f)\n",
	       rec, mn, mx);

	/* Control-thread costs: percentiles and encoding of a full interval. */
	double ps[] = { 50, 90, 99, 99.9, 99.99, 100 };
	int64_t out[6];
	uint64_t t0 = fh_rdtsc();
	for (int i = 0; i < 100; i++)
		fh_hdr_values_at_percentiles(h, ps, out, 6);
	double pct_us = (double)fh_tsc_to_ns(fh_rdtsc() - t0) / 100 / 1000.0;
	size_t cap = fh_hdr_encode_bound(h);
	uint8_t *scratch = malloc(cap), *z = malloc(cap + 64);
	t0 = fh_rdtsc();
	long zn = 0;
	for (int i = 0; i < 20 && scratch && z; i++)
		zn = fh_hdr_encode_compressed(h, z, cap + 64, scratch, cap);
	double enc_us = (double)fh_tsc_to_ns(fh_rdtsc() - t0) / 20 / 1000.0;
	printf("6 percentiles in one pass: %.1f us; V2 compressed encoding: %.1f us (%ld bytes)\n",
	       pct_us, enc_us, zn);
	printf("recorded distribution: p50 %" PRId64 " p99 %" PRId64 " p99.9 %" PRId64
	       " max %" PRId64 " ns\n",
	       out[0], out[2], out[3], h->max);
	printf("RESULT hdr_record_ns %.2f ns\n", direct);
	printf("RESULT hdr_record_min_ns %.2f ns\n", direct_min);
	printf("RESULT hdr_record_recorder_ns %.2f ns\n", rec);
	printf("RESULT hdr_percentiles_us %.1f us\n", pct_us);
	printf("RESULT hdr_encode_us %.1f us\n", enc_us);
	free(scratch);
	free(z);
	fh_hdr_destroy(h);
	fh_hdr_rec_destroy(r);
	return 0;
}
