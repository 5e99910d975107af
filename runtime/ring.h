/* SPDX-License-Identifier: MIT */
/*
 * The writer of this thread's event ring (bpf/ring.h): what the probe
 * macros of the runtime (wsrt_probes.h) and of the preload shim
 * (preload/shim_probes.h) call while a tracer is attached.
 *
 * One copy of ring.c goes into each library that emits events: libwsrt
 * (provider wsrt) and the shim (provider stallscope, built with
 * -DSS_RING_PROVIDER=stallscope); each has its own anchor, registry and
 * per-thread ring, and its names stay inside it (hidden).
 *
 * Cost: ss_ring_gate() is one load and a branch when no tracer is
 * attached.  Attached, an event is a call, an rdtsc, one or two 32-byte
 * slot stores and a release store of the head (bench/ measures it); every
 * cap/2 events the thread fires the ring_flush probe, whose BPF program
 * copies the ring out (a trap, amortised over cap/2 events).  The first
 * event of a thread maps its ring (one mmap, once per thread).
 */
#ifndef WSRT_RING_H
#define WSRT_RING_H

#include <linux/types.h>
#include <stdint.h>
#include <sys/sdt.h>
#include <x86intrin.h>

#include "../bpf/ring.h"

#ifndef SS_RING_PROVIDER
#define SS_RING_PROVIDER wsrt
#endif
#define SS_RING_CAT_(a, b) a##b
#define SS_RING_CAT(a, b) SS_RING_CAT_(a, b)
/* The anchor is the ring_flush probe's semaphore (bpf/ring.h). */
#define SS_RING_ANCHOR SS_RING_CAT(SS_RING_PROVIDER, _ring_flush_semaphore)
#define SS_RING_HIDDEN __attribute__((visibility("hidden")))

extern struct ss_ring_anchor SS_RING_ANCHOR SS_RING_HIDDEN;

/*
 * One semaphore for every probe of the library: the anchor's gate.  The
 * notes of all its USDT probes name it (sys/sdt.h would name one per
 * probe), so a probe site is one load and a branch while nothing is
 * attached.  Attaching any of them — stallscope's ring_flush, or a probe
 * bpftrace or perf wants — turns them all on, rings included: their
 * sites then move their arguments (nops, unless attached) and write the
 * ring, a few ns each.
 */
#undef _SDT_SEMAPHORE
#define _SDT_SEMAPHORE(p, n) _SDT_ASM_1(_SDT_ASM_ADDR SS_RING_CAT(p, _ring_flush_semaphore))
extern __thread struct ss_ring *ss_ring_mine
	__attribute__((tls_model("initial-exec"))) SS_RING_HIDDEN;

/* Not yet made (NULL) or given up at thread exit (SS_RING_GONE). */
#define SS_RING_GONE ((struct ss_ring *)1)

/* True while a tracer is attached: the kernel keeps the semaphore up. */
#define ss_ring_gate() __builtin_expect(SS_RING_ANCHOR.gate != 0, 0)


/* The slow paths (ring.c): a thread's first event makes its ring; every
 * half ring fires ring_flush. */
struct ss_ring *ss_ring_make(void) SS_RING_HIDDEN __attribute__((cold, noinline));
void ss_ring_flush(struct ss_ring *r) SS_RING_HIDDEN __attribute__((cold, noinline));
/* The process is exiting: ring_exit, whose BPF program copies out every
 * ring of the process while its memory is still there (the preload shim
 * fires it at exit(), and at an exit_group or exit made through
 * syscall()). */
void ss_ring_exit(void) SS_RING_HIDDEN __attribute__((cold, noinline));

/*
 * One event in one slot (ss_ring_put); one in two, the second carrying
 * e, a2, x2, y2 (ss_ring_put2).  Inline: they are written only where the
 * gate is already up — inside a probe's cold, out-of-line emit function
 * (wsrt_probes.h) or the shim's gated probe block — so they cost the
 * untraced path nothing, and a traced event one call (the emit
 * function's) instead of two.
 */
/* This thread's ring (*rp) and its slots, made on its first event; NULL
 * if it can't have one (counted lost). */
static inline __attribute__((always_inline)) struct ss_ring_slot *ss_ring_claim(struct ss_ring **rp)
{
	struct ss_ring *r = ss_ring_mine;

	if (__builtin_expect((uintptr_t)r <= (uintptr_t)SS_RING_GONE, 0) &&
	    !(r = ss_ring_make()))
		return NULL;
	*rp = r;
	return (struct ss_ring_slot *)(r + 1);
}

