/* SPDX-License-Identifier: MIT */
/*
 * A strict, allocation-free HTTP/1.1 request-head parser for the example
 * server (RFC 9112 framing, RFC 9110 tokens).
 *
 * Owns: splitting one request head out of a byte buffer into method,
 * target, version and header fields (pointers into the caller's buffer),
 * framing the body by Content-Length, the keep-alive decision.  Does not
 * own: buffering or reading from sockets, decoding or normalising the
 * target, chunked transfer coding (refused with -ENOSYS), trailers, or
 * anything about responses.
 */
#ifndef HTTP_PARSE_H
#define HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* A head longer than this is refused (-EMSGSIZE, answer 431); 8 KiB is the
 * common server default (nginx's large_client_header_buffers, Apache's
 * LimitRequestFieldSize). */
#define HTTP_MAX_HEAD 8192
#define HTTP_MAX_HEADERS 64
/* A larger Content-Length is malformed for us (1 TB; far beyond what an
 * example server will take, well inside a 64-bit size_t). */
#define HTTP_MAX_CONTENT_LENGTH 1000000000000ULL

struct http_header {
	const char *name;
	size_t name_len;
	const char *value;	/* optional whitespace around it trimmed */
	size_t value_len;
};

struct http_request {
	const char *method;
	size_t method_len;
	const char *target;
	size_t target_len;
	int version_minor;	/* HTTP/1.0 -> 0, HTTP/1.1 -> 1 */
	struct http_header headers[HTTP_MAX_HEADERS];
	size_t num_headers;
	size_t content_length;	/* 0 if absent */
	/* The version's default, changed by "close" / "keep-alive" tokens
	 * in Connection (close wins). */
	bool keep_alive;
	/* Bytes of the head: request line, header lines and the empty line
	 * (plus any empty lines ignored before the request line).  The body
	 * starts here. */
	size_t header_bytes;
};

/*
 * Parses one request from buf[0..len).  All pointers in *req point into
 * buf.  Returns:
 *   > 0        the length of the whole request (head + Content-Length
 *              body), once all of it is in buf.  Pipelined requests: call
 *              again at buf + that length.
 *   0          incomplete, nothing malformed so far: read more and call
 *              again with the longer buffer.  If req->header_bytes is
 *              non-zero the head is complete and parsed, and only the body
 *              (req->content_length bytes) is still awaited.
 *   -EBADMSG   malformed (answer 400 and close).
 *   -EMSGSIZE  head longer than HTTP_MAX_HEAD or more than HTTP_MAX_HEADERS
 *              fields (answer 431 and close).
 *   -ENOSYS    Transfer-Encoding present, so the body cannot be framed
 *              (answer 501 and close).
 * Malformed bytes are reported as soon as they are seen, even before the
 * head is complete.  On an error *req holds nothing useful.
 */
ssize_t http_parse_request(const char *buf, size_t len,
			   struct http_request *req);

/* The first header named name (NUL-terminated, matched case-insensitively),
 * or NULL if there is none. */
const struct http_header *http_find_header(const struct http_request *req,
					   const char *name);

#endif
