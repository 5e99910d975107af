/* SPDX-License-Identifier: MIT */
/*
 * The trace file's writer (layout in trace.h, for users
 * docs/trace-format.md): the header and its TLVs at once, then records
 * and ring blocks through one buffer, the trailer last; the file is
 * PATH.partial until ss_trace_finish renames it (outfile.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blockwrite.h"
#include "outfile.h"
#include "ringdec.h"
#include "ringpack.h"
#include "trace_int.h"

#define WRITE_BUF_BYTES (1024 * 1024)

/*
 * The writer goes around the page cache (O_DIRECT) where the filesystem
 * allows it: on this project's machines a page-cache write costs about
 * 1.5 ns of CPU per byte (fresh pages), which at a million events a
 * second is a core's worth, taken from the program being traced; a
 * direct write costs a tenth of that.  Direct writes are whole aligned
 * blocks from an aligned buffer; what is left over (less than a block)
 * waits for the next flush, and at the end goes through the page cache.
 * Where O_DIRECT is refused (tmpfs), every write goes through the cache.
 * Full buffers are written by writer threads (blockwrite.c) while the
 * next one fills.
 */
struct ss_trace_writer {
	struct ss_outfile of;	/* of.fd: the partial file */
	struct ss_bw *bw;	/* its writers */
	int err;		/* the first write error; sticks */
	__u64 records;		/* accepted by ss_trace_write() */
	struct span span;	/* the events' (the trailer's) */
	bool span_unknown;	/* a block record was passed as a record:
				 * its events unseen here */
	size_t used;		/* bytes waiting in buf */
	unsigned char *buf;	/* WRITE_BUF_BYTES, SS_BW_ALIGN-aligned */
	unsigned char *pack;	/* a block's slots packed (PACK_BYTES) */
};

/* A packed block is kept only if smaller than its slots. */
#define PACK_BYTES (SS_BLOCK_MAX_SLOTS * sizeof(struct ss_ring_slot))

/* A growing byte buffer for the header; the first error sticks. */
struct bytes {
	unsigned char *p;
	size_t len, cap;
	int err;
};

