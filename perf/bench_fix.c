/* SPDX-License-Identifier: MIT */
/* bench_fix.c: FIX frame + validate (BodyLength, CheckSum) + decode to events on the JSE capture. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh_fix.h"
#include "fh_time.h"

#ifndef PASSES
#define PASSES 3000
#endif

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	char path[512];
	const char *data = getenv("FH_DATA");
	FILE *f;
	static uint8_t buf[1 << 20];
	size_t len;
	static struct fh_event ev[1100];
	uint64_t ns_pass[PASSES];

	snprintf(path, sizeof(path), "%s/fix/jse_ftse_fixt11_600_from_first_X.fix",
		 argc > 1 ? argv[1] : data && *data ? data : "../shared/data");
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "bench_fix: %s: cannot open\n", path);
		return 1;
	}
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	fh_tsc_calibrate(100);

	struct fh_fix_cfg cfg = { .auto_add = true, .qty_decimals = 8 };
	struct fh_fix_decoder *d = fh_fix_create(&cfg);
	unsigned cap = fh_fix_max_events(d);
	if (cap > (sizeof(ev) / sizeof(ev[0])))
		cap = (sizeof(ev) / sizeof(ev[0]));
	uint64_t msgs = 0, events = 0, rejects = 0;

	for (int pass = -50; pass < PASSES; pass++) {
		uint64_t t0 = fh_rdtsc();
		size_t off = 0, skip;
		uint64_t n_msg = 0;
		while (off < len) {
			long n = fh_fix_frame(buf + off, len - off, 0, &skip);
			if (n <= 0)
				break;
			struct fh_fix_msg m;
			int k = fh_fix_decode(d, buf + off + skip, (size_t)n, t0, &m, ev, cap);
			events += k > 0 ? (uint64_t)k : 0;
			rejects += k < 0;
			off += skip + (size_t)n;
			n_msg++;
		}
		uint64_t t1 = fh_rdtsc();
		if (pass >= 0) {
			ns_pass[pass] = fh_tsc_to_ns(t1 - t0);
			msgs += n_msg;
		}
	}
	qsort(ns_pass, PASSES, sizeof(ns_pass[0]), cmp_u64);
	double n_per_pass = (double)msgs / PASSES;
	double p50 = (double)ns_pass[PASSES / 2] / n_per_pass;
	double p99 = (double)ns_pass[PASSES * 99 / 100] / n_per_pass;
	double p999 = (double)ns_pass[PASSES * 999 / 1000] / n_per_pass;
	double mx = (double)ns_pass[PASSES - 1] / n_per_pass;
	double mn = (double)ns_pass[0] / n_per_pass;

	printf("bench_fix: %s, %zu bytes, %.0f messages per pass, %d passes, %" PRIu64
	       " events, %" PRIu64 " rejects\n", path, len, n_per_pass, PASSES, events, rejects);
	printf("bench_fix: ns/message over one pass of the capture: min %.1f p50 %.1f p99 %.1f "
	       "p99.9 %.1f max %.1f\n", mn, p50, p99, p999, mx);
	printf("RESULT fix_decode_ns_per_msg %.1f ns\n", p50);
	printf("RESULT fix_decode_ns_per_msg_p99 %.1f ns\n", p99);
	printf("RESULT fix_decode_mb_per_s %.0f MB/s\n", (double)len / (p50 * n_per_pass) * 1e3);
	fh_fix_destroy(d);
	return rejects ? 1 : 0;
}
