/* SPDX-License-Identifier: MIT */
/*
 * The live view's model (viz/live_model.c) without a terminal: state
 * changes become the right glyph per column at any zoom, the bounded
 * rings drop their oldest, the header figures add up, the screen shows
 * lanes, markers and the stall panel, and the window written out reads
 * back as a trace.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "viz/live_model.h"

#define MS 1000000ULL
#define T0 (1000 * 1000 * MS)	/* 1000 s of uptime: a plausible clock */

static struct ss_live_model *model_new(size_t keep)
{
	static struct ss_live_model m;	/* large: not on the stack */
	struct ss_trace_meta meta = { .comm = "lifo-stall", .pid = 42 };

	if (ss_live_model_init(&m, &meta, keep))
		FAILF("ss_live_model_init failed");
	return &m;
}

/* The glyphs of worker w's lane over ncols columns from from. */
static void lane_string(struct ss_live_model *m, unsigned w, __u64 from,
			__u64 col, unsigned ncols, char *buf)
{
	enum ss_wstate st[256];

	ss_live_lane_states(m, w, from, col, ncols, st);
	for (unsigned c = 0; c < ncols; c++)
		buf[c] = ss_live_glyph(st[c]);
	buf[ncols] = '\0';
}

static void state(struct ss_live_model *m, unsigned w, __u64 ts, enum ss_wstate s)
{
	ss_live_model_on_state(m, w, ts, s, 0);
}

/* The whole screen as text, one row after another. */
static void screen(struct ss_live_model *m, struct ss_live_view *v,
		   unsigned rows, unsigned cols, char *out, size_t len)
{
	struct ss_live_grid g = { 0 };
	size_t n = 0;

	if (ss_live_grid_resize(&g, rows, cols))
		FAILF("grid");
	ss_live_render(m, v, &g);
	for (unsigned r = 0; r < rows && n + cols + 2 < len; r++) {
		ss_live_grid_row(&g, r, out + n, len - n);
		n += strlen(out + n);
		out[n++] = '\n';
	}
	out[n] = '\0';
	ss_live_grid_free(&g);
}

TEST(lane_shows_each_state_by_its_glyph)
{
	struct ss_live_model *m = model_new(16);
	char s[64];

	state(m, 0, T0, SS_W_RUNNING);
	state(m, 0, T0 + 10 * MS, SS_W_SEARCHING);
	state(m, 0, T0 + 20 * MS, SS_W_PARKED_DRIVER);
	state(m, 0, T0 + 30 * MS, SS_W_PARKED_FUTEX);
	state(m, 0, T0 + 40 * MS, SS_W_IDLE);
	state(m, 0, T0 + 50 * MS, SS_W_OFFCPU);
	ss_live_model_advance(m, T0 + 60 * MS);
	lane_string(m, 0, T0, 10 * MS, 6, s);
	ASSERT_STREQ(s, "#sD.-R");
	ASSERT_EQ(ss_live_state_attr(SS_W_RUNNING), SS_LA_RUNNING);
	ASSERT_EQ(ss_live_state_attr(SS_W_OFFCPU), SS_LA_OFFCPU);
}

TEST(column_shows_the_state_that_held_it_longest)
{
	struct ss_live_model *m = model_new(16);
	char s[64];

	state(m, 0, T0, SS_W_RUNNING);
	state(m, 0, T0 + 3 * MS, SS_W_PARKED_FUTEX);	/* 3 ms run, 7 parked */
	state(m, 0, T0 + 17 * MS, SS_W_RUNNING);	/* 7 parked, 3 run */
	ss_live_model_advance(m, T0 + 20 * MS);
	lane_string(m, 0, T0, 10 * MS, 2, s);
	ASSERT_STREQ(s, "..");
	/* Zoomed in, each millisecond is its own. */
	lane_string(m, 0, T0, MS, 20, s);
	ASSERT_STREQ(s, "###..............###");
	/* A tie goes to what the runtime did: running. */
	lane_string(m, 0, T0 - 4 * MS, 10 * MS, 1, s);
	ASSERT_STREQ(s, "#");
}

