/* SPDX-License-Identifier: MIT */
/*
 * The trace file's streaming reader, which every consumer uses (layout in
 * trace.h, for users docs/trace-format.md).
 *
 * The reader trusts nothing it reads.  Each length is checked against the
 * bytes that remain before it is used; the header is read whole only
 * after header_len was checked (at most SS_HEADER_MAX, within the file);
 * records are read one 64-byte block at a time through a fixed buffer, so
 * memory never depends on the number of records and time is linear in
 * the file size.  The first problem found is kept as one line naming its
 * byte offset, and sticks.
 *
 * Deliberately not here: what record arguments mean (schema.c) and any
 * ordering check on timestamps (ring-buffer order is reservation order,
 * not time order).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ringdec.h"
#include "ringpack.h"
#include "trace_read_int.h"


__attribute__((format(printf, 3, 4)))
int rd_fail(struct ss_trace_reader *r, int err, const char *fmt, ...)
{
	va_list ap;

	if (r->state == FAILED)
		return r->err;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	r->state = FAILED;
	r->err = err;
	return err;
}

int rd_fail_io(struct ss_trace_reader *r, int err)
{
	char tmp[128];

	return rd_fail(r, err, "read error at offset %llu: %s",
		    (unsigned long long)r->off, strerror_r(-err, tmp, sizeof(tmp)));
}

/* The file's buffer holds unread bytes: 1, after a read if it had to;
 * 0 at the end of the file; -errno. */
static int refill(struct ss_trace_reader *r)
{
	while (r->buf_pos == r->buf_len) {
		ssize_t k = read(r->fd, r->buf, READ_BUF_BYTES);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			return 0;
		r->buf_pos = 0;
		r->buf_len = (size_t)k;
	}
	return 1;
}

/* Copies up to n bytes from the source; fewer only at the end of the
 * file.  Returns the count or -errno. */
ssize_t rd_read(struct ss_trace_reader *r, void *dst, size_t n)
{
	unsigned char *d = dst;
	size_t got = 0;

	if (r->fd < 0) {
		size_t avail = r->mem_len - (size_t)r->off;

		got = n < avail ? n : avail;
		memcpy(d, r->mem + r->off, got);
		r->off += got;
		return (ssize_t)got;
	}
	while (got < n) {
		int more = refill(r);

		if (more < 0)
			return more;
		if (!more)
			break;
		size_t k = r->buf_len - r->buf_pos;

		if (k > n - got)
			k = n - got;
		memcpy(d + got, r->buf + r->buf_pos, k);
		r->buf_pos += k;
		got += k;
		r->off += k;
	}
	return (ssize_t)got;
}

/* 1 if bytes remain past r->off, 0 at the end, -errno. */
static int src_has_more(struct ss_trace_reader *r)
{
	if (r->fd < 0)
		return r->off < r->mem_len;
	return refill(r);
}

static struct ss_trace_reader *reader_new(void)
{
	struct ss_trace_reader *r = calloc(1, sizeof(*r));

	if (r)
		r->fd = -1;
	return r;
}

/* The trailer's span, read ahead (a file or memory, not a pipe): only
 * trusted for laying out a view; checked when the trailer is reached. */
static int peek_span(struct ss_trace_reader *r, int ret)
{
	struct ss_file_trailer t;

	if (ret || !r->size_known || r->size < r->off + sizeof(t))
		return ret;
	if (r->mem)
		memcpy(&t, r->mem + r->size - sizeof(t), sizeof(t));
	else if (pread(r->fd, &t, sizeof(t), (off_t)(r->size - sizeof(t))) != (ssize_t)sizeof(t))
		return ret;
	if (!memcmp(t.magic, SS_TRAILER_MAGIC, 8) && (t.flags & SS_TRAILER_SPAN) &&
	    t.first_ns <= t.last_ns) {
		r->span_known = true;
		r->span_first = t.first_ns;
		r->span_last = t.last_ns;
	}
	return ret;
}

bool ss_trace_span(const struct ss_trace_reader *r, __u64 *first, __u64 *last)
{
	if (!r->span_known)
		return false;
	*first = r->span_first;
	*last = r->span_last;
	return true;
}

int ss_trace_open(const char *path, struct ss_trace_reader **out)
{
	struct ss_trace_reader *r = reader_new();
	char tmp[128];
	struct stat st;

	*out = r;
	if (!r)
		return -ENOMEM;
	r->buf = malloc(READ_BUF_BYTES);
	if (!r->buf)
		return rd_fail(r, -ENOMEM, "out of memory");
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		int err = -errno;

		return rd_fail(r, err, "cannot open: %s",
			    strerror_r(-err, tmp, sizeof(tmp)));
	}
	if (fstat(r->fd, &st) == 0 && S_ISREG(st.st_mode)) {
		r->size_known = true;
		r->size = (__u64)st.st_size;
		posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	}
	return peek_span(r, rd_read_header(r));
}

