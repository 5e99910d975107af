// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kernel side of `stallscope record`: every event of one target process
 * (tgid), as 64-byte records (record.h) into one BPF ring buffer.
 *
 * Owns: filtering to the target, the record encoding, counting failed
 * reservations per CPU (nothing is dropped silently).  Does not own: what
 * is attached (userspace decides: --kernel-only attaches no USDT), the
 * file, or the meaning of the runtime's probe arguments (copied as is).
 *
 * Sources: the runtime's and the shim's USDT probes (one program on
 * uprobe_multi links; each site's cookie names its argument spec, whose
 * cookie is the record type: usdt_arg.bpf.h); tp_btf sched_switch / sched_waking
 * (plain tp/ programs occasionally miss events on this kernel); the futex
 * and epoll syscall tracepoints; epoll_ctl, to learn which sockets the
 * target polls; sk_data_ready on those sockets (readiness arriving, in
 * whatever context delivers it); thread creation, renames and exits;
 * and, in a VM, the hypervisor's steal time on the target's CPUs
 * (a vCPU that is not running looks, from inside, like a thread that
 * runs and does nothing: no event shows it otherwise).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "record.h"
#include "ring.h"
#include "usdt_arg.bpf.h"

#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define EPOLL_CTL_ADD 1
#define EPOLL_CTL_DEL 2
#define EPOLL_CTL_MOD 3

const volatile __u32 targ_tgid = 0;

/* Sized by userspace before load (bpf_map__set_max_entries). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

/* Per CPU: SS_COUNTER_LOST (failed reservations), SS_COUNTER_EMITTED. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SS_NR_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Socket inodes the target has in an epoll set (key: inode number).
 * Userspace seeds it from /proc/PID/fdinfo when attaching to a running
 * process; epoll_ctl keeps it current.  LRU: a socket closed without
 * EPOLL_CTL_DEL ages out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u32);
} socks SEC(".maps");

/* Readiness worth a record (see handle_sk_data_ready): how many target
 * threads are inside an epoll wait, and whether a readiness record was
 * made that no epoll wait has harvested yet. */
__u32 in_epoll = 0;
__u32 ready_pending = 0;

/* Target threads inside an epoll wait (for the count, if one dies there). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u8);
} epoll_waiters SEC(".maps");

/* A target thread leaves an epoll wait (or dies in one). */
static __always_inline void epoll_left(__u32 tid)
{
	if (!bpf_map_delete_elem(&epoll_waiters, &tid))
		__sync_fetch_and_add(&in_epoll, (__u32)-1);
}

#define STEAL_MIN_NS 1000000ULL

/* Per CPU: steal time and clock at the last sample. */
struct steal_mark {
	__u64 steal, ts;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct steal_mark);
} steal_seen SEC(".maps");

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline void count_n(__u32 which, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);

	if (c)
		__sync_fetch_and_add(c, n);
}

static __always_inline void count(__u32 which)
{
	count_n(which, 1);
}

static __always_inline struct ss_record *reserve_only(__u32 type, __u32 tid)
{
	struct ss_record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);

	if (!r) {
		count(SS_COUNTER_LOST);
		return NULL;
	}
	count(SS_COUNTER_EMITTED);
	r->ts = bpf_ktime_get_ns();
	r->type = type;
	r->tid = tid;
	r->cpu = bpf_get_smp_processor_id();
	r->flags = 0;
	for (int i = 0; i < SS_RECORD_ARGS; i++)
		r->args[i] = 0;
	return r;
}

/* Per CPU: when this CPU last woke the recorder. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} woke SEC(".maps");

#define WAKE_EVERY_NS 1000000ULL

/* Wake the recorder only once the ring is a quarter full, and then at
 * most once a millisecond per CPU: it drains on a timer otherwise.
 * Waking it per record would have it preempt the target's threads for
 * every event (and a wakeup is an IPI, microseconds in a VM). */
