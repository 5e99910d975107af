/* SPDX-License-Identifier: MIT */
/* Lanes (userspace/lanes.c): columns of a window, folding, ties, steps. */
#include "harness.h"
#include "lanes.h"

TEST(columns_cut_the_window_exactly)
{
	/* 10 ns in 3 columns: [0,4) [4,7) [7,10). */
	struct ss_lane_window w = { 100, 110, 3 };

	ASSERT_EQ(ss_lane_col(&w, 100), 0);
	ASSERT_EQ(ss_lane_col(&w, 103), 0);
	ASSERT_EQ(ss_lane_col(&w, 104), 1);
	ASSERT_EQ(ss_lane_col(&w, 109), 2);
	ASSERT_EQ(ss_lane_col_end(&w, 0), 104);
	ASSERT_EQ(ss_lane_col_end(&w, 1), 107);
	ASSERT_EQ(ss_lane_col_end(&w, 2), 110);
}

TEST(a_column_shows_the_longest_state_and_ties_go_to_work)
{
	struct ss_lane_window w = { 0, 40, 4 };	/* 10 ns a column */
	enum ss_wstate out[4] = { SS_W_EXITED, SS_W_EXITED, SS_W_EXITED, SS_W_EXITED };
	struct ss_lane_fold f;

	ss_lane_fold_init(&f);
	ss_lane_fold_add(&w, &f, SS_W_IDLE, 0, 4, out);		/* col 0: idle 4 */
	ss_lane_fold_add(&w, &f, SS_W_RUNNING, 4, 10, out);	/* running 6 */
	ss_lane_fold_add(&w, &f, SS_W_PARKED_FUTEX, 10, 15, out);	/* col 1: 5 and 5 */
	ss_lane_fold_add(&w, &f, SS_W_SEARCHING, 15, 20, out);
	ss_lane_fold_add(&w, &f, SS_W_PARKED_DRIVER, 20, 100, out);	/* clipped at 40 */
	ss_lane_fold_close(&f, out);
	ASSERT_EQ(out[0], SS_W_RUNNING);
	ASSERT_EQ(out[1], SS_W_SEARCHING);	/* a tie: what the runtime did */
	ASSERT_EQ(out[2], SS_W_PARKED_DRIVER);
	ASSERT_EQ(out[3], SS_W_PARKED_DRIVER);
}

TEST(time_outside_the_window_folds_nothing)
{
	struct ss_lane_window w = { 100, 200, 10 };
	enum ss_wstate out[10] = { SS_W_UNKNOWN };
	struct ss_lane_fold f;

	ss_lane_fold_init(&f);
	ss_lane_fold_add(&w, &f, SS_W_RUNNING, 0, 100, out);
	ss_lane_fold_add(&w, &f, SS_W_RUNNING, 200, 300, out);
	ASSERT_EQ(f.cur, -1);
	ss_lane_fold_add(&w, &f, (enum ss_wstate)99, 150, 160, out);	/* not a state */
	ASSERT_EQ(f.acc[SS_W_UNKNOWN], 10);	/* counted as unknown */
	ss_lane_fold_close(&f, out);
	ASSERT_EQ(out[5], SS_W_UNKNOWN);
}

TEST(steps_are_one_two_five)
{
	int k;

	ASSERT_EQ(ss_step_125(0, &k), 1);
	ASSERT_EQ(k, 0);
	ASSERT_EQ(ss_step_125(3, &k), 5);
	ASSERT_EQ(ss_step_125(6, &k), 10);
	ASSERT_EQ(k, 1);
	ASSERT_EQ(ss_step_125(11, &k), 20);
	ASSERT_EQ(ss_step_125(2000, &k), 2000);
	ASSERT_EQ(k, 3);
	ASSERT_EQ(ss_step_125(2001, &k), 5000);
}
