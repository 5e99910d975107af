/* SPDX-License-Identifier: MIT */
/*
 * An x86-64 ELF64 file (or an image of one in memory) opened with libelf
 * for reading what the recorder attaches to: its PT_LOAD segments and the
 * translation of an address into a file offset (what a uprobe takes).
 *
 * Owns: opening, the header checks every reader needs (an ELF file, x86-64
 * ELF64, headers within the file), the segments.  Does not own: what is
 * read from it (usdt.c: USDT notes; tokio_syms.c: Tokio's symbols).
 *
 * Reads untrusted files: a truncated or corrupt ELF gets -errno and a
 * message, never a crash.
 */
#ifndef STALLSCOPE_ELF_FILE_H
#define STALLSCOPE_ELF_FILE_H

#include <gelf.h>
#include <libelf.h>
#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

struct ss_elf_seg {
	__u64 vaddr, filesz, offset;
	__u32 flags;		/* PF_X, PF_W, PF_R */
};

struct ss_elf_file {
	Elf *elf;
	__u64 size;		/* of the file or image */
	struct ss_elf_seg *segs;/* the PT_LOAD segments */
	size_t nsegs;
	void *copy;		/* an image's copy (libelf reads it in place) */
	int fd;
};

/* Opens the file at path, or a copy of len bytes at buf.  0, or -errno
 * with a one-line lowercase message in err: -ENOEXEC not a regular ELF
 * file, -ENOTSUP not x86-64 ELF64, -EINVAL truncated or corrupt, -ENOMEM,
 * open's errors.  Close with ss_elf_close() either way. */
int ss_elf_open(struct ss_elf_file *f, const char *path, char *err, size_t errlen);
int ss_elf_open_mem(struct ss_elf_file *f, const void *buf, size_t len, char *err,
		    size_t errlen);
void ss_elf_close(struct ss_elf_file *f);

/* The file offset of addr in an executable PT_LOAD segment (exec: code)
 * or a writable, non-executable one (data), within what the file holds.
 * False if there is none. */
bool ss_elf_offset(const struct ss_elf_file *f, __u64 addr, bool exec, __u64 *off);

#endif
