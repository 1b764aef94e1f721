/* SPDX-License-Identifier: MIT */
/* fuzz_soup.c: libFuzzer target for the SoupBinTCP frame parser and the GLIMPSE snapshot client's state machine. */
#include <stdlib.h>
#include <string.h>

#include "fh_dlq.h"
#include "fh_soup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fh_dlq dlq; /* count-only sink: exercises the reject paths */
static struct fh_soup *client;

struct seen {
	uint64_t msgs, bytes;
};

static void on_msg(void *arg, const uint8_t *msg, size_t len)
{
	struct seen *s = arg;
	/* The callback gets a message inside the input, never 'G', never empty. */
	if (len == 0 || msg[0] == FH_SOUP_GLIMPSE_END)
		abort();
	s->msgs++;
	s->bytes += len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!client) {
		struct fh_soup_cfg cfg;
		char err[128];
		fh_dlq_open(&dlq, NULL, 0);
		fh_soup_cfg_default(&cfg);
		cfg.max_frame = 256;
		cfg.dlq = &dlq;
		client = fh_soup_create(&cfg, err, sizeof(err));
		if (!client)
			abort();
	}

	/* 1. The pure parser over the input, frame by frame: lengths always within the input. */
	size_t off = 0;
	while (off < size) {
		struct fh_soup_frame f;
		long r = fh_soup_frame_parse(data + off, size - off, FH_SOUP_MAX_FRAME, &f);
		if (r <= 0)
			break;
		if ((size_t)r > size - off || f.payload + f.payload_len != data + off + r)
			abort();
		off += (size_t)r;
	}
	uint64_t v;
	if (size >= FH_SOUP_SEQ_LEN && fh_soup_parse_num(data, FH_SOUP_SEQ_LEN, &v) == 0) {
		uint8_t back[FH_SOUP_SEQ_LEN];
		uint64_t w;
		if (fh_soup_put_num(back, sizeof(back), v) != 0 ||
		    fh_soup_parse_num(back, sizeof(back), &w) != 0 || w != v)
			abort();
	}

	/* 2. The client's state machine fed the input in two pieces (a split inside a frame). */
	struct seen s = { 0 };
	struct fh_soup_stats st0, st1;
	fh_soup_restart(client);
	fh_soup_stats(client, &st0);
	size_t cut = size ? data[0] % (size + 1) : 0;
	fh_soup_input(client, data, cut, 1000, on_msg, &s);
	fh_soup_input(client, data + cut, size - cut, 2000, on_msg, &s);
	fh_soup_stats(client, &st1);
	if (st1.seq_msgs - st0.seq_msgs != s.msgs || s.bytes > size)
		abort();
	enum fh_soup_state state = fh_soup_state(client);
	if (state != FH_SOUP_DONE && fh_soup_next_seq(client) != 0)
		abort();
	if (state == FH_SOUP_DONE &&
	    (fh_soup_next_seq(client) != st1.g_seq || st1.snapshots != st0.snapshots + 1))
		abort();
	if (state == FH_SOUP_FAILED && fh_soup_fail(client) == FH_SOUP_FAIL_NONE)
		abort();
	return 0;
}
