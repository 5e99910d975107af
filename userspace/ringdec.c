/* SPDX-License-Identifier: MIT */
/*
 * Ring slots (bpf/ring.h) back into records (bpf/record.h): where each
 * probe's arguments sit in a slot, read back in the probe's argument
 * order, with the USDT probe's sign rules, so that a record from a ring
 * is the record the probe would have made through BPF.
 *
 * Owns: the slot layout table — the inverse of the ring calls in
 * runtime/wsrt_probes.h and preload/shim_probes.h (tests/unit/test_ring.c
 * holds them together) — and checking slots: a slot of a type the table
 * lacks, a first slot without its second, a second slot alone, is refused,
 * never decoded.  Does not own: sequence numbers, time conversion or
 * losses (the recorder's), nor the file (trace_read.c, trace_write.c).
 */
#include <string.h>

#include "ringdec.h"

/* Where an argument sits. */
enum loc {
	L_NONE = 0,
	L_AS,		/* a, a 32-bit int: sign-extended */
	L_AU,		/* a, unsigned */
	L_ALO,		/* the low 16 bits of a, an int: sign-extended */
	L_AHI,		/* the high 16 bits of a, an int: sign-extended */
	L_X,
	L_Y,
	L_E,		/* the second slot's ts word */
	L_A2S,		/* the second slot's a, an int */
	L_A2U,		/* ... unsigned */
	L_X2,
	L_Y2,
};

#define layouts ss_ringdec_layouts

const struct ss_ringdec_layout layouts[SS_SHIM_LAST + 1] = {
	[SS_WSRT_WORKER_START] = { 1, { L_AS, L_X } },
	[SS_WSRT_WORKER_STOP] = { 1, { L_AS, L_X } },
	[SS_WSRT_SPAWN] = { 2, { L_X, L_E, L_Y, L_X2 } },
	[SS_WSRT_NOTIFY] = { 1, { L_X, L_ALO, L_AHI, L_Y } },
	[SS_WSRT_POLL_START] = { 1, { L_ALO, L_X, L_AHI } },
	[SS_WSRT_POLL_END] = { 1, { L_ALO, L_X, L_AHI } },
	[SS_WSRT_STEAL] = { 1, { L_ALO, L_AHI, L_X, L_Y } },
	[SS_WSRT_PARK] = { 1, { L_ALO, L_AHI } },
	[SS_WSRT_UNPARK] = { 1, { L_ALO, L_AHI } },
	[SS_WSRT_WAKE_WORKER] = { 1, { L_ALO, L_AHI } },
	[SS_WSRT_INJECT_PUSH] = { 1, { L_X, L_AU, L_Y } },
	[SS_WSRT_INJECT_POP] = { 1, { L_AS, L_X, L_Y } },
	[SS_WSRT_OVERFLOW] = { 1, { L_AS, L_X } },
	[SS_WSRT_SEARCH_START] = { 1, { L_AS } },
	[SS_WSRT_SEARCH_END] = { 1, { L_ALO, L_AHI } },
	[SS_WSRT_TASK_CANCEL] = { 1, { L_X } },
	[SS_WSRT_DRIVER_POLL] = { 1, { L_AS, L_X, L_Y } },
	[SS_WSRT_IO_REGISTER] = { 1, { L_AS, L_X } },
	[SS_WSRT_IO_READY] = { 1, { L_AS, L_X, L_Y } },
	[SS_WSRT_TIMER_FIRE] = { 1, { L_AS, L_X, L_Y } },
	[SS_SHIM_START] = { 2, { L_AU, L_X, L_Y, L_E } },
	[SS_SHIM_PARK_ENTER] = { 2, { L_A2S, L_X, L_AU, L_Y, L_E } },
	[SS_SHIM_PARK_EXIT] = { 2, { L_A2S, L_X, L_AU, L_Y, L_E } },
	[SS_SHIM_FUTEX_WAKE] = { 2, { L_X, L_AS, L_E, L_Y } },
	[SS_SHIM_THREAD_NAME] = { 2, { L_X, L_Y, L_AS, L_A2S } },
};

static __u64 arg(enum loc l, const struct ss_ring_slot *s,
		 const struct ss_ring_slot *e)
{
	switch (l) {
	case L_AS:
		return (__u64)(__s64)(__s32)s->a;
	case L_AU:
		return s->a;
	case L_ALO:
		return (__u64)(__s64)(__s16)(s->a & 0xffff);
	case L_AHI:
		return (__u64)(__s64)(__s16)(s->a >> 16);
	case L_X:
		return s->x;
	case L_Y:
		return s->y;
	case L_E:
		return e ? e->ts : 0;
	case L_A2S:
		return e ? (__u64)(__s64)(__s32)e->a : 0;
	case L_A2U:
		return e ? e->a : 0;
	case L_X2:
		return e ? e->x : 0;
	case L_Y2:
		return e ? e->y : 0;
	default:
		return 0;
	}
}

unsigned ss_ringdec_one(const struct ss_ring_slot *s, size_t n, __u32 tid,
			struct ss_record *out)
{
	unsigned k = ss_ringdec_whole(s, n);
	const struct ss_ring_slot *e;

	if (!k)
		return 0;
	e = k == 2 ? &s[1] : NULL;
	memset(out, 0, sizeof(*out));
	out->ts = s[0].ts;
	out->type = s[0].type;
	out->tid = tid;
	out->cpu = SS_CPU_NONE;
	for (int i = 0; i < SS_RECORD_ARGS; i++)
		out->args[i] = arg(layouts[s[0].type].loc[i], &s[0], e);
	return k;
}