static __always_inline void submit(struct ss_record *r)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 size = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE);
	__u32 zero = 0;
	__u64 *last, now;

	if (avail < size / 4 || !(last = bpf_map_lookup_elem(&woke, &zero)) ||
	    (now = bpf_ktime_get_ns()) - *last < WAKE_EVERY_NS) {
		bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
		return;
	}
	*last = now;
	bpf_ringbuf_submit(r, BPF_RB_FORCE_WAKEUP);
}

static __always_inline bool current_is_target(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == targ_tgid;
}

static __always_inline __u32 current_tid(void)
{
	return (__u32)bpf_get_current_pid_tgid();
}

/* The steal time this CPU's current thread suffered since the last sample
 * here: every context switch to or from a target thread samples (so a
 * thread is only charged for what it was running through), as does every
 * record.  When
 * the current thread is the target's and >= STEAL_MIN_NS was stolen, a
 * vcpu_steal record says so, before the record that noticed it. */
static __always_inline void steal_sample(bool mine)
{
	/* Plain loads through BTF pointers (a fault reads as 0), not
	 * probe-read helper calls: this runs at every switch and record. */
	struct task_struct *cur = bpf_get_current_task_btf();
	struct cfs_rq *cfs = cur->se.cfs_rq;
	struct rq *rq = cfs ? cfs->rq : NULL;
	struct steal_mark *m;
	struct ss_record *r;
	__u32 zero = 0;
	__u64 steal, now, since, d;

	/* The run queue's account of steal (paravirt steal clock, kept up
	 * to date at every clock update: ticks and scheduling events); zero
	 * on a machine without one.  Reached through the current task, so
	 * checked to be this CPU's (not so for a task outside CFS). */
	if (!rq || rq->cpu != (int)bpf_get_smp_processor_id())
		return;
	m = bpf_map_lookup_elem(&steal_seen, &zero);
	if (!m)
		return;
	steal = rq->prev_steal_time_rq;
	now = bpf_ktime_get_ns();
	since = m->ts;
	d = steal - m->steal;
	m->steal = steal;
	m->ts = now;
	if (!mine || !since || d < STEAL_MIN_NS || d > now - since)
		return;
	r = reserve_only(SS_VCPU_STEAL, current_tid());
	if (!r)
		return;
	r->args[0] = d;
	r->args[1] = since;
	submit(r);
}

/* A record of the current CPU's doing (after its steal sample). */
static __always_inline struct ss_record *reserve(__u32 type, __u32 tid)
{
	steal_sample(current_is_target());
	return reserve_only(type, tid);
}

/* ---- event rings: copying them out (ring.h) -------------------------------------- */

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
 * Steps 1-3 of the consumer (ring.h), in pieces of 2^k slots (the ring
 * buffer wants a constant size), each a struct ss_ring_chunk and its
 * slots.  RING_READ(dst, size, src) reads the target's memory: the
 * current task's (bpf_probe_read_user: it must not fault, so rings are
 * made pre-faulted) or, in the sleepable pull, a given task's.
 */
/* One piece of 2^K slots at seq: reserved, read, described, submitted.
 * On failure everything left of the claim is counted lost. */
