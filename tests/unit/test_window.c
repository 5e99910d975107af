/* SPDX-License-Identifier: MIT */
/*
 * The flight recorder's window (userspace/window.c): what goes in comes
 * out bit for bit, in the order it went in; the time and memory bounds
 * drop the oldest and say from when the window is complete; thread names
 * outlive their chunk; a scheduler's stream takes well under a record's
 * 64 bytes an event.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "userspace/window.h"

#define MS 1000000ULL
#define T0 (1000 * 1000 * MS)

struct collect {
	struct ss_record *r;
	size_t n, cap, nctx;
};

static int collect(void *arg, const struct ss_record *r, bool context)
{
	struct collect *c = arg;

	if (context) {
		c->nctx++;
		return 0;
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 1024;
		c->r = realloc(c->r, c->cap * sizeof(*c->r));
		if (!c->r)
			FAILF("realloc");
	}
	c->r[c->n++] = *r;
	return 0;
}

static uint64_t rng = 88172645463325252ULL;

static uint64_t next_rand(void)
{
	return test_rand(&rng);
}

/* Records like a runtime's: a few threads, small time steps (some going
 * back, as per-CPU streams interleave), tasks from one heap; and now and
 * then anything at all, every field random. */
static void fake(struct ss_record *r, __u64 *ts, unsigned i)
{
	memset(r, 0, sizeof(*r));
	if (i % 97 == 13) {
		__u64 *w = (__u64 *)r;

		for (unsigned k = 0; k < 8; k++)
			w[k] = next_rand();
		return;
	}
	*ts += next_rand() % 3000;
	r->ts = *ts - next_rand() % 500;
	r->type = 1 + next_rand() % 20;
	r->tid = 4000 + next_rand() % 4;
	r->cpu = next_rand() % 2;
	r->flags = next_rand() % 5 == 0;
	r->args[0] = next_rand() % 4;
	r->args[1] = 0x55550000a000ULL + (next_rand() % 256) * 64;
	r->args[2] = next_rand() % 3;
	r->args[3] = i % 7 ? 0 : next_rand();
}

TEST(every_record_comes_back_bit_for_bit_in_the_order_added)
{
	struct ss_window *w = ss_window_new(UINT64_MAX, 64 << 20);
	static struct ss_record in[200000];
	struct collect out = { 0 };
	struct ss_window_stats st;
	__u64 ts = T0;

	ASSERT_TRUE(w);
	for (unsigned i = 0; i < 200000; i++) {
		fake(&in[i], &ts, i);
		ASSERT_EQ(ss_window_add(w, &in[i]), 0);
	}
	ss_window_stats(w, &st);
	ASSERT_EQ(st.events, 200000);
	ASSERT_EQ(st.complete_from, 0);
	ASSERT_EQ(ss_window_each(w, 0, UINT64_MAX, collect, &out), 0);
	ASSERT_EQ(out.n, 200000);
	for (unsigned i = 0; i < 200000; i++)
		if (memcmp(&in[i], &out.r[i], sizeof(in[i])))
			FAILF("record %u differs: type %u ts %llu, back type %u ts %llu", i,
			      in[i].type, (unsigned long long)in[i].ts, out.r[i].type,
			      (unsigned long long)out.r[i].ts);
	free(out.r);
	ss_window_free(w);
}

TEST(a_span_is_cut_by_timestamp)
{
	struct ss_window *w = ss_window_new(3600 * 1000 * MS, 8 << 20);
	struct collect out = { 0 };
	struct ss_record r = { .type = SS_WSRT_POLL_START, .tid = 7 };

	for (unsigned i = 0; i < 1000; i++) {
		r.ts = T0 + i * MS;
		ASSERT_EQ(ss_window_add(w, &r), 0);
	}
	ASSERT_EQ(ss_window_each(w, T0 + 100 * MS, T0 + 200 * MS, collect, &out), 0);
	ASSERT_EQ(out.n, 100);
	ASSERT_EQ(out.r[0].ts, T0 + 100 * MS);
	ASSERT_EQ(out.r[99].ts, T0 + 199 * MS);
	free(out.r);
	ss_window_free(w);
}