/* Step 2 of the producer (bpf/ring.h): publish, and flush at half full. */
static inline __attribute__((always_inline)) void ss_ring_publish(struct ss_ring *r, __u64 head)
{
	/* Pairs with the drains' read of head: the slots are complete. */
	__atomic_store_n(&r->head, head, __ATOMIC_RELEASE);
	if (__builtin_expect(head >= r->flush_at, 0))
		ss_ring_flush(r);
}

/* Slot h of r: stamped ts, numbered h. */
static inline __attribute__((always_inline)) void ss_ring_fill(struct ss_ring_slot *slots, struct ss_ring *r, __u64 h,
			__u64 ts, __u16 type, __u32 a, __u64 x, __u64 y)
{
	struct ss_ring_slot *s = &slots[h & (r->cap - 1)];

	s->ts = ts;
	s->type = type;
	s->seq = (__u16)h;
	s->a = a;
	s->x = x;
	s->y = y;
}

static inline __attribute__((always_inline)) void ss_ring_put(__u16 type, __u32 a, __u64 x, __u64 y)
{
	struct ss_ring *r;
	struct ss_ring_slot *slots = ss_ring_claim(&r);

	if (!slots)
		return;
	ss_ring_fill(slots, r, r->head, __rdtsc(), type, a, x, y);
	ss_ring_publish(r, r->head + 1);
}

static inline __attribute__((always_inline)) void ss_ring_put2(__u16 type, __u32 a, __u64 x, __u64 y, __u64 e,
				__u32 a2, __u64 x2, __u64 y2)
{
	struct ss_ring *r;
	struct ss_ring_slot *slots = ss_ring_claim(&r);
	__u64 h;

	if (!slots)
		return;
	h = r->head;
	ss_ring_fill(slots, r, h, __rdtsc(), type, a, x, y);
	ss_ring_fill(slots, r, h + 1, e, SS_RING_EXT, a2, x2, y2);
	ss_ring_publish(r, h + 2);
}
/*
 * SS_RING_CALL(fn, (a, b, ...)): calls a probe's cold emit function
 * fn(long long, ...) of up to four arguments from a probe site, keeping
 * every general register but the four argument registers and %rax.  An
 * ordinary call there would cost the hot path even while the gate is
 * down: the compiler must assume the call clobbers rcx, rdx, rsi, rdi,
 * r8-r11, so values that live across the site move to callee-saved
 * registers, pushed and popped in every scheduler function that has one
 * (7% more instructions in yield_many).  The call goes through
 * SS_RING_TRAMP (ring.c), which saves r8-r11 and aligns the stack; the
 * site steps over the 128-byte red zone first, since the call pushes.
 * The vector and x87 registers are declared clobbered, as by any call.
 * A DWARF unwinder stopped inside fn sees the site's stack pointer 128
 * bytes low (frame-pointer unwinding is exact): only in a backtrace taken
 * inside an emit function, never in what the program does.
 */
#if defined(__x86_64__)
#define SS_RING_TRAMP SS_RING_CAT(SS_RING_PROVIDER, _ring_call_tramp)
void SS_RING_TRAMP(void) SS_RING_HIDDEN;
#define SS_RING_STR_(x) #x
#define SS_RING_STR(x) SS_RING_STR_(x)

static inline __attribute__((always_inline)) void
ss_ring_call4(void *fn, long long a, long long b, long long c, long long d)
{
	register long long rdi __asm__("rdi") = a;
	register long long rsi __asm__("rsi") = b;
	register long long rdx __asm__("rdx") = c;
	register long long rcx __asm__("rcx") = d;

	__asm__ __inline__ volatile("lea -128(%%rsp), %%rsp\n\t"
			 "call " SS_RING_STR(SS_RING_TRAMP) "\n\t"
			 "lea 128(%%rsp), %%rsp"
			 : "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(rcx), "+a"(fn)
			 :
			 : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
			   "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
			   "xmm12", "xmm13", "xmm14", "xmm15", "st", "st(1)", "st(2)",
			   "st(3)", "st(4)", "st(5)", "st(6)", "st(7)");
}
#define SS_RING_PAD4_(a, b, c, d, ...) a, b, c, d
#define SS_RING_PAD4(...) SS_RING_PAD4_(__VA_ARGS__, 0, 0, 0)
#define SS_RING_CALL_(fn, ...) ss_ring_call4((void *)(fn), __VA_ARGS__)
#define SS_RING_CALL(fn, args) SS_RING_CALL_(fn, SS_RING_PAD4 args)
#else
#define SS_RING_CALL(fn, args) fn args
#endif

/* Two 16-bit arguments in a (ints such as worker indices, -1 kept). */
#define SS_RING_A16(lo, hi) \
	((__u32)(__u16)(int)(lo) | (__u32)(__u16)(int)(hi) << 16)

#endif /* WSRT_RING_H */
