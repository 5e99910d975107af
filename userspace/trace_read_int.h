/* SPDX-License-Identifier: MIT */
/* The trace reader's state, shared by trace_read.c (opening, records,
 * the end) and trace_read_header.c (the file header). */
#ifndef STALLSCOPE_TRACE_READ_INT_H
#define STALLSCOPE_TRACE_READ_INT_H

#include <stdbool.h>
#include <sys/types.h>

#include "trace_int.h"

#define READ_BUF_BYTES (64 * 1024)

enum reader_state { READING_RECORDS, AT_END, FAILED };

struct ss_trace_reader {
	/* The source: a file (fd >= 0, read through buf) or memory. */
	int fd;
	const unsigned char *mem;
	size_t mem_len;
	unsigned char *buf;
	size_t buf_pos, buf_len;
	bool size_known;
	__u64 size;		/* file size, if size_known */

	__u64 off;		/* offset of the next unread byte */
	__u64 records;		/* records returned */
	enum reader_state state;
	int err;		/* when FAILED */
	struct ss_file_header hdr;
	struct ss_file_trailer trailer;
	struct ss_trace_meta meta;
	char *cmdline;		/* meta.argv points into it */
	char msg[320];
	bool partial;		/* ended without a trailer: msg says where */
	/* The events' span: the trailer's, peeked at when opened (if it has
	 * one), and what was handed out, checked against it at the end. */
	bool span_known;
	__u64 span_first, span_last;
	struct span seen;
	/* The block being handed out, event by event. */
	struct ss_ring_slot *block;	/* SS_BLOCK_MAX_SLOTS */
	unsigned char *packed;		/* a packed block's bytes, read */
	__u32 block_n, block_i, block_tid;
};

/* The first problem, kept as the reader's one line (err < 0 returned). */
int rd_fail(struct ss_trace_reader *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int rd_fail_io(struct ss_trace_reader *r, int err);
/* Up to n bytes of the source: the count, short only at its end; < 0 an
 * error. */
ssize_t rd_read(struct ss_trace_reader *r, void *dst, size_t n);
/* The file header and its TLVs into r->hdr and r->meta. */
int rd_read_header(struct ss_trace_reader *r);

#endif
