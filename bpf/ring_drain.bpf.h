// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Copying the target's event rings (ring.h) into the ring buffer
 * (stallscope.bpf.c has the whole, and the programs that call these:
 * the flush and retire probes, the periodic pull, sched_switch's and the
 * exits' drains): the rings map, a claim in pieces, the two readers (the
 * current task's memory, or a given task's from a sleepable program).
 * Included once, by stallscope.bpf.c, after emit.bpf.h.
 */
#ifndef STALLSCOPE_RING_DRAIN_BPF_H
#define STALLSCOPE_RING_DRAIN_BPF_H

#define ring_state ss_ring_state
#define ring_key ss_ring_key

/* (tid, provider) -> its ring.  Filled by the ring_flush probe (fired
 * once when a ring is made, then every half ring; its cookie is the
 * provider) and by the recorder from the target's registry (rings made
 * before it attached); emptied at thread exit and by ring_retire. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct ring_key);
	__type(value, struct ring_state);
} rings SEC(".maps");

#define RING_PIECE_MAX 11	/* a piece is at most 2^11 slots: 64 KiB */
#define RING_BULK 8		/* whole pieces per drain: RING_DRAIN_MAX's */
#define RING_DRAIN_MAX 16384	/* slots, at most, per drain */
/* RING_PULL_SHARE: a pull claims at most a quarter of a ring at a time.
 * It copies from another CPU, slowly (~1 ns a byte), while the owner may
 * be writing: with a claim of nearly the whole ring, the owner caught up
 * with the copy (measured: one slot in a few million lost).  The owner's
 * own half-ring flush drains the rest. */

/*
 * The kernel's copies of user memory into a dynptr (Linux 6.16): into a
 * ring buffer reservation of any size, so that a claim is one
 * reservation, one copy and one second read of the head, where in pieces
 * of 2^k slots (a reservation's size a verifier constant otherwise) each
 * piece takes its own — and each copy from another process (the pull) is
 * a walk of its page tables.  Weak: on a kernel without them they resolve
 * to nothing, the recorder leaves ring_copy_whole off (userspace checks
 * the kernel's BTF for both) and the verifier drops their calls.
 */
extern int bpf_probe_read_user_dynptr(struct bpf_dynptr *dptr, __u64 off, __u64 size,
				      const void *unsafe_ptr__ign) __ksym __weak;
extern int bpf_copy_from_user_task_dynptr(struct bpf_dynptr *dptr, __u64 off, __u64 size,
					  const void *unsafe_ptr__ign,
					  struct task_struct *tsk) __ksym __weak;
const volatile bool ring_copy_whole = false;

/* Where slot seq of the ring lies in the target. */
#define RING_SLOT_AT(seq)                                                      \
	((void *)(st->ring + sizeof(struct ss_ring) +                          \
		  ((seq) & mask) * sizeof(struct ss_ring_slot)))

/* A chunk's header, once its slots are copied (c: where it goes). */
#define RING_CHUNK_FILL(c, n)                                                  \
	do {                                                                   \
		/* Step 3: what the producer may have overwritten meanwhile. */ \
		if (RING_READ(&h2, sizeof(h2), (void *)(st->ring + 24)))        \
			h2 = ~0ULL;	/* unknown: the recorder drops them */ \
		(c)->ts = bpf_ktime_get_ns();                                  \
		(c)->type = SS_RING_CHUNK;                                     \
		(c)->tid = tid;                                                \
		(c)->cpu = bpf_get_smp_processor_id();                         \
		(c)->count = (n);                                              \
		(c)->first = seq;                                              \
		(c)->head_after = h2;                                          \
		(c)->skipped = skipped;                                        \
		(c)->cap = st->cap;                                            \
		(c)->why = why;                                                \
		(c)->ring = st->ring;                                          \
	} while (0)

/*
 * Steps 2-3 of the consumer (ring.h) for the claim [seq, seq + left):
 * one struct ss_ring_chunk and its slots (RING_PUT_WHOLE), or without
 * the kernel's dynptr copies one per piece of 2^k slots (RING_PUT).
 * RING_READ(dst, size, src) reads the target's memory — the current
 * task's (bpf_probe_read_user: it must not fault, so rings are made
 * pre-faulted) or, in the sleepable pull, a given task's — and
 * RING_READ_DYN(dynptr, offset, size, src) the same into a dynptr.
 */
