/* SPDX-License-Identifier: MIT */
/*
 * The example HTTP/1.1 server behind http_server.h.
 *
 * The accept task loops on wsrt_tcp_poll_accept and spawns a connection
 * task per connection — from a worker, so each lands in that worker's LIFO
 * slot, as tokio::spawn does in axum::serve.  A connection task reads,
 * parses, runs the handler inline and writes, one request at a time
 * (see conn_poll).  A task's state is freed by its drop callback, so tasks
 * cancelled at shutdown are freed too.
 */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "example.h"
#include "http/http_parse.h"
#include "http/http_server.h"

/* Tokio's TcpListener backlog. */
#define LISTEN_BACKLOG 1024
#define CONN_BUF_INIT 4096
/* Room for a maximal head plus a maximal body, plus pipelined slack. */
#define CONN_BUF_MAX (16 * 1024 + HTTP_SERVER_BODY_LIMIT)
_Static_assert(CONN_BUF_MAX >= HTTP_MAX_HEAD + HTTP_SERVER_BODY_LIMIT,
	       "a whole request must fit the connection buffer");
/* Accepts per poll before the accept task yields to the tasks it spawned. */
#define ACCEPT_BATCH 64
/* axum::serve sleeps 1 s after an accept error such as EMFILE. */
#define ACCEPT_BACKOFF_NS 1000000000ULL
/* How long a closing connection drains input after its last response, so
 * that close() does not reset it before the peer has read the response
 * (nginx's lingering_close, shortened). */
#define LINGER_NS 2000000000ULL

struct http_server {
	struct http_server_config cfg;	/* immutable */
	uint16_t port;			/* immutable */
	/* Written by the tasks (and by wsrt_runtime_free's cancellation);
	 * read for the stats. */
	_Atomic long conns_live;
	_Atomic unsigned long conns_accepted;
	_Atomic unsigned long requests;
	_Atomic bool accept_live;
};

struct acceptor {
	struct http_server *srv;
	struct wsrt_tcp *listener;
	struct wsrt_sleep *backoff;	/* non-NULL while backing off */
};

/* One connection.  Received bytes wait in buf[start, len); the response
 * being written is out[out_off, out_len). */
struct conn {
	struct http_server *srv;
	struct wsrt_tcp *sock;
	char *buf;
	size_t cap, start, len;
	char out[512];
	size_t out_off, out_len;
	bool eof;			/* the peer closed its side */
	bool closing;			/* last response queued: no more requests */
	struct wsrt_sleep *linger;	/* lingering-close deadline, once armed */
};

static void conn_respond(struct conn *c, int status, const char *reason,
			 const char *body, bool head_only, const char *connection)
{
	size_t body_len = strlen(body);
	int n;

	n = snprintf(c->out, sizeof(c->out),
		     "HTTP/1.1 %d %s\r\n"
		     "Content-Type: text/plain\r\n"
		     "Content-Length: %zu\r\n"
		     "%s"
		     "\r\n"
		     "%s",
		     status, reason, body_len, connection,
		     head_only ? "" : body);
	if (n < 0 || (size_t)n >= sizeof(c->out))
		abort();	/* our own bodies are short */
	c->out_off = 0;
	c->out_len = (size_t)n;
}

/* The handler: blocks its worker, as a CPU-bound render would. */
static void conn_serve(struct conn *c, struct wsrt_cx *cx,
		       const struct http_request *req)
{
	struct http_server *srv = c->srv;
	bool head = req->method_len == 4 && !memcmp(req->method, "HEAD", 4);
	const char *connection = "";
	char body[64];

	example_block_worker(srv->cfg.handler_ms, srv->cfg.busy);
	snprintf(body, sizeof(body), "ok worker=%d handler_ms=%u\n",
		 wsrt_cx_worker(cx), srv->cfg.handler_ms);
	if (!req->keep_alive) {
		connection = "Connection: close\r\n";
		c->closing = true;
	} else if (req->version_minor == 0) {
		connection = "Connection: keep-alive\r\n";
	}
	conn_respond(c, 200, "OK", body, head, connection);
	atomic_fetch_add_explicit(&srv->requests, 1, memory_order_relaxed);
}

/* Answers an unusable request and closes: whatever else was received is
 * dropped, since its framing can't be trusted. */
static void conn_refuse(struct conn *c, ssize_t err)
{
	switch (err) {
	case -EMSGSIZE:
		conn_respond(c, 431, "Request Header Fields Too Large",
			     "request header fields too large\n", false,
			     "Connection: close\r\n");
		break;
	case -ENOSYS:
		conn_respond(c, 501, "Not Implemented",
			     "transfer-encoding not implemented\n", false,
			     "Connection: close\r\n");
		break;
	case -EFBIG:
		conn_respond(c, 413, "Content Too Large",
			     "content too large\n", false,
			     "Connection: close\r\n");
		break;
	default:
		conn_respond(c, 400, "Bad Request", "bad request\n", false,
			     "Connection: close\r\n");
		break;
	}
	c->closing = true;
	c->start = c->len = 0;
}

