/* SPDX-License-Identifier: MIT */
/* fh_hdr.h: HDR latency histogram (HdrHistogram layout), lock-free per-core recorder, V2 encoding, interval log. */
#ifndef FH_HDR_H
#define FH_HDR_H

/*
 * A High Dynamic Range histogram with the bucket layout of HdrHistogram
 * (Gil Tene's design), so that its V2 encoding and interval log are read by
 * HdrHistogram's own tools (Java HistogramLogProcessor, HdrHistogram_c,
 * hdrhistogram-rs...). Values are int64 (we record nanoseconds); the default
 * range is 1 ns .. 1 h at 3 significant digits: any recorded value is kept
 * within 0.1 % (relative) and every value < 2048 ns exactly.
 *
 * Memory: fh_hdr_memsize(cfg) bytes (1 ns .. 1 h, 3 digits: 270 KiB), laid
 * out flat so it can live in NUMA-local or shared memory (fh_hdr_init), or
 * fh_hdr_create() allocates and pre-faults it (no page faults on record).
 *
 * Threads: a struct fh_hdr has one writer and no internal locking. To read
 * the histogram of a data core while it keeps recording, use the recorder
 * (struct fh_hdr_rec): two histograms, the core records into the active
 * one and swaps at a point of its choosing (once per burst: a load and a
 * predictable branch) when the reader asked for it; the reader then owns the
 * other one until its next request. Zero atomic read-modify-write, zero
 * fences on the recording path.
 *
 * Percentiles follow HdrHistogram's definition: the value at percentile p is
 * the highest value equivalent (same bucket) to the smallest recorded value
 * v such that at least ceil(p * count / 100) values are <= v, p being nudged
 * one ulp down first (as HdrHistogram-Java 2.1.11 does, so we agree to the
 * last bucket).
 */

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fh_common.h"

#define FH_HDR_DEFAULT_LOWEST 1ll
#define FH_HDR_DEFAULT_HIGHEST 3600000000000ll /* 1 h in ns */
#define FH_HDR_DEFAULT_SIGFIGS 3

struct fh_hdr_cfg {
	int64_t lowest;  /* smallest discernible value, >= 1 (0: default 1) */
	int64_t highest; /* largest trackable value, >= 2 * lowest (0: 1 h in ns) */
	int sigfigs;     /* significant decimal digits, 1..5 (0: default 3) */
};

struct fh_hdr {
	int64_t lowest;
	int64_t highest;
	int32_t sigfigs;
	int32_t unit_magnitude;
	int32_t sub_bucket_half_count_magnitude;
	int32_t sub_bucket_half_count;
	int32_t sub_bucket_count;
	int32_t bucket_count;
	int32_t counts_len;
	int32_t shift_base;  /* 63 - sub_bucket_half_count_magnitude */
	int32_t bucket_base; /* shift_base - unit_magnitude */
	int64_t sub_bucket_mask;
	/* written by the recording thread */
	/* Fields the record path writes alternate with ones it does not, so that
	 * the compiler keeps them scalar (pairing them in vector registers
	 * costs more than it saves). */
	int64_t total;    /* values recorded */
	int64_t clamped;  /* values outside [0, highest] recorded as the bound */
	int64_t sum;      /* sum of recorded values (after clamping) */
	uint64_t start_ns; /* interval start (wall ns), for interval logs */
	int64_t min;      /* smallest recorded value, INT64_MAX when empty */
	uint64_t end_ns;   /* interval end (wall ns) */
	int64_t max;      /* largest recorded value, 0 when empty */
	int64_t counts[] FH_CACHE_ALIGNED;
};

/* Fills a cfg with the defaults for each zero field and validates it.
 * Returns 0 or -EINVAL. */
int fh_hdr_cfg_norm(struct fh_hdr_cfg *cfg);

/* Bytes needed for a histogram of cfg (NULL: defaults); 0 if cfg is invalid. */
size_t fh_hdr_memsize(const struct fh_hdr_cfg *cfg);

