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
 * (plain tp/ programs occasionally miss events on this kernel); the futex,
 * epoll and exit syscalls (raw_syscalls), only where the preload shim's
 * parks do not say them (the recorder decides); sk_data_ready on
 * the sockets the target's epoll instances poll (readiness arriving, in
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
#include "emit.bpf.h"
#include "ring_drain.bpf.h"
#include "syscalls.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* ---- event rings: the probes that copy them out (ring_drain.bpf.h) ------------- */

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

/* ring_exit(): the process is exiting (exit(), exit_group through
 * syscall()): every ring of it, while its memory is still there.  Fired
 * by the preload shim, so that no exit_group syscall has to be hooked. */
SEC("uprobe")
int handle_ring_exit(struct pt_regs *ctx)
{
	if (current_is_target())
		bpf_for_each_map_elem(&rings, drain_one, NULL, 0);
	return 0;
}

/* Per target thread, the pull's: 1 + its context switches when the last
 * pull found it off its CPU, else 0. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} pull_quiet SEC(".maps");

/*
 * The periodic pull: the recorder reads this iterator every few ms, so
 * a thread that never leaves its CPU still shows up.  Not a thread that
 * has not run since the last pull found it off its CPU: its context
 * switches (counted as it leaves a CPU) are what they were then, and it
 * is not on one now — read before the drains read the heads, so a run
 * that began before those reads and ended after shows as either.  A
 * thread asleep for seconds (an idle worker, a blocking pool's) then
 * costs no read of the target's memory, each of which, from another
 * process, walks its page tables (an idle server of 8 workers: the pull
 * took 3-6 ms of CPU in 5 s, 41-50 before; 1-2 with the recorder's
 * back-off).  Writes a byte for each
 * thread that was not quiet: while there is none, the recorder pulls
 * less often.
 */
SEC("iter.s/task")
int handle_ring_pull(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct ring_key wsrt, shim;
	struct ring_state *st;
	__u64 *quiet, sw;
	bool off;

	if (!task || task->tgid != targ_tgid)
		return 0;
	sw = task->nvcsw + task->nivcsw + 1;
	off = !task->on_cpu;
	quiet = bpf_task_storage_get(&pull_quiet, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (quiet) {
		if (off && *quiet == sw)
			return 0;
		/* For the next pull (set now: nothing of it stays live
		 * through the drains, whose paths the verifier walks). */
		*quiet = off ? sw : 0;
	}
	/* Not quiet: the recorder pulls again soon (a byte a thread). */
	bpf_seq_write(ctx->meta->seq, &sw, 1);
	/* Asleep since before the recording (record -p): no sched_switch
	 * has shown its epoll wait yet. */
	if (task->__state) {
		struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);

		if (regs)
			epoll_learn(task, regs, regs->orig_ax);
	}
	wsrt.tid = shim.tid = task->pid;
	wsrt.provider = SS_RING_WSRT;
	shim.provider = SS_RING_SHIM;
	if ((st = bpf_map_lookup_elem(&rings, &wsrt)))
		ring_drain_task(st, wsrt.tid, SS_DRAIN_PULL, RING_DRAIN_MAX, task);
	if ((st = bpf_map_lookup_elem(&rings, &shim)))
		ring_drain_task(st, shim.tid, SS_DRAIN_PULL, RING_DRAIN_MAX, task);
	return 0;
}
/* ---- the ring buffer's warm-up ------------------------------------------- */

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
		if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) + SS_RING_WARM_BYTES > size / 2 ||
		    !(c = bpf_ringbuf_reserve(&events, SS_RING_WARM_BYTES, 0)))
			return i;
		for (int k = 0; k < SS_RING_WARM_BYTES; k += 4096)
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

/* ---- Tokio: uprobes on its task entry points (userspace/tokio_syms.h) -------- */

/* The tasks each thread is polling, innermost last (raw::poll's return
 * knows no argument).  Polls nest: a runtime's worker thread runs inside
 * the poll of a blocking-pool task (its launch), the tasks' polls inside
 * that. */
