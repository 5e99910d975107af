/* SPDX-License-Identifier: MIT */
/* What recording needs from the machine (prereq.c). */
#ifndef STALLSCOPE_PREREQ_H
#define STALLSCOPE_PREREQ_H

/* Checks the privileges, BTF and lockdown mode that loading and attaching
 * the BPF programs need.  0, or -errno after one line on stderr naming the
 * fix; commands exit 2 then.  cmd names the command in that line. */
int ss_prereq_prepare(const char *cmd);

#endif
