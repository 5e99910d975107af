/* SPDX-License-Identifier: MIT */
/*
 * http-stall: new connections wait while an idle runtime sleeps (Tokio PR
 * 8010; the write-up in shared/seeds/001).
 *
 * A small HTTP/1.1 server shaped like Tokio + Axum: one accept task spawns
 * one task per connection, and the connection task runs the handler inline,
 * blocking its worker for --handler-ms (CPU-bound work, as in a renderer).
 * Then, unless --serve-only, a built-in client — plain blocking sockets in
 * ordinary threads, independent of the runtime under test — sends request 0
 * on a warm keep-alive connection and, --stagger-ms later, requests 1..N-1
 * each on a new connection, once every worker is parked and asleep.
 *
 *  - legacy (WSRT_EAGER_HANDOFF=0): the worker that held the I/O driver
 *    runs request 0's handler while still owning the driver; the other
 *    workers sleep on their futex and nobody sees the new connections until
 *    it is done.  Request 0 takes ≈ 1x the handler, the rest ≈ 2x.
 *  - eager handoff (default): the driver is handed to a parked worker
 *    before the handler runs, so the new connections are accepted at once
 *    and every request takes ≈ 1x.
 *
 * Prints each request's latency, then one JSON line with the measurement.
 *
 * Owns: the scenario — options, the client threads and their start gate,
 * serving until a signal.  Does not own: the server (http/http_server.c),
 * the blocking client (http/http_client.c), parsing (http/http_parse.c).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "common/opts.h"
#include "example.h"
#include "wsrt.h"
#include "http/http_client.h"
#include "http/http_server.h"

#define HOST "127.0.0.1"
#define CLIENT_TIMEOUT_S 30
#define MAX_REQUESTS 256

/* ---- the client threads ------------------------------------------------------ */

/* The start gate: every thread is created and waiting before request 0
 * goes, so the new connections start together. */
struct client {
	uint16_t port;
	unsigned stagger_ms;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool go, cancel;		/* under lock */
	/* Under lock: request 0 is written (or failed), at sent_ns.  The
	 * others connect stagger_ms after that moment, not after the start
	 * gate: a client thread descheduled before its send would otherwise
	 * deliver request 0 after them, in one epoll batch, and hide the
	 * stall. */
	bool sent;
	uint64_t sent_ns;
};

struct client_req {
	struct client *cl;
	unsigned index;
	int fd;				/* request 0: the warm connection */
	double ms;			/* the latency, or < 0 on failure */
	int worker;			/* from the response body */
	char err[160];
};

/* The client's own clock: nothing on its side calls the runtime. */
static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* One GET on fd: 0 with the worker that served it, or -1 with err set. */
static int client_get_ok(int fd, uint16_t port, const char *target,
			 http_client_sent_fn on_sent, void *arg,
			 int *worker, char *err, size_t errlen)
{
	char body[128];
	int status;

	if (http_client_get(fd, HOST, port, target, on_sent, arg, &status, body,
			    sizeof(body), err, errlen))
		return -1;
	if (status != 200) {
		snprintf(err, errlen, "status %d", status);
		return -1;
	}
	const char *w = strstr(body, "worker=");
	*worker = w ? atoi(w + strlen("worker=")) : -1;
	return 0;
}

/* Request 0's on_sent: lets the others go. */
static void mark_sent(void *arg)
{
	struct client *cl = arg;

	pthread_mutex_lock(&cl->lock);
	if (!cl->sent) {
		cl->sent = true;
		cl->sent_ns = mono_ns();
		pthread_cond_broadcast(&cl->cond);
	}
	pthread_mutex_unlock(&cl->lock);
}

/* Request 0 goes first on the warm connection; the others connect
 * stagger_ms after it was written.  The latency runs from just before the
 * send (warm) or the connect (new) to the end of the response. */
