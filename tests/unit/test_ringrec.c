/* SPDX-License-Identifier: MIT */
/*
 * The recorder's side of the rings (userspace/ringrec.c) on chunks made
 * here as BPF would hand them over: what is decoded, what is counted
 * lost, what is refused — never a garbage record.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <time.h>
#include <x86intrin.h>

#include "harness.h"
#include "userspace/ringpack.h"
#include "userspace/ringrec.h"

#define CAP 64

struct sink {
	struct ss_record recs[256];
	unsigned n;
	__u64 lost;
};

static void collect(void *arg, const struct ss_record *rec)
{
	struct sink *k = arg;

	if (rec->type == SS_LOST) {
		k->lost += rec->args[0];
		return;
	}
	if (k->n < 256)
		k->recs[k->n++] = *rec;
}

/* A chunk of slots [first, first + n) of a ring of CAP slots, holding
 * (from seq 0) alternately a one-slot notify and a two-slot spawn:
 * seq % 3 == 0 notify (task = seq), 1 spawn (task = seq), 2 its second. */
static void slot_at(__u64 seq, struct ss_ring_slot *s)
{
	*s = (struct ss_ring_slot){ .ts = __rdtsc(), .seq = (__u16)seq };
	switch (seq % 3) {
	case 0:
		s->type = SS_WSRT_NOTIFY;
		s->x = seq;
		break;
	case 1:
		s->type = SS_WSRT_SPAWN;
		s->x = seq;
		break;
	default:
		s->type = SS_RING_EXT;
		s->ts = 0;
		break;
	}
}

static struct {
	struct ss_ring_chunk c;
	struct ss_ring_slot s[CAP];
} chunk;

static const void *make(__u64 first, unsigned n, __u64 head_after)
{
	chunk.c = (struct ss_ring_chunk){ .ts = 0, .type = SS_RING_CHUNK, .tid = 7,
					  .count = n, .first = first,
					  .head_after = head_after, .cap = CAP,
					  .ring = 0x1000 };
	for (unsigned i = 0; i < n; i++)
		slot_at(first + i, &chunk.s[i]);
	return &chunk;
}

#define SIZE(n) (sizeof(struct ss_ring_chunk) + (n) * sizeof(struct ss_ring_slot))

/* Slots [first, first + n) of a ring whose head is then head_after, as one
 * chunk; taken whole. */
static void feed(struct ss_ringrec *rr, __u64 first, unsigned n, __u64 head_after)
{
	ASSERT_EQ(ss_ringrec_chunk(rr, make(first, n, head_after), SIZE(n)), 0);
}

/* The end of the recording: then lost events in all. */
static void finish(struct ss_ringrec *rr, const struct sink *k, __u64 lost)
{
	ss_ringrec_finish(rr);
	ASSERT_EQ(k->lost, lost);
	ss_ringrec_free(rr);
}

static struct ss_ringrec *fresh(struct sink *k)
{
	struct ss_ringrec *rr;

	*k = (struct sink){ 0 };
	ASSERT_EQ(ss_ringrec_new(&rr, collect, NULL, k), 0);
	return rr;
}

TEST(ringrec_whole_chunk_decodes_every_event)
{
	struct sink k;
	struct ss_ringrec *rr = fresh(&k);

	feed(rr, 0, 9, 9);
	ASSERT_EQ(k.n, 6);	/* 3 notifies, 3 spawns */
	ASSERT_EQ(k.lost, 0);
	ASSERT_EQ(k.recs[0].type, SS_WSRT_NOTIFY);
	ASSERT_EQ(k.recs[1].type, SS_WSRT_SPAWN);
	ASSERT_EQ(k.recs[1].args[0], 1);
	ASSERT_EQ(k.recs[0].tid, 7);
	finish(rr, &k, 0);
}

