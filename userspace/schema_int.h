/* SPDX-License-Identifier: MIT */
/* The record schema's inside: the enumerations schema.c holds and its
 * parser (schema_parse.c) reads too. */
#ifndef STALLSCOPE_SCHEMA_INT_H
#define STALLSCOPE_SCHEMA_INT_H

#include "schema.h"

#define FUTEX_PRIVATE 128
#define FUTEX_CLOCK_REALTIME 256

extern const struct ss_enum ss_which_e, ss_shim_wait_e, ss_shim_fault_e, ss_futex_cmd_e,
	ss_futex_flag_e, ss_state_e;

#endif
