/* SPDX-License-Identifier: MIT */
/*
 * The analyzer's reordering (userspace/analyze_reorder.c): whatever the
 * order records come in — sorted runs interleaved as the recorder
 * delivers them, reversed, random — they come out in time order, every
 * one, records of equal time in the order they went in; pushing and
 * popping interleaved, down to empty and up to the capacity.
 */
#define _GNU_SOURCE
#include <string.h>

#include "harness.h"
#include "userspace/analyze_int.h"

#define N 100000

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t next_rand(void)
{
	return test_rand(&rng);
}

/* Pushes in[0..n) (args[0]: the arrival number) with pops in between,
 * as feed and flush do, against a plain list of what is held: each pop
 * is the oldest held, the first in among equals. */
static void round_trip(const struct ss_record *in, size_t n, size_t cap)
{
	static size_t held[1024];
	size_t nheld = 0, out = 0, i = 0;
	struct heap h;

	if (cap > 1024)
		FAILF("cap %zu: the reference holds 1024", cap);
	ASSERT_EQ(an_heap_init(&h, cap), 0);
	while (out < n) {
		bool pop = h.n == cap || i == n || (h.n && next_rand() % 3 == 0);

		if (!pop) {
			an_heap_push(&h, &in[i]);
			held[nheld++] = i++;
			continue;
		}
		size_t best = 0;
		for (size_t k = 1; k < nheld; k++) {
			const struct ss_record *a = &in[held[k]], *b = &in[held[best]];
			if (a->ts < b->ts || (a->ts == b->ts && held[k] < held[best]))
				best = k;
		}
		ASSERT_EQ(an_heap_min_ts(&h), in[held[best]].ts);
		struct ss_record r = an_heap_pop(&h);
		if (memcmp(&r, &in[held[best]], sizeof(r)))
			FAILF("pop %zu: got #%llu ts %llu, want #%zu ts %llu", out,
			      (unsigned long long)r.args[0], (unsigned long long)r.ts, held[best],
			      (unsigned long long)in[held[best]].ts);
		held[best] = held[--nheld];
		out++;
	}
	ASSERT_EQ(h.n, 0);
	an_heap_free(&h);
}

/* Pushes all, then pops all: exactly sorted, stable. */
static void sorted_out(const struct ss_record *in, size_t n)
{
	struct heap h;
	struct ss_record prev = { 0 }, r;

	ASSERT_EQ(an_heap_init(&h, n), 0);
	for (size_t i = 0; i < n; i++)
		an_heap_push(&h, &in[i]);
	ASSERT_EQ(h.n, n);
	for (size_t i = 0; i < n; i++) {
		r = an_heap_pop(&h);
		if (i && (r.ts < prev.ts || (r.ts == prev.ts && r.args[0] < prev.args[0])))
			FAILF("out of order at %zu: ts %llu (in #%llu) after ts %llu (in #%llu)", i,
			      (unsigned long long)r.ts, (unsigned long long)r.args[0],
			      (unsigned long long)prev.ts, (unsigned long long)prev.args[0]);
		prev = r;
	}
	ASSERT_EQ(h.n, 0);
	an_heap_free(&h);
}

static struct ss_record in[N];

static void number(void)
{
	for (size_t i = 0; i < N; i++) {
		in[i].args[0] = i;
		in[i].type = SS_WSRT_POLL_START;
	}
}

TEST(interleaved_sorted_runs_come_out_sorted_and_stable)
{
	/* Chunks of 1..500 records of one of 8 streams, each stream's time
	 * going up, coarse enough for ties. */
	__u64 t[8] = { 0 };

	for (size_t i = 0; i < N;) {
		unsigned s = next_rand() % 8, len = 1 + next_rand() % 500;

		for (unsigned k = 0; k < len && i < N; k++, i++) {
			t[s] += next_rand() % 4;
			in[i].ts = t[s];
		}
	}
	number();
	sorted_out(in, N);
	round_trip(in, N, 1000);
}

TEST(reversed_and_random_come_out_sorted_and_stable)
{
	for (size_t i = 0; i < N; i++)
		in[i].ts = N - i;
	number();
	sorted_out(in, N);
	for (size_t i = 0; i < N; i++)
		in[i].ts = next_rand() % 1000;
	number();
	sorted_out(in, N);
	round_trip(in, N, 1000);
}

TEST(a_small_capacity_is_used_to_the_last_slot_and_run)
{
	for (size_t i = 0; i < N; i++)
		in[i].ts = next_rand() % 64;
	number();
	round_trip(in, N, 8);
	round_trip(in, N, 1);
}