/* Makes room to read into: compacts, then grows up to CONN_BUF_MAX. */
static int conn_buf_reserve(struct conn *c)
{
	if (c->start > 0) {
		memmove(c->buf, c->buf + c->start, c->len - c->start);
		c->len -= c->start;
		c->start = 0;
	}
	if (c->len < c->cap)
		return 0;
	if (c->cap >= CONN_BUF_MAX)
		return -ENOBUFS;
	size_t cap = c->cap * 2 < CONN_BUF_MAX ? c->cap * 2 : CONN_BUF_MAX;
	char *buf = realloc(c->buf, cap);
	if (!buf)
		return -ENOMEM;
	c->buf = buf;
	c->cap = cap;
	return 0;
}

/* After the last response: stop sending, then drain (and drop) input
 * until the peer closes or LINGER_NS pass.  READY: close now. */
static enum wsrt_poll conn_poll_linger(struct conn *c, struct wsrt_cx *cx)
{
	ssize_t n;

	if (c->eof)
		return WSRT_READY;
	if (!c->linger) {
		wsrt_tcp_shutdown(c->sock, SHUT_WR);
		c->linger = wsrt_sleep_new(wsrt_cx_runtime(cx),
					   wsrt_now_ns() + LINGER_NS);
		if (!c->linger)
			return WSRT_READY;
	}
	if (wsrt_sleep_poll(c->linger, cx) == WSRT_READY)
		return WSRT_READY;
	for (;;) {
		if (wsrt_tcp_poll_read(c->sock, cx, c->buf, c->cap, &n) ==
		    WSRT_PENDING)
			return WSRT_PENDING;
		if (n <= 0)
			return WSRT_READY;
	}
}

/*
 * The connection task.  Each turn of the loop does the first of:
 *  1. write what is left of the current response;
 *  2. after a last response, linger and close;
 *  3. parse and answer one request from the buffer (pipelined requests are
 *     answered one by one, in order);
 *  4. at end of stream, close (a partial request is dropped);
 *  5. read more.
 * READY means the connection is done; the drop callback closes and frees.
 * Every read and write spends coop budget, so a client that pipelines
 * without end still lets this worker's other tasks run.
 */
static enum wsrt_poll conn_poll(struct wsrt_cx *cx, void *arg)
{
	struct conn *c = arg;
	struct http_request req;
	ssize_t n;

	for (;;) {
		if (c->out_off < c->out_len) {
			if (wsrt_tcp_poll_write(c->sock, cx,
						c->out + c->out_off,
						c->out_len - c->out_off,
						&n) == WSRT_PENDING)
				return WSRT_PENDING;
			if (n < 0)
				return WSRT_READY;	/* EPIPE, ECONNRESET */
			c->out_off += (size_t)n;
			continue;
		}
		if (c->closing)
			return conn_poll_linger(c, cx);

		if (c->len > c->start) {
			n = http_parse_request(c->buf + c->start,
					       c->len - c->start, &req);
			if (n > 0) {
				conn_serve(c, cx, &req);
				c->start += (size_t)n;
				if (c->start == c->len)
					c->start = c->len = 0;
				continue;
			}
			if (n == 0 && req.header_bytes &&
			    req.content_length > HTTP_SERVER_BODY_LIMIT)
				n = -EFBIG;
			if (n < 0) {
				conn_refuse(c, n);
				continue;
			}
		}
		if (c->eof)
			return WSRT_READY;

		int err = conn_buf_reserve(c);
		/* A full buffer holds more than any acceptable request, which
		 * the parser would have answered or refused. */
		assert(err != -ENOBUFS);
		if (err)
			return WSRT_READY;	/* ENOMEM */
		if (wsrt_tcp_poll_read(c->sock, cx, c->buf + c->len,
				       c->cap - c->len, &n) == WSRT_PENDING)
			return WSRT_PENDING;
		if (n < 0)
			return WSRT_READY;	/* ECONNRESET */
		if (n == 0)
			c->eof = true;
		c->len += (size_t)n;
	}
}

static void conn_drop(void *arg)
{
	struct conn *c = arg;
	struct http_server *srv = c->srv;

	if (c->linger)
		wsrt_sleep_free(c->linger);
	wsrt_tcp_close(c->sock);
	free(c->buf);
	free(c);
	atomic_fetch_sub_explicit(&srv->conns_live, 1, memory_order_relaxed);
}

