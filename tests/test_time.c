/* SPDX-License-Identifier: MIT */
/* test_time.c: TSC calibration converts ticks to ns consistently with the OS clock. */
#include <unistd.h>

#include "fh_time.h"
#include "fh_test.h"

static void test_calibrate(void)
{
	FH_CHECK_EQ_I(fh_tsc_calibrate(0), -22);
	FH_CHECK_EQ_I(fh_tsc_calibrate(20), 0);
	FH_CHECK(fh_tsc_clock.hz > 1e6);
	/* A TSC interval around a sleep converts to no less than the sleep (ns
	 * resolution, monotonic): checks direction and scale, not a timing. */
	uint64_t t0 = fh_rdtsc();
	uint64_t c0 = fh_clock_ns(CLOCK_MONOTONIC_RAW);
	usleep(20000);
	uint64_t c1 = fh_clock_ns(CLOCK_MONOTONIC_RAW);
	uint64_t t1 = fh_rdtsc();
	uint64_t tsc_ns = fh_tsc_to_ns(t1 - t0), clk_ns = c1 - c0;
	/* the TSC window encloses the clock window; allow 2 % calibration error */
	FH_CHECK(tsc_ns * 100 >= clk_ns * 98);
	/* wall time from the TSC is close to CLOCK_REALTIME (within 1 s) */
	uint64_t wall = fh_tsc_wall_ns(fh_rdtsc()), real = fh_clock_ns(CLOCK_REALTIME);
	FH_CHECK(wall + 1000000000ull > real && real + 1000000000ull > wall);
}

static const struct fh_test_case cases[] = {
	FH_CASE(test_calibrate),
	{ 0 },
};

int main(int argc, char **argv)
{
	return fh_test_main(argc, argv, cases);
}