#define RING_PUT(K)                                                            \
	do {                                                                   \
		struct ss_ring_chunk *c = bpf_ringbuf_reserve(                 \
			&events, sizeof(*c) + (sizeof(struct ss_ring_slot) << K), 0); \
		if (!c) {                                                      \
			count_n(SS_COUNTER_LOST, left);                        \
			return 0;                                              \
		}                                                              \
		if (RING_READ(c + 1, sizeof(struct ss_ring_slot) << K,         \
			      (void *)(st->ring + sizeof(struct ss_ring) +     \
				       (seq & mask) * sizeof(struct ss_ring_slot)))) { \
			bpf_ringbuf_discard(c, BPF_RB_NO_WAKEUP);              \
			count_n(SS_COUNTER_LOST, left);                        \
			return 0;                                              \
		}                                                              \
		/* Step 3: what the producer may have overwritten meanwhile. */ \
		if (RING_READ(&h2, sizeof(h2), (void *)(st->ring + 24)))        \
			h2 = ~0ULL;	/* unknown: the recorder drops them */ \
		c->ts = bpf_ktime_get_ns();                                    \
		c->type = SS_RING_CHUNK;                                       \
		c->tid = tid;                                                  \
		c->cpu = bpf_get_smp_processor_id();                           \
		c->count = 1U << K;                                            \
		c->first = seq;                                                \
		c->head_after = h2;                                            \
		c->skipped = skipped;                                          \
		c->cap = st->cap;                                              \
		c->why = why;                                                  \
		c->ring = st->ring;                                            \
		skipped = 0;                                                   \
		seq += 1U << K;                                                \
		left -= 1U << K;                                               \
		count(SS_COUNTER_EMITTED);                                     \
		submit((struct ss_record *)c);                                 \
	} while (0)
#define RING_PUT_IF(K)                                                         \
	if (left & (1U << K))                                                  \
		RING_PUT(K)

/*
 * One claim, never across the ring's end (what lies past it is the next
 * drain's): whole 2^RING_PIECE_MAX pieces, then one piece per bit of the
 * rest.
 */
#define DEFINE_RING_DRAIN(NAME, ...)                                           \
static __noinline int NAME##_once(struct ring_state *st, __u32 tid, __u32 why, \
				  __u64 max, ##__VA_ARGS__)                    \
{                                                                              \
	__u64 h1 = 0, h2 = 0, tail = st->tail, from, left, seq;                \
	__u64 mask = st->cap - 1, skipped = 0;                                 \
                                                                               \
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
	seq = from;                                                            \
	for (int i = 0; i < RING_BULK && left >= (1U << RING_PIECE_MAX); i++)  \
		RING_PUT(RING_PIECE_MAX);                                      \
	RING_PUT_IF(10); RING_PUT_IF(9); RING_PUT_IF(8); RING_PUT_IF(7);       \
	RING_PUT_IF(6); RING_PUT_IF(5); RING_PUT_IF(4); RING_PUT_IF(3);        \
	RING_PUT_IF(2); RING_PUT_IF(1); RING_PUT_IF(0);                        \
	if (left)                                                              \
		count_n(SS_COUNTER_LOST, left);                                \
	return 0;                                                              \
}

#define RING_READ(dst, size, src) bpf_probe_read_user(dst, size, src)
DEFINE_RING_DRAIN(ring_drain_current)
#undef RING_READ
#define RING_READ(dst, size, src) bpf_copy_from_user_task(dst, size, src, task, 0)
DEFINE_RING_DRAIN(ring_drain_task, struct task_struct *task)
#undef RING_READ

/* Two claims: up to the ring's end, then what lies past it — left for
 * later, it would let a ring fill to the brim between half-ring flushes,
 * where a concurrent copy loses the slots the producer overwrites. */
static __always_inline void ring_drain_current(struct ring_state *st, __u32 tid,
					       __u32 why, __u64 max)
{
	ring_drain_current_once(st, tid, why, max);
	ring_drain_current_once(st, tid, why, max);
}

