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
#include "trace_int.h"

#define READ_BUF_BYTES (64 * 1024)

static const char *tlv_name(__u16 tag)
{
	static const char *const names[] = {
		[SS_TLV_HOST] = "HOST",
		[SS_TLV_KERNEL] = "KERNEL",
		[SS_TLV_CLOCK] = "CLOCK",
		[SS_TLV_START_MONO_NS] = "START_MONO_NS",
		[SS_TLV_START_REALTIME_NS] = "START_REALTIME_NS",
		[SS_TLV_PID] = "PID",
		[SS_TLV_COMM] = "COMM",
		[SS_TLV_CMDLINE] = "CMDLINE",
		[SS_TLV_WORKERS] = "WORKERS",
		[SS_TLV_MAPPING] = "MAPPING",
		[SS_TLV_RECORDER] = "RECORDER",
		[SS_TLV_RING_BYTES] = "RING_BYTES",
	};

	if (tag < sizeof(names) / sizeof(names[0]) && names[tag])
		return names[tag];
	return "unknown";
}


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
	__u32 block_n, block_i, block_tid;
};

__attribute__((format(printf, 3, 4)))
static int fail(struct ss_trace_reader *r, int err, const char *fmt, ...)
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

static int fail_io(struct ss_trace_reader *r, int err)
{
	char tmp[128];

	return fail(r, err, "read error at offset %llu: %s",
		    (unsigned long long)r->off, strerror_r(-err, tmp, sizeof(tmp)));
}

/* Copies up to n bytes from the source; fewer only at the end of the
 * file.  Returns the count or -errno. */
static ssize_t src_read(struct ss_trace_reader *r, void *dst, size_t n)
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
		if (r->buf_pos == r->buf_len) {
			ssize_t k = read(r->fd, r->buf, READ_BUF_BYTES);

			if (k < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			if (k == 0)
				break;
			r->buf_pos = 0;
			r->buf_len = (size_t)k;
		}
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

static void copy_str(char *dst, size_t size, const unsigned char *v, __u32 len)
{
	size_t n = len < size - 1 ? len : size - 1;

	memcpy(dst, v, n);
	dst[n] = '\0';
}

static int parse_cmdline(struct ss_trace_reader *r, __u64 at,
			 const unsigned char *v, __u32 len)
{
	unsigned argc = 0;
	char *copy;
	char **argv;

	if (len && v[len - 1] != '\0')
		return fail(r, -EBADMSG,
			    "corrupt at offset %llu: CMDLINE does not end with a NUL",
			    (unsigned long long)at);
	for (__u32 i = 0; i < len; i++)
		argc += v[i] == '\0';
	copy = malloc(len ? len : 1);
	argv = calloc(argc + 1, sizeof(*argv));
	if (!copy || !argv) {
		free(copy);
		free(argv);
		return fail(r, -ENOMEM, "out of memory reading the header");
	}
	memcpy(copy, v, len);
	for (__u32 i = 0, k = 0; k < argc; k++) {
		argv[k] = copy + i;
		i += (__u32)strlen(copy + i) + 1;
	}
	/* A repeated CMDLINE replaces the earlier one. */
	free(r->cmdline);
	free(r->meta.argv);
	r->cmdline = copy;
	r->meta.argv = argv;
	r->meta.argc = argc;
	return 0;
}

static int parse_mapping(struct ss_trace_reader *r, __u64 at,
			 const unsigned char *v, __u32 len)
{
	struct ss_mapping *m = &r->meta.mappings[r->meta.nmappings];
	struct ss_tlv_mapping fixed;
	const unsigned char *path = v + sizeof(fixed), *nul;
	size_t plen;

	if (len < sizeof(fixed) + 1)
		return fail(r, -EBADMSG,
			    "corrupt at offset %llu: MAPPING length %u, at least %zu expected",
			    (unsigned long long)at, len, sizeof(fixed) + 1);
	memcpy(&fixed, v, sizeof(fixed));
	if (fixed.build_id_len > sizeof(fixed.build_id))
		return fail(r, -EBADMSG,
			    "corrupt at offset %llu: mapping build id of %u bytes (at most 20)",
			    (unsigned long long)(at + 8 + 24), fixed.build_id_len);
	nul = memchr(path, '\0', len - sizeof(fixed));
	if (!nul)
		return fail(r, -EBADMSG,
			    "corrupt at offset %llu: mapping path is not NUL-terminated",
			    (unsigned long long)(at + 8 + sizeof(fixed)));
	plen = (size_t)(nul - path);
	if (plen >= sizeof(m->path))
		return fail(r, -EBADMSG,
			    "corrupt at offset %llu: mapping path of %zu bytes (at most %zu)",
			    (unsigned long long)(at + 8 + sizeof(fixed)), plen,
			    sizeof(m->path) - 1);
	m->start = fixed.start;
	m->end = fixed.end;
	m->offset = fixed.file_offset;
	m->build_id_len = fixed.build_id_len;
	memcpy(m->build_id, fixed.build_id, sizeof(m->build_id));
	memcpy(m->path, path, plen + 1);
	r->meta.nmappings++;
	return 0;
}

static int parse_scalar(struct ss_trace_reader *r, __u64 at, __u16 tag,
			const unsigned char *v, __u32 len, void *dst, __u32 size)
{
	if (len != size)
		return fail(r, -EBADMSG,
			    "corrupt at offset %llu: %s has length %u, expected %u",
			    (unsigned long long)at, tlv_name(tag), len, size);
	memcpy(dst, v, size);
	return 0;
}

static int parse_tlv(struct ss_trace_reader *r, __u64 at, __u16 tag,
		     const unsigned char *v, __u32 len)
{
#define STR(TAG, F) { TAG, offsetof(struct ss_trace_meta, F), sizeof(((struct ss_trace_meta *)0)->F) }
	static const struct { __u16 tag; size_t off, size; } strs[] = {
		STR(SS_TLV_HOST, host), STR(SS_TLV_KERNEL, kernel),
		STR(SS_TLV_CLOCK, clock), STR(SS_TLV_COMM, comm),
		STR(SS_TLV_RECORDER, recorder),
	};
#undef STR
	struct ss_trace_meta *m = &r->meta;

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		if (strs[i].tag == tag) {
			copy_str((char *)m + strs[i].off, strs[i].size, v, len);
			return 0;
		}
	}
	switch (tag) {
	case SS_TLV_START_MONO_NS:
		return parse_scalar(r, at, tag, v, len, &m->start_mono_ns, 8);
	case SS_TLV_START_REALTIME_NS:
		return parse_scalar(r, at, tag, v, len, &m->start_realtime_ns, 8);
	case SS_TLV_RING_BYTES:
		return parse_scalar(r, at, tag, v, len, &m->ring_bytes, 8);
	case SS_TLV_PID:
		return parse_scalar(r, at, tag, v, len, &m->pid, 4);
	case SS_TLV_WORKERS:
		return parse_scalar(r, at, tag, v, len, &m->workers, 4);
	case SS_TLV_CMDLINE:
		return parse_cmdline(r, at, v, len);
	case SS_TLV_MAPPING:
		return parse_mapping(r, at, v, len);
	default:
		return 0;	/* a newer writer's: skipped */
	}
}