TEST(the_memory_bound_drops_the_oldest_and_says_from_when_it_is_complete)
{
	struct ss_window *w = ss_window_new(3600 * 1000 * MS, 4 * SS_WINDOW_CHUNK);
	struct collect out = { 0 };
	struct ss_window_stats st;
	struct ss_record r;
	__u64 ts = T0;

	for (unsigned i = 0; i < 100000; i++) {
		fake(&r, &ts, 1);	/* never the all-random kind */
		ASSERT_EQ(ss_window_add(w, &r), 0);
	}
	ss_window_stats(w, &st);
	ASSERT_LE(st.bytes, 4 * SS_WINDOW_CHUNK);	/* a spare counts */
	ASSERT_GT(st.dropped, 0);
	ASSERT_EQ(st.events + st.dropped, 100000);
	ASSERT_GT(st.complete_from, T0);
	ASSERT_LE(st.complete_from, st.last_ts);
	/* Every record from complete_from on is there. */
	ASSERT_EQ(ss_window_each(w, st.complete_from, UINT64_MAX, collect, &out), 0);
	ASSERT_GT(out.n, 0);
	for (size_t i = 0; i < out.n; i++)
		ASSERT_GE(out.r[i].ts, st.complete_from);
	ASSERT_EQ(out.r[out.n - 1].ts, r.ts);
	free(out.r);
	ss_window_free(w);
}

TEST(the_time_bound_keeps_about_keep_ns)
{
	struct ss_window *w = ss_window_new(1000 * MS, 64 << 20);
	struct ss_window_stats st;
	struct ss_record r = { .type = SS_SCHED_SWITCH, .tid = 9 };

	/* 20 s of a record every 10 us. */
	for (__u64 t = 0; t < 20000 * MS; t += 10000) {
		r.ts = T0 + t;
		r.args[0] = t;
		ASSERT_EQ(ss_window_add(w, &r), 0);
	}
	ss_window_stats(w, &st);
	ASSERT_GE(st.last_ts - st.first_ts, 1000 * MS);
	ASSERT_LE(st.last_ts - st.first_ts, 1200 * MS);
	/* Less a chunk's span (a chunk goes whole): about 90 ms here. */
	ASSERT_GE(st.complete_from, st.last_ts - 1200 * MS);
	ASSERT_LE(st.complete_from, st.first_ts + 10000);
	ss_window_free(w);
}

TEST(thread_names_outlive_their_chunk_latest_per_thread)
{
	struct ss_window *w = ss_window_new(100 * MS, 64 << 20);
	struct ss_record name = { .type = SS_COMM, .tid = 11, .ts = T0 };
	struct ss_record r = { .type = SS_SCHED_SWITCH, .tid = 9 };
	struct collect out = { 0 };

	memcpy(&name.args[0], "old-name", 9);
	ASSERT_EQ(ss_window_add(w, &name), 0);
	name.ts = T0 + MS;
	memcpy(&name.args[0], "wsrt-w0\0", 9);
	ASSERT_EQ(ss_window_add(w, &name), 0);
	for (__u64 t = 2 * MS; t < 2000 * MS; t += 10000) {
		r.ts = T0 + t;
		ASSERT_EQ(ss_window_add(w, &r), 0);
	}
	ASSERT_EQ(ss_window_each(w, T0 + 1900 * MS, UINT64_MAX, collect, &out), 0);
	ASSERT_EQ(out.nctx, 1);
	for (size_t i = 0; i < out.n; i++)
		ASSERT_NE(out.r[i].type, SS_COMM);
	free(out.r);
	ss_window_free(w);
}

TEST(a_schedulers_stream_takes_under_24_bytes_an_event)
{
	struct ss_window *w = ss_window_new(3600 * 1000 * MS, 64 << 20);
	struct ss_window_stats st;
	struct ss_record r;
	__u64 ts = T0;

	for (unsigned i = 0; i < 100000; i++) {
		fake(&r, &ts, 1);
		ASSERT_EQ(ss_window_add(w, &r), 0);
	}
	ss_window_stats(w, &st);
	ASSERT_LT(st.bytes / st.events, 24);
	ss_window_free(w);
}
