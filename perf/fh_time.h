/* SPDX-License-Identifier: MIT */
/* fh_time.h: TSC timestamps calibrated to nanoseconds, and wall-clock time. */
#ifndef FH_TIME_H
#define FH_TIME_H

/*
 * Hot paths read the TSC (rdtsc, ~7 ns, no syscall) and convert ticks to ns
 * with a multiply and shift fixed at start-up by fh_tsc_calibrate(), which
 * measures the TSC against CLOCK_MONOTONIC_RAW over `ms` milliseconds. The
 * invariant TSC of every supported host makes ticks comparable across cores.
 * fh_tsc_to_ns() and fh_tsc_ns() are valid after calibration (before it they
 * assume 1 tick = 1 ns). Thread-safe after calibration (read-only state).
 */

#include <stdint.h>
#include <time.h>

struct fh_tsc_clock {
	uint64_t mult;   /* ns per tick, as a 32.32 fixed-point factor */
	uint64_t tsc0;   /* ticks at calibration */
	uint64_t ns0;    /* CLOCK_REALTIME ns at tsc0 */
	double hz;       /* measured ticks per second */
};
extern struct fh_tsc_clock fh_tsc_clock;

static inline uint64_t fh_rdtsc(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
#endif
}

/* Ticks to nanoseconds (a duration). */
static inline uint64_t fh_tsc_to_ns(uint64_t ticks)
{
	return (uint64_t)(((unsigned __int128)ticks * fh_tsc_clock.mult) >> 32);
}

/* A TSC reading as nanoseconds since the Unix epoch (UTC). */
static inline uint64_t fh_tsc_wall_ns(uint64_t tsc)
{
	return fh_tsc_clock.ns0 + fh_tsc_to_ns(tsc - fh_tsc_clock.tsc0);
}

/* Nanoseconds from the OS clock (a syscall or vDSO call: not for hot paths). */
static inline uint64_t fh_clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Measures the TSC rate over ms milliseconds (>= 1). Returns 0 or -EINVAL. */
int fh_tsc_calibrate(unsigned ms);

#endif /* FH_TIME_H */
