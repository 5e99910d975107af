/* SPDX-License-Identifier: MIT */
/*
 * The writer of this thread's event ring (bpf/ring.h): what the probe
 * macros of the runtime (wsrt_probes.h) and of the preload shim
 * (preload/shim_probes.h) call while a tracer is attached.
 *
 * One copy of ring.c goes into each library that emits events: libwsrt
 * (provider wsrt) and the shim (provider stallscope, built with
 * -DSS_RING_PROVIDER=stallscope); each has its own anchor, registry and
 * per-thread ring, and its names stay inside it (hidden).
 *
 * Cost: ss_ring_gate() is one load and a branch when no tracer is
 * attached.  Attached, an event is an rdtsc, one or two 32-byte slot
 * stores and a release store of the head (bench/ measures it); every
 * cap/2 events the thread fires the ring_flush probe, whose BPF program
 * copies the ring out (a trap, amortised over cap/2 events).  The first
 * event of a thread maps its ring (one mmap, once per thread).
 */
#ifndef WSRT_RING_H
#define WSRT_RING_H

#include <linux/types.h>
#include <stdint.h>
#include <x86intrin.h>

#include "../bpf/ring.h"

#ifndef SS_RING_PROVIDER
#define SS_RING_PROVIDER wsrt
#endif
#define SS_RING_CAT_(a, b) a##b
#define SS_RING_CAT(a, b) SS_RING_CAT_(a, b)
/* The anchor is the ring_flush probe's semaphore (bpf/ring.h). */
#define SS_RING_ANCHOR SS_RING_CAT(SS_RING_PROVIDER, _ring_flush_semaphore)
#define SS_RING_HIDDEN __attribute__((visibility("hidden")))

extern struct ss_ring_anchor SS_RING_ANCHOR SS_RING_HIDDEN;
extern __thread struct ss_ring *ss_ring_mine
	__attribute__((tls_model("initial-exec"))) SS_RING_HIDDEN;

/* Not yet made (NULL) or given up at thread exit (SS_RING_GONE). */
#define SS_RING_GONE ((struct ss_ring *)1)

/* True while a tracer is attached: the kernel keeps the semaphore up. */
#define ss_ring_gate() __builtin_expect(SS_RING_ANCHOR.gate != 0, 0)

/* The slow paths (ring.c). */
struct ss_ring *ss_ring_make(void) SS_RING_HIDDEN;
void ss_ring_flush(struct ss_ring *r) SS_RING_HIDDEN;

/* This thread's ring (*rp) and its slots, made on its first event; NULL
 * if it can't have one (counted lost). */
static inline struct ss_ring_slot *ss_ring_claim(struct ss_ring **rp)
{
	struct ss_ring *r = ss_ring_mine;

	if (__builtin_expect((uintptr_t)r <= (uintptr_t)SS_RING_GONE, 0) &&
	    !(r = ss_ring_make()))
		return NULL;
	*rp = r;
	return (struct ss_ring_slot *)(r + 1);
}

/* Step 2 of the producer (bpf/ring.h): publish, and flush at half full. */
static inline void ss_ring_publish(struct ss_ring *r, __u64 head)
{
	/* Pairs with the drains' read of head: the slots are complete. */
	__atomic_store_n(&r->head, head, __ATOMIC_RELEASE);
	if (__builtin_expect(head >= r->flush_at, 0))
		ss_ring_flush(r);
}

/* One event in one slot. */
static inline void ss_ring_put(__u16 type, __u32 a, __u64 x, __u64 y)
{
	struct ss_ring *r;
	struct ss_ring_slot *slots = ss_ring_claim(&r), *s;
	__u64 h;

	if (!slots)
		return;
	h = r->head;
	s = &slots[h & (r->cap - 1)];
	s->ts = __rdtsc();
	s->type = type;
	s->seq = (__u16)h;
	s->a = a;
	s->x = x;
	s->y = y;
	ss_ring_publish(r, h + 1);
}

/* One event in two slots: the second carries e, a2, x2, y2. */
static inline void ss_ring_put2(__u16 type, __u32 a, __u64 x, __u64 y,
				__u64 e, __u32 a2, __u64 x2, __u64 y2)
{
	struct ss_ring *r;
	struct ss_ring_slot *slots = ss_ring_claim(&r), *s;
	__u64 h;

	if (!slots)
		return;
	h = r->head;
	s = &slots[h & (r->cap - 1)];
	s->ts = __rdtsc();
	s->type = type;
	s->seq = (__u16)h;
	s->a = a;
	s->x = x;
	s->y = y;
	s = &slots[(h + 1) & (r->cap - 1)];
	s->ts = e;
	s->type = SS_RING_EXT;
	s->seq = (__u16)(h + 1);
	s->a = a2;
	s->x = x2;
	s->y = y2;
	ss_ring_publish(r, h + 2);
}

/* Two 16-bit arguments in a (ints such as worker indices, -1 kept). */
#define SS_RING_A16(lo, hi) \
	((__u32)(__u16)(int)(lo) | (__u32)(__u16)(int)(hi) << 16)

#endif /* WSRT_RING_H */