int ss_trace_open_mem(const void *buf, size_t len, struct ss_trace_reader **out)
{
	struct ss_trace_reader *r = reader_new();

	*out = r;
	if (!r)
		return -ENOMEM;
	r->mem = buf;
	r->mem_len = buf ? len : 0;
	r->size_known = true;
	r->size = r->mem_len;
	return peek_span(r, rd_read_header(r));
}

const struct ss_trace_meta *ss_trace_meta(const struct ss_trace_reader *r)
{
	return &r->meta;
}

const struct ss_file_header *ss_trace_header(const struct ss_trace_reader *r)
{
	return &r->hdr;
}

/* A block cut short by the file's end: partial, like a file without its
 * trailer.  0. */
static int block_cut_short(struct ss_trace_reader *r)
{
	snprintf(r->msg, sizeof(r->msg),
		 "partial: no trailer after %llu records (the file ends at offset %llu): "
		 "the recording was cut off; read up to its last complete record",
		 (unsigned long long)r->records, (unsigned long long)(r->off));
	r->partial = true;
	r->state = AT_END;
	return 0;
}

/* A packed block's bytes (after its header, at offset at), unpacked into
 * r->block: 1, 0 (cut short), or the error.  *padded: the bytes it took. */
static int read_packed(struct ss_trace_reader *r, const struct ss_ring_chunk *h, __u64 at,
		       size_t *padded)
{
	unsigned char *p;
	__u32 len;
	ssize_t got;

	if (!r->packed && !(r->packed = malloc(SS_BLOCK_MAX_SLOTS * SS_RINGPACK_SLOT_MAX +
					       2 * RECORD_BYTES)))
		return rd_fail(r, -ENOMEM, "out of memory reading a block");
	p = r->packed;
	got = rd_read(r, p, RECORD_BYTES);
	if (got < 0)
		return rd_fail_io(r, (int)got);
	if (got < (ssize_t)RECORD_BYTES)
		return block_cut_short(r);
	memcpy(&len, p, sizeof(len));
	/* At least 3 bytes a slot, at most SS_RINGPACK_SLOT_MAX. */
	if (len < 3ULL * h->count || len > (__u64)SS_RINGPACK_SLOT_MAX * h->count)
		return rd_fail(r, -EBADMSG, "packed block at offset %llu: %u bytes for %u slots",
			       (unsigned long long)at, len, h->count);
	*padded = (sizeof(len) + len + RECORD_BYTES - 1) / RECORD_BYTES * RECORD_BYTES;
	got = rd_read(r, p + RECORD_BYTES, *padded - RECORD_BYTES);
	if (got < 0)
		return rd_fail_io(r, (int)got);
	if ((size_t)got < *padded - RECORD_BYTES)
		return block_cut_short(r);
	if (ss_ringpack_decode(p + sizeof(len), len, r->block, h->count))
		return rd_fail(r, -EBADMSG, "packed block at offset %llu: corrupt slots",
			       (unsigned long long)at);
	return 1;
}

/* A block's header was just read at offset at (an SS_RING_BLOCK's or an
 * SS_RING_PACKED's): its slots, checked. */
static int read_block(struct ss_trace_reader *r, const struct ss_ring_chunk *h,
		      __u64 at)
{
	size_t bytes = (size_t)h->count * sizeof(struct ss_ring_slot);
	size_t padded = (bytes + RECORD_BYTES - 1) / RECORD_BYTES * RECORD_BYTES;
	ssize_t got;

	if (!h->count || h->count > SS_BLOCK_MAX_SLOTS)
		return rd_fail(r, -EBADMSG, "block at offset %llu has %u slots (1..%u)",
			    (unsigned long long)at, h->count, SS_BLOCK_MAX_SLOTS);
	if (!r->block &&
	    !(r->block = malloc(SS_BLOCK_MAX_SLOTS * sizeof(struct ss_ring_slot) +
				RECORD_BYTES)))
		return rd_fail(r, -ENOMEM, "out of memory reading a block");
	if (h->type == SS_RING_PACKED) {
		int ret = read_packed(r, h, at, &padded);

		if (ret <= 0)
			return ret;
	} else {
		got = rd_read(r, r->block, padded);
		if (got < 0)
			return rd_fail_io(r, (int)got);
		if ((size_t)got < padded)
			return block_cut_short(r);
	}
	for (__u32 i = 0; i < h->count;) {
		unsigned k = ss_ringdec_whole(&r->block[i], h->count - i);
		if (!k)
			return rd_fail(r, -EBADMSG,
				    "block at offset %llu: slot %u is not part of a whole known event",
				    (unsigned long long)at, i);
		i += k;
	}
	r->records += 1 + padded / RECORD_BYTES;
	r->block_n = h->count;
	r->block_i = 0;
	r->block_tid = h->tid;
	return 1;
}