static void *client_thread(void *arg)
{
	struct client_req *r = arg;
	struct client *cl = r->cl;
	char target[32];
	uint64_t t, sent_ns;
	bool cancel;

	pthread_mutex_lock(&cl->lock);
	while (!cl->cancel && !(r->index ? cl->sent : cl->go))
		pthread_cond_wait(&cl->cond, &cl->lock);
	cancel = cl->cancel;
	sent_ns = cl->sent_ns;
	pthread_mutex_unlock(&cl->lock);
	if (cancel) {
		snprintf(r->err, sizeof(r->err), "not sent");
		return NULL;
	}
	if (r->index > 0) {
		uint64_t at = sent_ns + (uint64_t)cl->stagger_ms * 1000000ULL;
		struct timespec ts = { (time_t)(at / 1000000000ULL),
				       (long)(at % 1000000000ULL) };
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
	}
	t = mono_ns();
	if (r->fd < 0)
		r->fd = http_client_connect(HOST, cl->port, CLIENT_TIMEOUT_S,
					    r->err, sizeof(r->err));
	snprintf(target, sizeof(target), "/request/%u", r->index);
	if (r->fd >= 0 &&
	    client_get_ok(r->fd, cl->port, target, r->index ? NULL : mark_sent,
			  cl, &r->worker, r->err, sizeof(r->err)) == 0)
		r->ms = (double)(mono_ns() - t) / 1e6;
	if (r->index == 0)
		mark_sent(cl);	/* if it failed before sending: don't hold the others */
	return NULL;
}

/* ---- the scenario ---------------------------------------------------------- */

/* Waits (bounded) until every worker is parked and asleep: the warm
 * connection's task waits for its next request and nothing else runs. */
static bool wait_idle(struct wsrt_runtime *rt)
{
	struct timespec pause = { 0, 200 * 1000 };

	for (int i = 0; i < 25000; i++) {	/* 5 s */
		struct wsrt_metrics m;
		wsrt_runtime_metrics(rt, &m);
		/* parked counts workers committed to sleeping (on the futex,
		 * or holding the driver): none can take the driver later. */
		if (m.parked == m.workers && m.parked_on_driver == 1)
			return true;
		nanosleep(&pause, NULL);
	}
	return false;
}

/* 0 once every request was answered and the results printed, 1 if any
 * failed (each failure printed). */
static int run_client(struct wsrt_runtime *rt, uint16_t port,
		      unsigned requests, unsigned stagger_ms,
		      const struct http_server_config *scfg)
{
	const struct wsrt_config *cfg = wsrt_runtime_config(rt);
	struct client cl = { .port = port, .stagger_ms = stagger_ms };
	struct client_req rs[MAX_REQUESTS];
	pthread_t th[MAX_REQUESTS];
	char err[160];
	int warm_worker, failed = 0;
	unsigned started = 0;

	int warm = http_client_connect(HOST, port, CLIENT_TIMEOUT_S, err,
				       sizeof(err));
	if (warm < 0 || client_get_ok(warm, port, "/warm-up", NULL, NULL, &warm_worker,
				      err, sizeof(err))) {
		fprintf(stderr, "http-stall: warm-up request: %s\n", err);
		if (warm >= 0)
			close(warm);
		return 1;
	}
	if (!wait_idle(rt)) {
		fprintf(stderr, "http-stall: the runtime did not go idle after the warm-up request\n");
		close(warm);
		return 1;
	}

	pthread_mutex_init(&cl.lock, NULL);
	pthread_cond_init(&cl.cond, NULL);
	for (; started < requests; started++) {
		unsigned i = started;
		rs[i] = (struct client_req){ .cl = &cl, .index = i,
					     .fd = i ? -1 : warm, .ms = -1,
					     .worker = -1 };
		int e = pthread_create(&th[i], NULL, client_thread, &rs[i]);
		if (e) {
			fprintf(stderr, "http-stall: cannot start client thread: %s\n",
				strerror(e));
			break;
		}
	}
	pthread_mutex_lock(&cl.lock);
	cl.go = started == requests;
	cl.cancel = !cl.go;
	pthread_cond_broadcast(&cl.cond);
	pthread_mutex_unlock(&cl.lock);
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_cond_destroy(&cl.cond);
	pthread_mutex_destroy(&cl.lock);
	if (started < requests) {
		close(warm);
		return 1;
	}

	for (unsigned i = 0; i < requests; i++) {
		const char *what = i ? "new connection" : "warm connection";
		if (rs[i].fd >= 0)
			close(rs[i].fd);
		if (rs[i].ms < 0) {
			fprintf(stderr, "http-stall: request %u (%s): %s\n", i,
				what, rs[i].err);
			failed = 1;
			continue;
		}
		printf("request %u (%s): %.1f ms, worker %d\n", i, what,
		       rs[i].ms, rs[i].worker);
	}
	if (failed)
		return 1;
	printf("{\"scenario\":\"http-stall\",\"latencies_ms\":[");
	for (unsigned i = 0; i < requests; i++)
		printf("%s%.1f", i ? "," : "", rs[i].ms);
	printf("],\"handler_ms\":%u,\"busy\":%s,\"eager_handoff\":%s,"
	       "\"lifo_stealable\":%s,\"workers\":%u,\"requests\":%u,"
	       "\"stagger_ms\":%u}\n",
	       scfg->handler_ms, scfg->busy ? "true" : "false",
	       cfg->eager_handoff ? "true" : "false",
	       cfg->lifo_stealable ? "true" : "false", cfg->workers, requests,
	       stagger_ms);
	return 0;
}

