/* SPDX-License-Identifier: MIT */
/* An ELF file for the recorder's readers (elf_file.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_file.h"

static int fail(char *err, size_t len, int e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t len, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return e;
}

static int segs_read(struct ss_elf_file *f, char *err, size_t errlen)
{
	size_t n;

	if (elf_getphdrnum(f->elf, &n))
		return fail(err, errlen, -EINVAL, "cannot read the program headers: %s",
			    elf_errmsg(-1));
	f->segs = calloc(n ? n : 1, sizeof(*f->segs));
	if (!f->segs)
		return fail(err, errlen, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(f->elf, (int)i, &ph))
			return fail(err, errlen, -EINVAL, "cannot read program header %zu: %s",
				    i, elf_errmsg(-1));
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_offset > f->size || ph.p_filesz > f->size - ph.p_offset)
			return fail(err, errlen, -EINVAL,
				    "segment %zu ends past the end of the file (truncated?)", i);
		f->segs[f->nsegs++] = (struct ss_elf_seg){ .vaddr = ph.p_vaddr,
			.filesz = ph.p_filesz, .offset = ph.p_offset, .flags = ph.p_flags };
	}
	return 0;
}

/* f->elf just opened (or NULL): the checks every reader needs. */
static int check(struct ss_elf_file *f, char *err, size_t errlen)
{
	GElf_Ehdr eh;

	if (!f->elf)
		return fail(err, errlen, -EINVAL, "cannot read the ELF file: %s", elf_errmsg(-1));
	if (elf_kind(f->elf) != ELF_K_ELF)
		return fail(err, errlen, -ENOEXEC, "not an ELF file");
	if (gelf_getclass(f->elf) != ELFCLASS64 || !gelf_getehdr(f->elf, &eh) ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64)
		return fail(err, errlen, -ENOTSUP, "not an x86-64 ELF64 file");
	/* What libelf will read, within the file. */
	if (eh.e_phoff > f->size || (__u64)eh.e_phnum * eh.e_phentsize > f->size - eh.e_phoff ||
	    eh.e_shoff > f->size || (__u64)eh.e_shnum * eh.e_shentsize > f->size - eh.e_shoff)
		return fail(err, errlen, -EINVAL,
			    "headers end past the end of the file (truncated?)");
	return segs_read(f, err, errlen);
}

static int init(struct ss_elf_file *f, char *err, size_t errlen)
{
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return fail(err, errlen, -ENOTSUP, "libelf: %s", elf_errmsg(-1));
	return 0;
}

int ss_elf_open(struct ss_elf_file *f, const char *path, char *err, size_t errlen)
{
	struct stat st;
	int e;

	if ((e = init(f, err, errlen)))
		return e;
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0)
		return fail(err, errlen, -errno, "%s", strerror(errno));
	if (fstat(f->fd, &st))
		return fail(err, errlen, -errno, "%s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(err, errlen, -ENOEXEC, "not a regular file");
	f->size = (__u64)st.st_size;
	f->elf = elf_begin(f->fd, ELF_C_READ_MMAP, NULL);
	return check(f, err, errlen);
}

int ss_elf_open_mem(struct ss_elf_file *f, const void *buf, size_t len, char *err,
		    size_t errlen)
{
	int e;

	if ((e = init(f, err, errlen)))
		return e;
	if (!len)
		return fail(err, errlen, -ENOEXEC, "not an ELF file");
	f->copy = malloc(len);
	if (!f->copy)
		return fail(err, errlen, -ENOMEM, "out of memory");
	memcpy(f->copy, buf, len);
	f->size = len;
	f->elf = elf_memory(f->copy, len);
	return check(f, err, errlen);
}

void ss_elf_close(struct ss_elf_file *f)
{
	if (f->elf)
		elf_end(f->elf);
	if (f->fd >= 0)
		close(f->fd);
	free(f->segs);
	free(f->copy);
	memset(f, 0, sizeof(*f));
	f->fd = -1;
}

bool ss_elf_offset(const struct ss_elf_file *f, __u64 addr, bool exec, __u64 *off)
{
	for (size_t i = 0; i < f->nsegs; i++) {
		const struct ss_elf_seg *g = &f->segs[i];
		bool want = exec ? (g->flags & PF_X) : (g->flags & (PF_W | PF_X)) == PF_W;

		if (!want || addr < g->vaddr || addr - g->vaddr >= g->filesz)
			continue;
		*off = addr - g->vaddr + g->offset;
		return true;
	}
	return false;
}