static __always_inline void ring_drain_task(struct ring_state *st, __u32 tid,
					    __u32 why, __u64 max,
					    struct task_struct *task)
{
	ring_drain_task_once(st, tid, why, max, task);
	ring_drain_task_once(st, tid, why, max, task);
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

/* ring_flush(ring): the owner's ring is half full since its last flush
 * (or was just made).  Its spec's cookie is the provider. */
SEC("uprobe")
int handle_ring_flush(struct pt_regs *ctx)
{
	struct ring_key key = { current_tid(), (__u32)ss_usdt_cookie(ctx) };
	struct ring_state *st;
	__u64 ring = 0;

	if (!current_is_target() || key.provider >= SS_RING_PROVIDERS ||
	    ss_usdt_arg(ctx, 0, &ring) || !ring)
		return 0;
	st = ring_learn(&key, (__u64)ring);
	if (st)
		ring_drain_current(st, key.tid, SS_DRAIN_FLUSH, RING_DRAIN_MAX);
	return 0;
}

/* ring_retire(ring): the owner is exiting; what is left, then forget it. */
SEC("uprobe")
int handle_ring_retire(struct pt_regs *ctx)
{
	struct ring_key key = { current_tid(), (__u32)ss_usdt_cookie(ctx) };
	struct ring_state *st;
	__u64 ring = 0;

	if (!current_is_target() || ss_usdt_arg(ctx, 0, &ring) || !ring)
		return 0;
	st = bpf_map_lookup_elem(&rings, &key);
	if (st && st->ring == (__u64)ring)
		ring_drain_current(st, key.tid, SS_DRAIN_RETIRE, RING_DRAIN_MAX);
	bpf_map_delete_elem(&rings, &key);
	return 0;
}

/* The periodic pull: the recorder reads this iterator every few ms, so
 * a thread that never leaves its CPU still shows up. */
SEC("iter.s/task")
int handle_ring_pull(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct ring_key wsrt, shim;
	struct ring_state *st;

	if (!task || task->tgid != targ_tgid)
		return 0;
	wsrt.tid = shim.tid = task->pid;
	wsrt.provider = SS_RING_WSRT;
	shim.provider = SS_RING_SHIM;
	if ((st = bpf_map_lookup_elem(&rings, &wsrt)))
		ring_drain_task(st, wsrt.tid, SS_DRAIN_PULL, RING_DRAIN_MAX, task);
	if ((st = bpf_map_lookup_elem(&rings, &shim)))
		ring_drain_task(st, shim.tid, SS_DRAIN_PULL, RING_DRAIN_MAX, task);
	return 0;
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

/* ---- the ring buffer's warm-up ------------------------------------------- */

#define WARM_BYTES 65536	/* a record: its pages, one write each */
#define WARM_PER_RUN 256	/* records per run: 16 MiB */

/*
 * Run by the recorder (BPF_PROG_TEST_RUN) before the target goes, until
 * each page of the ring buffer has been written once.  The first write to
 * a page of it costs a fault in the hypervisor's page tables (~10 us under
 * PVM), and the first read of it one in the recorder's: otherwise paid
 * during the first lap of the ring buffer (64 MiB: the first 0.2 s of a
 * busy target), by the target's threads copying their rings out (measured:
 * chained_spawn at 2x its plain time for those 0.2 s).  Returns the records
 * written (fewer than WARM_PER_RUN: the ring buffer is half full, read it).
 */
SEC("syscall")
int warm_ring(void *ctx)
{
	__u64 size = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE);

	for (int i = 0; i < WARM_PER_RUN; i++) {
		char *c;

		/* Half the ring buffer left to a running target's events
		 * (record -p): the recorder reads between runs. */
		if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) + WARM_BYTES > size / 2 ||
		    !(c = bpf_ringbuf_reserve(&events, WARM_BYTES, 0)))
			return i;
		for (int k = 0; k < WARM_BYTES; k += 4096)
			c[k] = 0;
		((struct ss_record *)c)->type = SS_RING_WARM;
		bpf_ringbuf_submit(c, BPF_RB_NO_WAKEUP);
	}
	return WARM_PER_RUN;
}

/* ---- USDT: the runtime's and the shim's probes ---------------------------- */

SEC("uprobe")
int handle_usdt(struct pt_regs *ctx)
{
	/* Attached with a pid filter, one uprobe_multi link per binary
	 * (loaded with expected attach type BPF_TRACE_UPROBE_MULTI). */
	struct ss_usdt_spec *spec = ss_usdt_spec(ctx);
	struct ss_record *r;

	if (!spec)
		return 0;
	r = reserve((__u32)spec->cookie, current_tid());
	if (!r)
		return 0;
	for (int i = 0; i < SS_RECORD_ARGS; i++) {
		__u64 v;
		if (!ss_usdt_arg(ctx, i, &v))
			r->args[i] = v;
	}
	submit(r);
	return 0;
}