#define RING_PUT_WHOLE()                                                       \
	do {                                                                   \
		struct bpf_dynptr d;                                           \
		struct ss_ring_chunk *c = NULL;                                \
		__u64 bytes = left * sizeof(struct ss_ring_slot);             \
                                                                               \
		if (bpf_ringbuf_reserve_dynptr(&events, sizeof(*c) + bytes, 0, &d) || \
		    RING_READ_DYN(&d, sizeof(*c), bytes, RING_SLOT_AT(seq)) || \
		    !(c = bpf_dynptr_data(&d, 0, sizeof(*c)))) {               \
			bpf_ringbuf_discard_dynptr(&d, BPF_RB_NO_WAKEUP);      \
			count_n(SS_COUNTER_LOST, skipped + left);              \
			return 0;                                              \
		}                                                              \
		RING_CHUNK_FILL(c, left);                                      \
		bpf_ringbuf_submit_dynptr(&d, submit_flags());                 \
		return more;                                                   \
	} while (0)

/* One piece of 2^K slots at seq: reserved, read, described, submitted.
 * On failure everything left of the claim is counted lost. */
#define RING_PUT(K)                                                            \
	do {                                                                   \
		struct ss_ring_chunk *c = bpf_ringbuf_reserve(                 \
			&events, sizeof(*c) + (sizeof(struct ss_ring_slot) << K), 0); \
		if (!c) {                                                      \
			count_n(SS_COUNTER_LOST, skipped + left);              \
			return 0;                                              \
		}                                                              \
		if (RING_READ(c + 1, sizeof(struct ss_ring_slot) << K,         \
			      RING_SLOT_AT(seq))) {                            \
			bpf_ringbuf_discard(c, BPF_RB_NO_WAKEUP);              \
			count_n(SS_COUNTER_LOST, skipped + left);              \
			return 0;                                              \
		}                                                              \
		RING_CHUNK_FILL(c, 1U << K);                                   \
		skipped = 0;                                                   \
		seq += 1U << K;                                                \
		left -= 1U << K;                                               \
		submit((struct ss_record *)c);                                 \
	} while (0)
#define RING_PUT_IF(K)                                                         \
	if (left & (1U << K))                                                  \
		RING_PUT(K)

/*
 * One claim, never across the ring's end (what lies past it is the next
 * drain's): whole, or whole 2^RING_PIECE_MAX pieces, then one piece per
 * bit of the rest.  Returns 1 if it copied everything it claimed and
 * stopped short of the head it read (more to claim), else 0.
 *
 * LINKAGE: the current task's drain is a global function, which the
 * verifier checks once, on its own, where a static one is checked again
 * at every call with its caller's state.  Called from a callback
 * (bpf_for_each_map_elem at exit and SIGKILL), the static one in pieces
 * went past the verifier's million instructions on Linux 6.18.44 — the
 * callback walked until its states converge, each time through every
 * piece — and the whole object failed to load (in pieces and with
 * --kernel-only); global, it takes ~5,000.  The task's drain (the
 * sleepable pull's) stays static: a task pointer can be a global
 * function's argument only with a tag of 6.8's (__arg_trusted).
 */
#define DEFINE_RING_DRAIN(LINKAGE, NAME, ...)                                  \
LINKAGE __noinline int NAME##_once(struct ring_state *st, __u32 tid, __u32 why, \
				  __u64 max, ##__VA_ARGS__)                    \
{                                                                              \
	__u64 h1 = 0, h2 = 0, tail, from, left, seq, mask, skipped = 0;        \
	int more;                                                              \
                                                                               \
	if (!st)	/* to the verifier, a global's may be */               \
		return 0;                                                      \
	tail = st->tail;                                                       \
	mask = st->cap - 1;                                                    \
	if (!st->cap || (st->cap & mask) ||                                    \
	    RING_READ(&h1, sizeof(h1), (void *)(st->ring + 24)) || h1 <= tail) \
		return 0;                                                      \
	/* Slot h1 - cap may be under the producer's pen (slot h1). */         \
	from = h1 - tail >= st->cap ? h1 - st->cap + 1 : tail;                 \
	skipped = from - tail;                                                 \
	left = h1 - from;                                                      \
	if (left > max)                                                        \
		left = max;                                                    \
	if (left > st->cap / 4 && why == SS_DRAIN_PULL)                        \
		left = st->cap / 4;	/* see RING_PULL_SHARE */              \
	if (left > st->cap - (from & mask))                                    \
		left = st->cap - (from & mask);                                \
	if (__sync_val_compare_and_swap(&st->tail, tail, from + left) != tail) \
		return 0;	/* another drain claimed it */                 \
	more = from + left < h1;                                               \
	seq = from;                                                            \
	if (ring_copy_whole)                                                   \
		RING_PUT_WHOLE();                                              \
	for (int i = 0; i < RING_BULK && left >= (1U << RING_PIECE_MAX); i++)  \
		RING_PUT(RING_PIECE_MAX);                                      \
	RING_PUT_IF(10); RING_PUT_IF(9); RING_PUT_IF(8); RING_PUT_IF(7);       \
	RING_PUT_IF(6); RING_PUT_IF(5); RING_PUT_IF(4); RING_PUT_IF(3);        \
	RING_PUT_IF(2); RING_PUT_IF(1); RING_PUT_IF(0);                        \
	if (left)                                                              \
		count_n(SS_COUNTER_LOST, left);                                \
	return more;                                                           \
}

