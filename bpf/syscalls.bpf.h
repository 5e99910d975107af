// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The futex, epoll and exit syscalls (stallscope.bpf.c has the whole, and
 * the two raw_syscalls programs that call these): what each records; the
 * target's epoll instances, and whether readiness on a socket is worth a
 * record (sk_data_ready).  Included once, by stallscope.bpf.c, after
 * emit.bpf.h.
 */
#ifndef STALLSCOPE_SYSCALLS_BPF_H
#define STALLSCOPE_SYSCALLS_BPF_H

#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define EPOLL_CTL_DEL 2

/* The target's epoll instances (struct eventpoll addresses): learned
 * where one of its threads sleeps in one (sched_switch, and the rings'
 * pull for a thread asleep since before the recording), whether or not
 * the syscall programs are attached — not at every epoll_wait call, a
 * file-table walk on a path a busy server takes a hundred thousand
 * times a second.  sk_data_ready asks them whether readiness is worth a
 * record (sock_ready_first), for every packet of the machine: a few
 * compares over a small array, not a hash map's lookup (a helper call
 * and a hash, for every packet of wrk's too).  A runtime has one
 * instance or a few; past EPS_MAX, a new one takes the oldest's slot,
 * which its runtime's next sleep in it takes back.  With each, the item
 * (struct epitem) whose readiness on it was recorded last (0 before the
 * first). */
#define EPS_MAX 8
struct ep_known {
	__u64 ep;
	__u64 last;
	__u64 last_sk;	/* last's socket (struct sock), as it was recorded */
	/* With sleep parks (below): the readiness recorded last is still
	 * pending (taken is not yet recorded), and its socket's inode. */
	__u32 pend;
	__u64 ino;
	__u64 at;	/* when it was recorded */
};
static struct ep_known eps[EPS_MAX];
static __u32 eps_next;
/* Raised as an instance is learned (what sk_memo kept is then looked
 * at again). */
static __u32 eps_gen;

/* The index of ep in eps, or -1. */
static __always_inline int ep_index(__u64 ep)
{
	for (int i = 0; i < EPS_MAX; i++)
		if (eps[i].ep == ep)
			return i;
	return -1;
}

/* The slot of ep in eps, or NULL. */
static __always_inline struct ep_known *ep_find(__u64 ep)
{
	int i = ep_index(ep);

	return i >= 0 && i < EPS_MAX ? &eps[i] : NULL;
}

/* The kernel's epoll wake-up callback (ep_poll_callback): what tells an
 * epoll instance's entry in a socket's wait queue from another waiter's.
 * Read off an entry of the first epoll instance learned that has one (0
 * until then: the eps lookup alone decides), not resolved as a ksym,
 * which has libbpf read all of /proc/kallsyms: 100 ms more per record. */
__u64 ep_cb = 0;
/* A kernel address as a structure of BTF type id, for plain loads. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

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

/* The file of fd in task (NULL if none).  Plain loads down to the
 * table (a fault reads as 0), one probe-read for its slot (a variable
 * index into it): at every sleep of a target thread in epoll_wait, where
 * a probe-read a step took seven helper calls. */
