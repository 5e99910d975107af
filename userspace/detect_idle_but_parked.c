/* SPDX-License-Identifier: MIT */
/*
 * Detector idle_but_parked (DESIGN.md): readiness (sk_data_ready on a
 * polled socket) arriving while no worker is in epoll_wait, harvested (an
 * epoll_wait returning events) at least the threshold later, while some
 * worker was parked on a futex for at least the threshold: the I/O
 * driver's owner was busy and nobody else polled (Tokio's driver, the
 * Tokio+Axum investigation).  Its state is the analyzer's `rd`.
 *
 * Busy means the runtime's doing: the threshold is counted over the time
 * a worker sat parked on a futex while the driver's last owner was not
 * waiting for a CPU (runnable but switched out).  An owner preempted with
 * its events half dispatched, on a machine whose CPUs are taken, is the
 * kernel's wait, not a bubble: no detection, and a wait mostly spent so
 * is kernel_runq, like a task's whose worker waited for a CPU.  (A vCPU
 * stolen from the owner is not taken off: as for the other kinds, such a
 * stall is reported, with its steal_ns.)
 */
#include <stdio.h>
#include <string.h>

#include "analyze_int.h"
#include "present.h"

static unsigned in_epoll_count(struct an *an)
{
	unsigned n = 0;
	for (unsigned i = 0; i < an->nw; i++)
		n += an->w[i].in_epoll;
	return n;
}

static void readiness_arrived(struct an *an, __u64 ts, __u64 sock)
{
	if (an->rd.active || in_epoll_count(an))
		return;	/* a worker in epoll_wait harvests it at once */
	struct pending_ready *rd = &an->rd;
	rd->active = true;
	rd->since = ts;
	rd->sock = sock;
	rd->last_owner = an->last_driver_owner;
	struct worker *o = an->last_driver_owner >= 0 ?
		an_worker_find(an, an->last_driver_owner) : NULL;
	rd->blocker = o && o->base == SS_W_RUNNING ? o->task : 0;
	rd->owner_stolen = o ? o->cum[IW_STOLEN] : 0;
	rd->owner_offcpu = o ? o->cum[IW_OFFCPU] : 0;
	rd->owner_futex = o ? o->cum[IW_FUTEX_NOT_OFFCPU] : 0;
	memcpy(rd->snap, an->cum, sizeof(an->cum));
	for (unsigned i = 0; i < an->nw; i++)
		rd->wsnap[i] = an->w[i].cum[IW_FUTEX];
	rd->nwsnap = an->nw;
}

static void readiness_harvested(struct an *an, __u64 ts, bool at_end)
{
	struct pending_ready *rd = &an->rd;

	if (!rd->active)
		return;
	rd->active = false;
	__u64 wait = ts - rd->since;
	__u64 futexed = an->cum[IG_FUTEX_PARKED] - rd->snap[IG_FUTEX_PARKED];
	/* Of that, while the owner was not waiting for a CPU. */
	struct worker *o = rd->last_owner >= 0 ? an_worker_find(an, rd->last_owner) : NULL;
	__u64 busy_futexed = o ? o->cum[IW_FUTEX_NOT_OFFCPU] - rd->owner_futex : futexed;
	bool runq = o && 2 * (o->cum[IW_OFFCPU] - rd->owner_offcpu) >= wait && wait;
	an->a->delay_ns[runq ? SS_CAUSE_KERNEL_RUNQ : SS_CAUSE_DRIVER_STARVED] += wait;
	an->a->delays++;
	if (wait < an->threshold || futexed < an->threshold ||
	    busy_futexed < an->threshold)
		return;
	struct ss_detection *d = an_add_det(an, SS_DET_IDLE_BUT_PARKED, rd->since, ts);
	if (!d)
		return;
	d->holder = rd->last_owner;
	d->idle_but_parked.sock_inode = rd->sock;
	d->blocker_task = rd->blocker;
	an_name_task(an, rd->blocker, d->blocker_name);
	/* Workers parked on a futex for most of the wait. */
	for (unsigned i = 0; i < rd->nwsnap && i < an->nw; i++)
		if (2 * (an->w[i].cum[IW_FUTEX] - rd->wsnap[i]) >= wait)
			d->parked_workers++;
	d->idle_workers = d->parked_workers;
	d->idle_ns = futexed;
	d->steal_ns = o ? o->cum[IW_STOLEN] - rd->owner_stolen : 0;
	if (at_end)
		d->uncertain = true;
}


static int describe(const struct ss_detection *d, const struct ss_det_words *w,
		    char *buf, size_t len)
{
	return snprintf(buf, len,
		"idle_but_parked at +%.1f ms for %.1f ms: I/O readiness (socket inode %llu) "
		"arrived while no worker was in epoll_wait and waited %.1f ms to be "
		"harvested. The I/O driver's last owner, worker %d, was running %s; "
		"%u worker%s sat parked on a futex meanwhile (%.1f ms with at least one), "
		"and nobody polled epoll.%s",
		w->at_ms, ss_ms(d->duration_ns),
		(unsigned long long)d->idle_but_parked.sock_inode, ss_ms(d->duration_ns),
		d->holder, w->blocker, d->parked_workers,
		d->parked_workers == 1 ? "" : "s", ss_ms(d->idle_ns), w->tail);
}

static void label(const struct ss_detection *d, const struct ss_det_words *w,
		  char *buf, size_t len)
{
	if (d->holder >= 0)
		snprintf(buf, len, "%s readiness waited %s, driver last on w%d, %u parked%s",
			 w->kind, w->dur, d->holder, d->parked_workers, w->unsure);
	else
		snprintf(buf, len, "%s readiness waited %s, %u parked%s",
			 w->kind, w->dur, d->parked_workers, w->unsure);
}

static void fields(const struct ss_detection *d, ss_det_put_fn *put, void *arg)
{
	put(arg, "sock", d->idle_but_parked.sock_inode);
}

AN_DETECTOR(idle_but_parked, SS_DET_IDLE_BUT_PARKED,
	    .readiness_arrived = readiness_arrived,
	    .readiness_harvested = readiness_harvested, .fields = fields);
