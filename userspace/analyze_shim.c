/* SPDX-License-Identifier: MIT */
/*
 * The analyzer (analyze_int.h): a recording that hooked no syscall
 * (SS_FILE_SHIM_PARKS, docs/recording.md) has the preload shim's parks
 * instead of the futex and epoll syscall records; here each becomes the
 * record it stands for, so the rest of the analyzer and every view see
 * one stream whichever way it was recorded.
 */
#include <string.h>

#include "analyze_int.h"

/* A timeout as the shim recorded it (seconds, < 0: none or unread;
 * nanoseconds), in units of unit ns; -1 for none.  Unsigned arithmetic:
 * the words come from the traced process (or a file), any value. */
static __u64 shim_timeout(const struct ss_record *r, __u64 unit)
{
	if ((__s64)r->args[3] < 0)
		return (__u64)-1;
	return (r->args[3] * 1000000000ULL + r->args[4]) / unit;
}

/*
 * A recording whose header has SS_FILE_SHIM_PARKS hooked no syscall: the
 * preload shim's park_enter / park_exit stand for the futex and epoll
 * syscall records.  The record a shim park stands for, into *out (same
 * time and thread): SS_EPOLL_ENTER / EXIT for an epoll wait, and
 * SS_FUTEX_ENTER (a FUTEX_WAIT) / EXIT for a futex, condition variable
 * or semaphore wait.  False for any other record.  apply() applies the
 * result, and tells the views of it, in the shim's record's place.
 */
bool an_shim_park_as_syscall(const struct ss_record *r, struct ss_record *out)
{
	bool enter = r->type == SS_SHIM_PARK_ENTER;
	__u64 kind = r->args[0], op = r->args[2] & 0xffffff;

	if (!enter && r->type != SS_SHIM_PARK_EXIT)
		return false;
	memset(out, 0, sizeof(*out));
	out->ts = r->ts;
	out->tid = r->tid;
	out->cpu = r->cpu;
	switch (kind) {
	case SS_SHIM_KIND_EPOLL:	/* op: 0 wait, 1 pwait, 2 pwait2 */
		if (enter) {
			out->type = SS_EPOLL_ENTER;
			out->args[0] = r->args[1];	/* epfd */
			out->args[2] = shim_timeout(r, op == 2 ? 1 : 1000000);
			out->args[3] = op;
		} else {
			out->type = SS_EPOLL_EXIT;
			out->args[0] = r->args[3];	/* events or -errno */
			out->args[1] = op;
		}
		return true;
	case SS_SHIM_KIND_FUTEX:
	case SS_SHIM_KIND_COND:
	case SS_SHIM_KIND_SEM:
		if (enter) {
			out->type = SS_FUTEX_ENTER;
			out->args[0] = r->args[1];	/* the word, or the object */
			/* The futex op as passed; any other wait: FUTEX_WAIT. */
			out->args[1] = kind == SS_SHIM_KIND_FUTEX &&
					!(op & SS_SHIM_FUTEX_WAITV) ? op : 0;
			out->args[3] = shim_timeout(r, 1);
		} else {
			out->type = SS_FUTEX_EXIT;
			out->args[0] = r->args[3];
		}
		return true;
	default:
		return false;
	}
}
