/* SPDX-License-Identifier: MIT */
/* fh_hdr.c: HDR histogram layout, percentiles, merge, coordinated-omission correction, recorder. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fh_hdr.h"

int fh_hdr_cfg_norm(struct fh_hdr_cfg *cfg)
{
	if (cfg->lowest == 0)
		cfg->lowest = FH_HDR_DEFAULT_LOWEST;
	if (cfg->highest == 0)
		cfg->highest = FH_HDR_DEFAULT_HIGHEST;
	if (cfg->sigfigs == 0)
		cfg->sigfigs = FH_HDR_DEFAULT_SIGFIGS;
	if (cfg->lowest < 1 || cfg->sigfigs < 1 || cfg->sigfigs > 5 ||
	    cfg->highest < 2 * cfg->lowest || cfg->highest > INT64_MAX / 2)
		return -EINVAL;
	return 0;
}

struct layout {
	int32_t unit_magnitude, half_mag, half_count, sub_count, bucket_count, counts_len;
	int64_t mask;
};

static int layout_of(const struct fh_hdr_cfg *in, struct fh_hdr_cfg *cfg, struct layout *lo)
{
	struct fh_hdr_cfg c = in ? *in : (struct fh_hdr_cfg){ 0 };
	if (fh_hdr_cfg_norm(&c) != 0)
		return -EINVAL;
	/* Enough sub-buckets that two adjacent ones differ by at most 10^-sigfigs. */
	int64_t single_unit = 2;
	for (int i = 0; i < c.sigfigs; i++)
		single_unit *= 10;
	int32_t count_mag = (int32_t)ceil(log2((double)single_unit));
	lo->half_mag = (count_mag > 1 ? count_mag : 1) - 1;
	lo->unit_magnitude = 63 - __builtin_clzll((uint64_t)c.lowest);
	if (lo->unit_magnitude + lo->half_mag > 61)
		return -EINVAL;
	lo->sub_count = 1 << (lo->half_mag + 1);
	lo->half_count = lo->sub_count / 2;
	lo->mask = ((int64_t)lo->sub_count - 1) << lo->unit_magnitude;
	/* Buckets until the first untrackable value exceeds highest. */
	int64_t untrackable = (int64_t)lo->sub_count << lo->unit_magnitude;
	int32_t buckets = 1;
	while (untrackable <= c.highest) {
		if (untrackable > INT64_MAX / 2) {
			buckets++;
			break;
		}
		untrackable <<= 1;
		buckets++;
	}
	lo->bucket_count = buckets;
	lo->counts_len = (buckets + 1) * lo->half_count;
	if (cfg)
		*cfg = c;
	return 0;
}

size_t fh_hdr_memsize(const struct fh_hdr_cfg *cfg)
{
	struct layout lo;
	if (layout_of(cfg, NULL, &lo) != 0)
		return 0;
	return sizeof(struct fh_hdr) + (size_t)lo.counts_len * sizeof(int64_t);
}

int fh_hdr_init(struct fh_hdr *h, size_t memsize, const struct fh_hdr_cfg *cfg)
{
	struct layout lo;
	struct fh_hdr_cfg c;
	if (!h || layout_of(cfg, &c, &lo) != 0 ||
	    memsize < sizeof(*h) + (size_t)lo.counts_len * sizeof(int64_t))
		return -EINVAL;
	memset(h, 0, sizeof(*h) + (size_t)lo.counts_len * sizeof(int64_t));
	h->lowest = c.lowest;
	h->highest = c.highest;
	h->sigfigs = c.sigfigs;
	h->unit_magnitude = lo.unit_magnitude;
	h->sub_bucket_half_count_magnitude = lo.half_mag;
	h->sub_bucket_half_count = lo.half_count;
	h->sub_bucket_count = lo.sub_count;
	h->bucket_count = lo.bucket_count;
	h->counts_len = lo.counts_len;
	h->sub_bucket_mask = lo.mask;
	h->shift_base = 63 - lo.half_mag;
	h->bucket_base = 63 - lo.half_mag - lo.unit_magnitude;
	h->min = INT64_MAX;
	return 0;
}

struct fh_hdr *fh_hdr_create(const struct fh_hdr_cfg *cfg)
{
	size_t sz = fh_hdr_memsize(cfg);
	if (sz == 0) {
		errno = EINVAL;
		return NULL;
	}
	sz = (sz + FH_CACHE_LINE - 1) & ~(size_t)(FH_CACHE_LINE - 1);
	struct fh_hdr *h = aligned_alloc(FH_CACHE_LINE, sz);
	if (!h)
		return NULL;
	/* fh_hdr_init's memset touches every page: no faults when recording. */
	fh_hdr_init(h, sz, cfg);
	return h;
}

