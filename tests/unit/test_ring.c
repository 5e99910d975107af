/* SPDX-License-Identifier: MIT */
/*
 * The event rings: the writer (runtime/ring.h, ring.c, the probe macros
 * of runtime/wsrt_probes.h) and the decoder (userspace/ringdec.c) held
 * together — every probe emitted through the real macro, with the gate
 * raised as a tracer would, comes back as the record the USDT probe would
 * have made — and the ring's own mechanics: wrap, the half-full flush
 * point, the registry, retiring at thread exit, fork.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <x86intrin.h>

#include "harness.h"
#include "wsrt_probes.h"
#include "userspace/ringdec.h"

/* What the kernel does while a tracer has ring_flush attached. */
static void gate(int up)
{
	wsrt_ring_flush_semaphore.gate = (unsigned short)up;
}

static struct ss_ring_slot *slots_of(struct ss_ring *r)
{
	return (struct ss_ring_slot *)(r + 1);
}

/* Decodes the event at sequence number seq of this thread's ring. */
static struct ss_record decode_at(__u64 seq, unsigned want_slots)
{
	struct ss_ring *r = ss_ring_mine;
	struct ss_ring_slot two[2];
	struct ss_record rec;

	ASSERT_TRUE((uintptr_t)r > 1);
	two[0] = slots_of(r)[seq & (r->cap - 1)];
	two[1] = slots_of(r)[(seq + 1) & (r->cap - 1)];
	ASSERT_EQ(ss_ringdec_one(two, 2, 77, &rec), want_slots);
	ASSERT_EQ(rec.tid, 77);
	ASSERT_EQ(rec.cpu, SS_CPU_NONE);
	return rec;
}

#define EXPECT(seq, nslots, type_, a0, a1, a2, a3, a4)                       \
	do {                                                                 \
		struct ss_record r_ = decode_at(seq, nslots);                \
		ASSERT_EQ(r_.type, type_);                                   \
		ASSERT_EQ(r_.args[0], (__u64)(a0));                          \
		ASSERT_EQ(r_.args[1], (__u64)(a1));                          \
		ASSERT_EQ(r_.args[2], (__u64)(a2));                          \
		ASSERT_EQ(r_.args[3], (__u64)(a3));                          \
		ASSERT_EQ(r_.args[4], (__u64)(a4));                          \
	} while (0)

/* -1 as a USDT int argument reads: sign-extended to 64 bits. */
#define M1 0xffffffffffffffffULL