/* Takes ownership of sock: on failure it is closed. */
static void conn_spawn(struct http_server *srv, struct wsrt_cx *cx,
		       struct wsrt_tcp *sock)
{
	struct conn *c = calloc(1, sizeof(*c));

	atomic_fetch_add_explicit(&srv->conns_accepted, 1, memory_order_relaxed);
	if (!c) {
		wsrt_tcp_close(sock);
		return;
	}
	atomic_fetch_add_explicit(&srv->conns_live, 1, memory_order_relaxed);
	c->srv = srv;
	c->sock = sock;
	c->cap = CONN_BUF_INIT;
	c->buf = malloc(c->cap);
	/* From a worker: the new task lands in this worker's LIFO slot. */
	if (!c->buf ||
	    wsrt_spawn_detached(wsrt_cx_runtime(cx), conn_poll, c, conn_drop))
		conn_drop(c);
}

/* Errors about one connection only: go on accepting (axum's
 * is_connection_error, plus what accept(2) says may be pending on the new
 * socket). */
static bool accept_error_is_transient(int err)
{
	switch (err) {
	case -ECONNABORTED: case -ECONNRESET: case -ECONNREFUSED:
	case -EINTR: case -EPROTO: case -EPERM: case -ENETDOWN:
	case -ENOPROTOOPT: case -EHOSTDOWN: case -ENONET:
	case -EHOSTUNREACH: case -EOPNOTSUPP: case -ENETUNREACH:
		return true;
	default:
		return false;
	}
}

static enum wsrt_poll accept_poll(struct wsrt_cx *cx, void *arg)
{
	struct acceptor *a = arg;

	for (;;) {
		if (a->backoff) {
			if (wsrt_sleep_poll(a->backoff, cx) == WSRT_PENDING)
				return WSRT_PENDING;
			wsrt_sleep_free(a->backoff);
			a->backoff = NULL;
		}
		for (unsigned i = 0; i < ACCEPT_BATCH; i++) {
			struct wsrt_tcp *sock;
			int ret;

			if (wsrt_tcp_poll_accept(a->listener, cx, &sock,
						 &ret) == WSRT_PENDING)
				return WSRT_PENDING;
			if (ret == 0) {
				conn_spawn(a->srv, cx, sock);
				continue;
			}
			if (accept_error_is_transient(ret))
				continue;
			/* EMFILE, ENFILE, ENOBUFS, ENOMEM: wait for
			 * connections to close rather than spin. */
			fprintf(stderr, "%s: accept on port %u: %s; retrying in 1 s\n",
				program_invocation_short_name, a->srv->port,
				strerror(-ret));
			a->backoff = wsrt_sleep_new(wsrt_cx_runtime(cx),
						    wsrt_now_ns() +
							    ACCEPT_BACKOFF_NS);
			if (!a->backoff)
				return wsrt_yield(cx);
			break;
		}
		if (!a->backoff)
			return wsrt_yield(cx);	/* a full batch: let them run */
	}
}

static void accept_drop(void *arg)
{
	struct acceptor *a = arg;

	if (a->backoff)
		wsrt_sleep_free(a->backoff);
	wsrt_tcp_close(a->listener);
	atomic_store(&a->srv->accept_live, false);
	free(a);
}

/* ---- the server ------------------------------------------------------------ */

int http_server_start(struct wsrt_runtime *rt, const char *host,
		      uint16_t port, const struct http_server_config *cfg,
		      struct http_server **out)
{
	struct http_server *srv = calloc(1, sizeof(*srv));
	struct acceptor *a = calloc(1, sizeof(*a));
	int err = -ENOMEM;

	if (!srv || !a)
		goto fail;
	srv->cfg = *cfg;
	a->srv = srv;
	err = wsrt_tcp_listen(rt, host, port, LISTEN_BACKLOG, &a->listener);
	if (err)
		goto fail;
	srv->port = wsrt_tcp_local_port(a->listener);
	atomic_store(&srv->accept_live, true);
	err = wsrt_spawn_detached(rt, accept_poll, a, accept_drop);
	if (err) {
		accept_drop(a);
		free(srv);
		return err;
	}
	*out = srv;
	return 0;
fail:
	free(a);
	free(srv);
	return err;
}

uint16_t http_server_port(const struct http_server *srv)
{
	return srv->port;
}

void http_server_stats(const struct http_server *srv,
		       struct http_server_stats *st)
{
	st->conns_accepted = atomic_load(&srv->conns_accepted);
	st->requests = atomic_load(&srv->requests);
	st->conns_live = atomic_load(&srv->conns_live);
	st->accept_live = atomic_load(&srv->accept_live);
}

void http_server_free(struct http_server *srv)
{
	free(srv);
}
