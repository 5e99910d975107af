/* SPDX-License-Identifier: MIT */
/*
 * Output files written safely, as root: every file stallscope writes at a
 * path a user named (a trace, an export, live's `w`).
 *
 *  1. The path is checked first: a directory, a device, a pipe or a
 *     socket there is an error (a symlink is fine: it is replaced, never
 *     followed).
 *  2. The data goes into PATH.partial, created next to it with O_EXCL
 *     (so never through a symlink, never over someone's file; if that
 *     name is taken, PATH.2.partial, ...), and given by descriptor to the
 *     user who ran sudo (best effort: vfat, say, has no owners).
 *  3. Complete, it is renamed over PATH: a final name never holds half a
 *     file, and an existing PATH is replaced, never written through.  A
 *     writer killed before that leaves PATH.partial, which says what it is.
 *
 * Owns: those steps, and the sudo user (SUDO_UID/SUDO_GID).  Does not own
 * what goes into the file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"

#define MAX_TRIES 100

int ss_outfile_check(const char *path)
{
	struct stat st;

	if (!*path)
		return -ENOENT;
	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
		return SS_OUTFILE_NOT_REGULAR;
	return 0;
}

const char *ss_outfile_strerror(int err)
{
	if (err == SS_OUTFILE_NOT_REGULAR)
		return "not a regular file (a device, pipe or socket): choose another path";
	return strerror(-err);
}

int ss_give_to_sudo_user(int fd)
{
	const char *su = getenv("SUDO_UID"), *sg = getenv("SUDO_GID");
	char *e1, *e2;
	unsigned long uid, gid;

	if (!su || !sg || geteuid() != 0)
		return 0;
	uid = strtoul(su, &e1, 10);
	gid = strtoul(sg, &e2, 10);
	if (!*su || *e1 || !*sg || *e2)
		return -EINVAL;
	return fchown(fd, (uid_t)uid, (gid_t)gid) ? -errno : 0;
}

int ss_outfile_create(struct ss_outfile *of, const char *path, mode_t mode)
{
	int err;

	*of = (struct ss_outfile){ .fd = -1 };
	if ((err = ss_outfile_check(path)))
		return err;
	if (strlen(path) >= sizeof(of->path))
		return -ENAMETOOLONG;
	strcpy(of->path, path);
	for (int i = 1; i <= MAX_TRIES; i++) {
		if (i == 1)
			snprintf(of->tmp, sizeof(of->tmp), "%s.partial", path);
		else
			snprintf(of->tmp, sizeof(of->tmp), "%s.%d.partial", path, i);
		of->fd = open(of->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			      mode);
		if (of->fd >= 0)
			break;
		err = -errno;
		if (err != -EEXIST)
			break;
	}
	if (of->fd < 0)
		return err;
	(void)ss_give_to_sudo_user(of->fd);
	return 0;
}

int ss_outfile_commit(struct ss_outfile *of)
{
	int err = 0;

	/* Linux closes the fd even when close() fails: report, don't retry. */
	if (close(of->fd) && errno != EINTR)
		err = -errno;
	of->fd = -1;
	if (!err && rename(of->tmp, of->path))
		err = -errno;
	if (!err)
		of->tmp[0] = '\0';
	return err;
}

void ss_outfile_discard(struct ss_outfile *of)
{
	if (of->fd >= 0)
		close(of->fd);
	of->fd = -1;
	if (of->tmp[0])
		unlink(of->tmp);
	of->tmp[0] = '\0';
}
