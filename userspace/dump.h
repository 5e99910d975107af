/* SPDX-License-Identifier: MIT */
/* A trace file as text (dump.c). */
#ifndef STALLSCOPE_DUMP_H
#define STALLSCOPE_DUMP_H

#include <stdio.h>

#include "trace.h"

/* Prints r's header, every record, and its trailer if it has one (a file
 * cut short has none: ss_trace_partial says so); returns the reader's
 * error (< 0) after printing what came before it, or 0. */
int ss_dump(FILE *f, struct ss_trace_reader *r);

#endif
