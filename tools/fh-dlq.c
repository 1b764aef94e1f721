/* SPDX-License-Identifier: MIT */
/* fh-dlq: print a dead-letter file, one record per line with a hex dump of its bytes. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "fh_dlq.h"

static int print_rec(const struct fh_dlq_rec *r, const uint8_t *b, void *arg)
{
	int hex = *(int *)arg;

	printf("source=%u session=%.10s seq=%" PRIu64 " recv_ts=%" PRIu64 " reason=%.24s len=%u",
	       r->source_id, r->session, r->seq, r->recv_ts_ns, r->reason, r->len);
	if (hex) {
		fputs(" bytes=", stdout);
		for (uint32_t i = 0; i < r->len; i++)
			printf("%02x", b[i]);
	}
	putchar('\n');
	return 0;
}

int main(int argc, char **argv)
{
	int hex = 1;
	const char *path = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--no-hex"))
			hex = 0;
		else if (argv[i][0] == '-')
			goto usage;
		else
			path = argv[i];
	}
	if (!path)
		goto usage;
	long n = fh_dlq_read(path, print_rec, &hex);
	if (n < 0) {
		fprintf(stderr, "fh-dlq: %s: %s\n", path, strerror((int)-n));
		return 1;
	}
	fprintf(stderr, "fh-dlq: %ld records\n", n);
	return 0;
usage:
	fprintf(stderr, "usage: fh-dlq [--no-hex] FILE\n");
	return 2;
}
