/* SPDX-License-Identifier: MIT */
/*
 * Channels: oneshot (one value, one sender, one receiver) and a bounded
 * mpsc queue of pointers.  Both are small mutex-protected objects: the
 * lock is held only to move a value or a waker, and wakers are always
 * woken or dropped after it is released (a wake may run the scheduler).
 *
 * Owns: buffered values (as opaque pointers: what they point to stays the
 * caller's), the wakers of blocked ends.  Receives spend coop budget.
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

/* ---- oneshot ---------------------------------------------------------------- */

/* Nothing to receive yet: cx's waker goes into the receiver's slot (lock
 * held), the one it replaces is dropped outside the lock. */
static enum wsrt_poll rx_pending(pthread_mutex_t *lock, struct wsrt_waker *slot,
				 struct wsrt_cx *cx)
{
	struct wsrt_waker old = { 0 };

	wsrt_waker_store(slot, &cx->waker, &old);
	pthread_mutex_unlock(lock);
	wsrt_waker_drop(&old);
	return WSRT_PENDING;
}

struct wsrt_oneshot {
	pthread_mutex_t lock;
	unsigned refs;			/* under lock: tx + rx */
	bool sent, taken, tx_closed, rx_closed;	/* under lock */
	void *value;			/* under lock */
	struct wsrt_waker rx_waker;	/* under lock */
};

struct wsrt_oneshot *wsrt_oneshot_new(void)
{
	struct wsrt_oneshot *ch = calloc(1, sizeof(*ch));

	if (!ch)
		return NULL;
	pthread_mutex_init(&ch->lock, NULL);
	ch->refs = 2;
	return ch;
}

/* Called with the lock held; releases it. */
static void oneshot_unlock_unref(struct wsrt_oneshot *ch)
{
	bool last = --ch->refs == 0;

	pthread_mutex_unlock(&ch->lock);
	if (last) {
		pthread_mutex_destroy(&ch->lock);
		free(ch);
	}
}

int wsrt_oneshot_send(struct wsrt_oneshot *ch, void *value)
{
	struct wsrt_waker w;

	pthread_mutex_lock(&ch->lock);
	if (ch->sent) {
		pthread_mutex_unlock(&ch->lock);
		return -EALREADY;
	}
	if (ch->rx_closed) {
		pthread_mutex_unlock(&ch->lock);
		return -EPIPE;
	}
	ch->value = value;
	ch->sent = true;
	w = ch->rx_waker;
	ch->rx_waker.vtable = NULL;
	pthread_mutex_unlock(&ch->lock);
	wsrt_waker_wake(&w);
	return 0;
}

enum wsrt_poll wsrt_oneshot_poll_recv(struct wsrt_oneshot *ch,
				      struct wsrt_cx *cx, void **value, int *ret)
{
	if (!wsrt_coop_proceed(cx))
		return WSRT_PENDING;
	pthread_mutex_lock(&ch->lock);
	if (ch->sent && !ch->taken) {
		ch->taken = true;
		if (value)
			*value = ch->value;
		*ret = 0;
		pthread_mutex_unlock(&ch->lock);
		return WSRT_READY;
	}
	if (ch->tx_closed || ch->taken) {
		*ret = -EPIPE;
		pthread_mutex_unlock(&ch->lock);
		return WSRT_READY;
	}
	return rx_pending(&ch->lock, &ch->rx_waker, cx);
}

void wsrt_oneshot_close_tx(struct wsrt_oneshot *ch)
{
	struct wsrt_waker w;

	pthread_mutex_lock(&ch->lock);
	ch->tx_closed = true;
	w = ch->rx_waker;
	ch->rx_waker.vtable = NULL;
	oneshot_unlock_unref(ch);
	wsrt_waker_wake(&w);
}

void wsrt_oneshot_close_rx(struct wsrt_oneshot *ch)
{
	struct wsrt_waker w;

	pthread_mutex_lock(&ch->lock);
	ch->rx_closed = true;
	w = ch->rx_waker;
	ch->rx_waker.vtable = NULL;
	oneshot_unlock_unref(ch);
	wsrt_waker_drop(&w);
}

/* ---- mpsc -------------------------------------------------------------------- */

struct wsrt_mpsc {
	pthread_mutex_t lock;
	size_t cap, head, len;		/* under lock */
	unsigned senders;		/* under lock */
	bool rx_closed;			/* under lock */
	struct wsrt_waker rx_waker;	/* under lock */
	struct wsrt_waker *tx_wakers;	/* under lock: senders waiting for room */
	size_t n_tx_wakers, cap_tx_wakers;
	void **buf;
};

struct wsrt_mpsc *wsrt_mpsc_new(size_t capacity)
{
	struct wsrt_mpsc *ch;

	if (capacity == 0) {
		errno = EINVAL;
		return NULL;
	}
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		return NULL;
	ch->buf = calloc(capacity, sizeof(*ch->buf));
	if (!ch->buf) {
		free(ch);
		return NULL;
	}
	pthread_mutex_init(&ch->lock, NULL);
	ch->cap = capacity;
	ch->senders = 1;
	return ch;
}

static void mpsc_free(struct wsrt_mpsc *ch)
{
	for (size_t i = 0; i < ch->n_tx_wakers; i++)
		wsrt_waker_drop(&ch->tx_wakers[i]);
	wsrt_waker_drop(&ch->rx_waker);
	pthread_mutex_destroy(&ch->lock);
	free(ch->tx_wakers);
	free(ch->buf);
	free(ch);
}

/* Takes the waiting senders' wakers out (lock held); the caller wakes
 * them after unlocking.  All are woken: each retries, losers re-register. */
