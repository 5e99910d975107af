/* SPDX-License-Identifier: MIT */
/*
 * The analyzer (analyze_int.h): records back in time order.  The ring
 * buffer delivers per-CPU streams interleaved, and ring events arrive in
 * drained chunks, each a thread's events in order: the core holds up to
 * REORDER_CAP records here and applies the oldest.
 *
 * What arrives is a few sorted runs interleaved, so it is kept as runs: a
 * record extends the open run (of the SS_REORDER_OPEN extended last)
 * whose last record is the latest not after it, or starts a new one; a
 * min-heap orders the runs by their first record (its time and arrival
 * number copied into the heap's entries, so ordering reads no record).  Taking the oldest is then, most of the time, a step along a
 * run and two comparisons at the heap's top — where a heap of records
 * paid a descent through some twenty levels per record (watch under HTTP
 * load spent most of its time there).  Records of equal time come out in
 * the order they went in.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_int.h"

#define NONE UINT32_MAX	/* no next slot */

int an_heap_init(struct heap *h, size_t cap)
{
	memset(h, 0, sizeof(*h));
	h->rec = malloc(cap * sizeof(*h->rec));
	h->seq = malloc(cap * sizeof(*h->seq));
	h->next = malloc(cap * sizeof(*h->next));
	h->free = malloc(cap * sizeof(*h->free));
	h->head = malloc(cap * sizeof(*h->head));
	h->tail = malloc(cap * sizeof(*h->tail));
	h->keys = malloc(cap * sizeof(*h->keys));
	h->free_runs = malloc(cap * sizeof(*h->free_runs));
	if (!h->rec || !h->seq || !h->next || !h->free || !h->head || !h->tail || !h->keys ||
	    !h->free_runs) {
		an_heap_free(h);
		return -ENOMEM;
	}
	h->cap = cap;
	for (size_t i = 0; i < cap; i++)
		h->free[i] = h->free_runs[i] = (__u32)(cap - 1 - i);
	h->nfree = h->nfree_runs = cap;
	return 0;
}

void an_heap_free(struct heap *h)
{
	free(h->rec);
	free(h->seq);
	free(h->next);
	free(h->free);
	free(h->head);
	free(h->tail);
	free(h->keys);
	free(h->free_runs);
	memset(h, 0, sizeof(*h));
}

/* Heap entry a comes before b: by time, then by arrival. */
static inline bool before(const struct heap_key *a, const struct heap_key *b)
{
	return a->ts < b->ts || (a->ts == b->ts && a->seq < b->seq);
}

/* The key of run's first record. */
static inline struct heap_key key_of(const struct heap *h, __u32 run)
{
	__u32 slot = h->head[run];

	return (struct heap_key){ .ts = h->rec[slot].ts, .seq = h->seq[slot], .run = run };
}

static void sift_up(struct heap *h, size_t i)
{
	struct heap_key k = h->keys[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(&k, &h->keys[p]))
			break;
		h->keys[i] = h->keys[p];
		i = p;
	}
	h->keys[i] = k;
}

static void sift_down(struct heap *h, size_t i)
{
	struct heap_key k = h->keys[i];

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->nruns)
			break;
		if (c + 1 < h->nruns && before(&h->keys[c + 1], &h->keys[c]))
			c++;
		if (!before(&h->keys[c], &k))
			break;
		h->keys[i] = h->keys[c];
		i = c;
	}
	h->keys[i] = k;
}

/* The caller keeps n < cap. */
void an_heap_push(struct heap *h, const struct ss_record *r)
{
	__u32 slot = h->free[--h->nfree];

	h->rec[slot] = *r;
	h->seq[slot] = h->nseq++;
	h->next[slot] = NONE;
	h->n++;
	/* It extends the open run whose last record is the latest not after
	 * it (the streams' runs stay apart): that run's first record, and so
	 * its place in the heap, stay. */
	unsigned best = SS_REORDER_OPEN;
	for (unsigned i = 0; i < h->nopen; i++) {
		__u64 t = h->rec[h->tail[h->open[i]]].ts;

		if (t <= r->ts && (best == SS_REORDER_OPEN ||
				   t > h->rec[h->tail[h->open[best]]].ts))
			best = i;
	}
	if (best != SS_REORDER_OPEN) {
		__u32 run = h->open[best];

		h->next[h->tail[run]] = slot;
		h->tail[run] = slot;
		memmove(h->open + 1, h->open, best * sizeof(*h->open));
		h->open[0] = run;	/* most recently extended first */
		return;
	}
	__u32 run = h->free_runs[--h->nfree_runs];

	h->head[run] = h->tail[run] = slot;
	h->keys[h->nruns++] = key_of(h, run);
	sift_up(h, h->nruns - 1);
	if (h->nopen < SS_REORDER_OPEN)
		h->nopen++;
	memmove(h->open + 1, h->open, (h->nopen - 1) * sizeof(*h->open));
	h->open[0] = run;	/* the least recently extended one closes */
}

__u64 an_heap_min_ts(const struct heap *h)
{
	return h->keys[0].ts;
}

struct ss_record an_heap_pop(struct heap *h)
{
	__u32 run = h->keys[0].run, slot = h->head[run];

	h->free[h->nfree++] = slot;
	h->n--;
	if (slot == h->tail[run]) {	/* the run is done */
		h->free_runs[h->nfree_runs++] = run;
		for (unsigned i = 0; i < h->nopen; i++) {
			if (h->open[i] == run) {
				memmove(h->open + i, h->open + i + 1,
					(--h->nopen - i) * sizeof(*h->open));
				break;
			}
		}
		h->keys[0] = h->keys[--h->nruns];
	} else {
		h->head[run] = h->next[slot];
		h->keys[0] = key_of(h, run);	/* a later first record */
	}
	if (h->nruns)
		sift_down(h, 0);
	return h->rec[slot];
}
