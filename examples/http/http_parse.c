/* SPDX-License-Identifier: MIT */
/*
 * The request-head parser behind http_parse.h: one forward pass over at
 * most HTTP_MAX_HEAD bytes, no allocation, no state kept between calls
 * (a caller with more bytes simply parses again from the start).
 *
 * Owns: the grammar checks of RFC 9112 sections 2-3 and 5-6 that a server
 * must make before it can trust the framing — token method, visible-ASCII
 * target, exact "HTTP/1.0" / "HTTP/1.1", field names that are tokens with
 * no whitespace before the colon, field values without CTLs, no obs-fold,
 * one agreed Content-Length, at most one Host (exactly one on HTTP/1.1).
 * Does not own: what the target means, field values beyond
 * Content-Length, Host and Connection, bodies other than by Content-Length.
 *
 * Leniencies, both allowed by RFC 9112: a bare LF ends a line as CRLF does
 * (section 2.2, as nginx does; a CR not followed by LF is still
 * malformed), and empty lines before the request line are skipped
 * (section 2.2, for clients that send a CRLF after a POST body).
 *
 * Every read is guarded by p < end, and end is at most buf + len, so no
 * input makes it read past the buffer; p only moves forward and each field
 * is compared once against four names, so a call is O(min(len,
 * HTTP_MAX_HEAD)).
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "http_parse.h"

/* Internal only: "ran out of bytes"; the entry point turns it into 0 or,
 * past HTTP_MAX_HEAD, into -EMSGSIZE. */
#define HTTP_INCOMPLETE (-EAGAIN)

/* tchar, RFC 9110 section 5.6.2. */
static bool http_is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return true;
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'':
	case '*': case '+': case '-': case '.': case '^': case '_':
	case '`': case '|': case '~':
		return true;
	default:
		return false;
	}
}

/* VCHAR: visible US-ASCII. */
static bool http_is_vchar(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e;
}

static bool http_is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static unsigned char http_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static bool http_equal_nocase(const char *a, size_t a_len, const char *b,
			      size_t b_len)
{
	if (a_len != b_len)
		return false;
	for (size_t i = 0; i < a_len; i++)
		if (http_lower((unsigned char)a[i]) !=
		    http_lower((unsigned char)b[i]))
			return false;
	return true;
}

#define HTTP_EQUAL_LIT(s, len, lit) \
	http_equal_nocase(s, len, lit, sizeof(lit) - 1)

/* Steps *pp over one line ending: CRLF or a bare LF. */
static int http_eol_skip(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp;

	if (p == end)
		return HTTP_INCOMPLETE;
	if (*p == '\r') {
		if (++p == end)
			return HTTP_INCOMPLETE;
		if (*p != '\n')
			return -EBADMSG;
	} else if (*p != '\n') {
		return -EBADMSG;
	}
	*pp = p + 1;
	return 0;
}

/* request-line = method SP request-target SP HTTP-version CRLF */
static int http_request_line_parse(const unsigned char **pp,
				   const unsigned char *end,
				   struct http_request *req)
{
	static const char version[] = "HTTP/1.";
	const unsigned char *p = *pp, *start;
	int err;

	/* Skip empty lines before the request line. */
	while (p < end && (*p == '\r' || *p == '\n'))
		if ((err = http_eol_skip(&p, end)))
			return err;

	for (start = p; p < end && http_is_tchar(*p); p++)
		;
	if (p == end)
		return HTTP_INCOMPLETE;
	if (p == start || *p != ' ')
		return -EBADMSG;
	req->method = (const char *)start;
	req->method_len = (size_t)(p - start);
	p++;

	for (start = p; p < end && http_is_vchar(*p); p++)
		;
	if (p == end)
		return HTTP_INCOMPLETE;
	if (p == start || *p != ' ')
		return -EBADMSG;
	req->target = (const char *)start;
	req->target_len = (size_t)(p - start);
	p++;

	for (size_t i = 0; i < sizeof(version) - 1; i++, p++) {
		if (p == end)
			return HTTP_INCOMPLETE;
		if (*p != (unsigned char)version[i])
			return -EBADMSG;
	}
	if (p == end)
		return HTTP_INCOMPLETE;
	if (*p != '0' && *p != '1')
		return -EBADMSG;
	req->version_minor = *p++ - '0';

	if ((err = http_eol_skip(&p, end)))
		return err;
	*pp = p;
	return 0;
}

/* Content-Length = 1*DIGIT, at most HTTP_MAX_CONTENT_LENGTH and small
 * enough that head + body still fits the ssize_t we return. */
static int http_content_length_parse(const char *s, size_t n, size_t *out)
{
	uint64_t max = HTTP_MAX_CONTENT_LENGTH, v = 0;

	if ((uint64_t)SSIZE_MAX - HTTP_MAX_HEAD < max)
		max = (uint64_t)SSIZE_MAX - HTTP_MAX_HEAD;
	if (n == 0)
		return -EBADMSG;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EBADMSG;
		/* v <= max <= 1e12 here, so this cannot wrap. */
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > max)
			return -EBADMSG;
	}
	*out = (size_t)v;
	return 0;
}

/* Connection = #connection-option: a comma list, any case, OWS around. */
static void http_connection_scan(const char *s, size_t n, bool *close,
				 bool *keep_alive)
{
	size_t i = 0;

	while (i < n) {
		size_t start, stop;

		while (i < n && http_is_ows((unsigned char)s[i]))
			i++;
		start = i;
		while (i < n && s[i] != ',')
			i++;
		stop = i;
		while (stop > start && http_is_ows((unsigned char)s[stop - 1]))
			stop--;
		if (HTTP_EQUAL_LIT(s + start, stop - start, "close"))
			*close = true;
		else if (HTTP_EQUAL_LIT(s + start, stop - start, "keep-alive"))
			*keep_alive = true;
		i++;	/* past the comma, or past n at the end */
	}
}

