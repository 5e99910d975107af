/* SPDX-License-Identifier: MIT */
/*
 * A small protocol-buffers writer: the wire format only (varints, 64-bit
 * fixed fields, length-delimited bytes and nested messages), into one
 * growing buffer.  Written for the Perfetto exporter (viz/export_perfetto.c),
 * which knows its field numbers; there is no schema, no reflection and no
 * generated code here.
 *
 * Nested messages: ss_pb_begin() reserves room for the length,
 * ss_pb_end() writes it as a minimal varint and moves the body back if it
 * needed fewer bytes.  Errors stick: after a failed allocation (or nesting
 * deeper than SS_PB_DEPTH) every call is a no-op and ss_pb_error() says
 * why; the caller checks once, at the end.
 *
 * Encoding (https://protobuf.dev/programming-guides/encoding/): a field is
 * a key, (number << 3) | wire type, then its value; intN, uintN, bool
 * and enums are varints (a negative int64 takes 10 bytes), fixed64 and
 * double are 8 little-endian bytes, strings, bytes and messages are a
 * varint length and the bytes.
 */
#ifndef STALLSCOPE_PB_H
#define STALLSCOPE_PB_H

#include <stddef.h>
#include <stdint.h>

#define SS_PB_DEPTH 8		/* nested messages open at once, at most */

struct ss_pb {
	uint8_t *buf;
	size_t len, cap;
	size_t open[SS_PB_DEPTH];	/* where each open message's body starts */
	unsigned depth;
	int err;			/* 0 or -errno, sticky */
};

/* Empties b for the next message (keeps its memory; clears no error). */
void ss_pb_reset(struct ss_pb *b);
void ss_pb_free(struct ss_pb *b);
static inline int ss_pb_error(const struct ss_pb *b) { return b->err; }

void ss_pb_varint(struct ss_pb *b, unsigned field, uint64_t v);
/* int32 / int64: two's complement as a varint (protobuf's int64, not sint64). */
static inline void ss_pb_int(struct ss_pb *b, unsigned field, int64_t v)
{
	ss_pb_varint(b, field, (uint64_t)v);
}
void ss_pb_fixed64(struct ss_pb *b, unsigned field, uint64_t v);
void ss_pb_double(struct ss_pb *b, unsigned field, double v);
void ss_pb_bytes(struct ss_pb *b, unsigned field, const void *p, size_t n);
void ss_pb_string(struct ss_pb *b, unsigned field, const char *s);
/* A nested message: fields written between begin and end are its body. */
void ss_pb_begin(struct ss_pb *b, unsigned field);
void ss_pb_end(struct ss_pb *b);

/* The bare varint encoding of v into out (at least 10 bytes); its length. */
size_t ss_pb_put_varint(uint8_t *out, uint64_t v);

#endif
