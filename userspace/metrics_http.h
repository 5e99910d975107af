/* SPDX-License-Identifier: MIT */
/*
 * The metrics endpoint of `stallscope watch`: GET /metrics over HTTP/1.x
 * on one listening socket, served from the recording thread without ever
 * blocking it.
 *
 * Every socket is non-blocking and ss_httpd_serve() only does what is
 * ready: accepts, reads what came (a request head of at most
 * HTTP_MAX_HEAD bytes, parsed by examples/http/http_parse.c), writes what
 * the socket takes.  A client gets SS_HTTPD_DEADLINE_MS from its accept
 * to be answered and gone; with SS_HTTPD_CLIENTS open, a new one pushes
 * out the oldest.  So a slow, silent or hostile client costs a slot and a
 * few syscalls a turn, never the recording's time.  One request per
 * connection (Connection: close).  Answers: 200 with the exposition for
 * GET or HEAD /metrics (a query string ignored), 404 for any other path,
 * 405 for any other method, 400 / 431 / 501 for what does not parse.
 */
#ifndef STALLSCOPE_METRICS_HTTP_H
#define STALLSCOPE_METRICS_HTTP_H

#include <stddef.h>

#define SS_HTTPD_CLIENTS 16
#define SS_HTTPD_DEADLINE_MS 5000

struct ss_httpd;

/* ADDR:PORT, [ADDR6]:PORT or PORT (then 127.0.0.1), numeric: 0 or -errno
 * with one line in err (a bad address: -EINVAL). */
int ss_httpd_open(const char *listen, struct ss_httpd **out, char *err, size_t errlen);
/* The address it listens on, as "127.0.0.1:9464" (port 0 asked for one). */
const char *ss_httpd_address(const struct ss_httpd *h);
/* Does what is ready, waiting at most timeout_ms (0: not at all).  body:
 * called when a request for /metrics is complete, returns a malloc'd
 * exposition (NULL: 503) and its length. */
typedef char *(*ss_httpd_body_fn)(void *arg, size_t *len);
void ss_httpd_serve(struct ss_httpd *h, int timeout_ms, ss_httpd_body_fn body, void *arg);
/* Requests answered, by status class, for the tests and docs. */
struct ss_httpd_stats {
	unsigned long ok, bad, dropped;	/* 200; 4xx/5xx; closed unanswered */
};
void ss_httpd_stats(const struct ss_httpd *h, struct ss_httpd_stats *s);
void ss_httpd_free(struct ss_httpd *h);

#endif
