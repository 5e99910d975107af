/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the example server's request parser: the input is
 * one connection's bytes, parsed as a pipelined stream the way the server
 * does (again at the end of each complete request, until 0 or an error).
 * ASan catches any read past the input; the checks below trap on a broken
 * invariant.  Seeds: tests/fuzz/corpus/http_parse/.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Iexamples \
 *     tests/fuzz/fuzz_http_parse.c examples/http/http_parse.c -o fz
 *   ./fz -max_total_time=60 CORPUS_COPY/ tests/fuzz/corpus/http_parse/
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http/http_parse.h"
#include "tests/fuzz/fuzz.h"

/* [p, p + n) lies within [lo, hi). */
static int span_within(const char *p, size_t n, const char *lo,
		       const char *hi)
{
	return p && p >= lo && p <= hi && n <= (size_t)(hi - p);
}

static void check_request(const struct http_request *req, ssize_t r,
			  const char *buf, size_t len)
{
	const char *end = buf + len;

	CHECK((size_t)r <= len);
	CHECK(req->header_bytes > 0 && req->header_bytes <= (size_t)r);
	CHECK(req->header_bytes <= HTTP_MAX_HEAD);
	CHECK(req->header_bytes + req->content_length == (size_t)r);
	CHECK(req->content_length <= HTTP_MAX_CONTENT_LENGTH);
	CHECK(req->version_minor == 0 || req->version_minor == 1);
	CHECK(req->method_len > 0 && req->target_len > 0);
	CHECK(span_within(req->method, req->method_len, buf, end));
	CHECK(span_within(req->target, req->target_len, buf, end));
	CHECK(req->num_headers <= HTTP_MAX_HEADERS);
	for (size_t i = 0; i < req->num_headers; i++) {
		const struct http_header *h = &req->headers[i];

		CHECK(h->name_len > 0);
		CHECK(span_within(h->name, h->name_len, buf,
				  buf + req->header_bytes));
		CHECK(span_within(h->value, h->value_len, buf,
				  buf + req->header_bytes));
		/* Looking a field up by its own name finds it or an
		 * earlier one of the same name. */
		static char name[HTTP_MAX_HEAD + 1];
		memcpy(name, h->name, h->name_len);
		name[h->name_len] = '\0';
		const struct http_header *found = http_find_header(req, name);
		CHECK(found && found <= h && found->name_len == h->name_len);
	}
	if (req->version_minor == 1)
		CHECK(http_find_header(req, "Host") != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct http_request req;
	size_t off = 0;

	while (off < size) {
		const char *p = buf + off;
		size_t len = size - off;
		ssize_t r = http_parse_request(p, len, &req);

		if (r == 0 && req.header_bytes != 0) {
			/* Head parsed, body awaited. */
			CHECK(req.header_bytes <= len &&
			      req.header_bytes <= HTTP_MAX_HEAD);
			CHECK(len - req.header_bytes < req.content_length);
		}
		if (r == 0 || r == -EBADMSG || r == -EMSGSIZE || r == -ENOSYS)
			break;
		CHECK(r > 0);
		check_request(&req, r, p, len);
		/* Incomplete one byte short, complete with exactly r bytes:
		 * whether a request is whole never depends on what follows. */
		CHECK(http_parse_request(p, (size_t)r - 1, &req) == 0);
		CHECK(http_parse_request(p, (size_t)r, &req) == r);
		check_request(&req, r, p, (size_t)r);
		off += (size_t)r;
	}
	CHECK(off <= size);
	return 0;
}