/* An event handed out: its time into the span seen. */
static int seen(struct ss_trace_reader *r, __u64 ts)
{
	span_add(&r->seen, ts);
	return 1;
}

int ss_trace_next(struct ss_trace_reader *r, struct ss_record *rec)
{
	unsigned char blk[RECORD_BYTES];
	__u64 at;
	ssize_t got;
	int more;

	if (r->state == AT_END)
		return 0;
	if (r->state == FAILED)
		return r->err;
	while (r->block_i < r->block_n) {
		unsigned k = ss_ringdec_one(&r->block[r->block_i],
					    r->block_n - r->block_i, r->block_tid, rec);
		r->block_i += k;	/* checked when read: never 0 */
		if (k)
			return seen(r, rec->ts);
	}
	at = r->off;
	got = rd_read(r, blk, sizeof(blk));
	if (got < 0)
		return rd_fail_io(r, (int)got);
	/* No trailer, or one cut short: a recording cut off (its writer
	 * killed, the disk full): what is complete is read. */
	if (got < (ssize_t)sizeof(blk)) {
		snprintf(r->msg, sizeof(r->msg),
			 "partial: no trailer after %llu records (the file ends at offset %llu): "
			 "the recording was cut off; read up to its last complete record",
			 (unsigned long long)r->records, (unsigned long long)(at + (__u64)got));
		r->partial = true;
		r->state = AT_END;
		return 0;
	}
	if (!memcmp(blk, SS_TRAILER_MAGIC, 8)) {
		more = src_has_more(r);
		if (more < 0)
			return rd_fail_io(r, more);
		if (more)
			return rd_fail(r, -EBADMSG,
				    "corrupt at offset %llu: data after the trailer",
				    (unsigned long long)r->off);
		memcpy(&r->trailer, blk, sizeof(blk));
		if (r->trailer.records != r->records)
			return rd_fail(r, -EBADMSG,
				    "trailer at offset %llu says %llu records, file has %llu",
				    (unsigned long long)at,
				    (unsigned long long)r->trailer.records,
				    (unsigned long long)r->records);
		if ((r->trailer.flags & SS_TRAILER_SPAN) &&
		    (!r->seen.any || r->trailer.first_ns != r->seen.first ||
		     r->trailer.last_ns != r->seen.last))
			return rd_fail(r, -EBADMSG,
				    "trailer at offset %llu says the events span %llu-%llu ns, "
				    "the file's span %llu-%llu",
				    (unsigned long long)at,
				    (unsigned long long)r->trailer.first_ns,
				    (unsigned long long)r->trailer.last_ns,
				    (unsigned long long)r->seen.first,
				    (unsigned long long)r->seen.last);
		r->state = AT_END;
		return 0;
	}
	memcpy(rec, blk, sizeof(blk));
	if (rec->type == SS_NONE)
		return rd_fail(r, -EBADMSG, "record at offset %llu has type 0",
			    (unsigned long long)at);
	if (rec->type == SS_RING_BLOCK || rec->type == SS_RING_PACKED) {
		struct ss_ring_chunk h;
		int ret;

		memcpy(&h, blk, sizeof(h));
		if ((ret = read_block(r, &h, at)) <= 0)
			return ret;
		return ss_trace_next(r, rec);
	}
	r->records++;
	return seen(r, rec->ts);
}

__u64 ss_trace_offset(const struct ss_trace_reader *r)
{
	return r->off;
}

const struct ss_file_trailer *ss_trace_trailer(const struct ss_trace_reader *r)
{
	return r->state == AT_END && !r->partial ? &r->trailer : NULL;
}

const char *ss_trace_partial(const struct ss_trace_reader *r)
{
	return r->partial ? r->msg : NULL;
}

const char *ss_trace_error(const struct ss_trace_reader *r)
{
	return r->msg;
}

void ss_trace_close(struct ss_trace_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	free(r->buf);
	free(r->block);
	free(r->packed);
	free(r->cmdline);
	free(r->meta.argv);
	free(r->meta.mappings);
	free(r);
}