TEST(ringrec_split_event_is_joined_whichever_half_comes_first)
{
	struct sink k;
	struct ss_ringrec *rr = fresh(&k);

	/* [0, 2) ends with spawn 1's first half, [2, 4) starts with its second. */
	feed(rr, 0, 2, 9);
	ASSERT_EQ(k.n, 1);
	feed(rr, 2, 2, 9);
	ASSERT_EQ(k.n, 3);
	ASSERT_EQ(k.recs[1].type, SS_WSRT_SPAWN);
	ASSERT_EQ(k.recs[1].args[0], 1);
	/* The other way round: [5, 7) (4's second half first), then [4, 5). */
	feed(rr, 5, 2, 9);
	ASSERT_EQ(k.n, 4);	/* 6, a notify */
	feed(rr, 4, 1, 9);
	ASSERT_EQ(k.n, 5);
	ASSERT_EQ(k.recs[4].type, SS_WSRT_SPAWN);
	ASSERT_EQ(k.recs[4].args[0], 4);
	finish(rr, &k, 0);
}

TEST(ringrec_half_never_completed_is_lost_at_the_end)
{
	struct sink k;
	struct ss_ringrec *rr = fresh(&k);

	feed(rr, 0, 2, 9);
	ASSERT_EQ(k.lost, 0);
	finish(rr, &k, 1);
}

TEST(ringrec_slots_overwritten_while_copied_are_lost_not_decoded)
{
	struct sink k;
	struct ss_ringrec *rr = fresh(&k);

	/* Copied [0, 9) but the head reached 69: slots below 69 - 64 + 1 = 6
	 * may be new ones: 0..5 lost, 6 (a notify), 7 and 8 (a spawn) kept. */
	feed(rr, 0, 9, 69);
	ASSERT_EQ(k.lost, 6);
	ASSERT_EQ(k.n, 2);
	ASSERT_EQ(k.recs[0].args[0], 6);
	ASSERT_EQ(k.recs[1].args[0], 7);
	/* Lapped before the claim. */
	const struct ss_ring_chunk *c = make(9, 3, 12);
	chunk.c.skipped = 40;
	ASSERT_EQ(ss_ringrec_chunk(rr, c, SIZE(3)), 0);
	ASSERT_EQ(k.lost, 46);
	ss_ringrec_free(rr);
}

TEST(ringrec_garbage_is_refused_and_counted)
{
	struct sink k;
	struct ss_ringrec *rr = fresh(&k);
	__u64 lost, garbage;

	make(0, 9, 9);
	chunk.s[4].seq = 99;	/* not its sequence number: a torn copy */
	ASSERT_EQ(ss_ringrec_chunk(rr, &chunk, SIZE(9)), -EBADMSG);
	ASSERT_EQ(k.n, 0);
	ASSERT_EQ(k.lost, 9);
	make(0, 9, 9);
	chunk.c.count = 10;	/* more than it holds */
	ASSERT_EQ(ss_ringrec_chunk(rr, &chunk, SIZE(9)), -EBADMSG);
	make(0, 9, 9);
	chunk.c.cap = 48;	/* not a power of two */
	ASSERT_EQ(ss_ringrec_chunk(rr, &chunk, SIZE(9)), -EBADMSG);
	make(0, 9, 9);
	chunk.s[3].type = 5000;	/* a type no ring carries */
	ASSERT_EQ(ss_ringrec_chunk(rr, &chunk, SIZE(9)), 0);
	for (unsigned i = 0; i < k.n; i++)
		ASSERT_NE(k.recs[i].type, 5000);
	ASSERT_EQ(k.n, 5);
	ss_ringrec_stats(rr, &lost, &garbage);
	ASSERT_EQ(garbage, 3);
	ASSERT_EQ(lost, k.lost);
	ss_ringrec_free(rr);
}

TEST(ringrec_slots_from_before_the_recording_are_skipped)
{
	struct sink k;
	struct ss_ringrec *rr = fresh(&k);

	make(0, 3, 3);
	chunk.s[0].ts = 1;	/* an earlier recording's */
	ASSERT_EQ(ss_ringrec_chunk(rr, &chunk, SIZE(3)), 0);
	ASSERT_EQ(k.n, 1);
	ASSERT_EQ(k.recs[0].type, SS_WSRT_SPAWN);
	ASSERT_EQ(k.lost, 0);
	ss_ringrec_free(rr);
}

