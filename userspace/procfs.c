/* SPDX-License-Identifier: MIT */
/*
 * What the recorder learns about the target from /proc and its ELF files:
 * executable mappings with build ids, thread names, its command line.
 *
 * Owns: parsing /proc/PID/{maps,task,cmdline,comm} and reading
 * build ids (libelf).  Does not own: what is done with them (recorder.c).
 * Every reader tolerates a target that exits midway (files vanish).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"

/* The GNU build id of an ELF file, from its PT_NOTE segments. */
int ss_elf_build_id(const char *path, __u8 *id, __u8 *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = -ENOENT;
	Elf *e;
	size_t nph;

	*len = 0;
	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_getphdrnum(e, &nph)) {
		ret = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < nph && ret; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_NOTE)
			continue;
		Elf_Data *d = elf_getdata_rawchunk(e, ph.p_offset, ph.p_filesz,
						   ELF_T_NHDR);
		GElf_Nhdr nh;
		size_t off = 0, noff, doff;
		while (d && (off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    !memcmp((char *)d->d_buf + noff, "GNU", 4)) {
				*len = nh.n_descsz > 20 ? 20 : (__u8)nh.n_descsz;
				memcpy(id, (char *)d->d_buf + doff, *len);
				ret = 0;
				break;
			}
		}
	}
out:
	if (e)
		elf_end(e);
	close(fd);
	return ret;
}

int ss_proc_mappings(pid_t pid, struct ss_mapping **out, unsigned *n)
{
	char path[64], line[4352];
	struct ss_mapping *m = NULL;
	unsigned cnt = 0, cap = 0;
	FILE *f;

	*out = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end, off;
		char perms[8];
		int pathpos = 0;

		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &start, &end,
			   perms, &off, &pathpos) < 4 || !pathpos)
			continue;
		char *p = line + pathpos;
		p[strcspn(p, "\n")] = '\0';
		/* Executable, file-backed mappings only: where code runs. */
		if (perms[2] != 'x' || p[0] != '/')
			continue;
		if (cnt == cap) {
			unsigned nc = cap ? 2 * cap : 16;
			struct ss_mapping *nm = realloc(m, nc * sizeof(*m));
			if (!nm) {
				free(m);
				fclose(f);
				return -ENOMEM;
			}
			m = nm;
			cap = nc;
		}
		struct ss_mapping *e = &m[cnt++];
		memset(e, 0, sizeof(*e));
		e->start = start;
		e->end = end;
		e->offset = off;
		snprintf(e->path, sizeof(e->path), "%s", p);
		ss_elf_build_id(e->path, e->build_id, &e->build_id_len);
	}
	fclose(f);
	*out = m;
	*n = cnt;
	return 0;
}

int ss_proc_read_string(pid_t pid, const char *what, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return (int)n;
}

int ss_proc_threads(pid_t pid, ss_thread_fn fn, void *arg)
{
	char path[64];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char comm[32], what[64];
		int tid = atoi(de->d_name);
		if (tid <= 0)
			continue;
		snprintf(what, sizeof(what), "task/%d/comm", tid);
		if (ss_proc_read_string(pid, what, comm, sizeof(comm)) < 0)
			continue;	/* exited meanwhile */
		comm[strcspn(comm, "\n")] = '\0';
		fn(arg, tid, comm);
	}
	closedir(d);
	return 0;
}

