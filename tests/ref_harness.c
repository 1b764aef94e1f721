/* SPDX-License-Identifier: MIT */
/* ref_harness.c: the runner behind fh_test.h (linked into every test binary). */
#include <stdio.h>
#include <string.h>

#include "fh_test.h"

int fh_test_failed;
int fh_test_skipped;
long fh_test_checks;

int fh_test_main(int argc, char **argv, const struct fh_test_case *cases)
{
	int passed = 0, failed = 0, skipped = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (const struct fh_test_case *c = cases; c->name; c++) {
		if (argc > 1 && strcmp(argv[1], c->name) != 0)
			continue;
		fh_test_failed = 0;
		fh_test_skipped = 0;
		c->fn();
		fflush(stderr);
		if (fh_test_failed) {
			printf("[FAIL] %s\n", c->name);
			failed++;
		} else if (fh_test_skipped) {
			printf("[SKIP] %s\n", c->name);
			skipped++;
		} else {
			printf("[ ok ] %s\n", c->name);
			passed++;
		}
	}
	printf("%s: %d passed, %d failed, %d skipped (%ld checks)\n", argv[0], passed,
	       failed, skipped, fh_test_checks);
	if (failed)
		return 1;
	if (!passed && skipped)
		return 77;
	return passed ? 0 : 1;
}
