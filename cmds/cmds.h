/* SPDX-License-Identifier: MIT */
/* The stallscope subcommands: one file each (options and calls), one
 * entry point each, returning the process exit status; main.c dispatches. */
#ifndef STALLSCOPE_CMDS_H
#define STALLSCOPE_CMDS_H

#include "cli.h"

int ss_cmd_record(int argc, char **argv);
int ss_cmd_dump(int argc, char **argv);
int ss_cmd_timeline(int argc, char **argv);
int ss_cmd_demo(int argc, char **argv);
int ss_cmd_report(int argc, char **argv);
int ss_cmd_check(int argc, char **argv);
int ss_cmd_export(int argc, char **argv);
int ss_cmd_live(int argc, char **argv);
int ss_cmd_watch(int argc, char **argv);

#endif