TEST(lane_is_blank_before_its_first_change_and_after_now)
{
	struct ss_live_model *m = model_new(16);
	char s[64];

	state(m, 1, T0 + 20 * MS, SS_W_RUNNING);
	ss_live_model_advance(m, T0 + 50 * MS);
	lane_string(m, 1, T0, 10 * MS, 8, s);
	ASSERT_STREQ(s, "  ###   ");
	/* A worker never seen: all blank. */
	lane_string(m, 0, T0, 10 * MS, 4, s);
	ASSERT_STREQ(s, "    ");
	ASSERT_EQ(m->nlanes, 2);
}

TEST(lane_ring_drops_its_oldest_changes)
{
	struct ss_live_model *m = model_new(16);
	char s[64];

	for (unsigned i = 0; i < SS_LIVE_SEGS + 100; i++)
		state(m, 0, T0 + i * MS, i % 2 ? SS_W_PARKED_FUTEX : SS_W_RUNNING);
	ASSERT_EQ(m->lanes[0].n, SS_LIVE_SEGS);
	/* The first 100 ms are gone: blank, then the alternation. */
	lane_string(m, 0, T0 + 98 * MS, MS, 4, s);
	ASSERT_STREQ(s, "  #.");
}

TEST(late_state_change_keeps_the_lane_in_time_order)
{
	struct ss_live_model *m = model_new(16);
	char s[64];

	state(m, 0, T0, SS_W_RUNNING);
	state(m, 0, T0 + 20 * MS, SS_W_PARKED_FUTEX);
	state(m, 0, T0 + 10 * MS, SS_W_SEARCHING);	/* applied late */
	ss_live_model_advance(m, T0 + 40 * MS);
	lane_string(m, 0, T0, 10 * MS, 4, s);
	ASSERT_STREQ(s, "##ss");
}

TEST(zoom_walks_one_two_five_within_its_range)
{
	ASSERT_EQ(ss_live_zoom(10 * MS, 1), 20 * MS);
	ASSERT_EQ(ss_live_zoom(20 * MS, 1), 50 * MS);
	ASSERT_EQ(ss_live_zoom(50 * MS, 1), 100 * MS);
	ASSERT_EQ(ss_live_zoom(10 * MS, -1), 5 * MS);
	ASSERT_EQ(ss_live_zoom(5 * MS, -1), 2 * MS);
	ASSERT_EQ(ss_live_zoom(3 * MS, -1), 2 * MS);
	ASSERT_EQ(ss_live_zoom(3 * MS, 1), 5 * MS);
	ASSERT_EQ(ss_live_zoom(SS_LIVE_COL_MIN_NS, -1), SS_LIVE_COL_MIN_NS);
	ASSERT_EQ(ss_live_zoom(SS_LIVE_COL_MAX_NS, 1), SS_LIVE_COL_MAX_NS);
}

TEST(rate_counts_the_last_second_of_trace_time)
{
	struct ss_live_model *m = model_new(16);
	struct ss_step s = { .worker = -1, .started = -1 };

	/* 2000 events over 2 s, then 1 s at 5000/s. */
	for (unsigned i = 0; i < 2000; i++) {
		s.ts = T0 + (__u64)i * MS;
		ss_live_model_on_step(m, &s);
	}
	for (unsigned i = 0; i < 5000; i++) {
		s.ts = T0 + 2000 * MS + (__u64)i * 200000;
		ss_live_model_on_step(m, &s);
	}
	ss_live_model_advance(m, T0 + 3000 * MS);
	double rate = ss_live_model_rate(m);
	ASSERT_GT(rate, 4500);
	ASSERT_LT(rate, 5500);
}

