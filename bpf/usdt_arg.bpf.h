/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * BPF only: the arguments of the USDT probe that fired, for programs
 * attached through a uprobe_multi link whose per-site cookie is an index
 * into usdt_specs (userspace/record.c fills both; the spec ABI is
 * usdt_spec.h).  It replaces libbpf's usdt.bpf.h, so nothing depends on
 * that header's internal map layout.
 *
 * Owns: the usdt_specs map and reading an argument as the spec says.
 * Does not own: which probes are attached or what their cookie means.
 *
 * Include after vmlinux.h and <bpf/bpf_helpers.h>, in one .bpf.c.
 */
#ifndef STALLSCOPE_USDT_ARG_BPF_H
#define STALLSCOPE_USDT_ARG_BPF_H

#include "usdt_spec.h"

#define SS_EINVAL 22
#define SS_ENOENT 2
#define SS_ESRCH 3

/* The offsets userspace writes are the kernel's. */
_Static_assert(SS_USDT_REG_R15 == __builtin_offsetof(struct pt_regs, r15), "pt_regs");
_Static_assert(SS_USDT_REG_R12 == __builtin_offsetof(struct pt_regs, r12), "pt_regs");
_Static_assert(SS_USDT_REG_RBP == __builtin_offsetof(struct pt_regs, bp), "pt_regs");
_Static_assert(SS_USDT_REG_RBX == __builtin_offsetof(struct pt_regs, bx), "pt_regs");
_Static_assert(SS_USDT_REG_R11 == __builtin_offsetof(struct pt_regs, r11), "pt_regs");
_Static_assert(SS_USDT_REG_R8 == __builtin_offsetof(struct pt_regs, r8), "pt_regs");
_Static_assert(SS_USDT_REG_RAX == __builtin_offsetof(struct pt_regs, ax), "pt_regs");
_Static_assert(SS_USDT_REG_RCX == __builtin_offsetof(struct pt_regs, cx), "pt_regs");
_Static_assert(SS_USDT_REG_RDX == __builtin_offsetof(struct pt_regs, dx), "pt_regs");
_Static_assert(SS_USDT_REG_RSI == __builtin_offsetof(struct pt_regs, si), "pt_regs");
_Static_assert(SS_USDT_REG_RDI == __builtin_offsetof(struct pt_regs, di), "pt_regs");
_Static_assert(SS_USDT_REG_RSP == __builtin_offsetof(struct pt_regs, sp), "pt_regs");
_Static_assert(SS_USDT_REG_LIMIT <= sizeof(struct pt_regs), "pt_regs");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SS_USDT_MAX_SPECS);
	__type(key, __u32);
	__type(value, struct ss_usdt_spec);
} usdt_specs SEC(".maps");

/* The spec of the site that fired, or NULL. */
static __always_inline struct ss_usdt_spec *ss_usdt_spec(struct pt_regs *ctx)
{
	__u32 id = (__u32)bpf_get_attach_cookie(ctx);

	return bpf_map_lookup_elem(&usdt_specs, &id);
}

/* The record type (the spec's cookie), or 0. */
static __always_inline __u64 ss_usdt_cookie(struct pt_regs *ctx)
{
	struct ss_usdt_spec *spec = ss_usdt_spec(ctx);

	return spec ? spec->cookie : 0;
}

/* How many arguments the probe has, or -ESRCH. */
static __always_inline int ss_usdt_arg_cnt(struct pt_regs *ctx)
{
	struct ss_usdt_spec *spec = ss_usdt_spec(ctx);

	return spec ? (int)spec->nargs : -SS_ESRCH;
}

/* A register of the probed thread, by pt_regs offset. */
static __always_inline int ss_usdt_reg(struct pt_regs *ctx, __u16 off, __u64 *v)
{
	if (off >= SS_USDT_REG_LIMIT || (off & 7))
		return -SS_EINVAL;
	return bpf_probe_read_kernel(v, sizeof(*v), (void *)ctx + off);
}

/* Argument i (from 0) of the probe that fired into *val: 0, or -errno
 * (-ENOENT: no such argument; a failed read) with *val = 0. */
static __always_inline int ss_usdt_arg(struct pt_regs *ctx, __u32 i, __u64 *val)
{
	struct ss_usdt_spec *spec = ss_usdt_spec(ctx);
	struct ss_usdt_arg *a;
	__u64 v = 0, base, idx;
	__u32 size, shift;
	int err;

	*val = 0;
	if (!spec)
		return -SS_ESRCH;
	if (i >= SS_USDT_MAX_ARGS || i >= spec->nargs)
		return -SS_ENOENT;
	a = &spec->args[i];
	size = a->size;
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return -SS_EINVAL;
	switch (a->type) {
	case SS_USDT_ARG_CONST:
		v = a->val;
		break;
	case SS_USDT_ARG_REG:
		if ((err = ss_usdt_reg(ctx, a->reg_off, &v)))
			return err;
		break;
	case SS_USDT_ARG_REG_DEREF:
	case SS_USDT_ARG_SIB:
		if ((err = ss_usdt_reg(ctx, a->reg_off, &base)))
			return err;
		base += a->val;
		if (a->type == SS_USDT_ARG_SIB) {
			if ((err = ss_usdt_reg(ctx, a->idx_reg_off, &idx)))
				return err;
			base += idx << (a->scale_shift & 3);
		}
		/* Exactly size bytes, into the low bytes of v (little
		 * endian); the verifier wants the bound spelled out. */
		if (size > sizeof(v))
			return -SS_EINVAL;
		if ((err = bpf_probe_read_user(&v, size, (const void *)base)))
			return err;
		break;
	default:
		return -SS_EINVAL;
	}
	/* Keep the low size bytes; extend as the spec's sign says. */
	shift = 64 - 8 * size;
	v <<= shift;
	v = a->is_signed ? (__u64)((__s64)v >> shift) : v >> shift;
	*val = v;
	return 0;
}

#endif /* STALLSCOPE_USDT_ARG_BPF_H */
