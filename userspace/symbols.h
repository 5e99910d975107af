/* SPDX-License-Identifier: MIT */
/* Naming task poll functions from the trace header's mappings (symbols.c). */
#ifndef STALLSCOPE_SYMBOLS_H
#define STALLSCOPE_SYMBOLS_H

#include <stddef.h>

#include "trace.h"

struct ss_symbols;

/* NULL when nothing can be symbolized (no mappings, no libdw). */
struct ss_symbols *ss_symbols_new(const struct ss_trace_meta *m);
/* The function containing addr, into buf; 0 or -ENOENT (buf empty). */
int ss_symbols_name(struct ss_symbols *s, __u64 addr, char *buf, size_t len);
void ss_symbols_free(struct ss_symbols *s);

#endif
