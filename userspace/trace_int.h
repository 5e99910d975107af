/* SPDX-License-Identifier: MIT */
/* What the trace file's reader and writer share (trace.h is the format). */
#ifndef STALLSCOPE_TRACE_INT_H
#define STALLSCOPE_TRACE_INT_H

#include "trace.h"

#define RECORD_BYTES sizeof(struct ss_record)
#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

#endif
