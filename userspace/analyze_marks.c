/* SPDX-License-Identifier: MIT */
/*
 * Marks (analyze.h, on_mark): what a record says happened that views show
 * as an instant or as a wait of a thread that is not a worker, rather
 * than as a worker's state.  Read off the record after the analyzer
 * applied it, so "a worker" means what the analyzer knows then (a shim
 * park is the syscall record it stands for: analyze_shim.c).
 *
 * Owns: which records make marks, and what each carries.  Does not own:
 * worker states (analyze_workers.c), tasks (analyze_tasks.c), drawing
 * (the views).
 */
#include "analyze_int.h"

void an_marks(struct an *an, const struct ss_record *r, int worker)
{
	struct ss_mark m = { .ts = r->ts, .tid = r->tid, .worker = worker };
	int a0 = (int)(__s32)(__u32)r->args[0];

	switch (r->type) {
	case SS_WSRT_STEAL:
		m.kind = SS_MARK_STEAL;
		m.steal.thief = a0;
		m.steal.victim = (int)(__s32)(__u32)r->args[1];
		m.steal.count = r->args[2];
		m.steal.lifo_task = r->args[3];
		break;
	case SS_WSRT_WAKE_WORKER:
		m.kind = SS_MARK_WAKE;
		m.wake.target = (int)(__s32)(__u32)r->args[1];
		break;
	case SS_WSRT_PARK:
	case SS_WSRT_UNPARK:
		if (worker >= 0 || a0 >= 0)	/* a worker's: its states */
			return;
		m.kind = r->type == SS_WSRT_PARK ? SS_MARK_WAIT_BEGIN : SS_MARK_WAIT_END;
		m.wait = r->args[1] == SS_PARK_DRIVER ? SS_WAIT_PARK_DRIVER : SS_WAIT_PARK;
		break;
	case SS_FUTEX_ENTER:
		if (worker >= 0 || !an_futex_waits(r))
			return;
		m.kind = SS_MARK_WAIT_BEGIN;
		m.wait = SS_WAIT_FUTEX;
		break;
	case SS_FUTEX_EXIT:
	case SS_EPOLL_ENTER:
	case SS_EPOLL_EXIT:
		if (worker >= 0)
			return;
		m.kind = r->type == SS_EPOLL_ENTER ? SS_MARK_WAIT_BEGIN : SS_MARK_WAIT_END;
		m.wait = r->type == SS_FUTEX_EXIT ? SS_WAIT_FUTEX : SS_WAIT_EPOLL;
		break;
	case SS_THREAD_EXIT:
		if (worker >= 0)
			return;
		m.kind = SS_MARK_EXIT;
		break;
	case SS_LOST:
		m.kind = SS_MARK_LOST;
		m.lost.cpu = r->cpu;
		m.lost.count = r->args[0];
		break;
	default:
		return;
	}
	an->o->on_mark(an->o->arg, &m);
}
