/* SPDX-License-Identifier: MIT */
/*
 * The per-thread event rings: the ABI between the traced process, which
 * writes them (runtime/ring.h, for wsrt and for the preload shim), the BPF
 * programs that copy them out (bpf/stallscope.bpf.c), and the recorder,
 * which decodes them (userspace/ringdec.c).  docs/recording.md tells the
 * whole story; this header is the layout.  Like record.h it includes
 * nothing: the includer provides __u16/__u32/__u64.
 *
 * A ring is one thread's: a 64-byte header, then `cap` 32-byte slots (a
 * power of two).  The owner thread is the only writer; it never waits.
 * An event takes one slot, or two for events with more arguments than a
 * slot holds (the second is an SS_RING_EXT slot).  Slot seq is the slot's
 * sequence number: slot seq lives at slots[seq & (cap - 1)].
 *
 * Producer, per event:
 *  1. write the slot(s) at head (plain stores);
 *  2. head += slots used, a release store: pairs with the consumer's read
 *     of head, so every slot below the head it reads is complete.
 * Consumer (a BPF drain, any CPU, several at once):
 *  1. read head (h1); claim [tail, h1) by a compare-and-swap of its
 *     cursor (`tail`, in the BPF map, never in the ring: the producer
 *     does not know it);
 *  2. copy the claimed slots;
 *  3. read head again (h2).  A slot whose seq + cap <= h2 may have been
 *     overwritten while it was copied (the producer may be writing slot
 *     h2 itself): the recorder counts it lost and never decodes it.  Slots
 *     lapped before the claim (h1 - tail > cap) are counted lost too.
 *
 * Timestamps are the TSC (rdtsc), turned into CLOCK_MONOTONIC ns by the
 * recorder from (TSC, CLOCK_MONOTONIC) pairs it samples itself.
 */
#ifndef STALLSCOPE_RING_H
#define STALLSCOPE_RING_H

#define SS_RING_ABI 1
#define SS_RING_MAGIC 0x31474e4952535353ULL	/* "SSSRING1", little-endian */

/* Record type of an event's second slot. */
#define SS_RING_EXT 0xffff

struct ss_ring_slot {
	__u64 ts;	/* TSC at the event; in an SS_RING_EXT slot, argument e */
	__u16 type;	/* enum ss_type (record.h), or SS_RING_EXT */
	__u16 seq;	/* the low 16 bits of this slot's sequence number */
	__u32 a;	/* a 32-bit argument, or two 16-bit ones */
	__u64 x, y;	/* two 64-bit arguments */
};

_Static_assert(sizeof(struct ss_ring_slot) == 32, "ring ABI: 32-byte slots");

struct ss_ring {
	__u64 magic;		/* SS_RING_MAGIC */
	__u32 abi;		/* SS_RING_ABI */
	__u32 cap;		/* slots, a power of two */
	__u32 tid;		/* the owner thread */
	__u32 reserved0;
	__u64 head;		/* next slot's sequence number (owner; release) */
	__u64 flush_at;		/* owner only: head at which it fires ring_flush */
	__u64 reserved[3];
	/* struct ss_ring_slot slots[cap]; */
};

_Static_assert(sizeof(struct ss_ring) == 64, "ring ABI: 64-byte header");
_Static_assert(__builtin_offsetof(struct ss_ring, head) == 24, "ring ABI");

/*
 * How a tracer finds a process's rings, without symbols (stripped
 * binaries keep their USDT notes): the `ring_flush` probe's USDT semaphore
 * is the first field of this anchor.  The kernel raises it while a tracer
 * has that probe attached; the traced code writes its rings only then.
 * The anchor points at the registry: one entry per live ring.
 */
struct ss_ring_entry {
	__u64 ring;		/* the ring's address, 0: a free entry */
	__u32 tid;		/* its thread: stored once the entry is taken, so
				 * a tracer takes it from the ring's header */
	__u32 reserved;
};

_Static_assert(sizeof(struct ss_ring_entry) == 16, "ring ABI: registry entry");

struct ss_ring_anchor {
	__u16 gate;		/* the ring_flush semaphore: > 0 while traced */
	__u16 abi;		/* SS_RING_ABI */
	__u32 nentries;		/* entries in the registry */
	__u64 entries;		/* address of struct ss_ring_entry[nentries] */
	__u64 used;		/* entries [0, used) may be live (a high mark) */
	__u64 lost;		/* events dropped: no ring could be made */
};

_Static_assert(sizeof(struct ss_ring_anchor) == 32, "ring ABI: anchor");

/*
 * What a BPF drain hands to the recorder: this header, then `count`
 * slots, as one record of the BPF ring buffer.  Laid out like struct
 * ss_record (ts, then type at offset 8), so one type field tells them
 * apart.
 */
struct ss_ring_chunk {
	__u64 ts;		/* CLOCK_MONOTONIC ns of the drain */
	__u32 type;		/* SS_RING_CHUNK */
	__u32 tid;		/* the ring's thread */
	__u32 cpu;		/* where it was drained */
	__u32 count;		/* slots that follow */
	__u64 first;		/* the first slot's sequence number */
	__u64 head_after;	/* head read after the copy (step 3 above) */
	__u64 skipped;		/* slots lapped before this drain claimed them */
	__u32 cap;		/* the ring's slots */
	__u32 why;		/* SS_DRAIN_*: which drain point */
	__u64 ring;		/* the ring's address */
};

_Static_assert(sizeof(struct ss_ring_chunk) == 64, "ring ABI: chunk header");

/* The libraries with rings: a thread may have one of each (the tracer
 * tells them apart by the provider of their ring_flush probe). */
#define SS_RING_WSRT 0		/* provider wsrt: the runtime */
#define SS_RING_SHIM 1		/* provider stallscope: the preload shim */
#define SS_RING_PROVIDERS 2

/* The BPF map of the rings being drained (bpf/stallscope.bpf.c `rings`):
 * (thread, provider) -> where the ring is and the drains' cursor.  The
 * recorder adds the rings it finds in a process's registry. */
struct ss_ring_key {
	__u32 tid;
	__u32 provider;		/* SS_RING_WSRT, SS_RING_SHIM */
};

struct ss_ring_state {
	__u64 ring;		/* the ring's address in the target */
	__u64 tail;		/* next sequence number to claim (CAS) */
	__u32 cap;		/* slots */
	__u32 pad;
};

/* Drain points (ss_ring_chunk.why). */
#define SS_DRAIN_FLUSH 1	/* the owner's ring_flush probe: half full */
/* 2: unused (once sched_switch: per-switch drains cost too much) */
#define SS_DRAIN_PULL 3		/* the recorder's periodic pull (task iterator) */
#define SS_DRAIN_EXIT 4		/* the owner's exit or exit_group syscall */
#define SS_DRAIN_RETIRE 5	/* the owner's ring_retire probe: thread exit */

#endif /* STALLSCOPE_RING_H */
