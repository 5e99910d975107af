/* SPDX-License-Identifier: MIT */
/*
 * The usdt-probes program's probe with a semaphore (sys/sdt.h semaphores
 * are all-or-nothing per translation unit, hence a file of its own):
 * wsrt:task_cancel, gated by wsrt_task_cancel_semaphore, which the kernel
 * raises while a uprobe with its ref_ctr_offset is attached.
 */
#define _SDT_HAS_SEMAPHORES 1
#include "usdt_probes.h"

/* sys/sdt.h's naming and section; volatile: the kernel writes it. */
__extension__ volatile unsigned short wsrt_task_cancel_semaphore
	__attribute__((section(".probes"), used)) = 0;

__attribute__((noinline, noclone)) unsigned usdt_probes_sema_fire(unsigned long task)
{
	unsigned sema = wsrt_task_cancel_semaphore;

	if (sema)
		USDT_FIXED_PROBE(usdt_site_sema, wsrt, task_cancel, "8@%%rdi", "D" (task));
	return sema;
}