TEST(detections_keep_the_newest_first)
{
	struct ss_live_model *m = model_new(16);
	struct ss_detection d = { .kind = SS_DET_STUCK_LIFO };
	char label[32];

	for (unsigned i = 0; i < SS_LIVE_DETS + 5; i++) {
		d.start_ns = T0 + i * MS;
		snprintf(label, sizeof(label), "stall %u", i);
		ss_live_model_add_detection(m, &d, label, "");
	}
	ASSERT_EQ(m->dets_total, SS_LIVE_DETS + 5);
	ASSERT_EQ(m->ndets, SS_LIVE_DETS);
	snprintf(label, sizeof(label), "stall %u", SS_LIVE_DETS + 4);
	ASSERT_STREQ(ss_live_model_det(m, 0)->label, label);
	ASSERT_STREQ(ss_live_model_det(m, SS_LIVE_DETS - 1)->label, "stall 5");
	ASSERT_TRUE(ss_live_model_det(m, SS_LIVE_DETS) == NULL);
}

/* Two workers, the lifo-stall picture: w0 runs 200 ms while w1 sleeps on
 * its futex, and a stuck_lifo on w0 over that time. */
static struct ss_live_model *lifo_picture(void)
{
	struct ss_live_model *m = model_new(16);
	struct ss_step s = { .ts = T0, .worker = 0, .started = 0 };
	struct ss_detection d = { .kind = SS_DET_STUCK_LIFO, .holder = 0,
				  .start_ns = T0 + 10 * MS, .duration_ns = 200 * MS,
				  .task = 2 };

	ss_live_model_on_step(m, &s);
	m->a.nworkers = 2;
	snprintf(m->a.workers[0].comm, sizeof(m->a.workers[0].comm), "wsrt-w0");
	snprintf(m->a.workers[1].comm, sizeof(m->a.workers[1].comm), "wsrt-w1");
	m->a.events = 1234;
	m->a.wasted_worker_ns = 200 * MS;
	state(m, 0, T0, SS_W_RUNNING);
	state(m, 1, T0, SS_W_PARKED_FUTEX);
	ss_live_model_add_detection(m, &d, "stuck_lifo task 2 (task_b) 200 ms on w0",
				    "stuck_lifo at +10.0 ms for 200.0 ms: task 2 waited.");
	ss_live_model_advance(m, T0 + 300 * MS);
	return m;
}

TEST(screen_shows_header_lanes_markers_and_stalls)
{
	struct ss_live_model *m = lifo_picture();
	struct ss_live_view v = { .col_ns = 10 * MS, .right_ns = T0 + 300 * MS,
				  .selected = -1, .status = "LIVE" };
	char out[8192];

	screen(m, &v, 24, 100, out, sizeof(out));
	ASSERT_HAS(out, "stallscope live - lifo-stall (pid 42), 2 workers");
	ASSERT_TRUE(strstr(out, "readiness") == NULL);
	ASSERT_HAS(out, "LIVE\n");
	ASSERT_HAS(out, "events 1234");
	ASSERT_HAS(out, "lost 0");
	ASSERT_HAS(out, "wasted 200 ms");
	ASSERT_HAS(out, "stalls 1");
	ASSERT_HAS(out, "column 10 ms");
	/* 100 columns - "stalls" label - 3: 91 lane columns; the right
	 * 30 hold the 300 ms known, the rest is before the first record. */
	ASSERT_HAS(out, "w0 wsrt-w0 |");
	ASSERT_HAS(out, "##############################|\n");
	ASSERT_HAS(out, "w1 wsrt-w1 |");
	ASSERT_HAS(out, "..............................|\n");
	/* The stall: 200 ms = 20 columns of markers, one column in. */
	ASSERT_HAS(out, "   ^^^^^^^^^^^^^^^^^^^^         |\n");
	ASSERT_HAS(out, "stalls     |");
	ASSERT_HAS(out, "0.0s      0.1s      0.2s");
	ASSERT_HAS(out, "# running");
	ASSERT_HAS(out, "R runnable, off-CPU");
	ASSERT_HAS(out, "recent stalls, newest first (1):");
	ASSERT_HAS(out, "  +0.010s  stuck_lifo task 2 (task_b) 200 ms on w0");
	ASSERT_HAS(out, "q quit  space pause");
	/* A recording without readiness says so in the title: its stall
	 * count cannot hold an idle_but_parked. */
	m->a.no_readiness = true;
	screen(m, &v, 24, 100, out, sizeof(out));
	m->a.no_readiness = false;
	ASSERT_HAS(out, "stallscope live - lifo-stall (pid 42), 2 workers, readiness not recorded");
}