static void bytes_put(struct bytes *b, const void *data, size_t n)
{
	if (b->err)
		return;
	if (n > SS_HEADER_MAX - b->len) {
		b->err = -E2BIG;	/* no reader would accept it */
		return;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		unsigned char *p;

		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->err = -ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void bytes_pad8(struct bytes *b)
{
	static const unsigned char zeros[8];

	bytes_put(b, zeros, ALIGN8(b->len) - b->len);
}

static void put_tlv(struct bytes *b, __u16 tag, const void *value, size_t len)
{
	struct ss_tlv t = { .tag = tag };

	if (len > SS_HEADER_MAX) {
		b->err = b->err ? b->err : -E2BIG;
		return;
	}
	t.len = (__u32)len;
	bytes_put(b, &t, sizeof(t));
	bytes_put(b, value, len);
	bytes_pad8(b);
}

/* A string field of struct ss_trace_meta, up to its NUL or its end. */
static void put_str(struct bytes *b, __u16 tag, const char *s, size_t size)
{
	put_tlv(b, tag, s, strnlen(s, size - 1));
}

static void put_mapping(struct bytes *b, const struct ss_mapping *m)
{
	struct ss_tlv_mapping v = {
		.start = m->start,
		.end = m->end,
		.file_offset = m->offset,
		.build_id_len = m->build_id_len,
	};
	size_t plen = strnlen(m->path, sizeof(m->path) - 1);
	struct ss_tlv t = {
		.tag = SS_TLV_MAPPING,
		.len = (__u32)(sizeof(v) + plen + 1),
	};

	memcpy(v.build_id, m->build_id, m->build_id_len);
	bytes_put(b, &t, sizeof(t));
	bytes_put(b, &v, sizeof(v));
	bytes_put(b, m->path, plen);
	bytes_put(b, "", 1);
	bytes_pad8(b);
}

static void put_cmdline(struct bytes *b, char *const *argv, unsigned argc)
{
	size_t len = 0;
	struct ss_tlv t = { .tag = SS_TLV_CMDLINE };

	for (unsigned i = 0; i < argc; i++) {
		len += strlen(argv[i]) + 1;
		if (len > SS_HEADER_MAX) {
			b->err = b->err ? b->err : -E2BIG;
			return;
		}
	}
	t.len = (__u32)len;
	bytes_put(b, &t, sizeof(t));
	for (unsigned i = 0; i < argc; i++)
		bytes_put(b, argv[i], strlen(argv[i]) + 1);
	bytes_pad8(b);
}

static int build_header(const struct ss_trace_meta *m, struct bytes *b)
{
	struct ss_file_header h = {
		.version = SS_FILE_VERSION,
		.min_reader = SS_FILE_VERSION,
		.record_size = RECORD_BYTES,
		.flags = m->flags,
	};
	const char *clock = m->clock[0] ? m->clock : "CLOCK_MONOTONIC";

	if ((m->argc && !m->argv) || (m->nmappings && !m->mappings))
		return -EINVAL;
	for (unsigned i = 0; i < m->argc; i++)
		if (!m->argv[i])
			return -EINVAL;
	for (unsigned i = 0; i < m->nmappings; i++)
		if (m->mappings[i].build_id_len > sizeof(m->mappings[i].build_id))
			return -EINVAL;

	memcpy(h.magic, SS_FILE_MAGIC, sizeof(h.magic));
	bytes_put(b, &h, sizeof(h));
	put_str(b, SS_TLV_HOST, m->host, sizeof(m->host));
	put_str(b, SS_TLV_KERNEL, m->kernel, sizeof(m->kernel));
	put_str(b, SS_TLV_CLOCK, clock, sizeof(m->clock));
	put_tlv(b, SS_TLV_START_MONO_NS, &m->start_mono_ns, 8);
	put_tlv(b, SS_TLV_START_REALTIME_NS, &m->start_realtime_ns, 8);
	put_tlv(b, SS_TLV_PID, &m->pid, 4);
	put_str(b, SS_TLV_COMM, m->comm, sizeof(m->comm));
	put_cmdline(b, m->argv, m->argc);
	put_tlv(b, SS_TLV_WORKERS, &m->workers, 4);
	for (unsigned i = 0; i < m->nmappings; i++)
		put_mapping(b, &m->mappings[i]);
	put_str(b, SS_TLV_RECORDER, m->recorder, sizeof(m->recorder));
	put_tlv(b, SS_TLV_RING_BYTES, &m->ring_bytes, 8);
	if (b->err)
		return b->err;
	/* Every TLV ends 8-aligned, so the header length is too. */
	((struct ss_file_header *)b->p)->header_len = (__u32)b->len;
	return 0;
}

int ss_trace_create(const char *path, const struct ss_trace_meta *meta,
		    struct ss_trace_writer **out)
{
	struct bytes b = { 0 };
	struct ss_trace_writer *w;
	int err;

	*out = NULL;
	err = build_header(meta, &b);
	if (err)
		goto out;
	w = calloc(1, sizeof(*w));
	if (!w) {
		err = -ENOMEM;
		goto out;
	}
	err = ss_outfile_create(&w->of, path, 0600);
	if (!err && (err = ss_bw_new(w->of.fd, WRITE_BUF_BYTES, &w->bw, &w->buf)))
		ss_outfile_discard(&w->of);
	if (err) {
		free(w);
		goto out;
	}
	/* The header goes through the buffer: direct writes start aligned. */
	w->pack = malloc(PACK_BYTES);
	if (!w->pack || b.len > WRITE_BUF_BYTES) {
		err = w->pack ? -E2BIG : -ENOMEM;
		ss_trace_abort(w);
		goto out;
	}
	memcpy(w->buf, b.p, b.len);
	w->used = b.len;
	*out = w;
out:
	free(b.p);
	return err;
}

int ss_trace_fd(const struct ss_trace_writer *w)
{
	return w->of.fd;
}

const char *ss_trace_partial_path(const struct ss_trace_writer *w)
{
	return w->of.tmp;
}

__u64 ss_trace_written(const struct ss_trace_writer *w)
{
	return w->records;
}

/* Hands the buffer's whole blocks (all of it, through the page cache) to
 * the writers; the rest stays for the next time. */
static int write_out(struct ss_trace_writer *w)
{
	size_t n = w->used;
	unsigned char *next;

	if (w->err)
		return w->err;
	if (ss_bw_direct(w->bw))
		n -= n % SS_BW_ALIGN;
	if (!n)
		return 0;
	next = ss_bw_submit(w->bw, w->buf, n, w->used - n, &w->err);
	if (!next)
		return w->err;
	w->buf = next;
	w->used -= n;
	return 0;
}

int ss_trace_push(struct ss_trace_writer *w)
{
	return write_out(w);
}

int ss_trace_flush(struct ss_trace_writer *w)
{
	if (!write_out(w))
		w->err = ss_bw_drain(w->bw);
	return w->err;
}

static int append(struct ss_trace_writer *w, const void *data, size_t n)
{
	const unsigned char *p = data;

	while (n) {
		size_t k = WRITE_BUF_BYTES - w->used;

		if (k > n)
			k = n;
		memcpy(w->buf + w->used, p, k);
		w->used += k;
		p += k;
		n -= k;
		if (w->used == WRITE_BUF_BYTES && write_out(w))
			return w->err;
	}
	return 0;
}

int ss_trace_write(struct ss_trace_writer *w, const struct ss_record *recs,
		   size_t n)
{
	if (w->err)
		return w->err;
	for (size_t i = 0; i < n; i++)
		if (recs[i].type == SS_NONE ||
		    !memcmp(&recs[i], SS_TRAILER_MAGIC, 8))
			return -EINVAL;
	if (append(w, recs, n * RECORD_BYTES))
		return w->err;
	w->records += n;
	for (size_t i = 0; i < n; i++) {
		if (recs[i].type == SS_RING_BLOCK)
			w->span_unknown = true;
		else
			span_add(&w->span, recs[i].ts);
	}
	return 0;
}

struct ss_ring_slot *ss_trace_block_begin(struct ss_trace_writer *w,
					  const struct ss_ring_chunk *hdr, __u32 n)
{
	size_t need = sizeof(*hdr) + (size_t)n * sizeof(struct ss_ring_slot) + RECORD_BYTES;
	struct ss_ring_chunk *h;

	if (w->err || !n || n > SS_BLOCK_MAX_SLOTS)
		return NULL;
	if (WRITE_BUF_BYTES - w->used < need && write_out(w))
		return NULL;
	if (WRITE_BUF_BYTES - w->used < need)	/* (a direct write leaves < 4 KiB) */
		return NULL;
	h = (struct ss_ring_chunk *)(w->buf + w->used);
	*h = *hdr;
	h->type = SS_RING_BLOCK;
	h->count = n;
	return (struct ss_ring_slot *)(h + 1);
}

int ss_trace_block_end(struct ss_trace_writer *w, __u32 used)
{
	struct ss_ring_chunk *h = (struct ss_ring_chunk *)(w->buf + w->used);
	struct ss_ring_slot *slots = (struct ss_ring_slot *)(h + 1);
	struct span s = { .any = false };

	if (w->err)
		return w->err;
	if (!used)
		return 0;
	if (used > h->count)
		return -EINVAL;
	/* What the reader would refuse, refused here. */
	for (__u32 i = 0; i < used;) {
		unsigned k = ss_ringdec_whole(&slots[i], used - i);
		if (!k)
			return -EINVAL;
		span_add(&s, slots[i].ts);
		i += k;
	}
	return ss_trace_block_end_checked(w, used, s.first, s.last);
}

/* A block of used slots whose first bytes bytes (the slots, or packed)
 * are in place: closed, padded to whole records. */
static int block_close(struct ss_trace_writer *w, __u32 used, size_t bytes, __u64 min_ts,
		       __u64 max_ts)
{
	struct ss_ring_chunk *h = (struct ss_ring_chunk *)(w->buf + w->used);
	size_t pad = bytes % RECORD_BYTES ? RECORD_BYTES - bytes % RECORD_BYTES : 0;

	span_add(&w->span, min_ts);
	span_add(&w->span, max_ts);
	h->count = used;
	memset((unsigned char *)(h + 1) + bytes, 0, pad);
	w->used += sizeof(*h) + bytes + pad;
	w->records += 1 + (bytes + pad) / RECORD_BYTES;
	if (w->used == WRITE_BUF_BYTES)
		return write_out(w);
	return 0;
}

int ss_trace_block_end_checked(struct ss_trace_writer *w, __u32 used, __u64 min_ts,
			       __u64 max_ts)
{
	struct ss_ring_chunk *h = (struct ss_ring_chunk *)(w->buf + w->used);
	struct ss_ring_slot *slots = (struct ss_ring_slot *)(h + 1);
	size_t bytes = (size_t)used * sizeof(*slots), len;

	if (w->err)
		return w->err;
	if (!used)
		return 0;
	if (used > h->count || min_ts > max_ts)
		return -EINVAL;
	/* Packed where that is smaller, in the slots' place: nearly always
	 * (a busy runtime's events take 4-5 bytes each packed). */
	len = ss_ringpack_encode(slots, used, w->pack, bytes - sizeof(__u32));
	if (len) {
		__u32 n32 = (__u32)len;

		memcpy(slots, &n32, sizeof(n32));
		memcpy((unsigned char *)slots + sizeof(n32), w->pack, len);
		bytes = sizeof(n32) + len;
		h->type = SS_RING_PACKED;
	}
	return block_close(w, used, bytes, min_ts, max_ts);
}

int ss_trace_block_end_packed(struct ss_trace_writer *w, __u32 used, __u32 len,
			      __u64 min_ts, __u64 max_ts)
{
	struct ss_ring_chunk *h = (struct ss_ring_chunk *)(w->buf + w->used);

	if (w->err)
		return w->err;
	if (!used)
		return 0;
	if (used > h->count || min_ts > max_ts || len < 3ULL * used ||
	    sizeof(len) + (size_t)len > (size_t)used * sizeof(struct ss_ring_slot))
		return -EINVAL;
	h->type = SS_RING_PACKED;
	return block_close(w, used, sizeof(len) + len, min_ts, max_ts);
}

int ss_trace_write_block(struct ss_trace_writer *w, const struct ss_ring_chunk *hdr,
			 const struct ss_ring_slot *slots)
{
	struct ss_ring_slot *dst = ss_trace_block_begin(w, hdr, hdr->count);

	if (!dst)
		return w->err ? w->err : -EINVAL;
	memcpy(dst, slots, (size_t)hdr->count * sizeof(*slots));
	return ss_trace_block_end(w, hdr->count);
}

int ss_trace_finish(struct ss_trace_writer *w, __u64 lost, __u64 end_mono_ns,
		    __u32 stop_reason, __s32 exit_status)
{
	struct ss_file_trailer t = {
		.records = w->records,
		.lost = lost,
		.end_mono_ns = end_mono_ns,
		.stop_reason = stop_reason,
		.exit_status = exit_status,
	};
	int err = w->err;

	if (w->span.any && !w->span_unknown) {
		t.first_ns = w->span.first;
		t.last_ns = w->span.last;
		t.flags = SS_TRAILER_SPAN;
	}

	memcpy(t.magic, SS_TRAILER_MAGIC, sizeof(t.magic));
	if (!err && !append(w, &t, sizeof(t)) && !write_out(w))
		err = ss_bw_finish(w->bw, w->buf, w->used);	/* the tail: < a block */
	else if (!err)
		err = w->err;
	ss_bw_free(w->bw);
	if (!err)
		err = ss_outfile_commit(&w->of);
	else
		close(w->of.fd);	/* the partial file stays */
	free(w->buf);
	free(w->pack);
	free(w);
	return err;
}

void ss_trace_abort(struct ss_trace_writer *w)
{
	if (!w)
		return;
	ss_bw_free(w->bw);	/* the writes under way end first */
	ss_outfile_discard(&w->of);
	free(w->buf);
	free(w->pack);
	free(w);
}