/* Serves until SIGINT/SIGTERM or `duration_s` (0: no limit).  The signals
 * are blocked in every thread (main blocked them before starting the
 * workers), so they stay pending until sigtimedwait takes them here. */
static void serve(const sigset_t *stop, unsigned duration_s)
{
	uint64_t end = mono_ns() + (uint64_t)duration_s * 1000000000ULL;
	siginfo_t si;

	for (;;) {
		int sig;
		if (duration_s) {
			uint64_t now = mono_ns();
			if (now >= end)
				return;
			struct timespec ts = { (time_t)((end - now) / 1000000000ULL),
					       (long)((end - now) % 1000000000ULL) };
			sig = sigtimedwait(stop, &si, &ts);
		} else {
			sig = sigwaitinfo(stop, &si);
		}
		if (sig > 0) {
			fprintf(stderr, "http-stall: %s, shutting down\n",
				strsignal(sig));
			return;
		}
		if (errno != EINTR)
			return;		/* EAGAIN: the duration is over */
	}
}

/* --idle-epoll: a thread asleep for good in an epoll instance of its own
 * with nothing in it, as a second runtime's idle I/O driver or a
 * library's event thread would be.  It must not hide this runtime's
 * stalls from a tracer (tests/scenario/analyze.sh).  Dies with the
 * process. */
static void *idle_epoll(void *arg)
{
	struct epoll_event ev;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	(void)arg;
	if (ep < 0)
		return NULL;
	for (;;)
		epoll_wait(ep, &ev, 1, -1);
	return NULL;
}

static const char usage[] =
	"usage: http-stall [options]\n"
	"  --port N         listen on 127.0.0.1:N (default 0: ephemeral)\n"
	"  --workers N      worker threads (default 4; beats WSRT_WORKERS)\n"
	"  --handler-ms N   how long each request blocks its worker (default 200)\n"
	"  --busy           spin instead of sleeping in the handler\n"
	"  --serve-only     only serve, until SIGINT/SIGTERM or --duration\n"
	"  --duration S     with --serve-only: stop after S seconds\n"
	"  --requests N     client: requests, 1 on a warm connection, N-1 on new\n"
	"                   ones (default: the number of workers)\n"
	"  --stagger-ms N   client: delay before the new connections (default 20)\n"
	"  --idle-epoll     one more thread, asleep for good in an epoll of its own\n"
	"                   (as a second runtime's idle driver would be)\n"
	"environment: WSRT_EAGER_HANDOFF=0|1 (default 1), WSRT_LIFO_STEALABLE,\n"
	"WSRT_WORKERS\n";