TEST(ringrec_times_are_monotonic_ns_between_pairs)
{
	struct sink k;
	struct ss_ringrec *rr = fresh(&k);
	struct timespec a, b;
	__u64 ns_a, ns_b, tsc;

	clock_gettime(CLOCK_MONOTONIC, &a);
	tsc = __rdtsc();
	clock_gettime(CLOCK_MONOTONIC, &b);
	for (int i = 0; i < 1000000; i++)
		__asm__ __volatile__("" ::: "memory");
	ss_ringrec_sample(rr);
	ns_a = (__u64)a.tv_sec * 1000000000ULL + (__u64)a.tv_nsec;
	ns_b = (__u64)b.tv_sec * 1000000000ULL + (__u64)b.tv_nsec;
	__u64 ns = ss_ringrec_tsc_to_ns(rr, tsc);
	/* Within the window it was read in, give or take the pairs' own
	 * windows (wide margins: a preempted sample is not an error). */
	ASSERT_GE(ns + 50000, ns_a);
	ASSERT_LE(ns, ns_b + 50000);
	ss_ringrec_free(rr);
}

/* A sink that takes blocks (a trace file's way): room for CAP slots;
 * what ended. */
struct blocks {
	struct sink k;		/* first: collect() takes the same arg */
	struct ss_ring_slot room[CAP];
	struct ss_block_done d;
	unsigned ends;
};

static struct ss_ring_slot *room_begin(void *arg, const struct ss_ring_chunk *hdr, __u32 n,
				       bool *pack)
{
	struct blocks *b = arg;

	return n <= CAP ? b->room : NULL;
}

static void room_end(void *arg, const struct ss_ring_chunk *hdr, const struct ss_block_done *d)
{
	struct blocks *b = arg;

	if (d->used)	/* (a chunk that was only a half ends an empty block) */
		b->d = *d;
	b->ends++;
}

static const struct ss_ringrec_blocks room_blocks = { room_begin, room_end };

TEST(ringrec_blocks_hold_the_whole_events_of_the_recording_in_ns)
{
	static struct blocks b;
	struct ss_ringrec *rr;
	__u64 lo = UINT64_MAX, hi = 0;

	ASSERT_EQ(ss_ringrec_new(&rr, collect, &room_blocks, &b), 0);
	/* Slots 2..61: 2 a second half (its first not here), 7-8 a spawn
	 * from before the recording, 61 a first half (its second not yet):
	 * the block is 3..60 without 7 and 8. */
	make(2, 60, 62);
	chunk.s[5].ts = 1;
	ASSERT_EQ(ss_ringrec_chunk(rr, &chunk, SIZE(60)), 0);
	ASSERT_EQ(b.ends, 1);
	ASSERT_EQ(b.d.used, 56);
	ASSERT_EQ(b.d.events, 38);
	ASSERT_EQ(b.k.n, 0);	/* nothing as records */
	/* Each slot is the ring's, its time in ns; the span is the events'. */
	for (unsigned i = 0, j = 1; i < b.d.used; i++, j += (j == 4 ? 3 : 1)) {
		ASSERT_EQ(b.room[i].seq, chunk.s[j].seq);
		ASSERT_EQ(b.room[i].type, chunk.s[j].type);
		ASSERT_EQ(b.room[i].x, chunk.s[j].x);
		if (b.room[i].type == SS_RING_EXT)
			continue;
		ASSERT_EQ(b.room[i].ts, ss_ringrec_tsc_to_ns(rr, chunk.s[j].ts));
		lo = b.room[i].ts < lo ? b.room[i].ts : lo;
		hi = b.room[i].ts > hi ? b.room[i].ts : hi;
	}
	ASSERT_EQ(b.d.min_ts, lo);
	ASSERT_EQ(b.d.max_ts, hi);
	/* The halves kept meet their others in the next chunks. */
	make(62, 1, 63);
	ASSERT_EQ(ss_ringrec_chunk(rr, &chunk, SIZE(1)), 0);
	ASSERT_EQ(b.d.used, 2);
	ASSERT_EQ(b.d.events, 1);
	ASSERT_EQ(b.room[0].seq, 61);
	ASSERT_EQ(b.room[1].seq, 62);
	ss_ringrec_finish(rr);
	ASSERT_EQ(b.k.lost, 1);	/* slot 2's first half never came */
	ss_ringrec_free(rr);
}