#define RING_READ(dst, size, src) bpf_probe_read_user(dst, size, src)
#define RING_READ_DYN(d, off, size, src) bpf_probe_read_user_dynptr(d, off, size, src)
DEFINE_RING_DRAIN(, ring_drain_current)
#undef RING_READ
#undef RING_READ_DYN
#define RING_READ(dst, size, src) bpf_copy_from_user_task(dst, size, src, task, 0)
#define RING_READ_DYN(d, off, size, src) bpf_copy_from_user_task_dynptr(d, off, size, src, task)
DEFINE_RING_DRAIN(static, ring_drain_task, struct task_struct *task)
#undef RING_READ
#undef RING_READ_DYN

/*
 * Two claims: up to the ring's end, then what lies past it — left for
 * later, it would let a ring fill to the brim between half-ring flushes,
 * where a concurrent copy loses the slots the producer overwrites.
 * Copying whole, the second only if the first stopped short of the head
 * (a read of the target's memory fewer: from another process, the
 * pull's, a walk of its page tables).  In pieces, both: a branch on the
 * first's return has the verifier tell every path through its pieces
 * apart (measured: 2.5x the instructions to verify, 120 ms more to load).
 */
#define RING_DRAIN_CLAIMS(ONCE, ...)                                           \
	do {                                                                   \
		if (!ring_copy_whole) {                                        \
			ONCE(__VA_ARGS__);                                     \
			ONCE(__VA_ARGS__);                                     \
		} else if (ONCE(__VA_ARGS__)) {                                \
			ONCE(__VA_ARGS__);                                     \
		}                                                              \
	} while (0)

static __always_inline void ring_drain_current(struct ring_state *st, __u32 tid,
					       __u32 why, __u64 max)
{
	RING_DRAIN_CLAIMS(ring_drain_current_once, st, tid, why, max);
}

static __always_inline void ring_drain_task(struct ring_state *st, __u32 tid,
					    __u32 why, __u64 max,
					    struct task_struct *task)
{
	RING_DRAIN_CLAIMS(ring_drain_task_once, st, tid, why, max, task);
}

/* A ring the map does not know yet (its thread's first flush). */
static __always_inline struct ring_state *ring_learn(struct ring_key *key,
						     __u64 ring)
{
	struct ring_state *st = bpf_map_lookup_elem(&rings, key), fresh = { 0 };
	__u64 head = 0;
	__u32 cap = 0;

	if (st && st->ring == ring)
		return st;
	if (bpf_probe_read_user(&cap, sizeof(cap), (void *)(ring + 12)) ||
	    bpf_probe_read_user(&head, sizeof(head), (void *)(ring + 24)) ||
	    !cap || (cap & (cap - 1)))
		return NULL;
	fresh.ring = ring;
	fresh.cap = cap;
	/* From the oldest slot it still holds: the recorder keeps only what
	 * is younger than the recording. */
	fresh.tail = head >= cap ? head - cap + 1 : 0;
	bpf_map_update_elem(&rings, key, &fresh, BPF_ANY);
	return bpf_map_lookup_elem(&rings, key);
}

/* A thread's rings, before it leaves (sched_switch, exit). */
static __always_inline void drain_thread(__u32 tid, __u32 why, __u64 max)
{
	struct ring_key wsrt = { tid, SS_RING_WSRT }, shim = { tid, SS_RING_SHIM };
	struct ring_state *st;

	if ((st = bpf_map_lookup_elem(&rings, &wsrt)))
		ring_drain_current(st, tid, why, max);
	if ((st = bpf_map_lookup_elem(&rings, &shim)))
		ring_drain_current(st, tid, why, max);
}


/* exit_group: every thread's rings (they share this address space, and
 * die without another chance). */
static long drain_one(struct bpf_map *map, struct ring_key *key,
		      struct ring_state *st, void *ctx)
{
	ring_drain_current(st, key->tid, SS_DRAIN_EXIT, RING_DRAIN_MAX);
	return 0;
}

#endif