void fh_hdr_destroy(struct fh_hdr *h)
{
	free(h);
}

/* Every count lies between the buckets of min and max (all writers keep
 * min/max), so merge and reset touch only that span: a 1 s interval of
 * sub-microsecond latencies spans a few KiB, not the whole 270 KiB, and the
 * control thread does not sweep the data cores' caches. */
static void span(const struct fh_hdr *h, int32_t *lo, int32_t *hi)
{
	*lo = fh_hdr_pvt_index(h, h->min < 0 ? 0 : h->min);
	*hi = fh_hdr_pvt_index(h, h->max > h->highest ? h->highest : h->max);
	if (*hi >= h->counts_len)
		*hi = h->counts_len - 1;
}

void fh_hdr_reset(struct fh_hdr *h)
{
	if (h->total != 0 || h->clamped != 0) {
		int32_t lo, hi;
		span(h, &lo, &hi);
		if (h->min == INT64_MAX || lo > hi)
			memset(h->counts, 0, (size_t)h->counts_len * sizeof(int64_t));
		else
			memset(h->counts + lo, 0, (size_t)(hi - lo + 1) * sizeof(int64_t));
	}
	h->total = 0;
	h->sum = 0;
	h->min = INT64_MAX;
	h->max = 0;
	h->clamped = 0;
}

int64_t fh_hdr_pvt_clamp(struct fh_hdr *h, int64_t v)
{
	h->clamped++;
	return v < 0 ? 0 : h->highest;
}

int64_t fh_hdr_value_at_index(const struct fh_hdr *h, int32_t idx)
{
	int32_t bucket = (idx >> h->sub_bucket_half_count_magnitude) - 1;
	int32_t sub = (idx & (h->sub_bucket_half_count - 1)) + h->sub_bucket_half_count;
	if (bucket < 0) {
		sub -= h->sub_bucket_half_count;
		bucket = 0;
	}
	return (int64_t)sub << (bucket + h->unit_magnitude);
}

static int64_t equivalent_range(const struct fh_hdr *h, int64_t v)
{
	int32_t pow2ceil = 64 - __builtin_clzll((uint64_t)v | (uint64_t)h->sub_bucket_mask);
	int32_t bucket = pow2ceil - h->unit_magnitude - (h->sub_bucket_half_count_magnitude + 1);
	int32_t sub = (int32_t)(v >> (bucket + h->unit_magnitude));
	int32_t adjusted = sub >= h->sub_bucket_count ? bucket + 1 : bucket;
	return (int64_t)1 << (h->unit_magnitude + adjusted);
}

int64_t fh_hdr_lowest_equivalent(const struct fh_hdr *h, int64_t v)
{
	int32_t pow2ceil = 64 - __builtin_clzll((uint64_t)v | (uint64_t)h->sub_bucket_mask);
	int32_t bucket = pow2ceil - h->unit_magnitude - (h->sub_bucket_half_count_magnitude + 1);
	int64_t sub = v >> (bucket + h->unit_magnitude);
	return sub << (bucket + h->unit_magnitude);
}

int64_t fh_hdr_highest_equivalent(const struct fh_hdr *h, int64_t v)
{
	return fh_hdr_lowest_equivalent(h, v) + equivalent_range(h, v) - 1;
}

bool fh_hdr_same_layout(const struct fh_hdr *a, const struct fh_hdr *b)
{
	return a->counts_len == b->counts_len && a->unit_magnitude == b->unit_magnitude &&
	       a->sub_bucket_half_count_magnitude == b->sub_bucket_half_count_magnitude;
}

int64_t fh_hdr_merge(struct fh_hdr *dst, const struct fh_hdr *src)
{
	int64_t dropped = 0;
	if (src->total == 0)
		return 0;
	if (fh_hdr_same_layout(dst, src) && src->max <= dst->highest) {
		int32_t lo, hi;
		span(src, &lo, &hi);
		for (int32_t i = lo; i <= hi; i++)
			dst->counts[i] += src->counts[i];
		dst->total += src->total;
		dst->sum += src->sum;
		dst->clamped += src->clamped;
		dst->min = src->min < dst->min ? src->min : dst->min;
		dst->max = src->max > dst->max ? src->max : dst->max;
		return 0;
	}
	/* Different layouts: re-record each bucket at its lowest value, except the
	 * extremes which are exact. */
	int64_t before = dst->clamped;
	int64_t sum_before = dst->sum;
	for (int32_t i = 0; i < src->counts_len; i++) {
		int64_t c = src->counts[i];
		if (c == 0)
			continue;
		fh_hdr_record_n(dst, fh_hdr_value_at_index(src, i), c);
	}
	dropped = dst->clamped - before;
	dst->sum = sum_before + src->sum;
	/* min stays the recorded (bucket-low) value: it bounds the counts. */
	if (src->max > dst->max)
		dst->max = src->max > dst->highest ? dst->highest : src->max;
	return dropped;
}