/*
 * The TLVs in body (the header_len - 32 bytes after the file header), in
 * two passes: the first checks every length and counts the mappings, the
 * second fills the metadata.
 */
static int parse_tlvs(struct ss_trace_reader *r, const unsigned char *body,
		      size_t n)
{
	const __u64 base = sizeof(struct ss_file_header);
	const unsigned long long hlen = base + n;
	unsigned nmappings = 0;
	struct ss_tlv t;
	size_t pos;

	for (pos = 0; pos < n; pos += sizeof(t) + ALIGN8(t.len)) {
		/* pos and n are multiples of 8: a TLV header always fits. */
		memcpy(&t, body + pos, sizeof(t));
		if (t.len > n - pos - sizeof(t))
			return fail(r, -EBADMSG,
				    "corrupt at offset %llu: TLV length %u runs past the header end (%llu)",
				    (unsigned long long)(base + pos), t.len, hlen);
		nmappings += t.tag == SS_TLV_MAPPING;
	}
	if (nmappings) {
		r->meta.mappings = calloc(nmappings, sizeof(*r->meta.mappings));
		if (!r->meta.mappings)
			return fail(r, -ENOMEM, "out of memory reading the header");
	}
	for (pos = 0; pos < n; pos += sizeof(t) + ALIGN8(t.len)) {
		memcpy(&t, body + pos, sizeof(t));
		if (parse_tlv(r, base + pos, t.tag, body + pos + sizeof(t), t.len))
			return r->err;
	}
	return 0;
}

