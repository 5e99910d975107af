/* SPDX-License-Identifier: MIT */
/*
 * The I/O driver, timers and TCP: registration and readiness wakes, the
 * eventfd unpark of the worker parked on the driver, timer order and
 * firing, a TCP echo under concurrency with partial reads and writes, and
 * peers that reset mid-request.  Loopback only, bounded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "wsrt_test.h"

static struct wsrt_runtime *start(unsigned workers)
{
	return test_rt_start(workers, true);
}

/* Joins and releases. */
static void join(struct wsrt_runtime *rt, struct wsrt_join *jh)
{
	test_rt_join(rt, jh);
	wsrt_join_release(jh);
}

/* A blocking loopback client socket (plain syscalls, not the runtime). */
static int client_connect(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		FAILF("connect: %s", strerror(errno));
	return fd;
}

/* ---- timers ---- */

#define NTIMERS 16

struct timed {
	struct wsrt_sleep *s;
	uint64_t deadline, fired_at;
	_Atomic int *order_next;
	int order;
	_Atomic int armed;	/* the sleep returned PENDING once */
};

static enum wsrt_poll timed_task(struct wsrt_cx *cx, void *arg)
{
	struct timed *t = arg;

	if (!t->s)
		t->s = wsrt_sleep_new(wsrt_cx_runtime(cx), t->deadline);
	if (wsrt_sleep_poll(t->s, cx) == WSRT_PENDING) {
		atomic_store(&t->armed, 1);
		return WSRT_PENDING;
	}
	t->fired_at = wsrt_now_ns();
	t->order = atomic_fetch_add(t->order_next, 1);
	wsrt_sleep_free(t->s);
	t->s = NULL;
	return WSRT_READY;
}

/* A task cancelled at shutdown frees its timer in its drop. */
static void timed_drop(void *arg)
{
	struct timed *t = arg;
	wsrt_sleep_free(t->s);
	t->s = NULL;
}

TEST(timers_fire_after_their_deadline_and_soon_after_it)
{
	struct wsrt_runtime *rt = start(2);
	struct timed ts[NTIMERS];
	struct wsrt_join *jh[NTIMERS];
	_Atomic int next = 0;
	uint64_t now = wsrt_now_ns();

	/* Deadlines 3 ms apart, armed in a scrambled order. */
	for (int i = 0; i < NTIMERS; i++) {
		int k = (i * 7) % NTIMERS;
		ts[k] = (struct timed){ .deadline = now + 20000000ULL + k * 3000000ULL,
					.order_next = &next };
	}
	for (int i = 0; i < NTIMERS; i++)
		jh[i] = wsrt_spawn(rt, timed_task, &ts[(i * 5) % NTIMERS], NULL);
	for (int i = 0; i < NTIMERS; i++)
		join(rt, jh[i]);
	uint64_t worst = 0;
	for (int k = 0; k < NTIMERS; k++) {
		ASSERT_GE(ts[k].fired_at, ts[k].deadline);
		if (ts[k].fired_at - ts[k].deadline > worst)
			worst = ts[k].fired_at - ts[k].deadline;
	}
	/* The 1 ms figure is measured, not asserted (noisy machine); this
	 * catches a timer that waits for something else to happen. */
	printf("# worst timer lateness %.3f ms\n", worst / 1e6);
	ASSERT_LT(worst, 50000000ULL * test_slow_factor());
	wsrt_runtime_free(rt);
}

/* A waker that records the order in which timers woke it. */
struct wake_log {
	int order[256];
	int n;
};
static struct wake_log wlog;

static void rec_clone(const void *d) { (void)d; }
static void rec_drop(const void *d) { (void)d; }
static void rec_wake(const void *d)
{
	wlog.order[wlog.n++] = (int)(uintptr_t)d;
}
static const struct wsrt_waker_vtable rec_vtable = { rec_clone, rec_wake, rec_drop };

