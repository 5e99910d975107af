// SPDX-License-Identifier: MIT
/*
 * The flight recorder's window (window.h).
 *
 * The encoding, per record, against the state of its chunk (each chunk
 * decodes alone: the state starts at zero with it):
 *
 *   type       1 byte (255: a varint follows, for a type past 254)
 *   mask       1 byte: bit 0 tid differs from the previous record's,
 *              bit 1 cpu differs, bit 2 flags is not 0, bits 3..7
 *              args[0..4] differ from the previous record of the same
 *              type's
 *   ts         zigzag varint, ts minus the previous record's ts
 *   tid, cpu, flags   varints, when the mask says
 *   args[i]    zigzag varint of args[i] minus the previous value of the
 *              same type and index, when the mask says
 *
 * Timestamps go up by microseconds, a thread's records follow each
 * other, and a type's arguments (workers, tasks from one allocator,
 * sockets) repeat or move a little: an event takes 12-20 bytes where a
 * record takes 64, and nothing is lost (tests/unit/test_window.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "varint.h"
#include "window.h"

/* The longest encoding: type 1 + 5, mask 1, ts 10, tid 5, cpu 5,
 * flags 5, five args 50. */
#define ENC_MAX 82
#define NTYPES 255

struct chunk {
	__u64 min_ts, max_ts;
	__u32 used, n;
	unsigned char data[];
};
#define CHUNK_DATA (SS_WINDOW_CHUNK - sizeof(struct chunk))

struct codec {
	__u64 ts;
	__u32 tid, cpu;
	__u64 args[NTYPES][SS_RECORD_ARGS];
};

struct ss_window {
	__u64 keep_ns;
	unsigned max_chunks;
	struct chunk **ring;		/* oldest at head */
	unsigned head, n;
	struct chunk *spare;
	struct codec enc;		/* the newest chunk's */
	__u64 complete_from, dropped;
	struct ss_record ctx[SS_WINDOW_CONTEXT];
	unsigned nctx;
};

bool ss_record_is_context(const struct ss_record *r)
{
	switch (r->type) {
	case SS_WSRT_WORKER_START:
	case SS_SHIM_START:
	case SS_SHIM_THREAD_NAME:
	case SS_COMM:
	case SS_THREAD_AT_ATTACH:
	case SS_TOKIO_RUNTIME:
		return true;
	default:
		return false;
	}
}

struct ss_window *ss_window_new(__u64 keep_ns, size_t max_bytes)
{
	struct ss_window *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->keep_ns = keep_ns ? keep_ns : 1;
	w->max_chunks = max_bytes / SS_WINDOW_CHUNK;
	if (w->max_chunks < 2)
		w->max_chunks = 2;
	w->ring = calloc(w->max_chunks, sizeof(*w->ring));
	if (!w->ring) {
		free(w);
		return NULL;
	}
	return w;
}

void ss_window_free(struct ss_window *w)
{
	if (!w)
		return;
	for (unsigned i = 0; i < w->n; i++)
		free(w->ring[(w->head + i) % w->max_chunks]);
	free(w->spare);
	free(w->ring);
	free(w);
}

/* ---- the encoding --------------------------------------------------------------------- */

/* Its own bytes, never cut short. */
static const unsigned char *get_varint(const unsigned char *p, __u64 *v)
{
	return ss_get_varint(p, p + SS_VARINT_MAX, v);
}

static unsigned encode(struct codec *c, const struct ss_record *r, unsigned char *out)
{
	unsigned char *p = out, *mask;
	__u64 *last = r->type < NTYPES ? c->args[r->type] : NULL;
	__u64 zero[SS_RECORD_ARGS] = { 0 };

	if (r->type < NTYPES) {
		*p++ = (unsigned char)r->type;
	} else {
		*p++ = NTYPES;
		p = ss_put_varint(p, r->type);
		last = zero;
	}
	mask = p++;
	*mask = (r->tid != c->tid) | (r->cpu != c->cpu) << 1 | !!r->flags << 2;
	p = ss_put_varint(p, ss_zigzag(r->ts - c->ts));
	if (r->tid != c->tid)
		p = ss_put_varint(p, r->tid);
	if (r->cpu != c->cpu)
		p = ss_put_varint(p, r->cpu);
	if (r->flags)
		p = ss_put_varint(p, r->flags);
	for (unsigned i = 0; i < SS_RECORD_ARGS; i++) {
		if (r->args[i] == last[i])
			continue;
		*mask |= 1U << (3 + i);
		p = ss_put_varint(p, ss_zigzag(r->args[i] - last[i]));
		last[i] = r->args[i];
	}
	c->ts = r->ts;
	c->tid = r->tid;
	c->cpu = r->cpu;
	return (unsigned)(p - out);
}

static const unsigned char *decode(struct codec *c, const unsigned char *p,
				   struct ss_record *r)
{
	__u64 v, *last, zero[SS_RECORD_ARGS] = { 0 };
	unsigned mask;