static int read_header(struct ss_trace_reader *r)
{
	struct ss_file_header h;
	unsigned char *body;
	size_t n;
	ssize_t got = src_read(r, &h, sizeof(h));
	int err;

	if (got < 0)
		return fail_io(r, (int)got);
	if (got == 0)
		return fail(r, -ENODATA, "truncated at offset 0: the file is empty");
	if (memcmp(h.magic, SS_FILE_MAGIC, got < 8 ? (size_t)got : 8))
		return fail(r, -EBADMSG,
			    "not a stallscope trace (bad magic at offset 0)");
	if (got < (ssize_t)sizeof(h))
		return fail(r, -ENODATA,
			    "truncated at offset %zd: file header cut short (32 bytes expected)",
			    got);
	if (h.version == 0)
		return fail(r, -EBADMSG, "corrupt at offset 8: format version 0");
	if (h.min_reader == 0 || h.min_reader > h.version)
		return fail(r, -EBADMSG,
			    "corrupt at offset 10: min_reader %u with format version %u",
			    h.min_reader, h.version);
	r->hdr = h;
	if (h.min_reader > SS_READER_VERSION)
		return fail(r, -EPROTONOSUPPORT,
			    "needs stallscope >= %u (file format %u, this reader reads up to %u)",
			    h.min_reader, h.version, SS_READER_VERSION);
	if (h.header_len < sizeof(h))
		return fail(r, -EBADMSG,
			    "corrupt at offset 12: header_len %u is shorter than the 32-byte file header",
			    h.header_len);
	if (h.header_len % 8)
		return fail(r, -EBADMSG,
			    "corrupt at offset 12: header_len %u is not a multiple of 8",
			    h.header_len);
	if (h.header_len > SS_HEADER_MAX)
		return fail(r, -EBADMSG,
			    "corrupt at offset 12: header_len %u is over the 1 MiB limit",
			    h.header_len);
	if (h.record_size != RECORD_BYTES)
		return fail(r, -EBADMSG,
			    "corrupt at offset 16: record_size %u, expected %zu",
			    h.record_size, RECORD_BYTES);
	if (r->size_known && r->size < h.header_len)
		return fail(r, -ENODATA,
			    "truncated at offset %llu: the header (header_len %u) runs past the end of the file",
			    (unsigned long long)r->size, h.header_len);

	r->meta.flags = h.flags;
	n = h.header_len - sizeof(h);
	body = malloc(n ? n : 1);
	if (!body)
		return fail(r, -ENOMEM, "out of memory reading the header");
	got = src_read(r, body, n);
	if (got < 0)
		err = fail_io(r, (int)got);
	else if ((size_t)got < n)
		err = fail(r, -ENODATA,
			   "truncated at offset %llu: the header (header_len %u) runs past the end of the file",
			   (unsigned long long)r->off, h.header_len);
	else
		err = parse_tlvs(r, body, n);
	free(body);
	return err;
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
		return fail(r, -ENOMEM, "out of memory");
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		int err = -errno;

		return fail(r, err, "cannot open: %s",
			    strerror_r(-err, tmp, sizeof(tmp)));
	}
	if (fstat(r->fd, &st) == 0 && S_ISREG(st.st_mode)) {
		r->size_known = true;
		r->size = (__u64)st.st_size;
		posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	}
	return peek_span(r, read_header(r));
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
	return peek_span(r, read_header(r));
}

const struct ss_trace_meta *ss_trace_meta(const struct ss_trace_reader *r)
{
	return &r->meta;
}

const struct ss_file_header *ss_trace_header(const struct ss_trace_reader *r)
{
	return &r->hdr;
}

/* A block's header was just read at offset at: its slots, checked. */
static int read_block(struct ss_trace_reader *r, const struct ss_ring_chunk *h,
		      __u64 at)
{
	size_t bytes = (size_t)h->count * sizeof(struct ss_ring_slot);
	size_t padded = (bytes + RECORD_BYTES - 1) / RECORD_BYTES * RECORD_BYTES;
	ssize_t got;

	if (!h->count || h->count > SS_BLOCK_MAX_SLOTS)
		return fail(r, -EBADMSG, "block at offset %llu has %u slots (1..%u)",
			    (unsigned long long)at, h->count, SS_BLOCK_MAX_SLOTS);
	if (!r->block &&
	    !(r->block = malloc(SS_BLOCK_MAX_SLOTS * sizeof(struct ss_ring_slot) +
				RECORD_BYTES)))
		return fail(r, -ENOMEM, "out of memory reading a block");
	got = src_read(r, r->block, padded);
	if (got < 0)
		return fail_io(r, (int)got);
	if ((size_t)got < padded) {
		/* Cut short: partial, like a file without its trailer. */
		snprintf(r->msg, sizeof(r->msg),
			 "partial: no trailer after %llu records (the file ends at offset %llu): "
			 "the recording was cut off; read up to its last complete record",
			 (unsigned long long)r->records, (unsigned long long)(r->off));
		r->partial = true;
		r->state = AT_END;
		return 0;
	}
	for (__u32 i = 0; i < h->count;) {
		unsigned k = ss_ringdec_whole(&r->block[i], h->count - i);
		if (!k)
			return fail(r, -EBADMSG,
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
	got = src_read(r, blk, sizeof(blk));
	if (got < 0)
		return fail_io(r, (int)got);
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
			return fail_io(r, more);
		if (more)
			return fail(r, -EBADMSG,
				    "corrupt at offset %llu: data after the trailer",
				    (unsigned long long)r->off);
		memcpy(&r->trailer, blk, sizeof(blk));
		if (r->trailer.records != r->records)
			return fail(r, -EBADMSG,
				    "trailer at offset %llu says %llu records, file has %llu",
				    (unsigned long long)at,
				    (unsigned long long)r->trailer.records,
				    (unsigned long long)r->records);
		if ((r->trailer.flags & SS_TRAILER_SPAN) &&
		    (!r->seen.any || r->trailer.first_ns != r->seen.first ||
		     r->trailer.last_ns != r->seen.last))
			return fail(r, -EBADMSG,
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
		return fail(r, -EBADMSG, "record at offset %llu has type 0",
			    (unsigned long long)at);
	if (rec->type == SS_RING_BLOCK) {
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
	free(r->cmdline);
	free(r->meta.argv);
	free(r->meta.mappings);
	free(r);
}