void fh_hdr_values_at_percentiles(const struct fh_hdr *h, const double *ps,
				  int64_t *out, size_t n)
{
	size_t k = 0;
	int64_t cum = 0;
	if (h->total == 0) {
		for (k = 0; k < n; k++)
			out[k] = 0;
		return;
	}
	int32_t lo, hi;
	span(h, &lo, &hi);
	for (int32_t i = lo; i <= hi && k < n; i++) {
		cum += h->counts[i];
		if (h->counts[i] == 0)
			continue;
		while (k < n) {
			/* HdrHistogram's rank rule, bit for bit: nudge p down one ulp so
			 * that 99.9 % of 20000 is rank 19980, not 19981. */
			double p = fmin(fmax(nextafter(ps[k], -INFINITY), 0.0), 100.0);
			int64_t want = (int64_t)ceil(p * (double)h->total / 100.0);
			if (want < 1)
				want = 1;
			if (cum < want)
				break;
			int64_t v = fh_hdr_value_at_index(h, i);
			out[k] = ps[k] <= 0 ? fh_hdr_lowest_equivalent(h, v)
					    : fh_hdr_highest_equivalent(h, v);
			k++;
		}
	}
	for (; k < n; k++)
		out[k] = fh_hdr_highest_equivalent(h, h->max);
}

int64_t fh_hdr_value_at_percentile(const struct fh_hdr *h, double p)
{
	int64_t v;
	fh_hdr_values_at_percentiles(h, &p, &v, 1);
	return v;
}

double fh_hdr_mean(const struct fh_hdr *h)
{
	return h->total ? (double)h->sum / (double)h->total : 0.0;
}

double fh_hdr_stddev(const struct fh_hdr *h)
{
	if (h->total == 0)
		return 0.0;
	double mean = fh_hdr_mean(h), acc = 0;
	for (int32_t i = 0; i < h->counts_len; i++) {
		if (h->counts[i] == 0)
			continue;
		int64_t v = fh_hdr_value_at_index(h, i);
		double mid = (double)(fh_hdr_lowest_equivalent(h, v) + (equivalent_range(h, v) >> 1));
		acc += (mid - mean) * (mid - mean) * (double)h->counts[i];
	}
	return sqrt(acc / (double)h->total);
}

int64_t fh_hdr_count_le(const struct fh_hdr *h, int64_t v)
{
	if (v < 0)
		return 0;
	if (v >= h->highest)
		return h->total;
	int64_t c = 0;
	int32_t last = fh_hdr_pvt_index(h, v);
	/* The bucket of v counts only when v reaches its top. */
	if (fh_hdr_highest_equivalent(h, v) != v)
		last--;
	for (int32_t i = 0; i <= last && i < h->counts_len; i++)
		c += h->counts[i];
	return c;
}

int64_t fh_hdr_count_at(const struct fh_hdr *h, int64_t v)
{
	if (v < 0 || v > h->highest)
		return 0;
	return h->counts[fh_hdr_pvt_index(h, v)];
}

int fh_hdr_foreach(const struct fh_hdr *h,
		   int (*fn)(int64_t value, int64_t count, void *arg), void *arg)
{
	for (int32_t i = 0; i < h->counts_len; i++) {
		if (h->counts[i] == 0)
			continue;
		int rc = fn(fh_hdr_value_at_index(h, i), h->counts[i], arg);
		if (rc)
			return rc;
	}
	return 0;
}