TEST(the_timer_heap_fires_in_deadline_order)
{
	/* Deadlines an hour out, so no worker fires them: this thread does,
	 * all at once, and the wakes must come in deadline order. */
	struct wsrt_runtime *rt = start(1);
	struct wsrt_sleep *s[200];
	uint64_t base = wsrt_now_ns() + 3600ULL * 1000000000ULL;

	wlog.n = 0;
	for (int i = 0; i < 200; i++) {
		int k = (i * 37) % 200;	/* scrambled arming order */
		s[k] = wsrt_sleep_new(rt, base + (uint64_t)k * 1000);
		struct wsrt_cx cx = { .waker = { &rec_vtable, (void *)(uintptr_t)k },
				      .rt = rt, .worker = -1 };
		ASSERT_EQ(wsrt_sleep_poll(s[k], &cx), WSRT_PENDING);
	}
	/* Cancel a few: they must not fire. */
	for (int k = 10; k < 200; k += 50)
		wsrt_sleep_reset(s[k], base + 7200ULL * 1000000000ULL);
	ASSERT_EQ(wsrt_timer_fire_due(&rt->driver, -1, base + 1000000ULL), 196);
	ASSERT_EQ(wlog.n, 196);
	for (int i = 1; i < wlog.n; i++)
		ASSERT_LT(wlog.order[i - 1], wlog.order[i]);
	for (int i = 0; i < 200; i++)
		wsrt_sleep_free(s[i]);
	wsrt_runtime_free(rt);
}

TEST(an_earlier_timer_wakes_the_worker_sleeping_on_a_later_one)
{
	/* One worker, parked on the driver until a 5 s timer; arming a 10 ms
	 * timer from outside must cut that sleep short (eventfd). */
	struct wsrt_runtime *rt = start(1);
	_Atomic int next = 0;
	struct timed late = { .deadline = wsrt_now_ns() + 5000000000ULL,
			      .order_next = &next };
	struct wsrt_join *jl = wsrt_spawn(rt, timed_task, &late, timed_drop);

	/* Wait until the worker sleeps in the driver, bounded by that 5 s. */
	while (atomic_load(&rt->workers[0].parker.state) != WSRT_PARK_STATE_DRIVER)
		sched_yield();
	struct timed soon = { .deadline = wsrt_now_ns() + 10000000ULL,
			      .order_next = &next };
	join(rt, wsrt_spawn(rt, timed_task, &soon, NULL));
	ASSERT_LT(soon.fired_at - soon.deadline, 1000000000ULL);
	ASSERT_EQ(soon.order, 0);
	wsrt_join_release(jl);
	wsrt_runtime_free(rt);	/* cancels the 5 s sleeper: its timer is freed */
	(void)late;
}

/* ---- the driver's eventfd unpark ---- */

static enum wsrt_poll note_worker(struct wsrt_cx *cx, void *arg)
{
	*(int *)arg = wsrt_cx_worker(cx);
	return WSRT_READY;
}

TEST(a_spawn_from_outside_unparks_the_worker_in_epoll_wait)
{
	struct wsrt_runtime *rt = start(1);
	int ran_on = -1;

	for (int round = 0; round < 50; round++) {
		/* The only worker is idle: it sleeps in the driver, not on
		 * its futex; the unpark must reach it through the eventfd. */
		while (atomic_load(&rt->workers[0].parker.state) !=
		       WSRT_PARK_STATE_DRIVER)
			sched_yield();
		ran_on = -1;
		join(rt, wsrt_spawn(rt, note_worker, &ran_on, NULL));
		ASSERT_EQ(ran_on, 0);
	}
	wsrt_runtime_free(rt);
}

/* ---- readiness wakes ---- */

struct reader {
	struct wsrt_tcp *l, *conn;
	char buf[64];
	ssize_t got;
	int polls;
	_Atomic int pending;	/* set once the read returned PENDING */
};

