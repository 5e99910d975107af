/* SPDX-License-Identifier: MIT */
/*
 * The USDT argument-spec ABI between userspace (userspace/usdt.c parses a
 * probe's note into a spec; record.c writes it into the usdt_specs map)
 * and the BPF reader (bpf/usdt_arg.bpf.h).  It includes nothing, so the
 * includer provides __u8/__u16/__u32/__u64 (vmlinux.h in BPF,
 * <linux/types.h> in userspace).
 *
 * One spec per probe site (sites with identical specs may share one): the
 * uprobe_multi link gives each site the spec's index in usdt_specs as its
 * BPF cookie.  An argument is read as libbpf's bpf_usdt_arg() reads it: a
 * constant, a register, or memory at register (+ index register * scale)
 * + offset; then truncated to `size` bytes and sign- or zero-extended to
 * 64 bits (`-4@` of -1 reads as 0xffffffffffffffff, `4@` zero-extends).
 * Memory is read exactly `size` bytes wide.
 *
 * x86-64 only: the register offsets are those of the kernel's struct
 * pt_regs (= the ptrace struct user_regs_struct), checked against
 * vmlinux.h by usdt_arg.bpf.h.
 */
#ifndef STALLSCOPE_USDT_SPEC_H
#define STALLSCOPE_USDT_SPEC_H

#define SS_USDT_MAX_ARGS 12	/* sys/sdt.h: STAP_PROBE1 .. STAP_PROBE12 */
#define SS_USDT_MAX_SPECS 1024	/* entries of the usdt_specs map */

enum ss_usdt_arg_type {
	SS_USDT_ARG_NONE = 0,	/* no such argument: a zeroed spec is visibly empty */
	SS_USDT_ARG_CONST = 1,	/* N@$imm: the value is `val` */
	SS_USDT_ARG_REG = 2,	/* N@%reg: the register at reg_off */
	SS_USDT_ARG_REG_DEREF = 3, /* N@off(%reg): memory at reg + val */
	SS_USDT_ARG_SIB = 4,	/* N@off(%reg,%idx,scale): memory at
				 * reg + (idx << scale_shift) + val */
};

/* The offsets of struct pt_regs (x86-64) that arguments name. */
#define SS_USDT_REG_R15 0
#define SS_USDT_REG_R14 8
#define SS_USDT_REG_R13 16
#define SS_USDT_REG_R12 24
#define SS_USDT_REG_RBP 32
#define SS_USDT_REG_RBX 40
#define SS_USDT_REG_R11 48
#define SS_USDT_REG_R10 56
#define SS_USDT_REG_R9 64
#define SS_USDT_REG_R8 72
#define SS_USDT_REG_RAX 80
#define SS_USDT_REG_RCX 88
#define SS_USDT_REG_RDX 96
#define SS_USDT_REG_RSI 104
#define SS_USDT_REG_RDI 112
#define SS_USDT_REG_RSP 152
#define SS_USDT_REG_LIMIT 160	/* every reg_off is below this */

struct ss_usdt_arg {
	__u64 val;		/* CONST: the value; REG_DEREF, SIB: the
				 * displacement (two's complement); REG: 0 */
	__u16 reg_off;		/* REG, REG_DEREF, SIB: the (base) register,
				 * an SS_USDT_REG_* offset */
	__u16 idx_reg_off;	/* SIB: the index register; else 0 */
	__u8 type;		/* enum ss_usdt_arg_type */
	__u8 size;		/* 1, 2, 4 or 8: the bytes that count */
	__u8 is_signed;		/* 1: sign-extend from size bytes; 0: zero-extend */
	__u8 scale_shift;	/* SIB: log2 of the scale (0..3); else 0 */
};

struct ss_usdt_spec {
	struct ss_usdt_arg args[SS_USDT_MAX_ARGS];	/* [0, nargs) used, the rest zero */
	__u64 cookie;		/* handed to the program: the record type */
	__u32 nargs;		/* 0 .. SS_USDT_MAX_ARGS */
	__u32 pad;		/* zero */
};

_Static_assert(sizeof(struct ss_usdt_arg) == 16, "usdt spec ABI: 16-byte args");
_Static_assert(__builtin_offsetof(struct ss_usdt_arg, reg_off) == 8, "usdt spec ABI");
_Static_assert(__builtin_offsetof(struct ss_usdt_arg, type) == 12, "usdt spec ABI");
_Static_assert(sizeof(struct ss_usdt_spec) == 16 * SS_USDT_MAX_ARGS + 16,
	       "usdt spec ABI: args, cookie, nargs, pad");
_Static_assert(__builtin_offsetof(struct ss_usdt_spec, cookie) == 16 * SS_USDT_MAX_ARGS,
	       "usdt spec ABI");

#endif /* STALLSCOPE_USDT_SPEC_H */
