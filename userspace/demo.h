/* SPDX-License-Identifier: MIT */
/* `stallscope demo` (demo.c). */
#ifndef STALLSCOPE_DEMO_H
#define STALLSCOPE_DEMO_H

/* Records the scenario which ("lifo", "http", "all"; NULL: all), legacy and
 * fixed, into dir (NULL: ./stallscope-demo-DATE), and shows each run.
 * Returns the exit status: 0, 1 (a run failed), 2 (bad input). */
int ss_demo_run(const char *which, const char *dir);

#endif