/* A sink with room for a block of any size, keeping each block's slots. */
#define BIG 5000
struct big_blocks {
	struct sink k;
	struct ss_ring_slot room[BIG];
	unsigned at, nblocks, sizes[8], events;
	__u32 asked_max;
};

static struct ss_ring_slot *big_begin(void *arg, const struct ss_ring_chunk *hdr, __u32 n,
				      bool *pack)
{
	struct big_blocks *b = arg;

	b->asked_max = n > b->asked_max ? n : b->asked_max;
	return b->at + n <= BIG ? b->room + b->at : NULL;
}

static void big_end(void *arg, const struct ss_ring_chunk *hdr, const struct ss_block_done *d)
{
	struct big_blocks *b = arg;

	if (b->nblocks < 8)
		b->sizes[b->nblocks] = d->used;
	b->nblocks++;
	b->at += d->used;
	b->events += d->events;
}

/* BIG slots of a ring of 8,192, as a drain copying a claim whole hands
 * them over: slot 2,047 is a spawn's first half, its second 2,048; the
 * last slot (4,999) a first half whose second is not here yet. */
static struct {
	struct ss_ring_chunk c;
	struct ss_ring_slot s[BIG];
} big_chunk;

static void make_big(void)
{
	big_chunk.c = (struct ss_ring_chunk){ .type = SS_RING_CHUNK, .tid = 7, .count = BIG,
					      .first = 0, .head_after = BIG, .cap = 8192,
					      .ring = 0x1000 };
	for (unsigned i = 0; i < BIG; i++)
		slot_at(i, &big_chunk.s[i]);
}

TEST(ringrec_a_chunk_bigger_than_a_block_is_cut_between_events)
{
	static const struct ss_ringrec_blocks big = { big_begin, big_end };
	static struct big_blocks b;
	struct ss_ringrec *rr;

	ASSERT_EQ(ss_ringrec_new(&rr, collect, &big, &b), 0);
	make_big();
	ASSERT_EQ(ss_ringrec_chunk(rr, &big_chunk, sizeof(big_chunk)), 0);
	/* Blocks of at most SS_BLOCK_SLOTS, none starting in an event. */
	ASSERT_EQ(b.asked_max, SS_BLOCK_SLOTS);
	ASSERT_EQ(b.nblocks, 3);
	ASSERT_EQ(b.sizes[0], 2047);
	ASSERT_EQ(b.sizes[1], 2048);
	ASSERT_EQ(b.sizes[2], BIG - 1 - 2047 - 2048);
	/* Every whole event, in order, none lost. */
	ASSERT_EQ(b.at, BIG - 1);
	ASSERT_EQ(b.events, (BIG - 1 + 2) / 3 + (BIG - 1) / 3);
	for (unsigned i = 0; i < b.at; i++)
		ASSERT_EQ(b.room[i].seq, (__u16)i);
	ASSERT_EQ(b.k.lost, 0);
	ss_ringrec_free(rr);
}

/* A sink that takes blocks packed (a trace file's way): each block's
 * slots, unpacked here, kept in order. */
struct packed_blocks {
	struct sink k;
	unsigned char room[BIG * sizeof(struct ss_ring_slot)];
	struct ss_ring_slot slots[BIG];
	unsigned at, nblocks, npacked, events;
	int bad;		/* a block that did not unpack to its count */
};

static struct ss_ring_slot *packing_begin(void *arg, const struct ss_ring_chunk *hdr, __u32 n,
					  bool *pack)
{
	struct packed_blocks *b = arg;

	*pack = true;
	memset(b->room, 0xa5, sizeof(b->room));	/* nothing read that was not written */
	return n <= BIG ? (struct ss_ring_slot *)b->room : NULL;
}

