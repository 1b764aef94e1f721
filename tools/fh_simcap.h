/* SPDX-License-Identifier: MIT */
/* fh_simcap.h: an fh-sim session as MoldUDP64 frames in memory, for benchmarks that replay it. */
#ifndef FH_SIMCAP_H
#define FH_SIMCAP_H

/*
 * fh_simcap_load() runs `<build>/fh-sim --seed S --messages N --symbols K
 * --bundle-us 0 --heartbeat-ms 0` (filled packets, no heartbeats) into
 * a temporary pcap, reads every frame into memory with its capture time and
 * MoldUDP64 message count, and removes the file. Cold path: allocates.
 */

#include <stddef.h>
#include <stdint.h>

struct fh_simcap_frame {
	uint8_t *data;
	uint32_t len;
	uint32_t msgs;  /* MoldUDP64 message count (0: not a MoldUDP64 data packet) */
	uint64_t ts_ns; /* capture time, ns since the Unix epoch */
};

struct fh_simcap {
	struct fh_simcap_frame *f;
	uint64_t n;
	uint64_t msgs; /* sum of f[].msgs */
};

/* Returns 0 or -errno with a message in err. */
int fh_simcap_load(struct fh_simcap *c, const char *build, unsigned seed, unsigned long messages,
		   unsigned symbols, char *err, size_t errlen);

/* The same with fh-sim --max-payload (UDP payload cap in bytes), 0: fh-sim's default (1400). */
int fh_simcap_load_payload(struct fh_simcap *c, const char *build, unsigned seed,
			   unsigned long messages, unsigned symbols, unsigned max_payload, char *err,
			   size_t errlen);
void fh_simcap_free(struct fh_simcap *c);

/* MoldUDP64 message count of an Ethernet/IPv4/UDP frame, 0 when it is not one. */
uint32_t fh_simcap_mold_count(const uint8_t *f, uint32_t len);

#endif /* FH_SIMCAP_H */
