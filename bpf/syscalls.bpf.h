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

/*
 * Set by the recorder before it attaches anything: 1 when the two
 * syscall programs below are attached (they keep in_epoll, ready_pending
 * and socks), 0 when the preload shim's parks carry the target's epoll
 * and futex waits (its event rings) and no syscall is hooked: hooking
 * any syscall puts every syscall of the machine on the kernel's slow path
 * (bench/syscall_tax.sh), which cost a loaded HTTP server more than all
 * the rest of the recording (bench/README.md).  Then sched_switch keeps
 * in_epoll (a target thread that blocks inside an epoll wait) and learns
 * the target's epoll instances (eps), and sk_data_ready finds its socket's
 * epoll instance through the socket's wait queue (sock_ready_first).
 */
__u32 sys_hooks = 1;

/* Without syscall hooks: the target's epoll instances (struct eventpoll
 * addresses), learned when one of its threads blocks in an epoll wait.
 * LRU: one closed and gone ages out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 256);
	__type(key, __u64);
	__type(value, __u8);
} eps SEC(".maps");

/* The kernel's epoll wake-up callback: what tells an epoll instance's
 * entry in a socket's wait queue from another waiter's (0 if kallsyms
 * does not show it: the eps lookup alone then decides). */
extern const void ep_poll_callback __ksym __weak;
/* A kernel address as a structure of BTF type id, for plain loads. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

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

/* The file of fd in task (NULL if none). */
static __always_inline struct file *task_file(struct task_struct *task, int fd)
{
	struct file **fds = BPF_CORE_READ(task, files, fdt, fd);
	unsigned int max = BPF_CORE_READ(task, files, fdt, max_fds);
	struct file *f = NULL;

	if (fd < 0 || (unsigned int)fd >= max)
		return NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

/* The inode of fd in the current task if it is a socket, else 0. */
static __always_inline __u64 socket_inode(int fd)
{
	struct file *f = task_file(bpf_get_current_task_btf(), fd);

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


static __always_inline bool epoll_wait_nr(long id)
{
	return id == NR_epoll_wait || id == NR_epoll_pwait || id == NR_epoll_pwait2;
}

/*
 * Without syscall hooks, at sched_switch: prev, a target thread, leaves
 * its CPU to sleep.  Inside an epoll wait (the syscall it is in, from its
 * saved registers), it counts in in_epoll until it is back on a CPU
 * (epoll_resumed), and its epoll instance joins eps.  A wait that finds
 * events ready returns without sleeping: never counted, as it harvests
 * what arrives at once.
 */
static __always_inline void epoll_blocked(struct task_struct *prev)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(prev);
	__u32 tid = prev->pid;
	__u8 one = 1;
	struct file *f;
	__u64 ep;

	if (!regs || !epoll_wait_nr(regs->orig_ax))
		return;
	if (!bpf_map_update_elem(&epoll_waiters, &tid, &one, BPF_NOEXIST))
		__sync_fetch_and_add(&in_epoll, 1);
	f = task_file(prev, (int)regs->di);
	ep = f ? (__u64)BPF_CORE_READ(f, private_data) : 0;
	if (ep && !bpf_map_lookup_elem(&eps, &ep))
		bpf_map_update_elem(&eps, &ep, &one, BPF_ANY);
}

/* ... and when it comes back on a CPU, it is no longer waiting. */
static __always_inline void epoll_resumed(__u32 tid)
{
	if (in_epoll)
		epoll_left(tid);
}

#define SOCK_WAITERS_MAX 4	/* wait-queue entries looked at per socket */

/*
 * Without syscall hooks, at sk_data_ready: is sk polled by one of the
 * target's epoll instances (eps), with nothing else ready on that
 * instance?  Each epoll instance polling a socket hangs an entry
 * (struct eppoll_entry) on the socket's wait queue, which leads to the
 * instance.  The tracepoint fires before the socket wakes its waiters,
 * so an empty ready list means this is the first readiness since the
 * instance's last harvest: the one the analyzer times (later ones, before
 * a harvest, would change nothing).  Registrations are edge-triggered in
 * Tokio (mio) and wsrt; a level-triggered one stays on the ready list
 * while it is ready, and readiness behind it is then not recorded.
 * Returns the socket's inode if a record is worth making, else 0.
 */
static __always_inline __u64 sock_ready_first(const struct sock *sk)
{
	/* Plain loads (a fault reads as 0), not probe-read helper calls:
	 * this runs for every packet of the machine while no target thread
	 * sleeps in epoll.  bpf_rdonly_cast makes the containing structures
	 * of the list entries loadable that way. */
	__u32 id_entry = bpf_core_type_id_kernel(struct eppoll_entry);
	__u64 off_entry = bpf_core_field_offset(struct wait_queue_entry, entry);
	__u64 off_wait = bpf_core_field_offset(struct eppoll_entry, wait);
	__u64 off_rdl = bpf_core_field_offset(struct eventpoll, rdllist);
	struct socket_wq *wq = sk->sk_wq;
	struct list_head *pos;
	__u64 head, cb = (__u64)&ep_poll_callback;

	if (!wq)
		return 0;
	head = (__u64)&wq->wait.head;
	pos = wq->wait.head.next;
	for (int i = 0; i < SOCK_WAITERS_MAX && pos && (__u64)pos != head; i++) {
		struct eppoll_entry *pe = bpf_rdonly_cast((void *)((__u64)pos - off_entry - off_wait),
							  id_entry);
		struct eventpoll *ep;
		__u64 key;

		if (!cb || (__u64)pe->wait.func == cb) {
			ep = pe->base->ep;
			key = (__u64)ep;
			if (key && bpf_map_lookup_elem(&eps, &key)) {
				if ((__u64)ep->rdllist.next != key + off_rdl)
					return 0;	/* not the first */
				struct socket *so = sk->sk_socket;
				return so && so->file ? so->file->f_inode->i_ino : 0;
			}
		}
		pos = pos->next;
	}
	return 0;
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
