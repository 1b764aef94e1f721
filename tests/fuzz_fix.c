/* SPDX-License-Identifier: MIT */
/* fuzz_fix.c: libFuzzer target for FIX framing, decoding (stream and single message) and numbers. */
#include <stdlib.h>
#include <string.h>

#include "fh_dlq.h"
#include "fh_fix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fh_dlq dlq; /* count-only sink: exercises the reject paths */
static struct fh_fix_decoder *dec;
static struct fh_event ev[4 * 32 + 8];

static void check(int n, unsigned cap)
{
	char line[512];
	if (n > (int)cap)
		abort();
	for (int i = 0; i < n; i++) {
		if (ev[i].type == FH_EV_NONE || ev[i].type >= FH_EV__COUNT)
			abort();
		fh_event_format(&ev[i], line, sizeof(line));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fh_fix_msg m;
	size_t off = 0, skip;

	if (!dec) {
		struct fh_fix_cfg cfg = { .auto_add = true, .qty_decimals = 4,
					  .max_instruments = 16, .max_entries = 32,
					  .max_msg_len = 8192 };
		fh_dlq_open(&dlq, NULL, 0);
		dec = fh_fix_create(&cfg);
		if (!dec)
			abort();
		fh_fix_set_dlq(dec, &dlq);
	}
	unsigned cap = fh_fix_max_events(dec);
	if (cap > sizeof(ev) / sizeof(ev[0]))
		abort();

	/* The input as one message. */
	check(fh_fix_decode(dec, data, size, 1, &m, ev, cap), cap);

	/* The input as a stream: every framed message decoded in place. */
	while (off < size) {
		long n = fh_fix_frame(data + off, size - off, dec->cfg.max_msg_len, &skip);
		if (off + skip > size)
			abort();
		if (n > 0) {
			if (off + skip + (size_t)n > size)
				abort();
			check(fh_fix_decode(dec, data + off + skip, (size_t)n, 2, &m, ev, cap), cap);
			off += skip + (size_t)n;
		} else if (n == 0) {
			break;
		} else {
			if (skip == 0)
				abort(); /* a rejection must make progress */
			fh_fix_reject_bytes(dec, (int)-n, data + off, skip, 2);
			off += skip;
		}
	}

	/* Numbers. */
	int64_t v;
	fh_fix_parse_decimal((const char *)data, size < 64 ? size : 64, (unsigned)(size % 9), &v);
	uint64_t ns;
	fh_fix_parse_utc_ts((const char *)data, size < 32 ? size : 32, &ns);
	return 0;
}
