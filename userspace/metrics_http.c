// SPDX-License-Identifier: MIT
/*
 * GET /metrics for `stallscope watch` (metrics_http.h): a listening
 * socket and up to SS_HTTPD_CLIENTS non-blocking connections, each a
 * small state machine (reading the head, then writing the answer) with a
 * deadline.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "examples/http/http_parse.h"
#include "metrics_http.h"

struct client {
	int fd;			/* -1: a free slot */
	__u64 deadline;
	char in[HTTP_MAX_HEAD];
	size_t inlen;
	char *out;		/* the answer, once known */
	size_t outlen, outoff;
};

struct ss_httpd {
	int fd;
	char address[80];
	struct client c[SS_HTTPD_CLIENTS];
	struct ss_httpd_stats st;
};

/* host and port out of ADDR:PORT, [ADDR]:PORT or PORT. */
static int split(const char *s, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *colon, *p;

	if (!*s)
		return -EINVAL;
	if (strspn(s, "0123456789") == strlen(s)) {
		snprintf(host, hostlen, "127.0.0.1");
		p = s;
	} else if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':' || (size_t)(end - s - 1) >= hostlen)
			return -EINVAL;
		snprintf(host, hostlen, "%.*s", (int)(end - s - 1), s + 1);
		p = end + 2;
	} else {
		if (!(colon = strrchr(s, ':')) || (size_t)(colon - s) >= hostlen ||
		    memchr(s, ':', (size_t)(colon - s)))
			return -EINVAL;
		snprintf(host, hostlen, "%.*s", (int)(colon - s), s);
		if (!*host)
			snprintf(host, hostlen, "127.0.0.1");
		p = colon + 1;
	}
	if (!*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 5 || atoi(p) > 65535)
		return -EINVAL;
	snprintf(port, portlen, "%s", p);
	return 0;
}

int ss_httpd_open(const char *listen_at, struct ss_httpd **out, char *err, size_t errlen)
{
	struct addrinfo hints = {
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
		.ai_socktype = SOCK_STREAM,
	}, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[64], port[8], ip[INET6_ADDRSTRLEN];
	struct ss_httpd *h;
	int one = 1, e;

	*out = NULL;
	if (split(listen_at, host, sizeof(host), port, sizeof(port)) ||
	    getaddrinfo(host, port, &hints, &ai)) {
		snprintf(err, errlen, "--listen: want [ADDR:]PORT or [ADDR6]:PORT, numeric: %s",
			 listen_at);
		return -EINVAL;
	}
	if (!(h = calloc(1, sizeof(*h)))) {
		freeaddrinfo(ai);
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	for (unsigned i = 0; i < SS_HTTPD_CLIENTS; i++)
		h->c[i].fd = -1;
	h->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd < 0 || setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(h->fd, ai->ai_addr, ai->ai_addrlen) || listen(h->fd, SS_HTTPD_CLIENTS) ||
	    getsockname(h->fd, (struct sockaddr *)&ss, &sl)) {
		e = errno;
		snprintf(err, errlen, "--listen %s: %s", listen_at, strerror(e));
		freeaddrinfo(ai);
		if (h->fd >= 0)
			close(h->fd);
		free(h);
		return -e;
	}
	freeaddrinfo(ai);
	if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)&ss;

		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		snprintf(h->address, sizeof(h->address), "[%s]:%u", ip, ntohs(a->sin6_port));
	} else {
		const struct sockaddr_in *a = (const void *)&ss;

		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		snprintf(h->address, sizeof(h->address), "%s:%u", ip, ntohs(a->sin_port));
	}
	*out = h;
	return 0;
}

const char *ss_httpd_address(const struct ss_httpd *h)
{
	return h->address;
}

