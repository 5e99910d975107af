// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The futex, epoll and exit syscalls (stallscope.bpf.c has the whole, and
 * the two raw_syscalls programs that call these): what each records, the
 * target's epoll waiters, and the socket inodes it polls (for
 * sk_data_ready).  Included once, by stallscope.bpf.c, after emit.bpf.h.
 */
#ifndef STALLSCOPE_SYSCALLS_BPF_H
#define STALLSCOPE_SYSCALLS_BPF_H

#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define EPOLL_CTL_ADD 1
#define EPOLL_CTL_DEL 2
#define EPOLL_CTL_MOD 3

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

#endif
