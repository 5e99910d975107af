/* SPDX-License-Identifier: MIT */
/*
 * The semaphores of the runtime's USDT probes (wsrt_probes.h): one per
 * probe, in .probes as sys/sdt.h expects.  The kernel raises a probe's
 * semaphore while a uprobe (bpftrace, perf, stallscope's fallbacks) is
 * attached to it, and the probe's site moves its arguments only then.
 * The ring's own semaphore is its anchor (ring.c).
 */
#ifndef WSRT_NO_PROBES
#include "wsrt_probes.h"

#define WSRT_SEMA_DEF(n) \
	unsigned short WSRT_SEMA(n) __attribute__((section(".probes"), used))

WSRT_SEMA_DEF(worker_start);
WSRT_SEMA_DEF(worker_stop);
WSRT_SEMA_DEF(spawn);
WSRT_SEMA_DEF(notify);
WSRT_SEMA_DEF(poll_start);
WSRT_SEMA_DEF(poll_end);
WSRT_SEMA_DEF(steal);
WSRT_SEMA_DEF(park);
WSRT_SEMA_DEF(unpark);
WSRT_SEMA_DEF(wake_worker);
WSRT_SEMA_DEF(inject_push);
WSRT_SEMA_DEF(inject_pop);
WSRT_SEMA_DEF(overflow);
WSRT_SEMA_DEF(search_start);
WSRT_SEMA_DEF(search_end);
WSRT_SEMA_DEF(task_cancel);
WSRT_SEMA_DEF(driver_poll);
WSRT_SEMA_DEF(io_register);
WSRT_SEMA_DEF(io_ready);
WSRT_SEMA_DEF(timer_fire);
#endif
