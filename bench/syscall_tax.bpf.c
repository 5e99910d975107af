// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * bench/syscall_tax.sh's floor: the two raw_syscalls programs every
 * recording attaches (bpf/stallscope.bpf.c), with nothing in them but
 * the test every real one makes first.  What a system call of any process
 * pays for them is the price of hooking system calls at all (the kernel's
 * slow path and the program calls), whatever the programs do.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 targ_tgid = 0;	/* never a process: 0 is the idle task */

SEC("tp_btf/sys_enter")
int BPF_PROG(tax_sys_enter, struct pt_regs *regs, long id)
{
	return (bpf_get_current_pid_tgid() >> 32) == targ_tgid;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(tax_sys_exit, struct pt_regs *regs, long ret)
{
	return (bpf_get_current_pid_tgid() >> 32) == targ_tgid;
}