/* Initialises a histogram in mem (fh_hdr_memsize(cfg) bytes, 64-byte
 * aligned), zeroing every count. Returns 0 or -EINVAL. */
int fh_hdr_init(struct fh_hdr *h, size_t memsize, const struct fh_hdr_cfg *cfg);

/* Allocates, pre-faults and initialises a histogram; NULL on bad cfg or ENOMEM. */
struct fh_hdr *fh_hdr_create(const struct fh_hdr_cfg *cfg);
void fh_hdr_destroy(struct fh_hdr *h);

/* Clears counts, total, min, max, sum (keeps the layout). Touches only the
 * buckets between min and max. Code that writes counts[] directly must keep
 * min and max around them. */
void fh_hdr_reset(struct fh_hdr *h);

/* Adds every value of src to dst (any layouts). Values src holds above
 * dst->highest are recorded as dst->highest and counted in dst->clamped.
 * Returns the number of such values. Not thread-safe against writers of dst. */
int64_t fh_hdr_merge(struct fh_hdr *dst, const struct fh_hdr *src);

/* True when a and b have the same layout (merge is then a vector add). */
bool fh_hdr_same_layout(const struct fh_hdr *a, const struct fh_hdr *b);

/* Value at percentile p in [0, 100]; 0 when empty. */
int64_t fh_hdr_value_at_percentile(const struct fh_hdr *h, double p);

/* Several percentiles in one pass: ps[] ascending, out[i] for ps[i]. */
void fh_hdr_values_at_percentiles(const struct fh_hdr *h, const double *ps,
				  int64_t *out, size_t n);

/* Exact mean of recorded values (0 when empty), and standard deviation
 * computed from bucket mid-points (as HdrHistogram does). */
double fh_hdr_mean(const struct fh_hdr *h);
double fh_hdr_stddev(const struct fh_hdr *h);

/* Values recorded <= v (v taken at bucket resolution: values in the bucket
 * of v count when v is its highest equivalent value or more). */
int64_t fh_hdr_count_le(const struct fh_hdr *h, int64_t v);

/* Count recorded in the bucket of v. */
int64_t fh_hdr_count_at(const struct fh_hdr *h, int64_t v);

/* Bucket geometry (HdrHistogram definitions). */
int64_t fh_hdr_lowest_equivalent(const struct fh_hdr *h, int64_t v);
int64_t fh_hdr_highest_equivalent(const struct fh_hdr *h, int64_t v);
int64_t fh_hdr_value_at_index(const struct fh_hdr *h, int32_t idx);

/* Calls fn(value, count, arg) for every non-empty bucket in ascending order,
 * value being the bucket's lowest value; stops and returns fn's non-zero
 * return value. Returns 0 when done. */
int fh_hdr_foreach(const struct fh_hdr *h,
		   int (*fn)(int64_t value, int64_t count, void *arg), void *arg);

/* Writes HdrHistogram's classic percentile distribution table (the
 * ".hgrm" text: Value, Percentile, TotalCount, 1/(1-Percentile)), values
 * divided by scale (1000.0 prints microseconds from ns). Returns 0 or -EIO. */
int fh_hdr_percentiles_print(const struct fh_hdr *h, FILE *f, int ticks_per_half,
			     double scale);

/* --- recording (hot path) --- */

static inline int32_t fh_hdr_pvt_index(const struct fh_hdr *h, int64_t v)
{
	/* The bucket is set by the power of two above v (at least the first
	 * bucket's span); the sub-bucket is v's top bits within it. With
	 * lz = clz(v | mask): shift = 63 - half_mag - lz, bucket = shift - unit,
	 * index = (bucket + 1) * half_count + (v >> shift) - half_count. */
	int32_t lz = __builtin_clzll((uint64_t)v | (uint64_t)h->sub_bucket_mask);
	int32_t shift = h->shift_base - lz;
	return ((h->bucket_base - lz) << h->sub_bucket_half_count_magnitude) + (int32_t)(v >> shift);
}

