/* SPDX-License-Identifier: MIT */
/* fh-fix: decode FIX market data files (counts, dump) and run an initiator session. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh_dlq.h"
#include "fh_event.h"
#include "fh_fix.h"

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	do {
		if (n == cap) {
			uint8_t *nb = realloc(buf, cap = cap ? cap * 2 : 65536);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	*len = n;
	return buf;
}

struct run {
	struct fh_fix_decoder *d;
	struct fh_event *ev;
	unsigned cap;
	uint64_t *types; /* [65536]: MsgType chars c0 << 8 | c1 */
	int dump;
	uint64_t msgs;
};

static void one(struct run *r, const uint8_t *m, size_t len)
{
	struct fh_fix_msg msg;
	int n = fh_fix_decode(r->d, m, len, 0, &msg, r->ev, r->cap);
	char line[256];

	r->msgs++;
	if (n < 0) {
		if (r->dump)
			printf("REJECT %s tag=%u\n", fh_fix_reject_name((unsigned)-n), msg.reject_tag);
		return;
	}
	r->types[(uint8_t)msg.type[0] << 8 | (uint8_t)msg.type[1]]++;
	if (r->dump) {
		printf("MSG %s seq=%" PRIu64 " events=%d\n", msg.type,
		       msg.seq_num ? msg.seq_num : msg.appl_seq, n);
		for (int i = 0; i < n; i++) {
			fh_event_format(&r->ev[i], line, sizeof(line));
			printf("  %s\n", line);
		}
	}
}

/* Raw SOH stream: framed with fh_fix_frame(). */
static void run_stream(struct run *r, const uint8_t *buf, size_t len)
{
	size_t off = 0, skip;

	while (off < len) {
		long n = fh_fix_frame(buf + off, len - off, r->d->cfg.max_msg_len, &skip);
		if (n > 0) {
			one(r, buf + off + skip, (size_t)n);
			off += skip + (size_t)n;
		} else if (n == 0) {
			off += skip;
			if (off < len) {
				fh_fix_reject_bytes(r->d, FH_FIX_REJ_TRUNCATED, buf + off, len - off, 0);
				if (r->dump)
					printf("REJECT truncated\n");
			}
			break;
		} else {
			fh_fix_reject_bytes(r->d, (int)-n, buf + off, skip, 0);
			if (r->dump)
				printf("REJECT %s\n", fh_fix_reject_name((unsigned)-n));
			off += skip;
		}
	}
}

/* One message per line, '|' for SOH; '#' lines are comments. */
static void run_lines(struct run *r, uint8_t *buf, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t j = i;
		while (j < len && buf[j] != '\n')
			j++;
		size_t e = j;
		while (e > i && (buf[e - 1] == '\r' || buf[e - 1] == ' '))
			e--;
		if (e > i && buf[i] != '#') {
			for (size_t k = i; k < e; k++)
				if (buf[k] == '|')
					buf[k] = FH_FIX_SOH;
			one(r, buf + i, e - i);
		}
		i = j + 1;
	}
}

static int usage(void)
{
	fprintf(stderr,
		"usage: fh-fix counts FILE [--dlq PATH] [--qty-decimals N]\n"
		"       fh-fix dump FILE [--dlq PATH] [--qty-decimals N]\n"
		"FILE: a raw SOH stream, or one message per line with '|' for SOH.\n"
		"counts prints 'TYPE COUNT' per accepted MsgType, then 'REJECT <reason> COUNT'.\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *path = NULL, *dlq_path = NULL;
	struct fh_fix_cfg cfg = { .auto_add = true, .qty_decimals = 8 };
	struct fh_dlq dlq;
	struct run r = { 0 };
	int rc = 1;

	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "counts") && strcmp(argv[1], "dump"))
		return usage();
	r.dump = !strcmp(argv[1], "dump");
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--dlq") && i + 1 < argc)
			dlq_path = argv[++i];
		else if (!strcmp(argv[i], "--qty-decimals") && i + 1 < argc)
			cfg.qty_decimals = (uint8_t)atoi(argv[++i]);
		else if (argv[i][0] == '-' || path)
			return usage();
		else
			path = argv[i];
	}
	if (!path)
		return usage();

	size_t len;
	uint8_t *buf = read_file(path, &len);
	if (!buf) {
		fprintf(stderr, "fh-fix: %s: %s\n", path, strerror(errno));
		return 1;
	}
	r.d = fh_fix_create(&cfg);
	if (!r.d) {
		fprintf(stderr, "fh-fix: bad decoder config\n");
		goto out_free_buf;
	}
	if (fh_dlq_open(&dlq, dlq_path, 0) < 0) {
		fprintf(stderr, "fh-fix: %s: cannot open\n", dlq_path);
		goto out_destroy;
	}
	fh_fix_set_dlq(r.d, &dlq);
	r.cap = fh_fix_max_events(r.d);
	r.ev = calloc(r.cap, sizeof(*r.ev));
	r.types = calloc(65536, sizeof(*r.types));
	if (!r.ev || !r.types)
		goto out_close;

	if (memchr(buf, FH_FIX_SOH, len))
		run_stream(&r, buf, len);
	else
		run_lines(&r, buf, len);

	if (!r.dump) {
		for (unsigned t = 0; t < 65536; t++) {
			if (!r.types[t])
				continue;
			char name[3] = { (char)(t >> 8), (char)(t & 0xff), 0 };
			printf("%s %" PRIu64 "\n", name, r.types[t]);
		}
		for (unsigned k = 1; k < FH_FIX_REJ__COUNT; k++)
			if (r.d->rejects[k])
				printf("REJECT %s %" PRIu64 "\n", fh_fix_reject_name(k), r.d->rejects[k]);
		if (r.d->stat_inexact)
			printf("INEXACT stat_value %" PRIu64 "\n", r.d->stat_inexact);
		if (r.d->rptseq_gaps)
			printf("RPTSEQ_GAP %" PRIu64 "\n", r.d->rptseq_gaps);
	}
	rc = 0;
out_close:
	free(r.ev);
	free(r.types);
	fh_dlq_close(&dlq);
out_destroy:
	fh_fix_destroy(r.d);
out_free_buf:
	free(buf);
	return rc;
}
