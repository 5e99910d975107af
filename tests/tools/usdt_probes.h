/* SPDX-License-Identifier: MIT */
/*
 * What the usdt-probes test program (usdt_probes.c, usdt_probes_sema.c)
 * and its readers (tests/unit/test_usdt.c, tests/scenario/usdt.sh) agree
 * on: a probe site with a fixed argument string, labelled with a global
 * symbol at its nop so a test can find its address in the symbol table,
 * independently of the notes.
 *
 * USDT_FIXED_PROBE(label, provider, name, "ARGS", operands...): ARGS is
 * the note's argument string as the assembler should see it, with every
 * % doubled (an extended-asm template); the operands pin the registers
 * it names ("a" (x) for %rax, a register variable for %r8..%r15).  The
 * caller's function must be noinline and called from one place: the
 * label is defined once.
 */
#ifndef USDT_PROBES_H
#define USDT_PROBES_H

#include <sys/sdt.h>

#define USDT_PACK_STRING(s) ".ascii \"" s "\"\n"
#define USDT_FIXED_PROBE(label, provider, name, args, ...)                   \
	do {                                                                 \
		__asm__ __volatile__(                                        \
			".globl " #label "\n" #label ":\n"                   \
			_SDT_ASM_BODY(provider, name, USDT_PACK_STRING,      \
				      (args))                                \
			:: __VA_ARGS__);                                     \
		__asm__ __volatile__(_SDT_ASM_BASE);                         \
	} while (0)

/* The semaphore-gated probe (usdt_probes_sema.c): fires wsrt:task_cancel
 * with `task` if a tracer raised its semaphore; returns the semaphore. */
unsigned usdt_probes_sema_fire(unsigned long task);

#endif
