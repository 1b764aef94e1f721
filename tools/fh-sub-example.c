/* SPDX-License-Identifier: MIT */
/* fh-sub-example.c: the smallest trading-app reader of the shm ring, using only publish/fh_sub.h. */
/* self-contained outside this tree too (strict -std=c11 builds): clock_gettime, kill, usleep */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fh_sub.h"

/*
 * Prints the best bid/offer of every BBO event and stops when the writer
 * goes away. Build it outside this tree with:
 *   cc -Ipublish -Idecode app.c publish/fh_sub.c
 * Usage: fh-sub-example [NAME] [MAX_EVENTS]
 */
int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "fh";
	uint64_t max = argc > 2 ? strtoull(argv[2], NULL, 0) : 0, seen = 0, lost = 0;
	struct fh_sub_opts opts = { .start = FH_SUB_START_NEXT };
	struct fh_sub *s = fh_sub_open(name, &opts);
	struct fh_sub_msg m;

	if (!s) {
		perror(name);
		return 1;
	}
	for (;;) {
		int st = fh_sub_poll(s, &m);
		if (st == FH_SUB_EVENT) {
			seen++;
			if (m.ev.type == FH_EV_BBO)
				printf("instr %u bid %" PRIu64 " @ %" PRId64 " ask %" PRIu64 " @ %" PRId64 "\n",
				       m.ev.instrument, m.ev.u.bbo.bid_qty, m.ev.u.bbo.bid_px,
				       m.ev.u.bbo.ask_qty, m.ev.u.bbo.ask_px);
			if (max && seen >= max)
				break;
		} else if (st == FH_SUB_LAPPED) {
			lost += m.lost; /* too slow: the books must be rebuilt from a snapshot */
			fh_sub_request_snapshot(s, 0xffff, FH_INSTRUMENT_NONE);
		} else if (st == FH_SUB_WRITER_GONE || st < 0) {
			break;
		} else {
			usleep(10); /* a latency-critical app spins instead */
		}
	}
	fprintf(stderr, "events %" PRIu64 " lost %" PRIu64 "\n", seen, lost);
	fh_sub_close(s);
	return 0;
}
