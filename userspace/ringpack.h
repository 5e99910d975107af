/* SPDX-License-Identifier: MIT */
/*
 * Ring slots packed for a trace file (SS_RING_PACKED blocks,
 * docs/trace-format.md): each slot as the difference from the ones before
 * it in its block, in varints.  Lossless; a busy runtime's events take
 * 4-5 bytes each instead of a 32-byte slot, so that a recording at tens
 * of millions of events a second is not bounded by the disk.
 */
#ifndef STALLSCOPE_RINGPACK_H
#define STALLSCOPE_RINGPACK_H

#include <stddef.h>
#include <linux/types.h>

#include "bpf/ring.h"

/* The most bytes one slot packs into. */
#define SS_RINGPACK_SLOT_MAX 44

/* What a block's packing has seen so far: the previous slot's time and
 * sequence number, and per type (index: the type's low byte, 254 for
 * SS_RING_EXT) its previous time (EXT) and arguments. */
struct ss_ringpack_state {
	__u64 ts;
	__u16 seq;
	struct {
		__u64 t, x, y;
		__u32 a;
	} last[256];
};

/* A block packed a run of slots at a time, where they are made (the
 * recorder packs a chunk's slots as it converts their times, never
 * writing them out whole): begin, add runs in order, then len. */
struct ss_ringpack_enc {
	struct ss_ringpack_state st;
	unsigned char *out, *p;
	size_t cap;
};

/* Starts a block's packing into out (cap bytes). */
void ss_ringpack_begin(struct ss_ringpack_enc *e, unsigned char *out, size_t cap);
/* Packs s[0, n) after what the block has: 0, or -ENOSPC if they would not
 * fit in cap (the block is then spent: begin again). */
int ss_ringpack_add(struct ss_ringpack_enc *e, const struct ss_ring_slot *s, size_t n);
/* The bytes the block has packed so far. */
static inline size_t ss_ringpack_len(const struct ss_ringpack_enc *e)
{
	return (size_t)(e->p - e->out);
}

/* Packs s[0, n) into out (cap bytes): the bytes written, or 0 if they
 * would not fit in cap. */
size_t ss_ringpack_encode(const struct ss_ring_slot *s, size_t n, unsigned char *out, size_t cap);

/* Unpacks exactly n slots from p[0, len) (bytes from a file: any value)
 * into out: 0, or -EBADMSG if p does not hold exactly n packed slots. */
int ss_ringpack_decode(const unsigned char *p, size_t len, struct ss_ring_slot *out, size_t n);

#endif
