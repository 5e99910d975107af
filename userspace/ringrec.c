/* SPDX-License-Identifier: MIT */
/*
 * The recorder's side of the event rings (bpf/ring.h): what the BPF
 * drains hand over, turned into records.
 *
 * Owns: the clock — TSC to CLOCK_MONOTONIC, from (TSC, CLOCK_MONOTONIC)
 * pairs sampled here; checking each chunk (sequence numbers, what the
 * producer may have overwritten while it was copied, slots older than the
 * recording); counting what was lost, per thread, as SS_LOST records.
 * Does not own: the slot layouts (ringdec.c), the BPF side, attaching.
 *
 * The clock.  A slot's time is the TSC at the event.  Pairs are sampled
 * with the TSC read on both sides of clock_gettime (the narrowest window
 * of a few tries, its midpoint), at the start and before each chunk whose
 * drain is newer than the last pair, so every slot falls between two
 * pairs and is interpolated, never extrapolated.  The error is the
 * pairs' half-window (measured here: 100-400 ns in a VM) plus any change
 * of the TSC rate between two pairs, which are milliseconds apart;
 * bench/ measures it against the kernel's own timestamps.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "clock.h"
#include "ringdec.h"
#include "ringpack.h"
#include "ringrec.h"

#define NPAIRS 4096		/* pairs kept: seconds at the sampling rate */
#define NHALVES 256		/* halves of events waiting for the other, at most */
#define SAMPLE_TRIES 5
#define MAX_WINDOW_TICKS 50000	/* ~20 µs at 2-3 GHz: a sample preempted */

struct pair {
	__u64 tsc, ns;
};

/* A two-slot event whose halves BPF put in two chunks (pieces are cut
 * by size, claims at the ring's end or at a drain's limit): the half that
 * came first waits here for the other, which may come in a later chunk —
 * or an earlier one, when two drains of a ring run at once on two CPUs
 * and the second submits first.  Keyed by the ring and the event's first
 * sequence number; a handful wait at a time. */
struct half {
	__u64 ring;		/* 0: a free entry */
	__u64 seq;		/* the event's first slot's sequence number */
	__u32 tid;
	bool second;		/* this is the event's second slot */
	struct ss_ring_slot slot;
};
struct ss_ringrec {
	struct pair pairs[NPAIRS];	/* by time; a ring of the newest */
	unsigned npairs, newest;
	__u64 start_tsc;		/* slots before it are an earlier session's */
	__u64 lost, garbage;
	ss_ringrec_emit_fn emit;
	const struct ss_ringrec_blocks *block;	/* NULL: events through emit */
	void *arg;
	struct half halves[NHALVES];
	struct ss_ringpack_enc enc;	/* the block being packed */
};

static const struct pair *pair_at(const struct ss_ringrec *rr, unsigned i)
{
	/* i = 0 is the oldest kept. */
	return &rr->pairs[(rr->newest + NPAIRS + 1 - rr->npairs + i) % NPAIRS];
}

void ss_ringrec_sample(struct ss_ringrec *rr)
{
	struct pair best = { 0 };
	__u64 width = ~0ULL;

	for (int i = 0; i < SAMPLE_TRIES; i++) {
		__u64 a = __rdtsc(), ns = ss_mono_ns(), b = __rdtsc();

		if (b - a < width) {
			width = b - a;
			best.tsc = a + (b - a) / 2;
			best.ns = ns;
		}
	}
	/* A sample preempted in every try says little: keep the last one. */
	if (width > MAX_WINDOW_TICKS && rr->npairs)
		return;
	if (rr->npairs) {
		const struct pair *last = &rr->pairs[rr->newest];
		/* Both must move forward, or the segment is useless. */
		if (best.tsc <= last->tsc || best.ns <= last->ns)
			return;
	}
	rr->newest = (rr->newest + 1) % NPAIRS;
	rr->pairs[rr->newest] = best;
	if (rr->npairs < NPAIRS)
		rr->npairs++;
}

__u64 ss_ringrec_last_sample_ns(const struct ss_ringrec *rr)
{
	return rr->npairs ? rr->pairs[rr->newest].ns : 0;
}

