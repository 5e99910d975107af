/* SPDX-License-Identifier: MIT */
/* Output files written safely: PATH.partial, renamed over PATH when
 * complete (outfile.c). */
#ifndef STALLSCOPE_OUTFILE_H
#define STALLSCOPE_OUTFILE_H

#include <errno.h>
#include <limits.h>
#include <sys/types.h>

/* PATH exists and is a device, pipe or socket. */
#define SS_OUTFILE_NOT_REGULAR (-ENOTSUP)

struct ss_outfile {
	int fd;			/* the partial file, open for writing; -1 when closed */
	char path[PATH_MAX];	/* the final name */
	char tmp[PATH_MAX + 16];/* PATH.partial (or PATH.N.partial) */
};

/* 0 if path may be written (absent, a regular file or a symlink, which
 * would be replaced); -EISDIR, SS_OUTFILE_NOT_REGULAR or -errno. */
int ss_outfile_check(const char *path);
/* strerror, with words for SS_OUTFILE_NOT_REGULAR. */
const char *ss_outfile_strerror(int err);
/* Checks path, creates the partial file (O_EXCL, mode & ~umask) and gives
 * it to the sudo user (best effort: some filesystems have no owners):
 * 0 or -errno. */
int ss_outfile_create(struct ss_outfile *of, const char *path, mode_t mode);
/* Closes and renames the partial file over path: 0 (tmp is then
 * emptied) or -errno (the partial file stays, named by tmp). */
int ss_outfile_commit(struct ss_outfile *of);
/* Closes and removes the partial file, if any: after a failed commit, or
 * to give up; a no-op after a commit that worked. */
void ss_outfile_discard(struct ss_outfile *of);
/* The invoking user of sudo gets fd (0 when not under sudo as root). */
int ss_give_to_sudo_user(int fd);

#endif