TEST(ring_every_wsrt_probe_decodes_as_its_usdt_record)
{
	__u64 h;

	gate(1);
	WSRT_PROBE_WORKER_START(3, 4242);
	h = ss_ring_mine->head - 1;
	EXPECT(h, 1, SS_WSRT_WORKER_START, 3, 4242, 0, 0, 0);
	WSRT_PROBE_WORKER_STOP(-1, 7);
	EXPECT(h + 1, 1, SS_WSRT_WORKER_STOP, M1, 7, 0, 0, 0);
	WSRT_PROBE_SPAWN(1ULL << 40, 5, 0x7f0000001234ULL, 0x55550000ULL);
	EXPECT(h + 2, 2, SS_WSRT_SPAWN, 1ULL << 40, 5, 0x7f0000001234ULL, 0x55550000ULL, 0);
	WSRT_PROBE_NOTIFY(9, -1, WSRT_DEST_INJECT, 8);
	EXPECT(h + 4, 1, SS_WSRT_NOTIFY, 9, M1, WSRT_DEST_INJECT, 8, 0);
	WSRT_PROBE_POLL_START(1, 9, WSRT_SRC_STEAL);
	EXPECT(h + 5, 1, SS_WSRT_POLL_START, 1, 9, WSRT_SRC_STEAL, 0, 0);
	WSRT_PROBE_POLL_END(1, 9, WSRT_RES_YIELD);
	EXPECT(h + 6, 1, SS_WSRT_POLL_END, 1, 9, WSRT_RES_YIELD, 0, 0);
	WSRT_PROBE_STEAL(0, 1, 129, 12);
	EXPECT(h + 7, 1, SS_WSRT_STEAL, 0, 1, 129, 12, 0);
	WSRT_PROBE_PARK(1, WSRT_PARK_DRIVER);
	EXPECT(h + 8, 1, SS_WSRT_PARK, 1, WSRT_PARK_DRIVER, 0, 0, 0);
	WSRT_PROBE_UNPARK(1, WSRT_PARK_FUTEX);
	EXPECT(h + 9, 1, SS_WSRT_UNPARK, 1, WSRT_PARK_FUTEX, 0, 0, 0);
	WSRT_PROBE_WAKE_WORKER(-1, 2);
	EXPECT(h + 10, 1, SS_WSRT_WAKE_WORKER, M1, 2, 0, 0, 0);
	WSRT_PROBE_INJECT_PUSH(0, 4000000000U, 1ULL << 33);
	EXPECT(h + 11, 1, SS_WSRT_INJECT_PUSH, 0, 4000000000U, 1ULL << 33, 0, 0);
	WSRT_PROBE_INJECT_POP(1, 3, 17);
	EXPECT(h + 12, 1, SS_WSRT_INJECT_POP, 1, 3, 17, 0, 0);
	WSRT_PROBE_OVERFLOW(0, 129);
	EXPECT(h + 13, 1, SS_WSRT_OVERFLOW, 0, 129, 0, 0, 0);
	WSRT_PROBE_SEARCH_START(1);
	EXPECT(h + 14, 1, SS_WSRT_SEARCH_START, 1, 0, 0, 0, 0);
	WSRT_PROBE_SEARCH_END(1, 1);
	EXPECT(h + 15, 1, SS_WSRT_SEARCH_END, 1, 1, 0, 0, 0);
	WSRT_PROBE_TASK_CANCEL(99);
	EXPECT(h + 16, 1, SS_WSRT_TASK_CANCEL, 99, 0, 0, 0, 0);
	WSRT_PROBE_DRIVER_POLL(0, -1, 3);
	EXPECT(h + 17, 1, SS_WSRT_DRIVER_POLL, 0, M1, 3, 0, 0);
	WSRT_PROBE_IO_REGISTER(65536 + 5, (7ULL << 32) | 3);
	EXPECT(h + 18, 1, SS_WSRT_IO_REGISTER, 65541, (7ULL << 32) | 3, 0, 0, 0);
	WSRT_PROBE_IO_READY(1, 70000, 0x2001);
	EXPECT(h + 19, 1, SS_WSRT_IO_READY, 1, 70000, 0x2001, 0, 0);
	WSRT_PROBE_TIMER_FIRE(0, 11, 5000000000ULL);
	EXPECT(h + 20, 1, SS_WSRT_TIMER_FIRE, 0, 11, 5000000000ULL, 0, 0);
	ASSERT_EQ(ss_ring_mine->head, h + 21);
	gate(0);
}

TEST(ring_nothing_is_written_while_no_tracer_is_attached)
{
	gate(0);
	WSRT_PROBE_NOTIFY(1, 0, WSRT_DEST_LIFO, 0);
	ASSERT_TRUE(ss_ring_mine == NULL);
	gate(1);
	WSRT_PROBE_NOTIFY(1, 0, WSRT_DEST_LIFO, 0);
	ASSERT_TRUE(ss_ring_mine != NULL);
	ASSERT_EQ(ss_ring_mine->head, 1);
	gate(0);
	WSRT_PROBE_NOTIFY(1, 0, WSRT_DEST_LIFO, 0);
	ASSERT_EQ(ss_ring_mine->head, 1);
}

TEST(ring_slots_carry_sequence_time_and_wrap)
{
	struct ss_ring *r;
	__u64 before;

	gate(1);
	WSRT_PROBE_SEARCH_START(0);
	r = ss_ring_mine;
	ASSERT_EQ(r->magic, SS_RING_MAGIC);
	ASSERT_EQ(r->abi, SS_RING_ABI);
	ASSERT_EQ(r->tid, (__u32)syscall(SYS_gettid));
	ASSERT_EQ(r->cap, 256 * 1024 / 32);
	/* Around the ring twice and a bit, a two-slot event across the end. */
	while ((r->head + 1) % r->cap)
		WSRT_PROBE_SEARCH_START(0);
	before = __rdtsc();
	WSRT_PROBE_SPAWN(1, 2, 3, 4);
	ASSERT_EQ(r->head % r->cap, 1);
	struct ss_ring_slot two[2] = { slots_of(r)[r->cap - 1], slots_of(r)[0] };
	struct ss_record rec;
	ASSERT_EQ(ss_ringdec_one(two, 2, 1, &rec), 2);
	ASSERT_EQ(rec.args[3], 4);
	ASSERT_GE(rec.ts, before);
	ASSERT_LE(rec.ts, __rdtsc());
	ASSERT_EQ(two[0].seq, (__u16)(r->head - 2));
	ASSERT_EQ(two[1].seq, (__u16)(r->head - 1));
	gate(0);
}

