/* SPDX-License-Identifier: MIT */
/*
 * The blocking client behind http_client.h.  A timeout shows up as EAGAIN
 * from send/recv and is reported as "timed out".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/http_client.h"

static const char *client_strerror(int e)
{
	return e == EAGAIN || e == EWOULDBLOCK ? "timed out" : strerror(e);
}

int http_client_connect(const char *host, uint16_t port, unsigned timeout_s,
			char *err, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval tv = { (time_t)timeout_s, 0 };
	int one = 1, fd;

	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		snprintf(err, errlen, "not an IPv4 address: %s", host);
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		snprintf(err, errlen, "cannot connect to %s:%u: %s", host,
			 port, client_strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *buf, size_t len, char *err,
		    size_t errlen)
{
	while (len) {
		ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			snprintf(err, errlen, "send: %s", client_strerror(errno));
			return -1;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

int http_client_get(int fd, const char *host, uint16_t port,
		    const char *target, http_client_sent_fn on_sent,
		    void *on_sent_arg, int *status, char *body,
		    size_t body_len, char *err, size_t errlen)
{
	char req[256], resp[HTTP_CLIENT_MAX_RESPONSE + 1];
	size_t got = 0, head = 0, want = 0;
	int n = snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: %s:%u\r\n"
			 "User-Agent: http-stall\r\n\r\n", target, host, port);

	if (n < 0 || (size_t)n >= sizeof(req)) {
		snprintf(err, errlen, "target too long: %s", target);
		return -1;
	}
	if (send_all(fd, req, (size_t)n, err, errlen))
		return -1;
	if (on_sent)
		on_sent(on_sent_arg);
	/* The head, then Content-Length bytes of body. */
	while (!head || got < head + want) {
		if (got == HTTP_CLIENT_MAX_RESPONSE) {
			snprintf(err, errlen, "response longer than %d bytes",
				 HTTP_CLIENT_MAX_RESPONSE);
			return -1;
		}
		ssize_t r = recv(fd, resp + got, HTTP_CLIENT_MAX_RESPONSE - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "recv: %s", client_strerror(errno));
			return -1;
		}
		if (r == 0) {
			snprintf(err, errlen, "connection closed after %zu bytes of the response", got);
			return -1;
		}
		got += (size_t)r;
		resp[got] = '\0';
		if (head)
			continue;
		char *end = strstr(resp, "\r\n\r\n");
		if (!end)
			continue;
		head = (size_t)(end - resp) + 4;
		if (sscanf(resp, "HTTP/1.%*1[01] %3d ", status) != 1) {
			snprintf(err, errlen, "bad status line");
			return -1;
		}
		char *cl = strcasestr(resp, "\r\ncontent-length:");
		if (!cl || cl > end) {
			snprintf(err, errlen, "response without Content-Length");
			return -1;
		}
		char *num = cl + strlen("\r\ncontent-length:"), *stop;
		unsigned long v = strtoul(num, &stop, 10);
		if (stop == num || v > HTTP_CLIENT_MAX_RESPONSE) {
			snprintf(err, errlen, "bad Content-Length");
			return -1;
		}
		want = v;
	}
	if (got > head + want) {
		snprintf(err, errlen, "%zu bytes after the response", got - head - want);
		return -1;
	}
	snprintf(body, body_len, "%.*s", (int)want, resp + head);
	return 0;
}
