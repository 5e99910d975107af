/* SPDX-License-Identifier: MIT */
/* The traced process: started by us (-- CMD) or found running (-p PID). */
#ifndef STALLSCOPE_TARGET_H
#define STALLSCOPE_TARGET_H

#include <stdbool.h>
#include <sys/types.h>

struct ss_target {
	pid_t pid;
	bool started;		/* we forked it */
	bool exited;
	int exit_status;	/* its wait status once reaped by us, else -1 */
	int pidfd;		/* -p: to see it exit; -1 if unavailable */
	int go_fd, exec_fd;	/* -- CMD: the start handshake */
};

/* Forks CMD, stopped before its exec until ss_target_release(). */
int ss_target_start(struct ss_target *t, char **cmd, bool preload);
/* Lets it exec: 0, or the exec's errno as -errno (it has then exited). */
int ss_target_release(struct ss_target *t);
int ss_target_attach(struct ss_target *t, pid_t pid);
bool ss_target_alive(struct ss_target *t);
/* A started target still running gets SIGTERM, then SIGKILL. */
void ss_target_stop(struct ss_target *t);
void ss_target_close(struct ss_target *t);
/* cmd's executable as execvp would find it, resolved (malloc'd), or NULL. */
char *ss_find_in_path(const char *cmd);
/* The preload shim next to this binary (BIN/../lib/), resolved: the path
 * a started target preloads and the recorder attaches to (malloc'd), or
 * NULL if it isn't there. */
char *ss_shim_path(void);

#endif