struct http_seen {
	bool content_length;
	bool transfer_encoding;
	unsigned hosts;
	bool close;
	bool keep_alive;
};

/* Acts on the fields that change framing or connection handling. */
static int http_field_check(const struct http_header *h,
			    struct http_request *req, struct http_seen *seen)
{
	if (HTTP_EQUAL_LIT(h->name, h->name_len, "content-length")) {
		size_t v;
		int err = http_content_length_parse(h->value, h->value_len, &v);

		if (err)
			return err;
		/* Repeats must agree (RFC 9112 section 6.3, item 5). */
		if (seen->content_length && v != req->content_length)
			return -EBADMSG;
		seen->content_length = true;
		req->content_length = v;
	} else if (HTTP_EQUAL_LIT(h->name, h->name_len, "host")) {
		/* More than one Host is a 400 (RFC 9112 section 3.2). */
		if (++seen->hosts > 1)
			return -EBADMSG;
	} else if (HTTP_EQUAL_LIT(h->name, h->name_len, "transfer-encoding")) {
		seen->transfer_encoding = true;
	} else if (HTTP_EQUAL_LIT(h->name, h->name_len, "connection")) {
		http_connection_scan(h->value, h->value_len, &seen->close,
				     &seen->keep_alive);
	}
	return 0;
}

/* field-line = field-name ":" OWS field-value OWS, then CRLF */
static int http_field_line_parse(const unsigned char **pp,
				 const unsigned char *end,
				 struct http_header *h)
{
	const unsigned char *p = *pp, *start, *last;
	int err;

	for (start = p; p < end && http_is_tchar(*p); p++)
		;
	if (p == end)
		return HTTP_INCOMPLETE;
	/* Whitespace (or anything else) before the colon is a 400 (RFC 9112
	 * section 5.1). */
	if (p == start || *p != ':')
		return -EBADMSG;
	h->name = (const char *)start;
	h->name_len = (size_t)(p - start);
	p++;

	while (p < end && http_is_ows(*p))
		p++;
	/* field-vchar = VCHAR / obs-text, with SP and HTAB inside; any other
	 * CTL (NUL, a lone CR, DEL...) is malformed. */
	for (start = last = p; p < end; p++) {
		if (*p == '\r' || *p == '\n')
			break;
		if (http_is_ows(*p))
			continue;
		if (*p < 0x21 || *p == 0x7f)
			return -EBADMSG;
		last = p + 1;
	}
	if ((err = http_eol_skip(&p, end)))
		return err;
	h->value = (const char *)start;
	h->value_len = (size_t)(last - start);
	*pp = p;
	return 0;
}

static int http_head_parse(const unsigned char *buf, const unsigned char *end,
			   struct http_request *req)
{
	const unsigned char *p = buf;
	struct http_seen seen = { 0 };
	int err;

	if ((err = http_request_line_parse(&p, end, req)))
		return err;

	for (;;) {
		if (p == end)
			return HTTP_INCOMPLETE;
		if (*p == '\r' || *p == '\n')
			break;
		/* obs-fold, or whitespace between the request line and the
		 * first field: both rejected (RFC 9112 sections 5.2, 2.2). */
		if (http_is_ows(*p))
			return -EBADMSG;
		if (req->num_headers == HTTP_MAX_HEADERS)
			return -EMSGSIZE;
		struct http_header *h = &req->headers[req->num_headers];
		if ((err = http_field_line_parse(&p, end, h)))
			return err;
		req->num_headers++;
		if ((err = http_field_check(h, req, &seen)))
			return err;
	}
	if ((err = http_eol_skip(&p, end)))
		return err;

	if (req->version_minor == 1 && seen.hosts == 0)
		return -EBADMSG;
	/* Checked last so that a malformed head is still a 400. */
	if (seen.transfer_encoding)
		return -ENOSYS;
	if (seen.close)
		req->keep_alive = false;
	else
		req->keep_alive = req->version_minor == 1 || seen.keep_alive;
	req->header_bytes = (size_t)(p - buf);
	return 0;
}

ssize_t http_parse_request(const char *buf, size_t len,
			   struct http_request *req)
{
	size_t limit = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD;
	int err;

	req->method = req->target = NULL;
	req->method_len = req->target_len = 0;
	req->version_minor = 0;
	req->num_headers = 0;
	req->content_length = 0;
	req->keep_alive = false;
	req->header_bytes = 0;
	if (len == 0)
		return 0;

	err = http_head_parse((const unsigned char *)buf,
			      (const unsigned char *)buf + limit, req);
	if (err == HTTP_INCOMPLETE)
		/* Out of bytes: with HTTP_MAX_HEAD of them, the head is
		 * longer than allowed. */
		return len >= HTTP_MAX_HEAD ? -EMSGSIZE : 0;
	if (err)
		return err;
	if (len - req->header_bytes < req->content_length)
		return 0;
	return (ssize_t)(req->header_bytes + req->content_length);
}

const struct http_header *http_find_header(const struct http_request *req,
					   const char *name)
{
	size_t name_len = strlen(name);

	for (size_t i = 0; i < req->num_headers; i++) {
		const struct http_header *h = &req->headers[i];

		if (http_equal_nocase(h->name, h->name_len, name, name_len))
			return h;
	}
	return NULL;
}