static void drop(struct ss_httpd *h, struct client *c, bool answered)
{
	if (!answered)
		h->st.dropped++;
	shutdown(c->fd, SHUT_WR);
	close(c->fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void answer(struct ss_httpd *h, struct client *c, int status, const char *reason,
		   const char *body, size_t len, bool head)
{
	FILE *f = open_memstream(&c->out, &c->outlen);

	if (!f) {
		drop(h, c, false);
		return;
	}
	fprintf(f, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		"Connection: close\r\n\r\n", status, reason,
		status == 200 ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain",
		len);
	if (!head && len)
		fwrite(body, 1, len, f);
	if (fclose(f)) {
		drop(h, c, false);
		return;
	}
	if (status == 200)
		h->st.ok++;
	else
		h->st.bad++;
}

static void error(struct ss_httpd *h, struct client *c, int status, const char *reason)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%d %s\n", status, reason);

	answer(h, c, status, reason, body, (size_t)n, false);
}

static bool is(const char *s, size_t len, const char *word)
{
	return len == strlen(word) && !memcmp(s, word, len);
}

/* A complete head: route it. */
static void route(struct ss_httpd *h, struct client *c, const struct http_request *req,
		  ss_httpd_body_fn body, void *arg)
{
	bool get = is(req->method, req->method_len, "GET");
	bool head = is(req->method, req->method_len, "HEAD");
	size_t path_len = req->target_len;
	const char *q = memchr(req->target, '?', req->target_len);
	char *text;
	size_t len;

	if (q)
		path_len = (size_t)(q - req->target);
	if (!is(req->target, path_len, "/metrics"))
		return error(h, c, 404, "Not Found");
	if (!get && !head)
		return error(h, c, 405, "Method Not Allowed");
	if (!(text = body(arg, &len)))
		return error(h, c, 503, "Service Unavailable");
	answer(h, c, 200, "OK", text, len, head);
	free(text);
}

static void on_readable(struct ss_httpd *h, struct client *c, ss_httpd_body_fn body, void *arg)
{
	struct http_request req;
	ssize_t n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0)
		return drop(h, c, false);	/* gone before asking */
	c->inlen += (size_t)n;
	n = http_parse_request(c->in, c->inlen, &req);
	if (n == -EMSGSIZE || (n == 0 && !req.header_bytes && c->inlen == sizeof(c->in)))
		return error(h, c, 431, "Request Header Fields Too Large");
	if (n == -ENOSYS)
		return error(h, c, 501, "Not Implemented");
	if (n < 0)
		return error(h, c, 400, "Bad Request");
	if (n > 0 || req.header_bytes)
		route(h, c, &req, body, arg);
}

static void on_writable(struct ss_httpd *h, struct client *c)
{
	ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
			 MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0)
		return drop(h, c, false);
	c->outoff += (size_t)n;
	if (c->outoff == c->outlen)
		drop(h, c, true);
}

static void accept_all(struct ss_httpd *h, __u64 now)
{
	for (unsigned k = 0; k < SS_HTTPD_CLIENTS; k++) {
		int fd = accept4(h->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct client *slot = NULL, *old = NULL;

		if (fd < 0)
			return;
		for (unsigned i = 0; i < SS_HTTPD_CLIENTS && !slot; i++) {
			struct client *c = &h->c[i];

			if (c->fd < 0)
				slot = c;
			else if (!old || c->deadline < old->deadline)
				old = c;
		}
		if (!slot) {	/* full: the oldest goes */
			drop(h, old, false);
			slot = old;
		}
		slot->fd = fd;
		slot->deadline = now + SS_HTTPD_DEADLINE_MS * 1000000ULL;
	}
}

void ss_httpd_serve(struct ss_httpd *h, int timeout_ms, ss_httpd_body_fn body, void *arg)
{
	struct pollfd p[1 + SS_HTTPD_CLIENTS];
	struct client *of[1 + SS_HTTPD_CLIENTS];
	unsigned n = 1;
	__u64 now;

	p[0] = (struct pollfd){ .fd = h->fd, .events = POLLIN };
	for (unsigned i = 0; i < SS_HTTPD_CLIENTS; i++) {
		struct client *c = &h->c[i];

		if (c->fd < 0)
			continue;
		of[n] = c;
		p[n++] = (struct pollfd){ .fd = c->fd, .events = c->out ? POLLOUT : POLLIN };
	}
	if (poll(p, n, timeout_ms) < 0)
		return;
	now = ss_mono_ns();
	for (unsigned i = 1; i < n; i++) {
		struct client *c = of[i];

		if (p[i].revents & (POLLIN | POLLHUP | POLLERR) && !c->out)
			on_readable(h, c, body, arg);
		if (c->fd >= 0 && c->out)	/* at once: most answers fit */
			on_writable(h, c);
		if (c->fd >= 0 && now >= c->deadline)
			drop(h, c, false);
	}
	if (p[0].revents & POLLIN)
		accept_all(h, now);
}

void ss_httpd_stats(const struct ss_httpd *h, struct ss_httpd_stats *s)
{
	*s = h->st;
}

void ss_httpd_free(struct ss_httpd *h)
{
	if (!h)
		return;
	for (unsigned i = 0; i < SS_HTTPD_CLIENTS; i++)
		if (h->c[i].fd >= 0)
			drop(h, &h->c[i], true);
	close(h->fd);
	free(h);
}
