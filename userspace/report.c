/* SPDX-License-Identifier: MIT */
/*
 * What `stallscope report` prints (cmds/report.c; check's lines are
 * cmds/check.c's).
 *
 * Owns: the human summary, the JSON (keys as in DESIGN.md), and the one
 * paragraph that explains a stall.  Does not own: the analysis.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "present.h"
#include "cli.h"
#include "report.h"

/* "task 17 (handle_request)", "task 17", or for none "an unknown task" */
static void task_label(char *buf, size_t len, __u64 id, const char *name)
{
	if (!id)
		snprintf(buf, len, "an unknown task");
	else
		ss_fmt_task(buf, len, id, name);
}

int ss_detection_describe(const struct ss_detection *d,
			  const struct ss_analysis *a, char *buf, size_t len)
{
	char task[96], blocker[96], tail[320] = "";
	struct ss_det_words w = { .at_ms = ss_ms(d->start_ns - a->start_ns), .task = task,
				  .blocker = blocker, .tail = tail,
				  .kind = ss_det_kind_name(d->kind), .dur = "",
				  .unsure = "", .kernel_only = a->kernel_only };
	int n = 0;

	task_label(task, sizeof(task), d->task, d->task_name);
	task_label(blocker, sizeof(blocker), d->blocker_task, d->blocker_name);
	if (!d->blocker_task && a->kernel_only)
		snprintf(blocker, sizeof(blocker),
			 "something (a kernel-only trace has no task names)");
	/* The hypervisor's share: a worker whose vCPU did not run looked
	 * busy from inside the guest. */
	if (d->steal_ns >= 1000000 && d->holder >= 0)
		n = snprintf(tail, sizeof(tail),
			     " The hypervisor kept worker %d's vCPU from running for %.1f ms of it (steal time).",
			     d->holder, ss_ms(d->steal_ns));
	if (d->uncertain && n >= 0 && (size_t)n < sizeof(tail))
		snprintf(tail + n, sizeof(tail) - (size_t)n,
			 " (uncertain: events were lost during it, or it was still going on when the trace ended)");
	/* The rest is the detector's (detect_<kind>.c). */
	return ss_det_describe(d, &w, buf, len);
}

/* The "sock" among a detection's own fields. */
static void take_sock(void *arg, const char *name, __u64 v)
{
	if (!strcmp(name, "sock"))
		*(__u64 *)arg = v;
}

void ss_report_json(FILE *f, const struct ss_analysis *a, bool partial)
{
	fprintf(f, "{\"duration_ns\":%llu,\"workers\":%u,\"events\":%llu,"
		   "\"lost_events\":%llu,\"partial\":%s,\"readiness\":%s,"
		   "\"wasted_worker_ns\":%llu,\"delay_by_cause\":{",
		(unsigned long long)(a->end_ns - a->start_ns), a->nworkers,
		(unsigned long long)a->events, (unsigned long long)a->lost,
		partial ? "true" : "false", a->no_readiness ? "false" : "true",
		(unsigned long long)a->wasted_worker_ns);
	for (int c = 0; c < SS_NCAUSES; c++)
		fprintf(f, "%s\"%s\":%llu", c ? "," : "", ss_cause_name(c),
			(unsigned long long)a->delay_ns[c]);
	fprintf(f, "},\"detections\":[");
	for (size_t i = 0; i < a->ndets; i++) {
		const struct ss_detection *d = &a->dets[i];
		__u64 sock = 0;	/* every kind has it in the JSON: 0 if not its own */

		ss_det_fields(d, take_sock, &sock);

		fprintf(f, "%s{\"kind\":\"%s\",\"start_ns\":%llu,\"offset_ms\":%.3f,"
			   "\"duration_ns\":%llu,\"worker\":%d,\"task\":%llu,\"task_name\":",
			i ? "," : "", ss_det_kind_name(d->kind),
			(unsigned long long)d->start_ns, ss_ms(d->start_ns - a->start_ns),
			(unsigned long long)d->duration_ns, d->holder,
			(unsigned long long)d->task);
		ss_json_string(f, d->task_name);
		fprintf(f, ",\"blocker_task\":%llu,\"blocker_name\":",
			(unsigned long long)d->blocker_task);
		ss_json_string(f, d->blocker_name);
		fprintf(f, ",\"idle_workers\":%u,\"parked_workers\":%u,\"steal_ns\":%llu,"
			   "\"sock\":%llu,\"uncertain\":%s}",
			d->idle_workers, d->parked_workers, (unsigned long long)d->steal_ns,
			(unsigned long long)sock, d->uncertain ? "true" : "false");
	}
	fprintf(f, "]}\n");
}

void ss_report_human(FILE *f, const char *path,
			 const struct ss_trace_reader *r,
			 const struct ss_analysis *a, __u64 threshold)
{
	const struct ss_trace_meta *m = ss_trace_meta(r);
	char para[1024];
	__u64 total = 0;

	fprintf(f, "%s: %s (pid %u), %u worker%s, %.3f s, %llu events, %llu lost%s\n",
		path, m->comm[0] ? m->comm : "?", m->pid, a->nworkers,
		a->nworkers == 1 ? "" : "s", (double)(a->end_ns - a->start_ns) / 1e9,
		(unsigned long long)a->events, (unsigned long long)a->lost,
		ss_sources_label(a));
	if (ss_trace_partial(r))
		fprintf(f, "  partial: the recording was cut off (no trailer); this covers "
			   "what it holds, up to its last complete record\n");
	if (a->workers_by_parking)
		fprintf(f, "  workers: no thread name matched --workers; taken to be the threads that park in futex/epoll waits (not the main thread)\n");
	if (a->lost)
		fprintf(f, "  warning: %llu events were lost; figures near them may be wrong\n",
			(unsigned long long)a->lost);
	if (a->no_readiness)
		fprintf(f, "  readiness: not recorded (--no-readiness): no idle_but_parked "
			   "stall can be found in it, nor a driver_starved delay\n");
	fprintf(f, "  wasted worker time: %.1f ms (workers idle while work was ready)\n",
		ss_ms(a->wasted_worker_ns));
	for (int c = 0; c < SS_NCAUSES; c++)
		total += a->delay_ns[c];
	fprintf(f, "  wake -> run delays: %llu, %.1f ms in all", (unsigned long long)a->delays,
		ss_ms(total));
	for (int c = 0; c < SS_NCAUSES; c++)
		if (a->delay_ns[c])
			fprintf(f, "; %s %.1f ms", ss_cause_name(c), ss_ms(a->delay_ns[c]));
	fputc('\n', f);
	for (unsigned i = 0; i < a->nworkers; i++) {
		const struct ss_worker_info *w = &a->workers[i];
		fprintf(f, "  worker %u (%s, tid %u):", i, w->comm[0] ? w->comm : "?", w->tid);
		for (int s = SS_W_RUNNING; s < SS_W_NSTATES; s++)
			if (w->state_ns[s])
				fprintf(f, " %s %.1f ms", ss_wstate_name(s), ss_ms(w->state_ns[s]));
		if (w->steal_ns)
			fprintf(f, "; vCPU stolen %.1f ms", ss_ms(w->steal_ns));
		fputc('\n', f);
	}
	fprintf(f, "\n%zu stall%s (threshold %.0f ms)%s\n", a->ndets, a->ndets == 1 ? "" : "s",
		ss_ms(threshold), a->ndets ? ":" : ".");
	for (size_t i = 0; i < a->ndets; i++) {
		ss_detection_describe(&a->dets[i], a, para, sizeof(para));
		fprintf(f, "\n  %s\n", para);
	}
}
