// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Records into the ring buffer (stallscope.bpf.c has the whole): the
 * target, the ring buffer and its counters, reserving and submitting a
 * record (waking the recorder sparingly), the steal-time sample every
 * record of a target thread carries first.  Included once, by
 * stallscope.bpf.c.
 */
#ifndef STALLSCOPE_EMIT_BPF_H
#define STALLSCOPE_EMIT_BPF_H

const volatile __u32 targ_tgid = 0;

/* Sized by userspace before load (bpf_map__set_max_entries). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

/* Per CPU: SS_COUNTER_LOST (failed reservations). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SS_NR_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

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

/* A record at time ts (0: now, read here).  A program that has read
 * the clock already passes what it read (plus a ns for each record it
 * made at that time, so that time order is the order they were made):
 * on a VM's kvm-clock a read is ~55 ns here, at the records of the
 * machine's busiest tracepoints. */
static __always_inline struct ss_record *reserve_at(__u32 type, __u32 tid, __u64 ts)
{
	struct ss_record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);

	if (!r) {
		count(SS_COUNTER_LOST);
		return NULL;
	}
	r->ts = ts ? ts : bpf_ktime_get_ns();
	r->type = type;
	r->tid = tid;
	r->cpu = bpf_get_smp_processor_id();
	r->flags = 0;
	for (int i = 0; i < SS_RECORD_ARGS; i++)
		r->args[i] = 0;
	return r;
}

static __always_inline struct ss_record *reserve_only(__u32 type, __u32 tid)
{
	return reserve_at(type, tid, 0);
}

/* Per CPU: when this CPU last woke the recorder. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} woke SEC(".maps");

#define WAKE_EVERY_NS 1000000ULL

/* Wake the recorder only once wake_bytes wait in the ring, and then at
 * most once a millisecond per CPU: it drains on a timer otherwise (every
 * 5 ms, the rings' pull).  Waking it per record would have it preempt
 * the target's threads for every event (and a wakeup is an IPI,
 * microseconds in a VM).  Set by the recorder before load: a quarter of
 * the ring, at most 2 MiB — under a load that fills that between two
 * pulls (yield_many: ~1 GB a second) the recorder comes before it is
 * tens of MiB behind. */
const volatile __u64 wake_bytes = 1;

static __always_inline __u64 submit_flags(void)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u32 zero = 0;
	__u64 *last, now;

	if (avail < wake_bytes || !(last = bpf_map_lookup_elem(&woke, &zero)) ||
	    (now = bpf_ktime_get_ns()) - *last < WAKE_EVERY_NS)
		return BPF_RB_NO_WAKEUP;
	*last = now;
	return BPF_RB_FORCE_WAKEUP;
}

static __always_inline void submit(struct ss_record *r)
{
	bpf_ringbuf_submit(r, submit_flags());
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
 * record of a target thread.  When the current thread is the target's
 * and >= STEAL_MIN_NS was stolen, a vcpu_steal record says so, before
 * the record that noticed it.  Returns the clock it read, for the record
 * that follows, or 0: none read, or a vcpu_steal recorded at it (the
 * next record reads its own, later). */
static __always_inline __u64 steal_sample(bool mine)
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
		return 0;
	m = bpf_map_lookup_elem(&steal_seen, &zero);
	if (!m)
		return 0;
	steal = rq->prev_steal_time_rq;
	now = bpf_ktime_get_ns();
	since = m->ts;
	d = steal - m->steal;
	m->steal = steal;
	m->ts = now;
	if (!mine || !since || d < STEAL_MIN_NS || d > now - since)
		return now;
	r = reserve_at(SS_VCPU_STEAL, current_tid(), now);
	if (r) {
		r->args[0] = d;
		r->args[1] = since;
		submit(r);
	}
	return 0;
}

/* The steal sample a record of the current CPU's doing takes first, if
 * the current thread is the target's; its time for the record (0: read
 * one).  Another's needs none: the switch that next brings one of the
 * target's threads on this CPU takes it (a sched_waking of a target
 * thread is often made in another's, sk_data_ready's records in the
 * sender's: wrk's). */
static __always_inline __u64 record_sample(void)
{
	return current_is_target() ? steal_sample(true) : 0;
}

/* A record of the current CPU's doing, after its steal sample. */
static __always_inline struct ss_record *reserve(__u32 type, __u32 tid)
{
	return reserve_at(type, tid, record_sample());
}

#endif
