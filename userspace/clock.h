/* SPDX-License-Identifier: MIT */
/* The clocks in ns: CLOCK_MONOTONIC (every timestamp of a trace) and
 * CLOCK_REALTIME (only to say when a recording started). */
#ifndef STALLSCOPE_CLOCK_H
#define STALLSCOPE_CLOCK_H

#include <time.h>
#include <linux/types.h>

static inline __u64 ss_clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static inline __u64 ss_mono_ns(void)
{
	return ss_clock_ns(CLOCK_MONOTONIC);
}

static inline __u64 ss_real_ns(void)
{
	return ss_clock_ns(CLOCK_REALTIME);
}

#endif