int main(int argc, char **argv)
{
	struct http_server_config scfg = { .handler_ms = 200 };
	unsigned port = 0, workers = 0, duration_s = 0, requests = 0;
	unsigned stagger_ms = 20;
	bool serve_only = false, idle_epoll_thread = false;
	const struct ss_opt opt[] = {
		SS_UINT("port", 0, &port, 0, 65535, NULL),
		SS_UINT("workers", 0, &workers, 1, 1024, NULL),
		SS_UINT("handler-ms", 0, &scfg.handler_ms, 0, 600000, "milliseconds, 0..600000"),
		SS_FLAG("busy", 0, &scfg.busy),
		SS_FLAG("serve-only", 0, &serve_only),
		SS_UINT("duration", 0, &duration_s, 1, 86400, "seconds, 1..86400"),
		SS_UINT("requests", 0, &requests, 1, MAX_REQUESTS, NULL),
		SS_UINT("stagger-ms", 0, &stagger_ms, 0, 60000, "milliseconds, 0..60000"),
		SS_FLAG("idle-epoll", 0, &idle_epoll_thread),
		{ 0 },
	};
	const struct ss_opts o = { .prog = "http-stall", .usage = usage, .opt = opt };
	struct wsrt_config cfg;
	sigset_t stop;
	int rc = 0, i;

	if ((rc = ss_opts_parse(&o, argc, argv, &i)) >= 0)
		return rc;
	rc = 0;
	if (duration_s && !serve_only) {
		fprintf(stderr, "http-stall: --duration only applies with --serve-only\n");
		return 2;
	}

	if (!example_config("http-stall", 4, workers, &cfg))
		return 2;
	if (!requests)
		requests = cfg.workers < MAX_REQUESTS ? cfg.workers : MAX_REQUESTS;

	/* Served until a signal: block the stop signals before the workers
	 * start, so they inherit the mask and only serve() takes them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	if (serve_only)
		pthread_sigmask(SIG_BLOCK, &stop, NULL);

	if (idle_epoll_thread) {
		pthread_t t;
		int e = pthread_create(&t, NULL, idle_epoll, NULL);

		if (e) {
			fprintf(stderr, "http-stall: cannot start the idle epoll thread: %s\n",
				strerror(e));
			return 1;
		}
		pthread_detach(t);
	}
	struct wsrt_runtime *rt = wsrt_runtime_new(&cfg);
	if (!rt) {
		fprintf(stderr, "http-stall: cannot start runtime: %s\n", strerror(errno));
		return 1;
	}
	struct http_server *srv;
	int err = http_server_start(rt, HOST, (uint16_t)port, &scfg, &srv);
	if (err) {
		fprintf(stderr, "http-stall: cannot serve on %s:%u: %s\n",
			HOST, port, strerror(-err));
		wsrt_runtime_free(rt);
		return 1;
	}
	printf("listening on %s:%u\n", HOST, http_server_port(srv));
	fflush(stdout);

	if (serve_only)
		serve(&stop, duration_s);
	else
		rc = run_client(rt, http_server_port(srv), requests, stagger_ms,
				&scfg);

	/* Cancels the accept task and every open connection: their drop
	 * callbacks close the sockets and free the state. */
	wsrt_runtime_free(rt);
	struct http_server_stats st;
	http_server_stats(srv, &st);
	http_server_free(srv);
	if (serve_only)
		printf("served %lu requests on %lu connections\n",
		       st.requests, st.conns_accepted);
	if (st.conns_live || st.accept_live) {
		fprintf(stderr, "http-stall: %ld connection states%s left after shutdown\n",
			st.conns_live, st.accept_live ? " and the accept task's" : "");
		return 1;
	}
	return rc;
}
