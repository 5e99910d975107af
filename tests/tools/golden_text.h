/* SPDX-License-Identifier: MIT */
/* The golden event-stream text (mktrace.c has its grammar), read. */
#ifndef STALLSCOPE_GOLDEN_TEXT_H
#define STALLSCOPE_GOLDEN_TEXT_H

#include <stdio.h>

#include "trace.h"

struct mk_input {
	struct ss_trace_meta meta;
	struct ss_record *recs;
	size_t nrecs, cap;
	__u64 start_ns, end_ns, lost, lost_sum;
	int have_start, have_end, have_lost;
	__u32 stop;
	__s32 status;
	int have_status;
	int dump;	/* the text is `stallscope dump`'s (its first line says so) */
};

/* Reads f (called name in messages) to its end: the header, the records
 * in the order given, the trailer (start, end and lost defaulted as the
 * grammar says).  Strict: on anything it does not understand, prints
 * "NAME:LINE: why" and exits 2. */
void mk_read(FILE *f, const char *name, struct mk_input *in);
void mk_input_free(struct mk_input *in);

#endif