/* The segment [i, i+1] holding tsc (the first or last one outside). */
static unsigned segment(const struct ss_ringrec *rr, __u64 tsc)
{
	unsigned lo = 0, hi = rr->npairs - 1;

	while (hi - lo > 1) {
		unsigned mid = lo + (hi - lo) / 2;
		if (pair_at(rr, mid)->tsc <= tsc)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Converting a run of increasing TSC values: the segment found once,
 * then walked forward. */
struct cursor {
	unsigned seg;		/* pairs seg, seg + 1 */
	__u64 t0, t1, n0;
	__u64 mult;		/* ns per tick, 32.32 fixed point */
	double slope;		/* the same, for a tsc before t0 */
	bool set;
};

static void cursor_at(const struct ss_ringrec *rr, struct cursor *c, unsigned seg)
{
	const struct pair *a = pair_at(rr, seg), *b = pair_at(rr, seg + 1);

	c->seg = seg;
	c->t0 = a->tsc;
	c->t1 = b->tsc;
	c->n0 = a->ns;
	c->slope = (double)(b->ns - a->ns) / (double)(b->tsc - a->tsc);
	/* Both move forward (ss_ringrec_sample); < 2^32 ns a tick. */
	c->mult = (__u64)(((unsigned __int128)(b->ns - a->ns) << 32) / (b->tsc - a->tsc));
	c->set = true;
}

static inline __u64 cursor_ns(const struct ss_ringrec *rr, struct cursor *c, __u64 tsc)
{
	double d, ns;

	if (rr->npairs < 2)
		return rr->npairs ? rr->pairs[rr->newest].ns : 0;
	if (!c->set || tsc < c->t0)
		cursor_at(rr, c, segment(rr, tsc));
	while (tsc >= c->t1 && c->seg + 2 < rr->npairs)
		cursor_at(rr, c, c->seg + 1);
	if (tsc >= c->t0)	/* integers, rounded: this runs for every event */
		return c->n0 + (__u64)(((unsigned __int128)(tsc - c->t0) * c->mult +
					(1ULL << 31)) >> 32);
	d = -(double)(c->t0 - tsc);
	ns = (double)c->n0 + d * c->slope;
	return ns > 0 ? (__u64)(ns + 0.5) : 0;
}

__u64 ss_ringrec_tsc_to_ns(const struct ss_ringrec *rr, __u64 tsc)
{
	struct cursor c = { .set = false };

	return cursor_ns(rr, &c, tsc);
}

int ss_ringrec_new(struct ss_ringrec **out, ss_ringrec_emit_fn emit,
		   const struct ss_ringrec_blocks *block, void *arg)
{
	struct ss_ringrec *rr = calloc(1, sizeof(*rr));

	*out = rr;
	if (!rr)
		return -ENOMEM;
	rr->emit = emit;
	rr->block = block;
	rr->arg = arg;
	rr->newest = NPAIRS - 1;
	ss_ringrec_sample(rr);
	rr->start_tsc = rr->pairs[rr->newest].tsc;
	return 0;
}

void ss_ringrec_free(struct ss_ringrec *rr)
{
	free(rr);
}

void ss_ringrec_stats(const struct ss_ringrec *rr, __u64 *lost, __u64 *garbage)
{
	*lost = rr->lost;
	*garbage = rr->garbage;
}

static void emit_lost(struct ss_ringrec *rr, __u32 tid, __u64 ts, __u64 n)
{
	struct ss_record rec = { .ts = ts, .type = SS_LOST, .tid = tid,
				 .cpu = SS_CPU_NONE };

	rec.args[0] = n;
	rec.args[1] = SS_LOST_RING;
	rr->lost += n;
	rr->emit(rr->arg, &rec);
}

void ss_ringrec_finish(struct ss_ringrec *rr)
{
	for (unsigned i = 0; i < NHALVES; i++)
		if (rr->halves[i].ring) {
			emit_lost(rr, rr->halves[i].tid, ss_mono_ns(), 1);
			rr->halves[i].ring = 0;
		}
}

void ss_ringrec_lost_unringed(struct ss_ringrec *rr, __u64 n)
{
	if (n)
		emit_lost(rr, 0, ss_mono_ns(), n);
}

/* Every whole event younger than the recording, as a record; the
 * slots lost (halves of events lost before) counted. */
static __u64 as_records(struct ss_ringrec *rr, const struct ss_ring_chunk *c,
			const struct ss_ring_slot *s, size_t n)
{
	struct cursor cur = { .set = false };
	__u64 lost = 0;
	size_t i = 0;

	while (i < n) {
		struct ss_record rec;
		unsigned k = ss_ringdec_one(&s[i], n - i, c->tid, &rec);

		if (!k) {	/* the second half of an event lost before */
			lost++;
			i++;
			continue;
		}
		i += k;
		if (rec.ts < rr->start_tsc)
			continue;	/* an earlier recording's */
		rec.ts = cursor_ns(rr, &cur, rec.ts);
		rr->emit(rr->arg, &rec);
	}
	return lost;
}

/* Slots are packed a run at a time: converted into a run on the stack
 * (it stays in the cache), then packed into the sink's block.  Writing
 * each slot out whole and packing the block after touched the sink's
 * buffer (a cold MiB a turn) 32 bytes an event, twice. */
#define PACK_RUN 64

/*
 * A block's slots, each whole event younger than the recording, their
 * times in ns, into dst (room for n slots): as they are, or packed
 * (pack).  d and *lost filled.  False only when packed, if the block is
 * not smaller so (then nothing that counts is written).
 */
static bool place(struct ss_ringrec *rr, const struct ss_ring_slot *s, size_t n,
		  struct ss_ring_slot *dst, bool pack, struct ss_block_done *d, __u64 *lost)
{
	struct ss_ring_slot run[PACK_RUN];
	struct cursor cur = { .set = false };
	unsigned char *out = (unsigned char *)dst;
	unsigned nr = 0;
	size_t i = 0;
	__u32 len;

	if (pack)
		ss_ringpack_begin(&rr->enc, out + sizeof(len), n * sizeof(*dst) - sizeof(len));
	while (i < n) {
		unsigned k = ss_ringdec_whole(&s[i], n - i);

		if (!k) {
			(*lost)++;
			i++;
			continue;
		}
		if (s[i].ts >= rr->start_tsc) {
			__u64 ts = cursor_ns(rr, &cur, s[i].ts);
			struct ss_ring_slot *to = pack ? &run[nr] : &dst[d->used];

			to[0] = s[i];
			to[0].ts = ts;
			if (k == 2)
				to[1] = s[i + 1];
			d->min_ts = ts < d->min_ts ? ts : d->min_ts;
			d->max_ts = ts > d->max_ts ? ts : d->max_ts;
			d->used += k;
			d->events++;
			/* (an event is at most two slots) */
			if (pack && (nr += k) > PACK_RUN - 2) {
				if (ss_ringpack_add(&rr->enc, run, nr))
					return false;
				nr = 0;
			}
		}
		i += k;
	}
	if (!pack)
		return true;
	if (ss_ringpack_add(&rr->enc, run, nr))
		return false;
	len = (__u32)ss_ringpack_len(&rr->enc);
	if (!d->used || sizeof(len) + len > (size_t)d->used * sizeof(*dst))
		return false;
	memcpy(out, &len, sizeof(len));
	d->packed = len;
	return true;
}

/* The events of s[0, n) as a block written where the sink wants it —
 * packed, if it takes them so and they are smaller (a trace file: a busy
 * runtime's events take 4-5 bytes, not a 32-byte slot, nor a 64-byte
 * record).  Returns the slots lost (those of no whole event; all n if
 * the sink has no room). */
static __u64 as_block(struct ss_ringrec *rr, const struct ss_ring_chunk *c,
		      const struct ss_ring_slot *s, size_t n)
{
	bool pack = false;
	struct ss_ring_slot *dst = rr->block->begin(rr->arg, c, (__u32)n, &pack);
	struct ss_block_done d = { .min_ts = UINT64_MAX };
	__u64 lost = 0;

	if (!dst)
		return n;
	if (!pack || !place(rr, s, n, dst, true, &d, &lost)) {
		d = (struct ss_block_done){ .min_ts = UINT64_MAX };
		lost = 0;
		(void)place(rr, s, n, dst, false, &d, &lost);
	}
	rr->block->end(rr->arg, c, &d);
	return lost;
}

/* A chunk may hold more slots than a block (a drain copies a claim
 * whole): in blocks of at most SS_BLOCK_SLOTS, never between an event's
 * two slots. */
static __u64 as_blocks(struct ss_ringrec *rr, const struct ss_ring_chunk *c,
		       const struct ss_ring_slot *s, size_t n)
{
	__u64 lost = 0;

	while (n > SS_BLOCK_SLOTS) {
		size_t m = SS_BLOCK_SLOTS;

		if (s[m - 1].type != SS_RING_EXT && ss_ringdec_slots(s[m - 1].type) == 2)
			m--;
		lost += as_block(rr, c, s, m);
		s += m;
		n -= m;
	}
	return lost + as_block(rr, c, s, n);
}

/* The two halves together, delivered as the rest are. */
static void deliver_pair(struct ss_ringrec *rr, const struct ss_ring_chunk *c,
			 const struct ss_ring_slot *first,
			 const struct ss_ring_slot *second)
{
	struct ss_ring_slot two[2] = { *first, *second };
	struct ss_ring_chunk h = *c;

	h.count = 2;
	if (rr->block)
		(void)as_blocks(rr, &h, two, 2);
	else
		(void)as_records(rr, &h, two, 2);
}

/*
 * One half of a split event (slot at sequence number seq of chunk c):
 * joined with its other half if that came already, else kept.  Returns
 * the slots lost (a half pushed out of a full table).
 */
static __u64 half_arrived(struct ss_ringrec *rr, const struct ss_ring_chunk *c,
			  const struct ss_ring_slot *slot, __u64 seq)
{
	bool second = slot->type == SS_RING_EXT;
	__u64 first = second ? seq - 1 : seq;
	struct half *free_one = NULL;

	for (unsigned i = 0; i < NHALVES; i++) {
		struct half *h = &rr->halves[i];

		if (!h->ring) {
			free_one = free_one ? free_one : h;
			continue;
		}
		if (h->ring == c->ring && h->tid == c->tid && h->seq == first &&
		    h->second != second) {
			struct ss_ring_chunk hdr = *c;

			hdr.first = first;
			if (second)
				deliver_pair(rr, &hdr, &h->slot, slot);
			else
				deliver_pair(rr, &hdr, slot, &h->slot);
			h->ring = 0;
			return 0;
		}
	}
	if (!free_one)
		return 1;
	*free_one = (struct half){ .ring = c->ring, .seq = first, .tid = c->tid,
				   .second = second, .slot = *slot };
	return 0;
}


/*
 * One chunk: checked, then each whole event younger than the recording
 * decoded.  Slots the producer may have overwritten while they were
 * copied, or lapped before (skipped), are lost; slots whose sequence
 * number is not theirs are garbage (never seen in a working system: the
 * chunk is dropped whole, and counted lost).
 */
int ss_ringrec_chunk(struct ss_ringrec *rr, const void *data, size_t size)
{
	const struct ss_ring_chunk *c = data;
	const struct ss_ring_slot *s = (const struct ss_ring_slot *)(c + 1);
	__u64 lost, first_ok, n;
	size_t i = 0;

	if (size < sizeof(*c) || c->type != SS_RING_CHUNK)
		return -EBADMSG;
	n = c->count;
	if (!n || n > (size - sizeof(*c)) / sizeof(*s) || !c->cap ||
	    (c->cap & (c->cap - 1))) {
		rr->garbage++;
		return -EBADMSG;
	}
	/* Valid: seq + cap > head_after (bpf/ring.h, step 3). */
	first_ok = c->head_after == ~0ULL ? c->first + n :
		   c->head_after >= c->cap ? c->head_after - c->cap + 1 : 0;
	lost = c->skipped;
	i = 0;
	if (first_ok > c->first) {
		i = first_ok - c->first < n ? first_ok - c->first : n;
		lost += i;
	}
	for (size_t k = i; k < n; k++)
		if (s[k].seq != (__u16)(c->first + k)) {
			rr->garbage++;
			emit_lost(rr, c->tid, c->ts, c->skipped + n);
			return -EBADMSG;
		}
	/* Before decoding: a pair after every slot of this chunk. */
	if (ss_ringrec_last_sample_ns(rr) < c->ts)
		ss_ringrec_sample(rr);

	/* Halves of events split between chunks: at either end. */
	if (i < n && s[i].type == SS_RING_EXT) {
		lost += half_arrived(rr, c, &s[i], c->first + i);
		i++;
	}
	if (i < n && s[n - 1].type != SS_RING_EXT && ss_ringdec_slots(s[n - 1].type) == 2) {
		lost += half_arrived(rr, c, &s[n - 1], c->first + n - 1);
		n--;
	}
	if (rr->block)
		lost += as_blocks(rr, c, s + i, n - i);
	else
		lost += as_records(rr, c, s + i, n - i);
	if (lost)
		emit_lost(rr, c->tid, c->ts, lost);
	return 0;
}