#define TOKIO_POLL_DEPTH 4
struct tokio_polls {
	__u64 task[TOKIO_POLL_DEPTH];
	__u32 depth;		/* may exceed TOKIO_POLL_DEPTH: those are 0 */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct tokio_polls);
} tokio_polling SEC(".maps");

/* The task each thread last made runnable through raw::schedule: the
 * schedule_task it calls (when not inlined) is the same event. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} tokio_scheduled SEC(".maps");

/* Entry of raw::poll, raw::schedule or schedule_task: the site's cookie
 * says which (record.h, SS_F_TOKIO).  Attached by uprobe_multi links with
 * the target's pid; the arguments are the functions' own registers (the
 * vtable entry points keep the Rust ABI: the task header first). */
SEC("uprobe")
int handle_tokio(struct pt_regs *ctx)
{
	__u64 site = bpf_get_attach_cookie(ctx), task;
	__u32 tid = current_tid();
	struct ss_record *r;

	if (site == SS_TOKIO_SITE_POLL) {
		struct tokio_polls *p = bpf_map_lookup_elem(&tokio_polling, &tid), none = {};

		task = PT_REGS_PARM1(ctx);
		if (!p) {
			bpf_map_update_elem(&tokio_polling, &tid, &none, BPF_NOEXIST);
			p = bpf_map_lookup_elem(&tokio_polling, &tid);
		}
		if (p) {
			__u32 d = p->depth;

			if (d < TOKIO_POLL_DEPTH)
				p->task[d] = task;
			p->depth = d + 1;
		}
		if (!(r = reserve(SS_WSRT_POLL_START, tid)))
			return 0;
		r->args[0] = (__u64)-1;
		r->args[1] = task;
		r->args[2] = SS_SRC_UNKNOWN;
		/* Which raw::poll: its monomorphization names the future. */
		r->args[3] = PT_REGS_IP(ctx);
	} else {
		/* raw::schedule(task): every wake, through the task's vtable;
		 * schedule_task(&self, task, is_yield): spawns and yields too,
		 * and the wakes when a build did not inline it into
		 * raw::schedule's path: those were recorded already. */
		if (site == SS_TOKIO_SITE_SCHEDULE_TASK) {
			__u64 *seen = bpf_map_lookup_elem(&tokio_scheduled, &tid);

			task = PT_REGS_PARM2(ctx);
			if (seen && *seen == task) {
				bpf_map_delete_elem(&tokio_scheduled, &tid);
				return 0;
			}
		} else {
			task = PT_REGS_PARM1(ctx);
			bpf_map_update_elem(&tokio_scheduled, &tid, &task, BPF_ANY);
		}
		if (!(r = reserve(SS_WSRT_NOTIFY, tid)))
			return 0;
		r->args[0] = task;
		if (site == SS_TOKIO_SITE_SCHEDULE_TASK)
			r->args[4] = PT_REGS_PARM3(ctx) & 0xff;
		r->args[1] = (__u64)-1;
		r->args[2] = SS_DEST_UNKNOWN;
	}
	r->flags = SS_F_TOKIO;
	submit(r);
	return 0;
}

/* Return of raw::poll. */
SEC("uretprobe")
int handle_tokio_ret(struct pt_regs *ctx)
{
	__u32 tid = current_tid();
	struct tokio_polls *p = bpf_map_lookup_elem(&tokio_polling, &tid);
	struct ss_record *r;
	__u64 task = 0;

	if (p && p->depth) {
		__u32 d = p->depth - 1;

		if (d < TOKIO_POLL_DEPTH)
			task = p->task[d];
		p->depth = d;
	}
	if (!(r = reserve(SS_WSRT_POLL_END, tid)))
		return 0;
	r->args[0] = (__u64)-1;
	r->args[1] = task;
	r->args[2] = SS_RES_UNKNOWN;
	r->flags = SS_F_TOKIO;
	submit(r);
	return 0;
}

/* ---- scheduling --------------------------------------------------------------- */