static __always_inline struct file *task_file(struct task_struct *task, int fd)
{
	struct files_struct *files = task->files;
	struct fdtable *fdt = files ? files->fdt : NULL;
	struct file **fds;
	struct file *f = NULL;

	if (!fdt || fd < 0 || (unsigned int)fd >= fdt->max_fds)
		return NULL;
	fds = fdt->fd;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

/* The private data of file f (a probe-read's result): a plain load. */
static __always_inline __u64 file_private(struct file *f)
{
	struct file *ff = f ? bpf_rdonly_cast(f, bpf_core_type_id_kernel(struct file)) : NULL;

	return ff ? (__u64)ff->private_data : 0;
}

/* The wake function of one of ep's entries (any one: the root of its
 * tree of items), i.e. ep_poll_callback; 0 if it has none. */
static __always_inline __u64 ep_entry_func(__u64 ep)
{
	struct eventpoll *e = bpf_rdonly_cast((void *)ep,
					      bpf_core_type_id_kernel(struct eventpoll));
	__u64 node = (__u64)e->rbr.rb_root.rb_node;
	struct epitem *epi;

	if (!node)
		return 0;
	epi = bpf_rdonly_cast((void *)(node - bpf_core_field_offset(struct epitem, rbn)),
			      bpf_core_type_id_kernel(struct epitem));
	return epi->pwqlist ? (__u64)epi->pwqlist->wait.func : 0;
}

/* Epoll instance behind task's fd epfd: one of the target's (eps).
 * Returns it (0: none). */
static __always_inline __u64 epoll_learn_fd(struct task_struct *task, int epfd)
{
	__u64 ep = file_private(task_file(task, epfd));
	struct ep_known *k;

	if (!ep)
		return 0;
	if (!ep_cb)
		ep_cb = ep_entry_func(ep);
	if (ep_find(ep))
		return ep;
	/* Two CPUs learning two instances at once may take one slot: the
	 * one overwritten is learned again at its next sleep. */
	k = &eps[eps_next++ % EPS_MAX];
	k->last = 0;
	k->last_sk = 0;
	k->pend = 0;
	k->ep = ep;
	eps_gen++;
	return ep;
}

static __always_inline __s64 timespec_ns(const void *uptr)
{
	struct __kernel_timespec ts;

	if (!uptr || bpf_probe_read_user(&ts, sizeof(ts), uptr))
		return -1;
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A futex_enter record's arguments, from the caller's registers. */
static __always_inline void futex_args(struct ss_record *r, const struct pt_regs *regs)
{
	__u64 op = regs->si, a4 = regs->r10;
	int cmd = op & 0x7f;

	r->args[0] = regs->di;
	r->args[1] = op;
	r->args[2] = regs->dx;
	/* FUTEX_WAIT* take a timespec; other ops use the slot as val2. */
	r->args[3] = (cmd == 0 || cmd == 9 || cmd == 11) ?
			     (__u64)timespec_ns((const void *)a4) : a4;
}

/* An epoll_enter record's (which: 0 wait, 1 pwait, 2 pwait2). */
static __always_inline void epoll_args(struct ss_record *r, const struct pt_regs *regs, int which)
{
	r->args[0] = regs->di;
	r->args[1] = regs->dx;
	r->args[2] = which == 2 ? (__u64)timespec_ns((const void *)regs->r10)
				: (__u64)(long)(int)regs->r10;
	r->args[3] = which;
}

static __always_inline void futex_enter(const struct pt_regs *regs)
{
	struct ss_record *r = reserve(SS_FUTEX_ENTER, current_tid());

	if (!r)
		return;
	futex_args(r, regs);
	submit(r);
}

static __always_inline void epoll_enter(const struct pt_regs *regs, int which)
{
	struct ss_record *r = reserve(SS_EPOLL_ENTER, current_tid());

	if (!r)
		return;
	epoll_args(r, regs, which);
	submit(r);
}


static __always_inline void epoll_exit(long ret, int which)
{
	__u32 tid = current_tid();
	struct ss_record *r;

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
	__u32 events = 0;

	ino = socket_inode(fd);
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
 * Task, a target thread, sleeps (at sched_switch, as it leaves its CPU;
 * at the periodic pull, one that was asleep before the recording began)
 * in the syscall nr (from its saved registers regs).  Inside an epoll
 * wait, its epoll instance (the struct eventpoll behind the wait's fd)
 * joins eps; returned (0: none).
 */
static __always_inline __u64 epoll_learn(struct task_struct *task, const struct pt_regs *regs,
					 long nr)
{
	return epoll_wait_nr(nr) ? epoll_learn_fd(task, (int)regs->di) : 0;
}

#define SOCK_WAITERS_MAX 4	/* wait-queue entries looked at per socket */

/*
 * What sock_ready_first found on a socket, kept by the socket's cookie
 * (unique for the boot: a socket made where a freed one was gets
 * another): the item of one of the target's instances polling it, or
 * none.  Valid while the socket's wait queue keeps its first and last
 * entries (an instance that starts polling it joins at one end) and no
 * instance was learned since (eps_gen).  Other programs' sockets (wrk's,
 * a sidecar's) are then told by a compare, and the target's reach their
 * instance without a walk: the wait queue's entry and the item are two
 * more cache lines, missed at nearly every packet (under HTTP load,
 * counted by the kernel, interleaved pairs while the host's speed went
 * from 55 to 95 k requests a second: without the sequence count below,
 * 212-296 ns a call against 234-416, lower in nine pairs of nine; with
 * it, 206-322 against 234-355, lower in six of seven, equal in one).
 * The cookie is made on first use
 * (bpf_get_socket_cookie; sock_diag's, the same).  An instance that
 * stops polling a socket between two others that go on (three pollers)
 * leaves it kept: readiness recorded that its runtime no longer waits
 * for, until the socket's queue changes.
 *
 * Direct-mapped by the cookie, a cache line an entry, shared by the
 * CPUs (a per-CPU map, where each CPU looks at each socket anew, cost
 * more: 305-349 ns a call against 276-296, side by side), written only
 * as a socket is looked at anew.  Two CPUs may look at two new sockets
 * of one entry at once, or one read it while another writes it: a
 * sequence count, odd while it is written, taken from even by one
 * writer alone (the other does not write), read before and after the
 * rest (x86 keeps loads in order, and stores; the compiler is told to).
 */
#define SK_MEMO 256
struct sk_memo {
	__u64 seq;
	__u64 cookie;
	__u64 first, last;	/* the socket's wait queue's ends */
	__u64 epi;		/* the item (0: in none of the target's instances) */
	__u64 ep;		/* its instance */
	__u64 ino;		/* the socket's inode number */
	__u32 at;		/* the instance's index in eps */
	__u32 gen;		/* eps_gen when looked at */
} __attribute__((aligned(64)));
static struct sk_memo sk_memo[SK_MEMO];

/* The entry m for the socket cookie whose wait queue's ends are first
 * and last, as of gen: its item, instance, inode and index into the
 * last four; false if m is not (or not wholly) that. */
static __always_inline bool sk_memo_get(const struct sk_memo *m, __u64 cookie, __u64 first,
					__u64 last, __u32 gen, __u64 *epi, __u64 *ep, __u64 *ino,
					__u32 *at)
{
	__u64 seq = m->seq;

	asm volatile("" ::: "memory");
	if ((seq & 1) || m->cookie != cookie || m->first != first || m->last != last ||
	    m->gen != gen)
		return false;
	*epi = m->epi;
	*ep = m->ep;
	*ino = m->ino;
	*at = m->at;
	asm volatile("" ::: "memory");
	return m->seq == seq;
}

static __always_inline void sk_memo_put(struct sk_memo *m, __u64 cookie, __u64 first, __u64 last,
					__u32 gen, __u64 epi, __u64 ep, __u64 ino, __u32 at)
{
	__u64 seq = m->seq;

	if ((seq & 1) || __sync_val_compare_and_swap(&m->seq, seq, seq + 1) != seq)
		return;		/* another CPU writes it */
	m->cookie = cookie;
	m->first = first;
	m->last = last;
	m->epi = epi;
	m->ep = ep;
	m->ino = ino;
	m->at = at;
	m->gen = gen;
	asm volatile("" ::: "memory");
	m->seq = seq + 2;
}

/*
 * Is the readiness last recorded on ep (on the item its slot's last
 * names) still unharvested?  Two things tell it, both needed:
 *  - the item is on ep's ready list (an item leaves it with
 *    list_del_init: its link then points to itself);
 *  - its socket still has input the program has not taken: data queued
 *    to read, or a connection to accept.
 * Linked alone is not enough: a harvest puts an item back on the list
 * when it is level-triggered and still readable, and when more arrived
 * on it while the harvest was walking the list (a request written in two
 * segments) — and once the program has read it all, that is no longer
 * the readiness recorded; readiness behind it went unrecorded, the
 * request on a new connection while the driver's owner computes among
 * it.  The item's own ep field guards against one freed meanwhile and its
 * memory reused (one reused as another item of ep reads as that item: at
 * worst one harvest's readiness goes unrecorded).  The socket is the one
 * kept as the item was recorded (sk_at), not reached through the item's
 * file and socket: two dependent loads fewer, on a path the target's
 * sockets take at every packet while its workers are busy (counted under
 * the HTTP load, --kernel-only, eight interleaved pairs: sk_data_ready
 * 204-342 ns a call, median 235, against 248-311, median 268; lower in
 * five).  The item being the same, so is its socket (an item holds its
 * file, the file its socket); an item reused reads the old socket, and
 * two CPUs recording on one instance at once may leave one's item with
 * the other's socket: either can cost one harvest's record, as above.
 */
static __always_inline bool recorded_pending(__u64 ep, __u64 last, __u64 sk_at)
{
	struct epitem *l;
	struct sock *sk;

	if (!last || !sk_at)
		return false;
	l = bpf_rdonly_cast((void *)last, bpf_core_type_id_kernel(struct epitem));
	if ((__u64)l->ep != ep ||
	    (__u64)l->rdllink.next == last + bpf_core_field_offset(struct epitem, rdllink))
		return false;
	sk = bpf_rdonly_cast((void *)sk_at, bpf_core_type_id_kernel(struct sock));
	return sk->sk_receive_queue.qlen || sk->sk_ack_backlog;
}

/*
 * At sk_data_ready: is sk polled by one of the target's epoll instances
 * (eps), with no thread waiting in epoll_wait on that instance, and is
 * this the first readiness on it since its last harvest?  Each epoll
 * instance polling a socket hangs an entry (struct eppoll_entry) on the
 * socket's wait queue, which leads to the instance and the socket's item
 * in it.  A thread inside epoll_wait on it is on the instance's own wait
 * queue (ep->wq) and harvests this at once: not worth a record — told
 * per instance, so that a thread asleep in another epoll (a second
 * runtime's driver, say) hides nothing.  The first since the harvest is
 * the one the analyzer times (later ones, before a harvest, change
 * nothing): the tracepoint fires before the socket wakes its waiters, so
 * an empty ready list says so, and with items on it, the one recorded
 * last being among them, its input not yet taken, says not
 * (recorded_pending).  Not the list's being non-empty alone:
 * a socket registered while ready (every new connection is writable)
 * waits there until the next harvest, as does a level-triggered item
 * after each harvest that reports it (an eventfd waker), and readiness
 * behind those would go unrecorded — the request that arrives on a new
 * connection while the driver's owner computes, the very stall
 * idle_but_parked is about.  Records the item in eps (its slot into
 * *slot); returns the socket's inode if a record is worth making, else 0.
 */
static __always_inline __u64 sock_ready_first(const struct sock *sk, struct ep_known **slot)
{
	/* Plain loads (a fault reads as 0), not probe-read helper calls:
	 * this runs for every packet of the machine while no target thread
	 * sleeps in epoll.  bpf_rdonly_cast makes the containing structures
	 * of the list entries loadable that way. */
	__u32 id_entry = bpf_core_type_id_kernel(struct eppoll_entry);
	__u32 id_ep = bpf_core_type_id_kernel(struct eventpoll);
	__u64 off_entry = bpf_core_field_offset(struct wait_queue_entry, entry);
	__u64 off_wait = bpf_core_field_offset(struct eppoll_entry, wait);
	__u64 off_rdl = bpf_core_field_offset(struct eventpoll, rdllist);
	__u64 off_wq = bpf_core_field_offset(struct eventpoll, wq) +
		       bpf_core_field_offset(struct wait_queue_head, head);
	struct socket_wq *wq = sk->sk_wq;
	struct eventpoll *ep;
	struct ep_known *k;
	struct sk_memo *m;
	__u64 head, first, last, cookie, key, epi = 0, ino = 0;
	__u32 gen = eps_gen, at = 0;

	if (!wq)
		return 0;
	head = (__u64)&wq->wait.head;
	first = (__u64)wq->wait.head.next;
	last = (__u64)wq->wait.head.prev;
	if (!first || first == head)
		return 0;	/* nothing polls it */
	cookie = bpf_get_socket_cookie((void *)sk);
	m = &sk_memo[cookie & (SK_MEMO - 1)];
	if (sk_memo_get(m, cookie, first, last, gen, &epi, &key, &ino, &at)) {
		if (!epi || at >= EPS_MAX || eps[at].ep != key)
			return 0;	/* not the target's (or no longer) */
	} else {
		struct list_head *pos = (struct list_head *)first;
		__u64 cb = ep_cb;

		key = 0;
		for (int i = 0; i < SOCK_WAITERS_MAX && pos && (__u64)pos != head; i++) {
			struct eppoll_entry *pe =
				bpf_rdonly_cast((void *)((__u64)pos - off_entry - off_wait), id_entry);

			if (!cb || (__u64)pe->wait.func == cb) {
				struct epitem *e = pe->base;
				int n;

				key = (__u64)e->ep;
				n = key ? ep_index(key) : -1;
				if (n >= 0) {
					struct socket *so = sk->sk_socket;

					epi = (__u64)e;
					at = (__u32)n;
					ino = so && so->file ? so->file->f_inode->i_ino : 0;
					break;
				}
			}
			pos = pos->next;
		}
		/* None of the target's is kept only from a walk to the
		 * queue's end (not one cut at SOCK_WAITERS_MAX) that knew
		 * the callback (without it, every entry was taken for
		 * epoll's). */
		if (epi || ((!pos || (__u64)pos == head) && cb))
			sk_memo_put(m, cookie, first, last, gen, epi, key, ino, at);
		if (!epi)
			return 0;
	}
	if (at >= EPS_MAX)
		return 0;
	k = &eps[at];
	ep = bpf_rdonly_cast((void *)key, id_ep);
	if ((__u64)ep->wq.head.next != key + off_wq)
		return 0;	/* a thread waits on it */
	if ((__u64)ep->rdllist.next != key + off_rdl && recorded_pending(key, k->last, k->last_sk))
		return 0;	/* not the first */
	if (ino) {
		k->last = epi;
		k->last_sk = (__u64)sk;
		*slot = k;
	}
	return ino;
}

/* One of the syscalls above: a compare on a register, cheaper than the
 * tgid (a helper call), so first. */
static __always_inline bool wanted_syscall(long id)
{
	return id == NR_futex || id == NR_epoll_wait || id == NR_epoll_pwait ||
	       id == NR_epoll_pwait2 || id == NR_epoll_ctl || id == NR_exit ||
	       id == NR_exit_group;
}

/*
 * Parks from sleeps (--kernel-only, docs/recording.md): no syscall
 * hooked, as hooking any puts every syscall of the machine on the
 * kernel's slow path.  A target thread that goes to sleep inside a futex
 * or an epoll wait (the syscall number in its saved registers, at
 * sched_switch) gets the futex_enter / epoll_enter record the syscall
 * hook would have made, with the same arguments (its registers), and the
 * exit record when it next comes on a CPU.  A wait that does not sleep
 * (the word had changed, events were ready) makes none: it parked
 * nobody.  The exit cannot know the syscall's return value: a futex
 * exit says 0, an epoll exit 1 if its instance has events ready as the
 * thread wakes, else 0 (a timeout).  A readiness recorded while nobody
 * waited is harvested by a wait that does not sleep: ready_taken_check
 * records when it is no longer pending instead.  Set by the recorder
 * before load.
 */
const volatile bool sleep_parks = false;

/* What a thread asleep in a wait went to sleep in: 0 (nothing recorded),
 * or PARK_FUTEX, or PARK_EPOLL + which; for an epoll wait, its instance
 * (0 if not known); the time of the switch it went to sleep at; when it
 * was first woken since (its sched_waking's time + 1, 0 if none was seen
 * after that switch). */
#define PARK_FUTEX 1
#define PARK_EPOLL 2
struct sleep_park {
	__u64 ep;
	__u64 slept, woken;
	__u32 kind;
};
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sleep_park);
} sleeping SEC(".maps");

/* prev, a target thread, goes to sleep, regs its saved registers and nr
 * the syscall it is in: the record of the wait it sleeps in, if one, at
 * time now, the switch's record at now + 1; sp its sleep_park if it has
 * one (else made). */
static __always_inline void sleep_park_enter(struct task_struct *prev, struct sleep_park *sp,
					     const struct pt_regs *regs, long nr, __u64 ep, __u64 now)
{
	struct ss_record *r;
	int which;

	if (nr != NR_futex && !epoll_wait_nr(nr))
		return;
	/* Where its exit is remembered first: an enter without it would
	 * leave the thread parked for good in the analysis. */
	if (!sp)
		sp = bpf_task_storage_get(&sleeping, prev, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!sp)
		return;
	if (nr == NR_futex) {
		which = -1;
		r = reserve_at(SS_FUTEX_ENTER, prev->pid, now);
		if (!r)
			return;
		futex_args(r, regs);
	} else {
		which = nr == NR_epoll_wait ? 0 : nr == NR_epoll_pwait ? 1 : 2;
		r = reserve_at(SS_EPOLL_ENTER, prev->pid, now);
		if (!r)
			return;
		epoll_args(r, regs, which);
	}
	submit(r);
	/* kind last: a waking on another CPU that sees it sees the rest
	 * (stores in order on x86; the barrier keeps the compiler's). */
	sp->ep = ep;
	sp->slept = now + 1;
	sp->woken = 0;
	asm volatile("" ::: "memory");
	sp->kind = which < 0 ? PARK_FUTEX : PARK_EPOLL + which;
}

/* The exit of the wait sp says task t slept in, at time now
 * (reserve_at), with flags. */
static __always_inline void sleep_park_end(struct task_struct *t, struct sleep_park *sp,
					   __u64 now, __u32 flags)
{
	struct ss_record *r;
	__u32 kind = sp->kind;

	sp->kind = 0;
	r = reserve_at(kind == PARK_FUTEX ? SS_FUTEX_EXIT : SS_EPOLL_EXIT, t->pid, now);
	if (!r)
		return;
	r->flags = flags;
	if (kind != PARK_FUTEX) {
		struct eventpoll *e = sp->ep ? bpf_rdonly_cast((void *)sp->ep,
					bpf_core_type_id_kernel(struct eventpoll)) : NULL;
		__u64 off_rdl = bpf_core_field_offset(struct eventpoll, rdllist);

		r->args[0] = e && (__u64)e->rdllist.next != sp->ep + off_rdl;
		r->args[1] = kind - PARK_EPOLL;
	}
	submit(r);
}

/* next, a target thread, comes on a CPU: the exit of the wait it slept
 * in, if one was recorded, at time now (reserve_at). */
static __always_inline void sleep_park_exit(struct task_struct *next, __u64 now)
{
	struct sleep_park *sp = bpf_task_storage_get(&sleeping, next, 0, 0);

	if (sp && sp->kind)
		sleep_park_end(next, sp, now, 0);
}

/* p, a target thread, is woken (the waking recorded at at - 1; 0: not
 * recorded): when, if it is asleep in a wait (its first waking since it
 * went to sleep), for sleep_park_unseen.  Not a waking that raced the
 * sleep's switch on another CPU and was timed before it: the exit must
 * come after the switch. */
static __always_inline void sleep_park_woken(struct task_struct *p, __u64 at)
{
	struct sleep_park *sp = bpf_task_storage_get(&sleeping, p, 0, 0);

	if (!sp || !sp->kind || sp->woken)
		return;
	if (!at)
		at = bpf_ktime_get_ns();
	if (at > sp->slept)
		sp->woken = at;
}

/*
 * prev, a target thread, leaves its CPU: if the wait it slept in has no
 * exit yet, it came back on a CPU without a sched_switch of ours to say
 * so.  That happens: a kernel need not run tracing programs in every
 * context (seen on a sandboxed VM whose kernel runs none in its agent's
 * threads, whose switches to other threads go unseen).  The exit then,
 * flagged SS_F_SWITCH_UNSEEN: at the waking that ended the sleep if one
 * was seen (the thread ran from some time after it), else at now, as it
 * leaves (reserve_at) — not the thread parked until its next wait.
 * Returns its sleep_park (NULL if it has none) for sleep_park_enter.
 */
static __always_inline struct sleep_park *sleep_park_unseen(struct task_struct *prev, __u64 now)
{
	struct sleep_park *sp = bpf_task_storage_get(&sleeping, prev, 0, 0);

	if (sp && sp->kind)
		sleep_park_end(prev, sp, sp->woken ? sp->woken : now, SS_F_SWITCH_UNSEEN);
	return sp;
}

/*
 * With sleep parks: the readiness each of the target's instances
 * recorded last, still pending when last looked, and no longer
 * (recorded_pending; looked at from TAKEN_MIN_NS after its record on):
 * taken — harvested, and for a level-triggered socket read — by a wait
 * that did not sleep.  Recorded as ready_taken, with the time it was
 * noticed: here, at the target's next context switch or wake-up (the
 * harvesting thread goes on to run what it harvested, wakes a worker for
 * it, or sleeps again), or at the next readiness on the instance; at
 * time now if the caller has read the clock (else 0: read here, once).
 */
#define TAKEN_MIN_NS 50000
static __always_inline void ready_taken_check(__u64 now)
{
	for (int i = 0; i < EPS_MAX; i++) {
		struct ep_known *k = &eps[i];
		struct ss_record *r;

		if (!k->pend)
			continue;
		/* Not within TAKEN_MIN_NS of its record: sk_data_ready fires
		 * before the item joins the ready list, and another CPU
		 * looking in between would see it taken.  Signed: another CPU
		 * may have recorded it after this one read its clock. */
		if (!now)
			now = bpf_ktime_get_ns();
		if ((__s64)(now - k->at) < TAKEN_MIN_NS || recorded_pending(k->ep, k->last, k->last_sk))
			continue;
		k->pend = 0;
		r = reserve_at(SS_READY_TAKEN, current_tid(), now);
		if (!r)
			continue;
		r->args[0] = k->ino;
		submit(r);
	}
}

#endif
