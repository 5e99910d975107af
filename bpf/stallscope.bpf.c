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

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);

	if (c)
		__sync_fetch_and_add(c, 1);
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

/* Wake the recorder only once the ring is a quarter full: it drains on a
 * timer otherwise.  Waking it per record would have it preempt the
 * target's threads for every event, and its own context switches are
 * events too. */
static __always_inline void submit(struct ss_record *r)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 size = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE);

	bpf_ringbuf_submit(r, avail >= size / 4 ? BPF_RB_FORCE_WAKEUP
					       : BPF_RB_NO_WAKEUP);
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
 * here: every context switch on the machine samples (so a thread is only
 * charged for what it was running through), as does every record.  When
 * the current thread is the target's and >= STEAL_MIN_NS was stolen, a
 * vcpu_steal record says so, before the record that noticed it. */
static __always_inline void steal_sample(bool mine)
{
	struct task_struct *cur = (struct task_struct *)bpf_get_current_task();
	struct rq *rq = BPF_CORE_READ(cur, se.cfs_rq, rq);
	struct steal_mark *m;
	struct ss_record *r;
	__u32 zero = 0;
	__u64 steal, now, since, d;

	/* The run queue's account of steal (paravirt steal clock, kept up
	 * to date at every clock update: ticks and scheduling events); zero
	 * on a machine without one.  Reached through the current task, so
	 * checked to be this CPU's (not so for a task outside CFS). */
	if (!rq || BPF_CORE_READ(rq, cpu) != (int)bpf_get_smp_processor_id())
		return;
	m = bpf_map_lookup_elem(&steal_seen, &zero);
	if (!m)
		return;
	steal = BPF_CORE_READ(rq, prev_steal_time_rq);
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

	/* On every switch: what was stolen so far was prev's. */
	steal_sample(p);
	if (!p && !n)
		return 0;
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

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_process_exit, struct task_struct *task, bool group_dead)
{
	struct ss_record *r;

	if (task->tgid != targ_tgid)
		return 0;
	r = reserve(SS_THREAD_EXIT, task->pid);
	if (!r)
		return 0;
	r->args[0] = task->exit_code;
	r->args[1] = group_dead;
	submit(r);
	return 0;
}

/* ---- futex -------------------------------------------------------------------------- */

static __always_inline __s64 timespec_ns(const void *uptr)
{
	struct __kernel_timespec ts;

	if (!uptr || bpf_probe_read_user(&ts, sizeof(ts), uptr))
		return -1;
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

SEC("tracepoint/syscalls/sys_enter_futex")
int handle_futex_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct ss_record *r;

	if (!current_is_target())
		return 0;
	r = reserve(SS_FUTEX_ENTER, current_tid());
	if (!r)
		return 0;
	r->args[0] = ctx->args[0];
	r->args[1] = ctx->args[1];
	r->args[2] = ctx->args[2];
	/* FUTEX_WAIT* take a timespec; other ops use the slot as val2. */
	int cmd = ctx->args[1] & 0x7f;
	r->args[3] = (cmd == 0 || cmd == 9 || cmd == 11) ?
			     (__u64)timespec_ns((const void *)ctx->args[3]) :
			     ctx->args[3];
	submit(r);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_futex")
int handle_futex_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct ss_record *r;

	if (!current_is_target())
		return 0;
	r = reserve(SS_FUTEX_EXIT, current_tid());
	if (!r)
		return 0;
	r->args[0] = ctx->ret;
	submit(r);
	return 0;
}

/* ---- epoll ----------------------------------------------------------------------------- */

static __always_inline int epoll_enter(struct trace_event_raw_sys_enter *ctx,
				       int which)
{
	struct ss_record *r;

	if (!current_is_target())
		return 0;
	r = reserve(SS_EPOLL_ENTER, current_tid());
	if (!r)
		return 0;
	r->args[0] = ctx->args[0];
	r->args[1] = ctx->args[2];
	r->args[2] = which == 2 ? (__u64)timespec_ns((const void *)ctx->args[3])
				: (__u64)(long)(int)ctx->args[3];
	r->args[3] = which;
	submit(r);
	return 0;
}

static __always_inline int epoll_exit(struct trace_event_raw_sys_exit *ctx,
				      int which)
{
	struct ss_record *r;

	if (!current_is_target())
		return 0;
	r = reserve(SS_EPOLL_EXIT, current_tid());
	if (!r)
		return 0;
	r->args[0] = ctx->ret;
	r->args[1] = which;
	submit(r);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_epoll_wait")
int handle_epoll_wait_enter(struct trace_event_raw_sys_enter *ctx)
{
	return epoll_enter(ctx, 0);
}

SEC("tracepoint/syscalls/sys_exit_epoll_wait")
int handle_epoll_wait_exit(struct trace_event_raw_sys_exit *ctx)
{
	return epoll_exit(ctx, 0);
}

SEC("tracepoint/syscalls/sys_enter_epoll_pwait")
int handle_epoll_pwait_enter(struct trace_event_raw_sys_enter *ctx)
{
	return epoll_enter(ctx, 1);
}

SEC("tracepoint/syscalls/sys_exit_epoll_pwait")
int handle_epoll_pwait_exit(struct trace_event_raw_sys_exit *ctx)
{
	return epoll_exit(ctx, 1);
}

SEC("tracepoint/syscalls/sys_enter_epoll_pwait2")
int handle_epoll_pwait2_enter(struct trace_event_raw_sys_enter *ctx)
{
	return epoll_enter(ctx, 2);
}

SEC("tracepoint/syscalls/sys_exit_epoll_pwait2")
int handle_epoll_pwait2_exit(struct trace_event_raw_sys_exit *ctx)
{
	return epoll_exit(ctx, 2);
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

SEC("tracepoint/syscalls/sys_enter_epoll_ctl")
int handle_epoll_ctl(struct trace_event_raw_sys_enter *ctx)
{
	int op = (int)ctx->args[1], fd = (int)ctx->args[2];
	struct ss_record *r;
	__u32 one = 1, events = 0;
	__u64 ino;

	if (!current_is_target())
		return 0;
	ino = socket_inode(fd);
	if (ino) {
		if (op == EPOLL_CTL_DEL)
			bpf_map_delete_elem(&socks, &ino);
		else
			bpf_map_update_elem(&socks, &ino, &one, BPF_ANY);
	}
	if (op != EPOLL_CTL_DEL && ctx->args[3])
		bpf_probe_read_user(&events, sizeof(events),
				    (const void *)ctx->args[3]);
	r = reserve(SS_EPOLL_CTL, current_tid());
	if (!r)
		return 0;
	r->args[0] = ctx->args[0];
	r->args[1] = op;
	r->args[2] = fd;
	r->args[3] = events;
	r->args[4] = ino;
	submit(r);
	return 0;
}

/* ---- readiness arriving --------------------------------------------------------------- */

SEC("tp_btf/sk_data_ready")
int BPF_PROG(handle_sk_data_ready, const struct sock *sk)
{
	/* Runs in whoever delivers the data (on loopback: the sender):
	 * filter by socket, not by process. */
	__u64 ino = BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino);
	struct ss_record *r;

	if (!ino || !bpf_map_lookup_elem(&socks, &ino))
		return 0;
	r = reserve(SS_SK_DATA_READY, current_tid());
	if (!r)
		return 0;
	r->args[0] = ino;
	r->args[1] = BPF_CORE_READ(sk, __sk_common.skc_family);
	r->args[2] = BPF_CORE_READ(sk, sk_protocol);
	submit(r);
	return 0;
}
