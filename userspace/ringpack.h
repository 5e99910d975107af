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

/* Packs s[0, n) into out (cap bytes): the bytes written, or 0 if they
 * would not fit in cap. */
size_t ss_ringpack_encode(const struct ss_ring_slot *s, size_t n, unsigned char *out, size_t cap);

/* Unpacks exactly n slots from p[0, len) (bytes from a file: any value)
 * into out: 0, or -EBADMSG if p does not hold exactly n packed slots. */
int ss_ringpack_decode(const unsigned char *p, size_t len, struct ss_ring_slot *out, size_t n);

#endif
