/* SPDX-License-Identifier: MIT */
/* bench/sched: the harness (sched.c) and the shapes it measures
 * (sched_shapes.c). */
#ifndef STALLSCOPE_BENCH_SCHED_H
#define STALLSCOPE_BENCH_SCHED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wsrt.h"

/* A one-shot latch: the last task sets it, block_on waits on it. */
struct latch {
	pthread_mutex_t lock;
	bool set;			/* under lock */
	struct wsrt_waker waker;	/* under lock */
};
void latch_init(struct latch *l);
void latch_destroy(struct latch *l);
/* Only between runs, when no task can touch it. */
void latch_reset(struct latch *l);

/* One benchmark's state, on its own runtime. */
struct bench {
	struct wsrt_runtime *rt;
	uint64_t n;		/* tasks / pairs / depth / messages */
	uint64_t m;		/* yields per task; channel capacity */
	_Atomic uint64_t rem;	/* tasks still to finish this run */
	struct latch done;
	void *arr;		/* per-benchmark task states */
	_Atomic uint64_t sink;	/* keeps short_handler's work alive */
};

struct bench_def {
	const char *name;
	const char *op;		/* what one operation is */
	uint64_t n, m;		/* full counts */
	uint64_t qn, qm;	/* --quick counts */
	void (*setup)(struct bench *b);	/* may be NULL */
	void (*run)(struct bench *b);
	/* operations per run */
	uint64_t (*ops)(const struct bench *b);
};

extern const struct bench_def sched_benches[];
extern const size_t sched_nbenches;

/* "sched: " and the message on stderr, exit 1. */
__attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...);

#endif
