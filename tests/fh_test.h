/* SPDX-License-Identifier: MIT */
/* fh_test.h: tiny test harness: cases in a table, checks that do not stop the run. */
#ifndef FH_TEST_H
#define FH_TEST_H

/*
 * Usage:
 *   static void test_x(void) { FH_CHECK(a == b); FH_CHECK_EQ_U(a, b); }
 *   static const struct fh_test_case cases[] = { FH_CASE(test_x), {0} };
 *   int main(int argc, char **argv) { return fh_test_main(argc, argv, cases); }
 * A failed check prints file:line and the expression and marks the case
 * failed; the case goes on. FH_SKIP("why") skips the current case.
 * Exit 0 when all ran cases passed, 1 on any failure, 77 when every case
 * skipped. `test_x NAME` runs only the case NAME. Paths to tools and data:
 * fh_test_build_dir() ($FH_BUILD or "build"), fh_test_data_dir()
 * ($FH_DATA or "../shared/data").
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fh_test_case {
	const char *name;
	void (*fn)(void);
};

#define FH_CASE(f) { #f, f }

extern int fh_test_failed;
extern int fh_test_skipped;
extern long fh_test_checks;

#define FH_CHECK(cond)                                                              \
	do {                                                                        \
		fh_test_checks++;                                                   \
		if (!(cond)) {                                                      \
			fprintf(stderr, "  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			fh_test_failed = 1;                                         \
		}                                                                   \
	} while (0)

#define FH_CHECK_EQ_U(a, b)                                                         \
	do {                                                                        \
		unsigned long long _a = (unsigned long long)(a);                    \
		unsigned long long _b = (unsigned long long)(b);                    \
		fh_test_checks++;                                                   \
		if (_a != _b) {                                                     \
			fprintf(stderr, "  FAIL %s:%d: %s == %s (%llu != %llu)\n",  \
				__FILE__, __LINE__, #a, #b, _a, _b);                \
			fh_test_failed = 1;                                         \
		}                                                                   \
	} while (0)

#define FH_CHECK_EQ_I(a, b)                                                         \
	do {                                                                        \
		long long _a = (long long)(a);                                      \
		long long _b = (long long)(b);                                      \
		fh_test_checks++;                                                   \
		if (_a != _b) {                                                     \
			fprintf(stderr, "  FAIL %s:%d: %s == %s (%lld != %lld)\n",  \
				__FILE__, __LINE__, #a, #b, _a, _b);                \
			fh_test_failed = 1;                                         \
		}                                                                   \
	} while (0)

#define FH_CHECK_STR(a, b)                                                          \
	do {                                                                        \
		const char *_a = (a), *_b = (b);                                    \
		fh_test_checks++;                                                   \
		if (!_a || !_b || strcmp(_a, _b) != 0) {                            \
			fprintf(stderr, "  FAIL %s:%d: %s == %s (\"%s\" != \"%s\")\n", \
				__FILE__, __LINE__, #a, #b, _a ? _a : "(null)",     \
				_b ? _b : "(null)");                                \
			fh_test_failed = 1;                                         \
		}                                                                   \
	} while (0)

#define FH_SKIP(why)                                                                \
	do {                                                                        \
		fprintf(stderr, "  SKIP: %s\n", why);                               \
		fh_test_skipped = 1;                                                \
		return;                                                             \
	} while (0)

static inline const char *fh_test_build_dir(void)
{
	const char *b = getenv("FH_BUILD");
	return b && *b ? b : "build";
}

static inline const char *fh_test_data_dir(void)
{
	const char *d = getenv("FH_DATA");
	return d && *d ? d : "../shared/data";
}

int fh_test_main(int argc, char **argv, const struct fh_test_case *cases);


#endif /* FH_TEST_H */
