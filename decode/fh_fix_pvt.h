/* SPDX-License-Identifier: MIT */
/* fh_fix_pvt.h: inline internals of the FIX decoder (byte sum, SOH scan, number parsing). */
#ifndef FH_FIX_PVT_H
#define FH_FIX_PVT_H

#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include "fh_common.h"

/* Byte sum of p[0..n) (CheckSum is this modulo 256). */
static inline uint32_t fh_fix_pvt_sum(const uint8_t *p, size_t n)
{
	uint64_t s = 0;
#if defined(__AVX2__)
	__m256i acc = _mm256_setzero_si256();
	const __m256i z = _mm256_setzero_si256();
	while (n >= 32) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)p);
		acc = _mm256_add_epi64(acc, _mm256_sad_epu8(v, z));
		p += 32;
		n -= 32;
	}
	__m128i a = _mm_add_epi64(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
	if (n >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		a = _mm_add_epi64(a, _mm_sad_epu8(v, _mm_setzero_si128()));
		p += 16;
		n -= 16;
	}
	s = (uint64_t)_mm_cvtsi128_si64(a) + (uint64_t)_mm_extract_epi64(a, 1);
#elif defined(__SSE2__)
	__m128i a = _mm_setzero_si128();
	while (n >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		a = _mm_add_epi64(a, _mm_sad_epu8(v, _mm_setzero_si128()));
		p += 16;
		n -= 16;
	}
	s = (uint64_t)_mm_cvtsi128_si64(a) + (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(a, a));
#endif
	if (n >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		/* Horizontal byte add: pairs, quads, then the top byte lane. */
		w = (w & 0x00ff00ff00ff00ffull) + ((w >> 8) & 0x00ff00ff00ff00ffull);
		w = (w & 0x0000ffff0000ffffull) + ((w >> 16) & 0x0000ffff0000ffffull);
		s += (w & 0xffffffffull) + (w >> 32);
		p += 8;
		n -= 8;
	}
	while (n--)
		s += *p++;
	return (uint32_t)s;
}

/* 64 x 0xff then 64 x 0: from + 64 - n, the first n bytes are kept. */
static const uint8_t fh_fix_pvt_keep[128] __attribute__((aligned(64), unused)) = {
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
};

/*
 * Index of one message: bit i of soh[] / eq[] is set when buf[i] is SOH /
 * '='. Words past len are not touched. Returns the byte sum of buf[0..len)
 * (the CheckSum comes from the same pass). The caller sizes soh/eq for
 * (len + 63) / 64 words.
 */
static inline uint64_t fh_fix_pvt_index(const uint8_t *buf, size_t len, uint64_t *soh, uint64_t *eq)
{
	uint64_t sum = 0;
	size_t w = 0, i = 0;

#if defined(__AVX512BW__)
	const __m512i one = _mm512_set1_epi8(1), eqc = _mm512_set1_epi8('='), z = _mm512_setzero_si512();
	__m512i acc = z;
	for (; i < len; i += 64, w++) {
		__m512i v;
		if (fh_likely(i + 64 <= len)) {
			v = _mm512_loadu_si512((const void *)(buf + i));
		} else {
			/* masked-out bytes are never read (fault suppression) */
			__mmask64 k = ~0ull >> (64 - (len - i));
			v = _mm512_maskz_loadu_epi8(k, buf + i);
		}
		soh[w] = _mm512_cmpeq_epi8_mask(v, one);
		eq[w] = _mm512_cmpeq_epi8_mask(v, eqc);
		acc = _mm512_add_epi64(acc, _mm512_sad_epu8(v, z));
	}
	sum = (uint64_t)_mm512_reduce_add_epi64(acc);
#else
	uint8_t tail[64] __attribute__((aligned(64)));
	for (;; i += 64, w++) {
		const uint8_t *p = buf + i;
		const uint8_t *keep = NULL; /* byte mask when p is read past len */
		if (i + 64 > len) {
			if (i >= len)
				break;
			size_t rem = len - i;
#if !defined(FH_SANITIZE) && !defined(FH_FUZZ) && !defined(__SANITIZE_ADDRESS__)
			/*
			 * 64 bytes from p stay inside p's page, which is mapped: read them
			 * and mask what lies past len (no copy: a copy here stalls store
			 * forwarding on every message). Sanitizer and fuzz builds copy.
			 */
			if (((uintptr_t)p & 4095) <= 4096 - 64) {
				keep = fh_fix_pvt_keep + 64 - rem;
			} else
#endif
			{
				memset(tail, 0, sizeof(tail));
				memcpy(tail, buf + i, rem);
				p = tail;
			}
		}
#if defined(__AVX2__)
		__m256i a = _mm256_loadu_si256((const __m256i *)(const void *)p);
		__m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
		if (keep) {
			a = _mm256_and_si256(a, _mm256_loadu_si256((const __m256i *)(const void *)keep));
			b = _mm256_and_si256(b, _mm256_loadu_si256((const __m256i *)(const void *)(keep + 32)));
		}
		__m256i one = _mm256_set1_epi8(1), e = _mm256_set1_epi8('=');
		soh[w] = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, one)) |
			 (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, one)) << 32;
		eq[w] = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, e)) |
			(uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, e)) << 32;
		__m256i s = _mm256_add_epi64(_mm256_sad_epu8(a, _mm256_setzero_si256()),
					     _mm256_sad_epu8(b, _mm256_setzero_si256()));
		__m128i h = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
		sum += (uint64_t)_mm_cvtsi128_si64(h) + (uint64_t)_mm_extract_epi64(h, 1);
