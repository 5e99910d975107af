/* SPDX-License-Identifier: MIT */
/* The stallscope subcommands: one file each, one entry point each.  Each
 * returns the process exit status. */
#ifndef STALLSCOPE_CMDS_H
#define STALLSCOPE_CMDS_H

#define SS_VERSION "0.1"

int ss_cmd_record(int argc, char **argv);
int ss_cmd_dump(int argc, char **argv);
int ss_cmd_timeline(int argc, char **argv);
int ss_cmd_demo(int argc, char **argv);
int ss_cmd_report(int argc, char **argv);
int ss_cmd_check(int argc, char **argv);
int ss_cmd_export(int argc, char **argv);
int ss_cmd_live(int argc, char **argv);

#endif