TEST(screen_cells_carry_the_state_colours_and_the_stall_highlight)
{
	struct ss_live_model *m = lifo_picture();
	struct ss_live_view v = { .col_ns = 10 * MS, .right_ns = T0 + 300 * MS,
				  .selected = -1 };
	struct ss_live_grid g = { 0 };
	unsigned hilite = 0, running = 0, futex = 0;

	ASSERT_EQ(ss_live_grid_resize(&g, 24, 100), 0);
	ss_live_render(m, &v, &g);
	for (unsigned c = 0; c < g.cols; c++) {
		unsigned char a0 = g.cells[4 * g.cols + c].attr;	/* w0 */
		unsigned char a1 = g.cells[5 * g.cols + c].attr;	/* w1 */

		hilite += !!(a0 & SS_LA_HILITE);
		running += (a0 & ~SS_LA_HILITE) == SS_LA_RUNNING;
		futex += a1 == SS_LA_FUTEX;
	}
	ASSERT_EQ(running, 30);
	ASSERT_EQ(futex, 30);
	ASSERT_EQ(hilite, 20);		/* w0's cells during the stall */
	ss_live_grid_free(&g);
}

TEST(screen_scrolls_and_zooms_with_the_view)
{
	struct ss_live_model *m = lifo_picture();
	struct ss_live_view v = { .col_ns = 50 * MS, .right_ns = T0 + 300 * MS,
				  .selected = -1 };
	char out[8192];

	/* Zoomed out: 300 ms in 6 columns, the stall in 5 (10..210 ms). */
	screen(m, &v, 24, 100, out, sizeof(out));
	ASSERT_HAS(out, "######|\n");
	ASSERT_HAS(out, " ^^^^^ |\n");
	ASSERT_HAS(out, "column 50 ms");
	/* Scrolled back by 100 ms at 10 ms a column: the 10 newest
	 * columns are past the right edge. */
	v.col_ns = 10 * MS;
	v.right_ns = T0 + 200 * MS;
	screen(m, &v, 24, 100, out, sizeof(out));
	ASSERT_HAS(out, "####################|\n");
	ASSERT_HAS(out, " ^^^^^^^^^^^^^^^^^^^|\n");
}

TEST(selected_stall_is_marked_and_explained)
{
	struct ss_live_model *m = lifo_picture();
	struct ss_live_view v = { .col_ns = 10 * MS, .right_ns = T0 + 300 * MS,
				  .selected = 0 };
	struct ss_live_grid g = { 0 };
	char out[8192];

	screen(m, &v, 24, 100, out, sizeof(out));
	ASSERT_HAS(out, "> +0.010s  stuck_lifo task 2");
	ASSERT_HAS(out, "  stuck_lifo at +10.0 ms for 200.0 ms: task 2 waited.");
	ASSERT_EQ(ss_live_grid_resize(&g, 24, 100), 0);
	ss_live_render(m, &v, &g);
	ASSERT_EQ(g.cells[6 * g.cols + 70].ch, '^');	/* the marker row */
	ASSERT_EQ(g.cells[6 * g.cols + 70].attr, SS_LA_SELECTED);
	ss_live_grid_free(&g);
}

