/* SPDX-License-Identifier: MIT */
/*
 * The shim's USDT semaphores (shim_probes.h), one per probe, in .probes as
 * sys/sdt.h expects: the kernel raises one while a uprobe is attached to
 * its probe, and only then does the probe's site move its arguments.  The
 * ring's own semaphore is its anchor (runtime/ring.c, built into the shim
 * as provider stallscope).
 */
#include "shim.h"

#define SHIM_SEMA_DEF(n) \
	unsigned short SHIM_SEMA(n) __attribute__((section(".probes"), used))

SHIM_SEMA_DEF(start);
SHIM_SEMA_DEF(park_enter);
SHIM_SEMA_DEF(park_exit);
SHIM_SEMA_DEF(futex_wake);
SHIM_SEMA_DEF(thread_name);