SEC("tp_btf/sched_switch")
int BPF_PROG(handle_sched_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next, unsigned int prev_state)
{
	bool p = prev->tgid == targ_tgid, n = next->tgid == targ_tgid;
	struct sleep_park *sp;
	struct ss_record *r;
	__u64 now;

	/* Nothing of the target's: the cheapest way out, before anything
	 * else (this runs at every context switch of the machine). */
	if (!p && !n)
		return 0;
	/* What was stolen since the last sample was prev's: sampled when a
	 * target thread comes on a CPU and when it leaves (and at its
	 * records), which bounds each of its runs.  Its clock read is this
	 * switch's records' time, a ns apart in the order they are made
	 * (a sort by time keeps them so). */
	now = steal_sample(p);
	/* With sleep parks: prev still in a wait it was not seen to leave?
	 * (Their records need a time: a wait's remembers its switch's.) */
	if (sleep_parks && !now)
		now = bpf_ktime_get_ns();
	sp = p && sleep_parks ? sleep_park_unseen(prev, now) : NULL;
	if (p && prev_state) {
		/* Asleep: in an epoll wait?  (And with sleep parks, in a
		 * wait: its enter record, before the switch's.) */
		struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(prev);
		long nr = regs ? regs->orig_ax : -1;
		__u64 ep = regs ? epoll_learn(prev, regs, nr) : 0;

		if (sleep_parks && regs)
			sleep_park_enter(prev, sp, regs, nr, ep, now + 1);
	}
	/* No ring drain here: copying a few slots at every switch of the
	 * target cost 2.5 us a switch under HTTP load (a tenth of a CPU);
	 * the periodic pull takes the same slots in batches, within 5 ms. */
	r = reserve_at(SS_SCHED_SWITCH, prev->pid, now ? now + 2 : 0);
	if (r) {
		r->args[0] = prev->pid;
		r->args[1] = next->pid;
		r->args[2] = prev_state;
		r->args[3] = p;
		r->args[4] = n;
		submit(r);
	}
	if (sleep_parks) {	/* (now read above) */
		if (n)
			sleep_park_exit(next, now + 3);
		ready_taken_check(now + 4);
	}
	return 0;
}

SEC("tp_btf/sched_waking")
int BPF_PROG(handle_sched_waking, struct task_struct *p)
{
	struct ss_record *r;
	__u64 at = 0;

	if (p->tgid != targ_tgid)
		return 0;
	r = reserve(SS_SCHED_WAKING, p->pid);
	if (r) {
		r->args[0] = current_tid();
		at = r->ts + 1;
		submit(r);
	}
	if (sleep_parks) {
		sleep_park_woken(p, at);
		/* Often the harvesting thread, waking a worker for what it
		 * took. */
		ready_taken_check(at);
	}
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
	 * every socket of the machine.  Worth a record only on a socket one
	 * of the target's epoll instances polls, while no thread waits in
	 * epoll_wait on that instance (it would harvest it at once), and
	 * only the first since the instance's last harvest (the analyzer's
	 * rule: the first readiness of a wait is the one that counts): the
	 * instance says, through the socket's wait queue (sock_ready_first). */
	struct ep_known *k = NULL;
	struct ss_record *r;
	__u64 ino = sock_ready_first(sk, &k), now;

	if (!ino)
		return 0;
	now = record_sample();
	/* With sleep parks, the one recorded before on this instance, if
	 * not yet seen taken, was taken (else this would not be the first):
	 * said before this one, a ns before it. */
	if (sleep_parks && k) {
		if (!now)
			now = bpf_ktime_get_ns();
		if (k->pend && (r = reserve_at(SS_READY_TAKEN, current_tid(), now))) {
			r->args[0] = k->ino;
			submit(r);
		}
		k->ino = ino;
		k->at = now;
		k->pend = 1;
	}
	r = reserve_at(SS_SK_DATA_READY, current_tid(), now ? now + 1 : 0);
	if (!r)
		return 0;
	r->args[0] = ino;
	r->args[1] = sk->__sk_common.skc_family;
	r->args[2] = sk->sk_protocol;
	submit(r);
	return 0;
}
