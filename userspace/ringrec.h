/* SPDX-License-Identifier: MIT */
/* The recorder's side of the event rings: chunks into records (ringrec.c). */
#ifndef STALLSCOPE_RINGREC_H
#define STALLSCOPE_RINGREC_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "bpf/record.h"

#include "bpf/ring.h"

typedef void (*ss_ringrec_emit_fn)(void *arg, const struct ss_record *rec);
/* What ringrec wrote into a block: slots of whole known events (checked:
 * a sink need not read them again), used of them, holding events, their
 * ts (CLOCK_MONOTONIC ns) from min_ts to max_ts.  With packed > 0 the
 * block holds those slots packed (ringpack.h), not the slots: a __u32
 * packed, then packed bytes — fewer than used slots' bytes. */
struct ss_block_done {
	__u32 used, packed;
	__u64 events, min_ts, max_ts;
};
/* Checked slots written by ringrec straight where the sink wants them:
 * begin gives room for up to n slots of hdr's thread, n at most
 * SS_BLOCK_SLOTS (NULL: they are lost), and sets *pack if it takes them
 * packed (then ringrec packs them as it goes, where that is smaller);
 * end says what was written. */
struct ss_ringrec_blocks {
	struct ss_ring_slot *(*begin)(void *arg, const struct ss_ring_chunk *hdr,
				      __u32 n, bool *pack);
	void (*end)(void *arg, const struct ss_ring_chunk *hdr, const struct ss_block_done *d);
};
#define SS_BLOCK_SLOTS 2048

struct ss_ringrec;

/* Samples the first clock pair: slots older than now are not this
 * recording's.  Records (SS_LOST, and the events unless block is given)
 * go to emit; with block, the events go there as checked slots. */
int ss_ringrec_new(struct ss_ringrec **out, ss_ringrec_emit_fn emit,
		   const struct ss_ringrec_blocks *blocks, void *arg);
void ss_ringrec_free(struct ss_ringrec *rr);
/* A (TSC, CLOCK_MONOTONIC) pair; call every few ms. */
void ss_ringrec_sample(struct ss_ringrec *rr);
__u64 ss_ringrec_last_sample_ns(const struct ss_ringrec *rr);
__u64 ss_ringrec_tsc_to_ns(const struct ss_ringrec *rr, __u64 tsc);
/* One struct ss_ring_chunk and its slots, as BPF handed it over: 0, or
 * -EBADMSG for a malformed one (counted, never decoded). */
int ss_ringrec_chunk(struct ss_ringrec *rr, const void *data, size_t size);
/* At the end: first halves still waiting for their second are lost. */
void ss_ringrec_finish(struct ss_ringrec *rr);
/* n events the target dropped for want of a ring (its anchor's count). */
void ss_ringrec_lost_unringed(struct ss_ringrec *rr, __u64 n);
/* Slots lost so far, and malformed chunks. */
void ss_ringrec_stats(const struct ss_ringrec *rr, __u64 *lost, __u64 *garbage);

#endif
