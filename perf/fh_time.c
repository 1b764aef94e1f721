/* SPDX-License-Identifier: MIT */
/* fh_time.c: TSC calibration against CLOCK_MONOTONIC_RAW. */
#include <errno.h>

#include "fh_time.h"

struct fh_tsc_clock fh_tsc_clock = { .mult = 1ull << 32 };

int fh_tsc_calibrate(unsigned ms)
{
	if (ms == 0)
		return -EINVAL;
	uint64_t ns_start = fh_clock_ns(CLOCK_MONOTONIC_RAW);
	uint64_t t_start = fh_rdtsc();
	uint64_t ns_end, t_end;
	do {
		ns_end = fh_clock_ns(CLOCK_MONOTONIC_RAW);
	} while (ns_end - ns_start < (uint64_t)ms * 1000000ull);
	t_end = fh_rdtsc();
	uint64_t dt = t_end - t_start, dns = ns_end - ns_start;
	if (dt == 0)
		return -EINVAL;
	fh_tsc_clock.mult = (uint64_t)(((unsigned __int128)dns << 32) / dt);
	fh_tsc_clock.hz = (double)dt * 1e9 / (double)dns;
	fh_tsc_clock.tsc0 = fh_rdtsc();
	fh_tsc_clock.ns0 = fh_clock_ns(CLOCK_REALTIME);
	return 0;
}