#elif defined(__SSE2__)
		uint64_t ms = 0, me = 0;
		__m128i acc = _mm_setzero_si128();
		for (int k = 0; k < 4; k++) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
			if (keep)
				v = _mm_and_si128(v, _mm_loadu_si128((const __m128i *)(const void *)(keep + 16 * k)));
			ms |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(1))) << (16 * k);
			me |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('='))) << (16 * k);
			acc = _mm_add_epi64(acc, _mm_sad_epu8(v, _mm_setzero_si128()));
		}
		soh[w] = ms;
		eq[w] = me;
		sum += (uint64_t)_mm_cvtsi128_si64(acc) + (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(acc, acc));
#else
		uint64_t ms = 0, me = 0;
		for (int k = 0; k < 64; k++) {
			uint8_t c = keep ? (uint8_t)(p[k] & keep[k]) : p[k];
			ms |= (uint64_t)(c == 1) << k;
			me |= (uint64_t)(c == '=') << k;
			sum += c;
		}
		soh[w] = ms;
		eq[w] = me;
#endif
	}
#endif
	return sum;
}

/*
 * The same index, AVX2, for builds whose baseline lacks it (runtime
 * dispatch in fh_fix.c): x86-64 only, not needed when AVX2 is the baseline.
 */
#if defined(__x86_64__) && !defined(__AVX2__) && (defined(__GNUC__) || defined(__clang__))
#define FH_FIX_PVT_HAVE_V3 1
__attribute__((target("avx2,bmi,bmi2,lzcnt,popcnt")))
static inline uint64_t fh_fix_pvt_index_v3(const uint8_t *buf, size_t len, uint64_t *soh, uint64_t *eq)
{
	uint8_t tail[64] __attribute__((aligned(64)));
	uint64_t sum = 0;
	size_t w = 0, i = 0;
	const __m256i one = _mm256_set1_epi8(1), e = _mm256_set1_epi8('='), z = _mm256_setzero_si256();
	__m256i acc = z;

	for (; i < len; i += 64, w++) {
		const uint8_t *p = buf + i;
		const uint8_t *keep = NULL;
		if (i + 64 > len) {
			size_t rem = len - i;
#if !defined(FH_SANITIZE) && !defined(FH_FUZZ) && !defined(__SANITIZE_ADDRESS__)
			if (((uintptr_t)p & 4095) <= 4096 - 64) {
				keep = fh_fix_pvt_keep + 64 - rem; /* same page: read, then mask */
			} else
#endif
			{
				memset(tail, 0, sizeof(tail));
				memcpy(tail, buf + i, rem);
				p = tail;
			}
		}
		__m256i a = _mm256_loadu_si256((const __m256i *)(const void *)p);
		__m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
		if (keep) {
			a = _mm256_and_si256(a, _mm256_loadu_si256((const __m256i *)(const void *)keep));
			b = _mm256_and_si256(b, _mm256_loadu_si256((const __m256i *)(const void *)(keep + 32)));
		}
		soh[w] = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, one)) |
			 (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, one)) << 32;
		eq[w] = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, e)) |
			(uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, e)) << 32;
		acc = _mm256_add_epi64(acc, _mm256_add_epi64(_mm256_sad_epu8(a, z), _mm256_sad_epu8(b, z)));
	}
	__m128i h = _mm_add_epi64(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
	sum = (uint64_t)_mm_cvtsi128_si64(h) + (uint64_t)_mm_extract_epi64(h, 1);
	return sum;
}
#else
#define FH_FIX_PVT_HAVE_V3 0
#endif

