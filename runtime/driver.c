/* SPDX-License-Identifier: MIT */
/*
 * The I/O driver: one epoll instance per runtime, driven by at most one
 * worker at a time — the one parked on it (blocking epoll_wait until the
 * nearest timer), or a busy worker polling it with timeout 0 every
 * event_interval ticks.  An eventfd in the set lets anyone wake the holder.
 *
 * Owns: the epoll set, the registration table, readiness dispatch, the
 * driver lock.  Does not own: the timer heap (timer.c), where woken tasks
 * are queued (the wake goes through wsrt_schedule), parking (park.c).
 *
 * Registrations are edge-triggered (EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET).
 * epoll carries a slot index and generation, not a pointer: an event
 * harvested for a registration closed meanwhile finds a new generation
 * and is dropped, instead of touching freed memory.
 *
 * Readiness protocol (no edge is lost between an EAGAIN and the wait):
 *  1. The poller reads seq[dir], tries the syscall, gets EAGAIN.
 *  2. wsrt_io_wait locks the registration; if seq[dir] moved, readiness
 *     arrived after step 1: unlock and retry.  Else store the waker.
 *  3. The driver, on an event, locks, bumps seq[dir], takes the waker,
 *     unlocks and wakes it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "wsrt_probes.h"

#define EVFD_TOKEN UINT64_MAX
#define MAX_EVENTS 256

int wsrt_driver_init(struct wsrt_driver *d)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EVFD_TOKEN };

	memset(d, 0, sizeof(*d));
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0)
		return -errno;
	d->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->evfd < 0 || epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->evfd, &ev)) {
		int err = -errno;
		if (d->evfd >= 0)
			close(d->evfd);
		close(d->epfd);
		return err;
	}
	d->max_events = MAX_EVENTS;
	d->events = calloc(MAX_EVENTS, sizeof(*d->events));
	if (!d->events) {
		close(d->evfd);
		close(d->epfd);
		return -ENOMEM;
	}
	atomic_init(&d->locked, false);
	atomic_init(&d->next_timer_id, 0);
	pthread_mutex_init(&d->reg_lock, NULL);
	pthread_mutex_init(&d->timer_lock, NULL);
	return 0;
}

void wsrt_driver_destroy(struct wsrt_driver *d)
{
	close(d->evfd);
	close(d->epfd);
	free(d->events);
	free(d->regs);
	free(d->gens);
	free(d->free_slots);
	free(d->heap);
	pthread_mutex_destroy(&d->reg_lock);
	pthread_mutex_destroy(&d->timer_lock);
}

bool wsrt_driver_try_lock(struct wsrt_driver *d)
{
	/* Acquire pairs with the previous holder's release in unlock: its
	 * writes to `events` and sleep_until are ours now. */
	if (atomic_load_explicit(&d->locked, memory_order_relaxed))
		return false;
	return !atomic_exchange_explicit(&d->locked, true, memory_order_acquire);
}

void wsrt_driver_unlock(struct wsrt_driver *d)
{
	atomic_store_explicit(&d->locked, false, memory_order_release);
}