static struct wsrt_waker *take_tx_wakers(struct wsrt_mpsc *ch, size_t *n)
{
	struct wsrt_waker *ws = ch->tx_wakers;

	*n = ch->n_tx_wakers;
	ch->tx_wakers = NULL;
	ch->n_tx_wakers = ch->cap_tx_wakers = 0;
	return ws;
}

static void wake_all(struct wsrt_waker *ws, size_t n)
{
	for (size_t i = 0; i < n; i++)
		wsrt_waker_wake(&ws[i]);
	free(ws);
}

void wsrt_mpsc_tx_clone(struct wsrt_mpsc *ch)
{
	pthread_mutex_lock(&ch->lock);
	ch->senders++;
	pthread_mutex_unlock(&ch->lock);
}

void wsrt_mpsc_tx_release(struct wsrt_mpsc *ch)
{
	struct wsrt_waker w = { 0 };
	bool free_it;

	pthread_mutex_lock(&ch->lock);
	if (--ch->senders == 0) {
		w = ch->rx_waker;	/* the receiver sees the close */
		ch->rx_waker.vtable = NULL;
	}
	free_it = ch->senders == 0 && ch->rx_closed;
	pthread_mutex_unlock(&ch->lock);
	wsrt_waker_wake(&w);
	if (free_it)
		mpsc_free(ch);
}

void wsrt_mpsc_rx_release(struct wsrt_mpsc *ch)
{
	struct wsrt_waker *ws, rw;
	size_t n;
	bool free_it;

	pthread_mutex_lock(&ch->lock);
	ch->rx_closed = true;
	ws = take_tx_wakers(ch, &n);	/* blocked senders see -EPIPE */
	rw = ch->rx_waker;
	ch->rx_waker.vtable = NULL;
	free_it = ch->senders == 0;
	pthread_mutex_unlock(&ch->lock);
	wake_all(ws, n);
	wsrt_waker_drop(&rw);
	if (free_it)
		mpsc_free(ch);
}

/* Lock held.  0, -EAGAIN or -EPIPE; on 0 the receiver's waker is moved to
 * *rx for waking after unlock. */
static int try_send_locked(struct wsrt_mpsc *ch, void *value,
			   struct wsrt_waker *rx)
{
	if (ch->rx_closed)
		return -EPIPE;
	if (ch->len == ch->cap)
		return -EAGAIN;
	ch->buf[(ch->head + ch->len) % ch->cap] = value;
	ch->len++;
	*rx = ch->rx_waker;
	ch->rx_waker.vtable = NULL;
	return 0;
}

int wsrt_mpsc_try_send(struct wsrt_mpsc *ch, void *value)
{
	struct wsrt_waker rx = { 0 };
	int err;

	pthread_mutex_lock(&ch->lock);
	err = try_send_locked(ch, value, &rx);
	pthread_mutex_unlock(&ch->lock);
	wsrt_waker_wake(&rx);
	return err;
}

enum wsrt_poll wsrt_mpsc_poll_send(struct wsrt_mpsc *ch, struct wsrt_cx *cx,
				   void *value, int *ret)
{
	struct wsrt_waker rx = { 0 };
	int err;

	if (!wsrt_coop_proceed(cx))
		return WSRT_PENDING;
	pthread_mutex_lock(&ch->lock);
	err = try_send_locked(ch, value, &rx);
	if (err == -EAGAIN) {
		size_t i;
		for (i = 0; i < ch->n_tx_wakers; i++)
			if (wsrt_waker_will_wake(&ch->tx_wakers[i], &cx->waker))
				break;
		if (i == ch->n_tx_wakers) {
			if (ch->n_tx_wakers == ch->cap_tx_wakers) {
				size_t nc = ch->cap_tx_wakers ? 2 * ch->cap_tx_wakers : 4;
				struct wsrt_waker *nw = realloc(
					ch->tx_wakers, nc * sizeof(*nw));
				if (!nw) {
					/* Can't wait without a waker: ask to be
					 * polled again rather than hang. */
					pthread_mutex_unlock(&ch->lock);
					wsrt_waker_wake_by_ref(&cx->waker);
					return WSRT_PENDING;
				}
				ch->tx_wakers = nw;
				ch->cap_tx_wakers = nc;
			}
			ch->tx_wakers[ch->n_tx_wakers++] =
				wsrt_waker_clone(&cx->waker);
		}
		pthread_mutex_unlock(&ch->lock);
		return WSRT_PENDING;
	}
	pthread_mutex_unlock(&ch->lock);
	wsrt_waker_wake(&rx);
	*ret = err;
	return WSRT_READY;
}

enum wsrt_poll wsrt_mpsc_poll_recv(struct wsrt_mpsc *ch, struct wsrt_cx *cx,
				   void **value, int *ret)
{
	struct wsrt_waker *ws = NULL;
	size_t n = 0;

	if (!wsrt_coop_proceed(cx))
		return WSRT_PENDING;
	pthread_mutex_lock(&ch->lock);
	if (ch->len) {
		*value = ch->buf[ch->head];
		ch->head = (ch->head + 1) % ch->cap;
		ch->len--;
		ws = take_tx_wakers(ch, &n);
		pthread_mutex_unlock(&ch->lock);
		wake_all(ws, n);
		*ret = 0;
		return WSRT_READY;
	}
	if (ch->senders == 0) {
		pthread_mutex_unlock(&ch->lock);
		*ret = -EPIPE;
		return WSRT_READY;
	}
	return rx_pending(&ch->lock, &ch->rx_waker, cx);
}

size_t wsrt_mpsc_len(struct wsrt_mpsc *ch)
{
	size_t n;

	pthread_mutex_lock(&ch->lock);
	n = ch->len;
	pthread_mutex_unlock(&ch->lock);
	return n;
}
