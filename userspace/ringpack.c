// SPDX-License-Identifier: MIT
/*
 * Ring slots packed (ringpack.h).  Per slot, against the state of its
 * block (zero at the block's start):
 *
 *   code   1 byte: the type (0..253), 254 for SS_RING_EXT (an event's
 *          second slot), 255 for a type past 253 (a varint follows)
 *   mask   1 byte: bit 0 seq is not the previous slot's + 1, bits 1..3
 *          a, x, y differ from the previous slot of the same type's
 *   ts     zigzag varint: ts minus the previous slot's ts (an event's
 *          second slot: minus the previous second slot's, its ts is an
 *          argument)
 *   seq    varint, if the mask says
 *   a      zigzag varint of the 32-bit difference, x and y zigzag
 *          varints of the 64-bit differences, each if the mask says
 *
 * A runtime's events follow each other by tens of nanoseconds, its
 * sequence numbers by one, and a type's arguments repeat (the worker) or
 * move a little (tasks from one allocator): a busy runtime's events take
 * 4-5 bytes each (yield_many, 4.5) where a slot takes 32.
 */
#include <errno.h>
#include <string.h>

#include "ringpack.h"
#include "varint.h"

#define CODE_EXT 254
#define CODE_ESC 255
#define M_SEQ 1
#define M_A 2
#define M_X 4
#define M_Y 8

/* Where a type's previous values are kept: the same rule both ways. */
static inline unsigned slot_index(__u16 type)
{
	return type == SS_RING_EXT ? CODE_EXT : type & 0xff;
}

void ss_ringpack_begin(struct ss_ringpack_enc *e, unsigned char *out, size_t cap)
{
	memset(&e->st, 0, sizeof(e->st));
	e->out = e->p = out;
	e->cap = cap;
}

int ss_ringpack_add(struct ss_ringpack_enc *e, const struct ss_ring_slot *s, size_t n)
{
	struct ss_ringpack_state *st = &e->st;
	unsigned char *p = e->p;
	/* Room for one more slot while p is below it. */
	const unsigned char *room = e->cap >= SS_RINGPACK_SLOT_MAX ?
				    e->out + e->cap - SS_RINGPACK_SLOT_MAX : NULL;

	for (size_t i = 0; i < n; i++) {
		const struct ss_ring_slot *x = &s[i];
		unsigned k = slot_index(x->type);
		unsigned char mask = 0;
		__u64 dt;

		if (!room || p > room)
			return -ENOSPC;
		if (x->type == SS_RING_EXT) {
			*p++ = CODE_EXT;
		} else if (x->type < CODE_EXT) {
			*p++ = (unsigned char)x->type;
		} else {
			*p++ = CODE_ESC;
			p = ss_put_varint(p, x->type);
		}
		mask |= x->seq != (__u16)(st->seq + 1) ? M_SEQ : 0;
		mask |= x->a != st->last[k].a ? M_A : 0;
		mask |= x->x != st->last[k].x ? M_X : 0;
		mask |= x->y != st->last[k].y ? M_Y : 0;
		*p++ = mask;
		if (x->type == SS_RING_EXT) {
			dt = x->ts - st->last[k].t;
			st->last[k].t = x->ts;
		} else {
			dt = x->ts - st->ts;
			st->ts = x->ts;
		}
		p = ss_put_varint(p, ss_zigzag(dt));
		if (mask & M_SEQ)
			p = ss_put_varint(p, x->seq);
		if (mask & M_A)
			p = ss_put_varint(p, ss_zigzag((__u64)(__s32)(x->a - st->last[k].a)));
		if (mask & M_X)
			p = ss_put_varint(p, ss_zigzag(x->x - st->last[k].x));
		if (mask & M_Y)
			p = ss_put_varint(p, ss_zigzag(x->y - st->last[k].y));
		st->seq = x->seq;
		st->last[k].a = x->a;
		st->last[k].x = x->x;
		st->last[k].y = x->y;
	}
	e->p = p;
	return 0;
}

size_t ss_ringpack_encode(const struct ss_ring_slot *s, size_t n, unsigned char *out, size_t cap)
{
	struct ss_ringpack_enc e;

	ss_ringpack_begin(&e, out, cap);
	return ss_ringpack_add(&e, s, n) ? 0 : ss_ringpack_len(&e);
}

int ss_ringpack_decode(const unsigned char *p, size_t len, struct ss_ring_slot *out, size_t n)
{
	const unsigned char *end = p + len;
	struct ss_ringpack_state st;

	memset(&st, 0, sizeof(st));
	for (size_t i = 0; i < n; i++) {
		struct ss_ring_slot *e = &out[i];
		unsigned char code, mask;
		__u64 v;
		unsigned k;

		if (end - p < 3)
			return -EBADMSG;
		code = *p++;
		if (code == CODE_EXT) {
			e->type = SS_RING_EXT;
		} else if (code < CODE_EXT) {
			e->type = code;
		} else {
			if (!(p = ss_get_varint(p, end, &v)) || v < CODE_EXT || v >= SS_RING_EXT)
				return -EBADMSG;
			e->type = (__u16)v;
		}
		if (p >= end)
			return -EBADMSG;
		mask = *p++;
		if (mask & ~(M_SEQ | M_A | M_X | M_Y))
			return -EBADMSG;
		k = slot_index(e->type);
		if (!(p = ss_get_varint(p, end, &v)))
			return -EBADMSG;
		if (e->type == SS_RING_EXT)
			e->ts = st.last[k].t = st.last[k].t + ss_unzigzag(v);
		else
			e->ts = st.ts = st.ts + ss_unzigzag(v);
		e->seq = (__u16)(st.seq + 1);
		if (mask & M_SEQ) {
			if (!(p = ss_get_varint(p, end, &v)) || v > 0xffff)
				return -EBADMSG;
			e->seq = (__u16)v;
		}
		e->a = st.last[k].a;
		if (mask & M_A) {
			if (!(p = ss_get_varint(p, end, &v)) || v > 0xffffffffULL)
				return -EBADMSG;
			e->a += (__u32)ss_unzigzag(v);
		}
		e->x = st.last[k].x;
		if (mask & M_X) {
			if (!(p = ss_get_varint(p, end, &v)))
				return -EBADMSG;
			e->x += ss_unzigzag(v);
		}
		e->y = st.last[k].y;
		if (mask & M_Y) {
			if (!(p = ss_get_varint(p, end, &v)))
				return -EBADMSG;
			e->y += ss_unzigzag(v);
		}
		st.seq = e->seq;
		st.last[k].a = e->a;
		st.last[k].x = e->x;
		st.last[k].y = e->y;
	}
	return p == end ? 0 : -EBADMSG;
}
