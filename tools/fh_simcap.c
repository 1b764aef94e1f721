/* SPDX-License-Identifier: MIT */
/* fh_simcap.c: an fh-sim session as MoldUDP64 frames in memory, for benchmarks that replay it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fh_common.h"
#include "fh_pcap.h"
#include "fh_simcap.h"

uint32_t fh_simcap_mold_count(const uint8_t *f, uint32_t len)
{
	/* Ethernet (0x0800) + IPv4 (IHL) + UDP + MoldUDP64 header (count at 18) */
	if (len < 14 + 20 + 8 + 20 || f[12] != 0x08 || f[13] != 0x00)
		return 0;
	uint32_t off = 14 + (uint32_t)(f[14] & 0x0f) * 4 + 8 + 18;
	if (off + 2 > len)
		return 0;
	uint32_t n = fh_be16(f + off);
	return n == 0xffff ? 0 : n; /* 0xffff: end of session */
}

void fh_simcap_free(struct fh_simcap *c)
{
	for (uint64_t i = 0; c->f && i < c->n; i++)
		free(c->f[i].data);
	free(c->f);
	memset(c, 0, sizeof(*c));
}

int fh_simcap_load(struct fh_simcap *c, const char *build, unsigned seed, unsigned long messages,
		   unsigned symbols, char *err, size_t errlen)
{
	return fh_simcap_load_payload(c, build, seed, messages, symbols, 0, err, errlen);
}

int fh_simcap_load_payload(struct fh_simcap *c, const char *build, unsigned seed,
			   unsigned long messages, unsigned symbols, unsigned max_payload, char *err,
			   size_t errlen)
{
	char path[256], cmd[1024], mp[32] = "";
	struct fh_pcap pc;
	struct fh_pcap_rec rec;
	uint64_t cap = 1 << 16;
	int ret;

	memset(c, 0, sizeof(*c));
	snprintf(path, sizeof(path), "/tmp/fh-simcap-%d.pcap", (int)getpid());
	if (max_payload)
		snprintf(mp, sizeof(mp), " --max-payload %u", max_payload);
	snprintf(cmd, sizeof(cmd),
		 "%s/fh-sim --seed %u --messages %lu --symbols %u --bundle-us 0 --heartbeat-ms 0%s --pcap %s >/dev/null",
		 build, seed, messages, symbols, mp, path);
	if (system(cmd) != 0) {
		snprintf(err, errlen, "%s failed", cmd);
		return -EIO;
	}
	ret = fh_pcap_open(&pc, path, 0);
	if (ret < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		goto out_unlink;
	}
	c->f = malloc(cap * sizeof(*c->f));
	if (!c->f)
		goto out_nomem;
	while (fh_pcap_next(&pc, &rec) > 0) {
		if (c->n == cap) {
			struct fh_simcap_frame *nf = realloc(c->f, 2 * cap * sizeof(*c->f));
			if (!nf)
				goto out_nomem;
			c->f = nf;
			cap *= 2;
		}
		uint8_t *d = malloc(rec.caplen);
		if (!d)
			goto out_nomem;
		memcpy(d, rec.data, rec.caplen);
		c->f[c->n] = (struct fh_simcap_frame){ .data = d, .len = rec.caplen,
						       .msgs = fh_simcap_mold_count(d, rec.caplen),
						       .ts_ns = rec.ts_ns };
		c->msgs += c->f[c->n].msgs;
		c->n++;
	}
	fh_pcap_close(&pc);
	unlink(path);
	return 0;

out_nomem:
	snprintf(err, errlen, "out of memory loading %s", path);
	ret = -ENOMEM;
	fh_pcap_close(&pc);
	fh_simcap_free(c);
out_unlink:
	unlink(path);
	return ret;
}