static enum wsrt_poll reader_task(struct wsrt_cx *cx, void *arg)
{
	struct reader *r = arg;
	int ret;

	r->polls++;
	if (!r->conn) {
		if (wsrt_tcp_poll_accept(r->l, cx, &r->conn, &ret) == WSRT_PENDING)
			return WSRT_PENDING;
		if (ret)
			FAILF("accept: %d", ret);
	}
	if (wsrt_tcp_poll_read(r->conn, cx, r->buf, sizeof(r->buf), &r->got) ==
	    WSRT_PENDING) {
		atomic_store(&r->pending, 1);
		return WSRT_PENDING;
	}
	return WSRT_READY;
}

static void reader_drop(void *arg)
{
	struct reader *r = arg;
	wsrt_tcp_close(r->conn);
	wsrt_tcp_close(r->l);
	r->conn = r->l = NULL;
}

TEST(readiness_wakes_the_task_registered_for_it)
{
	struct wsrt_runtime *rt = start(2);
	struct reader r = { 0 };

	ASSERT_EQ(wsrt_tcp_listen(rt, "127.0.0.1", 0, 16, &r.l), 0);
	ASSERT_NE(wsrt_tcp_local_port(r.l), 0);
	struct wsrt_join *jh = wsrt_spawn(rt, reader_task, &r, NULL);
	int fd = client_connect(wsrt_tcp_local_port(r.l));
	while (!atomic_load(&r.pending))
		sched_yield();
	ASSERT_FALSE(wsrt_join_is_finished(jh));
	ASSERT_EQ(write(fd, "hello", 5), 5);
	join(rt, jh);
	ASSERT_EQ(r.got, 5);
	ASSERT_EQ(memcmp(r.buf, "hello", 5), 0);
	ASSERT_LE(r.polls, 4);	/* woken by readiness, not spinning */
	close(fd);
	wsrt_tcp_close(r.conn);
	wsrt_tcp_close(r.l);
	wsrt_runtime_free(rt);
}

TEST(listen_and_connect_report_errors_as_negative_errno)
{
	struct wsrt_runtime *rt = start(1);
	struct wsrt_tcp *l, *l2;

	ASSERT_EQ(wsrt_tcp_listen(rt, "not-an-ip", 0, 1, &l), -EINVAL);
	ASSERT_EQ(wsrt_tcp_listen(rt, "127.0.0.1", 0, 1, &l), 0);
	ASSERT_EQ(wsrt_tcp_listen(rt, "127.0.0.1", wsrt_tcp_local_port(l), 1, &l2),
		  -EADDRINUSE);
	wsrt_tcp_close(l);
	wsrt_runtime_free(rt);
}

/* ---- TCP echo under concurrency ---- */

#define CONNS 24
#define PAYLOAD (256 * 1024)	/* several socket buffers: short writes */

struct echo_server {
	struct wsrt_tcp *l;
	_Atomic int accepted, finished;
	int expect;
};

struct echo_conn {
	struct echo_server *srv;
	struct wsrt_tcp *s;
	char buf[4096];
	size_t len, off;
	bool eof;
};

static void echo_conn_drop(void *arg)
{
	struct echo_conn *c = arg;
	wsrt_tcp_close(c->s);
	free(c);
}

static enum wsrt_poll echo_conn_task(struct wsrt_cx *cx, void *arg)
{
	struct echo_conn *c = arg;
	ssize_t n;

	for (;;) {
		if (c->off < c->len) {
			if (wsrt_tcp_poll_write(c->s, cx, c->buf + c->off,
						c->len - c->off, &n) == WSRT_PENDING)
				return WSRT_PENDING;
			if (n < 0)
				break;
			c->off += (size_t)n;
			continue;
		}
		if (c->eof)
			break;
		if (wsrt_tcp_poll_read(c->s, cx, c->buf, sizeof(c->buf), &n) ==
		    WSRT_PENDING)
			return WSRT_PENDING;
		if (n <= 0) {
			c->eof = true;
			wsrt_tcp_shutdown(c->s, SHUT_WR);
			break;
		}
		c->len = (size_t)n;
		c->off = 0;
	}
	atomic_fetch_add(&c->srv->finished, 1);
	return WSRT_READY;
}

