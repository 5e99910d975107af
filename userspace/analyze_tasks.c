/* SPDX-License-Identifier: MIT */
/*
 * The analyzer (analyze_int.h): the tasks it has seen, by id (a hash
 * table; memory O(live tasks)), and the snapshot of the integrals a task
 * takes when it starts to wait, whose differences at the wait's end say
 * how long each condition held during it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_int.h"

/* ---- tasks ----------------------------------------------------------------------------- */

static size_t hslot(struct an *an, __u64 id)
{
	return (size_t)((id * 0x9E3779B97F4A7C15ULL) >> 20) & (an->htcap - 1);
}

struct task *an_task_get(struct an *an, __u64 id, bool create)
{
	if (!an->htcap) {
		an->htcap = 1024;
		an->ht = calloc(an->htcap, sizeof(*an->ht));
		if (!an->ht) {
			an->err = -ENOMEM;
			an->htcap = 0;
			return NULL;
		}
	}
	for (struct task *t = an->ht[hslot(an, id)]; t; t = t->next)
		if (t->id == id)
			return t;
	if (!create)
		return NULL;
	if (an->ntasks >= an->htcap) {	/* grow: rehash */
		size_t ncap = an->htcap * 2;
		struct task **nt = calloc(ncap, sizeof(*nt));
		if (!nt) {
			an->err = -ENOMEM;
			return NULL;
		}
		size_t ocap = an->htcap;
		struct task **ot = an->ht;
		an->ht = nt;
		an->htcap = ncap;
		for (size_t i = 0; i < ocap; i++)
			for (struct task *t = ot[i], *n; t; t = n) {
				n = t->next;
				size_t s = hslot(an, t->id);
				t->next = an->ht[s];
				an->ht[s] = t;
			}
		free(ot);
	}
	struct task *t = calloc(1, sizeof(*t));
	if (!t) {
		an->err = -ENOMEM;
		return NULL;
	}
	t->id = id;
	t->owner = -1;
	size_t s = hslot(an, id);
	t->next = an->ht[s];
	an->ht[s] = t;
	an->ntasks++;
	return t;
}

void an_task_free(struct an *an, __u64 id)
{
	if (!an->htcap)		/* no task seen yet (a trace begun mid-poll) */
		return;
	struct task **pp = &an->ht[hslot(an, id)];
	for (; *pp; pp = &(*pp)->next) {
		if ((*pp)->id == id) {
			struct task *t = *pp;
			*pp = t->next;
			if (t->queued)
				an->nqueued--;
			free(t->snap);
			free(t);
			an->ntasks--;
			return;
		}
	}
}

void an_snapshot(struct an *an, struct task *t)
{
	unsigned n = an->nw;
	__u64 *s = realloc(t->snap, (n * IW_N + IG_N) * sizeof(*s));

	if (!s) {
		an->err = -ENOMEM;
		return;
	}
	for (unsigned i = 0; i < n; i++)
		memcpy(&s[i * IW_N], an->w[i].cum, sizeof(an->w[i].cum));
	memcpy(&s[n * IW_N], an->cum, sizeof(an->cum));
	t->snap = s;
	t->snap_n = n;
}

/* How long a per-worker integral grew since the task's snapshot. */
__u64 an_since_w(struct an *an, struct task *t, struct worker *w, int k)
{
	unsigned pos = (unsigned)(w - an->w);
	if (!t->snap || pos >= t->snap_n)
		return 0;
	return w->cum[k] - t->snap[pos * IW_N + k];
}

__u64 an_since_g(struct an *an, struct task *t, int k)
{
	if (!t->snap)
		return 0;
	return an->cum[k] - t->snap[t->snap_n * IW_N + k];
}

