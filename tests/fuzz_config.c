/* SPDX-License-Identifier: MIT */
/* fuzz_config.c: libFuzzer target over fh_config_load_string (YAML, units, checks, dump). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fh_config *cfg;
	char err[512];
	int rc;

	if (!cfg)
		cfg = malloc(sizeof(*cfg));
	if (!cfg)
		return 0;
	/* Host checks read files and sysconf: deterministic without them. */
	rc = fh_config_load_string((const char *)data, size, "fuzz.yaml", FH_CONFIG_F_NO_HOST_CHECKS,
				   cfg, err, sizeof(err));
	if (rc != 0 && rc != -EINVAL)
		abort();
	/* A message always, and only on failure; NUL-terminated within err. */
	if ((rc == 0) != (err[0] == '\0') || !memchr(err, '\0', sizeof(err)))
		abort();
	if (rc == 0) {
		/* A valid config dumps to a config that loads again. */
		char *buf = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);
		if (!m)
			return 0;
		fh_config_dump(cfg, m);
		fclose(m);
		rc = fh_config_load_string(buf, len, "dump.yaml", FH_CONFIG_F_NO_HOST_CHECKS, cfg,
					   err, sizeof(err));
		free(buf);
		/* ${VAR} in the input was expanded; a $ in a value can make the dump differ. */
		if (rc != 0 && !strstr(err, "${") && !strstr(err, "environment variable"))
			abort();
	}
	return 0;
}
