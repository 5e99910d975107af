/* SPDX-License-Identifier: MIT */
/*
 * The slow paths of the event rings (ring.h, bpf/ring.h): making a
 * thread's ring, the half-full flush, giving the ring up at thread exit,
 * the registry a tracer reads, and fork.
 *
 * Owns: the anchor (the ring_flush semaphore) and the registry, the ring
 * memory, the ring_flush, ring_retire and ring_exit probes.  Does not own what goes
 * into a ring (the probe macros) or how it is copied out (BPF).
 *
 * A ring's life, for one thread:
 *  1. its first event while traced: mapped pre-faulted (MAP_POPULATE), so
 *     a BPF drain that may not fault can read it; registered in the first
 *     free registry entry; a pthread key's destructor will retire it;
 *     ring_flush fired once, so that the tracer knows it at once;
 *  2. every cap/2 events: ring_flush(ring), which the tracer attaches;
 *  3. at thread exit (the key's destructor): ring_retire(ring), whose BPF
 *     program copies out what is left and forgets the ring; then the
 *     entry is freed and the ring unmapped.  The thread makes no ring
 *     again (SS_RING_GONE): later events of it are counted lost;
 *  4. or the process exits (exit(), exit_group): ring_exit, fired by the
 *     preload shim, copies out every ring of the process at once.
 * A fork's child starts with no ring and an empty registry: the rings it
 * inherits are its parent's threads'.
 *
 * Size (of the slots; the header adds a page): SS_RING_KB in the
 * environment (a power of two, 4..65536 KiB), read once, else 256 KiB
 * (8,192 slots) for the runtime and 64 KiB for the shim, whose threads
 * emit at most two events per blocking call.
 */
#ifndef WSRT_NO_PROBES
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ring.h"

#ifndef SS_RING_DEFAULT_KB
#define SS_RING_DEFAULT_KB 256
#endif
#define SS_RING_ENTRIES 4096	/* threads with a ring at once, at most */

static struct ss_ring_entry ring_entries[SS_RING_ENTRIES];

/* In .probes, where sys/sdt.h semaphores live: the semaphore of every
 * probe of this library (ring.h). */
struct ss_ring_anchor SS_RING_ANCHOR __attribute__((section(".probes"), used)) = {
	.abi = SS_RING_ABI,
	.nentries = SS_RING_ENTRIES,
	.entries = (__u64)(uintptr_t)ring_entries,
};

__thread struct ss_ring *ss_ring_mine __attribute__((tls_model("initial-exec")));

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t retire_key;
static int key_ok;
static __u32 ring_cap;		/* slots per ring */

static void count_lost(void)
{
	__atomic_fetch_add(&SS_RING_ANCHOR.lost, 1, __ATOMIC_RELAXED);
}

/* ---- retiring ---------------------------------------------------------------- */

static void unregister(struct ss_ring *r)
{
	for (__u64 i = 0; i < SS_RING_ENTRIES; i++)
		if (__atomic_load_n(&ring_entries[i].ring, __ATOMIC_RELAXED) ==
		    (__u64)(uintptr_t)r) {
			__atomic_store_n(&ring_entries[i].ring, 0, __ATOMIC_RELEASE);
			break;
		}
}

/* Step 3: the key's destructor, in the exiting thread. */
static void retire(void *arg)
{
	struct ss_ring *r = arg;

	ss_ring_mine = SS_RING_GONE;
	if (SS_RING_ANCHOR.gate)
		STAP_PROBE1(SS_RING_PROVIDER, ring_retire, (unsigned long long)(uintptr_t)r);
	unregister(r);
	munmap(r, sizeof(*r) + (size_t)r->cap * sizeof(struct ss_ring_slot));
}

/* The child of a fork: the rings are the parent's threads'. */
static void forget_in_child(void)
{
	ss_ring_mine = NULL;
	memset(ring_entries, 0, sizeof(ring_entries));
	SS_RING_ANCHOR.used = 0;
}

static void init_once(void)
{
	const char *env = getenv("SS_RING_KB");
	unsigned long kb = SS_RING_DEFAULT_KB;
	char *end;

	if (env && *env) {
		unsigned long v = strtoul(env, &end, 10);
		if (!*end && v >= 4 && v <= 65536 && !(v & (v - 1)))
			kb = v;
	}
	ring_cap = (__u32)(kb * 1024 / sizeof(struct ss_ring_slot));
	key_ok = !pthread_key_create(&retire_key, retire);
	pthread_atfork(NULL, NULL, forget_in_child);
}

/* ---- making -------------------------------------------------------------------- */

