/* SPDX-License-Identifier: MIT */
/*
 * The record ABI between the eBPF programs and userspace, and the layout of
 * records in a trace file.  Included by bpf/stallscope.bpf.c (kernel) and
 * by userspace/; it includes nothing, so the includer provides __u32/__u64
 * (vmlinux.h in BPF, <linux/types.h> in userspace).
 *
 * Every record is 64 bytes: a timestamp, a type, the thread and CPU, and
 * five u64 arguments whose meaning depends on the type (listed below).
 * Fixed size keeps the BPF side simple and the file trivially seekable.
 *
 * Never renumber a type or move a field: a trace file stores these records
 * as they are.  Add new types at the end of their range and bump
 * SS_RECORD_ABI only for an incompatible change.
 */
#ifndef STALLSCOPE_RECORD_H
#define STALLSCOPE_RECORD_H

#define SS_RECORD_ABI 1
#define SS_RECORD_ARGS 5

struct ss_record {
	__u64 ts;	/* CLOCK_MONOTONIC ns (bpf_ktime_get_ns) */
	__u32 type;	/* enum ss_type */
	__u32 tid;	/* the thread the event is about (see the type) */
	__u32 cpu;	/* where it was recorded */
	__u32 flags;	/* per type; 0 unless said otherwise */
	__u64 args[SS_RECORD_ARGS];
};

_Static_assert(sizeof(struct ss_record) == 64, "record ABI: 64 bytes");
_Static_assert(__builtin_offsetof(struct ss_record, type) == 8, "record ABI");
_Static_assert(__builtin_offsetof(struct ss_record, args) == 24, "record ABI");

/*
 * Record types.  0 is invalid, so a zeroed record is visibly wrong.
 *
 * 1..63: the runtime's USDT probes (provider wsrt), numbered as below; the
 *   arguments are the probe's, in order (docs/probes.md).  tid is the
 *   thread that hit the probe.
 * 64..95: the preload shim's USDT probes (provider stallscope).
 * 96..159: kernel events.
 * 160..: records userspace writes (lost events, thread names at attach).
 */
enum ss_type {
	SS_NONE = 0,

	SS_WSRT_WORKER_START = 1,	/* worker, tid */
	SS_WSRT_WORKER_STOP = 2,	/* worker, tid */
	SS_WSRT_SPAWN = 3,		/* task, parent, poll fn, state */
	SS_WSRT_NOTIFY = 4,		/* task, waker worker, dest, displaced */
	SS_WSRT_POLL_START = 5,		/* worker, task, src */
	SS_WSRT_POLL_END = 6,		/* worker, task, result */
	SS_WSRT_STEAL = 7,		/* thief, victim, count, lifo task */
	SS_WSRT_PARK = 8,		/* worker, kind */
	SS_WSRT_UNPARK = 9,		/* worker, kind */
	SS_WSRT_WAKE_WORKER = 10,	/* waker worker, target worker */
	SS_WSRT_INJECT_PUSH = 11,	/* task or 0, count, len after */
	SS_WSRT_INJECT_POP = 12,	/* worker, count, len after */
	SS_WSRT_OVERFLOW = 13,		/* worker, count */
	SS_WSRT_SEARCH_START = 14,	/* worker */
	SS_WSRT_SEARCH_END = 15,	/* worker, found */
	SS_WSRT_TASK_CANCEL = 16,	/* task */
	SS_WSRT_DRIVER_POLL = 17,	/* worker, timeout us, events */
	SS_WSRT_IO_REGISTER = 18,	/* fd, token */
	SS_WSRT_IO_READY = 19,		/* worker, fd, epoll mask */
	SS_WSRT_TIMER_FIRE = 20,	/* worker, timer, late ns */
	SS_WSRT_LAST = 20,

	/* The preload shim's probes (provider stallscope,
	 * preload/shim_probes.h, docs/preload.md); tid is the thread that
	 * hit the probe. */
	SS_SHIM_FIRST = 64,
	/* start: the shim initialised in the process; args: spurious_wake
	 * and eintr probabilities (parts per million), delay_us, seed (the
	 * faults of STALLSCOPE_FAULTS; all 0: none). */
	SS_SHIM_START = 64,
	/* park_enter: about to block; args: kind (SS_SHIM_KIND_*), object
	 * (the epoll fd, or the futex word's / condvar's / semaphore's
	 * address), op (per kind, | SS_SHIM_OP_* timeout flags), timeout
	 * seconds (-1: none), timeout nanoseconds. */
	SS_SHIM_PARK_ENTER = 65,
	/* park_exit: back; args: kind, object, op, result (>= 0: what the
	 * call returned; < 0: -errno), faults injected (SS_SHIM_FAULT_*). */
	SS_SHIM_PARK_EXIT = 66,
	/* futex_wake: a wake-type futex op returned; args: futex word, op,
	 * count asked, result (woken, or -errno). */
	SS_SHIM_FUTEX_WAKE = 67,
	/* thread_name: args[0..1] = the 16-byte name (zero if it failed),
	 * tid named (0: another thread; the comm record names it), result
	 * (0 or -errno). */
	SS_SHIM_THREAD_NAME = 68,
	SS_SHIM_LAST = 95,

