/* SPDX-License-Identifier: MIT */
/* The stallscope subcommands: one file each, one entry point each.  Each
 * returns the process exit status. */
#ifndef STALLSCOPE_CMDS_H
#define STALLSCOPE_CMDS_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <linux/types.h>

#define SS_VERSION "0.1"

int ss_cmd_record(int argc, char **argv);
int ss_cmd_dump(int argc, char **argv);
int ss_cmd_timeline(int argc, char **argv);
int ss_cmd_demo(int argc, char **argv);
int ss_cmd_report(int argc, char **argv);
int ss_cmd_check(int argc, char **argv);
int ss_cmd_export(int argc, char **argv);
int ss_cmd_live(int argc, char **argv);

/* A milliseconds option (--threshold, --from ...) into ns: a number,
 * > 0 if positive else >= 0, at most 1e10; else one line on stderr
 * naming opt, and false. */
bool ss_parse_ms(const char *opt, const char *s, bool positive, __u64 *ns);
/* A pid option: a number > 0; else one line on stderr naming opt, and false. */
bool ss_parse_pid(const char *opt, const char *s, pid_t *pid);
/* s as a JSON string, quotes included. */
void ss_json_string(FILE *f, const char *s);
/* A library's warning (the recorder's on_warning): "stallscope: MSG" on
 * stderr. */
void ss_print_warning(void *arg, const char *msg);

#endif