/* ---- scheduling --------------------------------------------------------------- */

SEC("tp_btf/sched_switch")
int BPF_PROG(handle_sched_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next, unsigned int prev_state)
{
	bool p = prev->tgid == targ_tgid, n = next->tgid == targ_tgid;
	struct ss_record *r;

	/* Nothing of the target's: the cheapest way out, before anything
	 * else (this runs at every context switch of the machine). */
	if (!p && !n)
		return 0;
	/* What was stolen since the last sample was prev's: sampled when a
	 * target thread comes on a CPU and when it leaves (and at its
	 * records), which bounds each of its runs. */
	steal_sample(p);
	/* No ring drain here: copying a few slots at every switch of the
	 * target cost 2.5 us a switch under HTTP load (a tenth of a CPU);
	 * the periodic pull takes the same slots in batches, within 5 ms. */
	r = reserve_only(SS_SCHED_SWITCH, prev->pid);
	if (!r)
		return 0;
	r->args[0] = prev->pid;
	r->args[1] = next->pid;
	r->args[2] = prev_state;
	r->args[3] = p;
	r->args[4] = n;
	submit(r);
	return 0;
}

SEC("tp_btf/sched_waking")
int BPF_PROG(handle_sched_waking, struct task_struct *p)
{
	struct ss_record *r;

	if (p->tgid != targ_tgid)
		return 0;
	r = reserve(SS_SCHED_WAKING, p->pid);
	if (!r)
		return 0;
	r->args[0] = current_tid();
	submit(r);
	return 0;
}

/* ---- threads ------------------------------------------------------------------- */

SEC("tp_btf/task_newtask")
int BPF_PROG(handle_task_newtask, struct task_struct *task, u64 clone_flags)
{
	struct ss_record *r;

	if (task->tgid != targ_tgid)
		return 0;
	r = reserve(SS_THREAD_NEW, task->pid);
	if (!r)
		return 0;
	r->args[0] = current_tid();
	submit(r);
	return 0;
}

SEC("tp_btf/task_rename")
int BPF_PROG(handle_task_rename, struct task_struct *task, const char *comm)
{
	struct ss_record *r;

	if (task->tgid != targ_tgid)
		return 0;
	r = reserve(SS_COMM, task->pid);
	if (!r)
		return 0;
	bpf_probe_read_kernel_str(&r->args[0], 16, comm);
	submit(r);
	return 0;
}

/*
 * A signal taken by a target thread.  One that kills the process (a
 * default action, or the SIGKILL every other thread gets at exit_group or
 * a fatal signal) leaves no ring_retire and no exit syscall: the rings
 * are read here, while the thread is still in its address space (the
 * exit tracepoint comes after it has left it).  SIGKILL: every ring of
 * the process (the thread that called exit_group, or took the fatal
 * signal, may have gone already; its memory lives while any thread
 * does).  Another signal taking its default action (SIG_DFL: it may be
 * fatal): this thread's rings.  A signal with a handler ends nothing:
 * left alone (profilers and runtimes take thousands a second).
 */
SEC("tp_btf/signal_deliver")
int BPF_PROG(handle_signal_deliver, int sig, struct kernel_siginfo *info,
	     struct k_sigaction *ka)
{
	if (!current_is_target())
		return 0;
	if (sig == 9)
		bpf_for_each_map_elem(&rings, drain_one, NULL, 0);
	else if (!BPF_CORE_READ(ka, sa.sa_handler))	/* SIG_DFL */
		drain_thread(current_tid(), SS_DRAIN_EXIT, RING_DRAIN_MAX);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_process_exit, struct task_struct *task, bool group_dead)
{
	struct ss_record *r;

	if (task->tgid != targ_tgid)
		return 0;
	{
		struct ring_key key = { task->pid, SS_RING_WSRT };

		bpf_map_delete_elem(&rings, &key);	/* its memory may be gone */
		key.provider = SS_RING_SHIM;
		bpf_map_delete_elem(&rings, &key);
		epoll_left(task->pid);	/* died in an epoll wait */
	}
	r = reserve(SS_THREAD_EXIT, task->pid);
	if (!r)
		return 0;
	r->args[0] = task->exit_code;
	r->args[1] = group_dead;
	submit(r);
	return 0;
}