static void packing_end(void *arg, const struct ss_ring_chunk *hdr, const struct ss_block_done *d)
{
	struct packed_blocks *b = arg;
	__u32 len;

	if (!d->used || b->at + d->used > BIG)
		return;
	b->nblocks++;
	b->events += d->events;
	if (!d->packed) {
		memcpy(&b->slots[b->at], b->room, d->used * sizeof(struct ss_ring_slot));
	} else {
		b->npacked++;
		memcpy(&len, b->room, sizeof(len));
		if (len != d->packed || sizeof(len) + len > d->used * sizeof(struct ss_ring_slot) ||
		    ss_ringpack_decode(b->room + sizeof(len), len, &b->slots[b->at], d->used))
			b->bad++;
	}
	b->at += d->used;
}

static const struct ss_ringrec_blocks packing = { packing_begin, packing_end };

TEST(ringrec_packed_blocks_unpack_to_the_slots_it_would_write)
{
	const struct ss_ring_slot *in = big_chunk.s;
	static struct packed_blocks b;
	struct ss_ringrec *rr;
	unsigned j = 0;

	/* As the test above: three blocks. */
	ASSERT_EQ(ss_ringrec_new(&rr, collect, &packing, &b), 0);
	make_big();
	big_chunk.s[10].ts = 1;	/* a spawn from before the recording: not written */
	ASSERT_EQ(ss_ringrec_chunk(rr, &big_chunk, sizeof(big_chunk)), 0);
	ASSERT_EQ(b.nblocks, 3);
	ASSERT_EQ(b.npacked, 3);
	ASSERT_EQ(b.bad, 0);
	ASSERT_EQ(b.at, BIG - 1 - 2);
	ASSERT_EQ(b.events, (BIG - 1 + 2) / 3 + (BIG - 1) / 3 - 1);
	/* Slot for slot what the slots' way writes: the ring's, ts in ns. */
	for (unsigned i = 0; i < BIG - 1; i++) {
		if (i == 10 || i == 11)
			continue;
		ASSERT_EQ(b.slots[j].seq, in[i].seq);
		ASSERT_EQ(b.slots[j].type, in[i].type);
		ASSERT_EQ(b.slots[j].x, in[i].x);
		ASSERT_EQ(b.slots[j].ts, in[i].type == SS_RING_EXT ? in[i].ts :
					 ss_ringrec_tsc_to_ns(rr, in[i].ts));
		j++;
	}
	ASSERT_EQ(b.k.lost, 0);
	ss_ringrec_free(rr);
}

TEST(ringrec_a_block_not_smaller_packed_is_written_as_slots)
{
	static struct packed_blocks b;
	struct ss_ringrec *rr;

	/* One notify whose arguments take ten bytes each packed: 4 + 37 >
	 * 32 bytes, so the slot as it is. */
	ASSERT_EQ(ss_ringrec_new(&rr, collect, &packing, &b), 0);
	make(0, 1, 1);
	chunk.s[0].a = 0xfedcba98;
	chunk.s[0].x = ~0ULL / 3;
	chunk.s[0].y = ~0ULL / 5;
	ASSERT_EQ(ss_ringrec_chunk(rr, &chunk, SIZE(1)), 0);
	ASSERT_EQ(b.nblocks, 1);
	ASSERT_EQ(b.npacked, 0);
	ASSERT_EQ(b.slots[0].x, ~0ULL / 3);
	ASSERT_EQ(b.slots[0].ts, ss_ringrec_tsc_to_ns(rr, chunk.s[0].ts));
	/* Two plain notifies pack (4 + 2 x ~10 bytes). */
	make(1, 2, 3);
	for (unsigned i = 0; i < 2; i++)	/* (not a spawn and its second) */
		chunk.s[i] = (struct ss_ring_slot){ .ts = chunk.s[0].ts + i, .seq = (__u16)(1 + i),
						    .type = SS_WSRT_NOTIFY, .x = 1 + i };
	ASSERT_EQ(ss_ringrec_chunk(rr, &chunk, SIZE(2)), 0);
	ASSERT_EQ(b.nblocks, 2);
	ASSERT_EQ(b.npacked, 1);
	ASSERT_EQ(b.bad, 0);
	ASSERT_EQ(b.slots[1].seq, 1);
	ASSERT_EQ(b.slots[2].seq, 2);
	ASSERT_EQ(b.k.lost, 0);
	ss_ringrec_free(rr);
}