TEST(ring_flush_point_advances_by_half_a_ring)
{
	struct ss_ring *r;

	gate(1);
	WSRT_PROBE_SEARCH_START(0);
	r = ss_ring_mine;
	ASSERT_EQ(r->flush_at, r->cap / 2);
	while (r->head < r->cap / 2)
		WSRT_PROBE_SEARCH_START(0);
	ASSERT_EQ(r->flush_at, r->cap);
	gate(0);
}

static void *emit_and_return_ring(void *arg)
{
	(void)arg;
	WSRT_PROBE_SEARCH_START(0);
	return ss_ring_mine;
}

static int registered(struct ss_ring *r, __u32 tid)
{
	const struct ss_ring_entry *e =
		(const struct ss_ring_entry *)(uintptr_t)wsrt_ring_flush_semaphore.entries;

	for (__u64 i = 0; i < wsrt_ring_flush_semaphore.used; i++)
		if (e[i].ring == (__u64)(uintptr_t)r && (!tid || e[i].tid == tid))
			return 1;
	return 0;
}

TEST(ring_registered_while_its_thread_lives)
{
	pthread_t t;
	void *ring;

	ASSERT_EQ(wsrt_ring_flush_semaphore.abi, SS_RING_ABI);
	ASSERT_EQ(wsrt_ring_flush_semaphore.nentries, 4096);
	gate(1);
	WSRT_PROBE_SEARCH_START(0);
	ASSERT_TRUE(registered(ss_ring_mine, (__u32)syscall(SYS_gettid)));
	ASSERT_EQ(pthread_create(&t, NULL, emit_and_return_ring, NULL), 0);
	ASSERT_EQ(pthread_join(t, &ring), 0);
	ASSERT_TRUE(ring != NULL);
	/* Retired at the thread's exit: out of the registry, unmapped. */
	ASSERT_FALSE(registered(ring, 0));
	ASSERT_TRUE(msync((void *)((uintptr_t)ring & ~4095UL), 4096, MS_ASYNC) == -1);
	gate(0);
}

TEST(ring_fork_child_starts_without_rings)
{
	int status;
	pid_t pid;

	gate(1);
	WSRT_PROBE_SEARCH_START(0);
	ASSERT_TRUE(ss_ring_mine != NULL);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int ok = ss_ring_mine == NULL && wsrt_ring_flush_semaphore.used == 0;
		WSRT_PROBE_SEARCH_START(0);	/* a ring of its own */
		ok = ok && ss_ring_mine && ss_ring_mine->tid == (__u32)getpid() &&
		     ss_ring_mine->head == 1;
		_exit(ok ? 0 : 1);
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_EQ(status, 0);
	gate(0);
}

TEST(ringdec_refuses_what_is_not_a_whole_known_event)
{
	struct ss_ring_slot s[2] = { { .type = SS_WSRT_SPAWN, .seq = 7 },
				     { .type = SS_RING_EXT, .seq = 8 } };
	struct ss_record rec;

	ASSERT_EQ(ss_ringdec_one(s, 2, 1, &rec), 2);
	ASSERT_EQ(ss_ringdec_one(s, 1, 1, &rec), 0);		/* second slot missing */
	s[1].seq = 9;
	ASSERT_EQ(ss_ringdec_one(s, 2, 1, &rec), 0);		/* not its second slot */
	s[1].seq = 8;
	s[1].type = SS_WSRT_NOTIFY;
	ASSERT_EQ(ss_ringdec_one(s, 2, 1, &rec), 0);		/* not a second slot */
	ASSERT_EQ(ss_ringdec_one(&s[1], 1, 1, &rec), 1);	/* but an event */
	s[0].type = SS_RING_EXT;
	ASSERT_EQ(ss_ringdec_one(s, 2, 1, &rec), 0);		/* a second slot alone */
	for (__u32 t = 0; t < 0x10000; t++) {
		s[0].type = (__u16)t;
		if (ss_ringdec_slots(t))
			continue;
		ASSERT_EQ(ss_ringdec_one(s, 2, 1, &rec), 0);
	}
	ASSERT_EQ(ss_ringdec_slots(SS_SCHED_SWITCH), 0);	/* a kernel record */
	ASSERT_EQ(ss_ringdec_slots(0), 0);
}
