/* SPDX-License-Identifier: MIT */
/*
 * The analyzer (analyze_int.h): records back in time order.  The ring
 * buffer delivers per-CPU streams interleaved, and ring events arrive in
 * drained chunks: the core holds up to REORDER_CAP records in this heap
 * and applies the oldest.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_int.h"

/* ---- the reorder heap --------------------------------------------------------------------- */

int an_heap_init(struct heap *h, size_t cap)
{
	memset(h, 0, sizeof(*h));
	h->v = malloc(cap * sizeof(*h->v));
	h->rec = malloc(cap * sizeof(*h->rec));
	h->free = malloc(cap * sizeof(*h->free));
	if (!h->v || !h->rec || !h->free) {
		an_heap_free(h);
		return -ENOMEM;
	}
	h->cap = cap;
	for (size_t i = 0; i < cap; i++)
		h->free[i] = (__u32)i;
	return 0;
}

void an_heap_free(struct heap *h)
{
	free(h->v);
	free(h->rec);
	free(h->free);
	memset(h, 0, sizeof(*h));
}

/* The caller keeps n < cap. */
void an_heap_push(struct heap *h, const struct ss_record *r)
{
	__u32 slot = h->free[h->cap - h->n - 1];
	size_t i = h->n++;

	h->rec[slot] = *r;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (r->ts >= h->v[p].ts)
			break;
		h->v[i] = h->v[p];
		i = p;
	}
	h->v[i] = (struct heap_entry){ .ts = r->ts, .slot = slot };
}

struct ss_record an_heap_pop(struct heap *h)
{
	struct heap_entry top = h->v[0], last = h->v[--h->n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1].ts < h->v[c].ts)
			c++;
		if (h->v[c].ts >= last.ts)
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
	h->free[h->cap - h->n - 1] = top.slot;
	return h->rec[top.slot];
}