void wsrt_driver_unpark(struct wsrt_driver *d)
{
	uint64_t one = 1;

	/* EAGAIN means the counter is already non-zero: a wake is pending. */
	if (write(d->evfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		abort();	/* the kernel broke eventfd's contract */
}

/* ---- registrations -------------------------------------------------------- */

static int table_grow(struct wsrt_driver *d)
{
	uint32_t cap = d->cap ? 2 * d->cap : 64;
	struct wsrt_io **regs = realloc(d->regs, cap * sizeof(*regs));
	if (!regs)
		return -ENOMEM;
	d->regs = regs;
	uint32_t *gens = realloc(d->gens, cap * sizeof(*gens));
	if (!gens)
		return -ENOMEM;
	d->gens = gens;
	uint32_t *fs = realloc(d->free_slots, cap * sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	d->free_slots = fs;
	for (uint32_t i = d->cap; i < cap; i++) {
		d->regs[i] = NULL;
		d->gens[i] = 0;
	}
	d->cap = cap;
	return 0;
}

int wsrt_io_register(struct wsrt_driver *d, int fd, struct wsrt_io **out)
{
	struct wsrt_io *io = calloc(1, sizeof(*io));
	uint32_t slot;
	int err;

	if (!io)
		return -ENOMEM;
	io->fd = fd;
	atomic_init(&io->refs, 2);	/* the table's and the caller's */
	pthread_mutex_init(&io->lock, NULL);

	pthread_mutex_lock(&d->reg_lock);
	if (d->nfree) {
		slot = d->free_slots[--d->nfree];
	} else {
		if (d->nregs == d->cap && (err = table_grow(d))) {
			pthread_mutex_unlock(&d->reg_lock);
			goto fail;
		}
		slot = d->nregs++;
	}
	io->index = slot;
	io->gen = ++d->gens[slot];
	d->regs[slot] = io;
	pthread_mutex_unlock(&d->reg_lock);

	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
		.data.u64 = ((uint64_t)io->gen << 32) | slot,
	};
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		err = -errno;
		pthread_mutex_lock(&d->reg_lock);
		d->regs[slot] = NULL;
		d->free_slots[d->nfree++] = slot;
		pthread_mutex_unlock(&d->reg_lock);
		goto fail;
	}
	WSRT_PROBE_IO_REGISTER(fd, ((uint64_t)io->gen << 32) | slot);
	*out = io;
	return 0;
fail:
	pthread_mutex_destroy(&io->lock);
	free(io);
	return err;
}

void wsrt_io_unref(struct wsrt_io *io)
{
	if (atomic_fetch_sub_explicit(&io->refs, 1, memory_order_acq_rel) != 1)
		return;
	wsrt_waker_drop(&io->waker[0]);
	wsrt_waker_drop(&io->waker[1]);
	pthread_mutex_destroy(&io->lock);
	free(io);
}

void wsrt_io_deregister(struct wsrt_driver *d, struct wsrt_io *io)
{
	struct wsrt_waker w[2];

	/* Before close(): an fd number reused by a new registration must not
	 * still be in the set. */
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	pthread_mutex_lock(&d->reg_lock);
	d->regs[io->index] = NULL;
	d->free_slots[d->nfree++] = io->index;
	pthread_mutex_unlock(&d->reg_lock);

	pthread_mutex_lock(&io->lock);
	w[0] = io->waker[0];
	w[1] = io->waker[1];
	io->waker[0].vtable = io->waker[1].vtable = NULL;
	pthread_mutex_unlock(&io->lock);
	wsrt_waker_drop(&w[0]);
	wsrt_waker_drop(&w[1]);
	wsrt_io_unref(io);	/* the table's */
}

bool wsrt_io_wait(struct wsrt_io *io, enum wsrt_io_dir dir, uint64_t seq,
		  struct wsrt_cx *cx)
{
	struct wsrt_waker old = { 0 };
	bool waiting;

	pthread_mutex_lock(&io->lock);
	waiting = atomic_load_explicit(&io->seq[dir], memory_order_relaxed) == seq;
	if (waiting)
		wsrt_waker_store(&io->waker[dir], &cx->waker, &old);
	pthread_mutex_unlock(&io->lock);
	wsrt_waker_drop(&old);
	return waiting;
}

static void dispatch(struct wsrt_driver *d, int worker, uint64_t token,
		     uint32_t events)
{
	uint32_t slot = (uint32_t)token, gen = (uint32_t)(token >> 32);
	struct wsrt_waker w[2] = { 0 };
	struct wsrt_io *io = NULL;
	bool rd = events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR);
	bool wr = events & (EPOLLOUT | EPOLLHUP | EPOLLERR);

	pthread_mutex_lock(&d->reg_lock);
	if (slot < d->nregs && d->regs[slot] && d->gens[slot] == gen) {
		io = d->regs[slot];
		atomic_fetch_add_explicit(&io->refs, 1, memory_order_relaxed);
	}
	pthread_mutex_unlock(&d->reg_lock);
	if (!io)
		return;	/* closed since epoll reported it */

	WSRT_PROBE_IO_READY(worker, io->fd, events);
	pthread_mutex_lock(&io->lock);
	/* Release pairs with wsrt_io_seq's acquire (step 3). */
	if (rd) {
		atomic_fetch_add_explicit(&io->seq[WSRT_IO_READ], 1,
					  memory_order_release);
		w[0] = io->waker[0];
		io->waker[0].vtable = NULL;
	}
	if (wr) {
		atomic_fetch_add_explicit(&io->seq[WSRT_IO_WRITE], 1,
					  memory_order_release);
		w[1] = io->waker[1];
		io->waker[1].vtable = NULL;
	}
	pthread_mutex_unlock(&io->lock);
	/* Wakes from a worker in its driver turn queue the tasks on that
	 * worker (LIFO slot first), as in Tokio; the notify probe says. */
	wsrt_waker_wake(&w[0]);
	wsrt_waker_wake(&w[1]);
	wsrt_io_unref(io);
}

/* ---- a turn ------------------------------------------------------------------ */

/* *timeout_us: what the wait was bounded by, for the probe. */
static int wait_events(struct wsrt_driver *d, uint64_t until, bool block,
		       long long *timeout_us)
{
	int max = (int)d->max_events;
	uint64_t now;

	*timeout_us = 0;
	if (!block)
		return epoll_wait(d->epfd, d->events, max, 0);
	if (until == UINT64_MAX) {
		*timeout_us = -1;
		return epoll_wait(d->epfd, d->events, max, -1);
	}
	now = wsrt_now_ns();
	if (until <= now)
		return epoll_wait(d->epfd, d->events, max, 0);
	/* epoll_wait's milliseconds would make timers up to 1 ms late:
	 * epoll_pwait2 takes a timespec. */
	uint64_t left = until - now;
	struct timespec ts = { (time_t)(left / 1000000000ULL),
			       (long)(left % 1000000000ULL) };
	*timeout_us = (long long)(left / 1000);
	return epoll_pwait2(d->epfd, d->events, max, &ts, NULL);
}

int wsrt_driver_turn(struct wsrt_driver *d, int worker, bool block)
{
	uint64_t until = UINT64_MAX;
	long long timeout_us;
	int n, harvested = 0;

	if (block) {
		pthread_mutex_lock(&d->timer_lock);
		until = wsrt_timer_next_locked(d);
		d->sleep_until = until;
		pthread_mutex_unlock(&d->timer_lock);
	}
	n = wait_events(d, until, block, &timeout_us);
	if (block) {
		pthread_mutex_lock(&d->timer_lock);
		d->sleep_until = 0;
		pthread_mutex_unlock(&d->timer_lock);
	}
	if (n < 0)
		n = 0;	/* EINTR: a signal; the caller loops */
	for (int i = 0; i < n; i++) {
		uint64_t token = d->events[i].data.u64;
		if (token == EVFD_TOKEN) {
			uint64_t v;
			ssize_t r = read(d->evfd, &v, sizeof(v));
			(void)r;	/* EAGAIN: drained by an earlier turn */
			continue;
		}
		harvested++;
		dispatch(d, worker, token, d->events[i].events);
	}
	wsrt_timer_fire_due(d, worker, wsrt_now_ns());
	WSRT_PROBE_DRIVER_POLL(worker, timeout_us, harvested);
	return harvested;
}
