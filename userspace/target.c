/* SPDX-License-Identifier: MIT */
/*
 * The traced process: starting a command so that probes are attached
 * before it runs (-- CMD), or following one that already runs (-p PID),
 * and noticing when it exits.
 *
 * Owns: fork/exec with the start handshake, LD_PRELOAD of the shim, exit
 * detection (waitpid for our child, a pidfd otherwise), stopping a child
 * we started.  Does not own: attaching (recorder_attach.c).
 *
 * The start handshake: the child blocks reading `go` before its exec; the
 * recorder attaches, then writes `go`.  The child's end of `exec` is
 * CLOEXEC: EOF means the exec worked, an int on it is the exec's errno.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "self.h"
#include "target.h"

#define STOP_GRACE_MS 2000

char *ss_find_in_path(const char *cmd)
{
	char buf[PATH_MAX];

	if (strchr(cmd, '/'))
		return realpath(cmd, NULL);
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)len,
			 len ? path : ".", cmd);
		if (!access(buf, X_OK))
			return realpath(buf, NULL);
		path += len + (path[len] == ':');
	}
	return NULL;
}

/* The preload shim that comes with this binary: BIN/../lib/ (self.c). */
char *ss_shim_path(void)
{
	static const char *const dirs[] = SS_SHIM_DIRS;

	return ss_self_find(dirs, SS_SHIM_NAME, R_OK);
}

int ss_target_start(struct ss_target *t, char **cmd, bool preload)
{
	int go[2], st[2];
	pid_t pid;

	*t = (struct ss_target){ .exit_status = -1, .pidfd = -1,
				 .go_fd = -1, .exec_fd = -1 };
	if (pipe2(go, O_CLOEXEC))
		return -errno;
	if (pipe2(st, O_CLOEXEC)) {
		int err = -errno;
		close(go[0]);
		close(go[1]);
		return err;
	}
	pid = fork();
	if (pid < 0) {
		int err = -errno;
		close(go[0]);
		close(go[1]);
		close(st[0]);
		close(st[1]);
		return err;
	}
	if (pid == 0) {
		char c;
		close(go[1]);
		close(st[0]);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (read(go[0], &c, 1) != 1)
			_exit(127);	/* the recorder gave up */
		if (preload) {
			char *shim = ss_shim_path(), *v;
			const char *old = getenv("LD_PRELOAD");
			if (shim && asprintf(&v, "%s%s%s", shim, old ? ":" : "",
					     old ? old : "") > 0) {
				setenv("LD_PRELOAD", v, 1);
				/* An ASan-built target refuses a library
				 * preloaded ahead of its runtime; the shim
				 * chains to ASan's interceptors as to libc. */
				old = getenv("ASAN_OPTIONS");
				if (asprintf(&v, "%s%sverify_asan_link_order=0",
					     old ? old : "", old && *old ? ":" : "") > 0)
					setenv("ASAN_OPTIONS", v, 1);
			}
		}
		execvp(cmd[0], cmd);
		int e = errno;
		if (write(st[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(st[1]);
	t->pid = pid;
	t->started = true;
	t->go_fd = go[1];
	t->exec_fd = st[0];
	return 0;
}

int ss_target_release(struct ss_target *t)
{
	int e = 0;

	if (write(t->go_fd, "g", 1) != 1)
		e = errno;
	else if (read(t->exec_fd, &e, sizeof(e)) <= 0)
		e = 0;	/* EOF: exec'd */
	close(t->go_fd);
	close(t->exec_fd);
	t->go_fd = t->exec_fd = -1;
	if (e) {
		waitpid(t->pid, &t->exit_status, 0);
		t->exited = true;
		return -e;
	}
	return 0;
}

int ss_target_attach(struct ss_target *t, pid_t pid)
{
	*t = (struct ss_target){ .pid = pid, .exit_status = -1,
				 .go_fd = -1, .exec_fd = -1 };
	/* Not our child: a pidfd turns readable when it exits. */
	t->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (t->pidfd < 0 && errno == ESRCH)
		return -ESRCH;
	return 0;
}

bool ss_target_alive(struct ss_target *t)
{
	if (t->exited)
		return false;
	if (t->started) {
		if (waitpid(t->pid, &t->exit_status, WNOHANG) == t->pid)
			t->exited = true;
	} else if (t->pidfd >= 0) {
		struct pollfd p = { .fd = t->pidfd, .events = POLLIN };
		if (poll(&p, 1, 0) > 0)
			t->exited = true;
	} else if (kill(t->pid, 0) && errno == ESRCH) {
		t->exited = true;
	}
	return !t->exited;
}

void ss_target_stop(struct ss_target *t)
{
	if (!t->started || t->exited)
		return;
	kill(t->pid, SIGTERM);
	for (int ms = 0; ms < STOP_GRACE_MS; ms += 10) {
		if (waitpid(t->pid, &t->exit_status, WNOHANG) == t->pid) {
			t->exited = true;
			return;
		}
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	kill(t->pid, SIGKILL);
	if (waitpid(t->pid, &t->exit_status, 0) == t->pid)
		t->exited = true;
}

void ss_target_close(struct ss_target *t)
{
	if (t->started && !t->exited) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, NULL, 0);
		t->exited = true;
	}
	if (t->pidfd >= 0)
		close(t->pidfd);
	if (t->go_fd >= 0)
		close(t->go_fd);
	if (t->exec_fd >= 0)
		close(t->exec_fd);
	t->pidfd = t->go_fd = t->exec_fd = -1;
}