TEST(help_box_lists_the_keys)
{
	struct ss_live_model *m = lifo_picture();
	struct ss_live_view v = { .col_ns = 10 * MS, .right_ns = T0 + 300 * MS,
				  .selected = -1, .help = true };
	char out[8192];

	screen(m, &v, 24, 100, out, sizeof(out));
	ASSERT_HAS(out, "stallscope live - keys");
	ASSERT_HAS(out, "space      pause / resume");
	ASSERT_HAS(out, "w          write the window on screen to a trace file");
}

TEST(tiny_terminal_says_so)
{
	struct ss_live_model *m = lifo_picture();
	struct ss_live_view v = { .col_ns = 10 * MS, .right_ns = T0, .selected = -1 };
	char out[4096];

	screen(m, &v, 5, 30, out, sizeof(out));
	ASSERT_HAS(out, "terminal too small");
}

TEST(many_workers_show_what_fits)
{
	struct ss_live_model *m = model_new(16);
	struct ss_live_view v = { .col_ns = 10 * MS, .right_ns = T0 + 100 * MS,
				  .selected = -1, .lane_top = 3 };
	char out[8192];

	for (unsigned w = 0; w < 40; w++)
		state(m, w, T0, SS_W_RUNNING);
	ss_live_model_advance(m, T0 + 100 * MS);
	screen(m, &v, 20, 80, out, sizeof(out));
	ASSERT_HAS(out, "w3-w11 of 40");
	ASSERT_HAS(out, "w3 ? ");
	ASSERT_TRUE(strstr(out, "w12 ") == NULL);
	ASSERT_TRUE(strstr(out, "w2 ") == NULL);
}

TEST(window_written_out_reads_back_with_its_thread_names)
{
	struct ss_live_model *m = model_new(64);
	struct ss_trace_meta meta = { .comm = "lifo-stall", .pid = 42, .workers = 2 };
	struct ss_trace_reader *rd;
	struct ss_record r = { .type = SS_THREAD_AT_ATTACH, .tid = 7, .ts = T0 };
	char path[] = "/tmp/stallscope-live-test-XXXXXX";
	size_t n, got = 0, names = 0;
	int fd = mkstemp(path), ret;

	if (fd < 0)
		FAILF("mkstemp: %s", strerror(errno));
	close(fd);
	memcpy(r.args, "wsrt-w0", 7);
	ss_live_model_keep(m, &r);
	for (unsigned i = 1; i <= 100; i++) {
		struct ss_record s = { .type = SS_SCHED_SWITCH, .tid = 7,
				       .ts = T0 + i * MS };
		ss_live_model_keep(m, &s);
	}
	/* 64 kept: the last 64 ms; the window takes 50..80 ms. */
	ASSERT_EQ(m->nkeep, 64);
	ASSERT_EQ(ss_live_model_write(m, &meta, T0 + 50 * MS, T0 + 80 * MS, path, &n), 0);
	ASSERT_EQ(n, 31);		/* the name, then 30 records */
	ASSERT_EQ(ss_trace_open(path, &rd), 0);
	while ((ret = ss_trace_next(rd, &r)) == 1) {
		got++;
		ASSERT_GE(r.ts, T0 + 50 * MS);
		ASSERT_LT(r.ts, T0 + 80 * MS);
		names += r.type == SS_THREAD_AT_ATTACH;
	}
	ASSERT_EQ(ret, 0);
	ASSERT_EQ(got, 31);
	ASSERT_EQ(names, 1);
	ASSERT_EQ(ss_trace_meta(rd)->pid, 42);
	ss_trace_close(rd);
	/* Nothing kept in the window: no file. */
	unlink(path);
	ASSERT_EQ(ss_live_model_write(m, &meta, T0, T0 + 10 * MS, path, &n), -ENODATA);
	ASSERT_EQ(access(path, F_OK), -1);
}