/* Position of the first set bit at or after `from`; the caller knows one exists. */
static inline size_t fh_fix_pvt_next(const uint64_t *m, size_t from)
{
	size_t w = from >> 6;
	uint64_t x = m[w] & (~0ull << (from & 63));
	while (!x)
		x = m[++w];
	return (w << 6) + (size_t)__builtin_ctzll(x);
}

/*
 * 1..8 ASCII digits at p (8 bytes readable at p) -> value, without a loop
 * (left-padded with '0' bytes, checked and converted in SWAR). False when a
 * byte is not a digit.
 */
static inline bool fh_fix_pvt_digits8(const uint8_t *p, size_t n, uint64_t *out)
{
	uint64_t x;

	if (fh_likely(n <= 4)) {
		/* tags are 1..4 digits almost always: a shorter dependency chain */
		uint32_t y32;
		memcpy(&y32, p, 4);
		uint64_t y = (uint32_t)((uint64_t)y32 << ((4 - n) * 8)) | (0x30303030ull >> (n * 8));
		if (((y & 0xf0f0f0f0u) != 0x30303030u) ||
		    (((y + 0x06060606u) & 0xf0f0f0f0u) != 0x30303030u))
			return false;
		y = (y & 0x0f0f0f0fu) * 2561 >> 8;
		*out = (y & 0x00ff00ffu) * 6553601 >> 16 & 0xffff;
		return true;
	}
	memcpy(&x, p, 8);
	if (n < 8)
		x = (x << ((8 - n) * 8)) | (0x3030303030303030ull >> (n * 8));
	if (((x & 0xf0f0f0f0f0f0f0f0ull) != 0x3030303030303030ull) ||
	    (((x + 0x0606060606060606ull) & 0xf0f0f0f0f0f0f0f0ull) != 0x3030303030303030ull))
		return false;
	x = (x & 0x0f0f0f0f0f0f0f0full) * 2561 >> 8;
	x = (x & 0x00ff00ff00ff00ffull) * 6553601 >> 16;
	*out = (x & 0x0000ffff0000ffffull) * 42949672960001ull >> 32;
	return true;
}

/*
 * Zeroes n bytes (known at compile time) with plain vector stores: for a
 * ~200-byte struct a memset() may become `rep stos`, whose start-up costs
 * more than the whole store sequence.
 */
static inline void fh_fix_pvt_zero16(void *p, size_t n)
{
#if defined(__SSE2__)
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		_mm_storeu_si128((__m128i *)(void *)((char *)p + i), _mm_setzero_si128());
		/* keeps the compiler from turning the loop back into a memset */
		__asm__ volatile("" : : "r"(p) : "memory");
	}
	if (i + 8 <= n) {
		uint64_t z = 0;
		memcpy((char *)p + i, &z, 8);
		i += 8;
	}
	for (; i < n; i++)
		((char *)p)[i] = 0;
#else
	memset(p, 0, n);
#endif
}

/* Unsigned decimal of 1..19 digits. Returns false on syntax or overflow. */
static inline bool fh_fix_pvt_u64(const char *p, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 19)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned c = (unsigned)(uint8_t)p[i] - '0';
		if (c > 9)
			return false;
		v = v * 10 + c;
	}
	*out = v;
	return true;
}

