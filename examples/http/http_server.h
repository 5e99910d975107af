/* SPDX-License-Identifier: MIT */
/*
 * The example HTTP/1.1 server, shaped like Tokio + Axum: one accept task
 * spawns one task per connection, and the connection task runs the handler
 * inline — so a slow handler blocks its worker, as a CPU-bound render
 * does.  Every answer is "ok worker=N handler_ms=M\n".
 *
 * Owns: the accept and connection tasks, keep-alive, pipelining, error
 * answers, closing.  Does not own: parsing (http_parse.h), sockets and
 * readiness (the runtime's TCP and driver), the runtime's lifetime.
 */
#ifndef HTTP_SERVER_H
#define HTTP_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "wsrt.h"

/* Bodies are read and dropped; a larger Content-Length gets a 413. */
#define HTTP_SERVER_BODY_LIMIT (64 * 1024)

struct http_server_config {
	unsigned handler_ms;	/* how long each request blocks its worker */
	bool busy;		/* spin instead of sleeping */
};

struct http_server_stats {
	unsigned long conns_accepted;
	unsigned long requests;		/* answered with a 200 */
	long conns_live;		/* connection states not yet freed */
	bool accept_live;		/* the accept task's state not yet freed */
};

struct http_server;

/* Listens on host:port (port 0: ephemeral) and spawns the accept task on
 * rt.  0 or -errno.  The server must outlive rt: free it after
 * wsrt_runtime_free, whose cancellation drops (closes and frees) the
 * accept task and every connection still open. */
int http_server_start(struct wsrt_runtime *rt, const char *host,
		      uint16_t port, const struct http_server_config *cfg,
		      struct http_server **out);
uint16_t http_server_port(const struct http_server *srv);
void http_server_stats(const struct http_server *srv,
		       struct http_server_stats *st);
void http_server_free(struct http_server *srv);

#endif
