/* SPDX-License-Identifier: MIT */
/*
 * The protobuf writer (viz/pb.c) byte for byte: varints at every length
 * boundary, negative int64s, fixed64 and double little-endian, strings,
 * nested messages whose length needs one or several bytes, and the sticky
 * errors.  The exporter's whole output is checked by protoc in
 * tests/scenario/export.sh; this pins the encoding itself.
 */
#include <string.h>

#include "harness.h"
#include "pb.h"

/* b's bytes equal want[0..n). */
static void expect_bytes(const struct ss_pb *b, const uint8_t *want, size_t n,
			 int line)
{
	if (b->len != n)
		test_failf(__FILE__, line, "length %zu, want %zu", b->len, n);
	for (size_t i = 0; i < n; i++)
		if (b->buf[i] != want[i])
			test_failf(__FILE__, line, "byte %zu is 0x%02x, want 0x%02x",
				   i, b->buf[i], want[i]);
}
#define EXPECT(b, ...)                                                       \
	do {                                                                 \
		const uint8_t want_[] = { __VA_ARGS__ };                     \
		expect_bytes(b, want_, sizeof(want_), __LINE__);             \
	} while (0)

TEST(pb_varint_uses_seven_bits_a_byte)
{
	struct ss_pb b = { 0 };
	uint8_t out[10];

	ASSERT_EQ(ss_pb_put_varint(out, 0), 1);
	ASSERT_EQ(out[0], 0);
	ASSERT_EQ(ss_pb_put_varint(out, 127), 1);
	ASSERT_EQ(ss_pb_put_varint(out, 128), 2);
	ASSERT_EQ(out[0], 0x80);
	ASSERT_EQ(out[1], 0x01);
	ASSERT_EQ(ss_pb_put_varint(out, 16383), 2);
	ASSERT_EQ(ss_pb_put_varint(out, 16384), 3);
	ASSERT_EQ(ss_pb_put_varint(out, UINT64_MAX), 10);
	ASSERT_EQ(out[9], 0x01);

	/* The protobuf documentation's example: field 1 = 150. */
	ss_pb_varint(&b, 1, 150);
	EXPECT(&b, 0x08, 0x96, 0x01);
	ss_pb_free(&b);
}

TEST(pb_negative_int64_takes_ten_bytes)
{
	struct ss_pb b = { 0 };

	ss_pb_int(&b, 2, -1);
	EXPECT(&b, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
	ss_pb_free(&b);
}

TEST(pb_field_numbers_above_15_take_two_key_bytes)
{
	struct ss_pb b = { 0 };

	/* TracePacket.timestamp_clock_id = 58: key (58 << 3) | 0 = 464. */
	ss_pb_varint(&b, 58, 3);
	EXPECT(&b, 0xd0, 0x03, 0x03);
	ss_pb_free(&b);
}

TEST(pb_fixed64_and_double_are_little_endian)
{
	struct ss_pb b = { 0 };

	ss_pb_fixed64(&b, 47, 0x0102030405060708ULL);
	EXPECT(&b, 0xf9, 0x02, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01);
	ss_pb_reset(&b);
	ss_pb_double(&b, 5, 1.0);	/* 0x3ff0000000000000 */
	EXPECT(&b, 0x29, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f);
	ss_pb_free(&b);
}

TEST(pb_string_is_length_delimited)
{
	struct ss_pb b = { 0 };

	ss_pb_string(&b, 2, "testing");
	EXPECT(&b, 0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g');
	ss_pb_reset(&b);
	ss_pb_string(&b, 2, "");
	EXPECT(&b, 0x12, 0x00);
	ss_pb_free(&b);
}

TEST(pb_nested_message_gets_a_minimal_length)
{
	struct ss_pb b = { 0 };

	/* The documentation's example: field 3 = { field 1 = 150 }. */
	ss_pb_begin(&b, 3);
	ss_pb_varint(&b, 1, 150);
	ss_pb_end(&b);
	EXPECT(&b, 0x1a, 0x03, 0x08, 0x96, 0x01);
	ASSERT_EQ(ss_pb_error(&b), 0);
	ss_pb_free(&b);
}

TEST(pb_nested_messages_longer_than_127_bytes_and_deep)
{
	struct ss_pb b = { 0 };
	char s[300];

	memset(s, 'x', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	ss_pb_varint(&b, 1, 7);
	ss_pb_begin(&b, 2);		/* 2 { 3 { 4: "xxx..." } 5: 1 } */
	ss_pb_begin(&b, 3);
	ss_pb_string(&b, 4, s);		/* 1 + 2 + 299 = 302 bytes */
	ss_pb_end(&b);			/* 1 + 2 + 302 = 305 */
	ss_pb_varint(&b, 5, 1);		/* + 2 = 307 */
	ss_pb_end(&b);
	ASSERT_EQ(ss_pb_error(&b), 0);
	ASSERT_EQ(b.len, 2 + 1 + 2 + 307);
	ASSERT_EQ(b.buf[2], 0x12);
	ASSERT_EQ(b.buf[3], (307 & 0x7f) | 0x80);
	ASSERT_EQ(b.buf[4], 307 >> 7);
	ASSERT_EQ(b.buf[5], 0x1a);
	ASSERT_EQ(b.buf[6], (302 & 0x7f) | 0x80);
	ASSERT_EQ(b.buf[7], 302 >> 7);
	ASSERT_EQ(b.buf[8], 0x22);
	ASSERT_EQ(b.buf[9], (299 & 0x7f) | 0x80);
	ASSERT_EQ(b.buf[10], 299 >> 7);
	ASSERT_EQ(b.buf[11 + 298], 'x');
	ASSERT_EQ(b.buf[11 + 299], 0x28);
	ASSERT_EQ(b.buf[11 + 300], 0x01);
	ss_pb_free(&b);
}

TEST(pb_reset_keeps_nothing_of_the_last_message)
{
	struct ss_pb b = { 0 };

	ss_pb_begin(&b, 1);
	ss_pb_varint(&b, 1, 1);
	ss_pb_reset(&b);		/* mid-message: dropped with it */
	ss_pb_varint(&b, 1, 2);
	EXPECT(&b, 0x08, 0x02);
	ASSERT_EQ(b.depth, 0);
	ss_pb_free(&b);
}

TEST(pb_errors_stick_and_stop_writing)
{
	struct ss_pb b = { 0 };

	ss_pb_end(&b);			/* an end without a begin */
	ASSERT_NE(ss_pb_error(&b), 0);
	ss_pb_varint(&b, 1, 1);
	ASSERT_EQ(b.len, 0);
	ss_pb_free(&b);

	for (int i = 0; i <= SS_PB_DEPTH; i++)	/* one level too deep */
		ss_pb_begin(&b, 1);
	ASSERT_NE(ss_pb_error(&b), 0);
	ss_pb_free(&b);
}

TEST(pb_grows_past_its_first_allocation)
{
	struct ss_pb b = { 0 };

	for (int i = 0; i < 10000; i++)
		ss_pb_varint(&b, 1, (uint64_t)i);
	ASSERT_EQ(ss_pb_error(&b), 0);
	/* 128 one-byte values, the rest two bytes, each after a key byte. */
	ASSERT_EQ(b.len, 128 * 2 + (10000 - 128) * 3);
	ss_pb_free(&b);
}