	/* sched_switch: tid = prev; args: prev tid, next tid, prev state
	 * (TASK_* bits; 0 = runnable, i.e. preempted), prev is target (0|1),
	 * next is target (0|1). */
	SS_SCHED_SWITCH = 96,
	/* sched_waking: tid = the woken thread; args: waker tid (current). */
	SS_SCHED_WAKING = 97,
	/* futex enter: args: uaddr, op (FUTEX_* with flags), val, timeout
	 * (ns, or -1 for none).  With sleep parks (SS_FILE_SLEEP_PARKS),
	 * this and the three below are made at sched_switch instead of by
	 * syscall hooks: an enter as a thread goes to sleep inside the
	 * syscall, its exit as it next comes on a CPU; a call that does not
	 * sleep makes none. */
	SS_FUTEX_ENTER = 98,
	/* futex exit: args: return value (with sleep parks: 0). */
	SS_FUTEX_EXIT = 99,
	/* epoll_wait / epoll_pwait / epoll_pwait2 enter: args: epfd, max
	 * events, timeout (ms for wait/pwait; ns for pwait2; -1 none),
	 * which (0 wait, 1 pwait, 2 pwait2). */
	SS_EPOLL_ENTER = 100,
	/* epoll exit: args: return value (events or -errno), which.  With
	 * sleep parks: 1 if the instance had events ready as the thread
	 * woke, else 0. */
	SS_EPOLL_EXIT = 101,
	/* epoll_ctl by the target: args: epfd, op, fd, events, ino (the
	 * socket's inode number, as /proc/PID/fdinfo shows it; 0 if fd is
	 * not a socket). */
	SS_EPOLL_CTL = 102,
	/* sk_data_ready on a socket the target has in an epoll set: tid =
	 * the thread that made the data ready (often another process);
	 * args: ino (the socket's inode number), family, protocol. */
	SS_SK_DATA_READY = 103,
	/* A target thread's name: set at creation or changed (prctl,
	 * pthread_setname_np): args[0..1] = the 16-byte comm. */
	SS_COMM = 104,
	/* A target thread exited: args: exit code if it was the last. */
	SS_THREAD_EXIT = 105,
	/* A new thread of the target: tid = the new thread; args: parent
	 * tid. */
	SS_THREAD_NEW = 106,
	/* The hypervisor kept this CPU from running a target thread (KVM
	 * steal time: the vCPU was runnable but not running): tid = the
	 * target thread on the CPU; args: stolen ns, since (the time of the
	 * previous sample on this CPU: the steal happened in [since, ts]).
	 * Written when >= 1 ms was stolen since the last sample. */
	SS_VCPU_STEAL = 107,
	/* Recorded with sleep parks (SS_FILE_SLEEP_PARKS) only: the
	 * readiness sk_data_ready recorded last on one of the target's
	 * epoll instances is no longer pending there (harvested by a wait
	 * that did not sleep; a level-triggered socket also read), noticed
	 * at a context switch or wake-up of a target thread, or at the next
	 * readiness on the instance: tid = the thread that noticed it;
	 * args: ino (the socket's inode number, as sk_data_ready's). */
	SS_READY_TAKEN = 108,

	/* Written by userspace. */
	/* Lost events: args: count lost, where (SS_LOST_*).  KERNEL: on `cpu`
	 * since the previous record of this kind (failed reservations in the
	 * BPF ring buffer, counted in BPF).  RING: slots of thread `tid`'s
	 * event ring (ring.h) overwritten before they were copied out, or
	 * events dropped for want of a ring (tid 0); cpu is SS_CPU_NONE. */
	SS_LOST = 160,
	/* A thread that existed at attach time: args[0..1] = comm. */
	SS_THREAD_AT_ATTACH = 161,
	/* A drain of a thread's event ring (struct ss_ring_chunk, ring.h):
	 * only between BPF and the recorder, never in a trace file. */
	SS_RING_CHUNK = 162,
	/* In a trace file: struct ss_ring_chunk with this type, then `count`
	 * ring slots (32 bytes each, their ts already CLOCK_MONOTONIC ns),
	 * zero-padded to a multiple of 64 bytes.  Readers hand out the
	 * events they hold as records (userspace/ringdec.c). */
	SS_RING_BLOCK = 163,
	/* The ring buffer's warm-up (bpf/stallscope.bpf.c, warm_ring): only
	 * between BPF and the recorder, which drops it.  SS_RING_WARM_BYTES
	 * each, every page of them written once. */
	SS_RING_WARM = 164,
	/* Tokio's runtime in the executable (record: docs/tokio.md), before
	 * any of its records (SS_F_TOKIO): args: its version (major, minor,
	 * patch; 0.0.0 not known), raw::poll sites and schedule sites
	 * attached (0: none). */
	SS_TOKIO_RUNTIME = 165,
	/* In a trace file (format 3): struct ss_ring_chunk with this type,
	 * then a u32 byte count and that many bytes holding `count` ring
	 * slots packed (userspace/ringpack.c), zero-padded to a multiple of
	 * 64 bytes; read as an SS_RING_BLOCK's slots. */
	SS_RING_PACKED = 166,
};