static const int64_t fh_fix_pvt_pow10[19] = {
	1LL, 10LL, 100LL, 1000LL, 10000LL, 100000LL, 1000000LL, 10000000LL,
	100000000LL, 1000000000LL, 10000000000LL, 100000000000LL,
	1000000000000LL, 10000000000000LL, 100000000000000LL,
	1000000000000000LL, 10000000000000000LL, 100000000000000000LL,
	1000000000000000000LL,
};

/*
 * FIX float -> fixed point with `dec` (<= 8) places, exactly. Returns 0,
 * 1 (a non-zero digit beyond `dec` places) or 2 (syntax or overflow).
 * Leading zeros and trailing fractional zeros do not count towards the
 * 19 significant digits a uint64 holds without overflow.
 */
static inline int fh_fix_pvt_decimal(const char *p, size_t len, unsigned dec, int64_t *out)
{
	const char *e = p + len;
	bool neg = false, any = false;
	uint64_t v = 0;
	unsigned sig = 0, frac = 0;

	if (p < e && *p == '-') {
		neg = true;
		p++;
	}
	for (; p < e; p++) {
		unsigned c = (unsigned)(uint8_t)*p - '0';
		if (c > 9)
			break;
		any = true;
		if (v == 0 && c == 0)
			continue;
		if (++sig > 19)
			return 2;
		v = v * 10 + c;
	}
	if (p < e) {
		if (*p != '.')
			return 2;
		p++;
		const char *fs = p;
		for (; p < e; p++) {
			unsigned c = (unsigned)(uint8_t)*p - '0';
			if (c > 9)
				return 2;
			any = true;
			if (frac >= dec) {
				if (c != 0)
					return 1;
				continue;
			}
			frac++;
			if (v == 0 && c == 0)
				continue;
			if (++sig > 19)
				return 2;
			v = v * 10 + c;
		}
		(void)fs;
	}
	if (!any)
		return 2;
	uint64_t r;
	if (__builtin_mul_overflow(v, (uint64_t)fh_fix_pvt_pow10[dec - frac], &r) ||
	    r > (uint64_t)INT64_MAX)
		return 2;
	*out = neg ? -(int64_t)r : (int64_t)r;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static inline int64_t fh_fix_pvt_days(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static inline bool fh_fix_pvt_2d(const char *p, unsigned *v)
{
	unsigned a = (unsigned)(uint8_t)p[0] - '0', b = (unsigned)(uint8_t)p[1] - '0';
	if (a > 9 || b > 9)
		return false;
	*v = a * 10 + b;
	return true;
}

/* "HH:MM:SS[.f{1,9}]" -> ns since midnight. */
static inline bool fh_fix_pvt_time(const char *p, size_t len, uint64_t *ns)
{
	unsigned h, m, s;

	if (len < 8 || p[2] != ':' || p[5] != ':' || !fh_fix_pvt_2d(p, &h) ||
	    !fh_fix_pvt_2d(p + 3, &m) || !fh_fix_pvt_2d(p + 6, &s) || h > 23 || m > 59 || s > 60)
		return false;
	uint64_t frac = 0;
	if (len > 8) {
		size_t n = len - 9;
		if (p[8] != '.' || n == 0 || n > 9)
			return false;
		for (size_t i = 0; i < n; i++) {
			unsigned c = (unsigned)(uint8_t)p[9 + i] - '0';
			if (c > 9)
				return false;
			frac = frac * 10 + c;
		}
		frac *= (uint64_t)fh_fix_pvt_pow10[9 - n];
	}
	*ns = ((uint64_t)h * 3600 + m * 60 + s) * 1000000000ull + frac;
	return true;
}

/* "YYYYMMDD" -> days since the epoch. */
static inline bool fh_fix_pvt_date(const char *p, int64_t *days)
{
	unsigned y1, y2, mo, d;

	if (!fh_fix_pvt_2d(p, &y1) || !fh_fix_pvt_2d(p + 2, &y2) || !fh_fix_pvt_2d(p + 4, &mo) ||
	    !fh_fix_pvt_2d(p + 6, &d) || mo < 1 || mo > 12 || d < 1 || d > 31)
		return false;
	*days = fh_fix_pvt_days((int64_t)(y1 * 100 + y2), mo, d);
	return true;
}

#endif /* FH_FIX_PVT_H */
