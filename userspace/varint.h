/* SPDX-License-Identifier: MIT */
/*
 * LEB128 varints and zigzag, for the encodings that store differences:
 * watch's window (window.c) and packed ring blocks (ringpack.c).
 */
#ifndef STALLSCOPE_VARINT_H
#define STALLSCOPE_VARINT_H

#include <stddef.h>
#include <linux/types.h>

#define SS_VARINT_MAX 10	/* bytes of a 64-bit value, at most */

static inline unsigned char *ss_put_varint(unsigned char *p, __u64 v)
{
	while (v >= 0x80) {
		*p++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (unsigned char)v;
	return p;
}

/* The varint at p, into *v; the byte after it, or NULL (*v 0) if it does
 * not end before end or within SS_VARINT_MAX bytes. */
static inline const unsigned char *ss_get_varint(const unsigned char *p, const unsigned char *end,
						 __u64 *v)
{
	__u64 r = 0;

	for (unsigned shift = 0; p < end && shift < 7 * SS_VARINT_MAX; shift += 7) {
		unsigned char b = *p++;

		r |= (__u64)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = r;
			return p;
		}
	}
	*v = 0;
	return NULL;
}

/* A signed difference as an unsigned number that is small when it is. */
static inline __u64 ss_zigzag(__u64 d)
{
	return (d << 1) ^ (__u64)((__s64)d >> 63);
}

static inline __u64 ss_unzigzag(__u64 z)
{
	return (z >> 1) ^ (0 - (z & 1));
}

#endif
