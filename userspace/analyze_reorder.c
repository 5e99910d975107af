/* SPDX-License-Identifier: MIT */
/*
 * The analyzer (analyze_int.h): records back in time order.  The ring
 * buffer delivers per-CPU streams interleaved, and ring events arrive in
 * drained chunks: the core holds up to REORDER_CAP records in this heap
 * and applies the oldest.
 */
#include "analyze_int.h"

/* ---- the reorder heap --------------------------------------------------------------------- */

static bool before(const struct ss_record *a, const struct ss_record *b)
{
	return a->ts < b->ts;
}

void an_heap_push(struct heap *h, const struct ss_record *r)
{
	size_t i = h->n++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(r, &h->v[p]))
			break;
		h->v[i] = h->v[p];
		i = p;
	}
	h->v[i] = *r;
}

struct ss_record an_heap_pop(struct heap *h)
{
	struct ss_record top = h->v[0], last = h->v[--h->n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && before(&h->v[c + 1], &h->v[c]))
			c++;
		if (!before(&h->v[c], &last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
	return top;
}