int64_t fh_hdr_pvt_clamp(struct fh_hdr *h, int64_t v) FH_COLD;

/* Records n occurrences of v. Values < 0 are recorded as 0 and values above
 * highest as highest, counted in h->clamped. One writer at a time. */
static inline void fh_hdr_record_n(struct fh_hdr *h, int64_t v, int64_t n)
{
	if (fh_unlikely((uint64_t)v > (uint64_t)h->highest))
		v = fh_hdr_pvt_clamp(h, v);
	/* Read everything before the first store: the counts are int64 too, so
	 * the compiler could not otherwise keep the fields in registers. */
	int32_t idx = fh_hdr_pvt_index(h, v);
	int64_t total = h->total, sum = h->sum, mn = h->min, mx = h->max;
	h->counts[idx] += n;
	h->total = total + n;
	h->sum = sum + v * n;
	h->min = v < mn ? v : mn;
	h->max = v > mx ? v : mx;
}

static inline void fh_hdr_record(struct fh_hdr *h, int64_t v)
{
	fh_hdr_record_n(h, v, 1);
}

/* Coordinated-omission correction for paced replays: records v, and when v
 * exceeds the expected interval between two samples, also the values the
 * stalled sender would have seen (v - interval, v - 2 * interval, ... while
 * >= interval), as HdrHistogram's recordValueWithExpectedInterval does.
 * interval <= 0 records v alone. O(v / interval): not for the per-packet path. */
void fh_hdr_record_corrected(struct fh_hdr *h, int64_t v, int64_t interval);

/* The same correction applied afterwards: adds to dst the values of src and
 * the values a corrected recording would have added. Returns 0 or -EINVAL. */
int fh_hdr_add_corrected(struct fh_hdr *dst, const struct fh_hdr *src, int64_t interval);

/* --- per-core recorder: the core records, the control thread reads --- */

struct fh_hdr_rec {
	/* writer's line */
	struct fh_hdr *active;
	uint32_t seen;          /* last request the writer served */
	uint32_t ack;           /* = seen, published with release */
	FH_CACHE_GUARD(0);
	/* reader's line */
	uint32_t req;           /* swap requests made */
	uint32_t pending;       /* a request not collected yet */
	struct fh_hdr *h[2];
	uint64_t req_ns;        /* wall time of the pending request */
	uint64_t last_ns;       /* wall time of the last completed swap */
} FH_CACHE_ALIGNED;

/* Two histograms of cfg plus the recorder state. NULL on bad cfg or ENOMEM. */
struct fh_hdr_rec *fh_hdr_rec_create(const struct fh_hdr_cfg *cfg, uint64_t now_ns);
void fh_hdr_rec_destroy(struct fh_hdr_rec *r);

/* Writer: record into the active histogram. */
static inline void fh_hdr_rec_record(struct fh_hdr_rec *r, int64_t v)
{
	fh_hdr_record(r->active, v);
}

/* Writer: swap histograms if the reader asked. Call once per loop/burst. */
static inline void fh_hdr_rec_poll(struct fh_hdr_rec *r)
{
	uint32_t q = __atomic_load_n(&r->req, __ATOMIC_ACQUIRE);
	if (fh_unlikely(q != r->seen)) {
		r->active = r->active == r->h[0] ? r->h[1] : r->h[0];
		r->seen = q;
		/* Every record into the old histogram precedes this release. */
		__atomic_store_n(&r->ack, q, __ATOMIC_RELEASE);
	}
}

/* Reader: asks the writer to swap (no-op while a request is pending).
 * now_ns stamps the end of the interval being closed. */
void fh_hdr_rec_request(struct fh_hdr_rec *r, uint64_t now_ns);

/* Reader: the histogram of the closed interval once the writer swapped
 * (start_ns/end_ns set), else NULL. The reader owns it until its next
 * request and should merge it then fh_hdr_reset() it before that. */
