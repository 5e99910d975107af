/* SPDX-License-Identifier: MIT */
/* What `stallscope report` prints (report.c). */
#ifndef STALLSCOPE_REPORT_H
#define STALLSCOPE_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "analyze.h"

/* One line of JSON (keys as in DESIGN.md); partial: the file was cut short. */
void ss_report_json(FILE *f, const struct ss_analysis *a, bool partial);
/* The human summary of path (read by r): the run, each worker's states,
 * the delays by cause, then each stall of at least threshold explained. */
void ss_report_human(FILE *f, const char *path, const struct ss_trace_reader *r,
		     const struct ss_analysis *a, __u64 threshold);

#endif
