/* SPDX-License-Identifier: MIT */
/*
 * watch's Prometheus text (userspace/metrics.c): a HELP and a TYPE line
 * per family, cumulative histogram buckets ending at +Inf with _sum and
 * _count, escaped label values, the analysis's figures in seconds.
 */
#define _GNU_SOURCE
#include <string.h>

#include "harness.h"
#include "userspace/metrics.h"

#define MS 1000000ULL

static char *render(const struct ss_metrics *m, const struct ss_analysis *a)
{
	char *text;
	size_t len;

	ASSERT_EQ(ss_metrics_render(m, a, &text, &len), 0);
	ASSERT_EQ(strlen(text), len);
	return text;
}

static struct ss_detection det(enum ss_det_kind k, __u64 ms)
{
	return (struct ss_detection){ .kind = k, .duration_ns = ms * MS };
}

TEST(stalls_fill_a_cumulative_histogram_by_kind)
{
	struct ss_metrics m = { .pid = 42, .comm = "svc" };
	struct ss_detection d;
	char *t;

	d = det(SS_DET_IDLE_BUT_PARKED, 30);
	ss_metrics_add_detection(&m, &d);
	d = det(SS_DET_IDLE_BUT_PARKED, 200);
	ss_metrics_add_detection(&m, &d);
	d = det(SS_DET_IDLE_BUT_PARKED, 20000);	/* past the last bound */
	ss_metrics_add_detection(&m, &d);
	t = render(&m, NULL);
	ASSERT_HAS(t, "# HELP stallscope_stalls_total ");
	ASSERT_HAS(t, "# TYPE stallscope_stalls_total counter\n");
	ASSERT_HAS(t, "stallscope_stalls_total{pid=\"42\",comm=\"svc\",kind=\"idle_but_parked\"} 3\n");
	ASSERT_HAS(t, "stallscope_stalls_total{pid=\"42\",comm=\"svc\",kind=\"stuck_lifo\"} 0\n");
	ASSERT_HAS(t, "# TYPE stallscope_stall_duration_seconds histogram\n");
	ASSERT_HAS(t, "kind=\"idle_but_parked\",le=\"0.025\"} 0\n");
	ASSERT_HAS(t, "kind=\"idle_but_parked\",le=\"0.05\"} 1\n");
	ASSERT_HAS(t, "kind=\"idle_but_parked\",le=\"0.25\"} 2\n");
	ASSERT_HAS(t, "kind=\"idle_but_parked\",le=\"10\"} 2\n");
	ASSERT_HAS(t, "kind=\"idle_but_parked\",le=\"+Inf\"} 3\n");
	ASSERT_HAS(t, "stallscope_stall_duration_seconds_sum{pid=\"42\",comm=\"svc\",kind=\"idle_but_parked\"} 20.230000000\n");
	ASSERT_HAS(t, "stallscope_stall_duration_seconds_count{pid=\"42\",comm=\"svc\",kind=\"idle_but_parked\"} 3\n");
	free(t);
}

TEST(label_values_are_escaped)
{
	struct ss_metrics m = { .pid = 7, .comm = "a\"b\\c\nd" };
	char *t = render(&m, NULL);

	ASSERT_HAS(t, "{pid=\"7\",comm=\"a\\\"b\\\\c\\nd\"}");
	free(t);
}

TEST(the_analysis_figures_are_seconds_per_worker_and_cause)
{
	static struct ss_analysis a;
	struct ss_metrics m = { .pid = 1, .comm = "x" };
	char *t;

	a.wasted_worker_ns = 1500 * MS;
	a.delay_ns[SS_CAUSE_DRIVER_STARVED] = 250 * MS;
	a.nworkers = 1;
	a.workers[0].index = 0;
	strcpy(a.workers[0].comm, "wsrt-w0");
	a.workers[0].state_ns[SS_W_PARKED_FUTEX] = 3 * MS;
	t = render(&m, &a);
	ASSERT_HAS(t, "stallscope_wasted_worker_seconds_total{pid=\"1\",comm=\"x\"} 1.500000000\n");
	ASSERT_HAS(t, "stallscope_delay_seconds_total{pid=\"1\",comm=\"x\",cause=\"driver_starved\"} 0.250000000\n");
	ASSERT_HAS(t, "stallscope_worker_state_seconds_total{pid=\"1\",comm=\"x\",worker=\"0\",thread=\"wsrt-w0\",state=\"parked_futex\"} 0.003000000\n");
	free(t);
}

/* A kind the recording cannot show reads 0, so that its counter's 0 is
 * not taken for "no stall": from the options before the target's
 * records, then from the analysis (the trace's flags, what it has seen). */
#define FINDABLE(k) "stallscope_stalls_findable{pid=\"1\",comm=\"x\",kind=\"" k "\"} "

TEST(the_kinds_a_recording_cannot_show_read_0)
{
	static struct ss_analysis a;
	struct ss_metrics m = { .pid = 1, .comm = "x" };
	char *t;

	t = render(&m, NULL);
	ASSERT_HAS(t, "# TYPE stallscope_stalls_findable gauge\n");
	ASSERT_HAS(t, FINDABLE("stuck_lifo") "1\n");
	ASSERT_HAS(t, FINDABLE("idle_but_parked") "1\n");
	ASSERT_HAS(t, FINDABLE("runnable_while_parked") "1\n");
	free(t);
	m.no_readiness = true;
	t = render(&m, NULL);
	ASSERT_HAS(t, FINDABLE("idle_but_parked") "0\n");
	ASSERT_HAS(t, FINDABLE("stuck_lifo") "1\n");
	free(t);
	m.no_readiness = false;
	m.kernel_only = true;
	t = render(&m, NULL);
	ASSERT_HAS(t, FINDABLE("idle_but_parked") "1\n");
	ASSERT_HAS(t, FINDABLE("stuck_lifo") "0\n");
	ASSERT_HAS(t, FINDABLE("runnable_while_parked") "0\n");
	free(t);
	/* The analysis, once there, says it: kernel events only, until
	 * Tokio's own records give the tasks; no readiness. */
	m.kernel_only = false;
	a.kernel_only = true;
	t = render(&m, &a);
	ASSERT_HAS(t, FINDABLE("stuck_lifo") "0\n");
	free(t);
	/* ... but the runtime's probes attached: tasks, before any. */
	a.runtime_probes = true;
	t = render(&m, &a);
	ASSERT_HAS(t, FINDABLE("stuck_lifo") "1\n");
	ASSERT_HAS(t, FINDABLE("runnable_while_parked") "1\n");
	free(t);
	a.runtime_probes = false;
	a.tokio = true;
	a.no_readiness = true;
	t = render(&m, &a);
	ASSERT_HAS(t, FINDABLE("stuck_lifo") "1\n");
	ASSERT_HAS(t, FINDABLE("runnable_while_parked") "1\n");
	ASSERT_HAS(t, FINDABLE("idle_but_parked") "0\n");
	free(t);
}