	memset(r, 0, sizeof(*r));
	if (*p < NTYPES) {
		r->type = *p++;
		last = c->args[r->type];
	} else {
		p = get_varint(p + 1, &v);
		r->type = (__u32)v;
		last = zero;
	}
	mask = *p++;
	p = get_varint(p, &v);
	r->ts = c->ts + ss_unzigzag(v);
	r->tid = c->tid;
	r->cpu = c->cpu;
	if (mask & 1) {
		p = get_varint(p, &v);
		r->tid = (__u32)v;
	}
	if (mask & 2) {
		p = get_varint(p, &v);
		r->cpu = (__u32)v;
	}
	if (mask & 4) {
		p = get_varint(p, &v);
		r->flags = (__u32)v;
	}
	for (unsigned i = 0; i < SS_RECORD_ARGS; i++) {
		if (mask & (1U << (3 + i))) {
			p = get_varint(p, &v);
			last[i] += ss_unzigzag(v);
		}
		r->args[i] = last[i];
	}
	c->ts = r->ts;
	c->tid = r->tid;
	c->cpu = r->cpu;
	return p;
}

/* ---- the chunks ----------------------------------------------------------------------- */

static struct chunk *oldest(const struct ss_window *w)
{
	return w->ring[w->head];
}

static struct chunk *newest(const struct ss_window *w)
{
	return w->n ? w->ring[(w->head + w->n - 1) % w->max_chunks] : NULL;
}

static void drop_oldest(struct ss_window *w)
{
	struct chunk *c = oldest(w);

	if (c->max_ts + 1 > w->complete_from)
		w->complete_from = c->max_ts + 1;
	w->dropped += c->n;
	w->head = (w->head + 1) % w->max_chunks;
	w->n--;
	if (!w->spare)
		w->spare = c;
	else
		free(c);
}

static struct chunk *new_chunk(struct ss_window *w)
{
	struct chunk *c;

	if (w->n == w->max_chunks)
		drop_oldest(w);
	if (w->spare) {
		c = w->spare;
		w->spare = NULL;
	} else if (!(c = malloc(SS_WINDOW_CHUNK))) {
		return NULL;
	}
	c->min_ts = UINT64_MAX;
	c->max_ts = 0;
	c->used = c->n = 0;
	w->ring[(w->head + w->n) % w->max_chunks] = c;
	w->n++;
	memset(&w->enc, 0, sizeof(w->enc));
	return c;
}

static void keep_context(struct ss_window *w, const struct ss_record *r)
{
	unsigned i, old = 0;

	for (i = 0; i < w->nctx; i++) {
		if (w->ctx[i].type == r->type && w->ctx[i].tid == r->tid) {
			if (r->ts >= w->ctx[i].ts)
				w->ctx[i] = *r;
			return;
		}
		if (w->ctx[i].ts < w->ctx[old].ts)
			old = i;
	}
	if (w->nctx < SS_WINDOW_CONTEXT)
		w->ctx[w->nctx++] = *r;
	else if (r->ts >= w->ctx[old].ts)
		w->ctx[old] = *r;	/* full: the oldest goes (threads come and go) */
}

int ss_window_add(struct ss_window *w, const struct ss_record *r)
{
	struct chunk *c = newest(w);

	if (ss_record_is_context(r))
		keep_context(w, r);
	if ((!c || c->used + ENC_MAX > CHUNK_DATA) && !(c = new_chunk(w)))
		return -ENOMEM;
	c->used += encode(&w->enc, r, c->data + c->used);
	c->n++;
	if (r->ts < c->min_ts)
		c->min_ts = r->ts;
	if (r->ts > c->max_ts)
		c->max_ts = r->ts;
	/* The time bound: what ended more than keep_ns before the newest. */
	while (w->n > 1 && oldest(w)->max_ts < c->max_ts &&
	       c->max_ts - oldest(w)->max_ts > w->keep_ns)
		drop_oldest(w);
	return 0;
}

void ss_window_stats(const struct ss_window *w, struct ss_window_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->complete_from = w->complete_from;
	s->dropped = w->dropped;
	s->bytes = (__u64)(w->n + !!w->spare) * SS_WINDOW_CHUNK;
	s->first_ts = UINT64_MAX;
	for (unsigned i = 0; i < w->n; i++) {
		const struct chunk *c = w->ring[(w->head + i) % w->max_chunks];

		s->events += c->n;
		if (c->n && c->min_ts < s->first_ts)
			s->first_ts = c->min_ts;
		if (c->max_ts > s->last_ts)
			s->last_ts = c->max_ts;
	}
	if (!s->events)
		s->first_ts = 0;
}

int ss_window_each(const struct ss_window *w, __u64 from, __u64 to,
		   ss_window_fn fn, void *arg)
{
	struct codec *dec = malloc(sizeof(*dec));
	struct ss_record r;
	int ret = 0;

	if (!dec)
		return -ENOMEM;
	for (unsigned i = 0; i < w->nctx && !ret; i++)
		ret = fn(arg, &w->ctx[i], true);
	for (unsigned i = 0; i < w->n && !ret; i++) {
		const struct chunk *c = w->ring[(w->head + i) % w->max_chunks];
		const unsigned char *p = c->data;

		if (!c->n || c->max_ts < from || c->min_ts >= to)
			continue;
		memset(dec, 0, sizeof(*dec));
		for (__u32 k = 0; k < c->n && !ret; k++) {
			p = decode(dec, p, &r);
			if (r.ts >= from && r.ts < to)
				ret = fn(arg, &r, false);
		}
	}
	free(dec);
	return ret;
}
