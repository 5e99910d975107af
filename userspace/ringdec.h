/* SPDX-License-Identifier: MIT */
/* Ring slots back into records (ringdec.c). */
#ifndef STALLSCOPE_RINGDEC_H
#define STALLSCOPE_RINGDEC_H

#include <stddef.h>
#include <linux/types.h>

#include "bpf/record.h"
#include "bpf/ring.h"

/* Slots an event of this type takes in a ring (1 or 2); 0: not a ring
 * event (or not a type at all). */
unsigned ss_ringdec_slots(__u32 type);

/* The slots (1 or 2) of the whole known event starting at s[0] (n slots
 * available), or 0: what ss_ringdec_one() checks, without decoding. */
unsigned ss_ringdec_whole(const struct ss_ring_slot *s, size_t n);
/* Decodes the event starting at s[0] (n slots available) of thread tid
 * into *out (ts copied as is, cpu SS_CPU_NONE): the slots it took, or 0
 * if s[0] does not start a whole, known event (a second slot must follow
 * its first, with the next sequence number). */
unsigned ss_ringdec_one(const struct ss_ring_slot *s, size_t n, __u32 tid,
			struct ss_record *out);

#endif
