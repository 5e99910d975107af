/* SPDX-License-Identifier: MIT */
/*
 * TCP: non-blocking sockets registered with the I/O driver, and poll-style
 * accept, connect, read and write.  Each poll tries the syscall first; on
 * EAGAIN it waits for readiness with wsrt_io_wait (driver.c's protocol)
 * and returns PENDING.  Errors are negative errno; SIGPIPE is never raised
 * (MSG_NOSIGNAL), so a peer that resets mid-request is just -EPIPE or
 * -ECONNRESET.
 *
 * Owns: the socket fd and its registration.  Does not own: readiness
 * (driver.c).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

struct wsrt_tcp {
	struct wsrt_runtime *rt;
	struct wsrt_io *io;
	int fd;
	uint16_t local_port;
};

static int wrap(struct wsrt_runtime *rt, int fd, struct wsrt_tcp **out)
{
	struct wsrt_tcp *s = calloc(1, sizeof(*s));
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int err;

	if (!s) {
		close(fd);
		return -ENOMEM;
	}
	err = wsrt_io_register(&rt->driver, fd, &s->io);
	if (err) {
		close(fd);
		free(s);
		return err;
	}
	s->rt = rt;
	s->fd = fd;
	if (!getsockname(fd, (struct sockaddr *)&sa, &len) &&
	    sa.sin_family == AF_INET)
		s->local_port = ntohs(sa.sin_port);
	*out = s;
	return 0;
}

static int make_addr(const char *host, uint16_t port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	if (inet_pton(AF_INET, host ? host : "127.0.0.1", &sa->sin_addr) != 1)
		return -EINVAL;
	return 0;
}

/* A non-blocking TCP socket for host:port (*sa): its fd, or -errno. */
static int new_socket(const char *host, uint16_t port, struct sockaddr_in *sa)
{
	int err, fd;

	if ((err = make_addr(host, port, sa)))
		return err;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

int wsrt_tcp_listen(struct wsrt_runtime *rt, const char *host, uint16_t port,
		    int backlog, struct wsrt_tcp **out)
{
	struct sockaddr_in sa;
	int one = 1, fd, err;

	if ((fd = new_socket(host, port, &sa)) < 0)
		return fd;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, backlog > 0 ? backlog : 1024)) {
		err = -errno;
		close(fd);
		return err;
	}
	return wrap(rt, fd, out);
}

/* A call on a non-blocking socket failed (errno): -errno if that is its
 * result, 1 if it now waits for dir's readiness (pending), 0 to call it
 * again (interrupted, or ready since seq). */
static int failed(struct wsrt_io *io, enum wsrt_io_dir dir, uint64_t seq,
		  struct wsrt_cx *cx)
{
	if (errno == EINTR)
		return 0;
	if (errno != EAGAIN && errno != EWOULDBLOCK)
		return -errno;
	return wsrt_io_wait(io, dir, seq, cx) ? 1 : 0;
}

enum wsrt_poll wsrt_tcp_poll_accept(struct wsrt_tcp *l, struct wsrt_cx *cx,
				    struct wsrt_tcp **conn, int *ret)
{
	int err;

	if (!wsrt_coop_proceed(cx))
		return WSRT_PENDING;
	for (;;) {
		uint64_t seq = wsrt_io_seq(l->io, WSRT_IO_READ);
		int fd = accept4(l->fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			int one = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				   sizeof(one));
			*ret = wrap(l->rt, fd, conn);
			return WSRT_READY;
		}
		if ((err = failed(l->io, WSRT_IO_READ, seq, cx)) < 0) {
			*ret = err;
			return WSRT_READY;
		}
		if (err)
			return WSRT_PENDING;
	}
}

int wsrt_tcp_connect(struct wsrt_runtime *rt, const char *host, uint16_t port,
		     struct wsrt_tcp **out)
{
	struct sockaddr_in sa;
	int one = 1, fd, err;

	if ((fd = new_socket(host, port, &sa)) < 0)
		return fd;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    errno != EINPROGRESS) {
		err = -errno;
		close(fd);
		return err;
	}
	return wrap(rt, fd, out);
}

enum wsrt_poll wsrt_tcp_poll_connect(struct wsrt_tcp *s, struct wsrt_cx *cx,
				     int *ret)
{
	for (;;) {
		uint64_t seq = wsrt_io_seq(s->io, WSRT_IO_WRITE);
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		int err = 0;
		socklen_t elen = sizeof(err);

		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &elen))
			err = errno;
		if (err) {
			*ret = -err;
			return WSRT_READY;
		}
		if (!getpeername(s->fd, (struct sockaddr *)&peer, &plen)) {
			struct sockaddr_in sa;
			socklen_t len = sizeof(sa);
			if (!getsockname(s->fd, (struct sockaddr *)&sa, &len))
				s->local_port = ntohs(sa.sin_port);
			*ret = 0;
			return WSRT_READY;
		}
		if (errno != ENOTCONN) {
			*ret = -errno;
			return WSRT_READY;
		}
		if (wsrt_io_wait(s->io, WSRT_IO_WRITE, seq, cx))
			return WSRT_PENDING;
	}
}

/* recv or send until it moves bytes, fails, or would block (then wait for
 * that direction's readiness). */
static enum wsrt_poll poll_io(struct wsrt_tcp *s, struct wsrt_cx *cx,
			      enum wsrt_io_dir dir, void *buf, size_t len,
			      ssize_t *ret)
{
	int err;

	if (!wsrt_coop_proceed(cx))
		return WSRT_PENDING;
	for (;;) {
		uint64_t seq = wsrt_io_seq(s->io, dir);
		ssize_t n = dir == WSRT_IO_READ
				    ? recv(s->fd, buf, len, 0)
				    : send(s->fd, buf, len, MSG_NOSIGNAL);
		if (n >= 0) {
			*ret = n;
			return WSRT_READY;
		}
		if ((err = failed(s->io, dir, seq, cx)) < 0) {
			*ret = err;
			return WSRT_READY;
		}
		if (err)
			return WSRT_PENDING;
	}
}

enum wsrt_poll wsrt_tcp_poll_read(struct wsrt_tcp *s, struct wsrt_cx *cx,
				  void *buf, size_t len, ssize_t *ret)
{
	return poll_io(s, cx, WSRT_IO_READ, buf, len, ret);
}

enum wsrt_poll wsrt_tcp_poll_write(struct wsrt_tcp *s, struct wsrt_cx *cx,
				   const void *buf, size_t len, ssize_t *ret)
{
	/* send() only reads the buffer. */
	return poll_io(s, cx, WSRT_IO_WRITE, (void *)buf, len, ret);
}

int wsrt_tcp_shutdown(struct wsrt_tcp *s, int how)
{
	return shutdown(s->fd, how) ? -errno : 0;
}

void wsrt_tcp_close(struct wsrt_tcp *s)
{
	if (!s)
		return;
	wsrt_io_deregister(&s->rt->driver, s->io);
	wsrt_io_unref(s->io);	/* ours */
	close(s->fd);
	free(s);
}

int wsrt_tcp_fd(const struct wsrt_tcp *s)
{
	return s->fd;
}

uint16_t wsrt_tcp_local_port(const struct wsrt_tcp *s)
{
	return s->local_port;
}