#define SS_RING_WARM_BYTES 65536

#define SS_LOST_KERNEL 0	/* SS_LOST args[1] */
#define SS_LOST_RING 1
#define SS_CPU_NONE 0xffffffffU	/* a record's cpu when it is not known */

/*
 * flags of a runtime-range record (1..63) made from Tokio's own symbols
 * by uprobes (userspace/tokio_syms.h), not by wsrt's probes.  What such a
 * record knows (the rest is the analyzer's to infer, docs/tokio.md):
 *   notify      task (its header's address), waker worker -1, dest
 *               SS_DEST_UNKNOWN, displaced 0, is_yield (args[4]: from
 *               schedule_task; 0 from raw::schedule)
 *   poll_start  worker -1, task, src SS_SRC_UNKNOWN, poll_fn (args[3]:
 *               the address of the raw::poll monomorphization: it names
 *               the future, userspace/symbols.c)
 *   poll_end    worker -1, task, result SS_RES_UNKNOWN
 * tid is the thread, as for every record.
 */
#define SS_F_TOKIO 1
/* A futex_exit or epoll_exit made with sleep parks (--kernel-only) when
 * the thread was seen leaving a CPU again after its wait without the
 * sched_switch that brought it back (bpf/syscalls.bpf.h,
 * sleep_park_unseen): timed at the waking that ended the wait if one was
 * seen, else as it leaves. */
#define SS_F_SWITCH_UNSEEN 2
/* The cookie of a Tokio uprobe site: which entry point (enum ss_tokio_fn,
 * userspace/tokio_syms.h). */
#define SS_TOKIO_SITE_POLL 0
#define SS_TOKIO_SITE_SCHEDULE 1
#define SS_TOKIO_SITE_SCHEDULE_TASK 2

/* Argument codes of the wsrt probes (runtime/wsrt_probes.h: the same
 * numbers; they are part of this ABI). */
#define SS_DEST_LIFO 0		/* notify destination */
#define SS_DEST_LOCAL 1
#define SS_DEST_INJECT 2
#define SS_DEST_UNKNOWN 3	/* Tokio's: where it went is inferred */
#define SS_PARK_FUTEX 0		/* park/unpark kind */
#define SS_PARK_DRIVER 1
#define SS_SRC_LIFO 0		/* poll_start source */
#define SS_SRC_LOCAL 1
#define SS_SRC_INJECT 2
#define SS_SRC_STEAL 3
#define SS_SRC_UNKNOWN 4	/* Tokio's */
#define SS_RES_PENDING 0	/* poll_end result */
#define SS_RES_READY 1
#define SS_RES_YIELD 2
#define SS_RES_UNKNOWN 3	/* Tokio's: raw::poll returns nothing */

/* Argument codes of the shim's probes (preload/shim_probes.h: the same
 * numbers, checked when the shim is built). */
#define SS_SHIM_KIND_EPOLL 1	/* park kind: object is the epoll fd */
#define SS_SHIM_KIND_FUTEX 2	/* the futex word (futex_waitv: the array) */
#define SS_SHIM_KIND_COND 3	/* the pthread_cond_t */
#define SS_SHIM_KIND_SEM 4	/* the sem_t */
/* op, low 24 bits: epoll 0 wait, 1 pwait, 2 pwait2; futex: the futex op
 * as passed, or SS_SHIM_FUTEX_WAITV | the waiter count; cond and sem:
 * 0 wait, 1 timedwait, 2 clockwait.  High bits: the timeout is ... */
#define SS_SHIM_FUTEX_WAITV 0x10000
#define SS_SHIM_OP_ABS (1U << 30)	/* an absolute deadline, not a span */
#define SS_SHIM_OP_REALTIME (1U << 29)	/* on CLOCK_REALTIME (else MONOTONIC) */
#define SS_SHIM_FAULT_SPURIOUS (1U << 0)	/* park_exit faults */
#define SS_SHIM_FAULT_EINTR (1U << 1)
#define SS_SHIM_FAULT_DELAY (1U << 2)

/* The BPF side's counters, per CPU: events it could not put in the ring
 * buffer (a reservation failed, a ring's slots could not be read). */
#define SS_COUNTER_LOST 0
#define SS_NR_COUNTERS 1

#endif /* STALLSCOPE_RECORD_H */
