/* SPDX-License-Identifier: MIT */
/* fh_config_pvt.h: units and value formatting shared by the loader and the dump (config/ only). */
#ifndef FH_CONFIG_PVT_H
#define FH_CONFIG_PVT_H

#include <stddef.h>
#include <stdint.h>

#define KiB UINT64_C(1024)
#define MiB (UINT64_C(1024) * KiB)
#define GiB (UINT64_C(1024) * MiB)
#define TiB (UINT64_C(1024) * GiB)
#define NS_US UINT64_C(1000)
#define NS_MS UINT64_C(1000000)
#define NS_S UINT64_C(1000000000)
#define NS_M (UINT64_C(60) * NS_S)
#define NS_H (UINT64_C(60) * NS_M)

/* Durations (ns) and sizes (bytes) in the largest exact unit ("5m", "64MiB"),
 * in the syntax the loader reads back. Return buf. */
const char *fh_config_pvt_fmt_dur(uint64_t ns, char *buf, size_t len);
const char *fh_config_pvt_fmt_size(uint64_t bytes, char *buf, size_t len);

#endif /* FH_CONFIG_PVT_H */
