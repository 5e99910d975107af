/* SPDX-License-Identifier: MIT */
/*
 * usdt-probes: a program whose USDT probes cover every argument form
 * stallscope reads (tests/unit/test_usdt.c checks their notes against its
 * symbol table) and that stallscope records (tests/scenario/usdt.sh): the
 * probes that matter are provider `wsrt`, as spawn (four u64 arguments
 * `dump` prints whole) and task_cancel, with a semaphore
 * (usdt_probes_sema.c).
 *
 *   usdt-probes        for each line on stdin: fire every probe once, then
 *                      print "semaphore N" (the task_cancel semaphore: > 0
 *                      while a tracer is attached); "q" or EOF ends it
 *
 * Each line fires, in order (expected values as `stallscope dump` shows
 * them: task, parent, poll_fn, state):
 *   spawn, registers  -4@%eax=-1, 4@%edx (rdx=-1), -2@%si=0x8000, 1@%dil=0x1ff
 *       -> 18446744073709551615 4294967295 0xffffffffffff8000 0xff
 *   spawn, registers  8@%r12, -4@%r9d=0x80000000, 2@%r10w=0xfffff, -1@%r11b=0x80
 *       -> 1234605616436508552 18446744071562067968 0xffff 0xffffffffffffff80
 *   spawn, constants  -4@$-1 4@$4294967295 8@$-5 -1@$255
 *       -> 18446744073709551615 4294967295 0xfffffffffffffffb 0xffffffffffffffff
 *   spawn, memory     -4@8(%rbx) 8@(%rbx) -8@-8(%r12) 2@4(%rcx,%rax,2)
 *       -> 18446744073709551609 1234605616436508552 0xfffffffffffffffd 0xbeef
 *   timer_fire        8f@%xmm0: not readable, so never attached
 *   task_cancel       8@%rdi=42, only while the semaphore is raised
 * and probes of provider ss_test that nothing attaches (no arguments,
 * twelve, thirteen, forms stallscope refuses).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "usdt_probes.h"

/* The memory the memory operands read (layout: see fire_memory). */
static volatile unsigned char mem[32] __attribute__((aligned(8)));

static void mem_fill(void)
{
	static const unsigned long long u64 = 0x1122334455667788ULL;
	static const int i32 = -7;
	static const long long i64 = -3;
	static const unsigned short u16 = 0xbeef, ones = 0xffff;

	memcpy((void *)&mem[0], &u64, 8);	/* 8@(%rbx) */
	memcpy((void *)&mem[8], &i32, 4);	/* -4@8(%rbx) */
	memcpy((void *)&mem[16], &i64, 8);	/* -8@-8(%r12), r12 = mem + 24 */
	memcpy((void *)&mem[28], &u16, 2);	/* 2@4(%rcx,%rax,2), rcx = mem, rax = 12 */
	memcpy((void *)&mem[30], &ones, 2);	/* must not leak into the u16 */
}

__attribute__((noinline, noclone)) static void fire_registers(void)
{
	register unsigned long r12 __asm__("r12") = 0x1122334455667788UL;
	register unsigned long r9 __asm__("r9") = 0x80000000UL;
	register unsigned long r10 __asm__("r10") = 0xfffffUL;
	register unsigned long r11 __asm__("r11") = 0x80UL;

	USDT_FIXED_PROBE(usdt_site_regs, wsrt, spawn,
			 "-4@%%eax 4@%%edx -2@%%si 1@%%dil",
			 "a" (-1), "d" (-1L), "S" (0x12348000L), "D" (0x1ffL));
	USDT_FIXED_PROBE(usdt_site_regs_high, wsrt, spawn,
			 "8@%%r12 -4@%%r9d 2@%%r10w -1@%%r11b",
			 "r" (r12), "r" (r9), "r" (r10), "r" (r11));
}

__attribute__((noinline, noclone)) static void fire_constants(void)
{
	USDT_FIXED_PROBE(usdt_site_consts, wsrt, spawn,
			 "-4@$-1 4@$4294967295 8@$-5 -1@$255", "i" (0));
}

__attribute__((noinline, noclone)) static void fire_memory(void)
{
	register volatile unsigned char *r12 __asm__("r12") = mem + 24;

	USDT_FIXED_PROBE(usdt_site_mem, wsrt, spawn,
			 "-4@8(%%rbx) 8@(%%rbx) -8@-8(%%r12) 2@4(%%rcx,%%rax,2)",
			 "b" (mem), "r" (r12), "c" (mem), "a" (12L), "m" (mem));
}

__attribute__((noinline, noclone)) static void fire_refused(void)
{
	USDT_FIXED_PROBE(usdt_site_float, wsrt, timer_fire, "8f@%%xmm0", "i" (0));
	USDT_FIXED_PROBE(usdt_site_none, ss_test, none, "", "i" (0));
	USDT_FIXED_PROBE(usdt_site_twelve, ss_test, twelve,
			 "1@$1 2@$2 4@$3 8@$4 -1@$5 -2@$6 -4@$7 -8@$8 8@%%rax 8@%%rbx 8@%%rcx 8@%%rdx",
			 "i" (0));
	USDT_FIXED_PROBE(usdt_site_thirteen, ss_test, thirteen,
			 "1@$1 1@$2 1@$3 1@$4 1@$5 1@$6 1@$7 1@$8 1@$9 1@$10 1@$11 1@$12 1@$13",
			 "i" (0));
	USDT_FIXED_PROBE(usdt_site_rip, ss_test, rip, "-4@counter(%%rip)", "i" (0));
}

int main(void)
{
	char line[64];

	mem_fill();
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin) && strcmp(line, "q\n")) {
		fire_registers();
		fire_constants();
		fire_memory();
		fire_refused();
		printf("semaphore %u\n", usdt_probes_sema_fire(42));
	}
	return 0;
}
