/* SPDX-License-Identifier: MIT */
/* fh_json.h: one normalized event as one JSON object (Kafka JSON values, fh-sub --json). */
#ifndef FH_JSON_H
#define FH_JSON_H

/*
 * Field names and units are in docs/EVENTS.md ("JSON encoding"). Prices are
 * JSON numbers with exactly 8 decimals (FH_PRICE_SCALE, no float rounding on
 * the way out), null for FH_PRICE_NONE; times are integer nanoseconds;
 * fixed-width text fields are trimmed of NULs and escaped. Cold enough for
 * Kafka rates (no allocation), thread-safe (no state).
 */

#include <stddef.h>

#include "fh_event.h"

/* Encodes ev (symbol may be NULL or "") into buf without a newline.
 * Returns the length, or -ENOSPC when buf is too small (FH_JSON_MAX bytes always
 * suffice: FH_JSON_MAX). */
#define FH_JSON_MAX 1024
int fh_json_encode(const struct fh_event *ev, const char *symbol, char *buf, size_t len);

#endif /* FH_JSON_H */
