/* SPDX-License-Identifier: MIT */
/*
 * The per-worker parker: sleep until unparked, with no lost wakeups.
 *
 * Owns: the parker state machine and the futex calls.  Does not own: the
 * idle accounting (idle.c) or deciding whom to wake (worker.c).
 *
 * A parked worker either holds the I/O driver (state DRIVER, blocked in
 * epoll_wait; unparked through the driver's eventfd) or sleeps on a futex
 * (state FUTEX, woken by FUTEX_WAKE): whoever parks first while the driver
 * is free takes it.  The futex protocol:
 *
 *  1. park: if NOTIFIED, consume it and return (an unpark raced ahead).
 *  2. CAS EMPTY -> FUTEX.  Failure means NOTIFIED arrived: consume, return.
 *  3. FUTEX_WAIT while the word still reads FUTEX.  The kernel compares
 *     the word under its hash-bucket lock, so an unpark's swap cannot slip
 *     between our check and our sleep.
 *  4. On every return, CAS NOTIFIED -> EMPTY; if it fails the wakeup was
 *     spurious (a signal, or injected by the preload shim): sleep again.
 *  unpark: swap NOTIFIED in; if the old state was FUTEX, FUTEX_WAKE one.
 *
 * futex is called through libc's syscall() (not a raw instruction) so the
 * preload shim sees every park.
 */
#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "wsrt_probes.h"

void wsrt_parker_init(struct wsrt_parker *p)
{
	atomic_init(&p->state, WSRT_PARK_EMPTY);
}

static bool consume_notification(struct wsrt_parker *p)
{
	uint32_t expect = WSRT_PARK_NOTIFIED;

	/* Acquire pairs with the unparker's swap: whatever it published
	 * before unparking is visible once we run again. */
	return atomic_compare_exchange_strong_explicit(
		&p->state, &expect, WSRT_PARK_EMPTY, memory_order_acquire,
		memory_order_relaxed);
}

/* Parked on the driver: one blocking turn, then back (Tokio's
 * park_driver).  The turn may end on I/O or a timer with no unpark: the
 * caller re-checks for work. */
static void park_driver(struct wsrt_parker *p, int worker,
			struct wsrt_driver *d)
{
	uint32_t expect = WSRT_PARK_EMPTY;

	if (!atomic_compare_exchange_strong_explicit(
		    &p->state, &expect, WSRT_PARK_STATE_DRIVER,
		    memory_order_acq_rel, memory_order_acquire)) {
		consume_notification(p);
		return;
	}
	WSRT_PROBE_PARK(worker, WSRT_PARK_DRIVER);
	wsrt_driver_turn(d, worker, true);
	/* NOTIFIED (an unpark wrote the eventfd) or still DRIVER (I/O or a
	 * timer): either way we are back.  Acquire pairs with the unpark. */
	atomic_exchange_explicit(&p->state, WSRT_PARK_EMPTY,
				 memory_order_acq_rel);
	WSRT_PROBE_UNPARK(worker, WSRT_PARK_DRIVER);
}

bool wsrt_parker_park(struct wsrt_parker *p, int worker,
		      struct wsrt_driver *driver)
{
	uint32_t expect = WSRT_PARK_EMPTY;

	if (consume_notification(p))
		return false;
	if (driver && wsrt_driver_try_lock(driver)) {
		park_driver(p, worker, driver);
		wsrt_driver_unlock(driver);
		return true;
	}
	if (!atomic_compare_exchange_strong_explicit(
		    &p->state, &expect, WSRT_PARK_STATE_FUTEX,
		    memory_order_acq_rel, memory_order_acquire)) {
		/* Only an unpark changes the state under us. */
		consume_notification(p);
		return false;
	}
	WSRT_PROBE_PARK(worker, WSRT_PARK_FUTEX);
	for (;;) {
		syscall(SYS_futex, &p->state, FUTEX_WAIT_PRIVATE,
			WSRT_PARK_STATE_FUTEX, NULL, NULL, 0);
		if (consume_notification(p))
			break;
	}
	WSRT_PROBE_UNPARK(worker, WSRT_PARK_FUTEX);
	return false;
}

void wsrt_parker_unpark(struct wsrt_parker *p, struct wsrt_driver *driver)
{
	/* Release publishes the work that motivated the unpark. */
	uint32_t prev = atomic_exchange_explicit(&p->state, WSRT_PARK_NOTIFIED,
						 memory_order_acq_rel);
	if (prev == WSRT_PARK_STATE_FUTEX)
		syscall(SYS_futex, &p->state, FUTEX_WAKE_PRIVATE, 1, NULL,
			NULL, 0);
	else if (prev == WSRT_PARK_STATE_DRIVER)
		wsrt_driver_unpark(driver);
}