static enum wsrt_poll echo_accept_task(struct wsrt_cx *cx, void *arg)
{
	struct echo_server *srv = arg;

	while (atomic_load(&srv->accepted) < srv->expect) {
		struct wsrt_tcp *s;
		int ret;
		if (wsrt_tcp_poll_accept(srv->l, cx, &s, &ret) == WSRT_PENDING)
			return WSRT_PENDING;
		if (ret)
			FAILF("accept: %d", ret);
		struct echo_conn *c = calloc(1, sizeof(*c));
		c->srv = srv;
		c->s = s;
		atomic_fetch_add(&srv->accepted, 1);
		if (wsrt_spawn_detached(wsrt_cx_runtime(cx), echo_conn_task, c,
					echo_conn_drop))
			FAILF("spawn");
	}
	return WSRT_READY;
}

/* A client task in the runtime: connect, write PAYLOAD bytes in odd-sized
 * chunks while reading the echo back, compare. */
struct echo_client {
	uint16_t port;
	struct wsrt_tcp *s;
	bool connected, shut;
	unsigned char *out, *in;
	size_t sent, recvd;
	int err;
};

static enum wsrt_poll echo_client_task(struct wsrt_cx *cx, void *arg)
{
	struct echo_client *c = arg;
	enum wsrt_poll wr = WSRT_READY, rd;
	ssize_t n;
	int ret;

	if (!c->s && (c->err = wsrt_tcp_connect(wsrt_cx_runtime(cx), "127.0.0.1",
						 c->port, &c->s)))
		return WSRT_READY;
	if (!c->connected) {
		if (wsrt_tcp_poll_connect(c->s, cx, &ret) == WSRT_PENDING)
			return WSRT_PENDING;
		if ((c->err = ret))
			return WSRT_READY;
		c->connected = true;
	}
	for (;;) {
		bool progress = false;
		while (c->sent < PAYLOAD) {
			size_t chunk = 1 + (c->sent * 7919) % 60000;
			if (chunk > PAYLOAD - c->sent)
				chunk = PAYLOAD - c->sent;
			wr = wsrt_tcp_poll_write(c->s, cx, c->out + c->sent, chunk, &n);
			if (wr == WSRT_PENDING)
				break;
			if (n < 0) {
				c->err = (int)n;
				return WSRT_READY;
			}
			c->sent += (size_t)n;
			progress = true;
		}
		if (c->sent == PAYLOAD && !c->shut) {
			wsrt_tcp_shutdown(c->s, SHUT_WR);
			c->shut = true;
		}
		rd = wsrt_tcp_poll_read(c->s, cx, c->in + c->recvd,
					PAYLOAD + 1 - c->recvd, &n);
		if (rd == WSRT_READY) {
			if (n < 0) {
				c->err = (int)n;
				return WSRT_READY;
			}
			if (n == 0)
				return WSRT_READY;	/* server closed: done */
			c->recvd += (size_t)n;
			progress = true;
		}
		if (!progress)
			return WSRT_PENDING;
	}
}

static void echo_client_drop(void *arg)
{
	struct echo_client *c = arg;
	wsrt_tcp_close(c->s);
	c->s = NULL;
}