/* ---- syscalls: futex, epoll, exit ------------------------------------------------------ */

/*
 * One program at syscall entry and one at exit (raw_syscalls, tp_btf),
 * for every syscall of the machine: the tgid first, then the few this
 * tracer wants.  Cheaper than one perf-event tracepoint per syscall (no
 * perf buffer per call), they need no tracefs, and two links detach in
 * one grace period where twelve took half a second.
 */
#define NR_futex 202
#define NR_epoll_wait 232
#define NR_epoll_ctl 233
#define NR_epoll_pwait 281
#define NR_epoll_pwait2 441
#define NR_exit 60
#define NR_exit_group 231

static __always_inline __s64 timespec_ns(const void *uptr)
{
	struct __kernel_timespec ts;

	if (!uptr || bpf_probe_read_user(&ts, sizeof(ts), uptr))
		return -1;
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static __always_inline void futex_enter(const struct pt_regs *regs)
{
	struct ss_record *r = reserve(SS_FUTEX_ENTER, current_tid());
	__u64 op = regs->si, a4 = regs->r10;
	int cmd = op & 0x7f;

	if (!r)
		return;
	r->args[0] = regs->di;
	r->args[1] = op;
	r->args[2] = regs->dx;
	/* FUTEX_WAIT* take a timespec; other ops use the slot as val2. */
	r->args[3] = (cmd == 0 || cmd == 9 || cmd == 11) ?
			     (__u64)timespec_ns((const void *)a4) : a4;
	submit(r);
}

static __always_inline void epoll_enter(const struct pt_regs *regs, int which)
{
	__u32 tid = current_tid();
	__u8 one = 1;
	struct ss_record *r;

	if (!bpf_map_update_elem(&epoll_waiters, &tid, &one, BPF_NOEXIST))
		__sync_fetch_and_add(&in_epoll, 1);
	r = reserve(SS_EPOLL_ENTER, tid);
	if (!r)
		return;
	r->args[0] = regs->di;
	r->args[1] = regs->dx;
	r->args[2] = which == 2 ? (__u64)timespec_ns((const void *)regs->r10)
				: (__u64)(long)(int)regs->r10;
	r->args[3] = which;
	submit(r);
}


static __always_inline void epoll_exit(long ret, int which)
{
	__u32 tid = current_tid();
	struct ss_record *r;

	epoll_left(tid);
	if (ret > 0)
		ready_pending = 0;	/* harvested */
	r = reserve(SS_EPOLL_EXIT, tid);
	if (!r)
		return;
	r->args[0] = ret;
	r->args[1] = which;
	submit(r);
}

/* The inode of fd in the current task if it is a socket, else 0. */
static __always_inline __u64 socket_inode(int fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct file **fds = BPF_CORE_READ(task, files, fdt, fd);
	unsigned int max = BPF_CORE_READ(task, files, fdt, max_fds);
	struct file *f = NULL;

	if (fd < 0 || (unsigned int)fd >= max)
		return 0;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	if (!f)
		return 0;
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	if ((BPF_CORE_READ(ino, i_mode) & S_IFMT) != S_IFSOCK)
		return 0;
	return BPF_CORE_READ(ino, i_ino);
}

static __always_inline void epoll_ctl(const struct pt_regs *regs)
{
	int op = (int)regs->si, fd = (int)regs->dx;
	__u64 uevents = regs->r10, ino;
	struct ss_record *r;
	__u32 one = 1, events = 0;

	ino = socket_inode(fd);
	if (ino) {
		if (op == EPOLL_CTL_DEL)
			bpf_map_delete_elem(&socks, &ino);
		else
			bpf_map_update_elem(&socks, &ino, &one, BPF_ANY);
	}
	if (op != EPOLL_CTL_DEL && uevents)
		bpf_probe_read_user(&events, sizeof(events), (const void *)uevents);
	r = reserve(SS_EPOLL_CTL, current_tid());
	if (!r)
		return;
	r->args[0] = regs->di;
	r->args[1] = op;
	r->args[2] = fd;
	r->args[3] = events;
	r->args[4] = ino;
	submit(r);
}


/* One of the syscalls above: a compare on a register, cheaper than the
 * tgid (a helper call), so first. */
static __always_inline bool wanted_syscall(long id)
{
	return id == NR_futex || id == NR_epoll_wait || id == NR_epoll_pwait ||
	       id == NR_epoll_pwait2 || id == NR_epoll_ctl || id == NR_exit ||
	       id == NR_exit_group;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(handle_sys_enter, struct pt_regs *regs, long id)
{
	if (!wanted_syscall(id) || !current_is_target())
		return 0;
	switch (id) {
	case NR_futex:
		futex_enter(regs);
		break;
	case NR_epoll_wait:
		epoll_enter(regs, 0);
		break;
	case NR_epoll_pwait:
		epoll_enter(regs, 1);
		break;
	case NR_epoll_pwait2:
		epoll_enter(regs, 2);
		break;
	case NR_epoll_ctl:
		epoll_ctl(regs);
		break;
	case NR_exit:
		drain_thread(current_tid(), SS_DRAIN_EXIT, RING_DRAIN_MAX);
		break;
	case NR_exit_group:
		bpf_for_each_map_elem(&rings, drain_one, NULL, 0);
		break;
	}
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(handle_sys_exit, struct pt_regs *regs, long ret)
{
	long id = regs->orig_ax;
	struct ss_record *r;

	if (!wanted_syscall(id) || !current_is_target())
		return 0;
	switch (id) {
	case NR_futex:
		r = reserve(SS_FUTEX_EXIT, current_tid());
		if (r) {
			r->args[0] = ret;
			submit(r);
		}
		break;
	case NR_epoll_wait:
		epoll_exit(ret, 0);
		break;
	case NR_epoll_pwait:
		epoll_exit(ret, 1);
		break;
	case NR_epoll_pwait2:
		epoll_exit(ret, 2);
		break;
	}
	return 0;
}

/* ---- readiness arriving --------------------------------------------------------------- */

SEC("tp_btf/sk_data_ready")
int BPF_PROG(handle_sk_data_ready, const struct sock *sk)
{
	/* Runs in whoever delivers the data (on loopback: the sender), for
	 * every socket of the machine.  Worth a record only while no target
	 * thread waits in epoll (it would harvest it at once) and the last
	 * readiness recorded has been harvested (the analyzer's rule: the
	 * first readiness of a wait is the one that counts) — checked before
	 * anything else, then: is it a socket the target polls? */
	struct socket *so;
	struct file *f;
	__u64 ino;
	struct ss_record *r;

	if (in_epoll || ready_pending)
		return 0;
	/* Plain loads through BTF pointers, not a chain of probe-read
	 * helper calls: this runs for every socket of the machine. */
	if (!(so = sk->sk_socket) || !(f = so->file))
		return 0;
	ino = f->f_inode->i_ino;
	if (!ino || !bpf_map_lookup_elem(&socks, &ino))
		return 0;
	ready_pending = 1;
	r = reserve(SS_SK_DATA_READY, current_tid());
	if (!r)
		return 0;
	r->args[0] = ino;
	r->args[1] = sk->__sk_common.skc_family;
	r->args[2] = sk->sk_protocol;
	submit(r);
	return 0;
}

