/* SPDX-License-Identifier: MIT */
/* Ring slots back into records (ringdec.c). */
#ifndef STALLSCOPE_RINGDEC_H
#define STALLSCOPE_RINGDEC_H

#include <stddef.h>
#include <linux/types.h>

#include "bpf/record.h"
#include "bpf/ring.h"

/* Where a ring event's arguments sit (ringdec.c's table, by type). */
struct ss_ringdec_layout {
	unsigned char slots;	/* 0: not a ring event */
	unsigned char loc[SS_RECORD_ARGS];
};
extern const struct ss_ringdec_layout ss_ringdec_layouts[SS_SHIM_LAST + 1];

/* Slots an event of this type takes in a ring (1 or 2); 0: not a ring
 * event (or not a type at all).  Inline, as the next: the recorder and the
 * trace writer call them for every event. */
static inline unsigned ss_ringdec_slots(__u32 type)
{
	return type <= SS_SHIM_LAST ? ss_ringdec_layouts[type].slots : 0;
}

/* The slots (1 or 2) of the whole known event starting at s[0] (n slots
 * available), or 0: what ss_ringdec_one() checks, without decoding. */
static inline unsigned ss_ringdec_whole(const struct ss_ring_slot *s, size_t n)
{
	unsigned k = n ? ss_ringdec_slots(s[0].type) : 0;

	if (!k || k > n)
		return 0;
	if (k == 2 && (s[1].type != SS_RING_EXT || s[1].seq != (__u16)(s[0].seq + 1)))
		return 0;
	return k;
}
/* Decodes the event starting at s[0] (n slots available) of thread tid
 * into *out (ts copied as is, cpu SS_CPU_NONE): the slots it took, or 0
 * if s[0] does not start a whole, known event (a second slot must follow
 * its first, with the next sequence number). */
unsigned ss_ringdec_one(const struct ss_ring_slot *s, size_t n, __u32 tid,
			struct ss_record *out);

#endif
