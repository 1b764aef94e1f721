/* SPDX-License-Identifier: MIT */
/* fh_common.h: compiler hints, cache-line layout, big-endian loads used by every stage. */
#ifndef FH_COMMON_H
#define FH_COMMON_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>

#define FH_CACHE_LINE 64
#define FH_CACHE_ALIGNED __attribute__((aligned(FH_CACHE_LINE)))
/* A whole line of padding between fields written by different cores. */
#define FH_CACHE_GUARD(n) char fh_cache_guard_##n[FH_CACHE_LINE]

#define fh_likely(x) __builtin_expect(!!(x), 1)
#define fh_unlikely(x) __builtin_expect(!!(x), 0)
#define FH_COLD __attribute__((cold, noinline))
#define FH_ALWAYS_INLINE inline __attribute__((always_inline))
#define FH_UNUSED __attribute__((unused))
#define FH_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define fh_prefetch0(p) __builtin_prefetch((p), 0, 3)
#define fh_prefetch_w(p) __builtin_prefetch((p), 1, 3)

/* Unaligned big-endian loads: wire formats (ITCH, MoldUDP64, IPv4) are big-endian. */
static inline uint16_t fh_be16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return __builtin_bswap16(v);
}

static inline uint32_t fh_be32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return __builtin_bswap32(v);
}

static inline uint64_t fh_be64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return __builtin_bswap64(v);
}

/* ITCH 6-byte timestamp: nanoseconds since midnight. */
static inline uint64_t fh_be48(const uint8_t *p)
{
	return ((uint64_t)fh_be16(p) << 32) | fh_be32(p + 2);
}

static inline void fh_put_be16(uint8_t *p, uint16_t v)
{
	v = __builtin_bswap16(v);
	memcpy(p, &v, sizeof(v));
}

static inline void fh_put_be32(uint8_t *p, uint32_t v)
{
	v = __builtin_bswap32(v);
	memcpy(p, &v, sizeof(v));
}

static inline void fh_put_be64(uint8_t *p, uint64_t v)
{
	v = __builtin_bswap64(v);
	memcpy(p, &v, sizeof(v));
}

static inline void fh_put_be48(uint8_t *p, uint64_t v)
{
	fh_put_be16(p, (uint16_t)(v >> 32));
	fh_put_be32(p + 2, (uint32_t)v);
}

#endif /* FH_COMMON_H */
