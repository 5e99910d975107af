/* SPDX-License-Identifier: MIT */
/* What the fuzz targets share: a broken promise traps (libFuzzer reports
 * it with its input). */
#ifndef STALLSCOPE_FUZZ_H
#define STALLSCOPE_FUZZ_H

#include <string.h>

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond))                                                 \
			__builtin_trap();                                    \
	} while (0)

/* A fixed-size string field holds its terminating NUL. */
#define TERMINATED(field) (strnlen(field, sizeof(field)) < sizeof(field))

#endif