static int register_ring(struct ss_ring *r)
{
	for (__u64 i = 0; i < SS_RING_ENTRIES; i++) {
		__u64 none = 0;

		if (__atomic_load_n(&ring_entries[i].ring, __ATOMIC_RELAXED))
			continue;
		/* The entry is ours only once the exchange takes: a tid
		 * stored before it could be another thread's, racing for
		 * the same entry.  The tracer takes the thread from the
		 * ring's header (written before); tid is for a reader. */
		if (!__atomic_compare_exchange_n(&ring_entries[i].ring, &none,
						 (__u64)(uintptr_t)r, false,
						 __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			continue;
		__atomic_store_n(&ring_entries[i].tid, r->tid, __ATOMIC_RELAXED);
		__u64 used = __atomic_load_n(&SS_RING_ANCHOR.used, __ATOMIC_RELAXED);
		while (used < i + 1 &&
		       !__atomic_compare_exchange_n(&SS_RING_ANCHOR.used, &used, i + 1,
						    false, __ATOMIC_RELAXED,
						    __ATOMIC_RELAXED))
			;
		return 0;
	}
	return -ENOSPC;
}

struct ss_ring *ss_ring_make(void)
{
	struct ss_ring *r;
	int saved = errno;	/* probes never change errno */

	if (ss_ring_mine == SS_RING_GONE)
		goto lost;
	pthread_once(&once, init_once);
	size_t bytes = sizeof(*r) + (size_t)ring_cap * sizeof(struct ss_ring_slot);
	r = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (r == MAP_FAILED)
		goto lost;
	r->magic = SS_RING_MAGIC;
	r->abi = SS_RING_ABI;
	r->cap = ring_cap;
	r->tid = (__u32)syscall(SYS_gettid);
	r->head = 0;
	r->flush_at = r->cap / 2;
	if (!key_ok || register_ring(r) || pthread_setspecific(retire_key, r)) {
		unregister(r);
		munmap(r, bytes);
		goto lost;
	}
	ss_ring_mine = r;
	/* The tracer learns of the ring at once (its flush handler does). */
	if (SS_RING_ANCHOR.gate)
		STAP_PROBE1(SS_RING_PROVIDER, ring_flush, (unsigned long long)(uintptr_t)r);
	errno = saved;
	return r;
lost:
	count_lost();
	errno = saved;
	return NULL;
}

/* Step 2: half full since the last flush. */
void ss_ring_flush(struct ss_ring *r)
{
	r->flush_at = r->head + r->cap / 2;
	if (SS_RING_ANCHOR.gate)
		STAP_PROBE1(SS_RING_PROVIDER, ring_flush, (unsigned long long)(uintptr_t)r);
}

/* The process is exiting (ring.h). */
void ss_ring_exit(void)
{
	if (SS_RING_ANCHOR.gate)
		STAP_PROBE(SS_RING_PROVIDER, ring_exit);
}

/* ---- the probe sites' call (ring.h, SS_RING_CALL) ----------------------------- */

#if defined(__x86_64__)
/* fn in %rax, its arguments in rdi, rsi, rdx, rcx: r8-r11 saved (the
 * site keeps them), the stack aligned for the C call, flags as any call
 * leaves them.  A frame-pointer frame of its own, so that unwinders (a
 * sanitizer's report, perf) get from fn back to the probe site. */
__asm__(".pushsection .text\n"
	".p2align 4\n"
	".globl " SS_RING_STR(SS_RING_TRAMP) "\n"
	".hidden " SS_RING_STR(SS_RING_TRAMP) "\n"
	".type " SS_RING_STR(SS_RING_TRAMP) ", @function\n"
	SS_RING_STR(SS_RING_TRAMP) ":\n"
	".cfi_startproc\n"
	"push %rbp\n.cfi_adjust_cfa_offset 8\n.cfi_rel_offset %rbp, 0\n"
	"mov %rsp, %rbp\n.cfi_def_cfa_register %rbp\n"
	"push %r8\n"
	"push %r9\n"
	"push %r10\n"
	"push %r11\n"
	"and $-16, %rsp\n"
	"call *%rax\n"
	"lea -32(%rbp), %rsp\n"
	"pop %r11\n"
	"pop %r10\n"
	"pop %r9\n"
	"pop %r8\n"
	"pop %rbp\n.cfi_def_cfa %rsp, 8\n.cfi_restore %rbp\n"
	"ret\n"
	".cfi_endproc\n"
	".size " SS_RING_STR(SS_RING_TRAMP) ", .-" SS_RING_STR(SS_RING_TRAMP) "\n"
	".popsection\n");
#endif

#endif /* WSRT_NO_PROBES */
