/* SPDX-License-Identifier: MIT */
/*
 * USDT probes (sys/sdt.h) of an ELF file: its `.note.stapsdt` notes read
 * with libelf, each probe's site and semaphore as file offsets (what a
 * uprobe is attached at, what the kernel raises), and its arguments
 * parsed into the spec the BPF side reads (bpf/usdt_spec.h).
 *
 * Owns: the note format, the address -> file offset translation through
 * the PT_LOAD segments (with the .stapsdt.base prelink adjustment), the
 * x86-64 argument syntax.  Does not own: which probes to attach or
 * attaching them (recorder_attach.c, uprobe_multi.c).
 *
 * Argument forms, x86-64 (SIZE is 1, 2, 4 or 8; a leading - means signed):
 *   SIZE@$IMM                   a constant (decimal or 0x hex, may be < 0)
 *   SIZE@%REG                   a register (64/32/16/8-bit names)
 *   SIZE@DISP(%REG) SIZE@(%REG) memory at a 64-bit register + DISP
 *   SIZE@DISP(%REG,%IDX[,SCALE]) memory at REG + IDX * SCALE + DISP
 * Anything else (floating point `8f@`, %xmm, %ah, %rip, symbolic
 * displacements or constants, 32-bit addressing) makes that probe
 * unattachable, with the reason in `why`; nothing is guessed.
 *
 * Reads untrusted files: a truncated or corrupt ELF gets -errno and a
 * message, never a crash (tests/fuzz/fuzz_usdt_notes.c).
 */
#ifndef STALLSCOPE_USDT_H
#define STALLSCOPE_USDT_H

#include <linux/types.h>
#include <stddef.h>

#include "bpf/usdt_spec.h"

struct ss_usdt_probe {
	char *provider, *name;	/* never empty */
	char *args;		/* the note's argument string, as is */
	__u64 pc;		/* the site's address (prelink-adjusted) */
	__u64 offset;		/* the site's file offset: the uprobe offset */
	__u64 ref_ctr_offset;	/* the semaphore's file offset, 0: none */
	struct ss_usdt_spec spec; /* the arguments (cookie 0) when err == 0 */
	int err;		/* 0, or -errno: this probe can't be attached */
	char why[160];		/* when err: why, one lowercase line */
};

struct ss_usdt_notes {
	struct ss_usdt_probe *probes;	/* in note order */
	unsigned n;
	char error[160];	/* when a read failed: what, one lowercase line */
};

/* Reads every probe of the ELF file at path into *out (n = 0: none).
 * 0, or -errno with out->error set: -ENOEXEC not an ELF file, -ENOTSUP
 * not x86-64 ELF64, -EINVAL truncated or corrupt; open's errors.  Free
 * with ss_usdt_notes_free() either way. */
int ss_usdt_notes_read(const char *path, struct ss_usdt_notes *out);
/* The same for an ELF image in memory (len bytes; copied). */
int ss_usdt_notes_read_mem(const void *buf, size_t len, struct ss_usdt_notes *out);
void ss_usdt_notes_free(struct ss_usdt_notes *n);

/* Parses a note's argument string (space separated) into spec.  0, or
 * -EINVAL / -ENOTSUP / -ERANGE / -E2BIG (more than 12) with a one-line
 * reason in why and spec all zero. */
int ss_usdt_args_parse(const char *s, struct ss_usdt_spec *spec, char *why,
		       size_t why_len);
/* One argument of len bytes at s (no spaces). */
int ss_usdt_arg_parse(const char *s, size_t len, struct ss_usdt_arg *arg,
		      char *why, size_t why_len);

#endif