TEST_T(tcp_echo_many_connections_both_directions_partial_io, 60)
{
	struct wsrt_runtime *rt = start(2);
	static struct echo_client cl[CONNS];
	struct echo_server srv = { .expect = CONNS };
	struct wsrt_join *jc[CONNS];

	ASSERT_EQ(wsrt_tcp_listen(rt, "127.0.0.1", 0, 64, &srv.l), 0);
	struct wsrt_join *ja = wsrt_spawn(rt, echo_accept_task, &srv, NULL);
	for (int i = 0; i < CONNS; i++) {
		cl[i] = (struct echo_client){ .port = wsrt_tcp_local_port(srv.l) };
		cl[i].out = malloc(PAYLOAD);
		cl[i].in = malloc(PAYLOAD + 1);
		for (size_t k = 0; k < PAYLOAD; k++)
			cl[i].out[k] = (unsigned char)(k * 31 + i);
		jc[i] = wsrt_spawn(rt, echo_client_task, &cl[i], echo_client_drop);
	}
	for (int i = 0; i < CONNS; i++) {
		join(rt, jc[i]);
		ASSERT_EQ(cl[i].err, 0);
		ASSERT_EQ(cl[i].recvd, PAYLOAD);
		ASSERT_EQ(memcmp(cl[i].in, cl[i].out, PAYLOAD), 0);
		free(cl[i].out);
		free(cl[i].in);
	}
	join(rt, ja);
	while (atomic_load(&srv.finished) < CONNS)
		sched_yield();
	wsrt_tcp_close(srv.l);
	wsrt_runtime_free(rt);
}

/* ---- peers that go away mid-request ---- */

TEST(a_peer_that_resets_mid_request_is_an_error_not_a_crash)
{
	struct wsrt_runtime *rt = start(2);
	struct reader r = { 0 };

	ASSERT_EQ(wsrt_tcp_listen(rt, "127.0.0.1", 0, 16, &r.l), 0);
	struct wsrt_join *jh = wsrt_spawn(rt, reader_task, &r, NULL);
	int fd = client_connect(wsrt_tcp_local_port(r.l));
	while (!atomic_load(&r.pending))
		sched_yield();
	/* SO_LINGER 0: close sends RST. */
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	join(rt, jh);
	ASSERT_TRUE(r.got == -ECONNRESET || r.got == 0);
	/* Writing to it now fails cleanly too (no SIGPIPE). */
	char c = 'x';
	ssize_t n = 0;
	for (int i = 0; i < 3 && n >= 0; i++)
		n = send(wsrt_tcp_fd(r.conn), &c, 1, MSG_NOSIGNAL);
	ASSERT_LT(n, 0);
	wsrt_tcp_close(r.conn);
	wsrt_tcp_close(r.l);
	wsrt_runtime_free(rt);
}

TEST(shutdown_cancels_tasks_waiting_on_sockets_and_timers)
{
	/* Tasks parked on a read and on a 60 s timer are cancelled by
	 * wsrt_runtime_free; their drop closes the socket and frees the
	 * timer (LSan checks nothing is left). */
	struct wsrt_runtime *rt = start(2);
	struct reader *r = calloc(1, sizeof(*r));
	_Atomic int next = 0;
	struct timed *t = calloc(1, sizeof(*t));

	t->deadline = wsrt_now_ns() + 60000000000ULL;
	t->order_next = &next;
	ASSERT_EQ(wsrt_tcp_listen(rt, "127.0.0.1", 0, 16, &r->l), 0);
	struct wsrt_join *jr = wsrt_spawn(rt, reader_task, r, reader_drop);
	struct wsrt_join *jt = wsrt_spawn(rt, timed_task, t, timed_drop);
	int fd = client_connect(wsrt_tcp_local_port(r->l));
	while (!atomic_load(&r->pending) || !atomic_load(&t->armed))
		sched_yield();
	ASSERT_TRUE(r->conn != NULL);
	wsrt_runtime_free(rt);
	ASSERT_TRUE(wsrt_join_was_cancelled(jr));
	ASSERT_TRUE(wsrt_join_was_cancelled(jt));
	ASSERT_TRUE(r->conn == NULL && r->l == NULL && t->s == NULL);
	wsrt_join_release(jr);
	wsrt_join_release(jt);
	close(fd);
	free(r);
	free(t);
}
