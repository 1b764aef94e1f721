/* SPDX-License-Identifier: MIT */
/* test_dlq.c: dead-letter sink round trip, size cap, corrupt files. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "fh_dlq.h"
#include "fh_test.h"

struct seen {
	int n;
	char reason[2][FH_DLQ_REASON_LEN];
	uint64_t seq[2];
	uint32_t len[2];
	uint8_t first_byte[2];
};

static int collect(const struct fh_dlq_rec *r, const uint8_t *b, void *arg)
{
	struct seen *s = arg;
	if (s->n < 2) {
		memcpy(s->reason[s->n], r->reason, FH_DLQ_REASON_LEN);
		s->seq[s->n] = r->seq;
		s->len[s->n] = r->len;
		s->first_byte[s->n] = r->len ? b[0] : 0;
	}
	s->n++;
	return 0;
}

static void tmpname(char *buf, size_t len)
{
	snprintf(buf, len, "/tmp/fh-test-dlq-%d", (int)getpid());
}

static void test_round_trip(void)
{
	struct fh_dlq d;
	struct seen s = { 0 };
	char path[64];
	const uint8_t bytes[] = { 0xde, 0xad, 0xbe, 0xef };

	tmpname(path, sizeof(path));
	FH_CHECK_EQ_I(fh_dlq_open(&d, path, 0), 0);
	FH_CHECK_EQ_I(fh_dlq_write(&d, 3, "SESSION001", 77, 5, "bad_block_len", bytes, 4), 0);
	FH_CHECK_EQ_I(fh_dlq_write(&d, 3, NULL, 0, 0, "short_packet", bytes, 1), 0);
	FH_CHECK_EQ_U(d.records, 2);
	fh_dlq_close(&d);
	FH_CHECK_EQ_I(fh_dlq_read(path, collect, &s), 2);
	FH_CHECK_STR(s.reason[0], "bad_block_len");
	FH_CHECK_STR(s.reason[1], "short_packet");
	FH_CHECK_EQ_U(s.seq[0], 77);
	FH_CHECK_EQ_U(s.len[0], 4);
	FH_CHECK_EQ_U(s.first_byte[0], 0xde);
	unlink(path);
}

static void test_cap(void)
{
	struct fh_dlq d;
	char path[64];
	uint8_t big[100] = { 0 };

	tmpname(path, sizeof(path));
	/* magic (8) + one record (64 + 100) fits in 200; the second does not */
	FH_CHECK_EQ_I(fh_dlq_open(&d, path, 200), 0);
	FH_CHECK_EQ_I(fh_dlq_write(&d, 0, NULL, 1, 0, "x", big, sizeof(big)), 0);
	FH_CHECK_EQ_I(fh_dlq_write(&d, 0, NULL, 2, 0, "x", big, sizeof(big)), -ENOSPC);
	FH_CHECK_EQ_U(d.records, 1);
	FH_CHECK_EQ_U(d.dropped, 1);
	fh_dlq_close(&d);
	FH_CHECK_EQ_I(fh_dlq_read(path, NULL, NULL), 1);
	unlink(path);
}

static void test_count_only(void)
{
	struct fh_dlq d;

	FH_CHECK_EQ_I(fh_dlq_open(&d, NULL, 0), 0);
	FH_CHECK_EQ_I(fh_dlq_write(&d, 0, NULL, 1, 0, "x", "ab", 2), 0);
	FH_CHECK_EQ_U(d.records, 1);
	fh_dlq_close(&d);
}

static void test_corrupt(void)
{
	char path[64];
	FILE *f;

	tmpname(path, sizeof(path));
	f = fopen(path, "wb");
	fputs("not a dead letter file", f);
	fclose(f);
	FH_CHECK_EQ_I(fh_dlq_read(path, NULL, NULL), -EINVAL);

	/* a record cut short */
	struct fh_dlq d;
	FH_CHECK_EQ_I(fh_dlq_open(&d, path, 0), 0);
	FH_CHECK_EQ_I(fh_dlq_write(&d, 0, NULL, 1, 0, "x", "abcdef", 6), 0);
	fh_dlq_close(&d);
	FH_CHECK_EQ_I(truncate(path, 8 + 64 + 3), 0);
	FH_CHECK_EQ_I(fh_dlq_read(path, NULL, NULL), -EINVAL);
	FH_CHECK_EQ_I(fh_dlq_read("/nonexistent/dlq", NULL, NULL), -ENOENT);
	unlink(path);
}

static const struct fh_test_case cases[] = {
	FH_CASE(test_round_trip),
	FH_CASE(test_cap),
	FH_CASE(test_count_only),
	FH_CASE(test_corrupt),
	{ 0 },
};

int main(int argc, char **argv)
{
	return fh_test_main(argc, argv, cases);
}
