/* SPDX-License-Identifier: MIT */
/*
 * The protocol-buffers wire-format writer (pb.h).  Owns: encoding and the
 * buffer.  Does not own: what the fields mean (the exporter).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pb.h"

enum { WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2 };

/* Room reserved for a nested message's length: a varint of up to 2^35 - 1,
 * far beyond any message this exporter builds. */
#define LEN_RESERVE 5

size_t ss_pb_put_varint(uint8_t *out, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

/* Makes room for n more bytes; false (and the error set) if it can't. */
static int room(struct ss_pb *b, size_t n)
{
	if (b->err)
		return 0;
	if (b->len + n <= b->cap)
		return 1;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + n)
		cap *= 2;
	uint8_t *p = realloc(b->buf, cap);
	if (!p) {
		b->err = -ENOMEM;
		return 0;
	}
	b->buf = p;
	b->cap = cap;
	return 1;
}

static void put_key(struct ss_pb *b, unsigned field, unsigned wire)
{
	b->len += ss_pb_put_varint(b->buf + b->len, ((uint64_t)field << 3) | wire);
}

void ss_pb_reset(struct ss_pb *b)
{
	b->len = 0;
	b->depth = 0;
}

void ss_pb_free(struct ss_pb *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

void ss_pb_varint(struct ss_pb *b, unsigned field, uint64_t v)
{
	if (!room(b, 20))
		return;
	put_key(b, field, WIRE_VARINT);
	b->len += ss_pb_put_varint(b->buf + b->len, v);
}

void ss_pb_fixed64(struct ss_pb *b, unsigned field, uint64_t v)
{
	if (!room(b, 18))
		return;
	put_key(b, field, WIRE_I64);
	for (int i = 0; i < 8; i++)
		b->buf[b->len++] = (uint8_t)(v >> (8 * i));
}

void ss_pb_double(struct ss_pb *b, unsigned field, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));	/* IEEE 754, as protobuf's double */
	ss_pb_fixed64(b, field, bits);
}

void ss_pb_bytes(struct ss_pb *b, unsigned field, const void *p, size_t n)
{
	if (n > SIZE_MAX - 30 || !room(b, 30 + n))
		return;
	put_key(b, field, WIRE_LEN);
	b->len += ss_pb_put_varint(b->buf + b->len, n);
	if (n)
		memcpy(b->buf + b->len, p, n);
	b->len += n;
}

void ss_pb_string(struct ss_pb *b, unsigned field, const char *s)
{
	ss_pb_bytes(b, field, s, strlen(s));
}

void ss_pb_begin(struct ss_pb *b, unsigned field)
{
	if (!room(b, 10 + LEN_RESERVE))
		return;
	if (b->depth == SS_PB_DEPTH) {
		b->err = -E2BIG;
		return;
	}
	put_key(b, field, WIRE_LEN);
	b->len += LEN_RESERVE;
	b->open[b->depth++] = b->len;
}

void ss_pb_end(struct ss_pb *b)
{
	uint8_t len[10];
	size_t body, n, start;

	if (b->err)
		return;
	if (!b->depth) {
		b->err = -EINVAL;	/* an end without a begin: a caller bug */
		return;
	}
	start = b->open[--b->depth];
	body = b->len - start;
	n = ss_pb_put_varint(len, body);
	if (n > LEN_RESERVE) {
		b->err = -E2BIG;
		return;
	}
	/* The length goes right after the key; the body follows it. */
	memmove(b->buf + start - LEN_RESERVE + n, b->buf + start, body);
	memcpy(b->buf + start - LEN_RESERVE, len, n);
	b->len -= LEN_RESERVE - n;
}
