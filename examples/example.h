/* SPDX-License-Identifier: MIT */
/*
 * What the example programs share: blocking a worker the way a CPU-bound
 * or blocking handler does, and the runtime config (defaults < WSRT_*
 * environment < command line).  Their options are tables (common/opts.h).
 * Header-only: each example stays one program to read.
 */
#ifndef EXAMPLE_H
#define EXAMPLE_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wsrt.h"

/* Blocks the calling thread (a worker, when called from a task) for ms:
 * spinning (CPU-bound work) or sleeping (a blocking call). */
static inline void example_block_worker(unsigned ms, bool busy)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	uint64_t end = wsrt_now_ns() + (uint64_t)ms * 1000000ULL;

	if (ms == 0)
		return;
	if (busy) {
		while (wsrt_now_ns() < end)
			;
		return;
	}
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* The defaults with `workers` workers, then the WSRT_* environment, then
 * the command line's --workers (cli_workers, 0 if not given).  false after
 * one error line naming the bad variable. */
static inline bool example_config(const char *prog, unsigned workers,
				  unsigned cli_workers, struct wsrt_config *cfg)
{
	const char *bad = NULL;

	wsrt_config_default(cfg);
	cfg->workers = workers;
	if (wsrt_config_from_env(cfg, &bad)) {
		fprintf(stderr, "%s: %s: must be %s\n", prog, bad,
			strcmp(bad, "WSRT_WORKERS") ? "0 or 1"
						    : "a number in 1..1024");
		return false;
	}
	if (cli_workers)
		cfg->workers = cli_workers;
	return true;
}

#endif
