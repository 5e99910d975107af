/* SPDX-License-Identifier: MIT */
/* What the trace file's reader and writer share (trace.h is the format). */
#ifndef STALLSCOPE_TRACE_INT_H
#define STALLSCOPE_TRACE_INT_H

#include "trace.h"

#define RECORD_BYTES sizeof(struct ss_record)
#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

/* The events' span: what the writer puts in the trailer and the reader
 * checks it against. */
struct span {
	__u64 first, last;
	bool any;
};

static inline void span_add(struct span *s, __u64 ts)
{
	if (!s->any || ts < s->first)
		s->first = ts;
	if (!s->any || ts > s->last)
		s->last = ts;
	s->any = true;
}

#endif
