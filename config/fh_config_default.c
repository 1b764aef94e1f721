/* SPDX-License-Identifier: MIT */
/* fh_config_default.c: config/default.yaml embedded in the binary (assembler .incbin). */
#include <stddef.h>

#include "fh_config.h"

/*
 * The path is relative to the directory make runs in (the repository root,
 * as every rule of the Makefile). The compiler does not track .incbin in its
 * dependency files: tests/test_config.c compares these bytes with
 * config/default.yaml and fails when this object is stale.
 */
__asm__(".section .rodata\n"
	".balign 16\n"
	".type fh_config_default_yaml_start, @object\n"
	"fh_config_default_yaml_start:\n"
	".incbin \"config/default.yaml\"\n"
	"fh_config_default_yaml_end:\n"
	".byte 0\n"
	".previous\n");

extern const char fh_config_default_yaml_start[] __attribute__((visibility("hidden")));
extern const char fh_config_default_yaml_end[] __attribute__((visibility("hidden")));

const char *fh_config_default_yaml(size_t *len)
{
	if (len)
		*len = (size_t)(fh_config_default_yaml_end - fh_config_default_yaml_start);
	return fh_config_default_yaml_start;
}
