/* SPDX-License-Identifier: MIT */
/*
 * A minimal blocking HTTP/1.1 client for measuring the example server:
 * plain sockets, no runtime, so it keeps working however stuck the
 * runtime under test is.  Every socket has send and receive timeouts, so
 * no call waits forever.
 *
 * Owns: connecting, sending a GET, reading one response framed by
 * Content-Length.  Does not own: chunked responses, redirects, anything
 * beyond what the example server sends.
 */
#ifndef HTTP_CLIENT_H
#define HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

/* The longest response head + body http_client_get accepts. */
#define HTTP_CLIENT_MAX_RESPONSE 4096

/* A connected socket with SO_RCVTIMEO/SO_SNDTIMEO of timeout_s, or -1
 * with a one-line reason in err. */
int http_client_connect(const char *host, uint16_t port, unsigned timeout_s,
			char *err, size_t errlen);

/* Called once the request is written, before the response is read. */
typedef void (*http_client_sent_fn)(void *arg);

/* Sends "GET target" (keep-alive) on fd and reads the whole response;
 * on_sent (may be NULL) runs in between.  0 with *status and the body
 * (NUL-terminated, truncated to body_len - 1), or -1 with a one-line
 * reason in err. */
int http_client_get(int fd, const char *host, uint16_t port,
		    const char *target, http_client_sent_fn on_sent,
		    void *on_sent_arg, int *status, char *body,
		    size_t body_len, char *err, size_t errlen);

#endif