struct fh_hdr *fh_hdr_rec_collect(struct fh_hdr_rec *r);

/* --- HdrHistogram V2 encoding and interval log (fh_hdr_log.c) --- */

#define FH_HDR_V2_COOKIE 0x1c849313
#define FH_HDR_V2_COMPRESSED_COOKIE 0x1c849314

/* Bytes enough for fh_hdr_encode_v2 of h (uncompressed worst case). */
size_t fh_hdr_encode_bound(const struct fh_hdr *h);

/* V2 uncompressed encoding (40-byte big-endian header, ZigZag LEB128 counts,
 * zero runs). Returns the length or -ENOSPC. */
long fh_hdr_encode_v2(const struct fh_hdr *h, uint8_t *out, size_t cap);

/* V2 compressed encoding (cookie, length, zlib stream of the above), the
 * bytes that HdrHistogram's encodeIntoCompressedByteBuffer produces.
 * scratch is at least fh_hdr_encode_bound(h) bytes. Returns length or -errno. */
long fh_hdr_encode_compressed(const struct fh_hdr *h, uint8_t *out, size_t cap,
			      uint8_t *scratch, size_t scratch_cap);

/* Decodes a V2 (compressed or not) histogram into h, which must have been
 * initialised wide enough; counts add to what h holds. scratch is used for
 * inflating. Returns 0, -EINVAL (malformed), -ERANGE (values beyond h). */
int fh_hdr_decode(struct fh_hdr *h, const uint8_t *in, size_t len,
		  uint8_t *scratch, size_t scratch_cap);

/* Reads only the header of a V2 encoding (for sizing a histogram). */
int fh_hdr_decode_cfg(const uint8_t *in, size_t len, struct fh_hdr_cfg *cfg);

/* Base64 (RFC 4648, padded). Returns output length, or -ENOSPC / -EINVAL. */
long fh_base64_encode(const uint8_t *in, size_t len, char *out, size_t cap);
long fh_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap);

/* Interval log ("#[Histogram log format version 1.3]"). Writer: */
struct fh_hdr_log {
	FILE *f;
	uint64_t base_ns;   /* start time: line timestamps are relative to it */
	uint8_t *enc;       /* compressed encoding buffer */
	uint8_t *scratch;
	char *b64;
	size_t enc_cap, scratch_cap, b64_cap;
};

/* Prepares buffers for histograms up to cfg's size and writes the header
 * (start time base_ns, wall ns since the epoch). Returns 0 or -errno. */
int fh_hdr_log_open(struct fh_hdr_log *l, FILE *f, uint64_t base_ns,
		    const struct fh_hdr_cfg *cfg);

/* Appends one interval line: [Tag=tag,]start,length,max,HISTFAAA...
 * Times come from h->start_ns/end_ns; tag may be NULL (no ',' ' ' or
 * newline inside). max_scale divides the max column (1e6: ns -> ms, as
 * HdrHistogram's default). Returns 0 or -errno. */
int fh_hdr_log_write(struct fh_hdr_log *l, const struct fh_hdr *h, const char *tag,
		     double max_scale);

/* Writes one log line into buf instead of a FILE (for HTTP /hdr). Returns
 * its length or -errno. */
long fh_hdr_log_format(struct fh_hdr_log *l, const struct fh_hdr *h, const char *tag,
		       double max_scale, char *buf, size_t cap);

/* Writes the header lines into buf. Returns length or -ENOSPC. */
long fh_hdr_log_format_header(uint64_t base_ns, char *buf, size_t cap);

void fh_hdr_log_close(struct fh_hdr_log *l); /* frees buffers; never closes f */

/* Reader: calls fn for each histogram line (decoded into a histogram of
 * the encoded layout, start/end set to absolute ns). Returns the number of
 * histograms read, or -errno (-EINVAL on a malformed line). */
int fh_hdr_log_read(FILE *f, int (*fn)(const struct fh_hdr *h, const char *tag, void *arg),
		    void *arg);

#endif /* FH_HDR_H */
