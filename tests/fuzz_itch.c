/* SPDX-License-Identifier: MIT */
/* fuzz_itch.c: libFuzzer target for frames, MoldUDP64 sequencing, day files, pcaps and ITCH decoding. */
#include <stdlib.h>
#include <string.h>

#include "fh_dlq.h"
#include "fh_itch.h"
#include "fh_itch_file.h"
#include "fh_mold.h"
#include "fh_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fh_dlq dlq; /* count-only sink: exercises the reject paths */
static int dlq_ready;

static int on_msg(void *arg, const uint8_t *msg, size_t len, uint64_t seq,
		  const char session[FH_MOLD_SESSION_LEN], uint64_t recv_ts_ns)
{
	char line[1024];
	(void)arg;
	(void)session;
	(void)recv_ts_ns;
	fh_itch_format(msg, len, seq, line, sizeof(line));
	return 0;
}

static int on_events(void *arg, const struct fh_event *ev, unsigned n)
{
	char line[512];
	(void)arg;
	if (n > FH_ITCH_MAX_EVENTS)
		abort();
	for (unsigned i = 0; i < n; i++)
		fh_event_format(&ev[i], line, sizeof(line));
	return 0;
}

static int on_status(void *arg, const struct fh_event *ev)
{
	(void)arg;
	if (ev->type != FH_EV_FEED_STATUS)
		abort();
	return 0;
}

/* Each slice in its own exact-size allocation, so ASan sees any read past it. */
static uint8_t *dup_slice(const uint8_t *p, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);
	if (b && n)
		memcpy(b, p, n);
	return b;
}

/* A stream of datagrams, each: line byte, 2-byte length, bytes; through one Mold session. */
static void fuzz_mold(const uint8_t *d, size_t n)
{
	struct fh_mold m;
	struct fh_itch_decoder dec;
	struct fh_event ev[FH_ITCH_MAX_EVENTS];
	struct fh_mold_rx rx;

	fh_mold_init(&m, 1, &dlq);
	fh_itch_decoder_init(&dec, 1, 0, &dlq);
	while (n >= 3) {
		unsigned line = d[0];
		size_t l = fh_be16(d + 1);
		d += 3;
		n -= 3;
		if (l > n)
			l = n;
		uint8_t *p = dup_slice(d, l);
		if (!p)
			return;
		if (fh_mold_rx(&m, line, p, l, 0, &rx) == 0) {
			if (rx.n && (rx.next < p + FH_MOLD_HDR_LEN || rx.next > p + l))
				abort();
			const uint8_t *cur = rx.next;
			for (unsigned i = 0; i < rx.n; i++) {
				size_t ml;
				const uint8_t *msg = fh_mold_next_msg(&cur, &ml);
				if (msg + ml > p + l)
					abort();
				fh_itch_decode(&dec, msg, ml, rx.first_seq + i, 0, ev);
			}
			if (m.expected < rx.first_seq + rx.n && rx.first_seq != 0)
				abort();
		}
		free(p);
		d += l;
		n -= l;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fh_itch_file_ops ops = { on_msg, on_events, on_status, NULL };
	static struct fh_itch_file_stats st;
	struct fh_pkt_udp u;

	if (!dlq_ready) {
		fh_dlq_open(&dlq, NULL, 0);
		dlq_ready = 1;
	}
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	uint8_t *b = dup_slice(data + 1, size - 1);
	size_t n = size - 1;
	if (!b)
		return 0;
	struct fh_itch_file_cfg cfg = { .dlq = &dlq };
	switch (mode % 5) {
	case 0: /* day file */
		cfg.format = FH_ITCH_FILE_DAY;
		fh_itch_file_replay_mem(b, n, &cfg, &ops, NULL, &st);
		break;
	case 1: /* pcap (the input after the mode byte, or auto-detected) */
		fh_itch_file_replay_mem(b, n, &cfg, &ops, NULL, &st);
		break;
	case 2:
		fuzz_mold(b, n);
		break;
	case 3: { /* one frame of each link type */
		static const unsigned links[] = { FH_PKT_LINK_ETHERNET, FH_PKT_LINK_RAW,
						  FH_PKT_LINK_LINUX_SLL };
		for (size_t i = 0; i < 3; i++)
			if (fh_pkt_parse(links[i], b, n, NULL, &u) == FH_PKT_OK &&
			    (u.payload < b || u.payload + u.len > b + n))
				abort();
		break;
	}
	default: { /* one ITCH message */
		struct fh_itch_decoder dec;
		struct fh_event ev[FH_ITCH_MAX_EVENTS];
		char line[1024];
		fh_itch_decoder_init(&dec, 0, 0, &dlq);
		int r = fh_itch_decode(&dec, b, n, 1, 0, ev);
		if (r > FH_ITCH_MAX_EVENTS || (r >= 0 && n != fh_itch_msg_len(b[0])))
			abort();
		fh_itch_format(b, n, 1, line, sizeof(line));
		break;
	}
	}
	free(b);
	return 0;
}