int fh_hdr_percentiles_print(const struct fh_hdr *h, FILE *f, int ticks_per_half,
			     double scale)
{
	if (ticks_per_half < 1)
		ticks_per_half = 5;
	if (scale <= 0)
		scale = 1.0;
	fprintf(f, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount",
		"1/(1-Percentile)");
	/* Percentile levels halve the distance to 100 % every ticks_per_half
	 * lines; each row shows the level (as HdrHistogram's table does), the
	 * value there and the values counted up to it. */
	double pct = 0;
	for (int iter = 0; iter < 2000 && h->total > 0; iter++) {
		int64_t v = fh_hdr_value_at_percentile(h, pct);
		int64_t cum = fh_hdr_count_le(h, fh_hdr_highest_equivalent(h, v));
		double level = pct / 100.0;
		if (level >= 1.0 || cum >= h->total) {
			fprintf(f, "%12.3f %2.12f %10" PRId64 "\n",
				(double)fh_hdr_highest_equivalent(h, h->max) / scale, 1.0, h->total);
			break;
		}
		fprintf(f, "%12.3f %2.12f %10" PRId64 " %14.2f\n", (double)v / scale, level, cum,
			1.0 / (1.0 - level));
		double half_dist = pow(2.0, floor(log2(100.0 / (100.0 - pct))) + 1);
		pct += 100.0 / (half_dist * ticks_per_half);
	}
	fprintf(f, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", fh_hdr_mean(h) / scale,
		fh_hdr_stddev(h) / scale);
	fprintf(f, "#[Max     = %12.3f, Total count    = %12" PRId64 "]\n",
		(double)h->max / scale, h->total);
	fprintf(f, "#[Buckets = %12d, SubBuckets     = %12d]\n", h->bucket_count,
		h->sub_bucket_count);
	return ferror(f) ? -EIO : 0;
}

void fh_hdr_record_corrected(struct fh_hdr *h, int64_t v, int64_t interval)
{
	fh_hdr_record(h, v);
	if (interval <= 0 || v <= interval)
		return;
	for (int64_t missing = v - interval; missing >= interval; missing -= interval)
		fh_hdr_record(h, missing);
}

int fh_hdr_add_corrected(struct fh_hdr *dst, const struct fh_hdr *src, int64_t interval)
{
	if (interval < 0)
		return -EINVAL;
	for (int32_t i = 0; i < src->counts_len; i++) {
		int64_t c = src->counts[i];
		if (c == 0)
			continue;
		/* As HdrHistogram's copyCorrectedForCoordinatedOmission: each
		 * bucket stands for its highest equivalent value. */
		int64_t v = fh_hdr_highest_equivalent(src, fh_hdr_value_at_index(src, i));
		fh_hdr_record_n(dst, v, c);
		if (interval == 0 || v <= interval)
			continue;
		for (int64_t missing = v - interval; missing >= interval; missing -= interval)
			fh_hdr_record_n(dst, missing, c);
	}
	return 0;
}

struct fh_hdr_rec *fh_hdr_rec_create(const struct fh_hdr_cfg *cfg, uint64_t now_ns)
{
	struct fh_hdr_rec *r = aligned_alloc(FH_CACHE_LINE, sizeof(*r));
	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->h[0] = fh_hdr_create(cfg);
	r->h[1] = fh_hdr_create(cfg);
	if (!r->h[0] || !r->h[1]) {
		fh_hdr_destroy(r->h[0]);
		fh_hdr_destroy(r->h[1]);
		free(r);
		return NULL;
	}
	r->active = r->h[0];
	r->last_ns = now_ns;
	r->h[0]->start_ns = now_ns;
	return r;
}

void fh_hdr_rec_destroy(struct fh_hdr_rec *r)
{
	if (!r)
		return;
	fh_hdr_destroy(r->h[0]);
	fh_hdr_destroy(r->h[1]);
	free(r);
}

void fh_hdr_rec_request(struct fh_hdr_rec *r, uint64_t now_ns)
{
	if (__atomic_load_n(&r->ack, __ATOMIC_ACQUIRE) != r->req)
		return; /* the previous request is still pending */
	if (r->pending)
		return; /* answered but not collected yet */
	r->req_ns = now_ns;
	r->pending = 1;
	/* The histogram the writer will switch to was reset by the reader
	 * before this release (or is fresh). */
	__atomic_store_n(&r->req, r->req + 1, __ATOMIC_RELEASE);
}

struct fh_hdr *fh_hdr_rec_collect(struct fh_hdr_rec *r)
{
	uint32_t a = __atomic_load_n(&r->ack, __ATOMIC_ACQUIRE);
	if (a != r->req || !r->pending)
		return NULL;
	/* After an even number of swaps the writer is on h[0], so the closed
	 * interval is in h[1], and the other way round. */
	struct fh_hdr *closed = (a & 1) ? r->h[0] : r->h[1];
	struct fh_hdr *open = (a & 1) ? r->h[1] : r->h[0];
	closed->start_ns = r->last_ns;
	closed->end_ns = r->req_ns;
	open->start_ns = r->req_ns;
	r->last_ns = r->req_ns;
	r->pending = 0;
	return closed;
}
